#include "ferry/control/config.hpp"

namespace ferry::ctl {

std::string_view default_config_text() noexcept {
  return R"toml(# ferryd's built-in configuration: a router on loopback for the demo (scripts/demo.sh).
# Print it with `ferryd --print-default-config` and start your own from it; docs/configuration.md explains
# every field.

[control]
socket = "/run/ferry/ferryd.sock"   # where ferryctl reaches ferryd

[dataplane]
backend = "socket"          # UDP with recvmmsg/sendmmsg
listen = "127.0.0.1:7700"   # where frames arrive
cpu = "auto"                # pin the pipeline thread: "auto" (the last core allowed), "none", or a core number
poll = "adaptive"           # "adaptive" (sleep when idle) or "busy" (spin: lowest latency, a core at 100%)
burst = 32                  # datagrams per receive, 1 to 64
buffers = 1024              # receive buffers in the pool
buffer_size = 2048          # bytes per receive buffer; a larger datagram is dropped as oversize
max_frame = 1472            # largest frame sent to a next hop, in bytes (1472 fits one Ethernet packet)
socket_buffer = 4194304     # kernel receive and send buffer, in bytes

# Routes match (kind, source, destination), each exact or "*"; the most specific route wins.
[[routes]]
name = "wormhole-from-ethereum"
kind = "wormhole"
source = 2                  # Wormhole chain 2: Ethereum
destination = "*"           # a VAA names no destination
next_hop = "127.0.0.1:7701"

[[routes]]
name = "wormhole-from-solana"
kind = "wormhole"
source = 1                  # Wormhole chain 1: Solana
destination = "*"
next_hop = "127.0.0.1:7701"

[[routes]]
name = "hyperlane-to-arbitrum"
kind = "hyperlane"
source = "*"
destination = 42161         # Hyperlane domain 42161: Arbitrum One
next_hop = "127.0.0.1:7701"

[[routes]]
name = "layerzero-ethereum-to-bnb"
kind = "layerzero"
source = 30101              # LayerZero v2 endpoint id 30101: Ethereum
destination = 30102         # 30102: BNB Chain
next_hop = "127.0.0.1:7701"

[[routes]]
name = "opaque-anywhere"
kind = "opaque"
source = "*"
destination = "*"
next_hop = "127.0.0.1:7701"
)toml";
}

}  // namespace ferry::ctl

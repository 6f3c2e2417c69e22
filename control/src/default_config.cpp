#include "ferry/control/config.hpp"

namespace ferry::ctl {

std::string_view default_config_text() noexcept {
  return R"toml(# ferryd's built-in configuration: a router on loopback for the demo (scripts/demo.sh).
# Print it with `ferryd --print-default-config` and start your own from it; docs/configuration.md explains
# every field.

[control]
socket = "/run/ferry/ferryd.sock"   # where ferryctl reaches ferryd

[dataplane]
backend = "auto"            # "auto" (io_uring where the kernel allows it, else sockets), "socket", "io_uring", "dpdk"
listen = "127.0.0.1:7700"   # where frames arrive
layout = "auto"             # "auto" (fits the cores), "run-to-completion" (one core), or "staged" (io, verify, route)
cpu = "auto"                # pin the stage threads: "auto", "none", a core number, or one core per stage
poll = "adaptive"           # "adaptive" (sleep when idle) or "busy" (spin: lowest latency, a core at 100% each)
burst = 32                  # datagrams per receive, 1 to 64
buffers = 1024              # receive buffers in each io stage's pool
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

[[routes]]
name = "quorum-anywhere"
kind = "quorum"
source = "*"
destination = "*"
next_hop = "127.0.0.1:7701"

# Every Wormhole, Hyperlane, LayerZero and quorum message is verified before it is routed; what fails is dropped
# under its reason (bad_signature, no_quorum, unknown_key_set, expired_key_set, malformed).
# The keys below are ferry's DEMO keys (verify/include/ferry/verify/demo_keys.hpp): anyone can derive their
# secrets, so that the load generator can sign demo traffic. Never trust them in production.
[verify]
cache_entries = 65536       # messages remembered as verified, so that a repeat costs a lookup, not the crypto
wormhole_network = "devnet" # built-in guardian sets: "mainnet" (sets 0-7), "devnet" (Tilt's test guardian), "none"

[[verify.hyperlane]]
origins = [1, 10]           # the origin domains these validators sign for
ism = "message-id-multisig" # or "merkle-root-multisig"
validators = ["0xeeaa12ae3ddf5483c3a3a778a032abc6035ffa21"]
threshold = 1

[[verify.layerzero]]
src_eids = [30101]
optional_threshold = 0

[[verify.layerzero.required_dvns]]
address = "0x07e75acb5ce4ae35e082b6b4093a0fc1c33e6f07"
signers = ["0xc8c60cc3db3cced4185a7650d2a3cec075b4d797"]
quorum = 1

[[verify.quorum]]
key_set = 1
keys = ["0xcf292b1ffd0896075fc46ec06703e40586087af176638edc44c4f188cf705ec6"]
threshold = 1
)toml";
}

}  // namespace ferry::ctl

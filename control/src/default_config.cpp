#include "ferry/control/config.hpp"

namespace ferry::ctl {

std::string_view default_config_text() noexcept {
  return R"toml(# ferryd's built-in configuration: a router on loopback for the demo (scripts/demo.sh).
# Print it with `ferryd --print-default-config` and start your own from it; docs/configuration.md explains
# every field.

[control]
socket = "/run/ferry/ferryd.sock"   # where ferryctl reaches ferryd
metrics = "127.0.0.1:9464"          # Prometheus /metrics, on loopback only

[dataplane]
backend = "auto"            # "auto" (io_uring where the kernel allows it, else sockets), "socket", "io_uring", "dpdk"
listen = "127.0.0.1:7700"   # where frames arrive
layout = "auto"             # "auto" (fits the cores), "run-to-completion" (one core), or "staged" (io, verify, route)
cpu = "auto"                # pin the stage threads: "auto", "none", a core number, or one core per stage
poll = "adaptive"           # "adaptive" (sleep when idle) or "busy" (spin: lowest latency, a core at 100% each)
burst = 32                  # datagrams per receive, 1 to 64
buffers = 1024              # receive buffers in each io stage's pool, beyond what its rings can hold
buffer_size = 2048          # bytes per receive buffer; a larger datagram is dropped as oversize
max_frame = 1472            # largest frame sent to a next hop, in bytes (1472 fits one Ethernet packet)
socket_buffer = 4194304     # kernel receive and send buffer, in bytes

# Peers: routers and relayers that send to this one, each with its own trust, limit and link keys. None here: the
# demo's load generator is no peer, so its messages are verified. A peer looks like this:
#
# [[peers]]
# name = "upstream-a"
# addresses = ["10.0.0.5:7700", "10.0.0.6"]   # where it sends from; an address alone: any port
# trust = "verified-upstream"                 # its frames marked verified upstream skip verification; or "verify"
# rate = 50000                                # messages a second it may send, before verification...
# burst = 5000                                # ...and at once
# [[peers.link_keys]]
# id = 1
# file = "/etc/ferry/keys/upstream-a-1.key"   # hex; mode 0600 or 0640, owned by root or ferryd's user
# mac = "hmac-sha256"                         # or "blake2b" (faster on small frames); both ends the same
#
# Next-hop groups: several hops behind one name, for routes to send to.
#
# [[next_hop_groups]]
# name = "relayers"
# hops = ["127.0.0.1:7701", "unix:/run/ferry/sink.sock", "upstream-a"]   # addresses, local sinks, peers
# policy = "replicate"                        # to every hop; or "balance": each message to one of them

# Routes match (kind, source, destination, and optionally emitter), each exact or "*"; the most specific route
# wins. A route may also say: action = "drop"; rate and burst (a limit after verification); and [routes.breaker],
# which stops the route when too many of its messages fail verification or too many arrive:
#
# [routes.breaker]
# failure_ratio = 0.5         # trips when half of the route's verified messages in the window fail...
# min_verified = 20           # ...once at least 20 were verified
# max_messages = 100000       # trips when more than this many take the route in the window
# window_ms = 10000
# cooldown_ms = 30000         # closes by itself after this long; 0: only when resumed by hand
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
guardian_set_upgrades = false  # true: a verified guardian set upgrade VAA makes its set current
guardian_set_expiry = 86400    # seconds the previous set stays valid after an upgrade

# More guardian sets beside the built-in ones; the highest index is current:
# [[verify.wormhole]]
# index = 1
# keys_file = "/etc/ferry/keys/guardian-set-1.txt"   # one 20-byte address a line; or keys = ["0x...", ...]

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

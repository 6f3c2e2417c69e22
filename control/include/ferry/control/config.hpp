#pragma once
// ferryd's configuration: a TOML file (docs/configuration.md), or the built-in default that runs the demo on
// loopback. Parsing checks everything and reports every mistake with the file, line, field and what is wrong.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/stage_graph.hpp"
#include "ferry/platform/result.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::ctl {

// Where the stage threads run ([dataplane] cpu).
struct cpu_choice {
  enum class mode : std::uint8_t { automatic, unpinned, fixed, list };
  mode how = mode::automatic;  // automatic: cores picked from those this process may use (see resolve_layout)
  std::vector<unsigned> cpus;  // fixed: one core for every stage; list: one core per stage
};

// How the data path is laid out ([dataplane] layout and the stage counts).
struct layout_choice {
  enum class mode : std::uint8_t { automatic, run_to_completion, staged };
  mode how = mode::automatic;  // automatic: dp::default_layout() of the cores given
  std::uint32_t io = 1, verify = 1, route = 1;
};

// A token bucket: `rate` messages a second on average, up to `burst` at once.
struct rate_limit {
  double rate = 0;          // > 0
  std::uint32_t burst = 1;  // >= 1
};

// How far a peer is trusted ([[peers]] trust).
enum class trust_policy : std::uint8_t {
  verify,             // every message it sends is verified here
  verified_upstream,  // its frames marked "verified upstream" are forwarded without verifying again
};

// A secret shared with a peer for link authentication, read from a file ferry checked (key_file.hpp). The secret
// is never printed: not in logs, not in API output.
struct link_key {
  std::uint32_t id = 0;
  std::string file;                 // where it was read from
  std::vector<std::byte> secret;    // the file's bytes (hex in the file, decoded)
  std::uint64_t send_from = 0;      // unix seconds from which frames to the peer may be tagged with it
  dp::link_mac mac = dp::link_mac::hmac_sha256;
};

// A named sender and/or receiver of frames.
struct peer_config {
  std::string name;
  // Hosts the peer sends from: a port 0 matches any source port. The first address with a port is where frames go
  // when a route names the peer as its next hop.
  std::vector<dp::endpoint> addresses;
  bool anyone = false;  // addresses = ["*"]: every sender no other peer lists (their share, keys and trust)
  trust_policy trust = trust_policy::verify;
  std::optional<rate_limit> limit;  // per peer, applied before verification
  std::vector<link_key> link_keys;  // by id; several during a rotation
  std::uint32_t key_grace = 600;    // seconds a link key removed by a reload or rotation is still accepted
};

// Where a route sends: a UDP address, a local sink (a Unix datagram socket), or a peer's address.
struct hop_config {
  enum class type : std::uint8_t { udp, unix_sink };
  type how = type::udp;
  dp::endpoint udp;       // udp
  std::string sink_path;  // unix_sink: an absolute path, at most 107 bytes
  std::string text;       // as written in the file ("127.0.0.1:7701", "unix:/run/ferry/sink.sock", "relayer-a")
};

// [[next_hop_groups]]: several hops behind one name.
enum class group_policy : std::uint8_t {
  replicate,  // every message to every hop of the group
  balance,    // each message to one hop, chosen by a hash of its bytes (so a message always takes the same one)
};

struct hop_group_config {
  std::string name;
  std::vector<hop_config> hops;
  group_policy policy = group_policy::replicate;
};

// [routes.breaker]: when a route trips by itself. Both triggers are optional; a route without a breaker table can
// still be paused by hand.
struct breaker_config {
  std::optional<double> failure_ratio;        // trip when failed / verified in the window reaches this (0 < r <= 1)
  std::uint32_t min_verified = 20;            // ...once at least this many of the route's messages were verified
  std::optional<std::uint64_t> max_messages;  // trip when more than this many messages take the route in the window
  std::uint32_t window_ms = 10000;            // the sliding window, 100 ms to 1 h
  std::uint32_t cooldown_ms = 30000;          // closes by itself this long after tripping; 0: only by hand
};

enum class route_action : std::uint8_t { forward, drop };

struct route_config {
  std::string name;
  std::optional<verify::message_kind> kind;  // nothing: "*"
  std::optional<std::uint32_t> source;
  std::optional<std::uint32_t> destination;
  std::optional<std::array<std::byte, 32>> emitter;  // Wormhole emitter / Hyperlane or LayerZero sender, 32 bytes
  route_action action = route_action::forward;
  // forward: a hop, or a group by name (next_hop = "<group>"); a single hop is a group of one.
  std::vector<hop_config> hops;
  group_policy policy = group_policy::replicate;
  std::string group;                  // the group's name when next_hop named one, else empty
  std::optional<rate_limit> limit;    // per route, applied after verification
  std::optional<breaker_config> breaker;
};

struct control_config {
  std::string socket = "/run/ferry/ferryd.sock";
  std::optional<std::string> socket_owner;  // user name or uid; nothing: the process's
  std::optional<std::string> socket_group;  // group name or gid; nothing: the process's
  std::optional<dp::endpoint> metrics;      // loopback address:port serving /metrics; nothing: no metrics listener
};

// Guardian sets named in [[verify.wormhole]] (beside the built-in ones of wormhole_network).
struct guardian_set_config {
  std::uint32_t index = 0;
  std::string keys_file;  // where the keys came from, when a file (checked like every key file)
};

// [state]: what ferryd keeps across restarts.
struct state_config {
  std::string directory;                // empty: nothing is kept (replay windows live in memory only)
  std::uint32_t replay_channels = 16384;  // channels the replay windows hold (a power of two)
  std::uint32_t sync_ms = 1000;           // how often the windows are flushed to disk (a crash of ferryd loses none)
};

// [process]: whom ferryd becomes once it has bound what needs root.
struct process_config {
  std::optional<std::string> user;   // user name or uid; nothing: stay who started it
  std::optional<std::string> group;  // group name or gid; nothing: the user's primary group
};

struct config {
  control_config control;
  state_config state;
  process_config process;
  dp::endpoint listen;
  dp::backend_choice backend = dp::backend_choice::automatic;
  dp::dpdk_options dpdk;
  cpu_choice cpu;
  layout_choice layout;
  std::uint32_t ring_size = 1024;
  dp::poll_mode poll = dp::poll_mode::adaptive;
  std::uint32_t burst = 32;
  std::uint32_t buffers = 1024;
  std::uint32_t buffer_size = 2048;
  std::uint32_t max_frame = 1472;
  std::uint32_t socket_buffer = 4u << 20;
  std::vector<peer_config> peers;
  std::vector<hop_group_config> groups;
  std::vector<route_config> routes;
  std::size_t verified_cache_entries = 65536;
  std::optional<verify::wormhole::network> wormhole_network = verify::wormhole::network::mainnet;  // none: "none"
  std::vector<guardian_set_config> guardian_set_files;  // the sets read from files, to re-read on `keys rotate`
  bool guardian_set_upgrades = false;  // a verified upgrade VAA in the data plane rotates the guardian sets
  std::uint64_t guardian_set_expiry = verify::wormhole::set_expiry_seconds;  // old set's life after an upgrade
  verify::key_sets keys;  // built-in guardian sets of wormhole_network, and the [verify] section's key sets
};

// The built-in configuration, as TOML: what ferryd runs without --config and prints for --print-default-config.
std::string_view default_config_text() noexcept;

// Parses configuration text. source_name names it in messages ("/etc/ferry/ferry.toml", "built-in default").
// On failure the message has one line per problem: "<source>:<line>:<column>: <field>: <what is wrong>".
// Not pure text: it reads the key files the text names (checked as key_file.hpp says) and looks up the control
// socket's owner and group names on this machine.
platform::result<config> parse_config(std::string_view text, std::string_view source_name);

// Parses one route given as the body of a [[routes]] table ("name = \"x\"\nkind = \"wormhole\"\nsource = 2\n
// next_hop = \"127.0.0.1:7701\"", as the control API's POST /routes takes it) with the checks and messages of a
// file, its fields named "route.<field>". Peer and group names in next_hop resolve against `running`, and a name or
// a match (kind, source, destination, emitter) one of running.routes already has is refused.
platform::result<route_config> parse_route(std::string_view toml_text, std::string_view source_name,
                                           const config& running);

// Checks routes as a whole: no two have the same name, no two match the same kind, source, destination and
// emitter (one of them could never be chosen). What a router runs after adding a route, since the routes may
// have changed since parse_route saw them. One line per problem: "route 'b': matches the same kind, source,
// destination and emitter as route 'a'; one of them could never be chosen".
platform::result<void> check_routes(std::span<const route_config> routes);

// The stage layout a configuration asks for on a machine whose usable cores are `allowed` (ascending, not empty):
// the layout's mode and counts, and a core (or none) per stage. Fails when an explicit core list has the wrong
// length for the stages.
platform::result<dp::stage_layout> resolve_layout(const config& cfg, std::span<const unsigned> allowed);

// Reads and parses a file; a file that cannot be read is reported with the system's reason.
platform::result<config> load_config_file(const std::string& path);

}  // namespace ferry::ctl

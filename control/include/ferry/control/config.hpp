#pragma once
// ferryd's configuration: a TOML file (docs/configuration.md), or the built-in default that runs the demo on
// loopback. Parsing checks everything and reports every mistake with the file, line, field and what is wrong.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
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

struct route_config {
  std::string name;
  std::optional<verify::message_kind> kind;  // nothing: "*"
  std::optional<std::uint32_t> source;
  std::optional<std::uint32_t> destination;
  dp::endpoint next_hop;
};

struct config {
  std::string control_socket;
  dp::endpoint listen;
  dp::backend_choice backend = dp::backend_choice::automatic;
  dp::dpdk_options dpdk;
  std::vector<dp::endpoint> trusted_upstreams;  // hosts (port 0) whose "verified upstream" mark is honoured
  cpu_choice cpu;
  layout_choice layout;
  std::uint32_t ring_size = 1024;
  dp::poll_mode poll = dp::poll_mode::adaptive;
  std::uint32_t burst = 32;
  std::uint32_t buffers = 1024;
  std::uint32_t buffer_size = 2048;
  std::uint32_t max_frame = 1472;
  std::uint32_t socket_buffer = 4u << 20;
  std::vector<route_config> routes;
  std::size_t verified_cache_entries = 65536;
  std::optional<verify::wormhole::network> wormhole_network = verify::wormhole::network::mainnet;  // none: "none"
  verify::key_sets keys;  // built-in guardian sets of wormhole_network, and the [verify] section's key sets
};

// The built-in configuration, as TOML: what ferryd runs without --config and prints for --print-default-config.
std::string_view default_config_text() noexcept;

// Parses configuration text. source_name names it in messages ("/etc/ferry/ferry.toml", "built-in default").
// On failure the message has one line per problem: "<source>:<line>:<column>: <field>: <what is wrong>".
platform::result<config> parse_config(std::string_view text, std::string_view source_name);

// The stage layout a configuration asks for on a machine whose usable cores are `allowed` (ascending, not empty):
// the layout's mode and counts, and a core (or none) per stage. Fails when an explicit core list has the wrong
// length for the stages.
platform::result<dp::stage_layout> resolve_layout(const config& cfg, std::span<const unsigned> allowed);

// Reads and parses a file; a file that cannot be read is reported with the system's reason.
platform::result<config> load_config_file(const std::string& path);

}  // namespace ferry::ctl

// libFuzzer target over ctl::parse_config() and ctl::parse_route() (the control API's POST /routes body): any text
// must give a configuration (a route) or a message with its place, never a crash, and every configuration it
// accepts must build its policy snapshot (routes, hops, peers, keys).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ferry/control/config.hpp"
#include "ferry/control/router.hpp"
#include "support/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const ferry::ctl::config running = *ferry::ctl::parse_config(ferry::ctl::default_config_text(), "default");
  if (auto route = ferry::ctl::parse_route(text, "POST /routes", running); !route) {
    ferry::testing::require(route.err().message().starts_with("POST /routes"), "a route problem without its place");
  } else {
    ferry::testing::require(!route->name.empty(), "a route without a name accepted");
  }
  auto parsed = ferry::ctl::parse_config(text, "fuzz.toml");
  if (!parsed) {
    ferry::testing::require(parsed.err().message().starts_with("fuzz.toml:"), "a problem without its place");
    return 0;
  }
  ferry::testing::require(parsed->listen.specified(), "accepted without a listen address");
  ferry::testing::require(parsed->burst >= 1 && parsed->burst <= parsed->buffers, "burst out of range accepted");
  ferry::ctl::live_states states;
  ferry::testing::require(ferry::ctl::build_policy(*parsed, parsed->keys, 1, states, 0).ok(),
                          "accepted a configuration whose policy does not build");
  return 0;
}

// libFuzzer target over ctl::parse_config(): any text must give a configuration or a message, never a crash, and
// every configuration it accepts must build its routes.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ferry/control/config.hpp"
#include "ferry/control/router.hpp"
#include "support/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ferry::ctl::parse_config(text, "fuzz.toml");
  if (!parsed) {
    ferry::testing::require(parsed.err().message().starts_with("fuzz.toml:"), "a problem without its place");
    return 0;
  }
  ferry::testing::require(parsed->listen.specified(), "accepted without a listen address");
  ferry::testing::require(parsed->burst >= 1 && parsed->burst <= parsed->buffers, "burst out of range accepted");
  ferry::testing::require(ferry::ctl::build_routing(parsed->routes).ok(), "accepted routes that do not build");
  return 0;
}

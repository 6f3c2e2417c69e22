// libFuzzer target over the small text parsers of the control path: endpoints ("address:port", from configuration
// and command lines) and control API request lines. The first byte picks which.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ferry/control/control_socket.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "support/fuzz.hpp"

using ferry::testing::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto parsed = ferry::dp::endpoint::parse(text);
    if (!parsed) return 0;
    // What was accepted prints back as something that parses to the same endpoint.
    auto again = ferry::dp::endpoint::parse(parsed->to_string());
    require(again.ok() && *again == *parsed, "endpoint does not survive to_string and parse");
    return 0;
  }
  const auto line = ferry::ctl::parse_request_line(text);
  if (!line) return 0;
  require(!line->method.empty() && !line->path.empty(), "request line with an empty method or path");
  require(ferry::testing::inside({reinterpret_cast<const std::byte*>(line->path.data()), line->path.size()},
                                 {reinterpret_cast<const std::byte*>(text.data()), text.size()}),
          "path outside the request");
  return 0;
}

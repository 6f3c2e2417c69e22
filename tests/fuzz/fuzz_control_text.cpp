// libFuzzer target over the small text parsers of the control path: endpoints ("address:port", from configuration
// and command lines) and control API requests (the request line, the whole head and body, percent escapes). The
// first byte picks which.

#include <cstddef>
#include <cstdint>
#include <string>
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
  const auto request = ferry::ctl::parse_request(text);
  // Escaping then decoding gives back any text without a NUL (which a decoded name may not hold).
  const auto decoded = ferry::ctl::percent_decode(ferry::ctl::percent_encode(text));
  require(decoded.has_value() == (text.find('\0') == std::string_view::npos), "percent_decode refuses its own escapes");
  require(!decoded || *decoded == text, "percent_encode does not survive percent_decode");
  if (request) {
    require(line.has_value(), "a request parsed without a request line");
    require(request->path.starts_with('/'), "a request path that does not start with '/'");
    require(request->body.size() < text.size(), "a body as long as the whole request");
    const std::string target = request->path + (line->path.find('?') != std::string_view::npos ? "?" : "") +
                               request->query;
    require(target == line->path, "path and query do not make up the request target");
    if (const auto decoded_path = ferry::ctl::percent_decode(request->path)) {
      require(decoded_path->size() <= request->path.size(), "decoding made a path longer");
    }
  }
  if (!line) return 0;
  require(!line->method.empty() && !line->path.empty(), "request line with an empty method or path");
  require(ferry::testing::inside({reinterpret_cast<const std::byte*>(line->path.data()), line->path.size()},
                                 {reinterpret_cast<const std::byte*>(text.data()), text.size()}),
          "path outside the request");
  return 0;
}

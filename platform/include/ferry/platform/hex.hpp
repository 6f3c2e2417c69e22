#pragma once
// Hexadecimal digits as ferry's text formats write them (configuration, key files, state files, inspect, the
// control API's percent-escapes): one place that reads a digit.

namespace ferry::platform {

// The value of the hex digit `c` (either case), or -1 when it is not one.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace ferry::platform

#pragma once
// Byte strings for tests: hex in and out of test vectors, comparison of spans.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::testing {

using bytes = std::vector<std::byte>;

// Hex digits (an optional "0x" first) to bytes; nothing for odd lengths or non-hex characters.
inline std::optional<bytes> from_hex(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  if (hex.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::byte>(hi * 16 + lo));
  }
  return out;
}

// Bytes to hex digits, two a byte, lower case, no "0x".
inline std::string to_hex(std::span<const std::byte> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (const std::byte x : b) {
    out += digits[std::to_integer<unsigned>(x) >> 4];
    out += digits[std::to_integer<unsigned>(x) & 0xf];
  }
  return out;
}

inline bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

inline void append(bytes& out, std::span<const std::byte> more) { out.insert(out.end(), more.begin(), more.end()); }

// The characters of `s` as bytes.
inline bytes text(std::string_view s) {
  bytes out;
  for (const char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

// Flips the lowest bit of the last byte (of nothing, when empty): the smallest forgery. Spelt out so that GCC's
// -Wnull-dereference at -O2 sees the emptiness check rather than a bare back().
inline void flip_last_byte(bytes& b) {
  if (!b.empty()) b[b.size() - 1] ^= std::byte{1};
}

}  // namespace ferry::testing

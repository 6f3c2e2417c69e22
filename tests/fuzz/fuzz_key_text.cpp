// libFuzzer target over the text of key files: ctl::parse_link_key() and ctl::parse_guardian_keys(), what
// read_link_key() and read_guardian_keys() parse once a file has passed its permission checks. The first byte picks
// which. A link key accepted is 16 to 64 bytes and its hex reads back as the same key; a link key refused is refused
// with a message that shows no piece of the secret. Guardian addresses accepted are at least one and read back the
// same when printed one a line.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ferry/control/key_file.hpp"
#include "support/bytes.hpp"
#include "support/fuzz.hpp"

using ferry::testing::require;
using ferry::testing::to_hex;

namespace {

constexpr std::string_view source = "fuzz.key";

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Whether `message` shows 8 hex digits in a row of the input's. The input's digits are taken with everything
// between them dropped, so that a secret split by whitespace, comments or "0x" still counts, and case is ignored,
// so that a secret printed again in other digits still counts. Comment digits count too: a message has no reason
// to quote any part of a key file.
bool shows_secret(std::string_view message, std::string_view text) {
  constexpr std::size_t run = 8;
  std::string digits;
  for (const char c : text) {
    if (is_hex(c)) digits += lower(c);
  }
  std::string window;
  for (const char c : message) {
    if (!is_hex(c)) {
      window.clear();
      continue;
    }
    window += lower(c);
    if (window.size() > run) window.erase(0, 1);
    if (window.size() == run && digits.find(window) != std::string::npos) return true;
  }
  return false;
}

void link_key(std::string_view text) {
  auto key = ferry::ctl::parse_link_key(text, source);
  if (!key) {
    const std::string& message = key.err().message();
    require(message.starts_with(std::string(source) + ": "), "a link key problem without its file");
    require(!shows_secret(message, text), "a link key message shows 8 or more of the file's hex digits");
    return;
  }
  require(key->size() >= 16 && key->size() <= 64, "a link key outside 16 to 64 bytes accepted");
  // The key written back, bare and as an operator might write it, reads as the same key.
  const std::string digits = to_hex(*key);
  auto again = ferry::ctl::parse_link_key(digits, source);
  require(again.ok() && *again == *key, "a link key's hex does not read back as the key");
  std::string dressed = "# rotated\n0X";
  for (const char c : digits) dressed += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  dressed += "  # id 1\n";
  again = ferry::ctl::parse_link_key(dressed, source);
  require(again.ok() && *again == *key, "a link key's hex with 0X and comments does not read back as the key");
}

void guardian_keys(std::string_view text) {
  auto keys = ferry::ctl::parse_guardian_keys(text, source);
  if (!keys) {
    require(keys.err().message().starts_with(std::string(source) + ": "), "a guardian key problem without its file");
    return;
  }
  require(!keys->empty(), "a guardian key file without an address accepted");
  std::string printed = "# printed again\n";
  for (const auto& key : *keys) printed += "0x" + to_hex(key) + "\n";
  auto again = ferry::ctl::parse_guardian_keys(printed, source);
  require(again.ok() && *again == *keys, "guardian addresses printed one a line do not read back the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    link_key(text);
  } else {
    guardian_keys(text);
  }
  return 0;
}

#include "ferry/control/key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "ferry/platform/files.hpp"
#include "ferry/platform/hex.hpp"
#include "write_access.hpp"

namespace ferry::ctl {

namespace {

constexpr std::size_t max_key_file = 64 * 1024;

// Wipes a buffer that held a secret, however the function returns.
class wiper {
 public:
  explicit wiper(std::string& text) noexcept : _text(text) {}
  wiper(const wiper&) = delete;
  wiper& operator=(const wiper&) = delete;
  ~wiper() { explicit_bzero(_text.data(), _text.size()); }

 private:
  std::string& _text;
};

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

}  // namespace

platform::result<std::string> read_key_file(const std::string& path, key_secrecy secrecy) {
  // O_NONBLOCK: opening a FIFO someone put there must not hang start-up; it is refused below as not a file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) {
      return platform::error(path + ": is a symbolic link; name the file itself (whoever owns a link can point it "
                                    "at other keys)");
    }
    return platform::error(path + ": cannot open: " + std::strerror(errno));
  }
  const platform::descriptor closer(fd);
  struct stat info {};
  if (::fstat(fd, &info) != 0) return platform::error(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return platform::error(path + ": not a regular file");
  const mode_t mode = info.st_mode & 07777;
  const mode_t allowed = secrecy == key_secrecy::secret ? 0750 : 0755;  // the fix suggested
  auto writers = check_write_access(path, info, ::geteuid(), {"a key file", "replace the keys", mode & allowed});
  if (!writers) return std::move(writers).err();
  if (secrecy == key_secrecy::secret && (mode & S_IROTH) != 0) {
    return platform::error(path + ": readable by others (mode " + octal(mode) + ") but it holds a secret: chmod " +
                           octal(mode & allowed) + " " + path);
  }
  if (info.st_size > static_cast<off_t>(max_key_file)) {
    return platform::error(path + ": larger than 64 KiB; not a key file");
  }
  // One buffer sized up front, so that no copy of a secret is left behind by a reallocation.
  std::string text(max_key_file + 1, '\0');
  std::size_t size = 0;
  while (size < text.size()) {
    const ssize_t got = ::read(fd, text.data() + size, text.size() - size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      explicit_bzero(text.data(), text.size());
      return platform::error(path + ": cannot read: " + std::strerror(errno));
    }
    if (got == 0) break;
    size += static_cast<std::size_t>(got);
  }
  if (size > max_key_file) {
    explicit_bzero(text.data(), text.size());
    return platform::error(path + ": larger than 64 KiB; not a key file");
  }
  explicit_bzero(text.data() + size, text.size() - size);
  text.resize(size);  // shrinking keeps the buffer
  return text;
}

platform::result<std::vector<std::byte>> parse_link_key(std::string_view text, std::string_view source) {
  const std::string path(source);
  std::vector<std::byte> secret;
  secret.reserve(64);
  std::size_t line = 1;
  int high = -1;  // the first digit of a byte, waiting for its second
  bool token_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (is_space(c)) {
      if (c == '\n') ++line;
      token_start = true;
      continue;
    }
    if (token_start && c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') && high < 0) {
      ++i;
      token_start = false;
      continue;
    }
    token_start = false;
    const int nibble = platform::hex_value(c);
    if (nibble < 0) {
      explicit_bzero(secret.data(), secret.size());
      return platform::error(path + ": line " + std::to_string(line) +
                             ": not a hex digit; a link key file holds hex digits, whitespace and '#' comments");
    }
    if (high < 0) {
      high = nibble;
      continue;
    }
    if (secret.size() == 64) {
      explicit_bzero(secret.data(), secret.size());
      return platform::error(path + ": more than 64 bytes; a link key is 16 to 64 bytes");
    }
    secret.push_back(static_cast<std::byte>(high << 4 | nibble));
    high = -1;
  }
  if (high >= 0) {
    explicit_bzero(secret.data(), secret.size());
    return platform::error(path + ": an odd number of hex digits; a key is whole bytes, two digits each");
  }
  if (secret.size() < 16) {
    const std::string count = std::to_string(secret.size());
    explicit_bzero(secret.data(), secret.size());
    return platform::error(path + ": " + count + " bytes; a link key is 16 to 64 bytes (32 to 128 hex digits)");
  }
  return secret;
}

platform::result<std::vector<std::byte>> read_link_key(const std::string& path, dp::link_mac mac) {
  auto read = read_key_file(path, key_secrecy::secret);
  if (!read) return std::move(read).err();
  const wiper wipe(*read);
  auto secret = parse_link_key(*read, path);
  if (secret && mac == dp::link_mac::chacha20_poly1305 && secret->size() != verify::chacha20_poly1305_key::key_size) {
    const std::string count = std::to_string(secret->size());
    explicit_bzero(secret->data(), secret->size());
    return platform::error(path + ": " + count +
                           " bytes; a chacha20-poly1305 link key is exactly 32 bytes (64 hex digits)");
  }
  return secret;
}

platform::result<std::vector<verify::eth_address>> parse_guardian_keys(std::string_view text, std::string_view source) {
  const std::string path(source);
  std::vector<verify::eth_address> keys;
  std::size_t line = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    ++line;
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(begin, end - begin);
    begin = end + 1;
    if (const std::size_t hash = entry.find('#'); hash != std::string_view::npos) entry = entry.substr(0, hash);
    while (!entry.empty() && is_space(entry.front())) entry.remove_prefix(1);
    while (!entry.empty() && is_space(entry.back())) entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (entry.starts_with("0x") || entry.starts_with("0X")) entry.remove_prefix(2);
    verify::eth_address key{};
    bool valid = entry.size() == 2 * key.size();
    for (std::size_t d = 0; valid && d < entry.size(); ++d) {
      const int nibble = platform::hex_value(entry[d]);
      valid = nibble >= 0;
      if (valid) key[d / 2] |= static_cast<std::byte>(d % 2 == 0 ? nibble << 4 : nibble);
    }
    if (!valid) {
      return platform::error(path + ": line " + std::to_string(line) +
                             ": expected a 20-byte guardian address (40 hex digits, \"0x\" first allowed)");
    }
    keys.push_back(key);
  }
  if (keys.empty()) return platform::error(path + ": holds no guardian address (one a line expected)");
  return keys;
}

platform::result<std::vector<verify::eth_address>> read_guardian_keys(const std::string& path) {
  auto read = read_key_file(path, key_secrecy::public_keys);
  if (!read) return std::move(read).err();
  return parse_guardian_keys(*read, path);
}

}  // namespace ferry::ctl

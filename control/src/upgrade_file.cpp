#include "ferry/control/upgrade_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "ferry/platform/files.hpp"
#include "ferry/platform/hex.hpp"
#include "ferry/verify/wormhole_verifier.hpp"
#include "write_access.hpp"

namespace ferry::ctl {

namespace {

constexpr std::string_view magic = "ferry guardian-set-upgrades 1";
constexpr std::size_t max_hex = 2 * verify::wormhole::max_guardian_set_upgrade_size;
// The magic line, then each entry: up to 20 digits of time, a space, the hex and a newline.
constexpr std::size_t max_file_size = magic.size() + 1 + max_upgrade_file_entries * (20 + 1 + max_hex + 1);

std::string errno_text(int number) { return std::strerror(number); }

platform::error file_error(const std::string& path, const std::string& what) {
  return platform::error("guardian set upgrade file '" + path + "': " + what);
}

// One entry line ("<learned_at> <hex>"), or a description of what is wrong with it.
std::string parse_entry(std::string_view line, stored_upgrade& out) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return "expected '<unix seconds> <hex VAA>'";
  const std::string_view time = line.substr(0, space), hex = line.substr(space + 1);
  const auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), out.learned_at);
  if (ec != std::errc{} || end != time.data() + time.size() || time.empty()) {
    return "the time '" + std::string(time.substr(0, 24)) + "' is not a decimal number of unix seconds";
  }
  if (hex.empty() || hex.size() % 2 != 0) return "the VAA is not an even number of hex digits";
  if (hex.size() > max_hex) {
    return "the VAA is " + std::to_string(hex.size() / 2) + " bytes, more than the largest upgrade VAA (" +
           std::to_string(verify::wormhole::max_guardian_set_upgrade_size) + ")";
  }
  out.vaa.resize(hex.size() / 2);
  for (std::size_t i = 0; i < out.vaa.size(); ++i) {
    const int high = platform::hex_value(hex[2 * i]), low = platform::hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return "the VAA holds a character that is not a hex digit";
    out.vaa[i] = static_cast<std::byte>(high * 16 + low);
  }
  return {};
}

}  // namespace

upgrade_file_contents parse_upgrade_file(std::string_view text) {
  upgrade_file_contents out;
  const std::size_t first_end = text.find('\n');
  if (text.substr(0, first_end) != magic) {
    out.problems.push_back("the first line is not '" + std::string(magic) + "': not a file of this version");
    return out;
  }
  text.remove_prefix(first_end == std::string_view::npos ? text.size() : first_end + 1);
  std::size_t line_number = 1, entries = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.empty()) continue;
    if (++entries > max_upgrade_file_entries) {
      out.upgrades.clear();
      out.problems.assign(1, "more than " + std::to_string(max_upgrade_file_entries) + " entries: not ferry's");
      return out;
    }
    stored_upgrade entry;
    if (std::string problem = parse_entry(line, entry); !problem.empty()) {
      out.problems.push_back("line " + std::to_string(line_number) + ": " + problem);
      continue;
    }
    out.upgrades.push_back(std::move(entry));
  }
  return out;
}

std::string format_upgrade_file(const std::vector<stored_upgrade>& upgrades) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(magic);
  out += '\n';
  for (const stored_upgrade& u : upgrades) {
    out += std::to_string(u.learned_at);
    out += ' ';
    for (const std::byte b : u.vaa) {
      out += digits[std::to_integer<unsigned>(b) >> 4];
      out += digits[std::to_integer<unsigned>(b) & 15];
    }
    out += '\n';
  }
  return out;
}

platform::result<upgrade_file_contents> read_upgrade_file(const std::string& path, unsigned owner_uid) {
  struct stat named {};
  if (::lstat(path.c_str(), &named) != 0) {
    if (errno == ENOENT) return upgrade_file_contents{};
    return file_error(path, "cannot look at it: " + errno_text(errno) + "; check ferry's state directory");
  }
  const std::string link_fix =
      "is a symbolic link, and ferry reads only a regular file it owns: remove the link (ferry writes the file "
      "when it next learns an upgrade)";
  if (S_ISLNK(named.st_mode)) return file_error(path, link_fix);
  if (!S_ISREG(named.st_mode)) return file_error(path, "is not a regular file: move it out of the way");
  const platform::descriptor fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) return file_error(path, link_fix);
    return file_error(path, "cannot open: " + errno_text(errno) + "; make it readable by ferry's user (mode 0600)");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return file_error(path, "cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode) || st.st_dev != named.st_dev || st.st_ino != named.st_ino) {
    return file_error(path, "changed while it was being opened; make sure nothing else writes ferry's state directory");
  }
  auto writers =
      check_write_access(path, st, owner_uid, {"a state file", "change the guardian sets ferry learned", 0600});
  if (!writers) return std::move(writers).err();
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_file_size) {
    return file_error(path, std::to_string(size) + " bytes, more than the " + std::to_string(max_file_size) +
                                " this format can hold: not ferry's; move it out of the way");
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file_error(path, "cannot read: " + errno_text(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return parse_upgrade_file(text);
}

platform::result<void> write_upgrade_file(const std::string& path, const std::vector<stored_upgrade>& upgrades) {
  const std::string fresh = path + ".new";
  const auto fail = [&](const std::string& what) {
    const int number = errno;
    ::unlink(fresh.c_str());
    return file_error(fresh, what + ": " + errno_text(number) +
                                 "; check that ferry's state directory is writable by ferry and has room");
  };
  if (::unlink(fresh.c_str()) != 0 && errno != ENOENT) return fail("cannot remove a leftover");
  const std::string text = format_upgrade_file(upgrades);
  {
    const platform::descriptor fd(::open(fresh.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return fail("cannot create");
    if (::fchmod(fd.get(), 0600) != 0) return fail("cannot set mode 0600");
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail("cannot write");
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("cannot sync");
  }
  if (::rename(fresh.c_str(), path.c_str()) != 0) return fail("cannot rename it to '" + path + "'");
  return platform::sync_directory_of(path);
}

}  // namespace ferry::ctl

// libFuzzer target over dp::replay_windows::open(): any bytes found in place of the window file must be refused
// with a message naming the file, or opened (possibly re-filed into this build's layout) as a table of 64 channels
// that records and answers like any other, and that opens again with what was recorded. Never a crash, never a read
// outside the mapping.
//
// Each input is written (mode 0600) to one file in a directory made once per process, on /dev/shm where there is
// one, so that the fsyncs and msyncs of open() and of the destructor cost no disk I/O.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>

#include "ferry/dataplane/replay_windows.hpp"
#include "ferry/verify/channel.hpp"
#include "support/fuzz.hpp"

namespace {

using ferry::dp::replay_windows;
using ferry::testing::require;
using ferry::verify::channel;
using ferry::verify::message_kind;

// Never destroyed, so that the atexit() clean-up, which runs after static destructors registered before it, can
// still name it.
const std::string& scratch_dir() {
  static const std::string* const dir = [] {
    const bool shm = std::filesystem::is_directory("/dev/shm");
    const char* tmp = std::getenv("TMPDIR");
    auto* pattern = new std::string((shm ? std::string("/dev/shm") : std::string(tmp != nullptr ? tmp : "/tmp")) +
                                    "/ferry-fuzz-replay-XXXXXX");
    require(::mkdtemp(pattern->data()) != nullptr, "cannot make a scratch directory");
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return pattern;
  }();
  return *dir;
}

bool write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t done = 0; ok && done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0 && ok;
}

// A few channels of each numbered kind, with sequences spread by the input so that they meet what a seed holds.
std::array<channel, 8> channels_for(std::size_t size) {
  std::array<channel, 8> out{};
  const message_kind kinds[] = {message_kind::wormhole, message_kind::hyperlane, message_kind::layerzero};
  for (std::size_t i = 0; i < out.size(); ++i) {
    channel& c = out[i];
    c.kind = kinds[i % 3];
    c.size = c.kind == message_kind::wormhole ? 34 : c.kind == message_kind::hyperlane ? 4 : 72;
    c.id[c.size - 1u] = static_cast<std::byte>(i / 3);
    c.sequence = i * 37 + size % 200;
  }
  out[6].sequence = std::numeric_limits<std::uint64_t>::max() - 1;
  out[7].sequence = std::numeric_limits<std::uint64_t>::max();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = scratch_dir() + "/replay.windows";
  require(write_file(path, data, size), "cannot write the input file");
  const std::array<channel, 8> channels = channels_for(size);
  std::array<bool, channels.size()> recorded{};
  bool evicted = false;
  {
    auto opened = replay_windows::open(path, 64);
    if (!opened) {
      require(opened.err().message().starts_with("replay window file '" + path + "'"),
              "a refusal that does not name the file");
      return 0;
    }
    replay_windows& table = **opened;
    const replay_windows::stats before = table.read();
    require(before.capacity == 64, "opened at another capacity than asked");
    require(before.channels_in_use <= 64, "more channels in use than slots");
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const bool was_seen = table.seen(channels[i]);
      recorded[i] = table.record(channels[i], 1'700'000'000 + i);
      require(!(was_seen && recorded[i]), "recorded a sequence seen() called a replay");
      require(table.seen(channels[i]), "not seen after recording");
      require(!table.record(channels[i], 1'700'000'000 + i), "recorded twice");
    }
    require(!recorded[7], "UINT64_MAX recorded");
    const replay_windows::stats after = table.read();
    require(after.channels_in_use <= 64, "more channels in use than slots");
    evicted = after.evictions != before.evictions;  // then a channel recorded here may have been evicted
  }
  // What was accepted and written stays acceptable, with every record in it.
  auto again = replay_windows::open(path, 64);
  require(again.ok(), "a file this build wrote is refused");
  for (std::size_t i = 0; i < channels.size(); ++i) {
    require(evicted || !recorded[i] || (*again)->seen(channels[i]), "a record lost across reopening");
  }
  return 0;
}

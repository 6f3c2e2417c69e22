#include "ferry/dataplane/replay_windows.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/verify/channel.hpp"
#include "ferry/verify/message_kind.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::dp {
namespace {

using verify::channel;
using verify::message_kind;

constexpr std::uint64_t top = std::numeric_limits<std::uint64_t>::max();

// A Wormhole-like channel: `n` spread over the emitter chain and the last bytes of the address.
channel wormhole_channel(std::uint32_t n, std::uint64_t sequence) {
  channel c;
  c.kind = message_kind::wormhole;
  c.size = 34;
  c.id[0] = static_cast<std::byte>(n >> 24);
  c.id[1] = static_cast<std::byte>(n >> 16);
  c.id[32] = static_cast<std::byte>(n >> 8);
  c.id[33] = static_cast<std::byte>(n);
  c.sequence = sequence;
  return c;
}

channel with_sequence(channel c, std::uint64_t sequence) {
  c.sequence = sequence;
  return c;
}

std::unique_ptr<replay_windows> memory_table(std::uint32_t channels = 1024) {
  auto r = replay_windows::in_memory(channels);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message());
  return r.ok() ? std::move(r).value() : nullptr;
}

// ---- the window rule ----

TEST(ReplayWindows, AFreshSequenceIsRecordedOnceAndThenARepeat) {
  const auto table = memory_table();
  ASSERT_NE(table, nullptr);
  const channel c = wormhole_channel(1, 42);
  EXPECT_FALSE(table->seen(c));
  EXPECT_TRUE(table->record(c, 1000));
  EXPECT_TRUE(table->seen(c));
  EXPECT_FALSE(table->record(c, 1000));
  EXPECT_FALSE(table->record(c, 2000));
  EXPECT_TRUE(table->record(with_sequence(c, 43), 1000));
  EXPECT_TRUE(table->path().empty());
}

TEST(ReplayWindows, OutOfOrderWithinTheWindowIsAcceptedOnceEach) {
  const auto table = memory_table();
  ASSERT_NE(table, nullptr);
  std::vector<std::uint64_t> sequences(replay_windows::window);
  std::iota(sequences.begin(), sequences.end(), 1000);
  std::shuffle(sequences.begin(), sequences.end(), std::mt19937_64(7));
  for (const std::uint64_t s : sequences) EXPECT_TRUE(table->record(wormhole_channel(2, s), 1)) << s;
  for (const std::uint64_t s : sequences) {
    EXPECT_TRUE(table->seen(wormhole_channel(2, s))) << s;
    EXPECT_FALSE(table->record(wormhole_channel(2, s), 1)) << s;
  }
}

TEST(ReplayWindows, ANeverSeenSequenceIsRefusedOnlyAtAWindowLate) {
  const auto table = memory_table();
  ASSERT_NE(table, nullptr);
  const std::uint64_t newest = 1000;
  ASSERT_TRUE(table->record(wormhole_channel(3, newest), 1));
  // Up to window - 1 behind: never seen, so accepted, in any order.
  for (std::uint64_t s = newest - 1; s > newest - replay_windows::window; --s) {
    EXPECT_FALSE(table->seen(wormhole_channel(3, s))) << s;
    EXPECT_TRUE(table->record(wormhole_channel(3, s), 1)) << s;
  }
  // A window behind the newest (its residue's slot holds the newest): too old.
  const channel too_old = wormhole_channel(3, newest - replay_windows::window);
  EXPECT_TRUE(table->seen(too_old));
  EXPECT_FALSE(table->record(too_old, 1));
  EXPECT_FALSE(table->record(wormhole_channel(3, 0), 1));
  // A jump forward is fine, and moves the window: what the jump passes is now too old where its residue was taken.
  EXPECT_TRUE(table->record(wormhole_channel(3, newest + 10 * replay_windows::window), 1));
  EXPECT_FALSE(table->record(wormhole_channel(3, newest + 9 * replay_windows::window), 1));
  EXPECT_TRUE(table->record(wormhole_channel(3, newest + 10 * replay_windows::window - 1), 1));
}

TEST(ReplayWindows, SequenceZeroAndTheLargestWork) {
  const auto table = memory_table();
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(table->record(wormhole_channel(4, 0), 1));
  EXPECT_FALSE(table->record(wormhole_channel(4, 0), 1));
  EXPECT_TRUE(table->record(wormhole_channel(4, 1), 1));

  EXPECT_FALSE(table->seen(wormhole_channel(5, top - 1)));
  EXPECT_TRUE(table->record(wormhole_channel(5, top - 1), 1));
  EXPECT_TRUE(table->seen(wormhole_channel(5, top - 1)));
  EXPECT_FALSE(table->record(wormhole_channel(5, top - 1), 1));
  EXPECT_TRUE(table->record(wormhole_channel(5, top - 2), 1));
  EXPECT_FALSE(table->record(wormhole_channel(5, top - 1 - replay_windows::window), 1)) << "a window behind";
  // UINT64_MAX has no s + 1: always refused, on a fresh channel too.
  EXPECT_TRUE(table->seen(wormhole_channel(6, top)));
  EXPECT_FALSE(table->record(wormhole_channel(6, top), 1));
  EXPECT_TRUE(table->record(wormhole_channel(6, 0), 1));
}

TEST(ReplayWindows, ChannelsOfEachKindAreKeptApart) {
  // Room enough that 504 channels never meet 16 to a range, whatever the table's random key: at 1024 channels
  // (half full) about one key in ten made an eviction, and the last loop then lost a channel it checks.
  const auto table = memory_table(16384);
  ASSERT_NE(table, nullptr);
  channel c;
  c.size = 4;
  c.id[3] = std::byte{9};
  c.sequence = 5;
  for (const message_kind kind : {message_kind::wormhole, message_kind::hyperlane, message_kind::layerzero}) {
    c.kind = kind;
    EXPECT_FALSE(table->seen(c)) << static_cast<int>(kind);
    EXPECT_TRUE(table->record(c, 1)) << static_cast<int>(kind);
  }
  // Identity bytes count up to `size`: a longer identity with a zero last byte is another channel.
  c.kind = message_kind::hyperlane;
  c.size = 5;
  EXPECT_TRUE(table->record(c, 1));
  // Many channels, one sequence each: none sees another's.
  for (std::uint32_t n = 0; n < 500; ++n) EXPECT_TRUE(table->record(wormhole_channel(n, 77), 1)) << n;
  for (std::uint32_t n = 0; n < 500; ++n) EXPECT_FALSE(table->record(wormhole_channel(n, 77), 1)) << n;
  EXPECT_EQ(table->read().evictions, 0u);
}

TEST(ReplayWindows, StatsCountChannels) {
  const auto table = memory_table(256);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->read().capacity, 256u);
  EXPECT_EQ(table->read().channels_in_use, 0u);
  for (std::uint32_t n = 0; n < 40; ++n) {
    ASSERT_TRUE(table->record(wormhole_channel(n, 1), 1));
    ASSERT_TRUE(table->record(wormhole_channel(n, 2), 1));
  }
  EXPECT_EQ(table->read().channels_in_use, 40u);
  EXPECT_EQ(table->read().evictions, 0u);
  EXPECT_FALSE(table->seen(wormhole_channel(1000, 1))) << "seen() makes no channel";
  EXPECT_EQ(table->read().channels_in_use, 40u);
}

TEST(ReplayWindows, RefusesChannelCountsThatAreNotAPowerOfTwoInRange) {
  for (const std::uint32_t bad : {0u, 1u, 32u, 63u, 65u, 100u, 1000u, (1u << 24) + 1, 1u << 25, 0xffffffffu}) {
    auto r = replay_windows::in_memory(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.err().message().find("power of two"), std::string::npos) << r.err().message();
    EXPECT_EQ(replay_windows::footprint(bad), 0u) << bad;
  }
  EXPECT_EQ(replay_windows::footprint(64), replay_windows::slots_offset + 64 * sizeof(replay_windows::slot));
  EXPECT_GT(replay_windows::footprint(1u << 24), 0u);
  EXPECT_EQ(sizeof(replay_windows::file_header), 64u);
  EXPECT_EQ(sizeof(replay_windows::slot) % platform::cache_line, 0u);
}

// More channels than the table holds: evictions keep it bounded; the most recently used channel stays, an evicted
// one forgets its window (the verified-digest cache is what catches its replays then).
TEST(ReplayWindows, EvictionKeepsTheTableBoundedAndCountsEachOne) {
  const auto table = memory_table(64);
  ASSERT_NE(table, nullptr);
  const std::uint32_t channels = 1000;
  for (std::uint32_t n = 0; n < channels; ++n) {
    ASSERT_TRUE(table->record(wormhole_channel(n, 1), 100 + n)) << n;
    // Just recorded, so the newest: never the one evicted.
    ASSERT_FALSE(table->record(wormhole_channel(n, 1), 100 + n)) << n;
  }
  const replay_windows::stats s = table->read();
  EXPECT_EQ(s.capacity, 64u);
  EXPECT_LE(s.channels_in_use, 64u);
  EXPECT_GE(s.evictions, channels - 64);
  EXPECT_EQ(s.evictions + s.channels_in_use, channels) << "each channel made either took an empty slot or evicted";
  std::uint32_t remembered = 0;
  for (std::uint32_t n = 0; n < channels; ++n) remembered += table->seen(wormhole_channel(n, 1)) ? 1u : 0u;
  EXPECT_EQ(remembered, s.channels_in_use);
  EXPECT_TRUE(table->seen(wormhole_channel(channels - 1, 1)));
  EXPECT_FALSE(table->seen(wormhole_channel(0, 1))) << "the oldest channel was evicted";
  EXPECT_TRUE(table->record(wormhole_channel(0, 1), 5000)) << "an evicted channel's window is forgotten";
}

// A channel used now and then outlives a crowd of channels used once.
TEST(ReplayWindows, EvictionTakesTheChannelUsedLongestAgo) {
  const auto table = memory_table(64);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->record(wormhole_channel(7, 1), 1));
  for (std::uint32_t n = 1000; n < 3000; ++n) {
    const std::uint64_t now = 10 + n;
    ASSERT_TRUE(table->record(wormhole_channel(n, 1), now));
    if (n % 8 == 0) {
      ASSERT_TRUE(table->record(wormhole_channel(7, n), now)) << n;
    }
  }
  EXPECT_TRUE(table->seen(wormhole_channel(7, 1)));
  EXPECT_FALSE(table->record(wormhole_channel(7, 2992), 4000));
}

// ---- the file ----

class ReplayWindowsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    _path = _dir.path() + "/replay.windows";
  }

  std::unique_ptr<replay_windows> open(std::uint32_t channels = 64) {
    auto r = replay_windows::open(_path, channels);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message());
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // The message open() refuses with; empty when it opens.
  std::string refusal(std::uint32_t channels = 64) {
    auto r = replay_windows::open(_path, channels);
    return r.ok() ? std::string() : r.err().message();
  }

  // Makes a file with `channels` windows recording sequences 0..per-1 of `count` channels.
  void make_file(std::uint32_t channels, std::uint32_t count, std::uint64_t per) {
    const auto table = open(channels);
    ASSERT_NE(table, nullptr);
    for (std::uint32_t n = 0; n < count; ++n) {
      for (std::uint64_t s = 0; s < per; ++s) ASSERT_TRUE(table->record(wormhole_channel(n, s), 1000 + n));
    }
  }

  void expect_all_replays(replay_windows& table, std::uint32_t count, std::uint64_t per) {
    for (std::uint32_t n = 0; n < count; ++n) {
      for (std::uint64_t s = 0; s < per; ++s) {
        EXPECT_TRUE(table.seen(wormhole_channel(n, s))) << n << " " << s;
        EXPECT_FALSE(table.record(wormhole_channel(n, s), 5000)) << n << " " << s;
      }
      EXPECT_TRUE(table.record(wormhole_channel(n, per), 5000)) << n;
    }
  }

  std::vector<char> contents() const {
    std::ifstream in(_path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write_contents(const std::vector<char>& bytes) const {
    std::ofstream out(_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  testing::temp_dir _dir{"replay-windows"};
  std::string _path;
};

TEST_F(ReplayWindowsFile, IsMadeOwnerOnlyAtTheSizeAsked) {
  {
    const auto table = open(128);
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->path(), _path);
    EXPECT_EQ(table->read().capacity, 128u);
  }
  struct stat st{};
  ASSERT_EQ(::lstat(_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), replay_windows::footprint(128));
  EXPECT_FALSE(std::filesystem::exists(_path + ".new"));
  const std::vector<char> bytes = contents();
  EXPECT_EQ(std::string(bytes.data(), 8), "FERRYRPW");
}

TEST_F(ReplayWindowsFile, UmaskDoesNotChangeTheMode) {
  const mode_t old = ::umask(0277);
  const auto table = open();
  ::umask(old);
  ASSERT_NE(table, nullptr);
  struct stat st{};
  ASSERT_EQ(::stat(_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ReplayWindowsFile, WhatWasRecordedIsAReplayAfterReopening) {
  make_file(64, 20, 150);
  {
    const auto table = open();
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->read().channels_in_use, 20u);
    expect_all_replays(*table, 20, 150);
    table->sync();
  }
  // The fresh ones recorded after reopening are there too.
  const auto table = open();
  ASSERT_NE(table, nullptr);
  for (std::uint32_t n = 0; n < 20; ++n) EXPECT_FALSE(table->record(wormhole_channel(n, 150), 6000)) << n;
  EXPECT_TRUE(table->record(wormhole_channel(100, 0), 6000));
}

TEST_F(ReplayWindowsFile, ALeftoverNewFileIsReplaced) {
  std::ofstream(_path + ".new") << "half a file from a crash";
  make_file(64, 3, 10);
  EXPECT_FALSE(std::filesystem::exists(_path + ".new"));
  const auto table = open();
  ASSERT_NE(table, nullptr);
  expect_all_replays(*table, 3, 10);
}

// The crash test: a child process (this binary again, running only the helper below) opens the file, records, and
// dies by SIGKILL without destroying anything; what it recorded is all there. A process of its own, started by
// posix_spawn rather than fork(), so that it works under the emulator of the cross builds too.
constexpr const char* crash_file_variable = "FERRY_REPLAY_CRASH_FILE";
constexpr std::uint32_t crash_channels = 10;
constexpr std::uint64_t crash_sequences = 300;

TEST(ReplayWindowsCrashChild, DISABLED_RecordsThenDiesBySigkill) {
  const char* path = std::getenv(crash_file_variable);
  if (path == nullptr) GTEST_SKIP() << "only run by ReplayWindowsFile.WhatWasRecordedSurvivesKill9";
  auto opened = replay_windows::open(path, 64);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  replay_windows& table = **opened;
  for (std::uint32_t n = 0; n < crash_channels; ++n) {
    for (std::uint64_t s = 0; s < crash_sequences; ++s) ASSERT_TRUE(table.record(wormhole_channel(n, s), 1 + n));
  }
  std::printf("recorded\n");
  std::fflush(stdout);
  std::raise(SIGKILL);
}

TEST_F(ReplayWindowsFile, WhatWasRecordedSurvivesKill9) {
  char self[4096] = {};
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(length, 0);
  std::vector<std::string> argv = testing::emulator_prefix(FERRY_TEST_EMULATOR);
  argv.push_back(self);
  argv.push_back("--gtest_also_run_disabled_tests");
  argv.push_back("--gtest_filter=ReplayWindowsCrashChild.DISABLED_RecordsThenDiesBySigkill");
  ASSERT_EQ(::setenv(crash_file_variable, _path.c_str(), 1), 0);
  std::optional<int> status;
  std::string out;
  std::string err;
  {
    testing::child_process child(argv, _dir.path() + "/child");
    ::unsetenv(crash_file_variable);
    ASSERT_TRUE(child.started());
    status = child.wait_for(std::chrono::seconds(120));
    out = child.out();
    err = child.err();
  }
  ASSERT_TRUE(status.has_value()) << "the child did not end";
  EXPECT_EQ(*status, 128 + SIGKILL) << out << err;
  ASSERT_NE(out.find("recorded"), std::string::npos) << out << err;

  const auto table = open();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->read().channels_in_use, crash_channels);
  expect_all_replays(*table, crash_channels, crash_sequences);
}

TEST_F(ReplayWindowsFile, RefusesASymlink) {
  make_file(64, 1, 1);
  const std::string link = _dir.path() + "/link.windows";
  ASSERT_EQ(::symlink(_path.c_str(), link.c_str()), 0);
  auto r = replay_windows::open(link, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message().find(link), std::string::npos) << r.err().message();
  EXPECT_NE(r.err().message().find("symbolic link"), std::string::npos) << r.err().message();
  EXPECT_NE(r.err().message().find("remove the link"), std::string::npos) << r.err().message();
  // Dangling: not followed to make a file where it points either.
  const std::string dangling = _dir.path() + "/dangling.windows";
  ASSERT_EQ(::symlink((_dir.path() + "/nowhere").c_str(), dangling.c_str()), 0);
  r = replay_windows::open(dangling, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message().find("symbolic link"), std::string::npos) << r.err().message();
  EXPECT_FALSE(std::filesystem::exists(_dir.path() + "/nowhere"));
}

TEST_F(ReplayWindowsFile, RefusesWhatIsNotARegularFile) {
  ASSERT_EQ(::mkdir(_path.c_str(), 0700), 0);
  std::string message = refusal();
  EXPECT_NE(message.find(_path), std::string::npos) << message;
  EXPECT_NE(message.find("a directory, not a regular file"), std::string::npos) << message;
  ASSERT_EQ(::rmdir(_path.c_str()), 0);
  ASSERT_EQ(::mkfifo(_path.c_str(), 0600), 0);
  message = refusal();
  EXPECT_NE(message.find("a FIFO"), std::string::npos) << message;
}

TEST_F(ReplayWindowsFile, RefusesAFileGroupOrOthersMayWrite) {
  make_file(64, 1, 1);
  for (const mode_t mode : {mode_t{0620}, mode_t{0602}, mode_t{0666}}) {
    ASSERT_EQ(::chmod(_path.c_str(), mode), 0);
    const std::string message = refusal();
    EXPECT_NE(message.find(_path), std::string::npos) << message;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(message.find(std::string("mode ") + octal), std::string::npos) << message;
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
  }
  ASSERT_EQ(::chmod(_path.c_str(), 0640), 0);
  EXPECT_EQ(refusal(), "") << "readable by the group is fine";
}

TEST_F(ReplayWindowsFile, RefusesAFileOfAnotherOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file away";
  make_file(64, 1, 1);
  ASSERT_EQ(::chown(_path.c_str(), 65534, 65534), 0);
  const std::string message = refusal();
  EXPECT_NE(message.find(_path), std::string::npos) << message;
  EXPECT_NE(message.find("owned by uid 65534"), std::string::npos) << message;
  EXPECT_NE(message.find("chown"), std::string::npos) << message;
}

TEST_F(ReplayWindowsFile, RefusesABadHeader) {
  make_file(64, 1, 1);
  const std::vector<char> good = contents();
  const auto refused_after = [&](std::size_t offset, char value) {
    std::vector<char> bad = good;
    bad[offset] = value;
    write_contents(bad);
    return refusal();
  };
  std::string message = refused_after(0, 'X');
  EXPECT_NE(message.find(_path), std::string::npos) << message;
  EXPECT_NE(message.find("bad magic"), std::string::npos) << message;
  EXPECT_NE(message.find("move it out of the way"), std::string::npos) << message;
  message = refused_after(offsetof(replay_windows::file_header, version), 2);
  EXPECT_NE(message.find("version 2"), std::string::npos) << message;
  message = refused_after(offsetof(replay_windows::file_header, window), 32);
  EXPECT_NE(message.find("windows of 32"), std::string::npos) << message;
  message = refused_after(offsetof(replay_windows::file_header, capacity), 65);
  EXPECT_NE(message.find("capacity 65"), std::string::npos) << message;
  message = refused_after(offsetof(replay_windows::file_header, capacity), 127);
  EXPECT_NE(message.find("capacity 127"), std::string::npos) << message;
  // A valid capacity that the size does not agree with.
  message = refused_after(offsetof(replay_windows::file_header, capacity), static_cast<char>(128));
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  message = refused_after(offsetof(replay_windows::file_header, slot_size), 8);
  EXPECT_NE(message.find("slot layout"), std::string::npos) << message;
  write_contents(good);
  EXPECT_EQ(refusal(), "");
}

// The count of channels in use is only a statistic: past capacity (a damaged header), it is counted again.
TEST_F(ReplayWindowsFile, RecountsAnImpossibleCountOfChannels) {
  make_file(64, 3, 1);
  std::vector<char> bytes = contents();
  bytes[offsetof(replay_windows::file_header, channels_in_use)] = 100;
  write_contents(bytes);
  const auto table = open();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->read().channels_in_use, 3u);
  expect_all_replays(*table, 3, 1);
}

TEST_F(ReplayWindowsFile, RefusesAFileOfTheWrongSize) {
  make_file(64, 1, 1);
  const std::vector<char> good = contents();
  for (const std::size_t size : {std::size_t{0}, std::size_t{10}, std::size_t{63}, std::size_t{64},
                                 good.size() - sizeof(replay_windows::slot), good.size() - 1}) {
    write_contents(std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
    const std::string message = refusal();
    EXPECT_NE(message.find(_path), std::string::npos) << size << ": " << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << size << ": " << message;
    EXPECT_NE(message.find("restore it"), std::string::npos) << size << ": " << message;
  }
  std::vector<char> longer = good;
  longer.push_back(0);
  write_contents(longer);
  EXPECT_NE(refusal().find("too long"), std::string::npos) << refusal();
  // Refused files are left as they were, for the operator to look at.
  EXPECT_EQ(contents(), longer);
}

TEST_F(ReplayWindowsFile, IsRefiledIntoAnotherCapacityKeepingEveryWindow) {
  make_file(64, 20, 100);
  {
    const auto bigger = open(4096);
    ASSERT_NE(bigger, nullptr);
    EXPECT_EQ(bigger->read().capacity, 4096u);
    EXPECT_EQ(bigger->read().channels_in_use, 20u);
    EXPECT_EQ(bigger->read().evictions, 0u);
    expect_all_replays(*bigger, 20, 100);  // and records sequence 100 of each
  }
  struct stat st{};
  ASSERT_EQ(::stat(_path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), replay_windows::footprint(4096));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(_path + ".new"));
  // And back down: 20 channels still fit 64 (16 slots from each one's start: a table this small fits 20 channels
  // every time, 30 all but a few times in 10,000).
  const auto smaller = open(64);
  ASSERT_NE(smaller, nullptr);
  EXPECT_EQ(smaller->read().capacity, 64u);
  EXPECT_EQ(smaller->read().channels_in_use, 20u);
  expect_all_replays(*smaller, 20, 101);
}

TEST_F(ReplayWindowsFile, ShrinkingKeepsTheMostRecentlyUsedAndCountsTheRest) {
  make_file(1024, 300, 2);  // channel n last used at 1000 + n
  const auto table = open(64);
  ASSERT_NE(table, nullptr);
  const replay_windows::stats s = table->read();
  EXPECT_LE(s.channels_in_use, 64u);
  EXPECT_EQ(s.channels_in_use + s.evictions, 300u);
  std::uint32_t kept = 0;
  for (std::uint32_t n = 0; n < 300; ++n) kept += table->seen(wormhole_channel(n, 1)) ? 1u : 0u;
  EXPECT_EQ(kept, s.channels_in_use);
  EXPECT_TRUE(table->seen(wormhole_channel(299, 0))) << "the most recently used survives";
}

// A file made by a build with another slot layout (a 128-byte cache line: 640-byte slots from offset 128) is
// re-filed into this build's, windows and all.
TEST_F(ReplayWindowsFile, IsRefiledFromAnotherSlotLayout) {
  make_file(64, 12, 70);
  const std::vector<char> ours = contents();
  const std::uint32_t their_slot = 1024;
  const std::uint32_t their_offset = 256;
  std::vector<char> theirs(their_offset + 64 * std::size_t{their_slot}, 0);
  std::copy_n(ours.begin(), sizeof(replay_windows::file_header), theirs.begin());
  std::memcpy(theirs.data() + offsetof(replay_windows::file_header, slot_size), &their_slot, 4);
  std::memcpy(theirs.data() + offsetof(replay_windows::file_header, slots_offset), &their_offset, 4);
  for (std::size_t i = 0; i < 64; ++i) {
    std::copy_n(ours.begin() + static_cast<std::ptrdiff_t>(replay_windows::slots_offset +
                                                           i * sizeof(replay_windows::slot)),
                16 + 8 * replay_windows::window,
                theirs.begin() + static_cast<std::ptrdiff_t>(their_offset + i * their_slot));
  }
  write_contents(theirs);
  ASSERT_EQ(::chmod(_path.c_str(), 0600), 0);
  const auto table = open(64);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->read().channels_in_use, 12u);
  expect_all_replays(*table, 12, 70);
  EXPECT_EQ(contents().size(), replay_windows::footprint(64));
}

// ---- concurrency (also run under ThreadSanitizer) ----

// Four threads record overlapping sets of (channel, sequence) pairs at once, each in its own order: every pair is
// accepted exactly once overall. Each thread takes its channels' sequences in blocks of `window` (shuffled within a
// block), so whichever thread first reaches a pair still finds it inside the window.
TEST(ReplayWindowsStress, EachPairIsAcceptedExactlyOnce) {
  const auto table = memory_table(1024);
  ASSERT_NE(table, nullptr);
  constexpr std::uint32_t threads = 4;
  constexpr std::uint32_t channels = 24;
  constexpr std::uint64_t sequences = replay_windows::window * 64;
  std::vector<std::atomic<std::uint32_t>> accepted(channels * sequences);
  std::atomic<std::uint64_t> trues{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (std::uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 random(t + 1);
      // Each thread leaves out the channels n with n % 4 == t: every channel is recorded by three threads.
      std::vector<std::uint32_t> mine;
      for (std::uint32_t n = 0; n < channels; ++n) {
        if (n % threads != t) mine.push_back(n);
      }
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::uint64_t local = 0;
      for (std::uint64_t block = 0; block < sequences; block += replay_windows::window) {
        std::vector<std::pair<std::uint32_t, std::uint64_t>> pairs;
        for (const std::uint32_t n : mine) {
          for (std::uint64_t s = block; s < block + replay_windows::window; ++s) pairs.emplace_back(n, s);
        }
        std::shuffle(pairs.begin(), pairs.end(), random);
        for (const auto& [n, s] : pairs) {
          const channel c = wormhole_channel(n, s);
          if (table->record(c, 1000 + block)) {
            local += 1;
            accepted[static_cast<std::size_t>(n * sequences + s)].fetch_add(1, std::memory_order_relaxed);
          }
          table->seen(c);
        }
      }
      trues.fetch_add(local, std::memory_order_relaxed);
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  EXPECT_EQ(trues.load(), std::uint64_t{channels} * sequences);
  std::uint64_t wrong = 0;
  for (const auto& a : accepted) wrong += a.load() == 1 ? 0u : 1u;
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(table->read().channels_in_use, channels);
  EXPECT_EQ(table->read().evictions, 0u);
}

// Many threads making many channels in a small table: evictions race with records and with each other. Nothing
// may crash or tear, the table stays bounded, and a channel each thread keeps using stays where it is.
TEST(ReplayWindowsStress, EvictionsUnderContentionStayBounded) {
  const auto table = memory_table(64);
  ASSERT_NE(table, nullptr);
  constexpr std::uint32_t threads = 4;
  std::atomic<std::uint64_t> made{0};
  std::vector<std::thread> workers;
  for (std::uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 random(t + 11);
      std::uniform_int_distribution<std::uint32_t> pick(0, 2999);
      for (std::uint64_t i = 0; i < 20'000; ++i) {
        const std::uint64_t now = 1000 + i / 50;
        if (table->record(wormhole_channel(pick(random), i % 500), now)) made.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& w : workers) w.join();
  const replay_windows::stats s = table->read();
  EXPECT_LE(s.channels_in_use, 64u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(made.load(), 0u);
}

}  // namespace
}  // namespace ferry::dp

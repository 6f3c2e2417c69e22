#include "ferry/platform/thread.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::platform {
namespace {

// Runs `body` on a new thread, so that pinning and naming never change the test runner's own thread.
template <class Body>
void on_new_thread(Body&& body) {
  std::thread t(std::forward<Body>(body));
  t.join();
}

// The calling thread's affinity mask as the kernel reports it.
std::vector<unsigned> kernel_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

bool contains(const std::vector<unsigned>& cpus, unsigned cpu) {
  return std::find(cpus.begin(), cpus.end(), cpu) != cpus.end();
}

TEST(Thread, AllowedCpusAreNonEmptyAndAscending) {
  const std::vector<unsigned> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  for (std::size_t i = 1; i < cpus.size(); ++i) EXPECT_LT(cpus[i - 1], cpus[i]) << "at " << i;
  EXPECT_LT(cpus.back(), unsigned{CPU_SETSIZE});
  EXPECT_EQ(cpus, kernel_affinity());
  EXPECT_TRUE(contains(cpus, current_cpu())) << "running on cpu " << current_cpu();
}

// Pins a fresh thread to each allowed CPU in turn. Once sched_setaffinity returns, the kernel has already moved
// the calling thread onto an allowed CPU, so sched_getcpu() must name the one pinned to. Under qemu-user
// (the aarch64 cross build) getcpu is forwarded to the host kernel, and qemu's guest thread is a host thread,
// so the same holds there; the affinity mask is checked as well, since it is what pinning promises.
TEST(Thread, PinsToEachAllowedCpu) {
  const std::vector<unsigned> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  for (const unsigned cpu : cpus) {
    bool pinned = false;
    std::string error;
    std::vector<unsigned> affinity;
    std::vector<unsigned> allowed_after;
    unsigned running_on = ~0u;
    on_new_thread([&] {
      const result<void> r = pin_current_thread(cpu);
      pinned = r.ok();
      if (!r.ok()) error = r.err().message();
      running_on = current_cpu();
      affinity = kernel_affinity();
      allowed_after = allowed_cpus();
    });
    ASSERT_TRUE(pinned) << "cpu " << cpu << ": " << error;
    EXPECT_EQ(affinity, std::vector<unsigned>{cpu});
    EXPECT_EQ(allowed_after, std::vector<unsigned>{cpu});
    EXPECT_EQ(running_on, cpu);
  }
  // The runner's own thread kept its mask.
  EXPECT_EQ(allowed_cpus(), cpus);
}

TEST(Thread, PinBeyondCpuSetSizeFailsNamingTheCpu) {
  constexpr unsigned impossible = CPU_SETSIZE + 1;
  const std::vector<unsigned> before = allowed_cpus();
  on_new_thread([&] {
    const result<void> r = pin_current_thread(impossible);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message().find("cpu " + std::to_string(impossible)), std::string::npos) << r.err().message();
    EXPECT_EQ(allowed_cpus(), before);
  });
}

TEST(Thread, PinToAnAbsentCpuFailsNamingTheCpu) {
  // The highest CPU a cpu_set_t can name, unless this machine really has it.
  constexpr unsigned absent = CPU_SETSIZE - 1;
  const long configured = sysconf(_SC_NPROCESSORS_CONF);
  if (configured > static_cast<long>(absent) || contains(allowed_cpus(), absent)) {
    GTEST_SKIP() << "this machine has a cpu " << absent;
  }
  const std::vector<unsigned> before = allowed_cpus();
  on_new_thread([&] {
    const result<void> r = pin_current_thread(absent);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message().find("cpu " + std::to_string(absent)), std::string::npos) << r.err().message();
    EXPECT_EQ(allowed_cpus(), before) << "a failed pin changed the mask";
  });
}

TEST(Thread, NamesTheThread) {
  const std::string name = "ferry-rx-stage1";  // 15 bytes: the most Linux keeps
  ASSERT_EQ(name.size(), 15u);
  on_new_thread([&] {
    const result<void> named = name_current_thread(name);
    ASSERT_TRUE(named.ok()) << named.err().message();
    const result<std::string> read = current_thread_name();
    ASSERT_TRUE(read.ok()) << read.err().message();
    EXPECT_EQ(*read, name);

    const result<void> renamed = name_current_thread("tx");
    ASSERT_TRUE(renamed.ok()) << renamed.err().message();
    const result<std::string> reread = current_thread_name();
    ASSERT_TRUE(reread.ok()) << reread.err().message();
    EXPECT_EQ(*reread, "tx");
  });
}

TEST(Thread, RefusesNamesLinuxWouldCut) {
  on_new_thread([] {
    ASSERT_TRUE(name_current_thread("keep").ok());

    const std::string too_long = "ferry-rx-stage10";  // 16 bytes
    ASSERT_EQ(too_long.size(), 16u);
    const result<void> long_name = name_current_thread(too_long);
    ASSERT_FALSE(long_name.ok());
    EXPECT_NE(long_name.err().message().find(too_long), std::string::npos) << long_name.err().message();

    const result<void> empty_name = name_current_thread("");
    EXPECT_FALSE(empty_name.ok());

    // A refused name leaves the old one in place.
    const result<std::string> read = current_thread_name();
    ASSERT_TRUE(read.ok()) << read.err().message();
    EXPECT_EQ(*read, "keep");
  });
}

}  // namespace
}  // namespace ferry::platform

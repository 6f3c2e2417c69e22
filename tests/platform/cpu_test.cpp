#include "ferry/platform/cpu.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace ferry::platform {
namespace {

TEST(Cpu, CacheLineIsAPowerOfTwo) {
  EXPECT_GE(cache_line, 32u);
  EXPECT_EQ(cache_line & (cache_line - 1), 0u);
}

TEST(Cpu, CacheLineIsTheConfiguredSize) {
#if defined(FERRY_CACHE_LINE_SIZE)
  EXPECT_EQ(cache_line, std::size_t{FERRY_CACHE_LINE_SIZE});
#else
  FAIL() << "ferry_platform must export FERRY_CACHE_LINE_SIZE to its users";
#endif
}

TEST(Cpu, CacheLineAlignsObjects) {
  struct alignas(cache_line) padded {
    int value;
  };
  static_assert(alignof(padded) == cache_line);
  static_assert(sizeof(padded) == cache_line);
  padded lines[2]{};
  const auto first = reinterpret_cast<std::uintptr_t>(&lines[0]);
  const auto second = reinterpret_cast<std::uintptr_t>(&lines[1]);
  EXPECT_EQ(first % cache_line, 0u);
  EXPECT_EQ(second - first, cache_line);
}

TEST(Cpu, RelaxInABoundedLoop) {
  constexpr int spins = 10'000;
  int count = 0;
  for (int i = 0; i < spins; ++i) {
    cpu_relax();
    ++count;
  }
  EXPECT_EQ(count, spins);
}

TEST(Cpu, PortableRelaxInABoundedLoop) {
  constexpr int spins = 10'000;
  int count = 0;
  for (int i = 0; i < spins; ++i) {
    portable::relax();
    ++count;
  }
  EXPECT_EQ(count, spins);
}

// The way the hint is used: spinning on a flag another thread sets, with a bound so a lost store fails the test
// instead of hanging it.
TEST(Cpu, RelaxWhileWaitingForAnotherThread) {
  std::atomic<bool> go{false};
  std::thread setter([&go] { go.store(true, std::memory_order_release); });
  constexpr long max_spins = 200'000'000;
  long spins = 0;
  // A1: pairs with the release store in `setter`.
  while (!go.load(std::memory_order_acquire) && spins < max_spins) {
    cpu_relax();
    ++spins;
  }
  setter.join();
  EXPECT_TRUE(go.load(std::memory_order_acquire));
  EXPECT_LT(spins, max_spins);
}

}  // namespace
}  // namespace ferry::platform

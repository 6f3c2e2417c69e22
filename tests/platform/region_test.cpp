#include "ferry/platform/region.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <iterator>
#include <string>
#include <utility>

namespace ferry::platform {
namespace {

std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

bool all_zero(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

bool aligned(const void* data, std::size_t unit) { return reinterpret_cast<std::uintptr_t>(data) % unit == 0; }

TEST(Region, OneByteMapsOneZeroedWritablePage) {
  result<region> mapped = region::map(1);
  ASSERT_TRUE(mapped.ok()) << mapped.err().message();
  const region& r = *mapped;
  ASSERT_NE(r.data(), nullptr);
  EXPECT_EQ(r.size(), page());
  EXPECT_FALSE(r.huge());
  EXPECT_TRUE(aligned(r.data(), page()));
  EXPECT_TRUE(all_zero(r.data(), r.size()));

  // Writable to the last byte of the rounded size, not only the byte asked for.
  auto* bytes = static_cast<unsigned char*>(r.data());
  std::memset(bytes, 0xa5, r.size());
  EXPECT_EQ(bytes[0], 0xa5);
  EXPECT_EQ(bytes[r.size() - 1], 0xa5);
}

TEST(Region, SizesRoundUpToThePage) {
  const std::size_t p = page();
  const std::size_t asks[] = {p - 1, p, p + 1, 3 * p + 17};
  const std::size_t wants[] = {p, p, 2 * p, 4 * p};
  for (std::size_t i = 0; i < std::size(asks); ++i) {
    result<region> mapped = region::map(asks[i]);
    ASSERT_TRUE(mapped.ok()) << asks[i] << ": " << mapped.err().message();
    EXPECT_EQ(mapped->size(), wants[i]) << "asked for " << asks[i];
    EXPECT_TRUE(aligned(mapped->data(), p));
    EXPECT_TRUE(all_zero(mapped->data(), mapped->size()));
  }
}

TEST(Region, EmptyMapFails) {
  const result<region> mapped = region::map(0);
  ASSERT_FALSE(mapped.ok());
  EXPECT_FALSE(mapped.err().message().empty());
  const result<region> huge = region::map(0, page_size::try_huge);
  EXPECT_FALSE(huge.ok());
}

TEST(Region, ImpossibleSizeFailsWithAReason) {
  // More than a quarter of the address space is refused before the kernel is asked; the largest size_t too.
  for (const std::size_t bytes : {std::numeric_limits<std::size_t>::max() / 2, std::numeric_limits<std::size_t>::max()}) {
    const result<region> mapped = region::map(bytes);
    ASSERT_FALSE(mapped.ok());
    EXPECT_NE(mapped.err().message().find("more than this machine could address"), std::string::npos)
        << mapped.err().message();
  }
}

// No hugepages are reserved by this test: try_huge must still succeed, from hugepages when the machine happens
// to have some free and from normal pages otherwise.
TEST(Region, TryHugeFallsBackToNormalPages) {
  long free_hugepages = -1;
  {
    std::ifstream in("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
    if (in) in >> free_hugepages;
  }
  RecordProperty("free_hugepages_2048kB", std::to_string(free_hugepages));

  constexpr std::size_t bytes = 100'000;
  result<region> mapped = region::map(bytes, page_size::try_huge);
  ASSERT_TRUE(mapped.ok()) << mapped.err().message();
  const region& r = *mapped;
  RecordProperty("huge", r.huge() ? "true" : "false");
  ASSERT_NE(r.data(), nullptr);
  EXPECT_GE(r.size(), bytes);
  if (r.huge()) {
    constexpr std::size_t huge_page = std::size_t{2} << 20;
    EXPECT_EQ(r.size() % huge_page, 0u);
    EXPECT_TRUE(aligned(r.data(), huge_page));
  } else {
    EXPECT_EQ(r.size() % page(), 0u);
    EXPECT_LT(r.size(), bytes + page());
    EXPECT_TRUE(aligned(r.data(), page()));
  }
  EXPECT_TRUE(all_zero(r.data(), r.size()));
  auto* data = static_cast<unsigned char*>(r.data());
  data[0] = 1;
  data[r.size() - 1] = 2;
  EXPECT_EQ(data[0], 1);
  EXPECT_EQ(data[r.size() - 1], 2);
}

TEST(Region, DefaultIsEmpty) {
  const region r;
  EXPECT_EQ(r.data(), nullptr);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_FALSE(r.huge());
}

TEST(Region, MoveConstructionTransfersOwnership) {
  result<region> mapped = region::map(page());
  ASSERT_TRUE(mapped.ok()) << mapped.err().message();
  region a = std::move(mapped).value();
  void* const data = a.data();
  const std::size_t size = a.size();
  static_cast<unsigned char*>(data)[0] = 42;

  region b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.size(), size);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(static_cast<unsigned char*>(b.data())[0], 42);
}

TEST(Region, MoveAssignmentReleasesTheOldMapping) {
  result<region> first = region::map(page());
  result<region> second = region::map(2 * page());
  ASSERT_TRUE(first.ok() && second.ok());
  region a = std::move(first).value();
  region b = std::move(second).value();
  void* const b_data = b.data();
  static_cast<unsigned char*>(b_data)[0] = 7;

  a = std::move(b);
  EXPECT_EQ(a.data(), b_data);
  EXPECT_EQ(a.size(), 2 * page());
  EXPECT_EQ(static_cast<unsigned char*>(a.data())[0], 7);
  EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.size(), 0u);

  // Self-assignment (through a reference, as generic code would) keeps the mapping.
  region& self = a;
  a = std::move(self);
  EXPECT_EQ(a.data(), b_data);
  EXPECT_EQ(static_cast<unsigned char*>(a.data())[0], 7);

  // Assigning an empty region releases the mapping and leaves both empty.
  a = region();
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
}

// mincore() fails with ENOMEM for a range that is not mapped: the destructor must have given the pages back.
TEST(Region, DestructionUnmaps) {
  void* data = nullptr;
  std::size_t size = 0;
  {
    result<region> mapped = region::map(3 * page());
    ASSERT_TRUE(mapped.ok()) << mapped.err().message();
    data = mapped->data();
    size = mapped->size();
    unsigned char residency[3] = {};
    ASSERT_EQ(mincore(data, size, residency), 0) << std::strerror(errno);
    // map() faults every page in up front (even where MAP_POPULATE is ignored, as under qemu-user), so that the
    // first packet takes no page fault.
    for (const unsigned char page_state : residency) EXPECT_NE(page_state & 1u, 0u);
  }
  unsigned char residency[3] = {};
  errno = 0;
  EXPECT_EQ(mincore(data, size, residency), -1);
  EXPECT_EQ(errno, ENOMEM);
}

}  // namespace
}  // namespace ferry::platform

#include "ferry/dataplane/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "ferry/dataplane/placed.hpp"
#include "ferry/platform/cpu.hpp"

namespace ferry::dp {
namespace {

placed<buffer_pool> make_pool(std::uint32_t count, std::uint32_t data_size) {
  auto pool = placed<buffer_pool>::create("test pool", platform::page_size::normal, count, data_size);
  if (!pool) ADD_FAILURE() << pool.err().message();
  return std::move(pool).value();  // aborts on failure, after the message above
}

// Pointer order, which std::less defines for unrelated pointers where operator< does not.
bool before(const packet_buffer* a, const packet_buffer* b) { return std::less<const packet_buffer*>{}(a, b); }

TEST(BufferPool, FootprintRefusesCountsAndSizesOutOfRange) {
  EXPECT_EQ(buffer_pool::footprint(0, 2048), 0u);
  EXPECT_EQ(buffer_pool::footprint(buffer_pool::max_count + 1, 2048), 0u);
  EXPECT_EQ(buffer_pool::footprint(std::numeric_limits<std::uint32_t>::max(), 2048), 0u);
  EXPECT_EQ(buffer_pool::footprint(16, 0), 0u);
  EXPECT_EQ(buffer_pool::footprint(16, buffer_pool::min_data_size - 1), 0u);
  EXPECT_EQ(buffer_pool::footprint(16, buffer_pool::max_data_size + 1), 0u);
  EXPECT_EQ(buffer_pool::footprint(16, std::numeric_limits<std::uint32_t>::max()), 0u);
}

TEST(BufferPool, FootprintCoversEveryBufferAtTheLimits) {
  const std::uint32_t counts[] = {1, 2, 1000, buffer_pool::max_count};
  const std::uint32_t sizes[] = {buffer_pool::min_data_size, 100, 2048, buffer_pool::max_data_size};
  for (std::uint32_t count : counts) {
    for (std::uint32_t size : sizes) {
      const std::size_t bytes = buffer_pool::footprint(count, size);
      // Computed in 64 bits, so that a footprint that wrapped around size_t shows up as too small.
      const std::uint64_t rounded =
          (std::uint64_t{size} + platform::cache_line - 1) / platform::cache_line * platform::cache_line;
      const std::uint64_t needed = std::uint64_t{count} * (sizeof(packet_buffer) + rounded);
      if (needed > std::numeric_limits<std::size_t>::max() / 2) {  // a 32-bit target cannot hold it: refused
        EXPECT_EQ(bytes, 0u) << count << " x " << size;
        continue;
      }
      ASSERT_NE(bytes, 0u) << count << " x " << size;
      EXPECT_GE(std::uint64_t{bytes}, needed) << count << " x " << size;
    }
  }
}

TEST(BufferPool, ConstructRefusesNullMisalignedMemoryAndBadArguments) {
  const std::size_t bytes = buffer_pool::footprint(4, 256);
  ASSERT_NE(bytes, 0u);
  std::vector<std::byte> storage(bytes + 2 * buffer_pool::align());
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t skip = (buffer_pool::align() - address % buffer_pool::align()) % buffer_pool::align();
  std::byte* const aligned = storage.data() + skip;

  EXPECT_EQ(buffer_pool::construct(nullptr, 4, 256), nullptr);
  EXPECT_EQ(buffer_pool::construct(aligned + 8, 4, 256), nullptr);
  EXPECT_EQ(buffer_pool::construct(aligned + 1, 4, 256), nullptr);
  EXPECT_EQ(buffer_pool::construct(aligned, 0, 256), nullptr);
  EXPECT_EQ(buffer_pool::construct(aligned, 4, 16), nullptr);

  buffer_pool* const pool = buffer_pool::construct(aligned, 4, 256);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->count(), 4u);
  EXPECT_EQ(pool->available(), 4u);
  packet_buffer* const buffer = pool->acquire();
  ASSERT_NE(buffer, nullptr);
  // Everything the pool hands out lies inside the memory it was given.
  EXPECT_GE(reinterpret_cast<std::byte*>(buffer), aligned);
  EXPECT_LE(buffer->data() + pool->data_size(), aligned + bytes);
  pool->release(buffer);
}

TEST(BufferPool, PlacedRefusesBadArgumentsWithItsName) {
  auto pool = placed<buffer_pool>::create("rx pool", platform::page_size::normal, 0u, 2048u);
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.err().message().find("rx pool"), std::string::npos) << pool.err().message();
}

TEST(BufferPool, DataSizeIsRoundedUpToTheCacheLine) {
  auto pool = make_pool(4, 100);
  EXPECT_EQ(pool->data_size() % platform::cache_line, 0u);
  EXPECT_GE(pool->data_size(), 100u);
  EXPECT_LT(pool->data_size(), 100u + platform::cache_line);
  EXPECT_EQ(pool->count(), 4u);
}

TEST(BufferPool, BuffersAreDistinctAlignedAndDoNotOverlap) {
  constexpr std::uint32_t count = 64;
  auto pool = make_pool(count, 200);  // not a multiple of the cache line
  const std::uint32_t data_size = pool->data_size();

  std::vector<packet_buffer*> buffers;
  for (std::uint32_t i = 0; i < count; ++i) {
    packet_buffer* const buffer = pool->acquire();
    ASSERT_NE(buffer, nullptr) << i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer) % platform::cache_line, 0u) << i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer->data()) % platform::cache_line, 0u) << i;
    EXPECT_TRUE(pool->owns(buffer)) << i;
    buffers.push_back(buffer);
  }

  std::vector<packet_buffer*> sorted = buffers;
  std::sort(sorted.begin(), sorted.end(), before);
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "a buffer was handed out twice";
  for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
    // The whole data area of one buffer ends at or before the next buffer's metadata begins.
    EXPECT_LE(sorted[i]->data() + data_size, reinterpret_cast<std::byte*>(sorted[i + 1])) << i;
  }

  // Fill every metadata field and every data byte with a pattern of its own, then check none was overwritten: a
  // write past any buffer's end would land in a neighbour.
  for (std::uint32_t i = 0; i < count; ++i) {
    buffers[i]->length = i;
    buffers[i]->flags = ~i;
    buffers[i]->rx_ticks = 1000u + i;
    std::memset(buffers[i]->data(), static_cast<int>(i + 1), data_size);
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(buffers[i]->length, i);
    EXPECT_EQ(buffers[i]->flags, ~i);
    EXPECT_EQ(buffers[i]->rx_ticks, 1000u + i);
    const std::byte want{static_cast<unsigned char>(i + 1)};
    const std::byte* const data = buffers[i]->data();
    EXPECT_EQ(std::count(data, data + data_size, want), static_cast<std::ptrdiff_t>(data_size)) << i;
  }
  pool->release(buffers.data(), count);
  EXPECT_EQ(pool->available(), count);
}

TEST(BufferPool, FreshPoolHandsBuffersOutInAddressOrder) {
  auto pool = make_pool(8, 64);
  packet_buffer* previous = pool->acquire();
  ASSERT_NE(previous, nullptr);
  for (int i = 1; i < 8; ++i) {
    packet_buffer* const next = pool->acquire();
    ASSERT_NE(next, nullptr);
    EXPECT_TRUE(before(previous, next)) << i;
    previous = next;
  }
}

TEST(BufferPool, AcquireUntilEmptyThenNull) {
  constexpr std::uint32_t count = 5;
  auto pool = make_pool(count, 64);
  std::vector<packet_buffer*> taken;
  for (std::uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(pool->available(), count - i);
    packet_buffer* const buffer = pool->acquire();
    ASSERT_NE(buffer, nullptr) << i;
    taken.push_back(buffer);
  }
  EXPECT_EQ(pool->available(), 0u);
  EXPECT_EQ(pool->acquire(), nullptr);
  EXPECT_EQ(pool->acquire(), nullptr);
  packet_buffer* out[2] = {};
  EXPECT_EQ(pool->acquire(out, 2), 0u);

  pool->release(taken.back());
  EXPECT_EQ(pool->available(), 1u);
  EXPECT_EQ(pool->acquire(), taken.back());
  EXPECT_EQ(pool->acquire(), nullptr);
}

TEST(BufferPool, ReleaseThenAcquireIsLastInFirstOut) {
  auto pool = make_pool(8, 64);
  packet_buffer* const a = pool->acquire();
  packet_buffer* const b = pool->acquire();
  packet_buffer* const c = pool->acquire();
  ASSERT_TRUE(a != nullptr && b != nullptr && c != nullptr);

  pool->release(b);
  pool->release(a);
  pool->release(c);
  EXPECT_EQ(pool->acquire(), c);
  EXPECT_EQ(pool->acquire(), a);
  EXPECT_EQ(pool->acquire(), b);
}

TEST(BufferPool, AcquireClearsLengthAndFlags) {
  auto pool = make_pool(2, 64);
  packet_buffer* const buffer = pool->acquire();
  ASSERT_NE(buffer, nullptr);
  buffer->length = 1500;
  buffer->flags = packet_flag::truncated;
  pool->release(buffer);
  packet_buffer* const again = pool->acquire();
  ASSERT_EQ(again, buffer);
  EXPECT_EQ(again->length, 0u);
  EXPECT_EQ(again->flags, 0u);
}

TEST(BufferPool, OwnsOnlyItsOwnBufferStarts) {
  auto pool = make_pool(4, 128);
  auto other = make_pool(4, 128);
  packet_buffer* const first = pool->acquire();
  packet_buffer* const second = pool->acquire();
  packet_buffer* const foreign = other->acquire();
  ASSERT_TRUE(first != nullptr && second != nullptr && foreign != nullptr);

  EXPECT_TRUE(pool->owns(first));
  EXPECT_TRUE(pool->owns(second));
  EXPECT_FALSE(pool->owns(foreign));
  EXPECT_FALSE(other->owns(first));
  EXPECT_FALSE(pool->owns(nullptr));

  // Inside the pool's buffer area but not at the start of a buffer.
  const auto* inside = static_cast<const packet_buffer*>(static_cast<const void*>(first->data()));
  EXPECT_FALSE(pool->owns(inside));
  // Just past the last buffer: acquire the rest and step one stride past the highest.
  std::vector<packet_buffer*> all = {first, second};
  while (packet_buffer* more = pool->acquire()) all.push_back(more);
  ASSERT_EQ(all.size(), 4u);
  std::sort(all.begin(), all.end(), before);
  const auto stride = reinterpret_cast<std::byte*>(all[1]) - reinterpret_cast<std::byte*>(all[0]);
  const auto* past_end = static_cast<const packet_buffer*>(static_cast<const void*>(reinterpret_cast<std::byte*>(all[3]) + stride));
  EXPECT_FALSE(pool->owns(past_end));
  const auto* before_start = static_cast<const packet_buffer*>(static_cast<const void*>(reinterpret_cast<std::byte*>(all[0]) - stride));
  EXPECT_FALSE(pool->owns(before_start));
}

TEST(BufferPool, BulkAcquireTakesWhatIsThereAndBulkReleaseReturnsIt) {
  constexpr std::uint32_t count = 40;
  auto pool = make_pool(count, 64);
  packet_buffer* first[32] = {};
  ASSERT_EQ(pool->acquire(first, 32), 32u);
  EXPECT_EQ(pool->available(), count - 32);

  packet_buffer* rest[32] = {};
  ASSERT_EQ(pool->acquire(rest, 32), count - 32);  // only 8 left
  EXPECT_EQ(pool->available(), 0u);

  std::vector<packet_buffer*> all(first, first + 32);
  all.insert(all.end(), rest, rest + (count - 32));
  std::sort(all.begin(), all.end(), before);
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a buffer was handed out twice";

  pool->release(rest, count - 32);
  EXPECT_EQ(pool->available(), count - 32);
  pool->release(first, 32);
  EXPECT_EQ(pool->available(), count);

  // Bulk release is a sequence of single releases: the last one released comes back first.
  EXPECT_EQ(pool->acquire(), first[31]);
  packet_buffer* again[2] = {};
  ASSERT_EQ(pool->acquire(again, 2), 2u);
  EXPECT_EQ(again[0], first[30]);
  EXPECT_EQ(again[1], first[29]);
}

TEST(BufferPool, ReleasingMoreThanWasTakenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto pool = make_pool(4, 64);
  packet_buffer* const buffer = pool->acquire();
  ASSERT_NE(buffer, nullptr);
  pool->release(buffer);
  EXPECT_DEATH(pool->release(buffer), "");
  // The pool is untouched by the child's attempt.
  EXPECT_EQ(pool->available(), 4u);
}

TEST(BufferPool, ReleasingAForeignBufferAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto pool = make_pool(4, 64);
  auto other = make_pool(4, 64);
  packet_buffer* const mine = pool->acquire();
  packet_buffer* const theirs = other->acquire();
  ASSERT_TRUE(mine != nullptr && theirs != nullptr);

  EXPECT_DEATH(pool->release(theirs), "");
  packet_buffer on_stack;
  EXPECT_DEATH(pool->release(&on_stack), "");
  EXPECT_DEATH(pool->release(static_cast<packet_buffer*>(static_cast<void*>(mine->data()))), "");
  EXPECT_DEATH(pool->release(nullptr), "");
  EXPECT_EQ(pool->available(), 3u);
}

// Caught by the buffer's in-use bit, not by the count: other buffers are still out, so the pool is not full.
TEST(BufferPool, ReleasingTheSameBufferTwiceWhileOthersAreOutAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto pool = make_pool(4, 64);
  packet_buffer* const a = pool->acquire();
  packet_buffer* const b = pool->acquire();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  pool->release(a);
  EXPECT_DEATH(pool->release(a), "");
}

}  // namespace
}  // namespace ferry::dp

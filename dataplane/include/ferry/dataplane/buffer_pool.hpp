#pragma once
// Fixed-size packet buffers, all carved at start-up from one region; taking and returning one is a few
// instructions on a LIFO stack of indices (most recently freed first, so likely still in cache).
//
// One owner: acquire() and release() are called by the stage that owns the pool. Buffers that travel to other
// stages come back to the owner over a ring before they are released.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ferry/dataplane/endpoint.hpp"
#include "ferry/platform/cpu.hpp"

namespace ferry::dp {

// A buffer's metadata, one cache line, followed in memory by its data area.
struct alignas(platform::cache_line) packet_buffer {
  std::uint32_t length = 0;    // bytes of data
  std::uint32_t flags = 0;     // packet_flag bits
  std::uint64_t rx_ticks = 0;  // platform::cycle_ticks() when the datagram was received
  endpoint peer;               // who sent it
  // Staged pipelines: messages of this datagram still in flight between stages. The io stage sets it before
  // handing them on; whoever brings it to 0 gives the buffer back to the io stage that owns its pool.
  std::atomic<std::uint32_t> references{0};

  std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
  const std::byte* data() const noexcept { return reinterpret_cast<const std::byte*>(this + 1); }
};

namespace packet_flag {
inline constexpr std::uint32_t truncated = 1u << 0;  // the datagram was larger than the buffer: data is incomplete
}

class buffer_pool {
 public:
  static constexpr std::uint32_t max_count = 1u << 24;
  static constexpr std::uint32_t min_data_size = 64;
  static constexpr std::uint32_t max_data_size = 1u << 16;

  static constexpr std::size_t align() noexcept { return platform::cache_line; }

  // Bytes for `count` buffers of `data_size` bytes each. count: 1 to max_count; data_size: min_data_size to
  // max_data_size (rounded up to the cache line). Anything else gives 0.
  static std::size_t footprint(std::uint32_t count, std::uint32_t data_size) noexcept;

  // Places a full pool in `memory` (footprint() bytes aligned to align()); nullptr when the arguments are refused.
  static buffer_pool* construct(void* memory, std::uint32_t count, std::uint32_t data_size) noexcept;

  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;

  // A free buffer with length and flags cleared, or nullptr when all are in use.
  packet_buffer* acquire() noexcept;
  // Up to n free buffers into out; returns how many.
  std::uint32_t acquire(packet_buffer** out, std::uint32_t n) noexcept;

  // Returns buffers taken from this pool. Returning a foreign buffer, or one that is not out, is a bug and aborts:
  // each buffer's state is one bit, checked here.
  void release(packet_buffer* buffer) noexcept;
  void release(packet_buffer* const* buffers, std::uint32_t n) noexcept;

  std::uint32_t available() const noexcept { return _free_count; }
  std::uint32_t count() const noexcept { return _count; }
  std::uint32_t data_size() const noexcept { return _data_size; }
  bool owns(const packet_buffer* buffer) const noexcept;

 private:
  buffer_pool(std::uint32_t count, std::uint32_t data_size) noexcept;

  static std::size_t stride(std::uint32_t data_size) noexcept;
  std::uint32_t* free_stack() noexcept;
  std::uint64_t* in_use_bits() noexcept;
  std::byte* buffers() const noexcept;

  std::uint32_t _count;
  std::uint32_t _data_size;
  std::uint32_t _free_count;
  std::size_t _stride;
  std::size_t _in_use_offset;
  std::size_t _buffers_offset;
};

}  // namespace ferry::dp

#include "ferry/dataplane/buffer_pool.hpp"

#include <cstdlib>
#include <limits>
#include <new>

namespace ferry::dp {

// Layout, each part starting on a cache line: this object | free stack (count indices) | in-use bitmap (count bits)
// | count buffers of stride bytes.

namespace {

std::size_t round_up(std::size_t bytes, std::size_t unit) noexcept { return (bytes + unit - 1) / unit * unit; }

std::size_t header_bytes() noexcept { return round_up(sizeof(buffer_pool), platform::cache_line); }

std::size_t stack_bytes(std::uint32_t count) noexcept {
  return round_up(std::size_t{count} * sizeof(std::uint32_t), platform::cache_line);
}

std::size_t in_use_bytes(std::uint32_t count) noexcept {
  return round_up((std::size_t{count} + 63) / 64 * sizeof(std::uint64_t), platform::cache_line);
}

// Through void*: every part starts on a cache line, which -Wcast-align cannot know.
template <class T>
T* part(const void* base, std::size_t offset) noexcept {
  return static_cast<T*>(static_cast<void*>(const_cast<std::byte*>(static_cast<const std::byte*>(base)) + offset));
}

}  // namespace

std::size_t buffer_pool::stride(std::uint32_t data_size) noexcept {
  return sizeof(packet_buffer) + round_up(data_size, platform::cache_line);
}

std::size_t buffer_pool::footprint(std::uint32_t count, std::uint32_t data_size) noexcept {
  if (count == 0 || count > max_count || data_size < min_data_size || data_size > max_data_size) return 0;
  const std::uint64_t bytes = std::uint64_t{header_bytes()} + stack_bytes(count) + in_use_bytes(count) +
                              std::uint64_t{count} * stride(data_size);
  if (bytes > std::numeric_limits<std::size_t>::max() / 2) return 0;  // more than this target can address
  return static_cast<std::size_t>(bytes);
}

buffer_pool* buffer_pool::construct(void* memory, std::uint32_t count, std::uint32_t data_size) noexcept {
  if (memory == nullptr || footprint(count, data_size) == 0) return nullptr;
  if (reinterpret_cast<std::uintptr_t>(memory) % align() != 0) return nullptr;
  return new (memory) buffer_pool(count, data_size);
}

buffer_pool::buffer_pool(std::uint32_t count, std::uint32_t data_size) noexcept
    : _count(count), _data_size(static_cast<std::uint32_t>(round_up(data_size, platform::cache_line))),
      _free_count(count), _stride(stride(data_size)), _in_use_offset(header_bytes() + stack_bytes(count)),
      _buffers_offset(_in_use_offset + in_use_bytes(count)) {
  std::uint32_t* stack = free_stack();
  // Lowest index on top, so that a fresh pool hands buffers out in address order.
  for (std::uint32_t i = 0; i < count; ++i) stack[i] = count - 1 - i;
  std::uint64_t* in_use = in_use_bits();
  for (std::size_t w = 0; w < (std::size_t{count} + 63) / 64; ++w) in_use[w] = 0;
  for (std::uint32_t i = 0; i < count; ++i) new (buffers() + i * _stride) packet_buffer();
}

std::uint32_t* buffer_pool::free_stack() noexcept { return part<std::uint32_t>(this, header_bytes()); }

std::uint64_t* buffer_pool::in_use_bits() noexcept { return part<std::uint64_t>(this, _in_use_offset); }

std::byte* buffer_pool::buffers() const noexcept { return part<std::byte>(this, _buffers_offset); }

bool buffer_pool::owns(const packet_buffer* buffer) const noexcept {
  const auto* at = reinterpret_cast<const std::byte*>(buffer);
  if (at < buffers() || at >= buffers() + std::size_t{_count} * _stride) return false;
  return static_cast<std::size_t>(at - buffers()) % _stride == 0;
}

packet_buffer* buffer_pool::acquire() noexcept {
  if (_free_count == 0) return nullptr;
  const std::uint32_t index = free_stack()[--_free_count];
  in_use_bits()[index / 64] |= std::uint64_t{1} << (index % 64);
  auto* buffer = part<packet_buffer>(buffers(), index * _stride);
  buffer->length = 0;
  buffer->flags = 0;
  return buffer;
}

std::uint32_t buffer_pool::acquire(packet_buffer** out, std::uint32_t n) noexcept {
  std::uint32_t got = 0;
  while (got < n && _free_count > 0) out[got++] = acquire();
  return got;
}

void buffer_pool::release(packet_buffer* buffer) noexcept {
  if (!owns(buffer)) std::abort();  // not one of ours
  const auto index = static_cast<std::uint32_t>(
      static_cast<std::size_t>(reinterpret_cast<std::byte*>(buffer) - buffers()) / _stride);
  std::uint64_t& word = in_use_bits()[index / 64];
  const std::uint64_t bit = std::uint64_t{1} << (index % 64);
  if ((word & bit) == 0) std::abort();  // released twice
  word &= ~bit;
  free_stack()[_free_count++] = index;
}

void buffer_pool::release(packet_buffer* const* taken, std::uint32_t n) noexcept {
  for (std::uint32_t i = 0; i < n; ++i) release(taken[i]);
}

}  // namespace ferry::dp

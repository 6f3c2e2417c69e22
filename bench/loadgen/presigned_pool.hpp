#pragma once
// Every unit a run will send, written and signed before the run starts, so that signing (tens of microseconds a
// message) never limits the sending rate. One contiguous arena holds the bytes; one 16-byte entry per unit says
// where its bytes are and what it is. Units stay unique messages (ferry drops a byte-identical repeat of a message
// it verified), so the pool covers the run one to one: a run of n units needs a pool of n.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ferry/platform/result.hpp"
#include "traffic.hpp"

namespace ferry::loadgen {

class presigned_pool {
 public:
  // The bounds on a pool, so that a mistyped --rate or --duration fails at once instead of exhausting memory or
  // signing for an hour (2 Mi units take about a minute on one core, and about 600 MiB with the default payload).
  static constexpr std::uint64_t max_units = std::uint64_t{2} << 20;
  static constexpr std::uint64_t max_bytes = std::uint64_t{1} << 30;

  struct entry {
    std::uint64_t offset;  // of the unit's bytes in the arena
    std::uint32_t size;
    std::uint8_t kind;     // the frame's message kind of a message; 0 for a whole datagram (own_datagram)
    category what;
    bool own_datagram;     // the bytes are a whole datagram (a malformed unit that breaks the frame itself)
  };
  static_assert(sizeof(entry) == 16);

  // Writes units [0, count) of `stream` stamped with `run`, on `threads` threads (at least 1), each signing a
  // contiguous share. A duplicate unit's entry points at the bytes of the unit it repeats. `frame_flags`
  // (dp::frame_flag) go into the header of every whole datagram. Fails, saying what to change, when count is 0 or
  // over max_units, or the bytes would be over max_bytes.
  static platform::result<presigned_pool> build(const traffic& stream, std::uint32_t run, std::uint64_t count,
                                                std::uint8_t frame_flags, unsigned threads);

  std::uint64_t size() const noexcept { return _entries.size(); }
  const entry& operator[](std::uint64_t sequence) const noexcept {
    return _entries[static_cast<std::size_t>(sequence)];  // a pool's size fits a size_t: build() bounds it
  }
  std::span<const std::byte> bytes(const entry& e) const noexcept {
    return {_arena.get() + static_cast<std::size_t>(e.offset), e.size};
  }
  std::uint64_t arena_bytes() const noexcept { return _arena_bytes; }
  std::uint32_t largest_unit() const noexcept { return _largest_unit; }

 private:
  presigned_pool(std::vector<entry> entries, std::unique_ptr<std::byte[]> arena, std::uint64_t arena_bytes,
                 std::uint32_t largest_unit)
      : _entries(std::move(entries)), _arena(std::move(arena)), _arena_bytes(arena_bytes),
        _largest_unit(largest_unit) {}

  std::vector<entry> _entries;
  std::unique_ptr<std::byte[]> _arena;
  std::uint64_t _arena_bytes;
  std::uint32_t _largest_unit;
};

}  // namespace ferry::loadgen

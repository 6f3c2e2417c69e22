#include "presigned_pool.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>

namespace ferry::loadgen {

namespace {

// Room for the largest unit before it is copied to the arena: a message with the largest payload and its proof,
// or a broken datagram around one.
constexpr std::size_t scratch_size = max_payload + 4096;

// The bytes of a unit that is not a duplicate; `kind` gets the kind to frame a message as (0 for a datagram).
std::size_t write_unit(const traffic& stream, const unit& u, const stamp& s, std::uint8_t frame_flags,
                       std::span<std::byte> out, std::uint8_t& kind) {
  kind = static_cast<std::uint8_t>(u.where.kind);
  switch (u.what) {
    case category::malformed:
      if (!u.own_datagram) return stream.write_malformed_message(u, s, out, kind);
      kind = 0;
      return stream.write_broken_datagram(u, s, out, frame_flags);
    case category::forged: return stream.write_forged_message(u.where, s, out);
    case category::valid:
    case category::unroutable: return stream.write_message(u.where, s, out);
    case category::duplicate: break;
  }
  std::abort();  // duplicates are never written: their entries point at their originals
}

// Units of one shape (category and kind, or breakage) have one size whatever their stamp and flow: every field the
// loadgen varies is fixed-width. The pool is laid out from these sizes before anything is signed.
struct shape {
  std::uint32_t size = 0;
  std::uint8_t kind = 0;
};

std::size_t shape_index(const unit& u) noexcept {
  const std::size_t within = u.what == category::malformed ? u.malformation : static_cast<std::size_t>(u.where.kind);
  return static_cast<std::size_t>(u.what) * 8 + within;
}

std::string mib(std::uint64_t bytes) {
  return std::to_string((bytes + (std::uint64_t{1} << 20) - 1) >> 20) + " MiB";
}

}  // namespace

platform::result<presigned_pool> presigned_pool::build(const traffic& stream, std::uint32_t run, std::uint64_t count,
                                                       std::uint8_t frame_flags, unsigned threads) {
  if (count == 0) return platform::error("a run of 0 messages: give --count, or a --rate and --duration above 0");
  if (count > max_units) {
    return platform::error("the run needs " + std::to_string(count) + " messages, more than the " +
                           std::to_string(max_units) +
                           " a run signs in advance: give a smaller --count");
  }

  // Lay out: every unit's size and offset, and the arena's total, from one sample of each shape.
  // Both bounds fit a 32-bit size_t, so the casts below cut nothing.
  static_assert(max_units <= SIZE_MAX / sizeof(entry) && max_bytes <= SIZE_MAX);
  const auto at = [](std::uint64_t sequence) { return static_cast<std::size_t>(sequence); };
  std::vector<entry> entries(at(count));
  std::vector<shape> shapes(category_count * 8);
  std::vector<std::byte> scratch(scratch_size);
  std::uint64_t offset = 0;
  std::uint32_t largest = 0;
  std::vector<std::uint64_t> numbers(at(count));  // each unit's number in its channel
  std::map<std::uint64_t, std::uint64_t> next_number;
  for (std::uint64_t sequence = 0; sequence < count; ++sequence) {
    const unit u = stream.describe(sequence);
    if (u.what != category::duplicate && u.what != category::malformed) {
      numbers[at(sequence)] = next_number[channel_of(u.where)]++;
    }
    if (u.what == category::duplicate) {
      entries[at(sequence)] = entries[at(u.original)];
      entries[at(sequence)].what = category::duplicate;
      continue;
    }
    shape& s = shapes[shape_index(u)];
    if (s.size == 0) {
      const std::size_t size =
          write_unit(stream, u, {run, sequence, numbers[at(sequence)]}, frame_flags, scratch, s.kind);
      if (size == 0) {
        return platform::error(std::string("cannot write a ") + to_string(u.what) +
                               " message: is --payload too large for one datagram?");
      }
      s.size = static_cast<std::uint32_t>(size);
      largest = std::max(largest, s.size);
    }
    entries[at(sequence)] = {offset, s.size, s.kind, u.what, u.own_datagram};
    offset += s.size;
    if (offset > max_bytes) {
      return platform::error("the run's " + std::to_string(count) + " messages need more than the " +
                             mib(max_bytes) + " a run signs in advance: lower --payload, or give a smaller --count");
    }
  }

  // Sign: each thread a contiguous share, straight into its part of the arena (so that no page is shared).
  auto arena = std::make_unique_for_overwrite<std::byte[]>(at(std::max<std::uint64_t>(offset, 1)));
  const auto sign_share = [&](std::uint64_t first, std::uint64_t end) {
    std::vector<std::byte> own(scratch_size);
    for (std::uint64_t sequence = first; sequence < end; ++sequence) {
      const entry& e = entries[at(sequence)];
      if (e.what == category::duplicate) continue;
      std::uint8_t kind = 0;
      const std::size_t size =
          write_unit(stream, stream.describe(sequence), {run, sequence, numbers[at(sequence)]}, frame_flags, own, kind);
      if (size != e.size || kind != e.kind) {
        std::fprintf(stderr, "ferry-loadgen: unit %llu is %zu bytes of kind %u, not %u of kind %u like others of its "
                     "shape\n", static_cast<unsigned long long>(sequence), size, kind, e.size, e.kind);
        std::abort();
      }
      std::memcpy(arena.get() + at(e.offset), own.data(), size);
    }
  };
  threads = static_cast<unsigned>(std::clamp<std::uint64_t>(threads, 1, count));
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) {
    workers.emplace_back(sign_share, count * t / threads, count * (t + 1) / threads);
  }
  sign_share(0, count / threads);
  for (std::thread& w : workers) w.join();
  return presigned_pool(std::move(entries), std::move(arena), offset, largest);
}

}  // namespace ferry::loadgen

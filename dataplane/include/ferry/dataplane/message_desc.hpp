#pragma once
// What travels between the stages of a staged pipeline: a descriptor of one message inside a received datagram,
// never the message's bytes. The datagram's buffer stays in its io stage's pool until every message of it is done.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"

namespace ferry::dp {

namespace desc_flag {
inline constexpr std::uint8_t trusted = 1u << 0;  // verified upstream by a trusted router: no crypto here
inline constexpr std::uint8_t dropped = 1u << 1;  // dropped by its verify stage (reason in `drop`), counted there;
                                                  // travels on only so that its route stage releases the buffer
}  // namespace desc_flag

struct message_desc {
  packet_buffer* buffer;     // the datagram it sits in
  std::uint32_t offset;      // of its message header in buffer->data()
  std::uint32_t length;      // message header and body
  std::uint32_t source;      // addressing read by the io stage (verify::addressing), for the route stage
  std::uint32_t destination;
  std::uint8_t kind;         // verify::message_kind
  std::uint8_t owner;        // index of the io stage whose pool holds the buffer
  std::uint8_t flags;        // desc_flag bits
  drop_reason drop;          // when flags has dropped

  std::span<const std::byte> encoded() const noexcept { return {buffer->data() + offset, length}; }
};

static_assert(sizeof(message_desc) == 32, "two descriptors a cache line");

// Which of `shards` verify stages takes a message: a hash of its bytes, so that every copy of a message meets the
// same stage and so the same verified-digest cache. Not collision-resistant, and need not be: it only spreads load
// (the cache keys on Keccak-256). About 0.1 ns a byte: 8-byte words folded by multiply and rotate.
inline std::uint32_t shard_of(std::span<const std::byte> bytes, std::uint32_t shards) noexcept {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = bytes.size() * k;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = ((h ^ word) * k);
    h = (h << 29) | (h >> 35);
  }
  std::uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  h = (h ^ tail) * k;
  h ^= h >> 32;
  // Lemire's multiply-shift: a fair map onto [0, shards) without a division.
  return static_cast<std::uint32_t>(((h & 0xffffffffull) * shards) >> 32);
}

}  // namespace ferry::dp

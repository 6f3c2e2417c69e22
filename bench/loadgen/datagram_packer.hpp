#pragma once
// Packs a pool's units, in sequence order, into the datagrams a run sends: messages into ferry frames of at most
// messages_per_frame messages and frame_bytes bytes, and each whole broken datagram alone. The sender sends what it
// packs; the pcap writer writes the same datagrams to a file.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ferry/dataplane/link_auth.hpp"
#include "presigned_pool.hpp"
#include "traffic.hpp"

namespace ferry::loadgen {

struct packed_datagram {
  std::size_t offset;  // of its bytes in the packer's space
  std::size_t size;
  std::uint32_t units[category_count];  // how many units of each category it carries
};

struct packing {
  std::uint32_t messages_per_frame = 8;  // at least 1
  std::size_t frame_bytes = 1472;        // a frame grows past it only for a message that fits no smaller frame
  std::uint32_t batch = 32;              // datagrams per pack(), 1 to max_batch
  std::uint8_t frame_flags = 0;          // dp::frame_flag bits set in every frame's header
  std::optional<dp::link_key> link_key;  // authenticate every frame with it (a tag after its messages)
};

class datagram_packer {
 public:
  static constexpr std::uint32_t max_batch = 64;

  // Takes its space (batch datagrams of the largest size the pool can need) here, none later. `pool` must outlive
  // the packer.
  datagram_packer(const presigned_pool& pool, const packing& options);

  // Packs units [first, due) (due <= pool.size()) into at most `batch` datagrams, replacing the last pack's, and
  // returns the sequence after the last unit packed. The units of the datagrams are [first, returned), in order.
  // Copies bytes; allocates nothing.
  std::uint64_t pack(std::uint64_t first, std::uint64_t due) noexcept;

  std::span<const packed_datagram> datagrams() const noexcept { return {_datagrams.data(), _count}; }
  std::span<const std::byte> bytes(const packed_datagram& d) const noexcept {
    return {_space.data() + d.offset, d.size};
  }

 private:
  const presigned_pool& _pool;
  packing _options;
  std::vector<std::byte> _space;
  std::vector<packed_datagram> _datagrams;  // batch entries, the first _count of them this pack's
  std::size_t _count = 0;
};

}  // namespace ferry::loadgen

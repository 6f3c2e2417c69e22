#pragma once
// Outgoing frames of one burst, grouped by next hop and sent with one sendmmsg. Messages are not copied: each
// frame is a gather list of a fresh 16-byte header and the messages as they sit in the receive buffers, which must
// stay untouched until flush() returns.

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/io_port.hpp"

namespace ferry::dp {

class tx_batch {
 public:
  static constexpr std::uint32_t max_frames = 64;
  static constexpr std::uint32_t max_parts = 64;  // per frame: the header and up to 63 messages

  // max_frame_bytes: the largest frame to build (1472 keeps a frame in one Ethernet packet over IPv4); a single
  // message bigger than that still goes, alone in its frame. hops: the next hops, indexed as in the route table;
  // must outlive the batch. Allocates here, never afterwards.
  tx_batch(std::size_t max_frame_bytes, std::span<const endpoint> hops);

  // Adds an encoded message (header and body) for `hop`. False when the batch has no room: flush() and add again.
  bool add(std::uint32_t hop, std::span<const std::byte> encoded) noexcept;

  // Sends every frame and empties the batch. Counts each message as forwarded, or dropped as tx_error when the
  // backend refused its frame, and each frame sent in tx_datagrams/tx_bytes.
  void flush(tx_port& port, counter_values& tally) noexcept;

  bool empty() const noexcept { return _frames == 0; }

 private:
  static constexpr std::uint32_t none = 0xffffffffu;

  struct frame {
    std::uint32_t hop;
    std::uint32_t parts;
    std::uint32_t bytes;
  };

  std::uint32_t open_frame(std::uint32_t hop) noexcept;

  std::size_t _max_frame_bytes;
  std::span<const endpoint> _hops;
  std::vector<std::uint32_t> _open;        // per hop: the frame being filled, or none
  std::vector<std::uint64_t> _sequence;    // per hop: the next frame sequence number
  std::uint32_t _frames = 0;
  frame _frame[max_frames];
  std::byte _headers[max_frames][frame_header_size];
  iovec _iov[max_frames][max_parts];
  mmsghdr _messages[max_frames];
};

}  // namespace ferry::dp

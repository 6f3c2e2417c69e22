#pragma once
// Outgoing frames of one burst, grouped by next hop and sent with one sendmmsg per kind of hop: UDP hops through
// the backend's tx port, local sinks through a Unix datagram socket of the batch's own. Messages are not copied:
// each frame is a gather list of a fresh 16-byte header and the messages as they sit in the receive buffers, which
// must stay untouched until flush() returns. A frame to a peer with link keys gets a tag (link_auth.hpp) after its
// last message; when the key encrypts, the frame's messages are the one thing copied: encrypted into the batch's own
// memory, after a nonce of the batch's (96 random bits at start, counted up a frame).

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/policy.hpp"

namespace ferry::dp {

class tx_batch {
 public:
  static constexpr std::uint32_t max_frames = 64;
  static constexpr std::uint32_t max_parts = 64;   // per frame: the header and up to 63 messages
  static constexpr std::uint32_t max_hops = 4096;  // next hops a policy may name

  // max_frame_bytes: the largest frame to build, its tag included (1472 keeps a frame in one Ethernet packet over
  // IPv4); a single message bigger than that still goes, alone in its frame. Opens the socket for local sinks.
  // Allocates here, never afterwards.
  explicit tx_batch(std::size_t max_frame_bytes);
  tx_batch(const tx_batch&) = delete;
  tx_batch& operator=(const tx_batch&) = delete;
  ~tx_batch();

  // The next hops that add() indexes, until the next flush(): the current policy's. Must be called on an empty
  // batch; `hops` (at most max_hops) must stay valid until flush() returns.
  void use(std::span<const next_hop> hops) noexcept { _hops = hops; }

  // Adds an encoded message (header and body) for `hop`. `copy`: an extra copy of a message that also goes to
  // another hop (a replicating route), counted in copies rather than forwarded. False when the batch has no room:
  // flush() and add again.
  bool add(std::uint32_t hop, std::span<const std::byte> encoded, bool copy = false) noexcept;

  // Tags the frames to hops with link keys, sends every frame and empties the batch. Counts each message as
  // forwarded (a copy: in copies), or dropped as tx_error (a copy: copy_errors) when its frame was refused, and each
  // frame sent in tx_datagrams/tx_bytes.
  void flush(tx_port& port, counter_values& tally) noexcept;

  bool empty() const noexcept { return _frames == 0; }

 private:
  static constexpr std::uint32_t none = 0xffffffffu;

  struct frame {
    std::uint32_t hop;
    std::uint32_t parts;
    std::uint32_t bytes;
    std::uint32_t copies;  // of its messages, how many are extra copies
  };

  std::uint32_t open_frame(std::uint32_t hop) noexcept;
  verify::chacha20_poly1305_key::nonce next_nonce() noexcept;
  // Counts frames [from, to) of the list `order` as sent.
  void sent(const std::uint32_t* order, std::uint32_t from, std::uint32_t to, counter_values& tally) noexcept;
  void refused(std::uint32_t f, counter_values& tally) noexcept;
  std::uint32_t send_sinks(mmsghdr* messages, std::uint32_t n) noexcept;

  std::size_t _max_frame_bytes;
  std::span<const next_hop> _hops;
  int _sink_socket = -1;
  std::vector<std::uint32_t> _open;      // per hop: the frame being filled, or none
  std::vector<std::uint64_t> _sequence;  // per hop index: the next frame sequence number
  std::uint32_t _frames = 0;
  frame _frame[max_frames];
  std::byte _headers[max_frames][frame_header_size];
  std::array<std::array<std::byte, link_tag_size>, max_frames> _tags;
  // Encrypted frames: each one's messages in a slot of _sealed (large enough for the largest frame; only the pages
  // frames reach are ever touched), after its nonce.
  std::size_t _sealed_slot;
  std::unique_ptr<std::byte[]> _sealed;
  verify::chacha20_poly1305_key::nonce _next_nonce;
  std::array<verify::chacha20_poly1305_key::nonce, max_frames> _nonces;
  iovec _iov[max_frames][max_parts + 1];  // the header, the messages, and the tag when there is one
  mmsghdr _messages[max_frames];  // UDP frames first, then sink frames, as flush() orders them
  std::uint32_t _order[max_frames];
};

}  // namespace ferry::dp

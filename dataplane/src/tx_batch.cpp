#include "ferry/dataplane/tx_batch.hpp"

#include <cerrno>

namespace ferry::dp {

tx_batch::tx_batch(std::size_t max_frame_bytes, std::span<const endpoint> hops)
    : _max_frame_bytes(max_frame_bytes), _hops(hops), _open(hops.size(), none), _sequence(hops.size(), 0) {}

std::uint32_t tx_batch::open_frame(std::uint32_t hop) noexcept {
  if (_frames == max_frames) return none;
  const std::uint32_t f = _frames++;
  _frame[f] = {hop, 1, static_cast<std::uint32_t>(frame_header_size)};
  _iov[f][0] = {_headers[f], frame_header_size};
  _open[hop] = f;
  return f;
}

bool tx_batch::add(std::uint32_t hop, std::span<const std::byte> encoded) noexcept {
  std::uint32_t f = _open[hop];
  if (f != none) {
    const frame& open = _frame[f];
    if (open.parts == max_parts || open.bytes + encoded.size() > _max_frame_bytes) f = none;
  }
  if (f == none) {
    f = open_frame(hop);
    if (f == none) return false;
  }
  frame& fr = _frame[f];
  _iov[f][fr.parts++] = {const_cast<std::byte*>(encoded.data()), encoded.size()};
  fr.bytes += static_cast<std::uint32_t>(encoded.size());
  return true;
}

void tx_batch::flush(tx_port& port, counter_values& tally) noexcept {
  if (_frames == 0) return;
  for (std::uint32_t f = 0; f < _frames; ++f) {
    const frame& fr = _frame[f];
    frame_header header;
    header.message_count = static_cast<std::uint16_t>(fr.parts - 1);
    header.sequence = _sequence[fr.hop]++;
    encode_frame_header(header, std::span<std::byte, frame_header_size>(_headers[f], frame_header_size));
    msghdr& h = _messages[f].msg_hdr;
    h = {};
    h.msg_name = const_cast<sockaddr*>(_hops[fr.hop].address());
    h.msg_namelen = _hops[fr.hop].length();
    h.msg_iov = _iov[f];
    h.msg_iovlen = fr.parts;
  }
  std::uint32_t done = 0;
  while (done < _frames) {
    const std::uint32_t sent = port.send(_messages + done, _frames - done);
    for (std::uint32_t f = done; f < done + sent; ++f) {
      tally.forwarded += _frame[f].parts - 1;
      tally.tx_datagrams += 1;
      tally.tx_bytes += _frame[f].bytes;
    }
    done += sent;
    if (done < _frames) {  // this frame was refused: its messages are lost, counted, and the rest still go
      tally.drop(drop_reason::tx_error, _frame[done].parts - 1);
      ++done;
    }
  }
  for (std::uint32_t f = 0; f < _frames; ++f) _open[_frame[f].hop] = none;
  _frames = 0;
}

}  // namespace ferry::dp

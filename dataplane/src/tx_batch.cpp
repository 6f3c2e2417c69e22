#include "ferry/dataplane/tx_batch.hpp"

#include <sodium/randombytes.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace ferry::dp {

tx_batch::tx_batch(std::size_t max_frame_bytes)
    : _max_frame_bytes(max_frame_bytes),
      // Without the socket a sink's frames are refused and counted as tx_error: nothing else depends on it.
      _sink_socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
      _open(max_hops, none), _sequence(max_hops, 0),
      // A frame's messages fill at most max_frame_bytes, or one message of any size alone.
      _sealed_slot(std::max(max_frame_bytes, message_header_size + max_message_body)),
      _sealed(std::make_unique_for_overwrite<std::byte[]>(max_frames * _sealed_slot)) {
  randombytes_buf(_next_nonce.data(), _next_nonce.size());
}

tx_batch::~tx_batch() {
  if (_sink_socket >= 0) ::close(_sink_socket);
}

std::uint32_t tx_batch::open_frame(std::uint32_t hop) noexcept {
  if (_frames == max_frames) return none;
  const std::uint32_t f = _frames++;
  _frame[f] = {hop, 1, static_cast<std::uint32_t>(frame_header_size), 0};
  _iov[f][0] = {_headers[f], frame_header_size};
  _open[hop] = f;
  return f;
}

bool tx_batch::add(std::uint32_t hop, std::span<const std::byte> encoded, bool copy) noexcept {
  std::uint32_t f = _open[hop];
  if (f != none) {
    const frame& open = _frame[f];
    // room for a tag (and nonce) when the hop takes one, whether or not a key is ready to send with yet
    const std::size_t sealing = _hops[hop].keys != nullptr ? _hops[hop].keys->overhead() : 0;
    if (open.parts == max_parts || open.bytes + encoded.size() + sealing > _max_frame_bytes) f = none;
  }
  if (f == none) {
    f = open_frame(hop);
    if (f == none) return false;
  }
  frame& fr = _frame[f];
  _iov[f][fr.parts++] = {const_cast<std::byte*>(encoded.data()), encoded.size()};
  fr.bytes += static_cast<std::uint32_t>(encoded.size());
  fr.copies += copy ? 1 : 0;
  return true;
}

void tx_batch::sent(const std::uint32_t* order, std::uint32_t from, std::uint32_t to,
                    counter_values& tally) noexcept {
  for (std::uint32_t i = from; i < to; ++i) {
    const frame& fr = _frame[order[i]];
    tally.forwarded += fr.parts - 1 - fr.copies;
    tally.copies += fr.copies;
    tally.tx_datagrams += 1;
    tally.tx_bytes += fr.bytes;
  }
}

void tx_batch::refused(std::uint32_t f, counter_values& tally) noexcept {
  const frame& fr = _frame[f];
  tally.drop(drop_reason::tx_error, fr.parts - 1 - fr.copies);
  tally.copy_errors += fr.copies;
}

std::uint32_t tx_batch::send_sinks(mmsghdr* messages, std::uint32_t n) noexcept {
  if (_sink_socket < 0) return 0;
  for (;;) {
    const int sent = ::sendmmsg(_sink_socket, messages, n, MSG_DONTWAIT);
    if (sent >= 0) return static_cast<std::uint32_t>(sent);
    if (errno != EINTR) return 0;
  }
}

verify::chacha20_poly1305_key::nonce tx_batch::next_nonce() noexcept {
  const verify::chacha20_poly1305_key::nonce now = _next_nonce;
  for (std::byte& b : _next_nonce) {  // counted up as one 96-bit little-endian number
    b = static_cast<std::byte>(std::to_integer<unsigned>(b) + 1);
    if (b != std::byte{0}) break;
  }
  return now;
}

void tx_batch::flush(tx_port& port, counter_values& tally) noexcept {
  if (_frames == 0) return;
  // UDP frames first, then sink frames: each kind goes out in one call.
  std::uint32_t udp = 0;
  for (std::uint32_t f = 0; f < _frames; ++f) {
    if (_hops[_frame[f].hop].how == next_hop::type::udp) _order[udp++] = f;
  }
  std::uint32_t n = udp;
  for (std::uint32_t f = 0; f < _frames; ++f) {
    if (_hops[_frame[f].hop].how != next_hop::type::udp) _order[n++] = f;
  }
  std::uint64_t now_s = 0;  // read once, when a frame needs a key
  for (std::uint32_t i = 0; i < _frames; ++i) {
    const std::uint32_t f = _order[i];
    frame& fr = _frame[f];
    const next_hop& hop = _hops[fr.hop];
    const link_key* key = nullptr;
    if (hop.keys != nullptr) {
      if (now_s == 0) now_s = static_cast<std::uint64_t>(std::time(nullptr));
      key = hop.keys->for_sending(now_s);
    }
    frame_header header;
    header.message_count = static_cast<std::uint16_t>(fr.parts - 1);
    header.sequence = _sequence[fr.hop]++;
    if (key != nullptr) {
      header.flags = frame_flag::authenticated | (key->encrypts() ? frame_flag::encrypted : 0);
      header.key_id = key->id;
    }
    const std::span<std::byte, frame_header_size> encoded(_headers[f], frame_header_size);
    encode_frame_header(header, encoded);
    std::uint32_t parts = fr.parts;
    if (key != nullptr && key->encrypts()) {
      std::byte* text = _sealed.get() + f * _sealed_slot;
      _nonces[f] = next_nonce();
      _tags[f] = key->encrypt(encoded, _nonces[f], std::span<const iovec>(_iov[f] + 1, parts - 1), text);
      _iov[f][1] = {_nonces[f].data(), link_nonce_size};
      _iov[f][2] = {text, fr.bytes - frame_header_size};
      _iov[f][3] = {_tags[f].data(), link_tag_size};
      parts = 4;
      fr.bytes += static_cast<std::uint32_t>(key->overhead());
    } else if (key != nullptr) {
      _tags[f] = key->tag(std::span<const iovec>(_iov[f], parts));
      _iov[f][parts++] = {_tags[f].data(), link_tag_size};
      fr.bytes += static_cast<std::uint32_t>(link_tag_size);
    }
    msghdr& h = _messages[i].msg_hdr;
    h = {};
    h.msg_name = const_cast<sockaddr*>(hop.address());
    h.msg_namelen = hop.address_length();
    h.msg_iov = _iov[f];
    h.msg_iovlen = parts;
  }
  std::uint32_t done = 0;
  while (done < udp) {
    const std::uint32_t k = port.send(_messages + done, udp - done);
    sent(_order, done, done + k, tally);
    done += k;
    if (done < udp) refused(_order[done++], tally);  // its messages are lost, counted, and the rest still go
  }
  while (done < _frames) {
    const std::uint32_t k = send_sinks(_messages + done, _frames - done);
    sent(_order, done, done + k, tally);
    done += k;
    if (done < _frames) refused(_order[done++], tally);  // no listener, or its buffer is full: never wait
  }
  for (std::uint32_t f = 0; f < _frames; ++f) _open[_frame[f].hop] = none;
  _frames = 0;
}

}  // namespace ferry::dp

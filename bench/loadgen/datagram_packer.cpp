#include "datagram_packer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "ferry/dataplane/frame.hpp"

namespace ferry::loadgen {

namespace {
// A header, a message's header and the most a link key adds (a nonce and a tag).
constexpr std::size_t frame_overhead =
    dp::frame_header_size + dp::message_header_size + dp::link_nonce_size + dp::link_tag_size;
}

datagram_packer::datagram_packer(const presigned_pool& pool, const packing& options)
    : _pool(pool), _options(options),
      _space(std::size_t{options.batch} * std::max(options.frame_bytes, pool.largest_unit() + frame_overhead)),
      _datagrams(options.batch) {}

std::uint64_t datagram_packer::pack(std::uint64_t first, std::uint64_t due) noexcept {
  _count = 0;
  std::size_t used = 0;
  std::uint64_t sequence = first;
  std::optional<dp::frame_writer> frame;
  packed_datagram open{};
  const auto close_frame = [&] {
    if (!frame || frame->message_count() == 0) return;
    open.size = frame->finish().size();
    if (_options.link_key) {
      // the writer was given the key's overhead less than the room, so the tag (and nonce) fit
      open.size = dp::seal(std::span(_space).subspan(open.offset), open.size, *_options.link_key);
    }
    used += open.size;
    _datagrams[_count++] = open;
    frame.reset();
  };
  dp::frame_header header;
  header.flags = _options.frame_flags;
  while (sequence < due && _count < _options.batch) {
    const presigned_pool::entry& e = _pool[sequence];
    const std::span<const std::byte> body = _pool.bytes(e);
    const auto what = static_cast<std::size_t>(e.what);
    if (e.own_datagram) {
      close_frame();  // it is written where the open frame would grow
      if (_count >= _options.batch) break;
      std::memcpy(_space.data() + used, body.data(), body.size());
      packed_datagram& alone = _datagrams[_count++];
      alone = packed_datagram{used, body.size(), {}};
      alone.units[what] = 1;
      used += body.size();
      ++sequence;
      continue;
    }
    if (frame && (frame->message_count() >= _options.messages_per_frame || frame->room() < body.size())) close_frame();
    if (!frame) {
      if (_count >= _options.batch) break;
      // Each datagram's room is at most the per-datagram share _space was sized for, so the batch always fits.
      const std::size_t room = std::max(_options.frame_bytes, body.size() + frame_overhead);
      frame.emplace(std::span(_space).subspan(used, room - (_options.link_key ? _options.link_key->overhead() : 0)),
                    header);
      open = packed_datagram{used, 0, {}};
    }
    frame->add(e.kind, body);
    ++open.units[what];
    ++sequence;
  }
  close_frame();
  return sequence;
}

}  // namespace ferry::loadgen

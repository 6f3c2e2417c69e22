#include "ferry/verify/channel.hpp"

#include <algorithm>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::verify {

namespace {

// Appends `part` at `at` in `c.id`; the layouts below are fixed and fit max_id_size, which the static_asserts hold.
std::size_t put(channel& c, std::size_t at, std::span<const std::byte> part) noexcept {
  std::copy(part.begin(), part.end(), c.id.begin() + static_cast<std::ptrdiff_t>(at));
  return at + part.size();
}

static_assert(2 + 32 <= channel::max_id_size);
static_assert(4 + 32 + 4 + 32 == channel::max_id_size);

}  // namespace

bool read_channel(message_kind kind, std::span<const std::byte> body, channel& out) noexcept {
  channel c;
  c.kind = kind;
  switch (kind) {
    case message_kind::wormhole: {
      wormhole::vaa_view vaa;
      if (wormhole::parse_vaa(body, vaa) != parse_status::ok) return false;
      platform::store_be16(c.id.data(), vaa.emitter_chain());
      c.size = static_cast<std::uint8_t>(put(c, 2, vaa.emitter_address()));
      c.sequence = vaa.sequence();
      break;
    }
    case message_kind::hyperlane: {
      hyperlane::envelope_view envelope;
      if (hyperlane::parse_envelope(body, envelope) != parse_status::ok) return false;
      platform::store_be32(c.id.data(), envelope.message.origin());
      c.size = 4;
      c.sequence = envelope.message.nonce();
      break;
    }
    case message_kind::layerzero: {
      layerzero::envelope_view envelope;
      if (layerzero::parse_envelope(body, envelope) != parse_status::ok) return false;
      const layerzero::packet_view& packet = envelope.packet;
      platform::store_be32(c.id.data(), packet.src_eid());
      std::size_t at = put(c, 4, packet.sender());
      platform::store_be32(c.id.data() + at, packet.dst_eid());
      at = put(c, at + 4, packet.receiver());
      c.size = static_cast<std::uint8_t>(at);
      c.sequence = packet.nonce();
      break;
    }
    case message_kind::opaque:
    case message_kind::quorum:
      return false;
    default:
      return false;  // a value no kind_from_wire() makes
  }
  out = c;
  return true;
}

}  // namespace ferry::verify

#include "ferry/verify/addressing.hpp"

#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::verify {

parse_status read_addressing(message_kind kind, std::span<const std::byte> body, addressing& out) noexcept {
  switch (kind) {
    case message_kind::wormhole: {
      wormhole::vaa_view vaa;
      const parse_status status = wormhole::parse_vaa(body, vaa);
      if (status == parse_status::ok) out = {vaa.emitter_chain(), 0, vaa.emitter_address().data()};
      return status;
    }
    case message_kind::hyperlane: {
      hyperlane::envelope_view envelope;
      const parse_status status = hyperlane::parse_envelope(body, envelope);
      if (status == parse_status::ok) out = {envelope.message.origin(), envelope.message.destination(), envelope.message.sender().data()};
      return status;
    }
    case message_kind::layerzero: {
      layerzero::envelope_view envelope;
      const parse_status status = layerzero::parse_envelope(body, envelope);
      if (status == parse_status::ok) out = {envelope.packet.src_eid(), envelope.packet.dst_eid(), envelope.packet.sender().data()};
      return status;
    }
    case message_kind::opaque: {
      opaque::envelope_view envelope;
      const parse_status status = opaque::parse_envelope(body, envelope);
      if (status == parse_status::ok) out = {envelope.source, envelope.destination, nullptr};
      return status;
    }
    case message_kind::quorum: {
      quorum::message_view message;
      const parse_status status = quorum::parse_message(body, message);
      if (status == parse_status::ok) out = {message.source(), message.destination(), nullptr};
      return status;
    }
  }
  return parse_status::truncated;  // unreachable for a message_kind made by kind_from_wire()
}

}  // namespace ferry::verify

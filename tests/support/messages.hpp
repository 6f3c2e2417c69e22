#pragma once
// Messages for data-plane tests: opaque envelopes, and messages of every verified kind signed with the demo keys
// (which testing::demo_key_sets() trusts), framed as a sender would.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::testing {

using bytes = std::vector<std::byte>;

inline bytes opaque_body(std::uint32_t source, std::uint32_t destination, std::size_t payload_size = 8) {
  bytes payload(payload_size, std::byte{0x5a});
  bytes out(verify::opaque::header_size + payload_size);
  out.resize(verify::opaque::encode_envelope(source, destination, payload, out));
  return out;
}

// Signed with the demo keys.
inline bytes vaa_body(std::uint16_t chain, std::uint64_t sequence = 42) {
  verify::wormhole::vaa_fields vaa;
  vaa.emitter_chain = chain;
  vaa.sequence = sequence;
  bytes out(verify::demo::max_overhead);
  out.resize(verify::demo::write_wormhole(vaa, out));
  return out;
}

// A VAA of any fields, signed by the devnet guardian (set 0, whatever fields.guardian_set_index says).
inline bytes vaa_of(const verify::wormhole::vaa_fields& fields) {
  bytes out(verify::demo::max_overhead + fields.payload.size());
  out.resize(verify::demo::write_wormhole(fields, out));
  return out;
}

// A guardian set upgrade VAA to `new_index` with `keys`, signed by the devnet guardian. By default from the core
// governance emitter (chain 1, address 0x00..04) for every chain (target 0).
inline bytes guardian_set_upgrade_vaa(std::uint32_t new_index, const std::vector<verify::eth_address>& keys,
                                      std::uint16_t target_chain = 0, std::uint16_t emitter_chain = 1,
                                      std::uint8_t emitter_last_byte = 4, std::uint64_t sequence = 1) {
  const bytes payload = verify::wormhole::encode_guardian_set_upgrade({target_chain, new_index, keys});
  verify::wormhole::vaa_fields vaa;
  vaa.emitter_chain = emitter_chain;
  vaa.emitter_address[31] = std::byte{emitter_last_byte};
  vaa.sequence = sequence;
  vaa.payload = payload;
  return vaa_of(vaa);
}

inline bytes hyperlane_body(std::uint32_t origin, std::uint32_t destination) {
  verify::hyperlane::message_fields message;
  message.origin = origin;
  message.destination = destination;
  bytes out(verify::demo::max_overhead);
  out.resize(verify::demo::write_hyperlane(message, out));
  return out;
}

inline bytes layerzero_body(std::uint32_t src, std::uint32_t dst) {
  verify::layerzero::packet_fields packet;
  packet.src_eid = src;
  packet.dst_eid = dst;
  bytes out(verify::demo::max_overhead);
  out.resize(verify::demo::write_layerzero(packet, out));
  return out;
}

inline bytes quorum_body(std::uint32_t source, std::uint32_t destination) {
  const bytes payload(16, std::byte{0x71});
  bytes out(verify::demo::max_overhead);
  out.resize(verify::demo::write_quorum({verify::demo::quorum_key_set, source, destination, payload}, out));
  return out;
}

struct message {
  std::uint8_t kind;
  bytes body;
  std::uint8_t flags = 0;
};

inline bytes frame_of(const std::vector<message>& messages) {
  bytes out(65536);
  dp::frame_writer writer(out, dp::frame_header{});
  for (const message& m : messages) EXPECT_TRUE(writer.add(m.kind, m.body, m.flags));
  out.resize(writer.finish().size());
  return out;
}

}  // namespace ferry::testing

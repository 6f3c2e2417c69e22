// libFuzzer target over verifier::verify(), the one entry point a verify stage runs, against the key sets that
// trust the demo keys, with a fresh small cache for each input (so that a reproducer does not depend on the inputs
// run before it) and a fixed `now`. The first byte is the message kind as on the wire, the rest the message. With
// the first byte's high bit set, the message is first signed again by verify::demo from its parsed fields, so that
// what the fuzzer changes reaches the checks behind the signatures; such a message must be valid when it names a
// key set the demo key sets have, and unknown_key_set otherwise. Properties, besides ASan's and UBSan's:
// - the kind's cheap half runs first in its full verification: when it refuses, the full verdict is the same;
//   when the full verdict is valid, it says valid; with the demo key sets (one key, threshold 1, everywhere),
//   only a signature can fail after it passes, so the full verdict is then valid or bad_signature;
// - verifier::verify() says what the kind's own parser and full verification say (malformed when the parser
//   refuses), and says it again when asked twice; the second call hits the cache exactly when the first said
//   valid for a verified kind, and only messages past the cheap half cost a cache miss;
// - a valid message re-encodes from its parsed fields to the same bytes, is valid again from another address,
//   and stops being valid when any bit it is signed over flips (three positions are tried: the first, the last
//   and one the input picks), which would otherwise mean a signature that does not cover what it claims to.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/layerzero_dvn.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/verified_cache.hpp"
#include "ferry/verify/verifier.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

#include "support/bytes.hpp"
#include "support/demo_key_sets.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using ferry::testing::require;
using ferry::testing::same;

constexpr std::uint64_t now = 1'750'000'000;

const key_sets& demo_keys() {
  static const key_sets keys = ferry::testing::demo_key_sets();
  return keys;
}

template <std::size_t N>
std::array<std::byte, N> copy_of(std::span<const std::byte, N> s) {
  std::array<std::byte, N> a{};
  std::memcpy(a.data(), s.data(), N);
  return a;
}

// What the kind's own functions say of a message, and which bytes its signatures cover ([signed_begin,
// signed_end) of the message).
struct judgement {
  bool parsed = false;
  verdict cheap = verdict::malformed;
  verdict full = verdict::malformed;
  std::size_t signed_begin = 0;
  std::size_t signed_end = 0;
};

std::size_t offset_in(std::span<const std::byte> part, std::span<const std::byte> whole) {
  return static_cast<std::size_t>(part.data() - whole.data());
}

judgement judge_wormhole(std::span<const std::byte> message) {
  judgement j;
  wormhole::vaa_view vaa;
  if (wormhole::parse_vaa(message, vaa) != parse_status::ok) return j;
  j.parsed = true;
  j.cheap = wormhole::check_vaa_structure(vaa, demo_keys().wormhole, now);
  j.full = wormhole::verify_vaa(vaa, demo_keys().wormhole, now);
  j.signed_begin = offset_in(vaa.body(), message);
  j.signed_end = message.size();
  if (j.full != verdict::valid) return j;

  std::vector<wormhole::signature_fields> signatures;
  for (unsigned i = 0; i < vaa.signature_count(); ++i) {
    const wormhole::signature_view sig = vaa.signature(static_cast<std::uint8_t>(i));
    signatures.push_back({sig.guardian_index, copy_of(sig.rsv)});
  }
  wormhole::vaa_fields f;
  f.guardian_set_index = vaa.guardian_set_index();
  f.signatures = signatures;
  f.timestamp = vaa.timestamp();
  f.nonce = vaa.nonce();
  f.emitter_chain = vaa.emitter_chain();
  f.emitter_address = copy_of(vaa.emitter_address());
  f.sequence = vaa.sequence();
  f.consistency_level = vaa.consistency_level();
  f.payload = vaa.payload();
  std::vector<std::byte> out(message.size());
  require(wormhole::encode_vaa(f, out) == message.size() && same(out, message),
          "wormhole: a valid VAA does not re-encode to its bytes");
  return j;
}

judgement judge_hyperlane(std::span<const std::byte> message) {
  judgement j;
  hyperlane::envelope_view e;
  if (hyperlane::parse_envelope(message, e) != parse_status::ok) return j;
  j.parsed = true;
  j.cheap = hyperlane::check_envelope_structure(e, demo_keys().hyperlane);
  j.full = hyperlane::verify_envelope(e, demo_keys().hyperlane);
  // The message id covers the whole message; the metadata is covered only where it is signed over (hook, root,
  // index), and signatures past the threshold are not covered at all.
  j.signed_begin = offset_in(e.message.bytes(), message);
  j.signed_end = j.signed_begin + e.message.bytes().size();
  if (j.full != verdict::valid) return j;

  const hyperlane::message_view& m = e.message;
  hyperlane::message_fields f;
  f.nonce = m.nonce();
  f.origin = m.origin();
  f.sender = copy_of(m.sender());
  f.destination = m.destination();
  f.recipient = copy_of(m.recipient());
  f.body = m.body();
  std::vector<std::byte> out(message.size());
  require(hyperlane::encode_envelope(f, e.metadata, out) == message.size() && same(out, message),
          "hyperlane: a valid envelope does not re-encode to its bytes");
  return j;
}

judgement judge_layerzero(std::span<const std::byte> message) {
  judgement j;
  layerzero::envelope_view e;
  if (layerzero::parse_envelope(message, e) != parse_status::ok) return j;
  j.parsed = true;
  j.cheap = layerzero::check_envelope_structure(e, demo_keys().layerzero);
  j.full = layerzero::verify_envelope(e, demo_keys().layerzero);
  // The packet (its header and payload hash directly, the rest through the guid) and the confirmations.
  j.signed_begin = offset_in(e.packet.bytes(), message);
  j.signed_end = j.signed_begin + e.packet.bytes().size() + 8;
  if (j.full != verdict::valid) return j;

  const layerzero::packet_view& p = e.packet;
  layerzero::packet_fields f;
  f.nonce = p.nonce();
  f.src_eid = p.src_eid();
  f.sender = copy_of(p.sender());
  f.dst_eid = p.dst_eid();
  f.receiver = copy_of(p.receiver());
  f.guid = copy_of(p.guid());
  f.message = p.message();
  std::vector<std::byte> out(message.size());
  require(layerzero::encode_envelope(f, e.attestation, out) == message.size() && same(out, message),
          "layerzero: a valid envelope does not re-encode to its bytes");

  layerzero::attestation_view a;
  require(layerzero::parse_attestation(e.attestation, a) == parse_status::ok,
          "layerzero: a valid envelope's attestation does not parse");
  std::vector<std::vector<std::array<std::byte, 65>>> signatures(a.dvn_count);
  std::vector<layerzero::dvn_signatures> entries;
  for (unsigned i = 0; i < a.dvn_count; ++i) {
    const layerzero::dvn_attestation entry = a.dvn(static_cast<std::uint8_t>(i));
    for (std::size_t s = 0; s < entry.signatures.size(); s += 65) {
      signatures[i].push_back(copy_of(entry.signatures.subspan(s).first<65>()));
    }
    entries.push_back({entry.dvn, signatures[i]});
  }
  std::vector<std::byte> attestation(e.attestation.size());
  require(layerzero::encode_attestation(a.confirmations, entries, attestation) == attestation.size() &&
              same(attestation, e.attestation),
          "layerzero: a valid attestation does not re-encode to its bytes");
  return j;
}

judgement judge_quorum(std::span<const std::byte> message) {
  judgement j;
  quorum::message_view m;
  if (quorum::parse_message(message, m) != parse_status::ok) return j;
  j.parsed = true;
  j.cheap = quorum::check_message_structure(m, demo_keys().quorum);
  j.full = quorum::verify_message(m, demo_keys().quorum);
  j.signed_begin = 0;
  j.signed_end = m.signed_part().size();
  if (j.full != verdict::valid) return j;

  const quorum::message_fields f{m.key_set(), m.source(), m.destination(), m.payload()};
  std::vector<std::byte> out(quorum::encoded_size(f, 0));
  require(quorum::encode_signed(f, {}, out) == out.size() &&
              same(std::span(out).first(j.signed_end), message.first(j.signed_end)),
          "quorum: a valid message's signed part does not re-encode to its bytes");
  return j;
}

judgement judge(message_kind kind, std::span<const std::byte> message) {
  switch (kind) {
    case message_kind::wormhole: return judge_wormhole(message);
    case message_kind::hyperlane: return judge_hyperlane(message);
    case message_kind::layerzero: return judge_layerzero(message);
    case message_kind::quorum: return judge_quorum(message);
    case message_kind::opaque: break;
  }
  return {true, verdict::valid, verdict::valid, 0, 0};  // opaque: valid without checks, and nothing is signed
}

verdict verify_uncached(message_kind kind, std::span<const std::byte> message) {
  verified_cache none(0);
  verifier v(demo_keys(), none);
  return v.verify(kind, message, now);
}

// The message signed again by verify::demo from its parsed fields, into `out`; whether demo_key_sets() has the key
// set it names goes to `trusted`. False when the message does not parse (or is opaque, which nothing signs).
bool demo_signed(message_kind kind, std::span<const std::byte> message, std::vector<std::byte>& out, bool& trusted) {
  out.resize(message.size() + demo::max_overhead);
  std::size_t size = 0;
  switch (kind) {
    case message_kind::wormhole: {
      wormhole::vaa_view vaa;
      if (wormhole::parse_vaa(message, vaa) != parse_status::ok) return false;
      wormhole::vaa_fields f;
      f.timestamp = vaa.timestamp();
      f.nonce = vaa.nonce();
      f.emitter_chain = vaa.emitter_chain();
      f.emitter_address = copy_of(vaa.emitter_address());
      f.sequence = vaa.sequence();
      f.consistency_level = vaa.consistency_level();
      f.payload = vaa.payload();
      size = demo::write_wormhole(f, out);
      trusted = true;  // the devnet guardian signs as set 0, which the demo key sets have
      break;
    }
    case message_kind::hyperlane: {
      hyperlane::envelope_view e;
      if (hyperlane::parse_envelope(message, e) != parse_status::ok) return false;
      const hyperlane::message_view& m = e.message;
      hyperlane::message_fields f;
      f.nonce = m.nonce();
      f.origin = m.origin();
      f.sender = copy_of(m.sender());
      f.destination = m.destination();
      f.recipient = copy_of(m.recipient());
      f.body = m.body();
      size = demo::write_hyperlane(f, out);
      trusted = demo_keys().hyperlane.find(f.origin) != nullptr;
      break;
    }
    case message_kind::layerzero: {
      layerzero::envelope_view e;
      if (layerzero::parse_envelope(message, e) != parse_status::ok) return false;
      const layerzero::packet_view& p = e.packet;
      layerzero::packet_fields f;
      f.nonce = p.nonce();
      f.src_eid = p.src_eid();
      f.sender = copy_of(p.sender());
      f.dst_eid = p.dst_eid();
      f.receiver = copy_of(p.receiver());
      f.message = p.message();
      size = demo::write_layerzero(f, out);
      trusted = demo_keys().layerzero.find(f.src_eid) != nullptr;
      break;
    }
    case message_kind::quorum: {
      quorum::message_view m;
      if (quorum::parse_message(message, m) != parse_status::ok) return false;
      const quorum::message_fields f{m.key_set(), m.source(), m.destination(), m.payload()};
      size = demo::write_quorum(f, out);
      trusted = f.key_set == demo::quorum_key_set;
      break;
    }
    case message_kind::opaque:
      return false;
  }
  require(size != 0, "verify::demo refused to sign a message that parsed, with room to spare");
  out.resize(size);
  return true;
}

void check(message_kind kind, std::span<const std::byte> message, std::size_t picked) {
  const judgement j = judge(kind, message);
  if (j.cheap != verdict::valid) require(j.full == j.cheap, "the full verdict differs from a cheap half that refused");
  if (j.full == verdict::valid) require(j.cheap == verdict::valid, "the cheap half refused a valid message");
  if (j.cheap == verdict::valid) {
    require(j.full == verdict::valid || j.full == verdict::bad_signature,
            "the cheap half passed a message that the full verification refuses for want of structure");
  }

  verified_cache cache(16);
  verifier v(demo_keys(), cache);
  const verdict first = v.verify(kind, message, now);
  require(first == (j.parsed ? j.full : verdict::malformed), "verifier::verify differs from the kind's verification");
  const bool reaches_cache = is_verified_kind(kind) && j.cheap == verdict::valid;
  require(v.cache_hits() == 0 && v.cache_misses() == (reaches_cache ? 1u : 0u), "cache counters after the first call");
  const verdict second = v.verify(kind, message, now);
  const bool hit = is_verified_kind(kind) && first == verdict::valid;
  require(second == (hit ? verdict::duplicate : first), "the same bytes again: not duplicate after valid, or changed");
  require(v.cache_hits() == (hit ? 1u : 0u), "the second call hit the cache other than after a valid first call");

  if (first != verdict::valid || j.signed_end == j.signed_begin) return;
  std::vector<std::byte> copy(message.begin(), message.end());
  require(verify_uncached(kind, copy) == verdict::valid, "a valid message is not valid at another address");
  const std::size_t span = j.signed_end - j.signed_begin;
  for (const std::size_t at : {std::size_t{0}, span - 1, picked % span}) {
    const std::byte bit{static_cast<std::uint8_t>(1u << (at % 8))};
    copy[j.signed_begin + at] ^= bit;
    require(verify_uncached(kind, copy) != verdict::valid, "a valid message is still valid with a signed bit flipped");
    copy[j.signed_begin + at] ^= bit;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::optional<message_kind> kind = kind_from_wire(data[0] & 0x7f);
  if (!kind) return 0;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const std::size_t picked = size * 131 + data[size - 1];
  if ((data[0] & 0x80) == 0) {
    check(*kind, input, picked);
    return 0;
  }
  std::vector<std::byte> signed_message;
  bool trusted = false;
  if (!demo_signed(*kind, input, signed_message, trusted)) return 0;
  require(verify_uncached(*kind, signed_message) == (trusted ? verdict::valid : verdict::unknown_key_set),
          "a message verify::demo signed is not valid (unknown_key_set for a key set the demo keys lack)");
  check(*kind, signed_message, picked);
  return 0;
}

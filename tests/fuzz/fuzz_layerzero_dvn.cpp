// libFuzzer target over LayerZero DVN attestations. The first byte selects the input: 0, the rest is an attestation;
// 1, the rest is an envelope (packet_length u16 | packet | attestation), verified against the demo key sets (src
// eid 30101: the demo DVN, quorum 1) and one more path (src eid 30110: a required DVN with quorum 2 of 3, and
// optional_threshold 1 of two optional DVNs, all with fixed keys). Properties, besides ASan's and UBSan's:
// - parse_attestation() accepts exactly the documented layout with strictly ascending DVN addresses; the entries
//   it returns lie inside the input, and encode_attestation() of what it read gives back the input byte for byte
//   (and refuses a buffer one byte short);
// - check_envelope_structure() is verify_envelope() before its recoveries: a wrong guid or an unreadable
//   attestation is malformed, a src eid without a path unknown_key_set;
// - a valid envelope stops being valid when a bit of its message, guid or confirmations flips.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/layerzero_dvn.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verifier.hpp"

#include "support/bytes.hpp"
#include "support/demo_key_sets.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using namespace ferry::verify::layerzero;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

// An address from a fixed secret, keccak256("ferry fuzz layerzero <role>"), as the seeds were signed.
eth_address fuzz_address(const std::string& role) {
  const std::string label = "ferry fuzz layerzero " + role;
  const std::optional<eth_address> address = address_of_secret_key(keccak256(std::as_bytes(std::span(label))));
  require(address.has_value(), "a fuzz secret is not a key");
  return *address;
}

dvn_config fuzz_dvn(const std::string& name, int signers, std::uint8_t quorum) {
  dvn_config dvn{fuzz_address("dvn " + name), {}, quorum};
  for (int i = 0; i < signers; ++i) dvn.signers.push_back(fuzz_address("dvn " + name + " signer " + std::to_string(i)));
  return dvn;
}

const dvn_registry& paths() {
  static const key_sets keys = [] {
    key_sets out = ferry::testing::demo_key_sets();
    path_config path;
    path.src_eid = 30110;
    path.required = {fuzz_dvn("a", 3, 2)};
    path.optional = {fuzz_dvn("b", 1, 1), fuzz_dvn("c", 2, 1)};
    path.optional_threshold = 1;
    require(out.layerzero.add(std::move(path)).ok(), "the fuzz DVN path does not build");
    return out;
  }();
  return keys.layerzero;
}

// The attestation layout of layerzero_dvn.hpp, read independently of parse_attestation().
bool well_formed(std::span<const std::byte> bytes) {
  if (bytes.size() < 9) return false;
  const std::size_t count = std::to_integer<std::size_t>(bytes[8]);
  std::size_t at = 9;
  const std::byte* previous = nullptr;
  for (std::size_t i = 0; i < count; ++i) {
    if (bytes.size() - at < 21) return false;
    const std::size_t signatures = std::to_integer<std::size_t>(bytes[at + 20]) * signature_size;
    if (bytes.size() - at - 21 < signatures) return false;
    if (previous != nullptr && std::memcmp(previous, bytes.data() + at, 20) >= 0) return false;
    previous = bytes.data() + at;
    at += 21 + signatures;
  }
  return at == bytes.size();
}

void check_attestation(std::span<const std::byte> bytes) {
  attestation_view a;
  const bool ok = parse_attestation(bytes, a) == ferry::verify::parse_status::ok;
  require(ok == well_formed(bytes), "parse_attestation disagrees with the documented layout");
  if (!ok) return;
  require(a.confirmations == ferry::platform::load_be64(bytes.data()) &&
              a.dvn_count == std::to_integer<std::uint8_t>(bytes[8]),
          "confirmations or DVN count");
  require(inside(a.entries, bytes) && a.entries.data() == bytes.data() + 9 && a.entries.size() == bytes.size() - 9,
          "entries are not the rest of the input");

  std::vector<std::vector<std::array<std::byte, 65>>> signatures(a.dvn_count);
  std::vector<dvn_signatures> entries;
  std::size_t entry_bytes = 0;
  for (unsigned i = 0; i < a.dvn_count; ++i) {
    const dvn_attestation entry = a.dvn(static_cast<std::uint8_t>(i));
    require(inside(entry.signatures, a.entries) && entry.signatures.size() % signature_size == 0,
            "an entry's signatures outside the entries, or not whole");
    if (i > 0) require(std::memcmp(entries.back().dvn.data(), entry.dvn.data(), 20) < 0, "DVNs do not ascend");
    for (std::size_t s = 0; s < entry.signatures.size(); s += signature_size) {
      std::array<std::byte, 65> signature;
      std::memcpy(signature.data(), entry.signatures.data() + s, signature.size());
      signatures[i].push_back(signature);
    }
    entries.push_back({entry.dvn, signatures[i]});
    entry_bytes += 21 + entry.signatures.size();
  }
  require(entry_bytes == a.entries.size(), "the entries do not add up to the input");
  std::vector<std::byte> out(bytes.size());
  require(encode_attestation(a.confirmations, entries, out) == bytes.size() && same(out, bytes),
          "encode_attestation differs from the attestation it was read from");
  require(encode_attestation(a.confirmations, entries, std::span(out).first(bytes.size() - 1)) == 0,
          "encode_attestation wrote into a buffer too small");
}

// Whether the envelope, with one bit at `at` (a byte offset into it) flipped, verifies.
bool valid_with_bit_flipped(std::span<const std::byte> bytes, std::size_t at, std::size_t bit) {
  std::vector<std::byte> copy(bytes.begin(), bytes.end());
  copy[at] ^= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
  envelope_view tampered;
  if (parse_envelope(copy, tampered) != ferry::verify::parse_status::ok) return false;
  return verify_envelope(tampered, paths()) == verdict::valid;
}

void check_envelope(std::span<const std::byte> bytes, std::size_t picked) {
  envelope_view e;
  if (parse_envelope(bytes, e) != ferry::verify::parse_status::ok) return;
  check_attestation(e.attestation);

  const verdict cheap = check_envelope_structure(e, paths());
  const verdict full = verify_envelope(e, paths());
  if (cheap != verdict::valid) require(full == cheap, "verify_envelope differs from a refusing check");
  if (full == verdict::valid) require(cheap == verdict::valid, "the check refused a valid envelope");
  attestation_view a;
  if (!guid_valid(e.packet) || parse_attestation(e.attestation, a) != ferry::verify::parse_status::ok) {
    require(cheap == verdict::malformed, "a wrong guid or an unreadable attestation was not malformed");
    return;
  }
  if (paths().find(e.packet.src_eid()) == nullptr) {
    require(cheap == verdict::unknown_key_set, "a src eid without a path was not unknown_key_set");
    return;
  }
  if (full != verdict::valid) return;

  const auto offset = [&](std::span<const std::byte> part) {
    return static_cast<std::size_t>(part.data() - bytes.data());
  };
  const std::span<const std::byte> message = e.packet.message();
  const std::size_t in_message = message.empty() ? offset(e.packet.guid()) : offset(message) + picked % message.size();
  require(!valid_with_bit_flipped(bytes, in_message, picked), "valid with a message bit flipped");
  require(!valid_with_bit_flipped(bytes, offset(e.packet.guid()) + picked % 32, picked),
          "valid with a guid bit flipped");
  require(!valid_with_bit_flipped(bytes, offset(e.attestation) + picked % 8, picked),
          "valid with a confirmations bit flipped");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || data[0] > 1) return 0;
  const std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  if (data[0] == 0) {
    check_attestation(rest);
  } else {
    check_envelope(rest, size * 131 + data[size - 1]);
  }
  return 0;
}

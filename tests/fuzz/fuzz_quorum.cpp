// libFuzzer target over ferry's Ed25519 quorum messages. The input is a message, verified against key set 1 (the
// demo key, threshold 1) and key set 2 (three fixed keys, threshold 2). Properties, besides ASan's and UBSan's:
// - parse_message() accepts exactly the documented layout, and its accessors read that layout's fields in place;
// - encode_signed() with no signers reproduces the signed part and a zero count: the whole input when it has no
//   signatures; encoded_size() is the input's size;
// - check_message_structure() is verify_message() before its signature checks, after which only a signature can
//   fail (bad_signature); an unknown key set is unknown_key_set, fewer signatures than the threshold no_quorum;
// - a valid message stops being valid when a bit of its signed part flips.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/ed25519.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/quorum.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using namespace ferry::verify::quorum;
using ferry::platform::load_be32;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

const key_set_registry& key_sets() {
  static const key_set_registry r = [] {
    key_set_registry out;
    key_set fuzz{2, {}, 2};
    // Seed i is keccak256("ferry fuzz quorum key <i>"), as the seeds were signed.
    for (int i = 0; i < 3; ++i) {
      const std::string label = "ferry fuzz quorum key " + std::to_string(i);
      fuzz.keys.push_back(ed25519_key_pair_from_seed(keccak256(std::as_bytes(std::span(label)))).public_key);
    }
    const bool added = out.add({demo::quorum_key_set, {demo::quorum_key()}, 1}).ok() && out.add(std::move(fuzz)).ok();
    require(added, "the fuzz key sets do not build");
    return out;
  }();
  return r;
}

// The message layout of quorum.hpp, read independently of parse_message().
bool well_formed(std::span<const std::byte> bytes) {
  if (bytes.size() < header_size + 1 || std::to_integer<std::uint8_t>(bytes[0]) != message_version) return false;
  const std::size_t payload = load_be32(bytes.data() + 13);
  if (payload > bytes.size() - header_size - 1) return false;
  const std::size_t count = std::to_integer<std::size_t>(bytes[header_size + payload]);
  return bytes.size() - header_size - payload - 1 == count * signature_size;
}

bool valid_with_bit_flipped(std::span<const std::byte> bytes, std::size_t bit) {
  std::vector<std::byte> copy(bytes.begin(), bytes.end());
  copy[bit / 8] ^= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
  message_view tampered;
  if (parse_message(copy, tampered) != ferry::verify::parse_status::ok) return false;
  return verify_message(tampered, key_sets()) == verdict::valid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  message_view m;
  const bool ok = parse_message(bytes, m) == ferry::verify::parse_status::ok;
  require(ok == well_formed(bytes), "parse_message disagrees with the documented layout");
  if (!ok) return 0;

  const std::size_t signed_size = header_size + m.payload().size();
  require(m.key_set() == load_be32(bytes.data() + 1) && m.source() == load_be32(bytes.data() + 5) &&
              m.destination() == load_be32(bytes.data() + 9) && m.payload().size() == load_be32(bytes.data() + 13),
          "header fields");
  require(inside(m.payload(), bytes) && m.payload().data() == bytes.data() + header_size, "payload is misplaced");
  require(m.signed_part().data() == bytes.data() && m.signed_part().size() == signed_size, "signed part");
  require(m.signature_count() == data[signed_size], "signature count");
  for (unsigned i = 0; i < m.signature_count(); ++i) {
    const signature_view s = m.signature(static_cast<std::uint8_t>(i));
    const std::byte* const at = bytes.data() + signed_size + 1 + i * signature_size;
    require(inside(s.signature, bytes) && s.signature.data() == at + 1 && s.signer_index == data[at - bytes.data()],
            "a signature is misplaced");
  }

  const message_fields fields{m.key_set(), m.source(), m.destination(), m.payload()};
  require(encoded_size(fields, m.signature_count()) == size, "encoded_size differs");
  std::vector<std::byte> unsigned_message(encoded_size(fields, 0));
  require(encode_signed(fields, {}, unsigned_message) == unsigned_message.size(), "encode_signed refused");
  require(same(std::span(unsigned_message).first(signed_size), m.signed_part()) &&
              unsigned_message[signed_size] == std::byte{0},
          "encode_signed with no signers differs from the signed part");
  if (m.signature_count() == 0) require(same(unsigned_message, bytes), "an unsigned message does not re-encode");

  const verdict cheap = check_message_structure(m, key_sets());
  const verdict full = verify_message(m, key_sets());
  if (cheap != verdict::valid) require(full == cheap, "verify_message differs from a refusing check");
  if (cheap == verdict::valid) {
    require(full == verdict::valid || full == verdict::bad_signature, "only a signature can fail past the check");
  }
  const key_set* set = key_sets().find(m.key_set());
  if (set == nullptr) {
    require(cheap == verdict::unknown_key_set, "an unknown key set was not unknown_key_set");
  } else if (m.signature_count() < set->threshold) {
    require(cheap == verdict::no_quorum, "fewer signatures than the threshold was not no_quorum");
  }

  if (full == verdict::valid) {
    const std::size_t bits = signed_size * 8;
    const std::size_t picked = (size * 131 + data[size - 1]) % bits;
    for (const std::size_t bit : {std::size_t{0}, bits - 1, picked}) {
      require(!valid_with_bit_flipped(bytes, bit), "a valid message is still valid with a signed bit flipped");
    }
  }
  return 0;
}

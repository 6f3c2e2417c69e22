// libFuzzer target over Hyperlane's multisig ISMs. The first byte is an ism_type (0 message-id, 1 merkle-root),
// the rest an envelope (message_length u16 | message | metadata). The validators: origin 1 trusts the demo
// validator (message-id, threshold 1), origins 2 and 3 four fixed validators with threshold 2 (message-id and
// merkle-root). Properties, besides ASan's and UBSan's:
// - read_checkpoint() accepts exactly the metadata its documented layout describes, and what it returns is that
//   layout's fields: the hook and the signatures are views inside the metadata, the root, index and message id
//   are the metadata's (the root computed from the proof for merkle-root, the id from the message for message-id);
// - check_envelope_structure() is verify_envelope() before its recoveries, and verify_envelope() is
//   verify_checkpoint() over read_checkpoint() with the set configured for the message's origin;
// - fewer signatures than the threshold is no_quorum; signatures past the threshold do not change a valid verdict;
// - a valid checkpoint stops being valid when its origin, hook, root, index or message id changes, and a valid
//   envelope when a bit of its message flips.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using namespace ferry::verify::hyperlane;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

constexpr std::size_t message_id_fixed = 68;     // hook | root | index
constexpr std::size_t merkle_root_fixed = 1096;  // hook | message_index | signed id | proof | signed_index

// The fixed validators: secret i is keccak256("ferry fuzz hyperlane validator <i>"), as the seeds were signed.
std::vector<eth_address> fuzz_validators() {
  std::vector<eth_address> out;
  for (int i = 0; i < 4; ++i) {
    const std::string label = "ferry fuzz hyperlane validator " + std::to_string(i);
    const std::optional<eth_address> address = address_of_secret_key(keccak256(std::as_bytes(std::span(label))));
    require(address.has_value(), "a fuzz validator's secret is not a key");
    out.push_back(*address);
  }
  return out;
}

const validator_registry& registry() {
  static const validator_registry r = [] {
    validator_registry out;
    const bool added = out.add({1, ism_type::message_id_multisig, {demo::hyperlane_validator()}, 1}).ok() &&
                       out.add({2, ism_type::message_id_multisig, fuzz_validators(), 2}).ok() &&
                       out.add({3, ism_type::merkle_root_multisig, fuzz_validators(), 2}).ok();
    require(added, "the fuzz validator sets do not build");
    return out;
  }();
  return r;
}

hash256 hash_at(const std::byte* p) {
  hash256 out;
  std::memcpy(out.data(), p, out.size());
  return out;
}

template <std::size_t N>
void flip(std::array<std::byte, N>& a, std::size_t bit) {
  a[(bit / 8) % N] ^= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
}

// read_checkpoint() against the metadata layouts of hyperlane_ism.hpp.
std::optional<checkpoint> check_read(ism_type type, const message_view& message, std::span<const std::byte> metadata) {
  const std::optional<checkpoint> cp = read_checkpoint(type, message, metadata);
  const bool merkle = type == ism_type::merkle_root_multisig;
  const std::size_t fixed = merkle ? merkle_root_fixed : message_id_fixed;
  const std::byte* const p = metadata.data();
  bool readable = metadata.size() >= fixed && (metadata.size() - fixed) % signature_size == 0;
  if (readable && merkle) readable = ferry::platform::load_be32(p + 32) <= ferry::platform::load_be32(p + 1092);
  require(cp.has_value() == readable, "read_checkpoint disagrees with the metadata layout");
  if (!cp) return cp;

  require(inside(cp->merkle_tree_hook, metadata) && cp->merkle_tree_hook.data() == p, "hook is not the metadata's");
  require(inside(cp->signatures, metadata) && cp->signatures.data() == p + fixed &&
              cp->signatures.size() == metadata.size() - fixed,
          "signatures are not the rest of the metadata");
  const hash256 id = keccak256(message.bytes());
  if (merkle) {
    const std::span<const std::byte, tree_depth * 32> proof(p + 68, tree_depth * 32);
    require(cp->message_id == hash_at(p + 36) && cp->index == ferry::platform::load_be32(p + 1092) &&
                cp->root == branch_root(id, proof, ferry::platform::load_be32(p + 32)),
            "merkle-root checkpoint fields");
  } else {
    require(cp->root == hash_at(p + 32) && cp->index == ferry::platform::load_be32(p + 64) && cp->message_id == id,
            "message-id checkpoint fields");
  }
  return cp;
}

bool envelope_valid_with_bit_flipped(std::span<const std::byte> envelope_bytes, const envelope_view& e,
                                     std::size_t bit) {
  std::vector<std::byte> copy(envelope_bytes.begin(), envelope_bytes.end());
  const std::size_t at = static_cast<std::size_t>(e.message.bytes().data() - envelope_bytes.data());
  copy[at + (bit / 8) % e.message.bytes().size()] ^= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
  envelope_view tampered;
  if (parse_envelope(copy, tampered) != ferry::verify::parse_status::ok) return false;
  return verify_envelope(tampered, registry()) == verdict::valid;
}

void check_valid(std::span<const std::byte> envelope_bytes, const envelope_view& e, const checkpoint& cp,
                 const validator_set& set, std::size_t picked) {
  const std::uint32_t origin = e.message.origin();
  if (cp.signatures.size() > set.threshold * signature_size) {
    checkpoint first = cp;
    first.signatures = cp.signatures.first(set.threshold * signature_size);
    require(verify_checkpoint(first, origin, set) == verdict::valid, "a signature past the threshold counted");
  }
  checkpoint changed = cp;
  flip(changed.message_id, picked);
  require(verify_checkpoint(changed, origin, set) != verdict::valid, "valid with another message id");
  changed = cp;
  flip(changed.root, picked);
  require(verify_checkpoint(changed, origin, set) != verdict::valid, "valid with another root");
  changed = cp;
  changed.index ^= 1u << (picked % 32);
  require(verify_checkpoint(changed, origin, set) != verdict::valid, "valid with another index");
  std::array<std::byte, 32> hook{};
  std::memcpy(hook.data(), cp.merkle_tree_hook.data(), hook.size());
  flip(hook, picked);
  changed = cp;
  changed.merkle_tree_hook = hook;
  require(verify_checkpoint(changed, origin, set) != verdict::valid, "valid with another hook");
  require(verify_checkpoint(cp, origin ^ (1u << (picked % 32)), set) != verdict::valid, "valid for another origin");
  require(!envelope_valid_with_bit_flipped(envelope_bytes, e, picked), "valid with a message bit flipped");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || data[0] > 1) return 0;
  const ism_type type = data[0] == 0 ? ism_type::message_id_multisig : ism_type::merkle_root_multisig;
  const std::span<const std::byte> envelope_bytes(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  envelope_view e;
  if (parse_envelope(envelope_bytes, e) != ferry::verify::parse_status::ok) return 0;

  const std::optional<checkpoint> cp = check_read(type, e.message, e.metadata);
  const validator_set* set = registry().find(e.message.origin());
  const verdict cheap = check_envelope_structure(e, registry());
  const verdict full = verify_envelope(e, registry());
  if (cheap != verdict::valid) require(full == cheap, "verify_envelope differs from a refusing check");
  if (full == verdict::valid) require(cheap == verdict::valid, "the check refused a valid envelope");
  if (set == nullptr) {
    require(cheap == verdict::unknown_key_set, "an origin without validators was not unknown_key_set");
    return 0;
  }
  if (!cp) {
    if (set->ism == type) require(cheap == verdict::malformed, "unreadable metadata was not malformed");
    return 0;
  }
  const bool short_of_threshold = cp->signatures.size() / signature_size < set->threshold;
  if (short_of_threshold) {
    require(verify_checkpoint(*cp, e.message.origin(), *set) == verdict::no_quorum, "too few signatures accepted");
  }
  if (set->ism != type) return 0;
  require(cheap == (short_of_threshold ? verdict::no_quorum : verdict::valid), "check_envelope_structure");
  if (cheap != verdict::valid) return 0;
  require(verify_checkpoint(*cp, e.message.origin(), *set) == full,
          "verify_envelope differs from verify_checkpoint over read_checkpoint");
  if (full == verdict::valid) check_valid(envelope_bytes, e, *cp, *set, size * 131 + data[size - 1]);
  return 0;
}

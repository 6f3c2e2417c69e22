#include "ferry/verify/hyperlane_ism.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "ferry/platform/endian.hpp"

namespace ferry::verify::hyperlane {

using platform::load_be32;

namespace {

// MessageIdMultisigIsmMetadata.sol
constexpr std::size_t mid_hook_at = 0;
constexpr std::size_t mid_root_at = 32;
constexpr std::size_t mid_index_at = 64;
constexpr std::size_t mid_signatures_at = 68;

// MerkleRootMultisigIsmMetadata.sol
constexpr std::size_t mr_hook_at = 0;
constexpr std::size_t mr_message_index_at = 32;
constexpr std::size_t mr_signed_id_at = 36;
constexpr std::size_t mr_proof_at = 68;
constexpr std::size_t mr_signed_index_at = mr_proof_at + tree_depth * 32;  // 1092
constexpr std::size_t mr_signatures_at = mr_signed_index_at + 4;         // 1096

constexpr std::array<std::byte, 9> hyperlane_tag{std::byte{'H'}, std::byte{'Y'}, std::byte{'P'},
                                                 std::byte{'E'}, std::byte{'R'}, std::byte{'L'},
                                                 std::byte{'A'}, std::byte{'N'}, std::byte{'E'}};

std::array<std::byte, 4> be32(std::uint32_t v) noexcept {
  std::array<std::byte, 4> out;
  platform::store_be32(out.data(), v);
  return out;
}

hash256 to_hash(std::span<const std::byte, 32> bytes) noexcept {
  hash256 out;
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

// Where a metadata blob keeps its fields, found without hashing anything, so that the structural check costs
// no Keccak. Only merkle_root_multisig fills the message index and the proof.
struct layout {
  std::span<const std::byte, 32> hook;
  std::span<const std::byte, 32> root_or_signed_id;  // the root (message id) or the signed message id (merkle)
  std::uint32_t message_index = 0;
  const std::byte* proof = nullptr;  // tree_depth x 32 bytes
  std::uint32_t signed_index = 0;
  std::span<const std::byte> signatures;
};

std::optional<layout> read_layout(ism_type type, std::span<const std::byte> metadata) noexcept {
  const std::size_t fixed = type == ism_type::message_id_multisig ? mid_signatures_at : mr_signatures_at;
  if (metadata.size() < fixed || (metadata.size() - fixed) % signature_size != 0) return std::nullopt;
  const std::byte* const p = metadata.data();
  if (type == ism_type::message_id_multisig) {
    return layout{
        .hook = std::span<const std::byte, 32>(p + mid_hook_at, 32),
        .root_or_signed_id = std::span<const std::byte, 32>(p + mid_root_at, 32),
        .message_index = 0,
        .proof = nullptr,
        .signed_index = load_be32(p + mid_index_at),
        .signatures = metadata.subspan(fixed),
    };
  }
  layout out{
      .hook = std::span<const std::byte, 32>(p + mr_hook_at, 32),
      .root_or_signed_id = std::span<const std::byte, 32>(p + mr_signed_id_at, 32),
      .message_index = load_be32(p + mr_message_index_at),
      .proof = p + mr_proof_at,
      .signed_index = load_be32(p + mr_signed_index_at),
      .signatures = metadata.subspan(fixed),
  };
  // MerkleRootMultisigIsm.digest: a message cannot be in a tree checkpointed before it was inserted
  if (out.message_index > out.signed_index) return std::nullopt;
  return out;
}

// Everything verify_envelope checks before the first recovery, in its order.
verdict check_structure(const envelope_view& envelope, const validator_registry& validators,
                        const validator_set*& set, std::optional<layout>& fields) noexcept {
  set = validators.find(envelope.message.origin());
  if (set == nullptr || set->threshold == 0) return verdict::unknown_key_set;
  fields = read_layout(set->ism, envelope.metadata);
  if (!fields) return verdict::malformed;
  if (fields->signatures.size() / signature_size < set->threshold) return verdict::no_quorum;
  return verdict::valid;
}

checkpoint to_checkpoint(ism_type type, const message_view& message, const layout& fields) noexcept {
  const hash256 id = message_id(message);
  if (type == ism_type::message_id_multisig) {
    return {fields.hook, to_hash(fields.root_or_signed_id), fields.signed_index, id, fields.signatures};
  }
  const std::span<const std::byte, tree_depth * 32> proof(fields.proof, tree_depth * 32);
  return {fields.hook, branch_root(id, proof, fields.message_index), fields.signed_index,
          to_hash(fields.root_or_signed_id), fields.signatures};
}

}  // namespace

hash256 message_id(const message_view& message) noexcept { return keccak256(message.bytes()); }

hash256 domain_hash(std::uint32_t origin, std::span<const std::byte, 32> merkle_tree_hook) noexcept {
  const auto origin_be = be32(origin);
  return keccak256_hasher{}.update(origin_be).update(merkle_tree_hook).update(hyperlane_tag).finish();
}

hash256 checkpoint_digest(std::uint32_t origin, std::span<const std::byte, 32> merkle_tree_hook,
                          std::span<const std::byte, 32> root, std::uint32_t index,
                          std::span<const std::byte, 32> message_id) noexcept {
  const hash256 domain = domain_hash(origin, merkle_tree_hook);
  const auto index_be = be32(index);
  const hash256 inner = keccak256_hasher{}.update(domain).update(root).update(index_be).update(message_id).finish();
  return eth_signed_message_hash(inner);
}

hash256 branch_root(const hash256& leaf, std::span<const std::byte, tree_depth * 32> proof,
                    std::uint32_t index) noexcept {
  hash256 current = leaf;
  for (std::size_t level = 0; level < tree_depth; ++level) {
    const std::span<const std::byte> sibling = proof.subspan(level * 32, 32);
    keccak256_hasher hasher;
    if (((index >> level) & 1u) != 0) {
      hasher.update(sibling).update(current);
    } else {
      hasher.update(current).update(sibling);
    }
    current = hasher.finish();
  }
  return current;
}

std::optional<ism_type> ism_type_from_string(std::string_view name) noexcept {
  if (name == "message-id-multisig") return ism_type::message_id_multisig;
  if (name == "merkle-root-multisig") return ism_type::merkle_root_multisig;
  return std::nullopt;
}

std::string_view to_string(ism_type type) noexcept {
  switch (type) {
    case ism_type::message_id_multisig: return "message-id-multisig";
    case ism_type::merkle_root_multisig: return "merkle-root-multisig";
  }
  return "unknown";
}

std::optional<checkpoint> read_checkpoint(ism_type type, const message_view& message,
                                          std::span<const std::byte> metadata) noexcept {
  const std::optional<layout> fields = read_layout(type, metadata);
  if (!fields) return std::nullopt;
  return to_checkpoint(type, message, *fields);
}

platform::result<void> validator_registry::add(validator_set set) {
  const std::string name = "hyperlane origin " + std::to_string(set.origin);
  if (find(set.origin) != nullptr) return platform::error(name + ": already configured");
  if (set.validators.empty() || set.validators.size() > 255) {
    return platform::error(name + ": needs 1 to 255 validators, has " + std::to_string(set.validators.size()));
  }
  for (std::size_t i = 0; i < set.validators.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (set.validators[i] == set.validators[j]) {
        return platform::error(name + ": validator " + std::to_string(i) + " repeats validator " +
                               std::to_string(j) + " (a validator counts once)");
      }
    }
  }
  if (set.threshold == 0 || set.threshold > set.validators.size()) {
    return platform::error(name + ": threshold " + std::to_string(set.threshold) + " is outside 1.." +
                           std::to_string(set.validators.size()));
  }
  _sets.push_back(std::move(set));
  return {};
}

const validator_set* validator_registry::find(std::uint32_t origin) const noexcept {
  for (const validator_set& set : _sets) {
    if (set.origin == origin) return &set;
  }
  return nullptr;
}

verdict verify_checkpoint(const checkpoint& signed_checkpoint, std::uint32_t origin,
                          const validator_set& validators) noexcept {
  const std::size_t threshold = validators.threshold;
  const std::span<const eth_address> list = validators.validators;
  // A set that accepts nothing (the registry refuses to build one): AbstractMultisigIsm requires threshold > 0.
  if (threshold == 0 || threshold > list.size()) return verdict::unknown_key_set;
  const std::span<const std::byte> signatures = signed_checkpoint.signatures;
  if (signatures.size() % signature_size != 0) return verdict::malformed;
  if (signatures.size() / signature_size < threshold) return verdict::no_quorum;

  const hash256 digest = checkpoint_digest(origin, signed_checkpoint.merkle_tree_hook, signed_checkpoint.root,
                                           signed_checkpoint.index, signed_checkpoint.message_id);
  std::size_t next = 0;  // the first validator a signature may still match
  for (std::size_t i = 0; i < threshold; ++i) {
    const std::span<const std::byte> signature = signatures.subspan(i * signature_size, signature_size);
    const unsigned v = std::to_integer<unsigned>(signature[64]);
    if (v != 27 && v != 28) return verdict::bad_signature;
    const std::optional<eth_address> signer =
        recover_address(digest, signature.first<64>(), static_cast<std::uint8_t>(v - 27), s_rule::low_only);
    if (!signer) return verdict::bad_signature;
    const auto found = std::find(list.begin() + static_cast<std::ptrdiff_t>(next), list.end(), *signer);
    if (found == list.end()) {
      // On chain both are "!threshold"; ferry tells a stranger's key from a validator signing twice or early.
      const bool known = std::find(list.begin(), list.end(), *signer) != list.end();
      return known ? verdict::no_quorum : verdict::bad_signature;
    }
    next = static_cast<std::size_t>(found - list.begin()) + 1;
  }
  return verdict::valid;
}

verdict verify_envelope(const envelope_view& envelope, const validator_registry& validators) noexcept {
  const validator_set* set = nullptr;
  std::optional<layout> fields;
  const verdict structure = check_structure(envelope, validators, set, fields);
  if (structure != verdict::valid) return structure;
  return verify_checkpoint(to_checkpoint(set->ism, envelope.message, *fields), envelope.message.origin(), *set);
}

verdict check_envelope_structure(const envelope_view& envelope, const validator_registry& validators) noexcept {
  const validator_set* set = nullptr;
  std::optional<layout> fields;
  return check_structure(envelope, validators, set, fields);
}

}  // namespace ferry::verify::hyperlane

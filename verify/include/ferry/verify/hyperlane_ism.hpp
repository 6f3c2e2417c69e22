#pragma once
// Hyperlane's multisig ISMs (hyperlane-monorepo solidity/contracts/isms/multisig/): message ids, checkpoint
// digests, merkle branches, and the ordered-subset quorum of AbstractMultisigIsm.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verdict.hpp"

namespace ferry::verify::hyperlane {

inline constexpr std::size_t tree_depth = 32;
inline constexpr std::size_t signature_size = 65;  // r | s | v, v in {27, 28}

// keccak256 of the whole message (Message.sol id()).
hash256 message_id(const message_view& message) noexcept;

// keccak256(origin u32 | merkle_tree_hook | "HYPERLANE") (CheckpointLib.domainHash).
hash256 domain_hash(std::uint32_t origin, std::span<const std::byte, 32> merkle_tree_hook) noexcept;

// What validators sign: EIP-191 hash of keccak256(domain_hash | root | index u32 | message_id)
// (CheckpointLib.digest).
hash256 checkpoint_digest(std::uint32_t origin, std::span<const std::byte, 32> merkle_tree_hook,
                          std::span<const std::byte, 32> root, std::uint32_t index,
                          std::span<const std::byte, 32> message_id) noexcept;

// MerkleLib.branchRoot: at level i, cur = keccak(sibling | cur) when bit i of index is 1, else keccak(cur | sibling).
hash256 branch_root(const hash256& leaf, std::span<const std::byte, tree_depth * 32> proof,
                    std::uint32_t index) noexcept;

enum class ism_type : std::uint8_t {
  message_id_multisig,   // metadata: hook[32] | root[32] | index u32 | signatures
  merkle_root_multisig,  // metadata: hook[32] | message_index u32 | signed_message_id[32] | proof[32x32]
                         //           | signed_index u32 | signatures
};

std::optional<ism_type> ism_type_from_string(std::string_view name) noexcept;  // "message-id-multisig", ...
std::string_view to_string(ism_type type) noexcept;

// The checkpoint a metadata blob claims validators signed, and the signatures over it.
struct checkpoint {
  std::span<const std::byte, 32> merkle_tree_hook;
  hash256 root;
  std::uint32_t index = 0;
  hash256 message_id;
  std::span<const std::byte> signatures;  // n x 65 bytes, in validator order; only the first `threshold` count
};

// Reads `metadata` for `message` under an ISM type; for merkle_root_multisig, computes the root from the proof and
// refuses message_index > signed_index. Nothing when the metadata is too short or its signatures are not whole.
std::optional<checkpoint> read_checkpoint(ism_type type, const message_view& message,
                                          std::span<const std::byte> metadata) noexcept;

// The validators the destination trusts for messages from one origin, in the order signatures must follow.
struct validator_set {
  std::uint32_t origin = 0;
  ism_type ism = ism_type::message_id_multisig;
  std::vector<eth_address> validators;  // 1 to 255
  std::uint8_t threshold = 0;           // 1 to validators.size()
};

class validator_registry {
 public:
  // Fails (naming the origin) for a repeated origin, no validators, a repeated validator, or a threshold outside
  // 1..validators.
  platform::result<void> add(validator_set set);
  const validator_set* find(std::uint32_t origin) const noexcept;
  std::span<const validator_set> sets() const noexcept { return _sets; }

 private:
  std::vector<validator_set> _sets;
};

// AbstractMultisigIsm.verify: exactly the first `threshold` signatures are checked (fewer present: no_quorum);
// each must recover (OpenZeppelin rules: low s, v 27 or 28; else bad_signature) to a validator later in the list
// than the previous one (a validator not in the set: bad_signature; one already passed, so a duplicate or out of
// order: no_quorum). Signatures past the threshold are ignored, as on chain.
verdict verify_checkpoint(const checkpoint& signed_checkpoint, std::uint32_t origin,
                          const validator_set& validators) noexcept;

// The envelope as the data plane sees it: the validator set is the one for the message's origin
// (unknown_key_set when none), with that set's ISM type.
verdict verify_envelope(const envelope_view& envelope, const validator_registry& validators) noexcept;

// The cheap half of verify_envelope (everything but the recoveries), for the verified-digest cache.
verdict check_envelope_structure(const envelope_view& envelope, const validator_registry& validators) noexcept;

}  // namespace ferry::verify::hyperlane

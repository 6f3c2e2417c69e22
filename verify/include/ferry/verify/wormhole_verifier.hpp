#pragma once
// Wormhole guardian sets and VAA verification, as Ethereum's core contract does it (Messages.sol
// verifyVMInternal, verifySignatures; Governance.sol for guardian set upgrades).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verdict.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::verify::wormhole {

inline constexpr std::uint64_t set_expiry_seconds = 86400;  // an old set stays valid this long after an upgrade

// Signatures needed from a set of `guardians`: floor(2n/3) + 1, 13 of 19.
constexpr std::size_t quorum(std::size_t guardians) noexcept { return guardians * 2 / 3 + 1; }

struct guardian_set {
  std::uint32_t index = 0;
  std::vector<eth_address> keys;     // a signature's guardian_index indexes this list; 1 to 255 keys
  std::uint64_t expiration_time = 0;  // unix seconds after which the set, once not current, is refused (as on
                                      // EVM, a set that is not current and has 0 here is refused at once)
};

// Every guardian set a router knows, by index, and which is current. Built by the control plane, then read-only.
class guardian_registry {
 public:
  // Fails (naming the set) when the index is already present, or the set has no keys or more than 255.
  platform::result<void> add(guardian_set set);
  // Which set is current: it never expires. Fails when no set has that index.
  platform::result<void> set_current(std::uint32_t index);

  const guardian_set* find(std::uint32_t index) const noexcept;
  std::optional<std::uint32_t> current_index() const noexcept { return _current; }
  std::span<const guardian_set> sets() const noexcept { return _sets; }

  // What a verified guardian set upgrade does: the new set becomes current, the old current one expires
  // expiry_seconds after `now` (the core contract's is set_expiry_seconds). Fails when new_index is not
  // current + 1 (Governance.sol's rule) or the keys are not a valid set.
  platform::result<void> upgrade(std::uint32_t new_index, std::vector<eth_address> keys, std::uint64_t now,
                                 std::uint64_t expiry_seconds = set_expiry_seconds);

 private:
  std::vector<guardian_set> _sets;  // few, so a scan beats a map
  std::optional<std::uint32_t> _current;
};

enum class network : std::uint8_t {
  mainnet,  // sets 0 to 7 (../shared/vectors/wormhole/guardian_sets.txt), 7 current, the older ones expired
  devnet,   // Tilt's single test guardian as set 0 (a public key pair; never trust it in production)
};

std::optional<network> network_from_string(std::string_view name) noexcept;  // "mainnet", "devnet"
std::string_view to_string(network n) noexcept;
guardian_registry built_in_guardian_sets(network n);

// The Tilt devnet guardian's secret key, for signing test and demo VAAs (public knowledge, by design).
std::span<const std::byte, 32> devnet_guardian_secret() noexcept;

// keccak256(keccak256(body)): what the guardians sign.
hash256 signing_digest(const vaa_view& vaa) noexcept;

enum class expiry : std::uint8_t {
  enforce,  // the data plane: a set past its expiration_time is refused
  ignore,   // an operator inspecting an old message: judge the signatures alone
};

// Checks in Messages.sol's order: the set exists and has keys (unknown_key_set); it has not expired when not
// current (expired_key_set); the signature count reaches quorum (no_quorum); guardian indices strictly ascend
// (no_quorum: a repeated signer does not count twice); each index is inside the set and each signature
// recovers to its guardian (bad_signature: one bad signature rejects the VAA even when the rest reach quorum).
// `now` is unix seconds. Costs one recovery per signature, all checks before the first.
verdict verify_vaa(const vaa_view& vaa, const guardian_registry& sets, std::uint64_t now,
                   expiry rule = expiry::enforce) noexcept;

// The cheap half of verify_vaa (everything but the recoveries), for callers that have already verified the
// same bytes (the verified-digest cache) and must still refuse a set that has since expired.
verdict check_vaa_structure(const vaa_view& vaa, const guardian_registry& sets, std::uint64_t now,
                            expiry rule = expiry::enforce) noexcept;

// A guardian set upgrade (core governance, action 2), read from a VAA's payload.
struct guardian_set_upgrade {
  std::uint16_t chain = 0;  // 0: every chain
  std::uint32_t new_index = 0;
  std::vector<eth_address> keys;
};

// Checks the emitter (chain 1, address 0x00..04), module "Core" (right-aligned in 32 bytes), action 2 and the key
// count against the payload's length. Does not verify signatures: verify the VAA first.
std::optional<guardian_set_upgrade> parse_guardian_set_upgrade(const vaa_view& vaa);

// The largest guardian set upgrade VAA that can verify: 255 signatures (indices must ascend within a set of at most
// 255), the fixed body, and a payload of exactly 40 bytes plus 255 addresses (parse_guardian_set_upgrade refuses any
// other length): 6 + 255 x 66 + 51 + 40 + 255 x 20 = 22,027 bytes. Mainnet's upgrades to 19 guardians are 1,731.
inline constexpr std::size_t max_guardian_set_upgrade_size =
    header_size + 255 * signature_size + body_fixed_size + 40 + 255 * 20;
static_assert(max_guardian_set_upgrade_size == 22027);

// The payload of a guardian set upgrade, for tests and tools that make their own. Empty when there are more than
// 255 keys, which the one-byte count cannot say.
std::vector<std::byte> encode_guardian_set_upgrade(const guardian_set_upgrade& upgrade);

}  // namespace ferry::verify::wormhole

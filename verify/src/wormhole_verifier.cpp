#include "ferry/verify/wormhole_verifier.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "ferry/platform/endian.hpp"

namespace ferry::verify::wormhole {

namespace {

constexpr std::size_t max_guardians = 255;  // a signature names its guardian in one byte

// Governance.sol: upgrades come from the governance emitter on Solana (chain 1), address 0x00..04.
constexpr std::uint16_t governance_chain = 1;
constexpr std::array<std::byte, 32> governance_emitter = [] {
  std::array<std::byte, 32> a{};
  a[31] = std::byte{0x04};
  return a;
}();
// GovernanceStructs.sol: the module is a bytes32 holding "Core" right-aligned, as Solidity compares it.
constexpr std::array<std::byte, 32> core_module = [] {
  std::array<std::byte, 32> a{};
  a[28] = std::byte{'C'};
  a[29] = std::byte{'o'};
  a[30] = std::byte{'r'};
  a[31] = std::byte{'e'};
  return a;
}();
constexpr std::uint8_t guardian_set_upgrade_action = 2;

// Payload offsets of a guardian set upgrade.
constexpr std::size_t action_at = 32;
constexpr std::size_t chain_at = 33;
constexpr std::size_t new_index_at = 35;
constexpr std::size_t key_count_at = 39;
constexpr std::size_t keys_at = 40;
constexpr std::size_t address_size = 20;

std::string set_name(std::uint32_t index) { return "guardian set " + std::to_string(index); }

platform::result<void> check_keys(const std::vector<eth_address>& keys) {
  if (keys.empty()) return platform::error("has no keys; a set needs 1 to 255 guardian addresses");
  if (keys.size() > max_guardians) {
    return platform::error("has " + std::to_string(keys.size()) +
                           " keys; a signature's guardian index is one byte, so a set holds at most 255");
  }
  return {};
}

// Everything verify_vaa checks before its first recovery. `set` is filled when the VAA names a set with keys.
verdict check_structure(const vaa_view& vaa, const guardian_registry& sets, std::uint64_t now, expiry rule,
                        const guardian_set*& set) noexcept {
  const std::uint32_t index = vaa.guardian_set_index();
  set = sets.find(index);
  // Messages.sol reads a set it never stored as one with no keys: both are "invalid guardian set".
  if (set == nullptr || set->keys.empty()) return verdict::unknown_key_set;
  // As Messages.sol: only a set that is not current can expire, strictly after its time, and one with no time
  // set (0) is expired already.
  if (rule == expiry::enforce && sets.current_index() != index && now > set->expiration_time) {
    return verdict::expired_key_set;
  }
  const std::size_t count = vaa.signature_count();
  if (count < quorum(set->keys.size())) return verdict::no_quorum;
  // Messages.sol checks order and bounds per signature after each ecrecover; doing them all first rejects the
  // same VAAs without spending a recovery on one that is refused anyway.
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t guardian = vaa.signature(static_cast<std::uint8_t>(i)).guardian_index;
    // Strictly ascending is also the duplicate check: a signer repeated would otherwise count twice.
    if (i > 0 && guardian <= vaa.signature(static_cast<std::uint8_t>(i - 1)).guardian_index) {
      return verdict::no_quorum;
    }
    if (guardian >= set->keys.size()) return verdict::bad_signature;
  }
  return verdict::valid;
}

}  // namespace

platform::result<void> guardian_registry::add(guardian_set set) {
  if (find(set.index) != nullptr) return platform::error(set_name(set.index) + ": already present");
  if (auto keys = check_keys(set.keys); !keys.ok()) return std::move(keys).context(set_name(set.index));
  _sets.push_back(std::move(set));
  return {};
}

platform::result<void> guardian_registry::set_current(std::uint32_t index) {
  if (find(index) == nullptr) return platform::error(set_name(index) + ": unknown; add it before making it current");
  _current = index;
  return {};
}

const guardian_set* guardian_registry::find(std::uint32_t index) const noexcept {
  for (const guardian_set& set : _sets) {
    if (set.index == index) return &set;
  }
  return nullptr;
}

platform::result<void> guardian_registry::upgrade(std::uint32_t new_index, std::vector<eth_address> keys,
                                                  std::uint64_t now, std::uint64_t expiry_seconds) {
  const std::string what = "upgrade to " + set_name(new_index);
  if (!_current) return platform::error("no current guardian set to upgrade from").context(what);
  // Governance.sol: "index must increase in steps of 1" (widened, so that the last index cannot wrap to 0).
  if (std::uint64_t{new_index} != std::uint64_t{*_current} + 1) {
    return platform::error("the current set is " + std::to_string(*_current) + ", so the next must be " +
                           std::to_string(std::uint64_t{*_current} + 1))
        .context(what);
  }
  if (auto valid = check_keys(keys); !valid.ok()) return std::move(valid).context(what);
  if (find(new_index) != nullptr) return platform::error("already present").context(what);

  // Every check is done; the order below keeps the registry unchanged should push_back throw.
  const std::uint32_t old_index = *_current;
  _sets.push_back(guardian_set{new_index, std::move(keys), 0});
  for (guardian_set& set : _sets) {
    if (set.index != old_index) continue;
    constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
    set.expiration_time = now > last - expiry_seconds ? last : now + expiry_seconds;
  }
  _current = new_index;
  return {};
}

hash256 signing_digest(const vaa_view& vaa) noexcept {
  const hash256 once = keccak256(vaa.body());
  return keccak256(once);
}

verdict check_vaa_structure(const vaa_view& vaa, const guardian_registry& sets, std::uint64_t now,
                            expiry rule) noexcept {
  const guardian_set* set = nullptr;
  return check_structure(vaa, sets, now, rule, set);
}

verdict verify_vaa(const vaa_view& vaa, const guardian_registry& sets, std::uint64_t now, expiry rule) noexcept {
  const guardian_set* set = nullptr;
  if (const verdict v = check_structure(vaa, sets, now, rule, set); v != verdict::valid) return v;
  const hash256 digest = signing_digest(vaa);
  for (std::uint8_t i = 0; i < vaa.signature_count(); ++i) {
    const signature_view sig = vaa.signature(i);
    // v on the wire is the recovery id; Messages.sol adds 27 for ecrecover, which knows only 27 and 28, so any
    // other byte fails there as recover_address refuses it here. High s passes: the precompile accepts it.
    const std::optional<eth_address> signer =
        recover_address(digest, sig.rsv.first<64>(), std::to_integer<std::uint8_t>(sig.rsv[64]), s_rule::any);
    if (!signer || *signer != set->keys[sig.guardian_index]) return verdict::bad_signature;
  }
  return verdict::valid;
}

std::optional<guardian_set_upgrade> parse_guardian_set_upgrade(const vaa_view& vaa) {
  if (vaa.emitter_chain() != governance_chain) return std::nullopt;
  if (!std::ranges::equal(vaa.emitter_address(), governance_emitter)) return std::nullopt;
  const std::span<const std::byte> payload = vaa.payload();
  if (payload.size() < keys_at) return std::nullopt;
  if (!std::ranges::equal(payload.first(core_module.size()), core_module)) return std::nullopt;
  if (std::to_integer<std::uint8_t>(payload[action_at]) != guardian_set_upgrade_action) return std::nullopt;
  const std::size_t count = std::to_integer<std::size_t>(payload[key_count_at]);
  // Governance.sol requires the payload to end exactly after the keys.
  if (payload.size() != keys_at + count * address_size) return std::nullopt;

  guardian_set_upgrade upgrade;
  upgrade.chain = platform::load_be16(payload.data() + chain_at);
  upgrade.new_index = platform::load_be32(payload.data() + new_index_at);
  upgrade.keys.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::memcpy(upgrade.keys[k].data(), payload.data() + keys_at + k * address_size, address_size);
  }
  return upgrade;
}

std::vector<std::byte> encode_guardian_set_upgrade(const guardian_set_upgrade& upgrade) {
  if (upgrade.keys.size() > max_guardians) return {};
  std::vector<std::byte> out(keys_at + upgrade.keys.size() * address_size);
  std::ranges::copy(core_module, out.begin());
  out[action_at] = std::byte{guardian_set_upgrade_action};
  platform::store_be16(out.data() + chain_at, upgrade.chain);
  platform::store_be32(out.data() + new_index_at, upgrade.new_index);
  out[key_count_at] = static_cast<std::byte>(upgrade.keys.size());
  for (std::size_t k = 0; k < upgrade.keys.size(); ++k) {
    std::memcpy(out.data() + keys_at + k * address_size, upgrade.keys[k].data(), address_size);
  }
  return out;
}

}  // namespace ferry::verify::wormhole

// libFuzzer target over Wormhole VAA verification. The input is a VAA, verified against the built-in mainnet and
// devnet guardian sets with expiry enforced and ignored, at an early `now` and, when the set it names has an
// expiration time, at that time and one second past it. Properties, besides ASan's and UBSan's:
// - expiry::ignore judges the signatures alone: it never says expired_key_set and does not depend on `now`;
//   expiry::enforce says the same as ignore or expired_key_set, which it says exactly when the set is not the
//   current one and `now` is past its expiration time (at the time itself the set is still good);
// - check_vaa_structure() is verify_vaa() before its recoveries: when it refuses, verify_vaa says the same; when
//   verify_vaa says valid, so does it;
// - a valid VAA stops being valid when a bit of its body (what the guardians sign) flips;
// - parse_guardian_set_upgrade() accepts only what Governance.sol does, and encode_guardian_set_upgrade() of what
//   it read gives back the payload byte for byte; applied to the devnet sets, the upgrade is taken exactly when
//   its index is the next one and it has keys, makes the new set current and expires the old one
//   set_expiry_seconds later.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using namespace ferry::verify::wormhole;
using ferry::testing::require;
using ferry::testing::same;

constexpr std::uint64_t early = 1;  // before any built-in set expires

const guardian_registry& mainnet() {
  static const guardian_registry sets = built_in_guardian_sets(network::mainnet);
  return sets;
}

const guardian_registry& devnet() {
  static const guardian_registry sets = built_in_guardian_sets(network::devnet);
  return sets;
}

// Whether the VAA, with one bit of its body flipped, verifies (signatures alone).
bool valid_with_body_bit_flipped(std::span<const std::byte> bytes, const vaa_view& vaa, std::size_t bit,
                                 const guardian_registry& sets) {
  std::vector<std::byte> copy(bytes.begin(), bytes.end());
  const std::size_t body_at = static_cast<std::size_t>(vaa.body().data() - bytes.data());
  copy[body_at + (bit / 8) % vaa.body().size()] ^= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
  vaa_view tampered;
  if (parse_vaa(copy, tampered) != ferry::verify::parse_status::ok) return false;
  return verify_vaa(tampered, sets, early, expiry::ignore) == verdict::valid;
}

void check_against(std::span<const std::byte> bytes, const vaa_view& vaa, const guardian_registry& sets) {
  const verdict ignored = verify_vaa(vaa, sets, early, expiry::ignore);
  const verdict ignored_cheap = check_vaa_structure(vaa, sets, early, expiry::ignore);
  require(ignored != verdict::expired_key_set && ignored_cheap != verdict::expired_key_set,
          "expiry::ignore said expired_key_set");
  if (ignored_cheap != verdict::valid) require(ignored == ignored_cheap, "verify_vaa differs from a refusing check");
  if (ignored == verdict::valid) require(ignored_cheap == verdict::valid, "check refused a valid VAA");

  const guardian_set* set = sets.find(vaa.guardian_set_index());
  const bool expires =
      set != nullptr && !set->keys.empty() && sets.current_index() != set->index && set->expiration_time != 0;
  std::array<std::uint64_t, 3> nows{early, 0, 0};
  std::size_t now_count = 1;
  if (set != nullptr && set->expiration_time != 0) {
    nows[now_count++] = set->expiration_time;
    if (set->expiration_time != std::numeric_limits<std::uint64_t>::max()) nows[now_count++] = set->expiration_time + 1;
  }
  for (std::size_t k = 0; k < now_count; ++k) {
    const std::uint64_t now = nows[k];
    require(check_vaa_structure(vaa, sets, now, expiry::ignore) == ignored_cheap, "expiry::ignore depends on now");
    const verdict cheap = check_vaa_structure(vaa, sets, now, expiry::enforce);
    const bool past = expires && now > set->expiration_time;
    if (past) {
      require(cheap == verdict::expired_key_set, "a set past its expiration time was not refused");
    } else {
      require(cheap == ignored_cheap, "expiry::enforce refused a set that has not expired");
    }
    const verdict full = verify_vaa(vaa, sets, now, expiry::enforce);
    if (cheap != verdict::valid) require(full == cheap, "verify_vaa differs from a refusing check (enforce)");
    require(full == ignored || (past && full == verdict::expired_key_set),
            "expiry::enforce and expiry::ignore differ other than by expired_key_set");
  }

  if (ignored == verdict::valid) {
    const std::size_t bits = vaa.body().size() * 8;
    const std::size_t picked = (bytes.size() * 131 + std::to_integer<std::size_t>(bytes.back())) % bits;
    for (const std::size_t bit : {std::size_t{0}, bits - 1, picked}) {
      require(!valid_with_body_bit_flipped(bytes, vaa, bit, sets),
              "a valid VAA is still valid with a body bit flipped");
    }
  }
}

void check_upgrade(const vaa_view& vaa) {
  const std::optional<guardian_set_upgrade> upgrade = parse_guardian_set_upgrade(vaa);
  if (!upgrade) return;
  std::array<std::byte, 32> governance{};
  governance[31] = std::byte{4};
  require(vaa.emitter_chain() == 1 && same(vaa.emitter_address(), governance),
          "an upgrade accepted from an emitter other than governance's");
  require(upgrade->keys.size() <= 255, "an upgrade with more keys than a count byte can say");
  const std::vector<std::byte> payload = encode_guardian_set_upgrade(*upgrade);
  require(same(payload, vaa.payload()), "encode_guardian_set_upgrade differs from the payload it was read from");

  // The sequence, any u64, stands in for the time of the upgrade, so that the expiration can saturate.
  const std::uint64_t at = vaa.sequence();
  guardian_registry sets = devnet();
  const bool next = upgrade->new_index == 1 && !upgrade->keys.empty();
  require(sets.upgrade(upgrade->new_index, upgrade->keys, at).ok() == next,
          "guardian_registry::upgrade took a wrong index or an empty set, or refused a good one");
  if (!next) return;
  constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  const guardian_set* old_set = sets.find(0);
  const guardian_set* new_set = sets.find(1);
  require(sets.current_index() == 1 && new_set != nullptr && new_set->keys == upgrade->keys &&
              new_set->expiration_time == 0,
          "the upgraded set is not current with its keys");
  require(old_set != nullptr &&
              old_set->expiration_time == (at > last - set_expiry_seconds ? last : at + set_expiry_seconds),
          "the replaced set does not expire set_expiry_seconds after the upgrade");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  vaa_view vaa;
  if (parse_vaa(bytes, vaa) != ferry::verify::parse_status::ok) return 0;
  check_against(bytes, vaa, mainnet());
  check_against(bytes, vaa, devnet());
  check_upgrade(vaa);
  return 0;
}

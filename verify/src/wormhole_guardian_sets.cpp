// The guardian sets ferry knows without configuration: Wormhole mainnet's, and Tilt devnet's test guardian.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/platform/hex.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::verify::wormhole {

namespace {

// Reached only while a constant below is evaluated: a typo in the tables stops the build instead of shipping.
void not_hex_of_the_expected_length() {}

consteval int nibble(char c) {
  const int value = platform::hex_value(c);
  if (value < 0) not_hex_of_the_expected_length();
  return value;
}

template <std::size_t N>
consteval std::array<std::byte, N> from_hex(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  if (hex.size() != 2 * N) not_hex_of_the_expected_length();
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    out[i] = static_cast<std::byte>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return out;
}

consteval eth_address address(std::string_view hex) { return from_hex<20>(hex); }

// Mainnet, as ../shared/vectors/wormhole/guardian_sets.txt holds it (wormhole-foundation/wormhole @ 640e1848,
// guardianset/mainnetv2/canonical_sets/v<N>.prototxt); the order is the guardian index order signatures use.
// tests/verify/wormhole_verifier_test.cpp compares these tables with that file line by line.
constexpr std::array<eth_address, 1> mainnet_set_0{
    address("0x58CC3AE5C097b213cE3c81979e1B9f9570746AA5"),
};
constexpr std::array<eth_address, 19> mainnet_set_1{
    address("0x58CC3AE5C097b213cE3c81979e1B9f9570746AA5"),  //  0 Certus One
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x11b39756C042441BE6D8650b69b54EbE715E2343"),  //  5 HashQuark
    address("0x54Ce5B4D348fb74B958e8966e2ec3dBd4958a7cd"),  //  6 Chainlayer
    address("0xeB5F7389Fa26941519f0863349C223b73a6DDEE7"),  //  7 DokiaCapital
    address("0x74a3bf913953D695260D88BC1aA25A4eeE363ef0"),  //  8 Forbole
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0x71AA1BE1D36CaFE3867910F99C09e347899C19C3"),  // 14 Everstake
    address("0x8192b6E7387CCd768277c17DAb1b7a5027c0b3Cf"),  // 15 Chorus One
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x5E1487F35515d02A92753504a8D75471b9f49EdB"),  // 17 Triton
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_2{
    address("0x58CC3AE5C097b213cE3c81979e1B9f9570746AA5"),  //  0 Certus One
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x11b39756C042441BE6D8650b69b54EbE715E2343"),  //  5 HashQuark
    address("0x54Ce5B4D348fb74B958e8966e2ec3dBd4958a7cd"),  //  6 Chainlayer
    address("0x66B9590e1c41e0B226937bf9217D1d67Fd4E91F5"),  //  7 FTX
    address("0x74a3bf913953D695260D88BC1aA25A4eeE363ef0"),  //  8 Forbole
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0x71AA1BE1D36CaFE3867910F99C09e347899C19C3"),  // 14 Everstake
    address("0x8192b6E7387CCd768277c17DAb1b7a5027c0b3Cf"),  // 15 Chorus One
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x5E1487F35515d02A92753504a8D75471b9f49EdB"),  // 17 Triton
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_3{
    address("0x58CC3AE5C097b213cE3c81979e1B9f9570746AA5"),  //  0 Certus One
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x11b39756C042441BE6D8650b69b54EbE715E2343"),  //  5 HashQuark
    address("0x54Ce5B4D348fb74B958e8966e2ec3dBd4958a7cd"),  //  6 Chainlayer
    address("0x15e7cAF07C4e3DC8e7C469f92C8Cd88FB8005a20"),  //  7 xLabs
    address("0x74a3bf913953D695260D88BC1aA25A4eeE363ef0"),  //  8 Forbole
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0x71AA1BE1D36CaFE3867910F99C09e347899C19C3"),  // 14 Everstake
    address("0x8192b6E7387CCd768277c17DAb1b7a5027c0b3Cf"),  // 15 Chorus One
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x5E1487F35515d02A92753504a8D75471b9f49EdB"),  // 17 Triton
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_4{
    address("0x5893B5A76c3f739645648885bDCcC06cd70a3Cd3"),  //  0 RockawayX
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x11b39756C042441BE6D8650b69b54EbE715E2343"),  //  5 HashQuark
    address("0x54Ce5B4D348fb74B958e8966e2ec3dBd4958a7cd"),  //  6 Chainlayer
    address("0x15e7cAF07C4e3DC8e7C469f92C8Cd88FB8005a20"),  //  7 xLabs
    address("0x74a3bf913953D695260D88BC1aA25A4eeE363ef0"),  //  8 Forbole
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0x71AA1BE1D36CaFE3867910F99C09e347899C19C3"),  // 14 Everstake
    address("0x8192b6E7387CCd768277c17DAb1b7a5027c0b3Cf"),  // 15 Chorus One
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x5E1487F35515d02A92753504a8D75471b9f49EdB"),  // 17 Triton
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_5{
    address("0x5893B5A76c3f739645648885bDCcC06cd70a3Cd3"),  //  0 RockawayX
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x11b39756C042441BE6D8650b69b54EbE715E2343"),  //  5 HashQuark
    address("0x938f104AEb5581293216ce97d771e0CB721221B1"),  //  6 Chainlayer
    address("0x15e7cAF07C4e3DC8e7C469f92C8Cd88FB8005a20"),  //  7 xLabs
    address("0x74a3bf913953D695260D88BC1aA25A4eeE363ef0"),  //  8 Forbole
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0xD1F64e26238811de5553C40f64af41eE1B6057Cc"),  // 14 Everstake
    address("0x43ac8f567A31e7850Da532B361988Bfe0d3ae11b"),  // 15 Chorus One
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x5E1487F35515d02A92753504a8D75471b9f49EdB"),  // 17 Triton
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_6{
    address("0x5893B5A76c3f739645648885bDCcC06cd70a3Cd3"),  //  0 RockawayX
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x42579bFFbCF4276E290aB8E4C162bd4052b97970"),  //  5 HashQuark
    address("0x938f104AEb5581293216ce97d771e0CB721221B1"),  //  6 Chainlayer
    address("0x18e41674CcF26329cD111406C1D05C6c80b23EdC"),  //  7 xLabs
    address("0x9D16870160e703324D057c3361c34C5beFBa2c34"),  //  8 Liquify
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0xD1F64e26238811de5553C40f64af41eE1B6057Cc"),  // 14 Everstake
    address("0x3F851Ad586A47ceF8d04748f33ab0D71395f06b4"),  // 15 DSRV
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x7899cEAB1DC961Dae9defDB7A4f521269a5448FC"),  // 17 Google Cloud
    address("0x6FbEBc898F403E4773E95feB15E80C9A99c8348d"),  // 18 Staking Facilities
};
constexpr std::array<eth_address, 19> mainnet_set_7{
    address("0x5893B5A76c3f739645648885bDCcC06cd70a3Cd3"),  //  0 RockawayX
    address("0xfF6CB952589BDE862c25Ef4392132fb9D4A42157"),  //  1 Staked
    address("0x114De8460193bdf3A2fCf81f86a09765F4762fD1"),  //  2 Figment
    address("0x107A0086b32d7A0977926A205131d8731D39cbEB"),  //  3 ChainodeTech
    address("0x8C82B2fd82FaeD2711d59AF0F2499D16e726f6b2"),  //  4 Inotel
    address("0x42579bFFbCF4276E290aB8E4C162bd4052b97970"),  //  5 HashQuark
    address("0x938f104AEb5581293216ce97d771e0CB721221B1"),  //  6 Chainlayer
    address("0xF3ea0AD4FFB5a178AE4EBc21861651B25BdcbB91"),  //  7 Chainstack
    address("0x9D16870160e703324D057c3361c34C5beFBa2c34"),  //  8 Liquify
    address("0x000aC0076727b35FBea2dAc28fEE5cCB0fEA768e"),  //  9 Staking Fund
    address("0xAF45Ced136b9D9e24903464AE889F5C8a723FC14"),  // 10 MoonletWallet
    address("0xf93124b7c738843CBB89E864c862c38cddCccF95"),  // 11 P2P.ORG Validator
    address("0xD2CC37A4dc036a8D232b48f62cDD4731412f4890"),  // 12 01Node
    address("0xDA798F6896A3331F64b48c12D1D57Fd9cbe70811"),  // 13 MCF
    address("0xaE565927Bb8dB25CD8Bf3e7BB663D70023e4Ea78"),  // 14 Firstset
    address("0x3F851Ad586A47ceF8d04748f33ab0D71395f06b4"),  // 15 DSRV
    address("0x178e21ad2E77AE06711549CFBB1f9c7a9d8096e8"),  // 16 Syncnode
    address("0x7899cEAB1DC961Dae9defDB7A4f521269a5448FC"),  // 17 Google Cloud
    address("0x61D9800f9FCb4160FB0C6cf3A0902592bAC2B434"),  // 18 Senseinode
};

// Set 7 was installed by the gs7 governance VAA, whose timestamp is 1783669263; on EVM the set it replaced (6)
// then stayed valid set_expiry_seconds longer. Sets 0 to 5 were replaced earlier, at times the vectors do not
// record, so their real expiry was earlier still and is unknown here: they get set 6's bound, which errs towards
// accepting an old-set VAA for longer, never towards refusing a good one. Every one of them was long expired
// before this table was written, so with expiry enforced the difference is moot.
constexpr std::uint64_t gs7_installed_at = 1783669263;
constexpr std::uint64_t replaced_sets_expire_at = gs7_installed_at + set_expiry_seconds;

constexpr std::array<std::span<const eth_address>, 8> mainnet_sets{
    mainnet_set_0, mainnet_set_1, mainnet_set_2, mainnet_set_3,
    mainnet_set_4, mainnet_set_5, mainnet_set_6, mainnet_set_7,
};
constexpr std::uint32_t mainnet_current = 7;

// Tilt devnet guardian 0 (wormhole node/pkg/devnet/deterministic_bridge_key.go): a key pair published on purpose so
// that anyone can run a local network and sign test VAAs. Trusting it anywhere but a test network lets anyone
// forge messages.
constexpr std::array<std::byte, 32> devnet_secret =
    from_hex<32>("cfb12303a19cde580bb4dd771639b0d26bc68353645571a8cff516ab2ee113a0");
constexpr eth_address devnet_address = address("0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe");

// The tables above are fixed at build time, so a refusal here is a bug in this file, not a user's input.
void add_or_abort(guardian_registry& registry, guardian_set set) {
  if (!registry.add(std::move(set)).ok()) std::abort();
}

}  // namespace

std::optional<network> network_from_string(std::string_view name) noexcept {
  for (const network n : {network::mainnet, network::devnet}) {
    if (to_string(n) == name) return n;
  }
  return std::nullopt;
}

std::string_view to_string(network n) noexcept {
  switch (n) {
    case network::mainnet: return "mainnet";
    case network::devnet: return "devnet";
  }
  return "unknown";
}

guardian_registry built_in_guardian_sets(network n) {
  guardian_registry registry;
  std::uint32_t current = 0;
  switch (n) {
    case network::mainnet:
      for (std::uint32_t index = 0; index < mainnet_sets.size(); ++index) {
        const std::span<const eth_address> keys = mainnet_sets[index];
        add_or_abort(registry, guardian_set{index, std::vector<eth_address>(keys.begin(), keys.end()),
                                            index == mainnet_current ? 0 : replaced_sets_expire_at});
      }
      current = mainnet_current;
      break;
    case network::devnet:
      add_or_abort(registry, guardian_set{0, {devnet_address}, 0});
      break;
  }
  if (!registry.set_current(current).ok()) std::abort();
  return registry;
}

std::span<const std::byte, 32> devnet_guardian_secret() noexcept { return devnet_secret; }

}  // namespace ferry::verify::wormhole

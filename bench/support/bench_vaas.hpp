#pragma once
// Mainnet-shaped Wormhole VAAs for benchmarks: 13 signatures (mainnet's quorum) from a generated set of 19
// guardians, over a 100-byte payload. Each sequence number gives a distinct VAA; signing costs ~13 signatures.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verifier.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::bench {

class vaa_signer {
 public:
  static constexpr std::size_t guardians = 19;
  static constexpr std::size_t signatures = 13;
  static constexpr std::uint32_t set_index = 4;

  vaa_signer() {
    verify::wormhole::guardian_set set;
    set.index = set_index;
    for (std::size_t i = 0; i < guardians; ++i) {
      const std::string label = "ferry bench guardian " + std::to_string(i);
      _secrets.push_back(verify::keccak256(std::as_bytes(std::span(label.data(), label.size()))));
      set.keys.push_back(*verify::address_of_secret_key(_secrets.back()));
    }
    if (!_keys.wormhole.add(set) || !_keys.wormhole.set_current(set_index)) std::abort();
  }

  // The key sets that trust the generated guardians (set 4, current).
  const verify::key_sets& keys() const noexcept { return _keys; }

  // A VAA from Ethereum (chain 2) with this sequence number, signed by guardians 0 to 12.
  std::vector<std::byte> sign(std::uint64_t sequence) const {
    const std::vector<std::byte> payload(100, std::byte{0x42});
    std::vector<verify::wormhole::signature_fields> sigs(signatures);
    verify::wormhole::vaa_fields fields;
    fields.guardian_set_index = set_index;
    fields.signatures = sigs;
    fields.emitter_chain = 2;
    fields.sequence = sequence;
    fields.payload = payload;
    std::vector<std::byte> out(verify::wormhole::encoded_size(fields));
    verify::wormhole::encode_vaa(fields, out);
    verify::wormhole::vaa_view view;
    if (verify::wormhole::parse_vaa(out, view) != verify::parse_status::ok) std::abort();
    const verify::hash256 digest = verify::wormhole::signing_digest(view);
    for (std::size_t i = 0; i < sigs.size(); ++i) {
      sigs[i].guardian_index = static_cast<std::uint8_t>(i);
      sigs[i].rsv = *verify::sign_recoverable(digest, _secrets[i]);
    }
    verify::wormhole::encode_vaa(fields, out);
    return out;
  }

 private:
  std::vector<verify::hash256> _secrets;
  verify::key_sets _keys;
};

}  // namespace ferry::bench

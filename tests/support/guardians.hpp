#pragma once
// Wormhole guardian sets whose secrets a test holds: the devnet guardian (what ferry's devnet network trusts as
// set 0) and sets generated from a label, to sign VAAs for any set index, and guardian set upgrade VAAs with them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"
#include "support/bytes.hpp"

namespace ferry::testing {

class guardian_keys {
 public:
  // Tilt's devnet guardian: the one key of the devnet network's set 0.
  static guardian_keys devnet() {
    guardian_keys g;
    verify::hash256 secret;
    const auto devnet = verify::wormhole::devnet_guardian_secret();
    std::copy(devnet.begin(), devnet.end(), secret.begin());
    g.add(secret);
    return g;
  }

  // `count` guardians derived from `label` (the same label gives the same keys).
  static guardian_keys generated(const std::string& label, std::size_t count) {
    guardian_keys g;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string seed = label + " guardian " + std::to_string(i);
      g.add(verify::keccak256(std::as_bytes(std::span(seed.data(), seed.size()))));
    }
    return g;
  }

  const std::vector<verify::eth_address>& addresses() const noexcept { return _addresses; }

  // The addresses as a TOML list of quoted hex strings: ["0x..", ...].
  std::string toml_list() const {
    std::string out = "[";
    for (std::size_t i = 0; i < _addresses.size(); ++i) out += (i ? ", \"" : "\"") + hex(_addresses[i]) + "\"";
    return out + "]";
  }
  // One address a line, as a guardian key file holds them.
  std::string key_file() const {
    std::string out = "# generated for a test\n";
    for (const auto& a : _addresses) out += hex(a) + "\n";
    return out;
  }

  // A VAA naming set `set_index`, signed by a quorum of these guardians (the first floor(2n/3)+1).
  std::vector<std::byte> sign(verify::wormhole::vaa_fields fields, std::uint32_t set_index) const {
    std::vector<std::uint8_t> first(verify::wormhole::quorum(_secrets.size()));
    for (std::size_t i = 0; i < first.size(); ++i) first[i] = static_cast<std::uint8_t>(i);
    return sign_by(fields, set_index, first);
  }

  // A VAA naming set `set_index`, signed by the guardians at `signers` (indices into this set, assumed ascending
  // and each below the set's size; a quorum or not, as the test wants). The same fields signed by two different
  // quorums give two VAAs of different bytes that both verify.
  std::vector<std::byte> sign_by(verify::wormhole::vaa_fields fields, std::uint32_t set_index,
                                 std::span<const std::uint8_t> signers) const {
    std::vector<verify::wormhole::signature_fields> sigs(signers.size());
    fields.guardian_set_index = set_index;
    fields.signatures = sigs;
    std::vector<std::byte> out(verify::wormhole::encoded_size(fields));
    verify::wormhole::encode_vaa(fields, out);
    verify::wormhole::vaa_view view;
    if (verify::wormhole::parse_vaa(out, view) != verify::parse_status::ok) std::abort();
    const verify::hash256 digest = verify::wormhole::signing_digest(view);
    for (std::size_t i = 0; i < sigs.size(); ++i) {
      if (signers[i] >= _secrets.size()) std::abort();
      sigs[i].guardian_index = signers[i];
      sigs[i].rsv = *verify::sign_recoverable(digest, _secrets[signers[i]]);
    }
    verify::wormhole::encode_vaa(fields, out);
    return out;
  }

  // A plain VAA from `chain` with this sequence (payload of 32 bytes), signed for `set_index` by a quorum, or by
  // `signers` when given (as sign_by()).
  std::vector<std::byte> vaa(std::uint32_t set_index, std::uint16_t chain, std::uint64_t sequence,
                             const std::vector<std::uint8_t>& signers = {}) const {
    static const std::vector<std::byte> payload(32, std::byte{0x33});
    verify::wormhole::vaa_fields fields;
    fields.emitter_chain = chain;
    fields.emitter_address[31] = std::byte{0x77};
    fields.sequence = sequence;
    fields.payload = payload;
    return signers.empty() ? sign(fields, set_index) : sign_by(fields, set_index, signers);
  }

  // A guardian set upgrade to `next` (index and keys), from the governance emitter (chain 1, 0x00..04), signed by
  // these guardians as set `set_index`.
  std::vector<std::byte> upgrade(std::uint32_t set_index, std::uint32_t new_index, const guardian_keys& next,
                                 std::uint64_t sequence = 1) const {
    verify::wormhole::guardian_set_upgrade up;
    up.chain = 0;
    up.new_index = new_index;
    up.keys = next.addresses();
    const std::vector<std::byte> payload = verify::wormhole::encode_guardian_set_upgrade(up);
    verify::wormhole::vaa_fields fields;
    fields.emitter_chain = 1;
    fields.emitter_address[31] = std::byte{0x04};
    fields.sequence = sequence;
    fields.payload = payload;
    return sign(fields, set_index);
  }

 private:
  void add(const verify::hash256& secret) {
    _secrets.push_back(secret);
    _addresses.push_back(*verify::address_of_secret_key(secret));
  }
  static std::string hex(const verify::eth_address& a) { return "0x" + to_hex(a); }

  std::vector<verify::hash256> _secrets;
  std::vector<verify::eth_address> _addresses;
};

}  // namespace ferry::testing

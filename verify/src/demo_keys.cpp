#include "ferry/verify/demo_keys.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/layerzero_dvn.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::verify::demo {

namespace {
hash256 secret(std::string_view role) noexcept {
  std::array<char, 64> label{};
  const std::string_view prefix = "ferry demo ";
  std::memcpy(label.data(), prefix.data(), prefix.size());
  std::memcpy(label.data() + prefix.size(), role.data(), role.size());
  return keccak256(std::as_bytes(std::span(label.data(), prefix.size() + role.size())));
}

// The secrets are keccak outputs, valid secp256k1 keys with overwhelming odds; these three were checked once.
eth_address address_of(std::string_view role) noexcept {
  const auto address = address_of_secret_key(secret(role));
  if (!address) std::abort();
  return *address;
}

std::array<std::byte, 65> sign(const hash256& digest, const hash256& key) noexcept {
  const auto signature = sign_recoverable(digest, key);
  if (!signature) std::abort();  // only for an invalid key, and the demo keys are valid
  return *signature;
}

// The demo validator's merkle tree hook: any fixed value does, since validators sign over it.
constexpr std::array<std::byte, 32> merkle_tree_hook{std::byte{0xfe}, std::byte{0x77}};

constexpr std::string_view hyperlane_role = "hyperlane validator 0";
constexpr std::string_view dvn_role = "layerzero dvn 0";
constexpr std::string_view dvn_signer_role = "layerzero dvn 0 signer 0";
constexpr std::string_view quorum_role = "quorum key 0";
}  // namespace

eth_address hyperlane_validator() noexcept { return address_of(hyperlane_role); }
eth_address layerzero_dvn() noexcept { return address_of(dvn_role); }
eth_address layerzero_dvn_signer() noexcept { return address_of(dvn_signer_role); }
ed25519_public_key quorum_key() noexcept { return ed25519_key_pair_from_seed(secret(quorum_role)).public_key; }

std::size_t write_wormhole(const wormhole::vaa_fields& fields, std::span<std::byte> out) noexcept {
  const std::array<wormhole::signature_fields, 1> placeholder{};
  wormhole::vaa_fields unsigned_vaa = fields;
  unsigned_vaa.guardian_set_index = 0;
  unsigned_vaa.signatures = placeholder;
  const std::size_t size = wormhole::encode_vaa(unsigned_vaa, out);
  wormhole::vaa_view vaa;
  if (size == 0 || wormhole::parse_vaa(out.first(size), vaa) != parse_status::ok) return 0;
  hash256 key;
  std::memcpy(key.data(), wormhole::devnet_guardian_secret().data(), key.size());
  const auto signature = sign(wormhole::signing_digest(vaa), key);
  // the one signature sits after the header and its guardian index (0)
  std::memcpy(out.data() + wormhole::header_size + 1, signature.data(), signature.size());
  return size;
}

std::size_t write_hyperlane(const hyperlane::message_fields& message, std::span<std::byte> out) noexcept {
  // message-id multisig metadata: hook | root | index | one signature
  std::array<std::byte, 68 + hyperlane::signature_size> metadata{};
  std::memcpy(metadata.data(), merkle_tree_hook.data(), merkle_tree_hook.size());
  const std::size_t size = hyperlane::encode_envelope(message, metadata, out);
  hyperlane::envelope_view envelope;
  if (size == 0 || hyperlane::parse_envelope(out.first(size), envelope) != parse_status::ok) return 0;
  const hash256 id = hyperlane::message_id(envelope.message);
  const hash256 digest = hyperlane::checkpoint_digest(message.origin, merkle_tree_hook,
                                                      std::span(metadata).subspan<32, 32>(), 0, id);
  auto signature = sign(digest, secret(hyperlane_role));
  signature[64] = static_cast<std::byte>(std::to_integer<std::uint8_t>(signature[64]) + 27);
  std::byte* at = out.data() + size - hyperlane::signature_size;
  std::memcpy(at, signature.data(), signature.size());
  return size;
}

std::size_t write_layerzero(const layerzero::packet_fields& packet, std::span<std::byte> out) noexcept {
  layerzero::packet_fields fields = packet;
  fields.guid = layerzero::compute_guid(packet.nonce, packet.src_eid, packet.sender, packet.dst_eid, packet.receiver);
  constexpr std::uint64_t confirmations = 15;
  const eth_address dvn = layerzero_dvn();
  // confirmations | one DVN entry with one signature, signed once the packet is in place
  std::array<std::array<std::byte, 65>, 1> signatures{};
  const std::array<layerzero::dvn_signatures, 1> entries{{{dvn, signatures}}};
  std::array<std::byte, 8 + 1 + 20 + 1 + 65> attestation{};
  if (layerzero::encode_attestation(confirmations, entries, attestation) != attestation.size()) return 0;
  const std::size_t size = layerzero::encode_envelope(fields, attestation, out);
  layerzero::envelope_view envelope;
  if (size == 0 || layerzero::parse_envelope(out.first(size), envelope) != parse_status::ok) return 0;
  const hash256 digest = layerzero::attestation_digest(
      dvn, envelope.packet.header().first<layerzero::packet_header_size>(), layerzero::payload_hash(envelope.packet),
      confirmations);
  auto signature = sign(digest, secret(dvn_signer_role));
  signature[64] = static_cast<std::byte>(std::to_integer<std::uint8_t>(signature[64]) + 27);
  std::memcpy(out.data() + size - signature.size(), signature.data(), signature.size());
  return size;
}

std::size_t write_quorum(const quorum::message_fields& message, std::span<std::byte> out) noexcept {
  const ed25519_key_pair key = ed25519_key_pair_from_seed(secret(quorum_role));
  const std::array<quorum::signer, 1> signers{{{0, &key}}};
  return quorum::encode_signed(message, signers, out);
}

}  // namespace ferry::verify::demo

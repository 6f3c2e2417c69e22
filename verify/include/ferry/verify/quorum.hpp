#pragma once
// ferry's quorum-attested kind, for chains whose validators sign with Ed25519 (docs/wire-format.md):
//
//   message: version u8 (=1) | key_set u32 | source u32 | destination u32 | payload_length u32 | payload
//            | signature_count u8 | signature_count x ( signer_index u8 | signature[64] )
//
// Every signer signs the same 32 bytes, sha256(signing_domain | message up to the signature count), so that a
// long payload is hashed once however many sign it, and a signature made for something else cannot be replayed
// here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/ed25519.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/verdict.hpp"

namespace ferry::verify::quorum {

inline constexpr std::uint8_t message_version = 1;
inline constexpr std::size_t header_size = 17;     // version, key set, source, destination, payload length
inline constexpr std::size_t signature_size = 65;  // signer index | signature
inline constexpr std::array<std::byte, 16> signing_domain{
    std::byte{'f'}, std::byte{'e'}, std::byte{'r'}, std::byte{'r'}, std::byte{'y'}, std::byte{'/'},
    std::byte{'q'}, std::byte{'u'}, std::byte{'o'}, std::byte{'r'}, std::byte{'u'}, std::byte{'m'},
    std::byte{'/'}, std::byte{'v'}, std::byte{'1'}, std::byte{0}};

struct signature_view {
  std::uint8_t signer_index;
  std::span<const std::byte, 64> signature;
};

// A message whose lengths have been checked by parse_message().
class message_view {
 public:
  message_view() = default;

  std::uint32_t key_set() const noexcept;
  std::uint32_t source() const noexcept;
  std::uint32_t destination() const noexcept;
  std::span<const std::byte> payload() const noexcept;
  std::span<const std::byte> signed_part() const noexcept;  // header and payload
  std::uint8_t signature_count() const noexcept;
  signature_view signature(std::uint8_t i) const noexcept;  // i < signature_count()

 private:
  friend parse_status parse_message(std::span<const std::byte>, message_view&) noexcept;
  const std::byte* _data = nullptr;
  std::size_t _payload_size = 0;
};

// Checks the version and that the signatures fill the rest exactly; fills `out` only when ok.
parse_status parse_message(std::span<const std::byte> bytes, message_view& out) noexcept;

// sha256(signing_domain | signed_part).
hash256 signing_digest(const message_view& message) noexcept;

struct key_set {
  std::uint32_t id = 0;
  std::vector<ed25519_public_key> keys;  // a signature's signer_index indexes this list; 1 to 255 keys
  std::uint8_t threshold = 0;            // 1 to keys.size()
};

class key_set_registry {
 public:
  // Fails (naming the id) for a repeated id, no keys, a repeated key, or a threshold outside 1..keys.
  platform::result<void> add(key_set set);
  const key_set* find(std::uint32_t id) const noexcept;
  std::span<const key_set> sets() const noexcept { return _sets; }

 private:
  std::vector<key_set> _sets;
};

// Wormhole's strict rule with Ed25519: the set exists (unknown_key_set); at least `threshold` signatures
// (no_quorum); signer indices strictly ascend (no_quorum); each index is in the set and each signature verifies
// (bad_signature: one bad signature rejects the message). Costs one Ed25519 verification per signature.
verdict verify_message(const message_view& message, const key_set_registry& sets) noexcept;

// The cheap half of verify_message (everything but the signature checks), for the verified-digest cache.
verdict check_message_structure(const message_view& message, const key_set_registry& sets) noexcept;

struct message_fields {
  std::uint32_t key_set = 0;
  std::uint32_t source = 0;
  std::uint32_t destination = 0;
  std::span<const std::byte> payload;
};

std::size_t encoded_size(const message_fields& message, std::size_t signatures) noexcept;

// Writes the message signed by `signers` (pairs of signer index and key, indices ascending); returns the bytes
// written, or 0 when `out` is too small or there are over 255 signers. For the load generator, tests and tools.
struct signer {
  std::uint8_t index;
  const ed25519_key_pair* key;
};
std::size_t encode_signed(const message_fields& message, std::span<const signer> signers,
                          std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::quorum

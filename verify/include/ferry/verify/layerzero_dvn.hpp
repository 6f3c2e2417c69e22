#pragma once
// LayerZero v2 packets checked as a receive library does (ReceiveUln302 and the DVNs' MultiSig.sol): guid,
// payload hash, and DVN attestations in ferry's documented form (docs/wire-format.md).
//
//   attestation: confirmations u64 | dvn_count u8 | dvn_count x ( dvn[20] | signature_count u8
//                | signature_count x 65-byte signature )
//
// DVN entries strictly ascend by address. Each DVN's signers sign
//   EIP-191( keccak256( dvn[20] | packet_header[81] | payload_hash[32] | confirmations u64 ) ),
// the digest PROTOCOLS.md allows a router to define over (header, payload hash, confirmations), with the DVN's
// address added so that one DVN's signatures cannot stand in for another's.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verdict.hpp"

namespace ferry::verify::layerzero {

inline constexpr std::size_t signature_size = 65;  // r | s | v, v in {27, 28}

// keccak256(nonce u64 | src_eid u32 | sender | dst_eid u32 | receiver) (GUID.sol).
hash256 compute_guid(std::uint64_t nonce, std::uint32_t src_eid, std::span<const std::byte, 32> sender,
                     std::uint32_t dst_eid, std::span<const std::byte, 32> receiver) noexcept;
bool guid_valid(const packet_view& packet) noexcept;

// keccak256(guid | message).
hash256 payload_hash(const packet_view& packet) noexcept;

hash256 attestation_digest(const eth_address& dvn, std::span<const std::byte, packet_header_size> header,
                           const hash256& payload_hash, std::uint64_t confirmations) noexcept;

struct dvn_attestation {
  eth_address dvn;
  std::span<const std::byte> signatures;  // signature_count x 65 bytes
};

// An attestation read in place: at most 255 DVN entries.
struct attestation_view {
  std::uint64_t confirmations = 0;
  std::uint8_t dvn_count = 0;
  dvn_attestation dvn(std::uint8_t i) const noexcept;  // i < dvn_count
  std::span<const std::byte> entries;                  // the raw entries, checked by parse_attestation
};

// Checks every length and that DVN entries strictly ascend by address.
parse_status parse_attestation(std::span<const std::byte> bytes, attestation_view& out) noexcept;

// One DVN: a MultiSig of signers with a quorum.
struct dvn_config {
  eth_address address;
  std::vector<eth_address> signers;  // any order; 1 to 255
  std::uint8_t quorum = 0;           // 1 to signers.size()
};

// The receive-side configuration for packets from one source endpoint: every required DVN, plus
// optional_threshold of the optional ones, must attest.
struct path_config {
  std::uint32_t src_eid = 0;
  std::vector<dvn_config> required;
  std::vector<dvn_config> optional;
  std::uint8_t optional_threshold = 0;  // 0 to optional.size(); required and threshold not both empty/zero
};

class dvn_registry {
 public:
  // Fails (naming the eid) for a repeated eid, a DVN listed twice, a DVN without signers, with a signer listed twice
  // or with a quorum outside 1..signers, or a path that would need no attestation at all (or more than 255).
  platform::result<void> add(path_config path);
  const path_config* find(std::uint32_t src_eid) const noexcept;
  std::span<const path_config> paths() const noexcept { return _paths; }

 private:
  std::vector<path_config> _paths;
};

// One DVN's MultiSig.verifySignatures: exactly quorum x 65 bytes (else no_quorum); each signature recovers under
// OpenZeppelin's rules (else bad_signature) to a signer of the DVN (else bad_signature), strictly ascending by
// address (else no_quorum: that is also the duplicate check).
verdict verify_dvn(const dvn_config& dvn, const hash256& digest, std::span<const std::byte> signatures) noexcept;

// The envelope as the data plane sees it: guid checked (malformed when wrong), path configuration for the
// packet's src_eid (unknown_key_set), every DVN entry named in the path (an unknown DVN: unknown_key_set) with
// quorum x 65 signature bytes, the commit rule on the entries present: all required plus optional_threshold
// optional DVNs (no_quorum); then every entry present verified (the first failing entry's verdict).
verdict verify_envelope(const envelope_view& envelope, const dvn_registry& paths) noexcept;

// The cheap half of verify_envelope (everything but the recoveries), for the verified-digest cache.
verdict check_envelope_structure(const envelope_view& envelope, const dvn_registry& paths) noexcept;

// Writes an attestation for tests and tools; returns the bytes written, or 0 when `out` is too small.
struct dvn_signatures {
  eth_address dvn;
  std::span<const std::array<std::byte, 65>> signatures;
};
std::size_t encode_attestation(std::uint64_t confirmations, std::span<const dvn_signatures> dvns,
                               std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::layerzero

#include "ferry/verify/layerzero_dvn.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "ferry/platform/endian.hpp"

namespace ferry::verify::layerzero {

namespace {

constexpr std::size_t address_size = 20;
constexpr std::size_t attestation_fixed_size = 9;          // confirmations u64 | dvn_count u8
constexpr std::size_t entry_fixed_size = address_size + 1;  // dvn[20] | signature_count u8

eth_address to_address(const std::byte* p) noexcept {
  eth_address out;
  std::memcpy(out.data(), p, out.size());
  return out;
}

// Walks the entry at `at` in checked entries: its DVN, its signatures, and where the next one starts.
dvn_attestation entry_at(std::span<const std::byte> entries, std::size_t& at) noexcept {
  const std::size_t count = std::to_integer<std::size_t>(entries[at + address_size]);
  dvn_attestation out{to_address(entries.data() + at), entries.subspan(at + entry_fixed_size, count * signature_size)};
  at += entry_fixed_size + count * signature_size;
  return out;
}

const dvn_config* find_dvn(std::span<const dvn_config> dvns, const eth_address& address) noexcept {
  for (const dvn_config& dvn : dvns) {
    if (dvn.address == address) return &dvn;
  }
  return nullptr;
}

// Everything verify_envelope checks before the first recovery. The commit rule is counted on the entries
// present, ahead of any signature, so that a packet which could never commit costs no recovery.
verdict check_structure(const envelope_view& envelope, const dvn_registry& paths, attestation_view& attestation,
                        const path_config*& path) noexcept {
  if (!guid_valid(envelope.packet)) return verdict::malformed;
  if (parse_attestation(envelope.attestation, attestation) != parse_status::ok) return verdict::malformed;
  path = paths.find(envelope.packet.src_eid());
  if (path == nullptr) return verdict::unknown_key_set;
  std::size_t required = 0;
  std::size_t optional = 0;
  std::size_t at = 0;
  for (std::uint8_t i = 0; i < attestation.dvn_count; ++i) {
    const dvn_attestation entry = entry_at(attestation.entries, at);
    const dvn_config* dvn = find_dvn(path->required, entry.dvn);
    if (dvn != nullptr) {
      ++required;
    } else if ((dvn = find_dvn(path->optional, entry.dvn)) != nullptr) {
      ++optional;
    } else {
      return verdict::unknown_key_set;
    }
    if (entry.signatures.size() != std::size_t{dvn->quorum} * signature_size) return verdict::no_quorum;
  }
  // Entries ascend strictly, so none is counted twice.
  if (required != path->required.size() || optional < path->optional_threshold) return verdict::no_quorum;
  return verdict::valid;
}

}  // namespace

hash256 compute_guid(std::uint64_t nonce, std::uint32_t src_eid, std::span<const std::byte, 32> sender,
                     std::uint32_t dst_eid, std::span<const std::byte, 32> receiver) noexcept {
  std::array<std::byte, 8 + 4 + 32 + 4 + 32> packed;
  platform::store_be64(packed.data(), nonce);
  platform::store_be32(packed.data() + 8, src_eid);
  std::memcpy(packed.data() + 12, sender.data(), 32);
  platform::store_be32(packed.data() + 44, dst_eid);
  std::memcpy(packed.data() + 48, receiver.data(), 32);
  return keccak256(packed);
}

bool guid_valid(const packet_view& packet) noexcept {
  const hash256 guid =
      compute_guid(packet.nonce(), packet.src_eid(), packet.sender(), packet.dst_eid(), packet.receiver());
  return std::memcmp(guid.data(), packet.guid().data(), guid.size()) == 0;
}

hash256 payload_hash(const packet_view& packet) noexcept { return keccak256(packet.payload()); }

hash256 attestation_digest(const eth_address& dvn, std::span<const std::byte, packet_header_size> header,
                           const hash256& payload_hash, std::uint64_t confirmations) noexcept {
  std::array<std::byte, 8> confirmations_be;
  platform::store_be64(confirmations_be.data(), confirmations);
  const hash256 inner =
      keccak256_hasher{}.update(dvn).update(header).update(payload_hash).update(confirmations_be).finish();
  return eth_signed_message_hash(inner);
}

dvn_attestation attestation_view::dvn(std::uint8_t i) const noexcept {
  std::size_t at = 0;
  for (std::uint8_t skipped = 0; skipped < i; ++skipped) entry_at(entries, at);
  return entry_at(entries, at);
}

parse_status parse_attestation(std::span<const std::byte> bytes, attestation_view& out) noexcept {
  if (bytes.size() < attestation_fixed_size) return parse_status::truncated;
  const std::uint8_t count = std::to_integer<std::uint8_t>(bytes[8]);
  const std::span<const std::byte> entries = bytes.subspan(attestation_fixed_size);
  std::size_t at = 0;
  const std::byte* previous = nullptr;
  for (std::uint8_t i = 0; i < count; ++i) {
    if (entries.size() - at < entry_fixed_size) return parse_status::truncated;
    const std::size_t signatures = std::to_integer<std::size_t>(entries[at + address_size]) * signature_size;
    if (entries.size() - at - entry_fixed_size < signatures) return parse_status::truncated;
    // No parse_status names an order; any status but ok drops the packet as malformed, which is what a repeated
    // or unordered DVN deserves (it would otherwise be counted twice towards the commit rule).
    const std::byte* const dvn = entries.data() + at;
    if (previous != nullptr && std::memcmp(previous, dvn, address_size) >= 0) return parse_status::bad_length;
    previous = dvn;
    at += entry_fixed_size + signatures;
  }
  if (at != entries.size()) return parse_status::bad_length;
  out.confirmations = platform::load_be64(bytes.data());
  out.dvn_count = count;
  out.entries = entries;
  return parse_status::ok;
}

platform::result<void> dvn_registry::add(path_config path) {
  const std::string name = "layerzero src_eid " + std::to_string(path.src_eid);
  if (find(path.src_eid) != nullptr) return platform::error(name + ": already configured");
  // Required DVNs, then optional ones, as one list for the checks that span both.
  const std::size_t total = path.required.size() + path.optional.size();
  const auto dvn_at = [&](std::size_t k) -> const dvn_config& {
    return k < path.required.size() ? path.required[k] : path.optional[k - path.required.size()];
  };
  const auto describe = [&](std::size_t k) {
    return k < path.required.size() ? "required DVN " + std::to_string(k)
                                    : "optional DVN " + std::to_string(k - path.required.size());
  };
  for (std::size_t k = 0; k < total; ++k) {
    const dvn_config& dvn = dvn_at(k);
    const std::string what = name + ": " + describe(k);
    for (std::size_t j = 0; j < k; ++j) {
      if (dvn_at(j).address == dvn.address) {
        return platform::error(what + " repeats " + describe(j) + " (a DVN is listed once)");
      }
    }
    if (dvn.signers.empty() || dvn.signers.size() > 255) {
      return platform::error(what + ": needs 1 to 255 signers, has " + std::to_string(dvn.signers.size()));
    }
    for (std::size_t s = 0; s < dvn.signers.size(); ++s) {
      for (std::size_t t = 0; t < s; ++t) {
        if (dvn.signers[s] == dvn.signers[t]) {
          return platform::error(what + ": signer " + std::to_string(s) + " repeats signer " + std::to_string(t) +
                                 " (MultiSig holds a signer once)");
        }
      }
    }
    if (dvn.quorum == 0 || dvn.quorum > dvn.signers.size()) {
      return platform::error(what + ": quorum " + std::to_string(dvn.quorum) + " is outside 1.." +
                             std::to_string(dvn.signers.size()));
    }
  }
  if (path.optional_threshold > path.optional.size()) {
    return platform::error(name + ": optional_threshold " + std::to_string(path.optional_threshold) +
                           " is more than the " + std::to_string(path.optional.size()) + " optional DVNs");
  }
  if (path.required.empty() && path.optional_threshold == 0) {
    return platform::error(name + ": needs a required DVN or an optional_threshold of at least 1, "
                                  "else packets would commit with no attestation at all");
  }
  if (path.required.size() + path.optional_threshold > 255) {
    return platform::error(name + ": needs " + std::to_string(path.required.size() + path.optional_threshold) +
                           " DVNs to attest, more than the 255 an attestation carries");
  }
  _paths.push_back(std::move(path));
  return {};
}

const path_config* dvn_registry::find(std::uint32_t src_eid) const noexcept {
  for (const path_config& path : _paths) {
    if (path.src_eid == src_eid) return &path;
  }
  return nullptr;
}

verdict verify_dvn(const dvn_config& dvn, const hash256& digest, std::span<const std::byte> signatures) noexcept {
  if (signatures.size() != std::size_t{dvn.quorum} * signature_size) return verdict::no_quorum;
  const std::span<const eth_address> signers = dvn.signers;
  eth_address last{};  // MultiSig starts from address(0), which no key recovers to
  for (std::size_t i = 0; i < dvn.quorum; ++i) {
    const std::span<const std::byte> signature = signatures.subspan(i * signature_size, signature_size);
    const unsigned v = std::to_integer<unsigned>(signature[64]);
    if (v != 27 && v != 28) return verdict::bad_signature;
    const std::optional<eth_address> signer =
        recover_address(digest, signature.first<64>(), static_cast<std::uint8_t>(v - 27), s_rule::low_only);
    if (!signer) return verdict::bad_signature;
    // MultiSig.verifySignatures' order: the duplicate check comes before membership.
    if (std::memcmp(signer->data(), last.data(), last.size()) <= 0) return verdict::no_quorum;
    if (std::find(signers.begin(), signers.end(), *signer) == signers.end()) return verdict::bad_signature;
    last = *signer;
  }
  return verdict::valid;
}

verdict verify_envelope(const envelope_view& envelope, const dvn_registry& paths) noexcept {
  attestation_view attestation;
  const path_config* path = nullptr;
  const verdict structure = check_structure(envelope, paths, attestation, path);
  if (structure != verdict::valid) return structure;

  const std::span<const std::byte, packet_header_size> header(envelope.packet.bytes().data(), packet_header_size);
  const hash256 payload = payload_hash(envelope.packet);
  std::size_t at = 0;
  for (std::uint8_t i = 0; i < attestation.dvn_count; ++i) {
    const dvn_attestation entry = entry_at(attestation.entries, at);
    const dvn_config* dvn = find_dvn(path->required, entry.dvn);
    if (dvn == nullptr) dvn = find_dvn(path->optional, entry.dvn);
    // Every entry present counts, past the threshold too: one that fails rejects the packet.
    const verdict one = verify_dvn(*dvn, attestation_digest(entry.dvn, header, payload, attestation.confirmations),
                                   entry.signatures);
    if (one != verdict::valid) return one;
  }
  return verdict::valid;
}

verdict check_envelope_structure(const envelope_view& envelope, const dvn_registry& paths) noexcept {
  attestation_view attestation;
  const path_config* path = nullptr;
  return check_structure(envelope, paths, attestation, path);
}

std::size_t encode_attestation(std::uint64_t confirmations, std::span<const dvn_signatures> dvns,
                               std::span<std::byte> out) noexcept {
  if (dvns.size() > 255) return 0;
  std::size_t size = attestation_fixed_size;
  for (const dvn_signatures& dvn : dvns) {
    if (dvn.signatures.size() > 255) return 0;
    size += entry_fixed_size + dvn.signatures.size() * signature_size;
  }
  if (out.size() < size) return 0;
  std::byte* p = out.data();
  platform::store_be64(p, confirmations);
  p[8] = static_cast<std::byte>(dvns.size());
  p += attestation_fixed_size;
  for (const dvn_signatures& dvn : dvns) {
    std::memcpy(p, dvn.dvn.data(), address_size);
    p[address_size] = static_cast<std::byte>(dvn.signatures.size());
    p += entry_fixed_size;
    for (const std::array<std::byte, 65>& signature : dvn.signatures) {
      std::memcpy(p, signature.data(), signature_size);
      p += signature_size;
    }
  }
  return size;
}

}  // namespace ferry::verify::layerzero

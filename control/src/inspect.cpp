#include "ferry/control/inspect.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "ferry/platform/endian.hpp"
#include "ferry/platform/hex.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/layerzero_dvn.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/verdict.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::ctl {

namespace {

namespace hl = verify::hyperlane;
namespace lz = verify::layerzero;
namespace wh = verify::wormhole;

// Ordered, so that the fields come out in the order docs/inspect.md lists them.
using json = nlohmann::ordered_json;
using bytes = std::vector<std::byte>;
using verify::eth_address;
using verify::parse_status;
using verify::verdict;

// Far beyond any message these protocols carry; it keeps `--file /dev/zero` from eating the machine.
constexpr std::size_t max_file_size = std::size_t{16} << 20;
constexpr std::size_t max_validators = 255;  // the threshold is one byte on chain, and so the list's useful length

std::string hex(std::span<const std::byte> data) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out = "0x";
  out.reserve(2 + data.size() * 2);
  for (const std::byte b : data) {
    const auto v = std::to_integer<std::size_t>(b);
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 0xf]);
  }
  return out;
}

int base64_digit(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// A character as an error message shows it: itself when printable, its code otherwise (a stray newline or NUL
// would be invisible).
std::string shown(char c) {
  const auto code = static_cast<unsigned char>(c);
  if (code >= 0x20 && code < 0x7f) return std::string("'") + c + "'";
  static constexpr std::string_view digits = "0123456789abcdef";
  return std::string("byte 0x") + digits[code >> 4] + digits[code & 0xf];
}

platform::result<bytes> read_file(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return platform::error("'" + path + "': " + std::strerror(errno));
  bytes out;
  std::array<std::byte, 4096> chunk;
  for (;;) {
    const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (out.size() > max_file_size) {
      return platform::error("'" + path + "': larger than " + std::to_string(max_file_size >> 20) +
                             " MiB, which no message is");
    }
    if (n < chunk.size()) break;
  }
  if (std::ferror(file.get()) != 0) return platform::error("'" + path + "': " + std::strerror(errno));
  return out;
}

// The message's bytes from whichever one of --hex, --base64 and --file was given.
platform::result<bytes> read_input(const inspect_request& request) {
  const int given = int{request.hex.has_value()} + int{request.base64.has_value()} + int{request.file.has_value()};
  if (given == 0) return platform::error("give the message with one of --hex, --base64 or --file");
  if (given > 1) return platform::error("give the message once: only one of --hex, --base64 and --file");
  if (request.hex) {
    auto decoded = decode_hex(*request.hex);
    if (!decoded) return std::move(decoded).context("--hex");
    return decoded;
  }
  if (request.base64) {
    auto decoded = decode_base64(*request.base64);
    if (!decoded) return std::move(decoded).context("--base64");
    return decoded;
  }
  auto contents = read_file(*request.file);
  if (!contents) return std::move(contents).context("--file");
  return contents;
}

struct ism_options {
  hl::ism_type type = hl::ism_type::message_id_multisig;
  bytes metadata;
  std::vector<eth_address> validators;
  std::uint8_t threshold = 0;
};

platform::result<std::vector<eth_address>> parse_validators(std::string_view list) {
  std::vector<eth_address> out;
  for (std::size_t entry = 1;; ++entry) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const std::string where = "entry " + std::to_string(entry) + " '" + std::string(item) + "'";
    auto address = decode_hex(item);
    if (!address || !item.starts_with("0x") || address->size() != 20) {
      return platform::error(where + ": an address is 0x and 40 hex digits");
    }
    eth_address key;
    std::copy(address->begin(), address->end(), key.begin());
    if (std::find(out.begin(), out.end(), key) != out.end()) {
      return platform::error(where + ": listed twice; each validator signs once");
    }
    out.push_back(key);
    if (out.size() > max_validators) return platform::error("more than 255 validators");
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// Nothing when the request names no ISM; a usage error when it names one only partly or badly.
platform::result<std::optional<ism_options>> read_ism_options(const inspect_request& request) {
  const std::array<std::pair<const char*, bool>, 4> given{{
      {"--ism", request.ism.has_value()},
      {"--metadata", request.metadata.has_value()},
      {"--validators", request.validators.has_value()},
      {"--threshold", request.threshold.has_value()},
  }};
  const auto count = std::count_if(given.begin(), given.end(), [](const auto& g) { return g.second; });
  if (count == 0) return std::optional<ism_options>();
  if (count < 4) {
    std::string missing;
    for (const auto& [name, present] : given) {
      if (!present) missing += std::string(missing.empty() ? "" : ", ") + name;
    }
    return platform::error("--ism, --metadata, --validators and --threshold go together; missing " + missing);
  }

  ism_options options;
  const auto type = hl::ism_type_from_string(*request.ism);
  if (!type) {
    return platform::error("--ism '" + *request.ism + "': not one of message-id-multisig, merkle-root-multisig");
  }
  options.type = *type;
  auto metadata = decode_hex(*request.metadata);
  if (!metadata) return std::move(metadata).context("--metadata");
  options.metadata = std::move(metadata).value();
  auto validators = parse_validators(*request.validators);
  if (!validators) return std::move(validators).context("--validators");
  options.validators = std::move(validators).value();

  const std::string& text = *request.threshold;
  unsigned threshold = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), threshold);
  if (ec != std::errc() || end != text.data() + text.size() || threshold == 0 ||
      threshold > options.validators.size()) {
    return platform::error("--threshold '" + text + "': must be a number from 1 to " +
                           std::to_string(options.validators.size()) + " (the number of validators)");
  }
  options.threshold = static_cast<std::uint8_t>(threshold);  // at most max_validators, checked above
  return std::optional<ism_options>(std::move(options));
}

// ---- Wormhole ----------------------------------------------------------------------------------------------

std::string wormhole_parse_error(parse_status status, std::span<const std::byte> input) {
  if (input.size() < wh::min_vaa_size) {
    return "truncated: shorter than the fixed part (" + std::to_string(input.size()) + " bytes; a VAA has at least " +
           std::to_string(wh::min_vaa_size) + ")";
  }
  if (status == parse_status::unsupported_version) {
    return "unsupported version " + std::to_string(std::to_integer<unsigned>(input[0])) +
           ": a Wormhole VAA is version " + std::to_string(wh::vaa_version);
  }
  if (status == parse_status::truncated) {
    const std::size_t signatures = std::to_integer<std::size_t>(input[5]);
    const std::size_t needed = wh::header_size + signatures * wh::signature_size + wh::body_fixed_size;
    return "truncated: " + std::to_string(signatures) + " signatures and the body's fixed part need " +
           std::to_string(needed) + " bytes, the VAA has " + std::to_string(input.size());
  }
  return std::string(verify::to_string(status));
}

// Why verify_vaa refused the VAA, found by walking its checks in its order (expiry aside, which inspect ignores)
// with the words an operator needs: which set, which signature, which guardian.
std::string wormhole_reason(const wh::vaa_view& vaa, const wh::guardian_registry& sets, wh::network network,
                            std::span<const std::optional<eth_address>> signers, verdict v) {
  const std::uint32_t index = vaa.guardian_set_index();
  const wh::guardian_set* set = sets.find(index);
  const std::string set_name = "guardian set " + std::to_string(index);
  if (set == nullptr) return set_name + " is not known on " + std::string(wh::to_string(network));
  if (set->keys.empty()) return set_name + " has no keys on " + std::string(wh::to_string(network));
  const std::size_t count = vaa.signature_count();
  const std::size_t needed = wh::quorum(set->keys.size());
  if (count < needed) {
    return "quorum not reached: " + std::to_string(count) + " signatures, " + std::to_string(needed) + " needed";
  }
  const auto named = [&](std::size_t i) {
    return "signature " + std::to_string(i) + " (guardian " +
           std::to_string(vaa.signature(static_cast<std::uint8_t>(i)).guardian_index) + ")";
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t guardian = vaa.signature(static_cast<std::uint8_t>(i)).guardian_index;
    if (i > 0) {
      const std::uint8_t previous = vaa.signature(static_cast<std::uint8_t>(i - 1)).guardian_index;
      if (guardian <= previous) {
        return named(i) + " comes after guardian " + std::to_string(previous) +
               ": guardian indices must strictly ascend, so that no guardian counts twice";
      }
    }
    if (guardian >= set->keys.size()) {
      return named(i) + " names a guardian outside " + set_name + ", which has " +
             std::to_string(set->keys.size());
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t guardian = vaa.signature(static_cast<std::uint8_t>(i)).guardian_index;
    if (!signers[i]) return named(i) + " does not recover to any key";
    if (*signers[i] != set->keys[guardian]) {
      return named(i) + " does not recover to guardian " + std::to_string(guardian) + "'s key";
    }
  }
  // verify_vaa is the judge; should it refuse for a reason the walk above does not know, say what it said.
  return "rejected: " + std::string(verify::to_string(v));
}

// Fills `doc`; true when the VAA verifies.
bool inspect_wormhole(std::span<const std::byte> input, wh::network network, std::uint64_t now, json& doc) {
  wh::vaa_view vaa;
  const parse_status status = wh::parse_vaa(input, vaa);
  if (status != parse_status::ok) {
    if (status == parse_status::unsupported_version) doc["version"] = std::to_integer<unsigned>(input[0]);
    doc["error"] = wormhole_parse_error(status, input);
    return false;
  }
  const verify::hash256 digest = wh::signing_digest(vaa);

  doc["version"] = wh::vaa_version;
  doc["guardian_set_index"] = vaa.guardian_set_index();
  std::vector<std::optional<eth_address>> signers;
  json signatures = json::array();
  for (std::uint8_t i = 0; i < vaa.signature_count(); ++i) {
    const wh::signature_view sig = vaa.signature(i);
    // The same recovery verify_vaa makes (v is the recovery id on the wire, high s accepted as ecrecover does), so
    // that `signer` shows what the verifier saw.
    signers.push_back(verify::recover_address(digest, sig.rsv.first<64>(),
                                              std::to_integer<std::uint8_t>(sig.rsv[64]), verify::s_rule::any));
    json entry;
    entry["guardian_index"] = sig.guardian_index;
    entry["signer"] = signers.back() ? json(hex(*signers.back())) : json(nullptr);
    signatures.push_back(std::move(entry));
  }
  doc["signatures"] = std::move(signatures);
  doc["timestamp"] = vaa.timestamp();
  doc["nonce"] = vaa.nonce();
  doc["emitter_chain"] = vaa.emitter_chain();
  doc["emitter_address"] = hex(vaa.emitter_address());
  doc["sequence"] = std::to_string(vaa.sequence());
  doc["consistency_level"] = vaa.consistency_level();
  doc["payload"] = hex(vaa.payload());
  doc["digest"] = hex(digest);

  const wh::guardian_registry sets = wh::built_in_guardian_sets(network);
  const verdict v = wh::verify_vaa(vaa, sets, now, wh::expiry::ignore);
  doc["verified"] = v == verdict::valid;
  if (const wh::guardian_set* set = sets.find(vaa.guardian_set_index()); set != nullptr) {
    doc["key_set_expired"] =
        sets.current_index() != set->index && set->expiration_time != 0 && set->expiration_time < now;
  }
  if (v != verdict::valid) doc["error"] = wormhole_reason(vaa, sets, network, signers, v);
  return v == verdict::valid;
}

// ---- Hyperlane ---------------------------------------------------------------------------------------------

std::string short_message_error(const char* what, parse_status status, std::span<const std::byte> input,
                                std::size_t fixed, unsigned version) {
  if (status == parse_status::truncated) {
    return "truncated: shorter than the fixed part (" + std::to_string(input.size()) + " bytes; " + what +
           " has at least " + std::to_string(fixed) + ")";
  }
  if (status == parse_status::unsupported_version) {
    return "unsupported version " + std::to_string(std::to_integer<unsigned>(input[0])) + ": " + what +
           " is version " + std::to_string(version);
  }
  return std::string(verify::to_string(status));
}

std::string metadata_error(const ism_options& ism) {
  const std::size_t fixed = ism.type == hl::ism_type::message_id_multisig ? 68 : 1096;
  const std::string name(hl::to_string(ism.type));
  const std::size_t size = ism.metadata.size();
  if (size < fixed) {
    return "metadata too short for " + name + ": " + std::to_string(size) + " bytes, its fixed part is " +
           std::to_string(fixed);
  }
  if ((size - fixed) % hl::signature_size != 0) {
    return "metadata's signatures are not whole: " + std::to_string(size - fixed) +
           " bytes after the fixed part, not a multiple of " + std::to_string(hl::signature_size);
  }
  if (ism.type == hl::ism_type::merkle_root_multisig) {
    const std::uint32_t message_index = platform::load_be32(ism.metadata.data() + 32);
    const std::uint32_t signed_index = platform::load_be32(ism.metadata.data() + 1092);
    if (message_index > signed_index) {
      return "metadata's message index " + std::to_string(message_index) + " is after its signed checkpoint index " +
             std::to_string(signed_index) + ": no tree holds a message before it is inserted";
    }
  }
  return "metadata cannot be read as " + name;
}

// Why verify_checkpoint refused, walking its checks in its order.
std::string checkpoint_reason(const hl::checkpoint& signed_checkpoint, std::uint32_t origin,
                              const hl::validator_set& set, verdict v) {
  const std::size_t present = signed_checkpoint.signatures.size() / hl::signature_size;
  if (present < set.threshold) {
    return "quorum not reached: " + std::to_string(present) + " signatures, " + std::to_string(set.threshold) +
           " needed";
  }
  const verify::hash256 digest =
      hl::checkpoint_digest(origin, signed_checkpoint.merkle_tree_hook, signed_checkpoint.root,
                            signed_checkpoint.index, signed_checkpoint.message_id);
  std::size_t next = 0;
  for (std::size_t i = 0; i < set.threshold; ++i) {
    const std::string name = "signature " + std::to_string(i);
    const std::span<const std::byte> signature =
        signed_checkpoint.signatures.subspan(i * hl::signature_size, hl::signature_size);
    const unsigned recovery = std::to_integer<unsigned>(signature[64]);
    if (recovery != 27 && recovery != 28) {
      return name + " has v " + std::to_string(recovery) + "; Hyperlane's verifier takes 27 or 28";
    }
    const auto signer = verify::recover_address(digest, signature.first<64>(),
                                                static_cast<std::uint8_t>(recovery - 27), verify::s_rule::low_only);
    if (!signer) return name + " does not recover to any key (OpenZeppelin's rules: s must be low)";
    const auto begin = set.validators.begin();
    const auto found = std::find(begin + static_cast<std::ptrdiff_t>(next), set.validators.end(), *signer);
    if (found == set.validators.end()) {
      if (std::find(begin, set.validators.end(), *signer) == set.validators.end()) {
        return name + " recovers to " + hex(*signer) + ", which is not one of the validators";
      }
      return name + " recovers to validator " + hex(*signer) +
             " out of order: signatures must follow the validator list, each validator once";
    }
    next = static_cast<std::size_t>(found - begin) + 1;
  }
  return "rejected: " + std::string(verify::to_string(v));
}

// Fills `doc`; true when the message parses and, with an ISM, verifies.
bool inspect_hyperlane(std::span<const std::byte> input, const std::optional<ism_options>& ism, json& doc) {
  hl::message_view message;
  const parse_status status = hl::parse_message(input, message);
  if (status != parse_status::ok) {
    if (status == parse_status::unsupported_version) doc["version"] = std::to_integer<unsigned>(input[0]);
    doc["error"] = short_message_error("a Hyperlane message", status, input, hl::message_header_size,
                                       hl::message_version);
    return false;
  }
  doc["version"] = hl::message_version;
  doc["nonce"] = message.nonce();
  doc["origin"] = message.origin();
  doc["sender"] = hex(message.sender());
  doc["destination"] = message.destination();
  doc["recipient"] = hex(message.recipient());
  doc["body"] = hex(message.body());
  doc["id"] = hex(hl::message_id(message));
  if (!ism) return true;

  const auto signed_checkpoint = hl::read_checkpoint(ism->type, message, ism->metadata);
  if (!signed_checkpoint) {
    doc["verified"] = false;
    doc["error"] = metadata_error(*ism);
    return false;
  }
  const hl::validator_set set{message.origin(), ism->type, ism->validators, ism->threshold};
  const verdict v = hl::verify_checkpoint(*signed_checkpoint, message.origin(), set);
  doc["verified"] = v == verdict::valid;
  if (v != verdict::valid) doc["error"] = checkpoint_reason(*signed_checkpoint, message.origin(), set, v);
  return v == verdict::valid;
}

// ---- LayerZero ---------------------------------------------------------------------------------------------

// Fills `doc`; true when the packet parses and its guid is the hash of its fields.
bool inspect_layerzero(std::span<const std::byte> input, json& doc) {
  lz::packet_view packet;
  const parse_status status = lz::parse_packet(input, packet);
  if (status != parse_status::ok) {
    if (status == parse_status::unsupported_version) doc["version"] = std::to_integer<unsigned>(input[0]);
    doc["error"] = short_message_error("a LayerZero v2 packet", status, input, lz::packet_fixed_size,
                                       lz::packet_version);
    return false;
  }
  const bool guid_valid = lz::guid_valid(packet);
  doc["version"] = lz::packet_version;
  doc["nonce"] = std::to_string(packet.nonce());
  doc["src_eid"] = packet.src_eid();
  doc["sender"] = hex(packet.sender());
  doc["dst_eid"] = packet.dst_eid();
  doc["receiver"] = hex(packet.receiver());
  doc["guid"] = hex(packet.guid());
  doc["message"] = hex(packet.message());
  doc["payload_hash"] = hex(lz::payload_hash(packet));
  doc["guid_valid"] = guid_valid;
  if (!guid_valid) {
    const verify::hash256 expected = lz::compute_guid(packet.nonce(), packet.src_eid(), packet.sender(),
                                                      packet.dst_eid(), packet.receiver());
    doc["error"] = "guid does not match the packet's fields: they hash to " + hex(expected);
  }
  return guid_valid;
}

inspect_outcome usage_error(std::string message) { return {inspect_usage, std::string(), std::move(message)}; }

}  // namespace

platform::result<std::vector<std::byte>> decode_hex(std::string_view text) {
  const std::size_t skipped = text.starts_with("0x") || text.starts_with("0X") ? 2 : 0;
  const std::string_view digits = text.substr(skipped);
  std::vector<std::byte> out;
  out.reserve(digits.size() / 2);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (platform::hex_value(digits[i]) < 0) {
      return platform::error(shown(digits[i]) + " at position " + std::to_string(skipped + i) +
                             " is not a hex digit");
    }
  }
  if (digits.size() % 2 != 0) {
    return platform::error("an odd number of hex digits (" + std::to_string(digits.size()) +
                           "): each byte is two");
  }
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    out.push_back(static_cast<std::byte>(platform::hex_value(digits[i]) * 16 + platform::hex_value(digits[i + 1])));
  }
  return out;
}

platform::result<std::vector<std::byte>> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return platform::error("length " + std::to_string(text.size()) +
                           " is not a multiple of 4: base64 here is padded with '='");
  }
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t at = 0; at < text.size(); at += 4) {
    std::array<unsigned, 4> sextets{};
    std::size_t padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[at + j];
      const std::string where = shown(c) + " at position " + std::to_string(at + j);
      if (c == '=') {
        // Only the last group may pad, by one or two characters.
        if (at + 4 != text.size() || j < 2) return platform::error(where + ": padding may only end the text");
        ++padding;
        continue;
      }
      if (padding > 0) return platform::error(where + " follows padding");
      const int digit = base64_digit(c);
      if (digit < 0) return platform::error(where + " is not a base64 character");
      sextets[j] = static_cast<unsigned>(digit);
    }
    const unsigned group = sextets[0] << 18 | sextets[1] << 12 | sextets[2] << 6 | sextets[3];
    // Bits the padding declares unused must be zero, so that each byte string has exactly one encoding.
    const unsigned unused = padding == 2 ? group & 0xffffu : padding == 1 ? group & 0xffu : 0;
    if (unused != 0) return platform::error("the last group has bits set that its padding says are unused");
    out.push_back(static_cast<std::byte>(group >> 16));
    if (padding < 2) out.push_back(static_cast<std::byte>(group >> 8 & 0xffu));
    if (padding < 1) out.push_back(static_cast<std::byte>(group & 0xffu));
  }
  return out;
}

inspect_outcome inspect(const inspect_request& request) {
  const auto kind = verify::kind_from_string(request.kind);
  const bool known = kind == verify::message_kind::wormhole || kind == verify::message_kind::hyperlane ||
                     kind == verify::message_kind::layerzero;
  if (request.kind.empty()) return usage_error("--kind is required: wormhole, hyperlane or layerzero");
  if (!known) return usage_error("--kind '" + request.kind + "': not one of wormhole, hyperlane, layerzero");

  if (request.network && kind != verify::message_kind::wormhole) {
    return usage_error("--network applies to --kind wormhole only");
  }
  const bool any_ism = request.ism || request.metadata || request.validators || request.threshold;
  if (any_ism && kind != verify::message_kind::hyperlane) {
    return usage_error("--ism, --metadata, --validators and --threshold apply to --kind hyperlane only");
  }
  wh::network network = wh::network::mainnet;
  if (request.network) {
    const auto named = wh::network_from_string(*request.network);
    if (!named) return usage_error("--network '" + *request.network + "': not one of mainnet, devnet");
    network = *named;
  }
  auto ism = read_ism_options(request);
  if (!ism) return usage_error(ism.err().message());
  const auto input = read_input(request);
  if (!input) return usage_error(input.err().message());

  json doc = json::object();
  bool accepted = false;
  switch (*kind) {
    case verify::message_kind::wormhole: accepted = inspect_wormhole(*input, network, request.now, doc); break;
    case verify::message_kind::hyperlane: accepted = inspect_hyperlane(*input, *ism, doc); break;
    case verify::message_kind::layerzero: accepted = inspect_layerzero(*input, doc); break;
    default: std::abort();  // refused above
  }
  return {accepted ? inspect_ok : inspect_rejected, doc.dump(2) + "\n", std::string()};
}

}  // namespace ferry::ctl

// `ferryctl inspect`: the library function on the protocols' own vectors and on messages signed here, the input
// decoders, usage errors, and the binary end to end.

#include "ferry/control/inspect.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"
#include "support/bytes.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

namespace hl = verify::hyperlane;
namespace wh = verify::wormhole;
using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::to_hex;
using nlohmann::json;

// After every replaced mainnet guardian set has expired (set 6 expires a day after 1783669263).
constexpr std::uint64_t after_expiry = 1'800'000'000;
// Before that: the replaced sets were still valid.
constexpr std::uint64_t before_expiry = 1'700'000'000;

std::string to_base64(std::span<const std::byte> data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    unsigned group = 0;
    for (std::size_t j = 0; j < 3; ++j) group = group << 8 | (j < n ? std::to_integer<unsigned>(data[i + j]) : 0u);
    for (std::size_t j = 0; j < 4; ++j) out.push_back(j <= n ? alphabet[group >> (18 - 6 * j) & 0x3f] : '=');
  }
  return out;
}

bool is_lower_hex(const json& field) {
  if (!field.is_string()) return false;
  const std::string text = field.get<std::string>();
  return text.size() % 2 == 0 && text.starts_with("0x") &&
         text.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

struct inspected {
  int exit_code;
  json doc;
  std::string usage_error;
};

inspected run_inspect(const inspect_request& request) {
  const inspect_outcome outcome = inspect(request);
  json doc = outcome.json.empty() ? json() : json::parse(outcome.json);
  return {outcome.exit_code, std::move(doc), outcome.usage_error};
}

inspect_request hex_request(std::string kind, std::span<const std::byte> message, std::uint64_t now = after_expiry) {
  inspect_request request;
  request.kind = std::move(kind);
  request.hex = "0x" + to_hex(message);
  request.now = now;
  return request;
}

// ---- vectors ----

struct vaa_vector {
  bytes vaa;
  std::string digest;  // hex, no 0x
  bool valid = false;
};

std::vector<vaa_vector> mainnet_vaas() {
  std::ifstream file(FERRY_VECTORS_DIR "/wormhole/mainnet_vaas.txt");
  std::vector<vaa_vector> out;
  vaa_vector next;
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("# signing digest")) {
      next.digest = line.substr(line.rfind(' ') + 1);
    } else if (line.starts_with("# expected:")) {
      next.valid = line.starts_with("# expected: VALID");
    } else if (!line.empty() && line[0] != '#') {
      next.vaa = from_hex(line).value();
      out.push_back(next);
      next = vaa_vector{};
    }
  }
  return out;
}

std::string vector_value(const std::string& path, const std::string& key) {
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with(key + "=")) {
      std::string value = line.substr(key.size() + 1);
      std::erase(value, ' ');
      return value;
    }
  }
  return {};
}

// ---- messages made here ----

bytes wormhole_vaa(std::uint32_t set_index, std::span<const wh::signature_fields> signatures, std::uint64_t sequence,
                   std::span<const std::byte> payload) {
  wh::vaa_fields fields;
  fields.guardian_set_index = set_index;
  fields.signatures = signatures;
  fields.timestamp = 1'700'000'123;
  fields.nonce = 77;
  fields.emitter_chain = 2;
  fields.emitter_address[31] = std::byte{0xab};
  fields.sequence = sequence;
  fields.consistency_level = 15;
  fields.payload = payload;
  bytes out(wh::encoded_size(fields));
  EXPECT_EQ(wh::encode_vaa(fields, out), out.size());
  return out;
}

// A VAA for guardian set 0 signed by the Tilt devnet guardian.
bytes devnet_vaa(std::uint64_t sequence) {
  const bytes payload = from_hex("48656c6c6f").value();
  const bytes unsigned_vaa = wormhole_vaa(0, {}, sequence, payload);
  wh::vaa_view view;
  EXPECT_EQ(wh::parse_vaa(unsigned_vaa, view), verify::parse_status::ok);
  const auto rsv = verify::sign_recoverable(wh::signing_digest(view), wh::devnet_guardian_secret()).value();
  const std::array<wh::signature_fields, 1> signatures{{{0, rsv}}};
  return wormhole_vaa(0, signatures, sequence, payload);
}

bytes hyperlane_message(std::uint32_t nonce, std::uint32_t origin, std::span<const std::byte, 32> sender,
                        std::uint32_t destination, std::span<const std::byte, 32> recipient,
                        std::span<const std::byte> body) {
  bytes out(hl::message_header_size);
  out[0] = std::byte{hl::message_version};
  platform::store_be32(out.data() + 1, nonce);
  platform::store_be32(out.data() + 5, origin);
  std::copy(sender.begin(), sender.end(), out.begin() + 9);
  platform::store_be32(out.data() + 41, destination);
  std::copy(recipient.begin(), recipient.end(), out.begin() + 45);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::array<std::byte, 32> word(std::string_view hex) {
  const bytes b = from_hex(hex).value();
  std::array<std::byte, 32> out{};
  std::copy(b.begin(), b.end(), out.end() - static_cast<std::ptrdiff_t>(b.size()));
  return out;
}

// The message of hyperlane/message.json and its id.
struct hyperlane_vector {
  bytes message;
  std::string id;
};

hyperlane_vector message_json() {
  std::ifstream file(FERRY_VECTORS_DIR "/hyperlane/message.json");
  const json doc = json::parse(file).at(0);
  bytes body;
  for (const json& b : doc["body"]) body.push_back(static_cast<std::byte>(b.get<unsigned>()));
  const auto sender = word(doc["sender"].get<std::string>());
  const auto recipient = word(doc["recipient"].get<std::string>());
  return {hyperlane_message(doc["nonce"].get<std::uint32_t>(), doc["origin"].get<std::uint32_t>(), sender,
                            doc["destination"].get<std::uint32_t>(), recipient, body),
          doc["id"].get<std::string>()};
}

std::array<std::byte, 32> secret(std::uint8_t n) {
  std::array<std::byte, 32> key{};
  key[0] = std::byte{0x5e};
  key[31] = std::byte{n};
  return key;
}

std::string address_text(std::uint8_t n) { return "0x" + to_hex(verify::address_of_secret_key(secret(n)).value()); }

// MessageIdMultisig metadata for `message`, signed by the keys numbered in `signers`, in that order.
std::string message_id_metadata(const bytes& message, std::initializer_list<std::uint8_t> signers) {
  hl::message_view view;
  EXPECT_EQ(hl::parse_message(message, view), verify::parse_status::ok);
  const auto hook = word("19");
  const auto root = word("a0a1a2");
  const std::uint32_t index = 41;
  const verify::hash256 id = hl::message_id(view);
  const verify::hash256 digest = hl::checkpoint_digest(view.origin(), hook, root, index, id);
  bytes metadata(hook.begin(), hook.end());
  metadata.insert(metadata.end(), root.begin(), root.end());
  std::array<std::byte, 4> index_bytes;
  platform::store_be32(index_bytes.data(), index);
  metadata.insert(metadata.end(), index_bytes.begin(), index_bytes.end());
  for (const std::uint8_t n : signers) {
    auto rsv = verify::sign_recoverable(digest, secret(n)).value();
    rsv[64] = static_cast<std::byte>(std::to_integer<unsigned>(rsv[64]) + 27);  // OpenZeppelin's v
    metadata.insert(metadata.end(), rsv.begin(), rsv.end());
  }
  return "0x" + to_hex(metadata);
}

// MerkleRootMultisig metadata for `message` as leaf `message_index` of a tree checkpointed at `signed_index`.
std::string merkle_root_metadata(const bytes& message, std::uint32_t message_index, std::uint32_t signed_index,
                                 std::initializer_list<std::uint8_t> signers) {
  hl::message_view view;
  EXPECT_EQ(hl::parse_message(message, view), verify::parse_status::ok);
  const auto hook = word("19");
  const verify::hash256 id = hl::message_id(view);
  std::array<std::byte, hl::tree_depth * 32> proof{};
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<std::byte>(i * 7);
  const verify::hash256 root = hl::branch_root(id, proof, message_index);
  const verify::hash256 digest = hl::checkpoint_digest(view.origin(), hook, root, signed_index, id);
  bytes metadata(hook.begin(), hook.end());
  std::array<std::byte, 4> index_bytes;
  platform::store_be32(index_bytes.data(), message_index);
  metadata.insert(metadata.end(), index_bytes.begin(), index_bytes.end());
  metadata.insert(metadata.end(), id.begin(), id.end());
  metadata.insert(metadata.end(), proof.begin(), proof.end());
  platform::store_be32(index_bytes.data(), signed_index);
  metadata.insert(metadata.end(), index_bytes.begin(), index_bytes.end());
  for (const std::uint8_t n : signers) {
    auto rsv = verify::sign_recoverable(digest, secret(n)).value();
    rsv[64] = static_cast<std::byte>(std::to_integer<unsigned>(rsv[64]) + 27);
    metadata.insert(metadata.end(), rsv.begin(), rsv.end());
  }
  return "0x" + to_hex(metadata);
}

inspect_request with_ism(inspect_request request, std::string metadata, std::string threshold = "2") {
  request.ism = "message-id-multisig";
  request.metadata = std::move(metadata);
  request.validators = address_text(1) + "," + address_text(2) + "," + address_text(3);
  request.threshold = std::move(threshold);
  return request;
}

bytes layerzero_packet() {
  return from_hex(vector_value(FERRY_VECTORS_DIR "/layerzero/layerzero_vectors.txt", "packet_computed")).value();
}

// ---- decoders ----

TEST(InspectDecode, HexTakesAnOptionalPrefixAndEitherCase) {
  EXPECT_EQ(decode_hex("0XAbcD").value(), from_hex("abcd").value());
  EXPECT_EQ(decode_hex("00ff").value(), from_hex("00ff").value());
  EXPECT_TRUE(decode_hex("0x").value().empty());
  EXPECT_FALSE(decode_hex("abc").ok());
  EXPECT_FALSE(decode_hex("0xgg").ok());
  EXPECT_FALSE(decode_hex("ab cd").ok());
  EXPECT_FALSE(decode_hex("00\n").ok());
  EXPECT_NE(decode_hex("0x12z4").err().message().find("position 4"), std::string::npos);
}

TEST(InspectDecode, Base64IsStrict) {
  EXPECT_EQ(decode_base64("AQID").value(), from_hex("010203").value());
  EXPECT_EQ(decode_base64("AQ==").value(), from_hex("01").value());
  EXPECT_EQ(decode_base64("AQI=").value(), from_hex("0102").value());
  EXPECT_EQ(decode_base64("+/+/").value(), from_hex("fbffbf").value());
  EXPECT_TRUE(decode_base64("").value().empty());
  EXPECT_FALSE(decode_base64("AQ").ok());        // unpadded
  EXPECT_FALSE(decode_base64("AR==").ok());      // bits the padding leaves unused are set
  EXPECT_FALSE(decode_base64("A===").ok());      // three padding characters
  EXPECT_FALSE(decode_base64("AQ=A").ok());      // data after padding
  EXPECT_FALSE(decode_base64("AQ==AQID").ok());  // padding before the end
  EXPECT_FALSE(decode_base64("AQ-_").ok());      // the URL-safe alphabet
  EXPECT_FALSE(decode_base64("AQID\n").ok());
  const bytes all = [] {
    bytes b;
    for (unsigned i = 0; i < 256; ++i) b.push_back(static_cast<std::byte>(i));
    return b;
  }();
  for (std::size_t n = 0; n <= 5; ++n) {
    const std::span<const std::byte> part(all.data(), all.size() - n);
    EXPECT_EQ(decode_base64(to_base64(part)).value(), bytes(part.begin(), part.end())) << n;
  }
}

// ---- Wormhole ----

TEST(InspectWormhole, EveryMainnetVectorGetsItsVerdict) {
  const std::vector<vaa_vector> vectors = mainnet_vaas();
  ASSERT_EQ(vectors.size(), 4u);
  std::size_t valid = 0;
  for (const vaa_vector& v : vectors) {
    const inspected r = run_inspect(hex_request("wormhole", v.vaa));
    EXPECT_EQ(r.doc["digest"], "0x" + v.digest);
    EXPECT_EQ(r.doc["key_set_expired"], true);
    if (v.valid) {
      ++valid;
      EXPECT_EQ(r.exit_code, 0) << r.doc.dump();
      EXPECT_EQ(r.doc["verified"], true);
      EXPECT_FALSE(r.doc.contains("error"));
      for (const json& sig : r.doc["signatures"]) EXPECT_TRUE(is_lower_hex(sig["signer"])) << sig.dump();
    } else {
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_EQ(r.doc["verified"], false);
      // Signature 1's r was altered: nothing recovers from it.
      EXPECT_EQ(r.doc["error"], "signature 1 (guardian 1) does not recover to any key");
      EXPECT_TRUE(r.doc["signatures"][1]["signer"].is_null());
    }
  }
  EXPECT_EQ(valid, 3u);
}

TEST(InspectWormhole, FieldsHaveTheirFormats) {
  const vaa_vector governance = mainnet_vaas().at(2);
  const inspected r = run_inspect(hex_request("wormhole", governance.vaa));
  const json& d = r.doc;
  // Past 2^53: as a JSON number most readers would round it.
  EXPECT_EQ(d["sequence"], "8526464727442833848");
  EXPECT_TRUE(d["version"].is_number_unsigned());
  EXPECT_EQ(d["version"], 1);
  EXPECT_EQ(d["guardian_set_index"], 3);
  EXPECT_EQ(d["timestamp"], 0);
  EXPECT_EQ(d["nonce"], 1984657234u);
  EXPECT_EQ(d["emitter_chain"], 1);
  EXPECT_EQ(d["consistency_level"], 32);
  EXPECT_EQ(d["emitter_address"], "0x0000000000000000000000000000000000000000000000000000000000000004");
  EXPECT_TRUE(is_lower_hex(d["payload"]));
  EXPECT_EQ(d["payload"].get<std::string>().size(), 2u + 69 * 2);
  EXPECT_TRUE(is_lower_hex(d["digest"]));
  ASSERT_EQ(d["signatures"].size(), 13u);
  EXPECT_TRUE(d["signatures"][0]["guardian_index"].is_number_unsigned());
  EXPECT_EQ(d["signatures"][0]["signer"], "0x58cc3ae5c097b213ce3c81979e1b9f9570746aa5");  // set 3's guardian 0
  const std::vector<std::string> keys = {"version", "guardian_set_index", "signatures", "timestamp",
                                         "nonce", "emitter_chain", "emitter_address", "sequence",
                                         "consistency_level", "payload", "digest", "verified",
                                         "key_set_expired"};
  for (const std::string& key : keys) EXPECT_TRUE(d.contains(key)) << key;
}

TEST(InspectWormhole, ExpiryIsReportedButDoesNotDecide) {
  const vaa_vector transfer = mainnet_vaas().at(0);
  const inspected before = run_inspect(hex_request("wormhole", transfer.vaa, before_expiry));
  EXPECT_EQ(before.exit_code, 0);
  EXPECT_EQ(before.doc["verified"], true);
  EXPECT_EQ(before.doc["key_set_expired"], false);
  const inspected after = run_inspect(hex_request("wormhole", transfer.vaa, after_expiry));
  EXPECT_EQ(after.exit_code, 0);
  EXPECT_EQ(after.doc["verified"], true);
  EXPECT_EQ(after.doc["key_set_expired"], true);
}

TEST(InspectWormhole, DevnetVaaVerifiesOnDevnetOnly) {
  const bytes vaa = devnet_vaa(18'446'744'073'709'551'615u);
  inspect_request request = hex_request("wormhole", vaa);
  request.network = "devnet";
  const inspected devnet = run_inspect(request);
  EXPECT_EQ(devnet.exit_code, 0) << devnet.doc.dump();
  EXPECT_EQ(devnet.doc["verified"], true);
  EXPECT_EQ(devnet.doc["key_set_expired"], false);  // the current set never expires
  EXPECT_EQ(devnet.doc["sequence"], "18446744073709551615");
  EXPECT_EQ(devnet.doc["signatures"][0]["signer"], "0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe");

  // Mainnet has a set 0 (the genesis guardian), whose key is not the devnet guardian's.
  request.network = std::nullopt;
  const inspected mainnet = run_inspect(request);
  EXPECT_EQ(mainnet.exit_code, 1);
  EXPECT_EQ(mainnet.doc["verified"], false);
  wh::vaa_view view;
  ASSERT_EQ(wh::parse_vaa(vaa, view), verify::parse_status::ok);
  EXPECT_EQ(wh::verify_vaa(view, wh::built_in_guardian_sets(wh::network::mainnet), after_expiry, wh::expiry::ignore),
            verify::verdict::bad_signature);
  EXPECT_EQ(mainnet.doc["error"], "signature 0 (guardian 0) does not recover to guardian 0's key");
  EXPECT_EQ(mainnet.doc["signatures"][0]["signer"], "0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe");
}

TEST(InspectWormhole, RefusalsSayWhy) {
  const bytes good = mainnet_vaas().at(0).vaa;  // set 2, 13 signatures

  bytes unknown_set = devnet_vaa(1);
  platform::store_be32(unknown_set.data() + 1, 9);
  inspected r = run_inspect(hex_request("wormhole", unknown_set));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["error"], "guardian set 9 is not known on mainnet");
  EXPECT_FALSE(r.doc.contains("key_set_expired"));

  bytes twelve = good;
  twelve[5] = std::byte{12};
  twelve.erase(twelve.begin() + 6 + 12 * 66, twelve.begin() + 6 + 13 * 66);
  r = run_inspect(hex_request("wormhole", twelve));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["error"], "quorum not reached: 12 signatures, 13 needed");

  bytes swapped = good;
  std::swap_ranges(swapped.begin() + 6, swapped.begin() + 6 + 66, swapped.begin() + 6 + 66);
  r = run_inspect(hex_request("wormhole", swapped));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.doc["error"].get<std::string>().find("signature 1 (guardian 0) comes after guardian 2"),
            std::string::npos)
      << r.doc["error"];

  bytes other_body = good;
  testing::flip_last_byte(other_body);  // every signature now recovers to some stranger
  r = run_inspect(hex_request("wormhole", other_body));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["verified"], false);
  EXPECT_EQ(r.doc["error"], "signature 0 (guardian 0) does not recover to guardian 0's key");
}

TEST(InspectWormhole, UnparsableMessagesPrintOnlyTheError) {
  inspected r = run_inspect(hex_request("wormhole", from_hex("0100000002").value()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc.size(), 1u);
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("truncated: shorter than the fixed part")) << r.doc;

  bytes short_signatures = mainnet_vaas().at(0).vaa;
  short_signatures.resize(400);
  r = run_inspect(hex_request("wormhole", short_signatures));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("truncated: 13 signatures")) << r.doc;

  bytes version_2 = mainnet_vaas().at(0).vaa;
  version_2[0] = std::byte{2};
  r = run_inspect(hex_request("wormhole", version_2));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["version"], 2);
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("unsupported version 2")) << r.doc;
}

// ---- Hyperlane ----

TEST(InspectHyperlane, MessageJsonVectorWithoutIsm) {
  const hyperlane_vector v = message_json();
  const inspected r = run_inspect(hex_request("hyperlane", v.message));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.doc["id"], v.id);
  EXPECT_EQ(r.doc["version"], 3);
  EXPECT_EQ(r.doc["nonce"], 0);
  EXPECT_EQ(r.doc["origin"], 1000);
  EXPECT_EQ(r.doc["destination"], 2000);
  EXPECT_EQ(r.doc["sender"], "0x0000000000000000000000001111111111111111111111111111111111111111");
  EXPECT_EQ(r.doc["recipient"], "0x0000000000000000000000002222222222222222222222222222222222222222");
  EXPECT_EQ(r.doc["body"], "0x1234");
  EXPECT_FALSE(r.doc.contains("verified"));
  EXPECT_FALSE(r.doc.contains("error"));
}

TEST(InspectHyperlane, MessageIdMultisigSignedByValidatorsInOrder) {
  const hyperlane_vector v = message_json();
  const inspected r =
      run_inspect(with_ism(hex_request("hyperlane", v.message), message_id_metadata(v.message, {1, 3})));
  EXPECT_EQ(r.exit_code, 0) << r.doc.dump();
  EXPECT_EQ(r.doc["verified"], true);
  EXPECT_EQ(r.doc["id"], v.id);
  EXPECT_FALSE(r.doc.contains("error"));

  // Signatures past the threshold are not checked, as on chain.
  const inspected extra = run_inspect(
      with_ism(hex_request("hyperlane", v.message), message_id_metadata(v.message, {1, 2, 9})));
  EXPECT_EQ(extra.exit_code, 0) << extra.doc.dump();
}

TEST(InspectHyperlane, FailingIsmsSayWhy) {
  const hyperlane_vector v = message_json();
  const auto check = [&](const std::string& metadata, const std::string& error_start) {
    const inspected r = run_inspect(with_ism(hex_request("hyperlane", v.message), metadata));
    EXPECT_EQ(r.exit_code, 1) << r.doc.dump();
    EXPECT_EQ(r.doc["verified"], false);
    EXPECT_EQ(r.doc["id"], v.id);  // the message's fields are still shown
    EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with(error_start)) << r.doc["error"];
  };
  check(message_id_metadata(v.message, {3, 1}), "signature 1 recovers to validator " + address_text(1) +
                                                    " out of order");
  check(message_id_metadata(v.message, {1, 7}), "signature 1 recovers to " + address_text(7) +
                                                    ", which is not one of the validators");
  check(message_id_metadata(v.message, {2}), "quorum not reached: 1 signatures, 2 needed");
  check(message_id_metadata(v.message, {}).substr(0, 60), "metadata too short for message-id-multisig");
  check(message_id_metadata(v.message, {1, 2}) + "00", "metadata's signatures are not whole");

  // Signed for another message: each signature recovers to a stranger.
  bytes other = v.message;
  testing::flip_last_byte(other);
  const inspected r =
      run_inspect(with_ism(hex_request("hyperlane", v.message), message_id_metadata(other, {1, 2})));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["verified"], false);
}

TEST(InspectHyperlane, MerkleRootMultisig) {
  const hyperlane_vector v = message_json();
  inspect_request request =
      with_ism(hex_request("hyperlane", v.message), merkle_root_metadata(v.message, 3, 5, {1, 2}));
  request.ism = "merkle-root-multisig";
  inspected r = run_inspect(request);
  EXPECT_EQ(r.exit_code, 0) << r.doc.dump();
  EXPECT_EQ(r.doc["verified"], true);

  // Signed over the proof for another leaf index: the root differs, so the signers do too.
  request.metadata = merkle_root_metadata(v.message, 3, 5, {1, 2});
  request.metadata->replace(2 + 32 * 2, 8, "00000002");
  r = run_inspect(request);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["verified"], false);

  request.metadata = merkle_root_metadata(v.message, 6, 5, {1, 2});
  r = run_inspect(request);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("metadata's message index 6 is after its signed "
                                                             "checkpoint index 5"))
      << r.doc["error"];
}

TEST(InspectHyperlane, UnparsableMessage) {
  const hyperlane_vector v = message_json();
  const inspected r = run_inspect(hex_request("hyperlane", std::span(v.message).first(76)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc.size(), 1u);
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("truncated: shorter than the fixed part"));
}

// ---- LayerZero ----

TEST(InspectLayerzero, PacketVectorGuidIsValid) {
  const bytes packet = layerzero_packet();
  ASSERT_EQ(packet.size(), 119u);
  const inspected r = run_inspect(hex_request("layerzero", packet));
  EXPECT_EQ(r.exit_code, 0) << r.doc.dump();
  EXPECT_EQ(r.doc["guid_valid"], true);
  EXPECT_EQ(r.doc["guid"],
            "0x" + vector_value(FERRY_VECTORS_DIR "/layerzero/layerzero_vectors.txt", "guid_computed"));
  EXPECT_EQ(r.doc["version"], 1);
  EXPECT_EQ(r.doc["nonce"], "4660");  // u64: a decimal string
  EXPECT_EQ(r.doc["src_eid"], 1);
  EXPECT_EQ(r.doc["dst_eid"], 2);
  EXPECT_EQ(r.doc["sender"], "0x0000000000000000000000000000000000000000000000000000000000000003");
  EXPECT_EQ(r.doc["receiver"], "0x0000000000000000000000000000000000000000000000000000000000000004");
  EXPECT_EQ(r.doc["message"], "0x090807060504");
  EXPECT_EQ(r.doc["payload_hash"], "0x" + to_hex(verify::keccak256(std::span(packet).subspan(81))));
  EXPECT_FALSE(r.doc.contains("error"));
}

TEST(InspectLayerzero, TamperedPacketGuidIsNot) {
  bytes packet = layerzero_packet();
  packet[80] ^= std::byte{1};  // the receiver's last byte
  const inspected r = run_inspect(hex_request("layerzero", packet));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.doc["guid_valid"], false);
  EXPECT_EQ(r.doc["receiver"], "0x0000000000000000000000000000000000000000000000000000000000000005");
  EXPECT_TRUE(r.doc["error"].get<std::string>().starts_with("guid does not match the packet's fields"));
}

// ---- usage ----

TEST(InspectUsage, BadRequestsAreUsageErrors) {
  const bytes packet = layerzero_packet();
  const inspect_request good = hex_request("layerzero", packet);
  ASSERT_EQ(inspect(good).exit_code, 0);
  const auto usage = [](const inspect_request& request, const std::string& words) {
    const inspect_outcome outcome = inspect(request);
    EXPECT_EQ(outcome.exit_code, 2) << words;
    EXPECT_TRUE(outcome.json.empty());
    EXPECT_NE(outcome.usage_error.find(words), std::string::npos) << outcome.usage_error;
  };

  inspect_request r = good;
  r.kind = "";
  usage(r, "--kind");
  r.kind = "ibc";
  usage(r, "--kind 'ibc'");

  r = good;
  r.base64 = to_base64(packet);
  usage(r, "only one of");
  r = good;
  r.hex = std::nullopt;
  usage(r, "one of --hex, --base64 or --file");

  r = good;
  r.hex = "0x01g0";
  usage(r, "--hex");
  r.hex = "123";
  usage(r, "--hex");
  r = good;
  r.hex = std::nullopt;
  r.base64 = "AQ=";
  usage(r, "--base64");
  r.base64 = "A*==";
  usage(r, "--base64");
  r.base64 = std::nullopt;
  r.file = "/nonexistent/ferry/message.bin";
  usage(r, "--file");

  r = good;
  r.network = "mainnet";
  usage(r, "--network applies to --kind wormhole only");
  r = hex_request("wormhole", mainnet_vaas().at(0).vaa);
  r.network = "testnet";
  usage(r, "--network 'testnet'");
  r = good;
  r.threshold = "1";
  usage(r, "apply to --kind hyperlane only");
}

TEST(InspectUsage, HyperlaneIsmOptionsGoTogether) {
  const hyperlane_vector v = message_json();
  const inspect_request full = with_ism(hex_request("hyperlane", v.message), message_id_metadata(v.message, {1, 2}));
  ASSERT_EQ(inspect(full).exit_code, 0);
  const auto usage = [](const inspect_request& request, const std::string& words) {
    const inspect_outcome outcome = inspect(request);
    EXPECT_EQ(outcome.exit_code, 2) << words;
    EXPECT_NE(outcome.usage_error.find(words), std::string::npos) << outcome.usage_error;
  };
  inspect_request r = full;
  r.metadata = std::nullopt;
  r.threshold = std::nullopt;
  usage(r, "missing --metadata, --threshold");
  r = full;
  r.ism = "multisig";
  usage(r, "--ism 'multisig'");
  r = full;
  r.metadata = "0xzz";
  usage(r, "--metadata");
  r = full;
  r.validators = address_text(1) + ",0x1234";
  usage(r, "--validators: entry 2");
  r.validators = address_text(1) + "," + address_text(1);
  usage(r, "listed twice");
  r.validators = address_text(1) + ",";
  usage(r, "--validators");
  r = full;
  for (const char* threshold : {"0", "4", "-1", "2x", "", "99999999999"}) {
    r.threshold = threshold;
    usage(r, "--threshold");
  }
}

// ---- the binary ----

class InspectE2e : public ::testing::Test {
 protected:
  struct ran {
    int code;
    std::string out;
    std::string err;
  };

  ran ferryctl(std::vector<std::string> args) {
    std::vector<std::string> argv = ferry::testing::emulator_prefix(FERRY_TEST_EMULATOR);
    argv.emplace_back(FERRYCTL_PATH);
    argv.insert(argv.end(), args.begin(), args.end());
    ferry::testing::child_process child(argv, _dir.path() + "/run" + std::to_string(_runs++));
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(code.has_value());
    return {code.value_or(-1), child.out(), child.err()};
  }

  // stdout is exactly one JSON object.
  static json one_object(const std::string& out) {
    const json doc = json::parse(out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << out;
    EXPECT_TRUE(doc.is_object()) << out;
    return doc;
  }

  testing::temp_dir _dir{"inspect"};
  int _runs = 0;
};

TEST_F(InspectE2e, FileOfRawBytes) {
  const vaa_vector v = mainnet_vaas().at(1);
  const std::string path = _dir.path() + "/vaa.bin";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(v.vaa.data()),
                                              static_cast<std::streamsize>(v.vaa.size()));
  const ran r = ferryctl({"inspect", "--kind", "wormhole", "--file", path});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const json doc = one_object(r.out);
  EXPECT_EQ(doc["verified"], true);
  EXPECT_EQ(doc["key_set_expired"], true);  // the wall clock is past set 4's expiry
  EXPECT_EQ(doc["digest"], "0x" + v.digest);
  EXPECT_EQ(doc["sequence"], "10783");
}

TEST_F(InspectE2e, Base64AndNetwork) {
  const std::string vaa = to_base64(devnet_vaa(5));
  ran r = ferryctl({"inspect", "--kind", "wormhole", "--network", "devnet", "--base64", vaa});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(one_object(r.out)["verified"], true);
  r = ferryctl({"inspect", "--kind", "wormhole", "--base64", vaa});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const json doc = one_object(r.out);
  EXPECT_EQ(doc["verified"], false);
  EXPECT_TRUE(doc["error"].is_string());
}

TEST_F(InspectE2e, RejectedAndUnparsableMessagesStillPrintJson) {
  const vaa_vector negative = mainnet_vaas().at(3);
  ran r = ferryctl({"inspect", "--kind", "wormhole", "--hex", to_hex(negative.vaa)});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(one_object(r.out)["verified"], false);

  r = ferryctl({"inspect", "--kind", "layerzero", "--hex", "0x01"});
  EXPECT_EQ(r.code, 1);
  const json doc = one_object(r.out);
  EXPECT_EQ(doc.size(), 1u);
  EXPECT_TRUE(doc["error"].is_string());
}

TEST_F(InspectE2e, HyperlaneWithIsm) {
  const hyperlane_vector v = message_json();
  const ran r = ferryctl({"inspect", "--kind", "hyperlane", "--hex", to_hex(v.message), "--ism",
                          "message-id-multisig", "--metadata", message_id_metadata(v.message, {2, 3}),
                          "--validators", address_text(1) + "," + address_text(2) + "," + address_text(3),
                          "--threshold", "2"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const json doc = one_object(r.out);
  EXPECT_EQ(doc["id"], v.id);
  EXPECT_EQ(doc["verified"], true);
}

TEST_F(InspectE2e, UsageErrorsExitTwoWithAMessage) {
  const std::string packet = to_hex(layerzero_packet());
  const std::vector<std::vector<std::string>> cases = {
      {"inspect", "--hex", packet},                                                   // no --kind
      {"inspect", "--kind", "layerzero", "--hex", packet, "--base64", "AQID"},        // two inputs
      {"inspect", "--kind", "layerzero", "--hex", "xyz"},                             // bad hex
      {"inspect", "--kind", "layerzero", "--base64", "AQ="},                          // bad base64
      {"inspect", "--kind", "layerzero", "--file", _dir.path() + "/missing.bin"},     // unreadable file
      {"inspect", "--kind", "hyperlane", "--hex", packet, "--ism", "message-id-multisig"},  // partial ISM
      {"inspect", "--kind", "wormhole", "--hex", packet, "--network", "testnet"},     // unknown network
      {"inspect", "--kind", "layerzero", "--hex", packet, "--network", "mainnet"},    // network elsewhere
      {"inspect", "--kind", "layerzero", "--hex", packet, "--bogus"},                 // unknown option
  };
  for (const auto& args : cases) {
    const ran r = ferryctl(args);
    EXPECT_EQ(r.code, 2) << args[args.size() - 1] << ": " << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(r.err.empty());
  }
  // The other subcommands are still there: no subcommand is a usage error too.
  EXPECT_EQ(ferryctl({}).code, 2);
  EXPECT_EQ(ferryctl({"inspect", "--kind", "layerzero", "--hex", packet}).code, 0);
}

}  // namespace
}  // namespace ferry::ctl

#include "ferry/verify/hyperlane_ism.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/bytes.hpp"
#include "support/signatures.hpp"

namespace ferry::verify::hyperlane {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;

// ---------------------------------------------------------------------------------------------------------------
// Helpers that compute what the protocol says independently of the code under test: byte strings laid out by
// hand, hashed with the plain keccak256.

void put_be32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>(v >> shift));
}

using ferry::testing::append;
using ferry::testing::eip191;
using ferry::testing::text;

hash256 expected_domain_hash(std::uint32_t origin, std::span<const std::byte> hook) {
  bytes b;
  put_be32(b, origin);
  append(b, hook);
  append(b, text("HYPERLANE"));
  return keccak256(b);
}

hash256 expected_digest(std::uint32_t origin, std::span<const std::byte> hook, std::span<const std::byte> root,
                        std::uint32_t index, std::span<const std::byte> id) {
  bytes b;
  append(b, expected_domain_hash(origin, hook));
  append(b, root);
  put_be32(b, index);
  append(b, id);
  return eip191(keccak256(b));
}

hash256 expected_branch_root(hash256 cur, std::span<const std::byte> proof, std::uint32_t index) {
  for (std::size_t i = 0; i < tree_depth; ++i) {
    const std::span<const std::byte> sibling = proof.subspan(i * 32, 32);
    bytes b;
    if ((index >> i) & 1u) {
      append(b, sibling);
      append(b, cur);
    } else {
      append(b, cur);
      append(b, sibling);
    }
    cur = keccak256(b);
  }
  return cur;
}

// Hex of exactly N bytes.
template <std::size_t N>
std::array<std::byte, N> exact(const std::string& hex) {
  std::array<std::byte, N> out{};
  const std::optional<bytes> raw = from_hex(hex);
  EXPECT_TRUE(raw && raw->size() == N) << "'" << hex << "' is not " << N << " bytes of hex";
  if (raw && raw->size() == N) std::copy(raw->begin(), raw->end(), out.begin());
  return out;
}

// A big-endian number of at most N bytes, left-padded: signedCheckpoint.json writes r as a number, and one r has
// a leading zero nibble dropped (63 hex digits).
template <std::size_t N>
std::array<std::byte, N> number(std::string hex) {
  if (hex.starts_with("0x")) hex.erase(0, 2);
  if (hex.size() % 2 != 0) hex.insert(0, "0");
  std::array<std::byte, N> out{};
  const std::optional<bytes> raw = from_hex(hex);
  EXPECT_TRUE(raw && raw->size() <= N) << "'" << hex << "' is not a number of at most " << N << " bytes";
  if (raw && raw->size() <= N) {
    std::copy(raw->begin(), raw->end(), out.end() - static_cast<std::ptrdiff_t>(raw->size()));
  }
  return out;
}

nlohmann::json load_json(const std::string& name) {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/hyperlane/" + name);
  auto doc = nlohmann::json::parse(in, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "cannot read " FERRY_VECTORS_DIR "/hyperlane/" << name;
  return doc;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys, messages and metadata built for the ISM tests.

struct key {
  hash256 secret;
  eth_address address;
};

// Deterministic validator keys: secret = keccak256("<prefix> <i>").
std::vector<key> make_keys(std::string_view prefix, std::size_t count) {
  std::vector<key> out;
  for (std::size_t i = 0; i < count; ++i) {
    const hash256 secret = keccak256(text(std::string(prefix) + " " + std::to_string(i)));
    const std::optional<eth_address> address = address_of_secret_key(secret);
    EXPECT_TRUE(address.has_value());
    out.push_back({secret, address.value_or(eth_address{})});
  }
  return out;
}

// r | s | v with v = 27 + recovery id, Ethereum's wire form.
std::array<std::byte, 65> sign27(const hash256& digest, const key& k) {
  std::optional<std::array<std::byte, 65>> sig = sign_recoverable(digest, k.secret);
  EXPECT_TRUE(sig.has_value());
  if (!sig) return {};
  (*sig)[64] = static_cast<std::byte>(std::to_integer<int>((*sig)[64]) + 27);
  return *sig;
}

constexpr std::uint32_t our_origin = 1000;
constexpr std::uint32_t their_origin = 2000;

std::array<std::byte, 32> filled(std::uint8_t seed) {
  std::array<std::byte, 32> out;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(seed + i * 3);
  return out;
}

const std::array<std::byte, 32> our_hook = filled(0x40);

// A message from `from`, as its bytes (not the envelope).
bytes make_message(std::uint32_t from, std::string_view body_text = "hello ferry") {
  const bytes body = text(body_text);
  message_fields f;
  f.nonce = 7;
  f.origin = from;
  f.sender = filled(0x11);
  f.destination = 42;
  f.recipient = filled(0x22);
  f.body = body;
  bytes envelope(encoded_envelope_size(f, {}));
  EXPECT_EQ(encode_envelope(f, {}, envelope), envelope.size());
  return bytes(envelope.begin() + 2, envelope.end());
}

// The envelope carrying `message` and `metadata`, as the data plane receives it.
bytes make_envelope(const bytes& message, const bytes& metadata) {
  bytes out;
  out.push_back(static_cast<std::byte>(message.size() >> 8));
  out.push_back(static_cast<std::byte>(message.size() & 0xff));
  append(out, message);
  append(out, metadata);
  return out;
}

std::optional<envelope_view> parse(const bytes& envelope) {
  envelope_view e;
  if (parse_envelope(envelope, e) != parse_status::ok) return std::nullopt;
  return e;
}

// MessageIdMultisig metadata over `message` signed by `signers` (indices into keys, in that order).
struct message_id_checkpoint {
  hash256 root = filled(0x77);
  std::uint32_t index = 12;
};

bytes message_id_metadata(const bytes& message, const std::vector<key>& keys, const std::vector<std::size_t>& signers,
                          const message_id_checkpoint& cp = {}, std::uint32_t signed_origin = our_origin) {
  const hash256 digest = expected_digest(signed_origin, our_hook, cp.root, cp.index, keccak256(message));
  bytes out;
  append(out, our_hook);
  append(out, cp.root);
  put_be32(out, cp.index);
  for (const std::size_t s : signers) append(out, sign27(digest, keys[s]));
  return out;
}

// A merkle proof of 32 made-up siblings: the tree is not built, only the branch, which is all the ISM checks.
bytes sample_proof() {
  bytes out;
  for (std::uint8_t i = 0; i < tree_depth; ++i) append(out, keccak256(text("sibling " + std::to_string(i))));
  return out;
}

struct merkle_checkpoint {
  std::uint32_t message_index = 5;
  hash256 signed_message_id = keccak256(text("the latest message in the tree"));
  std::uint32_t signed_index = 9;
};

bytes merkle_root_metadata(const bytes& message, const std::vector<key>& keys, const std::vector<std::size_t>& signers,
                           const merkle_checkpoint& cp = {}) {
  const bytes proof = sample_proof();
  const hash256 root = expected_branch_root(keccak256(message), proof, cp.message_index);
  const hash256 digest = expected_digest(our_origin, our_hook, root, cp.signed_index, cp.signed_message_id);
  bytes out;
  append(out, our_hook);
  put_be32(out, cp.message_index);
  append(out, cp.signed_message_id);
  append(out, proof);
  put_be32(out, cp.signed_index);
  for (const std::size_t s : signers) append(out, sign27(digest, keys[s]));
  return out;
}

std::vector<eth_address> addresses(const std::vector<key>& keys) {
  std::vector<eth_address> out;
  for (const key& k : keys) out.push_back(k.address);
  return out;
}

validator_registry registry_of(const std::vector<key>& keys, std::uint8_t threshold,
                               ism_type ism = ism_type::message_id_multisig, std::uint32_t for_origin = our_origin) {
  validator_registry r;
  EXPECT_TRUE(r.add({for_origin, ism, addresses(keys), threshold}).ok());
  return r;
}

verdict verify_bytes(const bytes& envelope, const validator_registry& r) {
  const std::optional<envelope_view> e = parse(envelope);
  if (!e) return verdict::malformed;
  return verify_envelope(*e, r);
}

// check_envelope_structure refuses only what verify_envelope refuses, with the same verdict; what it lets through,
// verify_envelope either accepts or refuses for a signature (bad_signature, no_quorum).
void expect_structure_agrees(const bytes& envelope, const validator_registry& r) {
  const std::optional<envelope_view> e = parse(envelope);
  if (!e) return;
  const verdict full = verify_envelope(*e, r);
  const verdict cheap = check_envelope_structure(*e, r);
  if (cheap != verdict::valid) {
    EXPECT_EQ(full, cheap);
  } else {
    EXPECT_TRUE(full == verdict::valid || full == verdict::bad_signature || full == verdict::no_quorum)
        << to_string(full);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The hyperlane-monorepo vectors.

TEST(HyperlaneIsmVectors, MessageIdMatchesMessageJson) {
  const nlohmann::json doc = load_json("message.json");
  ASSERT_TRUE(doc.is_array() && doc.size() == 1);
  const auto& m = doc[0];
  message_fields f;
  f.nonce = m.at("nonce").get<std::uint32_t>();
  f.origin = m.at("origin").get<std::uint32_t>();
  f.sender = exact<32>(m.at("sender").get<std::string>());
  f.destination = m.at("destination").get<std::uint32_t>();
  f.recipient = exact<32>(m.at("recipient").get<std::string>());
  bytes body;
  for (const auto& b : m.at("body")) body.push_back(static_cast<std::byte>(b.get<std::uint8_t>()));
  f.body = body;
  bytes envelope(encoded_envelope_size(f, {}));
  ASSERT_EQ(encode_envelope(f, {}, envelope), envelope.size());
  const std::optional<envelope_view> e = parse(envelope);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(same(message_id(e->message), exact<32>(m.at("id").get<std::string>())));
}

TEST(HyperlaneIsmVectors, DomainHashMatchesDomainHashJson) {
  const nlohmann::json doc = load_json("domainHash.json");
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 3u);
  for (const auto& c : doc) {
    const std::uint32_t domain = c.at("domain").get<std::uint32_t>();
    const auto mailbox = exact<32>(c.at("mailbox").get<std::string>());
    const auto expected = exact<32>(c.at("expectedDomainHash").get<std::string>());
    EXPECT_TRUE(same(domain_hash(domain, mailbox), expected)) << "domain " << domain;
    EXPECT_TRUE(same(expected_domain_hash(domain, mailbox), expected)) << "domain " << domain;
  }
}

std::array<std::byte, tree_depth * 32> proof_of(const nlohmann::json& path) {
  std::array<std::byte, tree_depth * 32> out{};
  EXPECT_EQ(path.size(), tree_depth);
  for (std::size_t i = 0; i < std::min<std::size_t>(path.size(), tree_depth); ++i) {
    const auto sibling = exact<32>(path[i].get<std::string>());
    std::copy(sibling.begin(), sibling.end(), out.begin() + static_cast<std::ptrdiff_t>(i * 32));
  }
  return out;
}

TEST(HyperlaneIsmVectors, BranchRootMatchesProofJson) {
  const nlohmann::json doc = load_json("proof.json");
  const auto& p = doc.at("proof");
  const hash256 leaf = exact<32>(p.at("leaf").get<std::string>());
  const std::uint32_t index = p.at("index").get<std::uint32_t>();
  EXPECT_EQ(index, 1u);
  const auto proof = proof_of(p.at("path"));
  const hash256 root = exact<32>(doc.at("root").get<std::string>());
  EXPECT_TRUE(same(branch_root(leaf, proof, index), root));
  // The index picks the side at each level: the neighbour's index gives another root.
  EXPECT_FALSE(same(branch_root(leaf, proof, index ^ 1u), root));
}

TEST(HyperlaneIsmVectors, BranchRootMatchesEveryProofInMerkleJson) {
  const nlohmann::json doc = load_json("merkle.json");
  ASSERT_TRUE(doc.is_array());
  std::size_t proofs = 0;
  for (const auto& c : doc) {
    const std::string name = c.at("testName").get<std::string>();
    const hash256 root = exact<32>(c.at("expectedRoot").get<std::string>());
    EXPECT_EQ(c.at("proofs").size(), c.at("leaves").size()) << name;
    for (const auto& p : c.at("proofs")) {
      const hash256 leaf = exact<32>(p.at("leaf").get<std::string>());
      const std::uint32_t index = p.at("index").get<std::uint32_t>();
      EXPECT_TRUE(same(branch_root(leaf, proof_of(p.at("path")), index), root)) << name << " index " << index;
      ++proofs;
    }
  }
  EXPECT_EQ(doc.size(), 5u);
  EXPECT_EQ(proofs, 3u + 1u + 0u + 42u + 5u);
}

// The older checkpoint form (no messageId): digest = EIP-191(keccak256(domainHash | root | index u32)). Recovering
// its signers checks the domain hash, EIP-191 and OpenZeppelin-rule recovery against real validator signatures.
TEST(HyperlaneIsmVectors, RecoversSignedCheckpointSigners) {
  const nlohmann::json doc = load_json("signedCheckpoint.json");
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 3u);
  for (const auto& c : doc) {
    const std::uint32_t domain = c.at("domain").get<std::uint32_t>();
    const std::uint32_t index = c.at("index").get<std::uint32_t>();
    const auto hook_bytes = exact<32>(c.at("merkle_tree_hook").get<std::string>());
    const auto root = exact<32>(c.at("root").get<std::string>());
    const auto& sig = c.at("signature");
    const auto r = number<32>(sig.at("r").get<std::string>());
    const auto s = number<32>(sig.at("s").get<std::string>());
    const unsigned v = sig.at("v").get<unsigned>();
    ASSERT_TRUE(v == 27 || v == 28);
    const auto signer = exact<20>(c.at("signer").get<std::string>());

    bytes inner;
    append(inner, domain_hash(domain, hook_bytes));
    append(inner, root);
    put_be32(inner, index);
    const hash256 digest = eip191(keccak256(inner));
    EXPECT_TRUE(same(eth_signed_message_hash(keccak256(inner)), digest));

    std::array<std::byte, 64> rs;
    std::copy(r.begin(), r.end(), rs.begin());
    std::copy(s.begin(), s.end(), rs.begin() + 32);
    const std::optional<eth_address> recovered =
        recover_address(digest, rs, static_cast<std::uint8_t>(v - 27), s_rule::low_only);
    ASSERT_TRUE(recovered.has_value()) << "index " << index;
    EXPECT_TRUE(same(*recovered, signer)) << "index " << index;
    // The other recovery id is another key: the check can fail.
    const std::optional<eth_address> flipped =
        recover_address(digest, rs, static_cast<std::uint8_t>(28 - v), s_rule::low_only);
    EXPECT_FALSE(flipped && same(*flipped, signer));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Digests and metadata.

TEST(HyperlaneIsm, CheckpointDigestIsEip191OverDomainRootIndexAndMessageId) {
  const hash256 root = filled(1);
  const hash256 id = filled(2);
  const hash256 expected = expected_digest(our_origin, our_hook, root, 0x01020304, id);
  EXPECT_TRUE(same(checkpoint_digest(our_origin, our_hook, root, 0x01020304, id), expected));
  EXPECT_FALSE(same(checkpoint_digest(our_origin + 1, our_hook, root, 0x01020304, id), expected));
  EXPECT_FALSE(same(checkpoint_digest(our_origin, our_hook, root, 0x01020305, id), expected));
  EXPECT_FALSE(same(checkpoint_digest(our_origin, our_hook, id, 0x01020304, root), expected));
}

TEST(HyperlaneIsm, IsmTypeNamesRoundTrip) {
  for (const ism_type t : {ism_type::message_id_multisig, ism_type::merkle_root_multisig}) {
    EXPECT_EQ(ism_type_from_string(to_string(t)), t);
  }
  EXPECT_EQ(to_string(ism_type::message_id_multisig), "message-id-multisig");
  EXPECT_EQ(to_string(ism_type::merkle_root_multisig), "merkle-root-multisig");
  EXPECT_FALSE(ism_type_from_string("aggregation").has_value());
  EXPECT_FALSE(ism_type_from_string("").has_value());
}

TEST(HyperlaneIsm, ReadsMessageIdMetadata) {
  const bytes message = make_message(our_origin);
  message_view m;
  ASSERT_EQ(parse_message(message, m), parse_status::ok);
  const std::vector<key> keys = make_keys("hyperlane validator", 2);
  const message_id_checkpoint cp;
  const bytes metadata = message_id_metadata(message, keys, {0, 1}, cp);
  const std::optional<checkpoint> read = read_checkpoint(ism_type::message_id_multisig, m, metadata);
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(same(read->merkle_tree_hook, our_hook));
  EXPECT_TRUE(same(read->root, cp.root));
  EXPECT_EQ(read->index, cp.index);
  EXPECT_TRUE(same(read->message_id, keccak256(message)));
  EXPECT_EQ(read->signatures.data(), metadata.data() + 68);
  EXPECT_EQ(read->signatures.size(), 2 * signature_size);
}

TEST(HyperlaneIsm, ReadsMerkleRootMetadataAndComputesTheRoot) {
  const bytes message = make_message(our_origin);
  message_view m;
  ASSERT_EQ(parse_message(message, m), parse_status::ok);
  const std::vector<key> keys = make_keys("hyperlane validator", 1);
  const merkle_checkpoint cp;
  const bytes metadata = merkle_root_metadata(message, keys, {0}, cp);
  ASSERT_EQ(metadata.size(), 1096 + signature_size);
  const std::optional<checkpoint> read = read_checkpoint(ism_type::merkle_root_multisig, m, metadata);
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(same(read->merkle_tree_hook, our_hook));
  EXPECT_TRUE(same(read->root, expected_branch_root(keccak256(message), sample_proof(), cp.message_index)));
  EXPECT_EQ(read->index, cp.signed_index);
  EXPECT_TRUE(same(read->message_id, cp.signed_message_id));
  EXPECT_EQ(read->signatures.data(), metadata.data() + 1096);
  EXPECT_EQ(read->signatures.size(), signature_size);
}

// ---------------------------------------------------------------------------------------------------------------
// Quorum.

TEST(HyperlaneIsm, MessageIdMultisigValidAtThreshold) {
  const std::vector<key> keys = make_keys("hyperlane validator", 5);
  const validator_registry r = registry_of(keys, 3);
  const bytes message = make_message(our_origin);
  // Any ordered subset of the threshold's size, with or without validators skipped.
  for (const std::vector<std::size_t>& signers :
       std::vector<std::vector<std::size_t>>{{0, 1, 2}, {0, 2, 4}, {2, 3, 4}, {1, 3, 4}}) {
    const bytes envelope = make_envelope(message, message_id_metadata(message, keys, signers));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::valid) << signers[0] << signers[1] << signers[2];
    EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::valid);
  }
  // Past the threshold the signatures are not read: a duplicate there is no matter.
  EXPECT_EQ(verify_bytes(make_envelope(message, message_id_metadata(message, keys, {0, 1, 2, 2, 0})), r),
            verdict::valid);
  // Direct use: the same checkpoint through verify_checkpoint.
  const bytes metadata = message_id_metadata(message, keys, {1, 2, 3});
  message_view m;
  ASSERT_EQ(parse_message(message, m), parse_status::ok);
  const std::optional<checkpoint> cp = read_checkpoint(ism_type::message_id_multisig, m, metadata);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(verify_checkpoint(*cp, our_origin, *r.find(our_origin)), verdict::valid);
  // The origin is in the digest: the same signatures say nothing of another origin.
  EXPECT_EQ(verify_checkpoint(*cp, our_origin + 1, *r.find(our_origin)), verdict::bad_signature);
}

TEST(HyperlaneIsm, MerkleRootMultisigValidAtThreshold) {
  const std::vector<key> keys = make_keys("hyperlane validator", 4);
  const validator_registry r = registry_of(keys, 2, ism_type::merkle_root_multisig);
  const bytes message = make_message(our_origin);
  for (const merkle_checkpoint& cp : {merkle_checkpoint{}, merkle_checkpoint{0, hash256{}, 0},
                                      merkle_checkpoint{0xfffffffe, keccak256(text("x")), 0xffffffff}}) {
    const bytes envelope = make_envelope(message, merkle_root_metadata(message, keys, {1, 3}, cp));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::valid) << cp.message_index;
  }
  // message_index == signed_index: the message is the checkpoint's latest.
  const bytes envelope =
      make_envelope(message, merkle_root_metadata(message, keys, {0, 1}, {9, keccak256(message), 9}));
  EXPECT_EQ(verify_bytes(envelope, r), verdict::valid);
  // The same metadata read as the other ISM type is not valid.
  const validator_registry wrong_type = registry_of(keys, 2, ism_type::message_id_multisig);
  EXPECT_NE(verify_bytes(envelope, wrong_type), verdict::valid);
}

// Flips each byte of message and metadata in turn. Every flip is refused, except the flips of signature bytes past
// the threshold, which AbstractMultisigIsm never reads (proven harmless: still valid).
void mutate_every_byte(const bytes& message, const bytes& metadata, const validator_registry& r,
                       std::size_t signatures_at, std::size_t threshold) {
  const bytes envelope = make_envelope(message, metadata);
  ASSERT_EQ(verify_bytes(envelope, r), verdict::valid);
  const std::size_t message_at = 2;
  const std::size_t metadata_at = message_at + message.size();
  const std::size_t harmless_from = metadata_at + signatures_at + threshold * signature_size;
  std::size_t harmless = 0;
  for (std::size_t at = message_at; at < envelope.size(); ++at) {
    bytes mutated = envelope;
    mutated[at] ^= std::byte{0xff};
    const verdict v = verify_bytes(mutated, r);
    if (at >= harmless_from) {
      EXPECT_EQ(v, verdict::valid) << "byte " << at;
      ++harmless;
    } else {
      EXPECT_NE(v, verdict::valid) << "byte " << at;
    }
    expect_structure_agrees(mutated, r);
  }
  EXPECT_GT(harmless, 0u);
}

TEST(HyperlaneIsm, MessageIdMultisigRefusesEveryFlipButSignaturesPastThreshold) {
  const std::vector<key> keys = make_keys("hyperlane validator", 3);
  const validator_registry r = registry_of(keys, 2);
  const bytes message = make_message(our_origin, "mutate me");
  mutate_every_byte(message, message_id_metadata(message, keys, {0, 2, 1}), r, 68, 2);
}

TEST(HyperlaneIsm, MerkleRootMultisigRefusesEveryFlipButSignaturesPastThreshold) {
  const std::vector<key> keys = make_keys("hyperlane validator", 2);
  const validator_registry r = registry_of(keys, 1, ism_type::merkle_root_multisig);
  const bytes message = make_message(our_origin, "mutate me");
  mutate_every_byte(message, merkle_root_metadata(message, keys, {1, 0}), r, 1096, 1);
}

TEST(HyperlaneIsm, OriginWithoutValidatorSetIsUnknownKeySet) {
  const std::vector<key> keys = make_keys("hyperlane validator", 3);
  const validator_registry r = registry_of(keys, 2);
  const bytes message = make_message(their_origin);
  const bytes envelope = make_envelope(message, message_id_metadata(message, keys, {0, 1}, {}, their_origin));
  EXPECT_EQ(verify_bytes(envelope, r), verdict::unknown_key_set);
  EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::unknown_key_set);
  EXPECT_EQ(verify_bytes(envelope, validator_registry{}), verdict::unknown_key_set);
  // With a set for that origin, the same envelope is valid: the origin picks the set.
  validator_registry both = registry_of(keys, 2);
  ASSERT_TRUE(both.add({their_origin, ism_type::message_id_multisig, addresses(keys), 2}).ok());
  EXPECT_EQ(verify_bytes(envelope, both), verdict::valid);
}

TEST(HyperlaneIsm, AnotherOriginsValidatorsAreBadSignature) {
  const std::vector<key> ours = make_keys("hyperlane validator", 3);
  const std::vector<key> theirs = make_keys("other validator", 3);
  validator_registry r = registry_of(ours, 2);
  ASSERT_TRUE(r.add({their_origin, ism_type::message_id_multisig, addresses(theirs), 2}).ok());
  const bytes message = make_message(our_origin);
  EXPECT_EQ(verify_bytes(make_envelope(message, message_id_metadata(message, theirs, {0, 1})), r),
            verdict::bad_signature);
}

TEST(HyperlaneIsm, DuplicateSignerIsNoQuorum) {
  const std::vector<key> keys = make_keys("hyperlane validator", 3);
  const validator_registry r = registry_of(keys, 2);
  const bytes message = make_message(our_origin);
  for (const std::vector<std::size_t>& signers : std::vector<std::vector<std::size_t>>{{0, 0}, {1, 1}, {2, 2}}) {
    const bytes envelope = make_envelope(message, message_id_metadata(message, keys, signers));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::no_quorum) << signers[0];
    EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::valid);
  }
}

TEST(HyperlaneIsm, OutOfOrderSignersIsNoQuorum) {
  const std::vector<key> keys = make_keys("hyperlane validator", 4);
  const validator_registry r = registry_of(keys, 3);
  const bytes message = make_message(our_origin);
  for (const std::vector<std::size_t>& signers :
       std::vector<std::vector<std::size_t>>{{1, 0, 2}, {0, 2, 1}, {3, 2, 1}, {0, 3, 2}}) {
    const bytes envelope = make_envelope(message, message_id_metadata(message, keys, signers));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::no_quorum) << signers[0] << signers[1] << signers[2];
    EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::valid);
  }
  // The last validator first leaves nothing after it for the second signature.
  EXPECT_EQ(verify_bytes(make_envelope(message, message_id_metadata(message, keys, {3, 0, 1})), r),
            verdict::no_quorum);
}

TEST(HyperlaneIsm, FewerSignaturesThanThresholdIsNoQuorum) {
  const std::vector<key> keys = make_keys("hyperlane validator", 4);
  const message_id_checkpoint cp;
  for (const ism_type ism : {ism_type::message_id_multisig, ism_type::merkle_root_multisig}) {
    const validator_registry r = registry_of(keys, 3, ism);
    const bytes message = make_message(our_origin);
    for (const std::vector<std::size_t>& signers : std::vector<std::vector<std::size_t>>{{}, {0}, {0, 1}}) {
      const bytes metadata = ism == ism_type::message_id_multisig ? message_id_metadata(message, keys, signers, cp)
                                                                  : merkle_root_metadata(message, keys, signers);
      const bytes envelope = make_envelope(message, metadata);
      EXPECT_EQ(verify_bytes(envelope, r), verdict::no_quorum) << to_string(ism) << " " << signers.size();
      EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::no_quorum);
    }
    const bytes metadata = ism == ism_type::message_id_multisig ? message_id_metadata(message, keys, {0, 1, 3}, cp)
                                                                : merkle_root_metadata(message, keys, {0, 1, 3});
    EXPECT_EQ(verify_bytes(make_envelope(message, metadata), r), verdict::valid) << to_string(ism);
  }
}

TEST(HyperlaneIsm, SignerOutsideTheSetIsBadSignature) {
  std::vector<key> keys = make_keys("hyperlane validator", 3);
  const validator_registry r = registry_of(keys, 2);
  keys.push_back(make_keys("stranger", 1)[0]);
  const bytes message = make_message(our_origin);
  for (const std::vector<std::size_t>& signers : std::vector<std::vector<std::size_t>>{{3, 0}, {0, 3}, {1, 3}}) {
    const bytes envelope = make_envelope(message, message_id_metadata(message, keys, signers));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::bad_signature) << signers[0] << signers[1];
    EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::valid);
  }
  // The stranger past the threshold is never read.
  EXPECT_EQ(verify_bytes(make_envelope(message, message_id_metadata(message, keys, {0, 1, 3})), r), verdict::valid);
}

TEST(HyperlaneIsm, HighSTwinIsBadSignature) {
  const std::vector<key> keys = make_keys("hyperlane validator", 2);
  const validator_registry r = registry_of(keys, 2);
  const bytes message = make_message(our_origin);
  const hash256 digest = expected_digest(our_origin, our_hook, message_id_checkpoint{}.root,
                                         message_id_checkpoint{}.index, keccak256(message));
  for (std::size_t position = 0; position < 2; ++position) {
    bytes metadata = message_id_metadata(message, keys, {0, 1});
    // The twin of the raw signature (recovery id 0/1), then moved to Ethereum's v.
    const std::optional<std::array<std::byte, 65>> low = sign_recoverable(digest, keys[position].secret);
    ASSERT_TRUE(low.has_value());
    std::array<std::byte, 65> twin = ferry::testing::high_s_twin(*low);
    // The twin is a good signature for any ECDSA verifier that accepts high s: only the s rule refuses it.
    const std::optional<eth_address> any = recover_address(digest, std::span<const std::byte, 65>(twin).first<64>(),
                                                           std::to_integer<std::uint8_t>(twin[64]), s_rule::any);
    ASSERT_TRUE(any.has_value());
    EXPECT_TRUE(same(*any, keys[position].address));
    twin[64] = static_cast<std::byte>(std::to_integer<int>(twin[64]) + 27);
    std::copy(twin.begin(), twin.end(), metadata.begin() + static_cast<std::ptrdiff_t>(68 + position * 65));
    EXPECT_EQ(verify_bytes(make_envelope(message, metadata), r), verdict::bad_signature) << "position " << position;
  }
}

TEST(HyperlaneIsm, VOtherThan27Or28IsBadSignature) {
  const std::vector<key> keys = make_keys("hyperlane validator", 2);
  const validator_registry r = registry_of(keys, 2);
  const bytes message = make_message(our_origin);
  const bytes good = message_id_metadata(message, keys, {0, 1});
  for (std::size_t position = 0; position < 2; ++position) {
    const std::size_t v_at = 68 + position * 65 + 64;
    const int v = std::to_integer<int>(good[v_at]);
    ASSERT_TRUE(v == 27 || v == 28);
    // The raw recovery id (what ecrecover-style callers forget to shift), and values near the right ones.
    for (const int wrong : {v - 27, 0, 1, 2, 26, 29, 31, 35, 255}) {
      bytes metadata = good;
      metadata[v_at] = static_cast<std::byte>(wrong);
      const bytes envelope = make_envelope(message, metadata);
      EXPECT_EQ(verify_bytes(envelope, r), verdict::bad_signature) << "position " << position << " v " << wrong;
      EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::valid);
    }
  }
}

TEST(HyperlaneIsm, MessageIndexPastSignedIndexIsMalformed) {
  const std::vector<key> keys = make_keys("hyperlane validator", 1);
  const validator_registry r = registry_of(keys, 1, ism_type::merkle_root_multisig);
  const bytes message = make_message(our_origin);
  for (const merkle_checkpoint& cp : {merkle_checkpoint{10, hash256{}, 9}, merkle_checkpoint{1, hash256{}, 0},
                                      merkle_checkpoint{0xffffffff, hash256{}, 0xfffffffe}}) {
    const bytes metadata = merkle_root_metadata(message, keys, {0}, cp);
    const bytes envelope = make_envelope(message, metadata);
    EXPECT_EQ(verify_bytes(envelope, r), verdict::malformed) << cp.message_index;
    EXPECT_EQ(check_envelope_structure(*parse(envelope), r), verdict::malformed);
    message_view m;
    ASSERT_EQ(parse_message(message, m), parse_status::ok);
    EXPECT_FALSE(read_checkpoint(ism_type::merkle_root_multisig, m, metadata).has_value());
  }
}

TEST(HyperlaneIsm, TruncatedMetadataIsMalformed) {
  const std::vector<key> keys = make_keys("hyperlane validator", 2);
  const bytes message = make_message(our_origin);
  message_view m;
  ASSERT_EQ(parse_message(message, m), parse_status::ok);
  for (const ism_type ism : {ism_type::message_id_multisig, ism_type::merkle_root_multisig}) {
    const validator_registry r = registry_of(keys, 1, ism);
    const std::size_t fixed = ism == ism_type::message_id_multisig ? 68 : 1096;
    const bytes metadata = ism == ism_type::message_id_multisig ? message_id_metadata(message, keys, {0, 1})
                                                                : merkle_root_metadata(message, keys, {0, 1});
    ASSERT_EQ(metadata.size(), fixed + 2 * 65);
    for (std::size_t length = 0; length < metadata.size(); ++length) {
      const bytes cut(metadata.begin(), metadata.begin() + static_cast<std::ptrdiff_t>(length));
      const bool whole = length >= fixed && (length - fixed) % 65 == 0;
      EXPECT_EQ(read_checkpoint(ism, m, cut).has_value(), whole) << to_string(ism) << " length " << length;
      const verdict v = verify_bytes(make_envelope(message, cut), r);
      if (!whole) {
        EXPECT_EQ(v, verdict::malformed) << to_string(ism) << " length " << length;
      } else {
        EXPECT_EQ(v, length == fixed ? verdict::no_quorum : verdict::valid) << to_string(ism) << " length " << length;
      }
    }
    // A byte too many is half a signature too.
    bytes longer = metadata;
    longer.push_back(std::byte{0});
    EXPECT_EQ(verify_bytes(make_envelope(message, longer), r), verdict::malformed) << to_string(ism);
  }
}

TEST(HyperlaneIsm, VerifyCheckpointRefusesWhatTheRegistryWouldNotBuild) {
  const std::vector<key> keys = make_keys("hyperlane validator", 1);
  const bytes message = make_message(our_origin);
  message_view m;
  ASSERT_EQ(parse_message(message, m), parse_status::ok);
  const bytes metadata = message_id_metadata(message, keys, {0});
  const std::optional<checkpoint> cp = read_checkpoint(ism_type::message_id_multisig, m, metadata);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(verify_checkpoint(*cp, our_origin, {our_origin, ism_type::message_id_multisig, addresses(keys), 1}),
            verdict::valid);
  EXPECT_EQ(verify_checkpoint(*cp, our_origin, {our_origin, ism_type::message_id_multisig, addresses(keys), 0}),
            verdict::unknown_key_set);
  EXPECT_EQ(verify_checkpoint(*cp, our_origin, {our_origin, ism_type::message_id_multisig, {}, 1}),
            verdict::unknown_key_set);
  checkpoint partial = *cp;
  partial.signatures = partial.signatures.first(64);
  EXPECT_EQ(verify_checkpoint(partial, our_origin, {our_origin, ism_type::message_id_multisig, addresses(keys), 1}),
            verdict::malformed);
}

TEST(HyperlaneIsm, RegistryValidatesSets) {
  const std::vector<eth_address> three = addresses(make_keys("hyperlane validator", 3));
  validator_registry r;
  ASSERT_TRUE(r.add({our_origin, ism_type::message_id_multisig, three, 2}).ok());
  ASSERT_TRUE(r.add({their_origin, ism_type::merkle_root_multisig, three, 3}).ok());
  EXPECT_EQ(r.sets().size(), 2u);
  ASSERT_NE(r.find(their_origin), nullptr);
  EXPECT_EQ(r.find(their_origin)->ism, ism_type::merkle_root_multisig);
  EXPECT_EQ(r.find(their_origin)->threshold, 3);
  EXPECT_EQ(r.find(3), nullptr);

  const auto refused = [&](validator_set set, std::string_view says) {
    const platform::result<void> added = r.add(std::move(set));
    ASSERT_FALSE(added.ok()) << says;
    EXPECT_NE(added.err().message().find(says), std::string::npos) << added.err().message();
  };
  refused({our_origin, ism_type::message_id_multisig, three, 1}, "hyperlane origin 1000: already configured");
  refused({7, ism_type::message_id_multisig, {}, 1}, "hyperlane origin 7: needs 1 to 255 validators");
  refused({7, ism_type::message_id_multisig, std::vector<eth_address>(256, three[0]), 1}, "origin 7: needs 1 to 255");
  refused({7, ism_type::message_id_multisig, {three[0], three[1], three[0]}, 1},
          "origin 7: validator 2 repeats validator 0");
  refused({7, ism_type::message_id_multisig, three, 0}, "origin 7: threshold 0 is outside 1..3");
  refused({7, ism_type::message_id_multisig, three, 4}, "origin 7: threshold 4 is outside 1..3");
  EXPECT_EQ(r.sets().size(), 2u);
  EXPECT_EQ(r.find(7), nullptr);
  EXPECT_TRUE(r.add({7, ism_type::message_id_multisig, {three[2]}, 1}).ok());
}

}  // namespace
}  // namespace ferry::verify::hyperlane

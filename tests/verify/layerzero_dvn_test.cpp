#include "ferry/verify/layerzero_dvn.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/bytes.hpp"
#include "support/signatures.hpp"

namespace ferry::verify::layerzero {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;

// ---------------------------------------------------------------------------------------------------------------
// What the protocol says, computed by hand: byte strings laid out here and hashed with the plain keccak256.

void put_be(bytes& out, std::uint64_t v, int size) {
  for (int shift = (size - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>(v >> shift));
}

using ferry::testing::append;
using ferry::testing::eip191;
using ferry::testing::text;

hash256 expected_guid(std::uint64_t nonce, std::uint32_t src, std::span<const std::byte> sender, std::uint32_t dst,
                      std::span<const std::byte> receiver) {
  bytes b;
  put_be(b, nonce, 8);
  put_be(b, src, 4);
  append(b, sender);
  put_be(b, dst, 4);
  append(b, receiver);
  return keccak256(b);
}

// EIP-191(keccak256(dvn | header | payload_hash | confirmations u64)), as the header comment documents.
hash256 expected_attestation_digest(std::span<const std::byte> dvn, std::span<const std::byte> header,
                                    std::span<const std::byte> payload_hash, std::uint64_t confirmations) {
  bytes b;
  append(b, dvn);
  append(b, header);
  append(b, payload_hash);
  put_be(b, confirmations, 8);
  return eip191(keccak256(b));
}

// ---------------------------------------------------------------------------------------------------------------
// The LayerZero-v2 vectors: "key=hex" lines among "#" comments.

std::map<std::string, std::string> load_vectors() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/layerzero/layerzero_vectors.txt");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("#")) continue;
    line = line.substr(0, line.find('#'));
    // "packet_computed=<header> <guid> <message>" is one value in parts; "confirmations=10 target=..." is several.
    if (line.starts_with("packet_computed=")) {
      std::erase(line, ' ');
      out["packet_computed"] = line.substr(line.find('=') + 1);
      continue;
    }
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      const std::size_t eq = word.find('=');
      if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return out;
}

std::string vector_text(const std::string& name) {
  static const std::map<std::string, std::string> vectors = load_vectors();
  const auto it = vectors.find(name);
  if (it == vectors.end()) {
    ADD_FAILURE() << "no '" << name << "' in " FERRY_VECTORS_DIR "/layerzero/layerzero_vectors.txt";
    return {};
  }
  return it->second;
}

bytes vector_hex(const std::string& name) {
  const std::optional<bytes> raw = from_hex(vector_text(name));
  EXPECT_TRUE(raw.has_value()) << name << " is not hex";
  return raw.value_or(bytes{});
}

// "0x...9005": an address abbreviated to its last digits, zeros before them.
bytes abbreviated_word(std::string value) {
  if (value.starts_with("0x...")) value.erase(0, 5);
  if (value.size() % 2 != 0) value.insert(0, "0");
  const std::optional<bytes> tail = from_hex(value);
  EXPECT_TRUE(tail && tail->size() <= 32) << value;
  bytes out(32 - (tail ? tail->size() : 0), std::byte{0});
  if (tail) append(out, *tail);
  return out;
}

TEST(LayerZeroDvnVectors, PacketLayoutGuidIsComputedAndValid) {
  const bytes raw = vector_hex("packet_computed");
  const bytes guid = vector_hex("guid_computed");
  ASSERT_EQ(raw.size(), packet_fixed_size + 6);
  packet_view p;
  ASSERT_EQ(parse_packet(raw, p), parse_status::ok);
  EXPECT_EQ(p.nonce(), 0x1234u);
  EXPECT_EQ(p.src_eid(), 1u);
  EXPECT_EQ(p.dst_eid(), 2u);
  EXPECT_EQ(p.sender()[31], std::byte{0x03});
  EXPECT_EQ(p.receiver()[31], std::byte{0x04});
  EXPECT_TRUE(same(p.message(), from_hex("090807060504").value()));
  EXPECT_TRUE(same(p.guid(), guid));
  EXPECT_TRUE(same(compute_guid(p.nonce(), p.src_eid(), p.sender(), p.dst_eid(), p.receiver()), guid));
  EXPECT_TRUE(same(expected_guid(0x1234, 1, p.sender(), 2, p.receiver()), guid));
  EXPECT_TRUE(guid_valid(p));

  // Each field the guid covers changes it.
  for (const std::size_t at : {std::size_t{8}, std::size_t{12}, std::size_t{44}, std::size_t{48}, std::size_t{80}}) {
    bytes wrong = raw;
    wrong[at] ^= std::byte{1};
    packet_view q;
    ASSERT_EQ(parse_packet(wrong, q), parse_status::ok);
    EXPECT_FALSE(guid_valid(q)) << "byte " << at;
  }
  bytes wrong_guid = raw;
  wrong_guid[100] ^= std::byte{1};
  packet_view q;
  ASSERT_EQ(parse_packet(wrong_guid, q), parse_status::ok);
  EXPECT_FALSE(guid_valid(q));
}

TEST(LayerZeroDvnVectors, PayloadHashIsKeccakOfGuidAndMessage) {
  const bytes raw = vector_hex("packet_computed");
  packet_view p;
  ASSERT_EQ(parse_packet(raw, p), parse_status::ok);
  bytes payload;
  append(payload, vector_hex("guid_computed"));
  append(payload, from_hex("090807060504").value());
  EXPECT_TRUE(same(payload_hash(p), keccak256(payload)));
  EXPECT_FALSE(same(payload_hash(p), keccak256(raw)));
  EXPECT_FALSE(same(payload_hash(p), keccak256(p.message())));
}

// The Aptos DVN's verify hash is not ferry's attestation digest, but rebuilding it from its fields checks the packet
// header and payload hash handling against LayerZero's own test.
TEST(LayerZeroDvnVectors, AptosVerifyHashFromItsFields) {
  const bytes header = vector_hex("packet_header");
  const bytes hash_of_payload = vector_hex("payload_hash");
  ASSERT_EQ(header.size(), packet_header_size);
  ASSERT_EQ(hash_of_payload.size(), 32u);

  // The header reads as packet fields (a made-up guid makes it a whole packet).
  bytes packet = header;
  packet.resize(packet_fixed_size);
  packet_view p;
  ASSERT_EQ(parse_packet(packet, p), parse_status::ok);
  EXPECT_EQ(p.nonce(), 1u);
  EXPECT_EQ(p.src_eid(), 1u);
  EXPECT_EQ(p.dst_eid(), 1u);
  EXPECT_TRUE(same(p.sender(), abbreviated_word("9099")));
  EXPECT_TRUE(same(p.receiver(), abbreviated_word("9099")));
  EXPECT_TRUE(same(p.header(), header));

  const std::uint64_t confirmations = std::stoull(vector_text("confirmations"));
  const std::uint64_t vid = std::stoull(vector_text("vid"));
  const std::uint64_t expiration = std::stoull(vector_text("expiration"));
  EXPECT_EQ(confirmations, 10u);
  bytes preimage = from_hex("7c40a351").value();  // the module's "verify" selector, as the vector file says
  append(preimage, p.header());
  append(preimage, hash_of_payload);
  put_be(preimage, confirmations, 8);
  append(preimage, abbreviated_word(vector_text("target")));
  put_be(preimage, vid, 4);
  put_be(preimage, expiration, 8);
  EXPECT_TRUE(same(preimage, vector_hex("expected_payload")));
  EXPECT_TRUE(same(keccak256(preimage), vector_hex("expected_hash")));
}

// ---------------------------------------------------------------------------------------------------------------
// DVNs, packets and attestations built for the tests.

struct key {
  hash256 secret;
  eth_address address;
};

struct test_dvn {
  eth_address address;
  std::vector<key> signers;  // sorted by address, so that signer indices in order sign in ascending order
  std::uint8_t quorum = 0;
};

eth_address address_from(std::string_view name) {
  const hash256 h = keccak256(text(name));
  eth_address out;
  std::copy(h.begin() + 12, h.end(), out.begin());
  return out;
}

// A DVN whose signers' secrets are keccak256("<name> signer <i>").
test_dvn make_dvn(std::string_view name, std::size_t signers, std::uint8_t quorum) {
  test_dvn out{address_from(name), {}, quorum};
  for (std::size_t i = 0; i < signers; ++i) {
    const hash256 secret = keccak256(text(std::string(name) + " signer " + std::to_string(i)));
    const std::optional<eth_address> address = address_of_secret_key(secret);
    EXPECT_TRUE(address.has_value());
    out.signers.push_back({secret, address.value_or(eth_address{})});
  }
  std::sort(out.signers.begin(), out.signers.end(),
            [](const key& a, const key& b) { return a.address < b.address; });
  return out;
}

dvn_config config_of(const test_dvn& dvn) {
  dvn_config out{dvn.address, {}, dvn.quorum};
  for (const key& k : dvn.signers) out.signers.push_back(k.address);
  return out;
}

constexpr std::uint32_t our_src = 30101;
constexpr std::uint32_t our_dst = 30110;
constexpr std::uint64_t our_confirmations = 15;

std::array<std::byte, 32> filled(std::uint8_t seed) {
  std::array<std::byte, 32> out;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(seed + i * 5);
  return out;
}

// A packet from `from` with a correct guid, as bytes.
bytes make_packet(std::uint32_t from = our_src, std::string_view message = "hello layerzero") {
  const bytes body = text(message);
  packet_fields f;
  f.nonce = 77;
  f.src_eid = from;
  f.sender = filled(0x31);
  f.dst_eid = our_dst;
  f.receiver = filled(0x52);
  f.guid = expected_guid(f.nonce, f.src_eid, f.sender, f.dst_eid, f.receiver);
  f.message = body;
  bytes envelope(encoded_envelope_size(f, {}));
  EXPECT_EQ(encode_envelope(f, {}, envelope), envelope.size());
  return bytes(envelope.begin() + 2, envelope.end());
}

std::array<std::byte, 65> sign27(const hash256& digest, const key& k) {
  std::optional<std::array<std::byte, 65>> sig = sign_recoverable(digest, k.secret);
  EXPECT_TRUE(sig.has_value());
  if (!sig) return {};
  (*sig)[64] = static_cast<std::byte>(std::to_integer<int>((*sig)[64]) + 27);
  return *sig;
}

hash256 digest_for(const eth_address& dvn, const bytes& packet, std::uint64_t conf = our_confirmations) {
  const std::span<const std::byte> header = std::span<const std::byte>(packet).first(packet_header_size);
  const std::span<const std::byte> payload = std::span<const std::byte>(packet).subspan(packet_header_size);
  return expected_attestation_digest(dvn, header, keccak256(payload), conf);
}

// One DVN entry as raw parts: the attestation is laid out by hand, independently of encode_attestation.
struct entry {
  eth_address dvn;
  bytes signatures;
};

// The signatures of `dvn`'s signers at `signers` (indices in dvn.signers, in the order given) over `packet`.
entry signed_entry(const test_dvn& dvn, const bytes& packet, const std::vector<std::size_t>& signers,
                   std::uint64_t conf = our_confirmations) {
  entry out{dvn.address, {}};
  const hash256 digest = digest_for(dvn.address, packet, conf);
  for (const std::size_t s : signers) append(out.signatures, sign27(digest, dvn.signers[s]));
  return out;
}

// Entries in the order given (callers sort them when they mean a valid attestation).
bytes attestation_bytes(const std::vector<entry>& entries, std::uint64_t conf = our_confirmations) {
  bytes out;
  put_be(out, conf, 8);
  out.push_back(static_cast<std::byte>(entries.size()));
  for (const entry& e : entries) {
    append(out, e.dvn);
    out.push_back(static_cast<std::byte>(e.signatures.size() / 65));
    append(out, e.signatures);
  }
  return out;
}

std::vector<entry> ascending(std::vector<entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.dvn < b.dvn; });
  return entries;
}

bytes make_envelope(const bytes& packet, const bytes& attestation) {
  bytes out;
  out.push_back(static_cast<std::byte>(packet.size() >> 8));
  out.push_back(static_cast<std::byte>(packet.size() & 0xff));
  append(out, packet);
  append(out, attestation);
  return out;
}

verdict verify_bytes(const bytes& envelope, const dvn_registry& r) {
  envelope_view e;
  if (parse_envelope(envelope, e) != parse_status::ok) return verdict::malformed;
  return verify_envelope(e, r);
}

verdict structure_of(const bytes& envelope, const dvn_registry& r) {
  envelope_view e;
  if (parse_envelope(envelope, e) != parse_status::ok) return verdict::malformed;
  return check_envelope_structure(e, r);
}

// check_envelope_structure refuses only what verify_envelope refuses, with the same verdict; what it lets through,
// verify_envelope either accepts or refuses for a signature (bad_signature, no_quorum).
void expect_structure_agrees(const bytes& envelope, const dvn_registry& r) {
  const verdict full = verify_bytes(envelope, r);
  const verdict cheap = structure_of(envelope, r);
  if (cheap != verdict::valid) {
    EXPECT_EQ(full, cheap);
  } else {
    EXPECT_TRUE(full == verdict::valid || full == verdict::bad_signature || full == verdict::no_quorum)
        << to_string(full);
  }
}

// The usual path: required A (quorum 2 of 3), optional B (1 of 2), C (2 of 2) and D (1 of 1), threshold 2.
struct scenario {
  test_dvn a = make_dvn("dvn a", 3, 2);
  test_dvn b = make_dvn("dvn b", 2, 1);
  test_dvn c = make_dvn("dvn c", 2, 2);
  test_dvn d = make_dvn("dvn d", 1, 1);
  dvn_registry registry;
  bytes packet = make_packet();

  scenario() {
    EXPECT_TRUE(registry.add({our_src, {config_of(a)}, {config_of(b), config_of(c), config_of(d)}, 2}).ok());
  }

  bytes envelope(const std::vector<entry>& entries, std::uint64_t conf = our_confirmations) const {
    return make_envelope(packet, attestation_bytes(ascending(entries), conf));
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Digests.

TEST(LayerZeroDvn, AttestationDigestIsEip191OverDvnHeaderPayloadHashAndConfirmations) {
  const bytes packet = make_packet();
  packet_view p;
  ASSERT_EQ(parse_packet(packet, p), parse_status::ok);
  const eth_address dvn = address_from("dvn a");
  const std::span<const std::byte, packet_header_size> header(p.bytes().data(), packet_header_size);
  const hash256 expected = digest_for(dvn, packet);
  EXPECT_TRUE(same(attestation_digest(dvn, header, payload_hash(p), our_confirmations), expected));
  EXPECT_FALSE(same(attestation_digest(address_from("dvn b"), header, payload_hash(p), our_confirmations), expected));
  EXPECT_FALSE(same(attestation_digest(dvn, header, payload_hash(p), our_confirmations + 1), expected));
  EXPECT_FALSE(same(attestation_digest(dvn, header, keccak256(p.message()), our_confirmations), expected));
}

TEST(LayerZeroDvn, GuidCoversNonceAndPath) {
  const auto sender = filled(1);
  const auto receiver = filled(2);
  const hash256 guid = compute_guid(5, our_src, sender, our_dst, receiver);
  EXPECT_TRUE(same(guid, expected_guid(5, our_src, sender, our_dst, receiver)));
  EXPECT_FALSE(same(compute_guid(6, our_src, sender, our_dst, receiver), guid));
  EXPECT_FALSE(same(compute_guid(5, our_dst, sender, our_src, receiver), guid));
  EXPECT_FALSE(same(compute_guid(5, our_src, receiver, our_dst, sender), guid));
}

// ---------------------------------------------------------------------------------------------------------------
// Attestations.

TEST(LayerZeroDvn, RequiredOnlyPathValid) {
  const test_dvn a = make_dvn("dvn a", 3, 2);
  const test_dvn b = make_dvn("dvn b", 4, 3);
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {config_of(a), config_of(b)}, {}, 0}).ok());
  const bytes packet = make_packet();
  for (const std::vector<std::size_t>& of_a : std::vector<std::vector<std::size_t>>{{0, 1}, {0, 2}, {1, 2}}) {
    const bytes envelope = make_envelope(
        packet, attestation_bytes(ascending({signed_entry(a, packet, of_a), signed_entry(b, packet, {0, 2, 3})})));
    EXPECT_EQ(verify_bytes(envelope, r), verdict::valid) << of_a[0] << of_a[1];
    EXPECT_EQ(structure_of(envelope, r), verdict::valid);
  }
  // Either alone is not enough.
  EXPECT_EQ(verify_bytes(make_envelope(packet, attestation_bytes({signed_entry(a, packet, {0, 1})})), r),
            verdict::no_quorum);
}

TEST(LayerZeroDvn, RequiredAndOptionalThresholdValid) {
  const scenario s;
  // Required A and any two optional ones, or all three.
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 2}), signed_entry(s.b, s.packet, {1}),
                                     signed_entry(s.c, s.packet, {0, 1})}),
                         s.registry),
            verdict::valid);
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {1, 2}), signed_entry(s.c, s.packet, {0, 1}),
                                     signed_entry(s.d, s.packet, {0})}),
                         s.registry),
            verdict::valid);
  const bytes all = s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}),
                                signed_entry(s.c, s.packet, {0, 1}), signed_entry(s.d, s.packet, {0})});
  EXPECT_EQ(verify_bytes(all, s.registry), verdict::valid);
  EXPECT_EQ(structure_of(all, s.registry), verdict::valid);
  // Any number of confirmations is attested as signed.
  for (const std::uint64_t conf : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}}) {
    EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}, conf),
                                       signed_entry(s.b, s.packet, {0}, conf), signed_entry(s.d, s.packet, {0}, conf)},
                                      conf),
                           s.registry),
              verdict::valid)
        << conf;
  }
}

TEST(LayerZeroDvn, ParsesAttestationInPlace) {
  const scenario s;
  const std::vector<entry> entries = ascending(
      {signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}), signed_entry(s.d, s.packet, {0})});
  const bytes raw = attestation_bytes(entries, 0x0102030405060708);
  attestation_view view;
  ASSERT_EQ(parse_attestation(raw, view), parse_status::ok);
  EXPECT_EQ(view.confirmations, 0x0102030405060708u);
  ASSERT_EQ(view.dvn_count, 3);
  EXPECT_EQ(view.entries.data(), raw.data() + 9);
  EXPECT_EQ(view.entries.size(), raw.size() - 9);
  for (std::uint8_t i = 0; i < 3; ++i) {
    const dvn_attestation got = view.dvn(i);
    EXPECT_EQ(got.dvn, entries[i].dvn);
    EXPECT_TRUE(same(got.signatures, entries[i].signatures));
  }
  // No entries at all parses (the commit rule refuses it later).
  const bytes empty = attestation_bytes({});
  ASSERT_EQ(parse_attestation(empty, view), parse_status::ok);
  EXPECT_EQ(view.dvn_count, 0);
  EXPECT_EQ(verify_bytes(make_envelope(s.packet, empty), s.registry), verdict::no_quorum);
}

TEST(LayerZeroDvn, AttestationLengthsAreChecked) {
  const scenario s;
  const bytes raw =
      attestation_bytes(ascending({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0})}));
  attestation_view view;
  for (std::size_t length = 0; length < raw.size(); ++length) {
    const bytes cut(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(length));
    const parse_status status = parse_attestation(cut, view);
    // A cut right after an entry leaves the count promising one more entry: still short.
    EXPECT_EQ(status, parse_status::truncated) << "length " << length;
    EXPECT_EQ(verify_bytes(make_envelope(s.packet, cut), s.registry), verdict::malformed) << "length " << length;
  }
  bytes longer = raw;
  longer.push_back(std::byte{0});
  EXPECT_EQ(parse_attestation(longer, view), parse_status::bad_length);
  EXPECT_EQ(verify_bytes(make_envelope(s.packet, longer), s.registry), verdict::malformed);
  // A failed parse leaves the view alone.
  ASSERT_EQ(parse_attestation(raw, view), parse_status::ok);
  EXPECT_NE(parse_attestation(longer, view), parse_status::ok);
  EXPECT_EQ(view.entries.data(), raw.data() + 9);
  EXPECT_EQ(view.dvn_count, 2);
}

// Flips each byte of packet and attestation in turn: every flip is refused. (No byte is harmless: the signature
// blob of each DVN is exactly its quorum, and every other byte is in a digest, the guid or a length.)
TEST(LayerZeroDvn, EveryFlipOfPacketOrAttestationIsRefused) {
  const test_dvn a = make_dvn("dvn a", 3, 2);
  const test_dvn b = make_dvn("dvn b", 2, 1);
  const test_dvn c = make_dvn("dvn c", 1, 1);
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {config_of(a)}, {config_of(b), config_of(c)}, 1}).ok());
  const bytes packet = make_packet(our_src, "mutate me");
  const bytes envelope = make_envelope(
      packet, attestation_bytes(ascending({signed_entry(a, packet, {0, 2}), signed_entry(b, packet, {1})})));
  ASSERT_EQ(verify_bytes(envelope, r), verdict::valid);
  for (std::size_t at = 2; at < envelope.size(); ++at) {
    bytes mutated = envelope;
    mutated[at] ^= std::byte{0xff};
    EXPECT_NE(verify_bytes(mutated, r), verdict::valid) << "byte " << at;
    expect_structure_agrees(mutated, r);
  }
}

TEST(LayerZeroDvn, WrongGuidIsMalformed) {
  const scenario s;
  const std::vector<entry> entries = {signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}),
                                      signed_entry(s.d, s.packet, {0})};
  ASSERT_EQ(verify_bytes(s.envelope(entries), s.registry), verdict::valid);
  for (const std::size_t at : {std::size_t{81}, std::size_t{100}, std::size_t{112}}) {
    bytes envelope = s.envelope(entries);
    envelope[2 + at] ^= std::byte{0x80};
    EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::malformed) << "byte " << at;
    EXPECT_EQ(structure_of(envelope, s.registry), verdict::malformed);
  }
  // A guid computed over another nonce, signed by every DVN as it stands: still malformed.
  packet_fields f;
  f.nonce = 78;
  f.src_eid = our_src;
  f.sender = filled(0x31);
  f.dst_eid = our_dst;
  f.receiver = filled(0x52);
  f.guid = expected_guid(77, our_src, f.sender, our_dst, f.receiver);
  bytes packet(encoded_envelope_size(f, {}));
  ASSERT_EQ(encode_envelope(f, {}, packet), packet.size());
  packet.erase(packet.begin(), packet.begin() + 2);
  const bytes envelope = make_envelope(
      packet, attestation_bytes(ascending({signed_entry(s.a, packet, {0, 1}), signed_entry(s.b, packet, {0}),
                                           signed_entry(s.d, packet, {0})})));
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::malformed);
}

TEST(LayerZeroDvn, UnknownSrcEidIsUnknownKeySet) {
  const scenario s;
  const bytes packet = make_packet(our_src + 1);
  const bytes envelope = make_envelope(
      packet, attestation_bytes(ascending({signed_entry(s.a, packet, {0, 1}), signed_entry(s.b, packet, {0}),
                                           signed_entry(s.d, packet, {0})})));
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::unknown_key_set);
  EXPECT_EQ(structure_of(envelope, s.registry), verdict::unknown_key_set);
  EXPECT_EQ(verify_bytes(envelope, dvn_registry{}), verdict::unknown_key_set);
}

TEST(LayerZeroDvn, UnknownDvnEntryIsUnknownKeySet) {
  const scenario s;
  const test_dvn stranger = make_dvn("dvn stranger", 1, 1);
  // Even beside a full commit, an entry the path does not name refuses the packet.
  const bytes envelope = s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}),
                                     signed_entry(s.d, s.packet, {0}), signed_entry(stranger, s.packet, {0})});
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::unknown_key_set);
  EXPECT_EQ(structure_of(envelope, s.registry), verdict::unknown_key_set);
  // A DVN of another path is unknown on this one.
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {config_of(s.a)}, {}, 0}).ok());
  ASSERT_TRUE(r.add({our_src + 1, {config_of(s.b)}, {}, 0}).ok());
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0})}), r),
            verdict::unknown_key_set);
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1})}), r), verdict::valid);
}

TEST(LayerZeroDvn, DvnEntriesOutOfOrderOrRepeatedAreMalformed) {
  const scenario s;
  const std::vector<entry> sorted = ascending(
      {signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}), signed_entry(s.d, s.packet, {0})});
  ASSERT_EQ(verify_bytes(make_envelope(s.packet, attestation_bytes(sorted)), s.registry), verdict::valid);
  attestation_view view;
  const std::vector<std::vector<entry>> wrong = {
      {sorted[1], sorted[0], sorted[2]},
      {sorted[0], sorted[2], sorted[1]},
      {sorted[2], sorted[1], sorted[0]},
      {sorted[0], sorted[1], sorted[1], sorted[2]},
      {sorted[0], sorted[0], sorted[1], sorted[2]},
  };
  for (std::size_t i = 0; i < wrong.size(); ++i) {
    const bytes raw = attestation_bytes(wrong[i]);
    EXPECT_EQ(parse_attestation(raw, view), parse_status::bad_length) << "case " << i;
    const bytes envelope = make_envelope(s.packet, raw);
    EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::malformed) << "case " << i;
    EXPECT_EQ(structure_of(envelope, s.registry), verdict::malformed) << "case " << i;
  }
}

TEST(LayerZeroDvn, SignatureBytesNotExactlyQuorumIsNoQuorum) {
  const scenario s;
  const entry b = signed_entry(s.b, s.packet, {0});
  const entry d = signed_entry(s.d, s.packet, {0});
  // A has quorum 2: one signature, three, or none.
  for (const std::vector<std::size_t>& of_a : std::vector<std::vector<std::size_t>>{{}, {0}, {0, 1, 2}}) {
    const bytes envelope = s.envelope({signed_entry(s.a, s.packet, of_a), b, d});
    EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::no_quorum) << of_a.size();
    EXPECT_EQ(structure_of(envelope, s.registry), verdict::no_quorum) << of_a.size();
  }
  // An optional DVN past the threshold with too many signatures refuses the packet as well.
  const bytes extra = s.envelope({signed_entry(s.a, s.packet, {0, 1}), b, d, signed_entry(s.c, s.packet, {0})});
  EXPECT_EQ(verify_bytes(extra, s.registry), verdict::no_quorum);

  // verify_dvn on its own: exact quorum x 65 bytes only.
  const entry a = signed_entry(s.a, s.packet, {0, 1});
  const hash256 digest = digest_for(s.a.address, s.packet);
  const dvn_config config = config_of(s.a);
  EXPECT_EQ(verify_dvn(config, digest, a.signatures), verdict::valid);
  const std::span<const std::byte> sigs = a.signatures;
  EXPECT_EQ(verify_dvn(config, digest, sigs.first(129)), verdict::no_quorum);
  EXPECT_EQ(verify_dvn(config, digest, sigs.first(65)), verdict::no_quorum);
  EXPECT_EQ(verify_dvn(config, digest, {}), verdict::no_quorum);
  bytes longer = a.signatures;
  longer.push_back(std::byte{27});
  EXPECT_EQ(verify_dvn(config, digest, longer), verdict::no_quorum);
}

TEST(LayerZeroDvn, SignersNotAscendingIsNoQuorum) {
  const scenario s;
  const entry b = signed_entry(s.b, s.packet, {0});
  const entry d = signed_entry(s.d, s.packet, {0});
  ASSERT_LT(s.a.signers[0].address, s.a.signers[1].address);
  for (const std::vector<std::size_t>& of_a :
       std::vector<std::vector<std::size_t>>{{1, 0}, {2, 0}, {2, 1}, {0, 0}, {1, 1}, {2, 2}}) {
    const bytes envelope = s.envelope({signed_entry(s.a, s.packet, of_a), b, d});
    EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::no_quorum) << of_a[0] << of_a[1];
    EXPECT_EQ(structure_of(envelope, s.registry), verdict::valid);
  }
  // The same key signing twice for C (quorum 2), or the two in descending order.
  for (const std::vector<std::size_t>& of_c : std::vector<std::vector<std::size_t>>{{0, 0}, {1, 0}}) {
    EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.c, s.packet, of_c), d}),
                           s.registry),
              verdict::no_quorum);
  }
}

TEST(LayerZeroDvn, SignerOutsideTheDvnIsBadSignature) {
  const scenario s;
  const entry b = signed_entry(s.b, s.packet, {0});
  const entry d = signed_entry(s.d, s.packet, {0});
  // The stranger with A's signers, in ascending order so that only membership is at stake.
  test_dvn with_stranger = s.a;
  with_stranger.signers.push_back(make_dvn("someone else", 1, 1).signers[0]);
  std::sort(with_stranger.signers.begin(), with_stranger.signers.end(),
            [](const key& x, const key& y) { return x.address < y.address; });
  std::size_t stranger = 0;
  while (std::find_if(s.a.signers.begin(), s.a.signers.end(), [&](const key& k) {
           return k.address == with_stranger.signers[stranger].address;
         }) != s.a.signers.end()) {
    ++stranger;
  }
  const std::size_t other = stranger == 0 ? 1 : 0;
  const std::vector<std::size_t> of_a = {std::min(stranger, other), std::max(stranger, other)};
  const bytes envelope = s.envelope({signed_entry(with_stranger, s.packet, of_a), b, d});
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::bad_signature);
  EXPECT_EQ(structure_of(envelope, s.registry), verdict::valid);
  // B's signer for D, D's for B: each is a stranger to the other DVN.
  test_dvn b_as_d = s.d;
  b_as_d.signers = s.b.signers;
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}), b, signed_entry(b_as_d, s.packet, {0})}),
                         s.registry),
            verdict::bad_signature);
}

TEST(LayerZeroDvn, OneDvnsSignaturesDoNotStandInForAnother) {
  // Two DVNs run by the same keys: the DVN's address in the digest keeps their attestations apart.
  test_dvn a = make_dvn("dvn a", 2, 1);
  test_dvn twin = a;
  twin.address = address_from("dvn a twin");
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {config_of(a), config_of(twin)}, {}, 0}).ok());
  const bytes packet = make_packet();
  const entry good_a = signed_entry(a, packet, {0});
  const entry good_twin = signed_entry(twin, packet, {1});
  EXPECT_EQ(verify_bytes(make_envelope(packet, attestation_bytes(ascending({good_a, good_twin}))), r), verdict::valid);
  const entry copied{twin.address, good_a.signatures};
  EXPECT_EQ(verify_bytes(make_envelope(packet, attestation_bytes(ascending({good_a, copied}))), r),
            verdict::bad_signature);
}

TEST(LayerZeroDvn, HighSIsBadSignature) {
  const scenario s;
  const entry b = signed_entry(s.b, s.packet, {0});
  const hash256 digest = digest_for(s.d.address, s.packet);
  const std::optional<std::array<std::byte, 65>> low = sign_recoverable(digest, s.d.signers[0].secret);
  ASSERT_TRUE(low.has_value());
  // The twin with recovery id 0/1, checked to be the same key's signature, then moved to Ethereum's v.
  std::array<std::byte, 65> twin = ferry::testing::high_s_twin(*low);
  const std::optional<eth_address> any = recover_address(
      digest, std::span<const std::byte, 65>(twin).first<64>(), std::to_integer<std::uint8_t>(twin[64]), s_rule::any);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(*any, s.d.signers[0].address);
  twin[64] = static_cast<std::byte>(std::to_integer<int>(twin[64]) + 27);
  entry d{s.d.address, {}};
  append(d.signatures, twin);
  const bytes envelope = s.envelope({signed_entry(s.a, s.packet, {0, 1}), b, d});
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::bad_signature);
  EXPECT_EQ(structure_of(envelope, s.registry), verdict::valid);
  EXPECT_EQ(verify_dvn(config_of(s.d), digest, d.signatures), verdict::bad_signature);
  // The low-s original passes.
  EXPECT_EQ(verify_dvn(config_of(s.d), digest, signed_entry(s.d, s.packet, {0}).signatures), verdict::valid);
}

TEST(LayerZeroDvn, VOtherThan27Or28IsBadSignature) {
  const scenario s;
  const entry a = signed_entry(s.a, s.packet, {0, 1});
  const hash256 digest = digest_for(s.a.address, s.packet);
  const dvn_config config = config_of(s.a);
  ASSERT_EQ(verify_dvn(config, digest, a.signatures), verdict::valid);
  for (std::size_t position = 0; position < 2; ++position) {
    const std::size_t v_at = position * 65 + 64;
    const int v = std::to_integer<int>(a.signatures[v_at]);
    ASSERT_TRUE(v == 27 || v == 28);
    for (const int wrong : {v - 27, 0, 1, 26, 29, 255}) {
      bytes sigs = a.signatures;
      sigs[v_at] = static_cast<std::byte>(wrong);
      EXPECT_EQ(verify_dvn(config, digest, sigs), verdict::bad_signature) << position << " v " << wrong;
      const bytes envelope =
          s.envelope({entry{s.a.address, sigs}, signed_entry(s.b, s.packet, {0}), signed_entry(s.d, s.packet, {0})});
      EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::bad_signature);
    }
  }
}

TEST(LayerZeroDvn, MissingRequiredDvnIsNoQuorum) {
  const scenario s;
  const bytes envelope = s.envelope({signed_entry(s.b, s.packet, {0}), signed_entry(s.c, s.packet, {0, 1}),
                                     signed_entry(s.d, s.packet, {0})});
  EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::no_quorum);
  EXPECT_EQ(structure_of(envelope, s.registry), verdict::no_quorum);
  // Two required DVNs, one present.
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {config_of(s.a), config_of(s.b)}, {config_of(s.d)}, 1}).ok());
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.d, s.packet, {0})}), r),
            verdict::no_quorum);
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {1}),
                                     signed_entry(s.d, s.packet, {0})}),
                         r),
            verdict::valid);
}

TEST(LayerZeroDvn, OptionalThresholdNotMetIsNoQuorum) {
  const scenario s;
  for (const std::vector<entry>& optional :
       std::vector<std::vector<entry>>{{}, {signed_entry(s.b, s.packet, {0})}, {signed_entry(s.c, s.packet, {0, 1})}}) {
    std::vector<entry> entries = optional;
    entries.push_back(signed_entry(s.a, s.packet, {0, 1}));
    const bytes envelope = s.envelope(entries);
    EXPECT_EQ(verify_bytes(envelope, s.registry), verdict::no_quorum) << optional.size();
    EXPECT_EQ(structure_of(envelope, s.registry), verdict::no_quorum);
  }
  // Optional-only path: the threshold alone decides.
  dvn_registry r;
  ASSERT_TRUE(r.add({our_src, {}, {config_of(s.b), config_of(s.d)}, 1}).ok());
  EXPECT_EQ(verify_bytes(s.envelope({}), r), verdict::no_quorum);
  EXPECT_EQ(verify_bytes(s.envelope({signed_entry(s.d, s.packet, {0})}), r), verdict::valid);
}

// Strict, as for Wormhole: every entry present is verified, even one the commit rule does not need.
TEST(LayerZeroDvn, FailingDvnPastTheThresholdRefusesThePacket) {
  const scenario s;
  const std::vector<entry> enough = {signed_entry(s.a, s.packet, {0, 1}), signed_entry(s.b, s.packet, {0}),
                                     signed_entry(s.d, s.packet, {0})};
  ASSERT_EQ(verify_bytes(s.envelope(enough), s.registry), verdict::valid);
  std::vector<entry> with_bad = enough;
  entry c = signed_entry(s.c, s.packet, {0, 1});
  c.signatures[5] ^= std::byte{1};  // r of the first signature
  with_bad.push_back(c);
  EXPECT_EQ(verify_bytes(s.envelope(with_bad), s.registry), verdict::bad_signature);
  std::vector<entry> with_duplicate = enough;
  with_duplicate.push_back(signed_entry(s.c, s.packet, {1, 1}));
  EXPECT_EQ(verify_bytes(s.envelope(with_duplicate), s.registry), verdict::no_quorum);
  // Signatures over other confirmations than the attestation claims.
  std::vector<entry> other_confirmations = enough;
  other_confirmations.push_back(signed_entry(s.c, s.packet, {0, 1}, our_confirmations + 1));
  EXPECT_EQ(verify_bytes(s.envelope(other_confirmations), s.registry), verdict::bad_signature);
}

TEST(LayerZeroDvn, EncodeAttestationRoundTrips) {
  const scenario s;
  const std::vector<entry> entries = ascending({signed_entry(s.a, s.packet, {0, 2}), signed_entry(s.b, s.packet, {1}),
                                                signed_entry(s.c, s.packet, {0, 1})});
  std::vector<std::vector<std::array<std::byte, 65>>> signatures(entries.size());
  std::vector<dvn_signatures> dvns;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (std::size_t at = 0; at < entries[i].signatures.size(); at += 65) {
      std::array<std::byte, 65> one;
      std::copy_n(entries[i].signatures.begin() + static_cast<std::ptrdiff_t>(at), 65, one.begin());
      signatures[i].push_back(one);
    }
  }
  for (std::size_t i = 0; i < entries.size(); ++i) dvns.push_back({entries[i].dvn, signatures[i]});
  const bytes expected = attestation_bytes(entries);
  bytes out(expected.size() + 10, std::byte{0xee});
  ASSERT_EQ(encode_attestation(our_confirmations, dvns, out), expected.size());
  EXPECT_TRUE(same(std::span<const std::byte>(out).first(expected.size()), expected));
  EXPECT_EQ(out[expected.size()], std::byte{0xee});

  attestation_view view;
  ASSERT_EQ(parse_attestation(std::span<const std::byte>(out).first(expected.size()), view), parse_status::ok);
  EXPECT_EQ(view.confirmations, our_confirmations);
  ASSERT_EQ(view.dvn_count, 3);
  for (std::uint8_t i = 0; i < 3; ++i) {
    EXPECT_EQ(view.dvn(i).dvn, entries[i].dvn);
    EXPECT_TRUE(same(view.dvn(i).signatures, entries[i].signatures));
  }
  EXPECT_EQ(verify_bytes(make_envelope(s.packet, expected), s.registry), verdict::valid);

  // Too small: nothing written.
  bytes small(expected.size() - 1, std::byte{0xee});
  EXPECT_EQ(encode_attestation(our_confirmations, dvns, small), 0u);
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0xee}; }));
  // No DVNs: the fixed part only.
  std::array<std::byte, 9> fixed{};
  ASSERT_EQ(encode_attestation(7, {}, fixed), 9u);
  EXPECT_EQ(fixed[7], std::byte{7});
  EXPECT_EQ(fixed[8], std::byte{0});
  // More than a count byte holds.
  const std::vector<std::array<std::byte, 65>> many(256);
  const dvn_signatures too_many{s.a.address, many};
  bytes big(9 + 21 + 256 * 65);
  EXPECT_EQ(encode_attestation(our_confirmations, std::span<const dvn_signatures>(&too_many, 1), big), 0u);
}

TEST(LayerZeroDvn, RegistryValidatesPaths) {
  const scenario s;
  const dvn_config a = config_of(s.a);
  const dvn_config b = config_of(s.b);
  const dvn_config d = config_of(s.d);
  dvn_registry r;
  ASSERT_TRUE(r.add({1, {a}, {}, 0}).ok());
  ASSERT_TRUE(r.add({2, {}, {b, d}, 2}).ok());
  ASSERT_TRUE(r.add({3, {a, b}, {d}, 0}).ok());
  EXPECT_EQ(r.paths().size(), 3u);
  ASSERT_NE(r.find(2), nullptr);
  EXPECT_EQ(r.find(2)->optional_threshold, 2);
  EXPECT_EQ(r.find(4), nullptr);

  const auto refused = [&](path_config path, std::string_view says) {
    const platform::result<void> added = r.add(std::move(path));
    ASSERT_FALSE(added.ok()) << says;
    EXPECT_NE(added.err().message().find(says), std::string::npos) << added.err().message();
  };
  refused({1, {d}, {}, 0}, "layerzero src_eid 1: already configured");
  refused({9, {a, a}, {}, 0}, "layerzero src_eid 9: required DVN 1 repeats required DVN 0");
  refused({9, {a}, {b, a}, 1}, "src_eid 9: optional DVN 1 repeats required DVN 0");
  refused({9, {}, {b, d, b}, 1}, "src_eid 9: optional DVN 2 repeats optional DVN 0");
  dvn_config no_signers = a;
  no_signers.signers.clear();
  refused({9, {no_signers}, {}, 0}, "src_eid 9: required DVN 0: needs 1 to 255 signers");
  dvn_config repeated_signer = a;
  repeated_signer.signers.push_back(a.signers[1]);
  refused({9, {b}, {repeated_signer}, 1}, "src_eid 9: optional DVN 0: signer 3 repeats signer 1");
  dvn_config quorum_zero = a;
  quorum_zero.quorum = 0;
  refused({9, {quorum_zero}, {}, 0}, "src_eid 9: required DVN 0: quorum 0 is outside 1..3");
  dvn_config quorum_high = a;
  quorum_high.quorum = 4;
  refused({9, {b}, {quorum_high}, 1}, "src_eid 9: optional DVN 0: quorum 4 is outside 1..3");
  refused({9, {}, {b, d}, 3}, "src_eid 9: optional_threshold 3 is more than the 2 optional DVNs");
  refused({9, {}, {b, d}, 0}, "src_eid 9: needs a required DVN or an optional_threshold of at least 1");
  refused({9, {}, {}, 0}, "src_eid 9: needs a required DVN");
  // One required and 255 optional ones all needed: more entries than an attestation's count byte holds.
  std::vector<dvn_config> many;
  for (int i = 0; i < 255; ++i) many.push_back({address_from("many " + std::to_string(i)), d.signers, 1});
  refused({9, {a}, many, 255}, "src_eid 9: needs 256 DVNs to attest, more than the 255");
  EXPECT_TRUE(r.add({10, {}, many, 255}).ok());
  EXPECT_EQ(r.paths().size(), 4u);
  EXPECT_EQ(r.find(9), nullptr);
  EXPECT_TRUE(r.add({9, {}, {d}, 1}).ok());
}

}  // namespace
}  // namespace ferry::verify::layerzero

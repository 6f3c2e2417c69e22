// Wormhole VAA verification against Messages.sol's rules: real mainnet VAAs with the built-in guardian sets, VAAs
// signed here with the Tilt devnet key and with generated 19-guardian sets, every way of breaking one, and guardian
// set upgrades.
#include "ferry/verify/wormhole_verifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "support/bytes.hpp"
#include "support/signatures.hpp"

namespace ferry::verify::wormhole {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;

using secret_key = std::array<std::byte, 32>;

constexpr std::uint64_t max_time = std::numeric_limits<std::uint64_t>::max();
// The gs7 governance VAA's timestamp (guardian_sets.txt); the built-in older sets expire a day after it.
constexpr std::uint64_t gs7_installed_at = 1783669263;
constexpr std::uint64_t old_mainnet_sets_expire_at = gs7_installed_at + 86400;
// Any time will do for VAAs on sets that are current; a fixed one keeps the tests repeatable.
constexpr std::uint64_t test_now = 1'700'000'000;
// Every single bit, and the whole byte.
constexpr std::array<std::uint8_t, 9> flip_masks{1, 2, 4, 8, 16, 32, 64, 128, 255};

std::uint64_t today() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
}

std::string vector_path(std::string_view name) {
  return std::string(FERRY_VECTORS_DIR) + "/wormhole/" + std::string(name);
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

template <std::size_t N>
std::array<std::byte, N> fixed(std::string_view hex) {
  const std::optional<bytes> b = from_hex(hex);
  std::array<std::byte, N> out{};
  EXPECT_TRUE(b && b->size() == N) << "not " << N << " bytes of hex: " << hex;
  if (b && b->size() == N) std::copy(b->begin(), b->end(), out.begin());
  return out;
}

// ---- vectors/wormhole/mainnet_vaas.txt ----

struct mainnet_vaa {
  std::string title;  // the first comment line of its block
  std::uint32_t guardian_set_index = 0;
  bool guardian_set_index_seen = false;
  bool expected_valid = false;
  bool expected_seen = false;
  bytes digest;  // from "# signing digest keccak256(keccak256(body)) = ..."
  bytes raw;
  int line = 0;
};

// Blocks separated by blank lines: comment lines, then the VAA as one line of hex.
std::vector<mainnet_vaa> load_mainnet_vaas(std::string& problem) {
  const std::string path = vector_path("mainnet_vaas.txt");
  std::ifstream in(path);
  if (!in) {
    problem = "cannot open " + path;
    return {};
  }
  std::vector<mainnet_vaa> vaas;
  mainnet_vaa current;
  std::string text;
  int number = 0;
  while (number < 10'000 && std::getline(in, text)) {
    ++number;
    const std::string_view line = trimmed(text);
    const std::string where = path + ":" + std::to_string(number);
    if (line.empty()) {
      current = {};
      continue;
    }
    if (line.starts_with("#")) {
      const std::string_view comment = trimmed(line.substr(1));
      if (current.title.empty()) current.title = std::string(comment);
      if (comment.starts_with("guardian_set_index=")) {
        const std::string_view value = comment.substr(comment.find('=') + 1);
        current.guardian_set_index =
            static_cast<std::uint32_t>(std::stoul(std::string(value.substr(0, value.find(' ')))));
        current.guardian_set_index_seen = true;
      }
      if (comment.starts_with("signing digest")) {
        const std::size_t eq = comment.find("= ");
        std::optional<bytes> digest =
            eq == std::string_view::npos ? std::nullopt : from_hex(trimmed(comment.substr(eq + 2)));
        if (!digest || digest->size() != 32) {
          problem = where + ": unreadable digest";
          return {};
        }
        current.digest = std::move(*digest);
      }
      if (comment.starts_with("expected:")) {
        const std::string_view verdict_text = trimmed(comment.substr(std::string_view("expected:").size()));
        current.expected_valid = verdict_text.starts_with("VALID");
        current.expected_seen = verdict_text.starts_with("VALID") || verdict_text.starts_with("INVALID");
      }
      continue;
    }
    std::optional<bytes> raw = from_hex(line);
    if (!raw) {
      problem = where + ": not hex";
      return {};
    }
    if (!current.guardian_set_index_seen || !current.expected_seen || current.digest.empty()) {
      problem = where + ": a VAA without its guardian_set_index, digest or expected line";
      return {};
    }
    current.raw = std::move(*raw);
    current.line = number;
    vaas.push_back(current);
  }
  if (vaas.empty()) problem = path + ": no VAAs";
  return vaas;
}

const std::vector<mainnet_vaa>& mainnet_vaas() {
  static std::string problem;
  static const std::vector<mainnet_vaa> vaas = load_mainnet_vaas(problem);
  if (!problem.empty()) ADD_FAILURE() << problem;
  return vaas;
}

const mainnet_vaa& the_negative_vaa() {
  for (const mainnet_vaa& v : mainnet_vaas()) {
    if (!v.expected_valid) return v;
  }
  static const mainnet_vaa none;
  ADD_FAILURE() << "no NEGATIVE VAA in mainnet_vaas.txt";
  return none;
}

// ---- vectors/wormhole/guardian_sets.txt ----

struct guardian_line {
  std::size_t position;  // the number the line starts with
  std::string address;   // as written, 0x and mixed case
  int line;
};

struct guardian_file {
  std::map<std::uint32_t, std::vector<guardian_line>> sets;
  std::string devnet_privkey;
  std::string devnet_address;
};

// "[guardian_set N]" sections of "<position> <address> <name...>" lines, then "[devnet guardian 0]" with
// "privkey <hex>" and "address <hex>" lines; '#' starts a comment anywhere.
guardian_file load_guardian_file(std::string& problem) {
  const std::string path = vector_path("guardian_sets.txt");
  std::ifstream in(path);
  if (!in) {
    problem = "cannot open " + path;
    return {};
  }
  guardian_file file;
  enum class section { none, set, devnet } in_section = section::none;
  std::uint32_t set = 0;
  std::string text;
  int number = 0;
  while (number < 10'000 && std::getline(in, text)) {
    ++number;
    std::string_view line = text;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trimmed(line);
    if (line.empty()) continue;
    if (line.starts_with("[guardian_set ")) {
      set = static_cast<std::uint32_t>(std::stoul(std::string(line.substr(14))));
      file.sets[set];
      in_section = section::set;
      continue;
    }
    if (line.starts_with("[devnet guardian")) {
      in_section = section::devnet;
      continue;
    }
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || in_section == section::none) {
      problem = path + ":" + std::to_string(number) + ": unexpected line";
      return {};
    }
    const std::string first(line.substr(0, space));
    const std::string_view rest = trimmed(line.substr(space + 1));
    const std::string second(rest.substr(0, rest.find(' ')));
    if (in_section == section::set) {
      file.sets[set].push_back({std::stoul(first), second, number});
    } else if (first == "privkey") {
      file.devnet_privkey = second;
    } else if (first == "address") {
      file.devnet_address = second;
    }
  }
  if (file.sets.empty() || file.devnet_privkey.empty() || file.devnet_address.empty()) {
    problem = path + ": no guardian sets or no devnet key";
  }
  return file;
}

const guardian_file& guardian_sets_file() {
  static std::string problem;
  static const guardian_file file = load_guardian_file(problem);
  if (!problem.empty()) ADD_FAILURE() << problem;
  return file;
}

// ---- VAAs made here ----

struct signer {
  std::uint8_t guardian_index;
  secret_key secret;
};

// Deterministic keys for generated guardian sets: keccak256 of a label and the guardian's position.
secret_key test_secret(std::string_view label, std::size_t i) {
  const std::string text = std::string(label) + " " + std::to_string(i);
  return keccak256(std::as_bytes(std::span(text.data(), text.size())));
}

std::vector<secret_key> test_secrets(std::string_view label, std::size_t count) {
  std::vector<secret_key> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(test_secret(label, i));
  return out;
}

std::vector<eth_address> addresses_of(const std::vector<secret_key>& secrets) {
  std::vector<eth_address> out;
  for (const secret_key& s : secrets) {
    const std::optional<eth_address> a = address_of_secret_key(s);
    EXPECT_TRUE(a.has_value()) << "a generated secret is not a valid key";
    out.push_back(a.value_or(eth_address{}));
  }
  return out;
}

const std::vector<secret_key>& set_a_secrets() {
  static const std::vector<secret_key> secrets = test_secrets("ferry wormhole test guardian A", 19);
  return secrets;
}
const std::vector<secret_key>& set_b_secrets() {
  static const std::vector<secret_key> secrets = test_secrets("ferry wormhole test guardian B", 19);
  return secrets;
}

secret_key devnet_secret() {
  secret_key s;
  std::ranges::copy(devnet_guardian_secret(), s.begin());
  return s;
}

// The body every made VAA carries unless a test needs another; a short payload keeps the mutation test small.
struct test_body {
  std::uint32_t timestamp = 1'700'000'123;
  std::uint32_t nonce = 7;
  std::uint16_t emitter_chain = 2;
  std::array<std::byte, 32> emitter_address =
      fixed<32>("0000000000000000000000003ee18b2214aff97000d974cf647e7c347e8fa585");
  std::uint64_t sequence = 42;
  std::uint8_t consistency_level = 1;
  bytes payload = from_hex("66657272792100ff").value();  // "ferry!", 0x00, 0xff
};

vaa_fields fields_of(const test_body& body, std::uint32_t set_index, std::span<const signature_fields> sigs) {
  vaa_fields f;
  f.guardian_set_index = set_index;
  f.signatures = sigs;
  f.timestamp = body.timestamp;
  f.nonce = body.nonce;
  f.emitter_chain = body.emitter_chain;
  f.emitter_address = body.emitter_address;
  f.sequence = body.sequence;
  f.consistency_level = body.consistency_level;
  f.payload = body.payload;
  return f;
}

bytes encode(const test_body& body, std::uint32_t set_index, std::span<const signature_fields> sigs) {
  const vaa_fields f = fields_of(body, set_index, sigs);
  bytes out(encoded_size(f));
  EXPECT_EQ(encode_vaa(f, out), out.size());
  return out;
}

// The digest guardians sign for `body`, computed apart from signing_digest() from the encoded body bytes.
hash256 digest_of(const test_body& body) {
  const bytes unsigned_vaa = encode(body, 0, {});
  const hash256 once = keccak256(std::span<const std::byte>(unsigned_vaa).subspan(header_size));
  return keccak256(once);
}

signature_fields sign(const hash256& digest, const signer& s) {
  const std::optional<std::array<std::byte, 65>> rsv = sign_recoverable(digest, s.secret);
  EXPECT_TRUE(rsv.has_value());
  return {s.guardian_index, rsv.value_or(std::array<std::byte, 65>{})};
}

std::vector<signature_fields> sign_all(const test_body& body, std::span<const signer> signers) {
  const hash256 digest = digest_of(body);
  std::vector<signature_fields> out;
  for (const signer& s : signers) out.push_back(sign(digest, s));
  return out;
}

// Signers at the given guardian positions of a generated set.
std::vector<signer> signers_of(const std::vector<secret_key>& secrets, std::initializer_list<std::size_t> positions) {
  std::vector<signer> out;
  for (const std::size_t p : positions) out.push_back({static_cast<std::uint8_t>(p), secrets.at(p)});
  return out;
}

std::vector<signer> first_signers(const std::vector<secret_key>& secrets, std::size_t count) {
  std::vector<signer> out;
  for (std::size_t p = 0; p < count; ++p) out.push_back({static_cast<std::uint8_t>(p), secrets.at(p)});
  return out;
}

// Set 0 is the devnet guardian, set 1 generated set A, set 2 generated set B (current); 0 and 1 expire at the
// given times.
guardian_registry test_registry(std::uint64_t set0_expires = max_time, std::uint64_t set1_expires = max_time) {
  guardian_registry r;
  EXPECT_TRUE(r.add({0, {address_of_secret_key(devnet_guardian_secret()).value_or(eth_address{})}, set0_expires}).ok());
  EXPECT_TRUE(r.add({1, addresses_of(set_a_secrets()), set1_expires}).ok());
  EXPECT_TRUE(r.add({2, addresses_of(set_b_secrets()), 0}).ok());
  EXPECT_TRUE(r.set_current(2).ok());
  return r;
}

// verify_vaa on raw bytes (malformed when they do not parse), checking on the way that check_vaa_structure agrees
// with it on everything but whether the signatures recover to their guardians.
verdict verify_bytes(std::span<const std::byte> raw, const guardian_registry& sets, std::uint64_t now = test_now,
                     expiry rule = expiry::enforce) {
  vaa_view vaa;
  if (parse_vaa(raw, vaa) != parse_status::ok) return verdict::malformed;
  const verdict full = verify_vaa(vaa, sets, now, rule);
  const verdict cheap = check_vaa_structure(vaa, sets, now, rule);
  const bool agree = full == cheap || (full == verdict::bad_signature && cheap == verdict::valid);
  EXPECT_TRUE(agree) << "verify_vaa says " << to_string(full) << " but check_vaa_structure " << to_string(cheap);
  return full;
}

verdict structure_of(std::span<const std::byte> raw, const guardian_registry& sets, std::uint64_t now = test_now,
                     expiry rule = expiry::enforce) {
  vaa_view vaa;
  if (parse_vaa(raw, vaa) != parse_status::ok) return verdict::malformed;
  return check_vaa_structure(vaa, sets, now, rule);
}

// Where the parts of signature i lie in an encoded VAA.
constexpr std::size_t signature_at(std::size_t i) { return header_size + i * signature_size; }
constexpr std::size_t r_at(std::size_t i) { return signature_at(i) + 1; }
constexpr std::size_t s_at(std::size_t i) { return signature_at(i) + 33; }
constexpr std::size_t v_at(std::size_t i) { return signature_at(i) + 65; }

// =====================================================================================================
// Built-in guardian sets

TEST(WormholeGuardianSets, MainnetSetsEqualTheVectorFileLineByLine) {
  const guardian_file& file = guardian_sets_file();
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  ASSERT_EQ(file.sets.size(), 8u);
  ASSERT_EQ(mainnet.sets().size(), file.sets.size());
  for (const auto& [index, lines] : file.sets) {
    SCOPED_TRACE("guardian set " + std::to_string(index));
    const guardian_set* set = mainnet.find(index);
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->index, index);
    ASSERT_EQ(set->keys.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].position, i) << "guardian_sets.txt:" << lines[i].line;
      EXPECT_EQ(set->keys[i], fixed<20>(lines[i].address)) << "guardian_sets.txt:" << lines[i].line;
    }
  }
  EXPECT_EQ(mainnet.find(0)->keys.size(), 1u);
  for (std::uint32_t index = 1; index <= 7; ++index) EXPECT_EQ(mainnet.find(index)->keys.size(), 19u);
  EXPECT_EQ(mainnet.find(8), nullptr);
}

TEST(WormholeGuardianSets, MainnetSevenIsCurrentAndTheOthersExpireADayAfterItsUpgrade) {
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  ASSERT_EQ(mainnet.current_index(), std::optional<std::uint32_t>(7));
  for (const guardian_set& set : mainnet.sets()) {
    EXPECT_EQ(set.expiration_time, set.index == 7 ? std::uint64_t{0} : old_mainnet_sets_expire_at)
        << "set " << set.index;
  }
}

TEST(WormholeGuardianSets, DevnetIsTheTiltGuardianAsSetZero) {
  const guardian_file& file = guardian_sets_file();
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  ASSERT_EQ(devnet.sets().size(), 1u);
  ASSERT_EQ(devnet.current_index(), std::optional<std::uint32_t>(0));
  const guardian_set* set = devnet.find(0);
  ASSERT_NE(set, nullptr);
  const eth_address expected = fixed<20>(file.devnet_address);
  EXPECT_EQ(expected, fixed<20>("0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe"));
  EXPECT_EQ(set->keys, std::vector<eth_address>{expected});
  EXPECT_EQ(set->expiration_time, 0u);

  EXPECT_TRUE(same(devnet_guardian_secret(), fixed<32>(file.devnet_privkey)));
  EXPECT_EQ(address_of_secret_key(devnet_guardian_secret()), std::optional<eth_address>(expected));
}

TEST(WormholeGuardianSets, NetworkNamesRoundTrip) {
  for (const network n : {network::mainnet, network::devnet}) {
    EXPECT_EQ(network_from_string(to_string(n)), std::optional<network>(n));
  }
  EXPECT_EQ(to_string(network::mainnet), "mainnet");
  EXPECT_EQ(to_string(network::devnet), "devnet");
  for (const std::string_view wrong : {"", "Mainnet", "testnet", "devnet ", "main"}) {
    EXPECT_FALSE(network_from_string(wrong).has_value()) << "'" << wrong << "'";
  }
}

TEST(WormholeGuardianSets, QuorumIsTwoThirdsPlusOne) {
  EXPECT_EQ(quorum(1), 1u);
  EXPECT_EQ(quorum(2), 2u);
  EXPECT_EQ(quorum(3), 3u);
  EXPECT_EQ(quorum(4), 3u);
  EXPECT_EQ(quorum(18), 13u);
  EXPECT_EQ(quorum(19), 13u);
  EXPECT_EQ(quorum(20), 14u);
  EXPECT_EQ(quorum(255), 171u);
}

// =====================================================================================================
// Registry

TEST(WormholeRegistry, AddRefusesDuplicateEmptyAndOversizedSets) {
  guardian_registry r;
  EXPECT_TRUE(r.add({3, {eth_address{}}, 0}).ok());
  const platform::result<void> duplicate = r.add({3, {eth_address{}, eth_address{}}, 0});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.err().message().find("guardian set 3"), std::string::npos) << duplicate.err().message();

  const platform::result<void> empty = r.add({4, {}, 0});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.err().message().find("guardian set 4"), std::string::npos) << empty.err().message();

  const platform::result<void> oversized = r.add({5, std::vector<eth_address>(256), 0});
  ASSERT_FALSE(oversized.ok());
  EXPECT_NE(oversized.err().message().find("guardian set 5"), std::string::npos) << oversized.err().message();
  EXPECT_NE(oversized.err().message().find("256"), std::string::npos) << oversized.err().message();

  EXPECT_EQ(r.sets().size(), 1u);
  EXPECT_TRUE(r.add({5, std::vector<eth_address>(255), 0}).ok());
  EXPECT_EQ(r.sets().size(), 2u);
  EXPECT_EQ(r.find(4), nullptr);
  ASSERT_NE(r.find(5), nullptr);
  EXPECT_EQ(r.find(5)->keys.size(), 255u);
}

TEST(WormholeRegistry, SetCurrentNeedsAKnownSet) {
  guardian_registry r;
  EXPECT_FALSE(r.current_index().has_value());
  const platform::result<void> unknown = r.set_current(0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.err().message().find("guardian set 0"), std::string::npos) << unknown.err().message();
  ASSERT_TRUE(r.add({0, {eth_address{}}, 0}).ok());
  ASSERT_TRUE(r.add({1, {eth_address{}}, 0}).ok());
  EXPECT_TRUE(r.set_current(1).ok());
  EXPECT_FALSE(r.set_current(2).ok());
  EXPECT_EQ(r.current_index(), std::optional<std::uint32_t>(1));
}

TEST(WormholeRegistry, UpgradeMakesTheNextSetCurrentAndExpiresTheOldADayLater) {
  guardian_registry r = built_in_guardian_sets(network::devnet);
  const std::vector<eth_address> keys = addresses_of(set_a_secrets());
  ASSERT_TRUE(r.upgrade(1, keys, test_now).ok());
  EXPECT_EQ(r.current_index(), std::optional<std::uint32_t>(1));
  ASSERT_NE(r.find(0), nullptr);
  ASSERT_NE(r.find(1), nullptr);
  EXPECT_EQ(r.find(0)->expiration_time, test_now + 86400);
  EXPECT_EQ(r.find(1)->expiration_time, 0u);
  EXPECT_EQ(r.find(1)->keys, keys);

  // Near the end of time the expiry saturates instead of wrapping into the past.
  ASSERT_TRUE(r.upgrade(2, keys, max_time - 5).ok());
  EXPECT_EQ(r.find(1)->expiration_time, max_time);
  EXPECT_EQ(r.find(0)->expiration_time, test_now + 86400);  // untouched: it was not current
}

TEST(WormholeRegistry, UpgradeRefusesAnythingButTheNextIndexWithValidKeys) {
  guardian_registry r = built_in_guardian_sets(network::devnet);
  const std::vector<eth_address> keys = addresses_of(set_a_secrets());
  for (const std::uint32_t wrong : {0u, 2u, 3u, 0xffffffffu}) {
    const platform::result<void> refused = r.upgrade(wrong, keys, test_now);
    ASSERT_FALSE(refused.ok()) << "to " << wrong;
    EXPECT_NE(refused.err().message().find("guardian set " + std::to_string(wrong)), std::string::npos)
        << refused.err().message();
  }
  EXPECT_FALSE(r.upgrade(1, {}, test_now).ok());
  EXPECT_FALSE(r.upgrade(1, std::vector<eth_address>(256), test_now).ok());
  // Refusals changed nothing.
  EXPECT_EQ(r.sets().size(), 1u);
  EXPECT_EQ(r.current_index(), std::optional<std::uint32_t>(0));
  EXPECT_EQ(r.find(0)->expiration_time, 0u);

  // Without a current set there is nothing to upgrade from.
  guardian_registry none;
  ASSERT_TRUE(none.add({0, keys, 0}).ok());
  EXPECT_FALSE(none.upgrade(1, keys, test_now).ok());

  // The last index has no successor: the next is not 0.
  guardian_registry last;
  ASSERT_TRUE(last.add({0xffffffff, keys, 0}).ok());
  ASSERT_TRUE(last.set_current(0xffffffff).ok());
  EXPECT_FALSE(last.upgrade(0, keys, test_now).ok());

  // A set already present under the next index (added out of band) is not overwritten.
  guardian_registry taken = built_in_guardian_sets(network::devnet);
  ASSERT_TRUE(taken.add({1, keys, 0}).ok());
  EXPECT_FALSE(taken.upgrade(1, addresses_of(set_b_secrets()), test_now).ok());
  EXPECT_EQ(taken.current_index(), std::optional<std::uint32_t>(0));
}

// =====================================================================================================
// Mainnet VAAs

TEST(WormholeVerifier, EveryMainnetVaaGetsItsExpectedVerdict) {
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  const std::uint64_t now = today();
  ASSERT_GT(now, old_mainnet_sets_expire_at) << "the clock is before the old mainnet sets expired";
  std::size_t valid = 0;
  std::size_t invalid = 0;
  for (const mainnet_vaa& v : mainnet_vaas()) {
    SCOPED_TRACE("mainnet_vaas.txt:" + std::to_string(v.line) + ": " + v.title);
    vaa_view vaa;
    ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);
    ASSERT_EQ(vaa.guardian_set_index(), v.guardian_set_index);
    EXPECT_TRUE(same(signing_digest(vaa), v.digest));
    // Every vector names a replaced set (1 to 4): refused today with expiry enforced, whatever its signatures.
    ASSERT_LT(v.guardian_set_index, 7u);
    EXPECT_EQ(verify_bytes(v.raw, mainnet, now, expiry::enforce), verdict::expired_key_set);
    if (v.expected_valid) {
      ++valid;
      EXPECT_EQ(verify_bytes(v.raw, mainnet, now, expiry::ignore), verdict::valid);
      EXPECT_EQ(verify_bytes(v.raw, mainnet, max_time, expiry::ignore), verdict::valid);
      // Until its set's expiry it passes with expiry enforced too; a second later it does not.
      EXPECT_EQ(verify_bytes(v.raw, mainnet, old_mainnet_sets_expire_at, expiry::enforce), verdict::valid);
      EXPECT_EQ(verify_bytes(v.raw, mainnet, old_mainnet_sets_expire_at + 1, expiry::enforce),
                verdict::expired_key_set);
    } else {
      ++invalid;
      // The NEGATIVE VAA names set 1 with 14 signatures of the set 2 transfer, one of them altered. Quorum, order
      // and bounds all pass; the signatures do not.
      EXPECT_EQ(check_vaa_structure(vaa, mainnet, now, expiry::ignore), verdict::valid);
      EXPECT_EQ(verify_bytes(v.raw, mainnet, now, expiry::ignore), verdict::bad_signature);
    }
  }
  EXPECT_EQ(valid, 3u);
  EXPECT_EQ(invalid, 1u);
}

// The NEGATIVE VAA is the first mainnet vector with an extra signature at position 1 and its set index changed to
// 1 (repairVaa.test.ts). Put back on set 2 it still fails: its 13 good signatures reach quorum, but one bad one
// rejects the VAA. Take the bad signature out and it is the real VAA again, byte for byte.
TEST(WormholeVerifier, NegativeMainnetVaaFailsOnItsAlteredSignatureAlone) {
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  const mainnet_vaa& negative = the_negative_vaa();
  ASSERT_GE(negative.raw.size(), signature_at(2));
  vaa_view vaa;
  ASSERT_EQ(parse_vaa(negative.raw, vaa), parse_status::ok);
  ASSERT_EQ(vaa.signature_count(), 14);
  const signature_view altered = vaa.signature(1);
  EXPECT_EQ(altered.guardian_index, 1);
  // "r not on curve": no public key recovers from it at all.
  EXPECT_FALSE(recover_address(signing_digest(vaa), altered.rsv.first<64>(),
                               std::to_integer<std::uint8_t>(altered.rsv[64]), s_rule::any)
                   .has_value());

  bytes on_set_2 = negative.raw;
  on_set_2[4] = std::byte{2};
  EXPECT_EQ(verify_bytes(on_set_2, mainnet, max_time, expiry::ignore), verdict::bad_signature);

  bytes repaired(on_set_2.begin(), on_set_2.begin() + static_cast<std::ptrdiff_t>(signature_at(1)));
  repaired.insert(repaired.end(), on_set_2.begin() + static_cast<std::ptrdiff_t>(signature_at(2)), on_set_2.end());
  repaired[5] = std::byte{13};
  EXPECT_TRUE(same(repaired, mainnet_vaas().at(0).raw));
  EXPECT_EQ(verify_bytes(repaired, mainnet, max_time, expiry::ignore), verdict::valid);
}

// Signatures do not cover the set index, so a VAA renamed to another set is judged by that set's keys: rejected
// wherever a signer's position holds another guardian there.
TEST(WormholeVerifier, MainnetVaaNamingAnotherSetIsRejected) {
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  const auto renamed = [](const bytes& raw, std::uint32_t index) {
    bytes out = raw;
    platform::store_be32(out.data() + 1, index);
    return out;
  };
  const bytes& on_set_2 = mainnet_vaas().at(0).raw;  // signed by positions 0, 2, 3, 4, 6, 7, ...
  EXPECT_EQ(verify_bytes(renamed(on_set_2, 1), mainnet, max_time, expiry::ignore), verdict::bad_signature);  // 7
  EXPECT_EQ(verify_bytes(renamed(on_set_2, 3), mainnet, max_time, expiry::ignore), verdict::bad_signature);  // 7
  EXPECT_EQ(verify_bytes(renamed(on_set_2, 7), mainnet, today(), expiry::enforce), verdict::bad_signature);  // 0
  EXPECT_EQ(verify_bytes(renamed(on_set_2, 8), mainnet, max_time, expiry::ignore), verdict::unknown_key_set);
  // Set 0 has one guardian, so every position past 0 is outside it.
  EXPECT_EQ(verify_bytes(renamed(on_set_2, 0), mainnet, max_time, expiry::ignore), verdict::bad_signature);
  EXPECT_EQ(structure_of(renamed(on_set_2, 0), mainnet, max_time, expiry::ignore), verdict::bad_signature);
}

// =====================================================================================================
// VAAs signed here

TEST(WormholeVerifier, DevnetSignedVaaIsValid) {
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  const test_body body;
  const signer devnet_guardian{0, devnet_secret()};
  const std::vector<signature_fields> sigs = sign_all(body, std::span(&devnet_guardian, 1));
  const bytes raw = encode(body, 0, sigs);
  vaa_view vaa;
  ASSERT_EQ(parse_vaa(raw, vaa), parse_status::ok);
  EXPECT_TRUE(same(signing_digest(vaa), digest_of(body)));
  EXPECT_EQ(verify_bytes(raw, devnet, test_now), verdict::valid);
  EXPECT_EQ(verify_bytes(raw, devnet, max_time), verdict::valid);  // the current set never expires
  EXPECT_EQ(verify_bytes(raw, devnet, 0), verdict::valid);
  EXPECT_EQ(verify_bytes(raw, built_in_guardian_sets(network::mainnet), test_now, expiry::ignore),
            verdict::bad_signature);  // mainnet set 0 is another single guardian

  // No signature at all is short of the quorum of 1.
  EXPECT_EQ(verify_bytes(encode(body, 0, {}), devnet), verdict::no_quorum);
  // An empty registry knows no set.
  EXPECT_EQ(verify_bytes(raw, guardian_registry{}), verdict::unknown_key_set);
}

TEST(WormholeVerifier, NineteenGuardianVaaIsValidFromQuorumToAll) {
  const guardian_registry sets = test_registry();
  const test_body body;
  for (const std::size_t count : {std::size_t{13}, std::size_t{14}, std::size_t{19}}) {
    SCOPED_TRACE(std::to_string(count) + " signers");
    EXPECT_EQ(verify_bytes(encode(body, 2, sign_all(body, first_signers(set_b_secrets(), count))), sets),
              verdict::valid);
  }
  // Any 13 will do, not only the first ones.
  const std::vector<signer> sparse = signers_of(set_b_secrets(), {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18});
  EXPECT_EQ(verify_bytes(encode(body, 2, sign_all(body, sparse)), sets), verdict::valid);
  const std::vector<signer> last = signers_of(set_b_secrets(), {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18});
  EXPECT_EQ(verify_bytes(encode(body, 2, sign_all(body, last)), sets), verdict::valid);
  // Another body: the digest is what is signed.
  test_body other;
  other.payload.assign(1000, std::byte{0x5a});
  other.sequence = 0xffffffffffffffff;
  EXPECT_EQ(verify_bytes(encode(other, 2, sign_all(other, first_signers(set_b_secrets(), 13))), sets), verdict::valid);
}

TEST(WormholeVerifier, ShortOfQuorumIsRejectedBeforeAnySignatureCounts) {
  const guardian_registry sets = test_registry();
  const test_body body;
  const bytes twelve = encode(body, 2, sign_all(body, first_signers(set_b_secrets(), 12)));
  EXPECT_EQ(verify_bytes(twelve, sets), verdict::no_quorum);
  // Checked on the count first: 12 garbage signatures are also no_quorum, not bad_signature.
  std::vector<signature_fields> garbage(12, signature_fields{0, {}});
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i].guardian_index = static_cast<std::uint8_t>(i);
  EXPECT_EQ(verify_bytes(encode(body, 2, garbage), sets), verdict::no_quorum);
}

TEST(WormholeVerifier, OneBadSignatureRejectsEvenWhenTheRestReachQuorum) {
  const guardian_registry sets = test_registry();
  const test_body body;
  // 13 good ones (0..12) and a 14th, at position 13, signed by set A's guardian 13 instead of set B's.
  std::vector<signature_fields> sigs = sign_all(body, first_signers(set_b_secrets(), 14));
  ASSERT_EQ(verify_bytes(encode(body, 2, sigs), sets), verdict::valid);
  sigs[13] = sign(digest_of(body), signer{13, set_a_secrets()[13]});
  EXPECT_EQ(verify_bytes(encode(body, 2, sigs), sets), verdict::bad_signature);
  EXPECT_EQ(structure_of(encode(body, 2, sigs), sets), verdict::valid);

  // The bad one first, or in the middle, or a signature over another digest.
  for (const std::size_t bad : {std::size_t{0}, std::size_t{6}, std::size_t{13}}) {
    std::vector<signature_fields> wrong = sign_all(body, first_signers(set_b_secrets(), 14));
    test_body other = body;
    other.sequence += 1;
    wrong[bad] = sign(digest_of(other), signer{static_cast<std::uint8_t>(bad), set_b_secrets()[bad]});
    EXPECT_EQ(verify_bytes(encode(body, 2, wrong), sets), verdict::bad_signature) << "bad at " << bad;
  }
}

TEST(WormholeVerifier, SignaturesValidForAnotherSetAreRejected) {
  const guardian_registry sets = test_registry();
  const test_body body;
  const std::vector<signature_fields> by_a = sign_all(body, first_signers(set_a_secrets(), 13));
  EXPECT_EQ(verify_bytes(encode(body, 1, by_a), sets), verdict::valid);
  EXPECT_EQ(verify_bytes(encode(body, 2, by_a), sets), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(encode(body, 0, by_a), sets), verdict::bad_signature);  // position 1.. outside set 0
  EXPECT_EQ(verify_bytes(encode(body, 3, by_a), sets), verdict::unknown_key_set);
  EXPECT_EQ(verify_bytes(encode(body, 0xffffffff, by_a), sets), verdict::unknown_key_set);
}

TEST(WormholeVerifier, OldSetExpiresAndTheCurrentOneNever) {
  constexpr std::uint64_t expires = 1'800'000'000;
  const guardian_registry sets = test_registry(expires, expires);
  const test_body body;
  const bytes on_old = encode(body, 1, sign_all(body, first_signers(set_a_secrets(), 13)));
  EXPECT_EQ(verify_bytes(on_old, sets, expires - 1), verdict::valid);
  EXPECT_EQ(verify_bytes(on_old, sets, expires), verdict::valid);  // refused only after the time, as on EVM
  EXPECT_EQ(verify_bytes(on_old, sets, expires + 1), verdict::expired_key_set);
  EXPECT_EQ(verify_bytes(on_old, sets, max_time), verdict::expired_key_set);
  // ignore skips the expiry and nothing else.
  EXPECT_EQ(verify_bytes(on_old, sets, max_time, expiry::ignore), verdict::valid);
  const bytes short_on_old = encode(body, 1, sign_all(body, first_signers(set_a_secrets(), 12)));
  EXPECT_EQ(verify_bytes(short_on_old, sets, max_time, expiry::ignore), verdict::no_quorum);
  // Expiry comes before the quorum in Messages.sol's order.
  EXPECT_EQ(verify_bytes(short_on_old, sets, max_time), verdict::expired_key_set);

  const bytes on_current = encode(body, 2, sign_all(body, first_signers(set_b_secrets(), 13)));
  EXPECT_EQ(verify_bytes(on_current, sets, max_time), verdict::valid);

  // The current set does not expire even when it carries an expiration time (made current again by hand).
  guardian_registry back = test_registry(expires, expires);
  ASSERT_TRUE(back.set_current(1).ok());
  EXPECT_EQ(verify_bytes(on_old, back, max_time), verdict::valid);
  // Set 2, no longer current, with no expiration time: Messages.sol's `expirationTime < block.timestamp` refuses
  // it at once.
  EXPECT_EQ(verify_bytes(on_current, back, max_time), verdict::expired_key_set);
}

TEST(WormholeVerifier, RepeatedSignerIsNoQuorum) {
  const guardian_registry sets = test_registry();
  const test_body body;
  // 13 signatures, 12 distinct: the 13th repeats guardian 11.
  std::vector<signature_fields> sigs = sign_all(body, first_signers(set_b_secrets(), 12));
  sigs.push_back(sigs.back());
  EXPECT_EQ(verify_bytes(encode(body, 2, sigs), sets), verdict::no_quorum);
  // Even when the distinct ones alone reach quorum, the repeat rejects the VAA (Messages.sol's ascending rule).
  std::vector<signature_fields> more = sign_all(body, first_signers(set_b_secrets(), 13));
  more.insert(more.begin() + 5, more[5]);
  EXPECT_EQ(verify_bytes(encode(body, 2, more), sets), verdict::no_quorum);
  // A single-guardian set signed twice by its guardian.
  const signer devnet_guardian{0, devnet_secret()};
  std::vector<signature_fields> twice = sign_all(body, std::span(&devnet_guardian, 1));
  twice.push_back(twice.front());
  EXPECT_EQ(verify_bytes(encode(body, 0, twice), sets), verdict::no_quorum);
}

TEST(WormholeVerifier, IndicesOutOfOrderAreNoQuorum) {
  const guardian_registry sets = test_registry();
  const test_body body;
  for (const std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{11}}) {
    std::vector<signature_fields> sigs = sign_all(body, first_signers(set_b_secrets(), 13));
    std::swap(sigs[at], sigs[at + 1]);
    EXPECT_EQ(verify_bytes(encode(body, 2, sigs), sets), verdict::no_quorum) << "swapped " << at;
  }
  std::vector<signature_fields> reversed = sign_all(body, first_signers(set_b_secrets(), 19));
  std::ranges::reverse(reversed);
  EXPECT_EQ(verify_bytes(encode(body, 2, reversed), sets), verdict::no_quorum);
}

TEST(WormholeVerifier, GuardianIndexOutsideTheSetIsBadSignature) {
  const guardian_registry sets = test_registry();
  const test_body body;
  for (const std::uint8_t outside : {std::uint8_t{19}, std::uint8_t{20}, std::uint8_t{255}}) {
    // 12 good signers and a 13th whose position is past the set's end, signed by a key of its own.
    std::vector<signature_fields> sigs = sign_all(body, first_signers(set_b_secrets(), 12));
    sigs.push_back(sign(digest_of(body), signer{outside, test_secret("ferry wormhole outsider", outside)}));
    const bytes raw = encode(body, 2, sigs);
    EXPECT_EQ(verify_bytes(raw, sets), verdict::bad_signature) << int{outside};
    // Found without a recovery.
    EXPECT_EQ(structure_of(raw, sets), verdict::bad_signature) << int{outside};
  }
}

// EVM's ecrecover accepts s above n/2, and Messages.sol does not check it: the other signature of the same message
// by the same key, (r, n - s) with the recovery id flipped, verifies too. (Replay of the same message under another
// signature is caught by the message id, not by the signature.)
TEST(WormholeVerifier, HighSTwinOfAValidSignatureIsAccepted) {
  const guardian_registry sets = test_registry();
  const test_body body;
  const hash256 digest = digest_of(body);
  std::vector<signature_fields> sigs = sign_all(body, first_signers(set_b_secrets(), 13));
  for (const std::size_t at : {std::size_t{0}, std::size_t{12}}) {
    const std::array<std::byte, 65> twin = ferry::testing::high_s_twin(sigs[at].rsv);
    ASSERT_NE(twin, sigs[at].rsv);
    // It is high-s indeed: the OpenZeppelin rule would refuse it.
    EXPECT_FALSE(
        recover_address(digest, std::span(twin).first<64>(), std::to_integer<std::uint8_t>(twin[64]), s_rule::low_only)
            .has_value());
    sigs[at].rsv = twin;
  }
  EXPECT_EQ(verify_bytes(encode(body, 2, sigs), sets), verdict::valid);

  const signer devnet_guardian{0, devnet_secret()};
  std::vector<signature_fields> one = sign_all(body, std::span(&devnet_guardian, 1));
  one[0].rsv = ferry::testing::high_s_twin(one[0].rsv);
  EXPECT_EQ(verify_bytes(encode(body, 0, one), built_in_guardian_sets(network::devnet)), verdict::valid);
}

TEST(WormholeVerifier, RecoveryIdOtherThanZeroOrOneIsRejected) {
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  const test_body body;
  const signer devnet_guardian{0, devnet_secret()};
  const bytes good = encode(body, 0, sign_all(body, std::span(&devnet_guardian, 1)));
  ASSERT_EQ(verify_bytes(good, devnet), verdict::valid);
  const std::uint8_t v = std::to_integer<std::uint8_t>(good[v_at(0)]);
  ASSERT_LE(v, 1);
  // 27 and 28 are the EVM's own convention; on the wire Messages.sol adds 27 itself, so they become 54 and 55.
  for (const std::uint8_t wrong : {std::uint8_t{2}, std::uint8_t{3}, std::uint8_t{27}, std::uint8_t{28},
                                   static_cast<std::uint8_t>(v + 27), std::uint8_t{255}}) {
    bytes raw = good;
    raw[v_at(0)] = std::byte{wrong};
    EXPECT_EQ(verify_bytes(raw, devnet), verdict::bad_signature) << "v = " << int{wrong};
    EXPECT_EQ(structure_of(raw, devnet), verdict::valid) << "v = " << int{wrong};
  }
}

TEST(WormholeVerifier, ZeroOrOutOfRangeROrSIsRejected) {
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  const test_body body;
  const signer devnet_guardian{0, devnet_secret()};
  const bytes good = encode(body, 0, sign_all(body, std::span(&devnet_guardian, 1)));
  ASSERT_EQ(verify_bytes(good, devnet), verdict::valid);
  const auto with = [&](std::size_t at, std::array<std::uint8_t, 32> value) {
    bytes raw = good;
    for (std::size_t i = 0; i < 32; ++i) raw[at + i] = std::byte{value[i]};
    return raw;
  };
  const std::array<std::uint8_t, 32> zero{};
  const std::array<std::uint8_t, 32> order = ferry::testing::secp256k1_order;
  std::array<std::uint8_t, 32> ones;
  ones.fill(0xff);
  EXPECT_EQ(verify_bytes(with(r_at(0), zero), devnet), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(with(s_at(0), zero), devnet), verdict::bad_signature);
  bytes both = with(r_at(0), zero);
  std::fill(both.begin() + static_cast<std::ptrdiff_t>(s_at(0)),
            both.begin() + static_cast<std::ptrdiff_t>(s_at(0) + 32), std::byte{0});
  EXPECT_EQ(verify_bytes(both, devnet), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(with(r_at(0), order), devnet), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(with(s_at(0), order), devnet), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(with(r_at(0), ones), devnet), verdict::bad_signature);
  EXPECT_EQ(verify_bytes(with(s_at(0), ones), devnet), verdict::bad_signature);
}

// Every single-bit flip and every whole-byte inversion of a devnet VAA (one signature, 8-byte payload). None is
// harmless: the version byte stops the parse; the set index names a set the registry lacks; the signature count
// either drops to 0 (no quorum) or claims signatures the bytes cannot hold (truncated); the guardian index leaves
// the one-guardian set; r, s and v then recover to another key or none; and any body byte changes the digest.
TEST(WormholeVerifier, EveryByteFlipOfASignedVaaIsRejected) {
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  const test_body body;
  const signer devnet_guardian{0, devnet_secret()};
  const bytes good = encode(body, 0, sign_all(body, std::span(&devnet_guardian, 1)));
  ASSERT_EQ(good.size(), min_vaa_size + signature_size + body.payload.size());
  ASSERT_EQ(verify_bytes(good, devnet), verdict::valid);

  std::size_t variants = 0;
  std::size_t accepted = 0;
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (const std::uint8_t mask : flip_masks) {
      bytes raw = good;
      raw[at] ^= std::byte{mask};
      ++variants;
      vaa_view vaa;
      const parse_status parsed = parse_vaa(raw, vaa);
      const verdict full = verify_bytes(raw, devnet);
      const verdict cheap = structure_of(raw, devnet);
      if (full == verdict::valid) ++accepted;
      const std::string where = "byte " + std::to_string(at) + " ^ " + std::to_string(int{mask});
      if (at == 0) {
        EXPECT_EQ(parsed, parse_status::unsupported_version) << where;
      } else if (at < 5) {
        EXPECT_EQ(full, verdict::unknown_key_set) << where;
      } else if (at == 5) {
        EXPECT_TRUE(parsed == parse_status::truncated || full == verdict::no_quorum) << where;
      } else if (at == signature_at(0)) {
        EXPECT_EQ(full, verdict::bad_signature) << where;
        EXPECT_EQ(cheap, verdict::bad_signature) << where;
      } else {
        // r, s, v and the body: only the recovery tells.
        EXPECT_EQ(full, verdict::bad_signature) << where;
        EXPECT_EQ(cheap, verdict::valid) << where;
      }
    }
  }
  EXPECT_EQ(variants, good.size() * 9);
  EXPECT_EQ(accepted, 0u);
}

// The guardian index bytes of a 13-of-19 VAA, flipped: out of order, repeated, outside the set, or another
// guardian's position, whose key did not sign. None passes.
TEST(WormholeVerifier, EveryGuardianIndexFlipOfAQuorumVaaIsRejected) {
  const guardian_registry sets = test_registry();
  const test_body body;
  const std::vector<signer> signers = signers_of(set_b_secrets(), {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18});
  const bytes good = encode(body, 2, sign_all(body, signers));
  ASSERT_EQ(verify_bytes(good, sets), verdict::valid);
  for (std::size_t i = 0; i < signers.size(); ++i) {
    for (const std::uint8_t mask : flip_masks) {
      bytes raw = good;
      raw[signature_at(i)] ^= std::byte{mask};
      const verdict v = verify_bytes(raw, sets);
      EXPECT_TRUE(v == verdict::no_quorum || v == verdict::bad_signature)
          << "signature " << i << " index ^ " << int{mask} << ": " << to_string(v);
    }
  }
}

TEST(WormholeVerifier, StructureCheckAgreesWithVerifyButForSignatures) {
  const guardian_registry sets = test_registry(test_now - 1, max_time);
  const test_body body;
  const hash256 digest = digest_of(body);
  const std::vector<signature_fields> good_b = sign_all(body, first_signers(set_b_secrets(), 13));

  struct case_ {
    std::string name;
    bytes raw;
    verdict full;
    verdict cheap;
  };
  std::vector<case_> cases;
  cases.push_back({"valid", encode(body, 2, good_b), verdict::valid, verdict::valid});
  cases.push_back({"unknown set", encode(body, 9, good_b), verdict::unknown_key_set, verdict::unknown_key_set});
  cases.push_back({"expired set", encode(body, 0, good_b), verdict::expired_key_set, verdict::expired_key_set});
  cases.push_back({"short", encode(body, 2, std::span(good_b).first(12)), verdict::no_quorum, verdict::no_quorum});
  std::vector<signature_fields> repeated = good_b;
  repeated[12] = repeated[11];
  cases.push_back({"repeated", encode(body, 2, repeated), verdict::no_quorum, verdict::no_quorum});
  std::vector<signature_fields> outside = good_b;
  outside[12].guardian_index = 19;
  cases.push_back({"outside", encode(body, 2, outside), verdict::bad_signature, verdict::bad_signature});
  std::vector<signature_fields> wrong_key = good_b;
  wrong_key[3] = sign(digest, signer{3, set_a_secrets()[3]});
  cases.push_back({"wrong key", encode(body, 2, wrong_key), verdict::bad_signature, verdict::valid});
  std::vector<signature_fields> garbage = good_b;
  garbage[7].rsv.fill(std::byte{0x11});
  cases.push_back({"garbage", encode(body, 2, garbage), verdict::bad_signature, verdict::valid});
  cases.push_back({"other set's keys", encode(body, 1, good_b), verdict::bad_signature, verdict::valid});

  for (const case_& c : cases) {
    EXPECT_EQ(verify_bytes(c.raw, sets), c.full) << c.name;
    EXPECT_EQ(structure_of(c.raw, sets), c.cheap) << c.name;
  }
  // And on the real VAAs, whose sets have expired by now.
  const guardian_registry mainnet = built_in_guardian_sets(network::mainnet);
  for (const mainnet_vaa& v : mainnet_vaas()) {
    EXPECT_EQ(structure_of(v.raw, mainnet, today(), expiry::enforce), verdict::expired_key_set) << v.title;
    EXPECT_EQ(structure_of(v.raw, mainnet, today(), expiry::ignore), verdict::valid) << v.title;
  }
}

// =====================================================================================================
// Guardian set upgrades

std::array<std::byte, 32> governance_emitter() {
  std::array<std::byte, 32> a{};
  a[31] = std::byte{4};
  return a;
}

// A governance VAA: from chain 1, emitter 0x00..04, carrying `payload`, signed by the devnet guardian on set 0.
bytes governance_vaa(std::span<const std::byte> payload, std::uint16_t chain = 1,
                     const std::array<std::byte, 32>& emitter = governance_emitter()) {
  test_body body;
  body.emitter_chain = chain;
  body.emitter_address = emitter;
  body.consistency_level = 32;
  body.payload.assign(payload.begin(), payload.end());
  const signer devnet_guardian{0, devnet_secret()};
  return encode(body, 0, sign_all(body, std::span(&devnet_guardian, 1)));
}

void put_text(bytes& b, std::size_t at, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) b.at(at + i) = static_cast<std::byte>(text[i]);
}

std::optional<guardian_set_upgrade> parsed_upgrade(const bytes& raw) {
  vaa_view vaa;
  EXPECT_EQ(parse_vaa(raw, vaa), parse_status::ok);
  return parse_guardian_set_upgrade(vaa);
}

TEST(WormholeGovernance, GuardianSetUpgradeRoundTripsThroughASignedVaa) {
  const guardian_registry devnet = built_in_guardian_sets(network::devnet);
  for (const std::uint16_t chain : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{0xffff}}) {
    guardian_set_upgrade upgrade;
    upgrade.chain = chain;
    upgrade.new_index = 1;
    upgrade.keys = addresses_of(set_a_secrets());
    const bytes payload = encode_guardian_set_upgrade(upgrade);
    ASSERT_EQ(payload.size(), 32 + 1 + 2 + 4 + 1 + 19 * 20u);
    // The layout, byte by byte: "Core" right-aligned, action 2, chain, index, count, keys.
    EXPECT_TRUE(std::all_of(payload.begin(), payload.begin() + 28, [](std::byte b) { return b == std::byte{0}; }));
    EXPECT_EQ(payload[28], std::byte{'C'});
    EXPECT_EQ(payload[29], std::byte{'o'});
    EXPECT_EQ(payload[30], std::byte{'r'});
    EXPECT_EQ(payload[31], std::byte{'e'});
    EXPECT_EQ(payload[32], std::byte{2});
    EXPECT_EQ(payload[33], static_cast<std::byte>(chain >> 8));
    EXPECT_EQ(payload[34], static_cast<std::byte>(chain & 0xff));
    EXPECT_TRUE(same(std::span(payload).subspan(35, 5), fixed<5>("0000000113")));
    EXPECT_TRUE(same(std::span(payload).subspan(40, 20), upgrade.keys[0]));

    const bytes raw = governance_vaa(payload);
    EXPECT_EQ(verify_bytes(raw, devnet), verdict::valid);
    const std::optional<guardian_set_upgrade> back = parsed_upgrade(raw);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->chain, chain);
    EXPECT_EQ(back->new_index, 1u);
    EXPECT_EQ(back->keys, upgrade.keys);
  }
  // The extremes of the count.
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{255}}) {
    guardian_set_upgrade upgrade;
    upgrade.new_index = 0xfedcba98;
    for (std::size_t k = 0; k < n; ++k) upgrade.keys.push_back(fixed<20>(std::string(40, "0123456789abcdef"[k % 16])));
    const std::optional<guardian_set_upgrade> back =
        parsed_upgrade(governance_vaa(encode_guardian_set_upgrade(upgrade)));
    ASSERT_TRUE(back.has_value()) << n << " keys";
    EXPECT_EQ(back->new_index, 0xfedcba98u);
    EXPECT_EQ(back->keys, upgrade.keys);
  }
  guardian_set_upgrade too_many;
  too_many.keys.resize(256);
  EXPECT_TRUE(encode_guardian_set_upgrade(too_many).empty());
}

TEST(WormholeGovernance, WrongModuleActionEmitterOrLengthIsNotAnUpgrade) {
  guardian_set_upgrade upgrade;
  upgrade.new_index = 1;
  upgrade.keys = addresses_of(set_a_secrets());
  const bytes good = encode_guardian_set_upgrade(upgrade);
  ASSERT_TRUE(parsed_upgrade(governance_vaa(good)).has_value());

  std::vector<std::pair<std::string, bytes>> wrong;
  bytes lower = good;
  lower[28] = std::byte{'c'};
  wrong.emplace_back("module \"core\"", lower);
  bytes left = good;
  std::fill(left.begin(), left.begin() + 32, std::byte{0});
  put_text(left, 0, "Core");
  wrong.emplace_back("module left-aligned", left);
  bytes padded = good;
  padded[0] = std::byte{1};
  wrong.emplace_back("module with a nonzero pad", padded);
  bytes token_bridge = good;
  std::fill(token_bridge.begin(), token_bridge.begin() + 32, std::byte{0});
  put_text(token_bridge, 21, "TokenBridge");
  wrong.emplace_back("module TokenBridge", token_bridge);
  for (const std::uint8_t action : std::array<std::uint8_t, 4>{0, 1, 3, 255}) {
    bytes b = good;
    b[32] = std::byte{action};
    wrong.emplace_back("action " + std::to_string(action), b);
  }
  bytes fewer = good;
  fewer[39] = std::byte{18};
  wrong.emplace_back("count 18 before 19 keys", fewer);
  bytes more = good;
  more[39] = std::byte{20};
  wrong.emplace_back("count 20 before 19 keys", more);
  bytes extra = good;
  extra.push_back(std::byte{0});
  wrong.emplace_back("a byte past the keys", extra);
  wrong.emplace_back("a byte short", bytes(good.begin(), good.end() - 1));
  wrong.emplace_back("no keys part", bytes(good.begin(), good.begin() + 39));
  wrong.emplace_back("empty", bytes{});
  for (const auto& [name, payload] : wrong) {
    EXPECT_FALSE(parsed_upgrade(governance_vaa(payload)).has_value()) << name;
  }

  EXPECT_FALSE(parsed_upgrade(governance_vaa(good, 2)).has_value()) << "emitter chain 2";
  EXPECT_FALSE(parsed_upgrade(governance_vaa(good, 0)).has_value()) << "emitter chain 0";
  std::array<std::byte, 32> emitter = governance_emitter();
  emitter[31] = std::byte{5};
  EXPECT_FALSE(parsed_upgrade(governance_vaa(good, 1, emitter)).has_value()) << "emitter 0x..05";
  emitter = governance_emitter();
  emitter[0] = std::byte{4};
  EXPECT_FALSE(parsed_upgrade(governance_vaa(good, 1, emitter)).has_value()) << "emitter 0x04..04";
  emitter = governance_emitter();
  emitter[30] = std::byte{4};
  emitter[31] = std::byte{0};
  EXPECT_FALSE(parsed_upgrade(governance_vaa(good, 1, emitter)).has_value()) << "emitter 0x..0400";

  // A real governance VAA from the same emitter, for another module (Token Bridge's RegisterChain).
  for (const mainnet_vaa& v : mainnet_vaas()) {
    vaa_view vaa;
    ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);
    EXPECT_FALSE(parse_guardian_set_upgrade(vaa).has_value()) << v.title;
  }
}

// The whole rotation as a router following governance does it: verify the upgrade VAA on the current set, parse it,
// apply it; the old set then serves for one more day.
TEST(WormholeGovernance, UpgradeRotatesTheSetsAndTheOldOneExpiresADayLater) {
  guardian_registry registry = built_in_guardian_sets(network::devnet);
  guardian_set_upgrade upgrade;
  upgrade.new_index = 1;
  upgrade.keys = addresses_of(set_a_secrets());
  const bytes upgrade_vaa = governance_vaa(encode_guardian_set_upgrade(upgrade));
  ASSERT_EQ(verify_bytes(upgrade_vaa, registry), verdict::valid);
  const std::optional<guardian_set_upgrade> parsed = parsed_upgrade(upgrade_vaa);
  ASSERT_TRUE(parsed.has_value());

  constexpr std::uint64_t upgraded_at = test_now;
  ASSERT_TRUE(registry.upgrade(parsed->new_index, parsed->keys, upgraded_at).ok());
  EXPECT_EQ(registry.current_index(), std::optional<std::uint32_t>(1));

  const test_body body;
  const signer devnet_guardian{0, devnet_secret()};
  const bytes on_old = encode(body, 0, sign_all(body, std::span(&devnet_guardian, 1)));
  EXPECT_EQ(verify_bytes(on_old, registry, upgraded_at), verdict::valid);
  EXPECT_EQ(verify_bytes(on_old, registry, upgraded_at + 86400), verdict::valid);
  EXPECT_EQ(verify_bytes(on_old, registry, upgraded_at + 86401), verdict::expired_key_set);
  EXPECT_EQ(verify_bytes(on_old, registry, upgraded_at + 86401, expiry::ignore), verdict::valid);

  const bytes on_new = encode(body, 1, sign_all(body, first_signers(set_a_secrets(), 13)));
  EXPECT_EQ(verify_bytes(on_new, registry, max_time), verdict::valid);
  // The devnet guardian alone is far from the new set's quorum.
  const bytes devnet_on_new = encode(body, 1, sign_all(body, std::span(&devnet_guardian, 1)));
  EXPECT_EQ(verify_bytes(devnet_on_new, registry), verdict::no_quorum);

  // Replaying the same upgrade, skipping an index, or an upgrade to an empty set: all refused, nothing changes.
  EXPECT_FALSE(registry.upgrade(parsed->new_index, parsed->keys, upgraded_at + 10).ok());
  EXPECT_FALSE(registry.upgrade(3, parsed->keys, upgraded_at + 10).ok());
  guardian_set_upgrade empty;
  empty.new_index = 2;
  const std::optional<guardian_set_upgrade> empty_parsed =
      parsed_upgrade(governance_vaa(encode_guardian_set_upgrade(empty)));
  ASSERT_TRUE(empty_parsed.has_value());
  EXPECT_FALSE(registry.upgrade(empty_parsed->new_index, empty_parsed->keys, upgraded_at + 10).ok());
  EXPECT_EQ(registry.current_index(), std::optional<std::uint32_t>(1));
  EXPECT_EQ(registry.sets().size(), 2u);
  EXPECT_EQ(registry.find(0)->expiration_time, upgraded_at + 86400);
}

}  // namespace
}  // namespace ferry::verify::wormhole

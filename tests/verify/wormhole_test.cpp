#include "ferry/verify/wormhole.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
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

namespace ferry::verify::wormhole {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;



// One VAA of vectors/wormhole/mainnet_vaas.txt: its bytes and the fields its comment block states.
struct mainnet_vaa {
  std::string title;                          // the first comment line of its block
  std::map<std::string, std::string> fields;  // from "# guardian_set_index=2 sigs=13 emitter_chain=2 ..."
  bool expected_valid = false;                // "# expected: VALID ..."
  bytes raw;
  int line = 0;

  std::uint64_t number(const std::string& key) const { return std::stoull(fields.at(key)); }
};

// The file is blocks separated by blank lines: comment lines ("# ..."), among them one "key=value ..." line
// beginning with guardian_set_index and one "expected:" line, then the VAA as one line of hex.
std::vector<mainnet_vaa> load_mainnet_vaas(std::string& problem) {
  const std::string path = std::string(FERRY_VECTORS_DIR) + "/wormhole/mainnet_vaas.txt";
  std::ifstream in(path);
  if (!in) {
    problem = "cannot open " + path;
    return {};
  }
  std::vector<mainnet_vaa> vaas;
  mainnet_vaa current;
  std::string line;
  int number = 0;
  constexpr int max_lines = 10'000;
  while (number < max_lines && std::getline(in, line)) {
    ++number;
    if (line.empty()) {
      current = {};
      continue;
    }
    if (line.starts_with("#")) {
      std::string_view text = std::string_view(line).substr(1);
      while (text.starts_with(" ")) text.remove_prefix(1);
      if (current.title.empty()) current.title = std::string(text);
      if (text.starts_with("guardian_set_index=")) {
        std::istringstream pairs{std::string(text)};
        std::string pair;
        while (pairs >> pair) {
          const std::size_t eq = pair.find('=');
          if (eq != std::string::npos) current.fields[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
      }
      if (text.starts_with("expected:")) {
        std::string_view verdict = text.substr(std::string_view("expected:").size());
        while (verdict.starts_with(" ")) verdict.remove_prefix(1);
        current.expected_valid = verdict.starts_with("VALID");
      }
      continue;
    }
    std::optional<bytes> raw = from_hex(line);
    if (!raw) {
      problem = path + ":" + std::to_string(number) + ": not hex";
      return {};
    }
    if (current.fields.empty()) {
      problem = path + ":" + std::to_string(number) + ": a VAA without its fields comment";
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

std::size_t body_offset(std::size_t signatures) { return header_size + signatures * signature_size; }

// The fields of a parsed VAA, as encode_vaa() takes them; `signatures` keeps the storage the span refers to.
struct owned_fields {
  std::vector<signature_fields> signatures;
  vaa_fields fields;
};

owned_fields fields_of(const vaa_view& vaa) {
  owned_fields out;
  for (std::uint8_t i = 0; i < vaa.signature_count(); ++i) {
    const signature_view sig = vaa.signature(i);
    signature_fields f{sig.guardian_index, {}};
    std::copy(sig.rsv.begin(), sig.rsv.end(), f.rsv.begin());
    out.signatures.push_back(f);
  }
  out.fields.guardian_set_index = vaa.guardian_set_index();
  out.fields.signatures = out.signatures;
  out.fields.timestamp = vaa.timestamp();
  out.fields.nonce = vaa.nonce();
  out.fields.emitter_chain = vaa.emitter_chain();
  std::copy(vaa.emitter_address().begin(), vaa.emitter_address().end(), out.fields.emitter_address.begin());
  out.fields.sequence = vaa.sequence();
  out.fields.consistency_level = vaa.consistency_level();
  out.fields.payload = vaa.payload();
  return out;
}

TEST(Wormhole, ConstantsMatchTheFormat) {
  EXPECT_EQ(header_size, 6u);
  EXPECT_EQ(signature_size, 66u);
  EXPECT_EQ(body_fixed_size, 51u);
  EXPECT_EQ(min_vaa_size, 57u);
}

TEST(Wormhole, VectorFileHasTheMainnetVaas) {
  const auto& vaas = mainnet_vaas();
  ASSERT_EQ(vaas.size(), 4u);
  std::size_t valid = 0;
  for (const mainnet_vaa& v : vaas) valid += v.expected_valid ? 1 : 0;
  EXPECT_EQ(valid, 3u);
}

TEST(Wormhole, ParsesEveryMainnetVaaWithTheStatedFields) {
  for (const mainnet_vaa& v : mainnet_vaas()) {
    SCOPED_TRACE("line " + std::to_string(v.line) + ": " + v.title);
    vaa_view vaa;
    ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);

    const auto sigs = static_cast<std::size_t>(v.number("sigs"));
    const auto payload_len = static_cast<std::size_t>(v.number("payload_len"));
    EXPECT_EQ(vaa.guardian_set_index(), v.number("guardian_set_index"));
    EXPECT_EQ(std::size_t{vaa.signature_count()}, sigs);
    EXPECT_EQ(vaa.emitter_chain(), v.number("emitter_chain"));
    const std::optional<bytes> emitter = from_hex(v.fields.at("emitter"));
    ASSERT_TRUE(emitter.has_value());
    EXPECT_TRUE(same(vaa.emitter_address(), *emitter));
    EXPECT_EQ(vaa.sequence(), v.number("sequence"));
    EXPECT_EQ(vaa.timestamp(), v.number("timestamp"));
    EXPECT_EQ(vaa.nonce(), v.number("nonce"));
    EXPECT_EQ(vaa.consistency_level(), v.number("consistency"));
    EXPECT_EQ(vaa.payload().size(), payload_len);

    // The views lie where the layout puts them, inside the input.
    ASSERT_EQ(v.raw.size(), body_offset(sigs) + body_fixed_size + payload_len);
    const std::span<const std::byte> raw(v.raw);
    EXPECT_EQ(vaa.body().data(), raw.data() + body_offset(sigs));
    EXPECT_EQ(vaa.body().size(), body_fixed_size + payload_len);
    EXPECT_EQ(vaa.payload().data(), raw.data() + raw.size() - payload_len);
    for (std::uint8_t i = 0; i < vaa.signature_count(); ++i) {
      const signature_view sig = vaa.signature(i);
      const std::size_t at = body_offset(i);
      EXPECT_EQ(sig.guardian_index, std::to_integer<std::uint8_t>(raw[at])) << "signature " << int{i};
      EXPECT_EQ(sig.rsv.data(), raw.data() + at + 1) << "signature " << int{i};
      if (v.expected_valid) {
        // A signature the guardians produced: v is 0 or 1, and signers come in ascending guardian order.
        EXPECT_LE(std::to_integer<unsigned>(sig.rsv[64]), 1u) << "signature " << int{i};
        if (i > 0) {
          EXPECT_LT(vaa.signature(static_cast<std::uint8_t>(i - 1)).guardian_index, sig.guardian_index);
        }
      }
    }
  }
}

// parse_vaa needs the header, every signature the count declares, and the fixed body; the payload may be empty.
// So a prefix of a real VAA is ok exactly when it still holds the fixed body, and truncated otherwise.
TEST(Wormhole, EveryTruncationIsRejectedUnlessTheFixedBodyRemains) {
  for (const mainnet_vaa& v : mainnet_vaas()) {
    SCOPED_TRACE(v.title);
    const std::span<const std::byte> raw(v.raw);
    vaa_view full;
    ASSERT_EQ(parse_vaa(raw, full), parse_status::ok);
    const std::size_t fixed_end = body_offset(full.signature_count()) + body_fixed_size;
    std::size_t accepted = 0;
    for (std::size_t length = 0; length < raw.size(); ++length) {
      vaa_view vaa;
      const parse_status status = parse_vaa(raw.first(length), vaa);
      if (length >= min_vaa_size && length >= fixed_end) {
        ASSERT_EQ(status, parse_status::ok) << "length " << length;
        ++accepted;
        EXPECT_EQ(vaa.payload().size(), length - fixed_end);
        EXPECT_EQ(vaa.sequence(), full.sequence());
        EXPECT_EQ(vaa.emitter_chain(), full.emitter_chain());
        EXPECT_EQ(vaa.consistency_level(), full.consistency_level());
      } else {
        ASSERT_EQ(status, parse_status::truncated) << "length " << length;
      }
    }
    EXPECT_EQ(accepted, raw.size() - fixed_end);
  }
}

TEST(Wormhole, SignatureCountBeyondTheBytesIsTruncated) {
  const mainnet_vaa& v = mainnet_vaas().at(0);
  bytes raw = v.raw;
  // 255 signatures need 6 + 255*66 + 51 bytes: far more than this VAA has.
  raw[5] = std::byte{255};
  vaa_view vaa;
  EXPECT_EQ(parse_vaa(raw, vaa), parse_status::truncated);

  // One signature more than present still fits (the body is then read from the wrong place, as the bytes say).
  raw = v.raw;
  const std::size_t sigs = std::to_integer<std::size_t>(raw[5]);
  raw[5] = static_cast<std::byte>(sigs + 1);
  ASSERT_EQ(parse_vaa(raw, vaa), parse_status::ok);
  EXPECT_EQ(vaa.body().size(), v.raw.size() - body_offset(sigs + 1));
}

TEST(Wormhole, WrongVersionIsUnsupported) {
  const mainnet_vaa& v = mainnet_vaas().at(0);
  const std::uint8_t versions[] = {0, 2, 3, 0x7f, 0xff};
  for (const std::uint8_t version : versions) {
    bytes raw = v.raw;
    raw[0] = std::byte{version};
    vaa_view vaa;
    EXPECT_EQ(parse_vaa(raw, vaa), parse_status::unsupported_version) << "version " << int{version};
    // At the minimum size the version is still what is wrong.
    EXPECT_EQ(parse_vaa(std::span<const std::byte>(raw).first(min_vaa_size), vaa), parse_status::unsupported_version)
        << "version " << int{version};
  }
}

TEST(Wormhole, FailedParseLeavesTheViewAlone) {
  const mainnet_vaa& v = mainnet_vaas().at(0);
  vaa_view vaa;
  ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);
  const std::uint64_t sequence = vaa.sequence();
  bytes wrong = v.raw;
  wrong[0] = std::byte{2};
  EXPECT_NE(parse_vaa(wrong, vaa), parse_status::ok);
  EXPECT_NE(parse_vaa(std::span<const std::byte>(v.raw).first(10), vaa), parse_status::ok);
  EXPECT_EQ(vaa.sequence(), sequence);
  EXPECT_EQ(vaa.body().data(), v.raw.data() + body_offset(vaa.signature_count()));
}

TEST(Wormhole, EncodeReproducesEveryMainnetVaa) {
  for (const mainnet_vaa& v : mainnet_vaas()) {
    SCOPED_TRACE(v.title);
    vaa_view vaa;
    ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);
    const owned_fields f = fields_of(vaa);
    ASSERT_EQ(encoded_size(f.fields), v.raw.size());
    bytes out(v.raw.size() + 7, std::byte{0xee});
    ASSERT_EQ(encode_vaa(f.fields, out), v.raw.size());
    EXPECT_TRUE(same(std::span<const std::byte>(out).first(v.raw.size()), v.raw));
    // Nothing past the encoded size was touched.
    EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(v.raw.size()), out.end(),
                            [](std::byte b) { return b == std::byte{0xee}; }));
  }
}

TEST(Wormhole, EncodeRefusesATooSmallBuffer) {
  const mainnet_vaa& v = mainnet_vaas().at(0);
  vaa_view vaa;
  ASSERT_EQ(parse_vaa(v.raw, vaa), parse_status::ok);
  const owned_fields f = fields_of(vaa);
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, min_vaa_size, v.raw.size() - 1}) {
    bytes out(size, std::byte{0xee});
    EXPECT_EQ(encode_vaa(f.fields, out), 0u) << "buffer of " << size;
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::byte b) { return b == std::byte{0xee}; }))
        << "a refused encode wrote into a buffer of " << size;
  }
  EXPECT_EQ(encode_vaa(f.fields, {}), 0u);
}

TEST(Wormhole, EncodeRefusesMoreThan255Signatures) {
  const std::vector<signature_fields> signatures(256, signature_fields{0, {}});
  vaa_fields fields;
  fields.signatures = signatures;
  EXPECT_EQ(encoded_size(fields), header_size + 256 * signature_size + body_fixed_size);
  bytes out(encoded_size(fields));
  EXPECT_EQ(encode_vaa(fields, out), 0u);
}

TEST(Wormhole, SmallestAndLargestVaasRoundTrip) {
  for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{255}}) {
    SCOPED_TRACE("signatures " + std::to_string(count));
    std::vector<signature_fields> signatures;
    for (std::size_t i = 0; i < count; ++i) {
      signature_fields sig{static_cast<std::uint8_t>(i), {}};
      for (std::size_t b = 0; b < sig.rsv.size(); ++b) sig.rsv[b] = static_cast<std::byte>(i + b);
      signatures.push_back(sig);
    }
    vaa_fields fields;
    fields.guardian_set_index = 0xa1b2c3d4;
    fields.signatures = signatures;
    fields.timestamp = 0xfedcba98;
    fields.nonce = 7;
    fields.emitter_chain = 0xbeef;
    for (std::size_t b = 0; b < 32; ++b) fields.emitter_address[b] = static_cast<std::byte>(0x40 + b);
    fields.sequence = 0x0102030405060708;
    fields.consistency_level = 200;  // payload left empty: the smallest body

    bytes out(encoded_size(fields));
    ASSERT_EQ(out.size(), body_offset(count) + body_fixed_size);
    ASSERT_EQ(encode_vaa(fields, out), out.size());
    vaa_view vaa;
    ASSERT_EQ(parse_vaa(out, vaa), parse_status::ok);
    EXPECT_EQ(vaa.guardian_set_index(), 0xa1b2c3d4u);
    ASSERT_EQ(std::size_t{vaa.signature_count()}, count);
    for (std::size_t i = 0; i < count; ++i) {
      const signature_view sig = vaa.signature(static_cast<std::uint8_t>(i));
      EXPECT_EQ(sig.guardian_index, signatures[i].guardian_index);
      EXPECT_TRUE(same(sig.rsv, signatures[i].rsv));
    }
    EXPECT_EQ(vaa.timestamp(), 0xfedcba98u);
    EXPECT_EQ(vaa.nonce(), 7u);
    EXPECT_EQ(vaa.emitter_chain(), 0xbeef);
    EXPECT_TRUE(same(vaa.emitter_address(), fields.emitter_address));
    EXPECT_EQ(vaa.sequence(), 0x0102030405060708u);
    EXPECT_EQ(vaa.consistency_level(), 200);
    EXPECT_TRUE(vaa.payload().empty());
    EXPECT_EQ(vaa.body().size(), body_fixed_size);
  }
}

}  // namespace
}  // namespace ferry::verify::wormhole

// Differential libFuzzer target: ferry's Keccak-256 against Crypto++'s Keccak_256 (the original Keccak padding, as
// Ethereum uses it), an implementation independent of ours. The low four bits of the first byte say how many
// chunk sizes follow; those bytes are the sizes, 0 to 255, that keccak256_hasher is fed in, cycled until the rest
// of the input, the message, is used up. keccak256() over the message, the hasher over its chunks, and
// eth_signed_message_hash() over the message's first 32 bytes must each equal the reference digest.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <crypto++/keccak.h>

#include "ferry/verify/keccak.hpp"

#include "support/fuzz.hpp"

namespace {

using ferry::testing::require;
using ferry::verify::hash256;

hash256 reference(std::span<const std::byte> first, std::span<const std::byte> second = {}) {
  CryptoPP::Keccak_256 h;
  h.Update(reinterpret_cast<const CryptoPP::byte*>(first.data()), first.size());
  h.Update(reinterpret_cast<const CryptoPP::byte*>(second.data()), second.size());
  hash256 out{};
  h.Final(reinterpret_cast<CryptoPP::byte*>(out.data()));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t size_count = data[0] & 0x0f;
  if (size < 1 + size_count) return 0;
  const std::span<const std::uint8_t> sizes(data + 1, size_count);
  const std::span<const std::byte> message(reinterpret_cast<const std::byte*>(data) + 1 + size_count,
                                           size - 1 - size_count);

  const hash256 expected = reference(message);
  require(ferry::verify::keccak256(message) == expected, "keccak256 differs from Crypto++");

  // Chunks of size 0 are fed too: an empty update must change nothing. When every size is 0, the whole message
  // goes in one update.
  ferry::verify::keccak256_hasher hasher;
  std::size_t at = 0;
  if (std::ranges::any_of(sizes, [](std::uint8_t s) { return s != 0; })) {
    for (std::size_t k = 0; at < message.size(); k = (k + 1) % sizes.size()) {
      const std::size_t chunk = std::min<std::size_t>(sizes[k], message.size() - at);
      hasher.update(message.subspan(at, chunk));
      at += chunk;
    }
  }
  hasher.update(message.subspan(at));
  require(hasher.finish() == expected, "keccak256_hasher over chunks differs from Crypto++");

  if (message.size() >= 32) {
    static constexpr std::array<char, 28> prefix{'\x19', 'E', 't', 'h', 'e', 'r', 'e', 'u', 'm', ' ',
                                                 'S',    'i', 'g', 'n', 'e', 'd', ' ', 'M', 'e', 's',
                                                 's',    'a', 'g', 'e', ':', '\n', '3', '2'};
    hash256 first{};
    std::copy_n(message.begin(), first.size(), first.begin());
    require(ferry::verify::eth_signed_message_hash(first) == reference(std::as_bytes(std::span(prefix)), first),
            "eth_signed_message_hash differs from Crypto++");
  }
  return 0;
}

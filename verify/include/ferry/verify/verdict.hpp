#pragma once
// What verifying a message concludes. Everything but `valid` is a reason to drop it, and the data plane counts
// each under its own name.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ferry::verify {

enum class verdict : std::uint8_t {
  valid,
  malformed,        // the message or its proof cannot be read (lengths, versions, a guid that disagrees, ...)
  bad_signature,    // a signature that recovers to no key, or to a key other than the one it must be
  no_quorum,        // too few distinct signers in the order the protocol requires
  unknown_key_set,  // no key set is configured for the index, origin, path or id the message names
  expired_key_set,  // the key set the message names has expired
  duplicate,        // valid, but a byte-identical copy of one this verifier found valid before (verifier.hpp only)
};

inline constexpr std::size_t verdict_count = 7;

std::string_view to_string(verdict v) noexcept;

}  // namespace ferry::verify

#pragma once
// libsodium picks its fastest implementations (AVX2 BLAKE2b, vectorised Ed25519 arithmetic) at sodium_init(); its
// calls are safe without it but run the portable code. Every verify/ use of libsodium calls ensure_sodium() first:
// once, from whichever thread comes first (sodium_init is itself thread-safe).

#include <sodium/core.h>

#include <cstdlib>

namespace ferry::verify {

inline void ensure_sodium() noexcept {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // only when the library cannot initialise at all: nothing could be verified
}

}  // namespace ferry::verify

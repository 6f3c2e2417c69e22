#pragma once
// Portable fallbacks, built and tested on every target: a monotonic nanosecond clock and a no-op spin hint.

#include <cstdint>

namespace ferry::platform::portable {

// clock_gettime(CLOCK_MONOTONIC) in nanoseconds. Through the vDSO: about 20 ns, no system call.
std::uint64_t monotonic_ns() noexcept;

inline void relax() noexcept {}

}  // namespace ferry::platform::portable

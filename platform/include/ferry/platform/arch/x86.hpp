#pragma once
// x86-64 primitives: the time-stamp counter and the spin-wait hint. Included through cpu.hpp and clock.hpp.

#if defined(__x86_64__)

#include <cstdint>

#include <x86intrin.h>

namespace ferry::platform::x86 {

// Reads the TSC. Not serialising: cheap (about 20 cycles), good for intervals of more than a few hundred cycles.
inline std::uint64_t read_tsc() noexcept { return __rdtsc(); }

// True when the CPU reports an invariant TSC (CPUID 0x80000007 EDX bit 8): constant rate across P- and C-states,
// so that ticks convert to nanoseconds with one calibrated factor.
bool tsc_is_invariant() noexcept;

// The PAUSE instruction: tells the core it is in a spin loop (saves power, frees the sibling hyperthread).
inline void relax() noexcept { _mm_pause(); }

}  // namespace ferry::platform::x86

#endif

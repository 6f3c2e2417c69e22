#pragma once
// Per-target CPU constants and the spin-wait hint.

#include <cstddef>

#include "ferry/platform/arch/arm.hpp"
#include "ferry/platform/arch/portable.hpp"
#include "ferry/platform/arch/x86.hpp"

namespace ferry::platform {

// The unit of false sharing on this target. A per-target constant (set by CMake from the target and FERRY_CPU:
// 64 on x86-64 and on most ARM cores, 128 on some ARM server parts), not hardware_destructive_interference_size,
// whose value the compiler may change between versions.
#if defined(FERRY_CACHE_LINE_SIZE)
inline constexpr std::size_t cache_line = FERRY_CACHE_LINE_SIZE;
#else
inline constexpr std::size_t cache_line = 64;
#endif
static_assert(cache_line >= 32 && (cache_line & (cache_line - 1)) == 0, "cache line must be a power of two");

// Hint to the core that the caller is busy-waiting. Costs a few to ~140 cycles depending on the core.
inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  x86::relax();
#elif defined(__aarch64__) || defined(__arm__)
  arm::relax();
#else
  portable::relax();
#endif
}

}  // namespace ferry::platform

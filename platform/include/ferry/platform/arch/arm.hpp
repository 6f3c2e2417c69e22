#pragma once
// 64-bit ARM primitives: the generic timer's virtual counter and the spin-wait hint. Included through cpu.hpp and
// clock.hpp. 32-bit ARM uses only the hint: its counter is not always readable from user space.

#if defined(__aarch64__) || defined(__arm__)

#include <cstdint>

namespace ferry::platform::arm {

#if defined(__aarch64__)
// Reads CNTVCT_EL0, the virtual count of the generic timer: monotonic, constant rate (CNTFRQ_EL0, often 24 MHz to
// 1 GHz), readable at EL0 on Linux.
inline std::uint64_t read_cntvct() noexcept {
  std::uint64_t ticks;
  asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
  return ticks;
}

// CNTFRQ_EL0: the counter's rate in Hz as firmware programmed it (0 when it was left unset).
std::uint64_t counter_frequency() noexcept;
#endif

// YIELD: hints that this thread is spinning.
inline void relax() noexcept { asm volatile("yield" ::: "memory"); }

}  // namespace ferry::platform::arm

#endif

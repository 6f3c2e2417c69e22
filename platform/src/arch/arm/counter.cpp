#include "ferry/platform/arch/arm.hpp"

namespace ferry::platform::arm {

#if defined(__aarch64__)
std::uint64_t counter_frequency() noexcept {
  std::uint64_t hz;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz;
}
#endif

}  // namespace ferry::platform::arm

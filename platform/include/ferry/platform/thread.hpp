#pragma once
// Thread placement for pinned stages: pin to a core, name for ps/top/perf, and the cores this process may use.

#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"

namespace ferry::platform {

// Pins the calling thread to one CPU. Fails (with the reason) when the kernel refuses: the CPU is offline, outside
// this cgroup's cpuset, or beyond CPU_SETSIZE. A thread may pin itself outside the mask it started with.
result<void> pin_current_thread(unsigned cpu);

// Names the calling thread as shown by ps -L, top -H and perf. Linux keeps at most 15 bytes: longer names are
// refused rather than cut, so that two stages never end up with the same truncated name.
result<void> name_current_thread(std::string_view name);

// The name the kernel holds for the calling thread.
result<std::string> current_thread_name();

// CPUs the calling thread may run on (its affinity mask), ascending. Never empty.
std::vector<unsigned> allowed_cpus();

// The CPU the calling thread is running on right now.
unsigned current_cpu() noexcept;

}  // namespace ferry::platform

#include "ferry/platform/thread.hpp"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ferry::platform {

result<void> pin_current_thread(unsigned cpu) {
  if (cpu >= CPU_SETSIZE) return error("cpu " + std::to_string(cpu) + " is beyond what this system supports");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (rc != 0) {
    return error("cannot pin to cpu " + std::to_string(cpu) + ": " + std::strerror(rc) +
                 " (is it online and in this cgroup's cpuset?)");
  }
  return {};
}

result<void> name_current_thread(std::string_view name) {
  constexpr std::size_t max_name = 15;  // TASK_COMM_LEN - 1
  if (name.empty() || name.size() > max_name) {
    return error("thread name '" + std::string(name) + "' must be 1 to 15 bytes");
  }
  const std::string terminated(name);
  const int rc = pthread_setname_np(pthread_self(), terminated.c_str());
  if (rc != 0) return error("cannot name thread '" + terminated + "': " + std::strerror(rc));
  return {};
}

result<std::string> current_thread_name() {
  char name[16] = {};
  const int rc = pthread_getname_np(pthread_self(), name, sizeof name);
  if (rc != 0) return error(std::string("cannot read thread name: ") + std::strerror(rc));
  return std::string(name);
}

std::vector<unsigned> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) cpus.push_back(current_cpu());
  return cpus;
}

unsigned current_cpu() noexcept {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0u : static_cast<unsigned>(cpu);
}

}  // namespace ferry::platform

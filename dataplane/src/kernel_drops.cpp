#include "ferry/dataplane/kernel_drops.hpp"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "ferry/platform/arch/portable.hpp"

namespace ferry::dp {

void kernel_drops::refresh(int fd) noexcept {
  if (!_readable) return;
  const std::uint64_t now = platform::portable::monotonic_ns();
  if (now < _next_read_ns) return;
  _next_read_ns = now + refresh_interval_ns;
  std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 ||
      length < (SK_MEMINFO_DROPS + 1) * sizeof meminfo[0]) {
    _readable = false;
    return;
  }
  advance(meminfo[SK_MEMINFO_DROPS]);
}

}  // namespace ferry::dp

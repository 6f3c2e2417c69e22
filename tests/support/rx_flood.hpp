#pragma once
// A flood that a socket-backed rx port cannot keep up with, for the tests of rx_port::lost(): a loopback sender
// overflows the port's socket while nobody reads it, then the port is drained and polled idle with no datagram
// arriving after the flood, and the kernel's own count of what the socket dropped is read beside the port's.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/kernel_drops.hpp"

namespace ferry::testing {

// The kernel's count of datagrams dropped on socket `fd` (SO_MEMINFO, as `ss -m` shows it), read here rather than
// through ferry; nothing where it cannot be read (qemu-user answers with 4 bytes).
inline std::optional<std::uint32_t> socket_drops(int fd) {
  std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 ||
      length < (SK_MEMINFO_DROPS + 1) * sizeof meminfo[0]) {
    return std::nullopt;
  }
  return meminfo[SK_MEMINFO_DROPS];
}

// A descriptor of this process's UDP socket bound to `address` (a backend's rx socket, or a dup of it: the same
// socket either way), or -1.
inline int udp_socket_bound_to(const dp::endpoint& address) {
  for (int fd = 0; fd < 4096; ++fd) {
    int type = 0;
    socklen_t type_length = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_DGRAM) continue;
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) continue;
    if (dp::endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), length) == address) return fd;
  }
  return -1;
}

struct rx_flood_result {
  std::uint32_t sent = 0;
  std::uint32_t received = 0;      // what the port delivered after the flood
  std::uint64_t lost = 0;          // port.lost() after the idle polls
  std::uint32_t kernel_drops = 0;  // the socket's count, read with getsockopt once the polls were done
};

// Floods `port` (listening on `to`, its socket `fd`, whose buffer holds a handful of 1000-byte datagrams) from a
// loopback socket until the kernel has dropped `want_drops` or a bound is reached, without reading; then drains it
// and polls it idle across twice kernel_drops::refresh_interval_ns (longer, up to 2 s, until lost() has caught up).
inline rx_flood_result flood_then_poll(dp::rx_port& port, dp::buffer_pool& pool, const dp::endpoint& to, int fd,
                                       std::uint32_t want_drops = 200) {
  using steady = std::chrono::steady_clock;
  rx_flood_result r;
  const int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sender < 0 || ::bind(sender, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) {
    ADD_FAILURE() << "sender: " << std::strerror(errno);
    return r;
  }
  const std::vector<char> datagram(1000, 'f');
  const auto start = steady::now();
  for (int tries = 1; tries <= 20000 && steady::now() - start < std::chrono::seconds(5); ++tries) {
    if (::sendto(sender, datagram.data(), datagram.size(), 0, to.address(), to.length()) ==
        static_cast<ssize_t>(datagram.size())) {
      ++r.sent;
    }
    if (tries % 50 == 0 && socket_drops(fd).value_or(0) >= want_drops) break;
  }
  ::close(sender);

  // Drained first. What the socket held was queued before the drops began, so it carries no count of them
  // (SO_RXQ_OVFL stamps a datagram only when the count was non-zero as it was queued).
  dp::packet_buffer* out[dp::rx_port::max_burst];
  const auto drain_start = steady::now();
  std::uint32_t empty = 0;
  while (empty < 3 && steady::now() - drain_start < std::chrono::seconds(2)) {
    const std::uint32_t got = port.receive(pool, out, dp::rx_port::max_burst);
    pool.release(out, got);
    r.received += got;
    if (got == 0) {
      ++empty;
      port.wait(5);
    } else {
      empty = 0;
    }
  }

  // Idle polls, nothing arriving: across the refresh interval twice over, then until lost() agrees (bounded).
  const std::uint32_t dropped = socket_drops(fd).value_or(0);
  const auto poll_start = steady::now();
  const auto interval = std::chrono::nanoseconds(2 * dp::kernel_drops::refresh_interval_ns);
  for (int polls = 0; polls < 10000; ++polls) {
    const auto spent = steady::now() - poll_start;
    if (spent >= std::chrono::seconds(2) || (spent >= interval && port.lost() >= dropped)) break;
    const std::uint32_t got = port.receive(pool, out, dp::rx_port::max_burst);
    pool.release(out, got);
    r.received += got;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  r.lost = port.lost();
  r.kernel_drops = socket_drops(fd).value_or(0);
  return r;
}

}  // namespace ferry::testing

#include "ferry/dataplane/udp_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "ferry/platform/clock.hpp"

namespace ferry::dp {

namespace {

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

void set_buffer(int fd, int forced, int plain, std::uint32_t bytes) noexcept {
  const int value = static_cast<int>(bytes);
  // The forced option passes net.core.rmem_max/wmem_max for a privileged process; otherwise take what is allowed.
  if (setsockopt(fd, SOL_SOCKET, forced, &value, sizeof value) != 0) {
    setsockopt(fd, SOL_SOCKET, plain, &value, sizeof value);
  }
}

}  // namespace

platform::result<udp_socket> udp_socket::open(const udp_socket_options& options) {
  const std::string where = "udp socket on " + options.bind.to_string();
  if (!options.bind.specified()) return platform::error(where + ": no address to bind");
  const int fd = ::socket(options.bind.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  udp_socket sock(fd);
  const int on = 1;
  if (options.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    return platform::error(system_error(where + ": SO_REUSEPORT"));
  }
  // The kernel stamps its count of dropped datagrams on each one received after a drop (see receive()).
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, options.buffer_bytes);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, options.buffer_bytes);
  if (::bind(fd, options.bind.address(), options.bind.length()) != 0) {
    return platform::error(system_error(where + ": bind"));
  }
  return sock;
}

platform::result<udp_socket> udp_socket::adopt_duplicate(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return platform::error(system_error("udp socket: dup"));
  return udp_socket(copy);
}

udp_socket::udp_socket(udp_socket&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}

udp_socket& udp_socket::operator=(udp_socket&& other) noexcept {
  if (this != &other) {
    if (_fd >= 0) ::close(_fd);
    _fd = std::exchange(other._fd, -1);
  }
  return *this;
}

udp_socket::~udp_socket() {
  if (_fd >= 0) ::close(_fd);
}

std::uint32_t udp_socket::receive(packet_buffer* const* buffers, std::uint32_t n, std::uint32_t data_size,
                                  kernel_drops* drops) noexcept {
  if (n > max_burst) n = max_burst;
  mmsghdr messages[max_burst];
  iovec iov[max_burst];
  sockaddr_storage peers[max_burst];
  alignas(cmsghdr) char control[max_burst][CMSG_SPACE(sizeof(std::uint32_t))];
  for (std::uint32_t i = 0; i < n; ++i) {
    iov[i] = {buffers[i]->data(), data_size};
    messages[i].msg_hdr = {};
    messages[i].msg_hdr.msg_name = &peers[i];
    messages[i].msg_hdr.msg_namelen = sizeof peers[i];
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_control = control[i];
    messages[i].msg_hdr.msg_controllen = sizeof control[i];
    messages[i].msg_len = 0;
  }
  const int got = ::recvmmsg(_fd, messages, n, MSG_DONTWAIT, nullptr);
  if (got <= 0) return 0;
  const std::uint64_t now = platform::cycle_ticks();
  for (int i = 0; i < got; ++i) {
    packet_buffer* b = buffers[i];
    const msghdr& h = messages[i].msg_hdr;
    b->length = messages[i].msg_len < data_size ? messages[i].msg_len : data_size;
    b->flags = (h.msg_flags & MSG_TRUNC) != 0 ? packet_flag::truncated : 0;
    b->rx_ticks = now;
    b->peer = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&peers[i]), h.msg_namelen);
    if (drops != nullptr) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          std::uint32_t dropped;
          std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
          drops->stamped(dropped);
        }
      }
    }
  }
  return static_cast<std::uint32_t>(got);
}

std::uint32_t udp_socket::send(mmsghdr* messages, std::uint32_t n) noexcept {
  std::uint32_t sent = 0;
  int full_retries = 0;
  while (sent < n) {
    const int rc = ::sendmmsg(_fd, messages + sent, n - sent, MSG_DONTWAIT);
    if (rc > 0) {
      sent += static_cast<std::uint32_t>(rc);
      continue;
    }
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && full_retries < 3) {
      // Send buffer full: wait (boundedly) for the kernel to drain it.
      ++full_retries;
      pollfd p{_fd, POLLOUT, 0};
      ::poll(&p, 1, 1);
      continue;
    }
    break;
  }
  return sent;
}

bool udp_socket::wait_readable(int timeout_ms) noexcept {
  pollfd p{_fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN) != 0;
}

endpoint udp_socket::local() const noexcept {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
}

}  // namespace ferry::dp

#pragma once
// The portable socket backend: one non-blocking UDP socket, bursts in with recvmmsg and out with sendmmsg.
// SO_REUSEPORT lets several io stages bind the same address, the kernel spreading datagrams over them by flow.

#include <sys/socket.h>

#include <cstdint>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/kernel_drops.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::dp {

struct udp_socket_options {
  endpoint bind;                            // address to listen on; port 0 lets the kernel choose
  bool reuse_port = true;                   // SO_REUSEPORT, so that io stages can share the address
  std::uint32_t buffer_bytes = 4u << 20;    // SO_RCVBUF and SO_SNDBUF (forced past rmem_max when root)
};

class udp_socket {
 public:
  static constexpr std::uint32_t max_burst = 64;

  // Opens, configures and binds; the error names the address and the system's reason.
  static platform::result<udp_socket> open(const udp_socket_options& options);

  // Another descriptor (dup) of an open socket: same socket, same address, closed independently.
  static platform::result<udp_socket> adopt_duplicate(int fd);

  udp_socket(udp_socket&& other) noexcept;
  udp_socket& operator=(udp_socket&& other) noexcept;
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;
  ~udp_socket();

  // Receives up to n (<= max_burst) waiting datagrams into buffers[0..n), each with room for data_size bytes,
  // without blocking. Fills length, flags (truncated when a datagram did not fit), peer and rx_ticks of each.
  // Returns how many arrived. `drops`, when given, takes the kernel's drop count stamped on them (SO_RXQ_OVFL);
  // it is the caller's to refresh() on an idle poll.
  std::uint32_t receive(packet_buffer* const* buffers, std::uint32_t n, std::uint32_t data_size,
                        kernel_drops* drops = nullptr) noexcept;

  // Sends messages[0..n) (each with its own destination), retrying briefly when the send buffer is full.
  // Returns how many were sent, in order; the one after them failed (errno says why) and was skipped past only by
  // a further call.
  std::uint32_t send(mmsghdr* messages, std::uint32_t n) noexcept;

  // Blocks until a datagram is waiting or timeout_ms passes; true when one is waiting.
  bool wait_readable(int timeout_ms) noexcept;

  endpoint local() const noexcept;
  int fd() const noexcept { return _fd; }

 private:
  explicit udp_socket(int fd) noexcept : _fd(fd) {}
  int _fd = -1;
};

}  // namespace ferry::dp

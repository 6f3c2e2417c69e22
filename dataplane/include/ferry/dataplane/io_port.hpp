#pragma once
// One interface over the three backends (kernel sockets with recvmmsg/sendmmsg, io_uring, DPDK): a backend opened
// for a router hands each io stage an rx_port and each route stage a tx_port. Stages call them once a burst (a
// virtual call a burst, never one a packet). Ports are made on the starting thread, then used by one stage thread
// only.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::dp {

enum class backend_kind : std::uint8_t { socket, io_uring, dpdk };

const char* to_string(backend_kind kind) noexcept;

class rx_port {
 public:
  static constexpr std::uint32_t max_burst = 64;

  virtual ~rx_port() = default;

  // Receives up to n (1 to max_burst) waiting datagrams without blocking, each into a buffer taken from `pool` (the
  // calling stage's own), with length, flags (truncated when it did not fit pool.data_size()), peer and rx_ticks
  // filled in. out[0..k) receives them; returns k. Stops early when nothing more waits or the pool runs dry. The
  // caller releases every buffer it got back to `pool`.
  virtual std::uint32_t receive(buffer_pool& pool, packet_buffer** out, std::uint32_t n) noexcept = 0;

  // Blocks until a datagram may be waiting or timeout_ms passes; may return early.
  virtual void wait(int timeout_ms) noexcept = 0;

  // Datagrams lost below ferry so far (socket buffer full, no provided buffer left, NIC missed): a running total.
  // Kernel sockets (socket, io_uring) learn of drops from the datagrams received and from a receive() that takes
  // nothing (none waiting, or the pool dry), which reads the kernel's count at most every 10 ms (kernel_drops).
  virtual std::uint64_t lost() const noexcept = 0;

  // Packets that reached the port but were not UDP datagrams for ferry's address and port (ARP, other ports, bad
  // IP or UDP headers): a running total. Always 0 on kernel sockets, which never show them.
  virtual std::uint64_t ignored() const noexcept { return 0; }
};

class tx_port {
 public:
  virtual ~tx_port() = default;

  // Sends frames[0..n), each its own datagram: destination in msg_name/msg_namelen (an endpoint's sockaddr), bytes in
  // the gather list msg_iov/msg_iovlen. Returns how many were sent, in order; when fewer than n, frames[result] was
  // refused (errno-like reasons are the backend's to count) and the caller counts it lost and calls again past it.
  // May wait briefly for room; never indefinitely. The bytes may be reused once send() returns.
  virtual std::uint32_t send(mmsghdr* frames, std::uint32_t n) noexcept = 0;
};

// DPDK's part of the configuration ([dataplane.dpdk], docs/configuration.md).
struct dpdk_options {
  std::vector<std::string> eal_args;           // after the program name, e.g. --no-huge -m 512 --no-pci ...
  std::uint16_t port = 0;                      // the DPDK port id to use
  std::array<std::uint8_t, 6> next_hop_mac{};  // Ethernet destination of every frame sent
  std::uint32_t mbufs = 8191;                  // mbufs in the port's mempool (2^k - 1 is best)
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
};

enum class backend_choice : std::uint8_t { automatic, socket, io_uring, dpdk };

struct backend_options {
  backend_choice choice = backend_choice::automatic;  // automatic: io_uring when the kernel allows it, else socket
  endpoint listen;                                    // ferry's address and UDP port (the IP a DPDK port answers to)
  std::uint32_t socket_buffer = 4u << 20;             // kernel socket buffers (socket and io_uring)
  std::uint32_t rx_ports = 1;                         // one per io stage (DPDK: rx queues, spread by RSS)
  std::uint32_t tx_ports = 1;                         // one per route stage (DPDK: tx queues)
  std::uint32_t max_datagram = 2048;                  // largest datagram received whole (the pool's data size)
  dpdk_options dpdk;
};

class io_backend {
 public:
  virtual ~io_backend() = default;
  virtual backend_kind kind() const noexcept = 0;
  // Where it listens: the bound socket's address (the kernel's choice when the port was 0), or DPDK's configured one.
  virtual endpoint local() const noexcept = 0;
  // index below options.rx_ports / tx_ports.
  virtual rx_port& rx(std::uint32_t index) noexcept = 0;
  virtual tx_port& tx(std::uint32_t index) noexcept = 0;
};

// Opens the backend asked for. When it cannot (dpdk: not in this build, EAL or port refused; io_uring: the kernel
// or a seccomp filter refuses it, or an emulator lacks it), falls back dpdk -> io_uring -> socket, adding to `notes`
// one line per refusal naming the backend, the reason and what runs instead. Fails only when the socket backend
// itself cannot open (the address is taken, say).
platform::result<std::unique_ptr<io_backend>> open_backend(const backend_options& options,
                                                           std::vector<std::string>& notes);

// Each backend alone, without fallback (tests, benchmarks): the error says why it cannot open.
platform::result<std::unique_ptr<io_backend>> open_socket_backend(const backend_options& options);
platform::result<std::unique_ptr<io_backend>> open_uring_backend(const backend_options& options);
platform::result<std::unique_ptr<io_backend>> open_dpdk_backend(const backend_options& options);

}  // namespace ferry::dp

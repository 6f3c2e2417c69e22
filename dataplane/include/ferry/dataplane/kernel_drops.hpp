#pragma once
// The kernel's running count of datagrams it dropped on one socket (sk_drops: receive buffer full, bad checksum),
// as rx_port::lost() reports it for the socket and io_uring backends.
//
// The kernel tells it two ways. SO_RXQ_OVFL stamps each received datagram with the count as it stood when that
// datagram was queued: free on the hot path, but stale (a datagram queued before a flood of drops says nothing of
// them) and absent when nothing more arrives. getsockopt(SO_MEMINFO) reads it now, at the price of a system call:
// refresh() does that on polls that took nothing only, and at most once per refresh_interval_ns. The total is the
// furthest either source has got, so it never goes backwards.

#include <cstdint>

namespace ferry::dp {

class kernel_drops {
 public:
  // refresh() reads the kernel at most this often (10 ms): the count is never staler than that, plus the time the
  // stage spends waiting between idle polls.
  static constexpr std::uint64_t refresh_interval_ns = 10'000'000;

  // A count the kernel stamped on a received datagram (SO_RXQ_OVFL). No system call.
  void stamped(std::uint32_t count) noexcept { advance(count); }

  // For a poll of the socket `fd` that took nothing (none waiting, or no buffer to take one into): reads its count
  // with getsockopt(SO_MEMINFO) when refresh_interval_ns has passed since the last read (a clock read otherwise).
  // Where the read fails or comes back short (qemu-user answers SO_MEMINFO with 4 bytes), it stops trying and the
  // total follows the stamps alone.
  void refresh(int fd) noexcept;

  // Datagrams dropped so far: the largest count either source has given.
  std::uint64_t total() const noexcept { return _total; }

  // False once a read has failed: the stamps alone count.
  bool readable() const noexcept { return _readable; }

 private:
  // Both sources read the same 32-bit counter, and the stamps lag it: a count behind the total is an old one and
  // leaves it; one ahead (by less than 2^31) moves it on, across the counter's wrap at 2^32.
  void advance(std::uint32_t count) noexcept {
    const std::uint32_t ahead = count - static_cast<std::uint32_t>(_total);
    if (ahead < (std::uint32_t{1} << 31)) _total += ahead;
  }

  std::uint64_t _total = 0;
  std::uint64_t _next_read_ns = 0;  // the first idle poll reads at once
  bool _readable = true;
};

}  // namespace ferry::dp

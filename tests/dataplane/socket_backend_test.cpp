#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/placed.hpp"
#include "support/rx_flood.hpp"

namespace ferry::dp {
namespace {

// Under qemu-user (the cross builds) SO_MEMINFO cannot be read: the port counts by the stamps alone, and so the
// kernel's count cannot be compared with.
bool emulated() { return !std::string_view(FERRY_TEST_EMULATOR).empty(); }

TEST(SocketBackend, LostCatchesUpWithTheKernelAfterAFloodWithoutANewDatagram) {
  backend_options options;
  options.listen = endpoint::parse("127.0.0.1:0").value();
  options.socket_buffer = 4096;  // holds a handful of the flood's datagrams: the kernel drops the rest
  auto opened = open_socket_backend(options);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  io_backend& backend = **opened;
  const int fd = testing::udp_socket_bound_to(backend.local());
  ASSERT_GE(fd, 0) << "no socket of this process is bound to " << backend.local().to_string();
  if (!testing::socket_drops(fd)) {
    if (emulated()) GTEST_SKIP() << "SO_MEMINFO cannot be read under this emulator";
    FAIL() << "SO_MEMINFO cannot be read on a native kernel";
  }
  auto pool = placed<buffer_pool>::create("flood pool", platform::page_size::normal, 64u, 1024u);
  ASSERT_TRUE(pool.ok()) << pool.err().message();

  const testing::rx_flood_result r = testing::flood_then_poll(backend.rx(0), **pool, backend.local(), fd);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent, " << r.received << " received";
  EXPECT_EQ(r.received + r.lost, r.sent);
}

// The io stage's pool can run dry when the stages after it fall behind (BENCHMARKS.md, issue 6): the port then
// reads nothing, so no datagram brings the kernel's count, while the kernel drops what arrives.
TEST(SocketBackend, LostStaysCurrentWhileThePoolIsDry) {
  backend_options options;
  options.listen = endpoint::parse("127.0.0.1:0").value();
  options.socket_buffer = 4096;
  auto opened = open_socket_backend(options);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  io_backend& backend = **opened;
  const int fd = testing::udp_socket_bound_to(backend.local());
  ASSERT_GE(fd, 0) << "no socket of this process is bound to " << backend.local().to_string();
  if (!testing::socket_drops(fd)) {
    if (emulated()) GTEST_SKIP() << "SO_MEMINFO cannot be read under this emulator";
    FAIL() << "SO_MEMINFO cannot be read on a native kernel";
  }
  auto pool = placed<buffer_pool>::create("dry pool", platform::page_size::normal, 8u, 1024u);
  ASSERT_TRUE(pool.ok()) << pool.err().message();
  packet_buffer* held[8];
  ASSERT_EQ((*pool)->acquire(held, 8), 8u);

  const testing::rx_flood_result r = testing::flood_then_poll(backend.rx(0), **pool, backend.local(), fd);
  (*pool)->release(held, 8);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.received, 0u);
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent";
}

}  // namespace
}  // namespace ferry::dp

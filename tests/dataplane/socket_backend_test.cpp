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

// A socket backend on loopback whose socket buffer holds a handful of the flood's datagrams (the kernel drops the
// rest), and that socket's descriptor, for reading the kernel's own count beside the port's.
class SocketBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_options options;
    options.listen = endpoint::parse("127.0.0.1:0").value();
    options.socket_buffer = 4096;
    auto opened = open_socket_backend(options);
    ASSERT_TRUE(opened.ok()) << opened.err().message();
    _backend = std::move(*opened);
    _fd = testing::udp_socket_bound_to(_backend->local());
    ASSERT_GE(_fd, 0) << "no socket of this process is bound to " << _backend->local().to_string();
    if (!testing::socket_drops(_fd)) {
      if (emulated()) GTEST_SKIP() << "SO_MEMINFO cannot be read under this emulator";
      FAIL() << "SO_MEMINFO cannot be read on a native kernel";
    }
  }

  testing::rx_flood_result flood_then_poll(buffer_pool& pool) {
    return testing::flood_then_poll(_backend->rx(0), pool, _backend->local(), _fd);
  }

  std::unique_ptr<io_backend> _backend;
  int _fd = -1;
};

TEST_F(SocketBackend, LostCatchesUpWithTheKernelAfterAFloodWithoutANewDatagram) {
  auto pool = placed<buffer_pool>::create("flood pool", platform::page_size::normal, 64u, 1024u);
  ASSERT_TRUE(pool.ok()) << pool.err().message();

  const testing::rx_flood_result r = flood_then_poll(**pool);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent, " << r.received << " received";
  EXPECT_EQ(r.received + r.lost, r.sent);
}

// The io stage's pool can run dry when the stages after it fall behind (BENCHMARKS.md, issue 6): the port then
// reads nothing, so no datagram brings the kernel's count, while the kernel drops what arrives.
TEST_F(SocketBackend, LostStaysCurrentWhileThePoolIsDry) {
  auto pool = placed<buffer_pool>::create("dry pool", platform::page_size::normal, 8u, 1024u);
  ASSERT_TRUE(pool.ok()) << pool.err().message();
  packet_buffer* held[8];
  ASSERT_EQ((*pool)->acquire(held, 8), 8u);

  const testing::rx_flood_result r = flood_then_poll(**pool);
  (*pool)->release(held, 8);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.received, 0u);
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent";
}

}  // namespace
}  // namespace ferry::dp

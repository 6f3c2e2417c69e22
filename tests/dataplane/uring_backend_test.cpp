#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/placed.hpp"
#include "support/rx_flood.hpp"

namespace ferry::dp {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The provided buffers of one rx port (uring_backend.cpp): a burst larger than this ends the multishot with ENOBUFS.
constexpr std::uint32_t provided_buffers = 256;

// The far end of each test: a plain blocking UDP socket on 127.0.0.1, port chosen by the kernel.
class plain_socket {
 public:
  plain_socket() {
    _fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (_fd < 0 || ::bind(_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ADD_FAILURE() << "plain socket: " << std::strerror(errno);
    }
    const int bytes = 4 << 20;  // room for the bursts below (root may exceed rmem_max)
    if (::setsockopt(_fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
      ::setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
  }
  plain_socket(const plain_socket&) = delete;
  plain_socket& operator=(const plain_socket&) = delete;
  ~plain_socket() {
    if (_fd >= 0) ::close(_fd);
  }

  endpoint local() const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(_fd, reinterpret_cast<sockaddr*>(&address), &length);
    return endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
  }

  void send_to(const endpoint& to, const std::vector<std::byte>& bytes) {
    const ssize_t sent = ::sendto(_fd, bytes.data(), bytes.size(), 0, to.address(), to.length());
    EXPECT_EQ(sent, static_cast<ssize_t>(bytes.size())) << std::strerror(errno);
  }

  // One datagram, or nothing after timeout_ms.
  std::optional<std::vector<std::byte>> receive(int timeout_ms, endpoint* from = nullptr) {
    pollfd p{_fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    std::vector<std::byte> bytes(65536);
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const ssize_t got =
        ::recvfrom(_fd, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&address), &length);
    if (got < 0) return std::nullopt;
    bytes.resize(static_cast<std::size_t>(got));
    if (from != nullptr) *from = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
    return bytes;
  }

 private:
  int _fd = -1;
};

// Bytes that differ with the datagram's index and size, the index in the first four where there is room.
std::vector<std::byte> pattern(std::uint32_t index, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((index * 31 + i * 7 + size) & 0xff);
  if (size >= 4) std::memcpy(bytes.data(), &index, 4);
  return bytes;
}

std::uint32_t index_of(const std::vector<std::byte>& bytes) {
  std::uint32_t index = 0xffffffffu;
  if (bytes.size() >= 4) std::memcpy(&index, bytes.data(), 4);
  return index;
}

struct datagram {
  std::vector<std::byte> bytes;
  std::uint32_t flags = 0;
  endpoint peer;
};

backend_options loopback(std::uint32_t rx_ports = 1, std::uint32_t tx_ports = 1) {
  backend_options options;
  options.listen = endpoint::parse("127.0.0.1:0").value();
  options.rx_ports = rx_ports;
  options.tx_ports = tx_ports;
  return options;
}

placed<buffer_pool> make_pool(std::uint32_t count, std::uint32_t data_size) {
  auto pool = placed<buffer_pool>::create("test pool", platform::page_size::normal, count, data_size);
  if (!pool) ADD_FAILURE() << pool.err().message();
  return std::move(pool).value();
}

// The backend's support check names io_uring first in every refusal that comes from the system (io_uring_queue_init,
// io_uring probe, io_uring_register_buf_ring, io_uring multishot recvmsg); those alone skip a test.
bool refused_by_system(const platform::result<std::unique_ptr<io_backend>>& opened) {
  return !opened.ok() && opened.err().message().rfind("io_uring", 0) == 0;
}

#define OPEN_URING_OR_SKIP(name, options)                                            \
  auto name##_opened = open_uring_backend(options);                                  \
  if (refused_by_system(name##_opened)) GTEST_SKIP() << name##_opened.err().message(); \
  ASSERT_TRUE(name##_opened.ok()) << name##_opened.err().message();                  \
  std::unique_ptr<io_backend> name = std::move(name##_opened).value()

// Receives into `got` until it holds `want` datagrams, or nothing came for `quiet`, or `limit` passed.
void drain(rx_port& port, buffer_pool& pool, std::vector<datagram>& got, std::size_t want,
           milliseconds quiet = milliseconds(300), milliseconds limit = milliseconds(3000)) {
  const auto start = steady::now();
  auto last = start;
  packet_buffer* out[rx_port::max_burst];
  while (got.size() < want && steady::now() - start < limit && steady::now() - last < quiet) {
    const std::uint32_t n = port.receive(pool, out, rx_port::max_burst);
    for (std::uint32_t i = 0; i < n; ++i) {
      datagram d;
      d.bytes.assign(out[i]->data(), out[i]->data() + out[i]->length);
      d.flags = out[i]->flags;
      d.peer = out[i]->peer;
      got.push_back(std::move(d));
    }
    pool.release(out, n);
    if (n == 0) {
      port.wait(10);
    } else {
      last = steady::now();
    }
  }
}

TEST(UringBackend, RefusesAMaxDatagramOutOfRange) {
  backend_options options = loopback();
  options.max_datagram = 0;
  auto opened = open_uring_backend(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.err().message().find("max_datagram"), std::string::npos) << opened.err().message();
}

TEST(UringBackend, OpensAsIoUringOnTheKernelsPort) {
  OPEN_URING_OR_SKIP(backend, loopback(2, 2));
  EXPECT_EQ(backend->kind(), backend_kind::io_uring);
  EXPECT_EQ(backend->local().family(), AF_INET);
  EXPECT_NE(backend->local().port(), 0);
}

TEST(UringBackend, ReceivesBytesLengthPeerAndTruncation) {
  backend_options options = loopback();
  options.max_datagram = 512;
  OPEN_URING_OR_SKIP(backend, options);
  auto pool = make_pool(64, 512);
  plain_socket sender;
  const std::size_t sizes[] = {1, 100, 511, 512, 513, 1400, 0};
  for (std::uint32_t i = 0; i < std::size(sizes); ++i) sender.send_to(backend->local(), pattern(i, sizes[i]));

  std::vector<datagram> got;
  drain(backend->rx(0), *pool, got, std::size(sizes));
  ASSERT_EQ(got.size(), std::size(sizes));
  for (std::uint32_t i = 0; i < std::size(sizes); ++i) {
    SCOPED_TRACE("datagram of " + std::to_string(sizes[i]) + " bytes");
    std::vector<std::byte> expected = pattern(i, sizes[i]);
    expected.resize(std::min<std::size_t>(sizes[i], 512));
    EXPECT_EQ(got[i].bytes, expected);
    EXPECT_EQ(got[i].flags, sizes[i] > 512 ? packet_flag::truncated : 0u);
    EXPECT_EQ(got[i].peer, sender.local()) << got[i].peer.to_string();
  }
  EXPECT_EQ(backend->rx(0).lost(), 0u);
}

TEST(UringBackend, TruncatesToAPoolSmallerThanMaxDatagram) {
  backend_options options = loopback();
  options.max_datagram = 1024;
  OPEN_URING_OR_SKIP(backend, options);
  auto pool = make_pool(8, 256);
  plain_socket sender;
  sender.send_to(backend->local(), pattern(0, 300));
  sender.send_to(backend->local(), pattern(1, 256));

  std::vector<datagram> got;
  drain(backend->rx(0), *pool, got, 2);
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::byte> cut = pattern(0, 300);
  cut.resize(256);
  EXPECT_EQ(got[0].bytes, cut);
  EXPECT_EQ(got[0].flags, packet_flag::truncated);
  EXPECT_EQ(got[1].bytes, pattern(1, 256));
  EXPECT_EQ(got[1].flags, 0u);
}

TEST(UringBackend, LeavesCompletionsWhenThePoolIsDry) {
  OPEN_URING_OR_SKIP(backend, loopback());
  auto pool = make_pool(2, 256);
  plain_socket sender;
  for (std::uint32_t i = 0; i < 5; ++i) sender.send_to(backend->local(), pattern(i, 64));

  // Two buffers in the pool: each call takes at most what it can hold, and the rest wait, in order.
  rx_port& rx = backend->rx(0);
  packet_buffer* out[rx_port::max_burst];
  std::vector<std::uint32_t> order;
  const auto start = steady::now();
  while (order.size() < 5 && steady::now() - start < milliseconds(3000)) {
    const std::uint32_t n = rx.receive(*pool, out, rx_port::max_burst);
    ASSERT_LE(n, 2u);
    if (n == 2) {
      EXPECT_EQ(rx.receive(*pool, out + 2, rx_port::max_burst - 2), 0u);  // dry: takes nothing
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      order.push_back(index_of(std::vector<std::byte>(out[i]->data(), out[i]->data() + out[i]->length)));
    }
    pool->release(out, n);
    if (n == 0) rx.wait(10);
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
}

TEST(UringBackend, BurstBeyondTheProvidedBuffersArrivesOrIsCountedLost) {
  OPEN_URING_OR_SKIP(backend, loopback());
  rx_port& rx = backend->rx(0);
  auto pool = make_pool(256, 128);
  packet_buffer* out[rx_port::max_burst];
  EXPECT_EQ(rx.receive(*pool, out, rx_port::max_burst), 0u);  // arms the multishot before the burst

  // Four times the provided buffers, sent before any is read: the multishot fills them all and ends (ENOBUFS).
  constexpr std::uint32_t burst = 4 * provided_buffers;
  plain_socket sender;
  for (std::uint32_t i = 0; i < burst; ++i) sender.send_to(backend->local(), pattern(i, 64));
  std::vector<datagram> got;
  drain(rx, *pool, got, burst);
  // A marker after the burst carries the kernel's drop count, should the socket have dropped any.
  sender.send_to(backend->local(), pattern(0xfffffffeu, 64));
  drain(rx, *pool, got, got.size() + 1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(index_of(got.back().bytes), 0xfffffffeu);
  got.pop_back();

  std::set<std::uint32_t> seen;
  for (const datagram& d : got) {
    const std::uint32_t index = index_of(d.bytes);
    ASSERT_LT(index, burst);
    EXPECT_TRUE(seen.insert(index).second) << "datagram " << index << " twice";
    EXPECT_EQ(d.bytes, pattern(index, 64));
  }
  EXPECT_GT(got.size(), provided_buffers) << "the multishot was not re-armed after ENOBUFS";
  EXPECT_EQ(got.size() + rx.lost(), burst) << got.size() << " received, " << rx.lost() << " lost";
}

TEST(UringBackend, CountsWhatTheSocketDroppedAsLost) {
  backend_options options = loopback();
  options.socket_buffer = 4096;  // holds a handful: the rest of the burst overflows the socket
  OPEN_URING_OR_SKIP(backend, options);
  rx_port& rx = backend->rx(0);
  auto pool = make_pool(64, 1024);
  constexpr std::uint32_t burst = 200;
  plain_socket sender;
  for (std::uint32_t i = 0; i < burst; ++i) sender.send_to(backend->local(), pattern(i, 1000));
  std::vector<datagram> got;
  drain(rx, *pool, got, burst, milliseconds(200));
  sender.send_to(backend->local(), pattern(0xfffffffeu, 64));  // carries the drop count
  drain(rx, *pool, got, got.size() + 1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(index_of(got.back().bytes), 0xfffffffeu);
  EXPECT_GT(rx.lost(), 0u);
  EXPECT_EQ(got.size() - 1 + rx.lost(), burst) << got.size() - 1 << " received, " << rx.lost() << " lost";
}

TEST(UringBackend, LostCatchesUpWithTheKernelAfterAFloodWithoutANewDatagram) {
  backend_options options = loopback();
  options.socket_buffer = 4096;  // holds a handful of the flood's datagrams: the kernel drops the rest
  OPEN_URING_OR_SKIP(backend, options);
  const int fd = testing::udp_socket_bound_to(backend->local());
  ASSERT_GE(fd, 0) << "no socket of this process is bound to " << backend->local().to_string();
  ASSERT_TRUE(testing::socket_drops(fd).has_value()) << "SO_MEMINFO cannot be read where io_uring runs";
  auto pool = make_pool(64, 1024);

  // Not armed before the flood: the socket's buffer alone takes it, as in the socket backend's test.
  const testing::rx_flood_result r = testing::flood_then_poll(backend->rx(0), *pool, backend->local(), fd);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent, " << r.received << " received";
  EXPECT_EQ(r.received + r.lost, r.sent);
}

TEST(UringBackend, LostStaysCurrentWhileThePoolIsDry) {
  backend_options options = loopback();
  options.socket_buffer = 4096;
  OPEN_URING_OR_SKIP(backend, options);
  const int fd = testing::udp_socket_bound_to(backend->local());
  ASSERT_GE(fd, 0) << "no socket of this process is bound to " << backend->local().to_string();
  ASSERT_TRUE(testing::socket_drops(fd).has_value()) << "SO_MEMINFO cannot be read where io_uring runs";
  auto pool = make_pool(8, 1024);
  packet_buffer* held[8];
  ASSERT_EQ(pool->acquire(held, 8), 8u);

  const testing::rx_flood_result r = testing::flood_then_poll(backend->rx(0), *pool, backend->local(), fd);
  pool->release(held, 8);
  ASSERT_GT(r.kernel_drops, 0u) << "the flood of " << r.sent << " overflowed nothing: nothing to count";
  EXPECT_EQ(r.received, 0u);
  EXPECT_EQ(r.lost, r.kernel_drops) << r.sent << " sent";
}

TEST(UringBackend, WaitWakesForADatagramAndTimesOutWithoutOne) {
  OPEN_URING_OR_SKIP(backend, loopback());
  rx_port& rx = backend->rx(0);
  auto start = steady::now();
  rx.wait(30);
  EXPECT_LT(steady::now() - start, milliseconds(1000));

  plain_socket sender;
  sender.send_to(backend->local(), pattern(7, 32));
  start = steady::now();
  rx.wait(5000);
  EXPECT_LT(steady::now() - start, milliseconds(2000));
  auto pool = make_pool(4, 256);
  std::vector<datagram> got;
  drain(rx, *pool, got, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, pattern(7, 32));
}

// A frame of parts: its bytes are the parts' concatenation.
struct gather_frame {
  std::vector<std::vector<std::byte>> parts;
  std::vector<iovec> iov;
  std::vector<std::byte> whole() const {
    std::vector<std::byte> all;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
  }
};

// `to` must outlive the headers: they point at its address.
std::vector<mmsghdr> headers_for(std::vector<gather_frame>& frames, const endpoint& to) {
  std::vector<mmsghdr> headers(frames.size());
  for (std::size_t f = 0; f < frames.size(); ++f) {
    frames[f].iov.clear();
    for (auto& p : frames[f].parts) frames[f].iov.push_back({p.data(), p.size()});
    headers[f] = {};
    headers[f].msg_hdr.msg_name = const_cast<sockaddr*>(to.address());
    headers[f].msg_hdr.msg_namelen = to.length();
    headers[f].msg_hdr.msg_iov = frames[f].iov.data();
    headers[f].msg_hdr.msg_iovlen = frames[f].iov.size();
  }
  return headers;
}
std::vector<mmsghdr> headers_for(std::vector<gather_frame>& frames, const endpoint&& to) = delete;

TEST(UringBackend, SendsGatherListsByteExactFromTheListeningAddress) {
  OPEN_URING_OR_SKIP(backend, loopback());
  plain_socket receiver;
  std::vector<gather_frame> frames(3);
  const std::size_t part_sizes[3][5] = {{16, 0, 0, 0, 0}, {16, 1, 300, 0, 0}, {16, 40, 7, 1000, 3}};
  for (std::uint32_t f = 0; f < 3; ++f) {
    for (std::uint32_t p = 0; p < 5 && part_sizes[f][p] != 0; ++p) {
      frames[f].parts.push_back(pattern(f * 10 + p, part_sizes[f][p]));
    }
  }
  const endpoint to = receiver.local();
  std::vector<mmsghdr> headers = headers_for(frames, to);
  EXPECT_EQ(backend->tx(0).send(headers.data(), 3), 3u);
  for (std::uint32_t f = 0; f < 3; ++f) {
    endpoint from;
    auto bytes = receiver.receive(2000, &from);
    ASSERT_TRUE(bytes.has_value()) << "frame " << f;
    EXPECT_EQ(*bytes, frames[f].whole()) << "frame " << f;
    EXPECT_EQ(from, backend->local()) << from.to_string();
  }
}

TEST(UringBackend, SendsMoreFramesThanOneSubmitHolds) {
  OPEN_URING_OR_SKIP(backend, loopback(1, 2));
  plain_socket receiver;
  constexpr std::uint32_t count = 150;
  std::vector<gather_frame> frames(count);
  for (std::uint32_t f = 0; f < count; ++f) frames[f].parts = {pattern(f, 20), pattern(f + 1000, 30)};
  const endpoint to = receiver.local();
  std::vector<mmsghdr> headers = headers_for(frames, to);
  EXPECT_EQ(backend->tx(1).send(headers.data(), count), count);
  std::set<std::uint32_t> seen;
  while (auto bytes = receiver.receive(500)) {
    const std::uint32_t index = index_of(*bytes);
    ASSERT_LT(index, count);
    EXPECT_EQ(*bytes, frames[index].whole());
    EXPECT_TRUE(seen.insert(index).second) << "frame " << index << " twice";
  }
  EXPECT_EQ(seen.size(), count);
}

TEST(UringBackend, StopsAtARefusedFrameAndSendsNothingPastIt) {
  OPEN_URING_OR_SKIP(backend, loopback());
  plain_socket receiver;
  std::vector<gather_frame> frames(4);
  frames[0].parts = {pattern(0, 50)};
  frames[1].parts = {pattern(1, 50)};
  frames[2].parts = {pattern(2, 40000), pattern(2, 40000)};  // larger than a UDP datagram: EMSGSIZE
  frames[3].parts = {pattern(3, 50)};
  const endpoint to = receiver.local();
  std::vector<mmsghdr> headers = headers_for(frames, to);
  tx_port& tx = backend->tx(0);
  ASSERT_EQ(tx.send(headers.data(), 4), 2u);
  // The caller counts frames[2] lost and goes on past it, as tx_batch does.
  EXPECT_EQ(tx.send(headers.data() + 3, 1), 1u);
  std::vector<std::uint32_t> arrived;
  while (auto bytes = receiver.receive(300)) arrived.push_back(index_of(*bytes));
  EXPECT_EQ(arrived, (std::vector<std::uint32_t>{0, 1, 3}));
}

TEST(UringBackend, RxPortsShareTheAddress) {
  OPEN_URING_OR_SKIP(backend, loopback(3, 2));
  auto pool = make_pool(64, 256);
  // Flows from many source ports, which SO_REUSEPORT spreads over the three sockets by hash.
  constexpr std::uint32_t senders = 16;
  constexpr std::uint32_t each = 4;
  {
    std::vector<std::unique_ptr<plain_socket>> from;
    for (std::uint32_t s = 0; s < senders; ++s) from.push_back(std::make_unique<plain_socket>());
    for (std::uint32_t s = 0; s < senders; ++s) {
      for (std::uint32_t k = 0; k < each; ++k) from[s]->send_to(backend->local(), pattern(s * each + k, 48));
    }
  }
  std::set<std::uint32_t> seen;
  std::uint32_t ports_used = 0;
  for (std::uint32_t p = 0; p < 3; ++p) {
    std::vector<datagram> got;
    drain(backend->rx(p), *pool, got, senders * each, milliseconds(200));
    if (!got.empty()) ++ports_used;
    for (const datagram& d : got) EXPECT_TRUE(seen.insert(index_of(d.bytes)).second);
  }
  // Every datagram reached one of the rx ports (none went to the tx ports' descriptors), over more than one port.
  EXPECT_EQ(seen.size(), senders * each);
  EXPECT_GT(ports_used, 1u);
}

TEST(UringBackend, OpenedOnOneThreadDrivenFromAnother) {
  OPEN_URING_OR_SKIP(backend, loopback());
  plain_socket peer;
  constexpr std::uint32_t count = 10;
  for (std::uint32_t i = 0; i < count; ++i) peer.send_to(backend->local(), pattern(i, 80));
  // The stage thread echoes what it receives back to its sender.
  std::uint32_t echoed = 0;
  std::thread stage([&] {
    auto pool = make_pool(16, 256);
    std::vector<datagram> got;
    drain(backend->rx(0), *pool, got, count);
    for (datagram& d : got) {
      iovec part{d.bytes.data(), d.bytes.size()};
      mmsghdr frame{};
      frame.msg_hdr.msg_name = const_cast<sockaddr*>(d.peer.address());
      frame.msg_hdr.msg_namelen = d.peer.length();
      frame.msg_hdr.msg_iov = &part;
      frame.msg_hdr.msg_iovlen = 1;
      echoed += backend->tx(0).send(&frame, 1);
    }
  });
  stage.join();
  EXPECT_EQ(echoed, count);
  std::set<std::uint32_t> back;
  while (auto bytes = peer.receive(300)) {
    EXPECT_EQ(*bytes, pattern(index_of(*bytes), 80));
    back.insert(index_of(*bytes));
  }
  EXPECT_EQ(back.size(), count);
}

}  // namespace
}  // namespace ferry::dp

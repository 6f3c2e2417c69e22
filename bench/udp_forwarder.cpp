// ferry-udp-forwarder: the kernel's floor for the loopback latency comparison (bench/loopback.sh). Receives bursts
// of datagrams on one address with recvmmsg and sends each, unchanged, to one destination with sendmmsg, until
// SIGINT or SIGTERM. It parses nothing: whatever ferryd adds on the same path (recvmmsg, sendmmsg, one thread) is
// ferry's own cost. It polls the way ferryd does, so that the two are compared like for like: `adaptive` spins
// while datagrams come and sleeps in poll(2) after about a thousand empty receives, `busy` never sleeps.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ferry/dataplane/endpoint.hpp"
#include "ferry/platform/thread.hpp"

namespace {

using namespace ferry;

constexpr unsigned max_burst = 64;
constexpr unsigned empty_polls_before_sleep = 1000;  // as ferryd's adaptive polling

std::atomic<bool> stopping{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler stores it");

void on_signal(int) { stopping.store(true, std::memory_order_relaxed); }

// Sets a socket buffer size, past the system's limit when allowed (root), else up to it.
void set_buffer(int fd, int force_option, int option, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}

struct totals {
  std::uint64_t received = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t failed = 0;     // the kernel refused to send them
  std::uint64_t truncated = 0;  // larger than --buffer-size: not forwarded
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-udp-forwarder: forwards every datagram received on one address, unchanged, to another"};
  std::string listen;
  std::string to;
  unsigned burst = 32;
  unsigned buffer_size = 2048;
  int socket_buffer = 4 << 20;
  std::string cpu = "none";
  std::string poll_mode = "adaptive";
  app.add_option("--listen", listen, "Address to receive on, e.g. 127.0.0.1:7700")->required();
  app.add_option("--to", to, "Where to send every datagram, e.g. 127.0.0.1:7701")->required();
  app.add_option("--burst", burst, "Datagrams per recvmmsg")->capture_default_str()->check(CLI::Range(1u, max_burst));
  app.add_option("--buffer-size", buffer_size, "Bytes per receive buffer; a larger datagram is not forwarded")
      ->capture_default_str()->check(CLI::Range(64u, 65536u));
  app.add_option("--socket-buffer", socket_buffer, "Kernel receive and send buffer, in bytes")->capture_default_str()
      ->check(CLI::Range(65536, 1 << 30));
  app.add_option("--cpu", cpu, "Pin to this CPU, or none")->capture_default_str();
  app.add_option("--poll", poll_mode, "adaptive or busy")->capture_default_str()
      ->check(CLI::IsMember({"adaptive", "busy"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const auto fail = [](const std::string& message) {
    std::fprintf(stderr, "ferry-udp-forwarder: %s\n", message.c_str());
    return 1;
  };

  auto from = dp::endpoint::parse(listen);
  auto destination = dp::endpoint::parse(to);
  if (!from) return fail("--listen " + from.err().message());
  if (!destination) return fail("--to " + destination.err().message());
  if (cpu != "none") {
    char* end = nullptr;
    const unsigned long core = std::strtoul(cpu.c_str(), &end, 10);
    if (cpu.empty() || *end != '\0') return fail("--cpu '" + cpu + "': a CPU number or none");
    if (auto pinned = platform::pin_current_thread(static_cast<unsigned>(core)); !pinned) {
      return fail("--cpu " + pinned.err().message());
    }
  }

  const int fd = ::socket(from->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, socket_buffer);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, socket_buffer);
  if (::bind(fd, from->address(), from->length()) != 0) {
    return fail(from->to_string() + ": cannot bind: " + std::strerror(errno));
  }

  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: a signal ends the poll(2) the loop sleeps in
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  std::vector<std::byte> space(std::size_t{burst} * buffer_size);
  iovec rx_iov[max_burst];
  iovec tx_iov[max_burst];
  mmsghdr rx[max_burst];
  mmsghdr tx[max_burst];
  for (unsigned i = 0; i < burst; ++i) rx_iov[i] = {space.data() + std::size_t{i} * buffer_size, buffer_size};

  totals t;
  unsigned empty = 0;
  const bool adaptive = poll_mode == "adaptive";
  std::fprintf(stderr, "ferry-udp-forwarder: %s -> %s\n", from->to_string().c_str(), destination->to_string().c_str());
  while (!stopping.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < burst; ++i) {
      rx[i].msg_hdr = {};
      rx[i].msg_hdr.msg_iov = &rx_iov[i];
      rx[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(fd, rx, burst, MSG_DONTWAIT, nullptr);
    if (got <= 0) {
      if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return fail(std::string("recvmmsg: ") + std::strerror(errno));
      }
      if (adaptive && ++empty >= empty_polls_before_sleep) {
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 100);
      }
      continue;
    }
    empty = 0;
    t.received += static_cast<unsigned>(got);
    unsigned n = 0;
    for (int i = 0; i < got; ++i) {
      if ((rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
        ++t.truncated;
        continue;
      }
      tx_iov[n] = {rx_iov[i].iov_base, rx[i].msg_len};
      tx[n].msg_hdr = {};
      tx[n].msg_hdr.msg_name = const_cast<sockaddr*>(destination->address());
      tx[n].msg_hdr.msg_namelen = destination->length();
      tx[n].msg_hdr.msg_iov = &tx_iov[n];
      tx[n].msg_hdr.msg_iovlen = 1;
      ++n;
    }
    // As ferryd's socket backend: when the send buffer is full, wait for it briefly, then count the rest as failed.
    unsigned sent = 0;
    unsigned refused = 0;
    int full_retries = 0;
    while (sent < n) {
      const int rc = ::sendmmsg(fd, tx + sent, n - sent, MSG_DONTWAIT);
      if (rc > 0) {
        sent += static_cast<unsigned>(rc);
      } else if (rc < 0 && errno == EINTR) {
        continue;
      } else if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && full_retries < 3) {
        ++full_retries;
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 1);
      } else {
        ++refused;  // and skip past it
        ++sent;
      }
    }
    t.forwarded += n - refused;
    t.failed += refused;
  }
  ::close(fd);
  std::printf("ferry-udp-forwarder: received %llu datagrams, forwarded %llu, failed %llu, truncated %llu\n",
              static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.forwarded),
              static_cast<unsigned long long>(t.failed), static_cast<unsigned long long>(t.truncated));
  return 0;
}

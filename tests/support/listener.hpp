#pragma once
// Next hops for tests that read what a router sends: a datagram socket (UDP on loopback, or Unix at a path) that
// takes frames apart into their messages' bodies, and a collector that reads one on its own thread.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/dataplane/frame.hpp"

namespace ferry::testing {

// A datagram socket (UDP on loopback, or Unix at a path) that the test reads frames from. A datagram that is not a
// frame fails the test.
class listener {
 public:
  static listener udp() {
    listener l(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(l._fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t n = sizeof a;
    ::getsockname(l._fd, reinterpret_cast<sockaddr*>(&a), &n);
    l._name = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    const int size = 8 << 20;  // past rmem_max when root may force it: a burst must not overflow the test's reader
    if (::setsockopt(l._fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
      ::setsockopt(l._fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return l;
  }
  // Bound at `path` (which must not exist yet).
  static listener unix_at(const std::string& path) {
    listener l(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(l._fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    l._name = "unix:" + path;
    return l;
  }
  listener(listener&& o) noexcept : _fd(std::exchange(o._fd, -1)), _name(std::move(o._name)) {}
  ~listener() {
    if (_fd >= 0) ::close(_fd);
  }
  // As a route's next_hop names it: "127.0.0.1:port" or "unix:/path".
  const std::string& name() const { return _name; }

  // The bodies of every message in the frames waiting now, or arriving within `quiet` of the last one.
  std::vector<std::vector<std::byte>> take(std::chrono::milliseconds quiet = std::chrono::milliseconds(200)) {
    std::vector<std::vector<std::byte>> out;
    std::vector<std::byte> buffer(65536);
    for (;;) {
      pollfd p{_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
      const ssize_t got = ::recv(_fd, buffer.data(), buffer.size(), 0);
      if (got <= 0) break;
      dp::frame_view frame;
      EXPECT_EQ(dp::parse_frame({buffer.data(), static_cast<std::size_t>(got)}, frame), dp::frame_status::ok);
      for (const dp::message_ref m : frame) out.emplace_back(m.body.begin(), m.body.end());
    }
    return out;
  }

 private:
  explicit listener(int fd) : _fd(fd) {}
  int _fd;
  std::string _name;
};

// Reads a listener on its own thread until destroyed, as a next hop or a local consumer would: a Unix datagram
// socket queues only net.unix.max_dgram_qlen (10) datagrams, and a slow build sends frames one at a time.
class collector {
 public:
  // `from` must outlive the collector (or its stop()).
  explicit collector(listener& from) : _thread([this, &from] {
    while (!_stop.load()) {
      std::vector<std::vector<std::byte>> got = from.take(std::chrono::milliseconds(1));
      std::lock_guard<std::mutex> hold(_lock);
      for (std::vector<std::byte>& m : got) _messages.push_back(std::move(m));
    }
  }) {}
  ~collector() { stop(); }
  void stop() {
    _stop.store(true);
    if (_thread.joinable()) _thread.join();
  }
  // Everything read so far (all of it once stop() has returned).
  std::vector<std::vector<std::byte>> messages() {
    std::lock_guard<std::mutex> hold(_lock);
    return _messages;
  }
  std::size_t count() {
    std::lock_guard<std::mutex> hold(_lock);
    return _messages.size();
  }

 private:
  std::mutex _lock;
  std::vector<std::vector<std::byte>> _messages;
  std::atomic<bool> _stop{false};
  std::thread _thread;
};

}  // namespace ferry::testing

#include <algorithm>
#include <utility>

#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/kernel_drops.hpp"
#include "ferry/dataplane/udp_socket.hpp"

namespace ferry::dp {

namespace {

class socket_rx final : public rx_port {
 public:
  explicit socket_rx(udp_socket socket) noexcept : _socket(std::move(socket)) {}

  std::uint32_t receive(buffer_pool& pool, packet_buffer** out, std::uint32_t n) noexcept override {
    const std::uint32_t have = pool.acquire(out, std::min(n, max_burst));
    const std::uint32_t got = have == 0 ? 0 : _socket.receive(out, have, pool.data_size(), &_lost);
    pool.release(out + got, have - got);
    // Only a poll that took nothing pays for a fresh count: a busy one has the stamps, while drops after the last
    // datagram (the end of a flood) or while the pool is dry (nothing read, so nothing stamped) would not show.
    if (got == 0) _lost.refresh(_socket.fd());
    return got;
  }
  void wait(int timeout_ms) noexcept override { _socket.wait_readable(timeout_ms); }
  std::uint64_t lost() const noexcept override { return _lost.total(); }
  int fd() const noexcept { return _socket.fd(); }
  endpoint local() const noexcept { return _socket.local(); }

 private:
  udp_socket _socket;
  kernel_drops _lost;
};

class socket_tx final : public tx_port {
 public:
  explicit socket_tx(udp_socket socket) noexcept : _socket(std::move(socket)) {}
  std::uint32_t send(mmsghdr* frames, std::uint32_t n) noexcept override { return _socket.send(frames, n); }

 private:
  udp_socket _socket;
};

class socket_backend final : public io_backend {
 public:
  backend_kind kind() const noexcept override { return backend_kind::socket; }
  endpoint local() const noexcept override { return _rx[0]->local(); }
  rx_port& rx(std::uint32_t index) noexcept override { return *_rx[index]; }
  tx_port& tx(std::uint32_t index) noexcept override { return *_tx[index]; }

  std::vector<std::unique_ptr<socket_rx>> _rx;
  std::vector<std::unique_ptr<socket_tx>> _tx;
};

}  // namespace

platform::result<std::unique_ptr<io_backend>> open_socket_backend(const backend_options& options) {
  auto backend = std::make_unique<socket_backend>();
  udp_socket_options socket_options{options.listen, true, options.socket_buffer};
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(options.rx_ports, 1); ++i) {
    auto socket = udp_socket::open(socket_options);
    if (!socket) return std::move(socket).context("socket backend");
    if (i == 0) socket_options.bind = socket->local();  // the others join the kernel's choice when the port was 0
    backend->_rx.push_back(std::make_unique<socket_rx>(std::move(*socket)));
  }
  // Route stages send from ferry's listening address, each on its own descriptor of the first socket: dup() shares
  // the socket without adding one to the SO_REUSEPORT group (which would take a share of the incoming datagrams),
  // and the kernel serialises sendmmsg on it.
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(options.tx_ports, 1); ++i) {
    auto shared = udp_socket::adopt_duplicate(backend->_rx[0]->fd());
    if (!shared) return std::move(shared).context("socket backend");
    backend->_tx.push_back(std::make_unique<socket_tx>(std::move(*shared)));
  }
  return std::unique_ptr<io_backend>(std::move(backend));
}

}  // namespace ferry::dp

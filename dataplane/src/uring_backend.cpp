// The io_uring backend: per rx port a socket in the SO_REUSEPORT group, a ring and a provided-buffer ring fed by
// one multishot recvmsg; per tx port a ring sending linked SENDMSGs on a dup of the first socket.

#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/kernel_drops.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/platform/clock.hpp"
#include "ferry/platform/region.hpp"

namespace ferry::dp {

namespace {

// Provided buffers per rx port, a power of two. When the multishot has filled them all it stops with ENOBUFS and is
// re-armed once the stage has copied them out; meanwhile datagrams wait in the socket buffer (options.socket_buffer),
// so this needs only to cover a few bursts, not the socket buffer.
constexpr std::uint32_t provided_buffers = 256;
constexpr std::uint16_t buffer_group = 0;  // each rx ring has its own group namespace; one group per ring
constexpr std::uint32_t rx_submit_entries = 4;  // the multishot, and nothing else
// Every provided buffer can be in a completion at once, plus the one that ends the multishot: twice that keeps the
// completion queue from ever overflowing (an overflowed multishot ends, and a lost completion would leak its buffer).
constexpr std::uint32_t rx_complete_entries = 2 * provided_buffers;
constexpr std::uint32_t tx_depth = rx_port::max_burst;  // SENDMSGs in flight per submit
constexpr std::uint32_t max_udp_payload = 65535;
constexpr std::uint64_t recv_tag = 1;

// The peer's address and the SO_RXQ_OVFL count sit between io_uring_recvmsg_out and the payload in each buffer.
constexpr std::uint32_t name_space = sizeof(sockaddr_storage);
constexpr std::uint32_t control_space = CMSG_SPACE(sizeof(std::uint32_t));
constexpr std::uint32_t header_space = sizeof(io_uring_recvmsg_out) + name_space + control_space;

std::string system_error(const std::string& what, int error_number) {
  return what + ": " + std::strerror(error_number);
}

class uring_ring {
 public:
  uring_ring() noexcept = default;
  uring_ring(const uring_ring&) = delete;
  uring_ring& operator=(const uring_ring&) = delete;
  ~uring_ring() {
    if (_open) io_uring_queue_exit(&_ring);
  }

  // No IORING_SETUP_SINGLE_ISSUER: the ring is made on the starting thread and then driven by a stage thread.
  // No COOP_TASKRUN either: completions then appear while the stage polls the queue in user space, without a
  // system call to run the kernel's deferred work.
  platform::result<void> open(std::uint32_t submit_entries, std::uint32_t complete_entries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = complete_entries;
    const int rc = io_uring_queue_init_params(submit_entries, &_ring, &params);
    if (rc < 0) return platform::error(system_error("io_uring_queue_init", -rc));
    _open = true;
    return {};
  }

  io_uring* get() noexcept { return &_ring; }

 private:
  io_uring _ring{};
  bool _open = false;
};

// Refuses, naming the step and the kernel's reason, where this kernel (or a seccomp filter, or an emulator) lacks
// what the backend needs: the ring itself, RECVMSG and SENDMSG, provided-buffer rings (5.19) and multishot recvmsg
// (6.0). Done on a throwaway ring and socket, so that a refusal binds nothing and the real rings arm nothing here.
platform::result<void> check_kernel(sa_family_t family) {
  // One page holds a one-entry buffer ring and, further on, the buffer it offers. Mapped before the ring is made,
  // so that it is unmapped after the ring is gone.
  auto page = platform::region::map(4096);
  if (!page) return std::move(page).context("io_uring probe");
  uring_ring ring;
  auto opened = ring.open(rx_submit_entries, 8);
  if (!opened) return std::move(opened).err();

  io_uring_probe* probe = io_uring_get_probe_ring(ring.get());
  if (probe == nullptr) return platform::error("io_uring probe: this kernel cannot list its operations (before 5.6)");
  const bool recvmsg = io_uring_opcode_supported(probe, IORING_OP_RECVMSG) != 0;
  const bool sendmsg = io_uring_opcode_supported(probe, IORING_OP_SENDMSG) != 0;
  io_uring_free_probe(probe);
  if (!recvmsg || !sendmsg) return platform::error("io_uring probe: RECVMSG or SENDMSG not supported");

  auto* buffers = static_cast<io_uring_buf_ring*>(page->data());
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(buffers);
  reg.ring_entries = 1;
  reg.bgid = buffer_group;
  const int registered = io_uring_register_buf_ring(ring.get(), &reg, 0);
  if (registered < 0) {
    return platform::error(system_error("io_uring_register_buf_ring", -registered) +
                           " (provided-buffer rings need Linux 5.19)");
  }
  io_uring_buf_ring_init(buffers);
  io_uring_buf_ring_add(buffers, static_cast<std::byte*>(page->data()) + 2048, 2048, 0, io_uring_buf_ring_mask(1), 0);
  io_uring_buf_ring_advance(buffers, 1);

  // An unbound socket receives nothing: a kernel that accepts the multishot arms it and posts no completion; one
  // that does not know the flag fails it at once, during the submit.
  const int fd = ::socket(family == AF_INET6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error("io_uring probe: socket", errno));
  msghdr shape{};
  shape.msg_namelen = name_space;
  shape.msg_controllen = control_space;
  io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
  io_uring_prep_recvmsg_multishot(sqe, fd, &shape, 0);
  io_uring_sqe_set_flags(sqe, IOSQE_BUFFER_SELECT);
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, recv_tag);
  const int submitted = io_uring_submit(ring.get());
  io_uring_cqe* cqe = nullptr;
  const int failed = submitted < 0 ? submitted : (io_uring_peek_cqe(ring.get(), &cqe) == 0 ? cqe->res : 0);
  ::close(fd);
  if (failed < 0) return platform::error(system_error("io_uring multishot recvmsg", -failed) + " (needs Linux 6.0)");
  return {};
}

class uring_rx final : public rx_port {
 public:
  explicit uring_rx(udp_socket socket) noexcept : _socket(std::move(socket)) {}

  uring_rx(const uring_rx&) = delete;
  uring_rx& operator=(const uring_rx&) = delete;

  ~uring_rx() override {
    // Once the group is gone the kernel can select no buffer, so nothing writes into the memory unmapped below
    // (members are destroyed ring first, then the buffers).
    if (_registered) io_uring_unregister_buf_ring(_ring.get(), buffer_group);
  }

  platform::result<void> open(std::uint32_t max_datagram) {
    auto opened = _ring.open(rx_submit_entries, rx_complete_entries);
    if (!opened) return opened;
    _buffer_size = header_space + max_datagram;
    _stride = (_buffer_size + 63u) & ~63u;
    auto memory = platform::region::map(std::size_t{provided_buffers} * _stride);
    if (!memory) return std::move(memory).context("provided buffers");
    _buffer_memory = std::move(*memory);
    auto ring_memory = platform::region::map(provided_buffers * sizeof(io_uring_buf));
    if (!ring_memory) return std::move(ring_memory).context("provided-buffer ring");
    _ring_memory = std::move(*ring_memory);
    _buffers = static_cast<io_uring_buf_ring*>(_ring_memory.data());

    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(_buffers);
    reg.ring_entries = provided_buffers;
    reg.bgid = buffer_group;
    const int rc = io_uring_register_buf_ring(_ring.get(), &reg, 0);
    if (rc < 0) return platform::error(system_error("io_uring_register_buf_ring", -rc));
    _registered = true;
    io_uring_buf_ring_init(_buffers);
    for (std::uint32_t id = 0; id < provided_buffers; ++id) offer(id, id);
    io_uring_buf_ring_advance(_buffers, static_cast<int>(provided_buffers));

    _shape.msg_namelen = name_space;
    _shape.msg_controllen = control_space;
    // Armed by the first receive() or wait(): the multishot's receives then run in the stage thread's context
    // rather than in the starting thread's, which may be busy elsewhere or gone.
    return {};
  }

  // Copies each datagram out of its provided buffer into one of the pool's, so that the provided buffer returns to
  // the kernel at once and the pool keeps its one owner: a few nanoseconds for a few hundred bytes. Handing the
  // provided buffers up instead (zero copy) is a later optimisation.
  std::uint32_t receive(buffer_pool& pool, packet_buffer** out, std::uint32_t n) noexcept override {
    if (!_armed) arm();
    const std::uint32_t have = pool.acquire(out, std::min(n, max_burst));
    if (have == 0) {  // the pool is dry: the completions wait for the next call, and the kernel may be dropping
      _kernel_drops.refresh(_socket.fd());
      return 0;
    }
    io_uring* ring = _ring.get();
    std::uint32_t got = 0;
    std::uint32_t recycled = 0;
    std::uint64_t now = 0;
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(ring, &cqe) == 0) {
      const bool buffered = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
      if (buffered && cqe->res > 0 && got == have) break;
      if (buffered) {
        const std::uint32_t id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        if (id < provided_buffers) {
          if (cqe->res > 0) {
            if (got == 0) now = platform::cycle_ticks();
            if (deliver(id, cqe->res, pool.data_size(), out[got])) out[got++]->rx_ticks = now;
          }
          offer(id, recycled++);
        }
      }
      // The kernel ends a multishot on ENOBUFS (every provided buffer full), on an error, or when it must; the
      // datagram that met ENOBUFS is still in the socket (io_recvmsg selects a buffer before it reads), so nothing
      // is lost by it and it is not counted: what the socket drops while the multishot waits shows in lost().
      if ((cqe->flags & IORING_CQE_F_MORE) == 0) _armed = false;
      io_uring_cqe_seen(ring, cqe);
    }
    if (recycled != 0) io_uring_buf_ring_advance(_buffers, static_cast<int>(recycled));
    pool.release(out + got, have - got);
    // As in the socket backend: only a poll that took nothing reads the count afresh, now and then.
    if (got == 0) _kernel_drops.refresh(_socket.fd());
    // Re-armed at most once a call, so that a kernel failing the multishot at once costs a system call a burst
    // rather than a spin.
    if (!_armed) arm();
    return got;
  }

  void wait(int timeout_ms) noexcept override {
    if (!_armed) arm();
    io_uring* ring = _ring.get();
    if (io_uring_cq_ready(ring) != 0) return;
    __kernel_timespec timeout{};
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
    io_uring_cqe* cqe = nullptr;
    // ETIME, EINTR: waking early is allowed.
    (void)io_uring_wait_cqe_timeout(ring, &cqe, timeout_ms < 0 ? nullptr : &timeout);
  }

  // The kernel's count of datagrams this socket dropped (receive buffer full, including while the multishot waited
  // for provided buffers): stamped on datagrams (SO_RXQ_OVFL) and read afresh on idle polls (kernel_drops).
  std::uint64_t lost() const noexcept override { return _kernel_drops.total(); }

  int fd() const noexcept { return _socket.fd(); }
  endpoint local() const noexcept { return _socket.local(); }

 private:
  std::byte* buffer(std::uint32_t id) const noexcept {
    return static_cast<std::byte*>(_buffer_memory.data()) + std::size_t{id} * _stride;
  }

  // Puts buffer `id` back in the ring at tail + slot; visible to the kernel after io_uring_buf_ring_advance().
  void offer(std::uint32_t id, std::uint32_t slot) noexcept {
    io_uring_buf_ring_add(_buffers, buffer(id), _buffer_size, static_cast<unsigned short>(id),
                          io_uring_buf_ring_mask(provided_buffers), static_cast<int>(slot));
  }

  void arm() noexcept {
    io_uring* ring = _ring.get();
    // A submit that failed left its entry queued: submit that one again rather than arm a second multishot.
    if (io_uring_sq_ready(ring) == 0) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (sqe == nullptr) return;
      io_uring_prep_recvmsg_multishot(sqe, _socket.fd(), &_shape, 0);
      io_uring_sqe_set_flags(sqe, IOSQE_BUFFER_SELECT);
      sqe->buf_group = buffer_group;
      io_uring_sqe_set_data64(sqe, recv_tag);
    }
    if (io_uring_submit(ring) > 0) _armed = true;
  }

  // Fills `to` from provided buffer `id`, which holds `bytes` (header, name, control, payload); false when the
  // kernel's record is malformed.
  bool deliver(std::uint32_t id, int bytes, std::uint32_t data_size, packet_buffer* to) noexcept {
    io_uring_recvmsg_out* head = io_uring_recvmsg_validate(buffer(id), bytes, &_shape);
    if (head == nullptr) return false;
    const std::uint32_t held = io_uring_recvmsg_payload_length(head, bytes, &_shape);
    const std::uint32_t length = std::min(held, data_size);
    std::memcpy(to->data(), io_uring_recvmsg_payload(head, &_shape), length);
    to->length = length;
    to->flags = (head->flags & MSG_TRUNC) != 0 || held > data_size ? packet_flag::truncated : 0;
    to->peer = endpoint::from_sockaddr(static_cast<const sockaddr*>(io_uring_recvmsg_name(head)),
                                       std::min<socklen_t>(head->namelen, name_space));
    for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(head, &_shape); c != nullptr;
         c = io_uring_recvmsg_cmsg_nexthdr(head, &_shape, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t dropped;
        std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
        _kernel_drops.stamped(dropped);
      }
    }
    return true;
  }

  // Destroyed bottom up: the ring goes before the memory the kernel was given.
  udp_socket _socket;
  platform::region _buffer_memory;
  platform::region _ring_memory;
  uring_ring _ring;
  io_uring_buf_ring* _buffers = nullptr;
  msghdr _shape{};  // what the kernel lays out in each buffer: name and control sizes, no iovec
  std::uint32_t _buffer_size = 0;
  std::uint32_t _stride = 0;
  bool _registered = false;
  bool _armed = false;
  kernel_drops _kernel_drops;
};

class uring_tx final : public tx_port {
 public:
  explicit uring_tx(udp_socket socket) noexcept : _socket(std::move(socket)) {}

  platform::result<void> open() { return _ring.open(tx_depth, 2 * tx_depth); }

  // The SENDMSGs of a submit are linked: a refused frame cancels the ones after it, which therefore have not left
  // when send() reports it, and the caller's retry past it sends none of them twice. MSG_DONTWAIT makes a full
  // send buffer fail the frame with EAGAIN (retried here, briefly) instead of parking it in the kernel.
  std::uint32_t send(mmsghdr* frames, std::uint32_t n) noexcept override {
    io_uring* ring = _ring.get();
    std::uint32_t sent = 0;
    int full_retries = 0;
    while (sent < n) {
      // Entries a failed submit left behind (as no-ops) go first, so that the queue holds this round's alone.
      if (io_uring_sq_ready(ring) != 0 && (io_uring_submit(ring) < 0 || io_uring_sq_ready(ring) != 0)) break;
      const std::uint32_t chunk = std::min(n - sent, tx_depth);
      // The round's number in the high half of user_data, so that a completion left over from a round that stopped
      // waiting can never be read as one of this round's.
      const std::uint64_t round = ++_rounds << 32;
      for (std::uint32_t i = 0; i < chunk; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);  // never null: the queue is empty and holds tx_depth
        if (sqe == nullptr) std::abort();
        io_uring_prep_sendmsg(sqe, _socket.fd(), &frames[sent + i].msg_hdr, MSG_DONTWAIT);
        io_uring_sqe_set_flags(sqe, i + 1 < chunk ? IOSQE_IO_LINK : 0u);
        io_uring_sqe_set_data64(sqe, round | i);
      }
      const int submitted = io_uring_submit_and_wait(ring, chunk);
      const std::uint32_t taken = submitted > 0 ? static_cast<std::uint32_t>(submitted) : 0;
      if (taken < chunk) neutralise_unsubmitted();

      int results[tx_depth];
      std::fill_n(results, chunk, -ECANCELED);
      const std::uint32_t reaped = reap(round, results, taken);
      std::uint32_t ok = 0;
      while (ok < chunk && results[ok] >= 0) ++ok;
      sent += ok;
      if (ok == chunk) continue;
      if (results[ok] == -EAGAIN && full_retries < 3 && reaped == taken) {
        // Send buffer full: wait (boundedly) for the kernel to drain it, then go again from the refused frame.
        ++full_retries;
        pollfd p{_socket.fd(), POLLOUT, 0};
        ::poll(&p, 1, 1);
        continue;
      }
      break;
    }
    return sent;
  }

 private:
  // Turns the entries the kernel did not take (it stops short under memory pressure) into no-ops of no round: left
  // as they were, the next submit would send frames whose memory the caller has since reused.
  void neutralise_unsubmitted() noexcept {
    io_uring* ring = _ring.get();
    for (unsigned i = *ring->sq.khead; i != ring->sq.sqe_tail; ++i) {
      io_uring_sqe* sqe = &ring->sq.sqes[ring->sq.array[i & ring->sq.ring_mask]];
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, no_index);
    }
  }

  // Waits for `count` completions of `round` into results[index]; returns how many arrived (all, short of a
  // failing ring).
  std::uint32_t reap(std::uint64_t round, int* results, std::uint32_t count) noexcept {
    io_uring* ring = _ring.get();
    std::uint32_t reaped = 0;
    int failures = 0;
    while (reaped < count) {
      io_uring_cqe* cqe = nullptr;
      const int rc = io_uring_wait_cqe(ring, &cqe);
      if (rc < 0) {
        // EINTR: a signal. Nothing else is expected of a live ring, and is given up on after a few tries.
        if (rc != -EINTR && ++failures > 3) break;
        continue;
      }
      const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
      const std::uint64_t index = tag & no_index;
      if ((tag & ~no_index) == round && index < count) {
        results[index] = cqe->res;
        ++reaped;
      }
      io_uring_cqe_seen(ring, cqe);
    }
    return reaped;
  }

  static constexpr std::uint64_t no_index = 0xffffffffu;  // in no round's range of indices

  udp_socket _socket;
  uring_ring _ring;
  std::uint64_t _rounds = 0;
};

class uring_backend final : public io_backend {
 public:
  backend_kind kind() const noexcept override { return backend_kind::io_uring; }
  endpoint local() const noexcept override { return _rx[0]->local(); }
  rx_port& rx(std::uint32_t index) noexcept override { return *_rx[index]; }
  tx_port& tx(std::uint32_t index) noexcept override { return *_tx[index]; }

  std::vector<std::unique_ptr<uring_rx>> _rx;
  std::vector<std::unique_ptr<uring_tx>> _tx;
};

}  // namespace

platform::result<std::unique_ptr<io_backend>> open_uring_backend(const backend_options& options) {
  if (options.max_datagram == 0 || options.max_datagram > max_udp_payload) {
    return platform::error("max_datagram " + std::to_string(options.max_datagram) + ": must be 1 to " +
                           std::to_string(max_udp_payload));
  }
  auto supported = check_kernel(options.listen.family());
  if (!supported) return std::move(supported).err();

  auto backend = std::make_unique<uring_backend>();
  udp_socket_options socket_options{options.listen, true, options.socket_buffer};
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(options.rx_ports, 1); ++i) {
    const std::string where = "rx port " + std::to_string(i);
    auto socket = udp_socket::open(socket_options);
    if (!socket) return std::move(socket).context(where);
    if (i == 0) socket_options.bind = socket->local();  // the others join the kernel's choice when the port was 0
    auto port = std::make_unique<uring_rx>(std::move(*socket));
    auto opened = port->open(options.max_datagram);
    if (!opened) return std::move(opened).context(where);
    backend->_rx.push_back(std::move(port));
  }
  // As in the socket backend: frames leave from ferry's listening address on a dup of the first socket, which does
  // not join the SO_REUSEPORT group (where it would take a share of the incoming datagrams).
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(options.tx_ports, 1); ++i) {
    const std::string where = "tx port " + std::to_string(i);
    auto shared = udp_socket::adopt_duplicate(backend->_rx[0]->fd());
    if (!shared) return std::move(shared).context(where);
    auto port = std::make_unique<uring_tx>(std::move(*shared));
    auto opened = port->open();
    if (!opened) return std::move(opened).context(where);
    backend->_tx.push_back(std::move(port));
  }
  return std::unique_ptr<io_backend>(std::move(backend));
}

}  // namespace ferry::dp

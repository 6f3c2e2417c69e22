// The DPDK backend: one ethdev port, rx port i on rx queue i and tx port i on tx queue i. Frames are parsed and
// built by udp_packet.hpp; payloads are copied between mbufs and ferry's own buffers, so that no mbuf outlives a
// receive() or send() call and the rest of the data plane never sees DPDK.

#include <pthread.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bitset>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/udp_packet.hpp"
#include "ferry/platform/clock.hpp"

namespace ferry::dp {

namespace {

// wait() sleeps in steps this long between looks at the queue, and never longer than this in all when the caller
// asks for no limit (a negative timeout): DPDK has no descriptor to block on.
constexpr auto wait_step = std::chrono::microseconds(50);
constexpr int max_wait_ms = 1000;

// send() retries a full tx queue this many times, pausing 1, 2, 4, ... microseconds, before giving up on the rest.
constexpr int tx_retries = 4;

// DPDK is built without ThreadSanitizer, so TSan cannot see that its rings and mempools order the threads an mbuf
// passes between: a route stage that writes an mbuf and an io stage that reads it (a looped-back port), or an io stage
// that frees one and a route stage that gets it again from the pool. These mark the hand-overs (per mbuf through a
// port, per pool through the pool) so that TSan builds report races in ferry rather than at every hand-over; they are
// empty in other builds.
#if defined(__SANITIZE_THREAD__)
#define FERRY_DPDK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FERRY_DPDK_TSAN 1
#endif
#endif
#if defined(FERRY_DPDK_TSAN)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
void tsan_acquire(const void* object) noexcept { __tsan_acquire(const_cast<void*>(object)); }
void tsan_release(const void* object) noexcept { __tsan_release(const_cast<void*>(object)); }
#else
void tsan_acquire(const void*) noexcept {}
void tsan_release(const void*) noexcept {}
#endif

// Mbufs a driver handed over (rx burst): pairs with mbufs_to_port() in whichever thread sent them.
void mbufs_from_port(rte_mbuf* const* mbufs, std::uint32_t n) noexcept {
  for (std::uint32_t i = 0; i < n; ++i) tsan_acquire(mbufs[i]);
}
// Mbufs handed to a driver (tx burst).
void mbufs_to_port(rte_mbuf* const* mbufs, std::uint32_t n) noexcept {
  for (std::uint32_t i = 0; i < n; ++i) tsan_release(mbufs[i]);
}
// Frees mbufs to their pools: pairs with the tsan_acquire(pool) before every allocation.
void free_mbufs(rte_mbuf** mbufs, std::uint32_t n) noexcept {
  if (n == 0) return;
  for (std::uint32_t i = 0; i < n; ++i) tsan_release(mbufs[i]->pool);
  rte_pktmbuf_free_bulk(mbufs, n);
}

// The EAL is once per process: rte_eal_init() cannot run twice, and nothing undoes it short of exiting. ferry
// initialises it on the first open and keeps it; later opens must ask for the same arguments.
struct eal_state {
  std::mutex mutex;
  bool attempted = false;
  bool ready = false;
  std::string failure;            // why the one attempt failed, repeated to every later open
  std::vector<std::string> args;  // as given, for comparing later opens with
  // The argument strings handed to rte_eal_init(), kept for the process's life: the EAL keeps pointers into them
  // (argv[0] becomes syslog's ident).
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
  std::bitset<RTE_MAX_ETHPORTS> ports_in_use;  // each port serves one backend at a time
  unsigned pools_made = 0;                     // mempool names must be unique in the process
};

eal_state& eal() {
  // Never destroyed: the EAL and its threads outlive static destructors, and may still read argv_storage.
  static eal_state* state = new eal_state;
  return *state;
}

std::string join(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out.empty() ? "(none)" : out;
}

std::string dpdk_error(int code) { return rte_strerror(code < 0 ? -code : code); }

platform::result<void> init_eal(const std::vector<std::string>& args) {
  eal_state& state = eal();
  std::lock_guard lock(state.mutex);
  if (state.attempted) {
    if (!state.ready) return platform::error("EAL initialisation failed earlier in this process: " + state.failure);
    if (args != state.args) {
      return platform::error("the EAL is already running in this process with eal_args '" + join(state.args) +
                             "' and DPDK cannot initialise it again: every DPDK backend in one process must use "
                             "the same dataplane.dpdk.eal_args (these were '" + join(args) + "')");
    }
    return {};
  }
  for (const std::string& a : args) {
    // rte_eal_init() prints its usage and exits the whole process on these, instead of returning.
    if (a == "-h" || a == "--help") {
      return platform::error("dataplane.dpdk.eal_args: '" + a + "' makes DPDK print and exit the process; remove it");
    }
  }
  state.attempted = true;
  state.args = args;
  state.argv_storage.push_back("ferry");
  state.argv_storage.insert(state.argv_storage.end(), args.begin(), args.end());
  for (std::string& a : state.argv_storage) state.argv.push_back(a.data());
  state.argv.push_back(nullptr);

  // The EAL pins the calling thread to its main lcore, and every thread ferry starts afterwards would inherit that
  // one CPU. ferry pins its stages itself, so the starting thread gets its own CPU set back.
  cpu_set_t cpus;
  const bool have_cpus = pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus) == 0;
  const int rc = rte_eal_init(static_cast<int>(state.argv.size() - 1), state.argv.data());
  const int init_errno = rte_errno;
  if (have_cpus) pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
  if (rc < 0) {
    state.failure = "rte_eal_init refused eal_args '" + join(args) + "': " + dpdk_error(init_errno) +
                    " (DPDK's log above says why)";
    return platform::error(state.failure);
  }
  state.ready = true;
  return {};
}

// Claims a port for one backend (false when another holds it); the destructor of that backend gives it back.
bool claim_port(std::uint16_t port) {
  eal_state& state = eal();
  std::lock_guard lock(state.mutex);
  if (state.ports_in_use.test(port)) return false;
  state.ports_in_use.set(port);
  return true;
}

void release_port(std::uint16_t port) {
  eal_state& state = eal();
  std::lock_guard lock(state.mutex);
  state.ports_in_use.reset(port);
}

std::string port_list() {
  std::string out;
  for (std::uint16_t id = 0; id < RTE_MAX_ETHPORTS; ++id) {
    if (rte_eth_dev_is_valid_port(id) == 0) continue;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(id, name);
    out += (out.empty() ? "" : ", ") + std::to_string(id) + " (" + name + ")";
  }
  return out.empty() ? "none" : out;
}

// A checksum the NIC reports on a received mbuf: bad, trusted (good, or absent but the data checked), or unknown.
enum class nic_verdict : std::uint8_t { unknown, good, bad };

nic_verdict ip_verdict(std::uint64_t flags) noexcept {
  switch (flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_BAD: return nic_verdict::bad;
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
    case RTE_MBUF_F_RX_IP_CKSUM_NONE: return nic_verdict::good;
    default: return nic_verdict::unknown;
  }
}

nic_verdict l4_verdict(std::uint64_t flags) noexcept {
  switch (flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_BAD: return nic_verdict::bad;
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
    case RTE_MBUF_F_RX_L4_CKSUM_NONE: return nic_verdict::good;
    default: return nic_verdict::unknown;
  }
}

class dpdk_rx final : public rx_port {
 public:
  // reports_port_losses: DPDK counts misses per port, not per queue, so one rx port (the first) reports them and
  // a sum over the ports counts each once.
  dpdk_rx(std::uint16_t port, std::uint16_t queue, const endpoint& listen, bool reports_port_losses) noexcept
      : _port(port), _queue(queue), _listen(listen), _reports_port_losses(reports_port_losses) {}

  dpdk_rx(const dpdk_rx&) = delete;
  dpdk_rx& operator=(const dpdk_rx&) = delete;
  ~dpdk_rx() override { drop_stash(); }

  std::uint32_t receive(buffer_pool& pool, packet_buffer** out, std::uint32_t n) noexcept override {
    // Buffers first, then only as many mbufs as there are buffers for: what stays in the queue is not lost.
    const std::uint32_t have = pool.acquire(out, std::min(n, max_burst));
    if (have == 0) return 0;
    std::array<rte_mbuf*, max_burst> mbufs;
    std::uint32_t count = 0;
    while (_stash_at < _stash_count && count < have) mbufs[count++] = _stash[_stash_at++];
    if (count < have) {
      count += rte_eth_rx_burst(_port, _queue, mbufs.data() + count, static_cast<std::uint16_t>(have - count));
    }
    mbufs_from_port(mbufs.data(), count);
    const std::uint64_t now = platform::cycle_ticks();
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (deliver(*mbufs[i], *out[kept], pool.data_size(), now)) ++kept;
    }
    free_mbufs(mbufs.data(), count);
    if (count != kept) {
      // One writer (this port's stage), so a load and a store rather than a locked add.
      _ignored.store(_ignored.load(std::memory_order_relaxed) + (count - kept), std::memory_order_relaxed);
    }
    pool.release(out + kept, have - kept);
    return kept;
  }

  void wait(int timeout_ms) noexcept override {
    // DPDK is polled and most drivers cannot say whether a queue holds anything without taking it, so wait() takes
    // it: a look that finds packets keeps them in the stash, where the next receive() starts.
    if (_stash_at < _stash_count) return;
    const int limit = timeout_ms < 0 ? max_wait_ms : timeout_ms;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit);
    for (;;) {
      _stash_at = 0;
      _stash_count = rte_eth_rx_burst(_port, _queue, _stash.data(), max_burst);
      if (_stash_count != 0) return;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return;
      const auto nap = std::min<std::chrono::nanoseconds>(wait_step, deadline - now);
      const timespec ts{0, static_cast<long>(nap.count())};
      nanosleep(&ts, nullptr);
    }
  }

  std::uint64_t lost() const noexcept override {
    if (!_reports_port_losses) return 0;
    rte_eth_stats stats;
    if (rte_eth_stats_get(_port, &stats) != 0) return 0;
    return stats.imissed + stats.rx_nombuf;
  }

  std::uint64_t ignored() const noexcept override { return _ignored.load(std::memory_order_relaxed); }

  void drop_stash() noexcept {
    if (_stash_at < _stash_count) {
      mbufs_from_port(_stash.data() + _stash_at, _stash_count - _stash_at);
      free_mbufs(_stash.data() + _stash_at, _stash_count - _stash_at);
    }
    _stash_at = _stash_count = 0;
  }

 private:
  // Copies the payload of a UDP datagram for ferry into `b`; false for anything else.
  bool deliver(const rte_mbuf& m, packet_buffer& b, std::uint32_t room, std::uint64_t now) const noexcept {
    // Scatter is not enabled, so one segment holds the frame; a chain would be a driver's surprise.
    if (m.nb_segs != 1) return false;
    const auto frame = std::span(rte_pktmbuf_mtod(&m, const std::byte*), rte_pktmbuf_data_len(&m));
    udp_packet_view packet;
    if (parse_udp_packet(frame, packet) != udp_packet_status::ok) return false;
    if (!addressed_to(packet, _listen)) return false;
    // The NIC's verdict where it gave one; otherwise check as the kernel would, since the socket backends only
    // ever see datagrams whose checksums were right.
    const nic_verdict ip = ip_verdict(m.ol_flags);
    const nic_verdict l4 = l4_verdict(m.ol_flags);
    if (ip == nic_verdict::bad || l4 == nic_verdict::bad) return false;
    if (ip == nic_verdict::unknown && !ip_checksum_ok(packet)) return false;
    if (l4 == nic_verdict::unknown && !udp_checksum_ok(packet)) return false;
    const std::span<const std::byte> payload = packet.payload();
    const std::size_t length = std::min<std::size_t>(payload.size(), room);
    std::memcpy(b.data(), payload.data(), length);
    b.length = static_cast<std::uint32_t>(length);
    b.flags = length < payload.size() ? packet_flag::truncated : 0;
    b.rx_ticks = now;
    b.peer = source_of(packet);
    return true;
  }

  std::uint16_t _port;
  std::uint16_t _queue;
  endpoint _listen;
  bool _reports_port_losses;
  std::atomic<std::uint64_t> _ignored{0};  // written by the stage that owns the port, read by anyone
  std::uint32_t _stash_at = 0;
  std::uint32_t _stash_count = 0;
  std::array<rte_mbuf*, max_burst> _stash{};
};

struct tx_config {
  std::uint16_t port = 0;
  rte_mempool* pool = nullptr;
  mac_address source_mac{};
  mac_address next_hop_mac{};
  endpoint source;                // ferry's listen address and port
  std::uint32_t offloads = 0;     // checksum_offload bits the port takes on
  std::size_t max_frame = 0;      // Ethernet header to the end of the payload: the MTU plus 14
};

class dpdk_tx final : public tx_port {
 public:
  dpdk_tx(const tx_config& config, std::uint16_t queue) noexcept : _config(config), _queue(queue) {}

  std::uint32_t send(mmsghdr* frames, std::uint32_t n) noexcept override {
    std::uint32_t sent = 0;
    while (sent < n) {
      const std::uint32_t chunk = std::min(n - sent, rx_port::max_burst);
      std::array<rte_mbuf*, rx_port::max_burst> mbufs;
      std::uint32_t got = chunk;
      tsan_acquire(_config.pool);
      if (rte_pktmbuf_alloc_bulk(_config.pool, mbufs.data(), chunk) != 0) {
        // The pool is low (bulk allocation is all or nothing): take what is left, one at a time.
        got = 0;
        while (got < chunk && (mbufs[got] = rte_pktmbuf_alloc(_config.pool)) != nullptr) ++got;
      }
      std::uint32_t built = 0;
      while (built < got && build(frames[sent + built], *mbufs[built])) ++built;
      free_mbufs(mbufs.data() + built, got - built);
      std::uint32_t ready = built;
      if (_config.offloads != 0 && built != 0) {
        // Lets drivers that need it adjust offload fields; a packet it refuses stops the burst there.
        ready = rte_eth_tx_prepare(_config.port, _queue, mbufs.data(), static_cast<std::uint16_t>(built));
        free_mbufs(mbufs.data() + ready, built - ready);
      }
      const std::uint32_t out = transmit(mbufs.data(), ready);
      sent += out;
      // Whatever stopped this chunk short (no mbuf, a frame refused, the queue full) stops the call at frames[sent].
      if (out < chunk) return sent;
    }
    return sent;
  }

 private:
  // Builds frames[i]'s Ethernet frame in `m`; false when it cannot be sent (no destination of ferry's family, larger
  // than the MTU).
  bool build(const mmsghdr& frame, rte_mbuf& m) const noexcept {
    const msghdr& h = frame.msg_hdr;
    if (h.msg_name == nullptr) return false;
    const endpoint destination = endpoint::from_sockaddr(static_cast<const sockaddr*>(h.msg_name), h.msg_namelen);
    if (destination.family() != _config.source.family()) return false;
    const std::size_t headers = udp_headers_size(destination.family());
    std::size_t length = headers;
    for (std::size_t i = 0; i < h.msg_iovlen; ++i) {
      length += h.msg_iov[i].iov_len;
      if (length > _config.max_frame) return false;
    }
    const std::size_t wire = std::max(length, min_ethernet_frame);
    char* data = rte_pktmbuf_append(&m, static_cast<std::uint16_t>(wire));
    if (data == nullptr) return false;
    auto* bytes = reinterpret_cast<std::byte*>(data);
    std::size_t at = headers;
    const bool sum_in_software = (_config.offloads & checksum_offload::udp) == 0;
    payload_checksum payload_sum;  // summed from the pieces as they are copied (see payload_checksum)
    for (std::size_t i = 0; i < h.msg_iovlen; ++i) {
      if (h.msg_iov[i].iov_len == 0) continue;
      const std::span piece(static_cast<const std::byte*>(h.msg_iov[i].iov_base), h.msg_iov[i].iov_len);
      std::memcpy(bytes + at, piece.data(), piece.size());
      if (sum_in_software) payload_sum.add(piece);
      at += piece.size();
    }
    if (wire > length) std::memset(bytes + length, 0, wire - length);  // Ethernet's minimum, not counted by IP
    if (!write_udp_headers(std::span(bytes, length), _config.source_mac, _config.next_hop_mac, _config.source,
                           destination, _config.offloads, sum_in_software ? &payload_sum : nullptr)) {
      return false;
    }
    const bool v4 = destination.family() == AF_INET;
    std::uint64_t checksums = 0;  // what write_udp_headers() left for the port to fill in
    if (v4 && (_config.offloads & checksum_offload::ipv4_header) != 0) checksums |= RTE_MBUF_F_TX_IP_CKSUM;
    if ((_config.offloads & checksum_offload::udp) != 0) checksums |= RTE_MBUF_F_TX_UDP_CKSUM;
    if (checksums != 0) {
      m.l2_len = ethernet_header_size;
      m.l3_len = v4 ? ipv4_header_size : ipv6_header_size;
      m.ol_flags |= checksums | (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
    }
    return true;
  }

  // Sends mbufs[0..count), retrying a full queue briefly; frees what still did not go. Returns how many went.
  std::uint32_t transmit(rte_mbuf** mbufs, std::uint32_t count) const noexcept {
    mbufs_to_port(mbufs, count);
    std::uint32_t done = 0;
    for (int attempt = 0; done < count; ++attempt) {
      done += rte_eth_tx_burst(_config.port, _queue, mbufs + done, static_cast<std::uint16_t>(count - done));
      if (done == count || attempt == tx_retries) break;
      rte_delay_us_block(1u << attempt);
    }
    free_mbufs(mbufs + done, count - done);
    return done;
  }

  tx_config _config;
  std::uint16_t _queue;
};

class dpdk_backend final : public io_backend {
 public:
  dpdk_backend(std::uint16_t port, const endpoint& listen) noexcept : _port(port), _listen(listen) {}
  dpdk_backend(const dpdk_backend&) = delete;
  dpdk_backend& operator=(const dpdk_backend&) = delete;

  ~dpdk_backend() override {
    _rx.clear();
    _tx.clear();
    if (_started) {
      // Drained before stopping: rings of software ports (net_ring) keep their mbufs past close(), and those would
      // point into the pool freed below.
      for (std::uint16_t q = 0; q < _rx_queues; ++q) {
        std::array<rte_mbuf*, rx_port::max_burst> mbufs;
        for (int burst = 0; burst < 1024; ++burst) {
          const std::uint16_t got = rte_eth_rx_burst(_port, q, mbufs.data(), rx_port::max_burst);
          if (got == 0) break;
          mbufs_from_port(mbufs.data(), got);
          free_mbufs(mbufs.data(), got);
        }
      }
      rte_eth_dev_stop(_port);
    }
    if (_configured) rte_eth_dev_close(_port);
    if (_pool != nullptr) rte_mempool_free(_pool);
    if (_claimed) release_port(_port);
  }

  backend_kind kind() const noexcept override { return backend_kind::dpdk; }
  endpoint local() const noexcept override { return _listen; }
  rx_port& rx(std::uint32_t index) noexcept override { return *_rx[index]; }
  tx_port& tx(std::uint32_t index) noexcept override { return *_tx[index]; }

  std::uint16_t _port;
  endpoint _listen;
  bool _claimed = false;
  bool _configured = false;
  bool _started = false;
  std::uint16_t _rx_queues = 0;
  rte_mempool* _pool = nullptr;
  std::vector<std::unique_ptr<dpdk_rx>> _rx;
  std::vector<std::unique_ptr<dpdk_tx>> _tx;
};

platform::result<void> check_listen(const backend_options& options) {
  const endpoint& listen = options.listen;
  if (!listen.specified()) return platform::error("dataplane.listen: not set; DPDK answers to that address and port");
  if (listen.port() == 0) {
    return platform::error("dataplane.listen: port 0 asks the kernel to choose one, and DPDK bypasses the kernel: "
                           "give a port number");
  }
  bool any = false;
  if (listen.family() == AF_INET) {
    sockaddr_in address;
    std::memcpy(&address, listen.address(), sizeof address);
    any = address.sin_addr.s_addr == htonl(INADDR_ANY);
  } else {
    sockaddr_in6 address;
    std::memcpy(&address, listen.address(), sizeof address);
    any = IN6_IS_ADDR_UNSPECIFIED(&address.sin6_addr);
  }
  if (any && options.tx_ports > 0) {
    return platform::error("dataplane.listen: " + listen.to_string() +
                           " is the unspecified address, and DPDK sends from the listen address: give the address "
                           "this port answers to");
  }
  return {};
}

}  // namespace

platform::result<std::unique_ptr<io_backend>> open_dpdk_backend(const backend_options& options) {
  if (auto listen = check_listen(options); !listen) return std::move(listen).err();
  if (auto up = init_eal(options.dpdk.eal_args); !up) return std::move(up).err();

  const std::uint16_t port = options.dpdk.port;
  const std::string which = "dpdk port " + std::to_string(port);
  if (port >= RTE_MAX_ETHPORTS || rte_eth_dev_is_valid_port(port) == 0) {
    return platform::error("no " + which + " (dataplane.dpdk.port): the EAL found ports " + port_list() +
                           "; bind a NIC to a DPDK driver or add a --vdev to dataplane.dpdk.eal_args");
  }
  auto backend = std::make_unique<dpdk_backend>(port, options.listen);
  if (!claim_port(port)) return platform::error(which + " is already in use by another backend in this process");
  backend->_claimed = true;

  rte_eth_dev_info info;
  if (const int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    return platform::error(which + ": cannot read its device info: " + dpdk_error(rc));
  }
  const std::string device = which + " (" + (info.driver_name != nullptr ? info.driver_name : "?") + ")";
  const std::uint32_t rx_queues = std::max<std::uint32_t>(options.rx_ports, 1);
  const std::uint32_t tx_queues = options.tx_ports;
  if (rx_queues > info.max_rx_queues) {
    return platform::error(device + " offers at most " + std::to_string(info.max_rx_queues) + " rx queues; " +
                           std::to_string(rx_queues) + " were asked for (one per io stage: lower "
                           "dataplane.io_stages)");
  }
  if (tx_queues > info.max_tx_queues) {
    return platform::error(device + " offers at most " + std::to_string(info.max_tx_queues) + " tx queues; " +
                           std::to_string(tx_queues) + " were asked for (one per route stage: lower "
                           "dataplane.route_stages)");
  }

  std::uint16_t rx_descriptors = options.dpdk.rx_descriptors;
  std::uint16_t tx_descriptors = options.dpdk.tx_descriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors, &tx_descriptors); rc != 0) {
    return platform::error(device + ": descriptor counts refused: " + dpdk_error(rc));
  }
  // Every rx descriptor may hold an mbuf, every tx descriptor one in flight, and each port a burst besides.
  const std::uint64_t needed = std::uint64_t{rx_queues} * rx_descriptors + std::uint64_t{tx_queues} * tx_descriptors +
                               std::uint64_t{rx_queues + tx_queues} * rx_port::max_burst;
  if (options.dpdk.mbufs < needed) {
    return platform::error("dataplane.dpdk.mbufs: " + std::to_string(options.dpdk.mbufs) + " is fewer than " +
                           device + "'s queues can hold (" + std::to_string(rx_queues) + " x " +
                           std::to_string(rx_descriptors) + " rx + " + std::to_string(tx_queues) + " x " +
                           std::to_string(tx_descriptors) + " tx descriptors + a burst each = " +
                           std::to_string(needed) + "): raise mbufs");
  }

  rte_eth_conf conf{};
  constexpr std::uint64_t rss_wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
  if (rx_queues > 1 && (info.flow_type_rss_offloads & rss_wanted) != 0) {
    // Spread over the rx queues by addresses and ports; without RSS each queue gets what the driver gives it.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the driver's default key
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & rss_wanted;
  }
  conf.rxmode.offloads =
      info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
  // Fast free holds here: every mbuf sent on a queue comes from this backend's one pool with a reference count of 1.
  conf.txmode.offloads = info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                                                 RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE);
  if (const int rc = rte_eth_dev_configure(port, static_cast<std::uint16_t>(rx_queues),
                                           static_cast<std::uint16_t>(tx_queues), &conf);
      rc != 0) {
    return platform::error(device + ": configuring " + std::to_string(rx_queues) + " rx and " +
                           std::to_string(tx_queues) + " tx queues failed: " + dpdk_error(rc));
  }
  backend->_configured = true;

  std::uint16_t mtu = RTE_ETHER_MTU;
  rte_eth_dev_get_mtu(port, &mtu);
  // Room for a whole frame at the MTU with a VLAN tag, so that no frame needs more than one mbuf.
  const std::uint32_t data_room = RTE_PKTMBUF_HEADROOM +
      std::max<std::uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, std::uint32_t{mtu} + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN);
  const int socket = rte_eth_dev_socket_id(port);  // SOCKET_ID_ANY when the device does not say
  std::string pool_name;
  {
    eal_state& state = eal();
    std::lock_guard lock(state.mutex);
    pool_name = "ferry_p" + std::to_string(port) + "_" + std::to_string(state.pools_made++);
  }
  // A per-lcore cache serves EAL threads only; ferry's stages are not, and reach the pool's ring once a burst.
  const unsigned cache = std::min<unsigned>(RTE_MEMPOOL_CACHE_MAX_SIZE / 2, options.dpdk.mbufs / 2);
  backend->_pool = rte_pktmbuf_pool_create(pool_name.c_str(), options.dpdk.mbufs, cache, 0,
                                           static_cast<std::uint16_t>(data_room), socket);
  if (backend->_pool == nullptr) {
    return platform::error(device + ": no pool of " + std::to_string(options.dpdk.mbufs) + " mbufs of " +
                           std::to_string(data_room) + " bytes on NUMA socket " + std::to_string(socket) + ": " +
                           dpdk_error(rte_errno) + " (raise -m in dataplane.dpdk.eal_args or lower mbufs)");
  }

  for (std::uint16_t q = 0; q < rx_queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (const int rc = rte_eth_rx_queue_setup(port, q, rx_descriptors, static_cast<unsigned>(socket), &rxconf,
                                              backend->_pool);
        rc != 0) {
      return platform::error(device + ": rx queue " + std::to_string(q) + " refused: " + dpdk_error(rc));
    }
  }
  for (std::uint16_t q = 0; q < tx_queues; ++q) {
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (const int rc = rte_eth_tx_queue_setup(port, q, tx_descriptors, static_cast<unsigned>(socket), &txconf);
        rc != 0) {
      return platform::error(device + ": tx queue " + std::to_string(q) + " refused: " + dpdk_error(rc));
    }
  }
  rte_ether_addr mac;
  if (const int rc = rte_eth_macaddr_get(port, &mac); rc != 0) {
    return platform::error(device + ": cannot read its MAC address: " + dpdk_error(rc));
  }
  if (const int rc = rte_eth_dev_start(port); rc != 0) {
    return platform::error(device + ": start failed: " + dpdk_error(rc));
  }
  backend->_started = true;
  backend->_rx_queues = static_cast<std::uint16_t>(rx_queues);

  for (std::uint16_t q = 0; q < rx_queues; ++q) {
    backend->_rx.push_back(std::make_unique<dpdk_rx>(port, q, options.listen, q == 0));
  }
  tx_config tx;
  tx.port = port;
  tx.pool = backend->_pool;
  std::memcpy(tx.source_mac.data(), mac.addr_bytes, tx.source_mac.size());
  tx.next_hop_mac = options.dpdk.next_hop_mac;
  tx.source = options.listen;
  if ((conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0) tx.offloads |= checksum_offload::ipv4_header;
  if ((conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0) tx.offloads |= checksum_offload::udp;
  // ferry does not fragment: a frame's IP packet must fit the MTU (and so the mbuf, sized for it above).
  tx.max_frame = std::size_t{mtu} + RTE_ETHER_HDR_LEN;
  for (std::uint16_t q = 0; q < tx_queues; ++q) backend->_tx.push_back(std::make_unique<dpdk_tx>(tx, q));
  return std::unique_ptr<io_backend>(std::move(backend));
}

}  // namespace ferry::dp

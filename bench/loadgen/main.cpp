// ferry-loadgen: drives a ferry router over UDP with a mix of messages, signed before the run starts, receives what
// it forwards, and reports the delivered rate, latency (from each unit's recorded send time), anything lost,
// unexpected or repeated, and, given ferryd's control socket, what ferryd dropped and why. Or writes the same
// datagrams to a pcap file for a DPDK port to read (--write-pcap).

#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "datagram_packer.hpp"
#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/control/key_file.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/platform/clock.hpp"
#include "ferry/platform/thread.hpp"
#include "ferry_counters.hpp"
#include "latency_histogram.hpp"
#include "pcap_writer.hpp"
#include "presigned_pool.hpp"
#include "traffic.hpp"

namespace {

using namespace ferry;
using loadgen::category;

struct settings {
  dp::endpoint target;
  dp::endpoint sink;
  dp::endpoint source;   // the sending socket's local address; port 0: the kernel's choice
  double rate = 100000;  // units per second; 0: as fast as possible
  double duration = 5;   // seconds, when count is 0
  std::uint64_t count = 0;
  loadgen::packing packing;
  std::uint32_t drain_ms = 500;
  bool json = false;
};

// Each unit's send time in cycle ticks, indexed by sequence: written by the sender just before the datagram leaves,
// read by the receiver when it comes back. 0 until sent.
using send_times = std::vector<std::atomic<std::uint64_t>>;

// What the receiving side saw. Written by the receiver thread; read by main after it stops, or as atomics while it
// runs.
class receiver {
 public:
  receiver(dp::udp_socket socket, dp::placed<dp::buffer_pool> pool, const loadgen::presigned_pool& units,
           const send_times& sent, std::uint32_t run, platform::tick_rate rate)
      : _socket(std::move(socket)), _pool(std::move(pool)), _units(units), _sent(sent), _run(run), _rate(rate),
        _seen(static_cast<std::size_t>((units.size() + 63) / 64), 0) {}

  void start() { _thread = std::thread([this] { loop(); }); }
  void stop() {
    _stop.store(true, std::memory_order_relaxed);
    if (_thread.joinable()) _thread.join();
  }

  std::uint64_t delivered() const noexcept { return _delivered.load(std::memory_order_relaxed); }
  std::uint64_t last_arrival_ns() const noexcept { return _last_arrival_ns.load(std::memory_order_relaxed); }
  std::uint64_t last_delivery_ns() const noexcept { return _last_delivery_ns.load(std::memory_order_relaxed); }

  // After stop():
  std::uint64_t duplicates = 0;  // a valid message that arrived again (a duplicate unit ferry let through, or a repeat)
  std::uint64_t unexpected = 0;  // a message of this run that should have been dropped (not valid)
  std::uint64_t foreign = 0;     // messages or datagrams not from this run (another sender, a stale run, garbage)
  loadgen::latency_histogram latency;

 private:
  void loop() noexcept {
    dp::packet_buffer* buffers[dp::udp_socket::max_burst];
    const std::uint32_t have = _pool->acquire(buffers, dp::udp_socket::max_burst);
    while (!_stop.load(std::memory_order_relaxed)) {
      if (!_socket.wait_readable(20)) continue;
      const std::uint32_t got = _socket.receive(buffers, have, _pool->data_size());
      const std::uint64_t now = platform::cycle_ticks();
      const std::uint64_t delivered_before = delivered();
      for (std::uint32_t i = 0; i < got; ++i) take(*buffers[i], now);
      if (got != 0) {
        const std::uint64_t at = platform::portable::monotonic_ns();
        _last_arrival_ns.store(at, std::memory_order_relaxed);
        if (delivered() != delivered_before) _last_delivery_ns.store(at, std::memory_order_relaxed);
      }
    }
    _pool->release(buffers, have);
  }

  void take(const dp::packet_buffer& datagram, std::uint64_t now) noexcept {
    dp::frame_view frame;
    if (dp::parse_frame({datagram.data(), datagram.length}, frame) != dp::frame_status::ok) {
      ++foreign;
      return;
    }
    for (const dp::message_ref message : frame) {
      const auto s = loadgen::read_stamp(message.kind, message.body);
      if (!s || s->run != _run || s->sequence >= _units.size()) {
        ++foreign;
        continue;
      }
      // A duplicate unit carries its original's stamp, so what arrives of it is counted as a repeat below.
      if (_units[s->sequence].what != category::valid) {
        ++unexpected;
        continue;
      }
      const auto word = static_cast<std::size_t>(s->sequence / 64);
      const std::uint64_t bit = std::uint64_t{1} << (s->sequence % 64);
      if ((_seen[word] & bit) != 0) {
        ++duplicates;
        continue;
      }
      _seen[word] |= bit;
      _delivered.store(_delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      // A1: pairs with R1 in sender::send_batch(): the time was stored before the sendmmsg that sent this message,
      // which its arrival here follows.
      const std::uint64_t sent = _sent[static_cast<std::size_t>(s->sequence)].load(std::memory_order_acquire);
      if (sent != 0) latency.record(now > sent ? static_cast<std::uint64_t>(_rate.to_ns(now - sent)) : 0);
    }
  }

  dp::udp_socket _socket;
  dp::placed<dp::buffer_pool> _pool;
  const loadgen::presigned_pool& _units;
  const send_times& _sent;
  std::uint32_t _run;
  platform::tick_rate _rate;
  std::vector<std::uint64_t> _seen;  // one bit per sequence number delivered, sized for the whole run
  std::atomic<std::uint64_t> _delivered{0};
  std::atomic<std::uint64_t> _last_arrival_ns{0};
  std::atomic<std::uint64_t> _last_delivery_ns{0};
  std::atomic<bool> _stop{false};
  std::thread _thread;
};

struct send_totals {
  std::uint64_t units[loadgen::category_count] = {};
  std::uint64_t datagrams = 0;
  std::uint64_t failed_units[loadgen::category_count] = {};  // in datagrams the kernel refused to send
  double seconds = 0;
  std::uint64_t start_ns = 0;  // monotonic
};

// Sends the pool's units in order, paced to settings.rate, until they are all sent or (without --count) the
// duration is over. The send path copies pre-signed bytes into frames and allocates nothing.
class sender {
 public:
  sender(const settings& s, dp::udp_socket& socket, const loadgen::presigned_pool& units, send_times& sent)
      : _settings(s), _socket(socket), _units(units), _sent(sent), _packer(units, s.packing) {}

  send_totals run() {
    prctl(PR_SET_TIMERSLACK, 1000UL);  // sleeps end within a microsecond of when asked, not the default 50
    const std::uint64_t start = platform::portable::monotonic_ns();
    _totals.start_ns = start;
    const std::uint64_t end_ns = start + static_cast<std::uint64_t>(_settings.duration * 1e9);
    const bool by_count = _settings.count != 0;
    const std::uint64_t last = _units.size();
    std::uint64_t sequence = 0;
    for (;;) {
      const std::uint64_t now = platform::portable::monotonic_ns();
      if (sequence >= last) break;
      // Over time: what is due still goes, in one last batch, so that a run that kept up sends all it signed.
      const bool over = !by_count && now >= end_ns;
      const std::uint64_t flat_out = std::uint64_t{_settings.packing.batch} * _settings.packing.messages_per_frame;
      std::uint64_t due = _settings.rate > 0
                              ? static_cast<std::uint64_t>(static_cast<double>(now - start) * _settings.rate / 1e9) + 1
                              : sequence + flat_out;
      due = std::min(due, last);
      if (sequence >= due) {
        if (over) break;
        // Ahead of schedule: sleep until the next unit is due (at most 200 us), leaving the core to the receiver.
        const double next_ns = static_cast<double>(sequence) * 1e9 / _settings.rate;
        const double wait_ns = std::clamp(next_ns - static_cast<double>(now - start), 1000.0, 200000.0);
        const timespec pause{0, static_cast<long>(wait_ns)};
        nanosleep(&pause, nullptr);
        continue;
      }
      sequence = send_batch(sequence, due);
      if (over) break;
    }
    _totals.seconds = static_cast<double>(platform::portable::monotonic_ns() - start) / 1e9;
    return _totals;
  }

 private:
  // Sends up to a batch of datagrams holding units [first, due); returns the next unit.
  std::uint64_t send_batch(std::uint64_t first, std::uint64_t due) noexcept {
    const std::uint64_t next = _packer.pack(first, due);
    const auto datagrams = _packer.datagrams();
    mmsghdr messages[loadgen::datagram_packer::max_batch];
    iovec iov[loadgen::datagram_packer::max_batch];
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
      const auto bytes = _packer.bytes(datagrams[i]);
      iov[i] = {const_cast<std::byte*>(bytes.data()), bytes.size()};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = const_cast<sockaddr*>(_settings.target.address());
      messages[i].msg_hdr.msg_namelen = _settings.target.length();
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    // R1: stored before the send, so that the receiver, which can see a message only after it was sent, finds its
    // time (pairs with A1 in receiver::take()). A duplicate's time is its original's.
    const std::uint64_t now = platform::cycle_ticks();
    for (std::uint64_t sequence = first; sequence < next; ++sequence) {
      if (_units[sequence].what != category::duplicate) {
        _sent[static_cast<std::size_t>(sequence)].store(now, std::memory_order_release);
      }
    }
    const auto n = static_cast<std::uint32_t>(datagrams.size());
    std::uint32_t done = 0;
    while (done < n) {
      done += _socket.send(messages + done, n - done);
      if (done < n) {  // refused: its units never left
        for (std::size_t c = 0; c < loadgen::category_count; ++c) _totals.failed_units[c] += datagrams[done].units[c];
        ++done;
      }
    }
    for (const loadgen::packed_datagram& d : datagrams) {
      for (std::size_t c = 0; c < loadgen::category_count; ++c) _totals.units[c] += d.units[c];
    }
    _totals.datagrams += n;
    return next;
  }

  const settings& _settings;
  dp::udp_socket& _socket;
  const loadgen::presigned_pool& _units;
  send_times& _sent;
  loadgen::datagram_packer _packer;
  send_totals _totals;
};

std::string microseconds(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f us", static_cast<double>(ns) / 1e3);
  return text;
}

nlohmann::ordered_json sent_json(const send_totals& sent) {
  std::uint64_t total = 0;
  std::uint64_t failed = 0;
  for (std::size_t c = 0; c < loadgen::category_count; ++c) {
    total += sent.units[c];
    failed += sent.failed_units[c];
  }
  using loadgen::to_string;
  return {{"messages", total},
          {"datagrams", sent.datagrams},
          {to_string(category::valid), sent.units[static_cast<std::size_t>(category::valid)]},
          {to_string(category::unroutable), sent.units[static_cast<std::size_t>(category::unroutable)]},
          {to_string(category::malformed), sent.units[static_cast<std::size_t>(category::malformed)]},
          {to_string(category::forged), sent.units[static_cast<std::size_t>(category::forged)]},
          {"send_failed", failed},
          {to_string(category::duplicate), sent.units[static_cast<std::size_t>(category::duplicate)]}};
}

void print_mix(const send_totals& sent) {
  std::printf("  mix         ");
  for (std::size_t c = 0; c < loadgen::category_count; ++c) {
    std::printf("%s %llu %s", c == 0 ? "" : ",", static_cast<unsigned long long>(sent.units[c]),
                loadgen::to_string(static_cast<category>(c)));
  }
  std::printf("\n");
}

// Writes every unit of the pool, packed as a run would send them, as packets to a pcap file: the same datagrams,
// stamped at the times the run would send them (all at once when the rate is 0).
int write_pcap(const settings& s, const loadgen::presigned_pool& units, loadgen::pcap_writer& writer,
               const std::string& path, std::uint32_t run, double presign_seconds) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto base_ns =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
  loadgen::datagram_packer packer(units, s.packing);
  send_totals sent;
  for (std::uint64_t sequence = 0; sequence < units.size();) {
    const std::uint64_t next = packer.pack(sequence, units.size());
    for (const loadgen::packed_datagram& d : packer.datagrams()) {
      const double offset_ns = s.rate > 0 ? static_cast<double>(sequence) * 1e9 / s.rate : 0.0;
      auto written = writer.write(packer.bytes(d), base_ns + static_cast<std::uint64_t>(offset_ns));
      if (!written) {
        std::cerr << "ferry-loadgen: --write-pcap " << written.err().message() << '\n';
        return 1;
      }
      for (std::size_t c = 0; c < loadgen::category_count; ++c) {
        sent.units[c] += d.units[c];
        sequence += d.units[c];
      }
    }
    sequence = next;
  }
  sent.datagrams = writer.packets();
  const std::uint64_t bytes = writer.bytes();
  auto closed = writer.close();
  if (!closed) {
    std::cerr << "ferry-loadgen: --write-pcap " << closed.err().message() << '\n';
    return 1;
  }
  if (s.json) {
    nlohmann::ordered_json doc;
    doc["pcap"] = path;
    doc["run"] = run;
    doc["presign_seconds"] = presign_seconds;
    doc["packets"] = sent.datagrams;
    doc["bytes"] = bytes;
    doc["sent"] = sent_json(sent);
    std::cout << doc.dump() << '\n';
    return 0;
  }
  std::printf("ferry-loadgen: wrote %llu messages in %llu packets (%llu bytes) to %s, run %u, for %s\n",
              static_cast<unsigned long long>(units.size()), static_cast<unsigned long long>(sent.datagrams),
              static_cast<unsigned long long>(bytes), path.c_str(), run, s.target.to_string().c_str());
  print_mix(sent);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-loadgen: sends a mix of messages to a ferry router and measures what it forwards"};
  settings s;
  std::string target = "127.0.0.1:7700";
  std::string sink = "127.0.0.1:7701";
  std::string source_address;
  std::string mix = "valid=85,unroutable=5,malformed=5,forged=5";
  std::string valid_flows = "wormhole:2:0,wormhole:1:0,hyperlane:1:42161,hyperlane:10:42161,layerzero:30101:30102,"
                            "opaque:7:8";
  std::string unroutable_flows = "wormhole:65000:0,hyperlane:1:999999,layerzero:30101:30999";
  std::string control_socket;
  std::string pcap_path;
  std::string pcap_source = "10.0.0.1:7000";
  std::string pcap_source_mac = "02:00:00:00:00:01";
  std::string pcap_destination_mac = "02:00:00:00:00:02";
  bool verified_upstream = false;
  std::string link_key_file;
  std::uint16_t key_id = 1;
  std::string link_mac = "hmac-sha256";
  std::uint32_t run_id = 0;
  bool wait_for_signal = false;
  unsigned sign_threads = static_cast<unsigned>(platform::allowed_cpus().size());
  loadgen::traffic_options traffic_options;
  app.add_option("--target", target, "The router's listening address")->capture_default_str();
  app.add_option("--sink", sink, "Where to receive what the router forwards (its next hop)")->capture_default_str();
  app.add_option("--source", source_address,
                 "Send from this local address, with or without a port (\"127.0.0.5\", \"127.0.0.5:7000\", "
                 "\"[::1]\"), so that one machine can play many peers on loopback (default: the system's choice)");
  app.add_option("--rate", s.rate, "Messages per second; 0 sends as fast as possible (and needs --count)")
      ->capture_default_str();
  app.add_option("--duration", s.duration, "Seconds to send for (unless --count): rate x duration messages")
      ->capture_default_str();
  app.add_option("--count", s.count, "Send exactly this many messages instead of for a duration");
  app.add_option("--mix", mix,
                 "Relative weights of valid, duplicate (a resend of an earlier valid message), unroutable, malformed "
                 "and forged messages; a category not named weighs 0")
      ->capture_default_str();
  app.add_option("--valid-flows", valid_flows, "kind:source:destination,... the router routes")
      ->capture_default_str();
  app.add_option("--unroutable-flows", unroutable_flows, "kind:source:destination,... no route matches")
      ->capture_default_str();
  app.add_option("--messages-per-frame", s.packing.messages_per_frame, "Most messages in one frame")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--frame-bytes", s.packing.frame_bytes, "Largest frame to send")->capture_default_str()
      ->check(CLI::Range(64, 65000));
  app.add_option("--payload", traffic_options.payload_size, "Payload bytes per message")->capture_default_str();
  app.add_option("--seed", traffic_options.seed, "Seed of the message mix")->capture_default_str();
  app.add_option("--drain-ms", s.drain_ms, "After sending, wait this long for stragglers")->capture_default_str();
  app.add_flag("--json", s.json, "Print the report as JSON");
  app.add_option("--control-socket", control_socket,
                 "ferryd's control socket: report what ferryd received, forwarded and dropped by reason in the run");
  app.add_flag("--verified-upstream", verified_upstream,
               "Mark every frame verified_upstream, as from a trusted upstream router (ferry may then forward "
               "without verifying, forged messages included)");
  app.add_option("--link-key", link_key_file,
                 "Authenticate every frame with the link key in this file (a ferry key file: hex, mode 0600)");
  app.add_option("--key-id", key_id, "--link-key: the key's id, as the router's [[peers.link_keys]] names it")
      ->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--link-mac", link_mac,
                 "--link-key: how the key seals, as its [[peers.link_keys]] mac says: hmac-sha256, blake2b or "
                 "chacha20-poly1305 (which encrypts)")
      ->capture_default_str();
  app.add_option("--sign-threads", sign_threads, "Threads that sign the run's messages before it starts")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_flag("--wait-for-signal", wait_for_signal,
               "Once signed and bound, say so on stderr and wait for SIGUSR1 before sending, so that a script can "
               "start several load generators at the same moment");
  app.add_option("--run-id", run_id, "The run id stamped in every message (default: from the clock)");
  app.add_option("--write-pcap", pcap_path,
                 "Write the run's datagrams as Ethernet/IPv4/UDP packets to this pcap file (for DPDK's net_pcap) "
                 "and exit without sending");
  app.add_option("--pcap-source", pcap_source, "--write-pcap: the packets' IPv4 source address and port")
      ->capture_default_str();
  app.add_option("--pcap-source-mac", pcap_source_mac, "--write-pcap: the packets' source MAC")->capture_default_str();
  app.add_option("--pcap-destination-mac", pcap_destination_mac, "--write-pcap: the packets' destination MAC")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Blocked before any thread starts, so that SIGUSR1 (which would end the process) only ever reaches sigwait.
  sigset_t start_signal;
  sigemptyset(&start_signal);
  sigaddset(&start_signal, SIGUSR1);
  if (wait_for_signal) pthread_sigmask(SIG_BLOCK, &start_signal, nullptr);
  const auto fail = [](const std::string& message) {
    std::cerr << "ferry-loadgen: " << message << '\n';
    return 1;
  };

  auto target_ep = dp::endpoint::parse(target);
  auto sink_ep = dp::endpoint::parse(sink);
  auto weights = loadgen::parse_mix(mix);
  auto valid = loadgen::parse_flows(valid_flows);
  auto unroutable = loadgen::parse_flows(unroutable_flows);
  if (!target_ep) return fail("--target " + target_ep.err().message());
  if (!sink_ep) return fail("--sink " + sink_ep.err().message());
  if (!weights) return fail("--mix " + weights.err().message());
  if (!valid) return fail("--valid-flows " + valid.err().message());
  if (!unroutable) return fail("--unroutable-flows " + unroutable.err().message());
  s.target = *target_ep;
  s.sink = *sink_ep;
  // An address alone ("127.0.0.5", "[::1]") sends from a port the kernel chooses.
  const std::string from = !source_address.empty() ? source_address
                           : s.target.family() == AF_INET6 ? "[::]:0" : "0.0.0.0:0";
  const bool has_port = from.front() == '[' ? from.back() != ']' : from.find(':') != std::string::npos;
  auto source_ep = dp::endpoint::parse(has_port ? from : from + ":0");
  if (!source_ep) return fail("--source " + source_ep.err().message());
  if (source_ep->family() != s.target.family()) {
    return fail("--source " + source_address + ": not of --target's address family (IPv4 and IPv6 do not mix)");
  }
  s.source = *source_ep;
  s.packing.frame_flags = verified_upstream ? dp::frame_flag::verified_upstream : std::uint8_t{0};
  if (!link_key_file.empty()) {
    const auto mac = dp::link_mac_named(link_mac);
    if (!mac) return fail("--link-mac '" + link_mac + "': expected " + std::string(dp::link_mac_names));
    auto secret = ctl::read_link_key(link_key_file, *mac);
    if (!secret) return fail("--link-key " + secret.err().message());
    s.packing.link_key = dp::link_key(key_id, *secret, 0, *mac);  // of the size *mac needs, as read_link_key checks
  }
  traffic_options.weights = *weights;
  traffic_options.valid_flows = *valid;
  traffic_options.unroutable_flows = *unroutable;
  auto traffic = loadgen::traffic::create(traffic_options);
  if (!traffic) return fail(traffic.err().message());

  // Every unit is signed before the run, so the run needs a bound.
  std::uint64_t units = s.count;
  if (units == 0) {
    if (s.rate <= 0) return fail("--rate 0 (flat out) needs --count: every message is signed before the run");
    if (s.duration <= 0) return fail("--duration must be above 0, or give --count");
    const double wanted = std::ceil(s.rate * s.duration);
    if (wanted > static_cast<double>(loadgen::presigned_pool::max_units)) {
      return fail("--rate x --duration is " + std::to_string(static_cast<std::uint64_t>(wanted)) +
                  " messages, more than the " + std::to_string(loadgen::presigned_pool::max_units) +
                  " a run signs in advance: lower --rate or --duration, or give --count");
    }
    units = static_cast<std::uint64_t>(wanted);
  }

  // What can fail is tried before the signing, which may take a while.
  std::optional<loadgen::pcap_writer> pcap;
  if (!pcap_path.empty()) {
    if (!source_address.empty()) return fail("--source is for sending: --write-pcap takes --pcap-source");
    loadgen::pcap_addressing addressing;
    auto source = dp::endpoint::parse(pcap_source);
    if (!source) return fail("--pcap-source " + source.err().message());
    if (source->family() != AF_INET || s.target.family() != AF_INET) {
      return fail("--write-pcap writes IPv4 packets: --target and --pcap-source must be IPv4 addresses");
    }
    const auto v4 = [](const dp::endpoint& e) {
      sockaddr_in address{};  // copied: a sockaddr* need not be aligned for a sockaddr_in
      std::memcpy(&address, e.address(), sizeof address);
      return ntohl(address.sin_addr.s_addr);
    };
    addressing.source_ip = v4(*source);
    addressing.source_port = source->port();
    addressing.destination_ip = v4(s.target);
    addressing.destination_port = s.target.port();
    if (auto mac = loadgen::parse_mac(pcap_source_mac, addressing.source_mac); !mac) {
      return fail("--pcap-source-mac " + mac.err().message());
    }
    if (auto mac = loadgen::parse_mac(pcap_destination_mac, addressing.destination_mac); !mac) {
      return fail("--pcap-destination-mac " + mac.err().message());
    }
    auto writer = loadgen::pcap_writer::create(pcap_path, addressing);
    if (!writer) return fail("--write-pcap " + writer.err().message());
    pcap.emplace(std::move(*writer));
  }
  // Bound now, so that a --source this machine does not have fails before the signing.
  std::optional<dp::udp_socket> send_socket;
  if (!pcap) {
    auto opened = dp::udp_socket::open({s.source, false, 16u << 20});
    if (!opened) return fail((source_address.empty() ? "" : "--source ") + opened.err().message());
    send_socket.emplace(std::move(*opened));
  }
  if (!control_socket.empty()) {
    if (auto probe = loadgen::read_ferry_counters(control_socket); !probe) {
      return fail("--control-socket " + probe.err().message());
    }
  }

  const std::uint32_t run =
      run_id != 0 ? run_id : static_cast<std::uint32_t>(platform::portable::monotonic_ns() ^ traffic_options.seed);
  const std::uint64_t presign_start = platform::portable::monotonic_ns();
  auto pool_built = loadgen::presigned_pool::build(*traffic, run, units, s.packing.frame_flags, sign_threads);
  if (!pool_built) return fail(pool_built.err().message());
  const loadgen::presigned_pool& pool = *pool_built;
  const double presign_seconds = static_cast<double>(platform::portable::monotonic_ns() - presign_start) / 1e9;
  std::fprintf(stderr, "ferry-loadgen: signed %llu messages (%.1f MiB) in %.3f s on %u thread(s): %.1f us a message\n",
               static_cast<unsigned long long>(pool.size()), static_cast<double>(pool.arena_bytes()) / (1 << 20),
               presign_seconds, sign_threads, presign_seconds * 1e6 / static_cast<double>(pool.size()));

  if (pcap) return write_pcap(s, pool, *pcap, pcap_path, run, presign_seconds);

  auto sink_socket = dp::udp_socket::open({s.sink, false, 16u << 20});
  if (!sink_socket) return fail(sink_socket.err().message());
  auto buffers = dp::placed<dp::buffer_pool>::create("receive buffers", platform::page_size::normal,
                                                     dp::udp_socket::max_burst, dp::buffer_pool::max_data_size);
  if (!buffers) return fail(buffers.err().message());

  if (wait_for_signal) {
    std::fprintf(stderr, "ferry-loadgen: ready: sending on SIGUSR1\n");
    int taken = 0;
    sigwait(&start_signal, &taken);
  }
  std::optional<loadgen::ferry_counters> ferry_before;
  if (!control_socket.empty()) {
    auto counters = loadgen::read_ferry_counters(control_socket);
    if (!counters) return fail("--control-socket " + counters.err().message());
    ferry_before = std::move(*counters);
  }

  send_times sent_at(static_cast<std::size_t>(pool.size()));
  const platform::tick_rate rate = platform::tick_rate::calibrate();
  receiver rx(std::move(*sink_socket), std::move(*buffers), pool, sent_at, run, rate);
  rx.start();
  sender tx(s, *send_socket, pool, sent_at);
  const send_totals sent = tx.run();

  // Wait for what is still in flight: until everything valid has arrived, or nothing has for drain_ms.
  const std::uint64_t expected = sent.units[0] - sent.failed_units[0];
  const std::uint64_t drain_start = platform::portable::monotonic_ns();
  for (;;) {
    const std::uint64_t now = platform::portable::monotonic_ns();
    const std::uint64_t quiet_since = std::max(rx.last_arrival_ns(), drain_start);
    if (rx.delivered() >= expected || now - quiet_since > std::uint64_t{s.drain_ms} * 1'000'000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  rx.stop();

  std::uint64_t total_units = 0;
  std::uint64_t failed_units = 0;
  for (std::size_t c = 0; c < loadgen::category_count; ++c) {
    total_units += sent.units[c];
    failed_units += sent.failed_units[c];
  }

  // ferryd publishes a burst's counters after handling it: wait (boundedly) until it has counted every message
  // that left, since those after the last valid one may still be in hand.
  std::optional<loadgen::ferry_counters> ferry;
  if (ferry_before) {
    const std::uint64_t deadline = platform::portable::monotonic_ns() + 1'000'000'000;
    for (;;) {
      auto after = loadgen::read_ferry_counters(control_socket);
      if (!after) return fail("--control-socket " + after.err().message());
      ferry = loadgen::since(*ferry_before, *after);
      if (ferry->rx >= total_units - failed_units || platform::portable::monotonic_ns() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  const std::uint64_t delivered = rx.delivered();
  const double seconds = sent.seconds > 0 ? sent.seconds : 1e-9;
  // Over the sending time, a router slower than the sender looks faster than it is: the rate to the last valid
  // message's arrival is what it forwarded.
  const double delivery_seconds =
      rx.last_delivery_ns() > sent.start_ns ? static_cast<double>(rx.last_delivery_ns() - sent.start_ns) / 1e9 : 0.0;
  const double delivery_rate = delivery_seconds > 0 ? static_cast<double>(delivered) / delivery_seconds : 0.0;
  const auto& h = rx.latency;
  if (s.json) {
    nlohmann::ordered_json doc;
    doc["seconds"] = sent.seconds;
    doc["sent"] = sent_json(sent);
    doc["delivered"] = delivered;
    doc["missing"] = expected - std::min(expected, delivered);
    doc["unexpected"] = rx.unexpected;
    doc["duplicates"] = rx.duplicates;
    doc["foreign"] = rx.foreign;
    doc["delivered_per_second"] = static_cast<double>(delivered) / seconds;
    doc["latency_us"] = {{"p50", static_cast<double>(h.quantile(0.5)) / 1e3},
                         {"p90", static_cast<double>(h.quantile(0.9)) / 1e3},
                         {"p99", static_cast<double>(h.quantile(0.99)) / 1e3},
                         {"p999", static_cast<double>(h.quantile(0.999)) / 1e3},
                         {"max", static_cast<double>(h.max()) / 1e3},
                         {"min", static_cast<double>(h.min()) / 1e3},
                         {"mean", h.mean() / 1e3},
                         {"p9999", static_cast<double>(h.quantile(0.9999)) / 1e3},
                         {"samples", h.count()}};
    doc["sent_per_second"] = static_cast<double>(total_units) / seconds;
    doc["delivery_seconds"] = delivery_seconds;
    doc["delivery_rate"] = delivery_rate;
    doc["presign_seconds"] = presign_seconds;
    doc["run"] = run;
    if (ferry) {
      doc["ferry_rx"] = ferry->rx;
      doc["ferry_forwarded"] = ferry->forwarded;
      nlohmann::ordered_json drops = nlohmann::ordered_json::object();
      for (const auto& [reason, n] : ferry->drops) drops[reason] = n;
      doc["ferry_drops"] = std::move(drops);
    }
    std::cout << doc.dump() << '\n';
    return 0;
  }
  std::printf("ferry-loadgen: sent %llu messages in %llu datagrams over %.2f s (%.0f/s) to %s\n",
              static_cast<unsigned long long>(total_units), static_cast<unsigned long long>(sent.datagrams),
              sent.seconds, static_cast<double>(total_units) / seconds, s.target.to_string().c_str());
  print_mix(sent);
  std::printf("  delivered    %llu of %llu valid (%.2f%%), %.0f/s, at %s; %.0f/s until the last arrived (%.2f s)\n",
              static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(expected),
              expected == 0 ? 100.0 : 100.0 * static_cast<double>(delivered) / static_cast<double>(expected),
              static_cast<double>(delivered) / seconds, s.sink.to_string().c_str(), delivery_rate, delivery_seconds);
  std::printf("  latency      p50 %s   p90 %s   p99 %s   p99.9 %s   max %s\n", microseconds(h.quantile(0.5)).c_str(),
              microseconds(h.quantile(0.9)).c_str(), microseconds(h.quantile(0.99)).c_str(),
              microseconds(h.quantile(0.999)).c_str(), microseconds(h.max()).c_str());
  std::printf("  problems     %llu missing, %llu unexpected, %llu duplicated, %llu not from this run\n",
              static_cast<unsigned long long>(expected - std::min(expected, delivered)),
              static_cast<unsigned long long>(rx.unexpected), static_cast<unsigned long long>(rx.duplicates),
              static_cast<unsigned long long>(rx.foreign));
  if (ferry) {
    std::printf("  ferryd       received %llu, forwarded %llu, dropped %llu",
                static_cast<unsigned long long>(ferry->rx), static_cast<unsigned long long>(ferry->forwarded),
                static_cast<unsigned long long>(ferry->dropped()));
    const char* separator = ": ";
    for (const auto& [reason, n] : ferry->drops) {
      if (n == 0) continue;
      std::printf("%s%llu %s", separator, static_cast<unsigned long long>(n), reason.c_str());
      separator = ", ";
    }
    std::printf("\n");
  }
  return 0;
}

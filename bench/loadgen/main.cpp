// ferry-loadgen: drives a ferry router over UDP with a mix of messages, receives what it forwards, and reports the
// delivered rate and latency (from the send time each message carries) and anything lost, unexpected or repeated.

#include <sys/prctl.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/platform/clock.hpp"
#include "latency_histogram.hpp"
#include "traffic.hpp"

namespace {

using namespace ferry;
using loadgen::category;

struct settings {
  dp::endpoint target;
  dp::endpoint sink;
  double rate = 100000;  // units per second; 0: as fast as possible
  double duration = 5;   // seconds, when count is 0
  std::uint64_t count = 0;
  std::uint32_t messages_per_frame = 8;
  std::size_t frame_bytes = 1472;
  std::uint32_t batch = 32;  // datagrams per sendmmsg
  std::uint32_t drain_ms = 500;
  bool json = false;
};

// What the receiving side saw. Written by the receiver thread; read by main after it stops, or as atomics while it
// runs.
class receiver {
 public:
  receiver(dp::udp_socket socket, dp::placed<dp::buffer_pool> pool, const loadgen::traffic& traffic,
           std::uint32_t run, platform::tick_rate rate)
      : _socket(std::move(socket)), _pool(std::move(pool)), _traffic(traffic), _run(run), _rate(rate) {}

  void start() { _thread = std::thread([this] { loop(); }); }
  void stop() {
    _stop.store(true, std::memory_order_relaxed);
    if (_thread.joinable()) _thread.join();
  }

  std::uint64_t delivered() const noexcept { return _delivered.load(std::memory_order_relaxed); }
  std::uint64_t last_arrival_ns() const noexcept { return _last_arrival_ns.load(std::memory_order_relaxed); }

  // After stop():
  std::uint64_t duplicates = 0;  // a valid message that arrived again
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
      for (std::uint32_t i = 0; i < got; ++i) take(*buffers[i], now);
      if (got != 0) _last_arrival_ns.store(platform::portable::monotonic_ns(), std::memory_order_relaxed);
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
      if (!s || s->run != _run) {
        ++foreign;
        continue;
      }
      if (_traffic.describe(s->sequence).what != category::valid) {
        ++unexpected;
        continue;
      }
      const auto word = static_cast<std::size_t>(s->sequence / 64);
      if (word >= _seen.size()) _seen.resize(std::max(word + 1, _seen.size() * 2), 0);
      const std::uint64_t bit = std::uint64_t{1} << (s->sequence % 64);
      if ((_seen[word] & bit) != 0) {
        ++duplicates;
        continue;
      }
      _seen[word] |= bit;
      _delivered.store(_delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      latency.record(now > s->sent_ticks ? static_cast<std::uint64_t>(_rate.to_ns(now - s->sent_ticks)) : 0);
    }
  }

  dp::udp_socket _socket;
  dp::placed<dp::buffer_pool> _pool;
  const loadgen::traffic& _traffic;
  std::uint32_t _run;
  platform::tick_rate _rate;
  std::vector<std::uint64_t> _seen;  // one bit per sequence number delivered
  std::atomic<std::uint64_t> _delivered{0};
  std::atomic<std::uint64_t> _last_arrival_ns{0};
  std::atomic<bool> _stop{false};
  std::thread _thread;
};

struct send_totals {
  std::uint64_t units[loadgen::category_count] = {};
  std::uint64_t datagrams = 0;
  std::uint64_t failed_units[loadgen::category_count] = {};  // in datagrams the kernel refused to send
  double seconds = 0;
};

// Builds and sends the stream, paced to settings.rate.
class sender {
 public:
  sender(const settings& s, dp::udp_socket& socket, const loadgen::traffic& traffic, std::uint32_t run)
      : _settings(s), _socket(socket), _traffic(traffic), _run(run),
        _space(std::size_t{s.batch} * s.frame_bytes + loadgen::max_payload * 2) {}

  send_totals run() {
    prctl(PR_SET_TIMERSLACK, 1000UL);  // sleeps end within a microsecond of when asked, not the default 50
    const std::uint64_t start = platform::portable::monotonic_ns();
    const std::uint64_t end_ns = start + static_cast<std::uint64_t>(_settings.duration * 1e9);
    std::uint64_t sequence = 0;
    for (;;) {
      const std::uint64_t now = platform::portable::monotonic_ns();
      const bool by_count = _settings.count != 0;
      if (by_count ? sequence >= _settings.count : now >= end_ns) break;
      std::uint64_t due = _settings.rate > 0
                              ? static_cast<std::uint64_t>(static_cast<double>(now - start) * _settings.rate / 1e9) + 1
                              : sequence + std::uint64_t{_settings.batch} * _settings.messages_per_frame;
      if (by_count) due = std::min(due, _settings.count);
      if (sequence >= due) {
        // Ahead of schedule: sleep until the next unit is due (at most 200 us), leaving the core to the receiver.
        const double next_ns = static_cast<double>(sequence) * 1e9 / _settings.rate;
        const double wait_ns = std::clamp(next_ns - static_cast<double>(now - start), 1000.0, 200000.0);
        const timespec pause{0, static_cast<long>(wait_ns)};
        nanosleep(&pause, nullptr);
        continue;
      }
      sequence = send_batch(sequence, due);
    }
    _totals.seconds = static_cast<double>(platform::portable::monotonic_ns() - start) / 1e9;
    return _totals;
  }

 private:
  struct datagram {
    std::size_t offset;
    std::size_t size;
    std::uint64_t units[loadgen::category_count];
  };

  // Fills up to `batch` datagrams with units [first, due) and sends them; returns the next unit.
  std::uint64_t send_batch(std::uint64_t first, std::uint64_t due) {
    _datagrams.clear();
    std::size_t used = 0;
    std::uint64_t sequence = first;
    std::optional<dp::frame_writer> frame;
    datagram open{};
    const auto close_frame = [&] {
      if (!frame || frame->message_count() == 0) return;
      open.size = frame->finish().size();
      used += open.size;
      _datagrams.push_back(open);
      frame.reset();
    };
    std::byte body[loadgen::max_payload + 2048];
    while (sequence < due && _datagrams.size() < _settings.batch) {
      const loadgen::unit u = _traffic.describe(sequence);
      const loadgen::stamp s{_run, sequence, platform::cycle_ticks()};
      const auto what = static_cast<std::size_t>(u.what);
      if (u.own_datagram) {
        close_frame();  // it is written where the open frame would grow
        if (_datagrams.size() >= _settings.batch) break;
        const std::size_t size =
            _traffic.write_broken_datagram(u, s, std::span(_space).subspan(used, _settings.frame_bytes));
        datagram alone{used, size, {}};
        alone.units[what] = 1;
        _datagrams.push_back(alone);
        used += size;
        ++sequence;
        continue;
      }
      std::uint8_t kind = 0;
      const std::size_t size = u.what == category::malformed ? _traffic.write_malformed_message(u, s, body, kind)
                               : u.what == category::forged  ? _traffic.write_forged_message(u.where, s, body)
                                                             : _traffic.write_message(u.where, s, body);
      if (u.what != category::malformed) kind = static_cast<std::uint8_t>(u.where.kind);
      if (frame && (frame->message_count() >= _settings.messages_per_frame || frame->room() < size)) close_frame();
      if (!frame) {
        if (_datagrams.size() >= _settings.batch) break;
        frame.emplace(std::span(_space).subspan(used, std::max(_settings.frame_bytes, size + 64)),
                      dp::frame_header{});
        open = datagram{used, 0, {}};
      }
      frame->add(kind, {body, size});
      ++open.units[what];
      ++sequence;
    }
    close_frame();

    mmsghdr messages[64];
    iovec iov[64];
    for (std::size_t i = 0; i < _datagrams.size(); ++i) {
      iov[i] = {_space.data() + _datagrams[i].offset, _datagrams[i].size};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = const_cast<sockaddr*>(_settings.target.address());
      messages[i].msg_hdr.msg_namelen = _settings.target.length();
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const auto n = static_cast<std::uint32_t>(_datagrams.size());
    std::uint32_t done = 0;
    while (done < n) {
      done += _socket.send(messages + done, n - done);
      if (done < n) {  // refused: its units never left
        for (std::size_t c = 0; c < loadgen::category_count; ++c) _totals.failed_units[c] += _datagrams[done].units[c];
        ++done;
      }
    }
    for (const datagram& d : _datagrams) {
      for (std::size_t c = 0; c < loadgen::category_count; ++c) _totals.units[c] += d.units[c];
    }
    _totals.datagrams += n;
    return sequence;
  }

  const settings& _settings;
  dp::udp_socket& _socket;
  const loadgen::traffic& _traffic;
  std::uint32_t _run;
  std::vector<std::byte> _space;
  std::vector<datagram> _datagrams;
  send_totals _totals;
};

std::string microseconds(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f us", static_cast<double>(ns) / 1e3);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-loadgen: sends a mix of messages to a ferry router and measures what it forwards"};
  settings s;
  std::string target = "127.0.0.1:7700";
  std::string sink = "127.0.0.1:7701";
  std::string mix = "valid=85,unroutable=5,malformed=5,forged=5";
  std::string valid_flows = "wormhole:2:0,wormhole:1:0,hyperlane:1:42161,hyperlane:10:42161,layerzero:30101:30102,"
                            "opaque:7:8";
  std::string unroutable_flows = "wormhole:65000:0,hyperlane:1:999999,layerzero:30101:30999";
  loadgen::traffic_options traffic_options;
  app.add_option("--target", target, "The router's listening address")->capture_default_str();
  app.add_option("--sink", sink, "Where to receive what the router forwards (its next hop)")->capture_default_str();
  app.add_option("--rate", s.rate, "Messages per second; 0 sends as fast as possible")->capture_default_str();
  app.add_option("--duration", s.duration, "Seconds to send for (unless --count)")->capture_default_str();
  app.add_option("--count", s.count, "Send exactly this many messages instead of for a duration");
  app.add_option("--mix", mix, "Relative weights of valid, unroutable, malformed and forged messages")
      ->capture_default_str();
  app.add_option("--valid-flows", valid_flows, "kind:source:destination,... the router routes")
      ->capture_default_str();
  app.add_option("--unroutable-flows", unroutable_flows, "kind:source:destination,... no route matches")
      ->capture_default_str();
  app.add_option("--messages-per-frame", s.messages_per_frame, "Most messages in one frame")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--frame-bytes", s.frame_bytes, "Largest frame to send")->capture_default_str()
      ->check(CLI::Range(64, 65000));
  app.add_option("--payload", traffic_options.payload_size, "Payload bytes per message")->capture_default_str();
  app.add_option("--seed", traffic_options.seed, "Seed of the message mix")->capture_default_str();
  app.add_option("--drain-ms", s.drain_ms, "After sending, wait this long for stragglers")->capture_default_str();
  app.add_flag("--json", s.json, "Print the report as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
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
  traffic_options.weights = *weights;
  traffic_options.valid_flows = *valid;
  traffic_options.unroutable_flows = *unroutable;
  auto traffic = loadgen::traffic::create(traffic_options);
  if (!traffic) return fail(traffic.err().message());

  auto sink_socket = dp::udp_socket::open({s.sink, false, 16u << 20});
  if (!sink_socket) return fail(sink_socket.err().message());
  auto pool = dp::placed<dp::buffer_pool>::create("receive buffers", platform::page_size::normal,
                                                  dp::udp_socket::max_burst, dp::buffer_pool::max_data_size);
  if (!pool) return fail(pool.err().message());
  auto any = dp::endpoint::parse(s.target.family() == AF_INET6 ? "[::]:0" : "0.0.0.0:0");
  auto send_socket = dp::udp_socket::open({*any, false, 16u << 20});
  if (!send_socket) return fail(send_socket.err().message());

  const platform::tick_rate rate = platform::tick_rate::calibrate();
  const auto run = static_cast<std::uint32_t>(platform::portable::monotonic_ns() ^ traffic_options.seed);
  receiver rx(std::move(*sink_socket), std::move(*pool), *traffic, run, rate);
  rx.start();
  sender tx(s, *send_socket, *traffic, run);
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

  const std::uint64_t delivered = rx.delivered();
  std::uint64_t total_units = 0;
  std::uint64_t failed_units = 0;
  for (std::size_t c = 0; c < loadgen::category_count; ++c) {
    total_units += sent.units[c];
    failed_units += sent.failed_units[c];
  }
  const double seconds = sent.seconds > 0 ? sent.seconds : 1e-9;
  const auto& h = rx.latency;
  if (s.json) {
    nlohmann::ordered_json doc;
    doc["seconds"] = sent.seconds;
    doc["sent"] = {{"messages", total_units}, {"datagrams", sent.datagrams},
                   {"valid", sent.units[0]},  {"unroutable", sent.units[1]},
                   {"malformed", sent.units[2]}, {"forged", sent.units[3]},  {"send_failed", failed_units}};
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
                         {"max", static_cast<double>(h.max()) / 1e3}};
    std::cout << doc.dump() << '\n';
    return 0;
  }
  std::printf("ferry-loadgen: sent %llu messages in %llu datagrams over %.2f s (%.0f/s) to %s\n",
              static_cast<unsigned long long>(total_units), static_cast<unsigned long long>(sent.datagrams),
              sent.seconds, static_cast<double>(total_units) / seconds, s.target.to_string().c_str());
  std::printf("  mix          %llu valid, %llu unroutable, %llu malformed, %llu forged\n",
              static_cast<unsigned long long>(sent.units[0]), static_cast<unsigned long long>(sent.units[1]),
              static_cast<unsigned long long>(sent.units[2]), static_cast<unsigned long long>(sent.units[3]));
  std::printf("  delivered    %llu of %llu valid (%.2f%%), %.0f/s, at %s\n",
              static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(expected),
              expected == 0 ? 100.0 : 100.0 * static_cast<double>(delivered) / static_cast<double>(expected),
              static_cast<double>(delivered) / seconds, s.sink.to_string().c_str());
  std::printf("  latency      p50 %s   p90 %s   p99 %s   p99.9 %s   max %s\n", microseconds(h.quantile(0.5)).c_str(),
              microseconds(h.quantile(0.9)).c_str(), microseconds(h.quantile(0.99)).c_str(),
              microseconds(h.quantile(0.999)).c_str(), microseconds(h.max()).c_str());
  std::printf("  problems     %llu missing, %llu unexpected, %llu duplicated, %llu not from this run\n",
              static_cast<unsigned long long>(expected - std::min(expected, delivered)),
              static_cast<unsigned long long>(rx.unexpected), static_cast<unsigned long long>(rx.duplicates),
              static_cast<unsigned long long>(rx.foreign));
  return 0;
}

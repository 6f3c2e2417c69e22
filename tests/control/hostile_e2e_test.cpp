// Adversarial end to end: one running ferryd (staged, over sockets) against senders on loopback addresses of their
// own (127.0.0.2, .3, ...), which mix honest traffic with forgeries, copies, malformed and oversize datagrams,
// mis-keyed frames and floods. Every valid message must arrive once and nothing else at all, the process must live
// through it, and its counters must put every message it received under the one outcome the test expects.
//
// The senders are flow-controlled on ferryd's own counters (a round of at most 200 datagrams, then a wait until
// `ferryctl stats` accounts for every message of it), so that loopback never has to drop one: every count below is
// exact, and every wait is bounded in time.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/verify/wormhole.hpp"
#include "support/bytes.hpp"
#include "support/child_process.hpp"
#include "support/guardians.hpp"
#include "support/listener.hpp"
#include "support/messages.hpp"
#include "support/policy.hpp"
#include "support/stats_json.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::child_process;
using testing::collector;
using testing::guardian_keys;
using testing::listener;
using testing::sealed;
using testing::to_hex;

constexpr std::uint8_t wormhole = 1, opaque = 4;

// Under a cross build the test, ferryd and ferryctl all run in an emulator, tens of times slower: fewer messages,
// longer waits.
bool emulated() { return !std::string_view(FERRY_TEST_EMULATOR).empty(); }

// A message body in a failure message: its size and first bytes.
std::string describe(const bytes& body) {
  return std::to_string(body.size()) + " bytes " +
         to_hex(std::span(body).first(std::min<std::size_t>(body.size(), 24))) + (body.size() > 24 ? "..." : "");
}

// A UDP socket bound to a loopback address of its own (a port the kernel picks): ferryd tells the senders apart by
// their source address, as it would hosts. All of 127.0.0.0/8 is loopback on Linux.
class loopback_sender {
 public:
  explicit loopback_sender(const std::string& host) : _host(host) {
    _fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    _bound = ::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1 &&
             ::bind(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int size = 1 << 20;  // room for the largest datagram, and a round of small ones
    ::setsockopt(_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  loopback_sender(const loopback_sender&) = delete;
  loopback_sender& operator=(const loopback_sender&) = delete;
  ~loopback_sender() { ::close(_fd); }

  bool bound() const noexcept { return _bound; }
  const std::string& host() const noexcept { return _host; }
  // True when the kernel took the whole datagram (an empty one included).
  bool send(const bytes& datagram, const dp::endpoint& to) const {
    return ::sendto(_fd, datagram.data(), datagram.size(), 0, to.address(), to.length()) ==
           static_cast<ssize_t>(datagram.size());
  }

 private:
  std::string _host;
  int _fd = -1;
  bool _bound = false;
};

// A link key of 32 random bytes under `id`.
dp::link_key random_link_key(std::uint16_t id, dp::link_mac mac = dp::link_mac::hmac_sha256) {
  std::random_device random;
  std::array<std::byte, 32> secret;
  for (std::byte& b : secret) b = static_cast<std::byte>(random() & 0xff);
  return dp::link_key(id, secret, 0, mac);
}

// A frame of `messages` whose header has `flags` (nothing else set).
bytes frame_flagged(std::uint8_t flags, const std::vector<testing::message>& messages) {
  bytes out(65536);
  dp::frame_header header;
  header.flags = flags;
  dp::frame_writer writer(out, header);
  for (const testing::message& m : messages) EXPECT_TRUE(writer.add(m.kind, m.body, m.flags));
  out.resize(writer.finish().size());
  return out;
}

// A frame written byte by byte, so that it can say what a frame_writer would refuse to: a header (magic "FY"),
// then messages as given, each with the length it claims.
struct raw_message {
  std::uint8_t kind;
  std::uint8_t flags;
  std::uint16_t claimed_length;
  bytes body;
};
bytes raw_frame(std::uint8_t version, std::uint8_t flags, std::uint16_t count, std::uint16_t key_id,
                const std::vector<raw_message>& messages) {
  bytes out(dp::frame_header_size);
  out[0] = std::byte{'F'};
  out[1] = std::byte{'Y'};
  out[2] = std::byte{version};
  out[3] = std::byte{flags};
  out[4] = static_cast<std::byte>(count >> 8);
  out[5] = static_cast<std::byte>(count & 0xff);
  out[6] = static_cast<std::byte>(key_id >> 8);
  out[7] = static_cast<std::byte>(key_id & 0xff);
  for (const raw_message& m : messages) {
    out.push_back(std::byte{m.kind});
    out.push_back(std::byte{m.flags});
    out.push_back(static_cast<std::byte>(m.claimed_length >> 8));
    out.push_back(static_cast<std::byte>(m.claimed_length & 0xff));
    out.insert(out.end(), m.body.begin(), m.body.end());
  }
  return out;
}

// What /proc/<pid>/stat says of a process (proc(5)): its CPU time and when it started, in clock ticks.
struct process_times {
  std::uint64_t cpu_ticks = 0;    // utime + stime
  std::uint64_t start_ticks = 0;  // starttime: since boot, so it tells one process from a later one with its pid
};
std::optional<process_times> read_times(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  const std::size_t name_end = text.rfind(')');  // the command name may hold spaces and parentheses
  if (name_end == std::string::npos || name_end + 2 > text.size()) return std::nullopt;
  std::istringstream rest(text.substr(name_end + 2));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 20) return std::nullopt;
  return process_times{std::stoull(fields[11]) + std::stoull(fields[12]), std::stoull(fields[19])};
}

// The lines of /proc/<pid>/status, by name ("Uid" -> "0\t0\t0\t0").
std::map<std::string, std::string> read_status(pid_t pid) {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t value = colon + 1;
    while (value < line.size() && (line[value] == '\t' || line[value] == ' ')) ++value;
    out[line.substr(0, colon)] = line.substr(value);
  }
  return out;
}

// What ferryd must make of what the test sent: for each outcome ("forwarded" or a drop reason), the cases that end
// there and how many messages each, so that a count that is off names the cases behind it.
class ledger {
 public:
  void add(const std::string& outcome, const std::string& what, std::uint64_t messages) {
    _cases[outcome][what] += messages;
    _rx += messages;
  }
  std::uint64_t rx() const noexcept { return _rx; }
  std::uint64_t count(const std::string& outcome) const {
    std::uint64_t n = 0;
    if (const auto it = _cases.find(outcome); it != _cases.end()) {
      for (const auto& [what, messages] : it->second) n += messages;
    }
    return n;
  }
  std::string cases(const std::string& outcome) const {
    const auto it = _cases.find(outcome);
    if (it == _cases.end()) return "(the test sent nothing that should end there)";
    std::string out;
    for (const auto& [what, messages] : it->second) out += "\n  " + what + ": " + std::to_string(messages);
    return out;
  }
  const std::map<std::string, std::map<std::string, std::uint64_t>>& all() const noexcept { return _cases; }

 private:
  std::map<std::string, std::map<std::string, std::uint64_t>> _cases;
  std::uint64_t _rx = 0;
};

// One outcome of a datagram: `messages` of it end as `outcome` ("forwarded" or a drop reason), sent as `what`.
struct outcome {
  std::string name;
  std::string what;
  std::uint64_t messages = 1;
};

class HostileE2e : public ::testing::Test {
 protected:
  void SetUp() override { _socket = _dir.path() + "/ferryd.sock"; }

  static std::chrono::milliseconds patience() { return emulated() ? 120s : 15s; }

  std::vector<std::string> command(const char* program, std::vector<std::string> args) const {
    std::vector<std::string> argv = testing::emulator_prefix(FERRY_TEST_EMULATOR);
    argv.emplace_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Runs ferryctl on ferryd's socket to completion (bounded); its exit code, its stdout in `out` (and its stderr
  // after it, when it failed).
  int ferryctl(std::vector<std::string> args, std::string* out = nullptr) {
    args.insert(args.begin(), {"--socket", _socket});
    child_process child(command(FERRYCTL_PATH, std::move(args)), _dir.path() + "/ferryctl");
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(patience());
    EXPECT_TRUE(code.has_value()) << "ferryctl did not finish within " << patience().count() << " ms";
    if (out) *out = code == std::optional<int>(0) ? child.out() : child.out() + child.err();
    return code.value_or(-1);
  }
  // `ferryctl ARGS` as JSON; null (and a failure) when it does not answer.
  nlohmann::json ctl_json(const std::vector<std::string>& args) {
    std::string out;
    if (ferryctl(args, &out) != 0) {
      ADD_FAILURE() << "ferryctl " << args[0] << ": " << out << "\nferryd: " << ferryd_log();
      return nullptr;
    }
    return nlohmann::json::parse(out, nullptr, false);
  }
  std::string ferryd_log() const { return _ferryd ? _ferryd->err() : std::string("(not started)"); }

  // A link key file in the test's directory holding `key`'s secret as hex, mode 0600; its path.
  std::string write_key_file(const std::string& name, const dp::link_key& key) {
    const std::string path = _dir.path() + "/" + name;
    std::ofstream(path) << to_hex(key.secret()) << '\n';
    ::chmod(path.c_str(), 0600);
    return path;
  }

  // The [dataplane] table every test uses: staged over sockets, unpinned, on a port the kernel picks (read back from
  // `ferryctl status`), with `extra` fields.
  static std::string dataplane(const std::string& extra = "") {
    return "[dataplane]\nlisten = \"127.0.0.1:0\"\nbackend = \"socket\"\nlayout = \"staged\"\ncpu = \"none\"\n" +
           extra;
  }
  static std::string route(const std::string& name, const std::string& kind, const std::string& source,
                           const std::string& next_hop) {
    return "[[routes]]\nname = \"" + name + "\"\nkind = \"" + kind + "\"\nsource = " + source +
           "\ndestination = \"*\"\nnext_hop = \"" + next_hop + "\"\n";
  }
  // Writes the configuration: [control] with the test's socket, then `tables`; its path.
  std::string write_config(const std::string& tables) {
    const std::string path = _dir.path() + "/ferry.toml";
    std::ofstream(path) << "[control]\nsocket = \"" << _socket << "\"\n" << tables;
    return path;
  }

  // Starts ferryd on `config` and waits (bounded) until it answers; then reads where it listens and who it is.
  void start(const std::string& config, const std::string& stem = "ferryd") {
    _ferryd = std::make_unique<child_process>(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/" + stem);
    ASSERT_TRUE(_ferryd->started());
    const auto deadline = std::chrono::steady_clock::now() + patience();
    nlohmann::json status;
    std::string out;
    while (std::chrono::steady_clock::now() < deadline && _ferryd->running()) {
      if (ferryctl({"status"}, &out) == 0) {
        status = nlohmann::json::parse(out, nullptr, false);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(status.is_object()) << "ferryd did not come up: " << ferryd_log();
    const auto listening = dp::endpoint::parse(status["listen"].get<std::string>());
    ASSERT_TRUE(listening.ok()) << status.dump();
    _target = *listening;
    const auto times = read_times(_ferryd->pid());
    ASSERT_TRUE(times.has_value());
    _start_ticks = times->start_ticks;
  }

  // Ends the running ferryd with SIGKILL and waits (bounded) until it is gone.
  void kill_nine() {
    _ferryd->signal(SIGKILL);
    const auto code = _ferryd->wait_for(patience());
    ASSERT_EQ(code, std::optional<int>(128 + SIGKILL)) << "ferryd did not die of SIGKILL";
  }

  // The same process as start() saw is still running, and answers.
  void expect_same_process_serving() {
    ASSERT_TRUE(_ferryd->running()) << "ferryd exited: " << ferryd_log();
    const auto times = read_times(_ferryd->pid());
    ASSERT_TRUE(times.has_value());
    EXPECT_EQ(times->start_ticks, _start_ticks) << "pid " << _ferryd->pid() << " is another process now";
    std::string out;
    EXPECT_EQ(ferryctl({"status"}, &out), 0) << out;
  }

  // Sends one datagram now; records what ferryd must make of it.
  void send_now(const loopback_sender& from, const bytes& datagram, const std::vector<outcome>& outcomes) {
    ASSERT_TRUE(from.send(datagram, _target)) << "sending " << datagram.size() << " bytes from " << from.host();
    ++_datagrams;
    for (const outcome& o : outcomes) _sent.add(o.name, o.what, o.messages);
  }

  // Queues a datagram for the current round; a round goes out once it holds 200 datagrams or 400 messages (fewer
  // than ferryd's socket buffer and the rings between its stages hold), and waits until ferryd has counted it all.
  void queue(const loopback_sender& from, bytes datagram, std::vector<outcome> outcomes) {
    std::uint64_t messages = 0;
    for (const outcome& o : outcomes) messages += o.messages;
    if (!_pending.empty() && _pending_messages + messages > 400) {
      ASSERT_NO_FATAL_FAILURE(flush());
    }
    _pending.push_back({&from, std::move(datagram), std::move(outcomes)});
    _pending_messages += messages;
    if (_pending.size() >= 200 || _pending_messages >= 400) {
      ASSERT_NO_FATAL_FAILURE(flush());
    }
  }
  // Sends the round and waits for ferryd to account for it.
  void flush() {
    for (const pending& p : _pending) ASSERT_NO_FATAL_FAILURE(send_now(*p.from, p.datagram, p.outcomes));
    _pending.clear();
    _pending_messages = 0;
    ASSERT_NO_FATAL_FAILURE(settle());
  }

  // Waits (bounded) until ferryd has received every message sent so far and accounted for each; the stats then.
  void settle(nlohmann::json* last = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + patience();
    nlohmann::json stats;
    for (;;) {
      ASSERT_TRUE(_ferryd->running()) << "ferryd exited: " << ferryd_log();
      stats = ctl_json({"stats", "--json"});
      ASSERT_TRUE(stats.is_object());
      const std::uint64_t dropped = testing::total_drops(stats["drops"]);
      const auto rx = stats["rx"].get<std::uint64_t>(), forwarded = stats["forwarded"].get<std::uint64_t>();
      ASSERT_LE(rx, _sent.rx()) << "ferryd counted more messages than the test sent: " << stats.dump();
      if (rx == _sent.rx() && rx == forwarded + dropped) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "ferryd took in " << rx << " of " << _sent.rx() << " messages (" << forwarded + dropped
          << " accounted for): " << stats.dump();
      std::this_thread::sleep_for(5ms);
    }
    if (last) *last = std::move(stats);
  }

  // Every outcome's count in `stats` equals what the test sent of it, and rx == forwarded + sum(drops), for the
  // whole and for each stage.
  void expect_accounted(const nlohmann::json& stats) {
    EXPECT_EQ(stats["rx"].get<std::uint64_t>(), _sent.rx()) << stats.dump();
    EXPECT_EQ(stats["forwarded"].get<std::uint64_t>(), _sent.count("forwarded"))
        << "forwarded: expected from" << _sent.cases("forwarded");
    std::uint64_t dropped = 0;
    std::set<std::string> reasons;
    for (std::size_t r = 0; r < dp::drop_reason_count; ++r) {
      const std::string reason = dp::to_string(static_cast<dp::drop_reason>(r));
      reasons.insert(reason);
      ASSERT_TRUE(stats["drops"].contains(reason)) << reason << " missing from " << stats.dump();
      const auto count = stats["drops"][reason].get<std::uint64_t>();
      dropped += count;
      EXPECT_EQ(count, _sent.count(reason)) << "drops." << reason << ": expected from" << _sent.cases(reason);
    }
    for (const auto& [reason, count] : stats["drops"].items()) {
      EXPECT_TRUE(reasons.contains(reason)) << "a drop reason the test does not know: " << reason << " = " << count;
    }
    for (const auto& [name, cases] : _sent.all()) {
      EXPECT_TRUE(name == "forwarded" || reasons.contains(name)) << "the test expects an unknown outcome " << name;
    }
    EXPECT_EQ(stats["rx"].get<std::uint64_t>(), stats["forwarded"].get<std::uint64_t>() + dropped) << stats.dump();
    testing::expect_stages_account_for(stats, _sent.rx(), "staged");
  }

  // Waits (bounded) until `sink` holds at least `count` messages, then a little longer for any that should not come.
  static void wait_for_arrivals(collector& sink, std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + patience();
    while (sink.count() < count && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(300ms);
  }

  // Each body of `expected` arrived exactly once, and nothing else did.
  static void expect_arrivals(const std::vector<bytes>& arrived, const std::vector<bytes>& expected,
                              const std::string& where) {
    std::map<bytes, int> want, got;
    for (const bytes& b : expected) want[b]++;
    for (const bytes& b : arrived) got[b]++;
    ASSERT_EQ(want.size(), expected.size()) << "the test expects the same body twice at " << where;
    int missing = 0, repeated = 0, foreign = 0;
    std::string report;
    for (const auto& [body, n] : want) {
      const int g = got.contains(body) ? got[body] : 0;
      if (g == 0 && ++missing <= 5) report += "\n  missing: " + describe(body);
      if (g > 1 && ++repeated <= 5) report += "\n  arrived " + std::to_string(g) + " times: " + describe(body);
    }
    for (const auto& [body, n] : got) {
      if (!want.contains(body) && ++foreign <= 5) report += "\n  never sent as valid: " + describe(body);
    }
    EXPECT_EQ(arrived.size(), expected.size()) << where << report;
    EXPECT_EQ(missing, 0) << where << ": valid messages that never arrived" << report;
    EXPECT_EQ(repeated, 0) << where << ": valid messages that arrived more than once" << report;
    EXPECT_EQ(foreign, 0) << where << ": messages that arrived but were not valid (or not sent)" << report;
  }

  // Once a test has sent everything: waits for `delivered` at `sink` (named `where`), checks that each arrived once
  // and nothing else did, then waits until ferryd has accounted for every message sent and checks it did so right.
  void expect_delivered_and_accounted(collector& sink, const std::vector<bytes>& delivered, const std::string& where) {
    wait_for_arrivals(sink, delivered.size());
    sink.stop();
    expect_arrivals(sink.messages(), delivered, where);
    nlohmann::json stats;
    ASSERT_NO_FATAL_FAILURE(settle(&stats));
    expect_accounted(stats);
  }

  struct pending {
    const loopback_sender* from;
    bytes datagram;
    std::vector<outcome> outcomes;
  };

  testing::temp_dir _dir{"hostile"};  // first, so that it goes last: after ferryd (SIGKILL when still running)
  std::string _socket;
  std::unique_ptr<child_process> _ferryd;
  dp::endpoint _target;
  std::uint64_t _start_ticks = 0;
  ledger _sent;
  std::uint64_t _datagrams = 0;  // sent to ferryd
  std::vector<pending> _pending;
  std::uint64_t _pending_messages = 0;
};

// The smallest sequence of the VAAs in `datagram`, when it is a frame that holds one that reads.
std::optional<std::uint64_t> first_sequence(const bytes& datagram) {
  dp::frame_view frame;
  if (dp::parse_frame(datagram, frame) != dp::frame_status::ok) return std::nullopt;
  std::optional<std::uint64_t> first;
  for (const dp::message_ref m : frame) {
    verify::wormhole::vaa_view vaa;
    if (m.kind != wormhole || verify::wormhole::parse_vaa(m.body, vaa) != verify::parse_status::ok) continue;
    if (!first || vaa.sequence() < *first) first = vaa.sequence();
  }
  return first;
}

// A forged VAA: a valid one with one bit of its first signature's r flipped (so that it recovers to no key, or to
// another), or of its payload (so that the signature is of other bytes).
bytes forged(bytes vaa, bool in_signature) {
  // version u8 | guardian_set_index u32 | signature_count u8 | signatures (index u8 | r[32] | s[32] | v u8) | body
  const std::size_t at = in_signature ? 6 + 1 + 31 : vaa.size() - 1;
  vaa[at] ^= std::byte{0x01};
  return vaa;
}

TEST_F(HostileE2e, MixedHostileTrafficDeliversEveryValidMessageAndCountsEveryDrop) {
  const loopback_sender stranger("127.0.0.2"), keyed("127.0.0.3"), flooder("127.0.0.4");
  ASSERT_TRUE(stranger.bound() && keyed.bound() && flooder.bound()) << "cannot bind 127.0.0.2-4 (127/8 loopback)";
  listener sink_socket = listener::udp();
  collector sink(sink_socket);
  const dp::link_key key = random_link_key(1);
  const std::string key_file = write_key_file("keyed-1.key", key);
  constexpr std::uint64_t flood_burst = 5;
  // The flood's bucket: 5 at once, then a token every 1000 s, so that over the test's seconds exactly 5 pass.
  // Strangers (every sender no other peer lists) share one bucket, and the keyed peer has its own: both far above
  // what they send, so that their valid messages are within their share.
  ASSERT_NO_FATAL_FAILURE(start(write_config(
      dataplane("buffer_size = 2048\n") +
      "[[peers]]\nname = \"strangers\"\naddresses = [\"*\"]\nrate = 1000000.0\nburst = 100000\n"
      "[[peers]]\nname = \"keyed\"\naddresses = [\"" + keyed.host() + "\"]\nrate = 100000.0\nburst = 10000\n"
      "[[peers.link_keys]]\nid = 1\nfile = \"" + key_file + "\"\n"
      "[[peers]]\nname = \"flood\"\naddresses = [\"" + flooder.host() + "\"]\nrate = 0.001\nburst = " +
      std::to_string(flood_burst) + "\n" +
      route("wormhole-eth", "wormhole", "2", sink_socket.name()) +
      route("opaque-7", "opaque", "7", sink_socket.name()) +
      "[verify]\nwormhole_network = \"devnet\"\n")));

  const guardian_keys devnet = guardian_keys::devnet(), forger = guardian_keys::generated("hostile forger", 1);
  const bool slow = emulated();
  std::vector<bytes> delivered;  // every body that must arrive, once
  std::uint32_t next_opaque = 0;
  std::uint64_t next_sequence = 1;
  const auto fresh_opaque = [&](std::size_t payload = 8) {
    return testing::opaque_body(7, ++next_opaque, payload);
  };
  const auto fresh_vaa = [&](std::uint16_t chain = 2) { return devnet.vaa(0, chain, next_sequence++); };

  // Everything but the flood, the copies and the largest datagram, built first (signing is slow in sanitizer and
  // emulated builds) and then sent in a shuffled order.
  struct item {
    const loopback_sender* from;
    bytes datagram;
    std::vector<outcome> outcomes;
  };
  std::vector<item> items;
  const auto valid_frame = [&](const loopback_sender& from, std::vector<testing::message> messages,
                               const std::string& what, const dp::link_key* with = nullptr) {
    for (const testing::message& m : messages) delivered.push_back(m.body);
    const bytes frame = testing::frame_of(messages);
    items.push_back({&from, with ? sealed(frame, *with) : frame, {{"forwarded", what, messages.size()}}});
  };
  const auto hostile = [&](const loopback_sender& from, bytes datagram, std::vector<outcome> outcomes) {
    items.push_back({&from, std::move(datagram), std::move(outcomes)});
  };

  // Valid traffic: Wormhole VAAs (signed by the devnet guardian) and opaque envelopes, one to three a frame, from a
  // stranger and, authenticated, from the keyed peer.
  const int rounds = slow ? 8 : 40;
  std::vector<bytes> copies_later;  // valid VAAs to send again once they have passed
  for (int i = 0; i < rounds; ++i) {
    const bytes vaa = fresh_vaa();
    if (i % 4 == 0) copies_later.push_back(vaa);
    valid_frame(stranger, {{wormhole, vaa}}, "valid VAA from a stranger");
    valid_frame(stranger, {{opaque, fresh_opaque()}, {wormhole, fresh_vaa()}, {opaque, fresh_opaque(40)}},
                "valid messages, three to a frame, from a stranger");
    valid_frame(keyed, {{opaque, fresh_opaque()}, {wormhole, fresh_vaa()}}, "valid sealed messages from the keyed peer",
                &key);
  }
  // A frame of exactly buffer_size bytes is not oversize.
  const bytes full = fresh_opaque(2048 - dp::frame_header_size - dp::message_header_size - 8);
  valid_frame(stranger, {{opaque, full}}, "valid frame of exactly buffer_size bytes");
  EXPECT_EQ(items.back().datagram.size(), 2048u);
  // A stranger's tag is not checked (only peers with keys are): its messages pass on their own merits.
  {
    const bytes body = fresh_opaque();
    delivered.push_back(body);
    bytes frame = testing::frame_of({{opaque, body}});
    frame = sealed(frame, random_link_key(9));
    items.push_back({&stranger, frame, {{"forwarded", "valid message in a frame a stranger tagged (tag ignored)", 1}}});
  }

  // Forged: signatures broken in r, payloads changed after signing, VAAs signed by a key nobody trusts; alone, and
  // beside a valid message in one frame.
  for (int i = 0; i < (slow ? 2 : 4); ++i) {
    hostile(stranger, testing::frame_of({{wormhole, forged(fresh_vaa(), true)}}),
            {{"bad_signature", "forged: a bit of a signature's r flipped"}});
    hostile(stranger, testing::frame_of({{wormhole, forged(fresh_vaa(), false)}}),
            {{"bad_signature", "forged: a bit of the payload flipped after signing"}});
    hostile(stranger, testing::frame_of({{wormhole, forger.vaa(0, 2, next_sequence++)}}),
            {{"bad_signature", "forged: signed by an untrusted key"}});
    const bytes beside = fresh_opaque();
    delivered.push_back(beside);
    hostile(keyed, sealed(testing::frame_of({{wormhole, forged(fresh_vaa(), true)}, {opaque, beside}}), key),
            {{"bad_signature", "forged VAA beside a valid message (keyed peer)"},
             {"forwarded", "valid message beside a forged VAA (keyed peer)"}});
  }
  // Unroutable: routes cover opaque from 7 and Wormhole from chain 2 only.
  for (int i = 0; i < 3; ++i) {
    hostile(stranger, testing::frame_of({{opaque, testing::opaque_body(8, ++next_opaque)}}),
            {{"no_route", "opaque from source 8"}});
    hostile(stranger, testing::frame_of({{wormhole, fresh_vaa(3)}}), {{"no_route", "VAA from chain 3"}});
  }

  // Malformed, from a stranger. Every truncation of a good frame (the empty datagram included) is rejected whole.
  const bytes good_body = fresh_opaque(), good_vaa = fresh_vaa();
  const bytes good = testing::frame_of({{opaque, good_body}, {wormhole, good_vaa}});
  for (std::size_t length = 0; length < good.size(); ++length) {
    hostile(stranger, bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)),
            {{"malformed", "every truncation of a good frame"}});
  }
  delivered.push_back(good_body);
  delivered.push_back(good_vaa);
  items.push_back({&stranger, good, {{"forwarded", "the good frame itself, whole", 2}}});
  const auto raw = [](std::uint16_t kind, std::uint16_t length, const bytes& body, std::uint8_t flags = 0) {
    return raw_message{static_cast<std::uint8_t>(kind), flags, length, body};
  };
  const bytes body = fresh_opaque();  // never valid below: every frame holding it is refused whole
  const auto len = [](const bytes& b) { return static_cast<std::uint16_t>(b.size()); };
  hostile(stranger, raw_frame(1, 0, 1, 0, {raw(opaque, len(body) + 1, body)}),
          {{"malformed", "a message length one past the end"}});
  hostile(stranger, raw_frame(1, 0, 2, 0, {raw(opaque, len(body), body), raw(opaque, 0xffff, body)}),
          {{"malformed", "a second message's length past the end"}});
  hostile(stranger, raw_frame(1, 0, 3, 0, {raw(opaque, len(body), body), raw(opaque, len(body), body)}),
          {{"malformed", "message_count above the messages present"}});
  hostile(stranger, raw_frame(1, 0, 1, 0, {raw(opaque, len(body), body), raw(opaque, len(body), body)}),
          {{"malformed", "message_count below the messages present (trailing bytes)"}});
  hostile(stranger, raw_frame(1, 0, 0, 0, {}), {{"malformed", "no messages"}});
  hostile(stranger, raw_frame(1, 0, 0, 0, {raw(opaque, len(body), body)}),
          {{"malformed", "a message but a count of 0"}});
  hostile(stranger, raw_frame(1, 0, 1, 0, {raw(opaque, 0, {})}), {{"malformed", "a zero-length message"}});
  hostile(stranger, raw_frame(1, 0, 2, 0, {raw(opaque, len(body), body), raw(opaque, 0, {})}),
          {{"malformed", "a zero-length message after a good one"}});
  for (const std::uint8_t flags : std::initializer_list<std::uint8_t>{0x04, 0x80, 0xfc}) {
    hostile(stranger, raw_frame(1, flags, 1, 0, {raw(opaque, len(body), body)}),
            {{"malformed", "reserved frame flags"}});
  }
  hostile(stranger, raw_frame(1, 0, 1, 7, {raw(opaque, len(body), body)}),
          {{"malformed", "a key id without the authenticated flag"}});
  hostile(stranger, raw_frame(1, dp::frame_flag::authenticated, 1, 1, {raw(opaque, 4, bytes(4, std::byte{1}))}),
          {{"malformed", "authenticated but shorter than a header and a tag"}});
  for (const std::uint8_t version : std::initializer_list<std::uint8_t>{0, 2, 255}) {
    hostile(stranger, raw_frame(version, 0, 1, 0, {raw(opaque, len(body), body)}),
            {{"unsupported_version", "an unknown frame version"}});
  }
  {
    std::mt19937 noise(20240611);
    for (const std::size_t size : {1u, 2u, 15u, 16u, 17u, 100u, 1000u, 2048u}) {
      bytes garbage(size);
      for (std::byte& b : garbage) b = static_cast<std::byte>(noise() & 0xff);
      garbage[0] = std::byte{0x00};  // never "FY"
      hostile(stranger, garbage, {{"malformed", "garbage (no magic), up to buffer_size bytes"}});
    }
  }
  // Messages judged one by one inside a good frame.
  for (const std::uint8_t kind : std::initializer_list<std::uint8_t>{0, 6, 255}) {
    hostile(stranger, testing::frame_of({{kind, body}}), {{"unknown_kind", "an unknown message kind"}});
  }
  {
    const bytes beside = fresh_opaque();
    delivered.push_back(beside);
    hostile(stranger, testing::frame_of({{77, body}, {opaque, beside}}),
            {{"unknown_kind", "an unknown kind beside a valid message"},
             {"forwarded", "a valid message beside an unknown kind"}});
    const bytes after = fresh_opaque();
    delivered.push_back(after);
    hostile(stranger, testing::frame_of({{opaque, body, 0x01}, {opaque, after}}),
            {{"malformed", "reserved message flags beside a valid message"},
             {"forwarded", "a valid message beside one with reserved flags"}});
  }
  for (const std::uint8_t kind : std::initializer_list<std::uint8_t>{1, 2, 3, 4, 5}) {
    hostile(stranger, testing::frame_of({{kind, bytes(3, std::byte{0xee})}}),
            {{"malformed", "a body its kind's parser rejects"}});
  }
  {
    // As many messages as a 2048-byte buffer holds: 406 one-byte opaque bodies, each refused on its own.
    std::vector<testing::message> tiny;
    const std::size_t most = (2048 - dp::frame_header_size) / (dp::message_header_size + 1);
    for (std::size_t i = 0; i < most; ++i) tiny.push_back({opaque, bytes(1, std::byte{0x42})});
    hostile(stranger, testing::frame_of(tiny),
            {{"malformed", "the most messages a buffer holds, each too short", most}});
  }
  // Oversize: one byte past buffer_size, and 4000 bytes; each a frame that would otherwise be valid and routed.
  for (const std::size_t size : {2049u, 4000u}) {
    const std::size_t payload = size - dp::frame_header_size - dp::message_header_size - 8;
    hostile(stranger, testing::frame_of({{opaque, fresh_opaque(payload)}}),
            {{"oversize", "a datagram larger than buffer_size"}});
    EXPECT_EQ(items.back().datagram.size(), size);
  }

  // Mis-keyed, from the keyed peer's address: each dropped whole as bad_mac, one message, whatever it holds.
  const bytes plain = testing::frame_of({{opaque, fresh_opaque()}});
  const bytes three = testing::frame_of({{opaque, fresh_opaque()}, {opaque, fresh_opaque()}, {wormhole, fresh_vaa()}});
  hostile(keyed, plain, {{"bad_mac", "mis-keyed: no tag"}});
  hostile(keyed, three, {{"bad_mac", "mis-keyed: no tag, three messages"}});
  dp::link_key wrong_id = key;
  wrong_id.id = 2;
  hostile(keyed, sealed(plain, wrong_id), {{"bad_mac", "mis-keyed: the right secret under a wrong key id"}});
  dp::link_key zero_id = key;
  zero_id.id = 0;
  hostile(keyed, sealed(plain, zero_id), {{"bad_mac", "mis-keyed: the right secret under key id 0"}});
  hostile(keyed, sealed(three, random_link_key(1)), {{"bad_mac", "mis-keyed: the right key id, a wrong secret"}});
  {
    const bytes good_seal = sealed(plain, key);
    // One bit flipped anywhere the frame stays a frame: the sequence, the key id, the kind, the body, the tag.
    const std::size_t tag_at = good_seal.size() - dp::link_tag_size;
    for (const std::size_t at : {std::size_t{8}, std::size_t{15}, std::size_t{7}, dp::frame_header_size,
                                 dp::frame_header_size + dp::message_header_size, tag_at - 1, tag_at,
                                 good_seal.size() - 1}) {
      bytes flipped = good_seal;
      flipped[at] ^= static_cast<std::byte>(at == 7 ? 0x02 : 0x01);  // key id 1 -> 3, not 0
      hostile(keyed, flipped, {{"bad_mac", "mis-keyed: one bit flipped at byte " + std::to_string(at)}});
    }
    // A good tag, of another frame.
    bytes swapped = sealed(three, key);
    std::copy(good_seal.end() - dp::link_tag_size, good_seal.end(), swapped.end() - dp::link_tag_size);
    hostile(keyed, swapped, {{"bad_mac", "mis-keyed: another frame's tag"}});
  }

  // The flood: one peer far over its rate, beside everyone else. Its bucket starts full (5) and refills a token
  // every 1000 s, so the first 5 of its messages to arrive pass and every later one is refused; from one socket
  // the order of arrival is the order of sending.
  const std::size_t flood = slow ? 60 : 400;
  std::vector<bytes> flood_bodies;
  for (std::size_t i = 0; i < flood; ++i) flood_bodies.push_back(fresh_opaque(12));

  // Shuffled, but with the VAAs (all from one emitter) kept in the order of their sequences, moving everything else
  // around them: a replay window refuses a sequence 64 or more behind its channel's newest, and an emitter's
  // sequences do not come that far out of order.
  std::mt19937 order(7);
  std::shuffle(items.begin(), items.end(), order);
  {
    std::vector<std::size_t> slots;
    std::vector<std::pair<std::uint64_t, item>> sequenced;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (const auto sequence = first_sequence(items[i].datagram)) {
        slots.push_back(i);
        sequenced.emplace_back(*sequence, std::move(items[i]));
      }
    }
    std::stable_sort(sequenced.begin(), sequenced.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t k = 0; k < slots.size(); ++k) items[slots[k]] = std::move(sequenced[k].second);
  }
  std::size_t flooded = 0;
  const auto flood_some = [&](std::size_t n) -> void {
    for (std::size_t k = 0; k < n && flooded < flood_bodies.size(); ++k, ++flooded) {
      const bytes& b = flood_bodies[flooded];
      if (flooded < flood_burst) {
        delivered.push_back(b);
        ASSERT_NO_FATAL_FAILURE(queue(flooder, testing::frame_of({{opaque, b}}),
                                      {{"forwarded", "the flood's first messages (its burst)"}}));
      } else {
        ASSERT_NO_FATAL_FAILURE(queue(flooder, testing::frame_of({{opaque, b}}),
                                      {{"rate_limited_peer", "the flood beyond its burst (rate 0.001/s)"}}));
      }
    }
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(queue(*items[i].from, std::move(items[i].datagram), std::move(items[i].outcomes)));
    if (i % 2 == 0) {
      ASSERT_NO_FATAL_FAILURE(flood_some(1));
    }
  }
  ASSERT_NO_FATAL_FAILURE(flood_some(flood_bodies.size()));
  ASSERT_NO_FATAL_FAILURE(flush());

  // The largest UDP datagram there is, alone in its round.
  {
    const std::size_t largest = 65507;
    const bytes huge = testing::frame_of(
        {{opaque, fresh_opaque(largest - dp::frame_header_size - dp::message_header_size - 8)}});
    ASSERT_EQ(huge.size(), largest);
    ASSERT_NO_FATAL_FAILURE(send_now(stranger, huge, {{"oversize", "the largest UDP datagram (65507 bytes)"}}));
    ASSERT_NO_FATAL_FAILURE(settle());
  }

  // Copies of VAAs that have passed, byte for byte: refused by the verified-digest cache, from whoever sends them,
  // and a fresh VAA twice in one frame (the first passes, the second is its copy).
  for (const bytes& vaa : copies_later) {
    ASSERT_NO_FATAL_FAILURE(queue(stranger, testing::frame_of({{wormhole, vaa}}),
                                  {{"duplicate", "an exact copy of a forwarded VAA (stranger)"}}));
    ASSERT_NO_FATAL_FAILURE(queue(keyed, sealed(testing::frame_of({{wormhole, vaa}}), key),
                                  {{"duplicate", "an exact copy of a forwarded VAA (keyed peer, sealed)"}}));
  }
  {
    const bytes twice = fresh_vaa();
    delivered.push_back(twice);
    ASSERT_NO_FATAL_FAILURE(queue(stranger, testing::frame_of({{wormhole, twice}, {wormhole, twice}}),
                                  {{"forwarded", "a VAA sent twice in one frame: the first"},
                                   {"duplicate", "a VAA sent twice in one frame: the second"}}));
  }
  ASSERT_NO_FATAL_FAILURE(flush());

  // Every valid message once at the sink, nothing else; the counters: every outcome exactly what was sent of it.
  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(sink, delivered, "the sink"));
  EXPECT_GT(_sent.count("bad_mac"), 0u);
  EXPECT_EQ(_sent.count("rate_limited_peer"), flood - flood_burst);

  // Each peer's own counters, and every datagram seen by the socket backend (none lost below ferry).
  const nlohmann::json peers = ctl_json({"peers", "--json"});
  ASSERT_TRUE(peers.is_object());
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : peers["peers"]) by_name[p["name"].get<std::string>()] = p["counters"];
  EXPECT_EQ(by_name["keyed"]["bad_mac"].get<std::uint64_t>(), _sent.count("bad_mac")) << peers.dump();
  EXPECT_EQ(by_name["keyed"]["rate_limited"].get<std::uint64_t>(), 0u) << peers.dump();
  EXPECT_EQ(by_name["flood"]["rx"].get<std::uint64_t>(), flood) << peers.dump();
  EXPECT_EQ(by_name["flood"]["rate_limited"].get<std::uint64_t>(), flood - flood_burst) << peers.dump();
  EXPECT_EQ(by_name["strangers"]["rate_limited"].get<std::uint64_t>(), 0u) << peers.dump();
  EXPECT_EQ(by_name["strangers"]["bad_mac"].get<std::uint64_t>(), 0u) << "strangers have no keys: " << peers.dump();
  const nlohmann::json status = ctl_json({"status"});
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["io"]["rx_datagrams"].get<std::uint64_t>(), _datagrams) << status.dump();
  EXPECT_EQ(status["io"]["rx_lost"].get<std::uint64_t>(), 0u) << status.dump();

  // The same process all along, still serving.
  expect_same_process_serving();
}

TEST_F(HostileE2e, AVerifiedUpstreamMarkCountsOnlyOnAnAuthenticatedLink) {
  const loopback_sender upstream("127.0.0.3"), checked("127.0.0.4"), stranger("127.0.0.5");
  ASSERT_TRUE(upstream.bound() && checked.bound() && stranger.bound()) << "cannot bind 127.0.0.3-5";
  listener sink_socket = listener::udp();
  collector sink(sink_socket);
  const dp::link_key upstream_key = random_link_key(1), checked_key = random_link_key(1);
  ASSERT_NO_FATAL_FAILURE(start(write_config(
      dataplane() + "[[peers]]\nname = \"upstream\"\naddresses = [\"" + upstream.host() +
      "\"]\ntrust = \"verified-upstream\"\n[[peers.link_keys]]\nid = 1\nfile = \"" +
      write_key_file("upstream-1.key", upstream_key) + "\"\n" +
      "[[peers]]\nname = \"checked\"\naddresses = [\"" + checked.host() + "\"]\n[[peers.link_keys]]\nid = 1\n"
      "file = \"" + write_key_file("checked-1.key", checked_key) + "\"\n" +
      route("wormhole-eth", "wormhole", "2", sink_socket.name()) + "[verify]\nwormhole_network = \"devnet\"\n")));

  const guardian_keys devnet = guardian_keys::devnet();
  std::uint64_t sequence = 1;
  // A VAA whose signature does not hold (its payload changed after signing): verified, it is bad_signature.
  const auto broken = [&] { return forged(devnet.vaa(0, 2, sequence++), false); };
  const std::uint8_t marked = dp::frame_flag::verified_upstream;
  std::vector<bytes> delivered;

  // The trusted peer's authenticated, marked frames: forwarded without verifying, broken signatures and all.
  for (int i = 0; i < 3; ++i) {
    const bytes vaa = broken();
    delivered.push_back(vaa);
    ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(marked, {{wormhole, vaa}}), upstream_key),
                                  {{"forwarded", "marked and sealed by the verified-upstream peer: not verified"}}));
  }
  {
    const bytes a = broken(), b = devnet.vaa(0, 2, sequence++);
    delivered.push_back(a);
    delivered.push_back(b);
    ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(marked, {{wormhole, a}, {wormhole, b}}), upstream_key),
                                  {{"forwarded", "two marked and sealed by the verified-upstream peer", 2}}));
  }
  // The same marks without a good tag, from the trusted peer's own address: dropped whole.
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(queue(upstream, frame_flagged(marked, {{wormhole, broken()}}),
                                  {{"bad_mac", "marked but not sealed, from the verified-upstream peer's address"}}));
  }
  ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(marked, {{wormhole, broken()}}), random_link_key(1)),
                                {{"bad_mac", "marked, sealed with a wrong secret, from the verified-upstream peer"}}));
  ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(marked, {{wormhole, broken()}}), checked_key),
                                {{"bad_mac", "marked, sealed with another peer's key, from the trusted peer"}}));
  // The right key from anyone else: the mark is ignored, and the message verified.
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(queue(stranger, sealed(frame_flagged(marked, {{wormhole, broken()}}), upstream_key),
                                  {{"bad_signature", "marked and sealed with the trusted key, from a stranger"}}));
  }
  ASSERT_NO_FATAL_FAILURE(queue(stranger, frame_flagged(marked, {{wormhole, broken()}}),
                                {{"bad_signature", "marked, not sealed, from a stranger"}}));
  // A keyed peer whose trust is "verify": its good tag does not make the mark count.
  ASSERT_NO_FATAL_FAILURE(queue(checked, sealed(frame_flagged(marked, {{wormhole, broken()}}), checked_key),
                                {{"bad_signature", "marked and sealed by a keyed peer that is not trusted"}}));
  // The trusted peer without the mark: verified like anyone's.
  ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(0, {{wormhole, broken()}}), upstream_key),
                                {{"bad_signature", "sealed but not marked, from the verified-upstream peer"}}));
  {
    const bytes good = devnet.vaa(0, 2, sequence++);
    delivered.push_back(good);
    ASSERT_NO_FATAL_FAILURE(queue(upstream, sealed(frame_flagged(0, {{wormhole, good}}), upstream_key),
                                  {{"forwarded", "a valid VAA, sealed but not marked, from the trusted peer"}}));
  }
  ASSERT_NO_FATAL_FAILURE(flush());

  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(sink, delivered, "the sink"));
  const nlohmann::json peers = ctl_json({"peers", "--json"});
  ASSERT_TRUE(peers.is_object());
  for (const auto& p : peers["peers"]) {
    const std::uint64_t expected = p["name"] == "upstream" ? 5u : 0u;
    EXPECT_EQ(p["counters"]["bad_mac"].get<std::uint64_t>(), expected) << p.dump();
  }
  expect_same_process_serving();
}

// A link whose key encrypts: a running ferryd opens what its peer encrypted and delivers it, and refuses whole what
// does not open (an altered byte, another secret, the link's secret used as an HMAC key, a frame in clear).
TEST_F(HostileE2e, AnEncryptedLinkDeliversWhatOpensAndRefusesTheRest) {
  const loopback_sender peer("127.0.0.6");
  ASSERT_TRUE(peer.bound()) << "cannot bind 127.0.0.6";
  listener sink_socket = listener::udp();
  collector sink(sink_socket);
  constexpr dp::link_mac aead = dp::link_mac::chacha20_poly1305;
  const dp::link_key key = random_link_key(1, aead);
  ASSERT_NO_FATAL_FAILURE(start(write_config(
      dataplane() + "[[peers]]\nname = \"encrypting\"\naddresses = [\"" + peer.host() +
      "\"]\n[[peers.link_keys]]\nid = 1\nmac = \"chacha20-poly1305\"\nfile = \"" +
      write_key_file("encrypting-1.key", key) + "\"\n" + route("wormhole-eth", "wormhole", "2", sink_socket.name()) +
      "[verify]\nwormhole_network = \"devnet\"\n")));

  const guardian_keys devnet = guardian_keys::devnet();
  std::uint64_t sequence = 1;
  const auto one_vaa = [&] { return testing::frame_of({{wormhole, devnet.vaa(0, 2, sequence++)}}); };
  std::vector<bytes> delivered;
  for (int i = 0; i < 3; ++i) {
    const bytes a = devnet.vaa(0, 2, sequence++), b = devnet.vaa(0, 2, sequence++);
    delivered.push_back(a);
    delivered.push_back(b);
    ASSERT_NO_FATAL_FAILURE(queue(peer, sealed(testing::frame_of({{wormhole, a}, {wormhole, b}}), key),
                                  {{"forwarded", "two valid VAAs encrypted with the link's key", 2}}));
  }
  bytes altered = sealed(one_vaa(), key);
  altered[dp::frame_header_size + dp::link_nonce_size + 5] ^= std::byte{1};
  ASSERT_NO_FATAL_FAILURE(queue(peer, altered, {{"bad_mac", "encrypted, then a byte of ciphertext changed"}}));
  ASSERT_NO_FATAL_FAILURE(
      queue(peer, sealed(one_vaa(), random_link_key(1, aead)), {{"bad_mac", "encrypted with another secret"}}));
  ASSERT_NO_FATAL_FAILURE(queue(peer, sealed(one_vaa(), dp::link_key(1, key.secret())),
                                {{"bad_mac", "tagged in clear with the link's secret as an HMAC key"}}));
  ASSERT_NO_FATAL_FAILURE(queue(peer, one_vaa(), {{"bad_mac", "in clear, untagged, from the encrypting peer"}}));
  ASSERT_NO_FATAL_FAILURE(flush());

  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(sink, delivered, "the sink"));
  expect_same_process_serving();
}

TEST_F(HostileE2e, ReplaysAfterKillNineAreRejected) {
  const loopback_sender sender("127.0.0.2");
  ASSERT_TRUE(sender.bound());
  listener sink_socket = listener::udp();
  collector sink(sink_socket);
  // A guardian set of four (quorum three) of the test's own, so that one VAA can be signed by two different quorums.
  const guardian_keys guardians = guardian_keys::generated("hostile replay", 4);
  const std::string guardian_file = _dir.path() + "/guardian-set-0.txt";
  std::ofstream(guardian_file) << guardians.key_file();
  ::chmod(guardian_file.c_str(), 0644);
  const std::string config = write_config(
      "[state]\ndirectory = \"" + _dir.path() + "/state\"\n" + dataplane() +
      route("wormhole-eth", "wormhole", "2", sink_socket.name()) +
      "[verify]\nwormhole_network = \"none\"\n[[verify.wormhole]]\nindex = 0\nkeys_file = \"" + guardian_file + "\"\n");

  const std::uint64_t n = emulated() ? 4 : 12, m = emulated() ? 3 : 6;
  std::vector<bytes> first, again_signed, later;
  for (std::uint64_t s = 1; s <= n; ++s) first.push_back(guardians.vaa(0, 2, s, {0, 1, 2}));
  for (std::uint64_t s = 1; s <= 2; ++s) again_signed.push_back(guardians.vaa(0, 2, s, {1, 2, 3}));
  for (std::uint64_t s = n + 1; s <= n + m; ++s) later.push_back(guardians.vaa(0, 2, s, {0, 1, 2}));
  ASSERT_NE(first[0], again_signed[0]) << "two quorums must give two different VAAs";

  ASSERT_NO_FATAL_FAILURE(start(config, "ferryd-1"));
  for (const bytes& vaa : first) {
    ASSERT_NO_FATAL_FAILURE(
        queue(sender, testing::frame_of({{wormhole, vaa}}), {{"forwarded", "new sequences, before the kill"}}));
  }
  ASSERT_NO_FATAL_FAILURE(flush());
  // The same emitter and sequence as a forwarded VAA, signed by another quorum: valid, of other bytes (so no
  // duplicate), and refused by the replay window.
  ASSERT_NO_FATAL_FAILURE(queue(sender, testing::frame_of({{wormhole, again_signed[0]}}),
                                {{"replay", "a forwarded sequence signed by guardians {1,2,3} instead of {0,1,2}"}}));
  ASSERT_NO_FATAL_FAILURE(flush());
  wait_for_arrivals(sink, first.size());
  nlohmann::json stats;
  ASSERT_NO_FATAL_FAILURE(settle(&stats));
  expect_accounted(stats);
  expect_same_process_serving();
  const pid_t before = _ferryd->pid();

  // kill -9, at once: the windows must already be where a restart finds them.
  ASSERT_NO_FATAL_FAILURE(kill_nine());
  _sent = ledger{};  // a new process counts from zero
  _datagrams = 0;
  ASSERT_NO_FATAL_FAILURE(start(config, "ferryd-2"));
  EXPECT_NE(_ferryd->pid(), before);
  for (const bytes& vaa : first) {
    ASSERT_NO_FATAL_FAILURE(queue(sender, testing::frame_of({{wormhole, vaa}}),
                                  {{"replay", "a VAA forwarded before the kill, sent again after the restart"}}));
  }
  ASSERT_NO_FATAL_FAILURE(queue(sender, testing::frame_of({{wormhole, again_signed[1]}}),
                                {{"replay", "a sequence forwarded before the kill, signed by another quorum"}}));
  for (const bytes& vaa : later) {
    ASSERT_NO_FATAL_FAILURE(
        queue(sender, testing::frame_of({{wormhole, vaa}}), {{"forwarded", "new sequences, after the restart"}}));
  }
  ASSERT_NO_FATAL_FAILURE(flush());

  std::vector<bytes> delivered = first;
  delivered.insert(delivered.end(), later.begin(), later.end());
  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(sink, delivered, "the sink, over both runs"));
  expect_same_process_serving();
}

TEST_F(HostileE2e, ANextHopGoingAwayIsCountedAsTxErrorWithoutABusyLoop) {
  const loopback_sender sender("127.0.0.2");
  ASSERT_TRUE(sender.bound());
  const std::string path = _dir.path() + "/sink.sock";
  auto first_socket = std::make_unique<listener>(listener::unix_at(path));
  auto first = std::make_unique<collector>(*first_socket);
  ASSERT_NO_FATAL_FAILURE(
      start(write_config(dataplane() + route("local", "opaque", "7", first_socket->name()))));

  // A Unix datagram socket queues 10 datagrams (net.unix.max_dgram_qlen): rounds of 5, each waited for.
  std::uint32_t next = 0;
  const auto send_some = [&](int count, const std::string& outcome_name, const std::string& what,
                             std::vector<bytes>* delivered) -> void {
    for (int i = 0; i < count; ++i) {
      const bytes body = testing::opaque_body(7, ++next);
      if (delivered) delivered->push_back(body);
      ASSERT_NO_FATAL_FAILURE(send_now(sender, testing::frame_of({{opaque, body}}), {{outcome_name, what}}));
      if (i % 5 == 4) {
        ASSERT_NO_FATAL_FAILURE(settle());
      }
    }
    ASSERT_NO_FATAL_FAILURE(settle());
  };
  std::vector<bytes> before, after;
  ASSERT_NO_FATAL_FAILURE(send_some(20, "forwarded", "to the sink while it listens", &before));
  wait_for_arrivals(*first, before.size());
  first->stop();
  expect_arrivals(first->messages(), before, "the first sink");

  // The sink closes (its path stays: refused), then its path goes too (no such file).
  first.reset();
  first_socket.reset();
  ASSERT_NO_FATAL_FAILURE(send_some(10, "tx_error", "to a sink that closed", nullptr));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(send_some(10, "tx_error", "to a sink whose path is gone", nullptr));
  expect_same_process_serving();

  // Idle after the failures: ferryd must not spin on them. With poll = "adaptive" its threads nap 50 us at a time
  // (the receiving one sleeps until a datagram comes), a few percent of a core; a thread retrying in a busy loop
  // would take a whole core, about 2 s in 2 s. Under a second in two is a generous bound.
  nlohmann::json stats;
  ASSERT_NO_FATAL_FAILURE(settle(&stats));
  const auto tx_errors = stats["drops"]["tx_error"].get<std::uint64_t>();
  const auto idle_from = read_times(_ferryd->pid());
  const auto wall_from = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(2s);
  const auto idle_to = read_times(_ferryd->pid());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_from).count();
  ASSERT_TRUE(idle_from && idle_to);
  const double cpu = static_cast<double>(idle_to->cpu_ticks - idle_from->cpu_ticks) /
                     static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_LT(cpu, emulated() ? 1.5 : 1.0) << "ferryd used " << cpu << " s of CPU in " << wall << " s of idleness";
  RecordProperty("idle_cpu_seconds_in_2s", std::to_string(cpu));
  ASSERT_NO_FATAL_FAILURE(settle(&stats));
  EXPECT_EQ(stats["drops"]["tx_error"].get<std::uint64_t>(), tx_errors) << "nothing retried while idle";

  // The sink comes back at the same path: frames reach it again.
  listener second_socket = listener::unix_at(path);
  collector second(second_socket);
  ASSERT_NO_FATAL_FAILURE(send_some(20, "forwarded", "to the sink once it is back", &after));
  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(second, after, "the sink once back"));
  expect_same_process_serving();
}

TEST_F(HostileE2e, FerrydDropsRootAfterBinding) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: ferryd must start as root to drop it";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this machine";
  const std::string uid = std::to_string(nobody->pw_uid), gid = std::to_string(nobody->pw_gid);
  const loopback_sender sender("127.0.0.2");
  ASSERT_TRUE(sender.bound());
  listener sink_socket = listener::udp();
  collector sink(sink_socket);
  ASSERT_NO_FATAL_FAILURE(start(write_config("[process]\nuser = \"nobody\"\n" + dataplane() +
                                             route("opaque-7", "opaque", "7", sink_socket.name()))));

  // Real, effective, saved (and filesystem) ids all nobody's (65534 on Debian), no capability left, no group of
  // root's.
  const auto status = read_status(_ferryd->pid());
  EXPECT_EQ(status.at("Uid"), uid + "\t" + uid + "\t" + uid + "\t" + uid) << "Uid: real, effective, saved, fs";
  EXPECT_EQ(status.at("Gid"), gid + "\t" + gid + "\t" + gid + "\t" + gid) << "Gid: real, effective, saved, fs";
  EXPECT_EQ(status.at("CapEff"), "0000000000000000");
  EXPECT_EQ(status.at("CapPrm"), "0000000000000000");
  std::istringstream groups(status.at("Groups"));
  for (std::string g; groups >> g;) EXPECT_NE(g, "0") << "still in root's group: Groups: " << status.at("Groups");

  // And it still forwards.
  std::vector<bytes> delivered;
  for (std::uint32_t i = 1; i <= 10; ++i) {
    delivered.push_back(testing::opaque_body(7, i));
    ASSERT_NO_FATAL_FAILURE(
        queue(sender, testing::frame_of({{opaque, delivered.back()}}), {{"forwarded", "as nobody"}}));
  }
  ASSERT_NO_FATAL_FAILURE(flush());
  ASSERT_NO_FATAL_FAILURE(expect_delivered_and_accounted(sink, delivered, "the sink"));
  expect_same_process_serving();
}

}  // namespace
}  // namespace ferry::ctl

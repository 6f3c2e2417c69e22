// The control plane against a running router in this process: real backend, real stages and threads, real
// sockets on loopback; configurations written as in a file. What changes under live traffic: routes, limits,
// breakers, keys, guardian set upgrades.

#include "ferry/control/router.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/dataplane/frame.hpp"
#include "support/bytes.hpp"
#include "support/guardians.hpp"
#include "support/listener.hpp"
#include "support/messages.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::collector;
using testing::guardian_keys;
using testing::listener;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    _sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(_sender, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t n = sizeof a;
    ::getsockname(_sender, reinterpret_cast<sockaddr*>(&a), &n);
    _sender_address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  void TearDown() override {
    if (_router) _router->stop();
    _router.reset();
    ::close(_sender);
  }

  // A configuration: staged (io, verify, route: the rings and every stage in play) over sockets, devnet keys (and
  // the demo keys of the built-in default), then `rest` (routes, peers, ...). `verify` replaces the [verify] lines.
  std::string config_text(const std::string& rest, const std::string& verify = "wormhole_network = \"devnet\"\n") {
    return "[control]\nsocket = \"" + _dir.path() + "/ferryd.sock\"\n"
           "[dataplane]\nbackend = \"socket\"\nlisten = \"127.0.0.1:0\"\nlayout = \"staged\"\ncpu = \"none\"\n"
           "[verify]\n" + verify + rest;
  }
  config parse(const std::string& rest, const std::string& verify = "wormhole_network = \"devnet\"\n") {
    auto cfg = parse_config(config_text(rest, verify), "test");
    EXPECT_TRUE(cfg.ok()) << (cfg ? "" : cfg.err().message());
    return cfg ? std::move(*cfg) : config{};
  }
  void start(const std::string& rest, const std::string& verify = "wormhole_network = \"devnet\"\n") {
    auto r = router::start(parse(rest, verify));
    ASSERT_TRUE(r.ok()) << r.err().message();
    _router = std::move(*r);
  }

  void send(const std::vector<testing::message>& messages) {
    const bytes datagram = testing::frame_of(messages);
    const dp::endpoint to = _router->listening();
    ASSERT_EQ(::sendto(_sender, datagram.data(), datagram.size(), 0, to.address(), to.length()),
              static_cast<ssize_t>(datagram.size()));
  }
  void send_one(std::uint8_t kind, const bytes& body) { send({{kind, body}}); }
  // A frame of one message authenticated with a key of 32 bytes of `fill` under `id`.
  void send_sealed(std::uint16_t id, std::uint8_t fill, const bytes& opaque_body) {
    const bytes datagram = testing::sealed(testing::frame_of({{opaque, opaque_body}}), testing::link_key_of(id, fill));
    const dp::endpoint to = _router->listening();
    ASSERT_EQ(::sendto(_sender, datagram.data(), datagram.size(), 0, to.address(), to.length()),
              static_cast<ssize_t>(datagram.size()));
  }
  // A link key file holding 32 bytes of `fill`, mode 0600; its path.
  std::string link_key_file(const std::string& name, std::uint8_t fill) {
    const std::string path = _dir.path() + "/" + name;
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", fill);
    std::string text;
    for (int i = 0; i < 32; ++i) text += hex;
    std::ofstream(path) << text << '\n';
    ::chmod(path.c_str(), 0600);
    return path;
  }
  static constexpr std::uint8_t opaque = 4, wormhole = 1;

  // Waits (bounded) until the router has taken in `messages` and accounted for each.
  void settle(std::uint64_t messages) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      const dp::counter_values c = _router->counters();
      const bool done = c.rx >= messages && c.rx == c.forwarded + c.dropped();
      if (done || std::chrono::steady_clock::now() > deadline) {
        ASSERT_EQ(c.rx, messages);
        ASSERT_EQ(c.rx, c.forwarded + c.dropped());
        return;
      }
      std::this_thread::sleep_for(2ms);
    }
  }
  std::uint64_t drops(dp::drop_reason r) { return _router->counters().drops[static_cast<std::size_t>(r)]; }
  route_stats route(const std::string& name) {
    for (route_report& r : _router->routes()) {
      if (r.config.name == name) return r.stats;
    }
    ADD_FAILURE() << "no route " << name;
    return {};
  }
  static std::string opaque_route(const std::string& name, int source, const std::string& next_hop,
                                  const std::string& extra = "") {
    return "[[routes]]\nname = \"" + name + "\"\nkind = \"opaque\"\nsource = " + std::to_string(source) +
           "\ndestination = \"*\"\nnext_hop = \"" + next_hop + "\"\n" + extra;
  }
  static std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

  testing::temp_dir _dir{"router"};
  int _sender = -1;
  std::string _sender_address;
  std::unique_ptr<router> _router;
};

TEST_F(RouterTest, ReplicateBalanceLocalSinkAndDropRoutes) {
  listener a = listener::udp(), b = listener::udp(), sink = listener::unix_at(_dir.path() + "/sink.sock");
  start("[[next_hop_groups]]\nname = \"both\"\nhops = [\"" + a.name() + "\", \"" + b.name() +
        "\"]\npolicy = \"replicate\"\n"
        "[[next_hop_groups]]\nname = \"spread\"\nhops = [\"" + a.name() + "\", \"" + b.name() +
        "\"]\npolicy = \"balance\"\n" +
        opaque_route("replicated", 1, "both") + opaque_route("balanced", 2, "spread") +
        opaque_route("local", 3, sink.name()) +
        "[[routes]]\nname = \"dropped\"\nkind = \"opaque\"\nsource = 4\ndestination = \"*\"\naction = \"drop\"\n");
  constexpr int each = 40;
  collector from_a(a), from_b(b), from_sink(sink);
  for (int i = 0; i < each; ++i) {
    for (std::uint32_t source = 1; source <= 4; ++source) {
      send_one(opaque, testing::opaque_body(source, static_cast<std::uint32_t>(i), 8 + static_cast<std::size_t>(i)));
    }
  }
  settle(4 * each);
  std::this_thread::sleep_for(200ms);  // the last frames on their way to the collectors
  from_a.stop();
  from_b.stop();
  from_sink.stop();
  const auto at_a = from_a.messages(), at_b = from_b.messages(), at_sink = from_sink.messages();
  // Count by source: the opaque envelope starts with source u32, destination u32 (big-endian).
  const auto source_of = [](const bytes& m) {
    return (std::to_integer<std::uint32_t>(m[0]) << 24) | (std::to_integer<std::uint32_t>(m[1]) << 16) |
           (std::to_integer<std::uint32_t>(m[2]) << 8) | std::to_integer<std::uint32_t>(m[3]);
  };
  std::map<std::uint32_t, int> count_a, count_b, count_sink;
  for (const bytes& m : at_a) count_a[source_of(m)]++;
  for (const bytes& m : at_b) count_b[source_of(m)]++;
  for (const bytes& m : at_sink) count_sink[source_of(m)]++;
  EXPECT_EQ(count_a[1], each) << "replicate: every message to every hop";
  EXPECT_EQ(count_b[1], each);
  EXPECT_EQ(count_a[2] + count_b[2], each) << "balance: every message to one hop";
  EXPECT_GT(count_a[2], 0);
  EXPECT_GT(count_b[2], 0);
  EXPECT_EQ(count_sink[3], each) << "the local sink";
  EXPECT_EQ(count_a[4] + count_b[4] + count_sink[4], 0) << "a drop route sends nothing";

  const dp::counter_values c = _router->counters();
  EXPECT_EQ(c.forwarded, 3u * each) << "a replicated message is forwarded once";
  EXPECT_EQ(c.copies, 1u * each) << "and its second hop's copy is counted as a copy";
  EXPECT_EQ(drops(dp::drop_reason::route_drop), 1u * each);
  EXPECT_EQ(route("replicated").forwarded, 1u * each);
  EXPECT_EQ(route("dropped").dropped_by_action, 1u * each);
  EXPECT_EQ(route("local").matched, 1u * each);
}

TEST_F(RouterTest, PeerLimitAppliesBeforeVerificationAndRouteLimitAfter) {
  listener a = listener::udp();
  // The sender is a named peer with a bucket of 20 and a trickle of 1/s: of 200 messages sent at once, 20 pass
  // (give or take the second that may pass while sending). The route's own bucket (5) then passes 5 of those.
  start("[[peers]]\nname = \"flooder\"\naddresses = [\"" + _sender_address +
        "\"]\nrate = 1.0\nburst = 20\n" + opaque_route("limited", 1, a.name(), "rate = 0.5\nburst = 5\n") +
        opaque_route("free", 2, a.name()));
  for (int i = 0; i < 100; ++i) {
    send_one(opaque, testing::opaque_body(1, static_cast<std::uint32_t>(i)));
    send_one(opaque, testing::opaque_body(2, static_cast<std::uint32_t>(i)));
  }
  settle(200);
  const std::uint64_t peer_limited = drops(dp::drop_reason::rate_limited_peer);
  EXPECT_GE(peer_limited, 200u - 22u);
  EXPECT_LE(peer_limited, 200u - 20u);
  const std::uint64_t route_limited = drops(dp::drop_reason::rate_limited_route);
  EXPECT_GT(route_limited, 0u);
  EXPECT_LE(route("limited").forwarded, 6u) << "the route's burst, and at most one token more";
  const auto peers = _router->peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].stats.rx, 200u);
  EXPECT_EQ(peers[0].stats.rate_limited, peer_limited);
  EXPECT_EQ(a.take().size(), _router->counters().forwarded);
}

TEST_F(RouterTest, BreakerTripsOnFailureRatioDropsAsBreakerOpenAndClosesAfterCooldown) {
  listener a = listener::udp();
  start("[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nnext_hop = \"" +
        a.name() + "\"\n[routes.breaker]\nfailure_ratio = 0.5\nmin_verified = 10\nwindow_ms = 60000\n"
        "cooldown_ms = 3000\n");
  const guardian_keys devnet = guardian_keys::devnet(), forger = guardian_keys::generated("forger", 1);
  // Signed first: the cool-down runs in wall time, and signing is slow in the sanitizer and emulated builds.
  std::vector<bytes> forged, valid;
  for (std::uint64_t sequence = 1; sequence <= 10; ++sequence) {
    forged.push_back(forger.vaa(0, 2, sequence));
    valid.push_back(devnet.vaa(0, 2, 100 + sequence));
  }
  for (const bytes& vaa : forged) send_one(wormhole, vaa);  // bad signatures
  settle(10);
  EXPECT_EQ(drops(dp::drop_reason::bad_signature), 10u);
  EXPECT_EQ(route("eth").breaker, "tripped");
  EXPECT_EQ(route("eth").trips, 1u);
  for (std::size_t i = 0; i < 5; ++i) send_one(wormhole, valid[i]);
  settle(15);
  EXPECT_EQ(drops(dp::drop_reason::breaker_open), 5u) << "valid, but the route is open";
  EXPECT_TRUE(a.take(50ms).empty());
  // Closes by itself after the cool-down (bounded wait), then forwards again.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (route("eth").breaker != "closed" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(route("eth").breaker, "closed");
  for (std::size_t i = 5; i < 10; ++i) send_one(wormhole, valid[i]);
  settle(20);
  EXPECT_EQ(a.take().size(), 5u);
  EXPECT_EQ(route("eth").verify_failed, 10u);
  EXPECT_EQ(route("eth").verified, 10u);
}

TEST_F(RouterTest, BreakerTripsOnVolumeAndStaysOpenUntilResumedByHand) {
  listener a = listener::udp();
  start(opaque_route("busy", 1, a.name(), "[routes.breaker]\nmax_messages = 30\nwindow_ms = 60000\ncooldown_ms = 0\n"));
  for (int i = 0; i < 50; ++i) send_one(opaque, testing::opaque_body(1, static_cast<std::uint32_t>(i)));
  settle(50);
  EXPECT_EQ(_router->counters().forwarded, 30u);
  EXPECT_EQ(drops(dp::drop_reason::breaker_open), 20u) << "the 31st tripped it, and every one after";
  EXPECT_EQ(route("busy").breaker, "tripped");
  ASSERT_TRUE(_router->resume_route("busy").ok());
  EXPECT_EQ(route("busy").breaker, "closed");
  for (int i = 0; i < 10; ++i) send_one(opaque, testing::opaque_body(1, static_cast<std::uint32_t>(100 + i)));
  settle(60);
  EXPECT_EQ(_router->counters().forwarded, 40u);
  EXPECT_EQ(a.take().size(), 40u);
}

TEST_F(RouterTest, PauseAndResumeByHandSurviveAReload) {
  listener a = listener::udp();
  const std::string routes = opaque_route("r", 1, a.name());
  start(routes);
  ASSERT_TRUE(_router->pause_route("r").ok());
  EXPECT_FALSE(_router->pause_route("nope").ok());
  EXPECT_EQ(route("r").breaker, "paused");
  ASSERT_TRUE(_router->reload(parse(routes + opaque_route("other", 2, a.name()))).ok());
  EXPECT_EQ(route("r").breaker, "paused") << "a reload does not resume a paused route";
  for (int i = 0; i < 4; ++i) send_one(opaque, testing::opaque_body(1, static_cast<std::uint32_t>(i)));
  settle(4);
  EXPECT_EQ(drops(dp::drop_reason::breaker_open), 4u);
  ASSERT_TRUE(_router->resume_route("r").ok());
  for (int i = 0; i < 4; ++i) send_one(opaque, testing::opaque_body(1, static_cast<std::uint32_t>(10 + i)));
  settle(8);
  EXPECT_EQ(a.take().size(), 4u);
}

TEST_F(RouterTest, GuardianSetRotationByReloadOldSetServesUntilItsExpiry) {
  listener a = listener::udp();
  const guardian_keys old_set = guardian_keys::generated("old", 4), new_set = guardian_keys::generated("new", 7);
  const std::string routes = "[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\n"
                             "next_hop = \"" + a.name() + "\"\n";
  start(routes, "wormhole_network = \"none\"\n[[verify.wormhole]]\nindex = 3\nkeys = " + old_set.toml_list() + "\n");
  // Signed before anything runs: signing is slow in the sanitizer builds, and the expiry below is in wall seconds.
  std::vector<bytes> by_old, by_new;
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) {
    by_old.push_back(old_set.vaa(3, 2, sequence));
    by_new.push_back(new_set.vaa(4, 2, 100 + sequence));
  }
  send_one(wormhole, by_old[0]);
  send_one(wormhole, by_new[0]);
  settle(2);
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(drops(dp::drop_reason::unknown_key_set), 1u) << "set 4 is not known yet";

  // Mid-stream: set 4 becomes current, set 3 expires four seconds from now (three at least: whole seconds).
  const std::uint64_t expiry = unix_now() + 4;
  ASSERT_TRUE(_router
                  ->reload(parse(routes, "wormhole_network = \"none\"\n[[verify.wormhole]]\nindex = 3\nkeys = " +
                                             old_set.toml_list() + "\nexpiration_time = " + std::to_string(expiry) +
                                             "\n[[verify.wormhole]]\nindex = 4\nkeys = " + new_set.toml_list() + "\n"))
                  .ok());
  send_one(wormhole, by_new[1]);
  send_one(wormhole, by_old[1]);
  settle(4);
  ASSERT_LE(unix_now(), expiry) << "the machine took over three seconds for two messages: nothing to judge";
  EXPECT_EQ(a.take().size(), 2u) << "the new set from the switch, the old one until its expiry";
  while (unix_now() <= expiry) std::this_thread::sleep_for(50ms);  // at most ~4 s
  send_one(wormhole, by_old[2]);
  send_one(wormhole, by_new[2]);
  settle(6);
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(drops(dp::drop_reason::expired_key_set), 1u);
  const key_report keys = _router->keys();
  ASSERT_EQ(keys.wormhole.size(), 2u);
  EXPECT_TRUE(keys.wormhole[1].current);
}

TEST_F(RouterTest, KeysRotateRereadsGuardianKeyFiles) {
  listener a = listener::udp();
  const guardian_keys first = guardian_keys::generated("first", 3), second = guardian_keys::generated("second", 3);
  const std::string file = _dir.path() + "/set-0.keys";
  std::ofstream(file) << first.key_file();
  ::chmod(file.c_str(), 0644);
  start("[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nnext_hop = \"" +
            a.name() + "\"\n",
        "wormhole_network = \"none\"\n[[verify.wormhole]]\nindex = 0\nkeys_file = \"" + file + "\"\n");
  send_one(wormhole, first.vaa(0, 2, 1));
  settle(1);
  EXPECT_EQ(a.take().size(), 1u);
  std::ofstream(file, std::ios::trunc) << second.key_file();
  ASSERT_TRUE(_router->rotate_keys().ok());
  send_one(wormhole, second.vaa(0, 2, 2));
  send_one(wormhole, first.vaa(0, 2, 3));
  settle(3);
  EXPECT_EQ(a.take().size(), 1u) << "only the keys now in the file";
  EXPECT_EQ(drops(dp::drop_reason::bad_signature), 1u);
  ::chmod(file.c_str(), 0666);
  const auto refused = _router->rotate_keys();
  ASSERT_FALSE(refused.ok()) << "a key file anyone may write is refused";
  send_one(wormhole, second.vaa(0, 2, 4));
  settle(4);
  EXPECT_EQ(a.take().size(), 1u) << "and the keys in use stay";
}

TEST_F(RouterTest, LinkKeyRotationByReloadAcceptsTheOldKeyForItsGrace) {
  listener a = listener::udp();
  const std::string one = link_key_file("up-1.key", 0x01), two = link_key_file("up-2.key", 0x02);
  const auto peer = [&](const std::string& keys) {
    return "[[peers]]\nname = \"up\"\naddresses = [\"" + _sender_address + "\"]\nkey_grace = 3\n" + keys +
           opaque_route("all", 1, a.name());
  };
  const auto key = [](int id, const std::string& file) {
    return "[[peers.link_keys]]\nid = " + std::to_string(id) + "\nfile = \"" + file + "\"\n";
  };
  start(peer(key(1, one)));
  collector from_a(a);
  send_sealed(1, 0x01, testing::opaque_body(1, 1));
  send_sealed(2, 0x02, testing::opaque_body(1, 2));  // not installed yet
  send({{opaque, testing::opaque_body(1, 3)}});      // no tag
  settle(3);
  EXPECT_EQ(drops(dp::drop_reason::bad_mac), 2u);
  // The new key replaces the old one; frames the peer made with the old one are still taken for its grace.
  const auto reloaded_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(_router->reload(parse(peer(key(2, two)))).ok());
  send_sealed(1, 0x01, testing::opaque_body(1, 4));
  send_sealed(2, 0x02, testing::opaque_body(1, 5));
  settle(5);
  if (std::chrono::steady_clock::now() - reloaded_at < 2s) {  // else the machine was too slow to tell
    EXPECT_EQ(drops(dp::drop_reason::bad_mac), 2u) << "the old key during its grace";
  }
  std::this_thread::sleep_for(4500ms);  // past the 3 s grace, whole seconds rounding up
  send_sealed(1, 0x01, testing::opaque_body(1, 6));
  send_sealed(2, 0x02, testing::opaque_body(1, 7));
  settle(7);
  EXPECT_EQ(drops(dp::drop_reason::bad_mac), 3u) << "the old key once its grace is over";
  std::this_thread::sleep_for(200ms);
  from_a.stop();
  EXPECT_EQ(from_a.messages().size(), _router->counters().forwarded);
  bool bad_mac_counted = false;
  for (const peer_report& p : _router->peers()) bad_mac_counted = p.name == "up" && p.stats.bad_mac == 3;
  EXPECT_TRUE(bad_mac_counted);
}

// A key whose MAC a change switches is another key: the new one is in force at once, the old one (the same id and
// secret under the other MAC) is accepted for the peer's key_grace, as if removed.
TEST_F(RouterTest, ChangingALinkKeysMacRetiresTheOldOneForItsGrace) {
  const std::string file = link_key_file("up-1.key", 0x01);
  const auto with_mac = [&](const std::string& mac) {
    return parse("[[peers]]\nname = \"up\"\naddresses = [\"" + _sender_address + "\"]\nkey_grace = 30\n" +
                 "[[peers.link_keys]]\nid = 1\nfile = \"" + file + "\"\nmac = \"" + mac + "\"\n");
  };
  live_states states;
  const config before = with_mac("hmac-sha256"), after = with_mac("blake2b");
  ASSERT_TRUE(build_policy(before, before.keys, 1, states, 1000).ok());
  ASSERT_EQ(states.link_keys["up"].keys.size(), 1u);
  ASSERT_TRUE(build_policy(after, after.keys, 1, states, 2000).ok());
  const std::vector<dp::link_key>& keys = states.link_keys["up"].keys;
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].mac(), dp::link_mac::blake2b);
  EXPECT_EQ(keys[0].accept_until, 0u);
  EXPECT_EQ(keys[1].mac(), dp::link_mac::hmac_sha256);
  EXPECT_EQ(keys[1].accept_until, 2030u);
  EXPECT_EQ(states.link_keys["up"].for_sending(2000), &keys[0]);
  // The same configuration again keeps the key as it is: nothing retires.
  ASSERT_TRUE(build_policy(after, after.keys, 1, states, 2001).ok());
  EXPECT_EQ(states.link_keys["up"].keys.size(), 2u) << "the retiring one stays for its grace, not doubled";
  EXPECT_EQ(states.link_keys["up"].keys[1].accept_until, 2030u);
}

TEST_F(RouterTest, ReplayWindowsInTheStateDirectoryOutliveTheRouter) {
  listener a = listener::udp();
  const std::string rest = "[state]\ndirectory = \"" + _dir.path() + "/state\"\nsync_ms = 50\n"
                           "[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\n"
                           "next_hop = \"" + a.name() + "\"\n";
  const bytes first = testing::vaa_body(2, 501), second = testing::vaa_body(2, 502);
  start(rest);
  send_one(wormhole, first);
  send_one(wormhole, first);  // a byte-identical copy: the digest cache's
  settle(2);
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(drops(dp::drop_reason::duplicate), 1u);
  EXPECT_EQ(_router->stats().replay_channels, 1u);
  _router->stop();
  _router.reset();
  start(rest);  // a new router: an empty digest cache, the same windows
  send_one(wormhole, first);
  send_one(wormhole, second);
  settle(2);
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(drops(dp::drop_reason::replay), 1u) << "forwarded before the restart";
  EXPECT_EQ(drops(dp::drop_reason::duplicate), 0u);
}

TEST_F(RouterTest, VerifiedGuardianSetUpgradeVaaRotatesTheSets) {
  listener a = listener::udp();
  const guardian_keys devnet = guardian_keys::devnet(), next = guardian_keys::generated("next", 5),
                      forger = guardian_keys::generated("forger", 1);
  start("[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nnext_hop = \"" +
            a.name() + "\"\n",
        "wormhole_network = \"devnet\"\nguardian_set_upgrades = true\nguardian_set_expiry = 4\n");
  // Signed before anything runs: signing is slow in the sanitizer builds, and expiry is in wall seconds.
  const bytes forged_upgrade = forger.upgrade(0, 1, forger, 7), upgrade = devnet.upgrade(0, 1, next, 8),
              by_next = next.vaa(1, 2, 100), by_devnet = devnet.vaa(0, 2, 101), late = devnet.vaa(0, 2, 102);
  // A forged upgrade (not signed by set 0) changes nothing.
  send_one(wormhole, forged_upgrade);
  settle(1);
  EXPECT_EQ(drops(dp::drop_reason::bad_signature), 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(_router->keys().wormhole.size(), 1u);

  // The real one, signed by the devnet guardian (set 0): set 1 becomes current by itself.
  send_one(wormhole, upgrade);
  settle(2);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (_router->keys().wormhole.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const key_report keys = _router->keys();
  ASSERT_EQ(keys.wormhole.size(), 2u);
  EXPECT_TRUE(keys.wormhole[1].current);
  EXPECT_EQ(keys.wormhole[1].index, 1u);
  EXPECT_EQ(_router->stats().keys.guardian_set_upgrades, 1u);
  send_one(wormhole, by_next);
  send_one(wormhole, by_devnet);
  settle(4);
  const std::uint64_t expiry = keys.wormhole[0].expiration_time;
  ASSERT_LE(unix_now(), expiry) << "the machine took over three seconds for two messages: nothing to judge";
  EXPECT_EQ(a.take().size(), 2u) << "set 1 from the upgrade; set 0 until its expiry four seconds on";
  while (unix_now() <= expiry) std::this_thread::sleep_for(50ms);
  send_one(wormhole, late);
  settle(5);
  EXPECT_EQ(drops(dp::drop_reason::expired_key_set), 1u);
  // A reload keeps what the chain said: the file's sets are older.
  ASSERT_TRUE(_router->reload(_router->running_config()).ok());
  EXPECT_EQ(_router->keys().wormhole.size(), 2u);
}

// With a state directory, a set learned from an upgrade VAA is kept (the VAA itself) and verified again at start:
// the first frames after a restart verify against it, without a word in the configuration.
TEST_F(RouterTest, LearnedGuardianSetUpgradeOutlivesTheRouter) {
  listener a = listener::udp();
  const guardian_keys devnet = guardian_keys::devnet(), next = guardian_keys::generated("next", 5);
  const std::string rest = "[state]\ndirectory = \"" + _dir.path() + "/state\"\n"
                           "[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\n"
                           "next_hop = \"" + a.name() + "\"\n";
  const std::string verify = "wormhole_network = \"devnet\"\nguardian_set_upgrades = true\n";
  const bytes upgrade = devnet.upgrade(0, 1, next, 8), by_next = next.vaa(1, 2, 100);
  start(rest, verify);
  send_one(wormhole, upgrade);
  settle(1);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (_router->keys().wormhole.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(_router->keys().wormhole.size(), 2u);
  struct stat st {};
  ASSERT_EQ(::stat((_dir.path() + "/state/guardian-set-upgrades").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(::access((_dir.path() + "/state/guardian-set-upgrades.new").c_str(), F_OK), 0) << "renamed into place";
  _router->stop();
  _router.reset();

  start(rest, verify);  // the same configuration and state directory: set 0 is still the one configured
  const key_report keys = _router->keys();
  ASSERT_EQ(keys.wormhole.size(), 2u);
  EXPECT_EQ(keys.wormhole[1].index, 1u);
  EXPECT_TRUE(keys.wormhole[1].current);
  EXPECT_EQ(_router->stats().keys.guardian_set_upgrades, 0u) << "counts upgrades seen in traffic only";
  send_one(wormhole, by_next);
  settle(1);
  EXPECT_EQ(a.take().size(), 1u) << "signed by set 1, learned before the restart";
}

// The stored VAAs are verified again at start: an altered one, or one signed by a set that is not the current one,
// installs nothing, and the router starts all the same, saying what it skipped.
TEST_F(RouterTest, TamperedGuardianSetUpgradeFileInstallsNothing) {
  listener a = listener::udp();
  const guardian_keys devnet = guardian_keys::devnet(), next = guardian_keys::generated("next", 5),
                      forger = guardian_keys::generated("forger", 5);
  bytes altered = devnet.upgrade(0, 1, next, 8);
  altered[altered.size() - 1] ^= std::byte{0x01};  // the last guardian's address, under the signatures
  const bytes forged = forger.upgrade(0, 1, forger, 9), real = devnet.upgrade(0, 1, next, 8),
              by_forger = forger.vaa(1, 2, 100), by_next = next.vaa(1, 2, 101);
  ASSERT_EQ(::mkdir((_dir.path() + "/state").c_str(), 0700), 0);
  const std::string path = _dir.path() + "/state/guardian-set-upgrades", now = std::to_string(unix_now());
  std::ofstream(path) << "ferry guardian-set-upgrades 1\n"
                      << now << " " << testing::to_hex(altered) << "\n" << now << " " << testing::to_hex(forged) << "\n"
                      << now << " zz\n" << now << " " << testing::to_hex(real) << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ::testing::internal::CaptureStderr();
  start("[state]\ndirectory = \"" + _dir.path() + "/state\"\n"
        "[[routes]]\nname = \"eth\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nnext_hop = \"" +
            a.name() + "\"\n",
        "wormhole_network = \"devnet\"\nguardian_set_upgrades = true\n");
  const std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("upgrade 1 of 3 skipped"), std::string::npos) << said;
  EXPECT_NE(said.find("upgrade 2 of 3 skipped"), std::string::npos) << said;
  EXPECT_NE(said.find("line 4:"), std::string::npos) << said;
  EXPECT_EQ(said.find("upgrade 3 of 3 skipped"), std::string::npos) << said;
  // Only the real upgrade is in: set 1 holds next's keys, not the forger's.
  const key_report keys = _router->keys();
  ASSERT_EQ(keys.wormhole.size(), 2u);
  EXPECT_EQ(keys.wormhole[1].keys, 5u);
  send_one(wormhole, by_forger);
  send_one(wormhole, by_next);
  settle(2);
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(drops(dp::drop_reason::bad_signature), 1u);

  // Nothing of ferry's at all: skipped whole, the configured sets alone.
  _router->stop();
  _router.reset();
  std::ofstream(path, std::ios::trunc) << "ferry guardian-set-upgrades 9\n"
                                      << now << " " << testing::to_hex(real) << "\n";
  ::testing::internal::CaptureStderr();
  start("[state]\ndirectory = \"" + _dir.path() + "/state\"\n",
        "wormhole_network = \"devnet\"\nguardian_set_upgrades = true\n");
  const std::string said_again = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(said_again.find("not a file of this version"), std::string::npos) << said_again;
  EXPECT_EQ(_router->keys().wormhole.size(), 1u);
}

// The file is checked as the replay window file is: ferryd refuses to start on one that someone else could have
// written, or a link, naming the file and the fix.
TEST_F(RouterTest, GuardianSetUpgradeFileOthersCouldWriteIsRefused) {
  ASSERT_EQ(::mkdir((_dir.path() + "/state").c_str(), 0700), 0);
  const std::string path = _dir.path() + "/state/guardian-set-upgrades";
  std::ofstream(path) << "ferry guardian-set-upgrades 1\n";
  const std::string rest = "[state]\ndirectory = \"" + _dir.path() + "/state\"\n",
                    verify = "wormhole_network = \"devnet\"\nguardian_set_upgrades = true\n";
  const auto refused = [&](const std::string& what) {
    auto r = router::start(parse(rest, verify));
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.err().message().find(path), std::string::npos) << r.err().message();
    EXPECT_NE(r.err().message().find(what), std::string::npos) << r.err().message();
  };
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
  refused("writable by its group or others (mode 0620)");
  ASSERT_EQ(::chmod(path.c_str(), 0606), 0);
  refused("chmod 0600");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  if (::geteuid() == 0) {  // only root can give a file away
    ASSERT_EQ(::chown(path.c_str(), 4242, 4242), 0);
    refused("owned by uid 4242");
    ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  }
  ASSERT_EQ(::rename(path.c_str(), (path + ".real").c_str()), 0);
  ASSERT_EQ(::symlink((path + ".real").c_str(), path.c_str()), 0);
  refused("symbolic link");
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::rename((path + ".real").c_str(), path.c_str()), 0);
  auto r = router::start(parse(rest, verify));
  ASSERT_TRUE(r.ok()) << r.err().message();
}

TEST_F(RouterTest, ReloadRefusesStartUpFieldsAndKeepsRunning) {
  listener a = listener::udp();
  start(opaque_route("r", 1, a.name()));
  config changed = parse(opaque_route("r", 1, a.name()));
  changed.burst = 8;
  changed.listen = *dp::endpoint::parse("127.0.0.1:9");
  const auto refused = _router->reload(changed);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().message().find("dataplane.listen"), std::string::npos) << refused.err().message();
  EXPECT_NE(refused.err().message().find("dataplane.burst"), std::string::npos) << refused.err().message();
  send_one(opaque, testing::opaque_body(1, 1));
  settle(1);
  EXPECT_EQ(a.take().size(), 1u);
}

TEST_F(RouterTest, RouteChangesUnderTrafficLoseNothingAndNeverMixTwoPolicies) {
  listener a = listener::udp(), b = listener::udp();
  // Source 1 goes to A in one policy and to B in the other; source 2 always to both (replicate). Whatever the swap
  // timing, each message of source 1 arrives exactly once, and every message of source 2 twice.
  const std::string to_a = opaque_route("one", 1, a.name()) +
                           "[[next_hop_groups]]\nname = \"both\"\nhops = [\"" + a.name() + "\", \"" + b.name() +
                           "\"]\n" + opaque_route("two", 2, "both");
  const std::string to_b = opaque_route("one", 1, b.name()) +
                           "[[next_hop_groups]]\nname = \"both\"\nhops = [\"" + b.name() + "\", \"" + a.name() +
                           "\"]\n" + opaque_route("two", 2, "both");
  start(to_a);
  const config policy_a = parse(to_a), policy_b = parse(to_b);
  std::atomic<bool> sending{true};
  std::atomic<std::uint32_t> sent{0};
  std::thread sender([&] {
    for (std::uint32_t i = 0; i < 20000 && sending.load(); ++i) {
      // Never more than 256 datagrams (512 messages) ahead of what the router has sent, so that neither the kernel
      // nor a ring between stages (1024) ever has to drop one, however the threads are scheduled (slow builds too).
      while (2ull * i > _router->counters().forwarded + 512 && sending.load()) std::this_thread::sleep_for(100us);
      send({{opaque, testing::opaque_body(1, i)}, {opaque, testing::opaque_body(2, i)}});
      sent.store(i + 1);
    }
  });
  // The hops are read all along by their own thread, so that their socket buffers never overflow.
  std::vector<bytes> at_a, at_b;
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    while (reading.load()) {
      for (bytes& m : a.take(1ms)) at_a.push_back(std::move(m));
      for (bytes& m : b.take(1ms)) at_b.push_back(std::move(m));
    }
  });
  int reloads = 0;
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(_router->reload(reloads % 2 == 0 ? policy_b : policy_a).ok());
    ++reloads;
    std::this_thread::sleep_for(5ms);
  }
  sending.store(false);
  sender.join();
  settle(2ull * sent.load());
  reading.store(false);
  reader.join();
  for (bytes& m : a.take()) at_a.push_back(std::move(m));
  for (bytes& m : b.take()) at_b.push_back(std::move(m));
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> seen;  // (source, sequence) -> arrivals
  const auto key_of = [](const bytes& m) {
    const auto word = [&](std::size_t at) {
      return (std::to_integer<std::uint32_t>(m[at]) << 24) | (std::to_integer<std::uint32_t>(m[at + 1]) << 16) |
             (std::to_integer<std::uint32_t>(m[at + 2]) << 8) | std::to_integer<std::uint32_t>(m[at + 3]);
    };
    return std::make_pair(word(0), word(4));
  };
  for (const bytes& m : at_a) seen[key_of(m)]++;
  for (const bytes& m : at_b) seen[key_of(m)]++;
  const dp::counter_values totals = _router->counters();
  ASSERT_EQ(at_a.size() + at_b.size(), totals.forwarded + totals.copies)
      << "sent " << sent.load() << ", tx_error " << totals.drops[static_cast<std::size_t>(dp::drop_reason::tx_error)];
  for (std::size_t r = 0; r < dp::drop_reason_count; ++r) {
    EXPECT_EQ(totals.drops[r], 0u) << dp::to_string(static_cast<dp::drop_reason>(r));
  }
  for (std::uint32_t i = 0; i < sent.load(); ++i) {
    ASSERT_EQ((seen[{1, i}]), 1) << "source 1, message " << i;
    ASSERT_EQ((seen[{2, i}]), 2) << "source 2, message " << i;
  }
  EXPECT_GT(reloads, 50);
  const dp::counter_values c = _router->counters();
  EXPECT_EQ(c.forwarded, 2ull * sent.load());
  EXPECT_EQ(c.copies, sent.load());
  EXPECT_EQ(c.dropped(), 0u);
  EXPECT_LE(_router->stats().snapshots_retired, 8u) << "retired snapshots stay bounded";
}

}  // namespace
}  // namespace ferry::ctl

// End to end: ferryd, ferryctl and ferry-loadgen as separate processes on loopback.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "support/child_process.hpp"
#include "support/guardians.hpp"
#include "support/messages.hpp"
#include "support/stats_json.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

using ferry::testing::child_process;
using namespace std::chrono_literals;

// A UDP port free on loopback right now (the kernel's choice for port 0).
int free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct data_path {
  std::string backend;  // as in [dataplane] backend
  std::string layout;   // as in [dataplane] layout
  std::string extra;    // more [dataplane] fields
  std::string tables;   // tables after [dataplane] ([dataplane.dpdk])
};

class FerrydE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    _socket = _dir.path() + "/ferryd.sock";
    _listen = "127.0.0.1:" + std::to_string(free_udp_port());
    _sink = "127.0.0.1:" + std::to_string(free_udp_port());
  }

  std::vector<std::string> command(const char* program, std::vector<std::string> args) const {
    std::vector<std::string> argv = _prefix;
    const std::vector<std::string> emulator = ferry::testing::emulator_prefix(FERRY_TEST_EMULATOR);
    argv.insert(argv.end(), emulator.begin(), emulator.end());
    argv.emplace_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // A configuration with the given routes and the built-in default's [verify] section, which trusts the demo keys
  // ferry-loadgen signs with.
  // `dataplane` adds fields to [dataplane] (a backend, a layout), `tables` tables after it ([dataplane.dpdk]).
  std::string write_config(const std::string& routes, const std::string& dataplane = "",
                           const std::string& tables = "") const {
    const std::string path = _dir.path() + "/ferry.toml";
    const std::string_view defaults = default_config_text();
    std::ofstream(path) << "[control]\nsocket = \"" << _socket << "\"\n"
                        << "[dataplane]\nlisten = \"" << _listen << "\"\ncpu = \"none\"\n" << dataplane << tables
                        << routes << defaults.substr(defaults.find("\n[verify]\n"));
    return path;
  }

  std::string route(const std::string& name, const std::string& kind, const std::string& source,
                    const std::string& destination) const {
    return "[[routes]]\nname = \"" + name + "\"\nkind = \"" + kind + "\"\nsource = " + source +
           "\ndestination = " + destination + "\nnext_hop = \"" + _sink + "\"\n";
  }

  // Runs a program to completion (bounded) and returns its exit code; output in <dir>/<stem>.out/.err.
  int run(const char* program, std::vector<std::string> args, const std::string& stem, std::string* out = nullptr,
          std::string* err = nullptr, std::chrono::milliseconds limit = 60s) {
    child_process child(command(program, std::move(args)), _dir.path() + "/" + stem);
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(limit);
    if (out) *out = child.out();
    if (err) *err = child.err();
    EXPECT_TRUE(code.has_value()) << program << " did not finish within " << limit.count() << " ms";
    return code.value_or(-1);
  }

  // Waits (bounded) until ferryd answers on its control socket.
  bool wait_until_serving(child_process& ferryd) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline && ferryd.running()) {
      if (run(FERRYCTL_PATH, {"--socket", _socket, "status"}, "probe") == 0) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Runs ferryd on `path` under a mixed load from ferry-loadgen (valid, duplicate, unroutable, malformed, forged)
  // and checks that exactly the valid routed messages arrive, once each, and that every stage and the whole
  // path account for every message. once_serving runs when ferryd answers, before the load.
  void expect_mixed_load_accounted(const data_path& path, const std::function<void()>& once_serving = {}) {
    const std::string config = write_config(route("wormhole-eth", "wormhole", "2", "\"*\"") +
                                                route("hyperlane-arb", "hyperlane", "\"*\"", "42161") +
                                                route("layerzero", "layerzero", "30101", "30102") +
                                                route("opaque", "opaque", "7", "\"*\"") +
                                                route("quorum", "quorum", "5", "6"),
                                            "backend = \"" + path.backend + "\"\nlayout = \"" + path.layout + "\"\n" +
                                                path.extra,
                                          path.tables);
    child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
    ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();
    if (once_serving) once_serving();
    std::string status_text;
    ASSERT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "status"}, "status", &status_text), 0);
    const auto status = nlohmann::json::parse(status_text);
    const bool emulated = !std::string_view(FERRY_TEST_EMULATOR).empty();
    if (path.backend == "io_uring" && emulated) {
      // qemu-user has no io_uring: the socket backend runs instead, and ferryd says why
      EXPECT_EQ(status["backend"], "socket") << status_text;
      ASSERT_EQ(status["backend_notes"].size(), 1u) << status_text;
      EXPECT_NE(status["backend_notes"][0].get<std::string>().find("io_uring"), std::string::npos) << status_text;
    } else {
      EXPECT_EQ(status["backend"], path.backend) << status_text;
      EXPECT_TRUE(status["backend_notes"].empty()) << status_text;
    }
    EXPECT_EQ(status["layout"], path.layout) << status_text;

    // Every signed message costs the load generator a signature and ferryd a verification: under an emulator both
    // are tens of times slower, so it sends fewer, more slowly.
    const std::uint64_t messages = emulated ? 600 : 4000;
    std::string report;
    ASSERT_EQ(run(FERRY_LOADGEN_PATH,
                  {"--target", _listen, "--sink", _sink, "--count", std::to_string(messages), "--rate",
                   emulated ? "200" : "4000", "--json", "--drain-ms", "3000", "--mix",
                   "valid=55,duplicate=5,unroutable=15,malformed=15,forged=10", "--valid-flows",
                   "wormhole:2:0,hyperlane:1:42161,hyperlane:10:42161,layerzero:30101:30102,opaque:7:1,opaque:7:2,"
                   "quorum:5:6",
                   "--unroutable-flows", "wormhole:3:0,hyperlane:1:10,layerzero:30101:30103,opaque:8:1"},
                  "loadgen", &report, nullptr, 120s),
              0)
        << report;
    const auto sent = nlohmann::json::parse(report);
    const std::uint64_t valid = sent["sent"]["valid"];
    const std::uint64_t unroutable = sent["sent"]["unroutable"];
    const std::uint64_t malformed = sent["sent"]["malformed"];
    const std::uint64_t forged = sent["sent"]["forged"];
    const std::uint64_t duplicate = sent["sent"]["duplicate"];
    EXPECT_EQ(sent["sent"]["messages"], messages);
    EXPECT_EQ(sent["sent"]["send_failed"], 0u);
    EXPECT_GT(valid, 0u);
    EXPECT_GT(unroutable, 0u);
    EXPECT_GT(malformed, 0u);
    EXPECT_GT(forged, 0u);
    EXPECT_GT(duplicate, 0u);
    // Exactly the routed ones arrive: every valid message once, nothing else.
    EXPECT_EQ(sent["delivered"], valid);
    EXPECT_EQ(sent["missing"], 0u);
    EXPECT_EQ(sent["unexpected"], 0u);
    EXPECT_EQ(sent["duplicates"], 0u);
    EXPECT_EQ(sent["foreign"], 0u);

    std::string stats_text;
    ASSERT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "stats", "--json"}, "stats", &stats_text), 0);
    const auto stats = nlohmann::json::parse(stats_text);
    EXPECT_EQ(stats["rx"], messages) << stats_text;
    EXPECT_EQ(stats["rx"].get<std::uint64_t>(),
              stats["forwarded"].get<std::uint64_t>() + testing::total_drops(stats["drops"]))
        << stats_text;
    EXPECT_EQ(stats["forwarded"], valid);
    EXPECT_EQ(stats["drops"]["no_route"], unroutable);
    EXPECT_EQ(stats["drops"]["malformed"], malformed);
    EXPECT_EQ(stats["drops"]["bad_signature"], forged) << "every forged message, and nothing else";
    EXPECT_EQ(stats["drops"]["duplicate"], duplicate) << "every copy of a message already passed on";
    EXPECT_EQ(stats["drops"]["queue_full"], 0u);
    // Each stage balances, and what each kind of stage passes on, the next takes in.
    testing::expect_stages_account_for(stats, messages, path.layout);
    for (const char* verdict : {"no_quorum", "unknown_key_set", "expired_key_set"}) {
      EXPECT_EQ(stats["drops"][verdict], 0u) << verdict << ": every message the load generator signs verifies";
    }

    ferryd.signal(SIGTERM);
    const auto code = ferryd.wait_for(10s);
    ASSERT_TRUE(code.has_value()) << "ferryd did not stop on SIGTERM";
    EXPECT_EQ(*code, 0) << ferryd.err();
    EXPECT_NE(ferryd.err().find("SIGTERM: stopping"), std::string::npos) << ferryd.err();
    EXPECT_NE(ferryd.out().find("received"), std::string::npos) << ferryd.out();
    EXPECT_NE(ferryd.out().find(std::to_string(messages) + " messages"), std::string::npos) << ferryd.out();
    EXPECT_FALSE(std::filesystem::exists(_socket)) << "the control socket is removed at exit";
  }

  std::vector<std::string> _prefix;  // what every program runs under (ip netns exec NAME)
  testing::temp_dir _dir{"e2e"};
  std::string _socket;
  std::string _listen;
  std::string _sink;
};

class FerrydBackendsE2e : public FerrydE2e, public ::testing::WithParamInterface<data_path> {};

TEST_P(FerrydBackendsE2e, ExactlyTheRoutedMessagesArriveAndEveryMessageIsAccounted) {
  expect_mixed_load_accounted(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, FerrydBackendsE2e,
    ::testing::Values(data_path{"socket", "run-to-completion", "", ""},
                      data_path{"socket", "staged", "io_stages = 2\nverify_stages = 2\nroute_stages = 1\n", ""},
                      data_path{"io_uring", "staged", "", ""}),
    [](const ::testing::TestParamInfo<data_path>& param_info) {
      std::string name = param_info.param.backend + "_" + param_info.param.layout;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// The DPDK backend end to end: ferryd drives a net_tap device in a network namespace the test makes; the load
// generator and the next hop are kernel sockets on the tap's other side. ferry does not answer ARP, so the kernel
// side gets a static neighbour entry for ferry's address.
TEST_F(FerrydE2e, DpdkBackendOverATapDevice) {
#if !FERRY_HAVE_DPDK
  GTEST_SKIP() << "this build has no DPDK";
#else
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a tap device";
  const std::string netns = "ferry-e2e-" + std::to_string(::getpid());
  const std::string tap = "fytap" + std::to_string(::getpid() % 10000);
  ASSERT_EQ(run("/usr/sbin/ip", {"netns", "add", netns}, "netns-add"), 0);
  const std::shared_ptr<void> remove_netns(nullptr, [&](void*) {
    _prefix.clear();
    run("/usr/sbin/ip", {"netns", "del", netns}, "netns-del");
  });
  _prefix = {"/usr/sbin/ip", "netns", "exec", netns};
  _listen = "10.77.0.2:7700";
  _sink = "10.77.0.1:7701";
  const std::string dpdk =
      "[dataplane.dpdk]\neal_args = [\"--no-huge\", \"-m\", \"512\", \"--no-pci\", \"--no-telemetry\", "
      "\"--file-prefix=" + netns + "\", \"--vdev=net_tap0,iface=" + tap + ",mac=02:00:00:00:77:02\"]\n"
      "next_hop_mac = \"02:00:00:00:77:01\"\n";
  expect_mixed_load_accounted({"dpdk", "staged", "", dpdk}, [&] {
    for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
             {"link", "set", "dev", tap, "address", "02:00:00:00:77:01"},
             {"address", "add", "10.77.0.1/24", "dev", tap},
             {"link", "set", "dev", tap, "up"},
             {"neigh", "replace", "10.77.0.2", "lladdr", "02:00:00:00:77:02", "dev", tap, "nud", "permanent"}}) {
      ASSERT_EQ(run("/usr/sbin/ip", step, "ip"), 0) << step[0] << ' ' << step[1];
    }
  });
#endif
}

// The promise: under a sustained mixed load, the configuration changes every 50 ms (SIGHUP with a new
// file, `ferryctl reload`, a route added and deleted over the API) and nothing is lost or misrouted: every valid
// message arrives once, nothing else does, and every message is accounted for. The two files route the same
// valid flows differently (a hop, or a one-hop group; wormhole from chain 3 unroutable, or dropped by a route).
TEST_F(FerrydE2e, ReloadsAndRouteChangesEvery50msUnderMixedLoadLoseNothing) {
  const std::string common = route("hyperlane-arb", "hyperlane", "\"*\"", "42161") +
                             route("layerzero", "layerzero", "30101", "30102") + route("opaque", "opaque", "7", "\"*\"") +
                             route("quorum", "quorum", "5", "6");
  const std::string first = route("wormhole-eth", "wormhole", "2", "\"*\"") + common;
  const std::string second = "[[next_hop_groups]]\nname = \"sinks\"\nhops = [\"" + _sink +
                             "\"]\npolicy = \"balance\"\n"
                             "[[routes]]\nname = \"wormhole-eth\"\nkind = \"wormhole\"\nsource = 2\n"
                             "destination = \"*\"\nnext_hop = \"sinks\"\nrate = 1000000.0\nburst = 1000000\n"
                             "[[routes]]\nname = \"wormhole-3\"\nkind = \"wormhole\"\nsource = 3\n"
                             "destination = \"*\"\naction = \"drop\"\n" + common;
  // A ring that holds the whole run: under a sanitizer on a busy machine the verify stage can fall seconds behind,
  // and what this test checks is reloads, not overload (a full ring is queue_full, counted but not delivered).
  const std::string layout = "layout = \"staged\"\nring_size = 16384\n";
  const std::string config = write_config(first, layout);
  const std::string staged = _dir.path() + "/next.toml";
  const auto install = [&](const std::string& routes) {
    // Written beside and renamed over: ferryd never reads half a file.
    write_config(routes, layout);
    std::filesystem::rename(config, staged);
    std::filesystem::rename(staged, config);
  };
  child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
  ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();

  const bool emulated = !std::string_view(FERRY_TEST_EMULATOR).empty();
  const std::uint64_t messages = emulated ? 600 : 12000;
  std::atomic<bool> loading{true};
  std::atomic<int> changes{0}, failed_changes{0};
  std::thread changer([&] {
    for (int step = 0; loading.load(); ++step) {
      bool ok = true;
      switch (step % 4) {
        case 0:
          install(second);
          ferryd.signal(SIGHUP);
          break;
        case 1:
          install(first);
          ok = run(FERRYCTL_PATH, {"--socket", _socket, "reload"}, "reload") == 0;
          break;
        case 2:
          ok = run(FERRYCTL_PATH, {"--socket", _socket, "routes", "add", "--name", "extra", "--kind", "opaque",
                                   "--source", "99", "--next-hop", _sink},
                   "add") == 0;
          break;
        default:
          ok = run(FERRYCTL_PATH, {"--socket", _socket, "routes", "del", "extra"}, "del") == 0;
      }
      changes.fetch_add(1);
      if (!ok) failed_changes.fetch_add(1);
      std::this_thread::sleep_for(50ms);
    }
  });
  std::string report;
  const int loadgen = run(FERRY_LOADGEN_PATH,
                          {"--target", _listen, "--sink", _sink, "--count", std::to_string(messages), "--rate",
                           emulated ? "200" : "4000", "--json", "--drain-ms", "3000", "--mix",
                           "valid=55,duplicate=5,unroutable=15,malformed=15,forged=10", "--valid-flows",
                           "wormhole:2:0,hyperlane:1:42161,layerzero:30101:30102,opaque:7:1,quorum:5:6",
                           "--unroutable-flows", "wormhole:3:0,hyperlane:1:10,opaque:8:1"},
                          "loadgen", &report, nullptr, 120s);
  loading.store(false);
  changer.join();
  ASSERT_EQ(loadgen, 0) << report;
  EXPECT_EQ(failed_changes.load(), 0) << "every reload and route change was accepted";
  EXPECT_GE(changes.load(), emulated ? 8 : 20);
  const auto sent = nlohmann::json::parse(report);
  const std::uint64_t valid = sent["sent"]["valid"];
  EXPECT_EQ(sent["sent"]["messages"], messages);
  EXPECT_EQ(sent["delivered"], valid) << report;
  EXPECT_EQ(sent["missing"], 0u) << report;
  EXPECT_EQ(sent["unexpected"], 0u) << report;
  EXPECT_EQ(sent["duplicates"], 0u) << report;
  EXPECT_EQ(sent["foreign"], 0u) << report;

  std::string stats_text;
  ASSERT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "stats", "--json"}, "stats", &stats_text), 0);
  const auto stats = nlohmann::json::parse(stats_text);
  EXPECT_EQ(stats["rx"], messages) << stats_text;
  EXPECT_EQ(stats["rx"].get<std::uint64_t>(),
            stats["forwarded"].get<std::uint64_t>() + testing::total_drops(stats["drops"]))
      << stats_text;
  EXPECT_EQ(stats["forwarded"], valid) << stats_text;
  EXPECT_EQ(stats["drops"]["no_route"].get<std::uint64_t>() + stats["drops"]["route_drop"].get<std::uint64_t>(),
            sent["sent"]["unroutable"].get<std::uint64_t>())
      << stats_text;
  EXPECT_EQ(stats["drops"]["malformed"], sent["sent"]["malformed"]) << stats_text;
  EXPECT_EQ(stats["drops"]["bad_signature"], sent["sent"]["forged"]) << stats_text;
  EXPECT_EQ(stats["drops"]["duplicate"], sent["sent"]["duplicate"]) << stats_text;

  ferryd.signal(SIGTERM);
  const auto code = ferryd.wait_for(10s);
  ASSERT_TRUE(code.has_value()) << "ferryd did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << ferryd.err();
  EXPECT_NE(ferryd.err().find("SIGHUP: configuration reloaded"), std::string::npos) << ferryd.err();
}

// A configuration that does not check out is refused by reload with the words of --check-config, and the running
// one stays in force.
TEST_F(FerrydE2e, AnInvalidReloadIsRefusedWithTheCheckConfigMessageAndTheRunningConfigStays) {
  const std::string config = write_config(route("r", "opaque", "1", "\"*\""));
  child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
  ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();
  std::ofstream(config, std::ios::app) << "[[routes]]\nname = \"r2\"\nkind = \"wormhol\"\nsource = 1\n"
                                          "destination = 2\nnext_hop = \"" << _sink << "\"\n";
  std::string check_err, reload_err, out;
  EXPECT_EQ(run(FERRYD_PATH, {"--check-config", config}, "check", nullptr, &check_err), 2);
  ASSERT_FALSE(check_err.empty());
  const std::string problem = check_err.substr(0, check_err.find('\n'));
  EXPECT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "reload"}, "reload", nullptr, &reload_err), 1);
  EXPECT_NE(reload_err.find(problem), std::string::npos) << "check-config: " << check_err << "reload: " << reload_err;
  ferryd.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  EXPECT_NE(ferryd.err().find("configuration refused, the running one stays"), std::string::npos) << ferryd.err();
  EXPECT_NE(ferryd.err().find(problem), std::string::npos) << ferryd.err();
  ASSERT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "routes", "list", "--json"}, "routes", &out), 0);
  const auto routes = nlohmann::json::parse(out);
  ASSERT_EQ(routes["routes"].size(), 1u) << out;
  EXPECT_EQ(routes["routes"][0]["name"], "r") << out;
  ferryd.signal(SIGTERM);
  EXPECT_TRUE(ferryd.wait_for(10s).has_value());
}

// The operator's commands against a running ferryd: routes listed, added, paused, resumed and deleted, peers and
// keys shown without a secret, and the traffic doing what they say.
TEST_F(FerrydE2e, FerryctlSteersRoutesAndShowsPeersAndKeysWithoutSecrets) {
  const std::string key = _dir.path() + "/link.key";
  std::ofstream(key) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  ::chmod(key.c_str(), 0600);
  const std::string config = write_config(
      "[[peers]]\nname = \"sender\"\naddresses = [\"127.0.0.1\"]\nrate = 100000.0\nburst = 1000\n"
      "[[peers.link_keys]]\nid = 7\nfile = \"" + key + "\"\n" + route("one", "opaque", "1", "\"*\""));
  child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
  ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();
  std::string out, err;
  const auto ctl = [&](std::vector<std::string> args, const std::string& stem) {
    args.insert(args.begin(), {"--socket", _socket});
    return run(FERRYCTL_PATH, std::move(args), stem, &out, &err);
  };
  ASSERT_EQ(ctl({"routes", "add", "--name", "two", "--kind", "opaque", "--source", "2", "--next-hop", _sink}, "add"),
            0)
      << err;
  EXPECT_EQ(ctl({"routes", "add", "--name", "two", "--kind", "opaque", "--source", "3", "--next-hop", _sink},
                "add-again"),
            1);
  EXPECT_NE(err.find("two"), std::string::npos) << err;
  ASSERT_EQ(ctl({"pause", "one"}, "pause"), 0) << err;
  ASSERT_EQ(ctl({"routes", "list", "--json"}, "list"), 0) << err;
  auto routes = nlohmann::json::parse(out)["routes"];
  ASSERT_EQ(routes.size(), 2u) << out;
  EXPECT_EQ(routes[0]["name"], "one");
  EXPECT_EQ(routes[0]["breaker"]["state"], "paused") << out;
  EXPECT_EQ(routes[1]["name"], "two");
  ASSERT_EQ(ctl({"routes", "list"}, "list-table"), 0) << err;
  EXPECT_NE(out.find("paused"), std::string::npos) << out;

  // Traffic: route one is paused (breaker_open), route two forwards.
  std::string report;
  ASSERT_EQ(run(FERRY_LOADGEN_PATH,
                {"--target", _listen, "--sink", _sink, "--count", "40", "--rate", "2000", "--json", "--drain-ms",
                 "1000", "--mix", "valid=50,unroutable=50", "--valid-flows", "opaque:2:1", "--unroutable-flows",
                 "opaque:1:1", "--link-key", key, "--key-id", "7"},
                "loadgen", &report),
            0)
      << report;
  const auto sent = nlohmann::json::parse(report);
  EXPECT_EQ(sent["delivered"], sent["sent"]["valid"]) << report;
  EXPECT_EQ(sent["unexpected"], 0u) << report;
  ASSERT_EQ(ctl({"stats", "--json"}, "stats"), 0) << err;
  EXPECT_EQ(nlohmann::json::parse(out)["drops"]["breaker_open"], sent["sent"]["unroutable"]) << out;
  ASSERT_EQ(ctl({"resume", "one"}, "resume"), 0) << err;
  ASSERT_EQ(ctl({"routes", "del", "two"}, "del"), 0) << err;
  EXPECT_EQ(ctl({"routes", "del", "two"}, "del-again"), 1);
  ASSERT_EQ(ctl({"routes", "list", "--json"}, "list-after"), 0) << err;
  routes = nlohmann::json::parse(out)["routes"];
  ASSERT_EQ(routes.size(), 1u) << out;
  EXPECT_EQ(routes[0]["breaker"]["state"], "closed") << out;

  ASSERT_EQ(ctl({"peers", "--json"}, "peers"), 0) << err;
  const auto peers = nlohmann::json::parse(out)["peers"];
  ASSERT_EQ(peers.size(), 1u) << out;
  EXPECT_EQ(peers[0]["link_key_ids"], nlohmann::json::array({7})) << out;
  EXPECT_EQ(peers[0]["counters"]["rx"], sent["sent"]["messages"]) << out;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"peers"}, {"peers", "--json"}, {"keys", "list"}, {"keys", "list", "--json"}, {"status"}}) {
    ASSERT_EQ(ctl(args, "show"), 0) << err;
    EXPECT_EQ(out.find("00112233445566778899aabbccddeeff"), std::string::npos) << "a secret in: " << out;
  }
  EXPECT_EQ(ferryd.err().find("00112233445566778899aabbccddeeff"), std::string::npos) << "a secret in the log";
  ASSERT_EQ(ctl({"keys", "rotate"}, "rotate"), 0) << err;
  ::chmod(key.c_str(), 0644);
  EXPECT_EQ(ctl({"keys", "rotate"}, "rotate-refused"), 1);
  EXPECT_NE(err.find(key), std::string::npos) << err;
  EXPECT_EQ(err.find("00112233445566778899aabbccddeeff"), std::string::npos) << err;
  ferryd.signal(SIGTERM);
  EXPECT_TRUE(ferryd.wait_for(10s).has_value());
}

// GET /metrics on the loopback listener of a ferryd that has routed traffic passes Prometheus' own checker.
TEST_F(FerrydE2e, MetricsOfALiveRouterPassPromtool) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  const int port = free_udp_port();  // a TCP port free too, in practice: both come from the same ephemeral range
  const std::string config = _dir.path() + "/ferry.toml";
  {
    const std::string base = write_config(route("wormhole-eth", "wormhole", "2", "\"*\""));
    std::string text;
    std::ifstream in(base);
    text.assign(std::istreambuf_iterator<char>(in), {});
    text.insert(text.find("[dataplane]"), "metrics = \"127.0.0.1:" + std::to_string(port) + "\"\n");
    std::ofstream(config) << text;
  }
  child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
  ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();
  std::string report;
  ASSERT_EQ(run(FERRY_LOADGEN_PATH,
                {"--target", _listen, "--sink", _sink, "--count", "50", "--rate", "1000", "--json", "--drain-ms",
                 "1000", "--mix", "valid=60,forged=20,unroutable=20", "--valid-flows", "wormhole:2:0",
                 "--unroutable-flows", "wormhole:3:0"},
                "loadgen", &report),
            0)
      << report;
  // One HTTP/1.1 GET over TCP, read to the end.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: ferry\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char chunk[4096];
  for (ssize_t got; (got = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) response.append(chunk, static_cast<std::size_t>(got));
  ::close(fd);
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response.substr(0, 200);
  const std::string body = response.substr(response.find("\r\n\r\n") + 4);
  EXPECT_NE(body.find("ferry_messages_received_total 50"), std::string::npos) << body.substr(0, 2000);
  EXPECT_NE(body.find("ferry_verify_outcomes_total{kind=\"wormhole\",outcome=\"bad_signature\"}"),
            std::string::npos);
  EXPECT_NE(body.find("ferry_message_latency_seconds_count"), std::string::npos);
  const std::string page = _dir.path() + "/metrics.txt";
  std::ofstream(page) << body;
  // promtool is the host's program: it runs outside the emulator that runs ferry's own programs.
  child_process promtool({"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < " + page},
                         _dir.path() + "/promtool");
  ASSERT_TRUE(promtool.started());
  EXPECT_EQ(promtool.wait_for(60s), std::optional<int>(0)) << promtool.out() << promtool.err();
  EXPECT_EQ(promtool.out() + promtool.err(), "") << "promtool's lint found something";
  ferryd.signal(SIGTERM);
  EXPECT_TRUE(ferryd.wait_for(10s).has_value());
}

// A running ferryd rotates its guardian sets when a real upgrade VAA arrives: Wormhole governance (chain 1,
// emitter 0x..04), signed by the devnet guardian (set 0), naming set 1. VAAs of set 1 pass from then on; the
// upgrade is counted and shown by `ferryctl keys list`.
TEST_F(FerrydE2e, GuardianSetUpgradeVaaRotatesTheSetsOfARunningFerryd) {
  const std::string config = _dir.path() + "/ferry.toml";
  std::ofstream(config) << "[control]\nsocket = \"" << _socket << "\"\n[dataplane]\nlisten = \"" << _listen
                        << "\"\ncpu = \"none\"\n" << route("eth", "wormhole", "2", "\"*\"")
                        << "[verify]\nwormhole_network = \"devnet\"\nguardian_set_upgrades = true\n";
  child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir.path() + "/ferryd");
  ASSERT_TRUE(wait_until_serving(ferryd)) << ferryd.err();
  const testing::guardian_keys devnet = testing::guardian_keys::devnet(),
                               next = testing::guardian_keys::generated("e2e next", 4);
  const int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const auto target = dp::endpoint::parse(_listen);
  ASSERT_TRUE(target.ok());
  const auto send = [&](const std::vector<std::byte>& vaa) {
    const auto frame = testing::frame_of({{1, vaa}});
    ASSERT_EQ(::sendto(sender, frame.data(), frame.size(), 0, target->address(), target->length()),
              static_cast<ssize_t>(frame.size()));
  };
  const auto keys = [&] {
    std::string out;
    EXPECT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "keys", "list", "--json"}, "keys", &out), 0);
    return nlohmann::json::parse(out);
  };
  send(next.vaa(1, 2, 1));  // set 1 is not known yet
  send(devnet.upgrade(0, 1, next));
  nlohmann::json now;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(50ms);
    now = keys();
  } while (now["wormhole"].size() < 2 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(now["wormhole"].size(), 2u) << now.dump() << ferryd.err();
  EXPECT_EQ(now["wormhole"][1]["index"], 1);
  EXPECT_EQ(now["wormhole"][1]["current"], true);
  EXPECT_GT(now["wormhole"][0]["expiration_time"].get<std::uint64_t>(), 0u) << "the old set expires a day on";
  send(next.vaa(1, 2, 2));
  std::string stats_text;
  const auto stats_deadline = std::chrono::steady_clock::now() + 10s;
  nlohmann::json stats;
  do {
    std::this_thread::sleep_for(50ms);
    ASSERT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "stats", "--json"}, "stats", &stats_text), 0);
    stats = nlohmann::json::parse(stats_text);
  } while (stats["rx"] != 3 && std::chrono::steady_clock::now() < stats_deadline);
  EXPECT_EQ(stats["rx"], 3) << stats_text;
  EXPECT_EQ(stats["drops"]["unknown_key_set"], 1) << "the set-1 VAA sent before the upgrade";
  EXPECT_EQ(stats["drops"]["no_route"], 1) << "the upgrade itself (chain 1): verified, applied, not routed";
  EXPECT_EQ(stats["forwarded"], 1) << "the set-1 VAA sent after it";
  EXPECT_NE(ferryd.err().find("guardian set 1 is current"), std::string::npos) << ferryd.err();
  ::close(sender);
  ferryd.signal(SIGTERM);
  EXPECT_TRUE(ferryd.wait_for(10s).has_value());
}

TEST_F(FerrydE2e, CheckConfigExitsZeroWhenValidAndTwoWithTheProblem) {
  std::string out;
  std::string err;
  const std::string good = write_config(route("r", "opaque", "1", "2"));
  EXPECT_EQ(run(FERRYD_PATH, {"--check-config", good}, "check-good", &out, &err), 0) << err;
  EXPECT_NE(out.find("valid (1 routes)"), std::string::npos) << out;

  const std::string bad = _dir.path() + "/bad.toml";
  std::ofstream(bad) << "[dataplane]\nlisten = \"127.0.0.1:7700\"\nburst = 500\n";
  EXPECT_EQ(run(FERRYD_PATH, {"--check-config", bad}, "check-bad", &out, &err), 2);
  EXPECT_NE(err.find(bad + ":3:9: dataplane.burst: 500 is out of range"), std::string::npos) << err;

  // A bad file given to --config stops ferryd the same way, before it binds anything.
  EXPECT_EQ(run(FERRYD_PATH, {"--config", bad}, "start-bad", &out, &err), 2);
  EXPECT_NE(err.find("dataplane.burst"), std::string::npos) << err;
}

TEST_F(FerrydE2e, PrintedDefaultConfigIsValid) {
  std::string text;
  ASSERT_EQ(run(FERRYD_PATH, {"--print-default-config"}, "print", &text), 0);
  const std::string path = _dir.path() + "/default.toml";
  std::ofstream(path) << text;
  std::string out;
  EXPECT_EQ(run(FERRYD_PATH, {"--check-config", path}, "check-default", &out), 0);
  EXPECT_NE(out.find("valid (6 routes)"), std::string::npos) << out;
}

TEST_F(FerrydE2e, FerryctlSaysWhenFerrydIsNotRunning) {
  std::string err;
  EXPECT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "stats"}, "ctl-none", nullptr, &err), 1);
  EXPECT_NE(err.find("is ferryd running?"), std::string::npos) << err;
  EXPECT_EQ(run(FERRYCTL_PATH, {"--socket", _socket, "frobnicate"}, "ctl-usage"), 2);
}

}  // namespace
}  // namespace ferry::ctl

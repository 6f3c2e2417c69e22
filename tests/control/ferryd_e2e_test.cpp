// End to end: ferryd, ferryctl and ferry-loadgen as separate processes on loopback.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/config.hpp"
#include "support/child_process.hpp"

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
    char dir[] = "/tmp/ferry-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    _dir = dir;
    _socket = _dir + "/ferryd.sock";
    _listen = "127.0.0.1:" + std::to_string(free_udp_port());
    _sink = "127.0.0.1:" + std::to_string(free_udp_port());
  }
  void TearDown() override { std::filesystem::remove_all(_dir); }

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
    const std::string path = _dir + "/ferry.toml";
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
    child_process child(command(program, std::move(args)), _dir + "/" + stem);
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
    child_process ferryd(command(FERRYD_PATH, {"--config", config}), _dir + "/ferryd");
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
    std::uint64_t dropped = 0;
    for (const auto& [reason, count] : stats["drops"].items()) dropped += count.get<std::uint64_t>();
    EXPECT_EQ(stats["rx"], messages) << stats_text;
    EXPECT_EQ(stats["rx"].get<std::uint64_t>(), stats["forwarded"].get<std::uint64_t>() + dropped) << stats_text;
    EXPECT_EQ(stats["forwarded"], valid);
    EXPECT_EQ(stats["drops"]["no_route"], unroutable);
    EXPECT_EQ(stats["drops"]["malformed"], malformed);
    EXPECT_EQ(stats["drops"]["bad_signature"], forged) << "every forged message, and nothing else";
    EXPECT_EQ(stats["drops"]["duplicate"], duplicate) << "every copy of a message already passed on";
    EXPECT_EQ(stats["drops"]["queue_full"], 0u);
    // Each stage balances, and what each kind of stage passes on, the next takes in.
    std::map<std::string, std::uint64_t> in, out;
    for (const auto& stage : stats["stages"]) {
      std::uint64_t stage_dropped = 0;
      for (const auto& [reason, count] : stage["drops"].items()) stage_dropped += count.get<std::uint64_t>();
      const std::string name = stage["name"];
      EXPECT_EQ(stage["rx"].get<std::uint64_t>(), stage["forwarded"].get<std::uint64_t>() + stage_dropped) << name;
      const std::string kind = name.substr(0, name.find_first_of("0123456789"));
      in[kind] += stage["rx"].get<std::uint64_t>();
      out[kind] += stage["forwarded"].get<std::uint64_t>();
    }
    if (path.layout == "staged") {
      EXPECT_EQ(out["io"], in["verify"]) << stats_text;
      EXPECT_EQ(out["verify"], in["route"]) << stats_text;
      EXPECT_EQ(in["io"], messages) << stats_text;
    } else {
      EXPECT_EQ(in["rtc"], messages) << stats_text;
    }
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
  std::string _dir;
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

TEST_F(FerrydE2e, CheckConfigExitsZeroWhenValidAndTwoWithTheProblem) {
  std::string out;
  std::string err;
  const std::string good = write_config(route("r", "opaque", "1", "2"));
  EXPECT_EQ(run(FERRYD_PATH, {"--check-config", good}, "check-good", &out, &err), 0) << err;
  EXPECT_NE(out.find("valid (1 routes)"), std::string::npos) << out;

  const std::string bad = _dir + "/bad.toml";
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
  const std::string path = _dir + "/default.toml";
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

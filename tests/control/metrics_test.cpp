#include "ferry/control/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

// The odd names: a quote, a backslash and a newline, which the format escapes; a byte that is not UTF-8, which
// prometheus_text() replaces.
const std::string odd_route = "a\"b\\c\nd";
const std::string not_utf8_peer = "peer\xff";

router_stats sample() {
  router_stats s;
  dp::counter_values& t = s.total;
  t.rx = 20;
  t.forwarded = 10;
  t.drop(dp::drop_reason::bad_signature, 7);
  t.drop(dp::drop_reason::no_route, 3);
  t.verdicts[0][static_cast<std::size_t>(verify::verdict::valid)] = 3;
  t.verdicts[0][static_cast<std::size_t>(verify::verdict::bad_signature)] = 7;
  t.latency[0] = 2;
  t.latency[3] = 5;
  t.latency[dp::latency_bucket_count - 1] = 1;
  t.latency_sum_ns = 1'500'000;

  dp::counter_values io;
  io.rx = 20;
  io.forwarded = 20;
  io.rx_datagrams = 20;
  io.rx_bytes = 4096;
  io.busy_polls = 5;
  io.idle_polls = 9;
  io.rx_lost = 1;
  dp::counter_values verify = {};
  verify.rx = 20;
  verify.forwarded = 13;
  verify.drop(dp::drop_reason::bad_signature, 7);
  verify.ring_high_water = 33;
  dp::counter_values route = {};
  route.rx = 13;
  route.forwarded = 10;
  route.drop(dp::drop_reason::no_route, 3);
  route.tx_datagrams = 10;
  route.tx_bytes = 2048;
  route.copies = 4;
  route.copy_errors = 1;
  s.stages = {{"io0", 0u, io}, {"verify0", 1u, verify}, {"route0", std::nullopt, route}};

  route_stats eth;
  eth.name = "eth->sol";
  eth.matched = 8;
  eth.forwarded = 6;
  eth.rate_limited = 1;
  eth.breaker_open = 1;
  eth.verified = 8;
  eth.verify_failed = 2;
  eth.breaker = "tripped";
  eth.trips = 1;
  route_stats odd;
  odd.name = odd_route;
  odd.matched = 2;
  odd.dropped_by_action = 2;
  s.routes = {eth, odd};

  s.peers = {{"relayer-a", 12, 0}, {not_utf8_peer, 8, 2}};
  s.keys.wormhole_current = 4;
  s.keys.wormhole_sets = 5;
  s.keys.hyperlane_origins = 2;
  s.keys.layerzero_paths = 1;
  s.keys.quorum_sets = 1;
  s.keys.guardian_set_upgrades = 1;
  s.snapshots_published = 3;
  s.snapshots_retired = 1;
  return s;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, DropCountersHaveEveryReasonWithZeros) {
  const std::string text = prometheus_text(sample(), 12.5);
  EXPECT_TRUE(has_line(text, R"(ferry_messages_dropped_total{reason="bad_signature"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_messages_dropped_total{reason="route_drop"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_dropped_total{stage="verify0",reason="bad_signature"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_dropped_total{stage="io0",reason="queue_full"} 0)")) << text;
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    const std::string reason = dp::to_string(static_cast<dp::drop_reason>(i));
    EXPECT_NE(text.find("ferry_messages_dropped_total{reason=\"" + reason + "\"}"), std::string::npos) << reason;
  }
  EXPECT_TRUE(has_line(text, "ferry_messages_received_total 20")) << text;
  EXPECT_TRUE(has_line(text, "ferry_messages_forwarded_total 10")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_received_total{stage="route0"} 13)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_ring_high_water{stage="verify0"} 33)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_rx_bytes_total{stage="io0"} 4096)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_stage_copy_errors_total{stage="route0"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_verify_outcomes_total{kind="wormhole",outcome="bad_signature"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_verify_outcomes_total{kind="quorum",outcome="duplicate"} 0)")) << text;
  EXPECT_TRUE(has_line(text, "ferry_uptime_seconds 12.5")) << text;
}

TEST(Metrics, LatencyHistogramIsCumulativeInSeconds) {
  const std::string text = prometheus_text(sample(), 1);
  const std::string expected = "# HELP ferry_message_latency_seconds "
                               "Time inside ferry from receiving a message to handing it to the backend.\n"
                               "# TYPE ferry_message_latency_seconds histogram\n"
                               "ferry_message_latency_seconds_bucket{le=\"1e-06\"} 2\n"
                               "ferry_message_latency_seconds_bucket{le=\"2e-06\"} 2\n"
                               "ferry_message_latency_seconds_bucket{le=\"4e-06\"} 2\n"
                               "ferry_message_latency_seconds_bucket{le=\"8e-06\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"1.6e-05\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"3.2e-05\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"6.4e-05\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.000128\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.000256\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.000512\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.001024\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.002048\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.004096\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.008192\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.016384\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"0.032768\"} 7\n"
                               "ferry_message_latency_seconds_bucket{le=\"+Inf\"} 8\n"
                               "ferry_message_latency_seconds_sum 0.0015\n"
                               "ferry_message_latency_seconds_count 8\n";
  EXPECT_NE(text.find(expected), std::string::npos) << text;
}

TEST(Metrics, EscapesLabelValues) {
  const std::string text = prometheus_text(sample(), 1);
  EXPECT_TRUE(has_line(text, R"(ferry_route_messages_total{route="a\"b\\c\nd"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ferry_route_dropped_total{route="a\"b\\c\nd",reason="route_drop"} 2)")) << text;
  EXPECT_TRUE(has_line(text, "ferry_peer_rate_limited_total{peer=\"peer\xef\xbf\xbd\"} 2")) << text;
  EXPECT_EQ(text.find('\xff'), std::string::npos);
}

TEST(Metrics, RoutesPeersKeysAndSnapshots) {
  const std::string text = prometheus_text(sample(), 1);
  for (const char* line : {
           R"(ferry_route_forwarded_total{route="eth->sol"} 6)",
           R"(ferry_route_dropped_total{route="eth->sol",reason="rate_limited_route"} 1)",
           R"(ferry_route_dropped_total{route="eth->sol",reason="breaker_open"} 1)",
           R"(ferry_route_verify_outcomes_total{route="eth->sol",outcome="verified"} 8)",
           R"(ferry_route_verify_outcomes_total{route="eth->sol",outcome="failed"} 2)",
           R"(ferry_route_breaker_state{route="eth->sol",state="closed"} 0)",
           R"(ferry_route_breaker_state{route="eth->sol",state="tripped"} 1)",
           R"(ferry_route_breaker_state{route="eth->sol",state="paused"} 0)",
           R"(ferry_route_breaker_state{route="a\"b\\c\nd",state="closed"} 1)",
           R"(ferry_route_breaker_trips_total{route="eth->sol"} 1)",
           R"(ferry_peer_messages_total{peer="relayer-a"} 12)",
           "ferry_wormhole_guardian_set_current 4",
           "ferry_wormhole_guardian_sets 5",
           "ferry_wormhole_guardian_set_upgrades_total 1",
           "ferry_hyperlane_origins 2",
           "ferry_layerzero_paths 1",
           "ferry_quorum_sets 1",
           "ferry_config_snapshots_published_total 3",
           "ferry_config_snapshots_retired 1",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
}

TEST(Metrics, NoCurrentGuardianSetMeansNoSuchFamily) {
  router_stats s = sample();
  s.keys.wormhole_current.reset();
  EXPECT_EQ(prometheus_text(s, 1).find("ferry_wormhole_guardian_set_current"), std::string::npos);
}

// Each sample belongs to the family whose HELP and TYPE came last, each family and each series appears once.
void check_structure(const std::string& text) {
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::set<std::string> families, series;
  std::string family, type;
  bool help_seen = false;
  for (const std::string& line : lines(text)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(family).second) << "family twice: " << family;
      help_seen = true;
      type.clear();
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(help_seen) << line;
      EXPECT_EQ(line.substr(7, family.size() + 1), family + " ") << line;
      type = line.substr(7 + family.size() + 1);
      continue;
    }
    ASSERT_FALSE(type.empty()) << "sample before its TYPE: " << line;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    std::string expected_family = name;
    if (type == "histogram") {
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
          expected_family = name.substr(0, name.size() - suffix.size());
        }
      }
    }
    EXPECT_EQ(expected_family, family) << line;
    EXPECT_TRUE(series.insert(line.substr(0, line.rfind(' '))).second) << "series twice: " << line;
  }
}

TEST(Metrics, EverySampleUnderItsOwnHelpAndType) {
  check_structure(prometheus_text(sample(), 1));
}

TEST(Metrics, SameStatsSameText) {
  EXPECT_EQ(prometheus_text(sample(), 3), prometheus_text(sample(), 3));
}

// ---- promtool ----

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

class MetricsPromtool : public ::testing::Test {
 protected:
  void SetUp() override {
    _promtool = find_on_path("promtool");
    if (!_promtool) GTEST_SKIP() << "promtool is not installed (Debian package prometheus): not checked";
  }

  struct ran {
    int code;
    std::string output;  // stdout and stderr: anything at all is a problem promtool found
  };

  // `promtool check metrics` reads the page on its standard input: its parse errors and lint problems alike.
  ran check(const std::string& text) {
    const std::string page = _dir.path() + "/metrics" + std::to_string(_runs) + ".txt";
    std::ofstream(page, std::ios::binary) << text;
    ferry::testing::child_process child({"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", *_promtool, page},
                                        _dir.path() + "/run" + std::to_string(_runs++));
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(code.has_value()) << "promtool did not finish";
    return {code.value_or(-1), child.out() + child.err()};
  }

  std::optional<std::string> _promtool;
  testing::temp_dir _dir{"metrics"};
  int _runs = 0;
};

TEST_F(MetricsPromtool, PageIsLintClean) {
  const ran r = check(prometheus_text(sample(), 12.5));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST_F(MetricsPromtool, EmptyRouterIsLintClean) {
  const std::string text = prometheus_text(router_stats{}, 0);
  check_structure(text);
  const ran r = check(text);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

// The check above can fail: a page with one family mistyped does not pass.
TEST_F(MetricsPromtool, FlagsABrokenPage) {
  std::string text = prometheus_text(sample(), 1);
  const std::string type = "# TYPE ferry_uptime_seconds gauge";
  const std::size_t at = text.find(type);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, type.size(), "# TYPE ferry_uptime_seconds counter");
  const ran r = check(text);
  EXPECT_NE(r.output, "") << "promtool found nothing wrong with a counter without _total";
  EXPECT_NE(r.code, 0) << r.output;
}

}  // namespace
}  // namespace ferry::ctl

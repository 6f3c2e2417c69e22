#include "ferry/control/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ferry/verify/demo_keys.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

const std::string minimal = "[dataplane]\nlisten = \"127.0.0.1:7700\"\n";

// The problems reported for `text`, which must be refused.
std::string problems(const std::string& text) {
  auto parsed = parse_config(text, "ferry.toml");
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? std::string() : parsed.err().message();
}

void expect_problem(const std::string& text, const std::string& expected) {
  const std::string message = problems(text);
  EXPECT_NE(message.find(expected), std::string::npos) << "expected \"" << expected << "\" in:\n" << message;
}

TEST(Config, BuiltInDefaultIsValid) {
  auto parsed = parse_config(default_config_text(), "built-in");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->listen.to_string(), "127.0.0.1:7700");
  EXPECT_EQ(parsed->control.socket, "/run/ferry/ferryd.sock");
  ASSERT_TRUE(parsed->control.metrics.has_value());
  EXPECT_EQ(parsed->control.metrics->to_string(), "127.0.0.1:9464");
  EXPECT_TRUE(parsed->peers.empty());
  EXPECT_TRUE(parsed->groups.empty());
  EXPECT_FALSE(parsed->guardian_set_upgrades);
  EXPECT_EQ(parsed->guardian_set_expiry, 86400u);
  for (const route_config& r : parsed->routes) {
    ASSERT_EQ(r.hops.size(), 1u) << r.name;
    EXPECT_EQ(r.hops[0].how, hop_config::type::udp);
    EXPECT_EQ(r.hops[0].udp.to_string(), "127.0.0.1:7701");
    EXPECT_EQ(r.action, route_action::forward);
    EXPECT_FALSE(r.emitter || r.limit || r.breaker);
  }
  EXPECT_EQ(parsed->routes.size(), 6u);
  EXPECT_EQ(parsed->routes[0].name, "wormhole-from-ethereum");
  EXPECT_EQ(parsed->routes[0].kind, verify::message_kind::wormhole);
  EXPECT_EQ(parsed->routes[0].source, 2u);
  EXPECT_FALSE(parsed->routes[0].destination.has_value());
  EXPECT_EQ(parsed->cpu.how, cpu_choice::mode::automatic);
}

// The default trusts exactly the demo keys the load generator signs with (verify/demo_keys.hpp).
TEST(Config, BuiltInDefaultTrustsTheDemoKeys) {
  auto parsed = parse_config(default_config_text(), "built-in");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  const verify::key_sets& keys = parsed->keys;
  EXPECT_EQ(parsed->wormhole_network, verify::wormhole::network::devnet);
  ASSERT_NE(keys.wormhole.find(0), nullptr);
  EXPECT_EQ(keys.wormhole.current_index(), 0u);
  for (const std::uint32_t origin : {1u, 10u}) {
    const auto* set = keys.hyperlane.find(origin);
    ASSERT_NE(set, nullptr) << origin;
    EXPECT_EQ(set->validators, std::vector<verify::eth_address>{verify::demo::hyperlane_validator()});
    EXPECT_EQ(set->threshold, 1);
  }
  const auto* path = keys.layerzero.find(30101);
  ASSERT_NE(path, nullptr);
  ASSERT_EQ(path->required.size(), 1u);
  EXPECT_EQ(path->required[0].address, verify::demo::layerzero_dvn());
  EXPECT_EQ(path->required[0].signers, std::vector<verify::eth_address>{verify::demo::layerzero_dvn_signer()});
  const auto* quorum = keys.quorum.find(verify::demo::quorum_key_set);
  ASSERT_NE(quorum, nullptr);
  EXPECT_EQ(quorum->keys, std::vector<verify::ed25519_public_key>{verify::demo::quorum_key()});
  EXPECT_EQ(parsed->verified_cache_entries, 65536u);
}

TEST(Config, WithoutAVerifySectionOnlyMainnetGuardianSetsAreTrusted) {
  auto parsed = parse_config(minimal, "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->keys.wormhole.current_index(), 7u);
  EXPECT_TRUE(parsed->keys.hyperlane.sets().empty());
  EXPECT_TRUE(parsed->keys.layerzero.paths().empty());
  EXPECT_TRUE(parsed->keys.quorum.sets().empty());
  auto none = parse_config(minimal + "[verify]\nwormhole_network = \"none\"\n", "ferry.toml");
  ASSERT_TRUE(none.ok()) << none.err().message();
  EXPECT_TRUE(none->keys.wormhole.sets().empty());
}

TEST(Config, ReadsKeySets) {
  const std::string a(40, 'a');
  const std::string b(40, 'b');
  const std::string text = minimal + "[verify]\ncache_entries = 0\n"
                           "[[verify.hyperlane]]\norigins = [5, 6]\nism = \"merkle-root-multisig\"\n"
                           "validators = [\"0x" + a + "\", \"" + b + "\"]\nthreshold = 2\n"
                           "[[verify.layerzero]]\nsrc_eids = [40161]\noptional_threshold = 1\n"
                           "[[verify.layerzero.required_dvns]]\naddress = \"0x" + a + "\"\nsigners = [\"0x" + b +
                           "\"]\nquorum = 1\n"
                           "[[verify.layerzero.optional_dvns]]\naddress = \"0x" + b + "\"\nsigners = [\"0x" + a +
                           "\", \"0x" + b + "\"]\nquorum = 2\n"
                           "[[verify.quorum]]\nkey_set = 77\nkeys = [\"" + std::string(64, 'c') + "\"]\nthreshold = 1\n";
  auto parsed = parse_config(text, "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->verified_cache_entries, 0u);
  const auto* five = parsed->keys.hyperlane.find(5);
  ASSERT_NE(five, nullptr);
  ASSERT_NE(parsed->keys.hyperlane.find(6), nullptr);
  EXPECT_EQ(five->ism, verify::hyperlane::ism_type::merkle_root_multisig);
  ASSERT_EQ(five->validators.size(), 2u);
  EXPECT_EQ(five->validators[0][0], std::byte{0xaa});
  EXPECT_EQ(five->validators[1][19], std::byte{0xbb});
  EXPECT_EQ(five->threshold, 2);
  const auto* path = parsed->keys.layerzero.find(40161);
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(path->optional_threshold, 1);
  ASSERT_EQ(path->optional.size(), 1u);
  EXPECT_EQ(path->optional[0].quorum, 2);
  const auto* quorum = parsed->keys.quorum.find(77);
  ASSERT_NE(quorum, nullptr);
  EXPECT_EQ(quorum->keys[0][31], std::byte{0xcc});
}

TEST(Config, KeySetMistakesAreNamed) {
  const std::string v = "\"0x" + std::string(40, 'a') + "\"";
  expect_problem(minimal + "[verify]\nwormhole_network = \"testnet\"\n",
                 "ferry.toml:4:20: verify.wormhole_network: 'testnet': expected \"mainnet\", \"devnet\" or \"none\"");
  expect_problem(minimal + "[verify]\ncache_entries = -1\n", "verify.cache_entries: -1 is out of range");
  expect_problem(minimal + "[[verify.hyperlane]]\norigins = [1]\nism = \"multisig\"\nvalidators = [" + v +
                     "]\nthreshold = 1\n",
                 "verify.hyperlane[0].ism: 'multisig': expected");
  expect_problem(minimal + "[[verify.hyperlane]]\norigins = [1]\nvalidators = [\"0x12\"]\nthreshold = 1\n",
                 "verify.hyperlane[0].validators[0]: expected addresses of 40 hex digits");
  expect_problem(minimal + "[[verify.hyperlane]]\norigins = [1]\nvalidators = [" + v + "]\nthreshold = 2\n",
                 "verify.hyperlane[0]: ");
  expect_problem(minimal + "[[verify.hyperlane]]\nvalidators = [" + v + "]\nthreshold = 1\n",
                 "verify.hyperlane[0].origins: missing");
  expect_problem(minimal + "[[verify.hyperlane]]\norigins = [1]\nvalidators = [" + v + "]\n",
                 "verify.hyperlane[0].threshold: missing");
  expect_problem(minimal + "[[verify.hyperlane]]\norigins = [1, 1]\nvalidators = [" + v + "]\nthreshold = 1\n",
                 "hyperlane");  // the same origin twice
  expect_problem(minimal + "[[verify.layerzero]]\nsrc_eids = [1]\n[[verify.layerzero.required_dvns]]\nsigners = [" +
                     v + "]\nquorum = 1\n",
                 "verify.layerzero[0].required_dvns[0].address: missing");
  expect_problem(minimal + "[[verify.quorum]]\nkeys = [\"00\"]\nthreshold = 1\n", "verify.quorum[0].key_set: missing");
  expect_problem(minimal + "[[verify.quorum]]\nkey_set = 1\nkeys = [\"00\"]\nthreshold = 1\n",
                 "verify.quorum[0].keys[0]: expected Ed25519 public keys of 64 hex digits");
  expect_problem(minimal + "[verify]\nhyperlane = 3\n", "verify.hyperlane: expected [[verify.hyperlane]] tables");
  expect_problem(minimal + "[verify]\ncache_entrys = 3\n", "verify.cache_entrys: unknown field; did you mean 'cache_entries'?");
}

TEST(Config, MinimalFileTakesDefaults) {
  auto parsed = parse_config(minimal, "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->burst, 32u);
  EXPECT_EQ(parsed->buffer_size, 2048u);
  EXPECT_EQ(parsed->poll, dp::poll_mode::adaptive);
  EXPECT_TRUE(parsed->routes.empty());
}

TEST(Config, ReadsEveryField) {
  auto parsed = parse_config(R"(
[control]
socket = "/tmp/x.sock"
[dataplane]
backend = "socket"
listen = "[::1]:9000"
cpu = 3
poll = "busy"
burst = 16
buffers = 64
buffer_size = 9000
max_frame = 9000
socket_buffer = 65536
[[routes]]
name = "r"
kind = "*"
source = "*"
destination = 4294967295
next_hop = "10.0.0.1:1"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->control.socket, "/tmp/x.sock");
  EXPECT_EQ(parsed->listen.to_string(), "[::1]:9000");
  EXPECT_EQ(parsed->cpu.how, cpu_choice::mode::fixed);
  EXPECT_EQ(parsed->cpu.cpus, std::vector<unsigned>{3});
  EXPECT_EQ(parsed->poll, dp::poll_mode::busy);
  EXPECT_EQ(parsed->burst, 16u);
  EXPECT_EQ(parsed->buffers, 64u);
  EXPECT_EQ(parsed->buffer_size, 9000u);
  EXPECT_EQ(parsed->max_frame, 9000u);
  EXPECT_EQ(parsed->socket_buffer, 65536u);
  ASSERT_EQ(parsed->routes.size(), 1u);
  EXPECT_FALSE(parsed->routes[0].kind.has_value());
  EXPECT_FALSE(parsed->routes[0].source.has_value());
  EXPECT_EQ(parsed->routes[0].destination, 4294967295u);
}

TEST(Config, SyntaxErrorNamesTheLine) {
  expect_problem("[dataplane]\nlisten = \"127.0.0.1:1\n", "ferry.toml:2:");
  expect_problem("[dataplane]\nlisten = \"127.0.0.1:1\n", "TOML syntax");
}

TEST(Config, UnknownFieldsSuggestTheNearestKnownOne) {
  expect_problem(minimal + "burts = 3\n", "ferry.toml:3:1: dataplane.burts: unknown field; did you mean 'burst'?");
  expect_problem("[dataplan]\nlisten = \"127.0.0.1:1\"\n", "dataplan: unknown field; did you mean 'dataplane'?");
  expect_problem(minimal + "colour = 1\n", "dataplane.colour: unknown field (known here: backend listen");
}

TEST(Config, WrongTypesSayWhatWasExpected) {
  expect_problem(minimal + "burst = \"32\"\n",
                 "ferry.toml:3:9: dataplane.burst: expected an integer from 1 to 64, found a string");
  expect_problem(minimal + "poll = 1\n", "dataplane.poll: expected \"adaptive\" or \"busy\", found an integer");
  expect_problem(minimal + "cpu = 1.5\n",
                 "dataplane.cpu: expected \"auto\", \"none\", a core number or a list of core numbers, found a number");
  expect_problem("dataplane = 3\n", "ferry.toml:1:13: dataplane: expected a table, found an integer");
  expect_problem(minimal + "[[routes]]\nname = \"r\"\nkind = \"opaque\"\nsource = true\ndestination = 1\n"
                           "next_hop = \"127.0.0.1:1\"\n",
                 "routes[0].source: expected \"*\" or an integer from 0 to 4294967295, found a boolean");
}

TEST(Config, OutOfRangeValuesSayTheRange) {
  expect_problem(minimal + "burst = 0\n", "dataplane.burst: 0 is out of range; expected an integer from 1 to 64");
  expect_problem(minimal + "burst = 65\n", "dataplane.burst: 65 is out of range");
  expect_problem(minimal + "buffer_size = 70000\n", "dataplane.buffer_size: 70000 is out of range");
  expect_problem(minimal + "cpu = -1\n", "dataplane.cpu: -1 is not a core number");
  expect_problem(minimal + "buffers = 8\nburst = 16\n", "dataplane.buffers: 8 buffers cannot hold a burst of 16");
}

TEST(Config, BadValuesNameTheField) {
  expect_problem("[dataplane]\nlisten = \"localhost:7700\"\n",
                 "ferry.toml:2:10: dataplane.listen: 'localhost:7700': 'localhost' is not a numeric IPv4 address");
  expect_problem(minimal + "backend = \"xdp\"\n",
                 "dataplane.backend: 'xdp': expected \"auto\", \"socket\", \"io_uring\" or \"dpdk\"");
  expect_problem(minimal + "backend = \"dpdk\"\n", "dataplane.dpdk: missing; backend = \"dpdk\" needs its EAL arguments");
  expect_problem(minimal + "[dataplane.dpdk]\nnext_hop_mac = \"02:00:00:00:00\"\n",
                 "dataplane.dpdk.next_hop_mac: '02:00:00:00:00' is not a MAC address");
  expect_problem(minimal + "layout = \"pipelined\"\n",
                 "dataplane.layout: 'pipelined': expected \"auto\", \"run-to-completion\" or \"staged\"");
  expect_problem(minimal + "verify_stages = 2\n", "dataplane.verify_stages: stage counts apply to layout = \"staged\" only");
  expect_problem(minimal + "ring_size = 1000\n", "dataplane.ring_size: 1000 is not a power of two");
  expect_problem(minimal + "trusted_upstreams = [\"10.0.0.1\"]\n",
                 "ferry.toml:3:21: dataplane.trusted_upstreams: no longer here: trust is per peer; give each upstream "
                 "router a [[peers]] table with its addresses and trust = \"verified-upstream\"");
  expect_problem(minimal + "poll = \"lazy\"\n", "dataplane.poll: 'lazy': expected \"adaptive\" or \"busy\"");
  expect_problem(minimal + "cpu = \"first\"\n", "dataplane.cpu: 'first': expected \"auto\", \"none\", a core number");
  expect_problem("[control]\nsocket = \"\"\n" + minimal, "control.socket: must be a path of 1 to 107 bytes");
}

TEST(Config, MissingRequiredFieldsAreNamed) {
  expect_problem("[control]\n", "dataplane: missing; it says at least where to listen");
  expect_problem("[dataplane]\nburst = 8\n", "ferry.toml:1:1: dataplane.listen: missing; expected \"address:port\"");
  const std::string message = problems(minimal + "[[routes]]\nkind = \"opaque\"\n");
  EXPECT_NE(message.find("ferry.toml:3:1: routes[0].name: missing"), std::string::npos) << message;
  EXPECT_NE(message.find("routes[0].source: missing"), std::string::npos) << message;
  EXPECT_NE(message.find("routes[0].destination: missing"), std::string::npos) << message;
  EXPECT_NE(message.find("routes[0].next_hop: missing"), std::string::npos) << message;
}

TEST(Config, RouteMistakesAreNamed) {
  const std::string route = "[[routes]]\nname = \"a\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\n"
                            "next_hop = \"127.0.0.1:1\"\n";
  expect_problem(minimal + "[[routes]]\nname = \"a\"\nkind = \"wormhol\"\nsource = 1\ndestination = 2\n"
                           "next_hop = \"127.0.0.1:1\"\n",
                 "ferry.toml:5:8: routes[0].kind: unknown kind 'wormhol'; expected wormhole, hyperlane, layerzero, "
                 "opaque, quorum or \"*\"");
  expect_problem(minimal + "[[routes]]\nname = \"a\"\nkind = \"opaque\"\nsource = 4294967296\ndestination = 2\n"
                           "next_hop = \"127.0.0.1:1\"\n",
                 "routes[0].source: 4294967296 is out of range");
  expect_problem(minimal + "[[routes]]\nname = \"a\"\nkind = \"opaque\"\nsource = \"any\"\ndestination = 2\n"
                           "next_hop = \"127.0.0.1:1\"\n",
                 "routes[0].source: 'any' is not \"*\" or an integer");
  expect_problem(minimal + route + route, "routes[1].name: 'a' names another route too");
  std::string same_match = route;
  same_match.replace(same_match.find("\"a\""), 3, "\"b\"");
  expect_problem(minimal + route + same_match,
                 "ferry.toml:9:1: routes[1]: matches the same kind, source, destination and emitter as route 'a'; "
                 "one of them could never be chosen");
  expect_problem("routes = 3\n" + minimal, "ferry.toml:1:10: routes: expected [[routes]] tables");
}

TEST(Config, EveryProblemIsReportedInFileOrder) {
  const std::string message = problems("[dataplane]\nburst = 0\nlisten = \"x\"\nbuffer_size = 1\n");
  const auto burst = message.find("dataplane.burst");
  const auto listen = message.find("dataplane.listen");
  const auto size = message.find("dataplane.buffer_size");
  ASSERT_NE(burst, std::string::npos);
  ASSERT_NE(listen, std::string::npos);
  ASSERT_NE(size, std::string::npos);
  EXPECT_LT(burst, listen);
  EXPECT_LT(listen, size);
}

TEST(Config, ReadsTheBackendLayoutAndDpdkFields) {
  auto parsed = parse_config(R"(
[dataplane]
backend = "dpdk"
listen = "10.0.0.2:7700"
layout = "staged"
io_stages = 2
verify_stages = 3
route_stages = 1
cpu = [0, 0, 1, 1, 1, 0]
ring_size = 4096
[dataplane.dpdk]
eal_args = ["--no-huge", "-m", "512"]
port = 1
next_hop_mac = "02:00:00:00:00:0a"
mbufs = 4095
[[peers]]
name = "upstream"
addresses = ["10.0.0.1", "fd00::1"]
trust = "verify"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->backend, dp::backend_choice::dpdk);
  ASSERT_EQ(parsed->peers.size(), 1u);
  ASSERT_EQ(parsed->peers[0].addresses.size(), 2u);
  EXPECT_EQ(parsed->peers[0].trust, trust_policy::verify);
  EXPECT_TRUE(parsed->peers[0].addresses[0].same_host(*dp::endpoint::parse("10.0.0.1:9")));
  EXPECT_TRUE(parsed->peers[0].addresses[1].same_host(*dp::endpoint::parse("[fd00::1]:9")));
  EXPECT_EQ(parsed->layout.how, layout_choice::mode::staged);
  EXPECT_EQ(parsed->layout.io, 2u);
  EXPECT_EQ(parsed->layout.verify, 3u);
  EXPECT_EQ(parsed->ring_size, 4096u);
  EXPECT_EQ(parsed->dpdk.eal_args, (std::vector<std::string>{"--no-huge", "-m", "512"}));
  EXPECT_EQ(parsed->dpdk.port, 1u);
  EXPECT_EQ(parsed->dpdk.next_hop_mac, (std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 10}));
  EXPECT_EQ(parsed->dpdk.mbufs, 4095u);

  auto layout = resolve_layout(*parsed, std::vector<unsigned>{0, 1});
  ASSERT_TRUE(layout.ok()) << layout.err().message();
  EXPECT_EQ(layout->stage_count(), 6u);
  EXPECT_EQ(layout->cpus[2], 1u);
  parsed->cpu.cpus.pop_back();
  layout = resolve_layout(*parsed, std::vector<unsigned>{0, 1});
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.err().message(), "dataplane.cpu: 5 cores listed for 6 stages (io, verify, route in that order)");
}

TEST(Config, TheDefaultLayoutFitsTheCores) {
  config cfg;
  auto one = resolve_layout(cfg, std::vector<unsigned>{3});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->mode, dp::layout_mode::run_to_completion);
  EXPECT_EQ(one->cpus, (std::vector<std::optional<unsigned>>{3u}));
  auto two = resolve_layout(cfg, std::vector<unsigned>{0, 1});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->mode, dp::layout_mode::staged);
  EXPECT_EQ(two->stage_count(), 3u);  // io and route on core 0, verify on core 1
  EXPECT_EQ(two->cpus, (std::vector<std::optional<unsigned>>{0u, 1u, 0u}));
  auto eight = resolve_layout(cfg, std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7});
  ASSERT_TRUE(eight.ok());
  EXPECT_EQ(eight->verify, 6u);
  EXPECT_EQ(eight->cpus.front(), 0u);  // io
  EXPECT_EQ(eight->cpus.back(), 1u);   // route
  cfg.layout.how = layout_choice::mode::run_to_completion;
  cfg.cpu.how = cpu_choice::mode::unpinned;
  auto rtc = resolve_layout(cfg, std::vector<unsigned>{0, 1});
  ASSERT_TRUE(rtc.ok());
  EXPECT_EQ(rtc->mode, dp::layout_mode::run_to_completion);
  EXPECT_EQ(rtc->cpus, (std::vector<std::optional<unsigned>>{std::nullopt}));
}

TEST(Config, ReadsTheControlSection) {
  auto parsed = parse_config("[control]\nsocket = \"/tmp/f.sock\"\nsocket_owner = \"root\"\nsocket_group = 0\n"
                             "metrics = \"[::1]:9464\"\n" + minimal,
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->control.socket_owner, "root");
  EXPECT_EQ(parsed->control.socket_group, "0");
  ASSERT_TRUE(parsed->control.metrics.has_value());
  EXPECT_EQ(parsed->control.metrics->to_string(), "[::1]:9464");
  parsed = parse_config("[control]\nsocket_owner = \"1000\"\nmetrics = \"127.3.2.1:80\"\n" + minimal, "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->control.socket_owner, "1000");
  EXPECT_FALSE(parsed->control.socket_group.has_value());
  EXPECT_EQ(parsed->control.metrics->to_string(), "127.3.2.1:80");
  parsed = parse_config(minimal, "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_FALSE(parsed->control.metrics.has_value());  // no listener unless asked for
  EXPECT_FALSE(parsed->control.socket_owner.has_value());
}

TEST(Config, ControlMistakesAreNamed) {
  expect_problem("[control]\nsocket_owner = \"no-such-user-ferry\"\n" + minimal,
                 "ferry.toml:2:16: control.socket_owner: no user 'no-such-user-ferry' on this system; expected a "
                 "user name or a numeric uid");
  expect_problem("[control]\nsocket_group = \"no such group\"\n" + minimal,
                 "control.socket_group: no group 'no such group' on this system; expected a group name or a numeric "
                 "gid");
  expect_problem("[control]\nsocket_group = 4294967295\n" + minimal,
                 "control.socket_group: 4294967295 is out of range; expected a group name or a numeric gid");
  expect_problem("[control]\nsocket_owner = \"99999999999\"\n" + minimal,
                 "control.socket_owner: '99999999999' is out of range; expected a user name or a numeric uid");
  expect_problem("[control]\nsocket_owner = true\n" + minimal,
                 "control.socket_owner: expected a user name or a numeric uid, found a boolean");
  expect_problem("[control]\nmetrics = \"0.0.0.0:9464\"\n" + minimal,
                 "ferry.toml:2:11: control.metrics: '0.0.0.0:9464' is not a loopback address; /metrics is served on "
                 "127.0.0.0/8 or [::1] only (put a proxy in front to publish it)");
  expect_problem("[control]\nmetrics = \"[::ffff:127.0.0.1]:9464\"\n" + minimal,
                 "control.metrics: '[::ffff:127.0.0.1]:9464' is not a loopback address");
  expect_problem("[control]\nmetrics = \"127.0.0.1:0\"\n" + minimal,
                 "control.metrics: port 0: give the port to serve /metrics on");
  expect_problem("[control]\nmetrics = \"localhost:9464\"\n" + minimal,
                 "control.metrics: 'localhost:9464': 'localhost' is not a numeric IPv4 address");
  expect_problem("[control]\nmetric = \"127.0.0.1:9464\"\n" + minimal,
                 "control.metric: unknown field; did you mean 'metrics'?");
}

// A directory for key files, removed at the end of the test.
class ConfigKeys : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = _dir.path() + "/" + name;
    std::ofstream(path) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  testing::temp_dir _dir{"config"};
};

TEST_F(ConfigKeys, ReadsWhenLinkKeysAreSentWithHowLongRemovedOnesLastAndTheirMac) {
  const std::string key1 = write("a-1.key", std::string(64, '1'), 0600);
  auto parsed = parse_config(minimal + R"(
[[peers]]
name = "core-2"
addresses = ["10.0.0.5:7700"]
trust = "verified-upstream"
key_grace = 30
[[peers.link_keys]]
id = 7
file = ")" + key1 + R"("
send_from = 1790000000
mac = "blake2b"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  ASSERT_EQ(parsed->peers[0].link_keys.size(), 1u);
  EXPECT_EQ(parsed->peers[0].link_keys[0].send_from, 1790000000u);
  EXPECT_EQ(parsed->peers[0].link_keys[0].mac, dp::link_mac::blake2b);
  EXPECT_EQ(parsed->peers[0].key_grace, 30u);
  auto defaults = parse_config(minimal + R"(
[[peers]]
name = "core-2"
addresses = ["10.0.0.5:7700"]
[[peers.link_keys]]
id = 7
file = ")" + key1 + R"("
)",
                               "ferry.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.err().message();
  EXPECT_EQ(defaults->peers[0].link_keys[0].send_from, 0u);
  EXPECT_EQ(defaults->peers[0].link_keys[0].mac, dp::link_mac::hmac_sha256);
  EXPECT_EQ(defaults->peers[0].key_grace, 600u);
  // One peer whose key 7 is in `file` and says `mac`.
  const auto keyed = [&](const std::string& file, const std::string& mac) {
    return minimal + R"(
[[peers]]
name = "core-2"
addresses = ["10.0.0.5:7700"]
[[peers.link_keys]]
id = 7
file = ")" + file + R"("
mac = ")" + mac + R"("
)";
  };
  EXPECT_EQ(problems(keyed(key1, "hmac-sha1")),
            "ferry.toml:10:7: peers[0].link_keys[0].mac: 'hmac-sha1': expected \"hmac-sha256\", \"blake2b\" or "
            "\"chacha20-poly1305\"");
  // The AEAD takes a 32-byte key, and only that.
  const std::string key16 = write("a-16.key", std::string(32, '2'), 0600);
  auto aead = parse_config(keyed(key1, "chacha20-poly1305"), "ferry.toml");
  ASSERT_TRUE(aead.ok()) << aead.err().message();
  EXPECT_EQ(aead->peers[0].link_keys[0].mac, dp::link_mac::chacha20_poly1305);
  EXPECT_EQ(problems(keyed(key16, "chacha20-poly1305")),
            "ferry.toml:9:8: peers[0].link_keys[0].file: " + key16 +
                ": 16 bytes; a chacha20-poly1305 link key is exactly 32 bytes (64 hex digits)");
}

TEST_F(ConfigKeys, AVerifiedUpstreamPeerNeedsLinkKeys) {
  EXPECT_EQ(problems(minimal + R"(
[[peers]]
name = "core-2"
addresses = ["10.0.0.5:7700"]
trust = "verified-upstream"
key_grace = -1
)"),
               "ferry.toml:7:9: peers[0].trust: \"verified-upstream\" needs [[peers.link_keys]]: the mark is honoured "
               "only on authenticated links (a source address can be forged)\n"
               "ferry.toml:8:13: peers[0].key_grace: -1 is out of range; expected an integer from 0 to 604800");
}

TEST(Config, ReadsTheStateDirectoryAndWhomToBecome) {
  auto parsed = parse_config(minimal + R"(
[state]
directory = "/var/lib/ferry"
replay_channels = 1024
sync_ms = 250
[process]
user = "nobody"
group = "0"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->state.directory, "/var/lib/ferry");
  EXPECT_EQ(parsed->state.replay_channels, 1024u);
  EXPECT_EQ(parsed->state.sync_ms, 250u);
  EXPECT_EQ(parsed->process.user, "nobody");
  EXPECT_EQ(parsed->process.group, "0");
  EXPECT_EQ(problems(minimal + R"(
[state]
directory = "var/lib/ferry"
replay_channels = 1000
sync_ms = 1
[process]
user = "no-such-user-here"
)"),
            "ferry.toml:5:13: state.directory: 'var/lib/ferry' is not an absolute path\n"
            "ferry.toml:6:19: state.replay_channels: 1000 is not a power of two\n"
            "ferry.toml:7:11: state.sync_ms: 1 is out of range; expected an integer from 10 to 3600000\n"
            "ferry.toml:9:8: process.user: no user 'no-such-user-here' on this system; expected a user name or a "
            "numeric uid");
}

TEST_F(ConfigKeys, ReadsPeers) {
  const std::string key1 = write("a-1.key", std::string(64, '1'), 0600);
  const std::string key2 = write("a-2.key", "# next\n" + std::string(32, 'f'), 0640);
  auto parsed = parse_config(minimal + R"(
[[peers]]
name = "guardian-a"
addresses = ["10.0.0.5:7700", "10.0.0.6", "[fd00::7]:7700", "fd00::8"]
trust = "verified-upstream"
rate = 50000
burst = 1000
[[peers.link_keys]]
id = 1
file = ")" + key1 + R"("
[[peers.link_keys]]
id = 65535
file = ")" + key2 + R"("

[[peers]]
name = "relayer_b.2"
addresses = ["10.0.0.9"]
rate = 2.5
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  ASSERT_EQ(parsed->peers.size(), 2u);
  const peer_config& a = parsed->peers[0];
  EXPECT_EQ(a.name, "guardian-a");
  ASSERT_EQ(a.addresses.size(), 4u);
  EXPECT_EQ(a.addresses[0].to_string(), "10.0.0.5:7700");
  EXPECT_EQ(a.addresses[1].to_string(), "10.0.0.6:0");
  EXPECT_EQ(a.addresses[2].to_string(), "[fd00::7]:7700");
  EXPECT_EQ(a.addresses[3].to_string(), "[fd00::8]:0");
  EXPECT_EQ(a.trust, trust_policy::verified_upstream);
  ASSERT_TRUE(a.limit.has_value());
  EXPECT_EQ(a.limit->rate, 50000.0);
  EXPECT_EQ(a.limit->burst, 1000u);
  ASSERT_EQ(a.link_keys.size(), 2u);
  EXPECT_EQ(a.link_keys[0].id, 1u);
  EXPECT_EQ(a.link_keys[0].file, key1);
  EXPECT_EQ(a.link_keys[0].secret, std::vector<std::byte>(32, std::byte{0x11}));
  EXPECT_EQ(a.link_keys[1].id, 65535u);
  EXPECT_EQ(a.link_keys[1].secret, std::vector<std::byte>(16, std::byte{0xff}));
  const peer_config& b = parsed->peers[1];
  EXPECT_EQ(b.trust, trust_policy::verify);  // the default
  ASSERT_TRUE(b.limit.has_value());
  EXPECT_EQ(b.limit->rate, 2.5);
  EXPECT_EQ(b.limit->burst, 1u);  // a tenth of the rate, at least 1
  EXPECT_TRUE(b.link_keys.empty());
  parsed = parse_config(minimal + "[[peers]]\nname = \"p\"\naddresses = [\"10.0.0.1\"]\nrate = 1000\n", "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->peers[0].limit->burst, 100u);
  EXPECT_FALSE(parse_config(minimal, "ferry.toml")->peers.size());
}

TEST(Config, PeerMistakesAreNamed) {
  const std::string peer = "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\"]\n";
  expect_problem(minimal + "[[peers]]\naddresses = [\"10.0.0.1\"]\n",
                 "ferry.toml:3:1: peers[0].name: missing; every peer needs a name");
  expect_problem(minimal + "[[peers]]\nname = \"10.0.0.1:7700\"\naddresses = [\"10.0.0.1\"]\n",
                 "ferry.toml:4:8: peers[0].name: '10.0.0.1:7700': a name is 1 to 64 letters, digits, '-', '_' or "
                 "'.', a letter first");
  expect_problem(minimal + peer + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.2\"]\n",
                 "ferry.toml:7:8: peers[1].name: 'a' names another peer too");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\n",
                 "ferry.toml:3:1: peers[0].addresses: missing; expected a list of addresses the peer sends from "
                 "(\"address:port\", or an address alone for any port)");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = []\n",
                 "peers[0].addresses: expected a non-empty list of addresses, found an empty list");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = \"10.0.0.1\"\n",
                 "peers[0].addresses: expected a non-empty list of addresses, found a string");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\", \"host.example\"]\n",
                 "ferry.toml:5:26: peers[0].addresses[1]: 'host.example' is not a numeric IPv4 or IPv6 address (host "
                 "names are not resolved), \"address:port\" or \"[IPv6]:port\"");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1:99999\"]\n",
                 "peers[0].addresses[0]: '10.0.0.1:99999': port must be a number from 0 to 65535");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [7700]\n",
                 "peers[0].addresses[0]: expected an address, found an integer");
  expect_problem(minimal + peer + "[[peers]]\nname = \"b\"\naddresses = [\"10.0.0.1:7700\"]\n",
                 "ferry.toml:8:14: peers[1].addresses[0]: '10.0.0.1:7700' is also an address of peer 'a'; a sender "
                 "must be one peer");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1:5\", \"10.0.0.1\"]\n",
                 "peers[0].addresses[1]: '10.0.0.1' overlaps an address listed before it");
  expect_problem(minimal + peer + "trust = \"trusted\"\n",
                 "ferry.toml:6:9: peers[0].trust: 'trusted': expected \"verify\" or \"verified-upstream\"");
  expect_problem(minimal + peer + "rate = 0\n",
                 "peers[0].rate: 0 is out of range; expected a number of messages a second, more than 0 and at most "
                 "1000000000");
  expect_problem(minimal + peer + "rate = nan\n", "peers[0].rate: nan is out of range");
  expect_problem(minimal + peer + "rate = \"fast\"\n",
                 "peers[0].rate: expected a number of messages a second, more than 0 and at most 1000000000, found a "
                 "string");
  expect_problem(minimal + peer + "burst = 10\n", "ferry.toml:6:9: peers[0].burst: applies with rate only: give the rate too");
  expect_problem(minimal + peer + "rate = 10\nburst = 0\n",
                 "peers[0].burst: 0 is out of range; expected an integer from 1 to 4294967295");
  expect_problem(minimal + peer + "tust = \"verify\"\n", "peers[0].tust: unknown field; did you mean 'trust'?");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [\"*\", \"10.0.0.1\"]\n",
                 "ferry.toml:5:14: peers[0].addresses[0]: \"*\" (every sender no other peer lists) must be the only "
                 "address");
  expect_problem(minimal + "[[peers]]\nname = \"a\"\naddresses = [\"*\"]\n[[peers]]\nname = \"b\"\naddresses = [\"*\"]\n",
                 "ferry.toml:8:14: peers[1].addresses[0]: peer 'a' is \"*\" already; only one peer can be");
  expect_problem("peers = 1\n" + minimal, "ferry.toml:1:9: peers: expected [[peers]] tables");
}

TEST_F(ConfigKeys, LinkKeyMistakesAreNamed) {
  const std::string peer = minimal + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\"]\n";
  const std::string good = write("good.key", std::string(32, '0'), 0600);
  expect_problem(peer + "[[peers.link_keys]]\nfile = \"" + good + "\"\n",
                 "ferry.toml:6:1: peers[0].link_keys[0].id: missing; expected an integer from 1 to 65535 (the key_id "
                 "frames carry)");
  expect_problem(peer + "[[peers.link_keys]]\nid = 0\nfile = \"" + good + "\"\n",
                 "peers[0].link_keys[0].id: 0 is out of range; expected an integer from 1 to 65535");
  expect_problem(peer + "[[peers.link_keys]]\nid = 3\nfile = \"" + good + "\"\n[[peers.link_keys]]\nid = 3\nfile = \"" +
                     good + "\"\n",
                 "ferry.toml:10:6: peers[0].link_keys[1].id: 3 is the id of another link key of this peer");
  expect_problem(peer + "[[peers.link_keys]]\nid = 1\n",
                 "ferry.toml:6:1: peers[0].link_keys[0].file: missing; expected the key file's path");
  expect_problem(peer + "[[peers.link_keys]]\nid = 1\nfile = \"keys/a.key\"\n",
                 "ferry.toml:8:8: peers[0].link_keys[0].file: 'keys/a.key' is not an absolute path");
  expect_problem(peer + "[[peers.link_keys]]\nid = 1\nfile = \"" + _dir.path() + "/none.key\"\n",
                 "ferry.toml:8:8: peers[0].link_keys[0].file: " + _dir.path() +
                     "/none.key: cannot open: No such file or directory");
  expect_problem(peer + "[[peers.link_keys]]\nid = 1\nfle = \"" + good + "\"\n",
                 "peers[0].link_keys[0].fle: unknown field; did you mean 'file'?");
  expect_problem(peer + "link_keys = 1\n", "peers[0].link_keys: expected [[peers[0].link_keys]] tables");
}

// A secret in a key file never reaches a message, whatever is wrong with the file.
TEST_F(ConfigKeys, ASecretNeverAppearsInAMessage) {
  const std::string secret = "c0ffee5ec2e7c0ffee5ec2e7c0ffee5e";
  const std::string peer = minimal + "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\"]\n[[peers.link_keys]]\nid = 1\n";
  for (const auto& [text, mode] : std::vector<std::pair<std::string, mode_t>>{
           {secret, 0644},                  // readable by anyone
           {secret, 0620},                  // writable by the group
           {secret + "x" + secret, 0600},   // not hex
           {secret + "0", 0600},            // half a byte
           {secret.substr(0, 30), 0600},    // too short
           {secret + secret + secret + secret + "00", 0600}}) {  // too long
    const std::string path = write("secret.key", text, mode);
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    const std::string message = problems(peer + "file = \"" + path + "\"\n");
    EXPECT_NE(message.find("peers[0].link_keys[0].file: " + path + ": "), std::string::npos) << message;
    EXPECT_EQ(message.find(secret.substr(0, 8)), std::string::npos) << message;
    EXPECT_EQ(message.find(secret.substr(8, 8)), std::string::npos) << message;
    std::filesystem::remove(path);
  }
}

TEST(Config, ReadsNextHopGroupsAndResolvesNextHops) {
  auto parsed = parse_config(minimal + R"(
[[peers]]
name = "guardian-a"
addresses = ["10.0.0.5", "10.0.0.6:7700", "10.0.0.7:7800"]

[[next_hop_groups]]
name = "relayers"
hops = ["127.0.0.1:7701", "unix:/run/ferry/sink.sock", "guardian-a", "[::1]:7702"]
policy = "balance"

[[next_hop_groups]]
name = "pair"
hops = ["127.0.0.1:7703", "127.0.0.1:7704"]

[[routes]]
name = "to-group"
kind = "wormhole"
source = 2
destination = "*"
next_hop = "relayers"

[[routes]]
name = "to-peer"
kind = "hyperlane"
source = "*"
destination = "*"
next_hop = "guardian-a"

[[routes]]
name = "to-sink"
kind = "opaque"
source = "*"
destination = "*"
next_hop = "unix:/tmp/ferry.sock"

[[routes]]
name = "to-pair"
kind = "quorum"
source = "*"
destination = "*"
next_hop = "pair"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  ASSERT_EQ(parsed->groups.size(), 2u);
  const hop_group_config& relayers = parsed->groups[0];
  EXPECT_EQ(relayers.name, "relayers");
  EXPECT_EQ(relayers.policy, group_policy::balance);
  ASSERT_EQ(relayers.hops.size(), 4u);
  EXPECT_EQ(relayers.hops[0].how, hop_config::type::udp);
  EXPECT_EQ(relayers.hops[0].udp.to_string(), "127.0.0.1:7701");
  EXPECT_EQ(relayers.hops[0].text, "127.0.0.1:7701");
  EXPECT_EQ(relayers.hops[1].how, hop_config::type::unix_sink);
  EXPECT_EQ(relayers.hops[1].sink_path, "/run/ferry/sink.sock");
  EXPECT_EQ(relayers.hops[1].text, "unix:/run/ferry/sink.sock");
  EXPECT_EQ(relayers.hops[2].udp.to_string(), "10.0.0.6:7700");  // the peer's first address with a port
  EXPECT_EQ(relayers.hops[2].text, "guardian-a");
  EXPECT_EQ(relayers.hops[3].udp.to_string(), "[::1]:7702");
  EXPECT_EQ(parsed->groups[1].policy, group_policy::replicate);  // the default

  ASSERT_EQ(parsed->routes.size(), 4u);
  const route_config& group = parsed->routes[0];
  EXPECT_EQ(group.group, "relayers");
  EXPECT_EQ(group.policy, group_policy::balance);
  ASSERT_EQ(group.hops.size(), 4u);
  EXPECT_EQ(group.hops[1].sink_path, "/run/ferry/sink.sock");
  const route_config& peer = parsed->routes[1];
  EXPECT_TRUE(peer.group.empty());
  ASSERT_EQ(peer.hops.size(), 1u);
  EXPECT_EQ(peer.hops[0].text, "guardian-a");
  EXPECT_EQ(peer.hops[0].udp.to_string(), "10.0.0.6:7700");
  const route_config& sink = parsed->routes[2];
  ASSERT_EQ(sink.hops.size(), 1u);
  EXPECT_EQ(sink.hops[0].how, hop_config::type::unix_sink);
  EXPECT_EQ(sink.hops[0].sink_path, "/tmp/ferry.sock");
  EXPECT_EQ(parsed->routes[3].policy, group_policy::replicate);
  EXPECT_EQ(parsed->routes[3].hops.size(), 2u);
}

TEST(Config, GroupMistakesAreNamed) {
  const std::string peer = "[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\"]\n";
  expect_problem(minimal + peer + "[[next_hop_groups]]\nname = \"a\"\nhops = [\"127.0.0.1:1\"]\n",
                 "ferry.toml:7:8: next_hop_groups[0].name: 'a' names a peer too; a next hop must say which one it "
                 "means");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"127.0.0.1:1\"]\n"
                           "[[next_hop_groups]]\nname = \"g\"\nhops = [\"127.0.0.1:2\"]\n",
                 "ferry.toml:7:8: next_hop_groups[1].name: 'g' names another group too");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"*\"\nhops = [\"127.0.0.1:1\"]\n",
                 "next_hop_groups[0].name: '*': a name is 1 to 64 letters, digits, '-', '_' or '.', a letter first");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\n",
                 "ferry.toml:3:1: next_hop_groups[0].hops: missing; expected a list of addresses, \"unix:/path\" "
                 "sinks or peers");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = []\n",
                 "next_hop_groups[0].hops: expected a non-empty list of addresses, \"unix:/path\" sinks or peers, "
                 "found an empty list");
  // The hops of a group: no group in a group (before or after it), no unknown name, no hop twice.
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"h\"]\n"
                           "[[next_hop_groups]]\nname = \"h\"\nhops = [\"127.0.0.1:1\"]\n",
                 "ferry.toml:5:9: next_hop_groups[0].hops[0]: 'h' is a group, and groups do not nest: list its hops "
                 "here");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"127.0.0.1:1\", \"relayer\"]\n",
                 "ferry.toml:5:24: next_hop_groups[0].hops[1]: unknown next hop 'relayer': not an address, "
                 "\"unix:/path\", peer or group");
  expect_problem(minimal + peer + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"a\"]\n",
                 "next_hop_groups[0].hops[0]: peer 'a' has no address with a port to send to; give one of its "
                 "addresses a port");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n",
                 "next_hop_groups[0].hops[1]: '127.0.0.1:1' is the same hop as '127.0.0.1:1' before it");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"unix:sink.sock\"]\n",
                 "next_hop_groups[0].hops[0]: 'unix:sink.sock': a local sink is \"unix:\" and an absolute path of at "
                 "most 107 bytes");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"unix:/" + std::string(107, 's') + "\"]\n",
                 "a local sink is \"unix:\" and an absolute path of at most 107 bytes");
  expect_problem(minimal + "[[next_hop_groups]]\nname = \"g\"\nhops = [\"127.0.0.1:1\"]\npolicy = \"random\"\n",
                 "ferry.toml:6:10: next_hop_groups[0].policy: 'random': expected \"replicate\" or \"balance\"");
}

TEST(Config, NextHopMistakesAreNamed) {
  const std::string route = minimal + "[[routes]]\nname = \"r\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\n";
  expect_problem(route + "next_hop = \"relayer-a\"\n",
                 "ferry.toml:8:12: routes[0].next_hop: unknown next hop 'relayer-a': not an address, \"unix:/path\", "
                 "peer or group");
  expect_problem(route + "next_hop = \"10.0.0.300:7701\"\n",
                 "routes[0].next_hop: unknown next hop '10.0.0.300:7701': not an address, \"unix:/path\", peer or "
                 "group (as an address: '10.0.0.300:7701': '10.0.0.300' is not a numeric IPv4 address (host names "
                 "are not resolved))");
  expect_problem(route + "next_hop = \"127.0.0.1:0\"\n",
                 "routes[0].next_hop: '127.0.0.1:0': port 0 is not a destination");
  expect_problem(route + "next_hop = \"unix:\"\n",
                 "routes[0].next_hop: 'unix:': a local sink is \"unix:\" and an absolute path of at most 107 bytes");
  expect_problem(route + "next_hop = [\"127.0.0.1:1\"]\n",
                 "routes[0].next_hop: expected an address, \"unix:/path\", a peer or a group, found an array");
  expect_problem("[[peers]]\nname = \"a\"\naddresses = [\"10.0.0.1\"]\n" + route + "next_hop = \"a\"\n",
                 "routes[0].next_hop: peer 'a' has no address with a port to send to");
  // A peer or group with mistakes of its own is not reported again where it is used.
  const std::string message =
      problems("[[next_hop_groups]]\nname = \"g\"\nhops = [\"nowhere\"]\n" + route + "next_hop = \"g\"\n");
  EXPECT_EQ(message, "ferry.toml:3:9: next_hop_groups[0].hops[0]: unknown next hop 'nowhere': not an address, "
                     "\"unix:/path\", peer or group");
}

TEST(Config, ReadsEmitterActionLimitAndBreaker) {
  const std::string emitter = "0x" + std::string(24, '0') + std::string(40, 'a');
  auto parsed = parse_config(minimal + R"(
[[routes]]
name = "from-emitter"
kind = "wormhole"
source = 2
destination = "*"
emitter = ")" + emitter + R"("
next_hop = "127.0.0.1:7701"
rate = 1000
burst = 100
[routes.breaker]
failure_ratio = 0.5
min_verified = 30
max_messages = 100000
window_ms = 5000
cooldown_ms = 0

[[routes]]
name = "any-emitter"
kind = "wormhole"
source = 2
destination = "*"
emitter = "*"
next_hop = "127.0.0.1:7701"
rate = 1
[routes.breaker]
max_messages = 10

[[routes]]
name = "drop-the-rest"
kind = "*"
source = "*"
destination = "*"
action = "drop"
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  ASSERT_EQ(parsed->routes.size(), 3u);
  const route_config& r = parsed->routes[0];
  ASSERT_TRUE(r.emitter.has_value());
  EXPECT_EQ((*r.emitter)[11], std::byte{0});
  EXPECT_EQ((*r.emitter)[12], std::byte{0xaa});
  EXPECT_EQ(r.action, route_action::forward);
  ASSERT_TRUE(r.limit.has_value());
  EXPECT_EQ(r.limit->rate, 1000.0);
  EXPECT_EQ(r.limit->burst, 100u);
  ASSERT_TRUE(r.breaker.has_value());
  EXPECT_EQ(r.breaker->failure_ratio, 0.5);
  EXPECT_EQ(r.breaker->min_verified, 30u);
  EXPECT_EQ(r.breaker->max_messages, 100000u);
  EXPECT_EQ(r.breaker->window_ms, 5000u);
  EXPECT_EQ(r.breaker->cooldown_ms, 0u);
  const route_config& any = parsed->routes[1];
  EXPECT_FALSE(any.emitter.has_value());
  EXPECT_EQ(any.limit->burst, 1u);
  ASSERT_TRUE(any.breaker.has_value());
  EXPECT_FALSE(any.breaker->failure_ratio.has_value());
  EXPECT_EQ(any.breaker->max_messages, 10u);
  EXPECT_EQ(any.breaker->window_ms, 10000u);  // the defaults
  EXPECT_EQ(any.breaker->cooldown_ms, 30000u);
  const route_config& drop = parsed->routes[2];
  EXPECT_EQ(drop.action, route_action::drop);
  EXPECT_TRUE(drop.hops.empty());
  EXPECT_FALSE(drop.limit.has_value());
}

TEST(Config, RouteFieldMistakesAreNamed) {
  const std::string head = "[[routes]]\nname = \"r\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\n";
  const std::string route = minimal + head;
  const std::string hop = "next_hop = \"127.0.0.1:1\"\n";
  expect_problem(route + hop + "emitter = \"0x1234\"\n",
                 "ferry.toml:9:11: routes[0].emitter: '0x1234': expected \"*\" or a 32-byte address (64 hex digits; a "
                 "20-byte EVM address takes 24 zeros before it)");
  expect_problem(minimal + "[[routes]]\nname = \"r\"\nkind = \"opaque\"\nsource = 2\ndestination = \"*\"\n" + hop +
                     "emitter = \"" + std::string(64, '0') + "\"\n",
                 "ferry.toml:9:11: routes[0].emitter: 'opaque' messages have no emitter or sender to match; remove emitter");
  expect_problem(route + hop + "action = \"reject\"\n",
                 "ferry.toml:9:10: routes[0].action: 'reject': expected \"forward\" or \"drop\"");
  expect_problem(route + hop + "action = \"drop\"\n",
                 "ferry.toml:8:12: routes[0].next_hop: a drop route sends nothing; remove next_hop, or make it "
                 "action = \"forward\"");
  expect_problem(route + "action = \"drop\"\nrate = 5\n",
                 "ferry.toml:9:8: routes[0].rate: a drop route sends nothing to limit or break");
  expect_problem(route + "action = \"drop\"\n[routes.breaker]\nmax_messages = 5\n",
                 "routes[0].breaker: a drop route sends nothing to limit or break");
  expect_problem(route + "action = \"forward\"\n", "ferry.toml:3:1: routes[0].next_hop: missing; expected an address, "
                                                    "\"unix:/path\", a peer or a group");
  expect_problem(route + hop + "rate = -1\n", "routes[0].rate: -1 is out of range");
  expect_problem(route + hop + "burst = 5\n", "routes[0].burst: applies with rate only: give the rate too");
  // Routes that differ only in emitter are different routes; the same emitter twice is refused.
  const std::string with_emitter = "emitter = \"" + std::string(64, 'e') + "\"\n";
  auto two = parse_config(route + hop + with_emitter + "[[routes]]\nname = \"s\"\nkind = \"wormhole\"\nsource = 2\n"
                                                       "destination = \"*\"\n" + hop,
                          "ferry.toml");
  ASSERT_TRUE(two.ok()) << two.err().message();
  expect_problem(route + hop + with_emitter + "[[routes]]\nname = \"s\"\nkind = \"wormhole\"\nsource = 2\n"
                                              "destination = \"*\"\n" + hop + with_emitter,
                 "ferry.toml:10:1: routes[1]: matches the same kind, source, destination and emitter as route 'r'; "
                 "one of them could never be chosen");
}

TEST(Config, BreakerMistakesAreNamed) {
  const std::string route = minimal + "[[routes]]\nname = \"r\"\nkind = \"opaque\"\nsource = 2\ndestination = 3\n"
                                      "next_hop = \"127.0.0.1:1\"\n";
  expect_problem(route + "[routes.breaker]\nwindow_ms = 1000\n",
                 "ferry.toml:9:1: routes[0].breaker: names no trigger: give failure_ratio, max_messages or both (a "
                 "route without a breaker can still be paused by hand)");
  expect_problem(route + "[routes.breaker]\nfailure_ratio = 0\n",
                 "ferry.toml:10:17: routes[0].breaker.failure_ratio: 0 is out of range; expected a ratio of failed to "
                 "verified messages, more than 0 and at most 1");
  expect_problem(route + "[routes.breaker]\nfailure_ratio = 1.5\n", "routes[0].breaker.failure_ratio: 1.5 is out of range");
  expect_problem(route + "[routes.breaker]\nfailure_ratio = \"half\"\n",
                 "routes[0].breaker.failure_ratio: expected a ratio of failed to verified messages, more than 0 and "
                 "at most 1, found a string");
  expect_problem(route + "[routes.breaker]\nmax_messages = 5\nmin_verified = 10\n",
                 "ferry.toml:11:16: routes[0].breaker.min_verified: applies with failure_ratio only");
  expect_problem(route + "[routes.breaker]\nfailure_ratio = 1\nmin_verified = 0\n",
                 "routes[0].breaker.min_verified: 0 is out of range; expected an integer from 1 to 4294967295");
  expect_problem(route + "[routes.breaker]\nmax_messages = 0\n",
                 "routes[0].breaker.max_messages: 0 is out of range; expected an integer from 1 to "
                 "9223372036854775807");
  expect_problem(route + "[routes.breaker]\nmax_messages = 5\nwindow_ms = 50\n",
                 "routes[0].breaker.window_ms: 50 is out of range; expected an integer from 100 to 3600000");
  expect_problem(route + "[routes.breaker]\nmax_messages = 5\ncooldown_ms = -1\n",
                 "routes[0].breaker.cooldown_ms: -1 is out of range; expected an integer from 0 to 86400000");
  expect_problem(route + "[routes.breaker]\nmax_messages = 5\nwindow = \"10s\"\n",
                 "routes[0].breaker.window: unknown field; did you mean 'window_ms'?");
  expect_problem(route + "breaker = true\n", "routes[0].breaker: expected a table, found a boolean");
}

TEST_F(ConfigKeys, ReadsGuardianSetsAndUpgradeSettings) {
  const std::string a(40, 'a');
  const std::string file = write("set-9.txt", "# set 9\n0x" + std::string(40, 'b') + "\n", 0644);
  auto parsed = parse_config(minimal + "[verify]\nwormhole_network = \"mainnet\"\nguardian_set_upgrades = true\n"
                                       "guardian_set_expiry = 3600\n"
                                       "[[verify.wormhole]]\nindex = 9\nkeys_file = \"" + file + "\"\n"
                                       "[[verify.wormhole]]\nindex = 8\nkeys = [\"0x" + a + "\"]\n"
                                       "expiration_time = 1700000000\n",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_TRUE(parsed->guardian_set_upgrades);
  EXPECT_EQ(parsed->guardian_set_expiry, 3600u);
  const verify::wormhole::guardian_registry& sets = parsed->keys.wormhole;
  EXPECT_EQ(sets.sets().size(), 10u);  // mainnet's 0 to 7, and two more
  EXPECT_EQ(sets.current_index(), 9u);  // the highest
  ASSERT_NE(sets.find(9), nullptr);
  EXPECT_EQ(sets.find(9)->keys, std::vector<verify::eth_address>(1, verify::eth_address{std::byte{0xbb}, std::byte{0xbb},
            std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb},
            std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb},
            std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}, std::byte{0xbb}}));
  ASSERT_NE(sets.find(8), nullptr);
  EXPECT_EQ(sets.find(8)->expiration_time, 1700000000u);
  EXPECT_EQ(sets.find(8)->keys[0][0], std::byte{0xaa});
  ASSERT_EQ(parsed->guardian_set_files.size(), 1u);
  EXPECT_EQ(parsed->guardian_set_files[0].index, 9u);
  EXPECT_EQ(parsed->guardian_set_files[0].keys_file, file);
  // Without built-in sets, the configured ones are all there is.
  parsed = parse_config(minimal + "[verify]\nwormhole_network = \"none\"\n[[verify.wormhole]]\nindex = 0\nkeys = [\"" +
                            a + "\"]\n",
                        "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->keys.wormhole.sets().size(), 1u);
  EXPECT_EQ(parsed->keys.wormhole.current_index(), 0u);
  EXPECT_FALSE(parsed->guardian_set_upgrades);
  EXPECT_EQ(parsed->guardian_set_expiry, verify::wormhole::set_expiry_seconds);
}

TEST_F(ConfigKeys, GuardianSetMistakesAreNamed) {
  const std::string keys = "keys = [\"" + std::string(40, 'a') + "\"]\n";
  const std::string verify = minimal + "[verify]\nwormhole_network = \"mainnet\"\n";
  expect_problem(verify + "[[verify.wormhole]]\nindex = 7\n" + keys,
                 "ferry.toml:6:9: verify.wormhole[0].index: 7 is a built-in guardian set of wormhole_network = "
                 "\"mainnet\"; give another index, or wormhole_network = \"none\" to list every set yourself");
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\n" + keys + "[[verify.wormhole]]\nindex = 8\n" + keys,
                 "ferry.toml:9:9: verify.wormhole[1].index: 8 is the index of verify.wormhole[0] too");
  expect_problem(verify + "[[verify.wormhole]]\n" + keys,
                 "ferry.toml:5:1: verify.wormhole[0].index: missing; expected the guardian set's index");
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\n",
                 "ferry.toml:5:1: verify.wormhole[0].keys: missing; expected keys (a list of 20-byte addresses) or "
                 "keys_file (a file of them)");
  const std::string file = write("set.txt", std::string(40, 'c') + "\n", 0644);
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\n" + keys + "keys_file = \"" + file + "\"\n",
                 "ferry.toml:8:13: verify.wormhole[0].keys_file: give keys or keys_file, not both");
  const std::string open = write("open.txt", std::string(40, 'c') + "\n", 0666);
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\nkeys_file = \"" + open + "\"\n",
                 "ferry.toml:7:13: verify.wormhole[0].keys_file: " + open + ": writable by its group or others (mode "
                 "0666), so someone else could replace the keys: chmod 0644 " + open);
  const std::string bad = write("bad.txt", "0x1234\n", 0644);
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\nkeys_file = \"" + bad + "\"\n",
                 "verify.wormhole[0].keys_file: " + bad + ": line 1: expected a 20-byte guardian address");
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\nkeys = [\"0x12\"]\n",
                 "verify.wormhole[0].keys[0]: expected addresses of 40 hex digits");
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\n" + keys + "expiration_time = -1\n",
                 "verify.wormhole[0].expiration_time: -1 is out of range; expected unix seconds, an integer from 0");
  expect_problem(verify + "[[verify.wormhole]]\nindex = 8\n" + keys + "expiry = 0\n",
                 "verify.wormhole[0].expiry: unknown field (known here: index keys keys_file expiration_time)");
  expect_problem(verify + "guardian_set_expiry = 0\n",
                 "ferry.toml:5:23: verify.guardian_set_expiry: 0 is out of range; expected an integer from 1 to "
                 "31536000");
  expect_problem(verify + "guardian_set_upgrades = \"yes\"\n",
                 "verify.guardian_set_upgrades: expected true or false, found a string");
  expect_problem(minimal + "[verify]\nwormhole_network = \"none\"\nguardian_set_upgrades = true\n",
                 "ferry.toml:5:25: verify.guardian_set_upgrades: no guardian set to upgrade from: wormhole_network = "
                 "\"none\" and no [[verify.wormhole]] set");
}

// What the control API's POST /routes parses, against what is running.
TEST(Config, ParsesOneRouteAgainstTheRunningConfiguration) {
  auto running = parse_config(minimal + R"(
[[peers]]
name = "guardian-a"
addresses = ["10.0.0.5:7700"]
[[next_hop_groups]]
name = "relayers"
hops = ["127.0.0.1:7701", "127.0.0.1:7702"]
policy = "balance"
[[routes]]
name = "existing"
kind = "wormhole"
source = 2
destination = "*"
next_hop = "guardian-a"
)",
                              "ferry.toml");
  ASSERT_TRUE(running.ok()) << running.err().message();
  auto route = parse_route("name = \"x\"\nkind = \"wormhole\"\nsource = 1\ndestination = \"*\"\n"
                           "next_hop = \"relayers\"\nrate = 10\n",
                           "POST /routes", *running);
  ASSERT_TRUE(route.ok()) << route.err().message();
  EXPECT_EQ(route->name, "x");
  EXPECT_EQ(route->source, 1u);
  EXPECT_EQ(route->group, "relayers");
  EXPECT_EQ(route->policy, group_policy::balance);
  EXPECT_EQ(route->hops.size(), 2u);
  EXPECT_EQ(route->limit->rate, 10.0);
  route = parse_route("name = \"y\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\nnext_hop = \"guardian-a\"\n",
                      "POST /routes", *running);
  ASSERT_TRUE(route.ok()) << route.err().message();
  EXPECT_EQ(route->hops[0].udp.to_string(), "10.0.0.5:7700");

  const auto refused = [&](const std::string& text) {
    auto parsed = parse_route(text, "POST /routes", *running);
    EXPECT_FALSE(parsed.ok()) << text;
    return parsed.ok() ? std::string() : parsed.err().message();
  };
  EXPECT_EQ(refused("name = \"existing\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\nnext_hop = \"127.0.0.1:1\"\n"),
            "POST /routes:1:8: route.name: 'existing' names another route too");
  EXPECT_EQ(refused("name = \"z\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nnext_hop = \"127.0.0.1:1\"\n"),
            "POST /routes:1:1: route: matches the same kind, source, destination and emitter as route 'existing'; "
            "one of them could never be chosen");
  EXPECT_EQ(refused("name = \"z\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\nnext_hop = \"relayer\"\n"),
            "POST /routes:5:12: route.next_hop: unknown next hop 'relayer': not an address, \"unix:/path\", peer or "
            "group");
  EXPECT_EQ(refused("name = \"z\"\nkind = \"opaque\"\nsorce = 1\ndestination = 2\nnext_hop = \"127.0.0.1:1\"\n"),
            "POST /routes:1:1: route.source: missing; expected \"*\" or an integer from 0 to 4294967295\n"
            "POST /routes:3:1: route.sorce: unknown field; did you mean 'source'?");
  EXPECT_EQ(refused("name = \"z\"\nkind = \"opaque\"\nsource = 1\ndestination = 2\nnext_hop = \"127.0.0.1:1\"\n"
                    "[breaker]\nfailure_ratio = 2\n"),
            "POST /routes:7:17: route.breaker.failure_ratio: 2 is out of range; expected a ratio of failed to "
            "verified messages, more than 0 and at most 1");
  EXPECT_EQ(refused("name = \"z\nkind = 1\n").substr(0, 27), "POST /routes:1:10: TOML syn");
}

TEST(Config, CheckRoutesFindsDuplicateNamesAndMatches) {
  route_config a;
  a.name = "a";
  a.kind = verify::message_kind::wormhole;
  a.source = 2;
  route_config b = a;
  b.name = "b";
  std::vector<route_config> routes{a};
  EXPECT_TRUE(check_routes(routes).ok());
  b.emitter = std::array<std::byte, 32>{};
  routes.push_back(b);
  EXPECT_TRUE(check_routes(routes).ok());  // another emitter: another match
  b.emitter.reset();
  routes.back() = b;
  auto refused = check_routes(routes);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), "route 'b': matches the same kind, source, destination and emitter as route "
                                     "'a'; one of them could never be chosen");
  b.source = 3;
  b.name = "a";
  routes.back() = b;
  refused = check_routes(routes);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), "route 'a': another route has this name");
}

TEST(Config, UnreadableFileGivesTheReason) {
  auto parsed = load_config_file("/nonexistent/ferry.toml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.err().message(), "/nonexistent/ferry.toml: cannot read: No such file or directory");
}

}  // namespace
}  // namespace ferry::ctl

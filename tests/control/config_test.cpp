#include "ferry/control/config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "ferry/verify/demo_keys.hpp"

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
  EXPECT_EQ(parsed->control_socket, "/run/ferry/ferryd.sock");
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
  EXPECT_EQ(parsed->control_socket, "/tmp/x.sock");
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
  expect_problem(minimal + "trusted_upstreams = [\"10.0.0.300\"]\n", "dataplane.trusted_upstreams:");
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
                 "routes[1]: matches the same kind, source and destination as route 'a'");
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
trusted_upstreams = ["10.0.0.1", "fd00::1"]
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
)",
                             "ferry.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.err().message();
  EXPECT_EQ(parsed->backend, dp::backend_choice::dpdk);
  ASSERT_EQ(parsed->trusted_upstreams.size(), 2u);
  EXPECT_TRUE(parsed->trusted_upstreams[0].same_host(*dp::endpoint::parse("10.0.0.1:9")));
  EXPECT_TRUE(parsed->trusted_upstreams[1].same_host(*dp::endpoint::parse("[fd00::1]:9")));
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

TEST(Config, UnreadableFileGivesTheReason) {
  auto parsed = load_config_file("/nonexistent/ferry.toml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.err().message(), "/nonexistent/ferry.toml: cannot read: No such file or directory");
}

}  // namespace
}  // namespace ferry::ctl

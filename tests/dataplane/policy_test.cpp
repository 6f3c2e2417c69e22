#include "ferry/dataplane/policy.hpp"

#include <gtest/gtest.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/verify/wormhole_verifier.hpp"
#include "support/demo_key_sets.hpp"
#include "support/messages.hpp"
#include "support/policy.hpp"

namespace ferry::dp {
namespace {

using testing::bytes;

endpoint at(const char* text) { return *endpoint::parse(text); }

TEST(NextHop, ToSinkTakesAnAbsolutePathThatFits) {
  auto sink = next_hop::to_sink("/run/ferry/sink.sock");
  ASSERT_TRUE(sink.ok()) << sink.err().message();
  EXPECT_EQ(sink->how, next_hop::type::unix_sink);
  EXPECT_EQ(sink->sink.sun_family, AF_UNIX);
  EXPECT_STREQ(sink->sink.sun_path, "/run/ferry/sink.sock");
  EXPECT_EQ(sink->address(), reinterpret_cast<const sockaddr*>(&sink->sink));
  EXPECT_EQ(sink->address_length(), offsetof(sockaddr_un, sun_path) + std::strlen("/run/ferry/sink.sock") + 1);

  const std::string longest = "/" + std::string(sizeof(sockaddr_un{}.sun_path) - 2, 'a');  // 107 bytes
  EXPECT_TRUE(next_hop::to_sink(longest).ok());
  EXPECT_FALSE(next_hop::to_sink(longest + "a").ok());
  EXPECT_FALSE(next_hop::to_sink("").ok());
  auto relative = next_hop::to_sink("run/sink");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.err().message().find("run/sink"), std::string::npos) << "the message names the path";
}

TEST(NextHop, ToUdpUsesTheEndpoint) {
  const endpoint e = at("127.0.0.1:7000");
  const next_hop hop = next_hop::to_udp(e);
  EXPECT_EQ(hop.how, next_hop::type::udp);
  EXPECT_EQ(hop.address(), hop.udp.address());
  EXPECT_EQ(hop.address_length(), e.length());
  EXPECT_TRUE(hop.udp == e);
}

TEST(PeerTable, AnExactPortBeatsTheAnyPortBindingOfItsHost) {
  auto table = peer_table::build({{at("10.0.0.1:0"), 0}, {at("10.0.0.1:5000"), 1}, {at("10.0.0.2:6000"), 2}});
  ASSERT_TRUE(table.ok()) << table.err().message();
  EXPECT_EQ(table->find(at("10.0.0.1:5000")), 1u);
  EXPECT_EQ(table->find(at("10.0.0.1:5001")), 0u);
  EXPECT_EQ(table->find(at("10.0.0.2:6000")), 2u);
  EXPECT_EQ(table->find(at("10.0.0.2:6001")), peer_table::none) << "an exact binding takes no other port";
  EXPECT_EQ(table->find(at("10.0.0.3:5000")), peer_table::none);
  EXPECT_FALSE(table->empty());
}

TEST(PeerTable, IPv6AndIPv4AreDifferentHosts) {
  auto table = peer_table::build({{at("[2001:db8::1]:0"), 0}, {at("[2001:db8::1]:9"), 1}, {at("127.0.0.1:0"), 2}});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->find(at("[2001:db8::1]:9")), 1u);
  EXPECT_EQ(table->find(at("[2001:db8::1]:10")), 0u);
  EXPECT_EQ(table->find(at("[2001:db8::2]:9")), peer_table::none);
  EXPECT_EQ(table->find(at("[::1]:9")), peer_table::none);
  EXPECT_EQ(table->find(at("127.0.0.1:9")), 2u);
}

TEST(PeerTable, EmptyFindsNoneAndTwoPeersCannotShareAnAddress) {
  const peer_table none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.find(at("127.0.0.1:1")), peer_table::none);
  auto clash = peer_table::build({{at("10.0.0.1:0"), 0}, {at("10.0.0.1:0"), 1}});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.err().message().find("10.0.0.1"), std::string::npos);
  EXPECT_TRUE(peer_table::build({{at("10.0.0.1:0"), 0}, {at("10.0.0.1:1"), 0}}).ok());
}

TEST(PeerTable, ThePeerOfEveryoneElseTakesWhatNoBindingMatches) {
  auto table = peer_table::build({{at("10.0.0.1:0"), 0}}, 1);
  ASSERT_TRUE(table.ok());
  EXPECT_FALSE(table->empty());
  EXPECT_EQ(table->find(at("10.0.0.1:5")), 0u);
  EXPECT_EQ(table->find(at("10.0.0.2:5")), 1u);
  EXPECT_EQ(table->bound(at("10.0.0.2:5")), peer_table::none) << "no address is bound to everyone else";
  auto only = peer_table::build({}, 0);
  ASSERT_TRUE(only.ok());
  EXPECT_FALSE(only->empty());
  EXPECT_EQ(only->find(at("[::1]:5")), 0u);
}

policy three_hop_policy(route_verb verb) {
  testing::test_policy spec;
  testing::test_route r;
  r.hops = {at("127.0.0.1:1"), at("127.0.0.1:2"), at("127.0.0.1:3")};
  r.verb = verb;
  testing::test_route other;  // a route before it, so that its hops start past 0 in group_hops
  other.rule.kind = verify::message_kind::opaque;
  other.hops = {at("127.0.0.1:3")};
  spec.routes.push_back(other);
  spec.routes.push_back(r);
  return std::move(*testing::make_policy(spec));
}

TEST(ForEachHop, ReplicateGivesEveryHopWithOneFirst) {
  const policy p = three_hop_policy(route_verb::replicate);
  const route_entry& route = p.actions[1];
  ASSERT_EQ(route.hop_count, 3u);
  const bytes message = testing::opaque_body(1, 2);
  std::vector<std::uint32_t> hops;
  int firsts = 0;
  for_each_hop(p, route, message, [&](std::uint32_t hop, bool first) {
    hops.push_back(hop);
    firsts += first ? 1 : 0;
    if (hops.size() == 1) {
      EXPECT_TRUE(first);
    }
  });
  EXPECT_EQ(firsts, 1);
  ASSERT_EQ(hops.size(), 3u);
  EXPECT_TRUE(p.hops[hops[0]].udp == at("127.0.0.1:1"));
  EXPECT_TRUE(p.hops[hops[1]].udp == at("127.0.0.1:2"));
  EXPECT_TRUE(p.hops[hops[2]].udp == at("127.0.0.1:3"));
  EXPECT_EQ(hops[2], p.group_hops[0]) << "a hop two routes share is one hop";
}

TEST(ForEachHop, BalanceIsDeterministicPerMessageAndSpreads) {
  const policy p = three_hop_policy(route_verb::balance);
  const route_entry& route = p.actions[1];
  std::map<std::uint32_t, int> per_hop;
  for (std::uint32_t i = 0; i < 300; ++i) {
    const bytes message = testing::opaque_body(i, 2);
    std::vector<std::uint32_t> first, again;
    for_each_hop(p, route, message, [&](std::uint32_t hop, bool is_first) {
      EXPECT_TRUE(is_first);
      first.push_back(hop);
    });
    for_each_hop(p, route, message, [&](std::uint32_t hop, bool) { again.push_back(hop); });
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first, again);
    per_hop[first[0]] += 1;
  }
  ASSERT_EQ(per_hop.size(), 3u) << "every hop gets some";
  for (const auto& [hop, n] : per_hop) {
    EXPECT_GE(n, 50) << "hop " << hop;  // 100 expected of each
  }
}

TEST(RouteState, ReadSumsTheTallySlotsOfEveryStage) {
  route_state state(3, std::nullopt, breaker_settings{});
  state.tally(0).forwarded.add(2);
  state.tally(2).forwarded.add(5);
  state.tally(1).matched.add(1);
  state.tally(1).verify_failed.add(4);
  const route_state::totals t = state.read();
  EXPECT_EQ(t.forwarded, 7u);
  EXPECT_EQ(t.matched, 1u);
  EXPECT_EQ(t.verify_failed, 4u);
  EXPECT_EQ(t.breaker_open + t.rate_limited + t.dropped_by_action + t.verified, 0u);
  EXPECT_EQ(state.limit(), nullptr);
  peer_state peer(2, bucket_settings{10.0, 5});
  ASSERT_NE(peer.limit(), nullptr);
  EXPECT_EQ(peer.limit()->burst(), 5u);
  EXPECT_EQ(peer.limit_settings()->burst, 5u);
  peer.tally(0).rx.add(3);
  peer.tally(1).rx.add(4);
  EXPECT_EQ(peer.read().rx, 7u);
}

// Guardian set upgrades read from verified VAAs: only a governance VAA of the current set naming the next one.
class GuardianSetUpgrade : public ::testing::Test {
 protected:
  const std::vector<verify::eth_address> new_keys = {verify::demo::hyperlane_validator(),
                                                     verify::demo::layerzero_dvn()};
  verify::key_sets keys = testing::demo_key_sets();  // devnet: set 0 current, which signs every test VAA

  bool read(const bytes& vaa, guardian_set_upgrade_event& event) const {
    return read_guardian_set_upgrade(keys, vaa, event);
  }
};

TEST_F(GuardianSetUpgrade, TheNextSetFromTheGovernanceEmitterIsAccepted) {
  const bytes vaa = testing::guardian_set_upgrade_vaa(1, new_keys);
  // It verifies as any other VAA: the data plane reads it only once it has.
  verify::wormhole::vaa_view view;
  ASSERT_EQ(verify::wormhole::parse_vaa(vaa, view), verify::parse_status::ok);
  EXPECT_EQ(verify::wormhole::verify_vaa(view, keys.wormhole, 0), verify::verdict::valid);
  guardian_set_upgrade_event event;
  ASSERT_TRUE(read(vaa, event));
  EXPECT_EQ(event.new_index, 1u);
  ASSERT_EQ(event.key_count, 2u);
  EXPECT_EQ(event.keys[0], new_keys[0]);
  EXPECT_EQ(event.keys[1], new_keys[1]);
  // The VAA itself, for the control plane to keep in the state directory.
  ASSERT_EQ(event.vaa_size, vaa.size());
  EXPECT_TRUE(std::equal(vaa.begin(), vaa.end(), event.vaa.begin()));
}

TEST_F(GuardianSetUpgrade, TheLargestUpgradeFitsTheEvent) {
  // 255 addresses in the payload and 255 signatures (made up: read_guardian_set_upgrade does not verify).
  const std::vector<verify::eth_address> many(255, verify::demo::layerzero_dvn());
  const bytes payload = verify::wormhole::encode_guardian_set_upgrade({0, 1, many});
  std::vector<verify::wormhole::signature_fields> sigs(255);
  verify::wormhole::vaa_fields fields;
  fields.guardian_set_index = 0;
  fields.signatures = sigs;
  fields.emitter_chain = 1;
  fields.emitter_address[31] = std::byte{0x04};
  fields.payload = payload;
  bytes vaa(verify::wormhole::encoded_size(fields));
  verify::wormhole::encode_vaa(fields, vaa);
  ASSERT_EQ(vaa.size(), verify::wormhole::max_guardian_set_upgrade_size);
  auto event = std::make_unique<guardian_set_upgrade_event>();
  ASSERT_TRUE(read(vaa, *event));
  EXPECT_EQ(event->key_count, 255u);
  EXPECT_EQ(event->vaa_size, vaa.size());
  vaa.push_back(std::byte{0});  // one byte more: no longer an upgrade (its payload has a byte too many)
  EXPECT_FALSE(read(vaa, *event));
}

TEST_F(GuardianSetUpgrade, AnythingElseIsRefused) {
  guardian_set_upgrade_event event;
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(2, new_keys), event)) << "skips set 1";
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(0, new_keys), event)) << "not a new set";
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(1, new_keys, 2), event)) << "for one chain only";
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(1, new_keys, 0, 2), event)) << "emitter chain 2";
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(1, new_keys, 0, 1, 5), event)) << "not the governance emitter";
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(1, {}, 0), event)) << "no keys";
  EXPECT_FALSE(read(testing::vaa_body(1), event)) << "an ordinary VAA from chain 1";
  EXPECT_FALSE(read(bytes(10, std::byte{1}), event)) << "not a VAA";
}

TEST_F(GuardianSetUpgrade, OnlyTheCurrentSetMayNameTheNext) {
  // Set 1 current: a VAA signed by set 0 (every test VAA is) may not name set 1 or set 2.
  ASSERT_TRUE(keys.wormhole.upgrade(1, {verify::demo::hyperlane_validator()}, 0));
  guardian_set_upgrade_event event;
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(2, new_keys), event));
  EXPECT_FALSE(read(testing::guardian_set_upgrade_vaa(1, new_keys), event));
  verify::key_sets none;
  EXPECT_FALSE(read_guardian_set_upgrade(none, testing::guardian_set_upgrade_vaa(1, new_keys), event))
      << "no current set";
}

}  // namespace
}  // namespace ferry::dp

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/stage_graph.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "support/bytes.hpp"
#include "support/demo_key_sets.hpp"
#include "support/messages.hpp"
#include "support/policy.hpp"

namespace ferry::dp {
namespace {

using testing::bytes;
using verify::message_kind;
constexpr auto any = std::nullopt;

std::uint8_t wire(message_kind kind) { return static_cast<std::uint8_t>(kind); }

stage_layout staged(std::uint32_t io, std::uint32_t verify, std::uint32_t route) {
  stage_layout layout;
  layout.mode = layout_mode::staged;
  layout.io = io;
  layout.verify = verify;
  layout.route = route;
  return layout;  // no cores: every stage a thread of its own, unpinned
}

// The routes of a harness, given its two next hops.
using route_maker = std::function<std::vector<testing::test_route>(const endpoint& a, const endpoint& b)>;

testing::test_route one_hop(std::optional<message_kind> kind, std::optional<std::uint32_t> source,
                            std::optional<std::uint32_t> destination, const endpoint& hop) {
  testing::test_route r;
  r.rule = {kind, source, destination, std::nullopt};
  r.hops = {hop};
  return r;
}

std::vector<testing::test_route> default_routes(const endpoint& a, const endpoint&) {
  return {one_hop(message_kind::wormhole, any, any, a), one_hop(message_kind::hyperlane, any, 42161, a),
          one_hop(message_kind::layerzero, 30101, 30102, a), one_hop(message_kind::quorum, any, any, a),
          one_hop(message_kind::opaque, 1, any, a)};
}

// A stage graph on loopback (socket backend) with two next-hop sockets and senders; every loop is bounded.
class StageGraphHarness {
 public:
  explicit StageGraphHarness(const stage_layout& layout, std::uint32_t ring_size = 1024,
                             const route_maker& routes = default_routes) {
    const endpoint loopback = *endpoint::parse("127.0.0.1:0");
    backend_options options;
    options.choice = backend_choice::socket;
    options.listen = loopback;
    options.socket_buffer = 8u << 20;
    const bool is_staged = layout.mode == layout_mode::staged;
    options.rx_ports = is_staged ? layout.io : 1;
    options.tx_ports = is_staged ? layout.route : 1;
    auto backend = open_socket_backend(options);
    auto hop = udp_socket::open({loopback, false, 16u << 20});
    auto hop_b = udp_socket::open({loopback, false, 16u << 20});
    EXPECT_TRUE(backend.ok() && hop.ok() && hop_b.ok());
    _backend = std::move(*backend);
    _hop.emplace(std::move(*hop));
    _hop_b.emplace(std::move(*hop_b));
    _spec.routes = routes(_hop->local(), _hop_b->local());
    _spec.keys = testing::demo_key_sets();
    _spec.stages = layout.stage_count();
    _policies = testing::make_policy_store(_spec);
    graph_options g;
    g.layout = layout;
    g.ring_size = ring_size;
    g.buffers = 512;
    g.buffer_size = 2048;
    auto graph = stage_graph::start(g, *_backend, *_policies, nullptr);
    EXPECT_TRUE(graph.ok()) << graph.err().message();
    _graph = std::move(*graph);
  }

  ~StageGraphHarness() {
    if (_graph) _graph->stop();
  }

  udp_socket sender() {
    auto s = udp_socket::open({*endpoint::parse("127.0.0.1:0"), false, 8u << 20});
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }

  static void send(udp_socket& from, const endpoint& to, const bytes& datagram) {
    iovec iov{const_cast<std::byte*>(datagram.data()), datagram.size()};
    mmsghdr m{};
    m.msg_hdr.msg_name = const_cast<sockaddr*>(to.address());
    m.msg_hdr.msg_namelen = to.length();
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
    ASSERT_EQ(from.send(&m, 1), 1u);
  }

  // Waits (at most 20 s) until `messages` were received and every one is accounted for, then stops the graph.
  void settle(std::uint64_t messages) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      const counter_values t = _graph->totals();
      if (t.rx >= messages && t.rx == t.forwarded + t.dropped()) break;
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    _graph->stop();
  }

  // Waits (at most 20 s) until `messages` were received and every one is accounted for; the graph runs on.
  bool wait_for(std::uint64_t messages) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      const counter_values t = _graph->totals();
      if (t.rx >= messages && t.rx == t.forwarded + t.dropped()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Message bodies that reached next hop a (or b).
  std::vector<bytes> delivered(bool at_b = false) {
    udp_socket& hop = at_b ? *_hop_b : *_hop;
    std::vector<bytes> out;
    auto pool = placed<buffer_pool>::create("drain", platform::page_size::normal, 64u, 65536u);
    packet_buffer* buffers[64];
    const std::uint32_t have = (*pool)->acquire(buffers, 64);
    while (hop.wait_readable(200)) {
      const std::uint32_t got = hop.receive(buffers, have, (*pool)->data_size());
      for (std::uint32_t i = 0; i < got; ++i) {
        frame_view view;
        EXPECT_EQ(parse_frame({buffers[i]->data(), buffers[i]->length}, view), frame_status::ok);
        for (const message_ref m : view) out.emplace_back(m.body.begin(), m.body.end());
      }
    }
    (*pool)->release(buffers, have);
    return out;
  }

  // Per stage rx == forwarded + dropped, and what one kind of stage passes on is what the next kind takes in.
  void expect_balanced() {
    std::uint64_t io_out = 0, verify_in = 0, verify_out = 0, route_in = 0;
    for (std::size_t s = 0; s < _graph->stage_count(); ++s) {
      const counter_values c = _graph->counters(s);
      const std::string& name = _graph->info(s).name;
      EXPECT_EQ(c.rx, c.forwarded + c.dropped()) << name;
      if (name.starts_with("io")) io_out += c.forwarded;
      if (name.starts_with("verify")) {
        verify_in += c.rx;
        verify_out += c.forwarded;
      }
      if (name.starts_with("route")) route_in += c.rx;
    }
    if (_graph->layout().mode == layout_mode::staged) {
      EXPECT_EQ(io_out, verify_in);
      EXPECT_EQ(verify_out, route_in);
    }
    const counter_values t = _graph->totals();
    EXPECT_EQ(t.rx, t.forwarded + t.dropped());
  }

  std::uint64_t drops(drop_reason reason) const {
    return _graph->totals().drops[static_cast<std::size_t>(reason)];
  }
  endpoint target() const { return _backend->local(); }
  endpoint hop_a() const { return _hop->local(); }
  endpoint hop_b() const { return _hop_b->local(); }
  stage_graph& graph() { return *_graph; }
  policy_store& policies() { return *_policies; }
  const testing::test_policy& spec() const { return _spec; }

 private:
  std::unique_ptr<io_backend> _backend;
  std::optional<udp_socket> _hop, _hop_b;
  testing::test_policy _spec;
  std::unique_ptr<policy_store> _policies;  // outlives the graph (declared before it)
  std::unique_ptr<stage_graph> _graph;
};

// Exactly the expected messages arrived, as many times each: reports how many are missing and unexpected, rather
// than printing every byte.
void expect_same_messages(const std::vector<bytes>& arrived, const std::vector<bytes>& expected) {
  std::multiset<bytes> left(expected.begin(), expected.end());
  std::size_t unexpected = 0;
  for (const bytes& m : arrived) {
    const auto it = left.find(m);
    if (it == left.end()) {
      ++unexpected;
    } else {
      left.erase(it);
    }
  }
  EXPECT_EQ(left.size(), 0u) << "expected messages that did not arrive";
  EXPECT_EQ(unexpected, 0u) << "messages that arrived but should not have";
}

class StageGraphLayouts : public ::testing::TestWithParam<stage_layout> {};

TEST_P(StageGraphLayouts, DeliversExactlyTheValidRoutedMessagesAndEveryStageBalances) {
  StageGraphHarness h(GetParam());
  udp_socket from = h.sender();
  std::vector<bytes> valid;
  std::vector<testing::message> all;
  for (std::uint64_t i = 0; i < 12; ++i) {
    valid.push_back(testing::vaa_body(2, 100 + i));
    all.push_back({wire(message_kind::wormhole), valid.back()});
    valid.push_back(testing::opaque_body(1, 5, 8 + i));
    all.push_back({wire(message_kind::opaque), valid.back()});
    valid.push_back(testing::quorum_body(1 + static_cast<std::uint32_t>(i), 6));
    all.push_back({wire(message_kind::quorum), valid.back()});
  }
  valid.push_back(testing::hyperlane_body(1, 42161));
  all.push_back({wire(message_kind::hyperlane), valid.back()});
  valid.push_back(testing::layerzero_body(30101, 30102));
  all.push_back({wire(message_kind::layerzero), valid.back()});
  for (int copy = 0; copy < 3; ++copy) all.push_back({wire(message_kind::wormhole), valid[0]});  // duplicate x3
  bytes forged = testing::vaa_body(2, 999);
  testing::flip_last_byte(forged);
  all.push_back({wire(message_kind::wormhole), forged});                     // bad_signature
  all.push_back({wire(message_kind::wormhole), bytes(valid[0].begin(), valid[0].begin() + 30)});  // malformed
  all.push_back({wire(message_kind::opaque), testing::opaque_body(9, 5)});  // no_route
  // Four messages a frame, so that one datagram's messages spread over several verify stages.
  for (std::size_t i = 0; i < all.size(); i += 4) {
    const std::vector<testing::message> part(all.begin() + static_cast<std::ptrdiff_t>(i),
                                             all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 4, all.size())));
    StageGraphHarness::send(from, h.target(), testing::frame_of(part));
  }
  h.settle(all.size());
  expect_same_messages(h.delivered(), valid);
  const counter_values t = h.graph().totals();
  EXPECT_EQ(t.rx, all.size());
  EXPECT_EQ(t.forwarded, valid.size());
  EXPECT_EQ(h.drops(drop_reason::duplicate), 3u);  // every copy met the verify stage that saw the first
  EXPECT_EQ(h.drops(drop_reason::bad_signature), 1u);
  EXPECT_EQ(h.drops(drop_reason::malformed), 1u);
  EXPECT_EQ(h.drops(drop_reason::no_route), 1u);
  h.expect_balanced();
}

INSTANTIATE_TEST_SUITE_P(Layouts, StageGraphLayouts,
                         ::testing::Values(stage_layout{}, staged(1, 1, 1), staged(1, 2, 1), staged(2, 3, 2)),
                         [](const ::testing::TestParamInfo<stage_layout>& param_info) {
                           const stage_layout& l = param_info.param;
                           if (l.mode == layout_mode::run_to_completion) return std::string("RunToCompletion");
                           return "Staged" + std::to_string(l.io) + "x" + std::to_string(l.verify) + "x" +
                                  std::to_string(l.route);
                         });

TEST(StageGraph, AFullRingDropsAsQueueFullAndReceivingGoesOn) {
  StageGraphHarness h(staged(1, 1, 1), 2);  // a ring of two descriptors
  udp_socket from = h.sender();
  std::vector<testing::message> many;
  for (std::size_t i = 0; i < 40; ++i) many.push_back({wire(message_kind::opaque), testing::opaque_body(1, 5, 8 + i)});
  StageGraphHarness::send(from, h.target(), testing::frame_of(many));  // 40 descriptors pushed at once: 2 fit
  h.settle(40);
  EXPECT_EQ(h.drops(drop_reason::queue_full), 38u);
  EXPECT_EQ(h.graph().totals().forwarded, 2u);
  EXPECT_EQ(h.delivered().size(), 2u);
  h.expect_balanced();
}

// An io stage's pool holds what the stages after it can keep of its buffers on top of `buffers`: its rings to the
// verify stages, their rings to the route stages, and a burst from each input and one being sent in those stages.
TEST(StageGraph, EachIoStageHasBuffersForEverythingDownstreamCanHold) {
  EXPECT_EQ(buffers_held_downstream(stage_layout{}, 1024, 32), 0u) << "run to completion returns each burst's buffers";
  EXPECT_EQ(buffers_held_downstream(staged(1, 1, 1), 1024, 32), 1024u + 1024u + 2u * 32u + 2u * 32u);
  EXPECT_EQ(buffers_held_downstream(staged(2, 3, 2), 64, 8), 3u * 64u + 3u * 2u * 64u + 3u * 3u * 8u + 2u * 2u * 8u);
  EXPECT_EQ(buffers_held_downstream(staged(64, 64, 64), 1u << 20, 64), buffer_pool::max_count) << "capped";
}

TEST(StageGraph, TheRingHighWaterMarkIsReported) {
  StageGraphHarness h(staged(1, 1, 1));
  udp_socket from = h.sender();
  std::vector<testing::message> many;
  for (std::size_t i = 0; i < 40; ++i) many.push_back({wire(message_kind::opaque), testing::opaque_body(1, 5, 8 + i)});
  StageGraphHarness::send(from, h.target(), testing::frame_of(many));
  h.settle(40);
  std::uint64_t verify_high = 0;
  for (std::size_t s = 0; s < h.graph().stage_count(); ++s) {
    if (h.graph().info(s).name == "verify0") verify_high = h.graph().counters(s).ring_high_water;
  }
  EXPECT_GE(verify_high, 1u);
  EXPECT_LE(verify_high, 40u);
}

// Two io stages, three verify stages and two route stages, under two senders each sending signed messages with
// repeats: under ThreadSanitizer this is the test of the rings, the buffer references and the return path.
TEST(StageGraphStress, TwoSendersRepeatsAndEveryStageKind) {
  StageGraphHarness h(staged(2, 3, 2), 4096);
  constexpr std::uint64_t frames_per_sender = 150;
  std::vector<bytes> valid[2];
  std::uint64_t sent[2] = {0, 0};
  std::vector<std::thread> senders;
  for (int who = 0; who < 2; ++who) {
    senders.emplace_back([&, who] {
      udp_socket from = h.sender();
      for (std::uint64_t f = 0; f < frames_per_sender; ++f) {
        std::vector<testing::message> part;
        const bytes vaa = testing::vaa_body(2, 1'000'000 * static_cast<std::uint64_t>(who + 1) + f);
        part.push_back({wire(message_kind::wormhole), vaa});
        part.push_back({wire(message_kind::wormhole), vaa});  // a copy: duplicate
        const bytes opaque = testing::opaque_body(1, static_cast<std::uint32_t>(who), 8 + f % 64);
        part.push_back({wire(message_kind::opaque), opaque});
        valid[who].push_back(vaa);
        valid[who].push_back(opaque);  // opaque bodies repeat after 64 frames: nothing dedups opaque, all arrive
        StageGraphHarness::send(from, h.target(), testing::frame_of(part));
        sent[who] += part.size();
        if (f % 16 == 15) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  for (std::thread& t : senders) t.join();
  h.settle(sent[0] + sent[1]);
  std::vector<bytes> expected = valid[0];
  expected.insert(expected.end(), valid[1].begin(), valid[1].end());
  expect_same_messages(h.delivered(), expected);
  EXPECT_EQ(h.graph().totals().rx, sent[0] + sent[1]);
  EXPECT_EQ(h.drops(drop_reason::duplicate), 2 * frames_per_sender);
  EXPECT_EQ(h.graph().totals().rx_lost, 0u);
  h.expect_balanced();
}

// A new snapshot of `spec` that keeps the live state (tallies, buckets, breakers) of the store's current one, route
// by route and peer by peer, as the control plane does for routes that keep their names. Writer side only.
std::unique_ptr<policy> successor(policy_store& store, const testing::test_policy& spec) {
  const policy& now = *store.current();  // the writer's own look: only the writer frees snapshots
  auto next = testing::make_policy(spec);
  next->generation = now.generation + 1;
  for (std::size_t r = 0; r < next->actions.size() && r < now.route_states.size(); ++r) {
    next->route_states[r] = now.route_states[r];
    next->actions[r].state = now.route_states[r].get();
  }
  for (std::size_t p = 0; p < next->peer_entries.size() && p < now.peer_states.size(); ++p) {
    next->peer_states[p] = now.peer_states[p];
    next->peer_entries[p].state = now.peer_states[p].get();
  }
  return next;
}

std::vector<testing::test_route> replicate_and_verify(const endpoint& a, const endpoint& b) {
  testing::test_route both;
  both.rule.kind = message_kind::opaque;
  both.hops = {a, b};
  return {both, one_hop(message_kind::wormhole, any, any, a)};
}

TEST_P(StageGraphLayouts, ReplicatesToBothHopsAndEveryStageTalliesItsRoutes) {
  StageGraphHarness h(GetParam(), 1024, replicate_and_verify);
  udp_socket from = h.sender();
  std::vector<bytes> opaque, vaas;
  std::vector<testing::message> all;
  for (std::uint64_t i = 0; i < 10; ++i) {
    opaque.push_back(testing::opaque_body(1, 5, 8 + i));
    all.push_back({wire(message_kind::opaque), opaque.back()});
    vaas.push_back(testing::vaa_body(2, 500 + i));
    all.push_back({wire(message_kind::wormhole), vaas.back()});
  }
  bytes forged = testing::vaa_body(2, 600);
  testing::flip_last_byte(forged);
  all.push_back({wire(message_kind::wormhole), forged});
  for (std::size_t i = 0; i < all.size(); i += 4) {
    const std::vector<testing::message> part(all.begin() + static_cast<std::ptrdiff_t>(i),
                                             all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 4, all.size())));
    StageGraphHarness::send(from, h.target(), testing::frame_of(part));
  }
  h.settle(all.size());
  std::vector<bytes> at_a = opaque;
  at_a.insert(at_a.end(), vaas.begin(), vaas.end());
  expect_same_messages(h.delivered(), at_a);
  expect_same_messages(h.delivered(true), opaque);
  const counter_values t = h.graph().totals();
  EXPECT_EQ(t.forwarded, 20u);
  EXPECT_EQ(t.copies, 10u);
  EXPECT_EQ(h.drops(drop_reason::bad_signature), 1u);
  EXPECT_EQ(t.verdicts[static_cast<std::size_t>(message_kind::wormhole) - 1]
                      [static_cast<std::size_t>(verify::verdict::valid)],
            10u);
  std::uint64_t measured = 0;
  for (const std::uint64_t n : t.latency) measured += n;
  EXPECT_EQ(measured, 20u);  // once per message, however many hops it went to
  const policy& p = *h.policies().current();  // the graph has stopped: nothing publishes
  const route_state::totals replicated = p.actions[0].state->read();
  EXPECT_EQ(replicated.matched, 10u);
  EXPECT_EQ(replicated.forwarded, 10u);
  const route_state::totals verified = p.actions[1].state->read();
  EXPECT_EQ(verified.verified, 10u);
  EXPECT_EQ(verified.verify_failed, 1u);
  EXPECT_EQ(verified.forwarded, 10u);
  h.expect_balanced();
}

TEST_P(StageGraphLayouts, APolicySwapMovesTheRouteBetweenBursts) {
  StageGraphHarness h(GetParam());
  udp_socket from = h.sender();
  std::vector<bytes> before, after;
  for (std::uint64_t i = 0; i < 20; ++i) {
    before.push_back(testing::opaque_body(1, 5, 8 + i));
    StageGraphHarness::send(from, h.target(), testing::frame_of({{wire(message_kind::opaque), before.back()}}));
  }
  ASSERT_TRUE(h.wait_for(20));
  testing::test_policy moved = h.spec();
  moved.routes[4].hops = {h.hop_b()};  // opaque from source 1: now to hop b
  h.policies().publish(successor(h.policies(), moved));
  // Every stage has passed a quiescent point since (or sleeps offline): none can still route by the old snapshot.
  ASSERT_TRUE(h.policies().drain(std::chrono::seconds(5)));
  for (std::uint64_t i = 0; i < 20; ++i) {
    after.push_back(testing::opaque_body(1, 6, 8 + i));
    StageGraphHarness::send(from, h.target(), testing::frame_of({{wire(message_kind::opaque), after.back()}}));
  }
  h.settle(40);
  expect_same_messages(h.delivered(), before);
  expect_same_messages(h.delivered(true), after);
  EXPECT_EQ(h.graph().totals().forwarded, 40u);
  EXPECT_EQ(h.policies().current()->generation, 2u);
  EXPECT_EQ(h.policies().current()->actions[4].state->read().forwarded, 40u);  // carried over the swap
  h.expect_balanced();
}

// Snapshots published as fast as the store allows while two senders keep every stage busy: no message lost or
// sent twice, every count exact, and under ThreadSanitizer / AddressSanitizer no stage touches a freed snapshot.
TEST(StageGraphStress, PolicySwapsUnderTraffic) {
  StageGraphHarness h(staged(2, 2, 2), 4096);
  constexpr std::uint64_t frames_per_sender = 200;
  std::atomic<bool> sending{true};
  std::vector<bytes> sent[2];
  std::vector<std::thread> senders;
  for (int who = 0; who < 2; ++who) {
    senders.emplace_back([&, who] {
      udp_socket from = h.sender();
      for (std::uint64_t f = 0; f < frames_per_sender; ++f) {
        const bytes body = testing::opaque_body(1, static_cast<std::uint32_t>(who), 8 + f);
        sent[who].push_back(body);
        StageGraphHarness::send(from, h.target(), testing::frame_of({{wire(message_kind::opaque), body}}));
        if (f % 16 == 15) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  std::thread writer([&] {
    testing::test_policy spec = h.spec();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < 2000 && sending.load() && std::chrono::steady_clock::now() < deadline; ++i) {
      spec.routes[4].hops = {i % 2 == 0 ? h.hop_b() : h.hop_a()};
      h.policies().publish(successor(h.policies(), spec));
    }
  });
  for (std::thread& t : senders) t.join();
  sending = false;
  writer.join();
  h.settle(2 * frames_per_sender);
  std::vector<bytes> expected = sent[0];
  expected.insert(expected.end(), sent[1].begin(), sent[1].end());
  std::vector<bytes> arrived = h.delivered();
  const std::vector<bytes> at_b = h.delivered(true);
  arrived.insert(arrived.end(), at_b.begin(), at_b.end());
  expect_same_messages(arrived, expected);
  EXPECT_EQ(h.graph().totals().rx, 2 * frames_per_sender);
  EXPECT_EQ(h.graph().totals().forwarded, 2 * frames_per_sender);
  EXPECT_EQ(h.policies().current()->actions[4].state->read().forwarded, 2 * frames_per_sender);
  EXPECT_TRUE(h.policies().drain(std::chrono::seconds(5)));
  h.expect_balanced();
}

}  // namespace
}  // namespace ferry::dp

#include "ferry/dataplane/pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/platform/endian.hpp"
#include "support/bytes.hpp"
#include "support/messages.hpp"
#include "support/demo_key_sets.hpp"

namespace ferry::dp {
namespace {

using verify::message_kind;
using bytes = std::vector<std::byte>;

constexpr auto any = std::nullopt;

using testing::frame_of;
using testing::message;
using testing::hyperlane_body;
using testing::layerzero_body;
using testing::opaque_body;
using testing::quorum_body;
using testing::vaa_body;

std::uint8_t wire(message_kind kind) { return static_cast<std::uint8_t>(kind); }

// A pipeline on loopback with its own sender and next-hop sockets; every loop below is bounded.
class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const endpoint loopback = *endpoint::parse("127.0.0.1:0");
    backend_options options;
    options.choice = backend_choice::socket;
    options.listen = loopback;
    options.socket_buffer = 1u << 20;
    auto router = open_socket_backend(options);
    auto hop_a = udp_socket::open({loopback, false, 1u << 20});
    auto hop_b = udp_socket::open({loopback, false, 1u << 20});
    auto sender = udp_socket::open({loopback, false, 1u << 20});
    auto pool = placed<buffer_pool>::create("pool", platform::page_size::normal, 64u, 1024u);
    ASSERT_TRUE(router && hop_a && hop_b && sender && pool);
    _router = std::move(*router);
    _hop_a.emplace(std::move(*hop_a));
    _hop_b.emplace(std::move(*hop_b));
    _sender.emplace(std::move(*sender));
    _pool.emplace(std::move(*pool));
    _hops = {_hop_a->local(), _hop_b->local(), *endpoint::parse("255.255.255.255:9")};  // the last refuses sends
  }

  void route(std::vector<route_rule> rules) {
    auto table = route_table::build(std::move(rules), static_cast<std::uint32_t>(_hops.size()));
    ASSERT_TRUE(table.ok()) << table.err().message();
    _routes = std::move(*table);
    _pipeline.emplace(pipeline_options{32, 1472, 1024}, _router->rx(0), _router->tx(0), **_pool, _routes, _hops, _keys,
                      _trusted, _counters);
  }

  void send(const bytes& datagram) {
    iovec iov{const_cast<std::byte*>(datagram.data()), datagram.size()};
    mmsghdr m{};
    const endpoint to = _router->local();
    m.msg_hdr.msg_name = const_cast<sockaddr*>(to.address());
    m.msg_hdr.msg_namelen = to.length();
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
    ASSERT_EQ(_sender->send(&m, 1), 1u);
  }

  // Polls until `datagrams` have been received by the pipeline (at most two seconds).
  void process(std::uint64_t datagrams) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (_counters.read().rx_datagrams < datagrams && std::chrono::steady_clock::now() < deadline) {
      if (_pipeline->poll_once() == 0) _router->rx(0).wait(10);
    }
    ASSERT_EQ(_counters.read().rx_datagrams, datagrams);
  }

  // Every frame waiting at a hop socket.
  std::vector<bytes> drain(udp_socket& hop) {
    std::vector<bytes> frames;
    auto pool = placed<buffer_pool>::create("drain", platform::page_size::normal, 8u, 65536u);
    packet_buffer* buffers[8];
    const std::uint32_t have = (*pool)->acquire(buffers, 8);
    while (hop.wait_readable(100)) {
      const std::uint32_t got = hop.receive(buffers, have, (*pool)->data_size());
      for (std::uint32_t i = 0; i < got; ++i) frames.emplace_back(buffers[i]->data(), buffers[i]->data() + buffers[i]->length);
    }
    (*pool)->release(buffers, have);
    return frames;
  }

  // The message bodies in frames, checking each frame is well formed.
  static std::vector<bytes> bodies(const std::vector<bytes>& frames) {
    std::vector<bytes> out;
    for (const bytes& f : frames) {
      frame_view view;
      EXPECT_EQ(parse_frame(f, view), frame_status::ok);
      for (const message_ref m : view) out.emplace_back(m.body.begin(), m.body.end());
    }
    return out;
  }

  void expect_balanced() {
    const counter_values c = _counters.read();
    EXPECT_EQ(c.rx, c.forwarded + c.dropped());
  }

  std::uint64_t drops(drop_reason reason) { return _counters.read().drops[static_cast<std::size_t>(reason)]; }

  std::unique_ptr<io_backend> _router;
  std::optional<udp_socket> _hop_a, _hop_b, _sender;
  trusted_upstreams _trusted;
  std::optional<placed<buffer_pool>> _pool;
  std::vector<endpoint> _hops;
  route_table _routes;
  verify::key_sets _keys = testing::demo_key_sets();
  stage_counters _counters;
  std::optional<pipeline> _pipeline;
};

TEST_F(PipelineTest, RoutesEachKindToItsHop) {
  route({{message_kind::wormhole, 2, any, 0},
         {message_kind::hyperlane, any, 42161, 1},
         {message_kind::layerzero, 30101, 30102, 0},
         {message_kind::opaque, any, any, 1},
         {message_kind::quorum, 5, 6, 0}});
  const bytes vaa = vaa_body(2);
  const bytes hyperlane = hyperlane_body(1, 42161);
  const bytes layerzero = layerzero_body(30101, 30102);
  const bytes opaque = opaque_body(7, 8);
  const bytes quorum = quorum_body(5, 6);
  send(frame_of({{wire(message_kind::wormhole), vaa}, {wire(message_kind::hyperlane), hyperlane}}));
  send(frame_of({{wire(message_kind::layerzero), layerzero}, {wire(message_kind::opaque), opaque}}));
  send(frame_of({{wire(message_kind::quorum), quorum}}));
  process(3);

  const auto at_a = bodies(drain(*_hop_a));
  const auto at_b = bodies(drain(*_hop_b));
  EXPECT_TRUE(at_a == (std::vector<bytes>{vaa, layerzero, quorum}));
  EXPECT_TRUE(at_b == (std::vector<bytes>{hyperlane, opaque}));
  const counter_values c = _counters.read();
  EXPECT_EQ(c.rx, 5u);
  EXPECT_EQ(c.forwarded, 5u);
  expect_balanced();
}

TEST_F(PipelineTest, DropsWhatFailsVerificationUnderItsVerdict) {
  // Set 0 (the devnet guardian) replaced two days ago: it expired a day ago.
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  verify::key_sets keys = testing::demo_key_sets();
  ASSERT_TRUE(keys.wormhole.upgrade(1, {verify::demo::hyperlane_validator()}, now - 2 * 86400));
  _keys = std::move(keys);
  route({{any, any, any, 0}});

  bytes forged = vaa_body(2);
  testing::flip_last_byte(forged);  // the body changed after signing: the signature recovers another key
  bytes other_set = vaa_body(2);
  platform::store_be32(other_set.data() + 1, 5);
  bytes unsigned_quorum = quorum_body(5, 6);
  unsigned_quorum.resize(unsigned_quorum.size() - verify::quorum::signature_size);
  unsigned_quorum.back() = std::byte{0};  // no signatures at all: below the threshold of 1
  bytes lz_no_attestation = layerzero_body(30101, 30102);
  lz_no_attestation.resize(2 + verify::layerzero::packet_fixed_size);
  send(frame_of({
      {wire(message_kind::wormhole), vaa_body(2)},                 // expired_key_set: set 0 is no longer current
      {wire(message_kind::hyperlane), hyperlane_body(77, 1)},      // unknown_key_set: no validators for origin 77
      {wire(message_kind::wormhole), other_set},                   // unknown_key_set: no set 5
      {wire(message_kind::quorum), unsigned_quorum},               // no_quorum
      {wire(message_kind::layerzero), lz_no_attestation},          // malformed: the attestation is missing
      {wire(message_kind::hyperlane), hyperlane_body(1, 2)},       // forwarded
  }));
  process(1);
  _keys = testing::demo_key_sets();  // a new pipeline, verifying against the current devnet set
  route({{any, any, any, 0}});
  send(frame_of({{wire(message_kind::wormhole), forged}}));  // bad_signature
  process(2);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  EXPECT_EQ(drops(drop_reason::expired_key_set), 1u);
  EXPECT_EQ(drops(drop_reason::unknown_key_set), 2u);
  EXPECT_EQ(drops(drop_reason::no_quorum), 1u);
  EXPECT_EQ(drops(drop_reason::malformed), 1u);
  EXPECT_EQ(drops(drop_reason::bad_signature), 1u);
  EXPECT_EQ(_counters.read().forwarded, 1u);
  expect_balanced();
}

TEST_F(PipelineTest, ARepeatedMessageGoesOnceAndItsCopiesAreDuplicates) {
  // (that the repeats cost no crypto is the verifier's test: the pipeline's counters do not see the cache)
  route({{message_kind::wormhole, any, any, 0}, {message_kind::opaque, any, any, 0}});
  const bytes vaa = vaa_body(2, 7);
  for (int i = 0; i < 5; ++i) send(frame_of({{wire(message_kind::wormhole), vaa}}));
  // opaque messages carry nothing to verify, so nothing remembers them: each copy goes
  for (int i = 0; i < 2; ++i) send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(7);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 3u);
  EXPECT_EQ(_counters.read().forwarded, 3u);
  EXPECT_EQ(drops(drop_reason::duplicate), 4u);
  expect_balanced();
}

TEST_F(PipelineTest, ATrustedUpstreamsVerifiedFramesSkipVerification) {
  route({{message_kind::wormhole, any, any, 0}});
  bytes vaa = vaa_body(2, 8);
  testing::flip_last_byte(vaa);  // its signature no longer holds: only a trusted mark lets it through
  bytes marked = frame_of({{wire(message_kind::wormhole), vaa}});
  marked[3] = std::byte{frame_flag::verified_upstream};
  send(marked);  // not trusted yet: verified, refused
  process(1);
  EXPECT_EQ(drops(drop_reason::bad_signature), 1u);
  _trusted = trusted_upstreams({_sender->local()});
  route({{message_kind::wormhole, any, any, 0}});
  send(marked);
  send(frame_of({{wire(message_kind::wormhole), vaa}}));  // trusted host, but no mark: verified
  process(3);  // counted since the start
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  EXPECT_EQ(_counters.read().forwarded, 1u);
  EXPECT_EQ(drops(drop_reason::bad_signature), 2u);
  expect_balanced();
}

TEST_F(PipelineTest, DropsEachKindOfBadMessageUnderItsReason) {
  route({{message_kind::opaque, 1, any, 0}});
  bytes short_vaa = vaa_body(2);
  short_vaa.resize(30);
  send(frame_of({
      {wire(message_kind::opaque), opaque_body(1, 2)},        // forwarded
      {wire(message_kind::opaque), opaque_body(9, 2)},        // no_route
      {99, opaque_body(1, 2)},                                // unknown_kind
      {wire(message_kind::wormhole), short_vaa},              // malformed body
      {wire(message_kind::opaque), opaque_body(1, 2), 0x01},  // malformed: reserved message flags
  }));
  bytes bad_version = frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}});
  bad_version[2] = std::byte{9};
  send(bad_version);
  bytes bad_length = frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}});
  platform::store_be16(bad_length.data() + frame_header_size + 2, 500);
  send(bad_length);
  send(bytes(3, std::byte{1}));                                             // not even a header
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2, 1500)}}));  // larger than the 1024-byte buffers
  process(5);

  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  const counter_values c = _counters.read();
  EXPECT_EQ(c.rx, 9u);  // 5 messages, and 4 datagrams rejected whole
  EXPECT_EQ(c.forwarded, 1u);
  EXPECT_EQ(drops(drop_reason::no_route), 1u);
  EXPECT_EQ(drops(drop_reason::unknown_kind), 1u);
  EXPECT_EQ(drops(drop_reason::malformed), 4u);
  EXPECT_EQ(drops(drop_reason::unsupported_version), 1u);
  EXPECT_EQ(drops(drop_reason::oversize), 1u);
  expect_balanced();
}

TEST_F(PipelineTest, SplitsWhatDoesNotFitOneFrame) {
  route({{message_kind::opaque, any, any, 0}});
  // 40 messages of 208 bytes each, 4 to a datagram, all waiting before the one burst that takes them: at most 6
  // fit a 1472-byte frame after its header.
  std::vector<bytes> sent;
  for (int frame = 0; frame < 10; ++frame) {
    std::vector<message> messages;
    for (int i = 0; i < 4; ++i) {
      bytes body = opaque_body(1, 2, 200);
      body[8] = static_cast<std::byte>(frame * 4 + i);
      sent.push_back(body);
      messages.push_back({wire(message_kind::opaque), body});
    }
    send(frame_of(messages));
  }
  process(10);
  const auto frames = drain(*_hop_a);
  for (const bytes& f : frames) EXPECT_LE(f.size(), 1472u);
  EXPECT_EQ(frames.size(), 7u);  // ceil(40 / 6)
  EXPECT_TRUE(bodies(frames) == sent) << "the messages arrive unchanged and in order";
  // Each next hop sees its frames numbered 0, 1, 2, ...
  for (std::size_t i = 0; i < frames.size(); ++i) {
    frame_view view;
    ASSERT_EQ(parse_frame(frames[i], view), frame_status::ok);
    EXPECT_EQ(view.header().sequence, i);
  }
  EXPECT_EQ(_counters.read().tx_datagrams, 7u);
  expect_balanced();
}

TEST_F(PipelineTest, CountsFramesTheKernelRefusesAsTxErrors) {
  route({{message_kind::opaque, 1, any, 2}, {message_kind::opaque, 2, any, 0}});
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 0)},
                 {wire(message_kind::opaque), opaque_body(2, 0)},
                 {wire(message_kind::opaque), opaque_body(1, 0)}}));
  process(1);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);  // the frame to the good hop still goes
  EXPECT_EQ(_counters.read().forwarded, 1u);
  EXPECT_EQ(drops(drop_reason::tx_error), 2u);
  expect_balanced();
}

TEST_F(PipelineTest, ReturnsEveryBufferToThePool) {
  route({{any, any, any, 0}});
  for (int i = 0; i < 100; ++i) send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(100);
  EXPECT_EQ((*_pool)->available(), (*_pool)->count());
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 100u);
  expect_balanced();
}

}  // namespace
}  // namespace ferry::dp

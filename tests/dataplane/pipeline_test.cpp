#include "ferry/dataplane/pipeline.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
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
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

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

// A route as the tests name it: the rule's first three fields and one hop (an index into _hops).
struct rule_to {
  std::optional<message_kind> kind;
  std::optional<std::uint32_t> source;
  std::optional<std::uint32_t> destination;
  std::uint32_t hop;
};

// Records the guardian set upgrades a pipeline reports.
class recorded_events final : public control_events {
 public:
  bool guardian_set_upgraded(std::uint32_t, const guardian_set_upgrade_event& event) noexcept override {
    upgrades.push_back(event);
    return true;
  }
  std::vector<guardian_set_upgrade_event> upgrades;
};

// A Unix datagram socket bound in a fresh temporary directory: a local sink.
class unix_sink {
 public:
  unix_sink() {
    _path = _dir.path() + "/sink";
    _fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(_fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    EXPECT_LT(_path.size(), sizeof address.sun_path) << "too long for a socket address: " << _path;
    std::strncpy(address.sun_path, _path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  }
  ~unix_sink() {
    if (_fd >= 0) ::close(_fd);
  }
  unix_sink(const unix_sink&) = delete;
  unix_sink& operator=(const unix_sink&) = delete;

  const std::string& path() const { return _path; }

  // Every datagram waiting (waiting up to 100 ms for each).
  std::vector<bytes> drain() {
    std::vector<bytes> out;
    pollfd p{_fd, POLLIN, 0};
    while (::poll(&p, 1, 100) == 1) {
      bytes datagram(65536);
      const ssize_t n = ::recv(_fd, datagram.data(), datagram.size(), MSG_DONTWAIT);
      if (n < 0) break;
      datagram.resize(static_cast<std::size_t>(n));
      out.push_back(std::move(datagram));
    }
    return out;
  }

 private:
  testing::temp_dir _dir{"sink"};
  std::string _path;
  int _fd = -1;
};

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

  // The policy of one-hop routes (and the fixture's peers and keys).
  testing::test_policy spec(const std::vector<rule_to>& rules) const {
    testing::test_policy p;
    for (const rule_to& r : rules) {
      testing::test_route t;
      t.rule = {r.kind, r.source, r.destination, std::nullopt};
      t.hops = {_hops[r.hop]};
      p.routes.push_back(std::move(t));
    }
    for (const testing::test_peer& peer : _peers) p.peers.push_back(peer);  // (a token bucket is not assignable)
    p.keys = _keys;
    p.guardian_set_upgrades = _upgrades;
    return p;
  }

  // A new pipeline (counting on in the same counters) under a new store serving `first`.
  void install(std::unique_ptr<policy> first) {
    _pipeline.reset();
    _store = std::make_unique<policy_store>(std::move(first), 1);
    _pipeline.emplace(pipeline_options{32, 1472, 1024}, _router->rx(0), _router->tx(0), **_pool, *_store, 0,
                      &_events, 1.0, _counters);
  }

  void route(const std::vector<rule_to>& rules) { install(testing::make_policy(spec(rules))); }

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
  std::vector<testing::test_peer> _peers;
  bool _upgrades = false;
  recorded_events _events;
  std::optional<placed<buffer_pool>> _pool;
  std::vector<endpoint> _hops;
  verify::key_sets _keys = testing::demo_key_sets();
  stage_counters _counters;
  std::unique_ptr<policy_store> _store;
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

TEST_F(PipelineTest, ATrustedUpstreamsAuthenticatedVerifiedFramesSkipVerification) {
  const link_key key = testing::link_key_of(3, 0x5a);
  route({{message_kind::wormhole, any, any, 0}});
  bytes vaa = vaa_body(2, 8);
  testing::flip_last_byte(vaa);  // its signature no longer holds: only a trusted mark lets it through
  bytes marked = frame_of({{wire(message_kind::wormhole), vaa}});
  marked[3] = std::byte{frame_flag::verified_upstream};
  send(testing::sealed(marked, key));  // from no peer: the mark and the tag mean nothing; verified, refused
  process(1);
  EXPECT_EQ(drops(drop_reason::bad_signature), 1u);
  // the sender, now a peer whose marks are honoured on its authenticated link
  _peers.push_back({{_sender->local()}, true, std::nullopt, testing::link_keys_of({key})});
  route({{message_kind::wormhole, any, any, 0}});
  send(testing::sealed(marked, key));
  send(testing::sealed(frame_of({{wire(message_kind::wormhole), vaa}}), key));  // authenticated, but no mark: verified
  send(marked);  // the mark without a tag: bad_mac, however trusted the address
  process(4);  // counted since the start
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  EXPECT_EQ(_counters.read().forwarded, 1u);
  EXPECT_EQ(drops(drop_reason::bad_signature), 2u);
  EXPECT_EQ(drops(drop_reason::bad_mac), 1u);
  expect_balanced();
}

TEST_F(PipelineTest, APeerWithLinkKeysHasEveryFrameCheckedFirst) {
  const link_key key = testing::link_key_of(1, 0x11);
  _peers.push_back({{_sender->local()}, false, bucket_settings{1e-6, 4}, testing::link_keys_of({key})});
  auto first = testing::make_policy(spec({{message_kind::opaque, any, any, 0}}));
  const std::shared_ptr<peer_state> peer = first->peer_states[0];
  install(std::move(first));
  const bytes frame = frame_of({{wire(message_kind::opaque), opaque_body(1, 2)},
                                {wire(message_kind::opaque), opaque_body(1, 3)}});
  bytes flipped = testing::sealed(frame, key);
  flipped[flipped.size() - 1] ^= std::byte{1};  // a tag one bit off
  bytes changed = testing::sealed(frame, key);
  changed[frame_header_size + message_header_size] ^= std::byte{1};  // a message changed after tagging
  bytes wrong_id = testing::sealed(frame, testing::link_key_of(2, 0x11));  // the right secret under another id
  send(frame);  // no tag at all
  send(flipped);
  send(changed);
  send(wrong_id);
  send(testing::sealed(frame, testing::link_key_of(1, 0x12)));  // another secret
  send(testing::sealed(frame, key));
  process(6);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 2u);
  EXPECT_EQ(drops(drop_reason::bad_mac), 5u) << "each refused datagram is one message dropped";
  // checked before the peer's bucket: the five forgeries took none of its 4 tokens
  EXPECT_EQ(drops(drop_reason::rate_limited_peer), 0u);
  EXPECT_EQ(peer->read().bad_mac, 5u);
  EXPECT_EQ(peer->read().rx, 7u);
  expect_balanced();
}

TEST_F(PipelineTest, ARetiringLinkKeyIsAcceptedUntilItsGraceEnds) {
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  link_key old_key = testing::link_key_of(1, 0x21);
  old_key.accept_until = now + 3600;
  link_key gone = testing::link_key_of(2, 0x22);
  gone.accept_until = now - 1;
  const link_key next = testing::link_key_of(3, 0x23);
  _peers.push_back({{_sender->local()}, false, std::nullopt, testing::link_keys_of({old_key, gone, next})});
  route({{message_kind::opaque, any, any, 0}});
  const bytes frame = frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}});
  send(testing::sealed(frame, old_key));
  send(testing::sealed(frame, next));
  send(testing::sealed(frame, gone));
  process(3);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 2u);
  EXPECT_EQ(drops(drop_reason::bad_mac), 1u);
  expect_balanced();
}

TEST_F(PipelineTest, FramesToAPeerWithLinkKeysCarryTheNewestKeysTag) {
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  const link_key older = testing::link_key_of(4, 0x31);
  const link_key newest = testing::link_key_of(5, 0x32);
  const link_key not_yet = testing::link_key_of(9, 0x33, now + 3600);  // installed, not sent with before its time
  // the next hop _hops[0] is a peer with keys
  _peers.push_back({{_hops[0]}, false, std::nullopt, testing::link_keys_of({older, newest, not_yet})});
  route({{message_kind::opaque, any, any, 0}});
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}, {wire(message_kind::opaque), opaque_body(1, 3)}}));
  process(1);
  const std::vector<bytes> got = drain(*_hop_a);
  ASSERT_EQ(got.size(), 1u);
  frame_view frame;
  ASSERT_EQ(parse_frame(got[0], frame), frame_status::ok);
  EXPECT_EQ(frame.header().flags, frame_flag::authenticated);
  EXPECT_EQ(frame.header().key_id, 5u);
  EXPECT_TRUE(authentic(testing::link_keys_of({newest}), frame, now));
  EXPECT_FALSE(authentic(testing::link_keys_of({older}), frame, now));
  EXPECT_EQ(std::distance(frame.begin(), frame.end()), 2);
  expect_balanced();
}

// A link may tag with keyed BLAKE2b instead: its frames are checked and tagged the same way, and a tag made with the
// same secret and id under the other MAC is no tag at all.
TEST_F(PipelineTest, ALinkKeyedForBlake2bChecksAndTagsWithIt) {
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  const link_key key = testing::link_key_of(1, 0x41, 0, link_mac::blake2b);
  const link_key as_hmac = testing::link_key_of(1, 0x41);
  EXPECT_EQ(key.mac(), link_mac::blake2b);
  EXPECT_FALSE(key.same_key(as_hmac)) << "the same secret under another MAC is another key";
  _peers.push_back({{_sender->local()}, false, std::nullopt, testing::link_keys_of({key})});
  _peers.push_back({{_hops[0]}, false, std::nullopt, testing::link_keys_of({key})});
  route({{message_kind::opaque, any, any, 0}});
  const bytes frame = frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}});
  send(testing::sealed(frame, key));
  send(testing::sealed(frame, as_hmac));
  process(2);
  const std::vector<bytes> got = drain(*_hop_a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(drops(drop_reason::bad_mac), 1u);
  frame_view sent;
  ASSERT_EQ(parse_frame(got[0], sent), frame_status::ok);
  EXPECT_EQ(sent.header().key_id, 1u);
  EXPECT_TRUE(authentic(testing::link_keys_of({key}), sent, now));
  EXPECT_FALSE(authentic(testing::link_keys_of({as_hmac}), sent, now));
  expect_balanced();
}

// A link whose key encrypts (ChaCha20-Poly1305): frames from the peer are opened, and refused whole as bad_mac when
// they do not open (altered ciphertext, an altered header, a clear tag under the key's id, no tag, no key at all);
// frames to it carry their messages encrypted, which open again with the key.
TEST_F(PipelineTest, ALinkKeyedForChaCha20Poly1305EncryptsBothWays) {
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  const link_key key = testing::link_key_of(1, 0x51, 0, link_mac::chacha20_poly1305);
  const link_key as_hmac = testing::link_key_of(1, 0x51);
  ASSERT_TRUE(key.encrypts());
  route({{message_kind::opaque, any, any, 0}});
  const bytes secret_payload = opaque_body(1, 2, 40);
  const bytes frame =
      frame_of({{wire(message_kind::opaque), secret_payload}, {wire(message_kind::opaque), opaque_body(1, 3)}});
  send(testing::sealed(frame, key));  // from no peer: nobody here holds a key to open it
  process(1);
  EXPECT_EQ(drops(drop_reason::bad_mac), 1u);

  _peers.push_back({{_sender->local()}, false, std::nullopt, testing::link_keys_of({key})});
  _peers.push_back({{_hops[0]}, false, std::nullopt, testing::link_keys_of({key})});
  route({{message_kind::opaque, any, any, 0}});
  bytes altered = testing::sealed(frame, key);
  altered[frame_header_size + link_nonce_size + 10] ^= std::byte{1};
  bytes header_altered = testing::sealed(frame, key);
  header_altered[15] ^= std::byte{1};  // the sequence: in clear, but authenticated
  send(testing::sealed(frame, key));
  send(testing::sealed(frame, as_hmac));
  send(altered);
  send(header_altered);
  send(frame);
  process(6);  // counted since the start
  const std::vector<bytes> got = drain(*_hop_a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(drops(drop_reason::bad_mac), 5u);
  EXPECT_EQ(_counters.read().forwarded, 2u);

  frame_view sent;
  bytes wire_bytes = got[0];
  ASSERT_EQ(parse_frame(wire_bytes, sent), frame_status::ok);
  EXPECT_EQ(sent.header().flags, frame_flag::authenticated | frame_flag::encrypted);
  EXPECT_EQ(sent.header().key_id, 1u);
  EXPECT_EQ(std::search(wire_bytes.begin(), wire_bytes.end(), secret_payload.begin() + 8, secret_payload.end()),
            wire_bytes.end())
      << "the payload went out in clear";
  EXPECT_FALSE(authentic(testing::link_keys_of({as_hmac}), sent, now));
  ASSERT_TRUE(open(testing::link_keys_of({key}), wire_bytes, sent, now));
  ASSERT_EQ(parse_opened(sent), frame_status::ok);
  ASSERT_EQ(std::distance(sent.begin(), sent.end()), 2);
  EXPECT_TRUE(std::ranges::equal((*sent.begin()).body, secret_payload));
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

// The policy pieces the tests below change by hand: routes with several hops, verbs and sinks.
testing::test_route route_of(std::optional<message_kind> kind, std::vector<endpoint> hops,
                             route_verb verb = route_verb::replicate) {
  testing::test_route r;
  r.rule.kind = kind;
  r.hops = std::move(hops);
  r.verb = verb;
  return r;
}

std::uint64_t forwarded_bodies(const std::vector<bytes>& a, const std::vector<bytes>& b) { return a.size() + b.size(); }

TEST_F(PipelineTest, ADropRouteCountsRouteDrop) {
  testing::test_policy p = spec({{message_kind::wormhole, any, any, 0}});
  p.routes.push_back(route_of(message_kind::opaque, {}));  // no hops: the route drops
  auto first = testing::make_policy(p);
  ASSERT_EQ(first->actions[1].verb, route_verb::drop);
  route_state& dropping = *first->actions[1].state;
  install(std::move(first));
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}, {wire(message_kind::opaque), opaque_body(3, 4)}}));
  process(1);
  EXPECT_TRUE(drain(*_hop_a).empty());
  EXPECT_EQ(drops(drop_reason::route_drop), 2u);
  EXPECT_EQ(_counters.read().forwarded, 0u);
  const route_state::totals t = dropping.read();
  EXPECT_EQ(t.matched, 2u);
  EXPECT_EQ(t.dropped_by_action, 2u);
  EXPECT_EQ(t.forwarded, 0u);
  expect_balanced();
}

TEST_F(PipelineTest, APausedRouteCountsBreakerOpenUntilResumed) {
  auto first = testing::make_policy(spec({{message_kind::opaque, any, any, 0}}));
  route_state& state = *first->actions[0].state;
  state.circuit().pause();
  install(std::move(first));
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(1);
  EXPECT_EQ(drops(drop_reason::breaker_open), 1u);
  EXPECT_EQ(state.read().breaker_open, 1u);
  state.circuit().resume(0);
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(2);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  EXPECT_EQ(_counters.read().forwarded, 1u);
  const route_state::totals t = state.read();
  EXPECT_EQ(t.matched, 2u);
  EXPECT_EQ(t.forwarded, 1u);
  EXPECT_EQ(t.breaker_open, 1u);
  expect_balanced();
}

TEST_F(PipelineTest, AReplicatingRouteSendsToEveryHopAndCountsTheCopies) {
  testing::test_policy p = spec({});
  p.routes.push_back(route_of(message_kind::opaque, {_hops[0], _hops[1]}));
  auto first = testing::make_policy(p);
  route_state& state = *first->actions[0].state;
  install(std::move(first));
  std::vector<bytes> sent;
  for (std::uint32_t i = 0; i < 3; ++i) sent.push_back(opaque_body(1, i));
  send(frame_of({{wire(message_kind::opaque), sent[0]}, {wire(message_kind::opaque), sent[1]}}));
  send(frame_of({{wire(message_kind::opaque), sent[2]}}));
  process(2);
  EXPECT_TRUE(bodies(drain(*_hop_a)) == sent);
  EXPECT_TRUE(bodies(drain(*_hop_b)) == sent);
  const counter_values c = _counters.read();
  EXPECT_EQ(c.forwarded, 3u);  // each message once...
  EXPECT_EQ(c.copies, 3u);     // ...and its second copy here
  EXPECT_EQ(c.copy_errors, 0u);
  EXPECT_EQ(c.tx_datagrams, 2u);  // one frame per hop: the burst took both datagrams
  EXPECT_EQ(state.read().forwarded, 3u);
  EXPECT_EQ(state.read().matched, 3u);
  expect_balanced();
}

TEST_F(PipelineTest, ACopyTheKernelRefusesIsACopyErrorNotADrop) {
  testing::test_policy p = spec({});
  p.routes.push_back(route_of(message_kind::opaque, {_hops[0], _hops[2]}));  // the second hop refuses sends
  install(testing::make_policy(p));
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(1);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  const counter_values c = _counters.read();
  EXPECT_EQ(c.forwarded, 1u);
  EXPECT_EQ(c.copy_errors, 1u);
  EXPECT_EQ(drops(drop_reason::tx_error), 0u);
  expect_balanced();
}

TEST_F(PipelineTest, ABalancingRouteSendsEachMessageToExactlyOneHop) {
  testing::test_policy p = spec({});
  p.routes.push_back(route_of(message_kind::opaque, {_hops[0], _hops[1]}, route_verb::balance));
  install(testing::make_policy(p));
  std::vector<bytes> sent;
  for (std::uint32_t i = 0; i < 64; ++i) {
    sent.push_back(opaque_body(1, i));
    send(frame_of({{wire(message_kind::opaque), sent.back()}}));
  }
  process(64);
  // The same bytes again go where they went the first time.
  for (std::uint32_t i = 0; i < 8; ++i) send(frame_of({{wire(message_kind::opaque), sent[i]}}));
  process(72);
  const auto at_a = bodies(drain(*_hop_a));
  const auto at_b = bodies(drain(*_hop_b));
  EXPECT_EQ(forwarded_bodies(at_a, at_b), 72u);
  std::map<bytes, int> where;  // 1: a, 2: b, 3: both
  for (const bytes& m : at_a) where[m] |= 1;
  for (const bytes& m : at_b) where[m] |= 2;
  EXPECT_EQ(where.size(), 64u);
  for (const auto& [m, hops] : where) EXPECT_NE(hops, 3) << "a message went to both hops";
  EXPECT_GE(at_a.size(), 8u) << "the hash spreads messages over the hops";
  EXPECT_GE(at_b.size(), 8u) << "the hash spreads messages over the hops";
  const counter_values c = _counters.read();
  EXPECT_EQ(c.forwarded, 72u);
  EXPECT_EQ(c.copies, 0u);
  expect_balanced();
}

TEST_F(PipelineTest, ALocalSinkReceivesTheFrame) {
  unix_sink sink;
  auto first = testing::make_policy(spec({{message_kind::opaque, any, any, 0}, {message_kind::quorum, any, any, 1}}));
  auto to_sink = next_hop::to_sink(sink.path());
  ASSERT_TRUE(to_sink.ok()) << to_sink.err().message();
  first->hops[0] = *to_sink;  // opaque messages go to the sink, quorum ones to hop b
  install(std::move(first));
  const bytes a = opaque_body(1, 2);
  const bytes b = opaque_body(3, 4);
  const bytes q = quorum_body(5, 6);
  send(frame_of({{wire(message_kind::opaque), a}, {wire(message_kind::quorum), q}, {wire(message_kind::opaque), b}}));
  process(1);
  const auto frames = sink.drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(bodies(frames) == (std::vector<bytes>{a, b}));
  EXPECT_TRUE(bodies(drain(*_hop_b)) == (std::vector<bytes>{q}));
  const counter_values c = _counters.read();
  EXPECT_EQ(c.forwarded, 3u);
  EXPECT_EQ(c.tx_datagrams, 2u);
  expect_balanced();
}

TEST_F(PipelineTest, ASinkWithoutAListenerCountsTxErrors) {
  auto first = testing::make_policy(spec({{message_kind::opaque, any, any, 0}}));
  auto nowhere = next_hop::to_sink("/nonexistent-ferry-dir/sink");
  ASSERT_TRUE(nowhere.ok());
  first->hops[0] = *nowhere;
  install(std::move(first));
  send(frame_of({{wire(message_kind::opaque), opaque_body(1, 2)}, {wire(message_kind::opaque), opaque_body(1, 3)}}));
  process(1);
  EXPECT_EQ(drops(drop_reason::tx_error), 2u);
  EXPECT_EQ(_counters.read().forwarded, 0u);
  expect_balanced();
}

TEST_F(PipelineTest, RouteTalliesCountVerificationAndForwarding) {
  auto first = testing::make_policy(spec({{message_kind::wormhole, any, any, 0}, {message_kind::opaque, any, any, 1}}));
  route_state& wormhole = *first->actions[0].state;
  route_state& opaque = *first->actions[1].state;
  install(std::move(first));
  bytes forged = vaa_body(2, 11);
  testing::flip_last_byte(forged);
  send(frame_of({{wire(message_kind::wormhole), vaa_body(2, 10)},
                 {wire(message_kind::wormhole), forged},
                 {wire(message_kind::wormhole), vaa_body(2, 10)},  // duplicate: told to nobody a second time
                 {wire(message_kind::opaque), opaque_body(1, 2)},
                 {wire(message_kind::opaque), opaque_body(1, 3)}}));
  process(1);
  const route_state::totals w = wormhole.read();
  EXPECT_EQ(w.verified, 1u);
  EXPECT_EQ(w.verify_failed, 1u);
  EXPECT_EQ(w.matched, 1u);  // only what passed verification reaches the routing step
  EXPECT_EQ(w.forwarded, 1u);
  const route_state::totals o = opaque.read();
  EXPECT_EQ(o.verified + o.verify_failed, 0u);  // nothing to verify in opaque messages
  EXPECT_EQ(o.matched, 2u);
  EXPECT_EQ(o.forwarded, 2u);
  EXPECT_EQ(bodies(drain(*_hop_a)).size(), 1u);
  EXPECT_EQ(bodies(drain(*_hop_b)).size(), 2u);
  expect_balanced();
}

TEST_F(PipelineTest, VerdictsAreCountedByKindAndLatencyIsMeasured) {
  route({{any, any, any, 0}});
  bytes forged = vaa_body(2, 21);
  testing::flip_last_byte(forged);
  send(frame_of({{wire(message_kind::wormhole), vaa_body(2, 20)},
                 {wire(message_kind::wormhole), forged},
                 {wire(message_kind::wormhole), vaa_body(2, 20)},
                 {wire(message_kind::hyperlane), hyperlane_body(1, 2)},
                 {wire(message_kind::opaque), opaque_body(1, 2)}}));
  process(1);
  const counter_values c = _counters.read();
  const auto verdicts = [&](message_kind kind, verify::verdict v) {
    return c.verdicts[static_cast<std::size_t>(kind) - 1][static_cast<std::size_t>(v)];
  };
  EXPECT_EQ(verdicts(message_kind::wormhole, verify::verdict::valid), 1u);
  EXPECT_EQ(verdicts(message_kind::wormhole, verify::verdict::bad_signature), 1u);
  EXPECT_EQ(verdicts(message_kind::wormhole, verify::verdict::duplicate), 1u);
  EXPECT_EQ(verdicts(message_kind::hyperlane, verify::verdict::valid), 1u);
  std::uint64_t opaque_verdicts = 0;
  for (const std::uint64_t n : c.verdicts[static_cast<std::size_t>(message_kind::opaque) - 1]) opaque_verdicts += n;
  EXPECT_EQ(opaque_verdicts, 0u);
  EXPECT_EQ(c.forwarded, 3u);
  std::uint64_t measured = 0;
  for (const std::uint64_t n : c.latency) measured += n;
  EXPECT_EQ(measured, 3u);  // every forwarded message, once
  EXPECT_GT(c.latency_sum_ns, 0u);
  expect_balanced();
}

TEST_F(PipelineTest, APolicySwapBetweenBurstsMovesTheRouteWithoutLosingAMessage) {
  auto first = testing::make_policy(spec({{message_kind::opaque, any, any, 0}}));
  const std::shared_ptr<route_state> state = first->route_states[0];
  install(std::move(first));
  std::vector<bytes> before, after;
  for (std::uint32_t i = 0; i < 5; ++i) {
    before.push_back(opaque_body(1, i));
    send(frame_of({{wire(message_kind::opaque), before.back()}}));
  }
  process(5);
  // The control plane's way: a new snapshot, the route's live state carried over, published between bursts.
  auto next = testing::make_policy(spec({{message_kind::opaque, any, any, 1}}));
  next->generation = 2;
  next->actions[0].state = state.get();
  next->route_states[0] = state;
  _store->publish(std::move(next));
  EXPECT_TRUE(_store->drain(std::chrono::milliseconds(1000)));
  EXPECT_EQ(_store->published(), 2u);
  for (std::uint32_t i = 0; i < 5; ++i) {
    after.push_back(opaque_body(2, i));
    send(frame_of({{wire(message_kind::opaque), after.back()}}));
  }
  process(10);
  EXPECT_TRUE(bodies(drain(*_hop_a)) == before);
  EXPECT_TRUE(bodies(drain(*_hop_b)) == after);
  EXPECT_EQ(_counters.read().forwarded, 10u);
  EXPECT_EQ(state->read().forwarded, 10u);
  EXPECT_EQ(state->read().matched, 10u);
  expect_balanced();
}

TEST_F(PipelineTest, RoutesByEmitterBeforeKind) {
  testing::test_policy p = spec({{message_kind::wormhole, any, any, 0}});
  testing::test_route by_emitter;
  by_emitter.rule.kind = message_kind::wormhole;
  by_emitter.rule.emitter = emitter_id{};
  (*by_emitter.rule.emitter)[31] = std::byte{0x77};
  by_emitter.hops = {_hops[1]};
  p.routes.push_back(by_emitter);
  install(testing::make_policy(p));
  verify::wormhole::vaa_fields named;
  named.emitter_chain = 2;
  named.sequence = 30;
  named.emitter_address[31] = std::byte{0x77};
  const bytes from_emitter = testing::vaa_of(named);
  const bytes other = vaa_body(2, 31);
  send(frame_of({{wire(message_kind::wormhole), from_emitter}, {wire(message_kind::wormhole), other}}));
  process(1);
  EXPECT_TRUE(bodies(drain(*_hop_a)) == (std::vector<bytes>{other}));
  EXPECT_TRUE(bodies(drain(*_hop_b)) == (std::vector<bytes>{from_emitter}));
  expect_balanced();
}

TEST_F(PipelineTest, APeerWhoseMarksAreNotHonouredIsVerifiedAndCounted) {
  _peers.push_back({{_sender->local()}, false, std::nullopt, {}});
  auto first = testing::make_policy(spec({{message_kind::wormhole, any, any, 0}}));
  const std::shared_ptr<peer_state> peer = first->peer_states[0];
  install(std::move(first));
  bytes vaa = vaa_body(2, 40);
  testing::flip_last_byte(vaa);
  bytes marked = frame_of({{wire(message_kind::wormhole), vaa}, {wire(message_kind::wormhole), vaa_body(2, 41)}});
  marked[3] = std::byte{frame_flag::verified_upstream};
  send(marked);
  process(1);
  EXPECT_EQ(drops(drop_reason::bad_signature), 1u);
  EXPECT_EQ(_counters.read().forwarded, 1u);
  EXPECT_EQ(peer->read().rx, 2u);
  expect_balanced();
}

TEST_F(PipelineTest, AValidGuardianSetUpgradeIsReportedWhenThePolicyAsksForIt) {
  const std::vector<verify::eth_address> keys = {verify::demo::hyperlane_validator(), verify::demo::layerzero_dvn()};
  route({{message_kind::wormhole, any, any, 0}});
  send(frame_of({{wire(message_kind::wormhole), testing::guardian_set_upgrade_vaa(1, keys, 0, 1, 4, 1)}}));
  process(1);
  EXPECT_TRUE(_events.upgrades.empty()) << "the policy did not ask";
  _upgrades = true;
  route({{message_kind::wormhole, any, any, 0}});
  bytes forged = testing::guardian_set_upgrade_vaa(1, keys, 0, 1, 4, 2);
  testing::flip_last_byte(forged);
  send(frame_of({{wire(message_kind::wormhole), forged},                                            // not verified
                 {wire(message_kind::wormhole), testing::guardian_set_upgrade_vaa(2, keys, 0, 1, 4, 3)},  // skips 1
                 {wire(message_kind::wormhole), testing::guardian_set_upgrade_vaa(1, keys, 0, 1, 4, 4)}}));
  process(2);
  ASSERT_EQ(_events.upgrades.size(), 1u);
  EXPECT_EQ(_events.upgrades[0].new_index, 1u);
  ASSERT_EQ(_events.upgrades[0].key_count, 2u);
  EXPECT_EQ(_events.upgrades[0].keys[0], keys[0]);
  EXPECT_EQ(_events.upgrades[0].keys[1], keys[1]);
  EXPECT_EQ(_counters.read().forwarded, 3u);  // an upgrade is a message like any other: it goes on too
  expect_balanced();
}

}  // namespace
}  // namespace ferry::dp

#pragma once
// The policy snapshot: everything the data plane decides by that the control plane may change while it runs
// (routes and their actions, next hops, peers and their trust, rate limits, breakers, key sets). Immutable once
// published (snapshot_store.hpp); each stage loads the current one when it takes a burst in (after receiving or
// popping it) and keeps it for the burst, so each decision on a message is made under one policy, and the policies
// along a message's path only get newer.
//
// The live state of a route or a peer (its token bucket, breaker and counters) is not part of any one snapshot:
// the control plane carries it from one snapshot to the next while the route or peer keeps its name and settings,
// so a reload neither refills a bucket nor closes a breaker nor resets a counter.

#include <sys/un.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/dataplane/breaker.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/replay_windows.hpp"
#include "ferry/dataplane/route_table.hpp"
#include "ferry/dataplane/snapshot_store.hpp"
#include "ferry/dataplane/token_bucket.hpp"
#include "ferry/platform/cpu.hpp"
#include "ferry/platform/result.hpp"
#include "ferry/verify/verifier.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::dp {

// Where frames go: a UDP endpoint through the backend, or a local sink (a Unix datagram socket).
struct next_hop {
  enum class type : std::uint8_t { udp, unix_sink };
  type how = type::udp;
  endpoint udp;
  sockaddr_un sink{};
  socklen_t sink_length = 0;
  const link_keys* keys = nullptr;  // udp: the keys of the peer at that address, when it has some (frames get a tag)

  static next_hop to_udp(const endpoint& address) noexcept;
  // Fails when the path is empty, relative or longer than 107 bytes.
  static platform::result<next_hop> to_sink(const std::string& path);
  const sockaddr* address() const noexcept;
  socklen_t address_length() const noexcept;
};

// A token bucket's settings (token_bucket.hpp): tokens a second and most at once.
struct bucket_settings {
  double rate = 0;
  std::uint32_t burst = 1;
};

// Counters one stage keeps for one route or peer: written by that stage only.
struct alignas(platform::cache_line) route_tally {
  single_writer_counter matched, forwarded, rate_limited, breaker_open, dropped_by_action, verified, verify_failed;
};
struct alignas(platform::cache_line) peer_tally {
  single_writer_counter rx, rate_limited, bad_mac;
};

// A route's live state. Any data-plane thread may use the bucket and the breaker; each stage writes only its own
// tally slot.
class route_state {
 public:
  // stages: tally slots (one per stage of the graph). limit: the route's token bucket, if any.
  route_state(std::uint32_t stages, const std::optional<bucket_settings>& limit, const breaker_settings& breaker);

  route_tally& tally(std::uint32_t stage) noexcept { return _tallies[stage]; }
  token_bucket* limit() noexcept { return _limit ? &*_limit : nullptr; }
  breaker& circuit() noexcept { return _breaker; }
  const breaker& circuit() const noexcept { return _breaker; }
  const std::optional<bucket_settings>& limit_settings() const noexcept { return _limit_settings; }
  std::uint32_t stages() const noexcept { return _stages; }

  struct totals {
    std::uint64_t matched = 0, forwarded = 0, rate_limited = 0, breaker_open = 0, dropped_by_action = 0,
                  verified = 0, verify_failed = 0;
  };
  totals read() const noexcept;

 private:
  std::uint32_t _stages;
  std::unique_ptr<route_tally[]> _tallies;
  std::optional<bucket_settings> _limit_settings;
  std::optional<token_bucket> _limit;
  breaker _breaker;
};

class peer_state {
 public:
  peer_state(std::uint32_t stages, const std::optional<bucket_settings>& limit);

  peer_tally& tally(std::uint32_t stage) noexcept { return _tallies[stage]; }
  token_bucket* limit() noexcept { return _limit ? &*_limit : nullptr; }
  const std::optional<bucket_settings>& limit_settings() const noexcept { return _limit_settings; }

  struct totals {
    std::uint64_t rx = 0, rate_limited = 0, bad_mac = 0;
  };
  totals read() const noexcept;

 private:
  std::uint32_t _stages;
  std::unique_ptr<peer_tally[]> _tallies;
  std::optional<bucket_settings> _limit_settings;
  std::optional<token_bucket> _limit;
};

enum class route_verb : std::uint8_t {
  replicate,  // every hop of the route's group gets the message
  balance,    // one hop, chosen by a hash of the message's bytes
  drop,       // dropped as route_drop
};

struct route_entry {
  route_verb verb = route_verb::drop;
  std::uint32_t first_hop = 0;  // into policy::group_hops
  std::uint32_t hop_count = 0;
  route_state* state = nullptr;
};

struct peer_entry {
  bool verified_upstream = false;  // its authenticated frames marked verified upstream skip verification
  peer_state* state = nullptr;
  link_keys keys;  // when not empty, every frame from the peer must carry a tag by one of them
};

// Source addresses to peers: an exact address and port first, then the host with port 0 (any port), then the peer
// of everyone else, when there is one.
class peer_table {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;

  struct binding {
    endpoint address;  // port 0: any source port of this host
    std::uint32_t peer;
  };
  // Fails when the same address (and port) is bound to two peers. anyone: the peer of every source no binding
  // matches, or none.
  static platform::result<peer_table> build(std::vector<binding> bindings, std::uint32_t anyone = none);

  peer_table() = default;
  // The peer that sends from `source`, or none. A few compares per peer binding of the family (linear: a router
  // has a handful of peers; a hash would pay off past a few dozen).
  std::uint32_t find(const endpoint& source) const noexcept;
  // The peer `address` is bound to, leaving out the peer of everyone else (which is no address's).
  std::uint32_t bound(const endpoint& address) const noexcept;
  bool empty() const noexcept { return _bindings.empty() && _anyone == none; }

 private:
  std::vector<binding> _bindings;  // exact ones (with a port) first
  std::uint32_t _anyone = none;
};

// Whether a verified Wormhole VAA upgrades the guardian set, as the stage that verified it reports it to the
// control plane: the event carries the new set, which the control plane installs in a new snapshot, and the VAA
// itself (its bytes), which the control plane keeps in the state directory so that a restart can verify it again.
// Every upgrade VAA that can verify fits (verify::wormhole::max_guardian_set_upgrade_size, 22,027 bytes), so an
// event is about 27 KB: a ring of them per stage, allocated once.
struct guardian_set_upgrade_event {
  std::uint32_t new_index = 0;
  std::uint32_t key_count = 0;
  std::uint32_t vaa_size = 0;
  std::array<verify::eth_address, 255> keys{};
  // Not zeroed (only the first vaa_size bytes are ever read): a stage fills one for each verified VAA it checks.
  std::array<std::byte, verify::wormhole::max_guardian_set_upgrade_size> vaa;
};

// Where verify stages report what the control plane must act on; implemented by the control plane. Must not block
// or allocate.
class control_events {
 public:
  virtual ~control_events() = default;
  // Called by the stage in tally slot `stage` only (so that each stage may have a ring of its own). False when the
  // event could not be queued (then it is counted there, and the upgrade waits for another copy of the VAA).
  virtual bool guardian_set_upgraded(std::uint32_t stage, const guardian_set_upgrade_event& event) noexcept = 0;
};

struct policy {
  std::uint64_t generation = 0;  // 1 for the first snapshot, one more for each published after it

  route_table routes;
  std::vector<route_entry> actions;        // by rule index
  std::vector<std::uint32_t> group_hops;   // indices into hops, by route_entry::first_hop
  std::vector<next_hop> hops;

  peer_table peers;
  std::vector<peer_entry> peer_entries;    // by peer index

  std::shared_ptr<const verify::key_sets> keys;
  // The replay windows every snapshot shares (owned by the control plane, alive while any stage runs), or null.
  replay_windows* replay = nullptr;
  bool guardian_set_upgrades = false;  // report verified upgrade VAAs (control_events) so that sets rotate

  // Owners of the live state the entries point at, so that it lives while any snapshot using it does.
  std::vector<std::shared_ptr<route_state>> route_states;
  std::vector<std::shared_ptr<peer_state>> peer_states;
};

using policy_store = snapshot_store<policy>;

// The hop of a balance route for a message (a hash of its bytes), or every hop of a replicate route: calls
// send(hop, first) for each hop the message goes to, `first` true for one of them only.
template <class Send>
void for_each_hop(const policy& p, const route_entry& route, std::span<const std::byte> message,
                  Send&& send) noexcept;

// Reads a verified Wormhole VAA of `body`; when it is a guardian set upgrade to the next set of the current one,
// fills `out` (the new set and the VAA's bytes) and returns true. Costs a compare for any other VAA. A VAA larger
// than out.vaa is refused, though none that verifies can be (see max_guardian_set_upgrade_size).
bool read_guardian_set_upgrade(const verify::key_sets& keys, std::span<const std::byte> body,
                               guardian_set_upgrade_event& out) noexcept;

}  // namespace ferry::dp

#include "ferry/dataplane/message_desc.hpp"

namespace ferry::dp {

template <class Send>
void for_each_hop(const policy& p, const route_entry& route, std::span<const std::byte> message,
                  Send&& send) noexcept {
  if (route.verb == route_verb::balance) {
    send(p.group_hops[route.first_hop + shard_of(message, route.hop_count)], true);
    return;
  }
  for (std::uint32_t i = 0; i < route.hop_count; ++i) send(p.group_hops[route.first_hop + i], i == 0);
}

}  // namespace ferry::dp

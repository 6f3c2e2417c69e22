#pragma once
// Policy snapshots for data-plane tests, without the control plane: routes to single UDP hops (or drops), peers,
// key sets. What ctl::router builds from a configuration, reduced to what a test names.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/tx_batch.hpp"

namespace ferry::testing {

struct test_route {
  dp::route_rule rule;
  std::vector<dp::endpoint> hops;  // empty: the route drops
  dp::route_verb verb = dp::route_verb::replicate;
  std::optional<dp::bucket_settings> limit;
  dp::breaker_settings breaker{};
};

struct test_peer {
  std::vector<dp::endpoint> addresses;  // port 0: any port of the host
  bool verified_upstream = false;
  std::optional<dp::bucket_settings> limit;
  dp::link_keys keys;  // frames to and from the peer are tagged
};

struct test_policy {
  std::vector<test_route> routes;
  std::vector<test_peer> peers;
  verify::key_sets keys;
  bool guardian_set_upgrades = false;
  std::uint32_t stages = 1;  // tally slots in each route and peer state
};

// The snapshot; fails the calling test (and returns an empty policy) when the routes or peers are refused.
inline std::unique_ptr<dp::policy> make_policy(const test_policy& spec) {
  auto p = std::make_unique<dp::policy>();
  p->generation = 1;  // as the first snapshot a control plane builds
  std::vector<dp::route_rule> rules;
  for (const test_route& r : spec.routes) {
    rules.push_back(r.rule);
    dp::route_entry entry;
    entry.verb = r.hops.empty() ? dp::route_verb::drop : r.verb;
    entry.first_hop = static_cast<std::uint32_t>(p->group_hops.size());
    for (const dp::endpoint& h : r.hops) {
      std::uint32_t index = 0;
      while (index < p->hops.size() && !(p->hops[index].udp == h)) ++index;
      if (index == p->hops.size()) p->hops.push_back(dp::next_hop::to_udp(h));
      p->group_hops.push_back(index);
    }
    entry.hop_count = static_cast<std::uint32_t>(r.hops.size());
    auto state = std::make_shared<dp::route_state>(spec.stages, r.limit, r.breaker);
    entry.state = state.get();
    p->actions.push_back(entry);
    p->route_states.push_back(std::move(state));
  }
  auto table = dp::route_table::build(std::move(rules));
  if (!table) throw std::runtime_error(table.err().message());
  p->routes = std::move(*table);
  std::vector<dp::peer_table::binding> bindings;
  for (const test_peer& peer : spec.peers) {
    const auto index = static_cast<std::uint32_t>(p->peer_entries.size());
    for (const dp::endpoint& a : peer.addresses) bindings.push_back({a, index});
    auto state = std::make_shared<dp::peer_state>(spec.stages, peer.limit);
    p->peer_entries.push_back({peer.verified_upstream, state.get(), peer.keys});
    p->peer_states.push_back(std::move(state));
  }
  auto peers = dp::peer_table::build(std::move(bindings));
  if (!peers) throw std::runtime_error(peers.err().message());
  p->peers = std::move(*peers);
  for (dp::next_hop& hop : p->hops) {
    const std::uint32_t peer = p->peers.bound(hop.udp);
    if (peer != dp::peer_table::none && !p->peer_entries[peer].keys.empty()) hop.keys = &p->peer_entries[peer].keys;
  }
  p->keys = std::make_shared<const verify::key_sets>(spec.keys);
  p->guardian_set_upgrades = spec.guardian_set_upgrades;
  return p;
}

// A link key of 32 bytes of `fill`.
inline dp::link_key link_key_of(std::uint16_t id, std::uint8_t fill, std::uint64_t send_from = 0,
                                dp::link_mac mac = dp::link_mac::hmac_sha256) {
  std::array<std::byte, 32> secret;
  secret.fill(std::byte{fill});
  return dp::link_key(id, secret, send_from, mac);
}

inline dp::link_keys link_keys_of(std::vector<dp::link_key> keys) { return dp::link_keys{std::move(keys)}; }

// `frame` authenticated with `key` (its flag and key id set, its tag appended; encrypted when the key encrypts).
inline std::vector<std::byte> sealed(std::vector<std::byte> frame, const dp::link_key& key) {
  const std::size_t size = frame.size();
  frame.resize(size + key.overhead());
  frame.resize(dp::seal(frame, size, key));
  return frame;
}

// A store serving make_policy(spec), with a reader slot per stage.
inline std::unique_ptr<dp::policy_store> make_policy_store(const test_policy& spec) {
  return std::make_unique<dp::policy_store>(make_policy(spec), spec.stages);
}

}  // namespace ferry::testing

#pragma once
// Policy snapshots for data-plane tests, without the control plane: routes to single UDP hops (or drops), peers,
// key sets. What ctl::router builds from a configuration, reduced to what a test names.

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
    p->peer_entries.push_back({peer.verified_upstream, state.get()});
    p->peer_states.push_back(std::move(state));
  }
  auto peers = dp::peer_table::build(std::move(bindings));
  if (!peers) throw std::runtime_error(peers.err().message());
  p->peers = std::move(*peers);
  p->keys = std::make_shared<const verify::key_sets>(spec.keys);
  p->guardian_set_upgrades = spec.guardian_set_upgrades;
  return p;
}

// A store serving make_policy(spec), with a reader slot per stage.
inline std::unique_ptr<dp::policy_store> make_policy_store(const test_policy& spec) {
  return std::make_unique<dp::policy_store>(make_policy(spec), spec.stages);
}

}  // namespace ferry::testing

#pragma once
// A running router: the data plane built from a configuration (backend, routes, stages and their threads).

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <string>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/control/stats.hpp"
#include "ferry/control/upgrade_file.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/dataplane/stage_graph.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// What `ferryctl routes list` shows of one route: its configuration as written, and its live counters.
struct route_report {
  route_config config;
  route_stats stats;
};

// What `ferryctl peers` shows of one peer: never its link keys' secrets, only their ids.
struct peer_report {
  std::string name;
  std::vector<std::string> addresses;
  std::string trust;  // "verify" or "verified-upstream"
  std::optional<rate_limit> limit;
  std::vector<std::uint32_t> link_key_ids;
  peer_stats stats;
};

// What `ferryctl keys list` shows: public keys and indices, ids and files of secrets, never a secret.
struct key_report {
  struct guardian_set {
    std::uint32_t index;
    std::size_t keys;
    std::uint64_t expiration_time;  // 0: none (the current set)
    bool current;
  };
  std::vector<guardian_set> wormhole;
  std::vector<std::pair<std::uint32_t, std::size_t>> hyperlane;  // origin domain, validators
  std::vector<std::pair<std::uint32_t, std::size_t>> layerzero;  // source eid, required + optional DVNs
  std::vector<std::pair<std::uint32_t, std::size_t>> quorum;     // key set id, keys
  struct link_key {
    std::string peer;
    std::uint32_t id;
    std::string file;
  };
  std::vector<link_key> links;
  bool guardian_set_upgrades = false;  // whether upgrade VAAs rotate the sets
};

// The live state of routes and peers (token buckets, breakers, counters) by name, carried from one snapshot to
// the next while a route or peer keeps its name and settings; and each peer's link keys, so that a key a change
// removes is still accepted for the peer's key_grace.
struct live_states {
  std::map<std::string, std::shared_ptr<dp::route_state>> routes;
  std::map<std::string, std::shared_ptr<dp::peer_state>> peers;
  std::map<std::string, dp::link_keys> link_keys;
};

// The policy snapshot a configuration asks for, verifying against `keys`, with `stage_slots` tally slots in each new
// route and peer state. `states` holds the previous snapshot's live state on entry and this one's on success
// (unchanged on failure). now_s: unix seconds, when removed link keys start their grace. Fails, naming the route or
// peer, when a next hop or binding is refused.
platform::result<std::unique_ptr<dp::policy>> build_policy(const config& cfg, const verify::key_sets& keys,
                                                           std::uint32_t stage_slots, live_states& states,
                                                           std::uint64_t now_s);

class router {
 public:
  // Opens the backend (with its fallbacks), maps the pools and rings and starts the stage threads, each pinned as
  // the layout says. Returns once the router is receiving. The error says which step failed and why.
  static platform::result<std::unique_ptr<router>> start(const config& cfg);

  router(const router&) = delete;
  router& operator=(const router&) = delete;
  ~router();

  // Stops receiving, lets what is in flight finish, and stops the threads. Safe to call more than once.
  void stop() noexcept;

  // Control plane: each change builds a new snapshot of routes, peers, limits, breakers and keys, publishes it
  // with one atomic swap and returns once it is published (every burst that starts afterwards uses it). Thread-
  // safe: changes are applied one at a time. A refused change leaves the running snapshot as it was; the error
  // says why in the words of --check-config.
  //
  // reload: the whole configuration. Fields that only take effect at start-up (listen, backend, layout, cores,
  // pools, control socket) must be unchanged; the error names those that differ. Guardian sets learned from
  // upgrade VAAs are kept when the new configuration's current set is older.
  platform::result<void> reload(const config& next);
  // A route with a new name (the same checks as in a file); fails when the name is taken.
  platform::result<void> add_route(const route_config& route);
  platform::result<void> delete_route(std::string_view name);
  // Opens the route's breaker by hand (its messages drop as breaker_open) until resume_route().
  platform::result<void> pause_route(std::string_view name);
  // Closes the route's breaker, whether paused by hand or tripped by itself.
  platform::result<void> resume_route(std::string_view name);
  // Re-reads every key file the running configuration names (guardian sets, link keys) and publishes them.
  platform::result<void> rotate_keys();

  // The running configuration (with API changes applied), and reports for ferryctl.
  config running_config() const;
  std::vector<route_report> routes() const;
  std::vector<peer_report> peers() const;
  key_report keys() const;

  // The whole path's counters, and each stage's.
  dp::counter_values counters() const noexcept { return _graph->totals(); }
  router_stats stats() const;
  const dp::stage_graph& stages() const noexcept { return *_graph; }
  dp::backend_kind backend() const noexcept { return _backend->kind(); }
  // What the backend's fallbacks said at start-up (empty when the backend asked for opened).
  const std::vector<std::string>& backend_notes() const noexcept { return _notes; }
  dp::endpoint listening() const noexcept { return _backend->local(); }
  std::size_t route_count() const;
  std::size_t hop_count() const;
  bool huge_pages() const noexcept { return _graph->huge_pages(); }
  double uptime_seconds() const noexcept;

 private:
  class upgrade_queue;
  struct learned_upgrade {
    std::uint32_t index;
    std::vector<verify::eth_address> keys;
    std::uint64_t at;  // unix seconds it was applied: the old set expires guardian_set_expiry after
    std::vector<std::byte> vaa;  // the upgrade VAA, kept in the state directory (_upgrade_file)
  };

  explicit router(const config& cfg);
  // Builds the snapshot of `next`, publishes it and makes `next` the running configuration. Called with _control
  // held (or before the router runs).
  platform::result<void> apply(config next);
  verify::key_sets keys_with_upgrades(const config& cfg) const;
  void housekeeping() noexcept;
  void apply_upgrade(const dp::guardian_set_upgrade_event& event);
  // At start, before the first snapshot: verifies each stored upgrade again, in order, against the keys `cfg` gives
  // with those before it applied, and learns the ones that pass (counted nowhere: they were counted when seen in
  // traffic). Says on stderr, one line each, which it skipped and why.
  void relearn(const config& cfg, const upgrade_file_contents& stored);
  // Replaces _upgrade_file with _learned (when there is a state directory); says on stderr when it cannot.
  void save_upgrades() const;

  mutable std::mutex _control;  // one change at a time; guards everything below that the control plane changes
  config _config;
  std::vector<std::string> _notes;
  std::uint32_t _stage_slots = 1;
  live_states _states;
  std::vector<learned_upgrade> _learned;
  std::string _upgrade_file;  // in the state directory, or empty without one
  std::uint64_t _upgrades_applied = 0;
  std::unique_ptr<dp::replay_windows> _replay;  // shared by every snapshot; outlives the stages
  std::unique_ptr<dp::policy_store> _policies;
  std::unique_ptr<upgrade_queue> _events;
  std::unique_ptr<dp::io_backend> _backend;
  std::unique_ptr<dp::stage_graph> _graph;
  std::chrono::steady_clock::time_point _started;
  std::atomic<bool> _stopping{false};
  std::thread _housekeeper;
};

}  // namespace ferry::ctl

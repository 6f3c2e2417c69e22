#include "ferry/control/router.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include <unistd.h>

#include "ferry/control/key_file.hpp"
#include "ferry/control/state_dir.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/platform/privileges.hpp"
#include "ferry/platform/thread.hpp"
#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::ctl {

namespace {

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

std::uint64_t monotonic_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

dp::breaker_settings breaker_of(const route_config& route) {
  dp::breaker_settings s;
  if (route.breaker) {
    const breaker_config& b = *route.breaker;
    s.failure_ratio = b.failure_ratio.value_or(0);
    s.min_verified = b.min_verified;
    s.max_messages = b.max_messages.value_or(0);
    s.window_ns = std::uint64_t{b.window_ms} * 1'000'000;
    s.cooldown_ns = std::uint64_t{b.cooldown_ms} * 1'000'000;
  }
  return s;
}

bool same_breaker(const dp::breaker_settings& a, const dp::breaker_settings& b) {
  return a.failure_ratio == b.failure_ratio && a.min_verified == b.min_verified && a.max_messages == b.max_messages &&
         a.window_ns == b.window_ns && a.cooldown_ns == b.cooldown_ns;
}

bool same_limit(const std::optional<dp::bucket_settings>& bucket, const std::optional<rate_limit>& limit) {
  if (bucket.has_value() != limit.has_value()) return false;
  return !bucket || (bucket->rate == limit->rate && bucket->burst == limit->burst);
}

std::optional<dp::bucket_settings> bucket_of(const std::optional<rate_limit>& limit) {
  if (!limit) return std::nullopt;
  return dp::bucket_settings{limit->rate, limit->burst};
}

bool same_hop(const dp::next_hop& a, const dp::next_hop& b) {
  if (a.how != b.how) return false;
  if (a.how == dp::next_hop::type::udp) return a.udp == b.udp;
  return a.sink_length == b.sink_length && std::string_view(a.sink.sun_path) == std::string_view(b.sink.sun_path);
}

// "192.0.2.7:7700", or the host alone ("192.0.2.7", "::1") for a binding of any port.
std::string host_or_address(const dp::endpoint& a) {
  if (a.port() != 0) return a.to_string();
  std::string text = a.to_string();
  text.erase(text.rfind(':'));
  if (text.starts_with('[')) text = text.substr(1, text.size() - 2);
  return text;
}

// Fields that take effect only at start-up, and their names as in the file.
std::vector<std::string> restart_fields(const config& a, const config& b) {
  std::vector<std::string> out;
  const auto differ = [&](bool changed, const char* name) {
    if (changed) out.emplace_back(name);
  };
  differ(!(a.listen == b.listen), "dataplane.listen");
  differ(a.backend != b.backend, "dataplane.backend");
  differ(a.dpdk.eal_args != b.dpdk.eal_args || a.dpdk.port != b.dpdk.port || a.dpdk.mbufs != b.dpdk.mbufs ||
             a.dpdk.next_hop_mac != b.dpdk.next_hop_mac,
         "dataplane.dpdk");
  differ(a.cpu.how != b.cpu.how || a.cpu.cpus != b.cpu.cpus, "dataplane.cpu");
  differ(a.layout.how != b.layout.how || a.layout.io != b.layout.io || a.layout.verify != b.layout.verify ||
             a.layout.route != b.layout.route,
         "dataplane.layout (and the stage counts)");
  differ(a.ring_size != b.ring_size, "dataplane.ring_size");
  differ(a.poll != b.poll, "dataplane.poll");
  differ(a.burst != b.burst, "dataplane.burst");
  differ(a.buffers != b.buffers, "dataplane.buffers");
  differ(a.buffer_size != b.buffer_size, "dataplane.buffer_size");
  differ(a.max_frame != b.max_frame, "dataplane.max_frame");
  differ(a.socket_buffer != b.socket_buffer, "dataplane.socket_buffer");
  differ(a.verified_cache_entries != b.verified_cache_entries, "verify.cache_entries");
  differ(a.control.socket != b.control.socket || a.control.socket_owner != b.control.socket_owner ||
             a.control.socket_group != b.control.socket_group,
         "control.socket (and its owner and group)");
  differ(a.control.metrics != b.control.metrics, "control.metrics");
  differ(a.state.directory != b.state.directory || a.state.replay_channels != b.state.replay_channels ||
             a.state.sync_ms != b.state.sync_ms,
         "state");
  differ(a.process.user != b.process.user || a.process.group != b.process.group, "process");
  return out;
}

// The state directory and the user who must own what is in it, when the configuration names one (checked, and
// made when missing, for the user ferryd becomes).
struct state_place {
  std::string directory;  // absolute, or empty: state lives in memory
  unsigned owner_uid = 0;
};

platform::result<state_place> open_state(const config& cfg) {
  const state_config& state = cfg.state;
  if (state.directory.empty()) return state_place{};
  unsigned uid = ::geteuid(), gid = ::getegid();
  if (cfg.process.user) {
    auto who = platform::find_identity(*cfg.process.user, cfg.process.group.value_or(""));
    if (!who) return std::move(who).context("process.user");
    uid = who->uid;
    gid = who->gid;
  }
  auto dir = open_state_dir(state.directory, uid, gid);
  if (!dir) return std::move(dir).err();
  return state_place{std::move(*dir), uid};
}

// The replay windows: in the state directory when there is one, else in memory.
platform::result<std::unique_ptr<dp::replay_windows>> open_replay_windows(const config& cfg, const state_place& at) {
  if (at.directory.empty()) return dp::replay_windows::in_memory(cfg.state.replay_channels);
  return dp::replay_windows::open(at.directory + "/replay-windows", cfg.state.replay_channels);
}

}  // namespace

// Verified guardian set upgrades, from the stages that verify to the housekeeping thread: a ring per stage slot
// (each written by its stage only, read by housekeeping only), lock-free and allocation-free on the stage's side.
class router::upgrade_queue final : public dp::control_events {
 public:
  static constexpr std::uint32_t ring_size = 4;  // upgrades are a few a year; a full ring only delays one

  static platform::result<std::unique_ptr<upgrade_queue>> create(std::uint32_t stages) {
    auto q = std::unique_ptr<upgrade_queue>(new upgrade_queue());
    for (std::uint32_t s = 0; s < stages; ++s) {
      auto ring = dp::placed<dp::spsc_ring<dp::guardian_set_upgrade_event>>::create(
          "guardian set upgrade ring", platform::page_size::normal, ring_size);
      if (!ring) return std::move(ring).err();
      q->_rings.push_back(std::move(*ring));
    }
    return q;
  }
  bool guardian_set_upgraded(std::uint32_t stage, const dp::guardian_set_upgrade_event& event) noexcept override {
    if (_rings[stage]->push(event)) return true;
    _lost.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  bool next(dp::guardian_set_upgrade_event& out) {
    for (auto& ring : _rings) {
      if (ring->pop(out)) return true;
    }
    return false;
  }
  std::uint64_t lost() const noexcept { return _lost.load(std::memory_order_relaxed); }

 private:
  upgrade_queue() = default;
  std::vector<dp::placed<dp::spsc_ring<dp::guardian_set_upgrade_event>>> _rings;
  std::atomic<std::uint64_t> _lost{0};
};

router::router(const config& cfg)
    : _config(cfg), _started(std::chrono::steady_clock::now()) {}

verify::key_sets router::keys_with_upgrades(const config& cfg) const {
  verify::key_sets keys = cfg.keys;
  for (const learned_upgrade& up : _learned) {
    const auto current = keys.wormhole.current_index();
    if (!current || *current + 1 != up.index) continue;  // the configuration has it already, or cannot take it
    (void)keys.wormhole.upgrade(up.index, up.keys, up.at, cfg.guardian_set_expiry);
  }
  return keys;
}

// A peer's keys in a snapshot: those configured, and those the previous snapshot accepted that are no longer
// configured (removed, or given a new secret), accepted for key_grace more seconds from when they left.
dp::link_keys link_keys_of(const peer_config& peer, const dp::link_keys* before, std::uint64_t now_s) {
  dp::link_keys out;
  for (const link_key& k : peer.link_keys) {
    out.keys.emplace_back(static_cast<std::uint16_t>(k.id), k.secret, k.send_from, k.mac);
  }
  if (before == nullptr) return out;
  const std::size_t configured = out.keys.size();
  for (const dp::link_key& old : before->keys) {
    const bool kept = std::any_of(out.keys.begin(), out.keys.begin() + static_cast<std::ptrdiff_t>(configured),
                                  [&](const dp::link_key& k) { return k.id == old.id && k.same_key(old); });
    if (kept) continue;
    dp::link_key retiring = old;
    if (retiring.accept_until == 0) retiring.accept_until = now_s + peer.key_grace;
    if (retiring.accepted(now_s)) out.keys.push_back(retiring);
  }
  return out;
}

platform::result<std::unique_ptr<dp::policy>> build_policy(const config& cfg, const verify::key_sets& keys,
                                                           std::uint32_t stage_slots, live_states& states,
                                                           std::uint64_t now_s) {
  auto p = std::make_unique<dp::policy>();
  const auto hop_index = [&](const hop_config& h) -> platform::result<std::uint32_t> {
    dp::next_hop hop;
    if (h.how == hop_config::type::udp) {
      hop = dp::next_hop::to_udp(h.udp);
    } else {
      auto sink = dp::next_hop::to_sink(h.sink_path);
      if (!sink) return std::move(sink).err();
      hop = *sink;
    }
    for (std::uint32_t i = 0; i < p->hops.size(); ++i) {
      if (same_hop(p->hops[i], hop)) return i;
    }
    if (p->hops.size() == dp::tx_batch::max_hops) {
      return platform::error("more than " + std::to_string(dp::tx_batch::max_hops) + " distinct next hops");
    }
    p->hops.push_back(hop);
    return static_cast<std::uint32_t>(p->hops.size() - 1);
  };

  std::vector<dp::route_rule> rules;
  std::map<std::string, std::shared_ptr<dp::route_state>> route_states;
  for (const route_config& r : cfg.routes) {
    const std::string where = "route '" + r.name + "'";
    rules.push_back({r.kind, r.source, r.destination, r.emitter});
    dp::route_entry entry;
    entry.verb = r.action == route_action::drop ? dp::route_verb::drop
                 : r.policy == group_policy::balance ? dp::route_verb::balance
                                                     : dp::route_verb::replicate;
    entry.first_hop = static_cast<std::uint32_t>(p->group_hops.size());
    if (r.action == route_action::forward) {
      if (r.hops.empty()) return platform::error("forwards to no next hop").context(where);
      for (const hop_config& h : r.hops) {
        auto index = hop_index(h);
        if (!index) return std::move(index).context(where + ": next hop '" + h.text + "'");
        p->group_hops.push_back(*index);
      }
    }
    entry.hop_count = static_cast<std::uint32_t>(p->group_hops.size()) - entry.first_hop;
    const dp::breaker_settings settings = breaker_of(r);
    std::shared_ptr<dp::route_state> state;
    if (const auto old = states.routes.find(r.name); old != states.routes.end()) {
      if (same_limit(old->second->limit_settings(), r.limit) && same_breaker(old->second->circuit().settings(), settings)) {
        state = old->second;
      } else {
        state = std::make_shared<dp::route_state>(stage_slots, bucket_of(r.limit), settings);
        // A route paused by hand stays paused whatever else changes.
        if (old->second->circuit().state(monotonic_now()) == dp::breaker_state::paused) state->circuit().pause();
      }
    } else {
      state = std::make_shared<dp::route_state>(stage_slots, bucket_of(r.limit), settings);
    }
    entry.state = state.get();
    p->actions.push_back(entry);
    p->route_states.push_back(state);
    route_states[r.name] = std::move(state);
  }
  auto table = dp::route_table::build(std::move(rules));
  if (!table) {
    return std::move(table).context("routes");
  }
  p->routes = std::move(*table);

  std::vector<dp::peer_table::binding> bindings;
  std::uint32_t anyone = dp::peer_table::none;
  std::map<std::string, std::shared_ptr<dp::peer_state>> peer_states;
  std::map<std::string, dp::link_keys> link_keys;
  for (const peer_config& peer : cfg.peers) {
    const auto index = static_cast<std::uint32_t>(p->peer_entries.size());
    for (const dp::endpoint& address : peer.addresses) bindings.push_back({address, index});
    if (peer.anyone) anyone = index;
    std::shared_ptr<dp::peer_state> state;
    if (const auto old = states.peers.find(peer.name);
        old != states.peers.end() && same_limit(old->second->limit_settings(), peer.limit)) {
      state = old->second;
    } else {
      state = std::make_shared<dp::peer_state>(stage_slots, bucket_of(peer.limit));
    }
    const auto before = states.link_keys.find(peer.name);
    dp::link_keys keys_now = link_keys_of(peer, before != states.link_keys.end() ? &before->second : nullptr, now_s);
    p->peer_entries.push_back({peer.trust == trust_policy::verified_upstream, state.get(), keys_now});
    p->peer_states.push_back(state);
    peer_states[peer.name] = std::move(state);
    if (!keys_now.empty()) link_keys[peer.name] = std::move(keys_now);
  }
  auto peers = dp::peer_table::build(std::move(bindings), anyone);
  if (!peers) return std::move(peers).context("peers");
  p->peers = std::move(*peers);
  // Frames to a peer with link keys carry a tag: the hop points at the peer's keys in this snapshot.
  for (dp::next_hop& hop : p->hops) {
    if (hop.how != dp::next_hop::type::udp) continue;
    const std::uint32_t peer = p->peers.bound(hop.udp);
    if (peer != dp::peer_table::none && !p->peer_entries[peer].keys.empty()) hop.keys = &p->peer_entries[peer].keys;
  }
  p->keys = std::make_shared<const verify::key_sets>(keys);
  p->guardian_set_upgrades = cfg.guardian_set_upgrades;

  // Only now that nothing can fail: the states of this snapshot become the ones carried forward.
  states.routes = std::move(route_states);
  states.peers = std::move(peer_states);
  states.link_keys = std::move(link_keys);
  return p;
}

platform::result<void> router::apply(config next) {
  if (auto checked = check_routes(next.routes); !checked) return checked;
  auto built = build_policy(next, keys_with_upgrades(next), _stage_slots, _states, unix_now());
  if (!built) return std::move(built).err();
  (*built)->replay = _replay.get();
  (*built)->generation = _policies->published() + 1;
  _policies->publish(std::move(*built));
  _config = std::move(next);
  return {};
}

platform::result<std::unique_ptr<router>> router::start(const config& cfg) {
  auto layout = resolve_layout(cfg, platform::allowed_cpus());
  if (!layout) return std::move(layout).err();
  std::unique_ptr<router> r(new router(cfg));
  r->_stage_slots = layout->stage_count();
  auto state = open_state(cfg);
  if (!state) return std::move(state).context("state");
  auto windows = open_replay_windows(cfg, *state);
  if (!windows) return std::move(windows).context("state");
  r->_replay = std::move(*windows);
  if (!state->directory.empty()) {
    r->_upgrade_file = state->directory + "/" + std::string(upgrade_file_name);
    // With upgrades off the file is left alone: the configuration alone says which sets are trusted.
    if (cfg.guardian_set_upgrades) {
      auto stored = read_upgrade_file(r->_upgrade_file, state->owner_uid);
      if (!stored) return std::move(stored).context("state");
      r->relearn(cfg, *stored);
    }
  }
  auto first = build_policy(cfg, r->keys_with_upgrades(cfg), r->_stage_slots, r->_states, unix_now());
  if (!first) return std::move(first).err();
  (*first)->replay = r->_replay.get();
  (*first)->generation = 1;
  r->_policies = std::make_unique<dp::policy_store>(std::move(*first), layout->stage_count());
  auto events = upgrade_queue::create(layout->stage_count());
  if (!events) return std::move(events).context("control plane");
  r->_events = std::move(*events);

  dp::backend_options backend;
  backend.choice = cfg.backend;
  backend.listen = cfg.listen;
  backend.socket_buffer = cfg.socket_buffer;
  const bool staged = layout->mode == dp::layout_mode::staged;
  backend.rx_ports = staged ? layout->io : 1;
  backend.tx_ports = staged ? layout->route : 1;
  backend.max_datagram = cfg.buffer_size;
  backend.dpdk = cfg.dpdk;
  auto opened = dp::open_backend(backend, r->_notes);
  if (!opened) return std::move(opened).context("data plane");
  r->_backend = std::move(*opened);

  dp::graph_options options;
  options.layout = std::move(*layout);
  options.pipeline = {cfg.burst, cfg.max_frame, cfg.verified_cache_entries};
  options.mode = cfg.poll;
  options.ring_size = cfg.ring_size;
  options.buffers = cfg.buffers;
  options.buffer_size = cfg.buffer_size;
  auto graph = dp::stage_graph::start(options, *r->_backend, *r->_policies, r->_events.get());
  if (!graph) return std::move(graph).context("data plane");
  r->_graph = std::move(*graph);
  r->_housekeeper = std::thread([raw = r.get()] { raw->housekeeping(); });
  return r;
}

void router::housekeeping() noexcept {
  (void)platform::name_current_thread("ferry-control");
  std::uint64_t lost = 0;
  const auto sync_every = std::chrono::milliseconds(_config.state.sync_ms);
  auto synced = std::chrono::steady_clock::now();
  while (!_stopping.load(std::memory_order_relaxed)) {
    if (const auto now = std::chrono::steady_clock::now(); now - synced >= sync_every) {
      _replay->sync();
      synced = now;
    }
    dp::guardian_set_upgrade_event event;
    while (_events->next(event)) apply_upgrade(event);
    if (const std::uint64_t now_lost = _events->lost(); now_lost != lost) {
      std::fprintf(stderr, "ferryd: %llu guardian set upgrade reports lost (their queue was full)\n",
                   static_cast<unsigned long long>(now_lost - lost));
      lost = now_lost;
    }
    _policies->reclaim();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void router::apply_upgrade(const dp::guardian_set_upgrade_event& event) {
  std::lock_guard<std::mutex> hold(_control);
  if (!_config.guardian_set_upgrades) return;  // turned off since the stage saw it
  const verify::key_sets now_keys = keys_with_upgrades(_config);
  const auto current = now_keys.wormhole.current_index();
  if (!current || *current + 1 != event.new_index) return;  // a copy of one applied already
  learned_upgrade up{event.new_index, {event.keys.begin(), event.keys.begin() + event.key_count}, unix_now(),
                     {event.vaa.begin(), event.vaa.begin() + event.vaa_size}};
  _learned.push_back(std::move(up));
  if (auto applied = apply(_config); !applied) {
    _learned.pop_back();
    std::fprintf(stderr, "ferryd: guardian set upgrade to %u refused: %s\n", event.new_index,
                 applied.err().message().c_str());
    return;
  }
  _upgrades_applied += 1;
  std::fprintf(stderr, "ferryd: guardian set %u is current (upgrade VAA); set %u expires in %llu s\n",
               event.new_index, *current, static_cast<unsigned long long>(_config.guardian_set_expiry));
  save_upgrades();
}

void router::save_upgrades() const {
  if (_upgrade_file.empty()) return;
  std::vector<stored_upgrade> out;
  out.reserve(_learned.size());
  for (const learned_upgrade& up : _learned) out.push_back({up.at, up.vaa});
  if (auto saved = write_upgrade_file(_upgrade_file, out); !saved) {
    std::fprintf(stderr, "ferryd: the guardian set upgrade is in effect but a restart will forget it: %s\n",
                 saved.err().message().c_str());
  }
}

void router::relearn(const config& cfg, const upgrade_file_contents& stored) {
  for (const std::string& problem : stored.problems) {
    std::fprintf(stderr, "ferryd: %s: %s: skipped\n", _upgrade_file.c_str(), problem.c_str());
  }
  const std::uint64_t now = unix_now();
  auto event = std::make_unique<dp::guardian_set_upgrade_event>();  // too large for the stack of a small thread
  for (std::size_t i = 0; i < stored.upgrades.size(); ++i) {
    const stored_upgrade& entry = stored.upgrades[i];
    const verify::key_sets keys = keys_with_upgrades(cfg);
    const auto current = keys.wormhole.current_index();
    const auto skip = [&](const std::string& why) {
      std::fprintf(stderr, "ferryd: %s: upgrade %zu of %zu skipped: %s\n", _upgrade_file.c_str(), i + 1,
                   stored.upgrades.size(), why.c_str());
    };
    verify::wormhole::vaa_view vaa;
    std::optional<verify::wormhole::guardian_set_upgrade> upgrade;
    if (verify::wormhole::parse_vaa(entry.vaa, vaa) == verify::parse_status::ok) {
      upgrade = verify::wormhole::parse_guardian_set_upgrade(vaa);
    }
    if (!upgrade) {
      skip("not a guardian set upgrade VAA (the file is damaged or not ferry's)");
      continue;
    }
    const std::string to = "the upgrade to set " + std::to_string(upgrade->new_index);
    if (!current) {
      skip(to + " has no current set to follow in the configuration");
      continue;
    }
    if (upgrade->new_index <= *current) {
      skip(to + " is older than the configured current set " + std::to_string(*current) +
           ", which the configuration has already");
      continue;
    }
    if (upgrade->new_index != *current + 1 || vaa.guardian_set_index() != *current) {
      skip(to + " (signed as set " + std::to_string(vaa.guardian_set_index()) +
           ") does not continue from the current set " + std::to_string(*current));
      continue;
    }
    // What admitted it in traffic: the verifier's verdict, then the stage's test of an upgrade to the next set.
    const verify::verdict v = verify::wormhole::verify_vaa(vaa, keys.wormhole, now);
    if (v != verify::verdict::valid || !dp::read_guardian_set_upgrade(keys, entry.vaa, *event)) {
      const std::string why = v != verify::verdict::valid ? std::string(verify::to_string(v))
                                                          : "not an upgrade for every chain";
      skip(to + " does not verify under set " + std::to_string(*current) + " (" + why +
           "): the file is damaged or not ferry's");
      continue;
    }
    _learned.push_back({event->new_index, {event->keys.begin(), event->keys.begin() + event->key_count},
                        std::min(entry.learned_at, now), entry.vaa});
    std::fprintf(stderr, "ferryd: guardian set %u is current (upgrade VAA kept in %s)\n", event->new_index,
                 _upgrade_file.c_str());
  }
}

platform::result<void> router::reload(const config& next) {
  std::lock_guard<std::mutex> hold(_control);
  const std::vector<std::string> fixed = restart_fields(_config, next);
  if (!fixed.empty()) {
    std::string names;
    for (const std::string& f : fixed) names += (names.empty() ? "" : ", ") + f;
    return platform::error("these fields take effect only when ferryd starts: " + names +
                           "; restart ferryd to change them (nothing was changed)");
  }
  return apply(next);
}

platform::result<void> router::add_route(const route_config& route) {
  std::lock_guard<std::mutex> hold(_control);
  for (const route_config& r : _config.routes) {
    if (r.name == route.name) return platform::error("route '" + route.name + "' exists already");
  }
  config next = _config;
  next.routes.push_back(route);
  return apply(std::move(next));
}

platform::result<void> router::delete_route(std::string_view name) {
  std::lock_guard<std::mutex> hold(_control);
  config next = _config;
  const auto it = std::find_if(next.routes.begin(), next.routes.end(),
                               [&](const route_config& r) { return r.name == name; });
  if (it == next.routes.end()) return platform::error("no route is named '" + std::string(name) + "'");
  next.routes.erase(it);
  return apply(std::move(next));
}

platform::result<void> router::pause_route(std::string_view name) {
  std::lock_guard<std::mutex> hold(_control);
  const auto it = _states.routes.find(std::string(name));
  if (it == _states.routes.end()) return platform::error("no route is named '" + std::string(name) + "'");
  it->second->circuit().pause();
  return {};
}

platform::result<void> router::resume_route(std::string_view name) {
  std::lock_guard<std::mutex> hold(_control);
  const auto it = _states.routes.find(std::string(name));
  if (it == _states.routes.end()) return platform::error("no route is named '" + std::string(name) + "'");
  it->second->circuit().resume(monotonic_now());
  return {};
}

platform::result<void> router::rotate_keys() {
  std::lock_guard<std::mutex> hold(_control);
  config next = _config;
  // Guardian sets from files: the registry is rebuilt with each file's keys read again.
  if (!next.guardian_set_files.empty()) {
    verify::wormhole::guardian_registry sets;
    for (const verify::wormhole::guardian_set& set : next.keys.wormhole.sets()) {
      verify::wormhole::guardian_set fresh = set;
      for (const guardian_set_config& file : next.guardian_set_files) {
        if (file.index != set.index) continue;
        auto keys = read_guardian_keys(file.keys_file);
        if (!keys) return std::move(keys).context("guardian set " + std::to_string(set.index));
        fresh.keys = std::move(*keys);
      }
      if (auto added = sets.add(std::move(fresh)); !added) return added;
    }
    if (const auto current = next.keys.wormhole.current_index()) {
      if (auto made = sets.set_current(*current); !made) return made;
    }
    next.keys.wormhole = std::move(sets);
  }
  for (peer_config& peer : next.peers) {
    for (link_key& key : peer.link_keys) {
      auto secret = read_link_key(key.file, key.mac);
      if (!secret) return std::move(secret).context("peer '" + peer.name + "' link key " + std::to_string(key.id));
      key.secret = std::move(*secret);
    }
  }
  return apply(std::move(next));
}

config router::running_config() const {
  std::lock_guard<std::mutex> hold(_control);
  return _config;
}

std::vector<route_report> router::routes() const {
  std::lock_guard<std::mutex> hold(_control);
  std::vector<route_report> out;
  const std::uint64_t now = monotonic_now();
  for (const route_config& r : _config.routes) {
    route_report report{r, {}};
    report.stats.name = r.name;
    if (const auto it = _states.routes.find(r.name); it != _states.routes.end()) {
      const dp::route_state::totals t = it->second->read();
      report.stats.matched = t.matched;
      report.stats.forwarded = t.forwarded;
      report.stats.rate_limited = t.rate_limited;
      report.stats.breaker_open = t.breaker_open;
      report.stats.dropped_by_action = t.dropped_by_action;
      report.stats.verified = t.verified;
      report.stats.verify_failed = t.verify_failed;
      report.stats.breaker = dp::to_string(it->second->circuit().state(now));
      report.stats.trips = it->second->circuit().trips();
    }
    out.push_back(std::move(report));
  }
  return out;
}

std::vector<peer_report> router::peers() const {
  std::lock_guard<std::mutex> hold(_control);
  std::vector<peer_report> out;
  for (const peer_config& p : _config.peers) {
    peer_report report;
    report.name = p.name;
    for (const dp::endpoint& a : p.addresses) report.addresses.push_back(host_or_address(a));
    if (p.anyone) report.addresses.emplace_back("*");
    report.trust = p.trust == trust_policy::verified_upstream ? "verified-upstream" : "verify";
    report.limit = p.limit;
    for (const link_key& k : p.link_keys) report.link_key_ids.push_back(k.id);
    report.stats.name = p.name;
    if (const auto it = _states.peers.find(p.name); it != _states.peers.end()) {
      const dp::peer_state::totals t = it->second->read();
      report.stats.rx = t.rx;
      report.stats.rate_limited = t.rate_limited;
      report.stats.bad_mac = t.bad_mac;
    }
    out.push_back(std::move(report));
  }
  return out;
}

key_report router::keys() const {
  std::lock_guard<std::mutex> hold(_control);
  key_report out;
  const verify::key_sets keys = keys_with_upgrades(_config);
  const auto current = keys.wormhole.current_index();
  for (const auto& set : keys.wormhole.sets()) {
    out.wormhole.push_back({set.index, set.keys.size(), set.expiration_time, current && *current == set.index});
  }
  for (const auto& set : keys.hyperlane.sets()) out.hyperlane.emplace_back(set.origin, set.validators.size());
  for (const auto& path : keys.layerzero.paths()) {
    out.layerzero.emplace_back(path.src_eid, path.required.size() + path.optional.size());
  }
  for (const auto& set : keys.quorum.sets()) out.quorum.emplace_back(set.id, set.keys.size());
  for (const peer_config& p : _config.peers) {
    for (const link_key& k : p.link_keys) out.links.push_back({p.name, k.id, k.file});
  }
  out.guardian_set_upgrades = _config.guardian_set_upgrades;
  return out;
}

router_stats router::stats() const {
  router_stats out;
  out.total = _graph->totals();
  for (std::size_t s = 0; s < _graph->stage_count(); ++s) {
    out.stages.push_back({_graph->info(s).name, _graph->info(s).cpu, _graph->counters(s), _graph->ring_waiting(s)});
  }
  for (route_report& r : routes()) out.routes.push_back(std::move(r.stats));
  for (peer_report& p : peers()) out.peers.push_back(std::move(p.stats));
  std::lock_guard<std::mutex> hold(_control);
  const verify::key_sets keys = keys_with_upgrades(_config);
  out.keys.wormhole_current = keys.wormhole.current_index();
  out.keys.wormhole_sets = keys.wormhole.sets().size();
  out.keys.hyperlane_origins = keys.hyperlane.sets().size();
  out.keys.layerzero_paths = keys.layerzero.paths().size();
  out.keys.quorum_sets = keys.quorum.sets().size();
  out.keys.guardian_set_upgrades = _upgrades_applied;
  out.snapshots_published = _policies->published();
  const dp::replay_windows::stats replay = _replay->read();
  out.replay_channels = replay.channels_in_use;
  out.replay_capacity = replay.capacity;
  out.replay_evictions = replay.evictions;
  out.snapshots_retired = _policies->retired();
  return out;
}

std::size_t router::route_count() const {
  std::lock_guard<std::mutex> hold(_control);
  return _config.routes.size();
}

std::size_t router::hop_count() const {
  std::lock_guard<std::mutex> hold(_control);
  return _policies->current()->hops.size();  // cannot be retired while _control is held
}

router::~router() { stop(); }

void router::stop() noexcept {
  _stopping.store(true, std::memory_order_relaxed);
  if (_housekeeper.joinable()) _housekeeper.join();
  if (_graph) _graph->stop();
  if (_replay) _replay->sync();
}

double router::uptime_seconds() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - _started).count();
}

}  // namespace ferry::ctl

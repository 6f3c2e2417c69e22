#include "ferry/dataplane/policy.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "ferry/verify/wormhole.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::dp {

next_hop next_hop::to_udp(const endpoint& address) noexcept {
  next_hop hop;
  hop.how = type::udp;
  hop.udp = address;
  return hop;
}

platform::result<next_hop> next_hop::to_sink(const std::string& path) {
  next_hop hop;
  hop.how = type::unix_sink;
  if (path.empty() || path.front() != '/' || path.size() >= sizeof hop.sink.sun_path) {
    return platform::error("local sink '" + path + "' must be an absolute path of at most " +
                           std::to_string(sizeof hop.sink.sun_path - 1) + " bytes");
  }
  hop.sink.sun_family = AF_UNIX;
  std::memcpy(hop.sink.sun_path, path.c_str(), path.size() + 1);
  hop.sink_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return hop;
}

const sockaddr* next_hop::address() const noexcept {
  return how == type::udp ? udp.address() : reinterpret_cast<const sockaddr*>(&sink);
}

socklen_t next_hop::address_length() const noexcept { return how == type::udp ? udp.length() : sink_length; }

route_state::route_state(std::uint32_t stages, const std::optional<bucket_settings>& limit,
                         const breaker_settings& breaker)
    : _stages(stages), _tallies(std::make_unique<route_tally[]>(stages)), _limit_settings(limit), _breaker(breaker) {
  if (limit) _limit.emplace(limit->rate, limit->burst);
}

route_state::totals route_state::read() const noexcept {
  totals t;
  for (std::uint32_t s = 0; s < _stages; ++s) {
    const route_tally& r = _tallies[s];
    t.matched += r.matched.load();
    t.forwarded += r.forwarded.load();
    t.rate_limited += r.rate_limited.load();
    t.breaker_open += r.breaker_open.load();
    t.dropped_by_action += r.dropped_by_action.load();
    t.verified += r.verified.load();
    t.verify_failed += r.verify_failed.load();
  }
  return t;
}

peer_state::peer_state(std::uint32_t stages, const std::optional<bucket_settings>& limit)
    : _stages(stages), _tallies(std::make_unique<peer_tally[]>(stages)), _limit_settings(limit) {
  if (limit) _limit.emplace(limit->rate, limit->burst);
}

peer_state::totals peer_state::read() const noexcept {
  totals t;
  for (std::uint32_t s = 0; s < _stages; ++s) {
    t.rx += _tallies[s].rx.load();
    t.rate_limited += _tallies[s].rate_limited.load();
    t.bad_mac += _tallies[s].bad_mac.load();
  }
  return t;
}

platform::result<peer_table> peer_table::build(std::vector<binding> bindings, std::uint32_t anyone) {
  peer_table table;
  table._anyone = anyone;
  for (const binding& b : bindings) {
    for (const binding& seen : table._bindings) {
      if (seen.address == b.address) {
        return platform::error("address " + b.address.to_string() + " is bound to peers " +
                               std::to_string(seen.peer) + " and " + std::to_string(b.peer));
      }
    }
    table._bindings.push_back(b);
  }
  std::stable_partition(table._bindings.begin(), table._bindings.end(),
                        [](const binding& b) { return b.address.port() != 0; });
  return table;
}

std::uint32_t peer_table::bound(const endpoint& address) const noexcept {
  for (const binding& b : _bindings) {
    if (b.address.port() != 0 ? b.address == address : b.address.same_host(address)) return b.peer;
  }
  return none;
}

std::uint32_t peer_table::find(const endpoint& source) const noexcept {
  const std::uint32_t peer = bound(source);
  return peer != none ? peer : _anyone;
}

bool read_guardian_set_upgrade(const verify::key_sets& keys, std::span<const std::byte> body,
                               guardian_set_upgrade_event& out) noexcept {
  verify::wormhole::vaa_view vaa;
  if (verify::wormhole::parse_vaa(body, vaa) != verify::parse_status::ok) return false;
  // Governance.sol: only a VAA signed by the current set may name the next one.
  const auto current = keys.wormhole.current_index();
  if (!current || vaa.guardian_set_index() != *current) return false;
  if (vaa.emitter_chain() != 1) return false;  // the cheap test first: nearly every VAA stops here
  // Allocates (the key list), but only for a verified governance VAA: a few a year.
  const auto upgrade = verify::wormhole::parse_guardian_set_upgrade(vaa);
  if (!upgrade || upgrade->chain != 0 || upgrade->new_index != *current + 1 || upgrade->keys.empty() ||
      upgrade->keys.size() > out.keys.size() || body.size() > out.vaa.size()) {
    return false;
  }
  std::memcpy(out.vaa.data(), body.data(), body.size());
  out.vaa_size = static_cast<std::uint32_t>(body.size());
  out.new_index = upgrade->new_index;
  out.key_count = static_cast<std::uint32_t>(upgrade->keys.size());
  for (std::size_t k = 0; k < upgrade->keys.size(); ++k) out.keys[k] = upgrade->keys[k];
  return true;
}

}  // namespace ferry::dp

#include "ferry/dataplane/counters.hpp"

#include <algorithm>

namespace ferry::dp {

const char* to_string(drop_reason reason) noexcept {
  switch (reason) {
    case drop_reason::malformed: return "malformed";
    case drop_reason::unsupported_version: return "unsupported_version";
    case drop_reason::unknown_kind: return "unknown_kind";
    case drop_reason::oversize: return "oversize";
    case drop_reason::bad_signature: return "bad_signature";
    case drop_reason::no_quorum: return "no_quorum";
    case drop_reason::unknown_key_set: return "unknown_key_set";
    case drop_reason::expired_key_set: return "expired_key_set";
    case drop_reason::duplicate: return "duplicate";
    case drop_reason::queue_full: return "queue_full";
    case drop_reason::no_route: return "no_route";
    case drop_reason::tx_error: return "tx_error";
    case drop_reason::rate_limited_peer: return "rate_limited_peer";
    case drop_reason::rate_limited_route: return "rate_limited_route";
    case drop_reason::breaker_open: return "breaker_open";
    case drop_reason::route_drop: return "route_drop";
    case drop_reason::bad_mac: return "bad_mac";
    case drop_reason::replay: return "replay";
  }
  return "unknown";
}

std::uint64_t counter_values::dropped() const noexcept {
  std::uint64_t total = 0;
  for (const std::uint64_t n : drops) total += n;
  return total;
}

counter_values& counter_values::operator+=(const counter_values& other) noexcept {
  rx += other.rx;
  forwarded += other.forwarded;
  for (std::size_t i = 0; i < drop_reason_count; ++i) drops[i] += other.drops[i];
  rx_datagrams += other.rx_datagrams;
  rx_bytes += other.rx_bytes;
  tx_datagrams += other.tx_datagrams;
  tx_bytes += other.tx_bytes;
  busy_polls += other.busy_polls;
  idle_polls += other.idle_polls;
  rx_lost += other.rx_lost;
  rx_ignored += other.rx_ignored;
  ring_high_water = std::max(ring_high_water, other.ring_high_water);
  copies += other.copies;
  copy_errors += other.copy_errors;
  for (std::size_t k = 0; k < verdicts.size(); ++k) {
    for (std::size_t v = 0; v < verdicts[k].size(); ++v) verdicts[k][v] += other.verdicts[k][v];
  }
  for (std::size_t b = 0; b < latency.size(); ++b) latency[b] += other.latency[b];
  latency_sum_ns += other.latency_sum_ns;
  return *this;
}

void stage_counters::publish(const counter_values& burst) noexcept {
  _forwarded.add(burst.forwarded);
  for (std::size_t i = 0; i < drop_reason_count; ++i) {
    if (burst.drops[i] != 0) _drops[i].add(burst.drops[i]);
  }
  _rx_datagrams.add(burst.rx_datagrams);
  _rx_bytes.add(burst.rx_bytes);
  _tx_datagrams.add(burst.tx_datagrams);
  _tx_bytes.add(burst.tx_bytes);
  _busy_polls.add(burst.busy_polls);
  _idle_polls.add(burst.idle_polls);
  if (burst.rx_lost != 0) _rx_lost.set(burst.rx_lost);
  if (burst.rx_ignored != 0) _rx_ignored.set(burst.rx_ignored);
  if (burst.ring_high_water > _ring_high_water.load()) _ring_high_water.set(burst.ring_high_water);
  if (burst.copies != 0) _copies.add(burst.copies);
  if (burst.copy_errors != 0) _copy_errors.add(burst.copy_errors);
  for (std::size_t k = 0; k < _verdicts.size(); ++k) {
    for (std::size_t v = 0; v < _verdicts[k].size(); ++v) {
      if (burst.verdicts[k][v] != 0) _verdicts[k][v].add(burst.verdicts[k][v]);
    }
  }
  if (burst.latency_sum_ns != 0) {
    _latency_sum_ns.add(burst.latency_sum_ns);
    for (std::size_t b = 0; b < _latency.size(); ++b) {
      if (burst.latency[b] != 0) _latency[b].add(burst.latency[b]);
    }
  }
  // R2: pairs with A2 in read(): whoever sees this rx sees the outcomes counted before it.
  _rx.store(_rx.load(std::memory_order_relaxed) + burst.rx, std::memory_order_release);
}

counter_values stage_counters::read() const noexcept {
  counter_values v;
  // A2: pairs with R2 in publish().
  v.rx = _rx.load(std::memory_order_acquire);
  v.forwarded = _forwarded.load();
  for (std::size_t i = 0; i < drop_reason_count; ++i) v.drops[i] = _drops[i].load();
  v.rx_datagrams = _rx_datagrams.load();
  v.rx_bytes = _rx_bytes.load();
  v.tx_datagrams = _tx_datagrams.load();
  v.tx_bytes = _tx_bytes.load();
  v.busy_polls = _busy_polls.load();
  v.idle_polls = _idle_polls.load();
  v.rx_lost = _rx_lost.load();
  v.rx_ignored = _rx_ignored.load();
  v.ring_high_water = _ring_high_water.load();
  v.copies = _copies.load();
  v.copy_errors = _copy_errors.load();
  for (std::size_t k = 0; k < _verdicts.size(); ++k) {
    for (std::size_t i = 0; i < _verdicts[k].size(); ++i) v.verdicts[k][i] = _verdicts[k][i].load();
  }
  for (std::size_t b = 0; b < _latency.size(); ++b) v.latency[b] = _latency[b].load();
  v.latency_sum_ns = _latency_sum_ns.load();
  return v;
}

}  // namespace ferry::dp

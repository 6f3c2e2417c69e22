#include "ferry/control/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace ferry::ctl {

namespace {

struct label {
  std::string_view name;
  std::string_view value;
};

// The length of the well-formed UTF-8 sequence `s` starts with (as Go, and so Prometheus, judges it: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 when it starts with none. `s` is assumed not empty.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char first = byte(0);
  if (first < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the second byte, narrower after a few leading bytes
  if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first == 0xe0) low = 0xa0;
    if (first == 0xed) high = 0x9f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first == 0xf0) low = 0x90;
    if (first == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

void append_label_value(std::string& out, std::string_view value) {
  while (!value.empty()) {
    const std::size_t length = utf8_sequence_length(value);
    if (length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD, one per byte that starts nothing valid
      value.remove_prefix(1);
      continue;
    }
    if (value[0] == '\\') {
      out += "\\\\";
    } else if (value[0] == '"') {
      out += "\\\"";
    } else if (value[0] == '\n') {
      out += "\\n";
    } else {
      out.append(value.data(), length);
    }
    value.remove_prefix(length);
  }
}

std::string integer_text(std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  return std::string(digits, end);
}

// The shortest text that reads back as `value`, in the format's spelling of the special values.
std::string real_text(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  return std::string(digits, end);
}

// Builds the page one family at a time.
class exposition {
 public:
  // Starts a family with its HELP and TYPE lines; `help` is assumed to hold no backslash or newline.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    _name = name;
    _text.append("# HELP ").append(name).append(" ").append(help).append("\n");
    _text.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  // One sample of the current family, named after it plus `suffix` (a histogram's _bucket, _sum and _count).
  void sample(std::initializer_list<label> labels, std::string_view value, std::string_view suffix = {}) {
    _text.append(_name).append(suffix);
    if (labels.size() > 0) {
      char separator = '{';
      for (const label& l : labels) {
        _text.append(1, separator).append(l.name).append("=\"");
        append_label_value(_text, l.value);
        _text.append("\"");
        separator = ',';
      }
      _text.append("}");
    }
    _text.append(" ").append(value).append("\n");
  }

  std::string take() && { return std::move(_text); }

 private:
  std::string _text;
  std::string_view _name;
};

// A per-stage family drawn from one field of each stage's counters.
struct stage_family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::uint64_t dp::counter_values::*field;
};

constexpr stage_family stage_io_families[] = {
    {"ferry_stage_rx_datagrams_total", "counter", "Datagrams the stage received.", &dp::counter_values::rx_datagrams},
    {"ferry_stage_rx_bytes_total", "counter", "Bytes of the datagrams the stage received.",
     &dp::counter_values::rx_bytes},
    {"ferry_stage_tx_datagrams_total", "counter", "Datagrams the stage sent.", &dp::counter_values::tx_datagrams},
    {"ferry_stage_tx_bytes_total", "counter", "Bytes of the datagrams the stage sent.", &dp::counter_values::tx_bytes},
    {"ferry_stage_busy_polls_total", "counter", "Polls of the stage that found work.", &dp::counter_values::busy_polls},
    {"ferry_stage_idle_polls_total", "counter", "Polls of the stage that found none.", &dp::counter_values::idle_polls},
    {"ferry_stage_rx_lost_total", "counter",
     "Datagrams lost below ferry before the stage could read them (socket buffer full, NIC missed).",
     &dp::counter_values::rx_lost},
    {"ferry_stage_rx_ignored_total", "counter", "Packets on the stage's DPDK port that were not datagrams for ferry.",
     &dp::counter_values::rx_ignored},
    {"ferry_stage_ring_high_water", "gauge", "Most descriptors seen waiting in one of the stage's input rings.",
     &dp::counter_values::ring_high_water},
    {"ferry_stage_copies_total", "counter",
     "Extra copies the stage sent for routes that replicate (not counted as forwarded).",
     &dp::counter_values::copies},
    {"ferry_stage_copy_errors_total", "counter", "Extra copies the backend refused.", &dp::counter_values::copy_errors},
};

constexpr dp::drop_reason route_drop_reasons[] = {dp::drop_reason::rate_limited_route, dp::drop_reason::breaker_open,
                                                  dp::drop_reason::route_drop};
constexpr std::string_view breaker_states[] = {"closed", "tripped", "paused"};

void drops(exposition& out, const dp::counter_values& counters, std::string_view stage) {
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    const std::string_view reason = dp::to_string(static_cast<dp::drop_reason>(i));
    const std::string value = integer_text(counters.drops[i]);
    if (stage.empty()) {
      out.sample({{"reason", reason}}, value);
    } else {
      out.sample({{"stage", stage}, {"reason", reason}}, value);
    }
  }
}

void latency_histogram(exposition& out, const dp::counter_values& total) {
  out.family("ferry_message_latency_seconds", "histogram",
             "Time inside ferry from receiving a message to handing it to the backend.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < dp::latency_bucket_count; ++i) {
    cumulative += total.latency[i];
    // Bucket i holds up to 2^i microseconds; the division rounds to the double nearest 2^i / 10^6, which prints
    // short ("0.000512", not "0.0005120000000000001").
    const std::string le = i + 1 < dp::latency_bucket_count
                               ? real_text(static_cast<double>(std::uint64_t{1} << i) / 1e6)
                               : std::string("+Inf");
    out.sample({{"le", le}}, integer_text(cumulative), "_bucket");
  }
  out.sample({}, real_text(static_cast<double>(total.latency_sum_ns) / 1e9), "_sum");
  out.sample({}, integer_text(cumulative), "_count");
}

}  // namespace

std::string prometheus_text(const router_stats& stats, double uptime_seconds) {
  exposition out;
  const dp::counter_values& total = stats.total;

  out.family("ferry_uptime_seconds", "gauge", "Time since ferryd started.");
  out.sample({}, real_text(uptime_seconds));

  out.family("ferry_messages_received_total", "counter", "Messages the router received.");
  out.sample({}, integer_text(total.rx));
  out.family("ferry_messages_forwarded_total", "counter",
             "Messages the router handed to the backend for their next hop.");
  out.sample({}, integer_text(total.forwarded));
  out.family("ferry_messages_dropped_total", "counter", "Messages the router dropped, by reason.");
  drops(out, total, {});

  out.family("ferry_verify_outcomes_total", "counter", "What verification concluded, by message kind and verdict.");
  for (std::size_t k = 0; k < verify::message_kind_count; ++k) {
    const std::string_view kind = verify::to_string(static_cast<verify::message_kind>(k + 1));
    for (std::size_t v = 0; v < verify::verdict_count; ++v) {
      out.sample({{"kind", kind}, {"outcome", verify::to_string(static_cast<verify::verdict>(v))}},
                 integer_text(total.verdicts[k][v]));
    }
  }

  latency_histogram(out, total);

  out.family("ferry_stage_received_total", "counter", "Messages the stage took in.");
  for (const stage_stats& s : stats.stages) out.sample({{"stage", s.name}}, integer_text(s.counters.rx));
  out.family("ferry_stage_forwarded_total", "counter",
             "Messages the stage passed on to the next stage or the backend.");
  for (const stage_stats& s : stats.stages) out.sample({{"stage", s.name}}, integer_text(s.counters.forwarded));
  out.family("ferry_stage_dropped_total", "counter", "Messages the stage dropped, by reason.");
  for (const stage_stats& s : stats.stages) drops(out, s.counters, s.name);
  for (const stage_family& f : stage_io_families) {
    out.family(f.name, f.type, f.help);
    for (const stage_stats& s : stats.stages) out.sample({{"stage", s.name}}, integer_text(s.counters.*f.field));
  }

  out.family("ferry_stage_ring_waiting", "gauge", "Descriptors waiting in the stage's input rings now.");
  for (const stage_stats& s : stats.stages) out.sample({{"stage", s.name}}, integer_text(s.ring_waiting));

  out.family("ferry_route_messages_total", "counter", "Messages the route was chosen for.");
  for (const route_stats& r : stats.routes) out.sample({{"route", r.name}}, integer_text(r.matched));
  out.family("ferry_route_forwarded_total", "counter", "Messages of the route handed to the backend.");
  for (const route_stats& r : stats.routes) out.sample({{"route", r.name}}, integer_text(r.forwarded));
  out.family("ferry_route_dropped_total", "counter", "Messages of the route dropped by its limit, breaker or action.");
  for (const route_stats& r : stats.routes) {
    const std::uint64_t counts[] = {r.rate_limited, r.breaker_open, r.dropped_by_action};
    for (std::size_t i = 0; i < std::size(route_drop_reasons); ++i) {
      out.sample({{"route", r.name}, {"reason", dp::to_string(route_drop_reasons[i])}}, integer_text(counts[i]));
    }
  }
  out.family("ferry_route_verify_outcomes_total", "counter",
             "Messages of the route that passed or failed verification.");
  for (const route_stats& r : stats.routes) {
    out.sample({{"route", r.name}, {"outcome", "verified"}}, integer_text(r.verified));
    out.sample({{"route", r.name}, {"outcome", "failed"}}, integer_text(r.verify_failed));
  }
  out.family("ferry_route_breaker_state", "gauge",
             "1 for the state the route's circuit breaker is in (closed, tripped by itself, paused by hand), "
             "0 for the others.");
  for (const route_stats& r : stats.routes) {
    for (const std::string_view state : breaker_states) {
      out.sample({{"route", r.name}, {"state", state}}, r.breaker == state ? "1" : "0");
    }
  }
  out.family("ferry_route_breaker_trips_total", "counter", "Times the route's circuit breaker tripped by itself.");
  for (const route_stats& r : stats.routes) out.sample({{"route", r.name}}, integer_text(r.trips));

  out.family("ferry_peer_messages_total", "counter", "Messages received from the peer.");
  for (const peer_stats& p : stats.peers) out.sample({{"peer", p.name}}, integer_text(p.rx));
  out.family("ferry_peer_rate_limited_total", "counter", "Messages from the peer dropped over its rate limit.");
  for (const peer_stats& p : stats.peers) out.sample({{"peer", p.name}}, integer_text(p.rate_limited));
  out.family("ferry_peer_bad_mac_total", "counter",
             "Datagrams from the peer dropped for a bad or missing link tag (each counts one message).");
  for (const peer_stats& p : stats.peers) out.sample({{"peer", p.name}}, integer_text(p.bad_mac));

  const key_set_stats& keys = stats.keys;
  if (keys.wormhole_current) {
    out.family("ferry_wormhole_guardian_set_current", "gauge", "Index of the current Wormhole guardian set.");
    out.sample({}, integer_text(*keys.wormhole_current));
  }
  out.family("ferry_wormhole_guardian_sets", "gauge", "Wormhole guardian sets the router knows.");
  out.sample({}, integer_text(keys.wormhole_sets));
  out.family("ferry_wormhole_guardian_set_upgrades_total", "counter",
             "Guardian set upgrades applied from upgrade VAAs seen in the data plane.");
  out.sample({}, integer_text(keys.guardian_set_upgrades));
  out.family("ferry_hyperlane_origins", "gauge", "Hyperlane origin domains with a validator set to verify against.");
  out.sample({}, integer_text(keys.hyperlane_origins));
  out.family("ferry_layerzero_paths", "gauge", "LayerZero paths with a DVN configuration to verify against.");
  out.sample({}, integer_text(keys.layerzero_paths));
  out.family("ferry_quorum_sets", "gauge", "Ed25519 key sets for quorum messages.");
  out.sample({}, integer_text(keys.quorum_sets));

  out.family("ferry_replay_channels", "gauge", "Channels (emitters, origins, paths) the replay windows hold.");
  out.sample({}, integer_text(stats.replay_channels));
  out.family("ferry_replay_capacity", "gauge", "Channels the replay windows have room for ([state] replay_channels).");
  out.sample({}, integer_text(stats.replay_capacity));
  out.family("ferry_replay_evictions_total", "counter",
             "Channels whose window was given to another channel because the table was full around it.");
  out.sample({}, integer_text(stats.replay_evictions));
  out.family("ferry_config_snapshots_published_total", "counter", "Configuration snapshots published since start.");
  out.sample({}, integer_text(stats.snapshots_published));
  out.family("ferry_config_snapshots_retired", "gauge",
             "Old configuration snapshots waiting for every stage to pass a quiescent point.");
  out.sample({}, integer_text(stats.snapshots_retired));

  return std::move(out).take();
}

}  // namespace ferry::ctl

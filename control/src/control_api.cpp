#include "ferry/control/control_api.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <toml++/toml.h>
#include <utility>

#include "ferry/control/config.hpp"
#include "ferry/control/stats.hpp"

namespace ferry::ctl {

namespace {

using json = nlohmann::ordered_json;

http_response json_response(int status, const json& doc) {
  return {status, doc.dump(-1, ' ', false, json::error_handler_t::replace)};
}

json or_wildcard(const std::optional<std::uint32_t>& value) { return value ? json(*value) : json("*"); }

std::string hex(const std::array<std::byte, 32>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "0x";
  for (const std::byte b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 15];
  }
  return out;
}

json limit_json(const std::optional<rate_limit>& limit) {
  if (!limit) return nullptr;
  return {{"rate", limit->rate}, {"burst", limit->burst}};
}

// A hop as the configuration wrote it; rebuilt from its parts when the text was not kept.
std::string hop_text(const hop_config& hop) {
  if (!hop.text.empty()) return hop.text;
  return hop.how == hop_config::type::unix_sink ? "unix:" + hop.sink_path : hop.udp.to_string();
}

json breaker_json(const std::optional<breaker_config>& breaker, const route_stats& stats) {
  json out;
  out["state"] = stats.breaker;
  out["trips"] = stats.trips;
  if (!breaker) {
    out["settings"] = nullptr;
    return out;
  }
  out["settings"] = {{"failure_ratio", breaker->failure_ratio ? json(*breaker->failure_ratio) : json(nullptr)},
                     {"min_verified", breaker->min_verified},
                     {"max_messages", breaker->max_messages ? json(*breaker->max_messages) : json(nullptr)},
                     {"window_ms", breaker->window_ms},
                     {"cooldown_ms", breaker->cooldown_ms}};
  return out;
}

bool has_route(const config& running, std::string_view name) {
  return std::any_of(running.routes.begin(), running.routes.end(),
                     [name](const route_config& route) { return route.name == name; });
}

// The name a route's TOML gives, when it is TOML with a string name: to tell a taken name (409) from a bad route.
std::optional<std::string> route_name(std::string_view toml_text) {
  try {
    const toml::table table = toml::parse(toml_text);
    if (const auto name = table["name"].value<std::string>()) return *name;
  } catch (const toml::parse_error&) {  // parse_route() says what is wrong with it
  }
  return std::nullopt;
}

std::string_view without_trailing_slash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

http_response wrong_method(const http_request& request, std::string_view path, std::string_view allowed) {
  return error_response(405, request.method + " " + std::string(path) + ": method not allowed; " +
                                 std::string(path) + " takes " + std::string(allowed));
}

}  // namespace

std::variant<api_call, http_response> resolve_call(const http_request& request) {
  using endpoint = api_call::endpoint;
  const std::string_view path = without_trailing_slash(request.path);
  const std::string& method = request.method;
  const std::optional<endpoint> none;
  using answer = std::variant<api_call, http_response>;
  const auto fixed = [&](std::optional<endpoint> get, std::optional<endpoint> post) -> answer {
    if (method == "GET" && get) return api_call{*get, {}};
    if (method == "POST" && post) return api_call{*post, {}};
    return wrong_method(request, path, get && post ? "GET or POST" : get ? "GET" : "POST");
  };
  if (path == "/status") return fixed(endpoint::status, none);
  if (path == "/stats") return fixed(endpoint::stats, none);
  if (path == "/routes") return fixed(endpoint::list_routes, endpoint::add_route);
  if (path == "/peers") return fixed(endpoint::peers, none);
  if (path == "/keys") return fixed(endpoint::keys, none);
  if (path == "/keys/rotate") return fixed(none, endpoint::rotate_keys);
  if (path == "/reload") return fixed(none, endpoint::reload);

  constexpr std::string_view routes_prefix = "/routes/";
  if (path.starts_with(routes_prefix)) {
    std::string_view rest = path.substr(routes_prefix.size());
    const std::size_t slash = rest.find('/');
    const std::string_view encoded = rest.substr(0, slash);
    const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    std::optional<endpoint> what;
    std::string_view allowed;
    if (action.empty() && slash == std::string_view::npos) {
      what = endpoint::delete_route;
      allowed = "DELETE";
    } else if (action == "pause") {
      what = endpoint::pause_route;
      allowed = "POST";
    } else if (action == "resume") {
      what = endpoint::resume_route;
      allowed = "POST";
    }
    if (what && !encoded.empty()) {
      if (method != allowed) return wrong_method(request, path, allowed);
      std::optional<std::string> name = percent_decode(encoded);
      if (!name) {
        return error_response(400, "route name '" + std::string(encoded) +
                                       "' in the path: malformed percent escape (%XX, two hex digits, not %00)");
      }
      return api_call{*what, std::move(*name)};
    }
  }
  return error_response(404, "no such path '" + std::string(path) +
                                 "'; the API serves /status, /stats, /routes, /routes/NAME, /routes/NAME/pause, "
                                 "/routes/NAME/resume, /peers, /keys, /keys/rotate and /reload");
}

std::string routes_json(const std::vector<route_report>& routes) {
  json list = json::array();
  for (const route_report& report : routes) {
    const route_config& route = report.config;
    json one;
    one["name"] = route.name;
    one["kind"] = route.kind ? json(std::string(verify::to_string(*route.kind))) : json("*");
    one["source"] = or_wildcard(route.source);
    one["destination"] = or_wildcard(route.destination);
    one["emitter"] = route.emitter ? hex(*route.emitter) : "*";
    one["action"] = route.action == route_action::drop ? "drop" : "forward";
    json hops = json::array();
    for (const hop_config& hop : route.hops) hops.push_back(hop_text(hop));
    one["hops"] = std::move(hops);
    one["group"] = route.group.empty() ? json(nullptr) : json(route.group);
    one["policy"] = route.policy == group_policy::balance ? "balance" : "replicate";
    one["rate_limit"] = limit_json(route.limit);
    one["breaker"] = breaker_json(route.breaker, report.stats);
    const route_stats& s = report.stats;
    one["counters"] = {{"matched", s.matched},           {"forwarded", s.forwarded},
                       {"rate_limited", s.rate_limited}, {"breaker_open", s.breaker_open},
                       {"dropped_by_action", s.dropped_by_action},
                       {"verify_failed", s.verify_failed}, {"verified", s.verified}};
    list.push_back(std::move(one));
  }
  return json{{"routes", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string peers_json(const std::vector<peer_report>& peers) {
  json list = json::array();
  for (const peer_report& peer : peers) {
    json one;
    one["name"] = peer.name;
    one["addresses"] = peer.addresses;
    one["trust"] = peer.trust;
    one["rate_limit"] = limit_json(peer.limit);
    one["link_key_ids"] = peer.link_key_ids;
    one["counters"] = {
        {"rx", peer.stats.rx}, {"rate_limited", peer.stats.rate_limited}, {"bad_mac", peer.stats.bad_mac}};
    list.push_back(std::move(one));
  }
  return json{{"peers", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string keys_json(const key_report& keys) {
  json doc;
  json wormhole = json::array();
  for (const auto& set : keys.wormhole) {
    wormhole.push_back({{"index", set.index},
                        {"keys", set.keys},
                        {"expiration_time", set.expiration_time},
                        {"current", set.current}});
  }
  doc["wormhole"] = std::move(wormhole);
  doc["guardian_set_upgrades"] = keys.guardian_set_upgrades;
  const auto pairs = [](const std::vector<std::pair<std::uint32_t, std::size_t>>& from, const char* key,
                        const char* count) {
    json out = json::array();
    for (const auto& entry : from) out.push_back({{key, entry.first}, {count, entry.second}});
    return out;
  };
  doc["hyperlane"] = pairs(keys.hyperlane, "origin", "validators");
  doc["layerzero"] = pairs(keys.layerzero, "source_eid", "dvns");
  doc["quorum"] = pairs(keys.quorum, "key_set", "keys");
  json links = json::array();
  for (const auto& link : keys.links) links.push_back({{"peer", link.peer}, {"id", link.id}, {"file", link.file}});
  doc["links"] = std::move(links);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

control_api::control_api(router& r, reloader reload) : _router(r), _reload(std::move(reload)) {}

http_response control_api::answer(const http_request& request) {
  using endpoint = api_call::endpoint;
  auto resolved = resolve_call(request);
  if (auto* refused = std::get_if<http_response>(&resolved)) return std::move(*refused);
  const api_call& call = std::get<api_call>(resolved);

  const auto unknown_route = [&]() -> std::optional<http_response> {
    if (has_route(_router.running_config(), call.route)) return std::nullopt;
    return error_response(404, "no route named '" + call.route + "'; `ferryctl routes list` shows them");
  };
  const auto done = [](const platform::result<void>& outcome, json answer) {
    if (!outcome) return error_response(400, outcome.err().message());
    return json_response(200, answer);
  };

  switch (call.what) {
    case endpoint::status: return status();
    case endpoint::stats: return {200, stats_json(_router.stats())};
    case endpoint::list_routes: return {200, routes_json(_router.routes())};
    case endpoint::add_route: return add_route(request);
    case endpoint::delete_route:
      if (auto missing = unknown_route()) return std::move(*missing);
      return done(_router.delete_route(call.route), {{"deleted", call.route}});
    case endpoint::pause_route:
      if (auto missing = unknown_route()) return std::move(*missing);
      return done(_router.pause_route(call.route), {{"paused", call.route}});
    case endpoint::resume_route:
      if (auto missing = unknown_route()) return std::move(*missing);
      return done(_router.resume_route(call.route), {{"resumed", call.route}});
    case endpoint::peers: return {200, peers_json(_router.peers())};
    case endpoint::keys: return {200, keys_json(_router.keys())};
    case endpoint::rotate_keys: return done(_router.rotate_keys(), {{"rotated", true}});
    case endpoint::reload:
      if (!_reload) return error_response(503, "this ferryd cannot reload: it was started without a reload hook");
      return done(_reload(), {{"reloaded", true}});
  }
  return error_response(500, "internal error: an endpoint without an answer");
}

http_response control_api::status() const {
  const dp::counter_values c = _router.counters();
  const dp::stage_graph& graph = _router.stages();
  json doc;
  doc["uptime_s"] = _router.uptime_seconds();
  doc["backend"] = dp::to_string(_router.backend());
  doc["backend_notes"] = _router.backend_notes();
  doc["listen"] = _router.listening().to_string();
  doc["layout"] = graph.layout().mode == dp::layout_mode::staged ? "staged" : "run-to-completion";
  json stages = json::array();
  for (std::size_t s = 0; s < graph.stage_count(); ++s) {
    const auto& info = graph.info(s);
    stages.push_back({{"name", info.name}, {"cpu", info.cpu ? json(*info.cpu) : json(nullptr)}});
  }
  doc["stages"] = std::move(stages);
  doc["huge_pages"] = _router.huge_pages();
  doc["routes"] = _router.route_count();
  doc["next_hops"] = _router.hop_count();
  doc["io"] = {{"rx_datagrams", c.rx_datagrams}, {"rx_bytes", c.rx_bytes},     {"tx_datagrams", c.tx_datagrams},
               {"tx_bytes", c.tx_bytes},         {"busy_polls", c.busy_polls}, {"idle_polls", c.idle_polls},
               {"rx_lost", c.rx_lost},           {"rx_ignored", c.rx_ignored}};
  return json_response(200, doc);
}

http_response control_api::add_route(const http_request& request) {
  const bool blank = std::all_of(request.body.begin(), request.body.end(),
                                 [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  if (blank) {
    return error_response(400, "POST /routes takes one route as its body, in TOML, as the fields of a [[routes]] "
                               "table: name = \"x\", kind = \"wormhole\", source = 2, destination = \"*\", "
                               "next_hop = \"127.0.0.1:7701\" (one a line)");
  }
  const config running = _router.running_config();
  if (const auto name = route_name(request.body); name && has_route(running, *name)) {
    return error_response(409, "a route named '" + *name + "' exists already; delete it first or choose another name");
  }
  auto route = parse_route(request.body, "POST /routes", running);
  if (!route) return error_response(400, route.err().message());
  auto added = _router.add_route(*route);
  if (!added) return error_response(400, added.err().message());
  return json_response(201, {{"added", route->name}});
}

}  // namespace ferry::ctl

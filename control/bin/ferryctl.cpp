// ferryctl: the operator's tool for a running ferryd, over its control socket (docs/control-api.md), and for checking
// a message by hand (`inspect`, which works offline). Exit 0 on success, 1 when ferryd refuses or cannot be
// reached (stderr says which and why), 2 on a usage error.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/control_socket.hpp"
#include "ferry/control/inspect.hpp"
#include "ferry/control/stats.hpp"

namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

using json = nlohmann::ordered_json;

struct connection {
  std::string socket = "/run/ferry/ferryd.sock";
  int timeout_ms = 5000;
};

// ferryd's answer to one request when it is a success (2xx); otherwise prints why not and returns nothing.
std::optional<std::string> call(const connection& to, std::string_view method, const std::string& path,
                                std::string_view body = {}) {
  auto response = ferry::ctl::control_request(to.socket, method, path, body, to.timeout_ms);
  if (!response) {
    std::cerr << "ferryctl: cannot reach " << response.err().message() << '\n';
    return std::nullopt;
  }
  if (response->status < 200 || response->status > 299) {
    const json answer = json::parse(response->body, nullptr, false);
    std::string reason = response->body;
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) reason = answer["error"];
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    std::cerr << "ferryctl: ferryd refused " << method << ' ' << path << " (" << response->status << "): " << reason
              << '\n';
    return std::nullopt;
  }
  return response->body;
}

// A parsed answer; prints the problem and returns nothing when the body is not the JSON object expected.
std::optional<json> parse_object(const std::string& body, const char* what) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) {
    std::cerr << "ferryctl: ferryd's answer to " << what << " is not a JSON object\n";
    return std::nullopt;
  }
  return doc;
}

// Columns padded to their widest cell; a column whose cells are all numbers (or "-") is aligned right.
class table {
 public:
  explicit table(std::vector<std::string> header) : _rows{std::move(header)} {}

  void add(std::vector<std::string> row) {
    row.resize(_rows.front().size());
    _rows.push_back(std::move(row));
  }

  std::string render(std::string_view indent = "") const {
    const std::size_t columns = _rows.front().size();
    std::vector<std::size_t> width(columns, 0);
    std::vector<bool> numeric(columns, _rows.size() > 1);
    for (std::size_t r = 0; r < _rows.size(); ++r) {
      for (std::size_t c = 0; c < columns; ++c) {
        width[c] = std::max(width[c], _rows[r][c].size());
        if (r > 0 && !is_number(_rows[r][c])) numeric[c] = false;
      }
    }
    std::string out;
    for (const auto& row : _rows) {
      std::string line(indent);
      for (std::size_t c = 0; c < columns; ++c) {
        const std::string padding(width[c] - row[c].size(), ' ');
        line += numeric[c] ? padding + row[c] : row[c] + (c + 1 < columns ? padding : "");
        if (c + 1 < columns) line += "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + '\n';
    }
    return out;
  }

 private:
  static bool is_number(const std::string& cell) {
    return cell == "-" || (!cell.empty() && std::all_of(cell.begin(), cell.end(), [](char c) {
                             return (c >= '0' && c <= '9') || c == '.';
                           }));
  }

  std::vector<std::vector<std::string>> _rows;
};

// A JSON value as a table cell: strings bare, null as "-", a whole number without ".0".
std::string cell(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (number == std::floor(number) && std::fabs(number) < 1e15) return std::to_string(static_cast<long long>(number));
  }
  return value.dump();
}

std::string join(const json& list, const char* separator = ",") {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : separator) + cell(item);
  return out.empty() ? "-" : out;
}

std::string limit_cell(const json& limit) {
  if (!limit.is_object()) return "-";
  return cell(limit["rate"]) + "/s burst " + cell(limit["burst"]);
}

// A 32-byte address shortened to its ends: enough to tell routes apart in a table (--json shows it whole).
std::string short_address(const std::string& text) {
  return text.size() > 16 ? text.substr(0, 6) + "..." + text.substr(text.size() - 4) : text;
}

std::uint64_t count(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string routes_table(const json& doc) {
  table out({"NAME", "KIND", "SOURCE", "DEST", "EMITTER", "ACTION", "NEXT HOP", "LIMIT", "BREAKER", "MATCHED",
             "FORWARDED", "DROPPED"});
  for (const auto& route : doc.value("routes", json::array())) {
    std::string hops = "-";
    if (route.value("action", "") != "drop") {
      hops = route["group"].is_string() ? route["group"].get<std::string>() + " (" + cell(route["policy"]) + ": " +
                                              join(route["hops"]) + ")"
                                        : join(route["hops"]);
    }
    const json& breaker = route["breaker"];
    std::string state = breaker.is_object() ? cell(breaker["state"]) : "-";
    if (breaker.is_object() && count(breaker, "trips") > 0) state += " (" + cell(breaker["trips"]) + " trips)";
    const json& counters = route["counters"];
    const std::uint64_t dropped =
        count(counters, "rate_limited") + count(counters, "breaker_open") + count(counters, "dropped_by_action");
    out.add({cell(route["name"]), cell(route["kind"]), cell(route["source"]), cell(route["destination"]),
             short_address(cell(route["emitter"])), cell(route["action"]), hops, limit_cell(route["rate_limit"]),
             state, std::to_string(count(counters, "matched")), std::to_string(count(counters, "forwarded")),
             std::to_string(dropped)});
  }
  return out.render();
}

std::string peers_table(const json& doc) {
  table out({"NAME", "TRUST", "ADDRESSES", "LIMIT", "LINK KEYS", "RX", "RATE-LIMITED", "BAD-MAC"});
  for (const auto& peer : doc.value("peers", json::array())) {
    const json& counters = peer["counters"];
    out.add({cell(peer["name"]), cell(peer["trust"]), join(peer["addresses"]), limit_cell(peer["rate_limit"]),
             join(peer["link_key_ids"]), std::to_string(count(counters, "rx")),
             std::to_string(count(counters, "rate_limited")), std::to_string(count(counters, "bad_mac"))});
  }
  return out.render();
}

std::string utc_time(std::uint64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  char text[32];
  if (gmtime_r(&t, &parts) == nullptr || std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) {
    return std::to_string(seconds);
  }
  return text;
}

std::string keys_text(const json& doc) {
  std::string out;
  const auto section = [&out](const std::string& title, const table& rows, bool empty) {
    out += title + '\n' + (empty ? std::string("  none\n") : rows.render("  "));
  };
  const json wormhole = doc.value("wormhole", json::array());
  table sets({"INDEX", "KEYS", "EXPIRES", "CURRENT"});
  for (const auto& set : wormhole) {
    const std::uint64_t expires = count(set, "expiration_time");
    sets.add({cell(set["index"]), cell(set["keys"]), expires == 0 ? "-" : utc_time(expires),
              set.value("current", false) ? "yes" : "no"});
  }
  section(std::string("wormhole guardian sets (upgrades from governance VAAs: ") +
              (doc.value("guardian_set_upgrades", false) ? "on" : "off") + ")",
          sets, wormhole.empty());
  const auto pairs = [&section, &doc](const char* title, const char* key, const char* first, const char* second,
                                      const char* first_header, const char* second_header) {
    const json list = doc.value(key, json::array());
    table rows({first_header, second_header});
    for (const auto& entry : list) rows.add({cell(entry[first]), cell(entry[second])});
    section(title, rows, list.empty());
  };
  pairs("hyperlane validator sets", "hyperlane", "origin", "validators", "ORIGIN", "VALIDATORS");
  pairs("layerzero DVN sets", "layerzero", "source_eid", "dvns", "SOURCE EID", "DVNS");
  pairs("quorum key sets", "quorum", "key_set", "keys", "KEY SET", "KEYS");
  const json links = doc.value("links", json::array());
  table link_rows({"PEER", "ID", "FILE"});
  for (const auto& link : links) link_rows.add({cell(link["peer"]), cell(link["id"]), cell(link["file"])});
  section("link keys", link_rows, links.empty());
  return out;
}

// A TOML basic string.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

// A chain selector as TOML: a number bare, anything else ("*", or a mistake ferryd will name) as a string.
std::string toml_chain(const std::string& text) {
  const bool number = !text.empty() && text.size() <= 10 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  return number ? text : toml_string(text);
}

struct route_options {
  std::string name, kind, source = "*", destination = "*", emitter = "*", next_hop, action;
  std::optional<double> rate;
  std::optional<std::uint32_t> burst;
};

// The body of POST /routes: the fields of one [[routes]] table.
std::string route_toml(const route_options& route) {
  std::string out = "name = " + toml_string(route.name) + "\nkind = " + toml_string(route.kind) +
                    "\nsource = " + toml_chain(route.source) + "\ndestination = " + toml_chain(route.destination) +
                    "\nemitter = " + toml_string(route.emitter) + "\n";
  if (!route.action.empty()) out += "action = " + toml_string(route.action) + "\n";
  if (!route.next_hop.empty()) out += "next_hop = " + toml_string(route.next_hop) + "\n";
  if (route.rate) {
    char text[64];
    const auto written = std::to_chars(text, text + sizeof text, *route.rate);
    out += "rate = " + std::string(text, written.ptr) + "\n";
  }
  if (route.burst) out += "burst = " + std::to_string(*route.burst) + "\n";
  return out;
}

std::string clock_time() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  char text[16] = "--:--:--";
  if (localtime_r(&now, &parts) != nullptr) std::strftime(text, sizeof text, "%H:%M:%S", &parts);
  return text;
}

// `stats --watch`: a line per sample, with rates since the one before; --json: the API's JSON, a line per sample.
int watch_stats(const connection& to, double interval_s, std::optional<std::uint64_t> samples, bool as_json) {
  std::optional<ferry::ctl::router_stats> previous;
  auto previous_time = std::chrono::steady_clock::now();
  for (std::uint64_t sample = 0; !samples || sample < *samples; ++sample) {
    if (sample > 0) std::this_thread::sleep_for(std::chrono::duration<double>(interval_s));
    const auto body = call(to, "GET", "/stats");
    if (!body) return exit_failure;
    const auto now = std::chrono::steady_clock::now();
    if (as_json) {
      std::cout << *body << std::flush;
      continue;
    }
    auto current = ferry::ctl::stats_from_json(*body);
    if (!current) {
      std::cerr << "ferryctl: " << current.err().message() << '\n';
      return exit_failure;
    }
    const ferry::dp::counter_values& c = current->total;
    if (sample % 20 == 0) {
      std::printf("%-8s %14s %10s %14s %10s %12s %10s  %s\n", "TIME", "RECEIVED", "RX/S", "FORWARDED", "FWD/S",
                  "DROPPED", "DROP/S", "DROPS/S BY REASON");
    }
    std::string rx_rate = "-", forwarded_rate = "-", dropped_rate = "-", reasons;
    const double seconds = std::chrono::duration<double>(now - previous_time).count();
    if (previous && seconds > 0) {
      const ferry::dp::counter_values& p = previous->total;
      const auto rate = [seconds](std::uint64_t later, std::uint64_t earlier) {
        const double moved = static_cast<double>(later - std::min(later, earlier));
        return std::to_string(static_cast<std::uint64_t>(moved / seconds + 0.5));
      };
      rx_rate = rate(c.rx, p.rx);
      forwarded_rate = rate(c.forwarded, p.forwarded);
      dropped_rate = rate(c.dropped(), p.dropped());
      for (std::size_t i = 0; i < ferry::dp::drop_reason_count; ++i) {
        if (c.drops[i] <= p.drops[i]) continue;
        reasons += (reasons.empty() ? "" : ", ") +
                   std::string(ferry::dp::to_string(static_cast<ferry::dp::drop_reason>(i))) + " " +
                   rate(c.drops[i], p.drops[i]);
      }
    }
    std::printf("%-8s %14llu %10s %14llu %10s %12llu %10s%s%s\n", clock_time().c_str(),
                static_cast<unsigned long long>(c.rx), rx_rate.c_str(),
                static_cast<unsigned long long>(c.forwarded), forwarded_rate.c_str(),
                static_cast<unsigned long long>(c.dropped()), dropped_rate.c_str(), reasons.empty() ? "" : "  ",
                reasons.c_str());
    std::fflush(stdout);
    previous = std::move(*current);
    previous_time = now;
  }
  return 0;
}

// The option's value when it was given at all (an empty value counts), for inspect_request's optional fields.
std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  return option->count() > 0 ? std::optional<std::string>(value) : std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferryctl: inspect and steer a running ferryd"};
  app.require_subcommand(1);
  connection to;
  app.add_option("--socket", to.socket, "ferryd's control socket")->capture_default_str();
  app.add_option("--timeout", to.timeout_ms, "How long to wait for ferryd's answer, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));

  bool json_output = false;
  CLI::App* status = app.add_subcommand("status", "What ferryd is running: listener, backend, stages, I/O counters");
  status->add_flag("--json", json_output, "Print the API's JSON on one line (the default prints it indented)");

  CLI::App* stats = app.add_subcommand("stats", "Messages received, forwarded and dropped by reason");
  stats->add_flag("--json", json_output, "Print the API's JSON (with --watch: one line per sample)");
  double watch_s = 1;
  std::uint64_t samples = 0;
  CLI::Option* watch_option =
      stats->add_option("--watch", watch_s, "Print a line every SECONDS (default 1) with rates since the last, until "
                                            "interrupted")
          ->expected(0, 1)
          ->check(CLI::PositiveNumber);
  stats->add_option("--count", samples, "With --watch: stop after this many samples")
      ->needs(watch_option)
      ->check(CLI::PositiveNumber);

  CLI::App* routes = app.add_subcommand("routes", "List, add and delete routes");
  routes->require_subcommand(1);
  CLI::App* routes_list = routes->add_subcommand("list", "Every route: its match, next hop, limit, breaker, counters");
  routes_list->add_flag("--json", json_output, "Print the API's JSON");
  route_options route;
  CLI::App* routes_add = routes->add_subcommand("add", "Add a route to the running ferryd (not to its file)");
  routes_add->add_option("--name", route.name, "A name no other route has")->required();
  routes_add->add_option("--kind", route.kind, "wormhole, hyperlane, layerzero, opaque, quorum or \"*\"")->required();
  routes_add->add_option("--source", route.source, "Source chain id, or \"*\"")->capture_default_str();
  routes_add->add_option("--destination", route.destination, "Destination chain id, or \"*\"")->capture_default_str();
  routes_add->add_option("--emitter", route.emitter, "Emitter or sender, 32 bytes in hex, or \"*\"")
      ->capture_default_str();
  routes_add->add_option("--next-hop", route.next_hop, "address:port, unix:/path, a peer or a group");
  routes_add->add_option("--action", route.action, "forward (the default) or drop")
      ->check(CLI::IsMember({"forward", "drop"}));
  CLI::Option* rate_option =
      routes_add->add_option("--rate", route.rate, "Messages a second the route passes on average");
  routes_add->add_option("--burst", route.burst, "Messages it passes at once (default: a tenth of the rate)")
      ->needs(rate_option);
  std::string route_name;
  CLI::App* routes_del = routes->add_subcommand("del", "Delete a route from the running ferryd");
  routes_del->add_option("NAME", route_name, "The route")->required();

  CLI::App* peers = app.add_subcommand("peers", "Named peers: addresses, trust, limit, link key ids, counters");
  peers->add_flag("--json", json_output, "Print the API's JSON");

  CLI::App* keys = app.add_subcommand("keys", "The key sets ferryd verifies against (never a secret)");
  keys->require_subcommand(1);
  CLI::App* keys_list = keys->add_subcommand("list", "Guardian, validator, DVN and quorum sets; link key ids");
  keys_list->add_flag("--json", json_output, "Print the API's JSON");
  CLI::App* keys_rotate = keys->add_subcommand("rotate", "Re-read every key file the configuration names");

  CLI::App* pause = app.add_subcommand("pause", "Pause a route by hand: its messages drop as breaker_open");
  pause->add_option("ROUTE", route_name, "The route")->required();
  CLI::App* resume = app.add_subcommand("resume", "Resume a route, paused by hand or tripped by its breaker");
  resume->add_option("ROUTE", route_name, "The route")->required();
  CLI::App* reload = app.add_subcommand("reload", "Re-read ferryd's configuration file and apply it");

  // inspect's options are plain strings: inspect() checks them all, so that its words are the same in tests.
  ferry::ctl::inspect_request request;
  std::string hex, base64, file, network, ism, metadata, validators, threshold;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Parse and verify one message offline and print it as JSON (exit 0 accepted, 1 rejected, 2 usage)");
  inspect->add_option("--kind", request.kind, "wormhole, hyperlane or layerzero")->required();
  const CLI::Option* hex_option = inspect->add_option("--hex", hex, "The bare message in hex (0x optional)");
  const CLI::Option* base64_option = inspect->add_option("--base64", base64, "The bare message in padded base64");
  const CLI::Option* file_option = inspect->add_option("--file", file, "A file holding the bare message's raw bytes");
  const CLI::Option* network_option =
      inspect->add_option("--network", network, "wormhole: whose guardian sets, mainnet (default) or devnet");
  const CLI::Option* ism_option =
      inspect->add_option("--ism", ism, "hyperlane: message-id-multisig or merkle-root-multisig");
  const CLI::Option* metadata_option = inspect->add_option("--metadata", metadata, "hyperlane: the ISM metadata, hex");
  const CLI::Option* validators_option =
      inspect->add_option("--validators", validators, "hyperlane: validator addresses in ISM order, comma-separated");
  const CLI::Option* threshold_option =
      inspect->add_option("--threshold", threshold, "hyperlane: signatures needed, 1 to the number of validators");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }

  if (*inspect) {
    request.hex = given(hex_option, hex);
    request.base64 = given(base64_option, base64);
    request.file = given(file_option, file);
    request.network = given(network_option, network);
    request.ism = given(ism_option, ism);
    request.metadata = given(metadata_option, metadata);
    request.validators = given(validators_option, validators);
    request.threshold = given(threshold_option, threshold);
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    request.now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
    const ferry::ctl::inspect_outcome outcome = ferry::ctl::inspect(request);
    if (outcome.exit_code == ferry::ctl::inspect_usage) {
      std::cerr << "ferryctl inspect: " << outcome.usage_error << "\nRun with --help for more information.\n";
      return exit_usage;
    }
    std::cout << outcome.json;
    return outcome.exit_code;
  }

  // Prints a GET's answer as JSON or through `human`.
  const auto show = [&](const std::string& path, auto human) {
    const auto body = call(to, "GET", path);
    if (!body) return exit_failure;
    if (json_output) {
      std::cout << *body;
      return 0;
    }
    const auto doc = parse_object(*body, path.c_str());
    if (!doc) return exit_failure;
    std::cout << human(*doc);
    return 0;
  };
  // Sends a change and says what was done.
  const auto change = [&](std::string_view method, const std::string& path, const std::string& done,
                          std::string_view body = {}) {
    if (!call(to, method, path, body)) return exit_failure;
    std::cout << done << '\n';
    return 0;
  };
  const std::string route_path = "/routes/" + ferry::ctl::percent_encode(route_name);

  if (*status) return show("/status", [](const json& doc) { return doc.dump(2) + '\n'; });
  if (*stats) {
    if (watch_option->count() > 0) {
      return watch_stats(to, watch_s, samples > 0 ? std::optional<std::uint64_t>(samples) : std::nullopt,
                         json_output);
    }
    const auto body = call(to, "GET", "/stats");
    if (!body) return exit_failure;
    if (json_output) {
      std::cout << *body;
      return 0;
    }
    auto reported = ferry::ctl::stats_from_json(*body);
    if (!reported) {
      std::cerr << "ferryctl: " << reported.err().message() << '\n';
      return exit_failure;
    }
    std::cout << ferry::ctl::format_summary(*reported, 0);
    return 0;
  }
  if (*routes_list) return show("/routes", routes_table);
  if (*routes_add) return change("POST", "/routes", "added route '" + route.name + "'", route_toml(route));
  if (*routes_del) return change("DELETE", route_path, "deleted route '" + route_name + "'");
  if (*peers) return show("/peers", peers_table);
  if (*keys_list) return show("/keys", keys_text);
  if (*keys_rotate) return change("POST", "/keys/rotate", "key files re-read and published");
  if (*pause) {
    return change("POST", route_path + "/pause",
                  "paused route '" + route_name + "': its messages drop as breaker_open until `ferryctl resume " +
                      route_name + "`");
  }
  if (*resume) return change("POST", route_path + "/resume", "resumed route '" + route_name + "'");
  if (*reload) return change("POST", "/reload", "configuration reloaded");
  return exit_usage;
}

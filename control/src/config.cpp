#include "ferry/control/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace ferry::ctl {

namespace {

constexpr std::int64_t max_u32 = 0xffffffffll;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number with a fraction";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date or time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// Collects every problem with its place, so that one run of --check-config reports them all.
class checker {
 public:
  explicit checker(std::string_view source) : _source(source) {}

  void problem(const toml::source_region& at, std::string_view field, const std::string& what) {
    std::ostringstream line;
    line << _source << ':' << at.begin.line << ':' << at.begin.column << ": " << field << ": " << what;
    _problems.push_back({at.begin.line, at.begin.column, line.str()});
  }

  bool ok() const noexcept { return _problems.empty(); }

  // The problems in the order they appear in the file.
  std::string report() {
    std::stable_sort(_problems.begin(), _problems.end(), [](const problem_at& a, const problem_at& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    std::string joined;
    for (const problem_at& p : _problems) joined += (joined.empty() ? "" : "\n") + p.text;
    return joined;
  }

  // Reports keys of `table` not in `known`, suggesting the nearest known one.
  void only_known(const toml::table& table, const std::string& path, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : table) {
      const std::string_view name = key.str();
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::string what = "unknown field";
      std::string_view nearest;
      std::size_t best = 3;  // suggest only near misses
      for (const std::string_view k : known) {
        const std::size_t d = edit_distance(name, k);
        if (d < best) {
          best = d;
          nearest = k;
        }
      }
      if (!nearest.empty()) {
        what += "; did you mean '" + std::string(nearest) + "'?";
      } else {
        what += " (known here:";
        for (const std::string_view k : known) what += " " + std::string(k);
        what += ")";
      }
      problem(key.source(), join(path, name), what);
    }
  }

  static std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

 private:
  struct problem_at {
    toml::source_index line;
    toml::source_index column;
    std::string text;
  };
  std::string _source;
  std::vector<problem_at> _problems;
};

// Reads the optional field `name` of `table`; reports a wrong type. Returns the node when it is present and of type T.
template <class T>
const toml::value<T>* field(checker& check, const toml::table& table, const std::string& path, std::string_view name,
                            const char* expected) {
  const toml::node* node = table.get(name);
  if (node == nullptr) return nullptr;
  const toml::value<T>* value = node->as<T>();
  if (value == nullptr) {
    check.problem(node->source(), checker::join(path, name),
                  std::string("expected ") + expected + ", found " + type_name(*node));
  }
  return value;
}

void read_u32(checker& check, const toml::table& table, const std::string& path, std::string_view name,
              std::int64_t min, std::int64_t max, std::uint32_t& out) {
  const std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const auto* value = field<std::int64_t>(check, table, path, name, expected.c_str());
  if (value == nullptr) return;
  if (value->get() < min || value->get() > max) {
    check.problem(value->source(), checker::join(path, name),
                  std::to_string(value->get()) + " is out of range; expected " + expected);
    return;
  }
  out = static_cast<std::uint32_t>(value->get());
}

void read_endpoint(checker& check, const toml::table& table, const std::string& path, std::string_view name,
                   bool required, const toml::source_region& table_at, dp::endpoint& out) {
  const auto* value = field<std::string>(check, table, path, name, "a string \"address:port\"");
  if (value == nullptr) {
    if (required && table.get(name) == nullptr) {
      check.problem(table_at, checker::join(path, name), "missing; expected \"address:port\"");
    }
    return;
  }
  auto parsed = dp::endpoint::parse(value->get());
  if (!parsed) {
    check.problem(value->source(), checker::join(path, name), parsed.err().message());
    return;
  }
  out = *parsed;
}

// A chain selector: "*" or an integer from 0 to 2^32-1.
void read_chain(checker& check, const toml::table& table, const std::string& path, std::string_view name,
                const toml::source_region& table_at, std::optional<std::uint32_t>& out) {
  const std::string where = checker::join(path, name);
  const char* expected = "\"*\" or an integer from 0 to 4294967295";
  const toml::node* node = table.get(name);
  if (node == nullptr) {
    check.problem(table_at, where, std::string("missing; expected ") + expected);
    return;
  }
  if (const auto* text = node->as_string()) {
    if (text->get() == "*") {
      out.reset();
    } else {
      check.problem(node->source(), where, "'" + text->get() + "' is not " + expected);
    }
    return;
  }
  if (const auto* number = node->as_integer()) {
    if (number->get() < 0 || number->get() > max_u32) {
      check.problem(node->source(), where, std::to_string(number->get()) + " is out of range; expected " + expected);
      return;
    }
    out = static_cast<std::uint32_t>(number->get());
    return;
  }
  check.problem(node->source(), where, std::string("expected ") + expected + ", found " + type_name(*node));
}

void read_control(checker& check, const toml::table& root, config& out) {
  const toml::node* node = root.get("control");
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    check.problem(node->source(), "control", std::string("expected a table, found ") + type_name(*node));
    return;
  }
  check.only_known(*table, "control", {"socket"});
  if (const auto* socket = field<std::string>(check, *table, "control", "socket", "a path")) {
    if (socket->get().empty() || socket->get().size() >= 108) {
      check.problem(socket->source(), "control.socket", "must be a path of 1 to 107 bytes (a Unix socket's limit)");
    } else {
      out.control_socket = socket->get();
    }
  }
}

// "02:00:00:00:00:01"
bool parse_mac(std::string_view text, std::array<std::uint8_t, 6>& out) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return false;
    unsigned value = 0;
    for (std::size_t d = 0; d < 2; ++d) {
      const char c = text[i * 3 + d];
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0) return false;
      value = value * 16 + static_cast<unsigned>(v);
    }
    out[i] = static_cast<std::uint8_t>(value);
  }
  return true;
}

void read_cpu(checker& check, const toml::node& cpu, cpu_choice& out) {
  const char* expected = "\"auto\", \"none\", a core number or a list of core numbers";
  const auto core = [&](const toml::node& n, unsigned& value) {
    const auto* number = n.as_integer();
    if (number == nullptr) {
      check.problem(n.source(), "dataplane.cpu", std::string("expected ") + expected + ", found " + type_name(n));
      return false;
    }
    if (number->get() < 0 || number->get() > 4095) {
      check.problem(n.source(), "dataplane.cpu", std::to_string(number->get()) + " is not a core number (0 to 4095)");
      return false;
    }
    value = static_cast<unsigned>(number->get());
    return true;
  };
  if (const auto* text = cpu.as_string()) {
    if (text->get() == "auto") {
      out.how = cpu_choice::mode::automatic;
    } else if (text->get() == "none") {
      out.how = cpu_choice::mode::unpinned;
    } else {
      check.problem(cpu.source(), "dataplane.cpu", "'" + text->get() + "': expected " + expected);
    }
  } else if (const auto* list = cpu.as_array()) {
    out.how = cpu_choice::mode::list;
    for (const toml::node& n : *list) {
      unsigned value = 0;
      if (core(n, value)) out.cpus.push_back(value);
    }
    if (out.cpus.empty() && list->empty()) check.problem(cpu.source(), "dataplane.cpu", "an empty list names no core");
  } else {
    unsigned value = 0;
    if (core(cpu, value)) out = {cpu_choice::mode::fixed, {value}};
  }
}

void read_dpdk(checker& check, const toml::table& table, config& out) {
  const std::string path = "dataplane.dpdk";
  check.only_known(table, path, {"eal_args", "port", "next_hop_mac", "mbufs"});
  if (const toml::node* args = table.get("eal_args")) {
    const toml::array* list = args->as_array();
    if (list == nullptr) {
      check.problem(args->source(), path + ".eal_args", std::string("expected a list of strings, found ") + type_name(*args));
    } else {
      for (const toml::node& a : *list) {
        if (const auto* text = a.as_string()) {
          out.dpdk.eal_args.push_back(text->get());
        } else {
          check.problem(a.source(), path + ".eal_args", std::string("expected a string, found ") + type_name(a));
        }
      }
    }
  }
  std::uint32_t port = 0;
  read_u32(check, table, path, "port", 0, 65535, port);
  out.dpdk.port = static_cast<std::uint16_t>(port);
  if (const auto* mac = field<std::string>(check, table, path, "next_hop_mac", "a string \"xx:xx:xx:xx:xx:xx\"")) {
    if (!parse_mac(mac->get(), out.dpdk.next_hop_mac)) {
      check.problem(mac->source(), path + ".next_hop_mac", "'" + mac->get() + "' is not a MAC address like \"02:00:00:00:00:01\"");
    }
  } else if (table.get("next_hop_mac") == nullptr) {
    check.problem(table.source(), path + ".next_hop_mac", "missing; frames sent need an Ethernet destination");
  }
  read_u32(check, table, path, "mbufs", 1023, 1u << 24, out.dpdk.mbufs);
}

void read_dataplane(checker& check, const toml::table& root, config& out) {
  const toml::node* node = root.get("dataplane");
  if (node == nullptr) {
    check.problem(root.source(), "dataplane", "missing; it says at least where to listen");
    return;
  }
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    check.problem(node->source(), "dataplane", std::string("expected a table, found ") + type_name(*node));
    return;
  }
  const std::string path = "dataplane";
  check.only_known(*table, path,
                   {"backend", "listen", "trusted_upstreams", "cpu", "layout", "io_stages", "verify_stages",
                    "route_stages", "ring_size", "poll", "burst", "buffers", "buffer_size", "max_frame",
                    "socket_buffer", "dpdk"});
  if (const auto* backend = field<std::string>(check, *table, path, "backend", "a string")) {
    const std::string& b = backend->get();
    if (b == "auto") {
      out.backend = dp::backend_choice::automatic;
    } else if (b == "socket") {
      out.backend = dp::backend_choice::socket;
    } else if (b == "io_uring") {
      out.backend = dp::backend_choice::io_uring;
    } else if (b == "dpdk") {
      out.backend = dp::backend_choice::dpdk;
    } else {
      check.problem(backend->source(), "dataplane.backend",
                    "'" + b + "': expected \"auto\", \"socket\", \"io_uring\" or \"dpdk\"");
    }
  }
  read_endpoint(check, *table, path, "listen", true, table->source(), out.listen);
  if (const toml::node* hosts = table->get("trusted_upstreams")) {
    const toml::array* list = hosts->as_array();
    if (list == nullptr) {
      check.problem(hosts->source(), "dataplane.trusted_upstreams",
                    std::string("expected a list of addresses, found ") + type_name(*hosts));
    } else {
      for (const toml::node& h : *list) {
        const auto* text = h.as_string();
        auto parsed = text == nullptr ? platform::result<dp::endpoint>(platform::error(std::string("expected an address, found ") + type_name(h)))
                      : dp::endpoint::parse(text->get().find(':') == std::string::npos ? text->get() + ":0"
                                                                                         : "[" + text->get() + "]:0");
        if (!parsed) {
          check.problem(h.source(), "dataplane.trusted_upstreams", parsed.err().message());
        } else {
          out.trusted_upstreams.push_back(*parsed);
        }
      }
    }
  }
  if (const toml::node* cpu = table->get("cpu")) read_cpu(check, *cpu, out.cpu);
  if (const auto* layout = field<std::string>(check, *table, path, "layout", "a string")) {
    if (layout->get() == "auto") {
      out.layout.how = layout_choice::mode::automatic;
    } else if (layout->get() == "run-to-completion") {
      out.layout.how = layout_choice::mode::run_to_completion;
    } else if (layout->get() == "staged") {
      out.layout.how = layout_choice::mode::staged;
    } else {
      check.problem(layout->source(), "dataplane.layout",
                    "'" + layout->get() + "': expected \"auto\", \"run-to-completion\" or \"staged\"");
    }
  }
  for (const char* counted : {"io_stages", "verify_stages", "route_stages"}) {
    if (table->get(counted) != nullptr && out.layout.how != layout_choice::mode::staged) {
      check.problem(table->get(counted)->source(), checker::join(path, counted),
                    "stage counts apply to layout = \"staged\" only");
    }
  }
  read_u32(check, *table, path, "io_stages", 1, 64, out.layout.io);
  read_u32(check, *table, path, "verify_stages", 1, 64, out.layout.verify);
  read_u32(check, *table, path, "route_stages", 1, 64, out.layout.route);
  read_u32(check, *table, path, "ring_size", 2, 1 << 20, out.ring_size);
  if ((out.ring_size & (out.ring_size - 1)) != 0) {
    check.problem(table->get("ring_size")->source(), "dataplane.ring_size",
                  std::to_string(out.ring_size) + " is not a power of two");
  }
  if (const auto* poll = field<std::string>(check, *table, path, "poll", "\"adaptive\" or \"busy\"")) {
    if (poll->get() == "adaptive") {
      out.poll = dp::poll_mode::adaptive;
    } else if (poll->get() == "busy") {
      out.poll = dp::poll_mode::busy;
    } else {
      check.problem(poll->source(), "dataplane.poll", "'" + poll->get() + "': expected \"adaptive\" or \"busy\"");
    }
  }
  read_u32(check, *table, path, "burst", 1, dp::rx_port::max_burst, out.burst);
  read_u32(check, *table, path, "buffers", 1, dp::buffer_pool::max_count, out.buffers);
  read_u32(check, *table, path, "buffer_size", dp::buffer_pool::min_data_size, dp::buffer_pool::max_data_size,
           out.buffer_size);
  read_u32(check, *table, path, "max_frame", 64, 65507, out.max_frame);
  read_u32(check, *table, path, "socket_buffer", 4096, 1 << 30, out.socket_buffer);
  if (out.buffers < out.burst) {
    check.problem(table->source(), "dataplane.buffers",
                  std::to_string(out.buffers) + " buffers cannot hold a burst of " + std::to_string(out.burst) +
                      "; give at least as many buffers as the burst");
  }
  if (const toml::node* dpdk = table->get("dpdk")) {
    if (const toml::table* t = dpdk->as_table()) {
      read_dpdk(check, *t, out);
    } else {
      check.problem(dpdk->source(), "dataplane.dpdk", std::string("expected a table, found ") + type_name(*dpdk));
    }
  } else if (out.backend == dp::backend_choice::dpdk) {
    check.problem(table->source(), "dataplane.dpdk", "missing; backend = \"dpdk\" needs its EAL arguments and next-hop MAC");
  }
}

void read_routes(checker& check, const toml::table& root, config& out) {
  const toml::node* node = root.get("routes");
  if (node == nullptr) return;  // a router with no routes drops everything as no_route: allowed, if odd
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    check.problem(node->source(), "routes", "expected [[routes]] tables");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *array->get(i)->as_table();
    const std::string path = "routes[" + std::to_string(i) + "]";
    check.only_known(table, path, {"name", "kind", "source", "destination", "next_hop"});
    route_config route;
    if (const auto* name = field<std::string>(check, table, path, "name", "a string")) {
      if (name->get().empty()) {
        check.problem(name->source(), path + ".name", "must not be empty");
      } else if (!names.insert(name->get()).second) {
        check.problem(name->source(), path + ".name", "'" + name->get() + "' names another route too");
      }
      route.name = name->get();
    } else if (table.get("name") == nullptr) {
      check.problem(table.source(), path + ".name", "missing; every route needs a name for logs and ferryctl");
    }
    if (const auto* kind = field<std::string>(check, table, path, "kind", "a kind name or \"*\"")) {
      if (kind->get() != "*") {
        route.kind = verify::kind_from_string(kind->get());
        if (!route.kind) {
          check.problem(kind->source(), path + ".kind",
                        "unknown kind '" + kind->get() +
                            "'; expected wormhole, hyperlane, layerzero, opaque, quorum or \"*\"");
        }
      }
    } else if (table.get("kind") == nullptr) {
      check.problem(table.source(), path + ".kind", "missing; expected a kind name or \"*\"");
    }
    read_chain(check, table, path, "source", table.source(), route.source);
    read_chain(check, table, path, "destination", table.source(), route.destination);
    read_endpoint(check, table, path, "next_hop", true, table.source(), route.next_hop);
    out.routes.push_back(std::move(route));
  }
  for (std::size_t i = 0; i < out.routes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const route_config& a = out.routes[j];
      const route_config& b = out.routes[i];
      if (a.kind == b.kind && a.source == b.source && a.destination == b.destination) {
        check.problem(array->get(i)->source(), "routes[" + std::to_string(i) + "]",
                      "matches the same kind, source and destination as route '" + a.name +
                          "'; one of them could never be chosen");
      }
    }
  }
}

// Lowercase or mixed-case hex of exactly N bytes, "0x" first or not.
template <std::size_t N>
std::optional<std::array<std::byte, N>> parse_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.size() != 2 * N) return std::nullopt;
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < 2 * N; ++i) {
    const char c = text[i];
    int nibble = -1;
    if (c >= '0' && c <= '9') nibble = c - '0';
    if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    if (nibble < 0) return std::nullopt;
    out[i / 2] |= static_cast<std::byte>(i % 2 == 0 ? nibble << 4 : nibble);
  }
  return out;
}

// A required array of N-byte hex strings (addresses, keys).
template <std::size_t N>
std::vector<std::array<std::byte, N>> read_hex_list(checker& check, const toml::table& table, const std::string& path,
                                                    std::string_view name, const char* what) {
  std::vector<std::array<std::byte, N>> out;
  const std::string where = checker::join(path, name);
  const std::string expected = std::string("an array of ") + what + " (" + std::to_string(2 * N) + " hex digits)";
  const toml::node* node = table.get(name);
  if (node == nullptr) {
    check.problem(table.source(), where, "missing; expected " + expected);
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || array->empty()) {
    check.problem(node->source(), where, "expected " + expected + ", not empty");
    return out;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const auto* text = item.as_string();
    const auto parsed = text ? parse_hex<N>(text->get()) : std::nullopt;
    if (!parsed) {
      check.problem(item.source(), where + "[" + std::to_string(i) + "]", std::string("expected ") + what + " of " +
                                                                             std::to_string(2 * N) + " hex digits");
      continue;
    }
    out.push_back(*parsed);
  }
  return out;
}

// A required array of u32 chain identifiers.
std::vector<std::uint32_t> read_u32_list(checker& check, const toml::table& table, const std::string& path,
                                         std::string_view name) {
  std::vector<std::uint32_t> out;
  const std::string where = checker::join(path, name);
  const toml::node* node = table.get(name);
  const toml::array* array = node ? node->as_array() : nullptr;
  if (array == nullptr || array->empty()) {
    check.problem(node ? node->source() : table.source(), where,
                  node ? "expected a non-empty array of integers" : "missing; expected an array of integers");
    return out;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* number = array->get(i)->as_integer();
    if (number == nullptr || number->get() < 0 || number->get() > max_u32) {
      check.problem(array->get(i)->source(), where + "[" + std::to_string(i) + "]",
                    "expected an integer from 0 to 4294967295");
      continue;
    }
    out.push_back(static_cast<std::uint32_t>(number->get()));
  }
  return out;
}

std::uint8_t read_threshold(checker& check, const toml::table& table, const std::string& path, std::string_view name,
                            std::int64_t min) {
  std::uint32_t value = 0;
  if (table.get(name) == nullptr && min > 0) {
    check.problem(table.source(), checker::join(path, name), "missing; expected an integer from 1 to 255");
  }
  read_u32(check, table, path, name, min, 255, value);
  return static_cast<std::uint8_t>(value);
}

// Array-of-tables field `name`, each table handed to `each` with its path; nothing when absent.
template <class Each>
void for_each_table(checker& check, const toml::table& table, const std::string& path, std::string_view name,
                    Each each) {
  const toml::node* node = table.get(name);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  const std::string where = checker::join(path, name);
  if (array == nullptr || !array->is_array_of_tables()) {
    check.problem(node->source(), where, "expected [[" + where + "]] tables");
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    each(*array->get(i)->as_table(), where + "[" + std::to_string(i) + "]");
  }
}

// A registry refusing a set is the configuration's mistake: report it at the table that made the set.
void add_to(checker& check, const toml::table& table, const std::string& path, platform::result<void> added) {
  if (!added) check.problem(table.source(), path, added.err().message());
}

std::vector<verify::layerzero::dvn_config> read_dvns(checker& check, const toml::table& table, const std::string& path,
                                                     std::string_view name) {
  std::vector<verify::layerzero::dvn_config> out;
  for_each_table(check, table, path, name, [&](const toml::table& dvn, const std::string& at) {
    check.only_known(dvn, at, {"address", "signers", "quorum"});
    verify::layerzero::dvn_config one;
    if (const auto* address = field<std::string>(check, dvn, at, "address", "a 20-byte hex address")) {
      if (const auto parsed = parse_hex<20>(address->get())) {
        one.address = *parsed;
      } else {
        check.problem(address->source(), at + ".address", "expected a 20-byte address (40 hex digits)");
      }
    } else if (dvn.get("address") == nullptr) {
      check.problem(dvn.source(), at + ".address", "missing; expected the DVN's 20-byte address");
    }
    one.signers = read_hex_list<20>(check, dvn, at, "signers", "addresses");
    one.quorum = read_threshold(check, dvn, at, "quorum", 1);
    out.push_back(std::move(one));
  });
  return out;
}

void read_verify(checker& check, const toml::table& root, config& out) {
  const toml::node* node = root.get("verify");
  const toml::table* table = node ? node->as_table() : nullptr;
  if (node != nullptr && table == nullptr) {
    check.problem(node->source(), "verify", std::string("expected a table, found ") + type_name(*node));
  }
  if (table != nullptr) {
    const std::string path = "verify";
    check.only_known(*table, path, {"cache_entries", "wormhole_network", "hyperlane", "layerzero", "quorum"});
    std::uint32_t entries = static_cast<std::uint32_t>(out.verified_cache_entries);
    read_u32(check, *table, path, "cache_entries", 0, 1 << 24, entries);
    out.verified_cache_entries = entries;
    if (const auto* network = field<std::string>(check, *table, path, "wormhole_network", "a string")) {
      if (network->get() == "none") {
        out.wormhole_network.reset();
      } else if (const auto known = verify::wormhole::network_from_string(network->get())) {
        out.wormhole_network = *known;
      } else {
        check.problem(network->source(), "verify.wormhole_network",
                      "'" + network->get() + "': expected \"mainnet\", \"devnet\" or \"none\"");
      }
    }
    for_each_table(check, *table, path, "hyperlane", [&](const toml::table& set, const std::string& at) {
      check.only_known(set, at, {"origins", "ism", "validators", "threshold"});
      verify::hyperlane::validator_set validators;
      if (const auto* ism = field<std::string>(check, set, at, "ism", "a string")) {
        if (const auto type = verify::hyperlane::ism_type_from_string(ism->get())) {
          validators.ism = *type;
        } else {
          check.problem(ism->source(), at + ".ism",
                        "'" + ism->get() + "': expected \"message-id-multisig\" or \"merkle-root-multisig\"");
        }
      }
      validators.validators = read_hex_list<20>(check, set, at, "validators", "addresses");
      validators.threshold = read_threshold(check, set, at, "threshold", 1);
      for (const std::uint32_t origin : read_u32_list(check, set, at, "origins")) {
        validators.origin = origin;
        add_to(check, set, at, out.keys.hyperlane.add(validators));
      }
    });
    for_each_table(check, *table, path, "layerzero", [&](const toml::table& set, const std::string& at) {
      check.only_known(set, at, {"src_eids", "required_dvns", "optional_dvns", "optional_threshold"});
      verify::layerzero::path_config config;
      config.required = read_dvns(check, set, at, "required_dvns");
      config.optional = read_dvns(check, set, at, "optional_dvns");
      config.optional_threshold = read_threshold(check, set, at, "optional_threshold", 0);
      for (const std::uint32_t eid : read_u32_list(check, set, at, "src_eids")) {
        config.src_eid = eid;
        add_to(check, set, at, out.keys.layerzero.add(config));
      }
    });
    for_each_table(check, *table, path, "quorum", [&](const toml::table& set, const std::string& at) {
      check.only_known(set, at, {"key_set", "keys", "threshold"});
      verify::quorum::key_set keys;
      if (set.get("key_set") == nullptr) check.problem(set.source(), at + ".key_set", "missing; expected its id");
      read_u32(check, set, at, "key_set", 0, max_u32, keys.id);
      keys.keys = read_hex_list<32>(check, set, at, "keys", "Ed25519 public keys");
      keys.threshold = read_threshold(check, set, at, "threshold", 1);
      add_to(check, set, at, out.keys.quorum.add(std::move(keys)));
    });
  }
  if (out.wormhole_network) {
    // The built-in sets go first; a configuration adds none of its own yet (guardian sets from files: the key
    // management work).
    out.keys.wormhole = verify::wormhole::built_in_guardian_sets(*out.wormhole_network);
  }
}

}  // namespace

platform::result<config> parse_config(std::string_view text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream message;
    message << source_name << ':' << e.source().begin.line << ':' << e.source().begin.column
            << ": TOML syntax: " << e.description();
    return platform::error(message.str());
  }
  checker check(source_name);
  check.only_known(root, "", {"control", "dataplane", "routes", "verify"});
  config out;
  out.control_socket = "/run/ferry/ferryd.sock";
  read_control(check, root, out);
  read_dataplane(check, root, out);
  read_routes(check, root, out);
  read_verify(check, root, out);
  if (!check.ok()) return platform::error(check.report());
  return out;
}

platform::result<dp::stage_layout> resolve_layout(const config& cfg, std::span<const unsigned> allowed) {
  using cpu_mode = cpu_choice::mode;
  dp::stage_layout layout;
  if (cfg.layout.how == layout_choice::mode::automatic) {
    switch (cfg.cpu.how) {
      case cpu_mode::automatic: return dp::default_layout(allowed);
      case cpu_mode::fixed:
      case cpu_mode::list: return dp::default_layout(cfg.cpu.cpus);
      case cpu_mode::unpinned: {
        layout = dp::default_layout(allowed);
        for (auto& c : layout.cpus) c.reset();
        return layout;
      }
    }
  }
  if (cfg.layout.how == layout_choice::mode::staged) {
    layout.mode = dp::layout_mode::staged;
    layout.io = cfg.layout.io;
    layout.verify = cfg.layout.verify;
    layout.route = cfg.layout.route;
  }
  const std::uint32_t stages = layout.stage_count();
  switch (cfg.cpu.how) {
    case cpu_mode::automatic:  // run to completion on the last core; staged stages dealt round the cores
      for (std::uint32_t s = 0; s < stages; ++s) {
        layout.cpus.push_back(stages == 1 ? allowed.back() : allowed[s % allowed.size()]);
      }
      break;
    case cpu_mode::unpinned: layout.cpus.assign(stages, std::nullopt); break;
    case cpu_mode::fixed: layout.cpus.assign(stages, cfg.cpu.cpus[0]); break;
    case cpu_mode::list:
      if (cfg.cpu.cpus.size() != stages) {
        return platform::error("dataplane.cpu: " + std::to_string(cfg.cpu.cpus.size()) + " cores listed for " +
                               std::to_string(stages) + " stages (io, verify, route in that order)");
      }
      for (const unsigned c : cfg.cpu.cpus) layout.cpus.push_back(c);
      break;
  }
  return layout;
}

platform::result<config> load_config_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return platform::error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return platform::error(path + ": cannot read: " + std::strerror(errno));
  return parse_config(text.str(), path);
}

}  // namespace ferry::ctl

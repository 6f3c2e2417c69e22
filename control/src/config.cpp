#include "ferry/control/config.hpp"

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>
#include <tuple>

#include "ferry/control/key_file.hpp"
#include "ferry/platform/hex.hpp"

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
  std::size_t count() const noexcept { return _problems.size(); }

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
      for (const std::string_view k : known) {  // "window" for "window_ms": the unit left out
        if (nearest.empty() && k.size() > name.size() && k.starts_with(name) && k[name.size()] == '_') nearest = k;
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

// A user or group: a number, or a name this system knows (looked up now, so that --check-config finds a misspelt
// one on the machine that will run ferryd). section: the table's name, for messages.
void read_owner(checker& check, const toml::table& table, const std::string& section, std::string_view name,
                bool user, std::optional<std::string>& out) {
  const std::string where = checker::join(section, name);
  const char* expected = user ? "a user name or a numeric uid" : "a group name or a numeric gid";
  const toml::node* node = table.get(name);
  if (node == nullptr) return;
  if (const auto* number = node->as_integer()) {
    if (number->get() < 0 || number->get() >= max_u32) {  // (uid_t)-1 means "unchanged" to chown
      check.problem(node->source(), where, std::to_string(number->get()) + " is out of range; expected " + expected);
      return;
    }
    out = std::to_string(number->get());
    return;
  }
  const auto* value = field<std::string>(check, table, section, name, expected);
  if (value == nullptr) return;
  const std::string& text = value->get();
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 10 || std::stoull(text) >= static_cast<unsigned long long>(max_u32)) {
      check.problem(value->source(), where, "'" + text + "' is out of range; expected " + expected);
      return;
    }
    out = text;
    return;
  }
  const bool plausible = !text.empty() && text.size() <= 256 && text.front() != '-' &&
                         std::all_of(text.begin(), text.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '_' || c == '-' || c == '.' || c == '$';
                         });
  bool known = false;
  if (plausible) {
    std::vector<char> buffer(16384);
    if (user) {
      passwd entry{};
      passwd* found = nullptr;
      while (getpwnam_r(text.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
             buffer.size() < (1u << 20)) {
        buffer.resize(buffer.size() * 2);
      }
      known = found != nullptr;
    } else {
      group entry{};
      group* found = nullptr;
      while (getgrnam_r(text.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
             buffer.size() < (1u << 20)) {
        buffer.resize(buffer.size() * 2);
      }
      known = found != nullptr;
    }
  }
  if (!known) {
    check.problem(value->source(), where,
                  std::string("no ") + (user ? "user" : "group") + " '" + text + "' on this system; expected " +
                      expected);
    return;
  }
  out = text;
}

bool is_loopback(const dp::endpoint& e) noexcept {
  if (e.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(e.address());
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (e.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(e.address());
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

void read_control(checker& check, const toml::table& root, config& out) {
  const toml::node* node = root.get("control");
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    check.problem(node->source(), "control", std::string("expected a table, found ") + type_name(*node));
    return;
  }
  check.only_known(*table, "control", {"socket", "socket_owner", "socket_group", "metrics"});
  if (const auto* socket = field<std::string>(check, *table, "control", "socket", "a path")) {
    if (socket->get().empty() || socket->get().size() >= 108) {
      check.problem(socket->source(), "control.socket", "must be a path of 1 to 107 bytes (a Unix socket's limit)");
    } else {
      out.control.socket = socket->get();
    }
  }
  read_owner(check, *table, "control", "socket_owner", true, out.control.socket_owner);
  read_owner(check, *table, "control", "socket_group", false, out.control.socket_group);
  dp::endpoint metrics;
  read_endpoint(check, *table, "control", "metrics", false, table->source(), metrics);
  if (metrics.specified()) {
    const toml::node& at = *table->get("metrics");
    if (!is_loopback(metrics)) {
      check.problem(at.source(), "control.metrics",
                    "'" + metrics.to_string() +
                        "' is not a loopback address; /metrics is served on 127.0.0.0/8 or [::1] only (put a proxy "
                        "in front to publish it)");
    } else if (metrics.port() == 0) {
      check.problem(at.source(), "control.metrics", "port 0: give the port to serve /metrics on");
    } else {
      out.control.metrics = metrics;
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

// An optional table of the root; reports anything else under that name.
const toml::table* section(checker& check, const toml::table& root, const char* name) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  const toml::table* table = node->as_table();
  if (table == nullptr) check.problem(node->source(), name, std::string("expected a table, found ") + type_name(*node));
  return table;
}

void read_state(checker& check, const toml::table& root, config& out) {
  const toml::table* table = section(check, root, "state");
  if (table == nullptr) return;
  check.only_known(*table, "state", {"directory", "replay_channels", "sync_ms"});
  if (const auto* dir = field<std::string>(check, *table, "state", "directory", "an absolute path")) {
    if (!dir->get().starts_with('/') || dir->get().size() > 4000) {
      check.problem(dir->source(), "state.directory", "'" + dir->get() + "' is not an absolute path");
    } else {
      out.state.directory = dir->get();
    }
  }
  const std::size_t before = check.count();
  read_u32(check, *table, "state", "replay_channels", 64, 1 << 24, out.state.replay_channels);
  if (check.count() == before && (out.state.replay_channels & (out.state.replay_channels - 1)) != 0) {
    check.problem(table->get("replay_channels")->source(), "state.replay_channels",
                  std::to_string(out.state.replay_channels) + " is not a power of two");
  }
  read_u32(check, *table, "state", "sync_ms", 10, 3'600'000, out.state.sync_ms);
}

void read_process(checker& check, const toml::table& root, config& out) {
  const toml::table* table = section(check, root, "process");
  if (table == nullptr) return;
  check.only_known(*table, "process", {"user", "group"});
  read_owner(check, *table, "process", "user", true, out.process.user);
  read_owner(check, *table, "process", "group", false, out.process.group);
  if (out.process.group && !out.process.user) {
    check.problem(table->get("group")->source(), "process.group", "given without process.user; name the user too");
  }
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
    check.problem(hosts->source(), "dataplane.trusted_upstreams",
                  "no longer here: trust is per peer; give each upstream router a [[peers]] table with its addresses "
                  "and trust = \"verified-upstream\"");
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

// Lowercase or mixed-case hex of exactly N bytes, "0x" first or not.
template <std::size_t N>
std::optional<std::array<std::byte, N>> parse_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.size() != 2 * N) return std::nullopt;
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < 2 * N; ++i) {
    const int nibble = platform::hex_value(text[i]);
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

// A number written as an integer or with a fraction, as it reads in the file.
std::string number_text(const toml::node& node) {
  if (const auto* integer = node.as_integer()) return std::to_string(integer->get());
  std::ostringstream text;
  text << node.as_floating_point()->get();
  return text.str();
}

// An integer or a number with a fraction; reports any other type.
std::optional<double> read_number(checker& check, const toml::node& node, const std::string& where,
                                  const std::string& expected) {
  if (const auto* integer = node.as_integer()) return static_cast<double>(integer->get());
  if (const auto* fraction = node.as_floating_point()) return fraction->get();
  check.problem(node.source(), where, "expected " + expected + ", found " + type_name(node));
  return std::nullopt;
}

// `rate` and `burst` of a peer or a route: a token bucket, or nothing when neither is given.
void read_limit(checker& check, const toml::table& table, const std::string& path, std::optional<rate_limit>& out) {
  const toml::node* rate = table.get("rate");
  if (rate == nullptr) {
    if (const toml::node* burst = table.get("burst")) {
      check.problem(burst->source(), checker::join(path, "burst"), "applies with rate only: give the rate too");
    }
    return;
  }
  const std::string expected = "a number of messages a second, more than 0 and at most 1000000000";
  const auto value = read_number(check, *rate, checker::join(path, "rate"), expected);
  if (!value) return;
  if (!(std::isfinite(*value) && *value > 0 && *value <= 1e9)) {
    check.problem(rate->source(), checker::join(path, "rate"),
                  number_text(*rate) + " is out of range; expected " + expected);
    return;
  }
  rate_limit limit;
  limit.rate = *value;
  // A tenth of a second's worth, so that a short burst passes and a sustained excess does not.
  limit.burst = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::ceil(*value / 10)));
  read_u32(check, table, path, "burst", 1, max_u32, limit.burst);
  out = limit;
}

// Peers and groups are named by next hops: letters, digits, '-', '_' and '.', a letter first, so that a name
// never reads as an address or a sink.
bool is_name(std::string_view text) noexcept {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  return !text.empty() && text.size() <= 64 && letter(text.front()) &&
         std::all_of(text.begin(), text.end(), [&](char c) {
           return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
         });
}

// The required name of a peer or group (`what`); empty when missing, malformed or taken. A malformed name goes
// into `broken`, so that its uses are not reported again.
std::string read_name(checker& check, const toml::table& table, const std::string& path, const std::string& what,
                      std::set<std::string>& taken, std::set<std::string>& broken) {
  const auto* name = field<std::string>(check, table, path, "name", "a string");
  if (name == nullptr) {
    if (table.get("name") == nullptr) {
      check.problem(table.source(), path + ".name", "missing; every " + what + " needs a name");
    }
    return {};
  }
  const std::string& text = name->get();
  if (!is_name(text)) {
    check.problem(name->source(), path + ".name",
                  "'" + text + "': a name is 1 to 64 letters, digits, '-', '_' or '.', a letter first");
    broken.insert(text);
    return {};
  }
  if (!taken.insert(text).second) {
    check.problem(name->source(), path + ".name", "'" + text + "' names another " + what + " too");
    return {};
  }
  return text;
}

// A key file's path: absolute, so that what is read does not depend on where ferryd was started.
std::string read_key_path(checker& check, const toml::table& table, const std::string& path, std::string_view name) {
  const std::string where = checker::join(path, name);
  const auto* value = field<std::string>(check, table, path, name, "an absolute path");
  if (value == nullptr) {
    if (table.get(name) == nullptr) check.problem(table.source(), where, "missing; expected the key file's path");
    return {};
  }
  if (!value->get().starts_with('/')) {
    check.problem(value->source(), where, "'" + value->get() + "' is not an absolute path");
    return {};
  }
  return value->get();
}

// A peer's address: "address:port", "[IPv6]:port", or an address alone (port 0: any source port).
platform::result<dp::endpoint> parse_peer_address(const std::string& text) {
  const auto colons = std::count(text.begin(), text.end(), ':');
  if (text.starts_with('[') || colons == 1) return dp::endpoint::parse(text);
  auto parsed = dp::endpoint::parse(colons == 0 ? text + ":0" : "[" + text + "]:0");
  if (!parsed) {
    return platform::error("'" + text +
                           "' is not a numeric IPv4 or IPv6 address (host names are not resolved), "
                           "\"address:port\" or \"[IPv6]:port\"");
  }
  return parsed;
}

// Whether two peer addresses can be the same sender: the same host, and the same port or any port on either.
bool overlaps(const dp::endpoint& a, const dp::endpoint& b) noexcept {
  return a.same_host(b) && (a.port() == b.port() || a.port() == 0 || b.port() == 0);
}

void read_link_keys(checker& check, const toml::table& table, const std::string& path, peer_config& peer) {
  std::set<std::uint32_t> ids;
  for_each_table(check, table, path, "link_keys", [&](const toml::table& key, const std::string& at) {
    check.only_known(key, at, {"id", "file", "send_from", "mac"});
    link_key one;
    if (key.get("id") == nullptr) {
      check.problem(key.source(), at + ".id", "missing; expected an integer from 1 to 65535 (the key_id frames carry)");
    }
    const std::size_t before = check.count();
    read_u32(check, key, at, "id", 1, 65535, one.id);
    if (check.count() == before && key.get("id") != nullptr && !ids.insert(one.id).second) {
      check.problem(key.get("id")->source(), at + ".id",
                    std::to_string(one.id) + " is the id of another link key of this peer");
    }
    if (const auto* from = field<std::int64_t>(check, key, at, "send_from", "unix seconds (an integer)")) {
      if (from->get() < 0) {
        check.problem(from->source(), at + ".send_from", "must not be negative; expected unix seconds");
      } else {
        one.send_from = static_cast<std::uint64_t>(from->get());
      }
    }
    const std::string macs(dp::link_mac_names);
    if (const auto* mac = field<std::string>(check, key, at, "mac", macs.c_str())) {
      if (const auto named = dp::link_mac_named(mac->get())) {
        one.mac = *named;
      } else {
        check.problem(mac->source(), at + ".mac", "'" + mac->get() + "': expected " + macs);
      }
    }
    one.file = read_key_path(check, key, at, "file");
    if (!one.file.empty()) {
      auto secret = read_link_key(one.file, one.mac);
      if (secret) {
        one.secret = std::move(*secret);
      } else {
        check.problem(key.get("file")->source(), at + ".file", secret.err().message());
      }
    }
    peer.link_keys.push_back(std::move(one));
  });
}

void read_peers(checker& check, const toml::table& root, config& out, std::set<std::string>& broken) {
  std::set<std::string> names;
  for_each_table(check, root, "", "peers", [&](const toml::table& table, const std::string& path) {
    const std::size_t before = check.count();
    check.only_known(table, path, {"name", "addresses", "trust", "rate", "burst", "link_keys", "key_grace"});
    peer_config peer;
    peer.name = read_name(check, table, path, "peer", names, broken);
    const std::string where = path + ".addresses";
    const toml::node* addresses = table.get("addresses");
    const toml::array* list = addresses ? addresses->as_array() : nullptr;
    if (addresses == nullptr) {
      check.problem(table.source(), where,
                    "missing; expected a list of addresses the peer sends from (\"address:port\", or an address "
                    "alone for any port)");
    } else if (list == nullptr || list->empty()) {
      check.problem(addresses->source(), where,
                    std::string("expected a non-empty list of addresses, found ") +
                        (list ? "an empty list" : type_name(*addresses)));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::node& item = *list->get(i);
        const std::string at = where + "[" + std::to_string(i) + "]";
        const auto* text = item.as_string();
        if (text == nullptr) {
          check.problem(item.source(), at, std::string("expected an address, found ") + type_name(item));
          continue;
        }
        if (text->get() == "*") {
          if (list->size() != 1) {
            check.problem(item.source(), at, "\"*\" (every sender no other peer lists) must be the only address");
          }
          for (const peer_config& other : out.peers) {
            if (other.anyone) {
              check.problem(item.source(), at, "peer '" + other.name + "' is \"*\" already; only one peer can be");
            }
          }
          peer.anyone = true;
          continue;
        }
        auto parsed = parse_peer_address(text->get());
        if (!parsed) {
          check.problem(item.source(), at, parsed.err().message());
          continue;
        }
        std::string clash;
        for (const dp::endpoint& mine : peer.addresses) {
          if (overlaps(mine, *parsed)) clash = "'" + text->get() + "' overlaps an address listed before it";
        }
        for (const peer_config& other : out.peers) {
          for (const dp::endpoint& theirs : other.addresses) {
            if (clash.empty() && overlaps(theirs, *parsed)) {
              clash = "'" + text->get() + "' is also an address of peer '" + other.name +
                      "'; a sender must be one peer";
            }
          }
        }
        if (!clash.empty()) {
          check.problem(item.source(), at, clash);
          continue;
        }
        peer.addresses.push_back(*parsed);
      }
    }
    if (const auto* trust = field<std::string>(check, table, path, "trust", "a string")) {
      if (trust->get() == "verify") {
        peer.trust = trust_policy::verify;
      } else if (trust->get() == "verified-upstream") {
        peer.trust = trust_policy::verified_upstream;
      } else {
        check.problem(trust->source(), path + ".trust",
                      "'" + trust->get() + "': expected \"verify\" or \"verified-upstream\"");
      }
    }
    read_limit(check, table, path, peer.limit);
    read_link_keys(check, table, path, peer);
    read_u32(check, table, path, "key_grace", 0, 7 * 86400, peer.key_grace);
    if (peer.trust == trust_policy::verified_upstream && table.get("link_keys") == nullptr) {
      check.problem(table.get("trust")->source(), path + ".trust",
                    "\"verified-upstream\" needs [[peers.link_keys]]: the mark is honoured only on authenticated "
                    "links (a source address can be forged)");
    }
    if (check.count() != before && !peer.name.empty()) broken.insert(peer.name);
    out.peers.push_back(std::move(peer));
  });
}

// What next-hop text may name, beside addresses and sinks.
struct hop_names {
  const std::vector<peer_config>* peers = nullptr;
  const std::vector<hop_group_config>* groups = nullptr;
  std::set<std::string> group_names;  // every group declared, so that a group inside a group is told from a typo
  std::set<std::string> broken;       // peers and groups whose mistakes were reported: their uses are not
};

// What a next hop's text names: one hop, or a group (for routes).
struct hop_target {
  std::optional<hop_config> hop;
  const hop_group_config* group = nullptr;
};

// An error with an empty message: a name whose own mistakes were reported already.
platform::result<hop_target> resolve_hop(const std::string& text, const hop_names& names, bool in_group) {
  hop_config hop;
  hop.text = text;
  if (text.starts_with("unix:")) {
    const std::string path = text.substr(5);
    if (path.size() < 2 || path.front() != '/' || path.size() > 107 || path.find('\0') != std::string::npos) {
      return platform::error("'" + text + "': a local sink is \"unix:\" and an absolute path of at most 107 bytes");
    }
    hop.how = hop_config::type::unix_sink;
    hop.sink_path = path;
    return hop_target{hop, nullptr};
  }
  auto address = dp::endpoint::parse(text);
  if (address) {
    if (address->port() == 0) return platform::error("'" + text + "': port 0 is not a destination");
    hop.udp = *address;
    return hop_target{hop, nullptr};
  }
  if (names.broken.contains(text)) return platform::error(std::string());
  for (const peer_config& peer : *names.peers) {
    if (peer.name != text) continue;
    for (const dp::endpoint& a : peer.addresses) {
      if (a.port() != 0) {
        hop.udp = a;
        return hop_target{hop, nullptr};
      }
    }
    return platform::error("peer '" + text + "' has no address with a port to send to; give one of its addresses a port");
  }
  if (names.group_names.contains(text)) {
    if (in_group) return platform::error("'" + text + "' is a group, and groups do not nest: list its hops here");
    for (const hop_group_config& group : *names.groups) {
      if (group.name == text) return hop_target{std::nullopt, &group};
    }
    return platform::error(std::string());  // declared, but refused
  }
  std::string what = "unknown next hop '" + text + "': not an address, \"unix:/path\", peer or group";
  if (text.find(':') != std::string::npos) what += " (as an address: " + address.err().message() + ")";
  return platform::error(what);
}

bool same_hop(const hop_config& a, const hop_config& b) noexcept {
  return a.how == b.how && (a.how == hop_config::type::udp ? a.udp == b.udp : a.sink_path == b.sink_path);
}

void read_groups(checker& check, const toml::table& root, config& out, hop_names& names) {
  // Every group's name first, so that a group naming another one (before or after it) is told as such.
  if (const toml::array* array = root.get("next_hop_groups") ? root.get("next_hop_groups")->as_array() : nullptr) {
    for (const toml::node& group : *array) {
      const toml::table* table = group.as_table();
      const toml::node* name = table ? table->get("name") : nullptr;
      if (name != nullptr && name->is_string()) names.group_names.insert(name->as_string()->get());
    }
  }
  std::set<std::string> taken;
  for_each_table(check, root, "", "next_hop_groups", [&](const toml::table& table, const std::string& path) {
    const std::size_t before = check.count();
    check.only_known(table, path, {"name", "hops", "policy"});
    hop_group_config group;
    group.name = read_name(check, table, path, "group", taken, names.broken);
    for (const peer_config& peer : out.peers) {
      if (!group.name.empty() && peer.name == group.name) {
        check.problem(table.get("name")->source(), path + ".name",
                      "'" + group.name + "' names a peer too; a next hop must say which one it means");
      }
    }
    const std::string where = path + ".hops";
    const toml::node* hops = table.get("hops");
    const toml::array* list = hops ? hops->as_array() : nullptr;
    if (hops == nullptr) {
      check.problem(table.source(), where, "missing; expected a list of addresses, \"unix:/path\" sinks or peers");
    } else if (list == nullptr || list->empty()) {
      check.problem(hops->source(), where,
                    std::string("expected a non-empty list of addresses, \"unix:/path\" sinks or peers, found ") +
                        (list ? "an empty list" : type_name(*hops)));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::node& item = *list->get(i);
        const std::string at = where + "[" + std::to_string(i) + "]";
        const auto* text = item.as_string();
        if (text == nullptr) {
          check.problem(item.source(), at,
                        std::string("expected an address, \"unix:/path\" or a peer, found ") + type_name(item));
          continue;
        }
        auto target = resolve_hop(text->get(), names, true);
        if (!target) {
          if (!target.err().message().empty()) check.problem(item.source(), at, target.err().message());
          continue;
        }
        const hop_config& hop = *target->hop;
        const auto same = std::find_if(group.hops.begin(), group.hops.end(),
                                       [&](const hop_config& h) { return same_hop(h, hop); });
        if (same != group.hops.end()) {
          check.problem(item.source(), at, "'" + hop.text + "' is the same hop as '" + same->text + "' before it");
          continue;
        }
        group.hops.push_back(hop);
      }
    }
    if (const auto* policy = field<std::string>(check, table, path, "policy", "a string")) {
      if (policy->get() == "replicate") {
        group.policy = group_policy::replicate;
      } else if (policy->get() == "balance") {
        group.policy = group_policy::balance;
      } else {
        check.problem(policy->source(), path + ".policy",
                      "'" + policy->get() + "': expected \"replicate\" or \"balance\"");
      }
    }
    if (check.count() != before) {
      names.broken.insert(group.name);
    } else {
      out.groups.push_back(std::move(group));
    }
  });
}

void read_breaker(checker& check, const toml::table& route, const std::string& path,
                  std::optional<breaker_config>& out) {
  const toml::node* node = route.get("breaker");
  if (node == nullptr) return;
  const std::string at = path + ".breaker";
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    check.problem(node->source(), at, std::string("expected a table, found ") + type_name(*node));
    return;
  }
  check.only_known(*table, at, {"failure_ratio", "min_verified", "max_messages", "window_ms", "cooldown_ms"});
  breaker_config breaker;
  const toml::node* ratio = table->get("failure_ratio");
  if (ratio != nullptr) {
    const std::string expected = "a ratio of failed to verified messages, more than 0 and at most 1";
    if (const auto value = read_number(check, *ratio, at + ".failure_ratio", expected)) {
      if (*value > 0 && *value <= 1) {
        breaker.failure_ratio = *value;
      } else {
        check.problem(ratio->source(), at + ".failure_ratio",
                      number_text(*ratio) + " is out of range; expected " + expected);
      }
    }
  }
  if (const toml::node* min = table->get("min_verified"); min != nullptr && ratio == nullptr) {
    check.problem(min->source(), at + ".min_verified", "applies with failure_ratio only");
  }
  read_u32(check, *table, at, "min_verified", 1, max_u32, breaker.min_verified);
  const char* expected_max = "an integer from 1 to 9223372036854775807";
  if (const auto* max = field<std::int64_t>(check, *table, at, "max_messages", expected_max)) {
    if (max->get() < 1) {
      check.problem(max->source(), at + ".max_messages",
                    std::to_string(max->get()) + " is out of range; expected " + expected_max);
    } else {
      breaker.max_messages = static_cast<std::uint64_t>(max->get());
    }
  }
  read_u32(check, *table, at, "window_ms", 100, 3600000, breaker.window_ms);
  read_u32(check, *table, at, "cooldown_ms", 0, 86400000, breaker.cooldown_ms);
  if (ratio == nullptr && table->get("max_messages") == nullptr) {
    check.problem(table->source(), at,
                  "names no trigger: give failure_ratio, max_messages or both (a route without a breaker can "
                  "still be paused by hand)");
  }
  out = breaker;
}

// Whether two routes match exactly the same messages, so that one of them could never be chosen.
bool same_match(const route_config& a, const route_config& b) noexcept {
  return a.kind == b.kind && a.source == b.source && a.destination == b.destination && a.emitter == b.emitter;
}

// For each route that matches what an earlier one does, its index and the earlier one's (the first).
std::vector<std::pair<std::size_t, std::size_t>> same_matches(std::span<const route_config> routes) {
  using key = std::tuple<int, std::int64_t, std::int64_t, bool, std::array<std::byte, 32>>;
  std::map<key, std::size_t> first;
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const route_config& r = routes[i];
    const key k{r.kind ? static_cast<int>(*r.kind) : -1, r.source ? std::int64_t{*r.source} : -1,
                r.destination ? std::int64_t{*r.destination} : -1, r.emitter.has_value(),
                r.emitter.value_or(std::array<std::byte, 32>{})};
    const auto [at, inserted] = first.emplace(k, i);
    if (!inserted) out.emplace_back(i, at->second);
  }
  return out;
}

std::string same_match_problem(const route_config& earlier) {
  return "matches the same kind, source, destination and emitter as route '" + earlier.name +
         "'; one of them could never be chosen";
}

// One route's fields, in a file or from the control API. Its name must not be in `taken`, and goes into it.
void read_route(checker& check, const toml::table& table, const std::string& path, const hop_names& names,
                std::set<std::string>& taken, route_config& route) {
  check.only_known(table, path,
                   {"name", "kind", "source", "destination", "emitter", "action", "next_hop", "rate", "burst",
                    "breaker"});
  if (const auto* name = field<std::string>(check, table, path, "name", "a string")) {
    if (name->get().empty()) {
      check.problem(name->source(), path + ".name", "must not be empty");
    } else if (!taken.insert(name->get()).second) {
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
  if (const auto* emitter = field<std::string>(check, table, path, "emitter", "\"*\" or a 32-byte address")) {
    if (emitter->get() != "*") {
      route.emitter = parse_hex<32>(emitter->get());
      if (!route.emitter) {
        check.problem(emitter->source(), path + ".emitter",
                      "'" + emitter->get() +
                          "': expected \"*\" or a 32-byte address (64 hex digits; a 20-byte EVM address takes 24 "
                          "zeros before it)");
      } else if (route.kind == verify::message_kind::opaque || route.kind == verify::message_kind::quorum) {
        check.problem(emitter->source(), path + ".emitter",
                      "'" + std::string(verify::to_string(*route.kind)) +
                          "' messages have no emitter or sender to match; remove emitter");
      }
    }
  }
  if (const auto* action = field<std::string>(check, table, path, "action", "a string")) {
    if (action->get() == "forward") {
      route.action = route_action::forward;
    } else if (action->get() == "drop") {
      route.action = route_action::drop;
    } else {
      check.problem(action->source(), path + ".action", "'" + action->get() + "': expected \"forward\" or \"drop\"");
    }
  }
  const toml::node* next_hop = table.get("next_hop");
  const char* expected_hop = "an address, \"unix:/path\", a peer or a group";
  if (route.action == route_action::drop) {
    if (next_hop != nullptr) {
      check.problem(next_hop->source(), path + ".next_hop",
                    "a drop route sends nothing; remove next_hop, or make it action = \"forward\"");
    }
    for (const char* sends : {"rate", "burst", "breaker"}) {
      if (const toml::node* n = table.get(sends)) {
        check.problem(n->source(), checker::join(path, sends), "a drop route sends nothing to limit or break");
      }
    }
  } else if (next_hop == nullptr) {
    check.problem(table.source(), path + ".next_hop", std::string("missing; expected ") + expected_hop);
  } else if (const auto* text = next_hop->as_string()) {
    auto target = resolve_hop(text->get(), names, false);
    if (!target) {
      if (!target.err().message().empty()) check.problem(next_hop->source(), path + ".next_hop", target.err().message());
    } else if (target->group != nullptr) {
      route.hops = target->group->hops;
      route.policy = target->group->policy;
      route.group = target->group->name;
    } else {
      route.hops.push_back(*target->hop);
    }
  } else {
    check.problem(next_hop->source(), path + ".next_hop",
                  std::string("expected ") + expected_hop + ", found " + type_name(*next_hop));
  }
  if (route.action == route_action::forward) {
    read_limit(check, table, path, route.limit);
    read_breaker(check, table, path, route.breaker);
  }
}

void read_routes(checker& check, const toml::table& root, const hop_names& names, config& out) {
  const toml::node* node = root.get("routes");
  if (node == nullptr) return;  // a router with no routes drops everything as no_route: allowed, if odd
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    check.problem(node->source(), "routes", "expected [[routes]] tables");
    return;
  }
  std::set<std::string> taken;
  for (std::size_t i = 0; i < array->size(); ++i) {
    route_config route;
    read_route(check, *array->get(i)->as_table(), "routes[" + std::to_string(i) + "]", names, taken, route);
    out.routes.push_back(std::move(route));
  }
  for (const auto& [later, earlier] : same_matches(out.routes)) {
    check.problem(array->get(later)->source(), "routes[" + std::to_string(later) + "]",
                  same_match_problem(out.routes[earlier]));
  }
}

// A guardian set of [[verify.wormhole]], read before the built-in ones it joins.
struct configured_set {
  verify::wormhole::guardian_set set;
  std::string keys_file;
  const toml::table* table = nullptr;
  const toml::node* index = nullptr;
  std::string path;
};

void read_guardian_sets(checker& check, const toml::table& table, std::vector<configured_set>& out) {
  for_each_table(check, table, "verify", "wormhole", [&](const toml::table& set, const std::string& at) {
    const std::size_t before = check.count();
    check.only_known(set, at, {"index", "keys", "keys_file", "expiration_time"});
    configured_set one;
    one.table = &set;
    one.index = set.get("index");
    one.path = at;
    if (one.index == nullptr) check.problem(set.source(), at + ".index", "missing; expected the guardian set's index");
    read_u32(check, set, at, "index", 0, max_u32, one.set.index);
    const toml::node* keys = set.get("keys");
    const toml::node* file = set.get("keys_file");
    if (keys != nullptr && file != nullptr) {
      check.problem(file->source(), at + ".keys_file", "give keys or keys_file, not both");
    } else if (keys == nullptr && file == nullptr) {
      check.problem(set.source(), at + ".keys",
                    "missing; expected keys (a list of 20-byte addresses) or keys_file (a file of them)");
    } else if (keys != nullptr) {
      one.set.keys = read_hex_list<20>(check, set, at, "keys", "addresses");
    } else {
      one.keys_file = read_key_path(check, set, at, "keys_file");
      if (!one.keys_file.empty()) {
        auto read = read_guardian_keys(one.keys_file);
        if (read) {
          one.set.keys = std::move(*read);
        } else {
          check.problem(file->source(), at + ".keys_file", read.err().message());
        }
      }
    }
    const char* expected = "unix seconds, an integer from 0";
    if (const auto* expiration = field<std::int64_t>(check, set, at, "expiration_time", expected)) {
      if (expiration->get() < 0) {
        check.problem(expiration->source(), at + ".expiration_time",
                      std::to_string(expiration->get()) + " is out of range; expected " + expected);
      } else {
        one.set.expiration_time = static_cast<std::uint64_t>(expiration->get());
      }
    }
    if (check.count() == before) out.push_back(std::move(one));
  });
}

void read_verify(checker& check, const toml::table& root, config& out) {
  std::vector<configured_set> configured;
  const toml::node* node = root.get("verify");
  const toml::table* table = node ? node->as_table() : nullptr;
  if (node != nullptr && table == nullptr) {
    check.problem(node->source(), "verify", std::string("expected a table, found ") + type_name(*node));
  }
  if (table != nullptr) {
    const std::string path = "verify";
    check.only_known(*table, path,
                     {"cache_entries", "wormhole_network", "guardian_set_upgrades", "guardian_set_expiry", "wormhole",
                      "hyperlane", "layerzero", "quorum"});
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
    if (const auto* upgrades = field<bool>(check, *table, path, "guardian_set_upgrades", "true or false")) {
      out.guardian_set_upgrades = upgrades->get();
    }
    std::uint32_t expiry = static_cast<std::uint32_t>(out.guardian_set_expiry);
    read_u32(check, *table, path, "guardian_set_expiry", 1, 365 * 86400, expiry);
    out.guardian_set_expiry = expiry;
    read_guardian_sets(check, *table, configured);
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
  // The built-in sets go first, then those of [[verify.wormhole]]; the highest index is current.
  if (out.wormhole_network) out.keys.wormhole = verify::wormhole::built_in_guardian_sets(*out.wormhole_network);
  std::map<std::uint32_t, std::string> given;  // index -> the table that gave it
  for (configured_set& c : configured) {
    const std::uint32_t index = c.set.index;
    const toml::node& at = c.index != nullptr ? *c.index : static_cast<const toml::node&>(*c.table);
    if (out.keys.wormhole.find(index) != nullptr && !given.contains(index)) {
      check.problem(at.source(), c.path + ".index",
                    std::to_string(index) + " is a built-in guardian set of wormhole_network = \"" +
                        std::string(verify::wormhole::to_string(*out.wormhole_network)) +
                        "\"; give another index, or wormhole_network = \"none\" to list every set yourself");
      continue;
    }
    if (const auto other = given.find(index); other != given.end()) {
      check.problem(at.source(), c.path + ".index",
                    std::to_string(index) + " is the index of " + other->second + " too");
      continue;
    }
    given.emplace(index, c.path);
    const std::size_t before = check.count();
    add_to(check, *c.table, c.path, out.keys.wormhole.add(std::move(c.set)));
    if (check.count() == before && !c.keys_file.empty()) out.guardian_set_files.push_back({index, c.keys_file});
  }
  if (!out.keys.wormhole.sets().empty()) {
    std::uint32_t highest = 0;
    for (const auto& set : out.keys.wormhole.sets()) highest = std::max(highest, set.index);
    if (!out.keys.wormhole.set_current(highest).ok()) std::abort();  // the set was just found
  }
  if (out.guardian_set_upgrades && !out.keys.wormhole.current_index() && table->get("wormhole") == nullptr) {
    check.problem(table->get("guardian_set_upgrades")->source(), "verify.guardian_set_upgrades",
                  "no guardian set to upgrade from: wormhole_network = \"none\" and no [[verify.wormhole]] set");
  }
}

}  // namespace

namespace {

// The TOML document, or its syntax error in the words of every other problem.
platform::result<toml::table> parse_toml(std::string_view text, std::string_view source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream message;
    message << source_name << ':' << e.source().begin.line << ':' << e.source().begin.column
            << ": TOML syntax: " << e.description();
    return platform::error(message.str());
  }
}

}  // namespace

platform::result<config> parse_config(std::string_view text, std::string_view source_name) {
  auto parsed = parse_toml(text, source_name);
  if (!parsed) return std::move(parsed).err();
  const toml::table& root = *parsed;
  checker check(source_name);
  check.only_known(root, "",
                   {"control", "state", "process", "dataplane", "peers", "next_hop_groups", "routes", "verify"});
  config out;
  read_control(check, root, out);
  read_state(check, root, out);
  read_process(check, root, out);
  read_dataplane(check, root, out);
  hop_names names;
  read_peers(check, root, out, names.broken);
  names.peers = &out.peers;
  names.groups = &out.groups;
  read_groups(check, root, out, names);
  read_routes(check, root, names, out);
  read_verify(check, root, out);
  if (!check.ok()) return platform::error(check.report());
  return out;
}

platform::result<route_config> parse_route(std::string_view toml_text, std::string_view source_name,
                                           const config& running) {
  auto parsed = parse_toml(toml_text, source_name);
  if (!parsed) return std::move(parsed).err();
  const toml::table& root = *parsed;
  checker check(source_name);
  hop_names names;
  names.peers = &running.peers;
  names.groups = &running.groups;
  for (const hop_group_config& group : running.groups) names.group_names.insert(group.name);
  std::set<std::string> taken;
  for (const route_config& r : running.routes) taken.insert(r.name);
  route_config route;
  read_route(check, root, "route", names, taken, route);
  for (const route_config& r : running.routes) {
    if (same_match(r, route)) {
      check.problem(root.source(), "route", same_match_problem(r));
      break;
    }
  }
  if (!check.ok()) return platform::error(check.report());
  return route;
}

platform::result<void> check_routes(std::span<const route_config> routes) {
  std::string problems;
  const auto add = [&](const std::string& problem) { problems += (problems.empty() ? "" : "\n") + problem; };
  std::set<std::string_view> names;
  for (const route_config& r : routes) {
    if (!names.insert(r.name).second) add("route '" + r.name + "': another route has this name");
  }
  for (const auto& [later, earlier] : same_matches(routes)) {
    add("route '" + routes[later].name + "': " + same_match_problem(routes[earlier]));
  }
  if (!problems.empty()) return platform::error(problems);
  return {};
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

#include "ferry/control/control_socket.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>
#include <variant>
#include <vector>

#include "ferry/platform/hex.hpp"

namespace ferry::ctl {

namespace {

constexpr std::size_t max_head = 8192;
// The whole request, head and body, must arrive within this: one slow client holds the only server thread.
constexpr int request_timeout_ms = 2000;

using clock = std::chrono::steady_clock;

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

platform::result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return platform::error("control socket path '" + path + "' must be 1 to 107 bytes");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

int milliseconds_left(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Appends what the peer sends next; false at end of stream, on an error or past the deadline.
bool read_more(int fd, std::string& data, clock::time_point deadline) {
  char chunk[4096];
  for (;;) {
    const int left = milliseconds_left(deadline);
    if (left == 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data.append(chunk, static_cast<std::size_t>(got));
    return true;
  }
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t wrote = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(wrote));
  }
  return true;
}

// Reads one request within `deadline`; the answer to send instead when it cannot be served.
std::variant<http_request, http_response> read_request(int fd, clock::time_point deadline) {
  std::string data;
  while (data.find("\r\n\r\n") == std::string::npos) {
    if (data.size() > max_head) {
      return error_response(400, "the request head is longer than " + std::to_string(max_head) + " bytes");
    }
    if (!read_more(fd, data, deadline)) break;
  }
  auto head = parse_request_head(data);
  if (!head) return error_response(400, head.err().message());
  if (head->content_length > max_request_body) {
    return error_response(413, "the body is " + std::to_string(head->content_length) +
                                   " bytes; the control API takes at most " + std::to_string(max_request_body));
  }
  const std::size_t want = head->head_size + head->content_length;
  if (head->expect_continue && head->content_length > 0 && data.size() < want) {
    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  while (data.size() < want && read_more(fd, data, deadline)) {
  }
  if (data.size() < want) {
    return error_response(400, "the body ended after " + std::to_string(data.size() - head->head_size) + " of its " +
                                   std::to_string(head->content_length) +
                                   " bytes (Content-Length), or took longer than " +
                                   std::to_string(request_timeout_ms) + " ms");
  }
  http_request request = std::move(head->request);
  request.body = data.substr(head->head_size, head->content_length);
  return request;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A numeric id of at most 32 bits, or nothing.
std::optional<std::uint32_t> numeric_id(std::string_view text) {
  std::uint32_t id = 0;
  if (!all_digits(text)) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id == static_cast<std::uint32_t>(-1)) {
    return std::nullopt;
  }
  return id;
}

std::size_t lookup_buffer_size() {
  const long suggested = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  return suggested > 0 ? static_cast<std::size_t>(suggested) : 16384;
}

platform::result<uid_t> resolve_user(const std::string& name) {
  if (const auto id = numeric_id(name)) return static_cast<uid_t>(*id);
  std::vector<char> buffer(lookup_buffer_size());
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0) return platform::error("cannot look up user '" + name + "': " + std::strerror(rc));
    if (found == nullptr) return platform::error("no such user '" + name + "' (give a user name or a numeric uid)");
    return found->pw_uid;
  }
}

platform::result<gid_t> resolve_group(const std::string& name) {
  if (const auto id = numeric_id(name)) return static_cast<gid_t>(*id);
  std::vector<char> buffer(lookup_buffer_size());
  for (;;) {
    group entry{};
    group* found = nullptr;
    const int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0) return platform::error("cannot look up group '" + name + "': " + std::strerror(rc));
    if (found == nullptr) return platform::error("no such group '" + name + "' (give a group name or a numeric gid)");
    return found->gr_gid;
  }
}

// chown() with a message that says what was asked and, when refused, why it usually is.
platform::result<void> give_to(const std::string& file, const socket_access& access, uid_t owner, gid_t group) {
  if (!access.owner && !access.group) return {};
  if (::chown(file.c_str(), access.owner ? owner : static_cast<uid_t>(-1),
              access.group ? group : static_cast<gid_t>(-1)) == 0) {
    return {};
  }
  std::string whom;
  if (access.owner) whom += "user '" + *access.owner + "' (uid " + std::to_string(owner) + ")";
  if (access.group) {
    whom += (whom.empty() ? "" : " and ") + ("group '" + *access.group + "' (gid ") + std::to_string(group) + ")";
  }
  std::string message = system_error("cannot give " + file + " to " + whom);
  if (errno == EPERM) {
    message += " (giving a file to another user needs root or CAP_CHOWN; without them ferryd can only choose a "
               "group it is a member of)";
  }
  return platform::error(message);
}

// The supplementary groups of a connected Unix socket's peer, as the kernel recorded them at connect().
std::optional<std::vector<gid_t>> groups_from_socket([[maybe_unused]] int client) {
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(client, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
      groups.resize(length / sizeof(gid_t));
      return groups;
    }
    if (errno != ERANGE) break;  // an old kernel or an emulator: ENOPROTOOPT
    groups.resize(length / sizeof(gid_t) + 1);
  }
#endif
  return std::nullopt;
}

// The supplementary groups of process `pid` ("Groups:" in /proc/<pid>/status).
std::optional<std::vector<gid_t>> groups_from_proc(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (!line.starts_with("Groups:")) continue;
    std::vector<gid_t> groups;
    const char* at = line.c_str() + 7;
    const char* end = line.c_str() + line.size();
    while (at < end) {
      while (at < end && (*at == ' ' || *at == '\t')) ++at;
      std::uint32_t id = 0;
      const auto [next, ec] = std::from_chars(at, end, id);
      if (ec != std::errc()) break;
      groups.push_back(static_cast<gid_t>(id));
      at = next;
    }
    return groups;
  }
  return std::nullopt;
}

// The groups the user database gives `uid`: what its processes get at login, when nothing better is known.
std::vector<gid_t> groups_from_database(uid_t uid, gid_t gid) {
  std::vector<char> buffer(lookup_buffer_size());
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) return {};
  std::vector<gid_t> groups(64);
  int count = static_cast<int>(groups.size());
  if (::getgrouplist(found->pw_name, gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(found->pw_name, gid, groups.data(), &count) < 0) return {};
  }
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

bool is_loopback(const dp::endpoint& address) {
  // Copied out: a sockaddr need not be aligned for the family's own struct.
  if (address.family() == AF_INET && address.length() >= sizeof(sockaddr_in)) {
    sockaddr_in v4{};
    std::memcpy(&v4, address.address(), sizeof v4);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  if (address.family() == AF_INET6 && address.length() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address.address(), sizeof v6);
    return IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr) != 0;
  }
  return false;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Closes a descriptor, and removes a socket file, unless released.
class cleanup {
 public:
  explicit cleanup(int fd) : _fd(fd) {}
  cleanup(const cleanup&) = delete;
  cleanup& operator=(const cleanup&) = delete;
  ~cleanup() {
    if (_fd >= 0) ::close(_fd);
    if (!_file.empty()) ::unlink(_file.c_str());
  }
  void remove_file(std::string file) { _file = std::move(file); }
  int release() {
    _file.clear();
    return std::exchange(_fd, -1);
  }

 private:
  int _fd;
  std::string _file;
};

}  // namespace

http_response error_response(int status, std::string_view message) {
  // The message may quote what a client sent, which need not be UTF-8.
  return {status, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

platform::result<std::unique_ptr<control_server>> control_server::start_unix(const std::string& path,
                                                                               const socket_access& access,
                                                                               handler answer) {
  auto address = unix_address(path);
  if (!address) return std::move(address).err();
  const std::string where = "control socket " + path;

  uid_t owner = ::geteuid();
  gid_t group = ::getegid();
  if (access.owner) {
    auto user = resolve_user(*access.owner);
    if (!user) return std::move(user).context(where + ": owner");
    owner = *user;
  }
  if (access.group) {
    auto found = resolve_group(*access.group);
    if (!found) return std::move(found).context(where + ": group");
    group = *found;
  }

  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return platform::error(where + ": cannot create " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0750);
    if (auto given = give_to(parent.string(), access, owner, group); !given) {
      std::filesystem::remove(parent, ec);
      return std::move(given).context(where);
    }
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  cleanup guard(fd);
  const auto bind_to = [&] { return ::bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0; };
  bool bound = bind_to();
  if (!bound && errno == EADDRINUSE) {
    // Someone answering there is another ferryd; a file nobody answers on was left by one that died.
    if (control_request(path, "GET", "/status", {}, 500)) {
      return platform::error(where + ": another ferryd is already serving there");
    }
    ::unlink(path.c_str());
    bound = bind_to();
  }
  if (!bound) return platform::error(system_error(where + ": bind"));
  guard.remove_file(path);
  if (::chmod(path.c_str(), 0660) != 0) return platform::error(system_error(where + ": chmod 0660"));
  if (auto given = give_to(path, access, owner, group); !given) return std::move(given).context(where);
  struct stat file {};
  if (::stat(path.c_str(), &file) != 0) return platform::error(system_error(where + ": stat"));
  if (::listen(fd, 16) != 0) return platform::error(system_error(where + ": listen"));
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return platform::error(system_error(where + ": eventfd"));

  std::unique_ptr<control_server> server(new control_server(guard.release(), wake, std::move(answer)));
  server->_path = path;
  server->_check_peers = true;
  server->_owner = file.st_uid;
  server->_group = file.st_gid;
  server->_thread = std::thread([s = server.get()] { s->serve(); });
  return server;
}

platform::result<std::unique_ptr<control_server>> control_server::start_tcp(const dp::endpoint& loopback,
                                                                              handler answer) {
  const std::string where = "metrics listener " + loopback.to_string();
  if (!loopback.specified() || !is_loopback(loopback)) {
    return platform::error(where + ": not a loopback address; the listener has no authentication, so it serves "
                                   "only this host (127.0.0.0/8 or [::1])");
  }
  const int fd = ::socket(loopback.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  cleanup guard(fd);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, loopback.address(), loopback.length()) != 0) return platform::error(system_error(where + ": bind"));
  if (::listen(fd, 16) != 0) return platform::error(system_error(where + ": listen"));
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return platform::error(system_error(where + ": getsockname"));
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return platform::error(system_error(where + ": eventfd"));

  std::unique_ptr<control_server> server(new control_server(guard.release(), wake, std::move(answer)));
  server->_local = dp::endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), length);
  server->_thread = std::thread([s = server.get()] { s->serve(); });
  return server;
}

control_server::control_server(int listener, int wake, handler answer)
    : _listener(listener), _wake(wake), _answer(std::move(answer)) {}

control_server::~control_server() {
  const std::uint64_t one = 1;
  (void)!::write(_wake, &one, sizeof one);
  if (_thread.joinable()) _thread.join();
  ::close(_listener);
  ::close(_wake);
  if (!_path.empty()) ::unlink(_path.c_str());
}

std::optional<std::string> control_server::refuse_peer(int client) const {
  ucred peer{};
  socklen_t length = sizeof peer;
  if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
    return system_error("cannot tell who the client is (SO_PEERCRED)");
  }
  if (peer.uid == 0 || peer.uid == ::geteuid() || peer.uid == _owner || peer.gid == _group) return std::nullopt;
  std::optional<std::vector<gid_t>> groups = groups_from_socket(client);
  if (!groups) groups = groups_from_proc(peer.pid);
  if (!groups) groups = groups_from_database(peer.uid, peer.gid);
  if (std::find(groups->begin(), groups->end(), _group) != groups->end()) return std::nullopt;
  return "uid " + std::to_string(peer.uid) + " may not use ferryd's control socket: it is not root, ferryd's user " +
         "or the socket's owner (uid " + std::to_string(_owner) + "), and not in the socket's group (gid " +
         std::to_string(_group) + ")";
}

void control_server::serve() noexcept {
  for (;;) {
    pollfd watch[2] = {{_listener, POLLIN, 0}, {_wake, POLLIN, 0}};
    if (::poll(watch, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (watch[1].revents != 0) return;
    const int client = ::accept4(_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const auto deadline = clock::now() + std::chrono::milliseconds(request_timeout_ms);
    http_response response;
    try {
      const std::optional<std::string> refused = _check_peers ? refuse_peer(client) : std::nullopt;
      // Read even a refused request, so that the client is not cut off while sending it and sees the 403.
      auto request = read_request(client, deadline);
      if (refused) {
        response = error_response(403, *refused);
      } else if (auto* bad = std::get_if<http_response>(&request)) {
        response = std::move(*bad);
      } else {
        response = _answer(std::get<http_request>(request));
      }
    } catch (const std::exception&) {  // a handler bug must not take the control socket down
      response = error_response(500, "internal error");
    }
    if (response.body.empty() || response.body.back() != '\n') response.body += '\n';
    const std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) +
                              "\r\nContent-Type: " + response.content_type +
                              "\r\nContent-Length: " + std::to_string(response.body.size()) +
                              "\r\nConnection: close\r\n\r\n" + response.body;
    write_all(client, reply);
    ::close(client);
  }
}

std::optional<request_line> parse_request_line(std::string_view head) noexcept {
  const std::size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view line = head.substr(0, line_end);
  const std::size_t first_space = line.find(' ');
  if (first_space == 0 || first_space == std::string_view::npos) return std::nullopt;
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos || second_space == first_space + 1) return std::nullopt;
  if (!line.substr(second_space + 1).starts_with("HTTP/1.")) return std::nullopt;
  return request_line{line.substr(0, first_space), line.substr(first_space + 1, second_space - first_space - 1)};
}

platform::result<request_head> parse_request_head(std::string_view data) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return platform::error("expected an HTTP/1.1 request head ending with an empty line");
  }
  const std::optional<request_line> line = parse_request_line(data);
  if (!line) return platform::error("expected an HTTP/1.1 request line such as \"GET /status HTTP/1.1\"");
  if (!std::all_of(line->method.begin(), line->method.end(), is_token_char)) {
    return platform::error("the method is not an HTTP token");
  }
  if (!line->path.starts_with('/')) return platform::error("the request target must be a path starting with '/'");

  request_head head;
  head.head_size = end + 4;
  head.request.method = std::string(line->method);
  const std::size_t question = line->path.find('?');
  head.request.path = std::string(line->path.substr(0, question));
  if (question != std::string_view::npos) head.request.query = std::string(line->path.substr(question + 1));

  std::optional<std::size_t> content_length;
  std::string_view fields = data.substr(0, end + 2);
  fields.remove_prefix(fields.find("\r\n") + 2);
  while (!fields.empty()) {
    const std::size_t line_end = fields.find("\r\n");
    const std::string_view field = fields.substr(0, line_end);
    fields.remove_prefix(line_end + 2);
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::all_of(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(colon), is_token_char)) {
      return platform::error("malformed header line; expected \"Name: value\"");
    }
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim(field.substr(colon + 1));
    if (equals_ignoring_case(name, "Content-Length")) {
      std::size_t length = 0;
      const bool number = all_digits(value) && value.size() <= 18 &&
                          std::from_chars(value.data(), value.data() + value.size(), length).ec == std::errc();
      if (!number) return platform::error("Content-Length must be a decimal number of bytes");
      if (content_length && *content_length != length) return platform::error("two different Content-Lengths");
      content_length = length;
    } else if (equals_ignoring_case(name, "Transfer-Encoding")) {
      return platform::error("Transfer-Encoding is not supported; send the body with a Content-Length");
    } else if (equals_ignoring_case(name, "Expect")) {
      head.expect_continue = equals_ignoring_case(value, "100-continue");
    }
  }
  if (!content_length && data.size() > head.head_size) {
    return platform::error("a request with a body needs a Content-Length header");
  }
  head.content_length = content_length.value_or(0);
  return head;
}

platform::result<http_request> parse_request(std::string_view head_and_body) {
  auto head = parse_request_head(head_and_body);
  if (!head) return std::move(head).err();
  if (head_and_body.size() - head->head_size < head->content_length) {
    return platform::error("the body is shorter than its Content-Length");
  }
  http_request request = std::move(head->request);
  request.body = std::string(head_and_body.substr(head->head_size, head->content_length));
  return request;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = platform::hex_value(text[i + 1]);
    const int low = platform::hex_value(text[i + 2]);
    if (high < 0 || low < 0 || (high == 0 && low == 0)) return std::nullopt;
    out += static_cast<char>(high << 4 | low);
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~';
    if (plain) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += digits[byte >> 4];
      out += digits[byte & 15];
    }
  }
  return out;
}

platform::result<http_response> control_request(const std::string& socket_path, std::string_view method,
                                                 std::string_view path, std::string_view body, int timeout_ms) {
  auto address = unix_address(socket_path);
  if (!address) return std::move(address).err();
  const std::string where = "ferryd at " + socket_path;
  const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  cleanup guard(fd);
  // Bounds connect() (a full backlog) and send() (a server that stopped reading).
  const timeval limit{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    std::string message = system_error(where);
    if (errno == ENOENT || errno == ECONNREFUSED) message += " (is ferryd running?)";
    if (errno == EACCES) message += " (the socket is for root, ferryd's user and the members of its group)";
    return platform::error(message);
  }
  std::string request = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: ferryd\r\n";
  if (!body.empty() || (method != "GET" && method != "HEAD")) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "Connection: close\r\n\r\n";
  request += body;
  if (!write_all(fd, request)) return platform::error(system_error(where + ": send"));

  std::string reply;
  while (reply.size() <= (16u << 20)) {
    if (!read_more(fd, reply, deadline)) {
      if (milliseconds_left(deadline) == 0) {
        return platform::error(where + ": no answer within " + std::to_string(timeout_ms) + " ms");
      }
      break;
    }
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const std::size_t head_end = reply.find("\r\n\r\n");
  int status = 0;
  const bool http = reply.starts_with("HTTP/1.") && reply.size() >= 12 && head_end != std::string::npos &&
                    std::from_chars(reply.data() + 9, reply.data() + 12, status).ec == std::errc() && status >= 100;
  if (!http) return platform::error(where + ": the answer is not HTTP");
  http_response response;
  response.status = status;
  response.body = reply.substr(head_end + 4);
  return response;
}

}  // namespace ferry::ctl

#include "ferry/control/control_socket.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace ferry::ctl {

namespace {

constexpr std::size_t max_request = 8192;

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
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Error";
  }
}

// Reads until the end of the request head, the peer closes, `limit` bytes, or the deadline.
std::string read_head(int fd, std::size_t limit, int timeout_ms) {
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char chunk[1024];
  while (data.size() < limit && data.find("\r\n\r\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got <= 0) break;
    data.append(chunk, static_cast<std::size_t>(got));
  }
  return data;
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

}  // namespace

platform::result<std::unique_ptr<control_server>> control_server::start(const std::string& path, handler answer) {
  auto address = unix_address(path);
  if (!address) return std::move(address).err();
  const std::string where = "control socket " + path;

  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return platform::error(where + ": cannot create " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0750);
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  const auto bind_to = [&] { return ::bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0; };
  bool bound = bind_to();
  if (!bound && errno == EADDRINUSE) {
    // Someone answering there is another ferryd; a file nobody answers on was left by one that died.
    if (control_request(path, "GET", "/status", 500)) {
      ::close(fd);
      return platform::error(where + ": another ferryd is already serving there");
    }
    ::unlink(path.c_str());
    bound = bind_to();
  }
  if (!bound) {
    const std::string message = system_error(where + ": bind");
    ::close(fd);
    return platform::error(message);
  }
  if (::chmod(path.c_str(), 0660) != 0 || ::listen(fd, 16) != 0) {
    const std::string message = system_error(where);
    ::close(fd);
    ::unlink(path.c_str());
    return platform::error(message);
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const std::string message = system_error(where + ": eventfd");
    ::close(fd);
    ::unlink(path.c_str());
    return platform::error(message);
  }
  std::unique_ptr<control_server> server(new control_server(path, fd, wake, std::move(answer)));
  server->_thread = std::thread([s = server.get()] { s->serve(); });
  return server;
}

control_server::control_server(std::string path, int listener, int wake, handler answer)
    : _path(std::move(path)), _listener(listener), _wake(wake), _answer(std::move(answer)) {}

control_server::~control_server() {
  const std::uint64_t one = 1;
  (void)!::write(_wake, &one, sizeof one);
  if (_thread.joinable()) _thread.join();
  ::close(_listener);
  ::close(_wake);
  ::unlink(_path.c_str());
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
    const std::string head = read_head(client, max_request, 1000);
    http_response response;
    const std::optional<request_line> request = parse_request_line(head);
    if (!request) {
      response = {400, R"({"error":"expected an HTTP/1.1 request line"})"};
    } else {
      try {
        response = _answer(request->method, request->path);
      } catch (const std::exception&) {  // a handler bug must not take the control socket down
        response = {500, std::string(R"({"error":"internal error"})")};
      }
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) +
                              "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(response.body.size() + 1) + "\r\nConnection: close\r\n\r\n" +
                              response.body + "\n";
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

platform::result<http_response> control_request(const std::string& socket_path, std::string_view method,
                                                 std::string_view path, int timeout_ms) {
  auto address = unix_address(socket_path);
  if (!address) return std::move(address).err();
  const std::string where = "ferryd at " + socket_path;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return platform::error(system_error(where + ": socket"));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    const std::string message =
        system_error(where) + (errno == ENOENT || errno == ECONNREFUSED ? " (is ferryd running?)" : "");
    ::close(fd);
    return platform::error(message);
  }
  const std::string request =
      std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: ferryd\r\nConnection: close\r\n\r\n";
  if (!write_all(fd, request)) {
    const std::string message = system_error(where + ": send");
    ::close(fd);
    return platform::error(message);
  }
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char chunk[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::close(fd);
      return platform::error(where + ": no answer within " + std::to_string(timeout_ms) + " ms");
    }
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    reply.append(chunk, static_cast<std::size_t>(got));
    if (reply.size() > (16u << 20)) break;
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const std::size_t head_end = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || reply.size() < 12) {
    return platform::error(where + ": the answer is not HTTP");
  }
  http_response response;
  response.status = std::atoi(reply.c_str() + 9);
  response.body = reply.substr(head_end + 4);
  return response;
}

}  // namespace ferry::ctl

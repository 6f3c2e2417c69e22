#pragma once
// The control API's transport: HTTP/1.1 with JSON bodies, served on ferryd's Unix socket (ferryctl is its client)
// and, for Prometheus, on a loopback TCP port. One request per connection, answered in full from the server's own
// thread; the server never touches the data plane but through what its handler reads.

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "ferry/dataplane/endpoint.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

struct http_request {
  std::string method;  // as sent ("GET", "POST", ...)
  std::string path;    // the target up to '?', still percent-encoded ("/routes/eth%2Fsol/pause")
  std::string query;   // after '?', without it; empty when there is none
  std::string body;    // Content-Length bytes; empty when the request has none
};

struct http_response {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise; the server ends it with '\n' when it does not
  std::string content_type = "application/json";
};

// {"error": "<message>"} with `status`: how every part of the API refuses a request.
http_response error_response(int status, std::string_view message);

// Largest request body the server reads; a longer one is refused with 413.
inline constexpr std::size_t max_request_body = 64 * 1024;

// Who may use the Unix socket besides root and ferryd's own user: each is a name or a numeric id.
struct socket_access {
  std::optional<std::string> owner;  // user; nothing: ferryd's effective user
  std::optional<std::string> group;  // group; nothing: ferryd's effective group
};

class control_server {
 public:
  // Answers one request. Called on the server's thread; an exception becomes a 500.
  using handler = std::function<http_response(const http_request&)>;

  // Binds the Unix socket `path` and starts answering. The file gets mode 0660 and, when `access` names them, the
  // owner and group (a user other than ferryd's own needs root or CAP_CHOWN); a missing directory is created 0750
  // with the same owner and group, so that the group can reach the socket. Every client is checked again with
  // SO_PEERCRED: one that is not root, ferryd's user or the socket's owner and not in the socket's group gets 403.
  // Refuses when another process is serving at `path`; replaces a stale socket file left by one that died.
  static platform::result<std::unique_ptr<control_server>> start_unix(const std::string& path,
                                                                        const socket_access& access, handler answer);

  // Listens on `loopback` (an address in 127.0.0.0/8 or ::1; anything else is refused, as the API has no
  // authentication but the host's) for Prometheus' scrapes. Port 0 takes one the kernel picks: see local().
  static platform::result<std::unique_ptr<control_server>> start_tcp(const dp::endpoint& loopback, handler answer);

  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;
  // Stops answering and closes; a Unix socket's file is removed.
  ~control_server();

  // The TCP endpoint bound (with the kernel's port when 0 was asked for); unspecified for a Unix socket.
  const dp::endpoint& local() const noexcept { return _local; }
  // The Unix socket's path; empty for TCP.
  const std::string& path() const noexcept { return _path; }

 private:
  control_server(int listener, int wake, handler answer);
  void serve() noexcept;
  // Whether a Unix socket client may be answered; when not, why (for its 403).
  std::optional<std::string> refuse_peer(int client) const;

  std::string _path;
  dp::endpoint _local;
  bool _check_peers = false;
  uid_t _owner = 0;  // the socket file's owner and group, as set
  gid_t _group = 0;
  int _listener;
  int _wake;  // eventfd that ends serve()
  handler _answer;
  std::thread _thread;
};

struct request_line {
  std::string_view method;
  std::string_view path;
};

// Reads the request line at the start of an HTTP/1.x request head ("GET /stats HTTP/1.1\r\n..."); nothing when
// the head does not start with one. The views point into `head`. `path` is the whole target, query included.
std::optional<request_line> parse_request_line(std::string_view head) noexcept;

// A request head as the server reads it: its line, split, and the length of the body that follows.
struct request_head {
  http_request request;  // body empty
  std::size_t head_size = 0;       // bytes up to and including the blank line that ends the head
  std::size_t content_length = 0;  // 0 without a Content-Length
  bool expect_continue = false;    // "Expect: 100-continue": the client waits for a 100 before sending its body
};

// Parses the head at the start of `data` (which may go on with the body). Fails with a message fit for a 400
// when the head is incomplete or not HTTP/1.x, when a header line is malformed, when Content-Length is not one
// decimal number, when Transfer-Encoding is used, or when bytes follow the head without a Content-Length.
// Does not limit content_length: the caller compares it with max_request_body.
platform::result<request_head> parse_request_head(std::string_view data);

// A whole request, head and body (bytes past Content-Length are ignored); fails as parse_request_head() does, or
// when the body is shorter than its Content-Length.
platform::result<http_request> parse_request(std::string_view head_and_body);

// Decodes %XX escapes (for route names in paths; '+' stays '+'). Nothing when an escape is malformed or decodes
// to a NUL byte.
std::optional<std::string> percent_decode(std::string_view text);
// Escapes every byte but letters, digits and "-._~", so that `text` is one path segment.
std::string percent_encode(std::string_view text);

// Sends one request to the server at `socket_path` (with `body` as Content-Length bytes when not empty) and returns
// its response. Fails with the reason when the server cannot be reached or answers something that is not HTTP;
// waits at most timeout_ms in all.
platform::result<http_response> control_request(const std::string& socket_path, std::string_view method,
                                                 std::string_view path, std::string_view body = {},
                                                 int timeout_ms = 5000);

}  // namespace ferry::ctl

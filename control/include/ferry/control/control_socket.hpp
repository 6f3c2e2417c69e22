#pragma once
// The control API: HTTP/1.1 with JSON bodies over ferryd's Unix socket (ferryctl is its client). One request per
// connection; the server answers from its own thread and never touches the data plane but through its counters.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "ferry/platform/result.hpp"

namespace ferry::ctl {

struct http_response {
  int status = 200;
  std::string body;  // JSON
};

class control_server {
 public:
  // Answers a request's method and path (e.g. "GET", "/stats"). Called on the server's thread.
  using handler = std::function<http_response(std::string_view method, std::string_view path)>;

  // Binds `path` (mode 0660, its directory created if missing) and starts answering. Refuses when another
  // process is serving there; replaces a stale socket file left by one that died.
  static platform::result<std::unique_ptr<control_server>> start(const std::string& path, handler answer);

  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;
  // Stops answering, closes and removes the socket file.
  ~control_server();

 private:
  control_server(std::string path, int listener, int wake, handler answer);
  void serve() noexcept;

  std::string _path;
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
// the head does not start with one. The views point into `head`.
std::optional<request_line> parse_request_line(std::string_view head) noexcept;

// Sends one request to the server at `socket_path` and returns its response. Fails with the reason when the
// server cannot be reached or answers something that is not HTTP; waits at most timeout_ms.
platform::result<http_response> control_request(const std::string& socket_path, std::string_view method,
                                                 std::string_view path, int timeout_ms = 5000);

}  // namespace ferry::ctl

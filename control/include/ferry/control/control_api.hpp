#pragma once
// The control API's endpoints (docs/control-api.md): what ferryd answers on its control socket, read from and
// applied to a running router. Bodies are JSON; errors are {"error": "..."} with 400 (bad input, in the words of
// the configuration checks), 404 (no such path or route), 405 (a method the path does not take) or 409 (a route
// name that is taken).

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "ferry/control/control_socket.hpp"
#include "ferry/control/router.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// One endpoint, as a request names it.
struct api_call {
  enum class endpoint : std::uint8_t {
    status,        // GET /status
    stats,         // GET /stats
    list_routes,   // GET /routes
    add_route,     // POST /routes
    delete_route,  // DELETE /routes/NAME
    pause_route,   // POST /routes/NAME/pause
    resume_route,  // POST /routes/NAME/resume
    peers,         // GET /peers
    keys,          // GET /keys
    rotate_keys,   // POST /keys/rotate
    reload,        // POST /reload
  };
  endpoint what = endpoint::status;
  std::string route;  // NAME, percent-decoded, for the endpoints that take one
};

// The endpoint `request` names, or the answer that refuses it: 404 for an unknown path, 405 for a method its path
// does not take, 400 for a route name with a malformed escape. Looks at the method and path only.
std::variant<api_call, http_response> resolve_call(const http_request& request);

// The bodies of GET /routes, /peers and /keys ({"routes": [...]}, {"peers": [...]}, {...}; docs/control-api.md).
// Match fields are shown as written, "*" for a wildcard; no secret is ever part of them.
std::string routes_json(const std::vector<route_report>& routes);
std::string peers_json(const std::vector<peer_report>& peers);
std::string keys_json(const key_report& keys);

class control_api {
 public:
  // Re-reads ferryd's configuration and applies it with router::reload(); fails with what `ferryd --check-config`
  // prints for the file, or with why the router refused it.
  using reloader = std::function<platform::result<void>()>;

  // `r` must outlive the API.
  control_api(router& r, reloader reload);

  // Answers one request: control_server's handler. Safe on any thread the router's calls are.
  http_response answer(const http_request& request);

 private:
  http_response status() const;
  http_response add_route(const http_request& request);

  router& _router;
  reloader _reload;
};

}  // namespace ferry::ctl

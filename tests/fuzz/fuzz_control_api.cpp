// libFuzzer target over the control API in front of a running router. An input is a request as the control socket
// receives it; when ctl::parse_request() takes it, ctl::control_api answers it against one real router started in
// LLVMFuzzerInitialize (socket backend on loopback, run to completion, unpinned; two opaque routes, one to a UDP
// hop and one to a local sink; one peer with a link key file; a guardian set from a key file), so that every change
// the API makes is built, published and reclaimed as under ferryd. Properties, besides ASan's and UBSan's:
// - the status is one the API gives (200, 201, 400, 404, 405, 409: the reloader exists, so never 503) and every
//   body is a JSON object; a refusal's is {"error": "<message>"}, its message not empty;
// - a refused request changes no route; 201 (POST /routes only) adds exactly the route it names; 200 to DELETE
//   removes exactly the route named in the path, to POST /reload restores the starting routes, and to anything
//   else leaves the routes as they were;
// - afterwards the router still answers GET /status with 200, counting the running configuration's routes.
// The routes inputs add stay bounded: past 64 routes, and every 1000 requests answered, the starting configuration
// is reloaded.

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/control/control_api.hpp"
#include "ferry/control/control_socket.hpp"
#include "ferry/control/router.hpp"
#include "support/fuzz.hpp"

using ferry::testing::require;

namespace {

constexpr std::size_t max_routes = 64;
constexpr std::uint64_t reload_every = 1000;

// The router and its API, for the whole run. Stopped at exit, so that no stage thread runs on while static objects
// are destroyed and the leak check looks at the heap.
struct fixture {
  std::string dir;
  std::string config_text;
  std::vector<std::string> first_routes;
  std::unique_ptr<ferry::ctl::router> router;
  std::unique_ptr<ferry::ctl::control_api> api;
  std::uint64_t inputs = 0;
};

fixture* running = nullptr;

[[noreturn]] void fail_setup(const std::string& what) {
  std::fprintf(stderr, "fuzz_control_api: %s\n", what.c_str());
  std::exit(1);
}

ferry::ctl::config parse(const std::string& text) {
  auto cfg = ferry::ctl::parse_config(text, "fuzz_control_api.toml");
  if (!cfg) fail_setup(cfg.err().message());
  return std::move(*cfg);
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  if (::chmod(path.c_str(), mode) != 0) fail_setup("cannot chmod " + path);
}

std::string config_text(const std::string& dir) {
  return "[control]\nsocket = \"" + dir + "/ferryd.sock\"\n"
         "[dataplane]\nbackend = \"socket\"\nlisten = \"127.0.0.1:0\"\nlayout = \"run-to-completion\"\n"
         "cpu = \"none\"\nbuffers = 64\nring_size = 64\nsocket_buffer = 65536\n"
         "[[peers]]\nname = \"upstream-a\"\naddresses = [\"127.0.0.2:7700\"]\ntrust = \"verify\"\nrate = 1000\n"
         "[[peers.link_keys]]\nid = 1\nfile = \"" + dir + "/upstream-a-1.key\"\n"
         "[[routes]]\nname = \"opaque-out\"\nkind = \"opaque\"\nsource = 1\ndestination = \"*\"\n"
         "next_hop = \"127.0.0.1:9\"\n"
         "[[routes]]\nname = \"opaque-local\"\nkind = \"opaque\"\nsource = 2\ndestination = \"*\"\n"
         "next_hop = \"unix:" + dir + "/sink.sock\"\n"
         "[verify]\nwormhole_network = \"none\"\n"
         "[[verify.wormhole]]\nindex = 0\nkeys_file = \"" + dir + "/guardians.txt\"\n";
}

void stop_router() {
  if (running == nullptr) return;
  running->api.reset();
  if (running->router) running->router->stop();
  running->router.reset();
  std::error_code ignored;
  std::filesystem::remove_all(running->dir, ignored);
  delete running;
  running = nullptr;
}

std::vector<std::string> route_names() {
  std::vector<std::string> names;
  for (const auto& route : running->router->running_config().routes) names.push_back(route.name);
  return names;
}

void reload_first() {
  auto reloaded = running->router->reload(parse(running->config_text));
  require(reloaded.ok(), "the starting configuration does not reload");
}

// The body as JSON, or a discarded value when it is not JSON.
nlohmann::json body_of(const ferry::ctl::http_response& response) {
  return nlohmann::json::parse(response.body, nullptr, false);
}

bool known_status(int status) {
  switch (status) {
    case 200:
    case 201:
    case 400:
    case 404:
    case 405:
    case 409: return true;
    default: return false;
  }
}

void check_routes_after(const ferry::ctl::http_request& request, const ferry::ctl::http_response& response,
                        const std::vector<std::string>& before) {
  using endpoint = ferry::ctl::api_call::endpoint;
  const std::vector<std::string> after = route_names();
  if (response.status != 200 && response.status != 201) {
    require(after == before, "a refused request changed the routes");
    return;
  }
  const auto resolved = ferry::ctl::resolve_call(request);
  require(std::holds_alternative<ferry::ctl::api_call>(resolved), "2xx to a request that resolve_call refuses");
  const ferry::ctl::api_call& call = std::get<ferry::ctl::api_call>(resolved);
  require((response.status == 201) == (call.what == endpoint::add_route), "201 for anything but an added route");
  std::vector<std::string> expected = before;
  if (call.what == endpoint::add_route) {
    const nlohmann::json body = body_of(response);
    require(body.contains("added") && body["added"].is_string(), "201 without the added route's name");
    expected.push_back(body["added"].get<std::string>());
  } else if (call.what == endpoint::delete_route) {
    std::erase(expected, call.route);
    require(expected.size() + 1 == before.size(), "200 to DELETE of a route that was not there");
  } else if (call.what == endpoint::reload) {
    expected = running->first_routes;
  }
  require(after == expected, "the routes after a change are not what the answer says");
}

void check_status() {
  ferry::ctl::http_request status;
  status.method = "GET";
  status.path = "/status";
  const ferry::ctl::http_response response = running->api->answer(status);
  require(response.status == 200, "GET /status does not answer 200");
  const nlohmann::json body = body_of(response);
  require(body.is_object() && body.contains("routes") && body["routes"].is_number_unsigned(),
          "GET /status without its route count");
  require(body["routes"].get<std::size_t>() == running->router->running_config().routes.size(),
          "GET /status counts other routes than the running configuration's");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char dir[] = "/tmp/ferry-fuzz-control-api-XXXXXX";
  if (::mkdtemp(dir) == nullptr) fail_setup("cannot make a temporary directory");
  running = new fixture;
  running->dir = dir;
  write_file(running->dir + "/upstream-a-1.key", "# upstream-a, key 1\n0x" + std::string(64, 'a') + "\n", 0600);
  write_file(running->dir + "/guardians.txt", "0x" + std::string(40, 'b') + "\n" + std::string(40, 'C') + "\n",
             0644);
  running->config_text = config_text(running->dir);
  const ferry::ctl::config first = parse(running->config_text);
  for (const auto& route : first.routes) running->first_routes.push_back(route.name);
  auto started = ferry::ctl::router::start(first);
  if (!started) fail_setup(started.err().message());
  running->router = std::move(*started);
  running->api = std::make_unique<ferry::ctl::control_api>(
      *running->router, [] { return running->router->reload(parse(running->config_text)); });
  std::atexit(stop_router);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto request = ferry::ctl::parse_request({reinterpret_cast<const char*>(data), size});
  if (!request) return 0;
  const std::vector<std::string> before = route_names();
  const ferry::ctl::http_response response = running->api->answer(*request);
  require(known_status(response.status), "a status the control API does not give");
  require(response.content_type == "application/json", "an answer that is not JSON by its type");
  const nlohmann::json body = body_of(response);
  require(body.is_object(), "a body that is not a JSON object");
  if (response.status >= 300) {
    require(body.size() == 1 && body.contains("error") && body["error"].is_string() &&
                !body["error"].get<std::string>().empty(),
            "a refusal that is not {\"error\": \"<message>\"}");
  }
  check_routes_after(*request, response, before);
  check_status();
  if (++running->inputs % reload_every == 0 || running->router->running_config().routes.size() > max_routes) {
    reload_first();
  }
  return 0;
}

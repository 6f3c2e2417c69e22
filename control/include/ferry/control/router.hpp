#pragma once
// A running router: the data plane built from a configuration (socket, buffer pool, routes, pipeline thread).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/route_table.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// The routes of a configuration in the data plane's form: rules pointing at a list of distinct next hops.
struct routing {
  dp::route_table table;
  std::vector<dp::endpoint> hops;
  std::vector<std::string> names;  // route names, indexed like the table's rules
};

platform::result<routing> build_routing(const std::vector<route_config>& routes);

class router {
 public:
  // Opens the listening socket, maps the buffer pool and starts the pipeline thread, pinned and named "ferry-rtc".
  // Returns once the router is receiving. The error says which step failed and why.
  static platform::result<std::unique_ptr<router>> start(const config& cfg);

  router(const router&) = delete;
  router& operator=(const router&) = delete;
  ~router();

  // Stops the pipeline thread (within about 50 ms) and waits for it. Safe to call more than once.
  void stop() noexcept;

  dp::counter_values counters() const noexcept { return _counters.read(); }
  const dp::endpoint& listening() const noexcept { return _listening; }
  std::optional<unsigned> pinned_cpu() const noexcept { return _pinned_cpu; }
  std::size_t route_count() const noexcept { return _routing.names.size(); }
  std::size_t hop_count() const noexcept { return _routing.hops.size(); }
  bool huge_pages() const noexcept { return _pool.huge_pages(); }
  double uptime_seconds() const noexcept;

 private:
  router(const config& cfg, routing routes, dp::udp_socket socket, dp::placed<dp::buffer_pool> pool);

  config _config;
  routing _routing;
  dp::udp_socket _socket;
  dp::placed<dp::buffer_pool> _pool;
  dp::endpoint _listening;
  dp::stage_counters _counters;
  std::optional<unsigned> _pinned_cpu;
  std::atomic<bool> _stop{false};
  std::thread _thread;
  std::chrono::steady_clock::time_point _started;
};

}  // namespace ferry::ctl

#pragma once
// A running router: the data plane built from a configuration (backend, routes, stages and their threads).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/control/stats.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/route_table.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/dataplane/stage_graph.hpp"
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
  // Opens the backend (with its fallbacks), maps the pools and rings and starts the stage threads, each pinned as
  // the layout says. Returns once the router is receiving. The error says which step failed and why.
  static platform::result<std::unique_ptr<router>> start(const config& cfg);

  router(const router&) = delete;
  router& operator=(const router&) = delete;
  ~router();

  // Stops receiving, lets what is in flight finish, and stops the threads. Safe to call more than once.
  void stop() noexcept;

  // The whole path's counters, and each stage's.
  dp::counter_values counters() const noexcept { return _graph->totals(); }
  router_stats stats() const;
  const dp::stage_graph& stages() const noexcept { return *_graph; }
  dp::backend_kind backend() const noexcept { return _backend->kind(); }
  // What the backend's fallbacks said at start-up (empty when the backend asked for opened).
  const std::vector<std::string>& backend_notes() const noexcept { return _notes; }
  dp::endpoint listening() const noexcept { return _backend->local(); }
  std::size_t route_count() const noexcept { return _routing.names.size(); }
  std::size_t hop_count() const noexcept { return _routing.hops.size(); }
  bool huge_pages() const noexcept { return _graph->huge_pages(); }
  double uptime_seconds() const noexcept;

 private:
  router(const config& cfg, routing routes);

  config _config;
  routing _routing;
  dp::trusted_upstreams _trusted;
  std::vector<std::string> _notes;
  std::unique_ptr<dp::io_backend> _backend;
  std::unique_ptr<dp::stage_graph> _graph;
  std::chrono::steady_clock::time_point _started;
};

}  // namespace ferry::ctl

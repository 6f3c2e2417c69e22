#include "ferry/control/router.hpp"

#include <memory>

#include "ferry/platform/thread.hpp"

namespace ferry::ctl {

platform::result<routing> build_routing(const std::vector<route_config>& routes) {
  routing out;
  std::vector<dp::route_rule> rules;
  for (const route_config& r : routes) {
    std::uint32_t hop = 0;
    while (hop < out.hops.size() && !(out.hops[hop] == r.next_hop)) ++hop;
    if (hop == out.hops.size()) out.hops.push_back(r.next_hop);
    rules.push_back({r.kind, r.source, r.destination, hop});
    out.names.push_back(r.name);
  }
  auto table = dp::route_table::build(std::move(rules), static_cast<std::uint32_t>(out.hops.size()));
  if (!table) return std::move(table).context("routes");
  out.table = std::move(*table);
  return out;
}

router::router(const config& cfg, routing routes)
    : _config(cfg), _routing(std::move(routes)), _trusted(cfg.trusted_upstreams),
      _started(std::chrono::steady_clock::now()) {}

platform::result<std::unique_ptr<router>> router::start(const config& cfg) {
  auto routes = build_routing(cfg.routes);
  if (!routes) return std::move(routes).err();
  auto layout = resolve_layout(cfg, platform::allowed_cpus());
  if (!layout) return std::move(layout).err();
  std::unique_ptr<router> r(new router(cfg, std::move(*routes)));

  dp::backend_options backend;
  backend.choice = cfg.backend;
  backend.listen = cfg.listen;
  backend.socket_buffer = cfg.socket_buffer;
  const bool staged = layout->mode == dp::layout_mode::staged;
  backend.rx_ports = staged ? layout->io : 1;
  backend.tx_ports = staged ? layout->route : 1;
  backend.max_datagram = cfg.buffer_size;
  backend.dpdk = cfg.dpdk;
  auto opened = dp::open_backend(backend, r->_notes);
  if (!opened) return std::move(opened).context("data plane");
  r->_backend = std::move(*opened);

  dp::graph_options options;
  options.layout = std::move(*layout);
  options.pipeline = {cfg.burst, cfg.max_frame, cfg.verified_cache_entries};
  options.mode = cfg.poll;
  options.ring_size = cfg.ring_size;
  options.buffers = cfg.buffers;
  options.buffer_size = cfg.buffer_size;
  auto graph = dp::stage_graph::start(options, *r->_backend, r->_routing.table, r->_routing.hops, r->_config.keys,
                                      r->_trusted);
  if (!graph) return std::move(graph).context("data plane");
  r->_graph = std::move(*graph);
  return r;
}

router_stats router::stats() const {
  router_stats out{_graph->totals(), {}};
  for (std::size_t s = 0; s < _graph->stage_count(); ++s) {
    out.stages.push_back({_graph->info(s).name, _graph->info(s).cpu, _graph->counters(s)});
  }
  return out;
}

router::~router() { stop(); }

void router::stop() noexcept {
  if (_graph) _graph->stop();
}

double router::uptime_seconds() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - _started).count();
}

}  // namespace ferry::ctl

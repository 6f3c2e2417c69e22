#include "ferry/control/router.hpp"

#include <cstdio>
#include <future>
#include <memory>

#include "ferry/dataplane/pipeline.hpp"
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

router::router(const config& cfg, routing routes, dp::udp_socket socket, dp::placed<dp::buffer_pool> pool)
    : _config(cfg), _routing(std::move(routes)), _socket(std::move(socket)), _pool(std::move(pool)),
      _listening(_socket.local()), _started(std::chrono::steady_clock::now()) {}

platform::result<std::unique_ptr<router>> router::start(const config& cfg) {
  auto routes = build_routing(cfg.routes);
  if (!routes) return std::move(routes).err();
  auto socket = dp::udp_socket::open({cfg.listen, true, cfg.socket_buffer});
  if (!socket) return std::move(socket).context("data plane");
  auto pool = dp::placed<dp::buffer_pool>::create("buffer pool", platform::page_size::try_huge, cfg.buffers,
                                                  cfg.buffer_size);
  if (!pool) return std::move(pool).context("data plane");

  std::unique_ptr<router> r(new router(cfg, std::move(*routes), std::move(*socket), std::move(*pool)));
  std::optional<unsigned> cpu;
  if (cfg.cpu.how == cpu_choice::mode::fixed) cpu = cfg.cpu.cpu;
  if (cfg.cpu.how == cpu_choice::mode::automatic) cpu = platform::allowed_cpus().back();

  // The thread places itself, then reports; a failure to pin is the configuration's fault and stops start-up.
  auto thread_ready = std::make_shared<std::promise<platform::result<void>>>();
  auto ready = thread_ready->get_future();
  const dp::pipeline_options options{cfg.burst, cfg.max_frame, cfg.poll, 1024, cfg.verified_cache_entries};
  router* self = r.get();
  r->_thread = std::thread([self, options, cpu, thread_ready] {
    if (cpu) {
      if (auto pinned = platform::pin_current_thread(*cpu); !pinned) {
        thread_ready->set_value(std::move(pinned).context("data plane"));
        return;
      }
    }
    (void)platform::name_current_thread("ferry-rtc");  // cosmetic: a failure costs only the name
    dp::pipeline pipe(options, self->_socket, *self->_pool, self->_routing.table, self->_routing.hops,
                      self->_config.keys, self->_counters);
    thread_ready->set_value({});
    pipe.run(self->_stop);
  });
  auto outcome = ready.get();
  if (!outcome) {
    r->_thread.join();
    return std::move(outcome).err();
  }
  r->_pinned_cpu = cpu;
  return r;
}

router::~router() { stop(); }

void router::stop() noexcept {
  _stop.store(true, std::memory_order_relaxed);
  if (_thread.joinable()) _thread.join();
}

double router::uptime_seconds() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - _started).count();
}

}  // namespace ferry::ctl

#include "ferry/dataplane/stage_graph.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>

#include "ferry/dataplane/io_stage.hpp"
#include "ferry/dataplane/route_stage.hpp"
#include "ferry/dataplane/verify_stage.hpp"
#include "ferry/platform/clock.hpp"
#include "ferry/platform/cpu.hpp"
#include "ferry/platform/thread.hpp"

namespace ferry::dp {

namespace {

// An idle thread whose one stage receives sleeps in its port's wait, which a datagram ends at once; a thread with
// stages fed by rings sleeps in short naps instead, so that work arriving on a ring waits at most about this long.
constexpr auto idle_nap = std::chrono::microseconds(50);
constexpr int idle_wait_ms = 50;

// A thread's loop. After each round of polls it holds no policy snapshot (every stage loads it afresh at the
// start of a poll): a quiescent point. Asleep, it is offline, so that a publishing writer need not wait for it.
void run_thread(std::vector<stage*> stages, rx_port* wakes_on, poll_mode mode, std::uint32_t idle_polls,
                const std::atomic<bool>& stop, qsbr& readers, std::uint32_t reader) noexcept {
  readers.online(reader);
  std::uint32_t idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    std::uint32_t work = 0;
    for (stage* s : stages) work += s->poll_once();
    readers.quiescent(reader);
    if (work != 0) {
      idle = 0;
      continue;
    }
    if (mode == poll_mode::adaptive && ++idle >= idle_polls) {
      readers.offline(reader);
      if (wakes_on != nullptr) {
        wakes_on->wait(idle_wait_ms);
      } else {
        std::this_thread::sleep_for(idle_nap);
      }
      readers.online(reader);
      // Still idle: the next empty poll sleeps again. Only work starts a new run of polls; starting one after
      // every nap kept an idle thread spinning for most of each 50 us.
      idle = idle_polls;
    } else {
      platform::cpu_relax();
    }
  }
  readers.offline(reader);
}

std::string thread_name(const std::vector<std::size_t>& members, const std::vector<stage_info>& info,
                        std::optional<unsigned> cpu) {
  std::string name = "ferry";
  for (const std::size_t m : members) name += (name == "ferry" ? "-" : "+") + info[m].name;
  if (name.size() <= 15) return name;
  return cpu ? "ferry-cpu" + std::to_string(*cpu) : "ferry-stages";
}

}  // namespace

std::uint32_t buffers_held_downstream(const stage_layout& layout, std::uint32_t ring_size, std::uint32_t burst) {
  if (layout.mode != layout_mode::staged) return 0;
  const std::uint64_t v = layout.verify, r = layout.route, ring = ring_size, b = burst;
  const std::uint64_t held = v * ring + v * r * ring + v * (layout.io + 1) * b + r * 2 * b;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(held, buffer_pool::max_count));
}

stage_layout default_layout(std::span<const unsigned> cpus) {
  stage_layout layout;
  const auto n = static_cast<std::uint32_t>(cpus.size());
  if (n <= 1) {
    layout.mode = layout_mode::run_to_completion;
    layout.cpus = {cpus.empty() ? std::nullopt : std::optional<unsigned>(cpus.back())};
    return layout;
  }
  layout.mode = layout_mode::staged;
  layout.io = 1;
  layout.route = 1;
  if (n < 4) {
    layout.verify = n - 1;
    layout.cpus.push_back(cpus[0]);                                  // io
    for (std::uint32_t i = 1; i < n; ++i) layout.cpus.push_back(cpus[i]);  // verify
    layout.cpus.push_back(cpus[0]);                                  // route, beside io
  } else {
    layout.verify = n - 2;
    layout.cpus.push_back(cpus[0]);
    for (std::uint32_t i = 2; i < n; ++i) layout.cpus.push_back(cpus[i]);
    layout.cpus.push_back(cpus[1]);
  }
  return layout;
}

platform::result<std::unique_ptr<stage_graph>> stage_graph::start(const graph_options& options,
                                                                  io_backend& backend, policy_store& policies,
                                                                  control_events* events) {
  std::unique_ptr<stage_graph> g(new stage_graph());
  const stage_layout& layout = options.layout;
  g->_layout = layout;
  g->_policies = &policies;
  const std::uint32_t stages = layout.stage_count();
  if (!layout.cpus.empty() && layout.cpus.size() != stages) {
    return platform::error("layout: " + std::to_string(layout.cpus.size()) + " cores given for " +
                           std::to_string(stages) + " stages");
  }
  if (policies.readers().readers() < stages) {
    return platform::error("data plane: the policy store has " + std::to_string(policies.readers().readers()) +
                           " reader slots for " + std::to_string(stages) + " stages");
  }
  // Latency is measured in cycle-clock ticks (the receive stamp) and reported in nanoseconds.
  const double ns_per_tick = platform::tick_rate::calibrate().to_ns(1'000'000) / 1e6;
  const auto cpu_of = [&](std::size_t s) { return layout.cpus.empty() ? std::nullopt : layout.cpus[s]; };
  for (std::uint32_t s = 0; s < stages; ++s) g->_counters.push_back(std::make_unique<stage_counters>());
  g->_inputs.resize(stages);
  const std::uint32_t io_count = layout.mode == layout_mode::staged ? layout.io : 1;
  const std::uint32_t pool_size = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{options.buffers} +
                                  buffers_held_downstream(layout, options.ring_size, options.pipeline.burst),
                              buffer_pool::max_count));
  for (std::uint32_t i = 0; i < io_count; ++i) {
    auto pool = placed<buffer_pool>::create("buffer pool", platform::page_size::try_huge, pool_size,
                                            options.buffer_size);
    if (!pool) return std::move(pool).err();
    g->_pools.push_back(std::move(*pool));
  }

  if (layout.mode == layout_mode::run_to_completion) {
    g->_info.push_back({"rtc", cpu_of(0)});
    g->_stages.push_back(std::make_unique<pipeline>(options.pipeline, backend.rx(0), backend.tx(0), *g->_pools[0],
                                                    policies, 0, events, ns_per_tick, *g->_counters[0]));
  } else {
    if (layout.io == 0 || layout.verify == 0 || layout.route == 0 || layout.io > 64 || layout.verify > 64 ||
        layout.route > 64) {
      return platform::error("layout: a staged layout needs 1 to 64 stages of each kind");
    }
    const auto make_desc_ring = [&]() -> platform::result<spsc_ring<message_desc>*> {
      auto ring = placed<spsc_ring<message_desc>>::create("stage ring", platform::page_size::normal,
                                                          options.ring_size);
      if (!ring) return std::move(ring).err();
      g->_desc_rings.push_back(std::move(*ring));
      return g->_desc_rings.back().get();
    };
    // io_to_verify[i][j], verify_to_route[j][k], route_to_io[k][i]
    std::vector<std::vector<spsc_ring<message_desc>*>> io_to_verify(layout.io), verify_to_route(layout.verify);
    std::vector<std::vector<spsc_ring<packet_buffer*>*>> route_to_io(layout.route);
    for (auto& row : io_to_verify) {
      for (std::uint32_t j = 0; j < layout.verify; ++j) {
        auto r = make_desc_ring();
        if (!r) return std::move(r).err();
        row.push_back(*r);
      }
    }
    for (auto& row : verify_to_route) {
      for (std::uint32_t k = 0; k < layout.route; ++k) {
        auto r = make_desc_ring();
        if (!r) return std::move(r).err();
        row.push_back(*r);
      }
    }
    // A return ring holds every buffer of a pool, so that a route stage never finds it full.
    std::uint32_t return_size = 2;
    while (return_size < pool_size) return_size *= 2;
    for (auto& row : route_to_io) {
      for (std::uint32_t i = 0; i < layout.io; ++i) {
        auto ring = placed<spsc_ring<packet_buffer*>>::create("return ring", platform::page_size::normal,
                                                              return_size);
        if (!ring) return std::move(ring).err();
        g->_return_rings.push_back(std::move(*ring));
        row.push_back(g->_return_rings.back().get());
      }
    }
    std::size_t s = 0;
    for (std::uint32_t i = 0; i < layout.io; ++i, ++s) {
      std::vector<spsc_ring<packet_buffer*>*> returns;
      for (std::uint32_t k = 0; k < layout.route; ++k) returns.push_back(route_to_io[k][i]);
      g->_info.push_back({"io" + std::to_string(i), cpu_of(s)});
      g->_stages.push_back(std::make_unique<io_stage>(static_cast<std::uint8_t>(i), options.pipeline.burst,
                                                      backend.rx(i), *g->_pools[i], io_to_verify[i],
                                                      std::move(returns), policies, static_cast<std::uint32_t>(s),
                                                      *g->_counters[s], g->_receiving));
    }
    for (std::uint32_t j = 0; j < layout.verify; ++j, ++s) {
      std::vector<spsc_ring<message_desc>*> inputs;
      for (std::uint32_t i = 0; i < layout.io; ++i) inputs.push_back(io_to_verify[i][j]);
      g->_inputs[s].assign(inputs.begin(), inputs.end());
      g->_info.push_back({"verify" + std::to_string(j), cpu_of(s)});
      g->_stages.push_back(std::make_unique<verify_stage>(options.pipeline.burst, std::move(inputs),
                                                          verify_to_route[j], policies,
                                                          static_cast<std::uint32_t>(s), events,
                                                          options.pipeline.verified_cache_entries,
                                                          *g->_counters[s]));
    }
    for (std::uint32_t k = 0; k < layout.route; ++k, ++s) {
      std::vector<spsc_ring<message_desc>*> inputs;
      for (std::uint32_t j = 0; j < layout.verify; ++j) inputs.push_back(verify_to_route[j][k]);
      g->_inputs[s].assign(inputs.begin(), inputs.end());
      g->_info.push_back({"route" + std::to_string(k), cpu_of(s)});
      g->_stages.push_back(std::make_unique<route_stage>(options.pipeline.burst, std::move(inputs), route_to_io[k],
                                                         backend.tx(k), policies, static_cast<std::uint32_t>(s),
                                                         ns_per_tick, options.pipeline.max_frame_bytes,
                                                         *g->_counters[s]));
    }
  }

  // Threads: one per core named by the layout (its stages in order), one per unpinned stage.
  std::map<unsigned, std::vector<std::size_t>> by_cpu;
  std::vector<std::pair<std::optional<unsigned>, std::vector<std::size_t>>> groups;
  for (std::size_t s = 0; s < g->_stages.size(); ++s) {
    if (const auto cpu = g->_info[s].cpu) {
      by_cpu[*cpu].push_back(s);
    } else {
      groups.push_back({std::nullopt, {s}});
    }
  }
  for (auto& [cpu, members] : by_cpu) groups.push_back({cpu, members});

  for (auto& [cpu, members] : groups) {
    std::vector<stage*> polled;
    for (const std::size_t m : members) polled.push_back(g->_stages[m].get());
    rx_port* const wakes_on = members.size() == 1 ? polled[0]->receives_from() : nullptr;
    const std::string name = thread_name(members, g->_info, cpu);
    const std::optional<unsigned> pin = cpu;  // a copy: clang 14 cannot capture a structured binding
    auto ready = std::make_shared<std::promise<platform::result<void>>>();
    auto reported = ready->get_future();
    const auto reader = static_cast<std::uint32_t>(g->_threads.size());
    g->_threads.emplace_back([polled, wakes_on, pin, name, ready, &options, stop = &g->_stop, &policies, reader] {
      if (pin) {
        if (auto pinned = platform::pin_current_thread(*pin); !pinned) {
          ready->set_value(std::move(pinned).context("data plane"));
          return;
        }
      }
      (void)platform::name_current_thread(name);  // cosmetic: a failure costs only the name
      const poll_mode mode = options.mode;
      const std::uint32_t idle_polls = options.idle_polls_before_sleep;
      ready->set_value({});
      run_thread(polled, wakes_on, mode, idle_polls, *stop, policies.readers(), reader);
    });
    auto outcome = reported.get();
    if (!outcome) {
      g->stop();
      return std::move(outcome).err();
    }
  }
  return g;
}

std::uint64_t stage_graph::ring_waiting(std::size_t stage) const noexcept {
  std::uint64_t waiting = 0;
  for (const spsc_ring<message_desc>* ring : _inputs[stage]) waiting += ring->size();
  return waiting;
}

bool stage_graph::rings_empty() const noexcept {
  for (const auto& r : _desc_rings) {
    if (r->size() != 0) return false;
  }
  return true;
}

void stage_graph::stop() noexcept {
  if (!_stop.load(std::memory_order_relaxed) && !_threads.empty()) {
    _receiving.store(false, std::memory_order_relaxed);
    // Drained when the rings have stayed empty for a few looks in a row (a verify stage holding descriptors back
    // has a full ring ahead of it, so it cannot look empty for long).
    int empty_looks = 0;
    for (int i = 0; i < 100 && empty_looks < 3; ++i) {
      empty_looks = rings_empty() ? empty_looks + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  _stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : _threads) {
    if (t.joinable()) t.join();
  }
}

stage_graph::~stage_graph() { stop(); }

counter_values stage_graph::totals() const noexcept {
  counter_values total;
  for (std::size_t s = 0; s < _stages.size(); ++s) {
    const counter_values c = _counters[s]->read();
    const bool receives = _info[s].name == "rtc" || _info[s].name.starts_with("io");
    const bool sends = _info[s].name == "rtc" || _info[s].name.starts_with("route");
    if (receives) {
      total.rx += c.rx;
      total.rx_datagrams += c.rx_datagrams;
      total.rx_bytes += c.rx_bytes;
      total.rx_lost += c.rx_lost;
      total.rx_ignored += c.rx_ignored;
    }
    if (sends) {
      total.forwarded += c.forwarded;
      total.tx_datagrams += c.tx_datagrams;
      total.tx_bytes += c.tx_bytes;
      total.copies += c.copies;
      total.copy_errors += c.copy_errors;
      for (std::size_t b = 0; b < latency_bucket_count; ++b) total.latency[b] += c.latency[b];
      total.latency_sum_ns += c.latency_sum_ns;
    }
    for (std::size_t k = 0; k < c.verdicts.size(); ++k) {
      for (std::size_t v = 0; v < c.verdicts[k].size(); ++v) total.verdicts[k][v] += c.verdicts[k][v];
    }
    for (std::size_t r = 0; r < drop_reason_count; ++r) total.drops[r] += c.drops[r];
    total.busy_polls += c.busy_polls;
    total.idle_polls += c.idle_polls;
    total.ring_high_water = std::max(total.ring_high_water, c.ring_high_water);
  }
  return total;
}

bool stage_graph::huge_pages() const noexcept {
  for (const auto& p : _pools) {
    if (!p.huge_pages()) return false;
  }
  return !_pools.empty();
}

}  // namespace ferry::dp

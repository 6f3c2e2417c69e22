// ferryd: the ferry router daemon. Reads its configuration (or runs the built-in one), routes until SIGINT or
// SIGTERM, then prints what it did.

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "ferry/control/config.hpp"
#include "ferry/control/control_socket.hpp"
#include "ferry/control/router.hpp"
#include "ferry/control/stats.hpp"

namespace {

constexpr int exit_failure = 1;
constexpr int exit_bad_config = 2;

ferry::ctl::http_response answer(const ferry::ctl::router& router, std::string_view method, std::string_view path) {
  if (method != "GET") return {405, R"({"error":"only GET is served"})"};
  if (path == "/stats") return {200, ferry::ctl::stats_json(router.stats())};
  if (path == "/status") {
    const ferry::dp::counter_values c = router.counters();
    const ferry::dp::stage_graph& graph = router.stages();
    nlohmann::ordered_json doc;
    doc["uptime_s"] = router.uptime_seconds();
    doc["backend"] = ferry::dp::to_string(router.backend());
    doc["backend_notes"] = router.backend_notes();
    doc["listen"] = router.listening().to_string();
    doc["layout"] = graph.layout().mode == ferry::dp::layout_mode::staged ? "staged" : "run-to-completion";
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (std::size_t s = 0; s < graph.stage_count(); ++s) {
      const auto& info = graph.info(s);
      stages.push_back({{"name", info.name}, {"cpu", info.cpu ? nlohmann::ordered_json(*info.cpu) : nullptr}});
    }
    doc["stages"] = std::move(stages);
    doc["huge_pages"] = router.huge_pages();
    doc["routes"] = router.route_count();
    doc["next_hops"] = router.hop_count();
    doc["io"] = {{"rx_datagrams", c.rx_datagrams}, {"rx_bytes", c.rx_bytes},     {"tx_datagrams", c.tx_datagrams},
                 {"tx_bytes", c.tx_bytes},         {"busy_polls", c.busy_polls}, {"idle_polls", c.idle_polls},
                 {"rx_lost", c.rx_lost},           {"rx_ignored", c.rx_ignored}};
    return {200, doc.dump()};
  }
  return {404, R"({"error":"unknown path; try /stats or /status"})"};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferryd: low-latency router for cross-chain messages"};
  std::string config_path;
  std::string check_path;
  bool print_default = false;
  app.add_option("--config", config_path, "Configuration file (TOML); without it, the built-in default")
      ->check(CLI::ExistingFile);
  app.add_option("--check-config", check_path, "Check a configuration file and exit: 0 when valid, 2 when not");
  app.add_flag("--print-default-config", print_default, "Print the built-in configuration and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_bad_config;
  }

  if (print_default) {
    std::cout << ferry::ctl::default_config_text();
    return 0;
  }
  if (!check_path.empty()) {
    auto checked = ferry::ctl::load_config_file(check_path);
    if (!checked) {
      std::cerr << checked.err().message() << '\n';
      return exit_bad_config;
    }
    std::cout << check_path << ": valid (" << checked->routes.size() << " routes)\n";
    return 0;
  }

  auto cfg = config_path.empty()
                 ? ferry::ctl::parse_config(ferry::ctl::default_config_text(), "built-in default configuration")
                 : ferry::ctl::load_config_file(config_path);
  if (!cfg) {
    std::cerr << cfg.err().message() << '\n';
    return exit_bad_config;
  }

  // Signals are taken by sigwait() below; every thread started from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto router = ferry::ctl::router::start(*cfg);
  if (!router) {
    std::cerr << "ferryd: " << router.err().message() << '\n';
    return exit_failure;
  }
  auto control = ferry::ctl::control_server::start(
      cfg->control_socket, [r = router->get()](std::string_view method, std::string_view path) {
        return answer(*r, method, path);
      });
  if (!control) {
    std::cerr << "ferryd: " << control.err().message() << '\n';
    return exit_failure;
  }
  const auto& r = **router;
  for (const std::string& note : r.backend_notes()) std::fprintf(stderr, "ferryd: %s\n", note.c_str());
  std::string placement;
  for (std::size_t s = 0; s < r.stages().stage_count(); ++s) {
    const auto& info = r.stages().info(s);
    placement += (s == 0 ? "" : ", ") + info.name + (info.cpu ? "@cpu" + std::to_string(*info.cpu) : "@any");
  }
  std::fprintf(stderr, "ferryd: listening on %s (%s backend), %zu routes to %zu next hops, stages %s, "
               "control socket %s\n",
               r.listening().to_string().c_str(), ferry::dp::to_string(r.backend()), r.route_count(), r.hop_count(),
               placement.c_str(), cfg->control_socket.c_str());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "ferryd: %s: stopping\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  control->reset();
  (*router)->stop();
  const double seconds = (*router)->uptime_seconds();
  std::printf("ferryd: stopped after %.1f s\n%s", seconds,
              ferry::ctl::format_summary((*router)->stats(), seconds).c_str());
  return 0;
}

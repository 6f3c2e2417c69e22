// ferryd: the ferry router daemon. Reads its configuration (or runs the built-in one), routes until SIGINT or
// SIGTERM, reloads its configuration on SIGHUP (or `ferryctl reload`), then prints what it did.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/control/control_api.hpp"
#include "ferry/control/control_socket.hpp"
#include "ferry/control/metrics.hpp"
#include "ferry/control/router.hpp"
#include "ferry/control/stats.hpp"
#include "ferry/platform/privileges.hpp"

namespace {

constexpr int exit_failure = 1;
constexpr int exit_bad_config = 2;

// The configuration from its file, or the built-in one; the error is what --check-config prints.
ferry::platform::result<ferry::ctl::config> read_config(const std::string& path) {
  return path.empty() ? ferry::ctl::parse_config(ferry::ctl::default_config_text(), "built-in default configuration")
                      : ferry::ctl::load_config_file(path);
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

  auto cfg = read_config(config_path);
  if (!cfg) {
    std::cerr << cfg.err().message() << '\n';
    return exit_bad_config;
  }

  // Signals are taken by sigwait() below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto started = ferry::ctl::router::start(*cfg);
  if (!started) {
    std::cerr << "ferryd: " << started.err().message() << '\n';
    return exit_failure;
  }
  ferry::ctl::router& router = **started;
  const auto reload = [&]() -> ferry::platform::result<void> {
    auto next = read_config(config_path);
    if (!next) return std::move(next).err();
    return router.reload(*next);
  };
  ferry::ctl::control_api api(router, reload);
  auto control = ferry::ctl::control_server::start_unix(
      cfg->control.socket, {cfg->control.socket_owner, cfg->control.socket_group},
      [&api](const ferry::ctl::http_request& request) { return api.answer(request); });
  if (!control) {
    std::cerr << "ferryd: " << control.err().message() << '\n';
    return exit_failure;
  }
  std::unique_ptr<ferry::ctl::control_server> metrics;
  if (cfg->control.metrics) {
    auto served = ferry::ctl::control_server::start_tcp(
        *cfg->control.metrics, [&router](const ferry::ctl::http_request& request) -> ferry::ctl::http_response {
          if (request.path != "/metrics") return ferry::ctl::error_response(404, "only /metrics is served here");
          if (request.method != "GET") return ferry::ctl::error_response(405, "/metrics takes GET");
          return {200, ferry::ctl::prometheus_text(router.stats(), router.uptime_seconds()),
                  std::string(ferry::ctl::prometheus_content_type)};
        });
    if (!served) {
      std::cerr << "ferryd: metrics: " << served.err().message() << '\n';
      return exit_failure;
    }
    metrics = std::move(*served);
  }
  // Everything that may need root is bound and open: the backend, the sockets, the state directory.
  if (cfg->process.user) {
    auto who = ferry::platform::find_identity(*cfg->process.user, cfg->process.group.value_or(""));
    if (!who) {
      std::cerr << "ferryd: process.user: " << who.err().message() << '\n';
      return exit_failure;
    }
    std::vector<std::string> notes;
    if (auto dropped = ferry::platform::drop_privileges(*who, notes); !dropped) {
      std::cerr << "ferryd: " << dropped.err().message() << '\n';
      return exit_failure;
    }
    for (const std::string& note : notes) std::fprintf(stderr, "ferryd: %s\n", note.c_str());
    if (notes.empty()) {
      std::fprintf(stderr, "ferryd: dropped root: running as %s (uid %u, gid %u) from here on\n", who->user.c_str(),
                   who->uid, who->gid);
    }
  } else if (::geteuid() == 0) {
    std::fprintf(stderr, "ferryd: running as root; set [process] user to drop root once bound\n");
  }
  for (const std::string& note : router.backend_notes()) std::fprintf(stderr, "ferryd: %s\n", note.c_str());
  if (cfg->state.directory.empty()) {
    std::fprintf(stderr, "ferryd: no [state] directory: replay windows%s live in memory and a restart forgets them\n",
                 cfg->guardian_set_upgrades ? " and guardian sets learned from upgrade VAAs" : "");
  }
  std::string placement;
  for (std::size_t s = 0; s < router.stages().stage_count(); ++s) {
    const auto& info = router.stages().info(s);
    placement += (s == 0 ? "" : ", ") + info.name + (info.cpu ? "@cpu" + std::to_string(*info.cpu) : "@any");
  }
  std::fprintf(stderr, "ferryd: listening on %s (%s backend), %zu routes to %zu next hops, stages %s, "
               "control socket %s%s%s\n",
               router.listening().to_string().c_str(), ferry::dp::to_string(router.backend()), router.route_count(),
               router.hop_count(), placement.c_str(), cfg->control.socket.c_str(), metrics ? ", metrics on " : "",
               metrics ? metrics->local().to_string().c_str() : "");

  int signal_number = 0;
  for (;;) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (auto reloaded = reload(); reloaded) {
      std::fprintf(stderr, "ferryd: SIGHUP: configuration reloaded\n");
    } else {
      std::fprintf(stderr, "ferryd: SIGHUP: configuration refused, the running one stays:\n%s\n",
                   reloaded.err().message().c_str());
    }
  }
  std::fprintf(stderr, "ferryd: %s: stopping\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  metrics.reset();
  control->reset();
  router.stop();
  const double seconds = router.uptime_seconds();
  std::printf("ferryd: stopped after %.1f s\n%s", seconds, ferry::ctl::format_summary(router.stats(), seconds).c_str());
  return 0;
}

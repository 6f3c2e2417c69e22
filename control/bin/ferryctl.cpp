// ferryctl: the operator's tool for a running ferryd, over its control socket.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "ferry/control/control_socket.hpp"
#include "ferry/control/stats.hpp"

namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

// Fetches `path`; prints the problem and returns nothing when ferryd cannot answer it.
std::optional<std::string> fetch(const std::string& socket, const char* path) {
  auto response = ferry::ctl::control_request(socket, "GET", path);
  if (!response) {
    std::cerr << "ferryctl: " << response.err().message() << '\n';
    return std::nullopt;
  }
  if (response->status != 200) {
    std::cerr << "ferryctl: ferryd answered " << response->status << ": " << response->body;
    return std::nullopt;
  }
  return response->body;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferryctl: inspect and steer a running ferryd"};
  app.require_subcommand(1);
  std::string socket = "/run/ferry/ferryd.sock";
  app.add_option("--socket", socket, "ferryd's control socket")->capture_default_str();

  bool json = false;
  CLI::App* stats = app.add_subcommand("stats", "Messages received, forwarded and dropped by reason");
  stats->add_flag("--json", json, "Print the counters as JSON");
  CLI::App* status = app.add_subcommand("status", "What ferryd is running: listener, routes, I/O counters (JSON)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }

  if (*stats) {
    const auto body = fetch(socket, "/stats");
    if (!body) return exit_failure;
    if (json) {
      std::cout << *body;
      return 0;
    }
    auto counters = ferry::ctl::counters_from_json(*body);
    if (!counters) {
      std::cerr << "ferryctl: " << counters.err().message() << '\n';
      return exit_failure;
    }
    std::cout << ferry::ctl::format_summary(*counters, 0);
    return 0;
  }
  if (*status) {
    const auto body = fetch(socket, "/status");
    if (!body) return exit_failure;
    std::cout << nlohmann::ordered_json::parse(*body, nullptr, false).dump(2) << '\n';
    return 0;
  }
  return exit_usage;
}

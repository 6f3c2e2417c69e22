// ferryctl: the operator's tool for a running ferryd, over its control socket, and for checking a message by hand
// (`inspect`, which works offline).

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ferry/control/control_socket.hpp"
#include "ferry/control/inspect.hpp"
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

// The option's value when it was given at all (an empty value counts), for inspect_request's optional fields.
std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  return option->count() > 0 ? std::optional<std::string>(value) : std::nullopt;
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

  // inspect's options are plain strings: inspect() checks them all, so that its words are the same in tests.
  ferry::ctl::inspect_request request;
  std::string hex, base64, file, network, ism, metadata, validators, threshold;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Parse and verify one message offline and print it as JSON (exit 0 accepted, 1 rejected, 2 usage)");
  inspect->add_option("--kind", request.kind, "wormhole, hyperlane or layerzero")->required();
  const CLI::Option* hex_option = inspect->add_option("--hex", hex, "The bare message in hex (0x optional)");
  const CLI::Option* base64_option = inspect->add_option("--base64", base64, "The bare message in padded base64");
  const CLI::Option* file_option = inspect->add_option("--file", file, "A file holding the bare message's raw bytes");
  const CLI::Option* network_option =
      inspect->add_option("--network", network, "wormhole: whose guardian sets, mainnet (default) or devnet");
  const CLI::Option* ism_option =
      inspect->add_option("--ism", ism, "hyperlane: message-id-multisig or merkle-root-multisig");
  const CLI::Option* metadata_option = inspect->add_option("--metadata", metadata, "hyperlane: the ISM metadata, hex");
  const CLI::Option* validators_option =
      inspect->add_option("--validators", validators, "hyperlane: validator addresses in ISM order, comma-separated");
  const CLI::Option* threshold_option =
      inspect->add_option("--threshold", threshold, "hyperlane: signatures needed, 1 to the number of validators");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }

  if (*inspect) {
    request.hex = given(hex_option, hex);
    request.base64 = given(base64_option, base64);
    request.file = given(file_option, file);
    request.network = given(network_option, network);
    request.ism = given(ism_option, ism);
    request.metadata = given(metadata_option, metadata);
    request.validators = given(validators_option, validators);
    request.threshold = given(threshold_option, threshold);
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    request.now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
    const ferry::ctl::inspect_outcome outcome = ferry::ctl::inspect(request);
    if (outcome.exit_code == ferry::ctl::inspect_usage) {
      std::cerr << "ferryctl inspect: " << outcome.usage_error << "\nRun with --help for more information.\n";
      return exit_usage;
    }
    std::cout << outcome.json;
    return outcome.exit_code;
  }
  if (*stats) {
    const auto body = fetch(socket, "/stats");
    if (!body) return exit_failure;
    if (json) {
      std::cout << *body;
      return 0;
    }
    auto reported = ferry::ctl::stats_from_json(*body);
    if (!reported) {
      std::cerr << "ferryctl: " << reported.err().message() << '\n';
      return exit_failure;
    }
    std::cout << ferry::ctl::format_summary(*reported, 0);
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

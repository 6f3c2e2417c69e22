// How fast a reload reaches traffic, and what retired snapshots cost: ferryd's router in this process on loopback
// sockets, its control API on a Unix socket, a sender streaming probes through one route, and the route's next hop
// switched between two listeners by rewriting the configuration file and asking POST /reload (what
// `ferryctl reload` does). Reported:
//   reload_to_serving_p50/p99/max_us  from sending the request to the first probe at the new next hop (the probe
//                                     interval, ~20 us, bounds the resolution)
//   request_p99_us                    the request alone (parse, check, build, publish, answer)
//   retired_max                       most retired snapshots seen waiting for reclamation (bounded by design: 8)
//   rss_growth_kib                    resident memory after the reloads over before them
//
//   ferry-reload-bench [--reloads 300] [--routes 200]

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ferry/control/config.hpp"
#include "ferry/control/control_api.hpp"
#include "ferry/control/control_socket.hpp"
#include "ferry/control/router.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/verify/opaque.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

int bound_udp(std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  name = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  return fd;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-reload-bench: reload-to-serving latency and retired snapshot memory"};
  int reloads = 300;
  int routes = 200;
  app.add_option("--reloads", reloads, "Reloads to time")->capture_default_str();
  app.add_option("--routes", routes, "Routes in the configuration besides the probed one")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  char dir_template[] = "/tmp/ferry-reload-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return 1;
  const std::string dir = dir_template;
  std::string name_a, name_b;
  const int hop_a = bound_udp(name_a), hop_b = bound_udp(name_b);
  const std::string path = dir + "/ferry.toml";
  const auto write = [&](const std::string& hop) {
    std::string text = "[control]\nsocket = \"" + dir + "/ferryd.sock\"\n[dataplane]\nbackend = \"socket\"\n"
                       "listen = \"127.0.0.1:0\"\nlayout = \"run-to-completion\"\npoll = \"busy\"\n"
                       "[verify]\nwormhole_network = \"devnet\"\n"
                       "[[routes]]\nname = \"probe\"\nkind = \"opaque\"\nsource = 1\ndestination = \"*\"\n"
                       "next_hop = \"" + hop + "\"\n";
    for (int i = 0; i < routes; ++i) {
      text += "[[routes]]\nname = \"r" + std::to_string(i) + "\"\nkind = \"opaque\"\nsource = " +
              std::to_string(1000 + i) + "\ndestination = \"*\"\nnext_hop = \"" + name_a + "\"\nrate = 1000.0\n";
    }
    std::ofstream(path + ".next") << text;
    std::filesystem::rename(path + ".next", path);
  };
  write(name_a);
  auto cfg = ferry::ctl::load_config_file(path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.err().message().c_str());
    return 1;
  }
  auto started = ferry::ctl::router::start(*cfg);
  if (!started) {
    std::fprintf(stderr, "%s\n", started.err().message().c_str());
    return 1;
  }
  ferry::ctl::router& router = **started;
  ferry::ctl::control_api api(router, [&]() -> ferry::platform::result<void> {
    auto next = ferry::ctl::load_config_file(path);
    if (!next) return std::move(next).err();
    return router.reload(*next);
  });
  auto server = ferry::ctl::control_server::start_unix(
      cfg->control.socket, {}, [&api](const ferry::ctl::http_request& r) { return api.answer(r); });
  if (!server) {
    std::fprintf(stderr, "%s\n", server.err().message().c_str());
    return 1;
  }

  // Probes: opaque messages from source 1, every ~20 us.
  std::atomic<bool> sending{true};
  std::thread sender([&] {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::vector<std::byte> body(ferry::verify::opaque::header_size + 8), frame(256);
    body.resize(ferry::verify::opaque::encode_envelope(1, 1, std::vector<std::byte>(8), body));
    ferry::dp::frame_writer writer(frame, ferry::dp::frame_header{});
    writer.add(4, body, 0);
    const auto bytes = writer.finish();
    const ferry::dp::endpoint to = router.listening();
    while (sending.load(std::memory_order_relaxed)) {
      ::sendto(fd, bytes.data(), bytes.size(), 0, to.address(), to.length());
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    ::close(fd);
  });
  const auto drain = [](int fd) {
    char buffer[2048];
    while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
  };

  const long rss_before = rss_kib();
  std::vector<double> serving_us, request_us;
  std::size_t retired_max = 0;
  int failed = 0;
  for (int i = 0; i < reloads; ++i) {
    const bool to_b = i % 2 == 0;
    const int target = to_b ? hop_b : hop_a;
    write(to_b ? name_b : name_a);
    drain(target);
    const auto t0 = clock_type::now();
    auto answer = ferry::ctl::control_request(cfg->control.socket, "POST", "/reload");
    const auto t1 = clock_type::now();
    if (!answer || answer->status != 200) {
      ++failed;
      continue;
    }
    pollfd p{target, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) {
      ++failed;
      continue;
    }
    const auto t2 = clock_type::now();
    request_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    serving_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    retired_max = std::max(retired_max, router.stats().snapshots_retired);
  }
  const long rss_after = rss_kib();
  sending.store(false);
  sender.join();
  server->reset();
  router.stop();
  ::close(hop_a);
  ::close(hop_b);
  std::filesystem::remove_all(dir);

  std::printf("reloads=%zu failed=%d routes=%d\n", serving_us.size(), failed, routes + 1);
  std::printf("reload_to_serving_p50_us=%.0f reload_to_serving_p99_us=%.0f reload_to_serving_max_us=%.0f\n",
              percentile(serving_us, 0.5), percentile(serving_us, 0.99), percentile(serving_us, 1.0));
  std::printf("request_p50_us=%.0f request_p99_us=%.0f\n", percentile(request_us, 0.5), percentile(request_us, 0.99));
  std::printf("retired_max=%zu rss_before_kib=%ld rss_after_kib=%ld rss_growth_kib=%ld\n", retired_max, rss_before,
              rss_after, rss_after - rss_before);
  return failed == 0 ? 0 : 1;
}

#include <utility>

#include "ferry/dataplane/io_port.hpp"

namespace ferry::dp {

const char* to_string(backend_kind kind) noexcept {
  switch (kind) {
    case backend_kind::socket: return "socket";
    case backend_kind::io_uring: return "io_uring";
    case backend_kind::dpdk: return "dpdk";
  }
  return "unknown";
}

platform::result<std::unique_ptr<io_backend>> open_backend(const backend_options& options,
                                                           std::vector<std::string>& notes) {
  if (options.choice == backend_choice::dpdk) {
    auto dpdk = open_dpdk_backend(options);
    if (dpdk) return dpdk;
    notes.push_back("dpdk backend refused (" + dpdk.err().message() + "); falling back to io_uring");
  }
  if (options.choice != backend_choice::socket) {
    auto uring = open_uring_backend(options);
    if (uring) return uring;
    notes.push_back("io_uring backend refused (" + uring.err().message() + "); falling back to the socket backend");
  }
  return open_socket_backend(options);
}

}  // namespace ferry::dp

#include "ferry/dataplane/io_port.hpp"

namespace ferry::dp {

platform::result<std::unique_ptr<io_backend>> open_dpdk_backend(const backend_options&) {
  return platform::error("this build of ferry has no DPDK (libdpdk was not found when it was configured)");
}

}  // namespace ferry::dp

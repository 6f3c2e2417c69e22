#include "ferry/dataplane/io_port.hpp"

namespace ferry::dp {

platform::result<std::unique_ptr<io_backend>> open_uring_backend(const backend_options&) {
  return platform::error("not written yet");
}

}  // namespace ferry::dp

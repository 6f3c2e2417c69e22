#include "ferry/platform/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ferry::platform {

descriptor::~descriptor() {
  if (_fd >= 0) ::close(_fd);
}

result<void> sync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  // Made whole rather than assigned ".": GCC 12 at -O2 with the sanitizers misreads that assignment (-Wrestrict).
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const descriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return error("cannot sync directory '" + dir + "': " + std::strerror(errno));
  }
  return {};
}

}  // namespace ferry::platform

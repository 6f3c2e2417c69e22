#pragma once
// What every file ferry keeps (state files, key files, the state directory's walk) needs of the file system: a
// descriptor that closes itself, and the directory sync that makes a rename durable.

#include <string>
#include <utility>

#include "ferry/platform/result.hpp"

namespace ferry::platform {

// An open file descriptor, closed when this goes (unless released). -1 holds nothing.
class descriptor {
 public:
  explicit descriptor(int fd) noexcept : _fd(fd) {}
  descriptor(descriptor&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
  descriptor& operator=(descriptor&&) = delete;
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor();

  int get() const noexcept { return _fd; }
  // Gives the descriptor up to the caller, who closes it.
  int release() noexcept { return std::exchange(_fd, -1); }

 private:
  int _fd;
};

// Syncs the directory that holds `path` (its parent; "." for a bare name), so that a file just renamed into it, or
// created in it, is still there after a crash. The error names the directory and the system's reason.
result<void> sync_directory_of(const std::string& path);

}  // namespace ferry::platform

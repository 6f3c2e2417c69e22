#pragma once
// A scratch directory for a test, gone with everything in it when the test ends, whatever happens.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ferry::testing {

// A new directory "ferry-<name>-XXXXXX" under GoogleTest's temporary directory ($TEST_TMPDIR, else $TMPDIR, else
// /tmp), removed recursively on destruction. Throws when it cannot be made, so that no test goes on without it
// (GoogleTest reports the exception as the test's failure).
class temp_dir {
 public:
  explicit temp_dir(const std::string& name) : _path(::testing::TempDir() + "ferry-" + name + "-XXXXXX") {
    if (::mkdtemp(_path.data()) == nullptr) {
      throw std::runtime_error("cannot make a directory " + _path + ": " + std::strerror(errno));
    }
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;  // a destructor has no one to tell
    std::filesystem::remove_all(_path, ignored);
  }

  const std::string& path() const noexcept { return _path; }

 private:
  std::string _path;
};

}  // namespace ferry::testing

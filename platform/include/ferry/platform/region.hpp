#pragma once
// Owned, page-aligned, zero-filled memory for objects sized once at start-up (rings, buffer pools), from
// hugepages when asked and available, from normal pages otherwise.

#include <cstddef>

#include "ferry/platform/result.hpp"

namespace ferry::platform {

enum class page_size : unsigned char {
  normal,    // 4 KiB pages
  try_huge,  // 2 MiB hugepages when reserved (/sys/kernel/mm/hugepages), normal pages otherwise
};

class region {
 public:
  // Maps `bytes` (rounded up to the page size) of anonymous memory and writes to every page, so that the first
  // packet never takes a page fault. Fails with the reason when the size is absurd or the kernel refuses.
  static result<region> map(std::size_t bytes, page_size pages = page_size::normal);

  region() noexcept = default;
  region(region&& other) noexcept;
  region& operator=(region&& other) noexcept;
  region(const region&) = delete;
  region& operator=(const region&) = delete;
  ~region();

  void* data() const noexcept { return _data; }
  std::size_t size() const noexcept { return _size; }
  bool huge() const noexcept { return _huge; }

 private:
  region(void* data, std::size_t size, bool huge) noexcept : _data(data), _size(size), _huge(huge) {}

  void* _data = nullptr;
  std::size_t _size = 0;
  bool _huge = false;
};

}  // namespace ferry::platform

#include "ferry/platform/region.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace ferry::platform {

namespace {

constexpr std::size_t huge_page = 2u << 20;

std::size_t round_up(std::size_t bytes, std::size_t unit) noexcept { return (bytes + unit - 1) / unit * unit; }


}  // namespace

result<region> region::map(std::size_t bytes, page_size pages) {
  if (bytes == 0) return error("cannot map an empty region");
  if (bytes > (std::size_t{1} << (sizeof(std::size_t) * 8 - 2))) {
    return error("cannot map " + std::to_string(bytes) + " bytes: more than this machine could address");
  }
  if (pages == page_size::try_huge) {
    const std::size_t size = round_up(bytes, huge_page);
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
                      -1, 0);
    if (data != MAP_FAILED) {
      std::memset(data, 0, size);  // MAP_POPULATE is only advice (qemu-user ignores it): fault the pages in now
      return region(data, size, true);
    }
    // No hugepages reserved (or not enough): normal pages do the same job, a little slower.
  }
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t size = round_up(bytes, page);
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (data == MAP_FAILED) {
    return error("cannot map " + std::to_string(size) + " bytes: " + std::strerror(errno));
  }
  std::memset(data, 0, size);
  return region(data, size, false);
}

region::region(region&& other) noexcept
    : _data(std::exchange(other._data, nullptr)), _size(std::exchange(other._size, 0)),
      _huge(std::exchange(other._huge, false)) {}

region& region::operator=(region&& other) noexcept {
  if (this != &other) {
    if (_data != nullptr) munmap(_data, _size);
    _data = std::exchange(other._data, nullptr);
    _size = std::exchange(other._size, 0);
    _huge = std::exchange(other._huge, false);
  }
  return *this;
}

region::~region() {
  if (_data != nullptr) munmap(_data, _size);
}

}  // namespace ferry::platform

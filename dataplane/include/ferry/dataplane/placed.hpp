#pragma once
// Owns one object of the footprint()/align()/construct() shape (spsc_ring, buffer_pool) together with the memory
// it lives in, mapped once at start-up.

#include <string>
#include <utility>

#include "ferry/platform/region.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::dp {

template <class T>
class placed {
 public:
  // Maps T::footprint(args...) bytes and constructs T there with args. Fails when footprint() rejects the
  // arguments (`what` names the object in the message) or the memory cannot be mapped.
  template <class... Args>
  static platform::result<placed> create(const char* what, platform::page_size pages, Args... args) {
    const std::size_t bytes = T::footprint(args...);
    if (bytes == 0) return platform::error(std::string(what) + ": invalid size or capacity");
    auto memory = platform::region::map(bytes, pages);
    if (!memory) return std::move(memory).context(what);
    T* object = T::construct(memory->data(), args...);
    if (object == nullptr) return platform::error(std::string(what) + ": construction refused its arguments");
    return placed(std::move(*memory), object);
  }

  placed(placed&& other) noexcept
      : _memory(std::move(other._memory)), _object(std::exchange(other._object, nullptr)) {}
  placed& operator=(placed&& other) noexcept {
    if (this != &other) {
      reset();
      _memory = std::move(other._memory);
      _object = std::exchange(other._object, nullptr);
    }
    return *this;
  }
  placed(const placed&) = delete;
  placed& operator=(const placed&) = delete;
  ~placed() { reset(); }

  T* get() const noexcept { return _object; }
  T& operator*() const noexcept { return *_object; }
  T* operator->() const noexcept { return _object; }
  bool huge_pages() const noexcept { return _memory.huge(); }

 private:
  placed(platform::region memory, T* object) noexcept : _memory(std::move(memory)), _object(object) {}

  void reset() noexcept {
    if (_object != nullptr) _object->~T();
    _object = nullptr;
  }

  platform::region _memory;
  T* _object;
};

}  // namespace ferry::dp

#pragma once
// Checks shared by the fuzz targets.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

namespace ferry::testing {

// A broken property is a bug to report with its input: abort so that libFuzzer saves the reproducer.
inline void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz: %s\n", what);
  std::abort();
}

// Whether `part` lies within `whole`, compared as addresses: a view that escaped its input points elsewhere.
inline bool inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
  const auto begin = reinterpret_cast<std::uintptr_t>(whole.data());
  const auto at = reinterpret_cast<std::uintptr_t>(part.data());
  return at >= begin && part.size() <= whole.size() && at - begin <= whole.size() - part.size();
}

}  // namespace ferry::testing

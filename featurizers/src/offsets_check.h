// Checks CSR offsets read from outside (a model file) before anything is read through them:
// the right count, starting at 0, never decreasing, ending at the number of values. Without
// this one inner offset of 1 << 40 reads (or writes) far past the arrays.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace udt {

inline void check_offsets(const int64_t* offsets, size_t n_offsets, size_t expected_offsets, size_t n_values,
                          const std::string& what) {
  auto fail = [&](const std::string& why) { throw std::invalid_argument(what + ": " + why); };
  if (n_offsets != expected_offsets)
    fail("expected " + std::to_string(expected_offsets) + " offsets, got " + std::to_string(n_offsets));
  if (n_offsets == 0) return;
  if (offsets[0] != 0) fail("offsets[0] must be 0, got " + std::to_string(offsets[0]));
  for (size_t i = 1; i < n_offsets; ++i)
    if (offsets[i] < offsets[i - 1] || uint64_t(offsets[i]) > n_values)
      fail("offsets[" + std::to_string(i) + "] = " + std::to_string(offsets[i]) + " is not in [offsets[" +
           std::to_string(i - 1) + "], " + std::to_string(n_values) + "]");
  if (uint64_t(offsets[n_offsets - 1]) != n_values)
    fail("offsets[-1] = " + std::to_string(offsets[n_offsets - 1]) + " but there are " + std::to_string(n_values) +
         " values");
}

}  // namespace udt

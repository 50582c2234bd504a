#pragma once
// The DWTA inner kernel: for 16 consecutive hash functions, the position of the first
// maximum of each function's 8-coordinate bin, or kEmptyBin when the bin is all zeros.
// Bin coordinates come transposed (coordinate j of the 16 functions is contiguous, rows
// `stride` apart) so a vector gather fetches one coordinate of 16 bins at once.
#include <cstddef>
#include <cstdint>
#include <string>

namespace udt::dwta {

constexpr uint32_t kLanes = 16;
constexpr uint32_t kBinSize = 8;
constexpr uint8_t kEmptyBin = 0xff;

using Winners16 = void (*)(const float* x, const int32_t* positions, size_t stride, uint8_t* winners);

// The fastest version this CPU runs (AVX-512, AVX2 or scalar), picked once at load time.
extern const Winners16 winners16;
// A specific version ("scalar", "avx2", "avx512"), or null when this CPU lacks it (tests).
Winners16 available(const char* isa);

}  // namespace udt::dwta

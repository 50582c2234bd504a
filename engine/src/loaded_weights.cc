#include "loaded_weights.h"

#include <atomic>
#include <cmath>
#include <cstring>

namespace udt {

namespace {

constexpr size_t kRowsPerChunk = 1024;

// fn(row) -> a count for that row (non-finite values), summed over every row, in parallel.
template <typename Fn>
size_t for_rows(size_t rows, ThreadPool& pool, const Fn& fn) {
  std::atomic<size_t> bad{0};
  pool.parallel_for(rows, kRowsPerChunk, [&](size_t begin, size_t end, size_t) {
    size_t local = 0;
    for (size_t r = begin; r < end; ++r) local += fn(r);
    if (local) bad += local;
  });
  return bad.load();
}

}  // namespace

size_t widen_bfloat16(const uint16_t* stored, size_t rows, size_t cols, float* out, size_t stride, ThreadPool& pool) {
  return for_rows(rows, pool, [&](size_t r) {
    const uint16_t* in = stored + r * cols;
    float* row = out + r * stride;
    size_t bad = 0;  // exponent all ones (infinite or NaN), counted without a branch
    for (size_t c = 0; c < cols; ++c) {
      const uint32_t bits = uint32_t(in[c]) << 16;
      bad += (bits & 0x7f800000u) == 0x7f800000u;
      std::memcpy(row + c, &bits, sizeof(float));
    }
    std::memset(row + cols, 0, (stride - cols) * sizeof(float));
    return bad;
  });
}

size_t widen_int8(const int8_t* stored, const float* scale, size_t rows, size_t cols, float* out, size_t stride,
                  ThreadPool& pool) {
  return for_rows(rows, pool, [&](size_t r) {
    const int8_t* in = stored + r * cols;
    float* row = out + r * stride;
    const float s = scale[r];
    for (size_t c = 0; c < cols; ++c) row[c] = float(in[c]) * s;
    std::memset(row + cols, 0, (stride - cols) * sizeof(float));
    return std::isfinite(s) ? size_t(0) : cols;  // |q| <= 127: finite exactly when the scale is
  });
}

size_t count_nonfinite(const float* values, size_t rows, size_t cols, size_t stride, ThreadPool& pool) {
  return for_rows(rows, pool, [&](size_t r) {
    const uint32_t* bits = reinterpret_cast<const uint32_t*>(values + r * stride);
    size_t bad = 0;  // exponent all ones, counted without a branch: vectorizes
    for (size_t c = 0; c < cols; ++c) bad += (bits[c] & 0x7f800000u) == 0x7f800000u;
    return bad;
  });
}

}  // namespace udt

#pragma once
// Weight matrices read from a model file, in parallel: those stored in fewer bits
// (udt.model_file.compact_arrays) are widened to float32 rows of the engine's stride, straight into
// the memory the engine then adopts (one pass over the stored bytes, no float32 temporaries), and
// float32 ones are checked finite before a network serves them.
//   bfloat16: the top 16 bits of a float32 (the low 16 become zero);
//   int8:     q * scale[row].
// Padding columns (cols .. stride) are written as zeros. Each returns how many values it wrote that
// are NaN or infinite (a bfloat16 pattern with all exponent bits set, or a row whose scale is not
// finite): checked in the same pass, so a damaged file is refused without reading the weights again.
#include <cstddef>
#include <cstdint>

#include "thread_pool.h"

namespace udt {

size_t widen_bfloat16(const uint16_t* stored, size_t rows, size_t cols, float* out, size_t stride, ThreadPool& pool);
size_t widen_int8(const int8_t* stored, const float* scale, size_t rows, size_t cols, float* out, size_t stride,
                  ThreadPool& pool);
// Values in rows x cols (rows `stride` floats apart) that are NaN or infinite.
size_t count_nonfinite(const float* values, size_t rows, size_t cols, size_t stride, ThreadPool& pool);

}  // namespace udt

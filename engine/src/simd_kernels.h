#pragma once
// The engine's hot inner loops. Each is compiled three times (x86-64-v4 = AVX-512,
// x86-64-v3 = AVX2+FMA, baseline SSE2) and the loader picks the best clone the CPU
// supports (GCC/Clang target_clones, resolved once via ifunc): one portable binary.
// Reduction order is fixed per clone, so results are reproducible on a given CPU.
#include <cstddef>
#include <cstdint>

namespace udt::simd {

float dot(const float* a, const float* b, size_t n);
// out[j] = row_j . x for `count` rows of n floats, row_j = base + (ids ? ids[j] : j) * stride.
// Four rows share each load of x, and gathered rows are prefetched a few rows ahead
// (they come from anywhere in a matrix much larger than the cache): a matrix-vector
// product, or the logits of an active set.
void dot_rows(const float* base, size_t stride, const uint32_t* ids, size_t count, const float* x, size_t n,
              float* out);
// y += a * x
void axpy(float a, const float* x, float* y, size_t n);
// y[i] = max(y[i], 0)
void relu(float* y, size_t n);
// One Adam step on a contiguous run of parameters with gradient g:
// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr_t * m / (sqrt(v) + eps_t)
// (lr_t and eps_t already carry the bias corrections).
void adam_update(float* w, float* m, float* v, const float* g, size_t n, float lr_t, float beta1,
                 float beta2, float eps_t);
// The closed form of Adam steps with zero gradient (see sparse_adam.h):
// w -= drift * m / (sqrt(v) + eps);  m *= d1;  v *= d2
void adam_idle_steps(float* w, float* m, float* v, size_t n, float drift, float d1, float d2, float eps);
// Name of the clone the loader selected for this CPU (for diagnostics and benchmarks).
const char* isa();

}  // namespace udt::simd

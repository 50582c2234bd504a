#include "simd_kernels.h"

#include <cmath>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(UDT_NO_CLONES)
#define UDT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define UDT_CLONES
#endif

namespace udt::simd {

UDT_CLONES float dot(const float* a, const float* b, size_t n) {
  // 32 independent partial sums: two AVX-512 or four AVX2 accumulators, enough to
  // hide FMA latency while staying a plain loop the compiler vectorises.
  constexpr size_t W = 32;
  float acc[W] = {};
  size_t i = 0;
  for (; i + W <= n; i += W) {
#pragma omp simd
    for (size_t j = 0; j < W; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float s = 0.0f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (size_t j = 0; j < W; ++j) s += acc[j];
  return s;
}

UDT_CLONES void axpy(float a, const float* x, float* y, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

UDT_CLONES void relu(float* y, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

UDT_CLONES void adam_update(float* w, float* m, float* v, const float* g, size_t n, float lr_t,
                            float beta1, float beta2, float eps_t) {
  const float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    float gi = g[i];
    float mi = beta1 * m[i] + c1 * gi;
    float vi = beta2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr_t * mi / (std::sqrt(vi) + eps_t);
  }
}

UDT_CLONES void adam_idle_steps(float* w, float* m, float* v, size_t n, float drift, float d1, float d2,
                                float eps) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    w[i] -= drift * m[i] / (std::sqrt(v[i]) + eps);
    m[i] *= d1;
    v[i] *= d2;
  }
}

const char* isa() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(UDT_NO_CLONES)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "sse2";
#else
  return "generic";
#endif
}

}  // namespace udt::simd

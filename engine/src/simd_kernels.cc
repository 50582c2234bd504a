#include "simd_kernels.h"

#include <algorithm>
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

UDT_CLONES void dot_rows(const float* base, size_t stride, const uint32_t* ids, size_t count, const float* x,
                         size_t n, float* out) {
  constexpr size_t W = 16;      // floats per accumulator: one AVX-512 or two AVX2 registers
  constexpr size_t kAhead = 8;  // rows prefetched ahead of use when gathered
  auto row = [&](size_t j) { return base + (ids ? size_t(ids[j]) : j) * stride; };
  auto prefetch = [&](size_t j) {
    if (!ids || j >= count) return;
    const char* p = reinterpret_cast<const char*>(row(j));
    for (size_t off = 0; off < n * sizeof(float); off += 64) __builtin_prefetch(p + off);
  };
  for (size_t j = 0; j < kAhead; ++j) prefetch(j);
  // Every row goes through the same arithmetic (a short last block repeats its last row),
  // so a neuron's logit does not depend on where it sits in the list.
  for (size_t j = 0; j < count; j += 4) {
    for (size_t a = 0; a < 4; ++a) prefetch(j + kAhead + a);
    const size_t last = count - 1;
    const float *r0 = row(j), *r1 = row(std::min(j + 1, last)), *r2 = row(std::min(j + 2, last)),
                *r3 = row(std::min(j + 3, last));
    float a0[W] = {}, a1[W] = {}, a2[W] = {}, a3[W] = {};
    size_t i = 0;
    for (; i + W <= n; i += W) {
#pragma omp simd
      for (size_t k = 0; k < W; ++k) {
        const float xv = x[i + k];
        a0[k] += r0[i + k] * xv;
        a1[k] += r1[i + k] * xv;
        a2[k] += r2[i + k] * xv;
        a3[k] += r3[i + k] * xv;
      }
    }
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; i < n; ++i) {
      s0 += r0[i] * x[i];
      s1 += r1[i] * x[i];
      s2 += r2[i] * x[i];
      s3 += r3[i] * x[i];
    }
    for (size_t k = 0; k < W; ++k) {
      s0 += a0[k];
      s1 += a1[k];
      s2 += a2[k];
      s3 += a3[k];
    }
    out[j] = s0;
    if (j + 1 < count) out[j + 1] = s1;
    if (j + 2 < count) out[j + 2] = s2;
    if (j + 3 < count) out[j + 3] = s3;
  }
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

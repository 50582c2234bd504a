#include "dwta_kernels.h"

#if defined(__x86_64__)
// GCC 12 flags its own AVX-512 headers' undefined-vector idiom as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace udt::dwta {

// Winners of 16 consecutive hashes: the first position of each bin's maximum, or
// kEmptyBin when the bin is all zeros. Three versions with identical results (strict
// `>` keeps the first maximum; min(v, low) mirrors `v < low ? v : low`): gathers on
// AVX-512 or AVX2, chosen once at load time, else a portable scalar loop.
void winners16_scalar(const float* x, const int32_t* positions, size_t stride, uint8_t* winners) {
  for (uint32_t l = 0; l < kLanes; ++l) {
    float best = x[positions[l]], low = best;
    uint8_t arg = 0;
    for (uint32_t j = 1; j < kBinSize; ++j) {
      float v = x[positions[j * stride + l]];
      if (v > best) { best = v; arg = static_cast<uint8_t>(j); }
      low = v < low ? v : low;
    }
    winners[l] = (best == 0.0f && low == 0.0f) ? kEmptyBin : arg;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f")))
void winners16_avx512(const float* x, const int32_t* positions, size_t stride, uint8_t* winners) {
  __m512 best = _mm512_i32gather_ps(_mm512_loadu_si512(positions), x, 4);
  __m512 low = best;
  __m512i arg = _mm512_setzero_si512();
  for (uint32_t j = 1; j < kBinSize; ++j) {
    __m512 v = _mm512_i32gather_ps(_mm512_loadu_si512(positions + j * stride), x, 4);
    __mmask16 greater = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm512_mask_mov_ps(best, greater, v);
    arg = _mm512_mask_mov_epi32(arg, greater, _mm512_set1_epi32(int(j)));
    low = _mm512_min_ps(v, low);
  }
  const __m512 zero = _mm512_setzero_ps();
  __mmask16 empty = _mm512_cmp_ps_mask(best, zero, _CMP_EQ_OQ) & _mm512_cmp_ps_mask(low, zero, _CMP_EQ_OQ);
  arg = _mm512_mask_mov_epi32(arg, empty, _mm512_set1_epi32(kEmptyBin));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(winners), _mm512_cvtepi32_epi8(arg));
}

__attribute__((target("avx2")))
void winners16_avx2(const float* x, const int32_t* positions, size_t stride, uint8_t* winners) {
  for (uint32_t half = 0; half < 2; ++half) {
    const int32_t* p = positions + 8 * half;
    __m256 best = _mm256_i32gather_ps(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), 4);
    __m256 low = best;
    __m256i arg = _mm256_setzero_si256();
    for (uint32_t j = 1; j < kBinSize; ++j) {
      __m256 v = _mm256_i32gather_ps(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + j * stride)), 4);
      __m256 greater = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
      best = _mm256_blendv_ps(best, v, greater);
      arg = _mm256_blendv_epi8(arg, _mm256_set1_epi32(int(j)), _mm256_castps_si256(greater));
      low = _mm256_min_ps(v, low);
    }
    const __m256 zero = _mm256_setzero_ps();
    __m256 empty = _mm256_and_ps(_mm256_cmp_ps(best, zero, _CMP_EQ_OQ), _mm256_cmp_ps(low, zero, _CMP_EQ_OQ));
    arg = _mm256_blendv_epi8(arg, _mm256_set1_epi32(kEmptyBin), _mm256_castps_si256(empty));
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), arg);
    for (uint32_t l = 0; l < 8; ++l) winners[8 * half + l] = static_cast<uint8_t>(lanes[l]);
  }
}
#endif

static Winners16 pick() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return winners16_avx512;
  if (__builtin_cpu_supports("avx2")) return winners16_avx2;
#endif
  return winners16_scalar;
}

const Winners16 winners16 = pick();

Winners16 available(const char* isa) {
  std::string name(isa);
  if (name == "scalar") return winners16_scalar;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (name == "avx512" && __builtin_cpu_supports("avx512f")) return winners16_avx512;
  if (name == "avx2" && __builtin_cpu_supports("avx2")) return winners16_avx2;
#endif
  return nullptr;
}

}  // namespace udt::dwta

// Deterministic 64-bit hashing for feature ids. Written for udt (MurmurHash3-style
// block mixing + the fmix64 finalizer); no platform- or process-dependent state, so the
// same bytes and seed give the same hash in every process and after save/load.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace udt {

inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

inline uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
  const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t k;
    std::memcpy(&k, p + i, 8);  // little-endian hosts only (x86-64, aarch64)
    k *= c1; k = rotl64(k, 31); k *= c2;
    h ^= k; h = rotl64(h, 27); h = h * 5 + 0x52dce729;
  }
  if (i < n) {
    uint64_t k = 0;
    std::memcpy(&k, p + i, n - i);
    k *= c1; k = rotl64(k, 31); k *= c2;
    h ^= k;
  }
  return fmix64(h ^ n);
}

// Order-dependent combination of two hashes (a then b).
inline uint64_t hash_combine(uint64_t a, uint64_t b) {
  return fmix64(a ^ (fmix64(b) + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

// Maps a 64-bit hash uniformly onto [0, dim) without a division (Lemire's reduction).
inline uint32_t reduce_to_dim(uint64_t h, uint32_t dim) {
  return static_cast<uint32_t>(((h >> 32) * static_cast<uint64_t>(dim)) >> 32);
}

}  // namespace udt

// CSR rows of hashed features, and the per-row builder that collects features, then
// sorts them by id and sums duplicates (so every row holds each id once).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hash.h"

namespace udt {

struct SparseRows {
  std::vector<uint32_t> indices;
  std::vector<float> values;
  std::vector<int64_t> offsets{0};
  int64_t n_rows() const { return int64_t(offsets.size()) - 1; }
};

struct RowBuilder {
  uint32_t dim = 1;
  std::vector<uint64_t> packed;   // (id << 32) | float bits: one sort orders by id
  std::vector<uint64_t> tokens;   // scratch for tokenizers
  std::vector<uint64_t> grams;
  std::string scratch;

  void emit(uint64_t hash, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    packed.push_back((uint64_t(reduce_to_dim(hash, dim)) << 32) | bits);
  }
  void emit_id(uint32_t id, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    packed.push_back((uint64_t(id) << 32) | bits);
  }

  // Appends the collected row to `out` (sorted ids, duplicates summed) and clears it.
  void flush(SparseRows& out) {
    std::sort(packed.begin(), packed.end());
    size_t i = 0;
    while (i < packed.size()) {
      const uint32_t id = uint32_t(packed[i] >> 32);
      float sum = 0;
      for (; i < packed.size() && uint32_t(packed[i] >> 32) == id; ++i) {
        float v;
        const uint32_t bits = uint32_t(packed[i]);
        std::memcpy(&v, &bits, 4);
        sum += v;
      }
      out.indices.push_back(id);
      out.values.push_back(sum);
    }
    out.offsets.push_back(int64_t(out.indices.size()));
    packed.clear();
  }
};

}  // namespace udt

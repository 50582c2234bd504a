// CSR rows of hashed features, and the per-row builder that collects a row's features and
// merges duplicate ids (summing their values) so every row holds each id once.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
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
  std::vector<uint64_t> packed;   // (id << 32) | float bits, in emission order; empty it with clear()
  std::vector<uint64_t> tokens;   // scratch for tokenizers
  std::vector<uint64_t> grams;
  std::string scratch;

  void emit(uint64_t hash, float value) { packed.push_back(pack(reduce_to_dim(hash, dim), value)); }

  // Merges repeated ids among the features emitted since `start` (one column's), damps the
  // counts to 1 + log(count) (a word seen 100 times is not 100 times the evidence) and scales
  // them to unit L2 norm, so a long text weighs as much as a short one.
  void normalize_since(size_t start) {
    merge_duplicates(start);
    if (start == merged_prefix_) merged_prefix_ = packed.size();  // still duplicate-free up to here
    double sum_sq = 0;
    for (size_t i = start; i < packed.size(); ++i) {
      const float count = value_of(packed[i]);
      const float damped = count > 1.0f ? 1.0f + std::log(count) : count;
      packed[i] = pack(uint32_t(packed[i] >> 32), damped);
      sum_sq += double(damped) * damped;
    }
    if (sum_sq <= 0) return;
    const float scale = float(1.0 / std::sqrt(sum_sq));
    for (size_t i = start; i < packed.size(); ++i)
      packed[i] = pack(uint32_t(packed[i] >> 32), value_of(packed[i]) * scale);
  }

  // Appends the collected row to `out` (each id once, values of repeated ids summed in
  // emission order, ids in order of first emission) and clears it.
  void flush(SparseRows& out) {
    if (merged_prefix_ != packed.size()) merge_duplicates(0);  // a lone normalized text needs no second pass
    for (uint64_t p : packed) {
      out.indices.push_back(uint32_t(p >> 32));
      out.values.push_back(value_of(p));
    }
    out.offsets.push_back(int64_t(out.indices.size()));
    clear();
  }

  void clear() {
    packed.clear();
    merged_prefix_ = 0;
  }

 private:
  // Open-addressing table sized to the row (not to `dim`): it stays in L1/L2 cache whatever
  // the dimension of the hashed space.
  std::vector<uint32_t> slot_ids_;   // id + 1 per slot, 0 = empty
  std::vector<uint32_t> slot_pos_;   // where that id sits in `packed`
  size_t merged_prefix_ = 0;         // packed[0, merged_prefix_) holds each id once

  static uint64_t pack(uint32_t id, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return (uint64_t(id) << 32) | bits;
  }

  static float value_of(uint64_t p) {
    float v;
    const uint32_t bits = uint32_t(p);
    std::memcpy(&v, &bits, 4);
    return v;
  }

  // Merges packed[start..] in place: the first occurrence of each id keeps its position and
  // accumulates the values of the later ones.
  void merge_duplicates(size_t start) {
    const size_t n = packed.size() - start;
    if (n < 2) return;
    int bits = 4;
    while ((size_t(1) << bits) < 2 * n) ++bits;
    const size_t cap = size_t(1) << bits;
    slot_ids_.assign(cap, 0);
    slot_pos_.resize(cap);
    const size_t mask = cap - 1;
    size_t w = start;
    for (size_t i = start; i < packed.size(); ++i) {
      const uint32_t id = uint32_t(packed[i] >> 32);
      size_t h = size_t((id * 2654435769u) >> (32 - bits));  // Fibonacci hashing: top bits
      while (true) {
        if (slot_ids_[h] == 0) {
          slot_ids_[h] = id + 1;
          slot_pos_[h] = uint32_t(w);
          packed[w++] = packed[i];
          break;
        }
        if (slot_ids_[h] == id + 1) {
          const uint32_t at = slot_pos_[h];
          packed[at] = pack(id, value_of(packed[at]) + value_of(packed[i]));
          break;
        }
        h = (h + 1) & mask;
      }
    }
    packed.resize(w);
  }
};

}  // namespace udt

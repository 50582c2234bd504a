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
  std::vector<uint64_t> packed;   // (id << 32) | float bits, in emission order
  std::vector<uint64_t> tokens;   // scratch for tokenizers
  std::vector<uint64_t> grams;
  std::string scratch;

  void emit(uint64_t hash, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    packed.push_back((uint64_t(reduce_to_dim(hash, dim)) << 32) | bits);
  }

  // Merges repeated ids among the features emitted since `start` (one column's), damps the
  // counts to 1 + log(count) (a word seen 100 times is not 100 times the evidence) and scales
  // them to unit L2 norm, so a long text weighs as much as a short one.
  void normalize_since(size_t start) {
    size_t w = start;
    if (dim <= kDirectDedupeMaxDim) {
      next_stamp();
      for (size_t i = start; i < packed.size(); ++i) {
        const uint32_t id = uint32_t(packed[i] >> 32);
        if (stamp_[id] != current_) {
          stamp_[id] = current_;
          slot_[id] = uint32_t(w);
          packed[w++] = packed[i];
        } else {
          packed[slot_[id]] = pack(id, value_of(packed[slot_[id]]) + value_of(packed[i]));
        }
      }
    } else {
      std::stable_sort(packed.begin() + std::ptrdiff_t(start), packed.end(),
                       [](uint64_t a, uint64_t b) { return (a >> 32) < (b >> 32); });
      for (size_t i = start; i < packed.size(); ++i) {
        if (w > start && (packed[w - 1] >> 32) == (packed[i] >> 32))
          packed[w - 1] = pack(uint32_t(packed[i] >> 32), value_of(packed[w - 1]) + value_of(packed[i]));
        else
          packed[w++] = packed[i];
      }
    }
    packed.resize(w);
    double sum_sq = 0;
    for (size_t i = start; i < w; ++i) {
      const float count = value_of(packed[i]);
      const float damped = count > 1.0f ? 1.0f + std::log(count) : count;
      packed[i] = pack(uint32_t(packed[i] >> 32), damped);
      sum_sq += double(damped) * damped;
    }
    if (sum_sq <= 0) return;
    const float scale = float(1.0 / std::sqrt(sum_sq));
    for (size_t i = start; i < w; ++i) packed[i] = pack(uint32_t(packed[i] >> 32), value_of(packed[i]) * scale);
  }

  // Appends the collected row to `out` (each id once, values of repeated ids summed, ids in
  // order of first emission) and clears it.
  void flush(SparseRows& out) {
    if (dim <= kDirectDedupeMaxDim)
      flush_direct(out);
    else
      flush_sorted(out);
    out.offsets.push_back(int64_t(out.indices.size()));
    packed.clear();
  }

 private:
  // Up to this dimension, duplicates are found with a per-id stamp array (O(1) per feature,
  // 8 bytes per id per thread); above it, by sorting the row.
  static constexpr uint32_t kDirectDedupeMaxDim = 1u << 21;
  std::vector<uint32_t> stamp_;  // per id: the row number (stamp) that last saw it
  std::vector<uint32_t> slot_;   // per id: its position in the output row
  uint32_t current_ = 0;

  void next_stamp() {
    if (stamp_.size() != dim) {
      stamp_.assign(dim, 0);
      slot_.resize(dim);
      current_ = 0;
    }
    if (++current_ == 0) {  // stamps wrapped around: start over
      std::fill(stamp_.begin(), stamp_.end(), 0);
      current_ = 1;
    }
  }

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

  void flush_direct(SparseRows& out) {
    next_stamp();
    for (uint64_t p : packed) {
      const uint32_t id = uint32_t(p >> 32);
      if (stamp_[id] != current_) {
        stamp_[id] = current_;
        slot_[id] = uint32_t(out.indices.size());
        out.indices.push_back(id);
        out.values.push_back(value_of(p));
      } else {
        out.values[slot_[id]] += value_of(p);
      }
    }
  }

  void flush_sorted(SparseRows& out) {
    // Stable by id: repeated ids are summed in emission order, as in flush_direct, so both
    // paths give bit-identical values; the ids then come out sorted.
    std::stable_sort(packed.begin(), packed.end(), [](uint64_t a, uint64_t b) { return (a >> 32) < (b >> 32); });
    size_t i = 0;
    while (i < packed.size()) {
      const uint32_t id = uint32_t(packed[i] >> 32);
      float sum = 0;
      for (; i < packed.size() && uint32_t(packed[i] >> 32) == id; ++i) sum += value_of(packed[i]);
      out.indices.push_back(id);
      out.values.push_back(sum);
    }
  }
};

}  // namespace udt

// The input layer sized to the data: hashed feature ids (a large space, so distinct features
// almost never share an id) mapped onto the rows the training data actually uses.
//
// A fixed hashed space sizes the model by a constant instead of by the data: UCI Adult's 14
// columns use ~730 distinct ids, yet got a 100,000-row embedding. The map gives each id the
// training data used its own row ("vocabulary", most frequent first, at most a cap), and sends
// every other id (first seen later, or beyond the cap) to one of `overflow` shared rows by hash.
// So training ids never collide, and new ids in continued training still get learnable rows.
//
// The map is applied to built rows, before any row scaling: an overflow row's duplicates in one
// row are summed. Training rows featurized before the map existed are mapped the same way
// (apply), so training and prediction see identical rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparse_rows.h"

namespace udt {

// Hashed id -> dense index, open addressing with linear probing (ids < 2^32 - 1).
class IdIndex {
 public:
  explicit IdIndex(size_t expected = 0);
  // Index of `id`, inserting it as `next` when new (then sets inserted).
  uint32_t find_or_insert(uint32_t id, uint32_t next, bool& inserted);
  // Index of `id`, or false when absent.
  bool find(uint32_t id, uint32_t& index) const;
  size_t capacity() const { return keys_.size(); }
  void grow();  // at least twice the slots, every key kept

 private:
  std::vector<uint32_t> keys_;   // id + 1 per slot, 0 = empty
  std::vector<uint32_t> index_;
  int bits_ = 0;
};

class IdMap {
 public:
  IdMap() = default;
  // vocabulary[r] = the hashed id of row r (distinct); overflow >= 1 rows follow them.
  IdMap(std::vector<uint32_t> vocabulary, uint32_t overflow);

  uint32_t rows() const { return uint32_t(vocabulary_.size()) + overflow_; }
  uint32_t overflow() const { return overflow_; }
  const std::vector<uint32_t>& vocabulary() const { return vocabulary_; }
  bool empty() const { return vocabulary_.empty() && overflow_ == 0; }

  uint32_t row_of(uint32_t id) const;
  // Maps every id of the CSR rows in place and merges, within each row, ids that met in an
  // overflow row (values summed, first occurrence kept); offsets shrink accordingly.
  // Rows before `first_row` are left as they are.
  void apply(std::vector<uint32_t>& indices, std::vector<float>& values, std::vector<int64_t>& offsets,
             size_t first_row = 0) const;
  void apply(SparseRows& rows, size_t first_row = 0) const { apply(rows.indices, rows.values, rows.offsets, first_row); }

 private:
  std::vector<uint32_t> vocabulary_;
  uint32_t overflow_ = 0;
  IdIndex rows_;  // vocabulary id -> its row
};

// Counts the ids of featurized training rows, chunk by chunk (memory grows with the distinct ids,
// not the rows), and picks the vocabulary: the ids by document frequency (the ids of one row are
// distinct), most frequent first (ties: first seen first), at most `max_rows`.
class VocabularyCounter {
 public:
  // Past `limit` distinct ids it stops counting (saturated()): a vocabulary that large is not kept.
  explicit VocabularyCounter(size_t limit = SIZE_MAX) : index_(1 << 12), limit_(limit) {}
  void add(const uint32_t* ids, size_t n);
  size_t n_distinct() const { return first_seen_.size(); }  // saturated: limit + 1
  bool saturated() const { return first_seen_.size() > limit_; }
  std::vector<uint32_t> choose(size_t max_rows) const;

 private:
  IdIndex index_;  // id -> its position in first_seen_
  size_t limit_;
  std::vector<uint32_t> first_seen_;  // distinct ids in order of first appearance
  std::vector<uint64_t> count_;
};

}  // namespace udt

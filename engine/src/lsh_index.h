#pragma once
// L hash tables of 2^K buckets; each bucket holds at most R neuron ids. A bucket that
// is full either keeps a uniform sample of everything offered to it (reservoir) or
// its R most recent arrivals (FIFO). Storage is one flat array of L * 2^K buckets of
// 1 + R words: the bucket's arrival counter, then its ids. Keeping the counter beside
// the ids makes an insert touch one cache line, not two; no per-bucket allocations.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aligned_matrix.h"
#include "random.h"

namespace udt {

enum class BucketPolicy { Reservoir, Fifo };
BucketPolicy parse_bucket_policy(const std::string& name);
const char* bucket_policy_name(BucketPolicy policy);

class LshIndex {
 public:
  static constexpr uint32_t kMaxBits = 30;                 // K
  static constexpr uint32_t kMaxTables = 4096;             // L
  static constexpr uint32_t kMaxCapacity = 0x7fffffffu;    // R: R + 1 and the arrival counter fit 32 bits
  static constexpr uint64_t kMaxWords = uint64_t(1) << 36;  // 256 GiB of buckets

  LshIndex() = default;
  LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy);
  // An index over existing words (a mapped model file's tables): `storage` must hold exactly
  // words_for(num_tables, bits, capacity) words; std::invalid_argument otherwise.
  LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy,
           std::shared_ptr<AlignedArray<uint32_t>> storage);
  LshIndex(LshIndex&&) = default;
  LshIndex& operator=(LshIndex&&) = default;
  LshIndex(const LshIndex&) = delete;  // copies would share the buckets
  LshIndex& operator=(const LshIndex&) = delete;
  // Words an index of this shape stores (L * 2^K * (1 + R)). Throws std::invalid_argument
  // naming K, L or R when one is out of range or the total exceeds kMaxWords, so a shape
  // read from a file is checked, without overflow, before anything is allocated.
  static size_t words_for(uint32_t num_tables, uint32_t bits, uint32_t capacity);

  void clear();
  void clear_table(uint32_t table);
  // Offers `neuron` to bucket `code` of `table`; rng decides reservoir replacements.
  void insert(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng);
  // Like insert, but a no-op when the bucket already holds the neuron.
  void insert_unique(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng);

  const uint32_t* bucket(uint32_t table, uint32_t code) const { return &words_[slot(table, code) + 1]; }
  uint32_t bucket_size(uint32_t table, uint32_t code) const {
    uint32_t seen = words_[slot(table, code)];
    return seen < capacity_ ? seen : capacity_;
  }
  void prefetch(uint32_t table, uint32_t code) const { __builtin_prefetch(&words_[slot(table, code)], 1); }

  uint32_t num_tables() const { return num_tables_; }
  uint32_t buckets_per_table() const { return buckets_; }
  uint32_t capacity() const { return capacity_; }
  BucketPolicy policy() const { return policy_; }
  size_t memory_bytes() const { return storage_ ? storage_->size() * 4 : 0; }
  // True when every stored id is < dim (a restored index can be checked before use).
  bool ids_below(uint32_t dim) const { return ids_below(words_, num_tables_, buckets_, capacity_, dim); }
  // The same over raw words laid out as an index of this shape (checked before they are copied in).
  static bool ids_below(const uint32_t* words, uint32_t num_tables, uint32_t buckets, uint32_t capacity,
                        uint32_t dim);

  // Raw state, for saving and restoring an index exactly. Shared, so a numpy view of the buckets
  // (state_views) keeps its memory alive when the index is reshaped (set_shape) under it.
  const std::shared_ptr<AlignedArray<uint32_t>>& words() const { return storage_; }

 private:
  size_t slot(uint32_t table, uint32_t code) const { return (size_t(table) * buckets_ + code) * (capacity_ + 1); }

  uint32_t num_tables_ = 0, buckets_ = 0, capacity_ = 0;
  BucketPolicy policy_ = BucketPolicy::Reservoir;
  std::shared_ptr<AlignedArray<uint32_t>> storage_;
  uint32_t* words_ = nullptr;  // storage_'s data: [table][bucket][1 + capacity]: arrivals since clear, then ids
};

}  // namespace udt

#pragma once
// L hash tables of 2^K buckets; each bucket holds at most R neuron ids. A bucket that
// is full either keeps a uniform sample of everything offered to it (reservoir) or
// its R most recent arrivals (FIFO). Storage is one flat array of L * 2^K buckets of
// 1 + R words: the bucket's arrival counter, then its ids. Keeping the counter beside
// the ids makes an insert touch one cache line, not two; no per-bucket allocations.
//
// A restored index may hold its words in 16 bits (a model file's tables whose ids and
// counters all fit, e.g. up to 65,536 outputs): half the memory, read in place from the
// file. Such an index is read-only; widen() copies it into 32-bit words before it changes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aligned_matrix.h"
#include "random.h"
#include "thread_pool.h"

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
  // The same over 16-bit words (read-only until widen()).
  LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy,
           std::shared_ptr<AlignedArray<uint16_t>> narrow_storage);
  LshIndex(LshIndex&&) = default;
  LshIndex& operator=(LshIndex&&) = default;
  LshIndex(const LshIndex&) = delete;  // copies would share the buckets
  LshIndex& operator=(const LshIndex&) = delete;
  // Words an index of this shape stores (L * 2^K * (1 + R)). Throws std::invalid_argument
  // naming K, L or R when one is out of range or the total exceeds kMaxWords, so a shape
  // read from a file is checked, without overflow, before anything is allocated.
  static size_t words_for(uint32_t num_tables, uint32_t bits, uint32_t capacity);

  // 16-bit words: read-only. widen() gives the index 32-bit words of its own (a copy), so that
  // it can change; callers that insert widen first, once, outside any parallel section.
  bool narrow() const { return narrow_ != nullptr; }
  void widen();

  // The mutators need 32-bit words (widen() a narrow index first).
  void clear();
  void clear_table(uint32_t table);
  // Offers `neuron` to bucket `code` of `table`; rng decides reservoir replacements.
  void insert(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng);
  // Like insert, but a no-op when the bucket already holds the neuron.
  void insert_unique(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng);

  // The bucket's ids of a 32-bit index (see for_each_id for either width).
  const uint32_t* bucket(uint32_t table, uint32_t code) const { return &words_[slot(table, code) + 1]; }
  uint32_t bucket_size(uint32_t table, uint32_t code) const {
    const uint32_t seen = narrow_ ? narrow_[slot(table, code)] : words_[slot(table, code)];
    return seen < capacity_ ? seen : capacity_;
  }
  // fn(id) for every id in the bucket, at either width.
  template <typename Fn>
  void for_each_id(uint32_t table, uint32_t code, Fn&& fn) const {
    const size_t at = slot(table, code);
    const uint32_t n = bucket_size(table, code);
    if (narrow_) {
      for (const uint16_t* id = narrow_ + at + 1; id != narrow_ + at + 1 + n; ++id) fn(uint32_t(*id));
    } else {
      for (const uint32_t* id = words_ + at + 1; id != words_ + at + 1 + n; ++id) fn(*id);
    }
  }
  void prefetch(uint32_t table, uint32_t code) const {
    if (narrow_) __builtin_prefetch(&narrow_[slot(table, code)], 0);
    else __builtin_prefetch(&words_[slot(table, code)], 1);
  }

  uint32_t num_tables() const { return num_tables_; }
  uint32_t buckets_per_table() const { return buckets_; }
  uint32_t capacity() const { return capacity_; }
  BucketPolicy policy() const { return policy_; }
  size_t memory_bytes() const {
    return storage_ ? storage_->size() * 4 : narrow_storage_ ? narrow_storage_->size() * 2 : 0;
  }
  // True when every stored id is < dim (a restored index can be checked before use).
  bool ids_below(uint32_t dim) const {
    return narrow_ ? ids_below(narrow_, num_tables_, buckets_, capacity_, dim)
                   : ids_below(words_, num_tables_, buckets_, capacity_, dim);
  }
  // The same over raw words laid out as an index of this shape (checked before they are used), with
  // the tables split over `pool` when one is given (a model's tables can be a GB).
  template <typename Word>
  static bool ids_below(const Word* words, uint32_t num_tables, uint32_t buckets, uint32_t capacity, uint32_t dim,
                        ThreadPool* pool = nullptr);

  // Raw state, for saving and restoring an index exactly: the 32-bit words, or (narrow) the 16-bit
  // ones; the other is null. Shared, so a numpy view of the buckets (state_views) keeps its memory
  // alive when the index is reshaped (set_shape) or widened under it.
  const std::shared_ptr<AlignedArray<uint32_t>>& words() const { return storage_; }
  const std::shared_ptr<AlignedArray<uint16_t>>& narrow_words() const { return narrow_storage_; }

 private:
  // Checks the shape (words_for) and sets it; the words an index of that shape stores.
  size_t take_shape(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy);
  size_t slot(uint32_t table, uint32_t code) const { return (size_t(table) * buckets_ + code) * (capacity_ + 1); }

  uint32_t num_tables_ = 0, buckets_ = 0, capacity_ = 0;
  BucketPolicy policy_ = BucketPolicy::Reservoir;
  std::shared_ptr<AlignedArray<uint32_t>> storage_;
  uint32_t* words_ = nullptr;  // storage_'s data: [table][bucket][1 + capacity]: arrivals since clear, then ids
  std::shared_ptr<AlignedArray<uint16_t>> narrow_storage_;  // instead of storage_, read-only
  const uint16_t* narrow_ = nullptr;                        // narrow_storage_'s data, the same layout
};

}  // namespace udt

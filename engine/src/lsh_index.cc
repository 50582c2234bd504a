#include "lsh_index.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace udt {

BucketPolicy parse_bucket_policy(const std::string& name) {
  if (name == "reservoir") return BucketPolicy::Reservoir;
  if (name == "fifo") return BucketPolicy::Fifo;
  throw std::invalid_argument("bucket_policy must be 'reservoir' or 'fifo', got '" + name + "'");
}

const char* bucket_policy_name(BucketPolicy policy) {
  return policy == BucketPolicy::Reservoir ? "reservoir" : "fifo";
}

size_t LshIndex::words_for(uint32_t num_tables, uint32_t bits, uint32_t capacity) {
  auto check = [](bool ok, const char* name, uint64_t value, uint64_t max) {
    if (!ok)
      throw std::invalid_argument(std::string(name) + " must be in [1, " + std::to_string(max) + "], got " +
                                  std::to_string(value));
  };
  check(bits >= 1 && bits <= kMaxBits, "LSH K (bits per table, lsh_k)", bits, kMaxBits);
  check(num_tables >= 1 && num_tables <= kMaxTables, "LSH L (number of tables, lsh_l)", num_tables, kMaxTables);
  check(capacity >= 1 && capacity <= kMaxCapacity, "LSH R (bucket capacity, lsh_r)", capacity, kMaxCapacity);
  const uint64_t per_table = (uint64_t(1) << bits) * (uint64_t(capacity) + 1);  // <= 2^61: no overflow
  if (per_table > kMaxWords / num_tables)
    throw std::invalid_argument("LSH index of L=" + std::to_string(num_tables) + " tables of 2^" +
                                std::to_string(bits) + " buckets of R=" + std::to_string(capacity) +
                                " ids exceeds 2^36 words (256 GiB)");
  return static_cast<size_t>(per_table * num_tables);
}

namespace {

// Storage given for an index of `words` words (a restored index's), checked before it is used.
template <typename Word>
std::shared_ptr<AlignedArray<Word>> checked(std::shared_ptr<AlignedArray<Word>> storage, size_t words) {
  if (!storage || storage->size() != words)
    throw std::invalid_argument("LSH tables: " + std::to_string(storage ? storage->size() : 0) + " " +
                                std::to_string(8 * sizeof(Word)) + "-bit words given, " + std::to_string(words) +
                                " expected");
  return storage;
}

}  // namespace

size_t LshIndex::take_shape(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy) {
  const size_t words = words_for(num_tables, bits, capacity);  // a bad shape throws before anything is allocated
  num_tables_ = num_tables;
  buckets_ = 1u << bits;
  capacity_ = capacity;
  policy_ = policy;
  return words;
}

LshIndex::LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy) {
  storage_ = std::make_shared<AlignedArray<uint32_t>>(take_shape(num_tables, bits, capacity, policy));
  words_ = storage_->data();
}

LshIndex::LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy,
                   std::shared_ptr<AlignedArray<uint32_t>> storage) {
  storage_ = checked(std::move(storage), take_shape(num_tables, bits, capacity, policy));
  words_ = storage_->data();
}

LshIndex::LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy,
                   std::shared_ptr<AlignedArray<uint16_t>> narrow_storage) {
  narrow_storage_ = checked(std::move(narrow_storage), take_shape(num_tables, bits, capacity, policy));
  narrow_ = narrow_storage_->data();
}

void LshIndex::widen() {
  if (!narrow_) return;
  auto wide = std::make_shared<AlignedArray<uint32_t>>(narrow_storage_->size());
  std::copy(narrow_, narrow_ + narrow_storage_->size(), wide->data());
  storage_ = std::move(wide);
  words_ = storage_->data();
  narrow_storage_.reset();
  narrow_ = nullptr;
}

template <typename Word>
bool LshIndex::ids_below(const Word* words, uint32_t num_tables, uint32_t buckets, uint32_t capacity, uint32_t dim,
                         ThreadPool* pool) {
  const size_t per_bucket = size_t(capacity) + 1;
  // Branch-free within a bucket (the largest of its first n ids), so the scan runs at memory speed.
  auto tables_ok = [&](size_t t0, size_t t1) {
    for (size_t b = t0 * buckets; b < t1 * buckets; ++b) {
      const Word* bucket = words + b * per_bucket;
      const uint32_t n = std::min<uint32_t>(bucket[0], capacity);
      uint32_t largest = 0;
      for (uint32_t j = 1; j <= n; ++j) largest = std::max<uint32_t>(largest, bucket[j]);
      if (n > 0 && largest >= dim) return false;
    }
    return true;
  };
  if (!pool || pool->size() == 1) return tables_ok(0, num_tables);
  std::atomic<bool> ok{true};
  pool->parallel_for(num_tables, 1, [&](size_t t0, size_t t1, size_t) {
    if (ok.load(std::memory_order_relaxed) && !tables_ok(t0, t1)) ok = false;
  });
  return ok.load();
}
template bool LshIndex::ids_below(const uint16_t*, uint32_t, uint32_t, uint32_t, uint32_t, ThreadPool*);
template bool LshIndex::ids_below(const uint32_t*, uint32_t, uint32_t, uint32_t, uint32_t, ThreadPool*);

void LshIndex::clear() {
  for (uint32_t t = 0; t < num_tables_; ++t) clear_table(t);
}

void LshIndex::clear_table(uint32_t table) {
  if (narrow_) throw std::logic_error("LshIndex: widen() a 16-bit index before changing it");
  for (uint32_t b = 0; b < buckets_; ++b) words_[slot(table, b)] = 0;
}

void LshIndex::insert(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng) {
  uint32_t& seen = words_[slot(table, code)];
  uint32_t* ids = &seen + 1;
  if (seen < capacity_) {
    ids[seen] = neuron;
  } else if (policy_ == BucketPolicy::Fifo) {
    ids[seen % capacity_] = neuron;  // overwrite the oldest
  } else {
    uint32_t j = rng.below(seen + 1);  // keep each of the seen+1 arrivals with prob R/(seen+1)
    if (j < capacity_) ids[j] = neuron;
  }
  if (seen != 0xffffffffu) ++seen;
}

void LshIndex::insert_unique(uint32_t table, uint32_t code, uint32_t neuron, Rng& rng) {
  const uint32_t* ids = bucket(table, code);
  uint32_t n = bucket_size(table, code);
  if (std::find(ids, ids + n, neuron) != ids + n) return;
  insert(table, code, neuron, rng);
}

}  // namespace udt

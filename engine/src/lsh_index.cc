#include "lsh_index.h"

#include <algorithm>
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

LshIndex::LshIndex(uint32_t num_tables, uint32_t bits, uint32_t capacity, BucketPolicy policy)
    : num_tables_(num_tables), buckets_(1u << bits), capacity_(capacity), policy_(policy) {
  if (capacity == 0) throw std::invalid_argument("LSH R (bucket capacity) must be >= 1");
  words_.resize(size_t(num_tables) * buckets_ * (capacity + 1));
}

void LshIndex::clear() {
  for (uint32_t t = 0; t < num_tables_; ++t) clear_table(t);
}

void LshIndex::clear_table(uint32_t table) {
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

#include "lsh_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "random.h"

namespace udt {

LshSampler::LshSampler(HashKind kind, const LshParams& params, BucketPolicy policy, const LshSchedule& schedule,
                       uint32_t vector_dim, uint64_t seed)
    : kind_(kind), params_(params), schedule_(schedule), vector_dim_(vector_dim), seed_(seed),
      index_(params.num_tables, params.bits, params.capacity, policy) {
  interval_ = std::max<uint32_t>(1, schedule.rebuild_interval);
  redraw_hashes();
}

void LshSampler::set_shape(uint32_t num_tables, uint32_t capacity) {
  LshIndex::words_for(num_tables, params_.bits, capacity);  // a bad shape throws before anything changes
  if (num_tables == params_.num_tables && capacity == params_.capacity && !index_.narrow()) return;
  const BucketPolicy policy = index_.policy();
  index_ = LshIndex();  // free the old tables first: at 670k outputs they are ~1 GB, and peak RSS counts both
  try {
    index_ = LshIndex(num_tables, params_.bits, capacity, policy);
  } catch (...) {  // out of memory: keep the old shape (emptied; the next rebuild refills it)
    index_ = LshIndex(params_.num_tables, params_.bits, params_.capacity, policy);
    throw;
  }
  take_shape(num_tables, capacity);
}

void LshSampler::restore_tables(LshIndex tables) {
  if (tables.buckets_per_table() != (1u << params_.bits) || tables.policy() != index_.policy())
    throw std::logic_error("LshSampler: restored tables of another K or bucket policy");
  const uint32_t num_tables = tables.num_tables(), capacity = tables.capacity();
  index_ = std::move(tables);
  take_shape(num_tables, capacity);
}

void LshSampler::take_shape(uint32_t num_tables, uint32_t capacity) {
  params_.capacity = capacity;
  if (num_tables != params_.num_tables) {
    params_.num_tables = num_tables;
    hash_draws_ = hash_draws_ > 0 ? hash_draws_ - 1 : 0;  // the current draw, for the new L
    redraw_hashes();
  }
}

void LshSampler::redraw_hashes() {
  hasher_ = make_hash_family(kind_, vector_dim_, params_.bits, params_.num_tables,
                             derive_seed(seed_, 0x4a54, hash_draws_));
  ++hash_draws_;
}

template <typename Fn>
void LshSampler::for_table_ranges(ThreadPool& pool, const Fn& fn) {
  const uint32_t n_tables = params_.num_tables;
  const size_t parts = std::min<size_t>(pool.size(), n_tables);
  pool.parallel_for(parts, 1, [&](size_t begin, size_t end, size_t) {
    for (size_t p = begin; p < end; ++p) {
      uint32_t t0 = static_cast<uint32_t>(p * n_tables / parts);
      uint32_t t1 = static_cast<uint32_t>((p + 1) * n_tables / parts);
      fn(t0, t1);
    }
  });
}

void LshSampler::rebuild(const AlignedMatrix& weights, ThreadPool& pool) {
  if (weights.cols() != vector_dim_) throw std::logic_error("LshSampler: weight width mismatch");
  const uint64_t build_id = rebuilds_;
  if (index_.narrow())  // restored 16-bit tables are refilled from scratch: new 32-bit words, no copy
    index_ = LshIndex(params_.num_tables, params_.bits, params_.capacity, index_.policy());
  // Each thread owns a range of tables and streams over all neurons once, so every
  // weight row is read once per thread rather than once per table.
  for_table_ranges(pool, [&](uint32_t t0, uint32_t t1) {
    std::vector<Rng> rngs;
    for (uint32_t t = t0; t < t1; ++t) {
      index_.clear_table(t);
      rngs.emplace_back(derive_seed(seed_, 0x5245 + build_id, t));
    }
    // Hash neuron n+1 (and prefetch its buckets) before inserting neuron n, so the
    // inserts' cache misses overlap with hashing work.
    const size_t n_neurons = weights.rows();
    std::vector<uint32_t> codes(t1 - t0), next(t1 - t0);
    if (n_neurons > 0) hasher_->hash(weights.row(0), t0, t1, codes.data());
    for (size_t n = 0; n < n_neurons; ++n) {
      if (n + 1 < n_neurons) {
        hasher_->hash(weights.row(n + 1), t0, t1, next.data());
        for (uint32_t t = t0; t < t1; ++t) index_.prefetch(t, next[t - t0]);
      }
      for (uint32_t t = t0; t < t1; ++t) index_.insert(t, codes[t - t0], static_cast<uint32_t>(n), rngs[t - t0]);
      codes.swap(next);
    }
  });
  ++rebuilds_;
}

double LshSampler::min_interval(size_t n_neurons, size_t batch_rows, uint32_t active) const {
  if (schedule_.rebuild_budget >= 1.0 || batch_rows == 0) return 1.0;
  // Operation counts, calibrated on measured phase times: a rebuild hashes every neuron
  // for every table (8 gathered coordinates per DWTA hash) and inserts it (a cache miss,
  // ~128 units); a training sample does ~4 multiply-adds per evaluated weight (logit,
  // dL/dh, dL/dW, Adam) and hashes its own activation once.
  const double hashes = std::ceil(params_.bits / 3.0);
  const double rebuild = double(n_neurons) * params_.num_tables * (8.0 * hashes + 128.0);
  const double per_sample = 4.0 * active * vector_dim_ + 8.0 * hashes * params_.num_tables;
  return rebuild / (schedule_.rebuild_budget * per_sample * double(batch_rows));
}

void LshSampler::after_batch(const AlignedMatrix& weights, ThreadPool& pool, size_t batch_rows, uint32_t active) {
  ++batches_;
  const double due = std::max(interval_, min_interval(weights.rows(), batch_rows, active));
  if (double(batches_ - last_rebuild_) < std::round(due)) return;
  if (schedule_.freeze_after_first_epoch && epochs_ >= 1) return;
  if (schedule_.rehash_every > 0 && rebuilds_ % schedule_.rehash_every == 0) redraw_hashes();
  rebuild(weights, pool);
  last_rebuild_ = batches_;
  interval_ = std::min<double>(interval_ * schedule_.rebuild_growth, std::max<uint32_t>(1, schedule_.max_rebuild_interval));
}

void LshSampler::augment(const std::vector<uint32_t>& samples, const std::vector<uint32_t>& labels,
                         const uint32_t* codes, ThreadPool& pool, size_t sample_stride, size_t table_stride) {
  if (labels.empty()) return;
  const uint64_t call = augments_++;
  index_.widen();  // augmenting adds to the tables it has: restored 16-bit ones are copied first
  for_table_ranges(pool, [&](uint32_t t0, uint32_t t1) {
    constexpr size_t kAhead = 8;  // buckets are scattered over a large index: fetch ahead
    for (uint32_t t = t0; t < t1; ++t) {
      Rng rng(derive_seed(seed_, 0x4155 + call, t));
      const uint32_t* table_codes = codes + t * table_stride;
      for (size_t j = 0; j < labels.size(); ++j) {
        if (j + kAhead < labels.size()) index_.prefetch(t, table_codes[samples[j + kAhead] * sample_stride]);
        index_.insert_unique(t, table_codes[samples[j] * sample_stride], labels[j], rng);
      }
    }
  });
}

std::vector<uint64_t> LshSampler::schedule_state() const {
  return {batches_, last_rebuild_, rebuilds_, hash_draws_, epochs_, augments_,
          static_cast<uint64_t>(std::llround(interval_ * 1e6))};
}

void LshSampler::set_schedule_state(const std::vector<uint64_t>& s) {
  if (s.size() != 7) throw std::invalid_argument("LSH schedule state must have 7 entries");
  batches_ = s[0]; last_rebuild_ = s[1]; rebuilds_ = s[2]; epochs_ = s[4]; augments_ = s[5];
  interval_ = double(s[6]) / 1e6;
  // Recreate the hash functions that were current: draw number hash_draws - 1.
  hash_draws_ = s[3] > 0 ? s[3] - 1 : 0;
  redraw_hashes();
}

}  // namespace udt

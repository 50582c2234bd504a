#pragma once
// The LSH side of a sparse layer: hash functions, the bucket index over the layer's
// neurons, and when to refresh them. Weights drift during training, so the index is
// rebuilt from the current weights on a schedule that starts frequent and grows
// sparser (interval x growth after each rebuild); the hash functions themselves are
// redrawn every few rebuilds; tables may be frozen after the first epoch.
#include <cstdint>
#include <memory>
#include <vector>

#include "aligned_matrix.h"
#include "hash_family.h"
#include "lsh_autotune.h"
#include "lsh_index.h"
#include "thread_pool.h"

namespace udt {

struct LshSchedule {
  uint32_t rebuild_interval = 10;     // batches before the first rebuild
  double rebuild_growth = 1.25;       // interval multiplier after each rebuild
  uint32_t max_rebuild_interval = 500;
  uint32_t rehash_every = 4;          // redraw hash functions every n-th rebuild (0 = never)
  bool freeze_after_first_epoch = false;
  // Rebuilds are spaced so their estimated cost stays under this share of the training
  // work (>= 1 disables the floor). The estimate is a deterministic operation count
  // (see LshSampler::min_interval), never a timer, so a seed still reproduces a run.
  double rebuild_budget = 0.1;
};

class LshSampler {
 public:
  LshSampler(HashKind kind, const LshParams& params, BucketPolicy policy, const LshSchedule& schedule,
             uint32_t vector_dim, uint64_t seed);

  // Rebuilds every table from the rows of `weights` (neuron n = row n).
  void rebuild(const AlignedMatrix& weights, ThreadPool& pool);
  // Called once per training batch of `batch_rows` samples that evaluated `active`
  // neurons each; rebuilds when the schedule says so.
  void after_batch(const AlignedMatrix& weights, ThreadPool& pool, size_t batch_rows, uint32_t active);
  // The fewest batches between rebuilds that keeps rebuilding within the budget.
  double min_interval(size_t n_neurons, size_t batch_rows, uint32_t active) const;
  void end_epoch() { ++epochs_; }

  void hash(const float* x, uint32_t* codes) const { hasher_->hash_all(x, codes); }

  // Label-neuron augmentation: neuron labels[j] goes into the buckets given by the
  // codes of its sample, in order; tables split across threads. The code of sample s in
  // table t is codes[s * sample_stride + t * table_stride]: sample-major (stride L, 1)
  // for a training batch, table-major (1, n) for the index pass over a whole data set,
  // where each table then reads its codes in order instead of one cache line per code.
  void augment(const std::vector<uint32_t>& samples, const std::vector<uint32_t>& labels,
               const uint32_t* codes, ThreadPool& pool, size_t sample_stride, size_t table_stride);

  // Reallocates the tables as L tables of buckets with capacity R, emptied (rebuild
  // afterwards). A new L redraws the hash functions for that many tables, from the same
  // draw number, so a saved schedule state restores them (set_schedule_state). The same shape keeps
  // the tables as they are, unless they are restored 16-bit ones: those are replaced by 32-bit words.
  void set_shape(uint32_t num_tables, uint32_t capacity);
  // Uses restored tables (an index of this sampler's K and bucket policy, any L and R, at
  // either word width) instead of its own; hash functions follow a new L as in set_shape.
  void restore_tables(LshIndex tables);

  const LshParams& params() const { return params_; }
  const LshIndex& index() const { return index_; }
  LshIndex& index() { return index_; }
  HashKind kind() const { return kind_; }
  BucketPolicy policy() const { return index_.policy(); }
  uint64_t rebuilds() const { return rebuilds_; }

  // Schedule state, saved with the model so a restored model continues identically.
  std::vector<uint64_t> schedule_state() const;
  void set_schedule_state(const std::vector<uint64_t>& state);

 private:
  void redraw_hashes();
  void take_shape(uint32_t num_tables, uint32_t capacity);
  template <typename Fn>
  void for_table_ranges(ThreadPool& pool, const Fn& fn);

  HashKind kind_;
  LshParams params_;
  LshSchedule schedule_;
  uint32_t vector_dim_;
  uint64_t seed_;
  std::unique_ptr<HashFamily> hasher_;
  LshIndex index_;
  uint64_t batches_ = 0, last_rebuild_ = 0, rebuilds_ = 0, hash_draws_ = 0, epochs_ = 0, augments_ = 0;
  double interval_ = 0;
};

}  // namespace udt

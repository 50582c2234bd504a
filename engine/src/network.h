#pragma once
// A SLIDE network: sparse input -> embedding layer (ReLU) -> output layer, dense or
// LSH-sparse (paper section 3), trained with sparse Adam on the engine's thread pool.
//
// One training batch alternates between per-sample and per-row work (see RowGroups):
//  1. per sample: hidden activation, active output neurons (LSH + forced labels);
//  2. per output row: logits of every sample that chose the row; per sample: loss, dz;
//  3. per output row: dL/dh contributions and the row's Adam step; per sample: dL/dh;
//     per input row: the embedding layer's Adam step;
//  4. label-neuron augmentation and the LSH rebuild schedule (tables split by thread).
// Going by row reads each used weight row once per batch instead of once per sample
// that uses it (~20x less memory traffic at 200k outputs), and gives every parameter
// row a single writer.
// Every random draw comes from a stream keyed by (seed, batch, sample) or (seed, table),
// so a given seed gives bit-identical weights whatever the number of threads.
// Thread safety: inference (predict_*, embed, getters) may run while another thread trains; it
// sees the model as of a completed batch (changes hold the ModelLock exclusively, inference shared).
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "active_set.h"
#include "embedding_layer.h"
#include "model_lock.h"
#include "network_config.h"
#include "output_layer.h"
#include "sparse_batch.h"
#include "thread_pool.h"

namespace udt {

// Keys of the network's random streams (derive_seed in random.h), one per purpose.
namespace stream {
constexpr uint64_t kInit = 0x494e4954;           // "INIT": weight initialisation
constexpr uint64_t kSample = 0x53414d50;         // "SAMP": + batch: training active-set top-ups
constexpr uint64_t kLsh = 0x4c534820;            // "LSH ": hash functions
constexpr uint64_t kPredict = kSample ^ 0xfeed;  // sparse inference top-ups
}  // namespace stream

// Wall-clock seconds spent in each part of training so far (a few clock reads per batch).
struct PhaseTimes {
  static constexpr const char* kNames[] = {"select", "group", "forward", "loss", "backward_output",
                                           "backward_hidden", "augment", "rebuild"};
  std::array<double, 8> seconds{};
};

// The LSH index's shape and counters, read together (Network::lsh_info).
struct LshInfo {
  LshParams current;   // the tables now (index_labels may have built more, or larger, ones)
  LshParams training;  // the shape training uses
  HashKind kind = HashKind::Dwta;
  BucketPolicy policy = BucketPolicy::Reservoir;
  uint64_t rebuilds = 0;
  size_t index_bytes = 0;
};

class Network {
 public:
  explicit Network(const NetworkConfig& config);

  // Mean loss of the batch. labels: one CSR row per input row (ids < output_dim).
  // row_weights (n_rows floats >= 0, or null for all 1): each sample's loss and gradient are
  // multiplied by its weight (sample and class weights; the caller normalises them).
  float train_batch(const CsrView& x, const CsrView& labels, const float* row_weights = nullptr);
  // Best `k` outputs per row, best first: ids (n x k) and scores (n x k). Dense evaluates
  // every output neuron; sparse evaluates max(k, ceil(sparsity * output_dim)) neurons
  // retrieved by LSH. Scores: softmax over the evaluated neurons, sigmoid, or raw (mse).
  void predict_topk(const CsrView& x, uint32_t k, bool sparse, double sparsity, int32_t* ids, float* scores);
  // All outputs (n x output_dim), dense.
  void predict_all(const CsrView& x, float* out);
  // Hidden-layer activations (n x hidden_dim): the learned representation of each row.
  void embed(const CsrView& x, float* out);
  void end_epoch();
  // Rebuilds the LSH tables from the current weights now (e.g. after loading weights).
  void rebuild_index();
  // Builds the index sparse inference uses, from the final weights (no training): the
  // tables are rebuilt, then each row's labels go into the buckets its hidden activation
  // hashes to (label-neuron augmentation as a pass of its own), so similar inputs
  // retrieve them. Buckets hold labels as well as neurons now, so R is re-derived by the
  // paper's rule, 2 x expected load, counting both. Run over the training data.
  // `num_tables` (0 = the training L): inference can afford more tables than training,
  // which rebuilds them over and over; the next train_batch restores the training shape.
  void index_labels(const CsrView& x, const CsrView& labels, uint32_t num_tables = 0);
  // Recreates the LSH tables as L tables of capacity R (restoring a saved index of that shape).
  void set_lsh_shape(uint32_t num_tables, uint32_t capacity);
  // Restores a saved index: L tables of capacity R (the training K) from `words`. Checks the
  // shape's bounds, that there are exactly L * 2^K * (1 + R) words and that every id is
  // < output_dim before anything is allocated or changed; throws std::invalid_argument naming
  // what is wrong.
  // With `owner` (what keeps `words` alive, e.g. a mapped model file) and 64-byte aligned words, the
  // tables use them in place (copy-on-write pages) instead of a copy. 16-bit words (a model file's
  // tables whose ids and counters fit) stay 16-bit: inference reads them as they are, and the
  // first rebuild or augmentation of continued training widens them.
  void restore_lsh(uint32_t num_tables, uint32_t capacity, const uint32_t* words, size_t n_words,
                   std::shared_ptr<void> owner = nullptr);
  void restore_lsh(uint32_t num_tables, uint32_t capacity, const uint16_t* words, size_t n_words,
                   std::shared_ptr<void> owner = nullptr);
  // Throws std::invalid_argument when restored state could make inference read out of
  // bounds (an LSH bucket holding an id >= output_dim); call after writing state views.
  void validate_state() const;

  const NetworkConfig& config() const { return config_; }  // fixed at construction
  bool uses_lsh() const { return output_.sampler != nullptr; }
  uint32_t active_neurons() const { return active_k_; }
  size_t n_threads() const { return pool_.size(); }
  // Consistent snapshots, taken under the lock.
  uint64_t batches_trained() const;
  void set_batches_trained(uint64_t batches);
  PhaseTimes phase_times() const;
  LshInfo lsh_info() const;  // uses_lsh() only
  std::vector<uint64_t> lsh_schedule_state() const;
  void set_lsh_schedule_state(const std::vector<uint64_t>& state);

  // Raw parameter storage (saving, loading, distributed merges): hold read_lock() to read it
  // consistently, write_lock() to change it, and call rebuild_index/validate_state afterwards.
  EmbeddingLayer& hidden() { return hidden_; }
  OutputLayer& output() { return output_; }
  std::shared_lock<std::shared_mutex> read_lock() const { return lock_.reading(); }
  ModelLock::Writing write_lock() { return lock_.writing(); }

 private:
  void check_inputs(const CsrView& x) const;
  void check_labeled(const CsrView& x, const CsrView& labels) const;  // inputs + one label row per input row
  void resize_scratch(size_t n_samples);
  void predict_sparse(const CsrView& x, uint32_t k, double sparsity, int32_t* ids, float* scores);
  void predict_dense(const CsrView& x, uint32_t k, int32_t* ids, float* scores);
  void restore_training_shape();

  mutable ModelLock lock_;
  NetworkConfig config_;
  ThreadPool pool_;
  EmbeddingLayer hidden_;
  OutputLayer output_;
  uint32_t active_k_ = 0;
  LshParams train_lsh_;  // the LSH shape training uses (index_labels may build another)
  uint64_t batches_ = 0;
  PhaseTimes phase_times_;

  // Training buffers, reused across batches.
  AlignedMatrix hidden_out_, hidden_grad_;
  std::vector<std::vector<uint32_t>> active_;
  std::vector<std::vector<float>> dz_;              // logits, then dL/dz, per sample
  RowGroups out_groups_;
  std::vector<AlignedMatrix> dh_partials_;
  std::vector<std::vector<uint32_t>> missed_;
  std::vector<uint32_t> codes_;
  std::vector<float> sample_loss_;
  std::vector<ActiveSetSelector> selectors_;        // per worker
  std::vector<std::vector<float>> row_scratch_;     // per worker, hidden_dim floats
  SelectorPool predict_selectors_;
};

}  // namespace udt

#pragma once
// The fully connected output layer: z_n = W[n] . h + b_n for the neurons a sample
// evaluates (every neuron when dense, an LSH-retrieved active set when sparse).
// One weight row per neuron keeps each evaluated neuron one contiguous 64-byte-aligned
// read, and lets the LSH index hash rows directly.
#include <cstdint>
#include <memory>
#include <vector>

#include "aligned_matrix.h"
#include "lsh_sampler.h"
#include "row_groups.h"
#include "sparse_adam.h"
#include "thread_pool.h"

namespace udt {

// The per-sample active sets chosen by a training batch's forward pass.
struct ActiveLists {
  const std::vector<std::vector<uint32_t>>& active;
  size_t n;
  size_t size() const { return n; }
  size_t count(size_t s) const { return active[s].size(); }
  const uint32_t* ids(size_t s) const { return active[s].data(); }
};

// dL/dh accumulates in this many fixed row chunks, summed afterwards in chunk order:
// parallel without shared writes, and independent of the thread count.
constexpr size_t kBackwardChunks = 8;

class OutputLayer {
 public:
  // initialize = false leaves the weights at zero (state to be restored).
  OutputLayer(uint32_t input_dim, uint32_t dim, uint64_t seed, bool initialize, ThreadPool& pool);

  // z[j] = W[ids[j]] . h + b for an active set (inference).
  void logits(const uint32_t* ids, size_t count, const float* h, float* z) const;

  // Training, one batch, row by row over `groups` (built from the active sets), so each
  // used weight row is read once per batch rather than once per sample using it.
  // forward: z[s][p] = W[active_s[p]] . hidden.row(s) + b.
  void forward(const RowGroups& groups, const AlignedMatrix& hidden, std::vector<std::vector<float>>& z,
               ThreadPool& pool) const;
  // backward: with dz[s][p] = dL/dz, adds dz * W[row] (pre-update weights) into
  // partials[chunk].row(s), then takes the Adam step on the row.
  void backward(const RowGroups& groups, const AlignedMatrix& hidden, const std::vector<std::vector<float>>& dz,
                std::vector<AlignedMatrix>& partials, ThreadPool& pool, const AdamConfig& adam, const AdamStep& step,
                std::vector<std::vector<float>>& scratch);
  // Logits of neurons [n0, n1) for `count` inputs (rows of `hidden` from `first`):
  // out[i * out_stride + (n - n0)]. Same arithmetic as logits(), so dense and sparse
  // inference score a neuron identically.
  void dense_logits(const AlignedMatrix& hidden, size_t first, size_t count, uint32_t n0, uint32_t n1, float* out,
                    size_t out_stride) const;

  uint32_t dim() const { return static_cast<uint32_t>(weights.rows()); }
  uint32_t input_dim() const { return static_cast<uint32_t>(weights.cols()); }

  AlignedMatrix weights;  // dim x input_dim
  std::vector<float> bias;
  SparseAdam adam_state;
  std::unique_ptr<LshSampler> sampler;  // null for a dense layer

};

}  // namespace udt

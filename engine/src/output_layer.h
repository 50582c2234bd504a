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

// Per-sample active sets and their dL/dz, as left by the forward/backward pass.
struct ActiveLists {
  const std::vector<std::vector<uint32_t>>& active;
  const std::vector<std::vector<float>>& grads;
  size_t n;
  size_t size() const { return n; }
  size_t count(size_t s) const { return active[s].size(); }
  const uint32_t* ids(size_t s) const { return active[s].data(); }
  const float* coefs(size_t s) const { return grads[s].data(); }
};

class OutputLayer {
 public:
  OutputLayer(uint32_t input_dim, uint32_t dim, uint64_t seed, ThreadPool& pool);

  float logit(uint32_t neuron, const float* h) const;
  // dh += sum_j dz[j] * W[active[j]]
  void backprop(const uint32_t* active, const float* dz, size_t n, float* dh) const;
  // Adam step on every row some sample evaluated; hidden.row(s) is sample s's input.
  void update(const ActiveLists& lists, const AlignedMatrix& hidden, ThreadPool& pool, const AdamConfig& adam,
              std::vector<std::vector<float>>& scratch);
  // Logits of neurons [n0, n1) for `count` inputs (rows of `hidden` from `first`):
  // out[i * out_stride + (n - n0)]. Each weight row is read once for all inputs.
  void dense_logits(const AlignedMatrix& hidden, size_t first, size_t count, uint32_t n0, uint32_t n1, float* out,
                    size_t out_stride) const;

  uint32_t dim() const { return static_cast<uint32_t>(weights.rows()); }
  uint32_t input_dim() const { return static_cast<uint32_t>(weights.cols()); }

  AlignedMatrix weights;  // dim x input_dim
  std::vector<float> bias;
  SparseAdam adam_state;
  std::unique_ptr<LshSampler> sampler;  // null for a dense layer

 private:
  RowGroups groups_;
};

}  // namespace udt

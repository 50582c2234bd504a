#pragma once
// The hidden layer over a sparse input: h = ReLU(b + sum_j x_j * W[j]), where W has one
// row per input feature, so a sample costs nnz(x) row reads instead of a dense
// input_dim x hidden product (an EmbeddingBag with weights, then ReLU).
#include <cstdint>
#include <vector>

#include "aligned_matrix.h"
#include "row_groups.h"
#include "rowwise_rms.h"
#include "sparse_adam.h"
#include "sparse_batch.h"
#include "thread_pool.h"

namespace udt {

class EmbeddingLayer {
 public:
  // `optimizer` picks the weights' state: Adam's two moments per weight, or one per row
  // (rowwise_rms.h); the bias row always uses Adam.
  // initialize = false leaves the weights at zero (state to be restored).
  EmbeddingLayer(uint32_t input_dim, uint32_t dim, double init_scale, uint64_t seed, EmbeddingOptimizer optimizer,
                 bool initialize, ThreadPool& pool);

  void forward(const CsrView& x, size_t row, float* out) const;
  // Optimizer step from dL/dh of every sample (rows of grad_out, already masked by ReLU').
  // Touched rows are regrouped (RowGroups) so each is summed by one thread. `step` holds the
  // global training step's bias corrections.
  void update(const CsrView& x, const AlignedMatrix& grad_out, ThreadPool& pool, const AdamConfig& adam,
              const AdamStep& step, std::vector<std::vector<float>>& scratch);

  uint32_t input_dim() const { return static_cast<uint32_t>(weights.rows()); }
  uint32_t dim() const { return static_cast<uint32_t>(weights.cols()); }

  AlignedMatrix weights;   // input_dim x dim
  AlignedMatrix bias;      // 1 x dim
  EmbeddingOptimizer optimizer;
  SparseAdam adam_state;   // for weights, with EmbeddingOptimizer::Adam (else no rows)
  RowwiseRms rowwise_state;  // for weights, with EmbeddingOptimizer::Rowwise (else no rows)
  SparseAdam bias_adam;    // for the bias row

 private:
  RowGroups groups_;
};

}  // namespace udt

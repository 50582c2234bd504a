#include "embedding_layer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "simd_kernels.h"
#include "weight_init.h"

namespace udt {

EmbeddingLayer::EmbeddingLayer(uint32_t input_dim, uint32_t dim, double init_scale, uint64_t seed,
                               EmbeddingOptimizer optimizer, bool initialize, ThreadPool& pool)
    : weights(input_dim, dim),
      bias(1, dim),
      optimizer(optimizer),
      adam_state(optimizer == EmbeddingOptimizer::Adam ? input_dim : 0, dim, false),
      rowwise_state(optimizer == EmbeddingOptimizer::Rowwise ? input_dim : 0),
      bias_adam(1, dim, false) {
  // Variance init_scale^2 / dim: at scale 1, a unit-length row of features lands at O(1) pre-activations.
  if (initialize) init_uniform_rows(weights, float(init_scale) / std::sqrt(float(dim)), seed, pool);
}

void EmbeddingLayer::forward(const CsrView& x, size_t row, float* out) const {
  const size_t d = dim();
  std::memcpy(out, bias.row(0), d * sizeof(float));
  // The rows of a text's hashed ids are scattered over a table far larger than cache: request
  // each row a few features ahead so the misses overlap instead of queueing one by one.
  constexpr size_t kAhead = 6;
  const size_t begin = x.row_begin(row), end = x.row_end(row);
  for (size_t e = begin; e < std::min(end, begin + kAhead); ++e) prefetch_row(weights.row(x.indices[e]), d);
  for (size_t e = begin; e < end; ++e) {
    if (e + kAhead < end) prefetch_row(weights.row(x.indices[e + kAhead]), d);
    simd::axpy(x.value(e), weights.row(x.indices[e]), out, d);
  }
  simd::relu(out, d);
}

namespace {
struct InputLists {
  const CsrView& x;
  size_t size() const { return x.n_rows; }
  size_t count(size_t s) const { return x.row_size(s); }
  const uint32_t* ids(size_t s) const { return x.indices + x.row_begin(s); }
};
}  // namespace

void EmbeddingLayer::update(const CsrView& x, const AlignedMatrix& grad_out, ThreadPool& pool,
                            const AdamConfig& adam, const AdamStep& step, std::vector<std::vector<float>>& scratch) {
  const size_t d = dim();
  groups_.build(InputLists{x}, weights.rows());
  const bool rowwise = optimizer == EmbeddingOptimizer::Rowwise;
  const RowwiseStep rowwise_step = RowwiseStep::at(adam, step.t);
  pool.parallel_for(groups_.rows.size(), 64, [&](size_t begin, size_t end, size_t worker) {
    float* g = scratch[worker].data();
    for (size_t i = begin; i < end; ++i) {
      std::memset(g, 0, d * sizeof(float));
      for (uint64_t e = groups_.begin[i]; e < groups_.begin[i + 1]; ++e) {
        const uint32_t s = groups_.samples[e];
        simd::axpy(x.value(x.row_begin(s) + groups_.positions[e]), grad_out.row(s), g, d);
      }
      const uint32_t r = groups_.rows[i];
      if (rowwise) rowwise_state.update_row(r, rowwise_step, weights.row(r), g, d, adam);
      else adam_state.update_row(r, step, weights.row(r), nullptr, g, 0.0f, adam);
    }
  });
  // The bias gradient is the sum over samples: one row, summed in sample order.
  float* g = scratch[0].data();
  std::memset(g, 0, d * sizeof(float));
  for (size_t s = 0; s < x.n_rows; ++s) simd::axpy(1.0f, grad_out.row(s), g, d);
  bias_adam.update_row(0, step, bias.row(0), nullptr, g, 0.0f, adam);
}

}  // namespace udt

#include "output_layer.h"

#include <cmath>
#include <cstring>

#include "simd_kernels.h"
#include "weight_init.h"

namespace udt {

OutputLayer::OutputLayer(uint32_t input_dim, uint32_t dim, uint64_t seed, bool initialize, ThreadPool& pool)
    : weights(dim, input_dim), bias(dim, 0.0f), adam_state(dim, input_dim, true) {
  // Variance 1/input_dim keeps initial logits O(1) (LeCun-style).
  if (initialize) init_uniform_rows(weights, 1.0f / std::sqrt(float(input_dim)), seed, pool);
}

void OutputLayer::logits(const uint32_t* ids, size_t count, const float* h, float* z) const {
  simd::dot_rows(weights.data(), weights.stride(), ids, count, h, weights.cols(), z);
  for (size_t j = 0; j < count; ++j) z[j] += bias[ids[j]];
}

void OutputLayer::forward(const RowGroups& groups, const AlignedMatrix& hidden, std::vector<std::vector<float>>& z,
                          ThreadPool& pool) const {
  const size_t d = weights.cols();
  pool.parallel_for(groups.rows.size(), 64, [&](size_t begin, size_t end, size_t) {
    for (size_t i = begin; i < end; ++i) {
      if (i + 2 < end) prefetch_row(weights.row(groups.rows[i + 2]), d);
      const uint32_t r = groups.rows[i];
      const float* w = weights.row(r);
      for (uint64_t e = groups.begin[i]; e < groups.begin[i + 1]; ++e)
        z[groups.samples[e]][groups.positions[e]] = simd::dot(w, hidden.row(groups.samples[e]), d) + bias[r];
    }
  });
}

void OutputLayer::backward(const RowGroups& groups, const AlignedMatrix& hidden,
                           const std::vector<std::vector<float>>& dz, std::vector<AlignedMatrix>& partials,
                           ThreadPool& pool, const AdamConfig& adam, const AdamStep& step,
                           std::vector<std::vector<float>>& scratch) {
  const size_t d = weights.cols();
  const std::vector<size_t> bounds = groups.chunk_bounds(partials.size());
  pool.parallel_for(partials.size(), 1, [&](size_t c0, size_t c1, size_t worker) {
    float* g = scratch[worker].data();
    for (size_t c = c0; c < c1; ++c) {
      AlignedMatrix& dh = partials[c];
      for (size_t i = bounds[c]; i < bounds[c + 1]; ++i) {
        const uint32_t r = groups.rows[i];
        if (i + 1 < bounds[c + 1]) {  // the next row's weights and moments, while this one updates
          const uint32_t next = groups.rows[i + 1];
          prefetch_row(weights.row(next), d);
          prefetch_row(adam_state.m.row(next), d);
          prefetch_row(adam_state.v.row(next), d);
        }
        float* w = weights.row(r);
        std::memset(g, 0, d * sizeof(float));
        float g_bias = 0.0f;
        for (uint64_t e = groups.begin[i]; e < groups.begin[i + 1]; ++e) {
          const uint32_t s = groups.samples[e];
          const float grad = dz[s][groups.positions[e]];
          simd::axpy(grad, w, dh.row(s), d);      // dL/dh_s, with the weights before this step
          simd::axpy(grad, hidden.row(s), g, d);  // dL/dW_r
          g_bias += grad;
        }
        adam_state.update_row(r, step, w, &bias[r], g, g_bias, adam);
      }
    }
  });
}

void OutputLayer::dense_logits(const AlignedMatrix& hidden, size_t first, size_t count, uint32_t n0, uint32_t n1,
                               float* out, size_t out_stride) const {
  for (size_t i = 0; i < count; ++i) {
    float* z = out + i * out_stride;
    simd::dot_rows(weights.row(n0), weights.stride(), nullptr, n1 - n0, hidden.row(first + i), weights.cols(), z);
    for (uint32_t n = n0; n < n1; ++n) z[n - n0] += bias[n];
  }
}

}  // namespace udt

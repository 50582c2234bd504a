#include "output_layer.h"

#include <cmath>
#include <cstring>

#include "simd_kernels.h"
#include "weight_init.h"

namespace udt {

OutputLayer::OutputLayer(uint32_t input_dim, uint32_t dim, uint64_t seed, ThreadPool& pool)
    : weights(dim, input_dim), bias(dim, 0.0f), adam_state(dim, input_dim, true) {
  // Variance 1/input_dim keeps initial logits O(1) (LeCun-style).
  init_uniform_rows(weights, 1.0f / std::sqrt(float(input_dim)), seed, pool);
}

float OutputLayer::logit(uint32_t neuron, const float* h) const {
  return simd::dot(weights.row(neuron), h, weights.cols()) + bias[neuron];
}

void OutputLayer::backprop(const uint32_t* active, const float* dz, size_t n, float* dh) const {
  const size_t d = weights.cols();
  for (size_t j = 0; j < n; ++j) {
    if (j + 4 < n) __builtin_prefetch(weights.row(active[j + 4]));
    simd::axpy(dz[j], weights.row(active[j]), dh, d);
  }
}

void OutputLayer::update(const ActiveLists& lists, const AlignedMatrix& hidden, ThreadPool& pool,
                         const AdamConfig& adam, std::vector<std::vector<float>>& scratch) {
  const size_t d = weights.cols();
  groups_.build(lists, weights.rows());
  pool.parallel_for(groups_.rows.size(), 256, [&](size_t begin, size_t end, size_t worker) {
    float* g = scratch[worker].data();
    for (size_t i = begin; i < end; ++i) {
      std::memset(g, 0, d * sizeof(float));
      float g_bias = 0.0f;
      for (uint64_t e = groups_.begin[i]; e < groups_.begin[i + 1]; ++e) {
        float c = groups_.coefs[e];
        simd::axpy(c, hidden.row(groups_.samples[e]), g, d);
        g_bias += c;
      }
      uint32_t r = groups_.rows[i];
      if (i + 1 < end) __builtin_prefetch(weights.row(groups_.rows[i + 1]));
      adam_state.update_row(r, weights.row(r), &bias[r], g, g_bias, adam);
    }
  });
}

void OutputLayer::dense_logits(const AlignedMatrix& hidden, size_t first, size_t count, uint32_t n0, uint32_t n1,
                               float* out, size_t out_stride) const {
  const size_t d = weights.cols();
  for (uint32_t n = n0; n < n1; ++n) {
    const float* w = weights.row(n);
    if (n + 2 < n1) __builtin_prefetch(weights.row(n + 2));
    for (size_t i = 0; i < count; ++i)
      out[i * out_stride + (n - n0)] = simd::dot(w, hidden.row(first + i), d) + bias[n];
  }
}

}  // namespace udt

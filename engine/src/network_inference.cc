// Inference: top-k outputs by dense (exact) or LSH-sparse evaluation, and all outputs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "network.h"
#include "random.h"
#include "simd_kernels.h"
#include "top_k.h"

namespace udt {

namespace {
constexpr size_t kPredictBlock = 32;     // inputs sharing one pass over a tile of weight rows
constexpr uint32_t kNeuronChunk = 512;   // output neurons per logits tile (512 KB at 256 wide: in L2)
constexpr size_t kSuperBlock = 1024;     // inputs whose hidden activations are held at once
constexpr uint32_t kMaxParts = 8;        // neuron ranges dense inference splits the outputs into
constexpr uint32_t kMinPartNeurons = 4096;

// Dense inference splits the output neurons into this many fixed ranges, so one input's
// matrix-vector product uses every core. The split depends only on the output size, never
// on threads or batch size, so scores are reproducible.
uint32_t dense_parts(uint32_t d) { return std::clamp<uint32_t>(d / kMinPartNeurons, 1, kMaxParts); }

// Softmax normaliser of one input over one neuron range: running max and sum of exp(z - max).
struct SoftmaxNorm {
  float max = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
};
}  // namespace

void Network::predict_topk(const CsrView& x, uint32_t k, bool sparse, double sparsity, int32_t* ids, float* scores) {
  check_inputs(x);
  const uint32_t d = config_.output_dim;
  if (k == 0 || k > d) throw std::invalid_argument("top_k must be in [1, " + std::to_string(d) + "], got " + std::to_string(k));
  if (sparse && !uses_lsh())
    throw std::invalid_argument("sparse inference needs an LSH index: this network's output layer is dense "
                                "(build it with output_sparsity < 1)");
  if (sparse && !(sparsity > 0.0 && sparsity <= 1.0))
    throw std::invalid_argument("inference sparsity must be in (0, 1], got " + std::to_string(sparsity));
  const auto lock = lock_.reading();
  if (sparse) predict_sparse(x, k, sparsity, ids, scores);
  else predict_dense(x, k, ids, scores);
}

void Network::predict_sparse(const CsrView& x, uint32_t k, double sparsity, int32_t* ids, float* scores) {
  const uint32_t d = config_.output_dim;
  const uint32_t n_active = std::min(d, std::max(k, static_cast<uint32_t>(std::ceil(sparsity * d))));
  const uint32_t n_tables = output_.sampler->params().num_tables;
  const size_t h_dim = config_.hidden_dim;
  pool_.parallel_for(x.n_rows, 16, [&](size_t begin, size_t end, size_t) {
    ActiveSetSelector selector = predict_selectors_.take();
    AlignedMatrix h(1, h_dim);
    std::vector<uint32_t> codes(n_tables), active;
    std::vector<float> z;
    TopK top(k);
    for (size_t s = begin; s < end; ++s) {
      hidden_.forward(x, s, h.row(0));
      output_.sampler->hash(h.row(0), codes.data());
      Rng rng(derive_seed(config_.seed, stream::kPredict, s));
      selector.select(output_.sampler->index(), codes.data(), n_active, nullptr, 0, rng, active, nullptr);
      z.resize(active.size());
      output_.logits(active.data(), active.size(), h.row(0), z.data());
      activate(config_.loss, z.data(), z.size());
      top.clear();
      for (size_t j = 0; j < active.size(); ++j) top.push(z[j], static_cast<int32_t>(active[j]));
      top.write(ids + s * k, scores + s * k);
    }
    predict_selectors_.give(std::move(selector));
  });
}

// Dense: work items are (block of inputs, neuron range) pairs. A block shares each tile of
// weight rows while it is in cache; softmax normalisers are accumulated online (running max
// and sum), so no n x d logits matrix is materialised; the ranges' top-k lists and
// normalisers are merged per input at the end, in range order.
void Network::predict_dense(const CsrView& x, uint32_t k, int32_t* ids, float* scores) {
  const uint32_t d = config_.output_dim;
  const size_t h_dim = config_.hidden_dim;
  const uint32_t parts = dense_parts(d);
  const bool softmax = config_.loss == LossKind::Softmax;
  AlignedMatrix h(std::min(kSuperBlock, x.n_rows), h_dim);
  std::vector<int32_t> part_ids;
  std::vector<float> part_scores;
  std::vector<SoftmaxNorm> part_norm;
  for (size_t first = 0; first < x.n_rows; first += kSuperBlock) {
    const size_t count = std::min(kSuperBlock, x.n_rows - first);
    pool_.parallel_for(count, 16, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; ++i) hidden_.forward(x, first + i, h.row(i));
    });
    part_ids.resize(parts * count * k);
    part_scores.resize(parts * count * k);
    part_norm.assign(parts * count, SoftmaxNorm{});
    const size_t n_blocks = (count + kPredictBlock - 1) / kPredictBlock;
    pool_.parallel_for(n_blocks * parts, 1, [&](size_t w0, size_t w1, size_t) {
      std::vector<float> tile(kNeuronChunk);
      std::vector<TopK> tops(kPredictBlock, TopK(k));
      for (size_t w = w0; w < w1; ++w) {
        const size_t block = w / parts, part = w % parts;
        const uint32_t p0 = static_cast<uint32_t>(uint64_t(d) * part / parts);
        const uint32_t p1 = static_cast<uint32_t>(uint64_t(d) * (part + 1) / parts);
        const size_t i0 = block * kPredictBlock, i1 = std::min(count, i0 + kPredictBlock);
        for (size_t i = i0; i < i1; ++i) tops[i - i0].clear();
        for (uint32_t n0 = p0; n0 < p1; n0 += kNeuronChunk) {
          const uint32_t n1 = std::min(p1, n0 + kNeuronChunk);
          for (size_t i = i0; i < i1; ++i) {  // the tile stays in cache across the block
            output_.dense_logits(h, i, 1, n0, n1, tile.data(), kNeuronChunk);
            if (softmax) {
              SoftmaxNorm& norm = part_norm[part * count + i];
              float m = norm.max;
              for (uint32_t j = 0; j < n1 - n0; ++j) m = std::max(m, tile[j]);
              float sum = norm.sum * std::exp(norm.max - m);
              for (uint32_t j = 0; j < n1 - n0; ++j) sum += std::exp(tile[j] - m);
              norm.max = m;
              norm.sum = sum;
            }
            TopK& top = tops[i - i0];
            for (uint32_t j = 0; j < n1 - n0; ++j) top.push(tile[j], static_cast<int32_t>(n0 + j));
          }
        }
        for (size_t i = i0; i < i1; ++i)
          tops[i - i0].write(&part_ids[(part * count + i) * k], &part_scores[(part * count + i) * k]);
      }
    });
    // Merge the ranges and turn logits into scores.
    for (size_t i = 0; i < count; ++i) {
      TopK top(k);
      float m = -std::numeric_limits<float>::infinity(), sum = 0.0f;
      for (uint32_t p = 0; p < parts; ++p) {
        const SoftmaxNorm& norm = part_norm[p * count + i];
        const int32_t* range_ids = &part_ids[(p * count + i) * k];
        const float* range_scores = &part_scores[(p * count + i) * k];
        for (uint32_t j = 0; j < k; ++j)
          if (range_ids[j] >= 0) top.push(range_scores[j], range_ids[j]);
        if (softmax && norm.sum > 0.0f) {
          const float mm = std::max(m, norm.max);
          sum = sum * std::exp(m - mm) + norm.sum * std::exp(norm.max - mm);
          m = mm;
        }
      }
      int32_t* out_ids = ids + (first + i) * k;
      float* out_scores = scores + (first + i) * k;
      top.write(out_ids, out_scores);
      for (uint32_t j = 0; j < k; ++j) {
        if (out_ids[j] < 0) continue;
        float& v = out_scores[j];
        if (softmax) v = std::exp(v - m) / sum;
        else if (config_.loss == LossKind::Sigmoid) v = 1.0f / (1.0f + std::exp(-v));
      }
    }
  }
}

void Network::predict_all(const CsrView& x, float* out) {
  check_inputs(x);
  const auto lock = lock_.reading();
  const size_t n = x.n_rows, d = config_.output_dim, h_dim = config_.hidden_dim;
  const size_t n_blocks = (n + kPredictBlock - 1) / kPredictBlock;
  pool_.parallel_for(n_blocks, 1, [&](size_t b0, size_t b1, size_t) {
    AlignedMatrix h(kPredictBlock, h_dim);
    for (size_t b = b0; b < b1; ++b) {
      const size_t first = b * kPredictBlock, count = std::min(kPredictBlock, n - first);
      for (size_t i = 0; i < count; ++i) hidden_.forward(x, first + i, h.row(i));
      output_.dense_logits(h, 0, count, 0, static_cast<uint32_t>(d), out + first * d, d);
      for (size_t i = 0; i < count; ++i) activate(config_.loss, out + (first + i) * d, d);
    }
  });
}

void Network::embed(const CsrView& x, float* out) {
  check_inputs(x);
  const auto lock = lock_.reading();
  const size_t h_dim = config_.hidden_dim;
  pool_.parallel_for(x.n_rows, 64, [&](size_t begin, size_t end, size_t) {
    AlignedMatrix h(1, h_dim);  // forward writes an aligned, padded row; out rows are packed
    for (size_t i = begin; i < end; ++i) {
      hidden_.forward(x, i, h.row(0));
      std::copy(h.row(0), h.row(0) + h_dim, out + i * h_dim);
    }
  });
}

}  // namespace udt

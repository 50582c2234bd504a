#include "network.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "random.h"
#include "simd_kernels.h"

namespace udt {

namespace {

// Adds the time since the last lap to a phase's total.
class Stopwatch {
 public:
  explicit Stopwatch(PhaseTimes& times) : times_(times), last_(std::chrono::steady_clock::now()) {}
  void lap(size_t phase) {
    auto now = std::chrono::steady_clock::now();
    times_.seconds[phase] += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  PhaseTimes& times_;
  std::chrono::steady_clock::time_point last_;
};

LshParams resolve_lsh(const NetworkConfig& c) {
  LshParams p = autotune_lsh(c.output_sparsity, c.output_dim, c.autotune_c1, c.autotune_c2, c.autotune_max_tables);
  if (c.lsh_bits) { p.bits = c.lsh_bits; p.capacity = default_bucket_capacity(c.output_dim, p.bits); }
  if (c.lsh_tables) p.num_tables = c.lsh_tables;
  if (c.lsh_capacity) p.capacity = c.lsh_capacity;
  return p;
}

const NetworkConfig& validated(const NetworkConfig& c) {
  c.validate();  // before any member is built from it
  return c;
}

}  // namespace

Network::Network(const NetworkConfig& config)
    : config_(validated(config)),
      pool_(config.n_threads),
      hidden_(config.input_dim, config.hidden_dim, config.embedding_init_scale,
              derive_seed(config.seed, stream::kInit, 1), config.embedding_optimizer, config.initialize, pool_),
      output_(config.hidden_dim, config.output_dim, derive_seed(config.seed, stream::kInit, 2), config.initialize,
              pool_),
      predict_selectors_(config.output_dim) {
  active_k_ = config_.output_dim;
  if (config_.uses_lsh()) {
    LshParams p = resolve_lsh(config_);
    train_lsh_ = p;
    active_k_ = std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(config_.output_sparsity * config_.output_dim)));
    active_k_ = std::min(active_k_, config_.output_dim);
    output_.sampler = std::make_unique<LshSampler>(config_.hash_kind, p, config_.bucket_policy, config_.schedule,
                                                   config_.hidden_dim, derive_seed(config_.seed, stream::kLsh));
    if (config_.initialize) output_.sampler->rebuild(output_.weights, pool_);
  }
  selectors_.reserve(pool_.size());
  for (size_t w = 0; w < pool_.size(); ++w) {
    selectors_.emplace_back(config_.uses_lsh() ? config_.output_dim : 0);
    row_scratch_.emplace_back(config_.hidden_dim, 0.0f);
  }
}

void Network::check_inputs(const CsrView& x) const {
  validate_csr(x, x.nnz(), config_.input_dim, "inputs");
}

void Network::check_labeled(const CsrView& x, const CsrView& labels) const {
  if (labels.n_rows != x.n_rows)
    throw std::invalid_argument("labels have " + std::to_string(labels.n_rows) + " rows but inputs have " +
                                std::to_string(x.n_rows));
  check_inputs(x);
  validate_csr(labels, labels.nnz(), config_.output_dim, "labels");
}

void Network::resize_scratch(size_t n) {
  if (hidden_out_.rows() < n) {
    hidden_out_ = AlignedMatrix(n, config_.hidden_dim);
    hidden_grad_ = AlignedMatrix(n, config_.hidden_dim);
    dh_partials_.clear();
    for (size_t c = 0; c < kBackwardChunks; ++c) dh_partials_.emplace_back(n, config_.hidden_dim);
  }
  if (active_.size() < n) { active_.resize(n); dz_.resize(n); missed_.resize(n); }
  sample_loss_.assign(n, 0.0f);
  if (uses_lsh()) codes_.resize(n * output_.sampler->params().num_tables);
}

float Network::train_batch(const CsrView& x, const CsrView& labels, const float* row_weights) {
  check_labeled(x, labels);
  const size_t n = x.n_rows;
  if (n == 0) return 0.0f;
  const auto lock = lock_.writing();
  restore_training_shape();
  resize_scratch(n);
  const size_t h_dim = config_.hidden_dim;
  const uint32_t n_tables = uses_lsh() ? output_.sampler->params().num_tables : 0;
  const bool augment = uses_lsh() && config_.label_augmentation;
  const float scale = 1.0f / float(n);
  const uint64_t batch = batches_;

  Stopwatch watch(phase_times_);
  const AdamStep step = AdamStep::at(config_.adam, batches_ + 1);
  // Phase 1, per sample: hidden activation and the active output neurons.
  const uint32_t max_retrieved =
      active_k_ - static_cast<uint32_t>(std::lround(config_.random_negatives * double(active_k_)));
  pool_.parallel_for(n, 8, [&](size_t begin, size_t end, size_t worker) {
    for (size_t s = begin; s < end; ++s) {
      float* h = hidden_out_.row(s);
      hidden_.forward(x, s, h);
      std::vector<uint32_t>& active = active_[s];
      missed_[s].clear();
      if (uses_lsh()) {
        uint32_t* codes = &codes_[s * n_tables];
        output_.sampler->hash(h, codes);
        Rng rng(derive_seed(config_.seed, stream::kSample + batch, s));
        selectors_[worker].select(output_.sampler->index(), codes, active_k_, labels.indices + labels.row_begin(s),
                                  static_cast<uint32_t>(labels.row_size(s)), rng, active,
                                  augment ? &missed_[s] : nullptr, max_retrieved);
      } else if (active.size() != config_.output_dim) {
        active.resize(config_.output_dim);
        std::iota(active.begin(), active.end(), 0u);
      }
      dz_[s].resize(active.size());
    }
  });

  watch.lap(0);
  // Phase 2, per output row: logits. Then per sample: loss and dL/dz.
  out_groups_.build_sorted(ActiveLists{active_, n}, config_.output_dim, pool_);
  watch.lap(1);
  output_.forward(out_groups_, hidden_out_, dz_, pool_);
  watch.lap(2);
  pool_.parallel_for(n, 16, [&](size_t begin, size_t end, size_t) {
    for (size_t s = begin; s < end; ++s) {
      const float* label_values = labels.values ? labels.values + labels.row_begin(s) : nullptr;
      const float weight = row_weights ? row_weights[s] : 1.0f;
      sample_loss_[s] = weight * loss_and_gradient(config_.loss, active_[s].data(), dz_[s].data(),
                                                   active_[s].size(), labels.indices + labels.row_begin(s),
                                                   label_values, labels.row_size(s), scale * weight);
    }
  });

  // Phase 3, per output row: dL/dh partials and the Adam step; then per sample: dL/dh
  // summed in chunk order and masked by ReLU'; then the embedding layer's step.
  watch.lap(3);
  for (AlignedMatrix& p : dh_partials_) std::memset(p.data(), 0, n * p.stride() * sizeof(float));
  output_.backward(out_groups_, hidden_out_, dz_, dh_partials_, pool_, config_.adam, step, row_scratch_);
  watch.lap(4);
  pool_.parallel_for(n, 32, [&](size_t begin, size_t end, size_t) {
    for (size_t s = begin; s < end; ++s) {
      float* dh = hidden_grad_.row(s);
      std::memcpy(dh, dh_partials_[0].row(s), h_dim * sizeof(float));
      for (size_t c = 1; c < dh_partials_.size(); ++c) simd::axpy(1.0f, dh_partials_[c].row(s), dh, h_dim);
      const float* h = hidden_out_.row(s);
      for (size_t j = 0; j < h_dim; ++j) dh[j] = h[j] > 0.0f ? dh[j] : 0.0f;
    }
  });
  hidden_.update(x, hidden_grad_, pool_, config_.adam, step, row_scratch_);
  watch.lap(5);

  // Phase 4: label-neuron augmentation (paper 4.3), then the table rebuild schedule.
  if (augment) {
    std::vector<uint32_t> samples, missed_labels;
    for (size_t s = 0; s < n; ++s)
      for (uint32_t label : missed_[s]) { samples.push_back(static_cast<uint32_t>(s)); missed_labels.push_back(label); }
    output_.sampler->augment(samples, missed_labels, codes_.data(), pool_, n_tables, 1);
  }
  watch.lap(6);
  if (uses_lsh()) output_.sampler->after_batch(output_.weights, pool_, n, active_k_);
  watch.lap(7);
  ++batches_;

  double total = 0.0;
  for (size_t s = 0; s < n; ++s) total += sample_loss_[s];
  return static_cast<float>(total / double(n));
}

void Network::restore_training_shape() {
  if (!uses_lsh()) return;
  LshSampler& sampler = *output_.sampler;
  if (sampler.params().num_tables == train_lsh_.num_tables && sampler.params().capacity == train_lsh_.capacity)
    return;
  sampler.set_shape(train_lsh_.num_tables, train_lsh_.capacity);
  sampler.rebuild(output_.weights, pool_);
}


void Network::index_labels(const CsrView& x, const CsrView& labels, uint32_t num_tables) {
  if (!uses_lsh()) throw std::invalid_argument("index_labels needs an LSH index (output_sparsity < 1)");
  if (num_tables > 4096) throw std::invalid_argument("num_tables must be in [0, 4096], got " + std::to_string(num_tables));
  check_labeled(x, labels);
  const size_t n = x.n_rows;
  const auto lock = lock_.writing();
  LshSampler& sampler = *output_.sampler;
  const uint32_t n_tables = num_tables ? num_tables : train_lsh_.num_tables;
  const uint64_t entries = uint64_t(config_.output_dim) + labels.nnz();
  const uint32_t capacity = std::max(config_.lsh_capacity, default_bucket_capacity(entries, sampler.params().bits));
  sampler.set_shape(n_tables, capacity);
  sampler.rebuild(output_.weights, pool_);
  // Codes table-major (codes[t * n + s]) so each table's augmentation reads them in order.
  // Rows are hashed in blocks and transposed, each table receiving a contiguous run.
  constexpr size_t kBlock = 64;
  std::vector<uint32_t> codes(n * n_tables);
  pool_.parallel_for((n + kBlock - 1) / kBlock, 1, [&](size_t b0, size_t b1, size_t) {
    AlignedMatrix h(1, config_.hidden_dim);
    std::vector<uint32_t> block(kBlock * n_tables);
    for (size_t b = b0; b < b1; ++b) {
      const size_t first = b * kBlock, count = std::min(kBlock, n - first);
      for (size_t i = 0; i < count; ++i) {
        hidden_.forward(x, first + i, h.row(0));
        sampler.hash(h.row(0), &block[i * n_tables]);
      }
      for (uint32_t t = 0; t < n_tables; ++t)
        for (size_t i = 0; i < count; ++i) codes[t * n + first + i] = block[i * n_tables + t];
    }
  });
  std::vector<uint32_t> samples, ids;
  for (size_t s = 0; s < n; ++s)
    for (size_t e = labels.row_begin(s); e < labels.row_end(s); ++e) {
      samples.push_back(static_cast<uint32_t>(s));
      ids.push_back(labels.indices[e]);
    }
  sampler.augment(samples, ids, codes.data(), pool_, 1, n);
}

}  // namespace udt

#pragma once
// Row-wise adaptive steps for embedding tables: one second moment per row instead of Adam's
// two moments per weight (as large recommender systems train their embedding tables, cf.
// FBGEMM's row-wise AdaGrad). For a 2^20 x 128 table that is 4 MB of optimizer state instead
// of 1 GB, and an update reads and writes the weight row only (Adam also streams m and v:
// three times the memory traffic, which dominated text training).
//
// The step is Adam's with beta1 = 0 and v shared by the row:
//   v_r = b2 v_r + (1 - b2) mean_j(g_j^2);   w_r -= lr_t g / (sqrt(v_r) + eps_t)
// with the bias corrections of the global step t (lr_t = lr sqrt(1 - b2^t), eps_t likewise).
// Without momentum a row has no tail of idle-step updates to catch up: a row idle for k steps
// only lets v decay by b2^k, applied exactly when the row is next used. A feature seen once
// moves by lr / sqrt(1 - b2) (~32 lr): the same total distance Adam's one hit travels with its
// momentum tail (sparse_adam.h), so rare and frequent features keep Adam's balance.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparse_adam.h"

namespace udt {

enum class EmbeddingOptimizer { Adam, Rowwise };
EmbeddingOptimizer parse_embedding_optimizer(const char* name);  // "adam" | "rowwise"; throws invalid_argument
const char* embedding_optimizer_name(EmbeddingOptimizer kind);

// The bias correction of global step t, the same for every row a batch updates (computed once per batch).
struct RowwiseStep {
  uint64_t t = 0;
  double correction = 0.0;  // sqrt(1 - b2^t)
  static RowwiseStep at(const AdamConfig& cfg, uint64_t t);
};

class RowwiseRms {
 public:
  RowwiseRms() = default;
  explicit RowwiseRms(size_t rows) : v(rows, 0.0f), steps(rows, 0) {}

  // Applies gradient g (n floats) to row r's weights at global step `step.t` (shared by a batch).
  void update_row(size_t r, const RowwiseStep& step, float* weights, const float* g, size_t n, const AdamConfig& cfg);

  std::vector<float> v;         // the row's mean squared gradient, decayed by b2 per global step
  std::vector<uint64_t> steps;  // global step of the row's last update (0 = never)
};

}  // namespace udt

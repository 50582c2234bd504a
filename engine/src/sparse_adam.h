#pragma once
// Adam that touches only the rows a batch used ("lazy" Adam): an untouched row's
// moments are not decayed, and each row counts its own steps so its bias correction
// matches the number of updates it actually received (a row first used at batch 1000
// gets the same large early-step correction as a fresh parameter would).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "aligned_matrix.h"

namespace udt {

struct AdamConfig {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-7f;
};

class SparseAdam {
 public:
  SparseAdam() = default;
  SparseAdam(size_t rows, size_t cols, bool with_bias);

  // Applies gradient g (cols floats) and bias gradient g_bias to row r.
  void update_row(size_t r, float* weights, float* bias, const float* g, float g_bias, const AdamConfig& cfg);

  AlignedMatrix m, v;
  std::vector<float> m_bias, v_bias;
  std::vector<uint32_t> steps;  // per row
};

}  // namespace udt

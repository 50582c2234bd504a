#include "sparse_adam.h"

#include <cmath>

#include "simd_kernels.h"

namespace udt {

SparseAdam::SparseAdam(size_t rows, size_t cols, bool with_bias)
    : m(rows, cols), v(rows, cols), steps(rows, 0) {
  if (with_bias) { m_bias.assign(rows, 0.0f); v_bias.assign(rows, 0.0f); }
}

void SparseAdam::update_row(size_t r, float* weights, float* bias, const float* g, float g_bias,
                            const AdamConfig& cfg) {
  uint32_t t = ++steps[r];
  double c1 = 1.0 - std::pow(double(cfg.beta1), double(t));
  double c2 = std::sqrt(1.0 - std::pow(double(cfg.beta2), double(t)));
  // w -= lr * m_hat / (sqrt(v_hat) + eps)  ==  w -= (lr * c2 / c1) * m / (sqrt(v) + eps * c2)
  float lr_t = static_cast<float>(cfg.learning_rate * c2 / c1);
  float eps_t = static_cast<float>(cfg.eps * c2);
  simd::adam_update(weights, m.row(r), v.row(r), g, m.cols(), lr_t, cfg.beta1, cfg.beta2, eps_t);
  if (bias) {
    float& mb = m_bias[r];
    float& vb = v_bias[r];
    mb = cfg.beta1 * mb + (1.0f - cfg.beta1) * g_bias;
    vb = cfg.beta2 * vb + (1.0f - cfg.beta2) * g_bias * g_bias;
    *bias -= lr_t * mb / (std::sqrt(vb) + eps_t);
  }
}

}  // namespace udt

#include "sparse_adam.h"

#include <cmath>

#include "simd_kernels.h"

namespace udt {
namespace {

// lr * sqrt(1 - b2^t) / (1 - b1^t): Adam's bias corrections folded into the step size.
double corrected_lr(const AdamConfig& cfg, uint64_t t) {
  double c1 = 1.0 - std::pow(double(cfg.beta1), double(t));
  double c2 = std::sqrt(1.0 - std::pow(double(cfg.beta2), double(t)));
  return cfg.learning_rate * c2 / c1;
}

}  // namespace

AdamStep AdamStep::at(const AdamConfig& cfg, uint64_t t) {
  const double c2 = std::sqrt(1.0 - std::pow(double(cfg.beta2), double(t)));
  return {t, static_cast<float>(corrected_lr(cfg, t)), static_cast<float>(cfg.eps * c2)};
}

IdleSteps IdleSteps::between(const AdamConfig& cfg, uint64_t last, uint64_t target) {
  if (last == 0 || target <= last) return {};
  const double gap = double(target - last);
  const double rho = double(cfg.beta1) / std::sqrt(double(cfg.beta2));
  const double tail = rho * (1.0 - std::pow(rho, gap)) / (1.0 - rho);
  return {static_cast<float>(corrected_lr(cfg, last + 1) * tail), static_cast<float>(std::pow(double(cfg.beta1), gap)),
          static_cast<float>(std::pow(double(cfg.beta2), gap))};
}

void IdleSteps::apply(float* w, float* m, float* v, size_t n, float eps) const {
  simd::adam_idle_steps(w, m, v, n, drift, d1, d2, eps);
}

void IdleSteps::apply(float& w, float& m, float& v, float eps) const {
  w -= drift * m / (std::sqrt(v) + eps);
  m *= d1;
  v *= d2;
}

void catch_up_rows(const AdamConfig& cfg, float* w, float* m, float* v, size_t rows, size_t cols, size_t stride,
                   const uint64_t* steps, const uint64_t* target) {
  for (size_t r = 0; r < rows; ++r) {
    if (steps[r] == 0 || steps[r] >= target[r]) continue;
    const IdleSteps idle = IdleSteps::between(cfg, steps[r], target[r]);
    if (cols == 0) idle.apply(w[r], m[r], v[r], cfg.eps);
    else idle.apply(w + r * stride, m + r * stride, v + r * stride, cols, cfg.eps);
  }
}

SparseAdam::SparseAdam(size_t rows, size_t cols, bool with_bias)
    : m(rows, cols), v(rows, cols), steps(rows, 0) {
  if (with_bias) { m_bias.assign(rows, 0.0f); v_bias.assign(rows, 0.0f); }
}

void SparseAdam::update_row(size_t r, const AdamStep& global, float* weights, float* bias, const float* g,
                            float g_bias, const AdamConfig& cfg) {
  const size_t n = m.cols();
  AdamStep step = global;
  if (cfg.catch_up) {
    const uint64_t last = steps[r];
    steps[r] = step.t;
    if (last != 0 && step.t > last + 1) {  // the idle steps (gradient 0) since the last update
      const IdleSteps idle = IdleSteps::between(cfg, last, step.t - 1);
      idle.apply(weights, m.row(r), v.row(r), n, cfg.eps);
      if (bias) idle.apply(*bias, m_bias[r], v_bias[r], cfg.eps);
    }
  } else {
    step = AdamStep::at(cfg, ++steps[r]);  // plain lazy Adam: the row's own step count
  }
  const float lr_t = step.lr_t, eps_t = step.eps_t;
  simd::adam_update(weights, m.row(r), v.row(r), g, n, lr_t, cfg.beta1, cfg.beta2, eps_t);
  if (bias) {
    float& mb = m_bias[r];
    float& vb = v_bias[r];
    mb = cfg.beta1 * mb + (1.0f - cfg.beta1) * g_bias;
    vb = cfg.beta2 * vb + (1.0f - cfg.beta2) * g_bias * g_bias;
    *bias -= lr_t * mb / (std::sqrt(vb) + eps_t);
  }
}

}  // namespace udt

#include "rowwise_rms.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "simd_kernels.h"

namespace udt {

EmbeddingOptimizer parse_embedding_optimizer(const char* name) {
  if (std::strcmp(name, "adam") == 0) return EmbeddingOptimizer::Adam;
  if (std::strcmp(name, "rowwise") == 0) return EmbeddingOptimizer::Rowwise;
  throw std::invalid_argument(std::string("embedding_optimizer '") + name + "': expected 'adam' or 'rowwise'");
}

const char* embedding_optimizer_name(EmbeddingOptimizer kind) {
  return kind == EmbeddingOptimizer::Adam ? "adam" : "rowwise";
}

RowwiseStep RowwiseStep::at(const AdamConfig& cfg, uint64_t t) {
  return {t, std::sqrt(1.0 - std::pow(double(cfg.beta2), double(t)))};
}

void RowwiseRms::update_row(size_t r, const RowwiseStep& step, float* weights, const float* g, size_t n,
                            const AdamConfig& cfg) {
  const double b2 = cfg.beta2;
  const uint64_t t = step.t;
  const uint64_t last = steps[r];
  steps[r] = t;
  double vr = v[r];
  if (last != 0 && t > last + 1) vr *= std::pow(b2, double(t - 1 - last));  // the idle steps' decay
  const double mean_sq = n ? double(simd::dot(g, g, n)) / double(n) : 0.0;
  vr = b2 * vr + (1.0 - b2) * mean_sq;
  v[r] = float(vr);
  const double correction = step.correction;
  const double denom = std::sqrt(vr) + double(cfg.eps) * correction;
  simd::axpy(float(-cfg.learning_rate * correction / denom), g, weights, n);
}

}  // namespace udt

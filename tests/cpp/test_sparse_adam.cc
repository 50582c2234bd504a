// Catch-up Adam: a row that skips batches, then is updated, ends where dense Adam (which
// keeps stepping it with zero gradient) would have put it; plain lazy Adam does not.
#include <cmath>
#include <vector>

#include "check.h"
#include "simd_kernels.h"
#include "sparse_adam.h"

using namespace udt;

namespace {

constexpr size_t kCols = 37;  // not a multiple of any vector width

// Dense Adam on one row, every step, with gradient g(t) (zero when the row is idle).
struct DenseAdam {
  std::vector<float> w, m, v;
  explicit DenseAdam(const std::vector<float>& w0) : w(w0), m(w0.size(), 0.0f), v(w0.size(), 0.0f) {}
  void step(uint64_t t, const std::vector<float>& g, const AdamConfig& c) {
    double c1 = 1.0 - std::pow(double(c.beta1), double(t));
    double c2 = 1.0 - std::pow(double(c.beta2), double(t));
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
      w[i] -= float(c.learning_rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + c.eps));
    }
  }
};

std::vector<float> gradient(uint64_t t) {
  std::vector<float> g(kCols);
  for (size_t i = 0; i < kCols; ++i) g[i] = 0.01f * std::sin(0.37f * float(i) + 0.11f * float(t)) + 0.004f;
  return g;
}

// Row 0 is updated for `warm` steps, idles for `idle` steps, is updated once more; returns
// max |w_sparse - w_dense| relative to how far dense Adam moved it after the warm-up.
double relative_gap(bool catch_up, uint64_t warm, uint64_t idle) {
  AdamConfig cfg;
  cfg.learning_rate = 0.01f;
  cfg.catch_up = catch_up;
  SparseAdam sparse(1, kCols, true);
  std::vector<float> w0(kCols);
  for (size_t i = 0; i < kCols; ++i) w0[i] = 0.1f * float(i % 5) - 0.2f;
  std::vector<float> w = w0;
  float bias = 0.0f;
  DenseAdam dense(w0);
  const std::vector<float> zero(kCols, 0.0f);
  uint64_t t = 0;
  for (; t < warm; ++t) {
    sparse.update_row(0, AdamStep::at(cfg, t + 1), w.data(), &bias, gradient(t).data(), 0.5f, cfg);
    dense.step(t + 1, gradient(t), cfg);
  }
  const std::vector<float> w_warm = dense.w;
  for (uint64_t k = 0; k < idle; ++k, ++t) dense.step(t + 1, zero, cfg);
  sparse.update_row(0, AdamStep::at(cfg, t + 1), w.data(), &bias, gradient(t).data(), 0.5f, cfg);
  dense.step(t + 1, gradient(t), cfg);
  double gap = 0, moved = 0;
  for (size_t i = 0; i < kCols; ++i) {
    gap = std::max(gap, double(std::fabs(w[i] - dense.w[i])));
    moved = std::max(moved, double(std::fabs(dense.w[i] - w_warm[i])));
  }
  // The moments decay exactly as dense Adam's.
  if (catch_up)
    for (size_t i = 0; i < kCols; ++i) {
      CHECK(std::fabs(sparse.m.row(0)[i] - dense.m[i]) <= 1e-4 * std::fabs(dense.m[i]) + 1e-9);
      CHECK(std::fabs(sparse.v.row(0)[i] - dense.v[i]) <= 1e-4 * std::fabs(dense.v[i]) + 1e-12);
    }
  return gap / moved;
}

// catch_up_rows (what distributed merges run) then an update with no gap is bit-identical to
// the update that catches the row up itself: one closed form, weights and bias alike.
void catch_up_rows_is_update_rows_catch_up() {
  AdamConfig cfg;
  cfg.learning_rate = 0.01f;
  SparseAdam inline_adam(1, kCols, true), merged_adam(1, kCols, true);
  std::vector<float> w1(kCols, 0.3f), w2 = w1;
  float b1 = 0.1f, b2 = b1;
  for (uint64_t t = 1; t <= 3; ++t) {
    inline_adam.update_row(0, AdamStep::at(cfg, t), w1.data(), &b1, gradient(t).data(), 0.2f, cfg);
    merged_adam.update_row(0, AdamStep::at(cfg, t), w2.data(), &b2, gradient(t).data(), 0.2f, cfg);
  }
  const uint64_t last = 3, target = 40;
  catch_up_rows(cfg, w2.data(), merged_adam.m.row(0), merged_adam.v.row(0), 1, kCols, kCols, &last, &target);
  catch_up_rows(cfg, &b2, merged_adam.m_bias.data(), merged_adam.v_bias.data(), 1, 0, 1, &last, &target);
  merged_adam.steps[0] = target;
  CHECK(w2 != w1);  // it moved
  inline_adam.update_row(0, AdamStep::at(cfg, target + 1), w1.data(), &b1, gradient(9).data(), 0.2f, cfg);
  merged_adam.update_row(0, AdamStep::at(cfg, target + 1), w2.data(), &b2, gradient(9).data(), 0.2f, cfg);
  CHECK(w1 == w2 && b1 == b2);
  for (size_t i = 0; i < kCols; ++i)
    CHECK(inline_adam.m.row(0)[i] == merged_adam.m.row(0)[i] && inline_adam.v.row(0)[i] == merged_adam.v.row(0)[i]);
  // Rows never updated (steps 0) or already at the target are left alone.
  const uint64_t never = 0, at = 40;
  std::vector<float> keep = w2;
  catch_up_rows(cfg, w2.data(), merged_adam.m.row(0), merged_adam.v.row(0), 1, kCols, kCols, &never, &target);
  catch_up_rows(cfg, w2.data(), merged_adam.m.row(0), merged_adam.v.row(0), 1, kCols, kCols, &at, &target);
  CHECK(w2 == keep);
}

}  // namespace

int main() {
  catch_up_rows_is_update_rows_catch_up();
  // Late in training (bias corrections ~ constant) catch-up tracks dense Adam closely...
  CHECK(relative_gap(true, 3000, 40) < 0.01);
  CHECK(relative_gap(true, 3000, 5000) < 0.01);
  // ...and stays close even early, where it approximates the changing bias correction.
  CHECK(relative_gap(true, 5, 20) < 0.1);
  // Plain lazy Adam misses the momentum tail: a large gap.
  CHECK(relative_gap(false, 3000, 40) > 0.5);
  // No gap, no catch-up: consecutive updates are plain Adam steps.
  CHECK(relative_gap(true, 200, 0) < 1e-4);
  return udt_test::finish("test_sparse_adam");
}

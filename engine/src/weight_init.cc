#include "weight_init.h"

#include <cmath>

#include "random.h"

namespace udt {

void init_uniform_rows(AlignedMatrix& m, float scale, uint64_t seed, ThreadPool& pool) {
  const float bound = scale * std::sqrt(3.0f);  // U(-b, b) has variance b^2 / 3
  pool.parallel_for(m.rows(), 1024, [&](size_t begin, size_t end, size_t) {
    for (size_t r = begin; r < end; ++r) {
      Rng rng(derive_seed(seed, r));
      float* w = m.row(r);
      // Two 24-bit uniforms per 64-bit draw: filling a 2^20 x 128 table is a third of a text fit's set-up.
      const size_t n = m.cols();
      size_t c = 0;
      for (; c + 2 <= n; c += 2) {
        const uint64_t bits = rng.next();
        w[c] = bound * (2.0f * float(bits >> 40) * (1.0f / 16777216.0f) - 1.0f);
        w[c + 1] = bound * (2.0f * float((bits >> 8) & 0xFFFFFF) * (1.0f / 16777216.0f) - 1.0f);
      }
      if (c < n) w[c] = bound * (2.0f * rng.uniform() - 1.0f);
    }
  });
}

}  // namespace udt

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
      for (size_t c = 0; c < m.cols(); ++c) w[c] = bound * (2.0f * rng.uniform() - 1.0f);
    }
  });
}

}  // namespace udt

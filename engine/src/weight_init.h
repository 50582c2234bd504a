#pragma once
// Random initial weights: uniform with the variance of N(0, scale^2), one RNG stream per
// row, so big matrices fill in parallel and still come out the same for any thread count.
#include <cstdint>

#include "aligned_matrix.h"
#include "thread_pool.h"

namespace udt {

void init_uniform_rows(AlignedMatrix& m, float scale, uint64_t seed, ThreadPool& pool);

}  // namespace udt

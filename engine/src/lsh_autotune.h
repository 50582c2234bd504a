#pragma once
// The BOLT paper's rule (section 4.2) for a sparse layer of `dim` neurons evaluated at
// `sparsity` s: each table's bucket holds dim/2^K neurons on average, so L tables
// retrieve L*dim/2^K; asking for c1 times the s*dim we need gives L = c1 * s * 2^K.
// Hashing costs K*L per input against s*dim for the retrieved neurons, and both must
// stay under c2 * dim (a c2 = 0.1 budget = 10x cheaper than dense). Among K = 1, 2, ...
// take the largest L <= max_tables meeting both; cap buckets at R = 2 x expected load.
#include <cstdint>

namespace udt {

struct LshParams {
  uint32_t bits = 0;         // K
  uint32_t num_tables = 0;   // L
  uint32_t capacity = 0;     // R
  bool within_budget = true; // false when s > c2 made K*L + s*d <= c2*d impossible
};

LshParams autotune_lsh(double sparsity, uint64_t dim, double c1 = 1.0, double c2 = 0.1,
                       uint32_t max_tables = 256);

// R = 2 x the expected bucket load dim / 2^K, at least 2.
uint32_t default_bucket_capacity(uint64_t dim, uint32_t bits);

}  // namespace udt

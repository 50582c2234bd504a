#pragma once
// LSH retrieval on its own: index the rows of a matrix, then ask which rows each query
// retrieves, exactly as a sparse layer selects its active neurons. Used to measure
// retrieval quality (recall of the true top inner products) outside of training.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "aligned_matrix.h"
#include "hash_family.h"
#include "lsh_autotune.h"
#include "lsh_index.h"
#include "thread_pool.h"

namespace udt {

// For each of n_queries rows of `queries` (row stride in floats), the ids of the `k` rows
// of `neurons` it retrieves: out[q * k + j], ascending within a query.
std::vector<uint32_t> lsh_retrieve(const AlignedMatrix& neurons, const float* queries, size_t n_queries,
                                   size_t query_stride, HashKind kind, const LshParams& params, BucketPolicy policy,
                                   uint32_t k, uint64_t seed, ThreadPool& pool);

}  // namespace udt

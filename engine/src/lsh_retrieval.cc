#include "lsh_retrieval.h"

#include <algorithm>
#include <stdexcept>

#include "active_set.h"
#include "lsh_sampler.h"
#include "random.h"

namespace udt {

std::vector<uint32_t> lsh_retrieve(const AlignedMatrix& neurons, const float* queries, size_t n_queries,
                                   size_t query_stride, HashKind kind, const LshParams& params, BucketPolicy policy,
                                   uint32_t k, uint64_t seed, ThreadPool& pool) {
  const uint32_t d = static_cast<uint32_t>(neurons.rows());
  if (k == 0 || k > d) throw std::invalid_argument("k must be in [1, number of rows]");
  LshSampler sampler(kind, params, policy, LshSchedule{}, static_cast<uint32_t>(neurons.cols()), seed);
  sampler.rebuild(neurons, pool);
  std::vector<uint32_t> out(n_queries * k);
  SelectorPool selectors(d);
  pool.parallel_for(n_queries, 16, [&](size_t begin, size_t end, size_t) {
    ActiveSetSelector selector = selectors.take();
    std::vector<uint32_t> codes(params.num_tables), active;
    for (size_t q = begin; q < end; ++q) {
      sampler.hash(queries + q * query_stride, codes.data());
      Rng rng(derive_seed(seed, 0x51, q));
      selector.select(sampler.index(), codes.data(), k, nullptr, 0, rng, active, nullptr);
      std::copy(active.begin(), active.begin() + k, out.begin() + q * k);
    }
    selectors.give(std::move(selector));
  });
  return out;
}

}  // namespace udt

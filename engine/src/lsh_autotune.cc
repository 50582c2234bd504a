#include "lsh_autotune.h"

#include <cmath>
#include <stdexcept>

namespace udt {

uint32_t default_bucket_capacity(uint64_t dim, uint32_t bits) {
  double load = double(dim) / std::ldexp(1.0, int(bits));
  return static_cast<uint32_t>(std::max(2.0, std::ceil(2.0 * load)));
}

LshParams autotune_lsh(double sparsity, uint64_t dim, double c1, double c2, uint32_t max_tables) {
  if (!(sparsity > 0.0 && sparsity <= 1.0)) throw std::invalid_argument("sparsity must be in (0, 1]");
  if (dim == 0) throw std::invalid_argument("layer dim must be >= 1");
  LshParams best;
  LshParams unconstrained;  // largest L <= max_tables ignoring the cost budget
  for (uint32_t k = 1; k <= 30; ++k) {
    double l_exact = c1 * sparsity * std::ldexp(1.0, int(k));
    uint32_t l = static_cast<uint32_t>(std::lround(l_exact));
    if (l < 1) continue;
    if (l > max_tables) break;
    unconstrained = {k, l, 0, false};
    if (double(k) * l + sparsity * double(dim) <= c2 * double(dim)) best = {k, l, 0, true};
    else if (best.num_tables != 0) break;  // cost only grows with K from here
  }
  if (best.num_tables == 0) best = unconstrained;
  if (best.num_tables == 0) best = {1, 1, 0, false};
  best.capacity = default_bucket_capacity(dim, best.bits);
  return best;
}

}  // namespace udt

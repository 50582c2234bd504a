#include "sparse_batch.h"

#include <cmath>
#include <stdexcept>

namespace udt {

void validate_csr(const CsrView& csr, size_t n_entries, uint64_t dim, const std::string& what) {
  if (csr.offsets == nullptr) throw std::invalid_argument(what + ": offsets are missing");
  // The offsets first, all of them, so no row is read through an offset not yet checked.
  if (csr.offsets[0] != 0)
    throw std::invalid_argument(what + ": offsets[0] must be 0, got " + std::to_string(csr.offsets[0]));
  for (size_t r = 0; r < csr.n_rows; ++r)
    if (csr.offsets[r + 1] < csr.offsets[r])
      throw std::invalid_argument(what + ": offsets decrease at row " + std::to_string(r));
  if (static_cast<uint64_t>(csr.offsets[csr.n_rows]) != n_entries)
    throw std::invalid_argument(what + ": offsets[-1] = " + std::to_string(csr.offsets[csr.n_rows]) +
                                " but there are " + std::to_string(n_entries) + " indices");
  if (n_entries > 0 && csr.indices == nullptr) throw std::invalid_argument(what + ": indices are missing");
  for (size_t r = 0; r < csr.n_rows; ++r) {
    for (size_t e = csr.row_begin(r); e < csr.row_end(r); ++e) {
      if (csr.indices[e] >= dim)
        throw std::invalid_argument(what + ": row " + std::to_string(r) + " has index " +
                                    std::to_string(csr.indices[e]) + ", expected < " + std::to_string(dim));
      if (csr.values && !std::isfinite(csr.values[e]))
        throw std::invalid_argument(what + ": row " + std::to_string(r) + " has a non-finite value");
    }
  }
}

}  // namespace udt

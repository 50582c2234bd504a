#pragma once
// Feature values as the network sees them: sublinear counts, optional per-value weights (IDF)
// and unit-L2 rows. One kernel serves whole batches and the single-row predict path, so both
// give the same bits, and a one-row call costs ~1 us instead of a dozen numpy dispatches.
#include <cstddef>
#include <cstdint>
#include <string>

namespace udt {

enum class RowScaling {
  None,      // values unchanged
  L2,        // each row divided by its L2 norm
  LogL2,     // count -> 1 + log(count) (values below 1 kept), then L2
  LogIdfL2,  // as LogL2, each value times its weight before the row norm
};

// Parses "none", "l2", "log-l2", "log-idf-l2"; throws std::invalid_argument otherwise.
RowScaling parse_row_scaling(const std::string& name);

// Scales values[offsets[r] .. offsets[r + 1]) of each of n_rows rows in place. weights (one per
// value, may be null) are used by LogIdfL2 only. A row whose norm is 0 is left as it is.
void scale_rows(float* values, const int64_t* offsets, size_t n_rows, RowScaling scaling, const float* weights);

}  // namespace udt

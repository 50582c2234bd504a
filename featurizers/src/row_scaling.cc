#include "row_scaling.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace udt {

RowScaling parse_row_scaling(const std::string& name) {
  if (name == "none") return RowScaling::None;
  if (name == "l2") return RowScaling::L2;
  if (name == "log-l2") return RowScaling::LogL2;
  if (name == "log-idf-l2") return RowScaling::LogIdfL2;
  throw std::invalid_argument("feature scaling must be one of none, l2, log-l2, log-idf-l2; got '" + name + "'");
}

void scale_rows(float* values, const int64_t* offsets, size_t n_rows, RowScaling scaling, const float* weights) {
  if (scaling == RowScaling::None) return;
  const bool sublinear = scaling == RowScaling::LogL2 || scaling == RowScaling::LogIdfL2;
  const bool weighted = scaling == RowScaling::LogIdfL2 && weights != nullptr;
  for (size_t r = 0; r < n_rows; ++r) {
    const int64_t begin = offsets[r], end = offsets[r + 1];
    double sum_sq = 0.0;  // double: a long row's many small squares would lose bits in float
    for (int64_t e = begin; e < end; ++e) {
      float v = values[e];
      // A count of 100 is not 100 times the evidence of 1: min(v, 1) + log(max(v, 1)).
      if (sublinear) v = std::min(v, 1.0f) + std::log(std::max(v, 1.0f));
      if (weighted) v *= weights[e];
      values[e] = v;
      sum_sq += double(v) * double(v);
    }
    const float norm = static_cast<float>(std::sqrt(sum_sq));
    if (norm == 0.0f) continue;
    for (int64_t e = begin; e < end; ++e) values[e] /= norm;
  }
}

}  // namespace udt

#include "batch_rows.h"

#include <stdexcept>

namespace udt {

FeaturizedBatch featurize_batch(TableFeaturizer& featurizer, const std::vector<ColumnView>& columns, int64_t n_rows,
                                int n_threads, bool update_history, RowScaling scaling, const float* idf,
                                size_t idf_size, const BatchTarget& target) {
  FeaturizedBatch out;
  out.rows = featurizer.featurize(columns, n_rows, n_threads, update_history);
  if (scaling != RowScaling::None) {
    std::vector<float> weights;
    if (scaling == RowScaling::LogIdfL2 && idf != nullptr) {
      weights.resize(out.rows.indices.size());
      for (size_t i = 0; i < weights.size(); ++i) {
        const uint32_t id = out.rows.indices[i];
        if (id >= idf_size)
          throw std::invalid_argument("feature id " + std::to_string(id) + " is beyond the " +
                                      std::to_string(idf_size) + " IDF weights");
        weights[i] = idf[id];
      }
    }
    scale_rows(out.rows.values.data(), out.rows.offsets.data(), size_t(out.rows.n_rows()), scaling,
               weights.empty() ? nullptr : weights.data());
  }
  if (target.column == nullptr)
    out.labels.offsets.assign(size_t(n_rows) + 1, 0);
  else if (target.vocab != nullptr)
    out.labels = target.vocab->lookup(*target.column, n_rows, target.delimiter, target.name);
  else
    out.labels = regression_targets(*target.column, n_rows, target.name);
  return out;
}

}  // namespace udt

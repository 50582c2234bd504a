#pragma once
// One featurizer call per batch: a batch's features, their scaling (IDF included) and its label
// ids or regression targets, so a training or prediction batch crosses from Python into C++ once
// before the engine (it crossed three times: features, scaling, labels).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cell.h"
#include "label_vocab.h"
#include "row_scaling.h"
#include "sparse_rows.h"
#include "table_featurizer.h"

namespace udt {

// The target column of a batch: class labels looked up in `vocab`, or regression values when
// `vocab` is null. No column: the batch is unlabeled.
struct BatchTarget {
  const ColumnView* column = nullptr;
  const LabelVocab* vocab = nullptr;
  std::string delimiter;
  std::string name;
};

struct FeaturizedBatch {
  SparseRows rows;    // values scaled as the network sees them
  LabelRows labels;   // all-zero offsets for an unlabeled batch
};

// idf: one weight per feature id (idf_size = the featurizer's dimension), used by LogIdfL2.
FeaturizedBatch featurize_batch(TableFeaturizer& featurizer, const std::vector<ColumnView>& columns, int64_t n_rows,
                                int n_threads, bool update_history, RowScaling scaling, const float* idf,
                                size_t idf_size, const BatchTarget& target);

}  // namespace udt

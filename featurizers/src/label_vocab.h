// Label vocabulary: label text -> dense id, and the label CSR of a batch (one or many
// labels per row, or a regression target per row).
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cell.h"

namespace udt {

struct LabelRows {
  std::vector<int64_t> offsets{0};
  std::vector<uint32_t> ids;
  std::vector<float> values;  // regression targets only
  int64_t n_unseen = 0;       // label values not in the vocabulary (skipped, counted)
};

class LabelVocab {
 public:
  // Adds every label of the column (split on `delimiter` when not empty).
  // A missing label is a FeatureError naming `column`.
  void collect(const ColumnView& col, int64_t n_rows, const std::string& delimiter, const std::string& column);
  void add(std::string_view label);
  int64_t find(std::string_view label) const;
  size_t size() const { return names_.size(); }
  const std::deque<std::string>& names() const { return names_; }
  // How many times add() (and so collect()) met each label, in names() order: the rows per class of a
  // single-label column.
  const std::vector<int64_t>& counts() const { return counts_; }

  // Label ids per row; unseen labels are skipped and counted.
  LabelRows lookup(const ColumnView& col, int64_t n_rows, const std::string& delimiter,
                   const std::string& column) const;

 private:
  std::deque<std::string> names_;  // deque: stable addresses for the string_view keys
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::vector<int64_t> counts_;
};

// Regression targets: label id 0 with the parsed value; missing or non-numeric is an error.
LabelRows regression_targets(const ColumnView& col, int64_t n_rows, const std::string& column);

}  // namespace udt

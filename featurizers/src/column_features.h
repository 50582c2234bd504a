// Per-column-type feature kernels: each turns one cell into hashed features salted by
// its column, so equal values in different columns never share ids by construction.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cell.h"
#include "sparse_rows.h"
#include "tokenize.h"

namespace udt {

enum class ColumnKind : int { Text = 0, Categorical = 1, Numeric = 2, Date = 3, Sequence = 4, NodeId = 5, Neighbors = 6 };

struct ColumnConfig {
  std::string name;
  ColumnKind kind = ColumnKind::Categorical;
  bool is_input = true;    // false: read only as a timestamp / tracked value / node id source
  TextOptions text;
  int ngrams = 2;
  bool normalize = true;   // Text: unit L2 norm over the column's features
  std::string delimiter;   // multi-valued Categorical, Sequence, Neighbors ("" = single value)
  std::vector<int> bins{10, 100};
  // Numeric: a value between two bin centres takes both bins, each weighted by its closeness
  // (weights sum to 1), so the network learns a piecewise-linear function of the value rather
  // than a step per bin. false: the one bin holding it (models saved before it existed).
  bool interpolate = false;
  double lo = 0.0, hi = 1.0;  // Numeric range (learned by fit when not declared)
  // Numeric: sorted values at equally spaced ranks of the training data (learned by fit). When
  // set, a value's position in [0, 1] is its interpolated rank, not (x - lo) / (hi - lo).
  std::vector<double> quantiles;
  int max_length = 0;      // Sequence: positions kept from the most recent (0 = all)
  uint64_t salt = 0;       // set by the TableFeaturizer from name + seed
};

// Hash "tags" that keep the sub-features of one column apart.
namespace tag {
constexpr uint64_t kMissing = 0x4d495353494e47ULL;
constexpr uint64_t kScaled = 0x5343414c4544ULL;
constexpr uint64_t kBin = 0x42494eULL;
constexpr uint64_t kPosition = 0x504f53ULL;
constexpr uint64_t kCross = 0x43524f5353ULL;
}  // namespace tag

// Hash of a cell's trimmed canonical text (numbers and strings alike), or tag::kMissing.
uint64_t value_hash(const Cell& c, std::string& scratch);

// Calls fn(part) for each non-empty (trimmed) part of `s` split on `delimiter`.
template <class Fn>
void for_each_part(std::string_view s, const std::string& delimiter, Fn fn);

// Each kernel emits the column's features for one cell into `row`; `cross_token`
// receives the value used in feature crosses (categorical value or coarsest bin).
// They throw FeatureError(row_index, ...) on a value the column type cannot accept.
void text_features(const ColumnConfig& col, const Cell& c, RowBuilder& row);
void categorical_features(const ColumnConfig& col, const Cell& c, RowBuilder& row, uint64_t* cross_token);
void numeric_features(const ColumnConfig& col, const Cell& c, int64_t row_index, RowBuilder& row,
                      uint64_t* cross_token);
void date_features(const ColumnConfig& col, const Cell& c, int64_t row_index, RowBuilder& row);
void sequence_features(const ColumnConfig& col, const Cell& c, RowBuilder& row);

// Node ids: a non-negative integer (integer cells or digit strings), else FeatureError.
// Returns -1 for a missing cell.
int64_t parse_node_id(const Cell& c, int64_t row_index, const std::string& column);
// Neighbor lists: `delimiter`-separated node ids.
void parse_neighbors(const Cell& c, const std::string& delimiter, int64_t row_index, const std::string& column,
                     std::vector<int64_t>& out);

template <class Fn>
void for_each_part(std::string_view s, const std::string& delimiter, Fn fn) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = delimiter.empty() ? std::string_view::npos : s.find(delimiter, start);
    if (end == std::string_view::npos) end = s.size();
    size_t b = start, e = end;
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
    if (e > b) fn(s.substr(b, e - b));
    if (end == s.size()) break;
    start = end + delimiter.size();
  }
}

}  // namespace udt

namespace udt {
// Min and max of the parseable numbers of a column (missing cells skipped; a value that
// is not a number is a FeatureError). Returns the count of numbers seen.
// The parsed values of a Numeric column's non-missing cells (throws FeatureError on a non-number).
std::vector<double> numeric_values(const ColumnView& col, int64_t n_rows, const std::string& column);

// A Numeric value's position in [0, 1]: its interpolated rank among `quantiles` when there are
// any, else its place in [lo, hi], clipped.
double numeric_position(const ColumnConfig& col, double x);
}  // namespace udt

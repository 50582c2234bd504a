// TableFeaturizer's entry points that read or change its state (temporal history, graph
// index), each under the state lock: a featurize that records history, or adds graph nodes,
// holds it exclusively; one that only reads holds it shared. So rows can be featurized for
// predict while a training pass records history (issue 16), and each sees whole events.
// featurize_cells (one row) leaves the lock to its caller, which must not wait for it while
// holding another lock the writer may need (the bindings wait with the GIL released).
// Also the time-ordered history pass itself.
#include <algorithm>
#include <limits>
#include <mutex>
#include <numeric>
#include <shared_mutex>

#include "feature_error.h"
#include "parse.h"
#include "table_featurizer.h"

namespace udt {

int64_t TableFeaturizer::row_timestamp(const Cell& c, int64_t r, bool required) const {
  const auto& col = columns_[size_t(temporal_.timestamp_column)];
  if (col.kind == ColumnKind::Date) {
    CivilTime t;
    const ParseStatus st = parse_date(c, &t);
    if (st == ParseStatus::Ok) return t.epoch_seconds;
    if (st == ParseStatus::Invalid) {
      std::string scratch;
      throw FeatureError(r, col.name,
                         "expected an ISO date or datetime (YYYY-MM-DD[THH:MM[:SS]]) or Unix seconds, got '" +
                             std::string(canonical_text(c, scratch)) + "'");
    }
  } else {
    double x = 0;
    const ParseStatus st = parse_number(c, &x);
    if (st == ParseStatus::Ok) return int64_t(x);
    if (st == ParseStatus::Invalid) {
      std::string scratch;
      throw FeatureError(r, col.name,
                         "expected a timestamp (Unix seconds), got '" + std::string(canonical_text(c, scratch)) + "'");
    }
  }
  if (required)
    throw FeatureError(r, col.name, "expected a timestamp (temporal tracking orders rows by it), got a missing value");
  return std::numeric_limits<int64_t>::max();  // unknown time at predict: all recorded history
}

std::vector<std::vector<uint64_t>> TableFeaturizer::history_pass(const std::vector<ColumnView>& cols, int64_t n,
                                                                 bool update_history) {
  std::vector<int64_t> ts(static_cast<size_t>(n));
  const ColumnView& ts_col = cols[size_t(temporal_.timestamp_column)];
  for (int64_t r = 0; r < n; ++r) ts[size_t(r)] = row_timestamp(ts_col.cell(r), r, update_history);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ts[size_t(a)] < ts[size_t(b)]; });

  std::vector<std::vector<uint64_t>> features(static_cast<size_t>(n));
  RowBuilder row;
  row.dim = dim_;
  std::string scratch;
  const ColumnView& key_col = cols[size_t(temporal_.key_column)];
  for (int64_t r : order) {
    const Cell key_cell = key_col.cell(r);
    const uint64_t key = value_hash(key_cell, scratch);
    row.clear();
    history_.read(key, ts[size_t(r)], history_salts_, row);
    features[size_t(r)] = row.packed;
    if (!update_history || key_cell.is_null()) continue;
    for (size_t t = 0; t < temporal_.tracked.size(); ++t) {
      const Cell v = cols[size_t(temporal_.tracked[t])].cell(r);
      if (!v.is_null()) history_.record(key, ts[size_t(r)], int(t), value_hash(v, scratch));
    }
  }
  return features;
}

SparseRows TableFeaturizer::featurize(const std::vector<ColumnView>& cols, int64_t n, int n_threads,
                                      bool update_history) {
  SparseRows rows;
  if (!has_temporal() || !update_history) {
    const std::shared_lock<std::shared_mutex> lock(state_mutex_);
    if (!has_temporal()) {
      rows = run_rows(cols, n, n_threads, nullptr, true);
    } else {
      const auto history = history_pass(cols, n, false);
      rows = run_rows(cols, n, n_threads, &history, true);
    }
  } else {
    const std::unique_lock<std::shared_mutex> lock(state_mutex_);
    const auto history = history_pass(cols, n, update_history);
    rows = run_rows(cols, n, n_threads, &history, true);
  }
  if (!id_map_.empty()) id_map_.apply(rows);
  return rows;
}

void TableFeaturizer::set_id_map(IdMap map) {
  const std::unique_lock<std::shared_mutex> lock(state_mutex_);
  id_map_ = std::move(map);
}

void TableFeaturizer::featurize_cells(const Cell* cells, bool update_history, RowBuilder& row, SparseRows& out) {
  row.dim = dim_;
  row.clear();
  std::vector<uint64_t> history;
  if (has_temporal()) {
    std::string scratch;
    const Cell& key_cell = cells[temporal_.key_column];
    const uint64_t key = value_hash(key_cell, scratch);
    const int64_t ts = row_timestamp(cells[temporal_.timestamp_column], 0, update_history);
    history_.read(key, ts, history_salts_, row);
    history.swap(row.packed);
    if (update_history && !key_cell.is_null())
      for (size_t t = 0; t < temporal_.tracked.size(); ++t) {
        const Cell& v = cells[temporal_.tracked[t]];
        if (!v.is_null()) history_.record(key, ts, int(t), value_hash(v, scratch));
      }
  }
  thread_local std::vector<int64_t> neighbors;
  thread_local std::vector<uint64_t> cross_tokens;
  cross_tokens.resize(columns_.size());
  row_features(cells, 0, has_temporal() ? &history : nullptr, true, row, neighbors, cross_tokens);
  const size_t first_row = size_t(out.n_rows());
  row.flush(out);
  if (!id_map_.empty()) id_map_.apply(out, first_row);
}

void TableFeaturizer::index_graph_nodes(const std::vector<ColumnView>& cols, int64_t n, const int64_t* label_offsets,
                                        const uint32_t* label_ids, int n_threads) {
  if (node_column_ < 0) return;
  const SparseRows own = run_rows(cols, n, n_threads, nullptr, false);
  const ColumnConfig& node_col = columns_[size_t(node_column_)];
  const std::unique_lock<std::shared_mutex> lock(state_mutex_);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t node = parse_node_id(cols[size_t(node_column_)].cell(r), r, node_col.name);
    if (node < 0) continue;
    const int64_t lb = label_offsets ? label_offsets[r] : 0, le = label_offsets ? label_offsets[r + 1] : 0;
    graph_.add_node(node, own.indices.data() + own.offsets[size_t(r)],
                    size_t(own.offsets[size_t(r) + 1] - own.offsets[size_t(r)]), label_ids + lb, size_t(le - lb));
  }
}

}  // namespace udt

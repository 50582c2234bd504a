// Turns rows of declared columns into hashed sparse feature rows (CSR): each column's
// kernel, pairwise crosses, temporal history and graph-neighbor aggregation, all in one
// hashed space of `dim` ids. Batches run in parallel over rows; temporal history, whose
// state depends on row order, is computed first in one timestamp-ordered pass.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "cell.h"
#include "column_features.h"
#include "graph_index.h"
#include "id_map.h"
#include "sparse_rows.h"
#include "temporal_history.h"

namespace udt {

struct TemporalConfig {
  int key_column = -1;        // index into the columns
  std::vector<int> tracked;   // indices of tracked columns
  int timestamp_column = -1;  // a Date (or Numeric Unix seconds) column
  int length = 10;            // events kept per key and tracked column
};

class TableFeaturizer {
 public:
  TableFeaturizer(std::vector<ColumnConfig> columns, uint32_t dim, uint64_t seed);

  // The setters take column indices (into columns()); one out of range is std::invalid_argument.
  void set_crosses(std::vector<std::pair<int, int>> pairs);
  void set_temporal(const TemporalConfig& config);
  void set_numeric_range(int column, double lo, double hi);

  // `cols` holds one view per column, in column order. With `update_history`, each row's
  // tracked values are recorded after its own features are read.
  SparseRows featurize(const std::vector<ColumnView>& cols, int64_t n_rows, int n_threads, bool update_history);
  // One row given as cells (the real-time predict path; no threads, no Arrow). The caller holds
  // read_state(), or write_state() with update_history.
  void featurize_cells(const Cell* cells, bool update_history, RowBuilder& row, SparseRows& out);

  // Records training nodes for neighbor aggregation: their own features (without graph
  // features) and their label ids (CSR, may be empty per row).
  void index_graph_nodes(const std::vector<ColumnView>& cols, int64_t n_rows, const int64_t* label_offsets,
                         const uint32_t* label_ids, int n_threads);

  const std::vector<ColumnConfig>& columns() const { return columns_; }
  uint32_t dim() const { return dim_; }  // the hashed space
  // From now on every output row's ids go through `map` (id_map.h): the features then number
  // map.rows() instead of dim(). Set once, after the training data's ids are counted.
  void set_id_map(IdMap map);
  const IdMap& id_map() const { return id_map_; }
  uint32_t n_features() const { return id_map_.empty() ? dim_ : id_map_.rows(); }
  // Direct access to the state: hold read_state() to read it, write_state() to change it, as
  // featurize does (table_featurizer_state.cc), so predict can run while training records history.
  TemporalHistory& history() { return history_; }
  GraphIndex& graph() { return graph_; }
  std::shared_lock<std::shared_mutex> read_state() const { return std::shared_lock<std::shared_mutex>(state_mutex_); }
  std::unique_lock<std::shared_mutex> write_state() { return std::unique_lock<std::shared_mutex>(state_mutex_); }
  // Graph rows (a Neighbors column, aggregated): with block scaling (the default), the row's own features
  // are damped and scaled to unit L2, then each neighbour block follows at its own weight (ids and
  // features unit-scaled x 0.3, the label histogram at full weight; table_featurizer.cc has the
  // measurements); without it (model files saved before), the neighbour features are mixed in with
  // 1/degree weights and the row is scaled as a whole. Other rows are the same either way.
  void set_graph_block_scaling(bool on) { graph_block_scaling_ = on; }
  bool graph_block_scaling() const { return graph_block_scaling_; }
  bool has_temporal() const { return temporal_.key_column >= 0; }

 private:
  // Features of one row; `history` (may be null) holds the row's precomputed history features.
  void row_features(const Cell* cells, int64_t row_index, const std::vector<uint64_t>* history, bool use_graph,
                    RowBuilder& row, std::vector<int64_t>& neighbor_scratch, std::vector<uint64_t>& cross_tokens) const;
  void graph_features(const ColumnConfig& col, const Cell& cell, int64_t own_node, int64_t row_index,
                      RowBuilder& row, std::vector<int64_t>& neighbors) const;
  // Timestamp-ordered pass computing history features per row (and updating the state).
  std::vector<std::vector<uint64_t>> history_pass(const std::vector<ColumnView>& cols, int64_t n_rows,
                                                  bool update_history);
  int64_t row_timestamp(const Cell& c, int64_t row_index, bool required) const;
  void check_column(int column, const char* what) const;
  SparseRows run_rows(const std::vector<ColumnView>& cols, int64_t n_rows, int n_threads,
                      const std::vector<std::vector<uint64_t>>* history, bool use_graph) const;

  // Row builders are kept between calls: each holds a per-id table of `dim` entries that is
  // costly to allocate and clear for every batch when the space is large.
  std::unique_ptr<RowBuilder> acquire_builder() const;
  void release_builder(std::unique_ptr<RowBuilder> builder) const;

  std::vector<ColumnConfig> columns_;
  uint32_t dim_;
  IdMap id_map_;
  mutable std::mutex builders_mutex_;
  mutable std::vector<std::unique_ptr<RowBuilder>> free_builders_;
  uint64_t seed_;
  std::vector<std::pair<int, int>> crosses_;
  TemporalConfig temporal_;
  std::vector<uint64_t> history_salts_;
  mutable std::shared_mutex state_mutex_;  // guards history_ and graph_
  TemporalHistory history_;
  GraphIndex graph_;
  int node_column_ = -1;
  bool has_graph_columns_ = false;  // an input Neighbors column
  bool graph_block_scaling_ = true;
};

}  // namespace udt

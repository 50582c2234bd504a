#pragma once
// Batch-level regrouping by parameter row. Samples of a batch run in parallel, each
// leaving a list of rows it used: the output neurons it evaluated, or the input
// features it read. RowGroups turns those lists into, for each distinct row, the
// (sample, position-in-that-sample's-list) pairs that used it -- a counting sort with
// samples in order. Work can then go row by row:
//  - each weight row is read once per batch instead of once per sample using it, and
//  - each row's gradient is summed by exactly one thread in sample order: no atomics,
//    no shared `+=`, and the same bits whatever the number of threads.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace udt {

struct RowGroups {
  std::vector<uint32_t> rows;       // distinct rows used, ascending
  std::vector<uint64_t> begin;      // rows.size() + 1 offsets into samples/positions
  std::vector<uint32_t> samples;    // which sample used the row (ascending within a row)
  std::vector<uint32_t> positions;  // where the row sits in that sample's list

  // `lists` describes each sample's rows: lists.size(), lists.count(s), lists.ids(s).
  template <typename Lists>
  void build(const Lists& lists, size_t n_rows_total) {
    if (cursor_.size() != n_rows_total) cursor_.assign(n_rows_total, 0);
    const size_t n_samples = lists.size();
    for (size_t s = 0; s < n_samples; ++s) {
      const uint32_t* ids = lists.ids(s);
      for (size_t e = 0, n = lists.count(s); e < n; ++e) ++cursor_[ids[e]];
    }
    const uint64_t total = start_rows();
    samples.resize(total);
    positions.resize(total);
    for (size_t s = 0; s < n_samples; ++s) {
      const uint32_t* ids = lists.ids(s);
      for (size_t e = 0, n = lists.count(s); e < n; ++e) {
        uint64_t pos = cursor_[ids[e]]++;
        samples[pos] = static_cast<uint32_t>(s);
        positions[pos] = static_cast<uint32_t>(e);
      }
    }
    for (uint32_t r : rows) cursor_[r] = 0;
  }

  // Splits rows into `n_chunks` contiguous ranges of about equal entry counts:
  // chunk c is rows [bounds[c], bounds[c+1]). Depends only on the data.
  std::vector<size_t> chunk_bounds(size_t n_chunks) const;

 private:
  // Turns per-row counts in cursor_ into `rows`, `begin` and write positions; returns the total.
  uint64_t start_rows();
  std::vector<uint64_t> cursor_;  // per row, reused across batches
};

}  // namespace udt

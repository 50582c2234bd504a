#pragma once
// Batch-level regrouping by parameter row. Samples of a batch run in parallel, each
// leaving a list of rows it used: the output neurons it evaluated, or the input
// features it read. RowGroups turns those lists into, for each distinct row, the
// (sample, position-in-that-sample's-list) pairs that used it -- a counting sort with
// samples in order. Work can then go row by row:
//  - each weight row is read once per batch instead of once per sample using it, and
//  - each row's gradient is summed by exactly one thread in sample order: no atomics,
//    no shared `+=`, and the same bits whatever the number of threads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "thread_pool.h"

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

  // The same grouping in parallel, for lists whose ids are ascending (active sets): the
  // row space is cut into fixed ranges, each found in every sample's list by binary
  // search and counted and scattered independently. Same result as build().
  template <typename Lists>
  void build_sorted(const Lists& lists, size_t n_rows_total, ThreadPool& pool);

  // Splits rows into `n_chunks` contiguous ranges of about equal entry counts:
  // chunk c is rows [bounds[c], bounds[c+1]). Depends only on the data.
  std::vector<size_t> chunk_bounds(size_t n_chunks) const;

 private:
  // Turns per-row counts in cursor_ into `rows`, `begin` and write positions; returns the total.
  uint64_t start_rows();
  std::vector<uint64_t> cursor_;  // per row, reused across batches

  static constexpr size_t kParts = 16;  // fixed, so results never depend on the thread count
  struct Part {
    std::vector<uint32_t> rows, seg_begin, seg_end;
    std::vector<uint64_t> begin;
    uint64_t entries = 0, first_entry = 0;
    size_t first_row = 0;
  };
  std::vector<Part> parts_;
};

template <typename Lists>
void RowGroups::build_sorted(const Lists& lists, size_t n_rows_total, ThreadPool& pool) {
  if (cursor_.size() != n_rows_total) cursor_.assign(n_rows_total, 0);
  parts_.resize(kParts);
  const size_t n_samples = lists.size();
  // Pass 1, per part: each sample's segment of ids in the part's row range, and counts.
  pool.parallel_for(kParts, 1, [&](size_t p0, size_t p1, size_t) {
    for (size_t p = p0; p < p1; ++p) {
      Part& part = parts_[p];
      const uint32_t r0 = static_cast<uint32_t>(n_rows_total * p / kParts);
      const uint32_t r1 = static_cast<uint32_t>(n_rows_total * (p + 1) / kParts);
      part.seg_begin.resize(n_samples);
      part.seg_end.resize(n_samples);
      for (size_t s = 0; s < n_samples; ++s) {
        const uint32_t* ids = lists.ids(s);
        const uint32_t* end = ids + lists.count(s);
        const uint32_t* lo = std::lower_bound(ids, end, r0);
        const uint32_t* hi = std::lower_bound(lo, end, r1);
        part.seg_begin[s] = static_cast<uint32_t>(lo - ids);
        part.seg_end[s] = static_cast<uint32_t>(hi - ids);
        for (const uint32_t* it = lo; it != hi; ++it) ++cursor_[*it];
      }
      part.rows.clear();
      part.begin.clear();
      uint64_t total = 0;
      for (uint32_t r = r0; r < r1; ++r) {
        uint64_t c = cursor_[r];
        if (c == 0) continue;
        part.rows.push_back(r);
        part.begin.push_back(total);
        cursor_[r] = total;  // local write position, made global in pass 2
        total += c;
      }
      part.entries = total;
    }
  });
  // Concatenate the parts' row lists (serial, one pass over the distinct rows).
  uint64_t entries = 0;
  size_t n_rows = 0;
  for (Part& part : parts_) {
    part.first_entry = entries;
    part.first_row = n_rows;
    entries += part.entries;
    n_rows += part.rows.size();
  }
  rows.resize(n_rows);
  begin.resize(n_rows + 1);
  begin[n_rows] = entries;
  samples.resize(entries);
  positions.resize(entries);
  // Pass 2, per part: copy its rows and scatter its entries, samples in order.
  pool.parallel_for(kParts, 1, [&](size_t p0, size_t p1, size_t) {
    for (size_t p = p0; p < p1; ++p) {
      Part& part = parts_[p];
      for (size_t i = 0; i < part.rows.size(); ++i) {
        rows[part.first_row + i] = part.rows[i];
        begin[part.first_row + i] = part.first_entry + part.begin[i];
      }
      for (size_t s = 0; s < n_samples; ++s) {
        const uint32_t* ids = lists.ids(s);
        for (uint32_t e = part.seg_begin[s]; e < part.seg_end[s]; ++e) {
          uint64_t pos = part.first_entry + cursor_[ids[e]]++;
          samples[pos] = static_cast<uint32_t>(s);
          positions[pos] = e;
        }
      }
      for (uint32_t r : part.rows) cursor_[r] = 0;
    }
  });
}

}  // namespace udt

#pragma once
// Race-free gradient accumulation. Samples of a batch run in parallel, each leaving a
// list of (row, coefficient) pairs: the output neurons it evaluated with dL/dz, or the
// input features it read with their values. RowGroups regroups those lists by row
// (a counting sort, samples in order), so each parameter row's gradient
//     g_row = sum over its entries of coefficient * vector[sample]
// is summed by exactly one thread, in sample order: no atomics, no shared `+=`, and the
// same bits whatever the number of threads.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace udt {

struct RowGroups {
  std::vector<uint32_t> rows;     // distinct rows touched, ascending
  std::vector<uint64_t> begin;    // rows.size() + 1 offsets into samples/coefs
  std::vector<uint32_t> samples;  // sample index of each entry, ascending within a row
  std::vector<float> coefs;

  // `lists` describes each sample's entries: lists.size(), lists.count(s), lists.ids(s),
  // lists.coefs(s) (null = all 1).
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
    coefs.resize(total);
    for (size_t s = 0; s < n_samples; ++s) {
      const uint32_t* ids = lists.ids(s);
      const float* c = lists.coefs(s);
      for (size_t e = 0, n = lists.count(s); e < n; ++e) {
        uint64_t pos = cursor_[ids[e]]++;
        samples[pos] = static_cast<uint32_t>(s);
        coefs[pos] = c ? c[e] : 1.0f;
      }
    }
    for (uint32_t r : rows) cursor_[r] = 0;
  }

 private:
  // Turns per-row counts in cursor_ into `rows`, `begin` and write positions; returns the total.
  uint64_t start_rows();
  std::vector<uint64_t> cursor_;  // per row, reused across batches
};

}  // namespace udt

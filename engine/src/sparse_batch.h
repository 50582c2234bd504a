#pragma once
// Compressed sparse rows (CSR) over memory owned by the caller (numpy arrays from
// Python, featurizer buffers from C++): row r holds entries [offsets[r], offsets[r+1]).
#include <cstddef>
#include <cstdint>
#include <string>

namespace udt {

struct CsrView {
  const int64_t* offsets = nullptr;  // n_rows + 1 entries, offsets[0] == 0
  const uint32_t* indices = nullptr;
  const float* values = nullptr;     // may be null: every value is `default_value`
  size_t n_rows = 0;
  float default_value = 1.0f;

  size_t row_begin(size_t r) const { return static_cast<size_t>(offsets[r]); }
  size_t row_end(size_t r) const { return static_cast<size_t>(offsets[r + 1]); }
  size_t row_size(size_t r) const { return row_end(r) - row_begin(r); }
  float value(size_t e) const { return values ? values[e] : default_value; }
  size_t nnz() const { return n_rows ? static_cast<size_t>(offsets[n_rows]) : 0; }
};

// Throws std::invalid_argument naming `what` (e.g. "inputs", "labels") and the first
// offending row when offsets are not a non-decreasing sequence from 0 to `n_entries`,
// or an index is >= dim, or a value is not finite.
void validate_csr(const CsrView& csr, size_t n_entries, uint64_t dim, const std::string& what);

}  // namespace udt

#include "row_groups.h"

#include <algorithm>

namespace udt {

uint64_t RowGroups::start_rows() {
  rows.clear();
  begin.clear();
  uint64_t total = 0;
  for (size_t r = 0; r < cursor_.size(); ++r) {
    uint64_t c = cursor_[r];
    if (c == 0) continue;
    rows.push_back(static_cast<uint32_t>(r));
    begin.push_back(total);
    cursor_[r] = total;  // becomes the write position
    total += c;
  }
  begin.push_back(total);
  return total;
}

std::vector<size_t> RowGroups::chunk_bounds(size_t n_chunks) const {
  std::vector<size_t> bounds(n_chunks + 1, rows.size());
  bounds[0] = 0;
  const uint64_t total = begin.back();
  for (size_t c = 1; c < n_chunks; ++c) {
    uint64_t target = total * c / n_chunks;
    bounds[c] = static_cast<size_t>(std::lower_bound(begin.begin(), begin.end() - 1, target) - begin.begin());
    bounds[c] = std::max(bounds[c], bounds[c - 1]);
  }
  return bounds;
}

}  // namespace udt

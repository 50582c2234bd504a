#include "row_groups.h"

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

}  // namespace udt

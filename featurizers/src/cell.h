// One table cell as the featurizers see it, and a read-only view of an Arrow column
// (buffer addresses handed over from pyarrow) that yields cells without copying.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace udt {

enum class CellKind : uint8_t { Null, Str, Int, Float };

struct Cell {
  CellKind kind = CellKind::Null;
  std::string_view str;
  int64_t i = 0;
  double f = 0.0;
  bool is_null() const { return kind == CellKind::Null; }
};

// Physical Arrow layouts read directly; Python casts anything else to one of these.
enum class ArrowLayout : int { Utf8 = 0, LargeUtf8 = 1, Int64 = 2, Int32 = 3, Float64 = 4, Float32 = 5 };

struct ColumnView {
  ArrowLayout layout = ArrowLayout::Utf8;
  int64_t length = 0;
  int64_t offset = 0;               // Arrow array offset (slices)
  const uint8_t* validity = nullptr;  // null bitmap, nullptr when no nulls
  const void* offsets = nullptr;    // string offsets (int32 or int64)
  const void* values = nullptr;     // string bytes or numeric values

  Cell cell(int64_t row) const {
    Cell c;
    const int64_t j = row + offset;
    if (validity && !((validity[j >> 3] >> (j & 7)) & 1)) return c;
    switch (layout) {
      case ArrowLayout::Utf8: {
        const auto* o = static_cast<const int32_t*>(offsets);
        c.kind = CellKind::Str;
        c.str = std::string_view(static_cast<const char*>(values) + o[j], size_t(o[j + 1] - o[j]));
        break;
      }
      case ArrowLayout::LargeUtf8: {
        const auto* o = static_cast<const int64_t*>(offsets);
        c.kind = CellKind::Str;
        c.str = std::string_view(static_cast<const char*>(values) + o[j], size_t(o[j + 1] - o[j]));
        break;
      }
      case ArrowLayout::Int64: c.kind = CellKind::Int; c.i = static_cast<const int64_t*>(values)[j]; break;
      case ArrowLayout::Int32: c.kind = CellKind::Int; c.i = static_cast<const int32_t*>(values)[j]; break;
      case ArrowLayout::Float64:
        c.f = static_cast<const double*>(values)[j];
        c.kind = std::isnan(c.f) ? CellKind::Null : CellKind::Float;
        break;
      case ArrowLayout::Float32:
        c.f = static_cast<const float*>(values)[j];
        c.kind = std::isnan(c.f) ? CellKind::Null : CellKind::Float;
        break;
    }
    return c;
  }
};

// The canonical text of a cell, so that the string "42", the integer 42 and the float 42.0
// hash alike (a CSV column and a Parquet column of the same table give the same features).
// Returns a view into `scratch` for numbers.
inline std::string_view canonical_text(const Cell& c, std::string& scratch) {
  if (c.kind == CellKind::Str) return c.str;
  char buf[40];
  int n = 0;
  if (c.kind == CellKind::Int) {
    n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(c.i));
  } else if (c.kind == CellKind::Float) {
    if (std::floor(c.f) == c.f && std::fabs(c.f) < 9.007199254740992e15)
      n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(c.f));
    else
      n = std::snprintf(buf, sizeof buf, "%.17g", c.f);
  }
  scratch.assign(buf, size_t(n));
  return scratch;
}

}  // namespace udt

#include "column_features.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "feature_error.h"
#include "hash.h"
#include "parse.h"

namespace udt {
namespace {

constexpr uint64_t kValueSeed = 0x2545f4914f6cdd1dULL;

std::string quoted(std::string_view s) {
  std::string out = "'";
  out.append(s.substr(0, 80));
  if (s.size() > 80) out += "...";
  return out + "'";
}

std::string describe(const Cell& c) {
  std::string scratch;
  return quoted(canonical_text(c, scratch));
}

}  // namespace

uint64_t value_hash(const Cell& c, std::string& scratch) {
  if (c.is_null()) return tag::kMissing;
  std::string_view s = trim(canonical_text(c, scratch));
  if (s.empty()) return tag::kMissing;
  return hash_bytes(s.data(), s.size(), kValueSeed);
}

void text_features(const ColumnConfig& col, const Cell& c, RowBuilder& row) {
  if (c.is_null()) return;  // an empty text has no tokens; null is the same
  std::string num;
  std::string_view s = canonical_text(c, num);
  row.tokens.clear();
  row.grams.clear();
  tokenize_hashes(s, col.text, row.scratch, row.tokens);
  ngram_hashes(row.tokens, col.ngrams, row.grams);
  const size_t start = row.packed.size();
  for (uint64_t g : row.grams) row.emit(hash_combine(col.salt, g), 1.0f);
  if (col.normalize) row.normalize_since(start);
}

void categorical_features(const ColumnConfig& col, const Cell& c, RowBuilder& row, uint64_t* cross_token) {
  if (col.delimiter.empty() || c.kind != CellKind::Str) {
    const uint64_t v = value_hash(c, row.scratch);
    *cross_token = v;
    row.emit(hash_combine(col.salt, v), 1.0f);
    return;
  }
  *cross_token = tag::kMissing;  // multi-valued columns do not take part in crosses
  bool any = false;
  for_each_part(c.str, col.delimiter, [&](std::string_view part) {
    row.emit(hash_combine(col.salt, hash_bytes(part.data(), part.size(), kValueSeed)), 1.0f);
    any = true;
  });
  if (!any) row.emit(hash_combine(col.salt, tag::kMissing), 1.0f);
}

void numeric_features(const ColumnConfig& col, const Cell& c, int64_t row_index, RowBuilder& row,
                      uint64_t* cross_token) {
  double x = 0;
  const ParseStatus st = parse_number(c, &x);
  if (st == ParseStatus::Invalid)
    throw FeatureError(row_index, col.name, "expected a number, got " + describe(c));
  if (st == ParseStatus::Missing) {
    *cross_token = tag::kMissing;
    row.emit(hash_combine(col.salt, tag::kMissing), 1.0f);
    return;
  }
  const double clipped = numeric_position(col, x);
  for (size_t r = 0; r < col.bins.size(); ++r) {
    const int n_bins = col.bins[r];
    if (n_bins < 1) continue;  // only a crafted model file has one
    int b = int(std::floor(clipped * n_bins));
    if (b >= n_bins) b = n_bins - 1;
    const uint64_t resolution = hash_combine(col.salt, tag::kBin + uint64_t(n_bins));
    if (r == 0) *cross_token = hash_combine(tag::kBin, uint64_t(b));
    if (!col.interpolate || n_bins < 2) {
      row.emit(hash_combine(resolution, uint64_t(b)), 1.0f);
      continue;
    }
    // Between the centres of bins b0 and b0 + 1, weighted by closeness; below the first centre
    // or above the last, that one bin.
    const double u = clipped * n_bins - 0.5;
    const double lower = std::floor(u);
    const double frac = u - lower;
    if (lower < 0) {
      row.emit(hash_combine(resolution, 0), 1.0f);
    } else if (lower + 1 >= n_bins) {
      row.emit(hash_combine(resolution, uint64_t(n_bins - 1)), 1.0f);
    } else {
      const uint64_t b0 = uint64_t(lower);
      if (frac < 1.0) row.emit(hash_combine(resolution, b0), float(1.0 - frac));
      if (frac > 0.0) row.emit(hash_combine(resolution, b0 + 1), float(frac));
    }
  }
  if (clipped > 0) row.emit(hash_combine(col.salt, tag::kScaled), float(clipped));
}

void date_features(const ColumnConfig& col, const Cell& c, int64_t row_index, RowBuilder& row) {
  CivilTime t;
  const ParseStatus st = parse_date(c, &t);
  if (st == ParseStatus::Invalid)
    throw FeatureError(row_index, col.name,
                       "expected an ISO date or datetime (YYYY-MM-DD[THH:MM[:SS]]) or Unix seconds, got " +
                           describe(c));
  if (st == ParseStatus::Missing) {
    row.emit(hash_combine(col.salt, tag::kMissing), 1.0f);
    return;
  }
  // One feature per calendar field; the field number (1..6) keeps e.g. month 5 and day 5 apart.
  const int64_t fields[] = {t.year, t.month, t.weekday, t.day, t.iso_week, t.hour};
  const int n_fields = t.has_time ? 6 : 5;
  for (int f = 0; f < n_fields; ++f)
    row.emit(hash_combine(hash_combine(col.salt, uint64_t(f + 1)), uint64_t(fields[f])), 1.0f);
}

void sequence_features(const ColumnConfig& col, const Cell& c, RowBuilder& row) {
  if (c.is_null()) {
    row.emit(hash_combine(col.salt, tag::kMissing), 1.0f);
    return;
  }
  std::string num;
  std::string_view s = canonical_text(c, num);
  row.tokens.clear();
  for_each_part(s, col.delimiter, [&](std::string_view part) {
    row.tokens.push_back(hash_bytes(part.data(), part.size(), kValueSeed));
  });
  const size_t m = row.tokens.size();
  for (size_t i = 0; i < m; ++i) {
    const uint64_t position = m - 1 - i;  // 0 = the last (most recent) element
    if (col.max_length > 0 && position >= uint64_t(col.max_length)) continue;
    const uint64_t token = hash_combine(col.salt, row.tokens[i]);
    row.emit(token, 1.0f);                                                // the element anywhere
    row.emit(hash_combine(hash_combine(token, tag::kPosition), position), 1.0f);  // element x position
  }
}

int64_t parse_node_id(const Cell& c, int64_t row_index, const std::string& column) {
  switch (c.kind) {
    case CellKind::Null: return -1;
    case CellKind::Int:
      if (c.i < 0) break;
      return c.i;
    case CellKind::Float:
      if (c.f < 0 || std::floor(c.f) != c.f || c.f > 9.0e15) break;
      return int64_t(c.f);
    case CellKind::Str: {
      std::string_view s = trim(c.str);
      if (s.empty()) return -1;
      int64_t v = -1;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0) return v;
      break;
    }
  }
  throw FeatureError(row_index, column, "expected a non-negative integer node id, got " + describe(c));
}

void parse_neighbors(const Cell& c, const std::string& delimiter, int64_t row_index, const std::string& column,
                     std::vector<int64_t>& out) {
  out.clear();
  if (c.kind != CellKind::Str) {
    const int64_t id = parse_node_id(c, row_index, column);
    if (id >= 0) out.push_back(id);
    return;
  }
  for_each_part(c.str, delimiter, [&](std::string_view part) {
    int64_t v = -1;
    auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size() || v < 0)
      throw FeatureError(row_index, column,
                         "expected non-negative integer node ids separated by '" + delimiter + "', got " +
                             quoted(part));
    out.push_back(v);
  });
}

}  // namespace udt

namespace udt {
std::vector<double> numeric_values(const ColumnView& col, int64_t n_rows, const std::string& column) {
  std::vector<double> out;
  out.reserve(size_t(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    const Cell c = col.cell(r);
    double x = 0;
    const ParseStatus st = parse_number(c, &x);
    if (st == ParseStatus::Invalid) {
      std::string scratch;
      throw FeatureError(r, column, "expected a number, got '" + std::string(canonical_text(c, scratch)) + "'");
    }
    if (st == ParseStatus::Ok) out.push_back(x);
  }
  return out;
}

double numeric_position(const ColumnConfig& col, double x) {
  const std::vector<double>& q = col.quantiles;
  if (q.size() >= 2) {
    // Edges <= x: ties (a column that is 90% zeros) put x after all of its copies, so equal
    // values share one position and the next larger value starts the next rank.
    const size_t j = size_t(std::upper_bound(q.begin(), q.end(), x) - q.begin());
    if (j == 0) return 0.0;
    if (j == q.size()) return 1.0;
    const double frac = (x - q[j - 1]) / (q[j] - q[j - 1]);  // q[j] > x >= q[j - 1]
    const double p = (double(j - 1) + frac) / double(q.size() - 1);
    return p >= 0.0 && p <= 1.0 ? p : 0.5;  // only unsorted or NaN edges (a crafted file) fall outside
  }
  const double span = col.hi - col.lo;
  const double unit = span > 0 ? (x - col.lo) / span : 0.5;
  if (std::isnan(unit)) return 0.5;  // infinite lo and hi (a crafted file): the cast to a bin must stay defined
  return unit < 0 ? 0 : (unit > 1 ? 1 : unit);
}
}  // namespace udt

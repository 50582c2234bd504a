#include "label_vocab.h"

#include "column_features.h"
#include "feature_error.h"
#include "parse.h"

namespace udt {
namespace {

template <class Fn>
void for_each_label(const Cell& c, const std::string& delimiter, std::string& scratch, int64_t row,
                    const std::string& column, Fn fn) {
  if (c.is_null()) throw FeatureError(row, column, "expected a label, got a missing value");
  std::string_view s = canonical_text(c, scratch);
  bool any = false;
  if (delimiter.empty() || c.kind != CellKind::Str) {
    s = trim(s);
    any = !s.empty();
    if (any) fn(s);
  } else {
    for_each_part(s, delimiter, [&](std::string_view part) {
      any = true;
      fn(part);
    });
  }
  if (!any) throw FeatureError(row, column, "expected a label, got an empty value");
}

}  // namespace

void LabelVocab::add(std::string_view label) {
  const auto it = ids_.find(label);
  if (it != ids_.end()) {
    ++counts_[it->second];
    return;
  }
  names_.emplace_back(label);
  ids_.emplace(std::string_view(names_.back()), uint32_t(names_.size() - 1));
  counts_.push_back(1);
}

int64_t LabelVocab::find(std::string_view label) const {
  auto it = ids_.find(label);
  return it == ids_.end() ? -1 : int64_t(it->second);
}

void LabelVocab::collect(const ColumnView& col, int64_t n_rows, const std::string& delimiter,
                         const std::string& column) {
  std::string scratch;
  for (int64_t r = 0; r < n_rows; ++r)
    for_each_label(col.cell(r), delimiter, scratch, r, column, [&](std::string_view s) { add(s); });
}

LabelRows LabelVocab::lookup(const ColumnView& col, int64_t n_rows, const std::string& delimiter,
                             const std::string& column) const {
  LabelRows out;
  out.offsets.reserve(size_t(n_rows) + 1);
  out.ids.reserve(size_t(n_rows));
  std::string scratch;
  for (int64_t r = 0; r < n_rows; ++r) {
    for_each_label(col.cell(r), delimiter, scratch, r, column, [&](std::string_view s) {
      const int64_t id = find(s);
      if (id < 0)
        ++out.n_unseen;
      else
        out.ids.push_back(uint32_t(id));
    });
    out.offsets.push_back(int64_t(out.ids.size()));
  }
  return out;
}

LabelRows regression_targets(const ColumnView& col, int64_t n_rows, const std::string& column) {
  LabelRows out;
  out.offsets.reserve(size_t(n_rows) + 1);
  for (int64_t r = 0; r < n_rows; ++r) {
    const Cell c = col.cell(r);
    double y = 0;
    const ParseStatus st = parse_number(c, &y);
    if (st != ParseStatus::Ok) {
      std::string scratch;
      throw FeatureError(r, column,
                         st == ParseStatus::Missing ? std::string("expected a numeric target, got a missing value")
                                                    : "expected a numeric target, got '" +
                                                          std::string(canonical_text(c, scratch)) + "'");
    }
    out.ids.push_back(0);
    out.values.push_back(float(y));
    out.offsets.push_back(int64_t(out.ids.size()));
  }
  return out;
}

}  // namespace udt

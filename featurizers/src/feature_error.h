// A bad value found while featurizing: which row (0-based within the batch), which
// column, and a message saying what was expected. The bindings turn it into a Python
// exception that the Python layer re-raises as udt.errors.DataError with file and row.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace udt {

struct FeatureError : std::runtime_error {
  int64_t row;
  std::string column;
  FeatureError(int64_t row_, std::string column_, const std::string& what)
      : std::runtime_error(what), row(row_), column(std::move(column_)) {}
};

}  // namespace udt

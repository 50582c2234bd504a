// Follows CSV quoting over a byte stream, as Arrow's reader interprets it (a field is
// quoted only when it starts with the quote character; a doubled quote inside a quoted
// field is a literal quote), and counts lines. Arrow silently accepts a quote left open
// at end of file (the rest of the file becomes one field); this lets udt refuse it and
// name the line where the quote opened.
#pragma once
#include <cstddef>
#include <cstdint>

namespace udt {

class CsvQuoteScanner {
 public:
  explicit CsvQuoteScanner(char delimiter, char quote = '"') : delimiter_(delimiter), quote_(quote) {}
  void feed(const char* data, size_t n);
  bool in_quotes() const { return state_ == State::Quoted; }
  int64_t open_quote_line() const { return open_line_; }  // 1-based line of the last opening quote
  int64_t lines_seen() const { return line_; }

 private:
  enum class State { FieldStart, Unquoted, Quoted, QuoteInQuoted };
  char delimiter_, quote_;
  State state_ = State::FieldStart;
  int64_t line_ = 1;
  int64_t open_line_ = 0;
};

}  // namespace udt

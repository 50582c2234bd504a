// Follows CSV quoting over a byte stream, as Arrow's reader interprets it (a field is
// quoted only when it starts with the quote character; a doubled quote inside a quoted
// field is a literal quote), and counts lines. Arrow silently accepts a quote left open
// at end of file (the rest of the file becomes one field); this lets udt refuse it and
// name the line where the quote opened. It also counts each record's fields, so that when
// Arrow refuses a row with the wrong number of fields (and cannot say where: with quoted
// newlines it does not know line numbers) udt names the line without reading the file again.
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
  // The first record (after the header) whose field count differs from the header's: its first
  // line, or 0 when every record so far matched. finish() ends a last record without a newline.
  int64_t first_bad_line() const { return bad_line_; }
  int64_t first_bad_fields() const { return bad_fields_; }
  void finish() { end_record(); }

 private:
  enum class State { FieldStart, Unquoted, Quoted, QuoteInQuoted };
  void unquoted_text(const char* p, const char* stop);  // delimiters and record ends outside quotes
  void end_record();
  char delimiter_, quote_;
  int64_t delimiters_ = 0;        // in the current record, outside quotes
  bool has_content_ = false;      // the current record is not an empty line (Arrow skips those)
  int64_t record_line_ = 1;       // where the current record started
  int64_t expected_fields_ = -1;  // the header's
  int64_t bad_line_ = 0, bad_fields_ = 0;
  State state_ = State::FieldStart;
  int64_t line_ = 1;
  int64_t open_line_ = 0;
};

}  // namespace udt

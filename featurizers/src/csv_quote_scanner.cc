#include "csv_quote_scanner.h"

#include <algorithm>
#include <cstring>

namespace udt {

// Jumps from quote to quote with memchr (most bytes are not quotes); newlines in between
// are only counted. A quote opens a quoted field only when it starts a field.
void CsvQuoteScanner::feed(const char* data, size_t n) {
  const char* p = data;
  const char* end = data + n;
  while (p < end) {
    if (state_ == State::QuoteInQuoted) {  // the byte after a quote inside a quoted field
      const char c = *p;
      if (c == quote_) {
        state_ = State::Quoted;  // "" is an escaped quote
        ++p;
        continue;
      }
      state_ = State::Unquoted;  // the quoted field ended; what follows is unquoted text
      continue;
    }
    const char* q = static_cast<const char*>(std::memchr(p, quote_, size_t(end - p)));
    const char* stop = q ? q : end;
    if (state_ == State::Quoted) {
      line_ += std::count(p, stop, '\n');
      if (q) state_ = State::QuoteInQuoted;
      p = q ? q + 1 : end;
      continue;
    }
    unquoted_text(p, stop);
    // Unquoted text up to `stop`: the state there depends only on the byte before it.
    if (stop > p) {
      const char prev = stop[-1];
      state_ = (prev == delimiter_ || prev == '\n' || prev == '\r') ? State::FieldStart : State::Unquoted;
    }
    if (!q) break;
    if (state_ == State::FieldStart) {
      state_ = State::Quoted;
      open_line_ = line_;
      has_content_ = true;
    }
    p = q + 1;
  }
}

void CsvQuoteScanner::unquoted_text(const char* p, const char* stop) {
  while (p < stop) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(stop - p)));
    const char* segment_end = nl ? nl : stop;
    delimiters_ += std::count(p, segment_end, delimiter_);
    if (segment_end > p && !(segment_end - p == 1 && *p == '\r')) has_content_ = true;
    if (!nl) return;
    end_record();
    ++line_;
    record_line_ = line_;
    p = nl + 1;
  }
}

void CsvQuoteScanner::end_record() {
  if (has_content_) {
    const int64_t fields = delimiters_ + 1;
    if (expected_fields_ < 0) {
      expected_fields_ = fields;
    } else if (fields != expected_fields_ && bad_line_ == 0) {
      bad_line_ = record_line_;
      bad_fields_ = fields;
    }
  }
  delimiters_ = 0;
  has_content_ = false;
}

}  // namespace udt

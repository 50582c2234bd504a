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
      } else if (c == delimiter_ || c == '\n') {
        state_ = State::FieldStart;
      } else if (c != '\r') {
        state_ = State::Unquoted;  // text after a closing quote: kept literally, as Arrow does
      }
      if (c == '\n') ++line_;
      ++p;
      continue;
    }
    const char* q = static_cast<const char*>(std::memchr(p, quote_, size_t(end - p)));
    const char* stop = q ? q : end;
    line_ += std::count(p, stop, '\n');
    if (state_ == State::Quoted) {
      if (q) state_ = State::QuoteInQuoted;
      p = q ? q + 1 : end;
      continue;
    }
    // Unquoted text up to `stop`: the state there depends only on the byte before it.
    if (stop > p) {
      const char prev = stop[-1];
      state_ = (prev == delimiter_ || prev == '\n' || prev == '\r') ? State::FieldStart : State::Unquoted;
    }
    if (!q) break;
    if (state_ == State::FieldStart) {
      state_ = State::Quoted;
      open_line_ = line_;
    }
    p = q + 1;
  }
}

}  // namespace udt

#include "csv_quote_scanner.h"

namespace udt {

void CsvQuoteScanner::feed(const char* data, size_t n) {
  State s = state_;
  for (size_t i = 0; i < n; ++i) {
    const char c = data[i];
    if (c == '\n') ++line_;
    switch (s) {
      case State::FieldStart:
        if (c == quote_) {
          s = State::Quoted;
          open_line_ = line_;
        } else if (c != delimiter_ && c != '\n' && c != '\r') {
          s = State::Unquoted;
        }
        break;
      case State::Unquoted:
        if (c == delimiter_ || c == '\n') s = State::FieldStart;
        break;
      case State::Quoted:
        if (c == quote_) s = State::QuoteInQuoted;
        break;
      case State::QuoteInQuoted:
        if (c == quote_)
          s = State::Quoted;  // "" is an escaped quote
        else if (c == delimiter_ || c == '\n')
          s = State::FieldStart;
        else if (c != '\r')
          s = State::Unquoted;  // text after a closing quote: kept literally, as Arrow does
        break;
    }
  }
  state_ = s;
}

}  // namespace udt

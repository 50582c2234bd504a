#include "parse.h"

#include <charconv>
#include <cmath>

namespace udt {

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

bool is_missing_marker(std::string_view s) {
  return s.empty() || s == "nan" || s == "NaN" || s == "NAN" || s == "NA" || s == "N/A" || s == "null" ||
         s == "NULL" || s == "None" || s == "?";
}

ParseStatus parse_number(const Cell& c, double* out) {
  switch (c.kind) {
    case CellKind::Null: return ParseStatus::Missing;
    case CellKind::Int: *out = double(c.i); return ParseStatus::Ok;
    case CellKind::Float:
      if (std::isinf(c.f)) return ParseStatus::Invalid;  // as for the text "inf": not a usable number
      *out = c.f;
      return ParseStatus::Ok;
    case CellKind::Str: break;
  }
  std::string_view s = trim(c.str);
  if (is_missing_marker(s)) return ParseStatus::Missing;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;  // from_chars rejects a leading '+'
  double v = 0;
  auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e) return ParseStatus::Invalid;
  if (std::isnan(v)) return ParseStatus::Missing;
  if (std::isinf(v)) return ParseStatus::Invalid;
  *out = v;
  return ParseStatus::Ok;
}

// Howard Hinnant's public-domain civil-calendar algorithms.
int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * unsigned(m + (m > 2 ? -3 : 9)) + 2) / 5 + unsigned(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void civil_from_days(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = int(doy - (153 * mp + 2) / 5 + 1);
  *m = int(mp < 10 ? mp + 3 : mp - 9);
  *y = int(yy + (*m <= 2));
}

namespace {

bool read_digits(std::string_view s, size_t* pos, int count, int* out) {
  int v = 0;
  for (int k = 0; k < count; ++k) {
    if (*pos >= s.size() || s[*pos] < '0' || s[*pos] > '9') return false;
    v = v * 10 + (s[(*pos)++] - '0');
  }
  *out = v;
  return true;
}

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

void fill_calendar_fields(CivilTime* t) {
  const int64_t days = days_from_civil(t->year, t->month, t->day);
  t->weekday = int(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday (3 when Monday = 0)
  // ISO week: the week that holds this week's Thursday; week 1 holds January 4th.
  const int64_t thursday = days - t->weekday + 3;
  int ty, tm, td;
  civil_from_days(thursday, &ty, &tm, &td);
  t->iso_week = int((thursday - days_from_civil(ty, 1, 1)) / 7 + 1);
}

}  // namespace

ParseStatus parse_date(const Cell& c, CivilTime* out) {
  if (c.kind == CellKind::Null) return ParseStatus::Missing;
  if (c.kind == CellKind::Int || c.kind == CellKind::Float) {
    // Unix seconds; beyond +-1e13 s (year ~318000) a number is not a plausible time.
    const double x = c.kind == CellKind::Int ? double(c.i) : c.f;
    if (!std::isfinite(x) || std::fabs(x) > 1e13) return ParseStatus::Invalid;
    const int64_t secs = c.kind == CellKind::Int ? c.i : int64_t(std::floor(c.f));
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    const int64_t rem = secs - days * 86400;
    civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = int(rem / 3600);
    out->minute = int(rem % 3600 / 60);
    out->second = int(rem % 60);
    out->has_time = true;
    out->epoch_seconds = secs;
    fill_calendar_fields(out);
    return ParseStatus::Ok;
  }
  std::string_view s = trim(c.str);
  if (is_missing_marker(s)) return ParseStatus::Missing;
  // All digits: Unix seconds written as text (e.g. MovieLens timestamps read from CSV).
  bool all_digits = s.size() > 0 && s.size() <= 12;
  for (char ch : s) all_digits = all_digits && ch >= '0' && ch <= '9';
  if (all_digits && s.size() != 8) {  // 8 digits would be ambiguous with YYYYMMDD: not accepted
    Cell n;
    n.kind = CellKind::Int;
    std::from_chars(s.data(), s.data() + s.size(), n.i);
    return parse_date(n, out);
  }
  size_t p = 0;
  CivilTime t;
  if (!read_digits(s, &p, 4, &t.year)) return ParseStatus::Invalid;
  if (p >= s.size() || (s[p] != '-' && s[p] != '/')) return ParseStatus::Invalid;
  const char sep = s[p++];
  if (!read_digits(s, &p, 2, &t.month) || p >= s.size() || s[p++] != sep || !read_digits(s, &p, 2, &t.day))
    return ParseStatus::Invalid;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month)) return ParseStatus::Invalid;
  int offset_minutes = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != ' ') return ParseStatus::Invalid;
    ++p;
    if (!read_digits(s, &p, 2, &t.hour) || p >= s.size() || s[p++] != ':' || !read_digits(s, &p, 2, &t.minute))
      return ParseStatus::Invalid;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!read_digits(s, &p, 2, &t.second)) return ParseStatus::Invalid;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        const size_t start = p;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
        if (p == start) return ParseStatus::Invalid;
      }
    }
    if (t.hour > 23 || t.minute > 59 || t.second > 60) return ParseStatus::Invalid;
    if (p < s.size()) {
      if (s[p] == 'Z') {
        ++p;
      } else if (s[p] == '+' || s[p] == '-') {
        const int sign = s[p++] == '-' ? -1 : 1;
        int oh = 0, om = 0;
        if (!read_digits(s, &p, 2, &oh)) return ParseStatus::Invalid;
        if (p < s.size() && s[p] == ':') ++p;
        if (!read_digits(s, &p, 2, &om)) return ParseStatus::Invalid;
        offset_minutes = sign * (oh * 60 + om);
      }
    }
    if (p != s.size()) return ParseStatus::Invalid;
    t.has_time = true;
  }
  t.epoch_seconds = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second -
                    int64_t(offset_minutes) * 60;
  if (offset_minutes != 0) {  // the calendar fields of the instant in UTC, as a tz-aware Arrow timestamp gets
    Cell utc;
    utc.kind = CellKind::Int;
    utc.i = t.epoch_seconds;
    return parse_date(utc, out);
  }
  fill_calendar_fields(&t);
  *out = t;
  return ParseStatus::Ok;
}

}  // namespace udt

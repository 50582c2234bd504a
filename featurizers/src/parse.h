// Parsing of cell text into numbers and calendar dates, with the rules udt documents:
// surrounding spaces are ignored; "", "nan", "NA", "N/A", "null", "None", "?" mean missing.
#pragma once
#include <cstdint>
#include <string_view>

#include "cell.h"

namespace udt {

enum class ParseStatus { Ok, Missing, Invalid };

std::string_view trim(std::string_view s);
bool is_missing_marker(std::string_view s);

// A cell as a double (numeric cells pass through).
ParseStatus parse_number(const Cell& c, double* out);

struct CivilTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool has_time = false;
  int64_t epoch_seconds = 0;  // UTC seconds since 1970-01-01 (timezone offsets applied)
  int weekday = 0;            // 0 = Monday
  int iso_week = 0;           // 1..53
};

// ISO dates ("2024-03-07", "2024/03/07") and datetimes ("2024-03-07T12:30[:45[.123]][Z|+01:00]",
// a space instead of T), or integer/float cells taken as Unix seconds. A time with an offset is
// featurized as the same instant in UTC, as tz-aware timestamps from Arrow are; without one, as written.
ParseStatus parse_date(const Cell& c, CivilTime* out);

int64_t days_from_civil(int y, int m, int d);
void civil_from_days(int64_t z, int* y, int* m, int* d);

}  // namespace udt

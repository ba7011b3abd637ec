// Parsing and printing of the time values that appear in Weft's configuration files.
//
//   ParseDuration("250ms") -> 250000 us        ParseDuration("1.5min") -> 90 s
//   ParseDate("2026-09-14") -> sys_days         FormatDate(days) -> "2026-09-14"
//
// Durations take a non-negative decimal number and one of: us, ms, s, min, h, d.
#ifndef WEFT_COMMON_TIME_FORMAT_H_
#define WEFT_COMMON_TIME_FORMAT_H_

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace weft {

Result<Micros> ParseDuration(std::string_view text);
//! Shortest exact form, e.g. "1s", "250ms", "90s".
std::string FormatDuration(Micros d);

//! Calendar date "YYYY-MM-DD" (proleptic Gregorian), validated (no 2026-02-30).
Result<std::chrono::sys_days> ParseDate(std::string_view text);
std::string FormatDate(std::chrono::sys_days day);
//! ISO-8601 timestamp: a date, then 'T' or ' ', hh:mm[:ss[.fraction]] (up to 9 digits; beyond
//! microseconds truncated), then 'Z' or ±hh:mm (none means UTC); a bare date is midnight UTC.
//! Returns µs since the Unix epoch; InvalidArgument naming what is wrong otherwise.
Result<int64_t> ParseTimestampMicros(std::string_view text);
//! "2026-11-25T10:00:00.000000Z": always six fractional digits, always UTC.
std::string FormatTimestampMicros(int64_t micros);

//! The UTC calendar day that contains `t`.
std::chrono::sys_days DayOf(TimePoint t);

}  // namespace weft

#endif  // WEFT_COMMON_TIME_FORMAT_H_

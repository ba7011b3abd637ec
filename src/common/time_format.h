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
//! The UTC calendar day that contains `t`.
std::chrono::sys_days DayOf(TimePoint t);

}  // namespace weft

#endif  // WEFT_COMMON_TIME_FORMAT_H_

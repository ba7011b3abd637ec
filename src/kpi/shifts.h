// Shift calendar: the UTC intervals of a site's shifts, from the shifts of plant.yaml (local time
// of the site) and the site's IANA time zone, correct across daylight-saving changes.
//
//   WEFT_ASSIGN_OR_RETURN(ShiftCalendar cal, ShiftCalendar::ForSite(*plant.FindSite("lyon")));
//   WEFT_ASSIGN_OR_RETURN(std::vector<ShiftInstance> shifts, cal.Starting(day_start, day_end));
//   for (const ShiftInstance& s : shifts) {
//     // s.shift == "early", s.start_us .. s.end_us in UTC, s.day the local day it starts on
//   }
//
// Time zones. GCC 12's libstdc++ has no std::chrono::zoned_time/tzdb, and TZ + localtime_r/
// mktime would change the process environment (setenv is not thread-safe against other
// threads' getenv/localtime, which a mutex of ours cannot cover). So TimeZone reads the
// compiled tz database itself: the TZif file (RFC 8536, versions 1-4; the 64-bit part when
// present) of the zone under /usr/share/zoneinfo (or $TZDIR, or a directory given), and the
// POSIX TZ rule of its footer for times after its last transition (as in "slim" files).
// Loading is the one I/O of src/kpi; TimeZone::FromTzif and FromPosixRule are pure.
//
// Local time to UTC (a shift starts at a local wall time):
//   - a wall time that does not exist (the hour skipped in spring) is taken with the offset in
//     force before the change, i.e. it falls that much later: 02:30 on 2026-03-29 in
//     Europe/Paris is 01:30 UTC (= 03:30 CEST);
//   - a wall time that happens twice (the hour repeated in autumn) is its first occurrence
//     (still summer time).
// So the night shift 22:00-06:00 starting on Saturday 2026-03-28 in Europe/Prague lasts 7 h and
// the one starting on 2026-10-24 lasts 9 h.
//
// Instances. Each shift has one instance per listed weekday, starting at its start time on that
// local day and ending at its end time on the same day, or on the next day when end <= start.
// A site without shifts works 24/7: its calendar has one shift named "all" per UTC day,
// [00:00Z, 24:00Z), aligned with the kpi table's UTC `date` partitions (day = that UTC day).
//
// Thread-safety: TimeZone and ShiftCalendar are immutable values after creation; const methods
// are safe from any number of threads. Load() reads a file and nothing else.
#ifndef WEFT_KPI_SHIFTS_H_
#define WEFT_KPI_SHIFTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/plant.h"

namespace weft::kpi {

//! The name of the 24/7 shift of sites without shifts.
inline constexpr char kAllDayShift[] = "all";
//! The longest range a calendar lists at once: 10 years (3660 days).
inline constexpr int64_t kMaxCalendarRangeUs = int64_t{3660} * 86400 * 1'000'000;
//! Calendars cover [1800-01-01, 2400-01-01) UTC.
inline constexpr int64_t kMinCalendarUs = int64_t{-5'364'662'400} * 1'000'000;
inline constexpr int64_t kMaxCalendarUs = int64_t{13'569'465'600} * 1'000'000;

//! An IANA time zone: the UTC offset at any instant, and local wall time to UTC.
class TimeZone {
 public:
  //! UTC (offset 0, no transitions).
  static TimeZone Utc();
  //! Reads the zone `name` ("Europe/Paris") from `zoneinfo_dir` (default: $TZDIR if set, else
  //! /usr/share/zoneinfo). "UTC", "Etc/UTC" and "Z" need no file. InvalidArgument for a name
  //! that is not a zone name (empty, absolute, "..", characters other than A-Z a-z 0-9 / _ - +);
  //! NotFound when there is no such file; DataLoss when the file is not valid TZif.
  static Result<TimeZone> Load(std::string_view name, std::string_view zoneinfo_dir = "");
  //! Parses the bytes of a TZif file. DataLoss (naming `name`) when they are not valid TZif.
  static Result<TimeZone> FromTzif(std::string_view bytes, std::string name);
  //! A zone from a POSIX TZ rule alone, e.g. "CET-1CEST,M3.5.0,M10.5.0/3" (std name, offset
  //! west of UTC, optional dst name [offset], ",start[/time],end[/time]" with Mm.w.d, Jn or n).
  //! InvalidArgument for malformed rules.
  static Result<TimeZone> FromPosixRule(std::string_view rule);

  const std::string& name() const { return name_; }
  //! Seconds east of UTC in force at `utc_us` (e.g. 7200 in Paris in summer).
  int64_t OffsetAt(int64_t utc_us) const;
  //! The UTC instant (µs) of local wall time `local_s` (seconds since 1970-01-01T00:00 local),
  //! with the gap/overlap rules of the file comment. `local_s` is clamped to ±2^42.
  int64_t LocalToUtc(int64_t local_s) const;

 private:
  struct Transition {
    int64_t at_s = 0;      //!< UTC seconds from which offset_s holds
    int64_t offset_s = 0;  //!< seconds east of UTC
  };
  //! A DST change date of a POSIX rule: Mm.w.d (kind 0), Jn (1, Feb 29 never counted) or n
  //! (2, 0-based day of the year), at local time `time_s`.
  struct RuleDate {
    int kind = 0;
    int month = 0, week = 0, weekday = 0, day = 0;
    int64_t time_s = 7200;
  };
  struct Rule {
    int64_t std_offset_s = 0;  //!< seconds east of UTC
    bool has_dst = false;
    int64_t dst_offset_s = 0;
    RuleDate start, end;
  };
  friend class TimeZoneParser;  // shifts.cc: TZif and POSIX rule parsing

  int64_t OffsetAtSeconds(int64_t utc_s) const;
  static int64_t RuleOffsetAt(const Rule& rule, int64_t utc_s);

  std::string name_;
  //! Offset before the first transition (always, when there are none and no rule).
  int64_t initial_offset_s_ = 0;
  std::vector<Transition> transitions_;  //!< sorted by at_s
  //! For times after the last transition (the TZif footer); none: the last offset holds.
  std::optional<Rule> rule_;
};

//! One occurrence of a shift.
struct ShiftInstance {
  std::string site;
  std::string shift;            //!< the shift's name, or kAllDayShift
  std::chrono::sys_days day{};  //!< local day it starts on (UTC day for kAllDayShift)
  int64_t start_us = 0;         //!< UTC
  int64_t end_us = 0;           //!< UTC, > start_us
  int64_t duration_us() const { return end_us - start_us; }
};

class ShiftCalendar {
 public:
  //! The calendar of `site`, its zone loaded with TimeZone::Load(site.timezone, zoneinfo_dir)
  //! (UTC when the timezone is empty). Errors of Load, with the site named.
  static Result<ShiftCalendar> ForSite(const model::Site& site, std::string_view zoneinfo_dir = "");
  //! From parts; `shifts` empty = 24/7 with one "all" shift per UTC day.
  ShiftCalendar(std::string site, std::vector<model::Shift> shifts, TimeZone zone);

  const std::string& site() const { return site_; }
  const TimeZone& zone() const { return zone_; }
  bool all_day() const { return shifts_.empty(); }

  //! The instances that start in [from, to), sorted by start, then shift name (unclipped: they
  //! may end after `to`). Use this to give each instance to exactly one period.
  //! InvalidArgument when to < from, the range is longer than kMaxCalendarRangeUs, or it is
  //! outside [kMinCalendarUs, kMaxCalendarUs].
  Result<std::vector<ShiftInstance>> Starting(int64_t from_us, int64_t to_us) const;
  //! The instances that overlap [from, to), sorted as above (unclipped). Errors as Starting.
  Result<std::vector<ShiftInstance>> Overlapping(int64_t from_us, int64_t to_us) const;

 private:
  std::string site_;
  std::vector<model::Shift> shifts_;
  TimeZone zone_;
};

}  // namespace weft::kpi

#endif  // WEFT_KPI_SHIFTS_H_

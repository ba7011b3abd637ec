#include "kpi/shifts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/time_format.h"

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kH = int64_t{3600} * 1'000'000;

int64_t Ts(const char* iso) {
  Result<int64_t> t = ParseTimestampMicros(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.value_or(0);
}

model::Shift MakeShift(std::string name, int start_h, int end_h, std::vector<int> days) {
  model::Shift s;
  s.name = std::move(name);
  s.start_minute = start_h * 60;
  s.end_minute = end_h * 60;
  for (int d : days) s.days[static_cast<size_t>(d)] = true;
  return s;
}

const std::vector<int> kMonFri = {0, 1, 2, 3, 4};
const std::vector<int> kEveryDay = {0, 1, 2, 3, 4, 5, 6};

// Paris and Prague since 1996: CET (UTC+1), CEST (UTC+2) from the last Sunday of March
// 02:00 CET (01:00Z) to the last Sunday of October 03:00 CEST (01:00Z).
constexpr char kCentralEurope[] = "CET-1CEST,M3.5.0,M10.5.0/3";

TimeZone CentralEurope() {
  Result<TimeZone> tz = TimeZone::FromPosixRule(kCentralEurope);
  EXPECT_TRUE(tz.ok()) << tz.status().ToString();
  return tz.ok() ? std::move(tz).value() : TimeZone::Utc();
}

TEST(TimeZone, PosixRuleOffsetsAroundTheChanges) {
  TimeZone tz = CentralEurope();
  EXPECT_EQ(tz.OffsetAt(Ts("2026-01-15T12:00:00Z")), 3600);
  // 2026-03-29 is the last Sunday of March: the clocks go forward at 01:00Z.
  EXPECT_EQ(tz.OffsetAt(Ts("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(tz.OffsetAt(Ts("2026-03-29T01:00:00Z")), 7200);
  EXPECT_EQ(tz.OffsetAt(Ts("2026-07-01T00:00:00Z")), 7200);
  // 2026-10-25 is the last Sunday of October: back at 01:00Z (03:00 CEST).
  EXPECT_EQ(tz.OffsetAt(Ts("2026-10-25T00:59:59Z")), 7200);
  EXPECT_EQ(tz.OffsetAt(Ts("2026-10-25T01:00:00Z")), 3600);
  // A rule without DST, and one in the southern hemisphere (Santiago: DST from the first
  // Sunday of September to the first Sunday of April, at 24:00 local).
  Result<TimeZone> fixed = TimeZone::FromPosixRule("<+03>-3");
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->OffsetAt(0), 3 * 3600);
  Result<TimeZone> santiago = TimeZone::FromPosixRule("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
  ASSERT_TRUE(santiago.ok()) << santiago.status().ToString();
  EXPECT_EQ(santiago->OffsetAt(Ts("2026-01-15T12:00:00Z")), -3 * 3600);
  EXPECT_EQ(santiago->OffsetAt(Ts("2026-06-15T12:00:00Z")), -4 * 3600);
}

TEST(TimeZone, LocalToUtcInTheGapAndTheOverlap) {
  TimeZone tz = CentralEurope();
  // An ordinary wall time: 06:00 CET = 05:00Z. Local seconds of 2026-03-24T06:00 are the UTC
  // seconds of "2026-03-24T06:00Z".
  auto local = [](const char* iso) { return Ts(iso) / 1'000'000; };
  EXPECT_EQ(tz.LocalToUtc(local("2026-03-24T06:00:00Z")), Ts("2026-03-24T05:00:00Z"));
  // 02:30 on 2026-03-29 does not exist: taken with the offset before (+1): 01:30Z.
  EXPECT_EQ(tz.LocalToUtc(local("2026-03-29T02:30:00Z")), Ts("2026-03-29T01:30:00Z"));
  // 02:30 on 2026-10-25 happens twice (00:30Z in CEST, 01:30Z in CET): the first.
  EXPECT_EQ(tz.LocalToUtc(local("2026-10-25T02:30:00Z")), Ts("2026-10-25T00:30:00Z"));
}

TEST(TimeZone, SystemDatabaseAgreesWithTheRule) {
  Result<TimeZone> paris = TimeZone::Load("Europe/Paris");
  if (!paris.ok() && paris.status().code() == StatusCode::kNotFound) {
    GTEST_SKIP() << "no tz database here: " << paris.status().ToString();
  }
  ASSERT_TRUE(paris.ok()) << paris.status().ToString();
  TimeZone rule = CentralEurope();
  // Every 6 hours from 2000 to 2060: the file's transitions (to 2037) and then its footer rule.
  for (int64_t t = Ts("2000-01-01T00:00:00Z"); t < Ts("2060-01-01T00:00:00Z"); t += 6 * kH) {
    ASSERT_EQ(paris->OffsetAt(t), rule.OffsetAt(t)) << FormatTimestampMicros(t);
  }
  // Before 1996 France was not on today's rule: 1976-07-01 was on summer time (+2) already.
  EXPECT_EQ(paris->OffsetAt(Ts("1976-07-01T00:00:00Z")), 7200);
}

TEST(TimeZone, LoadErrors) {
  Result<TimeZone> traversal = TimeZone::Load("../../etc/passwd");
  ASSERT_FALSE(traversal.ok());
  EXPECT_EQ(traversal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(traversal.status().message(), HasSubstr("not a time zone name"));
  EXPECT_FALSE(TimeZone::Load("/etc/localtime").ok());
  EXPECT_FALSE(TimeZone::Load("").ok());
  Result<TimeZone> missing = TimeZone::Load("Mars/Olympus_Mons", "/nonexistent-zoneinfo");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("Mars/Olympus_Mons"));
  // UTC needs no file.
  Result<TimeZone> utc = TimeZone::Load("UTC", "/nonexistent-zoneinfo");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->OffsetAt(Ts("2026-07-01T00:00:00Z")), 0);
}

TEST(TimeZone, MalformedTzifAndRulesAreErrors) {
  Result<TimeZone> garbage = TimeZone::FromTzif("not a zone file", "X/Y");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(garbage.status().message(), HasSubstr("X/Y"));
  // A header that promises more data than there is.
  std::string truncated = std::string("TZif2") + std::string(15, '\0');
  for (int count : {0, 0, 0, 100, 1, 4}) {
    truncated += std::string(3, '\0') + static_cast<char>(count);
  }
  EXPECT_EQ(TimeZone::FromTzif(truncated, "T").status().code(), StatusCode::kDataLoss);
  for (const char* rule : {"", "CE", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
                           "CET-1CEST,M3.5.0,M10.5.0/3x", "CET-99"}) {
    Result<TimeZone> tz = TimeZone::FromPosixRule(rule);
    EXPECT_FALSE(tz.ok()) << rule;
    if (!tz.ok()) {
      EXPECT_EQ(tz.status().code(), StatusCode::kInvalidArgument) << rule;
    }
  }
}

// A version 1 TZif file built by hand: +1 h until 1'000'000 s after the epoch, +2 h after.
TEST(TimeZone, ParsesAHandBuiltTzifFile) {
  auto be32 = [](int64_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) {
      s[static_cast<size_t>(3 - i)] =
          static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
    }
    return s;
  };
  std::string f = std::string("TZif") + '\0' + std::string(15, '\0');
  for (int count : {0, 0, 0, 1, 2, 8}) f += be32(count);  // isut isstd leap time type chars
  f += be32(1'000'000);                                   // the one transition
  f += '\1';                                              // to type 1
  f += be32(3600) + '\0' + '\0';                          // type 0: +1 h, std, "AAA"
  f += be32(7200) + '\1' + '\4';                          // type 1: +2 h, dst, "BBB"
  f += std::string("AAA") + '\0' + "BBB" + '\0';
  Result<TimeZone> tz = TimeZone::FromTzif(f, "Test/Zone");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  EXPECT_EQ(tz->name(), "Test/Zone");
  EXPECT_EQ(tz->OffsetAt(999'999 * int64_t{1'000'000}), 3600);
  EXPECT_EQ(tz->OffsetAt(1'000'000 * int64_t{1'000'000}), 7200);
  EXPECT_EQ(tz->OffsetAt(int64_t{4'000'000'000} * 1'000'000), 7200);  // the last one holds
}

TEST(ShiftCalendar, LyonEarlyAndLateInAWinterWeek) {
  ShiftCalendar cal("lyon",
                    {MakeShift("early", 6, 14, kMonFri), MakeShift("late", 14, 22, kMonFri)},
                    CentralEurope());
  // Monday 2026-03-23 to Monday 2026-03-30 (UTC): 5 days x 2 shifts.
  Result<std::vector<ShiftInstance>> week =
      cal.Starting(Ts("2026-03-23T00:00:00Z"), Ts("2026-03-30T00:00:00Z"));
  ASSERT_TRUE(week.ok());
  ASSERT_EQ(week->size(), 10u);
  // Monday early: 06:00-14:00 CET = 05:00Z-13:00Z.
  EXPECT_EQ((*week)[0].shift, "early");
  EXPECT_EQ((*week)[0].site, "lyon");
  EXPECT_EQ((*week)[0].start_us, Ts("2026-03-23T05:00:00Z"));
  EXPECT_EQ((*week)[0].end_us, Ts("2026-03-23T13:00:00Z"));
  EXPECT_EQ((*week)[0].day, std::chrono::sys_days(std::chrono::year{2026} / 3 / 23));
  EXPECT_EQ((*week)[1].shift, "late");
  EXPECT_EQ((*week)[1].start_us, Ts("2026-03-23T13:00:00Z"));
  EXPECT_EQ((*week)[9].start_us, Ts("2026-03-27T13:00:00Z"));  // Friday late
  // The Monday after the change to summer time: 06:00 CEST = 04:00Z.
  Result<std::vector<ShiftInstance>> next =
      cal.Starting(Ts("2026-03-30T00:00:00Z"), Ts("2026-03-31T00:00:00Z"));
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].start_us, Ts("2026-03-30T04:00:00Z"));
  EXPECT_EQ((*next)[0].duration_us(), 8 * kH);
}

TEST(ShiftCalendar, NightShiftCrossesMidnight) {
  ShiftCalendar cal("brno",
                    {MakeShift("morning", 6, 14, kMonFri), MakeShift("afternoon", 14, 22, kMonFri),
                     MakeShift("night", 22, 6, kMonFri)},
                    CentralEurope());
  // Tuesday 2026-03-24 00:00Z-12:00Z: Monday's night (22:00 CET Mon = 21:00Z to 06:00 CET Tue =
  // 05:00Z) overlaps it; Tuesday's morning (05:00Z-13:00Z) starts in it.
  int64_t from = Ts("2026-03-24T00:00:00Z"), to = Ts("2026-03-24T12:00:00Z");
  Result<std::vector<ShiftInstance>> over = cal.Overlapping(from, to);
  ASSERT_TRUE(over.ok());
  ASSERT_EQ(over->size(), 2u);
  EXPECT_EQ((*over)[0].shift, "night");
  EXPECT_EQ((*over)[0].day, std::chrono::sys_days(std::chrono::year{2026} / 3 / 23));  // Monday
  EXPECT_EQ((*over)[0].start_us, Ts("2026-03-23T21:00:00Z"));
  EXPECT_EQ((*over)[0].end_us, Ts("2026-03-24T05:00:00Z"));
  EXPECT_EQ((*over)[1].shift, "morning");
  Result<std::vector<ShiftInstance>> starting = cal.Starting(from, to);
  ASSERT_TRUE(starting.ok());
  ASSERT_EQ(starting->size(), 1u);
  EXPECT_EQ((*starting)[0].shift, "morning");
  // Friday's night ends on Saturday 06:00; there is none on Saturday or Sunday.
  Result<std::vector<ShiftInstance>> weekend =
      cal.Starting(Ts("2026-03-27T20:00:00Z"), Ts("2026-03-30T00:00:00Z"));
  ASSERT_TRUE(weekend.ok());
  ASSERT_EQ(weekend->size(), 1u);
  EXPECT_EQ((*weekend)[0].start_us, Ts("2026-03-27T21:00:00Z"));
  EXPECT_EQ((*weekend)[0].end_us, Ts("2026-03-28T05:00:00Z"));
}

TEST(ShiftCalendar, NightShiftOnTheDaylightSavingChanges) {
  ShiftCalendar cal("brno", {MakeShift("night", 22, 6, kEveryDay)}, CentralEurope());
  // Saturday 2026-03-28 22:00 CET = 21:00Z to Sunday 06:00 CEST = 04:00Z: 7 h.
  Result<std::vector<ShiftInstance>> spring =
      cal.Starting(Ts("2026-03-28T12:00:00Z"), Ts("2026-03-29T12:00:00Z"));
  ASSERT_TRUE(spring.ok());
  ASSERT_EQ(spring->size(), 1u);
  EXPECT_EQ((*spring)[0].start_us, Ts("2026-03-28T21:00:00Z"));
  EXPECT_EQ((*spring)[0].end_us, Ts("2026-03-29T04:00:00Z"));
  EXPECT_EQ((*spring)[0].duration_us(), 7 * kH);
  // Saturday 2026-10-24 22:00 CEST = 20:00Z to Sunday 06:00 CET = 05:00Z: 9 h.
  Result<std::vector<ShiftInstance>> autumn =
      cal.Starting(Ts("2026-10-24T12:00:00Z"), Ts("2026-10-25T12:00:00Z"));
  ASSERT_TRUE(autumn.ok());
  ASSERT_EQ(autumn->size(), 1u);
  EXPECT_EQ((*autumn)[0].start_us, Ts("2026-10-24T20:00:00Z"));
  EXPECT_EQ((*autumn)[0].duration_us(), 9 * kH);
  // A 24 h shift (end == start) on the spring Sunday lasts 23 h.
  ShiftCalendar day("x", {MakeShift("day", 0, 0, kEveryDay)}, CentralEurope());
  Result<std::vector<ShiftInstance>> sunday =
      day.Starting(Ts("2026-03-28T23:00:00Z"), Ts("2026-03-28T23:00:01Z"));
  ASSERT_TRUE(sunday.ok());
  ASSERT_EQ(sunday->size(), 1u);
  EXPECT_EQ((*sunday)[0].duration_us(), 23 * kH);
}

TEST(ShiftCalendar, SiteWithoutShiftsWorksAllDayInUtcDays) {
  ShiftCalendar cal("plant", {}, CentralEurope());
  EXPECT_TRUE(cal.all_day());
  Result<std::vector<ShiftInstance>> two =
      cal.Overlapping(Ts("2026-03-24T10:00:00Z"), Ts("2026-03-25T10:00:00Z"));
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].shift, kAllDayShift);
  EXPECT_EQ((*two)[0].start_us, Ts("2026-03-24T00:00:00Z"));
  EXPECT_EQ((*two)[1].end_us, Ts("2026-03-26T00:00:00Z"));
  Result<std::vector<ShiftInstance>> one =
      cal.Starting(Ts("2026-03-24T10:00:00Z"), Ts("2026-03-25T10:00:00Z"));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].day, std::chrono::sys_days(std::chrono::year{2026} / 3 / 25));
}

TEST(ShiftCalendar, RangeErrors) {
  ShiftCalendar cal("x", {MakeShift("a", 6, 14, kMonFri)}, TimeZone::Utc());
  EXPECT_EQ(cal.Starting(10, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cal.Overlapping(0, kMaxCalendarRangeUs + 1).status().code(),
            StatusCode::kInvalidArgument);
  Result<std::vector<ShiftInstance>> far =
      cal.Starting(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1);
  ASSERT_FALSE(far.ok());
  EXPECT_THAT(far.status().message(), HasSubstr("outside the years 1800 to 2399"));
  EXPECT_FALSE(cal.Starting(kMaxCalendarUs, std::numeric_limits<int64_t>::max()).ok());
  // The zone itself never overflows, whatever it is asked.
  TimeZone tz = CentralEurope();
  const int64_t far_future = tz.OffsetAt(std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(far_future == 3600 || far_future == 7200) << far_future;
  (void)tz.LocalToUtc(std::numeric_limits<int64_t>::min());
  Result<std::vector<ShiftInstance>> empty = cal.Starting(5, 5);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ShiftCalendar, ForSiteLoadsTheZone) {
  model::Site site;
  site.id = "lyon";
  site.timezone = "Europe/Paris";
  site.shifts = {MakeShift("early", 6, 14, kMonFri)};
  Result<ShiftCalendar> cal = ShiftCalendar::ForSite(site);
  if (!cal.ok() && cal.status().code() == StatusCode::kNotFound) {
    GTEST_SKIP() << "no tz database here: " << cal.status().ToString();
  }
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  Result<std::vector<ShiftInstance>> tue =
      cal->Starting(Ts("2026-07-07T00:00:00Z"), Ts("2026-07-08T00:00:00Z"));
  ASSERT_TRUE(tue.ok());
  ASSERT_EQ(tue->size(), 1u);
  EXPECT_EQ((*tue)[0].start_us, Ts("2026-07-07T04:00:00Z"));  // 06:00 CEST
  site.timezone = "Europe/Nowhere";
  Result<ShiftCalendar> bad = ShiftCalendar::ForSite(site);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("site 'lyon'"));
}

}  // namespace
}  // namespace weft::kpi

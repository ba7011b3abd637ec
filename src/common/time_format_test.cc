#include "common/time_format.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(*ParseDuration("250us"), Micros(250));
  EXPECT_EQ(*ParseDuration("100ms"), milliseconds(100));
  EXPECT_EQ(*ParseDuration("1s"), seconds(1));
  EXPECT_EQ(*ParseDuration("1.5min"), seconds(90));
  EXPECT_EQ(*ParseDuration("2h"), seconds(7200));
  EXPECT_EQ(*ParseDuration("1d"), seconds(86400));
  EXPECT_EQ(*ParseDuration("0s"), Micros(0));
}

TEST(ParseDuration, RejectsWithAReason) {
  for (const char* bad : {"", "s", "10", "10 s", "ten s", "5 weeks", "-1s", "1e400s", "1..5s"}) {
    Result<Micros> r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("expected a number and a unit"), std::string::npos);
  }
  EXPECT_NE(ParseDuration("10").status().message().find("no unit"), std::string::npos);
  EXPECT_NE(ParseDuration("5wk").status().message().find("unknown unit 'wk'"), std::string::npos);
}

TEST(FormatDuration, ShortestExactForm) {
  EXPECT_EQ(FormatDuration(seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(seconds(120)), "2min");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(Micros(7)), "7us");
  EXPECT_EQ(FormatDuration(Micros(0)), "0us");
}

TEST(ParseDate, ValidatesTheCalendar) {
  Result<std::chrono::sys_days> d = ParseDate("2026-09-14");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(FormatDate(*d), "2026-09-14");
  EXPECT_TRUE(ParseDate("2024-02-29").ok());
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-9-14", "14.09.2026",
                          "2026-09-14T00:00", "", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseDate(bad).ok()) << bad;
  }
}

TEST(DayOf, FloorsToTheUtcDay) {
  TimePoint t = TimePoint(std::chrono::sys_days(*ParseDate("2026-11-25"))) + seconds(86399);
  EXPECT_EQ(FormatDate(DayOf(t)), "2026-11-25");
  EXPECT_EQ(FormatDate(DayOf(TimeFromUnixMicros(-1))), "1969-12-31");
}

}  // namespace
TEST(Timestamp, ParsesIsoForms) {
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimestampMicros("2026-11-01"), int64_t{1793491200} * 1000000);
  EXPECT_EQ(*ParseTimestampMicros("2026-11-01 00:00:01.5"), int64_t{1793491201} * 1000000 + 500000);
  EXPECT_EQ(*ParseTimestampMicros("2026-11-01T01:00+01:00"), int64_t{1793491200} * 1000000);
  EXPECT_EQ(*ParseTimestampMicros("2026-11-01T00:00:00.123456789Z"),
            int64_t{1793491200} * 1000000 + 123456);
  EXPECT_EQ(*ParseTimestampMicros("1969-12-31T23:59:59.999999Z"), -1);
}

TEST(Timestamp, RefusesWithTheReason) {
  auto r = ParseTimestampMicros("2026-11-01T25:00Z");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hour"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ParseTimestampMicros("2026-13-01").ok());
  EXPECT_FALSE(ParseTimestampMicros("2026-11-01T10:00Zjunk").ok());
  EXPECT_FALSE(ParseTimestampMicros("").ok());
}

TEST(Timestamp, FormatsWithMicrosecondsInUtc) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31T23:59:59.999999Z");
  const int64_t t = *ParseTimestampMicros("2026-11-25T18:49:35.000123Z");
  EXPECT_EQ(FormatTimestampMicros(t), "2026-11-25T18:49:35.000123Z");
}

}  // namespace weft

#include "common/clock.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(TimeFromUnixMicros(1'000'000));
  EXPECT_EQ(UnixMicros(clock.Now()), 1'000'000);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(UnixMicros(clock.Now()), 3'000'000);
  clock.Set(TimeFromUnixMicros(5));
  EXPECT_EQ(UnixMicros(clock.Now()), 5);
}

TEST(SystemClock, IsAfter2020AndMonotoneEnough) {
  const Clock& clock = SystemClock::Default();
  TimePoint a = clock.Now();
  TimePoint b = clock.Now();
  EXPECT_GT(UnixMicros(a), 1'577'836'800'000'000);  // 2020-01-01
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace weft

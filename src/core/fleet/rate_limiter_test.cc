#include "core/fleet/rate_limiter.h"

#include <gtest/gtest.h>

namespace weft::core::fleet {
namespace {

TEST(RateLimiterTest, BurstThenRefillAtTheRate) {
  ManualClock clock(TimeFromUnixMicros(0));
  RateLimiter limiter({.rate_per_s = 2, .burst = 3}, &clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a").allowed) << i;
  RateDecision d = limiter.Take("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, std::chrono::milliseconds(500));
  EXPECT_TRUE(limiter.Take("b").allowed) << "keys are independent";
  clock.Advance(std::chrono::milliseconds(499));
  EXPECT_FALSE(limiter.Take("a").allowed);
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(limiter.Take("a").allowed);
  clock.Advance(std::chrono::seconds(100));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a").allowed) << "refills up to burst";
  EXPECT_FALSE(limiter.Take("a").allowed);
}

TEST(RateLimiterTest, CheckSpendsNothingAndChargeCountsRefusals) {
  ManualClock clock(TimeFromUnixMicros(0));
  RateLimiter limiter({.rate_per_s = 10.0 / 60, .burst = 10}, &clock);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.Check("ip").allowed);
  for (int i = 0; i < 10; ++i) limiter.Charge("ip");
  RateDecision d = limiter.Check("ip");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, std::chrono::seconds(6));
  limiter.Charge("ip");  // while limited, more refusals push recovery further out
  EXPECT_EQ(limiter.Check("ip").retry_after, std::chrono::seconds(12));
}

TEST(RateLimiterTest, MemoryIsBoundedByDroppingFullBuckets) {
  ManualClock clock(TimeFromUnixMicros(0));
  RateLimiter limiter({.rate_per_s = 1, .burst = 1}, &clock, /*max_keys=*/100);
  for (int i = 0; i < 1000; ++i) limiter.Take("k" + std::to_string(i));
  EXPECT_LE(limiter.keys(), 100u);
  clock.Advance(std::chrono::seconds(2));
  limiter.Take("fresh");
  EXPECT_LE(limiter.keys(), 100u);
}

}  // namespace
}  // namespace weft::core::fleet

#include "kpi/series.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kS = 1'000'000;  // µs per second

StepSeries Make(std::vector<Point> points, int64_t stale_after_s) {
  Result<StepSeries> s = StepSeries::Create(std::move(points), stale_after_s * kS);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : StepSeries();
}

TEST(StepSeries, ValueHoldsUntilNextPointOrStale) {
  // 2 at 0 s, 0 at 100 s; stale after 60 s: 2 holds [0, 60), no data [60, 100), 0 from 100 s.
  StepSeries s = Make({{0, 2}, {100 * kS, 0}}, 60);
  EXPECT_EQ(s.ValueAt(-1), std::nullopt);  // before the first point
  EXPECT_EQ(s.ValueAt(0), 2.0);
  EXPECT_EQ(s.ValueAt(59 * kS), 2.0);
  EXPECT_EQ(s.ValueAt(60 * kS), std::nullopt);  // exactly stale
  EXPECT_EQ(s.ValueAt(100 * kS), 0.0);
  EXPECT_EQ(s.ValueAt(159 * kS), 0.0);
  EXPECT_EQ(s.ValueAt(160 * kS), std::nullopt);
}

TEST(StepSeries, TimeSpentWithoutGaps) {
  // Stale after 150 s. 2 holds [0, 100) (next point first), 0 holds [100, 200), 2 holds
  // [200, 350) clipped to the window end 300: 2 for 100 + 100 = 200 s, 0 for 100 s.
  StepSeries s = Make({{0, 2}, {100 * kS, 0}, {200 * kS, 2}}, 150);
  TimeByValue t = s.TimeSpent(0, 300 * kS);
  EXPECT_EQ(t.window_us, 300 * kS);
  EXPECT_EQ(t.Of(2), 200 * kS);
  EXPECT_EQ(t.Of(0), 100 * kS);
  EXPECT_EQ(t.Of(1), 0);
  EXPECT_EQ(t.no_data_us, 0);
  EXPECT_EQ(t.coverage(), 1.0);
}

TEST(StepSeries, TimeSpentCountsStaleTimeAsNoData) {
  // Same points, stale after 60 s: 2 [0, 60), gap [60, 100), 0 [100, 160), gap [160, 200),
  // 2 [200, 260), gap [260, 300). 2: 60 + 60 = 120 s, 0: 60 s, no data 40 + 40 + 40 = 120 s;
  // coverage 1 - 120/300 = 0.6.
  StepSeries s = Make({{0, 2}, {100 * kS, 0}, {200 * kS, 2}}, 60);
  TimeByValue t = s.TimeSpent(0, 300 * kS);
  EXPECT_EQ(t.Of(2), 120 * kS);
  EXPECT_EQ(t.Of(0), 60 * kS);
  EXPECT_EQ(t.no_data_us, 120 * kS);
  EXPECT_DOUBLE_EQ(*t.coverage(), 0.6);
}

TEST(StepSeries, WindowBeforeFirstPointHasNoData) {
  StepSeries s = Make({{100 * kS, 1}}, 60);
  TimeByValue t = s.TimeSpent(0, 130 * kS);  // no data [0, 100), 1 for [100, 130)
  EXPECT_EQ(t.no_data_us, 100 * kS);
  EXPECT_EQ(t.Of(1), 30 * kS);
  EXPECT_EQ(StepSeries().TimeSpent(0, 10 * kS).no_data_us, 10 * kS);
  EXPECT_EQ(StepSeries().TimeSpent(5, 5).coverage(), std::nullopt);  // empty window
}

TEST(StepSeries, SegmentsMergeEqualValues) {
  // 1 at 0 and again at 10 s (a heartbeat), 2 at 20 s, stale after 60 s, window [0, 100 s):
  // 1 over [0, 20), 2 over [20, 80), no data over [80, 100).
  StepSeries s = Make({{0, 1}, {10 * kS, 1}, {20 * kS, 2}}, 60);
  std::vector<Segment> seg = s.Segments(0, 100 * kS);
  ASSERT_EQ(seg.size(), 3u);
  EXPECT_EQ(seg[0].start_us, 0);
  EXPECT_EQ(seg[0].end_us, 20 * kS);
  EXPECT_EQ(seg[0].value, 1.0);
  EXPECT_EQ(seg[1].end_us, 80 * kS);
  EXPECT_EQ(seg[1].value, 2.0);
  EXPECT_EQ(seg[2].end_us, 100 * kS);
  EXPECT_EQ(seg[2].value, std::nullopt);
  // A window inside one hold is one segment.
  seg = s.Segments(30 * kS, 40 * kS);
  ASSERT_EQ(seg.size(), 1u);
  EXPECT_EQ(seg[0].value, 2.0);
  EXPECT_TRUE(s.Segments(40 * kS, 40 * kS).empty());
}

TEST(StepSeries, CreateSortsAndKeepsTheLastOfEqualTimestamps) {
  Result<StepSeries> s = StepSeries::Create({{20 * kS, 3}, {0, 1}, {20 * kS, 4}}, 60 * kS);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->points().size(), 2u);
  EXPECT_EQ(s->points()[0].value, 1.0);
  EXPECT_EQ(s->points()[1].value, 4.0);  // the later of the two at 20 s
}

TEST(StepSeries, CreateRejectsBadInput) {
  Result<StepSeries> nan =
      StepSeries::Create({{0, 1}, {kS, std::numeric_limits<double>::quiet_NaN()}}, kS);
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(nan.status().message(), HasSubstr("point 1"));
  Result<StepSeries> stale = StepSeries::Create({{0, 1}}, 0);
  ASSERT_FALSE(stale.ok());
  EXPECT_THAT(stale.status().message(), HasSubstr("stale_after"));
}

TEST(StepSeries, CounterIncreaseWithReset) {
  // good_count: 100 at 0 s, 110 at 60 s, 115 at 120 s, 3 at 180 s (reset: the counter restarted
  // and counted 3), 8 at 240 s.
  StepSeries c =
      Make({{0, 100}, {60 * kS, 110}, {120 * kS, 115}, {180 * kS, 3}, {240 * kS, 8}}, 90);
  // Window [60 s, 240 s): points at 60, 120, 180: +10, +5, +3 (reset) = 18.
  CounterIncrease w = c.Increase(60 * kS, 240 * kS);
  EXPECT_DOUBLE_EQ(w.increase, 18);
  EXPECT_EQ(w.resets, 1);
  EXPECT_EQ(w.points, 3);
  EXPECT_DOUBLE_EQ(w.counted_across_gap, 0);
  EXPECT_TRUE(w.has_data);
  // Whole series [0, 300 s): the first point is a baseline only: 10 + 5 + 3 + 5 = 23.
  CounterIncrease all = c.Increase(0, 300 * kS);
  EXPECT_DOUBLE_EQ(all.increase, 23);
  EXPECT_EQ(all.points, 5);
}

TEST(StepSeries, CounterIncreaseAcrossAGapCountsAndIsReported) {
  // Stale after 90 s; 0 at 0 s, 10 at 60 s, 250 at 600 s (540 s after the point before: a gap),
  // 260 at 660 s. [0, 700 s): 10 + 240 + 10 = 260, of which 240 across the gap.
  StepSeries c = Make({{0, 0}, {60 * kS, 10}, {600 * kS, 250}, {660 * kS, 260}}, 90);
  CounterIncrease w = c.Increase(0, 700 * kS);
  EXPECT_DOUBLE_EQ(w.increase, 260);
  EXPECT_DOUBLE_EQ(w.counted_across_gap, 240);
  EXPECT_EQ(w.resets, 0);
}

TEST(StepSeries, CounterWithoutPointsInTheWindow) {
  StepSeries c = Make({{0, 5}, {200 * kS, 9}}, 90);
  // [10 s, 50 s): no point inside, but the baseline (5 at 0 s) still holds: nothing was made.
  CounterIncrease fresh = c.Increase(10 * kS, 50 * kS);
  EXPECT_TRUE(fresh.has_data);
  EXPECT_DOUBLE_EQ(fresh.increase, 0);
  // [100 s, 150 s): the baseline is stale (after 90 s) and no point: unknown.
  CounterIncrease unknown = c.Increase(100 * kS, 150 * kS);
  EXPECT_FALSE(unknown.has_data);
  EXPECT_DOUBLE_EQ(unknown.increase, 0);
}

TEST(CheckWindow, BoundsAndOrder) {
  EXPECT_TRUE(CheckWindow(0, 0, "x").ok());
  Status backwards = CheckWindow(5, 4, "OEE");
  EXPECT_EQ(backwards.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(backwards.message(), HasSubstr("OEE: the window ends"));
  EXPECT_FALSE(CheckWindow(std::numeric_limits<int64_t>::min(), 0, "x").ok());
  EXPECT_FALSE(CheckWindow(0, kMaxAbsTsUs + 1, "x").ok());
  EXPECT_TRUE(CheckWindow(-kMaxAbsTsUs, kMaxAbsTsUs, "x").ok());
}

TEST(Overlay, CutsWhereAnySeriesChanges) {
  // state: 2 at 0, 0 at 30 s, 2 at 60 s; reason: 0 at 0, 1 at 30 s, 0 at 50 s (reset before the
  // state recovers); both stale after 100 s; window [0, 90 s).
  StepSeries state = Make({{0, 2}, {30 * kS, 0}, {60 * kS, 2}}, 100);
  StepSeries reason = Make({{0, 0}, {30 * kS, 1}, {50 * kS, 0}}, 100);
  const StepSeries* both[] = {&state, &reason, nullptr};
  std::vector<MultiSegment> m = Overlay(both, 0, 90 * kS);
  ASSERT_EQ(m.size(), 4u);
  // [0, 30): (2, 0); [30, 50): (0, 1); [50, 60): (0, 0); [60, 90): (2, 0); the null series is
  // always without data.
  EXPECT_EQ(m[0].end_us, 30 * kS);
  EXPECT_EQ(m[1].values[0], 0.0);
  EXPECT_EQ(m[1].values[1], 1.0);
  EXPECT_EQ(m[1].end_us, 50 * kS);
  EXPECT_EQ(m[2].values[1], 0.0);
  EXPECT_EQ(m[2].end_us, 60 * kS);
  EXPECT_EQ(m[3].values[0], 2.0);
  EXPECT_EQ(m[3].end_us, 90 * kS);
  for (const MultiSegment& s : m) EXPECT_EQ(s.values[2], std::nullopt);
}

}  // namespace
}  // namespace weft::kpi

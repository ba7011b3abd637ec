#include "kpi/oee.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "kpi/shifts.h"

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kS = 1'000'000;
constexpr int64_t kMin = 60 * kS;
constexpr int64_t kStale12h = 12 * 3600 * kS;  // for series given only at their changes
constexpr double kEps = 1e-9;

int64_t Ts(const std::string& iso) {
  Result<int64_t> t = ParseTimestampMicros(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.value_or(0);
}

// A series from (UTC time of 2026-03-24 "hh:mm", value) pairs.
StepSeries Series(std::vector<std::pair<std::string, double>> at, int64_t stale_after_us) {
  std::vector<Point> points;
  for (const auto& [hhmm, v] : at) points.push_back({Ts("2026-03-24T" + hhmm + ":00Z"), v});
  Result<StepSeries> s = StepSeries::Create(std::move(points), stale_after_us);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : StepSeries();
}

// The day of the Lyon example (Tuesday 2026-03-24, CET): early 06-14 local = 05:00Z-13:00Z,
// late 14-22 local = 13:00Z-21:00Z. All times below are UTC.
//   state:       05:00 running, 07:00 down (jam) to 07:30, 08:00 planned stop to 08:30,
//                12:30 down (electrical) to 13:30 — across the shift boundary — then running.
//   good_count:  1000 at 04:00, 1400 at 09:00, 1686 at 12:30, 1986 at 16:00, 2526 at 20:00.
//   reject:      50 at 04:00, 60 at 10:00, 64 at 12:00, 74 at 18:00.
struct LyonDay {
  StepSeries state = Series({{"05:00", 2},
                             {"07:00", 0},
                             {"07:30", 2},
                             {"08:00", 0},
                             {"08:30", 2},
                             {"12:30", 0},
                             {"13:30", 2},
                             {"21:00", 1}},
                            kStale12h);
  StepSeries reason = Series({{"05:00", 0},
                              {"07:00", 1},
                              {"07:30", 0},
                              {"08:00", 4},
                              {"08:30", 0},
                              {"12:30", 2},
                              {"13:30", 0}},
                             kStale12h);
  StepSeries good =
      Series({{"04:00", 1000}, {"09:00", 1400}, {"12:30", 1686}, {"16:00", 1986}, {"20:00", 2526}},
             kStale12h);
  StepSeries reject =
      Series({{"04:00", 50}, {"10:00", 60}, {"12:00", 64}, {"18:00", 74}}, kStale12h);
  OeeInputs inputs() const { return OeeInputs{&state, &reason, &good, &reject, 30}; }
};

TEST(Oee, ShiftBoundarySplitsADowntime) {
  LyonDay day;
  // Early [05:00, 13:00): shift 28800 s; planned stop 08:00-08:30 = 1800 s; planned 27000 s.
  // Down: jam 07:00-07:30 = 1800 s, electrical 12:30-13:00 = 1800 s (the first half of the
  // 12:30-13:30 breakdown); run 27000 - 3600 = 23400 s.
  // Counts of the points in the window: good +400 (09:00) +286 (12:30) = 686; reject +10
  // (10:00) +4 (12:00) = 14; total 700; ideal × total = 30 × 700 = 21000 s.
  Result<OeeResult> early =
      ComputeOee(day.inputs(), Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  const OeeResult& e = *early;
  EXPECT_DOUBLE_EQ(e.shift_s, 28800);
  EXPECT_DOUBLE_EQ(e.planned_stop_s, 1800);
  EXPECT_DOUBLE_EQ(e.idle_s, 0);
  EXPECT_DOUBLE_EQ(e.no_data_s, 0);
  EXPECT_DOUBLE_EQ(e.planned_s, 27000);
  EXPECT_DOUBLE_EQ(e.run_s, 23400);
  EXPECT_DOUBLE_EQ(e.down_s, 3600);
  EXPECT_DOUBLE_EQ(e.loss_jam_s, 1800);
  EXPECT_DOUBLE_EQ(e.loss_electrical_s, 1800);
  EXPECT_DOUBLE_EQ(e.loss_material_s, 0);
  EXPECT_DOUBLE_EQ(e.loss_other_down_s, 0);
  EXPECT_DOUBLE_EQ(e.good, 686);
  EXPECT_DOUBLE_EQ(e.reject, 14);
  EXPECT_DOUBLE_EQ(e.total, 700);
  // availability 23400/27000 = 0.8667, performance 21000/23400 = 0.8974, quality 686/700 = 0.98,
  // OEE 30 × 686 / 27000 = 20580/27000 = 0.7622 (= 0.8667 × 0.8974 × 0.98).
  EXPECT_NEAR(*e.availability, 23400.0 / 27000, kEps);
  EXPECT_NEAR(*e.performance, 21000.0 / 23400, kEps);
  EXPECT_NEAR(*e.quality, 0.98, kEps);
  EXPECT_NEAR(*e.oee, 20580.0 / 27000, kEps);
  EXPECT_NEAR(*e.oee, *e.availability * *e.performance * *e.quality, kEps);
  // Losses: performance 23400 - 21000 = 2400 s, quality 30 × 14 = 420 s; and
  // planned = down + performance + quality losses + ideal × good: 3600 + 2400 + 420 + 20580.
  EXPECT_DOUBLE_EQ(e.loss_performance_s, 2400);
  EXPECT_DOUBLE_EQ(e.loss_quality_s, 420);
  EXPECT_NEAR(e.down_s + e.loss_performance_s + e.loss_quality_s + 30 * e.good, e.planned_s, kEps);
  EXPECT_EQ(e.coverage, 1.0);

  // Late [13:00, 21:00): electrical 13:00-13:30 = 1800 s (the second half); run 27000 s;
  // planned 28800 s. good +300 (16:00) +540 (20:00) = 840; reject +10 (18:00); total 850.
  // availability 27000/28800 = 0.9375, performance 30 × 850/27000 = 0.9444, quality
  // 840/850, OEE 30 × 840/28800 = 0.875.
  Result<OeeResult> late =
      ComputeOee(day.inputs(), Ts("2026-03-24T13:00:00Z"), Ts("2026-03-24T21:00:00Z"));
  ASSERT_TRUE(late.ok());
  EXPECT_DOUBLE_EQ(late->loss_electrical_s, 1800);
  EXPECT_DOUBLE_EQ(late->run_s, 27000);
  EXPECT_DOUBLE_EQ(late->planned_s, 28800);
  EXPECT_DOUBLE_EQ(late->good, 840);
  EXPECT_DOUBLE_EQ(late->reject, 10);
  EXPECT_NEAR(*late->availability, 0.9375, kEps);
  EXPECT_NEAR(*late->performance, 25500.0 / 27000, kEps);
  EXPECT_NEAR(*late->quality, 840.0 / 850, kEps);
  EXPECT_NEAR(*late->oee, 0.875, kEps);

  // The two shifts combined equal the day computed at once: 1800 s planned stop, 3600 + 1800
  // down, run 50400 s, planned 55800 s; OEE 30 × (686 + 840) / 55800 = 45780/55800.
  const OeeResult both[] = {e, *late};
  OeeResult sum = CombineOee(both);
  Result<OeeResult> whole =
      ComputeOee(day.inputs(), Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T21:00:00Z"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(sum.start_us, whole->start_us);
  EXPECT_EQ(sum.end_us, whole->end_us);
  EXPECT_DOUBLE_EQ(sum.planned_s, 55800);
  EXPECT_DOUBLE_EQ(whole->planned_s, 55800);
  EXPECT_DOUBLE_EQ(sum.loss_electrical_s, whole->loss_electrical_s);
  EXPECT_NEAR(*sum.oee, 45780.0 / 55800, kEps);
  EXPECT_NEAR(*whole->oee, 45780.0 / 55800, kEps);
  EXPECT_NEAR(*sum.performance, *whole->performance, kEps);
  EXPECT_NEAR(*sum.availability, *whole->availability, kEps);
  EXPECT_NEAR(*sum.quality, *whole->quality, kEps);
}

TEST(Oee, NightShiftAcrossMidnightWithIdleAndMaterialShortage) {
  // Brno night of Tuesday 2026-03-24: 22:00 CET = 21:00Z to Wednesday 06:00 CET = 05:00Z.
  ShiftCalendar cal("brno",
                    {model::Shift{"night", 22 * 60, 6 * 60, {true, true, true, true, true}, {}}},
                    TimeZone::FromPosixRule("CET-1CEST,M3.5.0,M10.5.0/3").value());
  Result<std::vector<ShiftInstance>> nights =
      cal.Starting(Ts("2026-03-24T12:00:00Z"), Ts("2026-03-25T12:00:00Z"));
  ASSERT_TRUE(nights.ok());
  ASSERT_EQ(nights->size(), 1u);
  const ShiftInstance& night = (*nights)[0];
  ASSERT_EQ(night.start_us, Ts("2026-03-24T21:00:00Z"));
  ASSERT_EQ(night.end_us, Ts("2026-03-25T05:00:00Z"));
  // Running from 21:00Z; material shortage 23:30Z-00:30Z (across midnight); idle (production
  // not requested) 01:00Z-02:00Z. Shift 28800 s, idle 3600 s, planned 25200 s, down 3600 s,
  // run 21600 s. 700 good parts, no rejects: ideal × total = 21000 s.
  auto at = [](const char* iso) { return Ts(iso); };
  StepSeries state = StepSeries::Create({{at("2026-03-24T21:00:00Z"), 2},
                                         {at("2026-03-24T23:30:00Z"), 0},
                                         {at("2026-03-25T00:30:00Z"), 2},
                                         {at("2026-03-25T01:00:00Z"), 1},
                                         {at("2026-03-25T02:00:00Z"), 2}},
                                        kStale12h)
                         .value();
  StepSeries reason = StepSeries::Create({{at("2026-03-24T21:00:00Z"), 0},
                                          {at("2026-03-24T23:30:00Z"), 3},
                                          {at("2026-03-25T00:30:00Z"), 0}},
                                         kStale12h)
                          .value();
  StepSeries good = StepSeries::Create({{at("2026-03-24T20:00:00Z"), 0},
                                        {at("2026-03-25T00:00:00Z"), 300},
                                        {at("2026-03-25T04:59:00Z"), 700}},
                                       kStale12h)
                        .value();
  StepSeries reject = StepSeries::Create({{at("2026-03-24T20:00:00Z"), 0}}, kStale12h).value();
  Result<OeeResult> r =
      ComputeOee(OeeInputs{&state, &reason, &good, &reject, 30}, night.start_us, night.end_us);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->shift_s, 28800);
  EXPECT_DOUBLE_EQ(r->idle_s, 3600);
  EXPECT_DOUBLE_EQ(r->planned_s, 25200);
  EXPECT_DOUBLE_EQ(r->loss_material_s, 3600);
  EXPECT_DOUBLE_EQ(r->run_s, 21600);
  EXPECT_DOUBLE_EQ(r->good, 700);
  // availability 21600/25200 = 0.857, performance 21000/21600 = 0.972, quality 1,
  // OEE 21000/25200 = 0.833.
  EXPECT_NEAR(*r->availability, 21600.0 / 25200, kEps);
  EXPECT_NEAR(*r->performance, 21000.0 / 21600, kEps);
  EXPECT_EQ(r->quality, 1.0);
  EXPECT_NEAR(*r->oee, 21000.0 / 25200, kEps);
}

TEST(Oee, DaylightSavingNightIsSevenHours) {
  // Saturday 2026-03-28 22:00 CET = 21:00Z to Sunday 06:00 CEST = 04:00Z: 7 h = 25200 s, not 8.
  ShiftCalendar cal(
      "brno",
      {model::Shift{"night", 22 * 60, 6 * 60, {true, true, true, true, true, true, true}, {}}},
      TimeZone::FromPosixRule("CET-1CEST,M3.5.0,M10.5.0/3").value());
  Result<std::vector<ShiftInstance>> nights =
      cal.Starting(Ts("2026-03-28T12:00:00Z"), Ts("2026-03-29T12:00:00Z"));
  ASSERT_TRUE(nights.ok());
  ASSERT_EQ(nights->size(), 1u);
  const ShiftInstance& night = (*nights)[0];
  // Running all night, 800 parts made: planned 25200 s, performance 30 × 800/25200.
  StepSeries state = StepSeries::Create({{night.start_us - kMin, 2}}, kStale12h).value();
  StepSeries good =
      StepSeries::Create({{night.start_us - kMin, 0}, {night.end_us - kMin, 800}}, kStale12h)
          .value();
  StepSeries reject = StepSeries::Create({{night.start_us - kMin, 0}}, kStale12h).value();
  Result<OeeResult> r =
      ComputeOee(OeeInputs{&state, nullptr, &good, &reject, 30}, night.start_us, night.end_us);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->shift_s, 25200);
  EXPECT_DOUBLE_EQ(r->planned_s, 25200);
  EXPECT_EQ(r->availability, 1.0);
  EXPECT_NEAR(*r->performance, 24000.0 / 25200, kEps);
  EXPECT_NEAR(*r->oee, 24000.0 / 25200, kEps);
}

TEST(Oee, NoDataGapInsideAShiftIsExcludedAndReported) {
  // Early shift 05:00Z-13:00Z. The edge sends state and good_count every minute from 04:59Z
  // to 12:59Z, except from 08:00Z to 08:29Z (a network outage); stale after 120 s. The machine
  // kept running and counting: 2 parts a minute (the ideal 30 s cycle).
  // State: the 07:59 point holds until 08:01 (stale), no data 08:01-08:30 = 29 min = 1740 s.
  // planned = 28800 - 1740 = 27060 s = run. good: points 05:00 .. 12:59 (less the gap) add up
  // to good(12:59) - good(04:59) = 2 × 480 = 960; the 08:30 point adds 2 × 31 = 62 parts made
  // partly in the gap, reported as counted across it. So performance 30 × 960/27060 = 1.064:
  // above 1 because the gap's parts are counted and its time is not.
  std::vector<Point> state_pts, good_pts;
  const int64_t t0 = Ts("2026-03-24T04:59:00Z");
  for (int m = 0; m <= 480; ++m) {
    if (m >= 181 && m <= 210) continue;  // 08:00 .. 08:29
    state_pts.push_back({t0 + m * kMin, 2});
    good_pts.push_back({t0 + m * kMin, 2.0 * m});
  }
  StepSeries state = StepSeries::Create(state_pts, 120 * kS).value();
  StepSeries good = StepSeries::Create(good_pts, 120 * kS).value();
  StepSeries reject = StepSeries::Create({{t0, 0}}, 120 * kS).value();
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, nullptr, &good, &reject, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->no_data_s, 1740);
  EXPECT_DOUBLE_EQ(r->planned_s, 27060);
  EXPECT_DOUBLE_EQ(r->run_s, 27060);
  EXPECT_NEAR(*r->coverage, 1 - 1740.0 / 28800, kEps);  // 0.9396
  EXPECT_DOUBLE_EQ(r->good, 960);
  EXPECT_DOUBLE_EQ(r->counted_across_gap, 62);
  EXPECT_EQ(r->availability, 1.0);
  EXPECT_NEAR(*r->performance, 28800.0 / 27060, kEps);
}

TEST(Oee, CounterResetMidShift) {
  // good_count: 5000 at 04:00Z (baseline), 5400 at 09:00Z, 10 at 09:05Z (the PLC restarted its
  // counter and has counted 10 since), 300 at 12:00Z: 400 + 10 + 290 = 700 good, one reset.
  StepSeries state = Series({{"04:00", 2}}, kStale12h);
  StepSeries good =
      Series({{"04:00", 5000}, {"09:00", 5400}, {"09:05", 10}, {"12:00", 300}}, kStale12h);
  StepSeries reject = Series({{"04:00", 0}}, kStale12h);
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, nullptr, &good, &reject, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->good, 700);
  EXPECT_EQ(r->counter_resets, 1);
  EXPECT_NEAR(*r->performance, 30.0 * 700 / 28800, kEps);
}

TEST(Oee, ZeroRunShiftHasUndefinedPerformance) {
  // Down (electrical) for the whole shift, nothing made: planned 28800 s, run 0.
  // availability 0/28800 = 0; performance: 0 run → undefined; quality: 0 parts → undefined;
  // OEE = 30 × 0 / 28800 = 0 (a shift that was planned and never ran).
  StepSeries state = Series({{"04:00", 0}}, kStale12h);
  StepSeries reason = Series({{"04:00", 2}}, kStale12h);
  StepSeries good = Series({{"04:00", 10}}, kStale12h);
  StepSeries reject = Series({{"04:00", 0}}, kStale12h);
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, &reason, &good, &reject, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->loss_electrical_s, 28800);
  EXPECT_EQ(r->availability, 0.0);
  EXPECT_EQ(r->performance, std::nullopt);
  EXPECT_EQ(r->quality, std::nullopt);
  EXPECT_EQ(r->oee, 0.0);
}

TEST(Oee, PlannedStopAndIdleAreNotPlannedTime) {
  // Shift 05:00-13:00Z: planned stop (down, reason 4) 05:00-07:00, idle 07:00-09:00, running
  // 09:00-13:00. planned = 28800 - 7200 - 7200 = 14400 s = run: availability 1.
  // 450 parts, 30 of them rejected: performance 30 × 450/14400 = 0.9375, quality 420/450,
  // OEE 30 × 420/14400 = 0.875.
  StepSeries state = Series({{"05:00", 0}, {"07:00", 1}, {"09:00", 2}}, kStale12h);
  StepSeries reason = Series({{"05:00", 4}, {"07:00", 0}}, kStale12h);
  StepSeries good = Series({{"04:00", 0}, {"12:59", 420}}, kStale12h);
  StepSeries reject = Series({{"04:00", 0}, {"12:59", 30}}, kStale12h);
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, &reason, &good, &reject, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->planned_stop_s, 7200);
  EXPECT_DOUBLE_EQ(r->idle_s, 7200);
  EXPECT_DOUBLE_EQ(r->planned_s, 14400);
  EXPECT_EQ(r->availability, 1.0);
  EXPECT_NEAR(*r->performance, 0.9375, kEps);
  EXPECT_NEAR(*r->quality, 420.0 / 450, kEps);
  EXPECT_NEAR(*r->oee, 0.875, kEps);
  EXPECT_NEAR(r->loss_quality_s, 900, kEps);  // 30 × 30
}

TEST(Oee, IdleShiftIsUndefinedNotZero) {
  // Production not requested all shift: planned time 0, every ratio undefined.
  StepSeries state = Series({{"04:00", 1}}, kStale12h);
  StepSeries counter = Series({{"04:00", 0}}, kStale12h);
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, nullptr, &counter, &counter, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->planned_s, 0);
  EXPECT_EQ(r->availability, std::nullopt);
  EXPECT_EQ(r->oee, std::nullopt);
  EXPECT_EQ(r->coverage, 1.0);
}

TEST(Oee, UnknownStatesAndReasons) {
  // state 7 (not a conveyor state) 05:00-06:00 counts as no data; down with reason 0 (none
  // given) 06:00-07:00 is an unplanned "other" loss; running after.
  StepSeries state = Series({{"05:00", 7}, {"06:00", 0}, {"07:00", 2}}, kStale12h);
  StepSeries reason = Series({{"05:00", 0}}, kStale12h);
  StepSeries counter = Series({{"04:00", 0}}, kStale12h);
  Result<OeeResult> r = ComputeOee(OeeInputs{&state, &reason, &counter, &counter, 30},
                                   Ts("2026-03-24T05:00:00Z"), Ts("2026-03-24T13:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->no_data_s, 3600);
  EXPECT_DOUBLE_EQ(r->loss_other_down_s, 3600);
  EXPECT_DOUBLE_EQ(r->run_s, 21600);
  EXPECT_DOUBLE_EQ(r->planned_s, 25200);
}

TEST(Oee, BadInputsAreErrors) {
  StepSeries s = Series({{"04:00", 2}}, kStale12h);
  EXPECT_EQ(ComputeOee(OeeInputs{nullptr, nullptr, &s, &s, 30}, 0, 1).status().code(),
            StatusCode::kInvalidArgument);
  Result<OeeResult> zero = ComputeOee(OeeInputs{&s, nullptr, &s, &s, 0}, 0, 1);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("ideal cycle time"));
  EXPECT_FALSE(ComputeOee(OeeInputs{&s, nullptr, &s, &s, 30}, 10, 5).ok());
  // An empty window is fine and undefined.
  Result<OeeResult> empty = ComputeOee(OeeInputs{&s, nullptr, &s, &s, 30}, 5, 5);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->oee, std::nullopt);
  EXPECT_EQ(empty->coverage, std::nullopt);
  EXPECT_EQ(CombineOee({}).oee, std::nullopt);
}

}  // namespace
}  // namespace weft::kpi

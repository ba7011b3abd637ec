#include "kpi/reliability.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kS = 1'000'000;
constexpr int64_t kMin = 60 * kS;
constexpr int64_t kH = 60 * kMin;
constexpr int64_t kStale12h = 12 * kH;

int64_t Ts(const std::string& hhmm) {
  Result<int64_t> t = ParseTimestampMicros("2026-03-24T" + hhmm + ":00Z");
  EXPECT_TRUE(t.ok()) << hhmm;
  return t.value_or(0);
}

StepSeries Series(std::vector<std::pair<std::string, double>> at, int64_t stale_after_us) {
  std::vector<Point> points;
  for (const auto& [hhmm, v] : at) points.push_back({Ts(hhmm), v});
  Result<StepSeries> s = StepSeries::Create(std::move(points), stale_after_us);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : StepSeries();
}

// The conveyor day of oee_test.cc: running from 05:00, jam 07:00-07:30, planned stop
// 08:00-08:30, electrical breakdown 12:30-13:30, idle from 21:00. Early shift 05:00-13:00,
// late 13:00-21:00 (UTC).
struct ConveyorDay {
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
};

TEST(Reliability, DowntimeSplitByAShiftBoundaryIsOneFailure) {
  ConveyorDay day;
  ReliabilityInputs in = ConveyorReliability(&day.state, &day.reason);
  // Early: the jam (07:00-07:30) starts and ends in it: a failure and a repair of 1800 s. The
  // electrical breakdown starts at 12:30 and is still on at 13:00: a failure, not repaired yet.
  // down 1800 + 1800 = 3600 s; planned stop 1800 s is stopped, not down; run 23400 s.
  // MTBF = 23400 / 2 = 11700 s; MTTR = 1800 / 1 = 1800 s.
  Result<ReliabilityResult> early = ComputeReliability(in, Ts("05:00"), Ts("13:00"));
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_DOUBLE_EQ(early->down_s, 3600);
  EXPECT_DOUBLE_EQ(early->stopped_s, 1800);
  EXPECT_DOUBLE_EQ(early->run_s, 23400);
  EXPECT_EQ(early->failures, 2);
  EXPECT_EQ(early->repairs, 1);
  EXPECT_DOUBLE_EQ(*early->mtbf_s, 11700);
  EXPECT_DOUBLE_EQ(*early->mttr_s, 1800);
  ASSERT_EQ(early->episodes.size(), 2u);
  EXPECT_TRUE(early->episodes[1].open_at_end);
  EXPECT_EQ(early->episodes[1].start_us, Ts("12:30"));
  EXPECT_EQ(early->episodes[1].end_us, Ts("13:00"));

  // Late: the breakdown's second half, 1800 s of downtime, began before: no failure, so MTBF
  // and MTTR are undefined.
  Result<ReliabilityResult> late = ComputeReliability(in, Ts("13:00"), Ts("21:00"));
  ASSERT_TRUE(late.ok());
  EXPECT_DOUBLE_EQ(late->down_s, 1800);
  EXPECT_DOUBLE_EQ(late->run_s, 27000);
  EXPECT_EQ(late->failures, 0);
  EXPECT_EQ(late->mtbf_s, std::nullopt);
  EXPECT_EQ(late->mttr_s, std::nullopt);
  ASSERT_EQ(late->episodes.size(), 1u);
  EXPECT_TRUE(late->episodes[0].started_before);
  EXPECT_EQ(late->episodes[0].end_us, Ts("13:30"));

  // The whole day: two failures, both repaired: MTTR (1800 + 3600)/2 = 2700 s; run 50400 s,
  // MTBF 50400/2 = 25200 s.
  Result<ReliabilityResult> whole = ComputeReliability(in, Ts("05:00"), Ts("21:00"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->failures, 2);
  EXPECT_EQ(whole->repairs, 2);
  EXPECT_DOUBLE_EQ(whole->down_s, 5400);
  EXPECT_DOUBLE_EQ(*whole->mttr_s, 2700);
  EXPECT_DOUBLE_EQ(*whole->mtbf_s, 25200);
  EXPECT_EQ(whole->coverage, 1.0);
}

TEST(Reliability, LookBackDecidesWhetherAWindowStartsWithAFailure) {
  ConveyorDay day;
  ReliabilityInputs in = ConveyorReliability(&day.state, &day.reason);
  // [07:00, 08:00): the jam starts exactly at the window start; the look-back sees the line
  // running before it, so it is this window's failure (repaired at 07:30).
  Result<ReliabilityResult> r = ComputeReliability(in, Ts("07:00"), Ts("08:00"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failures, 1);
  EXPECT_DOUBLE_EQ(*r->mttr_s, 1800);
  // Without a look-back the onset cannot be known: started before, not counted.
  in.lookback_us = 0;
  r = ComputeReliability(in, Ts("07:00"), Ts("08:00"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failures, 0);
  EXPECT_DOUBLE_EQ(r->down_s, 1800);
  ASSERT_EQ(r->episodes.size(), 1u);
  EXPECT_TRUE(r->episodes[0].started_before);
}

TEST(Reliability, NoDataGapDoesNotEndADowntime) {
  // Stale after 10 min. Running (points every 5 min) 08:00-09:00; down (jam) from 09:00 with
  // one point, so known down 09:00-09:10; no data 09:10-09:40; down again 09:40 (held to
  // 09:50); no data 09:50-10:00; running from 10:00 (held to 10:15).
  std::vector<std::pair<std::string, double>> state, reason;
  for (int m = 0; m < 60; m += 5) {
    std::string hhmm = "08:" + std::string(m < 10 ? "0" : "") + std::to_string(m);
    state.push_back({hhmm, 2});
    reason.push_back({hhmm, 0});
  }
  for (const char* hhmm : {"09:00", "09:40"}) {
    state.push_back({hhmm, 0});
    reason.push_back({hhmm, 1});
  }
  for (const char* hhmm : {"10:00", "10:05"}) {
    state.push_back({hhmm, 2});
    reason.push_back({hhmm, 0});
  }
  StepSeries s = Series(state, 10 * kMin);
  StepSeries r = Series(reason, 10 * kMin);
  // [08:00, 10:15): one failure, 09:00 to the end of its last down moment 09:50 = 3000 s (the
  // gap inside counts to the repair time, not to downtime); down 10 + 10 min = 1200 s; no
  // data 30 + 10 min = 2400 s; run 60 + 15 min = 4500 s. MTBF 4500 s, MTTR 3000 s, coverage
  // 1 - 2400/8100.
  Result<ReliabilityResult> rel =
      ComputeReliability(ConveyorReliability(&s, &r), Ts("08:00"), Ts("10:15"));
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->failures, 1);
  EXPECT_EQ(rel->repairs, 1);
  EXPECT_DOUBLE_EQ(rel->down_s, 1200);
  EXPECT_DOUBLE_EQ(rel->no_data_s, 2400);
  EXPECT_DOUBLE_EQ(rel->run_s, 4500);
  EXPECT_DOUBLE_EQ(*rel->mttr_s, 3000);
  EXPECT_DOUBLE_EQ(*rel->mtbf_s, 4500);
  EXPECT_NEAR(*rel->coverage, 1 - 2400.0 / 8100, 1e-12);
}

TEST(Reliability, CompressorFaultState) {
  // state: off 00:00, idle 01:00, loaded 02:00, fault 05:00, off 06:00, loaded 07:00, fault
  // 10:00, loaded 10:30; window [00:00, 12:00).
  // running (idle or loaded) 01-05 + 07-10 + 10:30-12 = 4 + 3 + 1.5 h = 30600 s;
  // down 1 h + 0.5 h = 5400 s; stopped (off) 00-01 + 06-07 = 7200 s.
  // Two failures, both repaired: MTTR 5400/2 = 2700 s, MTBF 30600/2 = 15300 s.
  StepSeries state = Series({{"00:00", 0},
                             {"01:00", 1},
                             {"02:00", 2},
                             {"05:00", 3},
                             {"06:00", 0},
                             {"07:00", 2},
                             {"10:00", 3},
                             {"10:30", 2}},
                            kStale12h);
  Result<ReliabilityResult> r =
      ComputeReliability(CompressorReliability(&state), Ts("00:00"), Ts("12:00"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->run_s, 30600);
  EXPECT_DOUBLE_EQ(r->down_s, 5400);
  EXPECT_DOUBLE_EQ(r->stopped_s, 7200);
  EXPECT_EQ(r->failures, 2);
  EXPECT_DOUBLE_EQ(*r->mttr_s, 2700);
  EXPECT_DOUBLE_EQ(*r->mtbf_s, 15300);
}

TEST(Reliability, RunningFlagShowsNoFailures) {
  // A motor stopped 10:00-11:00: stopped, not down (its signals cannot tell a failure).
  StepSeries running = Series({{"08:00", 1}, {"10:00", 0}, {"11:00", 1}}, kStale12h);
  Result<ReliabilityResult> r =
      ComputeReliability(RunningFlagReliability(&running), Ts("08:00"), Ts("12:00"));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->run_s, 3 * 3600);
  EXPECT_DOUBLE_EQ(r->stopped_s, 3600);
  EXPECT_EQ(r->failures, 0);
  EXPECT_EQ(r->mtbf_s, std::nullopt);
}

TEST(Reliability, FromWorkOrderEpisodes) {
  // Day [00:00, 24:00): work orders 22:00 the day before to 01:00 (began before), 10:00-12:00
  // and 11:00-13:00 (overlap: one breakdown, 10:00-13:00), 20:00-21:00, 23:00 to 02:00 the next
  // day (open at the end). Failures: 10-13, 20-21, 23- = 3; repairs 2, repaired 3 + 1 = 4 h,
  // MTTR 2 h = 7200 s. Down 1 + 3 + 1 + 1 = 6 h = 21600 s. Operating 18 h: MTBF 64800/3.
  const int64_t day = Ts("00:00");
  const DownEpisode orders[] = {{day - 2 * kH, day + 1 * kH, false, false},
                                {day + 10 * kH, day + 12 * kH, false, false},
                                {day + 11 * kH, day + 13 * kH, false, false},
                                {day + 20 * kH, day + 21 * kH, false, false},
                                {day + 23 * kH, day + 26 * kH, false, false}};
  Result<ReliabilityResult> r = ReliabilityFromEpisodes(orders, 64800, day, day + 24 * kH);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->failures, 3);
  EXPECT_EQ(r->repairs, 2);
  EXPECT_DOUBLE_EQ(r->down_s, 21600);
  EXPECT_DOUBLE_EQ(*r->mttr_s, 7200);
  EXPECT_DOUBLE_EQ(*r->mtbf_s, 21600);
  ASSERT_EQ(r->episodes.size(), 4u);
  EXPECT_TRUE(r->episodes[0].started_before);
  EXPECT_TRUE(r->episodes[3].open_at_end);
  EXPECT_EQ(r->coverage, std::nullopt);
}

TEST(Reliability, BadInputsAreErrors) {
  StepSeries s = Series({{"08:00", 1}}, kStale12h);
  ReliabilityInputs none;
  none.series = {&s};
  Result<ReliabilityResult> r = ComputeReliability(none, 0, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("classifier"));
  ReliabilityInputs in = RunningFlagReliability(&s);
  in.lookback_us = -1;
  EXPECT_EQ(ComputeReliability(in, 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ComputeReliability(RunningFlagReliability(&s), 5, 1).ok());
  const DownEpisode backwards[] = {{10, 5, false, false}};
  Result<ReliabilityResult> e = ReliabilityFromEpisodes(backwards, 0, 0, 100);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("interval 0"));
  EXPECT_FALSE(ReliabilityFromEpisodes({}, -1, 0, 100).ok());
}

}  // namespace
}  // namespace weft::kpi

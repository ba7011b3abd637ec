#include "core/kpi/lake_inputs.h"

#include <gtest/gtest.h>

#include "core/kpi/kpi_test_util.h"
#include "testing/test_env.h"

namespace weft::core::kpi {
namespace {

using namespace ::weft::core::kpi::testing;  // NOLINT(google-build-using-namespace)
namespace calc = ::weft::kpi;

class LakeInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/lake";
    plant_ = TestPlant();
  }
  std::unique_ptr<lake::LakeTable> Telemetry() {
    auto t = OpenTable(root_, LakeTableId::kTelemetry, &clock_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : nullptr;
  }
  ManualClock clock_{TimeFromUnixMicros(kMonday)};
  std::optional<weft::testing::TempDir> dir_;
  std::string root_;
  model::Plant plant_;
};

TEST_F(LakeInputsTest, KeptPointsGiveTheSameKpisAsEverySample) {
  // A state re-sent every 10 s (stale after 30 s) over two days, with changes, a 5-minute gap
  // and a reset counter; written out of order within each day.
  std::vector<Sample> s;
  std::vector<calc::Point> all;
  double count = 0;
  for (int64_t t = kMonday - kHour; t < kMonday + kDay + kHour; t += 10 * kSec) {
    if (t >= kMonday + 3 * kHour && t < kMonday + 3 * kHour + 5 * kMin) continue;  // gap
    const double state = (t / kMin) % 17 < 12 ? 2 : 0;
    if (state == 2) count += 1;
    if (t == kMonday + 10 * kHour) count = 3;  // reset
    s.push_back({t, "cv1", "state", state});
    s.push_back({t, "cv1", "good_count", count});
    all.push_back({t, state});
  }
  std::reverse(s.begin(), s.end());
  WriteTelemetry(root_, plant_, s, &clock_);
  SeriesReadStats stats;
  Result<SeriesSet> set = ReadSeries(
      *Telemetry(), {{"cv1", "state", "", 30 * kSec}, {"cv1", "good_count", "", 30 * kSec}},
      kMonday - kHour, kMonday + kDay + kHour, &stats);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const calc::StepSeries* state = set->Find("cv1", "state");
  ASSERT_NE(state, nullptr);
  EXPECT_LT(state->points().size(), all.size() / 2);  // repeats within 30 s are not kept
  auto full = calc::StepSeries::Create(all, 30 * kSec);
  ASSERT_TRUE(full.ok());
  for (auto [a, b] : {std::pair{kMonday, kMonday + kDay},
                      std::pair{kMonday + 2 * kHour + 7 * kSec, kMonday + 4 * kHour}}) {
    const calc::TimeByValue x = state->TimeSpent(a, b), y = full->TimeSpent(a, b);
    EXPECT_EQ(x.by_value_us, y.by_value_us);
    EXPECT_EQ(x.no_data_us, y.no_data_us);
  }
  // Counter: the same increase, resets and gap flags as every sample would give.
  std::vector<calc::Point> counts;
  for (const Sample& x : s) {
    if (x.signal == "good_count") counts.push_back({x.ts, x.value});
  }
  auto full_count = calc::StepSeries::Create(counts, 30 * kSec);
  ASSERT_TRUE(full_count.ok());
  const calc::CounterIncrease a = set->Find("cv1", "good_count")->Increase(kMonday, kMonday + kDay);
  const calc::CounterIncrease b = full_count->Increase(kMonday, kMonday + kDay);
  EXPECT_EQ(a.increase, b.increase);
  EXPECT_EQ(a.resets, b.resets);
  EXPECT_EQ(a.counted_across_gap, b.counted_across_gap);
  EXPECT_EQ(stats.scans, 3u);  // one per UTC day touched
  EXPECT_EQ(stats.rows_used, s.size());
}

TEST_F(LakeInputsTest, UnitsAreConvertedAndUntrustedSamplesDropped) {
  WriteTelemetry(root_, plant_,
                 {{kMonday, "cv2", "energy", 36, "MJ"},  // 10 kWh
                  {kMonday + kMin, "cv2", "energy", 20, "kWh"},
                  {kMonday + 2 * kMin, "cv2", "energy", 5, "degC"},  // not an energy: dropped
                  {kMonday + 3 * kMin, "cv2", "energy", 25, ""},     // no unit: dropped
                  {kMonday + 4 * kMin, "cv2", "energy", 99, "kWh", 1 << 4},  // comm loss
                  {kMonday + 5 * kMin, "cv2", "energy", 30, "kWh", 1 << 2},  // stuck: kept
                  {kMonday + 6 * kMin, "cv2", "other", 1, "kWh"}},           // not requested
                 &clock_);
  SeriesReadStats stats;
  Result<SeriesSet> set = ReadSeries(*Telemetry(), {{"cv2", "energy", "kWh", 150 * kSec}}, kMonday,
                                     kMonday + kHour, &stats);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const calc::StepSeries* e = set->Find("cv2", "energy");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->points().size(), 3u);
  EXPECT_NEAR(e->points()[0].value, 10, 1e-12);
  EXPECT_EQ(e->points()[1].value, 20);
  EXPECT_EQ(e->points()[2].value, 30);
  EXPECT_EQ(stats.rows_unconvertible, 2u);
  EXPECT_EQ(stats.rows_bad_quality, 1u);
  ASSERT_EQ(set->warnings().size(), 2u);
  EXPECT_NE(set->warnings()[0].find("cannot be converted to 'kWh'"), std::string::npos);
  EXPECT_EQ(set->Find("cv2", "other"), nullptr);
}

TEST_F(LakeInputsTest, AlertsAreMergedIntoEpisodes) {
  WriteEvents(root_, plant_,
              {{kMonday, "m1", "ewma_z"},
               {kMonday + 50 * kMin, "m1", "ewma_z"},    // within 1 h of the previous: same
               {kMonday + 110 * kMin, "m1", "ewma_z"},   // 60 min after the previous: same
               {kMonday + 200 * kMin, "m1", "cusum"},    // 90 min later: a new episode
               {kMonday + 10 * kMin, "ac1", "quality"},  // not an alert
               {kMonday + 20 * kMin, "ac1", "comm_loss"},
               {kMonday + kDay, "m1", "ewma_z"}},  // outside the range
              &clock_);
  auto events = OpenTable(root_, LakeTableId::kEvents, &clock_);
  ASSERT_TRUE(events.ok());
  Result<std::vector<AlertEvent>> read = ReadAlertEvents(**events, kMonday, kMonday + kDay);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 4u);
  EXPECT_EQ((*read)[0].line, "l1");
  std::vector<calc::TechnicianAlert> alerts =
      MergeAlerts(*read, kHour, [](std::string_view a) { return a == "m1" ? "pdm" : ""; });
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].id, "m1@2026-11-02T00:00:00.000000Z");
  EXPECT_EQ(alerts[0].kind, "ewma_z");
  EXPECT_EQ(alerts[0].use_case, "pdm");
  EXPECT_EQ(alerts[1].ts_us, kMonday + 200 * kMin);
  EXPECT_EQ(alerts[1].kind, "cusum");
}

TEST_F(LakeInputsTest, BadRangesAndMissingTables) {
  EXPECT_EQ(OpenTable(root_, LakeTableId::kTelemetry, &clock_).status().code(),
            StatusCode::kNotFound);
  WriteTelemetry(root_, plant_, {{kMonday, "cv1", "state", 2}}, &clock_);
  EXPECT_EQ(
      ReadSeries(*Telemetry(), {{"cv1", "state", "", kSec}}, kMonday, kMonday).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ReadSeries(*Telemetry(), {{"cv1", "state", "", 0}}, kMonday, kMonday + 1).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSeries(*Telemetry(), {{"cv1", "state", "furlongs", kSec}}, kMonday, kMonday + 1)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::core::kpi

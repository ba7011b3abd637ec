#include "core/kpi/roadmap_input.h"

#include <gtest/gtest.h>

#include "core/kpi/kpi_test_util.h"
#include "testing/test_env.h"

namespace weft::core::kpi {
namespace {

using namespace ::weft::core::kpi::testing;  // NOLINT(google-build-using-namespace)
namespace calc = ::weft::kpi;

constexpr int64_t kNov1 = kMonday - kDay;  // pdm's live_from

class RoadmapInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/lake";
    plant_ = TestPlant();
  }
  static KpiRow Actual(const std::string& uc, int64_t start, int64_t end, double value) {
    KpiRow r;
    r.period_start_us = start;
    r.period_end_us = end;
    r.use_case = uc;
    r.kpi = "kpi_actual";
    r.value = value;
    r.coverage = 1;
    return r;
  }
  ManualClock clock_{TimeFromUnixMicros(kNov1 + 40 * kDay)};
  std::optional<weft::testing::TempDir> dir_;
  std::string root_;
  model::Plant plant_;
};

TEST_F(RoadmapInputTest, EvidenceFromDailyRowsWithTheLaterRunWinningOverlaps) {
  // A stray earlier row (noon to noon) that the day rows of a later run replace.
  ASSERT_TRUE(
      AppendKpiRows(
          root_, {Actual("pdm", kNov1 + 4 * kDay + 12 * kHour, kNov1 + 5 * kDay + 12 * kHour, 100)},
          "run-old", &clock_)
          .ok());
  clock_.Advance(std::chrono::minutes(1));
  // 30 days of pdm at 75 h/year (baseline 100, target 50): each live day realises
  // 36500 × (100 - 75) / (100 - 50) / 365 = 50 EUR.
  std::vector<KpiRow> days;
  for (int d = 0; d < 30; ++d) {
    days.push_back(Actual("pdm", kNov1 + d * kDay, kNov1 + (d + 1) * kDay, 75));
  }
  ASSERT_TRUE(AppendKpiRows(root_, days, "run-days", &clock_).ok());
  KpiRow fit;
  fit.period_start_us = kNov1;
  fit.period_end_us = kNov1 + 30 * kDay;
  fit.use_case = "hvac";
  fit.kpi = "hvac_baseline_cv_rmse";
  fit.value = 40;
  fit.detail = R"({"fit":{"cv_rmse_pct":40,"nmbe_pct":0.5,"n":20,"p":2,"meets_criteria":false,
                   "criteria":"CV(RMSE) 40% > 30%"}})";
  ASSERT_TRUE(AppendKpiRows(root_, {fit}, "run-fit", &clock_).ok());

  Result<std::vector<KpiRow>> rows = ReadKpiRows(root_, {}, &clock_);
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> warnings;
  std::vector<calc::UseCaseEvidence> ev =
      AssembleEvidence(*rows, plant_, DayOf(clock_.Now()), &warnings);
  ASSERT_EQ(ev.size(), plant_.use_cases.size());
  const calc::UseCaseEvidence& pdm = ev[0];
  EXPECT_EQ(pdm.id, "pdm");
  EXPECT_EQ(pdm.running_cost_per_year, 1000);
  EXPECT_EQ(pdm.annual_value, 36500);
  ASSERT_EQ(pdm.series.size(), 30u);  // the stray row is gone
  double realised = 0;
  for (const calc::ProjectionPoint& p : pdm.series) realised += p.value_realised.value_or(0);
  EXPECT_NEAR(realised, 30 * 50, 1e-6);
  const calc::UseCaseEvidence& hvac = ev[4];
  EXPECT_EQ(hvac.id, "hvac");
  ASSERT_TRUE(hvac.baseline_fit);
  EXPECT_FALSE(hvac.baseline_fit->meets_criteria);
  EXPECT_EQ(hvac.baseline_fit->cv_rmse_pct, 40.0);
  EXPECT_TRUE(warnings.empty());

  // A later run that computed noon to noon replaces the two days it overlaps.
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(
      AppendKpiRows(
          root_, {Actual("pdm", kNov1 + 9 * kDay + 12 * kHour, kNov1 + 10 * kDay + 12 * kHour, 75)},
          "run-noon", &clock_)
          .ok());
  rows = ReadKpiRows(root_, {}, &clock_);
  ASSERT_TRUE(rows.ok());
  ev = AssembleEvidence(*rows, plant_, DayOf(clock_.Now()), nullptr);
  EXPECT_EQ(ev[0].series.size(), 29u);

  Result<calc::Roadmap> roadmap = RoadmapFromLake(root_, plant_, "2026Q4", &clock_);
  ASSERT_TRUE(roadmap.ok()) << roadmap.status().ToString();
  ASSERT_EQ(roadmap->entries.size(), plant_.use_cases.size());
  for (const calc::RoadmapEntry& e : roadmap->entries) {
    if (e.id == "pdm") {
      ASSERT_TRUE(e.realised_annual);
      EXPECT_NEAR(*e.realised_annual, 36500.0 / 2, 1e-6);  // half the promised improvement
    }
    if (e.id == "trace") {
      EXPECT_EQ(e.decision, calc::Decision::kMeasure);  // not live
    }
  }
}

// The job's row details say how a day is judged; the roadmap reads them back. hvac (heating
// 10 → 8 MWh/year, r_projected 0.2, 500 a year, live from 2026-11-01):
//   Nov 1: a baseline day (the optimiser did not run): not judged
//   Nov 2: left out of the baseline model: not judged, although it has a KPI
//   Nov 3: 4 MWh/year against the model's 5: r_measured (5 − 4) / 5 = 0.2 = r_projected: the
//          whole promised improvement, 500 × 1 / 365 = 1.3699 EUR
TEST_F(RoadmapInputTest, RowDetailsGiveBaselineDaysAndMeasuredBaselines) {
  KpiRow base = Actual("hvac", kNov1, kNov1 + kDay, 9);
  base.detail = R"({"kpi":"heating_energy","basis":"baseline_period"})";
  KpiRow excluded = Actual("hvac", kNov1 + kDay, kNov1 + 2 * kDay, 3);
  excluded.detail = R"({"basis":"excluded"})";
  KpiRow judged = Actual("hvac", kNov1 + 2 * kDay, kNov1 + 3 * kDay, 4);
  judged.detail =
      R"({"basis":"hvac_baseline_model","measured_baseline":5,"baseline_source":"hvac_baseline_model"})";
  KpiRow broken = Actual("pdm", kNov1, kNov1 + kDay, 75);
  broken.detail = "{not json";  // read as a plain measurement
  const std::vector<calc::KpiMeasurement> ms = MeasurementsFromRows({&judged, &base, &excluded});
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_TRUE(ms[0].baseline_period);
  EXPECT_FALSE(ms[1].kpi_actual.has_value());
  ASSERT_TRUE(ms[2].measured_baseline);
  EXPECT_EQ(*ms[2].measured_baseline, 5);
  EXPECT_EQ(ms[2].measured_baseline_source, "hvac_baseline_model");
  EXPECT_EQ(MeasurementsFromRows({&broken})[0].kpi_actual, 75);

  std::vector<calc::UseCaseEvidence> ev =
      AssembleEvidence({base, excluded, judged, broken}, plant_, DayOf(clock_.Now()), nullptr);
  const calc::UseCaseEvidence& hvac = ev[4];
  ASSERT_EQ(hvac.series.size(), 3u);
  ASSERT_TRUE(hvac.kpi);
  EXPECT_EQ(hvac.kpi->baseline, 10);
  EXPECT_FALSE(hvac.series[0].value_realised);
  EXPECT_FALSE(hvac.series[1].value_realised);
  ASSERT_TRUE(hvac.series[2].value_realised);
  EXPECT_NEAR(*hvac.series[2].value_realised, 500.0 / 365, 1e-9);
  EXPECT_EQ(hvac.series[2].basis, "hvac_baseline_model");
}

TEST_F(RoadmapInputTest, ErrorsNameTheProblem) {
  Result<calc::Roadmap> none = RoadmapFromLake(root_, plant_, "2026Q4", &clock_);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(AppendKpiRows(root_, {Actual("pdm", kNov1, kNov1 + kDay, 75)}, "r", &clock_).ok());
  Result<calc::Roadmap> bad = RoadmapFromLake(root_, plant_, "2027Q5", &clock_);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  // An unreadable detail is a warning, and the fit then counts as not meeting the criteria.
  KpiRow fit;
  fit.period_start_us = kNov1;
  fit.period_end_us = kNov1 + kDay;
  fit.use_case = "hvac";
  fit.kpi = "hvac_baseline_cv_rmse";
  fit.detail = "{not json";
  std::vector<std::string> warnings;
  std::vector<calc::UseCaseEvidence> ev =
      AssembleEvidence({fit}, plant_, DayOf(clock_.Now()), &warnings);
  ASSERT_TRUE(ev[4].baseline_fit);
  EXPECT_FALSE(ev[4].baseline_fit->meets_criteria);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("hvac"), std::string::npos);
}

}  // namespace
}  // namespace weft::core::kpi

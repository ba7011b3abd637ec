#include "kpi/projection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kLive = int64_t{1793491200} * 1000000;  // 2026-11-01T00:00:00Z

// pdm-spindles: unplanned downtime 96 → 40 h/year, 179,200 a year at target, 90-day ramp.
ProjectionSpec Spindles() {
  return {.use_case = "pdm-spindles",
          .kpi = {.name = "unplanned_downtime", .unit = "h/year", .baseline = 96, .target = 40},
          .annual_value = 179200,
          .live_from_us = kLive};
}

KpiMeasurement Days(int from, int to, std::optional<double> actual, double coverage = 1) {
  return {.start_us = kLive + from * kDay,
          .end_us = kLive + to * kDay,
          .kpi_actual = actual,
          .coverage = coverage};
}

// Days 30..60 of a 90-day ramp: a(t) = t/90 goes 1/3 → 2/3, mean ā = 0.5.
//   kpi_projected   = 96 + 0.5 × (40 − 96) = 68 h/year
//   value_projected = 179200 × 0.5 × 30/365 = 7364.38
// Measured 75 h/year: share = (96 − 75)/(96 − 40) = 21/56 = 0.375
//   value_realised  = 179200 × 0.375 × 30/365 = 5523.29; attainment = 0.375/0.5 = 0.75
TEST(ProjectionTest, MidwayThroughTheRamp) {
  auto pt = ProjectPeriod(Spindles(), Days(30, 60, 75));
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_NEAR(pt->projected_attainment, 0.5, 1e-12);
  EXPECT_NEAR(pt->kpi_projected, 68, 1e-9);
  EXPECT_NEAR(pt->value_projected, 7364.3836, 1e-3);
  EXPECT_DOUBLE_EQ(pt->live_days, 30);
  ASSERT_TRUE(pt->value_realised && pt->attainment);
  EXPECT_NEAR(*pt->value_realised, 5523.2877, 1e-3);
  EXPECT_NEAR(*pt->attainment, 0.75, 1e-12);
}

TEST(ProjectionTest, TrajectoryBeforeAcrossAndAfterTheRamp) {
  const ProjectionSpec spec = Spindles();
  EXPECT_DOUBLE_EQ(ProjectedAttainmentAt(spec, kLive - kDay), 0);
  EXPECT_DOUBLE_EQ(ProjectedAttainmentAt(spec, kLive + 45 * kDay), 0.5);
  EXPECT_DOUBLE_EQ(ProjectedAttainmentAt(spec, kLive + 200 * kDay), 1);

  // Days 80..110: ∫ t/90 over 80..90 = (90² − 80²)/180 = 9.444, + 20 days at 1 = 29.444;
  // ā = 29.444 / 30 = 0.98148.
  auto cross = ProjectPeriod(spec, Days(80, 110, std::nullopt));
  ASSERT_TRUE(cross.ok());
  EXPECT_NEAR(cross->projected_attainment, 29.444444 / 30, 1e-6);
  EXPECT_FALSE(cross->value_realised.has_value());
  EXPECT_FALSE(cross->attainment.has_value());

  // After the ramp: at target; 40 h/year measured = attainment 1.
  auto after = ProjectPeriod(spec, Days(100, 130, 40));
  ASSERT_TRUE(after.ok());
  EXPECT_DOUBLE_EQ(after->kpi_projected, 40);
  EXPECT_NEAR(*after->attainment, 1, 1e-12);

  // Before live: nothing projected, nothing realised (even with a measurement).
  auto before = ProjectPeriod(spec, Days(-30, 0, 90));
  ASSERT_TRUE(before.ok());
  EXPECT_DOUBLE_EQ(before->value_projected, 0);
  EXPECT_DOUBLE_EQ(before->kpi_projected, 96);
  EXPECT_FALSE(before->value_realised.has_value());
  EXPECT_FALSE(before->attainment.has_value());

  // Not live at all.
  ProjectionSpec not_live = spec;
  not_live.live_from_us.reset();
  auto none = ProjectPeriod(not_live, Days(30, 60, 75));
  ASSERT_TRUE(none.ok());
  EXPECT_DOUBLE_EQ(none->value_projected, 0);
  EXPECT_FALSE(none->value_realised.has_value());
}

// Days −10..20 straddle live_from: ∫ t/90 over 0..20 = 400/180 = 2.222; ā = 2.222/30 = 0.074074
//   value_projected = 179200 × 0.074074 × 30/365 = 1091.02
//   live_days = 20; measured 90: share 6/56; value_realised = 179200 × 6/56 × 20/365 = 1052.05
TEST(ProjectionTest, PeriodStraddlingGoLiveCountsItsLivePart) {
  auto pt = ProjectPeriod(Spindles(), Days(-10, 20, 90));
  ASSERT_TRUE(pt.ok());
  EXPECT_NEAR(pt->projected_attainment, 0.0740741, 1e-6);
  EXPECT_DOUBLE_EQ(pt->live_days, 20);
  EXPECT_NEAR(pt->value_projected, 1091.0198, 1e-3);
  EXPECT_NEAR(*pt->value_realised, 1052.0548, 1e-3);
}

TEST(ProjectionTest, HigherIsBetterAndWorseThanBaseline) {
  // First-pass yield 97.2 → 99 %: 98.1 % is half the improvement; 96.3 % is minus half.
  ProjectionSpec fpy{
      .use_case = "fpy",
      .kpi = {.name = "first_pass_yield", .unit = "%", .baseline = 97.2, .target = 99.0},
      .annual_value = 46000,
      .live_from_us = kLive,
      .ramp_us = kDay};
  auto good = ProjectPeriod(fpy, Days(10, 40, 98.1));
  ASSERT_TRUE(good.ok());
  // ā = 1 (ramp over); 46000 × 0.5 × 30/365 = 1890.41; attainment 0.5.
  EXPECT_NEAR(*good->value_realised, 1890.411, 1e-3);
  EXPECT_NEAR(*good->attainment, 0.5, 1e-9);
  auto worse = ProjectPeriod(fpy, Days(10, 40, 96.3));
  ASSERT_TRUE(worse.ok());
  EXPECT_NEAR(*worse->value_realised, -1890.411, 1e-3);
  EXPECT_NEAR(*worse->attainment, -0.5, 1e-9);
}

// Summary of: days 30..60 (realised 5523.29, projected 7364.38, coverage 1), days −10..20
// (1052.05, 1091.02, coverage 0.9, 20 live days) and days 60..90 without data (coverage 0).
//   live days 30 + 20 + 30 = 80, days of data 50
//   coverage (1 × 30 + 0.9 × 20 + 0 × 30) / 80 = 0.6
//   realised 6575.34, projected 8455.40, attainment 0.77765
//   realised annual 6575.34 × 365/50 = 179200 × (0.375·30 + (6/56)·20)/50 = 48000
TEST(ProjectionTest, SummaryAnnualisesOverDaysOfData) {
  auto series = ProjectSeries(
      Spindles(), {Days(30, 60, 75), Days(-10, 20, 90, 0.9), Days(60, 90, std::nullopt, 0)});
  ASSERT_TRUE(series.ok());
  ProjectionSummary s = Summarise(*series);
  EXPECT_EQ(s.periods, 3u);
  EXPECT_EQ(s.periods_with_data, 2u);
  EXPECT_DOUBLE_EQ(s.live_days, 80);
  EXPECT_DOUBLE_EQ(s.days_of_data, 50);
  EXPECT_NEAR(s.coverage, 0.6, 1e-12);
  EXPECT_NEAR(s.value_realised, 6575.3425, 1e-3);
  EXPECT_NEAR(s.value_projected, 8455.4033, 1e-3);
  EXPECT_NEAR(*s.attainment, 0.77765, 1e-5);
  EXPECT_NEAR(*s.realised_annual, 48000, 1e-6);
  EXPECT_NEAR(*s.projected_annual, 61724.444, 1e-3);

  ProjectionSummary empty = Summarise({});
  EXPECT_FALSE(empty.attainment.has_value());
  EXPECT_FALSE(empty.realised_annual.has_value());
}

// HVAC: heating energy 820 → 690 MWh/year (r_projected = 130/820 = 0.158537), 24,700 a year.
// Day 14 is a baseline period (the optimiser did not run); days 15 and 16 are optimised, each
// with the baseline model's prediction B_m: day 15 B 50, actual 45 (saved 5); day 16 B 30,
// actual 29 (saved 1).
//   ratio of sums: (5 + 1) / (50 + 30) = 0.075;  B_ref = (50 + 30) / 2 = 40
//   share day 15 = 5 / 40 / 0.158537 = 0.788462;  day 16 = 1 / 40 / 0.158537 = 0.157692
//   realised = 24700 × (0.788462 + 0.157692) / 365 = 64.0274
//            = 24700 × 0.075 / 0.158537 × 2 / 365         (a mean of daily ratios, (0.1 +
//              0.0333) / 2 = 0.0667, would give 56.9)
//   annualised over the 2 days of data: 64.0274 × 365 / 2 = 11684.6 = 24700 × 0.075 / 0.158537
//   projected: ā = 15.5/90 and 16.5/90 → 24700 × (0.172222 + 0.183333) / 365 = 24.0609;
//   attainment 64.0274 / 24.0609 = 2.66106.
TEST(ProjectionTest, MeasuredBaselineIsARatioOfSums) {
  const ProjectionSpec hvac{
      .use_case = "hvac",
      .kpi = {.name = "heating_energy", .unit = "MWh/year", .baseline = 820, .target = 690},
      .annual_value = 24700,
      .live_from_us = kLive};
  KpiMeasurement d14 = Days(14, 15, 40);
  d14.baseline_period = true;
  KpiMeasurement d15 = Days(15, 16, 45);
  d15.measured_baseline = 50;
  d15.measured_baseline_source = "hvac_baseline_model";
  KpiMeasurement d16 = Days(16, 17, 29);
  d16.measured_baseline = 30;
  d16.measured_baseline_source = "hvac_baseline_model";
  auto series = ProjectSeries(hvac, {d14, d15, d16});
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  const std::vector<ProjectionPoint>& p = *series;
  EXPECT_TRUE(p[0].baseline_period);
  EXPECT_FALSE(p[0].value_realised.has_value());  // a baseline day is not judged
  EXPECT_EQ(p[0].basis, "");
  EXPECT_GT(p[0].value_projected, 0);  // but it was projected
  EXPECT_EQ(p[1].basis, "hvac_baseline_model");
  EXPECT_NEAR(*p[1].value_realised, 24700 * 0.788462 / 365, 1e-3);
  EXPECT_NEAR(*p[2].value_realised, 24700 * 0.157692 / 365, 1e-3);
  ProjectionSummary s = Summarise(p);
  EXPECT_DOUBLE_EQ(s.days_of_data, 2);
  EXPECT_EQ(s.basis, "hvac_baseline_model");
  EXPECT_NEAR(s.value_realised, 64.0274, 1e-3);
  EXPECT_NEAR(*s.realised_annual, 24700 * 0.075 / (130.0 / 820), 1e-6);  // 11684.6
  EXPECT_NEAR(*s.measured_improvement, 0.075, 1e-12);
  EXPECT_NEAR(*s.measured_baseline, 40, 1e-12);
  EXPECT_DOUBLE_EQ(s.days_on_measured_baseline, 2);
  EXPECT_DOUBLE_EQ(s.days_on_plan_baseline, 0);
  EXPECT_NEAR(*s.attainment, 2.66106, 1e-5);
  EXPECT_NEAR(*s.kpi_actual, 37, 1e-12);  // (45 + 29) / 2
  // One period alone is judged against its own B_m: 5 / 50 / 0.158537 = 0.630769.
  auto one = ProjectPeriod(hvac, d15);
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(*one->value_realised, 24700 * 0.630769 / 365, 1e-3);
  EXPECT_NEAR(*ProjectedImprovement(hvac.kpi), 130.0 / 820, 1e-15);
}

// Spindles 96 → 40 h/year (r_projected = 56/96 = 0.583333), measured before go-live: days −20..−10
// at 200 h/year (coverage 1: 10 covered days) and −10..0 at 100 (coverage 0.5: 5 covered days):
//   B_lake = (200 × 10 + 100 × 5) / 15 = 166.667 h/year, over 15 >= 14 covered days
// Days 30..60 at 125 h/year: r_measured = (166.667 − 125) / 166.667 = 0.25; share = 0.25 /
// 0.583333 = 0.428571; realised = 179200 × 0.428571 × 30/365 = 6312.33.
// On plant.yaml's baseline (96) the same 125 h/year would be a loss: (96 − 125) / 56 = −0.517857.
TEST(ProjectionTest, LakeBaselineBeforeGoLive) {
  auto series =
      ProjectSeries(Spindles(), {Days(-20, -10, 200), Days(-10, 0, 100, 0.5), Days(30, 60, 125)});
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  const ProjectionPoint& live = (*series)[2];
  EXPECT_EQ(live.basis, kLakeBaseline);
  EXPECT_NEAR(*live.measured_baseline, 166.6667, 1e-3);
  EXPECT_NEAR(*live.value_realised, 6312.3288, 1e-3);
  EXPECT_FALSE((*series)[0].value_realised.has_value());  // before live: not judged

  // 10 covered days (< min_baseline_days 14): no lake baseline, plant.yaml's in absolute terms.
  auto short_series = ProjectSeries(Spindles(), {Days(-20, -10, 200), Days(30, 60, 125)});
  ASSERT_TRUE(short_series.ok());
  EXPECT_EQ((*short_series)[1].basis, kPlanBaseline);
  EXPECT_FALSE((*short_series)[1].measured_baseline.has_value());
  EXPECT_NEAR(*(*short_series)[1].value_realised, 179200 * (-29.0 / 56) * 30 / 365, 1e-6);
  ProjectionSpec fewer = Spindles();
  fewer.min_baseline_days = 10;  // an option
  auto with_option = ProjectSeries(fewer, {Days(-20, -10, 200), Days(30, 60, 125)});
  ASSERT_TRUE(with_option.ok());
  EXPECT_EQ((*with_option)[1].basis, kLakeBaseline);
  EXPECT_DOUBLE_EQ(*(*with_option)[1].measured_baseline, 200);

  // A measured baseline of 0 gives no relative improvement: plant.yaml's baseline.
  KpiMeasurement zero = Days(30, 60, 75);
  zero.measured_baseline = 0;
  auto z = ProjectPeriod(Spindles(), zero);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->basis, kPlanBaseline);
  EXPECT_NEAR(*z->value_realised, 5523.2877, 1e-3);  // as in MidwayThroughTheRamp
}

TEST(ProjectionTest, Annualisation) {
  // 3 h in 30 days → 3 × 365/30 = 36.5 h/year; at coverage 0.5 → 73 h/year.
  EXPECT_NEAR(*AnnualiseKpi(3, 0, 30 * kDay, 1, "h/year"), 36.5, 1e-12);
  EXPECT_NEAR(*AnnualiseKpi(3, 0, 30 * kDay, 0.5, "h/year"), 73, 1e-12);
  EXPECT_NEAR(*AnnualiseKpi(10, 0, 73 * kDay, 1, "MWh/year"), 50, 1e-12);
  // Rates and ratios are taken as they are.
  EXPECT_DOUBLE_EQ(*AnnualiseKpi(1.7, 0, 30 * kDay, 0.5, "kWh/unit"), 1.7);
  EXPECT_FALSE(AnnualiseKpi(3, 0, 30 * kDay, 0, "h/year").has_value());
  EXPECT_FALSE(AnnualiseKpi(3, 0, 0, 1, "h/year").has_value());
  EXPECT_TRUE(IsPerYearUnit("h/year"));
  EXPECT_TRUE(IsPerYearUnit("t/a"));
  EXPECT_FALSE(IsPerYearUnit("%"));
  EXPECT_FALSE(IsPerYearUnit("/year"));
}

TEST(ProjectionTest, BadInputIsAnError) {
  ProjectionSpec flat = Spindles();
  flat.kpi.target = flat.kpi.baseline;
  auto f = ProjectPeriod(flat, Days(0, 30, 80));
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("use case 'pdm-spindles'"));
  EXPECT_THAT(f.status().message(), HasSubstr("baseline = target"));

  EXPECT_THAT(ProjectPeriod(Spindles(), Days(0, 30, 80, 1.5)).status().message(),
              HasSubstr("coverage must be within [0, 1]"));
  EXPECT_THAT(ProjectPeriod(Spindles(), Days(30, 30, 80)).status().message(), HasSubstr("ends"));
  ProjectionSpec negative = Spindles();
  negative.annual_value = -1;
  EXPECT_FALSE(ProjectPeriod(negative, Days(0, 30, 80)).ok());
  auto series = ProjectSeries(Spindles(), {Days(0, 30, 80), Days(30, 20, 80)});
  EXPECT_THAT(series.status().message(), HasSubstr("period #1"));
  KpiMeasurement nan_baseline = Days(0, 30, 80);
  nan_baseline.measured_baseline = std::nan("");
  EXPECT_THAT(ProjectPeriod(Spindles(), nan_baseline).status().message(),
              HasSubstr("measured baseline is not a number"));
  ProjectionSpec negative_days = Spindles();
  negative_days.min_baseline_days = -1;
  EXPECT_THAT(ProjectPeriod(negative_days, Days(0, 30, 80)).status().message(),
              HasSubstr("min_baseline_days"));
}

}  // namespace
}  // namespace weft::kpi

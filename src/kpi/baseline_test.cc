#include "kpi/baseline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace weft::kpi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kHour = int64_t{3600} * 1000000;

BaselinePeriod Day(int index, double kwh, double hdd, double occupancy, bool optimised = false) {
  return {.start_us = index * kDay,
          .end_us = (index + 1) * kDay,
          .energy_kwh = kwh,
          .hdd = hdd,
          .occupancy = occupancy,
          .optimised = optimised};
}

// Three baseline days (HDD, kWh) = (0, 10), (1, 12), (2, 17), a model y = b0 + b1·HDD (p = 2):
//   x̄ = 1, ȳ = 13, Sxx = 1 + 0 + 1 = 2, Sxy = (−1)(−3) + 0·(−1) + (1)(4) = 7
//   b1 = 7 / 2 = 3.5, b0 = 13 − 3.5 = 9.5; ŷ = 9.5, 13, 16.5; residuals 0.5, −1, 0.5
//   SSE = 0.25 + 1 + 0.25 = 1.5, n − p = 1, RMSE = √1.5 = 1.224745
//   CV(RMSE) = 1.224745 / 13 = 9.4211 %; NMBE = 0 / (1·13) = 0 %
//   SST = 9 + 1 + 16 = 26, R² = 1 − 1.5/26 = 0.942308
//   ρ = (e2·e1 + e3·e2) / SSE = (−0.5 − 0.5) / 1.5 = −0.6667
// Two optimised days: HDD 1 → baseline 13, actual 11, saved 2; HDD 2 → 16.5, actual 14.5, saved 2.
std::vector<BaselinePeriod> ThreePointCase() {
  return {Day(0, 10, 0, 5), Day(1, 12, 1, 5), Day(2, 17, 2, 5), Day(3, 11, 1, 5, true),
          Day(4, 14.5, 2, 5, true)};
}

TEST(BaselineTest, ThreePointRegressionByHand) {
  BaselineOptions opt{.granularity = Granularity::kMonthly, .use_occupancy = false};
  auto fit = FitBaseline(ThreePointCase(), opt);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->n, 3u);
  EXPECT_EQ(fit->p, 2u);
  EXPECT_NEAR(fit->b0, 9.5, 1e-12);
  EXPECT_NEAR(fit->b1, 3.5, 1e-12);
  EXPECT_DOUBLE_EQ(fit->b2, 0);
  EXPECT_NEAR(fit->rmse_kwh, std::sqrt(1.5), 1e-12);
  ASSERT_TRUE(fit->cv_rmse_pct && fit->nmbe_pct && fit->r2);
  EXPECT_NEAR(*fit->cv_rmse_pct, 9.421114, 1e-5);
  EXPECT_NEAR(*fit->nmbe_pct, 0, 1e-9);
  EXPECT_NEAR(*fit->r2, 0.942308, 1e-6);
  EXPECT_NEAR(fit->rho, -2.0 / 3.0, 1e-12);
  // Monthly limits 15 % / 5 %: 9.4 % passes.
  EXPECT_DOUBLE_EQ(fit->cv_rmse_limit_pct, 15);
  EXPECT_DOUBLE_EQ(fit->nmbe_limit_pct, 5);
  EXPECT_TRUE(fit->meets_criteria);
  EXPECT_THAT(fit->criteria, HasSubstr("CV(RMSE) 9.4% <= 15%"));
}

TEST(BaselineTest, SavingsCarbonMoneyAndUncertainty) {
  BaselineOptions opt{.granularity = Granularity::kDaily,
                      .energy_price_per_kwh = 0.19,
                      .grid_carbon_kg_per_kwh = 0.056,
                      .use_occupancy = false};
  auto r = BaselineSavings(ThreePointCase(), opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Daily data: the hourly limits 30 % / 10 % apply.
  EXPECT_DOUBLE_EQ(r->fit.cv_rmse_limit_pct, 30);
  EXPECT_THAT(r->fit.criteria, HasSubstr("daily data: G14 hourly limits"));
  ASSERT_EQ(r->periods.size(), 2u);
  EXPECT_NEAR(r->periods[0].baseline_kwh, 13, 1e-12);
  EXPECT_NEAR(r->periods[0].savings_kwh, 2, 1e-12);
  EXPECT_NEAR(r->periods[1].baseline_kwh, 16.5, 1e-12);
  EXPECT_NEAR(r->periods[1].savings_kwh, 2, 1e-12);
  // Totals: baseline 29.5, actual 25.5, saved 4 kWh; carbon 4 × 0.056 = 0.224 kg;
  // money 4 × 0.19 = 0.76.
  EXPECT_NEAR(r->total.baseline_kwh, 29.5, 1e-12);
  EXPECT_NEAR(r->total.actual_kwh, 25.5, 1e-12);
  EXPECT_NEAR(r->total.savings_kwh, 4, 1e-12);
  EXPECT_NEAR(r->total.carbon_kg, 0.224, 1e-12);
  EXPECT_NEAR(r->total.money, 0.76, 1e-12);
  // F = 4 / 29.5 = 0.135593; ρ < 0 so n' = n = 3; m = 2:
  // FSU = 1 × 1.26 × 0.094211 × √((1 + 2/3) / 2) / 0.135593 = 0.79918.
  ASSERT_TRUE(r->total.savings_fraction && r->total.fractional_savings_uncertainty);
  EXPECT_NEAR(*r->total.savings_fraction, 4 / 29.5, 1e-12);
  EXPECT_NEAR(*r->total.fractional_savings_uncertainty, 0.799179, 1e-5);
}

// y = 2 + 3·HDD + 0.5·occupancy exactly, on five non-collinear baseline days.
TEST(BaselineTest, ThreeCoefficientsRecoveredExactly) {
  std::vector<BaselinePeriod> days = {
      Day(0, 2, 0, 0), Day(1, 5, 1, 0), Day(2, 3, 0, 2), Day(3, 6, 1, 2), Day(4, 10, 2, 4),
      // Optimised: baseline 2 + 6 + 1 = 9 vs 7 (saved 2); 2 + 3 + 2 = 7 vs 7.5 (saved −0.5).
      Day(5, 7, 2, 2, true), Day(6, 7.5, 1, 4, true)};
  auto r = BaselineSavings(days, {.energy_price_per_kwh = 0.2, .grid_carbon_kg_per_kwh = 0.1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->fit.b0, 2, 1e-9);
  EXPECT_NEAR(r->fit.b1, 3, 1e-9);
  EXPECT_NEAR(r->fit.b2, 0.5, 1e-9);
  EXPECT_NEAR(*r->fit.r2, 1, 1e-12);
  EXPECT_NEAR(*r->fit.cv_rmse_pct, 0, 1e-6);
  EXPECT_NEAR(r->periods[0].savings_kwh, 2, 1e-9);
  EXPECT_NEAR(r->periods[1].savings_kwh, -0.5, 1e-9);
  // Σ saved 1.5 kWh: 0.15 kg, 0.30 money.
  EXPECT_NEAR(r->total.savings_kwh, 1.5, 1e-9);
  EXPECT_NEAR(r->total.carbon_kg, 0.15, 1e-9);
  EXPECT_NEAR(r->total.money, 0.3, 1e-9);
}

TEST(BaselineTest, PoorFitMissesCriteria) {
  // Same data, a stricter CV(RMSE) limit of 5 %: 9.4 % misses.
  auto fit = FitBaseline(ThreePointCase(), {.use_occupancy = false, .cv_rmse_limit_pct = 5.0});
  ASSERT_TRUE(fit.ok());
  EXPECT_FALSE(fit->meets_criteria);
  EXPECT_THAT(fit->criteria, HasSubstr("9.4% > 5%"));
}

TEST(BaselineTest, ImpossibleFitsAreClearErrors) {
  // n = 3 <= p = 3.
  auto few = FitBaseline(ThreePointCase(), {});
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(few.status().message(), HasSubstr("3 baseline (non-optimised) period(s)"));

  std::vector<BaselinePeriod> constant_occ = {Day(0, 1, 0, 4), Day(1, 2, 1, 4), Day(2, 3, 2, 4),
                                              Day(3, 5, 3, 4)};
  auto c = FitBaseline(constant_occ, {});
  EXPECT_THAT(c.status().message(), HasSubstr("occupancy is constant"));

  std::vector<BaselinePeriod> constant_hdd = {Day(0, 1, 2, 4), Day(1, 2, 2, 5), Day(2, 3, 2, 6),
                                              Day(3, 5, 2, 1)};
  EXPECT_THAT(FitBaseline(constant_hdd, {}).status().message(), HasSubstr("HDD is constant"));

  // occupancy = 2 × HDD: collinear.
  std::vector<BaselinePeriod> collinear = {Day(0, 1, 0, 0), Day(1, 2, 1, 2), Day(2, 3, 2, 4),
                                           Day(3, 5, 3, 6)};
  EXPECT_THAT(FitBaseline(collinear, {}).status().message(), HasSubstr("collinear"));

  std::vector<BaselinePeriod> nan = ThreePointCase();
  nan[1].energy_kwh = std::numeric_limits<double>::quiet_NaN();
  auto n = FitBaseline(nan, {.use_occupancy = false});
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(n.status().message(), HasSubstr("period #1"));

  std::vector<BaselinePeriod> backwards = ThreePointCase();
  backwards[0].end_us = backwards[0].start_us;
  EXPECT_THAT(FitBaseline(backwards, {.use_occupancy = false}).status().message(),
              HasSubstr("period #0 ends"));
}

// Balance 18 °C, stale after 1.5 h, period [0, 6 h):
//   10 °C at 0 h holds until 1.5 h (stale): 1.5 h × 8 K = 12 K·h
//   20 °C at 2 h holds until the next point at 3 h: 1 h × 0 K = 0
//   no value from 3 h to 5 h (NaN point)
//   15 °C at 5 h holds until the end at 6 h: 1 h × 3 K = 3 K·h
// Σ 15 K·h over 3.5 h covered of 6 h: coverage 0.5833.
TEST(BaselineTest, HeatingDegreeHoursFromAStepSeries) {
  std::vector<TemperaturePoint> t = {{0, 10},
                                     {2 * kHour, 20},
                                     {3 * kHour, std::numeric_limits<double>::quiet_NaN()},
                                     {5 * kHour, 15}};
  auto dh = HeatingDegreeHours(t, 0, 6 * kHour, 18, 3 * kHour / 2);
  ASSERT_TRUE(dh.ok()) << dh.status().ToString();
  EXPECT_NEAR(dh->degree_hours, 15, 1e-9);
  EXPECT_NEAR(dh->covered_s, 3.5 * 3600, 1e-6);
  EXPECT_NEAR(dh->coverage, 3.5 / 6, 1e-12);

  // From 1 h: the 10 °C point (before the start) counts from 1 h to 1.5 h: 0.5 × 8 = 4; + 3.
  auto later = HeatingDegreeHours(t, kHour, 6 * kHour, 18, 3 * kHour / 2);
  ASSERT_TRUE(later.ok());
  EXPECT_NEAR(later->degree_hours, 7, 1e-9);
  EXPECT_NEAR(later->coverage, 2.5 / 5, 1e-12);

  std::vector<TemperaturePoint> unsorted = {{kHour, 1}, {0, 2}};
  EXPECT_THAT(HeatingDegreeHours(unsorted, 0, kHour, 18, kHour).status().message(),
              HasSubstr("not sorted"));
  EXPECT_FALSE(HeatingDegreeHours(t, kHour, kHour, 18, kHour).ok());
  EXPECT_FALSE(HeatingDegreeHours(t, 0, kHour, 18, 0).ok());
}

TEST(BaselineTest, DegreeDaysFromMeanTemperature) {
  // (18 − 5) × 2 days = 26 K·d; a mean above the balance point gives 0.
  EXPECT_DOUBLE_EQ(HeatingDegreeDaysFromMean(5, 18, 2), 26);
  EXPECT_DOUBLE_EQ(HeatingDegreeDaysFromMean(20, 18, 1), 0);
}

TEST(BaselineTest, Guideline14Limits) {
  EXPECT_EQ(Guideline14Limits(Granularity::kMonthly), std::make_pair(15.0, 5.0));
  EXPECT_EQ(Guideline14Limits(Granularity::kHourly), std::make_pair(30.0, 10.0));
  EXPECT_EQ(Guideline14Limits(Granularity::kDaily), std::make_pair(30.0, 10.0));
}

}  // namespace
}  // namespace weft::kpi

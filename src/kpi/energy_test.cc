#include "kpi/energy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"

namespace weft::kpi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMin = 60 * int64_t{1'000'000};
constexpr int64_t kStale12h = 12 * 60 * kMin;

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

TEST(EnergyPerUnit, SumsMetersInKwhOverGoodUnits) {
  // Window 05:00-13:00.
  //   conveyor (kWh, stale after 10 min): 100 at 04:55, 104 at 09:00, 110 at 12:59: +4 +6 =
  //     10 kWh, both increases across gaps longer than 10 min.
  //   press motor (kWh): 5000 at 04:00, 5020 at 08:00, 3 at 08:10 (meter reset: +3), 30 at
  //     12:00: 20 + 3 + 27 = 50 kWh.
  //   heat pump (MJ): 0 at 04:00, 72 at 12:00: 72 MJ = 72/3.6 = 20 kWh.
  //   a meter without data: listed, not counted as 0.
  //   good_count: 0 at 04:00, 400 at 12:59.
  // energy 10 + 50 + 20 = 80 kWh over 400 units = 0.2 kWh/unit.
  StepSeries conveyor = Series({{"04:55", 100}, {"09:00", 104}, {"12:59", 110}}, 10 * kMin);
  StepSeries press =
      Series({{"04:00", 5000}, {"08:00", 5020}, {"08:10", 3}, {"12:00", 30}}, kStale12h);
  StepSeries heat_pump = Series({{"04:00", 0}, {"12:00", 72}}, kStale12h);
  StepSeries good = Series({{"04:00", 0}, {"12:59", 400}}, kStale12h);
  const EnergyMeter meters[] = {{"l2-cv-05", &conveyor, "kWh"},
                                {"l2-pr-01", &press, "kWh"},
                                {"lyon-hz-05", &heat_pump, "MJ"},
                                {"l2-pr-02", nullptr, "kWh"}};
  Result<EnergyPerUnit> e = ComputeEnergyPerUnit(meters, good, Ts("05:00"), Ts("13:00"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_NEAR(e->energy_kwh, 80, 1e-9);
  EXPECT_NEAR(e->kwh_by_asset.at("l2-cv-05"), 10, 1e-9);
  EXPECT_NEAR(e->kwh_by_asset.at("l2-pr-01"), 50, 1e-9);
  EXPECT_NEAR(e->kwh_by_asset.at("lyon-hz-05"), 20, 1e-9);
  EXPECT_EQ(e->kwh_by_asset.count("l2-pr-02"), 0u);
  EXPECT_THAT(e->meters_without_data, ElementsAre("l2-pr-02"));
  EXPECT_NEAR(e->kwh_counted_across_gap, 10, 1e-9);
  EXPECT_EQ(e->counter_resets, 1);
  EXPECT_DOUBLE_EQ(e->good_units, 400);
  EXPECT_NEAR(*e->kwh_per_unit, 0.2, 1e-12);
}

TEST(EnergyPerUnit, NothingMadeIsUndefined) {
  StepSeries meter = Series({{"04:00", 0}, {"12:00", 5}}, kStale12h);
  StepSeries good = Series({{"04:00", 10}}, kStale12h);
  const EnergyMeter meters[] = {{"m", &meter, "kWh"}};
  Result<EnergyPerUnit> e = ComputeEnergyPerUnit(meters, good, Ts("05:00"), Ts("13:00"));
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->energy_kwh, 5);
  EXPECT_DOUBLE_EQ(e->good_units, 0);
  EXPECT_EQ(e->kwh_per_unit, std::nullopt);
}

TEST(EnergyPerUnit, UnitConversionAndErrors) {
  EXPECT_DOUBLE_EQ(KwhPer("kWh").value(), 1);
  EXPECT_NEAR(KwhPer("MJ").value(), 1 / 3.6, 1e-12);
  EXPECT_NEAR(KwhPer("Wh").value(), 0.001, 1e-15);
  Result<double> power = KwhPer("kW");
  ASSERT_FALSE(power.ok());
  EXPECT_THAT(power.status().message(), HasSubstr("not a unit of energy"));
  EXPECT_FALSE(KwhPer("bananas").ok());
  StepSeries s = Series({{"04:00", 0}}, kStale12h);
  const EnergyMeter meters[] = {{"l2-cv-01", &s, "kW"}};
  Result<EnergyPerUnit> e = ComputeEnergyPerUnit(meters, s, Ts("05:00"), Ts("13:00"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), HasSubstr("l2-cv-01"));
  EXPECT_FALSE(ComputeEnergyPerUnit({}, s, Ts("13:00"), Ts("05:00")).ok());
}

}  // namespace
}  // namespace weft::kpi

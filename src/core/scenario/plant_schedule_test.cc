#include "core/scenario/plant_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/plant_loader.h"
#include "testing/example_plant.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kMin = 60'000'000;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;
// 2026-11-01T00:00:00Z, a Sunday (day 20758; (20758 + 3) % 7 = 6, Monday = 0). Paris and Prague
// are at UTC+1 all November (summer time ended on 2026-10-25).
constexpr int64_t kNov1 = 1'793'491'200'000'000;
constexpr int64_t kMon = kNov1 + kDay;  // Monday 2026-11-02 00:00Z

PlantSchedule Make(const model::Plant& plant, PlantScheduleOptions o = {}) {
  auto s = PlantSchedule::Create(plant, kNov1, kNov1 + 30 * kDay, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

TEST(PlantScheduleTest, ProducesInsideTheSitesShiftsInLocalTime) {
  PlantSchedule s = Make(testing::ExamplePlant());
  // Lyon: early 06:00-14:00 and late 14:00-22:00 local, Monday to Friday = 05:00-21:00Z.
  EXPECT_FALSE(s.Producing("lyon", kNov1 + 12 * kHour));    // Sunday
  EXPECT_FALSE(s.Producing("lyon", kMon + 5 * kHour - 1));  // 05:59:59.999999 local
  EXPECT_TRUE(s.Producing("lyon", kMon + 5 * kHour));       // 06:00 local
  EXPECT_TRUE(s.Producing("lyon", kMon + 13 * kHour));      // shift change, still producing
  EXPECT_TRUE(s.Producing("lyon", kMon + 21 * kHour - 1));
  EXPECT_FALSE(s.Producing("lyon", kMon + 21 * kHour));            // 22:00 local
  EXPECT_FALSE(s.Producing("lyon", kMon + 5 * kDay + 6 * kHour));  // Saturday
  // Brno adds a night shift 22:00-06:00 starting Monday to Friday: Friday's ends Saturday
  // 06:00 local = 05:00Z; none starts on Sunday.
  EXPECT_TRUE(s.Producing("brno", kMon + 5 * kDay + 5 * kHour - 1));
  EXPECT_FALSE(s.Producing("brno", kMon + 5 * kDay + 5 * kHour));
  EXPECT_FALSE(s.Producing("brno", kMon + 4 * kHour));  // Monday 05:00 local: Sunday had none
  EXPECT_TRUE(s.Producing("brno", kMon + 22 * kHour));  // Monday 23:00 local: the night shift
  EXPECT_FALSE(s.Producing("nowhere", kMon + 6 * kHour));
  EXPECT_EQ(s.UtcOffsetHours("lyon", kMon), 1);
  EXPECT_EQ(s.UtcOffsetHours("brno", kMon), 1);
}

TEST(PlantScheduleTest, PlannedStopOpensEachWeeksFirstShift) {
  PlantSchedule s = Make(testing::ExamplePlant());
  // The first 30 min of Monday's early shift (05:00-05:30Z), in every week.
  EXPECT_TRUE(s.PlannedStop("lyon", kMon + 5 * kHour));
  EXPECT_TRUE(s.PlannedStop("lyon", kMon + 5 * kHour + 30 * kMin - 1));
  EXPECT_FALSE(s.PlannedStop("lyon", kMon + 5 * kHour + 30 * kMin));
  EXPECT_FALSE(s.PlannedStop("lyon", kMon + kDay + 5 * kHour));                 // Tuesday
  EXPECT_TRUE(s.PlannedStop("lyon", kMon + 7 * kDay + 5 * kHour + 10 * kMin));  // next Monday
  PlantScheduleOptions none;
  none.weekly_planned_stop = Micros(0);
  EXPECT_FALSE(Make(testing::ExamplePlant(), none).PlannedStop("lyon", kMon + 5 * kHour));
}

TEST(PlantScheduleTest, SitesWithoutShiftsProduceAroundTheClockWithoutPlannedStops) {
  Diagnostics diags;
  auto plant = model::ParsePlant(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  timezone: UTC
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: c1, type: conveyor, connection: {sparkplug: {group: g, node: n, device: c1}}}
)",
                                 "plant.yaml", &diags);
  ASSERT_TRUE(plant.ok()) << diags.ToString();
  PlantSchedule s = Make(*plant);
  for (int64_t t = kNov1; t < kNov1 + 8 * kDay; t += 7 * kHour + 13 * kMin) {
    EXPECT_TRUE(s.Producing("s1", t));
    EXPECT_FALSE(s.PlannedStop("s1", t));
  }
}

TEST(PlantScheduleTest, WeatherIsDeterministicVariesByDayAndHasADailyCycle) {
  PlantScheduleOptions o;
  o.weather.seed = 7;
  o.weather.amplitude_c = 10;
  o.weather.anomaly_stddev_c = 0.5;
  PlantSchedule a = Make(testing::ExamplePlant(), o);
  PlantSchedule b = Make(testing::ExamplePlant(), o);
  o.weather.seed = 8;
  PlantSchedule c = Make(testing::ExamplePlant(), o);
  bool other_seed_differs = false, days_differ = false;
  const double noon1 = a.OutdoorTemp("lyon", kNov1 + 11 * kHour);  // 12:00 local
  for (int d = 0; d < 30; ++d) {
    const int64_t t = kNov1 + d * kDay + 11 * kHour;
    EXPECT_EQ(a.OutdoorTemp("lyon", t), b.OutdoorTemp("lyon", t));
    other_seed_differs |= a.OutdoorTemp("lyon", t) != c.OutdoorTemp("lyon", t);
    days_differ |= std::abs(a.OutdoorTemp("lyon", t) - noon1) > 0.1;
    // 15:00 local is the warmest hour, 03:00 the coldest: 2 x amplitude (20 K) apart, less the
    // drift of the daily mean over 12 h (trend 0.075 K, anomalies of a few tenths).
    const double warm = a.OutdoorTemp("lyon", kNov1 + d * kDay + 14 * kHour);
    const double cold = a.OutdoorTemp("lyon", kNov1 + d * kDay + 2 * kHour);
    EXPECT_GT(warm - cold, 17) << "day " << d;
  }
  EXPECT_TRUE(other_seed_differs);
  EXPECT_TRUE(days_differ);
  // Sites have their own weather.
  EXPECT_NE(a.OutdoorTemp("lyon", kNov1 + 11 * kHour), a.OutdoorTemp("brno", kNov1 + 11 * kHour));
  EXPECT_TRUE(std::isnan(a.OutdoorTemp("nowhere", kNov1)));
}

}  // namespace
}  // namespace weft::core::scenario

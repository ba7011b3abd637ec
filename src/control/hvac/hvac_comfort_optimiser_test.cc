#include "control/hvac/hvac_comfort_optimiser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "twin/hvac_zone_twin.h"

namespace weft::control {
namespace {

using Inputs = std::map<std::string, double>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Monday 2026-01-05 00:00 UTC: the twin's day 0 is a Monday, so its weekday occupancy and the
// optimiser's calendar agree.
const TimePoint kMonday = TimeFromUnixMicros(1'767'571'200'000'000);

TimePoint At(int day, double hour) {
  return kMonday + Micros(static_cast<int64_t>((day * 24 + hour) * 3600e6));
}

struct WeekResult {
  double energy_kwh = 0;
  int occupied_min = 0;
  int violation_min = 0;
  double min_written = 1e9;
  double max_written = -1e9;
  double comfort() const {
    return occupied_min == 0 ? 1.0 : 1.0 - static_cast<double>(violation_min) / occupied_min;
  }
};

//! One week of a default zone at 60 s steps. `policy` gives the setpoint from the zone's
//! outputs; with `envelope`, the setpoint is clamped to [16, 23] and moved by at most 1 K per
//! minute, as the control loop's safety envelope does.
WeekResult RunWeek(const std::function<double(TimePoint, const Inputs&)>& policy, uint64_t seed,
                   bool envelope, twin::HvacZoneTwin::Params params = {}) {
  auto zone = twin::HvacZoneTwin::Create(params).value();
  twin::Rng rng(seed);
  WeekResult r;
  double written = 21;
  for (int minute = 0; minute < 7 * 1440; ++minute) {
    TimePoint now = kMonday + std::chrono::minutes(minute);
    Inputs in{{"zone_temp", *zone->Output("zone_temp")},
              {"outdoor_temp", *zone->Output("outdoor_temp")},
              {"occupancy", *zone->Output("occupancy")},
              {"heat_pump_power", *zone->Output("heat_pump_power")}};
    double sp = policy(now, in);
    if (envelope) {
      sp = std::clamp(sp, 16.0, 23.0);
      sp = std::clamp(sp, written - 1.0, written + 1.0);
    }
    written = sp;
    r.min_written = std::min(r.min_written, sp);
    r.max_written = std::max(r.max_written, sp);
    EXPECT_TRUE(zone->SetInput("setpoint", sp).ok());
    zone->Step(60, rng);
    if (*zone->Output("occupancy") > 0) {
      ++r.occupied_min;
      double t = *zone->Output("zone_temp");
      if (t < 20 || t > 24) ++r.violation_min;
    }
  }
  r.energy_kwh = *zone->Output("heat_pump_energy");
  return r;
}

double FixedSchedule(TimePoint now, const Inputs&) {
  double hour = std::fmod(static_cast<double>(UnixMicros(now)) / 3600e6, 24.0);
  return hour >= 6 && hour < 20 ? 21.0 : 18.0;
}

TEST(HvacComfortOptimiser, SavesTenPercentAndKeepsComfortOverAWeekOnTheTwin) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    WeekResult fixed = RunWeek(FixedSchedule, seed, /*envelope=*/false);
    HvacComfortOptimiser opt(HvacComfortParams{});
    int early_setback_min = 0;
    WeekResult optimised = RunWeek(
        [&](TimePoint now, const Inputs& in) {
          double sp = opt.Propose(now, in).value();
          early_setback_min += opt.phase() == HvacComfortOptimiser::Phase::kEarlySetback;
          return sp;
        },
        seed, /*envelope=*/true);
    std::printf("seed %llu: early setback minutes %d\n", static_cast<unsigned long long>(seed),
                early_setback_min);
    double saved = 1 - optimised.energy_kwh / fixed.energy_kwh;
    std::printf(
        "seed %llu: fixed %.1f kWh comfort %.3f; optimiser %.1f kWh comfort %.3f "
        "(%d violation min); saved %.1f%%; preheats learned %zu\n",
        static_cast<unsigned long long>(seed), fixed.energy_kwh, fixed.comfort(),
        optimised.energy_kwh, optimised.comfort(), optimised.violation_min, 100 * saved,
        opt.preheats().size());
    EXPECT_GE(saved, 0.10) << "seed " << seed;
    EXPECT_GE(optimised.comfort(), 0.95) << "seed " << seed;
    EXPECT_GE(optimised.min_written, 16);
    EXPECT_LE(optimised.max_written, 23);
    EXPECT_GE(opt.preheats().size(), 3u) << "a preheat is learned every weekday morning";
  }
}

TEST(HvacComfortOptimiser, KeepsComfortInAColdWeek) {
  twin::HvacZoneTwin::Params cold;
  cold.outdoor_mean_temp_c = -5;
  cold.outdoor_temp_amplitude = 4;
  WeekResult fixed = RunWeek(FixedSchedule, 4, false, cold);
  HvacComfortOptimiser opt(HvacComfortParams{});
  WeekResult optimised = RunWeek(
      [&](TimePoint now, const Inputs& in) { return opt.Propose(now, in).value(); }, 4, true, cold);
  std::printf("cold week: fixed %.1f kWh comfort %.3f; optimiser %.1f kWh comfort %.3f\n",
              fixed.energy_kwh, fixed.comfort(), optimised.energy_kwh, optimised.comfort());
  EXPECT_GE(optimised.comfort(), 0.95);
  EXPECT_LT(optimised.energy_kwh, fixed.energy_kwh);
}

TEST(HvacComfortOptimiser, SetsBackAtNightAndOnWeekendsAndHolidays) {
  HvacComfortParams p;
  p.holidays = {"2026-01-07"};  // the Wednesday
  HvacComfortOptimiser opt(p);
  Inputs warm{{"zone_temp", 20.5}, {"outdoor_temp", 5}, {"occupancy", 0}};
  EXPECT_EQ(opt.Propose(At(0, 1), warm).value(), 16);  // Monday 01:00
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kSetback);
  EXPECT_EQ(opt.Propose(At(2, 10), warm).value(), 16);  // the holiday, 10:00
  EXPECT_EQ(opt.Propose(At(5, 10), warm).value(), 16);  // Saturday 10:00
  EXPECT_EQ(opt.Propose(At(6, 12), warm).value(), 16);  // Sunday noon
  double sp = opt.Propose(At(3, 10), warm).value();     // Thursday 10:00
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kComfort);
  EXPECT_NEAR(sp, 20.5, 0.01);                          // at the target: lo + margin
  EXPECT_EQ(opt.Propose(At(3, 19), warm).value(), 16);  // after hours
}

TEST(HvacComfortOptimiser, BoostsWhenColdAndEasesOffWhenWarm) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  double cold = opt.Propose(At(0, 9), {{"zone_temp", 18.0}}).value();
  EXPECT_NEAR(cold, 23.0, 1e-9) << "2.5 K below the target: boost, capped at max_setpoint";
  double warm = opt.Propose(At(0, 9.1), {{"zone_temp", 22.0}}).value();
  EXPECT_LT(warm, 20.5) << "above the target: the setpoint drops below it, the heat pump rests";
  EXPECT_GE(warm, 16.0);
}

TEST(HvacComfortOptimiser, IntegratesTheThermostatDroop) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  // The zone sits 0.5 K under the target (a proportional thermostat's droop): the trim grows.
  double first = opt.Propose(At(0, 9), {{"zone_temp", 20.0}}).value();
  double later = first;
  for (int i = 1; i <= 30; ++i) {
    later = opt.Propose(At(0, 9 + i / 60.0), {{"zone_temp", 20.0}}).value();
  }
  EXPECT_GT(opt.trim(), 0.4);
  EXPECT_GT(later, first + 0.4);
}

TEST(HvacComfortOptimiser, LivePeopleOutsideTheScheduleGetComfort) {
  HvacComfortParams p;
  p.occupancy_hold = 30;
  HvacComfortOptimiser opt(p);
  Inputs people{{"zone_temp", 19.0}, {"outdoor_temp", 5}, {"occupancy", 4}};
  Inputs empty{{"zone_temp", 19.0}, {"outdoor_temp", 5}, {"occupancy", 0}};
  EXPECT_EQ(opt.Propose(At(5, 11), empty).value(), 16);       // Saturday, nobody
  EXPECT_GT(opt.Propose(At(5, 11.1), people).value(), 20.5);  // Saturday, people came in
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kComfort);
  EXPECT_GT(opt.Propose(At(5, 11.5), empty).value(), 20.5);  // left 24 min ago: still held
  EXPECT_EQ(opt.Propose(At(5, 12), empty).value(), 16);      // left 54 min ago: setback
}

TEST(HvacComfortOptimiser, MissingInputsDegradeTowardComfort) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  // No zone temperature at all: occupied -> above the target; before a workday -> the longest
  // preheat (max_preheat 4 h): 05:00 preheats for 08:00.
  double occupied = opt.Propose(At(0, 9), {}).value();
  EXPECT_GE(occupied, 21.5);
  EXPECT_LE(occupied, 23);
  HvacComfortOptimiser opt2(HvacComfortParams{});
  double early = opt2.Propose(At(1, 5), {{"zone_temp", kNaN}, {"outdoor_temp", kNaN}}).value();
  EXPECT_EQ(opt2.phase(), HvacComfortOptimiser::Phase::kPreheat);
  EXPECT_GE(early, 21.5);
  // Garbage values are ignored like missing ones: always a finite setpoint in range.
  HvacComfortOptimiser opt3(HvacComfortParams{});
  for (double v : {kNaN, std::numeric_limits<double>::infinity(), -1e300, 1e300}) {
    double sp =
        opt3.Propose(
                At(0, 10),
                {{"zone_temp", v}, {"occupancy", v}, {"outdoor_temp", v}, {"heat_pump_power", v}})
            .value();
    EXPECT_TRUE(std::isfinite(sp));
    EXPECT_GE(sp, 16);
    EXPECT_LE(sp, 23);
  }
}

TEST(HvacComfortOptimiser, OptimalStartLearnsTheHeatingRate) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  Inputs night{{"zone_temp", 16.5}, {"outdoor_temp", 2}};
  // Prior 2 K/h: a 4 K deficit needs 1.3 * 4 / 2 + 10 min = 2.77 h: not at 05:00, yes at 05:20.
  EXPECT_EQ(opt.Propose(At(0, 5.0), night).value(), 16);
  opt.Propose(At(0, 5.34), night).value();
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kPreheat);
  // The zone reaches the target after 30 minutes: 8 K/h learned.
  opt.Propose(At(0, 5.6), {{"zone_temp", 19}, {"outdoor_temp", 2}}).value();
  opt.Propose(At(0, 5.84), {{"zone_temp", 20.5}, {"outdoor_temp", 2}}).value();
  ASSERT_EQ(opt.preheats().size(), 1u);
  EXPECT_NEAR(opt.preheats()[0][1], 4.0 / 0.5, 0.1);
  // Next morning the same deficit starts 1.3 * 4 / 8 + 10 min = 0.82 h before 08:00.
  opt.Propose(At(1, 2), night).value();
  opt.Propose(At(1, 7.1), night).value();
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kSetback);
  opt.Propose(At(1, 7.25), night).value();
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kPreheat);
}

TEST(HvacComfortOptimiser, HeatingRateFollowsOutdoorTemperature) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  // Three preheats at -4, 0 and 4 degC taking 1 h, 40 min and 30 min for 4 K.
  struct Morning {
    int day;
    double outdoor;
    double hours;
  };
  for (Morning m : {Morning{0, -4, 1.0}, Morning{1, 0, 2.0 / 3}, Morning{2, 4, 0.5}}) {
    // Minute by minute from 02:00; once the optimiser starts its preheat the zone rises
    // linearly by 4 K in m.hours.
    bool started = false;
    double t0 = 0;
    for (double h = 2; h < 8.5; h += 1.0 / 60) {
      double zone = started ? std::min(20.5, 16.5 + 4 * (h - t0) / m.hours) : 16.5;
      opt.Propose(At(m.day, h), {{"zone_temp", zone}, {"outdoor_temp", m.outdoor}}).value();
      if (!started && opt.phase() == HvacComfortOptimiser::Phase::kPreheat) {
        started = true;
        t0 = h;
      }
    }
    ASSERT_TRUE(started);
  }
  ASSERT_EQ(opt.preheats().size(), 3u);
  double cold = opt.ExpectedHeatingRate(-4);
  double mild = opt.ExpectedHeatingRate(4);
  EXPECT_LT(cold, mild);
  EXPECT_NEAR(cold, 4.0, 0.8);
  EXPECT_NEAR(mild, 8.0, 0.8);
  // Without the outdoor temperature the slowest rate seen is used.
  EXPECT_NEAR(opt.ExpectedHeatingRate(kNaN), 4.0, 0.1);
}

TEST(HvacComfortOptimiser, EarlySetbackOnlyWhenTheObservedCoastAllowsIt) {
  HvacComfortParams p;
  p.early_setback = 60;
  HvacComfortOptimiser opt(p);
  auto day = [&](int d, double warm_zone, double cool_per_h) {
    // Occupied day at `warm_zone`; after 18:00 the zone cools at `cool_per_h` with the heat
    // pump off. Returns the hour the optimiser set back (24 when it did not before 18).
    double released = 24;
    for (double h = 7; h < 20; h += 1.0 / 60) {
      double zone = warm_zone;
      if (h >= 18) zone = warm_zone - cool_per_h * (h - 18);
      if (released < 18 && h < 18) zone = warm_zone - cool_per_h * (h - released);
      opt.Propose(At(d, h), {{"zone_temp", zone}, {"outdoor_temp", 5}, {"heat_pump_power", 0}})
          .value();
      if (released == 24 && h < 18 && opt.phase() == HvacComfortOptimiser::Phase::kEarlySetback) {
        released = h;
      }
    }
    return released;
  };
  // Day 1: nothing learned yet: no early setback.
  EXPECT_EQ(day(0, 21.5, 0.5), 24);
  // Day 2: a slow coast was seen (0.5 K/h from 21.5): 1 h of coasting leaves 21.5 - 1.3*0.5 =
  // 20.85 >= 20.2: it sets back at 17:00.
  double released = day(1, 21.5, 0.5);
  EXPECT_NEAR(released, 17.0, 0.05);
  // A fast-cooling building (3 K/h) never coasts from 20.5.
  HvacComfortOptimiser fast(HvacComfortParams{});
  for (int d = 0; d < 3; ++d) {
    for (double h = 7; h < 20; h += 1.0 / 60) {
      double zone = h >= 18 ? 20.5 - 3 * (h - 18) : 20.5;
      fast.Propose(At(d, h), {{"zone_temp", zone}, {"outdoor_temp", 5}, {"heat_pump_power", 0}})
          .value();
      if (h < 18) {
        EXPECT_NE(fast.phase(), HvacComfortOptimiser::Phase::kEarlySetback) << d << " " << h;
      }
    }
  }
}

TEST(HvacComfortOptimiser, EarlySetbackEndsWhenTheZoneGetsTooCool) {
  HvacComfortOptimiser opt(HvacComfortParams{});
  // Learn a slow coast on Monday evening.
  for (double h = 17; h < 20.5; h += 1.0 / 60) {
    double zone = h >= 18 ? 21.5 - 0.3 * (h - 18) : 21.5;
    opt.Propose(At(0, h), {{"zone_temp", zone}, {"heat_pump_power", 0}}).value();
  }
  opt.Propose(At(1, 17.0), {{"zone_temp", 21.5}}).value();
  ASSERT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kEarlySetback);
  // It cools faster than seen: at 20.1 (< 20 + guard 0.2) comfort comes back for the day.
  opt.Propose(At(1, 17.3), {{"zone_temp", 20.1}}).value();
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kComfort);
  opt.Propose(At(1, 17.5), {{"zone_temp", 21.5}}).value();
  EXPECT_EQ(opt.phase(), HvacComfortOptimiser::Phase::kComfort);
}

TEST(HvacComfortOptimiser, ParsesAndValidatesParams) {
  OptimiserSource src;
  src.kind = "hvac_comfort";
  src.path = "control.loops[0].source.optimiser";
  src.where = {"edge.yaml", 12, 9};
  auto param = [](ParamValue v, std::string name) {
    return OptimiserParam{std::move(v), {"edge.yaml", 13, 20}, "control.loops[0].source." + name};
  };
  src.params.emplace("comfort", param(std::vector<double>{19.5, 23}, "comfort"));
  src.params.emplace("days", param(std::vector<std::string>{"mon", "Tue", "wed"}, "days"));
  src.params.emplace("hours", param(std::vector<double>{7, 17}, "hours"));
  src.params.emplace("holidays", param(std::vector<std::string>{"2026-12-25"}, "holidays"));
  src.params.emplace("setback", param(15.0, "setback"));
  Result<HvacComfortParams> p = ParseHvacComfortParams(src);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->comfort_lo, 19.5);
  EXPECT_EQ(p->comfort_hi, 23);
  EXPECT_EQ(p->days, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p->start_hour, 7);
  EXPECT_EQ(p->setback, 15);
  ASSERT_TRUE(MakeHvacComfortOptimiser(src).ok());

  OptimiserSource unknown = src;
  unknown.params.emplace("comfrot", param(1.0, "comfrot"));
  Result<HvacComfortParams> u = ParseHvacComfortParams(unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("edge.yaml:13:20"), std::string::npos);
  EXPECT_NE(u.status().message().find("comfrot"), std::string::npos);

  OptimiserSource inverted = src;
  inverted.params.at("comfort").value = std::vector<double>{24, 20};
  EXPECT_EQ(ParseHvacComfortParams(inverted).status().code(), StatusCode::kInvalidArgument);
  OptimiserSource bad_day = src;
  bad_day.params.at("days").value = std::vector<std::string>{"funday"};
  EXPECT_FALSE(ParseHvacComfortParams(bad_day).ok());
  OptimiserSource bad_date = src;
  bad_date.params.at("holidays").value = std::vector<std::string>{"2026-02-30"};
  EXPECT_FALSE(ParseHvacComfortParams(bad_date).ok());
  OptimiserSource wrong_type = src;
  wrong_type.params.at("setback").value = std::string("cold");
  EXPECT_FALSE(ParseHvacComfortParams(wrong_type).ok());
  OptimiserSource high_setback = src;
  high_setback.params.at("setback").value = 21.0;
  EXPECT_FALSE(ParseHvacComfortParams(high_setback).ok());
  OptimiserSource other_kind = src;
  other_kind.kind = "chiller";
  EXPECT_FALSE(ParseHvacComfortParams(other_kind).ok());
}

TEST(HvacComfortOptimiser, RegistersWithTheOptimiserRegistry) {
  RegisterHvacComfortOptimiser();
  OptimiserSource src;
  src.kind = "hvac_comfort";
  Result<std::unique_ptr<SetpointSource>> s = MakeOptimiser(src);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->name(), "hvac_comfort");
  EXPECT_EQ((*s)->version(), HvacComfortOptimiser::kVersion);
}

}  // namespace
}  // namespace weft::control

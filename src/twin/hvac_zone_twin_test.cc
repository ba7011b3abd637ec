#include "twin/hvac_zone_twin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace weft::twin {
namespace {

double Out(const Twin& twin, std::string_view name) {
  return twin.Output(name).value();
}

// A zone with fixed outdoor temperature and occupancy, the heat pump off unless a test turns
// it on.
std::unique_ptr<HvacZoneTwin> Fixed(double outdoor_c, double persons,
                                    HvacZoneTwin::Params params = {}) {
  std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(params).value();
  EXPECT_TRUE(zone->SetInput("outdoor_temp_override", outdoor_c).ok());
  EXPECT_TRUE(zone->SetInput("occupancy_override", persons).ok());
  EXPECT_TRUE(zone->SetInput("heat_pump_enabled", 0).ok());
  return zone;
}

// Steady state of the 2R2C network for heat q_w into the air node, by Cramer's rule on
//   -(1/R_am + 1/R_ao)·T_a + T_m/R_am = -q - T_o/R_ao
//   T_a/R_am - (1/R_am + 1/R_mo)·T_m  = -T_o/R_mo
struct Temps {
  double air;
  double mass;
};
Temps SteadyState(const HvacZoneTwin::Params& p, double outdoor_c, double q_w) {
  const double a11 = -(1 / p.r_air_mass + 1 / p.r_air_outdoor);
  const double a12 = 1 / p.r_air_mass;
  const double a21 = 1 / p.r_air_mass;
  const double a22 = -(1 / p.r_air_mass + 1 / p.r_mass_outdoor);
  const double b1 = -q_w - outdoor_c / p.r_air_outdoor;
  const double b2 = -outdoor_c / p.r_mass_outdoor;
  const double det = a11 * a22 - a12 * a21;
  return {(b1 * a22 - a12 * b2) / det, (a11 * b2 - b1 * a21) / det};
}

TEST(HvacZoneTwin, SteadyStateWithConstantGainsMatchesTheLinearSystem) {
  std::unique_ptr<HvacZoneTwin> zone = Fixed(-2, 20);
  const HvacZoneTwin::Params& p = zone->params();
  Rng rng(1);
  for (int i = 0; i < 60 * 24; ++i) zone->Step(3600, rng);  // 60 days, many slow time constants
  const Temps expected = SteadyState(p, -2, 20 * p.heat_gain_per_person);
  EXPECT_NEAR(zone->air_temp_c(), expected.air, 1e-9);
  EXPECT_NEAR(zone->mass_temp_c(), expected.mass, 1e-9);
  EXPECT_NEAR(Out(*zone, "zone_temp"), expected.air, 1e-9);
  EXPECT_EQ(Out(*zone, "heat_pump_power"), 0);
  EXPECT_EQ(Out(*zone, "outdoor_temp"), -2);
  EXPECT_EQ(Out(*zone, "occupancy"), 20);
}

TEST(HvacZoneTwin, SaturatedHeatPumpIsAConstantHeatInput) {
  HvacZoneTwin::Params params;
  params.heat_pump_max_power_kw = 1;
  std::unique_ptr<HvacZoneTwin> zone = Fixed(0, 0, params);
  ASSERT_TRUE(zone->SetInput("heat_pump_enabled", 1).ok());
  ASSERT_TRUE(zone->SetInput("setpoint", 35).ok());
  Rng rng(1);
  for (int i = 0; i < 60 * 24; ++i) zone->Step(3600, rng);
  // COP = 0.45·308.15/(35 - 0) at 0 degC outdoor.
  const double cop = 0.45 * 308.15 / 35;
  EXPECT_NEAR(zone->Cop(0), cop, 1e-12);
  const Temps expected = SteadyState(params, 0, cop * 1000);
  EXPECT_LT(expected.air, 35);  // so the thermostat asks for more than P_max all along
  EXPECT_NEAR(zone->air_temp_c(), expected.air, 1e-9);
  EXPECT_NEAR(zone->mass_temp_c(), expected.mass, 1e-9);
  EXPECT_NEAR(Out(*zone, "heat_pump_power"), 1, 1e-12);
  EXPECT_NEAR(Out(*zone, "cop"), cop, 1e-12);
  EXPECT_NEAR(Out(*zone, "supply_air_temp"),
              expected.air + cop * 1000 / params.supply_air_conductance, 1e-9);
  EXPECT_NEAR(Out(*zone, "heat_pump_energy"), 60 * 24, 1e-6);
  EXPECT_EQ(Out(*zone, "setpoint"), 35);
}

TEST(HvacZoneTwin, ProportionalThermostatSettlesWithItsDroop) {
  std::unique_ptr<HvacZoneTwin> zone = Fixed(5, 0);
  const HvacZoneTwin::Params& p = zone->params();
  ASSERT_TRUE(zone->SetInput("heat_pump_enabled", 1).ok());
  ASSERT_TRUE(zone->SetInput("setpoint", 21).ok());
  Rng rng(1);
  for (int i = 0; i < 60 * 24; ++i) zone->Step(3600, rng);
  // Q = COP·K_p·(T_set - T_a) = (T_a - T_o)/R_eff.
  const double ua = 1 / p.r_air_outdoor + 1 / (p.r_air_mass + p.r_mass_outdoor);
  const double gain = zone->Cop(5) * p.thermostat_gain * 1000;
  const double expected = (gain * 21 + ua * 5) / (gain + ua);
  EXPECT_NEAR(zone->air_temp_c(), expected, 1e-9);
  EXPECT_LT(expected, 21);
  EXPECT_GT(expected, 20.4);
  EXPECT_NEAR(Out(*zone, "heat_pump_power"), p.thermostat_gain * (21 - expected), 1e-9);
}

TEST(HvacZoneTwin, WithoutHeatTheZoneDecaysWithTheSystemTimeConstants) {
  std::unique_ptr<HvacZoneTwin> zone = Fixed(0, 0);
  const HvacZoneTwin::Params& p = zone->params();
  // Eigen-decomposition of A, independently of the twin.
  const double a = -(1 / p.r_air_mass + 1 / p.r_air_outdoor) / p.air_capacitance;
  const double b = 1 / (p.r_air_mass * p.air_capacitance);
  const double c = 1 / (p.r_air_mass * p.mass_capacitance);
  const double d = -(1 / p.r_air_mass + 1 / p.r_mass_outdoor) / p.mass_capacitance;
  const double tr = a + d;
  const double det = a * d - b * c;
  const double disc = std::sqrt(tr * tr / 4 - det);
  const double l1 = tr / 2 - disc;  // fast
  const double l2 = det / l1;       // slow
  const auto taus = zone->TimeConstants();
  EXPECT_NEAR(taus[0], -1 / l1, 1e-9 * -1 / l1);
  EXPECT_NEAR(taus[1], -1 / l2, 1e-9 * -1 / l2);
  EXPECT_NEAR(taus[0] / 60, 14.9, 0.1);    // minutes: the air with the surfaces
  EXPECT_NEAR(taus[1] / 3600, 40.2, 0.1);  // hours: the building mass
  // x(t) = c1·v1·e^{λ1·t} + c2·v2·e^{λ2·t}, v_i = (b, λ_i - a), x(0) = (20, 20).
  const double x0 = p.initial_temp_c;
  const double c2 = (x0 - x0 * (l1 - a) / b) / ((l2 - a) - (l1 - a));
  const double c1 = (x0 / b) - c2;
  auto air = [&](double t) { return c1 * b * std::exp(l1 * t) + c2 * b * std::exp(l2 * t); };
  auto mass = [&](double t) {
    return c1 * (l1 - a) * std::exp(l1 * t) + c2 * (l2 - a) * std::exp(l2 * t);
  };
  Rng rng(1);
  double t = 0;
  for (double until : {600.0, 3600.0, 86400.0, 864000.0}) {
    while (t < until) {
      zone->Step(60, rng);
      t += 60;
    }
    EXPECT_NEAR(zone->air_temp_c(), air(t), 1e-9) << t;
    EXPECT_NEAR(zone->mass_temp_c(), mass(t), 1e-9) << t;
  }
  EXPECT_NEAR(zone->air_temp_c(), 0, 0.1);  // six slow time constants
}

TEST(HvacZoneTwin, StepSizeDoesNotChangeTheLinearResponse) {
  std::unique_ptr<HvacZoneTwin> fine = Fixed(-5, 10);
  std::unique_ptr<HvacZoneTwin> coarse = Fixed(-5, 10);
  Rng rng(1);
  for (int i = 0; i < 36000; ++i) fine->Step(1, rng);
  for (int i = 0; i < 10; ++i) coarse->Step(3600, rng);
  EXPECT_NEAR(fine->air_temp_c(), coarse->air_temp_c(), 1e-9);
  EXPECT_NEAR(fine->mass_temp_c(), coarse->mass_temp_c(), 1e-9);
  EXPECT_NEAR(Out(*fine, "co2"), Out(*coarse, "co2"), 1e-6);
}

TEST(HvacZoneTwin, Co2RisesWithOccupancyAsAFirstOrderStep) {
  std::unique_ptr<HvacZoneTwin> zone = Fixed(0, 20);
  const HvacZoneTwin::Params& p = zone->params();
  const double tau = 3600 / p.air_change_rate;
  const double fresh_m3s = p.zone_volume_m3 * p.air_change_rate / 3600;
  const double rise = 20 * p.co2_per_person / 1000 / fresh_m3s * 1e6;
  EXPECT_NEAR(rise, 624, 1e-9);
  Rng rng(1);
  for (int i = 0; i < 60; ++i) zone->Step(tau / 60, rng);
  EXPECT_NEAR(Out(*zone, "co2"), p.outdoor_co2 + 0.6321205588285577 * rise, 1e-9);
}

TEST(HvacZoneTwin, HumidityStaysInRangeAndRisesWithOccupancy) {
  std::unique_ptr<HvacZoneTwin> empty = Fixed(5, 0);
  std::unique_ptr<HvacZoneTwin> full = Fixed(5, 50);
  Rng rng(1);
  for (int i = 0; i < 48; ++i) {
    empty->Step(1800, rng);
    full->Step(1800, rng);
    for (const HvacZoneTwin* z : {empty.get(), full.get()}) {
      const double rh = Out(*z, "zone_humidity");
      EXPECT_GE(rh, 0);
      EXPECT_LE(rh, 100);
    }
  }
  // Without people the zone air is outdoor air (80 %RH at 5 degC) warmed to the zone
  // temperature: drier in relative terms.
  EXPECT_LT(Out(*empty, "zone_humidity"), 80);
  // Same warmth from 50 people raises both temperature and moisture; check absolute moisture via
  // the dew point ordering: more people, more vapour.
  const double t_full = Out(*full, "zone_temp");
  const double t_empty = Out(*empty, "zone_temp");
  auto vapour = [](double rh, double t) {
    return rh / 100 * 610.94 * std::exp(17.625 * t / (t + 243.04));
  };
  EXPECT_GT(vapour(Out(*full, "zone_humidity"), t_full),
            vapour(Out(*empty, "zone_humidity"), t_empty));
}

TEST(HvacZoneTwin, OutdoorTemperatureIsADailySinusoid) {
  std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(HvacZoneTwin::Params{}).value();
  const HvacZoneTwin::Params& p = zone->params();
  EXPECT_NEAR(zone->OutdoorTemp(15 * 3600), p.outdoor_mean_temp_c + p.outdoor_temp_amplitude,
              1e-12);
  EXPECT_NEAR(zone->OutdoorTemp(3 * 3600), p.outdoor_mean_temp_c - p.outdoor_temp_amplitude, 1e-12);
  EXPECT_NEAR(zone->OutdoorTemp(3 * 3600 + 7 * 86400), zone->OutdoorTemp(3 * 3600), 1e-9);
  Rng rng(1);
  for (int i = 0; i < 15 * 60; ++i) zone->Step(60, rng);
  EXPECT_NEAR(Out(*zone, "outdoor_temp"), 10, 1e-9);
  // An override fixes it; NaN returns to the sinusoid.
  ASSERT_TRUE(zone->SetInput("outdoor_temp_override", -12).ok());
  zone->Step(60, rng);
  EXPECT_EQ(Out(*zone, "outdoor_temp"), -12);
  ASSERT_TRUE(zone->SetInput("outdoor_temp_override", std::nan("")).ok());
  zone->Step(60, rng);
  EXPECT_NEAR(Out(*zone, "outdoor_temp"), zone->OutdoorTemp(15 * 3600 + 120), 1e-12);
}

TEST(HvacZoneTwin, OccupancyFollowsTheWeekdaySchedule) {
  std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(HvacZoneTwin::Params{}).value();
  const HvacZoneTwin::Params& p = zone->params();
  Rng rng(1);
  double t = 0;
  auto advance_to = [&](double until) {
    while (t < until) {
      zone->Step(300, rng);
      t += 300;
    }
  };
  double weekday_people = 0;
  for (int day = 0; day < 7; ++day) {
    advance_to(day * 86400.0 + 7 * 3600);  // 07:00
    EXPECT_EQ(Out(*zone, "occupancy"), 0) << day;
    advance_to(day * 86400.0 + 12 * 3600);  // 12:00
    const double people = Out(*zone, "occupancy");
    if (day < 5) {
      EXPECT_GT(people, 0) << day;
      EXPECT_LE(people, p.design_occupancy) << day;
      EXPECT_EQ(people, std::round(people));
      weekday_people += people;
    } else {
      EXPECT_EQ(people, 0) << day;  // weekend
    }
    advance_to(day * 86400.0 + 19 * 3600);  // 19:00
    EXPECT_EQ(Out(*zone, "occupancy"), 0) << day;
  }
  EXPECT_NEAR(weekday_people / 5, p.design_occupancy * p.attendance_mean, 5);
  EXPECT_TRUE(zone->Occupied(10 * 3600));
  EXPECT_FALSE(zone->Occupied(5 * 86400 + 10 * 3600));  // Saturday
}

TEST(HvacZoneTwin, CopFollowsCarnotWithinItsClamp) {
  std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(HvacZoneTwin::Params{}).value();
  EXPECT_NEAR(zone->Cop(-10), 0.45 * 308.15 / 45, 1e-12);
  EXPECT_EQ(zone->Cop(30), 7);  // 27.7 clamped
  EXPECT_EQ(zone->Cop(40), 7);  // no lift at all
  HvacZoneTwin::Params params;
  params.carnot_efficiency = 0.05;
  EXPECT_EQ(HvacZoneTwin::Create(params).value()->Cop(-20), 1);
}

TEST(HvacZoneTwin, SetpointLimits) {
  std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(HvacZoneTwin::Params{}).value();
  EXPECT_EQ(zone->SetInput("setpoint", 4.9).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(zone->SetInput("setpoint", 35.1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(zone->SetInput("setpoint", std::nan("")).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(zone->SetInput("setpoint", 5).ok());
  EXPECT_TRUE(zone->SetInput("setpoint", 35).ok());
  EXPECT_EQ(zone->SetInput("occupancy_override", -1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(zone->SetInput("outdoor_temp_override", 70).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(zone->SetInput("heat_pump_enabled", 0.5).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(zone->InjectFault(FaultKind::kBearingWear, 1).code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace weft::twin

#include "twin/pump_twin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace weft::twin {
namespace {

constexpr double kG = 9.80665;

std::unique_ptr<PumpTwin> Quiet(PumpTwin::Params p = {}) {
  p.vibration_noise = 0;
  return PumpTwin::Create(p).value();
}

double Out(const Twin& twin, std::string_view name) {
  return twin.Output(name).value();
}

// Head from the pressure transmitters (m).
double HeadFromPressures(const PumpTwin& pump) {
  return (Out(pump, "discharge_pressure") - Out(pump, "suction_pressure")) * 1e5 /
         (pump.params().density * kG);
}

TEST(PumpTwin, DesignPointIsTheIntersectionOfTheCurves) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  Rng rng(1);
  pump->Step(1, rng);
  // H0 - k·Q² = H_s + k_sys·Q²  =>  Q = sqrt((50 - 10)/(0.001 + 0.003)) = 100 m3/h, H = 40 m.
  const double q = std::sqrt((p.shutoff_head_m - p.static_head_m) /
                             (p.pump_curve_coefficient + p.system_coefficient));
  EXPECT_NEAR(q, 100, 1e-12);
  EXPECT_NEAR(Out(*pump, "flow"), q, 1e-9);
  EXPECT_NEAR(pump->head_m(), 40, 1e-9);
  EXPECT_NEAR(HeadFromPressures(*pump), 40, 1e-9);
  EXPECT_NEAR(pump->efficiency(), p.bep_efficiency, 1e-12);  // the default system meets the BEP
  const double shaft_w = p.density * kG * (q / 3600) * 40 / p.bep_efficiency;
  EXPECT_NEAR(pump->shaft_power_kw(), shaft_w / 1000, 1e-9);
  EXPECT_NEAR(Out(*pump, "power"), shaft_w / p.motor_efficiency / 1000, 1e-9);
  const double active_a = Out(*pump, "power") * 1000 / (std::sqrt(3.0) * p.rated_voltage_v);
  EXPECT_NEAR(Out(*pump, "motor_current"), std::hypot(p.magnetizing_current_a, active_a), 1e-9);
  EXPECT_NEAR(Out(*pump, "suction_pressure"),
              p.suction_static_pressure_bar - p.suction_loss_coefficient * q * q, 1e-12);
  EXPECT_EQ(Out(*pump, "speed"), p.ref_speed_rpm);
  EXPECT_EQ(Out(*pump, "running"), 1);
}

TEST(PumpTwin, AffinityLawsHoldWithoutStaticHead) {
  PumpTwin::Params params;
  params.static_head_m = 0;
  std::unique_ptr<PumpTwin> pump = Quiet(params);
  Rng rng(1);
  pump->Step(1, rng);
  const double q1 = Out(*pump, "flow");
  const double h1 = HeadFromPressures(*pump);
  const double p1 = Out(*pump, "power");
  const double eta1 = pump->efficiency();
  for (double n : {2500.0, 2000.0, 1475.0, 3300.0}) {
    ASSERT_TRUE(pump->SetInput("speed", n).ok());
    pump->Step(1, rng);
    const double ratio = n / params.ref_speed_rpm;
    EXPECT_NEAR(Out(*pump, "flow") / q1, ratio, 1e-12) << n;
    EXPECT_NEAR(HeadFromPressures(*pump) / h1, ratio * ratio, 1e-9) << n;
    EXPECT_NEAR(Out(*pump, "power") / p1, ratio * ratio * ratio, 1e-12) << n;
    EXPECT_NEAR(pump->efficiency(), eta1, 1e-12) << n;  // affinity points share η
  }
}

TEST(PumpTwin, EfficiencyPeaksAtTheBestEfficiencyPoint) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  Rng rng(1);
  double best_eta = 0;
  double best_flow = 0;
  for (double valve = 0.2; valve <= 20; valve *= 1.01) {
    ASSERT_TRUE(pump->SetInput("valve", valve).ok());
    pump->Step(1, rng);
    const double x = Out(*pump, "flow") / p.bep_flow_m3h;
    EXPECT_NEAR(pump->efficiency(), p.bep_efficiency * x * std::max(2 - x, 0.2), 1e-12);
    if (pump->efficiency() > best_eta) {
      best_eta = pump->efficiency();
      best_flow = Out(*pump, "flow");
    }
  }
  EXPECT_NEAR(best_flow, p.bep_flow_m3h, 1.0);
  EXPECT_NEAR(best_eta, p.bep_efficiency, 1e-4);
}

TEST(PumpTwin, ThrottlingLowersFlowAndRaisesHead) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  Rng rng(1);
  pump->Step(1, rng);
  const double q_open = Out(*pump, "flow");
  const double h_open = pump->head_m();
  ASSERT_TRUE(pump->SetInput("valve", 4).ok());
  pump->Step(1, rng);
  EXPECT_LT(Out(*pump, "flow"), q_open);
  EXPECT_GT(pump->head_m(), h_open);
  EXPECT_LT(Out(*pump, "power"), 15.5);
}

TEST(PumpTwin, BelowTheStaticHeadThePumpChurnsAndHeatsTheFluid) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  // H0·r² < H_static: r < sqrt(10/50) = 0.447.
  const double n = 0.4 * p.ref_speed_rpm;
  ASSERT_TRUE(pump->SetInput("speed", n).ok());
  Rng rng(1);
  // All the shaft power heats the casing: T_ss = T_amb + P/G_c, time constant C_c/G_c.
  const double tau = p.casing_heat_capacity / p.casing_heat_loss;
  for (int i = 0; i < 1000; ++i) pump->Step(tau / 1000, rng);
  EXPECT_EQ(Out(*pump, "flow"), 0);
  EXPECT_NEAR(pump->head_m(), p.shutoff_head_m * 0.16, 1e-9);
  // Shut-off power stays finite: ρ·g·H·r·Q_bep/(2·η_bep).
  const double shaft_w =
      p.density * kG * pump->head_m() * 0.4 * p.bep_flow_m3h / 3600 / (2 * p.bep_efficiency);
  EXPECT_NEAR(pump->shaft_power_kw(), shaft_w / 1000, 1e-9);
  const double t_ss = p.ambient_temp_c + shaft_w / p.casing_heat_loss;
  const double start = p.fluid_inlet_temp_c;
  EXPECT_NEAR(Out(*pump, "fluid_temp"), start + (t_ss - start) * 0.6321205588285577, 1e-6);
}

TEST(PumpTwin, FluidTemperatureRisesSlightlyAtTheDesignPoint) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  Rng rng(1);
  for (int i = 0; i < 100; ++i) pump->Step(10, rng);
  const double q = Out(*pump, "flow") / 3600;
  const double loss_w = pump->shaft_power_kw() * 1000 - p.density * kG * q * pump->head_m();
  const double g_flow = p.density * p.fluid_heat_capacity * q;
  const double expected =
      (loss_w + g_flow * p.fluid_inlet_temp_c + p.casing_heat_loss * p.ambient_temp_c) /
      (g_flow + p.casing_heat_loss);
  EXPECT_NEAR(Out(*pump, "fluid_temp"), expected, 1e-9);
  EXPECT_LT(Out(*pump, "fluid_temp") - p.fluid_inlet_temp_c, 0.1);
}

TEST(PumpTwin, CavitationDropsHeadAndSuctionAndRaisesVibration) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  Rng rng(1);
  pump->Step(1, rng);
  const double h = pump->head_m();
  const double vib = Out(*pump, "vibration_rms");
  ASSERT_TRUE(pump->InjectFault(FaultKind::kCavitation, 1).ok());
  pump->Step(1, rng);
  // f_c = 0.7: Q² = (0.7·50 - 10)/(0.7·0.001 + 0.003).
  const double q = std::sqrt((0.7 * 50 - 10) / (0.7 * 0.001 + 0.003));
  EXPECT_NEAR(Out(*pump, "flow"), q, 1e-9);
  EXPECT_NEAR(pump->head_m(), 0.7 * (50 - 0.001 * q * q), 1e-9);
  EXPECT_LT(pump->head_m(), h);
  EXPECT_NEAR(Out(*pump, "vibration_rms"), vib + p.cavitation_vibration, 1e-12);
  EXPECT_NEAR(Out(*pump, "suction_pressure"),
              p.suction_static_pressure_bar - p.suction_loss_coefficient * q * q -
                  p.cavitation_suction_drop,
              1e-12);
  pump->ClearFaults();
  pump->Step(1, rng);
  EXPECT_NEAR(pump->head_m(), h, 1e-9);
}

TEST(PumpTwin, ImpellerWearLowersHeadAndEfficiency) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  const PumpTwin::Params& p = pump->params();
  ASSERT_TRUE(pump->InjectFault(FaultKind::kImpellerWear, 0.5).ok());
  Rng rng(1);
  pump->Step(1, rng);
  const double h0 = p.shutoff_head_m * (1 - 0.5 * p.impeller_wear_head_drop);
  const double q =
      std::sqrt((h0 - p.static_head_m) / (p.pump_curve_coefficient + p.system_coefficient));
  EXPECT_NEAR(Out(*pump, "flow"), q, 1e-9);
  const double x = q / p.bep_flow_m3h;
  EXPECT_NEAR(pump->efficiency(),
              (1 - 0.5 * p.impeller_wear_efficiency_drop) * p.bep_efficiency * x * (2 - x), 1e-12);
}

TEST(PumpTwin, BearingWearFailsAndStopsThePump) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  ASSERT_TRUE(pump->InjectFault(FaultKind::kBearingWear, 1).ok());
  const double t_fail = pump->BearingTimeToFailure(1);
  EXPECT_NEAR(t_fail, 616131, 1);
  Rng rng(1);
  double t = 0;
  const double healthy_temp = [&] {
    std::unique_ptr<PumpTwin> ref = Quiet();
    for (int i = 0; i < 100; ++i) ref->Step(600, rng);
    return Out(*ref, "bearing_temp");
  }();
  double worn_temp = 0;
  double worn_vibration = 0;
  while (!pump->failed()) {
    pump->Step(60, rng);
    t += 60;
    if (!pump->failed()) {
      worn_temp = Out(*pump, "bearing_temp");
      worn_vibration = Out(*pump, "vibration_rms");
    }
  }
  EXPECT_GE(t, t_fail);
  EXPECT_LT(t, t_fail + 60);
  EXPECT_GT(worn_temp, healthy_temp + 20);
  EXPECT_GT(worn_vibration, 5 * pump->params().vibration_baseline);
  EXPECT_EQ(Out(*pump, "running"), 0);
  EXPECT_EQ(Out(*pump, "flow"), 0);
  EXPECT_EQ(Out(*pump, "power"), 0);
  EXPECT_EQ(Out(*pump, "motor_current"), 0);
  EXPECT_EQ(Out(*pump, "discharge_pressure"), Out(*pump, "suction_pressure"));
  pump->Repair();
  pump->Step(1, rng);
  EXPECT_EQ(Out(*pump, "running"), 1);
  EXPECT_GT(Out(*pump, "flow"), 0);
}

TEST(PumpTwin, InputLimits) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  EXPECT_EQ(pump->SetInput("speed", 3301).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(pump->SetInput("speed", -1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(pump->SetInput("valve", -0.5).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(pump->InjectFault(FaultKind::kCoolingLoss, 0.5).code(), StatusCode::kUnimplemented);
  ASSERT_TRUE(pump->SetInput("speed", 0).ok());
  Rng rng(1);
  pump->Step(1, rng);
  EXPECT_EQ(Out(*pump, "flow"), 0);
  EXPECT_EQ(Out(*pump, "power"), 0);
  EXPECT_TRUE(std::isfinite(Out(*pump, "motor_current")));
}

TEST(PumpTwin, EnergyIsTheIntegralOfPower) {
  std::unique_ptr<PumpTwin> pump = Quiet();
  Rng rng(1);
  for (int i = 0; i < 3600; ++i) pump->Step(1, rng);
  EXPECT_NEAR(Out(*pump, "energy"), Out(*pump, "power"), 1e-9);
}

}  // namespace
}  // namespace weft::twin

#include "twin/motor_twin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace weft::twin {
namespace {

constexpr double kOneTau = 0.6321205588285577;  // 1 - e^-1

std::unique_ptr<MotorTwin> Quiet(MotorTwin::Params p = {}) {
  p.vibration_noise = 0;
  p.voltage_noise = 0;
  return MotorTwin::Create(p).value();
}

double Out(const Twin& twin, std::string_view name) {
  return twin.Output(name).value();
}

// Winding rise over ambient at steady state, from the header's equations.
double WindingRise(const MotorTwin::Params& p, double load, double r_th_factor = 1) {
  const double current = p.no_load_current_a + (p.rated_current_a - p.no_load_current_a) * load;
  return (3 * p.stator_resistance_ohm * current * current + p.iron_loss_w) * p.thermal_resistance *
         r_th_factor;
}

TEST(MotorTwin, WindingStepResponseAtOneTimeConstantIs63Percent) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  const MotorTwin::Params& p = motor->params();
  ASSERT_TRUE(motor->SetInput("ambient_temp", 20).ok());
  ASSERT_TRUE(motor->SetInput("load", 1).ok());
  Rng rng(1);
  // The motor starts at 25 degC (the default ambient); settle it at 20 unloaded and stopped.
  ASSERT_TRUE(motor->SetInput("running", 0).ok());
  for (int i = 0; i < 100; ++i) motor->Step(3600, rng);
  ASSERT_NEAR(Out(*motor, "winding_temp"), 20, 1e-9);

  ASSERT_TRUE(motor->SetInput("running", 1).ok());
  const double tau = p.thermal_resistance * p.thermal_capacitance;
  EXPECT_DOUBLE_EQ(motor->WindingTimeConstant(), tau);
  for (int i = 0; i < 1000; ++i) motor->Step(tau / 1000, rng);
  const double rise = WindingRise(p, 1);
  EXPECT_NEAR(Out(*motor, "winding_temp") - 20, kOneTau * rise, 1e-9 * rise);
  for (int i = 0; i < 9000; ++i) motor->Step(tau / 1000, rng);
  EXPECT_NEAR(Out(*motor, "winding_temp") - 20, (1 - std::exp(-10.0)) * rise, 1e-9 * rise);
}

TEST(MotorTwin, StepSizeDoesNotChangeTheThermalAnswer) {
  std::unique_ptr<MotorTwin> fine = Quiet();
  std::unique_ptr<MotorTwin> coarse = Quiet();
  Rng rng(1);
  for (int i = 0; i < 3600; ++i) fine->Step(1, rng);
  coarse->Step(3600, rng);
  EXPECT_NEAR(Out(*fine, "winding_temp"), Out(*coarse, "winding_temp"), 1e-9);
}

TEST(MotorTwin, ElectricalOperatingPoint) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  const MotorTwin::Params& p = motor->params();
  Rng rng(1);
  for (double load : {0.0, 0.5, 1.0, 1.2}) {
    ASSERT_TRUE(motor->SetInput("load", load).ok());
    motor->Step(1, rng);
    const double current = p.no_load_current_a + (p.rated_current_a - p.no_load_current_a) * load;
    EXPECT_DOUBLE_EQ(Out(*motor, "current"), current);
    const double speed = p.sync_speed_rpm * (1 - p.rated_slip * load);
    EXPECT_DOUBLE_EQ(Out(*motor, "speed"), speed);
    const double mech_kw =
        p.rated_power_kw * load * speed / (p.sync_speed_rpm * (1 - p.rated_slip));
    const double losses_w = 3 * p.stator_resistance_ohm * current * current + p.iron_loss_w;
    EXPECT_NEAR(Out(*motor, "power"), mech_kw / p.mech_efficiency + losses_w / 1000, 1e-12);
    EXPECT_EQ(Out(*motor, "running"), 1);
    EXPECT_EQ(Out(*motor, "voltage"), p.rated_voltage_v);
  }
  // Rated point: 15 kW out, about 91.5 % efficient.
  ASSERT_TRUE(motor->SetInput("load", 1).ok());
  motor->Step(1, rng);
  EXPECT_NEAR(p.rated_power_kw / Out(*motor, "power"), 0.915, 0.005);
}

TEST(MotorTwin, EnergyIsTheIntegralOfPower) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  Rng rng(1);
  ASSERT_TRUE(motor->SetInput("load", 0.8).ok());
  for (int i = 0; i < 7200; ++i) motor->Step(0.5, rng);
  EXPECT_NEAR(Out(*motor, "energy"), Out(*motor, "power") * 1.0, 1e-9);
}

TEST(MotorTwin, StoppedMotorDrawsNothingAndCoolsToAmbient) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  Rng rng(1);
  for (int i = 0; i < 100; ++i) motor->Step(60, rng);
  EXPECT_GT(Out(*motor, "winding_temp"), 60);
  ASSERT_TRUE(motor->SetInput("running", 0).ok());
  const double hot = Out(*motor, "winding_temp");
  const double tau = motor->WindingTimeConstant();
  motor->Step(tau, rng);
  EXPECT_NEAR(Out(*motor, "winding_temp") - 25, (hot - 25) * std::exp(-1.0), 1e-9);
  EXPECT_EQ(Out(*motor, "current"), 0);
  EXPECT_EQ(Out(*motor, "speed"), 0);
  EXPECT_EQ(Out(*motor, "power"), 0);
  EXPECT_EQ(Out(*motor, "running"), 0);
  EXPECT_EQ(Out(*motor, "vibration_rms"), 0);
  const double energy = Out(*motor, "energy");
  motor->Step(3600, rng);
  EXPECT_EQ(Out(*motor, "energy"), energy);
}

TEST(MotorTwin, BearingsSettleAtTheirSteadyState) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  const MotorTwin::Params& p = motor->params();
  Rng rng(1);
  ASSERT_TRUE(motor->SetInput("load", 1).ok());
  for (int i = 0; i < 500; ++i) motor->Step(600, rng);
  const double conducted = p.bearing_winding_coupling * WindingRise(p, 1);
  EXPECT_NEAR(Out(*motor, "bearing_temp_de"),
              25 + p.bearing_thermal_resistance * p.bearing_friction_w + conducted, 1e-6);
  EXPECT_NEAR(
      Out(*motor, "bearing_temp_nde"),
      25 + p.bearing_thermal_resistance * p.bearing_friction_w * p.nde_friction_ratio + conducted,
      1e-6);
  // The bearing node is slower than the winding.
  EXPECT_GT(p.bearing_thermal_resistance * p.bearing_thermal_capacitance,
            motor->WindingTimeConstant());
}

TEST(MotorTwin, CoolingLossRaisesResistanceByOnePlusTwiceSeverity) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  const MotorTwin::Params& p = motor->params();
  ASSERT_TRUE(motor->InjectFault(FaultKind::kCoolingLoss, 0.5).ok());
  EXPECT_DOUBLE_EQ(motor->WindingTimeConstant(), p.thermal_resistance * 2 * p.thermal_capacitance);
  ASSERT_TRUE(motor->SetInput("load", 0.5).ok());
  Rng rng(1);
  for (int i = 0; i < 200; ++i) motor->Step(3600, rng);
  EXPECT_NEAR(Out(*motor, "winding_temp") - 25, WindingRise(p, 0.5, 2), 1e-6);
  motor->ClearFaults();
  for (int i = 0; i < 200; ++i) motor->Step(3600, rng);
  EXPECT_NEAR(Out(*motor, "winding_temp") - 25, WindingRise(p, 0.5), 1e-6);
}

TEST(MotorTwin, BearingWearFailsAtTheDocumentedTime) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  const MotorTwin::Params& p = motor->params();
  for (double severity : {1.0, 0.5}) {
    motor->Repair();
    const double expected =
        std::log(1 + p.wear_acceleration) / (p.wear_acceleration * p.wear_rate * severity);
    EXPECT_DOUBLE_EQ(motor->BearingTimeToFailure(severity), expected);
    if (severity == 1) {
      EXPECT_NEAR(expected, 616131, 1);  // the figure in the header comment
    }
    ASSERT_TRUE(motor->InjectFault(FaultKind::kBearingWear, severity).ok());
    Rng rng(1);
    const double dt = 60;
    double t = 0;
    while (!motor->failed() && t < 10 * expected) {
      motor->Step(dt, rng);
      t += dt;
      if (std::abs(t - expected / 2) < dt / 2) {
        // Closed form w(t) = (exp(a·r·s·t) - 1)/a.
        const double k = p.wear_rate * severity;
        EXPECT_NEAR(motor->wear(),
                    (std::exp(p.wear_acceleration * k * t) - 1) / p.wear_acceleration, 1e-9);
      }
    }
    ASSERT_TRUE(motor->failed());
    EXPECT_GE(t, expected);
    EXPECT_LT(t, expected + dt);
    EXPECT_EQ(Out(*motor, "running"), 0);
    EXPECT_EQ(Out(*motor, "current"), 0);
    // A failed motor stays stopped even when commanded to run.
    ASSERT_TRUE(motor->SetInput("running", 1).ok());
    motor->Step(dt, rng);
    EXPECT_EQ(Out(*motor, "running"), 0);
  }
  motor->Repair();
  EXPECT_FALSE(motor->failed());
  EXPECT_EQ(motor->wear(), 0);
  Rng rng(1);
  motor->Step(1, rng);
  EXPECT_EQ(Out(*motor, "running"), 1);
}

TEST(MotorTwin, WearRaisesVibrationFrictionAndBearingTemperature) {
  std::unique_ptr<MotorTwin> healthy = Quiet();
  std::unique_ptr<MotorTwin> worn = Quiet();
  const MotorTwin::Params& p = worn->params();
  ASSERT_TRUE(worn->InjectFault(FaultKind::kBearingWear, 1).ok());
  Rng rng(1);
  const double t_fail = worn->BearingTimeToFailure(1);
  // Run to 95 % of the failure time.
  for (int i = 0; i < 950; ++i) {
    healthy->Step(t_fail / 1000, rng);
    worn->Step(t_fail / 1000, rng);
  }
  ASSERT_FALSE(worn->failed());
  const double w = worn->wear();
  EXPECT_GT(w, 0.8);
  EXPECT_NEAR(Out(*worn, "vibration_rms"),
              p.vibration_baseline * (1 + p.vibration_wear_gain * w * w), 1e-12);
  EXPECT_DOUBLE_EQ(Out(*healthy, "vibration_rms"), p.vibration_baseline);
  EXPECT_NEAR(Out(*worn, "power") - Out(*healthy, "power"),
              p.bearing_friction_w * p.bearing_wear_friction_gain * w * w / 1000, 1e-9);
  EXPECT_GT(Out(*worn, "bearing_temp_de"), Out(*healthy, "bearing_temp_de") + 20);
  EXPECT_NEAR(Out(*worn, "bearing_temp_nde"), Out(*healthy, "bearing_temp_nde"), 1e-9);
}

TEST(MotorTwin, VibrationNoiseHasTheConfiguredSpread) {
  std::unique_ptr<MotorTwin> motor = MotorTwin::Create(MotorTwin::Params{}).value();
  const MotorTwin::Params& p = motor->params();
  Rng rng(9);
  constexpr int kN = 20000;
  double sum = 0;
  double sq = 0;
  for (int i = 0; i < kN; ++i) {
    motor->Step(1, rng);
    const double v = Out(*motor, "vibration_rms") - p.vibration_baseline;
    sum += v;
    sq += v * v;
  }
  EXPECT_NEAR(sum / kN, 0, 5 * p.vibration_noise / std::sqrt(kN));
  EXPECT_NEAR(std::sqrt(sq / kN), p.vibration_noise, 0.05 * p.vibration_noise);
}

TEST(MotorTwin, InputLimits) {
  std::unique_ptr<MotorTwin> motor = Quiet();
  EXPECT_EQ(motor->SetInput("load", 1.3).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(motor->SetInput("load", -0.1).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(motor->SetInput("load", 1.2).ok());
  EXPECT_EQ(motor->SetInput("ambient_temp", 80).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(motor->SetInput("running", 2).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(motor->InjectFault(FaultKind::kCavitation, 0.5).code(), StatusCode::kUnimplemented);
  // A rejected value is not applied.
  Rng rng(1);
  motor->Step(1, rng);
  const auto& p = motor->params();
  EXPECT_DOUBLE_EQ(Out(*motor, "current"),
                   p.no_load_current_a + (p.rated_current_a - p.no_load_current_a) * 1.2);
}

TEST(MotorTwin, ValidateRejectsInconsistentCurrents) {
  MotorTwin::Params p;
  p.no_load_current_a = p.rated_current_a;
  EXPECT_EQ(MotorTwin::Create(p).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::twin

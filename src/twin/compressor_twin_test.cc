#include "twin/compressor_twin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace weft::twin {
namespace {

double Out(const Twin& twin, std::string_view name) {
  return twin.Output(name).value();
}

std::unique_ptr<CompressorTwin> Make(CompressorTwin::Params p = {}) {
  p.vibration_noise = 0;
  p.dew_point_noise = 0;
  return CompressorTwin::Create(p).value();
}

// Pressure rise per second per m3/min of net free-air inflow (bar/s).
double Rate(const CompressorTwin::Params& p) {
  return p.atmospheric_pressure_bar / (60 * p.receiver_volume_m3);
}

TEST(CompressorTwin, FillsTheReceiverLinearlyAndUnloadsAtTheTop) {
  std::unique_ptr<CompressorTwin> c = Make();
  const CompressorTwin::Params& p = c->params();
  ASSERT_TRUE(c->SetInput("demand", 0).ok());
  Rng rng(1);
  const double rise = Rate(p) * p.rated_fad_m3min;
  c->Step(50, rng);
  EXPECT_NEAR(Out(*c, "discharge_pressure"), rise * 50, 1e-12);
  EXPECT_EQ(Out(*c, "state"), 2);
  EXPECT_EQ(Out(*c, "load"), 100);
  EXPECT_EQ(Out(*c, "free_air_delivery"), p.rated_fad_m3min);
  // Loaded power follows the pressure: mean of a linear ramp from 0 to rise·50.
  const double mean_kw =
      p.loaded_power_kw * (1 + p.power_pressure_coefficient * (rise * 25 - p.rated_pressure_bar));
  EXPECT_NEAR(Out(*c, "power"), mean_kw, 1e-9);
  EXPECT_NEAR(Out(*c, "energy"), mean_kw * 50 / 3600, 1e-12);

  // Full at t = 7.5/rise; the step that crosses it is loaded only for part of it.
  const double t_full = p.unload_pressure_bar / rise;
  c->Step(100, rng);
  EXPECT_EQ(Out(*c, "discharge_pressure"), p.unload_pressure_bar);
  EXPECT_EQ(Out(*c, "state"), 1);
  EXPECT_NEAR(Out(*c, "load"), 100 * (t_full - 50) / 100, 1e-9);
  EXPECT_NEAR(c->loaded_time_s(), t_full, 1e-9);
  c->Step(100, rng);
  EXPECT_EQ(Out(*c, "discharge_pressure"), p.unload_pressure_bar);  // no demand, no loss
  EXPECT_EQ(Out(*c, "power"), p.unloaded_power_kw);
  EXPECT_EQ(Out(*c, "load"), 0);
}

TEST(CompressorTwin, LoadUnloadCycleBalancesDemand) {
  std::unique_ptr<CompressorTwin> c = Make();
  const CompressorTwin::Params& p = c->params();
  constexpr double kDemand = 6;
  Rng rng(1);
  for (int i = 0; i < 300; ++i) c->Step(1, rng);  // filled
  const double loaded_before = c->loaded_time_s();
  constexpr int kSteps = 200000;
  double load_sum = 0;
  for (int i = 0; i < kSteps; ++i) {
    c->Step(1, rng);
    const double pressure = Out(*c, "discharge_pressure");
    ASSERT_GE(pressure, p.load_pressure_bar - 1e-9);
    ASSERT_LE(pressure, p.unload_pressure_bar + 1e-9);
    load_sum += Out(*c, "load");
  }
  // Mass balance: the loaded share of time is demand/FAD, up to one cycle of the run.
  const double band = p.unload_pressure_bar - p.load_pressure_bar;
  const double period =
      band / (Rate(p) * (p.rated_fad_m3min - kDemand)) + band / (Rate(p) * kDemand);
  EXPECT_NEAR(period, 74.0, 0.1);
  const double tolerance = period / kSteps;
  EXPECT_NEAR((c->loaded_time_s() - loaded_before) / kSteps, kDemand / p.rated_fad_m3min,
              tolerance);
  EXPECT_NEAR(load_sum / kSteps / 100, kDemand / p.rated_fad_m3min, tolerance);
  EXPECT_NEAR(Out(*c, "running_hours"), (300.0 + kSteps) / 3600, 1e-9);
}

TEST(CompressorTwin, StepSizeDoesNotChangeTheAnswer) {
  std::unique_ptr<CompressorTwin> fine = Make();
  std::unique_ptr<CompressorTwin> medium = Make();
  std::unique_ptr<CompressorTwin> coarse = Make();
  Rng rng(1);
  for (int i = 0; i < 7200; ++i) fine->Step(0.5, rng);
  for (int i = 0; i < 500; ++i) medium->Step(7.2, rng);
  coarse->Step(3600, rng);
  for (const CompressorTwin* c : {medium.get(), coarse.get()}) {
    EXPECT_NEAR(c->pressure_bar(), fine->pressure_bar(), 1e-9);
    EXPECT_NEAR(c->loaded_time_s(), fine->loaded_time_s(), 1e-7);
    EXPECT_NEAR(Out(*c, "energy"), Out(*fine, "energy"), 1e-7);
  }
}

TEST(CompressorTwin, EnergySplitsIntoLoadedAndUnloadedTime) {
  CompressorTwin::Params params;
  params.power_pressure_coefficient = 0;
  std::unique_ptr<CompressorTwin> c = Make(params);
  Rng rng(1);
  for (int i = 0; i < 36000; ++i) c->Step(1, rng);
  EXPECT_NEAR(c->loaded_time_s() + c->unloaded_time_s(), 36000, 1e-6);
  EXPECT_NEAR(Out(*c, "energy"),
              (params.loaded_power_kw * c->loaded_time_s() +
               params.unloaded_power_kw * c->unloaded_time_s()) /
                  3600,
              1e-9);
}

TEST(CompressorTwin, OilSettlesAtItsSteadyStateWhenAlwaysLoaded) {
  CompressorTwin::Params params;
  params.initial_pressure_bar = 7;
  std::unique_ptr<CompressorTwin> c = Make(params);
  ASSERT_TRUE(c->SetInput("demand", params.rated_fad_m3min).ok());  // exactly the delivery
  Rng rng(1);
  for (int i = 0; i < 200; ++i) c->Step(600, rng);
  EXPECT_NEAR(c->pressure_bar(), params.load_pressure_bar, 1e-12);
  const double power =
      params.loaded_power_kw * (1 + params.power_pressure_coefficient *
                                        (params.load_pressure_bar - params.rated_pressure_bar));
  EXPECT_NEAR(Out(*c, "power"), power, 1e-9);
  EXPECT_NEAR(Out(*c, "oil_temp"), 20 + params.oil_rise_per_kw * power, 1e-6);
  EXPECT_NEAR(Out(*c, "discharge_temp"), Out(*c, "oil_temp") + params.discharge_temp_rise, 1e-9);
  EXPECT_EQ(Out(*c, "inlet_temp"), 20);
  EXPECT_EQ(Out(*c, "dew_point"), params.dryer_dew_point_c);
  EXPECT_NEAR(Out(*c, "vibration_rms"), params.vibration_baseline, 1e-12);
}

TEST(CompressorTwin, StoppedCompressorDrainsTheReceiver) {
  std::unique_ptr<CompressorTwin> c = Make();
  const CompressorTwin::Params& p = c->params();
  Rng rng(1);
  for (int i = 0; i < 300; ++i) c->Step(1, rng);
  ASSERT_TRUE(c->SetInput("running", 0).ok());
  const double start = c->pressure_bar();
  c->Step(10, rng);
  EXPECT_NEAR(c->pressure_bar(), start - Rate(p) * 6 * 10, 1e-12);
  EXPECT_EQ(Out(*c, "state"), 0);
  EXPECT_EQ(Out(*c, "power"), 0);
  EXPECT_EQ(Out(*c, "free_air_delivery"), 0);
  const double hours = Out(*c, "running_hours");
  c->Step(3600, rng);
  EXPECT_EQ(c->pressure_bar(), 0);
  EXPECT_EQ(Out(*c, "running_hours"), hours);
}

TEST(CompressorTwin, DemandBeyondDeliveryEmptiesTheReceiver) {
  std::unique_ptr<CompressorTwin> c = Make();
  ASSERT_TRUE(c->SetInput("demand", 15).ok());
  Rng rng(1);
  for (int i = 0; i < 100; ++i) c->Step(10, rng);
  EXPECT_EQ(c->pressure_bar(), 0);
  EXPECT_EQ(Out(*c, "state"), 2);
  EXPECT_EQ(Out(*c, "load"), 100);
}

TEST(CompressorTwin, PressureBandInputs) {
  std::unique_ptr<CompressorTwin> c = Make();
  EXPECT_EQ(c->SetInput("load_pressure", 8).code(), StatusCode::kOutOfRange);     // above unload
  EXPECT_EQ(c->SetInput("unload_pressure", 14).code(), StatusCode::kOutOfRange);  // > max
  ASSERT_TRUE(c->SetInput("unload_pressure", 9).ok());
  ASSERT_TRUE(c->SetInput("load_pressure", 8).ok());
  EXPECT_EQ(c->SetInput("unload_pressure", 7.9).code(), StatusCode::kOutOfRange);
  Rng rng(1);
  for (int i = 0; i < 600; ++i) c->Step(1, rng);
  for (int i = 0; i < 3600; ++i) {
    c->Step(1, rng);
    ASSERT_GE(c->pressure_bar(), 8 - 1e-9);
    ASSERT_LE(c->pressure_bar(), 9 + 1e-9);
  }
  // Lowering the band below the current pressure unloads at once.
  ASSERT_TRUE(c->SetInput("load_pressure", 5).ok());
  ASSERT_TRUE(c->SetInput("unload_pressure", 6).ok());
  c->Step(1, rng);
  EXPECT_EQ(Out(*c, "state"), 1);
  EXPECT_GT(c->pressure_bar(), 7.9);
  EXPECT_EQ(c->SetInput("demand", -1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(c->InjectFault(FaultKind::kCavitation, 1).code(), StatusCode::kUnimplemented);
}

TEST(CompressorTwin, BearingWearTripsTheCompressor) {
  std::unique_ptr<CompressorTwin> c = Make();
  ASSERT_TRUE(c->InjectFault(FaultKind::kBearingWear, 1).ok());
  const double t_fail = c->BearingTimeToFailure(1);
  EXPECT_NEAR(t_fail, 616131, 1);
  Rng rng(1);
  double t = 0;
  double vibration_before = 0;
  while (!c->failed()) {
    vibration_before = Out(*c, "vibration_rms");
    c->Step(60, rng);
    t += 60;
  }
  EXPECT_GE(t, t_fail);
  EXPECT_LT(t, t_fail + 60);
  EXPECT_GT(vibration_before, 4 * c->params().vibration_baseline);
  EXPECT_EQ(Out(*c, "state"), 3);
  EXPECT_EQ(Out(*c, "power"), 0);
  EXPECT_EQ(Out(*c, "free_air_delivery"), 0);
  c->Step(600, rng);
  EXPECT_LT(c->pressure_bar(), 6.5);
  c->Repair();
  c->Step(1, rng);
  EXPECT_EQ(Out(*c, "state"), 2);
}

}  // namespace
}  // namespace weft::twin

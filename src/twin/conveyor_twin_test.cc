#include "twin/conveyor_twin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace weft::twin {
namespace {

double Out(const Twin& twin, std::string_view name) {
  return twin.Output(name).value();
}

// Counts of sampled outputs, as a KPI engine reading the signals would see them.
struct Samples {
  double running_s = 0;
  double breakdown_s = 0;
  double planned_s = 0;
  double idle_s = 0;
};

TEST(ConveyorTwin, LongRunMatchesMtbfMttrAndRejectProbability) {
  std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(ConveyorTwin::Params{}).value();
  const ConveyorTwin::Params& p = cell->params();
  constexpr double kIdealCycle = 30;
  constexpr double kRejectP = 0.05;
  ASSERT_TRUE(cell->SetInput("ideal_cycle_time", kIdealCycle).ok());
  ASSERT_TRUE(cell->SetInput("reject_probability", kRejectP).ok());
  Rng rng(12345);
  constexpr double kDt = 5;
  constexpr int kSteps = 4'000'000;  // 2e7 s, about 1280 breakdowns
  Samples seen;
  for (int i = 0; i < kSteps; ++i) {
    cell->Step(kDt, rng);
    const double state = Out(*cell, "state");
    const double reason = Out(*cell, "down_reason");
    if (state == 2) {
      seen.running_s += kDt;
      EXPECT_EQ(reason, 0);
    } else if (state == 0) {
      ASSERT_GE(reason, 1);
      ASSERT_LE(reason, 3);
      seen.breakdown_s += kDt;
    } else {
      seen.idle_s += kDt;
    }
  }
  EXPECT_EQ(seen.idle_s, 0);
  const double n = static_cast<double>(cell->breakdowns());
  ASSERT_GT(n, 1000);

  // Availability from the sampled state, and from the exact totals. For exponential up and
  // down times the estimate's standard error is about A·(1 - A)·sqrt(2/n).
  const double expected_a = p.mtbf_s / (p.mtbf_s + p.mttr_s);
  const double sigma_a = expected_a * (1 - expected_a) * std::sqrt(2 / n);
  const double sampled_a = seen.running_s / (seen.running_s + seen.breakdown_s);
  EXPECT_NEAR(sampled_a, expected_a, 4 * sigma_a);
  const double exact_a = cell->run_time_s() / (cell->run_time_s() + cell->breakdown_time_s());
  EXPECT_NEAR(exact_a, expected_a, 4 * sigma_a);
  EXPECT_NEAR(sampled_a, exact_a, 1e-3);  // sampling every 5 s barely matters
  EXPECT_NEAR(cell->run_time_s() + cell->breakdown_time_s(), kDt * kSteps, 1e-3);

  // Mean up and down times.
  EXPECT_NEAR(cell->run_time_s() / n, p.mtbf_s, 4 * p.mtbf_s / std::sqrt(n));
  EXPECT_NEAR(cell->breakdown_time_s() / n, p.mttr_s, 4 * p.mttr_s / std::sqrt(n));

  // Reasons follow the weights 0.5 / 0.2 / 0.3.
  const auto& by_reason = cell->breakdowns_by_reason();
  EXPECT_EQ(by_reason[1] + by_reason[2] + by_reason[3], cell->breakdowns());
  const double weights[] = {0, p.jam_weight, p.electrical_weight, p.material_shortage_weight};
  for (size_t r = 1; r <= 3; ++r) {
    const double share =
        weights[r] / (p.jam_weight + p.electrical_weight + p.material_shortage_weight);
    EXPECT_NEAR(static_cast<double>(by_reason[r]) / n, share,
                4 * std::sqrt(share * (1 - share) / n))
        << "reason " << r;
  }

  // Quality and performance.
  const double good = Out(*cell, "good_count");
  const double rejects = Out(*cell, "reject_count");
  const double parts = good + rejects;
  EXPECT_NEAR(rejects / parts, kRejectP, 4 * std::sqrt(kRejectP * (1 - kRejectP) / parts));
  const double performance = kIdealCycle * parts / cell->run_time_s();
  EXPECT_NEAR(performance, 1, 0.002);
  EXPECT_NEAR(Out(*cell, "cycle_time"), kIdealCycle, 0.5 * kIdealCycle);
}

TEST(ConveyorTwin, WithoutBreakdownsOrNoiseEveryCycleMakesOnePart) {
  ConveyorTwin::Params params;
  params.mtbf_s = 1e10;
  params.cycle_time_noise = 0;
  params.current_noise_a = 0;
  params.vibration_noise = 0;
  std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(params).value();
  ASSERT_TRUE(cell->SetInput("ideal_cycle_time", 12).ok());
  ASSERT_TRUE(cell->SetInput("reject_probability", 0).ok());
  Rng rng(3);
  for (int i = 0; i < 4800; ++i) cell->Step(0.25, rng);  // 1200 s
  EXPECT_EQ(Out(*cell, "good_count"), 100);
  EXPECT_EQ(Out(*cell, "reject_count"), 0);
  EXPECT_EQ(Out(*cell, "cycle_time"), 12);
  EXPECT_EQ(Out(*cell, "state"), 2);
  EXPECT_EQ(Out(*cell, "belt_speed"), params.belt_speed_ms);
  EXPECT_EQ(Out(*cell, "motor_current"), params.running_current_a);
  EXPECT_EQ(Out(*cell, "power"), params.running_power_kw);
  EXPECT_EQ(Out(*cell, "vibration_rms"), params.vibration_baseline);
  EXPECT_NEAR(Out(*cell, "energy"), params.running_power_kw * 1200 / 3600, 1e-12);

  // A large step counts every part inside it.
  cell->Step(1200, rng);
  EXPECT_EQ(Out(*cell, "good_count"), 200);
  // All rejected.
  ASSERT_TRUE(cell->SetInput("reject_probability", 1).ok());
  cell->Step(120, rng);
  EXPECT_EQ(Out(*cell, "good_count"), 200);
  EXPECT_EQ(Out(*cell, "reject_count"), 10);
}

TEST(ConveyorTwin, IdleAndPlannedStops) {
  ConveyorTwin::Params params;
  params.current_noise_a = 0;
  params.vibration_noise = 0;
  std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(params).value();
  Rng rng(3);
  ASSERT_TRUE(cell->SetInput("running", 0).ok());
  for (int i = 0; i < 100; ++i) cell->Step(3600, rng);
  EXPECT_EQ(Out(*cell, "state"), 1);
  EXPECT_EQ(Out(*cell, "down_reason"), 0);
  EXPECT_EQ(Out(*cell, "good_count") + Out(*cell, "reject_count"), 0);
  EXPECT_EQ(cell->breakdowns(), 0);  // MTBF counts running time only
  EXPECT_EQ(Out(*cell, "belt_speed"), 0);
  EXPECT_EQ(Out(*cell, "motor_current"), 0);
  EXPECT_EQ(Out(*cell, "power"), params.standby_power_kw);
  EXPECT_NEAR(Out(*cell, "energy"), params.standby_power_kw * 100, 1e-9);

  ASSERT_TRUE(cell->SetInput("running", 1).ok());
  ASSERT_TRUE(cell->SetInput("planned_stop", 1).ok());
  cell->Step(600, rng);
  EXPECT_EQ(Out(*cell, "state"), 0);
  EXPECT_EQ(Out(*cell, "down_reason"), 4);
  EXPECT_EQ(cell->planned_stop_time_s(), 600);
  EXPECT_EQ(cell->breakdown_time_s(), 0);
  ASSERT_TRUE(cell->SetInput("planned_stop", 0).ok());
  cell->Step(1, rng);
  EXPECT_EQ(Out(*cell, "state"), 2);
}

TEST(ConveyorTwin, BreakdownsCarryAReasonAndRepairEndsThem) {
  ConveyorTwin::Params params;
  params.mtbf_s = 1;
  params.mttr_s = 1e6;
  std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(params).value();
  Rng rng(3);
  cell->Step(100, rng);
  ASSERT_EQ(Out(*cell, "state"), 0);
  EXPECT_GE(Out(*cell, "down_reason"), 1);
  EXPECT_LE(Out(*cell, "down_reason"), 3);
  EXPECT_EQ(Out(*cell, "belt_speed"), 0);
  EXPECT_EQ(cell->breakdowns(), 1);
  // The repair goes on whether or not production is requested.
  ASSERT_TRUE(cell->SetInput("running", 0).ok());
  cell->Step(100, rng);
  EXPECT_EQ(Out(*cell, "state"), 0);
  cell->Repair();
  EXPECT_EQ(cell->state(), ConveyorTwin::State::kIdle);
  EXPECT_EQ(cell->down_reason(), ConveyorTwin::DownReason::kNone);
  EXPECT_FALSE(cell->failed());
}

TEST(ConveyorTwin, InputLimitsAndFaults) {
  std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(ConveyorTwin::Params{}).value();
  EXPECT_EQ(cell->SetInput("reject_probability", 1.1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(cell->SetInput("ideal_cycle_time", 0).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(cell->SetInput("planned_stop", 3).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(cell->InjectFault(FaultKind::kBearingWear, 0.5).code(), StatusCode::kUnimplemented);
  ConveyorTwin::Params params;
  params.jam_weight = params.electrical_weight = params.material_shortage_weight = 0;
  EXPECT_EQ(ConveyorTwin::Create(params).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::twin

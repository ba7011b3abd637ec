#include "mlops/twins/calibration.h"

#include <gtest/gtest.h>

#include <cmath>

#include "twin/twin.h"

namespace weft::mlops {
namespace {

// Bucket means (60 s) of a motor stepped every second, as the lake's resampling would give.
CalibrationSeries MotorSeries(const std::map<std::string, double>& truth, int buckets) {
  CalibrationSeries s;
  s.dt_s = 60;
  auto motor = twin::MakeTwin("motor", truth).value();
  twin::Rng rng(3);
  for (int k = 0; k < buckets; ++k) {
    const double load = 0.3 + 0.7 * ((k / 15) % 3) / 2.0;  // 0.3, 0.65, 1.0 for 15 min each
    s.ts_us.push_back(int64_t{k} * 60'000'000);
    s.inputs["load"].push_back(load);
    double sum = 0;
    EXPECT_TRUE(motor->SetInput("load", load).ok());
    for (int i = 0; i < 60; ++i) {
      sum += *motor->Output("winding_temp");
      motor->Step(1, rng);
    }
    s.outputs["winding_temp"].push_back(sum / 60);
  }
  return s;
}

TEST(CalibrationTest, RecoversThermalParametersFromCleanData) {
  const std::map<std::string, double> truth = {{"thermal_resistance", 0.1},
                                               {"thermal_capacitance", 35000}};
  CalibrationSeries s = MotorSeries(truth, 480);
  s.outputs["winding_temp"][10] = std::nan("");  // a missing bucket is skipped
  CalibrationOptions o;
  o.fit = {"thermal_resistance", "thermal_capacitance"};
  Result<CalibrationResult> r = Calibrate("motor", {}, s, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->converged) << r->reason;
  EXPECT_NEAR(r->fitted["thermal_resistance"] / 0.1, 1, 0.005);
  EXPECT_NEAR(r->fitted["thermal_capacitance"] / 35000, 1, 0.01);
  EXPECT_LT(r->rmse_after["winding_temp"], 0.1 * r->rmse_before["winding_temp"]);
  EXPECT_GT(r->r2["winding_temp"], 0.999);
  EXPECT_EQ(r->samples["winding_temp"], 479);
  EXPECT_DOUBLE_EQ(r->initial["thermal_resistance"], 0.09);
  EXPECT_TRUE(std::isfinite(r->std_errors["thermal_resistance"]));
  EXPECT_DOUBLE_EQ(r->parameters["thermal_capacitance"], r->fitted["thermal_capacitance"]);
  // The fitted parameters explain the data as well as the truth does.
  Result<std::map<std::string, double>> rmse = SeriesRmse("motor", truth, s);
  ASSERT_TRUE(rmse.ok());
  EXPECT_LT(rmse->at("winding_temp"), 0.05);
}

TEST(CalibrationTest, RefusesUnknownNamesAndEmptyData) {
  CalibrationSeries s = MotorSeries({}, 30);
  CalibrationOptions o;
  o.fit = {"thermal_resistence"};
  Result<CalibrationResult> r = Calibrate("motor", {}, s, o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("thermal_resistence"), std::string::npos);
  o.fit = {"thermal_resistance"};
  CalibrationSeries bad = s;
  bad.inputs["lod"] = bad.inputs["load"];
  EXPECT_NE(Calibrate("motor", {}, bad, o).status().message().find("unknown input 'lod'"),
            std::string::npos);
  bad = s;
  for (double& v : bad.outputs["winding_temp"]) v = std::nan("");
  EXPECT_EQ(Calibrate("motor", {}, bad, o).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Calibrate("motor", {}, CalibrationSeries{}, o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CalibrationTest, AnInputTheTwinRefusesIsAnError) {
  CalibrationSeries s = MotorSeries({}, 30);
  s.inputs["load"][5] = 3;  // beyond the motor's 1.2
  CalibrationOptions o;
  o.fit = {"thermal_resistance"};
  Result<CalibrationResult> r = Calibrate("motor", {}, s, o);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1970-01-01T00:05:00"), std::string::npos)
      << r.status().message();
}

TEST(CalibrationTest, BoundsAreRespected) {
  // bearing_winding_coupling must stay within [0, 1] and does not affect the winding: every step
  // beyond the bound is refused by the twin and counts as a failed step.
  CalibrationSeries s = MotorSeries({}, 60);
  CalibrationOptions o;
  o.fit = {"bearing_winding_coupling", "thermal_resistance"};
  Result<CalibrationResult> r = Calibrate("motor", {{"bearing_winding_coupling", 0.99}}, s, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->fitted["bearing_winding_coupling"], 1.0);
  EXPECT_NEAR(r->fitted["thermal_resistance"], 0.09, 0.0005);
}

}  // namespace
}  // namespace weft::mlops

#include "mlops/twins/calibration_spec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "mlops/twins/motor_telemetry_fixture.h"

namespace weft::mlops {
namespace {

class CalibrationSpecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("weft_twin_calibration_" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    Result<int64_t> v = testing::WriteMotorTelemetry(Telemetry(), *clock_, {});
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    version_ = *v;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Telemetry() { return (*dir_ / "lake" / "telemetry").string(); }
  std::unique_ptr<TwinRegistry> Registry(const std::string& name) {
    return TwinRegistry::Open((*dir_ / name).string(), clock_).value();
  }
  static Result<CalibrationSpec> Parse(const std::string& text, Diagnostics* d) {
    return ParseCalibrationSpec(text, "spec.yaml", d);
  }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline ManualClock* clock_ = new ManualClock(TimeFromUnixMicros(1'767'312'000'000'000));
  static inline int64_t version_ = -1;
};

TEST_F(CalibrationSpecTest, RecoversTheTrueParametersFromTheLake) {
  Diagnostics d;
  Result<CalibrationSpec> spec = Parse(testing::MotorSpecYaml(Telemetry()), &d);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto reg = Registry("state1");
  Result<CalibrationRun> run = CalibrateFromSpec(*spec, *reg, *clock_, "alice");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const CalibrationResult& r = run->result;
  const double true_r = 0.09 * 1.3, true_c = 27000 * 0.8;
  std::printf(
      "fitted thermal_resistance %.6f (true %.6f, se %.2g), thermal_capacitance %.1f "
      "(true %.1f, se %.2g); rmse %.3f -> %.3f, R2 %.5f, %d iterations, %s\n",
      r.fitted.at("thermal_resistance"), true_r, r.std_errors.at("thermal_resistance"),
      r.fitted.at("thermal_capacitance"), true_c, r.std_errors.at("thermal_capacitance"),
      r.rmse_before.at("winding_temp"), r.rmse_after.at("winding_temp"), r.r2.at("winding_temp"),
      r.iterations, r.reason.c_str());
  EXPECT_TRUE(r.converged) << r.reason;
  EXPECT_NEAR(r.fitted.at("thermal_resistance") / true_r, 1, 0.03);
  EXPECT_NEAR(r.fitted.at("thermal_capacitance") / true_c, 1, 0.03);
  EXPECT_LT(r.rmse_after.at("winding_temp"), 0.5 * r.rmse_before.at("winding_temp"));
  EXPECT_LT(r.rmse_after.at("winding_temp"), 0.5);  // about the sensor noise averaged per bucket
  EXPECT_EQ(r.samples.at("winding_temp"), 1440);

  EXPECT_EQ(run->parent.version, "1.0.0");
  EXPECT_EQ(run->registered.version, "1.1.0");
  Result<TwinVersion> stored = reg->Get("motor", "1.1.0");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->parent_version, "1.0.0");
  EXPECT_EQ(stored->created_by, "alice");
  EXPECT_DOUBLE_EQ(stored->parameters.at("thermal_resistance"), r.fitted.at("thermal_resistance"));
  EXPECT_EQ(stored->lineage["delta_version"].get<int64_t>(), version_);
  EXPECT_EQ(stored->lineage["telemetry"].get<std::string>(), Telemetry());
  EXPECT_EQ(stored->lineage["asset"].get<std::string>(), "l1-mo-01");
  EXPECT_EQ(stored->lineage["from"].get<std::string>(), "2026-01-01T00:00:00.000000Z");
  EXPECT_TRUE(stored->fit_metrics["converged"].get<bool>());
  EXPECT_GT(stored->fit_metrics["rmse_before"]["winding_temp"].get<double>(),
            stored->fit_metrics["rmse_after"]["winding_temp"].get<double>());

  // Compare, with both versions run on the same data.
  SeriesSource source;
  Result<CalibrationSeries> series = LoadSeries(*spec, *clock_, &source);
  ASSERT_TRUE(series.ok());
  Result<TwinComparison> c = reg->Compare("motor", "1.0.0", "1.1.0", &*series);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->parameters.size(), 2u);
  EXPECT_NEAR(c->parameters[1].rel_diff, 0.3, 0.03);  // thermal_resistance
  EXPECT_NEAR(c->rmse_a.at("winding_temp"), r.rmse_before.at("winding_temp"), 1e-9);
  EXPECT_NEAR(c->rmse_b.at("winding_temp"), r.rmse_after.at("winding_temp"), 1e-9);
}

TEST_F(CalibrationSpecTest, TimeTravelReadsThePinnedDeltaVersion) {
  // Later rows (a broken sensor reading 150 degC) must not reach a spec pinned to the first day.
  auto table = lake::LakeTable::Open(Telemetry(), clock_).value();
  lake::RecordBatch rows(testing::FixtureSchema());
  for (int64_t s = 0; s < 86'400; s += 30) {
    const int64_t ts = 1'767'225'600'000'000 + s * 1'000'000;
    rows.column(0).AppendInt(ts / 86'400'000'000);
    rows.column(1).AppendInt(ts);
    rows.column(2).AppendString("l1-mo-01");
    rows.column(3).AppendString("motor");
    rows.column(4).AppendString("winding_temp");
    rows.column(5).AppendString("degC");
    rows.column(6).AppendDouble(150);
    rows.column(7).AppendInt(0);
  }
  ASSERT_TRUE(table->Append(rows).ok());
  Diagnostics d;
  auto spec =
      Parse(testing::MotorSpecYaml(Telemetry(), "version: " + std::to_string(version_) + "\n"), &d);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->version, version_);
  SeriesSource source;
  Result<CalibrationSeries> series = LoadSeries(*spec, *clock_, &source);
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  EXPECT_EQ(source.delta_version, version_);
  for (double v : series->outputs["winding_temp"]) EXPECT_LT(v, 140);
  EXPECT_EQ(source.ToLineage(*spec)["delta_version"].get<int64_t>(), version_);
}

TEST_F(CalibrationSpecTest, UnknownParameterOrInputIsRefusedNamingTheField) {
  auto reg = Registry("state2");
  Diagnostics d;
  auto spec = Parse(
      testing::MotorSpecYaml(Telemetry(), "", "[thermal_resistance, thermal_capacitence]"), &d);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Result<CalibrationRun> run = CalibrateFromSpec(*spec, *reg, *clock_, "alice");
  ASSERT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.status().message().find("spec.yaml:13:27"), std::string::npos)
      << run.status().message();
  EXPECT_NE(run.status().message().find("fit[1]"), std::string::npos);
  EXPECT_NE(run.status().message().find("did you mean 'thermal_capacitance'"), std::string::npos);
  EXPECT_TRUE(reg->List()->empty());  // nothing registered

  spec = Parse(testing::MotorSpecYaml(Telemetry(), "", "[thermal_resistance]", "lod"), &d);
  ASSERT_TRUE(spec.ok());
  run = CalibrateFromSpec(*spec, *reg, *clock_, "alice");
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("spec.yaml:9:3"), std::string::npos)
      << run.status().message();
  EXPECT_NE(run.status().message().find("inputs.lod"), std::string::npos);
  EXPECT_NE(run.status().message().find("unknown_input"), std::string::npos);
}

TEST_F(CalibrationSpecTest, ParserReportsEveryProblemWithItsPlace) {
  Diagnostics d;
  Result<CalibrationSpec> spec = Parse(
      "twin: motor\n"
      "from_version: one\n"
      "asset: l1-mo-01\n"
      "telemetry: /x\n"
      "from: 2026-01-02T00:00:00Z\n"
      "to: 2026-01-01T00:00:00Z\n"
      "resampel: 60s\n"
      "inputs:\n"
      "  load: {signal: current, value: 3}\n"
      "outputs: []\n"
      "fit: [thermal_resistance]\n",
      &d);
  ASSERT_FALSE(spec.ok());
  const std::string all = d.ToString();
  EXPECT_NE(all.find("spec.yaml:2:15: error: from_version"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.yaml:6:5: error: to: 'to' must be after 'from'"), std::string::npos)
      << all;
  EXPECT_NE(all.find("spec.yaml:7:1: error: resampel: unknown field"), std::string::npos) << all;
  EXPECT_NE(all.find("missing required field 'resample'"), std::string::npos) << all;
  EXPECT_NE(all.find("inputs.load: input 'load' needs exactly one"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs: the list is empty"), std::string::npos) << all;
}

TEST_F(CalibrationSpecTest, MissingSignalIsAFailedPrecondition) {
  Diagnostics d;
  std::string text = testing::MotorSpecYaml(Telemetry());
  text.replace(text.find("asset: l1-mo-01"), 15, "asset: l1-mo-99");
  auto spec = Parse(text, &d);
  ASSERT_TRUE(spec.ok());
  Result<CalibrationSeries> s = LoadSeries(*spec, *clock_, nullptr);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("l1-mo-99"), std::string::npos);
}

}  // namespace
}  // namespace weft::mlops

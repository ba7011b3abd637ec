#include "cli/twin_cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "mlops/twins/motor_telemetry_fixture.h"

namespace weft::cli {
namespace {

class TwinCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("weft_twin_cli_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    state_ = (dir_ / "state").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Parses argv as `weft twin ...` does, then runs.
  int Run(std::vector<std::string> argv, std::string* out_text, std::string* err_text = nullptr) {
    CLI::App app{"weft", "weft"};
    TwinArgs args;
    AddTwinCommands(app, &args);
    argv.insert(argv.begin(), "weft");
    std::vector<const char*> c;
    for (const auto& s : argv) c.push_back(s.c_str());
    std::ostringstream out, err;
    try {
      app.parse(static_cast<int>(c.size()), c.data());
    } catch (const CLI::ParseError& e) {
      app.exit(e, out, err);
      if (err_text) *err_text = err.str();
      return kExitUsage;
    }
    int code = RunTwin(args, out, err, clock_);
    *out_text = out.str();
    if (err_text) *err_text = err.str();
    return code;
  }

  std::filesystem::path dir_;
  std::string state_;
  ManualClock clock_{TimeFromUnixMicros(1'767'312'000'000'000)};
};

TEST_F(TwinCliTest, CalibrateListShowCompare) {
  const std::string telemetry = (dir_ / "lake" / "telemetry").string();
  Result<int64_t> version = mlops::testing::WriteMotorTelemetry(telemetry, clock_, {});
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  const std::string spec = (dir_ / "spec.yaml").string();
  std::ofstream(spec) << mlops::testing::MotorSpecYaml(telemetry);

  std::string out, err;
  ASSERT_EQ(Run({"twin", "calibrate", spec, "--state", state_, "--by", "alice"}, &out, &err),
            kExitOk)
      << err;
  EXPECT_NE(out.find("registered motor 1.1.0 (from 1.0.0; converged"), std::string::npos) << out;
  EXPECT_NE(out.find("thermal_resistance,0.09,0.11"), std::string::npos) << out;

  ASSERT_EQ(Run({"twin", "list", "--state", state_}, &out), kExitOk);
  EXPECT_NE(out.find("motor,1.0.0,motor,,"), std::string::npos) << out;
  EXPECT_NE(out.find("motor,1.1.0,motor,1.0.0,2026-01-02T00:00:00.000000Z,alice"),
            std::string::npos)
      << out;

  ASSERT_EQ(Run({"twin", "show", "motor", "--state", state_, "--json"}, &out), kExitOk);
  nlohmann::json shown = nlohmann::json::parse(out);
  EXPECT_EQ(shown["version"], "1.1.0");
  EXPECT_EQ(shown["lineage"]["delta_version"].get<int64_t>(), *version);
  EXPECT_NEAR(shown["parameters"]["thermal_capacitance"].get<double>(), 21600, 21600 * 0.03);

  ASSERT_EQ(
      Run({"twin", "compare", "motor", "1.0.0", "1.1.0", "--state", state_, "--data", spec}, &out),
      kExitOk);
  EXPECT_NE(out.find("thermal_resistance,0.09,0.11"), std::string::npos) << out;
  EXPECT_NE(out.find("rmse_on_data,1.0.0,1.1.0"), std::string::npos) << out;

  ASSERT_EQ(Run({"twin", "compare", "motor", "1.0.0", "1.1.0", "--state", state_, "--json"}, &out),
            kExitOk);
  nlohmann::json cmp = nlohmann::json::parse(out);
  EXPECT_EQ(cmp["parameters"].size(), 2u);

  EXPECT_EQ(Run({"twin", "show", "motor", "3.0.0", "--state", state_}, &out, &err),
            kExitInvalidInput);
  EXPECT_NE(err.find("has no version '3.0.0'"), std::string::npos) << err;
}

TEST_F(TwinCliTest, BadSpecPrintsEveryDiagnostic) {
  const std::string spec = (dir_ / "bad.yaml").string();
  std::ofstream(spec) << "twin: motor\nfrom_version: 1.0.0\nfit: [x]\n";
  std::string out, err;
  EXPECT_EQ(Run({"twin", "calibrate", spec, "--state", state_}, &out, &err), kExitInvalidInput);
  EXPECT_NE(err.find("bad.yaml:1:1: error: asset: missing required field 'asset'"),
            std::string::npos)
      << err;
  EXPECT_EQ(
      Run({"twin", "calibrate", (dir_ / "none.yaml").string(), "--state", state_}, &out, &err),
      kExitUsage);
  EXPECT_EQ(Run({"twin", "compare", "motor", "1.0.0"}, &out, &err), kExitUsage);
}

}  // namespace
}  // namespace weft::cli

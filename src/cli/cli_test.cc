#include "cli/cli.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/time_format.h"

namespace weft::cli {
namespace {

std::string ExamplePlant() {
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  return std::string(root ? root : ".") + "/examples/plant.yaml";
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args, const Clock& clock) {
  args.insert(args.begin(), "weft");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err, clock);
  return {code, out.str(), err.str()};
}

TimePoint Day(const char* date) {
  return TimePoint(std::chrono::sys_days(*ParseDate(date)));
}

TEST(Cli, PlanJudgesSignOffsAsOfTheClocksDay) {
  // pdm-compressors' OT sign-off is dated 2026-10-11: valid a year, expired after.
  ManualClock clock(Day("2026-11-25") + std::chrono::hours(23));
  CliRun r = Cli({"plan", ExamplePlant(), "--json"}, clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["plant"]["as_of"], "2026-11-25");
  auto state_on = [&](const char* date) {
    ManualClock c(Day(date));
    auto doc = nlohmann::json::parse(Cli({"plan", ExamplePlant(), "--json"}, c).out);
    for (const auto& u : doc["use_cases"]) {
      if (u["id"] == "pdm-compressors") return u["signoff"]["ot"]["state"].get<std::string>();
    }
    return std::string("not found");
  };
  EXPECT_EQ(state_on("2027-10-11"), "signed");
  EXPECT_EQ(state_on("2027-10-12"), "expired");
}

TEST(Cli, AsOfOverridesTheClock) {
  ManualClock clock(Day("2030-01-01"));
  CliRun r = Cli({"plan", ExamplePlant(), "--json", "--as-of", "2026-11-25"}, clock);
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_EQ(nlohmann::json::parse(r.out)["plant"]["as_of"], "2026-11-25");
}

TEST(Cli, InvalidPlantPrintsEveryErrorAndExits1) {
  std::string path = ::testing::TempDir() + "/cli_bad_plant.yaml";
  std::ofstream(path) << "weft: 2\nenterprise: {name: X}\nsites: []\nbogus: 1\n";
  ManualClock clock(Day("2026-11-25"));
  CliRun r = Cli({"plan", path}, clock);
  EXPECT_EQ(r.code, kExitInvalidInput);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(path + ":1:7: error: weft: plant.yaml schema version 2"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(path + ":4:1: error: bogus: unknown field 'bogus'"), std::string::npos);
  EXPECT_NE(r.err.find("missing required field 'economics'"), std::string::npos);

  CliRun j = Cli({"plan", path, "--json"}, clock);
  EXPECT_EQ(j.code, kExitInvalidInput);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_FALSE(doc.contains("use_cases"));
  EXPECT_GE(doc["diagnostics"].size(), 3u);
  EXPECT_EQ(doc["diagnostics"][0]["line"], 1);
}

TEST(Cli, UsageErrorsExit2) {
  ManualClock clock(Day("2026-11-25"));
  EXPECT_EQ(Cli({}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"plan"}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"plan", "/nonexistent/plant.yaml"}, clock).code, kExitUsage);
  CliRun bad_date = Cli({"plan", ExamplePlant(), "--as-of", "tomorrow"}, clock);
  EXPECT_EQ(bad_date.code, kExitUsage);
  EXPECT_NE(bad_date.err.find("expected YYYY-MM-DD"), std::string::npos);
  EXPECT_EQ(Cli({"--log-level", "chatty", "plan", ExamplePlant()}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"--help"}, clock).code, kExitOk);
}

}  // namespace
}  // namespace weft::cli

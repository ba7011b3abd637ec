#include "cli/kpi_cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "core/kpi/kpi_test_util.h"
#include "testing/test_env.h"

namespace weft::cli {
namespace {

using namespace ::weft::core::kpi::testing;  // NOLINT(google-build-using-namespace)
using json = nlohmann::json;

struct KpiRun {
  int code;
  std::string out, err;
};

class KpiCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    lake_ = dir_->path() + "/lake";
    plant_file_ = dir_->path() + "/plant.yaml";
    std::ofstream(plant_file_) << kTestPlant;
    plant_ = TestPlant();
  }
  KpiRun Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "weft");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    const int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err, clock_);
    return {code, out.str(), err.str()};
  }
  // cv1 runs all Monday's early shift but for a 30-minute jam at 10:00; one part a minute.
  void WriteShift() {
    std::vector<Sample> s;
    const int64_t early = kMonday + 6 * kHour;
    for (int64_t t = early; t < early + 8 * kHour; t += kMin) {
      const bool jam = t >= early + 4 * kHour && t < early + 4 * kHour + 30 * kMin;
      s.push_back({t, "cv1", "state", jam ? 0.0 : 2.0});
      s.push_back({t, "cv1", "down_reason", jam ? 1.0 : 0.0});
      s.push_back({t, "cv1", "good_count", static_cast<double>((t - early) / kMin)});
      s.push_back({t, "cv1", "reject_count", 0});
    }
    WriteTelemetry(lake_, plant_, s, &clock_);
  }

  ManualClock clock_{TimeFromUnixMicros(kMonday + 30 * kDay)};
  std::optional<weft::testing::TempDir> dir_;
  std::string lake_, plant_file_;
  model::Plant plant_;
};

TEST_F(KpiCliTest, ComputeShowAndRoadmap) {
  WriteShift();
  KpiRun c = Cli({"kpi", "compute", "--lake", lake_, "--plant", plant_file_, "--from", "2026-11-02",
                  "--to", "2026-11-03", "--json"});
  ASSERT_EQ(c.code, kExitOk) << c.err;
  json j = json::parse(c.out);
  EXPECT_EQ(j["from"], "2026-11-02T00:00:00.000000Z");
  EXPECT_TRUE(j["run_id"].is_string());
  // Early shift: the last sample (13:59) holds past 14:00, so no data is lost; run 8 h - 30 min
  // of jam = 27000 s of 28800: availability 27000 / 28800 = 0.9375.
  bool found = false;
  for (const json& o : j["oee"]) {
    if (o["line"] == "l1" && o["shift"] == "early") {
      found = true;
      EXPECT_NEAR(o["availability"].get<double>(), 0.9375, 1e-12);
      EXPECT_EQ(o["instances"], 1);
    }
  }
  EXPECT_TRUE(found) << c.out;

  KpiRun table = Cli({"kpi", "compute", "--lake", lake_, "--plant", plant_file_, "--from",
                      "2026-11-02", "--to", "2026-11-03"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("OEE per line and shift"), std::string::npos);
  EXPECT_NE(table.out.find("93.8%"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("not measured: no measurement is defined for KPI 'time_to_trace'"),
            std::string::npos);

  KpiRun show = Cli({"kpi", "show", "--lake", lake_, "--kpi", "availability", "--json"});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  json rows = json::parse(show.out)["kpis"];
  ASSERT_FALSE(rows.empty());
  for (const json& r : rows) EXPECT_EQ(r["kpi"], "availability");
  KpiRun show_table = Cli({"kpi", "show", "--lake", lake_, "--use-case", "trace"});
  ASSERT_EQ(show_table.code, kExitOk);
  EXPECT_NE(show_table.out.find("use case trace"), std::string::npos) << show_table.out;

  KpiRun roadmap =
      Cli({"roadmap", "--quarter", "2026Q4", "--lake", lake_, "--plant", plant_file_, "--json"});
  ASSERT_EQ(roadmap.code, kExitOk) << roadmap.err;
  json r = json::parse(roadmap.out);
  EXPECT_EQ(r["quarter"], "2026Q4");
  EXPECT_EQ(r["use_cases"].size(), 6u);
  KpiRun roadmap_table =
      Cli({"roadmap", "--quarter", "2026Q4", "--lake", lake_, "--plant", plant_file_});
  ASSERT_EQ(roadmap_table.code, kExitOk) << roadmap_table.err;
  EXPECT_NE(roadmap_table.out.find("trace"), std::string::npos);
}

TEST_F(KpiCliTest, BadInputExitsTwoWithAClearMessage) {
  KpiRun bad_date = Cli({"kpi", "compute", "--lake", lake_, "--plant", plant_file_, "--from",
                         "2026-13-01", "--to", "2026-11-03"});
  EXPECT_EQ(bad_date.code, kExitUsage);
  EXPECT_NE(bad_date.err.find("weft kpi compute: --from"), std::string::npos) << bad_date.err;
  KpiRun backwards = Cli({"kpi", "compute", "--lake", lake_, "--plant", plant_file_, "--from",
                          "2026-11-03", "--to", "2026-11-02"});
  EXPECT_EQ(backwards.code, kExitUsage);
  EXPECT_NE(backwards.err.find("--from must be before --to"), std::string::npos);
  KpiRun no_lake = Cli({"kpi", "compute", "--lake", lake_ + "/nope", "--plant", plant_file_,
                        "--from", "2026-11-02", "--to", "2026-11-03"});
  EXPECT_EQ(no_lake.code, kExitUsage);
  EXPECT_NE(no_lake.err.find("there is no lake at"), std::string::npos) << no_lake.err;
  std::filesystem::create_directories(lake_);
  KpiRun no_telemetry = Cli({"kpi", "compute", "--lake", lake_, "--plant", plant_file_, "--from",
                             "2026-11-02", "--to", "2026-11-03"});
  EXPECT_EQ(no_telemetry.code, kExitUsage) << no_telemetry.err;
  KpiRun no_plant = Cli({"kpi", "compute", "--lake", lake_, "--plant", lake_ + "/missing.yaml",
                         "--from", "2026-11-02", "--to", "2026-11-03"});
  EXPECT_EQ(no_plant.code, kExitUsage);
  KpiRun no_table = Cli({"kpi", "show", "--lake", lake_});
  EXPECT_EQ(no_table.code, kExitUsage);
  EXPECT_NE(no_table.err.find("weft kpi compute"), std::string::npos) << no_table.err;
  KpiRun quarter = Cli({"roadmap", "--quarter", "2027Q5", "--lake", lake_, "--plant", plant_file_});
  EXPECT_EQ(quarter.code, kExitUsage);
  EXPECT_NE(quarter.err.find("weft roadmap: --quarter"), std::string::npos) << quarter.err;
  // An invalid plant.yaml: its diagnostics, exit 1.
  const std::string bad_plant = dir_->path() + "/bad.yaml";
  std::ofstream(bad_plant) << "weft: 1\nbogus: 1\n";
  KpiRun invalid = Cli({"roadmap", "--quarter", "2027Q1", "--lake", lake_, "--plant", bad_plant});
  EXPECT_EQ(invalid.code, kExitInvalidInput);
  EXPECT_NE(invalid.err.find("bogus"), std::string::npos) << invalid.err;
}

}  // namespace
}  // namespace weft::cli

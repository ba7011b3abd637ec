// Local inference in the scenario: the `inference:` file, the signals and policies it brings, and
// a short run whose model writes predictions from go-live on.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "core/scenario/scenario.h"
#include "lake/lake_table.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::core::scenario {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kMon = 1'793'577'600'000'000;  // Monday 2026-11-02T00:00:00Z

// A 2-tree binary:logistic model on 3 features (edge/inference's test fixture). Both trees
// split feature 0 at 0.50443727 (NaN goes left); leaves -0.5769231 / +0.5769231 and
// -0.44899115 / +0.44899115, base_score 0.5 (margin 0). So feature 0 >= 0.5044 gives
// sigmoid(0.5769231 + 0.44899115) = sigmoid(1.02591425) = 0.736123, else 0.263877.
constexpr double kHigh = 0.736123;

std::string Fixture() {
  return (fs::path(testing::ExamplePlantPath()).parent_path() /
          "../src/edge/inference/testdata/fuzz_seeds/small_logistic.json")
      .string();
}

// Writes DIR/models/risk.json (the fixture) and DIR/inference.yaml running it on every motor
// with feature 0 = vibration_rms's last value; the artifact path is relative to the file.
std::string WriteInferenceFile(const std::string& dir) {
  fs::create_directories(fs::path(dir) / "models");
  fs::copy_file(Fixture(), fs::path(dir) / "models" / "risk.json",
                fs::copy_options::overwrite_existing);
  const std::string path = dir + "/inference.yaml";
  std::ofstream(path) << "id: edge-test\n"
                         "inference:\n"
                         "  models:\n"
                         "    - name: bearing_risk\n"
                         "      artifact: models/risk.json\n"
                         "      version: \"1\"\n"
                         "      asset_type: motor\n"
                         "      window: 4\n"
                         "      threshold: 0.5\n"
                         "      period: 60s\n"
                         "      features:\n"
                         "        - {signal: vibration_rms, stats: [last, mean, max]}\n";
  return path;
}

TEST(LoadInferenceFileTest, ResolvesArtifactsAgainstTheFilesDirectory) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  Diagnostics diags;
  Result<edge::inference::InferenceConfig> c =
      LoadInferenceFile(WriteInferenceFile(dir->path()), &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString() << diags.ToString();
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(fs::path(c->models[0].artifact).lexically_normal(),
            fs::path(dir->path() + "/models/risk.json").lexically_normal());
  EXPECT_EQ(c->models[0].version, "1");
  EXPECT_EQ(c->models[0].num_features(), 3u);
}

TEST(LoadInferenceFileTest, ErrorsNameTheFileLineAndColumn) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/bad.yaml";
  // Line 5, column 18: the threshold's value.
  std::ofstream(path) << "inference:\n"
                         "  models:\n"
                         "    - name: m\n"
                         "      artifact: m.json\n"
                         "      threshold: high\n";
  Diagnostics diags;
  Result<edge::inference::InferenceConfig> c = LoadInferenceFile(path, &diags);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(diags.ToString().find(path + ":5:18"), std::string::npos) << diags.ToString();

  Diagnostics more;
  EXPECT_EQ(LoadInferenceFile(dir->path() + "/none.yaml", &more).status().code(),
            StatusCode::kNotFound);
  // A file without the section runs nothing: refused rather than silently ignored.
  std::ofstream(dir->path() + "/empty.yaml") << "id: edge-1\n";
  Result<edge::inference::InferenceConfig> empty =
      LoadInferenceFile(dir->path() + "/empty.yaml", &more);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no `inference:` section"), std::string::npos);
}

TEST(ScenarioPlantTest, KeepsTheSignalsTheInferenceReadsAndSendsThemRawOnceAMinute) {
  edge::inference::InferenceConfig config;
  edge::inference::ModelConfig m;
  m.name = "risk";
  m.asset_type = "motor";
  m.features = {{"vibration_rms", {edge::inference::Stat::kLast}},
                {"bearing_temp_de", {edge::inference::Stat::kLast}}};
  config.models.push_back(m);
  const model::Plant& plant = testing::ExamplePlant();
  const model::Plant p = ScenarioPlant(plant, false, &config);
  // Motors get the model's inputs they have (l1-mo-01 has no bearing_temp_de); pumps do not.
  EXPECT_TRUE(p.FindAsset("l1-sp-01")->HasSignal("bearing_temp_de"));
  EXPECT_FALSE(p.FindAsset("l1-sp-01")->HasSignal("winding_temp"));
  EXPECT_FALSE(p.FindAsset("l1-mo-01")->HasSignal("bearing_temp_de"));
  EXPECT_FALSE(p.FindAsset("l1-cp-01")->HasSignal("bearing_temp"));
  EXPECT_FALSE(ScenarioPlant(plant, false).FindAsset("l1-sp-01")->HasSignal("bearing_temp_de"));

  Result<edge::SignalTable> table = edge::SignalTable::FromPlant(p, {});
  ASSERT_TRUE(table.ok());
  const std::vector<edge::SignalPolicy> with = EdgePolicies(*table, &config);
  const std::vector<edge::SignalPolicy> without = EdgePolicies(*table);
  auto policy = [&](const std::vector<edge::SignalPolicy>& v, const char* asset,
                    const char* signal) {
    std::optional<edge::SignalId> id = table->Find(asset, signal);
    EXPECT_TRUE(id.has_value()) << asset << "." << signal;
    return v[id.value_or(0)];
  };
  // vibration_rms keeps its 15-min windows (PdM) and goes up raw once a minute as well.
  const edge::SignalPolicy vib = policy(with, "l1-sp-01", "vibration_rms");
  EXPECT_EQ(vib.route, edge::Route::kRawAndAggregate);
  EXPECT_EQ(vib.window, std::chrono::minutes(15));
  EXPECT_EQ(vib.min_interval, std::chrono::seconds(60));
  EXPECT_EQ(vib.deadband, 0);
  EXPECT_EQ(policy(without, "l1-sp-01", "vibration_rms").route, edge::Route::kAggregate);
  // A temperature loses its deadband and heartbeat: one value a minute, on the same ticks.
  const edge::SignalPolicy temp = policy(with, "l1-sp-01", "bearing_temp_de");
  EXPECT_EQ(temp.route, edge::Route::kRaw);
  EXPECT_EQ(temp.deadband, 0);
  EXPECT_EQ(temp.min_interval, std::chrono::seconds(60));
  EXPECT_EQ(temp.max_interval, Micros(0));
  EXPECT_EQ(policy(without, "l1-sp-01", "bearing_temp_de").deadband, 0.1);
  // Not a model input: as without inference (the compressor is no motor).
  EXPECT_EQ(policy(with, "lyon-ac-01", "vibration_rms").route, edge::Route::kAggregate);
  EXPECT_EQ(policy(with, "l1-sp-01", "energy").max_interval, std::chrono::seconds(60));
}

// One baseline day and one live day at a 1-min tick, no faults, no PdM or loops: the model runs
// on every motor with a vibration sensor from go-live on.
TEST(ScenarioInferenceTest, TheModelWritesPredictionsFromGoLiveOn) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  Diagnostics diags;
  Result<edge::inference::InferenceConfig> config =
      LoadInferenceFile(WriteInferenceFile(dir->path()), &diags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ScenarioOptions o;
  o.lake_root = dir->path() + "/lake";
  o.start = TimeFromUnixMicros(kMon + kDay);
  o.days = 1;
  o.baseline_days = 1;
  o.tick = std::chrono::seconds(60);
  o.optimiser = false;
  o.pdm = false;
  o.faults = std::vector<sim::ScheduledFault>{};
  o.inference = *config;
  Result<ScenarioReport> r = RunScenario(testing::ExamplePlant(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // The example's motors with vibration_rms: l1-sp-01..04, l1-mo-01, l2-pr-01, l2-pr-04,
  // b1-mo-01, b1-mo-02 (l1-sp-05/06, l2-pr-02/03 and b1-mo-03 lack the sensor: never run).
  ASSERT_EQ(r->models.size(), 1u);
  EXPECT_EQ(r->models[0].name, "bearing_risk");
  EXPECT_EQ(r->models[0].version, "1");
  EXPECT_EQ(r->models[0].assets, 9u);
  // One run a minute per motor over the live day: 9 x 1440.
  EXPECT_EQ(r->model_runs, 9u * 1440u);
  const uint64_t rows = r->rows[static_cast<size_t>(LakeTableId::kPredictions)];
  EXPECT_EQ(rows, r->models[0].predictions);
  EXPECT_GT(rows, 0u);

  ManualClock clock(TimeFromUnixMicros(0));
  auto table = OpenTable(o.lake_root, LakeTableId::kPredictions, &clock);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  lake::ScanOptions so;
  so.columns = {"ts", "asset", "model", "model_version", "value", "threshold"};
  std::map<std::string, uint64_t> by_asset;
  uint64_t scanned = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  Status s = (*table)->Scan(so, [&](const lake::RecordBatch& b) {
    for (size_t i = 0; i < b.num_rows(); ++i) {
      ++scanned;
      first = std::min(first, b.column(0).IntAt(i));
      last = std::max(last, b.column(0).IntAt(i));
      ++by_asset[std::string(b.column(1).StringAt(i))];
      EXPECT_EQ(b.column(2).StringAt(i), "bearing_risk");
      EXPECT_EQ(b.column(3).StringAt(i), "1");
      // Emitted at or above the threshold: only the high leaf pair, 0.736123 (float precision).
      EXPECT_NEAR(b.column(4).DoubleAt(i), kHigh, 1e-6);
      EXPECT_EQ(b.column(5).DoubleAt(i), 0.5);
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(scanned, rows);
  // None in the baseline day: the first at go-live's first tick, the last at the run's last.
  EXPECT_EQ(first, kMon + kDay);
  EXPECT_EQ(last, kMon + 2 * kDay - 60'000'000);
  // The motors run all day (no fault, nothing stops them) and their vibration (about 1 mm/s
  // plus noise) stays above 0.5044: every run is the high leaf pair, a row each.
  EXPECT_EQ(rows, 9u * 1440u);
  const std::map<std::string, uint64_t> expected = {
      {"b1-mo-01", 1440}, {"b1-mo-02", 1440}, {"l1-mo-01", 1440},
      {"l1-sp-01", 1440}, {"l1-sp-02", 1440}, {"l1-sp-03", 1440},
      {"l1-sp-04", 1440}, {"l2-pr-01", 1440}, {"l2-pr-04", 1440}};
  EXPECT_EQ(by_asset, expected);
  const std::string text = ScenarioReportText(*r);
  EXPECT_NE(text.find("bearing_risk@1 on 9 assets: " + std::to_string(rows) + " predictions"),
            std::string::npos)
      << text;
}

TEST(ScenarioInferenceTest, AModelThatDoesNotLoadStopsTheRunWithItsPlace) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string path = WriteInferenceFile(dir->path());
  fs::remove(fs::path(dir->path()) / "models" / "risk.json");
  Diagnostics diags;
  Result<edge::inference::InferenceConfig> config = LoadInferenceFile(path, &diags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ScenarioOptions o;
  o.lake_root = dir->path() + "/lake";
  o.days = 1;
  o.tick = std::chrono::seconds(60);
  o.inference = *config;
  Result<ScenarioReport> r = RunScenario(testing::ExamplePlant(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("scenario: local inference"))
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("risk.json"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(fs::exists(o.lake_root)) << "nothing is written before the model loads";
}

}  // namespace
}  // namespace weft::core::scenario

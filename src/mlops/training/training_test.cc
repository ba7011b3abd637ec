#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "common/clock.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "edge/inference/tree_model.h"
#include "lake/lake_table.h"
#include "mlops/training/dataset.h"
#include "mlops/training/evaluation.h"
#include "mlops/training/test_spec.h"
#include "mlops/training/train_spec.h"
#include "mlops/training/trainer.h"
#include "mlops/twins/twin_registry.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

using namespace std::chrono_literals;

using test_specs::kSmallSpec;

TrainSpec MustParse(std::string_view text) {
  Diagnostics diags;
  Result<TrainSpec> s = ParseTrainSpec(text, "spec.yaml", &diags);
  EXPECT_TRUE(s.ok()) << diags.ToString();
  return s.ok() ? *s : TrainSpec{};
}

std::filesystem::path TempDir(const std::string& name) {
  static std::atomic<int> n{0};
  auto p = std::filesystem::temp_directory_path() /
           ("weft_training_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// One Train() of the acceptance spec, shared by the tests that need a model.
const TrainResult& Trained() {
  static const TrainResult* result = [] {
    ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
    Result<TrainResult> r = Train(MustParse(kSmallSpec), {.base_dir = ".", .clock = &clock});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return new TrainResult(r.ok() ? std::move(r).value() : TrainResult{});
  }();
  return *result;
}

TEST(TrainSpecTest, ParsesTheExample) {
  const char* src = std::getenv("WEFT_SOURCE_DIR");
  std::string dir = src != nullptr ? src : WEFT_TRAINING_SOURCE_DIR;
  std::ifstream in(dir + "/examples/models/bearing_risk.yaml");
  ASSERT_TRUE(in) << "examples/models/bearing_risk.yaml";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TrainSpec spec = MustParse(text);
  EXPECT_EQ(spec.name, "bearing_risk");
  EXPECT_EQ(spec.horizon, 48h);
  ASSERT_TRUE(spec.scenarios);
  EXPECT_EQ(spec.scenarios->row_every, 10min);
  EXPECT_EQ(spec.scenarios->fault_start_s.hi, 3 * 86400.0);
  EXPECT_EQ(spec.num_features(), 9u);
  EXPECT_EQ(spec.MonotoneConstraints(), "(1,1,1,0,1,1,0,0,0)");
  EXPECT_EQ(spec.sha256.size(), 64u);
  // The thermal residual the card asks the monitor to watch (its healthy stats are measured).
  ASSERT_TRUE(spec.monitoring.thermal_residual);
  const ThermalResidualMonitoring& t = *spec.monitoring.thermal_residual;
  EXPECT_EQ(t.residual.twin_model, "motor");
  EXPECT_EQ(t.residual.output, "winding_temp");
  EXPECT_EQ(t.residual.measured_signal, "winding_temp");
  ASSERT_EQ(t.residual.inputs.size(), 2u);
  EXPECT_EQ(t.residual.inputs[0].input, "load");
  EXPECT_EQ(t.residual.inputs[0].signal, "current");
  // load = (I - 10 A)/(28 A - 10 A): 22.6 A is load 0.7.
  EXPECT_NEAR(t.residual.inputs[0].scale * 22.6 + t.residual.inputs[0].offset, 0.7, 1e-5);
  EXPECT_EQ(t.residual.inputs[0].max, 1.2);
  EXPECT_EQ(t.residual.inputs[1].input, "running");
  EXPECT_TRUE(t.residual.inputs[1].signal.empty());
  EXPECT_EQ(t.residual.inputs[1].constant, 1);
  EXPECT_EQ(t.residual.k_sigma, 4);
  EXPECT_EQ(t.residual.trend_windows, 4);
  EXPECT_EQ(t.residual.warmup_s, 600);
  EXPECT_EQ(t.window, 1h);
  EXPECT_EQ(t.sample_period, 60s);
}

// The head of a spec whose thermal_residual sections the next test varies (14 lines).
constexpr char kThermalHead[] = R"(name: m
asset_type: motor
output: risk
task: failure_within_horizon
horizon: 48h
window: 32
features:
  - {signal: winding_temp, stats: [last]}
scenarios:
  twin: {model: motor}
  runs: 4
  duration: 1d
  row_every: 10m
threshold: 0.5
)";

std::string ThermalErrors(const std::string& text) {
  Diagnostics diags;
  Result<TrainSpec> s = ParseTrainSpec(text, "bad.yaml", &diags);
  EXPECT_FALSE(s.ok()) << text;
  return diags.ToString();
}

TEST(TrainSpecTest, ThermalResidualErrorsNameTheirPlace) {
  // Field errors, each at its line (the section starts at line 15).
  const std::string fields = ThermalErrors(std::string(kThermalHead) + R"(monitoring:
  thermal_residual:
    output: winding_temp
    inputs:
      - {input: load, signal: current, constant: 0.7}
      - {input: running, constant: 1, scale: 2}
      - {signal: current}
      - {input: ambient_temp}
      - {input: load, signal: current, min: 1, max: 0}
    healthy_sigma: 2.5
    k_sigma: 0
    trend_windows: 2
    window: 5min
    colour: red
)");
  for (const char* want :
       {"bad.yaml:19:", "monitoring.thermal_residual.inputs[0].constant: give either 'signal'",
        "bad.yaml:20:", "inputs[1].scale: 'scale' maps a signal",
        "bad.yaml:21:", "inputs[2].input",
        "bad.yaml:22:", "inputs[3]: a twin input needs 'signal'",
        "bad.yaml:23:", "inputs[4].max: max (0) must be >= min (1)",
        "bad.yaml:24:", "healthy_sigma: healthy_sigma is measured by training",
        "bad.yaml:25:", "k_sigma: k_sigma must be > 0",
        "bad.yaml:26:", "trend_windows:",
        "bad.yaml:27:", "window: window (5min) must hold 10 to 100000 sample periods (1min)",
        "bad.yaml:28:", "unknown field 'colour'"}) {
    EXPECT_NE(fields.find(want), std::string::npos) << want << "\n" << fields;
  }
  // Names checked against the scenarios' twin, with hints.
  const std::string names = ThermalErrors(std::string(kThermalHead) + R"(monitoring:
  thermal_residual:
    output: winding_temperature
    inputs:
      - {input: lod, signal: current}
      - {input: running, signal: spindle_load}
)");
  for (const char* want :
       {"bad.yaml:17:", "output: output 'winding_temperature' is not an output of twin 'motor'",
        "bad.yaml:19:", "twin 'motor' has no input 'lod'", "did you mean 'load'", "bad.yaml:20:",
        "signal 'spindle_load' is neither an output of twin 'motor' nor an input the scenario "
        "runs drive"}) {
    EXPECT_NE(names.find(want), std::string::npos) << want << "\n" << names;
  }
  // Another twin than the scenarios', no healthy run, no scenarios at all.
  const std::string twin = ThermalErrors(std::string(kThermalHead) + R"(monitoring:
  thermal_residual: {twin: pump, output: winding_temp, inputs: [{input: running, constant: 1}]}
)");
  EXPECT_NE(twin.find("bad.yaml:16:28: error: monitoring.thermal_residual.twin: the healthy "
                      "statistics are measured on the scenarios' runs of twin 'motor'"),
            std::string::npos)
      << twin;
  std::string all_faulty = std::string(kThermalHead) + R"(monitoring:
  thermal_residual: {output: winding_temp, inputs: [{input: running, constant: 1}]}
)";
  all_faulty.replace(all_faulty.find("  runs: 4"), 9, "  runs: 4\n  fault_fraction: 0.9");
  const std::string faulty = ThermalErrors(all_faulty);
  EXPECT_NE(faulty.find("bad.yaml:17:"), std::string::npos) << faulty;
  EXPECT_NE(faulty.find("the scenarios have no healthy run (round(fault_fraction x runs) = runs)"),
            std::string::npos)
      << faulty;
  const std::string no_scenarios = ThermalErrors(R"(name: m
asset_type: motor
output: risk
task: failure_within_horizon
horizon: 48h
window: 32
features:
  - {signal: winding_temp, stats: [last]}
field_data: {telemetry: lake/telemetry, version: 1, from: 2026-01-01T00:00:00Z,
             to: 2026-01-02T00:00:00Z, labels: labels.csv}
monitoring:
  thermal_residual: {output: winding_temp, inputs: [{input: running, constant: 1}]}
threshold: 0.5
)");
  EXPECT_NE(no_scenarios.find("bad.yaml:12:"), std::string::npos) << no_scenarios;
  EXPECT_NE(no_scenarios.find("thermal_residual needs 'scenarios'"), std::string::npos)
      << no_scenarios;
}

TEST(TrainSpecTest, ErrorsNameTheFieldPath) {
  constexpr char kBad[] = R"(name: m
asset_type: motor
output: risk
task: failure_within_horizon
horizon: 48 hours
window: 32
features:
  - {signal: vibration_rms, stats: [last, median]}
monotone: {vibraton_rms: increasing}
scenarios:
  twin: {model: motor}
  runs: 4
  duration: 1d
  row_every: 10m
  severity: [1.0, 0.5]
holdout: {fraction: 1.5}
xgboost: {rounds: 10, depht: 3}
threshold: 0.5
)";
  Diagnostics diags;
  Result<TrainSpec> s = ParseTrainSpec(kBad, "bad.yaml", &diags);
  ASSERT_FALSE(s.ok());
  const std::string all = diags.ToString();
  for (const char* want :
       {"bad.yaml:5:10: error: horizon:", "bad.yaml:8:", "features[0].stats[1]: unknown stat",
        "monotone.vibraton_rms:", "did you mean 'vibration_rms'",
        "scenarios.severity:", "holdout.fraction:", "xgboost.depht"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
  }
  Diagnostics d2;
  EXPECT_FALSE(ParseTrainSpec("name: m\n", "empty.yaml", &d2).ok());
  EXPECT_NE(d2.ToString().find("'scenarios' or 'field_data'"), std::string::npos) << d2.ToString();
}

TEST(DatasetTest, ShapeAndLabels) {
  std::string text = kSmallSpec;
  text.replace(text.find("runs: 32"), 8, "runs: 4");
  text.replace(text.find("fault_fraction: 0.7"), 19, "fault_fraction: 0.5");
  TrainSpec spec = MustParse(text);
  Result<Dataset> ds = BuildScenarioDataset(spec);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_EQ(ds->runs.size(), 4u);
  EXPECT_EQ(ds->feature_names.size(), 9u);
  EXPECT_EQ(ds->feature_names[0], "vibration_rms.last");
  const double horizon_s = 48 * 3600;
  for (uint32_t r = 0; r < 4; ++r) {
    const RunInfo& info = ds->runs[r];
    size_t rows = 0, positives = 0;
    int64_t prev = 0;
    for (const DatasetRow& row : ds->rows) {
      if (row.run != r) continue;
      ++rows;
      ASSERT_EQ(row.features.size(), 9u);
      for (float f : row.features) ASSERT_FALSE(std::isnan(f));
      EXPECT_GT(row.ts_us, prev);
      EXPECT_EQ((row.ts_us - prev) % 600'000'000, 0);
      prev = row.ts_us;
      if (info.failure_us) {
        ASSERT_LT(row.ts_us, *info.failure_us);
        const double ttf = static_cast<double>(*info.failure_us - row.ts_us) * 1e-6;
        EXPECT_DOUBLE_EQ(row.time_to_failure_s, ttf);
        EXPECT_EQ(row.label, ttf <= horizon_s ? 1.0f : 0.0f) << info.id << " ttf " << ttf;
      } else {
        EXPECT_EQ(row.label, 0.0f);
        EXPECT_TRUE(std::isinf(row.time_to_failure_s));
      }
      positives += row.label > 0.5f ? size_t{1} : size_t{0};
    }
    if (r < 2) {  // the first round(0.5 * 4) runs carry bearing wear and fail
      ASSERT_TRUE(info.fault);
      ASSERT_TRUE(info.failure_us) << info.id;
      ASSERT_TRUE(info.fault_start_us);
      EXPECT_LT(*info.fault_start_us, *info.failure_us);
      // Every 10 min of the last 48 h before the failure is a positive row (±1 at the edges).
      EXPECT_NEAR(static_cast<double>(positives), 48 * 6, 1.0) << info.id;
    } else {
      EXPECT_FALSE(info.fault);
      EXPECT_EQ(rows, 10u * 24 * 6) << info.id;  // a healthy run lasts the whole duration
      EXPECT_EQ(positives, 0u);
    }
  }
  // Deterministic for a seed.
  Result<Dataset> again = BuildScenarioDataset(spec);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->rows.size(), ds->rows.size());
  EXPECT_EQ(again->rows[100].features, ds->rows[100].features);
}

TEST(TrainerTest, TreeModelMatchesXgboostAndMonotoneHolds) {
  const TrainResult& r = Trained();
  ASSERT_FALSE(r.model_json.empty());
  auto tree = edge::inference::TreeModel::Parse(r.model_json, "bearing_risk", "t");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  // Held-out-like rows: a fresh scenario set with another seed (never trained on).
  std::string text = kSmallSpec;
  text.replace(text.find("runs: 32"), 8, "runs: 3");
  text.replace(text.find("seed: 7"), 7, "seed: 99");
  TrainSpec spec = MustParse(text);
  Result<Dataset> ds = BuildScenarioDataset(spec);
  ASSERT_TRUE(ds.ok());
  std::vector<size_t> all;
  for (size_t i = 0; i < ds->rows.size(); i += 7) all.push_back(i);
  std::vector<float> x = ds->Matrix(all);
  Result<std::vector<float>> ref = XgboostPredict(r.model_json, x, 9);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_EQ(ref->size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_NEAR((*tree)->PredictUnchecked(&x[i * 9]), (*ref)[i], 1e-6f) << "row " << i;
  }
  // Monotone: raising vibration (last, mean, max together) or bearing temperature never lowers
  // the risk, from any starting row.
  for (size_t i = 0; i < all.size(); i += 5) {
    std::vector<float> f(x.begin() + static_cast<std::ptrdiff_t>(i * 9),
                         x.begin() + static_cast<std::ptrdiff_t>(i * 9 + 9));
    float prev = -1;
    for (float v = 0.5f; v <= 15.0f; v += 0.25f) {
      f[0] = f[1] = f[2] = v;
      const float p = (*tree)->PredictUnchecked(f.data());
      EXPECT_GE(p, prev) << "vibration " << v << " row " << i;
      prev = p;
    }
    prev = -1;
    for (float t = 10; t <= 120; t += 1) {
      f[4] = f[5] = t;
      const float p = (*tree)->PredictUnchecked(f.data());
      EXPECT_GE(p, prev) << "bearing temp " << t << " row " << i;
      prev = p;
    }
  }
  // The card carries the reference quantiles for every feature.
  ASSERT_TRUE(r.card.contains("reference"));
  const auto& q = r.card["reference"]["vibration_rms.last"];
  EXPECT_LE(q["p0"].get<double>(), q["p50"].get<double>());
  EXPECT_LE(q["p50"].get<double>(), q["p100"].get<double>());
  EXPECT_EQ(r.card["feature_names"].size(), 9u);
  EXPECT_EQ(r.lineage["scenarios"]["twin"]["version"], "1.0.0");
  EXPECT_EQ(r.lineage["spec"]["sha256"].get<std::string>().size(), 64u);
}

TEST(EvaluationTest, HandBuiltArithmetic) {
  // Three runs, rows every hour: a failure run (fault at h1, failure at h10), a failure run
  // whose alarm is too early (at h0, before its fault), a healthy run with two alarms.
  Dataset ds;
  ds.feature_names = {"s"};
  auto hour = [](int h) { return int64_t{h} * 3'600'000'000; };
  ds.runs = {{"a", "a", "twin", true, hour(1), hour(10), 1, 0, 0},
             {"b", "b", "twin", true, hour(5), hour(10), 1, 0, 0},
             {"c", "c", "twin", false, std::nullopt, std::nullopt, 0, 0, 0}};
  //            h: 0    1    2    3    4    5    6    7    8    9
  const float sa[] = {0.1f, 0.2f, 0.1f, 0.6f, 0.7f, 0.2f, 0.6f, 0.6f, 0.6f, 0.9f};
  const float sb[] = {0.9f, 0.9f, 0.9f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
  const float sc[] = {0.6f, 0.6f, 0.6f, 0.6f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
  std::vector<size_t> rows;
  std::vector<float> scores;
  for (uint32_t r = 0; r < 3; ++r) {
    for (int h = 0; h < 10; ++h) {
      DatasetRow row;
      row.run = r;
      row.ts_us = hour(h);
      row.features = {0};
      row.label = (r < 2 && 10 - h <= 4) ? 1.0f : 0.0f;  // horizon 4 h
      rows.push_back(ds.rows.size());
      ds.rows.push_back(row);
      scores.push_back(r == 0 ? sa[h] : r == 1 ? sb[h] : sc[h]);
    }
  }
  EvaluationOptions o{.threshold = 0.5, .consecutive = 3, .horizon = 4h};
  ScoreReport rep = ScoreRuns("model", "s", ds, rows, scores, o);
  // Rows >= 0.5: a: h3 h4 h6 h7 h8 h9 (positives h6..h9) -> tp 4, fp 2;
  // b: h0 h1 h2 -> fp 3, fn 4 (h6..h9); c: h0..h3 -> fp 4.
  EXPECT_EQ(rep.rows.tp, 4u);
  EXPECT_EQ(rep.rows.fp, 9u);
  EXPECT_EQ(rep.rows.fn, 4u);
  EXPECT_EQ(rep.rows.tn, 13u);
  EXPECT_DOUBLE_EQ(rep.rows.precision, 4.0 / 13);
  EXPECT_DOUBLE_EQ(rep.rows.recall, 0.5);
  // Runs: a alarms at h8 (h6, h7, h8): detected, lead 2 h. b alarms at h2, before its fault:
  // false alarm and a miss. c alarms at h2: false alarm.
  ASSERT_EQ(rep.outcomes.size(), 3u);
  EXPECT_TRUE(rep.outcomes[0].detected);
  EXPECT_DOUBLE_EQ(rep.outcomes[0].lead_h, 2);
  EXPECT_EQ(rep.outcomes[1].alarm_us, hour(2));
  EXPECT_TRUE(rep.outcomes[1].false_alarm);
  EXPECT_TRUE(rep.outcomes[2].false_alarm);
  EXPECT_EQ(rep.runs.failure_runs, 2u);
  EXPECT_EQ(rep.runs.healthy_runs, 1u);
  EXPECT_EQ(rep.runs.detected, 1u);
  EXPECT_EQ(rep.runs.missed, 1u);
  EXPECT_EQ(rep.runs.false_alarms, 2u);
  EXPECT_DOUBLE_EQ(rep.runs.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(rep.runs.recall, 0.5);
  EXPECT_DOUBLE_EQ(rep.runs.f1, 0.4);
  EXPECT_DOUBLE_EQ(rep.runs.median_lead_h, 2);
  // An alarm more than max_lead (3 x 4 h = 12 h) before the failure is a false alarm too.
  o.horizon = 1h;  // max lead 3 h: a's alarm 2 h before still counts
  EXPECT_TRUE(ScoreRuns("m", "s", ds, rows, scores, o).outcomes[0].detected);
  o.max_lead = 1h;
  EXPECT_FALSE(ScoreRuns("m", "s", ds, rows, scores, o).outcomes[0].detected);
  // The baseline threshold is chosen for run-level F1 on the given rows.
  for (size_t i = 0; i < rows.size(); ++i) ds.rows[i].features[0] = scores[i];
  o.max_lead = 0us;
  o.horizon = 4h;
  // Thresholds up to 0.6 give F1 0.4 (a detected; b and c false alarms), 0.7 and above 0 (no
  // run alarms 3 rows in a row but b): ties go to the lowest threshold.
  const double t = ChooseBaselineThreshold(ds, rows, 0, o);
  EXPECT_LE(t, 0.6);
  o.threshold = t;
  EXPECT_DOUBLE_EQ(ScoreRuns("b", "s", ds, rows, scores, o).runs.f1, 0.4);
  std::vector<double> v = {3, 1, 2, std::nan(""), 4};
  EXPECT_DOUBLE_EQ(Quantile(v, 0.5), 2.5);
}

TEST(TrainerTest, AcceptanceModelBeatsVibrationBaseline) {
  const TrainResult& r = Trained();
  ASSERT_TRUE(r.metrics.baseline);
  const RunMetrics& m = r.metrics.model.runs;
  const RunMetrics& b = r.metrics.baseline->runs;
  std::cout << "held-out runs: " << r.test_runs << " (" << m.failure_runs << " failure, "
            << m.healthy_runs << " healthy), train runs " << r.train_runs << "\n"
            << "model    (risk >= " << r.metrics.model.threshold << "): precision " << m.precision
            << " recall " << m.recall << " F1 " << m.f1 << " median lead " << m.median_lead_h
            << " h, p10 lead " << m.p10_lead_h << " h, false alarms " << m.false_alarms
            << "; rows P/R " << r.metrics.model.rows.precision << "/" << r.metrics.model.rows.recall
            << "\n"
            << "baseline (vibration_rms >= " << r.metrics.baseline->threshold
            << " mm/s): precision " << b.precision << " recall " << b.recall << " F1 " << b.f1
            << " median lead " << b.median_lead_h << " h, p10 lead " << b.p10_lead_h
            << " h, false alarms " << b.false_alarms << "\n";
  EXPECT_GE(m.failure_runs, 4u);
  EXPECT_GE(m.healthy_runs, 2u);
  EXPECT_GE(m.recall, 0.8);
  EXPECT_GT(m.f1, b.f1);
  const nlohmann::json j = r.metrics.ToJson();
  EXPECT_EQ(j["model"]["runs"]["f1"].get<double>(), m.f1);
}

// The example plant's full spec (64 runs of 21 d): a few seconds, so not in the default run.
//   training_test --gtest_also_run_disabled_tests --gtest_filter='*ExampleSpec*'
TEST(TrainerTest, DISABLED_ExampleSpecFigures) {
  const char* src = std::getenv("WEFT_SOURCE_DIR");
  std::string dir = src != nullptr ? src : WEFT_TRAINING_SOURCE_DIR;
  std::ifstream in(dir + "/examples/models/bearing_risk.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
  Result<TrainResult> r = Train(MustParse(text), {.base_dir = dir, .clock = &clock});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::cout << r->metrics.ToJson().dump(1) << "\n";
  const RunMetrics& m = r->metrics.model.runs;
  ASSERT_TRUE(r->metrics.baseline);
  EXPECT_GE(m.recall, 0.8);
  EXPECT_GT(m.f1, r->metrics.baseline->runs.f1);
}

// Telemetry rows of one motor twin, as the core's ingest writes them (the columns training
// reads, plus the `date` partition).
lake::RecordBatch TelemetryRows(int64_t start_us, int hours, uint64_t seed, double load,
                                const std::string& asset = "m1") {
  lake::RecordBatch b({{"date", lake::ColumnType::kDate, false},
                       {"ts", lake::ColumnType::kTimestampMicros, false},
                       {"asset", lake::ColumnType::kString, false},
                       {"asset_type", lake::ColumnType::kString, true},
                       {"signal", lake::ColumnType::kString, false},
                       {"value", lake::ColumnType::kDouble, true},
                       {"quality", lake::ColumnType::kInt32, false}});
  auto tw = twin::MakeTwin("motor", {}).value();
  (void)tw->SetInput("load", load);
  twin::Rng rng(seed);
  const char* signals[] = {"vibration_rms", "bearing_temp_de", "winding_temp", "current"};
  for (int s = 0; s < hours * 3600; s += 10) {
    tw->Step(10, rng);
    const int64_t ts = start_us + int64_t{s} * 1'000'000;
    for (const char* sig : signals) {
      b.column(0).AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
      b.column(1).AppendInt(ts);
      b.column(2).AppendString(asset);
      b.column(3).AppendString("motor");
      b.column(4).AppendString(sig);
      b.column(5).AppendDouble(*tw->Output(sig));
      b.column(6).AppendInt(0);
    }
  }
  return b;
}

TEST(DatasetTest, FieldDataHonoursTheDeltaVersion) {
  const auto dir = TempDir("lake");
  ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
  auto table = lake::LakeTable::Open((dir / "telemetry").string(), &clock, true);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_TRUE((*table)
                  ->Create({{"date", lake::ColumnType::kDate, false},
                            {"ts", lake::ColumnType::kTimestampMicros, false},
                            {"asset", lake::ColumnType::kString, false},
                            {"asset_type", lake::ColumnType::kString, true},
                            {"signal", lake::ColumnType::kString, false},
                            {"value", lake::ColumnType::kDouble, true},
                            {"quality", lake::ColumnType::kInt32, false}},
                           {"date"})
                  .ok());
  const int64_t t0 = ParseTimestampMicros("2026-01-01T00:00:00Z").value();
  auto v1 = (*table)->Append(TelemetryRows(t0, 6, 1, 0.5));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = (*table)->Append(TelemetryRows(t0 + 6 * 3'600'000'000LL, 6, 2, 0.9));
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(v1->version, 1);
  ASSERT_EQ(v2->version, 2);
  {
    std::ofstream labels(dir / "labels.csv");
    labels << "asset,signal,fault,severity,start,end,failure\n"
           << "m1,bearing_temp_de,bearing_wear,0.8,2026-01-01T02:00:00.000Z,,"
              "2026-01-01T10:00:00.000Z\n";
  }
  auto spec_for = [&](int version) {
    std::string text = std::string(R"(name: bearing_risk
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 2h
window: 32
features:
  - {signal: vibration_rms, stats: [last, mean]}
  - {signal: bearing_temp_de, stats: [last]}
field_data:
  telemetry: telemetry
  version: )") + std::to_string(version) +
                       R"(
  from: 2026-01-01T00:00:00Z
  to: 2026-01-02T00:00:00Z
  labels: labels.csv
threshold: 0.5
)";
    return MustParse(text);
  };
  auto d1 = BuildFieldDataset(spec_for(1), dir, &clock);
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  auto d2 = BuildFieldDataset(spec_for(2), dir, &clock);
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  // Version 1 holds hours 0-6: rows at 10 min up to 06:00 minus the last sample; version 2 holds
  // hours 0-12, split at the failure at 10:00 into two runs.
  EXPECT_EQ(d1->lineage["field_data"]["delta_version"], 1);
  ASSERT_EQ(d1->runs.size(), 1u);
  EXPECT_EQ(d1->rows.size(), 35u);  // 00:10 .. 05:50
  ASSERT_EQ(d2->runs.size(), 2u);
  EXPECT_GT(d2->rows.size(), d1->rows.size());
  ASSERT_TRUE(d2->runs[0].failure_us);
  EXPECT_EQ(*d2->runs[0].failure_us, t0 + 10 * 3'600'000'000LL);
  // The first 35 rows agree: the same samples, the same features.
  for (size_t i = 0; i < d1->rows.size(); ++i) {
    ASSERT_EQ(d1->rows[i].ts_us, d2->rows[i].ts_us);
    ASSERT_EQ(d1->rows[i].features, d2->rows[i].features);
  }
  // Labels: 1 within 2 h before the failure (08:10 .. 09:50 and 08:00 exactly).
  size_t positives = 0;
  for (const DatasetRow& r : d2->rows) {
    const bool want = r.ts_us < t0 + 10 * 3'600'000'000LL && r.ts_us >= t0 + 8 * 3'600'000'000LL;
    EXPECT_EQ(r.label > 0.5f, want) << FormatTimestampMicros(r.ts_us);
    positives += r.label > 0.5f ? size_t{1} : size_t{0};
  }
  EXPECT_EQ(positives, 12u);
  // Version 1 rows: all before 08:00, so all negative but with a finite time to failure.
  EXPECT_EQ(d1->positives(), 0u);
  EXPECT_FALSE(std::isinf(d1->rows[0].time_to_failure_s));
  EXPECT_EQ(d1->lineage["field_data"]["labels_sha256"].get<std::string>().size(), 64u);
  // A version that does not exist is an error naming the table.
  auto d9 = BuildFieldDataset(spec_for(9), dir, &clock);
  EXPECT_FALSE(d9.ok());
  std::filesystem::remove_all(dir);
}

// The core's work_orders table (core/ingest/tables.cc, LakeTableSchema(kWorkOrders)), spelled
// out: mlops sits below the core and reads the table by column name.
std::vector<lake::BatchField> WorkOrderSchema() {
  return {{"date", lake::ColumnType::kDate, false},
          {"event_ts", lake::ColumnType::kTimestampMicros, false},
          {"opened_ts", lake::ColumnType::kTimestampMicros, false},
          {"closed_ts", lake::ColumnType::kTimestampMicros, false},
          {"recorded_ts", lake::ColumnType::kTimestampMicros, false},
          {"id", lake::ColumnType::kString, false},
          {"site", lake::ColumnType::kString, true},
          {"area", lake::ColumnType::kString, true},
          {"line", lake::ColumnType::kString, true},
          {"asset", lake::ColumnType::kString, false},
          {"alert_id", lake::ColumnType::kString, true},
          {"outcome", lake::ColumnType::kString, false},
          {"minutes", lake::ColumnType::kDouble, false},
          {"note", lake::ColumnType::kString, true},
          {"principal", lake::ColumnType::kString, false}};
}

struct WorkOrder {
  std::string asset;
  std::string event;  // ISO-8601
  std::string outcome;
};

lake::RecordBatch WorkOrderRows(const std::vector<WorkOrder>& orders) {
  lake::RecordBatch b(WorkOrderSchema());
  int n = 0;
  for (const WorkOrder& o : orders) {
    const int64_t ts = ParseTimestampMicros(o.event).value();
    b.column(0).AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
    b.column(1).AppendInt(ts);
    b.column(2).AppendInt(ts + 600'000'000);
    b.column(3).AppendInt(ts + 3'600'000'000);
    b.column(4).AppendInt(ts + 3'700'000'000);
    b.column(5).AppendString("wo-" + std::to_string(n++));
    b.column(6).AppendString("plant");
    b.column(7).AppendString("a1");
    b.column(8).AppendString("l1");
    b.column(9).AppendString(o.asset);
    b.column(10).AppendString("alert-" + std::to_string(n));
    b.column(11).AppendString(o.outcome);
    b.column(12).AppendDouble(45);
    b.column(13).AppendString("checked the bearing");
    b.column(14).AppendString("tech1");
  }
  return b;
}

// A lake with telemetry of two motors over 12 h (one version) and a work_orders table:
//   version 1: m1 confirmed_fault 10:00, m1 false_alarm 09:00, m1 false_alarm 10:30 (after
//              the repair), m2 false_alarm 06:00, m2 "cancelled" 05:00 (not an outcome
//              training knows), m1 confirmed_fault on 2026-01-03 (outside [from, to + horizon):
//              not read);
//   version 2: + m2 confirmed_fault 11:00.
class WorkOrderLabelsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(TempDir("work_orders"));
    auto tel = lake::LakeTable::Open((*dir_ / "telemetry").string(), &clock_, true);
    ASSERT_TRUE(tel.ok()) << tel.status().ToString();
    ASSERT_TRUE((*tel)->Create(TelemetryRows(0, 0, 0, 0).fields(), {"date"}).ok());
    lake::RecordBatch rows = TelemetryRows(T(0), 12, 1, 0.6, "m1");
    rows.Append(TelemetryRows(T(0), 12, 2, 0.8, "m2"));
    ASSERT_TRUE((*tel)->Append(rows).ok());

    auto wo = lake::LakeTable::Open((*dir_ / "work_orders").string(), &clock_, true);
    ASSERT_TRUE(wo.ok()) << wo.status().ToString();
    ASSERT_TRUE((*wo)->Create(WorkOrderSchema(), {"date"}).ok());
    auto v1 = (*wo)->Append(WorkOrderRows({{"m1", "2026-01-01T10:00:00Z", "confirmed_fault"},
                                           {"m1", "2026-01-01T09:00:00Z", "false_alarm"},
                                           {"m1", "2026-01-01T10:30:00Z", "false_alarm"},
                                           {"m2", "2026-01-01T06:00:00Z", "false_alarm"},
                                           {"m2", "2026-01-01T05:00:00Z", "cancelled"},
                                           {"m1", "2026-01-03T10:00:00Z", "confirmed_fault"}}));
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    ASSERT_EQ(v1->version, 1);
    auto v2 = (*wo)->Append(WorkOrderRows({{"m2", "2026-01-01T11:00:00Z", "confirmed_fault"}}));
    ASSERT_TRUE(v2.ok()) << v2.status().ToString();
    ASSERT_EQ(v2->version, 2);

    // A table that is not a work_orders table: no outcome column.
    auto bad = lake::LakeTable::Open((*dir_ / "not_work_orders").string(), &clock_, true);
    ASSERT_TRUE(bad.ok());
    ASSERT_TRUE((*bad)
                    ->Create({{"event_ts", lake::ColumnType::kTimestampMicros, false},
                              {"asset", lake::ColumnType::kString, false}},
                             {})
                    .ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static int64_t T(int hour, int minute = 0) {
    return ParseTimestampMicros("2026-01-01T00:00:00Z").value() +
           (int64_t{hour} * 60 + minute) * 60'000'000;
  }

  static std::string Spec(const std::string& labels) {
    return R"(name: bearing_risk
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 2h
window: 16
features:
  - {signal: vibration_rms, stats: [last, mean]}
  - {signal: bearing_temp_de, stats: [last]}
field_data:
  telemetry: telemetry
  version: 1
  from: 2026-01-01T00:00:00Z
  to: 2026-01-02T00:00:00Z
)" + labels +
           R"(
holdout: {fraction: 0.5, seed: 1}
xgboost: {rounds: 5, max_depth: 2}
threshold: 0.5
)";
  }

  static inline ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  static inline std::filesystem::path* dir_ = nullptr;
};

TEST_F(WorkOrderLabelsTest, ParsesTheSpecForms) {
  TrainSpec spec = MustParse(Spec("  work_orders: {table: work_orders, version: 2}"));
  ASSERT_TRUE(spec.field_data);
  EXPECT_EQ(spec.field_data->labels, "");
  ASSERT_TRUE(spec.field_data->work_orders);
  EXPECT_EQ(spec.field_data->work_orders->table, "work_orders");
  EXPECT_EQ(spec.field_data->work_orders->version, 2);
  spec = MustParse(Spec("  labels: labels.csv\n  work_orders: {table: w, version: 0}"));
  EXPECT_EQ(spec.field_data->labels, "labels.csv");
  EXPECT_EQ(spec.field_data->work_orders->version, 0);

  const std::pair<std::string, std::string> bad[] = {
      {"", "field_data needs 'labels'"},
      {"  work_orders: {table: work_orders}", "field_data.work_orders"},
      {"  work_orders: {table: work_orders, version: -1}", "field_data.work_orders.version"},
      {"  work_orders: {table: work_orders, version: 1, sha: x}", "field_data.work_orders.sha"},
      {"  work_orders: work_orders", "field_data.work_orders"},
  };
  for (const auto& [text, want] : bad) {
    Diagnostics diags;
    EXPECT_FALSE(ParseTrainSpec(Spec(text), "w.yaml", &diags).ok()) << text;
    EXPECT_NE(diags.ToString().find(want), std::string::npos) << text << "\n" << diags.ToString();
  }
}

TEST_F(WorkOrderLabelsTest, ConfirmedFaultsArePositivesAndFalseAlarmsNegatives) {
  auto d = BuildFieldDataset(MustParse(Spec("  work_orders: {table: work_orders, version: 1}")),
                             *dir_, &clock_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  // m1: split at its confirmed fault (10:00) into two runs; m2: one run (no failure at v1).
  ASSERT_EQ(d->runs.size(), 3u);
  EXPECT_EQ(d->runs[0].id, "field:m1#0");
  ASSERT_TRUE(d->runs[0].failure_us);
  EXPECT_EQ(*d->runs[0].failure_us, T(10));
  EXPECT_TRUE(d->runs[0].fault);
  EXPECT_FALSE(d->runs[0].fault_start_us);  // a work order does not know when the fault began
  EXPECT_EQ(d->runs[1].id, "field:m1#1");
  EXPECT_FALSE(d->runs[1].failure_us);
  EXPECT_EQ(d->runs[2].id, "field:m2#0");
  EXPECT_FALSE(d->runs[2].failure_us);
  EXPECT_FALSE(d->runs[2].fault);

  size_t positives = 0, confirmed = 0;
  for (const DatasetRow& r : d->rows) {
    const std::string& asset = d->runs[r.run].asset;
    const std::string at = asset + " " + FormatTimestampMicros(r.ts_us);
    // Positive: m1's rows within 2 h before 10:00.
    const bool positive = asset == "m1" && r.ts_us >= T(8) && r.ts_us < T(10);
    EXPECT_EQ(r.label > 0.5f, positive) << at;
    // Confirmed negative: within 2 h before a false alarm (m1 09:00 and 10:30, m2 06:00) and not
    // positive. m1's rows 08:00 .. 09:00 are positive: the failure at 10:00 wins over the false
    // alarm. The 10:30 inspection (after the failure) verifies m1's rows after 10:00 only.
    const bool verified = (asset == "m1" && r.ts_us >= T(7) && r.ts_us < T(8)) ||
                          (asset == "m1" && r.ts_us > T(10) && r.ts_us <= T(10, 30)) ||
                          (asset == "m2" && r.ts_us >= T(4) && r.ts_us <= T(6));
    EXPECT_EQ(r.confirmed_negative, verified) << at;
    positives += r.label > 0.5f ? size_t{1} : size_t{0};
    confirmed += r.confirmed_negative ? size_t{1} : size_t{0};
  }
  EXPECT_EQ(positives, 12u);  // 08:00 .. 09:50
  EXPECT_EQ(confirmed, 6u + 3u + 13u);
  EXPECT_EQ(d->confirmed_negatives(), 22u);

  const nlohmann::json& wo = d->lineage["field_data"]["work_orders"];
  EXPECT_EQ(wo["table"], (*dir_ / "work_orders").lexically_normal().string());
  EXPECT_EQ(wo["delta_version"], 1);
  EXPECT_EQ(wo["table_rows"], 6);
  EXPECT_EQ(wo["rows"], 5);  // the 2026-01-03 order is after to + horizon
  EXPECT_EQ(wo["confirmed_faults"], 1);
  EXPECT_EQ(wo["false_alarms"], 3);
  EXPECT_EQ(wo["other_outcomes"], 1);
  EXPECT_EQ(wo["confirmed_negative_rows"], 22);
  EXPECT_EQ(wo["conflicting_rows"], 7);  // m1 08:00 .. 09:00 (not 09:10 .. 09:50: see 10:30)
  EXPECT_NE(wo["where"].get<std::string>().find("event_ts >= '2026-01-01T00:00:00"),
            std::string::npos)
      << wo.dump();
  EXPECT_FALSE(d->lineage["field_data"].contains("labels_sha256"));

  // Version 2 adds m2's confirmed fault at 11:00: the pinned version decides.
  auto d2 = BuildFieldDataset(MustParse(Spec("  work_orders: {table: work_orders, version: 2}")),
                              *dir_, &clock_);
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  ASSERT_EQ(d2->runs.size(), 4u);
  EXPECT_EQ(*d2->runs[2].failure_us, T(11));
  EXPECT_EQ(d2->positives(), 24u);
  EXPECT_EQ(d2->lineage["field_data"]["work_orders"]["table_rows"], 7);
}

TEST_F(WorkOrderLabelsTest, MergesWithTheLabelsCsvAndTrains) {
  {
    // The CSV knows m1's failure (same instant as the work order) and when its wear began.
    std::ofstream labels(*dir_ / "labels.csv");
    labels << "asset,signal,fault,severity,start,end,failure\n"
           << "m1,bearing_temp_de,bearing_wear,0.8,2026-01-01T02:00:00.000Z,,"
              "2026-01-01T10:00:00.000Z\n";
  }
  TrainSpec spec =
      MustParse(Spec("  labels: labels.csv\n  work_orders: {table: work_orders, version: 2}"));
  auto d = BuildFieldDataset(spec, *dir_, &clock_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->runs.size(), 4u);  // one failure at 10:00, not two
  ASSERT_TRUE(d->runs[0].fault_start_us);
  EXPECT_EQ(*d->runs[0].fault_start_us, T(2));
  EXPECT_EQ(d->positives(), 24u);
  EXPECT_EQ(d->lineage["field_data"]["labels_sha256"].get<std::string>().size(), 64u);

  Result<TrainResult> r = Train(spec, {.base_dir = *dir_, .clock = &clock_});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->positives, 24u);
  EXPECT_EQ(r->lineage["dataset"]["confirmed_negatives"], 22);
  EXPECT_EQ(r->lineage["field_data"]["work_orders"]["delta_version"], 2);
  EXPECT_EQ(r->lineage["field_data"]["work_orders"]["table_rows"], 7);
  EXPECT_EQ(r->test_runs, 2u);  // one failure run and one healthy run held out
}

TEST_F(WorkOrderLabelsTest, ErrorsNameTheTable) {
  auto build = [&](const std::string& work_orders) {
    return BuildFieldDataset(MustParse(Spec("  work_orders: " + work_orders)), *dir_, &clock_);
  };
  auto missing = build("{table: no_such_table, version: 1}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("field_data.work_orders.table " +
                                            (*dir_ / "no_such_table").lexically_normal().string()),
            std::string::npos)
      << missing.status().message();

  auto version = build("{table: work_orders, version: 9}");
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("field_data.work_orders.table"), std::string::npos)
      << version.status().message();
  EXPECT_NE(version.status().message().find("at version 9"), std::string::npos)
      << version.status().message();

  auto column = build("{table: not_work_orders, version: 0}");
  ASSERT_FALSE(column.ok());
  EXPECT_EQ(column.status().code(), StatusCode::kInvalidArgument);
  const std::string table =
      "field_data.work_orders.table " + (*dir_ / "not_work_orders").lexically_normal().string();
  for (const std::string& want :
       {table, std::string("no column 'outcome' of type string"), std::string("at version 0")}) {
    EXPECT_NE(column.status().message().find(want), std::string::npos) << want << "\n"
                                                                       << column.status().message();
  }
}

// A registered (calibrated) twin version drives the scenarios: its parameters reach the runs and
// the lineage names it.
constexpr char kRegistrySpec[] = R"(name: winding_risk
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 24h
window: 8
features:
  - {signal: vibration_rms, stats: [last, mean]}
  - {signal: winding_temp, stats: [last, mean]}
scenarios:
  twin: TWIN
  runs: 6
  seed: 3
  duration: 4d
  row_every: 30m
  fault_fraction: 0.5
  severity: [0.9, 1.0]
  fault_start: [0, 12h]
holdout: {fraction: 0.34, seed: 1}
xgboost: {rounds: 5, max_depth: 2}
threshold: 0.5
)";

std::string RegistrySpec(const std::string& twin) {
  std::string text = kRegistrySpec;
  text.replace(text.find("TWIN"), 4, twin);
  return text;
}

double FeatureMean(const Dataset& ds, const std::string& name) {
  size_t k = 0;
  while (k < ds.feature_names.size() && ds.feature_names[k] != name) ++k;
  EXPECT_LT(k, ds.feature_names.size()) << name;
  double sum = 0;
  size_t n = 0;
  for (const auto& r : ds.rows) {
    if (k < r.features.size() && !std::isnan(r.features[k])) {
      sum += r.features[k];
      ++n;
    }
  }
  return n == 0 ? std::nan("") : sum / static_cast<double>(n);
}

class RegisteredTwinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("twins");
    auto reg = TwinRegistry::Open(dir_.string(), &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    Result<TwinVersion> base = (*reg)->EnsureBase("motor-l1-mo-01", "motor", "alice");
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    r_th_ = base->parameters.at("thermal_resistance") * 1.3;
    NewTwinVersion v;
    v.name = "motor-l1-mo-01";
    v.parent_version = base->version;
    v.parameters = {{"thermal_resistance", r_th_}};
    v.created_by = "alice";
    Result<TwinVersion> fitted = (*reg)->Register(v);
    ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
    ASSERT_EQ(fitted->version, "1.1.0");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::filesystem::path dir_;
  double r_th_ = 0;
};

TEST_F(RegisteredTwinTest, ParsesTheRegistryForm) {
  TrainSpec spec = MustParse(RegistrySpec("{registry: motor-l1-mo-01, version: 1.1.0}"));
  ASSERT_TRUE(spec.scenarios);
  EXPECT_EQ(spec.scenarios->twin_registry, "motor-l1-mo-01");
  EXPECT_EQ(spec.scenarios->twin_version, "1.1.0");
  spec = MustParse(RegistrySpec("{registry: motor-l1-mo-01}"));
  EXPECT_EQ(spec.scenarios->twin_version, "");

  for (const char* bad :
       {"{registry: motor-l1-mo-01, model: motor}", "{model: motor, version: 1.1.0}",
        "{registry: motor-l1-mo-01, version: latest}"}) {
    Diagnostics diags;
    EXPECT_FALSE(ParseTrainSpec(RegistrySpec(bad), "r.yaml", &diags).ok()) << bad;
    EXPECT_NE(diags.ToString().find("scenarios.twin."), std::string::npos) << diags.ToString();
  }
}

TEST_F(RegisteredTwinTest, CalibratedVersionDrivesTheRunsAndTheLineage) {
  TrainSpec def = MustParse(RegistrySpec("{model: motor, params: {wear_rate: 5e-6}}"));
  TrainSpec cal = MustParse(
      RegistrySpec("{registry: motor-l1-mo-01, version: 1.1.0, params: {wear_rate: 5e-6}}"));
  Result<Dataset> d0 = BuildScenarioDataset(def);
  ASSERT_TRUE(d0.ok()) << d0.status().ToString();
  Result<Dataset> d1 = BuildScenarioDataset(cal, {dir_, &clock_});
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  ASSERT_GT(d0->rows.size(), 0u);
  ASSERT_GT(d0->positives(), 0u);
  // A 30 % higher R_th runs the windings hotter above ambient; vibration is barely touched.
  const double t0 = FeatureMean(*d0, "winding_temp.mean");
  const double t1 = FeatureMean(*d1, "winding_temp.mean");
  EXPECT_GT(t1, t0 + 2.0) << t0 << " vs " << t1;

  // The latest version is the default; `params` still override the version's parameters.
  TrainSpec latest = MustParse(
      RegistrySpec("{registry: motor-l1-mo-01, params: {wear_rate: 5e-6, thermal_resistance: " +
                   FormatDouble(r_th_ / 1.3) + "}}"));
  Result<Dataset> d2 = BuildScenarioDataset(latest, {dir_, &clock_});
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_NEAR(FeatureMean(*d2, "winding_temp.mean"), t0, 1e-6);
  EXPECT_EQ(d2->lineage["scenarios"]["twin"]["registry"]["version"], "1.1.0");

  // Train records the twin in the lineage.
  Result<TrainResult> r = Train(cal, {.base_dir = ".", .state_dir = dir_, .clock = &clock_});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const nlohmann::json& tw = r->lineage["scenarios"]["twin"];
  EXPECT_EQ(tw["model"], "motor");
  EXPECT_EQ(tw["version"], "1.0.0");  // the base model's TwinInfo version
  ASSERT_TRUE(tw.contains("registry")) << tw.dump();
  EXPECT_EQ(tw["registry"]["ref"], "motor-l1-mo-01@1.1.0");
  EXPECT_EQ(tw["registry"]["name"], "motor-l1-mo-01");
  EXPECT_EQ(tw["registry"]["base_model"], "motor");
  EXPECT_EQ(tw["registry"]["parent_version"], "1.0.0");
  EXPECT_DOUBLE_EQ(tw["registry"]["parameters"]["thermal_resistance"].get<double>(), r_th_);
  EXPECT_GT(tw["registry"]["parameters"].size(), 10u);
  // A spec naming a built-in model has no registry entry.
  EXPECT_FALSE(d0->lineage["scenarios"]["twin"].contains("registry"));
}

TEST_F(RegisteredTwinTest, UnknownNamesAndVersionsAreErrors) {
  TrainSpec spec = MustParse(RegistrySpec("{registry: motor-l2-mo-07}"));
  Result<Dataset> d = BuildScenarioDataset(spec, {dir_, &clock_});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  const std::string msg = d.status().message();
  for (const char* want : {"spec.yaml: scenarios.twin.registry 'motor-l2-mo-07'",
                           "is not registered", "registered: motor-l1-mo-01"}) {
    EXPECT_NE(msg.find(want), std::string::npos) << want << "\n" << msg;
  }
  spec = MustParse(RegistrySpec("{registry: motor-l1-mo-01, version: 1.7.0}"));
  d = BuildScenarioDataset(spec, {dir_, &clock_});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("scenarios.twin.version '1.7.0'"), std::string::npos)
      << d.status().message();
  EXPECT_NE(d.status().message().find("1.1.0"), std::string::npos) << d.status().message();

  // No state directory, or one without twins.db (not created by the lookup).
  spec = MustParse(RegistrySpec("{registry: motor-l1-mo-01}"));
  Result<TrainResult> t = Train(spec, {.base_dir = ".", .clock = &clock_});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("state_dir"), std::string::npos) << t.status().message();
  const std::filesystem::path empty = TempDir("no_twins");
  d = BuildScenarioDataset(spec, {empty, &clock_});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(empty / "twins.db"));
  std::filesystem::remove_all(empty);
}

}  // namespace
}  // namespace weft::mlops

// The training card carries what the reliability monitor needs (ParseMonitorConfig), and a
// monitor built from it flags a window whose vibration is far above the training reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/clock.h"
#include "mlops/monitoring/lake_monitor.h"
#include "mlops/monitoring/monitor.h"
#include "mlops/training/dataset.h"
#include "mlops/training/test_spec.h"
#include "mlops/training/train_spec.h"
#include "mlops/training/trainer.h"

namespace weft::mlops {
namespace {

using test_specs::kSmallSpec;

const TrainResult& Trained() {
  static const TrainResult* result = [] {
    ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
    Diagnostics diags;
    Result<TrainSpec> spec = ParseTrainSpec(kSmallSpec, "spec.yaml", &diags);
    EXPECT_TRUE(spec.ok()) << diags.ToString();
    if (!spec.ok()) return new TrainResult{};
    Result<TrainResult> r = Train(*spec, {.base_dir = ".", .clock = &clock});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return new TrainResult(r.ok() ? std::move(r).value() : TrainResult{});
  }();
  return *result;
}

TEST(CardMonitorTest, CardParsesAsMonitorConfig) {
  const nlohmann::json& card = Trained().card;
  ASSERT_TRUE(card.contains("reference"));
  // The existing fields stay.
  EXPECT_EQ(card["feature_names"].size(), 9u);
  EXPECT_TRUE(card["reference"]["vibration_rms.last"].contains("p50"));

  Result<MonitorConfig> parsed = ParseMonitorConfig(card.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->model, "bearing_risk");
  ASSERT_TRUE(parsed->prediction.has_value());  // the training scores' reference
  EXPECT_FALSE(parsed->prediction->quantiles.empty());
  EXPECT_DOUBLE_EQ(parsed->thresholds.psi.alert, 0.25);

  // Raw signals: the signals with a `last` feature, its training values as the reference.
  Result<MonitorConfig> config = MonitorConfigFromCard(card.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::vector<std::string> names;
  for (const auto& f : config->features) names.push_back(f.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"bearing_temp_de", "vibration_rms", "winding_temp"}));
  for (const auto& f : config->features) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(f.quantiles.size(), 9u);
    EXPECT_TRUE(std::is_sorted(f.quantiles.begin(), f.quantiles.end()));
    EXPECT_GT(f.sample.size(), 100u);
    EXPECT_LE(f.sample.size(), 2000u);
    EXPECT_TRUE(f.drift);
    EXPECT_TRUE(f.envelope);
  }
  const auto& vib = card["reference"]["vibration_rms"];
  EXPECT_EQ(vib["source"], "vibration_rms.last");
  EXPECT_EQ(vib["rows"], "normal_operation");
  // The drift sample (sorted, evenly spaced order statistics) spans normal operation: no bearing
  // wear yet and no drifting sensor. The small spec's motors vibrate at a baseline drawn in
  // [0.9, 1.6] mm/s with noise σ 0.05, so their healthy readings stay within 0.9 - 4·0.05 = 0.7
  // and 1.6 + 4·0.05 = 1.8; the worn bearings and drifting sensors of the training rows go far
  // beyond (their p99 is above 5 mm/s).
  const auto& last = card["reference"]["vibration_rms.last"];
  const double lo = vib["sample"].front().get<double>();
  const double hi = vib["sample"].back().get<double>();
  EXPECT_GE(lo, 0.7);
  EXPECT_LE(lo, 1.0);
  EXPECT_GE(hi, 1.5);
  EXPECT_LE(hi, 1.8);
  EXPECT_GT(last["p99"].get<double>(), 5.0);
  EXPECT_EQ(vib["sample"].size(), 2000u);  // capped: far more training rows
  // The envelope is all training rows' [p0.5, p99.5]: where the model was trained, worn
  // bearings included.
  ASSERT_TRUE(vib["envelope"].is_array());
  const double env_lo = vib["envelope"][0].get<double>();
  const double env_hi = vib["envelope"][1].get<double>();
  EXPECT_GE(env_lo, last["p0"].get<double>());
  EXPECT_LE(env_lo, last["p1"].get<double>());
  EXPECT_GE(env_hi, last["p99"].get<double>());
  EXPECT_LE(env_hi, last["p100"].get<double>());
  EXPECT_EQ(card["monitoring"]["signals"].size(), 3u);
  const auto& rows = card["monitoring"]["reference_rows"];
  EXPECT_EQ(rows["rows"], "normal_operation");
  EXPECT_GT(rows["count"].get<size_t>(), 1000u);
  EXPECT_LT(rows["count"].get<size_t>(), rows["of"].get<size_t>());
}

// A run is in normal operation until its fault starts (or, start unknown, until 3 x horizon
// before its failure) and until its sensor starts drifting.
TEST(CardMonitorTest, NormalOperationRows) {
  Dataset ds;
  ds.runs.resize(4);
  ds.runs[1].fault = true;
  ds.runs[1].fault_start_us = 5'000'000;  // wear from t = 5 s
  ds.runs[2].fault = true;                // a work order's failure: start unknown
  ds.runs[3].sensor_drift_start_us = 7'000'000;
  auto row = [&](uint32_t run, int64_t ts_s, double ttf_s) {
    DatasetRow r;
    r.run = run;
    r.ts_us = ts_s * 1'000'000;
    r.time_to_failure_s = ttf_s;
    ds.rows.push_back(r);
  };
  row(0, 100, kNoFailure);  // 0: healthy run
  row(1, 4, 1e6);           // 1: before the wear started
  row(1, 6, 1e6);           // 2: after
  row(2, 0, 3 * 3600 + 1);  // 3: horizon 1 h: more than 3 h before the failure
  row(2, 0, 3 * 3600);      // 4: 3 h before it: within the credited lead
  row(3, 7, kNoFailure);    // 5: drift starts at 7 s: not yet (strictly after)
  row(3, 8, kNoFailure);    // 6: drifting
  const std::vector<bool> want = {true, true, false, true, false, true, false};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(IsNormalOperation(ds, i, std::chrono::hours(1)), want[i]) << "row " << i;
  }
}

TEST(CardMonitorTest, MakeCardIsDeterministic) {
  ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
  Diagnostics diags;
  // A smaller spec: the card's reference only depends on the dataset and the split.
  std::string text = kSmallSpec;
  text.replace(text.find("runs: 32"), 8, "runs: 6");
  text.replace(text.find("duration: 10d"), 13, "duration: 2d");
  Result<TrainSpec> spec = ParseTrainSpec(text, "spec.yaml", &diags);
  ASSERT_TRUE(spec.ok()) << diags.ToString();
  Result<Dataset> ds = BuildScenarioDataset(*spec);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  const DatasetSplit split = SplitByRun(*ds, spec->holdout);
  const nlohmann::json a = MakeCard(*spec, *ds, split.train_rows);
  const nlohmann::json b = MakeCard(*spec, *ds, split.train_rows);
  EXPECT_EQ(a.dump(), b.dump());
  EXPECT_TRUE(ParseMonitorConfig(a.dump()).ok());
}

TEST(CardMonitorTest, MonitorFlagsShiftedVibration) {
  Result<MonitorConfig> config = MonitorConfigFromCard(Trained().card.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto monitor = ReliabilityMonitor::Create(*config);
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();

  // A healthy window: 300 values evenly spread over each signal's own training reference.
  auto window = [&](double vibration_shift, int64_t hour) {
    MonitorWindow w{.end = TimeFromUnixMicros(1'800'000'000'000'000 + hour * 3'600'000'000),
                    .model = "bearing_risk",
                    .model_version = "1",
                    .asset = "m1",
                    .sample_period_s = 10,
                    .signals = {},
                    .scores = {}};
    for (const auto& f : (*monitor)->config().features) {
      std::vector<double>& v = w.signals[f.name];
      for (size_t i = 0; i < 300; ++i) {
        const size_t k = (2 * i + 1) * f.sample.size() / 600;  // evenly over the sorted sample
        v.push_back(f.sample[k] + (f.name == "vibration_rms" ? vibration_shift : 0.0));
      }
    }
    return w;
  };
  Result<WindowAssessment> healthy = (*monitor)->Assess(window(0, 1));
  ASSERT_TRUE(healthy.ok()) << healthy.status().ToString();
  EXPECT_EQ(healthy->worst(), Level::kOk);
  EXPECT_EQ(healthy->action, Action::kNone);

  const double p100 = Trained().card["reference"]["vibration_rms.last"]["p100"].get<double>();
  Result<WindowAssessment> shifted = (*monitor)->Assess(window(2 * p100, 2));
  ASSERT_TRUE(shifted.ok()) << shifted.status().ToString();
  EXPECT_EQ(shifted->check_levels.at("feature_drift"), Level::kAlert);
  EXPECT_EQ(shifted->check_levels.at("environmental_deviation"), Level::kAlert);
  EXPECT_EQ(shifted->action, Action::kRetrain);
  EXPECT_LT(shifted->score, 0.6);
  // Only vibration is named in the alerts.
  for (const CheckResult& r : shifted->results) {
    if (r.level == Level::kAlert && r.check != "reliability") {
      EXPECT_EQ(r.subject, "vibration_rms") << r.check << " " << r.statistic;
    }
  }
}

}  // namespace
}  // namespace weft::mlops

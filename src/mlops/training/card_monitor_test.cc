// The training card carries what the reliability monitor needs (ParseMonitorConfig), and a
// monitor built from it flags a window whose vibration is far above the training reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/clock.h"
#include "mlops/monitoring/lake_monitor.h"
#include "mlops/monitoring/monitor.h"
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
  // The sample (sorted, evenly spaced order statistics) spans the feature's training range.
  const auto& last = card["reference"]["vibration_rms.last"];
  const double lo = vib["sample"].front().get<double>();
  const double hi = vib["sample"].back().get<double>();
  EXPECT_GE(lo, last["p0"].get<double>());
  EXPECT_LE(lo, last["p1"].get<double>());
  EXPECT_LE(hi, last["p100"].get<double>());
  EXPECT_GE(hi, last["p99"].get<double>());
  EXPECT_EQ(vib["sample"].size(), 2000u);  // capped: far more training rows
  EXPECT_EQ(card["monitoring"]["signals"].size(), 3u);
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

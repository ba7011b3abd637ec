#include "mlops/monitoring/lake_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/time_format.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"
#include "mlops/monitoring/monitoring_lake.h"
#include "testing/test_env.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

using lake::BatchField;
using lake::ColumnType;

constexpr int64_t kT0 = 1'793'563'200'000'000;  // 2026-10-31T20:00:00Z: the run spans midnight
constexpr int64_t kPeriodUs = 10'000'000;       // 10 s
constexpr int64_t kHourUs = 3'600'000'000;
constexpr double kShift = 4.0;  // mm/s added to vibration in the second half

// The columns of weft-core's telemetry and predictions tables this reads (src/core/ingest/
// tables.cc; mlops does not link core).
std::vector<BatchField> TelemetrySchema() {
  return {{"date", ColumnType::kDate, false},     {"ts", ColumnType::kTimestampMicros, false},
          {"asset", ColumnType::kString, false},  {"asset_type", ColumnType::kString, true},
          {"signal", ColumnType::kString, false}, {"value", ColumnType::kDouble, true},
          {"quality", ColumnType::kInt32, false}};
}
std::vector<BatchField> PredictionsSchema() {
  return {{"date", ColumnType::kDate, false},    {"ts", ColumnType::kTimestampMicros, false},
          {"asset", ColumnType::kString, false}, {"signal", ColumnType::kString, false},
          {"model", ColumnType::kString, false}, {"model_version", ColumnType::kString, true},
          {"value", ColumnType::kDouble, true}};
}

double Score(double vibration) {
  return 1.0 / (1.0 + std::exp(-(vibration - 4.0)));
}

struct TwinSamples {
  std::vector<double> current, vibration, scores;
};

// A healthy motor at a steady load, sampled every 10 s after a 2 h warm-up.
TwinSamples RunMotor(uint64_t seed, size_t n) {
  twin::Rng rng(seed);
  auto motor = twin::MakeTwin("motor", {}).value();
  EXPECT_TRUE(motor->SetInput("load", 0.8).ok());
  for (int i = 0; i < 720; ++i) motor->Step(10.0, rng);
  TwinSamples out;
  for (size_t i = 0; i < n; ++i) {
    motor->Step(10.0, rng);
    out.current.push_back(*motor->Output("current"));
    out.vibration.push_back(*motor->Output("vibration_rms"));
    out.scores.push_back(Score(out.vibration.back()));
  }
  return out;
}

std::vector<double> Deciles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<double> q;
  for (int d = 1; d <= 9; ++d) q.push_back(v[v.size() * static_cast<size_t>(d) / 10]);
  return q;
}

std::string Card(const TwinSamples& ref) {
  nlohmann::json card = {{"model", "bearing_risk"},
                         {"feature_names", {"current", "vibration_rms", "vibration_rms.mean"}}};
  card["reference"]["current"] = {{"quantiles", Deciles(ref.current)}, {"sample", ref.current}};
  card["reference"]["vibration_rms"] = {{"quantiles", Deciles(ref.vibration)},
                                        {"sample", ref.vibration}};
  // A window statistic as training writes it: no check, so not read from the lake.
  card["reference"]["vibration_rms.mean"] = {
      {"quantiles", Deciles(ref.vibration)}, {"drift", false}, {"envelope_check", false}};
  card["reference"]["score"] = {{"quantiles", Deciles(ref.scores)}, {"sample", ref.scores}};
  return card.dump();
}

// 8 h of telemetry (current, vibration_rms, and an unmonitored signal) and predictions of
// bearing_risk v1 for asset m1, vibration shifted by kShift from hour 4; plus a bad-quality row
// and another asset's rows that must be ignored.
void WriteLake(const std::string& root, const Clock& clock) {
  auto tel = lake::LakeTable::Open(root + "/telemetry", &clock, true).value();
  ASSERT_TRUE(tel->Create(TelemetrySchema(), {"date"}).ok());
  auto pred = lake::LakeTable::Open(root + "/predictions", &clock, true).value();
  ASSERT_TRUE(pred->Create(PredictionsSchema(), {"date"}).ok());
  const size_t n = 8 * 360;
  const TwinSamples s = RunMotor(99, n);
  lake::RecordBatch t(TelemetrySchema());
  lake::RecordBatch p(PredictionsSchema());
  auto add_tel = [&](int64_t ts, const std::string& asset, const std::string& signal, double v,
                     int quality) {
    t.column(0).AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
    t.column(1).AppendInt(ts);
    t.column(2).AppendString(asset);
    t.column(3).AppendString("motor");
    t.column(4).AppendString(signal);
    t.column(5).AppendDouble(v);
    t.column(6).AppendInt(quality);
  };
  for (size_t i = 0; i < n; ++i) {
    const int64_t ts = kT0 + static_cast<int64_t>(i) * kPeriodUs + 250'000;
    const double vib = s.vibration[i] + (i >= n / 2 ? kShift : 0.0);
    add_tel(ts, "m1", "current", s.current[i], 0);
    add_tel(ts, "m1", "vibration_rms", vib, 0);
    add_tel(ts, "m1", "winding_temp", 80, 0);
    add_tel(ts, "m2", "vibration_rms", 50, 0);  // another asset: far off, must not be read
    if (i % 7 == 0) add_tel(ts + 1, "m1", "vibration_rms", 1e6, 1);  // bad quality: ignored
    p.column(0).AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
    p.column(1).AppendInt(ts + 100'000);
    p.column(2).AppendString("m1");
    p.column(3).AppendString("failure_risk");
    p.column(4).AppendString("bearing_risk");
    p.column(5).AppendString("1");
    p.column(6).AppendDouble(Score(vib));
  }
  ASSERT_TRUE(tel->Append(t).ok());
  ASSERT_TRUE(pred->Append(p).ok());
}

TEST(LakeMonitorTest, ConfigFromCardDropsWindowStatistics) {
  const TwinSamples ref = RunMotor(1, 400);
  auto config = MonitorConfigFromCard(Card(ref));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->features.size(), 2u);
  EXPECT_EQ(config->features[0].name, "current");
  EXPECT_EQ(config->features[1].name, "vibration_rms");
  ASSERT_TRUE(config->prediction.has_value());

  auto empty = MonitorConfigFromCard(
      R"({"feature_names": ["a.mean"], "reference": {"a.mean": {"quantiles": [1,2,3],
          "drift": false, "envelope_check": false}}})");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("nothing to monitor"), std::string::npos);
}

TEST(LakeMonitorTest, ShiftAlertsOnlyInLaterWindowsAndLandsInTheLake) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  ManualClock clock(TimeFromUnixMicros(kT0 + 9 * kHourUs));
  WriteLake(dir->path(), clock);
  if (HasFatalFailure()) return;

  auto config = MonitorConfigFromCard(Card(RunMotor(1, 2000)));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  MonitorRequest req{.lake = dir->path(),
                     .config = *config,
                     .model = "bearing_risk",
                     .model_version = "",
                     .asset = "m1",
                     .from_us = kT0,
                     .to_us = kT0 + 8 * kHourUs,
                     .window = std::chrono::hours(1),
                     .sample_period = Micros(0),
                     .min_samples = 10,
                     .append = true,
                     .clock = &clock};
  auto run = MonitorFromLake(req);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->signals, (std::vector<std::string>{"current", "vibration_rms"}));
  EXPECT_DOUBLE_EQ(run->sample_period_s, 10.0);
  EXPECT_EQ(run->telemetry_rows, 2u * 8 * 360);  // m1's good rows of the two signals only
  EXPECT_EQ(run->prediction_rows, 8u * 360);
  ASSERT_EQ(run->windows.size(), 8u);
  for (size_t i = 0; i < run->windows.size(); ++i) {
    const MonitoredWindow& w = run->windows[i];
    SCOPED_TRACE("window " + std::to_string(i));
    EXPECT_FALSE(w.skipped);
    EXPECT_EQ(w.samples, 360u);
    EXPECT_EQ(w.scores, 360u);
    EXPECT_EQ(w.model_version, "1");
    const Level drift = w.assessment.check_levels.count("feature_drift") != 0
                            ? w.assessment.check_levels.at("feature_drift")
                            : Level::kOk;
    if (i < 4) {
      EXPECT_EQ(w.assessment.worst(), Level::kOk);
      EXPECT_EQ(w.assessment.action, Action::kNone);
      EXPECT_DOUBLE_EQ(w.assessment.score, 1.0);
    } else {
      EXPECT_EQ(drift, Level::kAlert);
      EXPECT_EQ(w.assessment.check_levels.at("environmental_deviation"), Level::kAlert);
      EXPECT_EQ(w.assessment.check_levels.at("prediction_drift"), Level::kAlert);
      EXPECT_EQ(w.assessment.action, Action::kRetrain);
      EXPECT_LT(w.assessment.score, 0.6);
    }
  }

  // The rows are in model_monitoring: as many as assessed, alerts only from hour 4.
  ASSERT_GT(run->appended_rows, 0u);
  EXPECT_GE(run->appended_version, 0);
  auto table = lake::LakeTable::Open(dir->path() + "/model_monitoring", &clock);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*(*table)->Count(), static_cast<int64_t>(run->appended_rows));
  int64_t first_alert = -1;
  size_t alerts = 0;
  ASSERT_TRUE((*table)
                  ->Scan({.columns = {"ts", "asset", "level"}, .where = "level = 'alert'"},
                         [&](const lake::RecordBatch& b) {
                           for (size_t i = 0; i < b.num_rows(); ++i) {
                             EXPECT_EQ(b.column(1).StringAt(i), "m1");
                             const int64_t ts = b.column(0).IntAt(i);
                             if (first_alert < 0 || ts < first_alert) first_alert = ts;
                             ++alerts;
                           }
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_GT(alerts, 0u);
  EXPECT_EQ(first_alert, kT0 + 5 * kHourUs);  // the end of the first shifted window
}

TEST(LakeMonitorTest, VersionFilterEmptyWindowsAndErrors) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  ManualClock clock(TimeFromUnixMicros(kT0 + 9 * kHourUs));
  WriteLake(dir->path(), clock);
  if (HasFatalFailure()) return;
  auto config = MonitorConfigFromCard(Card(RunMotor(1, 1000)));
  ASSERT_TRUE(config.ok());
  // A version without predictions: windows are assessed without scores; after the data ends
  // windows are skipped; nothing is appended without --append.
  MonitorRequest req{.lake = dir->path(),
                     .config = *config,
                     .model = "bearing_risk",
                     .model_version = "2",
                     .asset = "m1",
                     .from_us = kT0 + 7 * kHourUs,
                     .to_us = kT0 + 10 * kHourUs,
                     .window = std::chrono::hours(1),
                     .sample_period = Micros(0),
                     .min_samples = 10,
                     .append = false,
                     .clock = &clock};
  auto run = MonitorFromLake(req);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->windows.size(), 3u);
  EXPECT_FALSE(run->windows[0].skipped);
  EXPECT_EQ(run->windows[0].scores, 0u);
  EXPECT_EQ(run->windows[0].assessment.check_levels.count("prediction_drift"), 0u);
  EXPECT_TRUE(run->windows[1].skipped);
  EXPECT_TRUE(run->windows[2].skipped);
  EXPECT_EQ(run->appended_version, -1);
  EXPECT_FALSE(lake::LakeTable::Open(dir->path() + "/model_monitoring", &clock).ok());

  MonitorRequest bad = req;
  bad.to_us = bad.from_us;
  EXPECT_EQ(MonitorFromLake(bad).status().code(), StatusCode::kInvalidArgument);
  bad = req;
  bad.lake = dir->path() + "/nowhere";
  auto missing = MonitorFromLake(bad);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("telemetry"), std::string::npos);
}

}  // namespace
}  // namespace weft::mlops

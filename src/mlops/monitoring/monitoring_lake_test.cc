#include "mlops/monitoring/monitoring_lake.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/clock.h"
#include "lake/lake_table.h"
#include "testing/test_env.h"

namespace weft::mlops {
namespace {

CheckResult Row(int64_t ts_us, std::string check, std::string statistic, double value, Level level,
                Action action) {
  CheckResult r;
  r.ts = TimeFromUnixMicros(ts_us);
  r.model = "bearing_risk";
  r.model_version = "3";
  r.asset = "motor-1";
  r.check = std::move(check);
  r.subject = "vibration_rms";
  r.statistic = std::move(statistic);
  r.value = value;
  r.level = level;
  r.score = 0.5;
  r.action = action;
  return r;
}

TEST(MonitoringLakeTest, AppendCreatesTheTableAndScanReadsItBack) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  ManualClock clock(TimeFromUnixMicros(1'793'491'200'000'000));
  const std::string path = dir->path() + "/" + std::string(kMonitoringTableName);
  auto table = lake::LakeTable::Open(path, &clock, /*create_location=*/true);
  ASSERT_TRUE(table.ok()) << table.status().ToString();

  // Two days: two partitions.
  const int64_t day_us = int64_t{86'400'000'000};
  const int64_t t0 = 1'793'491'200'000'000;  // 2026-10-31T00:00:00Z
  std::vector<CheckResult> rows = {
      Row(t0 + 3'600'000'000, "feature_drift", "psi", 0.31, Level::kAlert, Action::kRetrain),
      Row(t0 + day_us, "reliability", "score", 0.5, Level::kWarn, Action::kMarkLowTrust)};
  ASSERT_TRUE(AppendMonitoringResults(**table, rows).ok());
  // The second append finds the table.
  ASSERT_TRUE(
      AppendMonitoringResults(**table, {Row(t0 + 2 * day_us, "actuator_saturation",
                                            "share_at_limits", 0.6, Level::kAlert, Action::kNone)})
          .ok());
  EXPECT_TRUE(AppendMonitoringResults(**table, {}).ok());

  auto schema = (*table)->Schema();
  ASSERT_TRUE(schema.ok());
  ASSERT_EQ(schema->size(), MonitoringSchema().size());
  EXPECT_EQ((*schema)[0].name, "date");
  EXPECT_EQ(*(*table)->Count(), 3);

  std::vector<std::string> seen;
  Status s = (*table)->Scan(
      {.columns = {"ts", "check", "statistic", "value", "level", "action", "model_version", "date"},
       .where = "level = 'alert'"},
      [&](const lake::RecordBatch& b) {
        for (size_t i = 0; i < b.num_rows(); ++i) {
          seen.push_back(
              std::string(b.column(1).StringAt(i)) + "/" + std::string(b.column(2).StringAt(i)) +
              "=" + std::to_string(b.column(3).DoubleAt(i)) + " " +
              std::string(b.column(5).StringAt(i)) + " v" + std::string(b.column(6).StringAt(i)));
          // date is the UTC day of ts.
          EXPECT_EQ(b.column(7).IntAt(i), b.column(0).IntAt(i) / day_us);
        }
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"actuator_saturation/share_at_limits=0.600000 none v3",
                                            "feature_drift/psi=0.310000 retrain v3"}));
}

TEST(MonitoringLakeTest, MissingLocationIsAnError) {
  ManualClock clock(TimeFromUnixMicros(0));
  auto table = lake::LakeTable::Open("/nonexistent/weft/monitoring", &clock);
  EXPECT_FALSE(table.ok());
}

}  // namespace
}  // namespace weft::mlops

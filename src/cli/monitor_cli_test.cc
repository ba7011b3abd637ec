#include "cli/monitor_cli.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "lake/lake_table.h"
#include "mlops/registry/model_registry.h"
#include "mlops/training/test_spec.h"
#include "testing/test_env.h"

namespace weft::cli {
namespace {

using lake::ColumnType;

constexpr int64_t kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
constexpr int64_t kPeriodUs = 10'000'000;

// A spread of vibration values (golden-ratio sequence: uniform on [2, 3), deterministic).
double Vibration(size_t i) {
  const double x = static_cast<double>(i) * 0.6180339887;
  return 2.0 + (x - std::floor(x));
}

struct Fixture {
  testing::TempDir dir = testing::TempDir::Make().value();
  ManualClock clock{TimeFromUnixMicros(kT0 + 5 * 3'600'000'000)};
  std::string lake() const { return dir.path() + "/lake"; }
  std::string state() const { return dir.path() + "/state"; }

  // 4 h of m1's vibration, +5 mm/s from hour 2; version 1 of bearing_risk with its card.
  void Setup() {
    auto tel = lake::LakeTable::Open(lake() + "/telemetry", &clock, true).value();
    const std::vector<lake::BatchField> schema = {
        {"date", ColumnType::kDate, false},    {"ts", ColumnType::kTimestampMicros, false},
        {"asset", ColumnType::kString, false}, {"signal", ColumnType::kString, false},
        {"value", ColumnType::kDouble, true},  {"quality", ColumnType::kInt32, false}};
    ASSERT_TRUE(tel->Create(schema, {"date"}).ok());
    lake::RecordBatch b(schema);
    for (size_t i = 0; i < 4 * 360; ++i) {
      const int64_t ts = kT0 + static_cast<int64_t>(i) * kPeriodUs;
      b.column(0).AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
      b.column(1).AppendInt(ts);
      b.column(2).AppendString("m1");
      b.column(3).AppendString("vibration_rms");
      b.column(4).AppendDouble(Vibration(i) + (i >= 2 * 360 ? 5.0 : 0.0));
      b.column(5).AppendInt(0);
    }
    ASSERT_TRUE(tel->Append(b).ok());

    std::vector<double> sample;
    for (size_t i = 0; i < 1000; ++i) sample.push_back(Vibration(i + 7919));
    nlohmann::json card = {{"name", "bearing_risk"},
                           {"feature_names", {"vibration_rms"}},
                           {"reference", {{"vibration_rms", {{"sample", sample}}}}}};
    auto reg = mlops::ModelRegistry::Open(state(), &clock);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    mlops::NewModelVersion v{.name = "bearing_risk",
                             .artifact = "{}",
                             .format = "xgboost-json",
                             .card_json = card.dump(),
                             .lineage_json = "",
                             .metrics_json = "",
                             .validation_json = "",
                             .validation_passed = true,
                             .created_by = "test"};
    auto mv = (*reg)->Register(v);
    ASSERT_TRUE(mv.ok()) << mv.status().ToString();
    ASSERT_EQ(mv->version, "1");
  }

  int Run(std::vector<std::string> argv, std::string* out, std::string* err) {
    CLI::App app("weft");
    CLI::App* model = app.add_subcommand("model", "models");
    MonitorArgs args;
    AddModelMonitorCommand(*model, &args);
    argv.insert(argv.begin(), {"model", "monitor"});
    std::vector<std::string> reversed(argv.rbegin(), argv.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      *err = e.what();
      return kExitUsage;
    }
    std::ostringstream o, e;
    const int rc = RunModelMonitor(args, o, e, clock);
    *out = o.str();
    *err = e.str();
    return rc;
  }
};

TEST(MonitorCliTest, PrintsWindowsAndAppends) {
  Fixture f;
  f.Setup();
  if (::testing::Test::HasFatalFailure()) return;
  std::string out, err;
  ASSERT_EQ(f.Run({"bearing_risk", "--version", "1", "--asset", "m1", "--from",
                   "2026-11-01T00:00:00Z", "--to", "2026-11-01T04:00:00Z", "--lake", f.lake(),
                   "--state", f.state(), "--append", "--json"},
                  &out, &err),
            kExitOk)
      << err;
  const nlohmann::json doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["windows"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const auto& w = doc["windows"][i];
    SCOPED_TRACE(w.dump());
    EXPECT_EQ(w["samples"], 360);
    if (i < 2) {
      EXPECT_EQ(w["worst"], "ok");
      EXPECT_EQ(w["action"], "none");
      EXPECT_TRUE(w["flagged"].empty());
    } else {
      EXPECT_EQ(w["worst"], "alert");
      EXPECT_EQ(w["action"], "retrain");
      ASSERT_FALSE(w["flagged"].empty());
      EXPECT_EQ(w["flagged"][0]["subject"], "vibration_rms");
    }
  }
  EXPECT_GT(doc["appended"]["rows"].get<int>(), 0);
  auto table = lake::LakeTable::Open(f.lake() + "/model_monitoring", &f.clock);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(*(*table)->Count(), doc["appended"]["rows"].get<int64_t>());

  // The table form names the alerting checks.
  ASSERT_EQ(f.Run({"bearing_risk", "--version", "1", "--asset", "m1", "--from",
                   "2026-11-01T00:00:00Z", "--to", "2026-11-01T04:00:00Z", "--window", "2h",
                   "--lake", f.lake(), "--state", f.state()},
                  &out, &err),
            kExitOk)
      << err;
  EXPECT_NE(out.find("2026-11-01T02:00:00.000000Z"), std::string::npos) << out;
  EXPECT_NE(out.find("alert feature_drift:vibration_rms psi="), std::string::npos) << out;
  EXPECT_NE(out.find("retrain"), std::string::npos) << out;
}

TEST(MonitorCliTest, Errors) {
  Fixture f;
  f.Setup();
  if (::testing::Test::HasFatalFailure()) return;
  std::string out, err;
  const std::vector<std::string> range = {"--asset", "m1",
                                          "--from",  "2026-11-01T00:00:00Z",
                                          "--to",    "2026-11-01T04:00:00Z",
                                          "--lake",  f.lake(),
                                          "--state", f.state()};
  auto with = [&](std::vector<std::string> head) {
    head.insert(head.end(), range.begin(), range.end());
    return head;
  };
  // No production alias yet.
  EXPECT_EQ(f.Run(with({"bearing_risk"}), &out, &err), kExitInvalidInput);
  EXPECT_NE(err.find("weft model monitor: "), std::string::npos) << err;
  EXPECT_EQ(f.Run(with({"bearing_risk", "--version", "9"}), &out, &err), kExitInvalidInput);
  EXPECT_EQ(f.Run(with({"bearing_risk", "--version", "1", "--window", "soon"}), &out, &err),
            kExitUsage);
  EXPECT_NE(err.find("--window"), std::string::npos) << err;
  EXPECT_EQ(f.Run(with({"bearing_risk", "--version", "1", "--alias", "staging"}), &out, &err),
            kExitUsage);
}

// --act with a retrain action trains the spec and registers a new candidate of the model; a
// spec for another model, or --act without a way to act, is refused.
TEST(MonitorCliTest, ActRetrainsIntoANewCandidate) {
  Fixture f;
  f.Setup();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string spec = f.dir.path() + "/retrain.yaml";
  std::ofstream(spec) << mlops::test_specs::kSmallSpec;
  const std::string constraints = std::string(WEFT_TEST_SOURCE_DIR) + "/examples/constraints.yaml";
  const std::vector<std::string> base = {"bearing_risk",
                                         "--version",
                                         "1",
                                         "--asset",
                                         "m1",
                                         "--from",
                                         "2026-11-01T00:00:00Z",
                                         "--to",
                                         "2026-11-01T04:00:00Z",
                                         "--window",
                                         "2h",
                                         "--lake",
                                         f.lake(),
                                         "--state",
                                         f.state()};
  std::string out, err;
  std::vector<std::string> args = base;
  args.push_back("--act");
  EXPECT_EQ(f.Run(args, &out, &err), kExitUsage);
  EXPECT_NE(err.find("--act needs --retrain-spec"), std::string::npos) << err;

  for (const char* s : {"--retrain-spec", spec.c_str(), "--constraints", constraints.c_str()}) {
    args.push_back(s);
  }
  EXPECT_EQ(f.Run(args, &out, &err), kExitOk) << err << out;
  EXPECT_NE(out.find("retraining bearing_risk"), std::string::npos) << out;
  EXPECT_NE(out.find("registered bearing_risk version 2"), std::string::npos) << out;
  auto reg = mlops::ModelRegistry::Open(f.state(), &f.clock);
  ASSERT_TRUE(reg.ok());
  auto v2 = (*reg)->Get("bearing_risk", "2");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_TRUE(v2->validation_passed);
  EXPECT_TRUE(v2->aliases.empty());  // a candidate: nothing is promoted by retraining

  std::string other = mlops::test_specs::kSmallSpec;
  other.replace(other.find("bearing_risk"), 12, "pump_risk");
  std::ofstream(spec, std::ios::trunc) << other;
  EXPECT_EQ(f.Run(args, &out, &err), kExitUsage);
  EXPECT_NE(err.find("trains 'pump_risk', not the monitored model 'bearing_risk'"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace weft::cli

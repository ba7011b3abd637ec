#include "core/scenario/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "lake/lake_table.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kMin = 60'000'000;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kMon = 1'793'577'600'000'000;  // Monday 2026-11-02T00:00:00Z

// Two days from a Monday, one sample a minute, the optimiser from the second day, a pump
// cavitating for 4 h on the second day (vibration +2 mm/s at once: the PdM detector must see it).
ScenarioOptions TwoDays(const std::string& lake, uint64_t seed) {
  ScenarioOptions o;
  o.lake_root = lake;
  o.start = TimeFromUnixMicros(kMon);
  o.days = 2;
  o.seed = seed;
  o.tick = std::chrono::seconds(60);
  o.pdm_warmup = 16;  // 4 h of 15-min windows
  sim::ScheduledFault f;
  f.asset = "l1-cp-01";
  f.type = sim::FaultType::kCavitation;
  f.severity = 0.5;
  f.at = std::chrono::hours(30);
  f.duration = std::chrono::hours(4);
  o.faults = std::vector<sim::ScheduledFault>{f};
  return o;
}

struct Row {
  std::string asset, signal;
  int64_t ts;
  double value;
  auto operator<=>(const Row&) const = default;
};

// The telemetry rows (asset, signal, ts, value) matching `where`, sorted.
std::vector<Row> Telemetry(const std::string& lake, const std::string& where) {
  ManualClock clock(TimeFromUnixMicros(0));
  auto t = OpenTable(lake, LakeTableId::kTelemetry, &clock);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::vector<Row> out;
  lake::ScanOptions so;
  so.columns = {"asset", "signal", "ts", "value"};
  so.where = where;
  Status s = (*t)->Scan(so, [&](const lake::RecordBatch& b) {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      out.push_back({std::string(b.column(0).StringAt(r)), std::string(b.column(1).StringAt(r)),
                     b.column(2).IntAt(r), b.column(3).DoubleAt(r)});
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::map<std::string, std::string>> TextRows(const std::string& lake, LakeTableId id,
                                                         const std::vector<std::string>& cols) {
  ManualClock clock(TimeFromUnixMicros(0));
  auto t = OpenTable(lake, id, &clock);
  EXPECT_TRUE(t.ok());
  std::vector<std::map<std::string, std::string>> out;
  lake::ScanOptions so;
  so.columns = cols;
  Status s = (*t)->Scan(so, [&](const lake::RecordBatch& b) {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::map<std::string, std::string> row;
      for (size_t c = 0; c < cols.size(); ++c) {
        const lake::Scalar v = b.column(c).At(r);
        if (std::holds_alternative<std::string>(v)) row[cols[c]] = std::get<std::string>(v);
        if (std::holds_alternative<int64_t>(v)) row[cols[c]] = std::to_string(std::get<int64_t>(v));
        if (std::holds_alternative<double>(v)) row[cols[c]] = std::to_string(std::get<double>(v));
      }
      out.push_back(std::move(row));
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class ScenarioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = new testing::TempDir(std::move(*dir));
    auto r = RunScenario(testing::ExamplePlant(), TwoDays(dir_->path() + "/a", 7));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    report_ = new ScenarioReport(*r);
  }
  static void TearDownTestSuite() {
    delete report_;
    delete dir_;
  }
  static std::string Lake() { return dir_->path() + "/a"; }
  static testing::TempDir* dir_;
  static ScenarioReport* report_;
};
testing::TempDir* ScenarioTest::dir_ = nullptr;
ScenarioReport* ScenarioTest::report_ = nullptr;

TEST_F(ScenarioTest, RowsLandInEveryTable) {
  const ScenarioReport& r = *report_;
  for (LakeTableId t : {LakeTableId::kTelemetry, LakeTableId::kAggregates, LakeTableId::kEvents,
                        LakeTableId::kActions, LakeTableId::kWorkOrders}) {
    EXPECT_GT(r.rows[static_cast<size_t>(t)], 0u) << LakeTableName(t);
  }
  EXPECT_EQ(r.rows[static_cast<size_t>(LakeTableId::kPredictions)], 0u);  // no model runs
  // One telemetry commit per UTC day (the last tick is 23:59 on the second day).
  EXPECT_EQ(r.commits[static_cast<size_t>(LakeTableId::kTelemetry)], 2u);
  // The edge sends less than it gets: vibration and power only as 15-min aggregates. (At one
  // sample a minute the 60 s heartbeat re-sends unchanged states; at finer ticks change-only
  // saves more.)
  EXPECT_LT(r.rows[static_cast<size_t>(LakeTableId::kTelemetry)], r.samples_to_edge);
  EXPECT_TRUE(Telemetry(Lake(), "signal = 'vibration_rms'").empty());
  EXPECT_TRUE(Telemetry(Lake(), "signal = 'power'").empty());
  // The rows cover [start, end): the last tick is one before the end.
  EXPECT_TRUE(Telemetry(Lake(), "ts >= '2026-11-04T00:00:00Z'").empty());
  EXPECT_FALSE(Telemetry(Lake(), "ts >= '2026-11-03T23:00:00Z'").empty());
  EXPECT_EQ(r.loops, 9u);  // 6 Lyon + 3 Brno zones run the PLC program
  EXPECT_NEAR(r.optimised_days, 1.0, 1e-9);
  EXPECT_EQ(r.optimise_from_us, kMon + kDay);
}

TEST_F(ScenarioTest, TelemetryCarriesTheIngestedContext) {
  auto rows = TextRows(Lake(), LakeTableId::kTelemetry,
                       {"edge", "stream", "site", "area", "line", "asset", "asset_type", "signal",
                        "unit", "quantity"});
  ASSERT_FALSE(rows.empty());
  bool found = false;
  for (const auto& row : rows) {
    if (row.at("asset") != "l2-cv-05" || row.at("signal") != "good_count") continue;
    found = true;
    EXPECT_EQ(row.at("edge"), "edge-month");
    EXPECT_EQ(row.at("stream"), "normal");
    EXPECT_EQ(row.at("site"), "lyon");
    EXPECT_EQ(row.at("area"), "assembly");
    EXPECT_EQ(row.at("line"), "l2-assembly");
    EXPECT_EQ(row.at("asset_type"), "conveyor");
    EXPECT_EQ(row.at("unit"), "pcs");
    EXPECT_EQ(row.at("quantity"), "count");
    break;
  }
  EXPECT_TRUE(found);
}

TEST_F(ScenarioTest, ConveyorsRunOnlyInTheShifts) {
  // l2-cv-05's state: Lyon's shifts are 05:00-21:00Z on weekdays. Outside them the conveyor is
  // idle (1); inside it runs (2) or is down (0).
  std::vector<Row> state = Telemetry(Lake(), "asset = 'l2-cv-05' and signal = 'state'");
  ASSERT_GT(state.size(), 100u);
  int outside = 0, inside_running = 0;
  for (const Row& r : state) {
    const int64_t h = ((r.ts - kMon) % kDay) / kHour;
    // One tick of slack at each boundary: the input takes effect at the next tick.
    const int64_t m = ((r.ts - kMon) % kDay) % kHour / kMin;
    const bool boundary = (h == 5 && m <= 1) || (h == 21 && m <= 1);
    if (boundary) continue;
    if (h < 5 || h >= 21) {
      EXPECT_EQ(r.value, 1) << "at " << r.ts;
      ++outside;
    } else {
      EXPECT_NE(r.value, 1) << "at " << r.ts;
      inside_running += r.value == 2 ? 1 : 0;
    }
  }
  EXPECT_GT(outside, 10);
  EXPECT_GT(inside_running, 10);
}

TEST_F(ScenarioTest, TheOptimiserTakesTheZonesInTheSecondHalf) {
  std::vector<Row> mode = Telemetry(Lake(), "asset = 'lyon-hz-01' and signal = 'control_mode'");
  ASSERT_FALSE(mode.empty());
  int remote_after = 0;
  for (const Row& r : mode) {
    if (r.ts < kMon + kDay) {
      EXPECT_EQ(r.value, 0) << "local schedule before the grant, at " << r.ts;
    } else if (r.ts > kMon + kDay + 2 * kMin) {
      EXPECT_EQ(r.value, 1) << "remote after the grant, at " << r.ts;
      ++remote_after;
    }
  }
  EXPECT_GT(remote_after, 10);
  // The actions: shadow records in the first half, a mode change, then writes.
  auto actions = TextRows(Lake(), LakeTableId::kActions, {"ts", "loop", "kind", "mode", "site"});
  int shadow = 0, writes = 0, mode_changes = 0;
  for (const auto& a : actions) {
    const int64_t ts = std::stoll(a.at("ts"));
    if (a.at("kind") == "shadow") {
      EXPECT_LT(ts, kMon + kDay);
      ++shadow;
    }
    if (a.at("kind") == "write") {
      EXPECT_GE(ts, kMon + kDay);
      EXPECT_EQ(a.at("mode"), "autonomous");
      ++writes;
    }
    if (a.at("kind") == "mode_change") {
      EXPECT_EQ(ts, kMon + kDay);
      ++mode_changes;
    }
    EXPECT_TRUE(a.at("site") == "lyon" || a.at("site") == "brno");
  }
  // 9 loops x 1440 periods a day, each side of the grant (a few refusals aside).
  EXPECT_GT(shadow, 9 * 1400);
  EXPECT_GT(writes, 9 * 1000);
  EXPECT_EQ(mode_changes, 9);
}

TEST_F(ScenarioTest, PdmAlertsBecomeWorkOrders) {
  EXPECT_GE(report_->alerts, 1u);
  EXPECT_EQ(report_->alerts, report_->confirmed + report_->false_alarms);
  auto orders = TextRows(Lake(), LakeTableId::kWorkOrders,
                         {"asset", "outcome", "alert_id", "event_ts", "minutes"});
  ASSERT_EQ(orders.size(), report_->alerts);
  bool pump = false;
  for (const auto& w : orders) {
    if (w.at("asset") == "l1-cp-01" && w.at("outcome") == "confirmed_fault") {
      pump = true;
      // Cavitation from 30 h to 34 h after the start.
      const int64_t ts = std::stoll(w.at("event_ts"));
      EXPECT_GE(ts, kMon + 30 * kHour);
      EXPECT_LE(ts, kMon + 34 * kHour);
      EXPECT_EQ(w.at("alert_id"), "l1-cp-01@" + FormatTimestampMicros(ts));
    }
  }
  EXPECT_TRUE(pump);
  // Every alert is an event of kind cusum with that time.
  auto events = TextRows(Lake(), LakeTableId::kEvents, {"asset", "kind", "ts"});
  for (const auto& w : orders) {
    bool seen = false;
    for (const auto& e : events) {
      seen |= e.at("asset") == w.at("asset") && e.at("kind") == "cusum" &&
              e.at("ts") == w.at("event_ts");
    }
    EXPECT_TRUE(seen) << w.at("alert_id");
  }
}

TEST_F(ScenarioTest, TheSameSeedGivesTheSameRowsAnotherSeedOthers) {
  auto again = RunScenario(testing::ExamplePlant(), TwoDays(dir_->path() + "/b", 7));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rows, report_->rows);
  const std::string where = "";  // every row
  EXPECT_EQ(Telemetry(dir_->path() + "/b", where), Telemetry(Lake(), where));
  auto wo = [](const std::string& lake) {
    auto rows = TextRows(lake, LakeTableId::kWorkOrders, {"id", "minutes", "outcome"});
    std::vector<std::string> ids;
    for (const auto& r : rows) ids.push_back(r.at("id") + r.at("minutes") + r.at("outcome"));
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(wo(dir_->path() + "/b"), wo(Lake()));

  auto other = RunScenario(testing::ExamplePlant(), TwoDays(dir_->path() + "/c", 8));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(Telemetry(dir_->path() + "/c", where), Telemetry(Lake(), where));
}

TEST(ScenarioOptionsTest, BadOptionsAreRefusedByName) {
  ScenarioOptions o;
  EXPECT_NE(RunScenario(testing::ExamplePlant(), o).status().message().find("lake root"),
            std::string::npos);
  o.lake_root = "/nonexistent-weft-lake";
  o.days = 0;
  EXPECT_NE(RunScenario(testing::ExamplePlant(), o).status().message().find("days"),
            std::string::npos);
  o.days = 1;
  o.tick = std::chrono::milliseconds(10);
  EXPECT_NE(RunScenario(testing::ExamplePlant(), o).status().message().find("tick"),
            std::string::npos);
}

TEST(ScenarioPlantTest, KeepsTheSignalsTheKpisAndPdmRead) {
  const model::Plant p = ScenarioPlant(testing::ExamplePlant(), false);
  const model::Asset* spindle = p.FindAsset("l1-sp-01");
  ASSERT_NE(spindle, nullptr);
  EXPECT_TRUE(spindle->HasSignal("vibration_rms"));
  EXPECT_TRUE(spindle->HasSignal("energy"));
  EXPECT_FALSE(spindle->HasSignal("winding_temp"));
  const model::Asset* zone = p.FindAsset("lyon-hz-01");
  ASSERT_NE(zone, nullptr);
  for (const char* s : {"zone_temp", "outdoor_temp", "heat_pump_energy", "occupancy",
                        "control_mode", "heartbeat"}) {
    EXPECT_TRUE(zone->HasSignal(s)) << s;
  }
  EXPECT_FALSE(zone->HasSignal("co2"));
  const model::Asset* nutrunner = p.FindAsset("l2-nr-01");
  ASSERT_NE(nutrunner, nullptr);
  EXPECT_TRUE(nutrunner->HasSignal("good_count"));
  EXPECT_FALSE(nutrunner->HasSignal("final_torque"));
  EXPECT_EQ(ScenarioPlant(testing::ExamplePlant(), true).SignalCount(),
            testing::ExamplePlant().SignalCount());
}

TEST(DefaultFaultsTest, PicksAssetsThatCanShowTheFault) {
  std::vector<sim::ScheduledFault> f = DefaultFaults(testing::ExamplePlant(), 30);
  std::map<std::string, std::string> by_asset;
  for (const auto& x : f) by_asset[x.asset] = std::string(sim::FaultTypeName(x.type));
  EXPECT_EQ(by_asset["l1-sp-01"], "bearing_wear");    // first motor with a vibration sensor
  EXPECT_EQ(by_asset["l1-sp-02"], "bearing_wear");    // the second
  EXPECT_EQ(by_asset["l1-sp-05"], "bearing_wear");    // first one without: PdM is blind to it
  EXPECT_EQ(by_asset["lyon-ac-01"], "bearing_wear");  // the compressor with vibration fitted
  EXPECT_EQ(by_asset["l1-cp-01"], "cavitation");
  EXPECT_EQ(by_asset["lyon-hz-01"], "hand_mode");
  EXPECT_EQ(by_asset["lyon-hz-02"], "heat_pump_fault");
  EXPECT_EQ(by_asset["brno-hz-03"], "comm_loss");
  // l1-sp-01 at 10 % of 30 days = 72 h.
  for (const auto& x : f) {
    if (x.asset == "l1-sp-01") {
      EXPECT_EQ(x.at, std::chrono::hours(72));
    }
  }
}

}  // namespace
}  // namespace weft::core::scenario

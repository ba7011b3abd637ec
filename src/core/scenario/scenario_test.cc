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

// Eight baseline days and three live ones at a 5-min tick: the blind spindle l1-sp-05 wears
// from the first tick at severity 1 (seizes after 616131 s = 7.13 days of running,
// twin/motor_twin.h: in the baseline), the pump l1-cp-01 cavitates for 12 h from 6 h after
// go-live (vibration up at once: PdM, learnt over the first 2 h, sees it).
TEST(ScenarioBaselineTest, BaselineRunsWithoutPdmAndRepairsOnBreakdownThenPdmRepairs) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string lake = dir->path() + "/lake";
  constexpr int64_t kLive = kMon + 8 * kDay;  // Tuesday 2026-11-10, go-live
  ScenarioOptions o;
  o.lake_root = lake;
  o.start = TimeFromUnixMicros(kLive);
  o.days = 3;
  o.baseline_days = 8;
  o.tick = std::chrono::minutes(5);
  o.loop_period = std::chrono::minutes(5);
  o.pdm_warmup = 8;
  sim::ScheduledFault wear;
  wear.asset = "l1-sp-05";
  wear.type = sim::FaultType::kBearingWear;
  wear.severity = 1;
  wear.at = Micros(0);
  sim::ScheduledFault cavitation;
  cavitation.asset = "l1-cp-01";
  cavitation.type = sim::FaultType::kCavitation;
  cavitation.severity = 0.5;
  cavitation.at = std::chrono::hours(8 * 24 + 6);  // from the run's first tick
  cavitation.duration = std::chrono::hours(12);
  o.faults = std::vector<sim::ScheduledFault>{wear, cavitation};
  auto r = RunScenario(testing::ExamplePlant(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start_us, kMon);
  EXPECT_EQ(r->live_from_us, kLive);
  EXPECT_EQ(r->end_us, kLive + 3 * kDay);
  EXPECT_EQ(r->breakdowns_baseline, 1u);
  EXPECT_EQ(r->breakdowns_live, 0u);
  EXPECT_GE(r->repairs_after_alerts, 1u);
  // The optimiser from the middle of the live days (day 1 of 3 from go-live).
  EXPECT_EQ(r->optimise_from_us, kLive + kDay);

  ASSERT_EQ(r->labels.size(), 2u);
  const sim::FaultLabel& seized = r->labels[0];
  const sim::FaultLabel& cavitating = r->labels[1];
  ASSERT_TRUE(seized.failure.has_value());
  EXPECT_NEAR(static_cast<double>(UnixMicros(*seized.failure) - kMon) / 1e6, 616131, 600);
  ASSERT_TRUE(seized.end.has_value());  // ended by the reactive repair
  ASSERT_TRUE(cavitating.end.has_value());
  // Repaired when its work order closed, before its 12 h were over.
  EXPECT_LT(*cavitating.end, cavitating.start + std::chrono::hours(12));

  // No PdM and no HVAC loops before go-live: no events, no actions there.
  for (const auto& e : TextRows(lake, LakeTableId::kEvents, {"ts", "kind"})) {
    if (e.at("kind") == "cusum") {
      EXPECT_GE(std::stoll(e.at("ts")), kLive);
    }
  }
  auto actions = TextRows(lake, LakeTableId::kActions, {"ts"});
  ASSERT_FALSE(actions.empty());
  for (const auto& a : actions) {
    EXPECT_GE(std::stoll(a.at("ts")), kLive);
  }
  // But telemetry from the first baseline day.
  EXPECT_FALSE(Telemetry(lake, "ts < '2026-11-03T00:00:00Z'").empty());

  // Work orders: the breakdown (no alert, opened at the failure, 300 min: pdm-spindles'
  // reactive minutes, repaired 24-72 h later; the label ends at the first tick at or after the
  // close, plus the tick the repair takes) and the pump's alert (confirmed, repaired likewise).
  auto orders = TextRows(lake, LakeTableId::kWorkOrders,
                         {"asset", "outcome", "alert_id", "opened_ts", "closed_ts", "minutes"});
  const int64_t tick = 5 * kMin;
  bool breakdown = false, pump = false;
  for (const auto& w : orders) {
    const int64_t opened = std::stoll(w.at("opened_ts")), closed = std::stoll(w.at("closed_ts"));
    if (w.at("asset") == "l1-sp-05") {
      breakdown = true;
      EXPECT_EQ(w.count("alert_id"), 0u);  // null
      EXPECT_EQ(w.at("outcome"), "confirmed_fault");
      EXPECT_EQ(std::stod(w.at("minutes")), 300);
      EXPECT_EQ(opened, UnixMicros(*seized.failure));
      EXPECT_GE(closed - opened, 24 * kHour);
      EXPECT_LE(closed - opened, 72 * kHour);
      EXPECT_GT(UnixMicros(*seized.end), closed);
      EXPECT_LE(UnixMicros(*seized.end), closed + 2 * tick);
    }
    if (w.at("asset") == "l1-cp-01" && w.at("outcome") == "confirmed_fault") {
      pump = true;
      EXPECT_EQ(w.count("alert_id"), 1u);
      EXPECT_GT(UnixMicros(*cavitating.end), closed);
      EXPECT_LE(UnixMicros(*cavitating.end), closed + 2 * tick);
    }
  }
  EXPECT_TRUE(breakdown);
  EXPECT_TRUE(pump);
  // The spindle stood still from the failure to the repair, and runs again after it.
  std::vector<Row> running = Telemetry(lake, "asset = 'l1-sp-05' and signal = 'running'");
  ASSERT_FALSE(running.empty());
  int still = 0, again = 0;
  for (const Row& x : running) {
    if (x.ts > UnixMicros(*seized.failure) + tick && x.ts < UnixMicros(*seized.end)) {
      EXPECT_EQ(x.value, 0) << x.ts;
      ++still;
    }
    if (x.ts > UnixMicros(*seized.end) + tick) {
      EXPECT_EQ(x.value, 1) << x.ts;
      ++again;
    }
  }
  EXPECT_GT(still, 0);
  EXPECT_GT(again, 0);
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
  o.baseline_days = -1;
  EXPECT_NE(RunScenario(testing::ExamplePlant(), o).status().message().find("baseline days"),
            std::string::npos);
  o.baseline_days = 0;
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

TEST(DefaultFaultsTest, TheBaselinePeriodGetsTheSameFaultsAtTheSameFractions) {
  const std::vector<sim::ScheduledFault> live = DefaultFaults(testing::ExamplePlant(), 30);
  const std::vector<sim::ScheduledFault> both = DefaultFaults(testing::ExamplePlant(), 30, 20);
  ASSERT_EQ(both.size(), 2 * live.size());
  // The baseline's: at the fractions of 20 days (l1-sp-01 at 10 % = 48 h); then the live
  // period's, 20 days later, as without a baseline.
  EXPECT_EQ(both[0].asset, "l1-sp-01");
  EXPECT_EQ(both[0].at, std::chrono::hours(48));
  for (size_t i = 0; i < live.size(); ++i) {
    const sim::ScheduledFault& b = both[i];
    const sim::ScheduledFault& l = both[live.size() + i];
    EXPECT_EQ(b.asset, live[i].asset);
    EXPECT_EQ(b.type, live[i].type);
    EXPECT_EQ(b.severity, live[i].severity);
    EXPECT_LT(b.at, std::chrono::hours(20 * 24));
    EXPECT_EQ(l.asset, live[i].asset);
    EXPECT_EQ(l.at, live[i].at + std::chrono::hours(20 * 24));
  }
  // The watched wear fails within a 30-day period if nobody repairs it: at severity s after
  // 7.13 days / s of running (twin/motor_twin.h), e.g. l1-sp-02 at 33 % + 7.13 / 0.6 days =
  // day 21.8, so a 72 h repair is done before the next period.
  for (const sim::ScheduledFault& f : live) {
    if (f.type != sim::FaultType::kBearingWear) continue;
    const double fail_day = static_cast<double>(f.at.count()) / 86'400e6 + 7.13 / f.severity;
    EXPECT_LT(fail_day + 3, 30) << f.asset;
  }
}

TEST(ReactiveMinutesTest, TheUseCaseOfTheAssetElseTheEconomics) {
  const model::Plant& p = testing::ExamplePlant();
  // pdm-spindles: 300 on line 1's cnc_spindles.
  EXPECT_EQ(ReactiveMinutes(p, *p.FindAsset("l1-sp-01")), 300);
  EXPECT_EQ(ReactiveMinutes(p, *p.FindAsset("l1-sp-05")), 300);
  // pdm-compressors has none of its own: the economics' 240.
  EXPECT_EQ(ReactiveMinutes(p, *p.FindAsset("lyon-ac-01")), 240);
  // A conveyor of line 1 is in pdm-spindles' scope but not of a type it requires.
  EXPECT_EQ(ReactiveMinutes(p, *p.FindAsset("l1-cv-01")), 240);
}

}  // namespace
}  // namespace weft::core::scenario

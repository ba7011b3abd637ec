#include "core/scenario/pdm.h"

#include <gtest/gtest.h>

#include <regex>

#include "core/ingest/tables.h"
#include "model/plant_loader.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kHour = int64_t{3'600'000'000};
constexpr int64_t kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z

constexpr char kPlant[] = R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  timezone: UTC
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: m1, type: motor, connection: {sparkplug: {group: g, node: n, device: m1}}}
      - {id: m2, type: motor, connection: {sparkplug: {group: g, node: n, device: m2}}}
)";

TEST(AlertGateTest, OneAlertPerEpisodeSeparatedByMoreThanTheCooldown) {
  AlertGate gate(std::chrono::hours(24));
  EXPECT_TRUE(gate.Admit("m1", kT0));
  EXPECT_FALSE(gate.Admit("m1", kT0 + 23 * kHour));     // same episode
  EXPECT_TRUE(gate.Admit("m2", kT0 + 23 * kHour));      // another asset
  EXPECT_FALSE(gate.Admit("m1", kT0 + 47 * kHour));     // exactly 24 h after the last: still it
  EXPECT_TRUE(gate.Admit("m1", kT0 + 71 * kHour + 1));  // more than 24 h of quiet: a new one
}

class VibrationWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    auto plant = model::ParsePlant(kPlant, "plant.yaml", &diags);
    ASSERT_TRUE(plant.ok()) << diags.ToString();
    plant_ = std::move(*plant);
    auto table = edge::SignalTable::FromPlant(plant_, {});
    ASSERT_TRUE(table.ok());
    table_.emplace(std::move(*table));
  }
  edge::Aggregate Window(const char* asset, int i, double mean) {
    edge::Aggregate a;
    a.signal = *table_->Find(asset, "vibration_rms");
    a.start_us = kT0 + i * 900'000'000LL;
    a.end_us = a.start_us + 900'000'000LL;
    a.count = 90;
    a.mean = mean;
    return a;
  }
  model::Plant plant_;
  std::optional<edge::SignalTable> table_;
};

TEST_F(VibrationWatchTest, FiresUpwardAfterWarmupAndGatesAlerts) {
  VibrationWatchOptions o;
  o.k = 0.5;
  o.h = 2.2;
  o.warmup = 4;
  o.stopped_below = 0.3;
  o.cooldown = std::chrono::hours(24);
  VibrationWatch watch(*table_, o);
  EXPECT_EQ(watch.watched(), 2u);  // m1 and m2's vibration_rms
  // Warm-up: 1.0, 1.2, 1.0, 1.2 -> target 1.1, sigma (population) 0.1.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(watch.OnWindow(Window("m1", i, i % 2 ? 1.2 : 1.0)));
  // A machine at rest (mean 0.1 < 0.3) is skipped, not judged.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 4, 0.1)));
  // 1.3: z = (1.3 - 1.1)/0.1 = 2, S+ = 2 - 0.5 = 1.5 <= 2.2: no firing.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 5, 1.3)));
  // 1.2: z = 1, S+ = 1.5 + 1 - 0.5 = 2.0, not > 2.2.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 6, 1.2)));
  // 1.15: z = 0.5, S+ = 2.0 + 0 = 2.0 -> still not; 1.2: S+ = 2.5 > 2.2 fires.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 7, 1.15)));
  std::optional<edge::Event> e = watch.OnWindow(Window("m1", 8, 1.2));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "cusum");
  EXPECT_EQ(e->source, "vibration_cusum");
  EXPECT_NEAR(e->value, 2.5, 1e-9);
  EXPECT_EQ(e->threshold, 2.2);
  EXPECT_EQ(e->ts_us, kT0 + 9 * 900'000'000LL);  // the window's end
  ASSERT_EQ(watch.alerts().size(), 1u);
  EXPECT_EQ(watch.alerts()[0].asset, "m1");
  // The KPI job's episode id: the asset and the first firing's time.
  EXPECT_EQ(watch.alerts()[0].id, "m1@2026-11-01T02:15:00.000000Z");
  // Sums restarted: 1.5 -> z = 4, S+ = 3.5 > 2.2 fires again, but within the cooldown: the
  // alarm is latched, no event and no alert.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 9, 1.5)));
  EXPECT_EQ(watch.firings(), 2u);
  EXPECT_EQ(watch.alerts().size(), 1u);
  // A drop fires S- (z = -6, S- = 5.5) but is no bearing fault: no event.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 10, 0.5)));
  EXPECT_EQ(watch.firings(), 2u);
}

TEST_F(VibrationWatchTest, RelearnRearmsTheAlertAndLearnsNormalAgain) {
  VibrationWatchOptions o;
  o.k = 0.5;
  o.h = 2.2;
  o.warmup = 4;
  o.cooldown = std::chrono::hours(24);
  VibrationWatch watch(*table_, o);
  // Warm-up 1.0, 1.2, 1.0, 1.2: target 1.1, sigma 0.1. Then 1.5: z = 4, S+ = 3.5 > 2.2 fires.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(watch.OnWindow(Window("m1", i, i % 2 ? 1.2 : 1.0)));
  ASSERT_TRUE(watch.OnWindow(Window("m1", 4, 1.5)));
  // Latched: the next firing (1.5 again) is no alert.
  EXPECT_FALSE(watch.OnWindow(Window("m1", 5, 1.5)));
  EXPECT_EQ(watch.firings(), 2u);
  // The work order closed in window 6: windows before 7 are skipped, then 1.5, 1.7, 1.5, 1.7
  // are the new normal (target 1.6, sigma 0.1): 1.7 is z = 1, S+ = 0.5, no firing.
  watch.Relearn("m1", kT0 + 7 * 900'000'000LL);
  EXPECT_FALSE(watch.OnWindow(Window("m1", 6, 3.0)));  // skipped, not learnt
  for (int i = 7; i < 11; ++i) EXPECT_FALSE(watch.OnWindow(Window("m1", i, i % 2 ? 1.5 : 1.7)));
  EXPECT_FALSE(watch.OnWindow(Window("m1", 11, 1.7)));
  EXPECT_EQ(watch.firings(), 2u);
  // 2.0: z = 4, S+ = 0.5 + 3.5 = 4.0 > 2.2 fires, and the gate was re-armed: a new alert,
  // although the last firing was less than 24 h before.
  EXPECT_TRUE(watch.OnWindow(Window("m1", 12, 2.0)));
  EXPECT_EQ(watch.alerts().size(), 2u);
  // m2 was not touched: still learning (its first window).
  EXPECT_FALSE(watch.OnWindow(Window("m2", 12, 5.0)));
}

std::vector<sim::FaultLabel> Labels() {
  sim::FaultLabel l;
  l.asset = "m1";
  l.type = sim::FaultType::kBearingWear;
  l.severity = 0.5;
  l.start = TimeFromUnixMicros(kT0 + 2 * kHour);
  l.end = std::nullopt;  // until the end of the run
  return {l};
}

TEST(MakeWorkOrdersTest, ConfirmedDuringALabelFalseAlarmOtherwise) {
  std::vector<PdmAlert> alerts(3);
  alerts[0] = {"a-before", "s1", "a1", "l1", "m1", "vibration_rms", "cusum", kT0 + kHour, 9};
  alerts[1] = {"a-during", "s1", "a1", "l1", "m1", "vibration_rms", "cusum", kT0 + 5 * kHour, 9};
  alerts[2] = {"a-other", "s1", "a1", "l1", "m2", "vibration_rms", "cusum", kT0 + 5 * kHour, 9};
  WorkOrderOptions o;
  o.seed = 7;
  o.run_end_us = kT0 + 48 * kHour;
  std::vector<ScenarioWorkOrder> w = MakeWorkOrders(alerts, Labels(), o);
  ASSERT_EQ(w.size(), 3u);
  // (ts, asset) order: a-before, a-during (m1), a-other (m2).
  EXPECT_EQ(w[0].alert_id, "a-before");
  EXPECT_EQ(w[0].outcome, "false_alarm");
  EXPECT_EQ(w[1].alert_id, "a-during");
  EXPECT_EQ(w[1].outcome, "confirmed_fault");
  EXPECT_EQ(w[2].alert_id, "a-other");
  EXPECT_EQ(w[2].outcome, "false_alarm");  // the label is m1's
  const std::regex id("wo-[0-9]+-[0-9a-f]{8}");
  for (const ScenarioWorkOrder& x : w) {
    EXPECT_TRUE(std::regex_match(x.id, id)) << x.id;
    EXPECT_GE(x.opened_us - x.event_us, 30 * 60'000'000LL);
    EXPECT_LE(x.opened_us - x.event_us, 4 * kHour);
    EXPECT_EQ(x.closed_us - x.opened_us, static_cast<int64_t>(x.minutes) * 60'000'000LL);
    EXPECT_EQ(x.recorded_us, x.closed_us);
    EXPECT_EQ(x.minutes, std::round(x.minutes));
    if (x.outcome == "confirmed_fault") {
      EXPECT_GE(x.minutes, 30);
      EXPECT_LE(x.minutes, 240);
    } else {
      EXPECT_GE(x.minutes, 5);
      EXPECT_LE(x.minutes, 60);
    }
  }
  // Deterministic for the seed, whatever the input order; another seed draws other minutes.
  std::vector<PdmAlert> reversed(alerts.rbegin(), alerts.rend());
  std::vector<ScenarioWorkOrder> again = MakeWorkOrders(reversed, Labels(), o);
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(again[i].id, w[i].id);
    EXPECT_EQ(again[i].minutes, w[i].minutes);
  }
  o.seed = 8;
  std::vector<ScenarioWorkOrder> other = MakeWorkOrders(alerts, Labels(), o);
  bool differs = false;
  for (size_t i = 0; i < 3; ++i) differs |= other[i].opened_us != w[i].opened_us;
  EXPECT_TRUE(differs);
}

TEST(MakeWorkOrdersTest, ALabelWithAnEndCoversOnlyItsInterval) {
  std::vector<sim::FaultLabel> labels = Labels();
  labels[0].end = TimeFromUnixMicros(kT0 + 3 * kHour);
  std::vector<PdmAlert> alerts(2);
  alerts[0] = {"at-end", "", "", "", "m1", "vibration_rms", "cusum", kT0 + 3 * kHour, 9};
  alerts[1] = {"after", "", "", "", "m1", "vibration_rms", "cusum", kT0 + 3 * kHour + 1, 9};
  std::vector<ScenarioWorkOrder> w = MakeWorkOrders(alerts, labels, {.run_end_us = kT0});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].outcome, "confirmed_fault");  // start <= ts <= end, inclusive
  EXPECT_EQ(w[1].outcome, "false_alarm");
}

TEST(WorkOrderMakerTest, AReactiveWorkOrderWaitsForPartsAndHasNoAlert) {
  WorkOrderOptions o;
  o.seed = 7;
  WorkOrderMaker maker(o);
  const WorkOrderPlace place{"s1", "a1", "l1", "m1"};
  const int64_t failed = kT0 + 5 * kHour;
  ScenarioWorkOrder w = maker.Reactive(place, sim::FaultType::kBearingWear, failed, 300);
  EXPECT_EQ(w.asset, "m1");
  EXPECT_EQ(w.line, "l1");
  EXPECT_TRUE(w.alert_id.empty());  // a null alert_id in the table
  EXPECT_EQ(w.outcome, "confirmed_fault");
  EXPECT_EQ(w.fault, sim::FaultType::kBearingWear);
  EXPECT_EQ(w.minutes, 300);
  EXPECT_EQ(w.event_us, failed);
  EXPECT_EQ(w.opened_us, failed);
  // Closed 24 to 72 h later, on a whole minute after the failure.
  EXPECT_GE(w.closed_us - failed, 24 * kHour);
  EXPECT_LE(w.closed_us - failed, 72 * kHour);
  EXPECT_EQ((w.closed_us - failed) % 60'000'000, 0);
  EXPECT_EQ(w.recorded_us, w.closed_us);
  EXPECT_TRUE(std::regex_match(w.id, std::regex("wo-[0-9]+-[0-9a-f]{8}"))) << w.id;
  // Reactive draws do not shift the alerts' (a separate stream): an alert answered after a
  // breakdown gets the work order it gets alone.
  std::vector<PdmAlert> alerts(1);
  alerts[0] = {"a", "s1", "a1", "l1", "m2", "vibration_rms", "cusum", kT0 + kHour, 9};
  const ScenarioWorkOrder after = maker.Answer(alerts[0], {});
  const ScenarioWorkOrder alone = MakeWorkOrders(alerts, {}, o)[0];
  EXPECT_EQ(after.id, alone.id);
  EXPECT_EQ(after.opened_us, alone.opened_us);
  // The same seed, the same delay; another seed, another.
  WorkOrderMaker same(o);
  EXPECT_EQ(same.Reactive(place, sim::FaultType::kBearingWear, failed, 300).closed_us, w.closed_us);
  o.seed = 8;
  WorkOrderMaker other(o);
  EXPECT_NE(other.Reactive(place, sim::FaultType::kBearingWear, failed, 300).closed_us,
            w.closed_us);
}

TEST(WorkOrderRowsTest, TheTablesSchemaWithNullsForEmptyText) {
  ScenarioWorkOrder w;
  w.id = "wo-1-00000000";
  w.asset = "m1";
  w.outcome = "false_alarm";
  w.principal = "p";
  w.event_us = kT0 + kHour;  // 2026-11-01 -> date 20758 (days since 1970-01-01)
  w.minutes = 20;
  lake::RecordBatch rows = WorkOrderRows({w});
  EXPECT_EQ(rows.fields().size(), LakeTableSchema(LakeTableId::kWorkOrders).size());
  ASSERT_EQ(rows.num_rows(), 1u);
  EXPECT_EQ(rows.column(static_cast<size_t>(rows.Find("date"))).IntAt(0), 20758);
  EXPECT_FALSE(rows.column(static_cast<size_t>(rows.Find("site"))).IsValid(0));
  EXPECT_FALSE(rows.column(static_cast<size_t>(rows.Find("alert_id"))).IsValid(0));
  EXPECT_EQ(rows.column(static_cast<size_t>(rows.Find("minutes"))).DoubleAt(0), 20);
}

}  // namespace
}  // namespace weft::core::scenario

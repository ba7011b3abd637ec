// Test support for core/kpi: hand-made rows written into a real lake (the ingest's table schemas,
// LakeTable appends), and a small plant. Linked by tests only.
#ifndef WEFT_CORE_KPI_KPI_TEST_UTIL_H_
#define WEFT_CORE_KPI_KPI_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time_format.h"
#include "core/api/work_orders.h"
#include "core/ingest/tables.h"
#include "lake/lake_table.h"
#include "model/plant.h"
#include "model/plant_loader.h"

namespace weft::core::kpi::testing {

inline constexpr int64_t kSec = 1'000'000;
inline constexpr int64_t kMin = 60 * kSec;
inline constexpr int64_t kHour = 60 * kMin;
inline constexpr int64_t kDay = 24 * kHour;

//! 2026-11-02T00:00:00Z, a Monday.
inline constexpr int64_t kMonday = int64_t{1'793'577'600} * kSec;

//! One telemetry sample.
struct Sample {
  int64_t ts = 0;
  std::string asset, signal;
  double value = 0;
  std::string unit = "";  //!< "" = null
  int quality = 0;
};

//! One events-table row.
struct EventRow {
  int64_t ts = 0;
  std::string asset, kind;
  std::string source = "detector@1.0.0";
};

//! Appends `samples` to <root>/telemetry as the ingest writes them (site/area/line/asset_type
//! from the plant), in one commit.
inline void WriteTelemetry(const std::string& root, const model::Plant& plant,
                           const std::vector<Sample>& samples, const Clock* clock) {
  ASSERT_TRUE(EnsureTables(root, clock).ok());
  lake::RecordBatch b(LakeTableSchema(LakeTableId::kTelemetry));
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  int64_t seq = 0;
  for (const Sample& s : samples) {
    const model::Asset* a = plant.FindAsset(s.asset);
    col("date").AppendInt(DayOf(TimeFromUnixMicros(s.ts)).time_since_epoch().count());
    col("ts").AppendInt(s.ts);
    col("edge").AppendString("edge-test");
    col("stream").AppendString("normal");
    col("seq").AppendInt(++seq);
    col("site").AppendString(a != nullptr ? a->site : "");
    col("area").AppendString(a != nullptr ? a->area : "");
    col("line").AppendString(a != nullptr ? a->line : "");
    col("asset").AppendString(s.asset);
    col("asset_type").AppendString(a != nullptr ? a->type : "");
    col("signal").AppendString(s.signal);
    if (s.unit.empty()) {
      col("unit").AppendNull();
    } else {
      col("unit").AppendString(s.unit);
    }
    col("quantity").AppendNull();
    col("value").AppendDouble(s.value);
    col("quality").AppendInt(s.quality);
  }
  auto table = OpenTable(root, LakeTableId::kTelemetry, clock);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto appended = (*table)->Append(b);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
}

inline void WriteEvents(const std::string& root, const model::Plant& plant,
                        const std::vector<EventRow>& events, const Clock* clock) {
  ASSERT_TRUE(EnsureTables(root, clock).ok());
  lake::RecordBatch b(LakeTableSchema(LakeTableId::kEvents));
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  int64_t seq = 0;
  for (const EventRow& e : events) {
    const model::Asset* a = plant.FindAsset(e.asset);
    col("date").AppendInt(DayOf(TimeFromUnixMicros(e.ts)).time_since_epoch().count());
    col("ts").AppendInt(e.ts);
    col("edge").AppendString("edge-test");
    col("stream").AppendString("high");
    col("seq").AppendInt(++seq);
    col("site").AppendString(a != nullptr ? a->site : "");
    col("area").AppendString(a != nullptr ? a->area : "");
    col("line").AppendString(a != nullptr ? a->line : "");
    col("asset").AppendString(e.asset);
    col("asset_type").AppendString(a != nullptr ? a->type : "");
    col("signal").AppendString("running");
    col("kind").AppendString(e.kind);
    col("source").AppendString(e.source);
    col("value").AppendDouble(1);
    col("threshold").AppendDouble(0.5);
    col("message").AppendNull();
  }
  auto table = OpenTable(root, LakeTableId::kEvents, clock);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto appended = (*table)->Append(b);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
}

//! A plant in UTC with two day shifts (early 06-14, late 14-22, Mon-Fri):
//!   line l1 (production: output cv1, ideal cycle 30 s): conveyors cv1, cv2; motor m1
//!   line air: compressor ac1;   line hv: HVAC zone z1 (with control_mode)
//! and use cases pdm (unplanned_downtime on l1), epu (energy_per_unit on l1), fpy
//! (first_pass_yield on l1), air (compressed_air_outages), hvac (heating_energy), trace
//! (time_to_trace: not measured). Economics: 0.2 EUR/kWh, 0.4 kg/kWh, 60 EUR/h, 240 reactive
//! minutes (pdm: 300).
inline constexpr char kTestPlant[] = R"(
weft: 1
enterprise: {name: Test}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h, reactive_minutes_per_failure: 240}
asset_types:
  zone_plc:
    extends: hvac_zone
    signals:
      - {name: control_mode, unit: "1", quantity: state, type: int32, range: [0, 2], period: 60s}
sites:
- id: s1
  timezone: UTC
  shifts:
    - {name: early, start: "06:00", end: "14:00", days: [mon, tue, wed, thu, fri]}
    - {name: late, start: "14:00", end: "22:00", days: [mon, tue, wed, thu, fri]}
  areas:
  - id: a1
    lines:
    - id: l1
      production: {output: cv1, ideal_cycle_time: 30s}
      assets:
      - {id: cv1, type: conveyor, connection: {mqtt: {topic: t/cv1}}}
      - {id: cv2, type: conveyor, connection: {mqtt: {topic: t/cv2}}}
      - {id: m1, type: motor, connection: {mqtt: {topic: t/m1}}}
    - id: air
      assets:
      - {id: ac1, type: compressor, connection: {mqtt: {topic: t/ac1}}}
    - id: hv
      assets:
      - {id: z1, type: zone_plc, connection: {mqtt: {topic: t/z1}}}
use_cases:
- id: pdm
  name: PdM line 1
  category: predictive_maintenance
  scope: {lines: [l1]}
  kpi: {name: unplanned_downtime, unit: h/year, baseline: 100, target: 50}
  requires: [{asset_type: motor, signal: running}]
  annual_value: 36500
  live_from: 2026-11-01
  running_cost: 1000
  reactive_minutes_per_failure: 300
- id: epu
  name: Energy per unit
  category: energy_per_unit
  scope: {lines: [l1]}
  kpi: {name: energy_per_unit, unit: kWh/unit, baseline: 0.1, target: 0.05}
  requires: [{asset_type: conveyor, signal: energy}]
  annual_value: 1000
  live_from: 2026-11-01
- id: fpy
  name: First-pass yield
  category: quality
  scope: {lines: [l1]}
  kpi: {name: first_pass_yield, unit: "%", baseline: 95, target: 99}
  requires: [{asset_type: conveyor, signal: reject_count}]
  annual_value: 2000
  live_from: 2026-11-01
- id: air
  name: Air outages
  category: predictive_maintenance
  kpi: {name: compressed_air_outages, unit: h/year, baseline: 400, target: 100}
  requires: [{asset_type: compressor, signal: state}]
  annual_value: 3000
  live_from: 2026-11-01
- id: hvac
  name: HVAC
  category: hvac_optimization
  kpi: {name: heating_energy, unit: MWh/year, baseline: 10, target: 8}
  requires: [{asset_type: hvac_zone, signal: heat_pump_energy}]
  annual_value: 500
  live_from: 2026-11-01
- id: trace
  name: Traceability
  category: asset_traceability
  scope: {lines: [l1]}
  kpi: {name: time_to_trace, unit: min, baseline: 60, target: 5}
  requires: [{asset_type: conveyor, signal: item_id}]
  annual_value: 100
)";

inline model::Plant TestPlant() {
  Diagnostics diags;
  Result<model::Plant> plant = model::ParsePlant(kTestPlant, "test_plant.yaml", &diags);
  EXPECT_TRUE(plant.ok()) << diags.ToString();
  return plant.ok() ? *plant : model::Plant{};
}

}  // namespace weft::core::kpi::testing

#endif  // WEFT_CORE_KPI_KPI_TEST_UTIL_H_

// Test support (tests only): a day of a motor twin's telemetry written to a real Delta table, as
// the core's ingest lays it out (partitioned by date; ts, asset, signal, value, quality).
//
//   MotorFixtureOptions o;  // R_th ×1.3, C_th ×0.8, varying load, noisy winding_temp
//   WEFT_ASSIGN_OR_RETURN(int64_t version, WriteMotorTelemetry(dir + "/telemetry", clock, o));
//
// Thread-safety: free functions.
#ifndef WEFT_MLOPS_TWINS_MOTOR_TELEMETRY_FIXTURE_H_
#define WEFT_MLOPS_TWINS_MOTOR_TELEMETRY_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/lake_table.h"
#include "twin/twin.h"

namespace weft::mlops::testing {

struct MotorFixtureOptions {
  std::string asset = "l1-mo-01";
  int64_t from_us = 1'767'225'600'000'000;  //!< 2026-01-01T00:00:00Z
  int64_t seconds = 86'400;
  double resistance_factor = 1.3;   //!< true thermal_resistance / default
  double capacitance_factor = 0.8;  //!< true thermal_capacitance / default
  double temp_noise = 0.3;          //!< σ of the measured winding_temp (K)
  double ambient = 25;
  uint64_t seed = 11;
};

inline std::vector<lake::BatchField> FixtureSchema() {
  using lake::ColumnType;
  // The telemetry columns of src/core/ingest/tables.cc that calibration reads, plus context.
  return {{"date", ColumnType::kDate, false},     {"ts", ColumnType::kTimestampMicros, false},
          {"asset", ColumnType::kString, false},  {"asset_type", ColumnType::kString, true},
          {"signal", ColumnType::kString, false}, {"unit", ColumnType::kString, true},
          {"value", ColumnType::kDouble, true},   {"quality", ColumnType::kInt32, false}};
}

//! Creates the table at `location` (a local directory) and appends one day of rows of
//! winding_temp, current and running for the asset and a few rows of another asset. Returns the
//! Delta version of that append.
inline Result<int64_t> WriteMotorTelemetry(const std::string& location, const Clock& clock,
                                           const MotorFixtureOptions& o) {
  WEFT_ASSIGN_OR_RETURN(auto table, lake::LakeTable::Open(location, &clock, true));
  Status created = table->Create(FixtureSchema(), {"date"});
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  const std::map<std::string, double> truth = {
      {"thermal_resistance", 0.09 * o.resistance_factor},
      {"thermal_capacitance", 27000 * o.capacitance_factor}};
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<twin::Twin> motor, twin::MakeTwin("motor", truth));
  twin::Rng rng(o.seed);
  twin::Rng noise(o.seed + 1);
  WEFT_RETURN_IF_ERROR(motor->SetInput("ambient_temp", o.ambient));
  lake::RecordBatch rows(FixtureSchema());
  auto add = [&](int64_t ts, const std::string& asset, const char* signal, const char* unit,
                 double value, int quality) {
    rows.column(0).AppendInt(ts / 86'400'000'000);
    rows.column(1).AppendInt(ts);
    rows.column(2).AppendString(asset);
    rows.column(3).AppendString("motor");
    rows.column(4).AppendString(signal);
    rows.column(5).AppendString(unit);
    rows.column(6).AppendDouble(value);
    rows.column(7).AppendInt(quality);
  };
  double load = 0.7;
  for (int64_t s = 0; s < o.seconds; ++s) {
    const int64_t ts = o.from_us + s * 1'000'000;
    // A new load every 20 minutes; stopped for an hour in the afternoon.
    if (s % 1200 == 0) load = rng.Uniform(0.2, 1.1);
    const bool running = !(s >= 14 * 3600 && s < 15 * 3600);
    // The state at ts (before the step that starts there), as a sensor reads it.
    add(ts, o.asset, "winding_temp", "degC",
        *motor->Output("winding_temp") + noise.Normal(0, o.temp_noise), 0);
    WEFT_RETURN_IF_ERROR(motor->SetInput("load", load));
    WEFT_RETURN_IF_ERROR(motor->SetInput("running", running ? 1 : 0));
    const double current = running ? 10 + 18 * load : 0;
    add(ts, o.asset, "current", "A", current, 0);
    add(ts, o.asset, "running", "1", running ? 1 : 0, 0);
    motor->Step(1.0, rng);
    // A bad-quality reading and another asset's reading: both must be ignored.
    if (s % 600 == 0) {
      add(ts, o.asset, "winding_temp", "degC", 500, 1);
      add(ts, "l2-pr-01", "winding_temp", "degC", -30, 0);
    }
  }
  WEFT_ASSIGN_OR_RETURN(lake::AppendResult r, table->Append(rows));
  return r.version;
}

//! The text of a calibration spec over the fixture's table.
inline std::string MotorSpecYaml(const std::string& telemetry, const std::string& extra = "",
                                 const std::string& fit =
                                     "[thermal_resistance, "
                                     "thermal_capacitance]",
                                 const std::string& load_input = "load") {
  return "twin: motor\n"
         "from_version: 1.0.0\n"
         "asset: l1-mo-01\n"
         "telemetry: " +
         telemetry + "\n" + extra +
         "from: 2026-01-01T00:00:00Z\n"
         "to: 2026-01-02T00:00:00Z\n"
         "resample: 60s\n"
         "inputs:\n"
         "  " +
         load_input +
         ": {signal: current, scale: 0.05555555555555555, offset: "
         "-0.5555555555555556, min: 0, max: 1.2}\n"
         "  ambient_temp: {value: 25}\n"
         "  running: {signal: running, round: true}\n"
         "outputs: [winding_temp]\n"
         "fit: " +
         fit + "\n";
}

}  // namespace weft::mlops::testing

#endif  // WEFT_MLOPS_TWINS_MOTOR_TELEMETRY_FIXTURE_H_

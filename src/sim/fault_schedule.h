// Fault schedules for the simulator, and the ground-truth labels it writes.
//
// A schedule file (`weft-sim --faults FILE`):
//
//   faults:
//     - {at: 2h, asset: l1-sp-05, kind: bearing_wear, severity: 0.6}
//     - {at: 30min, asset: l1-cp-01, kind: cavitation, severity: 0.5, duration: 20min}
//     - {at: 1h, asset: l1-cp-01, signal: flow, kind: sensor_stuck, duration: 10min}
//     - {at: 1h, asset: l1-sp-01, signal: winding_temp, kind: sensor_drift, rate: 2, duration: 1h}
//     - {at: 3h, asset: lyon-ac-02, kind: comm_drop, duration: 5min}
//
// `at` and `duration` are durations from the simulation start (`duration_s: 600`, a number of
// seconds, may replace `duration`) (no duration: until the end or
// until the equipment fails). Kinds: the twin faults bearing_wear, cooling_loss, cavitation,
// impeller_wear (severity 0..1); the sensor faults sensor_stuck, sensor_drift (`rate` in the
// signal's unit per hour), sensor_noise (`stddev` in the signal's unit), sensor_spikes
// (`probability` per sample, `factor`); and comm_drop (the asset's samples are produced but not
// sent). PLC faults: hand_mode (an operator takes an HVAC zone's PLC by hand; `severity` is the
// operator's setpoint in degC, 5..35, required), heat_pump_fault (the zone's heat pump stops,
// PLC alarm bit 8), both on zones that run the PLC program (RunsHvacPlc); comm_loss (the
// asset's Modbus device stops answering: every asset served by the same device goes silent
// with it). Errors name file, line, column and field, like plant.yaml's.
//
//     - {at: 2h, asset: lyon-hz-01, kind: hand_mode, severity: 19.5, duration: 10min}
//     - {at: 4h, asset: lyon-hz-02, kind: comm_loss, duration: 1min}
//
// Thread-safety: values.
#ifndef WEFT_SIM_FAULT_SCHEDULE_H_
#define WEFT_SIM_FAULT_SCHEDULE_H_

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "model/plant.h"

namespace weft::sim {

enum class FaultType {
  kBearingWear,
  kCoolingLoss,
  kCavitation,
  kImpellerWear,
  kSensorStuck,
  kSensorDrift,
  kSensorNoise,
  kSensorSpikes,
  kCommDrop,
  kHandMode,       //!< HVAC zone PLC: operator's hand switch, severity = setpoint (degC)
  kCommLoss,       //!< the asset's Modbus device stops answering
  kHeatPumpFault,  //!< HVAC zone: heat pump off, PLC alarm bit 8
};
std::string_view FaultTypeName(FaultType t);
bool IsSensorFault(FaultType t);
bool IsTwinFault(FaultType t);
//! Faults of an HVAC zone's PLC program (hand_mode, heat_pump_fault).
bool IsPlcFault(FaultType t);
//! Whether `asset` runs the simulated HVAC zone PLC program: an HVAC zone (its type is or
//! extends hvac_zone) behind a Modbus connection.
bool RunsHvacPlc(const model::Plant& plant, const model::Asset& asset);

struct ScheduledFault {
  Micros at{0};
  std::optional<Micros> duration;
  std::string asset;
  std::string signal;  //!< sensor faults only
  FaultType type = FaultType::kBearingWear;
  double severity = 0.5;
  double rate_per_hour = 0;   //!< sensor_drift
  double stddev = 0;          //!< sensor_noise
  double probability = 0.01;  //!< sensor_spikes
  double factor = 3;          //!< sensor_spikes
  SourceLocation where;
};

//! Parses a schedule and checks assets and signals against the plant. InvalidArgument with every
//! problem in `diags`.
//!
//! A fault command (`weft-sim` subscribes to kFaultCommandTopic when it has a broker) is one
//! entry of this format as JSON, without `at` (it starts at once), e.g.
//!   {"asset": "l1-sp-05", "kind": "bearing_wear", "severity": 0.8}
//! ParseFaultCommand reads it with the same checks.
inline constexpr char kFaultCommandTopic[] = "weft/sim/faults";
Result<ScheduledFault> ParseFaultCommand(std::string_view json, const model::Plant& plant,
                                         Diagnostics* diags);
Result<std::vector<ScheduledFault>> LoadFaultSchedule(const std::string& path,
                                                      const model::Plant& plant,
                                                      Diagnostics* diags);
Result<std::vector<ScheduledFault>> ParseFaultSchedule(std::string_view yaml,
                                                       const std::string& file_name,
                                                       const model::Plant& plant,
                                                       Diagnostics* diags);

//! Ground truth of one fault, as written to the labels file.
struct FaultLabel {
  std::string asset, signal;
  FaultType type;
  double severity = 0;
  TimePoint start;
  std::optional<TimePoint> end;
  std::optional<TimePoint> failure;  //!< when the equipment failed because of the fault
};

//! CSV: asset,signal,fault,severity,start,end,failure (ISO 8601 UTC, ms; empty when none).
std::string LabelsToCsv(const std::vector<FaultLabel>& labels);

//! "2026-11-25T10:00:00.000Z"
std::string IsoTime(TimePoint t);

}  // namespace weft::sim

#endif  // WEFT_SIM_FAULT_SCHEDULE_H_

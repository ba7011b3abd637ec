// RunScenario: a simulated month of a plant, with the closed-loop HVAC optimiser and predictive
// maintenance, written into the lake exactly as the core's ingest would write it, in one process
// and in accelerated simulated time (no broker, no sockets). It is the data the KPIs of issue 10
// are computed from end to end (`weft demo month`, then `weft kpi compute`).
//
//   ScenarioOptions o;
//   o.lake_root = "/tmp/lake";
//   o.start = TimeFromUnixMicros(1'793'491'200'000'000);     // 2026-11-01T00:00:00Z
//   o.days = 30;
//   WEFT_ASSIGN_OR_RETURN(o.inference, LoadInferenceFile("edge.yaml", &diags));  // optional
//   WEFT_ASSIGN_OR_RETURN(ScenarioReport r, RunScenario(plant, o));
//   std::cout << ScenarioReportText(r);
//
// What runs, per simulator tick (o.tick, 10 s by default; the simulator at speed 0):
//   1. Production: each site's conveyors get `running` 1 inside its shifts and 0 outside
//      (kpi::ShiftCalendar, the site's time zone), `planned_stop` 1 in the weekly planned stop,
//      and the line's ideal cycle time (plant.yaml `production`); HVAC zones get the site's
//      outdoor temperature (PlantSchedule's weather: days differ, so the energy baseline can be
//      weather-normalised).
//   2. The edge: samples of the uploaded signals (below) that the simulator sent (not during
//      comm_drop, nor from a Modbus device under comm_loss) go through the edge's filtering
//      pipeline (edge/pipeline, the policies below). A CUSUM detector watches the windows of
//      every vibration_rms (pdm.h VibrationWatch) from `start` on; its alerts (the first firing
//      after `alert_cooldown` of quiet on the asset) go to `events` (stream high).
//   3. Control (from `start`): one ControlLoop per HVAC zone that runs the simulator's PLC program,
//   with the
//      hvac_comfort optimiser (comfort [20, 24] degC on weekdays 08-18 local time, setback 16)
//      and edge.yaml's example envelope, against the PLC in-process (SimPlcIo). The loops run in
//      shadow until `optimise_from` (the PLC's local schedule drives the zones: the baseline
//      period); then a grant signed in-process (an ops_manager and an ot_engineer) makes them
//      autonomous: they write remote_setpoint and heartbeat, and control_mode reads 1. Every
//      action record goes to `actions` (stream high), as weft-edge forwards them.
//   4. Batches by priority stream become rows through core/ingest's AppendBatchRows and commit
//      per UTC day like the ingest (EdgeLakeWriter).
//   5. Maintenance: the repairs due (below) are queued in the simulator.
// Work orders and repairs (pdm.h WorkOrderMaker), all appended to `work_orders` after the run:
//   - each alert gets one at once: confirmed_fault when a fault label of the asset covers the
//     alert, else false_alarm. A confirmed twin fault (bearing wear, cavitation, ...) is repaired
//     when the work order closes (sim::Simulator::Repair at the first tick at or after its
//     closed time): PdM prevents the failure. Then (either outcome) the asset's detector
//     re-arms and learns normal again (VibrationWatch::Relearn);
//   - a failure (a fault label's `failure`, looked at every simulated minute) with no repair
//     already due is found on breakdown: a reactive work order without alert (opened at the
//     failure, confirmed_fault, the reactive minutes below) and a repair 24 to 72 h later
//     (waiting for parts; WorkOrderOptions). The reactive minutes of an asset: those of the
//     first predictive_maintenance use case whose scope holds it and whose requirements name
//     its type (or one it extends), else economics.reactive_minutes_per_failure, else 240.
//
// Baseline period (baseline_days > 0): the run starts baseline_days before `start` and plays the
// plant as it ran before the pilots: no PdM detector, alerts or alert work orders, no HVAC loops
// (the PLCs' local schedules; no action rows); failures run their course and are repaired
// reactively, as above. From `start` (the use cases' go-live) the run is as without a baseline.
// The weather's trend is shifted so that `start` has the same base temperature with or without
// a baseline (the baseline days are warmer: October before November). The KPI job then finds
// the KPIs of the days before go-live in the lake (a "lake_baseline", >= 14 days).
//
// Uploaded signals: with all_signals false (the default), those the KPIs and PdM read:
//   conveyor    state, down_reason, good_count, reject_count, energy, power
//   motor/pump  running, energy, power, vibration_rms       compressor  state, energy, power,
//   vibration_rms       hvac_zone  zone_temp, outdoor_temp, setpoint, occupancy,
//   heat_pump_energy, heat_pump_power, control_mode, plc_alarms, remote_setpoint (+ heartbeat,
//   simulated for the PLC but sent as quality events only)
//   other types (no twin)  good_count, reject_count, state
// The other signals are not simulated (dropped from the scenario's copy of the plant). With
// all_signals true every fitted signal is simulated and uploaded.
// Pipeline policies, by the signal's quantity (EdgePolicies):
//   state, boolean, count         change-only (deadband 0.5), heartbeat every 60 s
//   energy                        every sample, heartbeat 60 s
//   temperature                   deadband 0.1 K, heartbeat 60 s
//   everything else (power, vibration, current, ...)   aggregates only: 15-min windows
//   heartbeat (PLC register)      quality events only
//   priority: hvac zones low, everything else normal (detector events and actions high).
//
// Faults (DefaultFaults, at fractions of each period so a short run keeps their order; with a
// baseline period, the same schedule at the same fractions of the baseline and of the live
// period, so that before and after face comparable faults): bearing wear on the first two
// motors with a vibration sensor (severity 0.5 at 10 %, 0.6 at 33 %) and on the first
// compressor with one (0.5 at 17 %), and on the first motor without one (0.8 at 27 %: no alert
// can see it). Unrepaired, they fail after 7.13 days / severity of running (twin/motor_twin.h,
// compressor_twin.h): in a 30-day period at 57 % to 73 % of it (days 17 to 22), repaired by
// day 25 at the latest, so nothing worn carries into the next period (in periods shorter than
// ~25 days it may: PdM then finds it after go-live). With PdM the watched
// assets are repaired after their alerts, days before; the blind one fails in both periods.
// Then cavitation on the first pump with a vibration sensor (0.5 at 67 %, 8 h); on HVAC zones
// with a PLC program hand_mode (73 %, 3 h), comm_loss (80 %, 10 min, the last zone) and
// heat_pump_fault (83 %, 4 h). In plant order; a fault without a fitting asset is left out.
//
// Local inference (`inference`, the `inference:` section of edge.yaml; LoadInferenceFile): an
// edge::inference::InferenceEngine built over the scenario's SignalTable, as weft-edge builds it,
// gets the samples that go into the pipeline (step 2) from `start` on (the model is a pilot: it
// does not run in the baseline period). Its events go up the high stream as weft-edge sends
// them: "prediction" events (at or above the model's threshold, or flagged by the physics guard)
// become rows of `predictions` (model and model_version from the event's "<name>@<version>"),
// detector firings rows of `events`. The signals it reads (the models' features and the
// detectors' signals, on the assets whose type IsA the entry's asset_type) are simulated and
// uploaded for the whole run: each goes up raw, one value a minute (deadband 0, min_interval
// 60 s, no heartbeat; an aggregate route keeps its windows), so that all the inputs of an asset
// land on the same ticks and `weft model monitor` (mlops/monitoring/lake_monitor.h) finds them
// aligned in `telemetry` (drift, envelope, the thermal twin's measured and input signals).
// Without `inference` nothing of this runs and the rows are those of a run without it.
//
// Determinism: the same plant, options and seed give the same rows (the Delta commit stamps
// are the wall clock's).
//
// Thread-safety: RunScenario may run on any thread; it owns everything it creates.
#ifndef WEFT_CORE_SCENARIO_SCENARIO_H_
#define WEFT_CORE_SCENARIO_SCENARIO_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "core/ingest/tables.h"
#include "core/scenario/pdm.h"
#include "edge/inference/inference_config.h"
#include "edge/pipeline/policy.h"
#include "edge/signal_table.h"
#include "model/plant.h"
#include "sim/fault_schedule.h"

namespace weft::core::scenario {

struct ScenarioOptions {
  std::string lake_root;
  TimePoint start = TimeFromUnixMicros(1'793'491'200'000'000);  //!< 2026-11-01T00:00:00Z
  int days = 30;
  uint64_t seed = 7;
  Micros tick = std::chrono::seconds(10);  //!< the simulator's step (sampling at most this often)
  std::string edge_id = "edge-month";
  bool all_signals = false;
  bool optimiser = true;
  //! When the loops leave shadow; none = the UTC midnight at half the run (the second half).
  std::optional<TimePoint> optimise_from;
  bool pdm = true;
  //! Days simulated before `start` without PdM and optimiser (see the file comment); 0..366.
  int baseline_days = 0;
  //! The fault schedule (`at` from the run's first tick, start − baseline_days); none =
  //! DefaultFaults(plant, days, baseline_days).
  std::optional<std::vector<sim::ScheduledFault>> faults;
  //! Technician times, reactive repair delays (seed and run_end_us: the run's).
  WorkOrderOptions work_orders;
  //! Quiet time of an asset's detector that separates two alerts (incidents).
  Micros alert_cooldown = std::chrono::hours(24);
  //! 15-min vibration windows the PdM detector learns from before it judges (96 = a day).
  uint32_t pdm_warmup = 96;
  Micros loop_period = std::chrono::seconds(60);
  //! Local inference from `start` on (see the file comment); none = no model runs. Its
  //! artifacts are loaded by RunScenario (paths as LoadInferenceFile resolved them).
  std::optional<edge::inference::InferenceConfig> inference;
  //! Stamps the Delta commits; null = the system clock.
  const Clock* wall_clock = nullptr;
  std::string zoneinfo_dir;  //!< "" = the system's time zone database
};

//! A model of the inference configuration, and what it did in the run.
struct ScenarioModelReport {
  std::string name, version;
  uint64_t assets = 0;       //!< assets it runs on (its asset type, one feature signal at least)
  uint64_t predictions = 0;  //!< "prediction" events, i.e. rows of `predictions`
};

struct ScenarioReport {
  int64_t start_us = 0, end_us = 0;  //!< the rows: [start − baseline_days, start + days)
  int64_t live_from_us = 0;          //!< `start`: PdM and the loops from here
  int baseline_days = 0;
  std::array<uint64_t, kLakeTableCount> rows{};  //!< rows written per table (LakeTableId)
  std::array<uint64_t, kLakeTableCount> commits{};
  uint64_t batches = 0;
  uint64_t signals_simulated = 0, signals_uploaded = 0;
  uint64_t samples_produced = 0;  //!< by the simulator
  uint64_t samples_to_edge = 0;   //!< pushed into the pipeline
  uint64_t detector_firings = 0;
  uint64_t alerts = 0, confirmed = 0, false_alarms = 0;
  //! Repairs applied when an alert's work order closed.
  uint64_t repairs_after_alerts = 0;
  //! Failures found on breakdown (a reactive work order each), before `start` and from it.
  uint64_t breakdowns_baseline = 0, breakdowns_live = 0;
  uint64_t loops = 0, loop_writes = 0, loop_refusals = 0, shadow_records = 0;
  int64_t optimise_from_us = 0;  //!< 0 = the optimiser did not run
  double optimised_days = 0;     //!< days from optimise_from to the end
  //! Local inference (empty without ScenarioOptions::inference).
  std::vector<ScenarioModelReport> models;
  uint64_t model_runs = 0;                               //!< predictions computed by every model
  uint64_t inference_detector_events = 0;                //!< firings of the inference's detectors
  uint64_t physics_violations = 0, out_of_envelope = 0;  //!< predictions the guard flagged
  std::vector<sim::FaultLabel> labels;
  double wall_seconds = 0;
};

//! See the file comment. InvalidArgument for bad options (no lake root, days outside 1..366,
//! baseline_days outside 0..366, a tick outside [100 ms, 10 min]); the first error of the
//! simulator, the loops' configuration, the inference (a model's artifact that does not load, an
//! asset type or signal the plant does not define: InferenceEngine::Create's error, whose message
//! starts with the inference file's file:line:column) or the lake otherwise, with its context.
Result<ScenarioReport> RunScenario(const model::Plant& plant, const ScenarioOptions& options);

//! The default fault schedule for a run of `days` after `baseline_days` (see the file
//! comment); `at` counts from the run's first tick.
std::vector<sim::ScheduledFault> DefaultFaults(const model::Plant& plant, int days,
                                               int baseline_days = 0);

//! Technician minutes a failure of `asset` costs when found reactively (see the file comment).
double ReactiveMinutes(const model::Plant& plant, const model::Asset& asset);

//! The scenario's copy of the plant: only the uploaded signals (plus the PLC's heartbeat), and
//! the signals `inference` reads (when given).
model::Plant ScenarioPlant(const model::Plant& plant, bool all_signals,
                           const edge::inference::InferenceConfig* inference = nullptr);

//! The scenario's pipeline policies for `table` (see the file comment); the signals `inference`
//! reads (when given) go up raw once a minute.
std::vector<edge::SignalPolicy> EdgePolicies(
    const edge::SignalTable& table, const edge::inference::InferenceConfig* inference = nullptr);

//! The signals of `asset` that `inference` reads (its models' features and detectors' signals
//! for the asset's type) and the asset has.
std::vector<std::string> InferenceSignals(const model::Plant& plant, const model::Asset& asset,
                                          const edge::inference::InferenceConfig& inference);

//! Reads the `inference:` section of an edge.yaml (or of any YAML file that has one) as
//! weft-edge does: relative `artifact:` and `constraints:` paths are resolved against the file's
//! directory. NotFound when the file cannot be read; InvalidArgument when it is too large, has
//! errors (every one in `diags`, file:line:column and field path; the first in the message) or
//! runs no model and no detector.
Result<edge::inference::InferenceConfig> LoadInferenceFile(const std::string& path,
                                                           Diagnostics* diags);

//! What the run wrote, for people: rows per table, alerts, work orders, optimised days, time.
std::string ScenarioReportText(const ScenarioReport& report);

}  // namespace weft::core::scenario

#endif  // WEFT_CORE_SCENARIO_SCENARIO_H_

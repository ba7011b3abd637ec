// TrainSpec: what `weft model train SPEC.yaml` trains, read from YAML with every problem reported
// at its file:line:col and field path.
//
//   Diagnostics diags;
//   Result<TrainSpec> spec = ParseTrainSpec(text, "models/bearing_risk.yaml", &diags);
//   if (!spec.ok()) std::cerr << diags.ToString();
//
// Format (durations as in common/time_format.h, "48h", "10min", "14d"; here also "10m" for
// minutes, and a plain number is seconds):
//   name: bearing_risk                 # id of the model
//   asset_type: motor                  # the model runs on assets of this type
//   output: failure_risk               # the name of the model's output
//   task: failure_within_horizon       # binary:logistic; label 1 = a failure within `horizon`
//   horizon: 48h                       #   after the row (and before or at the failure)
//   window: 32                         # values per signal, as the edge's FeatureWindow
//   features:                          # exactly the edge's FeatureConfig list
//     - {signal: vibration_rms, stats: [last, mean, max, slope]}
//     - {signal: bearing_temp_de, stats: [last, mean, slope]}
//   monotone: {vibration_rms: increasing}  # optional; XGBoost monotone_constraints +1/-1 on the
//                                      # last/mean/min/max stats of that signal, 0 on std/slope
//   scenarios:                         # optional: twin-simulated, labelled runs
//     twin: {model: motor, params: {}, vary: {vibration_baseline: [0.9, 1.6]}}
//                                      # MakeTwin(model, params); `vary` (optional) draws each
//                                      # named parameter per run, uniform in [lo, hi]
//     # or a registered (e.g. calibrated) twin version from the core's twins.db:
//     # twin: {registry: motor-l1-mo-01, version: 1.1.0, params: {}, vary: {}}
//                                      # exactly one of `model` and `registry`; `version`
//                                      # optional (default: the latest). Resolved at train time
//                                      # through TwinRegistry at TrainOptions::state_dir: runs use
//                                      # MakeTwin(base model, version's parameters + `params`),
//                                      # `vary` on top. An unregistered name or version is an
//                                      # error naming scenarios.twin.registry / .version.
//     runs: 48                         # number of runs
//     seed: 7
//     duration: 14d                    # simulated time per run (a run stops at failure)
//     row_every: 10m                   # one dataset row per interval
//     fault_fraction: 0.7              # share of runs with bearing wear; the rest are healthy
//     severity: [0.6, 1.0]             # bearing_wear severity, uniform per run
//     fault_start: [0, 3d]             # when the wear starts, uniform per run
//     load: [0.4, 1.0]                 # base load per run, uniform; drifts within the range
//     ambient_temp: [10, 35]           # base ambient per run (degC), uniform; ±4 K daily cycle
//     sensor_drift: {fraction: 0.3, signal: vibration_rms, rate: [0.5, 1.5]}
//                                      # optional: a share of the runs (any kind, drawn per run)
//                                      # whose sensor of `signal` drifts: the measurement gains
//                                      # `rate` units per day (uniform) from a start uniform in
//                                      # the run's first half; the twin itself is unaffected
//   field_data:                        # optional: rows from the lake at a pinned Delta version
//     telemetry: /path/to/lake/telemetry   # relative paths: against the spec's directory
//     version: 12
//     from: 2026-01-01T00:00:00Z
//     to: 2026-01-15T00:00:00Z
//     labels: labels.csv               # weft-sim --labels CSV
//     work_orders: {table: /path/to/lake/work_orders, version: 3}
//                                      # the core's work_orders Delta table at a pinned version
//                                      # (POST /api/v1/workorders); relative: as `telemetry`
//                                      # At least one of labels and work_orders; both merge.
//   Work-order labels (field_data.work_orders; columns read by name: event_ts, asset, outcome):
//   - outcome "confirmed_fault": a failure of `asset` at event_ts, exactly as a labels-CSV
//     failure (rows 0 < event_ts - ts <= horizon are 1; the asset's run ends there and its next
//     samples start a new run), except that the fault's start is unknown (RunInfo::
//     fault_start_us empty: evaluation counts any alarm up to 3 x horizon before it as early
//     enough). A failure at the same instant in the CSV and the table counts once.
//   - outcome "false_alarm": an inspection found no fault at event_ts. Rows of that asset with
//     0 <= event_ts - ts <= horizon (and no failure of the asset between ts and event_ts: that
//     inspection saw the repaired asset) keep label 0 and are marked
//     DatasetRow::confirmed_negative (lineage: field_data.work_orders.confirmed_negative_rows).
//     A confirmed failure within the horizon after such a row wins (a failure is a fact, an
//     inspection a judgement at one instant): the row stays 1 and is counted as
//     conflicting_rows.
//   - any other outcome is skipped and counted (other_outcomes); no work order = no failure.
//   Only work orders with event_ts in [from, to + horizon) are read (the ones that can label a
//   row); the lineage records the table, its Delta version, the predicate and the counts.
//   monitoring:                        # optional: what the card tells the reliability monitor
//     thermal_residual:                # the twin-residual check (mlops/monitoring/monitor.h,
//                                      # "thermal_degradation"); needs `scenarios`
//       twin: motor                    # optional: the scenarios' twin model (the only one
//                                      # allowed: its healthy runs give the statistics)
//       params: {}                     # optional: over the scenarios' twin parameters (a
//                                      # registered version's, then scenarios.twin.params)
//       output: winding_temp           # the twin output predicted
//       measured: winding_temp         # the signal compared with it (default: output)
//       inputs:                        # per twin input: a signal, clamp(scale·x + offset,
//         - {input: load, signal: current, scale: 0.0556, offset: -0.556, min: 0, max: 1.2}
//         - {input: running, constant: 1}    # min, max), or a constant
//       k_sigma: 4                     # optional, the monitor's defaults shown
//       trend_windows: 4               #   (>= 3)
//       trend_t_min: 2.5
//       warmup_s: 600                  # a duration; a plain number is seconds [0]
//       window: 1h                     # the monitor's window (`weft model monitor --window`)
//       sample_period: 60s             # the telemetry's sample period the monitor sees
//                                      # (window >= 10 periods: the monitor's minimum)
//     No healthy_mean / healthy_sigma: training measures them (trainer.h); writing them is an
//     error. The measured signal and the input signals must be what a scenario run produces:
//     outputs of the twin, or the inputs the runs drive (load, ambient_temp). Checked here when
//     the twin is a built-in model; for a registered twin at train time.
//   holdout: {fraction: 0.3, seed: 1}  # held-out share of runs (stratified: failure / healthy)
//   xgboost: {rounds: 150, max_depth: 4, eta: 0.1, subsample: 0.8}   # also min_child_weight
//   threshold: 0.5                     # score >= threshold -> alarm row
// At least one of scenarios and field_data is required.
//
// Thread-safety: ParseTrainSpec is reentrant; a TrainSpec is a plain value.
#ifndef WEFT_MLOPS_TRAINING_TRAIN_SPEC_H_
#define WEFT_MLOPS_TRAINING_TRAIN_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "edge/inference/inference_config.h"
#include "mlops/monitoring/monitor.h"

namespace weft::mlops {

//! Larger spec files are refused.
inline constexpr size_t kMaxTrainSpecBytes = size_t{1} << 20;

//! A closed interval [lo, hi], lo <= hi.
struct Range {
  double lo = 0;
  double hi = 0;
};

struct ScenarioSpec {
  std::string twin_model = "motor";           //!< unused when twin_registry is set
  std::string twin_registry;                  //!< registered twin name; "" = use twin_model
  std::string twin_version;                   //!< with twin_registry; "" = the latest version
  std::map<std::string, double> twin_params;  //!< MakeTwin overrides (over a version's params)
  std::map<std::string, Range> twin_vary;     //!< per-run uniform draws of parameters
  uint32_t runs = 0;
  uint64_t seed = 0;
  Micros duration{0};
  Micros row_every{0};
  double fault_fraction = 0.5;
  Range severity{0.6, 1.0};
  Range fault_start_s{0, 0};  //!< seconds after the run's start
  Range load{0.4, 1.0};
  Range ambient_temp{10, 35};
  struct SensorDrift {
    double fraction = 0;
    std::string signal;
    Range rate_per_day{0, 0};
  };
  std::optional<SensorDrift> sensor_drift;
};

//! field_data.work_orders: the core's work_orders Delta table at a pinned version.
struct WorkOrdersSpec {
  std::string table;  //!< location as written (resolved against TrainOptions::base_dir)
  int64_t version = 0;
};

struct FieldDataSpec {
  std::string telemetry;  //!< location as written (resolved against TrainOptions::base_dir)
  int64_t version = 0;
  int64_t from_us = 0;
  int64_t to_us = 0;
  std::string labels;  //!< labels CSV path as written; "" = none (then work_orders is set)
  std::optional<WorkOrdersSpec> work_orders;
  Micros row_every{std::chrono::minutes(10)};
};

struct HoldoutSpec {
  double fraction = 0.3;
  uint64_t seed = 1;
};

struct XgboostSpec {
  uint32_t rounds = 150;
  uint32_t max_depth = 4;
  double eta = 0.1;
  double subsample = 0.8;
  double min_child_weight = 1;
};

//! monitoring.thermal_residual of a spec.
struct ThermalResidualMonitoring {
  //! What the card's monitoring.thermal_residual holds: twin_model "" = the scenarios' twin;
  //! twin_params as written (training puts the scenarios' parameters under them);
  //! healthy_mean and healthy_sigma are left at their defaults until training measures them.
  ThermalResidualSpec residual;
  Micros window{std::chrono::hours(1)};
  Micros sample_period{std::chrono::seconds(60)};
};

struct MonitoringSpec {
  std::optional<ThermalResidualMonitoring> thermal_residual;
};

enum class Monotone { kIncreasing, kDecreasing };

struct TrainSpec {
  std::string name;
  std::string asset_type;
  std::string output;
  std::string task = "failure_within_horizon";
  Micros horizon{0};
  uint32_t window = 32;
  std::vector<edge::inference::FeatureConfig> features;
  std::map<std::string, Monotone> monotone;  //!< by signal
  std::optional<ScenarioSpec> scenarios;
  std::optional<FieldDataSpec> field_data;
  MonitoringSpec monitoring;
  HoldoutSpec holdout;
  XgboostSpec xgboost;
  double threshold = 0.5;

  std::string file;    //!< where it was read from
  std::string sha256;  //!< of the spec text (lineage)

  size_t num_features() const;
  //! "vibration_rms.last", ... in the FeatureWindow's order.
  std::vector<std::string> FeatureNames() const;
  //! XGBoost's monotone_constraints value, e.g. "(1,1,0,0)".
  std::string MonotoneConstraints() const;
};

//! Parses a spec. InvalidArgument (first problem in the message, all in `diags`) on errors.
Result<TrainSpec> ParseTrainSpec(std::string_view text, const std::string& file,
                                 Diagnostics* diags);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TRAINING_TRAIN_SPEC_H_

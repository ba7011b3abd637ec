// Dataset: the labelled rows a failure-within-horizon model is trained and evaluated on, from
// twin-simulated scenario runs and from field telemetry in the lake at a pinned Delta version.
//
//   WEFT_ASSIGN_OR_RETURN(Dataset d, BuildScenarioDataset(spec));          // twin runs
//   // a spec naming a registered twin version needs the core's state dir (twins.db):
//   WEFT_ASSIGN_OR_RETURN(Dataset d, BuildScenarioDataset(spec, {state_dir, &clock}));
//   WEFT_ASSIGN_OR_RETURN(Dataset f, BuildFieldDataset(spec, base_dir, &clock));
//   d.Append(std::move(f));
//   std::vector<float> x = d.Matrix(rows);                                // row-major
//
// Features are computed by the edge's own FeatureWindow (edge/inference/features.h), from the
// `window` newest values of each signal at its 1 s period, so what is trained on is what the edge
// computes. A row's label is 1 when a failure of its asset follows within `horizon` (0 < failure
// - ts <= horizon); its time to failure is +inf when no failure follows in its run.
//
// Scenario runs (ScenarioSpec): run i uses its own Rng (from seed and i), a twin made with
// MakeTwin(model, params) plus the `vary` draws, a base load and ambient drawn per run; the load
// takes a new value within ±0.1 of its base (clamped to the range) every 6 h and the ambient
// follows a ±4 K daily sine. Each run warms up for 2 h (no rows), then the twin is stepped at
// 60 s (exact enough: the twins integrate first-order nodes exactly), and before each row time at
// 1 s for `window` steps, pushing each feature signal. A round(fault_fraction·runs) share of the
// runs (the first ones) get bearing wear of a uniform severity at a uniform fault start; a run
// stops at the twin's failure (its failure time is the step it failed in). With sensor_drift, a
// run drawn for it adds rate·(t - start)/1 d to the pushed values of that signal after start.
//
// Field data (FieldDataSpec): the telemetry table (columns ts, asset, asset_type, signal, value,
// quality; `date` partition used for pruning when present) is scanned at `version` with a
// predicate on ts (and date, asset_type, signal); only quality 0 is used. Each asset's samples
// are replayed in time order into a FeatureWindow and a row is made every row_every once every
// signal has a value. The labels CSV (weft-sim --labels) and/or the work_orders table give
// failures per asset: a failure ends a run; the asset's next samples start a new run with an
// empty window. A run whose data end before a failure is censored (RunInfo::fault, no
// failure_us) when the fault had started by its last row (CSV) or, for a work order (start
// unknown), when its last row is within the horizon before the failure.
//
// Work orders (FieldDataSpec::work_orders, semantics in train_spec.h): ReadWorkOrderLabels
// scans the table at its pinned version for event_ts in [from, to + horizon) (date-pruned when
// partitioned); confirmed faults become FailureLabels (fault "work_order", start unknown), false
// alarms mark the rows within the horizon before them as confirmed negatives (label 0 unless a
// confirmed failure follows within the horizon: then 1, counted as a conflict).
//
// A registered twin (scenarios.twin.registry): ResolveScenarioTwin reads the version (or the
// latest) from <state_dir>/twins.db (read-only use; the file must exist) and the runs use
// MakeTwin(base model, version's parameters overridden by `params`), then the `vary` draws. The
// lineage's scenarios.twin then holds "registry": {name, version, ref "name@version",
// base_model, parameters (all of the version's), parent_version}; "model" and "version" are
// always the base model and its TwinInfo version.
//
// Thread-safety: functions are reentrant; a Dataset is a plain value.
#ifndef WEFT_MLOPS_TRAINING_DATASET_H_
#define WEFT_MLOPS_TRAINING_DATASET_H_

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mlops/training/train_spec.h"
#include "twin/twin.h"

namespace weft::mlops {

inline constexpr double kNoFailure = std::numeric_limits<double>::infinity();

struct DatasetRow {
  uint32_t run = 0;  //!< index into Dataset::runs
  int64_t ts_us = 0;
  std::vector<float> features;  //!< TrainSpec::FeatureNames() order; NaN = missing
  float label = 0;
  double time_to_failure_s = kNoFailure;
  //! Field rows within the horizon before a false-alarm work order of their asset (an inspection
  //! found no fault): label 0 verified, not just "no failure recorded".
  bool confirmed_negative = false;
};

struct RunInfo {
  std::string id;                         //!< "twin-7", or "field:<asset>#<segment>"
  std::string asset;                      //!< the asset's name
  std::string source;                     //!< "twin" or "field"
  bool fault = false;                     //!< a fault was present (labels CSV / injected)
  std::optional<int64_t> fault_start_us;  //!< when it started
  std::optional<int64_t> failure_us;      //!< when the run ended in failure
  double severity = 0;
  double sensor_drift_per_day = 0;               //!< scenario runs with a drifting sensor
  std::optional<int64_t> sensor_drift_start_us;  //!< when that sensor starts drifting
  int64_t start_us = 0, end_us = 0;              //!< first and last row
};

struct Dataset {
  std::vector<std::string> feature_names;
  std::vector<RunInfo> runs;
  std::vector<DatasetRow> rows;  //!< grouped by run, in time order within a run
  nlohmann::json lineage = nlohmann::json::object();  //!< "scenarios", "field_data" entries

  size_t positives() const;
  //! Rows with confirmed_negative set and label 0.
  size_t confirmed_negatives() const;
  //! Adds `other`'s runs and rows (run indices shifted) and merges its lineage.
  void Append(Dataset other);
  //! The feature values of `rows` (indices), row-major.
  std::vector<float> Matrix(const std::vector<size_t>& rows) const;
};

//! Whether row `i` of `ds` shows normal operation: its run carries no fault, or the row is before
//! the fault's start (start unknown, as for a work order: the failure is more than 3 x `horizon`
//! away, the evaluation's earliest credited alarm), and no drifting sensor of its run has
//! started. REQUIRES: i < ds.rows.size().
bool IsNormalOperation(const Dataset& ds, size_t i, Micros horizon);

//! Where registered twins are looked up (scenarios.twin.registry).
struct ScenarioOptions {
  std::filesystem::path state_dir{};  //!< the core's state directory holding twins.db
  const Clock* clock = nullptr;       //!< for TwinRegistry::Open; null = the system clock
};

//! The twin a spec's scenarios run.
struct ScenarioTwin {
  std::string base_model;                    //!< src/twin model given to MakeTwin
  std::map<std::string, double> parameters;  //!< before `params`/`vary`; empty = defaults
  std::string registry;                      //!< registered name; "" for a built-in model
  std::string version;                       //!< registered version; "" for a built-in model
  std::string parent_version;                //!< of the registered version
};

//! Resolves scenarios.twin. For a registered twin: FailedPrecondition when state_dir is empty or
//! holds no twins.db; NotFound naming scenarios.twin.registry and the registered names when the
//! name is not registered, or scenarios.twin.version and the existing versions.
Result<ScenarioTwin> ResolveScenarioTwin(const TrainSpec& spec, const ScenarioOptions& options);

//! The number of scenario runs with bearing wear: round(fault_fraction·runs); they are the first
//! ones, runs [ScenarioFaultRuns(sc), sc.runs) are healthy.
uint32_t ScenarioFaultRuns(const ScenarioSpec& sc);

//! Every scenario run's t = 0 (2026-01-01T00:00:00Z), µs since the Unix epoch.
inline constexpr int64_t kScenarioEpochUs = int64_t{1'767'225'600} * 1'000'000;
//! Seconds a scenario run warms up before its t = 0 (no rows).
inline constexpr double kScenarioWarmupS = 2 * 3600;

//! One scenario run, drawn exactly as BuildScenarioDataset draws run `index` (so other users,
//! like the thermal residual's healthy statistics, see the very runs the model is trained on):
//! the twin (MakeTwin(base model, parameters, then `params`, then the `vary` draws)), bearing
//! wear (index < ScenarioFaultRuns) with its severity and start, the base load and ambient, the
//! load per 6 h segment, the ambient's daily phase and the sensor drift. Step() drives the twin
//! with those inputs and the run's own noise.
//!
//!   WEFT_ASSIGN_OR_RETURN(ScenarioRun run, ScenarioRun::Make(spec, resolved, 3));
//!   while (run.t() < 0) WEFT_RETURN_IF_ERROR(run.Step(60).status());   // the warm-up
//!   WEFT_ASSIGN_OR_RETURN(bool alive, run.Step(60));
//!   double w = *run.twin().Output("winding_temp");
//!
//! Thread-safety: not thread-safe (one thread steps a run); distinct runs are independent.
class ScenarioRun {
 public:
  //! REQUIRES: spec.scenarios, index < runs. InvalidArgument naming scenarios.twin for an unknown
  //! model or parameter.
  static Result<ScenarioRun> Make(const TrainSpec& spec, const ScenarioTwin& twin, uint32_t index);

  //! Advances dt_s (> 0) seconds from t(): first injects the bearing wear once t() >= its start
  //! (faulty runs), then sets the load and ambient of t(), steps the twin and t() by dt_s. False
  //! when the twin failed within the step (the run ends there); errors from the twin's inputs.
  Result<bool> Step(double dt_s);

  //! Seconds since the run's start: -kScenarioWarmupS before the first Step.
  double t() const { return t_; }
  twin::Twin& twin() { return *twin_; }
  const twin::Twin& twin() const { return *twin_; }
  //! The value the run gave a driven twin input at the last Step ("load", "ambient_temp");
  //! nullopt for another name or before the first Step.
  std::optional<double> Input(std::string_view name) const;

  bool fault() const { return fault_; }
  double severity() const { return severity_; }
  std::optional<double> fault_at() const { return fault_at_; }      //!< t when wear was injected
  std::optional<double> failure_at() const { return failure_at_; }  //!< t at the failure
  bool sensor_drift() const { return drift_; }
  double sensor_drift_per_day() const { return drift_rate_; }  //!< added per day after start
  double sensor_drift_start() const { return drift_start_; }   //!< t

 private:
  ScenarioRun() = default;
  Status SetInputs(double t);

  std::unique_ptr<twin::Twin> twin_;
  twin::Rng noise_{0};
  bool fault_ = false;
  double severity_ = 0;
  double fault_start_ = 0;
  double base_ambient_ = 0;
  double phase_ = 0;
  bool drift_ = false;
  double drift_rate_ = 0;
  double drift_start_ = 0;
  std::vector<double> loads_;  //!< per 6 h segment
  double t_ = -kScenarioWarmupS;
  bool injected_ = false;
  bool stepped_ = false;
  double load_ = 0, ambient_ = 0;  //!< last set
  std::optional<double> fault_at_, failure_at_;
};

//! Rows from the spec's scenario runs. InvalidArgument for an unknown twin model, parameter or
//! output (a feature signal the twin does not produce); ResolveScenarioTwin's errors.
Result<Dataset> BuildScenarioDataset(const TrainSpec& spec, const ScenarioOptions& options = {});

//! Rows from the spec's field_data: the telemetry table at its pinned version, labelled from the
//! labels CSV and/or the work_orders table. Relative paths are resolved against `base_dir`.
//! NotFound for a missing table or labels file; InvalidArgument for a table without the needed
//! columns or a malformed labels CSV (line named); a version that does not exist is the lake's
//! error with the table's field_data key, location and version as context.
Result<Dataset> BuildFieldDataset(const TrainSpec& spec, const std::filesystem::path& base_dir,
                                  const Clock* clock);

//! Failures per asset from a weft-sim labels CSV (asset,signal,fault,severity,start,end,failure)
//! or from confirmed-fault work orders.
struct FailureLabel {
  std::string asset;
  std::string fault;  //!< the CSV's fault kind; "work_order" for a work order
  double severity = 0;
  double sensor_drift_per_day = 0;  //!< scenario runs with a drifting sensor
  std::optional<int64_t> start_us;  //!< when the fault started; unknown for a work order
  std::optional<int64_t> failure_us;
};
Result<std::vector<FailureLabel>> ParseLabelsCsv(std::string_view text, const std::string& file);

//! A false-alarm work order: an inspection of `asset` at `event_us` found no fault.
struct ConfirmedNegative {
  std::string asset;
  int64_t event_us = 0;
};

//! The labels a work_orders table holds for [from_us, to_us).
struct WorkOrderLabels {
  std::vector<FailureLabel> failures;           //!< confirmed_fault: failure_us = event_ts
  std::vector<ConfirmedNegative> false_alarms;  //!< false_alarm
  int64_t table_rows = 0;                       //!< all rows of the table at the version
  size_t rows = 0;                              //!< rows read (matching the time range)
  size_t other_outcomes = 0;                    //!< rows of another outcome: skipped
  std::string where;                            //!< the scan's predicate (lineage)
};

//! Reads the work orders with event_ts in [from_us, to_us) at `version` of the table at
//! `location` (needs columns event_ts timestamp, asset string, outcome string; a `date`
//! partition is used for pruning when present). Errors name "field_data.work_orders.table",
//! the location and, for a missing column or version, the version: NotFound for a missing
//! table, InvalidArgument for a missing column. REQUIRES: from_us < to_us.
Result<WorkOrderLabels> ReadWorkOrderLabels(const std::string& location, int64_t version,
                                            int64_t from_us, int64_t to_us, const Clock* clock);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TRAINING_DATASET_H_

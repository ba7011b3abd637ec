// Training a failure-within-horizon model: dataset -> split by run -> XGBoost -> evaluation on
// the held-out runs, with the model card and lineage the registry records.
//
//   Diagnostics diags;
//   WEFT_ASSIGN_OR_RETURN(TrainSpec spec, ParseTrainSpec(text, "bearing_risk.yaml", &diags));
//   WEFT_ASSIGN_OR_RETURN(TrainResult r, Train(spec, {.base_dir = "models", .clock = &clock}));
//   // r.model_json: XGBoost JSON, loadable by edge::inference::TreeModel
//   // r.card, r.lineage, r.metrics.ToJson(): for the registry
//
// XGBoost (1.7, C API): binary:logistic, tree_method hist, nthread 1, seed from the holdout
// seed, the spec's rounds/max_depth/eta/subsample/min_child_weight and monotone_constraints from
// the spec's `monotone`: the same spec and data give the same model bytes.
// The held-out runs are scored with edge::inference::TreeModel (the edge's evaluator), so the
// reported metrics are those of the model the edge will run.
//
// The card (JSON): name, asset_type, output, task, horizon_s, window, features [{signal, stats}],
// feature_names, threshold, monotone_constraints, and reference: per feature name the training
// rows' quantiles {p0, p1, p5, p10, p20, ..., p90, p95, p99, p100} (NaN-free; null when the
// feature was always missing), for drift monitoring and the operating envelope; per signal with
// a `last` stat its raw reference (deciles and a sample of <= 2000 values of the training rows in
// normal operation, IsNormalOperation, for drift; the envelope [p0.5, p99.5] of all training
// rows) and reference.score (the normal-operation rows' training scores), in the form
// mlops/monitoring's ParseMonitorConfig reads; model; and a monitoring block (default
// thresholds, monitored signals, reference_rows {rows: "normal_operation" or "all" (when no row
// is), count, of} and, when the spec has
// monitoring.thermal_residual, the thermal residual with healthy_mean and healthy_sigma measured
// on the scenarios' healthy runs by the monitor's own check: healthy_residual.h).
// The lineage (JSON): spec file + sha256, scenarios (twin model, version, params, seed, ...),
// field_data (telemetry location, Delta version, from/to, labels sha256; work_orders: table
// location, Delta version, table_rows, rows read, confirmed_faults, false_alarms,
// confirmed_negative_rows, conflicting_rows), xgboost params, code version (WEFT_CODE_VERSION at
// build time, "unknown" without), trained_at (the clock), dataset (runs, rows, positives,
// confirmed_negatives, model sha256).
//
// Thread-safety: reentrant (XGBoost handles are per call).
#ifndef WEFT_MLOPS_TRAINING_TRAINER_H_
#define WEFT_MLOPS_TRAINING_TRAINER_H_

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mlops/training/dataset.h"
#include "mlops/training/evaluation.h"
#include "mlops/training/train_spec.h"

namespace weft::mlops {

struct TrainOptions {
  std::filesystem::path base_dir;  //!< relative paths in the spec resolve against it
  //! The core's state directory (twins.db): needed when scenarios.twin names a registered twin.
  std::filesystem::path state_dir{};
  const Clock* clock = nullptr;  //!< REQUIRES: not null
};

struct DatasetSplit {
  std::vector<uint32_t> train_runs, test_runs;  //!< indices into Dataset::runs
  std::vector<size_t> train_rows, test_rows;    //!< indices into Dataset::rows, in order
};

struct TrainResult {
  std::string model_json;  //!< XGBoost JSON model
  nlohmann::json card;
  nlohmann::json lineage;
  EvaluationReport metrics;  //!< model and baseline on the held-out runs
  size_t train_rows = 0, test_rows = 0, train_runs = 0, test_runs = 0, positives = 0;
};

//! Splits by run, stratified by kind (failure, healthy, censored): round(fraction·n) of each
//! kind's runs (at least one when it has two or more) are held out, chosen with `seed`.
DatasetSplit SplitByRun(const Dataset& ds, const HoldoutSpec& holdout);

//! Trains on `rows` of `ds` and returns the model as XGBoost JSON. InvalidArgument when the rows
//! hold a single class; Internal with XGBoost's message when it fails.
Result<std::string> TrainBooster(const TrainSpec& spec, const Dataset& ds,
                                 const std::vector<size_t>& rows);

//! XGBoost's own predictions of a JSON model on row-major `x` (the reference for TreeModel).
Result<std::vector<float>> XgboostPredict(std::string_view model_json, const std::vector<float>& x,
                                          size_t num_features);

//! The model card (see above) with reference quantiles over `train_rows`; with `train_scores`
//! (the model's scores of `train_rows`, same order) also the score's reference, so that
//! prediction drift is monitored (reference.score: deciles and a sample).
nlohmann::json MakeCard(const TrainSpec& spec, const Dataset& ds,
                        const std::vector<size_t>& train_rows,
                        const std::vector<float>& train_scores = {});

//! Dataset (scenarios and/or field data) -> split -> train -> evaluate. Errors name the spec.
Result<TrainResult> Train(const TrainSpec& spec, const TrainOptions& options);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TRAINING_TRAINER_H_

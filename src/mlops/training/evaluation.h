// Evaluation of a failure-within-horizon score on held-out runs, row by row and run by run, for
// the model and for the classic baseline (a threshold on vibration_rms `last`, ISO 10816-style).
//
//   EvaluationOptions opt{.threshold = 0.5, .consecutive = 3, .horizon = 48h};
//   ScoreReport m = ScoreRuns("model", dataset, test_rows, scores, opt);
//   double t = ChooseBaselineThreshold(dataset, train_rows, feature, opt);  // max run-level F1
//
// Row level: a row is positive when its score >= threshold; precision, recall and F1 against the
// row labels.
// Run level (runs in time order): the alarm of a run is the first row ending `consecutive`
// rows in a row with score >= threshold. Runs are classified:
//   failure run  it ended in a failure. Detected when its alarm is at or after the fault's start,
//                before the failure and at most `max_lead` before it; lead = failure - alarm.
//                An alarm before the fault's start or earlier than max_lead before the failure
//                is a false alarm (the operator would have acted on a healthy machine); no alarm
//                is a miss.
//   healthy run  no fault: any alarm is a false alarm.
//   censored     a fault but no failure within the data: not scored (counted in `censored`).
// Precision = detected / (detected + false alarms), recall = detected / failure runs.
// Lead times are reported in hours: median and p10 (the 10th percentile, the short leads) over
// detected runs.
//
// Thread-safety: reentrant; reports are plain values.
#ifndef WEFT_MLOPS_TRAINING_EVALUATION_H_
#define WEFT_MLOPS_TRAINING_EVALUATION_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "mlops/training/dataset.h"

namespace weft::mlops {

struct EvaluationOptions {
  double threshold = 0.5;
  int consecutive = 3;
  Micros horizon{0};
  //! An alarm earlier than this before the failure is a false alarm; 0 = 3 × horizon.
  Micros max_lead{0};
};

struct RowMetrics {
  size_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision = 0, recall = 0, f1 = 0;
};

struct RunOutcome {
  std::string run;
  std::string kind;  //!< "failure", "healthy", "censored"
  std::optional<int64_t> alarm_us;
  bool detected = false;
  bool false_alarm = false;
  double lead_h = 0;  //!< when detected
};

struct RunMetrics {
  size_t failure_runs = 0, healthy_runs = 0, censored = 0;
  size_t detected = 0, missed = 0, false_alarms = 0;
  double precision = 0, recall = 0, f1 = 0;
  double median_lead_h = 0, p10_lead_h = 0;  //!< over detected runs; 0 when none
};

struct ScoreReport {
  std::string name;   //!< "model", "baseline"
  std::string score;  //!< what is thresholded, e.g. "failure_risk", "vibration_rms.last"
  double threshold = 0;
  RowMetrics rows;
  RunMetrics runs;
  std::vector<RunOutcome> outcomes;

  nlohmann::json ToJson() const;
};

struct EvaluationReport {
  ScoreReport model;
  std::optional<ScoreReport> baseline;  //!< absent when the features lack vibration_rms.last
  int consecutive = 3;
  double horizon_h = 0, max_lead_h = 0;
  size_t train_runs = 0, test_runs = 0, train_rows = 0, test_rows = 0;

  nlohmann::json ToJson() const;
};

//! Scores `rows` (indices into `ds.rows`, each run's rows in time order) with `scores` (one per
//! row, same order). REQUIRES: scores.size() == rows.size().
ScoreReport ScoreRuns(const std::string& name, const std::string& score_name, const Dataset& ds,
                      const std::vector<size_t>& rows, const std::vector<float>& scores,
                      const EvaluationOptions& options);

//! The threshold on feature `feature` that maximises run-level F1 over `rows` (ties: the higher
//! recall, then the lower threshold), from candidates at 1/400 quantiles of the feature's values.
double ChooseBaselineThreshold(const Dataset& ds, const std::vector<size_t>& rows, size_t feature,
                               EvaluationOptions options);

//! The q-quantile (0..1) of `v` by linear interpolation between order statistics; NaNs ignored;
//! NaN when there is no value. Sorts `v`.
double Quantile(std::vector<double>& v, double q);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TRAINING_EVALUATION_H_

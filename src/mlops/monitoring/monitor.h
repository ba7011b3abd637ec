// Reliability monitoring of a deployed model on each asset it serves, "beyond drift": feature and
// prediction drift, actuator saturation, thermal degradation against a digital twin, and
// environmental deviation from the training envelope, combined into a reliability score and an
// action (none, mark_low_trust, retrain, rollback). Results are rows for the lake
// (monitoring_lake.h).
//
//   WEFT_ASSIGN_OR_RETURN(MonitorConfig config, ParseMonitorConfig(model_card_json));
//   WEFT_ASSIGN_OR_RETURN(auto monitor, ReliabilityMonitor::Create(config));
//   MonitorWindow w{.end = now, .model = "bearing_risk", .model_version = "3", .asset = "m1",
//                   .sample_period_s = 10, .signals = {{"current", {...}}, ...}, .scores = {...}};
//   WEFT_ASSIGN_OR_RETURN(WindowAssessment a, monitor->Assess(w));
//   if (a.action == Action::kRollback) ...
//
// The checks, per window of one (model, asset):
//  * drift (check "feature_drift", subject = feature; "prediction_drift", subject "score"): PSI
//    against the reference's quantile bins (drift.h; warn 0.1, alert 0.25) and the two-sample KS
//    test against the reference sample: warn when p < ks_warn_p, alert when p < ks_alert_p, both
//    only when D >= ks_min_d (an effect-size floor: with hundreds of samples per window KS finds
//    differences too small to matter). The subject's level is the worse of the two. Features
//    with `drift = false` (operating conditions that move slower than a window, like ambient
//    temperature) are left to the envelope check.
//  * actuator saturation ("actuator_saturation", subject = control output): the share of samples
//    within eps of the output's min or max; warn >= saturation_warn (0.2), alert >=
//    saturation_alert (0.5).
//  * thermal degradation ("thermal_degradation", subject = twin output): a twin (twin::MakeTwin)
//    is driven sample by sample by the window's inputs (each twin input a linear map of a signal,
//    scale·x + offset clamped to [min, max], or a constant) and the residual r = measured −
//    predicted is averaged per window. With μ0, σ0 the healthy residual's window-mean and its
//    standard deviation (from training data) and the least-squares slope b (K per window) of the
//    last `trend_windows` window means with its t statistic t = b / se(b):
//        alert  when  mean − μ0 > k_sigma·σ0  AND  b > 0  AND  t >= trend_t_min
//        warn   when  mean − μ0 > k_sigma·σ0  (offset without a rising trend: a settled step)
//    (se(b) = 0, a perfect line, counts as significant; fewer than 3 means: no trend yet).
//    The twin's state carries over from window to window of the same asset; on the first window
//    it starts at the steady state of the window's mean inputs, and residuals of the first
//    `warmup_s` seconds of that window are left out.
//  * environmental deviation ("environmental_deviation", subject = feature): the share of the
//    window's values outside the feature's training envelope ([p0.5, p99.5] of the reference
//    sample, or its [min, max], or an explicit interval); warn >= envelope_warn (0.025), alert
//    >= envelope_alert (0.05).
// Each check's level is the worst of its subjects'. Reliability score (check "reliability",
// statistic "score"): score = sum_c w_c·s_c / sum_c w_c over the checks that ran, with s = 1
// (ok), 0.5 (warn), 0 (alert) and weights drift 0.3 (feature and prediction drift together, the
// worse of the two), saturation 0.15, thermal 0.25, envelope 0.3. Action (the strongest that
// applies):
//    rollback        this window's version has a mean score over >= rollback_min_windows windows
//                    on this asset that is below the previous version's by more than
//                    rollback_margin (0.1);
//    retrain         a drift or thermal-degradation alert;
//    mark_low_trust  score < low_trust_score (0.6) or an envelope alert;
//    none            otherwise.
//
// Thread-safety: a ReliabilityMonitor is not thread-safe (it keeps per-asset state: the twin,
// the residual history, the scores per version); use one per thread or lock around Assess.
#ifndef WEFT_MLOPS_MONITORING_MONITOR_H_
#define WEFT_MLOPS_MONITORING_MONITOR_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mlops/monitoring/drift.h"

namespace weft::mlops {

//! The training reference of one feature (or of the prediction score).
struct FeatureReference {
  std::string name;               //!< the signal's name in MonitorWindow::signals
  std::vector<double> quantiles;  //!< interior PSI cut points (deciles: 9 values)
  std::vector<double> sample;     //!< reference sample for KS, PSI shares and the envelope
  enum class EnvelopeMode { kPercentile, kMinMax, kExplicit };
  EnvelopeMode envelope_mode = EnvelopeMode::kPercentile;  //!< [p0.5, p99.5] by default
  double envelope_lo = 0;  //!< kExplicit only (otherwise filled by ReliabilityMonitor::Create)
  double envelope_hi = 0;
  bool drift = true;     //!< run the drift check on this feature
  bool envelope = true;  //!< run the envelope check on this feature
};

//! A control output whose time at its limits is watched.
struct ControlOutput {
  std::string name;  //!< signal name
  double min = 0;
  double max = 1;
  double eps = -1;  //!< within eps of a limit counts as "at" it; < 0: 1e-3·(max − min)
};

//! How one twin input is computed from a window sample.
struct TwinInputMap {
  std::string input;   //!< twin input name, e.g. "load"
  std::string signal;  //!< source signal; empty: `constant`
  double scale = 1;    //!< input = clamp(scale·signal + offset, min, max)
  double offset = 0;
  double constant = 0;
  double min = -1e300;
  double max = 1e300;
};

struct ThermalResidualSpec {
  std::string twin_model = "motor";              //!< twin::MakeTwin model name
  std::map<std::string, double> twin_params;     //!< parameter overrides
  std::string output = "winding_temp";           //!< twin output predicted
  std::string measured_signal = "winding_temp";  //!< signal it is compared with
  std::vector<TwinInputMap> inputs;
  double healthy_mean = 0;   //!< μ0 of the healthy window-mean residual
  double healthy_sigma = 1;  //!< σ0 (> 0)
  double k_sigma = 4;
  int trend_windows = 4;  //!< N window means for the slope (>= 3)
  double trend_t_min = 2.5;
  double warmup_s = 0;
};

struct MonitorThresholds {
  PsiThresholds psi;
  double ks_warn_p = 0.01;
  double ks_alert_p = 0.001;
  double ks_min_d = 0.1;
  double saturation_warn = 0.2;
  double saturation_alert = 0.5;
  double envelope_warn = 0.025;
  double envelope_alert = 0.05;
  double low_trust_score = 0.6;
  double rollback_margin = 0.1;
  int rollback_min_windows = 3;
  double weight_drift = 0.3;
  double weight_saturation = 0.15;
  double weight_thermal = 0.25;
  double weight_envelope = 0.3;
};

//! What to monitor for one model (from its model card; see ParseMonitorConfig).
struct MonitorConfig {
  std::string model;  //!< informational; windows carry their own model name
  MonitorThresholds thresholds;
  std::vector<FeatureReference> features;
  std::optional<FeatureReference> prediction;  //!< the score's reference (name "score")
  std::vector<ControlOutput> controls;
  std::optional<ThermalResidualSpec> thermal;
};

//! Parses the monitoring part of a model card (JSON):
//!   {
//!     "model": "bearing_risk",                       (optional)
//!     "feature_names": ["current", "vibration_rms", "ambient_temp"],
//!                      (or "features": [...] of strings; names also taken from "reference")
//!     "reference": {
//!       "<feature>": {"quantiles": [9 cut points], "sample": [values],
//!                     "envelope": "percentile" | "minmax" | [lo, hi],   (default percentile)
//!                     "drift": true, "envelope_check": true},
//!       "score": {...}                               (the prediction's reference, optional)
//!     },
//!     "monitoring": {                                 (optional)
//!       "thresholds": {"psi_warn": 0.1, "psi_alert": 0.25, "psi_epsilon": 1e-4,
//!                      "ks_warn_p", "ks_alert_p", "ks_min_d", "saturation_warn",
//!                      "saturation_alert", "envelope_warn", "envelope_alert",
//!                      "low_trust_score", "rollback_margin", "rollback_min_windows",
//!                      "weights": {"drift", "saturation", "thermal", "envelope"}},
//!       "control_outputs": [{"name": "cooling_valve", "min": 0, "max": 100, "eps": 0.1}],
//!       "thermal_residual": {"twin": "motor", "params": {"thermal_resistance": 0.09},
//!                            "output": "winding_temp", "measured": "winding_temp",
//!                            "inputs": [{"input": "load", "signal": "current",
//!                                        "scale": 0.0556, "offset": -0.556, "min": 0, "max": 1.2},
//!                                       {"input": "running", "constant": 1}],
//!                            "healthy_mean": 0, "healthy_sigma": 1, "k_sigma": 4,
//!                            "trend_windows": 4, "trend_t_min": 2.5, "warmup_s": 600}
//!     }
//!   }
//! A feature needs "quantiles" or a "sample" (deciles are then computed from it); KS and the
//! percentile/minmax envelopes need a "sample". InvalidArgument naming the JSON path otherwise.
Result<MonitorConfig> ParseMonitorConfig(std::string_view json_text);

//! One window of data of one (model, asset): per-sample values by signal name (all the same
//! length, at a fixed sample period) and the model's scores for the window.
struct MonitorWindow {
  TimePoint end{};  //!< the results' ts
  std::string model;
  std::string model_version;
  std::string asset;
  double sample_period_s = 1;
  std::map<std::string, std::vector<double>, std::less<>> signals;
  std::vector<double> scores;
};

enum class Action { kNone = 0, kMarkLowTrust = 1, kRetrain = 2, kRollback = 3 };
//! "none", "mark_low_trust", "retrain", "rollback".
std::string_view ActionName(Action action);

//! One row of the model_monitoring table.
struct CheckResult {
  TimePoint ts{};
  std::string model;
  std::string model_version;
  std::string asset;
  std::string check;      //!< feature_drift, prediction_drift, actuator_saturation,
                          //!< thermal_degradation, environmental_deviation, reliability
  std::string subject;    //!< feature, control output or twin output; "" for reliability
  std::string statistic;  //!< psi, ks_d, ks_p, share_at_limits, residual_mean, residual_slope,
                          //!< trend_t, share_outside, score
  double value = 0;
  Level level = Level::kOk;
  double score = 1;               //!< the window's reliability score
  Action action = Action::kNone;  //!< the window's action
};

struct WindowAssessment {
  std::vector<CheckResult> results;
  std::map<std::string, Level> check_levels;  //!< by check name (worst subject)
  double score = 1;
  Action action = Action::kNone;
  //! The worst level over all checks.
  Level worst() const;
};

class ReliabilityMonitor {
 public:
  //! Validates the config (InvalidArgument naming the field) and precomputes the references
  //! (sorted samples, envelopes, deciles from samples where quantiles are missing).
  static Result<std::unique_ptr<ReliabilityMonitor>> Create(MonitorConfig config);

  //! Runs every configured check on the window. InvalidArgument when a configured signal is
  //! missing or the signals' lengths differ; the per-asset state is then unchanged.
  Result<WindowAssessment> Assess(const MonitorWindow& window);

  const MonitorConfig& config() const { return config_; }

  ~ReliabilityMonitor();

 private:
  struct AssetState;
  explicit ReliabilityMonitor(MonitorConfig config);

  MonitorConfig config_;
  std::vector<std::vector<double>> sorted_samples_;  //!< per feature, ascending
  std::vector<double> sorted_prediction_;
  std::map<std::string, std::unique_ptr<AssetState>, std::less<>>
      assets_;  //!< model + '\0' + asset
};

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_MONITORING_MONITOR_H_

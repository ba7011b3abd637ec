#include "mlops/training/trainer.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "common/time_format.h"
#include "edge/inference/tree_model.h"
#include "mlops/monitoring/drift.h"
#include "mlops/monitoring/monitor.h"
#include "mlops/training/healthy_residual.h"
#include "twin/twin.h"

#ifndef WEFT_CODE_VERSION
#define WEFT_CODE_VERSION "unknown"
#endif

namespace weft::mlops {

namespace {

std::string XgbError() {
  const char* e = XGBGetLastError();
  return e == nullptr ? std::string("unknown XGBoost error") : std::string(e);
}

// Owns the XGBoost handles of one call.
struct XgbHandles {
  DMatrixHandle dm = nullptr;
  BoosterHandle booster = nullptr;
  ~XgbHandles() {
    if (booster != nullptr) XGBoosterFree(booster);
    if (dm != nullptr) XGDMatrixFree(dm);
  }
};

std::string Num(double v) {
  // XGBoost parses its parameters with strtod: plain decimal text.
  std::string s = std::to_string(v);
  return s;
}

constexpr double kReferenceQuantiles[] = {0,   0.01, 0.05, 0.1, 0.2,  0.3,  0.4, 0.5,
                                          0.6, 0.7,  0.8,  0.9, 0.95, 0.99, 1.0};

}  // namespace

DatasetSplit SplitByRun(const Dataset& ds, const HoldoutSpec& holdout) {
  std::map<int, std::vector<uint32_t>> by_kind;  // 0 failure, 1 healthy, 2 censored
  for (uint32_t i = 0; i < ds.runs.size(); ++i) {
    const RunInfo& r = ds.runs[i];
    by_kind[r.failure_us ? 0 : (r.fault ? 2 : 1)].push_back(i);
  }
  twin::Rng rng(holdout.seed);
  std::vector<uint8_t> test(ds.runs.size(), 0);
  for (auto& [kind, runs] : by_kind) {
    // Fisher-Yates with the project's Rng: the same split on every standard library.
    for (size_t i = runs.size(); i > 1; --i) {
      auto j = static_cast<size_t>(rng.Uniform(0, static_cast<double>(i)));
      std::swap(runs[i - 1], runs[std::min(j, i - 1)]);
    }
    auto n = static_cast<size_t>(std::llround(holdout.fraction * static_cast<double>(runs.size())));
    if (n == 0 && runs.size() >= 2) n = 1;
    if (n >= runs.size() && runs.size() >= 2) n = runs.size() - 1;
    for (size_t i = 0; i < n; ++i) test[runs[i]] = 1;
  }
  DatasetSplit split;
  for (uint32_t i = 0; i < ds.runs.size(); ++i) {
    (test[i] ? split.test_runs : split.train_runs).push_back(i);
  }
  for (size_t i = 0; i < ds.rows.size(); ++i) {
    (test[ds.rows[i].run] ? split.test_rows : split.train_rows).push_back(i);
  }
  return split;
}

Result<std::string> TrainBooster(const TrainSpec& spec, const Dataset& ds,
                                 const std::vector<size_t>& rows) {
  const size_t nf = ds.feature_names.size();
  std::vector<float> x = ds.Matrix(rows);
  std::vector<float> y;
  size_t pos = 0;
  for (size_t i : rows) {
    y.push_back(ds.rows[i].label);
    pos += ds.rows[i].label > 0.5f ? size_t{1} : size_t{0};
  }
  if (pos == 0 || pos == rows.size()) {
    return InvalidArgumentError(spec.file + ": the training rows hold a single class (" +
                                std::to_string(pos) + " positives of " +
                                std::to_string(rows.size()) +
                                "): add failure runs, or lengthen the runs or the horizon");
  }
  XgbHandles h;
  if (XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(rows.size()),
                             static_cast<bst_ulong>(nf), std::numeric_limits<float>::quiet_NaN(),
                             &h.dm) != 0) {
    return InternalError("XGDMatrixCreateFromMat: " + XgbError());
  }
  if (XGDMatrixSetFloatInfo(h.dm, "label", y.data(), static_cast<bst_ulong>(y.size())) != 0) {
    return InternalError("XGDMatrixSetFloatInfo(label): " + XgbError());
  }
  if (XGBoosterCreate(&h.dm, 1, &h.booster) != 0) {
    return InternalError("XGBoosterCreate: " + XgbError());
  }
  const std::string monotone = spec.MonotoneConstraints();
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"nthread", "1"},
      {"seed", std::to_string(spec.holdout.seed)},
      {"max_depth", std::to_string(spec.xgboost.max_depth)},
      {"eta", Num(spec.xgboost.eta)},
      {"subsample", Num(spec.xgboost.subsample)},
      {"min_child_weight", Num(spec.xgboost.min_child_weight)},
      {"monotone_constraints", monotone},
      {"eval_metric", "logloss"},
  };
  for (const auto& [k, v] : params) {
    if (XGBoosterSetParam(h.booster, k.c_str(), v.c_str()) != 0) {
      return InvalidArgumentError(spec.file + ": xgboost parameter " + k + "=" + v + ": " +
                                  XgbError());
    }
  }
  for (uint32_t i = 0; i < spec.xgboost.rounds; ++i) {
    if (XGBoosterUpdateOneIter(h.booster, static_cast<int>(i), h.dm) != 0) {
      return InternalError("XGBoosterUpdateOneIter: " + XgbError());
    }
  }
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(h.booster, R"({"format": "json"})", &len, &buf) != 0) {
    return InternalError("XGBoosterSaveModelToBuffer: " + XgbError());
  }
  return std::string(buf, static_cast<size_t>(len));
}

Result<std::vector<float>> XgboostPredict(std::string_view model_json, const std::vector<float>& x,
                                          size_t num_features) {
  XgbHandles h;
  if (XGBoosterCreate(nullptr, 0, &h.booster) != 0) {
    return InternalError("XGBoosterCreate: " + XgbError());
  }
  if (XGBoosterLoadModelFromBuffer(h.booster, model_json.data(),
                                   static_cast<bst_ulong>(model_json.size())) != 0) {
    return InvalidArgumentError("XGBoost cannot load the model: " + XgbError());
  }
  (void)XGBoosterSetParam(h.booster, "nthread", "1");
  const size_t n = num_features == 0 ? 0 : x.size() / num_features;
  if (XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(n),
                             static_cast<bst_ulong>(num_features),
                             std::numeric_limits<float>::quiet_NaN(), &h.dm) != 0) {
    return InternalError("XGDMatrixCreateFromMat: " + XgbError());
  }
  bst_ulong len = 0;
  const float* out = nullptr;
  if (XGBoosterPredict(h.booster, h.dm, 0, 0, 0, &len, &out) != 0) {
    return InternalError("XGBoosterPredict: " + XgbError());
  }
  return std::vector<float>(out, out + len);
}

namespace {

// The monitor's reference sample is capped at this many values (KS and the envelope only need
// the distribution's shape; the card stays small).
constexpr size_t kMonitorSampleMax = 2000;

// The sorted finite values of `v`, or, when there are more than kMonitorSampleMax, that many
// evenly spaced order statistics ((i + 0.5)·n / max): deterministic, and stratified over the
// whole distribution, tails included.
std::vector<double> MonitorSample(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  std::sort(v.begin(), v.end());
  if (v.size() <= kMonitorSampleMax) return v;
  std::vector<double> out;
  out.reserve(kMonitorSampleMax);
  const double n = static_cast<double>(v.size());
  for (size_t i = 0; i < kMonitorSampleMax; ++i) {
    const double pos = (static_cast<double>(i) + 0.5) * n / static_cast<double>(kMonitorSampleMax);
    out.push_back(v[std::min(v.size() - 1, static_cast<size_t>(pos))]);
  }
  return out;
}

// The 9 interior decile cut points of `v` (NaN ignored); empty when `v` has no value.
std::vector<double> Deciles(const std::vector<double>& v) {
  std::vector<double> out;
  for (int d = 1; d <= 9; ++d) {
    std::vector<double> copy = v;
    const double q = Quantile(copy, d / 10.0);
    if (std::isnan(q)) return {};
    out.push_back(q);
  }
  return out;
}

// The default monitoring block: MonitorThresholds' defaults (mlops/monitoring/monitor.h), no
// control outputs (training does not know the actuators; add them to the card before
// registering when the model should be monitored for them). The thermal residual is added by
// Train() when the spec asks for it (healthy_residual.h).
nlohmann::json DefaultMonitoringBlock() {
  const MonitorThresholds t;
  return {{"thresholds",
           {{"psi_warn", t.psi.warn},
            {"psi_alert", t.psi.alert},
            {"ks_warn_p", t.ks_warn_p},
            {"ks_alert_p", t.ks_alert_p},
            {"ks_min_d", t.ks_min_d},
            {"saturation_warn", t.saturation_warn},
            {"saturation_alert", t.saturation_alert},
            {"envelope_warn", t.envelope_warn},
            {"envelope_alert", t.envelope_alert},
            {"low_trust_score", t.low_trust_score},
            {"rollback_margin", t.rollback_margin},
            {"rollback_min_windows", t.rollback_min_windows},
            {"weights",
             {{"drift", t.weight_drift},
              {"saturation", t.weight_saturation},
              {"thermal", t.weight_thermal},
              {"envelope", t.weight_envelope}}}}},
          {"control_outputs", nlohmann::json::array()}};
}

}  // namespace

nlohmann::json MakeCard(const TrainSpec& spec, const Dataset& ds,
                        const std::vector<size_t>& train_rows,
                        const std::vector<float>& train_scores) {
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : spec.features) {
    nlohmann::json stats = nlohmann::json::array();
    for (auto s : f.stats) stats.push_back(std::string(edge::inference::StatName(s)));
    features.push_back({{"signal", f.signal}, {"stats", stats}});
  }
  nlohmann::json reference = nlohmann::json::object();
  std::map<std::string, std::vector<double>> values_by_feature;
  for (size_t k = 0; k < ds.feature_names.size(); ++k) {
    std::vector<double> v;
    v.reserve(train_rows.size());
    for (size_t i : train_rows) v.push_back(ds.rows[i].features[k]);
    nlohmann::json q = nlohmann::json::object();
    for (double p : kReferenceQuantiles) {
      std::vector<double> copy = v;
      const double value = Quantile(copy, p);
      const std::string key = "p" + std::to_string(static_cast<int>(std::lround(p * 100)));
      q[key] = std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value);
    }
    // For ParseMonitorConfig: a window statistic is not a per-sample signal, so the monitor
    // does not check it (drift and envelope off); its deciles are there for completeness.
    // The raw signals below carry the monitored reference.
    const std::vector<double> deciles = Deciles(v);
    if (!deciles.empty()) q["quantiles"] = deciles;
    q["drift"] = false;
    q["envelope_check"] = false;
    reference[ds.feature_names[k]] = std::move(q);
    values_by_feature[ds.feature_names[k]] = std::move(v);
  }
  // The raw-signal references the monitor compares per-sample values with: signal S's reference
  // is the training rows' "S.last" (the newest sample of each row's window, so a sample of the
  // signal itself). Signals without a "last" feature get none. `monitoring.signals` lists the
  // monitored signals.
  // Drift (PSI, KS) compares an asset's window with normal operation: the training rows that
  // IsNormalOperation (no fault started, no drifting sensor). The training set over-represents
  // failing bearings and drifting sensors on purpose (most runs carry one), so a healthy asset
  // measured against all rows sits in the lowest deciles of vibration, bearing temperature and
  // score and "drifts" for being healthy. The envelope stays that of all training rows
  // ([p0.5, p99.5], given explicitly): it is where the model was trained, degraded rows included.
  // Without normal-operation rows (every run faulty from its start) all rows are used.
  std::vector<size_t> normal;
  for (size_t j = 0; j < train_rows.size(); ++j) {
    if (IsNormalOperation(ds, train_rows[j], spec.horizon)) normal.push_back(j);
  }
  const bool use_normal = !normal.empty();
  if (!use_normal) {
    for (size_t j = 0; j < train_rows.size(); ++j) normal.push_back(j);
  }
  const std::string rows_used = use_normal ? "normal_operation" : "all";
  nlohmann::json monitored = nlohmann::json::array();
  for (const auto& f : spec.features) {
    auto it = values_by_feature.find(f.signal + ".last");
    if (it == values_by_feature.end() || reference.contains(f.signal)) continue;
    std::vector<double> drift_values;
    drift_values.reserve(normal.size());
    for (size_t j : normal) drift_values.push_back(it->second[j]);
    std::vector<double> sample = MonitorSample(drift_values);
    std::vector<double> all = MonitorSample(it->second);
    if (sample.empty() || all.empty()) continue;  // always missing: nothing to compare with
    // [p0.5, p99.5] of all rows' (finite) values, as the monitor's "percentile" envelope of
    // this sample was before drift got its own reference.
    const std::vector<double> levels = {0.005, 0.995};
    const std::vector<double> envelope = Quantiles(all, levels);
    reference[f.signal] = {{"quantiles", Deciles(drift_values)},
                           {"sample", sample},
                           {"envelope", envelope},
                           {"source", f.signal + ".last"},
                           {"rows", rows_used}};
    monitored.push_back(f.signal);
  }
  nlohmann::json monitoring = DefaultMonitoringBlock();
  monitoring["signals"] = monitored;
  monitoring["reference_rows"] = {
      {"rows", rows_used}, {"count", normal.size()}, {"of", train_rows.size()}};
  if (!train_scores.empty()) {
    std::vector<double> v;
    for (size_t j : normal) {
      if (j < train_scores.size()) v.push_back(train_scores[j]);
    }
    reference["score"] = {
        {"quantiles", Deciles(v)}, {"sample", MonitorSample(v)}, {"rows", rows_used}};
  }
  return {
      {"name", spec.name},
      {"model", spec.name},
      {"asset_type", spec.asset_type},
      {"output", spec.output},
      {"task", spec.task},
      {"horizon_s", static_cast<double>(spec.horizon.count()) * 1e-6},
      {"window", spec.window},
      {"features", features},
      {"feature_names", ds.feature_names},
      {"threshold", spec.threshold},
      {"monotone_constraints", spec.MonotoneConstraints()},
      {"reference", reference},
      {"monitoring", monitoring},
  };
}

Result<TrainResult> Train(const TrainSpec& spec, const TrainOptions& options) {
  Dataset ds;
  ds.feature_names = spec.FeatureNames();
  if (spec.scenarios) {
    WEFT_ASSIGN_OR_RETURN(Dataset d,
                          BuildScenarioDataset(spec, {options.state_dir, options.clock}));
    ds.Append(std::move(d));
  }
  if (spec.field_data) {
    WEFT_ASSIGN_OR_RETURN(Dataset d, BuildFieldDataset(spec, options.base_dir, options.clock));
    ds.Append(std::move(d));
  }
  DatasetSplit split = SplitByRun(ds, spec.holdout);
  if (split.train_rows.empty() || split.test_rows.empty()) {
    return InvalidArgumentError(spec.file + ": too few runs to hold some out (" +
                                std::to_string(ds.runs.size()) + " runs)");
  }
  WEFT_ASSIGN_OR_RETURN(std::string model_json, TrainBooster(spec, ds, split.train_rows));
  WEFT_ASSIGN_OR_RETURN(
      auto tree, edge::inference::TreeModel::Parse(model_json, spec.name, "candidate", spec.file));
  std::vector<float> scores;
  scores.reserve(split.test_rows.size());
  for (size_t i : split.test_rows)
    scores.push_back(tree->PredictUnchecked(ds.rows[i].features.data()));

  EvaluationOptions eo;
  eo.threshold = spec.threshold;
  eo.horizon = spec.horizon;
  TrainResult out;
  out.metrics.model = ScoreRuns("model", spec.output, ds, split.test_rows, scores, eo);
  const auto base = std::find(ds.feature_names.begin(), ds.feature_names.end(),
                              std::string("vibration_rms.last"));
  if (base != ds.feature_names.end()) {
    const auto k = static_cast<size_t>(base - ds.feature_names.begin());
    EvaluationOptions bo = eo;
    bo.threshold = ChooseBaselineThreshold(ds, split.train_rows, k, eo);
    std::vector<float> b;
    for (size_t i : split.test_rows) b.push_back(ds.rows[i].features[k]);
    out.metrics.baseline = ScoreRuns("baseline", *base, ds, split.test_rows, b, bo);
  }
  out.metrics.consecutive = eo.consecutive;
  out.metrics.horizon_h = static_cast<double>(spec.horizon.count()) / 3.6e9;
  out.metrics.max_lead_h = 3 * out.metrics.horizon_h;
  out.metrics.train_runs = out.train_runs = split.train_runs.size();
  out.metrics.test_runs = out.test_runs = split.test_runs.size();
  out.metrics.train_rows = out.train_rows = split.train_rows.size();
  out.metrics.test_rows = out.test_rows = split.test_rows.size();
  out.positives = ds.positives();

  std::vector<float> train_scores;
  train_scores.reserve(split.train_rows.size());
  for (size_t i : split.train_rows) {
    train_scores.push_back(tree->PredictUnchecked(ds.rows[i].features.data()));
  }
  out.card = MakeCard(spec, ds, split.train_rows, train_scores);
  if (spec.monitoring.thermal_residual) {
    if (!spec.scenarios) {
      return InvalidArgumentError(spec.file +
                                  ": monitoring.thermal_residual needs 'scenarios' (its healthy "
                                  "statistics are measured on their healthy runs)");
    }
    WEFT_ASSIGN_OR_RETURN(ScenarioTwin twin,
                          ResolveScenarioTwin(spec, {options.state_dir, options.clock}));
    WEFT_ASSIGN_OR_RETURN(ThermalResidualSpec residual, ResolveThermalResidual(spec, twin));
    WEFT_ASSIGN_OR_RETURN(HealthyResidual healthy, MeasureHealthyResidual(spec, twin, residual));
    out.card["monitoring"]["thermal_residual"] = ThermalResidualCard(spec, residual, healthy);
  }
  out.lineage = ds.lineage;
  out.lineage["spec"] = {{"file", spec.file}, {"sha256", spec.sha256}};
  out.lineage["holdout"] = {{"fraction", spec.holdout.fraction}, {"seed", spec.holdout.seed}};
  out.lineage["xgboost"] = {{"version",
                             [] {
                               int major = 0, minor = 0, patch = 0;
                               XGBoostVersion(&major, &minor, &patch);
                               return std::to_string(major) + "." + std::to_string(minor) + "." +
                                      std::to_string(patch);
                             }()},
                            {"rounds", spec.xgboost.rounds},
                            {"max_depth", spec.xgboost.max_depth},
                            {"eta", spec.xgboost.eta},
                            {"subsample", spec.xgboost.subsample},
                            {"min_child_weight", spec.xgboost.min_child_weight},
                            {"monotone_constraints", spec.MonotoneConstraints()}};
  out.lineage["code_version"] = WEFT_CODE_VERSION;
  if (options.clock != nullptr) {
    out.lineage["trained_at"] = FormatTimestampMicros(UnixMicros(options.clock->Now()));
  }
  out.lineage["dataset"] = {{"runs", ds.runs.size()},
                            {"rows", ds.rows.size()},
                            {"positives", out.positives},
                            // label-0 rows verified by a false-alarm work order
                            {"confirmed_negatives", ds.confirmed_negatives()},
                            {"model_sha256", edge::inference::Sha256Hex(model_json)}};
  out.model_json = std::move(model_json);
  return out;
}

}  // namespace weft::mlops

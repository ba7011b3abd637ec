#include "mlops/monitoring/monitor.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "twin/twin.h"

namespace weft::mlops {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kFeatureDrift = "feature_drift";
constexpr std::string_view kPredictionDrift = "prediction_drift";
constexpr std::string_view kSaturation = "actuator_saturation";
constexpr std::string_view kThermal = "thermal_degradation";
constexpr std::string_view kEnvelope = "environmental_deviation";
constexpr std::string_view kReliability = "reliability";
// A t statistic of a perfect line (se = 0) is reported as this, not infinity (JSON, Parquet
// readers and dashboards choke on inf).
constexpr double kMaxT = 1e6;

Level Max(Level a, Level b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

Level Grade(double value, double warn, double alert) {
  return value >= alert ? Level::kAlert : value >= warn ? Level::kWarn : Level::kOk;
}

double SubScore(Level level) {
  switch (level) {
    case Level::kOk: return 1.0;
    case Level::kWarn: return 0.5;
    case Level::kAlert: return 0.0;
  }
  return 1.0;
}

// ---- JSON ----------------------------------------------------------------------------------

Result<std::vector<double>> Doubles(const Json& j, const std::string& path) {
  if (!j.is_array()) return InvalidArgumentError(path + ": expected an array of numbers");
  std::vector<double> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number()) {
      return InvalidArgumentError(path + "[" + std::to_string(i) + "]: expected a number");
    }
    out.push_back(j[i].get<double>());
  }
  return out;
}

// Reads an optional number field into `out`.
Status Number(const Json& obj, const char* key, const std::string& path, double* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number()) return InvalidArgumentError(path + "." + key + ": expected a number");
  *out = it->get<double>();
  return Status::Ok();
}

Status Integer(const Json& obj, const char* key, const std::string& path, int* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_integer()) {
    return InvalidArgumentError(path + "." + key + ": expected an integer");
  }
  *out = it->get<int>();
  return Status::Ok();
}

Status Bool(const Json& obj, const char* key, const std::string& path, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_boolean()) return InvalidArgumentError(path + "." + key + ": expected true/false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status String(const Json& obj, const char* key, const std::string& path, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_string()) return InvalidArgumentError(path + "." + key + ": expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<FeatureReference> ParseReference(const std::string& name, const Json& j,
                                        const std::string& path) {
  if (!j.is_object()) return InvalidArgumentError(path + ": expected an object");
  FeatureReference f;
  f.name = name;
  if (auto it = j.find("quantiles"); it != j.end()) {
    WEFT_ASSIGN_OR_RETURN(f.quantiles, Doubles(*it, path + ".quantiles"));
  }
  if (auto it = j.find("sample"); it != j.end()) {
    WEFT_ASSIGN_OR_RETURN(f.sample, Doubles(*it, path + ".sample"));
  }
  if (auto it = j.find("envelope"); it != j.end()) {
    if (it->is_string() && *it == "percentile") {
      f.envelope_mode = FeatureReference::EnvelopeMode::kPercentile;
    } else if (it->is_string() && *it == "minmax") {
      f.envelope_mode = FeatureReference::EnvelopeMode::kMinMax;
    } else if (it->is_array()) {
      WEFT_ASSIGN_OR_RETURN(std::vector<double> lohi, Doubles(*it, path + ".envelope"));
      if (lohi.size() != 2) return InvalidArgumentError(path + ".envelope: expected [lo, hi]");
      f.envelope_mode = FeatureReference::EnvelopeMode::kExplicit;
      f.envelope_lo = lohi[0];
      f.envelope_hi = lohi[1];
    } else {
      return InvalidArgumentError(path +
                                  ".envelope: expected \"percentile\", \"minmax\" or [lo, hi]");
    }
  }
  WEFT_RETURN_IF_ERROR(Bool(j, "drift", path, &f.drift));
  WEFT_RETURN_IF_ERROR(Bool(j, "envelope_check", path, &f.envelope));
  return f;
}

Status ParseThresholds(const Json& j, const std::string& path, MonitorThresholds* t) {
  if (!j.is_object()) return InvalidArgumentError(path + ": expected an object");
  WEFT_RETURN_IF_ERROR(Number(j, "psi_warn", path, &t->psi.warn));
  WEFT_RETURN_IF_ERROR(Number(j, "psi_alert", path, &t->psi.alert));
  WEFT_RETURN_IF_ERROR(Number(j, "psi_epsilon", path, &t->psi.epsilon));
  WEFT_RETURN_IF_ERROR(Number(j, "ks_warn_p", path, &t->ks_warn_p));
  WEFT_RETURN_IF_ERROR(Number(j, "ks_alert_p", path, &t->ks_alert_p));
  WEFT_RETURN_IF_ERROR(Number(j, "ks_min_d", path, &t->ks_min_d));
  WEFT_RETURN_IF_ERROR(Number(j, "saturation_warn", path, &t->saturation_warn));
  WEFT_RETURN_IF_ERROR(Number(j, "saturation_alert", path, &t->saturation_alert));
  WEFT_RETURN_IF_ERROR(Number(j, "envelope_warn", path, &t->envelope_warn));
  WEFT_RETURN_IF_ERROR(Number(j, "envelope_alert", path, &t->envelope_alert));
  WEFT_RETURN_IF_ERROR(Number(j, "low_trust_score", path, &t->low_trust_score));
  WEFT_RETURN_IF_ERROR(Number(j, "rollback_margin", path, &t->rollback_margin));
  WEFT_RETURN_IF_ERROR(Integer(j, "rollback_min_windows", path, &t->rollback_min_windows));
  if (auto it = j.find("weights"); it != j.end()) {
    const std::string wp = path + ".weights";
    if (!it->is_object()) return InvalidArgumentError(wp + ": expected an object");
    WEFT_RETURN_IF_ERROR(Number(*it, "drift", wp, &t->weight_drift));
    WEFT_RETURN_IF_ERROR(Number(*it, "saturation", wp, &t->weight_saturation));
    WEFT_RETURN_IF_ERROR(Number(*it, "thermal", wp, &t->weight_thermal));
    WEFT_RETURN_IF_ERROR(Number(*it, "envelope", wp, &t->weight_envelope));
  }
  return Status::Ok();
}

Result<ThermalResidualSpec> ParseThermal(const Json& j, const std::string& path) {
  if (!j.is_object()) return InvalidArgumentError(path + ": expected an object");
  ThermalResidualSpec s;
  WEFT_RETURN_IF_ERROR(String(j, "twin", path, &s.twin_model));
  WEFT_RETURN_IF_ERROR(String(j, "output", path, &s.output));
  s.measured_signal = s.output;
  WEFT_RETURN_IF_ERROR(String(j, "measured", path, &s.measured_signal));
  if (auto it = j.find("params"); it != j.end()) {
    if (!it->is_object()) return InvalidArgumentError(path + ".params: expected an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_number()) {
        return InvalidArgumentError(path + ".params." + k + ": expected a number");
      }
      s.twin_params[k] = v.get<double>();
    }
  }
  if (auto it = j.find("inputs"); it != j.end()) {
    if (!it->is_array()) return InvalidArgumentError(path + ".inputs: expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& in = (*it)[i];
      const std::string ip = path + ".inputs[" + std::to_string(i) + "]";
      if (!in.is_object()) return InvalidArgumentError(ip + ": expected an object");
      TwinInputMap m;
      WEFT_RETURN_IF_ERROR(String(in, "input", ip, &m.input));
      WEFT_RETURN_IF_ERROR(String(in, "signal", ip, &m.signal));
      WEFT_RETURN_IF_ERROR(Number(in, "scale", ip, &m.scale));
      WEFT_RETURN_IF_ERROR(Number(in, "offset", ip, &m.offset));
      WEFT_RETURN_IF_ERROR(Number(in, "constant", ip, &m.constant));
      WEFT_RETURN_IF_ERROR(Number(in, "min", ip, &m.min));
      WEFT_RETURN_IF_ERROR(Number(in, "max", ip, &m.max));
      if (m.input.empty()) return InvalidArgumentError(ip + ".input: required");
      if (m.signal.empty() && !in.contains("constant")) {
        return InvalidArgumentError(ip + ": needs \"signal\" or \"constant\"");
      }
      s.inputs.push_back(std::move(m));
    }
  }
  WEFT_RETURN_IF_ERROR(Number(j, "healthy_mean", path, &s.healthy_mean));
  WEFT_RETURN_IF_ERROR(Number(j, "healthy_sigma", path, &s.healthy_sigma));
  WEFT_RETURN_IF_ERROR(Number(j, "k_sigma", path, &s.k_sigma));
  WEFT_RETURN_IF_ERROR(Integer(j, "trend_windows", path, &s.trend_windows));
  WEFT_RETURN_IF_ERROR(Number(j, "trend_t_min", path, &s.trend_t_min));
  WEFT_RETURN_IF_ERROR(Number(j, "warmup_s", path, &s.warmup_s));
  return s;
}

Result<MonitorConfig> ParseConfigJson(const Json& card) {
  if (!card.is_object()) return InvalidArgumentError("model card: expected a JSON object");
  MonitorConfig config;
  WEFT_RETURN_IF_ERROR(String(card, "model", "card", &config.model));
  std::vector<std::string> names;
  auto add_names = [&](const char* key) -> Status {
    auto it = card.find(key);
    if (it == card.end()) return Status::Ok();
    if (!it->is_array()) return InvalidArgumentError(std::string(key) + ": expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      // "features" may hold feature specs (objects) written by training; only names count here.
      if (!(*it)[i].is_string()) continue;
      const std::string n = (*it)[i].get<std::string>();
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    return Status::Ok();
  };
  WEFT_RETURN_IF_ERROR(add_names("feature_names"));
  WEFT_RETURN_IF_ERROR(add_names("features"));
  auto ref = card.find("reference");
  if (ref == card.end() || !ref->is_object()) {
    return InvalidArgumentError("reference: required, an object {feature: {quantiles, sample}}");
  }
  for (const auto& [k, v] : ref->items()) {
    if (k != "score" && std::find(names.begin(), names.end(), k) == names.end()) {
      names.push_back(k);
    }
  }
  for (const std::string& n : names) {
    auto it = ref->find(n);
    if (it == ref->end()) {
      return InvalidArgumentError("reference." + n + ": missing (feature '" + n +
                                  "' is listed but has no reference)");
    }
    WEFT_ASSIGN_OR_RETURN(FeatureReference f, ParseReference(n, *it, "reference." + n));
    config.features.push_back(std::move(f));
  }
  if (auto it = ref->find("score"); it != ref->end()) {
    WEFT_ASSIGN_OR_RETURN(FeatureReference f, ParseReference("score", *it, "reference.score"));
    config.prediction = std::move(f);
  }
  if (auto mon = card.find("monitoring"); mon != card.end()) {
    if (!mon->is_object()) return InvalidArgumentError("monitoring: expected an object");
    if (auto it = mon->find("thresholds"); it != mon->end()) {
      WEFT_RETURN_IF_ERROR(ParseThresholds(*it, "monitoring.thresholds", &config.thresholds));
    }
    if (auto it = mon->find("control_outputs"); it != mon->end()) {
      if (!it->is_array()) {
        return InvalidArgumentError("monitoring.control_outputs: expected an array");
      }
      for (size_t i = 0; i < it->size(); ++i) {
        const Json& c = (*it)[i];
        const std::string cp = "monitoring.control_outputs[" + std::to_string(i) + "]";
        if (!c.is_object()) return InvalidArgumentError(cp + ": expected an object");
        ControlOutput out;
        WEFT_RETURN_IF_ERROR(String(c, "name", cp, &out.name));
        if (!c.contains("min") || !c.contains("max")) {
          return InvalidArgumentError(cp + ": needs \"min\" and \"max\"");
        }
        WEFT_RETURN_IF_ERROR(Number(c, "min", cp, &out.min));
        WEFT_RETURN_IF_ERROR(Number(c, "max", cp, &out.max));
        WEFT_RETURN_IF_ERROR(Number(c, "eps", cp, &out.eps));
        config.controls.push_back(std::move(out));
      }
    }
    if (auto it = mon->find("thermal_residual"); it != mon->end()) {
      WEFT_ASSIGN_OR_RETURN(config.thermal, ParseThermal(*it, "monitoring.thermal_residual"));
    }
  }
  return config;
}

// Least-squares slope of ys over x = 0..n-1 and its t statistic.
std::pair<double, double> SlopeAndT(const std::deque<double>& ys) {
  const double n = static_cast<double>(ys.size());
  double mx = (n - 1) / 2;
  double my = 0;
  for (double y : ys) my += y;
  my /= n;
  double sxx = 0;
  double sxy = 0;
  for (size_t i = 0; i < ys.size(); ++i) {
    const double dx = static_cast<double>(i) - mx;
    sxx += dx * dx;
    sxy += dx * (ys[i] - my);
  }
  const double b = sxy / sxx;
  double ssr = 0;
  for (size_t i = 0; i < ys.size(); ++i) {
    const double r = ys[i] - (my + b * (static_cast<double>(i) - mx));
    ssr += r * r;
  }
  const double se = std::sqrt(ssr / (n - 2) / sxx);
  double t = 0;
  if (se > 0) {
    t = std::clamp(b / se, -kMaxT, kMaxT);
  } else if (b != 0) {
    t = b > 0 ? kMaxT : -kMaxT;
  }
  return {b, t};
}

}  // namespace

Result<MonitorConfig> ParseMonitorConfig(std::string_view json_text) {
  Json card = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (card.is_discarded()) return InvalidArgumentError("model card: not valid JSON");
  try {
    return ParseConfigJson(card);
  } catch (const std::exception& e) {  // nlohmann type errors (e.g. an int out of range)
    return InvalidArgumentError(std::string("model card: ") + e.what());
  }
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kNone: return "none";
    case Action::kMarkLowTrust: return "mark_low_trust";
    case Action::kRetrain: return "retrain";
    case Action::kRollback: return "rollback";
  }
  return "none";
}

Level WindowAssessment::worst() const {
  Level out = Level::kOk;
  for (const auto& [check, level] : check_levels) out = Max(out, level);
  return out;
}

struct ReliabilityMonitor::AssetState {
  std::unique_ptr<twin::Twin> twin;
  twin::Rng rng{0};
  std::deque<double> residual_means;
  struct VersionScore {
    double sum = 0;
    int windows = 0;
  };
  std::vector<std::string> version_order;  //!< versions in order of first appearance
  std::map<std::string, VersionScore> versions;
};

ReliabilityMonitor::ReliabilityMonitor(MonitorConfig config) : config_(std::move(config)) {}
ReliabilityMonitor::~ReliabilityMonitor() = default;

Result<std::unique_ptr<ReliabilityMonitor>> ReliabilityMonitor::Create(MonitorConfig config) {
  auto prepare = [](FeatureReference& f, const std::string& path) -> Status {
    if (f.name.empty()) return InvalidArgumentError(path + ": a feature needs a name");
    if (f.quantiles.empty() && f.sample.empty()) {
      return InvalidArgumentError(path + ": needs \"quantiles\" or a \"sample\"");
    }
    for (double v : f.sample) {
      if (!std::isfinite(v)) return InvalidArgumentError(path + ".sample: holds NaN or inf");
    }
    if (f.quantiles.empty()) f.quantiles = Quantiles(f.sample, DecileLevels());
    if (!std::is_sorted(f.quantiles.begin(), f.quantiles.end())) {
      return InvalidArgumentError(path + ".quantiles: must be non-decreasing");
    }
    if (!f.envelope) return Status::Ok();
    switch (f.envelope_mode) {
      case FeatureReference::EnvelopeMode::kExplicit:
        if (!(f.envelope_lo <= f.envelope_hi)) {
          return InvalidArgumentError(path + ".envelope: lo must be <= hi");
        }
        break;
      case FeatureReference::EnvelopeMode::kPercentile:
      case FeatureReference::EnvelopeMode::kMinMax: {
        if (f.sample.empty()) {
          return InvalidArgumentError(path +
                                      ": the envelope needs a \"sample\" (or give "
                                      "\"envelope\": [lo, hi], or \"envelope_check\": false)");
        }
        const double tail =
            f.envelope_mode == FeatureReference::EnvelopeMode::kPercentile ? 0.005 : 0.0;
        const std::vector<double> levels = {tail, 1.0 - tail};
        const std::vector<double> q = Quantiles(f.sample, levels);
        f.envelope_lo = q[0];
        f.envelope_hi = q[1];
        break;
      }
    }
    return Status::Ok();
  };
  for (auto& f : config.features) WEFT_RETURN_IF_ERROR(prepare(f, "reference." + f.name));
  if (config.prediction) {
    config.prediction->envelope = false;
    WEFT_RETURN_IF_ERROR(prepare(*config.prediction, "reference.score"));
  }
  for (auto& c : config.controls) {
    if (c.name.empty()) return InvalidArgumentError("control_outputs: a control needs a name");
    if (!(c.min < c.max)) {
      return InvalidArgumentError("control_outputs." + c.name + ": min must be < max");
    }
    if (c.eps < 0) c.eps = 1e-3 * (c.max - c.min);
  }
  if (config.thermal) {
    const ThermalResidualSpec& s = *config.thermal;
    const std::string p = "thermal_residual";
    Result<std::unique_ptr<twin::Twin>> t = twin::MakeTwin(s.twin_model, s.twin_params);
    if (!t.ok()) return t.status().WithContext(p + ".twin");
    if (!(*t)->Output(s.output)) {
      return InvalidArgumentError(p + ".output: twin '" + s.twin_model + "' has no output '" +
                                  s.output + "'");
    }
    for (const TwinInputMap& m : s.inputs) {
      const std::vector<std::string> names = (*t)->InputNames();
      if (std::find(names.begin(), names.end(), m.input) == names.end()) {
        return InvalidArgumentError(p + ".inputs: twin '" + s.twin_model + "' has no input '" +
                                    m.input + "'");
      }
    }
    if (!(s.healthy_sigma > 0)) return InvalidArgumentError(p + ".healthy_sigma: must be > 0");
    if (s.trend_windows < 3) return InvalidArgumentError(p + ".trend_windows: must be >= 3");
  }
  const MonitorThresholds& th = config.thresholds;
  if (th.weight_drift < 0 || th.weight_saturation < 0 || th.weight_thermal < 0 ||
      th.weight_envelope < 0) {
    return InvalidArgumentError("thresholds.weights: must be >= 0");
  }
  if (th.rollback_min_windows < 1) {
    return InvalidArgumentError("thresholds.rollback_min_windows: must be >= 1");
  }
  std::unique_ptr<ReliabilityMonitor> m(new ReliabilityMonitor(std::move(config)));
  for (const auto& f : m->config_.features) {
    std::vector<double> s = f.sample;
    std::sort(s.begin(), s.end());
    m->sorted_samples_.push_back(std::move(s));
  }
  if (m->config_.prediction) {
    m->sorted_prediction_ = m->config_.prediction->sample;
    std::sort(m->sorted_prediction_.begin(), m->sorted_prediction_.end());
  }
  return m;
}

Result<WindowAssessment> ReliabilityMonitor::Assess(const MonitorWindow& window) {
  const std::string where =
      "window of model '" + window.model + "' on asset '" + window.asset + "'";
  // Validate before touching any state.
  size_t rows = 0;
  bool first = true;
  for (const auto& [name, values] : window.signals) {
    if (first) rows = values.size();
    first = false;
    if (values.size() != rows) {
      return InvalidArgumentError(where + ": signal '" + name + "' has " +
                                  std::to_string(values.size()) + " samples, expected " +
                                  std::to_string(rows));
    }
  }
  auto signal = [&](const std::string& name) -> Result<const std::vector<double>*> {
    auto it = window.signals.find(name);
    if (it == window.signals.end()) {
      return InvalidArgumentError(where + ": missing signal '" + name + "'");
    }
    if (it->second.empty()) return InvalidArgumentError(where + ": signal '" + name + "' is empty");
    return &it->second;
  };
  for (const auto& f : config_.features) WEFT_RETURN_IF_ERROR(signal(f.name));
  for (const auto& c : config_.controls) WEFT_RETURN_IF_ERROR(signal(c.name));
  if (config_.thermal) {
    WEFT_RETURN_IF_ERROR(signal(config_.thermal->measured_signal));
    for (const auto& m : config_.thermal->inputs) {
      if (!m.signal.empty()) WEFT_RETURN_IF_ERROR(signal(m.signal));
    }
    if (!(window.sample_period_s > 0)) {
      return InvalidArgumentError(where + ": sample_period_s must be > 0");
    }
  }

  const MonitorThresholds& th = config_.thresholds;
  WindowAssessment out;
  auto add = [&](std::string_view check, const std::string& subject, std::string_view statistic,
                 double value, Level level) {
    CheckResult r;
    r.ts = window.end;
    r.model = window.model;
    r.model_version = window.model_version;
    r.asset = window.asset;
    r.check = std::string(check);
    r.subject = subject;
    r.statistic = std::string(statistic);
    r.value = value;
    r.level = level;
    out.results.push_back(std::move(r));
    auto [it, inserted] = out.check_levels.emplace(std::string(check), level);
    if (!inserted) it->second = Max(it->second, level);
  };

  auto drift = [&](std::string_view check, const FeatureReference& f,
                   const std::vector<double>& sorted_ref,
                   const std::vector<double>& values) -> Status {
    Result<PsiResult> psi = Psi(values, f.quantiles, f.sample, th.psi);
    if (!psi.ok()) return psi.status().WithContext(where + ", " + f.name);
    add(check, f.name, "psi", psi->psi, psi->level);
    if (!sorted_ref.empty()) {
      const KsResult ks = KsTwoSampleSorted(values, sorted_ref);
      Level level = Level::kOk;
      if (ks.d >= th.ks_min_d) {
        level = ks.p_value < th.ks_alert_p  ? Level::kAlert
                : ks.p_value < th.ks_warn_p ? Level::kWarn
                                            : Level::kOk;
      }
      add(check, f.name, "ks_d", ks.d, level);
      add(check, f.name, "ks_p", ks.p_value, level);
    }
    return Status::Ok();
  };
  for (size_t i = 0; i < config_.features.size(); ++i) {
    const FeatureReference& f = config_.features[i];
    if (!f.drift) continue;
    WEFT_RETURN_IF_ERROR(
        drift(kFeatureDrift, f, sorted_samples_[i], window.signals.find(f.name)->second));
  }
  if (config_.prediction && !window.scores.empty()) {
    WEFT_RETURN_IF_ERROR(
        drift(kPredictionDrift, *config_.prediction, sorted_prediction_, window.scores));
  }

  for (const ControlOutput& c : config_.controls) {
    const std::vector<double>& values = window.signals.find(c.name)->second;
    size_t at_limit = 0;
    for (double v : values) {
      if (v <= c.min + c.eps || v >= c.max - c.eps) ++at_limit;
    }
    const double share = static_cast<double>(at_limit) / static_cast<double>(values.size());
    add(kSaturation, c.name, "share_at_limits", share,
        Grade(share, th.saturation_warn, th.saturation_alert));
  }

  for (const FeatureReference& f : config_.features) {
    if (!f.envelope) continue;
    const std::vector<double>& values = window.signals.find(f.name)->second;
    size_t outside = 0;
    for (double v : values) {
      if (!(v >= f.envelope_lo && v <= f.envelope_hi)) ++outside;  // NaN counts as outside
    }
    const double share = static_cast<double>(outside) / static_cast<double>(values.size());
    add(kEnvelope, f.name, "share_outside", share,
        Grade(share, th.envelope_warn, th.envelope_alert));
  }

  std::string key = window.model;
  key.push_back('\0');
  key += window.asset;
  auto state_it = assets_.find(key);
  if (state_it == assets_.end()) {
    state_it = assets_.emplace(key, std::make_unique<AssetState>()).first;
  }
  AssetState& state = *state_it->second;

  if (config_.thermal) {
    const ThermalResidualSpec& s = *config_.thermal;
    const std::vector<double>& measured = window.signals.find(s.measured_signal)->second;
    auto input_at = [&](const TwinInputMap& m, size_t row) {
      if (m.signal.empty()) return m.constant;
      return std::clamp(m.scale * window.signals.find(m.signal)->second[row] + m.offset, m.min,
                        m.max);
    };
    double skip_s = 0;
    if (!state.twin) {
      Result<std::unique_ptr<twin::Twin>> t = twin::MakeTwin(s.twin_model, s.twin_params);
      if (!t.ok()) return t.status().WithContext(where);
      state.twin = std::move(t).value();
      // Start at the steady state of the window's mean inputs: one long step of the twin's
      // exact first-order relaxation.
      for (const TwinInputMap& m : s.inputs) {
        double mean = 0;
        for (size_t r = 0; r < rows; ++r) mean += input_at(m, r);
        mean = m.signal.empty() ? m.constant : mean / static_cast<double>(rows);
        if (m.input == "running") mean = mean >= 0.5 ? 1 : 0;
        WEFT_RETURN_IF_ERROR(state.twin->SetInput(m.input, mean).WithContext(where));
      }
      state.twin->Step(1e6, state.rng);
      skip_s = s.warmup_s;
    }
    double sum = 0;
    size_t used = 0;
    for (size_t r = 0; r < rows; ++r) {
      for (const TwinInputMap& m : s.inputs) {
        WEFT_RETURN_IF_ERROR(state.twin->SetInput(m.input, input_at(m, r)).WithContext(where));
      }
      state.twin->Step(window.sample_period_s, state.rng);
      if (static_cast<double>(r + 1) * window.sample_period_s <= skip_s) continue;
      sum += measured[r] - *state.twin->Output(s.output);
      ++used;
    }
    if (used > 0) {
      const double mean = sum / static_cast<double>(used);
      state.residual_means.push_back(mean);
      while (state.residual_means.size() > static_cast<size_t>(s.trend_windows)) {
        state.residual_means.pop_front();
      }
      double slope = 0;
      double t = 0;
      if (state.residual_means.size() >= 3) std::tie(slope, t) = SlopeAndT(state.residual_means);
      const bool offset = mean - s.healthy_mean > s.k_sigma * s.healthy_sigma;
      const bool rising = state.residual_means.size() >= 3 && slope > 0 && t >= s.trend_t_min;
      const Level level = offset && rising ? Level::kAlert : offset ? Level::kWarn : Level::kOk;
      add(kThermal, s.output, "residual_mean", mean, level);
      add(kThermal, s.output, "residual_slope", slope, level);
      add(kThermal, s.output, "trend_t", t, level);
    }
  }

  // Reliability score over the checks that ran.
  auto level_of = [&](std::string_view check) -> std::optional<Level> {
    auto it = out.check_levels.find(std::string(check));
    if (it == out.check_levels.end()) return std::nullopt;
    return it->second;
  };
  std::optional<Level> drift_level;
  for (std::string_view c : {kFeatureDrift, kPredictionDrift}) {
    if (auto l = level_of(c)) drift_level = drift_level ? Max(*drift_level, *l) : *l;
  }
  double weighted = 0;
  double weights = 0;
  auto weigh = [&](std::optional<Level> level, double w) {
    if (!level) return;
    weighted += w * SubScore(*level);
    weights += w;
  };
  weigh(drift_level, th.weight_drift);
  weigh(level_of(kSaturation), th.weight_saturation);
  weigh(level_of(kThermal), th.weight_thermal);
  weigh(level_of(kEnvelope), th.weight_envelope);
  out.score = weights > 0 ? weighted / weights : 1.0;

  // Scores per version on this asset, for the rollback rule.
  if (!state.versions.contains(window.model_version)) {
    state.version_order.push_back(window.model_version);
  }
  AssetState::VersionScore& current = state.versions[window.model_version];
  current.sum += out.score;
  current.windows += 1;
  bool rollback = false;
  auto pos =
      std::find(state.version_order.begin(), state.version_order.end(), window.model_version);
  if (pos != state.version_order.begin()) {
    const AssetState::VersionScore& previous = state.versions[*(pos - 1)];
    if (current.windows >= th.rollback_min_windows && previous.windows >= th.rollback_min_windows) {
      const double current_mean = current.sum / current.windows;
      const double previous_mean = previous.sum / previous.windows;
      rollback = current_mean < previous_mean - th.rollback_margin;
    }
  }

  if (rollback) {
    out.action = Action::kRollback;
  } else if ((drift_level && *drift_level == Level::kAlert) ||
             level_of(kThermal) == Level::kAlert) {
    out.action = Action::kRetrain;
  } else if (out.score < th.low_trust_score || level_of(kEnvelope) == Level::kAlert) {
    out.action = Action::kMarkLowTrust;
  }
  add(kReliability, "", "score", out.score, Level::kOk);
  out.check_levels.erase(std::string(kReliability));
  for (CheckResult& r : out.results) {
    r.score = out.score;
    r.action = out.action;
  }
  out.results.back().level = out.score < th.low_trust_score ? Level::kWarn : Level::kOk;
  return out;
}

}  // namespace weft::mlops

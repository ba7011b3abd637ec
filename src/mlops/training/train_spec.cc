#include "mlops/training/train_spec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "common/strings.h"
#include "common/time_format.h"
#include "edge/inference/tree_model.h"
#include "mlops/training/dataset.h"
#include "mlops/twins/twin_registry.h"
#include "model/yaml_reader.h"
#include "twin/twin.h"

namespace weft::mlops {

namespace {

namespace ye = model::yaml_error;
using edge::inference::Stat;
using model::YamlFields;
using model::YamlReader;
using model::YamlValue;

// A number that must satisfy lo <= x <= hi (finite).
std::optional<double> NumIn(YamlReader& r, const YamlValue& v, double lo, double hi) {
  std::optional<double> d = r.Num(v);
  if (!d) return std::nullopt;
  if (!std::isfinite(*d) || *d < lo || *d > hi) {
    r.Err(ye::kInvalidValue, v,
          "expected a number in [" + FormatDouble(lo) + ", " + FormatDouble(hi) + "], got " +
              FormatDouble(*d));
    return std::nullopt;
  }
  return d;
}

// A duration: "48h", "10min", "10m" (minutes), or a plain number of seconds.
std::optional<Micros> Dur(YamlReader& r, const YamlValue& v) {
  std::optional<std::string> s = r.Str(v);
  if (!s) return std::nullopt;
  std::string text = *s;
  if (text.size() >= 2 && text.back() == 'm' &&
      (std::isdigit(static_cast<unsigned char>(text[text.size() - 2])) != 0 ||
       text[text.size() - 2] == '.')) {
    text += "in";
  }
  char* end = nullptr;
  double secs = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) {
    if (!std::isfinite(secs) || secs < 0 || secs > 1e12) {
      r.Err(ye::kInvalidValue, v, "expected a non-negative duration, got " + model::Quote(*s));
      return std::nullopt;
    }
    return Micros(static_cast<int64_t>(std::llround(secs * 1e6)));
  }
  Result<Micros> d = ParseDuration(text);
  if (!d.ok()) {
    r.Err(ye::kInvalidValue, v, d.status().message());
    return std::nullopt;
  }
  return *d;
}

// [lo, hi] of numbers within [min, max].
std::optional<Range> NumRange(YamlReader& r, const YamlValue& v, double min, double max) {
  std::vector<YamlValue> items = r.OpenList(v);
  if (!v.node.IsSequence()) return std::nullopt;
  if (items.size() != 2) {
    r.Err(ye::kInvalidValue, v, "expected [lo, hi], got a list of " + std::to_string(items.size()));
    return std::nullopt;
  }
  auto lo = NumIn(r, items[0], min, max);
  auto hi = NumIn(r, items[1], min, max);
  if (!lo || !hi) return std::nullopt;
  if (*lo > *hi) {
    r.Err(ye::kInvalidValue, v,
          "expected lo <= hi, got [" + FormatDouble(*lo) + ", " + FormatDouble(*hi) + "]");
    return std::nullopt;
  }
  return Range{*lo, *hi};
}

std::optional<Range> DurRange(YamlReader& r, const YamlValue& v) {
  std::vector<YamlValue> items = r.OpenList(v);
  if (!v.node.IsSequence()) return std::nullopt;
  if (items.size() != 2) {
    r.Err(ye::kInvalidValue, v,
          "expected [from, to] durations, got a list of " + std::to_string(items.size()));
    return std::nullopt;
  }
  auto lo = Dur(r, items[0]);
  auto hi = Dur(r, items[1]);
  if (!lo || !hi) return std::nullopt;
  if (*lo > *hi) {
    r.Err(ye::kInvalidValue, v, "expected from <= to");
    return std::nullopt;
  }
  return Range{static_cast<double>(lo->count()) * 1e-6, static_cast<double>(hi->count()) * 1e-6};
}

std::optional<edge::inference::FeatureConfig> ParseFeature(YamlReader& r, const YamlValue& v) {
  YamlFields f = r.OpenMap(v, {"signal", "stats"});
  if (!f.ok()) return std::nullopt;
  const size_t before = r.diags()->error_count();
  edge::inference::FeatureConfig out;
  if (auto s = r.Required(f, "signal")) out.signal = r.Id(*s, "signal name").value_or("");
  if (auto st = r.Required(f, "stats")) {
    std::vector<YamlValue> items = r.OpenList(*st);
    if (items.empty() && st->node.IsSequence()) {
      r.Err(ye::kInvalidValue, *st, "a feature needs at least one stat");
    }
    std::vector<std::string> names;
    for (Stat s : edge::inference::AllStats()) names.emplace_back(edge::inference::StatName(s));
    std::set<Stat> seen;
    for (const YamlValue& item : items) {
      std::optional<std::string> name = r.Str(item);
      if (!name) continue;
      std::optional<Stat> stat = edge::inference::StatFromName(*name);
      if (!stat) {
        r.Err(ye::kInvalidValue, item,
              "unknown stat " + model::Quote(*name) + "; " + model::OneOf(names) +
                  model::Hint(*name, names));
        continue;
      }
      if (!seen.insert(*stat).second) {
        r.Err(ye::kInvalidValue, item, "stat '" + *name + "' is listed twice");
        continue;
      }
      out.stats.push_back(*stat);
    }
  }
  if (r.diags()->error_count() != before) return std::nullopt;
  return out;
}

std::map<std::string, double> ParseParams(YamlReader& r, const YamlValue& v) {
  std::map<std::string, double> out;
  YamlFields f = r.OpenMap(v, {});
  if (!f.ok()) return out;
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    std::optional<YamlValue> x = f.Get(key);
    if (!x) continue;
    if (auto d = r.Num(*x)) {
      if (std::isfinite(*d)) {
        out[key] = *d;
      } else {
        r.Err(ye::kInvalidValue, *x, "expected a finite number");
      }
    }
  }
  return out;
}

void ParseScenarios(YamlReader& r, const YamlValue& v, ScenarioSpec* s) {
  YamlFields f = r.OpenMap(v, {"twin", "runs", "seed", "duration", "row_every", "fault_fraction",
                               "severity", "fault_start", "load", "ambient_temp", "sensor_drift"});
  if (!f.ok()) return;
  if (auto t = r.Required(f, "twin")) {
    YamlFields tf = r.OpenMap(*t, {"model", "registry", "version", "params", "vary"});
    if (tf.ok()) {
      if (tf.Has("model") && tf.Has("registry")) {
        r.Err(ye::kInvalidValue, *tf.Get("registry"),
              "give either 'model' (a built-in twin with its defaults) or 'registry' (a "
              "registered twin version), not both");
      } else if (tf.Has("registry")) {
        auto reg = tf.Get("registry");
        s->twin_registry = r.Str(*reg).value_or("");
        if (reg->node.IsScalar() && s->twin_registry.empty()) {
          r.Err(ye::kInvalidValue, *reg, "the registered twin name must not be empty");
        }
        s->twin_model.clear();
        if (auto ver = tf.Get("version")) {
          if (auto text = r.Str(*ver)) {
            Result<std::array<int64_t, 3>> sv = ParseSemver(*text);
            if (!sv.ok()) {
              r.Err(ye::kInvalidValue, *ver,
                    "expected a twin version like 1.1.0, got " + model::Quote(*text));
            } else {
              s->twin_version = *text;
            }
          }
        }
      } else {
        if (auto ver = tf.Get("version")) {
          r.Err(ye::kInvalidValue, *ver,
                "'version' selects a registered twin version: use it with 'registry', not "
                "'model'");
        }
        if (auto m = r.Required(tf, "model")) s->twin_model = r.Id(*m, "twin model").value_or("");
      }
      if (auto p = tf.Get("params")) s->twin_params = ParseParams(r, *p);
      if (auto p = tf.Get("vary")) {
        YamlFields vf = r.OpenMap(*p, {});
        if (vf.ok()) {
          for (auto it = p->node.begin(); it != p->node.end(); ++it) {
            const std::string key = it->first.as<std::string>("");
            if (auto x = vf.Get(key)) {
              if (auto range = NumRange(r, *x, -1e12, 1e12)) s->twin_vary[key] = *range;
            }
          }
        }
      }
    }
  }
  if (auto x = r.Required(f, "runs"))
    s->runs = static_cast<uint32_t>(r.Int(*x, 1, 100000).value_or(1));
  if (auto x = f.Get("seed")) {
    s->seed = static_cast<uint64_t>(r.Int(*x, 0, INT64_MAX).value_or(0));
  }
  if (auto x = r.Required(f, "duration")) {
    if (auto d = Dur(r, *x)) {
      if (d->count() <= 0) {
        r.Err(ye::kInvalidValue, *x, "duration must be > 0");
      } else {
        s->duration = *d;
      }
    }
  }
  if (auto x = r.Required(f, "row_every")) {
    if (auto d = Dur(r, *x)) {
      if (*d < std::chrono::minutes(1)) {
        r.Err(ye::kInvalidValue, *x,
              "row_every must be at least 1min (rows are made from "
              "one-minute twin steps)");
      } else {
        s->row_every = *d;
      }
    }
  }
  if (auto x = f.Get("fault_fraction")) s->fault_fraction = NumIn(r, *x, 0, 1).value_or(0);
  if (auto x = f.Get("severity")) {
    if (auto g = NumRange(r, *x, 0, 1)) {
      if (g->lo <= 0) {
        r.Err(ye::kInvalidValue, *x, "severity must be in (0, 1]");
      } else {
        s->severity = *g;
      }
    }
  }
  if (auto x = f.Get("fault_start")) {
    if (auto g = DurRange(r, *x)) s->fault_start_s = *g;
  }
  if (auto x = f.Get("load")) {
    if (auto g = NumRange(r, *x, 0, 1.2)) s->load = *g;
  }
  if (auto x = f.Get("ambient_temp")) {
    if (auto g = NumRange(r, *x, -40, 60)) s->ambient_temp = *g;
  }
  if (auto x = f.Get("sensor_drift")) {
    YamlFields df = r.OpenMap(*x, {"fraction", "signal", "rate"});
    if (df.ok()) {
      ScenarioSpec::SensorDrift d;
      if (auto y = r.Required(df, "fraction")) d.fraction = NumIn(r, *y, 0, 1).value_or(0);
      if (auto y = r.Required(df, "signal")) d.signal = r.Id(*y, "signal name").value_or("");
      if (auto y = r.Required(df, "rate")) {
        if (auto g = NumRange(r, *y, -1e6, 1e6)) d.rate_per_day = *g;
      }
      s->sensor_drift = d;
    }
  }
}

void ParseFieldData(YamlReader& r, const YamlValue& v, FieldDataSpec* fd) {
  YamlFields f =
      r.OpenMap(v, {"telemetry", "version", "from", "to", "labels", "work_orders", "row_every"});
  if (!f.ok()) return;
  if (auto x = r.Required(f, "telemetry")) fd->telemetry = r.Str(*x).value_or("");
  if (auto x = r.Required(f, "version")) fd->version = r.Int(*x, 0, INT64_MAX).value_or(0);
  auto ts = [&](const char* key, int64_t* out) -> std::optional<YamlValue> {
    auto x = r.Required(f, key);
    if (!x) return std::nullopt;
    std::optional<std::string> s = r.Str(*x);
    if (!s) return std::nullopt;
    Result<int64_t> t = ParseTimestampMicros(*s);
    if (!t.ok()) {
      r.Err(ye::kInvalidValue, *x, t.status().message());
      return std::nullopt;
    }
    *out = *t;
    return x;
  };
  ts("from", &fd->from_us);
  if (auto to = ts("to", &fd->to_us)) {
    if (fd->to_us <= fd->from_us) r.Err(ye::kInvalidValue, *to, "'to' must be after 'from'");
  }
  if (auto x = f.Get("labels")) {
    fd->labels = r.Str(*x).value_or("");
    if (x->node.IsScalar() && fd->labels.empty()) {
      r.Err(ye::kInvalidValue, *x, "the labels CSV path must not be empty");
    }
  }
  if (auto x = f.Get("work_orders")) {
    YamlFields wf = r.OpenMap(*x, {"table", "version"});
    if (wf.ok()) {
      WorkOrdersSpec wo;
      if (auto t = r.Required(wf, "table")) {
        wo.table = r.Str(*t).value_or("");
        if (t->node.IsScalar() && wo.table.empty()) {
          r.Err(ye::kInvalidValue, *t, "the work_orders table location must not be empty");
        }
      }
      // Pinned, like the telemetry: the same spec must see the same work orders.
      if (auto n = r.Required(wf, "version")) wo.version = r.Int(*n, 0, INT64_MAX).value_or(0);
      fd->work_orders = std::move(wo);
    }
  }
  if (!f.Has("labels") && !f.Has("work_orders")) {
    r.Err(ye::kMissingField, v.loc, v.path,
          "field_data needs 'labels' (a weft-sim labels CSV) or 'work_orders' ({table, "
          "version}: the core's work_orders Delta table), or both: where the failures come from");
  }
  if (auto x = f.Get("row_every")) {
    if (auto d = Dur(r, *x)) {
      if (d->count() <= 0) {
        r.Err(ye::kInvalidValue, *x, "row_every must be > 0");
      } else {
        fd->row_every = *d;
      }
    }
  }
}

// One entry of thermal_residual.inputs: {input, signal, scale, offset, min, max} or
// {input, constant}.
std::optional<TwinInputMap> ParseTwinInput(YamlReader& r, const YamlValue& v) {
  YamlFields f = r.OpenMap(v, {"input", "signal", "scale", "offset", "constant", "min", "max"});
  if (!f.ok()) return std::nullopt;
  const size_t before = r.diags()->error_count();
  TwinInputMap m;
  if (auto x = r.Required(f, "input")) m.input = r.Id(*x, "twin input").value_or("");
  if (f.Has("signal") && f.Has("constant")) {
    r.Err(ye::kInvalidValue, *f.Get("constant"),
          "give either 'signal' (the input follows a measured signal) or 'constant', not both");
  } else if (f.Has("constant")) {
    for (const char* key : {"scale", "offset", "min", "max"}) {
      if (auto x = f.Get(key)) {
        r.Err(ye::kInvalidValue, *x,
              std::string("'") + key + "' maps a signal; a constant input takes only 'constant'");
      }
    }
    m.constant = NumIn(r, *f.Get("constant"), -1e12, 1e12).value_or(0);
  } else if (auto x = f.Get("signal")) {
    m.signal = r.Id(*x, "signal name").value_or("");
    if (auto y = f.Get("scale")) m.scale = NumIn(r, *y, -1e12, 1e12).value_or(1);
    if (auto y = f.Get("offset")) m.offset = NumIn(r, *y, -1e12, 1e12).value_or(0);
    if (auto y = f.Get("min")) m.min = NumIn(r, *y, -1e12, 1e12).value_or(m.min);
    if (auto y = f.Get("max")) {
      m.max = NumIn(r, *y, -1e12, 1e12).value_or(m.max);
      if (m.max < m.min) {
        r.Err(ye::kInvalidValue, *y,
              "max (" + FormatDouble(m.max) + ") must be >= min (" + FormatDouble(m.min) + ")");
      }
    }
  } else {
    r.Err(ye::kMissingField, v.loc, v.path,
          "a twin input needs 'signal' (with optional scale, offset, min, max) or 'constant'");
  }
  if (r.diags()->error_count() != before) return std::nullopt;
  return m;
}

// Checks thermal_residual's names against the twin that the scenarios run (when it is a
// built-in model; a registered twin is resolved at train time).
void CheckThermalTwin(YamlReader& r, const YamlFields& f, const TrainSpec& spec,
                      const ThermalResidualSpec& s, const std::vector<YamlValue>& input_items) {
  const ScenarioSpec& sc = *spec.scenarios;
  if (!sc.twin_registry.empty() || sc.twin_model.empty()) return;
  if (!s.twin_model.empty() && s.twin_model != sc.twin_model) {
    r.Err(ye::kInvalidValue, *f.Get("twin"),
          "the healthy statistics are measured on the scenarios' runs of twin '" + sc.twin_model +
              "': thermal_residual.twin must be that model (or be left out)");
    return;
  }
  // An unknown scenarios.twin model or parameter is reported at train time.
  if (!twin::MakeTwin(sc.twin_model, sc.twin_params).ok()) return;
  std::map<std::string, double> params = sc.twin_params;
  for (const auto& [k, v] : s.twin_params) params[k] = v;
  Result<std::unique_ptr<twin::Twin>> made = twin::MakeTwin(sc.twin_model, params);
  if (!made.ok()) {
    if (auto p = f.Get("params")) r.Err(ye::kInvalidValue, *p, made.status().message());
    return;
  }
  const twin::Twin& t = **made;
  const std::vector<std::string> outputs = t.OutputNames();
  const std::vector<std::string> inputs = t.InputNames();
  auto check_output = [&](const char* key, const std::string& name, const char* what) {
    auto x = f.Get(key);
    if (!x || t.Output(name)) return;
    r.Err(ye::kInvalidValue, *x,
          std::string(what) + " '" + name + "' is not an output of twin '" + sc.twin_model + "'; " +
              model::OneOf(outputs) + model::Hint(name, outputs));
  };
  check_output("output", s.output, "output");
  if (f.Has("measured")) check_output("measured", s.measured_signal, "measured signal");
  for (size_t i = 0; i < s.inputs.size() && i < input_items.size(); ++i) {
    const TwinInputMap& m = s.inputs[i];
    const YamlValue& item = input_items[i];
    if (std::find(inputs.begin(), inputs.end(), m.input) == inputs.end()) {
      r.Err(ye::kInvalidValue, item,
            "twin '" + sc.twin_model + "' has no input '" + m.input + "'; " + model::OneOf(inputs) +
                model::Hint(m.input, inputs));
    }
    if (!m.signal.empty() && !t.Output(m.signal) && m.signal != "load" &&
        m.signal != "ambient_temp") {
      std::vector<std::string> known = outputs;
      known.insert(known.end(), {"load", "ambient_temp"});
      r.Err(ye::kInvalidValue, item,
            "signal '" + m.signal + "' is neither an output of twin '" + sc.twin_model +
                "' nor an input the scenario runs drive, so training cannot simulate it; " +
                model::OneOf(known) + model::Hint(m.signal, known));
    }
  }
}

void ParseMonitoring(YamlReader& r, const YamlValue& v, TrainSpec* spec) {
  YamlFields mf = r.OpenMap(v, {"thermal_residual"});
  if (!mf.ok()) return;
  auto x = mf.Get("thermal_residual");
  if (!x) return;
  YamlFields f = r.OpenMap(
      *x, {"twin", "params", "output", "measured", "inputs", "healthy_mean", "healthy_sigma",
           "k_sigma", "trend_windows", "trend_t_min", "warmup_s", "window", "sample_period"});
  if (!f.ok()) return;
  const size_t before = r.diags()->error_count();
  ThermalResidualMonitoring m;
  ThermalResidualSpec& s = m.residual;
  s.twin_model.clear();
  for (const char* key : {"healthy_mean", "healthy_sigma"}) {
    if (auto y = f.Get(key)) {
      r.Err(ye::kInvalidValue, *y,
            std::string(key) +
                " is measured by training (the window-mean residual of the scenarios' healthy "
                "runs), not written in the spec; remove it");
    }
  }
  if (auto y = f.Get("twin")) s.twin_model = r.Id(*y, "twin model").value_or("");
  if (auto y = f.Get("params")) s.twin_params = ParseParams(r, *y);
  if (auto y = r.Required(f, "output")) s.output = r.Id(*y, "twin output").value_or("");
  s.measured_signal = s.output;
  if (auto y = f.Get("measured")) s.measured_signal = r.Id(*y, "signal name").value_or("");
  std::vector<YamlValue> items;
  if (auto y = r.Required(f, "inputs")) {
    items = r.OpenList(*y);
    if (items.empty() && y->node.IsSequence()) {
      r.Err(ye::kInvalidValue, *y, "the twin needs at least one input mapped (e.g. its load)");
    }
    std::set<std::string> seen;
    for (const YamlValue& item : items) {
      std::optional<TwinInputMap> in = ParseTwinInput(r, item);
      if (!in) continue;
      if (!seen.insert(in->input).second) {
        r.Err(ye::kInvalidValue, item, "twin input '" + in->input + "' is mapped twice");
        continue;
      }
      s.inputs.push_back(std::move(*in));
    }
  }
  if (auto y = f.Get("k_sigma")) {
    if (auto d = NumIn(r, *y, 0, 1e6)) {
      if (*d <= 0) {
        r.Err(ye::kInvalidValue, *y, "k_sigma must be > 0");
      } else {
        s.k_sigma = *d;
      }
    }
  }
  if (auto y = f.Get("trend_windows")) {
    s.trend_windows = static_cast<int>(r.Int(*y, 3, 10000).value_or(3));
  }
  if (auto y = f.Get("trend_t_min")) s.trend_t_min = NumIn(r, *y, 0, 1e6).value_or(2.5);
  if (auto y = f.Get("warmup_s")) {
    if (auto d = Dur(r, *y)) s.warmup_s = static_cast<double>(d->count()) * 1e-6;
  }
  std::optional<YamlValue> window_at = f.Get("window");
  if (window_at) {
    if (auto d = Dur(r, *window_at)) {
      if (d->count() <= 0) {
        r.Err(ye::kInvalidValue, *window_at, "window must be > 0");
      } else {
        m.window = *d;
      }
    }
  }
  if (auto y = f.Get("sample_period")) {
    if (auto d = Dur(r, *y)) {
      if (d->count() <= 0) {
        r.Err(ye::kInvalidValue, *y, "sample_period must be > 0");
      } else {
        m.sample_period = *d;
      }
    }
  }
  if (m.window < 10 * m.sample_period || m.window > 100000 * m.sample_period) {
    r.Err(ye::kInvalidValue, window_at ? *window_at : *x,
          "window (" + FormatDuration(m.window) + ") must hold 10 to 100000 sample periods (" +
              FormatDuration(m.sample_period) +
              "): the monitor skips windows of fewer than 10 samples");
  }
  if (!spec->scenarios) {
    r.Err(ye::kMissingField, x->loc, x->path,
          "thermal_residual needs 'scenarios': its healthy_mean and healthy_sigma are measured "
          "on the scenarios' healthy runs");
  } else {
    const ScenarioSpec& sc = *spec->scenarios;
    if (sc.runs > 0 && ScenarioFaultRuns(sc) >= sc.runs) {
      r.Err(ye::kInvalidValue, x->loc, x->path,
            "the scenarios have no healthy run (round(fault_fraction x runs) = runs), and "
            "thermal_residual's healthy statistics are measured on them; lower "
            "scenarios.fault_fraction");
    }
    if (r.diags()->error_count() == before) CheckThermalTwin(r, f, *spec, s, items);
  }
  if (r.diags()->error_count() != before) return;
  spec->monitoring.thermal_residual = std::move(m);
}

}  // namespace

size_t TrainSpec::num_features() const {
  size_t n = 0;
  for (const auto& f : features) n += f.stats.size();
  return n;
}

std::vector<std::string> TrainSpec::FeatureNames() const {
  std::vector<std::string> out;
  for (const auto& f : features) {
    for (Stat s : f.stats)
      out.push_back(f.signal + "." + std::string(edge::inference::StatName(s)));
  }
  return out;
}

std::string TrainSpec::MonotoneConstraints() const {
  std::string out = "(";
  bool first = true;
  for (const auto& f : features) {
    auto m = monotone.find(f.signal);
    for (Stat s : f.stats) {
      int c = 0;
      // A level stat moves with the signal; std and slope do not (a rising signal can have
      // any spread or slope), so they stay unconstrained.
      if (m != monotone.end() && s != Stat::kStd && s != Stat::kSlope) {
        c = m->second == Monotone::kIncreasing ? 1 : -1;
      }
      if (!first) out += ",";
      out += std::to_string(c);
      first = false;
    }
  }
  return out + ")";
}

Result<TrainSpec> ParseTrainSpec(std::string_view text, const std::string& file,
                                 Diagnostics* diags) {
  const Diagnostics::Mark mark = diags->mark();
  YamlReader r(file, diags);
  std::optional<YamlValue> root = r.ParseDocument(text, kMaxTrainSpecBytes);
  if (!root) return diags->ErrorsSince(mark, file);
  YamlFields f = r.OpenMap(
      *root, {"name", "asset_type", "output", "task", "horizon", "window", "features", "monotone",
              "scenarios", "field_data", "monitoring", "holdout", "xgboost", "threshold"});
  if (!f.ok()) return diags->ErrorsSince(mark, file);
  TrainSpec spec;
  spec.file = file;
  spec.sha256 = edge::inference::Sha256Hex(text);
  if (auto x = r.Required(f, "name")) spec.name = r.Id(*x, "model name").value_or("");
  if (auto x = r.Required(f, "asset_type")) spec.asset_type = r.Id(*x, "asset type").value_or("");
  if (auto x = r.Required(f, "output")) spec.output = r.Id(*x, "output name").value_or("");
  if (auto x = r.Required(f, "task")) {
    if (auto t = r.Str(*x)) {
      if (*t != "failure_within_horizon") {
        r.Err(ye::kInvalidValue, *x,
              "unknown task " + model::Quote(*t) + "; expected one of: failure_within_horizon" +
                  model::Hint(*t, {"failure_within_horizon"}));
      }
      spec.task = *t;
    }
  }
  if (auto x = r.Required(f, "horizon")) {
    if (auto d = Dur(r, *x)) {
      if (d->count() <= 0) {
        r.Err(ye::kInvalidValue, *x, "horizon must be > 0");
      } else {
        spec.horizon = *d;
      }
    }
  }
  if (auto x = r.Required(f, "window")) {
    spec.window = static_cast<uint32_t>(r.Int(*x, 2, 65536).value_or(2));
  }
  std::set<std::string> signals;
  std::set<std::string> named;  // signals named by the features, also ones with errors
  if (auto x = r.Required(f, "features")) {
    std::vector<YamlValue> items = r.OpenList(*x);
    for (const YamlValue& item : items) {
      if (item.node.IsMap() && item.node["signal"] && item.node["signal"].IsScalar()) {
        named.insert(item.node["signal"].Scalar());
      }
    }
    if (items.empty() && x->node.IsSequence()) {
      r.Err(ye::kInvalidValue, *x, "a model needs at least one feature");
    }
    for (const YamlValue& item : items) {
      auto fc = ParseFeature(r, item);
      if (!fc) continue;
      if (!signals.insert(fc->signal).second) {
        r.Err(ye::kInvalidValue, item,
              "signal '" + fc->signal + "' is listed twice; list all its stats in one entry");
        continue;
      }
      spec.features.push_back(std::move(*fc));
    }
  }
  if (auto x = f.Get("monotone")) {
    YamlFields mf = r.OpenMap(*x, {});
    if (mf.ok()) {
      for (auto it = x->node.begin(); it != x->node.end(); ++it) {
        const std::string key = it->first.as<std::string>("");
        auto v = mf.Get(key);
        if (!v) continue;
        std::vector<std::string> known(named.begin(), named.end());
        if (named.count(key) == 0) {
          r.Err(ye::kInvalidValue, *v,
                "monotone names signal '" + key + "', which is not among the features; " +
                    model::OneOf(known) + model::Hint(key, known));
          continue;
        }
        std::optional<std::string> dir = r.Str(*v);
        if (!dir) continue;
        if (*dir == "increasing") {
          spec.monotone[key] = Monotone::kIncreasing;
        } else if (*dir == "decreasing") {
          spec.monotone[key] = Monotone::kDecreasing;
        } else {
          r.Err(ye::kInvalidValue, *v,
                "unknown direction " + model::Quote(*dir) +
                    "; expected one of: increasing, decreasing" +
                    model::Hint(*dir, {"increasing", "decreasing"}));
        }
      }
    }
  }
  if (auto x = f.Get("scenarios")) {
    spec.scenarios.emplace();
    ParseScenarios(r, *x, &*spec.scenarios);
  }
  if (auto x = f.Get("field_data")) {
    spec.field_data.emplace();
    ParseFieldData(r, *x, &*spec.field_data);
    if (spec.scenarios) spec.field_data->row_every = spec.scenarios->row_every;
  }
  if (auto x = f.Get("monitoring")) ParseMonitoring(r, *x, &spec);
  if (spec.scenarios && spec.scenarios->sensor_drift &&
      named.count(spec.scenarios->sensor_drift->signal) == 0 && !named.empty()) {
    r.Err(ye::kInvalidValue, root->loc, "scenarios.sensor_drift.signal",
          "sensor_drift names signal '" + spec.scenarios->sensor_drift->signal +
              "', which is not among the features");
  }
  if (!f.Has("scenarios") && !f.Has("field_data")) {
    r.Err(ye::kMissingField, root->loc, root->path,
          "a spec needs 'scenarios' or 'field_data' (or both): where the rows come from");
  }
  if (auto x = f.Get("holdout")) {
    YamlFields hf = r.OpenMap(*x, {"fraction", "seed"});
    if (hf.ok()) {
      if (auto y = r.Required(hf, "fraction")) {
        if (auto d = NumIn(r, *y, 0, 1)) {
          if (*d <= 0 || *d >= 1) {
            r.Err(ye::kInvalidValue, *y, "holdout fraction must be in (0, 1)");
          } else {
            spec.holdout.fraction = *d;
          }
        }
      }
      if (auto y = hf.Get("seed")) {
        spec.holdout.seed = static_cast<uint64_t>(r.Int(*y, 0, INT64_MAX).value_or(0));
      }
    }
  }
  if (auto x = f.Get("xgboost")) {
    YamlFields xf = r.OpenMap(*x, {"rounds", "max_depth", "eta", "subsample", "min_child_weight"});
    if (xf.ok()) {
      if (auto y = xf.Get("rounds")) {
        spec.xgboost.rounds = static_cast<uint32_t>(r.Int(*y, 1, 10000).value_or(1));
      }
      if (auto y = xf.Get("max_depth")) {
        spec.xgboost.max_depth = static_cast<uint32_t>(r.Int(*y, 1, 16).value_or(1));
      }
      if (auto y = xf.Get("eta")) {
        if (auto d = NumIn(r, *y, 0, 1)) {
          if (*d <= 0) {
            r.Err(ye::kInvalidValue, *y, "eta must be in (0, 1]");
          } else {
            spec.xgboost.eta = *d;
          }
        }
      }
      if (auto y = xf.Get("subsample")) {
        if (auto d = NumIn(r, *y, 0, 1)) {
          if (*d <= 0) {
            r.Err(ye::kInvalidValue, *y, "subsample must be in (0, 1]");
          } else {
            spec.xgboost.subsample = *d;
          }
        }
      }
      if (auto y = xf.Get("min_child_weight")) {
        spec.xgboost.min_child_weight = NumIn(r, *y, 0, 1e6).value_or(1);
      }
    }
  }
  if (auto x = r.Required(f, "threshold")) spec.threshold = NumIn(r, *x, 0, 1).value_or(0.5);
  WEFT_RETURN_IF_ERROR(diags->ErrorsSince(mark, file));
  return spec;
}

}  // namespace weft::mlops

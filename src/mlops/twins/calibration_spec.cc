#include "mlops/twins/calibration_spec.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "common/time_format.h"
#include "lake/lake_table.h"
#include "lake/predicate.h"
#include "model/yaml_reader.h"

namespace weft::mlops {
namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace yaml_error = model::yaml_error;

constexpr size_t kMaxSpecBytes = 1 << 20;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Bounds the grid (and so the memory and the cost of each twin run).
constexpr int64_t kMaxSamples = 10'000'000;

std::optional<int64_t> Timestamp(YamlReader& r, const YamlValue& v) {
  std::optional<std::string> s = r.Str(v);
  if (!s) return std::nullopt;
  Result<int64_t> t = ParseTimestampMicros(*s);
  if (!t.ok()) {
    r.Err(yaml_error::kInvalidValue, v, t.status().message());
    return std::nullopt;
  }
  return *t;
}

std::vector<NamedAt> NameList(YamlReader& r, const YamlValue& v) {
  std::vector<NamedAt> out;
  for (const YamlValue& item : r.OpenList(v)) {
    if (std::optional<std::string> s = r.Str(item)) out.push_back({*s, item.loc, item.path});
  }
  if (out.empty() && v.node.IsSequence()) {
    r.Err(yaml_error::kInvalidValue, v, "the list is empty; name at least one");
  }
  return out;
}

std::optional<InputBinding> ParseInput(YamlReader& r, const std::string& name,
                                       const SourceLocation& key_loc, const YamlValue& v) {
  InputBinding b;
  b.input = name;
  b.loc = key_loc;
  b.path = v.path;
  YamlFields f = r.OpenMap(v, {"signal", "value", "scale", "offset", "min", "max", "round"});
  if (!f.ok()) return std::nullopt;
  const bool has_signal = f.Has("signal"), has_value = f.Has("value");
  if (has_signal == has_value) {
    r.Err(yaml_error::kInvalidValue, v,
          "input '" + name +
              "' needs exactly one of 'signal' (a telemetry signal) or 'value' (a "
              "constant)");
    return std::nullopt;
  }
  bool ok = true;
  if (auto s = f.Get("signal")) {
    std::optional<std::string> sig = r.Id(*s, "signal");
    ok = ok && sig.has_value();
    if (sig) b.signal = *sig;
  }
  auto num = [&](const char* key, auto setter) {
    if (auto x = f.Get(key)) {
      std::optional<double> d = r.Num(*x);
      if (d) {
        setter(*d);
      } else {
        ok = false;
      }
    }
  };
  num("value", [&](double d) { b.value = d; });
  num("scale", [&](double d) { b.scale = d; });
  num("offset", [&](double d) { b.offset = d; });
  num("min", [&](double d) { b.min = d; });
  num("max", [&](double d) { b.max = d; });
  if (auto x = f.Get("round")) {
    std::optional<bool> rb = r.Bool(*x);
    ok = ok && rb.has_value();
    if (rb) b.round = *rb;
  }
  if (has_value && (f.Has("scale") || f.Has("offset") || f.Has("min") || f.Has("max"))) {
    r.Err(yaml_error::kInvalidValue, v,
          "input '" + name + "': scale, offset, min and max apply to a signal, not a constant");
    ok = false;
  }
  if (b.min && b.max && *b.min > *b.max) {
    r.Err(yaml_error::kInvalidValue, v, "input '" + name + "': min is above max");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return b;
}

double MapInput(const InputBinding& b, double mean) {
  if (std::isnan(mean)) return mean;
  double v = mean * b.scale + b.offset;
  if (b.min) v = std::max(v, *b.min);
  if (b.max) v = std::min(v, *b.max);
  if (b.round) v = std::round(v);
  return v;
}

nlohmann::json MapJson(const std::map<std::string, double>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
  return j;
}

}  // namespace

Result<CalibrationSpec> ParseCalibrationSpec(std::string_view text, const std::string& file,
                                             Diagnostics* diags) {
  const Diagnostics::Mark mark = diags->mark();
  YamlReader r(file, diags);
  CalibrationSpec spec;
  spec.file = file;
  std::optional<YamlValue> root = r.ParseDocument(text, kMaxSpecBytes);
  if (!root) return diags->ErrorsSince(mark, file);
  YamlFields f =
      r.OpenMap(*root, {"twin", "model", "from_version", "asset", "telemetry", "version", "from",
                        "to", "resample", "warmup", "inputs", "outputs", "fit", "max_iterations"});
  if (!f.ok()) return diags->ErrorsSince(mark, file);
  if (auto v = r.Required(f, "twin")) {
    spec.twin_loc = v->loc;
    if (auto s = r.Id(*v, "twin")) spec.twin = *s;
  }
  if (auto v = f.Get("model")) {
    if (auto s = r.Id(*v, "model")) spec.model = *s;
  }
  if (auto v = r.Required(f, "from_version")) {
    if (auto s = r.Str(*v)) {
      if (ParseSemver(*s).ok()) {
        spec.from_version = *s;
      } else {
        r.Err(yaml_error::kInvalidValue, *v,
              "expected a version MAJOR.MINOR.PATCH such as 1.0.0, got " + model::Quote(*s));
      }
    }
  }
  if (auto v = r.Required(f, "asset")) {
    if (auto s = r.Id(*v, "asset")) spec.asset = *s;
  }
  if (auto v = r.Required(f, "telemetry")) {
    if (auto s = r.Str(*v)) {
      if (s->empty()) {
        r.Err(yaml_error::kInvalidValue, *v, "the telemetry table's location is empty");
      } else {
        spec.telemetry = *s;
      }
    }
  }
  if (auto v = f.Get("version")) {
    if (auto n = r.Int(*v, 0, std::numeric_limits<int64_t>::max())) spec.version = *n;
  }
  std::optional<int64_t> from, to;
  if (auto v = r.Required(f, "from")) from = Timestamp(r, *v);
  if (auto v = r.Required(f, "to")) {
    to = Timestamp(r, *v);
    if (from && to && *to <= *from) {
      r.Err(yaml_error::kInvalidValue, *v, "'to' must be after 'from'");
    }
  }
  if (from) spec.from_us = *from;
  if (to) spec.to_us = *to;
  if (auto v = r.Required(f, "resample")) {
    if (auto d = r.Duration(*v)) {
      if (d->count() < 1000) {
        r.Err(yaml_error::kInvalidValue, *v, "the resample period must be at least 1ms");
      } else {
        spec.resample = *d;
        if (from && to && *to > *from && (*to - *from) / d->count() > kMaxSamples) {
          r.Err(yaml_error::kInvalidValue, *v,
                "the range holds more than 10000000 samples at this period; resample coarser");
        }
      }
    }
  }
  if (auto v = f.Get("warmup")) {
    if (auto d = r.Duration(*v)) spec.warmup = *d;
  }
  if (auto v = r.Required(f, "inputs")) {
    YamlFields inputs = r.OpenMap(*v, {});
    if (inputs.ok()) {
      for (auto it = v->node.begin(); it != v->node.end(); ++it) {
        if (!it->first.IsScalar()) continue;  // reported by OpenMap
        const std::string name = it->first.Scalar();
        std::optional<YamlValue> iv = inputs.Get(name);
        if (!iv) continue;
        const SourceLocation key_loc = r.At(it->first, v->loc);
        if (std::any_of(spec.inputs.begin(), spec.inputs.end(),
                        [&](const InputBinding& b) { return b.input == name; })) {
          continue;  // a duplicate key, reported by OpenMap
        }
        if (auto b = ParseInput(r, name, key_loc, *iv)) spec.inputs.push_back(std::move(*b));
      }
    }
  }
  if (auto v = r.Required(f, "outputs")) spec.outputs = NameList(r, *v);
  if (auto v = r.Required(f, "fit")) spec.fit = NameList(r, *v);
  if (auto v = f.Get("max_iterations")) {
    if (auto n = r.Int(*v, 1, 10000)) spec.max_iterations = static_cast<int>(*n);
  }
  WEFT_RETURN_IF_ERROR(diags->ErrorsSince(mark, file));
  return spec;
}

Result<CalibrationSpec> LoadCalibrationSpec(const std::string& path, Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPreconditionError("cannot read calibration spec " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return FailedPreconditionError("error reading " + path);
  return ParseCalibrationSpec(text.str(), path, diags);
}

nlohmann::json SeriesSource::ToLineage(const CalibrationSpec& spec) const {
  nlohmann::json signals = nlohmann::json::array();
  std::set<std::string> names;
  for (const InputBinding& b : spec.inputs) {
    if (!b.signal.empty()) names.insert(b.signal);
  }
  for (const NamedAt& o : spec.outputs) names.insert(o.name);
  for (const std::string& s : names) signals.push_back(s);
  return nlohmann::json{{"telemetry", spec.telemetry},
                        {"delta_version", delta_version},
                        {"asset", spec.asset},
                        {"from", FormatTimestampMicros(spec.from_us)},
                        {"to", FormatTimestampMicros(spec.to_us)},
                        {"resample", FormatDuration(spec.resample)},
                        {"signals", signals},
                        {"rows", rows},
                        {"spec", spec.file}};
}

Result<CalibrationSeries> LoadSeries(const CalibrationSpec& spec, const Clock& clock,
                                     SeriesSource* source) {
  const std::string where = "telemetry " + spec.telemetry;
  if (spec.resample.count() <= 0 || spec.to_us <= spec.from_us) {
    return InvalidArgumentError(spec.file + ": no time range or resample period");
  }
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<lake::LakeTable> table,
                        lake::LakeTable::Open(spec.telemetry, &clock));
  Result<std::vector<lake::BatchField>> schema = table->Schema(spec.version);
  if (!schema.ok()) return schema.status().WithContext(where);
  bool has_date = false;
  for (const char* needed : {"ts", "asset", "signal", "value", "quality"}) {
    bool found = false;
    for (const lake::BatchField& fld : *schema) found = found || fld.name == needed;
    if (!found) {
      return FailedPreconditionError(where + " has no column '" + needed +
                                     "' (expected the telemetry table: ts, asset, signal, "
                                     "value, quality)");
    }
  }
  for (const lake::BatchField& fld : *schema) has_date = has_date || fld.name == "date";

  std::set<std::string> signals;
  for (const InputBinding& b : spec.inputs) {
    if (!b.signal.empty()) signals.insert(b.signal);
  }
  for (const NamedAt& o : spec.outputs) signals.insert(o.name);
  if (signals.empty()) return InvalidArgumentError(spec.file + ": no signal to read");

  lake::ScanOptions options;
  options.version = spec.version;
  options.columns = {"ts", "signal", "value", "quality"};
  options.where = lake::TimeRangePredicate(spec.from_us, spec.to_us, has_date);
  options.where += " and asset = " + lake::PredicateLiteral(spec.asset);
  options.where += " and signal >= " + lake::PredicateLiteral(*signals.begin()) +
                   " and signal <= " + lake::PredicateLiteral(*signals.rbegin());

  const int64_t step = spec.resample.count();
  const auto n = static_cast<size_t>((spec.to_us - spec.from_us + step - 1) / step);
  struct Acc {
    std::vector<double> sum;
    std::vector<int64_t> count;
  };
  std::map<std::string, Acc, std::less<>> acc;
  for (const std::string& s : signals)
    acc[s] = Acc{std::vector<double>(n, 0), std::vector<int64_t>(n, 0)};
  int64_t rows = 0;
  lake::ScanStats stats;
  Status scanned = table->Scan(
      options,
      [&](const lake::RecordBatch& b) -> Status {
        const int ts = b.Find("ts"), sig = b.Find("signal"), val = b.Find("value"),
                  q = b.Find("quality");
        if (ts < 0 || sig < 0 || val < 0 || q < 0) {
          return InternalError("the scan did not return the requested columns");
        }
        const lake::Column& c_ts = b.column(static_cast<size_t>(ts));
        const lake::Column& c_sig = b.column(static_cast<size_t>(sig));
        const lake::Column& c_val = b.column(static_cast<size_t>(val));
        const lake::Column& c_q = b.column(static_cast<size_t>(q));
        for (size_t i = 0; i < b.num_rows(); ++i) {
          if (!c_ts.IsValid(i) || !c_sig.IsValid(i) || !c_val.IsValid(i) || !c_q.IsValid(i)) {
            continue;
          }
          if (c_q.IntAt(i) != 0) continue;
          auto it = acc.find(c_sig.StringAt(i));
          if (it == acc.end()) continue;
          const double v = c_val.DoubleAt(i);
          if (!std::isfinite(v)) continue;
          const int64_t t = c_ts.IntAt(i);
          if (t < spec.from_us || t >= spec.to_us) continue;
          const auto k = static_cast<size_t>((t - spec.from_us) / step);
          it->second.sum[k] += v;
          ++it->second.count[k];
          ++rows;
        }
        return Status::Ok();
      },
      &stats);
  if (!scanned.ok()) return scanned.WithContext(where);
  std::map<std::string, std::vector<double>> means;
  for (const auto& [name, a] : acc) {
    std::vector<double> m(n, kNaN);
    bool any = false;
    for (size_t k = 0; k < n; ++k) {
      if (a.count[k] > 0) {
        m[k] = a.sum[k] / static_cast<double>(a.count[k]);
        any = true;
      }
    }
    if (!any) {
      return FailedPreconditionError(
          where + " (version " + std::to_string(stats.version) +
          ") has no good sample of signal '" + name + "' for asset '" + spec.asset + "' between " +
          FormatTimestampMicros(spec.from_us) + " and " + FormatTimestampMicros(spec.to_us));
    }
    means[name] = std::move(m);
  }
  CalibrationSeries series;
  series.dt_s = static_cast<double>(step) / 1e6;
  series.warmup_s = static_cast<double>(spec.warmup.count()) / 1e6;
  series.ts_us.resize(n);
  for (size_t k = 0; k < n; ++k) series.ts_us[k] = spec.from_us + static_cast<int64_t>(k) * step;
  for (const InputBinding& b : spec.inputs) {
    std::vector<double> values(n);
    for (size_t k = 0; k < n; ++k) {
      values[k] = b.signal.empty() ? *b.value : MapInput(b, means[b.signal][k]);
    }
    series.inputs[b.input] = std::move(values);
  }
  for (const NamedAt& o : spec.outputs) series.outputs[o.name] = means[o.name];
  if (source != nullptr) {
    source->delta_version = stats.version;
    source->rows = rows;
  }
  return series;
}

nlohmann::json FitMetricsJson(const CalibrationResult& r) {
  nlohmann::json samples = nlohmann::json::object();
  for (const auto& [k, v] : r.samples) samples[k] = v;
  return nlohmann::json{{"rmse_before", MapJson(r.rmse_before)},
                        {"rmse_after", MapJson(r.rmse_after)},
                        {"r2", MapJson(r.r2)},
                        {"samples", samples},
                        {"initial", MapJson(r.initial)},
                        {"fitted", MapJson(r.fitted)},
                        {"std_errors", MapJson(r.std_errors)},
                        {"iterations", r.iterations},
                        {"converged", r.converged},
                        {"reason", r.reason}};
}

Result<CalibrationRun> CalibrateFromSpec(const CalibrationSpec& spec, TwinRegistry& registry,
                                         const Clock& clock, std::string_view actor) {
  // The base model: the spec's, else the registry's for this name, else the name itself.
  std::string model = spec.model;
  WEFT_ASSIGN_OR_RETURN(std::vector<TwinVersion> existing, registry.List(spec.twin));
  if (!existing.empty()) {
    if (!model.empty() && model != existing.front().base_model) {
      return InvalidArgumentError(spec.file + ": twin '" + spec.twin + "' is a '" +
                                  existing.front().base_model + "' twin, not '" + model + "'");
    }
    model = existing.front().base_model;
  }
  if (model.empty()) model = spec.twin;
  Diagnostics diags;
  Result<std::unique_ptr<twin::Twin>> probe = twin::MakeTwin(model, {});
  if (!probe.ok()) {
    diags.Error("unknown_model", spec.twin_loc, spec.model.empty() ? "twin" : "model",
                probe.status().message() + " (name the base model with 'model:')");
    return diags.ErrorsSince({}, spec.file);
  }
  const twin::Twin& t = **probe;
  std::vector<std::string> params;
  for (const twin::Parameter& p : t.info().parameters) params.push_back(p.name);
  const std::vector<std::string> inputs = t.InputNames();
  const std::vector<std::string> outputs = t.OutputNames();
  auto check = [&](const std::string& name, const std::vector<std::string>& known, const char* kind,
                   const char* what, const SourceLocation& loc, const std::string& path) {
    if (std::find(known.begin(), known.end(), name) != known.end()) return;
    diags.Error(kind, loc, path,
                "twin model '" + model + "' has no " + what + " '" + name + "'" +
                    model::Hint(name, known) + "; " + model::OneOf(known));
  };
  for (const InputBinding& b : spec.inputs) {
    check(b.input, inputs, "unknown_input", "input", b.loc, b.path);
  }
  for (const NamedAt& o : spec.outputs) {
    check(o.name, outputs, "unknown_output", "output", o.loc, o.path);
  }
  std::set<std::string> seen;
  for (const NamedAt& p : spec.fit) {
    check(p.name, params, "unknown_parameter", "parameter", p.loc, p.path);
    if (!seen.insert(p.name).second) {
      diags.Error("duplicate_parameter", p.loc, p.path,
                  "parameter '" + p.name + "' is listed twice");
    }
  }
  WEFT_RETURN_IF_ERROR(diags.ErrorsSince({}, spec.file));

  CalibrationRun run;
  Result<TwinVersion> parent = registry.Get(spec.twin, spec.from_version);
  if (!parent.ok() && parent.status().code() == StatusCode::kNotFound &&
      spec.from_version == t.info().version) {
    parent = registry.EnsureBase(spec.twin, model, actor);
  }
  if (!parent.ok()) return parent.status().WithContext(spec.file + ": from_version");
  run.parent = *parent;

  WEFT_ASSIGN_OR_RETURN(CalibrationSeries series, LoadSeries(spec, clock, &run.source));
  CalibrationOptions options;
  for (const NamedAt& p : spec.fit) options.fit.push_back(p.name);
  options.max_iterations = spec.max_iterations;
  Result<CalibrationResult> fit = Calibrate(model, run.parent.parameters, series, options);
  if (!fit.ok()) return fit.status().WithContext(spec.file);
  run.result = *std::move(fit);

  NewTwinVersion nv;
  nv.name = spec.twin;
  nv.parent_version = run.parent.version;
  nv.parameters = run.result.fitted;
  nv.fit_metrics = FitMetricsJson(run.result);
  nv.lineage = run.source.ToLineage(spec);
  nv.created_by = std::string(actor);
  WEFT_ASSIGN_OR_RETURN(run.registered, registry.Register(nv));
  return run;
}

}  // namespace weft::mlops

#include "edge/inference/inference_config.h"

#include <cctype>
#include <cmath>
#include <set>

namespace weft::edge::inference {

namespace {

namespace ye = model::yaml_error;
using model::YamlFields;
using model::YamlReader;
using model::YamlValue;

std::vector<std::string> StatNames() {
  std::vector<std::string> names;
  for (Stat s : AllStats()) names.emplace_back(StatName(s));
  return names;
}

// A number that must satisfy `ok`; `what` says the rule in the message.
std::optional<double> Checked(YamlReader& r, const YamlValue& v, bool (*ok)(double),
                              const char* what) {
  std::optional<double> d = r.Num(v);
  if (!d) return std::nullopt;
  if (!std::isfinite(*d) || !ok(*d)) {
    r.Err(ye::kInvalidValue, v, "expected " + std::string(what) + ", got " + std::to_string(*d));
    return std::nullopt;
  }
  return d;
}

std::optional<FeatureConfig> ParseFeature(YamlReader& r, const YamlValue& v) {
  YamlFields f = r.OpenMap(v, {"signal", "stats"});
  if (!f.ok()) return std::nullopt;
  FeatureConfig out;
  bool good = true;
  if (auto s = r.Required(f, "signal")) {
    if (auto id = r.Id(*s, "signal name")) {
      out.signal = *id;
    } else {
      good = false;
    }
  } else {
    good = false;
  }
  if (auto st = r.Required(f, "stats")) {
    std::vector<YamlValue> items = r.OpenList(*st);
    if (items.empty() && st->node.IsSequence()) {
      r.Err(ye::kInvalidValue, *st,
            "a feature needs at least one stat; " + model::OneOf(StatNames()));
      good = false;
    }
    if (!st->node.IsSequence()) good = false;
    std::set<Stat> seen;
    for (const YamlValue& item : items) {
      std::optional<std::string> name = r.Str(item);
      if (!name) {
        good = false;
        continue;
      }
      std::optional<Stat> stat = StatFromName(*name);
      if (!stat) {
        r.Err(ye::kInvalidValue, item,
              "unknown stat " + model::Quote(*name) + "; " + model::OneOf(StatNames()) +
                  model::Hint(*name, StatNames()));
        good = false;
        continue;
      }
      if (!seen.insert(*stat).second) {
        r.Err(ye::kInvalidValue, item, "stat '" + *name + "' is listed twice");
        good = false;
        continue;
      }
      out.stats.push_back(*stat);
    }
  } else {
    good = false;
  }
  if (!good) return std::nullopt;
  return out;
}

bool IsSha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::optional<ModelConfig> ParseModel(YamlReader& r, const YamlValue& v,
                                      const std::filesystem::path& base_dir) {
  YamlFields f = r.OpenMap(v, {"name", "artifact", "version", "sha256", "asset_type", "window",
                               "features", "threshold", "period", "output"});
  if (!f.ok()) return std::nullopt;
  const size_t errors_before = r.diags()->error_count();
  ModelConfig m;
  m.where = v.loc;
  m.path = v.path;
  if (auto x = r.Required(f, "name")) m.name = r.Id(*x, "model name").value_or("");
  if (auto x = r.Required(f, "artifact")) {
    std::string a = r.Str(*x).value_or("");
    if (x->node.IsScalar() && a.empty()) {
      r.Err(ye::kInvalidValue, *x, "expected the path of the model's JSON file");
    } else if (!a.empty()) {
      std::filesystem::path p(a);
      m.artifact = (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
    }
  }
  if (auto x = r.Required(f, "version")) {
    m.version = r.Str(*x).value_or("");
    if (x->node.IsScalar() && m.version.empty()) {
      r.Err(ye::kInvalidValue, *x, "expected a version, e.g. 1.2.0");
    }
  }
  if (auto x = f.Get("sha256")) {
    std::optional<std::string> s = r.Str(*x);
    if (s && !IsSha256(*s)) {
      r.Err(ye::kInvalidValue, *x,
            "expected 64 hex digits (the artifact's SHA-256), got " + model::Quote(*s));
    } else if (s) {
      m.sha256 = *s;
    }
  }
  if (auto x = r.Required(f, "asset_type")) m.asset_type = r.Id(*x, "asset type").value_or("");
  if (auto x = r.Required(f, "window")) {
    m.window = static_cast<uint32_t>(r.Int(*x, 1, 65536).value_or(1));
  }
  if (auto x = r.Required(f, "features")) {
    std::vector<YamlValue> items = r.OpenList(*x);
    if (items.empty() && x->node.IsSequence()) {
      r.Err(ye::kInvalidValue, *x, "a model needs at least one feature");
    }
    std::set<std::string> signals;
    for (const YamlValue& item : items) {
      std::optional<FeatureConfig> fc = ParseFeature(r, item);
      if (!fc) continue;
      if (!signals.insert(fc->signal).second) {
        r.Err(ye::kInvalidValue, item,
              "signal '" + fc->signal + "' is listed twice; list all its stats in one entry");
        continue;
      }
      m.features.push_back(std::move(*fc));
    }
  }
  if (auto x = r.Required(f, "threshold")) {
    if (auto t = Checked(
            r, *x, [](double) { return true; }, "a finite number"))
      m.threshold = *t;
  }
  if (auto x = f.Get("period")) {
    if (auto d = r.Duration(*x)) {
      if (d->count() < 0) {
        r.Err(ye::kInvalidValue, *x, "period must not be negative");
      } else {
        m.period = *d;
      }
    }
  }
  if (auto x = f.Get("output")) m.output = r.Id(*x, "output name").value_or("");
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return m;
}

std::optional<DetectorConfig> ParseDetector(YamlReader& r, const YamlValue& v) {
  YamlFields f = r.OpenMap(v, {"type", "asset_type", "signal", "alpha", "threshold", "warmup", "k",
                               "h", "target", "sigma"});
  if (!f.ok()) return std::nullopt;
  auto type_v = r.Required(f, "type");
  if (!type_v) return std::nullopt;
  std::optional<std::string> type = r.Str(*type_v);
  if (!type) return std::nullopt;
  DetectorConfig d;
  d.where = v.loc;
  d.path = v.path;
  const size_t errors_before = r.diags()->error_count();
  auto not_for = [&](std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
      if (auto x = f.Get(key)) {
        r.Err(ye::kUnknownField, *x,
              std::string("field '") + key + "' does not apply to a " + *type + " detector");
      }
    }
  };
  if (*type == "ewma_z") {
    d.type = DetectorType::kEwmaZ;
    not_for({"k", "h", "target", "sigma"});
    if (auto x = r.Required(f, "alpha")) {
      if (auto a = Checked(
              r, *x, [](double val) { return val > 0 && val <= 1; }, "alpha in (0, 1]")) {
        d.ewma.alpha = *a;
      }
    }
    if (auto x = r.Required(f, "threshold")) {
      if (auto t = Checked(
              r, *x, [](double val) { return val > 0; }, "a threshold > 0")) {
        d.ewma.threshold = *t;
      }
    }
    if (auto x = f.Get("warmup")) {
      d.ewma.warmup = static_cast<uint32_t>(r.Int(*x, 0, 1'000'000).value_or(0));
    }
  } else if (*type == "cusum") {
    d.type = DetectorType::kCusum;
    not_for({"alpha", "threshold"});
    if (auto x = r.Required(f, "k")) {
      if (auto k = Checked(
              r, *x, [](double val) { return val >= 0; }, "k >= 0"))
        d.cusum.k = *k;
    }
    if (auto x = r.Required(f, "h")) {
      if (auto h = Checked(
              r, *x, [](double val) { return val > 0; }, "h > 0"))
        d.cusum.h = *h;
    }
    if (auto x = f.Get("target")) {
      if (auto t = Checked(
              r, *x, [](double) { return true; }, "a finite number")) {
        d.cusum.target = *t;
      }
    }
    if (auto x = f.Get("sigma")) {
      if (auto s = Checked(
              r, *x, [](double val) { return val > 0; }, "sigma > 0"))
        d.cusum.sigma = *s;
    }
    if (auto x = f.Get("warmup")) {
      d.cusum.warmup = static_cast<uint32_t>(r.Int(*x, 1, 1'000'000).value_or(1));
    }
  } else {
    r.Err(ye::kInvalidValue, *type_v,
          "unknown detector type " + model::Quote(*type) + "; expected one of: ewma_z, cusum" +
              model::Hint(*type, {"ewma_z", "cusum"}));
    return std::nullopt;
  }
  if (auto x = r.Required(f, "asset_type")) d.asset_type = r.Id(*x, "asset type").value_or("");
  if (auto x = r.Required(f, "signal")) d.signal = r.Id(*x, "signal name").value_or("");
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return d;
}

}  // namespace

size_t ModelConfig::num_features() const {
  size_t n = 0;
  for (const auto& f : features) n += f.stats.size();
  return n;
}

std::string_view DetectorTypeName(DetectorType t) {
  return t == DetectorType::kEwmaZ ? "ewma_z" : "cusum";
}

std::optional<InferenceConfig> ParseInferenceSection(YamlReader& r, const YamlValue& v,
                                                     const std::filesystem::path& base_dir) {
  const size_t errors_before = r.diags()->error_count();
  InferenceConfig out;
  YamlFields f = r.OpenMap(v, {"models", "detectors", "constraints"});
  if (!f.ok()) return std::nullopt;
  if (auto x = f.Get("constraints")) {
    std::string c = r.Str(*x).value_or("");
    if (x->node.IsScalar() && c.empty()) {
      r.Err(ye::kInvalidValue, *x, "expected the path of the physics constraints file");
    } else if (!c.empty()) {
      std::filesystem::path p(c);
      out.constraints_path = (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
      Result<model::physics::ConstraintSet> set =
          model::physics::LoadConstraintsFile(out.constraints_path, r.diags());
      if (set.ok()) {
        out.constraints = std::move(set).value();
      } else if (set.status().code() != StatusCode::kInvalidArgument) {
        // Not readable (problems inside the file are already reported at their place).
        r.Err(ye::kInvalidValue, *x, set.status().message());
      }
    }
  }
  if (auto models = f.Get("models")) {
    std::set<std::string> names;
    for (const YamlValue& item : r.OpenList(*models)) {
      std::optional<ModelConfig> m = ParseModel(r, item, base_dir);
      if (!m) continue;
      if (!names.insert(m->name).second) {
        r.Err(ye::kInvalidValue, item, "model name '" + m->name + "' is used twice");
        continue;
      }
      out.models.push_back(std::move(*m));
    }
  }
  if (auto detectors = f.Get("detectors")) {
    for (const YamlValue& item : r.OpenList(*detectors)) {
      if (std::optional<DetectorConfig> d = ParseDetector(r, item)) {
        out.detectors.push_back(std::move(*d));
      }
    }
  }
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return out;
}

Result<InferenceConfig> ParseInferenceConfig(std::string_view text, const std::string& file,
                                             Diagnostics* diags) {
  YamlReader r(file, diags);
  std::optional<YamlValue> root = r.ParseDocument(text, kMaxEdgeConfigBytes);
  if (!root) return diags->ToStatus(file);
  YamlFields top = r.OpenMap(*root, {});
  if (!top.ok()) return diags->ToStatus(file);
  InferenceConfig config;
  if (auto section = top.Get("inference")) {
    std::filesystem::path base = std::filesystem::path(file).parent_path();
    std::optional<InferenceConfig> c = ParseInferenceSection(r, *section, base);
    if (c) config = std::move(*c);
  }
  WEFT_RETURN_IF_ERROR(diags->ToStatus(file));
  return config;
}

}  // namespace weft::edge::inference

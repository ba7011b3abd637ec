#include "control/core/control_config.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

#include "common/time_format.h"

namespace weft::control {

namespace {

namespace ye = model::yaml_error;
using model::YamlFields;
using model::YamlReader;
using model::YamlValue;

std::string Num(double v) {
  return fmt::format("{:.6g}", v);
}

// A whole-string decimal number (no leading blank), or nullopt.
std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty() || std::strchr(" \t\n", s[0]) != nullptr) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  if (errno == ERANGE && !std::isfinite(d)) return std::nullopt;
  return d;
}

// Where the loop's fields are, relative to the loop: remembered for CheckAgainstPlant.
class LoopParse {
 public:
  LoopParse(YamlReader& r, LoopConfig& loop) : r_(r), loop_(loop) {}

  void Remember(const YamlValue& v) {
    std::string rel = v.path;
    if (rel.rfind(loop_.path, 0) == 0) rel = rel.substr(loop_.path.size());
    if (!rel.empty() && rel[0] == '.') rel = rel.substr(1);
    loop_.locations[rel] = v.loc;
  }

  // An optional or required signal name.
  std::string Signal(const YamlFields& f, std::string_view key, bool required) {
    std::optional<YamlValue> v = required ? r_.Required(f, key) : f.Get(key);
    if (!v) return "";
    Remember(*v);
    return r_.Id(*v, "signal name").value_or("");
  }

  // A duration > 0; "3m" is read as 3 minutes (the spelling), "3min" is canonical.
  std::optional<Micros> PositiveDuration(const YamlValue& v) {
    Remember(v);
    std::optional<Micros> d;
    if (v.node.IsScalar()) {
      const std::string& s = v.node.Scalar();
      if (s.size() >= 2 && s.back() == 'm' && s[s.size() - 2] >= '0' && s[s.size() - 2] <= '9') {
        Result<Micros> m = ParseDuration(s + "in");
        if (m.ok()) d = *m;
      }
    }
    if (!d) d = r_.Duration(v);
    if (!d) return std::nullopt;
    if (d->count() <= 0) {
      r_.Err(ye::kInvalidValue, v, "expected a duration > 0, got " + model::Quote(v.node.Scalar()));
      return std::nullopt;
    }
    return d;
  }

 private:
  YamlReader& r_;
  LoopConfig& loop_;
};

std::optional<ParamValue> ParseParam(YamlReader& r, const YamlValue& v) {
  if (v.node.IsScalar()) {
    std::optional<std::string> s = r.Str(v);
    if (!s) return std::nullopt;
    if (std::optional<double> d = ParseNumber(*s)) {
      if (!std::isfinite(*d)) {
        r.Err(ye::kInvalidValue, v, "expected a finite number, got " + model::Quote(*s));
        return std::nullopt;
      }
      return ParamValue(*d);
    }
    if (*s == "true") return ParamValue(true);
    if (*s == "false") return ParamValue(false);
    return ParamValue(*s);
  }
  if (v.node.IsSequence()) {
    std::vector<YamlValue> items = r.OpenList(v);
    std::vector<std::string> texts;
    bool all_numbers = true;
    for (const YamlValue& item : items) {
      if (!item.node.IsScalar()) {
        r.Err(ye::kWrongType, item,
              "optimiser parameters are numbers, text or flat lists; got " +
                  model::NodeKind(item.node));
        return std::nullopt;
      }
      std::optional<std::string> s = r.Str(item);
      if (!s) return std::nullopt;
      std::optional<double> d = ParseNumber(*s);
      if (!d || !std::isfinite(*d)) all_numbers = false;
      texts.push_back(*s);
    }
    if (all_numbers) {
      std::vector<double> nums;
      for (const std::string& t : texts) nums.push_back(*ParseNumber(t));
      return ParamValue(std::move(nums));
    }
    return ParamValue(std::move(texts));
  }
  r.Err(ye::kWrongType, v,
        "optimiser parameters are numbers, text or flat lists; got " + model::NodeKind(v.node));
  return std::nullopt;
}

std::optional<SourceConfig> ParseSource(YamlReader& r, const YamlValue& v,
                                        const std::filesystem::path& base_dir, LoopParse& lp) {
  YamlFields f = r.OpenMap(v, {"optimiser", "process"});
  if (!f.ok()) return std::nullopt;
  const bool has_opt = f.Has("optimiser");
  const bool has_proc = f.Has("process");
  if (has_opt == has_proc) {
    r.Err(has_opt ? ye::kInvalidValue : ye::kMissingField, v,
          "a loop's source is exactly one of `optimiser: {kind: ..., ...}` or "
          "`process: {command: [...], timeout: 5s}`");
    return std::nullopt;
  }
  if (has_opt) {
    YamlValue ov = *f.Get("optimiser");
    lp.Remember(ov);
    YamlFields of = r.OpenMap(ov, {});
    if (!of.ok()) return std::nullopt;
    OptimiserSource out;
    out.where = ov.loc;
    out.path = ov.path;
    bool good = true;
    if (auto k = r.Required(of, "kind")) {
      std::optional<std::string> kind = r.Id(*k, "optimiser kind");
      if (kind) {
        out.kind = *kind;
      } else {
        good = false;
      }
    } else {
      good = false;
    }
    for (auto it = ov.node.begin(); it != ov.node.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // OpenMap reported it
      const std::string key = it->first.Scalar();
      if (key == "kind") continue;
      std::optional<YamlValue> pv = of.Get(key);
      if (!pv) continue;
      std::optional<ParamValue> p = ParseParam(r, *pv);
      if (!p) {
        good = false;
        continue;
      }
      out.params[key] = OptimiserParam{std::move(*p), pv->loc, pv->path};
    }
    if (!good) return std::nullopt;
    return SourceConfig(std::move(out));
  }
  YamlValue pv = *f.Get("process");
  lp.Remember(pv);
  YamlFields pf = r.OpenMap(pv, {"command", "timeout"});
  if (!pf.ok()) return std::nullopt;
  ProcessSource out;
  out.where = pv.loc;
  out.path = pv.path;
  out.working_dir = base_dir;
  bool good = true;
  if (auto c = r.Required(pf, "command")) {
    std::optional<std::vector<std::string>> argv = r.StrList(*c);
    if (!argv) {
      good = false;
    } else if (argv->empty() || (*argv)[0].empty()) {
      r.Err(ye::kInvalidValue, *c,
            "expected the model's command line as a list, e.g. [/usr/bin/python3, model.py]");
      good = false;
    } else {
      out.command = std::move(*argv);
    }
  } else {
    good = false;
  }
  if (auto t = pf.Get("timeout")) {
    if (auto d = lp.PositiveDuration(*t)) {
      out.timeout = *d;
    } else {
      good = false;
    }
  }
  if (!good) return std::nullopt;
  return SourceConfig(std::move(out));
}

std::optional<Interlock> ParseInterlock(YamlReader& r, const YamlValue& v, LoopParse& lp) {
  YamlFields f = r.OpenMap(v, {"name", "expr", "above", "below", "then"});
  if (!f.ok()) return std::nullopt;
  lp.Remember(v);
  const size_t errors_before = r.diags()->error_count();
  Interlock il;
  if (auto x = r.Required(f, "name")) il.name = r.Id(*x, "interlock name").value_or("");
  if (auto x = r.Required(f, "expr")) {
    lp.Remember(*x);
    if (std::optional<std::string> text = r.Str(*x)) {
      Result<model::physics::Expr> e = model::physics::ParseExpr(*text);
      if (e.ok()) {
        il.expr = std::move(*e);
      } else {
        r.Err(ye::kInvalidValue, *x,
              "invalid expression " + model::Quote(*text) + ": " + e.status().message());
      }
    }
  }
  const std::optional<YamlValue> above = f.Get("above");
  const std::optional<YamlValue> below = f.Get("below");
  if (above) il.above = r.Num(*above).value_or(il.above);
  if (below) il.below = r.Num(*below).value_or(il.below);
  if (!above && !below) {
    r.Err(ye::kMissingField, f.loc(), f.path(),
          "an interlock needs `above` and/or `below`: it trips when its expression is above or "
          "below them (or unknown)");
  } else if (above && below && std::isfinite(il.above) && std::isfinite(il.below) &&
             il.below > il.above) {
    r.Err(ye::kInvalidValue, *below,
          "below " + Num(il.below) + " is greater than above " + Num(il.above) +
              ": the interlock would always trip");
  }
  if (auto x = r.Required(f, "then")) {
    if (std::optional<std::string> t = r.Str(*x)) {
      if (*t == "hold") {
        il.then = Interlock::Then::kHold;
      } else if (*t == "safe") {
        il.then = Interlock::Then::kSafe;
      } else {
        r.Err(ye::kInvalidValue, *x,
              "unknown interlock action " + model::Quote(*t) +
                  "; expected one of: hold (no write), safe (write the safe setpoint)" +
                  model::Hint(*t, {"hold", "safe"}));
      }
    }
  }
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return il;
}

// A number field of the envelope; `ok` false leaves `out` alone.
bool EnvNum(YamlReader& r, const YamlFields& f, std::string_view key, bool required, double* out,
            LoopParse& lp) {
  std::optional<YamlValue> v = required ? r.Required(f, key) : f.Get(key);
  if (!v) return !required;
  lp.Remember(*v);
  std::optional<double> d = r.Num(*v);
  if (!d) return false;
  *out = *d;
  return true;
}

std::optional<Envelope> ParseEnvelope(YamlReader& r, const YamlValue& v, LoopParse& lp) {
  YamlFields f = r.OpenMap(
      v, {"min", "max", "max_step", "max_rate", "safe", "readback_tolerance", "interlocks"});
  if (!f.ok()) return std::nullopt;
  lp.Remember(v);
  const size_t errors_before = r.diags()->error_count();
  Envelope e;
  const bool have_min = EnvNum(r, f, "min", true, &e.min, lp);
  const bool have_max = EnvNum(r, f, "max", true, &e.max, lp);
  const bool have_safe = EnvNum(r, f, "safe", true, &e.safe, lp);
  if (EnvNum(r, f, "max_step", true, &e.max_step, lp) && f.Has("max_step") && e.max_step <= 0) {
    r.Err(ye::kInvalidValue, *f.Get("max_step"),
          "max_step must be > 0 (the largest change of one write), got " + Num(e.max_step));
  }
  if (EnvNum(r, f, "readback_tolerance", false, &e.readback_tolerance, lp) &&
      e.readback_tolerance < 0) {
    r.Err(ye::kInvalidValue, *f.Get("readback_tolerance"),
          "readback_tolerance must be >= 0, got " + Num(e.readback_tolerance));
  }
  if (auto x = r.Required(f, "max_rate")) {
    lp.Remember(*x);
    if (std::optional<std::string> s = r.Str(*x)) {
      Result<double> rate = ParseRate(*s);
      if (rate.ok()) {
        e.max_rate_per_s = *rate;
      } else {
        r.Err(ye::kInvalidValue, *x, rate.status().message());
      }
    }
  }
  if (have_min && have_max && f.Has("min") && f.Has("max") && e.min > e.max) {
    r.Err(ye::kInvalidValue, *f.Get("max"),
          "max " + Num(e.max) + " is below min " + Num(e.min) + "; expected min <= max");
  } else if (have_min && have_max && have_safe && f.Has("safe") &&
             (e.safe < e.min || e.safe > e.max)) {
    r.Err(ye::kInvalidValue, *f.Get("safe"),
          "safe " + Num(e.safe) + " is outside [min " + Num(e.min) + ", max " + Num(e.max) +
              "]; expected min <= safe <= max");
  }
  if (auto x = f.Get("interlocks")) {
    std::set<std::string> names;
    for (const YamlValue& item : r.OpenList(*x)) {
      std::optional<Interlock> il = ParseInterlock(r, item, lp);
      if (!il) continue;
      if (!names.insert(il->name).second) {
        r.Err(ye::kInvalidValue, item,
              "interlock name '" + il->name + "' is used twice in this loop");
        continue;
      }
      e.interlocks.push_back(std::move(*il));
    }
  }
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return e;
}

// Interlocks see this period's values of the loop's read signals, alarms and mode signal only.
void CheckInterlockVariables(const LoopConfig& loop, Diagnostics* diags) {
  std::set<std::string> visible(loop.read.begin(), loop.read.end());
  if (!loop.alarms.empty()) visible.insert(loop.alarms);
  if (!loop.mode_signal.empty()) visible.insert(loop.mode_signal);
  const std::vector<std::string> names(visible.begin(), visible.end());
  for (size_t i = 0; i < loop.envelope.interlocks.size(); ++i) {
    const Interlock& il = loop.envelope.interlocks[i];
    for (const std::string& var : il.expr.Variables()) {
      if (visible.count(var) > 0) continue;
      const std::string rel = "envelope.interlocks[" + std::to_string(i) + "].expr";
      auto at = loop.locations.find(rel);
      diags->Error(ye::kInvalidValue, at != loop.locations.end() ? at->second : loop.where,
                   loop.path + "." + rel,
                   "interlock " + il.name + " uses '" + var +
                       "', which the loop does not read; an interlock sees the loop's `read` "
                       "signals, `alarms` and `mode_signal`" +
                       (names.empty() ? std::string() : " (" + model::OneOf(names) + ")") +
                       model::Hint(var, names));
    }
  }
}

std::optional<LoopConfig> ParseLoop(YamlReader& r, const YamlValue& v,
                                    const std::filesystem::path& base_dir) {
  YamlFields f = r.OpenMap(
      v, {"id", "asset", "write", "heartbeat", "heartbeat_interval", "mode_signal", "alarms",
          "readback", "read", "period", "mode", "source", "model_timeout", "envelope"});
  if (!f.ok()) return std::nullopt;
  const size_t errors_before = r.diags()->error_count();
  LoopConfig loop;
  loop.where = v.loc;
  loop.path = v.path;
  LoopParse lp(r, loop);
  if (auto x = r.Required(f, "id")) {
    lp.Remember(*x);
    loop.id = r.Id(*x, "loop").value_or("");
  }
  if (auto x = r.Required(f, "asset")) {
    lp.Remember(*x);
    loop.asset = r.Id(*x, "asset").value_or("");
  }
  loop.write = lp.Signal(f, "write", true);
  loop.heartbeat = lp.Signal(f, "heartbeat", false);
  loop.mode_signal = lp.Signal(f, "mode_signal", false);
  loop.alarms = lp.Signal(f, "alarms", false);
  loop.readback = lp.Signal(f, "readback", false);
  if (auto x = f.Get("heartbeat_interval")) {
    if (!loop.heartbeat.empty() || f.Has("heartbeat")) {
      loop.heartbeat_interval = lp.PositiveDuration(*x).value_or(loop.heartbeat_interval);
    } else {
      r.Err(ye::kInvalidValue, *x, "heartbeat_interval is set but there is no `heartbeat` signal");
    }
  }
  if (auto x = f.Get("read")) {
    lp.Remember(*x);
    if (x->node.IsSequence()) {
      std::set<std::string> seen;
      for (const YamlValue& item : r.OpenList(*x)) {
        lp.Remember(item);
        std::optional<std::string> s = r.Id(item, "signal name");
        if (!s) continue;
        if (!seen.insert(*s).second) {
          r.Err(ye::kInvalidValue, item, "signal '" + *s + "' is listed twice in `read`");
          continue;
        }
        loop.read.push_back(*s);
      }
    } else {
      r.Err(ye::kWrongType, *x,
            "expected a list of signal names, e.g. [zone_temp, outdoor_temp], got " +
                model::NodeKind(x->node));
    }
  }
  if (auto x = f.Get("period")) {
    if (std::optional<Micros> d = lp.PositiveDuration(*x)) loop.period = *d;
  }
  if (auto x = f.Get("mode")) {
    lp.Remember(*x);
    if (std::optional<std::string> s = r.Str(*x)) {
      Result<Mode> m = ParseMode(*s);
      if (m.ok()) {
        loop.mode = *m;
      } else {
        r.Err(ye::kInvalidValue, *x,
              m.status().message() + model::Hint(*s, {"shadow", "supervised", "autonomous"}));
      }
    }
  }
  if (auto x = r.Required(f, "source")) {
    lp.Remember(*x);
    if (std::optional<SourceConfig> s = ParseSource(r, *x, base_dir, lp)) loop.source = *s;
  }
  loop.model_timeout = 3 * loop.period;
  if (auto x = f.Get("model_timeout")) {
    loop.model_timeout = lp.PositiveDuration(*x).value_or(loop.model_timeout);
  }
  if (auto x = r.Required(f, "envelope")) {
    lp.Remember(*x);
    if (std::optional<Envelope> e = ParseEnvelope(r, *x, lp)) loop.envelope = std::move(*e);
  }
  if (loop.readback.empty()) loop.readback = loop.write;
  CheckInterlockVariables(loop, r.diags());
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return loop;
}

std::string Resolve(const std::filesystem::path& base_dir, const std::string& p) {
  std::filesystem::path path(p);
  return (path.is_absolute() ? path : base_dir / path).lexically_normal().string();
}

}  // namespace

std::vector<std::string> LoopConfig::SignalsToRead() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    for (const std::string& have : out) {
      if (have == s) return;
    }
    out.push_back(s);
  };
  for (const std::string& s : read) add(s);
  add(alarms);
  add(mode_signal);
  add(readback);
  return out;
}

Result<double> ParseRate(std::string_view text) {
  const std::string shown = model::Quote(text);
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid rate " + shown + ": " + std::string(why) +
                                "; expected a number > 0 per s, min or h, e.g. 0.1/s or 6/min");
  };
  std::string_view number = text;
  double per = 1.0;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    number = text.substr(0, slash);
    std::string_view unit = text.substr(slash + 1);
    while (!number.empty() && number.back() == ' ') number.remove_suffix(1);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    if (unit == "s") {
      per = 1.0;
    } else if (unit == "min") {
      per = 60.0;
    } else if (unit == "h") {
      per = 3600.0;
    } else {
      return bad(unit.empty() ? "no time unit after '/'" : "unknown time unit");
    }
  }
  std::optional<double> d = ParseNumber(std::string(number));
  if (!d) return bad("not a number");
  const double rate = *d / per;
  if (!std::isfinite(rate) || !(rate > 0)) return bad("not a finite number > 0");
  return rate;
}

std::optional<ControlConfig> ParseControlSection(YamlReader& r, const YamlValue& v,
                                                 const std::filesystem::path& base_dir) {
  YamlFields f = r.OpenMap(v, {"grant_key", "grants_dir", "loops"});
  if (!f.ok()) return std::nullopt;
  const size_t errors_before = r.diags()->error_count();
  ControlConfig config;
  config.where = v.loc;
  config.path = v.path;
  std::optional<YamlValue> grant_key = f.Get("grant_key");
  if (grant_key) {
    std::optional<std::string> s = r.Str(*grant_key);
    if (s && s->empty()) {
      r.Err(ye::kInvalidValue, *grant_key,
            "expected the path of the core's grant public key (PEM), e.g. "
            "keys/control-grant.pub.pem");
    } else if (s) {
      config.grant_key = Resolve(base_dir, *s);
    }
  }
  if (auto x = f.Get("grants_dir")) {
    std::optional<std::string> s = r.Str(*x);
    if (s && !s->empty()) config.grants_dir = Resolve(base_dir, *s);
  }
  if (auto x = r.Required(f, "loops")) {
    std::map<std::string, SourceLocation> ids;
    for (const YamlValue& item : r.OpenList(*x)) {
      std::optional<LoopConfig> loop = ParseLoop(r, item, base_dir);
      if (!loop) continue;
      auto [it, fresh] = ids.emplace(loop->id, loop->where);
      if (!fresh) {
        auto at = loop->locations.find("id");
        r.Err(ye::kInvalidValue, at != loop->locations.end() ? at->second : loop->where,
              loop->path + ".id",
              "loop id '" + loop->id + "' is used twice (first at line " +
                  std::to_string(it->second.line) + ")");
        continue;
      }
      if (loop->mode != Mode::kShadow && !grant_key) {
        auto at = loop->locations.find("mode");
        r.Err(ye::kMissingField, at != loop->locations.end() ? at->second : loop->where,
              loop->path + ".mode",
              "loop '" + loop->id + "' wants mode " + std::string(ModeName(loop->mode)) +
                  ", which needs a grant signed by the core: set control.grant_key to the "
                  "core's public key (GET /api/v1/control/grant-key)");
        continue;
      }
      config.loops.push_back(std::move(*loop));
    }
  }
  if (r.diags()->error_count() != errors_before) return std::nullopt;
  return config;
}

Result<ControlConfig> ParseControlConfig(std::string_view text, const std::string& file,
                                         Diagnostics* diags) {
  YamlReader r(file, diags);
  std::optional<YamlValue> root = r.ParseDocument(text, kMaxControlConfigBytes);
  if (!root) return diags->ToStatus(file);
  YamlFields top = r.OpenMap(*root, {});
  if (!top.ok()) return diags->ToStatus(file);
  ControlConfig config;
  if (auto section = top.Get("control")) {
    std::filesystem::path base = std::filesystem::path(file).parent_path();
    std::optional<ControlConfig> c = ParseControlSection(r, *section, base);
    if (c) config = std::move(*c);
  }
  WEFT_RETURN_IF_ERROR(diags->ToStatus(file));
  return config;
}

Status CheckAgainstPlant(const ControlConfig& config, const model::Plant& plant,
                         Diagnostics* diags) {
  const Diagnostics::Mark mark = diags->mark();
  std::vector<std::string> asset_ids;
  for (const model::Asset* a : plant.AllAssets()) asset_ids.push_back(a->id);
  std::map<std::string, std::string> ids;  // loop id -> its path
  for (const LoopConfig& loop : config.loops) {
    auto at = [&](std::string_view rel) {
      auto it = loop.locations.find(rel);
      return it != loop.locations.end() ? it->second : loop.where;
    };
    auto path = [&](std::string_view rel) { return loop.path + "." + std::string(rel); };
    auto err = [&](const char* kind, std::string_view rel, std::string msg) {
      diags->Error(kind, at(rel), path(rel), "loop '" + loop.id + "': " + std::move(msg));
    };
    if (auto [it, fresh] = ids.emplace(loop.id, loop.path); !fresh) {
      err(ye::kInvalidValue, "id", "the loop id is used twice (also " + it->second + ")");
    }
    if (Status s = ValidateEnvelope(loop.envelope); !s.ok()) {
      err(ye::kInvalidValue, "envelope", s.message());
    }
    CheckInterlockVariables(loop, diags);
    const model::Asset* asset = nullptr;
    for (const model::Asset* a : plant.AllAssets()) {
      if (a->id == loop.asset) asset = a;
    }
    if (asset == nullptr) {
      err("unknown_asset", "asset",
          "unknown asset " + model::Quote(loop.asset) + "; the plant has no such asset" +
              model::Hint(loop.asset, asset_ids));
      continue;
    }
    if (!asset->connection.modbus) {
      err("not_modbus", "asset",
          "asset '" + asset->id +
              "' has no Modbus connection: a control loop writes its "
              "setpoint over Modbus TCP");
      continue;
    }
    std::vector<std::string> signal_names;
    for (const model::Signal& s : asset->signals) signal_names.push_back(s.spec.name);
    // Each named signal: exists, with a Modbus source; `holding` ones are written.
    auto check = [&](const std::string& name, std::string_view rel, bool holding,
                     const char* role) -> const model::Signal* {
      if (name.empty()) return nullptr;
      const model::Signal* s = asset->FindSignal(name);
      if (s == nullptr) {
        err("unknown_signal", rel,
            std::string(role) + " signal " + model::Quote(name) + " is not a signal of asset '" +
                asset->id + "' (type " + asset->type + ")" + model::Hint(name, signal_names));
        return nullptr;
      }
      if (s->protocol != model::Protocol::kModbusTcp || !s->spec.source.modbus) {
        err("not_modbus", rel,
            std::string(role) + " signal '" + name + "' of asset '" + asset->id +
                "' has no Modbus source (it is read over " +
                std::string(model::ProtocolName(s->protocol)) + ")");
        return nullptr;
      }
      if (holding && s->spec.source.modbus->table != model::ModbusTable::kHoldingRegister) {
        err("not_writable", rel,
            std::string(role) + " signal '" + name + "' is a Modbus " +
                std::string(model::ModbusTableName(s->spec.source.modbus->table)) +
                ", not a holding register: the edge cannot write it");
        return nullptr;
      }
      return s;
    };
    const model::Signal* write = check(loop.write, "write", true, "the written");
    check(loop.heartbeat, "heartbeat", true, "the heartbeat");
    check(loop.mode_signal, "mode_signal", false, "the mode");
    check(loop.alarms, "alarms", false, "the alarms");
    check(loop.readback, loop.locations.count("readback") > 0 ? "readback" : "write", false,
          "the readback");
    for (size_t i = 0; i < loop.read.size(); ++i) {
      check(loop.read[i], "read[" + std::to_string(i) + "]", false, "the read");
    }
    if (write != nullptr) {
      const Envelope& e = loop.envelope;
      const std::optional<double>& lo = write->spec.min;
      const std::optional<double>& hi = write->spec.max;
      const std::string range = "[" + (lo ? Num(*lo) : std::string("-inf")) + ", " +
                                (hi ? Num(*hi) : std::string("+inf")) + "]";
      auto outside = [&](double x) { return (lo && x < *lo) || (hi && x > *hi); };
      if (outside(e.min)) {
        err(ye::kInvalidValue, "envelope.min",
            "envelope min " + Num(e.min) + " is outside the range " + range + " of signal '" +
                loop.write + "'");
      }
      if (outside(e.max)) {
        err(ye::kInvalidValue, "envelope.max",
            "envelope max " + Num(e.max) + " is outside the range " + range + " of signal '" +
                loop.write + "'");
      }
      if (outside(e.safe)) {
        err(ye::kInvalidValue, "envelope.safe",
            "envelope safe " + Num(e.safe) + " is outside the range " + range + " of signal '" +
                loop.write + "'");
      }
    }
  }
  return diags->ErrorsSince(mark, config.where.file);
}

}  // namespace weft::control

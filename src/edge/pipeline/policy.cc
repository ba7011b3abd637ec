#include "edge/pipeline/policy.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "common/strings.h"

namespace weft::edge {

namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace ye = model::yaml_error;

// Diagnostic kinds of this section, beyond the reader's own.
constexpr char kUnknownAssetType[] = "unknown_asset_type";
constexpr char kUnknownAsset[] = "unknown_asset";
constexpr char kUnknownSignal[] = "unknown_signal";
constexpr char kInconsistentPolicy[] = "inconsistent_policy";

struct StatName {
  const char* name;
  uint8_t bit;
};
constexpr StatName kStatNames[] = {{"mean", stat::kMean}, {"min", stat::kMin},
                                   {"max", stat::kMax},   {"std", stat::kStd},
                                   {"last", stat::kLast}, {"count", stat::kCount}};

constexpr Route kRoutes[] = {Route::kRaw, Route::kAggregate, Route::kEvents,
                             Route::kRawAndAggregate};
constexpr Priority kPriorities[] = {Priority::kCritical, Priority::kHigh, Priority::kNormal,
                                    Priority::kLow};

// The keys one level sets; unset keys leave the lower levels' values.
struct Overrides {
  bool range_set = false;
  std::optional<double> lo, hi;  // both nullopt with range_set: `range: off`
  std::optional<Micros> stale_after, stuck_after, min_interval, max_interval, window;
  std::optional<double> deadband;
  bool deadband_percent = false;
  std::optional<uint8_t> stats;
  std::optional<Route> route;
  std::optional<YamlValue> route_at;  // where `route` was written, for consistency errors
  std::optional<Priority> priority;
};

std::vector<std::string> StatNames() {
  std::vector<std::string> out;
  for (const auto& s : kStatNames) out.emplace_back(s.name);
  return out;
}

template <typename E, size_t N>
std::vector<std::string> Names(const E (&values)[N], std::string_view (*name)(E)) {
  std::vector<std::string> out;
  for (E v : values) out.emplace_back(name(v));
  return out;
}

// A duration, or the plain number 0 for "off".
std::optional<Micros> DurationOrOff(YamlReader& r, const YamlValue& v) {
  if (v.node.IsScalar() && (v.node.Scalar() == "0" || v.node.Scalar() == "off")) {
    return Micros(0);
  }
  return r.Duration(v);
}

// `0.5` (absolute) or `2%` (percent of the last sent value).
void ParseDeadband(YamlReader& r, const YamlValue& v, Overrides* o) {
  YamlValue number = v;
  bool percent = false;
  if (v.node.IsScalar() && !v.node.Scalar().empty() && v.node.Scalar().back() == '%') {
    std::string text = v.node.Scalar();
    text.pop_back();
    number.node = YAML::Node(text);
    percent = true;
  }
  std::optional<double> d = r.Num(number);
  if (!d) return;
  if (*d < 0) {
    r.Err(ye::kInvalidValue, v,
          "a deadband cannot be negative, got '" + v.node.Scalar() +
              "'; expected e.g. 0.5 (absolute, in the signal's unit) or 2% (of the last sent "
              "value)");
    return;
  }
  o->deadband = *d;
  o->deadband_percent = percent;
}

void ParseRange(YamlReader& r, const YamlValue& v, Overrides* o) {
  if (v.node.IsScalar() && v.node.Scalar() == "off") {
    o->range_set = true;
    o->lo.reset();
    o->hi.reset();
    return;
  }
  if (!v.node.IsSequence() || v.node.size() != 2) {
    r.Err(ye::kWrongType, v,
          "expected a range [min, max] or 'off', got " + model::NodeKind(v.node));
    return;
  }
  std::vector<YamlValue> items = r.OpenList(v);
  if (items.size() != 2) return;
  std::optional<double> lo = r.Num(items[0]);
  std::optional<double> hi = r.Num(items[1]);
  if (!lo || !hi) return;
  if (*lo > *hi) {
    r.Err(ye::kInvalidValue, v,
          "the range's min " + FormatDouble(*lo) + " is above its max " + FormatDouble(*hi));
    return;
  }
  o->range_set = true;
  o->lo = lo;
  o->hi = hi;
}

void ParseStats(YamlReader& r, const YamlValue& v, Overrides* o) {
  std::optional<std::vector<std::string>> names = r.StrList(v);
  if (!names) return;
  if (names->empty()) {
    r.Err(ye::kInvalidValue, v, "the list of statistics is empty; " + model::OneOf(StatNames()));
    return;
  }
  uint8_t bits = 0;
  bool ok = true;
  std::vector<YamlValue> items = r.OpenList(v);
  for (size_t i = 0; i < names->size() && i < items.size(); ++i) {
    const std::string& name = (*names)[i];
    auto it = std::find_if(std::begin(kStatNames), std::end(kStatNames),
                           [&](const StatName& s) { return name == s.name; });
    if (it == std::end(kStatNames)) {
      r.Err(ye::kInvalidValue, items[i], UnknownNameMessage("statistic", name, StatNames()));
      ok = false;
      continue;
    }
    bits = static_cast<uint8_t>(bits | it->bit);
  }
  if (ok) o->stats = bits;
}

template <typename E, size_t N>
std::optional<E> ParseEnum(YamlReader& r, const YamlValue& v, const char* kind,
                           const E (&values)[N], std::string_view (*name)(E)) {
  std::optional<std::string> s = r.Str(v);
  if (!s) return std::nullopt;
  for (E e : values) {
    if (name(e) == *s) return e;
  }
  r.Err(ye::kInvalidValue, v, UnknownNameMessage(kind, *s, Names(values, name)));
  return std::nullopt;
}

// The policy keys of one mapping (defaults, a type, an asset, or one signal of those).
void ParseOverrides(YamlReader& r, const YamlFields& f, Overrides* o) {
  if (!f.ok()) return;
  if (auto v = f.Get("range")) ParseRange(r, *v, o);
  if (auto v = f.Get("stale_after")) o->stale_after = DurationOrOff(r, *v);
  if (auto v = f.Get("stuck_after")) o->stuck_after = DurationOrOff(r, *v);
  if (auto v = f.Get("deadband")) ParseDeadband(r, *v, o);
  if (auto v = f.Get("min_interval")) o->min_interval = DurationOrOff(r, *v);
  if (auto v = f.Get("max_interval")) o->max_interval = DurationOrOff(r, *v);
  if (auto v = f.Get("window")) o->window = DurationOrOff(r, *v);
  if (auto v = f.Get("stats")) ParseStats(r, *v, o);
  if (auto v = f.Get("route")) {
    o->route = ParseEnum(r, *v, "route", kRoutes, RouteName);
    if (o->route) o->route_at = *v;
  }
  if (auto v = f.Get("priority")) {
    o->priority = ParseEnum(r, *v, "priority", kPriorities, PriorityName);
  }
}

YamlFields OpenPolicyMap(YamlReader& r, const YamlValue& v) {
  return r.OpenMap(v, {"range", "stale_after", "stuck_after", "deadband", "min_interval",
                       "max_interval", "window", "stats", "route", "priority"});
}
YamlFields OpenLevelMap(YamlReader& r, const YamlValue& v) {
  return r.OpenMap(v, {"range", "stale_after", "stuck_after", "deadband", "min_interval",
                       "max_interval", "window", "stats", "route", "priority", "signals"});
}

// Calls `fn(name, key_location, value)` for each key of a mapping whose keys are names chosen
// by the user. OpenMap has already reported non-scalar and duplicate keys.
template <typename Fn>
void ForEachNamedKey(YamlReader& r, const YamlValue& v, Fn fn) {
  YamlFields f = r.OpenMap(v, {});
  if (!f.ok()) return;
  std::set<std::string> seen;
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& name = it->first.Scalar();
    if (!seen.insert(name).second) continue;
    std::optional<YamlValue> value = f.Get(name);
    if (!value) continue;
    YamlValue key{it->first, r.At(it->first, v.loc), value->path};
    fn(name, key, *value);
  }
}

// One level: its own keys, and those given per signal under `signals:`.
struct ParsedLevel {
  Overrides own;
  std::map<std::string, Overrides, std::less<>> signals;
};

// A type or asset level. `signal_names` are the valid signal names; `describe_unknown` builds
// the message for a name not among them.
template <typename Describe>
ParsedLevel ParseLevel(YamlReader& r, const YamlValue& v,
                       const std::vector<std::string>& signal_names, Describe describe_unknown) {
  ParsedLevel level;
  YamlFields f = OpenLevelMap(r, v);
  ParseOverrides(r, f, &level.own);
  if (!f.ok()) return level;
  if (auto signals = f.Get("signals")) {
    ForEachNamedKey(
        r, *signals, [&](const std::string& name, const YamlValue& key, const YamlValue& value) {
          if (std::find(signal_names.begin(), signal_names.end(), name) == signal_names.end()) {
            r.Err(kUnknownSignal, key, describe_unknown(name));
            return;
          }
          ParseOverrides(r, OpenPolicyMap(r, value), &level.signals[name]);
        });
  }
  return level;
}

void Apply(const Overrides& o, SignalPolicy* p, std::optional<YamlValue>* route_at) {
  if (o.range_set) {
    p->min = o.lo;
    p->max = o.hi;
  }
  if (o.stale_after) p->stale_after = *o.stale_after;
  if (o.stuck_after) p->stuck_after = *o.stuck_after;
  if (o.deadband) {
    p->deadband = *o.deadband;
    p->deadband_percent = o.deadband_percent;
  }
  if (o.min_interval) p->min_interval = *o.min_interval;
  if (o.max_interval) p->max_interval = *o.max_interval;
  if (o.window) p->window = *o.window;
  if (o.stats) p->stats = *o.stats;
  if (o.route) {
    p->route = *o.route;
    *route_at = o.route_at;
  }
  if (o.priority) p->priority = *o.priority;
}

void ApplyLevel(const ParsedLevel& level, std::string_view signal, SignalPolicy* p,
                std::optional<YamlValue>* route_at) {
  Apply(level.own, p, route_at);
  auto it = level.signals.find(signal);
  if (it != level.signals.end()) Apply(it->second, p, route_at);
}

SignalPolicy BasePolicy(const SignalInfo& info) {
  SignalPolicy p;
  p.signal = info.id;
  p.min = info.min;
  p.max = info.max;
  // Three periods, but never below 2 s: sources deliver in bursts (a Sparkplug node publishes
  // several samples per DDATA, brokers and networks add jitter), and a 100 ms signal flagged
  // stale after 300 ms flaps between good and stale on every burst.
  p.stale_after = std::max(info.period * 3, Micros(std::chrono::seconds(2)));
  return p;
}

}  // namespace

std::string_view RouteName(Route r) {
  switch (r) {
    case Route::kRaw: return "raw";
    case Route::kAggregate: return "aggregate";
    case Route::kEvents: return "events";
    case Route::kRawAndAggregate: return "raw+aggregate";
  }
  return "?";
}

std::string StatsName(uint8_t stats) {
  std::vector<std::string> names;
  for (const auto& s : kStatNames) {
    if ((stats & s.bit) != 0) names.emplace_back(s.name);
  }
  return Join(names, ",");
}

std::vector<SignalPolicy> DefaultPolicies(const SignalTable& table) {
  std::vector<SignalPolicy> out;
  out.reserve(table.size());
  for (const SignalInfo& info : table.signals()) out.push_back(BasePolicy(info));
  return out;
}

Result<std::vector<SignalPolicy>> ParsePipelineSection(YamlReader& r, const YamlValue& section,
                                                       const SignalTable& table) {
  Diagnostics* diags = r.diags();
  const size_t errors_before = diags->error_count();
  const size_t recorded_before = diags->all().size();
  const model::Plant& plant = table.plant();

  // `pipeline:` with nothing under it is the same as no section.
  YamlFields f;
  if (!section.node.IsNull()) f = r.OpenMap(section, {"defaults", "asset_types", "assets"});

  ParsedLevel defaults;
  if (auto v = f.Get("defaults")) {
    ParseOverrides(r, OpenPolicyMap(r, *v), &defaults.own);
  }

  std::map<std::string, ParsedLevel, std::less<>> types;
  if (auto v = f.Get("asset_types")) {
    std::vector<std::string> type_names;
    for (const auto& [name, type] : plant.asset_types) type_names.push_back(name);
    ForEachNamedKey(
        r, *v, [&](const std::string& name, const YamlValue& key, const YamlValue& value) {
          const model::AssetType* type = plant.FindAssetType(name);
          if (type == nullptr) {
            r.Err(kUnknownAssetType, key, UnknownNameMessage("asset type", name, type_names));
            return;
          }
          std::vector<std::string> signal_names = type->SignalNames();
          types[name] = ParseLevel(r, value, signal_names, [&](const std::string& s) {
            return "asset type '" + name + "': " + UnknownNameMessage("signal", s, signal_names);
          });
        });
  }

  std::map<std::string, ParsedLevel, std::less<>> assets;
  if (auto v = f.Get("assets")) {
    std::vector<std::string> served;
    for (const SignalInfo& info : table.signals()) {
      if (served.empty() || served.back() != info.asset) served.emplace_back(info.asset);
    }
    ForEachNamedKey(
        r, *v, [&](const std::string& id, const YamlValue& key, const YamlValue& value) {
          const std::vector<SignalId>* ids = table.AssetSignals(id);
          if (ids == nullptr) {
            bool in_plant = false;
            for (const model::Asset* a : plant.AllAssets()) in_plant = in_plant || a->id == id;
            r.Err(kUnknownAsset, key,
                  in_plant
                      ? "asset '" + id +
                            "' is in the plant but not in this edge's scope; the edge serves " +
                            Join(served)
                      : UnknownNameMessage("asset", id, served));
            return;
          }
          std::vector<std::string> signal_names;
          for (SignalId sid : *ids) signal_names.emplace_back(table.at(sid).signal);
          const model::Asset* asset = table.at(ids->front()).asset_model;
          assets[id] = ParseLevel(r, value, signal_names, [&](const std::string& s) {
            if (asset != nullptr && std::find(asset->missing.begin(), asset->missing.end(), s) !=
                                        asset->missing.end()) {
              return "signal '" + s + "' is not fitted on asset '" + id +
                     "' (plant.yaml lists it as missing)";
            }
            return "asset '" + id + "': " + UnknownNameMessage("signal", s, signal_names);
          });
        });
  }

  std::vector<SignalPolicy> out;
  out.reserve(table.size());
  std::set<std::pair<int, int>> reported;  // one consistency error per place, not per signal
  for (const SignalInfo& info : table.signals()) {
    SignalPolicy p = BasePolicy(info);
    std::optional<YamlValue> route_at;
    ApplyLevel(defaults, info.signal, &p, &route_at);
    // The asset's type and its ancestors, root first.
    std::vector<std::string> chain;
    for (std::string t(info.asset_type); !t.empty() && chain.size() <= plant.asset_types.size();) {
      chain.push_back(t);
      const model::AssetType* at = plant.FindAssetType(t);
      t = at == nullptr ? "" : at->extends;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      auto level = types.find(*it);
      if (level != types.end()) ApplyLevel(level->second, info.signal, &p, &route_at);
    }
    if (auto level = assets.find(info.asset); level != assets.end()) {
      ApplyLevel(level->second, info.signal, &p, &route_at);
    }
    if (RouteHasAggregate(p.route) && p.window.count() == 0) {
      SourceLocation at = route_at ? route_at->loc : section.loc;
      std::string path = route_at ? route_at->path : section.path;
      if (reported.insert({at.line, at.column}).second) {
        r.Err(kInconsistentPolicy, at, path,
              "route '" + std::string(RouteName(p.route)) + "' needs a window, but signal '" +
                  std::string(info.signal) + "' of asset '" + std::string(info.asset) +
                  "' has none; add e.g. `window: 10s` at this level or above");
      }
    }
    out.push_back(p);
  }

  if (diags->error_count() == errors_before) return out;
  const size_t errors = diags->error_count() - errors_before;
  std::string msg = "pipeline: " + std::to_string(errors) + (errors == 1 ? " error" : " errors");
  for (size_t i = recorded_before; i < diags->all().size(); ++i) {
    if (diags->all()[i].severity == Severity::kError) {
      msg += " (first: " + diags->all()[i].ToString() + ")";
      break;
    }
  }
  return InvalidArgumentError(std::move(msg));
}

}  // namespace weft::edge

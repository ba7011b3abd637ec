#include "sim/fault_schedule.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/time_format.h"
#include "model/yaml_reader.h"

namespace weft::sim {
namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace ye = model::yaml_error;

constexpr char kUnknownAsset[] = "unknown_asset";
constexpr char kUnknownSignal[] = "unknown_signal";
constexpr size_t kMaxScheduleBytes = size_t{4} << 20;

struct TypeName {
  FaultType type;
  std::string_view name;
};
constexpr TypeName kTypes[] = {
    {FaultType::kBearingWear, "bearing_wear"}, {FaultType::kCoolingLoss, "cooling_loss"},
    {FaultType::kCavitation, "cavitation"},    {FaultType::kImpellerWear, "impeller_wear"},
    {FaultType::kSensorStuck, "sensor_stuck"}, {FaultType::kSensorDrift, "sensor_drift"},
    {FaultType::kSensorNoise, "sensor_noise"}, {FaultType::kSensorSpikes, "sensor_spikes"},
    {FaultType::kCommDrop, "comm_drop"},       {FaultType::kHandMode, "hand_mode"},
    {FaultType::kCommLoss, "comm_loss"},       {FaultType::kHeatPumpFault, "heat_pump_fault"},
};

}  // namespace

std::string_view FaultTypeName(FaultType t) {
  for (const auto& tn : kTypes) {
    if (tn.type == t) return tn.name;
  }
  return "?";
}

bool IsSensorFault(FaultType t) {
  return t == FaultType::kSensorStuck || t == FaultType::kSensorDrift ||
         t == FaultType::kSensorNoise || t == FaultType::kSensorSpikes;
}

bool IsTwinFault(FaultType t) {
  return t == FaultType::kBearingWear || t == FaultType::kCoolingLoss ||
         t == FaultType::kCavitation || t == FaultType::kImpellerWear;
}

bool IsPlcFault(FaultType t) {
  return t == FaultType::kHandMode || t == FaultType::kHeatPumpFault;
}

bool RunsHvacPlc(const model::Plant& plant, const model::Asset& asset) {
  return asset.connection.modbus.has_value() && plant.IsA(asset.type, "hvac_zone");
}

namespace {

Result<std::vector<ScheduledFault>> Parse(std::string_view yaml, const std::string& file_name,
                                          const model::Plant& plant, bool with_at,
                                          Diagnostics* diags) {
  YamlReader r(file_name, diags);
  std::vector<ScheduledFault> out;
  std::optional<YamlValue> root = r.ParseDocument(yaml, kMaxScheduleBytes);
  if (!root) return diags->ToStatus(file_name);
  std::map<std::string, const model::Asset*> assets;
  std::vector<std::string> asset_ids;
  for (const model::Asset* a : plant.AllAssets()) {
    assets[a->id] = a;
    asset_ids.push_back(a->id);
  }
  std::vector<std::string> type_names;
  for (const auto& tn : kTypes) type_names.emplace_back(tn.name);

  YamlFields top = r.OpenMap(*root, {"faults"});
  auto list = top.ok() ? r.Required(top, "faults") : std::nullopt;
  if (list) {
    for (const YamlValue& item : r.OpenList(*list)) {
      YamlFields f =
          r.OpenMap(item, {"at", "duration", "duration_s", "asset", "signal", "kind", "severity",
                           "rate", "stddev", "probability", "factor"});
      if (!f.ok()) continue;
      ScheduledFault fault;
      fault.where = item.loc;
      size_t errors = diags->error_count();
      if (!with_at && f.Has("at")) {
        r.Err(ye::kInvalidValue, *f.Get("at"), "a fault command starts at once; it has no `at`");
      } else if (auto at = with_at ? r.Required(f, "at") : std::nullopt) {
        if (auto d = r.Duration(*at)) fault.at = *d;
      }
      if (auto d = f.Get("duration")) {
        if (auto v = r.Duration(*d)) {
          if (v->count() <= 0) {
            r.Err(ye::kInvalidValue, *d, "a fault's duration must be longer than 0");
          } else {
            fault.duration = *v;
          }
        }
      }
      if (auto d = f.Get("duration_s")) {
        // The same in seconds, as a number (handier in JSON commands).
        if (f.Has("duration")) {
          r.Err(ye::kInvalidValue, *d, "give `duration` or `duration_s`, not both");
        } else if (auto v = r.Num(*d)) {
          if (!(*v > 0 && *v <= 1e9)) {
            r.Err(ye::kInvalidValue, *d, fmt::format("duration_s must be from 0 (excluded) to 1e9 "
                                                     "seconds, got {}", *v));
          } else {
            fault.duration = Micros(static_cast<int64_t>(std::llround(*v * 1e6)));
          }
        }
      }
      const model::Asset* asset = nullptr;
      if (auto a = r.Required(f, "asset")) {
        if (auto id = r.Str(*a)) {
          auto it = assets.find(*id);
          if (it == assets.end()) {
            r.Err(kUnknownAsset, *a,
                  "no asset has id " + model::Quote(*id) + model::Hint(*id, asset_ids));
          } else {
            asset = it->second;
            fault.asset = *id;
          }
        }
      }
      if (auto k = r.Required(f, "kind")) {
        if (auto name = r.Str(*k)) {
          bool found = false;
          for (const auto& tn : kTypes) {
            if (tn.name == *name) {
              fault.type = tn.type;
              found = true;
            }
          }
          if (!found) {
            r.Err(ye::kInvalidValue, *k,
                  "unknown fault kind " + model::Quote(*name) + model::Hint(*name, type_names) +
                      "; " + model::OneOf(type_names));
          }
        }
      }
      auto signal = f.Get("signal");
      if (IsSensorFault(fault.type)) {
        if (!signal) {
          r.Err(ye::kMissingField, f.loc(), model::Child(f.path(), "signal"),
                "a sensor fault names the signal it affects");
        } else if (auto name = r.Str(*signal); name && asset) {
          if (!asset->HasSignal(*name)) {
            std::vector<std::string> names;
            for (const auto& s : asset->signals) names.push_back(s.spec.name);
            r.Err(kUnknownSignal, *signal,
                  "asset '" + asset->id + "' has no fitted signal " + model::Quote(*name) +
                      model::Hint(*name, names));
          } else {
            fault.signal = *name;
          }
        }
      } else if (signal) {
        r.Err(ye::kInvalidValue, *signal,
              "only sensor faults name a signal; " + std::string(FaultTypeName(fault.type)) +
                  " affects the whole asset");
      }
      auto number = [&](const char* key, double lo, double hi, double* dst) {
        if (auto v = f.Get(key)) {
          if (auto d = r.Num(*v)) {
            if (*d < lo || *d > hi) {
              r.Err(ye::kInvalidValue, *v,
                    fmt::format("{} must be from {} to {}, got {}", key, lo, hi, *d));
            } else {
              *dst = *d;
            }
          }
        }
      };
      if (fault.type == FaultType::kHandMode) {
        if (!f.Has("severity")) {
          r.Err(ye::kMissingField, f.loc(), model::Child(f.path(), "severity"),
                "hand_mode needs `severity`: the operator's setpoint in degC, e.g. 19.5");
        }
        number("severity", 5, 35, &fault.severity);
      } else {
        number("severity", 0.001, 1, &fault.severity);
      }
      if (asset && IsPlcFault(fault.type) && !RunsHvacPlc(plant, *asset)) {
        r.Err(ye::kInvalidValue, *f.Get("kind"),
              std::string(FaultTypeName(fault.type)) + " needs an HVAC zone behind a Modbus PLC; '" +
                  asset->id + "' (type " + asset->type + ") is not one");
      }
      if (asset && fault.type == FaultType::kCommLoss && !asset->connection.modbus) {
        r.Err(ye::kInvalidValue, *f.Get("kind"),
              "comm_loss silences a Modbus device; '" + asset->id +
                  "' has no Modbus connection (comm_drop stops an MQTT asset's samples)");
      }
      number("rate", -1e9, 1e9, &fault.rate_per_hour);
      number("stddev", 0, 1e9, &fault.stddev);
      number("probability", 0, 1, &fault.probability);
      number("factor", -1e6, 1e6, &fault.factor);
      if (diags->error_count() == errors) out.push_back(std::move(fault));
    }
  }
  diags->SortByLocation();
  if (diags->has_errors()) return diags->ToStatus(file_name);
  return out;
}

}  // namespace

Result<std::vector<ScheduledFault>> ParseFaultSchedule(std::string_view yaml,
                                                       const std::string& file_name,
                                                       const model::Plant& plant,
                                                       Diagnostics* diags) {
  return Parse(yaml, file_name, plant, /*with_at=*/true, diags);
}

Result<ScheduledFault> ParseFaultCommand(std::string_view json, const model::Plant& plant,
                                         Diagnostics* diags) {
  // A command is a schedule entry: JSON is YAML's flow style, so the same reader checks it.
  WEFT_ASSIGN_OR_RETURN(
      std::vector<ScheduledFault> faults,
      Parse("faults: [" + std::string(json) + "]", kFaultCommandTopic, plant, false, diags));
  if (faults.size() != 1) {
    return InvalidArgumentError(
        "a fault command is one JSON object, e.g. {\"asset\": "
        "\"l1-sp-05\", \"kind\": \"bearing_wear\"}");
  }
  return faults[0];
}

Result<std::vector<ScheduledFault>> LoadFaultSchedule(const std::string& path,
                                                      const model::Plant& plant,
                                                      Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open fault schedule '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseFaultSchedule(ss.str(), path, plant, diags);
}

std::string IsoTime(TimePoint t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - day).count();
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", FormatDate(day), ms / 3600000,
                     (ms / 60000) % 60, (ms / 1000) % 60, ms % 1000);
}

std::string LabelsToCsv(const std::vector<FaultLabel>& labels) {
  std::string out = "asset,signal,fault,severity,start,end,failure\n";
  for (const auto& l : labels) {
    out += fmt::format("{},{},{},{},{},{},{}\n", l.asset, l.signal, FaultTypeName(l.type),
                       l.severity, IsoTime(l.start), l.end ? IsoTime(*l.end) : "",
                       l.failure ? IsoTime(*l.failure) : "");
  }
  return out;
}

}  // namespace weft::sim

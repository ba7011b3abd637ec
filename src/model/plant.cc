#include "model/plant.h"

#include <algorithm>

namespace weft::model {

std::string_view DataTypeName(DataType t) {
  switch (t) {
    case DataType::kBool: return "bool";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kFloat32: return "float32";
    case DataType::kFloat64: return "float64";
    case DataType::kString: return "string";
  }
  return "?";
}

std::string_view ModbusTableName(ModbusTable t) {
  switch (t) {
    case ModbusTable::kHoldingRegister: return "holding";
    case ModbusTable::kInputRegister: return "input";
    case ModbusTable::kCoil: return "coil";
    case ModbusTable::kDiscreteInput: return "discrete";
  }
  return "?";
}

std::string_view ModbusValueTypeName(ModbusValueType t) {
  switch (t) {
    case ModbusValueType::kUint16: return "uint16";
    case ModbusValueType::kInt16: return "int16";
    case ModbusValueType::kUint32: return "uint32";
    case ModbusValueType::kInt32: return "int32";
    case ModbusValueType::kFloat32: return "float32";
    case ModbusValueType::kBit: return "bit";
  }
  return "?";
}

uint32_t ModbusBinding::width() const {
  switch (value_type) {
    case ModbusValueType::kUint32:
    case ModbusValueType::kInt32:
    case ModbusValueType::kFloat32: return 2;
    default: return 1;
  }
}

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kSparkplugB: return "sparkplug_b";
    case Protocol::kMqttJson: return "mqtt_json";
    case Protocol::kModbusTcp: return "modbus_tcp";
  }
  return "?";
}

std::string_view UseCaseCategoryName(UseCaseCategory c) {
  switch (c) {
    case UseCaseCategory::kPredictiveMaintenance: return "predictive_maintenance";
    case UseCaseCategory::kEnergyPerUnit: return "energy_per_unit";
    case UseCaseCategory::kAssetTraceability: return "asset_traceability";
    case UseCaseCategory::kHvacOptimization: return "hvac_optimization";
    case UseCaseCategory::kQuality: return "quality";
    case UseCaseCategory::kUserDefined: return "user_defined";
  }
  return "?";
}

std::string_view WeekdayName(Weekday d) {
  switch (d) {
    case Weekday::kMon: return "mon";
    case Weekday::kTue: return "tue";
    case Weekday::kWed: return "wed";
    case Weekday::kThu: return "thu";
    case Weekday::kFri: return "fri";
    case Weekday::kSat: return "sat";
    case Weekday::kSun: return "sun";
  }
  return "?";
}

std::string_view StakeholderName(Stakeholder s) {
  switch (s) {
    case Stakeholder::kOt: return "ot";
    case Stakeholder::kIt: return "it";
    case Stakeholder::kBusiness: return "business";
  }
  return "?";
}

const SignalTemplate* AssetType::FindSignal(std::string_view signal) const {
  auto it = std::find_if(signals.begin(), signals.end(),
                         [&](const SignalTemplate& s) { return s.name == signal; });
  return it == signals.end() ? nullptr : &*it;
}

std::vector<std::string> AssetType::SignalNames() const {
  std::vector<std::string> names;
  names.reserve(signals.size());
  for (const auto& s : signals) names.push_back(s.name);
  return names;
}

const Signal* Asset::FindSignal(std::string_view signal) const {
  auto it = std::find_if(signals.begin(), signals.end(),
                         [&](const Signal& s) { return s.spec.name == signal; });
  return it == signals.end() ? nullptr : &*it;
}

std::vector<const Asset*> Plant::AllAssets() const {
  std::vector<const Asset*> out;
  for (const auto& site : sites)
    for (const auto& area : site.areas)
      for (const auto& line : area.lines)
        for (const auto& asset : line.assets) out.push_back(&asset);
  return out;
}

const Site* Plant::FindSite(std::string_view id) const {
  for (const auto& site : sites)
    if (site.id == id) return &site;
  return nullptr;
}

const Line* Plant::FindLine(std::string_view id) const {
  for (const auto& site : sites)
    for (const auto& area : site.areas)
      for (const auto& line : area.lines)
        if (line.id == id) return &line;
  return nullptr;
}

const Asset* Plant::FindAsset(std::string_view id) const {
  for (const Asset* a : AllAssets())
    if (a->id == id) return a;
  return nullptr;
}

const Site* Plant::SiteOf(std::string_view line_or_asset_id) const {
  for (const auto& site : sites)
    for (const auto& area : site.areas)
      for (const auto& line : area.lines) {
        if (line.id == line_or_asset_id) return &site;
        for (const auto& asset : line.assets)
          if (asset.id == line_or_asset_id) return &site;
      }
  return nullptr;
}

std::optional<double> Plant::ReactiveMinutesPerFailure(const UseCase& use_case) const {
  if (use_case.reactive_minutes_per_failure) return use_case.reactive_minutes_per_failure;
  return economics.reactive_minutes_per_failure;
}

const AssetType* Plant::FindAssetType(std::string_view name) const {
  auto it = asset_types.find(std::string(name));
  return it == asset_types.end() ? nullptr : &it->second;
}

bool Plant::IsA(const std::string& type, const std::string& ancestor) const {
  std::string t = type;
  // Bounded walk: the loader rejects cycles, and this never loops even if one slipped through.
  for (size_t hops = 0; hops <= asset_types.size() && !t.empty(); ++hops) {
    if (t == ancestor) return true;
    const AssetType* at = FindAssetType(t);
    if (at == nullptr) return false;
    t = at->extends;
  }
  return false;
}

bool Scope::Contains(const Asset& a) const {
  auto ok = [](const std::vector<std::string>& ids, const std::string& id) {
    return ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  return ok(sites, a.site) && ok(areas, a.area) && ok(lines, a.line) && ok(assets, a.id);
}

size_t Plant::SignalCount() const {
  size_t n = 0;
  for (const Asset* a : AllAssets()) n += a->signals.size();
  return n;
}

size_t Plant::LineCount() const {
  size_t n = 0;
  for (const auto& site : sites)
    for (const auto& area : site.areas) n += area.lines.size();
  return n;
}

size_t Plant::AreaCount() const {
  size_t n = 0;
  for (const auto& site : sites) n += site.areas.size();
  return n;
}

}  // namespace weft::model

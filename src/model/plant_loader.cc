#include "model/plant_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "common/strings.h"
#include "common/time_format.h"
#include "model/builtin_asset_types.h"
#include "model/units.h"
#include "model/yaml_reader.h"

namespace weft::model {
namespace {

namespace pe = plant_error;
namespace ye = yaml_error;

// Registry of the plant-wide ids of one kind (site, area, ...), for duplicates and references.
struct IdRegistry {
  std::map<std::string, SourceLocation> ids;
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& [id, loc] : ids) out.push_back(id);
    return out;
  }
};

using Val = YamlValue;
using Fields = YamlFields;

class Loader : public YamlReader {
 public:
  Loader(std::string file, Diagnostics* diags) : YamlReader(std::move(file), diags) {}

  Result<Plant> Load(std::string_view text);
  // Parses a top-level `asset_types` mapping (also used for the built-in library).
  void ParseAssetTypes(const Val& v, const std::map<std::string, AssetType>& builtins,
                       std::map<std::string, AssetType>* out);

 private:
  std::optional<double> QuantityIn(const Val& v, const std::string& expected_unit,
                                   std::string_view example);

  // ---- Parts of the document ----
  void ParseEconomics(const Val& v, Economics* out);
  void ParsePlanning(const Val& v, PlanningSettings* out);
  std::optional<SignalTemplate> ParseSignal(const Val& v, const SignalTemplate* base);
  void ParseSignalList(const Val& v, std::vector<SignalTemplate>* signals,
                       std::set<std::string>* listed);
  void ParseSource(const Val& v, SourceBinding* out);
  // Opens a level of the hierarchy (site, area, line): keys, id (registered), name.
  std::optional<Fields> OpenLevel(const Val& v, std::initializer_list<std::string_view> allowed,
                                  const char* what, IdRegistry* reg, std::string* id,
                                  std::string* name);
  void ParseSites(const Val& v, Plant* plant);
  void ParseShifts(const Val& v, Site* site);
  void ParseProduction(const Val& v, Line* line);
  // A plain number of 0 or more; reports otherwise.
  std::optional<double> NonNegative(const Val& v, const char* what);
  void ParseAsset(const Val& v, const Site& site, const Area& area, const Line& line,
                  const Plant& plant, std::optional<Asset>* out);
  void ParseConnection(const Val& v, AssetConnection* out);
  // `connection_ok` false: the connection had errors, already reported; binding errors that
  // follow from it are not reported again.
  void ResolveSignals(const Val& asset_val, const AssetType& type, const Fields& f,
                      bool connection_ok, Asset* asset);
  void ParseUseCases(const Val& v, Plant* plant);
  void ParseScope(const Val& v, Scope* out);
  bool RegisterId(IdRegistry* reg, const char* what, const std::string& id, const Val& v);
  void CheckReferences(const Val& v, const std::vector<std::string>& ids, const IdRegistry& reg,
                       const char* what);
  const AssetType* LookupType(const Plant& plant, const Val& v, const std::string& name);

  IdRegistry sites_, areas_, lines_, assets_, use_cases_;
  //! Every site, area, line and asset id with what it names: ids are unique across kinds.
  std::map<std::string, std::pair<std::string, SourceLocation>> all_ids_;
  //! (host:port/unit, table, register) -> "asset.signal", across assets.
  std::map<std::tuple<std::string, int, uint32_t>, std::string> modbus_registers_;
};

// ---------------------------------------------------------------------------------------------
// Structure and scalars.

// "0.18 EUR/kWh" -> value converted to `expected_unit`.
std::optional<double> Loader::QuantityIn(const Val& v, const std::string& expected_unit,
                                         std::string_view example) {
  auto no_unit = [&] {
    Err(pe::kWrongType, v,
        "expected a value with a unit, e.g. '" + std::string(example) + "', got " +
            NodeKind(v.node));
    return std::nullopt;
  };
  if (!v.node.IsScalar()) {
    Err(pe::kWrongType, v,
        "expected a value with a unit, e.g. '" + std::string(example) + "', got " +
            NodeKind(v.node));
    return std::nullopt;
  }
  const std::string& s = v.node.Scalar();
  size_t space = s.find(' ');
  if (space == std::string::npos) return no_unit();
  size_t unit_start = s.find_first_not_of(' ', space);
  if (unit_start == std::string::npos) return no_unit();
  Val number{YAML::Node(s.substr(0, space)), v.loc, v.path};
  auto value = Num(number);
  if (!value) return std::nullopt;
  std::string unit_text = s.substr(unit_start);
  Result<Unit> unit = ParseUnit(unit_text);
  if (!unit.ok()) {
    Err(pe::kUnknownUnit, v, unit.status().message());
    return std::nullopt;
  }
  Result<Unit> expected = ParseUnit(expected_unit);
  if (!expected.ok()) {
    Err(pe::kUnknownUnit, v, expected.status().message());
    return std::nullopt;
  }
  Result<double> converted = Convert(*value, *unit, *expected);
  if (!converted.ok()) {
    Err(pe::kUnitNotConvertible, v,
        "unit " + Quote(unit_text) + " is not convertible to " + expected_unit + ": " +
            converted.status().message());
    return std::nullopt;
  }
  if (*converted < 0) {
    Err(pe::kInvalidValue, v, "expected a value of 0 or more, got " + NodeKind(v.node));
    return std::nullopt;
  }
  return *converted;
}

// ---------------------------------------------------------------------------------------------
// Economics and planning settings.

void Loader::ParseEconomics(const Val& v, Economics* out) {
  Fields f = OpenMap(v, {"currency", "energy_price", "grid_carbon_factor", "labour_rate",
                         "downtime_cost", "reactive_minutes_per_failure"});
  if (!f.ok()) return;
  if (auto c = Required(f, "currency")) {
    if (auto s = Str(*c)) {
      Result<Unit> u = ParseUnit(*s);
      bool is_currency = u.ok() && u->dimension.exponents.size() == 1 &&
                         u->dimension.exponents.begin()->first == *s && u->factor == 1.0;
      if (!is_currency) {
        Err(pe::kInvalidValue, *c,
            "unknown currency '" + *s + "'; expected an ISO 4217 code such as EUR, USD, GBP");
      } else {
        out->currency = *s;
      }
    }
  }
  const std::string& cur = out->currency;
  if (auto x = Required(f, "energy_price")) {
    if (auto d = QuantityIn(*x, cur + "/kWh", "0.18 " + cur + "/kWh")) {
      out->energy_price_per_kwh = *d;
    }
  }
  if (auto x = Required(f, "grid_carbon_factor")) {
    if (auto d = QuantityIn(*x, "kgCO2e/kWh", "0.38 kgCO2e/kWh")) out->grid_carbon_kg_per_kwh = *d;
  }
  if (auto x = Required(f, "labour_rate")) {
    if (auto d = QuantityIn(*x, cur + "/h", "65 " + cur + "/h")) out->labour_rate_per_hour = *d;
  }
  if (auto x = Required(f, "downtime_cost")) {
    if (auto d = QuantityIn(*x, cur + "/h", "4200 " + cur + "/h")) {
      out->downtime_cost_per_hour = *d;
    }
  }
  if (auto x = f.Get("reactive_minutes_per_failure")) {
    if (auto d = NonNegative(*x, "technician minutes per failure")) {
      out->reactive_minutes_per_failure = *d;
    }
  }
}

std::optional<double> Loader::NonNegative(const Val& v, const char* what) {
  auto d = Num(v);
  if (d && *d < 0) {
    Err(pe::kInvalidValue, v,
        std::string("expected ") + what + " of 0 or more, got '" + v.node.Scalar() + "'");
    return std::nullopt;
  }
  return d;
}

void Loader::ParsePlanning(const Val& v, PlanningSettings* out) {
  Fields f = OpenMap(v, {"weights", "signoff_valid_days"});
  if (!f.ok()) return;
  if (auto days = f.Get("signoff_valid_days")) {
    if (auto n = Int(*days, 0, 36500)) out->signoff_valid_days = static_cast<int>(*n);
  }
  if (auto w = f.Get("weights")) {
    Fields wf = OpenMap(*w, {"value", "payback", "coverage", "alignment"});
    if (!wf.ok()) return;
    bool ok = true;
    auto read = [&](std::string_view key, double* dst) {
      if (auto x = Required(wf, key)) {
        auto d = Num(*x);
        if (d && (*d < 0 || *d > 1)) {
          Err(pe::kInvalidValue, *x, "a weight is between 0 and 1");
          d.reset();
        }
        if (d) {
          *dst = *d;
          return;
        }
      }
      ok = false;
    };
    ScoreWeights sw;
    read("value", &sw.value);
    read("payback", &sw.payback);
    read("coverage", &sw.coverage);
    read("alignment", &sw.alignment);
    if (!ok) return;
    double sum = sw.value + sw.payback + sw.coverage + sw.alignment;
    if (std::fabs(sum - 1.0) > 1e-6) {
      std::ostringstream msg;
      msg << "the weights must sum to 1, they sum to " << sum;
      Err(pe::kInvalidValue, *w, msg.str());
      return;
    }
    out->weights = sw;
  }
}

// ---------------------------------------------------------------------------------------------
// Signal templates and asset types.

void Loader::ParseSource(const Val& v, SourceBinding* out) {
  Fields f = OpenMap(v, {"sparkplug", "mqtt", "modbus"});
  if (!f.ok()) return;
  if (auto sp = f.Get("sparkplug")) {
    Fields sf = OpenMap(*sp, {"metric"});
    if (auto m = Required(sf, "metric")) {
      if (auto s = Str(*m)) out->sparkplug = SparkplugBinding{*s};
    }
  }
  if (auto mq = f.Get("mqtt")) {
    Fields mf = OpenMap(*mq, {"field"});
    if (auto m = Required(mf, "field")) {
      if (auto s = Str(*m)) out->mqtt = MqttJsonBinding{*s};
    }
  }
  if (auto mb = f.Get("modbus")) {
    Fields mf = OpenMap(*mb, {"table", "address", "type", "word_order", "scale", "offset"});
    if (!mf.ok()) return;
    ModbusBinding b;
    bool ok = true;
    bool bit_table = false;
    if (auto t = mf.Get("table")) {
      static const std::vector<std::string> kTables = {"holding", "input", "coil", "discrete"};
      auto s = Str(*t);
      if (s == "holding") {
        b.table = ModbusTable::kHoldingRegister;
      } else if (s == "input") {
        b.table = ModbusTable::kInputRegister;
      } else if (s == "coil" || s == "discrete") {
        b.table = *s == "coil" ? ModbusTable::kCoil : ModbusTable::kDiscreteInput;
        b.value_type = ModbusValueType::kBit;
        bit_table = true;
      } else {
        if (s)
          Err(pe::kInvalidValue, *t,
              "unknown Modbus table '" + *s + "'" + Hint(*s, kTables) + "; " + OneOf(kTables));
        ok = false;
      }
    }
    if (auto a = Required(mf, "address")) {
      if (auto n = Int(*a, 0, 65535)) {
        b.address = static_cast<uint32_t>(*n);
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto t = mf.Get("type")) {
      static const std::vector<std::string> kTypes = {"uint16", "int16",   "uint32",
                                                      "int32",  "float32", "bit"};
      static const ModbusValueType kValues[] = {ModbusValueType::kUint16,  ModbusValueType::kInt16,
                                                ModbusValueType::kUint32,  ModbusValueType::kInt32,
                                                ModbusValueType::kFloat32, ModbusValueType::kBit};
      auto s = Str(*t);
      auto found = s ? std::find(kTypes.begin(), kTypes.end(), *s) : kTypes.end();
      if (found == kTypes.end()) {
        if (s)
          Err(pe::kInvalidValue, *t,
              "unknown Modbus value type '" + *s + "'" + Hint(*s, kTypes) + "; " + OneOf(kTypes));
        ok = false;
      } else {
        b.value_type = kValues[found - kTypes.begin()];
        if ((b.value_type == ModbusValueType::kBit) != bit_table) {
          Err(pe::kInvalidValue, *t,
              bit_table ? "coils and discrete inputs hold bits; expected type 'bit'"
                        : "type 'bit' needs table 'coil' or 'discrete'");
          ok = false;
        }
      }
    }
    if (auto w = mf.Get("word_order")) {
      auto s = Str(*w);
      if (s == "high_first") {
        b.word_order = WordOrder::kHighFirst;
      } else if (s == "low_first") {
        b.word_order = WordOrder::kLowFirst;
      } else {
        if (s)
          Err(pe::kInvalidValue, *w,
              "unknown word order '" + *s + "'; expected high_first or low_first");
        ok = false;
      }
    }
    if (auto sc = mf.Get("scale")) {
      auto d = Num(*sc);
      if (d && *d == 0) {
        Err(pe::kInvalidValue, *sc, "scale 0 would turn every reading into the offset");
        d.reset();
      }
      if (d)
        b.scale = *d;
      else
        ok = false;
    }
    if (auto of = mf.Get("offset")) {
      if (auto d = Num(*of))
        b.offset = *d;
      else
        ok = false;
    }
    if (b.address + b.width() > 65536) {
      Err(pe::kInvalidValue, *mf.Get("address"),
          "a " + std::string(ModbusValueTypeName(b.value_type)) +
              " at this address runs past register 65535");
      ok = false;
    }
    if (ok) out->modbus = b;
  }
}

std::optional<SignalTemplate> Loader::ParseSignal(const Val& v, const SignalTemplate* base) {
  Fields f = OpenMap(v, {"name", "description", "unit", "quantity", "type", "range", "period",
                         "fitted", "source"});
  if (!f.ok()) return std::nullopt;
  SignalTemplate t;
  if (base != nullptr) t = *base;
  t.where = v.loc;
  bool ok = true;
  if (auto n = Required(f, "name")) {
    if (auto s = Id(*n, "signal"))
      t.name = *s;
    else
      ok = false;
  } else {
    ok = false;
  }
  if (auto d = f.Get("description")) {
    if (auto s = Str(*d)) t.description = *s;
  }
  // Unit and quantity: required for a new signal; checked together whenever either changes.
  std::optional<Val> unit_val = base ? f.Get("unit") : Required(f, "unit");
  std::optional<Val> qty_val = base ? f.Get("quantity") : Required(f, "quantity");
  if (!base && (!unit_val || !qty_val)) ok = false;
  std::optional<Unit> unit;
  std::optional<Dimension> qty_dim;
  if (unit_val) {
    if (auto s = Str(*unit_val)) {
      Result<Unit> u = ParseUnit(*s);
      if (u.ok()) {
        t.unit = *s;
        unit = *u;
      } else {
        Err(pe::kUnknownUnit, *unit_val, u.status().message());
        ok = false;
      }
    } else {
      ok = false;
    }
  } else if (base) {
    if (auto u = ParseUnit(t.unit); u.ok()) unit = *u;
  }
  if (qty_val) {
    if (auto s = Str(*qty_val)) {
      Result<Dimension> d = QuantityDimension(*s);
      if (d.ok()) {
        t.quantity = *s;
        qty_dim = *d;
      } else {
        Err(pe::kUnknownQuantity, *qty_val, d.status().message());
        ok = false;
      }
    } else {
      ok = false;
    }
  } else if (base) {
    if (auto d = QuantityDimension(t.quantity); d.ok()) qty_dim = *d;
  }
  if (unit && qty_dim && !(unit->dimension == *qty_dim) && (unit_val || qty_val)) {
    const Val& at = unit_val ? *unit_val : *qty_val;
    Err(pe::kUnitNotConvertible, at,
        "unit '" + t.unit + "' measures " + DescribeDimension(unit->dimension) +
            " and is not convertible to quantity '" + t.quantity + "' (" +
            DescribeDimension(*qty_dim) + ")");
    ok = false;
  }
  if (auto ty = f.Get("type")) {
    static const std::vector<std::string> kNames = {"bool",    "int32",   "int64",
                                                    "float32", "float64", "string"};
    static const DataType kTypes[] = {DataType::kBool,    DataType::kInt32,   DataType::kInt64,
                                      DataType::kFloat32, DataType::kFloat64, DataType::kString};
    auto s = Str(*ty);
    auto found = s ? std::find(kNames.begin(), kNames.end(), *s) : kNames.end();
    if (found != kNames.end()) {
      t.type = kTypes[found - kNames.begin()];
    } else {
      if (s)
        Err(pe::kInvalidValue, *ty,
            "unknown data type '" + *s + "'" + Hint(*s, kNames) + "; " + OneOf(kNames));
      ok = false;
    }
  }
  if (auto r = f.Get("range")) {
    std::vector<Val> items = r->node.IsSequence() ? OpenList(*r) : std::vector<Val>{};
    if (items.size() != 2) {
      Err(pe::kWrongType, *r, "expected a valid range [min, max], got " + NodeKind(r->node));
      ok = false;
    } else {
      auto lo = Num(items[0]);
      auto hi = Num(items[1]);
      if (lo && hi && *lo >= *hi) {
        Err(pe::kInvalidRange, *r, "the range's min must be below its max");
        ok = false;
      } else if (lo && hi) {
        t.min = *lo;
        t.max = *hi;
      } else {
        ok = false;
      }
    }
  }
  if (auto p = f.Get("period")) {
    if (auto s = Str(*p)) {
      Result<Micros> d = ParseDuration(*s);
      if (!d.ok()) {
        Err(pe::kInvalidValue, *p, d.status().message());
        ok = false;
      } else if (d->count() <= 0) {
        Err(pe::kInvalidValue, *p, "a sampling period must be longer than 0");
        ok = false;
      } else {
        t.period = *d;
      }
    } else {
      ok = false;
    }
  }
  if (auto fi = f.Get("fitted")) {
    if (auto b = Bool(*fi))
      t.fitted = *b;
    else
      ok = false;
  }
  if (auto src = f.Get("source")) {
    SourceBinding s = t.source;
    size_t before = diags_->error_count();
    SourceBinding parsed;
    ParseSource(*src, &parsed);
    if (diags_->error_count() != before) ok = false;
    // A source given here replaces the inherited binding of the same protocol.
    if (parsed.sparkplug) s.sparkplug = parsed.sparkplug;
    if (parsed.mqtt) s.mqtt = parsed.mqtt;
    if (parsed.modbus) s.modbus = parsed.modbus;
    t.source = s;
  }
  if (!ok) return std::nullopt;
  return t;
}

// Entries whose name is already in `signals` override it; others are appended.
void Loader::ParseSignalList(const Val& v, std::vector<SignalTemplate>* signals,
                             std::set<std::string>* listed) {
  for (const Val& item : OpenList(v)) {
    const SignalTemplate* base = nullptr;
    size_t base_index = 0;
    std::string name;
    // Found by iterating: yaml-cpp's operator[] inserts (non-const) or throws (const) on a
    // missing key.
    std::optional<YAML::Node> name_node;
    if (item.node.IsMap()) {
      for (auto it = item.node.begin(); it != item.node.end() && !name_node; ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == "name") name_node = it->second;
      }
    }
    if (name_node && name_node->IsScalar()) {
      name = name_node->Scalar();
      if (listed->count(name) > 0) {
        Err(pe::kDuplicateSignal, item, "signal '" + name + "' is listed twice");
        continue;
      }
      listed->insert(name);
      for (size_t i = 0; i < signals->size(); ++i) {
        if ((*signals)[i].name == name) {
          base = &(*signals)[i];
          base_index = i;
        }
      }
    }
    std::optional<SignalTemplate> t = ParseSignal(item, base);
    if (!t) continue;
    if (base != nullptr) {
      (*signals)[base_index] = std::move(*t);
    } else {
      signals->push_back(*t);
    }
  }
}

void Loader::ParseAssetTypes(const Val& v, const std::map<std::string, AssetType>& builtins,
                             std::map<std::string, AssetType>* out) {
  if (!OpenMap(v, {}).ok()) return;  // keys are type names, checked below
  // First pass: names and raw definitions; second pass: resolve `extends` in dependency order.
  struct Raw {
    Val val;
    std::string extends;
    std::optional<Val> extends_val;
    bool done = false;
    bool visiting = false;
  };
  std::map<std::string, Raw> raw;
  std::vector<std::string> order;
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    SourceLocation key_loc = At(it->first, v.loc);
    if (!it->first.IsScalar()) continue;  // reported by OpenMap
    std::string name = it->first.Scalar();
    Val key_val{it->first, key_loc, Child(v.path, name)};
    if (!IsValidId(name)) {
      Err(pe::kInvalidValue, key_val,
          "invalid asset type name '" + name +
              "'; expected 1-128 characters from A-Z a-z 0-9 _ - .");
      continue;
    }
    if (raw.count(name) > 0) continue;  // duplicate key, reported by OpenMap
    Raw r{Val{it->second, At(it->second, key_loc), key_val.path}, "", std::nullopt};
    raw.emplace(name, std::move(r));
    order.push_back(name);
  }
  std::vector<std::string> known;
  for (const auto& [n, t] : builtins) known.push_back(n);
  for (const auto& n : order) {
    if (!builtins.count(n)) known.push_back(n);
  }

  std::function<void(const std::string&)> resolve = [&](const std::string& name) {
    Raw& r = raw.at(name);
    if (r.done) return;
    r.visiting = true;
    AssetType type;
    type.name = name;
    type.where = r.val.loc;
    Fields tf = OpenMap(r.val, {"description", "extends", "signals"});
    if (tf.ok()) {
      if (auto d = tf.Get("description")) {
        if (auto s = Str(*d)) type.description = *s;
      }
      if (auto e = tf.Get("extends")) {
        if (auto parent = Str(*e)) {
          const AssetType* base = nullptr;
          auto rit = raw.find(*parent);
          if (rit != raw.end() && *parent != name) {
            if (rit->second.visiting) {
              Err(pe::kExtendsCycle, *e,
                  "asset type '" + name + "' extends '" + *parent +
                      "', which extends it back; an asset type cannot be its own ancestor");
            } else {
              resolve(*parent);
              auto oit = out->find(*parent);
              if (oit != out->end()) base = &oit->second;
            }
          } else if (auto bit = builtins.find(*parent); bit != builtins.end()) {
            base = &bit->second;
          } else if (*parent == name) {
            Err(pe::kExtendsCycle, *e, "asset type '" + name + "' cannot extend itself");
          } else {
            Err(pe::kUnknownAssetType, *e,
                "unknown asset type '" + *parent + "'" + Hint(*parent, known) + "; " +
                    OneOf(known));
          }
          if (base != nullptr) {
            type.extends = *parent;
            type.signals = base->signals;
            if (type.description.empty()) type.description = base->description;
          }
        }
      }
      size_t errors_before = diags_->error_count();
      if (auto s = tf.Get("signals")) {
        std::set<std::string> listed;
        ParseSignalList(*s, &type.signals, &listed);
      }
      if (type.signals.empty() && diags_->error_count() == errors_before) {
        Err(pe::kMissingField, r.val, "asset type '" + name + "' has no signals");
      }
    }
    r.visiting = false;
    r.done = true;
    (*out)[name] = std::move(type);
  };
  for (const auto& n : order) resolve(n);
}

// ---------------------------------------------------------------------------------------------
// Sites, areas, lines, assets.

bool Loader::RegisterId(IdRegistry* reg, const char* what, const std::string& id, const Val& v) {
  // Use case ids have their own namespace; sites, areas, lines and assets share one.
  if (reg != &use_cases_) {
    auto [it, inserted] = all_ids_.emplace(id, std::make_pair(std::string(what), v.loc));
    if (!inserted && it->second.second.line == v.loc.line &&
        it->second.second.column == v.loc.column) {
      // yaml-cpp places an alias at its anchor: the same mapping is mentioned again.
      Err(pe::kDuplicateId, v,
          std::string("duplicate ") + what + " id '" + id + "': this " + what +
              " is repeated through a YAML alias (*name); each " + what + " needs its own id");
      return false;
    }
    if (!inserted) {
      Err(pe::kDuplicateId, v,
          std::string("duplicate ") + what + " id '" + id + "'; the " + it->second.first +
              " at line " + std::to_string(it->second.second.line) +
              " has it already (site, area, line and asset ids are unique across the plant)");
      return false;
    }
  }
  auto [it, inserted] = reg->ids.emplace(id, v.loc);
  if (!inserted) {
    Err(pe::kDuplicateId, v,
        std::string("duplicate ") + what + " id '" + id + "'; it is first defined at line " +
            std::to_string(it->second.line));
  }
  return inserted;
}

const AssetType* Loader::LookupType(const Plant& plant, const Val& v, const std::string& name) {
  if (const AssetType* t = plant.FindAssetType(name)) return t;
  std::vector<std::string> known;
  for (const auto& [n, t] : plant.asset_types) known.push_back(n);
  Err(pe::kUnknownAssetType, v,
      "unknown asset type '" + name + "'" + Hint(name, known) + "; " + OneOf(known) +
          ", or one declared under asset_types");
  return nullptr;
}

void Loader::ParseConnection(const Val& v, AssetConnection* out) {
  Fields f = OpenMap(v, {"sparkplug", "mqtt", "modbus"});
  if (!f.ok()) return;
  if (auto sp = f.Get("sparkplug")) {
    Fields sf = OpenMap(*sp, {"group", "node", "device"});
    SparkplugEndpoint e;
    auto g = Required(sf, "group");
    auto n = Required(sf, "node");
    auto gs = g ? Id(*g, "Sparkplug group") : std::nullopt;
    auto ns = n ? Id(*n, "Sparkplug edge node") : std::nullopt;
    if (auto d = sf.Get("device")) {
      if (auto ds = Id(*d, "Sparkplug device")) e.device_id = *ds;
    }
    if (gs && ns) {
      e.group_id = *gs;
      e.edge_node_id = *ns;
      out->sparkplug = e;
    }
  }
  if (auto mq = f.Get("mqtt")) {
    Fields mf = OpenMap(*mq, {"topic"});
    if (auto t = Required(mf, "topic")) {
      if (auto s = Str(*t)) {
        bool control = std::any_of(s->begin(), s->end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x20; });
        if (s->empty() || s->find_first_of("+#") != std::string::npos || control) {
          Err(pe::kInvalidValue, *t,
              "a telemetry topic is a non-empty MQTT topic name without wildcards (+, #) or "
              "control characters, got " +
                  NodeKind(t->node));
        } else {
          out->mqtt = MqttEndpoint{*s};
        }
      }
    }
  }
  if (auto mb = f.Get("modbus")) {
    Fields mf = OpenMap(*mb, {"host", "port", "unit", "base"});
    ModbusEndpoint e;
    bool ok = mf.ok();
    if (auto h = Required(mf, "host")) {
      auto s = Str(*h);
      if (s && !s->empty())
        e.host = *s;
      else
        ok = false;
    } else {
      ok = false;
    }
    if (auto p = mf.Get("port")) {
      if (auto n = Int(*p, 1, 65535))
        e.port = static_cast<uint16_t>(*n);
      else
        ok = false;
    }
    if (auto u = mf.Get("unit")) {
      if (auto n = Int(*u, 0, 255))
        e.unit_id = static_cast<uint8_t>(*n);
      else
        ok = false;
    }
    if (auto b = mf.Get("base")) {
      if (auto n = Int(*b, 0, 65535))
        e.base = static_cast<uint32_t>(*n);
      else
        ok = false;
    }
    if (ok) out->modbus = e;
  }
}

std::string SparkplugAddress(const SparkplugEndpoint& e, const std::string& metric) {
  std::string topic =
      "spBv1.0/" + e.group_id + (e.device_id.empty() ? "/NDATA/" : "/DDATA/") + e.edge_node_id;
  if (!e.device_id.empty()) topic += "/" + e.device_id;
  return topic + ":" + metric;
}

std::string ModbusAddress(const ModbusEndpoint& e, const ModbusBinding& b) {
  return "modbus://" + e.host + ":" + std::to_string(e.port) + "/" + std::to_string(e.unit_id) +
         "/" + std::string(ModbusTableName(b.table)) + "/" + std::to_string(e.base + b.address);
}

// Applies the asset's `missing`, `fitted` and `signals` to its type's templates and binds each
// fitted signal to one source.
void Loader::ResolveSignals(const Val& asset_val, const AssetType& type, const Fields& f,
                            bool connection_ok, Asset* asset) {
  std::vector<SignalTemplate> templates = type.signals;
  std::set<std::string> listed;
  if (auto s = f.Get("signals")) ParseSignalList(*s, &templates, &listed);

  std::vector<std::string> names;
  for (const auto& t : templates) names.push_back(t.name);
  std::map<std::string, bool> fitted_override;
  for (const char* key : {"missing", "fitted"}) {
    auto v = f.Get(key);
    if (!v) continue;
    auto list = StrList(*v);
    if (!list) continue;
    std::vector<Val> items = OpenList(*v);
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& n = (*list)[i];
      if (std::find(names.begin(), names.end(), n) == names.end()) {
        Err(pe::kUnknownSignal, items[i],
            "asset type '" + type.name + "' has no signal '" + n + "'" + Hint(n, names) + "; " +
                OneOf(names));
        continue;
      }
      if (fitted_override.count(n) > 0) {
        Err(pe::kDuplicateSignal, items[i],
            "signal '" + n + "' is already listed under missing or fitted");
        continue;
      }
      fitted_override[n] = std::string_view(key) == "fitted";
    }
  }

  bool reported_no_connection = false;
  const AssetConnection& conn = asset->connection;
  for (SignalTemplate& t : templates) {
    auto ov = fitted_override.find(t.name);
    bool fitted = ov != fitted_override.end() ? ov->second : t.fitted;
    if (!fitted) {
      asset->missing.push_back(t.name);
      continue;
    }
    Signal sig;
    const std::string& field = asset_val.path;
    if (t.source.modbus && conn.modbus) {
      sig.protocol = Protocol::kModbusTcp;
      const ModbusBinding& b = *t.source.modbus;
      const ModbusEndpoint& e = *conn.modbus;
      sig.address = ModbusAddress(e, b);
      if (e.base + b.address + b.width() > 65536) {
        Err(pe::kInvalidValue, asset_val.loc, field,
            "signal '" + t.name + "' would read register " + std::to_string(e.base + b.address) +
                " (base " + std::to_string(e.base) + " + address " + std::to_string(b.address) +
                "), past the last Modbus register 65535");
        continue;
      }
      std::string device = e.host + ":" + std::to_string(e.port) + "/" + std::to_string(e.unit_id);
      for (uint32_t r = 0; r < b.width(); ++r) {
        auto key = std::make_tuple(device, static_cast<int>(b.table), e.base + b.address + r);
        auto [it, inserted] = modbus_registers_.emplace(key, asset->id + "." + t.name);
        if (!inserted) {
          Err(pe::kRegisterOverlap, asset_val.loc, field,
              "signal '" + t.name + "' reads " + std::string(ModbusTableName(b.table)) +
                  " register " + std::to_string(std::get<2>(key)) + " of " + device + ", which " +
                  it->second + " reads too");
          break;
        }
      }
      t.source.sparkplug.reset();
      t.source.mqtt.reset();
    } else if (conn.sparkplug) {
      sig.protocol = Protocol::kSparkplugB;
      if (!t.source.sparkplug) t.source.sparkplug = SparkplugBinding{t.name};
      sig.address = SparkplugAddress(*conn.sparkplug, t.source.sparkplug->metric);
      t.source.mqtt.reset();
      t.source.modbus.reset();
    } else if (conn.mqtt) {
      sig.protocol = Protocol::kMqttJson;
      if (!t.source.mqtt) t.source.mqtt = MqttJsonBinding{t.name};
      sig.address = conn.mqtt->topic + ":" + t.source.mqtt->field;
      t.source.sparkplug.reset();
      t.source.modbus.reset();
    } else if (!connection_ok) {
      continue;
    } else if (conn.modbus) {
      Err(pe::kMissingBinding, asset_val.loc, field,
          "signal '" + t.name +
              "' has no Modbus register, and the asset is connected by Modbus "
              "only; expected source.modbus.address in the signal template of asset type '" +
              type.name + "' (" + t.where.file + ":" + std::to_string(t.where.line) +
              ") or in this asset's signals, or the signal listed under missing");
      continue;
    } else {
      if (!reported_no_connection) {
        Err(pe::kMissingBinding, asset_val.loc, field,
            "asset '" + asset->id +
                "' has fitted signals but no connection; expected "
                "connection.sparkplug, connection.mqtt or connection.modbus");
        reported_no_connection = true;
      }
      continue;
    }
    sig.spec = std::move(t);
    asset->signals.push_back(std::move(sig));
  }
}

void Loader::ParseAsset(const Val& v, const Site& site, const Area& area, const Line& line,
                        const Plant& plant, std::optional<Asset>* out) {
  Fields f =
      OpenMap(v, {"id", "name", "type", "connection", "missing", "fitted", "signals", "tags"});
  if (!f.ok()) return;
  Asset asset;
  asset.site = site.id;
  asset.area = area.id;
  asset.line = line.id;
  asset.where = v.loc;
  auto id_val = Required(f, "id");
  auto id = id_val ? Id(*id_val, "asset") : std::nullopt;
  if (!id || !RegisterId(&assets_, "asset", *id, *id_val)) return;
  asset.id = *id;
  if (auto n = f.Get("name")) {
    if (auto s = Str(*n)) asset.name = *s;
  }
  const AssetType* type = nullptr;
  if (auto t = Required(f, "type")) {
    if (auto s = Str(*t)) {
      type = LookupType(plant, *t, *s);
      if (type) asset.type = *s;
    }
  }
  bool connection_ok = true;
  if (auto c = f.Get("connection")) {
    size_t before = diags_->error_count();
    ParseConnection(*c, &asset.connection);
    connection_ok = diags_->error_count() == before;
  }
  if (auto tags = f.Get("tags")) {
    if (OpenMap(*tags, {}).ok()) {
      for (auto it = tags->node.begin(); it != tags->node.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        Val tv{it->second, At(it->second, tags->loc), Child(tags->path, it->first.Scalar())};
        if (auto s = Str(tv)) asset.tags[it->first.Scalar()] = *s;
      }
    }
  }
  if (type == nullptr) return;
  ResolveSignals(v, *type, f, connection_ok, &asset);
  *out = std::move(asset);
}

std::optional<Fields> Loader::OpenLevel(const Val& v,
                                        std::initializer_list<std::string_view> allowed,
                                        const char* what, IdRegistry* reg, std::string* id,
                                        std::string* name) {
  Fields f = OpenMap(v, allowed);
  if (!f.ok()) return std::nullopt;
  auto id_val = Required(f, "id");
  auto parsed = id_val ? Id(*id_val, what) : std::nullopt;
  // A duplicate's children are not read: with YAML aliases they could be read many times over.
  if (!parsed || !RegisterId(reg, what, *parsed, *id_val)) return std::nullopt;
  *id = *parsed;
  if (auto n = f.Get("name")) {
    if (auto s = Str(*n)) *name = *s;
  }
  return f;
}

void Loader::ParseSites(const Val& v, Plant* plant) {
  std::vector<std::pair<std::string, Val>> productions;  // (line id, its `production`)
  std::vector<Val> sites = OpenList(v);
  if (v.node.IsSequence() && sites.empty()) {
    Err(pe::kMissingField, v, "a plant has at least one site");
  }
  for (const Val& sv : sites) {
    Site site;
    site.where = sv.loc;
    auto sf = OpenLevel(sv, {"id", "name", "timezone", "shifts", "areas"}, "site", &sites_,
                        &site.id, &site.name);
    if (!sf) continue;
    if (auto tz = sf->Get("timezone")) {
      if (auto s = Str(*tz)) site.timezone = *s;
    }
    if (auto sh = sf->Get("shifts")) {
      ParseShifts(*sh, &site);
      if (!site.shifts.empty() && site.timezone.empty()) {
        Err(pe::kMissingField, *sh,
            "shifts are in the site's local time; expected a timezone for site '" + site.id +
                "' (an IANA name such as Europe/Paris, or UTC)");
      }
    }
    auto areas_val = Required(*sf, "areas");
    if (!areas_val) continue;
    for (const Val& av : OpenList(*areas_val)) {
      Area area;
      area.where = av.loc;
      auto af = OpenLevel(av, {"id", "name", "lines"}, "area", &areas_, &area.id, &area.name);
      if (!af) continue;
      auto lines_val = Required(*af, "lines");
      if (!lines_val) continue;
      for (const Val& lv : OpenList(*lines_val)) {
        Line line;
        line.where = lv.loc;
        auto lf = OpenLevel(lv, {"id", "name", "production", "assets"}, "line", &lines_, &line.id,
                            &line.name);
        if (!lf) continue;
        auto assets_val = Required(*lf, "assets");
        if (!assets_val) continue;
        for (const Val& asv : OpenList(*assets_val)) {
          std::optional<Asset> asset;
          ParseAsset(asv, site, area, line, *plant, &asset);
          if (asset) line.assets.push_back(std::move(*asset));
        }
        // Read once every asset id is known, so that an output on another line is named.
        if (auto pv = lf->Get("production")) productions.emplace_back(line.id, *pv);
        area.lines.push_back(std::move(line));
      }
      site.areas.push_back(std::move(area));
    }
    plant->sites.push_back(std::move(site));
  }
  for (const auto& [line_id, pv] : productions) {
    for (Site& site : plant->sites)
      for (Area& area : site.areas)
        for (Line& line : area.lines)
          if (line.id == line_id) ParseProduction(pv, &line);
  }
}

// "HH:MM", 00:00 .. 23:59 -> minutes after midnight.
std::optional<int> ParseClock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {size_t{0}, size_t{1}, size_t{3}, size_t{4}}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string FormatClock(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 24, minutes % 60);
  return buf;
}

void Loader::ParseShifts(const Val& v, Site* site) {
  static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::map<std::string, SourceLocation> names;
  std::vector<Val> items = OpenList(v);
  std::vector<Val> parsed_at;  // the item of each parsed shift, for overlap reports
  for (const Val& item : items) {
    Fields f = OpenMap(item, {"name", "start", "end", "days"});
    if (!f.ok()) continue;
    Shift shift;
    shift.where = item.loc;
    bool ok = true;
    if (auto n = Required(f, "name")) {
      auto s = Id(*n, "shift");
      if (s && names.count(*s) > 0) {
        const SourceLocation& first = names[*s];
        Err(pe::kDuplicateId, *n,
            "site '" + site->id + "' already has a shift named '" + *s + "' (line " +
                std::to_string(first.line) + ")");
        s.reset();
      }
      if (s) {
        names[*s] = n->loc;
        shift.name = *s;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    for (const char* key : {"start", "end"}) {
      auto t = Required(f, key);
      if (!t) {
        ok = false;
        continue;
      }
      auto s = Str(*t);
      std::optional<int> minutes = s ? ParseClock(*s) : std::nullopt;
      if (s && !minutes) {
        Err(pe::kInvalidValue, *t,
            "expected a local time \"HH:MM\" from 00:00 to 23:59, got " + Quote(*s));
      }
      if (!minutes) {
        ok = false;
        continue;
      }
      (std::string_view(key) == "start" ? shift.start_minute : shift.end_minute) = *minutes;
    }
    if (auto d = Required(f, "days")) {
      std::vector<Val> day_items = OpenList(*d);
      if (d->node.IsSequence() && day_items.empty()) {
        Err(pe::kMissingField, *d, "a shift works on at least one day");
        ok = false;
      }
      for (const Val& di : day_items) {
        auto s = Str(di);
        if (!s) {
          ok = false;
          continue;
        }
        auto found = std::find(kDays.begin(), kDays.end(), *s);
        if (found == kDays.end()) {
          Err(pe::kInvalidValue, di,
              "unknown day " + Quote(*s) + Hint(*s, kDays) + "; " + OneOf(kDays));
          ok = false;
          continue;
        }
        size_t index = static_cast<size_t>(found - kDays.begin());
        if (shift.days[index]) {
          Err(pe::kInvalidValue, di, "day '" + *s + "' is listed twice");
          ok = false;
          continue;
        }
        shift.days[index] = true;
      }
    } else {
      ok = false;
    }
    if (!ok) continue;
    // Overlaps with the shifts before it, on the week's circle of minutes (a Sunday night shift
    // runs into Monday).
    constexpr int kWeek = 7 * 1440;
    for (size_t j = 0; j < site->shifts.size(); ++j) {
      const Shift& other = site->shifts[j];
      std::optional<std::pair<int, int>> clash;  // (day of this shift, day of the other)
      for (int a = 0; a < 7 && !clash; ++a) {
        if (!shift.days[static_cast<size_t>(a)]) continue;
        for (int b = 0; b < 7 && !clash; ++b) {
          if (!other.days[static_cast<size_t>(b)]) continue;
          int s1 = a * 1440 + shift.start_minute;
          int s2 = b * 1440 + other.start_minute;
          // Offset of the other's start from this one's start, going forward around the week.
          int forward = ((s2 - s1) % kWeek + kWeek) % kWeek;
          int backward = ((s1 - s2) % kWeek + kWeek) % kWeek;
          if (forward < shift.duration_minutes() || backward < other.duration_minutes()) {
            clash = std::make_pair(a, b);
          }
        }
      }
      if (clash) {
        Err(pe::kInvalidValue, item,
            "shift '" + shift.name + "' (" + kDays[static_cast<size_t>(clash->first)] + " " +
                FormatClock(shift.start_minute) + "-" + FormatClock(shift.end_minute) +
                ") overlaps shift '" + other.name + "' (" +
                kDays[static_cast<size_t>(clash->second)] + " " + FormatClock(other.start_minute) +
                "-" + FormatClock(other.end_minute) + ", line " +
                std::to_string(parsed_at[j].loc.line) + "); shifts of a site must not overlap");
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    site->shifts.push_back(std::move(shift));
    parsed_at.push_back(item);
  }
}

void Loader::ParseProduction(const Val& v, Line* line) {
  Fields f = OpenMap(v, {"output", "ideal_cycle_time"});
  if (!f.ok()) return;
  LineProduction prod;
  prod.where = v.loc;
  bool ok = true;
  if (auto o = Required(f, "output")) {
    if (auto s = Str(*o)) {
      bool on_line = std::any_of(line->assets.begin(), line->assets.end(),
                                 [&](const Asset& a) { return a.id == *s; });
      if (!on_line) {
        std::vector<std::string> ids;
        for (const Asset& a : line->assets) ids.push_back(a.id);
        std::string elsewhere;
        if (auto it = assets_.ids.find(*s); it != assets_.ids.end()) {
          elsewhere = " (it is on another line, line " + std::to_string(it->second.line) + ")";
        }
        Err(pe::kUnknownReference, *o,
            "the output of line '" + line->id + "' must be one of its assets; " + Quote(*s) +
                " is not" + elsewhere + Hint(*s, ids));
        ok = false;
      } else {
        prod.output = *s;
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (auto c = Required(f, "ideal_cycle_time")) {
    auto d = Duration(*c);
    if (d && d->count() <= 0) {
      Err(pe::kInvalidValue, *c, "an ideal cycle time must be more than 0, e.g. 30s");
      d.reset();
    }
    if (d) {
      prod.ideal_cycle_time = *d;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (ok) line->production = std::move(prod);
}

// ---------------------------------------------------------------------------------------------
// Use cases.

void Loader::CheckReferences(const Val& v, const std::vector<std::string>& ids,
                             const IdRegistry& reg, const char* what) {
  std::vector<Val> items = OpenList(v);
  for (size_t i = 0; i < ids.size() && i < items.size(); ++i) {
    if (reg.ids.count(ids[i]) == 0) {
      Err(pe::kUnknownReference, items[i],
          std::string("no ") + what + " has id '" + ids[i] + "'" + Hint(ids[i], reg.Names()));
    }
  }
}

void Loader::ParseScope(const Val& v, Scope* out) {
  Fields f = OpenMap(v, {"sites", "areas", "lines", "assets"});
  if (!f.ok()) return;
  struct Part {
    const char* key;
    const char* what;
    const IdRegistry* reg;
    std::vector<std::string>* dst;
  };
  for (const Part& p :
       {Part{"sites", "site", &sites_, &out->sites}, Part{"areas", "area", &areas_, &out->areas},
        Part{"lines", "line", &lines_, &out->lines},
        Part{"assets", "asset", &assets_, &out->assets}}) {
    if (auto x = f.Get(p.key)) {
      if (auto list = StrList(*x)) {
        CheckReferences(*x, *list, *p.reg, p.what);
        *p.dst = *list;
      }
    }
  }
}

void Loader::ParseUseCases(const Val& v, Plant* plant) {
  static const std::vector<std::string> kCategories = {
      "predictive_maintenance", "energy_per_unit", "asset_traceability",
      "hvac_optimization",      "quality",         "user_defined"};
  for (const Val& uv : OpenList(v)) {
    Fields f =
        OpenMap(uv, {"id", "name", "description", "category", "category_label", "scope", "kpi",
                     "requires", "retrofit", "annual_value", "live_from", "running_cost",
                     "reactive_minutes_per_failure", "assumptions", "signoff"});
    if (!f.ok()) continue;
    UseCase uc;
    uc.where = uv.loc;
    auto id_val = Required(f, "id");
    auto id = id_val ? Id(*id_val, "use case") : std::nullopt;
    if (!id || !RegisterId(&use_cases_, "use case", *id, *id_val)) continue;
    uc.id = *id;
    if (auto n = Required(f, "name")) {
      if (auto s = Str(*n)) uc.name = *s;
    }
    if (auto d = f.Get("description")) {
      if (auto s = Str(*d)) uc.description = *s;
    }
    if (auto c = Required(f, "category")) {
      if (auto s = Str(*c)) {
        auto found = std::find(kCategories.begin(), kCategories.end(), *s);
        if (found == kCategories.end()) {
          Err(pe::kInvalidValue, *c,
              "unknown category '" + *s + "'" + Hint(*s, kCategories) + "; " + OneOf(kCategories) +
                  " (user_defined with a category_label for others)");
        } else {
          uc.category = static_cast<UseCaseCategory>(found - kCategories.begin());
          if (uc.category == UseCaseCategory::kUserDefined && !f.Has("category_label")) {
            Err(pe::kMissingField, *c, "a user_defined use case needs a category_label");
          }
        }
      }
    }
    if (auto l = f.Get("category_label")) {
      if (auto s = Str(*l)) uc.category_label = *s;
    }
    if (auto s = f.Get("scope")) ParseScope(*s, &uc.scope);
    if (auto k = Required(f, "kpi")) {
      Fields kf = OpenMap(*k, {"name", "unit", "baseline", "target"});
      auto n = Required(kf, "name");
      auto u = Required(kf, "unit");
      auto b = Required(kf, "baseline");
      auto t = Required(kf, "target");
      if (n) {
        if (auto s = Str(*n)) uc.kpi.name = *s;
      }
      if (u) {
        if (auto s = Str(*u)) {
          Result<Unit> unit = ParseUnit(*s);
          if (unit.ok()) {
            uc.kpi.unit = *s;
          } else {
            Err(pe::kUnknownUnit, *u, unit.status().message());
          }
        }
      }
      auto bv = b ? Num(*b) : std::nullopt;
      auto tv = t ? Num(*t) : std::nullopt;
      if (bv && tv) {
        uc.kpi.baseline = *bv;
        uc.kpi.target = *tv;
        if (*bv == *tv) {
          Err(pe::kInvalidValue, *t, "the KPI target equals its baseline: nothing to gain");
        }
      }
    }
    if (auto r = Required(f, "requires")) {
      std::set<std::pair<std::string, std::string>> seen;
      std::vector<std::string> req_paths;
      std::vector<Val> items = OpenList(*r);
      if (r->node.IsSequence() && items.empty()) {
        Err(pe::kMissingField, *r, "a use case requires at least one signal");
      }
      for (const Val& item : items) {
        Fields rf = OpenMap(item, {"asset_type", "signal", "unit"});
        auto at = Required(rf, "asset_type");
        auto sg = Required(rf, "signal");
        auto ats = at ? Str(*at) : std::nullopt;
        auto sgs = sg ? Str(*sg) : std::nullopt;
        if (!ats || !sgs) continue;
        const AssetType* type = LookupType(*plant, *at, *ats);
        if (!type) continue;
        const SignalTemplate* tmpl = type->FindSignal(*sgs);
        if (!tmpl) {
          Err(pe::kUnknownSignal, *sg,
              "asset type '" + *ats + "' has no signal '" + *sgs + "'" +
                  Hint(*sgs, type->SignalNames()) + "; " + OneOf(type->SignalNames()));
          continue;
        }
        if (!seen.insert({*ats, *sgs}).second) {
          Err(pe::kDuplicateSignal, item, "'" + *ats + "." + *sgs + "' is required twice");
          continue;
        }
        SignalRequirement req{*ats, *sgs, "", item.loc};
        if (auto u = rf.Get("unit")) {
          if (auto s = Str(*u)) {
            Result<Unit> need = ParseUnit(*s);
            Result<Unit> have = ParseUnit(tmpl->unit);
            if (!need.ok()) {
              Err(pe::kUnknownUnit, *u, need.status().message());
            } else if (have.ok() && !Convertible(*need, *have)) {
              Err(pe::kUnitNotConvertible, *u,
                  "the use case needs " + *ats + "." + *sgs + " in '" + *s + "' (" +
                      DescribeDimension(need->dimension) + "), but it is measured in '" +
                      tmpl->unit + "' (" + DescribeDimension(have->dimension) +
                      "); expected a unit convertible to '" + tmpl->unit + "'");
            } else {
              req.unit = *s;
            }
          }
        }
        uc.requires_signals.push_back(std::move(req));
        req_paths.push_back(item.path);
      }
      for (size_t i = 0; i < uc.requires_signals.size(); ++i) {
        const SignalRequirement& req = uc.requires_signals[i];
        bool any = false;
        for (const Asset* a : plant->AllAssets()) {
          any = any || (uc.scope.Contains(*a) && plant->IsA(a->type, req.asset_type));
        }
        if (!any) {
          Warn(pe::kNothingInScope, req.where, req_paths[i],
               "no asset of type '" + req.asset_type + "' is in the scope of use case '" + uc.id +
                   "': its coverage of " + req.signal + " is 0 of 0");
        }
      }
    }
    if (auto r = f.Get("retrofit")) {
      for (const Val& item : OpenList(*r)) {
        Fields rf = OpenMap(item, {"asset_type", "signals", "sensor", "cost_per_asset"});
        RetrofitOption opt;
        opt.where = item.loc;
        auto at = Required(rf, "asset_type");
        auto sg = Required(rf, "signals");
        auto se = Required(rf, "sensor");
        auto co = Required(rf, "cost_per_asset");
        auto ats = at ? Str(*at) : std::nullopt;
        auto sgs = sg ? StrList(*sg) : std::nullopt;
        auto ses = se ? Str(*se) : std::nullopt;
        auto cost = co ? Num(*co) : std::nullopt;
        if (cost && *cost < 0) {
          Err(pe::kInvalidValue, *co, "a retrofit cost cannot be negative");
          cost.reset();
        }
        if (!ats || !sgs || !ses || !cost) continue;
        const AssetType* type = LookupType(*plant, *at, *ats);
        if (!type) continue;
        bool ok = true;
        std::vector<Val> sig_items = OpenList(*sg);
        if (sgs->empty()) {
          Err(pe::kMissingField, *sg, "a retrofit provides at least one signal");
          ok = false;
        }
        for (size_t i = 0; i < sgs->size(); ++i) {
          if (!type->FindSignal((*sgs)[i])) {
            Err(pe::kUnknownSignal, sig_items[i],
                "asset type '" + *ats + "' has no signal '" + (*sgs)[i] + "'" +
                    Hint((*sgs)[i], type->SignalNames()));
            ok = false;
          }
        }
        if (!ok) continue;
        opt.asset_type = *ats;
        opt.signals = *sgs;
        opt.sensor = *ses;
        opt.cost_per_asset = *cost;
        uc.retrofits.push_back(std::move(opt));
      }
    }
    if (auto a = Required(f, "annual_value")) {
      if (auto d = Num(*a)) {
        if (*d < 0) {
          Err(pe::kInvalidValue, *a, "a projected annual value cannot be negative");
        } else {
          uc.annual_value = *d;
        }
      }
    }
    if (auto l = f.Get("live_from")) {
      if (auto s = Str(*l)) {
        Result<std::chrono::sys_days> day = ParseDate(*s);
        if (day.ok()) {
          uc.live_from = *day;
        } else {
          Err(pe::kInvalidValue, *l, day.status().message());
        }
      }
    }
    if (auto c = f.Get("running_cost")) {
      if (auto d = NonNegative(*c, "a running cost per year")) uc.running_cost = *d;
    }
    if (auto r = f.Get("reactive_minutes_per_failure")) {
      if (auto d = NonNegative(*r, "technician minutes per failure")) {
        uc.reactive_minutes_per_failure = *d;
      }
    }
    if (auto a = f.Get("assumptions")) {
      if (auto list = StrList(*a)) uc.assumptions = *list;
    }
    if (uc.assumptions.empty()) {
      Warn(pe::kNoAssumptions, uv.loc, Child(uv.path, "assumptions"),
           "use case '" + uc.id + "' states no assumptions behind its projected value");
    }
    if (auto s = f.Get("signoff")) {
      Fields sf = OpenMap(*s, {"ot", "it", "business"});
      for (Stakeholder who : kStakeholders) {
        auto e = sf.Get(StakeholderName(who));
        if (!e || e->node.IsNull()) continue;  // not signed (yet)
        Fields ef = OpenMap(*e, {"by", "on"});
        auto by = Required(ef, "by");
        auto on = Required(ef, "on");
        auto bys = by ? Str(*by) : std::nullopt;
        auto ons = on ? Str(*on) : std::nullopt;
        if (!bys || !ons) continue;
        Result<std::chrono::sys_days> day = ParseDate(*ons);
        if (!day.ok()) {
          Err(pe::kInvalidValue, *on, day.status().message());
          continue;
        }
        uc.signoffs[who] = SignOff{*bys, *day};
      }
    }
    plant->use_cases.push_back(std::move(uc));
  }
}

// ---------------------------------------------------------------------------------------------

Result<Plant> Loader::Load(std::string_view text) {
  Plant plant;
  plant.file = file_;
  SourceLocation top{file_, 1, 1};
  std::optional<Val> root = ParseDocument(text, kMaxPlantFileBytes);
  if (!root) return diags_->ToStatus(file_);
  try {
    Val rv = *root;
    Fields f = OpenMap(
        rv, {"weft", "enterprise", "economics", "planning", "asset_types", "sites", "use_cases"});
    if (!f.ok()) return diags_->ToStatus(file_);
    if (auto ver = Required(f, "weft")) {
      if (auto n = Int(*ver, 0, 1000000); n && *n != kPlantSchemaVersion) {
        Err(pe::kUnsupportedVersion, *ver,
            "plant.yaml schema version " + std::to_string(*n) +
                " is not supported; this weft "
                "reads version " +
                std::to_string(kPlantSchemaVersion));
      }
    }
    if (auto e = Required(f, "enterprise")) {
      Fields ef = OpenMap(*e, {"name"});
      if (auto n = Required(ef, "name")) {
        if (auto s = Str(*n)) plant.enterprise = *s;
      }
    }
    if (auto e = Required(f, "economics")) ParseEconomics(*e, &plant.economics);
    if (auto p = f.Get("planning")) ParsePlanning(*p, &plant.planning);
    const auto& builtins = BuiltinAssetTypes();
    plant.asset_types = builtins;
    if (auto t = f.Get("asset_types")) {
      std::map<std::string, AssetType> declared;
      ParseAssetTypes(*t, builtins, &declared);
      for (auto& [name, type] : declared) plant.asset_types[name] = std::move(type);
    }
    if (auto s = Required(f, "sites")) ParseSites(*s, &plant);
    if (auto u = f.Get("use_cases")) ParseUseCases(*u, &plant);
  } catch (const std::exception& e) {
    // yaml-cpp throws on some malformed trees; never let that escape as a crash.
    Err(pe::kYamlSyntax, top, "", std::string("unexpected YAML structure: ") + e.what());
  }
  if (diags_->has_errors()) return diags_->ToStatus(file_);
  return plant;
}

}  // namespace

Result<Plant> ParsePlant(std::string_view yaml, const std::string& file_name, Diagnostics* diags) {
  Loader loader(file_name, diags);
  Result<Plant> plant = loader.Load(yaml);
  diags->SortByLocation();
  return plant;
}

Result<Plant> LoadPlantFile(const std::string& path, Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot open plant model '" + path + "': " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return UnavailableError("cannot read plant model '" + path + "'");
  if (static_cast<uint64_t>(size) > kMaxPlantFileBytes) {
    diags->Error(pe::kInputTooLarge, {path, 1, 1}, "",
                 "the file has " + std::to_string(size) + " bytes; the limit is " +
                     std::to_string(kMaxPlantFileBytes));
    return diags->ToStatus(path);
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) {
    return UnavailableError("cannot read plant model '" + path + "': " + std::strerror(errno));
  }
  return ParsePlant(text, path, diags);
}

const std::map<std::string, AssetType>& BuiltinAssetTypes() {
  static const std::map<std::string, AssetType> kTypes = [] {
    Diagnostics diags;
    Loader loader("<builtin asset types>", &diags);
    YAML::Node root = YAML::Load(std::string(kBuiltinAssetTypesYaml));
    std::map<std::string, AssetType> out;
    loader.ParseAssetTypes(Val{root, {"<builtin asset types>", 1, 1}, "asset_types"}, {}, &out);
    if (diags.has_errors()) {
      // A bug in the embedded library; plant_loader_test keeps this from shipping.
      std::fprintf(stderr, "weft: built-in asset types are invalid:\n%s", diags.ToString().c_str());
      std::abort();
    }
    for (auto& [name, type] : out) type.builtin = true;
    return out;
  }();
  return kTypes;
}

}  // namespace weft::model

// The plant model: what `plant.yaml` describes, after loading and validation.
//
//   Diagnostics diags;
//   Result<Plant> plant = LoadPlantFile("examples/plant.yaml", &diags);
//   for (const Asset* a : plant->AllAssets()) { ... a->signals ... }
//
// The hierarchy is ISA-95: enterprise -> site -> area -> line -> asset. Each asset is of an
// asset type whose signal templates say which signals such an asset has (name, unit, quantity,
// data type, valid range, sampling period, and how to read it: Sparkplug B metric, JSON field
// or Modbus register). Use cases say which signals they need, what the missing ones cost to
// retrofit, what they are worth, and who signed them off.
//
// Ids of sites, areas, lines and assets share one namespace, unique across the whole plant, so
// any of them can be named alone (by a use case scope, an edge, a query); use case ids have their
// own.
//
// A Plant is a value: copyable, immutable after loading by convention; safe to share read-only
// between threads.
#ifndef WEFT_MODEL_PLANT_H_
#define WEFT_MODEL_PLANT_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"

namespace weft::model {

enum class DataType { kBool, kInt32, kInt64, kFloat32, kFloat64, kString };
std::string_view DataTypeName(DataType t);

// ---- Source bindings: how a signal is read from the machine. ----

//! A Sparkplug B metric of the asset's device (the device comes from the asset's connection).
struct SparkplugBinding {
  std::string metric;
};

//! A field of the JSON document published on the asset's topic. Dots address nested objects.
struct MqttJsonBinding {
  std::string field;
};

enum class ModbusTable { kHoldingRegister, kInputRegister, kCoil, kDiscreteInput };
enum class ModbusValueType { kUint16, kInt16, kUint32, kInt32, kFloat32, kBit };
//! Order of the two 16-bit registers of a 32-bit value. Bytes within a register are always
//! big-endian, as the Modbus specification says.
enum class WordOrder { kHighFirst, kLowFirst };
std::string_view ModbusTableName(ModbusTable t);
std::string_view ModbusValueTypeName(ModbusValueType t);

//! engineering value = raw * scale + offset.
struct ModbusBinding {
  ModbusTable table = ModbusTable::kHoldingRegister;
  //! Offset from the asset's `base` register address (0-based protocol addresses).
  uint32_t address = 0;
  ModbusValueType value_type = ModbusValueType::kUint16;
  WordOrder word_order = WordOrder::kHighFirst;
  double scale = 1.0;
  double offset = 0.0;
  //! Number of 16-bit registers (or bits) the value occupies.
  uint32_t width() const;
};

struct SourceBinding {
  std::optional<SparkplugBinding> sparkplug;
  std::optional<MqttJsonBinding> mqtt;
  std::optional<ModbusBinding> modbus;
};

struct SignalTemplate {
  std::string name;
  std::string description;
  std::string unit;      //!< unit symbol, e.g. "degC", "m3/h" (validated by units.h)
  std::string quantity;  //!< physical quantity, e.g. "temperature" (validated)
  DataType type = DataType::kFloat64;
  std::optional<double> min;  //!< valid range, inclusive
  std::optional<double> max;
  Micros period{std::chrono::seconds(1)};  //!< nominal sampling period
  //! Whether assets of the type have this sensor unless they say otherwise.
  bool fitted = true;
  SourceBinding source;
  SourceLocation where;
};

struct AssetType {
  std::string name;
  std::string description;
  std::string extends;  //!< parent type, "" if none
  bool builtin = false;
  std::vector<SignalTemplate> signals;
  SourceLocation where;

  const SignalTemplate* FindSignal(std::string_view signal) const;
  std::vector<std::string> SignalNames() const;
};

// ---- Connections and resolved signals. ----

enum class Protocol { kSparkplugB, kMqttJson, kModbusTcp };
std::string_view ProtocolName(Protocol p);

struct SparkplugEndpoint {
  std::string group_id;
  std::string edge_node_id;
  std::string device_id;  //!< "" when the metrics belong to the edge node itself
};
struct MqttEndpoint {
  std::string topic;
};
struct ModbusEndpoint {
  std::string host;
  uint16_t port = 502;
  uint8_t unit_id = 1;
  uint32_t base = 0;  //!< added to each binding's address
};

struct AssetConnection {
  std::optional<SparkplugEndpoint> sparkplug;
  std::optional<MqttEndpoint> mqtt;
  std::optional<ModbusEndpoint> modbus;
};

//! A signal fitted on an asset, with the one source it is read from.
struct Signal {
  SignalTemplate spec;  //!< template after the asset's overrides; spec.source is the resolved one
  Protocol protocol = Protocol::kSparkplugB;
  //! Human-readable source, e.g. "spBv1.0/lyon/DDATA/edge-l1/L1-M01:winding_temp" or
  //! "modbus://10.1.0.5:502/unit/1/hr/40012 int16 x0.1".
  std::string address;
};

struct Asset {
  std::string id;
  std::string name;
  std::string type;
  std::string site, area, line;  //!< ids of the parents
  AssetConnection connection;
  std::vector<Signal> signals;              //!< fitted signals, in template order
  std::vector<std::string> missing;         //!< template signals not fitted on this asset
  std::map<std::string, std::string> tags;  //!< free metadata (manufacturer, criticality, ...)
  SourceLocation where;

  const Signal* FindSignal(std::string_view signal) const;
  bool HasSignal(std::string_view signal) const { return FindSignal(signal) != nullptr; }
};

//! What a line makes: the asset whose good/reject counts are the line's output, and the ideal
//! cycle time (time per part at rated speed) that OEE's performance is measured against.
struct LineProduction {
  std::string output;          //!< id of an asset of this line (e.g. its last conveyor)
  Micros ideal_cycle_time{0};  //!< > 0
  SourceLocation where;
};

struct Line {
  std::string id, name;
  std::vector<Asset> assets;
  //! None: the line gets no OEE (reported as such).
  std::optional<LineProduction> production;
  SourceLocation where;
};
struct Area {
  std::string id, name;
  std::vector<Line> lines;
  SourceLocation where;
};
//! Days of the week, Monday first (ISO 8601): index into Shift::days.
enum class Weekday { kMon = 0, kTue, kWed, kThu, kFri, kSat, kSun };
//! "mon" .. "sun".
std::string_view WeekdayName(Weekday d);

//! A working shift of a site, in the site's local time (its `timezone`). An instance of the shift
//! starts at `start_minute` on each listed day and lasts `duration_minutes()`; when
//! end_minute <= start_minute it ends on the next day (a night shift 22:00-06:00, or 24 h when
//! they are equal). The day is the local day the instance starts on.
struct Shift {
  std::string name;
  int start_minute = 0;        //!< minutes after local midnight, 0..1439
  int end_minute = 0;          //!< minutes after local midnight, 0..1439
  std::array<bool, 7> days{};  //!< indexed by Weekday
  SourceLocation where;

  bool crosses_midnight() const { return end_minute <= start_minute; }
  //! Nominal length in minutes (1..1440); a DST change makes an instance an hour shorter/longer.
  int duration_minutes() const {
    return crosses_midnight() ? end_minute + 1440 - start_minute : end_minute - start_minute;
  }
};

struct Site {
  std::string id, name, timezone;
  //! No two overlap. Empty: the site works 24/7 (the KPIs use one shift named "all").
  std::vector<Shift> shifts;
  std::vector<Area> areas;
  SourceLocation where;
};

// ---- Use cases. ----

enum class UseCaseCategory {
  kPredictiveMaintenance,
  kEnergyPerUnit,
  kAssetTraceability,
  kHvacOptimization,
  kQuality,
  kUserDefined,
};
std::string_view UseCaseCategoryName(UseCaseCategory c);

struct Kpi {
  std::string name;
  std::string unit;
  double baseline = 0;
  double target = 0;
  //! True when the target is below the baseline (e.g. downtime); false for e.g. OEE.
  bool lower_is_better() const { return target < baseline; }
};

struct SignalRequirement {
  std::string asset_type;
  std::string signal;
  std::string unit;  //!< unit the use case needs the signal in; "" = as measured
  SourceLocation where;
};

struct RetrofitOption {
  std::string asset_type;
  std::vector<std::string> signals;  //!< signals one fitted sensor provides
  std::string sensor;
  double cost_per_asset = 0;  //!< in the plant's currency, installed
  SourceLocation where;
};

struct SignOff {
  std::string by;
  std::chrono::sys_days on;
};

//! The three parties the method asks to align on a use case.
enum class Stakeholder { kOt, kIt, kBusiness };
inline constexpr Stakeholder kStakeholders[] = {Stakeholder::kOt, Stakeholder::kIt,
                                                Stakeholder::kBusiness};
std::string_view StakeholderName(Stakeholder s);

//! Which assets a use case covers. Empty lists mean "no restriction"; an asset is in scope when
//! it matches every non-empty list.
struct Asset;
struct Scope {
  std::vector<std::string> sites, areas, lines, assets;
  bool Contains(const Asset& asset) const;
};

struct UseCase {
  std::string id, name, description;
  UseCaseCategory category = UseCaseCategory::kUserDefined;
  std::string category_label;  //!< for user-defined categories
  Scope scope;
  Kpi kpi;
  std::vector<SignalRequirement> requires_signals;
  std::vector<RetrofitOption> retrofits;
  double annual_value = 0;  //!< projected, in the plant's currency per year
  //! The day the use case went live (projection and realised value start there); none: not live.
  std::optional<std::chrono::sys_days> live_from;
  double running_cost = 0;  //!< per year (licences, upkeep), in the plant's currency; >= 0
  //! Overrides Economics::reactive_minutes_per_failure for this use case (>= 0).
  std::optional<double> reactive_minutes_per_failure;
  std::vector<std::string> assumptions;
  std::map<Stakeholder, SignOff> signoffs;
  SourceLocation where;
};

// ---- Plant-wide settings. ----

//! Money in `currency`; energy in kWh.
struct Economics {
  std::string currency = "EUR";
  double energy_price_per_kwh = 0;
  double grid_carbon_kg_per_kwh = 0;
  double labour_rate_per_hour = 0;
  double downtime_cost_per_hour = 0;
  //! Technician minutes a failure costs when it is found reactively (no alert); none: not given.
  std::optional<double> reactive_minutes_per_failure;
};

//! Weights of the priority score (see plan.h); they sum to 1.
struct ScoreWeights {
  double value = 0.40;
  double payback = 0.25;
  double coverage = 0.20;
  double alignment = 0.15;
};

struct PlanningSettings {
  ScoreWeights weights;
  //! A sign-off older than this no longer counts; 0 = sign-offs never expire.
  int signoff_valid_days = 365;
};

struct Plant {
  std::string file;
  std::string enterprise;
  Economics economics;
  PlanningSettings planning;
  std::map<std::string, AssetType> asset_types;  //!< every type in use or declared, by name
  std::vector<Site> sites;
  std::vector<UseCase> use_cases;

  std::vector<const Asset*> AllAssets() const;
  //! nullptr when there is no such id.
  const Site* FindSite(std::string_view id) const;
  const Line* FindLine(std::string_view id) const;
  const Asset* FindAsset(std::string_view id) const;
  //! The site a line or asset belongs to (by the line's or asset's id); nullptr when unknown.
  const Site* SiteOf(std::string_view line_or_asset_id) const;
  //! The use case's reactive_minutes_per_failure, else the economics one; none when neither.
  std::optional<double> ReactiveMinutesPerFailure(const UseCase& use_case) const;
  const AssetType* FindAssetType(std::string_view name) const;
  //! True when `type` is `ancestor` or extends it, directly or not.
  bool IsA(const std::string& type, const std::string& ancestor) const;
  size_t SignalCount() const;
  size_t LineCount() const;
  size_t AreaCount() const;
};

}  // namespace weft::model

#endif  // WEFT_MODEL_PLANT_H_

#include "model/plant_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"
#include "common/status.h"
#include "model/plant.h"

namespace weft::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Every inline document below starts right after `R"(`; the first newline is dropped so that the
// first line of the literal is line 1 of the document. Literals are left-aligned, so the column of
// a character is its position on the line, counting from 1.
std::string Strip(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

// One run of the loader over an inline document named "t.yaml".
struct Load {
  Diagnostics diags;
  Result<Plant> plant;
  explicit Load(std::string_view yaml, bool strip = true)
      : plant(ParsePlant(strip ? Strip(yaml) : std::string(yaml), "t.yaml", &diags)) {}
};

void ExpectDiag(const Diagnostic& d, Severity severity, std::string_view kind, int line, int column,
                std::string_view field, std::string_view phrase) {
  SCOPED_TRACE(d.ToString());
  EXPECT_EQ(d.severity, severity);
  EXPECT_EQ(d.kind, kind);
  EXPECT_EQ(d.location.file, "t.yaml");
  EXPECT_EQ(d.location.line, line);
  EXPECT_EQ(d.location.column, column);
  EXPECT_EQ(d.field, field);
  EXPECT_THAT(d.message, HasSubstr(std::string(phrase)));
}

// The load fails with exactly one diagnostic, an error with these properties.
void ExpectOneError(const Load& l, std::string_view kind, int line, int column,
                    std::string_view field, std::string_view phrase) {
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_FALSE(l.plant.ok());
  EXPECT_EQ(l.plant.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(l.plant.status().message(), HasSubstr("t.yaml: 1 error"));
  ASSERT_EQ(l.diags.all().size(), 1u);
  EXPECT_EQ(l.diags.error_count(), 1u);
  EXPECT_EQ(l.diags.warning_count(), 0u);
  ExpectDiag(l.diags.all()[0], Severity::kError, kind, line, column, field, phrase);
}

// The load succeeds without any diagnostic.
void ExpectClean(const Load& l) {
  EXPECT_TRUE(l.plant.ok()) << l.plant.status().ToString();
  EXPECT_TRUE(l.diags.all().empty()) << l.diags.ToString();
}

// The load fails, with at least one error diagnostic and nothing but well-formed diagnostics.
void ExpectCleanFailure(const Load& l) {
  SCOPED_TRACE(l.diags.ToString());
  EXPECT_FALSE(l.plant.ok());
  EXPECT_GE(l.diags.error_count(), 1u);
  ASSERT_FALSE(l.diags.all().empty());
  for (const Diagnostic& d : l.diags.all()) {
    EXPECT_FALSE(d.kind.empty());
    EXPECT_FALSE(d.message.empty());
    EXPECT_EQ(d.location.file, "t.yaml");
    EXPECT_GE(d.location.line, 1);
    EXPECT_GE(d.location.column, 1);
  }
}

const Diagnostic* FindKind(const Diagnostics& diags, std::string_view kind) {
  for (const Diagnostic& d : diags.all()) {
    if (d.kind == kind) return &d;
  }
  return nullptr;
}

std::vector<std::string> Kinds(const Diagnostics& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.all()) out.push_back(d.kind);
  return out;
}

const Asset* FindAsset(const Plant& plant, std::string_view id) {
  for (const Asset* a : plant.AllAssets()) {
    if (a->id == id) return a;
  }
  return nullptr;
}

const UseCase* FindUseCase(const Plant& plant, std::string_view id) {
  for (const UseCase& u : plant.use_cases) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

std::string SourceDir() {
  const char* dir = std::getenv("WEFT_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

constexpr char kAsset0[] = "sites[0].areas[0].lines[0].assets[0]";

// The minimal valid plant all the error documents below are variations of.
constexpr char kBase[] = R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)";

// =============================================================================================
// 1. The example plant.

TEST(PlantLoader, BaseDocumentIsValid) {
  Load l(kBase);
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Plant& p = *l.plant;
  EXPECT_EQ(p.file, "t.yaml");
  EXPECT_EQ(p.enterprise, "Acme");
  ASSERT_EQ(p.AllAssets().size(), 1u);
  const Asset& m1 = *p.AllAssets()[0];
  EXPECT_EQ(m1.id, "m1");
  EXPECT_EQ(m1.type, "motor");
  EXPECT_EQ(m1.site, "s1");
  EXPECT_EQ(m1.area, "a1");
  EXPECT_EQ(m1.line, "l1");
  EXPECT_EQ(m1.where.line, 12);
  EXPECT_EQ(m1.where.column, 9);
  // The motor's ten signals less bearing_temp_nde, which is `fitted: false`.
  EXPECT_EQ(m1.signals.size(), 9u);
  EXPECT_THAT(m1.missing, ElementsAre("bearing_temp_nde"));
  EXPECT_TRUE(p.use_cases.empty());
}

TEST(PlantLoader, LoadsExamplePlant) {
  const std::string path = SourceDir() + "/examples/plant.yaml";
  Diagnostics diags;
  Result<Plant> plant = LoadPlantFile(path, &diags);
  ASSERT_TRUE(plant.ok()) << plant.status().ToString() << "\n" << diags.ToString();
  EXPECT_EQ(diags.error_count(), 0u);
  EXPECT_EQ(diags.warning_count(), 0u);
  EXPECT_TRUE(diags.all().empty()) << diags.ToString();
  const Plant& p = *plant;

  EXPECT_EQ(p.file, path);
  EXPECT_EQ(p.enterprise, "Vellmar Drive Systems");
  ASSERT_EQ(p.sites.size(), 2u);
  EXPECT_EQ(p.sites[0].id, "lyon");
  EXPECT_EQ(p.sites[0].timezone, "Europe/Paris");
  EXPECT_EQ(p.sites[1].id, "brno");
  EXPECT_EQ(p.AreaCount(), 4u);
  EXPECT_EQ(p.LineCount(), 6u);
  EXPECT_EQ(p.AllAssets().size(), 46u);
  EXPECT_EQ(p.SignalCount(), 467u);

  // A spindle without its vibration sensor.
  const Asset* sp5 = FindAsset(p, "l1-sp-05");
  ASSERT_NE(sp5, nullptr);
  EXPECT_EQ(sp5->type, "cnc_spindle");
  EXPECT_EQ(sp5->name, "Spindle MC-5");
  EXPECT_EQ(sp5->line, "l1-machining");
  EXPECT_EQ(sp5->tags.at("commissioned"), "2008");
  EXPECT_THAT(sp5->missing, ElementsAre("bearing_temp_nde", "vibration_rms"));
  EXPECT_FALSE(sp5->HasSignal("vibration_rms"));
  EXPECT_EQ(sp5->signals.size(), 11u);
  const Signal* load = sp5->FindSignal("spindle_load");
  ASSERT_NE(load, nullptr);
  EXPECT_EQ(load->spec.period, Micros(100ms));
  EXPECT_EQ(load->spec.unit, "%");
  EXPECT_EQ(load->spec.quantity, "ratio");
  EXPECT_EQ(load->spec.min, 0.0);
  EXPECT_EQ(load->spec.max, 150.0);
  // Sparkplug B, metric named after the signal.
  EXPECT_EQ(load->protocol, Protocol::kSparkplugB);
  EXPECT_EQ(load->address, "spBv1.0/lyon/DDATA/edge-l1/l1-sp-05:spindle_load");
  // Inherited from motor, untouched.
  const Signal* winding = sp5->FindSignal("winding_temp");
  ASSERT_NE(winding, nullptr);
  EXPECT_EQ(winding->spec.unit, "degC");
  EXPECT_EQ(winding->spec.period, Micros(1s));
  // vibration_rms overridden to 100 ms on the spindles that have it.
  const Asset* sp1 = FindAsset(p, "l1-sp-01");
  ASSERT_NE(sp1, nullptr);
  ASSERT_TRUE(sp1->HasSignal("vibration_rms"));
  EXPECT_EQ(sp1->FindSignal("vibration_rms")->spec.period, Micros(100ms));
  EXPECT_EQ(sp1->FindSignal("vibration_rms")->spec.unit, "mm/s");

  // A compressor on Modbus: input register 0 of unit 1.
  const Asset* ac1 = FindAsset(p, "lyon-ac-01");
  ASSERT_NE(ac1, nullptr);
  EXPECT_EQ(ac1->type, "compressor_plc");
  EXPECT_THAT(ac1->missing, ElementsAre("dew_point"));
  const Signal* energy = ac1->FindSignal("energy");
  ASSERT_NE(energy, nullptr);
  EXPECT_EQ(energy->protocol, Protocol::kModbusTcp);
  EXPECT_EQ(energy->address, "modbus://10.20.0.31:502/1/input/10");
  ASSERT_TRUE(energy->spec.source.modbus.has_value());
  EXPECT_EQ(energy->spec.source.modbus->table, ModbusTable::kInputRegister);
  EXPECT_EQ(energy->spec.source.modbus->value_type, ModbusValueType::kUint32);
  EXPECT_DOUBLE_EQ(energy->spec.source.modbus->scale, 0.1);
  EXPECT_FALSE(energy->spec.source.sparkplug.has_value());
  EXPECT_EQ(energy->spec.unit, "kWh");                   // from the built-in compressor
  const Signal* vib = ac1->FindSignal("vibration_rms");  // fitted on this one only
  ASSERT_NE(vib, nullptr);
  EXPECT_EQ(vib->address, "modbus://10.20.0.31:502/1/input/8");
  EXPECT_FALSE(FindAsset(p, "lyon-ac-02")->HasSignal("vibration_rms"));

  // An HVAC zone: the zone's base is added to each register.
  const Asset* hz2 = FindAsset(p, "lyon-hz-02");
  ASSERT_NE(hz2, nullptr);
  const Signal* hp = hz2->FindSignal("heat_pump_energy");
  ASSERT_NE(hp, nullptr);
  EXPECT_EQ(hp->address, "modbus://10.20.0.50:502/1/input/26");
  EXPECT_EQ(hp->spec.source.modbus->word_order, WordOrder::kLowFirst);
  EXPECT_EQ(hz2->FindSignal("zone_temp")->address, "modbus://10.20.0.50:502/1/input/16");

  // Brno: JSON over MQTT.
  const Asset* cv = FindAsset(p, "b1-cv-01");
  ASSERT_NE(cv, nullptr);
  const Signal* belt = cv->FindSignal("belt_speed");
  ASSERT_NE(belt, nullptr);
  EXPECT_EQ(belt->protocol, Protocol::kMqttJson);
  EXPECT_EQ(belt->address, "brno/b1/b1-cv-01/telemetry:belt_speed");
  ASSERT_TRUE(belt->spec.source.mqtt.has_value());
  EXPECT_EQ(belt->spec.source.mqtt->field, "belt_speed");
  EXPECT_EQ(cv->site, "brno");

  // Economics.
  EXPECT_EQ(p.economics.currency, "EUR");
  EXPECT_DOUBLE_EQ(p.economics.energy_price_per_kwh, 0.19);
  EXPECT_DOUBLE_EQ(p.economics.grid_carbon_kg_per_kwh, 0.056);
  EXPECT_DOUBLE_EQ(p.economics.labour_rate_per_hour, 68.0);
  EXPECT_DOUBLE_EQ(p.economics.downtime_cost_per_hour, 3200.0);
  EXPECT_DOUBLE_EQ(p.planning.weights.payback, 0.25);
  EXPECT_EQ(p.planning.signoff_valid_days, 365);

  // Asset types: the five built-ins plus the four of the plant.
  EXPECT_EQ(p.asset_types.size(), 9u);
  const AssetType* spindle = p.FindAssetType("cnc_spindle");
  ASSERT_NE(spindle, nullptr);
  EXPECT_EQ(spindle->extends, "motor");
  EXPECT_FALSE(spindle->builtin);
  EXPECT_EQ(spindle->signals.size(), 13u);  // motor's 10 + 3 of its own

  // Use cases.
  ASSERT_EQ(p.use_cases.size(), 6u);
  const UseCase* pdm = FindUseCase(p, "pdm-spindles");
  ASSERT_NE(pdm, nullptr);
  EXPECT_EQ(pdm->category, UseCaseCategory::kPredictiveMaintenance);
  EXPECT_EQ(pdm->kpi.name, "unplanned_downtime");
  EXPECT_EQ(pdm->kpi.unit, "h/year");
  EXPECT_EQ(pdm->kpi.baseline, 96.0);
  EXPECT_EQ(pdm->kpi.target, 40.0);
  EXPECT_TRUE(pdm->kpi.lower_is_better());
  EXPECT_THAT(pdm->scope.lines, ElementsAre("l1-machining"));
  ASSERT_EQ(pdm->requires_signals.size(), 5u);
  EXPECT_EQ(pdm->requires_signals[2].signal, "winding_temp");
  EXPECT_EQ(pdm->requires_signals[2].unit, "K");
  EXPECT_EQ(pdm->requires_signals[0].unit, "");
  ASSERT_EQ(pdm->retrofits.size(), 1u);
  EXPECT_EQ(pdm->retrofits[0].cost_per_asset, 480.0);
  EXPECT_THAT(pdm->retrofits[0].signals, ElementsAre("vibration_rms"));
  EXPECT_EQ(pdm->annual_value, 179200.0);
  EXPECT_EQ(pdm->assumptions.size(), 3u);
  // Sign-offs.
  ASSERT_EQ(pdm->signoffs.size(), 3u);
  EXPECT_EQ(pdm->signoffs.at(Stakeholder::kOt).by, "Claire Martin (maintenance lead)");
  EXPECT_EQ(pdm->signoffs.at(Stakeholder::kOt).on,
            std::chrono::sys_days(std::chrono::year{2026} / 9 / 14));
  EXPECT_EQ(pdm->signoffs.at(Stakeholder::kBusiness).on,
            std::chrono::sys_days(std::chrono::year{2026} / 10 / 20));
  const UseCase* trace = FindUseCase(p, "traceability-l2");
  ASSERT_NE(trace, nullptr);
  // `it: null` is "not signed yet".
  EXPECT_EQ(trace->signoffs.size(), 2u);
  EXPECT_EQ(trace->signoffs.count(Stakeholder::kIt), 0u);
  EXPECT_EQ(trace->signoffs.at(Stakeholder::kOt).on,
            std::chrono::sys_days(std::chrono::year{2025} / 6 / 10));
  const UseCase* comp = FindUseCase(p, "pdm-compressors");
  ASSERT_NE(comp, nullptr);
  EXPECT_EQ(comp->signoffs.size(), 1u);
  EXPECT_TRUE(comp->scope.lines.empty());
  const UseCase* fpy = FindUseCase(p, "first-pass-yield");
  ASSERT_NE(fpy, nullptr);
  EXPECT_EQ(fpy->category, UseCaseCategory::kQuality);
  EXPECT_FALSE(fpy->kpi.lower_is_better());
  EXPECT_TRUE(fpy->retrofits.empty());

  // What the KPIs need: shifts, production, the reactive baseline, go-live and running cost.
  ASSERT_EQ(p.sites[0].shifts.size(), 2u);
  EXPECT_EQ(p.sites[0].shifts[0].name, "early");
  EXPECT_EQ(p.sites[0].shifts[0].start_minute, 6 * 60);
  EXPECT_EQ(p.sites[0].shifts[1].end_minute, 22 * 60);
  EXPECT_TRUE(p.sites[0].shifts[1].days[static_cast<size_t>(Weekday::kFri)]);
  EXPECT_FALSE(p.sites[0].shifts[1].days[static_cast<size_t>(Weekday::kSat)]);
  ASSERT_EQ(p.sites[1].shifts.size(), 3u);
  const Shift& night = p.sites[1].shifts[2];
  EXPECT_EQ(night.name, "night");
  EXPECT_TRUE(night.crosses_midnight());
  EXPECT_EQ(night.duration_minutes(), 8 * 60);
  const Line* l2 = p.FindLine("l2-assembly");
  ASSERT_NE(l2, nullptr);
  ASSERT_TRUE(l2->production.has_value());
  EXPECT_EQ(l2->production->output, "l2-cv-05");
  EXPECT_EQ(l2->production->ideal_cycle_time, Micros(30s));
  EXPECT_EQ(p.FindLine("b1-packaging")->production->output, "b1-cv-04");
  EXPECT_EQ(p.FindLine("l1-machining")->production->output, "l1-cv-03");
  EXPECT_FALSE(p.FindLine("lyon-air")->production.has_value());
  EXPECT_EQ(p.SiteOf("b1-cv-04"), &p.sites[1]);
  EXPECT_EQ(p.economics.reactive_minutes_per_failure, 240.0);
  EXPECT_EQ(pdm->live_from, std::chrono::sys_days(std::chrono::year{2026} / 11 / 1));
  EXPECT_EQ(pdm->running_cost, 9000.0);
  EXPECT_EQ(p.ReactiveMinutesPerFailure(*pdm), 300.0);   // its own
  EXPECT_EQ(p.ReactiveMinutesPerFailure(*comp), 240.0);  // the plant's
  EXPECT_EQ(trace->live_from, std::nullopt);             // not live
  for (const UseCase& uc : p.use_cases) EXPECT_GT(uc.running_cost, 0) << uc.id;
}

TEST(PlantLoader, MissingFileIsNotFound) {
  Diagnostics diags;
  Result<Plant> plant = LoadPlantFile(SourceDir() + "/examples/no-such-plant.yaml", &diags);
  ASSERT_FALSE(plant.ok());
  EXPECT_EQ(plant.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(plant.status().message(), HasSubstr("no-such-plant.yaml"));
  EXPECT_TRUE(diags.all().empty());
}

// =============================================================================================
// 2. Every diagnostic kind, at its exact place.

TEST(PlantLoader, YamlSyntax) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kYamlSyntax, 2, 25, "", "YAML syntax error");
}

TEST(PlantLoader, InputTooLarge) {
  std::string big(kMaxPlantFileBytes + 1, '#');
  auto start = std::chrono::steady_clock::now();
  Load l(big, /*strip=*/false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 1s);
  ExpectOneError(l, plant_error::kInputTooLarge, 1, 1, "",
                 "the file has 33554433 bytes; the limit is 33554432");
}

TEST(PlantLoader, InputTooLargeFileIsRefusedBeforeReading) {
  // A sparse file: 40 MB long, nothing written.
  const std::filesystem::path path =
      std::filesystem::path(testing::TempDir()) / "plant_loader_test_huge.yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out.good());
  }
  std::filesystem::resize_file(path, uintmax_t{40} << 20);
  Diagnostics diags;
  auto start = std::chrono::steady_clock::now();
  Result<Plant> plant = LoadPlantFile(path.string(), &diags);
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::filesystem::remove(path);
  EXPECT_LT(elapsed, 1s);
  ASSERT_FALSE(plant.ok());
  EXPECT_EQ(plant.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(diags.all().size(), 1u) << diags.ToString();
  EXPECT_EQ(diags.all()[0].kind, plant_error::kInputTooLarge);
  EXPECT_EQ(diags.all()[0].location.file, path.string());
  EXPECT_THAT(diags.all()[0].message, HasSubstr("the file has 41943040 bytes"));
}

TEST(PlantLoader, WrongType) {
  Load l(R"(
weft: 1
enterprise: {name: [Acme]}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kWrongType, 2, 20, "enterprise.name",
                 "expected a text value, got a list");
}

TEST(PlantLoader, WrongTypeListExpected) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets: m1
)");
  ExpectOneError(l, plant_error::kWrongType, 11, 15, "sites[0].areas[0].lines[0].assets",
                 "expected a list (lines starting with '- '), got 'm1'");
}

TEST(PlantLoader, WrongTypeNullValueIsReportedAtTheKey) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type:
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kWrongType, 13, 9, std::string(kAsset0) + ".type",
                 "expected a text value, got nothing (null)");
}

TEST(PlantLoader, MissingField) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kMissingField, 12, 9, std::string(kAsset0) + ".type",
                 "missing required field 'type'");
}

TEST(PlantLoader, SignalWithoutNameIsAMissingField) {
  // The loader peeks at each signal's name; the peek must not add a `name` key to the document.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {unit: kW, quantity: power}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets: []
)");
  ExpectOneError(l, plant_error::kMissingField, 8, 7, "asset_types.meter.signals[0].name",
                 "missing required field 'name'");
}

TEST(PlantLoader, UnknownField) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        nane: Motor 1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnknownField, 13, 9, std::string(kAsset0) + ".nane",
                 "unknown field 'nane' (did you mean 'name'?)");
}

TEST(PlantLoader, DuplicateKey) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        type: pump
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kDuplicateKey, 14, 9, std::string(kAsset0) + ".type",
                 "field 'type' appears twice in this mapping; the first is at line 13");
}

TEST(PlantLoader, DuplicateKeyNamesTheLineOfTheFirstKey) {
  // "the first is at line N" names the line of the first key, not of its value.
  Load l(R"(
weft: 1
enterprise:
  name: Acme
enterprise:
  name: Acme
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets: []
)");
  ExpectOneError(l, plant_error::kDuplicateKey, 4, 1, "enterprise",
                 "field 'enterprise' appears twice in this mapping; the first is at line 2");
}

TEST(PlantLoader, DuplicateId) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
      - id: m1
        type: pump
        connection: {mqtt: {topic: t/m2}}
)");
  ExpectOneError(l, plant_error::kDuplicateId, 15, 13, "sites[0].areas[0].lines[0].assets[1].id",
                 "duplicate asset id 'm1'; the asset at line 12 has it already");
}

TEST(PlantLoader, DuplicateIdAcrossKinds) {
  // Ids are unique per kind across the whole plant: a line id reused in another area.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets: []
  - id: a2
    lines:
    - id: l1
      assets: []
)");
  ExpectOneError(l, plant_error::kDuplicateId, 14, 11, "sites[0].areas[1].lines[0].id",
                 "duplicate line id 'l1'; the line at line 10 has it already");
}

TEST(PlantLoader, IdsAreUniqueAcrossKinds) {
  // Site, area, line and asset ids share one namespace: an asset cannot reuse its site's id.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: s1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kDuplicateId, 12, 13, std::string(kAsset0) + ".id",
                 "the site at line 6 has it already");
}

TEST(PlantLoader, DuplicateSignal) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
        missing: [voltage, voltage]
)");
  ExpectOneError(l, plant_error::kDuplicateSignal, 15, 28, std::string(kAsset0) + ".missing[1]",
                 "signal 'voltage' is already listed under missing or fitted");
}

TEST(PlantLoader, DuplicateSignalInAssetType) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power}
    - {name: p, unit: W, quantity: power}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kDuplicateSignal, 9, 7, "asset_types.meter.signals[1]",
                 "signal 'p' is listed twice");
}

TEST(PlantLoader, InvalidValue) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m/1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kInvalidValue, 12, 13, std::string(kAsset0) + ".id",
                 "invalid asset id 'm/1'; expected 1-128 characters from A-Z a-z 0-9 _ - .");
}

TEST(PlantLoader, InvalidValueModbusTableWithHint) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: current, source: {modbus: {table: holdng, address: 3}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kInvalidValue, 9, 48,
                 "asset_types.drive.signals[0].source.modbus.table",
                 "unknown Modbus table 'holdng' (did you mean 'holding'?)");
}

TEST(PlantLoader, InvalidValueKpiTargetEqualsBaseline) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 10}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectOneError(l, plant_error::kInvalidValue, 19, 61, "use_cases[0].kpi.target",
                 "the KPI target equals its baseline");
}

TEST(PlantLoader, InvalidRange) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: current, range: [10, 5]}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kInvalidRange, 9, 30, "asset_types.drive.signals[0].range",
                 "the range's min must be below its max");
}

TEST(PlantLoader, UnsupportedVersion) {
  Load l(R"(
weft: 2
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnsupportedVersion, 1, 7, "weft",
                 "plant.yaml schema version 2 is not supported; this weft reads version 1");
}

TEST(PlantLoader, UnknownAssetType) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: moter
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnknownAssetType, 13, 15, std::string(kAsset0) + ".type",
                 "unknown asset type 'moter' (did you mean 'motor'?)");
}

TEST(PlantLoader, UnknownAssetTypeInExtends) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: pumb
    signals:
    - {name: x, unit: kW, quantity: power}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnknownAssetType, 7, 14, "asset_types.drive.extends",
                 "unknown asset type 'pumb' (did you mean 'pump'?)");
}

TEST(PlantLoader, ExtendsCycle) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  a:
    extends: b
    signals:
    - {name: x, unit: kW, quantity: power}
  b:
    extends: a
    signals:
    - {name: y, unit: kW, quantity: power}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kExtendsCycle, 11, 14, "asset_types.b.extends",
                 "asset type 'b' extends 'a', which extends it back");
}

TEST(PlantLoader, ExtendsItself) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  a:
    extends: a
    signals:
    - {name: x, unit: kW, quantity: power}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kExtendsCycle, 7, 14, "asset_types.a.extends",
                 "asset type 'a' cannot extend itself");
}

TEST(PlantLoader, UnknownSignal) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
        missing: [curent]
)");
  ExpectOneError(l, plant_error::kUnknownSignal, 15, 19, std::string(kAsset0) + ".missing[0]",
                 "asset type 'motor' has no signal 'curent' (did you mean 'current'?)");
}

TEST(PlantLoader, UnknownSignalInRequirement) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: vibration}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectOneError(l, plant_error::kUnknownSignal, 21, 33, "use_cases[0].requires[0].signal",
                 "asset type 'motor' has no signal 'vibration'");
}

TEST(PlantLoader, UnknownUnit) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: energy, unit: kwh}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnknownUnit, 9, 28, "asset_types.drive.signals[0].unit",
                 "unknown unit symbol 'kwh' in 'kwh'; did you mean 'kWh'?");
}

TEST(PlantLoader, UnknownQuantity) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: energy, quantity: enrgy}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnknownQuantity, 9, 32, "asset_types.drive.signals[0].quantity",
                 "unknown quantity 'enrgy'");
  EXPECT_THAT(l.diags.all().at(0).message, HasSubstr("did you mean 'energy'?"));
}

TEST(PlantLoader, UnitNotConvertible) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: energy, unit: kW}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectOneError(l, plant_error::kUnitNotConvertible, 9, 28, "asset_types.drive.signals[0].unit",
                 "unit 'kW' measures power and is not convertible to quantity 'energy'");
}

TEST(PlantLoader, MissingBinding) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 0}}}
    - {name: e, unit: kWh, quantity: energy}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: meter
        connection: {modbus: {host: plc}}
)");
  ExpectOneError(l, plant_error::kMissingBinding, 17, 9, std::string(kAsset0),
                 "signal 'e' has no Modbus register, and the asset is connected by Modbus only");
  // The message points at the template that lacks the register.
  EXPECT_THAT(l.diags.all().at(0).message, HasSubstr("asset type 'meter'"));
  EXPECT_THAT(l.diags.all().at(0).message, HasSubstr("t.yaml:9"));
}

TEST(PlantLoader, RegisterOverlap) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 0, type: uint32}}}
    - {name: q, unit: kW, quantity: power, source: {modbus: {address: 1}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: meter
        connection: {modbus: {host: plc, base: 100}}
)");
  ExpectOneError(l, plant_error::kRegisterOverlap, 17, 9, std::string(kAsset0),
                 "signal 'q' reads holding register 101 of plc:502/1, which m1.p reads too");
}

TEST(PlantLoader, RegistersOfDifferentTablesDoNotOverlap) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 0, type: uint32}}}
    - {name: q, unit: kW, quantity: power, source: {modbus: {table: input, address: 1}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: meter
        connection: {modbus: {host: plc}}
)");
  ExpectClean(l);
}

TEST(PlantLoader, UnknownReference) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  scope: {lines: [l1, l2]}
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectOneError(l, plant_error::kUnknownReference, 19, 23, "use_cases[0].scope.lines[1]",
                 "no line has id 'l2' (did you mean 'l1'?)");
}

TEST(PlantLoader, NoAssumptionsIsAWarning) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_TRUE(l.plant.ok()) << l.plant.status().ToString();
  EXPECT_EQ(l.diags.error_count(), 0u);
  EXPECT_EQ(l.diags.warning_count(), 1u);
  ASSERT_EQ(l.diags.all().size(), 1u);
  ExpectDiag(l.diags.all()[0], Severity::kWarning, plant_error::kNoAssumptions, 16, 3,
             "use_cases[0].assumptions",
             "use case 'uc1' states no assumptions behind its projected value");
  ASSERT_EQ(l.plant->use_cases.size(), 1u);
  EXPECT_TRUE(l.plant->use_cases[0].assumptions.empty());
}

TEST(PlantLoader, NothingInScopeIsAWarning) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  - {asset_type: pump, signal: flow}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_TRUE(l.plant.ok()) << l.plant.status().ToString();
  EXPECT_EQ(l.diags.error_count(), 0u);
  ASSERT_EQ(l.diags.all().size(), 1u);
  const Diagnostic& d = l.diags.all()[0];
  EXPECT_EQ(d.severity, Severity::kWarning);
  EXPECT_EQ(d.kind, plant_error::kNothingInScope);
  EXPECT_EQ(d.location.line, 22);
  EXPECT_EQ(d.location.column, 5);
  EXPECT_THAT(d.message,
              HasSubstr("no asset of type 'pump' is in the scope of use case 'uc1': its coverage "
                        "of flow is 0 of 0"));
  EXPECT_EQ(l.plant->use_cases.at(0).requires_signals.size(), 2u);
}

TEST(PlantLoader, NothingInScopeFieldPathNamesTheRequirement) {
  // The nothing_in_scope warning names the requirement's own path, requires[1].
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  - {asset_type: pump, signal: flow}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ASSERT_TRUE(l.plant.ok()) << l.plant.status().ToString();
  ASSERT_EQ(l.diags.all().size(), 1u) << l.diags.ToString();
  ExpectDiag(l.diags.all()[0], Severity::kWarning, plant_error::kNothingInScope, 22, 5,
             "use_cases[0].requires[1]", "no asset of type 'pump'");
}

TEST(PlantLoader, NothingInScopeRespectsScopeAndInheritance) {
  // The only motor is a `drive` (which extends motor) on line l1; the use case covers line l2.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive: {extends: motor}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: d1, type: drive, connection: {mqtt: {topic: t/d1}}}
    - id: l2
      assets:
      - {id: p1, type: pump, connection: {mqtt: {topic: t/p1}}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
- id: uc2
  name: Less downtime on l2
  category: predictive_maintenance
  scope: {lines: [l2]}
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  - {asset_type: pump, signal: flow}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_TRUE(l.plant.ok()) << l.plant.status().ToString();
  // uc1: the drive counts as a motor. uc2: the drive is out of scope, the pump is in.
  ASSERT_EQ(l.diags.all().size(), 1u);
  EXPECT_EQ(l.diags.all()[0].kind, plant_error::kNothingInScope);
  EXPECT_EQ(l.diags.all()[0].location.line, 33);
  EXPECT_THAT(l.diags.all()[0].message, HasSubstr("use case 'uc2'"));
}

// =============================================================================================
// 3. All problems of a document in one run.

TEST(PlantLoader, ReportsEveryErrorInOneRun) {
  Load l(R"(
weft: 2
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kwh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: moter
        connection: {mqtt: {topic: t/m1}}
      - id: m2
        type: motor
        connection: {mqtt: {topic: t/m2}}
        missing: [curent]
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_FALSE(l.plant.ok());
  EXPECT_THAT(l.plant.status().message(), HasSubstr("t.yaml: 4 errors"));
  ASSERT_EQ(l.diags.all().size(), 4u);
  EXPECT_EQ(l.diags.error_count(), 4u);
  const auto& d = l.diags.all();
  ExpectDiag(d[0], Severity::kError, plant_error::kUnsupportedVersion, 1, 7, "weft",
             "schema version 2");
  ExpectDiag(d[1], Severity::kError, plant_error::kUnknownUnit, 3, 42, "economics.energy_price",
             "unknown unit symbol 'kwh'");
  ExpectDiag(d[2], Severity::kError, plant_error::kUnknownAssetType, 13, 15,
             std::string(kAsset0) + ".type", "unknown asset type 'moter'");
  ExpectDiag(d[3], Severity::kError, plant_error::kUnknownSignal, 18, 19,
             "sites[0].areas[0].lines[0].assets[1].missing[0]", "no signal 'curent'");
}

TEST(PlantLoader, DiagnosticsComeInDocumentOrder) {
  // Sites are checked before the asset types they use and use cases after; the report is still
  // in the order of the file, which here declares its types last.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenanse
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: moter
        connection: {mqtt: {topic: t/m1}}
      - {id: m2, type: motor, connection: {mqtt: {topic: t/m2}}}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: current, range: [10, 5]}
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_FALSE(l.plant.ok());
  EXPECT_EQ(Kinds(l.diags),
            (std::vector<std::string>{plant_error::kInvalidValue, plant_error::kUnknownAssetType,
                                      plant_error::kInvalidRange}));
  ASSERT_EQ(l.diags.all().size(), 3u);
  ExpectDiag(l.diags.all()[0], Severity::kError, plant_error::kInvalidValue, 8, 13,
             "use_cases[0].category",
             "unknown category 'predictive_maintenanse' (did you mean 'predictive_maintenance'?)");
  EXPECT_EQ(l.diags.all()[1].location.line, 22);
  EXPECT_EQ(l.diags.all()[2].location.line, 29);
}

// =============================================================================================
// 4. Unit conversions of the economics and of requirements.

// A plant whose `economics:` value is `economics` (on line 3, starting at column 12).
std::string WithEconomics(std::string_view economics) {
  return "weft: 1\n"
         "enterprise: {name: Acme}\n"
         "economics: " +
         std::string(economics) +
         "\n"
         "sites:\n"
         "- id: s1\n"
         "  areas:\n"
         "  - id: a1\n"
         "    lines:\n"
         "    - id: l1\n"
         "      assets: []\n";
}

TEST(PlantLoader, EconomicsConvertedToPlantUnits) {
  Load l(WithEconomics("{currency: EUR, energy_price: 190 EUR/MWh, grid_carbon_factor: 56 "
                       "gCO2e/kWh, labour_rate: 1.5 EUR/min, downtime_cost: 3.2 kEUR/h}"),
         false);
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Economics& e = l.plant->economics;
  EXPECT_EQ(e.currency, "EUR");
  EXPECT_NEAR(e.energy_price_per_kwh, 0.19, 1e-12);
  EXPECT_NEAR(e.grid_carbon_kg_per_kwh, 0.056, 1e-12);
  EXPECT_NEAR(e.labour_rate_per_hour, 90.0, 1e-9);
  EXPECT_NEAR(e.downtime_cost_per_hour, 3200.0, 1e-9);
}

TEST(PlantLoader, EconomicsInAnotherCurrency) {
  Load l(WithEconomics("{currency: USD, energy_price: 0.2 USD/kWh, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 USD/h, downtime_cost: 1 kUSD/h}"),
         false);
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  EXPECT_EQ(l.plant->economics.currency, "USD");
  EXPECT_NEAR(l.plant->economics.downtime_cost_per_hour, 1000.0, 1e-9);
}

TEST(PlantLoader, EconomicsInTheWrongCurrency) {
  // The mapping starts at column 12 and "{currency: EUR, energy_price: " is 30 characters long,
  // so the value starts at column 42.
  Load l(WithEconomics("{currency: EUR, energy_price: 0.2 USD/kWh, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kUnitNotConvertible, 3, 42, "economics.energy_price",
                 "unit 'USD/kWh' is not convertible to EUR/kWh");
}

TEST(PlantLoader, EconomicsInTheWrongDimension) {
  Load l(WithEconomics("{currency: EUR, energy_price: 0.2 EUR/kW, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kUnitNotConvertible, 3, 42, "economics.energy_price",
                 "unit 'EUR/kW' is not convertible to EUR/kWh");
}

TEST(PlantLoader, EconomicsNumberWithoutUnit) {
  Load l(WithEconomics("{currency: EUR, energy_price: 0.2, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kWrongType, 3, 42, "economics.energy_price",
                 "expected a value with a unit, e.g. '0.18 EUR/kWh', got '0.2'");
}

TEST(PlantLoader, EconomicsUnknownCurrency) {
  Load l(WithEconomics("{currency: EURO, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kInvalidValue, 3, 23, "economics.currency",
                 "unknown currency 'EURO'");
}

TEST(PlantLoader, EconomicsValueWithTrailingSpace) {
  // A value whose unit part is empty ("0.2 ") is a number without a unit, reported at the value.
  Load l(WithEconomics("{currency: EUR, energy_price: \"0.2 \", grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kWrongType, 3, 42, "economics.energy_price",
                 "expected a value with a unit");
}

TEST(PlantLoader, EconomicsNegativeValueIsReportedAtTheValue) {
  // A negative economic figure is reported at the value, with its path.
  Load l(WithEconomics("{currency: EUR, energy_price: -0.2 EUR/kWh, grid_carbon_factor: 0.4 "
                       "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}"),
         false);
  ExpectOneError(l, plant_error::kInvalidValue, 3, 42, "economics.energy_price",
                 "expected a value of 0 or more");
}

TEST(PlantLoader, RequirementUnitConvertible) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: winding_temp, unit: K}
  - {asset_type: motor, signal: energy, unit: MJ}
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  ASSERT_EQ(l.plant->use_cases.size(), 1u);
  const auto& req = l.plant->use_cases[0].requires_signals;
  ASSERT_EQ(req.size(), 3u);
  EXPECT_EQ(req[0].signal, "winding_temp");
  EXPECT_EQ(req[0].unit, "K");
  EXPECT_EQ(req[1].unit, "MJ");
  EXPECT_EQ(req[2].unit, "");
  EXPECT_EQ(req[0].where.line, 21);
  EXPECT_EQ(req[0].where.column, 5);
}

TEST(PlantLoader, RequirementUnitNotConvertible) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: winding_temp, unit: bar}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectOneError(l, plant_error::kUnitNotConvertible, 21, 53, "use_cases[0].requires[0].unit",
                 "the use case needs motor.winding_temp in 'bar' (pressure), but it is measured "
                 "in 'degC' (temperature)");
}

TEST(PlantLoader, KpiUnknownUnit) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
use_cases:
- id: uc1
  name: Less downtime
  category: predictive_maintenance
  kpi: {name: downtime, unit: hours/yr, baseline: 10, target: 5}
  requires:
  - {asset_type: motor, signal: current}
  annual_value: 1000
  assumptions: [fewer stops]
)");
  ExpectOneError(l, plant_error::kUnknownUnit, 19, 31, "use_cases[0].kpi.unit",
                 "unknown unit symbol");
}

// =============================================================================================
// 5. Semantics: inheritance, fitted/missing, bindings.

TEST(PlantLoader, ExtendsInheritsSignalsAndOverridesOneField) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  fast_motor:
    extends: motor
    signals:
    - {name: current, period: 100ms}
    - {name: torque, unit: Nm, quantity: torque, range: [0, 500]}
  faster_motor:
    extends: fast_motor
    description: Even faster
    signals:
    - {name: voltage, period: 250ms}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: faster_motor
        connection: {mqtt: {topic: t/m1}}
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const AssetType& motor = BuiltinAssetTypes().at("motor");
  const AssetType* fast = l.plant->FindAssetType("fast_motor");
  ASSERT_NE(fast, nullptr);
  EXPECT_EQ(fast->extends, "motor");
  EXPECT_FALSE(fast->builtin);
  EXPECT_EQ(fast->description, motor.description);
  ASSERT_EQ(fast->signals.size(), motor.signals.size() + 1);
  // Same order as the parent, the new signal last.
  EXPECT_EQ(fast->SignalNames().back(), "torque");
  for (size_t i = 0; i < motor.signals.size(); ++i) {
    EXPECT_EQ(fast->signals[i].name, motor.signals[i].name);
  }
  const SignalTemplate* current = fast->FindSignal("current");
  const SignalTemplate* base_current = motor.FindSignal("current");
  ASSERT_NE(current, nullptr);
  ASSERT_NE(base_current, nullptr);
  EXPECT_EQ(current->period, Micros(100ms));
  EXPECT_EQ(base_current->period, Micros(1s));  // the parent is untouched
  EXPECT_EQ(current->unit, "A");
  EXPECT_EQ(current->quantity, "current");
  EXPECT_EQ(current->min, 0.0);
  EXPECT_EQ(current->max, 2000.0);
  EXPECT_EQ(current->where.line, 9);  // where the override is

  const AssetType* faster = l.plant->FindAssetType("faster_motor");
  ASSERT_NE(faster, nullptr);
  EXPECT_EQ(faster->extends, "fast_motor");
  EXPECT_EQ(faster->description, "Even faster");
  EXPECT_EQ(faster->FindSignal("current")->period, Micros(100ms));  // grandparent override kept
  EXPECT_EQ(faster->FindSignal("voltage")->period, Micros(250ms));
  EXPECT_EQ(faster->FindSignal("voltage")->unit, "V");
  EXPECT_NE(faster->FindSignal("torque"), nullptr);

  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->type, "faster_motor");
  EXPECT_EQ(m1->signals.size(), 10u);  // 11 templates less bearing_temp_nde
  EXPECT_EQ(m1->FindSignal("current")->spec.period, Micros(100ms));
  EXPECT_EQ(m1->FindSignal("torque")->address, "t/m1:torque");
}

TEST(PlantLoader, AssetFittedAndMissing) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
        fitted: [bearing_temp_nde]
      - id: m2
        type: motor
        connection: {mqtt: {topic: t/m2}}
        missing: [voltage]
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->signals.size(), 10u);
  EXPECT_TRUE(m1->missing.empty());
  ASSERT_TRUE(m1->HasSignal("bearing_temp_nde"));
  EXPECT_EQ(m1->signals[2].spec.name, "bearing_temp_nde");  // template order
  EXPECT_EQ(m1->FindSignal("bearing_temp_nde")->address, "t/m1:bearing_temp_nde");
  const Asset* m2 = FindAsset(*l.plant, "m2");
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(m2->signals.size(), 8u);
  EXPECT_FALSE(m2->HasSignal("voltage"));
  EXPECT_FALSE(m2->HasSignal("bearing_temp_nde"));
  EXPECT_THAT(m2->missing, ElementsAre("bearing_temp_nde", "voltage"));
}

TEST(PlantLoader, AssetSignalsOverrideModbusRegister) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 0, scale: 0.1}}}
    - {name: e, unit: kWh, quantity: energy, source: {modbus: {address: 1, type: uint32}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: meter
        connection: {modbus: {host: 10.0.0.7, port: 5020, unit: 3, base: 100}}
        signals:
        - {name: e, source: {modbus: {table: input, address: 40, type: float32}}}
      - id: m2
        type: meter
        connection: {modbus: {host: 10.0.0.8}}
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  ASSERT_EQ(m1->signals.size(), 2u);
  const Signal& p = m1->signals[0];
  EXPECT_EQ(p.protocol, Protocol::kModbusTcp);
  EXPECT_EQ(p.address, "modbus://10.0.0.7:5020/3/holding/100");
  EXPECT_DOUBLE_EQ(p.spec.source.modbus->scale, 0.1);
  const Signal& e = m1->signals[1];
  EXPECT_EQ(e.spec.name, "e");
  EXPECT_EQ(e.address, "modbus://10.0.0.7:5020/3/input/140");
  EXPECT_EQ(e.spec.source.modbus->table, ModbusTable::kInputRegister);
  EXPECT_EQ(e.spec.source.modbus->value_type, ModbusValueType::kFloat32);
  EXPECT_EQ(e.spec.unit, "kWh");  // the rest of the template is kept
  // The other asset of the type keeps the template's register.
  const Asset* m2 = FindAsset(*l.plant, "m2");
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(m2->FindSignal("e")->address, "modbus://10.0.0.8:502/1/holding/1");
  EXPECT_EQ(m2->FindSignal("e")->spec.source.modbus->value_type, ModbusValueType::kUint32);
  // The type itself is unchanged.
  EXPECT_EQ(l.plant->FindAssetType("meter")->FindSignal("e")->source.modbus->address, 1u);
}

TEST(PlantLoader, SparkplugMetricDefaultsToSignalName) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: current, source: {sparkplug: {metric: Drive/Current}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: drive
        connection: {sparkplug: {group: g1, node: edge-1, device: dev-1}}
      - id: m2
        type: motor
        connection: {sparkplug: {group: g1, node: edge-1}}
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  const Signal* voltage = m1->FindSignal("voltage");
  ASSERT_NE(voltage, nullptr);
  EXPECT_EQ(voltage->protocol, Protocol::kSparkplugB);
  ASSERT_TRUE(voltage->spec.source.sparkplug.has_value());
  EXPECT_EQ(voltage->spec.source.sparkplug->metric, "voltage");
  EXPECT_EQ(voltage->address, "spBv1.0/g1/DDATA/edge-1/dev-1:voltage");
  EXPECT_EQ(m1->FindSignal("current")->address, "spBv1.0/g1/DDATA/edge-1/dev-1:Drive/Current");
  // Without a device the metrics are the edge node's own.
  const Asset* m2 = FindAsset(*l.plant, "m2");
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(m2->FindSignal("voltage")->address, "spBv1.0/g1/NDATA/edge-1:voltage");
}

TEST(PlantLoader, ModbusPreferredThenSparkplugForTheRest) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  drive:
    extends: motor
    signals:
    - {name: current, source: {modbus: {address: 7}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: drive
        connection: {modbus: {host: plc}, sparkplug: {group: g1, node: edge-1}}
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  const Signal* current = m1->FindSignal("current");
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->protocol, Protocol::kModbusTcp);
  EXPECT_EQ(current->address, "modbus://plc:502/1/holding/7");
  EXPECT_FALSE(current->spec.source.sparkplug.has_value());
  const Signal* voltage = m1->FindSignal("voltage");
  ASSERT_NE(voltage, nullptr);
  EXPECT_EQ(voltage->protocol, Protocol::kSparkplugB);
  EXPECT_FALSE(voltage->spec.source.modbus.has_value());
}

TEST(PlantLoader, MissingBindingNamesEachUnboundSignal) {
  // A motor on Modbus only: none of its templates has a register; one error per fitted signal,
  // naming it. Listing signals as missing removes their errors.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {modbus: {host: plc}}
        missing: [winding_temp, bearing_temp_de, vibration_rms, current, voltage, power, speed]
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_FALSE(l.plant.ok());
  ASSERT_EQ(l.diags.all().size(), 2u);
  ExpectDiag(l.diags.all()[0], Severity::kError, plant_error::kMissingBinding, 12, 9,
             std::string(kAsset0), "signal 'energy' has no Modbus register");
  ExpectDiag(l.diags.all()[1], Severity::kError, plant_error::kMissingBinding, 12, 9,
             std::string(kAsset0), "signal 'running' has no Modbus register");
  EXPECT_THAT(l.diags.all()[0].message, HasSubstr("asset type 'motor'"));
}

TEST(PlantLoader, NoConnectionIsOneErrorPerAsset) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
)");
  ExpectOneError(l, plant_error::kMissingBinding, 12, 9, std::string(kAsset0),
                 "asset 'm1' has fitted signals but no connection");
}

TEST(PlantLoader, InvalidConnectionIsNotReportedAsNoConnection) {
  // A connection with an error is reported once; no knock-on "no connection" error follows.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {sparkplug: {group: g}}
)");
  ExpectOneError(l, plant_error::kMissingField, 14, 33,
                 std::string(kAsset0) + ".connection.sparkplug.node",
                 "missing required field 'node'");
}

TEST(PlantLoader, NoConnectionIsFineWhenNothingIsFitted) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  spare:
    signals:
    - {name: x, unit: kW, quantity: power, fitted: false}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: spare
)");
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const Asset* m1 = FindAsset(*l.plant, "m1");
  ASSERT_NE(m1, nullptr);
  EXPECT_TRUE(m1->signals.empty());
  EXPECT_THAT(m1->missing, ElementsAre("x"));
}

TEST(PlantLoader, ModbusRegisterPastTheEndOfTheTable) {
  // A binding's own address is checked against 65535...
  Load direct(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 65535, type: uint32}}}
    - {name: q, unit: kW, quantity: power, source: {modbus: {address: 65535}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets: []
)");
  ExpectOneError(direct, plant_error::kInvalidValue, 8, 71,
                 "asset_types.meter.signals[0].source.modbus.address",
                 "a uint32 at this address runs past register 65535");
}

TEST(PlantLoader, ModbusBasePlusAddressPastTheEndOfTheTable) {
  // base + address must stay within the 65536 registers of a Modbus table.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  meter:
    signals:
    - {name: p, unit: kW, quantity: power, source: {modbus: {address: 10}}}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: meter
        connection: {modbus: {host: plc, base: 65530}}
)");
  SCOPED_TRACE(l.diags.ToString());
  EXPECT_FALSE(l.plant.ok());
  EXPECT_EQ(l.diags.error_count(), 1u);
  EXPECT_EQ(Kinds(l.diags), std::vector<std::string>{plant_error::kInvalidValue});
  if (l.plant.ok()) {
    EXPECT_EQ(FindAsset(*l.plant, "m1")->signals.at(0).address, "modbus://plc:502/1/holding/65540")
        << "(documents what the loader does today)";
  }
}

TEST(PlantLoader, MqttTopicWithNulIsRejected) {
  // MQTT forbids NUL (and the loader all control characters) in topic names.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - id: m1
        type: motor
        connection: {mqtt: {topic: "t/\0m1"}}
)");
  ExpectOneError(l, plant_error::kInvalidValue, 14, 36,
                 std::string(kAsset0) + ".connection.mqtt.topic", "topic");
}

// =============================================================================================
// 6. Robustness: bad input ends in diagnostics, quickly, never in a crash.

TEST(PlantLoader, EmptyDocument) {
  Load l("");
  ExpectOneError(l, plant_error::kWrongType, 1, 1, "", "the file is empty");
}

TEST(PlantLoader, CommentOnlyDocument) {
  Load l("# nothing here\n\n");
  ExpectOneError(l, plant_error::kWrongType, 1, 1, "", "the file is empty");
}

TEST(PlantLoader, ScalarDocument) {
  Load l("hello\n");
  ExpectOneError(l, plant_error::kWrongType, 1, 1, "",
                 "expected a mapping (key: value lines), got 'hello'");
}

TEST(PlantLoader, ListDocument) {
  Load l("- weft: 1\n- sites: []\n");
  ExpectOneError(l, plant_error::kWrongType, 1, 1, "",
                 "expected a mapping (key: value lines), got a list");
}

TEST(PlantLoader, DeeplyNestedFlowSequences) {
  auto start = std::chrono::steady_clock::now();
  Load deep(std::string(5000, '['), false);
  Load balanced("sites: " + std::string(5000, '[') + std::string(5000, ']') + "\n", false);
  Load block(
      [] {
        std::string s = "sites:\n";
        for (int i = 0; i < 3000; ++i) s += std::string(static_cast<size_t>(i) * 2, ' ') + "- a:\n";
        return s;
      }(),
      false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 2s);
  for (const Load* l : {&deep, &balanced, &block}) {
    ExpectCleanFailure(*l);
    EXPECT_EQ(l->diags.all().at(0).kind, plant_error::kYamlSyntax);
  }
}

TEST(PlantLoader, DeepNestingMessageSaysWhatIsWrong) {
  // yaml-cpp stops at 500 levels of nesting; the message says so.
  Load l("sites: " + std::string(600, '[') + std::string(600, ']') + "\n", false);
  ExpectCleanFailure(l);
  ASSERT_FALSE(l.diags.all().empty());
  EXPECT_EQ(l.diags.all()[0].kind, plant_error::kYamlSyntax);
  EXPECT_THAT(l.diags.all()[0].message, Not(HasSubstr("bad file")));
  EXPECT_THAT(l.diags.all()[0].message, HasSubstr("deep"));
}

TEST(PlantLoader, ModeratelyNestedUnknownFieldIsFine) {
  // 100 levels are no problem for the parser; the field is simply unknown.
  Load l("weft: 1\nextra: " + std::string(100, '[') + std::string(100, ']') + "\n", false);
  ASSERT_FALSE(l.plant.ok());
  const Diagnostic* d = FindKind(l.diags, plant_error::kUnknownField);
  ASSERT_NE(d, nullptr) << l.diags.ToString();
  ExpectDiag(*d, Severity::kError, plant_error::kUnknownField, 2, 1, "extra",
             "unknown field 'extra'");
}

TEST(PlantLoader, FortyMegabyteStringIsRefusedQuickly) {
  std::string text = "weft: 1\nenterprise: {name: \"" + std::string(40u << 20, 'x') + "\"}\n";
  auto start = std::chrono::steady_clock::now();
  Load l(text, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 1s);
  ExpectOneError(l, plant_error::kInputTooLarge, 1, 1, "", "the limit is 33554432");
}

TEST(PlantLoader, NulBytes) {
  using namespace std::string_literals;
  Load after_value("weft: 1\0\nenterprise: {name: Acme}\n"s, false);
  ExpectCleanFailure(after_value);
  EXPECT_EQ(after_value.diags.all().at(0).kind, plant_error::kYamlSyntax);
  Load in_scalar("weft: 1\nenterprise: {name: Ac\0me}\n"s, false);
  ExpectCleanFailure(in_scalar);
  EXPECT_EQ(in_scalar.diags.all().at(0).kind, plant_error::kYamlSyntax);
  EXPECT_EQ(in_scalar.diags.all().at(0).location.line, 2);
  Load only_nuls(std::string(1000, '\0'), false);
  ExpectCleanFailure(only_nuls);
}

TEST(PlantLoader, InvalidUtf8) {
  // In an id: refused by the id alphabet.
  std::string bad_id = Strip(kBase);
  bad_id.replace(bad_id.find("id: m1"), 6, "id: m\xff\xfe");
  Load l(bad_id, false);
  ExpectCleanFailure(l);
  EXPECT_EQ(l.diags.all().at(0).kind, plant_error::kInvalidValue);
  EXPECT_EQ(l.diags.all().at(0).location.line, 12);
  EXPECT_EQ(l.diags.all().at(0).location.column, 13);
  // In a key: an unknown field, reported at the key.
  std::string bad_key = Strip(kBase);
  bad_key.replace(bad_key.find("{name: Acme}"), 12, "{n\xc3me: Acme}");
  Load k(bad_key, false);
  ExpectCleanFailure(k);
  const Diagnostic* d = FindKind(k.diags, plant_error::kUnknownField);
  ASSERT_NE(d, nullptr) << k.diags.ToString();
  EXPECT_EQ(d->location.line, 2);
  EXPECT_EQ(d->location.column, 14);
}

TEST(PlantLoader, InvalidUtf8InFreeTextIsRejected) {
  // Text must be UTF-8 (YAML requires it, and JSON output needs it): bad bytes are an error at
  // the value.
  std::string bad_name = Strip(kBase);
  bad_name.replace(bad_name.find("Acme"), 4, "Ac\xff\xc0me");
  Load n(bad_name, false);
  ExpectCleanFailure(n);
  if (!n.diags.all().empty()) {
    EXPECT_EQ(n.diags.all()[0].location.line, 2);
    EXPECT_EQ(n.diags.all()[0].location.column, 20);
    EXPECT_EQ(n.diags.all()[0].field, "enterprise.name");
  }
  if (n.plant.ok()) {
    EXPECT_EQ(n.plant->enterprise.find('\xff'), std::string::npos);
  }
}

TEST(PlantLoader, AliasReusingAnAssetIsADuplicateId) {
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - &m
        id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
      - *m
      - *m
)");
  SCOPED_TRACE(l.diags.ToString());
  ASSERT_FALSE(l.plant.ok());
  EXPECT_EQ(Kinds(l.diags),
            (std::vector<std::string>{plant_error::kDuplicateId, plant_error::kDuplicateId}));
  EXPECT_EQ(l.diags.all().at(0).field, "sites[0].areas[0].lines[0].assets[1].id");
  EXPECT_EQ(l.diags.all().at(1).field, "sites[0].areas[0].lines[0].assets[2].id");
  EXPECT_THAT(l.diags.all().at(0).message, HasSubstr("repeated through a YAML alias"));
}

TEST(PlantLoader, AliasDuplicateIdIsReportedAtTheAlias) {
  // yaml-cpp gives an alias the mark of its anchor, so the duplicate is reported there (13:13)
  // with a message that says it comes through an alias; the field path names the alias's place.
  Load l(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - &m
        id: m1
        type: motor
        connection: {mqtt: {topic: t/m1}}
      - *m
)");
  ExpectOneError(l, plant_error::kDuplicateId, 13, 13, "sites[0].areas[0].lines[0].assets[1].id",
                 "duplicate asset id 'm1': this asset is repeated through a YAML alias");
}

TEST(PlantLoader, BillionLaughsFinishesFast) {
  std::string text = "weft: 1\nenterprise: {name: Acme}\n";
  text += "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) text += (j ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  text += "sites: *a9\n";
  text += "use_cases: *a9\n";
  text += "asset_types: {t: {signals: *a9}}\n";
  auto start = std::chrono::steady_clock::now();
  Load l(text, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 2s);
  ExpectCleanFailure(l);
  EXPECT_LT(l.diags.all().size(), 100u);
}

TEST(PlantLoader, NestedAliasesThroughTheHierarchyFinishFast) {
  // Sites, areas, lines and assets that are aliases of each other 9 times at each level: 9^4
  // asset mappings if expanded; duplicate ids stop the fan-out.
  std::string text = Strip(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- &s
  id: s1
  areas:
  - &a
    id: a1
    lines:
    - &l
      id: l1
      assets:
      - &m {id: m1, type: motor, connection: {mqtt: {topic: t/m1}}}
      - *m
      - *m
    - *l
    - *l
  - *a
  - *a
- *s
- *s
)");
  auto start = std::chrono::steady_clock::now();
  Load l(text, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 1s);
  ExpectCleanFailure(l);
  // 2 extra sites, 2 extra areas, 2 extra lines, 2 extra assets.
  EXPECT_EQ(l.diags.error_count(), 8u) << l.diags.ToString();
  for (const Diagnostic& d : l.diags.all()) EXPECT_EQ(d.kind, plant_error::kDuplicateId);
}

TEST(PlantLoader, AliasedLongScalarDoesNotBlowUpTheReport) {
  // Messages quote a user's value cut to 60 bytes, so that aliases cannot blow up the report.
  std::string text = "weft: 1\nenterprise: {name: &b \"" + std::string(64 << 10, 'x') + "\"}\n";
  text += "sites: [";
  for (int i = 0; i < 2000; ++i) text += i ? ", *b" : "*b";
  text += "]\n";
  auto start = std::chrono::steady_clock::now();
  Load l(text, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 2s);
  ExpectCleanFailure(l);
  size_t total = 0;
  for (const Diagnostic& d : l.diags.all()) total += d.message.size();
  EXPECT_LT(total, size_t{1} << 20) << "recorded message bytes";
}

TEST(PlantLoader, AliasedSignalListsDoNotMultiplyTheWork) {
  // Aliases that repeat a subtree (here one signal list under 250 asset types) are bounded by a
  // work budget proportional to the input size: the load is refused as input_too_large, fast.
  std::string text = Strip(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, assets: []}]}]}]
asset_types:
)");
  text += "  t0: {signals: &s [";
  for (int i = 0; i < 1000; ++i) {
    text += (i ? ", {name: s" : "{name: s") + std::to_string(i) + ", unit: kW, quantity: power}";
  }
  text += "]}\n";
  for (int t = 1; t < 250; ++t) text += "  t" + std::to_string(t) + ": {signals: *s}\n";
  ASSERT_LT(text.size(), size_t{64} << 10);
  Load l(text, false);
  size_t templates = 0;
  if (l.plant.ok()) {
    for (const auto& [name, type] : l.plant->asset_types) templates += type.signals.size();
  }
  EXPECT_FALSE(l.plant.ok());
  EXPECT_LT(templates, 100000u) << "signal templates from a " << text.size() << "-byte file";
}

TEST(PlantLoader, TabsForIndentation) {
  std::string text = Strip(kBase);
  text.replace(text.find("        type: motor"), 8, "\t\t");
  Load l(text, false);
  ExpectOneError(l, plant_error::kYamlSyntax, 13, 1, "",
                 "illegal tab when looking for indentation");
}

TEST(PlantLoader, TabAfterColonIsFine) {
  std::string text = Strip(kBase);
  text.replace(text.find("type: motor"), 11, "type:\tmotor");
  Load l(text, false);
  ExpectClean(l);
}

TEST(PlantLoader, SecondDocumentIsAnError) {
  // A plant is one YAML document; a second one (its `---` is on line 15) is refused, not ignored.
  Load l(std::string(Strip(kBase)) + "---\nhello\n", false);
  ExpectOneError(l, plant_error::kYamlSyntax, 15, 1, "", "a Weft file is one document");
}

TEST(PlantLoader, StrayCommaAtTopLevelFinishesFast) {
  // yaml-cpp's LoadAll never ends on this input (endless empty documents); found by the fuzzer.
  auto start = std::chrono::steady_clock::now();
  Load l("- a\n, b\n", false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(l.plant.ok());
  EXPECT_EQ(Kinds(l.diags),
            (std::vector<std::string>{plant_error::kWrongType, plant_error::kYamlSyntax}));
  EXPECT_EQ(l.diags.all()[1].location.line, 2);
}

TEST(PlantLoader, GarbageNeverCrashes) {
  const std::vector<std::string> inputs = {
      "{",
      "}",
      "[",
      "]",
      ":",
      "- - - -",
      "&a *a",
      "*a",
      "!!binary xyz",
      "? ? ?",
      "%YAML 9.9\n",
      "weft: !!map {}",
      "weft: [1, {2: 3}]",
      "sites: [[[]]]",
      "sites: [{id: [x]}]",
      "{weft: 1, weft: 1, weft: 1}",
      "'unterminated",
      "\"\\x\"",
      "\xef\xbb\xbf",
      "asset_types: {a: {extends: [b]}}",
      "asset_types: [1, 2]",
      "use_cases: {a: 1}",
      "economics: {energy_price: \" \"}",
      "sites: [{id: s, areas: [{id: a, lines: [{id: l, "
      "assets: [{id: x, type: motor, missing: {a: 1}}]}]}]}]",
  };
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in);
    Load l(in, false);
    ExpectCleanFailure(l);
  }
}

// =============================================================================================
// 7. The built-in asset types.

TEST(PlantLoader, BuiltinAssetTypes) {
  const auto& types = BuiltinAssetTypes();
  std::vector<std::string> names;
  for (const auto& [name, type] : types) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("compressor", "conveyor", "hvac_zone", "motor", "pump"));
  for (const auto& [name, type] : types) {
    SCOPED_TRACE(name);
    EXPECT_EQ(type.name, name);
    EXPECT_TRUE(type.builtin);
    EXPECT_TRUE(type.extends.empty());
    EXPECT_FALSE(type.description.empty());
    EXPECT_GE(type.signals.size(), 8u);
    std::vector<std::string> signal_names = type.SignalNames();
    std::sort(signal_names.begin(), signal_names.end());
    EXPECT_EQ(std::adjacent_find(signal_names.begin(), signal_names.end()), signal_names.end())
        << "duplicate signal";
    for (const SignalTemplate& s : type.signals) {
      SCOPED_TRACE(s.name);
      EXPECT_FALSE(s.unit.empty());
      EXPECT_FALSE(s.quantity.empty());
      EXPECT_GT(s.period.count(), 0);
      if (s.min && s.max) {
        EXPECT_LT(*s.min, *s.max);
      }
    }
  }
  EXPECT_EQ(types.at("motor").signals.size(), 10u);
  EXPECT_EQ(types.at("pump").signals.size(), 11u);
  EXPECT_EQ(types.at("compressor").signals.size(), 12u);
  EXPECT_EQ(types.at("conveyor").signals.size(), 11u);
  EXPECT_EQ(types.at("hvac_zone").signals.size(), 10u);
  const SignalTemplate* nde = types.at("motor").FindSignal("bearing_temp_nde");
  ASSERT_NE(nde, nullptr);
  EXPECT_FALSE(nde->fitted);
  const SignalTemplate* running = types.at("motor").FindSignal("running");
  ASSERT_NE(running, nullptr);
  EXPECT_EQ(running->type, DataType::kBool);
  // The same object every time.
  EXPECT_EQ(&BuiltinAssetTypes(), &types);
}

TEST(PlantLoader, PlantsSeeTheBuiltinTypes) {
  Load l(kBase);
  ASSERT_TRUE(l.plant.ok());
  for (const char* name : {"motor", "pump", "compressor", "conveyor", "hvac_zone"}) {
    const AssetType* t = l.plant->FindAssetType(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_TRUE(t->builtin);
  }
  EXPECT_EQ(l.plant->FindAssetType("fan"), nullptr);
}

// =============================================================================================
// Shifts, production, reactive baseline, go-live and running cost (for the KPIs).

// A plant with one site whose timezone line (line 7) is `timezone` (or a name when empty),
// shifts on lines 9 and 10 (each "  - " + the text), line l1's production on line 15
// ("      production: " + the text), and one use case whose last line (30) is `uc_line`.
std::string KpiDoc(std::string_view timezone, std::string_view shift1, std::string_view shift2,
                   std::string_view production, std::string_view uc_line) {
  std::string tz_line = timezone.empty() ? "  name: S1" : "  timezone: " + std::string(timezone);
  return "weft: 1\n"
         "enterprise: {name: Acme}\n"
         "economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 "
         "kgCO2e/kWh,\n"
         "  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}\n"
         "sites:\n"
         "- id: s1\n" +
         tz_line +
         "\n"
         "  shifts:\n"
         "  - " +
         std::string(shift1) +
         "\n"
         "  - " +
         std::string(shift2) +
         "\n"
         "  areas:\n"
         "  - id: a1\n"
         "    lines:\n"
         "    - id: l1\n"
         "      production: " +
         std::string(production) +
         "\n"
         "      assets:\n"
         "      - {id: c1, type: conveyor, connection: {mqtt: {topic: t/c1}}}\n"
         "      - {id: c2, type: conveyor, connection: {mqtt: {topic: t/c2}}}\n"
         "    - id: l2\n"
         "      assets:\n"
         "      - {id: c3, type: conveyor, connection: {mqtt: {topic: t/c3}}}\n"
         "use_cases:\n"
         "- id: u1\n"
         "  name: U1\n"
         "  category: quality\n"
         "  kpi: {name: fpy, unit: \"%\", baseline: 97, target: 99}\n"
         "  requires: [{asset_type: conveyor, signal: reject_count}]\n"
         "  annual_value: 1000\n"
         "  assumptions: [a]\n"
         "  " +
         std::string(uc_line) + "\n";
}

constexpr char kEarly[] =
    R"({name: early, start: "06:00", end: "14:00", days: [mon, tue, wed, thu, fri]})";
constexpr char kSundayNight[] = R"({name: night, start: "22:00", end: "06:00", days: [sun]})";
constexpr char kProduction[] = "{output: c2, ideal_cycle_time: 45s}";

TEST(PlantLoader, KpiFieldsLoad) {
  // The Sunday night shift ends at 06:00 on Monday, when Monday's early shift starts:
  // adjacent, not overlapping.
  Load u(KpiDoc("Europe/Paris", kEarly, kSundayNight, kProduction, "live_from: 2026-11-01"), false);
  ExpectClean(u);
  ASSERT_TRUE(u.plant.ok());
  const Site& site = u.plant->sites[0];
  ASSERT_EQ(site.shifts.size(), 2u);
  const Shift& early = site.shifts[0];
  EXPECT_EQ(early.start_minute, 360);
  EXPECT_EQ(early.end_minute, 840);
  EXPECT_FALSE(early.crosses_midnight());
  EXPECT_EQ(early.duration_minutes(), 480);
  EXPECT_EQ(early.where.line, 9);
  for (Weekday d : {Weekday::kMon, Weekday::kTue, Weekday::kWed, Weekday::kThu, Weekday::kFri}) {
    EXPECT_TRUE(early.days[static_cast<size_t>(d)]) << WeekdayName(d);
  }
  EXPECT_FALSE(early.days[static_cast<size_t>(Weekday::kSun)]);
  const Shift& night = site.shifts[1];
  EXPECT_TRUE(night.crosses_midnight());
  EXPECT_EQ(night.duration_minutes(), 480);  // 22:00 to 06:00
  EXPECT_TRUE(night.days[static_cast<size_t>(Weekday::kSun)]);
  const Line* l1 = u.plant->FindLine("l1");
  ASSERT_NE(l1, nullptr);
  ASSERT_TRUE(l1->production.has_value());
  EXPECT_EQ(l1->production->output, "c2");
  EXPECT_EQ(l1->production->ideal_cycle_time, Micros(45s));
  EXPECT_EQ(l1->production->where.line, 15);
  EXPECT_FALSE(u.plant->FindLine("l2")->production.has_value());
  const UseCase& uc = u.plant->use_cases[0];
  EXPECT_EQ(uc.live_from, std::chrono::sys_days(std::chrono::year{2026} / 11 / 1));
  EXPECT_EQ(uc.running_cost, 0.0);                                  // not given
  EXPECT_EQ(u.plant->ReactiveMinutesPerFailure(uc), std::nullopt);  // neither given
}

TEST(PlantLoader, UseCaseRunningCostAndReactiveOverride) {
  Load l(KpiDoc("Europe/Paris", kEarly, kSundayNight, kProduction,
                "running_cost: 1200.5\n  reactive_minutes_per_failure: 90"),
         false);
  ExpectClean(l);
  ASSERT_TRUE(l.plant.ok());
  const UseCase& uc = l.plant->use_cases[0];
  EXPECT_EQ(uc.running_cost, 1200.5);
  EXPECT_EQ(uc.live_from, std::nullopt);
  EXPECT_EQ(l.plant->ReactiveMinutesPerFailure(uc), 90.0);
}

TEST(PlantLoader, EconomicsReactiveMinutesPerFailure) {
  Load ok(WithEconomics("{currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 "
                        "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h, "
                        "reactive_minutes_per_failure: 240}"),
          false);
  ExpectClean(ok);
  ASSERT_TRUE(ok.plant.ok());
  EXPECT_EQ(ok.plant->economics.reactive_minutes_per_failure, 240.0);
  // The mapping starts at column 12 and its text before the value is 159 characters long:
  // "{currency: EUR, " (16), "energy_price: 0.2 EUR/kWh, " (27), "grid_carbon_factor: 0.4
  // kgCO2e/kWh, " (36), "labour_rate: 60 EUR/h, " (23), "downtime_cost: 1000 EUR/h, " (27),
  // "reactive_minutes_per_failure: " (30): column 12 + 159 = 171.
  Load bad(WithEconomics("{currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 "
                         "kgCO2e/kWh, labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h, "
                         "reactive_minutes_per_failure: -5}"),
           false);
  ExpectOneError(bad, plant_error::kInvalidValue, 3, 171, "economics.reactive_minutes_per_failure",
                 "expected technician minutes per failure of 0 or more, got '-5'");
}

TEST(PlantLoader, ShiftTimeMustBeHoursAndMinutes) {
  // Line 9 is `  - {name: early, start: "6:00", ...`: the start value is at column 26.
  Load l(KpiDoc("Europe/Paris", R"({name: early, start: "6:00", end: "14:00", days: [mon]})",
                kSundayNight, kProduction, "running_cost: 0"),
         false);
  ExpectOneError(l, plant_error::kInvalidValue, 9, 26, "sites[0].shifts[0].start",
                 "expected a local time \"HH:MM\" from 00:00 to 23:59, got '6:00'");
  Load late(KpiDoc("Europe/Paris", R"({name: early, start: "06:00", end: "24:00", days: [mon]})",
                   kSundayNight, kProduction, "running_cost: 0"),
            false);
  // `start: "06:00", ` is 16 characters: end's value at column 26 + 16 - 7 + 5 = 40.
  ExpectOneError(late, plant_error::kInvalidValue, 9, 40, "sites[0].shifts[0].end", "'24:00'");
}

TEST(PlantLoader, ShiftUnknownDayHasAHint) {
  // `  - {name: early, start: "06:00", end: "14:00", days: [mon, ` is 60 characters.
  Load l(KpiDoc("Europe/Paris", R"({name: early, start: "06:00", end: "14:00", days: [mon, tues]})",
                kSundayNight, kProduction, "running_cost: 0"),
         false);
  ExpectOneError(l, plant_error::kInvalidValue, 9, 61, "sites[0].shifts[0].days[1]",
                 "unknown day 'tues' (did you mean 'tue'?)");
  Load empty(KpiDoc("Europe/Paris", R"({name: early, start: "06:00", end: "14:00", days: []})",
                    kSundayNight, kProduction, "running_cost: 0"),
             false);
  ExpectOneError(empty, plant_error::kMissingField, 9, 55, "sites[0].shifts[0].days",
                 "a shift works on at least one day");
}

TEST(PlantLoader, OverlappingShiftsAreAnError) {
  // Late starts at 13:00 on Friday while early runs until 14:00: reported at the later shift.
  Load l(
      KpiDoc("Europe/Paris", kEarly, R"({name: late, start: "13:00", end: "22:00", days: [fri]})",
             kProduction, "running_cost: 0"),
      false);
  ExpectOneError(l, plant_error::kInvalidValue, 10, 5, "sites[0].shifts[1]",
                 "shift 'late' (fri 13:00-22:00) overlaps shift 'early' (fri 06:00-14:00, line "
                 "9); shifts of a site must not overlap");
  // Across the end of the week: Sunday 22:00 to Monday 06:00 against Monday from 05:00.
  Load wrap(KpiDoc("Europe/Paris", kSundayNight,
                   R"({name: early, start: "05:00", end: "13:00", days: [mon]})", kProduction,
                   "running_cost: 0"),
            false);
  ExpectOneError(wrap, plant_error::kInvalidValue, 10, 5, "sites[0].shifts[1]",
                 "shift 'early' (mon 05:00-13:00) overlaps shift 'night' (sun 22:00-06:00");
}

TEST(PlantLoader, DuplicateShiftName) {
  Load l(
      KpiDoc("Europe/Paris", kEarly, R"({name: early, start: "14:00", end: "22:00", days: [mon]})",
             kProduction, "running_cost: 0"),
      false);
  ExpectOneError(l, plant_error::kDuplicateId, 10, 12, "sites[0].shifts[1].name",
                 "site 's1' already has a shift named 'early' (line 9)");
}

TEST(PlantLoader, ShiftsNeedATimezone) {
  Load l(KpiDoc("", kEarly, kSundayNight, kProduction, "running_cost: 0"), false);
  ExpectOneError(l, plant_error::kMissingField, 9, 3, "sites[0].shifts",
                 "shifts are in the site's local time; expected a timezone for site 's1'");
}

TEST(PlantLoader, ProductionOutputMustBeAnAssetOfTheLine) {
  // `      production: {output: ` is 27 characters: the output value is at column 28.
  Load l(KpiDoc("Europe/Paris", kEarly, kSundayNight, "{output: c3, ideal_cycle_time: 30s}",
                "running_cost: 0"),
         false);
  ExpectOneError(l, plant_error::kUnknownReference, 15, 28,
                 "sites[0].areas[0].lines[0].production.output",
                 "the output of line 'l1' must be one of its assets; 'c3' is not (it is on another "
                 "line, line 21)");
  Load missing(KpiDoc("Europe/Paris", kEarly, kSundayNight, "{output: c1}", "running_cost: 0"),
               false);
  ExpectOneError(missing, plant_error::kMissingField, 15, 19,
                 "sites[0].areas[0].lines[0].production.ideal_cycle_time",
                 "missing required field 'ideal_cycle_time'");
}

TEST(PlantLoader, ProductionIdealCycleTimeIsAPositiveDuration) {
  // `output: c1, ideal_cycle_time: ` is 30 characters after the '{' at column 19: column 50.
  Load zero(KpiDoc("Europe/Paris", kEarly, kSundayNight, "{output: c1, ideal_cycle_time: 0s}",
                   "running_cost: 0"),
            false);
  ExpectOneError(zero, plant_error::kInvalidValue, 15, 50,
                 "sites[0].areas[0].lines[0].production.ideal_cycle_time",
                 "an ideal cycle time must be more than 0");
  Load words(KpiDoc("Europe/Paris", kEarly, kSundayNight, "{output: c1, ideal_cycle_time: fast}",
                    "running_cost: 0"),
             false);
  ExpectOneError(words, plant_error::kInvalidValue, 15, 50,
                 "sites[0].areas[0].lines[0].production.ideal_cycle_time", "fast");
}

TEST(PlantLoader, UseCaseKpiFieldErrors) {
  Load date(KpiDoc("Europe/Paris", kEarly, kSundayNight, kProduction, "live_from: 2026-02-30"),
            false);
  ExpectOneError(date, plant_error::kInvalidValue, 30, 14, "use_cases[0].live_from",
                 "invalid date '2026-02-30'");
  Load cost(KpiDoc("Europe/Paris", kEarly, kSundayNight, kProduction, "running_cost: -5"), false);
  ExpectOneError(cost, plant_error::kInvalidValue, 30, 17, "use_cases[0].running_cost",
                 "expected a running cost per year of 0 or more, got '-5'");
  Load minutes(KpiDoc("Europe/Paris", kEarly, kSundayNight, kProduction,
                      "reactive_minutes_per_failure: lots"),
               false);
  ExpectOneError(minutes, plant_error::kWrongType, 30, 33,
                 "use_cases[0].reactive_minutes_per_failure", "expected a number");
}

}  // namespace
}  // namespace weft::model

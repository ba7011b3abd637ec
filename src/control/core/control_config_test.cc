#include "control/core/control_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "model/plant_loader.h"

namespace weft::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Inline documents start right after `R"(`; the first newline is dropped so the literal's first
// line is line 1, and columns count from 1 on each left-aligned line.
std::string Strip(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

struct Parse {
  Diagnostics diags;
  Result<ControlConfig> config;
  explicit Parse(std::string_view yaml)
      : config(ParseControlConfig(Strip(yaml), "/etc/weft/edge.yaml", &diags)) {}
};

// Exactly one error, with these properties.
void ExpectOneError(const Parse& p, std::string_view kind, int line, int column,
                    std::string_view field, std::string_view phrase) {
  SCOPED_TRACE(p.diags.ToString());
  ASSERT_FALSE(p.config.ok());
  EXPECT_EQ(p.config.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(p.diags.error_count(), 1u);
  const Diagnostic& d = p.diags.all().front();
  EXPECT_EQ(d.kind, kind);
  EXPECT_EQ(d.location.file, "/etc/weft/edge.yaml");
  EXPECT_EQ(d.location.line, line);
  EXPECT_EQ(d.location.column, column);
  EXPECT_EQ(d.field, field);
  EXPECT_THAT(d.message, HasSubstr(std::string(phrase)));
}

// The good document; error tests replace one line of it.
constexpr char kGood[] = R"(
edge: {id: edge-lyon}
control:
  grant_key: keys/control-grant.pub.pem
  grants_dir: grants
  loops:
    - id: lyon-hz-01-temp
      asset: lyon-hz-01
      write: remote_setpoint
      heartbeat: heartbeat
      heartbeat_interval: 2s
      mode_signal: control_mode
      alarms: plc_alarms
      readback: setpoint
      read: [zone_temp, outdoor_temp, occupancy, heat_pump_power]
      period: 60s
      mode: autonomous
      source:
        optimiser: {kind: hvac_comfort, comfort: [20, 24], price: day, weight: 0.5, on: true, zones: [a, 2]}
      model_timeout: 3m
      envelope:
        min: 16
        max: 23
        max_step: 1.0
        max_rate: 6/min
        safe: 18
        readback_tolerance: 0.05
        interlocks:
          - {name: overheating, expr: zone_temp, above: 27, then: safe}
          - {name: plc_alarm, expr: plc_alarms, above: 0, then: hold}
          - {name: band, expr: "zone_temp - outdoor_temp", below: -30, above: 40, then: hold}
    - id: lyon-hz-02-temp
      asset: lyon-hz-02
      write: remote_setpoint
      source:
        process: {command: [/usr/bin/python3, model.py], timeout: 5s}
      envelope: {min: 16, max: 23, max_step: 0.5, max_rate: 0.1/s, safe: 18}
)";

std::string Replace(std::string_view from, std::string_view to) {
  std::string s(kGood);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ControlConfig, GoodFileParsesEveryField) {
  Parse p(kGood);
  ASSERT_TRUE(p.config.ok()) << p.diags.ToString();
  const ControlConfig& c = *p.config;
  EXPECT_EQ(c.grant_key, "/etc/weft/keys/control-grant.pub.pem");
  EXPECT_EQ(c.grants_dir, "/etc/weft/grants");
  ASSERT_EQ(c.loops.size(), 2u);
  const LoopConfig& l = c.loops[0];
  EXPECT_EQ(l.id, "lyon-hz-01-temp");
  EXPECT_EQ(l.asset, "lyon-hz-01");
  EXPECT_EQ(l.write, "remote_setpoint");
  EXPECT_EQ(l.heartbeat, "heartbeat");
  EXPECT_EQ(l.heartbeat_interval, 2s);
  EXPECT_EQ(l.mode_signal, "control_mode");
  EXPECT_EQ(l.alarms, "plc_alarms");
  EXPECT_EQ(l.readback, "setpoint");
  EXPECT_THAT(l.read, ElementsAre("zone_temp", "outdoor_temp", "occupancy", "heat_pump_power"));
  EXPECT_EQ(l.period, 60s);
  EXPECT_EQ(l.mode, Mode::kAutonomous);
  EXPECT_EQ(l.model_timeout, 180s);
  EXPECT_EQ(l.path, "control.loops[0]");
  EXPECT_EQ(l.where.line, 6);
  ASSERT_TRUE(std::holds_alternative<OptimiserSource>(l.source));
  const OptimiserSource& o = std::get<OptimiserSource>(l.source);
  EXPECT_EQ(o.kind, "hvac_comfort");
  ASSERT_EQ(o.params.size(), 5u);
  EXPECT_EQ(std::get<std::vector<double>>(o.params.at("comfort").value),
            (std::vector<double>{20, 24}));
  EXPECT_EQ(std::get<std::string>(o.params.at("price").value), "day");
  EXPECT_EQ(std::get<double>(o.params.at("weight").value), 0.5);
  EXPECT_EQ(std::get<bool>(o.params.at("on").value), true);
  EXPECT_EQ(std::get<std::vector<std::string>>(o.params.at("zones").value),
            (std::vector<std::string>{"a", "2"}));
  EXPECT_EQ(o.params.at("comfort").path, "control.loops[0].source.optimiser.comfort");
  EXPECT_EQ(o.params.at("comfort").where.line, 18);
  const Envelope& e = l.envelope;
  EXPECT_EQ(e.min, 16);
  EXPECT_EQ(e.max, 23);
  EXPECT_EQ(e.max_step, 1.0);
  EXPECT_DOUBLE_EQ(e.max_rate_per_s, 0.1);
  EXPECT_EQ(e.safe, 18);
  EXPECT_EQ(e.readback_tolerance, 0.05);
  ASSERT_EQ(e.interlocks.size(), 3u);
  EXPECT_EQ(e.interlocks[0].name, "overheating");
  EXPECT_EQ(e.interlocks[0].above, 27);
  EXPECT_EQ(e.interlocks[0].then, Interlock::Then::kSafe);
  EXPECT_EQ(e.interlocks[1].then, Interlock::Then::kHold);
  EXPECT_EQ(e.interlocks[2].below, -30);
  EXPECT_EQ(e.interlocks[2].expr.text(), "zone_temp - outdoor_temp");
  EXPECT_THAT(l.SignalsToRead(),
              ElementsAre("zone_temp", "outdoor_temp", "occupancy", "heat_pump_power", "plc_alarms",
                          "control_mode", "setpoint"));

  const LoopConfig& l2 = c.loops[1];
  EXPECT_EQ(l2.readback, "remote_setpoint");  // default: the written signal
  EXPECT_EQ(l2.mode, Mode::kShadow);
  EXPECT_EQ(l2.period, 60s);
  EXPECT_EQ(l2.model_timeout, 180s);  // 3 x period
  EXPECT_TRUE(l2.heartbeat.empty());
  ASSERT_TRUE(std::holds_alternative<ProcessSource>(l2.source));
  const ProcessSource& ps = std::get<ProcessSource>(l2.source);
  EXPECT_THAT(ps.command, ElementsAre("/usr/bin/python3", "model.py"));
  EXPECT_EQ(ps.timeout, 5s);
  EXPECT_EQ(ps.working_dir, "/etc/weft");
  EXPECT_EQ(l2.envelope.interlocks.size(), 0u);
}

TEST(ControlConfig, NoSectionIsEmpty) {
  Parse p("edge: {id: e}\n");
  ASSERT_TRUE(p.config.ok());
  EXPECT_TRUE(p.config->loops.empty());
}

TEST(ControlConfig, ParseRate) {
  EXPECT_DOUBLE_EQ(*ParseRate("0.1/s"), 0.1);
  EXPECT_DOUBLE_EQ(*ParseRate("6/min"), 0.1);
  EXPECT_DOUBLE_EQ(*ParseRate("360/h"), 0.1);
  EXPECT_DOUBLE_EQ(*ParseRate("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(*ParseRate("1 / s"), 1.0);
  for (const char* bad : {"", "/s", "0/s", "-1/s", "1/day", "abc", "1/", "inf/s", "nan", "1e400"}) {
    Result<double> r = ParseRate(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("invalid rate")) << bad;
  }
}

TEST(ControlConfig, BadRateNamesPlace) {
  Parse p(Replace("max_rate: 6/min", "max_rate: 6/day"));
  ExpectOneError(p, "invalid_value", 24, 19, "control.loops[0].envelope.max_rate",
                 "unknown time unit");
}

TEST(ControlConfig, SafeOutsideBounds) {
  Parse p(Replace("safe: 18\n        readback", "safe: 25\n        readback"));
  ExpectOneError(p, "invalid_value", 25, 15, "control.loops[0].envelope.safe",
                 "safe 25 is outside [min 16, max 23]");
}

TEST(ControlConfig, MinAboveMax) {
  Parse p(Replace("min: 16\n        max: 23", "min: 24\n        max: 23"));
  ExpectOneError(p, "invalid_value", 22, 14, "control.loops[0].envelope.max",
                 "max 23 is below min 24");
}

TEST(ControlConfig, NonPositiveStep) {
  Parse p(Replace("max_step: 1.0", "max_step: 0"));
  ExpectOneError(p, "invalid_value", 23, 19, "control.loops[0].envelope.max_step",
                 "max_step must be > 0");
}

TEST(ControlConfig, UnknownField) {
  Parse p(Replace("      period: 60s", "      perod: 60s"));
  SCOPED_TRACE(p.diags.ToString());
  ASSERT_FALSE(p.config.ok());
  ASSERT_EQ(p.diags.error_count(), 1u);
  const Diagnostic& d = p.diags.all().front();
  EXPECT_EQ(d.kind, "unknown_field");
  EXPECT_EQ(d.location.line, 15);
  EXPECT_EQ(d.location.column, 7);
  EXPECT_THAT(d.message, HasSubstr("did you mean 'period'"));
}

TEST(ControlConfig, BadMode) {
  Parse p(Replace("mode: autonomous", "mode: auto"));
  ExpectOneError(p, "invalid_value", 16, 13, "control.loops[0].mode",
                 "unknown control mode 'auto'");
}

TEST(ControlConfig, BadDuration) {
  Parse p(Replace("period: 60s", "period: 0s"));
  ExpectOneError(p, "invalid_value", 15, 15, "control.loops[0].period", "duration > 0");
}

TEST(ControlConfig, BadInterlockExpression) {
  Parse p(Replace("expr: zone_temp, above: 27", "expr: \"zone_temp +\", above: 27"));
  ExpectOneError(p, "invalid_value", 28, 39, "control.loops[0].envelope.interlocks[0].expr",
                 "invalid expression 'zone_temp +': column 12");
}

TEST(ControlConfig, InterlockVariableNotRead) {
  Parse p(Replace("expr: zone_temp, above: 27", "expr: zone_tmp, above: 27"));
  ExpectOneError(p, "invalid_value", 28, 39, "control.loops[0].envelope.interlocks[0].expr",
                 "uses 'zone_tmp', which the loop does not read");
  EXPECT_THAT(p.diags.all().front().message, HasSubstr("did you mean 'zone_temp'"));
}

TEST(ControlConfig, InterlockNeedsBound) {
  Parse p(Replace("expr: zone_temp, above: 27, then: safe", "expr: zone_temp, then: safe"));
  ExpectOneError(p, "missing_field", 28, 13, "control.loops[0].envelope.interlocks[0]",
                 "needs `above` and/or `below`");
}

TEST(ControlConfig, InterlockBadThen) {
  Parse p(Replace("above: 0, then: hold", "above: 0, then: stop"));
  ExpectOneError(p, "invalid_value", 29, 65, "control.loops[0].envelope.interlocks[1].then",
                 "unknown interlock action 'stop'");
}

TEST(ControlConfig, SourceMustBeExactlyOne) {
  Parse p(Replace("        optimiser: {kind: hvac_comfort,",
                  "        process: {command: [x]}\n        optimiser: {kind: hvac_comfort,"));
  ExpectOneError(p, "invalid_value", 18, 9, "control.loops[0].source", "exactly one of");
}

TEST(ControlConfig, OptimiserNeedsKind) {
  Parse p(Replace("{kind: hvac_comfort, comfort", "{comfort"));
  ExpectOneError(p, "missing_field", 18, 20, "control.loops[0].source.optimiser.kind", "kind");
}

TEST(ControlConfig, DuplicateLoopId) {
  Parse p(Replace("id: lyon-hz-02-temp", "id: lyon-hz-01-temp"));
  ExpectOneError(p, "invalid_value", 31, 11, "control.loops[1].id",
                 "loop id 'lyon-hz-01-temp' is used twice (first at line 6)");
}

TEST(ControlConfig, NonShadowNeedsGrantKey) {
  Parse p(Replace("  grant_key: keys/control-grant.pub.pem\n", ""));
  ExpectOneError(p, "missing_field", 15, 13, "control.loops[0].mode", "control.grant_key");
}

TEST(ControlConfig, EveryErrorInOneRun) {
  std::string text = Replace("max_step: 1.0", "max_step: -1");
  const size_t at = text.find("safe: 18\n");
  text.replace(at, 8, "safe: 99");
  Diagnostics diags;
  Result<ControlConfig> c = ParseControlConfig(Strip(text), "e.yaml", &diags);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(diags.error_count(), 2u) << diags.ToString();
}

TEST(ControlConfig, NotYaml) {
  Parse p("control: [unclosed\n");
  ASSERT_FALSE(p.config.ok());
  EXPECT_GE(p.diags.error_count(), 1u);
  EXPECT_EQ(p.diags.all().front().kind, "yaml_syntax");
}

// ---- CheckAgainstPlant -------------------------------------------------------------------

// A plant whose HVAC zone type declares the PLC signals of issue 8 (offsets 12..15).
constexpr char kPlant[] = R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  hvac_zone_bms:
    extends: hvac_zone
    signals:
      - {name: zone_temp, source: {modbus: {table: input, address: 0, type: int16, scale: 0.1}}}
      - {name: outdoor_temp, source: {modbus: {table: input, address: 2, type: int16, scale: 0.1}}}
      - {name: setpoint, source: {modbus: {table: holding, address: 4, type: int16, scale: 0.1}}}
      - {name: occupancy, source: {modbus: {table: input, address: 5}}}
      - {name: heat_pump_power, source: {modbus: {table: input, address: 7, scale: 0.01}}}
      - {name: remote_setpoint, unit: degC, quantity: temperature, range: [5, 35], period: 60s,
         source: {modbus: {table: holding, address: 12, type: int16, scale: 0.1}}}
      - {name: heartbeat, unit: count, quantity: count, type: int32, range: [0, 65535],
         period: 2s, source: {modbus: {table: holding, address: 13}}}
      - {name: control_mode, unit: "1", quantity: state, type: int32, range: [0, 2],
         period: 60s, source: {modbus: {table: input, address: 14}}}
      - {name: plc_alarms, unit: "1", quantity: state, type: int32, range: [0, 65535],
         period: 60s, source: {modbus: {table: input, address: 15}}}
sites:
- id: lyon
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: lyon-hz-01, type: hvac_zone_bms, connection: {modbus: {host: 10.0.0.5, base: 0}},
         fitted: [occupancy], missing: [zone_humidity, supply_air_temp, heat_pump_energy, cop]}
      - {id: lyon-hz-02, type: hvac_zone_bms, connection: {modbus: {host: 10.0.0.5, base: 16}},
         fitted: [occupancy], missing: [zone_humidity, supply_air_temp, heat_pump_energy, cop]}
      - {id: lyon-hz-09, type: hvac_zone, connection: {mqtt: {topic: t/hz9}}}
)";

model::Plant LoadPlant() {
  Diagnostics diags;
  Result<model::Plant> p = model::ParsePlant(Strip(kPlant), "plant.yaml", &diags);
  EXPECT_TRUE(p.ok()) << diags.ToString();
  return p.ok() ? *p : model::Plant{};
}

struct Checked {
  Diagnostics diags;
  Status status;
  Checked(std::string_view yaml, const model::Plant& plant) {
    Result<ControlConfig> c = ParseControlConfig(Strip(yaml), "/etc/weft/edge.yaml", &diags);
    EXPECT_TRUE(c.ok()) << diags.ToString();
    status = c.ok() ? CheckAgainstPlant(*c, plant, &diags) : c.status();
  }
  void ExpectOne(std::string_view kind, int line, int column, std::string_view field,
                 std::string_view phrase) const {
    SCOPED_TRACE(diags.ToString());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    ASSERT_EQ(diags.error_count(), 1u);
    const Diagnostic& d = diags.all().front();
    EXPECT_EQ(d.kind, kind);
    EXPECT_EQ(d.location.file, "/etc/weft/edge.yaml");
    EXPECT_EQ(d.location.line, line);
    EXPECT_EQ(d.location.column, column);
    EXPECT_EQ(d.field, field);
    EXPECT_THAT(d.message, HasSubstr(std::string(phrase)));
  }
};

TEST(CheckAgainstPlant, GoodConfigPasses) {
  const model::Plant plant = LoadPlant();
  Checked c(kGood, plant);
  EXPECT_TRUE(c.status.ok()) << c.status.ToString() << "\n" << c.diags.ToString();
}

TEST(CheckAgainstPlant, UnknownAsset) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("asset: lyon-hz-01", "asset: lyon-hz-1"), plant);
  c.ExpectOne("unknown_asset", 7, 14, "control.loops[0].asset", "unknown asset 'lyon-hz-1'");
}

TEST(CheckAgainstPlant, NotAModbusAsset) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("asset: lyon-hz-02", "asset: lyon-hz-09"), plant);
  c.ExpectOne("not_modbus", 32, 14, "control.loops[1].asset", "has no Modbus connection");
}

TEST(CheckAgainstPlant, UnknownSignal) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("outdoor_temp, occupancy,", "outdoor_temp, occupncy,"), plant);
  c.ExpectOne("unknown_signal", 14, 39, "control.loops[0].read[2]",
              "'occupncy' is not a signal of asset 'lyon-hz-01' (type hvac_zone_bms) (did you "
              "mean 'occupancy'?)");
}

TEST(CheckAgainstPlant, WriteMustBeHolding) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("write: remote_setpoint\n      heartbeat", "write: zone_temp\n      heartbeat"),
            plant);
  SCOPED_TRACE(c.diags.ToString());
  // zone_temp is an input register; also the envelope's range check is against zone_temp's.
  ASSERT_GE(c.diags.error_count(), 1u);
  const Diagnostic& d = c.diags.all().front();
  EXPECT_EQ(d.kind, "not_writable");
  EXPECT_EQ(d.location.line, 8);
  EXPECT_EQ(d.location.column, 14);
  EXPECT_EQ(d.field, "control.loops[0].write");
  EXPECT_THAT(d.message, HasSubstr("not a holding register"));
}

TEST(CheckAgainstPlant, HeartbeatMustBeHolding) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("heartbeat: heartbeat", "heartbeat: control_mode"), plant);
  c.ExpectOne("not_writable", 9, 18, "control.loops[0].heartbeat", "not a holding register");
}

TEST(CheckAgainstPlant, EnvelopeOutsideSignalRange) {
  const model::Plant plant = LoadPlant();
  Checked c(Replace("{min: 16, max: 23, max_step: 0.5", "{min: 4, max: 23, max_step: 0.5"), plant);
  c.ExpectOne("invalid_value", 36, 23, "control.loops[1].envelope.min",
              "envelope min 4 is outside the range [5, 35] of signal 'remote_setpoint'");
}

TEST(CheckAgainstPlant, CodeBuiltConfigDuplicateIds) {
  const model::Plant plant = LoadPlant();
  Diagnostics diags;
  Result<ControlConfig> c = ParseControlConfig(Strip(kGood), "e.yaml", &diags);
  ASSERT_TRUE(c.ok());
  c->loops[1].id = c->loops[0].id;
  Status s = CheckAgainstPlant(*c, plant, &diags);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("used twice"));
}

TEST(CheckAgainstPlant, CodeBuiltInterlockOnUnreadSignal) {
  const model::Plant plant = LoadPlant();
  Diagnostics diags;
  Result<ControlConfig> c = ParseControlConfig(Strip(kGood), "e.yaml", &diags);
  ASSERT_TRUE(c.ok());
  c->loops[0].read = {"zone_temp"};  // the `band` interlock also uses outdoor_temp
  Status s = CheckAgainstPlant(*c, plant, &diags);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("interlock band uses 'outdoor_temp'"));
}

// The example plant, once engineer PLC's register map is in it.
TEST(CheckAgainstPlant, ExamplePlant) {
  const char* dir = std::getenv("WEFT_SOURCE_DIR");
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(
      std::string(dir != nullptr ? dir : ".") + "/examples/plant.yaml", &diags);
  ASSERT_TRUE(plant.ok()) << diags.ToString();
  const model::Asset* hz = nullptr;
  for (const model::Asset* a : plant->AllAssets()) {
    if (a->id == "lyon-hz-01") hz = a;
  }
  ASSERT_NE(hz, nullptr);
  if (!hz->HasSignal("remote_setpoint"))
    GTEST_SKIP() << "examples/plant.yaml lacks issue 8 signals";
  Checked c(kGood, *plant);
  EXPECT_TRUE(c.status.ok()) << c.diags.ToString();
}

}  // namespace
}  // namespace weft::control

// DecodeJsonTelemetry: every document error and every field problem, against the example plant's
// JSON assets (Brno) and a small plant with nested and string fields.
#include "edge/connectors/mqtt/json_telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/plant_loader.h"
#include "testing/example_plant.h"

namespace weft::edge {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kTopic = "brno/b1/b1-cv-01/telemetry";

const SignalTable& Table() {
  static const SignalTable table = *SignalTable::FromPlant(weft::testing::ExamplePlant(), {});
  return table;
}

// A plant whose gadget publishes a nested field and a string signal.
const model::Plant& GadgetPlant() {
  static const model::Plant plant = [] {
    Diagnostics diags;
    Result<model::Plant> p = model::ParsePlant(R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  gadget:
    description: Test gadget
    signals:
      - {name: current, unit: A, quantity: current, range: [0, 100], period: 1s,
         source: {mqtt: {field: drive.current}}}
      - {name: running, unit: "1", quantity: boolean, type: bool, period: 1s}
      - {name: label, unit: "1", quantity: state, type: string, period: 1s}
sites:
- id: s1
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: g1, type: gadget, connection: {mqtt: {topic: t/g1}}}
)",
                                               "gadget.yaml", &diags);
    if (!p.ok()) {
      ADD_FAILURE() << p.status().ToString() << "\n" << diags.ToString();
      return model::Plant();
    }
    return *std::move(p);
  }();
  return plant;
}

TEST(JsonTelemetry, DecodesTheSimulatorsFormat) {
  const std::string doc =
      R"({"ts":1767225600123,"asset":"b1-cv-01","values":{"belt_speed":1.25,"motor_current":7}})";
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(kTopic, doc, Table());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ts_ms, 1767225600123);
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_EQ(r->samples[0].signal, *Table().FindJson(kTopic, "belt_speed"));
  EXPECT_EQ(r->samples[0].ts_us, 1767225600123000);
  EXPECT_DOUBLE_EQ(r->samples[0].value, 1.25);
  EXPECT_EQ(r->samples[0].quality, quality::kGood);
  EXPECT_EQ(r->samples[1].signal, *Table().FindJson(kTopic, "motor_current"));
  EXPECT_DOUBLE_EQ(r->samples[1].value, 7);
  EXPECT_EQ(r->unmapped_fields + r->wrong_type_fields + r->null_fields, 0u);
}

TEST(JsonTelemetry, EverySignalOfTheAssetDecodes) {
  const std::vector<SignalId>* ids = Table().AssetSignals("b1-cv-01");
  ASSERT_NE(ids, nullptr);
  std::string doc = R"({"ts":5,"values":{)";
  for (size_t i = 0; i < ids->size(); ++i) {
    const SignalInfo& s = Table().at((*ids)[i]);
    doc += (i ? "," : "") + ("\"" + s.signal_model->spec.source.mqtt->field + "\":") +
           (s.type == model::DataType::kBool ? "true" : std::to_string(i + 1));
  }
  doc += "}}";
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(kTopic, doc, Table());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->samples.size(), ids->size()) << doc;
  for (size_t i = 0; i < ids->size(); ++i) {
    EXPECT_EQ(r->samples[i].signal, (*ids)[i]);
    EXPECT_EQ(r->samples[i].ts_us, 5000);
  }
}

TEST(JsonTelemetry, BooleansAreOneAndZero) {
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(
      kTopic, R"({"ts":1,"values":{"belt_speed":true,"motor_current":false}})", Table());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_EQ(r->samples[0].value, 1.0);
  EXPECT_EQ(r->samples[1].value, 0.0);
}

TEST(JsonTelemetry, DottedFieldsAddressNestedObjects) {
  Result<SignalTable> table = SignalTable::FromPlant(GadgetPlant(), {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const SignalId current = *table->Find("g1", "current");
  const SignalId running = *table->Find("g1", "running");
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(
      "t/g1", R"({"ts":10,"values":{"drive":{"current":12.5,"volts":400},"running":true}})",
      *table);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_EQ(r->samples[0].signal, current);
  EXPECT_EQ(r->samples[0].value, 12.5);
  EXPECT_EQ(r->samples[1].signal, running);
  EXPECT_EQ(r->unmapped_fields, 1u);  // drive.volts
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].field, "drive.volts");
  EXPECT_EQ(r->problems[0].kind, "unmapped_field");
  EXPECT_THAT(r->problems[0].message, HasSubstr("values.drive.volts"));
  EXPECT_THAT(r->problems[0].message, HasSubstr("t/g1"));

  // The flat spelling of the same path names the same signal.
  r = DecodeJsonTelemetry("t/g1", R"({"ts":10,"values":{"drive.current":3}})", *table);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->samples.size(), 1u);
  EXPECT_EQ(r->samples[0].signal, current);

  // A string signal cannot become a sample; a bound object is the wrong type.
  r = DecodeJsonTelemetry("t/g1", R"({"ts":10,"values":{"label":"A7","running":{"x":1}}})", *table);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->samples.empty());
  EXPECT_EQ(r->wrong_type_fields, 2u);
  ASSERT_EQ(r->problems.size(), 2u);
  EXPECT_THAT(r->problems[0].message, HasSubstr("string signals cannot be read"));
  EXPECT_THAT(r->problems[1].message, HasSubstr("g1/running) is an object"));
}

struct BadDocument {
  std::string payload;
  StatusCode code;
  std::string message;
};

class JsonTelemetryErrors : public ::testing::TestWithParam<BadDocument> {};

TEST_P(JsonTelemetryErrors, RefusedWithAReason) {
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(kTopic, GetParam().payload, Table());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), GetParam().code);
  EXPECT_THAT(r.status().message(), HasSubstr(GetParam().message));
  EXPECT_THAT(r.status().message(), HasSubstr(std::string(kTopic)));
}

INSTANTIATE_TEST_SUITE_P(
    Documents, JsonTelemetryErrors,
    ::testing::Values(
        BadDocument{"", StatusCode::kInvalidArgument, "not valid JSON"},
        BadDocument{"{\"ts\":1,", StatusCode::kInvalidArgument, "not valid JSON"},
        BadDocument{"\xff\xfe", StatusCode::kInvalidArgument, "not valid JSON"},
        BadDocument{"[1,2]", StatusCode::kInvalidArgument, "the document is an array"},
        BadDocument{"42", StatusCode::kInvalidArgument, "the document is a number"},
        BadDocument{R"({"values":{}})", StatusCode::kInvalidArgument, "no \"ts\""},
        BadDocument{R"({"ts":1.5,"values":{}})", StatusCode::kInvalidArgument,
                    "\"ts\" is a fractional number"},
        BadDocument{R"({"ts":"1767225600000","values":{}})", StatusCode::kInvalidArgument,
                    "\"ts\" is a string"},
        BadDocument{R"({"ts":-1,"values":{}})", StatusCode::kInvalidArgument, "\"ts\" is -1"},
        BadDocument{R"({"ts":9223372036854776,"values":{}})", StatusCode::kInvalidArgument,
                    "\"ts\" is 9223372036854776"},
        BadDocument{R"({"ts":18446744073709551615,"values":{}})", StatusCode::kInvalidArgument,
                    "above 2^63"},
        BadDocument{R"({"ts":1})", StatusCode::kInvalidArgument, "no \"values\" object"},
        BadDocument{R"({"ts":1,"values":[1]})", StatusCode::kInvalidArgument,
                    "\"values\" is an array"},
        BadDocument{
            R"({"ts":1,"values":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":1}}}}}}}}}}}}}}}}}})",
            StatusCode::kInvalidArgument, "nested deeper than 16"}));

TEST(JsonTelemetry, OversizePayloadIsRefusedBeforeParsing) {
  std::string big =
      R"({"ts":1,"values":{"belt_speed":1},"pad":")" + std::string(size_t{1} << 20, 'x') + "\"}";
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(kTopic, big, Table());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("larger than the limit of 1048576 bytes"));
  // Just under the limit decodes.
  big = R"({"ts":1,"values":{"belt_speed":1},"pad":")" + std::string(1000, 'x') + "\"}";
  EXPECT_TRUE(DecodeJsonTelemetry(kTopic, big, Table()).ok());
}

TEST(JsonTelemetry, FieldProblemsAreCountedPerFieldAndTheRestDecodes) {
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(
      kTopic,
      R"({"ts":7,"values":{"belt_speed":"fast","motor_current":null,"nope":1,"also_nope":[1,2],)"
      R"("deep":{"x":1,"y":{"z":true}},"power":3.5}})",
      Table());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->wrong_type_fields, 1u);
  EXPECT_EQ(r->null_fields, 1u);
  EXPECT_EQ(r->unmapped_fields, 4u);  // nope, also_nope, deep.x, deep.y.z
  std::vector<std::string> fields;
  for (const JsonFieldProblem& p : r->problems) fields.push_back(p.kind + ":" + p.field);
  EXPECT_THAT(fields, ::testing::ElementsAre("wrong_type:belt_speed", "null_value:motor_current",
                                             "unmapped_field:nope", "unmapped_field:also_nope",
                                             "unmapped_field:deep.x", "unmapped_field:deep.y.z"));
  EXPECT_THAT(r->problems[0].message, HasSubstr("b1-cv-01/belt_speed) is a string"));
  ASSERT_EQ(r->samples.size(), 1u);
  EXPECT_EQ(r->samples[0].signal, *Table().FindJson(kTopic, "power"));
  EXPECT_EQ(r->samples[0].value, 3.5);
}

TEST(JsonTelemetry, UnknownTopicHasOnlyUnmappedFields) {
  Result<JsonDecodeResult> r =
      DecodeJsonTelemetry("other/topic", R"({"ts":7,"values":{"belt_speed":1,"b":2}})", Table());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->samples.empty());
  EXPECT_EQ(r->unmapped_fields, 2u);
}

TEST(JsonTelemetry, KeptProblemsAreBoundedButAllCounted) {
  std::string doc = R"({"ts":1,"values":{)";
  for (int i = 0; i < 100; ++i) doc += (i ? "," : "") + ("\"f" + std::to_string(i) + "\":1");
  doc += "}}";
  Result<JsonDecodeResult> r = DecodeJsonTelemetry(kTopic, doc, Table());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unmapped_fields, 100u);
  EXPECT_EQ(r->problems.size(), JsonDecodeOptions{}.max_problems_kept);
}

TEST(JsonTelemetry, DecoderReusesItsBuffersAcrossMessages) {
  JsonTelemetryDecoder decoder(Table());
  EXPECT_TRUE(decoder.KnowsTopic(kTopic));
  EXPECT_FALSE(decoder.KnowsTopic("brno/nope"));
  JsonDecodeResult out;
  ASSERT_TRUE(decoder.Decode(kTopic, R"({"ts":1,"values":{"belt_speed":1,"x":1}})", &out).ok());
  EXPECT_EQ(out.samples.size(), 1u);
  EXPECT_FALSE(decoder.Decode(kTopic, "nope", &out).ok());
  EXPECT_TRUE(out.samples.empty());
  EXPECT_EQ(out.unmapped_fields, 0u);
  ASSERT_TRUE(decoder.Decode(kTopic, R"({"ts":2,"values":{"belt_speed":2}})", &out).ok());
  ASSERT_EQ(out.samples.size(), 1u);
  EXPECT_EQ(out.samples[0].ts_us, 2000);
  EXPECT_EQ(out.unmapped_fields, 0u);
}

}  // namespace
}  // namespace weft::edge

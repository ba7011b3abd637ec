#include "lake/delta/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

// PROTOCOL.md's example schema, plus decimal, timestamp_ntz, date and column mapping metadata.
constexpr char kSchema[] =
    R"J({"type":"struct","fields":[)J"
    R"J({"name":"a","type":"integer","nullable":false,"metadata":{}},)J"
    R"J({"name":"b","type":{"type":"struct","fields":[{"name":"d","type":"integer","nullable":false,"metadata":{}}]},"nullable":true,"metadata":{}},)J"
    R"J({"name":"c","type":{"type":"array","elementType":"integer","containsNull":false},"nullable":true,"metadata":{}},)J"
    R"J({"name":"f","type":{"type":"map","keyType":"string","valueType":"string","valueContainsNull":true},"nullable":true,"metadata":{}},)J"
    R"J({"name":"m","type":"decimal(10,2)","nullable":true,"metadata":{"delta.columnMapping.id":5,"delta.columnMapping.physicalName":"col-x"}},)J"
    R"J({"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}},)J"
    R"J({"name":"d","type":"date","nullable":true,"metadata":{}}]})J";

TEST(SchemaTest, ParsesNestedTypes) {
  Result<Schema> s = ParseSchema(kSchema);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->fields.size(), 7u);
  EXPECT_EQ(s->fields[0].type->kind, DataType::Kind::kInteger);
  EXPECT_FALSE(s->fields[0].nullable);
  EXPECT_EQ(s->fields[1].type->kind, DataType::Kind::kStruct);
  EXPECT_EQ(s->fields[1].type->fields[0].name, "d");
  EXPECT_EQ(s->fields[2].type->element->kind, DataType::Kind::kInteger);
  EXPECT_FALSE(s->fields[2].type->contains_null);
  EXPECT_EQ(s->fields[3].type->value->kind, DataType::Kind::kString);
  EXPECT_EQ(s->fields[4].type->precision, 10);
  EXPECT_EQ(s->fields[4].type->scale, 2);
  EXPECT_EQ(s->fields[4].PhysicalName(), "col-x");
  EXPECT_EQ(s->fields[4].ColumnMappingId(), 5);
  EXPECT_EQ(s->fields[5].type->kind, DataType::Kind::kTimestampNtz);
  EXPECT_TRUE(s->Uses(DataType::Kind::kTimestampNtz));
  EXPECT_EQ(s->fields[6].PhysicalName(), "d");
}

TEST(SchemaTest, RoundTrips) {
  Result<Schema> s = ParseSchema(kSchema);
  ASSERT_TRUE(s.ok());
  std::string json = SerializeSchema(*s);
  EXPECT_THAT(json, HasSubstr(R"J({"name":"a","type":"integer","nullable":false,"metadata":{}})J"));
  EXPECT_THAT(json, HasSubstr(R"J("type":"decimal(10,2)")J"));
  Result<Schema> again = ParseSchema(json);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeSchema(*again), json);
}

TEST(SchemaTest, ErrorsNameThePath) {
  Result<Schema> bad = ParseSchema(
      R"J({"type":"struct","fields":[{"name":"a","type":"long"},{"name":"b","type":"uuid"}]})J");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("fields[1].type"));
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown data type 'uuid'"));
  EXPECT_FALSE(ParsePrimitiveTypeName("decimal(40,2)J").ok());
  EXPECT_FALSE(ParseSchema("[1]").ok());
  EXPECT_FALSE(ParseSchema("{").ok());
}

}  // namespace
}  // namespace weft::lake::delta

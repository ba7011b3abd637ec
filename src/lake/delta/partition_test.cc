#include "lake/delta/partition.h"

#include <gtest/gtest.h>

namespace weft::lake::delta {
namespace {

PartitionValue Parse(std::string_view type, std::optional<std::string> text) {
  Result<DataTypePtr> t = ParsePrimitiveTypeName(type);
  EXPECT_TRUE(t.ok());
  Result<PartitionValue> v = ParsePartitionValue(**t, text);
  EXPECT_TRUE(v.ok()) << type << " " << text.value_or("<null>") << ": " << v.status().ToString();
  return v.ok() ? *v : PartitionValue();
}

bool Fails(std::string_view type, std::string text) {
  Result<DataTypePtr> t = ParsePrimitiveTypeName(type);
  return !ParsePartitionValue(**t, text).ok();
}

TEST(PartitionTest, ParsesEveryPrimitive) {
  EXPECT_EQ(Parse("string", "a b"), PartitionValue(std::string("a b")));
  EXPECT_EQ(Parse("string", ""), PartitionValue());
  EXPECT_EQ(Parse("long", std::nullopt), PartitionValue());
  EXPECT_EQ(Parse("long", "-42"), PartitionValue(int64_t{-42}));
  EXPECT_EQ(Parse("integer", "2147483647"), PartitionValue(int64_t{2147483647}));
  EXPECT_EQ(Parse("double", "9.9"), PartitionValue(9.9));
  EXPECT_EQ(Parse("boolean", "true"), PartitionValue(true));
  EXPECT_EQ(Parse("date", "1970-01-02"), PartitionValue(DateValue{1}));
  EXPECT_EQ(Parse("date", "2021-4-5"), PartitionValue(DateValue{18722}));
  EXPECT_EQ(Parse("timestamp", "1970-01-01 00:00:01.5"), PartitionValue(TimestampValue{1500000}));
  EXPECT_EQ(Parse("timestamp", "1970-01-01T00:00:00.123456Z"),
            PartitionValue(TimestampValue{123456}));
  EXPECT_EQ(Parse("timestamp_ntz", "1970-01-01 01:00:00"),
            PartitionValue(TimestampValue{3600000000}));
  EXPECT_EQ(Parse("decimal(5,2)", "-1.5"), PartitionValue(DecimalValue{"-150", 2}));
  EXPECT_EQ(Parse("decimal(5,2)", "1.500"), PartitionValue(DecimalValue{"150", 2}));
}

TEST(PartitionTest, RejectsMalformedValues) {
  EXPECT_TRUE(Fails("integer", "2147483648"));
  EXPECT_TRUE(Fails("byte", "200"));
  EXPECT_TRUE(Fails("long", "1.0"));
  EXPECT_TRUE(Fails("boolean", "yes"));
  EXPECT_TRUE(Fails("date", "2021-02-30"));
  EXPECT_TRUE(Fails("timestamp", "2021-01-01 25:00:00"));
  EXPECT_TRUE(Fails("decimal(3,1)", "1.25"));
  EXPECT_TRUE(Fails("decimal(3,1)", "1234"));
}

TEST(PartitionTest, SerializesWhatItParses) {
  auto round_trip = [](std::string_view type, std::string text) {
    Result<DataTypePtr> t = ParsePrimitiveTypeName(type);
    Result<PartitionValue> v = ParsePartitionValue(**t, text);
    EXPECT_TRUE(v.ok());
    return SerializePartitionValue(**t, *v).value_or("<null>");
  };
  EXPECT_EQ(round_trip("date", "2024-02-29"), "2024-02-29");
  EXPECT_EQ(round_trip("timestamp", "2024-02-29 10:11:12.5"), "2024-02-29T10:11:12.500000Z");
  EXPECT_EQ(round_trip("timestamp_ntz", "1969-12-31 23:59:59"), "1969-12-31 23:59:59.000000");
  EXPECT_EQ(round_trip("decimal(10,3)", "-0.05"), "-0.050");
  EXPECT_EQ(round_trip("long", "7"), "7");
  EXPECT_EQ(round_trip("string", ""), "<null>");
}

}  // namespace
}  // namespace weft::lake::delta

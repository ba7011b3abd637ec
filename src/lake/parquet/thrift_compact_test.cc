#include "lake/parquet/thrift_compact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace weft::lake::parquet {
namespace {

using ::testing::HasSubstr;

TEST(ThriftCompactTest, RoundTripsScalarsAndNesting) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, -7);
  w.FieldI64(3, int64_t{1} << 40);
  w.FieldBinary(20, "hello");  // delta > 15: long form header
  w.FieldStructBegin(21);
  w.FieldBool(1, true);
  w.FieldDouble(2, 2.5);
  w.EndStruct();
  w.FieldListBegin(22, CType::kI32, 20);
  for (int i = 0; i < 20; ++i) w.I32(i - 10);
  w.FieldByte(23, -3);
  w.EndStruct();

  CompactReader r(out);
  ASSERT_TRUE(r.BeginStruct().ok());
  CompactReader::Field f;
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 1);
  EXPECT_EQ(*r.ReadI32(), -7);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 3);
  EXPECT_EQ(*r.ReadI64(), int64_t{1} << 40);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 20);
  EXPECT_EQ(*r.ReadBinary(), "hello");
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 21);
  ASSERT_TRUE(r.BeginStruct().ok());
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.type, CType::kBoolTrue);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(*r.ReadDouble(), 2.5);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.type, CType::kStop);
  r.EndStruct();
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 22);
  CType elem;
  uint32_t n;
  ASSERT_TRUE(r.ReadListHeader(&elem, &n).ok());
  EXPECT_EQ(n, 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*r.ReadI32(), i - 10);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 23);
  EXPECT_EQ(*r.ReadByte(), -3);
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.type, CType::kStop);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ThriftCompactTest, SkipsEveryType) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldStructBegin(1);
  w.FieldListBegin(1, CType::kStruct, 2);
  w.BeginStruct();
  w.FieldBinary(1, "x");
  w.EndStruct();
  w.BeginStruct();
  w.EndStruct();
  w.FieldListBegin(2, CType::kBoolTrue, 3);
  w.BoolElement(true);
  w.BoolElement(false);
  w.BoolElement(true);
  w.FieldHeader(3, CType::kMap);
  w.Varint(2);
  out.push_back(static_cast<char>(0x85));  // binary -> i32
  w.Binary("a");
  w.I32(1);
  w.Binary("b");
  w.I32(2);
  w.FieldDouble(4, 1.0);
  w.EndStruct();
  w.FieldI32(2, 99);
  w.EndStruct();

  CompactReader r(out);
  ASSERT_TRUE(r.BeginStruct().ok());
  CompactReader::Field f;
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  ASSERT_TRUE(r.Skip(f.type).ok());
  ASSERT_TRUE(r.ReadFieldHeader(&f).ok());
  EXPECT_EQ(f.id, 2);
  EXPECT_EQ(*r.ReadI32(), 99);
}

TEST(ThriftCompactTest, RejectsHugeListsAndDeepNesting) {
  std::string out;
  CompactWriter w(&out);
  w.ListHeader(CType::kI64, 1000000);
  CompactReader r(out);
  CType elem;
  uint32_t n;
  Status s = r.ReadListHeader(&elem, &n);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("1000000 elements"));

  std::string deep(10000, '\x0C');  // field 0 delta... struct headers nested
  for (char& c : deep) c = '\x1C';  // field id +1, type struct
  CompactReader d(deep);
  ASSERT_TRUE(d.BeginStruct().ok());
  CompactReader::Field f;
  ASSERT_TRUE(d.ReadFieldHeader(&f).ok());
  Status s2 = d.Skip(f.type);
  EXPECT_FALSE(s2.ok());
  EXPECT_THAT(s2.message(), HasSubstr("nested deeper"));

  CompactReader t(std::string_view("\x18\x7F", 2));  // binary of 127 bytes, none present
  ASSERT_TRUE(t.BeginStruct().ok());
  ASSERT_TRUE(t.ReadFieldHeader(&f).ok());
  EXPECT_FALSE(t.ReadBinary().ok());
}

}  // namespace
}  // namespace weft::lake::parquet

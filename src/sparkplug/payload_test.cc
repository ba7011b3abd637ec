#include "sparkplug/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace weft::sparkplug {
namespace {

using ::testing::HasSubstr;

// ---- Small protobuf wire-format writers for building malformed inputs. ----

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string Tag(uint32_t field, uint32_t wire_type) {
  return Varint((uint64_t{field} << 3) | wire_type);
}

std::string VarintField(uint32_t field, uint64_t v) {
  return Tag(field, 0) + Varint(v);
}

std::string LenField(uint32_t field, const std::string& content) {
  return Tag(field, 2) + Varint(content.size()) + content;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

Metric Typed(DataType type, MetricValue value) {
  Metric m;
  m.name = DataTypeName(type);
  m.alias = static_cast<uint64_t>(type);
  m.timestamp_ms = 1'700'000'000'000;
  m.type = type;
  m.value = std::move(value);
  return m;
}

// Checks the invariants every decode result must satisfy; returns whether it decoded.
bool DecodesOrExplains(const std::string& bytes) {
  Result<Payload> p = Decode(bytes);
  if (!p.ok()) {
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << p.status().ToString();
    EXPECT_FALSE(p.status().message().empty());
    return false;
  }
  const std::string once = Encode(*p);
  Result<Payload> again = Decode(once);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  if (again.ok()) {
    EXPECT_EQ(Encode(*again), once);
  }
  return true;
}

// ---- Round trips. ----

TEST(Payload, RoundTripsEveryDataType) {
  const std::string dataset = Bytes({0x08, 0x01, 0x12, 0x01, 'a', 0x18, 0x03});  // 1 Int32 col
  const std::string template_def = Bytes({0x0A, 0x01, '1', 0x28, 0x01});  // version, definition
  Payload p;
  p.timestamp_ms = 1'700'000'000'123;
  p.seq = 7;
  p.metrics = {
      Typed(DataType::kInt8, int64_t{-128}),
      Typed(DataType::kInt8, int64_t{127}),
      Typed(DataType::kInt16, int64_t{-32768}),
      Typed(DataType::kInt32, int64_t{std::numeric_limits<int32_t>::min()}),
      Typed(DataType::kInt64, std::numeric_limits<int64_t>::min()),
      Typed(DataType::kInt64, std::numeric_limits<int64_t>::max()),
      Typed(DataType::kUInt8, uint64_t{255}),
      Typed(DataType::kUInt16, uint64_t{65535}),
      Typed(DataType::kUInt32, uint64_t{std::numeric_limits<uint32_t>::max()}),
      Typed(DataType::kUInt64, std::numeric_limits<uint64_t>::max()),
      Typed(DataType::kFloat, 1.25f),
      Typed(DataType::kDouble, -2.5e300),
      Typed(DataType::kBoolean, true),
      Typed(DataType::kBoolean, false),
      Typed(DataType::kString, std::string("héllo, wörld")),
      Typed(DataType::kDateTime, uint64_t{1'700'000'000'000}),
      Typed(DataType::kText, std::string("line 1\nline 2")),
      Typed(DataType::kUuid, std::string("123e4567-e89b-12d3-a456-426614174000")),
      Typed(DataType::kDataSet, dataset),
      Typed(DataType::kBytes, std::string("\x00\x01\xff", 3)),
      Typed(DataType::kFile, std::string("%PDF")),
      Typed(DataType::kTemplate, template_def),
      Typed(DataType::kInt8Array, std::string("\x01\xff", 2)),
      Typed(DataType::kInt16Array, std::string("\x01\x00\xff\xff", 4)),
      Typed(DataType::kInt32Array, std::string(8, '\x02')),
      Typed(DataType::kInt64Array, std::string(16, '\x03')),
      Typed(DataType::kUInt8Array, std::string("\x07", 1)),
      Typed(DataType::kUInt16Array, std::string(2, '\x04')),
      Typed(DataType::kUInt32Array, std::string(4, '\x05')),
      Typed(DataType::kUInt64Array, std::string(8, '\x06')),
      Typed(DataType::kFloatArray, std::string(4, '\x00')),
      Typed(DataType::kDoubleArray, std::string(8, '\x00')),
      Typed(DataType::kBooleanArray, std::string("\x00\x00\x00\x03\xa0", 5)),
      Typed(DataType::kStringArray, std::string("a\0b\0", 4)),
      Typed(DataType::kDateTimeArray, std::string(8, '\x09')),
  };
  for (const Metric& m : p.metrics) {
    EXPECT_TRUE(CheckValue(m.type, m.value).ok()) << *m.name;
  }
  Result<Payload> back = Decode(Encode(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST(Payload, AppendDataMetricWritesTheBytesEncodeWrites) {
  const std::vector<std::pair<DataType, MetricValue>> cases = {
      {DataType::kInt8, int64_t{-5}},
      {DataType::kInt32, int64_t{std::numeric_limits<int32_t>::min()}},
      {DataType::kInt64, int64_t{-1}},
      {DataType::kUInt32, uint64_t{4000000000}},
      {DataType::kUInt64, std::numeric_limits<uint64_t>::max()},
      {DataType::kFloat, 1.5f},
      {DataType::kDouble, -0.0},
      {DataType::kBoolean, false},
      {DataType::kString, std::string("ünïcode")},
      {DataType::kBytes, std::string("\0\x01", 2)},
      {DataType::kDouble, MetricValue{}},  // null
      {DataType::kUnknown, int64_t{7}},
  };
  Payload payload;
  payload.timestamp_ms = 1764000000123;
  payload.seq = 200;
  std::string direct;
  AppendPayloadTimestamp(*payload.timestamp_ms, &direct);
  uint64_t alias = 1;
  for (const auto& [type, value] : cases) {
    Metric m;
    m.alias = alias;
    m.timestamp_ms = 1764000000000 + alias;
    m.type = type;
    m.value = value;
    m.is_null = std::holds_alternative<std::monostate>(value);
    payload.metrics.push_back(m);
    ASSERT_TRUE(AppendDataMetric(alias, *m.timestamp_ms, type, value, &direct));
    ++alias;
  }
  AppendPayloadSeq(*payload.seq, &direct);
  EXPECT_EQ(direct, Encode(payload));
  std::string untouched = "x";
  EXPECT_FALSE(AppendDataMetric(1, 2, DataType::kDataSet, std::string("ds"), &untouched));
  EXPECT_EQ(untouched, "x");
}

TEST(Payload, RoundTripsNullsOfEveryType) {
  Payload p;
  for (uint32_t t = 1; t <= 34; ++t) {
    const auto type = static_cast<DataType>(t);
    if (!IsMetricDataType(type)) continue;
    Metric m = Typed(type, MetricValue());
    m.is_null = true;
    p.metrics.push_back(m);
  }
  EXPECT_EQ(p.metrics.size(), 32u);
  Result<Payload> back = Decode(Encode(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST(Payload, RoundTripsMetricAndPayloadFields) {
  Payload p;
  p.timestamp_ms = 5;
  p.seq = 255;
  p.uuid = "schema-1";
  p.body = std::string("\x00\x01", 2);
  Metric m;
  m.alias = 0;
  m.type = DataType::kDouble;
  m.value = 1.0;
  m.is_historical = true;
  m.is_transient = true;
  m.quality = 192;
  p.metrics.push_back(m);
  Metric untyped;  // DATA without datatype
  untyped.alias = 3;
  untyped.value = uint64_t{42};
  p.metrics.push_back(untyped);
  Result<Payload> back = Decode(Encode(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST(Payload, EmptyBytesAreAnEmptyPayload) {
  Result<Payload> p = Decode("");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, Payload());
  EXPECT_EQ(Encode(Payload()), "");
}

TEST(Payload, NegativeSmallIntegersTravelSignExtendedTo32Bits) {
  Payload p;
  p.metrics.push_back(Typed(DataType::kInt8, int64_t{-1}));
  const std::string bytes = Encode(p);
  // int_value (field 10, varint) = 0xFFFFFFFF, as Eclipse Tahu encodes it.
  EXPECT_THAT(bytes, HasSubstr(Bytes({0x50, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F})));
}

// ---- Interoperability: the field numbers of the specification, pinned byte by byte. ----

TEST(Payload, DecodesAHandEncodedPayloadAndEncodesItIdentically) {
  const std::string bytes = Bytes({
      0x08, 0xE8, 0x07,                   // Payload.timestamp (1, varint) = 1000
      0x12, 0x16,                         // Payload.metrics (2, length-delimited), 22 bytes:
      0x0A, 0x04, 'T',  'e',  'm',  'p',  //   Metric.name (1) = "Temp"
      0x10, 0x07,                         //   Metric.alias (2) = 7
      0x18, 0xE8, 0x07,                   //   Metric.timestamp (3) = 1000
      0x20, 0x0A,                         //   Metric.datatype (4) = Double (10)
      0x69, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x35, 0x40,  // double_value (13, 64-bit) 21.5
      0x12, 0x0E,                                            // metric 1, 14 bytes:
      0x10, 0x08,                                            //   alias = 8
      0x20, 0x03,                                            //   datatype = Int32 (3)
      0x28, 0x01,                                            //   is_historical (5) = true
      0x30, 0x01,                                            //   is_transient (6) = true
      0x50, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F,  //   int_value (10) = 0xFFFFFFFE, i.e. -2
      0x12, 0x19,                          // metric 2, 25 bytes:
      0x0A, 0x01, 'N',                     //   name = "N"
      0x20, 0x0C,                          //   datatype = String (12)
      0x38, 0x01,                          //   is_null (7) = true
      0x4A, 0x10,                          //   properties (9), PropertySet of 16 bytes:
      0x0A, 0x07, 'Q',  'u',  'a',  'l',  'i',  't',  'y',  // keys (1) = "Quality"
      0x12, 0x05,                                           // values (2), PropertyValue of 5 bytes:
      0x08, 0x03,                                           //   type (1) = Int32
      0x18, 0xF4, 0x03,                                     //   int_value (3) = 500 (STALE)
      0x12, 0x04,                                           // metric 3, 4 bytes:
      0x10, 0x09,                                           //   alias = 9 (no datatype)
      0x70, 0x01,                                           //   boolean_value (14) = true
      0x12, 0x09,                                           // metric 4, 9 bytes:
      0x10, 0x0A,                                           //   alias = 10
      0x20, 0x09,                                           //   datatype = Float (9)
      0x65, 0x00, 0x00, 0xC0, 0x3F,                         //   float_value (12, 32-bit) = 1.5
      0x12, 0x07,                                           // metric 5, 7 bytes:
      0x10, 0x0B,                                           //   alias = 11
      0x20, 0x08,                                           //   datatype = UInt64 (8)
      0x58, 0xAC, 0x02,                                     //   long_value (11) = 300
      0x12, 0x09,                                           // metric 6, 9 bytes:
      0x10, 0x0C,                                           //   alias = 12
      0x20, 0x11,                                           //   datatype = Bytes (17)
      0x82, 0x01, 0x02, 0x00, 0xFF,                         //   bytes_value (16) = 00 FF
      0x12, 0x0A,                                           // metric 7, 10 bytes:
      0x0A, 0x01, 'S',                                      //   name = "S"
      0x20, 0x0E,                                           //   datatype = Text (14)
      0x7A, 0x03, 'h',  0xC3, 0xA9,                         //   string_value (15) = "hé"
      0x18, 0x05,                                           // Payload.seq (3) = 5
      0x22, 0x02, 'i',  'd',                                // Payload.uuid (4) = "id"
      0x2A, 0x01, 0x7F,                                     // Payload.body (5) = 7F
  });

  Payload expected;
  expected.timestamp_ms = 1000;
  expected.seq = 5;
  expected.uuid = "id";
  expected.body = "\x7f";
  Metric temp;
  temp.name = "Temp";
  temp.alias = 7;
  temp.timestamp_ms = 1000;
  temp.type = DataType::kDouble;
  temp.value = 21.5;
  Metric count;
  count.alias = 8;
  count.type = DataType::kInt32;
  count.value = int64_t{-2};
  count.is_historical = true;
  count.is_transient = true;
  Metric null_string;
  null_string.name = "N";
  null_string.type = DataType::kString;
  null_string.is_null = true;
  null_string.quality = 500;
  Metric flag;
  flag.alias = 9;
  flag.value = true;
  Metric ratio;
  ratio.alias = 10;
  ratio.type = DataType::kFloat;
  ratio.value = 1.5f;
  Metric total;
  total.alias = 11;
  total.type = DataType::kUInt64;
  total.value = uint64_t{300};
  Metric blob;
  blob.alias = 12;
  blob.type = DataType::kBytes;
  blob.value = std::string("\x00\xff", 2);
  Metric text;
  text.name = "S";
  text.type = DataType::kText;
  text.value = std::string("hé");
  expected.metrics = {temp, count, null_string, flag, ratio, total, blob, text};

  Result<Payload> decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, expected);
  EXPECT_EQ(Encode(expected), bytes);
}

TEST(Payload, AcceptsTheSignedIntegerEncodingsSeenInTheWild) {
  struct Case {
    DataType type;
    uint32_t field;  // 10 int_value or 11 long_value
    uint64_t wire;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {DataType::kInt16, 10, 0xFFFFFFA9, -87},        // sign-extended to 32 bits (Tahu)
      {DataType::kInt16, 10, 0xFFA9, -87},            // zero-extended 16-bit two's complement
      {DataType::kInt8, 10, 0xFF, -1},                // zero-extended 8-bit
      {DataType::kInt8, 11, 0xFFFFFFFFFFFFFFFF, -1},  // sign-extended to 64 bits
      {DataType::kInt32, 11, 0xFFFFFFFF, -1},         // Int32 in long_value
      {DataType::kInt64, 11, 0x8000000000000000, std::numeric_limits<int64_t>::min()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(DataTypeName(c.type) + " " + std::to_string(c.wire));
    const std::string metric =
        VarintField(4, static_cast<uint64_t>(c.type)) + VarintField(c.field, c.wire);
    Result<Payload> p = Decode(LenField(2, metric));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->metrics[0].value, MetricValue(c.want));
  }
}

TEST(Payload, UnknownFieldsAndExtensionsAreSkipped) {
  const std::string bytes = VarintField(1, 9) + VarintField(100, 1) + LenField(7, "ext") +
                            LenField(2, VarintField(2, 1) + VarintField(99, 5)) + Tag(6, 5) +
                            std::string(4, '\0');
  Result<Payload> p = Decode(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->timestamp_ms, 9u);
  ASSERT_EQ(p->metrics.size(), 1u);
  EXPECT_EQ(p->metrics[0].alias, 1u);
}

TEST(Payload, ExplicitNullWinsOverAValue) {
  const std::string metric =
      VarintField(4, 10) + VarintField(7, 1) + Tag(13, 1) + std::string(8, '\0');
  Result<Payload> p = Decode(LenField(2, metric));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->metrics[0].is_null);
  EXPECT_EQ(p->metrics[0].value, MetricValue());
}

// ---- Malformed input: errors that name the problem, never crashes. ----

struct BadPayload {
  std::string name;
  std::string bytes;
  std::string message;
};

TEST(Payload, MalformedBytesGiveErrorsNamingTheProblem) {
  const std::string one_metric = LenField(2, VarintField(2, 1));
  const std::vector<BadPayload> cases = {
      {"truncated tag", Bytes({0x80}), "payload: truncated field tag at byte 0"},
      {"truncated varint", Bytes({0x08, 0x80}),
       "payload: field 1 (timestamp) at byte 0: truncated varint"},
      {"varint over 10 bytes",
       Bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}),
       "field 1 (timestamp) at byte 0: varint longer than 64 bits"},
      {"varint overflowing 64 bits",
       Bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
       "varint longer than 64 bits"},
      {"field number 0", Bytes({0x00}), "payload: invalid field number 0 at byte 0"},
      {"wrong wire type, payload", Bytes({0x0A, 0x00}),
       "payload: field 1 (timestamp) at byte 0: wire type 2 (length-delimited), expected 0 "
       "(varint)"},
      {"wrong wire type, metric", one_metric + LenField(2, LenField(10, "x")),
       "metric 1: field 10 (int_value) at byte 6: wire type 2 (length-delimited), expected 0 "
       "(varint)"},
      {"wrong wire type, double", LenField(2, Tag(13, 5) + std::string(4, '\0')),
       "metric 0: field 13 (double_value) at byte 2: wire type 5 (32-bit), expected 1 (64-bit)"},
      {"metrics as varint", VarintField(2, 1),
       "field 2 (metrics) at byte 0: wire type 0 (varint), expected 2 (length-delimited)"},
      {"nested wrong wire type",
       LenField(2, LenField(9, LenField(2, Tag(3, 1) + std::string(8, '\0')))),
       "metric 0.properties.values[0]: field 3 (int_value) at byte 6: wire type 1 (64-bit)"},
      {"group wire type", Bytes({0x0B}), "groups are not used by Sparkplug B"},
      {"invalid wire type", Bytes({0x0E}), "invalid wire type 6"},
      {"truncated fixed64", Tag(13, 1) + "abc", "truncated 64-bit value"},
      {"huge length", Bytes({0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}),
       "payload: field 2 (metrics) at byte 0: length 2147483647 runs past the end (0 bytes "
       "left)"},
      {"length above 2^31 - 1", Bytes({0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}),
       "payload: field 2 (metrics) at byte 0: length longer than 5 bytes or above 2^31 - 1"},
      {"overlong length", Bytes({0x2A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
       "field 5 (body) at byte 0: length longer than 5 bytes"},
      {"overlong tag", Bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}),
       "payload: field tag at byte 0 is longer than 5 bytes or above 2^32 - 1"},
      {"length past the end", Bytes({0x12, 0x05, 0x10, 0x01}),
       "length 5 runs past the end (2 bytes left)"},
      {"truncated inside a metric", one_metric + Bytes({0x12, 0x02, 0x10}),
       "field 2 (metrics) at byte 4: length 2 runs past the end"},
      {"truncated metric field", one_metric + Bytes({0x12, 0x01, 0x10}),
       "metric 1: field 2 (alias) at byte 6: truncated varint"},
      {"bad packed field", LenField(2, LenField(17, LenField(3, Bytes({0x80})))),
       "metric 0.dataset_value: field 3 (types) at byte 5: malformed varint in packed"},
      {"value does not match datatype",
       one_metric + LenField(2, VarintField(4, 10) + LenField(15, "hot")),
       "metric 1: value does not match datatype Double: got string_value"},
      {"named metric mismatch",
       LenField(2, LenField(1, "Temp") + VarintField(4, 11) + VarintField(10, 1)),
       "metric 0 (\"Temp\"): value does not match datatype Boolean: got int_value"},
      {"unknown datatype", LenField(2, VarintField(4, 99)), "metric 0: unknown datatype 99"},
      {"property datatype on a metric", LenField(2, VarintField(4, 20)),
       "metric 0: datatype PropertySet is not valid for a metric"},
      {"Int8 out of range", LenField(2, VarintField(4, 1) + VarintField(10, 300)),
       "metric 0: value 300 is out of range for Int8"},
      {"UInt16 out of range", LenField(2, VarintField(4, 6) + VarintField(11, 70000)),
       "value 70000 is out of range for UInt16"},
      {"name not UTF-8", LenField(2, LenField(1, "\xC3\x28")), "metric 0: name is not valid UTF-8"},
      {"string not UTF-8", LenField(2, VarintField(4, 12) + LenField(15, "\xED\xA0\x80")),
       "the String value is not valid UTF-8"},
      {"uuid not UTF-8", LenField(4, "\xFF"), "uuid is not valid UTF-8"},
      {"array of a partial element", LenField(2, VarintField(4, 31) + LenField(16, "1234567")),
       "a DoubleArray value of 7 bytes is not a whole number of 8-byte elements"},
      {"extension value", LenField(2, LenField(19, "")), "extension_value is not supported"},
      {"properties keys and values differ", LenField(2, LenField(9, LenField(1, "Quality"))),
       "metric 0: properties have 1 keys but 0 values"},
      {"quality not an integer",
       LenField(2, LenField(9, LenField(1, "Quality") + LenField(2, VarintField(7, 1)))),
       "the Quality property is not an integer"},
  };
  for (const BadPayload& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Payload> p = Decode(c.bytes);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), HasSubstr(c.message));
  }
}

TEST(Payload, EnforcesLimits) {
  DecodeLimits limits;
  limits.max_bytes = 10;
  Result<Payload> big = Decode(std::string(11, '\0'), limits);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("payload is 11 bytes, more than the limit of 10"));

  limits = DecodeLimits();
  limits.max_metrics = 3;
  std::string four;
  for (int i = 0; i < 4; ++i) four += LenField(2, "");
  EXPECT_TRUE(Decode(four.substr(0, 6), limits).ok());
  Result<Payload> many = Decode(four, limits);
  ASSERT_FALSE(many.ok());
  EXPECT_THAT(many.status().message(), HasSubstr("at byte 6: more than 3 metrics"));

  limits = DecodeLimits();
  limits.max_elements = 5;
  Result<Payload> elements = Decode(LenField(2, LenField(1, "a") + LenField(15, "b")) +
                                        LenField(2, LenField(1, "c") + LenField(15, "d")),
                                    limits);
  ASSERT_FALSE(elements.ok());
  EXPECT_THAT(elements.status().message(),
              HasSubstr("more than 5 strings, sub-messages and unknown fields"));

  EXPECT_THAT(Decode(std::string((16u << 20) + 1, '\0')).status().message(),
              HasSubstr("more than the limit of 16777216"));
}

TEST(Payload, BoundsNesting) {
  // metric { template_value { metrics { template_value { ... } } } }
  const auto nest = [](int levels) {
    std::string metric;
    for (int i = 0; i < levels; ++i) metric = LenField(18, LenField(2, metric));
    return LenField(2, metric);
  };
  EXPECT_TRUE(Decode(nest(10)).ok());  // depth 21
  Result<Payload> deep = Decode(nest(20));
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("messages nested deeper than 32"));
  EXPECT_THAT(deep.status().message(), HasSubstr("metric 0.template_value.metrics[0]"));
}

TEST(Payload, EveryTruncationAndMutationDecodesOrExplains) {
  Payload p;
  p.timestamp_ms = 1'700'000'000'000;
  p.seq = 3;
  p.metrics = {Typed(DataType::kInt16, int64_t{-300}), Typed(DataType::kString, std::string("x")),
               Typed(DataType::kDouble, 3.5),
               Typed(DataType::kDataSet, Bytes({0x08, 0x01, 0x12, 0x01, 'a', 0x18, 0x03}))};
  p.metrics[1].quality = 0;
  const std::string good = Encode(p);
  for (size_t n = 0; n <= good.size(); ++n) DecodesOrExplains(good.substr(0, n));
  for (size_t i = 0; i < good.size(); ++i) {
    for (int b : {0x00, 0x01, 0x07, 0x0A, 0x12, 0x7F, 0x80, 0xFF}) {
      std::string mutated = good;
      mutated[i] = static_cast<char>(b);
      DecodesOrExplains(mutated);
    }
  }
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 64);
  for (int i = 0; i < 20000; ++i) {
    std::string random(length(rng), '\0');
    for (char& c : random) c = static_cast<char>(byte(rng));
    DecodesOrExplains(random);
  }
}

// ---- CheckValue and ApplyDataType. ----

TEST(Payload, CheckValueSaysWhatIsWrong) {
  EXPECT_TRUE(CheckValue(DataType::kInt8, int64_t{-128}).ok());
  EXPECT_TRUE(CheckValue(DataType::kDouble, MetricValue()).ok());
  EXPECT_THAT(CheckValue(DataType::kInt8, int64_t{128}).message(),
              HasSubstr("value 128 is out of range for Int8"));
  EXPECT_THAT(CheckValue(DataType::kUInt32, uint64_t{1} << 32).message(),
              HasSubstr("out of range for UInt32"));
  EXPECT_THAT(CheckValue(DataType::kDouble, 1.0f).message(),
              HasSubstr("a Double value must be double, got float"));
  EXPECT_THAT(CheckValue(DataType::kUInt8, int64_t{1}).message(),
              HasSubstr("a UInt8 value must be uint64_t, got int64_t"));
  EXPECT_THAT(CheckValue(DataType::kString, std::string("\xFF")).message(),
              HasSubstr("not valid UTF-8"));
  EXPECT_THAT(CheckValue(DataType::kPropertySet, MetricValue()).message(),
              HasSubstr("PropertySet is not a metric datatype"));
}

TEST(Payload, ApplyDataTypeConvertsUntypedValues) {
  EXPECT_EQ(*ApplyDataType(uint64_t{0xFFFFFFFE}, DataType::kInt32), MetricValue(int64_t{-2}));
  EXPECT_EQ(*ApplyDataType(uint64_t{200}, DataType::kUInt8), MetricValue(uint64_t{200}));
  EXPECT_EQ(*ApplyDataType(uint64_t{7}, DataType::kDateTime), MetricValue(uint64_t{7}));
  EXPECT_EQ(*ApplyDataType(2.5, DataType::kDouble), MetricValue(2.5));
  EXPECT_EQ(*ApplyDataType(std::string("ab"), DataType::kBytes), MetricValue(std::string("ab")));
  EXPECT_EQ(*ApplyDataType(int64_t{-3}, DataType::kInt16), MetricValue(int64_t{-3}));
  EXPECT_EQ(*ApplyDataType(MetricValue(), DataType::kBoolean), MetricValue());
  EXPECT_THAT(ApplyDataType(uint64_t{256}, DataType::kUInt8).status().message(),
              HasSubstr("value 256 is out of range for UInt8"));
  EXPECT_THAT(ApplyDataType(1.5f, DataType::kDouble).status().message(),
              HasSubstr("value does not match datatype Double: got float_value"));
  EXPECT_THAT(ApplyDataType(std::string("\xFF"), DataType::kText).status().message(),
              HasSubstr("not valid UTF-8"));
}

TEST(Payload, DataTypeNames) {
  EXPECT_EQ(DataTypeName(DataType::kInt8), "Int8");
  EXPECT_EQ(DataTypeName(DataType::kBoolean), "Boolean");
  EXPECT_EQ(DataTypeName(DataType::kUuid), "UUID");
  EXPECT_EQ(DataTypeName(DataType::kDateTimeArray), "DateTimeArray");
  EXPECT_EQ(DataTypeName(static_cast<DataType>(99)), "DataType(99)");
  EXPECT_EQ(static_cast<uint32_t>(DataType::kBoolean), 11u);
  EXPECT_EQ(static_cast<uint32_t>(DataType::kString), 12u);
  EXPECT_EQ(static_cast<uint32_t>(DataType::kDateTime), 13u);
  EXPECT_EQ(static_cast<uint32_t>(DataType::kText), 14u);
  EXPECT_FALSE(IsMetricDataType(DataType::kUnknown));
  EXPECT_FALSE(IsMetricDataType(DataType::kPropertySetList));
  EXPECT_TRUE(IsMetricDataType(DataType::kTemplate));
}

}  // namespace
}  // namespace weft::sparkplug

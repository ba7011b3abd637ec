#include "modbus/register_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace weft::modbus {
namespace {

TEST(RegisterCodecTest, SplitsAndJoinsBothWordOrders) {
  EXPECT_EQ(SplitUint32(0x12345678u, WordOrder::kHighWordFirst),
            (std::array<uint16_t, 2>{0x1234, 0x5678}));
  EXPECT_EQ(SplitUint32(0x12345678u, WordOrder::kLowWordFirst),
            (std::array<uint16_t, 2>{0x5678, 0x1234}));
  EXPECT_EQ(JoinUint32(0x1234, 0x5678, WordOrder::kHighWordFirst), 0x12345678u);
  EXPECT_EQ(JoinUint32(0x5678, 0x1234, WordOrder::kLowWordFirst), 0x12345678u);
  EXPECT_EQ(Float32ToBits(1.0f), 0x3F800000u);
  EXPECT_EQ(BitsToFloat32(0xC0490FDBu), -3.14159274f);
}

TEST(RegisterCodecTest, IntegerRoundingIsHalfAwayFromZero) {
  const Scaling halves{.raw_type = RawType::kInt16, .scale = 0.5};
  auto up = EncodeScaled(1.25, halves);  // raw 2.5
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->words[0], 3);
  EXPECT_DOUBLE_EQ(up->stored_value, 1.5);
  EXPECT_FALSE(up->saturated);
  auto down = EncodeScaled(-1.25, halves);  // raw -2.5
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(static_cast<int16_t>(down->words[0]), -3);
  EXPECT_DOUBLE_EQ(down->stored_value, -1.5);

  const Scaling tenths{.raw_type = RawType::kInt16, .scale = 0.1};
  auto t = EncodeScaled(23.46, tenths);  // raw 234.6
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->words[0], 235);
  EXPECT_NEAR(t->stored_value, 23.5, 1e-12);
}

TEST(RegisterCodecTest, OffsetAndNegativeScale) {
  // 4..20 mA style: engineering = raw * 0.01 - 40 (e.g. -40.00 .. 615.35 degC in uint16).
  const Scaling s{.raw_type = RawType::kUint16, .scale = 0.01, .offset = -40.0};
  auto e = EncodeScaled(21.5, s);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->words[0], 6150);
  auto back = DecodeScaled(e->registers(), s);
  ASSERT_TRUE(back.ok());
  EXPECT_NEAR(*back, 21.5, 1e-9);

  const Scaling inverted{.raw_type = RawType::kInt16, .scale = -2.0};
  auto i = EncodeScaled(10.0, inverted);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(static_cast<int16_t>(i->words[0]), -5);
}

TEST(RegisterCodecTest, SaturatesToRawTypeLimitsAndSaysSo) {
  struct Case {
    RawType type;
    double value;
    double expected_raw;
  };
  const std::vector<Case> cases = {
      {RawType::kInt16, 40000, 32767},
      {RawType::kInt16, -40000, -32768},
      {RawType::kUint16, -1, 0},
      {RawType::kUint16, 70000, 65535},
      {RawType::kInt32, 3e9, 2147483647.0},
      {RawType::kInt32, -3e9, -2147483648.0},
      {RawType::kUint32, -0.6, 0},
      {RawType::kUint32, 5e9, 4294967295.0},
      {RawType::kInt16, std::numeric_limits<double>::infinity(), 32767},
      {RawType::kUint16, -std::numeric_limits<double>::infinity(), 0},
  };
  for (const Case& c : cases) {
    const Scaling s{.raw_type = c.type};
    auto e = EncodeScaled(c.value, s);
    ASSERT_TRUE(e.ok()) << RawTypeName(c.type) << " " << c.value;
    EXPECT_TRUE(e->saturated) << RawTypeName(c.type) << " " << c.value;
    EXPECT_EQ(e->stored_value, c.expected_raw) << RawTypeName(c.type) << " " << c.value;
    auto back = DecodeScaled(e->registers(), s);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, c.expected_raw);
  }
  // Just inside the range after rounding: not saturated.
  auto edge = EncodeScaled(32767.4, Scaling{.raw_type = RawType::kInt16});
  ASSERT_TRUE(edge.ok());
  EXPECT_FALSE(edge->saturated);
  EXPECT_EQ(edge->words[0], 32767);
  auto over = EncodeScaled(32767.5, Scaling{.raw_type = RawType::kInt16});
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(over->saturated);
}

TEST(RegisterCodecTest, Float32RoundTripsAndSaturates) {
  const Scaling f{.raw_type = RawType::kFloat32, .word_order = WordOrder::kLowWordFirst};
  auto e = EncodeScaled(21.5, f);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->count, 2u);
  EXPECT_EQ(JoinUint32(e->words[0], e->words[1], WordOrder::kLowWordFirst), Float32ToBits(21.5f));
  auto back = DecodeScaled(e->registers(), f);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, 21.5);

  // 0.1 is not exact in float: the stored value is the nearest float.
  auto tenth = EncodeScaled(0.1, f);
  ASSERT_TRUE(tenth.ok());
  EXPECT_EQ(tenth->stored_value, static_cast<double>(0.1f));

  auto big = EncodeScaled(1e300, f);
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->saturated);
  EXPECT_EQ(big->stored_value, static_cast<double>(std::numeric_limits<float>::max()));

  auto inf = EncodeScaled(-std::numeric_limits<double>::infinity(), f);
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE(inf->saturated);
  EXPECT_TRUE(std::isinf(inf->stored_value) && inf->stored_value < 0);

  auto nan = EncodeScaled(std::nan(""), f);
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(std::isnan(nan->stored_value));
}

TEST(RegisterCodecTest, RefusesBadInput) {
  EXPECT_EQ(EncodeScaled(1.0, Scaling{.scale = 0.0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeScaled(1.0, Scaling{.scale = std::nan("")}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      EncodeScaled(1.0, Scaling{.offset = std::numeric_limits<double>::infinity()}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeScaled(std::nan(""), Scaling{.raw_type = RawType::kInt32}).status().code(),
            StatusCode::kInvalidArgument);
  const uint16_t one[1] = {1};
  EXPECT_EQ(DecodeScaled(one, Scaling{.raw_type = RawType::kUint32}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RegisterCodecTest, SignedTypesDecodeTwosComplement) {
  const uint16_t minus_one[1] = {0xFFFF};
  EXPECT_EQ(*DecodeScaled(minus_one, Scaling{.raw_type = RawType::kInt16}), -1.0);
  EXPECT_EQ(*DecodeScaled(minus_one, Scaling{.raw_type = RawType::kUint16}), 65535.0);
  const uint16_t pair[2] = {0xFFFF, 0xFFFE};
  EXPECT_EQ(*DecodeScaled(pair, Scaling{.raw_type = RawType::kInt32}), -2.0);
  EXPECT_EQ(*DecodeScaled(
                pair, Scaling{.raw_type = RawType::kInt32, .word_order = WordOrder::kLowWordFirst}),
            -65537.0);
}

}  // namespace
}  // namespace weft::modbus

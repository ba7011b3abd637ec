#include "edge/connectors/modbus/register_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "modbus/register_codec.h"

namespace weft::edge::modbus {
namespace {

using model::ModbusBinding;
using model::ModbusTable;
using model::ModbusValueType;
using model::WordOrder;
using ::testing::HasSubstr;

ModbusBinding Reg(ModbusValueType type, WordOrder order = WordOrder::kHighFirst, double scale = 1.0,
                  double offset = 0.0) {
  ModbusBinding b;
  b.table = ModbusTable::kHoldingRegister;
  b.value_type = type;
  b.word_order = order;
  b.scale = scale;
  b.offset = offset;
  return b;
}

TEST(DecodeValue, SixteenBitTypes) {
  const std::array<uint16_t, 1> r = {0xFF38};  // 65336 unsigned, -200 signed
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint16), r), 65336.0);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kInt16), r), -200.0);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kInt16, WordOrder::kHighFirst, 0.1), r),
                   -20.0);
  // Word order means nothing for one register.
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kInt16, WordOrder::kLowFirst), r), -200.0);
}

TEST(DecodeValue, ThirtyTwoBitTypesInBothWordOrders) {
  const std::array<uint16_t, 2> hi_first = {0x1234, 0x5678};
  const std::array<uint16_t, 2> lo_first = {0x5678, 0x1234};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint32), hi_first), 0x12345678);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint32, WordOrder::kLowFirst), lo_first),
                   0x12345678);
  const std::array<uint16_t, 2> minus_two = {0xFFFF, 0xFFFE};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kInt32), minus_two), -2.0);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint32), minus_two), 4294967294.0);
  const std::array<uint16_t, 2> minus_two_lo = {0xFFFE, 0xFFFF};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kInt32, WordOrder::kLowFirst), minus_two_lo),
                   -2.0);
  // 21.5f = 0x41AC0000.
  const std::array<uint16_t, 2> f_hi = {0x41AC, 0x0000};
  const std::array<uint16_t, 2> f_lo = {0x0000, 0x41AC};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kFloat32), f_hi), 21.5);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kFloat32, WordOrder::kLowFirst), f_lo), 21.5);
  // The wrong word order gives a different value: the order is really applied.
  EXPECT_NE(*DecodeValue(Reg(ModbusValueType::kFloat32, WordOrder::kLowFirst), f_hi), 21.5);
}

TEST(DecodeValue, ScaleAndOffset) {
  const std::array<uint16_t, 2> r = {0x0000, 1000};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint32, WordOrder::kHighFirst, 0.5, -10), r),
                   490.0);
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint16, WordOrder::kHighFirst, -2, 1), r),
                   1.0);  // first register is 0
}

TEST(DecodeValue, ExtraRegistersAreIgnored) {
  const std::array<uint16_t, 3> r = {7, 8, 9};
  EXPECT_DOUBLE_EQ(*DecodeValue(Reg(ModbusValueType::kUint16), r), 7.0);
}

TEST(DecodeValue, NanAndInfinityPassThrough) {
  const std::array<uint16_t, 2> nan = {0x7FC0, 0x0000};
  Result<double> v = DecodeValue(Reg(ModbusValueType::kFloat32, WordOrder::kHighFirst, 2, 1), nan);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(std::isnan(*v));
  const std::array<uint16_t, 2> inf = {0xFF80, 0x0000};
  EXPECT_EQ(*DecodeValue(Reg(ModbusValueType::kFloat32), inf),
            -std::numeric_limits<double>::infinity());
}

TEST(DecodeValue, TooFewRegistersIsAnError) {
  const std::array<uint16_t, 1> one = {1};
  Result<double> v = DecodeValue(Reg(ModbusValueType::kFloat32), one);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("needs 2 register(s), got 1"));
  EXPECT_FALSE(DecodeValue(Reg(ModbusValueType::kUint16), {}).ok());
}

TEST(DecodeValue, BadBindingsAreErrors) {
  const std::array<uint16_t, 2> r = {1, 2};
  EXPECT_THAT(
      DecodeValue(Reg(ModbusValueType::kUint16, WordOrder::kHighFirst, 0), r).status().message(),
      HasSubstr("scale must be finite and non-zero"));
  EXPECT_FALSE(DecodeValue(Reg(ModbusValueType::kUint16, WordOrder::kHighFirst, NAN), r).ok());
  EXPECT_FALSE(
      DecodeValue(Reg(ModbusValueType::kUint16, WordOrder::kHighFirst, 1, INFINITY), r).ok());
  EXPECT_THAT(DecodeValue(Reg(ModbusValueType::kBit), r).status().message(),
              HasSubstr("type 'bit' goes with coils"));
  ModbusBinding coil = Reg(ModbusValueType::kBit);
  coil.table = ModbusTable::kCoil;
  EXPECT_FALSE(DecodeValue(coil, r).ok()) << "a coil is read as bits";
}

TEST(DecodeBits, CoilsAndDiscreteInputs) {
  ModbusBinding b;
  b.table = ModbusTable::kDiscreteInput;
  b.value_type = ModbusValueType::kBit;
  const std::array<uint8_t, 2> bits = {1, 0};
  EXPECT_DOUBLE_EQ(*DecodeBits(b, bits), 1.0);
  EXPECT_DOUBLE_EQ(*DecodeBits(b, std::span(bits).subspan(1)), 0.0);
  const std::array<uint8_t, 1> nonzero = {0xFF};
  EXPECT_DOUBLE_EQ(*DecodeBits(b, nonzero), 1.0);
  b.scale = 100;
  b.offset = 5;
  EXPECT_DOUBLE_EQ(*DecodeBits(b, bits), 105.0);
  EXPECT_THAT(DecodeBits(b, {}).status().message(), HasSubstr("needs 1 bit"));
  EXPECT_FALSE(DecodeBits(Reg(ModbusValueType::kUint16), bits).ok());
}

// What the simulator's codec encodes, we decode back: every type, both orders, with scaling.
TEST(DecodeValue, RoundTripsWithTheSimulatorCodec) {
  struct Case {
    ModbusValueType type;
    ::weft::modbus::RawType raw;
  };
  const Case cases[] = {{ModbusValueType::kUint16, ::weft::modbus::RawType::kUint16},
                        {ModbusValueType::kInt16, ::weft::modbus::RawType::kInt16},
                        {ModbusValueType::kUint32, ::weft::modbus::RawType::kUint32},
                        {ModbusValueType::kInt32, ::weft::modbus::RawType::kInt32},
                        {ModbusValueType::kFloat32, ::weft::modbus::RawType::kFloat32}};
  for (const Case& c : cases) {
    for (WordOrder order : {WordOrder::kHighFirst, WordOrder::kLowFirst}) {
      ::weft::modbus::Scaling s{.raw_type = c.raw, .scale = 0.1, .offset = 3};
      s.word_order = order == WordOrder::kHighFirst ? ::weft::modbus::WordOrder::kHighWordFirst
                                                    : ::weft::modbus::WordOrder::kLowWordFirst;
      for (double v : {3.0, 100.0, 4567.8}) {
        Result<::weft::modbus::EncodedValue> e = ::weft::modbus::EncodeScaled(v, s);
        ASSERT_TRUE(e.ok());
        Result<double> back = DecodeValue(Reg(c.type, order, 0.1, 3), e->registers());
        ASSERT_TRUE(back.ok()) << back.status().ToString();
        EXPECT_DOUBLE_EQ(*back, e->stored_value);
      }
    }
  }
}

}  // namespace
}  // namespace weft::edge::modbus

#include "edge/connectors/modbus/register_decode.h"

#include <cmath>
#include <string>

#include "modbus/register_codec.h"

namespace weft::edge::modbus {
namespace {

namespace codec = ::weft::modbus;

std::string Describe(const model::ModbusBinding& b) {
  return std::string(model::ModbusTableName(b.table)) + " " + std::to_string(b.address) + " (" +
         std::string(model::ModbusValueTypeName(b.value_type)) + ")";
}

// The codec's Scaling for a register type. REQUIRES: b.value_type != kBit.
codec::Scaling ScalingOf(const model::ModbusBinding& b) {
  codec::Scaling s;
  switch (b.value_type) {
    case model::ModbusValueType::kInt16: s.raw_type = codec::RawType::kInt16; break;
    case model::ModbusValueType::kUint32: s.raw_type = codec::RawType::kUint32; break;
    case model::ModbusValueType::kInt32: s.raw_type = codec::RawType::kInt32; break;
    case model::ModbusValueType::kFloat32: s.raw_type = codec::RawType::kFloat32; break;
    case model::ModbusValueType::kUint16:
    case model::ModbusValueType::kBit: s.raw_type = codec::RawType::kUint16; break;
  }
  s.scale = b.scale;
  s.offset = b.offset;
  s.word_order = b.word_order == model::WordOrder::kLowFirst ? codec::WordOrder::kLowWordFirst
                                                             : codec::WordOrder::kHighWordFirst;
  return s;
}

}  // namespace

bool IsBitTable(model::ModbusTable table) {
  return table == model::ModbusTable::kCoil || table == model::ModbusTable::kDiscreteInput;
}

Status ValidateBinding(const model::ModbusBinding& b) {
  switch (b.value_type) {
    case model::ModbusValueType::kUint16:
    case model::ModbusValueType::kInt16:
    case model::ModbusValueType::kUint32:
    case model::ModbusValueType::kInt32:
    case model::ModbusValueType::kFloat32:
    case model::ModbusValueType::kBit: break;
    default: return InvalidArgumentError(Describe(b) + ": unknown value type");
  }
  switch (b.table) {
    case model::ModbusTable::kHoldingRegister:
    case model::ModbusTable::kInputRegister:
    case model::ModbusTable::kCoil:
    case model::ModbusTable::kDiscreteInput: break;
    default: return InvalidArgumentError(Describe(b) + ": unknown table");
  }
  if ((b.value_type == model::ModbusValueType::kBit) != IsBitTable(b.table)) {
    return InvalidArgumentError(Describe(b) +
                                ": type 'bit' goes with coils and discrete inputs, "
                                "register types with holding and input registers");
  }
  if (!std::isfinite(b.scale) || b.scale == 0.0) {
    return InvalidArgumentError(Describe(b) + ": scale must be finite and non-zero, got " +
                                std::to_string(b.scale));
  }
  if (!std::isfinite(b.offset)) {
    return InvalidArgumentError(Describe(b) + ": offset must be finite, got " +
                                std::to_string(b.offset));
  }
  return Status::Ok();
}

Result<double> DecodeValue(const model::ModbusBinding& b, std::span<const uint16_t> regs) {
  WEFT_RETURN_IF_ERROR(ValidateBinding(b));
  if (IsBitTable(b.table)) {
    return InvalidArgumentError(Describe(b) + ": a bit, not registers, is read for it");
  }
  const size_t width = b.width();
  if (regs.size() < width) {
    return InvalidArgumentError(Describe(b) + ": needs " + std::to_string(width) +
                                " register(s), got " + std::to_string(regs.size()));
  }
  Result<double> v = codec::DecodeScaled(regs.first(width), ScalingOf(b));
  if (!v.ok()) return v.status().WithContext(Describe(b));
  return v;
}

Result<double> DecodeBits(const model::ModbusBinding& b, std::span<const uint8_t> bits) {
  WEFT_RETURN_IF_ERROR(ValidateBinding(b));
  if (!IsBitTable(b.table)) {
    return InvalidArgumentError(Describe(b) + ": registers, not a bit, are read for it");
  }
  if (bits.empty()) return InvalidArgumentError(Describe(b) + ": needs 1 bit, got none");
  const double raw = bits[0] != 0 ? 1.0 : 0.0;
  return raw * b.scale + b.offset;
}

}  // namespace weft::edge::modbus

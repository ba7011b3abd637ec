// Register decoding: the engineering value of one Modbus-bound signal, from the registers (or
// bits) a read returned. Pure functions, no I/O; the poller calls them on every reply.
//
//   model::ModbusBinding b{.table = model::ModbusTable::kInputRegister, .address = 10,
//                          .value_type = model::ModbusValueType::kUint32, .scale = 0.1};
//   std::array<uint16_t, 2> regs = {0x0001, 0x0002};          // 0x00010002 = 65538
//   WEFT_ASSIGN_OR_RETURN(double kwh, DecodeValue(b, regs));   // 6553.8
//
//   model::ModbusBinding coil{.table = model::ModbusTable::kCoil,
//                             .value_type = model::ModbusValueType::kBit};
//   std::array<uint8_t, 1> bits = {1};
//   WEFT_ASSIGN_OR_RETURN(double on, DecodeBits(coil, bits));  // 1.0
//
// Rules (the same as the simulator's codec, src/modbus/register_codec.h, which does the work):
//   - value types uint16, int16 (one register), uint32, int32, float32 (two registers, in the
//     binding's word order: high_first = most significant word at the lower address); bytes
//     within a register are big-endian, as Modbus defines (libmodbus hands them over as
//     host-order uint16 already).
//   - engineering = raw * scale + offset; for bits raw is 0 or 1.
//   - the value starts at element 0 of the span; extra elements are ignored.
//   - a float32 NaN or infinity decodes to NaN or infinity (the pipeline flags it, not us).
// Errors (InvalidArgument, naming the problem): too few registers or bits, a bit type read from
// registers or a register type read from bits, a scale that is zero or not finite, an offset
// that is not finite.
//
// Thread-safety: free functions on values; safe from any thread.
#ifndef WEFT_EDGE_CONNECTORS_MODBUS_REGISTER_DECODE_H_
#define WEFT_EDGE_CONNECTORS_MODBUS_REGISTER_DECODE_H_

#include <cstdint>
#include <span>

#include "common/status.h"
#include "model/plant.h"

namespace weft::edge::modbus {

//! True for coils and discrete inputs (read as bits), false for holding and input registers.
bool IsBitTable(model::ModbusTable table);

//! OK, or InvalidArgument naming the field: a value type that does not suit the table (bit
//! types in bit tables only), a zero or non-finite scale, a non-finite offset.
Status ValidateBinding(const model::ModbusBinding& b);

//! The engineering value of a register-table binding from its registers (see file comment).
Result<double> DecodeValue(const model::ModbusBinding& b, std::span<const uint16_t> regs);

//! The engineering value of a bit-table binding from its bits (non-zero = on).
Result<double> DecodeBits(const model::ModbusBinding& b, std::span<const uint8_t> bits);

}  // namespace weft::edge::modbus

#endif  // WEFT_EDGE_CONNECTORS_MODBUS_REGISTER_DECODE_H_

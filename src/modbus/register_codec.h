// Register codec: how values wider or richer than one 16-bit Modbus register are laid out, and
// how engineering values map to raw register contents. Pure functions, no I/O: the simulated
// PLC (RegisterBank) encodes with them and the edge's Modbus poller decodes with the same rules.
//
//   Scaling temp{.raw_type = RawType::kInt16, .scale = 0.1};   // 23.5 degC <-> raw 235
//   WEFT_ASSIGN_OR_RETURN(EncodedValue e, EncodeScaled(23.46, temp));
//   // e.words[0] == 235, e.stored_value == 23.5, e.saturated == false
//   WEFT_ASSIGN_OR_RETURN(double back, DecodeScaled(e.registers(), temp));   // 23.5
//
//   std::array<uint16_t, 2> w = SplitUint32(0x12345678, WordOrder::kLowWordFirst);
//   // w == {0x5678, 0x1234}; JoinUint32(w[0], w[1], WordOrder::kLowWordFirst) == 0x12345678
//
// Conversion rules (engineering = raw * scale + offset):
//   - Integer raw types: raw = round((engineering - offset) / scale), computed in double,
//     rounding half away from zero (std::round): 2.5 -> 3, -2.5 -> -3. A decimal value that is
//     not exact in binary can land just below a tie (23.45 / 0.1 = 234.4999...), so it rounds
//     down; pick scales that make the values you care about exact if ties matter.
//   - Saturation: if the rounded raw value is outside the raw type's range it is clamped to the
//     nearest limit (e.g. int16 -> -32768 or 32767) and EncodedValue::saturated is true.
//     +/-infinity saturates the same way; NaN is refused for integer types (InvalidArgument).
//   - float32: raw = (engineering - offset) / scale converted to the nearest float (ties to
//     even). Finite values beyond +/-FLT_MAX saturate to +/-FLT_MAX (saturated = true); NaN and
//     infinite engineering values are stored as NaN and +/-infinity (not saturated).
//   - 32-bit raw types occupy two consecutive registers; WordOrder says which half comes first
//     (at the lower address). Within a register the bytes are big-endian, as Modbus defines.
//
// Thread-safety: free functions on values; safe from any thread.
#ifndef WEFT_MODBUS_REGISTER_CODEC_H_
#define WEFT_MODBUS_REGISTER_CODEC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace weft::modbus {

//! Which 16-bit half of a 32-bit value sits at the lower register address.
enum class WordOrder : uint8_t {
  kHighWordFirst,  //!< "big-endian" / ABCD: most significant word at the lower address.
  kLowWordFirst,   //!< "word-swapped" / CDAB: least significant word at the lower address.
};

//! The type a value has inside the register(s).
enum class RawType : uint8_t { kInt16, kUint16, kInt32, kUint32, kFloat32 };

//! "int16", "uint16", "int32", "uint32", "float32".
std::string_view RawTypeName(RawType type);

//! Number of 16-bit registers a raw type occupies: 1 or 2.
size_t RegisterCount(RawType type);

//! The two registers of a 32-bit value; element 0 goes to the lower address.
std::array<uint16_t, 2> SplitUint32(uint32_t value, WordOrder order);
//! Inverse of SplitUint32: `first` is the register at the lower address.
uint32_t JoinUint32(uint16_t first, uint16_t second, WordOrder order);

//! IEEE-754 single-precision bit pattern, and back.
uint32_t Float32ToBits(float value);
float BitsToFloat32(uint32_t bits);

//! How an engineering value maps to a raw register value: engineering = raw * scale + offset.
struct Scaling {
  RawType raw_type = RawType::kUint16;
  //! Must be finite and non-zero (may be negative).
  double scale = 1.0;
  //! Must be finite.
  double offset = 0.0;
  //! Used by 32-bit raw types only.
  WordOrder word_order = WordOrder::kHighWordFirst;
};

//! OK, or InvalidArgument naming the bad field.
Status ValidateScaling(const Scaling& scaling);

//! The result of encoding one engineering value.
struct EncodedValue {
  //! Register contents; words[0] goes to the lower address. Only `count` entries are used.
  std::array<uint16_t, 2> words = {0, 0};
  size_t count = 1;
  //! The engineering value that decodes back from `words` (after rounding and saturation).
  double stored_value = 0.0;
  //! True when the value was outside the raw type's range and was clamped to a limit.
  bool saturated = false;

  std::span<const uint16_t> registers() const { return {words.data(), count}; }
};

//! Encodes `engineering_value` per the rules in the file comment. Errors: InvalidArgument for a
//! bad Scaling or a NaN with an integer raw type.
Result<EncodedValue> EncodeScaled(double engineering_value, const Scaling& scaling);

//! Decodes register contents (`registers.size()` must equal RegisterCount(raw_type)) to the
//! engineering value. Errors: InvalidArgument for a bad Scaling or a wrong register count.
Result<double> DecodeScaled(std::span<const uint16_t> registers, const Scaling& scaling);

}  // namespace weft::modbus

#endif  // WEFT_MODBUS_REGISTER_CODEC_H_

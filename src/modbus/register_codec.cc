#include "modbus/register_codec.h"

#include <bit>
#include <cmath>
#include <limits>
#include <string>

namespace weft::modbus {
namespace {

// Rounds and clamps `raw` to the integer range [lo, hi]. `raw` is not NaN. Both limits are
// exactly representable in double for every integer raw type we support (at most 32 bits).
double RoundAndClamp(double raw, double lo, double hi, bool* saturated) {
  const double rounded = std::round(raw);
  if (rounded < lo) {
    *saturated = true;
    return lo;
  }
  if (rounded > hi) {
    *saturated = true;
    return hi;
  }
  return rounded;
}

template <typename T>
double Limit(bool low) {
  return static_cast<double>(low ? std::numeric_limits<T>::min() : std::numeric_limits<T>::max());
}

}  // namespace

std::string_view RawTypeName(RawType type) {
  switch (type) {
    case RawType::kInt16: return "int16";
    case RawType::kUint16: return "uint16";
    case RawType::kInt32: return "int32";
    case RawType::kUint32: return "uint32";
    case RawType::kFloat32: return "float32";
  }
  return "unknown";
}

size_t RegisterCount(RawType type) {
  return (type == RawType::kInt16 || type == RawType::kUint16) ? 1 : 2;
}

std::array<uint16_t, 2> SplitUint32(uint32_t value, WordOrder order) {
  const auto high = static_cast<uint16_t>(value >> 16);
  const auto low = static_cast<uint16_t>(value & 0xFFFFu);
  if (order == WordOrder::kHighWordFirst) return {high, low};
  return {low, high};
}

uint32_t JoinUint32(uint16_t first, uint16_t second, WordOrder order) {
  const uint16_t high = order == WordOrder::kHighWordFirst ? first : second;
  const uint16_t low = order == WordOrder::kHighWordFirst ? second : first;
  return (static_cast<uint32_t>(high) << 16) | static_cast<uint32_t>(low);
}

uint32_t Float32ToBits(float value) {
  return std::bit_cast<uint32_t>(value);
}

float BitsToFloat32(uint32_t bits) {
  return std::bit_cast<float>(bits);
}

Status ValidateScaling(const Scaling& scaling) {
  if (!std::isfinite(scaling.scale) || scaling.scale == 0.0) {
    return InvalidArgumentError("scaling.scale: expected a finite, non-zero number, got " +
                                std::to_string(scaling.scale));
  }
  if (!std::isfinite(scaling.offset)) {
    return InvalidArgumentError("scaling.offset: expected a finite number, got " +
                                std::to_string(scaling.offset));
  }
  switch (scaling.raw_type) {
    case RawType::kInt16:
    case RawType::kUint16:
    case RawType::kInt32:
    case RawType::kUint32:
    case RawType::kFloat32: return Status::Ok();
  }
  return InvalidArgumentError("scaling.raw_type: unknown raw type");
}

Result<EncodedValue> EncodeScaled(double engineering_value, const Scaling& scaling) {
  WEFT_RETURN_IF_ERROR(ValidateScaling(scaling));
  const double raw = (engineering_value - scaling.offset) / scaling.scale;
  EncodedValue out;
  out.count = RegisterCount(scaling.raw_type);

  if (scaling.raw_type == RawType::kFloat32) {
    float f = 0.0f;
    constexpr double kMax = std::numeric_limits<float>::max();
    if (std::isnan(raw)) {
      f = std::numeric_limits<float>::quiet_NaN();
    } else if (std::isinf(engineering_value)) {
      // Infinities are representable in float32: store them rather than saturating.
      f = raw > 0 ? std::numeric_limits<float>::infinity()
                  : -std::numeric_limits<float>::infinity();
    } else if (raw > kMax || raw < -kMax) {
      // Converting an out-of-range double to float is undefined behaviour: clamp first.
      out.saturated = true;
      f = raw > 0 ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::max();
    } else {
      f = static_cast<float>(raw);
    }
    out.words = SplitUint32(Float32ToBits(f), scaling.word_order);
    out.stored_value = static_cast<double>(f) * scaling.scale + scaling.offset;
    return out;
  }

  if (std::isnan(raw)) {
    return InvalidArgumentError("cannot encode NaN as " +
                                std::string(RawTypeName(scaling.raw_type)));
  }
  double clamped = 0.0;
  switch (scaling.raw_type) {
    case RawType::kInt16: {
      clamped = RoundAndClamp(raw, Limit<int16_t>(true), Limit<int16_t>(false), &out.saturated);
      out.words[0] = static_cast<uint16_t>(static_cast<int16_t>(clamped));
      break;
    }
    case RawType::kUint16: {
      clamped = RoundAndClamp(raw, Limit<uint16_t>(true), Limit<uint16_t>(false), &out.saturated);
      out.words[0] = static_cast<uint16_t>(clamped);
      break;
    }
    case RawType::kInt32: {
      clamped = RoundAndClamp(raw, Limit<int32_t>(true), Limit<int32_t>(false), &out.saturated);
      out.words =
          SplitUint32(static_cast<uint32_t>(static_cast<int32_t>(clamped)), scaling.word_order);
      break;
    }
    case RawType::kUint32: {
      clamped = RoundAndClamp(raw, Limit<uint32_t>(true), Limit<uint32_t>(false), &out.saturated);
      out.words = SplitUint32(static_cast<uint32_t>(clamped), scaling.word_order);
      break;
    }
    case RawType::kFloat32: break;  // Handled above.
  }
  out.stored_value = clamped * scaling.scale + scaling.offset;
  return out;
}

Result<double> DecodeScaled(std::span<const uint16_t> registers, const Scaling& scaling) {
  WEFT_RETURN_IF_ERROR(ValidateScaling(scaling));
  const size_t want = RegisterCount(scaling.raw_type);
  if (registers.size() != want) {
    return InvalidArgumentError(std::string(RawTypeName(scaling.raw_type)) + " needs " +
                                std::to_string(want) + " register(s), got " +
                                std::to_string(registers.size()));
  }
  double raw = 0.0;
  switch (scaling.raw_type) {
    case RawType::kInt16: raw = static_cast<int16_t>(registers[0]); break;
    case RawType::kUint16: raw = registers[0]; break;
    case RawType::kInt32:
      raw = static_cast<int32_t>(JoinUint32(registers[0], registers[1], scaling.word_order));
      break;
    case RawType::kUint32: raw = JoinUint32(registers[0], registers[1], scaling.word_order); break;
    case RawType::kFloat32:
      raw = BitsToFloat32(JoinUint32(registers[0], registers[1], scaling.word_order));
      break;
  }
  return raw * scaling.scale + scaling.offset;
}

}  // namespace weft::modbus

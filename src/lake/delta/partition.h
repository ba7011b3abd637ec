#ifndef WEFT_LAKE_DELTA_PARTITION_H_
#define WEFT_LAKE_DELTA_PARTITION_H_

// Partition values: the log stores them as strings (PROTOCOL.md "Partition Value
// Serialization"); these functions turn them into typed values and back.
//
//   WEFT_ASSIGN_OR_RETURN(PartitionValue v, ParsePartitionValue(*field.type,
//   add.partition_values["d"])); if (const auto* d = std::get_if<DateValue>(&v)) ...
//   d->days_since_epoch ...
//
// Timestamps without a zone ("2021-01-01 10:00:00") are read as UTC: the protocol says they are
// in the writer's zone, which the log does not record; Weft writes ISO 8601 UTC ("...Z").
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "common/status.h"
#include "lake/delta/schema.h"

namespace weft::lake::delta {

struct DateValue {
  int32_t days_since_epoch = 0;
  friend bool operator==(const DateValue&, const DateValue&) = default;
};
struct TimestampValue {
  int64_t micros_since_epoch = 0;
  friend bool operator==(const TimestampValue&, const TimestampValue&) = default;
};
//! A decimal as its unscaled integer text and scale ("12345", 2 == 123.45); exact.
struct DecimalValue {
  std::string unscaled{};
  int32_t scale = 0;
  friend bool operator==(const DecimalValue&, const DecimalValue&) = default;
};

//! monostate = null. Integers of every width are int64_t; string and binary are std::string.
using PartitionValue = std::variant<std::monostate, bool, int64_t, double, std::string, DateValue,
                                    TimestampValue, DecimalValue>;

//! Parses a serialized partition value of the given primitive type; null or "" is null.
//! InvalidArgument names the type and the text when it does not parse or is out of range.
Result<PartitionValue> ParsePartitionValue(const DataType& type,
                                           const std::optional<std::string>& text);

//! Serializes a value as Weft writes it (dates "YYYY-MM-DD", timestamps ISO 8601 UTC with
//! microseconds and 'Z'); nullopt for null.
std::optional<std::string> SerializePartitionValue(const DataType& type,
                                                   const PartitionValue& value);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_PARTITION_H_

// Sparkplug B payloads: a plain C++ view of the protobuf message, and its encoding.
//
//   Payload p{.timestamp_ms = 1700000000000, .seq = 4};
//   p.metrics.push_back({.alias = 7, .timestamp_ms = 1700000000000, .type = DataType::kDouble,
//                        .value = 21.5});
//   std::string bytes = Encode(p);
//   WEFT_ASSIGN_OR_RETURN(Payload back, Decode(bytes));
//
// Values. A metric's value is held in the C++ type of its datatype:
//   Int8, Int16, Int32, Int64                  int64_t
//   UInt8, UInt16, UInt32, UInt64, DateTime    uint64_t (DateTime: ms since the Unix epoch, UTC)
//   Float / Double / Boolean                   float / double / bool
//   String, Text, UUID                         std::string, valid UTF-8
//   Bytes, File, the *Array types              std::string of raw bytes (arrays: little-endian
//                                              packed elements, as the specification says)
//   DataSet, Template                          std::string: the encoded Payload.DataSet /
//                                              Payload.Template message, uninterpreted
//   std::monostate                             null (is_null), or no value given
// On the wire (Sparkplug 3.0, chapter 6 "Payloads", "Datatype Details") Int8..Int32 and
// UInt8..UInt32 travel in the uint32 `int_value` (signed ones as two's complement sign-extended to
// 32 bits), Int64, UInt64 and DateTime in the uint64 `long_value`.
//
// A metric decoded without a datatype (DATA messages may omit it) has type kUnknown and holds the
// wire value: int_value and long_value as uint64_t, strings and bytes as std::string (not yet
// checked for UTF-8). The birth certificate says the real type: ApplyDataType() converts.
//
// Decoding is defensive: any byte string gives a Payload or an InvalidArgument error that names
// the place ("metric 3", the field, the byte offset) and the problem, never a crash or an
// exception; sizes are bounded by DecodeLimits. The property "Quality" (Sparkplug 3.0,
// chapter 6, "Quality Codes") is surfaced as Metric::quality; other properties and metadata are
// checked for well-formedness and then ignored.
//
// Thread-safety: values and pure functions.
#ifndef WEFT_SPARKPLUG_PAYLOAD_H_
#define WEFT_SPARKPLUG_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace weft::sparkplug {

//! Sparkplug B data types, numbered as in the specification's DataType enum.
enum class DataType : uint32_t {
  kUnknown = 0,
  kInt8 = 1,
  kInt16 = 2,
  kInt32 = 3,
  kInt64 = 4,
  kUInt8 = 5,
  kUInt16 = 6,
  kUInt32 = 7,
  kUInt64 = 8,
  kFloat = 9,
  kDouble = 10,
  kBoolean = 11,
  kString = 12,
  kDateTime = 13,
  kText = 14,
  kUuid = 15,
  kDataSet = 16,
  kBytes = 17,
  kFile = 18,
  kTemplate = 19,
  kPropertySet = 20,
  kPropertySetList = 21,
  kInt8Array = 22,
  kInt16Array = 23,
  kInt32Array = 24,
  kInt64Array = 25,
  kUInt8Array = 26,
  kUInt16Array = 27,
  kUInt32Array = 28,
  kUInt64Array = 29,
  kFloatArray = 30,
  kDoubleArray = 31,
  kBooleanArray = 32,
  kStringArray = 33,
  kDateTimeArray = 34,
};

//! The specification's name: "Int8", "Double", "DateTimeArray", ...; "DataType(99)" otherwise.
std::string DataTypeName(DataType type);

//! True for the types a metric may have: 1..19 and 22..34 (not Unknown, PropertySet(List)).
bool IsMetricDataType(DataType type);

//! See the table at the top of this file. std::monostate is null.
using MetricValue =
    std::variant<std::monostate, int64_t, uint64_t, float, double, bool, std::string>;

struct Metric {
  std::optional<std::string> name{};  //!< births carry it; DATA messages use the alias only
  std::optional<uint64_t> alias{};
  std::optional<uint64_t> timestamp_ms{};
  DataType type = DataType::kUnknown;  //!< kUnknown: the payload gave no datatype
  MetricValue value{};
  bool is_null = false;  //!< explicit null; the value is then std::monostate
  bool is_historical = false;
  bool is_transient = false;
  std::optional<int32_t> quality{};  //!< the "Quality" property: 0 BAD, 192 GOOD, 500 STALE

  friend bool operator==(const Metric&, const Metric&) = default;
};

struct Payload {
  std::optional<uint64_t> timestamp_ms{};
  std::optional<uint64_t> seq{};  //!< 0..255 in Sparkplug; absent in NDEATH, NCMD and DCMD
  std::vector<Metric> metrics{};
  std::optional<std::string> uuid{};
  std::optional<std::string> body{};

  friend bool operator==(const Payload&, const Payload&) = default;
};

//! Bounds on what Decode accepts, so a hostile payload cannot exhaust memory or stack.
struct DecodeLimits {
  size_t max_bytes = 16u << 20;
  size_t max_metrics = 100'000;
  //! Nesting of messages (templates nest metrics that nest templates...).
  int max_depth = 32;
  //! Strings, byte strings and sub-messages at every level together.
  size_t max_elements = 2'000'000;
};

//! OK when `value` is a valid value of `type` in this API: the C++ type of the table above, in
//! range (e.g. an Int8 in -128..127, a UInt16 at most 65535), valid UTF-8 for String, Text and
//! UUID, a whole number of elements for fixed-size arrays. std::monostate (null) is valid for
//! every type. InvalidArgument saying what is wrong otherwise.
Status CheckValue(DataType type, const MetricValue& value);

//! Converts the value of a metric decoded without datatype (uint64_t for integers, std::string
//! for strings and bytes) to `type`'s C++ type. Signed integers are accepted sign-extended to 32
//! or 64 bits, or zero-extended from their own width; InvalidArgument when the value does not
//! fit the type (e.g. "value 300 is out of range for Int8", "value is a float, not a Boolean").
//! A value already of `type`'s C++ type is returned as is, after CheckValue.
Result<MetricValue> ApplyDataType(const MetricValue& value, DataType type);

//! Serializes to the Sparkplug B protobuf encoding. Metrics carry a datatype unless kUnknown, a
//! value unless is_null or std::monostate. REQUIRES: CheckValue(m.type, m.value) for every metric
//! (otherwise numbers are converted with C++ casts and mismatched kinds are written by their C++
//! type); for kUnknown metrics the value is written by its C++ type (integers in long_value).
std::string Encode(const Payload& payload);

//! The hot path of NDATA/DDATA, which would otherwise build a Metric and a protobuf message per
//! value: appends to `*out` one `Payload.metrics` field holding alias, timestamp, datatype and the
//! value (or is_null for std::monostate), the same bytes Encode() writes for a Metric with only
//! those fields set. Returns false, appending nothing, for DataSet and Template values (build a
//! Payload and Encode() those). REQUIRES: CheckValue(type, value).
bool AppendDataMetric(uint64_t alias, uint64_t timestamp_ms, DataType type,
                      const MetricValue& value, std::string* out);
//! Append Payload.timestamp (field 1) and Payload.seq (field 3). Encode() writes fields in number
//! order: timestamp, then the metrics, then seq.
void AppendPayloadTimestamp(uint64_t timestamp_ms, std::string* out);
void AppendPayloadSeq(uint64_t seq, std::string* out);

//! Parses a Sparkplug B payload. Never crashes or throws, whatever the bytes. InvalidArgument,
//! naming the place and the problem, when the bytes are not a well-formed payload (truncated
//! field, wrong wire type for a field, varint longer than 10 bytes, ...), exceed `limits`, or
//! hold a metric whose value does not match its datatype ("metric 3 (\"Temp\"): value does not
//! match datatype Double: got string_value"), an unknown datatype, or invalid UTF-8 in a name or
//! string. An explicit is_null wins over a value sent alongside it.
Result<Payload> Decode(std::string_view bytes, const DecodeLimits& limits = {});

}  // namespace weft::sparkplug

#endif  // WEFT_SPARKPLUG_PAYLOAD_H_

#include "sparkplug/payload.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <array>
#include <climits>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "sparkplug/sparkplug_b.pb.h"
#include "sparkplug/utf8.h"

namespace weft::sparkplug {
namespace {

namespace pb = ::weft::sparkplug::b;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr uint32_t kMaxDataType = 34;
constexpr int kQualityPropertyType = 3;  // Int32, as the specification requires for "Quality"
constexpr std::string_view kQualityKey = "Quality";

// Indexed by the DataType number.
// clang-format off
constexpr std::array<std::string_view, kMaxDataType + 1> kDataTypeNames = {
    "Unknown",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float", "Double", "Boolean", "String", "DateTime", "Text",
    "UUID", "DataSet", "Bytes", "File", "Template",
    "PropertySet", "PropertySetList",
    "Int8Array", "Int16Array", "Int32Array", "Int64Array",
    "UInt8Array", "UInt16Array", "UInt32Array", "UInt64Array",
    "FloatArray", "DoubleArray", "BooleanArray", "StringArray", "DateTimeArray"};
// clang-format on

// ---- Datatype classification. ----

struct IntType {
  int bits = 0;  // 0: not an integer type
  bool is_signed = false;
};

IntType IntTypeOf(DataType t) {
  switch (t) {
    case DataType::kInt8: return {8, true};
    case DataType::kInt16: return {16, true};
    case DataType::kInt32: return {32, true};
    case DataType::kInt64: return {64, true};
    case DataType::kUInt8: return {8, false};
    case DataType::kUInt16: return {16, false};
    case DataType::kUInt32: return {32, false};
    case DataType::kUInt64:
    case DataType::kDateTime: return {64, false};
    default: return {};
  }
}

// Types whose integer travels in the 32-bit int_value rather than long_value.
bool UsesIntValue(DataType t) {
  const IntType it = IntTypeOf(t);
  return it.bits != 0 && it.bits <= 32;
}

bool IsStringType(DataType t) {
  return t == DataType::kString || t == DataType::kText || t == DataType::kUuid;
}

bool IsArrayType(DataType t) {
  return t >= DataType::kInt8Array && t <= DataType::kDateTimeArray;
}

bool IsBytesType(DataType t) {
  return t == DataType::kBytes || t == DataType::kFile || IsArrayType(t);
}

// Element size of the fixed-size array types, 0 for the others.
size_t ArrayElementSize(DataType t) {
  switch (t) {
    case DataType::kInt16Array:
    case DataType::kUInt16Array: return 2;
    case DataType::kInt32Array:
    case DataType::kUInt32Array:
    case DataType::kFloatArray: return 4;
    case DataType::kInt64Array:
    case DataType::kUInt64Array:
    case DataType::kDoubleArray:
    case DataType::kDateTimeArray: return 8;
    default: return 0;
  }
}

std::string_view CppTypeName(const MetricValue& v) {
  switch (v.index()) {
    case 0: return "null";
    case 1: return "int64_t";
    case 2: return "uint64_t";
    case 3: return "float";
    case 4: return "double";
    case 5: return "bool";
    default: return "std::string";
  }
}

// The C++ type CheckValue expects for `t`.
std::string_view ExpectedCppType(DataType t) {
  const IntType it = IntTypeOf(t);
  if (it.bits != 0) return it.is_signed ? "int64_t" : "uint64_t";
  if (t == DataType::kFloat) return "float";
  if (t == DataType::kDouble) return "double";
  if (t == DataType::kBoolean) return "bool";
  return "std::string";
}

// ---- Values as they are on the wire, before the datatype is applied. ----

enum class WireKind {
  kNone,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBool,
  kString,
  kBytes,
  kDataSet,
  kTemplate
};

std::string_view WireKindName(WireKind k) {
  switch (k) {
    case WireKind::kNone: return "no value";
    case WireKind::kInt: return "int_value";
    case WireKind::kLong: return "long_value";
    case WireKind::kFloat: return "float_value";
    case WireKind::kDouble: return "double_value";
    case WireKind::kBool: return "boolean_value";
    case WireKind::kString: return "string_value";
    case WireKind::kBytes: return "bytes_value";
    case WireKind::kDataSet: return "dataset_value";
    case WireKind::kTemplate: return "template_value";
  }
  return "?";
}

struct WireValue {
  WireKind kind = WireKind::kNone;
  uint64_t u = 0;
  float f = 0;
  double d = 0;
  bool b = false;
  std::string s;
};

// Signed `bits`-wide integer from the raw unsigned wire value: accepts 64-bit two's complement,
// 32-bit two's complement (the specification's int_value for Int8..Int32, as Eclipse Tahu
// encodes) and zero-extended `bits`-bit two's complement (what some encoders send for Int8/16).
std::optional<int64_t> ToSigned(uint64_t u, int bits) {
  const auto in_range = [bits](int64_t s) {
    if (bits == 64) return true;
    const int64_t half = int64_t{1} << (bits - 1);
    return s >= -half && s < half;
  };
  const auto s64 = static_cast<int64_t>(u);
  if (in_range(s64)) return s64;
  if (u <= std::numeric_limits<uint32_t>::max()) {
    const int64_t s32 = static_cast<int32_t>(static_cast<uint32_t>(u));
    if (in_range(s32)) return s32;
  }
  if (bits < 64 && u < (uint64_t{1} << bits)) {
    return static_cast<int64_t>(u) - (int64_t{1} << bits);
  }
  return std::nullopt;
}

uint64_t MaxUnsigned(int bits) {
  return bits == 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
}

// The value of `w` as `type`'s C++ type, or why not (a message without place).
Result<MetricValue> ToType(WireValue w, DataType type) {
  const auto mismatch = [&]() {
    return InvalidArgumentError("value does not match datatype " + DataTypeName(type) + ": got " +
                                std::string(WireKindName(w.kind)));
  };
  if (w.kind == WireKind::kNone) return MetricValue();
  const IntType it = IntTypeOf(type);
  if (it.bits != 0) {
    if (w.kind != WireKind::kInt && w.kind != WireKind::kLong) return mismatch();
    if (it.is_signed) {
      std::optional<int64_t> s = ToSigned(w.u, it.bits);
      if (!s) {
        return InvalidArgumentError("value " + std::to_string(w.u) + " is out of range for " +
                                    DataTypeName(type));
      }
      return MetricValue(*s);
    }
    if (w.u > MaxUnsigned(it.bits)) {
      return InvalidArgumentError("value " + std::to_string(w.u) + " is out of range for " +
                                  DataTypeName(type));
    }
    return MetricValue(w.u);
  }
  switch (type) {
    case DataType::kFloat:
      if (w.kind != WireKind::kFloat) return mismatch();
      return MetricValue(w.f);
    case DataType::kDouble:
      if (w.kind != WireKind::kDouble) return mismatch();
      return MetricValue(w.d);
    case DataType::kBoolean:
      if (w.kind != WireKind::kBool) return mismatch();
      return MetricValue(w.b);
    case DataType::kDataSet:
      if (w.kind != WireKind::kDataSet) return mismatch();
      return MetricValue(std::move(w.s));
    case DataType::kTemplate:
      if (w.kind != WireKind::kTemplate) return mismatch();
      return MetricValue(std::move(w.s));
    default: break;
  }
  if (IsStringType(type)) {
    if (w.kind != WireKind::kString) return mismatch();
    if (!internal::IsValidUtf8(w.s)) {
      return InvalidArgumentError("the " + DataTypeName(type) + " value is not valid UTF-8");
    }
    return MetricValue(std::move(w.s));
  }
  if (IsBytesType(type)) {
    if (w.kind != WireKind::kBytes) return mismatch();
    const size_t element = ArrayElementSize(type);
    if (element != 0 && w.s.size() % element != 0) {
      return InvalidArgumentError("a " + DataTypeName(type) + " value of " +
                                  std::to_string(w.s.size()) + " bytes is not a whole number of " +
                                  std::to_string(element) + "-byte elements");
    }
    return MetricValue(std::move(w.s));
  }
  if (type == DataType::kUnknown) {
    switch (w.kind) {
      case WireKind::kInt:
      case WireKind::kLong: return MetricValue(w.u);
      case WireKind::kFloat: return MetricValue(w.f);
      case WireKind::kDouble: return MetricValue(w.d);
      case WireKind::kBool: return MetricValue(w.b);
      // Without a datatype, strings and bytes are alike: UTF-8 is checked by ApplyDataType.
      default: return MetricValue(std::move(w.s));
    }
  }
  return InvalidArgumentError(DataTypeName(type) + " is not a metric datatype");
}

// ---- Wire-format check: runs before protobuf parses, so that malformed input gets a precise
// error (protobuf only says "failed", and keeps fields of the wrong wire type as unknown fields)
// and so that sizes are bounded before anything is allocated. Driven by the generated
// descriptors, so field numbers live in sparkplug_b.proto only. ----

enum class VarintStatus { kOk, kTruncated, kTooLong };

// Reads a varint of at most `max_bytes` bytes whose value is at most `max_value`.
VarintStatus ReadVarint(std::string_view b, size_t* pos, uint64_t* out, int max_bytes = 10,
                        uint64_t max_value = std::numeric_limits<uint64_t>::max()) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (*pos >= b.size()) return VarintStatus::kTruncated;
    const auto byte = static_cast<uint8_t>(b[(*pos)++]);
    if (i == 9 && byte > 1) return VarintStatus::kTooLong;
    v |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (v > max_value) return VarintStatus::kTooLong;
      *out = v;
      return VarintStatus::kOk;
    }
  }
  return VarintStatus::kTooLong;
}

// Tags and lengths are 32-bit quantities in protobuf, encoded in at most 5 bytes (lengths at most
// 2^31 - 1); protobuf's parser refuses longer encodings, so the check does too.
constexpr int kMaxTagBytes = 5;
constexpr uint64_t kMaxTag = std::numeric_limits<uint32_t>::max();
constexpr int kMaxLengthBytes = 5;
constexpr uint64_t kMaxLength = std::numeric_limits<int32_t>::max();

std::string_view WireTypeName(uint64_t wire_type) {
  switch (wire_type) {
    case 0: return "0 (varint)";
    case 1: return "1 (64-bit)";
    case 2: return "2 (length-delimited)";
    case 3: return "3 (start group)";
    case 4: return "4 (end group)";
    case 5: return "5 (32-bit)";
    default: return "invalid";
  }
}

uint64_t ExpectedWireType(const FieldDescriptor* f) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64: return 1;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32: return 5;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
    case FieldDescriptor::TYPE_MESSAGE: return 2;
    case FieldDescriptor::TYPE_GROUP: return 3;
    default: return 0;
  }
}

// Where in the message tree a field is; rendered only for error messages.
struct PathNode {
  const PathNode* parent = nullptr;
  std::string_view field;  // "" for the root
  size_t index = 0;
  bool repeated = false;
  bool is_metric = false;  // an element of Payload.metrics
};

std::string RenderPath(const PathNode* node) {
  if (node == nullptr || node->field.empty()) return "payload";
  if (node->is_metric) return "metric " + std::to_string(node->index);
  std::string s =
      node->parent != nullptr && !node->parent->field.empty() ? RenderPath(node->parent) + "." : "";
  s += node->field;
  if (node->repeated) s += "[" + std::to_string(node->index) + "]";
  return s;
}

class WireChecker {
 public:
  explicit WireChecker(const DecodeLimits& limits) : limits_(limits) {}

  Status Check(std::string_view bytes) {
    PathNode root;
    return CheckMessage(bytes, 0, pb::Payload::descriptor(), &root, 1);
  }

 private:
  static constexpr size_t kMaxFieldsPerMessage = 32;

  Status Error(const PathNode* path, uint64_t field, const FieldDescriptor* f, size_t offset,
               std::string_view problem) const {
    std::string where = RenderPath(path) + ": field " + std::to_string(field);
    if (f != nullptr) where += " (" + std::string(f->name()) + ")";
    return InvalidArgumentError(where + " at byte " + std::to_string(offset) + ": " +
                                std::string(problem));
  }

  Status CountElement(const PathNode* path, uint64_t field, const FieldDescriptor* f,
                      size_t offset) {
    if (++elements_ > limits_.max_elements) {
      return Error(path, field, f, offset,
                   "more than " + std::to_string(limits_.max_elements) +
                       " strings, sub-messages and unknown fields in the payload");
    }
    return Status::Ok();
  }

  // `bytes` is the message's content; `base` its offset in the whole payload.
  Status CheckMessage(std::string_view bytes, size_t base, const Descriptor* d,
                      const PathNode* path, int depth) {
    std::array<size_t, kMaxFieldsPerMessage> repeat_counts{};
    size_t pos = 0;
    while (pos < bytes.size()) {
      const size_t field_start = base + pos;
      uint64_t tag = 0;
      switch (ReadVarint(bytes, &pos, &tag, kMaxTagBytes, kMaxTag)) {
        case VarintStatus::kOk: break;
        case VarintStatus::kTruncated:
          return InvalidArgumentError(RenderPath(path) + ": truncated field tag at byte " +
                                      std::to_string(field_start));
        case VarintStatus::kTooLong:
          return InvalidArgumentError(RenderPath(path) + ": field tag at byte " +
                                      std::to_string(field_start) +
                                      " is longer than 5 bytes or above 2^32 - 1");
      }
      const uint64_t field = tag >> 3;
      const uint64_t wire_type = tag & 7;
      if (field == 0 || field > static_cast<uint64_t>(FieldDescriptor::kMaxNumber)) {
        return InvalidArgumentError(RenderPath(path) + ": invalid field number " +
                                    std::to_string(field) + " at byte " +
                                    std::to_string(field_start));
      }
      const FieldDescriptor* f = d->FindFieldByNumber(static_cast<int>(field));

      // Skip over the value, checking it is complete.
      size_t content_start = pos;
      size_t content_size = 0;
      switch (wire_type) {
        case 0: {
          uint64_t ignored = 0;
          const VarintStatus st = ReadVarint(bytes, &pos, &ignored);
          if (st == VarintStatus::kTruncated) {
            return Error(path, field, f, field_start, "truncated varint");
          }
          if (st == VarintStatus::kTooLong) {
            return Error(path, field, f, field_start, "varint longer than 64 bits");
          }
          break;
        }
        case 1:
        case 5: {
          const size_t width = wire_type == 1 ? 8 : 4;
          if (bytes.size() - pos < width) {
            return Error(path, field, f, field_start,
                         "truncated " + std::to_string(width * 8) + "-bit value");
          }
          pos += width;
          break;
        }
        case 2: {
          uint64_t length = 0;
          const VarintStatus st = ReadVarint(bytes, &pos, &length, kMaxLengthBytes, kMaxLength);
          if (st == VarintStatus::kTruncated) {
            return Error(path, field, f, field_start, "truncated length");
          }
          if (st == VarintStatus::kTooLong) {
            return Error(path, field, f, field_start,
                         "length longer than 5 bytes or above 2^31 - 1");
          }
          if (length > bytes.size() - pos) {
            return Error(path, field, f, field_start,
                         "length " + std::to_string(length) + " runs past the end (" +
                             std::to_string(bytes.size() - pos) + " bytes left)");
          }
          content_start = pos;
          content_size = static_cast<size_t>(length);
          pos += content_size;
          break;
        }
        case 3:
        case 4:
          return Error(path, field, f, field_start,
                       "wire type " + std::string(WireTypeName(wire_type)) +
                           " (groups are not used by Sparkplug B)");
        default:
          return Error(path, field, f, field_start,
                       "invalid wire type " + std::to_string(wire_type));
      }

      if (f == nullptr) {  // unknown field or extension: well-formed is all we ask
        WEFT_RETURN_IF_ERROR(CountElement(path, field, f, field_start));
        continue;
      }
      const uint64_t expected = ExpectedWireType(f);
      const bool packed = f->is_packable() && wire_type == 2;
      if (wire_type != expected && !packed) {
        return Error(path, field, f, field_start,
                     "wire type " + std::string(WireTypeName(wire_type)) + ", expected " +
                         std::string(WireTypeName(expected)));
      }
      if (packed) {
        WEFT_RETURN_IF_ERROR(CheckPacked(bytes.substr(content_start, content_size), expected, path,
                                         field, f, field_start));
        continue;
      }
      if (wire_type != 2) continue;

      WEFT_RETURN_IF_ERROR(CountElement(path, field, f, field_start));
      const bool is_metric = d == pb::Payload::descriptor() && f->number() == 2;
      if (is_metric && ++metrics_ > limits_.max_metrics) {
        return Error(path, field, f, field_start,
                     "more than " + std::to_string(limits_.max_metrics) + " metrics");
      }
      if (f->type() != FieldDescriptor::TYPE_MESSAGE) continue;
      if (depth >= limits_.max_depth) {
        return Error(path, field, f, field_start,
                     "messages nested deeper than " + std::to_string(limits_.max_depth));
      }
      PathNode child;
      child.parent = path;
      child.field = f->name();
      child.repeated = f->is_repeated();
      child.is_metric = is_metric;
      const auto slot = static_cast<size_t>(f->index());
      if (slot < repeat_counts.size()) child.index = repeat_counts[slot]++;
      WEFT_RETURN_IF_ERROR(CheckMessage(bytes.substr(content_start, content_size),
                                        base + content_start, f->message_type(), &child,
                                        depth + 1));
    }
    return Status::Ok();
  }

  Status CheckPacked(std::string_view content, uint64_t element_wire_type, const PathNode* path,
                     uint64_t field, const FieldDescriptor* f, size_t offset) const {
    if (element_wire_type == 0) {
      size_t pos = 0;
      while (pos < content.size()) {
        uint64_t ignored = 0;
        if (ReadVarint(content, &pos, &ignored) != VarintStatus::kOk) {
          return Error(path, field, f, offset, "malformed varint in packed repeated field");
        }
      }
      return Status::Ok();
    }
    const size_t width = element_wire_type == 1 ? 8 : 4;
    if (content.size() % width != 0) {
      return Error(path, field, f, offset,
                   "packed repeated field of " + std::to_string(content.size()) +
                       " bytes is not a whole number of " + std::to_string(width) +
                       "-byte elements");
    }
    return Status::Ok();
  }

  const DecodeLimits& limits_;
  size_t elements_ = 0;
  size_t metrics_ = 0;
};

// ---- Protobuf message -> plain view. ----

std::string MetricLabel(size_t index, const pb::Payload_Metric& m) {
  std::string label = "metric " + std::to_string(index);
  if (m.has_name() && internal::IsValidUtf8(m.name())) label += " (\"" + m.name() + "\")";
  return label;
}

Result<std::optional<int32_t>> QualityOf(const pb::Payload_PropertySet& props) {
  if (props.keys_size() != props.values_size()) {
    return InvalidArgumentError("properties have " + std::to_string(props.keys_size()) +
                                " keys but " + std::to_string(props.values_size()) + " values");
  }
  for (int i = 0; i < props.keys_size(); ++i) {
    if (props.keys(i) != kQualityKey) continue;
    const pb::Payload_PropertyValue& v = props.values(i);
    if (v.is_null()) return std::optional<int32_t>();
    uint64_t raw = 0;
    if (v.value_case() == pb::Payload_PropertyValue::kIntValue) {
      raw = v.int_value();
    } else if (v.value_case() == pb::Payload_PropertyValue::kLongValue) {
      raw = v.long_value();
    } else {
      return InvalidArgumentError("the Quality property is not an integer");
    }
    std::optional<int64_t> q = ToSigned(raw, 32);
    if (!q) return InvalidArgumentError("the Quality property is out of range for Int32");
    return std::optional<int32_t>(static_cast<int32_t>(*q));
  }
  return std::optional<int32_t>();
}

Result<Metric> FromProto(const pb::Payload_Metric& m, size_t index) {
  const auto error = [&](std::string_view problem) {
    return InvalidArgumentError(MetricLabel(index, m) + ": " + std::string(problem));
  };
  Metric out;
  if (m.has_name()) {
    if (!internal::IsValidUtf8(m.name())) return error("name is not valid UTF-8");
    out.name = m.name();
  }
  if (m.has_alias()) out.alias = m.alias();
  if (m.has_timestamp()) out.timestamp_ms = m.timestamp();
  out.is_historical = m.is_historical();
  out.is_transient = m.is_transient();
  out.is_null = m.is_null();
  if (m.has_datatype() && m.datatype() != 0) {
    if (m.datatype() > kMaxDataType) {
      return error("unknown datatype " + std::to_string(m.datatype()));
    }
    out.type = static_cast<DataType>(m.datatype());
    if (!IsMetricDataType(out.type)) {
      return error("datatype " + DataTypeName(out.type) + " is not valid for a metric");
    }
  }
  if (m.has_properties()) {
    Result<std::optional<int32_t>> quality = QualityOf(m.properties());
    if (!quality.ok()) return error(quality.status().message());
    out.quality = *quality;
  }
  if (out.is_null) return out;  // an explicit null wins over a value sent alongside

  WireValue w;
  switch (m.value_case()) {
    case pb::Payload_Metric::kIntValue:
      w.kind = WireKind::kInt;
      w.u = m.int_value();
      break;
    case pb::Payload_Metric::kLongValue:
      w.kind = WireKind::kLong;
      w.u = m.long_value();
      break;
    case pb::Payload_Metric::kFloatValue:
      w.kind = WireKind::kFloat;
      w.f = m.float_value();
      break;
    case pb::Payload_Metric::kDoubleValue:
      w.kind = WireKind::kDouble;
      w.d = m.double_value();
      break;
    case pb::Payload_Metric::kBooleanValue:
      w.kind = WireKind::kBool;
      w.b = m.boolean_value();
      break;
    case pb::Payload_Metric::kStringValue:
      w.kind = WireKind::kString;
      w.s = m.string_value();
      break;
    case pb::Payload_Metric::kBytesValue:
      w.kind = WireKind::kBytes;
      w.s = m.bytes_value();
      break;
    case pb::Payload_Metric::kDatasetValue:
      w.kind = WireKind::kDataSet;
      w.s = m.dataset_value().SerializeAsString();
      break;
    case pb::Payload_Metric::kTemplateValue:
      w.kind = WireKind::kTemplate;
      w.s = m.template_value().SerializeAsString();
      break;
    case pb::Payload_Metric::kExtensionValue: return error("extension_value is not supported");
    case pb::Payload_Metric::VALUE_NOT_SET: break;
  }
  Result<MetricValue> value = ToType(std::move(w), out.type);
  if (!value.ok()) return error(value.status().message());
  out.value = std::move(value).value();
  return out;
}

// ---- Plain view -> protobuf message. ----

void ToProto(const Metric& m, pb::Payload_Metric* out) {
  if (m.name) out->set_name(*m.name);
  if (m.alias) out->set_alias(*m.alias);
  if (m.timestamp_ms) out->set_timestamp(*m.timestamp_ms);
  if (m.type != DataType::kUnknown) out->set_datatype(static_cast<uint32_t>(m.type));
  if (m.is_historical) out->set_is_historical(true);
  if (m.is_transient) out->set_is_transient(true);
  if (m.quality) {
    pb::Payload_PropertySet* props = out->mutable_properties();
    props->add_keys(std::string(kQualityKey));
    pb::Payload_PropertyValue* v = props->add_values();
    v->set_type(kQualityPropertyType);
    v->set_int_value(static_cast<uint32_t>(*m.quality));
  }
  if (m.is_null) {
    out->set_is_null(true);
    return;
  }
  const DataType t = m.type;
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, int64_t> || std::is_same_v<V, uint64_t>) {
          // Modular conversion: a negative Int8..Int32 becomes its 32-bit two's complement.
          if (UsesIntValue(t)) {
            out->set_int_value(static_cast<uint32_t>(v));
          } else {
            out->set_long_value(static_cast<uint64_t>(v));
          }
        } else if constexpr (std::is_same_v<V, float>) {
          out->set_float_value(v);
        } else if constexpr (std::is_same_v<V, double>) {
          out->set_double_value(v);
        } else if constexpr (std::is_same_v<V, bool>) {
          out->set_boolean_value(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          if (t == DataType::kDataSet || t == DataType::kTemplate) {
            // Already-encoded message: written verbatim as field 17 / 18.
            out->GetReflection()->MutableUnknownFields(out)->AddLengthDelimited(
                t == DataType::kDataSet ? pb::Payload_Metric::kDatasetValueFieldNumber
                                        : pb::Payload_Metric::kTemplateValueFieldNumber,
                v);
          } else if (IsBytesType(t)) {
            out->set_bytes_value(v);
          } else {
            out->set_string_value(v);
          }
        }
      },
      m.value);
}

}  // namespace

std::string DataTypeName(DataType type) {
  const auto n = static_cast<uint32_t>(type);
  if (n <= kMaxDataType) return std::string(kDataTypeNames[n]);
  return "DataType(" + std::to_string(n) + ")";
}

bool IsMetricDataType(DataType type) {
  const auto n = static_cast<uint32_t>(type);
  return n >= 1 && n <= kMaxDataType && type != DataType::kPropertySet &&
         type != DataType::kPropertySetList;
}

Status CheckValue(DataType type, const MetricValue& value) {
  if (type != DataType::kUnknown && !IsMetricDataType(type)) {
    return InvalidArgumentError(DataTypeName(type) + " is not a metric datatype");
  }
  if (std::holds_alternative<std::monostate>(value) || type == DataType::kUnknown) {
    return Status::Ok();
  }
  const std::string_view expected = ExpectedCppType(type);
  if (CppTypeName(value) != expected) {
    return InvalidArgumentError("a " + DataTypeName(type) + " value must be " +
                                std::string(expected) + ", got " + std::string(CppTypeName(value)));
  }
  const IntType it = IntTypeOf(type);
  if (it.bits != 0 && it.bits < 64) {
    if (it.is_signed) {
      const int64_t v = std::get<int64_t>(value);
      const int64_t half = int64_t{1} << (it.bits - 1);
      if (v < -half || v >= half) {
        return InvalidArgumentError("value " + std::to_string(v) + " is out of range for " +
                                    DataTypeName(type));
      }
    } else if (std::get<uint64_t>(value) > MaxUnsigned(it.bits)) {
      return InvalidArgumentError("value " + std::to_string(std::get<uint64_t>(value)) +
                                  " is out of range for " + DataTypeName(type));
    }
  }
  if (IsStringType(type) && !internal::IsValidUtf8(std::get<std::string>(value))) {
    return InvalidArgumentError("the " + DataTypeName(type) + " value is not valid UTF-8");
  }
  const size_t element = ArrayElementSize(type);
  if (element != 0 && std::get<std::string>(value).size() % element != 0) {
    return InvalidArgumentError("a " + DataTypeName(type) + " value of " +
                                std::to_string(std::get<std::string>(value).size()) +
                                " bytes is not a whole number of " + std::to_string(element) +
                                "-byte elements");
  }
  return Status::Ok();
}

Result<MetricValue> ApplyDataType(const MetricValue& value, DataType type) {
  if (type != DataType::kUnknown && !IsMetricDataType(type)) {
    return InvalidArgumentError(DataTypeName(type) + " is not a metric datatype");
  }
  if (std::holds_alternative<int64_t>(value)) {
    WEFT_RETURN_IF_ERROR(CheckValue(type, value));
    return value;
  }
  WireValue w;
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, uint64_t>) {
          w.kind = WireKind::kLong;
          w.u = v;
        } else if constexpr (std::is_same_v<V, float>) {
          w.kind = WireKind::kFloat;
          w.f = v;
        } else if constexpr (std::is_same_v<V, double>) {
          w.kind = WireKind::kDouble;
          w.d = v;
        } else if constexpr (std::is_same_v<V, bool>) {
          w.kind = WireKind::kBool;
          w.b = v;
        } else if constexpr (std::is_same_v<V, std::string>) {
          // Untyped strings and bytes look alike: take the kind the type wants.
          w.kind = type == DataType::kDataSet    ? WireKind::kDataSet
                   : type == DataType::kTemplate ? WireKind::kTemplate
                   : IsBytesType(type)           ? WireKind::kBytes
                                                 : WireKind::kString;
          w.s = v;
        }
      },
      value);
  return ToType(std::move(w), type);
}

std::string Encode(const Payload& payload) {
  // An arena: one allocation for the whole message instead of one per metric (DDATA is hot).
  google::protobuf::Arena arena;
  auto* msg = google::protobuf::Arena::CreateMessage<pb::Payload>(&arena);
  if (payload.timestamp_ms) msg->set_timestamp(*payload.timestamp_ms);
  for (const Metric& m : payload.metrics) ToProto(m, msg->add_metrics());
  if (payload.seq) msg->set_seq(*payload.seq);
  if (payload.uuid) msg->set_uuid(*payload.uuid);
  if (payload.body) msg->set_body(*payload.body);
  return msg->SerializeAsString();
}

namespace {

// Protobuf wire format, by hand, for the fields of DATA messages: written into a small buffer
// and appended once (DDATA is the hot path of every publisher).
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

class WireBuffer {
 public:
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      bytes_[size_++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes_[size_++] = static_cast<char>(v);
  }
  void Tag(uint32_t field, uint32_t wire_type) { Varint((uint64_t{field} << 3) | wire_type); }
  template <typename T>
  void Fixed(T v) {  // protobuf fixed32/64 are little-endian, as are x86 and ARM
    std::memcpy(bytes_ + size_, &v, sizeof(T));
    size_ += sizeof(T);
  }
  std::string_view view() const { return {bytes_, size_}; }
  size_t size() const { return size_; }

 private:
  char bytes_[96];  // the largest use: 6 varint fields of at most 11 bytes with their tags
  size_t size_ = 0;
};

}  // namespace

bool AppendDataMetric(uint64_t alias, uint64_t timestamp_ms, DataType type,
                      const MetricValue& value, std::string* out) {
  if (type == DataType::kDataSet || type == DataType::kTemplate) return false;
  WireBuffer m;  // the nested Metric message, except a string value's bytes
  m.Tag(pb::Payload_Metric::kAliasFieldNumber, kVarint);
  m.Varint(alias);
  m.Tag(pb::Payload_Metric::kTimestampFieldNumber, kVarint);
  m.Varint(timestamp_ms);
  if (type != DataType::kUnknown) {
    m.Tag(pb::Payload_Metric::kDatatypeFieldNumber, kVarint);
    m.Varint(static_cast<uint32_t>(type));
  }
  std::string_view tail;  // a string value's bytes, after m
  if (std::holds_alternative<std::monostate>(value)) {
    m.Tag(pb::Payload_Metric::kIsNullFieldNumber, kVarint);
    m.Varint(1);
  } else {
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, int64_t> || std::is_same_v<V, uint64_t>) {
            if (UsesIntValue(type)) {  // modular, as ToProto
              m.Tag(pb::Payload_Metric::kIntValueFieldNumber, kVarint);
              m.Varint(static_cast<uint32_t>(v));
            } else {
              m.Tag(pb::Payload_Metric::kLongValueFieldNumber, kVarint);
              m.Varint(static_cast<uint64_t>(v));
            }
          } else if constexpr (std::is_same_v<V, float>) {
            m.Tag(pb::Payload_Metric::kFloatValueFieldNumber, kFixed32);
            m.Fixed(v);
          } else if constexpr (std::is_same_v<V, double>) {
            m.Tag(pb::Payload_Metric::kDoubleValueFieldNumber, kFixed64);
            m.Fixed(v);
          } else if constexpr (std::is_same_v<V, bool>) {
            m.Tag(pb::Payload_Metric::kBooleanValueFieldNumber, kVarint);
            m.Varint(v ? 1 : 0);
          } else if constexpr (std::is_same_v<V, std::string>) {
            m.Tag(IsBytesType(type) ? pb::Payload_Metric::kBytesValueFieldNumber
                                    : pb::Payload_Metric::kStringValueFieldNumber,
                  kLengthDelimited);
            m.Varint(v.size());
            tail = v;
          }
        },
        value);
  }
  WireBuffer head;
  head.Tag(pb::Payload::kMetricsFieldNumber, kLengthDelimited);
  head.Varint(m.size() + tail.size());
  out->append(head.view());
  out->append(m.view());
  out->append(tail);
  return true;
}

void AppendPayloadTimestamp(uint64_t timestamp_ms, std::string* out) {
  WireBuffer b;
  b.Tag(pb::Payload::kTimestampFieldNumber, kVarint);
  b.Varint(timestamp_ms);
  out->append(b.view());
}

void AppendPayloadSeq(uint64_t seq, std::string* out) {
  WireBuffer b;
  b.Tag(pb::Payload::kSeqFieldNumber, kVarint);
  b.Varint(seq);
  out->append(b.view());
}
Result<Payload> Decode(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_bytes || bytes.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidArgumentError("payload is " + std::to_string(bytes.size()) +
                                " bytes, more than the limit of " +
                                std::to_string(limits.max_bytes));
  }
  WEFT_RETURN_IF_ERROR(WireChecker(limits).Check(bytes));

  google::protobuf::Arena arena;
  auto* msg = google::protobuf::Arena::CreateMessage<pb::Payload>(&arena);
  if (!msg->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return InternalError("protobuf rejected a Sparkplug payload that passed the wire check");
  }

  Payload out;
  if (msg->has_timestamp()) out.timestamp_ms = msg->timestamp();
  if (msg->has_seq()) out.seq = msg->seq();
  if (msg->has_uuid()) {
    if (!internal::IsValidUtf8(msg->uuid())) {
      return InvalidArgumentError("payload: uuid is not valid UTF-8");
    }
    out.uuid = msg->uuid();
  }
  if (msg->has_body()) out.body = msg->body();
  out.metrics.reserve(static_cast<size_t>(msg->metrics_size()));
  for (int i = 0; i < msg->metrics_size(); ++i) {
    WEFT_ASSIGN_OR_RETURN(Metric m, FromProto(msg->metrics(i), static_cast<size_t>(i)));
    out.metrics.push_back(std::move(m));
  }
  return out;
}

}  // namespace weft::sparkplug

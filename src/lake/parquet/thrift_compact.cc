#include "lake/parquet/thrift_compact.h"

#include <cstring>

namespace weft::lake::parquet {
namespace {

int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

}  // namespace

Status CompactReader::Error(std::string_view message) const {
  return DataLossError("thrift compact protocol at byte " + std::to_string(pos_) + ": " +
                       std::string(message));
}

Status CompactReader::BeginStruct() {
  if (field_id_stack_.size() >= static_cast<size_t>(kMaxDepth)) {
    return Error("structs nested deeper than " + std::to_string(kMaxDepth));
  }
  field_id_stack_.push_back(last_field_id_);
  last_field_id_ = 0;
  return Status::Ok();
}

void CompactReader::EndStruct() {
  if (field_id_stack_.empty()) return;
  last_field_id_ = field_id_stack_.back();
  field_id_stack_.pop_back();
}

Result<uint64_t> CompactReader::ReadVarint() {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Error("varint runs past the end of the input");
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return result;
  }
  return Error("varint longer than 10 bytes");
}

Status CompactReader::ReadFieldHeader(Field* field) {
  if (pos_ >= data_.size()) return Error("input ends inside a struct (no stop field)");
  const auto byte = static_cast<uint8_t>(data_[pos_++]);
  field->type = static_cast<CType>(byte & 0x0F);
  if (field->type == CType::kStop) {
    field->id = 0;
    return Status::Ok();
  }
  if (static_cast<uint8_t>(field->type) > static_cast<uint8_t>(CType::kUuid)) {
    pos_--;
    return Error("unknown field type " + std::to_string(byte & 0x0F));
  }
  const int delta = byte >> 4;
  if (delta != 0) {
    const int id = last_field_id_ + delta;
    if (id > 32767) return Error("field id overflows int16");
    field->id = static_cast<int16_t>(id);
  } else {
    WEFT_ASSIGN_OR_RETURN(const uint64_t raw, ReadVarint());
    const int64_t id = ZigZagDecode(raw);
    if (id < -32768 || id > 32767) return Error("field id out of int16 range");
    field->id = static_cast<int16_t>(id);
  }
  last_field_id_ = field->id;
  return Status::Ok();
}

Status CompactReader::ReadListHeader(CType* element_type, uint32_t* size) {
  if (pos_ >= data_.size()) return Error("input ends at a list header");
  const auto byte = static_cast<uint8_t>(data_[pos_++]);
  *element_type = static_cast<CType>(byte & 0x0F);
  uint64_t n = byte >> 4;
  if (n == 15) {
    WEFT_ASSIGN_OR_RETURN(n, ReadVarint());
  }
  // Every element takes at least one byte, so a count above the bytes left is a lie.
  if (n > remaining()) {
    return Error("list of " + std::to_string(n) + " elements but only " +
                 std::to_string(remaining()) + " bytes left");
  }
  *size = static_cast<uint32_t>(n);
  return Status::Ok();
}

Result<bool> CompactReader::ReadBoolElement() {
  if (pos_ >= data_.size()) return Error("input ends at a bool");
  const auto byte = static_cast<uint8_t>(data_[pos_++]);
  return byte == 1;
}

Result<int8_t> CompactReader::ReadByte() {
  if (pos_ >= data_.size()) return Error("input ends at a byte");
  return static_cast<int8_t>(data_[pos_++]);
}

Result<int16_t> CompactReader::ReadI16() {
  WEFT_ASSIGN_OR_RETURN(const uint64_t raw, ReadVarint());
  const int64_t v = ZigZagDecode(raw);
  if (v < -32768 || v > 32767) return Error("i16 out of range");
  return static_cast<int16_t>(v);
}

Result<int32_t> CompactReader::ReadI32() {
  WEFT_ASSIGN_OR_RETURN(const uint64_t raw, ReadVarint());
  const int64_t v = ZigZagDecode(raw);
  if (v < INT32_MIN || v > INT32_MAX) return Error("i32 out of range");
  return static_cast<int32_t>(v);
}

Result<int64_t> CompactReader::ReadI64() {
  WEFT_ASSIGN_OR_RETURN(const uint64_t raw, ReadVarint());
  return ZigZagDecode(raw);
}

Result<int32_t> CompactReader::ReadInt32As(CType type) {
  switch (type) {
    case CType::kByte: {
      WEFT_ASSIGN_OR_RETURN(const int8_t v, ReadByte());
      return int32_t{v};
    }
    case CType::kI16: {
      WEFT_ASSIGN_OR_RETURN(const int16_t v, ReadI16());
      return int32_t{v};
    }
    case CType::kI32: return ReadI32();
    default:
      return Error("expected an integer field, found type " +
                   std::to_string(static_cast<int>(type)));
  }
}

Result<int64_t> CompactReader::ReadInt64As(CType type) {
  if (type == CType::kI64) return ReadI64();
  WEFT_ASSIGN_OR_RETURN(const int32_t v, ReadInt32As(type));
  return int64_t{v};
}

Result<double> CompactReader::ReadDouble() {
  if (remaining() < 8) return Error("input ends inside a double");
  double v;
  std::memcpy(&v, data_.data() + pos_, 8);  // little endian on the wire, as on our targets
  pos_ += 8;
  return v;
}

Result<std::string_view> CompactReader::ReadBinary() {
  WEFT_ASSIGN_OR_RETURN(const uint64_t n, ReadVarint());
  if (n > remaining()) {
    return Error("binary of " + std::to_string(n) + " bytes but only " +
                 std::to_string(remaining()) + " bytes left");
  }
  std::string_view v = data_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return v;
}

Status CompactReader::Skip(CType type) {
  return SkipValue(type, static_cast<int>(field_id_stack_.size()));
}

Status CompactReader::SkipValue(CType type, int depth) {
  if (depth >= kMaxDepth) return Error("values nested deeper than " + std::to_string(kMaxDepth));
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      return Status::Ok();  // in a field header; list elements are skipped as bytes below
    case CType::kByte: return ReadByte().status();
    case CType::kI16:
    case CType::kI32:
    case CType::kI64: return ReadVarint().status();
    case CType::kDouble: return ReadDouble().status();
    case CType::kBinary: return ReadBinary().status();
    case CType::kUuid:
      if (remaining() < 16) return Error("input ends inside a uuid");
      pos_ += 16;
      return Status::Ok();
    case CType::kList:
    case CType::kSet: {
      CType elem;
      uint32_t n;
      WEFT_RETURN_IF_ERROR(ReadListHeader(&elem, &n));
      for (uint32_t i = 0; i < n; ++i) {
        if (elem == CType::kBoolTrue || elem == CType::kBoolFalse) {
          WEFT_RETURN_IF_ERROR(ReadBoolElement().status());
        } else {
          WEFT_RETURN_IF_ERROR(SkipValue(elem, depth + 1));
        }
      }
      return Status::Ok();
    }
    case CType::kMap: {
      WEFT_ASSIGN_OR_RETURN(const uint64_t n, ReadVarint());
      if (n == 0) return Status::Ok();
      if (n > remaining()) return Error("map larger than the bytes left");
      if (pos_ >= data_.size()) return Error("input ends at a map header");
      const auto kv = static_cast<uint8_t>(data_[pos_++]);
      const auto key = static_cast<CType>(kv >> 4);
      const auto value = static_cast<CType>(kv & 0x0F);
      for (uint64_t i = 0; i < n; ++i) {
        for (CType t : {key, value}) {
          if (t == CType::kBoolTrue || t == CType::kBoolFalse) {
            WEFT_RETURN_IF_ERROR(ReadBoolElement().status());
          } else {
            WEFT_RETURN_IF_ERROR(SkipValue(t, depth + 1));
          }
        }
      }
      return Status::Ok();
    }
    case CType::kStruct: {
      WEFT_RETURN_IF_ERROR(BeginStruct());
      Field f;
      while (true) {
        WEFT_RETURN_IF_ERROR(ReadFieldHeader(&f));
        if (f.type == CType::kStop) break;
        WEFT_RETURN_IF_ERROR(SkipValue(f.type, depth + 1));
      }
      EndStruct();
      return Status::Ok();
    }
    case CType::kStop: break;
  }
  return Error("cannot skip a value of type " + std::to_string(static_cast<int>(type)));
}

// ---- writer ----

void CompactWriter::BeginStruct() {
  field_id_stack_.push_back(last_field_id_);
  last_field_id_ = 0;
}

void CompactWriter::EndStruct() {
  out_->push_back('\0');
  if (field_id_stack_.empty()) return;
  last_field_id_ = field_id_stack_.back();
  field_id_stack_.pop_back();
}

void CompactWriter::Varint(uint64_t value) {
  while (value >= 0x80) {
    out_->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out_->push_back(static_cast<char>(value));
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  const int delta = id - last_field_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZagEncode(id));
  }
  last_field_id_ = id;
}

void CompactWriter::FieldBool(int16_t id, bool value) {
  FieldHeader(id, value ? CType::kBoolTrue : CType::kBoolFalse);
}
void CompactWriter::FieldByte(int16_t id, int8_t value) {
  FieldHeader(id, CType::kByte);
  out_->push_back(static_cast<char>(value));
}
void CompactWriter::FieldI32(int16_t id, int32_t value) {
  FieldHeader(id, CType::kI32);
  I32(value);
}
void CompactWriter::FieldI64(int16_t id, int64_t value) {
  FieldHeader(id, CType::kI64);
  I64(value);
}
void CompactWriter::FieldDouble(int16_t id, double value) {
  FieldHeader(id, CType::kDouble);
  char buf[8];
  std::memcpy(buf, &value, 8);
  out_->append(buf, 8);
}
void CompactWriter::FieldBinary(int16_t id, std::string_view value) {
  FieldHeader(id, CType::kBinary);
  Binary(value);
}
void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CType::kStruct);
  BeginStruct();
}
void CompactWriter::FieldListBegin(int16_t id, CType element_type, uint32_t size) {
  FieldHeader(id, CType::kList);
  ListHeader(element_type, size);
}
void CompactWriter::ListHeader(CType element_type, uint32_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<uint32_t>(element_type)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<uint32_t>(element_type)));
    Varint(size);
  }
}
void CompactWriter::BoolElement(bool value) {
  out_->push_back(value ? '\1' : '\2');
}
void CompactWriter::I32(int32_t value) {
  Varint(ZigZagEncode(value));
}
void CompactWriter::I64(int64_t value) {
  Varint(ZigZagEncode(value));
}
void CompactWriter::Binary(std::string_view value) {
  Varint(value.size());
  out_->append(value);
}

}  // namespace weft::lake::parquet

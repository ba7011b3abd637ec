// The Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md), the encoding
// of Parquet's footer and page headers. Only what Parquet uses: structs, lists, maps (skipped),
// the integer types, double, binary and bool.
//
//   CompactReader r(bytes);
//   WEFT_RETURN_IF_ERROR(r.BeginStruct());
//   CompactReader::Field f;
//   while (true) {
//     WEFT_RETURN_IF_ERROR(r.ReadFieldHeader(&f));
//     if (f.type == CType::kStop) break;
//     if (f.id == 1 && f.type == CType::kI32) { WEFT_ASSIGN_OR_RETURN(x, r.ReadI32()); }
//     else WEFT_RETURN_IF_ERROR(r.Skip(f.type));
//   }
//   r.EndStruct();
//
//   std::string out; CompactWriter w(&out);
//   w.BeginStruct(); w.FieldI32(1, 42); w.EndStruct();   // EndStruct writes the stop byte
//
// Malformed input never crashes nor allocates more than the input can justify: structs nest at
// most kMaxDepth deep, every list/map/binary length is checked against the bytes left. Errors
// are kDataLoss and name the byte offset.
//
// Thread-safety: an instance is used by one thread.
#ifndef WEFT_LAKE_PARQUET_THRIFT_COMPACT_H_
#define WEFT_LAKE_PARQUET_THRIFT_COMPACT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::lake::parquet {

//! Compact-protocol type ids (the low nibble of a field header).
enum class CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
  kUuid = 13,
};

class CompactReader {
 public:
  static constexpr int kMaxDepth = 64;

  struct Field {
    int16_t id = 0;
    CType type = CType::kStop;
    //! For bool fields the value is in the header (kBoolTrue / kBoolFalse).
    bool IsBool() const { return type == CType::kBoolTrue || type == CType::kBoolFalse; }
  };

  explicit CompactReader(std::string_view bytes) : data_(bytes) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  //! Enters a struct (resets the field-id delta base). Fails past kMaxDepth.
  Status BeginStruct();
  void EndStruct();

  //! Reads the next field header; `field->type == kStop` ends the struct.
  Status ReadFieldHeader(Field* field);

  //! List/set header: element type and count (count checked against bytes left).
  Status ReadListHeader(CType* element_type, uint32_t* size);

  Result<bool> ReadBoolElement();  //!< a bool inside a list (one byte)
  Result<int8_t> ReadByte();
  Result<int16_t> ReadI16();
  Result<int32_t> ReadI32();
  Result<int64_t> ReadI64();
  Result<double> ReadDouble();
  Result<std::string_view> ReadBinary();  //!< a view into the input
  Result<uint64_t> ReadVarint();

  //! Reads an i32/i16/byte field as int32, whatever integer type the writer used.
  Result<int32_t> ReadInt32As(CType type);
  Result<int64_t> ReadInt64As(CType type);

  //! Skips a value of `type` (nested structs, lists and maps included).
  Status Skip(CType type);

  //! "at byte N: message"
  Status Error(std::string_view message) const;

 private:
  Status SkipValue(CType type, int depth);

  std::string_view data_;
  size_t pos_ = 0;
  int16_t last_field_id_ = 0;
  std::vector<int16_t> field_id_stack_;
};

class CompactWriter {
 public:
  //! Appends to *out, which must outlive the writer.
  explicit CompactWriter(std::string* out) : out_(out) {}

  void BeginStruct();
  void EndStruct();  //!< writes the stop byte and restores the outer field-id base

  void FieldHeader(int16_t id, CType type);
  void FieldBool(int16_t id, bool value);
  void FieldByte(int16_t id, int8_t value);
  void FieldI32(int16_t id, int32_t value);
  void FieldI64(int16_t id, int64_t value);
  void FieldDouble(int16_t id, double value);
  void FieldBinary(int16_t id, std::string_view value);
  void FieldStructBegin(int16_t id);  //!< header + BeginStruct; close with EndStruct
  void FieldListBegin(int16_t id, CType element_type, uint32_t size);

  void ListHeader(CType element_type, uint32_t size);
  void BoolElement(bool value);
  void I32(int32_t value);
  void I64(int64_t value);
  void Binary(std::string_view value);
  void Varint(uint64_t value);

 private:
  std::string* out_;
  int16_t last_field_id_ = 0;
  std::vector<int16_t> field_id_stack_;
};

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_THRIFT_COMPACT_H_

#ifndef WEFT_LAKE_DELTA_SCHEMA_H_
#define WEFT_LAKE_DELTA_SCHEMA_H_

// A Delta table schema: the JSON "schemaString" of the metaData action, as PROTOCOL.md's "Schema
// Serialization Format" defines it (a subset of Spark SQL's JSON schema).
//
//   WEFT_ASSIGN_OR_RETURN(Schema schema, ParseSchema(metadata.schema_string));
//   for (const StructField& f : schema.fields) ... f.type->kind ...
//   std::string json = SerializeSchema(schema);   // round-trips what ParseSchema read
//
// Column metadata is kept as raw JSON text per key, so keys we do not understand survive a
// read-modify-write. Column mapping helpers resolve display names to physical names.
//
// Thread-safety: values; immutable after construction, safe to share between threads.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::lake::delta {

struct DataType;
using DataTypePtr = std::shared_ptr<const DataType>;  // shared: types are immutable trees

struct StructField {
  std::string name{};
  DataTypePtr type{};
  bool nullable = true;
  //! Column metadata: key -> the value's JSON text (e.g. "5", "\"col-1\"", "{...}").
  std::map<std::string, std::string> metadata{};

  //! delta.columnMapping.physicalName, or the display name when absent.
  std::string PhysicalName() const;
  //! delta.columnMapping.id, when present.
  std::optional<int64_t> ColumnMappingId() const;
};

struct DataType {
  enum class Kind {
    kString,
    kLong,
    kInteger,
    kShort,
    kByte,
    kFloat,
    kDouble,
    kDecimal,
    kBoolean,
    kBinary,
    kDate,
    kTimestamp,
    kTimestampNtz,
    kVoid,
    kVariant,
    kStruct,
    kArray,
    kMap,
  };
  Kind kind = Kind::kString;
  int32_t precision = 0;              //!< kDecimal
  int32_t scale = 0;                  //!< kDecimal
  std::vector<StructField> fields{};  //!< kStruct
  DataTypePtr element{};              //!< kArray
  bool contains_null = true;          //!< kArray
  DataTypePtr key{};                  //!< kMap
  DataTypePtr value{};                //!< kMap
  bool value_contains_null = true;    //!< kMap

  bool IsPrimitive() const {
    return kind != Kind::kStruct && kind != Kind::kArray && kind != Kind::kMap;
  }
  //! The Delta name: "long", "decimal(10,2)", "struct", "array", "map", ...
  std::string Name() const;

  static DataTypePtr Primitive(Kind kind);
  static DataTypePtr Decimal(int32_t precision, int32_t scale);
  static DataTypePtr Struct(std::vector<StructField> fields);
  static DataTypePtr Array(DataTypePtr element, bool contains_null);
  static DataTypePtr Map(DataTypePtr key, DataTypePtr value, bool value_contains_null);
};

//! The top-level schema of a table: a struct's fields.
struct Schema {
  std::vector<StructField> fields{};

  //! The top-level field with that display name, or nullptr.
  const StructField* Find(std::string_view name) const;
  //! True when some field (at any depth) has the given type kind.
  bool Uses(DataType::Kind kind) const;
};

//! Parses a schemaString. Errors name the JSON path of the bad element ("fields[2].type").
Result<Schema> ParseSchema(std::string_view json);
//! Serializes compactly (one line, as the log needs), field order preserved.
std::string SerializeSchema(const Schema& schema);

//! Parses a primitive type name: "long", "decimal(10,2)", "timestamp_ntz", ...
Result<DataTypePtr> ParsePrimitiveTypeName(std::string_view name);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_SCHEMA_H_

#include "lake/delta/schema.h"

#include <charconv>
#include <utility>

#include "lake/delta/json_util.h"

namespace weft::lake::delta {

using json_util::Json;

namespace {

struct PrimitiveName {
  std::string_view name;
  DataType::Kind kind;
};

constexpr PrimitiveName kPrimitives[] = {
    {"string", DataType::Kind::kString},       {"long", DataType::Kind::kLong},
    {"integer", DataType::Kind::kInteger},     {"short", DataType::Kind::kShort},
    {"byte", DataType::Kind::kByte},           {"float", DataType::Kind::kFloat},
    {"double", DataType::Kind::kDouble},       {"boolean", DataType::Kind::kBoolean},
    {"binary", DataType::Kind::kBinary},       {"date", DataType::Kind::kDate},
    {"timestamp", DataType::Kind::kTimestamp}, {"timestamp_ntz", DataType::Kind::kTimestampNtz},
    {"void", DataType::Kind::kVoid},           {"variant", DataType::Kind::kVariant},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<int32_t> ParseSmallInt(std::string_view s) {
  s = Trim(s);
  int32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<DataTypePtr> ParseType(const Json& j, const std::string& path);

Result<StructField> ParseField(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return InvalidArgumentError(path + ": expected a field object, got " + json_util::TypeName(j));
  }
  StructField f;
  WEFT_ASSIGN_OR_RETURN(f.name, json_util::GetString(j, "name", path));
  auto type_it = j.find("type");
  if (type_it == j.end()) return InvalidArgumentError(path + ".type: missing");
  WEFT_ASSIGN_OR_RETURN(f.type, ParseType(*type_it, path + ".type"));
  WEFT_ASSIGN_OR_RETURN(auto nullable, json_util::GetOptBool(j, "nullable", path));
  f.nullable = nullable.value_or(true);
  auto md = j.find("metadata");
  if (md != j.end() && !md->is_null()) {
    if (!md->is_object()) {
      return InvalidArgumentError(path + ".metadata: expected an object, got " +
                                  json_util::TypeName(*md));
    }
    for (auto it = md->begin(); it != md->end(); ++it) {
      f.metadata.emplace(it.key(), json_util::Dump(*it));
    }
  }
  return f;
}

Result<DataTypePtr> ParseType(const Json& j, const std::string& path) {
  if (j.is_string()) {
    Result<DataTypePtr> t = ParsePrimitiveTypeName(j.get<std::string>());
    if (!t.ok()) return t.status().WithContext(path);
    return t;
  }
  if (!j.is_object()) {
    return InvalidArgumentError(path + ": expected a type name or object, got " +
                                json_util::TypeName(j));
  }
  WEFT_ASSIGN_OR_RETURN(std::string type, json_util::GetString(j, "type", path));
  if (type == "struct") {
    auto fields = j.find("fields");
    if (fields == j.end() || !fields->is_array()) {
      return InvalidArgumentError(path + ".fields: expected an array");
    }
    std::vector<StructField> out;
    for (size_t i = 0; i < fields->size(); ++i) {
      WEFT_ASSIGN_OR_RETURN(StructField f,
                            ParseField((*fields)[i], path + ".fields[" + std::to_string(i) + "]"));
      out.push_back(std::move(f));
    }
    return DataType::Struct(std::move(out));
  }
  if (type == "array") {
    auto e = j.find("elementType");
    if (e == j.end()) return InvalidArgumentError(path + ".elementType: missing");
    WEFT_ASSIGN_OR_RETURN(DataTypePtr element, ParseType(*e, path + ".elementType"));
    WEFT_ASSIGN_OR_RETURN(auto cn, json_util::GetOptBool(j, "containsNull", path));
    return DataType::Array(std::move(element), cn.value_or(true));
  }
  if (type == "map") {
    auto k = j.find("keyType");
    auto v = j.find("valueType");
    if (k == j.end()) return InvalidArgumentError(path + ".keyType: missing");
    if (v == j.end()) return InvalidArgumentError(path + ".valueType: missing");
    WEFT_ASSIGN_OR_RETURN(DataTypePtr key, ParseType(*k, path + ".keyType"));
    WEFT_ASSIGN_OR_RETURN(DataTypePtr value, ParseType(*v, path + ".valueType"));
    WEFT_ASSIGN_OR_RETURN(auto vcn, json_util::GetOptBool(j, "valueContainsNull", path));
    return DataType::Map(std::move(key), std::move(value), vcn.value_or(true));
  }
  // {"type":"variant"} and other primitives written as objects.
  Result<DataTypePtr> t = ParsePrimitiveTypeName(type);
  if (!t.ok()) return t.status().WithContext(path);
  return t;
}

Json TypeToJson(const DataType& t);

Json FieldToJson(const StructField& f) {
  Json md = Json::object();
  for (const auto& [k, v] : f.metadata) {
    Json parsed = Json::parse(v, nullptr, false);
    md[k] = parsed.is_discarded() ? Json(v) : parsed;
  }
  Json j = Json::object();
  j["name"] = f.name;
  j["type"] = TypeToJson(*f.type);
  j["nullable"] = f.nullable;
  j["metadata"] = std::move(md);
  return j;
}

Json TypeToJson(const DataType& t) {
  switch (t.kind) {
    case DataType::Kind::kStruct: {
      Json fields = Json::array();
      for (const StructField& f : t.fields) fields.push_back(FieldToJson(f));
      Json j = Json::object();
      j["type"] = "struct";
      j["fields"] = std::move(fields);
      return j;
    }
    case DataType::Kind::kArray: {
      Json j = Json::object();
      j["type"] = "array";
      j["elementType"] = TypeToJson(*t.element);
      j["containsNull"] = t.contains_null;
      return j;
    }
    case DataType::Kind::kMap: {
      Json j = Json::object();
      j["type"] = "map";
      j["keyType"] = TypeToJson(*t.key);
      j["valueType"] = TypeToJson(*t.value);
      j["valueContainsNull"] = t.value_contains_null;
      return j;
    }
    default: return Json(t.Name());
  }
}

bool UsesKind(const DataType& t, DataType::Kind kind) {
  if (t.kind == kind) return true;
  switch (t.kind) {
    case DataType::Kind::kStruct:
      for (const StructField& f : t.fields) {
        if (UsesKind(*f.type, kind)) return true;
      }
      return false;
    case DataType::Kind::kArray: return UsesKind(*t.element, kind);
    case DataType::Kind::kMap: return UsesKind(*t.key, kind) || UsesKind(*t.value, kind);
    default: return false;
  }
}

}  // namespace

std::string StructField::PhysicalName() const {
  auto it = metadata.find("delta.columnMapping.physicalName");
  if (it == metadata.end()) return name;
  Json j = Json::parse(it->second, nullptr, false);
  if (j.is_string()) return j.get<std::string>();
  return name;
}

std::optional<int64_t> StructField::ColumnMappingId() const {
  auto it = metadata.find("delta.columnMapping.id");
  if (it == metadata.end()) return std::nullopt;
  Json j = Json::parse(it->second, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return json_util::AsInt64(j);
}

std::string DataType::Name() const {
  switch (kind) {
    case Kind::kDecimal:
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case Kind::kStruct: return "struct";
    case Kind::kArray: return "array";
    case Kind::kMap: return "map";
    default:
      for (const PrimitiveName& p : kPrimitives) {
        if (p.kind == kind) return std::string(p.name);
      }
      return "unknown";
  }
}

DataTypePtr DataType::Primitive(Kind kind) {
  auto t = std::make_shared<DataType>();
  t->kind = kind;
  return t;
}

DataTypePtr DataType::Decimal(int32_t precision, int32_t scale) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kDecimal;
  t->precision = precision;
  t->scale = scale;
  return t;
}

DataTypePtr DataType::Struct(std::vector<StructField> fields) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kStruct;
  t->fields = std::move(fields);
  return t;
}

DataTypePtr DataType::Array(DataTypePtr element, bool contains_null) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kArray;
  t->element = std::move(element);
  t->contains_null = contains_null;
  return t;
}

DataTypePtr DataType::Map(DataTypePtr key, DataTypePtr value, bool value_contains_null) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kMap;
  t->key = std::move(key);
  t->value = std::move(value);
  t->value_contains_null = value_contains_null;
  return t;
}

const StructField* Schema::Find(std::string_view name) const {
  for (const StructField& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool Schema::Uses(DataType::Kind kind) const {
  for (const StructField& f : fields) {
    if (UsesKind(*f.type, kind)) return true;
  }
  return false;
}

Result<DataTypePtr> ParsePrimitiveTypeName(std::string_view name) {
  for (const PrimitiveName& p : kPrimitives) {
    if (p.name == name) return DataType::Primitive(p.kind);
  }
  if (name == "decimal") return DataType::Decimal(10, 0);  // Spark's default
  if (name.starts_with("decimal(") && name.ends_with(")")) {
    std::string_view inner = name.substr(8, name.size() - 9);
    size_t comma = inner.find(',');
    if (comma != std::string_view::npos) {
      std::optional<int32_t> p = ParseSmallInt(inner.substr(0, comma));
      std::optional<int32_t> s = ParseSmallInt(inner.substr(comma + 1));
      if (p && s && *p >= 1 && *p <= 38 && *s >= 0 && *s <= *p) return DataType::Decimal(*p, *s);
    }
    return InvalidArgumentError("invalid decimal type '" + std::string(name) +
                                "' (expected decimal(precision,scale), 1 <= precision <= 38, "
                                "0 <= scale <= precision)");
  }
  return InvalidArgumentError("unknown data type '" + std::string(name) + "'");
}

Result<Schema> ParseSchema(std::string_view text) {
  WEFT_ASSIGN_OR_RETURN(Json j, json_util::Parse(text, "schemaString"));
  WEFT_ASSIGN_OR_RETURN(DataTypePtr t, ParseType(j, "schemaString"));
  if (t->kind != DataType::Kind::kStruct) {
    return InvalidArgumentError("schemaString: expected a struct at the top level, got " +
                                t->Name());
  }
  return Schema{t->fields};
}

std::string SerializeSchema(const Schema& schema) {
  DataType root;
  root.kind = DataType::Kind::kStruct;
  root.fields = schema.fields;
  return json_util::Dump(TypeToJson(root));
}

}  // namespace weft::lake::delta

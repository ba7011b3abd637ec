#include "lake/parquet/metadata.h"

#include <utility>

#include "lake/parquet/thrift_compact.h"

// Decoding is tolerant the way other Parquet readers are: unknown fields (and known fields
// written with an unexpected thrift type) are skipped, so files from newer writers load. What
// is missing or malformed yields kDataLoss naming the struct and field.

namespace weft::lake::parquet {
namespace {

using Field = CompactReader::Field;

// Runs `on_field(field)` for every field of a struct. `on_field` returns Result<bool>: false
// means "not mine", and the field is skipped.
template <typename F>
Status ReadStruct(CompactReader& r, std::string_view name, F&& on_field) {
  WEFT_RETURN_IF_ERROR(r.BeginStruct());
  Field f;
  while (true) {
    WEFT_RETURN_IF_ERROR(r.ReadFieldHeader(&f).WithContext(name));
    if (f.type == CType::kStop) break;
    Result<bool> handled = on_field(f);
    if (!handled.ok()) return handled.status();
    if (!*handled) WEFT_RETURN_IF_ERROR(r.Skip(f.type).WithContext(name));
  }
  r.EndStruct();
  return Status::Ok();
}

bool IsInt(CType t) {
  return t == CType::kByte || t == CType::kI16 || t == CType::kI32;
}
bool IsInt64(CType t) {
  return IsInt(t) || t == CType::kI64;
}

// Each Get* returns false (skip) when the wire type does not fit the field.
Result<bool> GetI32(CompactReader& r, const Field& f, int32_t* out) {
  if (!IsInt(f.type)) return false;
  WEFT_ASSIGN_OR_RETURN(*out, r.ReadInt32As(f.type));
  return true;
}
Result<bool> GetI64(CompactReader& r, const Field& f, int64_t* out) {
  if (!IsInt64(f.type)) return false;
  WEFT_ASSIGN_OR_RETURN(*out, r.ReadInt64As(f.type));
  return true;
}
template <typename E>
Result<bool> GetEnum(CompactReader& r, const Field& f, E* out) {
  int32_t v = 0;
  WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &v));
  if (ok) *out = static_cast<E>(v);
  return ok;
}
template <typename T>
Result<bool> GetOpt(CompactReader& r, const Field& f, std::optional<T>* out) {
  T v{};
  bool ok = false;
  if constexpr (std::is_same_v<T, int64_t>) {
    WEFT_ASSIGN_OR_RETURN(ok, GetI64(r, f, &v));
  } else if constexpr (std::is_same_v<T, int32_t>) {
    WEFT_ASSIGN_OR_RETURN(ok, GetI32(r, f, &v));
  } else {
    WEFT_ASSIGN_OR_RETURN(ok, GetEnum(r, f, &v));
  }
  if (ok) *out = v;
  return ok;
}
Result<bool> GetBool(const Field& f, bool* out) {
  if (!f.IsBool()) return false;
  *out = f.type == CType::kBoolTrue;
  return true;
}
Result<bool> GetString(CompactReader& r, const Field& f, std::string* out) {
  if (f.type != CType::kBinary) return false;
  WEFT_ASSIGN_OR_RETURN(std::string_view v, r.ReadBinary());
  out->assign(v);
  return true;
}
Result<bool> GetOptString(CompactReader& r, const Field& f, std::optional<std::string>* out) {
  std::string v;
  WEFT_ASSIGN_OR_RETURN(bool ok, GetString(r, f, &v));
  if (ok) *out = std::move(v);
  return ok;
}

// Reads a list whose elements are read by `read_one(index)`; returns false (skip) when the
// field is not a list of `element`.
template <typename F>
Result<bool> GetList(CompactReader& r, const Field& f, CType element, std::string_view what,
                     F&& read_one) {
  if (f.type != CType::kList && f.type != CType::kSet) return false;
  CType elem;
  uint32_t n;
  WEFT_RETURN_IF_ERROR(r.ReadListHeader(&elem, &n).WithContext(what));
  const bool fits = elem == element || (element == CType::kI32 && IsInt(elem)) ||
                    (element == CType::kI64 && IsInt64(elem)) ||
                    (element == CType::kBoolTrue && elem == CType::kBoolFalse);
  if (!fits) {
    for (uint32_t i = 0; i < n; ++i) {
      if (elem == CType::kBoolTrue || elem == CType::kBoolFalse) {
        WEFT_RETURN_IF_ERROR(r.ReadBoolElement().status());
      } else {
        WEFT_RETURN_IF_ERROR(r.Skip(elem).WithContext(what));
      }
    }
    return true;
  }
  for (uint32_t i = 0; i < n; ++i) {
    Status s = read_one(elem);
    if (!s.ok()) return s.WithContext(std::string(what) + "[" + std::to_string(i) + "]");
  }
  return true;
}

Status ReadStatistics(CompactReader& r, Statistics* s) {
  return ReadStruct(r, "Statistics", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetOptString(r, f, &s->max);
      case 2: return GetOptString(r, f, &s->min);
      case 3: return GetOpt(r, f, &s->null_count);
      case 4: return GetOpt(r, f, &s->distinct_count);
      case 5: return GetOptString(r, f, &s->max_value);
      case 6: return GetOptString(r, f, &s->min_value);
      case 7: {
        bool b = false;
        WEFT_ASSIGN_OR_RETURN(bool ok, GetBool(f, &b));
        if (ok) s->is_max_value_exact = b;
        return ok;
      }
      case 8: {
        bool b = false;
        WEFT_ASSIGN_OR_RETURN(bool ok, GetBool(f, &b));
        if (ok) s->is_min_value_exact = b;
        return ok;
      }
      default: return false;
    }
  });
}

// An empty struct, or a union of empty structs: returns the id of the (last) field set.
Status ReadUnionId(CompactReader& r, std::string_view name, int16_t* id) {
  return ReadStruct(r, name, [&](const Field& f) -> Result<bool> {
    if (f.type == CType::kStruct) *id = f.id;
    return false;
  });
}

Status ReadLogicalType(CompactReader& r, LogicalType* lt) {
  return ReadStruct(r, "LogicalType", [&](const Field& f) -> Result<bool> {
    if (f.type != CType::kStruct) return false;
    switch (f.id) {
      case 5: {
        lt->kind = LogicalType::Kind::kDecimal;
        Status st = ReadStruct(r, "DecimalType", [&](const Field& g) -> Result<bool> {
          if (g.id == 1) return GetI32(r, g, &lt->decimal_scale);
          if (g.id == 2) return GetI32(r, g, &lt->decimal_precision);
          return false;
        });
        if (!st.ok()) return st;
        return true;
      }
      case 7:
      case 8: {
        lt->kind = f.id == 7 ? LogicalType::Kind::kTime : LogicalType::Kind::kTimestamp;
        Status st = ReadStruct(r, "TimeType", [&](const Field& g) -> Result<bool> {
          if (g.id == 1) return GetBool(g, &lt->is_adjusted_to_utc);
          if (g.id == 2 && g.type == CType::kStruct) {
            int16_t unit = 0;
            WEFT_RETURN_IF_ERROR(ReadUnionId(r, "TimeUnit", &unit));
            if (unit >= 1 && unit <= 3) lt->unit = static_cast<TimeUnit>(unit);
            return true;
          }
          return false;
        });
        if (!st.ok()) return st;
        return true;
      }
      case 10: {
        lt->kind = LogicalType::Kind::kInteger;
        Status st = ReadStruct(r, "IntType", [&](const Field& g) -> Result<bool> {
          if (g.id == 1) {
            int32_t w = 0;
            WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, g, &w));
            if (ok) lt->bit_width = static_cast<int8_t>(w);
            return ok;
          }
          if (g.id == 2) return GetBool(g, &lt->is_signed);
          return false;
        });
        if (!st.ok()) return st;
        return true;
      }
      case 1:
      case 2:
      case 3:
      case 4:
      case 6:
      case 11:
      case 12:
      case 13:
      case 14:
      case 15:
      case 16:
      case 17:
      case 18:
        lt->kind = static_cast<LogicalType::Kind>(f.id);
        return false;         // the payload (if any) is skipped
      default: return false;  // an unknown logical type: kind stays kNone
    }
  });
}

Status ReadSchemaElement(CompactReader& r, SchemaElement* e) {
  return ReadStruct(r, "SchemaElement", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetOpt(r, f, &e->type);
      case 2: return GetOpt(r, f, &e->type_length);
      case 3: return GetOpt(r, f, &e->repetition_type);
      case 4: return GetString(r, f, &e->name);
      case 5: return GetOpt(r, f, &e->num_children);
      case 6: return GetOpt(r, f, &e->converted_type);
      case 7: return GetOpt(r, f, &e->scale);
      case 8: return GetOpt(r, f, &e->precision);
      case 9: return GetOpt(r, f, &e->field_id);
      case 10: {
        if (f.type != CType::kStruct) return false;
        LogicalType lt;
        WEFT_RETURN_IF_ERROR(ReadLogicalType(r, &lt));
        e->logical_type = lt;
        return true;
      }
      default: return false;
    }
  });
}

Status ReadKeyValue(CompactReader& r, KeyValue* kv) {
  return ReadStruct(r, "KeyValue", [&](const Field& f) -> Result<bool> {
    if (f.id == 1) return GetString(r, f, &kv->key);
    if (f.id == 2) return GetOptString(r, f, &kv->value);
    return false;
  });
}

template <typename T, typename F>
Result<bool> GetStructList(CompactReader& r, const Field& f, std::string_view what,
                           std::vector<T>* out, F&& read) {
  return GetList(r, f, CType::kStruct, what, [&](CType) -> Status {
    T v{};
    WEFT_RETURN_IF_ERROR(read(r, &v));
    out->push_back(std::move(v));
    return Status::Ok();
  });
}

Status ReadColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  return ReadStruct(r, "ColumnMetaData", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetEnum(r, f, &m->type);
      case 2:
        return GetList(r, f, CType::kI32, "ColumnMetaData.encodings", [&](CType t) -> Status {
          WEFT_ASSIGN_OR_RETURN(int32_t v, r.ReadInt32As(t));
          m->encodings.push_back(static_cast<Encoding>(v));
          return Status::Ok();
        });
      case 3:
        return GetList(r, f, CType::kBinary, "ColumnMetaData.path_in_schema", [&](CType) -> Status {
          WEFT_ASSIGN_OR_RETURN(std::string_view v, r.ReadBinary());
          m->path_in_schema.emplace_back(v);
          return Status::Ok();
        });
      case 4: return GetEnum(r, f, &m->codec);
      case 5: return GetI64(r, f, &m->num_values);
      case 6: return GetI64(r, f, &m->total_uncompressed_size);
      case 7: return GetI64(r, f, &m->total_compressed_size);
      case 8:
        return GetStructList(r, f, "ColumnMetaData.key_value_metadata", &m->key_value_metadata,
                             ReadKeyValue);
      case 9: return GetI64(r, f, &m->data_page_offset);
      case 10: return GetOpt(r, f, &m->index_page_offset);
      case 11: return GetOpt(r, f, &m->dictionary_page_offset);
      case 12: {
        if (f.type != CType::kStruct) return false;
        Statistics s;
        WEFT_RETURN_IF_ERROR(ReadStatistics(r, &s).WithContext("ColumnMetaData.statistics"));
        m->statistics = std::move(s);
        return true;
      }
      default: return false;
    }
  });
}

Status ReadColumnChunk(CompactReader& r, ColumnChunk* c) {
  return ReadStruct(r, "ColumnChunk", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetOptString(r, f, &c->file_path);
      case 2: return GetI64(r, f, &c->file_offset);
      case 3: {
        if (f.type != CType::kStruct) return false;
        ColumnMetaData m;
        WEFT_RETURN_IF_ERROR(ReadColumnMetaData(r, &m).WithContext("ColumnChunk.meta_data"));
        c->meta_data = std::move(m);
        return true;
      }
      case 8:
      case 9: c->encrypted = true; return false;
      default: return false;
    }
  });
}

Status ReadRowGroup(CompactReader& r, RowGroup* g) {
  return ReadStruct(r, "RowGroup", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetStructList(r, f, "RowGroup.columns", &g->columns, ReadColumnChunk);
      case 2: return GetI64(r, f, &g->total_byte_size);
      case 3: return GetI64(r, f, &g->num_rows);
      case 5: return GetOpt(r, f, &g->file_offset);
      case 6: return GetOpt(r, f, &g->total_compressed_size);
      case 7: {
        int32_t v = 0;
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &v));
        if (ok) g->ordinal = static_cast<int16_t>(v);
        return ok;
      }
      default: return false;
    }
  });
}

Status ReadDataPageHeader(CompactReader& r, DataPageHeader* h) {
  bool has_num_values = false;
  Status st = ReadStruct(r, "DataPageHeader", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &h->num_values));
        has_num_values |= ok;
        return ok;
      }
      case 2: return GetEnum(r, f, &h->encoding);
      case 3: return GetEnum(r, f, &h->definition_level_encoding);
      case 4: return GetEnum(r, f, &h->repetition_level_encoding);
      case 5: {
        if (f.type != CType::kStruct) return false;
        Statistics s;
        WEFT_RETURN_IF_ERROR(ReadStatistics(r, &s));
        h->statistics = std::move(s);
        return true;
      }
      default: return false;
    }
  });
  if (!st.ok()) return st;
  if (!has_num_values)
    return DataLossError("DataPageHeader: required field 1 (num_values) missing");
  return Status::Ok();
}

Status ReadDataPageHeaderV2(CompactReader& r, DataPageHeaderV2* h) {
  bool has_num_values = false;
  Status st = ReadStruct(r, "DataPageHeaderV2", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &h->num_values));
        has_num_values |= ok;
        return ok;
      }
      case 2: return GetI32(r, f, &h->num_nulls);
      case 3: return GetI32(r, f, &h->num_rows);
      case 4: return GetEnum(r, f, &h->encoding);
      case 5: return GetI32(r, f, &h->definition_levels_byte_length);
      case 6: return GetI32(r, f, &h->repetition_levels_byte_length);
      case 7: return GetBool(f, &h->is_compressed);
      case 8: {
        if (f.type != CType::kStruct) return false;
        Statistics s;
        WEFT_RETURN_IF_ERROR(ReadStatistics(r, &s));
        h->statistics = std::move(s);
        return true;
      }
      default: return false;
    }
  });
  if (!st.ok()) return st;
  if (!has_num_values) {
    return DataLossError("DataPageHeaderV2: required field 1 (num_values) missing");
  }
  return Status::Ok();
}

Status ReadDictionaryPageHeader(CompactReader& r, DictionaryPageHeader* h) {
  return ReadStruct(r, "DictionaryPageHeader", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetI32(r, f, &h->num_values);
      case 2: return GetEnum(r, f, &h->encoding);
      case 3: {
        bool b = false;
        WEFT_ASSIGN_OR_RETURN(bool ok, GetBool(f, &b));
        if (ok) h->is_sorted = b;
        return ok;
      }
      default: return false;
    }
  });
}

// ---- encoding ----

void WriteStatistics(CompactWriter& w, const Statistics& s) {
  if (s.max) w.FieldBinary(1, *s.max);
  if (s.min) w.FieldBinary(2, *s.min);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.distinct_count) w.FieldI64(4, *s.distinct_count);
  if (s.max_value) w.FieldBinary(5, *s.max_value);
  if (s.min_value) w.FieldBinary(6, *s.min_value);
  if (s.is_max_value_exact) w.FieldBool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.FieldBool(8, *s.is_min_value_exact);
  w.EndStruct();
}

void WriteKeyValues(CompactWriter& w, int16_t id, const std::vector<KeyValue>& kvs) {
  if (kvs.empty()) return;
  w.FieldListBegin(id, CType::kStruct, static_cast<uint32_t>(kvs.size()));
  for (const KeyValue& kv : kvs) {
    w.BeginStruct();
    w.FieldBinary(1, kv.key);
    if (kv.value) w.FieldBinary(2, *kv.value);
    w.EndStruct();
  }
}

void WriteEmptyStructField(CompactWriter& w, int16_t id) {
  w.FieldStructBegin(id);
  w.EndStruct();
}

void WriteLogicalType(CompactWriter& w, const LogicalType& lt) {
  using K = LogicalType::Kind;
  const auto id = static_cast<int16_t>(lt.kind);
  switch (lt.kind) {
    case K::kNone: break;
    case K::kDecimal:
      w.FieldStructBegin(id);
      w.FieldI32(1, lt.decimal_scale);
      w.FieldI32(2, lt.decimal_precision);
      w.EndStruct();
      break;
    case K::kTime:
    case K::kTimestamp:
      w.FieldStructBegin(id);
      w.FieldBool(1, lt.is_adjusted_to_utc);
      w.FieldStructBegin(2);
      WriteEmptyStructField(w, static_cast<int16_t>(lt.unit));
      w.EndStruct();
      w.EndStruct();
      break;
    case K::kInteger:
      w.FieldStructBegin(id);
      w.FieldByte(1, lt.bit_width);
      w.FieldBool(2, lt.is_signed);
      w.EndStruct();
      break;
    default: WriteEmptyStructField(w, id); break;
  }
  w.EndStruct();
}

void WriteSchemaElement(CompactWriter& w, const SchemaElement& e) {
  w.BeginStruct();
  if (e.type) w.FieldI32(1, static_cast<int32_t>(*e.type));
  if (e.type_length) w.FieldI32(2, *e.type_length);
  if (e.repetition_type) w.FieldI32(3, static_cast<int32_t>(*e.repetition_type));
  w.FieldBinary(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted_type) w.FieldI32(6, static_cast<int32_t>(*e.converted_type));
  if (e.scale) w.FieldI32(7, *e.scale);
  if (e.precision) w.FieldI32(8, *e.precision);
  if (e.field_id) w.FieldI32(9, *e.field_id);
  if (e.logical_type && e.logical_type->kind != LogicalType::Kind::kNone) {
    w.FieldStructBegin(10);
    WriteLogicalType(w, *e.logical_type);
  }
  w.EndStruct();
}

void WriteColumnMetaData(CompactWriter& w, const ColumnMetaData& m) {
  w.FieldI32(1, static_cast<int32_t>(m.type));
  w.FieldListBegin(2, CType::kI32, static_cast<uint32_t>(m.encodings.size()));
  for (Encoding e : m.encodings) w.I32(static_cast<int32_t>(e));
  w.FieldListBegin(3, CType::kBinary, static_cast<uint32_t>(m.path_in_schema.size()));
  for (const std::string& p : m.path_in_schema) w.Binary(p);
  w.FieldI32(4, static_cast<int32_t>(m.codec));
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  WriteKeyValues(w, 8, m.key_value_metadata);
  w.FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w.FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) {
    w.FieldStructBegin(12);
    WriteStatistics(w, *m.statistics);
  }
  w.EndStruct();
}

}  // namespace

std::string EncodeFileMetaData(const FileMetaData& md) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, md.version);
  w.FieldListBegin(2, CType::kStruct, static_cast<uint32_t>(md.schema.size()));
  for (const SchemaElement& e : md.schema) WriteSchemaElement(w, e);
  w.FieldI64(3, md.num_rows);
  w.FieldListBegin(4, CType::kStruct, static_cast<uint32_t>(md.row_groups.size()));
  for (const RowGroup& g : md.row_groups) {
    w.BeginStruct();
    w.FieldListBegin(1, CType::kStruct, static_cast<uint32_t>(g.columns.size()));
    for (const ColumnChunk& c : g.columns) {
      w.BeginStruct();
      if (c.file_path) w.FieldBinary(1, *c.file_path);
      w.FieldI64(2, c.file_offset);
      if (c.meta_data) {
        w.FieldStructBegin(3);
        WriteColumnMetaData(w, *c.meta_data);
      }
      w.EndStruct();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    if (g.file_offset) w.FieldI64(5, *g.file_offset);
    if (g.total_compressed_size) w.FieldI64(6, *g.total_compressed_size);
    if (g.ordinal) {
      w.FieldHeader(7, CType::kI16);
      w.I32(*g.ordinal);  // i16 and i32 share the zigzag varint encoding
    }
    w.EndStruct();
  }
  WriteKeyValues(w, 5, md.key_value_metadata);
  if (md.created_by) w.FieldBinary(6, *md.created_by);
  if (!md.column_orders.empty()) {
    w.FieldListBegin(7, CType::kStruct, static_cast<uint32_t>(md.column_orders.size()));
    for (bool type_order : md.column_orders) {
      w.BeginStruct();
      if (type_order) WriteEmptyStructField(w, 1);
      w.EndStruct();
    }
  }
  w.EndStruct();
  return out;
}

void EncodePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, static_cast<int32_t>(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.crc) w.FieldI32(4, *h.crc);
  if (h.data_page_header) {
    const DataPageHeader& d = *h.data_page_header;
    w.FieldStructBegin(5);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    w.FieldI32(3, static_cast<int32_t>(d.definition_level_encoding));
    w.FieldI32(4, static_cast<int32_t>(d.repetition_level_encoding));
    if (d.statistics) {
      w.FieldStructBegin(5);
      WriteStatistics(w, *d.statistics);
    }
    w.EndStruct();
  }
  if (h.dictionary_page_header) {
    const DictionaryPageHeader& d = *h.dictionary_page_header;
    w.FieldStructBegin(7);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    if (d.is_sorted) w.FieldBool(3, *d.is_sorted);
    w.EndStruct();
  }
  if (h.data_page_header_v2) {
    const DataPageHeaderV2& d = *h.data_page_header_v2;
    w.FieldStructBegin(8);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, static_cast<int32_t>(d.encoding));
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    if (d.statistics) {
      w.FieldStructBegin(8);
      WriteStatistics(w, *d.statistics);
    }
    w.EndStruct();
  }
  w.EndStruct();
}

Result<FileMetaData> DecodeFileMetaData(std::string_view bytes) {
  CompactReader r(bytes);
  FileMetaData md;
  bool has_schema = false, has_num_rows = false, has_row_groups = false;
  Status s = ReadStruct(r, "FileMetaData", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: return GetI32(r, f, &md.version);
      case 2: {
        WEFT_ASSIGN_OR_RETURN(
            bool ok, GetStructList(r, f, "FileMetaData.schema", &md.schema, ReadSchemaElement));
        has_schema |= ok;
        return ok;
      }
      case 3: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI64(r, f, &md.num_rows));
        has_num_rows |= ok;
        return ok;
      }
      case 4: {
        WEFT_ASSIGN_OR_RETURN(
            bool ok, GetStructList(r, f, "FileMetaData.row_groups", &md.row_groups, ReadRowGroup));
        has_row_groups |= ok;
        return ok;
      }
      case 5:
        return GetStructList(r, f, "FileMetaData.key_value_metadata", &md.key_value_metadata,
                             ReadKeyValue);
      case 6: return GetOptString(r, f, &md.created_by);
      case 7:
        return GetList(r, f, CType::kStruct, "FileMetaData.column_orders", [&](CType) -> Status {
          int16_t id = 0;
          WEFT_RETURN_IF_ERROR(ReadUnionId(r, "ColumnOrder", &id));
          md.column_orders.push_back(id == 1);
          return Status::Ok();
        });
      case 8: md.encrypted = true; return false;
      default: return false;
    }
  });
  if (!s.ok()) return s.WithContext("FileMetaData");
  if (!has_schema) return DataLossError("FileMetaData: required field 2 (schema) missing");
  if (!has_num_rows) return DataLossError("FileMetaData: required field 3 (num_rows) missing");
  if (!has_row_groups) {
    return DataLossError("FileMetaData: required field 4 (row_groups) missing");
  }
  return md;
}

Result<PageHeader> DecodePageHeader(std::string_view bytes, size_t* consumed) {
  CompactReader r(bytes);
  PageHeader h;
  bool has_type = false, has_usize = false, has_csize = false;
  Status s = ReadStruct(r, "PageHeader", [&](const Field& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetEnum(r, f, &h.type));
        has_type |= ok;
        return ok;
      }
      case 2: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &h.uncompressed_page_size));
        has_usize |= ok;
        return ok;
      }
      case 3: {
        WEFT_ASSIGN_OR_RETURN(bool ok, GetI32(r, f, &h.compressed_page_size));
        has_csize |= ok;
        return ok;
      }
      case 4: return GetOpt(r, f, &h.crc);
      case 5: {
        if (f.type != CType::kStruct) return false;
        DataPageHeader d;
        WEFT_RETURN_IF_ERROR(ReadDataPageHeader(r, &d));
        h.data_page_header = std::move(d);
        return true;
      }
      case 7: {
        if (f.type != CType::kStruct) return false;
        DictionaryPageHeader d;
        WEFT_RETURN_IF_ERROR(ReadDictionaryPageHeader(r, &d));
        h.dictionary_page_header = d;
        return true;
      }
      case 8: {
        if (f.type != CType::kStruct) return false;
        DataPageHeaderV2 d;
        WEFT_RETURN_IF_ERROR(ReadDataPageHeaderV2(r, &d));
        h.data_page_header_v2 = std::move(d);
        return true;
      }
      default: return false;
    }
  });
  if (!s.ok()) return s.WithContext("PageHeader");
  if (!has_type || !has_usize || !has_csize) {
    return DataLossError(
        "PageHeader: a required field (1 type, 2 uncompressed_page_size, 3 compressed_page_size) "
        "is missing");
  }
  if (consumed != nullptr) *consumed = r.position();
  return h;
}

}  // namespace weft::lake::parquet

#include "lake/parquet/reader.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "lake/parquet/codec.h"
#include "lake/parquet/rle.h"

namespace weft::lake::parquet {
namespace {

constexpr char kMagic[] = "PAR1";

std::string Basename(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

uint32_t LoadLe32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- levels ----

void AppendLevels(const std::vector<uint32_t>& levels, size_t n, std::vector<int16_t>* out) {
  const size_t old = out->size();
  out->resize(old + n);
  int16_t* dst = out->data() + old;
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<int16_t>(levels[i]);
}

// Decodes `n` levels (each <= max_level) in `encoding` starting at data[*pos]. Data page v1
// levels: RLE with a 4-byte length prefix, or the deprecated BIT_PACKED (MSB first).
Status DecodeLevelsV1(Encoding encoding, std::string_view data, size_t* pos, size_t n,
                      int16_t max_level, std::vector<uint32_t>* scratch,
                      std::vector<int16_t>* out) {
  const int width = BitWidth(static_cast<uint64_t>(max_level));
  scratch->resize(n);
  if (encoding == Encoding::kRle) {
    if (data.size() - *pos < 4) return DataLossError("level data truncated (no length prefix)");
    const uint32_t len = LoadLe32(data.data() + *pos);
    *pos += 4;
    if (len > data.size() - *pos) {
      return DataLossError("level data of " + std::to_string(len) + " bytes but only " +
                           std::to_string(data.size() - *pos) + " bytes left in the page");
    }
    RleBitPackedDecoder d(data.substr(*pos, len), width);
    WEFT_RETURN_IF_ERROR(d.DecodeBounded(scratch->data(), n, static_cast<uint32_t>(max_level) + 1));
    *pos += len;
  } else if (encoding == Encoding::kBitPacked) {
    const size_t bytes = (n * static_cast<size_t>(width) + 7) / 8;
    if (bytes > data.size() - *pos) return DataLossError("BIT_PACKED levels truncated");
    const auto* p = reinterpret_cast<const uint8_t*>(data.data() + *pos);
    for (size_t i = 0; i < n; ++i) {
      uint32_t v = 0;
      for (int b = 0; b < width; ++b) {
        const size_t bit = i * static_cast<size_t>(width) + static_cast<size_t>(b);
        v = (v << 1) | ((p[bit / 8] >> (7 - bit % 8)) & 1u);
      }
      if (v > static_cast<uint32_t>(max_level)) return DataLossError("level out of range");
      (*scratch)[i] = v;
    }
    *pos += bytes;
  } else {
    return UnimplementedError("level encoding " + std::string(EncodingName(encoding)));
  }
  AppendLevels(*scratch, n, out);
  return Status::Ok();
}

Status DecodeLevelsV2(std::string_view data, size_t n, int16_t max_level,
                      std::vector<uint32_t>* scratch, std::vector<int16_t>* out) {
  scratch->resize(n);
  RleBitPackedDecoder d(data, BitWidth(static_cast<uint64_t>(max_level)));
  WEFT_RETURN_IF_ERROR(d.DecodeBounded(scratch->data(), n, static_cast<uint32_t>(max_level) + 1));
  AppendLevels(*scratch, n, out);
  return Status::Ok();
}

// ---- values ----

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant == 0 ? std::numeric_limits<float>::infinity()
                  : std::numeric_limits<float>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  }
  return sign != 0 ? -v : v;
}

Value MakeValue(const LeafColumn& leaf, const ValueBuffer& b, size_t i) {
  switch (b.type) {
    case Type::kBoolean: return Value::Bool(b.bools[i] != 0);
    case Type::kInt32: return Value::Int32(b.int32s[i]);
    case Type::kInt64: return Value::Int64(b.int64s[i]);
    case Type::kInt96: return Value::Int64(b.int96s[i].ToUnixMicros());
    case Type::kFloat: return Value::Float(b.floats[i]);
    case Type::kDouble: return Value::Double(b.doubles[i]);
    case Type::kByteArray:
      return leaf.is_string ? Value::String(std::string(b.Binary(i)))
                            : Value::Binary(std::string(b.Binary(i)));
    case Type::kFixedLenByteArray: {
      const std::string_view v = b.Binary(i);
      const auto& lt = leaf.element->logical_type;
      if (lt && lt->kind == LogicalType::Kind::kFloat16 && v.size() == 2) {
        return Value::Float(HalfToFloat(
            static_cast<uint16_t>(static_cast<uint8_t>(v[0]) |
                                  (static_cast<uint16_t>(static_cast<uint8_t>(v[1])) << 8))));
      }
      return Value::Binary(std::string(v));
    }
  }
  return Value::Null();
}

// ---- record assembly ----

// Rebuilds nested values from the levels of the leaves under the projected fields. Each
// schema node is read by looking at the next entry of the first leaf below it: a definition
// level below the node's own means the node is null (or an empty list) at that point, and one
// entry is then consumed from every leaf below it; a repetition level equal to a repeated
// node's own starts another element of that list.
class Assembler {
 public:
  struct Cursor {
    const ColumnChunkData* data = nullptr;
    const LeafColumn* leaf = nullptr;
    size_t entry = 0;
    size_t value = 0;
  };

  Assembler(const Schema& schema, std::vector<Cursor> cursors, std::string where)
      : schema_(schema), cursors_(std::move(cursors)), where_(std::move(where)) {
    first_leaf_.assign(schema.nodes().size(), -1);
    leaves_under_.resize(schema.nodes().size());
    for (size_t n = 0; n < schema.nodes().size(); ++n) {
      for (int leaf : schema.LeavesUnder(static_cast<int>(n))) {
        if (cursors_[static_cast<size_t>(leaf)].data == nullptr) continue;
        if (first_leaf_[n] < 0) first_leaf_[n] = leaf;
        leaves_under_[n].push_back(leaf);
      }
    }
  }

  Status ReadField(int node, Value* out) {
    const SchemaNode& n = Node(node);
    if (n.repetition == Repetition::kRepeated) {
      out->kind = Value::Kind::kList;
      return ReadRepeated(node, &out->items, [&](Value* v) { return ReadElement(node, v); });
    }
    if (n.repetition == Repetition::kOptional) {
      int16_t def;
      WEFT_RETURN_IF_ERROR(PeekDef(node, &def));
      if (def < n.definition_level) {
        *out = Value::Null();
        return SkipOne(node);
      }
    }
    return ReadElement(node, out);
  }

  bool Done() const {
    for (const Cursor& c : cursors_) {
      if (c.data != nullptr && c.entry < static_cast<size_t>(c.data->num_entries)) return false;
    }
    return true;
  }

 private:
  const SchemaNode& Node(int node) const { return schema_.nodes()[static_cast<size_t>(node)]; }

  Status LevelsEnd() const {
    return DataLossError(where_ + ": the levels of the columns end before the row group does");
  }

  Status PeekDef(int node, int16_t* def) const {
    const int leaf = first_leaf_[static_cast<size_t>(node)];
    if (leaf < 0) {
      *def = std::numeric_limits<int16_t>::max();
      return Status::Ok();
    }
    const Cursor& c = cursors_[static_cast<size_t>(leaf)];
    if (c.entry >= static_cast<size_t>(c.data->num_entries)) return LevelsEnd();
    *def = c.data->definition_levels.empty() ? c.leaf->max_definition_level
                                             : c.data->definition_levels[c.entry];
    return Status::Ok();
  }

  // The repetition level of the next entry, or -1 at the end.
  int PeekRep(int node) const {
    const int leaf = first_leaf_[static_cast<size_t>(node)];
    if (leaf < 0) return -1;
    const Cursor& c = cursors_[static_cast<size_t>(leaf)];
    if (c.entry >= static_cast<size_t>(c.data->num_entries)) return -1;
    return c.data->repetition_levels.empty() ? 0 : c.data->repetition_levels[c.entry];
  }

  // Consumes one entry (a null or an empty list at or above `node`) from each leaf below.
  Status SkipOne(int node) {
    for (int leaf : leaves_under_[static_cast<size_t>(node)]) {
      Cursor& c = cursors_[static_cast<size_t>(leaf)];
      if (c.entry >= static_cast<size_t>(c.data->num_entries)) return LevelsEnd();
      const int16_t def = c.data->definition_levels.empty() ? c.leaf->max_definition_level
                                                            : c.data->definition_levels[c.entry];
      if (def >= c.leaf->max_definition_level) {
        return DataLossError(where_ + ": column '" + c.leaf->path +
                             "' has a value where a sibling column says its parent is null");
      }
      ++c.entry;
    }
    return Status::Ok();
  }

  template <typename F>
  Status ReadRepeated(int node, std::vector<Value>* items, F&& read_element) {
    const SchemaNode& n = Node(node);
    if (first_leaf_[static_cast<size_t>(node)] < 0) return Status::Ok();
    int16_t def;
    WEFT_RETURN_IF_ERROR(PeekDef(node, &def));
    if (def < n.definition_level) return SkipOne(node);  // empty list
    while (true) {
      items->emplace_back();
      WEFT_RETURN_IF_ERROR(read_element(&items->back()));
      if (PeekRep(node) != n.repetition_level) break;
    }
    return Status::Ok();
  }

  // The node's value when present (its repetition already handled).
  Status ReadElement(int node, Value* out) {
    const SchemaNode& n = Node(node);
    if (n.leaf_index >= 0) return ReadLeaf(n.leaf_index, out);
    // LIST: one repeated child. 3-level: repeated group with one child (the element);
    // legacy 2-level: the repeated child itself is the element (a primitive, a group with
    // several fields, or one named "array" / "<list>_tuple").
    if ((n.IsList() || n.IsMap()) && n.children.size() == 1 &&
        Node(n.children[0]).repetition == Repetition::kRepeated) {
      const int rep = n.children[0];
      const SchemaNode& r = Node(rep);
      if (n.IsMap()) {
        out->kind = Value::Kind::kMap;
        return ReadRepeated(rep, &out->items, [&](Value* v) {
          WEFT_RETURN_IF_ERROR(ReadGroup(rep, v));
          // Normalise the entry's field names to key/value.
          if (v->names.size() >= 1) v->names[0] = "key";
          if (v->names.size() >= 2) v->names[1] = "value";
          if (v->names.size() == 1) {
            v->names.push_back("value");
            v->items.push_back(Value::Null());
          }
          return Status::Ok();
        });
      }
      out->kind = Value::Kind::kList;
      const bool three_level = r.leaf_index < 0 && r.children.size() == 1 &&
                               r.element.name != "array" &&
                               r.element.name != n.element.name + "_tuple";
      if (three_level) {
        const int elem = r.children[0];
        return ReadRepeated(rep, &out->items, [&](Value* v) { return ReadField(elem, v); });
      }
      return ReadRepeated(rep, &out->items, [&](Value* v) { return ReadElement(rep, v); });
    }
    return ReadGroup(node, out);
  }

  Status ReadGroup(int node, Value* out) {
    const SchemaNode& n = Node(node);
    out->kind = Value::Kind::kStruct;
    for (int child : n.children) {
      if (leaves_under_[static_cast<size_t>(child)].empty() &&
          !schema_.LeavesUnder(child).empty()) {
        continue;  // not projected
      }
      out->names.push_back(Node(child).element.name);
      out->items.emplace_back();
      WEFT_RETURN_IF_ERROR(ReadField(child, &out->items.back()));
    }
    return Status::Ok();
  }

  Status ReadLeaf(int leaf, Value* out) {
    Cursor& c = cursors_[static_cast<size_t>(leaf)];
    if (c.entry >= static_cast<size_t>(c.data->num_entries)) return LevelsEnd();
    const int16_t def = c.data->definition_levels.empty() ? c.leaf->max_definition_level
                                                          : c.data->definition_levels[c.entry];
    ++c.entry;
    if (def < c.leaf->max_definition_level) {
      *out = Value::Null();
      return Status::Ok();
    }
    if (c.value >= c.data->values.size()) {
      return DataLossError(where_ + ": column '" + c.leaf->path + "' has fewer values than its " +
                           "definition levels say");
    }
    *out = MakeValue(*c.leaf, c.data->values, c.value++);
    return Status::Ok();
  }

  const Schema& schema_;
  std::vector<Cursor> cursors_;  //!< indexed by leaf; data == nullptr when not projected
  std::vector<int> first_leaf_;
  std::vector<std::vector<int>> leaves_under_;
  std::string where_;
};

// ---- statistics ----

struct Bound {
  enum class Kind { kNone, kInt, kDouble, kBytes } kind = Kind::kNone;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

bool IsUnsigned(const SchemaElement& e) {
  if (e.logical_type && e.logical_type->kind == LogicalType::Kind::kInteger) {
    return !e.logical_type->is_signed;
  }
  if (!e.converted_type) return false;
  switch (*e.converted_type) {
    case ConvertedType::kUint8:
    case ConvertedType::kUint16:
    case ConvertedType::kUint32:
    case ConvertedType::kUint64: return true;
    default: return false;
  }
}

Bound DecodeBound(const LeafColumn& leaf, const std::string& raw) {
  Bound b;
  switch (leaf.type) {
    case Type::kBoolean:
      if (raw.size() >= 1) {
        b.kind = Bound::Kind::kInt;
        b.i = raw[0] != 0;
      }
      break;
    case Type::kInt32:
      if (raw.size() == 4) {
        int32_t v;
        std::memcpy(&v, raw.data(), 4);
        b.kind = Bound::Kind::kInt;
        b.i = v;
      }
      break;
    case Type::kInt64:
      if (raw.size() == 8) {
        std::memcpy(&b.i, raw.data(), 8);
        b.kind = Bound::Kind::kInt;
      }
      break;
    case Type::kFloat:
      if (raw.size() == 4) {
        float v;
        std::memcpy(&v, raw.data(), 4);
        b.kind = Bound::Kind::kDouble;
        b.d = v;
      }
      break;
    case Type::kDouble:
      if (raw.size() == 8) {
        std::memcpy(&b.d, raw.data(), 8);
        b.kind = Bound::Kind::kDouble;
      }
      break;
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      b.kind = Bound::Kind::kBytes;
      b.s = raw;
      break;
    default: break;
  }
  if (b.kind == Bound::Kind::kDouble && std::isnan(b.d)) b.kind = Bound::Kind::kNone;
  return b;
}

// -1, 0, 1 comparing the constant c with bound b; nullopt when they do not compare.
std::optional<int> CompareConstant(const Value& c, const Bound& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (c.kind) {
    case Value::Kind::kBool:
    case Value::Kind::kInt32:
    case Value::Kind::kInt64: {
      const int64_t v = c.kind == Value::Kind::kBool ? int64_t{c.bool_value} : c.int_value;
      if (b.kind == Bound::Kind::kInt) return sign(v, b.i);
      if (b.kind == Bound::Kind::kDouble) return sign(static_cast<double>(v), b.d);
      return std::nullopt;
    }
    case Value::Kind::kFloat:
    case Value::Kind::kDouble:
      if (std::isnan(c.double_value)) return std::nullopt;
      if (b.kind == Bound::Kind::kDouble) return sign(c.double_value, b.d);
      if (b.kind == Bound::Kind::kInt) return sign(c.double_value, static_cast<double>(b.i));
      return std::nullopt;
    case Value::Kind::kString:
    case Value::Kind::kBinary:
      if (b.kind == Bound::Kind::kBytes) {
        const int r = c.bytes.compare(b.s);  // char_traits<char>: unsigned byte order
        return r < 0 ? -1 : (r > 0 ? 1 : 0);
      }
      return std::nullopt;
    default: return std::nullopt;
  }
}

// The min/max of statistics, when they can be trusted: min_value/max_value follow the column
// order: trusted for byte arrays only under TYPE_ORDER; numeric types have one sensible order.
// The deprecated min/max were written with signed byte comparison: trusted only for numeric
// and boolean types. Never for unsigned, INT96, decimal / interval byte arrays or FLOAT16.
bool TrustedBounds(const LeafColumn& leaf, bool type_order, const Statistics& st, Bound* lo,
                   Bound* hi) {
  const SchemaElement& e = *leaf.element;
  if (IsUnsigned(e) || leaf.type == Type::kInt96) return false;
  const bool decimal_or_special =
      e.converted_type == ConvertedType::kDecimal || e.converted_type == ConvertedType::kInterval ||
      (e.logical_type && (e.logical_type->kind == LogicalType::Kind::kDecimal ||
                          e.logical_type->kind == LogicalType::Kind::kFloat16));
  const bool byte_type = leaf.type == Type::kByteArray || leaf.type == Type::kFixedLenByteArray;
  if (byte_type && decimal_or_special) return false;
  const std::string* min = nullptr;
  const std::string* max = nullptr;
  if (st.min_value && st.max_value && (type_order || !byte_type)) {
    min = &*st.min_value;
    max = &*st.max_value;
  } else if (st.min && st.max && !byte_type) {
    min = &*st.min;
    max = &*st.max;
  }
  if (min == nullptr) return false;
  *lo = DecodeBound(leaf, *min);
  *hi = DecodeBound(leaf, *max);
  return lo->kind != Bound::Kind::kNone && hi->kind != Bound::Kind::kNone;
}

}  // namespace

// ---- Value ----

Value Value::Bool(bool v) {
  Value x;
  x.kind = Kind::kBool;
  x.bool_value = v;
  return x;
}
Value Value::Int32(int32_t v) {
  Value x;
  x.kind = Kind::kInt32;
  x.int_value = v;
  return x;
}
Value Value::Int64(int64_t v) {
  Value x;
  x.kind = Kind::kInt64;
  x.int_value = v;
  return x;
}
Value Value::Float(float v) {
  Value x;
  x.kind = Kind::kFloat;
  x.double_value = v;
  return x;
}
Value Value::Double(double v) {
  Value x;
  x.kind = Kind::kDouble;
  x.double_value = v;
  return x;
}
Value Value::String(std::string v) {
  Value x;
  x.kind = Kind::kString;
  x.bytes = std::move(v);
  return x;
}
Value Value::Binary(std::string v) {
  Value x;
  x.kind = Kind::kBinary;
  x.bytes = std::move(v);
  return x;
}

const Value* Value::Field(std::string_view field) const {
  if (kind != Kind::kStruct) return nullptr;
  for (size_t i = 0; i < names.size() && i < items.size(); ++i) {
    if (names[i] == field) return &items[i];
  }
  return nullptr;
}

std::string Value::ToString() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return bool_value ? "true" : "false";
    case Kind::kInt32:
    case Kind::kInt64: return std::to_string(int_value);
    case Kind::kFloat:
    case Kind::kDouble: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", double_value);
      return buf;
    }
    case Kind::kString: return "\"" + bytes + "\"";
    case Kind::kBinary: {
      std::string out = "0x";
      static const char kHex[] = "0123456789abcdef";
      for (char ch : bytes) {
        out.push_back(kHex[(static_cast<uint8_t>(ch) >> 4) & 0xF]);
        out.push_back(kHex[static_cast<uint8_t>(ch) & 0xF]);
      }
      return out;
    }
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i].ToString();
      return out + "]";
    }
    case Kind::kStruct: {
      std::string out = "{";
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + (i < names.size() ? names[i] : "?") + ": " + items[i].ToString();
      }
      return out + "}";
    }
    case Kind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < items.size(); ++i) {
        const Value* k = items[i].Field("key");
        const Value* v = items[i].Field("value");
        out += (i ? ", " : "") + (k ? k->ToString() : "?") + ": " + (v ? v->ToString() : "null");
      }
      return out + "}";
    }
  }
  return "?";
}

// ---- ParquetReader ----

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(
    std::unique_ptr<RandomAccessSource> source, ReaderOptions options) {
  std::unique_ptr<ParquetReader> r(new ParquetReader());
  r->name_ = Basename(source->name());
  r->options_ = options;
  const std::string& name = r->name_;
  WEFT_ASSIGN_OR_RETURN(const uint64_t size, source->Size());
  if (size < 12) {
    return DataLossError(name + ": " + std::to_string(size) +
                         " bytes is too small for a Parquet file (at least 12)");
  }
  WEFT_ASSIGN_OR_RETURN(const std::string head, source->Read(0, 4));
  WEFT_ASSIGN_OR_RETURN(const std::string tail, source->Read(size - 8, 8));
  if (head != kMagic) return DataLossError(name + ": no \"PAR1\" magic at the start of the file");
  if (tail.substr(4) == "PARE") {
    return UnimplementedError(name +
                              ": encrypted footer (\"PARE\"): Parquet modular encryption "
                              "is not supported");
  }
  if (tail.substr(4) != kMagic) {
    return DataLossError(name + ": no \"PAR1\" magic at the end of the file");
  }
  const uint32_t footer_len = LoadLe32(tail.data());
  if (footer_len > size - 12) {
    return DataLossError(name + ": footer length " + std::to_string(footer_len) + " exceeds the " +
                         std::to_string(size - 12) + " bytes between the magic numbers");
  }
  if (footer_len > options.max_footer_bytes) {
    return DataLossError(name + ": footer of " + std::to_string(footer_len) +
                         " bytes exceeds the limit of " + std::to_string(options.max_footer_bytes));
  }
  r->data_end_ = size - 8 - footer_len;
  WEFT_ASSIGN_OR_RETURN(const std::string footer, source->Read(r->data_end_, footer_len));
  Result<FileMetaData> md = DecodeFileMetaData(footer);
  if (!md.ok()) return md.status().WithContext(name + ": footer");
  r->metadata_ = std::move(md).value();
  if (r->metadata_.encrypted) {
    return UnimplementedError(name +
                              ": encrypted file: Parquet modular encryption is not "
                              "supported");
  }
  Result<Schema> schema = Schema::Build(r->metadata_.schema);
  if (!schema.ok()) return schema.status().WithContext(name);
  r->schema_ = std::move(schema).value();
  const size_t num_leaves = r->schema_.leaves().size();
  for (size_t g = 0; g < r->metadata_.row_groups.size(); ++g) {
    const RowGroup& rg = r->metadata_.row_groups[g];
    if (rg.columns.size() != num_leaves) {
      return DataLossError(name + ": row group " + std::to_string(g) + " has " +
                           std::to_string(rg.columns.size()) + " column chunks, the schema " +
                           std::to_string(num_leaves) + " leaf columns");
    }
    if (rg.num_rows < 0) {
      return DataLossError(name + ": row group " + std::to_string(g) + " has negative num_rows");
    }
  }
  r->source_ = std::move(source);
  return r;
}

std::string ParquetReader::Where(int row_group, int leaf) const {
  std::string s = name_ + ": row group " + std::to_string(row_group);
  if (leaf >= 0) s += ", column '" + schema_.leaves()[static_cast<size_t>(leaf)].path + "'";
  return s;
}

Result<ColumnChunkData> ParquetReader::ReadColumnChunk(int row_group, int leaf) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return InvalidArgumentError(name_ + ": no row group " + std::to_string(row_group));
  }
  if (leaf < 0 || static_cast<size_t>(leaf) >= schema_.leaves().size()) {
    return InvalidArgumentError(name_ + ": no leaf column " + std::to_string(leaf));
  }
  ColumnChunkData out;
  out.values = ValueBuffer(schema_.leaves()[static_cast<size_t>(leaf)].type,
                           schema_.leaves()[static_cast<size_t>(leaf)].type_length);
  WEFT_RETURN_IF_ERROR(ReadPages(row_group, leaf, &out));
  return out;
}

Status ParquetReader::ReadPages(int row_group, int leaf_index, ColumnChunkData* out) const {
  const LeafColumn& leaf = schema_.leaves()[static_cast<size_t>(leaf_index)];
  const ColumnChunk& cc =
      metadata_.row_groups[static_cast<size_t>(row_group)].columns[static_cast<size_t>(leaf_index)];
  const std::string where = Where(row_group, leaf_index);
  if (cc.encrypted) {
    return UnimplementedError(where +
                              ": encrypted column: Parquet modular encryption is not "
                              "supported");
  }
  if (cc.file_path) {
    return UnimplementedError(where + ": column chunk stored in another file ('" + *cc.file_path +
                              "') is not supported");
  }
  if (!cc.meta_data) return DataLossError(where + ": column chunk has no meta_data");
  const ColumnMetaData& m = *cc.meta_data;
  if (m.type != leaf.type) {
    return DataLossError(where + ": column chunk type " + std::string(TypeName(m.type)) +
                         " differs from the schema's " + std::string(TypeName(leaf.type)));
  }
  int64_t start = m.data_page_offset;
  // Some writers store dictionary_page_offset 0 for "none", others data_page_offset 0 when a
  // chunk has no data pages: the valid one (>= 4, after the magic) that comes first wins.
  if (m.dictionary_page_offset && *m.dictionary_page_offset >= 4 &&
      (*m.dictionary_page_offset < start || start < 4)) {
    start = *m.dictionary_page_offset;
  }
  const int64_t length = m.total_compressed_size;
  if (start < 4 || length < 0 || static_cast<uint64_t>(start) > data_end_ ||
      static_cast<uint64_t>(length) > data_end_ - static_cast<uint64_t>(start)) {
    return DataLossError(where + ": column chunk at offset " + std::to_string(start) + " of " +
                         std::to_string(length) + " bytes lies outside the data region (4.." +
                         std::to_string(data_end_) + ")");
  }
  if (m.num_values < 0) return DataLossError(where + ": negative num_values");
  if (m.num_values == 0) return Status::Ok();  // an empty chunk: nothing to read
  WEFT_ASSIGN_OR_RETURN(const std::string chunk,
                        source_->Read(static_cast<uint64_t>(start), static_cast<uint64_t>(length)));

  const int16_t max_def = leaf.max_definition_level;
  const int16_t max_rep = leaf.max_repetition_level;
  // Reserve once (the metadata's count, capped by what the bytes can plausibly hold, so a
  // lying footer cannot make us reserve gigabytes); decoding appends without reallocating.
  const auto expected = static_cast<size_t>(std::min<int64_t>(m.num_values, length * 8 + 1024));
  switch (leaf.type) {
    case Type::kBoolean: out->values.bools.reserve(expected); break;
    case Type::kInt32: out->values.int32s.reserve(expected); break;
    case Type::kInt64: out->values.int64s.reserve(expected); break;
    case Type::kInt96: out->values.int96s.reserve(expected); break;
    case Type::kFloat: out->values.floats.reserve(expected); break;
    case Type::kDouble: out->values.doubles.reserve(expected); break;
    default: out->values.offsets.reserve(expected + 1); break;
  }
  if (max_def > 0) out->definition_levels.reserve(expected);
  if (max_rep > 0) out->repetition_levels.reserve(expected);
  ValueBuffer dict(leaf.type, leaf.type_length);
  bool has_dict = false;
  thread_local std::vector<uint32_t> scratch;  // levels; reused like page_buf
  // Reused across chunks: a fresh megabyte per chunk costs more in page faults than decoding.
  thread_local std::string page_buf;
  struct ReleaseIfLarge {
    ~ReleaseIfLarge() {
      if (page_buf.capacity() > (size_t{16} << 20)) std::string().swap(page_buf);
      if (scratch.capacity() > (size_t{4} << 20)) std::vector<uint32_t>().swap(scratch);
    }
  } release_if_large;
  size_t pos = 0;
  int64_t entries = 0;
  const std::string_view data(chunk);
  while (pos < data.size() && entries < m.num_values) {
    const int64_t page_offset = start + static_cast<int64_t>(pos);
    const std::string at = where + ": page at offset " + std::to_string(page_offset);
    size_t header_len = 0;
    Result<PageHeader> hr = DecodePageHeader(data.substr(pos), &header_len);
    if (!hr.ok()) return hr.status().WithContext(at);
    const PageHeader& h = *hr;
    pos += header_len;
    const size_t left = data.size() - pos;
    if (h.compressed_page_size < 0 || static_cast<uint64_t>(h.compressed_page_size) > left) {
      return DataLossError(at + ": compressed size " + std::to_string(h.compressed_page_size) +
                           " exceeds the " + std::to_string(left) +
                           " bytes left in the column chunk");
    }
    if (h.uncompressed_page_size < 0) {
      return DataLossError(at + ": negative uncompressed size " +
                           std::to_string(h.uncompressed_page_size));
    }
    if (h.uncompressed_page_size > options_.max_page_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    at + ": unsupported page size: " + std::to_string(h.uncompressed_page_size) +
                        " bytes uncompressed exceeds the reader's limit "
                        "(ReaderOptions.max_page_bytes = " +
                        std::to_string(options_.max_page_bytes) + ")");
    }
    const std::string_view body = data.substr(pos, static_cast<size_t>(h.compressed_page_size));
    pos += static_cast<size_t>(h.compressed_page_size);
    if (options_.verify_checksums && h.crc) {
      const auto crc = static_cast<uint32_t>(
          crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
      if (crc != static_cast<uint32_t>(*h.crc)) {
        return DataLossError(at + ": page CRC mismatch (stored " +
                             std::to_string(static_cast<uint32_t>(*h.crc)) + ", computed " +
                             std::to_string(crc) + ")");
      }
    }
    auto decompress = [&](std::string_view in, size_t usize) -> Result<std::string_view> {
      if (m.codec == Codec::kUncompressed) return in;
      page_buf.resize(usize);
      Status s = DecompressInto(m.codec, in, page_buf.data(), usize);
      if (!s.ok()) return s.WithContext(at);
      return std::string_view(page_buf);
    };
    auto check_count = [&](int32_t n) -> Status {
      if (n < 0 || n > options_.max_page_values) {
        return DataLossError(at + ": num_values " + std::to_string(n) +
                             " is negative or above the limit of " +
                             std::to_string(options_.max_page_values));
      }
      if (n > m.num_values - entries) {
        return DataLossError(at + ": page holds " + std::to_string(n) + " values, more than the " +
                             std::to_string(m.num_values - entries) + " the column chunk has left");
      }
      return Status::Ok();
    };
    switch (h.type) {
      case PageType::kDictionaryPage: {
        if (!h.dictionary_page_header) {
          return DataLossError(at + ": dictionary page without a dictionary_page_header");
        }
        if (has_dict) return DataLossError(at + ": second dictionary page in a column chunk");
        if (entries > 0) return DataLossError(at + ": dictionary page after data pages");
        const DictionaryPageHeader& dh = *h.dictionary_page_header;
        if (dh.num_values < 0 || dh.num_values > options_.max_page_values) {
          return DataLossError(at + ": dictionary of " + std::to_string(dh.num_values) +
                               " values is negative or above the limit");
        }
        if (dh.encoding != Encoding::kPlain && dh.encoding != Encoding::kPlainDictionary) {
          return UnimplementedError(at + ": dictionary page encoding " +
                                    std::string(EncodingName(dh.encoding)));
        }
        WEFT_ASSIGN_OR_RETURN(std::string_view page,
                              decompress(body, static_cast<size_t>(h.uncompressed_page_size)));
        Status s = DecodePlain(page, static_cast<size_t>(dh.num_values), &dict, nullptr);
        if (!s.ok()) return s.WithContext(at + ": dictionary page");
        has_dict = true;
        break;
      }
      case PageType::kDataPage: {
        if (!h.data_page_header) return DataLossError(at + ": data page without data_page_header");
        const DataPageHeader& dp = *h.data_page_header;
        WEFT_RETURN_IF_ERROR(check_count(dp.num_values));
        const auto n = static_cast<size_t>(dp.num_values);
        WEFT_ASSIGN_OR_RETURN(std::string_view page,
                              decompress(body, static_cast<size_t>(h.uncompressed_page_size)));
        size_t p = 0;
        if (max_rep > 0) {
          Status s = DecodeLevelsV1(dp.repetition_level_encoding, page, &p, n, max_rep, &scratch,
                                    &out->repetition_levels);
          if (!s.ok()) return s.WithContext(at + ": repetition levels");
        }
        size_t non_null = n;
        if (max_def > 0) {
          const size_t before = out->definition_levels.size();
          Status s = DecodeLevelsV1(dp.definition_level_encoding, page, &p, n, max_def, &scratch,
                                    &out->definition_levels);
          if (!s.ok()) return s.WithContext(at + ": definition levels");
          non_null = static_cast<size_t>(
              std::count(out->definition_levels.begin() + static_cast<ptrdiff_t>(before),
                         out->definition_levels.end(), max_def));
        }
        Status s = DecodeValues(dp.encoding, page.substr(p), non_null, has_dict ? &dict : nullptr,
                                &out->values);
        if (!s.ok()) {
          return s.WithContext(at + ": " + std::string(EncodingName(dp.encoding)) + " values");
        }
        entries += dp.num_values;
        break;
      }
      case PageType::kDataPageV2: {
        if (!h.data_page_header_v2) {
          return DataLossError(at + ": data page v2 without data_page_header_v2");
        }
        const DataPageHeaderV2& dp = *h.data_page_header_v2;
        WEFT_RETURN_IF_ERROR(check_count(dp.num_values));
        const auto n = static_cast<size_t>(dp.num_values);
        const int64_t rl = dp.repetition_levels_byte_length;
        const int64_t dl = dp.definition_levels_byte_length;
        if (rl < 0 || dl < 0 || rl + dl > h.compressed_page_size ||
            rl + dl > h.uncompressed_page_size) {
          return DataLossError(at + ": level byte lengths " + std::to_string(rl) + " + " +
                               std::to_string(dl) + " exceed the page");
        }
        if (max_rep > 0) {
          Status s = DecodeLevelsV2(body.substr(0, static_cast<size_t>(rl)), n, max_rep, &scratch,
                                    &out->repetition_levels);
          if (!s.ok()) return s.WithContext(at + ": repetition levels");
        }
        size_t non_null = n;
        if (max_def > 0) {
          const size_t before = out->definition_levels.size();
          Status s = DecodeLevelsV2(body.substr(static_cast<size_t>(rl), static_cast<size_t>(dl)),
                                    n, max_def, &scratch, &out->definition_levels);
          if (!s.ok()) return s.WithContext(at + ": definition levels");
          non_null = static_cast<size_t>(
              std::count(out->definition_levels.begin() + static_cast<ptrdiff_t>(before),
                         out->definition_levels.end(), max_def));
        }
        const std::string_view values_in = body.substr(static_cast<size_t>(rl + dl));
        const auto values_size = static_cast<size_t>(h.uncompressed_page_size - rl - dl);
        std::string_view values = values_in;
        if (dp.is_compressed) {
          WEFT_ASSIGN_OR_RETURN(values, decompress(values_in, values_size));
        }
        Status s =
            DecodeValues(dp.encoding, values, non_null, has_dict ? &dict : nullptr, &out->values);
        if (!s.ok()) {
          return s.WithContext(at + ": " + std::string(EncodingName(dp.encoding)) + " values");
        }
        entries += dp.num_values;
        break;
      }
      default: break;  // index pages and unknown page types carry nothing we need
    }
  }
  if (entries != m.num_values) {
    return DataLossError(where + ": pages hold " + std::to_string(entries) +
                         " values, the column metadata says " + std::to_string(m.num_values));
  }
  out->num_entries = entries;
  return Status::Ok();
}

Result<bool> ParquetReader::RowGroupMayMatch(int row_group,
                                             const std::vector<Predicate>& predicates) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return InvalidArgumentError(name_ + ": no row group " + std::to_string(row_group));
  }
  const RowGroup& g = metadata_.row_groups[static_cast<size_t>(row_group)];
  for (const Predicate& pred : predicates) {
    const int leaf_index = schema_.FindLeaf(pred.column);
    if (leaf_index < 0) {
      return InvalidArgumentError(name_ + ": predicate on unknown column '" + pred.column + "'");
    }
    const LeafColumn& leaf = schema_.leaves()[static_cast<size_t>(leaf_index)];
    const ColumnChunk& cc = g.columns[static_cast<size_t>(leaf_index)];
    if (!cc.meta_data || !cc.meta_data->statistics) continue;
    const Statistics& st = *cc.meta_data->statistics;
    if (pred.constant.is_null()) continue;
    // A comparison with null is never true: an all-null chunk cannot match.
    if (st.null_count && *st.null_count == cc.meta_data->num_values && g.num_rows > 0 &&
        leaf.max_repetition_level == 0) {
      return false;
    }
    const bool type_order = static_cast<size_t>(leaf_index) < metadata_.column_orders.size() &&
                            metadata_.column_orders[static_cast<size_t>(leaf_index)];
    Bound lo, hi;
    if (!TrustedBounds(leaf, type_order, st, &lo, &hi)) continue;
    const std::optional<int> vs_min = CompareConstant(pred.constant, lo);
    const std::optional<int> vs_max = CompareConstant(pred.constant, hi);
    if (!vs_min || !vs_max) continue;
    bool impossible = false;
    switch (pred.op) {
      case CompareOp::kEq: impossible = *vs_min < 0 || *vs_max > 0; break;
      case CompareOp::kLt: impossible = *vs_min <= 0; break;  // every value >= min >= c
      case CompareOp::kLe: impossible = *vs_min < 0; break;
      case CompareOp::kGt: impossible = *vs_max >= 0; break;
      case CompareOp::kGe: impossible = *vs_max > 0; break;
    }
    if (impossible) return false;
  }
  return true;
}

Result<std::vector<int>> ParquetReader::SelectRowGroups(
    const std::vector<Predicate>& predicates) const {
  std::vector<int> out;
  for (int g = 0; g < num_row_groups(); ++g) {
    WEFT_ASSIGN_OR_RETURN(bool may, RowGroupMayMatch(g, predicates));
    if (may) out.push_back(g);
  }
  return out;
}

Result<std::vector<Value>> ParquetReader::ReadRows(int row_group,
                                                   const std::vector<std::string>& columns) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return InvalidArgumentError(name_ + ": no row group " + std::to_string(row_group));
  }
  // The top-level fields to return, and the nodes whose leaves are read (a dotted path reads
  // only that part of its top-level field).
  std::vector<int> fields;
  std::vector<int> wanted;
  if (columns.empty()) {
    fields = schema_.root().children;
    wanted = fields;
  } else {
    for (const std::string& c : columns) {
      int node = -1;
      for (size_t n = 1; n < schema_.nodes().size(); ++n) {
        if (schema_.nodes()[n].path == c) {
          node = static_cast<int>(n);
          break;
        }
      }
      if (node < 0) return InvalidArgumentError(name_ + ": no column '" + c + "'");
      wanted.push_back(node);
      int top = node;
      while (schema_.nodes()[static_cast<size_t>(top)].parent != 0) {
        top = schema_.nodes()[static_cast<size_t>(top)].parent;
      }
      if (std::find(fields.begin(), fields.end(), top) == fields.end()) fields.push_back(top);
    }
  }
  std::vector<ColumnChunkData> chunks(schema_.leaves().size());
  std::vector<Assembler::Cursor> cursors(schema_.leaves().size());
  for (int field : wanted) {
    for (int leaf : schema_.LeavesUnder(field)) {
      const auto l = static_cast<size_t>(leaf);
      if (cursors[l].data != nullptr) continue;
      WEFT_ASSIGN_OR_RETURN(chunks[l], ReadColumnChunk(row_group, leaf));
      cursors[l].data = &chunks[l];
      cursors[l].leaf = &schema_.leaves()[l];
    }
  }
  const std::string where = Where(row_group, -1);
  const int64_t num_rows = metadata_.row_groups[static_cast<size_t>(row_group)].num_rows;
  // Every leaf must hold exactly num_rows records.
  for (size_t l = 0; l < cursors.size(); ++l) {
    if (cursors[l].data == nullptr) continue;
    const ColumnChunkData& d = *cursors[l].data;
    const int64_t records =
        d.repetition_levels.empty()
            ? d.num_entries
            : static_cast<int64_t>(
                  std::count(d.repetition_levels.begin(), d.repetition_levels.end(), int16_t{0}));
    if (records != num_rows) {
      return DataLossError(Where(row_group, static_cast<int>(l)) + ": holds " +
                           std::to_string(records) + " rows, the row group " +
                           std::to_string(num_rows));
    }
  }
  const bool any_leaf = std::any_of(cursors.begin(), cursors.end(),
                                    [](const Assembler::Cursor& c) { return c.data != nullptr; });
  if (!any_leaf && num_rows > options_.max_page_values) {
    // Nothing bounds a row count no column backs: refuse rather than allocate it.
    return DataLossError(where + ": " + std::to_string(num_rows) +
                         " rows without any column to read them from");
  }
  Assembler assembler(schema_, std::move(cursors), where);
  std::vector<Value> rows(static_cast<size_t>(num_rows));
  for (Value& row : rows) {
    row.kind = Value::Kind::kStruct;
    row.names.reserve(fields.size());
    row.items.resize(fields.size());
    for (size_t f = 0; f < fields.size(); ++f) {
      row.names.push_back(schema_.nodes()[static_cast<size_t>(fields[f])].element.name);
      WEFT_RETURN_IF_ERROR(assembler.ReadField(fields[f], &row.items[f]));
    }
  }
  if (!assembler.Done()) {
    return DataLossError(where + ": column levels continue past the last row");
  }
  return rows;
}

namespace {

// Spreads dense values over rows: row i takes the next dense value when valid[i].
template <typename T>
void Spread(std::vector<T>* v, const std::vector<uint8_t>& valid) {
  size_t j = v->size();
  v->resize(valid.size());
  for (size_t i = valid.size(); i-- > 0;) {
    if (valid[i] != 0) {
      (*v)[i] = (*v)[--j];
    } else {
      (*v)[i] = T{};
    }
  }
}

void SpreadValues(ValueBuffer* b, const std::vector<uint8_t>& valid) {
  switch (b->type) {
    case Type::kBoolean: Spread(&b->bools, valid); break;
    case Type::kInt32: Spread(&b->int32s, valid); break;
    case Type::kInt64: Spread(&b->int64s, valid); break;
    case Type::kInt96: Spread(&b->int96s, valid); break;
    case Type::kFloat: Spread(&b->floats, valid); break;
    case Type::kDouble: Spread(&b->doubles, valid); break;
    case Type::kByteArray:
    case Type::kFixedLenByteArray: {
      // In place, from the back: row i ends where dense value j (valid rows up to i) ends.
      size_t j = b->offsets.size() - 1;
      b->offsets.resize(valid.size() + 1);
      for (size_t i = valid.size(); i-- > 0;) {
        b->offsets[i + 1] = b->offsets[j];
        if (valid[i] != 0) --j;
      }
      break;
    }
  }
}

}  // namespace

Result<FlatBatch> ParquetReader::ReadFlat(int row_group,
                                          const std::vector<std::string>& columns) const {
  FlatBatch batch;
  WEFT_RETURN_IF_ERROR(ReadFlatInto(row_group, columns, &batch));
  return batch;
}

Status ParquetReader::ReadFlatInto(int row_group, const std::vector<std::string>& columns,
                                   FlatBatch* batch) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return InvalidArgumentError(name_ + ": no row group " + std::to_string(row_group));
  }
  std::vector<int> leaves;
  if (columns.empty()) {
    for (size_t i = 0; i < schema_.leaves().size(); ++i) leaves.push_back(static_cast<int>(i));
  } else {
    for (const std::string& c : columns) {
      const int leaf = schema_.FindLeaf(c);
      if (leaf < 0) return InvalidArgumentError(name_ + ": no column '" + c + "'");
      leaves.push_back(leaf);
    }
  }
  for (int leaf : leaves) {
    const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(leaf)];
    const SchemaNode& node = schema_.nodes()[static_cast<size_t>(lc.node)];
    if (node.parent != 0 || lc.max_repetition_level > 0) {
      return InvalidArgumentError(Where(row_group, leaf) +
                                  ": is nested or repeated; read it with ReadRows");
    }
  }
  batch->num_rows = metadata_.row_groups[static_cast<size_t>(row_group)].num_rows;
  batch->columns.resize(leaves.size());
  // The levels are only needed while spreading values over rows: one buffer per thread.
  thread_local ColumnChunkData chunk;
  struct ReleaseIfLarge {
    ~ReleaseIfLarge() {
      if (chunk.definition_levels.capacity() > (size_t{16} << 20)) {
        std::vector<int16_t>().swap(chunk.definition_levels);
      }
    }
  } release_if_large;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const int leaf = leaves[i];
    const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(leaf)];
    FlatColumn& col = batch->columns[i];
    // Decode into the column's previous buffers: their capacity is reused.
    chunk.values = std::move(col.values);
    chunk.values.type = lc.type;
    chunk.values.type_length = lc.type_length;
    chunk.values.Clear();
    chunk.definition_levels.clear();
    chunk.repetition_levels.clear();
    chunk.num_entries = 0;
    WEFT_RETURN_IF_ERROR(ReadPages(row_group, leaf, &chunk));
    if (chunk.num_entries != batch->num_rows) {
      return DataLossError(Where(row_group, leaf) + ": holds " + std::to_string(chunk.num_entries) +
                           " rows, the row group " + std::to_string(batch->num_rows));
    }
    col.name = lc.path;
    col.leaf = leaf;
    col.values = std::move(chunk.values);
    col.validity.clear();
    if (lc.max_definition_level > 0 && col.values.size() != static_cast<size_t>(batch->num_rows)) {
      col.validity.resize(chunk.definition_levels.size());
      for (size_t r = 0; r < col.validity.size(); ++r) {
        col.validity[r] = chunk.definition_levels[r] == lc.max_definition_level;
      }
      SpreadValues(&col.values, col.validity);
    }
  }
  return Status::Ok();
}

// ---- ScanFlat ----

namespace {

struct ScanPage {
  PageType type = PageType::kDataPage;
  int64_t body_offset = 0;  // in the file
  int32_t compressed = 0;
  int32_t uncompressed = 0;
  std::optional<int32_t> crc;
  int64_t first_row = 0;
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  Encoding def_encoding = Encoding::kRle;
  bool v2 = false;
  bool v2_compressed = true;
  int32_t def_bytes = 0;
  int32_t rep_bytes = 0;
  int64_t num_nulls = -1;  // -1: unknown
  std::optional<Statistics> stats;
  bool IsDict() const {
    return encoding == Encoding::kPlainDictionary || encoding == Encoding::kRleDictionary;
  }
};

struct ScanChunk {
  int leaf = -1;
  Codec codec = Codec::kUncompressed;
  std::vector<ScanPage> pages;  // data pages, in row order
  bool has_dict = false;
  ScanPage dict;
  int32_t dict_count = 0;
  bool dict_loaded = false;
  ValueBuffer dict_values;
  std::string whole;  // the whole chunk when it is small
  int64_t whole_offset = -1;
};

// One column's filters merged into an interval of its domain.
struct ColumnFilter {
  enum class Domain { kInt, kDouble, kBytes } domain = Domain::kInt;
  int leaf = -1;
  size_t chunk = 0;
  bool never = false;
  bool unsigned32 = false;
  int64_t ilo = std::numeric_limits<int64_t>::min();
  int64_t ihi = std::numeric_limits<int64_t>::max();
  double dlo = -std::numeric_limits<double>::infinity();
  double dhi = std::numeric_limits<double>::infinity();
  bool dlo_incl = true, dhi_incl = true;
  bool has_slo = false, has_shi = false, slo_incl = true, shi_incl = true;
  std::string slo, shi;
  uint64_t cost = 0;

  bool TestInt(int64_t v) const { return v >= ilo && v <= ihi; }
  bool TestDouble(double v) const {
    return (dlo_incl ? v >= dlo : v > dlo) && (dhi_incl ? v <= dhi : v < dhi);
  }
  bool TestBytes(std::string_view v) const {
    if (has_slo) {
      const int c = v.compare(slo);
      if (c < 0 || (c == 0 && !slo_incl)) return false;
    }
    if (has_shi) {
      const int c = v.compare(shi);
      if (c > 0 || (c == 0 && !shi_incl)) return false;
    }
    return true;
  }
  void Lower(double v, bool incl) {
    if (v > dlo || (v == dlo && !incl)) {
      dlo = v;
      dlo_incl = incl;
    }
  }
  void Upper(double v, bool incl) {
    if (v < dhi || (v == dhi && !incl)) {
      dhi = v;
      dhi_incl = incl;
    }
  }
  void LowerS(const std::string& v, bool incl) {
    const int c = has_slo ? v.compare(slo) : 1;
    if (c > 0 || (c == 0 && !incl)) {
      slo = v;
      slo_incl = incl;
      has_slo = true;
    }
  }
  void UpperS(const std::string& v, bool incl) {
    const int c = has_shi ? v.compare(shi) : -1;
    if (c < 0 || (c == 0 && !incl)) {
      shi = v;
      shi_incl = incl;
      has_shi = true;
    }
  }

  // Adds `column op constant`; false when the constant's kind does not compare.
  bool Add(CompareOp op, const Value& c) {
    if (c.is_null()) {
      never = true;
      return true;
    }
    const bool int_const = c.kind == Value::Kind::kBool || c.kind == Value::Kind::kInt32 ||
                           c.kind == Value::Kind::kInt64;
    const bool dbl_const = c.kind == Value::Kind::kFloat || c.kind == Value::Kind::kDouble;
    const bool str_const = c.kind == Value::Kind::kString || c.kind == Value::Kind::kBinary;
    switch (domain) {
      case Domain::kInt: {
        constexpr double kTwo63 = 9223372036854775808.0;
        if (int_const) {
          const int64_t v = c.kind == Value::Kind::kBool ? int64_t{c.bool_value} : c.int_value;
          switch (op) {
            case CompareOp::kEq: ilo = std::max(ilo, v), ihi = std::min(ihi, v); break;
            case CompareOp::kLt:
              if (v == std::numeric_limits<int64_t>::min())
                never = true;
              else
                ihi = std::min(ihi, v - 1);
              break;
            case CompareOp::kLe: ihi = std::min(ihi, v); break;
            case CompareOp::kGt:
              if (v == std::numeric_limits<int64_t>::max())
                never = true;
              else
                ilo = std::max(ilo, v + 1);
              break;
            case CompareOp::kGe: ilo = std::max(ilo, v); break;
          }
          return true;
        }
        if (!dbl_const) return false;
        const double d = c.double_value;
        if (std::isnan(d)) {
          never = true;
          return true;
        }
        switch (op) {
          case CompareOp::kEq:
            if (d != std::floor(d) || d >= kTwo63 || d < -kTwo63) {
              never = true;
            } else {
              ilo = std::max(ilo, static_cast<int64_t>(d));
              ihi = std::min(ihi, static_cast<int64_t>(d));
            }
            break;
          case CompareOp::kGe:  // x >= ceil(d)
            if (d > -kTwo63) {
              if (std::ceil(d) >= kTwo63)
                never = true;
              else
                ilo = std::max(ilo, static_cast<int64_t>(std::ceil(d)));
            }
            break;
          case CompareOp::kGt:  // x >= floor(d) + 1
            if (d >= -kTwo63) {
              if (d >= kTwo63 - 1024) never = d >= kTwo63 || never;
              if (d < kTwo63) {
                const auto f = static_cast<int64_t>(std::floor(d));
                if (f == std::numeric_limits<int64_t>::max())
                  never = true;
                else
                  ilo = std::max(ilo, f + 1);
              }
            }
            break;
          case CompareOp::kLe:  // x <= floor(d)
            if (d < -kTwo63)
              never = true;
            else if (d < kTwo63)
              ihi = std::min(ihi, static_cast<int64_t>(std::floor(d)));
            break;
          case CompareOp::kLt:  // x <= ceil(d) - 1
            if (d <= -kTwo63) {
              never = true;
            } else if (d <= kTwo63 - 1024) {
              const auto cl = static_cast<int64_t>(std::ceil(d));
              ihi = std::min(ihi, cl - 1);
            }
            break;
        }
        return true;
      }
      case Domain::kDouble: {
        if (!int_const && !dbl_const) return false;
        const double d =
            int_const ? static_cast<double>(c.kind == Value::Kind::kBool ? int64_t{c.bool_value}
                                                                         : c.int_value)
                      : c.double_value;
        if (std::isnan(d)) {
          never = true;
          return true;
        }
        switch (op) {
          case CompareOp::kEq: Lower(d, true), Upper(d, true); break;
          case CompareOp::kLt: Upper(d, false); break;
          case CompareOp::kLe: Upper(d, true); break;
          case CompareOp::kGt: Lower(d, false); break;
          case CompareOp::kGe: Lower(d, true); break;
        }
        return true;
      }
      case Domain::kBytes: {
        if (!str_const) return false;
        switch (op) {
          case CompareOp::kEq: LowerS(c.bytes, true), UpperS(c.bytes, true); break;
          case CompareOp::kLt: UpperS(c.bytes, false); break;
          case CompareOp::kLe: UpperS(c.bytes, true); break;
          case CompareOp::kGt: LowerS(c.bytes, false); break;
          case CompareOp::kGe: LowerS(c.bytes, true); break;
        }
        return true;
      }
    }
    return false;
  }

  void Finish() {
    if (ilo > ihi) never = true;
    if (dlo > dhi || (dlo == dhi && !(dlo_incl && dhi_incl))) never = true;
    if (has_slo && has_shi) {
      const int c = slo.compare(shi);
      if (c > 0 || (c == 0 && !(slo_incl && shi_incl))) never = true;
    }
  }

  // False when the page's statistics prove no row of it matches.
  bool PageMayMatch(const LeafColumn& lc, bool type_order, const ScanPage& p) const {
    if (p.num_nulls >= 0 && p.num_nulls >= p.num_values && p.num_values > 0) return false;
    if (!p.stats) return true;
    Bound lo, hi;
    if (!TrustedBounds(lc, type_order, *p.stats, &lo, &hi)) return true;
    switch (domain) {
      case Domain::kInt:
        if (lo.kind != Bound::Kind::kInt || hi.kind != Bound::Kind::kInt) return true;
        return !(hi.i < ilo || lo.i > ihi);
      case Domain::kDouble:
        if (lo.kind != Bound::Kind::kDouble || hi.kind != Bound::Kind::kDouble) return true;
        if (hi.d < dlo || (hi.d == dlo && !dlo_incl)) return false;
        if (lo.d > dhi || (lo.d == dhi && !dhi_incl)) return false;
        return true;
      case Domain::kBytes:
        if (lo.kind != Bound::Kind::kBytes || hi.kind != Bound::Kind::kBytes) return true;
        if (has_slo) {
          const int c = hi.s.compare(slo);
          if (c < 0 || (c == 0 && !slo_incl)) return false;
        }
        if (has_shi) {
          const int c = lo.s.compare(shi);
          if (c > 0 || (c == 0 && !shi_incl)) return false;
        }
        return true;
    }
    return true;
  }

  // Tests value i of `b` (of the column's type).
  bool Test(const ValueBuffer& b, size_t i) const {
    switch (b.type) {
      case Type::kBoolean: return TestInt(b.bools[i]);
      case Type::kInt32:
        return TestInt(unsigned32 ? int64_t{static_cast<uint32_t>(b.int32s[i])} : b.int32s[i]);
      case Type::kInt64: return TestInt(b.int64s[i]);
      case Type::kInt96: return TestInt(b.int96s[i].ToUnixMicros());
      case Type::kFloat: return TestDouble(b.floats[i]);
      case Type::kDouble: return TestDouble(b.doubles[i]);
      case Type::kByteArray:
      case Type::kFixedLenByteArray: return TestBytes(b.Binary(i));
    }
    return false;
  }
};

// Grows a scratch vector without shrinking it (so reuse never re-initializes it).
template <typename T>
T* Room(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(std::max(n, v->size() + v->size() / 2));
  return v->data();
}

}  // namespace

struct ScanScratch::Impl {
  std::vector<ScanChunk> chunks;
  std::string io;    // a page body read from the source
  std::string page;  // a decompressed page
  std::vector<uint32_t> sel, next, rel, dense, span, idx, lv32;
  std::vector<int16_t> lv16;
  std::vector<uint8_t> valid, mask;
  std::vector<ColumnFilter> filters;
  std::vector<std::pair<int64_t, int64_t>> excluded, candidates;
  ValueBuffer picked, decoded;
};

ScanScratch::ScanScratch() : impl_(std::make_unique<Impl>()) {}
ScanScratch::~ScanScratch() = default;
ScanScratch::ScanScratch(ScanScratch&&) noexcept = default;
ScanScratch& ScanScratch::operator=(ScanScratch&&) noexcept = default;

namespace {

struct ScanContext {
  RandomAccessSource* source;
  const ReaderOptions* options;
  uint64_t data_end;
  const LeafColumn* leaf;
  std::string where;
  ScanScratch::Impl* s;
};

// Reads the page headers of a column chunk (not the page bodies of large chunks).
Status LoadPages(const ScanContext& cx, const ColumnChunk& cc, int64_t num_rows, ScanChunk* ch) {
  const std::string& where = cx.where;
  ch->pages.clear();
  ch->has_dict = false;
  ch->dict_loaded = false;
  ch->whole.clear();
  ch->whole_offset = -1;
  if (cc.encrypted) {
    return UnimplementedError(where +
                              ": encrypted column: Parquet modular encryption is not "
                              "supported");
  }
  if (cc.file_path) {
    return UnimplementedError(where + ": column chunk stored in another file ('" + *cc.file_path +
                              "') is not supported");
  }
  if (!cc.meta_data) return DataLossError(where + ": column chunk has no meta_data");
  const ColumnMetaData& m = *cc.meta_data;
  if (m.type != cx.leaf->type) {
    return DataLossError(where + ": column chunk type " + std::string(TypeName(m.type)) +
                         " differs from the schema's " + std::string(TypeName(cx.leaf->type)));
  }
  ch->codec = m.codec;
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset >= 4 &&
      (*m.dictionary_page_offset < start || start < 4)) {
    start = *m.dictionary_page_offset;
  }
  const int64_t length = m.total_compressed_size;
  if (start < 4 || length < 0 || static_cast<uint64_t>(start) > cx.data_end ||
      static_cast<uint64_t>(length) > cx.data_end - static_cast<uint64_t>(start)) {
    return DataLossError(where + ": column chunk at offset " + std::to_string(start) + " of " +
                         std::to_string(length) + " bytes lies outside the data region (4.." +
                         std::to_string(cx.data_end) + ")");
  }
  if (m.num_values < 0) return DataLossError(where + ": negative num_values");
  if (m.num_values != num_rows) {
    return DataLossError(where + ": holds " + std::to_string(m.num_values) +
                         " values, the row group " + std::to_string(num_rows) + " rows");
  }
  if (m.num_values == 0) return Status::Ok();
  const auto len = static_cast<size_t>(length);
  constexpr size_t kWhole = size_t{1} << 20;
  if (len <= kWhole) {
    WEFT_ASSIGN_OR_RETURN(
        ch->whole, cx.source->Read(static_cast<uint64_t>(start), static_cast<uint64_t>(len)));
    ch->whole_offset = start;
  }
  std::string window;
  size_t pos = 0;
  int64_t rows = 0;
  while (pos < len && rows < m.num_values) {
    const int64_t page_offset = start + static_cast<int64_t>(pos);
    size_t header_len = 0;
    Result<PageHeader> hr = DataLossError("no header");
    if (ch->whole_offset >= 0) {
      hr = DecodePageHeader(std::string_view(ch->whole).substr(pos), &header_len);
    } else {
      size_t w = std::min<size_t>(len - pos, 1024);
      while (true) {
        WEFT_ASSIGN_OR_RETURN(window, cx.source->Read(static_cast<uint64_t>(page_offset), w));
        hr = DecodePageHeader(window, &header_len);
        if (hr.ok() || w == len - pos) break;
        w = std::min(len - pos, w * 16);
      }
    }
    const std::string at = where + ": page at offset " + std::to_string(page_offset);
    if (!hr.ok()) return hr.status().WithContext(at);
    const PageHeader& h = *hr;
    pos += header_len;
    const size_t left = len - pos;
    if (h.compressed_page_size < 0 || static_cast<uint64_t>(h.compressed_page_size) > left) {
      return DataLossError(at + ": compressed size " + std::to_string(h.compressed_page_size) +
                           " exceeds the " + std::to_string(left) +
                           " bytes left in the column chunk");
    }
    if (h.uncompressed_page_size < 0) {
      return DataLossError(at + ": negative uncompressed size " +
                           std::to_string(h.uncompressed_page_size));
    }
    if (h.uncompressed_page_size > cx.options->max_page_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    at + ": unsupported page size: " + std::to_string(h.uncompressed_page_size) +
                        " bytes uncompressed exceeds the reader's limit "
                        "(ReaderOptions.max_page_bytes = " +
                        std::to_string(cx.options->max_page_bytes) + ")");
    }
    ScanPage p;
    p.type = h.type;
    p.body_offset = start + static_cast<int64_t>(pos);
    p.compressed = h.compressed_page_size;
    p.uncompressed = h.uncompressed_page_size;
    p.crc = h.crc;
    pos += static_cast<size_t>(h.compressed_page_size);
    auto check_count = [&](int32_t n) -> Status {
      if (n < 0 || n > cx.options->max_page_values) {
        return DataLossError(at + ": num_values " + std::to_string(n) +
                             " is negative or above the limit of " +
                             std::to_string(cx.options->max_page_values));
      }
      if (n > m.num_values - rows) {
        return DataLossError(at + ": page holds " + std::to_string(n) + " values, more than the " +
                             std::to_string(m.num_values - rows) + " the column chunk has left");
      }
      return Status::Ok();
    };
    switch (h.type) {
      case PageType::kDictionaryPage: {
        if (!h.dictionary_page_header) {
          return DataLossError(at + ": dictionary page without a dictionary_page_header");
        }
        if (ch->has_dict) return DataLossError(at + ": second dictionary page in a column chunk");
        if (rows > 0) return DataLossError(at + ": dictionary page after data pages");
        const DictionaryPageHeader& dh = *h.dictionary_page_header;
        if (dh.num_values < 0 || dh.num_values > cx.options->max_page_values) {
          return DataLossError(at + ": dictionary of " + std::to_string(dh.num_values) +
                               " values is negative or above the limit");
        }
        if (dh.encoding != Encoding::kPlain && dh.encoding != Encoding::kPlainDictionary) {
          return UnimplementedError(at + ": dictionary page encoding " +
                                    std::string(EncodingName(dh.encoding)));
        }
        ch->has_dict = true;
        ch->dict = p;
        ch->dict_count = dh.num_values;
        break;
      }
      case PageType::kDataPage: {
        if (!h.data_page_header) return DataLossError(at + ": data page without data_page_header");
        const DataPageHeader& dp = *h.data_page_header;
        WEFT_RETURN_IF_ERROR(check_count(dp.num_values));
        p.num_values = dp.num_values;
        p.encoding = dp.encoding;
        p.def_encoding = dp.definition_level_encoding;
        p.stats = dp.statistics;
        if (p.stats && p.stats->null_count) p.num_nulls = *p.stats->null_count;
        p.first_row = rows;
        rows += dp.num_values;
        ch->pages.push_back(std::move(p));
        break;
      }
      case PageType::kDataPageV2: {
        if (!h.data_page_header_v2) {
          return DataLossError(at + ": data page v2 without data_page_header_v2");
        }
        const DataPageHeaderV2& dp = *h.data_page_header_v2;
        WEFT_RETURN_IF_ERROR(check_count(dp.num_values));
        const int64_t rl = dp.repetition_levels_byte_length;
        const int64_t dl = dp.definition_levels_byte_length;
        if (rl < 0 || dl < 0 || rl + dl > h.compressed_page_size ||
            rl + dl > h.uncompressed_page_size) {
          return DataLossError(at + ": level byte lengths " + std::to_string(rl) + " + " +
                               std::to_string(dl) + " exceed the page");
        }
        p.v2 = true;
        p.v2_compressed = dp.is_compressed;
        p.num_values = dp.num_values;
        p.encoding = dp.encoding;
        p.def_bytes = dp.definition_levels_byte_length;
        p.rep_bytes = dp.repetition_levels_byte_length;
        p.num_nulls = dp.num_nulls;
        p.stats = dp.statistics;
        p.first_row = rows;
        rows += dp.num_values;
        ch->pages.push_back(std::move(p));
        break;
      }
      default: break;
    }
  }
  if (rows != m.num_values) {
    return DataLossError(where + ": pages hold " + std::to_string(rows) +
                         " values, the column metadata says " + std::to_string(m.num_values));
  }
  return Status::Ok();
}

// The compressed bytes of a page, checked against its CRC on request.
Result<std::string_view> PageBody(const ScanContext& cx, ScanChunk* ch, const ScanPage& p,
                                  const std::string& at) {
  std::string_view body;
  if (ch->whole_offset >= 0) {
    body = std::string_view(ch->whole).substr(static_cast<size_t>(p.body_offset - ch->whole_offset),
                                              static_cast<size_t>(p.compressed));
  } else {
    WEFT_ASSIGN_OR_RETURN(cx.s->io, cx.source->Read(static_cast<uint64_t>(p.body_offset),
                                                    static_cast<uint64_t>(p.compressed)));
    body = cx.s->io;
  }
  if (cx.options->verify_checksums && p.crc) {
    const auto crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
    if (crc != static_cast<uint32_t>(*p.crc)) {
      return DataLossError(at + ": page CRC mismatch (stored " +
                           std::to_string(static_cast<uint32_t>(*p.crc)) + ", computed " +
                           std::to_string(crc) + ")");
    }
  }
  return body;
}

Result<std::string_view> Decompress(const ScanContext& cx, Codec codec, std::string_view in,
                                    size_t usize, const std::string& at) {
  if (codec == Codec::kUncompressed) return in;
  std::string& buf = cx.s->page;
  if (buf.size() < usize) buf.resize(std::max(usize, buf.size() + buf.size() / 2));
  Status st = DecompressInto(codec, in, buf.data(), usize);
  if (!st.ok()) return st.WithContext(at);
  return std::string_view(buf.data(), usize);
}

Status EnsureDict(const ScanContext& cx, ScanChunk* ch) {
  if (ch->dict_loaded) return Status::Ok();
  if (!ch->has_dict) {
    return DataLossError(cx.where +
                         ": dictionary-encoded page but the column chunk has no "
                         "dictionary page");
  }
  const std::string at = cx.where + ": page at offset " + std::to_string(ch->dict.body_offset);
  WEFT_ASSIGN_OR_RETURN(std::string_view body, PageBody(cx, ch, ch->dict, at));
  WEFT_ASSIGN_OR_RETURN(
      std::string_view page,
      Decompress(cx, ch->codec, body, static_cast<size_t>(ch->dict.uncompressed), at));
  ch->dict_values.type = cx.leaf->type;
  ch->dict_values.type_length = cx.leaf->type_length;
  ch->dict_values.Clear();
  Status st = DecodePlain(page, static_cast<size_t>(ch->dict_count), &ch->dict_values, nullptr);
  if (!st.ok()) return st.WithContext(at + ": dictionary page");
  ch->dict_loaded = true;
  return Status::Ok();
}

// A data page made ready for access by row: values section and validity.
struct PageData {
  std::string_view values;
  bool all_valid = true;
  size_t non_null = 0;
  const uint8_t* valid = nullptr;  // per row of the page when !all_valid
};

Status PreparePage(const ScanContext& cx, ScanChunk* ch, const ScanPage& p, const std::string& at,
                   PageData* pd) {
  const int16_t max_def = cx.leaf->max_definition_level;
  const auto n = static_cast<size_t>(p.num_values);
  WEFT_ASSIGN_OR_RETURN(std::string_view body, PageBody(cx, ch, p, at));
  std::string_view levels;  // v1: from the page start; v2: the definition level bytes
  if (p.v2) {
    levels = body.substr(static_cast<size_t>(p.rep_bytes), static_cast<size_t>(p.def_bytes));
    const std::string_view in = body.substr(static_cast<size_t>(p.rep_bytes + p.def_bytes));
    const auto usize = static_cast<size_t>(p.uncompressed - p.rep_bytes - p.def_bytes);
    if (p.v2_compressed) {
      WEFT_ASSIGN_OR_RETURN(pd->values, Decompress(cx, ch->codec, in, usize, at));
    } else {
      pd->values = in;
    }
  } else {
    WEFT_ASSIGN_OR_RETURN(std::string_view page,
                          Decompress(cx, ch->codec, body, static_cast<size_t>(p.uncompressed), at));
    size_t pos = 0;
    if (max_def > 0) {
      if (p.def_encoding == Encoding::kRle) {
        if (page.size() < 4) return DataLossError(at + ": level data truncated");
        const uint32_t len = LoadLe32(page.data());
        if (len > page.size() - 4) {
          return DataLossError(at + ": level data of " + std::to_string(len) + " bytes but only " +
                               std::to_string(page.size() - 4) + " bytes left in the page");
        }
        pos = 4 + len;
      } else if (p.def_encoding == Encoding::kBitPacked) {
        const size_t bytes =
            (n * static_cast<size_t>(BitWidth(static_cast<uint64_t>(max_def))) + 7) / 8;
        if (bytes > page.size()) return DataLossError(at + ": BIT_PACKED levels truncated");
        pos = bytes;
      } else {
        return UnimplementedError(at + ": level encoding " +
                                  std::string(EncodingName(p.def_encoding)));
      }
    }
    levels = page.substr(0, pos);
    pd->values = page.substr(pos);
  }
  pd->all_valid = true;
  pd->non_null = n;
  pd->valid = nullptr;
  if (max_def == 0 || n == 0) return Status::Ok();
  const int width = BitWidth(static_cast<uint64_t>(max_def));
  const bool rle = p.v2 || p.def_encoding == Encoding::kRle;
  if (rle) {
    RleBitPackedDecoder d(p.v2 ? levels : levels.substr(4), width);
    bool is_rle = false;
    uint64_t left = 0;
    uint32_t value = 0;
    Status st = d.PeekRun(&is_rle, &left, &value);
    if (!st.ok()) return st.WithContext(at + ": definition levels");
    if (is_rle && left >= n && value == static_cast<uint32_t>(max_def)) return Status::Ok();
  }
  ScanScratch::Impl& s = *cx.s;
  s.lv16.clear();
  if (p.v2) {
    Status st = DecodeLevelsV2(levels, n, max_def, &s.lv32, &s.lv16);
    if (!st.ok()) return st.WithContext(at + ": definition levels");
  } else {
    size_t pos = 0;
    Status st = DecodeLevelsV1(p.def_encoding, levels, &pos, n, max_def, &s.lv32, &s.lv16);
    if (!st.ok()) return st.WithContext(at + ": definition levels");
  }
  uint8_t* valid = Room(&s.valid, n);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    valid[i] = s.lv16[i] == max_def;
    count += valid[i];
  }
  pd->all_valid = count == n;
  pd->non_null = count;
  pd->valid = valid;
  return Status::Ok();
}

// Dense value positions of the valid rows among rel[0, m) (page-relative, ascending): writes
// them to dense[] and returns how many; `keep` (optional) receives, per rel row, whether it
// is valid.
size_t DensePositions(const PageData& pd, const uint32_t* rel, size_t m, uint32_t* dense,
                      uint8_t* keep) {
  if (pd.all_valid) {
    std::memcpy(dense, rel, m * sizeof(uint32_t));
    if (keep != nullptr) std::memset(keep, 1, m);
    return m;
  }
  size_t out = 0;
  uint32_t count = 0;
  uint32_t row = 0;
  for (size_t j = 0; j < m; ++j) {
    for (; row < rel[j]; ++row) count += pd.valid[row];
    const bool v = pd.valid[rel[j]] != 0;
    if (keep != nullptr) keep[j] = v;
    if (v) dense[out++] = count;
  }
  return out;
}

// Dictionary indices at dense[0, k) (ascending) into idx[0, k), checked against the dictionary.
Status PickIndices(const ScanContext& cx, const PageData& pd, const uint32_t* dense, size_t k,
                   size_t dict_size, uint32_t* idx, const std::string& at) {
  if (k == 0) return Status::Ok();
  if (pd.values.empty()) return DataLossError(at + ": dictionary indices: page is empty");
  const int width = static_cast<uint8_t>(pd.values[0]);
  if (width > 32) {
    return DataLossError(at + ": dictionary indices: bit width " + std::to_string(width) + " > 32");
  }
  RleBitPackedDecoder d(pd.values.substr(1), width);
  const uint32_t lo = dense[0];
  const size_t span = dense[k - 1] - lo + 1;
  Status st = d.Skip(lo);
  if (span == k) {  // contiguous: decode in place
    if (st.ok())
      st = d.DecodeBounded(idx, k, static_cast<uint32_t>(std::min<size_t>(dict_size, UINT32_MAX)));
    if (!st.ok()) {
      return st.WithContext(at + ": dictionary indices (dictionary of " +
                            std::to_string(dict_size) + " values)");
    }
    return Status::Ok();
  }
  uint32_t* buf = Room(&cx.s->span, span);
  if (st.ok()) st = d.Decode(buf, span);
  if (!st.ok()) return st.WithContext(at + ": dictionary indices");
  for (size_t j = 0; j < k; ++j) {
    const uint32_t v = buf[dense[j] - lo];
    if (v >= dict_size) {
      return DataLossError(at + ": dictionary index " + std::to_string(v) +
                           " out of range (dictionary of " + std::to_string(dict_size) +
                           " values)");
    }
    idx[j] = v;
  }
  return Status::Ok();
}

// Appends the values at dense[0, k) (ascending) of a non-dictionary page to *out.
Status PickValues(const ScanContext& cx, const ScanPage& p, const PageData& pd,
                  const uint32_t* dense, size_t k, ValueBuffer* out, const std::string& at) {
  if (k == 0) return Status::Ok();
  const size_t last = dense[k - 1];
  const Type type = cx.leaf->type;
  if (p.encoding == Encoding::kPlain && type != Type::kByteArray) {
    if (type == Type::kBoolean) {
      if ((last + 8) / 8 > pd.values.size()) return DataLossError(at + ": PLAIN BOOLEAN truncated");
      const auto* b = reinterpret_cast<const uint8_t*>(pd.values.data());
      const size_t old = out->bools.size();
      out->bools.resize(old + k);
      for (size_t j = 0; j < k; ++j) {
        out->bools[old + j] = (b[dense[j] >> 3] >> (dense[j] & 7)) & 1;
      }
      return Status::Ok();
    }
    size_t width = 0;
    switch (type) {
      case Type::kInt32:
      case Type::kFloat: width = 4; break;
      case Type::kInt64:
      case Type::kDouble: width = 8; break;
      case Type::kInt96: width = 12; break;
      default: width = static_cast<size_t>(std::max(cx.leaf->type_length, 0)); break;
    }
    if (width > 0 && last >= pd.values.size() / width) {
      return DataLossError(at + ": PLAIN " + std::string(TypeName(type)) + " values truncated");
    }
    const char* src = pd.values.data();
    auto gather = [&](auto& dst) {
      using T = typename std::remove_reference_t<decltype(dst)>::value_type;
      const size_t old = dst.size();
      dst.resize(old + k);
      T* d = dst.data() + old;
      for (size_t j = 0; j < k; ++j)
        std::memcpy(&d[j], src + size_t{dense[j]} * sizeof(T), sizeof(T));
    };
    switch (type) {
      case Type::kInt32: gather(out->int32s); break;
      case Type::kInt64: gather(out->int64s); break;
      case Type::kInt96: gather(out->int96s); break;
      case Type::kFloat: gather(out->floats); break;
      case Type::kDouble: gather(out->doubles); break;
      default:  // FIXED_LEN_BYTE_ARRAY
        for (size_t j = 0; j < k; ++j) {
          out->bytes.append(src + size_t{dense[j]} * width, width);
          out->offsets.push_back(static_cast<int64_t>(out->bytes.size()));
        }
        break;
    }
    return Status::Ok();
  }
  // Other encodings: decode the page, then pick.
  ValueBuffer& dec = cx.s->decoded;
  dec.type = type;
  dec.type_length = cx.leaf->type_length;
  dec.Clear();
  Status st = DecodeValues(p.encoding, pd.values, pd.non_null, nullptr, &dec);
  if (!st.ok())
    return st.WithContext(at + ": " + std::string(EncodingName(p.encoding)) + " values");
  if (last >= dec.size()) return DataLossError(at + ": fewer values than the levels say");
  for (size_t j = 0; j < k; ++j) out->AppendFrom(dec, dense[j], size_t{dense[j]} + 1);
  return Status::Ok();
}

// Calls f(page_index, rel, m) for each data page holding rows of sorted `rows` (row numbers
// within the row group), with those rows made page-relative in rel[0, m).
template <typename F>
Status ForEachPageOfRows(const ScanChunk& ch, const uint32_t* rows, size_t n,
                         std::vector<uint32_t>* rel_buf, F&& f) {
  size_t j = 0;
  for (size_t pi = 0; pi < ch.pages.size() && j < n; ++pi) {
    const ScanPage& p = ch.pages[pi];
    const int64_t end = p.first_row + p.num_values;
    if (rows[j] >= end) continue;
    size_t e = j;
    while (e < n && rows[e] < end) ++e;
    uint32_t* rel = Room(rel_buf, e - j);
    const auto base = static_cast<uint32_t>(p.first_row);
    for (size_t t = j; t < e; ++t) rel[t - j] = rows[t] - base;
    WEFT_RETURN_IF_ERROR(f(pi, rel, e - j));
    j = e;
  }
  return Status::Ok();
}

// Like ForEachPageOfRows for the rows of sorted, disjoint [begin, end) ranges.
template <typename F>
Status ForEachPageOfRanges(const ScanChunk& ch,
                           const std::vector<std::pair<int64_t, int64_t>>& ranges,
                           std::vector<uint32_t>* rel_buf, F&& f) {
  size_t r = 0;
  for (size_t pi = 0; pi < ch.pages.size() && r < ranges.size(); ++pi) {
    const ScanPage& p = ch.pages[pi];
    const int64_t begin = p.first_row;
    const int64_t end = p.first_row + p.num_values;
    while (r < ranges.size() && ranges[r].second <= begin) ++r;
    if (r == ranges.size() || ranges[r].first >= end) continue;
    size_t m = 0;
    for (size_t t = r; t < ranges.size() && ranges[t].first < end; ++t) {
      m += static_cast<size_t>(std::min(end, ranges[t].second) - std::max(begin, ranges[t].first));
    }
    uint32_t* rel = Room(rel_buf, m);
    for (size_t t = r; t < ranges.size() && ranges[t].first < end; ++t) {
      const int64_t e = std::min(end, ranges[t].second);
      for (int64_t row = std::max(begin, ranges[t].first); row < e; ++row) {
        *rel++ = static_cast<uint32_t>(row - begin);
      }
    }
    WEFT_RETURN_IF_ERROR(f(pi, rel - m, m));
  }
  return Status::Ok();
}

}  // namespace

Status ParquetReader::ScanFlat(int row_group, const std::vector<std::string>& columns,
                               const std::vector<Predicate>& filters, FlatBatch* out,
                               ScanScratch* scratch, std::vector<uint32_t>* selected_rows) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return InvalidArgumentError(name_ + ": no row group " + std::to_string(row_group));
  }
  ScanScratch local;
  if (scratch == nullptr) scratch = &local;
  ScanScratch::Impl& s = *scratch->impl_;
  const RowGroup& g = metadata_.row_groups[static_cast<size_t>(row_group)];
  const int64_t num_rows = g.num_rows;
  if (num_rows > int64_t{std::numeric_limits<uint32_t>::max()}) {
    return UnimplementedError(Where(row_group, -1) + ": ScanFlat handles row groups of up to " +
                              "2^32 - 1 rows");
  }
  auto check_flat = [&](int leaf) -> Status {
    const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(leaf)];
    const SchemaNode& node = schema_.nodes()[static_cast<size_t>(lc.node)];
    if (node.parent != 0 || lc.max_repetition_level > 0) {
      return InvalidArgumentError(Where(row_group, leaf) +
                                  ": is nested or repeated; read it with ReadRows");
    }
    return Status::Ok();
  };
  std::vector<int> leaves;
  if (columns.empty()) {
    for (size_t i = 0; i < schema_.leaves().size(); ++i) leaves.push_back(static_cast<int>(i));
  } else {
    for (const std::string& c : columns) {
      const int leaf = schema_.FindLeaf(c);
      if (leaf < 0) return InvalidArgumentError(name_ + ": no column '" + c + "'");
      leaves.push_back(leaf);
    }
  }
  for (int leaf : leaves) WEFT_RETURN_IF_ERROR(check_flat(leaf));

  // Chunks in use, one per distinct leaf; pages listed lazily.
  std::vector<int> chunk_leaf;
  std::vector<bool> chunk_loaded;
  auto chunk_of = [&](int leaf) -> size_t {
    for (size_t i = 0; i < chunk_leaf.size(); ++i) {
      if (chunk_leaf[i] == leaf) return i;
    }
    chunk_leaf.push_back(leaf);
    chunk_loaded.push_back(false);
    if (s.chunks.size() < chunk_leaf.size()) s.chunks.resize(chunk_leaf.size());
    return chunk_leaf.size() - 1;
  };
  auto context = [&](int leaf) {
    return ScanContext{
        source_.get(),          &options_, data_end_, &schema_.leaves()[static_cast<size_t>(leaf)],
        Where(row_group, leaf), &s};
  };
  auto load = [&](size_t c) -> Status {
    if (chunk_loaded[c]) return Status::Ok();
    const int leaf = chunk_leaf[c];
    ScanChunk& ch = s.chunks[c];
    ch.leaf = leaf;
    WEFT_RETURN_IF_ERROR(
        LoadPages(context(leaf), g.columns[static_cast<size_t>(leaf)], num_rows, &ch));
    chunk_loaded[c] = true;
    return Status::Ok();
  };

  // Filters merged per column.
  s.filters.clear();
  bool never = false;
  for (const Predicate& pred : filters) {
    const int leaf = schema_.FindLeaf(pred.column);
    if (leaf < 0) {
      return InvalidArgumentError(name_ + ": filter on unknown column '" + pred.column + "'");
    }
    WEFT_RETURN_IF_ERROR(check_flat(leaf));
    ColumnFilter* f = nullptr;
    for (ColumnFilter& x : s.filters) {
      if (x.leaf == leaf) f = &x;
    }
    if (f == nullptr) {
      const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(leaf)];
      ColumnFilter nf;
      nf.leaf = leaf;
      switch (lc.type) {
        case Type::kBoolean:
        case Type::kInt32:
        case Type::kInt64:
        case Type::kInt96: nf.domain = ColumnFilter::Domain::kInt; break;
        case Type::kFloat:
        case Type::kDouble: nf.domain = ColumnFilter::Domain::kDouble; break;
        default: nf.domain = ColumnFilter::Domain::kBytes; break;
      }
      if (IsUnsigned(*lc.element)) {
        if (lc.type == Type::kInt64) {
          return UnimplementedError(Where(row_group, leaf) +
                                    ": filters on unsigned 64-bit columns");
        }
        nf.unsigned32 = lc.type == Type::kInt32;
      }
      s.filters.push_back(std::move(nf));
      f = &s.filters.back();
    }
    if (!f->Add(pred.op, pred.constant)) {
      return InvalidArgumentError(
          Where(row_group, leaf) + ": a filter constant " + pred.constant.ToString() +
          " does not compare with " +
          std::string(TypeName(schema_.leaves()[static_cast<size_t>(leaf)].type)) + " values");
    }
  }
  for (ColumnFilter& f : s.filters) {
    f.Finish();
    never = never || f.never;
    f.chunk = chunk_of(f.leaf);
  }

  // Prune pages by statistics: the candidate row ranges.
  s.excluded.clear();
  s.candidates.clear();
  if (!never) {
    for (ColumnFilter& f : s.filters) {
      WEFT_RETURN_IF_ERROR(load(f.chunk));
      const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(f.leaf)];
      const bool type_order = static_cast<size_t>(f.leaf) < metadata_.column_orders.size() &&
                              metadata_.column_orders[static_cast<size_t>(f.leaf)];
      for (const ScanPage& p : s.chunks[f.chunk].pages) {
        if (!f.PageMayMatch(lc, type_order, p)) {
          s.excluded.emplace_back(p.first_row, p.first_row + p.num_values);
        }
      }
    }
    std::sort(s.excluded.begin(), s.excluded.end());
    int64_t at = 0;
    for (const auto& [b, e] : s.excluded) {
      if (b > at) s.candidates.emplace_back(at, b);
      at = std::max(at, e);
    }
    if (at < num_rows) s.candidates.emplace_back(at, num_rows);
  }
  // Rows left after page pruning: the candidate ranges (listed as rows when there is no filter).
  size_t total = 0;
  for (const auto& [b, e] : s.candidates) total += static_cast<size_t>(e - b);
  s.sel.clear();
  if (total > 0) {
    // Cheapest filter first: the uncompressed bytes of its pages overlapping the candidates.
    for (ColumnFilter& f : s.filters) {
      f.cost = 0;
      size_t r = 0;
      for (const ScanPage& p : s.chunks[f.chunk].pages) {
        while (r < s.candidates.size() && s.candidates[r].second <= p.first_row) ++r;
        if (r < s.candidates.size() && s.candidates[r].first < p.first_row + p.num_values) {
          f.cost += static_cast<uint64_t>(p.uncompressed) / (p.IsDict() ? 2 : 1);
        }
      }
    }
    std::stable_sort(s.filters.begin(), s.filters.end(),
                     [](const ColumnFilter& a, const ColumnFilter& b) { return a.cost < b.cost; });
    if (s.filters.empty()) {
      s.sel.resize(total);
      uint32_t* dst = s.sel.data();
      for (const auto& [b, e] : s.candidates) {
        for (int64_t r = b; r < e; ++r) *dst++ = static_cast<uint32_t>(r);
      }
    }
  }

  // Filters, one column after the other: the first on the candidate ranges, the others on
  // the rows still selected.
  for (size_t fi = 0; fi < s.filters.size(); ++fi) {
    const ColumnFilter& f = s.filters[fi];
    const bool first = fi == 0;
    if (first ? total == 0 : s.sel.empty()) {
      s.sel.clear();
      break;
    }
    ScanChunk& ch = s.chunks[f.chunk];
    const ScanContext cx = context(f.leaf);
    bool dict_masked = false;
    bool dict_any = false;
    s.next.clear();
    auto on_page = [&](size_t pi, const uint32_t* rel, size_t m) -> Status {
      const ScanPage& p = ch.pages[pi];
      const std::string at = cx.where + ": page at offset " + std::to_string(p.body_offset);
      const auto base = static_cast<uint32_t>(p.first_row);
      if (p.IsDict()) {
        if (!dict_masked) {
          WEFT_RETURN_IF_ERROR(EnsureDict(cx, &ch));
          const size_t n = ch.dict_values.size();
          uint8_t* mask = Room(&s.mask, n);
          for (size_t i = 0; i < n; ++i) {
            mask[i] = f.Test(ch.dict_values, i);
            dict_any = dict_any || mask[i];
          }
          dict_masked = true;
        }
        if (!dict_any) return Status::Ok();  // no entry matches: the page is not read
      }
      PageData pd;
      WEFT_RETURN_IF_ERROR(PreparePage(cx, &ch, p, at, &pd));
      const bool need_keep = !pd.all_valid;
      // Rows kept by validity: rel[j] for j with a valid value (in order).
      size_t k = m;
      const uint32_t* rows_valid = rel;
      const uint32_t* dense = rel;  // all valid: the dense positions are the rows
      if (need_keep) {
        uint32_t* dn = Room(&s.dense, m);
        dense = dn;
        uint8_t* keep = reinterpret_cast<uint8_t*>(Room(&s.lv32, m));
        k = DensePositions(pd, rel, m, dn, keep);
        // Compact rel to the valid rows (in s.idx).
        uint32_t* rv = Room(&s.idx, m);
        size_t t = 0;
        for (size_t j = 0; j < m; ++j) {
          if (keep[j]) rv[t++] = rel[j];
        }
        rows_valid = rv;
      }
      if (k == 0) return Status::Ok();
      if (p.IsDict()) {
        std::vector<uint32_t>& idxv = need_keep ? s.rel : s.idx;
        // rel (s.rel) is no longer needed once rows_valid is built when need_keep; when
        // all rows are valid, rows_valid is rel and s.idx is free.
        uint32_t* idx = Room(&idxv, k);
        if (!need_keep) rows_valid = rel;
        WEFT_RETURN_IF_ERROR(PickIndices(cx, pd, dense, k, ch.dict_values.size(), idx, at));
        const uint8_t* mask = s.mask.data();
        for (size_t j = 0; j < k; ++j) {
          if (mask[idx[j]]) s.next.push_back(base + rows_valid[j]);
        }
        return Status::Ok();
      }
      ValueBuffer& picked = s.picked;
      picked.type = cx.leaf->type;
      picked.type_length = cx.leaf->type_length;
      picked.Clear();
      WEFT_RETURN_IF_ERROR(PickValues(cx, p, pd, dense, k, &picked, at));
      for (size_t j = 0; j < k; ++j) {
        if (f.Test(picked, j)) s.next.push_back(base + rows_valid[j]);
      }
      return Status::Ok();
    };
    Status st = first ? ForEachPageOfRanges(ch, s.candidates, &s.rel, on_page)
                      : ForEachPageOfRows(ch, s.sel.data(), s.sel.size(), &s.rel, on_page);
    if (!st.ok()) return st;
    s.sel.swap(s.next);
  }

  // Output columns: decoded only where rows are selected.
  out->num_rows = static_cast<int64_t>(s.sel.size());
  out->columns.resize(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const int leaf = leaves[i];
    const LeafColumn& lc = schema_.leaves()[static_cast<size_t>(leaf)];
    FlatColumn& col = out->columns[i];
    col.name = lc.path;
    col.leaf = leaf;
    col.values.type = lc.type;
    col.values.type_length = lc.type_length;
    col.values.Clear();
    col.validity.clear();
    if (s.sel.empty()) continue;
    const size_t c = chunk_of(leaf);
    WEFT_RETURN_IF_ERROR(load(c));
    ScanChunk& ch = s.chunks[c];
    const ScanContext cx = context(leaf);
    bool any_null = false;
    if (lc.max_definition_level > 0) col.validity.reserve(s.sel.size());
    Status st = ForEachPageOfRows(
        ch, s.sel.data(), s.sel.size(), &s.rel,
        [&](size_t pi, const uint32_t* rel, size_t m) -> Status {
          const ScanPage& p = ch.pages[pi];
          const std::string at = cx.where + ": page at offset " + std::to_string(p.body_offset);
          if (p.IsDict()) WEFT_RETURN_IF_ERROR(EnsureDict(cx, &ch));
          PageData pd;
          WEFT_RETURN_IF_ERROR(PreparePage(cx, &ch, p, at, &pd));
          uint32_t* dense = Room(&s.dense, m);
          size_t k;
          if (lc.max_definition_level > 0) {
            const size_t old = col.validity.size();
            col.validity.resize(old + m);
            k = DensePositions(pd, rel, m, dense, col.validity.data() + old);
            any_null = any_null || k < m;
          } else {
            k = DensePositions(pd, rel, m, dense, nullptr);
          }
          if (p.IsDict()) {
            uint32_t* idx = Room(&s.idx, k);
            WEFT_RETURN_IF_ERROR(PickIndices(cx, pd, dense, k, ch.dict_values.size(), idx, at));
            const ValueBuffer& d = ch.dict_values;
            auto gather = [&](auto& dst, const auto& src) {
              const size_t old = dst.size();
              dst.resize(old + k);
              for (size_t j = 0; j < k; ++j) dst[old + j] = src[idx[j]];
            };
            switch (lc.type) {
              case Type::kBoolean: gather(col.values.bools, d.bools); break;
              case Type::kInt32: gather(col.values.int32s, d.int32s); break;
              case Type::kInt64: gather(col.values.int64s, d.int64s); break;
              case Type::kInt96: gather(col.values.int96s, d.int96s); break;
              case Type::kFloat: gather(col.values.floats, d.floats); break;
              case Type::kDouble: gather(col.values.doubles, d.doubles); break;
              default:
                for (size_t j = 0; j < k; ++j) col.values.AppendFrom(d, idx[j], size_t{idx[j]} + 1);
                break;
            }
            return Status::Ok();
          }
          return PickValues(cx, p, pd, dense, k, &col.values, at);
        });
    if (!st.ok()) return st;
    if (any_null) {
      SpreadValues(&col.values, col.validity);
    } else {
      col.validity.clear();
    }
  }
  if (selected_rows != nullptr) selected_rows->assign(s.sel.begin(), s.sel.end());
  return Status::Ok();
}

Result<std::vector<Value>> ReadAllRows(ParquetReader& reader) {
  std::vector<Value> all;
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    WEFT_ASSIGN_OR_RETURN(std::vector<Value> rows, reader.ReadRows(g));
    for (Value& v : rows) all.push_back(std::move(v));
  }
  return all;
}

}  // namespace weft::lake::parquet

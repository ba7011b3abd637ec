// ParquetReader::ScanFlat against ReadFlat + filtering row by row: files built here with the
// format layer (nulls, many pages, dictionary falling back to PLAIN mid-chunk, data page v2,
// page statistics, all-null columns) and the parquet-testing conformance files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lake/parquet/codec.h"
#include "lake/parquet/reader.h"
#include "lake/parquet/rle.h"

namespace weft::lake::parquet {
namespace {

// ---- reference: ReadFlat, then the documented comparison row by row ----

bool IsUnsignedColumn(const SchemaElement& e) {
  if (e.logical_type && e.logical_type->kind == LogicalType::Kind::kInteger) {
    return !e.logical_type->is_signed;
  }
  return e.converted_type == ConvertedType::kUint8 || e.converted_type == ConvertedType::kUint16 ||
         e.converted_type == ConvertedType::kUint32 || e.converted_type == ConvertedType::kUint64;
}

template <typename A, typename B>
bool Cmp(CompareOp op, A a, B b) {
  switch (op) {
    case CompareOp::kEq: return a == b;
    case CompareOp::kLt: return a < b;
    case CompareOp::kLe: return a <= b;
    case CompareOp::kGt: return a > b;
    case CompareOp::kGe: return a >= b;
  }
  return false;
}

bool Matches(const LeafColumn& leaf, const FlatColumn& c, size_t r, const Predicate& p) {
  if (!c.IsValid(r) || p.constant.is_null()) return false;
  const Value& k = p.constant;
  const bool int_const = k.kind == Value::Kind::kInt32 || k.kind == Value::Kind::kInt64 ||
                         k.kind == Value::Kind::kBool;
  const int64_t ki = k.kind == Value::Kind::kBool ? int64_t{k.bool_value} : k.int_value;
  auto int_col = [&](int64_t v) {
    if (int_const) return Cmp(p.op, v, ki);
    if (std::isnan(k.double_value)) return false;
    return Cmp(p.op, static_cast<long double>(v), static_cast<long double>(k.double_value));
  };
  auto dbl_col = [&](double v) {
    return Cmp(p.op, v, int_const ? static_cast<double>(ki) : k.double_value);
  };
  const ValueBuffer& b = c.values;
  switch (b.type) {
    case Type::kBoolean: return int_col(b.bools[r]);
    case Type::kInt32:
      return int_col(IsUnsignedColumn(*leaf.element) ? int64_t{static_cast<uint32_t>(b.int32s[r])}
                                                     : b.int32s[r]);
    case Type::kInt64: return int_col(b.int64s[r]);
    case Type::kInt96: return int_col(b.int96s[r].ToUnixMicros());
    case Type::kFloat: return dbl_col(b.floats[r]);
    case Type::kDouble: return dbl_col(b.doubles[r]);
    default: return Cmp(p.op, b.Binary(r), std::string_view(k.bytes));
  }
}

std::string Cell(const FlatColumn& c, size_t r) {
  if (!c.IsValid(r)) return "null";
  const ValueBuffer& b = c.values;
  switch (b.type) {
    case Type::kBoolean: return std::to_string(b.bools[r]);
    case Type::kInt32: return std::to_string(b.int32s[r]);
    case Type::kInt64: return std::to_string(b.int64s[r]);
    case Type::kInt96: return std::to_string(b.int96s[r].ToUnixMicros());
    case Type::kFloat: {
      uint32_t bits;
      std::memcpy(&bits, &b.floats[r], 4);
      return "f" + std::to_string(bits);
    }
    case Type::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &b.doubles[r], 8);
      return "d" + std::to_string(bits);
    }
    default: return "'" + std::string(b.Binary(r)) + "'";
  }
}

// Compares ScanFlat with ReadFlat + filtering on every row group; returns the rows matched.
int64_t CheckScan(ParquetReader& reader, const std::vector<std::string>& columns,
                  const std::vector<Predicate>& filters, ScanScratch* scratch,
                  const std::string& what) {
  int64_t matched = 0;
  FlatBatch got;
  std::vector<uint32_t> rows;
  std::vector<std::string> all = columns;
  for (const Predicate& p : filters) all.push_back(p.column);
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    Result<FlatBatch> full = reader.ReadFlat(g, all);
    EXPECT_TRUE(full.ok()) << what << ": " << full.status().ToString();
    if (!full.ok()) return -1;
    Status st = reader.ScanFlat(g, columns, filters, &got, scratch, &rows);
    EXPECT_TRUE(st.ok()) << what << ": " << st.ToString();
    if (!st.ok()) return -1;
    std::vector<uint32_t> want;
    for (size_t r = 0; r < static_cast<size_t>(full->num_rows); ++r) {
      bool ok = true;
      for (size_t f = 0; f < filters.size() && ok; ++f) {
        const FlatColumn& c = full->columns[columns.size() + f];
        ok = Matches(reader.schema().leaves()[static_cast<size_t>(c.leaf)], c, r, filters[f]);
      }
      if (ok) want.push_back(static_cast<uint32_t>(r));
    }
    EXPECT_EQ(rows, want) << what << ", row group " << g;
    EXPECT_EQ(got.num_rows, static_cast<int64_t>(want.size())) << what;
    const size_t ncols = columns.empty() ? reader.schema().leaves().size() : columns.size();
    EXPECT_EQ(got.columns.size(), ncols) << what;
    if (rows != want || got.columns.size() != ncols) return -1;
    Result<FlatBatch> proj = reader.ReadFlat(g, columns);
    EXPECT_TRUE(proj.ok());
    if (!proj.ok()) return -1;
    for (size_t c = 0; c < ncols; ++c) {
      const FlatColumn& gc = got.columns[c];
      EXPECT_EQ(gc.name, proj->columns[c].name);
      EXPECT_EQ(gc.values.size(), want.size()) << what << ": column " << gc.name;
      if (gc.values.size() != want.size()) return -1;
      EXPECT_TRUE(gc.validity.empty() || gc.validity.size() == want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const std::string a = Cell(gc, i), b = Cell(proj->columns[c], want[i]);
        EXPECT_EQ(a, b) << what << ": column " << gc.name << ", row " << want[i];
        if (a != b) return -1;
      }
    }
    matched += got.num_rows;
  }
  return matched;
}

// ---- files built with the format layer ----

struct Datum {
  int64_t i = 0;
  double d = 0;
  std::string s;
};

struct ColSpec {
  std::string name;
  Type type = Type::kInt64;
  bool optional = false;
  std::vector<std::optional<Datum>> rows;
  size_t page_rows = 100;
  int dict_pages = 0;   // leading pages dictionary-encoded (-1: all)
  bool v2_odd = false;  // odd pages as data page v2
  bool stats = true;
  Codec codec = Codec::kZstd;
};

std::string PlainOf(Type t, const Datum& v) {
  std::string out;
  switch (t) {
    case Type::kBoolean: out.push_back(static_cast<char>(v.i != 0)); break;  // packed later
    case Type::kInt32: {
      const auto x = static_cast<int32_t>(v.i);
      out.append(reinterpret_cast<const char*>(&x), 4);
      break;
    }
    case Type::kInt64: out.append(reinterpret_cast<const char*>(&v.i), 8); break;
    case Type::kDouble: out.append(reinterpret_cast<const char*>(&v.d), 8); break;
    case Type::kByteArray: {
      const auto len = static_cast<uint32_t>(v.s.size());
      out.append(reinterpret_cast<const char*>(&len), 4);
      out += v.s;
      break;
    }
    default: break;
  }
  return out;
}

std::string EncodePlain(Type t, const std::vector<Datum>& vals) {
  std::string out;
  if (t == Type::kBoolean) {
    out.assign((vals.size() + 7) / 8, '\0');
    for (size_t i = 0; i < vals.size(); ++i) {
      if (vals[i].i != 0) out[i / 8] = static_cast<char>(out[i / 8] | (1 << (i % 8)));
    }
    return out;
  }
  for (const Datum& v : vals) out += PlainOf(t, v);
  return out;
}

std::string BoundOf(Type t, const Datum& v) {
  if (t == Type::kByteArray) return v.s;
  if (t == Type::kBoolean) return std::string(1, static_cast<char>(v.i != 0));
  return PlainOf(t, v);
}

bool Less(Type t, const Datum& a, const Datum& b) {
  if (t == Type::kDouble) return a.d < b.d;
  if (t == Type::kByteArray) return a.s < b.s;
  return a.i < b.i;
}

void AppendPage(PageHeader h, const std::string& body, std::string* file) {
  h.compressed_page_size = static_cast<int32_t>(body.size());
  EncodePageHeader(h, file);
  *file += body;
}

std::string Compressed(Codec c, const std::string& s) {
  return c == Codec::kUncompressed ? s : *Compress(c, s);
}

ColumnChunk WriteChunk(const ColSpec& spec, size_t begin, size_t end, std::string* file) {
  ColumnMetaData m;
  m.type = spec.type;
  m.path_in_schema = {spec.name};
  m.codec = spec.codec;
  m.num_values = static_cast<int64_t>(end - begin);
  const size_t start = file->size();
  std::vector<Datum> dict;
  std::map<std::string, uint32_t> dict_index;
  const size_t npages = (end - begin + spec.page_rows - 1) / spec.page_rows;
  auto key = [&](const Datum& v) { return BoundOf(spec.type, v); };
  const size_t dict_pages =
      spec.dict_pages < 0 ? npages : std::min(npages, static_cast<size_t>(spec.dict_pages));
  for (size_t r = begin; r < std::min(end, begin + dict_pages * spec.page_rows); ++r) {
    if (spec.rows[r] && dict_index.emplace(key(*spec.rows[r]), dict.size()).second) {
      dict.push_back(*spec.rows[r]);
    }
  }
  if (dict_pages > 0) {
    m.dictionary_page_offset = static_cast<int64_t>(start);
    const std::string body = EncodePlain(spec.type, dict);
    PageHeader h;
    h.type = PageType::kDictionaryPage;
    h.uncompressed_page_size = static_cast<int32_t>(body.size());
    h.dictionary_page_header =
        DictionaryPageHeader{static_cast<int32_t>(dict.size()), Encoding::kPlain, std::nullopt};
    AppendPage(h, Compressed(spec.codec, body), file);
  }
  m.data_page_offset = static_cast<int64_t>(file->size());
  for (size_t pg = 0; pg < npages; ++pg) {
    const size_t b = begin + pg * spec.page_rows;
    const size_t e = std::min(end, b + spec.page_rows);
    std::vector<uint32_t> defs;
    std::vector<Datum> vals;
    Statistics st;
    std::optional<Datum> lo, hi;
    for (size_t r = b; r < e; ++r) {
      defs.push_back(spec.rows[r] ? 1 : 0);
      if (!spec.rows[r]) continue;
      vals.push_back(*spec.rows[r]);
      if (!lo || Less(spec.type, *spec.rows[r], *lo)) lo = spec.rows[r];
      if (!hi || Less(spec.type, *hi, *spec.rows[r])) hi = spec.rows[r];
    }
    st.null_count = static_cast<int64_t>(e - b - vals.size());
    if (lo) {
      st.min_value = BoundOf(spec.type, *lo);
      st.max_value = BoundOf(spec.type, *hi);
    }
    const bool use_dict = pg < dict_pages;
    std::string values;
    if (use_dict) {
      const int width = std::max(1, BitWidth(dict.size() > 0 ? dict.size() - 1 : 0));
      std::vector<uint32_t> idx;
      for (const Datum& v : vals) idx.push_back(dict_index.at(key(v)));
      values.push_back(static_cast<char>(width));
      values += RleEncode(idx.data(), idx.size(), width);
    } else {
      values = EncodePlain(spec.type, vals);
    }
    const Encoding enc = use_dict ? Encoding::kRleDictionary : Encoding::kPlain;
    const auto n = static_cast<int32_t>(e - b);
    PageHeader h;
    if (spec.v2_odd && pg % 2 == 1) {
      const std::string levels = spec.optional ? RleEncode(defs.data(), defs.size(), 1) : "";
      h.type = PageType::kDataPageV2;
      h.uncompressed_page_size = static_cast<int32_t>(levels.size() + values.size());
      h.data_page_header_v2 = DataPageHeaderV2{};
      auto& v2 = *h.data_page_header_v2;
      v2.num_values = n;
      v2.num_rows = n;
      v2.num_nulls = static_cast<int32_t>(e - b - vals.size());
      v2.encoding = enc;
      v2.definition_levels_byte_length = static_cast<int32_t>(levels.size());
      if (spec.stats) v2.statistics = st;
      AppendPage(h, levels + Compressed(spec.codec, values), file);
    } else {
      std::string body = spec.optional ? RleEncodeWithLength(defs.data(), defs.size(), 1) : "";
      body += values;
      h.type = PageType::kDataPage;
      h.uncompressed_page_size = static_cast<int32_t>(body.size());
      h.data_page_header = DataPageHeader{};
      h.data_page_header->num_values = n;
      h.data_page_header->encoding = enc;
      if (spec.stats) h.data_page_header->statistics = st;
      AppendPage(h, Compressed(spec.codec, body), file);
    }
  }
  m.total_compressed_size = static_cast<int64_t>(file->size() - start);
  m.total_uncompressed_size = m.total_compressed_size;
  ColumnChunk cc;
  cc.meta_data = m;
  return cc;
}

std::string BuildFile(const std::vector<ColSpec>& cols, size_t rows_per_group) {
  std::string file = "PAR1";
  FileMetaData md;
  md.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(cols.size());
  md.schema.push_back(root);
  for (const ColSpec& c : cols) {
    SchemaElement e;
    e.name = c.name;
    e.type = c.type;
    e.repetition_type = c.optional ? Repetition::kOptional : Repetition::kRequired;
    if (c.type == Type::kByteArray) e.converted_type = ConvertedType::kUtf8;
    md.schema.push_back(e);
    md.column_orders.push_back(true);
  }
  const size_t n = cols[0].rows.size();
  for (size_t b = 0; b < n; b += rows_per_group) {
    const size_t e = std::min(n, b + rows_per_group);
    RowGroup rg;
    rg.num_rows = static_cast<int64_t>(e - b);
    for (const ColSpec& c : cols) rg.columns.push_back(WriteChunk(c, b, e, &file));
    md.row_groups.push_back(rg);
  }
  md.num_rows = static_cast<int64_t>(n);
  const std::string footer = EncodeFileMetaData(md);
  file += footer;
  const auto len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  return file;
}

std::unique_ptr<ParquetReader> OpenBytes(std::string bytes) {
  auto r = ParquetReader::Open(std::make_unique<MemorySource>(std::move(bytes), "scan.parquet"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<ColSpec> TestColumns(size_t n) {
  std::mt19937 rng(7);
  ColSpec ts{"ts", Type::kInt64, false, {}, 97, 3, true};
  ColSpec asset{"asset", Type::kByteArray, true, {}, 130, -1, true};
  ColSpec value{"value", Type::kDouble, true, {}, 64, 0, false, false, Codec::kSnappy};
  ColSpec q{"q", Type::kInt32, true, {}, 200, 2, true, true, Codec::kUncompressed};
  ColSpec flag{"flag", Type::kBoolean, false, {}, 150};
  ColSpec none{"none", Type::kInt64, true, {}, 120, 1, true};
  ColSpec name{"name", Type::kByteArray, true, {}, 90, 4, false};
  for (size_t i = 0; i < n; ++i) {
    ts.rows.push_back(Datum{static_cast<int64_t>(1000 + i / 3), 0, ""});
    asset.rows.push_back(i % 17 == 5
                             ? std::nullopt
                             : std::optional<Datum>(Datum{0, 0, "a-" + std::to_string(i % 7)}));
    const bool vnull = (i / 50) % 5 == 2 || rng() % 11 == 0;  // runs of nulls and scattered ones
    value.rows.push_back(
        vnull ? std::nullopt
              : std::optional<Datum>(Datum{0, std::sin(static_cast<double>(i)) * 10, ""}));
    q.rows.push_back(
        i % 9 == 0 ? std::nullopt
                   : std::optional<Datum>(Datum{static_cast<int64_t>(rng() % 40) - 20, 0, ""}));
    flag.rows.push_back(Datum{static_cast<int64_t>(i % 3 == 0), 0, ""});
    none.rows.push_back(std::nullopt);
    name.rows.push_back(i % 4 == 1 ? std::nullopt
                                   : std::optional<Datum>(Datum{
                                         0, 0, "n" + std::to_string(rng() % (i < 400 ? 5 : 300))}));
  }
  return {ts, asset, value, q, flag, none, name};
}

TEST(ScanFlatTest, MatchesReadFlatPlusFiltering) {
  auto r = OpenBytes(BuildFile(TestColumns(2600), 1100));
  ASSERT_NE(r, nullptr);
  ScanScratch scratch;
  const std::vector<std::string> cols = {"ts", "asset", "value", "q", "flag", "none", "name"};
  const CompareOp ops[] = {CompareOp::kEq, CompareOp::kLt, CompareOp::kLe, CompareOp::kGt,
                           CompareOp::kGe};
  const std::vector<std::pair<std::string, std::vector<Value>>> consts = {
      {"ts",
       {Value::Int64(1000), Value::Int64(1200), Value::Int64(1866), Value::Int64(5000),
        Value::Double(1300.5), Value::Int64(999), Value::Null()}},
      {"asset",
       {Value::String("a-3"), Value::String("a-0"), Value::String("a-6"), Value::String("b"),
        Value::String("")}},
      {"value",
       {Value::Double(0), Value::Double(5.5), Value::Int64(-3), Value::Double(NAN),
        Value::Double(-11)}},
      {"q", {Value::Int64(0), Value::Int32(-20), Value::Int64(19), Value::Double(2.5)}},
      {"flag", {Value::Bool(true), Value::Int64(0)}},
      {"none", {Value::Int64(0)}},
      {"name", {Value::String("n3"), Value::String("n150"), Value::String("n")}},
  };
  int64_t total = 0;
  int empty = 0;
  for (const auto& [col, cs] : consts) {
    for (const Value& c : cs) {
      for (CompareOp op : ops) {
        const std::string what =
            col + " op " + std::to_string(static_cast<int>(op)) + " " + c.ToString();
        const int64_t m = CheckScan(*r, cols, {{col, op, c}}, &scratch, what);
        ASSERT_GE(m, 0) << what;
        total += m;
        empty += m == 0;
      }
    }
  }
  EXPECT_GT(total, 0);
  EXPECT_GT(empty, 0);
  // Conjunctions, a projection that leaves out the filter columns, and all columns.
  const std::vector<std::vector<Predicate>> combos = {
      {{"asset", CompareOp::kEq, Value::String("a-3")},
       {"ts", CompareOp::kGe, Value::Int64(1200)},
       {"ts", CompareOp::kLt, Value::Int64(1500)}},
      {{"ts", CompareOp::kGe, Value::Int64(1500)}, {"ts", CompareOp::kLt, Value::Int64(1200)}},
      {{"value", CompareOp::kGt, Value::Double(1)},
       {"q", CompareOp::kLe, Value::Int64(3)},
       {"name", CompareOp::kGe, Value::String("n2")}},
      {{"flag", CompareOp::kEq, Value::Bool(true)}, {"none", CompareOp::kLt, Value::Int64(9)}},
      {{"ts", CompareOp::kEq, Value::Int64(1700)}, {"asset", CompareOp::kLt, Value::String("a-5")}},
      {},
  };
  for (size_t i = 0; i < combos.size(); ++i) {
    ASSERT_GE(CheckScan(*r, {"value", "name"}, combos[i], &scratch, "combo " + std::to_string(i)),
              0);
    ASSERT_GE(CheckScan(*r, {}, combos[i], &scratch, "combo all " + std::to_string(i)), 0);
  }
  EXPECT_EQ(CheckScan(*r, {"value"}, {}, nullptr, "no filter"), 2600);
}

TEST(ScanFlatTest, ErrorsAndOutput) {
  auto r = OpenBytes(BuildFile(TestColumns(300), 300));
  ASSERT_NE(r, nullptr);
  FlatBatch b;
  ScanScratch s;
  EXPECT_EQ(r->ScanFlat(0, {"value"}, {{"ts", CompareOp::kEq, Value::String("x")}}, &b, &s).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r->ScanFlat(0, {"value"}, {{"nope", CompareOp::kEq, Value::Int64(1)}}, &b, &s).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r->ScanFlat(0, {"nope"}, {}, &b, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->ScanFlat(3, {"value"}, {}, &b, &s).code(), StatusCode::kInvalidArgument);
  // An empty selection still names and types the columns.
  ASSERT_TRUE(
      r->ScanFlat(0, {"asset", "ts"}, {{"ts", CompareOp::kLt, Value::Int64(0)}}, &b, &s).ok());
  EXPECT_EQ(b.num_rows, 0);
  ASSERT_EQ(b.columns.size(), 2u);
  EXPECT_EQ(b.columns[0].name, "asset");
  EXPECT_EQ(b.columns[1].values.type, Type::kInt64);
  EXPECT_EQ(b.columns[1].values.size(), 0u);
}

TEST(ScanFlatTest, ChecksumsAndLargeChunks) {
  // Chunks above the whole-chunk threshold read page by page.
  std::vector<ColSpec> cols = TestColumns(60000);
  cols[2].page_rows = 5000;  // value: plain doubles, uncompressed -> > 1 MiB chunk
  cols[2].codec = Codec::kUncompressed;
  cols.resize(3);
  auto r = OpenBytes(BuildFile(cols, 60000));
  ASSERT_NE(r, nullptr);
  ScanScratch s;
  ASSERT_GT(CheckScan(*r, {"value", "asset"},
                      {{"ts", CompareOp::kGe, Value::Int64(10000)},
                       {"ts", CompareOp::kLt, Value::Int64(12000)},
                       {"asset", CompareOp::kEq, Value::String("a-2")}},
                      &s, "large"),
            0);
  ASSERT_GT(CheckScan(*r, {"ts"}, {{"value", CompareOp::kGt, Value::Double(9.9)}}, &s, "large v"),
            0);
}

TEST(ScanFlatTest, PrunedPagesAreNotRead) {
  std::vector<ColSpec> cols = TestColumns(1000);
  cols.resize(3);  // ts (sorted, page statistics), asset (dictionary), value (plain)
  cols[2].page_rows = 100;
  std::string bytes = BuildFile(cols, 1000);
  // Corrupt the first value page's compressed body: reading it fails.
  {
    auto r = OpenBytes(bytes);
    ASSERT_NE(r, nullptr);
    const ColumnMetaData& m = *r->metadata().row_groups[0].columns[2].meta_data;
    size_t header_len = 0;
    const auto at = static_cast<size_t>(m.data_page_offset);
    ASSERT_TRUE(DecodePageHeader(std::string_view(bytes).substr(at), &header_len).ok());
    for (size_t i = 0; i < 16; ++i) bytes[at + header_len + 4 + i] = '\x55';
  }
  auto r = OpenBytes(bytes);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->ReadFlat(0, {"value"}).ok());
  FlatBatch b;
  ScanScratch s;
  std::vector<uint32_t> rows;
  // ts = 1000 + row / 3: rows 0..99 (the corrupt page) have ts < 1034.
  ASSERT_TRUE(
      r->ScanFlat(0, {"value"}, {{"ts", CompareOp::kGe, Value::Int64(1100)}}, &b, &s, &rows).ok());
  EXPECT_EQ(b.num_rows, 1000 - 300);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], 300u);
  // No dictionary entry matches: no asset data page is read, and value is not read at all.
  ASSERT_TRUE(
      r->ScanFlat(0, {"value"}, {{"asset", CompareOp::kEq, Value::String("zz")}}, &b, &s).ok());
  EXPECT_EQ(b.num_rows, 0);
  // The corrupt page is reported when it holds selected rows.
  Status st = r->ScanFlat(0, {"value"}, {{"ts", CompareOp::kLt, Value::Int64(1010)}}, &b, &s);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

// ---- conformance files: filtered on a column, the same rows as reading + filtering ----

TEST(ScanFlatTest, ConformanceFiles) {
  const std::filesystem::path dir = std::filesystem::path(WEFT_PARQUET_TESTING_DIR) / "data";
  ASSERT_TRUE(std::filesystem::exists(dir));
  int files = 0, scans = 0;
  ScanScratch scratch;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".parquet") continue;
    auto src = LocalFileSource::Open(entry.path().string());
    if (!src.ok()) continue;
    auto opened = ParquetReader::Open(std::move(src).value());
    if (!opened.ok()) continue;
    ParquetReader& r = **opened;
    if (r.num_row_groups() == 0) continue;
    // Flat files only, readable by ReadFlat.
    bool flat = true;
    for (const LeafColumn& l : r.schema().leaves()) {
      flat = flat && l.max_repetition_level == 0 &&
             r.schema().nodes()[static_cast<size_t>(l.node)].parent == 0;
    }
    if (!flat) continue;
    Result<FlatBatch> first = r.ReadFlat(0);
    if (!first.ok()) continue;
    ++files;
    const std::string file = entry.path().filename().string();
    for (const FlatColumn& c : first->columns) {
      const LeafColumn& leaf = r.schema().leaves()[static_cast<size_t>(c.leaf)];
      if (leaf.type == Type::kInt64 && IsUnsignedColumn(*leaf.element)) continue;
      // A constant from the data: the first valid value past the middle.
      std::optional<Value> k;
      for (size_t i = static_cast<size_t>(first->num_rows) / 2;
           i < static_cast<size_t>(first->num_rows) && !k; ++i) {
        if (!c.IsValid(i)) continue;
        const ValueBuffer& b = c.values;
        switch (b.type) {
          case Type::kBoolean: k = Value::Bool(b.bools[i] != 0); break;
          case Type::kInt32:
            k = Value::Int64(IsUnsignedColumn(*leaf.element)
                                 ? int64_t{static_cast<uint32_t>(b.int32s[i])}
                                 : b.int32s[i]);
            break;
          case Type::kInt64: k = Value::Int64(b.int64s[i]); break;
          case Type::kInt96: k = Value::Int64(b.int96s[i].ToUnixMicros()); break;
          case Type::kFloat: k = Value::Double(b.floats[i]); break;
          case Type::kDouble: k = Value::Double(b.doubles[i]); break;
          default: k = Value::Binary(std::string(b.Binary(i))); break;
        }
      }
      if (!k) continue;
      for (CompareOp op : {CompareOp::kEq, CompareOp::kLt, CompareOp::kGe}) {
        const std::string what = file + ": " + c.name + " op " +
                                 std::to_string(static_cast<int>(op)) + " " + k->ToString();
        ASSERT_GE(CheckScan(r, {}, {{c.name, op, *k}}, &scratch, what), 0) << what;
        ++scans;
      }
    }
  }
  EXPECT_GT(files, 10);
  EXPECT_GT(scans, 100);
}

}  // namespace
}  // namespace weft::lake::parquet

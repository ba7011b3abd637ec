#include "lake/parquet/writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "lake/parquet/codec.h"
#include "lake/parquet/metadata.h"
#include "lake/parquet/reader.h"
#include "lake/parquet/rle.h"
#include "lake/parquet/source.h"

namespace weft::lake::parquet {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers: write, read back the footer and the pages, run the interop checker.

FileMetaData Footer(const std::string& file) {
  EXPECT_GE(file.size(), 12U);
  EXPECT_EQ(file.substr(0, 4), "PAR1");
  EXPECT_EQ(file.substr(file.size() - 4), "PAR1");
  uint32_t length = 0;
  std::memcpy(&length, file.data() + file.size() - 8, 4);
  Result<FileMetaData> md =
      DecodeFileMetaData(std::string_view(file).substr(file.size() - 8 - length, length));
  EXPECT_TRUE(md.ok()) << md.status().ToString();
  return md.ok() ? *md : FileMetaData{};
}

struct Page {
  PageHeader header;
  std::string body;  //!< decompressed
};

//! All pages of column `column` of row group `rg`, decompressed.
std::vector<Page> Pages(const std::string& file, const FileMetaData& md, size_t rg, size_t column) {
  const ColumnMetaData& cm = *md.row_groups[rg].columns[column].meta_data;
  auto pos = static_cast<size_t>(cm.dictionary_page_offset.value_or(cm.data_page_offset));
  const size_t end = pos + static_cast<size_t>(cm.total_compressed_size);
  std::vector<Page> pages;
  while (pos < end) {
    size_t consumed = 0;
    Result<PageHeader> h = DecodePageHeader(std::string_view(file).substr(pos), &consumed);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) break;
    pos += consumed;
    Result<std::string> body = Decompress(
        cm.codec, std::string_view(file).substr(pos, static_cast<size_t>(h->compressed_page_size)),
        static_cast<size_t>(h->uncompressed_page_size));
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    pages.push_back({*h, body.value_or("")});
    pos += static_cast<size_t>(h->compressed_page_size);
  }
  EXPECT_EQ(pos, end);
  return pages;
}

//! Decodes the v1 levels at the start of `body` (4-byte length + RLE hybrid).
std::vector<uint32_t> Levels(std::string_view* body, size_t n, int16_t max_level) {
  uint32_t length = 0;
  std::memcpy(&length, body->data(), 4);
  RleBitPackedDecoder d(body->substr(4, length), BitWidth(static_cast<uint64_t>(max_level)));
  std::vector<uint32_t> out(n);
  EXPECT_TRUE(d.Decode(out.data(), n).ok());
  body->remove_prefix(4 + length);
  return out;
}

template <typename T>
std::string Bytes(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonDouble(double d) {
  if (std::isnan(d)) return "\"NaN\"";
  if (std::isinf(d)) return d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

//! The canonical JSON (see parquet_check.mjs) of a Value of field `f`.
std::string Json(const Field& f, const Value& v) {
  if (v.is_null()) return "null";
  switch (f.kind) {
    case Field::Kind::kPrimitive:
      switch (f.type) {
        case ColumnType::kBoolean: return v.bool_value ? "true" : "false";
        case ColumnType::kInt32:
        case ColumnType::kDate: return std::to_string(v.int_value);
        case ColumnType::kInt64:
        case ColumnType::kTimestampMicros: return "\"" + std::to_string(v.int_value) + "\"";
        case ColumnType::kFloat:
          return JsonDouble(static_cast<double>(static_cast<float>(v.double_value)));
        case ColumnType::kDouble: return JsonDouble(v.double_value);
        case ColumnType::kString:
        case ColumnType::kBinary: return JsonString(v.bytes);
      }
      return "?";
    case Field::Kind::kStruct: {
      std::string out = "{";
      for (size_t i = 0; i < f.children.size(); ++i) {
        if (i > 0) out += ",";
        out += JsonString(f.children[i].name) + ":" + Json(f.children[i], v.items[i]);
      }
      return out + "}";
    }
    case Field::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out += ",";
        out += Json(f.children[0], v.items[i]);
      }
      return out + "]";
    }
    case Field::Kind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out += ",";
        out +=
            JsonString(v.items[i].items[0].bytes) + ":" + Json(f.children[1], v.items[i].items[1]);
      }
      return out + "}";
    }
  }
  return "?";
}

std::string JsonRow(const WriterSchema& schema, const Value& row) {
  std::string out = "{";
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(schema.fields[i].name) + ":" + Json(schema.fields[i], row.items[i]);
  }
  return out + "}";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "weft_pqwriter_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) == nullptr ? "" : tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool NodeAvailable() {
  return std::system("command -v node >/dev/null 2>&1") == 0;
}

//! Runs `node parquet_check.mjs ARGS`; returns its exit code, and its output in *output.
int RunParquetCheck(const std::string& args, std::string* output) {
  const std::string cmd =
      std::string("cd '") + WEFT_INTEROP_DIR + "' && node parquet_check.mjs " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

//! Writes `rows` with `schema` (through WriteRows) to a file, and checks DuckDB and hyparquet
//! both read exactly these rows.
void ExpectReadersAgree(const std::string& file, const WriterSchema& schema,
                        const std::vector<Value>& rows) {
  std::string expected;
  for (const Value& row : rows) expected += JsonRow(schema, row) + "\n";
  const std::string expected_path = file + ".expected.jsonl";
  WriteText(expected_path, expected);
  std::string output;
  const int rc = RunParquetCheck("'" + file + "' '" + expected_path + "'", &output);
  EXPECT_EQ(rc, 0) << output;
}

Result<std::string> WriteRowsToString(const WriterSchema& schema, const std::vector<Value>& rows,
                                      WriterOptions options = {}) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* memory = sink.get();
  WEFT_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Open(schema, std::move(sink), options));
  WEFT_RETURN_IF_ERROR(writer->WriteRows(rows));
  WEFT_RETURN_IF_ERROR(writer->Close());
  return memory->TakeData();
}

// ---------------------------------------------------------------------------------------------
// A flat table with every type, as columns and as the same rows.

struct FlatTable {
  WriterSchema schema;
  std::vector<uint8_t> b;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<std::string> strings;
  std::vector<std::string_view> str_views;
  std::vector<int64_t> ts;
  std::vector<int32_t> date;
  std::vector<uint8_t> valid_a, valid_b;
  std::vector<int32_t> offsets;
  std::string data;

  explicit FlatTable(size_t n, size_t distinct_strings = 37) {
    schema =
        WriterSchema({Field::Boolean("flag"), Field::Int32("i32", false), Field::Int64("i64"),
                      Field::Float("f32"), Field::Double("f64"), Field::String("name"),
                      Field::Timestamp("ts", false), Field::Date("day"), Field::Binary("blob")});
    for (size_t i = 0; i < n; ++i) {
      const auto k = static_cast<int64_t>(i);
      b.push_back(static_cast<uint8_t>(i % 3 == 0));
      i32.push_back(static_cast<int32_t>((k * 7919) % 2001) - 1000);
      i64.push_back(k * 1000003 - 5000000000LL);
      f32.push_back(static_cast<float>(k % 100) * 0.25f - 3.0f);
      f64.push_back(i % 97 == 5 ? std::nan("") : std::sin(static_cast<double>(k)) * 1e6);
      strings.push_back("site-" + std::to_string(i % distinct_strings) +
                        (i % 11 == 0 ? "\xc3\xa9" : ""));
      ts.push_back(1700000000000000LL + k * 1000001);
      date.push_back(19000 + static_cast<int32_t>(i % 400));
      valid_a.push_back(static_cast<uint8_t>(i % 5 != 1));
      valid_b.push_back(static_cast<uint8_t>(i % 7 != 3));
    }
    for (const std::string& s : strings) str_views.push_back(s);
    offsets.push_back(0);
    for (size_t i = 0; i < n; ++i) {
      data += "b" + std::to_string(i % 13);
      offsets.push_back(static_cast<int32_t>(data.size()));
    }
  }

  std::vector<ColumnView> Columns() const {
    return {ColumnView::Boolean(b, valid_a),
            ColumnView::Int32(i32),
            ColumnView::Int64(i64, valid_b),
            ColumnView::Float(f32, valid_a),
            ColumnView::Double(f64),
            ColumnView::Strings(str_views, valid_b),
            ColumnView::Int64(ts),
            ColumnView::Int32(date, valid_a),
            ColumnView::StringsWithOffsets(offsets, data, valid_b)};
  }

  std::vector<Value> Rows() const {
    std::vector<Value> rows;
    for (size_t i = 0; i < b.size(); ++i) {
      auto maybe = [&](bool valid, Value v) { return valid ? std::move(v) : Value::Null(); };
      rows.push_back(StructOf(
          {maybe(valid_a[i] != 0, Value::Bool(b[i] != 0)), Value::Int32(i32[i]),
           maybe(valid_b[i] != 0, Value::Int64(i64[i])),
           maybe(valid_a[i] != 0, Value::Float(f32[i])), Value::Double(f64[i]),
           maybe(valid_b[i] != 0, Value::String(strings[i])), Value::Int64(ts[i]),
           maybe(valid_a[i] != 0, Value::Int32(date[i])),
           maybe(valid_b[i] != 0,
                 Value::String(data.substr(static_cast<size_t>(offsets[i]),
                                           static_cast<size_t>(offsets[i + 1] - offsets[i]))))}));
    }
    return rows;
  }
};

// ---------------------------------------------------------------------------------------------
// File layout, schema and footer

TEST(ParquetWriterTest, FooterDescribesSchemaTypesAndOrders) {
  FlatTable t(100);
  WriterOptions options;
  options.key_value_metadata = {{"weft.source", "unit-test"}};
  Result<std::string> file = WriteParquetToString(t.schema, t.Columns(), options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  EXPECT_EQ(md.num_rows, 100);
  ASSERT_EQ(md.schema.size(), 10U);
  EXPECT_EQ(md.schema[0].num_children, 9);
  EXPECT_EQ(md.schema[1].type, Type::kBoolean);
  EXPECT_EQ(md.schema[2].repetition_type, Repetition::kRequired);
  EXPECT_EQ(md.schema[3].repetition_type, Repetition::kOptional);
  EXPECT_EQ(md.schema[6].logical_type->kind, LogicalType::Kind::kString);
  EXPECT_EQ(md.schema[6].converted_type, ConvertedType::kUtf8);
  EXPECT_EQ(md.schema[7].type, Type::kInt64);
  EXPECT_EQ(md.schema[7].logical_type->kind, LogicalType::Kind::kTimestamp);
  EXPECT_TRUE(md.schema[7].logical_type->is_adjusted_to_utc);
  EXPECT_EQ(md.schema[7].logical_type->unit, TimeUnit::kMicros);
  EXPECT_EQ(md.schema[8].type, Type::kInt32);
  EXPECT_EQ(md.schema[8].logical_type->kind, LogicalType::Kind::kDate);
  EXPECT_EQ(md.schema[9].type, Type::kByteArray);
  EXPECT_FALSE(md.schema[9].logical_type.has_value());
  EXPECT_EQ(md.column_orders, std::vector<bool>(9, true));
  ASSERT_TRUE(md.created_by.has_value());
  EXPECT_EQ(md.created_by->rfind("weft version 0.1.0 (build ", 0), 0U);
  ASSERT_EQ(md.key_value_metadata.size(), 1U);
  EXPECT_EQ(md.key_value_metadata[0].key, "weft.source");
  EXPECT_EQ(md.key_value_metadata[0].value, "unit-test");
  ASSERT_EQ(md.row_groups.size(), 1U);
  EXPECT_EQ(md.row_groups[0].num_rows, 100);
  EXPECT_EQ(md.row_groups[0].columns[0].meta_data->codec, Codec::kZstd);
  EXPECT_EQ(md.row_groups[0].columns[6].meta_data->path_in_schema, std::vector<std::string>{"ts"});
}

TEST(ParquetWriterTest, StatisticsUseTypeOrders) {
  WriterSchema schema({Field::Int32("i"), Field::Double("d"), Field::String("s"), Field::Float("z"),
                       Field::Boolean("b", false)});
  std::vector<int32_t> i = {5, -7, 3, 100, 0};
  std::vector<double> d = {1.5, std::nan(""), -2.5, 4.0, std::nan("")};
  std::vector<std::string_view> s = {"b",
                                     "\xff"
                                     "a",
                                     "a", "Z", "ab"};
  std::vector<float> z = {0.0f, -0.0f, 0.0f, 0.0f, 0.0f};
  std::vector<uint8_t> b = {1, 1, 1, 1, 1};
  std::vector<uint8_t> valid = {1, 1, 0, 1, 1};
  std::vector<ColumnView> cols = {ColumnView::Int32(i, valid), ColumnView::Double(d),
                                  ColumnView::Strings(s), ColumnView::Float(z),
                                  ColumnView::Boolean(b)};
  Result<std::string> file = WriteParquetToString(schema, cols);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  const auto& c = md.row_groups[0].columns;
  // Signed order for ints; the null (-2.5's row for i: value 3) is not counted.
  EXPECT_EQ(c[0].meta_data->statistics->min_value, Bytes<int32_t>(-7));
  EXPECT_EQ(c[0].meta_data->statistics->max_value, Bytes<int32_t>(100));
  EXPECT_EQ(c[0].meta_data->statistics->null_count, 1);
  EXPECT_EQ(c[0].meta_data->statistics->is_min_value_exact, true);
  EXPECT_EQ(c[0].meta_data->statistics->is_max_value_exact, true);
  // NaN excluded from IEEE order.
  EXPECT_EQ(c[1].meta_data->statistics->min_value, Bytes<double>(-2.5));
  EXPECT_EQ(c[1].meta_data->statistics->max_value, Bytes<double>(4.0));
  EXPECT_EQ(c[1].meta_data->statistics->null_count, 0);
  // Unsigned bytewise order for strings: "\xff..." sorts last, "Z" first.
  EXPECT_EQ(c[2].meta_data->statistics->min_value, "Z");
  EXPECT_EQ(c[2].meta_data->statistics->max_value,
            "\xff"
            "a");
  // Zeros: min -0.0, max +0.0.
  EXPECT_EQ(c[3].meta_data->statistics->min_value, Bytes<float>(-0.0f));
  EXPECT_EQ(c[3].meta_data->statistics->max_value, Bytes<float>(0.0f));
  EXPECT_EQ(c[4].meta_data->statistics->min_value, std::string(1, '\1'));
  // Page headers carry the same statistics.
  std::vector<Page> pages = Pages(*file, md, 0, 0);
  ASSERT_FALSE(pages.empty());
  const Page& data_page = pages.back();
  ASSERT_TRUE(data_page.header.data_page_header->statistics.has_value());
  EXPECT_EQ(data_page.header.data_page_header->statistics->min_value, Bytes<int32_t>(-7));
  EXPECT_EQ(data_page.header.data_page_header->statistics->null_count, 1);
}

TEST(ParquetWriterTest, LongStringsDropMinMaxButKeepNullCount) {
  WriterSchema schema({Field::String("s")});
  const std::string long_value(100, 'x');
  std::vector<std::string_view> s = {"a", long_value, "b"};
  std::vector<uint8_t> valid = {1, 1, 0};
  std::vector<ColumnView> cols = {ColumnView::Strings(s, valid)};
  WriterOptions options;
  options.max_statistics_size = 64;
  Result<std::string> file = WriteParquetToString(schema, cols, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const FileMetaData md = Footer(*file);
  const Statistics& st = *md.row_groups[0].columns[0].meta_data->statistics;
  EXPECT_FALSE(st.min_value.has_value());
  EXPECT_FALSE(st.max_value.has_value());
  EXPECT_EQ(st.null_count, 1);
}

TEST(ParquetWriterTest, AllNullAndAllNaNColumnsHaveNoMinMax) {
  WriterSchema schema({Field::Int64("n"), Field::Double("nan", false)});
  std::vector<int64_t> n = {1, 2};
  std::vector<uint8_t> none = {0, 0};
  std::vector<double> nan = {std::nan(""), std::nan("")};
  std::vector<ColumnView> cols = {ColumnView::Int64(n, none), ColumnView::Double(nan)};
  Result<std::string> file = WriteParquetToString(schema, cols);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  EXPECT_EQ(md.row_groups[0].columns[0].meta_data->statistics->null_count, 2);
  EXPECT_FALSE(md.row_groups[0].columns[0].meta_data->statistics->min_value.has_value());
  EXPECT_FALSE(md.row_groups[0].columns[1].meta_data->statistics->max_value.has_value());
}

// ---------------------------------------------------------------------------------------------
// Encodings

bool Has(const std::vector<Encoding>& v, Encoding e) {
  return std::find(v.begin(), v.end(), e) != v.end();
}

TEST(ParquetWriterTest, LowCardinalityUsesDictionaryHighCardinalityPlain) {
  WriterSchema schema({Field::String("site", false), Field::Int64("unique", false)});
  std::vector<std::string> sites;
  std::vector<std::string_view> views;
  std::vector<int64_t> unique;
  for (int i = 0; i < 10000; ++i) {
    sites.push_back("plant-" + std::to_string(i % 8));
    unique.push_back(i * 7);
  }
  for (const auto& s : sites) views.push_back(s);
  std::vector<ColumnView> cols = {ColumnView::Strings(views), ColumnView::Int64(unique)};
  WriterOptions options;
  options.compression = Compression::kUncompressed;
  Result<std::string> file = WriteParquetToString(schema, cols, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  const ColumnMetaData& site = *md.row_groups[0].columns[0].meta_data;
  EXPECT_TRUE(site.dictionary_page_offset.has_value());
  EXPECT_TRUE(Has(site.encodings, Encoding::kRleDictionary));
  std::vector<Page> pages = Pages(*file, md, 0, 0);
  ASSERT_EQ(pages.size(), 2U);
  EXPECT_EQ(pages[0].header.type, PageType::kDictionaryPage);
  EXPECT_EQ(pages[0].header.dictionary_page_header->num_values, 8);
  EXPECT_EQ(pages[1].header.data_page_header->encoding, Encoding::kRleDictionary);
  EXPECT_EQ(pages[1].header.data_page_header->num_values, 10000);
  // Required column: no levels; 1 byte of bit width (3 bits for 8 entries), then the indices.
  EXPECT_EQ(pages[1].body[0], 3);
  RleBitPackedDecoder d(std::string_view(pages[1].body).substr(1), 3);
  std::vector<uint32_t> indices(10000);
  ASSERT_TRUE(d.Decode(indices.data(), indices.size()).ok());
  for (size_t i = 0; i < indices.size(); ++i) ASSERT_EQ(indices[i], i % 8) << i;

  const ColumnMetaData& uniq = *md.row_groups[0].columns[1].meta_data;
  EXPECT_FALSE(uniq.dictionary_page_offset.has_value());
  EXPECT_FALSE(Has(uniq.encodings, Encoding::kRleDictionary));
  std::vector<Page> upages = Pages(*file, md, 0, 1);
  ASSERT_EQ(upages.size(), 1U);
  EXPECT_EQ(upages[0].header.data_page_header->encoding, Encoding::kPlain);
  EXPECT_EQ(upages[0].body.size(), 10000U * 8);
}

TEST(ParquetWriterTest, DictionaryFallsBackToPlainPastTheLimit) {
  WriterSchema schema({Field::String("s", false)});
  std::vector<std::string> strings;
  std::vector<std::string_view> views;
  // 100 repeats of the first values (dictionary pays off), then ever new values.
  for (int i = 0; i < 20000; ++i) {
    strings.push_back(i < 10000 ? "v" + std::to_string(i % 50) : "new-value-" + std::to_string(i));
  }
  for (const auto& s : strings) views.push_back(s);
  std::vector<ColumnView> cols = {ColumnView::Strings(views)};
  WriterOptions options;
  options.dictionary_page_size_limit = 4096;
  options.page_size_bytes = 2048;
  Result<std::string> file = WriteParquetToString(schema, cols, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  const ColumnMetaData& cm = *md.row_groups[0].columns[0].meta_data;
  EXPECT_TRUE(Has(cm.encodings, Encoding::kRleDictionary));
  EXPECT_TRUE(Has(cm.encodings, Encoding::kPlain));
  std::vector<Page> pages = Pages(*file, md, 0, 0);
  ASSERT_GT(pages.size(), 3U);
  EXPECT_EQ(pages[0].header.type, PageType::kDictionaryPage);
  EXPECT_LE(pages[0].header.uncompressed_page_size, 4096 + 64);
  EXPECT_EQ(pages[1].header.data_page_header->encoding, Encoding::kRleDictionary);
  EXPECT_EQ(pages.back().header.data_page_header->encoding, Encoding::kPlain);
  // Once PLAIN, the chunk stays PLAIN.
  bool plain = false;
  int64_t values = 0;
  for (size_t i = 1; i < pages.size(); ++i) {
    const Encoding e = pages[i].header.data_page_header->encoding;
    if (plain) {
      EXPECT_EQ(e, Encoding::kPlain) << "page " << i;
    }
    plain = plain || e == Encoding::kPlain;
    values += pages[i].header.data_page_header->num_values;
  }
  EXPECT_EQ(values, 20000);
  EXPECT_EQ(cm.num_values, 20000);
}

TEST(ParquetWriterTest, OptionalColumnLevelsAreRleWithLengthPrefix) {
  WriterSchema schema({Field::Int32("x")});
  std::vector<int32_t> x(20, 4);
  std::vector<uint8_t> valid(20, 1);
  valid[3] = 0;
  valid[17] = 0;
  std::vector<ColumnView> cols = {ColumnView::Int32(x, valid)};
  WriterOptions options;
  options.compression = Compression::kUncompressed;
  options.enable_dictionary = false;
  Result<std::string> file = WriteParquetToString(schema, cols, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  std::vector<Page> pages = Pages(*file, md, 0, 0);
  ASSERT_EQ(pages.size(), 1U);
  EXPECT_EQ(pages[0].header.data_page_header->num_values, 20);
  EXPECT_EQ(pages[0].header.data_page_header->definition_level_encoding, Encoding::kRle);
  std::string_view body = pages[0].body;
  std::vector<uint32_t> def = Levels(&body, 20, 1);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(def[i], valid[i]) << i;
  EXPECT_EQ(body.size(), 18U * 4);  // the 18 non-null values, PLAIN
}

// ---------------------------------------------------------------------------------------------
// Page and row group sizing

TEST(ParquetWriterTest, PagesAndRowGroupsAreCutBySizeAndRows) {
  WriterSchema schema({Field::Int64("v", false)});
  std::vector<int64_t> v(100000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i * i);
  std::vector<ColumnView> cols = {ColumnView::Int64(v)};
  {
    WriterOptions options;
    options.page_size_bytes = 64 * 1024;  // 8192 values of PLAIN int64
    options.row_group_max_rows = 30000;
    Result<std::string> file = WriteParquetToString(schema, cols, options);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    FileMetaData md = Footer(*file);
    ASSERT_EQ(md.row_groups.size(), 4U);
    EXPECT_EQ(md.row_groups[0].num_rows, 30000);
    EXPECT_EQ(md.row_groups[3].num_rows, 10000);
    std::vector<Page> pages = Pages(*file, md, 0, 0);
    EXPECT_GE(pages.size(), 3U);
    for (const Page& p : pages) {
      EXPECT_LE(p.header.uncompressed_page_size, 64 * 1024 + 4096 * 8);
    }
    int64_t offset = 4;
    for (const RowGroup& rg : md.row_groups) {
      EXPECT_EQ(rg.file_offset, offset);
      EXPECT_EQ(rg.columns[0].meta_data->data_page_offset, offset);
      offset += rg.columns[0].meta_data->total_compressed_size;
    }
  }
  {
    WriterOptions options;
    options.row_group_size_bytes = 200 * 1024;  // ~25600 rows of int64
    Result<std::string> file = WriteParquetToString(schema, cols, options);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    FileMetaData md = Footer(*file);
    EXPECT_GE(md.row_groups.size(), 3U);
    EXPECT_LE(md.row_groups.size(), 5U);
    int64_t rows = 0;
    for (const RowGroup& rg : md.row_groups) rows += rg.num_rows;
    EXPECT_EQ(rows, 100000);
  }
}

// ---------------------------------------------------------------------------------------------
// Nested levels

TEST(ParquetWriterTest, ListLevels) {
  WriterSchema schema({Field::List("l", Field::Int32("e"))});
  std::vector<Value> rows = {
      StructOf({ListOf({Value::Int32(1), Value::Int32(2)})}),
      StructOf({Value::Null()}),
      StructOf({ListOf({})}),
      StructOf({ListOf({Value::Null(), Value::Int32(3)})}),
  };
  WriterOptions options;
  options.compression = Compression::kUncompressed;
  Result<std::string> file = WriteRowsToString(schema, rows, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  ASSERT_EQ(md.schema.size(), 4U);
  EXPECT_EQ(md.schema[1].converted_type, ConvertedType::kList);
  EXPECT_EQ(md.schema[2].name, "list");
  EXPECT_EQ(md.schema[2].repetition_type, Repetition::kRepeated);
  EXPECT_EQ(md.schema[3].name, "element");
  EXPECT_EQ(md.row_groups[0].columns[0].meta_data->path_in_schema,
            (std::vector<std::string>{"l", "list", "element"}));
  std::vector<Page> pages = Pages(*file, md, 0, 0);
  const Page& page = pages.back();
  ASSERT_EQ(page.header.data_page_header->num_values, 6);
  std::string_view body = page.body;
  EXPECT_EQ(Levels(&body, 6, 1), (std::vector<uint32_t>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(Levels(&body, 6, 3), (std::vector<uint32_t>{3, 3, 0, 1, 2, 3}));
}

TEST(ParquetWriterTest, MapInsideStructLevels) {
  WriterSchema schema({Field::Struct(
      "add", {Field::String("path", false),
              Field::Map("tags", Field::String("key", false), Field::String("value"))})});
  std::vector<Value> rows = {
      StructOf({StructOf({Value::String("a"), MapOf({{Value::String("k1"), Value::String("v1")},
                                                     {Value::String("k2"), Value::Null()}})})}),
      StructOf({Value::Null()}),
      StructOf({StructOf({Value::String("b"), Value::Null()})}),
      StructOf({StructOf({Value::String("c"), MapOf({})})}),
  };
  WriterOptions options;
  options.compression = Compression::kUncompressed;
  Result<std::string> file = WriteRowsToString(schema, rows, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  FileMetaData md = Footer(*file);
  ASSERT_EQ(md.row_groups[0].columns.size(), 3U);
  EXPECT_EQ(md.row_groups[0].columns[2].meta_data->path_in_schema,
            (std::vector<std::string>{"add", "tags", "key_value", "value"}));
  // path: optional add (1), required path: max_def 1.
  {
    const std::vector<Page> pages = Pages(*file, md, 0, 0);
    std::string_view body = pages.back().body;
    EXPECT_EQ(Levels(&body, 4, 1), (std::vector<uint32_t>{1, 0, 1, 1}));
  }
  // key: add(1) tags(2) key_value(3), required key: max_def 3, max_rep 1.
  {
    const std::vector<Page> pages = Pages(*file, md, 0, 1);
    std::string_view body = pages.back().body;
    EXPECT_EQ(Levels(&body, 5, 1), (std::vector<uint32_t>{0, 1, 0, 0, 0}));
    EXPECT_EQ(Levels(&body, 5, 3), (std::vector<uint32_t>{3, 3, 0, 1, 2}));
  }
  // value: optional: max_def 4.
  {
    const std::vector<Page> pages = Pages(*file, md, 0, 2);
    std::string_view body = pages.back().body;
    EXPECT_EQ(Levels(&body, 5, 1), (std::vector<uint32_t>{0, 1, 0, 0, 0}));
    EXPECT_EQ(Levels(&body, 5, 4), (std::vector<uint32_t>{4, 3, 0, 1, 2}));
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST(ParquetWriterTest, BadBatchesNameTheColumn) {
  WriterSchema schema({Field::Int32("a", false), Field::String("b")});
  std::vector<int32_t> a = {1, 2};
  std::vector<int64_t> wrong = {1, 2};
  std::vector<std::string_view> b = {"x", "y"};
  std::vector<std::string_view> b3 = {"x", "y", "z"};
  std::vector<uint8_t> nulls = {1, 0};
  auto writer = ParquetWriter::Open(schema, std::make_unique<MemorySink>());
  ASSERT_TRUE(writer.ok());
  auto& w = **writer;

  std::vector<ColumnView> one = {ColumnView::Int32(a)};
  Status s = w.WriteBatch(one);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("2 columns"), std::string::npos) << s.ToString();

  std::vector<ColumnView> mismatch = {ColumnView::Int64(wrong), ColumnView::Strings(b)};
  s = w.WriteBatch(mismatch);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'a'"), std::string::npos) << s.ToString();

  std::vector<ColumnView> null_required = {ColumnView::Int32(a, nulls), ColumnView::Strings(b)};
  s = w.WriteBatch(null_required);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'a'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("row 1"), std::string::npos) << s.ToString();

  std::vector<ColumnView> lengths = {ColumnView::Int32(a), ColumnView::Strings(b3)};
  s = w.WriteBatch(lengths);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'b'"), std::string::npos) << s.ToString();

  std::vector<int32_t> bad_offsets = {0, 5, 2};
  std::vector<ColumnView> offsets = {ColumnView::Int32(a),
                                     ColumnView::StringsWithOffsets(bad_offsets, "abcdef")};
  s = w.WriteBatch(offsets);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);

  // Nested-row errors name the nested column.
  std::vector<Value> rows = {StructOf({Value::Int32(1), Value::Int32(5)})};
  s = w.WriteRows(rows);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'b'"), std::string::npos) << s.ToString();
  std::vector<Value> short_row = {StructOf({Value::Int32(1)})};
  EXPECT_EQ(w.WriteRows(short_row).code(), StatusCode::kInvalidArgument);

  // The writer is still usable: nothing of the bad batches was written.
  std::vector<ColumnView> good = {ColumnView::Int32(a), ColumnView::Strings(b, nulls)};
  ASSERT_TRUE(w.WriteBatch(good).ok());
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(w.metadata().num_rows, 2);
  EXPECT_EQ(w.WriteBatch(good).code(), StatusCode::kFailedPrecondition);
}

TEST(ParquetWriterTest, BadSchemasAndNestedErrors) {
  EXPECT_FALSE(ParquetWriter::Open(WriterSchema(), std::make_unique<MemorySink>()).ok());
  EXPECT_FALSE(
      ParquetWriter::Open(WriterSchema({Field::Map("m", Field::String("k"), Field::String("v"))}),
                          std::make_unique<MemorySink>())
          .ok());  // nullable key
  EXPECT_FALSE(
      ParquetWriter::Open(WriterSchema({Field::Struct("s", {})}), std::make_unique<MemorySink>())
          .ok());
  Result<std::unique_ptr<ParquetWriter>> duplicate = ParquetWriter::Open(
      WriterSchema({Field::Int32("a"), Field::Int64("a")}), std::make_unique<MemorySink>());
  EXPECT_EQ(duplicate.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(duplicate.status().message().find("'a'"), std::string::npos);
  WriterSchema schema({Field::Struct("s", {Field::Int64("x", false)})});
  auto writer = ParquetWriter::Open(schema, std::make_unique<MemorySink>());
  ASSERT_TRUE(writer.ok());
  std::vector<Value> rows = {StructOf({StructOf({Value::Null()})})};
  Status s = (*writer)->WriteRows(rows);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'s.x'"), std::string::npos) << s.ToString();
  std::vector<int64_t> x = {1};
  std::vector<ColumnView> cols = {ColumnView::Int64(x)};
  s = (*writer)->WriteBatch(cols);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("WriteRows"), std::string::npos) << s.ToString();
}

// ---------------------------------------------------------------------------------------------
// Sinks

TEST(LocalFileSinkTest, RenamesOnCloseAndCleansUpOtherwise) {
  TempDir dir;
  const std::string path = dir.File("out.parquet");
  {
    auto sink = LocalFileSink::Open(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Append("hello ").ok());
    ASSERT_TRUE((*sink)->Append(std::string(3 << 20, 'x')).ok());  // larger than the buffer
    EXPECT_FALSE(fs::exists(path));
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(fs::file_size(path), 6U + (3U << 20));
  EXPECT_EQ(ReadText(path).substr(0, 7), "hello x");
  {
    auto sink = LocalFileSink::Open(dir.File("abandoned.parquet"));
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Append("data").ok());
  }
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.File(""))) ++files;
  EXPECT_EQ(files, 1U);
  EXPECT_FALSE(LocalFileSink::Open("/nonexistent-dir/x.parquet").ok());
}

// ---------------------------------------------------------------------------------------------
// Round trips through the format layer's reader (reader.h).

WriterSchema CheckpointSchema();
std::vector<Value> CheckpointRows(int adds);
WriterSchema DeepSchema();
std::vector<Value> DeepRows(int n);

std::vector<Value> ReadAllRows(const std::string& file) {
  auto reader = ParquetReader::Open(std::make_unique<MemorySource>(file));
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Value> rows;
  if (!reader.ok()) return rows;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    Result<std::vector<Value>> group = (*reader)->ReadRows(g);
    EXPECT_TRUE(group.ok()) << group.status().ToString();
    if (!group.ok()) return rows;
    for (Value& row : *group) rows.push_back(std::move(row));
  }
  return rows;
}

void ExpectRoundTrip(const std::string& file, const WriterSchema& schema,
                     const std::vector<Value>& rows) {
  const std::vector<Value> got = ReadAllRows(file);
  ASSERT_EQ(got.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(JsonRow(schema, got[i]), JsonRow(schema, rows[i])) << "row " << i;
  }
}

TEST(ParquetWriterRoundTripTest, FlatEveryCodecPagesRowGroupsAndFallback) {
  FlatTable t(6000, /*distinct_strings=*/3000);
  const std::vector<Value> rows = t.Rows();
  for (Compression codec :
       {Compression::kZstd, Compression::kSnappy, Compression::kGzip, Compression::kUncompressed}) {
    WriterOptions options;
    options.compression = codec;
    options.page_size_bytes = 1500;
    options.row_group_max_rows = 2500;
    options.dictionary_page_size_limit = 20000;
    Result<std::string> file = WriteParquetToString(t.schema, t.Columns(), options);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ(Footer(*file).row_groups.size(), 3U);
    ExpectRoundTrip(*file, t.schema, rows);
  }
}

TEST(ParquetWriterRoundTripTest, FlatReadIntoTypedColumns) {
  FlatTable t(1000);
  Result<std::string> file = WriteParquetToString(t.schema, t.Columns());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto reader = ParquetReader::Open(std::make_unique<MemorySource>(*file));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Result<FlatBatch> batch = (*reader)->ReadFlat(0, {"ts", "i64"});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows, 1000);
  ASSERT_EQ(batch->columns.size(), 2U);
  for (size_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(batch->columns[0].values.int64s[i], t.ts[i]);
    ASSERT_EQ(batch->columns[1].IsValid(i), t.valid_b[i] != 0);
    if (t.valid_b[i] != 0) {
      ASSERT_EQ(batch->columns[1].values.int64s[i], t.i64[i]);
    }
  }
}

TEST(ParquetWriterRoundTripTest, NestedRowsReadBackAndRewritten) {
  const WriterSchema schema = CheckpointSchema();
  const std::vector<Value> rows = CheckpointRows(500);
  WriterOptions options;
  options.page_size_bytes = 512;
  options.row_group_max_rows = 200;
  Result<std::string> file = WriteRowsToString(schema, rows, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ExpectRoundTrip(*file, schema, rows);
  // What the reader returns is what the writer takes: copy the file row by row.
  const std::vector<Value> read = ReadAllRows(*file);
  Result<std::string> copy = WriteRowsToString(schema, read, options);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  ExpectRoundTrip(*copy, schema, rows);
}

TEST(ParquetWriterRoundTripTest, DeeplyNestedListsStructsMaps) {
  const WriterSchema schema = DeepSchema();
  const std::vector<Value> rows = DeepRows(400);
  WriterOptions options;
  options.page_size_bytes = 256;
  options.row_group_max_rows = 150;
  Result<std::string> file = WriteRowsToString(schema, rows, options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ExpectRoundTrip(*file, schema, rows);
}

// Random flat tables (types, null ratios, cardinalities, page/row-group/dictionary sizes, batch
// splits), each written with WriteBatch in pieces and read back.
TEST(ParquetWriterRoundTripTest, RandomFlatTables) {
  std::mt19937_64 rng(20261125);
  auto pick = [&rng](uint64_t n) { return static_cast<size_t>(rng() % n); };
  for (int iteration = 0; iteration < 25; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    const size_t n = pick(4000);
    const size_t cardinality = 1 + pick(iteration % 2 == 0 ? 20 : 5000);
    const int null_percent = static_cast<int>(pick(4)) * 30;  // 0, 30, 60, 90
    std::vector<Field> fields;
    const ColumnType types[] = {
        ColumnType::kBoolean, ColumnType::kInt32,           ColumnType::kInt64,
        ColumnType::kFloat,   ColumnType::kDouble,          ColumnType::kString,
        ColumnType::kBinary,  ColumnType::kTimestampMicros, ColumnType::kDate};
    for (ColumnType type : types) {
      fields.push_back(Field::Primitive(std::string(ColumnTypeName(type)), type, pick(2) == 0));
    }
    const WriterSchema schema(fields);
    // Column storage.
    std::vector<uint8_t> bools(n);
    std::vector<int32_t> i32(n), dates(n);
    std::vector<int64_t> i64(n), ts(n);
    std::vector<float> f32(n);
    std::vector<double> f64(n);
    std::vector<std::string> strings(n), blobs(n);
    std::vector<std::vector<uint8_t>> valid(fields.size(), std::vector<uint8_t>(n, 1));
    std::vector<Value> rows;
    for (size_t r = 0; r < n; ++r) {
      const auto k = static_cast<int64_t>(pick(cardinality));
      bools[r] = static_cast<uint8_t>(k % 2);
      i32[r] = static_cast<int32_t>(k * 2654435761LL % 2000000) - 1000000;
      dates[r] = static_cast<int32_t>(k % 30000);
      i64[r] = k * 1000000007LL - (int64_t{1} << 40);
      ts[r] = 1700000000000000LL + k * 999;
      f32[r] = static_cast<float>(k) / 8.0f - 10.0f;
      f64[r] = k % 97 == 13 ? std::nan("") : static_cast<double>(k) * 1.1 - 3.0;
      strings[r] = "s" + std::to_string(k) + std::string(static_cast<size_t>(k % 9), 'z');
      blobs[r] = std::string(static_cast<size_t>(k % 5), static_cast<char>('a' + k % 26));
      std::vector<Value> items = {
          Value::Bool(bools[r] != 0), Value::Int32(i32[r]),  Value::Int64(i64[r]),
          Value::Float(f32[r]),       Value::Double(f64[r]), Value::String(strings[r]),
          Value::String(blobs[r]),    Value::Int64(ts[r]),   Value::Int32(dates[r])};
      for (size_t c = 0; c < fields.size(); ++c) {
        if (fields[c].nullable && static_cast<int>(pick(100)) < null_percent) {
          valid[c][r] = 0;
          items[c] = Value::Null();
        }
      }
      rows.push_back(StructOf(std::move(items)));
    }
    std::vector<std::string_view> string_views(strings.begin(), strings.end());
    std::vector<int32_t> blob_offsets = {0};
    std::string blob_data;
    for (const std::string& b : blobs) {
      blob_data += b;
      blob_offsets.push_back(static_cast<int32_t>(blob_data.size()));
    }
    WriterOptions options;
    options.compression = static_cast<Compression>(pick(4));
    options.page_size_bytes = 64 + static_cast<int64_t>(pick(20000));
    options.row_group_max_rows = static_cast<int64_t>(pick(3)) * static_cast<int64_t>(pick(2000));
    options.row_group_size_bytes = 1024 + static_cast<int64_t>(pick(200000));
    options.dictionary_page_size_limit = 16 + static_cast<int64_t>(pick(30000));
    options.enable_dictionary = pick(5) != 0;
    auto sink = std::make_unique<MemorySink>();
    MemorySink* memory = sink.get();
    auto writer = ParquetWriter::Open(schema, std::move(sink), options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    size_t begin = 0;
    while (begin < n) {
      const size_t end = std::min(n, begin + 1 + pick(1500));
      const size_t len = end - begin;
      auto v = [&](size_t c) { return std::span<const uint8_t>(valid[c].data() + begin, len); };
      std::vector<ColumnView> cols = {
          ColumnView::Boolean({bools.data() + begin, len}, v(0)),
          ColumnView::Int32({i32.data() + begin, len}, v(1)),
          ColumnView::Int64({i64.data() + begin, len}, v(2)),
          ColumnView::Float({f32.data() + begin, len}, v(3)),
          ColumnView::Double({f64.data() + begin, len}, v(4)),
          ColumnView::Strings({string_views.data() + begin, len}, v(5)),
          ColumnView::StringsWithOffsets({blob_offsets.data() + begin, len + 1}, blob_data, v(6)),
          ColumnView::Int64({ts.data() + begin, len}, v(7)),
          ColumnView::Int32({dates.data() + begin, len}, v(8))};
      ASSERT_TRUE((*writer)->WriteBatch(cols).ok());
      begin = end;
    }
    ASSERT_TRUE((*writer)->Close().ok());
    ExpectRoundTrip(memory->data(), schema, rows);
  }
}

TEST(ParquetWriterRoundTripTest, NestedColumnWiseInputWritesTheSameFile) {
  const WriterSchema schema = CheckpointSchema();
  const std::vector<Value> rows = CheckpointRows(300);
  std::vector<std::vector<Value>> columns(schema.fields.size());
  for (const Value& row : rows) {
    for (size_t c = 0; c < columns.size(); ++c) columns[c].push_back(row.items[c]);
  }
  WriterOptions options;
  options.page_size_bytes = 700;
  options.row_group_max_rows = 120;
  auto sink = std::make_unique<MemorySink>();
  MemorySink* memory = sink.get();
  auto writer = ParquetWriter::Open(schema, std::move(sink), options);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteColumns(columns).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  Result<std::string> by_rows = WriteRowsToString(schema, rows, options);
  ASSERT_TRUE(by_rows.ok());
  EXPECT_EQ(memory->data(), *by_rows);
  ExpectRoundTrip(memory->data(), schema, rows);

  columns[1].pop_back();
  auto writer2 = ParquetWriter::Open(schema, std::make_unique<MemorySink>(), options);
  ASSERT_TRUE(writer2.ok());
  Status s = (*writer2)->WriteColumns(columns);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'add'"), std::string::npos) << s.ToString();
}

// ---------------------------------------------------------------------------------------------
// Interop: DuckDB and hyparquet read what we write.

class ParquetInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // scripts/setup.sh installs Node.js and the checkers: their absence is a failure, not a skip.
    ASSERT_TRUE(NodeAvailable()) << "node is not installed (run scripts/setup.sh)";
  }
  TempDir dir_;
};

TEST_F(ParquetInteropTest, FlatEveryTypeEveryCodec) {
  FlatTable t(5000);
  const std::vector<Value> rows = t.Rows();
  const std::pair<Compression, const char*> codecs[] = {{Compression::kZstd, "zstd"},
                                                        {Compression::kSnappy, "snappy"},
                                                        {Compression::kGzip, "gzip"},
                                                        {Compression::kUncompressed, "none"}};
  for (const auto& [codec, name] : codecs) {
    SCOPED_TRACE(name);
    WriterOptions options;
    options.compression = codec;
    options.page_size_bytes = 2048;     // several pages per chunk
    options.row_group_max_rows = 1800;  // several row groups
    const std::string path = dir_.File(std::string("flat_") + name + ".parquet");
    auto sink = LocalFileSink::Open(path);
    ASSERT_TRUE(sink.ok());
    auto writer = ParquetWriter::Open(t.schema, std::move(*sink), options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    std::vector<ColumnView> cols = t.Columns();
    ASSERT_TRUE((*writer)->WriteBatch(cols).ok());
    ASSERT_TRUE((*writer)->Close().ok());
    FileMetaData md = (*writer)->metadata();
    EXPECT_EQ(md.row_groups.size(), 3U);
    ExpectReadersAgree(path, t.schema, rows);
  }
}

TEST_F(ParquetInteropTest, RowsAndBatchesWriteTheSameData) {
  FlatTable t(3000);
  const std::string path = dir_.File("rows.parquet");
  Result<std::string> file = WriteRowsToString(t.schema, t.Rows());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  WriteText(path, *file);
  ExpectReadersAgree(path, t.schema, t.Rows());
  Result<std::string> batch_file = WriteParquetToString(t.schema, t.Columns());
  ASSERT_TRUE(batch_file.ok());
  EXPECT_EQ(*file, *batch_file);
}

TEST_F(ParquetInteropTest, DictionaryFallbackAndManyPages) {
  WriterSchema schema({Field::String("s"), Field::Double("d", false), Field::Int32("q")});
  std::vector<std::string> strings;
  std::vector<std::string_view> views;
  std::vector<double> d;
  std::vector<int32_t> q;
  std::vector<uint8_t> valid;
  for (int i = 0; i < 30000; ++i) {
    strings.push_back(i < 12000 ? "line-" + std::to_string(i % 20) : "sensor/" + std::to_string(i));
    d.push_back(i % 3 == 0 ? 1.5 : static_cast<double>(i) / 7.0);
    q.push_back(i % 4 == 0 ? 192 : 0);
    valid.push_back(static_cast<uint8_t>(i % 13 != 0));
  }
  for (const auto& s : strings) views.push_back(s);
  WriterOptions options;
  options.dictionary_page_size_limit = 8192;
  options.page_size_bytes = 4096;
  const std::string path = dir_.File("fallback.parquet");
  auto sink = LocalFileSink::Open(path);
  ASSERT_TRUE(sink.ok());
  auto writer = ParquetWriter::Open(schema, std::move(*sink), options);
  ASSERT_TRUE(writer.ok());
  std::vector<ColumnView> cols = {ColumnView::Strings(views, valid), ColumnView::Double(d),
                                  ColumnView::Int32(q, valid)};
  ASSERT_TRUE((*writer)->WriteBatch(cols).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  const ColumnMetaData& cm = *(*writer)->metadata().row_groups[0].columns[0].meta_data;
  EXPECT_TRUE(Has(cm.encodings, Encoding::kRleDictionary));
  EXPECT_TRUE(Has(cm.encodings, Encoding::kPlain));
  std::vector<Value> rows;
  for (size_t i = 0; i < strings.size(); ++i) {
    rows.push_back(
        StructOf({valid[i] != 0 ? Value::String(strings[i]) : Value::Null(), Value::Double(d[i]),
                  valid[i] != 0 ? Value::Int32(q[i]) : Value::Null()}));
  }
  ExpectReadersAgree(path, schema, rows);
}

WriterSchema DeepSchema() {
  return WriterSchema({
      Field::List("matrix", Field::List("row", Field::Int32("x"))),
      Field::List("items", Field::Struct("item", {Field::Int32("a", false),
                                                  Field::Map("m", Field::String("k", false),
                                                             Field::String("v"))})),
      Field::Map("series", Field::String("name", false), Field::List("points", Field::Int64("p"))),
      Field::Struct("outer", {Field::Struct("inner", {Field::Double("d"), Field::Boolean("b")})},
                    /*nullable=*/false),
  });
}

std::vector<Value> DeepRows(int n) {
  auto S = [](std::string s) { return Value::String(std::move(s)); };
  std::vector<Value> rows;
  for (int i = 0; i < n; ++i) {
    std::vector<Value> matrix;
    for (int r = 0; r < i % 4; ++r) {
      std::vector<Value> row;
      for (int c = 0; c < (i + r) % 3; ++c) {
        row.push_back((i + c) % 5 == 0 ? Value::Null() : Value::Int32(i * 10 + c));
      }
      matrix.push_back(r == 2 ? Value::Null() : ListOf(std::move(row)));
    }
    std::vector<Value> items;
    for (int k = 0; k < i % 3; ++k) {
      items.push_back(k == 1 && i % 2 == 0
                          ? Value::Null()
                          : StructOf({Value::Int32(k),
                                      i % 4 == 0 ? Value::Null()
                                                 : MapOf({{S("k" + std::to_string(k)), S("v")}})}));
    }
    std::vector<std::pair<Value, Value>> series;
    for (int k = 0; k < i % 3; ++k) {
      series.emplace_back(S("s" + std::to_string(k)),
                          k == 0 ? ListOf({}) : ListOf({Value::Int64(i), Value::Null()}));
    }
    rows.push_back(StructOf(
        {i % 7 == 6 ? Value::Null() : ListOf(std::move(matrix)), ListOf(std::move(items)),
         i % 5 == 4 ? Value::Null() : MapOf(std::move(series)),
         StructOf({i % 3 == 2 ? Value::Null()
                              : StructOf({Value::Double(i * 0.5), Value::Bool(i % 2 == 0)})})}));
  }
  return rows;
}

WriterSchema CheckpointSchema() {
  auto string_map = [](std::string name) {
    return Field::Map(std::move(name), Field::String("key", false), Field::String("value"));
  };
  return WriterSchema({
      Field::Struct("txn",
                    {Field::String("appId"), Field::Int64("version"), Field::Int64("lastUpdated")}),
      Field::Struct("add",
                    {Field::String("path"), string_map("partitionValues"), Field::Int64("size"),
                     Field::Int64("modificationTime"), Field::Boolean("dataChange"),
                     Field::String("stats"), string_map("tags")}),
      Field::Struct("remove", {Field::String("path"), Field::Timestamp("deletionTimestamp"),
                               Field::Boolean("dataChange")}),
      Field::Struct(
          "metaData",
          {Field::String("id"), Field::String("name"),
           Field::Struct("format", {Field::String("provider"), string_map("options")}),
           Field::String("schemaString"), Field::List("partitionColumns", Field::String("element")),
           string_map("configuration"), Field::Int64("createdTime")}),
      Field::Struct("protocol",
                    {Field::Int32("minReaderVersion"), Field::Int32("minWriterVersion")}),
  });
}

std::vector<Value> CheckpointRows(int adds) {
  const Value null;
  auto S = [](std::string s) { return Value::String(std::move(s)); };
  std::vector<Value> rows;
  rows.push_back(StructOf({null, null, null, null, StructOf({Value::Int32(1), Value::Int32(2)})}));
  rows.push_back(StructOf(
      {null, null, null,
       StructOf(
           {S("3f2a-uuid"), null, StructOf({S("parquet"), MapOf({})}),
            S("{\"type\":\"struct\",\"fields\":[]}"), ListOf({S("site"), S("day")}),
            MapOf({{S("delta.appendOnly"), S("true")}, {S("delta.checkpointInterval"), S("10")}}),
            Value::Int64(1700000000000)}),
       null}));
  rows.push_back(
      StructOf({StructOf({S("weft-edge"), Value::Int64(42), null}), null, null, null, null}));
  for (int i = 0; i < adds; ++i) {
    rows.push_back(StructOf(
        {null,
         StructOf({S("site=s" + std::to_string(i % 3) + "/part-" + std::to_string(i) + ".parquet"),
                   MapOf({{S("site"), S("s" + std::to_string(i % 3))},
                          {S("day"), i % 5 == 0 ? null : S("2026-11-25")}}),
                   Value::Int64(1000 + i), Value::Int64(1700000000000 + i), Value::Bool(i % 2 == 0),
                   i % 4 == 0 ? null : S("{\"numRecords\":" + std::to_string(i) + "}"),
                   i % 3 == 0 ? MapOf({}) : null}),
         null, null, null}));
  }
  rows.push_back(StructOf(
      {null, null, StructOf({S("old.parquet"), Value::Int64(1700000000123456), Value::Bool(true)}),
       null, null}));
  return rows;
}

TEST_F(ParquetInteropTest, DuckDBReadsOurStatistics) {
  WriterSchema schema({Field::Int32("i"), Field::String("s", false), Field::Double("d")});
  std::vector<int32_t> i = {5, -7, 3, 100};
  std::vector<uint8_t> valid = {1, 1, 0, 1};
  std::vector<std::string_view> s = {"b", "a", "Z", "ab"};
  std::vector<double> d = {1.5, std::nan(""), -2.5, 4.0};
  std::vector<ColumnView> cols = {ColumnView::Int32(i, valid), ColumnView::Strings(s),
                                  ColumnView::Double(d)};
  Result<std::string> file = WriteParquetToString(schema, cols);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const std::string path = dir_.File("stats.parquet");
  WriteText(path, *file);
  std::string output;
  ASSERT_EQ(RunParquetCheck("--metadata '" + path + "'", &output), 0) << output;
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3U) << output;
  auto has = [](const std::string& line, const std::string& needle) {
    return line.find(needle) != std::string::npos;
  };
  EXPECT_TRUE(has(lines[0], "\"stats_min_value\":\"-7\"")) << lines[0];
  EXPECT_TRUE(has(lines[0], "\"stats_max_value\":\"100\"")) << lines[0];
  EXPECT_TRUE(has(lines[0], "\"stats_null_count\":\"1\"")) << lines[0];
  EXPECT_TRUE(has(lines[1], "\"stats_min_value\":\"Z\"")) << lines[1];
  EXPECT_TRUE(has(lines[1], "\"stats_max_value\":\"b\"")) << lines[1];
  EXPECT_TRUE(has(lines[2], "\"stats_min_value\":\"-2.5\"")) << lines[2];
  EXPECT_TRUE(has(lines[2], "\"stats_max_value\":\"4.0\"")) << lines[2];
}

TEST_F(ParquetInteropTest, DeeplyNestedAndEmptyFiles) {
  {
    const WriterSchema schema = DeepSchema();
    const std::vector<Value> rows = DeepRows(400);
    WriterOptions options;
    options.page_size_bytes = 256;
    options.row_group_max_rows = 150;
    Result<std::string> file = WriteRowsToString(schema, rows, options);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const std::string path = dir_.File("deep.parquet");
    WriteText(path, *file);
    ExpectReadersAgree(path, schema, rows);
  }
  {
    FlatTable t(0);
    Result<std::string> file = WriteParquetToString(t.schema, t.Columns());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_TRUE(Footer(*file).row_groups.empty());
    const std::string path = dir_.File("empty.parquet");
    WriteText(path, *file);
    ExpectReadersAgree(path, t.schema, {});
  }
}

TEST_F(ParquetInteropTest, NestedCheckpointLikeSchema) {
  const WriterSchema schema = CheckpointSchema();
  const std::vector<Value> rows = CheckpointRows(2000);
  const std::pair<Compression, const char*> codecs[] = {{Compression::kZstd, "zstd"},
                                                        {Compression::kSnappy, "snappy"}};
  for (const auto& [codec, name] : codecs) {
    SCOPED_TRACE(name);
    WriterOptions options;
    options.compression = codec;
    options.page_size_bytes = 1024;
    options.row_group_max_rows = 900;
    Result<std::string> file = WriteRowsToString(schema, rows, options);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    FileMetaData md = Footer(*file);
    EXPECT_EQ(md.row_groups.size(), 3U);
    EXPECT_EQ(md.row_groups[0].columns.size(), 27U);
    const std::string path = dir_.File(std::string("checkpoint_") + name + ".parquet");
    WriteText(path, *file);
    ExpectReadersAgree(path, schema, rows);
  }
}

}  // namespace
}  // namespace weft::lake::parquet

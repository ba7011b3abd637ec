// Every file of apache/parquet-testing: read completely or refused with a clear error; known
// values checked against DuckDB 1.x reading the same files (see README.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lake/parquet/reader.h"

namespace weft::lake::parquet {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path kRoot(WEFT_PARQUET_TESTING_DIR);

std::string DataPath(const std::string& file) {
  return (kRoot / "data" / file).string();
}

Result<std::unique_ptr<ParquetReader>> OpenFile(const std::string& path, ReaderOptions o = {}) {
  WEFT_ASSIGN_OR_RETURN(auto src, LocalFileSource::Open(path));
  return ParquetReader::Open(std::move(src), o);
}

Result<std::vector<Value>> ReadFile(const std::string& file, ReaderOptions o = {}) {
  WEFT_ASSIGN_OR_RETURN(auto reader, OpenFile(DataPath(file), o));
  return ReadAllRows(*reader);
}

std::vector<std::string> Rows(const std::string& file) {
  Result<std::vector<Value>> rows = ReadFile(file);
  EXPECT_TRUE(rows.ok()) << file << ": " << rows.status().ToString();
  std::vector<std::string> out;
  if (rows.ok()) {
    for (const Value& v : *rows) out.push_back(v.ToString());
  }
  return out;
}

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kRoot / "data"))
        << kRoot << " not found (tests/conformance is part of the repository)";
  }
};

// Files refused on purpose, with the words their error must contain.
const std::map<std::string, std::string> kRefused = {
    // A 4 KiB brotli file holding a 1 GiB page: refused by the page size limit.
    {"large_string_map.brotli.parquet", "max_page_bytes"},
    // Corrupt by design: the dictionary page's size overruns the column chunk.
    {"nation.dict-malformed.parquet", "exceeds the 13 bytes left in the column chunk"},
};

TEST_F(Conformance, EveryFileIsReadOrRefusedClearly) {
  int read = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot / "data")) {
    if (entry.path().extension() != ".parquet") continue;
    const std::string file = entry.path().filename().string();
    Result<std::vector<Value>> rows = ReadFile(file);
    auto refused = kRefused.find(file);
    if (refused == kRefused.end()) {
      ASSERT_TRUE(rows.ok()) << file << ": " << rows.status().ToString();
      auto reader = OpenFile(entry.path().string());
      ASSERT_TRUE(reader.ok());
      int64_t total = 0;
      for (const RowGroup& g : (*reader)->metadata().row_groups) total += g.num_rows;
      EXPECT_EQ(static_cast<int64_t>(rows->size()), total) << file;
      ++read;
    } else {
      ASSERT_FALSE(rows.ok()) << file;
      EXPECT_THAT(rows.status().message(), HasSubstr(refused->second)) << file;
      EXPECT_THAT(rows.status().message(), HasSubstr(file));
    }
  }
  EXPECT_GE(read, 59);
}

// The flat path and the row path agree on every flat file.
TEST_F(Conformance, FlatPathMatchesRowPath) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot / "data")) {
    if (entry.path().extension() != ".parquet") continue;
    const std::string file = entry.path().filename().string();
    if (kRefused.count(file)) continue;
    auto reader = OpenFile(entry.path().string());
    ASSERT_TRUE(reader.ok()) << file;
    const ParquetReader& r = **reader;
    if (!r.schema().IsFlat()) continue;
    for (int g = 0; g < r.num_row_groups(); ++g) {
      Result<FlatBatch> batch = r.ReadFlat(g);
      ASSERT_TRUE(batch.ok()) << file << ": " << batch.status().ToString();
      Result<std::vector<Value>> rows = r.ReadRows(g);
      ASSERT_TRUE(rows.ok()) << file;
      ASSERT_EQ(static_cast<int64_t>(rows->size()), batch->num_rows) << file;
      for (size_t c = 0; c < batch->columns.size(); ++c) {
        const FlatColumn& col = batch->columns[c];
        ASSERT_EQ(col.values.size(), static_cast<size_t>(batch->num_rows))
            << file << " " << col.name;
        for (size_t i = 0; i < rows->size(); ++i) {
          const Value& v = (*rows)[i].items[c];
          ASSERT_EQ(v.is_null(), !col.IsValid(i)) << file << " " << col.name << " row " << i;
          if (v.is_null()) continue;
          switch (col.values.type) {
            case Type::kInt32: EXPECT_EQ(col.values.int32s[i], v.int_value); break;
            case Type::kInt64: EXPECT_EQ(col.values.int64s[i], v.int_value); break;
            case Type::kDouble:
              if (!std::isnan(v.double_value)) {
                EXPECT_EQ(col.values.doubles[i], v.double_value);
              }
              break;
            case Type::kByteArray: EXPECT_EQ(col.values.Binary(i), v.bytes); break;
            case Type::kBoolean: EXPECT_EQ(col.values.bools[i] != 0, v.bool_value); break;
            default: break;
          }
        }
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

// ---- *_expect.csv ----

std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::optional<std::string>>> rows(1);
  std::optional<std::string> cell;
  bool quoted = false, in_quotes = false;
  std::string cur;
  auto end_cell = [&] {
    rows.back().push_back(quoted || !cur.empty() ? std::optional<std::string>(cur) : std::nullopt);
    cur.clear();
    quoted = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_quotes) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (ch == '"') {
        in_quotes = false;
      } else {
        cur.push_back(ch);
      }
    } else if (ch == '"') {
      in_quotes = quoted = true;
    } else if (ch == ',') {
      end_cell();
    } else if (ch == '\n') {
      end_cell();
      rows.emplace_back();
    } else if (ch != '\r') {
      cur.push_back(ch);
    }
  }
  if (!cur.empty() || !rows.back().empty()) end_cell();
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

std::string Plain(const Value& v) {
  if (v.kind == Value::Kind::kString || v.kind == Value::Kind::kBinary) return v.bytes;
  return v.ToString();
}

TEST_F(Conformance, MatchesExpectCsv) {
  for (const std::string base :
       {"delta_binary_packed", "delta_byte_array", "delta_encoding_required_column"}) {
    const auto csv = ParseCsv(DataPath(base + "_expect.csv"));
    Result<std::vector<Value>> rows = ReadFile(base + ".parquet");
    ASSERT_TRUE(rows.ok()) << base << ": " << rows.status().ToString();
    ASSERT_EQ(rows->size() + 1, csv.size()) << base;
    for (size_t r = 0; r < rows->size(); ++r) {
      const Value& row = (*rows)[r];
      ASSERT_EQ(row.items.size(), csv[r + 1].size()) << base << " row " << r;
      for (size_t c = 0; c < row.items.size(); ++c) {
        const std::optional<std::string>& want = csv[r + 1][c];
        if (!want) {
          EXPECT_TRUE(row.items[c].is_null()) << base << " row " << r << " col " << c;
        } else {
          EXPECT_EQ(Plain(row.items[c]), *want) << base << " row " << r << " col " << c;
        }
      }
    }
  }
}

// ---- well-known files (values as DuckDB reads them) ----

TEST_F(Conformance, AlltypesPlain) {
  const auto rows = Rows("alltypes_plain.parquet");
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0],
            "{id: 4, bool_col: true, tinyint_col: 0, smallint_col: 0, int_col: 0, bigint_col: 0, "
            "float_col: 0, double_col: 0, date_string_col: 0x30332f30312f3039, string_col: 0x30, "
            "timestamp_col: 1235865600000000}");
  EXPECT_THAT(rows[7], HasSubstr("id: 1, bool_col: false"));
  EXPECT_THAT(rows[7], HasSubstr("timestamp_col: 1230768060000000"));
  EXPECT_EQ(Rows("alltypes_plain.snappy.parquet").size(), 2u);
  EXPECT_EQ(Rows("alltypes_dictionary.parquet").size(), 2u);
  const auto tiny = Rows("alltypes_tiny_pages_plain.parquet");
  ASSERT_EQ(tiny.size(), 7300u);
  bool found = false;
  for (const std::string& r : tiny) {
    if (r.rfind("{id: 6000,", 0) == 0) {
      found = true;
      EXPECT_THAT(r, HasSubstr("date_string_col: \"08/24/10\""));
      EXPECT_THAT(r, HasSubstr("year: 2010, month: 8"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(Conformance, NestedFiles) {
  EXPECT_EQ(Rows("nested_lists.snappy.parquet"),
            (std::vector<std::string>{
                "{a: [[[\"a\", \"b\"], [\"c\"]], [null, [\"d\"]]], b: 1}",
                "{a: [[[\"a\", \"b\"], [\"c\", \"d\"]], [null, [\"e\"]]], b: 1}",
                "{a: [[[\"a\", \"b\"], [\"c\", \"d\"], [\"e\"]], [null, [\"f\"]]], b: 1}"}));
  const auto maps = Rows("nested_maps.snappy.parquet");
  ASSERT_EQ(maps.size(), 6u);
  EXPECT_EQ(maps[0], "{a: {\"a\": {1: true, 2: false}}, b: 1, c: 1}");
  EXPECT_EQ(maps[2], "{a: {\"c\": null}, b: 1, c: 1}");
  EXPECT_EQ(maps[3], "{a: {\"d\": {}}, b: 1, c: 1}");
  EXPECT_EQ(maps[5], "{a: {\"f\": {3: true, 4: false, 5: true}}, b: 1, c: 1}");
  EXPECT_EQ(Rows("list_columns.parquet"),
            (std::vector<std::string>{
                "{int64_list: [1, 2, 3], utf8_list: [\"abc\", \"efg\", \"hij\"]}",
                "{int64_list: [null, 1], utf8_list: null}",
                "{int64_list: [4], utf8_list: [\"efg\", null, \"hij\", \"xyz\"]}"}));
  EXPECT_EQ(Rows("nonnullable.impala.parquet"),
            (std::vector<std::string>{
                "{ID: 8, Int_Array: [-1], int_array_array: [[-1, -2], []], Int_Map: {\"k1\": -1}, "
                "int_map_array: [{}, {\"k1\": 1}, {}, {}], nested_Struct: {a: -1, B: [-1], c: {D: "
                "[[{e: -1, f: \"nonnullable\"}]]}, G: {}}}"}));
  const auto nullable = Rows("nullable.impala.parquet");
  ASSERT_EQ(nullable.size(), 7u);
  EXPECT_EQ(
      nullable[1],
      "{id: 2, int_array: [null, 1, 2, null, 3, null], int_array_Array: [[null, 1, 2, null], "
      "[3, null, 4], [], null], int_map: {\"k1\": 2, \"k2\": null}, int_Map_Array: [{\"k3\": "
      "null, \"k1\": 1}, null, {}], nested_struct: {A: null, b: [null], C: {d: [[{E: null, F: "
      "null}, {E: 10, F: \"aaa\"}, {E: null, F: null}, {E: -10, F: \"bbb\"}, {E: null, F: "
      "null}], [{E: 11, F: \"c\"}, null], [], null]}, g: {\"g1\": {H: {i: "
      "[2.2000000000000002, null]}}, \"g2\": {H: {i: []}}, \"g3\": null, \"g4\": {H: {i: "
      "null}}, \"g5\": {H: null}}}}");
  EXPECT_EQ(Rows("old_list_structure.parquet"),
            (std::vector<std::string>{"{a: [[1, 2], [3, 4]]}"}));
  EXPECT_EQ(Rows("null_list.parquet"), (std::vector<std::string>{"{emptylist: []}"}));
  EXPECT_EQ(
      Rows("incorrect_map_schema.parquet"),
      (std::vector<std::string>{"{my_map: {\"parent\": \"another\", \"name\": \"report\"}}"}));
  const auto repeated = Rows("repeated_no_annotation.parquet");
  ASSERT_EQ(repeated.size(), 6u);
  EXPECT_EQ(repeated[0], "{id: 1, phoneNumbers: null}");
  EXPECT_EQ(repeated[2], "{id: 3, phoneNumbers: {phone: []}}");
  EXPECT_EQ(repeated[5],
            "{id: 6, phoneNumbers: {phone: [{number: 1111111111, kind: \"home\"}, {number: "
            "2222222222, kind: null}, {number: 3333333333, kind: \"mobile\"}]}}");
  const auto prim = Rows("repeated_primitive_no_list.parquet");
  ASSERT_EQ(prim.size(), 4u);
  EXPECT_EQ(prim[1],
            "{Int32_list: [], String_list: [\"three\"], group_of_lists: {Int32_list_in_group: [], "
            "String_list_in_group: [\"three\"]}}");
  EXPECT_EQ(Rows("nulls.snappy.parquet"),
            std::vector<std::string>(8, "{b_struct: {b_c_int: null}}"));
}

TEST_F(Conformance, NestedProjection) {
  auto reader = OpenFile(DataPath("nullable.impala.parquet"));
  ASSERT_TRUE(reader.ok());
  Result<std::vector<Value>> rows =
      (*reader)->ReadRows(0, {"id", "nested_struct.A", "nested_struct.g"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_EQ((*rows)[0].ToString(),
            "{id: 1, nested_struct: {A: 1, g: {\"foo\": {H: {i: [1.1000000000000001]}}}}}");
  Result<std::vector<Value>> keys = (*reader)->ReadRows(0, {"int_map.map.key"});
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ((*keys)[0].ToString(), "{int_map: {\"k1\": null, \"k2\": null}}");
  EXPECT_FALSE((*reader)->ReadRows(0, {"nested_struct.nope"}).ok());
}

TEST_F(Conformance, PageVersionsAndEncodings) {
  EXPECT_EQ(Rows("datapage_v2.snappy.parquet"),
            (std::vector<std::string>{"{a: \"abc\", b: 1, c: 2, d: true, e: [1, 2, 3]}",
                                      "{a: \"abc\", b: 2, c: 3, d: true, e: null}",
                                      "{a: \"abc\", b: 3, c: 4, d: true, e: null}",
                                      "{a: null, b: 4, c: 5, d: false, e: [1, 2, 3]}",
                                      "{a: \"abc\", b: 5, c: 2, d: true, e: [1, 2]}"}));
  EXPECT_EQ(Rows("datapage_v2_empty_datapage.snappy.parquet"),
            (std::vector<std::string>{"{value: null}"}));
  EXPECT_EQ(Rows("page_v2_empty_compressed.parquet"),
            std::vector<std::string>(10, "{integer_column: null}"));

  Result<std::vector<Value>> bss = ReadFile("byte_stream_split.zstd.parquet");
  ASSERT_TRUE(bss.ok());
  ASSERT_EQ(bss->size(), 300u);
  EXPECT_FLOAT_EQ(static_cast<float>((*bss)[0].items[0].double_value), 1.764052391052246f);
  EXPECT_DOUBLE_EQ((*bss)[0].items[1].double_value, -1.3065268517353166);
  double sum64 = 0;
  for (const Value& v : *bss) sum64 += v.items[1].double_value;
  EXPECT_NEAR(sum64, -41.22919022747558, 1e-9);
  // BYTE_STREAM_SPLIT columns equal their PLAIN twins, for every type.
  Result<std::vector<Value>> ext = ReadFile("byte_stream_split_extended.gzip.parquet");
  ASSERT_TRUE(ext.ok());
  ASSERT_EQ(ext->size(), 200u);
  for (const Value& row : *ext) {
    for (size_t c = 0; c + 1 < row.items.size(); c += 2) {
      EXPECT_EQ(row.items[c].ToString(), row.items[c + 1].ToString()) << row.names[c];
    }
  }

  Result<std::vector<Value>> dlba = ReadFile("delta_length_byte_array.parquet");
  ASSERT_TRUE(dlba.ok());
  ASSERT_EQ(dlba->size(), 1000u);
  std::string lo = (*dlba)[0].items[0].bytes, hi = lo;
  for (const Value& v : *dlba) {
    lo = std::min(lo, v.items[0].bytes);
    hi = std::max(hi, v.items[0].bytes);
  }
  EXPECT_EQ(lo, "apple_banana_mango0");
  EXPECT_EQ(hi, "apple_banana_mango99856");

  const auto rle_bool = Rows("rle_boolean_encoding.parquet");
  ASSERT_EQ(rle_bool.size(), 68u);
  EXPECT_EQ(std::vector<std::string>(rle_bool.begin(), rle_bool.begin() + 6),
            (std::vector<std::string>{"{datatype_boolean: true}", "{datatype_boolean: false}",
                                      "{datatype_boolean: null}", "{datatype_boolean: true}",
                                      "{datatype_boolean: true}", "{datatype_boolean: false}"}));

  Result<std::vector<Value>> nullpages = ReadFile("int32_with_null_pages.parquet");
  ASSERT_TRUE(nullpages.ok());
  int64_t count = 0, sum = 0;
  for (const Value& v : *nullpages) {
    if (!v.items[0].is_null()) {
      ++count;
      sum += v.items[0].int_value;
    }
  }
  EXPECT_EQ(nullpages->size(), 1000u);
  EXPECT_EQ(count, 725);
  EXPECT_EQ(sum, -12383254597);

  const auto overflow = Rows("overflow_i16_page_cnt.parquet");
  EXPECT_EQ(overflow.size(), 40000u);
}

TEST_F(Conformance, TypesAndCodecs) {
  // INT96 as microseconds since the epoch (DuckDB: epoch_us).
  const auto int96 = Rows("int96_from_spark.parquet");
  ASSERT_EQ(int96.size(), 6u);
  EXPECT_EQ(int96[0], "{a: 1704141296123456}");
  EXPECT_EQ(int96[1], "{a: 1704070800000000}");
  EXPECT_EQ(int96[2], "{a: 253402225200000000}");
  EXPECT_EQ(int96[4], "{a: null}");

  const std::vector<std::string> small = {
      "{c0: 1593604800, c1: 0x616263, v11: 42}",
      "{c0: 1593604800, c1: 0x646566, v11: 7.7000000000000002}",
      "{c0: 1593604801, c1: 0x616263, v11: 42.125}",
      "{c0: 1593604801, c1: 0x646566, v11: 7.7000000000000002}"};
  EXPECT_EQ(Rows("lz4_raw_compressed.parquet"), small);
  EXPECT_EQ(Rows("hadoop_lz4_compressed.parquet"), small);
  EXPECT_EQ(Rows("non_hadoop_lz4_compressed.parquet"), small);
  const auto larger_raw = Rows("lz4_raw_compressed_larger.parquet");
  ASSERT_EQ(larger_raw.size(), 10000u);
  EXPECT_EQ(Rows("hadoop_lz4_compressed_larger.parquet"), larger_raw);

  const auto gz = Rows("concatenated_gzip_members.parquet");
  ASSERT_EQ(gz.size(), 513u);
  EXPECT_EQ(gz.back(), "{long_col: 513}");

  const auto flba = Rows("fixed_length_byte_array.parquet");
  ASSERT_EQ(flba.size(), 1000u);
  EXPECT_EQ(flba[0], "{flba_field: 0x000003e8}");
  EXPECT_EQ(flba[1], "{flba_field: null}");
  EXPECT_EQ(Rows("float16_zeros_and_nans.parquet"),
            (std::vector<std::string>{"{x: null}", "{x: 0}", "{x: nan}"}));
  const auto dec = Rows("int32_decimal.parquet");
  ASSERT_EQ(dec.size(), 24u);
  EXPECT_EQ(dec[0], "{value: 100}");  // DECIMAL(.., 2): 1.00
  EXPECT_EQ(Rows("sort_columns.parquet")[1], "{a: 2, b: \"b\"}");
}

TEST_F(Conformance, ChecksumsAreVerifiedOnRequest) {
  ReaderOptions crc;
  crc.verify_checksums = true;
  for (const std::string good :
       {"datapage_v1-snappy-compressed-checksum.parquet",
        "datapage_v1-uncompressed-checksum.parquet", "plain-dict-uncompressed-checksum.parquet"}) {
    Result<std::vector<Value>> rows = ReadFile(good, crc);
    EXPECT_TRUE(rows.ok()) << good << ": " << rows.status().ToString();
  }
  for (const std::string bad :
       {"datapage_v1-corrupt-checksum.parquet", "rle-dict-uncompressed-corrupt-checksum.parquet"}) {
    EXPECT_TRUE(ReadFile(bad).ok()) << bad;  // checks off: read (values are garbage)
    Result<std::vector<Value>> rows = ReadFile(bad, crc);
    ASSERT_FALSE(rows.ok()) << bad;
    EXPECT_EQ(rows.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(rows.status().message(), HasSubstr("CRC mismatch"));
    EXPECT_THAT(rows.status().message(), HasSubstr("page at offset"));
  }
  Result<std::vector<Value>> sums = ReadFile("datapage_v1-snappy-compressed-checksum.parquet", crc);
  ASSERT_TRUE(sums.ok());
  int64_t a = 0, b = 0;
  for (const Value& v : *sums) {
    a += v.items[0].int_value;
    b += v.items[1].int_value;
  }
  EXPECT_EQ(sums->size(), 5120u);
  EXPECT_EQ(a, 43118090240);
  EXPECT_EQ(b, 129016125440);
}

TEST_F(Conformance, BadDataGivesErrorsNotCrashes) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot / "bad_data")) {
    if (entry.path().extension() != ".parquet") continue;
    ++files;
    const std::string file = entry.path().filename().string();
    if (file == "ARROW-GH-43605.parquet") {
      // Dictionary indices written with bit width 0: every index is 0, which is what DuckDB
      // and DataFusion read too (21186 rows, all 0). We read it rather than refuse it.
      Result<std::vector<Value>> rows = ReadFile("../bad_data/" + file);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      ASSERT_EQ(rows->size(), 21186u);
      for (const Value& v : *rows) ASSERT_EQ(v.ToString(), "{min_fl: 0}");
      continue;
    }
    Result<std::unique_ptr<ParquetReader>> reader = OpenFile(entry.path().string());
    if (!reader.ok()) continue;
    bool failed = false;
    for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
      if (!(*reader)->ReadRows(g).ok()) failed = true;
    }
    EXPECT_TRUE(failed) << file << " was read without an error";
  }
  EXPECT_GE(files, 8);
}

TEST_F(Conformance, StatisticsSkipRowGroups) {
  // alltypes_tiny_pages_plain: one row group, id 0..7299.
  auto reader = OpenFile(DataPath("alltypes_tiny_pages_plain.parquet"));
  ASSERT_TRUE(reader.ok());
  auto sel = [&](CompareOp op, Value v) {
    return (*reader)->SelectRowGroups({{"id", op, std::move(v)}}).value_or({-1}).size();
  };
  EXPECT_EQ(sel(CompareOp::kEq, Value::Int32(6000)), 1u);
  EXPECT_EQ(sel(CompareOp::kGt, Value::Int32(7299)), 0u);
  EXPECT_EQ(sel(CompareOp::kGe, Value::Int32(7299)), 1u);
  EXPECT_EQ(sel(CompareOp::kLt, Value::Int32(0)), 0u);
  EXPECT_EQ(sel(CompareOp::kLe, Value::Int32(0)), 1u);
  EXPECT_EQ(sel(CompareOp::kEq, Value::Int64(-5)), 0u);
  EXPECT_EQ(sel(CompareOp::kEq, Value::Double(100.5)), 1u);
  EXPECT_FALSE((*reader)->SelectRowGroups({{"nope", CompareOp::kEq, Value::Int32(1)}}).ok());
}

}  // namespace
}  // namespace weft::lake::parquet

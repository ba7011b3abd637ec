#include "lake/parquet/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lake/parquet/codec.h"
#include "lake/parquet/rle.h"

namespace weft::lake::parquet {
namespace {

using ::testing::HasSubstr;

std::string Le64(int64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

// Appends one page (header + body) with a CRC; returns nothing.
void AppendPage(PageHeader h, const std::string& body, std::string* file) {
  h.compressed_page_size = static_cast<int32_t>(body.size());
  h.crc = static_cast<int32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  EncodePageHeader(h, file);
  *file += body;
}

// A two-row-group file: id INT64 required (PLAIN, v1, zstd), name optional UTF8 (dictionary +
// RLE_DICTIONARY, data page v2, zstd). Row group g holds ids g*100 .. g*100+9; name is null
// for ids divisible by 3, else "n<id % 2>".
std::string BuildFile() {
  std::string file = "PAR1";
  FileMetaData md;
  md.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 2;
  SchemaElement id;
  id.name = "id";
  id.type = Type::kInt64;
  id.repetition_type = Repetition::kRequired;
  SchemaElement name;
  name.name = "name";
  name.type = Type::kByteArray;
  name.repetition_type = Repetition::kOptional;
  name.converted_type = ConvertedType::kUtf8;
  md.schema = {root, id, name};
  md.column_orders = {true, true};
  for (int g = 0; g < 2; ++g) {
    RowGroup rg;
    rg.num_rows = 10;
    // id
    ColumnChunk idc;
    ColumnMetaData im;
    im.type = Type::kInt64;
    im.path_in_schema = {"id"};
    im.codec = Codec::kZstd;
    im.num_values = 10;
    im.data_page_offset = static_cast<int64_t>(file.size());
    std::string plain;
    for (int i = 0; i < 10; ++i) plain += Le64(g * 100 + i);
    PageHeader h;
    h.type = PageType::kDataPage;
    h.uncompressed_page_size = static_cast<int32_t>(plain.size());
    h.data_page_header = DataPageHeader{};
    h.data_page_header->num_values = 10;
    const size_t start = file.size();
    AppendPage(h, *Compress(Codec::kZstd, plain), &file);
    im.total_compressed_size = static_cast<int64_t>(file.size() - start);
    im.total_uncompressed_size = im.total_compressed_size;
    Statistics st;
    st.min_value = Le64(g * 100);
    st.max_value = Le64(g * 100 + 9);
    st.null_count = 0;
    im.statistics = st;
    idc.meta_data = im;
    // name
    ColumnChunk nc;
    ColumnMetaData nm;
    nm.type = Type::kByteArray;
    nm.path_in_schema = {"name"};
    nm.codec = Codec::kZstd;
    nm.num_values = 10;
    const size_t nstart = file.size();
    nm.dictionary_page_offset = static_cast<int64_t>(nstart);
    const std::string dict = std::string("\x02\0\0\0n0\x02\0\0\0n1", 12);
    PageHeader dh;
    dh.type = PageType::kDictionaryPage;
    dh.uncompressed_page_size = static_cast<int32_t>(dict.size());
    dh.dictionary_page_header = DictionaryPageHeader{2, Encoding::kPlain, std::nullopt};
    AppendPage(dh, *Compress(Codec::kZstd, dict), &file);
    nm.data_page_offset = static_cast<int64_t>(file.size());
    std::vector<uint32_t> defs, idx;
    for (int i = 0; i < 10; ++i) {
      const int v = g * 100 + i;
      defs.push_back(v % 3 == 0 ? 0 : 1);
      if (v % 3 != 0) idx.push_back(static_cast<uint32_t>(v % 2));
    }
    const std::string levels = RleEncode(defs.data(), defs.size(), 1);
    std::string values(1, '\x01');
    values += RleEncode(idx.data(), idx.size(), 1);
    PageHeader v2;
    v2.type = PageType::kDataPageV2;
    v2.uncompressed_page_size = static_cast<int32_t>(levels.size() + values.size());
    v2.data_page_header_v2 = DataPageHeaderV2{};
    v2.data_page_header_v2->num_values = 10;
    v2.data_page_header_v2->num_rows = 10;
    v2.data_page_header_v2->num_nulls = static_cast<int32_t>(10 - idx.size());
    v2.data_page_header_v2->encoding = Encoding::kRleDictionary;
    v2.data_page_header_v2->definition_levels_byte_length = static_cast<int32_t>(levels.size());
    AppendPage(v2, levels + *Compress(Codec::kZstd, values), &file);
    nm.total_compressed_size = static_cast<int64_t>(file.size() - nstart);
    nc.meta_data = nm;
    rg.columns = {idc, nc};
    md.row_groups.push_back(rg);
  }
  md.num_rows = 20;
  const std::string footer = EncodeFileMetaData(md);
  file += footer;
  const auto len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  return file;
}

std::unique_ptr<ParquetReader> Open(std::string bytes, ReaderOptions o = {}) {
  auto r = ParquetReader::Open(std::make_unique<MemorySource>(std::move(bytes), "test.parquet"), o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(ReaderTest, FlatPathAndProjection) {
  auto r = Open(BuildFile());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->schema().IsFlat());
  Result<FlatBatch> b = r->ReadFlat(1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->num_rows, 10);
  ASSERT_EQ(b->columns.size(), 2u);
  EXPECT_EQ(b->columns[0].values.int64s[3], 103);
  EXPECT_TRUE(b->columns[0].validity.empty());
  const FlatColumn& name = b->columns[1];
  EXPECT_FALSE(name.IsValid(2));  // 102 % 3 == 0
  EXPECT_TRUE(name.IsValid(3));
  EXPECT_EQ(name.values.Binary(3), "n1");
  EXPECT_EQ(name.values.Binary(4), "n0");
  EXPECT_EQ(name.values.Binary(2), "");
  Result<FlatBatch> only = r->ReadFlat(0, {"name"});
  ASSERT_TRUE(only.ok());
  ASSERT_EQ(only->columns.size(), 1u);
  EXPECT_EQ(only->columns[0].name, "name");
  EXPECT_FALSE(r->ReadFlat(0, {"missing"}).ok());
}

TEST(ReaderTest, ReadFlatIntoReusesTheBatch) {
  auto r = Open(BuildFile());
  ASSERT_NE(r, nullptr);
  FlatBatch batch;
  for (int g : {0, 1, 0}) {
    ASSERT_TRUE(r->ReadFlatInto(g, {"name", "id"}, &batch).ok());
    Result<FlatBatch> fresh = r->ReadFlat(g, {"name", "id"});
    ASSERT_TRUE(fresh.ok());
    ASSERT_EQ(batch.columns.size(), 2u);
    EXPECT_EQ(batch.columns[1].values.int64s, fresh->columns[1].values.int64s);
    EXPECT_EQ(batch.columns[0].validity, fresh->columns[0].validity);
    EXPECT_EQ(batch.columns[0].values.offsets, fresh->columns[0].values.offsets);
    EXPECT_EQ(batch.columns[0].values.bytes, fresh->columns[0].values.bytes);
    EXPECT_EQ(batch.columns[0].values.Binary(1), g == 0 ? "n1" : "n1");
  }
}

TEST(ReaderTest, RowsAndStatistics) {
  auto r = Open(BuildFile());
  ASSERT_NE(r, nullptr);
  Result<std::vector<Value>> rows = r->ReadRows(0);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 10u);
  EXPECT_EQ((*rows)[0].ToString(), "{id: 0, name: null}");
  EXPECT_EQ((*rows)[1].ToString(), "{id: 1, name: \"n1\"}");
  Result<std::vector<Value>> ids = r->ReadRows(1, {"id"});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ((*ids)[9].ToString(), "{id: 109}");

  auto groups = [&](std::vector<Predicate> p) { return r->SelectRowGroups(p).value_or({-1}); };
  EXPECT_EQ(groups({{"id", CompareOp::kEq, Value::Int64(105)}}), std::vector<int>({1}));
  EXPECT_EQ(groups({{"id", CompareOp::kLt, Value::Int64(100)}}), std::vector<int>({0}));
  EXPECT_EQ(groups({{"id", CompareOp::kLe, Value::Int64(100)}}), std::vector<int>({0, 1}));
  EXPECT_EQ(groups({{"id", CompareOp::kGt, Value::Int64(9)}}), std::vector<int>({1}));
  EXPECT_EQ(groups({{"id", CompareOp::kGe, Value::Int64(9)}}), std::vector<int>({0, 1}));
  EXPECT_EQ(groups({{"id", CompareOp::kEq, Value::Int64(50)}}), std::vector<int>({}));
  EXPECT_EQ(
      groups({{"id", CompareOp::kGt, Value::Int64(5)}, {"id", CompareOp::kLt, Value::Int64(7)}}),
      std::vector<int>({0}));
  // No statistics on name: never skipped.
  EXPECT_EQ(groups({{"name", CompareOp::kEq, Value::String("zz")}}), std::vector<int>({0, 1}));
}

TEST(ReaderTest, ChecksumVerification) {
  std::string bytes = BuildFile();
  // Flip a byte inside the first page body (after "PAR1" and the page header).
  size_t header_len = 0;
  ASSERT_TRUE(DecodePageHeader(std::string_view(bytes).substr(4), &header_len).ok());
  bytes[4 + header_len + 3] ^= 0x01;
  ReaderOptions crc;
  crc.verify_checksums = true;
  auto r = Open(bytes, crc);
  ASSERT_NE(r, nullptr);
  Result<ColumnChunkData> c = r->ReadColumnChunk(0, 0);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("test.parquet: row group 0, column 'id': page at offset 4"));
  EXPECT_THAT(c.status().message(), HasSubstr("CRC mismatch"));
}

TEST(ReaderTest, FooterChecks) {
  const std::string good = BuildFile();
  auto open = [](std::string b) {
    return ParquetReader::Open(std::make_unique<MemorySource>(std::move(b), "x.parquet"));
  };
  EXPECT_THAT(open("PAR1").status().message(), HasSubstr("too small"));
  std::string bad_head = good;
  bad_head[0] = 'X';
  EXPECT_THAT(open(bad_head).status().message(), HasSubstr("at the start"));
  std::string bad_tail = good;
  bad_tail.back() = 'X';
  EXPECT_THAT(open(bad_tail).status().message(), HasSubstr("at the end"));
  std::string bad_len = good;
  const uint32_t huge = 1u << 30;
  std::memcpy(bad_len.data() + bad_len.size() - 8, &huge, 4);
  EXPECT_THAT(open(bad_len).status().message(), HasSubstr("footer length"));
}

// Every truncation and many byte flips give an error or a result, never a crash (ASan build).
TEST(ReaderTest, CorruptionNeverCrashes) {
  const std::string good = BuildFile();
  std::mt19937 rng(1);
  ReaderOptions o;
  o.max_page_values = 1 << 16;
  o.verify_checksums = false;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string b = good;
    if (iter < 200) {
      b = b.substr(0, static_cast<size_t>(iter) * b.size() / 200);
    } else {
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<char>(rng());
    }
    auto r = ParquetReader::Open(std::make_unique<MemorySource>(b, "fuzz"), o);
    if (!r.ok()) continue;
    for (int g = 0; g < (*r)->num_row_groups(); ++g) {
      (void)(*r)->ReadRows(g);
      (void)(*r)->ReadFlat(g);
    }
  }
}

}  // namespace
}  // namespace weft::lake::parquet

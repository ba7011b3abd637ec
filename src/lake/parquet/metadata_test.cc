#include "lake/parquet/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace weft::lake::parquet {
namespace {

using ::testing::HasSubstr;

FileMetaData SampleMetaData() {
  FileMetaData md;
  md.version = 2;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 2;
  SchemaElement a;
  a.name = "ts";
  a.type = Type::kInt64;
  a.repetition_type = Repetition::kRequired;
  LogicalType ts;
  ts.kind = LogicalType::Kind::kTimestamp;
  ts.is_adjusted_to_utc = true;
  ts.unit = TimeUnit::kNanos;
  a.logical_type = ts;
  SchemaElement b;
  b.name = "v";
  b.type = Type::kFixedLenByteArray;
  b.type_length = 16;
  b.repetition_type = Repetition::kOptional;
  b.converted_type = ConvertedType::kDecimal;
  b.scale = 2;
  b.precision = 30;
  LogicalType dec;
  dec.kind = LogicalType::Kind::kDecimal;
  dec.decimal_scale = 2;
  dec.decimal_precision = 30;
  b.logical_type = dec;
  SchemaElement c;
  c.name = "i8";
  c.type = Type::kInt32;
  c.repetition_type = Repetition::kOptional;
  LogicalType i8;
  i8.kind = LogicalType::Kind::kInteger;
  i8.bit_width = 8;
  i8.is_signed = false;
  c.logical_type = i8;
  md.schema = {root, a, b, c};
  md.schema[0].num_children = 3;
  md.num_rows = 12345;
  RowGroup g;
  g.num_rows = 12345;
  g.total_byte_size = 999;
  g.ordinal = 0;
  ColumnChunk cc;
  cc.file_offset = 4;
  ColumnMetaData m;
  m.type = Type::kInt64;
  m.encodings = {Encoding::kPlain, Encoding::kRle};
  m.path_in_schema = {"ts"};
  m.codec = Codec::kZstd;
  m.num_values = 12345;
  m.total_compressed_size = 100;
  m.total_uncompressed_size = 200;
  m.data_page_offset = 4;
  m.dictionary_page_offset = 4;
  Statistics st;
  st.min_value = std::string("\x01\0\0\0\0\0\0\0", 8);
  st.max_value = std::string("\x09\0\0\0\0\0\0\0", 8);
  st.null_count = 0;
  m.statistics = st;
  m.key_value_metadata = {{"k", "v"}, {"k2", std::nullopt}};
  cc.meta_data = m;
  g.columns = {cc, cc, cc};
  md.row_groups = {g};
  md.key_value_metadata = {{"weft", "1"}};
  md.created_by = "weft";
  md.column_orders = {true, true, true};
  return md;
}

TEST(MetadataTest, FileMetaDataRoundTrip) {
  const FileMetaData md = SampleMetaData();
  const std::string bytes = EncodeFileMetaData(md);
  Result<FileMetaData> back = DecodeFileMetaData(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(EncodeFileMetaData(*back), bytes);
  EXPECT_EQ(back->schema.size(), 4u);
  EXPECT_EQ(back->schema[1].logical_type->kind, LogicalType::Kind::kTimestamp);
  EXPECT_EQ(back->schema[1].logical_type->unit, TimeUnit::kNanos);
  EXPECT_TRUE(back->schema[1].logical_type->is_adjusted_to_utc);
  EXPECT_EQ(back->schema[2].logical_type->decimal_precision, 30);
  EXPECT_EQ(back->schema[2].type_length, 16);
  EXPECT_EQ(back->schema[3].logical_type->bit_width, 8);
  EXPECT_FALSE(back->schema[3].logical_type->is_signed);
  const ColumnMetaData& m = *back->row_groups[0].columns[0].meta_data;
  EXPECT_EQ(m.codec, Codec::kZstd);
  EXPECT_EQ(m.encodings.size(), 2u);
  EXPECT_EQ(m.statistics->max_value->size(), 8u);
  EXPECT_EQ(m.key_value_metadata[1].value, std::nullopt);
  EXPECT_EQ(back->column_orders, std::vector<bool>({true, true, true}));
  EXPECT_EQ(back->row_groups[0].ordinal, 0);
}

TEST(MetadataTest, PageHeaderRoundTrip) {
  PageHeader h;
  h.type = PageType::kDataPageV2;
  h.uncompressed_page_size = 100;
  h.compressed_page_size = 50;
  h.crc = -12345;
  DataPageHeaderV2 v2;
  v2.num_values = 10;
  v2.num_nulls = 1;
  v2.num_rows = 10;
  v2.encoding = Encoding::kRleDictionary;
  v2.definition_levels_byte_length = 3;
  v2.is_compressed = false;
  h.data_page_header_v2 = v2;
  std::string bytes;
  EncodePageHeader(h, &bytes);
  bytes += "payload";
  size_t consumed = 0;
  Result<PageHeader> back = DecodePageHeader(bytes, &consumed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(consumed, bytes.size() - 7);
  EXPECT_EQ(back->crc, -12345);
  EXPECT_FALSE(back->data_page_header_v2->is_compressed);
  EXPECT_EQ(back->data_page_header_v2->encoding, Encoding::kRleDictionary);

  PageHeader d;
  d.type = PageType::kDictionaryPage;
  d.dictionary_page_header = DictionaryPageHeader{7, Encoding::kPlain, true};
  PageHeader p;
  p.data_page_header = DataPageHeader{};
  p.data_page_header->num_values = 3;
  std::string b2;
  EncodePageHeader(d, &b2);
  EncodePageHeader(p, &b2);
  Result<PageHeader> d2 = DecodePageHeader(b2, &consumed);
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->dictionary_page_header->num_values, 7);
  Result<PageHeader> p2 = DecodePageHeader(std::string_view(b2).substr(consumed), &consumed);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->data_page_header->num_values, 3);
}

TEST(MetadataTest, TruncationsAndCorruptionsGiveErrorsNotCrashes) {
  const std::string bytes = EncodeFileMetaData(SampleMetaData());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeFileMetaData(bytes.substr(0, n)).ok()) << n;
  }
  // Flip every byte: must never crash (result may be ok or not).
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ 0xFF);
    (void)DecodeFileMetaData(b);
  }
  Result<FileMetaData> empty = DecodeFileMetaData(std::string_view("\0", 1));
  EXPECT_THAT(empty.status().message(), HasSubstr("schema"));
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MetadataTest, DecodesEveryConformanceFooter) {
  const std::filesystem::path dir = std::filesystem::path(WEFT_PARQUET_TESTING_DIR) / "data";
  ASSERT_TRUE(std::filesystem::exists(dir))
      << dir << " not found (tests/conformance is part of the repository)";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".parquet") continue;
    const std::string bytes = ReadFile(entry.path());
    ASSERT_GE(bytes.size(), 12u) << entry.path();
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + bytes.size() - 8, 4);
    ASSERT_LE(len, bytes.size() - 12) << entry.path();
    Result<FileMetaData> md =
        DecodeFileMetaData(std::string_view(bytes).substr(bytes.size() - 8 - len, len));
    ASSERT_TRUE(md.ok()) << entry.path() << ": " << md.status().ToString();
    EXPECT_FALSE(md->schema.empty()) << entry.path();
    // Our encoding of what we decoded decodes to the same encoding (fixed point).
    const std::string again = EncodeFileMetaData(*md);
    Result<FileMetaData> md2 = DecodeFileMetaData(again);
    ASSERT_TRUE(md2.ok()) << entry.path();
    EXPECT_EQ(EncodeFileMetaData(*md2), again) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 60);
}

}  // namespace
}  // namespace weft::lake::parquet

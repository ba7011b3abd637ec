#include "lake/delta/deletion_vector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake/delta/memory_store_for_test.h"

namespace weft::lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Le32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}
std::string Le16(uint16_t v) {
  return Le32(v).substr(0, 2);
}

// magic + one bucket (key 0) + the given 32-bit bitmap.
std::string Vector(const std::string& bitmap32) {
  return Le32(1681511377) + Le32(1) + Le32(0) + Le32(0) + bitmap32;
}

TEST(DeletionVectorTest, InlineExampleFromTheProtocol) {
  DeletionVectorDescriptor dv{
      .storage_type = "i",
      .path_or_inline_dv = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L",
      .size_in_bytes = 40,
      .cardinality = 6};
  ManualClock clock(TimeFromUnixMicros(0));
  testing::MemoryStore store(&clock);
  Result<DeletedRows> rows = LoadDeletionVector(store, dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_THAT(rows->rows(), ElementsAre(3, 4, 7, 11, 18, 29));
  EXPECT_TRUE(rows->Contains(18));
  EXPECT_FALSE(rows->Contains(19));
  dv.cardinality = 5;
  EXPECT_EQ(LoadDeletionVector(store, dv).status().code(), StatusCode::kDataLoss);
}

TEST(DeletionVectorTest, RelativePathExampleFromTheProtocol) {
  DeletionVectorDescriptor dv{.storage_type = "u", .path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^"};
  EXPECT_EQ(*DeletionVectorKey(dv), "ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
}

TEST(DeletionVectorTest, OnDiskVectorWithChecksum) {
  ManualClock clock(TimeFromUnixMicros(0));
  testing::MemoryStore store(&clock);
  // The file of the conformance table table-with-dv-small: rows 0 and 9.
  const unsigned char file[] = {
      0x01, 0x00, 0x00, 0x00, 0x24, 0xd1, 0xd3, 0x39, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x2a, 0x67, 0x18, 0x46};
  std::string bytes(reinterpret_cast<const char*>(file), sizeof(file));
  DeletionVectorDescriptor dv{.storage_type = "u",
                              .path_or_inline_dv = "vBn[lx{q8@P<9BNH/isA",
                              .offset = 1,
                              .size_in_bytes = 36,
                              .cardinality = 2};
  ASSERT_EQ(*DeletionVectorKey(dv), "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin");
  ASSERT_TRUE(store.Put(*DeletionVectorKey(dv), bytes).ok());
  Result<DeletedRows> rows = LoadDeletionVector(store, dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_THAT(rows->rows(), ElementsAre(0, 9));
  bytes[40] = 0x08;  // row 9 -> 8: the CRC no longer matches
  ASSERT_TRUE(store.Put(*DeletionVectorKey(dv), bytes).ok());
  Result<DeletedRows> bad = LoadDeletionVector(store, dv);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("CRC-32"));
}

TEST(DeletionVectorTest, RunAndBitmapContainers) {
  // Run containers: cookie 12347 | (n-1) << 16, run flags, then (no offsets below 4 containers).
  std::string runs = Le32(12347 | (1u << 16)) + std::string(1, '\x01') +  // container 0 is a run
                     Le16(0) + Le16(4) + Le16(1) + Le16(0) +              // keys/cardinalities
                     Le16(1) + Le16(10) + Le16(4) +                       // 1 run: 10..14
                     Le16(7);                                             // array: 65536+7
  Result<DeletedRows> r = DecodeDeletionVector(Vector(runs));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->rows(), ElementsAre(10, 11, 12, 13, 14, 65543));
  // A bitmap container (cardinality > 4096): every even value of the first 129 * 64.
  std::string words;
  for (int i = 0; i < 1024; ++i) words += (i < 129) ? std::string(8, '\x55') : std::string(8, '\0');
  std::string bitmap = Le32(12346) + Le32(1) + Le16(0) + Le16(4127) + Le32(0) + words;
  Result<DeletedRows> b = DecodeDeletionVector(Vector(bitmap));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->size(), 4128u);
  EXPECT_TRUE(b->Contains(8254));
  EXPECT_TRUE(b->Contains(8190));
  EXPECT_FALSE(b->Contains(8191));
}

TEST(DeletionVectorTest, MalformedInputIsAnError) {
  EXPECT_FALSE(DecodeDeletionVector("").ok());
  EXPECT_FALSE(DecodeDeletionVector(Le32(42) + std::string(8, '\0')).ok());
  EXPECT_FALSE(DecodeDeletionVector(Vector(Le32(12346) + Le32(5))).ok());  // truncated
  EXPECT_FALSE(Z85Decode("abcd").ok());
  EXPECT_FALSE(Z85Decode("~~~~~").ok());
}

}  // namespace
}  // namespace weft::lake::delta

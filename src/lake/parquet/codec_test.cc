#include "lake/parquet/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace weft::lake::parquet {
namespace {

using ::testing::HasSubstr;

std::string SampleData(size_t n) {
  std::mt19937 rng(42);
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(static_cast<char>(i % 7 == 0 ? rng() % 256 : 'a' + i % 5));
  }
  return s;
}

class CodecRoundTrip : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecRoundTrip, CompressThenDecompress) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{100000}}) {
    const std::string data = SampleData(n);
    Result<std::string> packed = Compress(GetParam(), data);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    Result<std::string> back = Decompress(GetParam(), *packed, data.size());
    ASSERT_TRUE(back.ok()) << CodecName(GetParam()) << " n=" << n << ": "
                           << back.status().ToString();
    EXPECT_EQ(*back, data);
    if (n > 0) {
      // Wrong expected size is an error, never an overflow.
      EXPECT_FALSE(Decompress(GetParam(), *packed, data.size() - 1).ok());
      EXPECT_FALSE(Decompress(GetParam(), *packed, data.size() + 1).ok());
    }
  }
}

TEST_P(CodecRoundTrip, GarbageIsAnError) {
  if (GetParam() == Codec::kUncompressed) return;
  const std::string garbage = "\xff\xfe\xfd garbage that is not compressed \x01\x02";
  EXPECT_FALSE(Decompress(GetParam(), garbage, 1000).ok());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecRoundTrip,
                         ::testing::Values(Codec::kUncompressed, Codec::kSnappy, Codec::kGzip,
                                           Codec::kBrotli, Codec::kLz4, Codec::kLz4Raw,
                                           Codec::kZstd),
                         [](const auto& p) { return std::string(CodecName(p.param)); });

TEST(CodecTest, ConcatenatedGzipMembers) {
  const std::string a = SampleData(1000), b = SampleData(3000);
  std::string packed = *Compress(Codec::kGzip, a) + *Compress(Codec::kGzip, b);
  Result<std::string> back = Decompress(Codec::kGzip, packed, a.size() + b.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, a + b);
}

TEST(CodecTest, Lz4FallsBackToRawBlock) {
  const std::string data = SampleData(5000);
  Result<std::string> raw = Compress(Codec::kLz4Raw, data);
  ASSERT_TRUE(raw.ok());
  Result<std::string> back = Decompress(Codec::kLz4, *raw, data.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
}

TEST(CodecTest, CompressorReusesContext) {
  for (Codec c : {Codec::kZstd, Codec::kSnappy, Codec::kGzip}) {
    Compressor comp(c, c == Codec::kZstd ? 3 : 0);
    for (int i = 0; i < 3; ++i) {
      const std::string data = SampleData(1000 + static_cast<size_t>(i) * 100);
      std::string out = "prefix";
      ASSERT_TRUE(comp.CompressTo(data, &out).ok());
      Result<std::string> back = Decompress(c, std::string_view(out).substr(6), data.size());
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(*back, data);
    }
  }
}

TEST(CodecTest, LzoIsUnimplemented) {
  Result<std::string> r = Decompress(Codec::kLzo, "x", 1);
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("LZO"));
  EXPECT_EQ(Compress(Codec::kLzo, "x").status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace weft::lake::parquet

#include "lake/parquet/rle.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace weft::lake::parquet {
namespace {

std::vector<uint32_t> Mixed(size_t n, int bit_width, uint32_t seed) {
  std::mt19937 rng(seed);
  const uint64_t max = bit_width == 0 ? 0 : (uint64_t{1} << bit_width) - 1;
  std::vector<uint32_t> v;
  while (v.size() < n) {
    const auto value = static_cast<uint32_t>(max == 0 ? 0 : rng() % (max + 1));
    // Alternate runs (crossing 8-value boundaries) and literals.
    const size_t len = (rng() % 3 == 0) ? 1 + rng() % 40 : 1;
    for (size_t i = 0; i < len && v.size() < n; ++i) v.push_back(value);
  }
  return v;
}

TEST(RleTest, RoundTripAllBitWidths) {
  for (int w = 0; w <= 32; ++w) {
    for (size_t n :
         {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{100}, size_t{1003}}) {
      const std::vector<uint32_t> v =
          Mixed(n, w, static_cast<uint32_t>(w * 1000) + static_cast<uint32_t>(n));
      const std::string bytes = RleEncode(v.data(), v.size(), w);
      RleBitPackedDecoder d(bytes, w);
      std::vector<uint32_t> back(n);
      ASSERT_TRUE(d.Decode(back.data(), n).ok()) << "w=" << w << " n=" << n;
      EXPECT_EQ(back, v) << "w=" << w << " n=" << n;
      // Decoding in odd-sized pieces gives the same values.
      RleBitPackedDecoder d2(bytes, w);
      std::vector<uint32_t> pieces(n);
      size_t at = 0;
      for (size_t step = 1; at < n; step = step % 13 + 2) {
        const size_t k = std::min(step, n - at);
        ASSERT_TRUE(d2.Decode(pieces.data() + at, k).ok());
        at += k;
      }
      EXPECT_EQ(pieces, v) << "pieces w=" << w << " n=" << n;
    }
  }
}

TEST(RleTest, EncodeToAppendsAndMatchesEncoder) {
  const std::vector<uint32_t> v = Mixed(777, 5, 9);
  std::string out = "xy";
  RleEncodeTo(v.data(), v.size(), 5, &out);
  RleBitPackedEncoder e(5);
  for (uint32_t x : v) e.Put(x);
  EXPECT_EQ(out, "xy" + e.Finish());
  EXPECT_EQ(e.size(), 0u);
}

TEST(RleTest, LongRunsUseRle) {
  std::vector<uint32_t> v(10000, 5);
  v[3] = 1;
  v[9000] = 2;
  const std::string bytes = RleEncode(v.data(), v.size(), 3);
  EXPECT_LT(bytes.size(), 30u);
  RleBitPackedDecoder d(bytes, 3);
  std::vector<uint32_t> back(v.size());
  ASSERT_TRUE(d.Decode(back.data(), back.size()).ok());
  EXPECT_EQ(back, v);
}

TEST(RleTest, KnownEncodingFromSpec) {
  // Encodings.md: values 0..7 at bit width 3 bit-packed are 0x88 0xC6 0xFA after header 0x03.
  std::vector<uint32_t> v = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::string bytes = RleEncode(v.data(), v.size(), 3);
  EXPECT_EQ(bytes, std::string("\x03\x88\xC6\xFA"));
}

TEST(RleTest, TruncatedInputIsAnError) {
  std::vector<uint32_t> v = Mixed(500, 7, 1);
  const std::string bytes = RleEncode(v.data(), v.size(), 7);
  for (size_t cut = 0; cut < bytes.size(); cut += 3) {
    RleBitPackedDecoder d(std::string_view(bytes).substr(0, cut), 7);
    std::vector<uint32_t> back(v.size());
    EXPECT_FALSE(d.Decode(back.data(), back.size()).ok()) << cut;
  }
  RleBitPackedDecoder bounded(bytes, 7);
  std::vector<uint32_t> back(v.size());
  EXPECT_FALSE(bounded.DecodeBounded(back.data(), back.size(), 3).ok());
}

TEST(RleTest, BitPackRoundTrip64) {
  std::mt19937_64 rng(3);
  for (int w = 0; w <= 64; ++w) {
    std::vector<uint64_t> v(77);
    for (auto& x : v) x = w == 0 ? 0 : (w == 64 ? rng() : rng() & ((uint64_t{1} << w) - 1));
    std::string bytes;
    BitPack(v.data(), v.size(), w, &bytes);
    EXPECT_EQ(bytes.size(), (v.size() * static_cast<size_t>(w) + 7) / 8);
    std::vector<uint64_t> back(v.size());
    BitUnpack(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), v.size(), w,
              back.data());
    EXPECT_EQ(back, v) << w;
  }
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
}

TEST(RleTest, SkipAndPeekRun) {
  std::mt19937 rng(5);
  for (int w : {1, 3, 6, 17}) {
    std::vector<uint32_t> v;
    for (int i = 0; i < 3000; ++i) {
      // Long runs mixed with literals.
      if (i % 500 < 120)
        v.push_back(7u & ((1u << w) - 1));
      else
        v.push_back(static_cast<uint32_t>(rng()) & ((1u << w) - 1));
    }
    const std::string bytes = RleEncode(v.data(), v.size(), w);
    for (size_t skip : {size_t{0}, size_t{1}, size_t{5}, size_t{8}, size_t{119}, size_t{130},
                        size_t{999}, size_t{2999}}) {
      RleBitPackedDecoder d(bytes, w);
      ASSERT_TRUE(d.Skip(skip).ok());
      bool is_rle = false;
      uint64_t left = 0;
      uint32_t value = 0;
      ASSERT_TRUE(d.PeekRun(&is_rle, &left, &value).ok());
      EXPECT_GT(left, 0u);
      if (is_rle) {  // (a bit-packed run may count the zero padding of its last group)
        EXPECT_LE(left, v.size() - skip);
        for (size_t i = skip; i < skip + left; ++i) ASSERT_EQ(v[i], value) << w << " " << skip;
      }
      const size_t n = std::min<size_t>(77, v.size() - skip);
      std::vector<uint32_t> got(n);
      ASSERT_TRUE(d.Decode(got.data(), n).ok());
      EXPECT_EQ(got, std::vector<uint32_t>(v.begin() + static_cast<ptrdiff_t>(skip),
                                           v.begin() + static_cast<ptrdiff_t>(skip + n)))
          << w << " " << skip;
    }
    RleBitPackedDecoder d(bytes, w);
    EXPECT_FALSE(d.Skip(v.size() + 8).ok());
  }
}

}  // namespace
}  // namespace weft::lake::parquet

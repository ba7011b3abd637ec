#include "lake/parquet/encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lake/parquet/rle.h"

namespace weft::lake::parquet {
namespace {

void PutUleb(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// A DELTA_BINARY_PACKED encoder for tests (block 128, 4 miniblocks of 32).
std::string DeltaEncode(const std::vector<int64_t>& v) {
  std::string out;
  PutUleb(128, &out);
  PutUleb(4, &out);
  PutUleb(v.size(), &out);
  PutUleb(ZigZag(v.empty() ? 0 : v[0]), &out);
  for (size_t i = 1; i < v.size(); i += 128) {
    std::vector<int64_t> deltas;
    for (size_t j = i; j < std::min(v.size(), i + 128); ++j) {
      deltas.push_back(
          static_cast<int64_t>(static_cast<uint64_t>(v[j]) - static_cast<uint64_t>(v[j - 1])));
    }
    const int64_t min = *std::min_element(deltas.begin(), deltas.end());
    PutUleb(ZigZag(min), &out);
    std::vector<uint64_t> rel(128, 0);
    for (size_t j = 0; j < deltas.size(); ++j) {
      rel[j] = static_cast<uint64_t>(deltas[j]) - static_cast<uint64_t>(min);
    }
    std::string widths, bodies;
    for (size_t m = 0; m < 4; ++m) {
      uint64_t max = 0;
      for (size_t j = m * 32; j < m * 32 + 32; ++j) max |= rel[j];
      const int w = BitWidth(max);
      widths.push_back(static_cast<char>(w));
      if (m * 32 < deltas.size()) BitPack(rel.data() + m * 32, 32, w, &bodies);
    }
    out += widths + bodies;
  }
  return out;
}

TEST(EncodingTest, PlainAllTypes) {
  std::string data;
  const int32_t i32[] = {1, -2, 3};
  data.append(reinterpret_cast<const char*>(i32), sizeof(i32));
  ValueBuffer b(Type::kInt32);
  ASSERT_TRUE(DecodeValues(Encoding::kPlain, data, 3, nullptr, &b).ok());
  EXPECT_EQ(b.int32s, std::vector<int32_t>({1, -2, 3}));
  EXPECT_FALSE(DecodeValues(Encoding::kPlain, data, 4, nullptr, &b).ok());

  ValueBuffer bools(Type::kBoolean);
  ASSERT_TRUE(DecodeValues(Encoding::kPlain, std::string("\x05\x01", 2), 9, nullptr, &bools).ok());
  EXPECT_EQ(bools.bools, std::vector<uint8_t>({1, 0, 1, 0, 0, 0, 0, 0, 1}));

  ValueBuffer ba(Type::kByteArray);
  const std::string bytes("\x02\0\0\0hi\0\0\0\0\x03\0\0\0abc", 17);
  ASSERT_TRUE(DecodeValues(Encoding::kPlain, bytes, 3, nullptr, &ba).ok());
  EXPECT_EQ(ba.Binary(0), "hi");
  EXPECT_EQ(ba.Binary(1), "");
  EXPECT_EQ(ba.Binary(2), "abc");
  ValueBuffer ba2(Type::kByteArray);
  EXPECT_FALSE(DecodeValues(Encoding::kPlain, bytes.substr(0, 16), 3, nullptr, &ba2).ok());

  ValueBuffer flba(Type::kFixedLenByteArray, 3);
  ASSERT_TRUE(DecodeValues(Encoding::kPlain, "abcdef", 2, nullptr, &flba).ok());
  EXPECT_EQ(flba.Binary(1), "def");

  ValueBuffer i96(Type::kInt96);
  std::string raw(12, '\0');
  const uint32_t day = 2440589;  // 1970-01-02
  std::memcpy(raw.data() + 8, &day, 4);
  ASSERT_TRUE(DecodeValues(Encoding::kPlain, raw, 1, nullptr, &i96).ok());
  EXPECT_EQ(i96.int96s[0].ToUnixMicros(), 86400000000);
}

TEST(EncodingTest, Dictionary) {
  ValueBuffer dict(Type::kByteArray);
  ASSERT_TRUE(DecodePlain(std::string("\x01\0\0\0a\x01\0\0\0b", 10), 2, &dict, nullptr).ok());
  std::vector<uint32_t> idx = {1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0};
  std::string page(1, '\x01');
  page += RleEncode(idx.data(), idx.size(), 1);
  ValueBuffer out(Type::kByteArray);
  ASSERT_TRUE(DecodeValues(Encoding::kRleDictionary, page, idx.size(), &dict, &out).ok());
  EXPECT_EQ(out.Binary(0), "b");
  EXPECT_EQ(out.Binary(10), "a");
  // Index out of range, missing dictionary.
  std::vector<uint32_t> bad = {2};
  std::string bad_page(1, '\x02');
  bad_page += RleEncode(bad.data(), 1, 2);
  EXPECT_FALSE(DecodeValues(Encoding::kRleDictionary, bad_page, 1, &dict, &out).ok());
  EXPECT_FALSE(DecodeValues(Encoding::kRleDictionary, page, 1, nullptr, &out).ok());
}

TEST(EncodingTest, DeltaBinaryPackedRoundTrip) {
  std::mt19937_64 rng(7);
  for (size_t n : {size_t{1}, size_t{2}, size_t{127}, size_t{128}, size_t{129}, size_t{1000}}) {
    std::vector<int64_t> v(n);
    for (size_t i = 0; i < n; ++i) {
      v[i] = i % 50 == 0 ? static_cast<int64_t>(rng()) : static_cast<int64_t>(rng() % 1000) - 500;
    }
    const std::string enc = DeltaEncode(v);
    std::vector<int64_t> back;
    size_t consumed = 0;
    ASSERT_TRUE(DecodeDeltaBinaryPacked64(enc, n, &back, &consumed).ok()) << n;
    EXPECT_EQ(back, v);
    EXPECT_EQ(consumed, enc.size()) << n;
    // Truncations are errors when the last miniblock is full (with fewer values, readers accept
    // a miniblock cut after its last value, as writers may omit the padding).
    if (n != 129) continue;
    for (size_t cut = 0; cut + 1 < enc.size(); cut += 7) {
      std::vector<int64_t> tmp;
      EXPECT_FALSE(DecodeDeltaBinaryPacked64(enc.substr(0, cut), n, &tmp, nullptr).ok());
    }
  }
}

TEST(EncodingTest, DeltaByteArrays) {
  // DELTA_LENGTH_BYTE_ARRAY of {"ab", "", "cde"}.
  std::string dlba = DeltaEncode({2, 0, 3}) + "abcde";
  ValueBuffer out(Type::kByteArray);
  ASSERT_TRUE(DecodeValues(Encoding::kDeltaLengthByteArray, dlba, 3, nullptr, &out).ok());
  EXPECT_EQ(out.Binary(0), "ab");
  EXPECT_EQ(out.Binary(2), "cde");
  // DELTA_BYTE_ARRAY of {"apple", "apply", "ape"}: prefixes 0,4,2, suffixes "apple","y","e".
  std::string dba = DeltaEncode({0, 4, 2}) + DeltaEncode({5, 1, 1}) + "appleye";
  ValueBuffer out2(Type::kByteArray);
  ASSERT_TRUE(DecodeValues(Encoding::kDeltaByteArray, dba, 3, nullptr, &out2).ok());
  EXPECT_EQ(out2.Binary(1), "apply");
  EXPECT_EQ(out2.Binary(2), "ape");
  std::string bad = DeltaEncode({3}) + DeltaEncode({1}) + "x";  // prefix longer than previous
  ValueBuffer out3(Type::kByteArray);
  EXPECT_FALSE(DecodeValues(Encoding::kDeltaByteArray, bad, 1, nullptr, &out3).ok());
}

TEST(EncodingTest, ByteStreamSplitAndRleBooleans) {
  const float f[] = {1.5f, -2.25f};
  std::string plain(reinterpret_cast<const char*>(f), sizeof(f));
  std::string split(8, '\0');
  for (size_t i = 0; i < 2; ++i) {
    for (size_t b = 0; b < 4; ++b) split[b * 2 + i] = plain[i * 4 + b];
  }
  ValueBuffer out(Type::kFloat);
  ASSERT_TRUE(DecodeValues(Encoding::kByteStreamSplit, split, 2, nullptr, &out).ok());
  EXPECT_EQ(out.floats, std::vector<float>({1.5f, -2.25f}));

  std::vector<uint32_t> bits = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::string rle = RleEncodeWithLength(bits.data(), bits.size(), 1);
  ValueBuffer b(Type::kBoolean);
  ASSERT_TRUE(DecodeValues(Encoding::kRle, rle, bits.size(), nullptr, &b).ok());
  EXPECT_EQ(b.bools, std::vector<uint8_t>({1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  ValueBuffer i(Type::kInt32);
  EXPECT_EQ(DecodeValues(Encoding::kRle, rle, 1, nullptr, &i).code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace weft::lake::parquet

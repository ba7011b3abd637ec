// Decoders for Parquet's value encodings (Encodings.md): PLAIN for every physical type,
// PLAIN_DICTIONARY / RLE_DICTIONARY, RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
//
//   ValueBuffer values(Type::kInt64);
//   WEFT_RETURN_IF_ERROR(DecodeValues(Encoding::kPlain, page_values, n, nullptr, &values));
//   int64_t first = values.int64s[0];
//
// Values are appended densely (nulls are not represented here: definition levels say where
// they go). Every decoder checks lengths against its input and fails with kDataLoss on short or
// malformed data; none allocates more than its output (n values) needs.
//
// Thread-safety: free functions and plain structs.
#ifndef WEFT_LAKE_PARQUET_ENCODING_H_
#define WEFT_LAKE_PARQUET_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/parquet/metadata.h"

namespace weft::lake::parquet {

//! A 96-bit legacy timestamp: 8 bytes nanoseconds of the day, then 4 bytes Julian day, LE.
struct Int96 {
  uint32_t words[3] = {0, 0, 0};
  int64_t nanos_of_day() const {
    return static_cast<int64_t>((uint64_t{words[1]} << 32) | words[0]);
  }
  int32_t julian_day() const { return static_cast<int32_t>(words[2]); }
  //! Microseconds since the Unix epoch (Julian day 2440588), as Spark and DuckDB read INT96;
  //! saturates at the int64 limits for days far outside any calendar.
  int64_t ToUnixMicros() const {
    const int64_t days = int64_t{julian_day()} - 2440588;
    int64_t micros;
    if (__builtin_mul_overflow(days, int64_t{86400000000}, &micros) ||
        __builtin_add_overflow(micros, nanos_of_day() / 1000, &micros)) {
      return days < 0 ? INT64_MIN : INT64_MAX;
    }
    return micros;
  }
};

//! Dense values of one physical type. Only the vector of that type is used; BYTE_ARRAY and
//! FIXED_LEN_BYTE_ARRAY values are bytes[offsets[i], offsets[i+1]).
struct ValueBuffer {
  explicit ValueBuffer(Type t = Type::kInt32, int32_t length = 0) : type(t), type_length(length) {}

  Type type;
  int32_t type_length;  //!< FIXED_LEN_BYTE_ARRAY width
  std::vector<uint8_t> bools;
  std::vector<int32_t> int32s;
  std::vector<int64_t> int64s;
  std::vector<Int96> int96s;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<int64_t> offsets{0};
  std::string bytes;

  size_t size() const;
  std::string_view Binary(size_t i) const {
    return std::string_view(bytes).substr(static_cast<size_t>(offsets[i]),
                                          static_cast<size_t>(offsets[i + 1] - offsets[i]));
  }
  void Clear();
  //! Appends values [begin, end) of `other` (same type).
  void AppendFrom(const ValueBuffer& other, size_t begin, size_t end);
};

//! "PLAIN", "RLE_DICTIONARY", ...
std::string_view EncodingName(Encoding encoding);
std::string_view TypeName(Type type);

//! Appends `n` values of out->type decoded from `data`. `dictionary` is required for the
//! dictionary encodings (indices are checked against its size).
Status DecodeValues(Encoding encoding, std::string_view data, size_t n,
                    const ValueBuffer* dictionary, ValueBuffer* out);

//! PLAIN decoding of `n` values; `*consumed` (optional) receives the bytes used.
Status DecodePlain(std::string_view data, size_t n, ValueBuffer* out, size_t* consumed);

//! DELTA_BINARY_PACKED: decodes `n` values (int32 or int64 wrap-around arithmetic).
//! `*consumed` receives the bytes used, needed by the byte-array delta encodings.
Status DecodeDeltaBinaryPacked32(std::string_view data, size_t n, std::vector<int32_t>* out,
                                 size_t* consumed);
Status DecodeDeltaBinaryPacked64(std::string_view data, size_t n, std::vector<int64_t>* out,
                                 size_t* consumed);

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_ENCODING_H_

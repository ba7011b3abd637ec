// Parquet's RLE / bit-packed hybrid encoding (Encodings.md, "Run Length Encoding / Bit-Packing
// Hybrid"), used for definition and repetition levels, dictionary indices and RLE booleans, and
// the little-endian bit-packing helpers it is built on.
//
//   std::string bytes = RleEncode(levels.data(), levels.size(), /*bit_width=*/1);
//   RleBitPackedDecoder d(bytes, 1);
//   std::vector<uint32_t> back(levels.size());
//   WEFT_RETURN_IF_ERROR(d.Decode(back.data(), back.size()));
//
// Bit widths 0..32. The encoder writes RLE runs for 8 or more equal values and bit-packed runs
// (multiples of 8 values, the last one zero-padded) otherwise. The decoder never reads past its
// input; a stream that ends before the requested values gives kDataLoss.
//
// Thread-safety: encoder and decoder instances are used by one thread.
#ifndef WEFT_LAKE_PARQUET_RLE_H_
#define WEFT_LAKE_PARQUET_RLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::lake::parquet {

//! Bits needed to hold `max_value` (0 for 0).
int BitWidth(uint64_t max_value);

//! Appends `n` values packed LSB-first at `bit_width` (0..64) bits: ceil(n*bit_width/8) bytes.
void BitPack(const uint64_t* values, size_t n, int bit_width, std::string* out);
void BitPack32(const uint32_t* values, size_t n, int bit_width, std::string* out);

//! Unpacks `n` values of `bit_width` (0..64 / 0..32) bits. Reads at most `size` bytes of
//! `data`; bits beyond it read as zero (callers check lengths first).
void BitUnpack(const uint8_t* data, size_t size, size_t n, int bit_width, uint64_t* out);
void BitUnpack32(const uint8_t* data, size_t size, size_t n, int bit_width, uint32_t* out);

//! Encodes a sequence of values; Finish() returns the bytes (without a length prefix).
class RleBitPackedEncoder {
 public:
  //! REQUIRES: 0 <= bit_width <= 32 and every value fits in bit_width bits.
  explicit RleBitPackedEncoder(int bit_width) : bit_width_(bit_width) {}

  void Put(uint32_t value) { values_.push_back(value); }
  void PutBatch(const uint32_t* values, size_t n) {
    values_.insert(values_.end(), values, values + n);
  }
  size_t size() const { return values_.size(); }

  //! Appends the encoding of all values put so far to *out and resets the encoder.
  void FinishTo(std::string* out);
  std::string Finish();

 private:
  int bit_width_;
  std::vector<uint32_t> values_;
};

//! Appends the encoding of values[0, n) to *out without copying them first.
void RleEncodeTo(const uint32_t* values, size_t n, int bit_width, std::string* out);

//! One-shot helpers. The "WithLength" form puts the 4-byte little-endian length in front, as
//! data page v1 levels and RLE booleans are stored.
std::string RleEncode(const uint32_t* values, size_t n, int bit_width);
std::string RleEncodeWithLength(const uint32_t* values, size_t n, int bit_width);

class RleBitPackedDecoder {
 public:
  //! REQUIRES: 0 <= bit_width <= 32. `data` must outlive the decoder.
  RleBitPackedDecoder(std::string_view data, int bit_width);

  //! Decodes the next `n` values into out[0, n).
  Status Decode(uint32_t* out, size_t n);

  //! Like Decode, then fails if a value is >= `limit` (dictionary indices, levels).
  Status DecodeBounded(uint32_t* out, size_t n, uint32_t limit);

  //! Skips the next `n` values without unpacking them (kDataLoss if the stream ends first).
  Status Skip(size_t n);

  //! The run the next value belongs to, loading it if the current one is used up: *is_rle says
  //! whether it is an RLE run (then *value is its value), *left how many values it has left.
  //! Nothing is consumed. Lets callers handle long runs without expanding them.
  Status PeekRun(bool* is_rle, uint64_t* left, uint32_t* value);

  //! Bytes consumed so far (headers and run payloads read).
  size_t consumed() const { return pos_; }

 private:
  Status NextRun();

  std::string_view data_;
  int bit_width_;
  size_t pos_ = 0;
  bool is_rle_ = false;
  uint64_t run_left_ = 0;  //!< values left in the current run
  uint32_t rle_value_ = 0;
  size_t packed_begin_ = 0;    //!< byte offset of the current bit-packed run
  uint64_t packed_index_ = 0;  //!< next value index within it
  size_t packed_bytes_ = 0;    //!< bytes available to the current bit-packed run
};

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_RLE_H_

#include "lake/parquet/rle.h"

#include <algorithm>
#include <cstring>

namespace weft::lake::parquet {
namespace {

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian targets only (x86-64, aarch64)
  return v;
}

uint64_t Mask(int bit_width) {
  return bit_width >= 64 ? ~uint64_t{0} : (uint64_t{1} << bit_width) - 1;
}

// Unpacks groups of 8 values: a group of 8 values at w bits is exactly w bytes.
template <typename T>
void Unpack(const uint8_t* data, size_t size, size_t n, int w, T* out) {
  if (w == 0) {
    std::fill(out, out + n, T{0});
    return;
  }
  const uint64_t mask = Mask(w);
  const auto group_bytes = static_cast<size_t>(w);
  uint8_t buf[64 + 16];
  for (size_t g = 0; g * 8 < n; ++g) {
    const size_t offset = g * group_bytes;
    const uint8_t* src;
    if (offset + group_bytes + 16 <= size) {
      src = data + offset;
    } else {
      std::memset(buf, 0, sizeof(buf));
      if (offset < size) std::memcpy(buf, data + offset, std::min(group_bytes, size - offset));
      src = buf;
    }
    const size_t count = std::min<size_t>(8, n - g * 8);
    T* dst = out + g * 8;
    for (size_t j = 0; j < count; ++j) {
      const size_t bit = j * group_bytes;  // j * w
      const size_t shift = bit & 7;
      uint64_t v = Load64(src + (bit >> 3)) >> shift;
      if (shift != 0 && w + static_cast<int>(shift) > 64) {
        v |= Load64(src + (bit >> 3) + 8) << (64 - shift);
      }
      dst[j] = static_cast<T>(v & mask);
    }
  }
}

template <typename T>
void Pack(const T* values, size_t n, int w, std::string* out) {
  if (w == 0) return;
  const uint64_t mask = Mask(w);
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = static_cast<uint64_t>(values[i]) & mask;
    acc |= v << bits;
    const int total = bits + w;
    if (total >= 64) {
      for (int b = 0; b < 8; ++b) out->push_back(static_cast<char>(acc >> (8 * b)));
      acc = bits == 0 ? 0 : v >> (64 - bits);
      bits = total - 64;
    } else {
      bits = total;
    }
  }
  while (bits > 0) {
    out->push_back(static_cast<char>(acc));
    acc >>= 8;
    bits -= 8;
  }
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void BitPack(const uint64_t* values, size_t n, int bit_width, std::string* out) {
  Pack(values, n, bit_width, out);
}
void BitPack32(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  Pack(values, n, bit_width, out);
}
void BitUnpack(const uint8_t* data, size_t size, size_t n, int bit_width, uint64_t* out) {
  Unpack(data, size, n, bit_width, out);
}
void BitUnpack32(const uint8_t* data, size_t size, size_t n, int bit_width, uint32_t* out) {
  Unpack(data, size, n, bit_width, out);
}

// ---- encoder ----

void RleBitPackedEncoder::FinishTo(std::string* out) {
  RleEncodeTo(values_.data(), values_.size(), bit_width_, out);
  values_.clear();
}

void RleEncodeTo(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  const uint32_t* v = values;
  const auto value_bytes = static_cast<size_t>((bit_width + 7) / 8);
  size_t lit_start = 0;
  size_t lit_count = 0;
  auto flush_literals = [&](bool pad) {
    if (lit_count == 0) return;
    const size_t groups = (lit_count + 7) / 8;
    PutVarint((uint64_t{groups} << 1) | 1, out);
    if (pad && lit_count % 8 != 0) {
      std::vector<uint32_t> padded(v + lit_start, v + lit_start + lit_count);
      padded.resize(groups * 8, 0);
      Pack(padded.data(), padded.size(), bit_width, out);
    } else {
      Pack(v + lit_start, lit_count, bit_width, out);
    }
    lit_count = 0;
  };
  size_t i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && v[i + run] == v[i]) ++run;
    if (run >= 8) {
      // A bit-packed run must hold a multiple of 8 values: borrow from this run to pad it.
      const size_t pad = lit_count % 8 == 0 ? 0 : 8 - lit_count % 8;
      if (run - pad >= 8) {
        if (lit_count == 0) lit_start = i;
        lit_count += pad;
        i += pad;
        run -= pad;
        flush_literals(false);
        PutVarint(uint64_t{run} << 1, out);
        const uint32_t value = v[i];
        for (size_t b = 0; b < value_bytes; ++b)
          out->push_back(static_cast<char>(value >> (8 * b)));
        i += run;
        continue;
      }
    }
    if (lit_count == 0) lit_start = i;
    lit_count += run;
    i += run;
  }
  flush_literals(true);
}

std::string RleBitPackedEncoder::Finish() {
  std::string out;
  FinishTo(&out);
  return out;
}

std::string RleEncode(const uint32_t* values, size_t n, int bit_width) {
  std::string out;
  RleEncodeTo(values, n, bit_width, &out);
  return out;
}

std::string RleEncodeWithLength(const uint32_t* values, size_t n, int bit_width) {
  std::string body = RleEncode(values, n, bit_width);
  std::string out;
  const auto len = static_cast<uint32_t>(body.size());
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>(len >> (8 * b)));
  out += body;
  return out;
}

// ---- decoder ----

RleBitPackedDecoder::RleBitPackedDecoder(std::string_view data, int bit_width)
    : data_(data), bit_width_(bit_width) {}

Status RleBitPackedDecoder::NextRun() {
  uint64_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (shift >= 64) return DataLossError("RLE run header varint too long");
    if (pos_ >= data_.size()) {
      return DataLossError("RLE/bit-packed data ends after " + std::to_string(pos_) +
                           " bytes, before all values were read");
    }
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    header |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) break;
  }
  const auto value_bytes = static_cast<size_t>((bit_width_ + 7) / 8);
  if ((header & 1) == 0) {
    is_rle_ = true;
    run_left_ = header >> 1;
    if (data_.size() - pos_ < value_bytes) return DataLossError("RLE run value truncated");
    uint32_t v = 0;
    for (size_t b = 0; b < value_bytes; ++b) {
      v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + b])) << (8 * b);
    }
    pos_ += value_bytes;
    rle_value_ = v;
    if (run_left_ == 0) return DataLossError("RLE run of length 0");
  } else {
    is_rle_ = false;
    const uint64_t groups = header >> 1;
    if (groups == 0) return DataLossError("bit-packed run of 0 groups");
    const size_t left = data_.size() - pos_;
    // Some writers end the last run early: only the values whose bytes are present count.
    const uint64_t bytes_needed = groups * static_cast<uint64_t>(bit_width_);
    packed_bytes_ = bytes_needed > left ? left : static_cast<size_t>(bytes_needed);
    run_left_ = bit_width_ == 0
                    ? groups * 8
                    : std::min<uint64_t>(groups * 8, uint64_t{packed_bytes_} * 8 /
                                                         static_cast<uint64_t>(bit_width_));
    if (run_left_ == 0) return DataLossError("bit-packed run truncated");
    packed_begin_ = pos_;
    packed_index_ = 0;
    pos_ += packed_bytes_;
  }
  return Status::Ok();
}

Status RleBitPackedDecoder::Decode(uint32_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    if (run_left_ == 0) WEFT_RETURN_IF_ERROR(NextRun());
    const size_t take = static_cast<size_t>(std::min<uint64_t>(run_left_, n - done));
    if (is_rle_) {
      std::fill(out + done, out + done + take, rle_value_);
    } else if (packed_index_ % 8 == 0) {
      const size_t byte = static_cast<size_t>(packed_index_ / 8) * static_cast<size_t>(bit_width_);
      const auto* base = reinterpret_cast<const uint8_t*>(data_.data()) + packed_begin_;
      BitUnpack32(base + byte, packed_bytes_ - std::min(byte, packed_bytes_), take, bit_width_,
                  out + done);
    } else {
      // Resume mid-group: unpack the group again and copy the wanted tail.
      const auto* base = reinterpret_cast<const uint8_t*>(data_.data()) + packed_begin_;
      size_t copied = 0;
      while (copied < take) {
        const uint64_t index = packed_index_ + copied;
        const size_t byte = static_cast<size_t>(index / 8) * static_cast<size_t>(bit_width_);
        uint32_t group[8];
        BitUnpack32(base + byte, packed_bytes_ - std::min(byte, packed_bytes_), 8, bit_width_,
                    group);
        const auto first = static_cast<size_t>(index % 8);
        const size_t count = std::min(8 - first, take - copied);
        std::copy(group + first, group + first + count, out + done + copied);
        copied += count;
        if (copied < take && (packed_index_ + copied) % 8 == 0) {
          const size_t byte2 =
              static_cast<size_t>((packed_index_ + copied) / 8) * static_cast<size_t>(bit_width_);
          BitUnpack32(base + byte2, packed_bytes_ - std::min(byte2, packed_bytes_), take - copied,
                      bit_width_, out + done + copied);
          copied = take;
        }
      }
    }
    packed_index_ += is_rle_ ? 0 : take;
    run_left_ -= take;
    done += take;
  }
  return Status::Ok();
}

Status RleBitPackedDecoder::Skip(size_t n) {
  while (n > 0) {
    if (run_left_ == 0) WEFT_RETURN_IF_ERROR(NextRun());
    const auto take = static_cast<size_t>(std::min<uint64_t>(run_left_, n));
    if (!is_rle_) packed_index_ += take;
    run_left_ -= take;
    n -= take;
  }
  return Status::Ok();
}

Status RleBitPackedDecoder::PeekRun(bool* is_rle, uint64_t* left, uint32_t* value) {
  if (run_left_ == 0) WEFT_RETURN_IF_ERROR(NextRun());
  *is_rle = is_rle_;
  *left = run_left_;
  *value = is_rle_ ? rle_value_ : 0;
  return Status::Ok();
}

Status RleBitPackedDecoder::DecodeBounded(uint32_t* out, size_t n, uint32_t limit) {
  WEFT_RETURN_IF_ERROR(Decode(out, n));
  for (size_t i = 0; i < n; ++i) {
    if (out[i] >= limit) {
      return DataLossError("value " + std::to_string(out[i]) + " out of range (limit " +
                           std::to_string(limit) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace weft::lake::parquet

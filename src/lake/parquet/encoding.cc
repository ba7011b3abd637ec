#include "lake/parquet/encoding.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "lake/parquet/rle.h"

namespace weft::lake::parquet {
namespace {

Status Short(std::string_view what, size_t need, size_t have) {
  return DataLossError(std::string(what) + ": needs " + std::to_string(need) +
                       " bytes, the page has " + std::to_string(have));
}

size_t PhysicalWidth(const ValueBuffer& b) {
  switch (b.type) {
    case Type::kInt32:
    case Type::kFloat: return 4;
    case Type::kInt64:
    case Type::kDouble: return 8;
    case Type::kInt96: return 12;
    case Type::kFixedLenByteArray: return static_cast<size_t>(b.type_length);
    default: return 0;
  }
}

template <typename T>
void AppendLe(const char* p, size_t n, std::vector<T>* out) {
  const size_t old = out->size();
  out->resize(old + n);
  if (n > 0) std::memcpy(out->data() + old, p, n * sizeof(T));  // little-endian targets
}

bool ReadUleb(std::string_view data, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= data.size()) return false;
    const auto byte = static_cast<uint8_t>(data[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Unsigned arithmetic: deltas wrap around, as the spec says.
template <typename T, typename U>
Status DecodeDelta(std::string_view data, size_t n, std::vector<T>* out, size_t* consumed) {
  size_t pos = 0;
  uint64_t block_size, miniblocks, total, first_zz;
  if (!ReadUleb(data, &pos, &block_size) || !ReadUleb(data, &pos, &miniblocks) ||
      !ReadUleb(data, &pos, &total) || !ReadUleb(data, &pos, &first_zz)) {
    return DataLossError("DELTA_BINARY_PACKED: header truncated");
  }
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return DataLossError("DELTA_BINARY_PACKED: invalid block size " + std::to_string(block_size) +
                         " with " + std::to_string(miniblocks) + " miniblocks");
  }
  if (total < n) {
    return DataLossError("DELTA_BINARY_PACKED: header holds " + std::to_string(total) +
                         " values, the page needs " + std::to_string(n));
  }
  const size_t per_mini = static_cast<size_t>(block_size / miniblocks);
  const size_t old = out->size();
  out->resize(old + n);
  T* dst = out->data() + old;
  auto value =
      static_cast<U>(static_cast<int64_t>(first_zz >> 1) ^ -static_cast<int64_t>(first_zz & 1));
  if (n > 0) dst[0] = static_cast<T>(value);
  size_t produced = n > 0 ? 1 : 0;
  // The count in the header may exceed n (a stream shared by several pages never happens, but
  // readers of byte-array deltas pass the exact count); we stop after n values.
  const size_t want = total > 0 ? static_cast<size_t>(std::min<uint64_t>(total, n)) : 0;
  std::vector<uint64_t> unpacked(per_mini);
  std::vector<uint8_t> widths(static_cast<size_t>(miniblocks));
  while (produced < want) {
    uint64_t min_zz;
    if (!ReadUleb(data, &pos, &min_zz))
      return DataLossError("DELTA_BINARY_PACKED: block truncated");
    const auto min_delta =
        static_cast<U>(static_cast<int64_t>(min_zz >> 1) ^ -static_cast<int64_t>(min_zz & 1));
    if (data.size() - pos < widths.size()) {
      return DataLossError("DELTA_BINARY_PACKED: miniblock bit widths truncated");
    }
    std::memcpy(widths.data(), data.data() + pos, widths.size());
    pos += widths.size();
    for (size_t m = 0; m < widths.size() && produced < want; ++m) {
      const int w = widths[m];
      if (w > static_cast<int>(sizeof(T) * 8)) {
        return DataLossError("DELTA_BINARY_PACKED: miniblock bit width " + std::to_string(w) +
                             " exceeds " + std::to_string(sizeof(T) * 8));
      }
      const size_t bytes = per_mini * static_cast<size_t>(w) / 8;
      const size_t take = std::min(per_mini, want - produced);
      // The last miniblock may be cut short by writers; require only the bytes for `take`.
      const size_t need = (take * static_cast<size_t>(w) + 7) / 8;
      if (data.size() - pos < need)
        return Short("DELTA_BINARY_PACKED miniblock", need, data.size() - pos);
      BitUnpack(reinterpret_cast<const uint8_t*>(data.data() + pos), data.size() - pos, take, w,
                unpacked.data());
      for (size_t i = 0; i < take; ++i) {
        value = static_cast<U>(value + min_delta + static_cast<U>(unpacked[i]));
        dst[produced++] = static_cast<T>(value);
      }
      pos += std::min(bytes, data.size() - pos);
    }
  }
  if (consumed != nullptr) *consumed = pos;
  return Status::Ok();
}

Status DecodePlainBool(std::string_view data, size_t n, ValueBuffer* out, size_t* consumed) {
  const size_t need = (n + 7) / 8;
  if (data.size() < need) return Short("PLAIN BOOLEAN", need, data.size());
  const size_t old = out->bools.size();
  out->bools.resize(old + n);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t i = 0; i < n; ++i) out->bools[old + i] = (p[i >> 3] >> (i & 7)) & 1;
  if (consumed != nullptr) *consumed = need;
  return Status::Ok();
}

Status DecodePlainByteArray(std::string_view data, size_t n, ValueBuffer* out, size_t* consumed) {
  size_t pos = 0;
  // Two passes: sizes first, so bytes is allocated once.
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (data.size() - pos < 4) return Short("PLAIN BYTE_ARRAY length", pos + 4, data.size());
    uint32_t len;
    std::memcpy(&len, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < len) {
      return DataLossError("PLAIN BYTE_ARRAY: value " + std::to_string(i) + " of " +
                           std::to_string(len) + " bytes runs past the end of the page");
    }
    pos += len;
    total += len;
  }
  out->bytes.reserve(out->bytes.size() + total);
  out->offsets.reserve(out->offsets.size() + n);
  pos = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t len;
    std::memcpy(&len, data.data() + pos, 4);
    pos += 4;
    out->bytes.append(data.data() + pos, len);
    out->offsets.push_back(static_cast<int64_t>(out->bytes.size()));
    pos += len;
  }
  if (consumed != nullptr) *consumed = pos;
  return Status::Ok();
}

Status DecodeDictionary(std::string_view data, size_t n, const ValueBuffer* dict,
                        ValueBuffer* out) {
  if (dict == nullptr) {
    return DataLossError("dictionary-encoded page but the column chunk has no dictionary page");
  }
  if (n == 0) return Status::Ok();
  if (data.empty()) return DataLossError("dictionary indices: page is empty");
  const int width = static_cast<uint8_t>(data[0]);
  if (width > 32) {
    return DataLossError("dictionary indices: bit width " + std::to_string(width) + " > 32");
  }
  // Reused per thread: a fresh buffer per page costs page faults on every call.
  thread_local std::vector<uint32_t> idx;
  idx.resize(n);
  struct ReleaseIfLarge {
    ~ReleaseIfLarge() {
      if (idx.capacity() > (size_t{4} << 20)) std::vector<uint32_t>().swap(idx);
    }
  } release_if_large;
  RleBitPackedDecoder d(data.substr(1), width);
  const size_t dict_size = dict->size();
  Status s = d.DecodeBounded(idx.data(), n,
                             static_cast<uint32_t>(std::min<size_t>(dict_size, UINT32_MAX)));
  if (!s.ok())
    return s.WithContext("dictionary indices (dictionary of " + std::to_string(dict_size) +
                         " values)");
  auto gather = [&](auto& dst, const auto& src) {
    const size_t old = dst.size();
    dst.resize(old + n);
    auto* target = dst.data() + old;
    for (size_t k = 0; k < n; ++k) target[k] = src[idx[k]];
  };
  switch (out->type) {
    case Type::kBoolean: gather(out->bools, dict->bools); break;
    case Type::kInt32: gather(out->int32s, dict->int32s); break;
    case Type::kInt64: gather(out->int64s, dict->int64s); break;
    case Type::kInt96: gather(out->int96s, dict->int96s); break;
    case Type::kFloat: gather(out->floats, dict->floats); break;
    case Type::kDouble: gather(out->doubles, dict->doubles); break;
    case Type::kByteArray:
    case Type::kFixedLenByteArray: {
      size_t total = 0;
      for (uint32_t i : idx) total += dict->Binary(i).size();
      out->bytes.reserve(out->bytes.size() + total);
      out->offsets.reserve(out->offsets.size() + n);
      for (uint32_t i : idx) {
        out->bytes.append(dict->Binary(i));
        out->offsets.push_back(static_cast<int64_t>(out->bytes.size()));
      }
      break;
    }
  }
  return Status::Ok();
}

Status DecodeDeltaLengthByteArray(std::string_view data, size_t n, ValueBuffer* out,
                                  size_t* consumed) {
  std::vector<int32_t> lengths;
  size_t pos = 0;
  WEFT_RETURN_IF_ERROR(DecodeDeltaBinaryPacked32(data, n, &lengths, &pos)
                           .WithContext("DELTA_LENGTH_BYTE_ARRAY lengths"));
  size_t total = 0;
  for (int32_t len : lengths) {
    if (len < 0) return DataLossError("DELTA_LENGTH_BYTE_ARRAY: negative length");
    total += static_cast<size_t>(len);
  }
  if (data.size() - pos < total) {
    return Short("DELTA_LENGTH_BYTE_ARRAY values", total, data.size() - pos);
  }
  out->bytes.append(data.data() + pos, total);
  int64_t end = out->offsets.back();
  for (int32_t len : lengths) {
    end += len;
    out->offsets.push_back(end);
  }
  if (consumed != nullptr) *consumed = pos + total;
  return Status::Ok();
}

Status DecodeDeltaByteArray(std::string_view data, size_t n, ValueBuffer* out) {
  std::vector<int32_t> prefixes;
  size_t pos = 0;
  WEFT_RETURN_IF_ERROR(DecodeDeltaBinaryPacked32(data, n, &prefixes, &pos)
                           .WithContext("DELTA_BYTE_ARRAY prefix lengths"));
  ValueBuffer suffixes(Type::kByteArray);
  WEFT_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data.substr(pos), n, &suffixes, nullptr)
                           .WithContext("DELTA_BYTE_ARRAY suffixes"));
  std::string previous;
  std::string current;
  for (size_t i = 0; i < n; ++i) {
    const int32_t prefix = prefixes[i];
    if (prefix < 0 || static_cast<size_t>(prefix) > previous.size()) {
      return DataLossError("DELTA_BYTE_ARRAY: value " + std::to_string(i) + " has prefix length " +
                           std::to_string(prefix) + " but the previous value has " +
                           std::to_string(previous.size()) + " bytes");
    }
    current.assign(previous, 0, static_cast<size_t>(prefix));
    current.append(suffixes.Binary(i));
    if (out->type == Type::kFixedLenByteArray &&
        current.size() != static_cast<size_t>(out->type_length)) {
      return DataLossError("DELTA_BYTE_ARRAY: value of " + std::to_string(current.size()) +
                           " bytes in a FIXED_LEN_BYTE_ARRAY(" + std::to_string(out->type_length) +
                           ") column");
    }
    out->bytes.append(current);
    out->offsets.push_back(static_cast<int64_t>(out->bytes.size()));
    std::swap(previous, current);
  }
  return Status::Ok();
}

Status DecodeByteStreamSplit(std::string_view data, size_t n, ValueBuffer* out) {
  const size_t width = PhysicalWidth(*out);
  if (width == 0 || out->type == Type::kInt96) {
    return DataLossError("BYTE_STREAM_SPLIT is not defined for " +
                         std::string(TypeName(out->type)));
  }
  if (n == 0) return Status::Ok();
  const size_t stride = data.size() / width;
  if (stride < n) return Short("BYTE_STREAM_SPLIT", n * width, data.size());
  std::string buf(n * width, '\0');
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < width; ++b) buf[i * width + b] = data[b * stride + i];
  }
  return DecodePlain(buf, n, out, nullptr);
}

}  // namespace

size_t ValueBuffer::size() const {
  switch (type) {
    case Type::kBoolean: return bools.size();
    case Type::kInt32: return int32s.size();
    case Type::kInt64: return int64s.size();
    case Type::kInt96: return int96s.size();
    case Type::kFloat: return floats.size();
    case Type::kDouble: return doubles.size();
    case Type::kByteArray:
    case Type::kFixedLenByteArray: return offsets.size() - 1;
  }
  return 0;
}

void ValueBuffer::Clear() {
  bools.clear();
  int32s.clear();
  int64s.clear();
  int96s.clear();
  floats.clear();
  doubles.clear();
  offsets.assign(1, 0);
  bytes.clear();
}

void ValueBuffer::AppendFrom(const ValueBuffer& o, size_t begin, size_t end) {
  auto copy = [&](auto& dst, const auto& src) {
    dst.insert(dst.end(), src.begin() + static_cast<ptrdiff_t>(begin),
               src.begin() + static_cast<ptrdiff_t>(end));
  };
  switch (type) {
    case Type::kBoolean: copy(bools, o.bools); break;
    case Type::kInt32: copy(int32s, o.int32s); break;
    case Type::kInt64: copy(int64s, o.int64s); break;
    case Type::kInt96: copy(int96s, o.int96s); break;
    case Type::kFloat: copy(floats, o.floats); break;
    case Type::kDouble: copy(doubles, o.doubles); break;
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      for (size_t i = begin; i < end; ++i) {
        bytes.append(o.Binary(i));
        offsets.push_back(static_cast<int64_t>(bytes.size()));
      }
      break;
  }
}

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain: return "PLAIN";
    case Encoding::kPlainDictionary: return "PLAIN_DICTIONARY";
    case Encoding::kRle: return "RLE";
    case Encoding::kBitPacked: return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary: return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return "unknown encoding";
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kBoolean: return "BOOLEAN";
    case Type::kInt32: return "INT32";
    case Type::kInt64: return "INT64";
    case Type::kInt96: return "INT96";
    case Type::kFloat: return "FLOAT";
    case Type::kDouble: return "DOUBLE";
    case Type::kByteArray: return "BYTE_ARRAY";
    case Type::kFixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "unknown type";
}

Status DecodePlain(std::string_view data, size_t n, ValueBuffer* out, size_t* consumed) {
  if (out->type == Type::kBoolean) return DecodePlainBool(data, n, out, consumed);
  if (out->type == Type::kByteArray) return DecodePlainByteArray(data, n, out, consumed);
  const size_t width = PhysicalWidth(*out);
  if (out->type == Type::kFixedLenByteArray && width == 0) {
    // Zero-width values: n empty strings.
    out->offsets.insert(out->offsets.end(), n, out->offsets.back());
    if (consumed != nullptr) *consumed = 0;
    return Status::Ok();
  }
  if (width == 0) return DataLossError("unknown physical type");
  if (n > data.size() / width) {
    return Short("PLAIN " + std::string(TypeName(out->type)), n * width, data.size());
  }
  const char* p = data.data();
  switch (out->type) {
    case Type::kInt32: AppendLe(p, n, &out->int32s); break;
    case Type::kInt64: AppendLe(p, n, &out->int64s); break;
    case Type::kFloat: AppendLe(p, n, &out->floats); break;
    case Type::kDouble: AppendLe(p, n, &out->doubles); break;
    case Type::kInt96: AppendLe(p, n, &out->int96s); break;
    case Type::kFixedLenByteArray: {
      out->bytes.append(p, n * width);
      out->offsets.reserve(out->offsets.size() + n);
      int64_t end = out->offsets.back();
      for (size_t i = 0; i < n; ++i) {
        end += static_cast<int64_t>(width);
        out->offsets.push_back(end);
      }
      break;
    }
    default: break;
  }
  if (consumed != nullptr) *consumed = n * width;
  return Status::Ok();
}

Status DecodeDeltaBinaryPacked32(std::string_view data, size_t n, std::vector<int32_t>* out,
                                 size_t* consumed) {
  return DecodeDelta<int32_t, uint32_t>(data, n, out, consumed);
}

Status DecodeDeltaBinaryPacked64(std::string_view data, size_t n, std::vector<int64_t>* out,
                                 size_t* consumed) {
  return DecodeDelta<int64_t, uint64_t>(data, n, out, consumed);
}

Status DecodeValues(Encoding encoding, std::string_view data, size_t n,
                    const ValueBuffer* dictionary, ValueBuffer* out) {
  switch (encoding) {
    case Encoding::kPlain: return DecodePlain(data, n, out, nullptr);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: return DecodeDictionary(data, n, dictionary, out);
    case Encoding::kRle: {
      if (out->type != Type::kBoolean) {
        return UnimplementedError("RLE value encoding for " + std::string(TypeName(out->type)) +
                                  " (only BOOLEAN is defined)");
      }
      if (data.size() < 4) return Short("RLE BOOLEAN length", 4, data.size());
      uint32_t len;
      std::memcpy(&len, data.data(), 4);
      if (len > data.size() - 4) return Short("RLE BOOLEAN", len + 4u, data.size());
      std::vector<uint32_t> v(n);
      RleBitPackedDecoder d(data.substr(4, len), 1);
      WEFT_RETURN_IF_ERROR(d.Decode(v.data(), n).WithContext("RLE BOOLEAN"));
      for (uint32_t x : v) out->bools.push_back(static_cast<uint8_t>(x));
      return Status::Ok();
    }
    case Encoding::kDeltaBinaryPacked:
      if (out->type == Type::kInt32)
        return DecodeDeltaBinaryPacked32(data, n, &out->int32s, nullptr);
      if (out->type == Type::kInt64)
        return DecodeDeltaBinaryPacked64(data, n, &out->int64s, nullptr);
      break;
    case Encoding::kDeltaLengthByteArray:
      if (out->type == Type::kByteArray) return DecodeDeltaLengthByteArray(data, n, out, nullptr);
      break;
    case Encoding::kDeltaByteArray:
      if (out->type == Type::kByteArray || out->type == Type::kFixedLenByteArray) {
        return DecodeDeltaByteArray(data, n, out);
      }
      break;
    case Encoding::kByteStreamSplit: return DecodeByteStreamSplit(data, n, out);
    case Encoding::kBitPacked:
      return UnimplementedError("BIT_PACKED is not supported as a value encoding");
  }
  if (static_cast<int>(encoding) < 0 || static_cast<int>(encoding) > 9) {
    return UnimplementedError("unknown value encoding " +
                              std::to_string(static_cast<int>(encoding)));
  }
  return DataLossError(std::string(EncodingName(encoding)) + " is not valid for " +
                       std::string(TypeName(out->type)) + " values");
}

}  // namespace weft::lake::parquet

#include "lake/delta/deletion_vector.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace weft::lake::delta {

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint32_t kMagic = 1681511377;        // portable format, little endian
constexpr uint32_t kNativeMagic = 1681511376;  // Delta's older "native" format, big endian
// RoaringBitmap's portable format (RoaringFormatSpec).
constexpr uint32_t kSerialCookieNoRun = 12346;
constexpr uint32_t kSerialCookie = 12347;
constexpr uint32_t kNoOffsetThreshold = 4;
constexpr uint32_t kArrayMaxCardinality = 4096;

// Little-endian reads over the serialized bitmap. REQUIRES: Has(n) checked by the caller.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return n <= bytes_.size() - pos_; }
  void Skip(size_t n) { pos_ += n; }
  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  uint16_t U16() {
    uint16_t v = U8();
    v = static_cast<uint16_t>(v | (U8() << 8));
    return v;
  }
  uint32_t U32() {
    uint32_t v = U16();
    v |= uint32_t{U16()} << 16;
    return v;
  }
  uint64_t U64() {
    uint64_t v = U32();
    v |= uint64_t{U32()} << 32;
    return v;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

Status Corrupt(const std::string& what) {
  return DataLossError("deletion vector: " + what);
}

// One 32-bit RoaringBitmap (portable format) whose values get `high` as their upper 32 bits.
Status DecodeBitmap32(Reader& r, uint64_t high, std::vector<uint64_t>* out) {
  if (!r.Has(4)) return Corrupt("truncated bitmap header");
  uint32_t cookie = r.U32();
  uint32_t size = 0;
  bool has_runs = false;
  std::vector<uint8_t> run_flags;
  if ((cookie & 0xFFFF) == kSerialCookie) {
    has_runs = true;
    size = (cookie >> 16) + 1;
    size_t flag_bytes = (size + 7) / 8;
    if (!r.Has(flag_bytes)) return Corrupt("truncated run flags");
    for (size_t i = 0; i < flag_bytes; ++i) run_flags.push_back(r.U8());
  } else if (cookie == kSerialCookieNoRun) {
    if (!r.Has(4)) return Corrupt("truncated container count");
    size = r.U32();
  } else {
    return Corrupt("unknown RoaringBitmap cookie " + std::to_string(cookie));
  }
  if (size > 65536) return Corrupt("too many containers (" + std::to_string(size) + ")");
  if (!r.Has(size_t{size} * 4)) return Corrupt("truncated container headers");
  std::vector<uint16_t> keys(size);
  std::vector<uint32_t> cardinalities(size);
  for (uint32_t i = 0; i < size; ++i) {
    keys[i] = r.U16();
    cardinalities[i] = uint32_t{r.U16()} + 1;
  }
  if (!has_runs || size >= kNoOffsetThreshold) {
    if (!r.Has(size_t{size} * 4)) return Corrupt("truncated container offsets");
    r.Skip(size_t{size} * 4);  // containers follow in order; offsets are redundant for us
  }
  for (uint32_t i = 0; i < size; ++i) {
    uint64_t base = (high << 32) | (uint64_t{keys[i]} << 16);
    bool is_run = has_runs && ((run_flags[i / 8] >> (i % 8)) & 1) != 0;
    if (is_run) {
      if (!r.Has(2)) return Corrupt("truncated run container");
      uint16_t runs = r.U16();
      if (!r.Has(size_t{runs} * 4)) return Corrupt("truncated run container");
      uint64_t count = 0;
      for (uint16_t k = 0; k < runs; ++k) {
        uint32_t start = r.U16();
        uint32_t length = uint32_t{r.U16()} + 1;
        if (start + length > 65536) return Corrupt("run past the container's end");
        for (uint32_t v = 0; v < length; ++v) out->push_back(base | (start + v));
        count += length;
      }
      if (count != cardinalities[i]) return Corrupt("run container cardinality mismatch");
    } else if (cardinalities[i] <= kArrayMaxCardinality) {
      if (!r.Has(size_t{cardinalities[i]} * 2)) return Corrupt("truncated array container");
      for (uint32_t k = 0; k < cardinalities[i]; ++k) out->push_back(base | r.U16());
    } else {
      if (!r.Has(8192)) return Corrupt("truncated bitmap container");
      uint64_t count = 0;
      for (uint32_t word = 0; word < 1024; ++word) {
        uint64_t bits = r.U64();
        while (bits != 0) {
          int bit = __builtin_ctzll(bits);
          out->push_back(base | (word * 64 + static_cast<uint32_t>(bit)));
          bits &= bits - 1;
          ++count;
        }
      }
      if (count != cardinalities[i]) return Corrupt("bitmap container cardinality mismatch");
    }
  }
  return Status::Ok();
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t BigEndian32(std::string_view b) {
  return (uint32_t{static_cast<unsigned char>(b[0])} << 24) |
         (uint32_t{static_cast<unsigned char>(b[1])} << 16) |
         (uint32_t{static_cast<unsigned char>(b[2])} << 8) |
         uint32_t{static_cast<unsigned char>(b[3])};
}

}  // namespace

bool DeletedRows::Contains(uint64_t row) const {
  return std::binary_search(rows_.begin(), rows_.end(), row);
}

Result<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) {
    return InvalidArgumentError("Z85 text of length " + std::to_string(text.size()) +
                                " (expected a multiple of 5)");
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t k = 0; k < 5; ++k) {
      size_t digit = kZ85Alphabet.find(text[i + k]);
      if (digit == std::string_view::npos) {
        return InvalidArgumentError(std::string("Z85: invalid character '") + text[i + k] + "'");
      }
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFu) return InvalidArgumentError("Z85: group out of range");
    for (int shift = 24; shift >= 0; shift -= 8) {
      out += static_cast<char>((value >> shift) & 0xFF);
    }
  }
  return out;
}

namespace {

// Delta's native RoaringBitmapArray format (the protocol's inline example uses it): big-endian
// magic and count, then per 32-bit bucket (high key = its index) a big-endian size and a
// portable 32-bit RoaringBitmap.
Result<DeletedRows> DecodeNative(std::string_view bytes) {
  if (bytes.size() < 8) return Corrupt("truncated native header");
  uint32_t buckets = BigEndian32(bytes.substr(4));
  size_t pos = 8;
  std::vector<uint64_t> rows;
  for (uint32_t b = 0; b < buckets; ++b) {
    if (bytes.size() - pos < 4) return Corrupt("truncated native bucket size");
    uint32_t size = BigEndian32(bytes.substr(pos));
    pos += 4;
    if (bytes.size() - pos < size) return Corrupt("truncated native bucket");
    Reader r(bytes.substr(pos, size));
    WEFT_RETURN_IF_ERROR(DecodeBitmap32(r, b, &rows));
    pos += size;
  }
  if (!std::is_sorted(rows.begin(), rows.end()) ||
      std::adjacent_find(rows.begin(), rows.end()) != rows.end()) {
    return Corrupt("row indexes not strictly ascending");
  }
  return DeletedRows(std::move(rows));
}

}  // namespace

Result<DeletedRows> DecodeDeletionVector(std::string_view bytes) {
  Reader r(bytes);
  if (!r.Has(12))
    return Corrupt("shorter than its header (" + std::to_string(bytes.size()) + " bytes)");
  if (BigEndian32(bytes) == kNativeMagic) return DecodeNative(bytes);
  uint32_t magic = r.U32();
  if (magic != kMagic) return Corrupt("bad magic number " + std::to_string(magic));
  uint64_t buckets = r.U64();
  if (buckets > bytes.size())
    return Corrupt("bucket count " + std::to_string(buckets) + " too large");
  std::vector<uint64_t> rows;
  int64_t previous_key = -1;
  for (uint64_t b = 0; b < buckets; ++b) {
    if (!r.Has(4)) return Corrupt("truncated bucket key");
    uint32_t key = r.U32();
    if (static_cast<int64_t>(key) <= previous_key) return Corrupt("bucket keys not ascending");
    if ((key & 0x80000000u) != 0) return Corrupt("negative bucket key");
    previous_key = key;
    WEFT_RETURN_IF_ERROR(DecodeBitmap32(r, key, &rows));
  }
  if (!std::is_sorted(rows.begin(), rows.end()) ||
      std::adjacent_find(rows.begin(), rows.end()) != rows.end()) {
    return Corrupt("row indexes not strictly ascending");
  }
  return DeletedRows(std::move(rows));
}

Result<std::string> DeletionVectorKey(const DeletionVectorDescriptor& dv) {
  if (dv.storage_type != "u") {
    return InvalidArgumentError("deletion vector storage '" + dv.storage_type +
                                "' has no relative key");
  }
  const std::string& p = dv.path_or_inline_dv;
  if (p.size() < 20)
    return DataLossError("deletion vector path '" + p + "' is shorter than a UUID");
  std::string prefix = p.substr(0, p.size() - 20);
  WEFT_ASSIGN_OR_RETURN(std::string uuid_bytes,
                        Z85Decode(std::string_view(p).substr(p.size() - 20)));
  char uuid[40];
  auto b = [&](size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(uuid_bytes[i]));
  };
  std::snprintf(uuid, sizeof(uuid),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b(0), b(1),
                b(2), b(3), b(4), b(5), b(6), b(7), b(8), b(9), b(10), b(11), b(12), b(13), b(14),
                b(15));
  return (prefix.empty() ? "" : prefix + "/") + "deletion_vector_" + uuid + ".bin";
}

Result<DeletedRows> LoadDeletionVector(ObjectStore& store, const DeletionVectorDescriptor& dv) {
  if (dv.size_in_bytes < 0 || dv.cardinality < 0) return Corrupt("negative size or cardinality");
  const size_t size = static_cast<size_t>(dv.size_in_bytes);
  std::string data;
  std::string where;
  if (dv.storage_type == "i") {
    where = "inline deletion vector";
    WEFT_ASSIGN_OR_RETURN(std::string decoded, Z85Decode(dv.path_or_inline_dv));
    if (decoded.size() < size) return Corrupt(where + ": shorter than sizeInBytes");
    data = decoded.substr(0, size);
  } else if (dv.storage_type == "u") {
    WEFT_ASSIGN_OR_RETURN(std::string key, DeletionVectorKey(dv));
    where = store.Describe(key);
    const uint64_t offset = static_cast<uint64_t>(dv.offset.value_or(0));
    // At `offset`: dataSize (4 bytes, big endian), the data, its CRC-32 (big endian).
    WEFT_ASSIGN_OR_RETURN(std::string chunk, store.GetRange(key, offset, size + 8));
    if (chunk.size() != size + 8)
      return Corrupt(where + ": truncated at offset " + std::to_string(offset));
    if (BigEndian32(chunk) != size) {
      return Corrupt(where + ": stored size " + std::to_string(BigEndian32(chunk)) +
                     " != sizeInBytes " + std::to_string(size));
    }
    data = chunk.substr(4, size);
    if (Crc32(data) != BigEndian32(std::string_view(chunk).substr(4 + size))) {
      return Corrupt(where + ": CRC-32 mismatch");
    }
  } else if (dv.storage_type == "p") {
    return UnimplementedError(
        "deletion vectors at absolute paths (storageType 'p') are not supported");
  } else {
    return Corrupt("unknown storageType '" + dv.storage_type + "'");
  }
  Result<DeletedRows> rows = DecodeDeletionVector(data);
  if (!rows.ok()) return Status(rows.status().code(), where + ": " + rows.status().message());
  if (static_cast<int64_t>(rows->size()) != dv.cardinality) {
    return Corrupt(where + ": " + std::to_string(rows->size()) + " rows, cardinality says " +
                   std::to_string(dv.cardinality));
  }
  return rows;
}

}  // namespace weft::lake::delta

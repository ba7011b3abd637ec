#include "lake/parquet/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <type_traits>

#include "lake/parquet/codec.h"
#include "lake/parquet/rle.h"

namespace weft::lake::parquet {

static_assert(std::endian::native == std::endian::little,
              "the PLAIN encoder copies values as they are in memory: little-endian only");

// =============================================================================================
// Sinks

Status MemorySink::Append(std::string_view bytes) {
  if (closed_) return FailedPreconditionError("MemorySink: Append after Close");
  data_.append(bytes);
  return Status::Ok();
}

Status MemorySink::Close() {
  closed_ = true;
  return Status::Ok();
}

namespace {

std::string ErrnoMessage(std::string_view what, const std::string& path) {
  return std::string(what) + " '" + path + "': " + std::strerror(errno);
}

constexpr size_t kFileBufferSize = size_t{1} << 20;

}  // namespace

Result<std::unique_ptr<LocalFileSink>> LocalFileSink::Open(const std::string& path) {
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".tmp-%08x%08x", rd(), rd());
  std::string temp = path + suffix;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError(ErrnoMessage("cannot create", temp));
  return std::unique_ptr<LocalFileSink>(new LocalFileSink(path, std::move(temp), fd));
}

LocalFileSink::~LocalFileSink() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

Status LocalFileSink::WriteAll(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(ErrnoMessage("cannot write", temp_path_));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status LocalFileSink::FlushBuffer() {
  Status s = WriteAll(buffer_);
  buffer_.clear();
  return s;
}

Status LocalFileSink::Append(std::string_view bytes) {
  if (fd_ < 0) return FailedPreconditionError("LocalFileSink: Append after Close: " + path_);
  if (buffer_.capacity() < kFileBufferSize) buffer_.reserve(kFileBufferSize);
  if (buffer_.size() + bytes.size() > kFileBufferSize) WEFT_RETURN_IF_ERROR(FlushBuffer());
  if (bytes.size() >= kFileBufferSize) return WriteAll(bytes);  // large pieces: no copy
  buffer_.append(bytes);
  return Status::Ok();
}

Status LocalFileSink::Close() {
  if (fd_ < 0) return FailedPreconditionError("LocalFileSink: closed twice: " + path_);
  Status s = FlushBuffer();
  if (::close(fd_) != 0 && s.ok()) s = UnavailableError(ErrnoMessage("cannot close", temp_path_));
  fd_ = -1;
  if (s.ok() && std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    s = UnavailableError(ErrnoMessage("cannot rename to '" + path_ + "':", temp_path_));
  }
  if (!s.ok()) ::unlink(temp_path_.c_str());
  return s;
}

// =============================================================================================
// Schema and input values

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean: return "BOOLEAN";
    case ColumnType::kInt32: return "INT32";
    case ColumnType::kInt64: return "INT64";
    case ColumnType::kFloat: return "FLOAT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kString: return "STRING";
    case ColumnType::kBinary: return "BINARY";
    case ColumnType::kTimestampMicros: return "TIMESTAMP(MICROS)";
    case ColumnType::kDate: return "DATE";
  }
  return "?";
}

Field Field::Primitive(std::string name, ColumnType type, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.kind = Kind::kPrimitive;
  f.type = type;
  f.nullable = nullable;
  return f;
}
Field Field::Boolean(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kBoolean, nullable);
}
Field Field::Int32(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kInt32, nullable);
}
Field Field::Int64(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kInt64, nullable);
}
Field Field::Float(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kFloat, nullable);
}
Field Field::Double(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kDouble, nullable);
}
Field Field::String(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kString, nullable);
}
Field Field::Binary(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kBinary, nullable);
}
Field Field::Timestamp(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kTimestampMicros, nullable);
}
Field Field::Date(std::string n, bool nullable) {
  return Primitive(std::move(n), ColumnType::kDate, nullable);
}
Field Field::Struct(std::string name, std::vector<Field> fields, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.kind = Kind::kStruct;
  f.nullable = nullable;
  f.children = std::move(fields);
  return f;
}
Field Field::List(std::string name, Field element, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.kind = Kind::kList;
  f.nullable = nullable;
  element.name = "element";
  f.children.push_back(std::move(element));
  return f;
}
Field Field::Map(std::string name, Field key, Field value, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.kind = Kind::kMap;
  f.nullable = nullable;
  key.name = "key";
  value.name = "value";
  f.children.push_back(std::move(key));
  f.children.push_back(std::move(value));
  return f;
}

ColumnView ColumnView::Boolean(std::span<const uint8_t> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kBool;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::Int32(std::span<const int32_t> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kInt32;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::Int64(std::span<const int64_t> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kInt64;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::Float(std::span<const float> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kFloat;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::Double(std::span<const double> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kDouble;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::Strings(std::span<const std::string_view> values, Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kStringViews;
  v.size_ = values.size();
  v.values_ = values.data();
  v.validity_ = validity;
  return v;
}
ColumnView ColumnView::StringsWithOffsets(std::span<const int32_t> offsets, std::string_view data,
                                          Validity validity) {
  ColumnView v;
  v.storage_ = Storage::kStringOffsets;
  v.size_ = offsets.empty() ? 0 : offsets.size() - 1;
  v.offsets_ = offsets;
  v.data_ = data;
  v.validity_ = validity;
  return v;
}

Value StructOf(std::vector<Value> fields) {
  Value v;
  v.kind = Value::Kind::kStruct;
  v.items = std::move(fields);
  return v;
}

Value ListOf(std::vector<Value> items) {
  Value v;
  v.kind = Value::Kind::kList;
  v.items = std::move(items);
  return v;
}

Value MapOf(std::vector<std::pair<Value, Value>> entries) {
  Value v;
  v.kind = Value::Kind::kMap;
  v.items.reserve(entries.size());
  for (std::pair<Value, Value>& key_value : entries) {
    Value entry;
    entry.kind = Value::Kind::kStruct;
    entry.names = {"key", "value"};
    entry.items.push_back(std::move(key_value.first));
    entry.items.push_back(std::move(key_value.second));
    v.items.push_back(std::move(entry));
  }
  return v;
}

// =============================================================================================
// Column chunk builders

namespace {

Codec CodecOf(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return Codec::kUncompressed;
    case Compression::kSnappy: return Codec::kSnappy;
    case Compression::kGzip: return Codec::kGzip;
    case Compression::kZstd: return Codec::kZstd;
  }
  return Codec::kUncompressed;
}

//! The level handed to the compressor: option 0 means zstd 3 (DuckDB's default, where codec.h's
//! default is 1) and zlib's own default for gzip.
int EffectiveLevel(const WriterOptions& options) {
  if (options.compression == Compression::kZstd && options.compression_level == 0) return 3;
  return options.compression_level;
}

Type PhysicalType(ColumnType t) {
  switch (t) {
    case ColumnType::kBoolean: return Type::kBoolean;
    case ColumnType::kInt32:
    case ColumnType::kDate: return Type::kInt32;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: return Type::kInt64;
    case ColumnType::kFloat: return Type::kFloat;
    case ColumnType::kDouble: return Type::kDouble;
    case ColumnType::kString:
    case ColumnType::kBinary: return Type::kByteArray;
  }
  return Type::kInt32;
}

//! A leaf column of the schema, as the builders see it.
struct LeafInfo {
  ColumnType type = ColumnType::kInt32;
  std::vector<std::string> path;
  std::string dotted_path;
  int16_t max_def = 0;
  int16_t max_rep = 0;
};

//! Where a builder sends the finished chunk's bytes (the writer's sink, tracking the offset).
using AppendFn = std::function<Status(std::string_view)>;

//! Collects one leaf column of the current row group: levels and values of the open page, the
//! finished (compressed) pages, the dictionary and the statistics.
class ColumnBuilder {
 public:
  virtual ~ColumnBuilder() = default;
  //! Appends values from [begin, end) of a flat column (max_rep == 0, max_def <= 1); returns how
  //! many it took: it stops early when the dictionary fills up (call MaybeFinishPage(), then
  //! append the rest).
  virtual size_t AppendFlat(const ColumnView& view, size_t begin, size_t end) = 0;
  //! Appends one level pair; `value` is set iff def == max_def. REQUIRES: the value's kind was
  //! validated against the column type.
  virtual void AppendNested(int16_t rep, int16_t def, const Value* value) = 0;
  //! Ends the open page if it is full, or switches to PLAIN if the dictionary overflowed.
  virtual Status MaybeFinishPage() = 0;
  //! Encoded bytes the row group holds for this column so far (uncompressed).
  virtual int64_t BufferedBytes() const = 0;
  //! Ends the chunk: writes its pages through `append` starting at file offset `offset`, fills
  //! `*chunk` and resets the builder for the next row group.
  virtual Status FinishChunk(int64_t offset, const AppendFn& append, ColumnChunk* chunk) = 0;
};

// --- value traits -----------------------------------------------------------------------------

struct BoolTraits {
  using T = bool;
  static constexpr bool kDictionary = false;
};
struct Int32Traits {
  using T = int32_t;
  static constexpr bool kDictionary = true;
};
struct Int64Traits {
  using T = int64_t;
  static constexpr bool kDictionary = true;
};
struct FloatTraits {
  using T = float;
  static constexpr bool kDictionary = true;
};
struct DoubleTraits {
  using T = double;
  static constexpr bool kDictionary = true;
};
struct ByteArrayTraits {
  using T = std::string_view;
  static constexpr bool kDictionary = true;
};

uint64_t Mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t Load64(const char* p) {
  uint64_t k;
  std::memcpy(&k, p, 8);
  return k;
}

uint64_t Load32(const char* p) {
  uint32_t k;
  std::memcpy(&k, p, 4);
  return k;
}

uint64_t HashBytes(std::string_view s) {
  const char* p = s.data();
  const size_t size = s.size();
  size_t n = size;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (size * 0xbf58476d1ce4e5b9ULL);
  auto round = [&h](uint64_t k) {
    h = std::rotl(h ^ (k * 0x87c37b91114253d5ULL), 29) * 0x4cf5ad432745937fULL;
  };
  while (n > 8) {
    round(Load64(p));
    p += 8;
    n -= 8;
  }
  // The last 1..8 bytes with whole-word loads (overlapping earlier bytes when the string is
  // longer than 8): copying a variable number of bytes costs a store-forwarding stall.
  if (size >= 8) {
    round(Load64(s.data() + size - 8));
  } else if (n >= 4) {
    round(Load32(p) | (Load32(p + n - 4) << 32));
  } else if (n > 0) {
    const auto b0 = static_cast<uint64_t>(static_cast<unsigned char>(p[0]));
    const auto b1 = static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2]));
    const auto b2 = static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1]));
    round(b0 | (b1 << 8) | (b2 << 16));
  }
  return Mix64(h);
}

template <typename T>
uint64_t Bits(T v) {
  if constexpr (sizeof(T) == 1) {
    return static_cast<uint64_t>(v);
  } else if constexpr (sizeof(T) == 4) {
    return std::bit_cast<uint32_t>(v);
  } else {
    return std::bit_cast<uint64_t>(v);
  }
}

//! The distinct values of a column chunk in first-seen order, with an open-addressing index.
//! Floats are keyed by their bits (so -0.0 and 0.0 are distinct entries, as PLAIN keeps them).
template <typename T>
class Dictionary {
 public:
  using Stored = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

  Dictionary() { Rehash(1024); }

  //! The index of `v`, inserting it when new; *inserted tells which.
  uint32_t Insert(T v, bool* inserted) {
    uint64_t h;
    if constexpr (std::is_same_v<T, std::string_view>) {
      h = HashBytes(v);
    } else {
      h = Mix64(Bits(v));
    }
    // A slot holds the hash's high half (a tag that spares most comparisons) and index + 1.
    const uint64_t tag = h & 0xFFFFFFFF00000000ULL;
    size_t slot = static_cast<size_t>(h) & mask_;
    while (true) {
      const uint64_t e = slots_[slot];
      if (e == 0) break;
      if ((e & 0xFFFFFFFF00000000ULL) == tag) {
        const auto index = static_cast<uint32_t>(e - 1);
        if constexpr (std::is_same_v<T, std::string_view>) {
          const auto& [offset, length] = entries_[index];
          if (length == v.size() && std::memcmp(arena_.data() + offset, v.data(), length) == 0) {
            *inserted = false;
            return index;
          }
        } else {
          if (Bits(values_[index]) == Bits(v)) {
            *inserted = false;
            return index;
          }
        }
      }
      slot = (slot + 1) & mask_;
    }
    const auto index = static_cast<uint32_t>(size());
    slots_[slot] = tag | (uint64_t{index} + 1);
    if constexpr (std::is_same_v<T, std::string_view>) {
      entries_.emplace_back(static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(v.size()));
      arena_.append(v);
      hashes_.push_back(h);
      plain_bytes_ += 4 + v.size();
    } else {
      values_.push_back(v);
      plain_bytes_ += sizeof(T);
    }
    *inserted = true;
    if (size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
    return index;
  }

  T Get(uint32_t i) const {
    if constexpr (std::is_same_v<T, std::string_view>) {
      return std::string_view(arena_.data() + entries_[i].first, entries_[i].second);
    } else {
      return static_cast<T>(values_[i]);
    }
  }

  size_t size() const {
    if constexpr (std::is_same_v<T, std::string_view>) {
      return entries_.size();
    } else {
      return values_.size();
    }
  }
  size_t plain_bytes() const { return plain_bytes_; }

  //! The dictionary page body: the values, PLAIN-encoded.
  void EncodePlain(std::string* out) const {
    if constexpr (std::is_same_v<T, std::string_view>) {
      out->reserve(out->size() + plain_bytes_);
      for (const auto& [offset, length] : entries_) {
        const uint32_t len = length;
        out->append(reinterpret_cast<const char*>(&len), 4);
        out->append(arena_, offset, length);
      }
    } else {
      out->append(reinterpret_cast<const char*>(values_.data()), values_.size() * sizeof(Stored));
    }
  }

  void Clear() {
    values_.clear();
    entries_.clear();
    arena_.clear();
    hashes_.clear();
    plain_bytes_ = 0;
    Rehash(1024);
  }

 private:
  void Rehash(size_t capacity) {
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
    for (uint32_t i = 0; i < size(); ++i) {
      uint64_t h;
      if constexpr (std::is_same_v<T, std::string_view>) {
        h = hashes_[i];
      } else {
        h = Mix64(Bits(values_[i]));
      }
      size_t slot = static_cast<size_t>(h) & mask_;
      while (slots_[slot] != 0) slot = (slot + 1) & mask_;
      slots_[slot] = (h & 0xFFFFFFFF00000000ULL) | (uint64_t{i} + 1);
    }
  }

  std::vector<uint64_t> slots_;  //!< 0 = empty
  size_t mask_ = 0;
  std::vector<Stored> values_;                          // numeric values
  std::vector<std::pair<uint32_t, uint32_t>> entries_;  // byte arrays: offset, length in arena_
  std::string arena_;
  std::vector<uint64_t> hashes_;
  size_t plain_bytes_ = 0;
};

//! Min/max in the column's type order, and the null count.
template <typename T>
struct TypedStats {
  using Stored = std::conditional_t<std::is_same_v<T, std::string_view>, std::string, T>;
  bool has_minmax = false;
  Stored min{};
  Stored max{};
  int64_t null_count = 0;

  void Update(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return;  // NaN has no place in IEEE order: excluded
    }
    if (!has_minmax) {
      min = Stored(v);
      max = Stored(v);
      has_minmax = true;
      return;
    }
    if constexpr (std::is_same_v<T, std::string_view>) {
      // std::string_view compares bytes as unsigned char, the order Parquet defines for strings.
      if (v < std::string_view(min)) {
        min.assign(v);
      } else if (v > std::string_view(max)) {
        max.assign(v);
      }
    } else {
      if (v < min) min = v;
      if (max < v) max = v;
    }
  }

  void Merge(const TypedStats& o) {
    null_count += o.null_count;
    if (!o.has_minmax) return;
    if (!has_minmax) {
      min = o.min;
      max = o.max;
      has_minmax = true;
      return;
    }
    if (o.min < min) min = o.min;
    if (max < o.max) max = o.max;
  }

  void Reset() { *this = TypedStats(); }

  Statistics ToThrift(size_t max_size) const {
    Statistics s;
    s.null_count = null_count;
    if (!has_minmax) return s;
    // Values are never truncated: the bounds are actual values of the column.
    s.is_min_value_exact = true;
    s.is_max_value_exact = true;
    if constexpr (std::is_same_v<T, std::string_view>) {
      if (min.size() > max_size || max.size() > max_size) {
        s.is_min_value_exact.reset();
        s.is_max_value_exact.reset();
        return s;
      }
      s.min_value = min;
      s.max_value = max;
    } else if constexpr (std::is_same_v<T, bool>) {
      s.min_value = std::string(1, min ? '\1' : '\0');
      s.max_value = std::string(1, max ? '\1' : '\0');
    } else {
      Stored lo = min;
      Stored hi = max;
      if constexpr (std::is_floating_point_v<T>) {
        // Zeros compare equal, so which sign was kept is arbitrary: widen to [-0, +0].
        if (lo == 0) lo = -Stored(0);
        if (hi == 0) hi = Stored(0);
      }
      s.min_value = std::string(reinterpret_cast<const char*>(&lo), sizeof(lo));
      s.max_value = std::string(reinterpret_cast<const char*>(&hi), sizeof(hi));
    }
    return s;
  }
};

void PutU32(uint32_t v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), 4);
}

template <typename Traits>
class TypedColumnBuilder final : public ColumnBuilder {
 public:
  using T = typename Traits::T;

  TypedColumnBuilder(LeafInfo info, const WriterOptions& options, Compressor* compressor)
      : info_(std::move(info)),
        options_(options),
        compressor_(compressor),
        use_dictionary_(Traits::kDictionary && options.enable_dictionary) {}

  size_t AppendFlat(const ColumnView& view, size_t begin, size_t end) override {
    using Storage = ColumnView::Storage;
    // WriteBatch checked that the storage suits the column type.
    if constexpr (std::is_same_v<T, bool>) {
      const auto* p = static_cast<const uint8_t*>(view.values());
      return AppendFlatImpl(view, begin, end, [p](size_t i) { return p[i] != 0; });
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      if (view.storage() == Storage::kStringOffsets) {
        const int32_t* off = view.offsets().data();
        const char* data = view.data().data();
        return AppendFlatImpl(view, begin, end, [off, data](size_t i) {
          return std::string_view(data + off[i], static_cast<size_t>(off[i + 1] - off[i]));
        });
      }
      const auto* p = static_cast<const std::string_view*>(view.values());
      return AppendFlatImpl(view, begin, end, [p](size_t i) { return p[i]; });
    } else {
      const auto* p = static_cast<const T*>(view.values());
      return AppendFlatImpl(view, begin, end, [p](size_t i) { return p[i]; });
    }
  }

  void AppendNested(int16_t rep, int16_t def, const Value* value) override {
    if (info_.max_rep > 0) rep_levels_.push_back(static_cast<uint32_t>(rep));
    if (info_.max_def > 0) def_levels_.push_back(static_cast<uint32_t>(def));
    ++page_num_values_;
    if (value == nullptr) {
      ++page_stats_.null_count;
      return;
    }
    if constexpr (std::is_same_v<T, bool>) {
      AppendValue(value->bool_value);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      AppendValue(std::string_view(value->bytes));
    } else if constexpr (std::is_integral_v<T>) {
      AppendValue(static_cast<T>(value->int_value));
    } else {
      AppendValue(static_cast<T>(value->double_value));
    }
  }

  Status MaybeFinishPage() override {
    if (dictionary_full_) {
      // The dictionary outgrew its page: seal the values it encodes, PLAIN from here on.
      WEFT_RETURN_IF_ERROR(FinishPage());
      use_dictionary_ = false;
      dictionary_full_ = false;
      return Status::Ok();
    }
    if (PageBytes() >= options_.page_size_bytes) return FinishPage();
    return Status::Ok();
  }

  int64_t BufferedBytes() const override {
    // Before its first page the dictionary is not counted: PageBytes() is the PLAIN size then.
    return chunk_uncompressed_ + PageBytes() +
           (dictionary_pages_ > 0 ? static_cast<int64_t>(dictionary_.plain_bytes()) : 0);
  }

  Status FinishChunk(int64_t offset, const AppendFn& append, ColumnChunk* chunk) override {
    WEFT_RETURN_IF_ERROR(FinishPage());
    ColumnMetaData md;
    md.type = PhysicalType(info_.type);
    md.path_in_schema = info_.path;
    md.codec = compressor_->codec();
    md.num_values = chunk_num_values_;
    int64_t pos = offset;
    int64_t uncompressed = 0;
    int64_t compressed = 0;
    if (dictionary_pages_ > 0) {
      page_body_.clear();
      dictionary_.EncodePlain(&page_body_);
      compressed_body_.clear();
      WEFT_RETURN_IF_ERROR(compressor_->CompressTo(page_body_, &compressed_body_));
      PageHeader h;
      h.type = PageType::kDictionaryPage;
      h.uncompressed_page_size = static_cast<int32_t>(page_body_.size());
      h.compressed_page_size = static_cast<int32_t>(compressed_body_.size());
      h.dictionary_page_header = DictionaryPageHeader{static_cast<int32_t>(dictionary_.size()),
                                                      Encoding::kPlain, std::nullopt};
      header_.clear();
      EncodePageHeader(h, &header_);
      WEFT_RETURN_IF_ERROR(append(header_));
      WEFT_RETURN_IF_ERROR(append(compressed_body_));
      md.dictionary_page_offset = pos;
      const auto header_size = static_cast<int64_t>(header_.size());
      pos += header_size + static_cast<int64_t>(compressed_body_.size());
      uncompressed += header_size + static_cast<int64_t>(page_body_.size());
      compressed += header_size + static_cast<int64_t>(compressed_body_.size());
    }
    md.data_page_offset = pos;
    WEFT_RETURN_IF_ERROR(append(pages_));
    uncompressed += chunk_uncompressed_;
    compressed += static_cast<int64_t>(pages_.size());
    md.total_uncompressed_size = uncompressed;
    md.total_compressed_size = compressed;
    if (dictionary_pages_ > 0 || plain_pages_ > 0) md.encodings.push_back(Encoding::kPlain);
    if (info_.max_def > 0 || info_.max_rep > 0) md.encodings.push_back(Encoding::kRle);
    if (dictionary_pages_ > 0) md.encodings.push_back(Encoding::kRleDictionary);
    if (md.encodings.empty()) md.encodings.push_back(Encoding::kPlain);
    md.statistics = chunk_stats_.ToThrift(options_.max_statistics_size);
    chunk->file_offset = offset;
    chunk->meta_data = std::move(md);

    // Reset for the next row group.
    pages_.clear();
    chunk_uncompressed_ = 0;
    chunk_num_values_ = 0;
    dictionary_pages_ = 0;
    plain_pages_ = 0;
    chunk_stats_.Reset();
    dictionary_.Clear();
    seen_in_page_.clear();
    dictionary_full_ = false;
    use_dictionary_ = Traits::kDictionary && options_.enable_dictionary;
    return Status::Ok();
  }

 private:
  template <typename Getter>
  size_t AppendFlatImpl(const ColumnView& view, size_t begin, size_t end, Getter get) {
    const uint8_t* valid = view.validity().empty() ? nullptr : view.validity().data();
    size_t i = begin;
    if (valid == nullptr) {
      while (i < end) {
        if (!AppendValue(get(i++))) break;
      }
      if (info_.max_def > 0) def_levels_.resize(def_levels_.size() + (i - begin), 1U);
    } else {
      while (i < end) {
        const bool is_valid = valid[i] != 0;
        if (info_.max_def > 0) def_levels_.push_back(is_valid ? 1U : 0U);
        if (!is_valid) {
          ++page_stats_.null_count;
          ++i;
        } else if (!AppendValue(get(i++))) {
          break;
        }
      }
    }
    page_num_values_ += static_cast<int64_t>(i - begin);
    return i - begin;
  }

  //! Returns false when the dictionary just outgrew its limit (the value is in it).
  bool AppendValue(T v) {
    if (use_dictionary_) {
      bool inserted;
      const uint32_t index = dictionary_.Insert(v, &inserted);
      indices_.push_back(index);
      if constexpr (std::is_same_v<T, std::string_view>) {
        page_plain_bytes_ += 4 + static_cast<int64_t>(v.size());
      } else {
        page_plain_bytes_ += static_cast<int64_t>(sizeof(T));
      }
      // Page statistics only need each distinct value once per page.
      if (inserted) {
        seen_in_page_.push_back(0);
        if (static_cast<int64_t>(dictionary_.plain_bytes()) > options_.dictionary_page_size_limit) {
          dictionary_full_ = true;
        }
      }
      if (seen_in_page_[index] == 0) {
        seen_in_page_[index] = 1;
        page_stats_.Update(v);
      }
      return !dictionary_full_;
    }
    page_stats_.Update(v);
    if constexpr (std::is_same_v<T, std::string_view>) {
      PutU32(static_cast<uint32_t>(v.size()), &plain_);
      plain_.append(v);
    } else {
      plain_values_.push_back(v);
    }
    return true;
  }

  int64_t PlainValueBytes() const {
    if constexpr (std::is_same_v<T, std::string_view>) {
      return static_cast<int64_t>(plain_.size());
    } else if constexpr (std::is_same_v<T, bool>) {
      return static_cast<int64_t>((plain_values_.size() + 7) / 8);
    } else {
      return static_cast<int64_t>(plain_values_.size() * sizeof(T));
    }
  }

  int64_t PageBytes() const {
    int64_t levels = static_cast<int64_t>(def_levels_.size() + rep_levels_.size()) / 8;
    if (!indices_.empty()) {
      const int64_t index_bytes = static_cast<int64_t>(indices_.size()) * IndexBitWidth() / 8;
      // Until the dictionary has proven itself (first page), cut pages by their PLAIN size, so
      // that a column it does not suit gets normal PLAIN pages.
      return levels +
             (dictionary_pages_ == 0 ? std::max(index_bytes, page_plain_bytes_) : index_bytes);
    }
    return levels + PlainValueBytes();
  }

  void EncodeLevels(const std::vector<uint32_t>& levels, int16_t max_level) {
    const size_t length_at = page_body_.size();
    PutU32(0, &page_body_);
    RleEncodeTo(levels.data(), levels.size(), BitWidth(static_cast<uint64_t>(max_level)),
                &page_body_);
    const auto length = static_cast<uint32_t>(page_body_.size() - length_at - 4);
    std::memcpy(page_body_.data() + length_at, &length, 4);
  }

  //! Bits per dictionary index (at least 1: some readers reject 0).
  int IndexBitWidth() const {
    return std::max(1, BitWidth(dictionary_.size() > 0 ? dictionary_.size() - 1 : 0));
  }

  //! Whether the dictionary page plus the open page's indices are smaller than PLAIN values.
  bool DictionaryPaysOff() const {
    const int64_t dict_cost = static_cast<int64_t>(dictionary_.plain_bytes()) +
                              static_cast<int64_t>(indices_.size()) * IndexBitWidth() / 8;
    int64_t plain_cost = 0;
    if constexpr (std::is_same_v<T, std::string_view>) {
      for (uint32_t index : indices_) {
        plain_cost += 4 + static_cast<int64_t>(dictionary_.Get(index).size());
      }
    } else {
      plain_cost = static_cast<int64_t>(indices_.size() * sizeof(T));
    }
    return dict_cost < plain_cost;
  }

  //! Rewrites the open page's dictionary indices as PLAIN values.
  void IndicesToPlain() {
    for (uint32_t index : indices_) {
      const T v = dictionary_.Get(index);
      if constexpr (std::is_same_v<T, std::string_view>) {
        PutU32(static_cast<uint32_t>(v.size()), &plain_);
        plain_.append(v);
      } else {
        plain_values_.push_back(v);
      }
    }
    indices_.clear();
  }

  Status FinishPage() {
    if (page_num_values_ == 0) return Status::Ok();
    Encoding encoding = Encoding::kPlain;
    if (!indices_.empty()) {
      if (dictionary_pages_ == 0 && !DictionaryPaysOff()) {
        // First dictionary page of the chunk, and PLAIN would be smaller: PLAIN for the chunk.
        IndicesToPlain();
        use_dictionary_ = false;
        dictionary_.Clear();
        seen_in_page_.clear();
      } else {
        encoding = Encoding::kRleDictionary;
      }
    }

    page_body_.clear();
    if (info_.max_rep > 0) EncodeLevels(rep_levels_, info_.max_rep);
    if (info_.max_def > 0) EncodeLevels(def_levels_, info_.max_def);
    if (encoding == Encoding::kRleDictionary) {
      const int width = IndexBitWidth();
      page_body_.push_back(static_cast<char>(width));
      RleEncodeTo(indices_.data(), indices_.size(), width, &page_body_);
      ++dictionary_pages_;
    } else {
      if constexpr (std::is_same_v<T, std::string_view>) {
        page_body_.append(plain_);
      } else if constexpr (std::is_same_v<T, bool>) {
        const size_t start = page_body_.size();
        page_body_.resize(start + (plain_values_.size() + 7) / 8, '\0');
        for (size_t i = 0; i < plain_values_.size(); ++i) {
          if (plain_values_[i] != 0) {
            page_body_[start + i / 8] =
                static_cast<char>(page_body_[start + i / 8] | (1 << (i % 8)));
          }
        }
      } else {
        page_body_.append(reinterpret_cast<const char*>(plain_values_.data()),
                          plain_values_.size() * sizeof(T));
      }
      ++plain_pages_;
    }

    compressed_body_.clear();
    WEFT_RETURN_IF_ERROR(compressor_->CompressTo(page_body_, &compressed_body_));
    if (page_body_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
        compressed_body_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return InvalidArgumentError("column '" + info_.dotted_path +
                                  "': a page exceeds 2 GiB; lower page_size_bytes");
    }
    PageHeader h;
    h.type = PageType::kDataPage;
    h.uncompressed_page_size = static_cast<int32_t>(page_body_.size());
    h.compressed_page_size = static_cast<int32_t>(compressed_body_.size());
    DataPageHeader dp;
    dp.num_values = static_cast<int32_t>(page_num_values_);
    dp.encoding = encoding;
    dp.definition_level_encoding = Encoding::kRle;
    dp.repetition_level_encoding = Encoding::kRle;
    if (options_.write_page_statistics) {
      dp.statistics = page_stats_.ToThrift(options_.max_statistics_size);
    }
    h.data_page_header = std::move(dp);
    const size_t header_at = pages_.size();
    EncodePageHeader(h, &pages_);
    const auto header_size = static_cast<int64_t>(pages_.size() - header_at);
    pages_.append(compressed_body_);
    chunk_uncompressed_ += header_size + static_cast<int64_t>(page_body_.size());
    chunk_num_values_ += page_num_values_;
    chunk_stats_.Merge(page_stats_);

    page_stats_.Reset();
    page_num_values_ = 0;
    def_levels_.clear();
    rep_levels_.clear();
    indices_.clear();
    page_plain_bytes_ = 0;
    plain_values_.clear();
    plain_.clear();
    std::fill(seen_in_page_.begin(), seen_in_page_.end(), uint8_t{0});
    return Status::Ok();
  }

  const LeafInfo info_;
  const WriterOptions& options_;
  Compressor* compressor_;
  bool use_dictionary_;

  // The open page.
  int64_t page_num_values_ = 0;  //!< level entries, nulls included
  std::vector<uint32_t> def_levels_;
  std::vector<uint32_t> rep_levels_;
  std::vector<uint32_t> indices_;  //!< dictionary mode
  int64_t page_plain_bytes_ = 0;   //!< PLAIN size of the values in indices_
  bool dictionary_full_ = false;   //!< the dictionary passed its limit: switch to PLAIN
  std::vector<std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>> plain_values_;  //!< PLAIN
  std::string plain_;  //!< PLAIN byte arrays
  TypedStats<T> page_stats_;
  std::vector<uint8_t> seen_in_page_;  //!< per dictionary entry: already in page_stats_

  // The chunk.
  Dictionary<T> dictionary_;
  std::string pages_;  //!< finished data pages, headers included
  int64_t chunk_uncompressed_ = 0;
  int64_t chunk_num_values_ = 0;
  int dictionary_pages_ = 0;
  int plain_pages_ = 0;
  TypedStats<T> chunk_stats_;

  // Scratch.
  std::string page_body_;
  std::string compressed_body_;
  std::string header_;
};

std::unique_ptr<ColumnBuilder> MakeColumnBuilder(LeafInfo info, const WriterOptions& options,
                                                 Compressor* compressor) {
  switch (PhysicalType(info.type)) {
    case Type::kBoolean:
      return std::make_unique<TypedColumnBuilder<BoolTraits>>(std::move(info), options, compressor);
    case Type::kInt32:
      return std::make_unique<TypedColumnBuilder<Int32Traits>>(std::move(info), options,
                                                               compressor);
    case Type::kInt64:
      return std::make_unique<TypedColumnBuilder<Int64Traits>>(std::move(info), options,
                                                               compressor);
    case Type::kFloat:
      return std::make_unique<TypedColumnBuilder<FloatTraits>>(std::move(info), options,
                                                               compressor);
    case Type::kDouble:
      return std::make_unique<TypedColumnBuilder<DoubleTraits>>(std::move(info), options,
                                                                compressor);
    default:
      return std::make_unique<TypedColumnBuilder<ByteArrayTraits>>(std::move(info), options,
                                                                   compressor);
  }
}

// =============================================================================================
// Schema tree with levels

//! A schema node with its definition/repetition levels, for shredding nested values.
struct Node {
  const Field* field = nullptr;
  std::string path;        //!< dotted, for messages
  int16_t parent_def = 0;  //!< def level when this node is null (its parent is defined)
  int16_t def = 0;         //!< def level when this node is present
  int16_t rep = 0;         //!< rep level of this node's values
  //! kList / kMap: levels of the repeated group (an entry is present).
  int16_t repeated_def = 0;
  int16_t repeated_rep = 0;
  int leaf = -1;          //!< kPrimitive: index of its column
  size_t leaf_begin = 0;  //!< the columns under this node: [leaf_begin, leaf_end)
  size_t leaf_end = 0;
  std::vector<Node> children;
};

std::string_view ValueKindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt32: return "int32";
    case Value::Kind::kInt64: return "int64";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kDouble: return "double";
    case Value::Kind::kString: return "string";
    case Value::Kind::kBinary: return "binary";
    case Value::Kind::kStruct: return "struct";
    case Value::Kind::kList: return "list";
    case Value::Kind::kMap: return "map";
  }
  return "?";
}

bool PrimitiveAccepts(ColumnType type, const Value& v) {
  switch (type) {
    case ColumnType::kBoolean: return v.kind == Value::Kind::kBool;
    case ColumnType::kInt32:
    case ColumnType::kDate:
      return (v.kind == Value::Kind::kInt32 || v.kind == Value::Kind::kInt64) &&
             v.int_value >= std::numeric_limits<int32_t>::min() &&
             v.int_value <= std::numeric_limits<int32_t>::max();
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      return v.kind == Value::Kind::kInt32 || v.kind == Value::Kind::kInt64;
    case ColumnType::kFloat:
    case ColumnType::kDouble:
      return v.kind == Value::Kind::kFloat || v.kind == Value::Kind::kDouble;
    case ColumnType::kString:
    case ColumnType::kBinary:
      return v.kind == Value::Kind::kString || v.kind == Value::Kind::kBinary;
  }
  return false;
}

//! Checks a kStruct's field count (and names, when it has them) against the schema's fields.
Status CheckStructFields(const std::string& path, const Value& v,
                         const std::vector<Field>& fields) {
  if (v.items.size() != fields.size()) {
    return InvalidArgumentError((path.empty() ? std::string("the row") : "column '" + path + "'") +
                                " has " + std::to_string(fields.size()) + " fields, the value " +
                                std::to_string(v.items.size()));
  }
  if (!v.names.empty()) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i >= v.names.size() || v.names[i] != fields[i].name) {
        return InvalidArgumentError("field " + std::to_string(i) +
                                    (path.empty() ? "" : " of '" + path + "'") + " is '" +
                                    fields[i].name + "', the value names it '" +
                                    (i < v.names.size() ? v.names[i] : std::string()) + "'");
      }
    }
  }
  return Status::Ok();
}

Status ValidateValue(const Node& node, const Value& v) {
  const Field& f = *node.field;
  if (v.is_null()) {
    if (!f.nullable) {
      return InvalidArgumentError("column '" + node.path + "' is required but the value is null");
    }
    return Status::Ok();
  }
  auto mismatch = [&](std::string_view expected) {
    return InvalidArgumentError("column '" + node.path + "' expects " + std::string(expected) +
                                ", got a " + std::string(ValueKindName(v.kind)) + " value");
  };
  switch (f.kind) {
    case Field::Kind::kPrimitive:
      if (!PrimitiveAccepts(f.type, v)) {
        return mismatch(std::string(ColumnTypeName(f.type)) + " (in range)");
      }
      return Status::Ok();
    case Field::Kind::kStruct:
      if (v.kind != Value::Kind::kStruct) return mismatch("a struct");
      WEFT_RETURN_IF_ERROR(CheckStructFields(node.path, v, f.children));
      for (size_t i = 0; i < node.children.size(); ++i) {
        WEFT_RETURN_IF_ERROR(ValidateValue(node.children[i], v.items[i]));
      }
      return Status::Ok();
    case Field::Kind::kList:
      if (v.kind != Value::Kind::kList) return mismatch("a list");
      for (const Value& item : v.items) WEFT_RETURN_IF_ERROR(ValidateValue(node.children[0], item));
      return Status::Ok();
    case Field::Kind::kMap:
      if (v.kind != Value::Kind::kMap) return mismatch("a map");
      for (const Value& entry : v.items) {
        if (entry.kind != Value::Kind::kStruct || entry.items.size() != 2) {
          return InvalidArgumentError("map '" + node.path +
                                      "': each entry must be a struct of (key, value)");
        }
        WEFT_RETURN_IF_ERROR(ValidateValue(node.children[0], entry.items[0]));
        WEFT_RETURN_IF_ERROR(ValidateValue(node.children[1], entry.items[1]));
      }
      return Status::Ok();
  }
  return InternalError("unknown field kind");
}

}  // namespace

// =============================================================================================
// The writer

class ParquetWriter::Impl {
 public:
  Impl(WriterSchema schema, std::unique_ptr<OutputSink> sink, WriterOptions options)
      : schema_(std::move(schema)),
        sink_(std::move(sink)),
        options_(std::move(options)),
        compressor_(CodecOf(options_.compression), EffectiveLevel(options_)) {}

  Status Init() {
    if (schema_.fields.empty()) {
      return InvalidArgumentError("parquet writer: the schema has no fields");
    }
    if (options_.page_size_bytes <= 0 || options_.row_group_size_bytes <= 0 ||
        options_.row_group_max_rows < 0) {
      return InvalidArgumentError("parquet writer: page and row group sizes must be positive");
    }
    const int level = options_.compression_level;
    if (options_.compression == Compression::kZstd && (level < 0 || level > 22)) {
      return InvalidArgumentError(
          "parquet writer: zstd level must be in 1..22 (0 = default 3), got " +
          std::to_string(level));
    }
    if (options_.compression == Compression::kGzip && (level < 0 || level > 9)) {
      return InvalidArgumentError(
          "parquet writer: gzip level must be in 1..9 (0 = default 6), got " +
          std::to_string(level));
    }
    SchemaElement root;
    root.name = "schema";
    root.num_children = static_cast<int32_t>(schema_.fields.size());
    metadata_.schema.push_back(root);
    WEFT_RETURN_IF_ERROR(CheckUniqueNames("", schema_.fields));
    all_primitive_ = true;
    for (const Field& f : schema_.fields) {
      if (f.kind != Field::Kind::kPrimitive) all_primitive_ = false;
      Node node;
      node.leaf_begin = leaves_.size();
      WEFT_RETURN_IF_ERROR(BuildNode(f, "", 0, 0, &node));
      node.leaf_end = leaves_.size();
      roots_.push_back(std::move(node));
    }
    for (const LeafInfo& leaf : leaves_) {
      builders_.push_back(MakeColumnBuilder(leaf, options_, &compressor_));
    }
    metadata_.version = 1;
    metadata_.created_by = options_.created_by;
    for (const auto& [k, v] : options_.key_value_metadata)
      metadata_.key_value_metadata.push_back({k, v});
    metadata_.column_orders.assign(leaves_.size(), true);
    return Append("PAR1");
  }

  Status WriteBatch(std::span<const ColumnView> columns) {
    WEFT_RETURN_IF_ERROR(CheckUsable());
    if (!all_primitive_) {
      return InvalidArgumentError(
          "WriteBatch: the schema has nested columns; write them with WriteRows() or "
          "WriteColumns()");
    }
    if (columns.size() != leaves_.size()) {
      return InvalidArgumentError("WriteBatch: the schema has " + std::to_string(leaves_.size()) +
                                  " columns, the batch " + std::to_string(columns.size()));
    }
    const size_t rows = columns[0].size();
    for (size_t c = 0; c < columns.size(); ++c) {
      WEFT_RETURN_IF_ERROR(ValidateColumn(leaves_[c], schema_.fields[c], columns[c], rows));
    }
    size_t begin = 0;
    while (begin < rows) {
      size_t end = std::min(rows, begin + kSliceRows);
      if (options_.row_group_max_rows > 0) {
        end = std::min(end,
                       begin + static_cast<size_t>(options_.row_group_max_rows - rows_in_group_));
      }
      for (size_t c = 0; c < columns.size(); ++c) {
        size_t done = begin;
        while (done < end) {
          done += builders_[c]->AppendFlat(columns[c], done, end);
          WEFT_RETURN_IF_ERROR(Fail(builders_[c]->MaybeFinishPage()));
        }
      }
      rows_in_group_ += static_cast<int64_t>(end - begin);
      begin = end;
      WEFT_RETURN_IF_ERROR(MaybeFlushRowGroup());
    }
    return Status::Ok();
  }

  Status WriteRows(std::span<const Value> rows) {
    WEFT_RETURN_IF_ERROR(CheckUsable());
    for (size_t r = 0; r < rows.size(); ++r) {
      const Value& row = rows[r];
      Status s = row.kind == Value::Kind::kStruct
                     ? CheckStructFields("", row, schema_.fields)
                     : InvalidArgumentError("a row must be a struct value, got a " +
                                            std::string(ValueKindName(row.kind)));
      for (size_t i = 0; s.ok() && i < roots_.size(); ++i) {
        s = ValidateValue(roots_[i], row.items[i]);
      }
      if (!s.ok()) return s.WithContext("WriteRows: row " + std::to_string(r));
    }
    for (const Value& row : rows) {
      for (size_t i = 0; i < roots_.size(); ++i) Shred(roots_[i], row.items[i], 0);
      ++rows_in_group_;
      for (auto& b : builders_) WEFT_RETURN_IF_ERROR(Fail(b->MaybeFinishPage()));
      WEFT_RETURN_IF_ERROR(MaybeFlushRowGroup());
    }
    return Status::Ok();
  }

  Status WriteColumns(std::span<const std::vector<Value>> columns) {
    WEFT_RETURN_IF_ERROR(CheckUsable());
    if (columns.size() != roots_.size()) {
      return InvalidArgumentError("WriteColumns: the schema has " + std::to_string(roots_.size()) +
                                  " top-level columns, the input " +
                                  std::to_string(columns.size()));
    }
    const size_t rows = columns[0].size();
    for (size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].size() != rows) {
        return InvalidArgumentError("WriteColumns: column '" + roots_[c].path + "' has " +
                                    std::to_string(columns[c].size()) + " values, column '" +
                                    roots_[0].path + "' " + std::to_string(rows));
      }
      for (size_t r = 0; r < rows; ++r) {
        Status s = ValidateValue(roots_[c], columns[c][r]);
        if (!s.ok()) return s.WithContext("WriteColumns: row " + std::to_string(r));
      }
    }
    size_t begin = 0;
    while (begin < rows) {
      size_t end = std::min(rows, begin + kSliceRows);
      if (options_.row_group_max_rows > 0) {
        end = std::min(end,
                       begin + static_cast<size_t>(options_.row_group_max_rows - rows_in_group_));
      }
      for (size_t c = 0; c < columns.size(); ++c) {
        const Node& root = roots_[c];
        for (size_t r = begin; r < end; ++r) {
          Shred(root, columns[c][r], 0);
          // Pages end on row boundaries: a row's levels never straddle two pages.
          for (size_t leaf = root.leaf_begin; leaf < root.leaf_end; ++leaf) {
            WEFT_RETURN_IF_ERROR(Fail(builders_[leaf]->MaybeFinishPage()));
          }
        }
      }
      rows_in_group_ += static_cast<int64_t>(end - begin);
      begin = end;
      WEFT_RETURN_IF_ERROR(MaybeFlushRowGroup());
    }
    return Status::Ok();
  }

  Status FlushRowGroup() {
    WEFT_RETURN_IF_ERROR(CheckUsable());
    return Fail(FlushRowGroupImpl());
  }

  Status Close() {
    WEFT_RETURN_IF_ERROR(CheckUsable());
    WEFT_RETURN_IF_ERROR(Fail(FlushRowGroupImpl()));
    std::string footer = EncodeFileMetaData(metadata_);
    const auto length = static_cast<uint32_t>(footer.size());
    footer.append(reinterpret_cast<const char*>(&length), 4);
    footer.append("PAR1");
    WEFT_RETURN_IF_ERROR(Append(footer));
    WEFT_RETURN_IF_ERROR(Fail(sink_->Close()));
    closed_ = true;
    return Status::Ok();
  }

  int64_t bytes_written() const { return position_; }
  int64_t rows_written() const { return metadata_.num_rows + rows_in_group_; }
  const FileMetaData& metadata() const { return metadata_; }

 private:
  static constexpr size_t kSliceRows = 4096;

  Status CheckUsable() const {
    if (closed_) return FailedPreconditionError("parquet writer: already closed");
    if (!failed_.ok()) {
      return FailedPreconditionError("parquet writer: unusable after an earlier error: " +
                                     failed_.ToString());
    }
    return Status::Ok();
  }

  //! Remembers an error after which the file is inconsistent.
  Status Fail(Status s) {
    if (!s.ok() && failed_.ok()) failed_ = s;
    return s;
  }

  Status Append(std::string_view bytes) {
    WEFT_RETURN_IF_ERROR(Fail(sink_->Append(bytes)));
    position_ += static_cast<int64_t>(bytes.size());
    return Status::Ok();
  }

  Status BuildNode(const Field& f, const std::string& parent_path, int16_t parent_def,
                   int16_t parent_rep, Node* node) {
    node->field = &f;
    node->path = parent_path.empty() ? f.name : parent_path + "." + f.name;
    if (f.name.empty()) {
      return InvalidArgumentError("parquet writer: a field under '" + parent_path +
                                  "' has no name");
    }
    node->parent_def = parent_def;
    node->def = static_cast<int16_t>(parent_def + (f.nullable ? 1 : 0));
    node->rep = parent_rep;
    if (node->def > 250) {
      return InvalidArgumentError("parquet writer: '" + node->path + "' is nested too deeply");
    }
    SchemaElement e;
    e.name = f.name;
    e.repetition_type = f.nullable ? Repetition::kOptional : Repetition::kRequired;
    switch (f.kind) {
      case Field::Kind::kPrimitive: {
        e.type = PhysicalType(f.type);
        if (f.type == ColumnType::kString) {
          e.converted_type = ConvertedType::kUtf8;
          e.logical_type = LogicalType{.kind = LogicalType::Kind::kString};
        } else if (f.type == ColumnType::kDate) {
          e.converted_type = ConvertedType::kDate;
          e.logical_type = LogicalType{.kind = LogicalType::Kind::kDate};
        } else if (f.type == ColumnType::kTimestampMicros) {
          e.converted_type = ConvertedType::kTimestampMicros;
          LogicalType t;
          t.kind = LogicalType::Kind::kTimestamp;
          t.is_adjusted_to_utc = true;
          t.unit = TimeUnit::kMicros;
          e.logical_type = t;
        }
        metadata_.schema.push_back(e);
        LeafInfo leaf;
        leaf.type = f.type;
        leaf.path = current_path_;
        leaf.path.push_back(f.name);
        leaf.dotted_path = node->path;
        leaf.max_def = node->def;
        leaf.max_rep = node->rep;
        node->leaf = static_cast<int>(leaves_.size());
        leaves_.push_back(std::move(leaf));
        return Status::Ok();
      }
      case Field::Kind::kStruct: {
        if (f.children.empty()) {
          return InvalidArgumentError("parquet writer: struct '" + node->path + "' has no fields");
        }
        WEFT_RETURN_IF_ERROR(CheckUniqueNames(node->path, f.children));
        e.num_children = static_cast<int32_t>(f.children.size());
        metadata_.schema.push_back(e);
        current_path_.push_back(f.name);
        for (const Field& c : f.children) {
          Node child;
          WEFT_RETURN_IF_ERROR(BuildNode(c, node->path, node->def, node->rep, &child));
          node->children.push_back(std::move(child));
        }
        current_path_.pop_back();
        return Status::Ok();
      }
      case Field::Kind::kList:
      case Field::Kind::kMap: {
        const bool is_map = f.kind == Field::Kind::kMap;
        if (f.children.size() != (is_map ? 2U : 1U)) {
          return InvalidArgumentError("parquet writer: '" + node->path + "' must have " +
                                      (is_map ? "a key and a value" : "one element"));
        }
        if (is_map && (f.children[0].kind != Field::Kind::kPrimitive || f.children[0].nullable)) {
          return InvalidArgumentError("parquet writer: map '" + node->path +
                                      "' needs a non-nullable primitive key");
        }
        e.num_children = 1;
        e.converted_type = is_map ? ConvertedType::kMap : ConvertedType::kList;
        e.logical_type =
            LogicalType{.kind = is_map ? LogicalType::Kind::kMap : LogicalType::Kind::kList};
        metadata_.schema.push_back(e);
        SchemaElement group;
        group.name = is_map ? "key_value" : "list";
        group.repetition_type = Repetition::kRepeated;
        group.num_children = static_cast<int32_t>(f.children.size());
        metadata_.schema.push_back(group);
        node->repeated_def = static_cast<int16_t>(node->def + 1);
        node->repeated_rep = static_cast<int16_t>(node->rep + 1);
        current_path_.push_back(f.name);
        current_path_.push_back(group.name);
        for (const Field& c : f.children) {
          Node child;
          WEFT_RETURN_IF_ERROR(
              BuildNode(c, node->path, node->repeated_def, node->repeated_rep, &child));
          node->children.push_back(std::move(child));
        }
        current_path_.pop_back();
        current_path_.pop_back();
        return Status::Ok();
      }
    }
    return InternalError("unknown field kind");
  }

  static Status CheckUniqueNames(const std::string& parent, const std::vector<Field>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (fields[i].name == fields[j].name) {
          return InvalidArgumentError("parquet writer: two fields named '" + fields[i].name + "'" +
                                      (parent.empty() ? "" : " in '" + parent + "'"));
        }
      }
    }
    return Status::Ok();
  }

  //! Every leaf under `node` gets the level pair (rep, def) and no value.
  void EmitAbsent(const Node& node, int16_t rep, int16_t def) {
    if (node.leaf >= 0) {
      builders_[static_cast<size_t>(node.leaf)]->AppendNested(rep, def, nullptr);
      return;
    }
    for (const Node& c : node.children) EmitAbsent(c, rep, def);
  }

  //! Appends `v` (validated) under `node` to its leaves, the first level entry with `rep`.
  void Shred(const Node& node, const Value& v, int16_t rep) {
    if (v.is_null()) {
      EmitAbsent(node, rep, node.parent_def);
      return;
    }
    switch (node.field->kind) {
      case Field::Kind::kPrimitive:
        builders_[static_cast<size_t>(node.leaf)]->AppendNested(rep, node.def, &v);
        return;
      case Field::Kind::kStruct:
        for (size_t i = 0; i < node.children.size(); ++i) Shred(node.children[i], v.items[i], rep);
        return;
      case Field::Kind::kList:
      case Field::Kind::kMap: {
        if (v.items.empty()) {
          for (const Node& c : node.children) EmitAbsent(c, rep, node.def);
          return;
        }
        const bool is_map = node.field->kind == Field::Kind::kMap;
        for (size_t i = 0; i < v.items.size(); ++i) {
          const int16_t r = i == 0 ? rep : node.repeated_rep;
          if (is_map) {
            Shred(node.children[0], v.items[i].items[0], r);
            Shred(node.children[1], v.items[i].items[1], r);
          } else {
            Shred(node.children[0], v.items[i], r);
          }
        }
        return;
      }
    }
  }

  //! REQUIRES: `leaf` is the column of top-level primitive field `f`.
  Status ValidateColumn(const LeafInfo& leaf, const Field& f, const ColumnView& col,
                        size_t rows) const {
    using Storage = ColumnView::Storage;
    bool ok = false;
    switch (leaf.type) {
      case ColumnType::kBoolean: ok = col.storage() == Storage::kBool; break;
      case ColumnType::kInt32:
      case ColumnType::kDate: ok = col.storage() == Storage::kInt32; break;
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros: ok = col.storage() == Storage::kInt64; break;
      case ColumnType::kFloat: ok = col.storage() == Storage::kFloat; break;
      case ColumnType::kDouble: ok = col.storage() == Storage::kDouble; break;
      case ColumnType::kString:
      case ColumnType::kBinary:
        ok = col.storage() == Storage::kStringViews || col.storage() == Storage::kStringOffsets;
        break;
    }
    const std::string name =
        "column '" + leaf.dotted_path + "' (" + std::string(ColumnTypeName(leaf.type)) + ")";
    if (!ok) {
      static constexpr std::string_view kStorageNames[] = {"bool",   "int32",  "int64", "float",
                                                           "double", "string", "string"};
      return InvalidArgumentError("WriteBatch: " + name + " got " +
                                  std::string(kStorageNames[static_cast<size_t>(col.storage())]) +
                                  " values");
    }
    if (col.size() != rows) {
      return InvalidArgumentError("WriteBatch: " + name + " has " + std::to_string(col.size()) +
                                  " values, column '" + leaves_[0].dotted_path + "' has " +
                                  std::to_string(rows));
    }
    if (!col.validity().empty()) {
      if (col.validity().size() != rows) {
        return InvalidArgumentError("WriteBatch: " + name + " has " + std::to_string(rows) +
                                    " values but " + std::to_string(col.validity().size()) +
                                    " validity bytes");
      }
      if (!f.nullable) {
        const uint8_t* valid = col.validity().data();
        const uint8_t* null_at = std::find(valid, valid + rows, uint8_t{0});
        if (null_at != valid + rows) {
          return InvalidArgumentError("WriteBatch: " + name +
                                      " is required (not nullable) but row " +
                                      std::to_string(null_at - valid) + " is null");
        }
      }
    }
    if (col.storage() == Storage::kStringOffsets) {
      std::span<const int32_t> off = col.offsets();
      if (off.empty() || off[0] < 0 || static_cast<size_t>(off.back()) > col.data().size()) {
        return InvalidArgumentError("WriteBatch: " + name +
                                    ": string offsets out of the data's bounds");
      }
      for (size_t i = 0; i < rows; ++i) {
        if (off[i + 1] < off[i]) {
          return InvalidArgumentError("WriteBatch: " + name + ": string offsets decrease at row " +
                                      std::to_string(i));
        }
      }
    }
    return Status::Ok();
  }

  Status MaybeFlushRowGroup() {
    bool flush = options_.row_group_max_rows > 0 && rows_in_group_ >= options_.row_group_max_rows;
    if (!flush) {
      int64_t bytes = 0;
      for (const auto& b : builders_) bytes += b->BufferedBytes();
      flush = bytes >= options_.row_group_size_bytes;
    }
    return flush ? Fail(FlushRowGroupImpl()) : Status::Ok();
  }

  Status FlushRowGroupImpl() {
    if (rows_in_group_ == 0) return Status::Ok();
    RowGroup rg;
    rg.file_offset = position_;
    rg.num_rows = rows_in_group_;
    rg.ordinal = static_cast<int16_t>(std::min<size_t>(metadata_.row_groups.size(), 32767));
    int64_t compressed = 0;
    const AppendFn append = [this](std::string_view bytes) { return Append(bytes); };
    for (auto& b : builders_) {
      ColumnChunk chunk;
      WEFT_RETURN_IF_ERROR(b->FinishChunk(position_, append, &chunk));
      rg.total_byte_size += chunk.meta_data->total_uncompressed_size;
      compressed += chunk.meta_data->total_compressed_size;
      rg.columns.push_back(std::move(chunk));
    }
    rg.total_compressed_size = compressed;
    metadata_.num_rows += rows_in_group_;
    metadata_.row_groups.push_back(std::move(rg));
    rows_in_group_ = 0;
    return Status::Ok();
  }

  WriterSchema schema_;
  std::unique_ptr<OutputSink> sink_;
  WriterOptions options_;
  Compressor compressor_;
  std::vector<Node> roots_;
  std::vector<LeafInfo> leaves_;
  std::vector<std::string> current_path_;  //!< while building: path_in_schema of the parent
  std::vector<std::unique_ptr<ColumnBuilder>> builders_;
  bool all_primitive_ = true;
  FileMetaData metadata_;
  int64_t position_ = 0;
  int64_t rows_in_group_ = 0;
  bool closed_ = false;
  Status failed_;
};

ParquetWriter::ParquetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetWriter::~ParquetWriter() = default;

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(WriterSchema schema,
                                                           std::unique_ptr<OutputSink> sink,
                                                           WriterOptions options) {
  if (sink == nullptr) return InvalidArgumentError("parquet writer: no sink");
  auto impl = std::make_unique<Impl>(std::move(schema), std::move(sink), std::move(options));
  WEFT_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<ParquetWriter>(new ParquetWriter(std::move(impl)));
}

Status ParquetWriter::WriteBatch(std::span<const ColumnView> columns) {
  return impl_->WriteBatch(columns);
}
Status ParquetWriter::WriteRows(std::span<const Value> rows) {
  return impl_->WriteRows(rows);
}
Status ParquetWriter::WriteColumns(std::span<const std::vector<Value>> columns) {
  return impl_->WriteColumns(columns);
}
Status ParquetWriter::FlushRowGroup() {
  return impl_->FlushRowGroup();
}
Status ParquetWriter::Close() {
  return impl_->Close();
}
int64_t ParquetWriter::bytes_written() const {
  return impl_->bytes_written();
}
int64_t ParquetWriter::rows_written() const {
  return impl_->rows_written();
}
const FileMetaData& ParquetWriter::metadata() const {
  return impl_->metadata();
}

namespace {

//! A sink that hands its bytes to a caller-owned MemorySink.
class ForwardingSink : public OutputSink {
 public:
  explicit ForwardingSink(MemorySink* target) : target_(target) {}
  Status Append(std::string_view bytes) override { return target_->Append(bytes); }
  Status Close() override { return target_->Close(); }

 private:
  MemorySink* target_;
};

}  // namespace

Result<std::string> WriteParquetToString(const WriterSchema& schema,
                                         std::span<const ColumnView> columns,
                                         WriterOptions options) {
  MemorySink memory;
  WEFT_ASSIGN_OR_RETURN(
      auto writer,
      ParquetWriter::Open(schema, std::make_unique<ForwardingSink>(&memory), std::move(options)));
  WEFT_RETURN_IF_ERROR(writer->WriteBatch(columns));
  WEFT_RETURN_IF_ERROR(writer->Close());
  return memory.TakeData();
}

}  // namespace weft::lake::parquet

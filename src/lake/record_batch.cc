#include "lake/record_batch.h"

#include <cassert>
#include <cctype>
#include <cmath>
#include <utility>

#include "common/strings.h"

namespace weft::lake {

std::string_view TypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kInt32: return "int";
    case ColumnType::kInt64: return "long";
    case ColumnType::kFloat: return "float";
    case ColumnType::kDouble: return "double";
    case ColumnType::kString: return "string";
    case ColumnType::kBinary: return "binary";
    case ColumnType::kTimestampMicros: return "timestamp";
    case ColumnType::kDate: return "date";
  }
  return "?";
}

Result<ColumnType> ParseTypeName(std::string_view name) {
  std::string n(name);
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, ColumnType> kNames[] = {
      {"boolean", ColumnType::kBoolean},
      {"bool", ColumnType::kBoolean},
      {"int", ColumnType::kInt32},
      {"integer", ColumnType::kInt32},
      {"long", ColumnType::kInt64},
      {"bigint", ColumnType::kInt64},
      {"float", ColumnType::kFloat},
      {"double", ColumnType::kDouble},
      {"string", ColumnType::kString},
      {"binary", ColumnType::kBinary},
      {"timestamp", ColumnType::kTimestampMicros},
      {"date", ColumnType::kDate}};
  std::vector<std::string> known;
  for (const auto& [k, t] : kNames) {
    if (n == k) return t;
    known.emplace_back(k);
  }
  return InvalidArgumentError(UnknownNameMessage("type", name, known));
}

Status UnknownColumnError(std::string_view name, const std::vector<BatchField>& fields) {
  std::vector<std::string> names;
  for (const BatchField& f : fields) names.push_back(f.name);
  return InvalidArgumentError(UnknownNameMessage("column", name, names));
}

Result<std::vector<BatchField>> ParseSchemaText(std::string_view text) {
  std::vector<BatchField> fields;
  size_t start = 0;
  int index = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    start = end + 1;
    ++index;
    std::vector<std::string> words;
    size_t i = 0;
    while (i < entry.size()) {
      while (i < entry.size() && std::isspace(static_cast<unsigned char>(entry[i]))) ++i;
      size_t j = i;
      while (j < entry.size() && !std::isspace(static_cast<unsigned char>(entry[j]))) ++j;
      if (j > i) words.emplace_back(entry.substr(i, j - i));
      i = j;
    }
    const std::string where =
        "schema entry " + std::to_string(index) + " ('" + std::string(entry) + "'): ";
    if (words.size() != 2 && !(words.size() == 4 && words[2] == "not" && words[3] == "null")) {
      return InvalidArgumentError(where + "expected 'NAME TYPE' or 'NAME TYPE not null'");
    }
    Result<ColumnType> type = ParseTypeName(words[1]);
    if (!type.ok()) return InvalidArgumentError(where + type.status().message());
    for (const BatchField& f : fields) {
      if (f.name == words[0]) return InvalidArgumentError(where + "column '" + f.name + "' twice");
    }
    fields.push_back({words[0], *type, words.size() == 2});
    if (end == text.size()) break;
  }
  return fields;
}

Column Column::Adopt(ColumnType type, size_t rows, Arrays arrays, std::vector<uint8_t> validity) {
  Column c(type);
  c.size_ = rows;
  c.validity_ = std::move(validity);
  c.bools_ = std::move(arrays.bools);
  c.int32s_ = std::move(arrays.int32s);
  c.int64s_ = std::move(arrays.int64s);
  c.floats_ = std::move(arrays.floats);
  c.doubles_ = std::move(arrays.doubles);
  if (type == ColumnType::kString || type == ColumnType::kBinary) {
    c.offsets_ = std::move(arrays.offsets);
    c.data_ = std::move(arrays.data);
  }
  return c;
}

size_t Column::null_count() const {
  size_t n = 0;
  for (uint8_t v : validity_) n += v == 0 ? 1 : 0;
  return n;
}

void Column::PushValidity(bool valid) {
  if (validity_.empty()) {
    if (valid) return;
    validity_.assign(size_, 1);  // the first null: materialize the bitmap
  }
  validity_.push_back(valid ? 1 : 0);
}

void Column::AppendNull() {
  PushValidity(false);
  switch (type_) {
    case ColumnType::kBoolean: bools_.push_back(0); break;
    case ColumnType::kInt32:
    case ColumnType::kDate: int32s_.push_back(0); break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: int64s_.push_back(0); break;
    case ColumnType::kFloat: floats_.push_back(0); break;
    case ColumnType::kDouble: doubles_.push_back(0); break;
    case ColumnType::kString:
    case ColumnType::kBinary: offsets_.push_back(offsets_.back()); break;
  }
  ++size_;
}

void Column::AppendBool(bool v) {
  assert(type_ == ColumnType::kBoolean);
  PushValidity(true);
  bools_.push_back(v ? 1 : 0);
  ++size_;
}

void Column::AppendInt(int64_t v) {
  PushValidity(true);
  if (type_ == ColumnType::kInt32 || type_ == ColumnType::kDate) {
    int32s_.push_back(static_cast<int32_t>(v));
  } else {
    assert(type_ == ColumnType::kInt64 || type_ == ColumnType::kTimestampMicros);
    int64s_.push_back(v);
  }
  ++size_;
}

void Column::AppendDouble(double v) {
  PushValidity(true);
  if (type_ == ColumnType::kFloat) {
    floats_.push_back(static_cast<float>(v));
  } else {
    assert(type_ == ColumnType::kDouble);
    doubles_.push_back(v);
  }
  ++size_;
}

void Column::AppendString(std::string_view v) {
  assert(type_ == ColumnType::kString || type_ == ColumnType::kBinary);
  PushValidity(true);
  data_.append(v);
  offsets_.push_back(static_cast<int32_t>(data_.size()));
  ++size_;
}

void Column::Append(const Scalar& v) {
  std::visit(
      [&](const auto& x) {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          AppendNull();
        } else if constexpr (std::is_same_v<V, bool>) {
          AppendBool(x);
        } else if constexpr (std::is_same_v<V, int64_t>) {
          AppendInt(x);
        } else if constexpr (std::is_same_v<V, double>) {
          AppendDouble(x);
        } else {
          AppendString(x);
        }
      },
      v);
}

void Column::AppendFrom(const Column& other, size_t i) {
  if (!other.IsValid(i)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case ColumnType::kBoolean: AppendBool(other.BoolAt(i)); break;
    case ColumnType::kInt32:
    case ColumnType::kDate:
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: AppendInt(other.IntAt(i)); break;
    case ColumnType::kFloat:
    case ColumnType::kDouble: AppendDouble(other.DoubleAt(i)); break;
    case ColumnType::kString:
    case ColumnType::kBinary: AppendString(other.StringAt(i)); break;
  }
}

int64_t Column::IntAt(size_t i) const {
  return (type_ == ColumnType::kInt32 || type_ == ColumnType::kDate) ? int32s_[i] : int64s_[i];
}

double Column::DoubleAt(size_t i) const {
  return type_ == ColumnType::kFloat ? static_cast<double>(floats_[i]) : doubles_[i];
}

std::string_view Column::StringAt(size_t i) const {
  const auto begin = static_cast<size_t>(offsets_[i]);
  return std::string_view(data_).substr(begin, static_cast<size_t>(offsets_[i + 1]) - begin);
}

Scalar Column::At(size_t i) const {
  if (!IsValid(i)) return std::monostate{};
  switch (type_) {
    case ColumnType::kBoolean: return BoolAt(i);
    case ColumnType::kInt32:
    case ColumnType::kDate:
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: return IntAt(i);
    case ColumnType::kFloat:
    case ColumnType::kDouble: return DoubleAt(i);
    case ColumnType::kString:
    case ColumnType::kBinary: return std::string(StringAt(i));
  }
  return std::monostate{};
}

int Column::CompareRows(size_t a, size_t b) const {
  auto order = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (type_) {
    case ColumnType::kBoolean: return order(bools_[a], bools_[b]);
    case ColumnType::kInt32:
    case ColumnType::kDate:
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: return order(IntAt(a), IntAt(b));
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      const double x = DoubleAt(a), y = DoubleAt(b);
      if (std::isnan(x) || std::isnan(y)) {  // NaN after everything, as CompareScalars
        return std::isnan(x) == std::isnan(y) ? 0 : (std::isnan(x) ? 1 : -1);
      }
      return order(x, y);
    }
    case ColumnType::kString:
    case ColumnType::kBinary: {
      const int c = StringAt(a).compare(StringAt(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

parquet::ColumnView Column::View() const {
  const parquet::ColumnView::Validity valid(validity_);
  switch (type_) {
    case ColumnType::kBoolean: return parquet::ColumnView::Boolean(bools_, valid);
    case ColumnType::kInt32:
    case ColumnType::kDate: return parquet::ColumnView::Int32(int32s_, valid);
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: return parquet::ColumnView::Int64(int64s_, valid);
    case ColumnType::kFloat: return parquet::ColumnView::Float(floats_, valid);
    case ColumnType::kDouble: return parquet::ColumnView::Double(doubles_, valid);
    case ColumnType::kString:
    case ColumnType::kBinary:
      return parquet::ColumnView::StringsWithOffsets(offsets_, data_, valid);
  }
  return parquet::ColumnView::Int32({}, {});
}

void Column::Clear() {
  size_ = 0;
  validity_.clear();
  bools_.clear();
  int32s_.clear();
  int64s_.clear();
  floats_.clear();
  doubles_.clear();
  offsets_.resize(1);
  offsets_[0] = 0;
  data_.clear();
}

void RecordBatch::Clear() {
  for (Column& c : columns_) c.Clear();
}

void Column::Reserve(size_t rows) {
  switch (type_) {
    case ColumnType::kBoolean: bools_.reserve(rows); break;
    case ColumnType::kInt32:
    case ColumnType::kDate: int32s_.reserve(rows); break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros: int64s_.reserve(rows); break;
    case ColumnType::kFloat: floats_.reserve(rows); break;
    case ColumnType::kDouble: doubles_.reserve(rows); break;
    case ColumnType::kString:
    case ColumnType::kBinary: offsets_.reserve(rows + 1); break;
  }
}

RecordBatch::RecordBatch(std::vector<BatchField> fields) : fields_(std::move(fields)) {
  columns_.reserve(fields_.size());
  for (const BatchField& f : fields_) columns_.emplace_back(f.type);
}

int RecordBatch::Find(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

RecordBatch RecordBatch::Filter(std::span<const uint8_t> keep) const {
  std::vector<uint32_t> rows;
  for (size_t r = 0; r < keep.size(); ++r) {
    if (keep[r] != 0) rows.push_back(static_cast<uint32_t>(r));
  }
  return Take(rows);
}

RecordBatch RecordBatch::Take(std::span<const uint32_t> rows) const {
  RecordBatch out(fields_);
  for (size_t c = 0; c < columns_.size(); ++c) {
    out.columns_[c].Reserve(rows.size());
    for (uint32_t r : rows) out.columns_[c].AppendFrom(columns_[c], r);
  }
  return out;
}

RecordBatch RecordBatch::Project(const std::vector<std::string>& names) const {
  std::vector<BatchField> fields;
  std::vector<size_t> indexes;
  for (const std::string& n : names) {
    const int i = Find(n);
    assert(i >= 0);
    fields.push_back(fields_[static_cast<size_t>(i)]);
    indexes.push_back(static_cast<size_t>(i));
  }
  RecordBatch out(std::move(fields));
  for (size_t k = 0; k < indexes.size(); ++k) out.columns_[k] = columns_[indexes[k]];
  return out;
}

void RecordBatch::Append(const RecordBatch& other) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& from = other.columns_[c];
    for (size_t r = 0; r < from.size(); ++r) columns_[c].AppendFrom(from, r);
  }
}

}  // namespace weft::lake

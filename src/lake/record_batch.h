#ifndef WEFT_LAKE_RECORD_BATCH_H_
#define WEFT_LAKE_RECORD_BATCH_H_

// Rows in memory, column by column: what `weft lake` reads from CSV/JSONL, appends to a table,
// and gets back from a scan. Each column owns typed storage (no per-value allocation; strings in
// Arrow layout: offsets into one buffer) and lends it to the Parquet writer as a ColumnView.
//
//   RecordBatch batch({{"ts", ColumnType::kTimestampMicros, false}, {"value",
//   ColumnType::kDouble}}); batch.column(0).AppendInt64(1'793'491'200'000'000);
//   batch.column(1).AppendNull();
//
// Thread-safety: values; not synchronized.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lake/parquet/writer.h"

namespace weft::lake {

using parquet::ColumnType;

struct BatchField {
  std::string name{};
  ColumnType type = ColumnType::kString;
  bool nullable = true;
};

//! The names `weft lake create --schema` takes and errors use: boolean, int, long, float, double,
//! string, binary, timestamp, date (the Delta primitive names); also integer, bigint, bool.
std::string_view TypeName(ColumnType type);
Result<ColumnType> ParseTypeName(std::string_view name);
//! "ts timestamp, asset string not null, value double": the --schema form. InvalidArgument
//! naming the entry that is wrong.
Result<std::vector<BatchField>> ParseSchemaText(std::string_view text);

//! InvalidArgument "unknown column 'x'; did you mean 'y'?" over `fields`' names.
Status UnknownColumnError(std::string_view name, const std::vector<BatchField>& fields);

//! One typed value; integers hold kInt32, kInt64, kDate (days) and kTimestampMicros (µs since the
//! Unix epoch, UTC); doubles hold kFloat and kDouble; strings hold kString and kBinary.
using Scalar = std::variant<std::monostate, bool, int64_t, double, std::string>;

class Column {
 public:
  explicit Column(ColumnType type) : type_(type) {}

  //! Whole arrays at once (the fast path of scans). The array that matches `type` holds `rows`
  //! values (strings: `offsets` has rows + 1 entries into `data`); `validity` is empty (all
  //! valid) or one byte per row, 0 = null.
  struct Arrays {
    std::vector<uint8_t> bools{};
    std::vector<int32_t> int32s{};
    std::vector<int64_t> int64s{};
    std::vector<float> floats{};
    std::vector<double> doubles{};
    std::vector<int32_t> offsets{};
    std::string data{};
  };
  static Column Adopt(ColumnType type, size_t rows, Arrays arrays, std::vector<uint8_t> validity);

  ColumnType type() const { return type_; }
  size_t size() const { return size_; }
  bool IsValid(size_t i) const { return validity_.empty() || validity_[i] != 0; }
  size_t null_count() const;

  void AppendNull();
  void AppendBool(bool v);
  void AppendInt(int64_t v);    //!< kInt32 and kDate narrow it (REQUIRES: it fits)
  void AppendDouble(double v);  //!< kFloat narrows it
  void AppendString(std::string_view v);
  //! Appends a Scalar of the column's kind (std::monostate: null).
  void Append(const Scalar& v);
  //! Appends row `i` of `other`. REQUIRES: other.type() == type().
  void AppendFrom(const Column& other, size_t i);

  bool BoolAt(size_t i) const { return bools_[i] != 0; }
  int64_t IntAt(size_t i) const;
  double DoubleAt(size_t i) const;
  std::string_view StringAt(size_t i) const;
  //! Row i as a Scalar (std::monostate when null).
  Scalar At(size_t i) const;
  //! Orders two valid rows as CompareScalars orders their values (-1, 0, 1), without copying.
  int CompareRows(size_t a, size_t b) const;

  //! A view for ParquetWriter::WriteBatch, valid while this column is not modified.
  parquet::ColumnView View() const;

  void Reserve(size_t rows);
  //! Removes every value, keeping the buffers' capacity (a builder reused batch after batch
  //! does not fault fresh pages in each time).
  void Clear();

 private:
  void PushValidity(bool valid);

  ColumnType type_;
  size_t size_ = 0;
  std::vector<uint8_t> validity_;  //!< empty while every value is valid
  std::vector<uint8_t> bools_;
  std::vector<int32_t> int32s_;  //!< kInt32, kDate
  std::vector<int64_t> int64s_;  //!< kInt64, kTimestampMicros
  std::vector<float> floats_;
  std::vector<double> doubles_;
  std::vector<int32_t> offsets_{0};  //!< kString, kBinary: value i is data_[offsets_[i], [i+1])
  std::string data_;
};

class RecordBatch {
 public:
  RecordBatch() = default;
  explicit RecordBatch(std::vector<BatchField> fields);

  const std::vector<BatchField>& fields() const { return fields_; }
  size_t num_columns() const { return columns_.size(); }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  //! Index of the column with that name, or -1.
  int Find(std::string_view name) const;

  //! The rows whose `keep` byte is non-zero, in order.
  RecordBatch Filter(std::span<const uint8_t> keep) const;
  //! The rows with these numbers, in this order. REQUIRES: each < num_rows().
  RecordBatch Take(std::span<const uint32_t> rows) const;
  //! Only the named columns, in that order. REQUIRES: every name exists.
  RecordBatch Project(const std::vector<std::string>& names) const;
  //! Appends other's rows. REQUIRES: same fields.
  void Append(const RecordBatch& other);
  //! Removes every row, keeping the columns' capacity.
  void Clear();

 private:
  std::vector<BatchField> fields_;
  std::vector<Column> columns_;
};

}  // namespace weft::lake

#endif  // WEFT_LAKE_RECORD_BATCH_H_

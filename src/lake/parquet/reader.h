// Reading Parquet files: footer and schema, column chunks (values + levels), row-group pruning
// by statistics, rows assembled into dynamic values for nested schemas, and a fast flat path
// into typed column vectors.
//
//   WEFT_ASSIGN_OR_RETURN(auto source, LocalFileSource::Open(path));
//   WEFT_ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(std::move(source)));
//   WEFT_ASSIGN_OR_RETURN(std::vector<int> groups,
//       reader->SelectRowGroups({{"ts", CompareOp::kGe, Value::Int64(t0)}}));
//   for (int g : groups) {
//     WEFT_ASSIGN_OR_RETURN(FlatBatch batch, reader->ReadFlat(g, {"ts", "value"}));  // flat
//     WEFT_ASSIGN_OR_RETURN(std::vector<Value> rows, reader->ReadRows(g, {"add"}));  // nested
//   }
//
// Supported: data pages v1 and v2, dictionary pages, every codec of codec.h but LZO, every value
// encoding of encoding.h, optional page CRC checks, nested schemas (structs, 3-level and legacy
// 2-level lists, maps, repeated fields without annotation). Refused with kUnimplemented (the
// message names the feature): encrypted files and columns, column chunks in other files, LZO.
// Errors name the file, row group, column path, page offset and the problem.
//
// Filtered scans (late materialization: only matching rows of the output columns are decoded):
//
//   ScanScratch scratch;  // reused buffers; one per scanning thread
//   FlatBatch batch;
//   for (int g : groups) {
//     WEFT_RETURN_IF_ERROR(reader->ScanFlat(g, {"value"}, predicates, &batch, &scratch));
//     // batch.num_rows matching rows, batch.columns[0] their values
//   }
//
// Thread-safety: a ParquetReader is immutable after Open; its Read* methods and ScanFlat (with
// one ScanScratch per thread) may be called from several threads at once if the source allows
// concurrent reads (both sources here do).
#ifndef WEFT_LAKE_PARQUET_READER_H_
#define WEFT_LAKE_PARQUET_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/parquet/encoding.h"
#include "lake/parquet/metadata.h"
#include "lake/parquet/schema.h"
#include "lake/parquet/source.h"

namespace weft::lake::parquet {

struct ReaderOptions {
  //! Check each page's CRC-32 (when the writer stored one); a mismatch is kDataLoss.
  bool verify_checksums = false;
  //! Limits that keep malformed files from making the reader allocate without bound.
  uint64_t max_footer_bytes = uint64_t{256} << 20;
  int64_t max_page_bytes = int64_t{1} << 30;
  int64_t max_page_values = int64_t{1} << 26;
};

//! A dynamic value: a row (struct), or any field in it.
struct Value {
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kInt32,
    kInt64,
    kFloat,
    kDouble,
    kString,
    kBinary,
    kList,
    kStruct,
    kMap
  };
  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;    //!< kInt32, kInt64 (INT96 timestamps: microseconds since epoch)
  double double_value = 0;  //!< kFloat, kDouble
  std::string bytes;        //!< kString, kBinary
  //! kList: elements; kStruct: field values (names in `names`); kMap: entries, each a kStruct
  //! with fields "key" and "value".
  std::vector<Value> items;
  std::vector<std::string> names;

  static Value Null() { return Value(); }
  static Value Bool(bool v);
  static Value Int32(int32_t v);
  static Value Int64(int64_t v);
  static Value Float(float v);
  static Value Double(double v);
  static Value String(std::string v);
  static Value Binary(std::string v);

  bool is_null() const { return kind == Kind::kNull; }
  //! A struct field by name, or nullptr.
  const Value* Field(std::string_view name) const;
  //! JSON-like text, for tests and diagnostics.
  std::string ToString() const;
};

//! One leaf column of one row group: dense non-null values and the levels that place them.
struct ColumnChunkData {
  ValueBuffer values;
  std::vector<int16_t> definition_levels;  //!< one per entry; empty when max level is 0
  std::vector<int16_t> repetition_levels;  //!< one per entry; empty when max level is 0
  int64_t num_entries = 0;
};

//! One column of a flat read: one value per row (null rows hold 0 / empty).
struct FlatColumn {
  std::string name;
  int leaf = -1;
  ValueBuffer values;
  std::vector<uint8_t> validity;  //!< 1 = present; empty means every row is present
  bool IsValid(size_t row) const { return validity.empty() || validity[row] != 0; }
};

struct FlatBatch {
  int64_t num_rows = 0;
  std::vector<FlatColumn> columns;
};

enum class CompareOp { kEq, kLt, kLe, kGt, kGe };

//! `column op constant`, column being a leaf's dotted path. The constant compares with the
//! column's physical value: an int for INT32/INT64 (a timestamp's count in its unit, a
//! decimal's unscaled integer), a double for FLOAT/DOUBLE, a string or binary for byte arrays.
struct Predicate {
  std::string column;
  CompareOp op = CompareOp::kEq;
  Value constant;
};

//! Buffers ScanFlat keeps between calls (page lists, decompressed pages, index and selection
//! vectors). Keep one per scanning thread and pass it to every call: a scan then allocates
//! nothing once the buffers have grown. Not shared between threads.
class ScanScratch {
 public:
  ScanScratch();
  ~ScanScratch();
  ScanScratch(ScanScratch&&) noexcept;
  ScanScratch& operator=(ScanScratch&&) noexcept;
  struct Impl;

 private:
  friend class ParquetReader;
  std::unique_ptr<Impl> impl_;
};

class ParquetReader {
 public:
  //! Reads and checks the footer ("PAR1" at both ends, footer length), decodes the metadata and
  //! builds the schema.
  static Result<std::unique_ptr<ParquetReader>> Open(std::unique_ptr<RandomAccessSource> source,
                                                     ReaderOptions options = {});

  const FileMetaData& metadata() const { return metadata_; }
  const Schema& schema() const { return schema_; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  const std::string& name() const { return name_; }

  //! Reads leaf column `leaf` of row group `row_group`.
  Result<ColumnChunkData> ReadColumnChunk(int row_group, int leaf) const;

  //! Row groups that may hold a row matching every predicate (all of them when statistics
  //! cannot tell). kInvalidArgument for a column that is not a leaf path.
  Result<std::vector<int>> SelectRowGroups(const std::vector<Predicate>& predicates) const;
  //! False only when statistics prove no row of the group matches all predicates.
  Result<bool> RowGroupMayMatch(int row_group, const std::vector<Predicate>& predicates) const;

  //! Rows of a row group as kStruct values holding the requested top-level fields (all when
  //! `columns` is empty); only the leaves under them are read. A dotted path ("add.path")
  //! projects part of a field: its top-level struct holds only the requested members.
  Result<std::vector<Value>> ReadRows(int row_group,
                                      const std::vector<std::string>& columns = {}) const;

  //! Typed column vectors for top-level, non-repeated leaf columns (all when `columns` is
  //! empty; kInvalidArgument if one is nested or repeated).
  Result<FlatBatch> ReadFlat(int row_group, const std::vector<std::string>& columns = {}) const;
  //! Like ReadFlat, decoding into `*batch` and reusing its buffers (a scan over many row groups
  //! then allocates once). On error `*batch` holds unspecified contents.
  Status ReadFlatInto(int row_group, const std::vector<std::string>& columns,
                      FlatBatch* batch) const;

  //! A filtered flat read with late materialization: the rows of `row_group` matching every
  //! filter (AND), projected on `columns` (all leaves when empty) into `*out`, which then holds
  //! only matching rows (num_rows = their count), in row order, laid out as ReadFlat lays out
  //! a batch (buffers reused across calls). `*selected_rows` (optional) receives their row
  //! numbers within the row group.
  //!
  //! Filter and output columns must be top-level, non-repeated leaves (kInvalidArgument
  //! otherwise, or for a constant whose kind does not compare with the column). Semantics:
  //! a null never matches, nor does a null constant; ints compare exactly with INT32 / INT64 /
  //! BOOLEAN columns (unsigned 8..32-bit columns by their unsigned value; UINT_64 filters are
  //! kUnimplemented), with doubles mathematically; FLOAT/DOUBLE compare as doubles (IEEE: NaN
  //! matches nothing); INT96 by its microseconds since the epoch; byte arrays bytewise unsigned.
  //!
  //! How: filters on one column are merged into one interval; page header statistics (trusted
  //! as SelectRowGroups trusts chunk statistics) and all-null pages drop whole data pages,
  //! which are then neither read nor decompressed; the remaining filter columns are evaluated
  //! one after the other, cheapest first, each decoding only the pages that still hold
  //! selected rows. Dictionary-encoded pages are filtered by testing each dictionary entry
  //! once and then only the indices. Output columns are decoded only on pages with selected
  //! rows and only at selected rows.
  Status ScanFlat(int row_group, const std::vector<std::string>& columns,
                  const std::vector<Predicate>& filters, FlatBatch* out, ScanScratch* scratch,
                  std::vector<uint32_t>* selected_rows = nullptr) const;

 private:
  ParquetReader() = default;
  std::string Where(int row_group, int leaf) const;
  Status ReadPages(int row_group, int leaf, ColumnChunkData* out) const;

  std::unique_ptr<RandomAccessSource> source_;
  ReaderOptions options_;
  std::string name_;
  uint64_t data_end_ = 0;  //!< where the footer begins
  FileMetaData metadata_;
  Schema schema_;
};

//! Reads a whole file into rows (convenience for small files and tests).
Result<std::vector<Value>> ReadAllRows(ParquetReader& reader);

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_READER_H_

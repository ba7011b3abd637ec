#ifndef WEFT_LAKE_PREDICATE_H_
#define WEFT_LAKE_PREDICATE_H_

// The filter of `weft lake scan --where`: comparisons of a column with a literal, joined by
// `and`.
//
//   asset = 'm1' and ts >= '2026-11-01T00:00:00Z' and value > 3.5
//
// Operators: = != <> < <= > >=, `is null`, `is not null`. Literals: 'text' ('' is a quote),
// numbers, true/false. A literal is converted to its column's type when parsed (timestamps from
// ISO-8601 text), so a mistake is reported before any file is read. Keywords are
// case-insensitive; `or` and parentheses are refused with a clear error (not supported yet).
//
// Besides filtering rows, a predicate decides whether a whole file or row group can be skipped
// from its statistics (min, max, null count) or its partition value.
//
// Thread-safety: immutable after parsing.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/record_batch.h"

namespace weft::lake {

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIsNull, kIsNotNull };

struct Comparison {
  std::string column{};
  ColumnType type = ColumnType::kString;
  CompareOp op = CompareOp::kEq;
  Scalar literal{};  //!< of the column's kind; std::monostate for the null tests
};

//! What is known about a column over a set of rows (a file or a row group).
struct ColumnStats {
  std::optional<Scalar> min{};  //!< absent: unknown
  std::optional<Scalar> max{};
  std::optional<int64_t> null_count{};
  std::optional<int64_t> row_count{};
};

class Predicate {
 public:
  //! The empty predicate: every row matches.
  Predicate() = default;
  //! InvalidArgument naming the position and the problem ("at 12: unknown column 'asest'; did you
  //! mean 'asset'?", "'abc' is not a double for column 'value'").
  static Result<Predicate> Parse(std::string_view text, const std::vector<BatchField>& schema);

  const std::vector<Comparison>& terms() const { return terms_; }
  bool empty() const { return terms_.empty(); }
  //! The columns the predicate reads.
  std::vector<std::string> Columns() const;

  //! One byte per row of `batch`: 1 when the row matches. REQUIRES: batch has every column of
  //! Columns().
  std::vector<uint8_t> Evaluate(const RecordBatch& batch) const;
  //! False only when no row can match, given the stats of each column (by name; a column without
  //! stats may match anything).
  bool MayMatch(const std::function<std::optional<ColumnStats>(std::string_view)>& stats) const;

 private:
  std::vector<Comparison> terms_;
};

//! Compares two scalars of the same kind (-1, 0, 1); strings bytewise (unsigned), doubles with
//! NaN greater than everything.
int CompareScalars(const Scalar& a, const Scalar& b);
//! Parses `text` as a value of `type` (the forms CSV and --where use). InvalidArgument naming the
//! type otherwise.
Result<Scalar> ParseScalar(std::string_view text, ColumnType type);

//! `text` as a predicate literal: in single quotes, with each quote doubled.
std::string PredicateLiteral(std::string_view text);
//! "ts >= '<from>' and ts < '<to>'" for [from_us, to_us) (µs since the Unix epoch, UTC); with
//! `with_date` also "and date >= '<day of from>' and date <= '<day of to - 1 µs>'", which lets a
//! table partitioned by the UTC day of ts skip whole days of files. REQUIRES: from_us < to_us.
std::string TimeRangePredicate(int64_t from_us, int64_t to_us, bool with_date);

}  // namespace weft::lake

#endif  // WEFT_LAKE_PREDICATE_H_

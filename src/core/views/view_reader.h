// Evaluating a view over the narrow telemetry table: the lake's rows (one per sample) become a
// typed wide table (one double column per declared signal), converted to the declared units and
// resampled to the view's period. Nothing is materialized in the lake; a new signal needs only a
// view that names it.
//
//   WEFT_ASSIGN_OR_RETURN(auto telemetry, lake::LakeTable::Open("/data/lake/telemetry", &clock));
//   WEFT_ASSIGN_OR_RETURN(const ViewDef* view, FindView(views, "motor_health"));
//   ViewQuery q{.from_us = *ParseTimestampMicros("2026-11-25T10:00:00Z"),
//               .to_us = *ParseTimestampMicros("2026-11-25T11:00:00Z")};
//   q.row_filter = [&](auto site, auto area, auto line, auto asset) { return grants.Allow(...); };
//   WEFT_ASSIGN_OR_RETURN(lake::RecordBatch wide, ReadView(*telemetry, *view, q));
//   WEFT_RETURN_IF_ERROR(WriteView(wide, Format::kCsv, std::cout));
//
// Output columns: ts (timestamp, the period's start), asset (string), then one nullable double
// column per signal in declared order. One row per (asset, period) with at least one usable
// sample of a declared signal, sorted by asset then ts. Periods start at multiples of the period
// since the Unix epoch (UTC), whatever `from_us` is.
//
// The time range (and its UTC days, for partition pruning on `date`), the asset, the asset types
// and the signal names are pushed down to LakeTable::Scan as a predicate, so files and row groups
// that cannot match are skipped (see ViewScanPredicate). Time ISO-8601 parsing for callers:
// common/time_format.h's ParseTimestampMicros.
//
// Thread-safety: the functions are reentrant; ReadView calls the row filter from the calling
// thread only.
#ifndef WEFT_CORE_VIEWS_VIEW_READER_H_
#define WEFT_CORE_VIEWS_VIEW_READER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/views/view_def.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"

namespace weft::core::views {

//! Decides whether rows of an asset at a place may be read (the core enforces scope grants with
//! it; this library knows nothing of principals). Null location columns are passed as "".
using RowFilter = std::function<bool(std::string_view site, std::string_view area,
                                     std::string_view line, std::string_view asset)>;

struct ViewQuery {
  int64_t from_us = 0;                 //!< inclusive, µs since the Unix epoch (UTC)
  int64_t to_us = 0;                   //!< exclusive; REQUIRES: from_us < to_us
  std::optional<std::string> asset{};  //!< only this asset
  RowFilter row_filter{};              //!< empty: every row
  std::optional<int64_t> version{};    //!< time travel: the table as of this Delta version
};

//! What a read did, for logs and tests.
struct ViewReadStats {
  lake::ScanStats scan{};
  size_t rows_used = 0;         //!< samples that went into the output
  size_t rows_bad_quality = 0;  //!< dropped by good_only
  size_t rows_filtered = 0;     //!< refused by the row filter
  size_t rows_null_value = 0;   //!< samples without a value
};

//! The output schema of `view`: ts timestamp not null, asset string not null, then one nullable
//! double per signal.
std::vector<lake::BatchField> ViewSchema(const ViewDef& view);

//! The predicate text ReadView gives LakeTable::Scan, e.g.
//!   ts >= '2026-11-25T10:00:00.000000Z' and ts < '...' and date >= '2026-11-25' and
//!   date <= '2026-11-25' and asset_type = 'motor' and signal >= 'current' and
//!   signal <= 'winding_temp'
//! Several asset types (or signals) become a range from the smallest to the largest name (the
//! predicate language has no `or`); the exact sets are checked row by row. `has_date` and
//! `has_asset_type`: whether the table has those columns.
std::string ViewScanPredicate(const ViewDef& view, const ViewQuery& q, bool has_date,
                              bool has_asset_type);

//! Evaluates `view` over the telemetry table for the query. Errors:
//!   InvalidArgument  from_us >= to_us; a stored unit that cannot be converted to the declared
//!                    one (naming view, signal, asset and both units).
//!   FailedPrecondition  the table lacks a needed column or has it with another type.
//!   and whatever LakeTable::Scan returns (NotFound for a missing table, ...).
Result<lake::RecordBatch> ReadView(const lake::LakeTable& telemetry, const ViewDef& view,
                                   const ViewQuery& q, ViewReadStats* stats = nullptr);

//! Output formats of `weft query`.
enum class Format { kCsv, kJsonl, kParquet };
//! "csv", "jsonl", "parquet"; InvalidArgument with a "did you mean" otherwise.
Result<Format> ParseFormat(std::string_view name);

//! Writes the rows: CSV with a header, JSON Lines (both as lake/text_io.h writes them), or one
//! Parquet file (zstd). Unavailable when the stream fails.
Status WriteView(const lake::RecordBatch& rows, Format format, std::ostream& out);

}  // namespace weft::core::views

#endif  // WEFT_CORE_VIEWS_VIEW_READER_H_

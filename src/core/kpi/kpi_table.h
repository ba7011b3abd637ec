// The `kpi` Delta table under the lake root: the KPIs the KPI job computed, one row per (period,
// scope, kpi), as time series that the API, `weft kpi show` and the roadmap read back.
//
//   KpiRow r{.period_start_us = shift.start_us, .period_end_us = shift.end_us, .site = "lyon",
//            .area = "assembly", .line = "l2-assembly", .shift = "early", .kpi = "oee",
//            .value = 0.71, .unit = "1", .coverage = 0.98};
//   const std::string run = NewRunId(&clock);
//   WEFT_RETURN_IF_ERROR(AppendKpiRows(lake_root, {r}, run, &clock).status());
//   WEFT_ASSIGN_OR_RETURN(std::vector<KpiRow> rows,
//                         ReadKpiRows(lake_root, {.kpi = "oee", .line = "l2-assembly"}, &clock));
//
// Schema (partitioned by `date`, the UTC day of period_start):
//   date date, period_start timestamp, period_end timestamp, computed_ts timestamp,
//   site, area, line, asset, shift, use_case string (nullable: the scope; null = not that kind
//   of scope), kpi string, value double (null = undefined, e.g. a ratio with a zero
//   denominator), unit string, coverage double (share of the period with data, 0..1),
//   detail string (JSON: the inputs and parts behind the value), run_id string.
// `area` is not in the first sketch of the table: it is there so that a row has a
// complete plant path (site/area/line/asset) for role-based access, as telemetry rows do.
//
// Runs. One KPI computation writes all its rows in one append (one Delta commit), each with the
// run's id and computed_ts. Recomputing a period writes a new run; nothing is rewritten. Readers
// take, per key (period_start, period_end, site, area, line, asset, shift, use_case, kpi), the row
// of the latest run (greatest computed_ts, then greatest run_id). A row that a later run no
// longer produces (e.g. the plant lost a line) stays visible from its last run.
//
// Errors: AppendKpiRows creates the table when missing (and the root, when local); ReadKpiRows
// returns NotFound when the table does not exist yet. A row with a non-finite value or coverage
// is written with null there (never NaN).
//
// Thread-safety: the functions are safe from any thread; appends are arbitrated by the Delta log.
#ifndef WEFT_CORE_KPI_KPI_TABLE_H_
#define WEFT_CORE_KPI_KPI_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/record_batch.h"

namespace weft::core::kpi {

inline constexpr char kKpiTableName[] = "kpi";

struct KpiRow {
  int64_t period_start_us = 0;
  int64_t period_end_us = 0;
  int64_t computed_us = 0;  //!< set by AppendKpiRows
  //! The scope; "" is null. A use case's rows carry its line (or site) when the use case covers
  //! exactly one (so that line-scoped readers see them), else none.
  std::string site{}, area{}, line{}, asset{}, shift{}, use_case{};
  std::string kpi{};
  std::optional<double> value{};  //!< nullopt = undefined
  std::string unit{};             //!< "" = null; "1" for ratios
  std::optional<double> coverage{};
  std::string detail{};  //!< JSON text, "" = null
  std::string run_id{};  //!< set by AppendKpiRows
};

//! The columns, in order (the partition column `date` first).
const std::vector<lake::BatchField>& KpiTableSchema();
//! "<root>/kpi".
std::string KpiTablePath(std::string_view root);
//! Creates the table when it does not exist (AlreadyExists is not an error).
Status EnsureKpiTable(std::string_view root, const Clock* clock);

//! "run-<µs of now>-<8 hex>": unique per run.
std::string NewRunId(const Clock* clock);

//! Appends `rows` in one commit with `run_id` and computed_ts = now; returns the number of rows.
//! InvalidArgument for an empty run id, a row without kpi, or period_end < period_start.
Result<size_t> AppendKpiRows(std::string_view root, std::vector<KpiRow> rows,
                             std::string_view run_id, const Clock* clock);

struct KpiQuery {
  std::string kpi{};                 //!< "" = every kpi
  std::string use_case{};            //!< "" = any (rows with or without a use case)
  std::string site{};                //!< "" = any
  std::string line{};                //!< "" = any
  std::string asset{};               //!< "" = any
  std::optional<int64_t> from_us{};  //!< period_start >= from
  std::optional<int64_t> to_us{};    //!< period_start < to
  bool latest_only = true;           //!< false: every run's rows
};

//! The rows matching `q` (the latest run per key unless latest_only is false), ordered by
//! period_start, then site, area, line, asset, shift, use_case, kpi.
Result<std::vector<KpiRow>> ReadKpiRows(std::string_view root, const KpiQuery& q,
                                        const Clock* clock);

//! Keeps the latest run's row per key (see the file comment); order as ReadKpiRows.
std::vector<KpiRow> LatestRuns(std::vector<KpiRow> rows);

}  // namespace weft::core::kpi

#endif  // WEFT_CORE_KPI_KPI_TABLE_H_

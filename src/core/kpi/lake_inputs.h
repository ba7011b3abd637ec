// Reading the KPI job's inputs from the lake: telemetry signals as step series (src/kpi/series.h),
// converted to the unit the KPIs need, and the events table's alerts.
//
//   WEFT_ASSIGN_OR_RETURN(auto telemetry, OpenTable(lake_root, LakeTableId::kTelemetry, &clock));
//   std::vector<SeriesRequest> want = {{"l2-cv-05", "state", "", 150'000'000},
//                                      {"lyon-hz-01", "heat_pump_energy", "kWh", 750'000'000}};
//   SeriesReadStats stats;
//   WEFT_ASSIGN_OR_RETURN(SeriesSet set, ReadSeries(*telemetry, want, from_us, to_us, &stats));
//   const ::weft::kpi::StepSeries* state = set.Find("l2-cv-05", "state");   // null: no data
//
// Telemetry (the ingest's narrow table: ts, asset, signal, unit, value, quality, date):
//   - Only the requested (asset, signal) pairs are kept. The scan reads the columns ts, asset,
//     signal, value, unit, quality, and is pushed down one UTC day at a time (`date = 'D'` and the
//     ts range, plus the range of the requested signal names), so whole days of files are
//     skipped and at most one day of raw samples is held in memory.
//   - A sample is dropped when its value is null or not finite, or when its quality says the
//     value is not to be trusted (edge/sample.h flags bad_source, comm_loss, not_a_number). The
//     flags out_of_range, stale and stuck keep the sample: the value was read (a conveyor that
//     runs for hours is "stuck" at state 2 and still running).
//   - With a requested unit, each sample is converted from its row's unit (model/units.h); a
//     sample whose unit is missing or does not convert is dropped and counted, and the series
//     gets a warning naming both units.
//   - Points are sorted by time within each day (days are read in order); of equal timestamps
//     the last read wins. Repeated values that change nothing under the series' staleness are
//     not kept (a point is kept when the value changes, or when the gap since the last kept point
//     would otherwise exceed stale_after_us), so a value re-sent on every heartbeat costs one
//     point per stale_after, and every KPI (time per value, counter increases, resets, gaps) is
//     exactly what the full series would give.
// Events: rows of [from, to) that IsAlertEvent (core/ingest/tables.h) calls alerts are the
// alerts (detector firings such as ewma_z, cusum, threshold, anomaly). MergeAlerts turns bursts
// of them into alert episodes.
//
// Errors: NotFound when a table does not exist; FailedPrecondition when it lacks a needed
// column; InvalidArgument for from >= to; whatever the scan returns (DataLoss for a corrupt
// file), with the table named.
//
// Thread-safety: the functions are reentrant; a SeriesSet is immutable after ReadSeries.
#ifndef WEFT_CORE_KPI_LAKE_INPUTS_H_
#define WEFT_CORE_KPI_LAKE_INPUTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "kpi/series.h"
#include "kpi/technician.h"
#include "lake/lake_table.h"

namespace weft::core::kpi {

struct SeriesRequest {
  std::string asset{};
  std::string signal{};
  std::string unit{};                    //!< convert to this unit; "" = as stored
  int64_t stale_after_us = 150'000'000;  //!< the series' staleness (> 0)
};

struct SeriesReadStats {
  lake::ScanStats scan{};  //!< summed over the scans
  size_t scans = 0;
  size_t rows_used = 0;
  size_t rows_bad_quality = 0;
  size_t rows_null_value = 0;
  size_t rows_unconvertible = 0;
  size_t points_kept = 0;
};

//! The series read, by (asset, signal).
class SeriesSet {
 public:
  //! Null when the pair was not requested or had no usable sample.
  const ::weft::kpi::StepSeries* Find(std::string_view asset, std::string_view signal) const;
  size_t size() const { return series_.size(); }
  //! Problems worth reporting (unconvertible units), one sentence each.
  const std::vector<std::string>& warnings() const { return warnings_; }

  //! Building (ReadSeries, tests): replaces the pair's series.
  void Put(std::string asset, std::string signal, ::weft::kpi::StepSeries series);
  void Warn(std::string warning) { warnings_.push_back(std::move(warning)); }

 private:
  std::map<std::pair<std::string, std::string>, ::weft::kpi::StepSeries, std::less<>> series_;
  std::vector<std::string> warnings_;
};

//! Reads the requested series over [from_us, to_us) (see the file comment).
Result<SeriesSet> ReadSeries(const lake::LakeTable& telemetry,
                             const std::vector<SeriesRequest>& requests, int64_t from_us,
                             int64_t to_us, SeriesReadStats* stats = nullptr);

//! One alert row of the events table.
struct AlertEvent {
  int64_t ts_us = 0;
  std::string site{}, area{}, line{}, asset{};
  std::string kind{};    //!< e.g. "ewma_z"
  std::string source{};  //!< detector or model, e.g. "bearing@1.2.0"
};

//! The alert events of [from_us, to_us), ordered by (ts, asset, kind).
Result<std::vector<AlertEvent>> ReadAlertEvents(const lake::LakeTable& events, int64_t from_us,
                                                int64_t to_us);

//! Alert episodes: events of one asset whose gap to the previous event of that asset is at most
//! `merge_window_us` form one alert, at the first event's time, with id "<asset>@<ISO time>" and
//! the first event's kind. `use_case_of(asset)` names the use case the alert belongs to ("" =
//! none). Ordered by (ts, asset).
std::vector<::weft::kpi::TechnicianAlert> MergeAlerts(
    const std::vector<AlertEvent>& events, int64_t merge_window_us,
    const std::function<std::string(std::string_view asset)>& use_case_of);

}  // namespace weft::core::kpi

#endif  // WEFT_CORE_KPI_LAKE_INPUTS_H_

// Reliability monitoring from the lake: one asset's telemetry and one model's predictions over a
// time range, cut into windows, each assessed by a ReliabilityMonitor (monitor.h), the results
// optionally appended to <lake>/model_monitoring (monitoring_lake.h).
//
//   WEFT_ASSIGN_OR_RETURN(MonitorConfig config, MonitorConfigFromCard(version.card_json));
//   MonitorRequest req{.lake = "/data/lake", .config = config, .model = "bearing_risk",
//                      .asset = "m1", .from_us = from, .to_us = to, .window = 1h,
//                      .append = true, .clock = &clock};
//   WEFT_ASSIGN_OR_RETURN(MonitorRun run, MonitorFromLake(req));
//   for (const MonitoredWindow& w : run.windows) ... w.assessment.action ...
//
// Data read (weft-core's tables, src/core/ingest/tables.cc):
//  * <lake>/telemetry: ts, asset, signal, value, quality (only quality 0 is used); scanned with
//    `ts >= from and ts < to and asset = A` (and the `date` partition's bounds when the table has
//    one). Only the signals the config monitors are kept (features, control outputs, the thermal
//    residual's measured and input signals).
//  * <lake>/predictions: ts, asset, model, model_version, value; scanned with the same bounds and
//    `model = M` (and `model_version = V` when given). A missing predictions table means no
//    scores (prediction drift is then not checked).
// Alignment: the monitor wants per-sample vectors of equal length. Each window is sampled on a
// grid (window start + k·period): at each grid point every signal takes its newest value not
// older than one period; grid points where a signal has none are left out. The period is
// `sample_period` or, when zero, the median spacing of the first monitored signal's timestamps.
// A window with fewer than `min_samples` aligned samples is reported as skipped (not assessed).
// Scores: the window's predictions of its model version (given, else the version with most
// predictions in the window).
//
// Thread-safety: reentrant (each call has its own monitor and table handles). Appends are one
// Delta commit per call (LakeTable's optimistic concurrency).
#ifndef WEFT_MLOPS_MONITORING_LAKE_MONITOR_H_
#define WEFT_MLOPS_MONITORING_LAKE_MONITOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mlops/monitoring/monitor.h"

namespace weft::mlops {

//! ParseMonitorConfig, then drops the features that run no check (drift and envelope both off:
//! e.g. a training card's window statistics like "vibration_rms.mean", which are not per-sample
//! signals); the rest are the raw signals to read. InvalidArgument as ParseMonitorConfig, or when
//! nothing is left to monitor.
Result<MonitorConfig> MonitorConfigFromCard(std::string_view card_json);

struct MonitorRequest {
  std::string lake;      //!< root: <lake>/telemetry, <lake>/predictions, <lake>/model_monitoring
  MonitorConfig config;  //!< what to monitor (MonitorConfigFromCard)
  std::string model;     //!< the predictions' model name (and the results')
  std::string model_version;  //!< "" = predictions of every version
  std::string asset;
  int64_t from_us = 0;  //!< [from, to), µs since the Unix epoch
  int64_t to_us = 0;
  Micros window{std::chrono::hours(1)};  //!< window length (> 0); the last one may be shorter
  Micros sample_period{0};               //!< 0: inferred from the telemetry
  size_t min_samples = 10;               //!< fewer aligned samples: window skipped
  bool append = false;                   //!< append the results to <lake>/model_monitoring
  const Clock* clock = nullptr;          //!< REQUIRES: not null
};

struct MonitoredWindow {
  int64_t start_us = 0, end_us = 0;
  std::string model_version;  //!< of the scores ("" when none and no version was given)
  size_t samples = 0;         //!< aligned samples assessed
  size_t scores = 0;
  bool skipped = false;  //!< too few samples; `assessment` is empty
  WindowAssessment assessment;
};

struct MonitorRun {
  std::vector<std::string> signals;  //!< the telemetry signals read
  double sample_period_s = 0;
  std::vector<MonitoredWindow> windows;
  size_t telemetry_rows = 0, prediction_rows = 0;
  int64_t appended_version = -1;  //!< the model_monitoring commit (-1: not appended / nothing)
  size_t appended_rows = 0;
};

//! Reads, windows, assesses and (with `append`) writes, as described above. InvalidArgument for
//! a bad request (empty asset/model, from >= to, window <= 0, too many windows), NotFound for a
//! missing telemetry table; lake errors pass through with the table named.
Result<MonitorRun> MonitorFromLake(const MonitorRequest& request);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_MONITORING_LAKE_MONITOR_H_

// Downtime, failures, MTBF and MTTR of an asset over a window, from its state series.
//
//   ReliabilityInputs in = ConveyorReliability(&state, &down_reason);
//   WEFT_ASSIGN_OR_RETURN(ReliabilityResult r, ComputeReliability(in, month_start, month_end));
//   // r.down_s, r.failures, r.mtbf_s (nullopt without failures), r.mttr_s
//
// A classifier turns the values of the asset's series at a moment into a condition:
//   running  operating (the time MTBF counts)
//   down     failed / unplanned down (downtime; each episode is one failure)
//   stopped  neither: off, idle, planned stop (not operating, not a failure)
// or nullopt (unknown: no data, or a value the classifier does not know), which is reported
// as no_data_s and counted nowhere else.
//
// Presets, after the twins' outputs (src/twin/*.h):
//   conveyor   (state, down_reason): state 2 running; state 0 with reason 4 stopped (planned);
//              state 0 otherwise down (reason 1 jam, 2 electrical, 3 material shortage, or
//              unknown, as OEE counts it); state 1 stopped (idle).
//   compressor (state): 3 fault → down; 1 idle (unloaded, motor turning) and 2 loaded →
//              running; 0 off → stopped.
//   running flag (running 0/1) for motors and pumps: 1 running, 0 stopped. Their outputs have no
//              failed flag (a seized bearing just stops the machine), so failures of motors and
//              pumps cannot be seen in their signals: take them from work orders with
//              ReliabilityFromEpisodes.
//
// Definitions over [start, end):
//   down_s        time down in the window
//   failures      down episodes that start in the window. An episode runs from its first down
//                 moment to the end of its last one before a known non-down condition; a
//                 no-data gap inside does not end it. The series are read from `lookback_us`
//                 before the window: an episode that began there (e.g. still down at `start`),
//                 or whose onset cannot be known (no known condition before it since the start
//                 of the look-back), is `started_before` and not a failure of this window.
//   repairs       failures whose episode also ends in the window; repaired_down_s their length
//   MTBF          run_s / failures           (undefined without failures)
//   MTTR          repaired_down_s / repairs  (undefined without repairs)
// So a downtime split by a shift boundary counts as one failure, in the shift it started in,
// and its time in each shift as that shift's down_s.
//
// Thread-safety: pure functions; a Classifier must be callable concurrently if shared.
#ifndef WEFT_KPI_RELIABILITY_H_
#define WEFT_KPI_RELIABILITY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "kpi/series.h"

namespace weft::kpi {

enum class Condition { kRunning, kDown, kStopped };

//! values[i] is the value of series i at the moment (nullopt: no data).
using Classifier =
    std::function<std::optional<Condition>(std::span<const std::optional<double>> values)>;

struct ReliabilityInputs {
  std::vector<const StepSeries*> series;  //!< in the order the classifier reads them
  Classifier classify;
  int64_t lookback_us = int64_t{24} * 3600 * 1'000'000;  //!< >= 0
};

ReliabilityInputs ConveyorReliability(const StepSeries* state, const StepSeries* down_reason);
ReliabilityInputs CompressorReliability(const StepSeries* state);
ReliabilityInputs RunningFlagReliability(const StepSeries* running);

struct DownEpisode {
  int64_t start_us = 0;         //!< clipped to the window start when started_before
  int64_t end_us = 0;           //!< clipped to the window end when open_at_end
  bool started_before = false;  //!< began before the window (not one of its failures)
  bool open_at_end = false;     //!< still down (or unknown after down) at the window end
};

struct ReliabilityResult {
  int64_t start_us = 0;
  int64_t end_us = 0;
  double run_s = 0;
  double down_s = 0;
  double stopped_s = 0;
  double no_data_s = 0;
  int failures = 0;
  int repairs = 0;
  double repaired_down_s = 0;
  std::optional<double> mtbf_s;
  std::optional<double> mttr_s;
  std::vector<DownEpisode> episodes;  //!< the down episodes touching the window, in order
  std::optional<double> coverage;     //!< 1 - no_data/window; nullopt for an empty window
};

//! InvalidArgument when there is no classifier or no series, lookback_us < 0, or the window is
//! not valid (CheckWindow in series.h).
//! Null series pointers are series without data.
Result<ReliabilityResult> ComputeReliability(const ReliabilityInputs& in, int64_t start_us,
                                             int64_t end_us);

//! MTBF/MTTR from known down intervals (e.g. work orders: failed at → repaired at), for assets
//! whose signals do not show failures. `operating_s` is the operating time in the window (e.g.
//! from RunningFlagReliability's run_s). Overlapping intervals are merged (one failure).
//! Intervals are clipped to [start, end); those starting in it are failures, and those also
//! ending in it repairs. stopped_s and no_data_s are 0 and coverage is nullopt (not measured).
//! InvalidArgument for an interval with end < start, a negative or NaN operating time, or a
//! window that is not valid (CheckWindow).
Result<ReliabilityResult> ReliabilityFromEpisodes(std::span<const DownEpisode> downs,
                                                  double operating_s, int64_t start_us,
                                                  int64_t end_us);

}  // namespace weft::kpi

#endif  // WEFT_KPI_RELIABILITY_H_

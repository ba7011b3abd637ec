// OEE (overall equipment effectiveness) of a line over a window, usually one shift instance,
// from the state, down reason and counters of the line's output asset (its
// `production.output`, e.g. the last conveyor), with the loss breakdown.
//
//   OeeInputs in{&state, &down_reason, &good_count, &reject_count, /*ideal_cycle_time_s=*/30};
//   WEFT_ASSIGN_OR_RETURN(OeeResult r, ComputeOee(in, shift.start_us, shift.end_us));
//   if (r.oee) { ... *r.oee ... } else { ... undefined: no planned production time ... }
//
// State convention (src/twin/conveyor_twin.h): state 0 down, 1 idle (production not
// requested), 2 running; down_reason 0 none, 1 jam, 2 electrical, 3 material shortage,
// 4 planned stop. Every moment of the window is exactly one of:
//   no data      state has no data, or a value other than 0, 1, 2
//   idle         state 1
//   planned stop state 0 with down_reason 4
//   run          state 2
//   down         state 0 otherwise (unplanned): by reason jam (1), electrical (2), material
//                shortage (3), or other (reason 0, another code, or the reason has no data)
//
// Definitions (times in seconds, counts in parts; ideal = ideal cycle time, s per part):
//   shift time               = end - start
//   planned production time  = shift - planned stop - idle - no data  (= run + down)
//   availability             = run / planned
//   performance              = ideal × (good + reject) / run
//   quality                  = good / (good + reject)
//   OEE                      = ideal × good / planned
//                            (= availability × performance × quality whenever those are
//                            defined; 0 for a shift that was planned but never ran)
//   availability losses      = down time by reason: loss_jam_s, loss_electrical_s,
//                              loss_material_s, loss_other_down_s
//   performance loss         = run - ideal × (good + reject)  (negative: faster than ideal)
//   quality loss             = ideal × reject
//   planned = losses + ideal × good (the fully productive time), an identity the tests check.
// A ratio whose denominator is 0 is undefined (nullopt; JSON null), never 0 or NaN.
// Counts are the counters' increases of the points inside the window (series.h), whatever
// the state at that time; increases across a no-data gap count and are reported.
// Performance can exceed 1 when parts run faster than the ideal cycle (it is not clamped).
//
// Thread-safety: pure functions over their arguments.
#ifndef WEFT_KPI_OEE_H_
#define WEFT_KPI_OEE_H_

#include <cstdint>
#include <optional>
#include <span>

#include "common/status.h"
#include "kpi/series.h"

namespace weft::kpi {

struct OeeInputs {
  const StepSeries* state = nullptr;         //!< required
  const StepSeries* down_reason = nullptr;   //!< optional: without it every down is "other"
  const StepSeries* good_count = nullptr;    //!< required, cumulative
  const StepSeries* reject_count = nullptr;  //!< required, cumulative
  double ideal_cycle_time_s = 0;             //!< > 0 (model::LineProduction::ideal_cycle_time)
};

struct OeeResult {
  int64_t start_us = 0;
  int64_t end_us = 0;
  // Time, s.
  double shift_s = 0;
  double no_data_s = 0;
  double idle_s = 0;
  double planned_stop_s = 0;
  double planned_s = 0;  //!< planned production time = run_s + down_s
  double run_s = 0;
  double down_s = 0;  //!< unplanned down = sum of the four availability losses
  // Loss breakdown, s.
  double loss_jam_s = 0;
  double loss_electrical_s = 0;
  double loss_material_s = 0;
  double loss_other_down_s = 0;
  double loss_performance_s = 0;
  double loss_quality_s = 0;
  // Counts, parts.
  double good = 0;
  double reject = 0;
  double total = 0;               //!< good + reject
  double counted_across_gap = 0;  //!< parts (good + reject) counted across no-data gaps
  int counter_resets = 0;
  // Ratios, 0..1 (performance may exceed 1).
  std::optional<double> availability;
  std::optional<double> performance;
  std::optional<double> quality;
  std::optional<double> oee;
  //! Share of the shift with state data (1 - no_data/shift); nullopt for an empty window.
  std::optional<double> coverage;
};

//! OEE over [start, end). InvalidArgument when state, good_count or reject_count is null,
//! ideal_cycle_time_s is not a positive finite number, or the window is not valid
//! (CheckWindow in series.h: end < start, or outside ±2^61 µs).
Result<OeeResult> ComputeOee(const OeeInputs& in, int64_t start_us, int64_t end_us);

//! Sums the times, counts and losses of `parts` (e.g. the shifts of a day, or of a month) and
//! recomputes the ratios from the sums (not an average of ratios): performance =
//! (run - performance loss) / run, OEE = (run - performance loss - quality loss) / planned,
//! which equal the definitions above when the parts share one ideal cycle time. start/end are
//! the earliest start and latest end. Empty `parts`: all zero and undefined.
OeeResult CombineOee(std::span<const OeeResult> parts);

}  // namespace weft::kpi

#endif  // WEFT_KPI_OEE_H_

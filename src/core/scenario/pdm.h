// Predictive maintenance in the simulated month: a CUSUM detector on the vibration the edge
// aggregates, the alerts it raises, and the work orders that answer them (the rows of
// core/api/work_orders.h's table `work_orders`), decided by the simulator's ground truth (its
// fault labels).
//
//   VibrationWatch watch(table, {});                       // every vibration_rms of the table
//   if (std::optional<edge::Event> e = watch.OnWindow(aggregate)) uplink(*e);  // -> `events`
//   std::vector<ScenarioWorkOrder> orders =
//       MakeWorkOrders(watch.alerts(), sim->labels(), {.seed = 7, .run_end_us = end});
//   lake::RecordBatch rows = WorkOrderRows(orders);        // the table's schema
//
// The detector (VibrationWatch): one edge::inference::CusumDetector per vibration_rms signal,
// fed with the mean of each of the pipeline's windows of that signal (what the edge aggregates;
// a window mean is far less noisy than a sample, and a bearing's wear is slow). Windows without
// a good sample, and windows whose mean is below `stopped_below` (the machine stands still:
// nothing to learn, nothing to judge), are skipped. Target and sigma are estimated over the
// first `warmup` windows (edge/inference/detectors.h). Only an upward firing (S+ > h, statistic
// > 0) counts: vibration that falls is no bearing fault.
//
// Alerts. A detector keeps firing while a fault grows, so the alarm latches: a firing raises an
// alert only when the asset's detector had not fired for more than `cooldown` before it
// (AlertGate; 24 h by default: one alert per incident). When the technician closes the alert's
// work order, the incident is over: Relearn(asset, closed) re-arms the gate and restarts the
// asset's detectors, which learn normal again over `warmup` windows that start at or after the
// close (after a repair: the new bearing; after a false alarm: what the technician found
// normal, so that a detector that drifted does not stay latched and hide the next fault).
// Each alert is one edge::Event (kind
// "cusum", source "vibration_cusum", value S+, threshold h, at the window's end), sent like a
// detector event: the `events` table holds the alerts, one row each, so the KPI job's alert
// episodes (core/kpi/lake_inputs.h MergeAlerts) are these alerts, and the alert's id is the id
// the KPI job gives its episode, "<asset>@<FormatTimestampMicros(ts)>": each work order links
// to its alert by id. Each alert gets one work order:
//   - confirmed_fault when a fault label of the same asset covers the alert's time: start <=
//     ts <= end (a label without end lasts until `run_end_us`); any label kind counts (twin,
//     sensor, PLC and communication faults are all things a technician finds);
//   - false_alarm otherwise.
// Times and minutes, drawn from a twin::Rng seeded with `seed` (deterministic, the same on every
// standard library), alert by alert in (ts, asset, id) order:
//   opened = ts + Uniform(response_min, response_max);
//   minutes ~ Normal(mean, stddev) of the outcome, clamped to [min, max] and rounded to whole
//   minutes; closed = opened + minutes; recorded = closed (the technician records it then).
// Each work order carries the alert's id as alert_id and the alert's time as event_ts, so the
// KPI job links it either way. Its id is "wo-<closed µs>-<8 hex digits from the Rng>", the shape
// AppendWorkOrder gives ids. WorkOrderMaker answers alerts one at a time as they come (the
// scenario repairs the asset when the work order closes); MakeWorkOrders answers a batch.
//
// Reactive work orders (WorkOrderMaker::Reactive): a failure nobody predicted, found when the
// machine stops: opened at the failure (event_ts too), no alert_id, outcome confirmed_fault,
// the reactive minutes given (plant.yaml's reactive baseline), closed when the repair is done
// after waiting for parts: Uniform(reactive_delay_min, reactive_delay_max), rounded to the
// minute, from a second Rng seeded with seed + 1 (so reactive repairs do not shift the alerts'
// draws).
//
// Thread-safety: VibrationWatch, AlertGate and WorkOrderMaker are not thread-safe (one owner);
// the free functions are pure.
#ifndef WEFT_CORE_SCENARIO_PDM_H_
#define WEFT_CORE_SCENARIO_PDM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "edge/inference/detectors.h"
#include "edge/sample.h"
#include "edge/signal_table.h"
#include "lake/record_batch.h"
#include "sim/fault_schedule.h"
#include "twin/twin.h"

namespace weft::core::scenario {

//! A detector firing that opened an incident (stored in `events` like every firing).
struct PdmAlert {
  std::string id;  //!< "<asset>@<FormatTimestampMicros(ts)>", the KPI job's episode id
  std::string site, area, line, asset, signal, kind;
  int64_t ts_us = 0;
  double statistic = 0;
};

//! Admits a firing as an alert when its asset had no firing (admitted or not) for more than
//! `cooldown` before it (or none at all).
class AlertGate {
 public:
  explicit AlertGate(Micros cooldown) : cooldown_us_(cooldown.count()) {}
  bool Admit(const std::string& asset, int64_t ts_us);
  //! The incident of `asset` is over: its next firing is admitted.
  void Forget(const std::string& asset) { last_us_.erase(asset); }

 private:
  int64_t cooldown_us_;
  std::map<std::string, int64_t> last_us_;
};

struct VibrationWatchOptions {
  double k = 0.5;              //!< CUSUM allowance, in sigmas
  double h = 8;                //!< CUSUM decision interval, in sigmas
  uint32_t warmup = 96;        //!< windows used to estimate target and sigma (a day of 15 min)
  double stopped_below = 0.3;  //!< mm/s: a lower window mean is a machine at rest
  Micros cooldown = std::chrono::hours(24);  //!< quiet time that separates two incidents
};

class VibrationWatch {
 public:
  //! Watches every signal named vibration_rms of `table` (which must outlive the watch).
  VibrationWatch(const edge::SignalTable& table, VibrationWatchOptions options);

  //! A closed window of any signal; returns the alert's event when a watched signal's detector
  //! fired and the firing raises an alert.
  std::optional<edge::Event> OnWindow(const edge::Aggregate& window);
  //! Re-arms the asset's alert and restarts its detectors: they learn again from the windows
  //! that start at or after `from_us` (earlier ones are skipped).
  void Relearn(const std::string& asset, int64_t from_us);

  const std::vector<PdmAlert>& alerts() const { return alerts_; }
  uint64_t firings() const { return firings_; }  //!< upward firings, alerts or not
  size_t watched() const { return watched_; }

 private:
  edge::inference::CusumParams Params() const;

  const edge::SignalTable& table_;
  VibrationWatchOptions options_;
  //! By signal id; null for signals not watched.
  std::vector<std::unique_ptr<edge::inference::CusumDetector>> detectors_;
  std::vector<int64_t> learn_from_us_;  //!< by signal id: windows starting earlier are skipped
  AlertGate gate_;
  std::vector<PdmAlert> alerts_;
  uint64_t firings_ = 0;
  size_t watched_ = 0;
};

struct WorkOrderOptions {
  uint64_t seed = 1;
  int64_t run_end_us = 0;  //!< where labels without an end stop
  Micros response_min = std::chrono::minutes(30);
  Micros response_max = std::chrono::hours(4);
  double confirmed_mean = 90, confirmed_stddev = 25, confirmed_min = 30, confirmed_max = 240;
  double false_mean = 20, false_stddev = 6, false_min = 5, false_max = 60;
  //! A reactive repair waits for parts this long after the failure (opened -> closed).
  Micros reactive_delay_min = std::chrono::hours(24);
  Micros reactive_delay_max = std::chrono::hours(72);
  std::string principal = "weft-demo-month";
};

//! One row of `work_orders` (the columns of core/api/work_orders.h's WorkOrder).
struct ScenarioWorkOrder {
  std::string id, site, area, line, asset, alert_id, outcome, note, principal;
  int64_t event_us = 0, opened_us = 0, closed_us = 0, recorded_us = 0;
  double minutes = 0;
  //! Not a column: the ground-truth fault a confirmed_fault found (none for false alarms).
  std::optional<sim::FaultType> fault;
};

//! Where an asset sits in the plant, for a work order's columns.
struct WorkOrderPlace {
  std::string site, area, line, asset;
};

//! Answers alerts and failures one at a time (see the file comment), deterministic for the
//! seed and the order of the calls.
class WorkOrderMaker {
 public:
  explicit WorkOrderMaker(WorkOrderOptions options);
  //! The work order of `alert`: confirmed_fault when a label of `labels` (as known at the
  //! alert's time or later) covers it, else false_alarm.
  ScenarioWorkOrder Answer(const PdmAlert& alert, const std::vector<sim::FaultLabel>& labels);
  //! The work order of a failure at `failure_us` found without an alert, `minutes` of
  //! technician time.
  ScenarioWorkOrder Reactive(const WorkOrderPlace& place, sim::FaultType fault, int64_t failure_us,
                             double minutes);

 private:
  WorkOrderOptions o_;
  twin::Rng rng_;
  twin::Rng reactive_rng_;
};

//! The work orders of `alerts` (see the file comment), in (ts, asset, id) order of the alerts.
std::vector<ScenarioWorkOrder> MakeWorkOrders(std::vector<PdmAlert> alerts,
                                              const std::vector<sim::FaultLabel>& labels,
                                              const WorkOrderOptions& options);

//! The rows of `orders` in the work_orders table's schema (core/ingest/tables.h); "" optional
//! strings are nulls, as AppendWorkOrder writes them.
lake::RecordBatch WorkOrderRows(const std::vector<ScenarioWorkOrder>& orders);

}  // namespace weft::core::scenario

#endif  // WEFT_CORE_SCENARIO_PDM_H_

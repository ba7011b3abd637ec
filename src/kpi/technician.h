// Technician time saved per alert: alerts linked to the work orders that answered them, and the
// minutes those work orders took against the minutes a failure costs when it is found reactively
// (plant.yaml: economics.reactive_minutes_per_failure, overridden per use case).
//
//   TechnicianOptions opt{.reactive_minutes_default = 240, .labour_rate_per_hour = 68};
//   opt.reactive_minutes_by_use_case["pdm-spindles"] = 300;
//   WEFT_ASSIGN_OR_RETURN(TechnicianReport r, TechnicianTimeSaved(alerts, work_orders, opt));
//   r.total.minutes_saved;              // Σ confirmed (reactive − minutes) − Σ false-alarm minutes
//   r.by_use_case["pdm-spindles"].minutes_saved_per_alert;   // nullopt with zero alerts
//
// Linking a work order to an alert, in this order:
//   1. By alert_id: a work order whose alert_id names an alert of the input is linked to it. A
//      non-empty alert_id that names no alert of the input (an alert outside the period) leaves
//      the work order unlinked ("orphan"); it is never re-linked by time.
//   2. By asset and time, for work orders without alert_id, taken in (event_us, id) order: the
//      alert of the same asset nearest in time, |alert.ts_us − event_us| <= link_window_us, among
//      alerts that no work order has claimed yet; ties go to the earlier alert, then the smaller
//      id. No candidate: the work order is an orphan.
//   Several work orders may answer one alert (by alert_id): their minutes add up, and the alert
//   counts as confirmed when any of them is a confirmed fault, else as a false alarm.
//
// Tally of a group of alerts (the whole input, one asset, one use case):
//   alerts        the alerts of the group
//   linked        alerts with at least one work order; linked = confirmed + false_alarms
//   unanswered    alerts without a work order; alerts = linked + unanswered
//   minutes_spent Σ minutes of the linked work orders
//   minutes_saved Σ over confirmed alerts (reactive_minutes − minutes) − Σ over false alarms
//   minutes
//                 (unanswered alerts add nothing; the value may be negative)
//   minutes_saved_per_alert  minutes_saved / alerts, nullopt when alerts = 0
//   value         minutes_saved / 60 × labour_rate_per_hour, in the plant's currency
// reactive_minutes of an alert: reactive_minutes_by_use_case[alert.use_case] when present, else
// reactive_minutes_default. Alerts without a use case are grouped under use case "".
// Orphan work orders are listed (ids) but counted in no tally.
//
// Errors (InvalidArgument, naming the alert or work order): an alert with an empty id or asset,
// two alerts with one id, a work order whose outcome is neither "confirmed_fault" nor
// "false_alarm", minutes negative or not finite, a negative reactive_minutes, labour rate or
// link window.
//
// Thread-safety: pure functions over values.
#ifndef WEFT_KPI_TECHNICIAN_H_
#define WEFT_KPI_TECHNICIAN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace weft::kpi {

//! An alert raised for an asset (a PdM detector's prediction, an edge threshold event, …).
struct TechnicianAlert {
  std::string id{};        //!< unique within the input
  std::string asset{};     //!< asset id
  int64_t ts_us = 0;       //!< when it was raised
  std::string kind{};      //!< e.g. "anomaly", "threshold" (reported, not interpreted)
  std::string use_case{};  //!< the use case it belongs to, "" = none
};

//! The fields of a work order (core/api/work_orders.h, lake table `work_orders`) used here.
struct TechnicianWorkOrder {
  std::string id{};
  std::string alert_id{};  //!< "" = not given: linked by asset and time
  std::string asset{};
  int64_t event_us = 0;   //!< the alert's time as recorded with the work order
  std::string outcome{};  //!< "confirmed_fault" or "false_alarm"
  double minutes = 0;     //!< technician time spent
};

struct TechnicianOptions {
  //! economics.reactive_minutes_per_failure.
  double reactive_minutes_default = 0;
  //! use_cases[].reactive_minutes_per_failure, by use-case id.
  std::map<std::string, double> reactive_minutes_by_use_case{};
  //! economics.labour_rate_per_hour, for `value`.
  double labour_rate_per_hour = 0;
  //! How far a work order without alert_id may be from the alert it answers (default 24 h).
  int64_t link_window_us = int64_t{24} * 3600 * 1000000;
};

struct TechnicianTally {
  size_t alerts = 0, linked = 0, confirmed = 0, false_alarms = 0, unanswered = 0;
  double minutes_spent = 0;
  double minutes_saved = 0;
  std::optional<double> minutes_saved_per_alert{};  //!< nullopt when alerts == 0
  double value = 0;                                 //!< minutes_saved / 60 × labour rate
};

//! One alert and what answered it.
struct AlertLink {
  std::string alert_id{}, asset{}, use_case{};
  int64_t ts_us = 0;
  std::vector<std::string> work_order_ids{};  //!< empty = unanswered
  //! "confirmed_fault", "false_alarm" or "unanswered".
  std::string outcome{};
  double minutes = 0;           //!< Σ minutes of its work orders
  double reactive_minutes = 0;  //!< the baseline that applied to it
  double minutes_saved = 0;     //!< reactive − minutes if confirmed; −minutes if false; else 0
  bool linked_by_time = false;  //!< at least one work order was linked by asset and time
};

struct TechnicianReport {
  TechnicianTally total{};
  std::map<std::string, TechnicianTally> by_asset{};
  std::map<std::string, TechnicianTally> by_use_case{};  //!< "" = alerts without use case
  std::vector<AlertLink> alerts{};                       //!< in input order
  std::vector<std::string> orphan_work_orders{};         //!< ids of work orders linked to no alert
};

//! Links `work_orders` to `alerts` and tallies the time saved (see the file comment).
Result<TechnicianReport> TechnicianTimeSaved(const std::vector<TechnicianAlert>& alerts,
                                             const std::vector<TechnicianWorkOrder>& work_orders,
                                             const TechnicianOptions& options);

}  // namespace weft::kpi

#endif  // WEFT_KPI_TECHNICIAN_H_

// Work-order outcomes in the lake's `work_orders` Delta table (core/ingest/tables.h): what the
// maintenance team found after an alert (a confirmed fault or a false alarm) and how long it
// took. They are labels for MLOps (training, monitoring) and data for the KPIs; POST
// /api/v1/workorders records one, GET /api/v1/workorders lists them.
//
//   WorkOrder w{.asset = "l1-mo-01", .event_us = alert_ts, .outcome = "confirmed_fault",
//               .minutes = 45, .principal = "otto"};
//   WEFT_RETURN_IF_ERROR(AppendWorkOrder(lake_root, &w, &clock));   // fills id and recorded_us
//   WEFT_ASSIGN_OR_RETURN(auto rows, ReadWorkOrders(lake_root, {.asset = "l1-mo-01"}, &clock));
//
// Thread-safety: the functions are safe from any thread (appends in one process are
// serialised; concurrent writers in other processes are arbitrated by the Delta log).
#ifndef WEFT_CORE_API_WORK_ORDERS_H_
#define WEFT_CORE_API_WORK_ORDERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::core::api {

inline constexpr char kOutcomeConfirmedFault[] = "confirmed_fault";
inline constexpr char kOutcomeFalseAlarm[] = "false_alarm";

struct WorkOrder {
  std::string id{};                    //!< "wo-<recorded µs>-<8 hex>", set by AppendWorkOrder
  std::string site{}, area{}, line{};  //!< the asset's place in the plant ("" = unknown)
  std::string asset{};
  std::string alert_id{};   //!< the alert it answers, "" = none given
  int64_t event_us = 0;     //!< the alert's time (the date partition)
  int64_t opened_us = 0;    //!< when the work order was opened
  int64_t closed_us = 0;    //!< when it was closed
  int64_t recorded_us = 0;  //!< when the core recorded it, set by AppendWorkOrder
  std::string outcome{};    //!< kOutcomeConfirmedFault or kOutcomeFalseAlarm
  double minutes = 0;       //!< time spent
  std::string note{};
  std::string principal{};  //!< who recorded it
};

//! Checks `w` (asset set, outcome one of the two, 0 <= minutes <= 10^6, opened <= closed, note
//! at most 4000 bytes); InvalidArgument naming the field otherwise.
Status ValidateWorkOrder(const WorkOrder& w);

//! Validates, sets id and recorded_us, and appends one row (creating the table if needed).
Status AppendWorkOrder(std::string_view lake_root, WorkOrder* w, const Clock* clock);

struct WorkOrderQuery {
  std::string asset{};               //!< "" = every asset
  std::optional<int64_t> from_us{};  //!< event_ts >= from
  std::optional<int64_t> to_us{};    //!< event_ts < to
};

//! The work orders matching `q`, ordered by event time then id.
Result<std::vector<WorkOrder>> ReadWorkOrders(std::string_view lake_root, const WorkOrderQuery& q,
                                              const Clock* clock);

}  // namespace weft::core::api

#endif  // WEFT_CORE_API_WORK_ORDERS_H_

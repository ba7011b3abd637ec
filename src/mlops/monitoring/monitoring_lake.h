// Monitoring results in the lake: the `model_monitoring` Delta table, one row per statistic per
// window (CheckResult), partitioned by date (UTC day of ts).
//
//   WEFT_ASSIGN_OR_RETURN(auto table,
//                         lake::LakeTable::Open(root + "/model_monitoring", &clock, true));
//   WEFT_RETURN_IF_ERROR(AppendMonitoringResults(*table, assessment.results));
//
// Columns: date (date, partition), ts (timestamp), model, model_version, asset, check, subject,
// statistic, value (double), level ("ok"/"warn"/"alert"), score (the window's reliability score),
// action ("none"/"mark_low_trust"/"retrain"/"rollback").
//
// Thread-safety: as LakeTable (appends from several threads or processes are arbitrated by the
// Delta log's optimistic concurrency).
#ifndef WEFT_MLOPS_MONITORING_MONITORING_LAKE_H_
#define WEFT_MLOPS_MONITORING_MONITORING_LAKE_H_

#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"
#include "mlops/monitoring/monitor.h"

namespace weft::mlops {

//! "model_monitoring".
inline constexpr std::string_view kMonitoringTableName = "model_monitoring";

//! The table's columns, in order.
std::vector<lake::BatchField> MonitoringSchema();

//! The results as rows of MonitoringSchema().
lake::RecordBatch MonitoringBatch(const std::vector<CheckResult>& results);

//! Appends the results as one commit, creating the table (partitioned by date) when it does not
//! exist yet. A no-op for an empty vector. Errors of the lake pass through with context.
Status AppendMonitoringResults(lake::LakeTable& table, const std::vector<CheckResult>& results);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_MONITORING_MONITORING_LAKE_H_

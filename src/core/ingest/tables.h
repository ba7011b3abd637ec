// The lake tables the core's ingest writes, one Delta table per folder under the lake root:
//
//   telemetry    one row per sample (narrow: a new signal needs no migration)
//   aggregates   one row per tumbling window of a signal
//   events       quality events, comm loss, detector alarms
//   predictions  model outputs (events of kind "prediction"), with model name and version
//   actions      control loops' actions (writes, refusals, overrides, mode changes; issue 8)
//   work_orders  work-order outcomes recorded through the API (POST /api/v1/workorders): labels
//                for MLOps and data for the KPIs. Written by the API, not by the ingest.
//
// Every table is partitioned by `date` (the UTC day of its time column). The ingested ones carry
// the batch's provenance: edge, stream (priority class) and seq; their txn actions, appId
// "<edge>/<stream>", make each batch land exactly once (see ingestor.h).
//
//   WEFT_RETURN_IF_ERROR(EnsureTables("/var/lib/weft/lake", &clock));   // creates what is missing
//   WEFT_ASSIGN_OR_RETURN(auto t, OpenTable("/var/lib/weft/lake", LakeTableId::kTelemetry,
//   &clock));
#ifndef WEFT_CORE_INGEST_TABLES_H_
#define WEFT_CORE_INGEST_TABLES_H_

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"

namespace weft::core {

enum class LakeTableId {
  kTelemetry = 0,
  kAggregates = 1,
  kEvents = 2,
  kPredictions = 3,
  kActions = 4,
  kWorkOrders = 5,  //!< not ingested from batches: the API appends to it
};
inline constexpr int kLakeTableCount = 6;

std::string_view LakeTableName(LakeTableId t);  //!< "telemetry", ...
//! The columns, in order (the partition column `date` first).
const std::vector<lake::BatchField>& LakeTableSchema(LakeTableId t);
//! "<root>/<name>" (root may be a path or s3://bucket/prefix).
std::string LakeTablePath(std::string_view root, LakeTableId t);

//! "<prefix><now_us>-<8 random hex digits>": the id of a row the core writes (work orders, KPI
//! runs); unique across processes in practice (the random part), ordered by time (the prefix).
std::string NewRowId(std::string_view prefix, int64_t now_us);

//! Appends `v` to a nullable string column, an empty string as null.
void AppendTextOrNull(lake::Column& c, const std::string& v);

//! Whether a row of the `events` table is an alert (a detector firing or another alarm someone
//! should look at). Not alerts: the data-quality kinds (quality, comm_loss) and what the
//! connectors and the pipeline report about the data's flow (source "sparkplug", "json",
//! "pipeline" or "modbus://...": births, deaths, rebirths, sequence gaps, exceptions).
bool IsAlertEvent(std::string_view kind, std::string_view source);

//! Creates the tables that do not exist yet (and the root directory, for a local root).
Status EnsureTables(std::string_view root, const Clock* clock);
Result<std::unique_ptr<lake::LakeTable>> OpenTable(std::string_view root, LakeTableId t,
                                                   const Clock* clock);

}  // namespace weft::core

#endif  // WEFT_CORE_INGEST_TABLES_H_

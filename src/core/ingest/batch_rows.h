// The rows a decoded uplink batch contributes to each lake table (schemas in tables.h): one
// telemetry row per sample, one aggregates row per window, one events or predictions row per
// event (kind "prediction" goes to predictions, with "<model>@<version>" split), each with the
// signal's context from the batch and the batch's provenance (edge, stream, seq); one actions
// row per control action (NaN numbers and "" optional strings become nulls). Batches hold no
// work_orders rows.
//
//   lake::RecordBatch rows(LakeTableSchema(LakeTableId::kTelemetry));
//   AppendBatchRows(LakeTableId::kTelemetry, incoming, rows);
#ifndef WEFT_CORE_INGEST_BATCH_ROWS_H_
#define WEFT_CORE_INGEST_BATCH_ROWS_H_

#include <cstdint>

#include "core/ingest/sequencer.h"
#include "core/ingest/tables.h"
#include "lake/record_batch.h"

namespace weft::core {

//! The UTC day (days since 1970-01-01) of a timestamp in µs: the tables' `date` partition.
int64_t DayOf(int64_t ts_us);

//! Appends the rows of table `t` that batch `in` holds. REQUIRES: `rows` has t's schema.
void AppendBatchRows(LakeTableId t, const Incoming& in, lake::RecordBatch& rows);

}  // namespace weft::core

#endif  // WEFT_CORE_INGEST_BATCH_ROWS_H_

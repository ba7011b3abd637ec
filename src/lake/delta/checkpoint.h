#ifndef WEFT_LAKE_DELTA_CHECKPOINT_H_
#define WEFT_LAKE_DELTA_CHECKPOINT_H_

// Checkpoints: reading every kind the protocol defines (classic, multi-part, UUID-named v2 in
// JSON or Parquet with sidecars) and writing classic single-file Parquet ones.
//
//   WEFT_ASSIGN_OR_RETURN(std::vector<Action> actions, ReadCheckpoint(store,
//   listing.checkpoints.back())); WEFT_RETURN_IF_ERROR(WriteCheckpoint(store, snapshot));
//
// Parquet goes through Weft's Parquet reader (an ObjectStore-backed RandomAccessSource making
// ranged GETs) and writer (nested rows). Checkpoint rows are turned into the same JSON objects a
// commit line holds and parsed by actions.h, so both paths apply the same checks.
//
// Thread-safety: functions; safe when the ObjectStore is.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_files.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

class Snapshot;

//! All actions of a checkpoint (every part; sidecars resolved into their add/remove actions).
Result<std::vector<Action>> ReadCheckpoint(ObjectStore& store, const Checkpoint& checkpoint);

//! Actions of one Parquet checkpoint or sidecar file.
Result<std::vector<Action>> ReadParquetActions(ObjectStore& store, const std::string& key);

//! The Parquet bytes of a classic (V1 spec) checkpoint holding `actions`.
Result<std::string> EncodeCheckpointParquet(const std::vector<Action>& actions);

//! Writes `<version>.checkpoint.parquet` for the snapshot and then `_last_checkpoint`.
Status WriteCheckpoint(ObjectStore& store, const Snapshot& snapshot);

//! The actions a checkpoint of the snapshot holds: protocol, metaData, txns, domains, adds and
//! the tombstones not yet expired at the snapshot's commit time (no commitInfo, no cdc).
std::vector<Action> CheckpointActions(const Snapshot& snapshot);

//! delta.deletedFileRetentionDuration ("interval 7 days"; a week when absent or unreadable).
int64_t TombstoneRetentionMs(const Metadata& metadata);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_CHECKPOINT_H_

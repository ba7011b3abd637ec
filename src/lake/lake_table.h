#ifndef WEFT_LAKE_LAKE_TABLE_H_
#define WEFT_LAKE_LAKE_TABLE_H_

// A Delta table of flat rows, as `weft lake` and the core's ingest use it: Delta log (delta/) +
// Parquet data files (parquet/) + an object store (storage/), local or S3.
//
//   WEFT_ASSIGN_OR_RETURN(auto table, LakeTable::Open("s3://lake/telemetry", &clock));
//   WEFT_RETURN_IF_ERROR(table->Create(*ParseSchemaText("ts timestamp, asset string, value
//   double"),
//                                      {"asset"}));
//   WEFT_ASSIGN_OR_RETURN(AppendResult r, table->Append(batch, delta::Txn{"edge-1", 42}));
//   WEFT_RETURN_IF_ERROR(table->Scan({.where = "asset = 'm1'"}, [](const RecordBatch& b) {...}));
//
// Appends write one zstd Parquet file per partition (partition columns are not stored in the
// files, as Delta requires), with per-file statistics (numRecords, min/max, nullCount) in the add
// actions, then commit with optimistic concurrency. Scans prune files by partition values and
// statistics, then row groups by Parquet statistics, then filter rows.
//
// Thread-safety: a LakeTable may be used from several threads and processes at once (commits are
// arbitrated by the store's put-if-absent); each call works on its own snapshot.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/delta/actions.h"
#include "lake/delta/snapshot.h"
#include "lake/record_batch.h"
#include "lake/storage/object_store.h"

namespace weft::lake {

struct AppendResult {
  int64_t version = -1;            //!< the commit's version (or the earlier one, when a no-op)
  bool already_committed = false;  //!< the txn (app id, version) was committed before: nothing done
  size_t files = 0;
  size_t rows = 0;
};

struct ScanOptions {
  std::optional<int64_t> version{};    //!< time travel by version
  std::optional<int64_t> as_of_ms{};   //!< time travel by commit time (Unix ms)
  std::vector<std::string> columns{};  //!< empty: all, in table order
  std::string where{};                 //!< Predicate text; empty: every row
};

struct ScanStats {
  int64_t version = -1;
  size_t files_total = 0;
  size_t files_skipped = 0;  //!< by partition values or file statistics
  size_t row_groups_read = 0;
  size_t row_groups_skipped = 0;
  size_t rows_read = 0;
  size_t rows_matched = 0;
};

struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  std::string operation{};
  std::string commit_info_json{};  //!< the whole commitInfo object ("{}" when absent)
};

struct OptimizeResult {
  int64_t version = -1;  //!< -1 when there was nothing to compact
  size_t files_removed = 0;
  size_t files_added = 0;
};

struct VacuumResult {
  std::vector<std::string> deleted{};  //!< keys, relative to the table root
  size_t kept_recent = 0;              //!< unreferenced but younger than the retention
};

class LakeTable {
 public:
  //! `location`: a local path or s3://bucket/prefix (AWS_* environment for S3). A local
  //! directory is made only with `create_location` (for Create); otherwise a missing one is
  //! kNotFound. REQUIRES: clock outlives the table.
  static Result<std::unique_ptr<LakeTable>> Open(std::string_view location, const Clock* clock,
                                                 bool create_location = false);
  //! For tests: a table over an existing store. REQUIRES: store and clock outlive the table.
  LakeTable(std::unique_ptr<ObjectStore> store, const Clock* clock);

  //! kAlreadyExists when the table exists. Partition columns must be in the schema.
  Status Create(const std::vector<BatchField>& schema,
                const std::vector<std::string>& partition_by);
  //! The table's columns (flat), at the latest version or `version`.
  Result<std::vector<BatchField>> Schema(std::optional<int64_t> version = std::nullopt) const;

  //! Appends `rows` (columns matched by name to the table's; a missing nullable column is null).
  //! With `txn`, idempotent per (app id, version).
  Result<AppendResult> Append(const RecordBatch& rows, std::optional<delta::Txn> txn = {});
  //! Appends `rows` and records every txn (appId -> version) in the same commit, so that rows
  //! from several streams commit exactly once together. If the table already holds a version >=
  //! the given one for ANY of the apps (another writer got there first), nothing is written and
  //! `already_committed` is set: re-read TxnVersions and retry with the rows still missing.
  Result<AppendResult> Append(const RecordBatch& rows, std::vector<delta::Txn> txns);
  //! The latest committed txn version of every appId.
  Result<std::map<std::string, int64_t>> TxnVersions() const;

  //! Calls `sink` with batches of matching rows (the requested columns), in file order.
  Status Scan(const ScanOptions& options, const std::function<Status(const RecordBatch&)>& sink,
              ScanStats* stats = nullptr) const;
  //! Rows at the version: from the add actions' numRecords when every file has it, else read.
  Result<int64_t> Count(std::optional<int64_t> version = std::nullopt) const;

  Result<std::vector<HistoryEntry>> History() const;
  //! Writes a checkpoint of the latest version (and _last_checkpoint).
  Result<int64_t> Checkpoint() const;
  //! Rewrites files smaller than `small_file_bytes` into one file per partition
  //! (dataChange=false).
  Result<OptimizeResult> Optimize(int64_t small_file_bytes = int64_t{32} << 20);
  //! Deletes data files the latest version does not reference and that were removed (or written)
  //! longer than `retain_hours` ago. Files of newer versions' readers are never touched.
  Result<VacuumResult> Vacuum(double retain_hours, bool dry_run = false);

  ObjectStore& store() const { return *store_; }

 private:
  Result<delta::Snapshot> Load(std::optional<int64_t> version,
                               std::optional<int64_t> as_of_ms) const;
  //! Writes `rows` as data files (one per partition) and returns their add actions.
  Result<std::vector<delta::AddFile>> WriteFiles(const delta::Snapshot& snapshot,
                                                 const RecordBatch& rows, bool data_change);
  //! Reads one data file, a batch per row group: the `wanted` columns (partition columns filled
  //! in), rows not yet filtered; row groups that `predicate` rules out are skipped.
  Result<std::vector<RecordBatch>> ReadFile(const delta::Snapshot& snapshot,
                                            const delta::AddFile& file,
                                            const std::vector<BatchField>& wanted,
                                            const class Predicate& predicate,
                                            ScanStats* stats) const;

  std::unique_ptr<ObjectStore> store_;
  const Clock* clock_;
};

//! The flat columns of a Delta schema; Unimplemented naming the column for nested or decimal
//! columns (not supported by `weft lake` yet).
Result<std::vector<BatchField>> FlatFields(const delta::Schema& schema);

}  // namespace weft::lake

#endif  // WEFT_LAKE_LAKE_TABLE_H_

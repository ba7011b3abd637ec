#ifndef WEFT_LAKE_DELTA_SNAPSHOT_H_
#define WEFT_LAKE_DELTA_SNAPSHOT_H_

// A Delta table's state at one version: protocol, metadata and schema, the live data files, the
// tombstones, the transaction ids and the metadata domains (PROTOCOL.md "Action Reconciliation").
//
//   WEFT_ASSIGN_OR_RETURN(Snapshot s, LoadSnapshot(store));                    // latest
//   WEFT_ASSIGN_OR_RETURN(Snapshot s, LoadSnapshot(store, {.version = 3}));    // time travel
//   WEFT_ASSIGN_OR_RETURN(Snapshot s, LoadSnapshot(store, {.timestamp_ms = t}));
//   for (const AddFile& f : s.files()) ... s.LogicalPartitionValues(f) ...
//
// Loading refuses, with kUnimplemented naming the feature, any table whose protocol needs a
// reader feature Weft does not support (columnMapping in 'id' mode, variantType, ...), and
// deletionVectors unless the caller says it applies them: a snapshot is either right or absent.
// Checkpoints are used when they can be read; otherwise the JSON commits are replayed from version
// 0 when they are all present.
//
// Thread-safety: Snapshot is an immutable value once loaded; LoadSnapshot is safe to call from
// several threads when the ObjectStore is.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_files.h"
#include "lake/delta/partition.h"
#include "lake/delta/schema.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

enum class ColumnMappingMode { kNone, kName, kId };

class Snapshot {
 public:
  int64_t version() const { return version_; }
  //! The commit timestamp of this version (ms): the in-commit timestamp when the commit has one,
  //! else the commit file's modification time.
  int64_t timestamp_ms() const { return timestamp_ms_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  const Schema& schema() const { return schema_; }
  ColumnMappingMode column_mapping_mode() const { return column_mapping_mode_; }
  //! Live files, sorted by path.
  const std::vector<AddFile>& files() const { return files_; }
  //! Tombstones (removes not re-added), sorted by path. Not expired by time: Weft keeps them all.
  const std::vector<RemoveFile>& tombstones() const { return tombstones_; }
  //! Latest txn per appId.
  const std::map<std::string, Txn>& txns() const { return txns_; }
  //! Live metadata domains (removed ones excluded).
  const std::map<std::string, DomainMetadata>& domains() const { return domains_; }
  //! The commitInfo of the commit at this version, when its JSON file has one.
  const std::optional<CommitInfo>& commit_info() const { return commit_info_; }
  //! Which checkpoint the state started from (nullopt: replayed from version 0).
  std::optional<int64_t> checkpoint_version() const { return checkpoint_version_; }

  //! The app's latest committed txn version, if any.
  std::optional<int64_t> TxnVersion(std::string_view app_id) const;
  //! Partition values keyed by display name, typed by the schema (column mapping resolved).
  Result<std::map<std::string, PartitionValue>> LogicalPartitionValues(const AddFile& file) const;
  //! numRecords from the file's stats; nullopt when the file has no stats or no numRecords.
  Result<std::optional<int64_t>> NumRecords(const AddFile& file) const;
  //! The physical name of a top-level column (its display name without column mapping).
  Result<std::string> PhysicalColumnName(std::string_view display_name) const;

 private:
  friend class SnapshotBuilder;
  int64_t version_ = -1;
  int64_t timestamp_ms_ = 0;
  Protocol protocol_{};
  Metadata metadata_{};
  Schema schema_{};
  ColumnMappingMode column_mapping_mode_ = ColumnMappingMode::kNone;
  std::vector<AddFile> files_{};
  std::vector<RemoveFile> tombstones_{};
  std::map<std::string, Txn> txns_{};
  std::map<std::string, DomainMetadata> domains_{};
  std::optional<CommitInfo> commit_info_{};
  std::optional<int64_t> checkpoint_version_{};
};

struct SnapshotOptions {
  //! Read this version (time travel by version). Default: the latest.
  std::optional<int64_t> version{};
  //! Read the latest version committed at or before this time, Unix ms.
  std::optional<int64_t> timestamp_ms{};
  //! Ignore checkpoints and replay JSON commits from version 0 (tests, cross-checks).
  bool ignore_checkpoints = false;
  //! Accept tables with the 'deletionVectors' reader feature. Only for callers that skip the
  //! deleted rows of every file with a deletion vector (deletion_vector.h); everyone else gets
  //! the table refused, since reading its files whole would return deleted rows.
  bool deletion_vectors_applied_by_caller = false;
};

//! Builds the snapshot. Errors: kNotFound (no table / version not in the log), kUnimplemented
//! (unsupported feature, named), kDataLoss (missing commit, malformed log; names the file).
Result<Snapshot> LoadSnapshot(ObjectStore& store, const SnapshotOptions& options = {});
//! Same, from a listing already made (avoids a second List).
Result<Snapshot> LoadSnapshot(ObjectStore& store, const LogListing& listing,
                              const SnapshotOptions& options);

//! Refuses (kUnimplemented, naming the feature) a protocol + metadata Weft cannot read right.
//! 'deletionVectors' passes only when the caller applies them.
Status CheckReadSupported(const Protocol& protocol, const Metadata& metadata,
                          bool deletion_vectors_applied_by_caller = false);
//! Refuses (kUnimplemented, naming the feature) a table Weft cannot write right.
Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata,
                           const Schema& schema);

//! Version and commit timestamp of every commit file in the log, oldest first. File-time
//! timestamps are made strictly increasing (a commit older than its predecessor gets
//! predecessor + 1 ms), as Delta does for file modification times.
struct CommitTimestamp {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  bool in_commit = false;  //!< from commitInfo.inCommitTimestamp (else the file's mtime)
};
Result<std::vector<CommitTimestamp>> ListCommitTimestamps(ObjectStore& store,
                                                          const LogListing& listing);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_SNAPSHOT_H_

#ifndef WEFT_LAKE_DELTA_TABLE_H_
#define WEFT_LAKE_DELTA_TABLE_H_

// DeltaTable: creating a table and committing to it with optimistic concurrency.
//
//   LocalObjectStore store(...);                       // or S3; the table's root
//   DeltaTable table(&store, &SystemClock::Default());
//   WEFT_ASSIGN_OR_RETURN(Snapshot s0,
//                         table.Create({.schema = schema, .partition_columns = {"day"}}));
//   // write Parquet data files first, then:
//   WEFT_ASSIGN_OR_RETURN(CommitResult r,
//       table.Append(s0, {add1, add2}, Txn{.app_id = "edge-7", .version = 42}));
//   if (r.already_committed) ... batch 42 of edge-7 was committed before: nothing written ...
//
// A commit writes `_delta_log/<v>.json` with ObjectStore::PutIfAbsent. When another writer won
// version v, the winning commit is read and checked for conflicts (PROTOCOL.md and Delta's
// optimistic concurrency, write-serializable): a blind append conflicts only with a concurrent
// metaData/protocol change, the same txn appId or the same metadata domain; a transaction that
// removes files (delete, compaction) also conflicts with a concurrent commit that removed files,
// but not with concurrent appends; a metadata change conflicts with any concurrent file change.
// Without conflict the commit is retried at v + 1, a bounded number of times. Every
// `checkpoint_interval` versions a checkpoint is attempted.
//
// Thread-safety: a DeltaTable holds no mutable state; several threads or processes may commit
// to one table concurrently (that is what PutIfAbsent arbitrates).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/delta/actions.h"
#include "lake/delta/schema.h"
#include "lake/delta/snapshot.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

struct CreateTableOptions {
  Schema schema{};
  std::vector<std::string> partition_columns{};
  std::map<std::string, std::string> configuration{};
  std::optional<std::string> name{};
  std::optional<std::string> description{};
  //! The table's GUID; a random UUID when empty.
  std::string id{};
};

struct Transaction {
  //! Actions to commit: add, remove, metaData, protocol, txn, domainMetadata (commitInfo is
  //! added by the commit).
  std::vector<Action> actions{};
  std::string operation = "WRITE";
  std::map<std::string, std::string> operation_parameters{};
  //! True when the transaction only adds files and read nothing from the table.
  bool blind_append = false;
};

struct CommitResult {
  int64_t version = -1;            //!< the version written (or found, when already_committed)
  bool already_committed = false;  //!< a txn in the transaction was committed before: no-op
  int attempts = 0;                //!< PutIfAbsent calls made
  //! Outcome of the checkpoint attempted after the commit (OK when none was due). A failed
  //! checkpoint never fails the commit.
  Status checkpoint_status{};
};

struct TableOptions {
  int max_commit_attempts = 1000;
  int64_t checkpoint_interval = 10;
};

class DeltaTable {
 public:
  //! REQUIRES: store and clock outlive the table.
  DeltaTable(ObjectStore* store, const Clock* clock, TableOptions options = {});

  //! Commits version 0 (protocol reader 1 / writer 2, or 3/7 with 'timestampNtz' when the
  //! schema uses it). kAlreadyExists when the table exists.
  Result<Snapshot> Create(const CreateTableOptions& options);

  Result<Snapshot> Latest() const { return LoadSnapshot(*store_); }

  //! Blind append of data files. With `txn`, the append is idempotent per (appId, version): if
  //! the table already holds a txn version >= txn.version for that appId, nothing is written and
  //! `already_committed` is set.
  Result<CommitResult> Append(const Snapshot& read, std::vector<AddFile> files,
                              std::optional<Txn> txn = std::nullopt) const;
  //! Idem with several txns (distinct appIds) in one commit: `already_committed` when ANY of
  //! them was committed before (then nothing is written).
  Result<CommitResult> Append(const Snapshot& read, std::vector<AddFile> files,
                              std::vector<Txn> txns) const;

  //! Commits a transaction based on snapshot `read`. kAborted on a conflict (the message names
  //! the winning version and why), kFailedPrecondition for appendOnly violations,
  //! kUnimplemented for tables whose writer features Weft does not support.
  Result<CommitResult> Commit(const Snapshot& read, const Transaction& transaction) const;

 private:
  Status Validate(const Snapshot& read, const Transaction& transaction) const;
  Status MaybeCheckpoint(int64_t version) const;

  ObjectStore* store_;
  const Clock* clock_;
  TableOptions options_;
};

//! A random (version 4) UUID, lower-case text.
std::string RandomUuid();

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_TABLE_H_

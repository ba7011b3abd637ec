#include "lake/delta/table.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <utility>

#include "lake/delta/checkpoint.h"
#include "lake/delta/log_files.h"

namespace weft::lake::delta {

namespace {

int64_t NowMs(const Clock& clock) {
  return UnixMicros(clock.Now()) / 1000;
}

bool IsConfigTrue(const std::map<std::string, std::string>& config, const std::string& key) {
  auto it = config.find(key);
  return it != config.end() &&
         (it->second == "true" || it->second == "TRUE" || it->second == "True");
}

// Decides whether `ours` may still commit after `winner` took `winner_version`. Sets
// *already_committed when the winner recorded our txn (same appId, version >= ours).
Status CheckConflict(const Transaction& ours, const std::vector<Action>& winner,
                     int64_t winner_version, bool* already_committed) {
  const std::string at = "concurrent commit at version " + std::to_string(winner_version);
  std::map<std::string, int64_t> our_txns;
  std::set<std::string> our_domains;
  bool we_change_metadata = false;
  for (const Action& a : ours.actions) {
    if (const auto* t = std::get_if<Txn>(&a)) our_txns[t->app_id] = t->version;
    if (const auto* d = std::get_if<DomainMetadata>(&a)) our_domains.insert(d->domain);
    if (std::holds_alternative<Metadata>(a) || std::holds_alternative<Protocol>(a)) {
      we_change_metadata = true;
    }
  }
  for (const Action& a : winner) {
    if (std::holds_alternative<Protocol>(a)) {
      return Status(StatusCode::kAborted,
                    at + " changed the protocol; re-read the table and retry");
    }
    if (std::holds_alternative<Metadata>(a)) {
      return Status(StatusCode::kAborted,
                    at + " changed the table metadata (schema, partitioning or "
                         "properties); re-read the table and retry");
    }
    if (const auto* t = std::get_if<Txn>(&a)) {
      auto it = our_txns.find(t->app_id);
      if (it != our_txns.end()) {
        if (t->version >= it->second) {
          *already_committed = true;
          return Status::Ok();
        }
        return Status(StatusCode::kAborted, at + " committed txn version " +
                                                std::to_string(t->version) + " for appId '" +
                                                t->app_id + "' concurrently");
      }
    }
    if (const auto* d = std::get_if<DomainMetadata>(&a); d && our_domains.contains(d->domain)) {
      return Status(StatusCode::kAborted, at + " changed metadata domain '" + d->domain + "'");
    }
    // Write-serializable, as Delta's default isolation: files a winner only added (a blind
    // append, or new files of any commit) do not invalidate what we read or replace, so a
    // compaction or delete may go after them. A winner that removed files may have removed what
    // we read or replace (we do not track read sets, so any remove counts).
    if (std::holds_alternative<RemoveFile>(a) && !ours.blind_append) {
      return Status(StatusCode::kAborted,
                    at + " removed files that this transaction may have read or replaces; "
                         "re-read the table and retry");
    }
    if (we_change_metadata &&
        (std::holds_alternative<AddFile>(a) || std::holds_alternative<RemoveFile>(a))) {
      return Status(StatusCode::kAborted,
                    at + " changed data while this transaction changes the table metadata; "
                         "re-read the table and retry");
    }
  }
  return Status::Ok();
}

Protocol ProtocolFor(const Schema& schema) {
  Protocol p;
  if (schema.Uses(DataType::Kind::kTimestampNtz)) {
    p.min_reader_version = 3;
    p.min_writer_version = 7;
    p.reader_features = std::vector<std::string>{"timestampNtz"};
    p.writer_features = std::vector<std::string>{"timestampNtz", "appendOnly", "invariants"};
  }
  return p;
}

}  // namespace

std::string RandomUuid() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = gen();
  uint64_t lo = gen();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

DeltaTable::DeltaTable(ObjectStore* store, const Clock* clock, TableOptions options)
    : store_(store), clock_(clock), options_(options) {}

Result<Snapshot> DeltaTable::Create(const CreateTableOptions& options) {
  if (options.schema.fields.empty()) return InvalidArgumentError("create table: empty schema");
  std::set<std::string> seen;
  for (const StructField& f : options.schema.fields) {
    std::string lower = f.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen.insert(lower).second) {
      return InvalidArgumentError("create table: duplicate column '" + f.name +
                                  "' (names are case-insensitive)");
    }
  }
  for (const std::string& pc : options.partition_columns) {
    const StructField* f = options.schema.Find(pc);
    if (f == nullptr) {
      return InvalidArgumentError("create table: partition column '" + pc +
                                  "' is not in the schema");
    }
    if (!f->type->IsPrimitive() || f->type->kind == DataType::Kind::kVariant ||
        f->type->kind == DataType::Kind::kVoid) {
      return InvalidArgumentError("create table: partition column '" + pc + "' has type " +
                                  f->type->Name() + ", which cannot be partitioned on");
    }
  }
  Metadata m;
  m.id = options.id.empty() ? RandomUuid() : options.id;
  m.name = options.name;
  m.description = options.description;
  m.schema_string = SerializeSchema(options.schema);
  m.partition_columns = options.partition_columns;
  m.configuration = options.configuration;
  m.created_time = NowMs(*clock_);
  Protocol p = ProtocolFor(options.schema);
  WEFT_RETURN_IF_ERROR(CheckWriteSupported(p, m, options.schema));

  std::map<std::string, std::string> params;
  params["mode"] = "ErrorIfExists";
  std::string partition_by = "[";
  for (size_t i = 0; i < options.partition_columns.size(); ++i) {
    partition_by += (i ? ",\"" : "\"") + options.partition_columns[i] + "\"";
  }
  params["partitionBy"] = partition_by + "]";
  std::vector<Action> actions;
  actions.emplace_back(MakeCommitInfo(NowMs(*clock_), "CREATE TABLE", params, std::nullopt, true));
  actions.emplace_back(p);
  actions.emplace_back(m);
  Status st = store_->PutIfAbsent(CommitKey(0), SerializeCommit(actions));
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a Delta table already exists at " + store_->Describe(kLogDir));
  }
  WEFT_RETURN_IF_ERROR(st);
  return LoadSnapshot(*store_, {.version = 0});
}

Result<CommitResult> DeltaTable::Append(const Snapshot& read, std::vector<AddFile> files,
                                        std::optional<Txn> txn) const {
  std::vector<Txn> txns;
  if (txn) txns.push_back(std::move(*txn));
  return Append(read, std::move(files), std::move(txns));
}

Result<CommitResult> DeltaTable::Append(const Snapshot& read, std::vector<AddFile> files,
                                        std::vector<Txn> txns) const {
  Transaction t;
  t.operation = "WRITE";
  t.operation_parameters["mode"] = "Append";
  t.blind_append = true;
  const int64_t now = NowMs(*clock_);
  for (AddFile& f : files) {
    f.data_change = true;
    if (f.modification_time == 0) f.modification_time = now;
    t.actions.emplace_back(std::move(f));
  }
  for (Txn& txn : txns) {
    if (!txn.last_updated) txn.last_updated = NowMs(*clock_);
    t.actions.emplace_back(std::move(txn));
  }
  return Commit(read, t);
}

Status DeltaTable::Validate(const Snapshot& read, const Transaction& transaction) const {
  Protocol protocol = read.protocol();
  Metadata metadata = read.metadata();
  for (const Action& a : transaction.actions) {
    if (const auto* p = std::get_if<Protocol>(&a)) protocol = *p;
    if (const auto* m = std::get_if<Metadata>(&a)) metadata = *m;
    if (std::holds_alternative<CommitInfo>(a) || std::holds_alternative<CheckpointMetadata>(a) ||
        std::holds_alternative<Sidecar>(a)) {
      return InvalidArgumentError(std::string("commit: a transaction may not carry a '") +
                                  std::string(ActionName(a)) + "' action");
    }
  }
  Result<Schema> schema = ParseSchema(metadata.schema_string);
  if (!schema.ok()) return schema.status().WithContext("commit: metaData");
  WEFT_RETURN_IF_ERROR(CheckWriteSupported(protocol, metadata, *schema));
  const bool append_only = IsConfigTrue(metadata.configuration, "delta.appendOnly");
  std::set<std::string> paths;
  std::set<std::string> app_ids;
  for (const Action& a : transaction.actions) {
    if (const auto* add = std::get_if<AddFile>(&a)) {
      if (add->path.empty()) return InvalidArgumentError("commit: add with an empty path");
      if (!paths.insert("add:" + add->path).second) {
        return InvalidArgumentError("commit: file '" + add->path + "' is added twice");
      }
      if (add->partition_values.size() != metadata.partition_columns.size()) {
        return InvalidArgumentError(
            "commit: add '" + add->path + "' has " + std::to_string(add->partition_values.size()) +
            " partition values; the table has " +
            std::to_string(metadata.partition_columns.size()) + " partition columns");
      }
      for (const std::string& pc : metadata.partition_columns) {
        auto it = add->partition_values.find(pc);
        if (it == add->partition_values.end()) {
          return InvalidArgumentError("commit: add '" + add->path +
                                      "' has no value for partition column '" + pc + "'");
        }
        const StructField* f = schema->Find(pc);
        Result<PartitionValue> v = ParsePartitionValue(*f->type, it->second);
        if (!v.ok()) return v.status().WithContext("commit: add '" + add->path + "'");
      }
      if (add->stats) {
        Result<FileStats> stats = ParseFileStats(*add->stats);
        if (!stats.ok()) return stats.status().WithContext("commit: add '" + add->path + "'");
      }
    } else if (const auto* rm = std::get_if<RemoveFile>(&a)) {
      if (!paths.insert("remove:" + rm->path).second) {
        return InvalidArgumentError("commit: file '" + rm->path + "' is removed twice");
      }
      if (append_only && rm->data_change) {
        return FailedPreconditionError(
            "commit: table is append-only (delta.appendOnly=true); "
            "removing '" +
            rm->path + "' is not allowed");
      }
    } else if (const auto* t = std::get_if<Txn>(&a)) {
      if (!app_ids.insert(t->app_id).second) {
        return InvalidArgumentError("commit: two txn actions for appId '" + t->app_id + "'");
      }
    }
  }
  return Status::Ok();
}

Result<CommitResult> DeltaTable::Commit(const Snapshot& read,
                                        const Transaction& transaction) const {
  WEFT_RETURN_IF_ERROR(Validate(read, transaction));
  CommitResult result;
  // Idempotence: a txn the table already holds means this batch was committed before.
  for (const Action& a : transaction.actions) {
    if (const auto* t = std::get_if<Txn>(&a)) {
      std::optional<int64_t> committed = read.TxnVersion(t->app_id);
      if (committed && *committed >= t->version) {
        result.version = read.version();
        result.already_committed = true;
        return result;
      }
    }
  }
  Transaction ours = transaction;
  // A transaction that changes metadata, or removes, is not a blind append whatever it says.
  for (const Action& a : ours.actions) {
    if (!std::holds_alternative<AddFile>(a) && !std::holds_alternative<Txn>(a) &&
        !std::holds_alternative<DomainMetadata>(a)) {
      ours.blind_append = false;
    }
  }
  int64_t version = read.version() + 1;
  for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
    std::vector<Action> actions;
    actions.reserve(ours.actions.size() + 1);
    actions.emplace_back(MakeCommitInfo(NowMs(*clock_), ours.operation, ours.operation_parameters,
                                        read.version(), ours.blind_append));
    for (const Action& a : ours.actions) actions.push_back(a);
    result.attempts = attempt;
    Status put = store_->PutIfAbsent(CommitKey(version), SerializeCommit(actions));
    if (put.ok()) {
      result.version = version;
      if (options_.checkpoint_interval > 0 && version % options_.checkpoint_interval == 0) {
        result.checkpoint_status = MaybeCheckpoint(version);
      }
      return result;
    }
    if (put.code() != StatusCode::kAlreadyExists) return put;
    // Lost the race for `version`: read the winner and decide whether we may go after it.
    Result<std::string> text = store_->Get(CommitKey(version));
    if (!text.ok()) return text.status().WithContext("commit: reading the winning commit");
    WEFT_ASSIGN_OR_RETURN(std::vector<Action> winner,
                          ParseCommit(*text, store_->Describe(CommitKey(version))));
    bool already = false;
    WEFT_RETURN_IF_ERROR(CheckConflict(ours, winner, version, &already));
    if (already) {
      result.version = version;
      result.already_committed = true;
      return result;
    }
    ++version;
  }
  return Status(StatusCode::kAborted,
                "commit: gave up after " + std::to_string(options_.max_commit_attempts) +
                    " attempts; the table at " + store_->Describe(kLogDir) + " is too contended");
}

Status DeltaTable::MaybeCheckpoint(int64_t version) const {
  Result<Snapshot> snapshot = LoadSnapshot(*store_, {.version = version});
  if (!snapshot.ok()) return snapshot.status();
  return WriteCheckpoint(*store_, *snapshot);
}

}  // namespace weft::lake::delta

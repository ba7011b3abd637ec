#include "lake/delta/snapshot.h"

#include <algorithm>
#include <utility>

#include "lake/delta/checkpoint.h"
#include "lake/delta/json_util.h"

namespace weft::lake::delta {

namespace {

// Reader features whose reader requirements Weft meets when building snapshots:
//  - columnMapping: 'name' mode only (checked separately against the table property);
//  - timestampNtz: a type; partition values and stats parse;
//  - v2Checkpoint: UUID-named/JSON checkpoints and sidecars are read (or the commits replayed);
//  - vacuumProtocolCheck: nothing for readers to do.
constexpr std::string_view kSupportedReaderFeatures[] = {"columnMapping", "timestampNtz",
                                                         "v2Checkpoint", "vacuumProtocolCheck"};

// Writer features Weft can honour when it appends, provided the feature is not active in a way
// that needs more (checked in CheckWriteSupported).
constexpr std::string_view kSupportedWriterFeatures[] = {
    "appendOnly",       "invariants",      "checkConstraints",    "changeDataFeed",
    "generatedColumns", "identityColumns", "columnMapping",       "timestampNtz",
    "domainMetadata",   "v2Checkpoint",    "vacuumProtocolCheck", "inCommitTimestamp",
    "rowTracking",      "deletionVectors"};

bool IsIn(std::string_view name, const auto& list) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool ConfigTrue(const Metadata& m, const std::string& key) {
  auto it = m.configuration.find(key);
  if (it == m.configuration.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

bool ColumnMappingHonoured(const Protocol& p) {
  return p.min_reader_version == 2 ||
         (p.min_reader_version >= 3 && p.HasReaderFeature("columnMapping"));
}

Result<ColumnMappingMode> MappingMode(const Protocol& protocol, const Metadata& metadata) {
  if (!ColumnMappingHonoured(protocol)) return ColumnMappingMode::kNone;
  auto it = metadata.configuration.find("delta.columnMapping.mode");
  if (it == metadata.configuration.end() || it->second == "none") return ColumnMappingMode::kNone;
  if (it->second == "name") return ColumnMappingMode::kName;
  if (it->second == "id") return ColumnMappingMode::kId;
  return InvalidArgumentError("metaData.configuration: unknown delta.columnMapping.mode '" +
                              it->second + "'");
}

bool AnyFieldMetadata(const std::vector<StructField>& fields, std::string_view prefix) {
  for (const StructField& f : fields) {
    for (const auto& [k, v] : f.metadata) {
      if (k.starts_with(prefix)) return true;
    }
    const DataType* t = f.type.get();
    while (t != nullptr && (t->kind == DataType::Kind::kArray || t->kind == DataType::Kind::kMap)) {
      t = t->kind == DataType::Kind::kArray ? t->element.get() : t->value.get();
    }
    if (t != nullptr && t->kind == DataType::Kind::kStruct && AnyFieldMetadata(t->fields, prefix)) {
      return true;
    }
  }
  return false;
}

std::string FileKey(const std::string& path) {
  Result<std::string> decoded = DecodeActionPath(path);
  return decoded.ok() ? *decoded : path;
}

}  // namespace

// Accumulates actions in log order and reconciles them (PROTOCOL.md "Action Reconciliation").
class SnapshotBuilder {
 public:
  void Apply(Action&& action) {
    std::visit([this](auto&& a) { ApplyOne(std::move(a)); }, std::move(action));
  }

  explicit SnapshotBuilder(bool deletion_vectors_applied_by_caller)
      : deletion_vectors_ok_(deletion_vectors_applied_by_caller) {}

  Result<Snapshot> Finish(int64_t version, int64_t timestamp_ms,
                          std::optional<CommitInfo> commit_info,
                          std::optional<int64_t> checkpoint_version) {
    const std::string at = "at version " + std::to_string(version);
    if (!protocol_) return DataLossError("no protocol action in the log " + at);
    if (!metadata_) return DataLossError("no metaData action in the log " + at);
    WEFT_RETURN_IF_ERROR(CheckReadSupported(*protocol_, *metadata_, deletion_vectors_ok_));
    if (!deletion_vectors_ok_) {
      // A deletion vector without the reader feature is a broken table; refuse it all the same.
      for (const auto& [path, add] : adds_) {
        if (add.deletion_vector) {
          return UnimplementedError(
              "add '" + add.path + "' " + at +
              " has a deletion vector "
              "(reader feature 'deletionVectors' not applied by this reader)");
        }
      }
    }
    Snapshot s;
    s.version_ = version;
    s.timestamp_ms_ = timestamp_ms;
    s.protocol_ = std::move(*protocol_);
    s.metadata_ = std::move(*metadata_);
    Result<Schema> schema = ParseSchema(s.metadata_.schema_string);
    if (!schema.ok()) return DataLossError("metaData " + at + ": " + schema.status().message());
    s.schema_ = std::move(*schema);
    WEFT_ASSIGN_OR_RETURN(s.column_mapping_mode_, MappingMode(s.protocol_, s.metadata_));
    for (const std::string& pc : s.metadata_.partition_columns) {
      if (s.schema_.Find(pc) == nullptr) {
        return DataLossError("metaData " + at + ": partition column '" + pc +
                             "' is not in the schema");
      }
    }
    s.files_.reserve(adds_.size());
    for (auto& [key, add] : adds_) s.files_.push_back(std::move(add));
    for (auto& [key, rm] : removes_) s.tombstones_.push_back(std::move(rm));
    s.txns_ = std::move(txns_);
    s.domains_ = std::move(domains_);
    s.commit_info_ = std::move(commit_info);
    s.checkpoint_version_ = checkpoint_version;
    // Every live file must carry a parseable value for every partition column: a snapshot that
    // would hand out wrong partition values is refused here, naming the file.
    for (const AddFile& f : s.files_) {
      Result<std::map<std::string, PartitionValue>> values = s.LogicalPartitionValues(f);
      if (!values.ok())
        return DataLossError("add '" + f.path + "' " + at + ": " + values.status().message());
    }
    return s;
  }

 private:
  void ApplyOne(Protocol&& p) { protocol_ = std::move(p); }
  void ApplyOne(Metadata&& m) { metadata_ = std::move(m); }
  void ApplyOne(AddFile&& a) {
    std::string path = FileKey(a.path);
    std::string dv = a.deletion_vector ? a.deletion_vector->UniqueId() : "";
    removes_.erase({path, dv});
    adds_[path] = std::move(a);
  }
  void ApplyOne(RemoveFile&& r) {
    std::string path = FileKey(r.path);
    std::string dv = r.deletion_vector ? r.deletion_vector->UniqueId() : "";
    auto it = adds_.find(path);
    if (it != adds_.end()) {
      std::string live_dv =
          it->second.deletion_vector ? it->second.deletion_vector->UniqueId() : "";
      if (live_dv == dv) adds_.erase(it);
    }
    removes_[{path, dv}] = std::move(r);
  }
  void ApplyOne(Txn&& t) { txns_[t.app_id] = std::move(t); }
  void ApplyOne(DomainMetadata&& d) {
    if (d.removed) {
      domains_.erase(d.domain);
    } else {
      domains_[d.domain] = std::move(d);
    }
  }
  // Not part of the state: commitInfo (taken from the snapshot's own commit), change data files,
  // and the v2-checkpoint-only actions (they do not participate in log replay).
  void ApplyOne(CommitInfo&&) {}
  void ApplyOne(AddCdcFile&&) {}
  void ApplyOne(CheckpointMetadata&&) {}
  void ApplyOne(Sidecar&&) {}

  bool deletion_vectors_ok_;
  std::optional<Protocol> protocol_;
  std::optional<Metadata> metadata_;
  std::map<std::string, AddFile> adds_;  // by decoded path: one logical file per path
  std::map<std::pair<std::string, std::string>, RemoveFile> removes_;  // by (path, dv id)
  std::map<std::string, Txn> txns_;
  std::map<std::string, DomainMetadata> domains_;
};

std::optional<int64_t> Snapshot::TxnVersion(std::string_view app_id) const {
  auto it = txns_.find(std::string(app_id));
  if (it == txns_.end()) return std::nullopt;
  return it->second.version;
}

Result<std::string> Snapshot::PhysicalColumnName(std::string_view display_name) const {
  const StructField* f = schema_.Find(display_name);
  if (f == nullptr)
    return NotFoundError("no column '" + std::string(display_name) + "' in the schema");
  if (column_mapping_mode_ == ColumnMappingMode::kNone) return f->name;
  return f->PhysicalName();
}

Result<std::map<std::string, PartitionValue>> Snapshot::LogicalPartitionValues(
    const AddFile& file) const {
  std::map<std::string, PartitionValue> out;
  for (const std::string& pc : metadata_.partition_columns) {
    const StructField* field = schema_.Find(pc);
    if (field == nullptr)
      return DataLossError("partition column '" + pc + "' is not in the schema");
    std::string physical =
        column_mapping_mode_ == ColumnMappingMode::kNone ? field->name : field->PhysicalName();
    auto it = file.partition_values.find(physical);
    if (it == file.partition_values.end()) {
      return DataLossError("no value for partition column '" + pc + "'" +
                           (physical != pc ? " (physical name '" + physical + "')" : ""));
    }
    Result<PartitionValue> v = ParsePartitionValue(*field->type, it->second);
    if (!v.ok()) return v.status().WithContext("partition column '" + pc + "'");
    out.emplace(pc, std::move(*v));
  }
  return out;
}

Result<std::optional<int64_t>> Snapshot::NumRecords(const AddFile& file) const {
  if (!file.stats) return std::optional<int64_t>();
  Result<FileStats> stats = ParseFileStats(*file.stats);
  if (!stats.ok()) return stats.status().WithContext("add '" + file.path + "'");
  return stats->num_records;
}

Status CheckReadSupported(const Protocol& protocol, const Metadata& metadata,
                          bool deletion_vectors_applied_by_caller) {
  if (protocol.min_reader_version > 3) {
    return UnimplementedError("table needs Delta reader version " +
                              std::to_string(protocol.min_reader_version) +
                              "; Weft reads versions 1 to 3");
  }
  if (protocol.min_reader_version == 3) {
    if (!protocol.reader_features) {
      return DataLossError("protocol: reader version 3 without readerFeatures");
    }
    for (const std::string& f : *protocol.reader_features) {
      if (f == "deletionVectors") {
        if (deletion_vectors_applied_by_caller) continue;
        return UnimplementedError(
            "table needs reader feature 'deletionVectors', which this reader does not apply "
            "(see SnapshotOptions::deletion_vectors_applied_by_caller)");
      }
      if (!IsIn(f, kSupportedReaderFeatures)) {
        return UnimplementedError("table needs reader feature '" + f +
                                  "', which Weft does not support");
      }
    }
  }
  WEFT_ASSIGN_OR_RETURN(ColumnMappingMode mode, MappingMode(protocol, metadata));
  if (mode == ColumnMappingMode::kId) {
    return UnimplementedError(
        "table needs reader feature 'columnMapping' in mode 'id', which Weft does not support "
        "(mode 'name' is supported)");
  }
  if (metadata.format.provider != "parquet") {
    return UnimplementedError("table data format '" + metadata.format.provider +
                              "' is not supported (only parquet)");
  }
  return Status::Ok();
}

Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata,
                           const Schema& schema) {
  WEFT_RETURN_IF_ERROR(CheckReadSupported(protocol, metadata));
  const int w = protocol.min_writer_version;
  if (w > 7) {
    return UnimplementedError("table needs Delta writer version " + std::to_string(w) +
                              "; Weft writes versions 1 to 7");
  }
  auto feature = [&](std::string_view name, int implied_from) {
    if (w == 7) return protocol.HasWriterFeature(name);
    return w >= implied_from;
  };
  if (w == 7) {
    if (!protocol.writer_features)
      return DataLossError("protocol: writer version 7 without writerFeatures");
    for (const std::string& f : *protocol.writer_features) {
      if (!IsIn(f, kSupportedWriterFeatures)) {
        return UnimplementedError("table needs writer feature '" + f +
                                  "', which Weft does not support");
      }
    }
  }
  // Supported only while they ask nothing of an appender; otherwise refused by name.
  if (feature("invariants", 2) && AnyFieldMetadata(schema.fields, "delta.invariants")) {
    return UnimplementedError(
        "table has column invariants (writer feature 'invariants'): Weft "
        "cannot evaluate them, so it does not write this table");
  }
  if (feature("checkConstraints", 3)) {
    for (const auto& [k, v] : metadata.configuration) {
      if (k.starts_with("delta.constraints.")) {
        return UnimplementedError("table has CHECK constraint '" + k +
                                  "' (writer feature 'checkConstraints'): Weft cannot evaluate it");
      }
    }
  }
  if (feature("changeDataFeed", 4) && ConfigTrue(metadata, "delta.enableChangeDataFeed")) {
    return UnimplementedError(
        "table has writer feature 'changeDataFeed' enabled; Weft does not "
        "write change data files");
  }
  if (feature("generatedColumns", 4) &&
      AnyFieldMetadata(schema.fields, "delta.generationExpression")) {
    return UnimplementedError("table has generated columns (writer feature 'generatedColumns')");
  }
  if (feature("columnMapping", 5)) {
    WEFT_ASSIGN_OR_RETURN(ColumnMappingMode mode, MappingMode(protocol, metadata));
    if (mode != ColumnMappingMode::kNone) {
      return UnimplementedError(
          "table uses writer feature 'columnMapping'; Weft does not write "
          "column-mapped tables");
    }
  }
  if (feature("identityColumns", 6) && AnyFieldMetadata(schema.fields, "delta.identity.")) {
    return UnimplementedError("table has identity columns (writer feature 'identityColumns')");
  }
  if (w == 7 && protocol.HasWriterFeature("inCommitTimestamp") &&
      ConfigTrue(metadata, "delta.enableInCommitTimestamps")) {
    return UnimplementedError("table has writer feature 'inCommitTimestamp' enabled");
  }
  if (w == 7 && protocol.HasWriterFeature("rowTracking") &&
      !ConfigTrue(metadata, "delta.rowTrackingSuspended")) {
    return UnimplementedError(
        "table has writer feature 'rowTracking'; Weft does not assign row ids");
  }
  if (w == 7 && protocol.HasWriterFeature("deletionVectors")) {
    return UnimplementedError("table has writer feature 'deletionVectors'");
  }
  return Status::Ok();
}

Result<std::vector<CommitTimestamp>> ListCommitTimestamps(ObjectStore& store,
                                                          const LogListing& listing) {
  std::vector<CommitTimestamp> out;
  for (const LogFile& c : listing.commits) {
    int64_t ts = c.modified_ms;
    bool in_commit = false;
    WEFT_ASSIGN_OR_RETURN(std::string text, store.Get(c.key));
    // With in-commit timestamps, commitInfo is the first action of the commit.
    std::string_view first = std::string_view(text).substr(0, text.find('\n'));
    if (first.find("inCommitTimestamp") != std::string_view::npos) {
      Result<std::optional<Action>> a = ParseActionLine(first);
      if (!a.ok()) return a.status().WithContext(store.Describe(c.key) + " line 1");
      if (a->has_value()) {
        if (const auto* info = std::get_if<CommitInfo>(&**a); info && info->in_commit_timestamp) {
          ts = *info->in_commit_timestamp;
          in_commit = true;
        }
      }
    }
    if (!in_commit && !out.empty() && ts <= out.back().timestamp_ms)
      ts = out.back().timestamp_ms + 1;
    out.push_back({c.version, ts, in_commit});
  }
  return out;
}

namespace {

Status ReplayCommits(ObjectStore& store, const LogListing& listing, int64_t from, int64_t to,
                     SnapshotBuilder* builder, std::optional<CommitInfo>* last_info) {
  for (int64_t v = from; v <= to; ++v) {
    const LogFile* c = listing.FindCommit(v);
    if (c == nullptr) return DataLossError("commit " + CommitKey(v) + " is missing");
    Result<std::string> text = store.Get(c->key);
    if (!text.ok()) return text.status();
    WEFT_ASSIGN_OR_RETURN(std::vector<Action> actions, ParseCommit(*text, store.Describe(c->key)));
    if (v == to) last_info->reset();
    for (Action& a : actions) {
      if (v == to) {
        if (const auto* info = std::get_if<CommitInfo>(&a)) *last_info = *info;
      }
      builder->Apply(std::move(a));
    }
  }
  return Status::Ok();
}

bool CommitsPresent(const LogListing& listing, int64_t from, int64_t to) {
  for (int64_t v = from; v <= to; ++v) {
    if (listing.FindCommit(v) == nullptr) return false;
  }
  return true;
}

}  // namespace

Result<Snapshot> LoadSnapshot(ObjectStore& store, const SnapshotOptions& options) {
  WEFT_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  return LoadSnapshot(store, listing, options);
}

Result<Snapshot> LoadSnapshot(ObjectStore& store, const LogListing& listing,
                              const SnapshotOptions& options) {
  std::optional<int64_t> latest = listing.LatestVersion();
  if (!latest)
    return NotFoundError("no Delta table at " + store.Describe(kLogDir) + " (empty log)");
  int64_t version = *latest;
  if (options.version && options.timestamp_ms) {
    return InvalidArgumentError("time travel: give a version or a timestamp, not both");
  }
  if (options.version) {
    if (*options.version < 0 || *options.version > *latest) {
      return NotFoundError("version " + std::to_string(*options.version) +
                           " is not in the log of " + store.Describe(kLogDir) + " (latest is " +
                           std::to_string(*latest) + ")");
    }
    version = *options.version;
  } else if (options.timestamp_ms) {
    WEFT_ASSIGN_OR_RETURN(std::vector<CommitTimestamp> times, ListCommitTimestamps(store, listing));
    // With in-commit timestamps enabled from version e on (the trailing run of commits that
    // carry one), a time at or after e's timestamp is searched among versions >= e only, an
    // earlier time among versions < e (PROTOCOL.md "In-Commit Timestamps"): file times of older
    // commits are not comparable with in-commit timestamps.
    size_t enablement = times.size();
    while (enablement > 0 && times[enablement - 1].in_commit) --enablement;
    size_t begin = 0;
    size_t end = times.size();
    if (enablement < times.size()) {
      if (*options.timestamp_ms >= times[enablement].timestamp_ms) {
        begin = enablement;
      } else {
        end = enablement;
      }
    }
    std::optional<int64_t> found;
    for (size_t i = begin; i < end; ++i) {
      if (times[i].timestamp_ms <= *options.timestamp_ms) found = times[i].version;
    }
    if (!found) {
      return NotFoundError(
          "no commit at or before timestamp " + std::to_string(*options.timestamp_ms) + " ms in " +
          store.Describe(kLogDir) +
          (times.empty() ? std::string()
                         : " (earliest commit " + std::to_string(times[0].version) + " at " +
                               std::to_string(times[0].timestamp_ms) + ")"));
    }
    version = *found;
  }

  const LogFile* own_commit = listing.FindCommit(version);
  int64_t timestamp = 0;
  Status first_error;  // the newest checkpoint's failure, reported if nothing else works
  // 1. The newest readable checkpoint at or before the version, then the commits after it.
  if (!options.ignore_checkpoints) {
    for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
      if (it->version > version) continue;
      if (!CommitsPresent(listing, it->version + 1, version)) break;  // older ones need them too
      Result<std::vector<Action>> actions = ReadCheckpoint(store, *it);
      if (!actions.ok()) {
        if (first_error.ok()) first_error = actions.status();
        continue;
      }
      SnapshotBuilder builder(options.deletion_vectors_applied_by_caller);
      for (Action& a : *actions) builder.Apply(std::move(a));
      std::optional<CommitInfo> info;
      WEFT_RETURN_IF_ERROR(
          ReplayCommits(store, listing, it->version + 1, version, &builder, &info));
      if (it->version == version && own_commit != nullptr) {
        // commitInfo is not in checkpoints: read it from the commit file of this version.
        Result<std::string> text = store.Get(own_commit->key);
        if (text.ok()) {
          Result<std::vector<Action>> own = ParseCommit(*text, store.Describe(own_commit->key));
          if (own.ok()) {
            for (const Action& a : *own) {
              if (const auto* ci = std::get_if<CommitInfo>(&a)) info = *ci;
            }
          }
        }
      }
      timestamp = own_commit != nullptr ? own_commit->modified_ms : it->files.back().modified_ms;
      if (info && info->in_commit_timestamp) timestamp = *info->in_commit_timestamp;
      return builder.Finish(version, timestamp, std::move(info), it->version);
    }
  }
  // 2. Every commit from version 0.
  if (CommitsPresent(listing, 0, version)) {
    SnapshotBuilder builder(options.deletion_vectors_applied_by_caller);
    std::optional<CommitInfo> info;
    WEFT_RETURN_IF_ERROR(ReplayCommits(store, listing, 0, version, &builder, &info));
    timestamp = own_commit->modified_ms;
    if (info && info->in_commit_timestamp) timestamp = *info->in_commit_timestamp;
    return builder.Finish(version, timestamp, std::move(info), std::nullopt);
  }
  if (!first_error.ok()) return first_error;
  // Before the oldest checkpoint of a log whose first commits were removed (metadata cleanup),
  // versions are gone for good: that is "not found", not a damaged log.
  std::optional<int64_t> earliest;
  if (listing.FindCommit(0) != nullptr) earliest = 0;
  if (!listing.checkpoints.empty() && !earliest) earliest = listing.checkpoints.front().version;
  if (!earliest || version < *earliest) {
    return NotFoundError("version " + std::to_string(version) + " of " + store.Describe(kLogDir) +
                         " can no longer be rebuilt: the log's first commits were removed by "
                         "metadata cleanup" +
                         (earliest ? "; the earliest version is " + std::to_string(*earliest)
                                   : std::string("; there is no checkpoint to start from")));
  }
  int64_t first_missing = 0;
  while (first_missing <= version && listing.FindCommit(first_missing) != nullptr) ++first_missing;
  return DataLossError("cannot rebuild version " + std::to_string(version) + " of " +
                       store.Describe(kLogDir) + ": commit " + CommitKey(first_missing) +
                       " is missing and no usable checkpoint covers it");
}

}  // namespace weft::lake::delta

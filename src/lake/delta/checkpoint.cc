#include "lake/delta/checkpoint.h"

#include <charconv>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include "lake/delta/json_util.h"
#include "lake/delta/object_store_source.h"
#include "lake/delta/snapshot.h"
#include "lake/parquet/reader.h"
#include "lake/parquet/source.h"
#include "lake/parquet/writer.h"

namespace weft::lake::delta {

namespace {

std::string SidecarKey(const std::string& path) {
  // Sidecars live in _delta_log/_sidecars; the action stores the file name (URI-encoded), or
  // rarely a longer path whose last component is the name.
  std::string name = path;
  size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  Result<std::string> decoded = DecodeActionPath(name);
  return std::string(kLogDir) + "_sidecars/" + (decoded.ok() ? *decoded : name);
}

// A checkpoint row's action as the JSON object a commit line would hold, so that checkpoints
// and commits go through the same parsers and checks. Maps become objects, lists arrays.
json_util::Json ValueToJson(const parquet::Value& v) {
  using Kind = parquet::Value::Kind;
  switch (v.kind) {
    case Kind::kNull: return nullptr;
    case Kind::kBool: return v.bool_value;
    case Kind::kInt32:
    case Kind::kInt64: return v.int_value;
    case Kind::kFloat:
    case Kind::kDouble: return v.double_value;
    case Kind::kString:
    case Kind::kBinary: return v.bytes;
    case Kind::kList: {
      json_util::Json a = json_util::Json::array();
      for (const parquet::Value& item : v.items) a.push_back(ValueToJson(item));
      return a;
    }
    case Kind::kStruct: {
      json_util::Json o = json_util::Json::object();
      for (size_t i = 0; i < v.items.size() && i < v.names.size(); ++i) {
        o[v.names[i]] = ValueToJson(v.items[i]);
      }
      return o;
    }
    case Kind::kMap: {
      json_util::Json o = json_util::Json::object();
      for (const parquet::Value& entry : v.items) {
        const parquet::Value* k = entry.Field("key");
        const parquet::Value* val = entry.Field("value");
        if (k == nullptr || k->is_null()) continue;
        o[k->bytes] = val == nullptr ? json_util::Json(nullptr) : ValueToJson(*val);
      }
      return o;
    }
  }
  return nullptr;
}

constexpr std::string_view kActionColumns[] = {
    "add", "remove",         "metaData",           "protocol",
    "txn", "domainMetadata", "checkpointMetadata", "sidecar"};

Result<std::optional<Action>> RowToAction(const parquet::Value& row) {
  for (std::string_view column : kActionColumns) {
    const parquet::Value* v = row.Field(column);
    if (v == nullptr || v->is_null()) continue;
    json_util::Json body = ValueToJson(*v);
    if (column == "add" && body.is_object()) {
      // stats_parsed (writeStatsAsStruct) stands in for stats when the JSON text is absent.
      auto stats = body.find("stats");
      auto parsed = body.find("stats_parsed");
      if ((stats == body.end() || stats->is_null()) && parsed != body.end() &&
          parsed->is_object()) {
        body["stats"] = json_util::Dump(*parsed);
      }
      body.erase("stats_parsed");
      body.erase("partitionValues_parsed");
    }
    json_util::Json line = json_util::Json::object();
    line[std::string(column)] = std::move(body);
    return ParseActionLine(json_util::Dump(line));
  }
  return std::optional<Action>();
}

}  // namespace

Result<std::vector<Action>> ReadParquetActions(ObjectStore& store, const std::string& key) {
  WEFT_ASSIGN_OR_RETURN(ObjectInfo info, store.Head(key));
  auto source = std::make_unique<ObjectStoreSource>(&store, key, info.size);
  Result<std::unique_ptr<parquet::ParquetReader>> reader =
      parquet::ParquetReader::Open(std::move(source));
  if (!reader.ok()) return reader.status().WithContext("checkpoint " + store.Describe(key));
  std::vector<Action> actions;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    Result<std::vector<parquet::Value>> rows = (*reader)->ReadRows(g);
    if (!rows.ok()) return rows.status().WithContext("checkpoint " + store.Describe(key));
    for (size_t i = 0; i < rows->size(); ++i) {
      Result<std::optional<Action>> action = RowToAction((*rows)[i]);
      if (!action.ok()) {
        return Status(action.status().code(), store.Describe(key) + " row group " +
                                                  std::to_string(g) + " row " + std::to_string(i) +
                                                  ": " + action.status().message());
      }
      if (action->has_value()) actions.push_back(std::move(**action));
    }
  }
  return actions;
}

Result<std::vector<Action>> ReadCheckpoint(ObjectStore& store, const Checkpoint& checkpoint) {
  std::vector<Action> actions;
  for (const LogFile& file : checkpoint.files) {
    if (file.kind == LogFile::Kind::kUuidCheckpoint && file.json) {
      Result<std::string> text = store.Get(file.key);
      if (!text.ok()) return text.status();
      WEFT_ASSIGN_OR_RETURN(std::vector<Action> part, ParseCommit(*text, store.Describe(file.key)));
      for (Action& a : part) actions.push_back(std::move(a));
    } else {
      WEFT_ASSIGN_OR_RETURN(std::vector<Action> part, ReadParquetActions(store, file.key));
      for (Action& a : part) actions.push_back(std::move(a));
    }
  }
  // V2 spec: sidecars hold the file actions; read them in place of the sidecar actions.
  std::vector<Action> resolved;
  for (Action& a : actions) {
    if (const auto* sidecar = std::get_if<Sidecar>(&a)) {
      WEFT_ASSIGN_OR_RETURN(std::vector<Action> part,
                            ReadParquetActions(store, SidecarKey(sidecar->path)));
      for (Action& p : part) resolved.push_back(std::move(p));
    } else {
      resolved.push_back(std::move(a));
    }
  }
  return resolved;
}

int64_t TombstoneRetentionMs(const Metadata& metadata) {
  constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;
  auto it = metadata.configuration.find("delta.deletedFileRetentionDuration");
  if (it == metadata.configuration.end()) return kWeekMs;
  // Spark's calendar interval text: "interval <n> <unit>" (units singular or plural).
  std::string text = it->second;
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text.starts_with("interval ")) text = text.substr(9);
  size_t space = text.find(' ');
  if (space == std::string::npos) return kWeekMs;
  int64_t n = 0;
  std::string_view digits(text.data(), space);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || n < 0) return kWeekMs;
  std::string unit = text.substr(space + 1);
  if (unit.ends_with("s")) unit.pop_back();
  const std::map<std::string, int64_t> units = {{"millisecond", 1},  {"second", 1000},
                                                {"minute", 60'000},  {"hour", 3'600'000},
                                                {"day", 86'400'000}, {"week", kWeekMs}};
  auto u = units.find(unit);
  if (u == units.end() || n > (int64_t{1} << 40)) return kWeekMs;
  return n * u->second;
}

std::vector<Action> CheckpointActions(const Snapshot& snapshot) {
  std::vector<Action> out;
  out.emplace_back(snapshot.protocol());
  out.emplace_back(snapshot.metadata());
  for (const auto& [id, txn] : snapshot.txns()) out.emplace_back(txn);
  for (const auto& [domain, d] : snapshot.domains()) out.emplace_back(d);
  for (const AddFile& f : snapshot.files()) {
    AddFile a = f;
    a.data_change = false;
    out.emplace_back(std::move(a));
  }
  const int64_t expire_before = snapshot.timestamp_ms() - TombstoneRetentionMs(snapshot.metadata());
  for (const RemoveFile& r : snapshot.tombstones()) {
    // Expired tombstones are dropped (VACUUM may already have deleted their files).
    if (r.deletion_timestamp.value_or(0) < expire_before) continue;
    RemoveFile t = r;
    t.data_change = false;
    t.stats.reset();
    t.tags.clear();
    out.emplace_back(std::move(t));
  }
  return out;
}

namespace {

namespace pq = ::weft::lake::parquet;

pq::Field StringMapField(std::string name) {
  return pq::Field::Map(std::move(name), pq::Field::String("key", false),
                        pq::Field::String("value"));
}

pq::Field DvField() {
  return pq::Field::Struct("deletionVector",
                           {pq::Field::String("storageType"), pq::Field::String("pathOrInlineDv"),
                            pq::Field::Int32("offset"), pq::Field::Int32("sizeInBytes"),
                            pq::Field::Int64("cardinality")});
}

// The checkpoint schema of PROTOCOL.md's appendix (V1 spec), without the optional *_parsed
// columns: stats are kept as JSON text (delta.checkpoint.writeStatsAsJson's default).
pq::WriterSchema CheckpointSchema() {
  using pq::Field;
  return pq::WriterSchema({
      Field::Struct("txn",
                    {Field::String("appId"), Field::Int64("version"), Field::Int64("lastUpdated")}),
      Field::Struct(
          "add",
          {Field::String("path"), StringMapField("partitionValues"), Field::Int64("size"),
           Field::Int64("modificationTime"), Field::Boolean("dataChange"), Field::String("stats"),
           StringMapField("tags"), DvField(), Field::Int64("baseRowId"),
           Field::Int64("defaultRowCommitVersion"), Field::String("clusteringProvider")}),
      Field::Struct("remove", {Field::String("path"), Field::Int64("deletionTimestamp"),
                               Field::Boolean("dataChange"), Field::Boolean("extendedFileMetadata"),
                               StringMapField("partitionValues"), Field::Int64("size"), DvField(),
                               Field::Int64("baseRowId"), Field::Int64("defaultRowCommitVersion")}),
      Field::Struct(
          "metaData",
          {Field::String("id"), Field::String("name"), Field::String("description"),
           Field::Struct("format", {Field::String("provider"), StringMapField("options")}),
           Field::String("schemaString"), Field::List("partitionColumns", Field::String("element")),
           StringMapField("configuration"), Field::Int64("createdTime")}),
      Field::Struct("protocol", {Field::Int32("minReaderVersion"), Field::Int32("minWriterVersion"),
                                 Field::List("readerFeatures", Field::String("element")),
                                 Field::List("writerFeatures", Field::String("element"))}),
      Field::Struct("domainMetadata", {Field::String("domain"), Field::String("configuration"),
                                       Field::Boolean("removed")}),
  });
}

pq::Value Str(const std::string& s) {
  return pq::Value::String(s);
}
pq::Value OptStr(const std::optional<std::string>& s) {
  return s ? pq::Value::String(*s) : pq::Value::Null();
}
pq::Value OptI64(const std::optional<int64_t>& v) {
  return v ? pq::Value::Int64(*v) : pq::Value::Null();
}

pq::Value MapValue(const std::map<std::string, std::string>& m) {
  std::vector<std::pair<pq::Value, pq::Value>> entries;
  for (const auto& [k, v] : m) entries.emplace_back(Str(k), Str(v));
  return pq::MapOf(std::move(entries));
}

pq::Value PartitionMap(const PartitionValues& m) {
  std::vector<std::pair<pq::Value, pq::Value>> entries;
  for (const auto& [k, v] : m) entries.emplace_back(Str(k), OptStr(v));
  return pq::MapOf(std::move(entries));
}

pq::Value ListValue(const std::optional<std::vector<std::string>>& items) {
  if (!items) return pq::Value::Null();
  std::vector<pq::Value> out;
  for (const std::string& s : *items) out.push_back(Str(s));
  return pq::ListOf(std::move(out));
}

pq::Value DvValue(const std::optional<DeletionVectorDescriptor>& dv) {
  if (!dv) return pq::Value::Null();
  return pq::StructOf(
      {Str(dv->storage_type), Str(dv->path_or_inline_dv),
       dv->offset ? pq::Value::Int32(static_cast<int32_t>(*dv->offset)) : pq::Value::Null(),
       pq::Value::Int32(static_cast<int32_t>(dv->size_in_bytes)),
       pq::Value::Int64(dv->cardinality)});
}

// One row per action: the action's column set, every other column null.
struct ToRow {
  static constexpr size_t kColumns = 6;
  pq::Value Row(size_t column, pq::Value v) const {
    std::vector<pq::Value> fields(kColumns);
    fields[column] = std::move(v);
    return pq::StructOf(std::move(fields));
  }
  pq::Value operator()(const Txn& t) const {
    return Row(0,
               pq::StructOf({Str(t.app_id), pq::Value::Int64(t.version), OptI64(t.last_updated)}));
  }
  pq::Value operator()(const AddFile& a) const {
    return Row(
        1, pq::StructOf({Str(a.path), PartitionMap(a.partition_values), pq::Value::Int64(a.size),
                         pq::Value::Int64(a.modification_time), pq::Value::Bool(a.data_change),
                         OptStr(a.stats), MapValue(a.tags), DvValue(a.deletion_vector),
                         OptI64(a.base_row_id), OptI64(a.default_row_commit_version),
                         OptStr(a.clustering_provider)}));
  }
  pq::Value operator()(const RemoveFile& r) const {
    return Row(
        2, pq::StructOf({Str(r.path), OptI64(r.deletion_timestamp), pq::Value::Bool(r.data_change),
                         r.extended_file_metadata ? pq::Value::Bool(*r.extended_file_metadata)
                                                  : pq::Value::Null(),
                         r.partition_values ? PartitionMap(*r.partition_values) : pq::Value::Null(),
                         OptI64(r.size), DvValue(r.deletion_vector), OptI64(r.base_row_id),
                         OptI64(r.default_row_commit_version)}));
  }
  pq::Value operator()(const Metadata& m) const {
    std::vector<pq::Value> columns;
    for (const std::string& c : m.partition_columns) columns.push_back(Str(c));
    return Row(3, pq::StructOf({Str(m.id), OptStr(m.name), OptStr(m.description),
                                pq::StructOf({Str(m.format.provider), MapValue(m.format.options)}),
                                Str(m.schema_string), pq::ListOf(std::move(columns)),
                                MapValue(m.configuration), OptI64(m.created_time)}));
  }
  pq::Value operator()(const Protocol& p) const {
    return Row(4, pq::StructOf({pq::Value::Int32(p.min_reader_version),
                                pq::Value::Int32(p.min_writer_version),
                                ListValue(p.reader_features), ListValue(p.writer_features)}));
  }
  pq::Value operator()(const DomainMetadata& d) const {
    return Row(5, pq::StructOf({Str(d.domain), Str(d.configuration), pq::Value::Bool(d.removed)}));
  }
  // Never in checkpoints (CheckpointActions does not produce them).
  pq::Value operator()(const CommitInfo&) const {
    return pq::StructOf(std::vector<pq::Value>(kColumns));
  }
  pq::Value operator()(const AddCdcFile&) const {
    return pq::StructOf(std::vector<pq::Value>(kColumns));
  }
  pq::Value operator()(const CheckpointMetadata&) const {
    return pq::StructOf(std::vector<pq::Value>(kColumns));
  }
  pq::Value operator()(const Sidecar&) const {
    return pq::StructOf(std::vector<pq::Value>(kColumns));
  }
};

}  // namespace

Result<std::string> EncodeCheckpointParquet(const std::vector<Action>& actions) {
  std::vector<pq::Value> rows;
  rows.reserve(actions.size());
  for (const Action& a : actions) rows.push_back(std::visit(ToRow{}, a));
  pq::WriterOptions options;
  options.compression = pq::Compression::kSnappy;
  options.created_by = "weft version 0.1.0 (delta checkpoint)";
  auto sink = std::make_unique<pq::MemorySink>();
  pq::MemorySink* sink_ptr = sink.get();
  WEFT_ASSIGN_OR_RETURN(auto writer,
                        pq::ParquetWriter::Open(CheckpointSchema(), std::move(sink), options));
  WEFT_RETURN_IF_ERROR(writer->WriteRows(rows));
  WEFT_RETURN_IF_ERROR(writer->Close());
  return sink_ptr->TakeData();
}

Status WriteCheckpoint(ObjectStore& store, const Snapshot& snapshot) {
  std::vector<Action> actions = CheckpointActions(snapshot);
  Result<std::string> bytes = EncodeCheckpointParquet(actions);
  if (!bytes.ok()) {
    return bytes.status().WithContext("checkpoint of version " +
                                      std::to_string(snapshot.version()));
  }
  const std::string key = ClassicCheckpointKey(snapshot.version());
  // A classic checkpoint may be rewritten by a racing writer with the same content; Put is
  // atomic, so readers see one whole file either way.
  WEFT_RETURN_IF_ERROR(store.Put(key, *bytes));
  const int64_t num_adds = static_cast<int64_t>(snapshot.files().size());
  // _last_checkpoint only moves forward: a slow checkpointer must not point readers back.
  Result<std::string> previous = store.Get(kLastCheckpointKey);
  if (previous.ok()) {
    Result<LastCheckpointHint> hint = ParseLastCheckpoint(*previous);
    if (hint.ok() && hint->version > snapshot.version()) return Status::Ok();
  }
  return store.Put(kLastCheckpointKey,
                   SerializeLastCheckpoint(snapshot.version(), static_cast<int64_t>(actions.size()),
                                           static_cast<int64_t>(bytes->size()), num_adds));
}

}  // namespace weft::lake::delta

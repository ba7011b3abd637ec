#include "lake/delta/actions.h"

#include <algorithm>
#include <utility>

#include "lake/delta/json_util.h"

namespace weft::lake::delta {

using json_util::Json;

namespace {

bool Contains(const std::optional<std::vector<std::string>>& list, std::string_view name) {
  return list && std::find(list->begin(), list->end(), name) != list->end();
}

Result<std::optional<DeletionVectorDescriptor>> ParseDv(const Json& obj, std::string_view ctx) {
  auto it = obj.find("deletionVector");
  if (it == obj.end() || it->is_null()) return std::optional<DeletionVectorDescriptor>();
  std::string where = std::string(ctx) + ".deletionVector";
  if (!it->is_object()) return InvalidArgumentError(where + ": expected an object");
  DeletionVectorDescriptor dv;
  WEFT_ASSIGN_OR_RETURN(dv.storage_type, json_util::GetString(*it, "storageType", where));
  WEFT_ASSIGN_OR_RETURN(dv.path_or_inline_dv, json_util::GetString(*it, "pathOrInlineDv", where));
  WEFT_ASSIGN_OR_RETURN(dv.offset, json_util::GetOptInt64(*it, "offset", where));
  WEFT_ASSIGN_OR_RETURN(dv.size_in_bytes, json_util::GetInt64(*it, "sizeInBytes", where));
  WEFT_ASSIGN_OR_RETURN(dv.cardinality, json_util::GetInt64(*it, "cardinality", where));
  return std::optional<DeletionVectorDescriptor>(std::move(dv));
}

// The stats field is a JSON string in commits; a few writers put the object itself.
Result<std::optional<std::string>> ParseStatsField(const Json& obj, std::string_view ctx) {
  auto it = obj.find("stats");
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object()) return std::optional<std::string>(json_util::Dump(*it));
  return InvalidArgumentError(std::string(ctx) + ".stats: expected a JSON string, got " +
                              json_util::TypeName(*it));
}

Result<Protocol> ParseProtocol(const Json& j) {
  Protocol p;
  WEFT_ASSIGN_OR_RETURN(int64_t r, json_util::GetInt64(j, "minReaderVersion", "protocol"));
  WEFT_ASSIGN_OR_RETURN(int64_t w, json_util::GetInt64(j, "minWriterVersion", "protocol"));
  if (r < 1 || r > 1000 || w < 1 || w > 1000) {
    return InvalidArgumentError("protocol: minReaderVersion/minWriterVersion out of range");
  }
  p.min_reader_version = static_cast<int32_t>(r);
  p.min_writer_version = static_cast<int32_t>(w);
  WEFT_ASSIGN_OR_RETURN(p.reader_features,
                        json_util::GetOptStringArray(j, "readerFeatures", "protocol"));
  WEFT_ASSIGN_OR_RETURN(p.writer_features,
                        json_util::GetOptStringArray(j, "writerFeatures", "protocol"));
  return p;
}

Result<Metadata> ParseMetadata(const Json& j) {
  Metadata m;
  constexpr std::string_view kCtx = "metaData";
  WEFT_ASSIGN_OR_RETURN(m.id, json_util::GetString(j, "id", kCtx));
  WEFT_ASSIGN_OR_RETURN(m.name, json_util::GetOptString(j, "name", kCtx));
  WEFT_ASSIGN_OR_RETURN(m.description, json_util::GetOptString(j, "description", kCtx));
  auto fmt = j.find("format");
  if (fmt != j.end() && fmt->is_object()) {
    WEFT_ASSIGN_OR_RETURN(auto provider,
                          json_util::GetOptString(*fmt, "provider", "metaData.format"));
    m.format.provider = provider.value_or("parquet");
    WEFT_ASSIGN_OR_RETURN(m.format.options,
                          json_util::GetStringMap(*fmt, "options", "metaData.format"));
  }
  // Required by the protocol, but Databricks' DLT writes a first metaData without it (the
  // pipeline declares its columns in a later commit): read that as a table with no columns.
  WEFT_ASSIGN_OR_RETURN(auto schema, json_util::GetOptString(j, "schemaString", kCtx));
  m.schema_string = schema.value_or(R"({"type":"struct","fields":[]})");
  WEFT_ASSIGN_OR_RETURN(m.partition_columns,
                        json_util::GetStringArray(j, "partitionColumns", kCtx));
  WEFT_ASSIGN_OR_RETURN(m.created_time, json_util::GetOptInt64(j, "createdTime", kCtx));
  WEFT_ASSIGN_OR_RETURN(m.configuration, json_util::GetStringMap(j, "configuration", kCtx));
  return m;
}

Result<AddFile> ParseAdd(const Json& j) {
  AddFile a;
  constexpr std::string_view kCtx = "add";
  WEFT_ASSIGN_OR_RETURN(a.path, json_util::GetString(j, "path", kCtx));
  WEFT_ASSIGN_OR_RETURN(a.partition_values,
                        json_util::GetStringMapWithNulls(j, "partitionValues", kCtx));
  WEFT_ASSIGN_OR_RETURN(a.size, json_util::GetInt64(j, "size", kCtx));
  WEFT_ASSIGN_OR_RETURN(auto mt, json_util::GetOptInt64(j, "modificationTime", kCtx));
  a.modification_time = mt.value_or(0);
  WEFT_ASSIGN_OR_RETURN(auto dc, json_util::GetOptBool(j, "dataChange", kCtx));
  a.data_change = dc.value_or(true);
  WEFT_ASSIGN_OR_RETURN(a.stats, ParseStatsField(j, kCtx));
  WEFT_ASSIGN_OR_RETURN(a.tags, json_util::GetStringMap(j, "tags", kCtx));
  WEFT_ASSIGN_OR_RETURN(a.deletion_vector, ParseDv(j, kCtx));
  WEFT_ASSIGN_OR_RETURN(a.base_row_id, json_util::GetOptInt64(j, "baseRowId", kCtx));
  WEFT_ASSIGN_OR_RETURN(a.default_row_commit_version,
                        json_util::GetOptInt64(j, "defaultRowCommitVersion", kCtx));
  WEFT_ASSIGN_OR_RETURN(a.clustering_provider,
                        json_util::GetOptString(j, "clusteringProvider", kCtx));
  if (a.size < 0) return InvalidArgumentError("add.size: negative");
  return a;
}

Result<RemoveFile> ParseRemove(const Json& j) {
  RemoveFile r;
  constexpr std::string_view kCtx = "remove";
  WEFT_ASSIGN_OR_RETURN(r.path, json_util::GetString(j, "path", kCtx));
  WEFT_ASSIGN_OR_RETURN(r.deletion_timestamp, json_util::GetOptInt64(j, "deletionTimestamp", kCtx));
  WEFT_ASSIGN_OR_RETURN(auto dc, json_util::GetOptBool(j, "dataChange", kCtx));
  r.data_change = dc.value_or(true);
  WEFT_ASSIGN_OR_RETURN(r.extended_file_metadata,
                        json_util::GetOptBool(j, "extendedFileMetadata", kCtx));
  auto pv = j.find("partitionValues");
  if (pv != j.end() && !pv->is_null()) {
    WEFT_ASSIGN_OR_RETURN(auto values,
                          json_util::GetStringMapWithNulls(j, "partitionValues", kCtx));
    r.partition_values = std::move(values);
  }
  WEFT_ASSIGN_OR_RETURN(r.size, json_util::GetOptInt64(j, "size", kCtx));
  WEFT_ASSIGN_OR_RETURN(r.stats, ParseStatsField(j, kCtx));
  WEFT_ASSIGN_OR_RETURN(r.tags, json_util::GetStringMap(j, "tags", kCtx));
  WEFT_ASSIGN_OR_RETURN(r.deletion_vector, ParseDv(j, kCtx));
  WEFT_ASSIGN_OR_RETURN(r.base_row_id, json_util::GetOptInt64(j, "baseRowId", kCtx));
  WEFT_ASSIGN_OR_RETURN(r.default_row_commit_version,
                        json_util::GetOptInt64(j, "defaultRowCommitVersion", kCtx));
  return r;
}

Result<AddCdcFile> ParseCdc(const Json& j) {
  AddCdcFile c;
  constexpr std::string_view kCtx = "cdc";
  WEFT_ASSIGN_OR_RETURN(c.path, json_util::GetString(j, "path", kCtx));
  WEFT_ASSIGN_OR_RETURN(c.partition_values,
                        json_util::GetStringMapWithNulls(j, "partitionValues", kCtx));
  WEFT_ASSIGN_OR_RETURN(auto size, json_util::GetOptInt64(j, "size", kCtx));
  c.size = size.value_or(0);
  WEFT_ASSIGN_OR_RETURN(auto dc, json_util::GetOptBool(j, "dataChange", kCtx));
  c.data_change = dc.value_or(false);
  WEFT_ASSIGN_OR_RETURN(c.tags, json_util::GetStringMap(j, "tags", kCtx));
  return c;
}

Result<Txn> ParseTxn(const Json& j) {
  Txn t;
  WEFT_ASSIGN_OR_RETURN(t.app_id, json_util::GetString(j, "appId", "txn"));
  WEFT_ASSIGN_OR_RETURN(t.version, json_util::GetInt64(j, "version", "txn"));
  WEFT_ASSIGN_OR_RETURN(t.last_updated, json_util::GetOptInt64(j, "lastUpdated", "txn"));
  return t;
}

Result<CommitInfo> ParseCommitInfo(const Json& j) {
  CommitInfo c;
  c.json = json_util::Dump(j);
  if (!j.is_object()) return c;  // free-form: tolerate anything
  auto ts = j.find("timestamp");
  if (ts != j.end()) c.timestamp = json_util::AsInt64(*ts);
  auto ict = j.find("inCommitTimestamp");
  if (ict != j.end()) {
    c.in_commit_timestamp = json_util::AsInt64(*ict);
    if (!c.in_commit_timestamp && !ict->is_null()) {
      return InvalidArgumentError("commitInfo.inCommitTimestamp: expected an integer");
    }
  }
  auto op = j.find("operation");
  if (op != j.end() && op->is_string()) c.operation = op->get<std::string>();
  auto blind = j.find("isBlindAppend");
  if (blind != j.end() && blind->is_boolean()) c.is_blind_append = blind->get<bool>();
  return c;
}

Result<DomainMetadata> ParseDomainMetadata(const Json& j) {
  DomainMetadata d;
  WEFT_ASSIGN_OR_RETURN(d.domain, json_util::GetString(j, "domain", "domainMetadata"));
  WEFT_ASSIGN_OR_RETURN(auto conf, json_util::GetOptString(j, "configuration", "domainMetadata"));
  d.configuration = conf.value_or("");
  WEFT_ASSIGN_OR_RETURN(auto removed, json_util::GetOptBool(j, "removed", "domainMetadata"));
  d.removed = removed.value_or(false);
  return d;
}

Result<CheckpointMetadata> ParseCheckpointMetadata(const Json& j) {
  CheckpointMetadata c;
  WEFT_ASSIGN_OR_RETURN(c.version, json_util::GetInt64(j, "version", "checkpointMetadata"));
  WEFT_ASSIGN_OR_RETURN(c.tags, json_util::GetStringMap(j, "tags", "checkpointMetadata"));
  return c;
}

Result<Sidecar> ParseSidecar(const Json& j) {
  Sidecar s;
  WEFT_ASSIGN_OR_RETURN(s.path, json_util::GetString(j, "path", "sidecar"));
  WEFT_ASSIGN_OR_RETURN(s.size_in_bytes, json_util::GetInt64(j, "sizeInBytes", "sidecar"));
  WEFT_ASSIGN_OR_RETURN(auto mt, json_util::GetOptInt64(j, "modificationTime", "sidecar"));
  s.modification_time = mt.value_or(0);
  WEFT_ASSIGN_OR_RETURN(s.tags, json_util::GetStringMap(j, "tags", "sidecar"));
  return s;
}

template <typename T>
Result<std::optional<Action>> Wrap(Result<T> r) {
  if (!r.ok()) return r.status();
  return std::optional<Action>(Action(std::move(r).value()));
}

Json PartitionValuesJson(const PartitionValues& values) {
  Json j = Json::object();
  for (const auto& [k, v] : values) j[k] = v ? Json(*v) : Json(nullptr);
  return j;
}

Json StringMapJson(const std::map<std::string, std::string>& values) {
  Json j = Json::object();
  for (const auto& [k, v] : values) j[k] = v;
  return j;
}

Json DvJson(const DeletionVectorDescriptor& dv) {
  Json j = Json::object();
  j["storageType"] = dv.storage_type;
  j["pathOrInlineDv"] = dv.path_or_inline_dv;
  if (dv.offset) j["offset"] = *dv.offset;
  j["sizeInBytes"] = dv.size_in_bytes;
  j["cardinality"] = dv.cardinality;
  return j;
}

struct ToJson {
  Json operator()(const Protocol& p) const {
    Json j = Json::object();
    j["minReaderVersion"] = p.min_reader_version;
    j["minWriterVersion"] = p.min_writer_version;
    if (p.reader_features) j["readerFeatures"] = *p.reader_features;
    if (p.writer_features) j["writerFeatures"] = *p.writer_features;
    return j;
  }
  Json operator()(const Metadata& m) const {
    Json j = Json::object();
    j["id"] = m.id;
    if (m.name) j["name"] = *m.name;
    if (m.description) j["description"] = *m.description;
    Json fmt = Json::object();
    fmt["provider"] = m.format.provider;
    fmt["options"] = StringMapJson(m.format.options);
    j["format"] = std::move(fmt);
    j["schemaString"] = m.schema_string;
    j["partitionColumns"] = m.partition_columns;
    j["configuration"] = StringMapJson(m.configuration);
    if (m.created_time) j["createdTime"] = *m.created_time;
    return j;
  }
  Json operator()(const AddFile& a) const {
    Json j = Json::object();
    j["path"] = a.path;
    j["partitionValues"] = PartitionValuesJson(a.partition_values);
    j["size"] = a.size;
    j["modificationTime"] = a.modification_time;
    j["dataChange"] = a.data_change;
    if (a.stats) j["stats"] = *a.stats;
    if (!a.tags.empty()) j["tags"] = StringMapJson(a.tags);
    if (a.deletion_vector) j["deletionVector"] = DvJson(*a.deletion_vector);
    if (a.base_row_id) j["baseRowId"] = *a.base_row_id;
    if (a.default_row_commit_version) j["defaultRowCommitVersion"] = *a.default_row_commit_version;
    if (a.clustering_provider) j["clusteringProvider"] = *a.clustering_provider;
    return j;
  }
  Json operator()(const RemoveFile& r) const {
    Json j = Json::object();
    j["path"] = r.path;
    if (r.deletion_timestamp) j["deletionTimestamp"] = *r.deletion_timestamp;
    j["dataChange"] = r.data_change;
    if (r.extended_file_metadata) j["extendedFileMetadata"] = *r.extended_file_metadata;
    if (r.partition_values) j["partitionValues"] = PartitionValuesJson(*r.partition_values);
    if (r.size) j["size"] = *r.size;
    if (r.stats) j["stats"] = *r.stats;
    if (!r.tags.empty()) j["tags"] = StringMapJson(r.tags);
    if (r.deletion_vector) j["deletionVector"] = DvJson(*r.deletion_vector);
    if (r.base_row_id) j["baseRowId"] = *r.base_row_id;
    if (r.default_row_commit_version) j["defaultRowCommitVersion"] = *r.default_row_commit_version;
    return j;
  }
  Json operator()(const AddCdcFile& c) const {
    Json j = Json::object();
    j["path"] = c.path;
    j["partitionValues"] = PartitionValuesJson(c.partition_values);
    j["size"] = c.size;
    j["dataChange"] = c.data_change;
    if (!c.tags.empty()) j["tags"] = StringMapJson(c.tags);
    return j;
  }
  Json operator()(const Txn& t) const {
    Json j = Json::object();
    j["appId"] = t.app_id;
    j["version"] = t.version;
    if (t.last_updated) j["lastUpdated"] = *t.last_updated;
    return j;
  }
  Json operator()(const CommitInfo& c) const {
    Json j = Json::parse(c.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = Json::object();
    return j;
  }
  Json operator()(const DomainMetadata& d) const {
    Json j = Json::object();
    j["domain"] = d.domain;
    j["configuration"] = d.configuration;
    j["removed"] = d.removed;
    return j;
  }
  Json operator()(const CheckpointMetadata& c) const {
    Json j = Json::object();
    j["version"] = c.version;
    j["tags"] = StringMapJson(c.tags);
    return j;
  }
  Json operator()(const Sidecar& s) const {
    Json j = Json::object();
    j["path"] = s.path;
    j["sizeInBytes"] = s.size_in_bytes;
    j["modificationTime"] = s.modification_time;
    j["tags"] = StringMapJson(s.tags);
    return j;
  }
};

struct NameOf {
  std::string_view operator()(const Protocol&) const { return "protocol"; }
  std::string_view operator()(const Metadata&) const { return "metaData"; }
  std::string_view operator()(const AddFile&) const { return "add"; }
  std::string_view operator()(const RemoveFile&) const { return "remove"; }
  std::string_view operator()(const AddCdcFile&) const { return "cdc"; }
  std::string_view operator()(const Txn&) const { return "txn"; }
  std::string_view operator()(const CommitInfo&) const { return "commitInfo"; }
  std::string_view operator()(const DomainMetadata&) const { return "domainMetadata"; }
  std::string_view operator()(const CheckpointMetadata&) const { return "checkpointMetadata"; }
  std::string_view operator()(const Sidecar&) const { return "sidecar"; }
};

void FlattenStats(const Json& j, const std::string& prefix,
                  std::map<std::string, std::string>* out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      FlattenStats(*it, path, out);
    } else {
      (*out)[path] = json_util::Dump(*it);
    }
  }
}

Status FlattenCounts(const Json& j, const std::string& prefix,
                     std::map<std::string, int64_t>* out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      WEFT_RETURN_IF_ERROR(FlattenCounts(*it, path, out));
    } else if (it->is_null()) {
      continue;
    } else {
      std::optional<int64_t> n = json_util::AsInt64(*it);
      if (!n) return InvalidArgumentError("stats.nullCount." + path + ": expected an integer");
      (*out)[path] = *n;
    }
  }
  return Status::Ok();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool Protocol::HasReaderFeature(std::string_view name) const {
  return Contains(reader_features, name);
}
bool Protocol::HasWriterFeature(std::string_view name) const {
  return Contains(writer_features, name);
}

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

std::string_view ActionName(const Action& action) {
  return std::visit(NameOf{}, action);
}

Result<std::optional<Action>> ParseActionLine(std::string_view line) {
  WEFT_ASSIGN_OR_RETURN(Json j, json_util::Parse(line, "action"));
  if (!j.is_object()) {
    return InvalidArgumentError(std::string("expected a JSON object, got ") +
                                json_util::TypeName(j));
  }
  // One action per line; the first key we recognise is the action (others are unknown actions).
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const Json& body = *it;
    if (body.is_null()) continue;
    if (key != "commitInfo" && !body.is_object()) {
      return InvalidArgumentError(key + ": expected an object, got " + json_util::TypeName(body));
    }
    if (key == "add") return Wrap(ParseAdd(body));
    if (key == "remove") return Wrap(ParseRemove(body));
    if (key == "metaData") return Wrap(ParseMetadata(body));
    if (key == "protocol") return Wrap(ParseProtocol(body));
    if (key == "txn") return Wrap(ParseTxn(body));
    if (key == "commitInfo") return Wrap(ParseCommitInfo(body));
    if (key == "cdc") return Wrap(ParseCdc(body));
    if (key == "domainMetadata") return Wrap(ParseDomainMetadata(body));
    if (key == "checkpointMetadata") return Wrap(ParseCheckpointMetadata(body));
    if (key == "sidecar") return Wrap(ParseSidecar(body));
  }
  return std::optional<Action>();
}

Result<std::vector<Action>> ParseCommit(std::string_view content, std::string_view file) {
  std::vector<Action> actions;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    Result<std::optional<Action>> action = ParseActionLine(line);
    if (!action.ok()) {
      return Status(action.status().code(), std::string(file) + " line " + std::to_string(line_no) +
                                                ": " + action.status().message());
    }
    if (action->has_value()) actions.push_back(std::move(**action));
  }
  return actions;
}

std::string SerializeAction(const Action& action) {
  Json j = Json::object();
  j[std::string(ActionName(action))] = std::visit(ToJson{}, action);
  return json_util::Dump(j);
}

std::string SerializeCommit(const std::vector<Action>& actions) {
  std::string out;
  for (const Action& a : actions) {
    out += SerializeAction(a);
    out += '\n';
  }
  return out;
}

CommitInfo MakeCommitInfo(int64_t timestamp_ms, std::string_view operation,
                          const std::map<std::string, std::string>& operation_parameters,
                          std::optional<int64_t> read_version, bool is_blind_append) {
  Json j = Json::object();
  j["timestamp"] = timestamp_ms;
  j["operation"] = std::string(operation);
  j["operationParameters"] = StringMapJson(operation_parameters);
  if (read_version) j["readVersion"] = *read_version;
  j["isBlindAppend"] = is_blind_append;
  j["engineInfo"] = "weft/0.1.0";
  CommitInfo c;
  c.timestamp = timestamp_ms;
  c.operation = std::string(operation);
  c.is_blind_append = is_blind_append;
  c.json = json_util::Dump(j);
  return c;
}

Result<FileStats> ParseFileStats(std::string_view text) {
  WEFT_ASSIGN_OR_RETURN(Json j, json_util::Parse(text, "stats"));
  if (!j.is_object()) return InvalidArgumentError("stats: expected a JSON object");
  FileStats s;
  WEFT_ASSIGN_OR_RETURN(s.num_records, json_util::GetOptInt64(j, "numRecords", "stats"));
  WEFT_ASSIGN_OR_RETURN(s.tight_bounds, json_util::GetOptBool(j, "tightBounds", "stats"));
  if (s.num_records && *s.num_records < 0)
    return InvalidArgumentError("stats.numRecords: negative");
  auto min = j.find("minValues");
  if (min != j.end() && min->is_object()) FlattenStats(*min, "", &s.min_values);
  auto max = j.find("maxValues");
  if (max != j.end() && max->is_object()) FlattenStats(*max, "", &s.max_values);
  auto nc = j.find("nullCount");
  if (nc != j.end() && nc->is_object()) WEFT_RETURN_IF_ERROR(FlattenCounts(*nc, "", &s.null_count));
  return s;
}

Result<std::string> DecodeActionPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 2 >= path.size() || HexValue(path[i + 1]) < 0 || HexValue(path[i + 2]) < 0) {
      return InvalidArgumentError("path '" + std::string(path) + "': bad %-escape at byte " +
                                  std::to_string(i));
    }
    out += static_cast<char>(HexValue(path[i + 1]) * 16 + HexValue(path[i + 2]));
    i += 2;
  }
  return out;
}

std::string EncodeActionPath(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : key) {
    unsigned char u = static_cast<unsigned char>(c);
    bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                 std::string_view("-_.!~*'()/=:@,;+$").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace weft::lake::delta

#ifndef WEFT_LAKE_DELTA_ACTIONS_H_
#define WEFT_LAKE_DELTA_ACTIONS_H_

// Delta log actions (PROTOCOL.md "Actions") and their JSON form: one action per line of a commit
// file `_delta_log/<version:020>.json`.
//
//   WEFT_ASSIGN_OR_RETURN(std::vector<Action> actions,
//                         ParseCommit(bytes, "_delta_log/00000000000000000003.json"));
//   for (const Action& a : actions)
//     if (const auto* add = std::get_if<AddFile>(&a)) ... add->path ...
//   std::string file = SerializeCommit(actions);   // what PutIfAbsent writes
//
// Unknown action types and unknown fields are skipped, as the protocol requires ("clients must
// ignore such unrecognized fields"). Errors name the file, the line and the field.
//
// Thread-safety: values and pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace weft::lake::delta {

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  //! Present only when min_reader_version == 3.
  std::optional<std::vector<std::string>> reader_features{};
  //! Present only when min_writer_version == 7.
  std::optional<std::vector<std::string>> writer_features{};

  bool HasReaderFeature(std::string_view name) const;
  bool HasWriterFeature(std::string_view name) const;
};

struct Format {
  std::string provider = "parquet";
  std::map<std::string, std::string> options{};
};

struct Metadata {
  std::string id{};
  std::optional<std::string> name{};
  std::optional<std::string> description{};
  Format format{};
  std::string schema_string{};
  std::vector<std::string> partition_columns{};
  std::optional<int64_t> created_time{};
  std::map<std::string, std::string> configuration{};
};

struct DeletionVectorDescriptor {
  std::string storage_type{};  //!< "u", "i" or "p"
  std::string path_or_inline_dv{};
  std::optional<int64_t> offset{};
  int64_t size_in_bytes = 0;
  int64_t cardinality = 0;

  //! "<storageType><pathOrInlineDv>[@<offset>]": the DV part of a logical file's key.
  std::string UniqueId() const;
};

//! Partition values as the log stores them: serialized strings keyed by (physical) column name;
//! null (or "") is a null partition value.
using PartitionValues = std::map<std::string, std::optional<std::string>>;

struct AddFile {
  std::string path{};  //!< URI-encoded, relative to the table root (or absolute)
  PartitionValues partition_values{};
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats{};  //!< JSON text, see ParseFileStats
  std::map<std::string, std::string> tags{};
  std::optional<DeletionVectorDescriptor> deletion_vector{};
  std::optional<int64_t> base_row_id{};
  std::optional<int64_t> default_row_commit_version{};
  std::optional<std::string> clustering_provider{};
};

struct RemoveFile {
  std::string path{};
  std::optional<int64_t> deletion_timestamp{};
  bool data_change = true;
  std::optional<bool> extended_file_metadata{};
  std::optional<PartitionValues> partition_values{};
  std::optional<int64_t> size{};
  std::optional<std::string> stats{};
  std::map<std::string, std::string> tags{};
  std::optional<DeletionVectorDescriptor> deletion_vector{};
  std::optional<int64_t> base_row_id{};
  std::optional<int64_t> default_row_commit_version{};
};

struct AddCdcFile {
  std::string path{};
  PartitionValues partition_values{};
  int64_t size = 0;
  bool data_change = false;
  std::map<std::string, std::string> tags{};
};

struct Txn {
  std::string app_id{};
  int64_t version = 0;
  std::optional<int64_t> last_updated{};
};

//! Free-form provenance; the fields Weft uses are parsed, the whole object is kept as JSON.
struct CommitInfo {
  std::optional<int64_t> timestamp{};
  std::optional<int64_t> in_commit_timestamp{};
  std::optional<std::string> operation{};
  std::optional<bool> is_blind_append{};
  std::string json = "{}";  //!< the complete commitInfo object
};

struct DomainMetadata {
  std::string domain{};
  std::string configuration{};
  bool removed = false;
};

struct CheckpointMetadata {
  int64_t version = 0;
  std::map<std::string, std::string> tags{};
};

struct Sidecar {
  std::string path{};
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
  std::map<std::string, std::string> tags{};
};

using Action = std::variant<Protocol, Metadata, AddFile, RemoveFile, AddCdcFile, Txn, CommitInfo,
                            DomainMetadata, CheckpointMetadata, Sidecar>;

//! The action's JSON key: "add", "metaData", ...
std::string_view ActionName(const Action& action);

//! Parses a commit (or JSON checkpoint) file. `file` names it in errors ("<file> line 3: ...").
//! Lines of unknown actions are skipped; blank lines are allowed.
Result<std::vector<Action>> ParseCommit(std::string_view content, std::string_view file);
//! One line's action: nullopt for an unknown action type.
Result<std::optional<Action>> ParseActionLine(std::string_view line);

//! One line, no newline: {"add":{...}}.
std::string SerializeAction(const Action& action);
//! Lines joined by '\n' with a final '\n'.
std::string SerializeCommit(const std::vector<Action>& actions);

//! Builds the commitInfo Weft writes (engineInfo "weft/0.1.0").
CommitInfo MakeCommitInfo(int64_t timestamp_ms, std::string_view operation,
                          const std::map<std::string, std::string>& operation_parameters,
                          std::optional<int64_t> read_version, bool is_blind_append);

//! Per-file statistics (PROTOCOL.md "Per-file Statistics"). Column statistics are flattened to
//! dotted paths of physical names ("a.b.c"); values keep their JSON text ("5", "\"abc\"").
struct FileStats {
  std::optional<int64_t> num_records{};
  std::optional<bool> tight_bounds{};
  std::map<std::string, std::string> min_values{};
  std::map<std::string, std::string> max_values{};
  std::map<std::string, int64_t> null_count{};
};
Result<FileStats> ParseFileStats(std::string_view json);

//! Decodes the URI escapes (%XX) of an add/remove path to the object key it names.
Result<std::string> DecodeActionPath(std::string_view path);
//! Encodes a relative key as an add path: escapes what RFC 2396 does not allow unescaped.
std::string EncodeActionPath(std::string_view key);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_ACTIONS_H_

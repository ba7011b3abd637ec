#ifndef WEFT_LAKE_DELTA_LOG_FILES_H_
#define WEFT_LAKE_DELTA_LOG_FILES_H_

// The files of a `_delta_log` directory and their names (PROTOCOL.md "Delta Log Entries",
// "Checkpoints", "Last Checkpoint File"):
//
//   00000000000000000007.json                                   commit 7
//   00000000000000000010.checkpoint.parquet                     classic checkpoint
//   00000000000000000010.checkpoint.0000000001.0000000003.parquet  multi-part checkpoint, part 1/3
//   00000000000000000010.checkpoint.<uuid>.json|parquet         v2 (UUID-named) checkpoint
//   _last_checkpoint                                             hint to the newest checkpoint
//
//   WEFT_ASSIGN_OR_RETURN(LogListing log, ListLog(store));
//   for (const LogFile& c : log.commits) ... c.version ...
//
// Thread-safety: values and functions; ListLog makes one List call on the store.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

inline constexpr std::string_view kLogDir = "_delta_log/";

struct LogFile {
  enum class Kind { kCommit, kClassicCheckpoint, kMultiPartCheckpoint, kUuidCheckpoint };
  Kind kind = Kind::kCommit;
  int64_t version = 0;
  int32_t part = 0;   //!< multi-part: 1-based part number
  int32_t parts = 0;  //!< multi-part: number of parts
  bool json = false;  //!< UUID checkpoint in JSON (else Parquet)
  std::string key{};  //!< relative to the table root: "_delta_log/..."
  uint64_t size = 0;
  int64_t modified_ms = 0;
};

//! One checkpoint: a single file, or all parts of a multi-part checkpoint (in part order).
struct Checkpoint {
  int64_t version = 0;
  LogFile::Kind kind = LogFile::Kind::kClassicCheckpoint;
  std::vector<LogFile> files{};
};

//! The `_last_checkpoint` file's fields that Weft uses.
struct LastCheckpointHint {
  int64_t version = 0;
  std::optional<int64_t> size{};
  std::optional<int64_t> parts{};
};

struct LogListing {
  std::vector<LogFile> commits{};                       //!< sorted by version, one per version
  std::vector<Checkpoint> checkpoints{};                //!< complete ones only, sorted by version
  std::optional<LastCheckpointHint> last_checkpoint{};  //!< when present and well-formed

  //! Newest version that has a commit or a checkpoint; nullopt for an empty log.
  std::optional<int64_t> LatestVersion() const;
  const LogFile* FindCommit(int64_t version) const;
};

//! "_delta_log/00000000000000000007.json".
std::string CommitKey(int64_t version);
//! "_delta_log/00000000000000000010.checkpoint.parquet".
std::string ClassicCheckpointKey(int64_t version);
inline constexpr std::string_view kLastCheckpointKey = "_delta_log/_last_checkpoint";

//! Classifies one object of the log directory; nullopt for anything else (crc, temp files,
//! _sidecars/..., compaction files).
std::optional<LogFile> ClassifyLogFile(const ObjectInfo& object);

//! Lists `_delta_log/`. Multi-part checkpoints with missing parts are dropped (the protocol says
//! readers must ignore them). `_last_checkpoint` is read as a hint; a missing or malformed one is
//! ignored, since the listing is authoritative.
Result<LogListing> ListLog(ObjectStore& store);

//! Parses a `_last_checkpoint` file.
Result<LastCheckpointHint> ParseLastCheckpoint(std::string_view json);
//! The `_last_checkpoint` Weft writes for a classic checkpoint.
std::string SerializeLastCheckpoint(int64_t version, int64_t num_actions, int64_t size_in_bytes,
                                    int64_t num_add_files);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_LOG_FILES_H_

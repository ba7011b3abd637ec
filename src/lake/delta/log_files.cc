#include "lake/delta/log_files.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <utility>

#include "lake/delta/json_util.h"

namespace weft::lake::delta {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int64_t> ParseDigits(std::string_view s) {
  if (!AllDigits(s)) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Padded(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(version));
  return buf;
}

}  // namespace

std::optional<int64_t> LogListing::LatestVersion() const {
  std::optional<int64_t> latest;
  if (!commits.empty()) latest = commits.back().version;
  if (!checkpoints.empty()) latest = std::max(latest.value_or(-1), checkpoints.back().version);
  return latest;
}

const LogFile* LogListing::FindCommit(int64_t version) const {
  auto it = std::lower_bound(commits.begin(), commits.end(), version,
                             [](const LogFile& f, int64_t v) { return f.version < v; });
  if (it == commits.end() || it->version != version) return nullptr;
  return &*it;
}

std::string CommitKey(int64_t version) {
  return std::string(kLogDir) + Padded(version) + ".json";
}

std::string ClassicCheckpointKey(int64_t version) {
  return std::string(kLogDir) + Padded(version) + ".checkpoint.parquet";
}

std::optional<LogFile> ClassifyLogFile(const ObjectInfo& object) {
  std::string_view key = object.key;
  if (!key.starts_with(kLogDir)) return std::nullopt;
  std::string_view name = key.substr(kLogDir.size());
  if (name.find('/') != std::string_view::npos) return std::nullopt;  // _sidecars/, ...
  if (name.size() < 21 || name[20] != '.') return std::nullopt;
  std::optional<int64_t> version = ParseDigits(name.substr(0, 20));
  if (!version) return std::nullopt;
  std::string_view rest = name.substr(21);
  LogFile f;
  f.version = *version;
  f.key = object.key;
  f.size = object.size;
  f.modified_ms = object.modified_ms;
  if (rest == "json") {
    f.kind = LogFile::Kind::kCommit;
    return f;
  }
  if (!rest.starts_with("checkpoint.")) return std::nullopt;
  rest.remove_prefix(11);
  if (rest == "parquet") {
    f.kind = LogFile::Kind::kClassicCheckpoint;
    return f;
  }
  // Multi-part: <o:010>.<p:010>.parquet
  if (rest.size() == 10 + 1 + 10 + 8 && rest[10] == '.' && rest.ends_with(".parquet")) {
    std::optional<int64_t> part = ParseDigits(rest.substr(0, 10));
    std::optional<int64_t> parts = ParseDigits(rest.substr(11, 10));
    if (part && parts && *parts >= 1 && *part >= 1 && *part <= *parts && *parts < (1 << 30)) {
      f.kind = LogFile::Kind::kMultiPartCheckpoint;
      f.part = static_cast<int32_t>(*part);
      f.parts = static_cast<int32_t>(*parts);
      return f;
    }
    return std::nullopt;
  }
  // UUID-named: <uuid>.json | <uuid>.parquet
  size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view ext = rest.substr(dot + 1);
  if (ext != "json" && ext != "parquet") return std::nullopt;
  if (rest.substr(0, dot).find('.') != std::string_view::npos) return std::nullopt;
  f.kind = LogFile::Kind::kUuidCheckpoint;
  f.json = ext == "json";
  return f;
}

Result<LogListing> ListLog(ObjectStore& store) {
  WEFT_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(kLogDir));
  LogListing listing;
  std::map<std::pair<int64_t, int32_t>, std::vector<LogFile>> multi_parts;  // (version, parts)
  std::vector<Checkpoint> checkpoints;
  bool has_last_checkpoint = false;
  for (const ObjectInfo& o : objects) {
    if (o.key == kLastCheckpointKey) {
      has_last_checkpoint = true;
      continue;
    }
    std::optional<LogFile> f = ClassifyLogFile(o);
    if (!f) continue;
    switch (f->kind) {
      case LogFile::Kind::kCommit: listing.commits.push_back(std::move(*f)); break;
      case LogFile::Kind::kMultiPartCheckpoint:
        multi_parts[{f->version, f->parts}].push_back(std::move(*f));
        break;
      default: {
        Checkpoint c;
        c.version = f->version;
        c.kind = f->kind;
        c.files.push_back(std::move(*f));
        checkpoints.push_back(std::move(c));
      }
    }
  }
  for (auto& [key, files] : multi_parts) {
    std::sort(files.begin(), files.end(),
              [](const LogFile& a, const LogFile& b) { return a.part < b.part; });
    bool complete = static_cast<int32_t>(files.size()) == key.second;
    for (size_t i = 0; complete && i < files.size(); ++i) {
      complete = files[i].part == static_cast<int32_t>(i + 1);
    }
    if (!complete) continue;  // a checkpoint still being written, or a failed one
    Checkpoint c;
    c.version = key.first;
    c.kind = LogFile::Kind::kMultiPartCheckpoint;
    c.files = std::move(files);
    checkpoints.push_back(std::move(c));
  }
  // Sort by version; at one version, prefer a classic, then a UUID-named, then a multi-part one
  // (the last in the vector is the preferred one).
  auto rank = [](LogFile::Kind k) {
    switch (k) {
      case LogFile::Kind::kMultiPartCheckpoint: return 0;
      case LogFile::Kind::kUuidCheckpoint: return 1;
      default: return 2;
    }
  };
  std::stable_sort(checkpoints.begin(), checkpoints.end(),
                   [&](const Checkpoint& a, const Checkpoint& b) {
                     if (a.version != b.version) return a.version < b.version;
                     return rank(a.kind) < rank(b.kind);
                   });
  listing.checkpoints = std::move(checkpoints);
  std::sort(listing.commits.begin(), listing.commits.end(),
            [](const LogFile& a, const LogFile& b) { return a.version < b.version; });
  if (has_last_checkpoint) {
    Result<std::string> text = store.Get(kLastCheckpointKey);
    if (text.ok()) {
      Result<LastCheckpointHint> hint = ParseLastCheckpoint(*text);
      if (hint.ok()) listing.last_checkpoint = *hint;
    }
  }
  return listing;
}

Result<LastCheckpointHint> ParseLastCheckpoint(std::string_view text) {
  WEFT_ASSIGN_OR_RETURN(json_util::Json j, json_util::Parse(text, "_last_checkpoint"));
  LastCheckpointHint h;
  WEFT_ASSIGN_OR_RETURN(h.version, json_util::GetInt64(j, "version", "_last_checkpoint"));
  WEFT_ASSIGN_OR_RETURN(h.size, json_util::GetOptInt64(j, "size", "_last_checkpoint"));
  WEFT_ASSIGN_OR_RETURN(h.parts, json_util::GetOptInt64(j, "parts", "_last_checkpoint"));
  return h;
}

std::string SerializeLastCheckpoint(int64_t version, int64_t num_actions, int64_t size_in_bytes,
                                    int64_t num_add_files) {
  json_util::Json j = json_util::Json::object();
  j["version"] = version;
  j["size"] = num_actions;
  j["sizeInBytes"] = size_in_bytes;
  j["numOfAddFiles"] = num_add_files;
  return json_util::Dump(j);
}

}  // namespace weft::lake::delta

#include "core/audit/audit_log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "common/log.h"
#include "common/time_format.h"

namespace weft::core::audit {

namespace {

using nlohmann::json;

// `,"hash":"` + 64 hex digits + `"}`: the fixed-size end of every line, cut off for hashing.
constexpr std::string_view kHashMemberPrefix = R"(,"hash":")";
constexpr size_t kHashMemberBytes = kHashMemberPrefix.size() + 64 + 2;
constexpr size_t kMaxDetailDepth = 64;
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr int64_t kMaxTimestampMicros = 253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999Z

constexpr std::array<std::string_view, 9> kMembers = {
    "seq", "ts", "principal", "action", "resource", "decision", "detail", "prev", "hash"};
constexpr std::array<std::string_view, 4> kDecisions = {"allow", "deny", "done", "error"};

std::string Sha256Hex(std::string_view a, std::string_view b) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
                  EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, md, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";  // compares unequal to every stored hash: reported, never accepted
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size_t{2} * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

bool IsHash(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsDecision(std::string_view d) {
  return std::find(kDecisions.begin(), kDecisions.end(), d) != kDecisions.end();
}

// Bytes from the file made safe to print: printable ASCII kept, the rest as \xNN, capped.
std::string Printable(std::string_view s, size_t max = 120) {
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// nlohmann's compact form; invalid UTF-8 becomes U+FFFD instead of throwing.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool DeeperThan(const json& v, size_t limit) {
  if (!v.is_structured()) return false;
  if (limit == 0) return true;
  for (const auto& child : v) {
    if (DeeperThan(child, limit - 1)) return true;
  }
  return false;
}

json Redact(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : v.items()) {
      out[key] = IsSecretKey(key) ? json("***") : Redact(value);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) out.push_back(Redact(item));
    return out;
  }
  return v;
}

// A line read back: `problem` is empty when it is a well-formed record; `hash_ok` tells whether
// its stored hash matches its bytes. `seq` is filled in as soon as it could be read.
struct ParsedRecord {
  std::string problem;
  uint64_t seq = 0;
  std::string prev;
  std::string hash;
  bool hash_ok = false;
};

ParsedRecord ParseRecord(std::string_view line) {
  ParsedRecord rec;
  if (line.empty()) {
    rec.problem = "empty line";
    return rec;
  }
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> from "parse".
    if (const size_t at = what.find("] "); at != std::string::npos) what.erase(0, at + 2);
    rec.problem = "not JSON: " + Printable(what, 200);
    return rec;
  }
  if (!j.is_object()) {
    rec.problem = std::string("not a JSON object but ") + j.type_name();
    return rec;
  }
  if (const auto it = j.find("seq"); it != j.end() && it->is_number_unsigned()) {
    rec.seq = it->get<uint64_t>();
  }
  for (const auto& [key, value] : j.items()) {
    if (std::find(kMembers.begin(), kMembers.end(), key) == kMembers.end()) {
      rec.problem = "unexpected member \"" + Printable(key, 40) + "\"";
      return rec;
    }
  }
  for (const std::string_view name : kMembers) {
    if (!j.contains(name)) {
      rec.problem = "missing \"" + std::string(name) + "\"";
      return rec;
    }
  }
  const auto bad = [&rec](std::string_view name, std::string_view expected) {
    rec.problem = "\"" + std::string(name) + "\" is not " + std::string(expected);
    return rec;
  };
  if (rec.seq == 0) return bad("seq", "a positive integer");
  const json& ts = j["ts"];
  if (!ts.is_string()) return bad("ts", "a string");
  const auto micros = ParseTimestampMicros(ts.get_ref<const std::string&>());
  if (!micros.ok() || FormatTimestampMicros(*micros) != ts.get_ref<const std::string&>()) {
    return bad("ts", "a UTC timestamp with six fractional digits like 2026-11-25T10:00:00.000000Z");
  }
  for (const std::string_view name : {"principal", "action", "resource"}) {
    if (!j[name].is_string()) return bad(name, "a string");
  }
  if (j["action"].get_ref<const std::string&>().empty()) return bad("action", "a non-empty string");
  const json& decision = j["decision"];
  if (!decision.is_string() || !IsDecision(decision.get_ref<const std::string&>())) {
    return bad("decision", R"(one of "allow", "deny", "done", "error")");
  }
  if (!j["detail"].is_object()) return bad("detail", "an object");
  for (const std::string_view name : {"prev", "hash"}) {
    if (!j[name].is_string() || !IsHash(j[name].get_ref<const std::string&>())) {
      return bad(name, "64 lowercase hex digits");
    }
  }
  rec.prev = j["prev"].get<std::string>();
  rec.hash = j["hash"].get<std::string>();
  // The hash covers the line's own bytes (not a re-serialisation), so any change to any byte
  // shows; that needs the hash member to be the fixed-size end of the line.
  const std::string expected_end = std::string(kHashMemberPrefix) + rec.hash + "\"}";
  if (line.size() < kHashMemberBytes + 1 || !line.ends_with(expected_end)) {
    rec.problem = R"("hash" is not the last member, written as ,"hash":"<hex>"})";
    return rec;
  }
  rec.hash_ok = Sha256Hex(line.substr(0, line.size() - kHashMemberBytes), "}") == rec.hash;
  return rec;
}

// ---- files ----

Status IoError(std::string_view what, const std::string& path, int err) {
  return UnavailableError("audit log: " + std::string(what) + " " + path + ": " +
                          std::strerror(err));
}

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, const std::string& path, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> PreadRange(int fd, const std::string& path, uint64_t begin, uint64_t end) {
  std::string buf(static_cast<size_t>(end - begin), '\0');
  size_t done = 0;
  while (done < buf.size()) {
    const ssize_t r =
        ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(begin + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (r == 0) return DataLossError("audit log: " + path + " shrank while being read");
    done += static_cast<size_t>(r);
  }
  return buf;
}

// Offset just after the last '\n' before `end` (0 if none), or nullopt when more than `limit`
// bytes before `end` hold no '\n'.
Result<std::optional<uint64_t>> FindLineStart(int fd, const std::string& path, uint64_t end,
                                              uint64_t limit) {
  uint64_t pos = end;
  while (pos > 0) {
    if (end - pos > limit) return std::optional<uint64_t>();
    const uint64_t begin = pos - std::min<uint64_t>(pos, kReadChunk);
    WEFT_ASSIGN_OR_RETURN(std::string chunk, PreadRange(fd, path, begin, pos));
    if (const size_t i = chunk.rfind('\n'); i != std::string::npos) {
      return std::optional<uint64_t>(begin + i + 1);
    }
    pos = begin;
  }
  return end > limit ? std::optional<uint64_t>() : std::optional<uint64_t>(0);
}

Status SyncDir(const std::string& dir) {
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir, errno);
  return Status::Ok();
}

// Removes [begin, size) from the log after appending those bytes, with a header line, to the
// torn file: repair keeps the evidence. Saved first, so a crash in between loses nothing.
Status CutTail(int fd, const std::string& path, const std::string& dir, uint64_t begin,
               uint64_t size, const Clock& clock) {
  WEFT_ASSIGN_OR_RETURN(std::string bytes, PreadRange(fd, path, begin, size));
  const std::string torn_path = dir + "/" + std::string(kTornFileName);
  ScopedFd torn(::open(torn_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (torn.get() < 0) return IoError("open", torn_path, errno);
  std::string record = "# " + FormatTimestampMicros(UnixMicros(clock.Now())) + " cut from " + path +
                       " at offset " + std::to_string(begin) + ", " + std::to_string(bytes.size()) +
                       " bytes:\n" + bytes;
  if (!record.ends_with('\n')) record.push_back('\n');
  WEFT_RETURN_IF_ERROR(WriteAll(torn.get(), torn_path, record));
  if (::fdatasync(torn.get()) != 0) return IoError("fdatasync", torn_path, errno);
  if (::ftruncate(fd, static_cast<off_t>(begin)) != 0) return IoError("truncate", path, errno);
  if (::fdatasync(fd) != 0) return IoError("fdatasync", path, errno);
  return Status::Ok();
}

}  // namespace

// ---- secrets ----

bool IsSecretKey(std::string_view key) {
  std::string k;
  k.reserve(key.size());
  for (const char c : key) {
    if (c == '_' || c == '-') continue;
    k.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  static constexpr std::array<std::string_view, 8> kWords = {
      "token", "secret", "password", "passwd", "apikey", "authorization", "cookie", "privatekey"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&k](std::string_view w) { return k.find(w) != std::string::npos; });
}

json RedactSecrets(const json& detail) {
  return Redact(detail);
}

// ---- the canonical writer ----

Result<FormattedRecord> FormatAuditRecord(const AuditEvent& event, uint64_t seq, int64_t ts_micros,
                                          std::string_view prev_hash) {
  if (seq == 0) return InvalidArgumentError("audit record: seq starts at 1");
  if (event.action.empty()) return InvalidArgumentError("audit record: action is empty");
  if (!IsDecision(event.decision)) {
    return InvalidArgumentError("audit record: decision \"" + Printable(event.decision, 40) +
                                "\" is not one of allow, deny, done, error");
  }
  if (!event.detail.is_null() && !event.detail.is_object()) {
    return InvalidArgumentError(std::string("audit record: detail must be a JSON object, not ") +
                                event.detail.type_name());
  }
  if (DeeperThan(event.detail, kMaxDetailDepth)) {
    return InvalidArgumentError("audit record: detail is nested deeper than " +
                                std::to_string(kMaxDetailDepth) + " levels");
  }
  if (!IsHash(prev_hash)) {
    return InvalidArgumentError("audit record: prev hash is not 64 lowercase hex digits");
  }
  if (ts_micros < 0 || ts_micros > kMaxTimestampMicros) {
    return InvalidArgumentError("audit record: timestamp " + std::to_string(ts_micros) +
                                " us is outside 1970-01-01 .. 9999-12-31");
  }
  FormattedRecord out;
  try {
    const json detail = event.detail.is_null() ? json::object() : Redact(event.detail);
    // Members in the documented order, compact, as nlohmann::ordered_json would dump them.
    std::string& line = out.line;
    line = "{\"seq\":" + std::to_string(seq);
    line += R"(,"ts":")" + FormatTimestampMicros(ts_micros) + "\"";
    line += ",\"principal\":" + Dump(json(event.principal));
    line += ",\"action\":" + Dump(json(event.action));
    line += ",\"resource\":" + Dump(json(event.resource));
    line += R"(,"decision":")" + event.decision + "\"";
    line += ",\"detail\":" + Dump(detail);
    line += R"(,"prev":")" + std::string(prev_hash) + "\"";
    out.hash = Sha256Hex(line, "}");
    line += std::string(kHashMemberPrefix) + out.hash + "\"}";
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("audit record: cannot serialise: ") + e.what());
  }
  if (out.hash.size() != 64) return InternalError("audit record: SHA-256 failed");
  if (out.line.size() > kMaxRecordBytes) {
    return InvalidArgumentError("audit record: " + std::to_string(out.line.size()) +
                                " bytes, more than the limit of " +
                                std::to_string(kMaxRecordBytes) + " (shorten detail)");
  }
  out.line.push_back('\n');
  return out;
}

// ---- verification ----

std::string VerifyReport::ToString() const {
  std::string head = "audit log" + (dir.empty() ? std::string() : " " + dir) + ": ";
  if (ok) {
    return head + std::to_string(records) + " records, chain intact" +
           (records > 0 ? ", last seq " + std::to_string(last_seq) + " hash " + last_hash : "");
  }
  if (torn_tail) {
    return head + std::to_string(records) + " records verified, then INCOMPLETE: " + problem;
  }
  return head + "TAMPERED at " + problem + "; " + std::to_string(records) +
         " records before it verified";
}

ChainVerifier::ChainVerifier(std::string dir_for_report) {
  report_.dir = std::move(dir_for_report);
}

bool ChainVerifier::Fail(uint64_t seq, std::string problem) {
  report_.ok = false;
  report_.first_bad_line = line_;
  report_.first_bad_seq = seq;
  report_.problem = std::move(problem);
  return false;
}

bool ChainVerifier::Feed(std::string_view bytes) {
  if (!report_.ok) return false;
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const std::string_view part = bytes.substr(0, nl);
    if (pending_.size() + part.size() > kMaxRecordBytes) {
      ++line_;
      return Fail(0, "line " + std::to_string(line_) + ": longer than " +
                         std::to_string(kMaxRecordBytes) + " bytes, the limit for a record");
    }
    if (nl == std::string_view::npos) {
      pending_.append(part);
      return true;
    }
    bytes.remove_prefix(nl + 1);
    ++line_;
    bool ok;
    if (pending_.empty()) {
      ok = CheckLine(part);
    } else {
      pending_.append(part);
      ok = CheckLine(pending_);
      pending_.clear();
    }
    if (!ok) return false;
  }
  return true;
}

bool ChainVerifier::CheckLine(std::string_view line) {
  const ParsedRecord rec = ParseRecord(line);
  const std::string at = "line " + std::to_string(line_) + ": ";
  if (!rec.problem.empty()) return Fail(rec.seq, at + rec.problem);
  if (!rec.hash_ok) return Fail(rec.seq, at + "hash mismatch (record was modified)");
  const bool first = report_.records == 0;
  std::string broken;
  if (rec.prev != report_.last_hash) {
    broken = first ? "prev is not 64 zeros as the first record's must be (records were removed "
                     "from the start?)"
                   : "prev does not match line " + std::to_string(line_ - 1) +
                         "'s hash (a record was removed, inserted or reordered)";
  }
  if (rec.seq != report_.last_seq + 1) {
    std::string seq =
        first ? "seq " + std::to_string(rec.seq) + ", expected 1"
              : "seq " + std::to_string(rec.seq) + " follows " + std::to_string(report_.last_seq);
    broken = broken.empty() ? seq : broken + "; " + seq;
  }
  if (!broken.empty()) return Fail(rec.seq, at + broken);
  ++report_.records;
  report_.last_seq = rec.seq;
  report_.last_hash = rec.hash;
  return true;
}

VerifyReport ChainVerifier::Finish() {
  if (report_.ok && !pending_.empty()) {
    ++line_;
    Fail(0, "line " + std::to_string(line_) + ": truncated last line (" +
                std::to_string(pending_.size()) +
                " bytes without a newline: an interrupted append, or a cut file; opening the "
                "log for appending moves it to " +
                std::string(kTornFileName) + ")");
    report_.torn_tail = true;
  }
  pending_.clear();
  return report_;
}

VerifyReport VerifyAuditText(std::string_view text, std::string dir_for_report) {
  ChainVerifier verifier(std::move(dir_for_report));
  verifier.Feed(text);
  return verifier.Finish();
}

Result<VerifyReport> AuditLog::Verify(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kAuditFileName);
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFoundError("audit log: " + path + " does not exist");
    return IoError("open", path, errno);
  }
  ChainVerifier verifier(dir);
  std::string buf(kReadChunk, '\0');
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (n == 0) break;
    if (!verifier.Feed(std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  return verifier.Finish();
}

// ---- the writer ----

AuditLog::AuditLog(std::string path, int fd, const Clock* clock, uint64_t size, uint64_t last_seq,
                   std::string last_hash, std::vector<std::string> warnings)
    : path_(std::move(path)),
      fd_(fd),
      clock_(clock),
      warnings_(std::move(warnings)),
      size_(size),
      last_seq_(last_seq),
      last_hash_(std::move(last_hash)) {}

AuditLog::~AuditLog() {
  ::close(fd_);  // also releases the flock
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir, const Clock* clock) {
  if (clock == nullptr) return InvalidArgumentError("audit log: Open needs a clock");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return UnavailableError("audit log: cannot create directory " + dir + ": " + ec.message());
  const std::string path = dir + "/" + std::string(kAuditFileName);
  struct stat st {};
  const bool existed = ::stat(path.c_str(), &st) == 0;
  ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (fd.get() < 0) return IoError("open", path, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailedPreconditionError("audit log: " + path +
                                     " is open for appending elsewhere (in this or another "
                                     "process); only one writer at a time");
    }
    return IoError("lock", path, errno);
  }
  if (!existed) WEFT_RETURN_IF_ERROR(SyncDir(dir));  // the new file's entry survives power loss
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
  auto size = static_cast<uint64_t>(st.st_size);
  std::vector<std::string> warnings;

  // 1. A last line without its newline: an append that a crash interrupted.
  if (size > 0) {
    WEFT_ASSIGN_OR_RETURN(std::string last_byte, PreadRange(fd.get(), path, size - 1, size));
    if (last_byte != "\n") {
      WEFT_ASSIGN_OR_RETURN(auto start, FindLineStart(fd.get(), path, size, kMaxRecordBytes));
      if (!start) {
        return DataLossError("audit log: " + path + " ends in more than " +
                             std::to_string(kMaxRecordBytes) +
                             " bytes without a newline, longer than any record: not an "
                             "interrupted append. Inspect it (weft audit verify " +
                             dir + "); to start a new chain, move the file aside");
      }
      WEFT_RETURN_IF_ERROR(CutTail(fd.get(), path, dir, *start, size, *clock));
      warnings.push_back("audit log: " + path + ": removed a truncated last line (" +
                         std::to_string(size - *start) +
                         " bytes without a newline, left by an interrupted append); saved in " +
                         std::string(kTornFileName));
      size = *start;
    }
  }

  // 2. The last complete line gives seq and hash. A damaged one (e.g. a crash persisted the
  // line's end but not its start) is cut like a torn line, once; two damaged lines are not a
  // crash, and a person has to look.
  uint64_t last_seq = 0;
  std::string last_hash(kGenesisHash);
  for (int attempt = 0; size > 0; ++attempt) {
    WEFT_ASSIGN_OR_RETURN(auto start, FindLineStart(fd.get(), path, size - 1, kMaxRecordBytes));
    ParsedRecord rec;
    if (!start) {
      rec.problem = "longer than " + std::to_string(kMaxRecordBytes) + " bytes";
    } else {
      WEFT_ASSIGN_OR_RETURN(std::string line, PreadRange(fd.get(), path, *start, size - 1));
      rec = ParseRecord(line);
    }
    if (rec.problem.empty()) {
      if (!rec.hash_ok) {
        warnings.push_back(fmt::format(
            "audit log: {}: the last record (seq {}) does not match its hash: it was modified. "
            "It is kept as evidence and the chain continues from its stored hash; run weft audit "
            "verify {}",
            path, rec.seq, dir));
      }
      last_seq = rec.seq;
      last_hash = rec.hash;
      break;
    }
    if (attempt > 0 || !start) {
      return DataLossError(fmt::format(
          "audit log: {}: the last line is not an audit record ({}), so the chain cannot be "
          "continued. Inspect it (weft audit verify {}); to start a new chain, move the file aside",
          path, rec.problem, dir));
    }
    WEFT_RETURN_IF_ERROR(CutTail(fd.get(), path, dir, *start, size, *clock));
    warnings.push_back(fmt::format(
        "audit log: {}: removed a damaged last line ({}), taken for an interrupted append; saved "
        "in {}",
        path, rec.problem, kTornFileName));
    size = *start;
  }
  for (const std::string& w : warnings) spdlog::warn("{}", w);
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd.release(), clock, size, last_seq,
                                                std::move(last_hash), std::move(warnings)));
}

Result<uint64_t> AuditLog::Append(const AuditEvent& event) {
  return AppendAll(std::span<const AuditEvent>(&event, 1));
}

Result<uint64_t> AuditLog::AppendAll(std::span<const AuditEvent> events) {
  std::lock_guard lock(mutex_);
  if (!broken_.ok()) {
    return FailedPreconditionError("audit log: " + path_ + " refuses appends after an I/O error (" +
                                   broken_.message() + "); reopen it");
  }
  if (events.empty()) return last_seq_;
  std::string bytes;
  uint64_t seq = last_seq_;
  std::string hash = last_hash_;
  for (size_t i = 0; i < events.size(); ++i) {
    auto record = FormatAuditRecord(events[i], ++seq, UnixMicros(clock_->Now()), hash);
    if (!record.ok()) {
      return events.size() == 1
                 ? record.status()
                 : record.status().WithContext("event " + std::to_string(i + 1) + " of " +
                                               std::to_string(events.size()) + " (none written)");
    }
    bytes += record->line;
    hash = std::move(record->hash);
  }
  Status s = WriteAll(fd_, path_, bytes);
  if (s.ok() && ::fdatasync(fd_) != 0) s = IoError("fdatasync", path_, errno);
  if (!s.ok()) {
    // Best effort: leave no partial line behind. After a failed fdatasync the page cache may
    // not match the disk, so only a reopen (which re-reads the file) may append again.
    (void)::ftruncate(fd_, static_cast<off_t>(size_));
    broken_ = s;
    spdlog::error("{}", s.message());
    return s;
  }
  size_ += bytes.size();
  last_seq_ = seq;
  last_hash_ = std::move(hash);
  return seq;
}

uint64_t AuditLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

std::string AuditLog::last_hash() const {
  std::lock_guard lock(mutex_);
  return last_hash_;
}

}  // namespace weft::core::audit

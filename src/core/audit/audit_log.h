// AuditLog: the core's append-only audit log, a hash chain in JSON Lines, so that an edit, a
// removal or a reordering of records is detectable (`weft audit verify DIR`).
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log,
//                         AuditLog::Open("/var/lib/weft/audit", &SystemClock::Default()));
//   for (const std::string& w : log->recovery_warnings()) ...;  // e.g. a torn last line removed
//   WEFT_ASSIGN_OR_RETURN(uint64_t seq,
//                         log->Append({.principal = "alice", .action = "lake.read",
//                                      .resource = "lake/plant_a/signals", .decision = "allow",
//                                      .detail = {{"rows", 1200}}}));
//   ...
//   WEFT_ASSIGN_OR_RETURN(VerifyReport report, AuditLog::Verify("/var/lib/weft/audit"));
//   std::cout << report.ToString() << "\n";  // "audit log ...: 812 records, chain intact, ..."
//
// File: DIR/audit.log, one record per line ('\n'), each a compact JSON object with the members
// seq, ts, principal, action, resource, decision, detail, prev, hash in this order:
//   seq       1, 2, 3, ... (consecutive)
//   ts        "2026-11-25T10:00:00.123456Z" (UTC, always six fractional digits, from the Clock)
//   decision  "allow" | "deny" | "done" | "error"
//   detail    a JSON object, keys sorted; secret-looking keys masked (see RedactSecrets)
//   prev      the previous record's hash; 64 zeros for seq 1
//   hash      lowercase hex SHA-256 of the line's bytes without its hash member, i.e. of
//             line[0 : len - 75] + "}" (the member `,"hash":"<64 hex>"}` is always last)
// README.md states the format for independent verifiers, with a ten-line Python check.
//
// Durability: Append/AppendAll return only after write() and fdatasync() of the whole batch, so
// an acknowledged record survives kill -9 and power loss. A crash during an append can leave a
// torn last line; Open cuts it off (keeping a copy in DIR/audit.log.torn) and warns.
//
// Tamper evidence: Verify checks every record's hash, the prev links and the seq order. A hash
// chain without a key cannot stop someone who rewrites the whole file from the first changed
// record on, nor show that records were cut off the end: anchor it by recording
// VerifyReport::last_seq / last_hash elsewhere from time to time.
//
// Thread-safety: AuditLog's methods are thread-safe (one mutex, held during the fdatasync).
// One AuditLog per directory: Open takes an exclusive flock on the file (a second Open, in this
// or another process, fails). Verify and the free functions are stateless and thread-safe;
// ChainVerifier is a value, not thread-safe.
#ifndef WEFT_CORE_AUDIT_AUDIT_LOG_H_
#define WEFT_CORE_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::core::audit {

//! The file inside the audit directory.
inline constexpr std::string_view kAuditFileName = "audit.log";
//! Where Open keeps the bytes of a torn last line it removed (appended, never read by Weft).
inline constexpr std::string_view kTornFileName = "audit.log.torn";
//! Longest record line, newline excluded. Append refuses longer records; Verify reports them.
inline constexpr size_t kMaxRecordBytes = size_t{1} << 20;
//! `prev` of the first record.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

//! What happened. `decision` is one of "allow", "deny" (an access decision), "done" (an action
//! carried out) or "error" (an action that failed). `detail` is a JSON object (null counts as
//! {}); keys that look like secrets are masked before writing (RedactSecrets), but callers must
//! still not put tokens into principal, action or resource.
struct AuditEvent {
  std::string principal;
  std::string action;
  std::string resource;
  std::string decision;
  nlohmann::json detail = nlohmann::json::object();
};

//! True when `key` names a secret: case-insensitively, with '_' and '-' ignored, it contains
//! "token", "secret", "password", "passwd", "apikey", "authorization", "cookie" or
//! "privatekey" (so "api_key", "X-Auth-Token", "refresh_token", "DB_PASSWORD" all are).
bool IsSecretKey(std::string_view key);

//! A copy of `detail` in which the value of every member whose key IsSecretKey, at any depth
//! (inside nested objects and arrays too), is replaced by "***".
nlohmann::json RedactSecrets(const nlohmann::json& detail);

//! One record as written: the line (with its '\n') and its hash.
struct FormattedRecord {
  std::string line;
  std::string hash;
};

//! The canonical writer, exposed for tools and tests: the line AuditLog writes for `event` as
//! record `seq` at `ts_micros` (µs since the Unix epoch, up to year 9999), chained to
//! `prev_hash`. Masks secrets in detail; invalid UTF-8 in strings becomes U+FFFD.
//! InvalidArgument for an empty action, a decision outside the four, a detail that is not an
//! object or is nested deeper than 64 levels, a prev_hash that is not 64 lowercase hex digits,
//! seq 0, a timestamp out of range, or a line longer than kMaxRecordBytes.
Result<FormattedRecord> FormatAuditRecord(const AuditEvent& event, uint64_t seq, int64_t ts_micros,
                                          std::string_view prev_hash);

//! The outcome of verifying a log. Tampering is a report with ok == false, not an error status.
struct VerifyReport {
  //! The directory verified (as given), for messages.
  std::string dir;
  //! Records that verified, up to the first problem (all of them when ok).
  uint64_t records = 0;
  bool ok = true;
  //! The last line ends without a newline (an interrupted append, or a cut file). Also !ok.
  bool torn_tail = false;
  //! 1-based line of the first problem, and the seq that record claims if it could be read;
  //! both 0 when ok.
  uint64_t first_bad_line = 0;
  uint64_t first_bad_seq = 0;
  //! "line 17: hash mismatch (record was modified)"; empty when ok.
  std::string problem;
  //! seq and hash of the last record that verified (0 and kGenesisHash for none): record them
  //! elsewhere to detect later rewrites or cuts of the end.
  uint64_t last_seq = 0;
  std::string last_hash = std::string(kGenesisHash);

  //! "audit log DIR: 812 records, chain intact, last hash <hex>", or
  //! "audit log DIR: TAMPERED at line 17: hash mismatch (record was modified); 16 records before
  //! it verified", or for a torn tail "audit log DIR: 812 records verified, then INCOMPLETE: ...".
  std::string ToString() const;
};

//! Verifies a log fed in pieces of any size (the bytes of audit.log, in order). Used by
//! AuditLog::Verify; exposed for verifying copies of a log held elsewhere, and for the fuzzer.
//! Never crashes, whatever the bytes; memory is bounded by kMaxRecordBytes.
class ChainVerifier {
 public:
  explicit ChainVerifier(std::string dir_for_report = "");
  //! The next bytes. Returns false once a problem was found (further bytes are ignored).
  bool Feed(std::string_view bytes);
  //! The report. Call once, after the last Feed.
  VerifyReport Finish();

 private:
  bool CheckLine(std::string_view line);
  bool Fail(uint64_t seq, std::string problem);

  VerifyReport report_;
  std::string pending_;  //!< bytes after the last '\n' seen
  uint64_t line_ = 0;    //!< lines completed so far
};

//! ChainVerifier over a whole log held in memory.
VerifyReport VerifyAuditText(std::string_view text, std::string dir_for_report = "");

class AuditLog {
 public:
  //! Opens DIR/audit.log for appending, creating DIR and the file if missing, and continues its
  //! chain from the last record. Recovery: a torn last line (no trailing newline, or a last
  //! line that is not a well-formed record: an append interrupted by a crash) is cut off, its
  //! bytes appended to DIR/audit.log.torn, and a warning added to recovery_warnings() and
  //! logged. A last record whose hash does not match is kept (it is evidence), warned about,
  //! and the chain continues from its stored hash; Verify will name it. Only the end of the file
  //! is read: Open is fast on any size and never blocked by damage earlier in the file.
  //! Errors: FailedPrecondition if another AuditLog holds the file; DataLoss if the end of the
  //! file cannot be read as records at all (the message says how to start a new chain);
  //! Unavailable for I/O errors. `clock` must outlive the log.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& dir, const Clock* clock);

  //! Checks the whole log in DIR (streamed; memory bounded). NotFound if DIR/audit.log does not
  //! exist, Unavailable for I/O errors; tampering or damage is reported in the VerifyReport.
  //! Verifying a log that is being appended to may see the last line half-written (torn_tail):
  //! verify again.
  static Result<VerifyReport> Verify(const std::string& dir);

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  //! Writes one record durably (write + fdatasync) and returns its seq.
  //! InvalidArgument for a malformed event (see FormatAuditRecord); Unavailable for an I/O error,
  //! after which the log refuses appends (FailedPrecondition) until reopened, since after a
  //! failed fdatasync the file's state is unknown.
  Result<uint64_t> Append(const AuditEvent& event);
  //! Writes the events as consecutive records with one write and one fdatasync; returns the
  //! seq of the last one (all or none are acknowledged). For an empty span, returns last_seq().
  Result<uint64_t> AppendAll(std::span<const AuditEvent> events);

  //! seq and hash of the last record (0 and kGenesisHash for an empty log).
  uint64_t last_seq() const;
  std::string last_hash() const;
  //! What Open repaired or found (empty normally).
  const std::vector<std::string>& recovery_warnings() const { return warnings_; }
  //! DIR/audit.log.
  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd, const Clock* clock, uint64_t size, uint64_t last_seq,
           std::string last_hash, std::vector<std::string> warnings);

  const std::string path_;
  const int fd_;
  const Clock* const clock_;
  const std::vector<std::string> warnings_;

  mutable std::mutex mutex_;
  uint64_t size_;          // GUARDED_BY(mutex_): bytes of acknowledged records in the file
  uint64_t last_seq_;      // GUARDED_BY(mutex_)
  std::string last_hash_;  // GUARDED_BY(mutex_)
  Status broken_;          // GUARDED_BY(mutex_): the I/O error that stopped appends, if any
};

}  // namespace weft::core::audit

#endif  // WEFT_CORE_AUDIT_AUDIT_LOG_H_

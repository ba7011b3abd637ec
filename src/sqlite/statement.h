// The core's SQLite helpers, shared by the registry and the catalog: result codes as canonical
// Status values, and a prepared statement that binds and reads typed values.
//
//   WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db, path, "SELECT id FROM t WHERE k =
//   ?1")); WEFT_RETURN_IF_ERROR(q.Bind(1, key)); while (true) {
//     WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading t"));
//     if (!row) break;
//     ... q.Int(0), q.Text(1), q.OptionalInt(2) ...
//   }
//
// Messages name the database file and the step: "/var/lib/weft/state/registry.db: adding a
// grant: UNIQUE constraint failed: ...".
//
// Thread-safety: a Statement belongs to one thread (its connection's owner).
#ifndef WEFT_SQLITE_STATEMENT_H_
#define WEFT_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::sqlite {

//! A SQLite result code as a canonical Status: UNIQUE/PRIMARY KEY constraint -> AlreadyExists,
//! FOREIGN KEY -> NotFound, other constraints -> InvalidArgument, BUSY/LOCKED/IOERR ->
//! Unavailable, CORRUPT/NOTADB -> DataLoss, CANTOPEN/READONLY/PERM -> FailedPrecondition, FULL
//! -> ResourceExhausted, anything else Internal. `db` may be null (then only `rc` speaks).
Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view what);

//! OK for SQLITE_OK, SqliteError otherwise.
Status Check(sqlite3* db, int rc, const std::string& path, std::string_view what);

//! Runs fixed SQL text (pragmas, transactions, migrations): never text built from input.
Status ExecFixed(sqlite3* db, const std::string& path, const char* sql, std::string_view what);

//! BEGIN IMMEDIATE ... COMMIT: every early return before Commit() rolls back, so the database
//! is left as it was. A failed COMMIT rolls back too.
//!
//!   WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, path));
//!   ... statements ...
//!   return txn.Commit();
//!
//! `path` (named in messages) must outlive the transaction.
class Transaction {
 public:
  static Result<Transaction> Begin(sqlite3* db, const std::string& path);
  Transaction(Transaction&& o) noexcept : db_(o.db_), path_(o.path_), open_(o.open_) {
    o.open_ = false;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  sqlite3* db_;
  const std::string& path_;
  bool open_ = true;
};

//! How a database survives a power cut: kFull syncs every commit (a revoked token stays
//! revoked); kNormal may lose the last commits (data derived from elsewhere, observed again).
enum class Durability { kFull, kNormal };

//! Opens (creating) the database at `path` for one thread at a time (SQLITE_OPEN_NOMUTEX: the
//! owner serialises), with extended result codes, a 5 s busy timeout, WAL (FailedPrecondition
//! when the file system refuses it), the durability's synchronous mode and foreign keys on. A
//! file it creates is made readable by its owner only (0600). The caller owns the handle
//! (sqlite3_close_v2); on error nothing is left open. `what` names the database in messages.
Result<sqlite3*> OpenDatabase(const std::string& path, std::string_view what,
                              Durability durability);

//! PRAGMA user_version (0 for a new file).
Result<int64_t> ReadSchemaVersion(sqlite3* db, const std::string& path);

//! Brings the schema to version migrations.size(): step i (0-based) takes version i to i + 1,
//! each in its own IMMEDIATE transaction (two processes opening a new file do not both run a
//! step; the version is re-read under the lock). A file newer than the code is refused with
//! FailedPrecondition naming both versions; `what` names the database in messages ("registry").
Status Migrate(sqlite3* db, const std::string& path, std::string_view what,
               std::span<const std::string_view> migrations);

//! A prepared statement, finalized on destruction. Text is bound without copying
//! (SQLITE_STATIC): the caller keeps it alive until the last Step(). `path` (for messages) must
//! outlive the statement.
class Statement {
 public:
  static Result<Statement> Prepare(sqlite3* db, const std::string& path, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Status Bind(int index, std::string_view text);  //!< an empty view binds '', never NULL
  Status Bind(int index, int64_t value);
  Status Bind(int index, std::optional<int64_t> value);  //!< nullopt binds NULL
  //! Binds each of `values` from index 1 on.
  template <typename... Ts>
  Status BindAll(const Ts&... values) {
    int i = 0;
    Status s;
    ((s.ok() ? (void)(s = Bind(++i, values)) : (void)0), ...);
    return s;
  }

  //! True when a row is ready, false when the statement is done.
  Result<bool> Step(std::string_view what);
  //! Runs a statement that returns no rows, then resets it (ready to bind and run again).
  Status Run(std::string_view what);
  //! Ready to bind and run again (bindings cleared).
  Status Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<int64_t> OptionalInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  std::string Text(int col) const;

 private:
  Statement(sqlite3* db, const std::string* path, sqlite3_stmt* stmt)
      : db_(db), path_(path), stmt_(stmt) {}

  sqlite3* db_;
  const std::string* path_;
  sqlite3_stmt* stmt_;
};

}  // namespace weft::sqlite

#endif  // WEFT_SQLITE_STATEMENT_H_

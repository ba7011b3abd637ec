#include "sqlite/statement.h"

#include <climits>
#include <filesystem>
#include <memory>
#include <utility>

namespace weft::sqlite {

Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string message = path + ": " + std::string(what) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(message));
      }
      if (extended == SQLITE_CONSTRAINT_FOREIGNKEY) return NotFoundError(std::move(message));
      return InvalidArgumentError(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::move(message) + " (the database is locked; retry)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(std::move(message));
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return FailedPreconditionError(std::move(message));
    case SQLITE_FULL:
      return Status(StatusCode::kResourceExhausted, std::move(message) + " (disk full)");
    case SQLITE_IOERR: return UnavailableError(std::move(message));
    default: return InternalError(std::move(message));
  }
}

Status Check(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc, path, what);
}

Status ExecFixed(sqlite3* db, const std::string& path, const char* sql, std::string_view what) {
  return Check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), path, what);
}

Result<sqlite3*> OpenDatabase(const std::string& path, std::string_view what,
                              Durability durability) {
  if (path.empty()) return InvalidArgumentError(std::string(what) + ": empty database path");
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);  // closed on error
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, path, "opening the database");
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);
  if (!existed && path != ":memory:") {
    // Registries and catalogs say who may do what and what is sensitive: weft-core's user only.
    // SQLite gives the -wal and -shm files the same mode.
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace, ec);
  }
  {
    // The first statement that reads the file: "file is not a database" surfaces here.
    WEFT_ASSIGN_OR_RETURN(Statement wal,
                          Statement::Prepare(db.get(), path, "PRAGMA journal_mode=WAL"));
    WEFT_ASSIGN_OR_RETURN(bool row, wal.Step("setting journal_mode=WAL"));
    const std::string mode = row ? wal.Text(0) : "";
    if (mode != "wal" && !(path == ":memory:" && mode == "memory")) {
      return FailedPreconditionError(std::string(what) + " " + path +
                                     ": could not enable WAL (journal_mode is '" + mode +
                                     "'); is the file on a network filesystem?");
    }
  }
  WEFT_RETURN_IF_ERROR(ExecFixed(
      db.get(), path,
      durability == Durability::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
      "setting synchronous"));
  WEFT_RETURN_IF_ERROR(
      ExecFixed(db.get(), path, "PRAGMA foreign_keys=ON", "enabling foreign keys"));
  return db.release();
}

Result<int64_t> ReadSchemaVersion(sqlite3* db, const std::string& path) {
  // The statement is finalized on return, so it holds no read transaction afterwards.
  WEFT_ASSIGN_OR_RETURN(Statement get, Statement::Prepare(db, path, "PRAGMA user_version"));
  WEFT_ASSIGN_OR_RETURN(bool has_row, get.Step("reading the schema version"));
  return has_row ? get.Int(0) : 0;
}

Status Migrate(sqlite3* db, const std::string& path, std::string_view what,
               std::span<const std::string_view> migrations) {
  WEFT_ASSIGN_OR_RETURN(const int64_t version, ReadSchemaVersion(db, path));
  const auto known = static_cast<int64_t>(migrations.size());
  if (version > known) {
    return FailedPreconditionError(std::string(what) + " " + path + " has schema version " +
                                   std::to_string(version) + " but this weft-core knows up to " +
                                   std::to_string(known) +
                                   "; run a newer weft-core (downgrades are not supported)");
  }
  if (version < 0) {
    return DataLossError(std::string(what) + " " + path + " has a negative schema version " +
                         std::to_string(version));
  }
  for (auto i = static_cast<size_t>(version); i < migrations.size(); ++i) {
    const std::string step = "migration to schema version " + std::to_string(i + 1);
    WEFT_RETURN_IF_ERROR(ExecFixed(db, path, "BEGIN IMMEDIATE", step));
    Result<int64_t> now = ReadSchemaVersion(db, path);  // another process may have migrated
    if (!now.ok() || *now > static_cast<int64_t>(i)) {
      (void)ExecFixed(db, path, "ROLLBACK", step);
      if (!now.ok()) return now.status();
      if (*now > known) return Migrate(db, path, what, migrations);  // reports the newer one
      continue;
    }
    const std::string sql =
        std::string(migrations[i]) + "\nPRAGMA user_version = " + std::to_string(i + 1) + ";";
    Status applied = ExecFixed(db, path, sql.c_str(), step);
    if (!applied.ok()) {
      (void)ExecFixed(db, path, "ROLLBACK", step);
      return applied;
    }
    WEFT_RETURN_IF_ERROR(ExecFixed(db, path, "COMMIT", step));
  }
  return Status::Ok();
}

Result<Statement> Statement::Prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db, rc, path, "preparing a statement");
  }
  return Statement(db, &path, stmt);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), path_(other.path_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Status Statement::Bind(int index, std::string_view text) {
  if (text.size() > INT_MAX) return InvalidArgumentError(*path_ + ": text parameter too long");
  // A null data pointer would bind SQL NULL; an empty view binds ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  return Check(db_, sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), nullptr),
               *path_, "binding a parameter");
}

Status Statement::Bind(int index, int64_t value) {
  return Check(db_, sqlite3_bind_int64(stmt_, index, value), *path_, "binding a parameter");
}

Status Statement::Bind(int index, std::optional<int64_t> value) {
  if (!value) return Check(db_, sqlite3_bind_null(stmt_, index), *path_, "binding a parameter");
  return Bind(index, *value);
}

Result<bool> Statement::Step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, *path_, what);
}

Status Statement::Run(std::string_view what) {
  WEFT_ASSIGN_OR_RETURN(bool row, Step(what));
  (void)row;
  return Reset();
}

Status Statement::Reset() {
  sqlite3_reset(stmt_);
  return Check(db_, sqlite3_clear_bindings(stmt_), *path_, "resetting a statement");
}

std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<Transaction> Transaction::Begin(sqlite3* db, const std::string& path) {
  WEFT_RETURN_IF_ERROR(ExecFixed(db, path, "BEGIN IMMEDIATE", "starting a transaction"));
  return Transaction(db, path);
}

Transaction::~Transaction() {
  if (open_) (void)ExecFixed(db_, path_, "ROLLBACK", "rolling back");
}

Status Transaction::Commit() {
  open_ = false;
  Status s = ExecFixed(db_, path_, "COMMIT", "committing");
  if (!s.ok()) (void)ExecFixed(db_, path_, "ROLLBACK", "rolling back");
  return s;
}

}  // namespace weft::sqlite

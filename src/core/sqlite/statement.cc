#include "core/sqlite/statement.h"

#include <climits>
#include <utility>

namespace weft::core::sqlite {

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

}  // namespace weft::core::sqlite

#include "core/registry/sqlite_registry_store.h"

#include <sqlite3.h>

#include <array>
#include <climits>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/time_format.h"
#include "core/registry/tokens.h"
#include "sqlite/statement.h"

namespace weft::registry {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::SqliteError;
using ::weft::sqlite::Statement;

// The schema, one migration per element, applied in order; never edit a released migration,
// append a new one. Version N means migrations [0, N) have run. Times are µs since the Unix
// epoch (UTC). The SQL keeps to what PostgreSQL also accepts where that costs nothing, so the
// PostgreSQL store can start from the same text.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE principals (
  id            TEXT PRIMARY KEY NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('user', 'service_account', 'device')),
  display_name  TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at_us INTEGER NOT NULL,
  cert_subject  TEXT UNIQUE,
  CHECK ((kind = 'device') = (cert_subject IS NOT NULL))
);
CREATE TABLE grants (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  principal_id  TEXT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
  role          TEXT NOT NULL,
  scope         TEXT NOT NULL,
  tag_key       TEXT NOT NULL DEFAULT '',  -- '' and '': no tag condition (UNIQUE needs non-NULL)
  tag_value     TEXT NOT NULL DEFAULT '',
  created_at_us INTEGER NOT NULL,
  UNIQUE (principal_id, role, scope, tag_key, tag_value)
);
CREATE INDEX grants_by_principal ON grants (principal_id);
CREATE TABLE api_tokens (
  id              TEXT PRIMARY KEY NOT NULL,  -- public: the token's first 13 characters
  principal_id    TEXT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
  sha256_hex      TEXT NOT NULL UNIQUE,
  created_at_us   INTEGER NOT NULL,
  expires_at_us   INTEGER,
  revoked         INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  last_used_at_us INTEGER
);
CREATE INDEX api_tokens_by_principal ON api_tokens (principal_id);
)sql",
};

constexpr Micros kLastUsedResolution = std::chrono::minutes(1);
constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxTextLength = 256;

Status MakeUnauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

Status ValidatePrincipalId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return InvalidArgumentError("principal id must be 1 to 128 characters, got " +
                                std::to_string(id.size()));
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == ':' || c == '-';
    if (!ok) {
      return InvalidArgumentError("principal id '" + std::string(id) +
                                  "' may contain only letters, digits and . _ @ : -");
    }
  }
  return Status::Ok();
}

Status ValidateText(std::string_view field, std::string_view text) {
  if (text.size() > kMaxTextLength) {
    return InvalidArgumentError(std::string(field) + " is longer than 256 characters");
  }
  for (char c : text) {
    if (IsControl(c)) {
      return InvalidArgumentError(std::string(field) + " contains a control character");
    }
  }
  return Status::Ok();
}

constexpr std::string_view kPrincipalColumns =
    "id, kind, display_name, disabled, created_at_us, cert_subject";

Result<Principal> ReadPrincipal(const Statement& row, const std::string& path) {
  Principal p;
  p.id = row.Text(0);
  Result<PrincipalKind> kind = ParsePrincipalKind(row.Text(1));
  if (!kind.ok()) {
    return DataLossError("registry " + path + ": principal '" + p.id +
                         "': " + kind.status().message());
  }
  p.kind = *kind;
  p.display_name = row.Text(2);
  p.disabled = row.Int(3) != 0;
  p.created_at = TimeFromUnixMicros(row.Int(4));
  p.cert_subject = row.Text(5);
  return p;
}

constexpr std::string_view kGrantColumns =
    "id, principal_id, role, scope, tag_key, tag_value, created_at_us";

Result<Grant> ReadGrant(const Statement& row, const std::string& path) {
  Grant g;
  g.id = row.Int(0);
  g.principal_id = row.Text(1);
  Result<Role> role = ParseRole(row.Text(2));
  if (!role.ok()) {
    return DataLossError("registry " + path + ": grant #" + std::to_string(g.id) + ": " +
                         role.status().message());
  }
  g.role = *role;
  g.scope = row.Text(3);
  std::string tag_key = row.Text(4);
  if (!tag_key.empty()) g.tag = TagCondition{std::move(tag_key), row.Text(5)};
  g.created_at = TimeFromUnixMicros(row.Int(6));
  return g;
}

constexpr std::string_view kTokenColumns =
    "id, principal_id, sha256_hex, created_at_us, expires_at_us, revoked, last_used_at_us";

TokenRecord ReadToken(const Statement& row) {
  TokenRecord t;
  t.id = row.Text(0);
  t.principal_id = row.Text(1);
  t.sha256_hex = row.Text(2);
  t.created_at = TimeFromUnixMicros(row.Int(3));
  if (auto v = row.OptionalInt(4)) t.expires_at = TimeFromUnixMicros(*v);
  t.revoked = row.Int(5) != 0;
  if (auto v = row.OptionalInt(6)) t.last_used_at = TimeFromUnixMicros(*v);
  return t;
}

std::string Sql(std::string_view head, std::string_view columns, std::string_view tail) {
  return std::string(head) + std::string(columns) + std::string(tail);
}

}  // namespace

int SqliteRegistryStore::SchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

Result<std::unique_ptr<SqliteRegistryStore>> SqliteRegistryStore::Open(const std::string& path,
                                                                       const Clock* clock) {
  if (clock == nullptr) return InvalidArgumentError("registry " + path + ": no clock given");
  // FULL: a revoked token or a disabled principal survives a power cut.
  WEFT_ASSIGN_OR_RETURN(
      sqlite3 * db, ::weft::sqlite::OpenDatabase(path, "registry",
                                                       ::weft::sqlite::Durability::kFull));
  std::unique_ptr<SqliteRegistryStore> store(new SqliteRegistryStore(path, db, clock));
  WEFT_RETURN_IF_ERROR(::weft::sqlite::Migrate(db, path, "registry", kMigrations));
  return store;
}

SqliteRegistryStore::SqliteRegistryStore(std::string path, sqlite3* db, const Clock* clock)
    : path_(std::move(path)), clock_(clock), db_(db) {}

SqliteRegistryStore::~SqliteRegistryStore() {
  sqlite3_close_v2(db_);
}

Result<Principal> SqliteRegistryStore::CreatePrincipal(const NewPrincipal& principal) {
  WEFT_RETURN_IF_ERROR(ValidatePrincipalId(principal.id));
  WEFT_RETURN_IF_ERROR(ValidateText("display name", principal.display_name));
  WEFT_RETURN_IF_ERROR(ValidateText("certificate subject", principal.cert_subject));
  const bool is_device = principal.kind == PrincipalKind::kDevice;
  if (is_device && principal.cert_subject.empty()) {
    return InvalidArgumentError("device '" + principal.id +
                                "' needs a cert_subject (its client certificate's subject CN)");
  }
  if (!is_device && !principal.cert_subject.empty()) {
    return InvalidArgumentError(std::string(PrincipalKindName(principal.kind)) + " '" +
                                principal.id +
                                "' cannot have a cert_subject: only devices authenticate by "
                                "certificate");
  }
  Principal out{principal.id, principal.kind, principal.display_name,
                false,        clock_->Now(),  principal.cert_subject};

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_, path_,
                         "INSERT INTO principals (id, kind, display_name, disabled, "
                         "created_at_us, cert_subject) VALUES (?1, ?2, ?3, 0, ?4, ?5)"));
  WEFT_RETURN_IF_ERROR(insert.Bind(1, out.id));
  WEFT_RETURN_IF_ERROR(insert.Bind(2, PrincipalKindName(out.kind)));
  WEFT_RETURN_IF_ERROR(insert.Bind(3, out.display_name));
  WEFT_RETURN_IF_ERROR(insert.Bind(4, UnixMicros(out.created_at)));
  if (is_device) {
    WEFT_RETURN_IF_ERROR(insert.Bind(5, out.cert_subject));
  } else {
    WEFT_RETURN_IF_ERROR(insert.Bind(5, std::optional<int64_t>()));
  }
  Status s = insert.Run("creating principal '" + out.id + "'");
  if (s.code() == StatusCode::kAlreadyExists) {
    const bool id_taken = GetPrincipalLocked(out.id).ok();
    return AlreadyExistsError(id_taken ? "principal '" + out.id + "' already exists"
                                       : "certificate subject '" + out.cert_subject +
                                             "' already belongs to another device");
  }
  WEFT_RETURN_IF_ERROR(s);
  return out;
}

Result<Principal> SqliteRegistryStore::GetPrincipalLocked(std::string_view id) {
  WEFT_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_, path_,
                         Sql("SELECT ", kPrincipalColumns, " FROM principals WHERE id = ?1")));
  WEFT_RETURN_IF_ERROR(select.Bind(1, id));
  WEFT_ASSIGN_OR_RETURN(bool row, select.Step("reading principal"));
  if (!row) return NotFoundError("unknown principal '" + std::string(id) + "'");
  return ReadPrincipal(select, path_);
}

Result<Principal> SqliteRegistryStore::GetPrincipal(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return GetPrincipalLocked(id);
}

Result<std::vector<Principal>> SqliteRegistryStore::ListPrincipals() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db_, path_,
                                                             Sql("SELECT ", kPrincipalColumns,
                                                                 " FROM principals ORDER BY id")));
  std::vector<Principal> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, select.Step("listing principals"));
    if (!row) break;
    WEFT_ASSIGN_OR_RETURN(Principal p, ReadPrincipal(select, path_));
    out.push_back(std::move(p));
  }
  return out;
}

Status SqliteRegistryStore::DisablePrincipal(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(db_, path_, "UPDATE principals SET disabled = 1 WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(update.Bind(1, id));
  WEFT_RETURN_IF_ERROR(update.Run("disabling principal"));
  if (sqlite3_changes(db_) == 0) {
    return NotFoundError("unknown principal '" + std::string(id) + "'");
  }
  return Status::Ok();
}

Result<Principal> SqliteRegistryStore::PrincipalByCertSubject(std::string_view cert_subject) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement select,
                        Statement::Prepare(db_, path_,
                                           Sql("SELECT ", kPrincipalColumns,
                                               " FROM principals WHERE cert_subject = ?1")));
  WEFT_RETURN_IF_ERROR(select.Bind(1, cert_subject));
  WEFT_ASSIGN_OR_RETURN(bool row, select.Step("finding device by certificate subject"));
  if (!row) {
    return NotFoundError("no device has certificate subject '" + std::string(cert_subject) + "'");
  }
  return ReadPrincipal(select, path_);
}

Result<Grant> SqliteRegistryStore::AddGrant(const NewGrant& grant) {
  WEFT_RETURN_IF_ERROR(ValidatePrincipalId(grant.principal_id));
  WEFT_RETURN_IF_ERROR(ValidateScope(grant.scope));
  if (RoleName(grant.role) == "unknown_role") return InvalidArgumentError("grant: invalid role");
  if (grant.tag) {
    // Round-trip through the parser so stored conditions always read back.
    WEFT_RETURN_IF_ERROR(ParseTagCondition(FormatTagCondition(*grant.tag)).status());
    if (grant.tag->key.find('=') != std::string::npos) {
      return InvalidArgumentError("tag condition key '" + grant.tag->key + "' contains '='");
    }
  }
  Grant out;
  out.principal_id = grant.principal_id;
  out.role = grant.role;
  out.scope = grant.scope;
  out.tag = grant.tag;
  out.created_at = clock_->Now();

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(GetPrincipalLocked(grant.principal_id).status());
  WEFT_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_, path_,
                         "INSERT INTO grants (principal_id, role, scope, tag_key, tag_value, "
                         "created_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  WEFT_RETURN_IF_ERROR(insert.Bind(1, out.principal_id));
  WEFT_RETURN_IF_ERROR(insert.Bind(2, RoleName(out.role)));
  WEFT_RETURN_IF_ERROR(insert.Bind(3, out.scope));
  WEFT_RETURN_IF_ERROR(insert.Bind(4, out.tag ? std::string_view(out.tag->key) : ""));
  WEFT_RETURN_IF_ERROR(insert.Bind(5, out.tag ? std::string_view(out.tag->value) : ""));
  WEFT_RETURN_IF_ERROR(insert.Bind(6, UnixMicros(out.created_at)));
  Status s = insert.Run("adding grant");
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("principal '" + out.principal_id + "' already has the grant " +
                              DescribeGrant(out));
  }
  WEFT_RETURN_IF_ERROR(s);
  out.id = sqlite3_last_insert_rowid(db_);
  return out;
}

Status SqliteRegistryStore::RemoveGrant(int64_t grant_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement del,
                        Statement::Prepare(db_, path_, "DELETE FROM grants WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(del.Bind(1, grant_id));
  WEFT_RETURN_IF_ERROR(del.Run("removing grant"));
  if (sqlite3_changes(db_) == 0) {
    return NotFoundError("unknown grant #" + std::to_string(grant_id));
  }
  return Status::Ok();
}

Result<std::vector<Grant>> SqliteRegistryStore::GrantsOf(std::string_view principal_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(GetPrincipalLocked(principal_id).status());
  WEFT_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(
          db_, path_,
          Sql("SELECT ", kGrantColumns, " FROM grants WHERE principal_id = ?1 ORDER BY id")));
  WEFT_RETURN_IF_ERROR(select.Bind(1, principal_id));
  std::vector<Grant> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, select.Step("listing grants"));
    if (!row) break;
    WEFT_ASSIGN_OR_RETURN(Grant g, ReadGrant(select, path_));
    out.push_back(std::move(g));
  }
  return out;
}

Result<IssuedToken> SqliteRegistryStore::IssueToken(std::string_view principal_id,
                                                    std::optional<Micros> ttl) {
  if (ttl && ttl->count() <= 0) {
    return InvalidArgumentError("token lifetime must be positive, got " +
                                std::to_string(ttl->count()) + " us");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Principal principal, GetPrincipalLocked(principal_id));
  if (principal.disabled) {
    return FailedPreconditionError("principal '" + principal.id +
                                   "' is disabled; no tokens can be issued for it");
  }
  if (principal.kind == PrincipalKind::kDevice) {
    return FailedPreconditionError("principal '" + principal.id +
                                   "' is a device: devices authenticate by client certificate, "
                                   "not API tokens");
  }
  const TimePoint now = clock_->Now();
  // The public id is 48 random bits: a collision is astronomically rare, but retry rather
  // than fail if it happens.
  for (int attempt = 0; attempt < 3; ++attempt) {
    WEFT_ASSIGN_OR_RETURN(GeneratedToken token, GenerateToken());
    IssuedToken issued;
    issued.record.id = token.id;
    issued.record.principal_id = principal.id;
    issued.record.sha256_hex = token.sha256_hex;
    issued.record.created_at = now;
    if (ttl) issued.record.expires_at = now + *ttl;
    WEFT_ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(db_, path_,
                           "INSERT INTO api_tokens (id, principal_id, sha256_hex, created_at_us, "
                           "expires_at_us, revoked, last_used_at_us) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, 0, NULL)"));
    WEFT_RETURN_IF_ERROR(insert.Bind(1, issued.record.id));
    WEFT_RETURN_IF_ERROR(insert.Bind(2, issued.record.principal_id));
    WEFT_RETURN_IF_ERROR(insert.Bind(3, issued.record.sha256_hex));
    WEFT_RETURN_IF_ERROR(insert.Bind(4, UnixMicros(now)));
    WEFT_RETURN_IF_ERROR(insert.Bind(
        5, issued.record.expires_at ? std::optional<int64_t>(UnixMicros(*issued.record.expires_at))
                                    : std::nullopt));
    Status s = insert.Run("issuing a token");
    if (s.code() == StatusCode::kAlreadyExists) continue;
    WEFT_RETURN_IF_ERROR(s);
    issued.plaintext = std::move(token.plaintext);
    return issued;
  }
  return InternalError("registry " + path_ + ": token id collided 3 times (broken RNG?)");
}

Result<Principal> SqliteRegistryStore::Authenticate(std::string_view token_plaintext) {
  // Messages below name at most the public token id (stored, and chosen to be shown), never
  // the presented text.
  if (!IsWellFormedToken(token_plaintext)) {
    return MakeUnauthenticated(
        "malformed API token: expected 'weft_' followed by 43 base64url characters");
  }
  WEFT_ASSIGN_OR_RETURN(std::string hash, HashToken(token_plaintext));

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_, path_,
                         Sql("SELECT ", kTokenColumns, " FROM api_tokens WHERE sha256_hex = ?1")));
  WEFT_RETURN_IF_ERROR(select.Bind(1, hash));
  WEFT_ASSIGN_OR_RETURN(bool row, select.Step("looking up a token"));
  // The lookup is by hash, so its timing tells an attacker nothing about stored secrets; the
  // constant-time check is a second guard against a lookup that matched loosely.
  if (!row) return MakeUnauthenticated("unknown API token");
  const TokenRecord token = ReadToken(select);
  if (!VerifyToken(token_plaintext, token.sha256_hex)) {
    return MakeUnauthenticated("unknown API token");
  }
  if (token.revoked) return MakeUnauthenticated("API token " + token.id + " has been revoked");
  const TimePoint now = clock_->Now();
  if (token.expires_at && now >= *token.expires_at) {
    return MakeUnauthenticated("API token " + token.id + " expired at " +
                               FormatTimestampMicros(UnixMicros(*token.expires_at)));
  }
  WEFT_ASSIGN_OR_RETURN(Principal principal, GetPrincipalLocked(token.principal_id));
  if (principal.disabled) {
    return MakeUnauthenticated("principal '" + principal.id + "' of API token " + token.id +
                               " is disabled");
  }
  if (!token.last_used_at || now - *token.last_used_at >= kLastUsedResolution) {
    WEFT_ASSIGN_OR_RETURN(
        Statement update,
        Statement::Prepare(db_, path_, "UPDATE api_tokens SET last_used_at_us = ?1 WHERE id = ?2"));
    WEFT_RETURN_IF_ERROR(update.Bind(1, UnixMicros(now)));
    WEFT_RETURN_IF_ERROR(update.Bind(2, token.id));
    WEFT_RETURN_IF_ERROR(update.Run("recording token use"));
  }
  return principal;
}

Status SqliteRegistryStore::RevokeToken(std::string_view token_id) {
  // A caller that passes the whole token by mistake must not see it echoed in an error.
  if (token_id.size() != kTokenIdLength ||
      token_id.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return InvalidArgumentError(
        "RevokeToken takes a token's public id ('weft_' + 8 characters, as listed), not the "
        "token itself");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(db_, path_, "UPDATE api_tokens SET revoked = 1 WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(update.Bind(1, token_id));
  WEFT_RETURN_IF_ERROR(update.Run("revoking a token"));
  if (sqlite3_changes(db_) == 0) {
    return NotFoundError("unknown API token id " + std::string(token_id));
  }
  return Status::Ok();
}

Result<std::vector<TokenRecord>> SqliteRegistryStore::TokensOf(std::string_view principal_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(GetPrincipalLocked(principal_id).status());
  WEFT_ASSIGN_OR_RETURN(Statement select,
                        Statement::Prepare(db_, path_,
                                           Sql("SELECT ", kTokenColumns,
                                               " FROM api_tokens WHERE principal_id = ?1 "
                                               "ORDER BY created_at_us, id")));
  WEFT_RETURN_IF_ERROR(select.Bind(1, principal_id));
  std::vector<TokenRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, select.Step("listing tokens"));
    if (!row) break;
    out.push_back(ReadToken(select));
  }
  return out;
}

}  // namespace weft::registry

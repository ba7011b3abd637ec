// SqliteRegistryStore: the RegistryStore in one SQLite file (weft-core's embedded default).
//
//   SystemClock& clock = SystemClock::Default();
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteRegistryStore> store,
//                         SqliteRegistryStore::Open("/var/lib/weft/registry.db", &clock));
//   WEFT_ASSIGN_OR_RETURN(Principal p, store->GetPrincipal("ana@plant"));
//
// Storage: WAL journal, synchronous=FULL (a revoke or a disable must survive a power cut: a
// revoked token that comes back after a crash is a security bug; registry writes are rare, so the
// fsync per commit is cheap), foreign_keys=ON, busy_timeout 5 s (another process holding the
// write lock yields Unavailable after that). Schema migrations are an ordered list applied in one
// transaction each, the version kept in PRAGMA user_version; a database newer than this code is
// refused with FailedPrecondition. SQL is fixed text with bound parameters only.
//
// Authenticate records last_used_at, but writes it at most once a minute per token, so that a
// busy API client does not turn every request into an fsync.
//
// Ownership and thread-safety: owns the connection (closed by the destructor). All methods are
// safe from several threads: one mutex serialises use of the connection. `clock` is not owned and
// must outlive the store. Several processes may open the same file (SQLite file locking).
#ifndef WEFT_CORE_REGISTRY_SQLITE_REGISTRY_STORE_H_
#define WEFT_CORE_REGISTRY_SQLITE_REGISTRY_STORE_H_

#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "core/registry/registry_store.h"

struct sqlite3;

namespace weft::registry {

class SqliteRegistryStore final : public RegistryStore {
 public:
  //! The schema version this code writes and understands (number of migrations).
  static int SchemaVersion();

  //! Opens (creating if absent) the database at `path` and migrates it to SchemaVersion().
  //! FailedPrecondition if the file's schema is newer; DataLoss if it is not a SQLite database.
  //! REQUIRES: clock != nullptr, outliving the store.
  static Result<std::unique_ptr<SqliteRegistryStore>> Open(const std::string& path,
                                                           const Clock* clock);

  ~SqliteRegistryStore() override;
  SqliteRegistryStore(const SqliteRegistryStore&) = delete;
  SqliteRegistryStore& operator=(const SqliteRegistryStore&) = delete;

  Result<Principal> CreatePrincipal(const NewPrincipal& principal) override;
  Result<Principal> GetPrincipal(std::string_view id) override;
  Result<std::vector<Principal>> ListPrincipals() override;
  Status DisablePrincipal(std::string_view id) override;
  Result<Principal> PrincipalByCertSubject(std::string_view cert_subject) override;

  Result<Grant> AddGrant(const NewGrant& grant) override;
  Status RemoveGrant(int64_t grant_id) override;
  Result<std::vector<Grant>> GrantsOf(std::string_view principal_id) override;

  Result<IssuedToken> IssueToken(std::string_view principal_id, std::optional<Micros> ttl) override;
  Result<Principal> Authenticate(std::string_view token_plaintext) override;
  Status RevokeToken(std::string_view token_id) override;
  Result<std::vector<TokenRecord>> TokensOf(std::string_view principal_id) override;

 private:
  SqliteRegistryStore(std::string path, sqlite3* db, const Clock* clock);

  // REQUIRES: mutex_ held.
  Result<Principal> GetPrincipalLocked(std::string_view id);

  const std::string path_;
  const Clock* const clock_;
  std::mutex mutex_;
  sqlite3* const db_;  // GUARDED_BY(mutex_)
};

}  // namespace weft::registry

#endif  // WEFT_CORE_REGISTRY_SQLITE_REGISTRY_STORE_H_

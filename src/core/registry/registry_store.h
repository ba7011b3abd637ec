// RegistryStore: the core's durable registry of principals, their grants and API tokens. An
// interface, so that the SQLite store (sqlite_registry_store.h, the default) and a PostgreSQL
// store (at fleet scale) are interchangeable behind the REST API.
//
//   std::unique_ptr<RegistryStore> store = ...;   // e.g. SqliteRegistryStore::Open(path, &clock)
//   WEFT_ASSIGN_OR_RETURN(Principal ana,
//       store->CreatePrincipal({"ana@plant", PrincipalKind::kUser, "Ana Ruiz", ""}));
//   WEFT_RETURN_IF_ERROR(store->AddGrant({"ana@plant", Role::kViewer, "lyon", std::nullopt})
//                            .status());
//   WEFT_ASSIGN_OR_RETURN(IssuedToken t, store->IssueToken("ana@plant", std::chrono::hours(24 *
//   90)));
//   // give t.plaintext to Ana once; later, per request:
//   Result<Principal> who = store->Authenticate(bearer_token);   // Unauthenticated on failure
//   Decision d = Authorize(store->GrantsOf(who->id).value(), who->disabled, permission, resource);
//
// Contracts every implementation keeps:
// - Tokens are stored only as SHA-256 hex plus their public id; the plaintext is returned once by
//   IssueToken and never stored, logged, or echoed in an error message.
// - Times (created_at, expires_at, last_used_at) come from the injected Clock.
// - Errors: InvalidArgument for malformed input (ids, scopes, tags), NotFound for an unknown
//   principal/grant/token, AlreadyExists for a duplicate, FailedPrecondition for a state that
//   forbids the call (e.g. a token for a disabled principal or for a device), Unauthenticated from
//   Authenticate, Unavailable when the database is busy (retry), DataLoss when it is corrupt.
// - Every mutation is durable when it returns OK.
// - Thread-safety: implementations are safe to call from several threads.
#ifndef WEFT_CORE_REGISTRY_REGISTRY_STORE_H_
#define WEFT_CORE_REGISTRY_REGISTRY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/registry/access.h"

namespace weft::registry {

enum class PrincipalKind { kUser, kServiceAccount, kDevice };
//! "user", "service_account", "device".
inline std::string_view PrincipalKindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kUser: return "user";
    case PrincipalKind::kServiceAccount: return "service_account";
    case PrincipalKind::kDevice: return "device";
  }
  return "unknown_kind";
}
inline Result<PrincipalKind> ParsePrincipalKind(std::string_view name) {
  for (PrincipalKind k :
       {PrincipalKind::kUser, PrincipalKind::kServiceAccount, PrincipalKind::kDevice}) {
    if (PrincipalKindName(k) == name) return k;
  }
  return InvalidArgumentError("unknown principal kind '" + std::string(name) +
                              "'; the kinds are user, service_account, device");
}

//! Who can act: people and service accounts (authenticated by API tokens) and devices
//! (authenticated by their client certificate's subject CN).
struct Principal {
  std::string id;  //!< unique; 1-128 of [A-Za-z0-9._@:-]
  PrincipalKind kind = PrincipalKind::kUser;
  std::string display_name;
  bool disabled = false;
  TimePoint created_at{};
  std::string cert_subject;  //!< devices: the certificate subject CN (unique); others: ""
};

//! What CreatePrincipal needs. A device needs a cert_subject; a user or service account must
//! not have one.
struct NewPrincipal {
  std::string id;
  PrincipalKind kind = PrincipalKind::kUser;
  std::string display_name;
  std::string cert_subject;
};

//! What AddGrant needs (see Grant in access.h).
struct NewGrant {
  std::string principal_id;
  Role role = Role::kViewer;
  std::string scope;
  std::optional<TagCondition> tag;
};

//! A stored API token, without its secret.
struct TokenRecord {
  std::string id;  //!< public: the token's first 13 characters ("weft_" + 8)
  std::string principal_id;
  std::string sha256_hex;
  TimePoint created_at{};
  std::optional<TimePoint> expires_at;  //!< none: does not expire
  bool revoked = false;
  std::optional<TimePoint> last_used_at;
};

//! IssueToken's answer: the plaintext, which exists nowhere else afterwards.
struct IssuedToken {
  std::string plaintext;
  TokenRecord record;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  //! AlreadyExists when the id (or a device's cert_subject) is taken.
  virtual Result<Principal> CreatePrincipal(const NewPrincipal& principal) = 0;
  virtual Result<Principal> GetPrincipal(std::string_view id) = 0;
  //! All principals, ordered by id.
  virtual Result<std::vector<Principal>> ListPrincipals() = 0;
  //! Disables for good (tokens stop authenticating, Authorize denies). Idempotent.
  virtual Status DisablePrincipal(std::string_view id) = 0;
  //! The device whose certificate subject CN is `cert_subject`; NotFound otherwise.
  virtual Result<Principal> PrincipalByCertSubject(std::string_view cert_subject) = 0;

  //! Validates role/scope/tag; NotFound for an unknown principal; AlreadyExists for an identical
  //! grant. Returns the grant with its id and created_at.
  virtual Result<Grant> AddGrant(const NewGrant& grant) = 0;
  virtual Status RemoveGrant(int64_t grant_id) = 0;
  //! The principal's grants, ordered by id; NotFound for an unknown principal.
  virtual Result<std::vector<Grant>> GrantsOf(std::string_view principal_id) = 0;

  //! A new token for a user or service account, expiring after `ttl` when given (> 0).
  //! FailedPrecondition for a disabled principal or a device.
  virtual Result<IssuedToken> IssueToken(std::string_view principal_id,
                                         std::optional<Micros> ttl) = 0;
  //! The principal a token belongs to; records last use. Unauthenticated, with distinct messages,
  //! for a malformed, unknown, revoked or expired token and for a disabled principal; the message
  //! names at most the token's public id, never the token.
  virtual Result<Principal> Authenticate(std::string_view token_plaintext) = 0;
  //! Revokes by public id (TokenRecord::id). Idempotent; NotFound for an unknown id.
  virtual Status RevokeToken(std::string_view token_id) = 0;
  //! The principal's tokens (without secrets), ordered by created_at.
  virtual Result<std::vector<TokenRecord>> TokensOf(std::string_view principal_id) = 0;
};

}  // namespace weft::registry

#endif  // WEFT_CORE_REGISTRY_REGISTRY_STORE_H_

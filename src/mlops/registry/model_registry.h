// ModelRegistry: models, their versions (lineage, metrics, validation report, approvals), aliases
// (staging, production) and content-addressed, Ed25519-signed artifacts, under a state directory.
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ModelRegistry> models,
//                         ModelRegistry::Open("/var/lib/weft/state", &clock));
//   NewModelVersion v{.name = "bearing-wear", .artifact = model_json, .created_by = "ci"};
//   v.lineage_json = R"({"tables": {"telemetry": 42}, "code_version": "abc123"})";
//   v.validation_json = report;  v.validation_passed = true;
//   WEFT_ASSIGN_OR_RETURN(ModelVersion mv, models->Register(v));        // mv.version == "1"
//   WEFT_RETURN_IF_ERROR(models->Approve("bearing-wear", "1", ana, "data_scientist", "ok"));
//   WEFT_RETURN_IF_ERROR(models->Approve("bearing-wear", "1", otto, "ot_engineer", "ok"));
//   WEFT_RETURN_IF_ERROR(models->Promote("bearing-wear", "1", "production", otto));
//   WEFT_ASSIGN_OR_RETURN(std::string bytes, models->ReadArtifact("bearing-wear", "1"));
//
// Layout of the state directory:
//   models.db                                  SQLite (WAL, synchronous FULL): models, versions,
//                                              approvals, alias stacks, history
//   artifacts/sha256/<2 hex>/<64 hex>          artifact bytes, stored once per digest
//   keys/model-signing.pem                     Ed25519 private key (PKCS#8 PEM, mode 0600),
//   keys/model-signing.pub.pem                 generated on first use; its public key
//
// Contracts:
// - Versions are integers per model, "1", "2", ... (as MLflow), allocated inside an IMMEDIATE
//   transaction: several registries (threads or processes) on one state directory never hand out
//   the same number.
// - The JSON documents (card, lineage, metrics, validation report) are opaque to the registry,
//   except that they must be valid JSON and that Promote reads the validation report's failed
//   constraints ("results"[i] with "status": "failed" and a "name") to explain a refusal.
// - Artifacts are written atomically (temp file, fsync, rename, fsync of the directory). The
//   signature is Ed25519 over the 32-byte SHA-256 digest. ReadArtifact and Verify re-hash the file
//   and check the signature: a tampered file, digest or signature is DataLoss naming the file and
//   the expected and actual digests.
// - Promote needs validation_passed; alias "production" also needs approvals of the version in
//   each of ModelRegistryOptions::production_approver_roles (default data_scientist and
//   ot_engineer; weft-core takes them from the governance policy model_promotion), each role by
//   a different principal (one principal approves a version at most once). Each alias keeps a stack
//   of the versions it pointed to: Rollback pops it. Every change (register, approve, promote,
//   rollback) is a row in the history.
// - Durability: a call that returned OK survives a power cut (artifacts fsynced before the row).
//
// Thread-safety: a ModelRegistry is safe from several threads (one mutex serialises its
// connection); several ModelRegistry objects may share one state directory. `clock` is not owned
// and must outlive the registry.
#ifndef WEFT_MLOPS_REGISTRY_MODEL_REGISTRY_H_
#define WEFT_MLOPS_REGISTRY_MODEL_REGISTRY_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::mlops {

//! Who acts, and the roles they hold (core's role names: "data_scientist", "ot_engineer", ...).
//! mlops sits below core: the caller (the API) decides the roles, the registry applies the
//! quorum rules with them.
struct Actor {
  std::string principal;
  std::vector<std::string> roles;
};

//! The default approving roles a production promotion needs, each from a different principal.
inline constexpr std::string_view kRoleDataScientist = "data_scientist";
inline constexpr std::string_view kRoleOtEngineer = "ot_engineer";
inline constexpr std::string_view kProductionAlias = "production";

struct ModelRegistryOptions {
  //! The roles whose approvals (each by a different principal) a production promotion needs.
  //! Non-empty, no duplicates (Open refuses otherwise).
  std::vector<std::string> production_approver_roles = {std::string(kRoleDataScientist),
                                                        std::string(kRoleOtEngineer)};
};

//! Who fills which required role when each role needs a different principal.
struct Quorum {
  std::vector<std::pair<std::string, std::string>> filled;  //!< (role, principal), roles' order
  std::vector<std::string> missing;                         //!< required roles nobody fills
};
//! A maximum assignment of distinct principals to `required_roles` from `principal_roles`
//! ((principal, role) pairs, preferred first; roles not required are ignored). Pure; also used
//! by the core's control approvals and governance board.
Quorum MatchQuorum(const std::vector<std::pair<std::string, std::string>>& principal_roles,
                   const std::vector<std::string>& required_roles);

//! A version to register. JSON fields must be valid JSON ("" counts as {}).
struct NewModelVersion {
  std::string name;      //!< model name: 1-128 of [A-Za-z0-9._-], not starting with '.' or '-'
  std::string artifact;  //!< the model file's bytes (non-empty)
  std::string format = "xgboost-json";
  std::string card_json;        //!< features, window, asset_type, output, threshold, ...
  std::string lineage_json;     //!< training tables and Delta versions, twins, params, code
  std::string metrics_json;     //!< evaluation metrics
  std::string validation_json;  //!< the physics validation report
  bool validation_passed = false;
  std::string created_by;  //!< principal or job that registered it (non-empty)
};

struct Approval {
  std::string principal;
  std::string role;
  std::string comment;
  TimePoint at{};
};

struct ModelVersion {
  std::string name;
  std::string version;          //!< "1", "2", ...
  std::string artifact_sha256;  //!< lower-case hex
  int64_t artifact_size = 0;
  std::string format;
  std::string signature_hex;  //!< Ed25519 over the raw digest
  std::string card_json, lineage_json, metrics_json, validation_json;
  bool validation_passed = false;
  TimePoint created_at{};
  std::string created_by;
  std::string status;                //!< "registered"
  std::vector<Approval> approvals;   //!< in approval order
  std::vector<std::string> aliases;  //!< aliases that point at this version now, sorted
};

struct ModelSummary {
  std::string name;
  TimePoint created_at{};
  int64_t versions = 0;
  std::string latest_version;
  std::map<std::string, std::string> aliases;  //!< alias -> version
};

//! One change, for the history and the audit trail.
struct HistoryEntry {
  int64_t id = 0;
  TimePoint at{};
  std::string actor;
  std::string action;  //!< "register", "approve", "promote", "rollback"
  std::string version;
  std::string alias;   //!< promote / rollback
  std::string from;    //!< the alias's version before ("" when new)
  std::string to;      //!< the alias's version after
  std::string detail;  //!< JSON: e.g. {"role": ..., "comment": ...}
};

class ModelRegistry {
 public:
  //! Opens (creating) <state_dir>/models.db and the artifact store. The signing key is made on
  //! the first Register. FailedPrecondition when the directory cannot be created or the database
  //! is newer than this code.
  static Result<std::unique_ptr<ModelRegistry>> Open(const std::string& state_dir,
                                                     const Clock* clock,
                                                     ModelRegistryOptions options = {});
  ~ModelRegistry();
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  //! Stores the artifact (once per digest), signs its digest and adds the next version of the
  //! model (creating the model). InvalidArgument for a bad name, empty artifact or invalid JSON.
  Result<ModelVersion> Register(const NewModelVersion& version);

  //! All models, by name.
  Result<std::vector<ModelSummary>> List();
  //! The versions of a model, oldest first; NotFound for an unknown model.
  Result<std::vector<ModelVersion>> Versions(std::string_view name);
  Result<ModelVersion> Get(std::string_view name, std::string_view version);
  //! alias -> version of a model.
  Result<std::map<std::string, std::string>> Aliases(std::string_view name);
  //! The version an alias points at; NotFound when unset.
  Result<ModelVersion> Resolve(std::string_view name, std::string_view alias);
  Result<std::vector<HistoryEntry>> History(std::string_view name);

  //! The artifact's bytes after re-hashing and checking the signature (DataLoss otherwise).
  Result<std::string> ReadArtifact(std::string_view name, std::string_view version);
  //! The same checks without returning the bytes.
  Status Verify(std::string_view name, std::string_view version);

  //! Records `actor`'s approval of a version in `role` (one of actor.roles). PermissionDenied
  //! when the actor does not hold the role; AlreadyExists when the principal already approved.
  Status Approve(std::string_view name, std::string_view version, const Actor& actor,
                 std::string_view role, std::string_view comment);
  //! The production quorum roles the version still misses (empty: it may go to production,
  //! validation permitting).
  std::vector<std::string> MissingProductionRoles(const ModelVersion& v) const;
  //! Versions that passed validation, are not in production, and have some approvals but not
  //! the production quorum: what the governance board lists as pending. Oldest first.
  Result<std::vector<ModelVersion>> AwaitingProduction();
  const std::vector<std::string>& production_approver_roles() const {
    return options_.production_approver_roles;
  }

  //! Points `alias` at `version` (see the contracts above; FailedPrecondition when refused).
  //! Promoting to the version the alias already has is a no-op.
  Status Promote(std::string_view name, std::string_view version, std::string_view alias,
                 const Actor& actor);
  //! Returns `alias` to the version it pointed to before the last promotion; the version it now
  //! points to. FailedPrecondition when there is no earlier version.
  Result<std::string> Rollback(std::string_view name, std::string_view alias, const Actor& actor);

  //! The public key (PEM) that verifies this registry's signatures; made if absent.
  Result<std::string> PublicKeyPem();

  const std::string& state_dir() const { return state_dir_; }
  //! <state>/artifacts/sha256/<2 hex>/<64 hex>.
  std::string ArtifactPath(std::string_view sha256_hex) const;

 private:
  ModelRegistry(std::string state_dir, std::string db_path, sqlite3* db, const Clock* clock,
                ModelRegistryOptions options);

  // REQUIRES: mutex_ held.
  Result<int64_t> ModelIdLocked(std::string_view name);
  Result<ModelVersion> GetLocked(int64_t model_id, std::string_view name, int64_t version);
  Result<std::map<std::string, std::string>> AliasesLocked(int64_t model_id);
  Status AddHistoryLocked(int64_t model_id, const HistoryEntry& e);
  //! Loads the signing key; creates it only when `create` (never while verifying).
  Status EnsureKeyLocked(bool create);
  Status VerifyLocked(const ModelVersion& v, std::string* bytes);

  const std::string state_dir_;
  const std::string db_path_;
  const Clock* const clock_;
  const ModelRegistryOptions options_;
  std::mutex mutex_;
  sqlite3* const db_;  // GUARDED_BY(mutex_)
  struct Key;
  std::unique_ptr<Key> key_;  // GUARDED_BY(mutex_); loaded on first use
};

//! Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

//! A stored JSON document (card, lineage, ...) as JSON; text that does not parse stays a string.
nlohmann::json StoredJson(const std::string& text);
//! A version as the API and `weft model --json` show it; `full` adds the signature, card,
//! lineage, metrics and validation report.
nlohmann::json ToJson(const ModelVersion& v, bool full);
//! A history entry; alias changes carry alias, from (null when new) and to.
nlohmann::json ToJson(const HistoryEntry& h);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_REGISTRY_MODEL_REGISTRY_H_

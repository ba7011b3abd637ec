// ApiServer: weft-core's REST/JSON API under /api/v1, over HTTPS, with API-token authentication,
// role-based access control on every route and an audit record for every decision on a mutation
// or an export, every mutation and every export.
//
//   ApiOptions o;
//   o.listen = "127.0.0.1:8443";
//   o.cert_file = "/var/lib/weft/tls/cert.pem";  o.key_file = "/var/lib/weft/tls/key.pem";
//   o.registry = registry.get();  o.audit = audit.get();  o.clock = &SystemClock::Default();
//   o.views_file = "views.yaml";  o.lake_root = "/var/lib/weft/lake";
//   o.state_dir = "/var/lib/weft/state";   // <state_dir>/admin.token on first start
//   o.models = model_registry.get();       // optional: /api/v1/models... (else 503)
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ApiServer> api, ApiServer::Start(std::move(o)));
//   api->port();                                   // the bound port (listen port 0: any)
//
// Request flow (every route but GET /api/v1/health):
//   1. `Authorization: Bearer <token>` -> RegistryStore::Authenticate; 401 otherwise (the token is
//      never echoed, logged or audited).
//   2. the route's permission is decided with registry::Authorize over the principal's grants:
//      principals, tokens, grants and the audit log are global resources (path "": only grants
//      on "*" cover them); the views list, view queries and the ingest status need the permission
//      on some scope (view rows are then filtered per row, see below). Denied -> 403 with the
//      Decision's reason, and an audit record "deny".
//   3. for a mutation or an export (a view query with format csv or parquet): an audit record
//      "allow" before acting (if it cannot be written the action is not carried out: 503), then
//      one "done" or "error" record for the outcome.
// Models (/api/v1/models...): reads need read_catalog on some scope; approvals (approve_model),
// alias changes and rollbacks (deploy_model) are global: only grants on "*" cover them, since an
// alias reaches every edge that runs the model. An approval is made in one of the caller's roles
// that carry approve_model (body "role"; optional when there is exactly one); the registry's
// quorum rules (model_registry.h) then decide promotions. Artifact downloads are audited.
// Control (/api/v1/control/..., control_routes.h): approvals (approve_control, given in one of
// the caller's global roles ops_manager / ot_engineer), mode changes (write_control) and
// proposal approvals (approve_control) are global; GET .../grant-key needs authentication only.
// Work orders (/api/v1/workorders): recording needs record_work_order on the asset's place
// (ApiOptions::asset_location), listing read_telemetry (rows filtered by place).
// View rows: a row is returned only when Authorize(query_view [and export_data for exports],
// Resource{"site/area/line/asset", tags}) allows it; a row without a complete location is a
// global resource (only "*" grants see it). Tags come from ApiOptions::tag_lookup (the catalog's
// extension point; none by default).
// Errors are JSON: {"error": {"code": "<canonical status name>", "message": "..."}} with the
// matching HTTP status. Bodies are limited to max_body_bytes (413); malformed JSON is a 400 that
// names the problem and is counted in ApiMetrics::bad_json.
//
// Bootstrap: when the registry holds no principal at Start, an "admin" user with an admin grant
// on "*" is created and its token written once to <state_dir>/admin.token (mode 0600; never
// logged). bootstrap_token_file() names it.
//
// Ownership and thread-safety: the server does not own the registry, the audit log or the clock
// (they must outlive it). Handlers run on the server's thread pool; metrics() and port() are safe
// from any thread. The destructor stops the server and waits for its threads.
#ifndef WEFT_CORE_API_API_SERVER_H_
#define WEFT_CORE_API_API_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/api/route.h"
#include "core/audit/audit_log.h"
#include "core/registry/registry_store.h"

namespace weft::mlops {
class ModelRegistry;
}  // namespace weft::mlops

namespace weft::core::api {

class ControlService;

//! Where an asset is in the plant (for work orders): site, area, line; "" when unknown.
struct AssetLocation {
  std::string site{}, area{}, line{};
};
//! The location of an asset (weft-core: from the catalog); nullopt when unknown.
using AssetLocator = std::function<std::optional<AssetLocation>(std::string_view asset)>;

//! A catalogued signal as GET /api/v1/catalog/signals lists it: where it is, and its tags.
struct CatalogSignal {
  std::string site, area, line, asset, signal;
  std::map<std::string, std::string> tags;  //!< effective tags (the catalog's)
};
//! The catalog's signals whose tags match a query "k=v,k2=v2" ("" = all); InvalidArgument for
//! a malformed query.
using CatalogSearch = std::function<Result<std::vector<CatalogSignal>>(std::string_view query)>;

//! One registered route: "GET", "/api/v1/principals/{id}/tokens".
struct ApiRoute {
  std::string method;
  std::string path;
  friend bool operator<(const ApiRoute& a, const ApiRoute& b) {
    return a.method != b.method ? a.method < b.method : a.path < b.path;
  }
  friend bool operator==(const ApiRoute&, const ApiRoute&) = default;
};

//! The catalog tags of an asset's signal (`signal` "" asks for the asset's own tags). EXTENSION
//! POINT for the catalog (src/core/catalog, in progress): until it is wired, no tags.
using TagLookup = std::function<std::map<std::string, std::string>(std::string_view asset,
                                                                   std::string_view signal)>;

struct ApiOptions {
  std::string listen = "127.0.0.1:8443";  //!< host:port; port 0 = any free port
  std::string cert_file;                  //!< PEM certificate (chain) for TLS
  std::string key_file;                   //!< PEM private key
  //! Without cert_file/key_file, Start fails unless this is set; then it serves plain HTTP and
  //! logs a warning (tests, or behind a TLS-terminating proxy on the same host).
  bool allow_insecure_http = false;
  registry::RegistryStore* registry = nullptr;  //!< required, not owned
  audit::AuditLog* audit = nullptr;             //!< required, not owned
  const Clock* clock = nullptr;                 //!< required, not owned
  std::string views_file;                       //!< views YAML; "" = no views (the list is empty)
  std::string lake_root;                        //!< where the telemetry table is (view queries)
  std::string state_dir;  //!< where the bootstrap admin.token goes; "" = no bootstrap
  //! GET /api/v1/ingest's body (e.g. the Ingestor's stats); unset -> 503 for that route.
  std::function<nlohmann::json()> ingest_stats;
  TagLookup tag_lookup;  //!< see TagLookup; unset = no tags
  //! GET /api/v1/catalog/signals's search; unset -> 503 for that route.
  CatalogSearch catalog_search;
  //! The model registry behind /api/v1/models...; not owned; null -> 503 for those routes.
  mlops::ModelRegistry* models = nullptr;
  //! Control governance behind /api/v1/control/... (control_routes.h); not owned; null -> 503.
  ControlService* control = nullptr;
  //! Work orders get their asset's site/area/line from here (and are authorized there); unset or
  //! unknown asset: no location (a global resource: only grants on "*" reach it).
  AssetLocator asset_location;
  size_t max_body_bytes = size_t{64} << 10;
  //! Routes of other subsystems (route.h), served after the built-in ones with the same
  //! authentication, authorization and audit. Their handlers must outlive the server.
  std::vector<ModuleRoute> modules;
  //! GET requests outside /api/ that no route takes, e.g. the dashboard's static files
  //! (core/web/static_files.h): called with the decoded path. Public (no token) and not audited.
  //! Unset: 404.
  std::function<Reply(std::string_view path)> static_files;
  //! A view query may span at most this many periods of the view (bounds memory and time).
  int64_t max_query_periods = 2'000'000;
  size_t threads = 4;  //!< request threads
};

//! Counters since Start (for /metrics).
struct ApiMetrics {
  uint64_t requests = 0;
  uint64_t unauthenticated = 0;    //!< 401
  uint64_t forbidden = 0;          //!< 403
  uint64_t bad_json = 0;           //!< 400 for a malformed JSON body
  uint64_t payload_too_large = 0;  //!< 413
  uint64_t server_errors = 0;      //!< 5xx
  uint64_t audit_failures = 0;     //!< audit records that could not be written
  uint64_t exports = 0;            //!< export downloads served
};

class ApiServer {
 public:
  //! Loads the views, bootstraps an empty registry (see above), binds and starts serving.
  //! InvalidArgument for missing options or a bad listen address; NotFound/InvalidArgument for
  //! the views file; Unavailable when it cannot bind or read the certificate.
  static Result<std::unique_ptr<ApiServer>> Start(ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  //! Every built-in (method, path template), in registration order (modules not included).
  static std::vector<ApiRoute> Routes();

  int port() const { return port_; }
  bool tls() const { return tls_; }
  ApiMetrics metrics() const;
  //! The admin.token file written by this Start's bootstrap; "" when none was needed.
  const std::string& bootstrap_token_file() const { return bootstrap_token_file_; }

  class Impl;

 private:
  ApiServer() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  bool tls_ = false;
  std::string bootstrap_token_file_;
};

//! Writes a self-signed certificate (EC P-256, SHA-256, valid `validity` from now, subject CN
//! `common_name`, subjectAltName DNS:localhost, IP:127.0.0.1 and `common_name`) and its key
//! (mode 0600) with OpenSSL's C API. Unavailable when a file cannot be written; Internal when
//! OpenSSL fails.
Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                  const std::string& common_name, Micros validity);

}  // namespace weft::core::api

#endif  // WEFT_CORE_API_API_SERVER_H_

#include "core/api/api_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"
#include "control/core/envelope.h"
#include "core/api/control_routes.h"
#include "core/api/work_orders.h"
#include "core/ingest/tables.h"
#include "core/registry/access.h"
#include "core/registry/tokens.h"
#include "core/views/view_def.h"
#include "core/views/view_reader.h"
#include "mlops/registry/model_registry.h"

namespace weft::core::api {
namespace {

using json = nlohmann::json;
using registry::Decision;
using registry::Grant;
using registry::Permission;
using registry::Principal;
using registry::Resource;

constexpr std::string_view kApiPrefix = "/api/v1/";
//! Deeper JSON bodies are refused before parsing (no request needs more than a few levels, and
//! deep nesting costs stack when the value is destroyed).
constexpr int kMaxJsonDepth = 32;
constexpr int64_t kMaxTokenTtlSeconds = int64_t{10} * 366 * 24 * 3600;
constexpr int64_t kDefaultAuditLimit = 100;
constexpr int64_t kMaxAuditLimit = 1000;

std::string Iso(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

json GrantJson(const Grant& g) {
  json j{{"id", g.id},
         {"principal_id", g.principal_id},
         {"role", registry::RoleName(g.role)},
         {"scope", g.scope},
         {"tag", g.tag ? json(registry::FormatTagCondition(*g.tag)) : json(nullptr)},
         {"created_at", Iso(g.created_at)}};
  return j;
}

json PrincipalJson(const Principal& p) {
  json j{{"id", p.id},
         {"kind", registry::PrincipalKindName(p.kind)},
         {"display_name", p.display_name},
         {"disabled", p.disabled},
         {"created_at", Iso(p.created_at)}};
  if (!p.cert_subject.empty()) j["cert_subject"] = p.cert_subject;
  return j;
}

json TokenRecordJson(const registry::TokenRecord& t) {
  return json{{"id", t.id},
              {"created_at", Iso(t.created_at)},
              {"expires_at", t.expires_at ? json(Iso(*t.expires_at)) : json(nullptr)},
              {"revoked", t.revoked},
              {"last_used_at", t.last_used_at ? json(Iso(*t.last_used_at)) : json(nullptr)}};
}

json ViewJson(const views::ViewDef& v) {
  json signals = json::array();
  for (const views::ViewSignal& s : v.signals) {
    signals.push_back({{"signal", s.signal},
                       {"column", s.column},
                       {"unit", s.unit.symbol},
                       {"agg", views::AggName(s.agg)}});
  }
  return json{{"name", v.name},
              {"description", v.description},
              {"asset_types", v.asset_types},
              {"period", FormatDuration(Micros(v.period_us))},
              {"signals", signals},
              {"good_only", v.good_only},
              {"fill", views::FillName(v.fill)}};
}

//! Parses a request body that must be a JSON object. `empty_ok`: an empty body is {}.
Result<json> ParseJsonObject(std::string_view body, bool empty_ok) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (empty_ok) return json::object();
    return InvalidArgumentError("malformed JSON body: the body is empty; expected a JSON object");
  }
  if (JsonNestingBeyond(body, kMaxJsonDepth)) {
    return InvalidArgumentError("malformed JSON body: nested deeper than " +
                                std::to_string(kMaxJsonDepth) + " levels");
  }
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    return InvalidArgumentError("malformed JSON body: " + what);
  }
  if (!j.is_object()) {
    return InvalidArgumentError(std::string("malformed JSON body: expected a JSON object, got ") +
                                j.type_name());
  }
  return j;
}

//! "Bearer <token>" -> token; "" when absent or another scheme.
std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  if (h.size() < 7) return "";
  std::string scheme = h.substr(0, 7);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return "";
  std::string token = h.substr(7);
  const size_t first = token.find_first_not_of(' ');
  const size_t last = token.find_last_not_of(' ');
  if (first == std::string::npos) return "";
  return token.substr(first, last - first + 1);
}

//! Whether the view query asks for an export (a download format for use outside Weft).
bool IsExportFormat(const std::string& format) {
  return format == "csv" || format == "parquet";
}

//! Access allowed if `grants` allow `permission` on SOME scope: each grant is tried on its own
//! scope (with its own tag condition as the resource's tag), through registry::Authorize.
Decision AuthorizeAnywhere(const std::vector<Grant>& grants, bool disabled, Permission p) {
  if (disabled) return registry::Authorize(grants, true, p, Resource{});
  for (const Grant& g : grants) {
    Resource r{g.scope == "*" ? "" : g.scope, {}};
    if (g.tag) r.tags[g.tag->key] = g.tag->value;
    Decision d = registry::Authorize({g}, false, p, r);
    if (d.allowed) return d;
  }
  return Decision{false, "no grant of a role with permission " +
                             std::string(registry::PermissionName(p)) + " (on any scope)"};
}

}  // namespace

class ApiServer::Impl {
 public:
  using Call = RouteCall;
  using Handler = Result<Reply> (Impl::*)(Call&);
  struct RouteSpec {
    const char* method;
    const char* path;
    Access access;
    Permission permission;
    bool mutation;   //!< audited: decision + outcome
    bool json_body;  //!< the body is a JSON object
    bool body_empty_ok;
    const char* action;  //!< audit action
    Handler handler;
  };

  static const std::vector<RouteSpec>& Specs();

  explicit Impl(ApiOptions o) : options_(std::move(o)) {}

  Status Init(std::string* bootstrap_file);
  void Register(httplib::Server* server);
  void Dispatch(const ModuleRoute& route, const httplib::Request& req, httplib::Response& res);
  Reply Handle(const ModuleRoute& route, const httplib::Request& req);
  bool Audit(const Call& c, const char* decision, json detail);
  void Send(const Reply& r, const httplib::Request& req, httplib::Response& res);

  // Handlers.
  Result<Reply> Health(Call& c);
  Result<Reply> WhoAmI(Call& c);
  Result<Reply> CreatePrincipal(Call& c);
  Result<Reply> ListPrincipals(Call& c);
  Result<Reply> IssueToken(Call& c);
  Result<Reply> RevokeToken(Call& c);
  Result<Reply> AddGrant(Call& c);
  Result<Reply> RemoveGrant(Call& c);
  Result<Reply> DisablePrincipal(Call& c);
  Result<Reply> ListViews(Call& c);
  Result<Reply> QueryView(Call& c);
  Result<Reply> ReadAudit(Call& c);
  Result<Reply> VerifyAudit(Call& c);
  Result<Reply> IngestStatus(Call& c);
  Result<Reply> CatalogSignals(Call& c);
  Result<Reply> ListModels(Call& c);
  Result<Reply> GetModel(Call& c);
  Result<Reply> GetModelVersion(Call& c);
  Result<Reply> ModelArtifact(Call& c);
  Result<Reply> ApproveModel(Call& c);
  Result<Reply> SetModelAlias(Call& c);
  Result<Reply> RollbackModelAlias(Call& c);
  Result<Reply> RecordWorkOrder(Call& c);
  Result<Reply> ListWorkOrders(Call& c);
  Result<Reply> ControlGrantKey(Call& c);
  Result<Reply> ControlApprove(Call& c);
  Result<Reply> ControlSetMode(Call& c);
  Result<Reply> ControlApproveProposal(Call& c);

  Result<mlops::ModelRegistry*> Models() const;
  Result<ControlService*> Control() const;
  //! The resource of an asset's rows: its plant path when the location is complete.
  Resource AssetResource(const std::string& site, const std::string& area, const std::string& line,
                         const std::string& asset) const;

  ApiOptions options_;
  std::vector<views::ViewDef> views_;
  std::vector<ModuleRoute> routes_;  //!< the built-in routes, then options_.modules
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;

  std::atomic<uint64_t> requests_{0}, unauthenticated_{0}, forbidden_{0}, bad_json_{0},
      payload_too_large_{0}, server_errors_{0}, audit_failures_{0}, exports_{0};
};

const std::vector<ApiServer::Impl::RouteSpec>& ApiServer::Impl::Specs() {
  using P = Permission;
  static const std::vector<RouteSpec> specs = {
      {"GET", "/api/v1/health", Access::kPublic, P::kAdmin, false, false, false, "health.read",
       &Impl::Health},
      {"GET", "/api/v1/whoami", Access::kAuthenticated, P::kAdmin, false, false, false,
       "whoami.read", &Impl::WhoAmI},
      {"POST", "/api/v1/principals", Access::kGlobal, P::kManagePrincipals, true, true, false,
       "principal.create", &Impl::CreatePrincipal},
      {"GET", "/api/v1/principals", Access::kGlobal, P::kManagePrincipals, false, false, false,
       "principal.list", &Impl::ListPrincipals},
      {"POST", "/api/v1/principals/{id}/tokens", Access::kGlobal, P::kManagePrincipals, true, true,
       true, "token.issue", &Impl::IssueToken},
      {"POST", "/api/v1/principals/{id}/disable", Access::kGlobal, P::kManagePrincipals, true, true,
       true, "principal.disable", &Impl::DisablePrincipal},
      {"DELETE", "/api/v1/tokens/{token_id}", Access::kGlobal, P::kManagePrincipals, true, false,
       false, "token.revoke", &Impl::RevokeToken},
      {"POST", "/api/v1/grants", Access::kGlobal, P::kManagePrincipals, true, true, false,
       "grant.add", &Impl::AddGrant},
      {"DELETE", "/api/v1/grants/{id}", Access::kGlobal, P::kManagePrincipals, true, false, false,
       "grant.remove", &Impl::RemoveGrant},
      {"GET", "/api/v1/views", Access::kAnywhere, P::kReadCatalog, false, false, false, "view.list",
       &Impl::ListViews},
      {"GET", "/api/v1/views/{name}/query", Access::kAnywhere, P::kQueryView, false, false, false,
       "view.query", &Impl::QueryView},
      {"GET", "/api/v1/audit", Access::kGlobal, P::kReadAudit, false, false, false, "audit.read",
       &Impl::ReadAudit},
      {"GET", "/api/v1/audit/verify", Access::kGlobal, P::kReadAudit, false, false, false,
       "audit.verify", &Impl::VerifyAudit},
      {"GET", "/api/v1/ingest", Access::kAnywhere, P::kReadCatalog, false, false, false,
       "ingest.read", &Impl::IngestStatus},
      {"GET", "/api/v1/catalog/signals", Access::kAnywhere, P::kReadCatalog, false, false, false,
       "catalog.signals", &Impl::CatalogSignals},
      {"GET", "/api/v1/models", Access::kAnywhere, P::kReadCatalog, false, false, false,
       "model.list", &Impl::ListModels},
      {"GET", "/api/v1/models/{name}", Access::kAnywhere, P::kReadCatalog, false, false, false,
       "model.read", &Impl::GetModel},
      {"GET", "/api/v1/models/{name}/versions/{version}", Access::kAnywhere, P::kReadCatalog, false,
       false, false, "model.version.read", &Impl::GetModelVersion},
      {"GET", "/api/v1/models/{name}/versions/{version}/artifact", Access::kAnywhere,
       P::kReadCatalog, true, false, false, "model.artifact.download", &Impl::ModelArtifact},
      {"POST", "/api/v1/models/{name}/versions/{version}/approve", Access::kGlobal,
       P::kApproveModel, true, true, true, "model.approve", &Impl::ApproveModel},
      {"POST", "/api/v1/models/{name}/aliases/{alias}", Access::kGlobal, P::kDeployModel, true,
       true, false, "model.promote", &Impl::SetModelAlias},
      {"POST", "/api/v1/models/{name}/aliases/{alias}/rollback", Access::kGlobal, P::kDeployModel,
       true, true, true, "model.rollback", &Impl::RollbackModelAlias},
      {"POST", "/api/v1/workorders", Access::kAnywhere, P::kRecordWorkOrder, true, true, false,
       "workorder.record", &Impl::RecordWorkOrder},
      {"GET", "/api/v1/workorders", Access::kAnywhere, P::kReadTelemetry, false, false, false,
       "workorder.list", &Impl::ListWorkOrders},
      {"GET", "/api/v1/control/grant-key", Access::kAuthenticated, P::kAdmin, false, false, false,
       "control.grant_key.read", &Impl::ControlGrantKey},
      {"POST", "/api/v1/control/loops/{loop}/approvals", Access::kGlobal, P::kApproveControl, true,
       true, false, "control.approve", &Impl::ControlApprove},
      {"POST", "/api/v1/control/loops/{loop}/mode", Access::kGlobal, P::kWriteControl, true, true,
       false, "control.mode", &Impl::ControlSetMode},
      {"POST", "/api/v1/control/loops/{loop}/proposals/{id}/approve", Access::kGlobal,
       P::kApproveControl, true, true, false, "control.proposal.approve",
       &Impl::ControlApproveProposal},
  };
  return specs;
}

namespace {

//! "/api/v1/principals/{id}/tokens" -> "/api/v1/principals/([^/]+)/tokens".
std::string PathRegex(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      out += "([^/]+)";
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

//! The audit resource of a request: its path below /api/v1/, with any path parameter that
//! looks like a whole token masked (a token pasted into a URL must not reach the audit log).
std::string ResourceOf(const httplib::Request& req, const std::vector<std::string>& params) {
  std::string path = req.path.substr(std::min(req.path.size(), kApiPrefix.size()));
  for (const std::string& p : params) {
    if (p.size() > registry::kTokenIdLength && p.rfind(registry::kTokenPrefix, 0) == 0) {
      const size_t at = path.find(p);
      if (at != std::string::npos) path.replace(at, p.size(), "<redacted>");
    }
  }
  return path;
}

}  // namespace

void ApiServer::Impl::Register(httplib::Server* server) {
  routes_.clear();
  for (const RouteSpec& spec : Specs()) {
    Handler h = spec.handler;
    routes_.push_back(ModuleRoute{spec.method, spec.path, spec.access, spec.permission,
                                  spec.mutation, spec.json_body, spec.body_empty_ok, spec.action,
                                  [this, h](Call& c) { return (this->*h)(c); }});
  }
  for (const ModuleRoute& m : options_.modules) routes_.push_back(m);
  for (const ModuleRoute& route : routes_) {
    auto handler = [this, &route](const httplib::Request& req, httplib::Response& res) {
      Dispatch(route, req, res);
    };
    const std::string pattern = PathRegex(route.path);
    const std::string_view method = route.method;
    if (method == "GET") {
      server->Get(pattern, handler);
    } else if (method == "POST") {
      server->Post(pattern, handler);
    } else if (method == "DELETE") {
      server->Delete(pattern, handler);
    }
  }
  // Last: every other GET outside /api/ (the dashboard's files); /api/... stays a JSON 404.
  if (options_.static_files) {
    server->Get(R"(/(?!api/).*)", [this](const httplib::Request& req, httplib::Response& res) {
      requests_.fetch_add(1);
      Reply reply;
      try {
        reply = options_.static_files(req.path);
      } catch (const std::exception& e) {
        spdlog::error("weft-core api: GET {}: unexpected exception: {}", req.path, e.what());
        reply = ErrorReply(500, "internal", "internal error while serving a file");
      }
      if (reply.status >= 500) server_errors_.fetch_add(1);
      Send(reply, req, res);
    });
  }
}

// httplib 0.11 compresses text and JSON answers itself, with brotli at quality 11 whenever the
// client accepts "br": 5 s for a 2 MB KPI answer, 3 s for an hour of CSV. Send takes "br" out of
// the request's Accept-Encoding, so httplib uses gzip (0.15 s for the same 2 MB). httplib writes
// the response from its own non-const Request after the handler returns, which is why changing
// it here is well-defined.
namespace {

void WithoutBrotli(httplib::Request& req) {
  auto it = req.headers.find("Accept-Encoding");
  if (it == req.headers.end()) return;
  std::string kept;
  std::istringstream codings(it->second);
  for (std::string coding; std::getline(codings, coding, ',');) {
    const size_t first = coding.find_first_not_of(" \t");
    if (first == std::string::npos || coding.compare(first, 2, "br") == 0) continue;
    kept += (kept.empty() ? "" : ", ") + coding.substr(first);
  }
  it->second = kept;
}

}  // namespace

void ApiServer::Impl::Send(const Reply& r, const httplib::Request& req, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (r.stream) {
    // Chunked: httplib calls the provider until it signals the end; a false return (a chunk
    // that could not be written: the client left) drops the connection.
    auto next = r.stream;
    res.set_chunked_content_provider(r.content_type, [next](size_t, httplib::DataSink& sink) {
      std::string chunk;
      if (!next(&chunk)) {
        sink.done();
        return true;
      }
      return chunk.empty() || sink.write(chunk.data(), chunk.size());
    });
    return;
  }
  WithoutBrotli(const_cast<httplib::Request&>(req));
  res.set_content(r.body, r.content_type);
}

void ApiServer::Impl::Dispatch(const ModuleRoute& route, const httplib::Request& req,
                               httplib::Response& res) {
  requests_.fetch_add(1);
  Reply reply;
  try {
    reply = Handle(route, req);
  } catch (const std::exception& e) {
    spdlog::error("weft-core api: {} {}: unexpected exception: {}", route.method, route.path,
                  e.what());
    reply = ErrorReply(500, "internal", "internal error while handling the request");
  }
  if (reply.status >= 500) server_errors_.fetch_add(1);
  Send(reply, req, res);
}

bool ApiServer::Impl::Audit(const Call& c, const char* decision, json detail) {
  audit::AuditEvent e{c.principal.id, c.action, c.resource, decision, std::move(detail)};
  Result<uint64_t> r = options_.audit->Append(e);
  if (!r.ok()) {
    audit_failures_.fetch_add(1);
    spdlog::error("weft-core api: cannot write an audit record ({} {} {}): {}", c.action,
                  c.resource, decision, r.status().ToString());
    return false;
  }
  return true;
}

Reply ApiServer::Impl::Handle(const ModuleRoute& spec, const httplib::Request& req) {
  Call c{req};
  for (size_t i = 1; i < req.matches.size(); ++i) c.params.push_back(req.matches[i].str());
  c.action = spec.action;
  const size_t body_limit = spec.max_body_bytes > 0 ? spec.max_body_bytes : options_.max_body_bytes;
  if (req.body.size() > body_limit) {
    payload_too_large_.fetch_add(1);
    return ErrorReply(413, "payload_too_large",
                      "the request body is larger than this route's limit of " +
                          std::to_string(body_limit) + " bytes");
  }
  if (spec.access == Access::kPublic) {
    c.resource = ResourceOf(req, c.params);
    Result<Reply> r = spec.handler(c);
    return r.ok() ? *r : ErrorReply(r.status());
  }

  // 1. Authentication. The registry's messages name at most a token's public id.
  const std::string token = BearerToken(req);
  if (token.empty()) {
    unauthenticated_.fetch_add(1);
    Reply r = ErrorReply(401, "unauthenticated",
                         "missing API token: send the header 'Authorization: Bearer <token>'");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"weft\"");
    return r;
  }
  Result<Principal> who = options_.registry->Authenticate(token);
  if (!who.ok()) {
    if (who.status().code() != StatusCode::kUnauthenticated) return ErrorReply(who.status());
    unauthenticated_.fetch_add(1);
    Reply r = ErrorReply(401, "unauthenticated", who.status().message());
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"weft\", error=\"invalid_token\"");
    return r;
  }
  c.principal = *who;
  Result<std::vector<Grant>> grants = options_.registry->GrantsOf(c.principal.id);
  if (!grants.ok()) return ErrorReply(grants.status());
  c.grants = std::move(grants).value();
  c.resource = ResourceOf(req, c.params);

  // 2. Authorization of the route (view rows are filtered again, per row, by QueryView).
  if (spec.path == "/api/v1/views/{name}/query") {
    c.is_export = IsExportFormat(req.get_param_value("format"));
    if (c.is_export) c.action = "view.export";
  }
  std::vector<Permission> needed = {spec.permission};
  if (c.is_export) needed.push_back(Permission::kExportData);
  Decision decision{true, "any authenticated principal"};
  for (Permission p : needed) {
    if (spec.access == Access::kAuthenticated) break;
    decision = spec.access == Access::kGlobal
                   ? registry::Authorize(c.grants, c.principal.disabled, p, Resource{})
                   : AuthorizeAnywhere(c.grants, c.principal.disabled, p);
    if (!decision.allowed) break;
  }
  const bool audited = spec.mutation || c.is_export;
  json detail{{"method", spec.method}, {"route", spec.path}, {"reason", decision.reason}};
  if (!req.params.empty()) {
    json query = json::object();
    for (const auto& [k, v] : req.params) query[k] = v;
    detail["query"] = query;
  }
  Result<json> body =
      spec.json_body ? ParseJsonObject(req.body, spec.body_empty_ok) : Result<json>(json::object());
  if (spec.json_body && body.ok() && !body->empty()) detail["request"] = *body;
  if (!decision.allowed) {
    forbidden_.fetch_add(1);
    Audit(c, "deny", detail);  // every denial is recorded, reads included
    return ErrorReply(403, "permission_denied", decision.reason);
  }
  // 3. Mutations and exports: the decision is on record before anything happens.
  if (audited && !Audit(c, "allow", detail)) {
    return ErrorReply(503, "unavailable",
                      "the audit log cannot be written, so the action was not carried out; "
                      "see weft-core's log");
  }
  Result<Reply> result = [&]() -> Result<Reply> {
    if (!body.ok()) {
      bad_json_.fetch_add(1);
      return body.status();
    }
    c.body = std::move(body).value();
    return spec.handler(c);
  }();
  if (audited) {
    if (result.ok()) {
      Audit(c, "done", c.outcome);
    } else {
      Audit(c, "error",
            json{{"code", StatusCodeName(result.status().code())},
                 {"message", result.status().message()}});
    }
  }
  return result.ok() ? *result : ErrorReply(result.status());
}

// ---------------------------------------------------------------------------------------------
// Handlers

Result<Reply> ApiServer::Impl::Health(Call&) {
  return JsonReply(200, json{{"status", "ok"}, {"views", views_.size()}});
}

Result<Reply> ApiServer::Impl::WhoAmI(Call& c) {
  json grants = json::array();
  std::set<std::string> roles;
  for (const Grant& g : c.grants) {
    grants.push_back(GrantJson(g));
    roles.insert(std::string(registry::RoleName(g.role)));
  }
  // What the caller may do: on the global resource (grants on "*") and on some scope. Clients
  // (the dashboard) show only the actions these allow; the server decides each call anyway.
  json global = json::array(), anywhere = json::array();
  for (Permission p : registry::kAllPermissions) {
    const std::string name(registry::PermissionName(p));
    if (registry::Authorize(c.grants, c.principal.disabled, p, Resource{}).allowed) {
      global.push_back(name);
    }
    if (AuthorizeAnywhere(c.grants, c.principal.disabled, p).allowed) anywhere.push_back(name);
  }
  return JsonReply(200, json{{"principal", PrincipalJson(c.principal)},
                             {"grants", grants},
                             {"roles", roles},
                             {"permissions", {{"global", global}, {"anywhere", anywhere}}}});
}

Result<Reply> ApiServer::Impl::CreatePrincipal(Call& c) {
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"id", "kind", "display_name", "cert_subject"}));
  registry::NewPrincipal np;
  WEFT_ASSIGN_OR_RETURN(np.id, StringField(c.body, "id", true));
  WEFT_ASSIGN_OR_RETURN(std::string kind, StringField(c.body, "kind", false, "user"));
  WEFT_ASSIGN_OR_RETURN(np.kind, registry::ParsePrincipalKind(kind));
  WEFT_ASSIGN_OR_RETURN(np.display_name, StringField(c.body, "display_name", false));
  WEFT_ASSIGN_OR_RETURN(np.cert_subject, StringField(c.body, "cert_subject", false));
  WEFT_ASSIGN_OR_RETURN(Principal p, options_.registry->CreatePrincipal(np));
  c.outcome = {{"principal_id", p.id}, {"kind", registry::PrincipalKindName(p.kind)}};
  return JsonReply(201, PrincipalJson(p));
}

Result<Reply> ApiServer::Impl::ListPrincipals(Call&) {
  WEFT_ASSIGN_OR_RETURN(std::vector<Principal> all, options_.registry->ListPrincipals());
  json out = json::array();
  for (const Principal& p : all) {
    json j = PrincipalJson(p);
    WEFT_ASSIGN_OR_RETURN(std::vector<Grant> grants, options_.registry->GrantsOf(p.id));
    j["grants"] = json::array();
    for (const Grant& g : grants) j["grants"].push_back(GrantJson(g));
    WEFT_ASSIGN_OR_RETURN(std::vector<registry::TokenRecord> tokens,
                          options_.registry->TokensOf(p.id));
    j["api_keys"] = json::array();
    for (const registry::TokenRecord& t : tokens) j["api_keys"].push_back(TokenRecordJson(t));
    out.push_back(std::move(j));
  }
  return JsonReply(200, json{{"principals", out}});
}

Result<Reply> ApiServer::Impl::IssueToken(Call& c) {
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"ttl_s"}));
  std::optional<Micros> ttl;
  if (auto it = c.body.find("ttl_s"); it != c.body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 ||
        it->get<int64_t>() > kMaxTokenTtlSeconds) {
      return InvalidArgumentError("field 'ttl_s' must be a whole number of seconds from 1 to " +
                                  std::to_string(kMaxTokenTtlSeconds));
    }
    ttl = Micros(it->get<int64_t>() * 1'000'000);
  }
  WEFT_ASSIGN_OR_RETURN(registry::IssuedToken t,
                        options_.registry->IssueToken(c.params.at(0), ttl));
  // The audit detail names the public id only ("key_id": a "token..." key would be masked).
  c.outcome = {{"principal_id", t.record.principal_id}, {"key_id", t.record.id}};
  json j = TokenRecordJson(t.record);
  j["principal_id"] = t.record.principal_id;
  j["token"] = t.plaintext;
  return JsonReply(201, j);
}

Result<Reply> ApiServer::Impl::RevokeToken(Call& c) {
  const std::string& id = c.params.at(0);
  if (id.size() != registry::kTokenIdLength) {
    return InvalidArgumentError(
        "give the token's public id (its first " + std::to_string(registry::kTokenIdLength) +
        " characters, as listed by GET /api/v1/principals), not the token itself");
  }
  WEFT_RETURN_IF_ERROR(options_.registry->RevokeToken(id));
  c.outcome = {{"key_id", id}};
  return JsonReply(200, json{{"revoked", id}});
}

Result<Reply> ApiServer::Impl::AddGrant(Call& c) {
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"principal_id", "role", "scope", "tag"}));
  registry::NewGrant g;
  WEFT_ASSIGN_OR_RETURN(g.principal_id, StringField(c.body, "principal_id", true));
  WEFT_ASSIGN_OR_RETURN(std::string role, StringField(c.body, "role", true));
  WEFT_ASSIGN_OR_RETURN(g.role, registry::ParseRole(role));
  WEFT_ASSIGN_OR_RETURN(g.scope, StringField(c.body, "scope", true));
  WEFT_ASSIGN_OR_RETURN(std::string tag, StringField(c.body, "tag", false));
  if (!tag.empty()) {
    WEFT_ASSIGN_OR_RETURN(registry::TagCondition t, registry::ParseTagCondition(tag));
    g.tag = t;
  }
  WEFT_ASSIGN_OR_RETURN(Grant added, options_.registry->AddGrant(g));
  c.outcome = {{"grant_id", added.id},
               {"grant", registry::DescribeGrant(added)},
               {"principal_id", added.principal_id}};
  return JsonReply(201, GrantJson(added));
}

Result<Reply> ApiServer::Impl::RemoveGrant(Call& c) {
  WEFT_ASSIGN_OR_RETURN(int64_t id, ParseInt(c.params.at(0), "the grant id"));
  WEFT_RETURN_IF_ERROR(options_.registry->RemoveGrant(id));
  c.outcome = {{"grant_id", id}};
  return JsonReply(200, json{{"removed", id}});
}

Result<Reply> ApiServer::Impl::DisablePrincipal(Call& c) {
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {}));
  const std::string& id = c.params.at(0);
  if (id == c.principal.id) {
    return FailedPreconditionError("a principal cannot disable itself (ask another admin)");
  }
  WEFT_RETURN_IF_ERROR(options_.registry->DisablePrincipal(id));
  WEFT_ASSIGN_OR_RETURN(Principal p, options_.registry->GetPrincipal(id));
  c.outcome = {{"principal_id", id}};
  return JsonReply(200, PrincipalJson(p));
}

Result<Reply> ApiServer::Impl::ListViews(Call&) {
  json out = json::array();
  for (const views::ViewDef& v : views_) out.push_back(ViewJson(v));
  return JsonReply(200, json{{"views", out}});
}

Result<Reply> ApiServer::Impl::QueryView(Call& c) {
  const httplib::Request& req = c.req;
  for (const auto& [k, v] : req.params) {
    if (k != "from" && k != "to" && k != "asset" && k != "format") {
      return InvalidArgumentError("unknown query parameter '" + k +
                                  "'; expected from, to, asset, format");
    }
  }
  WEFT_ASSIGN_OR_RETURN(const views::ViewDef* view, views::FindView(views_, c.params.at(0)));
  if (!req.has_param("from") || !req.has_param("to")) {
    return InvalidArgumentError("the query needs 'from' and 'to' (ISO-8601 times)");
  }
  views::ViewQuery q;
  Result<int64_t> from = ParseTimestampMicros(req.get_param_value("from"));
  if (!from.ok()) return from.status().WithContext("query parameter 'from'");
  Result<int64_t> to = ParseTimestampMicros(req.get_param_value("to"));
  if (!to.ok()) return to.status().WithContext("query parameter 'to'");
  q.from_us = *from;
  q.to_us = *to;
  if (q.from_us >= q.to_us) return InvalidArgumentError("'from' must be before 'to'");
  // Divide before comparing: the difference of two parsed times cannot overflow, a product could.
  if ((q.to_us - q.from_us) / view->period_us > options_.max_query_periods) {
    return InvalidArgumentError("the range spans more than " +
                                std::to_string(options_.max_query_periods) + " periods of view '" +
                                view->name + "'; query a shorter range");
  }
  if (req.has_param("asset")) q.asset = req.get_param_value("asset");
  const std::string format_name =
      req.has_param("format") ? req.get_param_value("format") : std::string("jsonl");
  WEFT_ASSIGN_OR_RETURN(views::Format format, views::ParseFormat(format_name));
  if (options_.lake_root.empty()) {
    return FailedPreconditionError("this weft-core has no lake configured");
  }
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<lake::LakeTable> table,
                        OpenTable(options_.lake_root, LakeTableId::kTelemetry, options_.clock));

  // Scope per row: Authorize every distinct (site, area, line, asset) once.
  std::vector<Permission> needed = {Permission::kQueryView};
  if (c.is_export) needed.push_back(Permission::kExportData);
  auto tags_of = [&](std::string_view asset, std::string_view signal) {
    return options_.tag_lookup ? options_.tag_lookup(asset, signal)
                               : std::map<std::string, std::string>{};
  };
  auto allowed = [&](const Resource& r) {
    for (Permission p : needed) {
      if (!registry::Authorize(c.grants, c.principal.disabled, p, r).allowed) return false;
    }
    return true;
  };
  std::map<std::string, bool> seen;
  std::map<std::string, std::string> path_of_asset;  // assets let through -> their path
  q.row_filter = [&](std::string_view site, std::string_view area, std::string_view line,
                     std::string_view asset) {
    std::string key;
    key.append(site).push_back('\0');
    key.append(area).push_back('\0');
    key.append(line).push_back('\0');
    key.append(asset);
    auto it = seen.find(key);
    if (it != seen.end()) return it->second;
    // A row without a complete location is a global resource: only grants on "*" cover it.
    std::string path;
    if (!site.empty() && !area.empty() && !line.empty() && !asset.empty()) {
      path = std::string(site) + "/" + std::string(area) + "/" + std::string(line) + "/" +
             std::string(asset);
    }
    const bool ok = allowed(Resource{path, tags_of(asset, "")});
    if (ok) path_of_asset[std::string(asset)] = path;
    seen.emplace(std::move(key), ok);
    return ok;
  };
  views::ViewReadStats stats;
  WEFT_ASSIGN_OR_RETURN(lake::RecordBatch rows, views::ReadView(*table, *view, q, &stats));

  // Signal-level tags (the catalog): cells of a signal the principal may not see become null,
  // and rows left without any value are dropped.
  size_t cells_masked = 0;
  if (options_.tag_lookup && rows.num_rows() > 0) {
    std::set<std::pair<std::string, size_t>> hidden;  // (asset, column)
    for (const auto& [asset, path] : path_of_asset) {
      std::map<std::string, std::string> asset_tags = tags_of(asset, "");
      for (size_t s = 0; s < view->signals.size(); ++s) {
        std::map<std::string, std::string> tags = asset_tags;
        for (auto& [k, v] : tags_of(asset, view->signals[s].signal)) tags[k] = v;
        if (!allowed(Resource{path, tags})) hidden.emplace(asset, s + 2);
      }
    }
    if (!hidden.empty()) {
      lake::RecordBatch masked(rows.fields());
      for (size_t r = 0; r < rows.num_rows(); ++r) {
        const std::string asset(rows.column(1).StringAt(r));
        bool any_value = false;
        for (size_t col = 2; col < rows.num_columns(); ++col) {
          any_value = any_value || (rows.column(col).IsValid(r) && hidden.count({asset, col}) == 0);
        }
        if (!any_value) {
          ++cells_masked;
          continue;
        }
        for (size_t col = 0; col < rows.num_columns(); ++col) {
          if (col >= 2 && hidden.count({asset, col}) != 0) {
            masked.column(col).AppendNull();
            ++cells_masked;
          } else {
            masked.column(col).AppendFrom(rows.column(col), r);
          }
        }
      }
      rows = std::move(masked);
    }
  }

  std::ostringstream out;
  WEFT_RETURN_IF_ERROR(views::WriteView(rows, format, out));
  c.outcome = {{"view", view->name},
               {"format", format_name},
               {"rows", rows.num_rows()},
               {"samples_filtered_by_scope", stats.rows_filtered},
               {"cells_masked_by_tags", cells_masked},
               {"bytes", static_cast<int64_t>(out.tellp())}};
  Reply reply;
  reply.body = std::move(out).str();
  switch (format) {
    case views::Format::kCsv: reply.content_type = "text/csv"; break;
    case views::Format::kJsonl: reply.content_type = "application/x-ndjson"; break;
    case views::Format::kParquet: reply.content_type = "application/vnd.apache.parquet"; break;
  }
  reply.headers.emplace_back("X-Weft-Rows", std::to_string(rows.num_rows()));
  reply.headers.emplace_back("X-Weft-Samples-Filtered", std::to_string(stats.rows_filtered));
  if (c.is_export) {
    exports_.fetch_add(1);
    reply.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"" + view->name + "." + format_name + "\"");
  }
  return reply;
}

Result<Reply> ApiServer::Impl::ReadAudit(Call& c) {
  const httplib::Request& req = c.req;
  int64_t after = 0, limit = kDefaultAuditLimit;
  if (req.has_param("after_seq")) {
    WEFT_ASSIGN_OR_RETURN(after, ParseInt(req.get_param_value("after_seq"), "after_seq"));
    if (after < 0) return InvalidArgumentError("after_seq must be >= 0");
  }
  if (req.has_param("limit")) {
    WEFT_ASSIGN_OR_RETURN(limit, ParseInt(req.get_param_value("limit"), "limit"));
    if (limit < 1 || limit > kMaxAuditLimit) {
      return InvalidArgumentError("limit must be from 1 to " + std::to_string(kMaxAuditLimit));
    }
  }
  // The file is streamed from the start (records are not indexed by seq); a last line still
  // being written (no newline yet) is left for the next call.
  std::ifstream in(options_.audit->path(), std::ios::binary);
  if (!in) return UnavailableError("cannot read the audit log " + options_.audit->path());
  json records = json::array();
  bool more = false;
  uint64_t skipped = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: incomplete
    json rec = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (rec.is_discarded() || !rec.is_object() || !rec.contains("seq") ||
        !rec["seq"].is_number_unsigned()) {
      ++skipped;
      continue;
    }
    if (rec["seq"].get<uint64_t>() <= static_cast<uint64_t>(after)) continue;
    if (records.size() >= static_cast<size_t>(limit)) {
      more = true;
      break;
    }
    records.push_back(std::move(rec));
  }
  const json next = records.empty() ? json(after) : records.back()["seq"];
  json out{{"records", records}, {"next_after_seq", next}, {"more", more}};
  if (skipped > 0) out["unreadable_lines"] = skipped;
  return JsonReply(200, out);
}

Result<Reply> ApiServer::Impl::VerifyAudit(Call&) {
  const std::string dir = std::filesystem::path(options_.audit->path()).parent_path().string();
  WEFT_ASSIGN_OR_RETURN(audit::VerifyReport r, audit::AuditLog::Verify(dir));
  return JsonReply(200, json{{"ok", r.ok},
                             {"records", r.records},
                             {"torn_tail", r.torn_tail},
                             {"first_bad_line", r.first_bad_line},
                             {"first_bad_seq", r.first_bad_seq},
                             {"problem", r.problem},
                             {"last_seq", r.last_seq},
                             {"last_hash", r.last_hash},
                             {"summary", r.ToString()}});
}

Result<Reply> ApiServer::Impl::IngestStatus(Call&) {
  if (!options_.ingest_stats) {
    return UnavailableError("this process does not run an ingest worker");
  }
  return JsonReply(200, options_.ingest_stats());
}

Result<Reply> ApiServer::Impl::CatalogSignals(Call& c) {
  for (const auto& [k, v] : c.req.params) {
    if (k != "tag")
      return InvalidArgumentError("unknown query parameter '" + k + "'; expected tag");
  }
  if (!options_.catalog_search) return UnavailableError("this weft-core has no catalog");
  WEFT_ASSIGN_OR_RETURN(std::vector<CatalogSignal> found,
                        options_.catalog_search(c.req.get_param_value("tag")));
  // Each signal is a resource of its own: listed only where the grants allow reading the
  // catalog at its place, with its tags (a restricted signal needs a grant for its tag).
  json out = json::array();
  for (const CatalogSignal& s : found) {
    std::string path;
    if (!s.site.empty() && !s.area.empty() && !s.line.empty() && !s.asset.empty()) {
      path = s.site + "/" + s.area + "/" + s.line + "/" + s.asset;
    }
    if (!registry::Authorize(c.grants, c.principal.disabled, Permission::kReadCatalog,
                             Resource{path, s.tags})
             .allowed) {
      continue;
    }
    out.push_back(json{{"site", s.site},
                       {"area", s.area},
                       {"line", s.line},
                       {"asset", s.asset},
                       {"signal", s.signal},
                       {"tags", s.tags}});
  }
  return JsonReply(200, json{{"signals", out}});
}

// ---------------------------------------------------------------------------------------------
// Models

Result<mlops::ModelRegistry*> ApiServer::Impl::Models() const {
  if (options_.models == nullptr) {
    return UnavailableError("model registry not configured in this weft-core");
  }
  return options_.models;
}

Result<Reply> ApiServer::Impl::ListModels(Call&) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_ASSIGN_OR_RETURN(std::vector<mlops::ModelSummary> all, models->List());
  json out = json::array();
  for (const mlops::ModelSummary& m : all) {
    out.push_back(json{{"name", m.name},
                       {"created_at", Iso(m.created_at)},
                       {"versions", m.versions},
                       {"latest_version", m.latest_version},
                       {"aliases", m.aliases}});
  }
  return JsonReply(200, json{{"models", out}});
}

Result<Reply> ApiServer::Impl::GetModel(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  const std::string& name = c.params.at(0);
  WEFT_ASSIGN_OR_RETURN(std::vector<mlops::ModelVersion> versions, models->Versions(name));
  WEFT_ASSIGN_OR_RETURN(auto aliases, models->Aliases(name));
  WEFT_ASSIGN_OR_RETURN(std::vector<mlops::HistoryEntry> history, models->History(name));
  json vs = json::array();
  for (const mlops::ModelVersion& v : versions) vs.push_back(mlops::ToJson(v, false));
  json hs = json::array();
  for (const mlops::HistoryEntry& h : history) hs.push_back(mlops::ToJson(h));
  return JsonReply(200,
                   json{{"name", name}, {"aliases", aliases}, {"versions", vs}, {"history", hs}});
}

Result<Reply> ApiServer::Impl::GetModelVersion(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_ASSIGN_OR_RETURN(mlops::ModelVersion v, models->Get(c.params.at(0), c.params.at(1)));
  return JsonReply(200, mlops::ToJson(v, true));
}

Result<Reply> ApiServer::Impl::ModelArtifact(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_ASSIGN_OR_RETURN(mlops::ModelVersion v, models->Get(c.params.at(0), c.params.at(1)));
  // Verified: a tampered file or row is a DataLoss (500), never served.
  WEFT_ASSIGN_OR_RETURN(std::string bytes, models->ReadArtifact(v.name, v.version));
  c.outcome = {{"model", v.name},
               {"version", v.version},
               {"sha256", v.artifact_sha256},
               {"bytes", static_cast<int64_t>(bytes.size())}};
  Reply reply;
  reply.body = std::move(bytes);
  reply.content_type = "application/octet-stream";
  reply.headers.emplace_back("X-Weft-Sha256", v.artifact_sha256);
  reply.headers.emplace_back("X-Weft-Signature", v.signature_hex);
  reply.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + v.name + "-" + v.version + ".json\"");
  return reply;
}

Result<Reply> ApiServer::Impl::ApproveModel(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"role", "comment"}));
  WEFT_ASSIGN_OR_RETURN(std::string role, StringField(c.body, "role", false));
  WEFT_ASSIGN_OR_RETURN(std::string comment, StringField(c.body, "comment", false));
  // The approving roles: those of the caller's grants that carry approve_model here.
  mlops::Actor actor{c.principal.id,
                     GlobalRolesWith(c.grants, c.principal.disabled, Permission::kApproveModel)};
  if (role.empty()) {
    if (actor.roles.size() != 1) {
      std::string list;
      for (const std::string& r : actor.roles) list += (list.empty() ? "" : ", ") + r;
      return InvalidArgumentError("give the approving role in the body's 'role': one of " + list);
    }
    role = actor.roles.front();
  }
  WEFT_RETURN_IF_ERROR(registry::ParseRole(role).status().WithContext("field 'role'"));
  WEFT_RETURN_IF_ERROR(models->Approve(c.params.at(0), c.params.at(1), actor, role, comment));
  WEFT_ASSIGN_OR_RETURN(mlops::ModelVersion v, models->Get(c.params.at(0), c.params.at(1)));
  c.outcome = {{"model", v.name}, {"version", v.version}, {"role", role}};
  return JsonReply(201, mlops::ToJson(v, false));
}

Result<Reply> ApiServer::Impl::SetModelAlias(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"version"}));
  std::string version;
  auto it = c.body.find("version");
  if (it != c.body.end() && it->is_number_integer()) {
    version = std::to_string(it->get<int64_t>());
  } else {
    WEFT_ASSIGN_OR_RETURN(version, StringField(c.body, "version", true));
  }
  const std::string& name = c.params.at(0);
  const std::string& alias = c.params.at(1);
  std::vector<std::string> roles;
  for (const Grant& g : c.grants) roles.emplace_back(registry::RoleName(g.role));
  const mlops::Actor actor{c.principal.id, roles};
  WEFT_ASSIGN_OR_RETURN(auto before, models->Aliases(name));
  const std::string from = before.count(alias) != 0 ? before.at(alias) : "";
  WEFT_RETURN_IF_ERROR(models->Promote(name, version, alias, actor));
  c.outcome = {{"model", name},
               {"alias", alias},
               {"version", version},
               {"from", from.empty() ? json(nullptr) : json(from)}};
  return JsonReply(200, json{{"model", name},
                             {"alias", alias},
                             {"version", version},
                             {"previous", from.empty() ? json(nullptr) : json(from)}});
}

Result<Reply> ApiServer::Impl::RollbackModelAlias(Call& c) {
  WEFT_ASSIGN_OR_RETURN(mlops::ModelRegistry * models, Models());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {}));
  const std::string& name = c.params.at(0);
  const std::string& alias = c.params.at(1);
  std::vector<std::string> roles;
  for (const Grant& g : c.grants) roles.emplace_back(registry::RoleName(g.role));
  WEFT_ASSIGN_OR_RETURN(auto before, models->Aliases(name));
  WEFT_ASSIGN_OR_RETURN(std::string version,
                        models->Rollback(name, alias, mlops::Actor{c.principal.id, roles}));
  const std::string from = before.count(alias) != 0 ? before.at(alias) : "";
  c.outcome = {{"model", name}, {"alias", alias}, {"version", version}, {"from", from}};
  return JsonReply(200, json{{"model", name},
                             {"alias", alias},
                             {"version", version},
                             {"previous", from.empty() ? json(nullptr) : json(from)}});
}

// ---------------------------------------------------------------------------------------------
// Work orders

namespace {

json WorkOrderJson(const WorkOrder& w) {
  auto text = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  return json{{"id", w.id},
              {"site", text(w.site)},
              {"area", text(w.area)},
              {"line", text(w.line)},
              {"asset", w.asset},
              {"alert_id", text(w.alert_id)},
              {"event_ts", FormatTimestampMicros(w.event_us)},
              {"opened_at", FormatTimestampMicros(w.opened_us)},
              {"closed_at", FormatTimestampMicros(w.closed_us)},
              {"recorded_at", FormatTimestampMicros(w.recorded_us)},
              {"outcome", w.outcome},
              {"minutes", w.minutes},
              {"note", text(w.note)},
              {"principal", w.principal}};
}

//! An optional ISO-8601 time member; nullopt when absent.
Result<std::optional<int64_t>> TimeField(const json& o, const char* name) {
  WEFT_ASSIGN_OR_RETURN(std::string text, StringField(o, name, false));
  if (text.empty()) return std::optional<int64_t>();
  Result<int64_t> t = ParseTimestampMicros(text);
  if (!t.ok()) return t.status().WithContext(std::string("field '") + name + "'");
  return std::optional<int64_t>(*t);
}

}  // namespace

Resource ApiServer::Impl::AssetResource(const std::string& site, const std::string& area,
                                        const std::string& line, const std::string& asset) const {
  Resource r;
  if (!site.empty() && !area.empty() && !line.empty() && !asset.empty()) {
    r.path = site + "/" + area + "/" + line + "/" + asset;
  }
  if (options_.tag_lookup) r.tags = options_.tag_lookup(asset, "");
  return r;
}

Result<Reply> ApiServer::Impl::RecordWorkOrder(Call& c) {
  if (options_.lake_root.empty()) return FailedPreconditionError("this weft-core has no lake");
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"asset", "event_ts", "alert_id", "outcome", "minutes",
                                           "note", "opened_at", "closed_at"}));
  WorkOrder w;
  WEFT_ASSIGN_OR_RETURN(w.asset, StringField(c.body, "asset", true));
  WEFT_ASSIGN_OR_RETURN(w.alert_id, StringField(c.body, "alert_id", false));
  WEFT_ASSIGN_OR_RETURN(w.outcome, StringField(c.body, "outcome", true));
  WEFT_ASSIGN_OR_RETURN(w.note, StringField(c.body, "note", false));
  auto minutes = c.body.find("minutes");
  if (minutes == c.body.end() || !minutes->is_number()) {
    return InvalidArgumentError("field 'minutes' (a number: the time spent) is required");
  }
  w.minutes = minutes->get<double>();
  WEFT_ASSIGN_OR_RETURN(std::optional<int64_t> event, TimeField(c.body, "event_ts"));
  WEFT_ASSIGN_OR_RETURN(std::optional<int64_t> opened, TimeField(c.body, "opened_at"));
  WEFT_ASSIGN_OR_RETURN(std::optional<int64_t> closed, TimeField(c.body, "closed_at"));
  if (!event && w.alert_id.empty()) {
    return InvalidArgumentError("give 'event_ts' (the alert's time) or 'alert_id'");
  }
  const int64_t now = UnixMicros(options_.clock->Now());
  // Without the alert's time, the work order's opening stands for it.
  w.event_us = event ? *event : opened.value_or(now);
  w.opened_us = opened.value_or(w.event_us);
  w.closed_us = closed.value_or(now);
  w.principal = c.principal.id;
  if (options_.asset_location) {
    if (std::optional<AssetLocation> at = options_.asset_location(w.asset)) {
      w.site = at->site;
      w.area = at->area;
      w.line = at->line;
    }
  }
  // The route let the caller in on some scope; the work order must be in one of them.
  const Decision d =
      registry::Authorize(c.grants, c.principal.disabled, Permission::kRecordWorkOrder,
                          AssetResource(w.site, w.area, w.line, w.asset));
  if (!d.allowed) {
    forbidden_.fetch_add(1);
    return PermissionDeniedError(d.reason);
  }
  WEFT_RETURN_IF_ERROR(AppendWorkOrder(options_.lake_root, &w, options_.clock));
  c.outcome = {{"id", w.id},
               {"asset", w.asset},
               {"outcome", w.outcome},
               {"minutes", w.minutes},
               {"event_ts", FormatTimestampMicros(w.event_us)}};
  return JsonReply(201, WorkOrderJson(w));
}

Result<Reply> ApiServer::Impl::ListWorkOrders(Call& c) {
  for (const auto& [k, v] : c.req.params) {
    if (k != "asset" && k != "from" && k != "to") {
      return InvalidArgumentError("unknown query parameter '" + k + "'; expected asset, from, to");
    }
  }
  if (options_.lake_root.empty()) return FailedPreconditionError("this weft-core has no lake");
  WorkOrderQuery q;
  q.asset = c.req.get_param_value("asset");
  for (auto [name, field] : {std::pair{"from", &q.from_us}, std::pair{"to", &q.to_us}}) {
    if (!c.req.has_param(name)) continue;
    Result<int64_t> t = ParseTimestampMicros(c.req.get_param_value(name));
    if (!t.ok()) return t.status().WithContext(std::string("query parameter '") + name + "'");
    *field = *t;
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<WorkOrder> all,
                        ReadWorkOrders(options_.lake_root, q, options_.clock));
  json out = json::array();
  for (const WorkOrder& w : all) {
    if (!registry::Authorize(c.grants, c.principal.disabled, Permission::kReadTelemetry,
                             AssetResource(w.site, w.area, w.line, w.asset))
             .allowed) {
      continue;
    }
    out.push_back(WorkOrderJson(w));
  }
  return JsonReply(200, json{{"work_orders", out}});
}

// ---------------------------------------------------------------------------------------------
// Control

Result<ControlService*> ApiServer::Impl::Control() const {
  if (options_.control == nullptr) {
    return UnavailableError("control governance is not configured in this weft-core");
  }
  return options_.control;
}

Result<Reply> ApiServer::Impl::ControlGrantKey(Call&) {
  WEFT_ASSIGN_OR_RETURN(ControlService * control, Control());
  WEFT_ASSIGN_OR_RETURN(std::string pem, control->PublicKeyPem());
  return Reply{200, std::move(pem), "application/x-pem-file", {}};
}

Result<Reply> ApiServer::Impl::ControlApprove(Call& c) {
  WEFT_ASSIGN_OR_RETURN(ControlService * control, Control());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"edge", "mode", "role"}));
  WEFT_ASSIGN_OR_RETURN(std::string edge, StringField(c.body, "edge", true));
  WEFT_ASSIGN_OR_RETURN(std::string mode_name, StringField(c.body, "mode", true));
  WEFT_ASSIGN_OR_RETURN(control::Mode mode, control::ParseMode(mode_name));
  WEFT_ASSIGN_OR_RETURN(std::string role, StringField(c.body, "role", false));
  // The approving roles: the caller's global grants of the roles the policy names (at least
  // ops_manager and ot_engineer; see ControlOptions::approver_roles).
  const std::vector<std::string>& roles = control->approver_roles();
  std::string role_list;
  for (const std::string& r : roles) role_list += (role_list.empty() ? "" : " or ") + r;
  std::vector<std::string> held;
  for (const std::string& r :
       GlobalRolesWith(c.grants, c.principal.disabled, Permission::kApproveControl)) {
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) held.push_back(r);
  }
  if (role.empty()) {
    if (held.size() != 1) {
      return held.empty() ? PermissionDeniedError("a control approval is given as " + role_list +
                                                  ", and no grant of such a role on '*' is held "
                                                  "by '" +
                                                  c.principal.id + "'")
                          : InvalidArgumentError("give the approving role in the body's 'role': " +
                                                 role_list);
    }
    role = held.front();
  }
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
    return InvalidArgumentError("field 'role' must be " + role_list + ", got '" +
                                role.substr(0, 64) + "'");
  }
  if (std::find(held.begin(), held.end(), role) == held.end()) {
    return PermissionDeniedError("no grant of role " + role + " on '*' is held by '" +
                                 c.principal.id + "': an approval is given in a role one holds");
  }
  WEFT_ASSIGN_OR_RETURN(ControlApproval a,
                        control->Approve(edge, c.params.at(0), mode, c.principal.id, role));
  WEFT_ASSIGN_OR_RETURN(std::vector<ControlApproval> current,
                        control->CurrentApprovals(edge, c.params.at(0), mode));
  json list = json::array();
  for (const ControlApproval& x : current) {
    list.push_back({{"principal", x.principal}, {"role", x.role}, {"at", Iso(x.at)}});
  }
  c.outcome = {{"edge", edge}, {"loop", a.loop}, {"mode", mode_name}, {"role", role}};
  return JsonReply(201, json{{"edge", edge},
                             {"loop", a.loop},
                             {"mode", mode_name},
                             {"principal", a.principal},
                             {"role", role},
                             {"at", Iso(a.at)},
                             {"current_approvals", list}});
}

Result<Reply> ApiServer::Impl::ControlSetMode(Call& c) {
  WEFT_ASSIGN_OR_RETURN(ControlService * control, Control());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"edge", "mode"}));
  WEFT_ASSIGN_OR_RETURN(std::string edge, StringField(c.body, "edge", true));
  WEFT_ASSIGN_OR_RETURN(std::string mode_name, StringField(c.body, "mode", true));
  WEFT_ASSIGN_OR_RETURN(control::Mode mode, control::ParseMode(mode_name));
  WEFT_ASSIGN_OR_RETURN(ModeChange change,
                        control->SetMode(edge, c.params.at(0), mode, c.principal.id));
  json approvals = json::array();
  for (const control::GrantApproval& a : change.grant.approvals) {
    approvals.push_back({{"principal", a.principal}, {"role", a.role}, {"at", Iso(a.at)}});
  }
  c.outcome = {{"edge", edge},
               {"loop", change.grant.loop},
               {"mode", mode_name},
               {"approvals", approvals},
               {"expires_at", Iso(change.grant.expires_at)}};
  return JsonReply(200, json{{"edge", edge},
                             {"loop", change.grant.loop},
                             {"mode", mode_name},
                             {"approvals", approvals},
                             {"issued_at", Iso(change.grant.issued_at)},
                             {"expires_at", Iso(change.grant.expires_at)},
                             {"sent", "control_grant"},
                             {"envelope", json::parse(change.envelope)}});
}

Result<Reply> ApiServer::Impl::ControlApproveProposal(Call& c) {
  WEFT_ASSIGN_OR_RETURN(ControlService * control, Control());
  WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"edge"}));
  WEFT_ASSIGN_OR_RETURN(std::string edge, StringField(c.body, "edge", true));
  const std::string& loop = c.params.at(0);
  const std::string& proposal = c.params.at(1);
  WEFT_RETURN_IF_ERROR(control->ApproveProposal(edge, loop, proposal, c.principal.id));
  c.outcome = {{"edge", edge}, {"loop", loop}, {"proposal", proposal}};
  return JsonReply(200, json{{"edge", edge},
                             {"loop", loop},
                             {"proposal", proposal},
                             {"principal", c.principal.id},
                             {"sent", "control_approve"}});
}

// ---------------------------------------------------------------------------------------------
// Start, bootstrap

namespace {

Status WriteSecretFile(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  }
  Status s;
  if (::fchmod(fd, 0600) != 0) s = UnavailableError("chmod 0600 " + path + " failed");
  size_t done = 0;
  while (s.ok() && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      s = UnavailableError("cannot write " + path + ": " + std::strerror(errno));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0) s = UnavailableError("cannot fsync " + path);
  ::close(fd);
  return s;
}

}  // namespace

Status ApiServer::Impl::Init(std::string* bootstrap_file) {
  if (!options_.views_file.empty()) {
    WEFT_ASSIGN_OR_RETURN(views_, views::LoadViewsFile(options_.views_file));
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<Principal> principals, options_.registry->ListPrincipals());
  if (!principals.empty()) return Status::Ok();
  if (options_.state_dir.empty()) {
    spdlog::warn(
        "weft-core api: the registry has no principal and no state directory was given "
        "for a bootstrap token: no one can use the API");
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  const std::string path = options_.state_dir + "/admin.token";
  // Create the file first: if it cannot be written, the registry stays empty and the next start
  // tries again (an admin without a token anywhere would lock everyone out).
  WEFT_RETURN_IF_ERROR(WriteSecretFile(path, ""));
  WEFT_ASSIGN_OR_RETURN(Principal admin,
                        options_.registry->CreatePrincipal({"admin", registry::PrincipalKind::kUser,
                                                            "Bootstrap administrator", ""}));
  WEFT_ASSIGN_OR_RETURN(Grant grant, options_.registry->AddGrant(
                                         {admin.id, registry::Role::kAdmin, "*", std::nullopt}));
  WEFT_ASSIGN_OR_RETURN(registry::IssuedToken token,
                        options_.registry->IssueToken(admin.id, std::nullopt));
  WEFT_RETURN_IF_ERROR(WriteSecretFile(path, token.plaintext + "\n"));
  audit::AuditEvent e{
      "system", "registry.bootstrap", "principals/admin", "done",
      json{{"grant", registry::DescribeGrant(grant)}, {"key_id", token.record.id}, {"file", path}}};
  WEFT_RETURN_IF_ERROR(options_.audit->Append(e).status());
  spdlog::warn(
      "weft-core api: empty registry: created principal 'admin' (admin on '*'); its API "
      "token is in {} (mode 0600). Keep it safe, create personal principals, then "
      "delete the file.",
      path);
  *bootstrap_file = path;
  return Status::Ok();
}

}  // namespace weft::core::api

namespace weft::core::api {

std::vector<ApiRoute> ApiServer::Routes() {
  std::vector<ApiRoute> out;
  for (const Impl::RouteSpec& s : Impl::Specs()) out.push_back({s.method, s.path});
  return out;
}

ApiMetrics ApiServer::metrics() const {
  ApiMetrics m;
  m.requests = impl_->requests_.load();
  m.unauthenticated = impl_->unauthenticated_.load();
  m.forbidden = impl_->forbidden_.load();
  m.bad_json = impl_->bad_json_.load();
  m.payload_too_large = impl_->payload_too_large_.load();
  m.server_errors = impl_->server_errors_.load();
  m.audit_failures = impl_->audit_failures_.load();
  m.exports = impl_->exports_.load();
  return m;
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiOptions options) {
  if (options.registry == nullptr || options.audit == nullptr || options.clock == nullptr) {
    return InvalidArgumentError("ApiServer::Start needs a registry, an audit log and a clock");
  }
  const size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    Result<int64_t> p = ParseInt(std::string_view(options.listen).substr(colon + 1), "port");
    if (p.ok() && *p >= 0 && *p <= 65535) port = static_cast<int>(*p);
  }
  if (port < 0 || colon == 0) {
    return InvalidArgumentError("API listen address '" + options.listen +
                                "' is not host:port (e.g. 127.0.0.1:8443)");
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  std::unique_ptr<ApiServer> api(new ApiServer());
  const std::string listen = options.listen;
  size_t max_body = options.max_body_bytes;
  for (const ModuleRoute& m : options.modules) max_body = std::max(max_body, m.max_body_bytes);
  const size_t threads = std::max<size_t>(1, options.threads);
  const bool has_tls = !options.cert_file.empty() || !options.key_file.empty();
  if (has_tls && (options.cert_file.empty() || options.key_file.empty())) {
    return InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  if (!has_tls && !options.allow_insecure_http) {
    return InvalidArgumentError(
        "the API needs a TLS certificate and key (plain HTTP only when "
        "allow_insecure_http is set)");
  }
  const std::string cert = options.cert_file, key = options.key_file;
  api->impl_ = std::make_unique<Impl>(std::move(options));
  Impl& impl = *api->impl_;
  WEFT_RETURN_IF_ERROR(impl.Init(&api->bootstrap_token_file_));

  if (has_tls) {
    for (const std::string& f : {cert, key}) {
      if (!std::ifstream(f).good()) return UnavailableError("cannot read TLS file " + f);
    }
    auto ssl = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
    if (!ssl->is_valid()) {
      return UnavailableError("cannot use the TLS certificate " + cert + " with key " + key +
                              " (PEM files expected; does the key belong to the certificate?)");
    }
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    impl.server_ = std::move(ssl);
    api->tls_ = true;
  } else {
    spdlog::warn(
        "weft-core api: serving PLAIN HTTP on {}: tokens cross the network in clear; "
        "use TLS outside tests",
        listen);
    impl.server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl.server_;
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let another process bind
  // the same port and receive some of the requests).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(max_body);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(30, 0);
  server.set_keep_alive_max_count(100);
  Impl* raw = &impl;
  server.set_error_handler([raw](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error reply
    if (res.status == 413) raw->payload_too_large_.fetch_add(1);
    if (res.status >= 500) raw->server_errors_.fetch_add(1);
    std::string code = "http_" + std::to_string(res.status);
    std::string message = "HTTP status " + std::to_string(res.status);
    if (res.status == 404) {
      code = "not_found";
      message = "no such route; the API is described in docs/openapi.yaml";
    } else if (res.status == 413) {
      code = "payload_too_large";
      message = "the request body is larger than the limit";
    } else if (res.status == 400) {
      code = "invalid_argument";
      message = "malformed HTTP request";
    }
    res.set_content(DumpJson(json{{"error", {{"code", code}, {"message", message}}}}) + "\n",
                    "application/json");
  });
  server.set_exception_handler(
      [raw](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        raw->server_errors_.fetch_add(1);
        res.status = 500;
        res.set_content(R"({"error":{"code":"internal","message":"internal error"}})",
                        "application/json");
      });
  impl.Register(&server);

  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return UnavailableError("cannot listen for the API on " + listen +
                            " (address in use or not local?); change --api-listen");
  }
  api->port_ = bound;
  impl.thread_ = std::thread([s = impl.server_.get()] { s->listen_after_bind(); });
  // stop() is a no-op until the server runs: wait, so that the destructor can always stop it.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return api;
}

ApiServer::~ApiServer() {
  if (impl_ && impl_->server_) impl_->server_->stop();
  if (impl_ && impl_->thread_.joinable()) impl_->thread_.join();
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificate

Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                  const std::string& common_name, Micros validity) {
  if (common_name.empty() || common_name.size() > 64 ||
      common_name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-:") != std::string::npos) {
    return InvalidArgumentError("certificate name '" + common_name +
                                "' must be a host name or an IP address");
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
  if (!pkey || !x || !serial) return InternalError("OpenSSL: cannot allocate a key/certificate");
  bool ok = X509_set_version(x.get(), 2) == 1 && BN_rand(serial.get(), 127, 0, 0) == 1 &&
            BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(x.get()), -300) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x.get()),
                            static_cast<long>(validity.count() / 1'000'000)) != nullptr &&
            X509_set_pubkey(x.get(), pkey.get()) == 1;
  X509_NAME* name = X509_get_subject_name(x.get());
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("weft-core"), -1, -1,
                                  0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0) == 1 &&
       X509_set_issuer_name(x.get(), name) == 1;
  std::string san = "DNS:localhost,IP:127.0.0.1";
  if (common_name != "localhost" && common_name != "127.0.0.1") {
    unsigned char buf[sizeof(struct in6_addr)];
    const bool is_ip = ::inet_pton(AF_INET, common_name.c_str(), buf) == 1 ||
                       ::inet_pton(AF_INET6, common_name.c_str(), buf) == 1;
    san += (is_ip ? ",IP:" : ",DNS:") + common_name;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")},
                            std::pair{NID_subject_key_identifier, std::string("hash")},
                            std::pair{NID_subject_alt_name, san}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    ok = ok && ext != nullptr && X509_add_ext(x.get(), ext, -1) == 1;
    if (ext != nullptr) X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(x.get(), pkey.get(), EVP_sha256()) > 0;
  if (!ok) return InternalError("OpenSSL could not build the self-signed certificate");

  auto write_pem = [](const std::string& path, mode_t mode,
                      const std::function<bool(BIO*)>& write) -> Status {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || !write(bio.get())) return InternalError("OpenSSL could not encode " + path);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    const std::string pem(data, static_cast<size_t>(len));
    if (mode == 0600) return WriteSecretFile(path, pem);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << pem;
    out.flush();
    if (!out) return UnavailableError("cannot write " + path);
    return Status::Ok();
  };
  WEFT_RETURN_IF_ERROR(write_pem(key_path, 0600, [&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }));
  return write_pem(cert_path, 0644, [&](BIO* b) { return PEM_write_bio_X509(b, x.get()) == 1; });
}

}  // namespace weft::core::api

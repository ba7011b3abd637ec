// Route modules: how a subsystem adds routes to weft-core's API without editing api_server.cc.
// A module is a list of ModuleRoute; weft-core passes them in ApiOptions::modules, and the server
// gives them the same authentication, authorization, audit, body limits and error mapping as its
// own routes (see api_server.h for the request flow).
//
//   std::vector<api::ModuleRoute> FleetRoutes(ProvisioningService* s) {
//     return {{"GET", "/api/v1/fleet/devices", api::Access::kGlobal,
//              registry::Permission::kReadFleet, /*mutation=*/false, /*json_body=*/false,
//              /*body_empty_ok=*/false, "fleet.devices.list",
//              [s](api::RouteCall& c) -> Result<api::Reply> {
//                WEFT_ASSIGN_OR_RETURN(auto devices, s->store().ListDevices());
//                return api::JsonReply(200, ToJson(devices));
//              }}};
//   }
//
// Contracts for handlers:
// - kGlobal / kAnywhere / kAuthenticated routes run after authentication and the route's
//   permission check; `c.principal` and `c.grants` are the caller's. kAnywhere handlers filter
//   what they return by scope themselves.
// - A mutation (`mutation` true) is audited by the server: "allow" before the handler runs (not
//   run if that record cannot be written), then "done" with `c.outcome` or "error".
// - kPublic routes get no principal and are NOT audited by the server: a public mutation (e.g.
//   device provisioning) writes its own audit records.
// - Return errors as Status (mapped to HTTP by the canonical code, body {"error":{code,message}})
//   or build a Reply for anything else (e.g. 429 with Retry-After).
// - Handlers run on the server's thread pool, concurrently: whatever they capture must be
//   thread-safe and outlive the server.
#ifndef WEFT_CORE_API_ROUTE_H_
#define WEFT_CORE_API_ROUTE_H_

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/registry/access.h"
#include "core/registry/registry_store.h"

namespace httplib {
struct Request;
}  // namespace httplib

namespace weft::core::api {

//! What a handler answers.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  //! When set, `body` is ignored and the reply is streamed (chunked): the server calls `stream`
  //! until it returns false (the end), writing each non-empty chunk it returns as soon as it
  //! returns it. A call may block briefly (at most about a second: weft-core's shutdown waits
  //! for it) to wait for something to send, e.g. server-sent events (core/web/web_routes.h).
  //! It runs on the request's thread and is destroyed when the response ends.
  std::function<bool(std::string* chunk)> stream{};
};

//! JSON text; invalid UTF-8 (e.g. echoed from a request) becomes U+FFFD instead of throwing.
std::string DumpJson(const nlohmann::json& j);
Reply JsonReply(int status, const nlohmann::json& j);
//! The HTTP status of a canonical code (InvalidArgument 400, PermissionDenied 403, NotFound 404,
//! AlreadyExists/FailedPrecondition/Aborted 409, ResourceExhausted 413, Unavailable 503, ...).
int HttpStatusOf(StatusCode code);
Reply ErrorReply(int http_status, std::string_view code, const std::string& message);
Reply ErrorReply(const Status& s);

//! InvalidArgument naming the first member of `o` that is not in `allowed`.
Status OnlyFields(const nlohmann::json& o, std::initializer_list<std::string_view> allowed);
//! A string member: required (missing -> error) or optional (missing -> fallback).
Result<std::string> StringField(const nlohmann::json& o, const char* name, bool required,
                                std::string fallback = "");
//! Whole decimal number; the error names `what` and shows the text.
Result<int64_t> ParseInt(std::string_view text, const char* what);

enum class Access {
  kPublic,         //!< no authentication
  kAuthenticated,  //!< any authenticated principal
  kGlobal,         //!< the permission on the global resource "" (grants on "*")
  kAnywhere,       //!< the permission on some scope (the handler filters by scope)
};

//! One request as a handler sees it.
struct RouteCall {
  const httplib::Request& req;            //!< remote_addr, get_param_value(), body, headers
  std::vector<std::string> params{};      //!< path parameters, in order
  registry::Principal principal{};        //!< empty for kPublic routes
  std::vector<registry::Grant> grants{};  //!< the principal's grants
  nlohmann::json body = nlohmann::json::object();  //!< the parsed body when json_body
  std::string action{};                   //!< audit action (the route's; may be refined)
  std::string resource{};                 //!< audit resource (the path below /api/v1/)
  bool is_export = false;                 //!< a view export (built-in routes)
  nlohmann::json outcome = nlohmann::json::object();  //!< detail of the "done" audit record
};

using RouteHandler = std::function<Result<Reply>(RouteCall&)>;

//! A route a module adds. `path` uses {name} for path parameters ("/api/v1/fleet/devices/{id}").
struct ModuleRoute {
  std::string method;  //!< GET, POST, DELETE
  std::string path;
  Access access = Access::kGlobal;
  registry::Permission permission = registry::Permission::kAdmin;
  bool mutation = false;       //!< audited: decision + outcome
  bool json_body = false;      //!< the body must be a JSON object (parsed into RouteCall::body)
  bool body_empty_ok = false;  //!< an empty JSON body reads as {}
  std::string action;          //!< audit action, e.g. "fleet.revoke"
  RouteHandler handler;
  size_t max_body_bytes = 0;  //!< 0 = ApiOptions::max_body_bytes
};

//! The roles of the caller's grants on "*" that carry `p` (for approvals made "in a role").
std::vector<std::string> GlobalRolesWith(const std::vector<registry::Grant>& grants, bool disabled,
                                         registry::Permission p);

}  // namespace weft::core::api

#endif  // WEFT_CORE_API_ROUTE_H_

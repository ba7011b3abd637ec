#include "core/api/route.h"

#include <charconv>
#include <set>

namespace weft::core::api {

using json = nlohmann::json;
using registry::Grant;
using registry::Permission;
using registry::Resource;

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply JsonReply(int status, const json& j) {
  return Reply{status, DumpJson(j) + "\n", "application/json", {}};
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

Reply ErrorReply(int http_status, std::string_view code, const std::string& message) {
  return JsonReply(http_status, json{{"error", {{"code", code}, {"message", message}}}});
}

Reply ErrorReply(const Status& s) {
  return ErrorReply(HttpStatusOf(s.code()), StatusCodeName(s.code()), s.message());
}

Status OnlyFields(const json& o, std::initializer_list<std::string_view> allowed) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return InvalidArgumentError("unknown field '" + it.key() +
                                  "' in the body; expected: " + list);
    }
  }
  return Status::Ok();
}

Result<std::string> StringField(const json& o, const char* name, bool required,
                                std::string fallback) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) {
    if (required) return InvalidArgumentError(std::string("missing field '") + name + "'");
    return fallback;
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("field '") + name + "' must be a string, got " +
                                it->type_name());
  }
  return it->get<std::string>();
}

Result<int64_t> ParseInt(std::string_view text, const char* what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return InvalidArgumentError(std::string(what) + " must be an integer, got '" +
                                std::string(text.substr(0, 64)) + "'");
  }
  return v;
}


std::vector<std::string> GlobalRolesWith(const std::vector<Grant>& grants, bool disabled,
                                         Permission p) {
  std::set<std::string> roles;
  for (const Grant& g : grants) {
    if (registry::Authorize({g}, disabled, p, Resource{}).allowed) {
      roles.insert(std::string(registry::RoleName(g.role)));
    }
  }
  return std::vector<std::string>(roles.begin(), roles.end());
}

}  // namespace weft::core::api

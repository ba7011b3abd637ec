#include "core/governance/governance_routes.h"

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::core::governance {
namespace {

using json = nlohmann::json;
using api::Access;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using registry::Permission;

std::string Iso(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

// The caller's global roles that the policy accepts for `decision` and that carry its permission.
Result<std::string> ApprovingRole(const RouteCall& c, const DecisionPolicy& policy,
                                  const std::string& asked) {
  std::vector<std::string> held;
  for (const std::string& r :
       api::GlobalRolesWith(c.grants, c.principal.disabled, policy.permission)) {
    const bool required =
        std::find(policy.roles.begin(), policy.roles.end(), r) != policy.roles.end();
    if (required && std::find(held.begin(), held.end(), r) == held.end()) held.push_back(r);
  }
  if (asked.empty()) {
    if (held.size() == 1) return held.front();
    if (held.empty()) {
      return PermissionDeniedError("'" + c.principal.id +
                                   "' holds none of the roles that approve " + policy.decision +
                                   " (" + Join(policy.roles) + ") on '*' with " +
                                   std::string(registry::PermissionName(policy.permission)));
    }
    return InvalidArgumentError("give the approving role in the body's 'role': one of " +
                                Join(held));
  }
  if (std::find(policy.roles.begin(), policy.roles.end(), asked) == policy.roles.end()) {
    return InvalidArgumentError(policy.decision + " is approved as " + Join(policy.roles) +
                                ", not as '" + asked.substr(0, 64) + "'");
  }
  if (std::find(held.begin(), held.end(), asked) == held.end()) {
    return PermissionDeniedError("no grant of role " + asked + " on '*' is held by '" +
                                 c.principal.id + "': an approval is given in a role one holds");
  }
  return asked;
}

std::vector<std::string> SplitSubject(std::string_view subject) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = subject.find('/', start);
    parts.emplace_back(
        subject.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

json ToJson(const Approval& a) {
  return json{
      {"id", a.id},
      {"decision", a.decision},
      {"subject", a.subject},
      {"principal", a.principal},
      {"role", a.role},
      {"note", a.note},
      {"approved_at", Iso(a.approved_at)},
      // Approvals kept elsewhere (model registry, control) carry no expiry here.
      {"expires_at", a.expires_at == TimePoint{} ? json(nullptr) : json(Iso(a.expires_at))}};
}

json ToJson(const DecisionState& s) {
  json filled = json::object();
  for (const auto& [role, principal] : s.filled_roles) filled[role] = principal;
  json approvals = json::array();
  for (const Approval& a : s.valid_approvals) approvals.push_back(ToJson(a));
  json out{{"decision", s.decision}, {"subject", s.subject},
           {"source", s.source},     {"required_roles", s.required_roles},
           {"filled_roles", filled}, {"missing_roles", s.missing_roles},
           {"approved", s.approved}, {"approvals", approvals},
           {"request", nullptr}};
  if (s.request) {
    out["request"] = {{"requested_by", s.request->requested_by},
                      {"note", s.request->note},
                      {"requested_at", Iso(s.request->requested_at)}};
  }
  return out;
}

json ToJson(const Policies& p) {
  json list = json::array();
  for (const DecisionPolicy& d : p.all()) {
    list.push_back(
        {{"decision", d.decision},
         {"roles", d.roles},
         {"valid_for", FormatDuration(d.valid_for)},
         {"valid_for_s", std::chrono::duration_cast<std::chrono::seconds>(d.valid_for).count()},
         {"distinct_principals", d.distinct_principals},
         {"permission", registry::PermissionName(d.permission)}});
  }
  return json{{"policies", list}};
}

std::vector<ModuleRoute> GovernanceRoutes(GovernanceRouteOptions options) {
  ApprovalBoard* board = options.board;
  auto external = std::make_shared<const std::map<std::string, ExternalApprover>>(
      std::move(options.external_approvers));
  std::vector<ModuleRoute> routes;

  routes.push_back({"GET", "/api/v1/governance/policies", Access::kAnywhere,
                    Permission::kReadCatalog, false, false, false, "governance.policies.read",
                    [board](RouteCall&) -> Result<Reply> {
                      return api::JsonReply(200, ToJson(board->policies()));
                    }});

  routes.push_back({"GET", "/api/v1/governance/pending", Access::kAnywhere,
                    Permission::kReadCatalog, false, false, false, "governance.pending.read",
                    [board](RouteCall&) -> Result<Reply> {
                      WEFT_ASSIGN_OR_RETURN(std::vector<DecisionState> pending, board->Pending());
                      json list = json::array();
                      for (const DecisionState& s : pending) list.push_back(ToJson(s));
                      return api::JsonReply(200, json{{"pending", list}});
                    }});

  routes.push_back(
      {"GET", "/api/v1/governance/approvals", Access::kAnywhere, Permission::kReadCatalog, false,
       false, false, "governance.approvals.read", [board](RouteCall& c) -> Result<Reply> {
         const std::string decision = c.req.get_param_value("decision");
         const std::string subject = c.req.get_param_value("subject");
         WEFT_ASSIGN_OR_RETURN(std::vector<Approval> all, board->Approvals(decision, subject));
         json list = json::array();
         for (const Approval& a : all) list.push_back(ToJson(a));
         json out{{"approvals", list}};
         if (!decision.empty() && !subject.empty()) {
           WEFT_ASSIGN_OR_RETURN(DecisionState st, board->State(decision, subject));
           out["state"] = ToJson(st);
         }
         return api::JsonReply(200, out);
       }});

  routes.push_back(
      {"POST", "/api/v1/governance/approvals", Access::kAuthenticated, Permission::kReadCatalog,
       true, true, false, "governance.approve", [board, external](RouteCall& c) -> Result<Reply> {
         WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"decision", "subject", "role", "note"}));
         WEFT_ASSIGN_OR_RETURN(std::string decision, api::StringField(c.body, "decision", true));
         WEFT_ASSIGN_OR_RETURN(std::string subject, api::StringField(c.body, "subject", true));
         WEFT_ASSIGN_OR_RETURN(std::string asked, api::StringField(c.body, "role", false));
         WEFT_ASSIGN_OR_RETURN(std::string note, api::StringField(c.body, "note", false));
         WEFT_ASSIGN_OR_RETURN(DecisionPolicy policy, board->policies().Get(decision));
         WEFT_ASSIGN_OR_RETURN(std::string role, ApprovingRole(c, policy, asked));
         c.resource = "governance/" + decision;
         c.outcome = {{"decision", decision}, {"subject", subject}, {"role", role}};
         if (auto it = external->find(decision); it != external->end()) {
           WEFT_ASSIGN_OR_RETURN(json approval, it->second(subject, c.principal.id, role, note));
           c.outcome["recorded_in"] = approval.value("recorded_in", "external");
           return api::JsonReply(201, json{{"approval", approval}, {"state", nullptr}});
         }
         WEFT_ASSIGN_OR_RETURN(Approval a,
                               board->Approve(decision, subject, c.principal.id, role, note));
         WEFT_ASSIGN_OR_RETURN(DecisionState st, board->State(decision, subject));
         c.outcome["approved"] = st.approved;
         return api::JsonReply(201, json{{"approval", ToJson(a)}, {"state", ToJson(st)}});
       }});

  routes.push_back(
      {"POST", "/api/v1/governance/requests", Access::kAnywhere, Permission::kReadCatalog, true,
       true, false, "governance.request", [board](RouteCall& c) -> Result<Reply> {
         WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"decision", "subject", "note"}));
         WEFT_ASSIGN_OR_RETURN(std::string decision, api::StringField(c.body, "decision", true));
         WEFT_ASSIGN_OR_RETURN(std::string subject, api::StringField(c.body, "subject", true));
         WEFT_ASSIGN_OR_RETURN(std::string note, api::StringField(c.body, "note", false));
         WEFT_RETURN_IF_ERROR(board->Request(decision, subject, c.principal.id, note));
         c.resource = "governance/" + decision;
         c.outcome = {{"decision", decision}, {"subject", subject}};
         WEFT_ASSIGN_OR_RETURN(DecisionState st, board->State(decision, subject));
         return api::JsonReply(201, json{{"state", ToJson(st)}});
       }});
  return routes;
}

ExternalApprover ModelPromotionApprover(mlops::ModelRegistry* models) {
  return [models](std::string_view subject, const std::string& principal, const std::string& role,
                  const std::string& note) -> Result<json> {
    const std::vector<std::string> parts = SplitSubject(subject);
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return InvalidArgumentError("a model_promotion subject is '<model>/<version>', got '" +
                                  std::string(subject.substr(0, 200)) + "'");
    }
    const mlops::Actor actor{principal, {role}};
    WEFT_RETURN_IF_ERROR(models->Approve(parts[0], parts[1], actor, role, note));
    WEFT_ASSIGN_OR_RETURN(mlops::ModelVersion v, models->Get(parts[0], parts[1]));
    return json{{"recorded_in", "model_registry"},
                {"model", v.name},
                {"version", v.version},
                {"principal", principal},
                {"role", role},
                {"missing_roles", models->MissingProductionRoles(v)}};
  };
}

ApprovalBoard::PendingSource ModelPromotionPending(mlops::ModelRegistry* models) {
  return [models]() -> Result<std::vector<DecisionState>> {
    WEFT_ASSIGN_OR_RETURN(std::vector<mlops::ModelVersion> waiting, models->AwaitingProduction());
    std::vector<DecisionState> out;
    for (const mlops::ModelVersion& v : waiting) {
      DecisionState st;
      st.decision = std::string(kModelPromotion);
      st.subject = v.name + "/" + v.version;
      st.required_roles = models->production_approver_roles();
      std::vector<std::pair<std::string, std::string>> given;
      for (const mlops::Approval& a : v.approvals) {
        given.emplace_back(a.principal, a.role);
        st.valid_approvals.push_back(
            {0, st.decision, st.subject, a.principal, a.role, a.comment, a.at, TimePoint{}});
      }
      mlops::Quorum q = mlops::MatchQuorum(given, st.required_roles);
      st.filled_roles = std::move(q.filled);
      st.missing_roles = std::move(q.missing);
      out.push_back(std::move(st));
    }
    return out;
  };
}

ExternalApprover ControlApprover(api::ControlService* control) {
  return [control](std::string_view subject, const std::string& principal, const std::string& role,
                   const std::string&) -> Result<json> {
    const std::vector<std::string> parts = SplitSubject(subject);
    if (parts.size() != 3) {
      return InvalidArgumentError(
          "a control_write_mode subject is '<edge>/<loop>/<mode>' (mode supervised or "
          "autonomous), got '" +
          std::string(subject.substr(0, 200)) + "'");
    }
    WEFT_ASSIGN_OR_RETURN(control::Mode mode, control::ParseMode(parts[2]));
    WEFT_ASSIGN_OR_RETURN(api::ControlApproval a,
                          control->Approve(parts[0], parts[1], mode, principal, role));
    WEFT_ASSIGN_OR_RETURN(std::vector<api::ControlApproval> current,
                          control->CurrentApprovals(parts[0], parts[1], mode));
    return json{{"recorded_in", "control"}, {"edge", a.edge},
                {"loop", a.loop},           {"mode", parts[2]},
                {"principal", principal},   {"role", role},
                {"at", Iso(a.at)},          {"missing_roles", control->MissingRoles(current)}};
  };
}

ApprovalBoard::PendingSource ControlPending(api::ControlService* control) {
  return [control]() -> Result<std::vector<DecisionState>> {
    WEFT_ASSIGN_OR_RETURN(std::vector<api::ControlPending> pending, control->Pending());
    std::vector<DecisionState> out;
    for (const api::ControlPending& p : pending) {
      DecisionState st;
      st.decision = std::string(kControlWriteMode);
      st.subject = p.edge + "/" + p.loop + "/" + std::string(control::ModeName(p.mode));
      st.required_roles = control->approver_roles();
      std::vector<std::pair<std::string, std::string>> given;
      for (const api::ControlApproval& a : p.approvals) {
        given.emplace_back(a.principal, a.role);
        st.valid_approvals.push_back(
            {0, st.decision, st.subject, a.principal, a.role, "", a.at, TimePoint{}});
      }
      mlops::Quorum q = mlops::MatchQuorum(given, st.required_roles);
      st.filled_roles = std::move(q.filled);
      st.missing_roles = std::move(q.missing);
      out.push_back(std::move(st));
    }
    return out;
  };
}

}  // namespace weft::core::governance

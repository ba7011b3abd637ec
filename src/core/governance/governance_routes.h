// The governance board's REST routes (a route module, core/api/route.h) and the hooks that let
// the board show and take approvals kept by the model registry and the control service.
//
//   GovernanceRouteOptions o{.board = board.get()};
//   o.external_approvers[std::string(kModelPromotion)] = ModelPromotionApprover(models);
//   board->AddPendingSource("model_registry", ModelPromotionPending(models));
//   api_options.modules += GovernanceRoutes(o);
//
// Routes (all under /api/v1/governance):
//   GET  /policies                       read_catalog on some scope: the policy table
//   GET  /pending                        read_catalog on some scope: DecisionStates not approved
//   GET  /approvals?decision=&subject=   read_catalog on some scope: history (+ "state" when both)
//   POST /approvals {decision, subject, role?, note?}
//        the caller needs, on "*", a grant of `role` (one of the policy's roles for the decision)
//        whose role carries the decision's permission (approve_model / approve_release /
//        approve_control); `role` may be omitted when the caller holds exactly one such role.
//        Audited (mutation). 201 {approval, state}.
//   POST /requests {decision, subject, note?}   read_catalog on some scope; audited.
// A decision with an external approver (model_promotion -> the model registry, control_write_mode
// -> the control service) is approved there, so the point of action sees it: the board's own
// records are for decisions without one (firmware_release).
//
// Thread-safety: the handlers are safe to run concurrently; the board, registry and service
// passed in must outlive the server.
#ifndef WEFT_CORE_GOVERNANCE_GOVERNANCE_ROUTES_H_
#define WEFT_CORE_GOVERNANCE_GOVERNANCE_ROUTES_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/control_routes.h"
#include "core/api/route.h"
#include "core/governance/approval_board.h"
#include "mlops/registry/model_registry.h"

namespace weft::core::governance {

//! Records an approval in the service that acts on it; returns the JSON the route answers with
//! under "approval". The route has checked the caller's permission and role.
using ExternalApprover =
    std::function<Result<nlohmann::json>(std::string_view subject, const std::string& principal,
                                         const std::string& role, const std::string& note)>;

struct GovernanceRouteOptions {
  ApprovalBoard* board = nullptr;  //!< required, not owned
  //! decision -> where its approvals are recorded instead of the board.
  std::map<std::string, ExternalApprover> external_approvers{};
};

std::vector<api::ModuleRoute> GovernanceRoutes(GovernanceRouteOptions options);

//! model_promotion subjects are "<model>/<version>": approves in the model registry.
ExternalApprover ModelPromotionApprover(mlops::ModelRegistry* models);
//! Model versions awaiting their production quorum (ModelRegistry::AwaitingProduction).
ApprovalBoard::PendingSource ModelPromotionPending(mlops::ModelRegistry* models);
//! control_write_mode subjects are "<edge>/<loop>/<mode>": approves in the control service.
ExternalApprover ControlApprover(api::ControlService* control);
//! Control approvals in progress (ControlService::Pending).
ApprovalBoard::PendingSource ControlPending(api::ControlService* control);

nlohmann::json ToJson(const Approval& a);
nlohmann::json ToJson(const DecisionState& s);
nlohmann::json ToJson(const Policies& p);

}  // namespace weft::core::governance

#endif  // WEFT_CORE_GOVERNANCE_GOVERNANCE_ROUTES_H_

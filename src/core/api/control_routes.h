// ControlService: the core's side of closed-loop control governance (issue 8), behind the
// /api/v1/control/... routes: two-role approvals, signed mode grants sent to edges, and the
// approval of supervised proposals.
//
//   ControlOptions o{.state_dir = "/var/lib/weft/state", .clock = &clock,
//                    .send_command = [&](auto edge, auto name, auto payload) {
//                      return ingestor->SendEdgeCommand(edge, name, payload); }};
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ControlService> control, ControlService::Open(o));
//   control->Approve("edge-lyon", "lyon-hz-01-temp", Mode::kAutonomous, "olga", "ops_manager");
//   control->Approve("edge-lyon", "lyon-hz-01-temp", Mode::kAutonomous, "otto", "ot_engineer");
//   WEFT_ASSIGN_OR_RETURN(ModeChange c, control->SetMode("edge-lyon", "lyon-hz-01-temp",
//                                                        Mode::kAutonomous, "otto"));
//   // c.envelope went to the edge as command `control_grant`
//
// Rules:
// - An approval is for one (edge, loop, mode), mode supervised or autonomous, by one principal in
//   one of ControlOptions::approver_roles (default ops_manager and ot_engineer; weft-core takes
//   them from the governance policy control_write_mode; the API checks that the caller holds
//   that role). The
//   same principal approving again in the same role refreshes its time. Approvals are current
//   for `approval_ttl` (default 7 days) and are not consumed: a grant can be re-issued (renewed)
//   while they are current.
// - SetMode(shadow) is always allowed (a shadow grant carries no approvals). SetMode(supervised |
//   autonomous) needs current approvals for that (edge, loop, mode) in every approver role, each
//   role by a distinct principal; otherwise PermissionDenied naming what is missing. The edges
//   check the signed grant for an ops_manager and an ot_engineer approval, so approver_roles
//   must include both (Open refuses otherwise); other roles may be added. Then a ModeGrant (issued
//   now, expiring after `grant_ttl`, default 30 days) is signed with the core's Ed25519 key
//   (control/core/grant.h) and sent to the edge as the command `control_grant` (payload: the
//   envelope JSON); issued grants are kept in control.db.
// - ApproveProposal sends the command `control_approve` {"loop","proposal","principal"}.
// - The key: <state_dir>/keys/control-grant.pem (PKCS#8, 0600) and control-grant.pub.pem,
//   generated on first use (GenerateGrantKey). The public key is what edges configure as
//   control.grant_key (GET /api/v1/control/grant-key).
// Ids (edge, loop, proposal) are 1..128 characters of letters, digits and . _ - : @.
//
// Storage: <state_dir>/control.db (SQLite, WAL, synchronous FULL: an approval survives a power
// cut once acknowledged).
// Thread-safety: every method is safe from any thread (one mutex serialises the database and the
// key). `clock` and `send_command`'s targets are not owned and must outlive the service.
#ifndef WEFT_CORE_API_CONTROL_ROUTES_H_
#define WEFT_CORE_API_CONTROL_ROUTES_H_

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/core/envelope.h"
#include "control/core/grant.h"

namespace weft::core::api {

//! Sends a command to an edge (weft-core: Ingestor::SendEdgeCommand over MQTT).
using EdgeCommandSender = std::function<Status(std::string_view edge, std::string_view command,
                                               std::string_view payload)>;

struct ControlOptions {
  std::string state_dir{};           //!< control.db and keys/ live here (required)
  const Clock* clock = nullptr;      //!< required, not owned
  EdgeCommandSender send_command{};  //!< unset: SetMode / ApproveProposal are Unavailable
  Micros approval_ttl = std::chrono::hours(24 * 7);
  Micros grant_ttl = std::chrono::hours(24 * 30);
  //! The roles that approve leaving shadow, each by a different principal. Must include
  //! ops_manager and ot_engineer (the edges' rule); no duplicates.
  std::vector<std::string> approver_roles{control::kRoleOpsManager, control::kRoleOtEngineer};
};

//! One stored approval.
struct ControlApproval {
  std::string edge{}, loop{};
  control::Mode mode = control::Mode::kShadow;
  std::string principal{}, role{};
  TimePoint at{};
};

//! An (edge, loop, mode) with current approvals that do not yet allow the mode.
struct ControlPending {
  std::string edge{}, loop{};
  control::Mode mode = control::Mode::kShadow;
  std::vector<ControlApproval> approvals{};  //!< current, newest first
  std::vector<std::string> missing_roles{};
};

//! What SetMode did.
struct ModeChange {
  std::string envelope{};  //!< the signed envelope sent to the edge
  control::ModeGrant grant{};
};

class ControlService {
 public:
  static Result<std::unique_ptr<ControlService>> Open(ControlOptions options);
  ~ControlService();
  ControlService(const ControlService&) = delete;
  ControlService& operator=(const ControlService&) = delete;

  //! Records an approval. InvalidArgument for a bad id, mode shadow, or a role not in
  //! approver_roles.
  Result<ControlApproval> Approve(std::string_view edge, std::string_view loop, control::Mode mode,
                                  std::string_view principal, std::string_view role);
  //! The current approvals of (edge, loop, mode), newest first.
  Result<std::vector<ControlApproval>> CurrentApprovals(std::string_view edge,
                                                        std::string_view loop, control::Mode mode);
  //! Current approvals that do not (yet) allow their mode, by edge, loop and mode: the control
  //! decisions the governance board lists as pending.
  Result<std::vector<ControlPending>> Pending();
  //! The approver roles of each (edge, loop, mode) that `current` leaves unfilled.
  std::vector<std::string> MissingRoles(const std::vector<ControlApproval>& current) const;
  const std::vector<std::string>& approver_roles() const { return options_.approver_roles; }
  //! Checks the approvals, signs and sends the grant (rules above). `requested_by` is kept with
  //! the issued grant. Unavailable when the command cannot be sent (nothing is recorded then).
  Result<ModeChange> SetMode(std::string_view edge, std::string_view loop, control::Mode mode,
                             std::string_view requested_by);
  //! Sends `control_approve` for a supervised proposal.
  Status ApproveProposal(std::string_view edge, std::string_view loop, std::string_view proposal,
                         std::string_view principal);
  //! The grant public key (PEM), generating the key pair on first use.
  Result<std::string> PublicKeyPem();

  const std::string& private_key_path() const { return private_key_path_; }
  const std::string& public_key_path() const { return public_key_path_; }

 private:
  ControlService(ControlOptions options, sqlite3* db, std::string db_path);
  //! The private key PEM, generating the pair when absent. REQUIRES: mutex_ held.
  Result<std::string> PrivateKeyLocked();

  ControlOptions options_;
  std::mutex mutex_;
  sqlite3* const db_;  // GUARDED_BY(mutex_)
  const std::string db_path_;
  std::string private_key_path_, public_key_path_;
};

//! Checks an edge, loop or proposal id (rules above); `what` names it in the message.
Status ValidateControlId(std::string_view what, std::string_view id);

}  // namespace weft::core::api

#endif  // WEFT_CORE_API_CONTROL_ROUTES_H_

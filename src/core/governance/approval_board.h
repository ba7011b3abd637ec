// The approval board: records who approved which decision on which subject in which role, and
// answers "may this happen now?" at the point of action.
//
//   WEFT_ASSIGN_OR_RETURN(auto board, ApprovalBoard::Open({.db_path = state + "/governance.db",
//                                                          .policies = Policies::Defaults(),
//                                                          .clock = &clock}));
//   board->Request("firmware_release", "gw-200/1.4.0", "ana");            // optional
//   board->Approve("firmware_release", "gw-200/1.4.0", "sam", "security_lead", "CVE fixed");
//   board->Approve("firmware_release", "gw-200/1.4.0", "olga", "ot_engineer", "");
//   WEFT_RETURN_IF_ERROR(board->Check("firmware_release", "gw-200/1.4.0"));  // ok now
//
// Rules:
//   - A decision's policy (policies.h) lists the required roles. Check() is OK when every role is
//     filled by a valid (not expired) approval, each role by a different principal; otherwise
//     FailedPrecondition naming the missing roles (and who already approved).
//   - An approval expires `valid_for` (policy, at approval time) after it was given.
//   - One principal cannot fill two roles of one (decision, subject): approving in a second role
//     while the first approval is valid is FailedPrecondition. Approving again in the same role
//     renews the approval (a new record; the newest counts).
//   - The board trusts its caller on identity and role membership: the routes check that the
//     caller holds `role` and the decision's permission before calling Approve.
//   - Subjects are free text naming the thing decided on ("<hardware_model>/<version>",
//     "<model>/<version>", "<loop id>"): 1..200 printable characters.
// Subjects in use: firmware_release "<hardware_model>/<version>" (core/ota), model_promotion
// "<model>/<version>", control_write_mode "<loop>".
//
// Durability: SQLite `<state>/governance.db` (WAL, synchronous=FULL): an approval returned OK
// survives a power cut. Records are never deleted (the history is the evidence).
// Thread-safety: all methods are safe from any thread (one connection behind a mutex).
#ifndef WEFT_CORE_GOVERNANCE_APPROVAL_BOARD_H_
#define WEFT_CORE_GOVERNANCE_APPROVAL_BOARD_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/governance/policies.h"

namespace weft::core::governance {

//! One recorded approval.
struct Approval {
  int64_t id = 0;
  std::string decision;
  std::string subject;
  std::string principal;
  std::string role;
  std::string note;
  TimePoint approved_at{};
  TimePoint expires_at{};
};

//! A request for a decision (someone asked the board; nobody needs to).
struct DecisionRequest {
  std::string decision;
  std::string subject;
  std::string requested_by;
  std::string note;
  TimePoint requested_at{};
};

//! Where one (decision, subject) stands now.
struct DecisionState {
  std::string decision;
  std::string subject;
  std::vector<std::string> required_roles;  //!< from the policy
  std::vector<Approval> valid_approvals;    //!< not expired, newest per (principal, role)
  //! role -> principal filling it (a distinct principal per role); roles absent are missing.
  std::vector<std::pair<std::string, std::string>> filled_roles;
  std::vector<std::string> missing_roles;
  std::optional<DecisionRequest> request;
  bool approved = false;  //!< no missing role
  //! Who keeps the state: "board" for the board's own decisions, else the name of the pending
  //! source (e.g. "model_registry", "control") that reported it.
  std::string source = "board";
};

class ApprovalBoard {
 public:
  struct Options {
    std::string db_path;  //!< e.g. <state>/governance.db; created if absent
    Policies policies = Policies::Defaults();
    const Clock* clock = nullptr;  //!< REQUIRED; must outlive the board
  };
  //! Reports decisions kept elsewhere that await approvals (model versions waiting for their
  //! production quorum, control changes in approval), for Pending(). Called without the board's
  //! lock held; an error is reported by Pending() with the source's name.
  using PendingSource = std::function<Result<std::vector<DecisionState>>()>;

  static Result<std::unique_ptr<ApprovalBoard>> Open(Options options);
  ~ApprovalBoard();
  ApprovalBoard(const ApprovalBoard&) = delete;
  ApprovalBoard& operator=(const ApprovalBoard&) = delete;

  const Policies& policies() const { return options_.policies; }

  //! Records `principal`'s approval of (decision, subject) in `role`. InvalidArgument for an
  //! unknown decision, a role the policy does not require, an invalid subject or an empty
  //! principal; FailedPrecondition when the principal already fills another role there.
  Result<Approval> Approve(std::string_view decision, std::string_view subject,
                           std::string_view principal, std::string_view role,
                           std::string_view note);

  //! OK when (decision, subject) is approved now; FailedPrecondition "firmware_release of
  //! 'gw-200/1.4.0' needs approval by: security_lead (approved: ot_engineer by olga)" otherwise.
  //! InvalidArgument for an unknown decision or invalid subject; Unavailable/DataLoss from
  //! the database.
  Status Check(std::string_view decision, std::string_view subject);

  //! Where (decision, subject) stands (also for subjects nobody approved yet).
  Result<DecisionState> State(std::string_view decision, std::string_view subject);

  //! Records that `by` asks for the decision (listed by Pending until approved). Asking again
  //! replaces the earlier request.
  Status Request(std::string_view decision, std::string_view subject, std::string_view by,
                 std::string_view note = {});

  //! Decisions with some but not all approvals, and requested ones not yet approved, ordered by
  //! decision then subject; then what the pending sources report.
  Result<std::vector<DecisionState>> Pending();

  //! The approval history (expired included), newest first; empty filters match everything.
  Result<std::vector<Approval>> Approvals(std::string_view decision, std::string_view subject,
                                          size_t limit = 1000);

  //! Adds a pending source under `name` (e.g. "model_registry"). Call before serving.
  void AddPendingSource(std::string name, PendingSource source);

 private:
  explicit ApprovalBoard(Options options, sqlite3* db);
  Result<DecisionState> StateLocked(const DecisionPolicy& policy, std::string_view subject)
      /* REQUIRES: mu_ held */;

  const Options options_;
  std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, PendingSource>> sources_;
};

//! "filled roles / missing roles" in words, for messages and the CLI.
std::string DescribeState(const DecisionState& state);

}  // namespace weft::core::governance

#endif  // WEFT_CORE_GOVERNANCE_APPROVAL_BOARD_H_

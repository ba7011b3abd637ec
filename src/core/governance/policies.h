// Governance policies: which decisions need which roles' approval, and for how long an approval
// stays valid.
//
//   Policies policies = Policies::Defaults();
//   WEFT_ASSIGN_OR_RETURN(policies, LoadPoliciesFile("/etc/weft/governance.yaml"));
//   const DecisionPolicy* p = policies.Find(kFirmwareRelease);
//   // p->roles == {"security_lead", "ot_engineer"}, p->valid_for == 7 days
//
// The decisions are fixed (each maps to the permission an approver needs); a file may change
// their roles and lifetimes. File format (YAML; every key optional, unknown keys are errors that
// name line:column):
//
//   model_promotion: [data_scientist, ot_engineer]     # short form: the roles only
//   firmware_release:
//     roles: [security_lead, ot_engineer]
//     valid_for: 7d                                     # us, ms, s, min, h, d
//     distinct_principals: true                         # always true; false is refused
//   control_write_mode: [ops_manager, ot_engineer]
//
// Rules checked at load: each role exists and carries the decision's approval permission
// (otherwise nobody could ever approve in it), no role twice, at least one role, valid_for > 0.
//
// Thread-safety: value types; safe to copy and read from any thread.
#ifndef WEFT_CORE_GOVERNANCE_POLICIES_H_
#define WEFT_CORE_GOVERNANCE_POLICIES_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/registry/access.h"

namespace weft::core::governance {

//! The decisions the board governs (wire names).
inline constexpr std::string_view kModelPromotion = "model_promotion";
inline constexpr std::string_view kFirmwareRelease = "firmware_release";
inline constexpr std::string_view kControlWriteMode = "control_write_mode";

//! The default lifetime of an approval.
inline constexpr Micros kDefaultValidFor = std::chrono::hours(24 * 7);

struct DecisionPolicy {
  std::string decision;            //!< "model_promotion", ...
  std::vector<std::string> roles;  //!< required roles, each filled by a distinct principal
  Micros valid_for = kDefaultValidFor;
  bool distinct_principals = true;  //!< always true (kept for display)
  //! What an approver needs (globally) besides holding the role: approve_model for
  //! model_promotion, approve_release for firmware_release, approve_control for
  //! control_write_mode.
  registry::Permission permission = registry::Permission::kApproveModel;
};

class Policies {
 public:
  //! The built-in table: model_promotion [data_scientist, ot_engineer], firmware_release
  //! [security_lead, ot_engineer], control_write_mode [ops_manager, ot_engineer], 7 days each.
  static Policies Defaults();

  //! The policy of `decision`, or null.
  const DecisionPolicy* Find(std::string_view decision) const;
  //! The policy of `decision`, or InvalidArgument naming the known decisions.
  Result<DecisionPolicy> Get(std::string_view decision) const;
  //! The required roles of `decision` (empty when unknown).
  std::vector<std::string> RolesFor(std::string_view decision) const;

  //! All policies, in the order model_promotion, firmware_release, control_write_mode.
  const std::vector<DecisionPolicy>& all() const { return policies_; }

 private:
  friend Result<Policies> ParsePolicies(std::string_view, std::string_view);
  std::vector<DecisionPolicy> policies_;
};

//! The permission an approver of `decision` needs; InvalidArgument for an unknown decision.
Result<registry::Permission> ApprovalPermission(std::string_view decision);

//! Parses a policy file's text over the defaults (decisions not mentioned keep their defaults).
//! `source` names the file in messages ("governance.yaml:3:5: ...").
Result<Policies> ParsePolicies(std::string_view yaml_text, std::string_view source);
//! Reads and parses `path`; NotFound / FailedPrecondition when unreadable.
Result<Policies> LoadPoliciesFile(const std::string& path);

}  // namespace weft::core::governance

#endif  // WEFT_CORE_GOVERNANCE_POLICIES_H_

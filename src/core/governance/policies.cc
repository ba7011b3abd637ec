#include "core/governance/policies.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::core::governance {
namespace {

using registry::Permission;

struct Known {
  std::string_view decision;
  Permission permission;
  std::array<std::string_view, 2> default_roles;
};
constexpr std::array<Known, 3> kKnown = {{
    {kModelPromotion, Permission::kApproveModel, {"data_scientist", "ot_engineer"}},
    {kFirmwareRelease, Permission::kApproveRelease, {"security_lead", "ot_engineer"}},
    {kControlWriteMode, Permission::kApproveControl, {"ops_manager", "ot_engineer"}},
}};

std::vector<std::string> KnownNames() {
  std::vector<std::string> names;
  for (const Known& k : kKnown) names.emplace_back(k.decision);
  return names;
}

// "governance.yaml:3:5" (yaml-cpp marks are 0-based).
std::string Where(std::string_view source, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(source);
  return std::string(source) + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

Status Error(std::string_view source, const YAML::Node& node, const std::string& message) {
  return InvalidArgumentError(Where(source, node.Mark()) + ": " + message);
}

Result<std::vector<std::string>> ParseRoles(std::string_view source, const YAML::Node& node,
                                            const DecisionPolicy& policy) {
  if (!node.IsSequence()) {
    return Error(source, node,
                 policy.decision + ": roles must be a list of role names, e.g. [" +
                     Join(policy.roles) + "]");
  }
  std::vector<std::string> roles;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      return Error(source, item, policy.decision + ": a role must be a name");
    }
    const std::string name = item.Scalar();
    Result<registry::Role> role = registry::ParseRole(name);
    if (!role.ok()) return Error(source, item, policy.decision + ": " + role.status().message());
    if (!registry::RoleHasPermission(*role, policy.permission)) {
      return Error(source, item,
                   policy.decision + ": role " + name + " does not have the permission " +
                       std::string(registry::PermissionName(policy.permission)) +
                       " that approving this decision needs, so nobody could approve in it");
    }
    if (std::find(roles.begin(), roles.end(), name) != roles.end()) {
      return Error(source, item, policy.decision + ": role " + name + " is listed twice");
    }
    roles.push_back(name);
  }
  if (roles.empty()) {
    return Error(source, node, policy.decision + ": at least one approving role is required");
  }
  // The edges verify the signed control grant themselves and count an ops_manager and an
  // ot_engineer approval (control/core/grant.h): a policy may add roles, not drop these two.
  if (policy.decision == kControlWriteMode) {
    for (std::string_view needed : {"ops_manager", "ot_engineer"}) {
      if (std::find(roles.begin(), roles.end(), needed) == roles.end()) {
        return Error(source, node,
                     "control_write_mode: the roles must include " + std::string(needed) +
                         " (edges accept a control grant only with ops_manager and ot_engineer "
                         "approvals); other roles may be added");
      }
    }
  }
  return roles;
}

Status ParseDecision(std::string_view source, const YAML::Node& node, DecisionPolicy& policy) {
  if (node.IsSequence()) {
    WEFT_ASSIGN_OR_RETURN(policy.roles, ParseRoles(source, node, policy));
    return Status::Ok();
  }
  if (!node.IsMap()) {
    return Error(source, node,
                 policy.decision +
                     ": expected a list of roles or a mapping with roles, "
                     "valid_for and distinct_principals");
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      return Error(source, kv.first, policy.decision + ": key '" + key + "' appears twice");
    }
    if (key == "roles") {
      WEFT_ASSIGN_OR_RETURN(policy.roles, ParseRoles(source, kv.second, policy));
    } else if (key == "valid_for") {
      if (!kv.second.IsScalar()) {
        return Error(source, kv.second, policy.decision + ": valid_for must be a duration like 7d");
      }
      Result<Micros> d = ParseDuration(kv.second.Scalar());
      if (!d.ok()) {
        return Error(source, kv.second, policy.decision + ": valid_for: " + d.status().message());
      }
      if (d->count() <= 0) {
        return Error(source, kv.second, policy.decision + ": valid_for must be positive");
      }
      policy.valid_for = *d;
    } else if (key == "distinct_principals") {
      const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (v == "false") {
        return Error(source, kv.second,
                     policy.decision +
                         ": distinct_principals cannot be false: one principal never fills two "
                         "roles of a decision");
      }
      if (v != "true") {
        return Error(source, kv.second, policy.decision + ": distinct_principals must be true");
      }
    } else {
      return Error(
          source, kv.first,
          policy.decision + ": " +
              UnknownNameMessage("key", key, {"roles", "valid_for", "distinct_principals"}));
    }
  }
  return Status::Ok();
}

}  // namespace

Policies Policies::Defaults() {
  Policies p;
  for (const Known& k : kKnown) {
    DecisionPolicy d;
    d.decision = std::string(k.decision);
    d.roles = {std::string(k.default_roles[0]), std::string(k.default_roles[1])};
    d.permission = k.permission;
    p.policies_.push_back(std::move(d));
  }
  return p;
}

const DecisionPolicy* Policies::Find(std::string_view decision) const {
  for (const DecisionPolicy& p : policies_) {
    if (p.decision == decision) return &p;
  }
  return nullptr;
}

Result<DecisionPolicy> Policies::Get(std::string_view decision) const {
  if (const DecisionPolicy* p = Find(decision)) return *p;
  return InvalidArgumentError(UnknownNameMessage("decision", decision, KnownNames()));
}

std::vector<std::string> Policies::RolesFor(std::string_view decision) const {
  const DecisionPolicy* p = Find(decision);
  return p == nullptr ? std::vector<std::string>{} : p->roles;
}

Result<registry::Permission> ApprovalPermission(std::string_view decision) {
  for (const Known& k : kKnown) {
    if (k.decision == decision) return k.permission;
  }
  return InvalidArgumentError(UnknownNameMessage("decision", decision, KnownNames()));
}

Result<Policies> ParsePolicies(std::string_view yaml_text, std::string_view source) {
  Policies policies = Policies::Defaults();
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return policies;  // an empty file: the defaults
    if (!root.IsMap()) {
      return Error(source, root,
                   "expected a mapping of decisions (" + Join(KnownNames()) + ") to their roles");
    }
    std::set<std::string> seen;
    for (const auto& kv : root) {
      const std::string decision = kv.first.Scalar();
      if (!seen.insert(decision).second) {
        return Error(source, kv.first, "decision '" + decision + "' appears twice");
      }
      auto it = std::find_if(policies.policies_.begin(), policies.policies_.end(),
                             [&](const DecisionPolicy& p) { return p.decision == decision; });
      if (it == policies.policies_.end()) {
        return Error(source, kv.first, UnknownNameMessage("decision", decision, KnownNames()));
      }
      WEFT_RETURN_IF_ERROR(ParseDecision(source, kv.second, *it));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(Where(source, e.mark) + ": " + e.msg);
  }
  return policies;
}

Result<Policies> LoadPoliciesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("governance policy file " + path + " cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return FailedPreconditionError("reading governance policy file " + path);
  return ParsePolicies(s.str(), path);
}

}  // namespace weft::core::governance

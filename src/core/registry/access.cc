#include "core/registry/access.h"

#include <cstddef>
#include <initializer_list>

#include "common/strings.h"

namespace weft::registry {
namespace {

constexpr uint32_t Bit(Permission p) {
  return uint32_t{1} << static_cast<unsigned>(p);
}
constexpr uint32_t Bits(std::initializer_list<Permission> ps) {
  uint32_t bits = 0;
  for (Permission p : ps) bits |= Bit(p);
  return bits;
}
static_assert(kAllPermissions.size() <= 32, "permission bitmask is 32 bits");

using P = Permission;

// THE role -> permission table. README.md shows it as a matrix and access_test.cc checks it
// against its own copy: change all three together.
//
// Why these sets:
// - viewer reads data through the catalog and views; nothing leaves the platform.
// - data_scientist adds export and catalog edits (views, tag rules) and votes on model promotion,
//   but does not deploy models to edges nor touch control: that is the OT engineer's job.
// - ot_engineer runs the plant side: fleet, deployments, closed-loop control, and approvals of
//   models and control changes (quorum rules elsewhere make them need a second role).
// - ops_manager sees data and fleet and is the business voice in control approvals.
// - record_work_order (maintenance outcomes: confirmed fault / false alarm, minutes spent) is for
//   the people who close work orders on the plant floor and their managers: ot_engineer and
//   ops_manager (the outcomes become MLOps labels and KPI data).
// - security_lead governs access and firmware (tag rules included) and reads the audit log, but
//   reads no telemetry (separation of duties: metadata and audit, not process data).
// - approve_release (a firmware release on the governance board) belongs to the security lead
//   and the OT engineer, the two roles the default firmware_release policy needs.
// - device only publishes.
// - admin has every permission; restricted-tag gating (rule 2d) still applies to it.
constexpr uint32_t PermissionBits(Role role) {
  switch (role) {
    case Role::kViewer: return Bits({P::kReadTelemetry, P::kQueryView, P::kReadCatalog});
    case Role::kDataScientist:
      return Bits({P::kReadTelemetry, P::kQueryView, P::kExportData, P::kReadCatalog,
                   P::kWriteCatalog, P::kApproveModel});
    case Role::kOtEngineer:
      return Bits({P::kReadTelemetry, P::kQueryView, P::kExportData, P::kReadCatalog, P::kReadFleet,
                   P::kManageFleet, P::kDeployModel, P::kApproveModel, P::kWriteControl,
                   P::kApproveControl, P::kApproveRelease, P::kRecordWorkOrder});
    case Role::kOpsManager:
      return Bits({P::kReadTelemetry, P::kQueryView, P::kExportData, P::kReadCatalog, P::kReadFleet,
                   P::kApproveControl, P::kRecordWorkOrder});
    case Role::kSecurityLead:
      return Bits({P::kReadCatalog, P::kWriteCatalog, P::kReadAudit, P::kManagePrincipals,
                   P::kReadFleet, P::kManageFleet, P::kApproveRelease});
    case Role::kDevice: return Bits({P::kIngest});
    case Role::kAdmin: {
      uint32_t all = 0;
      for (Permission p : kAllPermissions) all |= Bit(p);
      return all;
    }
  }
  return 0;  // unreachable for valid enumerators: deny
}

constexpr std::array<std::string_view, kAllRoles.size()> kRoleNames = {
    "ot_engineer", "data_scientist", "security_lead", "ops_manager", "viewer", "device", "admin"};
constexpr std::array<std::string_view, kAllPermissions.size()> kPermissionNames = {
    "read_telemetry",
    "query_view",
    "export_data",
    "read_catalog",
    "write_catalog",
    "read_audit",
    "manage_principals",
    "read_fleet",
    "manage_fleet",
    "deploy_model",
    "approve_model",
    "write_control",
    "approve_control",
    "approve_release",
    "record_work_order",
    "ingest",
    "admin"};

bool IsControlOrSpace(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f || c == ' ';
}

template <typename Enum, size_t N>
Result<Enum> ParseName(std::string_view kind, std::string_view name,
                       const std::array<std::string_view, N>& names,
                       const std::array<Enum, N>& values) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return values[i];
  }
  std::vector<std::string> candidates(names.begin(), names.end());
  return InvalidArgumentError(UnknownNameMessage(kind, name, candidates));
}

}  // namespace

std::string_view RoleName(Role role) {
  const auto i = static_cast<size_t>(role);
  return i < kRoleNames.size() ? kRoleNames[i] : "unknown_role";
}

Result<Role> ParseRole(std::string_view name) {
  return ParseName("role", name, kRoleNames, kAllRoles);
}

std::string_view PermissionName(Permission permission) {
  const auto i = static_cast<size_t>(permission);
  return i < kPermissionNames.size() ? kPermissionNames[i] : "unknown_permission";
}

Result<Permission> ParsePermission(std::string_view name) {
  return ParseName("permission", name, kPermissionNames, kAllPermissions);
}

bool RoleHasPermission(Role role, Permission permission) {
  return (PermissionBits(role) & Bit(permission)) != 0;
}

std::vector<Permission> PermissionsOf(Role role) {
  std::vector<Permission> out;
  for (Permission p : kAllPermissions) {
    if (RoleHasPermission(role, p)) out.push_back(p);
  }
  return out;
}

Result<TagCondition> ParseTagCondition(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgumentError("tag condition '" + std::string(text) +
                                "' must be key=value with a non-empty key and value, e.g. "
                                "sensitivity=restricted");
  }
  for (char c : text) {
    if (IsControlOrSpace(c)) {
      return InvalidArgumentError("tag condition '" + std::string(text) +
                                  "' contains whitespace or a control character");
    }
  }
  return TagCondition{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::string FormatTagCondition(const TagCondition& condition) {
  return condition.key + "=" + condition.value;
}

bool IsRestrictingTag(std::string_view key, std::string_view value) {
  return key == "sensitivity" && value == "restricted";
}

std::string DescribeGrant(const Grant& grant) {
  std::string out = std::string(RoleName(grant.role)) + " on '" + grant.scope + "'";
  if (grant.tag) out += " [" + FormatTagCondition(*grant.tag) + "]";
  return out;
}

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Status::Ok();
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view id = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (id.empty() || id == "*" || id == "." || id == "..") {
      return InvalidArgumentError("plant path '" + std::string(path) +
                                  "' has an empty, '*', '.' or '..' component; expected ids "
                                  "joined by '/', e.g. site/area/line");
    }
    for (char c : id) {
      if (IsControlOrSpace(c)) {
        return InvalidArgumentError("plant path '" + std::string(path) +
                                    "' contains whitespace or a control character");
      }
    }
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

Status ValidateScope(std::string_view scope) {
  if (scope == "*") return Status::Ok();
  if (scope.empty()) {
    return InvalidArgumentError(
        "grant scope is empty; use '*' for everything or a plant path like site/area");
  }
  return ValidatePath(scope);
}

bool ScopeCovers(std::string_view scope, std::string_view path) {
  if (scope == "*") return true;
  if (path.size() < scope.size() || path.substr(0, scope.size()) != scope) return false;
  return path.size() == scope.size() || path[scope.size()] == '/';
}

Decision Authorize(const std::vector<Grant>& grants_of_principal, bool principal_disabled,
                   Permission permission, const Resource& resource) {
  if (principal_disabled) return {false, "principal disabled"};
  if (Status s = ValidatePath(resource.path); !s.ok()) {
    return {false, "invalid resource: " + s.message()};
  }
  const std::string where = resource.path.empty() ? "the global scope" : "'" + resource.path + "'";
  std::vector<TagCondition> restricting;
  for (const auto& [key, value] : resource.tags) {
    if (IsRestrictingTag(key, value)) restricting.push_back({key, value});
  }

  // Why the grants that came closest failed, for the deny reason.
  bool role_and_scope_matched = false;
  bool failed_on_restricting_tag = false;
  for (const Grant& grant : grants_of_principal) {
    if (!RoleHasPermission(grant.role, permission)) continue;
    if (!ValidateScope(grant.scope).ok() || !ScopeCovers(grant.scope, resource.path)) continue;
    role_and_scope_matched = true;
    if (grant.tag) {
      auto it = resource.tags.find(grant.tag->key);
      if (it == resource.tags.end() || it->second != grant.tag->value) continue;
    }
    bool restricting_ok = true;
    for (const TagCondition& tag : restricting) {
      if (!grant.tag || !(*grant.tag == tag)) restricting_ok = false;
    }
    if (!restricting_ok) {
      failed_on_restricting_tag = true;
      continue;
    }
    return {true, "allowed by grant #" + std::to_string(grant.id) + " (" + DescribeGrant(grant) +
                      "): role " + std::string(RoleName(grant.role)) + " has " +
                      std::string(PermissionName(permission)) + " and the scope covers " + where};
  }

  if (failed_on_restricting_tag) {
    std::vector<std::string> names;
    names.reserve(restricting.size());
    for (const TagCondition& tag : restricting) names.push_back(FormatTagCondition(tag));
    return {false, "resource " + where + " is tagged " + Join(names) +
                       " and no grant with permission " + std::string(PermissionName(permission)) +
                       " matches that tag"};
  }
  if (role_and_scope_matched) {
    return {false, "the grants of a role with permission " +
                       std::string(PermissionName(permission)) + " that cover " + where +
                       " have tag conditions the resource does not carry"};
  }
  return {false, "no grant of a role with permission " + std::string(PermissionName(permission)) +
                     " covers " + where};
}

}  // namespace weft::registry

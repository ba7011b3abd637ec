// Access control: roles, permissions, grants, and the one decision function, Authorize.
//
//   std::vector<Grant> grants = store.GrantsOf("ana@plant").value();
//   Resource line{"lyon/press/line2", {{"sensitivity", "restricted"}}};
//   Decision d = Authorize(grants, principal.disabled, Permission::kReadTelemetry, line);
//   if (!d.allowed) return PermissionDeniedError(d.reason);   // and audit d.reason either way
//
// The rules (deny by default; README.md has the role x permission matrix):
//   1. A disabled principal is denied everything.
//   2. A grant allows permission P on resource R when
//      a. its role has P (the one table is in access.cc: RoleHasPermission), and
//      b. its scope covers R's path: scope "*" covers every path (and the global path ""); any
//         other scope covers a path equal to it or starting with scope + "/" ("lyon" covers
//         "lyon/press" but not "lyon2"). The global path "" (audit log, principals, ...) is
//         covered by "*" only; and
//      c. if the grant has a tag condition key=value, R carries that tag (a tag condition narrows
//         a grant to the resources carrying the tag); and
//      d. if R carries a restricting tag (today: sensitivity=restricted; IsRestrictingTag), the
//         grant's tag condition is exactly that tag. So restricted resources are reachable ONLY
//         through a grant made for them, whatever the role (admin included): a viewer of the
//         whole plant sees no restricted data until given e.g. viewer@lyon[sensitivity=restricted].
//   3. Allowed when at least one grant allows; otherwise denied, with the reason.
//
// Thread-safety: everything here is a pure function or a value type; safe from any thread.
#ifndef WEFT_CORE_REGISTRY_ACCESS_H_
#define WEFT_CORE_REGISTRY_ACCESS_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::registry {

//! The fixed set of roles. Names (RoleName) are the wire/storage form: "ot_engineer", ...
enum class Role {
  kOtEngineer,
  kDataScientist,
  kSecurityLead,
  kOpsManager,
  kViewer,
  kDevice,
  kAdmin,
};
inline constexpr std::array<Role, 7> kAllRoles = {
    Role::kOtEngineer, Role::kDataScientist, Role::kSecurityLead, Role::kOpsManager,
    Role::kViewer,     Role::kDevice,        Role::kAdmin};

//! Actions a principal may take. Names (PermissionName) are the wire/storage form.
enum class Permission {
  kReadTelemetry,     //!< read samples / lake tables
  kQueryView,         //!< run schema-on-read views
  kExportData,        //!< bulk export out of the platform
  kReadCatalog,       //!< read tables, tags, view definitions
  kWriteCatalog,      //!< change tag rules and views
  kReadAudit,         //!< read the audit log
  kManagePrincipals,  //!< create principals, tokens, grants
  kReadFleet,         //!< see devices, firmware, campaigns
  kManageFleet,       //!< onboard devices, run OTA (firmware) campaigns
  kDeployModel,       //!< deploy a model to edges
  kApproveModel,      //!< approve a model's promotion (quorum)
  kWriteControl,      //!< write setpoints / closed-loop control
  kApproveControl,    //!< approve a control change (quorum)
  kApproveRelease,    //!< approve a firmware release (governance board quorum)
  kRecordWorkOrder,   //!< record work-order outcomes (maintenance feedback, labels)
  kIngest,            //!< publish telemetry (devices)
  kAdmin,             //!< system configuration
};
inline constexpr std::array<Permission, 17> kAllPermissions = {
    Permission::kReadTelemetry,    Permission::kQueryView,      Permission::kExportData,
    Permission::kReadCatalog,      Permission::kWriteCatalog,   Permission::kReadAudit,
    Permission::kManagePrincipals, Permission::kReadFleet,      Permission::kManageFleet,
    Permission::kDeployModel,      Permission::kApproveModel,   Permission::kWriteControl,
    Permission::kApproveControl,   Permission::kApproveRelease, Permission::kRecordWorkOrder,
    Permission::kIngest,           Permission::kAdmin};

//! "ot_engineer", "data_scientist", ...
std::string_view RoleName(Role role);
//! Inverse of RoleName; InvalidArgument naming the roles (with a "did you mean") otherwise.
Result<Role> ParseRole(std::string_view name);
//! "read_telemetry", "query_view", ...
std::string_view PermissionName(Permission permission);
Result<Permission> ParsePermission(std::string_view name);

//! The role -> permission table (defined once, in access.cc).
bool RoleHasPermission(Role role, Permission permission);
//! The permissions of `role`, in kAllPermissions order.
std::vector<Permission> PermissionsOf(Role role);

//! A grant's tag condition: the grant covers only resources carrying key=value.
struct TagCondition {
  std::string key;
  std::string value;
  friend bool operator==(const TagCondition&, const TagCondition&) = default;
};
//! "sensitivity=restricted" -> {sensitivity, restricted}. Key and value non-empty, no '=' in key,
//! no control characters; InvalidArgument otherwise.
Result<TagCondition> ParseTagCondition(std::string_view text);
std::string FormatTagCondition(const TagCondition& condition);
//! Tags that gate access (rule 2d). Today exactly sensitivity=restricted.
bool IsRestrictingTag(std::string_view key, std::string_view value);

//! One grant: `principal_id` holds `role` over `scope` (optionally only for tagged resources).
struct Grant {
  int64_t id = 0;  //!< assigned by the store; 0 for grants not stored
  std::string principal_id;
  Role role = Role::kViewer;
  std::string scope;  //!< "*", "site", "site/area", "site/area/line" (ids joined by '/')
  std::optional<TagCondition> tag;
  TimePoint created_at{};
};
//! "viewer on 'lyon' [sensitivity=restricted]", for reasons and listings.
std::string DescribeGrant(const Grant& grant);

//! "*" or one or more '/'-separated plant ids (ValidatePath rules); InvalidArgument otherwise.
Status ValidateScope(std::string_view scope);
//! A resource path: "" (global) or '/'-separated ids, each non-empty, not "*", ".", "..", without
//! whitespace or control characters.
Status ValidatePath(std::string_view path);
//! Rule 2b. REQUIRES: both valid.
bool ScopeCovers(std::string_view scope, std::string_view path);

//! What is being accessed: a plant path (site/area/line[/asset], or "" for global resources)
//! and the resource's catalog tags.
struct Resource {
  std::string path;
  std::map<std::string, std::string> tags;
};

struct Decision {
  bool allowed = false;
  //! Which grant allowed it, or why it was denied. For people and for the audit log.
  std::string reason;
};

//! The access decision (rules above). Pure: no I/O, no clock, deterministic. When several grants
//! allow, the reason names the first in `grants_of_principal` order.
Decision Authorize(const std::vector<Grant>& grants_of_principal, bool principal_disabled,
                   Permission permission, const Resource& resource);

}  // namespace weft::registry

#endif  // WEFT_CORE_REGISTRY_ACCESS_H_

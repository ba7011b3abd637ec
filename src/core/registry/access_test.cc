#include "core/registry/access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace weft::registry {
namespace {

using ::testing::HasSubstr;

// The role x permission table, written out here independently of access.cc (and matching the
// README). A change to one without the other fails RoleMatrix below.
const std::map<std::string, std::set<std::string>>& ExpectedTable() {
  static const auto* table = new std::map<std::string, std::set<std::string>>{
      {"viewer", {"read_telemetry", "query_view", "read_catalog"}},
      {"data_scientist",
       {"read_telemetry", "query_view", "export_data", "read_catalog", "write_catalog",
        "approve_model"}},
      {"ot_engineer",
       {"read_telemetry", "query_view", "export_data", "read_catalog", "read_fleet", "manage_fleet",
        "deploy_model", "approve_model", "write_control", "approve_control", "approve_release",
        "record_work_order"}},
      {"ops_manager",
       {"read_telemetry", "query_view", "export_data", "read_catalog", "read_fleet",
        "approve_control", "record_work_order"}},
      {"security_lead",
       {"read_catalog", "write_catalog", "read_audit", "manage_principals", "read_fleet",
        "manage_fleet", "approve_release"}},
      {"device", {"ingest"}},
      {"admin",
       {"read_telemetry", "query_view", "export_data", "read_catalog", "write_catalog",
        "read_audit", "manage_principals", "read_fleet", "manage_fleet", "deploy_model",
        "approve_model", "write_control", "approve_control", "approve_release", "record_work_order",
        "ingest", "admin"}},
  };
  return *table;
}

const std::vector<std::string> kExpectedRoles = {
    "ot_engineer", "data_scientist", "security_lead", "ops_manager", "viewer", "device", "admin"};
const std::vector<std::string> kExpectedPermissions = {"read_telemetry",
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

Grant MakeGrant(Role role, std::string scope, std::optional<TagCondition> tag = std::nullopt,
                int64_t id = 7) {
  Grant g;
  g.id = id;
  g.principal_id = "p";
  g.role = role;
  g.scope = std::move(scope);
  g.tag = std::move(tag);
  return g;
}

const TagCondition kRestricted{"sensitivity", "restricted"};

TEST(AccessNames, EnumsAndNamesAreTheExpectedSets) {
  std::vector<std::string> roles;
  roles.reserve(kAllRoles.size());
  for (Role r : kAllRoles) roles.emplace_back(RoleName(r));
  EXPECT_EQ(roles, kExpectedRoles);
  std::vector<std::string> permissions;
  permissions.reserve(kAllPermissions.size());
  for (Permission p : kAllPermissions) permissions.emplace_back(PermissionName(p));
  EXPECT_EQ(permissions, kExpectedPermissions);
  EXPECT_EQ(ExpectedTable().size(), kAllRoles.size());
}

TEST(AccessNames, ParseRoundTripsAndRejectsUnknown) {
  for (Role r : kAllRoles) {
    Result<Role> parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, r);
  }
  for (Permission p : kAllPermissions) {
    Result<Permission> parsed = ParsePermission(PermissionName(p));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, p);
  }
  Result<Role> typo = ParseRole("veiwer");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(typo.status().message(), HasSubstr("did you mean 'viewer'"));
  EXPECT_EQ(ParsePermission("fly").status().code(), StatusCode::kInvalidArgument);
}

// Every role x every permission x {in scope, out of scope, restricted without a tag grant,
// restricted with a tag grant, global resource}.
TEST(Authorize, RoleMatrix) {
  const Resource in_scope{"lyon/press/line2/motor7", {{"unit", "degC"}}};
  const Resource out_of_scope{"paris/press/line2", {}};
  const Resource sibling_prefix{"lyon/press2/line1", {}};  // "lyon/press" must not cover it
  const Resource restricted{"lyon/press/line2", {{"sensitivity", "restricted"}}};
  const Resource global{"", {}};
  int checked = 0;
  for (Role role : kAllRoles) {
    const std::string role_name(RoleName(role));
    const auto& expected_set = ExpectedTable().at(role_name);
    for (Permission p : kAllPermissions) {
      const std::string perm_name(PermissionName(p));
      const bool expected = expected_set.count(perm_name) > 0;
      SCOPED_TRACE(::testing::Message() << role_name << " x " << perm_name);
      EXPECT_EQ(RoleHasPermission(role, p), expected);

      const std::vector<Grant> plain = {MakeGrant(role, "lyon/press")};
      const std::vector<Grant> tagged = {MakeGrant(role, "lyon/press", kRestricted)};
      const std::vector<Grant> everywhere = {MakeGrant(role, "*")};

      Decision d = Authorize(plain, false, p, in_scope);
      EXPECT_EQ(d.allowed, expected) << d.reason;
      if (expected) {
        EXPECT_THAT(d.reason, HasSubstr("grant #7"));
      } else {
        EXPECT_THAT(d.reason, HasSubstr("no grant of a role with permission " + perm_name +
                                        " covers 'lyon/press/line2/motor7'"));
      }

      d = Authorize(plain, false, p, out_of_scope);
      EXPECT_FALSE(d.allowed) << d.reason;
      EXPECT_THAT(d.reason, HasSubstr("covers 'paris/press/line2'"));
      EXPECT_FALSE(Authorize(plain, false, p, sibling_prefix).allowed);

      // Restricted: the plain grant never reaches it, even with "*" scope.
      d = Authorize(plain, false, p, restricted);
      EXPECT_FALSE(d.allowed) << d.reason;
      if (expected) {
        EXPECT_THAT(d.reason, HasSubstr("tagged sensitivity=restricted and no grant"));
      }
      EXPECT_FALSE(Authorize(everywhere, false, p, restricted).allowed);
      d = Authorize(tagged, false, p, restricted);
      EXPECT_EQ(d.allowed, expected) << d.reason;
      if (expected) {
        EXPECT_THAT(d.reason, HasSubstr("[sensitivity=restricted]"));
      }

      // The global path is covered by "*" only.
      EXPECT_FALSE(Authorize(plain, false, p, global).allowed);
      EXPECT_EQ(Authorize(everywhere, false, p, global).allowed, expected);

      // Disabled principals get nothing.
      d = Authorize(everywhere, true, p, in_scope);
      EXPECT_FALSE(d.allowed);
      EXPECT_EQ(d.reason, "principal disabled");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7 * 17);
}

TEST(Authorize, PermissionsOfMatchesTable) {
  for (Role role : kAllRoles) {
    std::set<std::string> got;
    for (Permission p : PermissionsOf(role)) got.emplace(PermissionName(p));
    EXPECT_EQ(got, ExpectedTable().at(std::string(RoleName(role)))) << RoleName(role);
  }
}

TEST(Authorize, DenyByDefault) {
  const Resource r{"lyon", {}};
  Decision d = Authorize({}, false, Permission::kReadTelemetry, r);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("no grant"));
}

TEST(Authorize, ScopeCoverage) {
  EXPECT_TRUE(ScopeCovers("*", ""));
  EXPECT_TRUE(ScopeCovers("*", "a/b/c/d"));
  EXPECT_TRUE(ScopeCovers("lyon", "lyon"));
  EXPECT_TRUE(ScopeCovers("lyon", "lyon/press"));
  EXPECT_TRUE(ScopeCovers("lyon/press/l2", "lyon/press/l2/m1"));
  EXPECT_FALSE(ScopeCovers("lyon", "lyon2"));
  EXPECT_FALSE(ScopeCovers("lyon", "lyo"));
  EXPECT_FALSE(ScopeCovers("lyon/press", "lyon"));
  EXPECT_FALSE(ScopeCovers("lyon", ""));

  const std::vector<Grant> line = {MakeGrant(Role::kViewer, "lyon/press/l2")};
  EXPECT_TRUE(Authorize(line, false, Permission::kReadTelemetry, {"lyon/press/l2", {}}).allowed);
  EXPECT_TRUE(Authorize(line, false, Permission::kReadTelemetry, {"lyon/press/l2/m", {}}).allowed);
  EXPECT_FALSE(Authorize(line, false, Permission::kReadTelemetry, {"lyon/press", {}}).allowed);
  EXPECT_FALSE(Authorize(line, false, Permission::kReadTelemetry, {"lyon/press/l20", {}}).allowed);
}

TEST(Authorize, ValidatesScopesAndPaths) {
  EXPECT_TRUE(ValidateScope("*").ok());
  EXPECT_TRUE(ValidateScope("lyon/press/l2").ok());
  for (const char* bad : {"", "/lyon", "lyon/", "lyon//l2", "lyon/*", "a/../b", "ly on", "*/a"}) {
    EXPECT_EQ(ValidateScope(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ValidatePath("").ok());
  EXPECT_FALSE(ValidatePath("*").ok());
  // An invalid resource path is denied even to a "*" grant.
  Decision d =
      Authorize({MakeGrant(Role::kAdmin, "*")}, false, Permission::kAdmin, {"lyon//x", {}});
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("invalid resource"));
  // A malformed stored scope never matches.
  EXPECT_FALSE(
      Authorize({MakeGrant(Role::kAdmin, "")}, false, Permission::kAdmin, {"lyon", {}}).allowed);
}

TEST(Authorize, TagConditionNarrowsAGrant) {
  const std::vector<Grant> grants = {
      MakeGrant(Role::kViewer, "lyon", TagCondition{"line_kind", "packaging"})};
  EXPECT_TRUE(Authorize(grants, false, Permission::kReadTelemetry,
                        {"lyon/a/l1", {{"line_kind", "packaging"}}})
                  .allowed);
  Decision d = Authorize(grants, false, Permission::kReadTelemetry, {"lyon/a/l1", {}});
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("tag conditions the resource does not carry"));
  EXPECT_FALSE(
      Authorize(grants, false, Permission::kReadTelemetry, {"lyon/a/l1", {{"line_kind", "press"}}})
          .allowed);
}

TEST(Authorize, OnlyRestrictedIsGating) {
  EXPECT_TRUE(IsRestrictingTag("sensitivity", "restricted"));
  EXPECT_FALSE(IsRestrictingTag("sensitivity", "internal"));
  const std::vector<Grant> grants = {MakeGrant(Role::kViewer, "*")};
  EXPECT_TRUE(
      Authorize(grants, false, Permission::kQueryView, {"lyon", {{"sensitivity", "internal"}}})
          .allowed);
  // A restricted grant alone does not reach untagged data: it is narrowed to restricted data.
  const std::vector<Grant> only_restricted = {MakeGrant(Role::kViewer, "*", kRestricted)};
  EXPECT_FALSE(Authorize(only_restricted, false, Permission::kQueryView, {"lyon", {}}).allowed);
  // A restricted grant elsewhere does not help.
  const std::vector<Grant> wrong_site = {MakeGrant(Role::kViewer, "paris", kRestricted)};
  EXPECT_FALSE(Authorize(wrong_site, false, Permission::kQueryView,
                         {"lyon", {{"sensitivity", "restricted"}}})
                   .allowed);
}

TEST(Authorize, FirstAllowingGrantIsNamed) {
  const std::vector<Grant> grants = {MakeGrant(Role::kDevice, "*", std::nullopt, 1),
                                     MakeGrant(Role::kViewer, "lyon", std::nullopt, 2),
                                     MakeGrant(Role::kAdmin, "*", std::nullopt, 3)};
  Decision d = Authorize(grants, false, Permission::kReadTelemetry, {"lyon/a", {}});
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("grant #2 (viewer on 'lyon')"));
  d = Authorize(grants, false, Permission::kExportData, {"lyon/a", {}});
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("grant #3"));
}

TEST(TagCondition, ParseAndFormat) {
  Result<TagCondition> t = ParseTagCondition("sensitivity=restricted");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->key, "sensitivity");
  EXPECT_EQ(t->value, "restricted");
  EXPECT_EQ(FormatTagCondition(*t), "sensitivity=restricted");
  EXPECT_EQ(ParseTagCondition("a=b=c")->value, "b=c");
  for (const char* bad : {"", "=x", "x=", "novalue", "a =b", "a=\tb"}) {
    EXPECT_EQ(ParseTagCondition(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace weft::registry

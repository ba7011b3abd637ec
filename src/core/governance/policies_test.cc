#include "core/governance/policies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "testing/test_env.h"

namespace weft::core::governance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Policies, DefaultsAreTheIssueTable) {
  const Policies p = Policies::Defaults();
  ASSERT_EQ(p.all().size(), 3u);
  EXPECT_THAT(p.RolesFor(kModelPromotion), ElementsAre("data_scientist", "ot_engineer"));
  EXPECT_THAT(p.RolesFor(kFirmwareRelease), ElementsAre("security_lead", "ot_engineer"));
  EXPECT_THAT(p.RolesFor(kControlWriteMode), ElementsAre("ops_manager", "ot_engineer"));
  EXPECT_EQ(p.Find(kFirmwareRelease)->permission, registry::Permission::kApproveRelease);
  EXPECT_EQ(p.Find(kModelPromotion)->valid_for, std::chrono::hours(24 * 7));
  EXPECT_TRUE(p.Find(kControlWriteMode)->distinct_principals);
  Result<DecisionPolicy> unknown = p.Get("firmware_relase");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("firmware_release"));
}

TEST(Policies, EveryDefaultRoleCarriesTheDecisionsPermission) {
  const Policies defaults = Policies::Defaults();
  for (const DecisionPolicy& d : defaults.all()) {
    for (const std::string& name : d.roles) {
      Result<registry::Role> role = registry::ParseRole(name);
      ASSERT_TRUE(role.ok()) << name;
      EXPECT_TRUE(registry::RoleHasPermission(*role, d.permission)) << d.decision << " " << name;
    }
  }
}

TEST(Policies, ParsesShortAndLongFormsOverTheDefaults) {
  Result<Policies> p = ParsePolicies(R"(
model_promotion: [ot_engineer, data_scientist, admin]
firmware_release:
  roles: [security_lead]
  valid_for: 36h
  distinct_principals: true
)",
                                     "gov.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->RolesFor(kModelPromotion), ElementsAre("ot_engineer", "data_scientist", "admin"));
  EXPECT_THAT(p->RolesFor(kFirmwareRelease), ElementsAre("security_lead"));
  EXPECT_EQ(p->Find(kFirmwareRelease)->valid_for, std::chrono::hours(36));
  // Not mentioned: the default.
  EXPECT_THAT(p->RolesFor(kControlWriteMode), ElementsAre("ops_manager", "ot_engineer"));
}

TEST(Policies, EmptyFileIsTheDefaults) {
  Result<Policies> p = ParsePolicies("", "gov.yaml");
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(p->RolesFor(kFirmwareRelease), ElementsAre("security_lead", "ot_engineer"));
}

void ExpectError(const std::string& yaml, const std::string& where, const std::string& what) {
  Result<Policies> p = ParsePolicies(yaml, "gov.yaml");
  ASSERT_FALSE(p.ok()) << yaml;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr(where)) << p.status().message();
  EXPECT_THAT(p.status().message(), HasSubstr(what)) << p.status().message();
}

TEST(Policies, ErrorsNameLineAndColumn) {
  ExpectError("model_promotion: [data_scientist]\nfirmware_release: [security_lead, otengineer]\n",
              "gov.yaml:2:35", "ot_engineer");  // did you mean
  ExpectError("model_promotion: [viewer]\n", "gov.yaml:1:19", "approve_model");
  ExpectError("firmware_release: [security_lead, security_lead]\n", "gov.yaml:1:35", "twice");
  ExpectError("firmware_release: []\n", "gov.yaml:1:19", "at least one");
  ExpectError("model_promotion:\n  roles: [ot_engineer]\n  valid_for: 0s\n", "gov.yaml:3:14",
              "positive");
  ExpectError("model_promotion:\n  valid_for: soon\n", "gov.yaml:2:14", "valid_for");
  ExpectError("model_promotion:\n  distinct_principals: false\n", "gov.yaml:2:24",
              "cannot be false");
  ExpectError("model_promotion:\n  rolez: [ot_engineer]\n", "gov.yaml:2:3", "roles");
  ExpectError("deploy_anything: [admin]\n", "gov.yaml:1:1", "decision");
  ExpectError("control_write_mode: [ops_manager, admin]\n", "gov.yaml:1:21", "ot_engineer");
  ExpectError("model_promotion: [ot_engineer\n", "gov.yaml:", "");  // YAML syntax error
  ExpectError("- a\n- b\n", "gov.yaml:1:1", "mapping");
  ExpectError("model_promotion: [admin]\nmodel_promotion: [admin]\n", "gov.yaml:2:1", "twice");
}

TEST(Policies, ControlMayAddRolesButKeepsTheEdgePair) {
  Result<Policies> p =
      ParsePolicies("control_write_mode: [ops_manager, ot_engineer, admin]\n", "gov.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->RolesFor(kControlWriteMode), ElementsAre("ops_manager", "ot_engineer", "admin"));
}

TEST(Policies, LoadsAFile) {
  Result<testing::TempDir> dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/governance.yaml";
  {
    std::ofstream out(path);
    out << "firmware_release: [ot_engineer]\n";
  }
  Result<Policies> p = LoadPoliciesFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->RolesFor(kFirmwareRelease), ElementsAre("ot_engineer"));
  Result<Policies> missing = LoadPoliciesFile(dir->path() + "/nope.yaml");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(Policies, ApprovalPermissionPerDecision) {
  EXPECT_EQ(*ApprovalPermission(kModelPromotion), registry::Permission::kApproveModel);
  EXPECT_EQ(*ApprovalPermission(kFirmwareRelease), registry::Permission::kApproveRelease);
  EXPECT_EQ(*ApprovalPermission(kControlWriteMode), registry::Permission::kApproveControl);
  EXPECT_FALSE(ApprovalPermission("x").ok());
}

}  // namespace
}  // namespace weft::core::governance

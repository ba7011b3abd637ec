#include "core/governance/governance_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/api/api_server.h"
#include "core/audit/audit_log.h"
#include "core/registry/sqlite_registry_store.h"
#include "testing/test_env.h"

namespace weft::core::governance {
namespace {

using json = nlohmann::json;
using registry::Role;
using ::testing::HasSubstr;

class GovernanceRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    const std::string d = dir_->path();
    auto reg = registry::SqliteRegistryStore::Open(d + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(*reg);
    auto log = audit::AuditLog::Open(d + "/audit", &clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(*log);
    auto board = ApprovalBoard::Open({.db_path = d + "/governance.db", .clock = &clock_});
    ASSERT_TRUE(board.ok()) << board.status().ToString();
    board_ = std::move(*board);
    auto models = mlops::ModelRegistry::Open(d + "/models", &clock_);
    ASSERT_TRUE(models.ok()) << models.status().ToString();
    models_ = std::move(*models);
    board_->AddPendingSource("model_registry", ModelPromotionPending(models_.get()));

    tokens_["sam"] = User("sam", {Role::kSecurityLead});
    tokens_["olga"] = User("olga", {Role::kOtEngineer});
    tokens_["ana"] = User("ana", {Role::kDataScientist});
    tokens_["both"] = User("both", {Role::kSecurityLead, Role::kOtEngineer});
    tokens_["vic"] = User("vic", {Role::kViewer});

    api::ApiOptions o;
    o.listen = "127.0.0.1:0";
    o.allow_insecure_http = true;
    o.registry = registry_.get();
    o.audit = audit_.get();
    o.clock = &clock_;
    GovernanceRouteOptions g{.board = board_.get()};
    g.external_approvers[std::string(kModelPromotion)] = ModelPromotionApprover(models_.get());
    o.modules = GovernanceRoutes(std::move(g));
    auto api = api::ApiServer::Start(std::move(o));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(*api);
  }

  std::string User(const std::string& id, std::vector<Role> roles) {
    EXPECT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
    for (Role r : roles) EXPECT_TRUE(registry_->AddGrant({id, r, "*", std::nullopt}).ok());
    auto t = registry_->IssueToken(id, std::nullopt);
    EXPECT_TRUE(t.ok());
    return t.ok() ? t->plaintext : "";
  }

  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& who, const json& body = nullptr) {
    httplib::Client cli("127.0.0.1", api_->port());
    httplib::Headers h{{"Authorization", "Bearer " + tokens_[who]}};
    httplib::Result r =
        method == "GET" ? cli.Get(path, h) : cli.Post(path, h, body.dump(), "application/json");
    if (!r) return {0, nullptr};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::optional<weft::testing::TempDir> dir_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ApprovalBoard> board_;
  std::unique_ptr<mlops::ModelRegistry> models_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<api::ApiServer> api_;
};

TEST_F(GovernanceRoutesTest, FirmwareReleaseNeedsBothRolesFromTwoPeople) {
  const json fw{{"decision", "firmware_release"}, {"subject", "gw-200/1.4.0"}};
  // A data scientist holds no firmware_release role.
  auto [st, body] = Call("POST", "/api/v1/governance/approvals", "ana", fw);
  EXPECT_EQ(st, 403) << body.dump();
  // Holding both roles: the role must be named.
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "both", fw);
  EXPECT_EQ(st, 400) << body.dump();
  json as_ot = fw;
  as_ot["role"] = "ot_engineer";
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "both", as_ot);
  ASSERT_EQ(st, 201) << body.dump();
  EXPECT_EQ(body["state"]["missing_roles"], json::array({"security_lead"}));
  // The same person cannot fill the second role.
  json as_sec = fw;
  as_sec["role"] = "security_lead";
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "both", as_sec);
  EXPECT_EQ(st, 409) << body.dump();
  EXPECT_FALSE(board_->Check(kFirmwareRelease, "gw-200/1.4.0").ok());
  // Olga cannot approve as security_lead (she does not hold it).
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "olga", as_sec);
  EXPECT_EQ(st, 403) << body.dump();

  // Pending shows it; viewers may read it; sam completes it.
  std::tie(st, body) = Call("GET", "/api/v1/governance/pending", "vic");
  ASSERT_EQ(st, 200) << body.dump();
  ASSERT_EQ(body["pending"].size(), 1u);
  EXPECT_EQ(body["pending"][0]["subject"], "gw-200/1.4.0");
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "sam", fw);  // role implied
  ASSERT_EQ(st, 201) << body.dump();
  EXPECT_TRUE(body["state"]["approved"].get<bool>());
  EXPECT_TRUE(board_->Check(kFirmwareRelease, "gw-200/1.4.0").ok());
  std::tie(st, body) = Call("GET", "/api/v1/governance/pending", "vic");
  EXPECT_TRUE(body["pending"].empty()) << body.dump();

  std::tie(st, body) = Call(
      "GET", "/api/v1/governance/approvals?decision=firmware_release&subject=gw-200/1.4.0", "vic");
  ASSERT_EQ(st, 200) << body.dump();
  EXPECT_EQ(body["approvals"].size(), 2u);
  EXPECT_TRUE(body["state"]["approved"].get<bool>());

  // The approvals are in the audit log.
  std::ifstream in(audit_->path());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("governance.approve"));
  EXPECT_THAT(text.str(), HasSubstr("gw-200/1.4.0"));
}

TEST_F(GovernanceRoutesTest, PoliciesAndErrors) {
  auto [st, body] = Call("GET", "/api/v1/governance/policies", "vic");
  ASSERT_EQ(st, 200) << body.dump();
  ASSERT_EQ(body["policies"].size(), 3u);
  EXPECT_EQ(body["policies"][1]["decision"], "firmware_release");
  EXPECT_EQ(body["policies"][1]["permission"], "approve_release");
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "sam",
                            json{{"decision", "release"}, {"subject", "x"}});
  EXPECT_EQ(st, 400) << body.dump();
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "sam",
                            json{{"decision", "firmware_release"}, {"subject", "x"}, {"x", 1}});
  EXPECT_EQ(st, 400) << body.dump();
}

TEST_F(GovernanceRoutesTest, ModelPromotionGoesToTheModelRegistry) {
  mlops::NewModelVersion v;
  v.name = "bearing-wear";
  v.artifact = "model bytes";
  v.validation_passed = true;
  v.created_by = "ci";
  ASSERT_TRUE(models_->Register(v).ok());
  auto [st, body] = Call("POST", "/api/v1/governance/approvals", "ana",
                         json{{"decision", "model_promotion"}, {"subject", "bearing-wear/1"}});
  ASSERT_EQ(st, 201) << body.dump();
  EXPECT_EQ(body["approval"]["recorded_in"], "model_registry");
  EXPECT_EQ(body["approval"]["missing_roles"], json::array({"ot_engineer"}));
  std::tie(st, body) = Call("GET", "/api/v1/governance/pending", "vic");
  ASSERT_EQ(st, 200) << body.dump();
  ASSERT_EQ(body["pending"].size(), 1u);
  EXPECT_EQ(body["pending"][0]["source"], "model_registry");
  EXPECT_EQ(body["pending"][0]["subject"], "bearing-wear/1");
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "olga",
                            json{{"decision", "model_promotion"}, {"subject", "bearing-wear/1"}});
  ASSERT_EQ(st, 201) << body.dump();
  const mlops::Actor otto{"olga", {"ot_engineer"}};
  EXPECT_TRUE(models_->Promote("bearing-wear", "1", "production", otto).ok());
  std::tie(st, body) = Call("POST", "/api/v1/governance/approvals", "olga",
                            json{{"decision", "model_promotion"}, {"subject", "no-slash"}});
  EXPECT_EQ(st, 400) << body.dump();
}

TEST_F(GovernanceRoutesTest, RequestsArePending) {
  auto [st, body] = Call("POST", "/api/v1/governance/requests", "vic",
                         json{{"decision", "firmware_release"},
                              {"subject", "gw-300/2.0.0"},
                              {"note", "fixes CVE-2026-1"}});
  ASSERT_EQ(st, 201) << body.dump();
  std::tie(st, body) = Call("GET", "/api/v1/governance/pending", "sam");
  ASSERT_EQ(body["pending"].size(), 1u);
  EXPECT_EQ(body["pending"][0]["request"]["requested_by"], "vic");
}

TEST(ControlHooks, RolesFromThePolicyPendingAndApprover) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  ManualClock clock{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::vector<std::string> sent;
  api::ControlOptions o{
      .state_dir = dir->path(),
      .clock = &clock,
      .send_command = [&](std::string_view, std::string_view command, std::string_view) {
        sent.emplace_back(command);
        return Status::Ok();
      }};
  // The edges need ops_manager and ot_engineer: a policy without one is refused.
  o.approver_roles = {"ops_manager", "admin"};
  EXPECT_EQ(api::ControlService::Open(o).status().code(), StatusCode::kInvalidArgument);
  Result<Policies> p =
      ParsePolicies("control_write_mode: [ops_manager, ot_engineer, admin]\n", "gov.yaml");
  ASSERT_TRUE(p.ok());
  o.approver_roles = p->RolesFor(kControlWriteMode);
  auto control = api::ControlService::Open(o);
  ASSERT_TRUE(control.ok()) << control.status().ToString();
  api::ControlService* c = control->get();

  const ExternalApprover approve = ControlApprover(c);
  ASSERT_TRUE(approve("edge-1/loop-1/autonomous", "olga", "ops_manager", "").ok());
  ASSERT_TRUE(approve("edge-1/loop-1/autonomous", "otto", "ot_engineer", "").ok());
  EXPECT_FALSE(approve("edge-1/loop-1", "otto", "ot_engineer", "").ok());
  // Two of three roles: SetMode refused naming the third; the board lists it as pending.
  Result<api::ModeChange> m = c->SetMode("edge-1", "loop-1", control::Mode::kAutonomous, "otto");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("an admin approval"));
  Result<std::vector<DecisionState>> pending = ControlPending(c)();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].subject, "edge-1/loop-1/autonomous");
  EXPECT_EQ((*pending)[0].missing_roles, std::vector<std::string>{"admin"});
  // A role outside the policy is refused; the third role completes it.
  EXPECT_FALSE(approve("edge-1/loop-1/autonomous", "sam", "security_lead", "").ok());
  Result<json> last = approve("edge-1/loop-1/autonomous", "root", "admin", "");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE((*last)["missing_roles"].empty());
  m = c->SetMode("edge-1", "loop-1", control::Mode::kAutonomous, "otto");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->grant.approvals.size(), 3u);
  EXPECT_EQ(sent, std::vector<std::string>{"control_grant"});
  pending = ControlPending(c)();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

}  // namespace
}  // namespace weft::core::governance

// `weft model` against a real registry on disk and a real weft-core API over TLS.
#include "cli/model_cli.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "core/api/api_server.h"
#include "core/audit/audit_log.h"
#include "core/registry/sqlite_registry_store.h"
#include "mlops/registry/model_registry.h"
#include "testing/test_env.h"

namespace weft::cli {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun RunArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "weft");
  std::vector<const char*> argv;
  for (const std::string& s : args) argv.push_back(s.c_str());
  CLI::App app{"weft", "weft"};
  ModelArgs a;
  AddModelCommands(app, &a);
  std::ostringstream out, err;
  CliRun r;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    r.code = app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  r.code = RunModel(a, out, err, SystemClock::Default());
  r.out = out.str();
  r.err = err.str();
  return r;
}

class ModelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(dir).value());
    state_ = dir_->path() + "/state";
    std::filesystem::create_directories(dir_->path() + "/pki");
    auto pki = weft::testing::TestPki::Make(dir_->path() + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    auto models = mlops::ModelRegistry::Open(state_, &clock_);
    ASSERT_TRUE(models.ok());
    models_ = std::move(models).value();
    for (const char* bytes : {"v1 bytes", "v2 bytes"}) {
      mlops::NewModelVersion v;
      v.name = "pump-wear";
      v.artifact = bytes;
      v.lineage_json = R"({"tables": {"telemetry": 12}})";
      v.validation_json = R"({"results": []})";
      v.validation_passed = true;
      v.created_by = "trainer";
      ASSERT_TRUE(models_->Register(v).ok());
    }
    auto reg = registry::SqliteRegistryStore::Open(state_ + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok());
    registry_ = std::move(reg).value();
    auto log = core::audit::AuditLog::Open(state_ + "/audit", &clock_);
    ASSERT_TRUE(log.ok());
    audit_ = std::move(log).value();
    core::api::ApiOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_file = pki_.server_cert;
    o.key_file = pki_.server_key;
    o.registry = registry_.get();
    o.audit = audit_.get();
    o.clock = &clock_;
    o.models = models_.get();
    for (auto [id, role] : {std::pair{"ana", registry::Role::kDataScientist},
                            std::pair{"otto", registry::Role::kOtEngineer}}) {
      ASSERT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
      ASSERT_TRUE(registry_->AddGrant({id, role, "*", std::nullopt}).ok());
      auto t = registry_->IssueToken(id, std::nullopt);
      ASSERT_TRUE(t.ok());
      tokens_[id] = t->plaintext;
    }
    auto api = core::api::ApiServer::Start(std::move(o));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(api).value();
    url_ = "https://127.0.0.1:" + std::to_string(api_->port());
  }

  void TearDown() override { ::unsetenv("WEFT_TOKEN"); }

  void As(const std::string& who) { ::setenv("WEFT_TOKEN", tokens_[who].c_str(), 1); }

  SystemClock clock_;
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::string state_, url_;
  weft::testing::TestPki pki_;
  std::unique_ptr<mlops::ModelRegistry> models_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<core::audit::AuditLog> audit_;
  std::unique_ptr<core::api::ApiServer> api_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(ModelCliTest, ListShowAndVerifyReadTheStateDirectory) {
  CliRun list = RunArgs({"model", "list", "--state", state_});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("pump-wear"), std::string::npos) << list.out;
  CliRun show = RunArgs({"model", "show", "pump-wear", "--state", state_, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["versions"].size(), 2u);
  CliRun one = RunArgs({"model", "show", "pump-wear", "2", "--state", state_});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("\"telemetry\":12"), std::string::npos) << one.out;
  CliRun ok = RunArgs({"model", "verify", "pump-wear", "1", "--state", state_});
  EXPECT_EQ(ok.code, 0) << ok.err;

  const std::string sha = mlops::Sha256Hex("v1 bytes");
  std::ofstream(models_->ArtifactPath(sha), std::ios::binary | std::ios::trunc) << "v1 bytez";
  CliRun bad = RunArgs({"model", "verify", "pump-wear", "1", "--state", state_});
  EXPECT_EQ(bad.code, kExitInvalidInput);
  EXPECT_NE(bad.err.find("expected sha256 " + sha), std::string::npos) << bad.err;
  EXPECT_NE(RunArgs({"model", "list", "--state", dir_->path() + "/nowhere"}).code, 0);
}

TEST_F(ModelCliTest, ApprovePromoteAndRollbackGoThroughTheApi) {
  // No token: a usage error that says where the token goes.
  CliRun none =
      RunArgs({"model", "approve", "pump-wear", "2", "--api", url_, "--ca", pki_.ca_cert});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_NE(none.err.find("WEFT_TOKEN"), std::string::npos);

  As("ana");
  CliRun a1 = RunArgs({"model", "approve", "pump-wear", "2", "--comment", "good recall", "--api",
                       url_, "--ca", pki_.ca_cert});
  ASSERT_EQ(a1.code, 0) << a1.err;
  EXPECT_NE(a1.out.find("ana (data_scientist)"), std::string::npos) << a1.out;
  // A data scientist may not deploy; the API's reason is shown.
  CliRun denied = RunArgs(
      {"model", "promote", "pump-wear", "2", "production", "--api", url_, "--ca", pki_.ca_cert});
  EXPECT_EQ(denied.code, kExitInvalidInput);
  EXPECT_NE(denied.err.find("403"), std::string::npos) << denied.err;

  As("otto");
  // Without the CA the self-signed chain is refused; --insecure works, with a warning.
  CliRun untrusted = RunArgs({"model", "promote", "pump-wear", "1", "staging", "--api", url_});
  EXPECT_EQ(untrusted.code, kExitInvalidInput);
  CliRun insecure =
      RunArgs({"model", "promote", "pump-wear", "1", "staging", "--api", url_, "--insecure"});
  ASSERT_EQ(insecure.code, 0) << insecure.err;
  EXPECT_NE(insecure.err.find("WARNING"), std::string::npos);
  CliRun quorum = RunArgs(
      {"model", "promote", "pump-wear", "2", "production", "--api", url_, "--ca", pki_.ca_cert});
  EXPECT_EQ(quorum.code, kExitInvalidInput);
  EXPECT_NE(quorum.err.find("ot_engineer"), std::string::npos) << quorum.err;
  ASSERT_EQ(
      RunArgs({"model", "approve", "pump-wear", "2", "--api", url_, "--ca", pki_.ca_cert}).code, 0);
  CliRun promoted = RunArgs({"model", "promote", "pump-wear", "2", "staging", "--api", url_, "--ca",
                             pki_.ca_cert, "--json"});
  ASSERT_EQ(promoted.code, 0) << promoted.err;
  EXPECT_EQ(nlohmann::json::parse(promoted.out)["previous"], "1");
  CliRun prod = RunArgs(
      {"model", "promote", "pump-wear", "2", "production", "--api", url_, "--ca", pki_.ca_cert});
  ASSERT_EQ(prod.code, 0) << prod.err;
  CliRun back =
      RunArgs({"model", "rollback", "pump-wear", "staging", "--api", url_, "--ca", pki_.ca_cert});
  ASSERT_EQ(back.code, 0) << back.err;
  EXPECT_NE(back.out.find("staging -> version 1"), std::string::npos) << back.out;
  EXPECT_EQ(models_->Resolve("pump-wear", "staging")->version, "1");
  EXPECT_EQ(models_->Resolve("pump-wear", "production")->version, "2");
  // The token is never printed.
  for (const CliRun& r : {a1, denied, untrusted, insecure, quorum, promoted, prod, back}) {
    for (const auto& [who, token] : tokens_) {
      EXPECT_EQ(r.out.find(token), std::string::npos);
      EXPECT_EQ(r.err.find(token), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace weft::cli

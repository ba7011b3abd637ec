// The OTA route module behind a real ApiServer (plain HTTP on a free port).
#include "core/ota/ota_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>

#include "core/api/api_server.h"
#include "core/registry/sqlite_registry_store.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::ota {
namespace {

using json = nlohmann::json;
using registry::Role;

class OtaRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    const std::string d = dir_->path();
    auto reg = registry::SqliteRegistryStore::Open(d + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok());
    registry_ = std::move(*reg);
    auto log = audit::AuditLog::Open(d + "/audit", &clock_);
    ASSERT_TRUE(log.ok());
    audit_ = std::move(*log);
    OtaOptions o;
    o.state_dir = d + "/state";
    o.clock = &clock_;
    o.send_command = [this](std::string_view dev, std::string_view, std::string_view payload) {
      commands_.emplace_back(dev, payload);
      return Status::Ok();
    };
    o.approvals = [this](std::string_view, std::string_view subject) {
      return approved_ ? Status::Ok()
                       : FailedPreconditionError("firmware_release of '" + std::string(subject) +
                                                 "' needs approval by: security_lead");
    };
    o.audit = audit_.get();
    auto ota = OtaService::Open(std::move(o));
    ASSERT_TRUE(ota.ok()) << ota.status().ToString();
    ota_ = std::move(*ota);

    ASSERT_TRUE(registry_->CreatePrincipal({"ops", registry::PrincipalKind::kUser, "", ""}).ok());
    ASSERT_TRUE(registry_->AddGrant({"ops", Role::kOtEngineer, "*", std::nullopt}).ok());
    ASSERT_TRUE(registry_->CreatePrincipal({"eve", registry::PrincipalKind::kUser, "", ""}).ok());
    ASSERT_TRUE(registry_->AddGrant({"eve", Role::kOpsManager, "*", std::nullopt}).ok());
    ASSERT_TRUE(registry_->CreatePrincipal({"vic", registry::PrincipalKind::kUser, "", ""}).ok());
    ASSERT_TRUE(registry_->AddGrant({"vic", Role::kViewer, "*", std::nullopt}).ok());
    viewer_only_ = registry_->IssueToken("vic", std::nullopt)->plaintext;
    ops_ = registry_->IssueToken("ops", std::nullopt)->plaintext;
    reader_ = registry_->IssueToken("eve", std::nullopt)->plaintext;

    api::ApiOptions a;
    a.listen = "127.0.0.1:0";
    a.allow_insecure_http = true;
    a.registry = registry_.get();
    a.audit = audit_.get();
    a.clock = &clock_;
    a.modules = OtaRoutes(ota_.get(), audit_.get());
    auto api = api::ApiServer::Start(std::move(a));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(*api);
  }

  struct Resp {
    int status = 0;
    std::string body;
    json j() const { return json::parse(body, nullptr, false); }
  };

  Resp Call(const std::string& method, const std::string& path, const std::string& token,
            const std::string& body = "", const std::string& type = "application/json") {
    httplib::Client cli("127.0.0.1", api_->port());
    cli.set_read_timeout(10, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "GET" ? cli.Get(path, h) : cli.Post(path, h, body, type);
    if (!r) return {-1, httplib::to_string(r.error())};
    return {r->status, r->body};
  }

  SystemClock clock_;
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<OtaService> ota_;
  std::unique_ptr<api::ApiServer> api_;
  std::string ops_, reader_, viewer_only_;  // ot_engineer, ops_manager, viewer
  bool approved_ = false;
  std::vector<std::pair<std::string, std::string>> commands_;
};

TEST_F(OtaRoutesTest, UploadCertifyCampaignDownloadAndCompliance) {
  // Upload (raw body) needs manage_fleet.
  const std::string image(200'000, 'F');
  const std::string q =
      "/api/v1/ota/artifacts?kind=firmware&name=gw-fw&version=1.4.0&hardware_models=gw-200";
  EXPECT_EQ(Call("POST", q, reader_, image, "application/octet-stream").status, 403);
  Resp up = Call("POST", q, ops_, image, "application/octet-stream");
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string sha = up.j()["sha256"];
  EXPECT_EQ(sha, fleet::Sha256Hex(image));
  Resp key = Call("GET", "/api/v1/ota/signing-key", reader_);
  ASSERT_EQ(key.status, 200);
  EXPECT_TRUE(fleet::VerifyBytes(key.j()["public_key_pem"], up.j()["manifest"].get<std::string>(),
                                 up.j()["signature"].get<std::string>())
                  .ok());
  // The upload registered a candidate firmware; certifying asks the board.
  EXPECT_EQ(Call("GET", "/api/v1/ota/firmware", viewer_only_).status, 403);  // no read_fleet
  Resp fw = Call("GET", "/api/v1/ota/firmware?hardware_model=gw-200", reader_);
  ASSERT_EQ(fw.status, 200);
  ASSERT_EQ(fw.j().size(), 1u);
  EXPECT_EQ(fw.j()[0]["status"], "candidate");
  Resp refused = Call("POST", "/api/v1/ota/firmware/gw-200/1.4.0/certify", ops_, "{}");
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("needs approval by: security_lead"), std::string::npos);
  approved_ = true;
  Resp cert = Call("POST", "/api/v1/ota/firmware/gw-200/1.4.0/certify", ops_, "");
  ASSERT_EQ(cert.status, 200) << cert.body;
  EXPECT_EQ(cert.j()["status"], "certified");
  ASSERT_EQ(Call("POST", "/api/v1/ota/hardware", ops_,
                 R"({"name":"gw-200","certified":true,"notes":"lab"})")
                .status,
            200);
  EXPECT_TRUE(*ota_->IsCertified("gw-200"));

  // Two devices report their state; a campaign targets them.
  for (const char* d : {"dev-1", "dev-2"}) {
    json s = {{"device", d}, {"hardware_model", "gw-200"}, {"site", "lyon"},
              {"versions", {{"firmware", "1.3.0"}}}};
    ASSERT_TRUE(ota_->HandleMessage(std::string("weft/v1/edge/") + d + "/state", s.dump()).ok());
  }
  Resp bad = Call("POST", "/api/v1/ota/campaigns", ops_, R"({"name":"x"})");
  EXPECT_EQ(bad.status, 400);
  Resp created = Call("POST", "/api/v1/ota/campaigns", ops_,
                      json({{"name", "fw 1.4.0"}, {"artifact", sha}, {"waves", {1, "100%"}},
                            {"target", {{"hardware_models", {"gw-200"}}}}})
                          .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.j()["id"];
  Resp started = Call("POST", "/api/v1/ota/campaigns/" + id + "/start", ops_, "");
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(started.j()["state"], "running");
  ASSERT_EQ(commands_.size(), 1u);

  // The device downloads with the URL from its command; another device's URL is refused.
  const json cmd = json::parse(commands_[0].second);
  std::string url = cmd["artifact"]["url"];
  const std::string path = url.substr(url.find("/api/v1/"));
  Resp dl = Call("GET", path, "");
  ASSERT_EQ(dl.status, 200) << dl.body;
  EXPECT_EQ(dl.body, image);
  std::string other = path;
  other.replace(other.find("device=") + 7, 5, "dev-9");
  EXPECT_EQ(Call("GET", other, "").status, 403);
  std::ifstream in(dir_->path() + "/audit/audit.log");
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_NE(log.str().find("\"action\":\"ota.artifact.download\""), std::string::npos);
  EXPECT_NE(log.str().find("\"action\":\"ota.campaign.start\""), std::string::npos);

  Resp show = Call("GET", "/api/v1/ota/campaigns/" + id + "?devices=true", reader_);
  ASSERT_EQ(show.status, 200);
  EXPECT_EQ(show.j()["devices"], 2);
  EXPECT_EQ(show.j()["device_states"].size(), 2u);
  EXPECT_EQ(Call("POST", "/api/v1/ota/campaigns/" + id + "/pause", ops_, "").j()["state"],
            "paused");
  EXPECT_EQ(Call("POST", "/api/v1/ota/campaigns/" + id + "/pause", ops_, "").status, 409);

  Resp comp = Call("GET", "/api/v1/ota/compliance?hardware_model=gw-200&target=0.95&days=14",
                   reader_);
  ASSERT_EQ(comp.status, 200) << comp.body;
  const json r = comp.j()["reports"][0];
  EXPECT_EQ(r["release"], "1.4.0");
  EXPECT_EQ(r["devices"], 2);
  EXPECT_EQ(r["compliant"], 0);
  EXPECT_EQ(r["status"], "at_risk");
  EXPECT_EQ(Call("GET", "/api/v1/ota/compliance?target=abc", reader_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/ota/compliance?hardware_model=gw-9", reader_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/ota/devices", reader_).j().size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/ota/devices/dev-1/history", reader_).j()["history"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/ota/artifacts", "").status, 401);
}

}  // namespace
}  // namespace weft::core::ota

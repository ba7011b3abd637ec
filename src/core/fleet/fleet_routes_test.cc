#include "core/fleet/fleet_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/api/api_server.h"
#include "core/registry/sqlite_registry_store.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::fleet {
namespace {

namespace pki = ::weft::fleet;
using ::testing::HasSubstr;
using json = nlohmann::json;

struct Device {
  std::string serial, factory_cert, factory_key, device_key, csr, proof;
};

class FleetRoutesTest : public ::testing::Test {
 protected:
  void Start(RateLimit global = {1e6, 1e6}) {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    auto reg = registry::SqliteRegistryStore::Open(dir_->path() + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok());
    registry_ = std::move(reg).value();
    auto audit = audit::AuditLog::Open(dir_->path() + "/audit", &clock_);
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(audit).value();
    maker_ca_ = *pki::MakeCa({.common_name = "Factory CA"}, std::chrono::hours(24 * 365),
                             clock_.Now());
    factory_key_ = *pki::GenerateEcKey();
    ProvisioningOptions o;
    o.state_dir = dir_->path() + "/state";
    o.manufacturer_ca_pem = maker_ca_.cert_pem;
    o.registry = registry_.get();
    o.audit = audit_.get();
    o.clock = &clock_;
    o.global_rate = global;
    auto svc = ProvisioningService::Open(o);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    svc_ = std::move(svc).value();
    api::ApiOptions a;
    a.listen = "127.0.0.1:0";
    a.allow_insecure_http = true;
    a.registry = registry_.get();
    a.audit = audit_.get();
    a.clock = &clock_;
    a.modules = FleetRoutes(svc_.get());
    a.threads = 8;
    auto server = api::ApiServer::Start(std::move(a));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    admin_ = MakePrincipal("ops", registry::Role::kOtEngineer, "*");
    viewer_ = MakePrincipal("paris-ops", registry::Role::kOpsManager, "paris");
  }

  std::string MakePrincipal(const std::string& id, registry::Role role, const std::string& scope) {
    EXPECT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
    EXPECT_TRUE(registry_->AddGrant({id, role, scope, std::nullopt}).ok());
    return registry_->IssueToken(id, std::nullopt)->plaintext;
  }

  Device MakeDevice(const std::string& serial, const std::string& hw = "gw-200") {
    Device d;
    d.serial = serial;
    std::string fcsr = *pki::MakeCsr(factory_key_.private_pem, {.common_name = serial});
    d.factory_cert = pki::SignCsr(maker_ca_, fcsr,
                                  {.common_name = serial, .serial_number = serial,
                                   .organizational_unit = hw},
                                  {.validity = std::chrono::hours(24 * 365)}, clock_.Now())
                         ->cert_pem;
    d.factory_key = factory_key_.private_pem;
    d.device_key = pki::GenerateEcKey()->private_pem;
    d.csr = *pki::MakeCsr(d.device_key, {.common_name = serial});
    d.proof = *pki::SignBytes(d.factory_key, std::string(pki::kProvisionProofContext) + d.csr);
    return d;
  }

  struct Resp {
    int status = 0;
    json body;
    httplib::Headers headers;
    std::string raw;
  };
  Resp Call(const std::string& method, const std::string& path, const std::string& token,
            const json& body = nullptr) {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(20, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "GET" ? cli.Get(path.c_str(), h)
                                        : cli.Post(path.c_str(), h,
                                                   body.is_null() ? "" : body.dump(),
                                                   "application/json");
    if (!r) return Resp{-1, nullptr, {}, ""};
    Resp out{r->status, json::parse(r->body, nullptr, false), r->headers, r->body};
    return out;
  }
  json ProvisionBody(const Device& d) {
    return {{"factory_cert", d.factory_cert}, {"proof", d.proof}, {"csr", d.csr}};
  }

  SystemClock& clock_ = SystemClock::Default();
  std::optional<weft::testing::TempDir> dir_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  pki::CertAuthority maker_ca_;
  pki::KeyPair factory_key_;
  std::unique_ptr<ProvisioningService> svc_;
  std::unique_ptr<api::ApiServer> server_;
  std::string admin_, viewer_;
};

TEST_F(FleetRoutesTest, AllowlistProvisionListAndRevokeOverHttp) {
  Start();
  Resp add = Call("POST", "/api/v1/fleet/allowlist", admin_,
                  {{"serial", "SN-1"}, {"device_id", "dev-1"}, {"site", "lyon"},
                   {"hardware_model", "gw-200"}});
  ASSERT_EQ(add.status, 201) << add.raw;
  EXPECT_EQ(add.body["added_by"], "ops");
  EXPECT_EQ(Call("POST", "/api/v1/fleet/allowlist", viewer_,
                 {{"serial", "SN-2"}, {"device_id", "dev-2"}, {"site", "paris"},
                  {"hardware_model", "gw-200"}})
                .status,
            403);
  Resp list = Call("GET", "/api/v1/fleet/allowlist", admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["allowlist"].size(), 1u);

  Device d = MakeDevice("SN-1");
  Resp p = Call("POST", "/api/v1/provision", "", ProvisionBody(d));
  ASSERT_EQ(p.status, 201) << p.raw;
  EXPECT_EQ(p.body["device_id"], "dev-1");
  EXPECT_EQ(p.body["topics"]["prefix"], "weft/v1/edge/dev-1");
  Resp again = Call("POST", "/api/v1/provision", "", ProvisionBody(d));
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["certificate"], p.body["certificate"]);

  Resp ca = Call("GET", "/api/v1/fleet/ca", "");
  ASSERT_EQ(ca.status, 200);
  EXPECT_THAT(ca.raw, HasSubstr("BEGIN CERTIFICATE"));

  Resp devices = Call("GET", "/api/v1/fleet/devices", admin_);
  ASSERT_EQ(devices.status, 200) << devices.raw;
  ASSERT_EQ(devices.body["devices"].size(), 1u);
  EXPECT_EQ(devices.body["devices"][0]["id"], "dev-1");
  // A viewer of another site sees no lyon device.
  Resp theirs = Call("GET", "/api/v1/fleet/devices", viewer_);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.body["devices"].empty());
  EXPECT_EQ(Call("GET", "/api/v1/fleet/devices/dev-1", viewer_).status, 404);
  Resp one = Call("GET", "/api/v1/fleet/devices/dev-1", admin_);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["certificates"].size(), 1u);

  Resp revoke = Call("POST", "/api/v1/fleet/devices/dev-1/revoke", admin_,
                     {{"reason", "stolen"}});
  ASSERT_EQ(revoke.status, 200) << revoke.raw;
  EXPECT_EQ(revoke.body["revoked_certificates"].size(), 1u);
  Resp after = Call("POST", "/api/v1/provision", "", ProvisionBody(d));
  EXPECT_EQ(after.status, 409) << after.raw;
  EXPECT_THAT(after.body["error"]["message"].get<std::string>(), HasSubstr("revoked"));
}

TEST_F(FleetRoutesTest, RefusalsAndClaimTokensOverHttp) {
  Start();
  Resp unknown = Call("POST", "/api/v1/provision", "", ProvisionBody(MakeDevice("SN-404")));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_THAT(unknown.raw, HasSubstr("not on the allowlist"));
  EXPECT_EQ(Call("POST", "/api/v1/provision", "", json{{"csr", "x"}, {"extra", 1}}).status, 400);
  httplib::Client cli("127.0.0.1", server_->port());
  auto bad = cli.Post("/api/v1/provision", "[[[[[[[[[[1]]]]]]]]]]", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  ASSERT_EQ(Call("POST", "/api/v1/fleet/allowlist", admin_,
                 {{"serial", "SN-7"}, {"device_id", "dev-7"}, {"site", "lyon"},
                  {"hardware_model", "gw-200"}})
                .status,
            201);
  Resp token = Call("POST", "/api/v1/fleet/claim-tokens", admin_, {{"serial", "SN-7"},
                                                                   {"ttl_s", 600}});
  ASSERT_EQ(token.status, 201) << token.raw;
  const std::string plaintext = token.body["token"];
  std::string key = pki::GenerateEcKey()->private_pem;
  json body{{"claim_token", plaintext}, {"csr", *pki::MakeCsr(key, {.common_name = "x"})}};
  EXPECT_EQ(Call("POST", "/api/v1/provision", "", body).status, 201);
  json other{{"claim_token", plaintext},
             {"csr", *pki::MakeCsr(pki::GenerateEcKey()->private_pem, {.common_name = "x"})}};
  EXPECT_EQ(Call("POST", "/api/v1/provision", "", other).status, 409);
  // The token never reaches the audit log.
  std::ifstream log(dir_->path() + "/audit/audit.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, ::testing::Not(HasSubstr(plaintext)));
  EXPECT_THAT(text, HasSubstr("fleet.claim_token.issue"));
  EXPECT_THAT(text, HasSubstr("\"reason\":\"unknown_serial\""));
}

TEST_F(FleetRoutesTest, RateLimitedAnswers429WithRetryAfter) {
  Start({1, 2});
  Device d = MakeDevice("SN-1");
  EXPECT_EQ(Call("POST", "/api/v1/provision", "", ProvisionBody(d)).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/provision", "", ProvisionBody(d)).status, 403);
  Resp limited = Call("POST", "/api/v1/provision", "", ProvisionBody(d));
  ASSERT_EQ(limited.status, 429) << limited.raw;
  ASSERT_TRUE(limited.headers.count("Retry-After"));
  EXPECT_EQ(limited.headers.find("Retry-After")->second, "1");
  EXPECT_EQ(limited.body["error"]["code"], "rate_limited");
}

// 200 devices through a real ApiServer, each provisioned twice concurrently by 8 clients.
TEST_F(FleetRoutesTest, ConcurrentProvisioningOverHttpIssuesOneCertificatePerDevice) {
  Start();
  constexpr int kDevices = 200;
  std::vector<Device> devices;
  for (int i = 0; i < kDevices; ++i) {
    const std::string serial = "SN-" + std::to_string(i);
    ASSERT_TRUE(svc_->AddToAllowlist({serial, "dev-" + std::to_string(i), "lyon", "gw-200", "t",
                                      {}})
                    .ok());
    devices.push_back(MakeDevice(serial));
  }
  std::vector<std::string> certs(2 * kDevices);
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {  // at most the server's threads: no client waits on a socket
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < 2 * kDevices; i = next.fetch_add(1)) {
        httplib::Client cli("127.0.0.1", server_->port());  // one connection per device call
        cli.set_read_timeout(30, 0);
        auto r = cli.Post("/api/v1/provision",
                          ProvisionBody(devices[static_cast<size_t>(i / 2)]).dump(),
                          "application/json");
        if (!r || (r->status != 200 && r->status != 201)) {
          ADD_FAILURE() << (r ? r->body : "no answer");
          continue;
        }
        certs[static_cast<size_t>(i)] = json::parse(r->body)["serial"];
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> distinct;
  for (int i = 0; i < kDevices; ++i) {
    const auto a = static_cast<size_t>(2 * i);
    EXPECT_EQ(certs[a], certs[a + 1]) << i;
    distinct.insert(certs[a]);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kDevices));
  EXPECT_EQ(svc_->stats().issued, static_cast<uint64_t>(kDevices));
}

}  // namespace
}  // namespace weft::core::fleet

#include "core/fleet/provisioning.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "core/registry/sqlite_registry_store.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::fleet {
namespace {

namespace pki = ::weft::fleet;
using ::testing::HasSubstr;

constexpr TimePoint kStart = TimePoint(Micros(1'800'000'000'000'000));

// A device as the factory made it: factory key + certificate, and its fresh device key + CSR.
struct FactoryDevice {
  std::string serial, factory_cert, factory_key, device_key, csr, proof;
};

class ProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(dir).value());
    auto reg = registry::SqliteRegistryStore::Open(dir_->path() + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value();
    auto audit = audit::AuditLog::Open(dir_->path() + "/audit", &clock_);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    audit_ = std::move(audit).value();
    auto ca = pki::MakeCa({.common_name = "Acme Factory CA"}, std::chrono::hours(24 * 3650),
                          clock_.Now());
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    maker_ca_ = *ca;
    auto other = pki::MakeCa({.common_name = "Rogue CA"}, std::chrono::hours(24), clock_.Now());
    ASSERT_TRUE(other.ok());
    rogue_ca_ = *other;
  }

  ProvisioningOptions Options() {
    ProvisioningOptions o;
    o.state_dir = dir_->path() + "/state";
    o.manufacturer_ca_pem = maker_ca_.cert_pem;
    o.registry = registry_.get();
    o.audit = audit_.get();
    o.clock = &clock_;
    o.is_certified = [](std::string_view hw) -> Result<bool> { return hw != "gw-old"; };
    o.ota_public_key = []() -> Result<std::string> { return std::string("OTA-KEY"); };
    return o;
  }

  void OpenService(ProvisioningOptions o) {
    auto svc = ProvisioningService::Open(std::move(o));
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    svc_ = std::move(svc).value();
  }

  static FactoryDevice MakeDevice(const pki::CertAuthority& ca, const std::string& serial,
                                  const std::string& hw, TimePoint now) {
    FactoryDevice d;
    d.serial = serial;
    auto factory = pki::IssueKeyAndCert(
        ca, {.common_name = serial, .serial_number = serial, .organizational_unit = hw},
        {.validity = std::chrono::hours(24 * 3650)}, now);
    EXPECT_TRUE(factory.ok()) << factory.status().ToString();
    d.factory_cert = factory->second.cert_pem;
    d.factory_key = factory->first.private_pem;
    NewDeviceKey(d);
    return d;
  }

  static void NewDeviceKey(FactoryDevice& d) {
    auto key = pki::GenerateEcKey();
    EXPECT_TRUE(key.ok());
    d.device_key = key->private_pem;
    auto csr = pki::MakeCsr(d.device_key, {.common_name = d.serial});
    EXPECT_TRUE(csr.ok());
    d.csr = *csr;
    auto proof = pki::SignBytes(d.factory_key, std::string(pki::kProvisionProofContext) + d.csr);
    EXPECT_TRUE(proof.ok());
    d.proof = *proof;
  }

  void Allow(const std::string& serial, const std::string& device, const std::string& hw = "gw-200",
             const std::string& site = "lyon") {
    auto r = svc_->AddToAllowlist({serial, device, site, hw, "ana", {}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  static ProvisionRequest Req(const FactoryDevice& d) {
    return {.factory_cert = d.factory_cert, .proof = d.proof, .csr = d.csr,
            .remote_addr = "10.0.0.7"};
  }

  ManualClock clock_{kStart};
  std::optional<weft::testing::TempDir> dir_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  pki::CertAuthority maker_ca_, rogue_ca_;
  std::unique_ptr<ProvisioningService> svc_;
};

TEST_F(ProvisioningTest, IssuesACertificateThatChainsToTheFleetCaWithTheAllowlistedIdentity) {
  OpenService(Options());
  Allow("SN-1", "dev-0001");
  FactoryDevice d = MakeDevice(maker_ca_, "SN-1", "gw-200", clock_.Now());
  auto r = svc_->Provision(Req(d));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->issued_new);
  EXPECT_EQ(r->device_id, "dev-0001");
  EXPECT_EQ(r->site, "lyon");
  EXPECT_EQ(r->ota_public_key, "OTA-KEY");
  auto info = pki::VerifyCert(r->certificate, r->ca, clock_.Now());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject.common_name, "dev-0001");
  EXPECT_EQ(info->not_after - clock_.Now(), std::chrono::hours(24 * 30));
  EXPECT_GT(r->renew_after, clock_.Now() + std::chrono::hours(24 * 19));
  EXPECT_LT(r->renew_after, clock_.Now() + std::chrono::hours(24 * 21));
  nlohmann::json j = r->ToJson();
  EXPECT_EQ(j["topics"]["publish"], "weft/v1/edge/dev-0001/#");
  EXPECT_EQ(j["topics"]["commands"], "weft/v1/edge/dev-0001/cmd/#");
  // The device principal exists with role device on its site.
  auto p = registry_->PrincipalByCertSubject("dev-0001");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, registry::PrincipalKind::kDevice);
  auto grants = registry_->GrantsOf("dev-0001");
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].role, registry::Role::kDevice);
  EXPECT_EQ((*grants)[0].scope, "lyon");
  auto dev = svc_->store().GetDevice("dev-0001");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->current_cert_serial, r->serial_hex);
  EXPECT_EQ(dev->cert_not_after, info->not_after);
}

TEST_F(ProvisioningTest, SameKeyIsIdempotentAndANewKeySupersedes) {
  OpenService(Options());
  Allow("SN-1", "dev-0001");
  FactoryDevice d = MakeDevice(maker_ca_, "SN-1", "gw-200", clock_.Now());
  auto first = svc_->Provision(Req(d));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(std::chrono::seconds(30));
  auto again = svc_->Provision(Req(d));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->issued_new);
  EXPECT_EQ(again->serial_hex, first->serial_hex);
  EXPECT_EQ(again->certificate, first->certificate);

  NewDeviceKey(d);
  auto second = svc_->Provision(Req(d));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->issued_new);
  EXPECT_NE(second->serial_hex, first->serial_hex);
  EXPECT_EQ(second->superseded_serial, first->serial_hex);
  auto old = svc_->store().GetCertificate(first->serial_hex);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->revoked_at.has_value());
  EXPECT_EQ(old->reason, "superseded");
  auto certs = svc_->store().CertificatesOf("dev-0001");
  ASSERT_TRUE(certs.ok());
  int valid = 0;
  for (const auto& c : *certs) valid += c.revoked_at ? 0 : 1;
  EXPECT_EQ(valid, 1);
  auto revoked = svc_->store().RevokedCertificates();
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial_hex, first->serial_hex);
  ProvisioningStats st = svc_->stats();
  EXPECT_EQ(st.issued, 2u);
  EXPECT_EQ(st.idempotent, 1u);
  EXPECT_EQ(st.superseded, 1u);
}

TEST_F(ProvisioningTest, RefusalsHaveDistinctReasonsAndAreCountedAndAudited) {
  OpenService(Options());
  Allow("SN-1", "dev-0001");
  Allow("SN-OLD", "dev-old", "gw-old");
  const TimePoint now = clock_.Now();

  FactoryDevice unknown = MakeDevice(maker_ca_, "SN-UNKNOWN", "gw-200", now);
  auto r = svc_->Provision(Req(unknown));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("'SN-UNKNOWN' is not on the allowlist"));

  FactoryDevice rogue = MakeDevice(rogue_ca_, "SN-1", "gw-200", now);
  r = svc_->Provision(Req(rogue));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("does not chain to a trusted manufacturer CA"));

  FactoryDevice good = MakeDevice(maker_ca_, "SN-1", "gw-200", now);
  FactoryDevice bad_proof = good;
  bad_proof.proof = MakeDevice(maker_ca_, "SN-1", "gw-200", now).proof;  // another key's proof
  r = svc_->Provision(Req(bad_proof));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("proof of possession does not verify"));

  FactoryDevice wrong_hw = MakeDevice(maker_ca_, "SN-1", "gw-999", now);
  r = svc_->Provision(Req(wrong_hw));
  EXPECT_THAT(r.status().message(), HasSubstr("hardware model 'gw-999'"));

  FactoryDevice old = MakeDevice(maker_ca_, "SN-OLD", "gw-old", now);
  r = svc_->Provision(Req(old));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("'gw-old' is not certified"));

  FactoryDevice bad_csr = good;
  bad_csr.csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  bad_csr.proof =
      *pki::SignBytes(good.factory_key, std::string(pki::kProvisionProofContext) + bad_csr.csr);
  r = svc_->Provision(Req(bad_csr));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("csr:"));

  ProvisioningStats st = svc_->stats();
  EXPECT_EQ(st.refused["unknown_serial"], 1u);
  EXPECT_EQ(st.refused["untrusted_factory_cert"], 1u);
  EXPECT_EQ(st.refused["bad_proof"], 1u);
  EXPECT_EQ(st.refused["hardware_model_mismatch"], 1u);
  EXPECT_EQ(st.refused["uncertified_hardware_model"], 1u);
  EXPECT_EQ(st.refused["bad_csr"], 1u);
  EXPECT_EQ(st.issued, 0u);
  auto list = svc_->store().ListDevices();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());

  std::ifstream log(dir_->path() + "/audit/audit.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"reason\":\"unknown_serial\""));
  EXPECT_THAT(text, HasSubstr("\"reason\":\"uncertified_hardware_model\""));
  EXPECT_THAT(text, HasSubstr("\"decision\":\"deny\""));
}

TEST_F(ProvisioningTest, ClaimTokenIsSingleUseExceptForARetryOfTheSameKey) {
  OpenService(Options());
  Allow("SN-9", "dev-0009");
  auto token = svc_->IssueClaimToken("SN-9", std::chrono::hours(1));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto stored = svc_->store().GetClaimToken(pki::Sha256Hex(token->token));
  ASSERT_TRUE(stored.ok()) << "stored by hash";

  auto key = pki::GenerateEcKey();
  auto csr = pki::MakeCsr(key->private_pem, {.common_name = "x"});
  ProvisionRequest req{.claim_token = token->token, .csr = *csr};
  auto first = svc_->Provision(req);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->device_id, "dev-0009");
  auto retry = svc_->Provision(req);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->serial_hex, first->serial_hex);

  auto key2 = pki::GenerateEcKey();
  ProvisionRequest other{.claim_token = token->token,
                         .csr = *pki::MakeCsr(key2->private_pem, {.common_name = "x"})};
  auto reuse = svc_->Provision(other);
  EXPECT_EQ(reuse.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(reuse.status().message(), HasSubstr("already used"));

  ProvisionRequest bogus{.claim_token = "wclaim_nope", .csr = *csr};
  EXPECT_EQ(svc_->Provision(bogus).status().code(), StatusCode::kPermissionDenied);

  Allow("SN-10", "dev-0010");
  auto expiring = svc_->IssueClaimToken("SN-10", std::chrono::minutes(5));
  ASSERT_TRUE(expiring.ok());
  clock_.Advance(std::chrono::minutes(6));
  ProvisionRequest late{.claim_token = expiring->token, .csr = *csr};
  auto expired = svc_->Provision(late);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
  EXPECT_EQ(svc_->stats().refused["claim_token_used"], 1u);
  EXPECT_EQ(svc_->stats().refused["claim_token_expired"], 1u);
}

TEST_F(ProvisioningTest, RateLimitsGlobalPerSerialAndRefusedAttemptsPerAddress) {
  ProvisioningOptions o = Options();
  o.global_rate = {1, 3};
  OpenService(o);
  Allow("SN-1", "dev-0001");
  FactoryDevice d = MakeDevice(maker_ca_, "SN-1", "gw-200", clock_.Now());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(svc_->Provision(Req(d)).ok());
  Micros retry{0};
  auto limited = svc_->Provision(Req(d), &retry);
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(retry, std::chrono::seconds(1));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(svc_->Provision(Req(d)).ok());

  // Refused attempts from one address: 10 per minute, then 429 for everything from it.
  o = Options();
  o.state_dir = dir_->path() + "/state2";
  svc_.reset();
  OpenService(o);
  FactoryDevice stranger = MakeDevice(maker_ca_, "SN-X", "gw-200", clock_.Now());
  for (int i = 0; i < 10; ++i) {
    auto r = svc_->Provision(Req(stranger));
    ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied) << i;
  }
  retry = Micros(0);
  auto blocked = svc_->Provision(Req(stranger), &retry);
  EXPECT_EQ(blocked.status().code(), StatusCode::kResourceExhausted);
  EXPECT_GT(retry, Micros(0));
  EXPECT_LE(retry, std::chrono::seconds(6));
  ProvisionRequest other_addr = Req(MakeDevice(maker_ca_, "SN-Y", "gw-200", clock_.Now()));
  other_addr.remote_addr = "10.0.0.8";
  EXPECT_EQ(svc_->Provision(other_addr).status().code(), StatusCode::kPermissionDenied);

  // Per serial: 10 attempts a minute.
  Allow("SN-2", "dev-0002");
  FactoryDevice two = MakeDevice(maker_ca_, "SN-2", "gw-200", clock_.Now());
  ProvisionRequest req = Req(two);
  req.remote_addr = "10.0.0.9";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(svc_->Provision(req).ok()) << i;
  EXPECT_EQ(svc_->Provision(req).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(ProvisioningTest, RenewIssuesANewCertificateAndRefusesNonCurrentOnes) {
  OpenService(Options());
  Allow("SN-1", "dev-0001");
  FactoryDevice d = MakeDevice(maker_ca_, "SN-1", "gw-200", clock_.Now());
  auto first = svc_->Provision(Req(d));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(std::chrono::hours(24 * 21));

  auto key = pki::GenerateEcKey();
  std::string csr = *pki::MakeCsr(key->private_pem, {.common_name = "dev-0001"});
  std::string proof =
      *pki::SignBytes(d.device_key, std::string(pki::kProvisionProofContext) + csr);
  RenewRequest rr{first->certificate, proof, csr, "10.0.0.7"};
  auto renewed = svc_->Renew(rr);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(renewed->issued_new);
  EXPECT_NE(renewed->serial_hex, first->serial_hex);
  EXPECT_EQ(renewed->not_after, clock_.Now() + std::chrono::hours(24 * 30));
  // A retry of the same renewal returns the same certificate.
  auto retry = svc_->Renew(rr);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->serial_hex, renewed->serial_hex);
  // The old certificate with another key is no longer current.
  auto key3 = pki::GenerateEcKey();
  std::string csr3 = *pki::MakeCsr(key3->private_pem, {.common_name = "dev-0001"});
  RenewRequest stale{first->certificate,
                     *pki::SignBytes(d.device_key, std::string(pki::kProvisionProofContext) + csr3),
                     csr3, "10.0.0.7"};
  auto refused = svc_->Renew(stale);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("no longer the device's current"));
  // A proof made with another key is refused.
  RenewRequest forged{renewed->certificate, proof, csr3, "10.0.0.7"};
  EXPECT_THAT(svc_->Renew(forged).status().message(), HasSubstr("proof of possession"));
  // A certificate from another CA is refused.
  RenewRequest foreign{d.factory_cert, proof, csr, "10.0.0.7"};
  EXPECT_THAT(svc_->Renew(foreign).status().message(), HasSubstr("not issued by this fleet CA"));
}

TEST_F(ProvisioningTest, RevokeDisablesThePrincipalAndRefusesReprovisioning) {
  OpenService(Options());
  Allow("SN-1", "dev-0001");
  Allow("SN-2", "dev-0002");
  FactoryDevice d = MakeDevice(maker_ca_, "SN-1", "gw-200", clock_.Now());
  FactoryDevice d2 = MakeDevice(maker_ca_, "SN-2", "gw-200", clock_.Now());
  auto first = svc_->Provision(Req(d));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(svc_->Provision(Req(d2)).ok());
  auto written = svc_->WriteBrokerConfig({.host = "127.0.0.1", .port = 18883});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(svc_->broker_url(), "mqtts://127.0.0.1:18883");

  auto out = svc_->Revoke("dev-0001", "stolen", "ana");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->revoked_serials, std::vector<std::string>{first->serial_hex});
  EXPECT_FALSE(out->broker.signalled);
  EXPECT_THAT(out->broker.note, HasSubstr("broker not managed"));
  EXPECT_TRUE(registry_->GetPrincipal("dev-0001")->disabled);
  // ACL: only the active device; CRL lists the revoked serial.
  std::ifstream acl(written->acl);
  std::string acl_text((std::istreambuf_iterator<char>(acl)), std::istreambuf_iterator<char>());
  EXPECT_THAT(acl_text, HasSubstr("user dev-0002"));
  EXPECT_THAT(acl_text, ::testing::Not(HasSubstr("dev-0001")));
  const std::string cmd = "openssl crl -noout -text -in " + written->crl + " > " + dir_->path() +
                          "/crl.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream crl(dir_->path() + "/crl.txt");
  std::string crl_text((std::istreambuf_iterator<char>(crl)), std::istreambuf_iterator<char>());
  std::string upper = first->serial_hex;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string crl_upper = crl_text;
  for (char& ch : crl_upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_THAT(crl_upper, HasSubstr(upper.substr(upper.find_first_not_of('0'))));

  auto again = svc_->Provision(Req(d));
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("revoked"));
  EXPECT_EQ(svc_->Revoke("nope", "x", "ana").status().code(), StatusCode::kNotFound);
}

// The acceptance: 1,000 devices provisioning concurrently (each one twice at the same time, and
// a third time afterwards) get exactly one certificate each, none issued twice.
TEST_F(ProvisioningTest, ThousandConcurrentDevicesGetExactlyOneCertificateEach) {
  ProvisioningOptions o = Options();
  o.global_rate = {1e6, 1e6};
  OpenService(o);
  constexpr int kDevices = 1000;
  std::vector<FactoryDevice> devices(kDevices);
  // One factory key shared to keep the setup fast; serials, factory certificates and device keys
  // are distinct. Key generation and signing run on 4 threads.
  auto factory_key = pki::GenerateEcKey();
  ASSERT_TRUE(factory_key.ok());
  auto maker = pki::ParseCa(maker_ca_);
  ASSERT_TRUE(maker.ok());
  std::atomic<int> setup_next{0};
  std::vector<std::thread> setup;
  for (int t = 0; t < 4; ++t) {
    setup.emplace_back([&] {
      for (int i = setup_next.fetch_add(1); i < kDevices; i = setup_next.fetch_add(1)) {
        char serial[32];
        std::snprintf(serial, sizeof serial, "SN-%04d", i);
        FactoryDevice& d = devices[static_cast<size_t>(i)];
        d.serial = serial;
        std::string factory_csr =
            pki::MakeCsr(factory_key->private_pem, {.common_name = serial}).value();
        auto cert = pki::SignCsr(**maker, factory_csr,
                                 {.common_name = serial, .serial_number = serial,
                                  .organizational_unit = "gw-200"},
                                 {.validity = std::chrono::hours(24 * 365)}, clock_.Now());
        ASSERT_TRUE(cert.ok()) << cert.status().ToString();
        d.factory_cert = cert->cert_pem;
        d.factory_key = factory_key->private_pem;
        NewDeviceKey(d);
      }
    });
  }
  for (auto& th : setup) th.join();
  for (int i = 0; i < kDevices; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "dev-%04d", i);
    Allow(devices[static_cast<size_t>(i)].serial, id);
  }
  ASSERT_TRUE(svc_->WriteBrokerConfig({.host = "127.0.0.1", .port = 18883}).ok());

  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> serial_of(2 * kDevices);
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < 2 * kDevices; i = next.fetch_add(1)) {
        // Calls i and i+1 are the same device: they run at about the same time.
        auto r = svc_->Provision(Req(devices[static_cast<size_t>(i / 2)]));
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          failures.fetch_add(1);
          continue;
        }
        serial_of[static_cast<size_t>(i)] = r->serial_hex;
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  std::printf("[ INFO     ] %d devices x 2 concurrent calls provisioned in %lld ms\n", kDevices,
              static_cast<long long>(ms));
  ASSERT_EQ(failures.load(), 0);
  std::set<std::string> distinct;
  for (int i = 0; i < kDevices; ++i) {
    const auto a = static_cast<size_t>(2 * i);
    EXPECT_EQ(serial_of[a], serial_of[a + 1]) << "device " << i << " got two certificates";
    distinct.insert(serial_of[a]);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kDevices)) << "a serial was issued twice";
  ProvisioningStats st = svc_->stats();
  EXPECT_EQ(st.issued, static_cast<uint64_t>(kDevices));
  EXPECT_EQ(st.idempotent, static_cast<uint64_t>(kDevices));
  EXPECT_EQ(st.superseded, 0u);
  auto active = svc_->store().ActiveDeviceIds();
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), static_cast<size_t>(kDevices));
  auto revoked = svc_->store().RevokedCertificates();
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->empty());
  // Every device is in the broker's ACL after its call returned.
  std::ifstream acl(dir_->path() + "/state/broker/acl");
  std::string acl_text((std::istreambuf_iterator<char>(acl)), std::istreambuf_iterator<char>());
  EXPECT_THAT(acl_text, HasSubstr("user dev-0000\n"));
  EXPECT_THAT(acl_text, HasSubstr("user dev-0999\n"));
  auto principals = registry_->ListPrincipals();
  ASSERT_TRUE(principals.ok());
  EXPECT_EQ(principals->size(), static_cast<size_t>(kDevices));
}

}  // namespace
}  // namespace weft::core::fleet

#include "fleet/device/ztp_client.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "fleet/device/device_io.h"
#include "fleet/pki.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::fleet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;
using testing::TestPki;

constexpr auto kDay = std::chrono::hours(24);

Status WriteText(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return InternalError("cannot write " + path);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return Status::Ok();
}

// A stand-in for weft-core's provisioning endpoints over real TLS on loopback: checks the
// factory chain and the proof as the core does, and signs with its own fleet CA.
class FakeCore {
 public:
  FakeCore(const TestPki& pki, CertAuthority manufacturer, CertAuthority fleet, const Clock* clock)
      : server_(pki.server_cert.c_str(), pki.server_key.c_str()),
        manufacturer_(std::move(manufacturer)),
        fleet_(std::move(fleet)),
        clock_(clock) {
    server_.Post("/api/v1/provision", [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res, /*renew=*/false);
    });
    server_.Post("/api/v1/provision/renew",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Handle(req, res, /*renew=*/true);
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeCore() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  std::mutex mu;
  std::vector<std::string> calls;          // GUARDED_BY(mu): "provision" / "renew"
  std::vector<int> scripted;               // GUARDED_BY(mu): statuses to answer first
  std::string retry_after;                 // GUARDED_BY(mu)
  bool answer_foreign_key = false;         // GUARDED_BY(mu)
  std::string claim_token = "tok-123";

 private:
  void Error(httplib::Response& res, int status, const std::string& code, const std::string& m) {
    res.status = status;
    res.set_content(json{{"error", {{"code", code}, {"message", m}}}}.dump(), "application/json");
  }
  void Handle(const httplib::Request& req, httplib::Response& res, bool renew) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(renew ? "renew" : "provision");
    if (!scripted.empty()) {
      const int s = scripted.front();
      scripted.erase(scripted.begin());
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      Error(res, s, "scripted", "scripted refusal " + std::to_string(s));
      return;
    }
    const json body = json::parse(req.body, nullptr, false);
    const std::string csr = body.value("csr", "");
    const TimePoint now = clock_->Now();
    std::string serial;
    if (renew) {
      auto cert = VerifyCert(body.value("certificate", ""), fleet_.cert_pem, now);
      if (!cert.ok()) return Error(res, 403, "forbidden", cert.status().message());
      if (!VerifyBytes(body.value("certificate", ""), std::string(kProvisionProofContext) + csr,
                       body.value("proof", ""))
               .ok()) {
        return Error(res, 403, "forbidden", "renewal proof does not verify");
      }
      serial = cert->subject.common_name;
    } else if (body.contains("claim_token")) {
      if (body.value("claim_token", "") != claim_token) {
        return Error(res, 403, "forbidden", "unknown claim token");
      }
      serial = "claimed";
    } else {
      auto factory = VerifyCert(body.value("factory_cert", ""), manufacturer_.cert_pem, now);
      if (!factory.ok()) return Error(res, 403, "forbidden", "factory certificate: " + factory.status().message());
      if (!VerifyBytes(body.value("factory_cert", ""), std::string(kProvisionProofContext) + csr,
                       body.value("proof", ""))
               .ok()) {
        return Error(res, 403, "forbidden", "proof of possession does not verify");
      }
      if (factory->subject.serial_number == "SN-UNKNOWN") {
        return Error(res, 403, "forbidden", "serial SN-UNKNOWN is not on the allowlist");
      }
      serial = factory->subject.serial_number;
    }
    std::string to_sign = csr;
    if (answer_foreign_key) {
      auto other = GenerateEcKey();
      Subject s;
      s.common_name = "x";
      to_sign = *MakeCsr(other->private_pem, s);
    }
    Subject subject;
    subject.common_name = "dev-0001";
    IssueOptions o;
    o.validity = std::chrono::duration_cast<Micros>(30 * kDay);
    auto issued = SignCsr(fleet_, to_sign, subject, o, now);
    if (!issued.ok()) return Error(res, 400, "invalid_argument", issued.status().message());
    const TimePoint renew_after = now + std::chrono::duration_cast<Micros>(20 * kDay);
    res.set_content(
        json{{"device_id", "dev-0001"},
             {"site", "lyon"},
             {"hardware_model", "gw-200"},
             {"certificate", issued->cert_pem},
             {"ca", fleet_.cert_pem},
             {"not_after", FormatTimestampMicros(UnixMicros(issued->not_after))},
             {"renew_after", FormatTimestampMicros(UnixMicros(renew_after))},
             {"broker", {{"url", "mqtts://127.0.0.1:8883"}}},
             {"topics", {{"prefix", "weft/v1/edge/dev-0001"}}},
             {"ota_public_key", "OTA-KEY-PEM"},
             {"serial_seen", serial}}
            .dump(),
        "application/json");
  }

  httplib::SSLServer server_;
  CertAuthority manufacturer_, fleet_;
  const Clock* clock_;
  int port_ = 0;
  std::thread thread_;
};

class ZtpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(*dir));
    fs::create_directories(dir_->path() + "/pki");
    auto pki = TestPki::Make(dir_->path() + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    clock_.Set(TimePoint(std::chrono::duration_cast<Micros>(
        std::chrono::system_clock::now().time_since_epoch())));
    Subject mca;
    mca.common_name = "Acme Manufacturing CA";
    auto manufacturer = MakeCa(mca, std::chrono::duration_cast<Micros>(3650 * kDay), clock_.Now());
    ASSERT_TRUE(manufacturer.ok()) << manufacturer.status().ToString();
    manufacturer_ = *manufacturer;
    Subject fca;
    fca.common_name = "Weft fleet CA";
    auto fleet = MakeCa(fca, std::chrono::duration_cast<Micros>(3650 * kDay), clock_.Now());
    ASSERT_TRUE(fleet.ok()) << fleet.status().ToString();
    core_ = std::make_unique<FakeCore>(pki_, manufacturer_, *fleet, &clock_);

    factory_ = dir_->path() + "/factory";
    fs::create_directories(factory_);
    ASSERT_TRUE(WriteText(factory_ + "/core-ca.pem", *internal::ReadWholeFile(pki_.ca_cert)).ok());
    WriteFactoryCert("SN-0001");

    options_.core_url = core_->url();
    options_.factory_dir = factory_;
    options_.state_dir = dir_->path() + "/state/identity";
    options_.clock = &clock_;
    options_.timeout = std::chrono::milliseconds(3000);
    options_.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
  }

  void WriteFactoryCert(const std::string& serial) {
    Subject s;
    s.common_name = serial;
    s.serial_number = serial;
    s.organizational_unit = "gw-200";
    IssueOptions o;
    o.validity = std::chrono::duration_cast<Micros>(3650 * kDay);
    auto kc = IssueKeyAndCert(manufacturer_, s, o, clock_.Now());
    ASSERT_TRUE(kc.ok()) << kc.status().ToString();
    ASSERT_TRUE(WriteText(factory_ + "/factory.pem", kc->second.cert_pem).ok());
    ASSERT_TRUE(WriteText(factory_ + "/factory.key", kc->first.private_pem).ok());
  }

  size_t Calls() {
    std::lock_guard<std::mutex> lock(core_->mu);
    return core_->calls.size();
  }

  std::optional<TempDir> dir_;
  TestPki pki_;
  ManualClock clock_{TimeFromUnixMicros(0)};
  CertAuthority manufacturer_;
  std::unique_ptr<FakeCore> core_;
  std::string factory_;
  ZtpClient::Options options_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(ZtpClientTest, ProvisionsOnceAndPersistsTheIdentity) {
  auto id = ZtpClient::Ensure(options_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->device_id, "dev-0001");
  EXPECT_EQ(id->site, "lyon");
  EXPECT_EQ(id->hardware_model, "gw-200");
  EXPECT_EQ(id->broker_url, "mqtts://127.0.0.1:8883");
  EXPECT_EQ(id->ota_public_key_pem, "OTA-KEY-PEM");
  EXPECT_EQ(id->topic_prefix, "weft/v1/edge/dev-0001");
  EXPECT_LT(id->renew_after, id->not_after);
  EXPECT_EQ(Calls(), 1u);

  // The certificate is for the stored key, and chains to the stored fleet CA.
  auto cert = internal::ReadWholeFile(id->cert_file);
  auto ca = internal::ReadWholeFile(id->ca_file);
  ASSERT_TRUE(cert.ok() && ca.ok());
  auto info = VerifyCert(*cert, *ca, clock_.Now());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject.common_name, "dev-0001");
  auto key = internal::ReadWholeFile(id->key_file);
  ASSERT_TRUE(key.ok());
  auto sig = SignBytes(*key, "hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyBytes(*cert, "hello", *sig).ok());
  struct stat st {};
  ASSERT_EQ(::stat(id->key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A restart within the validity uses the stored identity: no new request.
  auto again = ZtpClient::Ensure(options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->cert_file, id->cert_file);
  EXPECT_EQ(Calls(), 1u);
  auto loaded = LoadDeviceIdentity(options_.state_dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->device_id, "dev-0001");
  EXPECT_EQ(loaded->not_after, id->not_after);
}

TEST_F(ZtpClientTest, ClaimTokenWhenThereIsNoFactoryCertificate) {
  fs::remove(factory_ + "/factory.pem");
  fs::remove(factory_ + "/factory.key");
  ASSERT_TRUE(WriteText(factory_ + "/claim.token", "tok-123\n").ok());
  auto id = ZtpClient::Ensure(options_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->device_id, "dev-0001");

  fs::remove_all(options_.state_dir);
  ASSERT_TRUE(WriteText(factory_ + "/claim.token", "wrong").ok());
  auto refused = ZtpClient::Ensure(options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("unknown claim token"), std::string::npos)
      << refused.status().ToString();
}

TEST_F(ZtpClientTest, RefusalNamesTheStepAndTheCoresMessageWithoutRetrying) {
  WriteFactoryCert("SN-UNKNOWN");
  auto id = ZtpClient::Ensure(options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(id.status().message().find("provision: POST"), std::string::npos) << id.status().ToString();
  EXPECT_NE(id.status().message().find("not on the allowlist"), std::string::npos) << id.status().ToString();
  EXPECT_EQ(Calls(), 1u);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_FALSE(fs::exists(options_.state_dir + "/identity.json"));
}

TEST_F(ZtpClientTest, FactoryCertificateFromAnotherManufacturerIsRefused) {
  Subject other;
  other.common_name = "Rogue CA";
  auto rogue = MakeCa(other, std::chrono::duration_cast<Micros>(kDay), clock_.Now());
  ASSERT_TRUE(rogue.ok());
  manufacturer_ = *rogue;
  WriteFactoryCert("SN-0001");
  auto id = ZtpClient::Ensure(options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(id.status().message().find("factory certificate"), std::string::npos) << id.status().ToString();
}

TEST_F(ZtpClientTest, BacksOffOn429WithRetryAfterAndOn503) {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->scripted = {429, 429};
    core_->retry_after = "7";
  }
  auto id = ZtpClient::Ensure(options_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_EQ(sleeps_[0], std::chrono::seconds(7));
  EXPECT_EQ(sleeps_[1], std::chrono::seconds(7));
  EXPECT_EQ(Calls(), 3u);

  // 503 without Retry-After: exponential backoff with jitter, then Unavailable when exhausted.
  fs::remove_all(options_.state_dir);
  sleeps_.clear();
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->scripted = {503, 503, 503, 503};
    core_->retry_after.clear();
  }
  options_.max_attempts = 3;
  options_.initial_backoff = std::chrono::milliseconds(1000);
  auto exhausted = ZtpClient::Ensure(options_);
  ASSERT_FALSE(exhausted.ok());
  EXPECT_EQ(exhausted.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(exhausted.status().message().find("gave up after 3 attempts"), std::string::npos)
      << exhausted.status().ToString();
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_GE(sleeps_[0], std::chrono::milliseconds(500));
  EXPECT_LE(sleeps_[0], std::chrono::milliseconds(1000));
  EXPECT_GE(sleeps_[1], std::chrono::milliseconds(1000));
  EXPECT_LE(sleeps_[1], std::chrono::milliseconds(2000));
}

TEST_F(ZtpClientTest, RenewsWhenDueWithTheCurrentKeyAndDropsTheOldFiles) {
  auto first = ZtpClient::Ensure(options_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(std::chrono::duration_cast<Micros>(21 * kDay));
  // The factory identity is gone: a renewal must not need it.
  fs::remove(factory_ + "/factory.pem");
  fs::remove(factory_ + "/factory.key");
  auto renewed = ZtpClient::Ensure(options_);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    ASSERT_EQ(core_->calls.size(), 2u);
    EXPECT_EQ(core_->calls[1], "renew");
  }
  EXPECT_NE(renewed->cert_file, first->cert_file);
  EXPECT_GT(renewed->not_after, first->not_after);
  EXPECT_FALSE(fs::exists(first->cert_file));
  EXPECT_FALSE(fs::exists(first->key_file));
  auto loaded = LoadDeviceIdentity(options_.state_dir);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->cert_file, renewed->cert_file);
}

TEST_F(ZtpClientTest, KeepsAValidCertificateWhenTheCoreIsAwayAndReprovisionsWhenExpired) {
  auto first = ZtpClient::Ensure(options_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(std::chrono::duration_cast<Micros>(21 * kDay));
  const std::string url = core_->url();
  core_->Stop();
  options_.max_attempts = 2;
  auto kept = ZtpClient::Ensure(options_);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->cert_file, first->cert_file);

  // Expired: back to the factory identity (a fresh core with the same CAs).
  core_.reset();
  clock_.Advance(std::chrono::duration_cast<Micros>(10 * kDay));
  Subject fca;
  fca.common_name = "Weft fleet CA 2";
  auto fleet = MakeCa(fca, std::chrono::duration_cast<Micros>(3650 * kDay), clock_.Now());
  ASSERT_TRUE(fleet.ok());
  core_ = std::make_unique<FakeCore>(pki_, manufacturer_, *fleet, &clock_);
  options_.core_url = core_->url();
  auto again = ZtpClient::Ensure(options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    ASSERT_EQ(core_->calls.size(), 1u);
    EXPECT_EQ(core_->calls[0], "provision");
  }
  EXPECT_GT(again->not_after, clock_.Now());
}

TEST_F(ZtpClientTest, RefusesACertificateForAnotherKey) {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->answer_foreign_key = true;
  }
  auto id = ZtpClient::Ensure(options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(id.status().message().find("not for the key"), std::string::npos) << id.status().ToString();
  EXPECT_FALSE(fs::exists(options_.state_dir + "/identity.json"));
}

TEST_F(ZtpClientTest, UntrustedCoreCertificateIsUnavailableWithAHint) {
  // core-ca.pem is the fleet CA's certificate, not the one that signed the core's HTTPS cert.
  ASSERT_TRUE(WriteText(factory_ + "/core-ca.pem", manufacturer_.cert_pem).ok());
  options_.max_attempts = 1;
  auto id = ZtpClient::Ensure(options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(id.status().message().find("does not verify with"), std::string::npos) << id.status().ToString();
  EXPECT_EQ(Calls(), 0u);
}

TEST_F(ZtpClientTest, MissingFactoryFilesAreAPreconditionNamingTheDirectory) {
  fs::remove(factory_ + "/factory.pem");
  auto id = ZtpClient::Ensure(options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(id.status().message().find(factory_), std::string::npos) << id.status().ToString();
  options_.core_url = "http://127.0.0.1:1";
  auto bad_url = ZtpClient::Ensure(options_);
  EXPECT_EQ(bad_url.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpsUrlTest, ParsesHostPortAndPath) {
  auto ep = internal::ParseHttpsUrl("https://core.plant:8443/base?x=1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "core.plant");
  EXPECT_EQ(ep->port, 8443);
  EXPECT_EQ(ep->path, "/base?x=1");
  auto v6 = internal::ParseHttpsUrl("https://[::1]:9");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9);
  EXPECT_FALSE(internal::ParseHttpsUrl("https://h:0").ok());
  EXPECT_FALSE(internal::ParseHttpsUrl("https://:80").ok());
  EXPECT_FALSE(internal::ParseHttpsUrl("ftp://h").ok());
}

}  // namespace
}  // namespace weft::fleet

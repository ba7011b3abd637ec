#include "core/fleet/fleet_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/test_env.h"

namespace weft::core::fleet {
namespace {

using ::testing::HasSubstr;

class FleetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = FleetStore::Open(dir_->path() + "/fleet.db", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  CertificateRecord Cert(const std::string& serial, const std::string& device,
                         const std::string& key) {
    CertificateRecord c;
    c.serial_hex = serial;
    c.device_id = device;
    c.fingerprint_sha256 = "fp-" + serial;
    c.public_key_sha256 = key;
    c.cert_pem = "PEM " + serial;
    c.not_before = clock_.Now();
    c.not_after = clock_.Now() + std::chrono::hours(24);
    return c;
  }
  AllowlistEntry Entry(const std::string& serial, const std::string& device) {
    return {serial, device, "lyon", "gw-200", "ana", {}};
  }

  ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::optional<weft::testing::TempDir> dir_;
  std::unique_ptr<FleetStore> store_;
};

TEST_F(FleetStoreTest, AllowlistValidatesAndRefusesDuplicates) {
  ASSERT_TRUE(store_->AddAllowlistEntry(Entry("SN-1", "dev-1")).ok());
  auto dup_serial = store_->AddAllowlistEntry(Entry("SN-1", "dev-2"));
  EXPECT_EQ(dup_serial.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup_serial.status().message(), HasSubstr("serial 'SN-1'"));
  auto dup_device = store_->AddAllowlistEntry(Entry("SN-2", "dev-1"));
  EXPECT_EQ(dup_device.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup_device.status().message(), HasSubstr("device id 'dev-1'"));
  EXPECT_EQ(store_->AddAllowlistEntry(Entry("SN 3", "dev-3")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddAllowlistEntry(Entry("SN-3", "dev/#")).status().code(),
            StatusCode::kInvalidArgument);
  auto e = store_->GetAllowlistEntry("SN-1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->device_id, "dev-1");
  EXPECT_EQ(e->added_at, clock_.Now());
  EXPECT_EQ(store_->GetAllowlistEntry("SN-9").status().code(), StatusCode::kNotFound);
}

TEST_F(FleetStoreTest, IssuanceIsIdempotentPerKeySupersedesOtherwiseAndSurvivesReopen) {
  AllowlistEntry e = Entry("SN-1", "dev-1");
  ASSERT_TRUE(store_->AddAllowlistEntry(e).ok());
  auto first = store_->RecordIssuance({e, Cert("aa01", "dev-1", "key1"), "", ""});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->issued_new);
  EXPECT_TRUE(first->new_device);
  auto same = store_->RecordIssuance({e, Cert("aa02", "dev-1", "key1"), "", ""});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->issued_new);
  EXPECT_EQ(same->cert.serial_hex, "aa01");
  auto next = store_->RecordIssuance({e, Cert("aa03", "dev-1", "key2"), "", ""});
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->issued_new);
  EXPECT_FALSE(next->new_device);
  EXPECT_EQ(next->superseded_serial, "aa01");
  Reopen();
  auto current = store_->CurrentCertificate("dev-1");
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(current->has_value());
  EXPECT_EQ((*current)->serial_hex, "aa03");
  EXPECT_EQ(store_->GetCertificate("aa02").status().code(), StatusCode::kNotFound);
  auto revoked = store_->RevokedCertificates();
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial_hex, "aa01");
  auto dev = store_->GetDevice("dev-1");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->current_cert_serial, "aa03");
  EXPECT_EQ(dev->cert_not_after, clock_.Now() + std::chrono::hours(24));
}

TEST_F(FleetStoreTest, RenewalMustComeFromTheCurrentCertificate) {
  AllowlistEntry e = Entry("SN-1", "dev-1");
  ASSERT_TRUE(store_->AddAllowlistEntry(e).ok());
  ASSERT_TRUE(store_->RecordIssuance({e, Cert("aa01", "dev-1", "key1"), "", ""}).ok());
  auto renewed = store_->RecordIssuance({e, Cert("aa02", "dev-1", "key1"), "", "aa01"});
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(renewed->issued_new) << "a renewal with the same key still gets a new certificate";
  auto stale = store_->RecordIssuance({e, Cert("aa03", "dev-1", "key3"), "", "aa01"});
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FleetStoreTest, RevocationIsForGoodAndListsForCrlAndAcl) {
  for (int i = 1; i <= 3; ++i) {
    AllowlistEntry e = Entry("SN-" + std::to_string(i), "dev-" + std::to_string(i));
    ASSERT_TRUE(store_->AddAllowlistEntry(e).ok());
    ASSERT_TRUE(store_->RecordIssuance(
                          {e, Cert("bb0" + std::to_string(i), e.device_id, "k" + e.serial), "", ""})
                    .ok());
  }
  auto r = store_->RevokeDevice("dev-2", "stolen", "ana");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, std::vector<std::string>{"bb02"});
  EXPECT_TRUE(store_->RevokeDevice("dev-2", "stolen", "ana")->empty()) << "idempotent";
  EXPECT_EQ(*store_->ActiveDeviceIds(), (std::vector<std::string>{"dev-1", "dev-3"}));
  auto dev = store_->GetDevice("dev-2");
  EXPECT_TRUE(dev->revoked);
  EXPECT_EQ(dev->revoke_reason, "stolen");
  EXPECT_EQ(dev->revoked_by, "ana");
  AllowlistEntry e2 = Entry("SN-2", "dev-2");
  auto again = store_->RecordIssuance({e2, Cert("bb09", "dev-2", "new"), "", ""});
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("revoked"));
  EXPECT_EQ(store_->RevokeDevice("dev-9", "x", "ana").status().code(), StatusCode::kNotFound);
}

TEST_F(FleetStoreTest, ClaimTokensAreUsedOnce) {
  AllowlistEntry e = Entry("SN-1", "dev-1");
  ASSERT_TRUE(store_->AddAllowlistEntry(e).ok());
  const std::string hash(64, 'a');
  ASSERT_TRUE(store_->AddClaimToken(hash, "SN-1", clock_.Now() + std::chrono::hours(1)).ok());
  EXPECT_EQ(store_->AddClaimToken(std::string(64, 'b'), "SN-9", clock_.Now()).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store_->RecordIssuance({e, Cert("cc01", "dev-1", "k1"), hash, ""}).ok());
  EXPECT_TRUE(store_->GetClaimToken(hash)->used_at.has_value());
  auto retry = store_->RecordIssuance({e, Cert("cc02", "dev-1", "k1"), hash, ""});
  ASSERT_TRUE(retry.ok()) << "same key: the earlier answer again";
  EXPECT_EQ(retry->cert.serial_hex, "cc01");
  auto second = store_->RecordIssuance({e, Cert("cc03", "dev-1", "k2"), hash, ""});
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace weft::core::fleet

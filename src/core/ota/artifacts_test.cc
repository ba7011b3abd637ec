// Artifacts: content addressing, signed manifests the device can verify, HMAC download URLs.
#include "core/ota/artifacts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time_format.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::ota {
namespace {

using std::chrono::seconds;

class ArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    auto s = OtaStore::Open(dir_->path() + "/ota.db");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    Reopen();
  }
  void Reopen() {
    artifacts_.reset();
    auto a =
        ArtifactStore::Open({.state_dir = dir_->path(), .max_bytes = 1024}, store_.get(), &clock_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    artifacts_ = std::move(*a);
  }
  ManualClock clock_{TimeFromUnixMicros(*ParseTimestampMicros("2026-11-26T08:00:00Z"))};
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<OtaStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
};

TEST_F(ArtifactsTest, TheManifestIsSignedAndATamperedOneDoesNotVerify) {
  auto a = artifacts_->Put({"model", "bearing-wear", "3", {"gw-200", "gw-100", "gw-200"}},
                           "model bytes", "alice");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sha256, fleet::Sha256Hex("model bytes"));
  EXPECT_EQ(a->hardware_models, (std::vector<std::string>{"gw-100", "gw-200"}));
  auto m = fleet::ParseManifest(a->manifest);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->size, 11u);
  EXPECT_EQ(m->kind, "model");
  const std::string pub = artifacts_->public_key_pem();  // a copy: Reopen() below frees the store
  EXPECT_TRUE(fleet::VerifyBytes(pub, a->manifest, a->signature).ok());
  std::string tampered = a->manifest;
  tampered.replace(tampered.find("\"3\""), 3, "\"4\"");
  EXPECT_EQ(fleet::VerifyBytes(pub, tampered, a->signature).code(), StatusCode::kPermissionDenied);

  auto path = artifacts_->FilePath(a->sha256);
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str(), "model bytes");
  // The same upload again is the same record; the same bytes as something else are refused.
  auto again =
      artifacts_->Put({"model", "bearing-wear", "3", {"gw-100", "gw-200"}}, "model bytes", "bob");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uploaded_by, "alice");
  EXPECT_EQ(
      artifacts_->Put({"model", "other", "1", {"gw-100"}}, "model bytes", "bob").status().code(),
      StatusCode::kAlreadyExists);
  // The key survives a restart (devices pinned it).
  Reopen();
  EXPECT_EQ(artifacts_->public_key_pem(), pub);
  EXPECT_EQ(std::filesystem::status(dir_->path() + "/keys/ota-signing.pem").permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);
}

TEST_F(ArtifactsTest, UploadsAreValidated) {
  EXPECT_FALSE(artifacts_->Put({"kernel", "x", "1", {"gw"}}, "b", "a").ok());
  EXPECT_FALSE(artifacts_->Put({"model", "x/y", "1", {"gw"}}, "b", "a").ok());
  EXPECT_FALSE(artifacts_->Put({"model", "x", "1", {}}, "b", "a").ok());
  EXPECT_FALSE(artifacts_->Put({"model", "x", "1", {"gw"}}, "", "a").ok());
  EXPECT_EQ(
      artifacts_->Put({"model", "x", "1", {"gw"}}, std::string(2000, 'x'), "a").status().code(),
      StatusCode::kResourceExhausted);
  EXPECT_EQ(artifacts_->FilePath("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(artifacts_->FilePath(std::string(64, 'a')).status().code(), StatusCode::kNotFound);
}

TEST_F(ArtifactsTest, ADownloadUrlIsForOneDeviceAndExpires) {
  auto a = artifacts_->Put({"firmware", "fw", "1.4.0", {"gw-200"}}, "image", "alice");
  ASSERT_TRUE(a.ok());
  const int64_t expires = UnixMicros(clock_.Now() + seconds(600)) / 1'000'000;
  const std::string url = artifacts_->DownloadUrl("https://core:8443", a->sha256, "dev-1", expires);
  const std::string sig = url.substr(url.find("&sig=") + 5);
  EXPECT_EQ(sig.size(), 64u);
  const std::string exp = std::to_string(expires);
  EXPECT_TRUE(artifacts_->CheckDownload(a->sha256, "dev-1", exp, sig).ok());
  EXPECT_EQ(artifacts_->CheckDownload(a->sha256, "dev-2", exp, sig).code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(
      artifacts_->CheckDownload(a->sha256, "dev-1", std::to_string(expires + 1), sig).ok());
  std::string bad = sig;
  bad[0] = bad[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(artifacts_->CheckDownload(a->sha256, "dev-1", exp, bad).ok());
  EXPECT_FALSE(artifacts_->CheckDownload(a->sha256, "dev-1", "12x", sig).ok());
  clock_.Advance(seconds(601));
  EXPECT_FALSE(artifacts_->CheckDownload(a->sha256, "dev-1", exp, sig).ok());
}

}  // namespace
}  // namespace weft::core::ota

#include "fleet/signing.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <cstdio>
#include <fstream>

#include "fleet/pki.h"
#include "testing/test_env.h"

namespace weft::fleet {
namespace {

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class SigningTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(ERR_peek_error(), 0u) << "an OpenSSL error leaked"; }
};

ArtifactManifest SampleManifest() {
  return ArtifactManifest{.kind = "model",
                          .name = "bearing-wear",
                          .version = "2",
                          .sha256 = Sha256Hex("model bytes"),
                          .size = 11,
                          .hardware_models = {"edge-x1", "edge-x2"}};
}

TEST_F(SigningTest, SignAndVerifyWithEd25519AndEc) {
  for (auto make : {&GenerateEd25519Key, &GenerateEcKey}) {
    auto key = make();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    auto other = make();
    ASSERT_TRUE(other.ok());
    const std::string data = "the exact manifest bytes";
    auto sig = SignBytes(key->private_pem, data);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_TRUE(VerifyBytes(key->public_pem, data, *sig).ok());

    Status tampered = VerifyBytes(key->public_pem, data + " ", *sig);
    EXPECT_EQ(tampered.code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(tampered.message(), "signature does not verify");
    EXPECT_EQ(VerifyBytes(other->public_pem, data, *sig).code(), StatusCode::kPermissionDenied);
    // A signature with one flipped bit.
    std::string flipped = *sig;
    flipped[4] = flipped[4] == 'A' ? 'B' : 'A';
    EXPECT_EQ(VerifyBytes(key->public_pem, data, flipped).code(), StatusCode::kPermissionDenied);
  }
}

TEST_F(SigningTest, Ed25519SignaturesAreDeterministic) {
  auto key = GenerateEd25519Key();
  ASSERT_TRUE(key.ok());
  auto a = SignBytes(key->private_pem, "x");
  auto b = SignBytes(key->private_pem, "x");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 88u);  // 64 bytes in base64
}

TEST_F(SigningTest, BadInputsAreInvalidArguments) {
  auto key = GenerateEd25519Key();
  ASSERT_TRUE(key.ok());
  auto sig = SignBytes(key->private_pem, "x");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(VerifyBytes(key->public_pem, "x", "not base64!").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyBytes(key->public_pem, "x", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyBytes(key->public_pem, "x", "AA=A").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyBytes("garbage", "x", *sig).code(), StatusCode::kInvalidArgument);
  // A private key is not a verification key.
  EXPECT_EQ(VerifyBytes(key->private_pem, "x", *sig).code(), StatusCode::kInvalidArgument);
  auto bad = SignBytes("garbage", "x");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("OpenSSL"), std::string::npos) << bad.status().ToString();
}

TEST_F(SigningTest, ProvisioningProofVerifiesWithTheFactoryCertificate) {
  const TimePoint now = TimeFromUnixMicros(1'780'000'000'000'000);
  auto ca = MakeCa({.common_name = "Manufacturer CA"}, std::chrono::days(3650), now);
  ASSERT_TRUE(ca.ok());
  auto factory = IssueKeyAndCert(*ca, {.common_name = "SN-1", .serial_number = "SN-1"},
                                 {.validity = std::chrono::days(3650)}, now);
  ASSERT_TRUE(factory.ok()) << factory.status().ToString();
  auto device_key = GenerateEcKey();
  ASSERT_TRUE(device_key.ok());
  auto csr = MakeCsr(device_key->private_pem, {});
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  const std::string signed_text = std::string(kProvisionProofContext) + *csr;
  auto proof = SignBytes(factory->first.private_pem, signed_text);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(VerifyBytes(factory->second.cert_pem, signed_text, *proof).ok());
  // Without the context (a signature made for another purpose) it does not verify.
  auto bare = SignBytes(factory->first.private_pem, *csr);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(VerifyBytes(factory->second.cert_pem, signed_text, *bare).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SigningTest, EcSignatureVerifiesWithOpenssl) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  auto key = GenerateEcKey();
  ASSERT_TRUE(key.ok());
  auto sig = SignBytes(key->private_pem, "payload");
  ASSERT_TRUE(sig.ok());
  const std::string d = dir->path();
  std::ofstream(d + "/pub.pem") << key->public_pem;
  std::ofstream(d + "/data", std::ios::binary) << "payload";
  std::ofstream(d + "/sig.b64") << *sig << "\n";
  auto [rc, out] = RunCommand("openssl base64 -d -in " + d + "/sig.b64 -out " + d + "/sig.bin && " +
                              "openssl dgst -sha256 -verify " + d + "/pub.pem -signature " + d +
                              "/sig.bin " + d + "/data");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Verified OK"), std::string::npos) << out;
}

TEST_F(SigningTest, Sha256) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  std::string big(200'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  const std::string path = dir->path() + "/artifact.bin";
  std::ofstream(path, std::ios::binary) << big;
  auto file = Sha256HexOfFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file, Sha256Hex(big));
  EXPECT_EQ(Sha256HexOfFile(dir->path() + "/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(SigningTest, ManifestJsonIsCanonical) {
  const ArtifactManifest m = SampleManifest();
  EXPECT_EQ(ManifestJson(m),
            R"({"hardware_models":["edge-x1","edge-x2"],"kind":"model","name":"bearing-wear",)"
            R"("sha256":")" +
                Sha256Hex("model bytes") + R"(","size":11,"version":"2"})");
  auto back = ParseManifest(ManifestJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  // Field order and whitespace do not matter when parsing.
  auto spaced = ParseManifest(R"({ "version":"2", "size":11, "sha256":")" + m.sha256 +
                              R"(", "name":"bearing-wear", "kind":"model",
                                  "hardware_models":["edge-x1","edge-x2"] })");
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  EXPECT_EQ(*spaced, m);
}

TEST_F(SigningTest, ManifestErrorsNameTheField) {
  const std::string sha = SampleManifest().sha256;
  const auto with = [&](const std::string& kind, const std::string& size, const std::string& models,
                        const std::string& extra = "", const std::string& sha256 = "") {
    return ParseManifest(R"({"kind":)" + kind + R"(,"name":"n","version":"1","sha256":")" +
                         (sha256.empty() ? sha : sha256) + R"(","size":)" + size +
                         R"(,"hardware_models":)" + models + extra + "}");
  };
  EXPECT_TRUE(with(R"("firmware")", "1", "[]").ok());
  const std::pair<Result<ArtifactManifest>, std::string> cases[] = {
      {with(R"("rootkit")", "1", "[]"), "'kind'"},
      {with("7", "1", "[]"), "'kind'"},
      {with(R"("model")", "-1", "[]"), "'size'"},
      {with(R"("model")", "1.5", "[]"), "'size'"},
      {with(R"("model")", "1", R"("edge-x1")"), "'hardware_models'"},
      {with(R"("model")", "1", R"([""])"), "'hardware_models'"},
      {with(R"("model")", "1", "[]", R"(,"evil":true)"), "'evil'"},
      {with(R"("model")", "1", "[]", "", std::string(64, 'A')), "'sha256'"},
      {with(R"("model")", "1", "[]", "", "abc"), "'sha256'"},
      {ParseManifest(R"({"kind":"model"})"), "'name'"},
      {ParseManifest("[1]"), "JSON object"},
      {ParseManifest("{"), "not JSON"},
  };
  for (const auto& [result, needle] : cases) {
    ASSERT_FALSE(result.ok()) << needle;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(needle), std::string::npos)
        << result.status().ToString();
  }
}

TEST_F(SigningTest, SignedManifestRoundTrip) {
  auto key = GenerateEd25519Key();
  ASSERT_TRUE(key.ok());
  const std::string text = ManifestJson(SampleManifest());
  auto sig = SignBytes(key->private_pem, text);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyBytes(key->public_pem, text, *sig).ok());
  // A tampered manifest (another hardware model added) is refused.
  ArtifactManifest evil = SampleManifest();
  evil.hardware_models.push_back("edge-x3");
  EXPECT_EQ(VerifyBytes(key->public_pem, ManifestJson(evil), *sig).code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace weft::fleet

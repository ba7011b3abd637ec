#include "fleet/pki.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::fleet {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kNow = TimeFromUnixMicros(1'780'000'000'000'000);  // 2026-05-28

// Runs a shell command; returns its exit code and combined output.
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

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca =
        MakeCa({.common_name = "Weft Test Fleet CA", .organization = "Weft"}, days(3650), kNow);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    auto dir = testing::TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(*dir));
  }
  void TearDown() override {
    // No OpenSSL error may be left behind on this thread by any call, failed or not.
    EXPECT_EQ(ERR_peek_error(), 0u) << "an OpenSSL error leaked";
  }

  // A device key and CSR; the CSR asks for a subject the CA will not use.
  std::pair<KeyPair, std::string> DeviceCsr() {
    auto key = GenerateEcKey();
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    auto csr = MakeCsr(key->private_pem, {.common_name = "i-want-to-be-admin"});
    EXPECT_TRUE(csr.ok()) << csr.status().ToString();
    return {*key, *csr};
  }

  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  CertAuthority ca_;
  std::optional<testing::TempDir> dir_;
};

TEST_F(PkiTest, KeysArePkcs8AndSpki) {
  for (auto make : {&GenerateEcKey, &GenerateEd25519Key}) {
    auto key = make();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_NE(key->private_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    EXPECT_NE(key->public_pem.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  }
  auto a = GenerateEcKey();
  auto b = GenerateEcKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->private_pem, b->private_pem);
}

TEST_F(PkiTest, CaIsASelfSignedCaCertificate) {
  auto info = ParseCert(ca_.cert_pem);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject.common_name, "Weft Test Fleet CA");
  EXPECT_EQ(info->issuer.common_name, "Weft Test Fleet CA");
  EXPECT_EQ(info->subject.organization, "Weft");
  EXPECT_EQ(info->not_after, kNow + days(3650));
  EXPECT_TRUE(VerifyCert(ca_.cert_pem, ca_.cert_pem, kNow).ok());
  WriteFile(Path("ca.pem"), ca_.cert_pem);
  auto [rc, text] = RunCommand("openssl x509 -noout -text -in " + Path("ca.pem"));
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("CA:TRUE"), std::string::npos) << text;
  EXPECT_NE(text.find("Certificate Sign, CRL Sign"), std::string::npos) << text;
  EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos) << text;
}

TEST_F(PkiTest, CsrRoundTripSignAndVerifyChain) {
  auto [key, csr] = DeviceCsr();
  auto info = ParseCsr(csr);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject.common_name, "i-want-to-be-admin");
  EXPECT_EQ(info->public_key_pem, key.public_pem);
  EXPECT_EQ(info->public_key_sha256.size(), 64u);

  const Subject subject{.common_name = "dev-0001",
                        .serial_number = "SN-42",
                        .organization = "Weft",
                        .organizational_unit = "edge-x1"};
  auto cert = SignCsr(ca_, csr, subject, {.validity = days(30)}, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->serial_hex.size(), 32u);
  EXPECT_EQ(cert->serial_hex, Lower(cert->serial_hex));
  EXPECT_EQ(cert->not_after, kNow + days(30));
  EXPECT_EQ(cert->not_before, kNow - std::chrono::minutes(5));

  auto verified = VerifyCert(cert->cert_pem, ca_.cert_pem, kNow + hours(1));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  // The CA decides the subject, not the CSR.
  EXPECT_EQ(verified->subject.common_name, "dev-0001");
  EXPECT_EQ(verified->subject.serial_number, "SN-42");
  EXPECT_EQ(verified->subject.organizational_unit, "edge-x1");
  EXPECT_EQ(verified->issuer.common_name, "Weft Test Fleet CA");
  EXPECT_EQ(verified->serial_hex, cert->serial_hex);
  EXPECT_EQ(verified->fingerprint_sha256, cert->fingerprint_sha256);
  EXPECT_EQ(verified->public_key_pem, key.public_pem);
  EXPECT_EQ(verified->not_after, cert->not_after);

  // The fingerprint is the SHA-256 of the DER, as openssl computes it.
  WriteFile(Path("dev.pem"), cert->cert_pem);
  auto [rc, text] =
      RunCommand("openssl x509 -noout -fingerprint -sha256 -serial -text -in " + Path("dev.pem"));
  ASSERT_EQ(rc, 0) << text;
  std::string fp;
  for (char c : text.substr(text.find('=') + 1, 95)) {
    if (c != ':') fp += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(fp, cert->fingerprint_sha256);
  EXPECT_NE(Lower(text).find("serial=" + cert->serial_hex), std::string::npos) << text;
  EXPECT_NE(text.find("TLS Web Client Authentication"), std::string::npos) << text;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  EXPECT_EQ(text.find("i-want-to-be-admin"), std::string::npos) << text;
  // And openssl agrees that it chains to the CA.
  WriteFile(Path("ca.pem"), ca_.cert_pem);
  auto [vrc, vtext] = RunCommand("openssl verify -attime 1780003600 -CAfile " + Path("ca.pem") +
                                 " -purpose sslclient " + Path("dev.pem"));
  EXPECT_EQ(vrc, 0) << vtext;
}

TEST_F(PkiTest, WrongCaExpiredAndNotYetValidAreRefused) {
  auto [key, csr] = DeviceCsr();
  auto cert = SignCsr(ca_, csr, {.common_name = "dev-0001"}, {.validity = days(30)}, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto other = MakeCa({.common_name = "Other CA"}, days(3650), kNow);
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  auto wrong = VerifyCert(cert->cert_pem, other->cert_pem, kNow);
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("unable to get local issuer certificate"),
            std::string::npos)
      << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("dev-0001"), std::string::npos)
      << wrong.status().ToString();

  auto expired = VerifyCert(cert->cert_pem, ca_.cert_pem, kNow + days(31));
  EXPECT_EQ(expired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.status().message().find("certificate has expired"), std::string::npos)
      << expired.status().ToString();

  auto early = VerifyCert(cert->cert_pem, ca_.cert_pem, kNow - hours(1));
  EXPECT_EQ(early.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(early.status().message().find("not yet valid"), std::string::npos)
      << early.status().ToString();

  // A bundle with both CAs trusts it; a parsed trust store gives the same answers.
  auto bundle = ParseTrustStore(other->cert_pem + ca_.cert_pem);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_TRUE(VerifyCert(cert->cert_pem, **bundle, kNow).ok());
  EXPECT_FALSE(VerifyCert(cert->cert_pem, **bundle, kNow + days(31)).ok());
  auto only_other = ParseTrustStore(other->cert_pem);
  ASSERT_TRUE(only_other.ok());
  EXPECT_FALSE(VerifyCert(cert->cert_pem, **only_other, kNow).ok());
}

TEST_F(PkiTest, TamperedOrGarbageInputIsRefused) {
  auto [key, csr] = DeviceCsr();
  // Flip one base64 character inside the body: either the DER or the signature breaks.
  std::string tampered = csr;
  const size_t pos = tampered.find('\n') + 40;
  tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ParseCsr(tampered).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SignCsr(ca_, tampered, {.common_name = "d"}, {.validity = days(1)}, kNow).ok());

  auto garbage = ParseCsr("not a csr");
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find("CERTIFICATE REQUEST"), std::string::npos);
  EXPECT_EQ(
      ParseCert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCert(ca_.cert_pem, "nothing trusted", kNow).status().code(),
            StatusCode::kInvalidArgument);
  // A certificate is not a CSR and vice versa.
  EXPECT_FALSE(ParseCsr(ca_.cert_pem).ok());
  EXPECT_FALSE(ParseCert(csr).ok());
}

TEST_F(PkiTest, SigningRefusesBadRequests) {
  auto [key, csr] = DeviceCsr();
  EXPECT_EQ(SignCsr(ca_, csr, {}, {.validity = days(1)}, kNow).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SignCsr(ca_, csr, {.common_name = "d"}, {.validity = Micros(0)}, kNow).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      SignCsr(ca_, csr, {.common_name = std::string(65, 'x')}, {.validity = days(1)}, kNow).ok());
  auto bad_san = SignCsr(ca_, csr, {.common_name = "broker"},
                         {.validity = days(1), .server = true, .ip_sans = {"not-an-ip"}}, kNow);
  EXPECT_EQ(bad_san.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_san.status().message().find("not-an-ip"), std::string::npos);
  // A CA whose key is not its own.
  auto other = MakeCa({.common_name = "Other CA"}, days(3650), kNow);
  ASSERT_TRUE(other.ok());
  auto mixed = ParseCa({ca_.cert_pem, other->key_pem});
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("does not belong"), std::string::npos)
      << mixed.status().ToString();
  // A leaf certificate is not a CA.
  auto leaf = IssueKeyAndCert(ca_, {.common_name = "leaf"}, {.validity = days(1)}, kNow);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_FALSE(ParseCa({leaf->second.cert_pem, leaf->first.private_pem}).ok());
}

TEST_F(PkiTest, ServerCertificateHasSansAndServerAuth) {
  auto issued = IssueKeyAndCert(ca_, {.common_name = "localhost"},
                                {.validity = days(365),
                                 .server = true,
                                 .dns_sans = {"localhost"},
                                 .ip_sans = {"127.0.0.1", "::1"}},
                                kNow);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  WriteFile(Path("server.pem"), issued->second.cert_pem);
  auto [rc, text] = RunCommand("openssl x509 -noout -text -in " + Path("server.pem"));
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("DNS:localhost"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:0:0:0:0:0:0:0:1"), std::string::npos) << text;
  EXPECT_NE(text.find("TLS Web Server Authentication"), std::string::npos) << text;
  // The key belongs to the certificate: a signature by it verifies with the certificate.
  auto sig = SignBytes(issued->first.private_pem, "hello");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(VerifyBytes(issued->second.cert_pem, "hello", *sig).ok());
}

TEST_F(PkiTest, Ed25519DeviceKeysAreSigned) {
  auto key = GenerateEd25519Key();
  ASSERT_TRUE(key.ok());
  auto csr = MakeCsr(key->private_pem, {.common_name = "ed"});
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  auto cert = SignCsr(ca_, *csr, {.common_name = "dev-ed"}, {.validity = days(1)}, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto info = VerifyCert(cert->cert_pem, ca_.cert_pem, kNow);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->public_key_pem, key->public_pem);
}

TEST_F(PkiTest, OpensslInteroperates) {
  // openssl's CSR signed by us, our CSR signed by openssl: both verify. openssl signs at the
  // real time, so this CA is made at the real time too.
  const TimePoint now = TimePoint(std::chrono::floor<seconds>(std::chrono::system_clock::now()));
  auto real_ca = MakeCa({.common_name = "Interop CA"}, days(10), now);
  ASSERT_TRUE(real_ca.ok()) << real_ca.status().ToString();
  ca_ = *real_ca;
  const std::string key = Path("k.pem");
  const std::string csr = Path("req.pem");
  auto [rc, out] = RunCommand(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=from-openssl -keyout " +
      key + " -out " + csr);
  ASSERT_EQ(rc, 0) << out;
  std::ifstream in(csr);
  const std::string csr_pem((std::istreambuf_iterator<char>(in)), {});
  auto cert = SignCsr(ca_, csr_pem, {.common_name = "dev-ossl"}, {.validity = days(1)}, now);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(VerifyCert(cert->cert_pem, ca_.cert_pem, now).ok());

  auto [ours_key, ours_csr] = DeviceCsr();
  WriteFile(Path("ours.csr"), ours_csr);
  WriteFile(Path("ca.pem"), ca_.cert_pem);
  WriteFile(Path("ca.key"), ca_.key_pem);
  auto [vrc, vout] = RunCommand("openssl req -verify -noout -in " + Path("ours.csr"));
  EXPECT_EQ(vrc, 0) << vout;
  auto [src, sout] =
      RunCommand("openssl x509 -req -in " + Path("ours.csr") + " -CA " + Path("ca.pem") +
                 " -CAkey " + Path("ca.key") + " -CAcreateserial -days 2 -out " + Path("ossl.pem"));
  ASSERT_EQ(src, 0) << sout;
  std::ifstream cin(Path("ossl.pem"));
  const std::string ossl_pem((std::istreambuf_iterator<char>(cin)), {});
  auto info = VerifyCert(ossl_pem, ca_.cert_pem, now + seconds(5));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->public_key_pem, ours_key.public_pem);
}

TEST_F(PkiTest, RsaCsrsNeedTwoThousandBits) {
  for (const auto& [bits, ok] : {std::pair{2048, true}, std::pair{1024, false}}) {
    const std::string csr = Path("rsa" + std::to_string(bits) + ".csr");
    auto [rc, out] = RunCommand("openssl req -new -newkey rsa:" + std::to_string(bits) +
                                " -nodes -subj /CN=rsa -keyout " + csr + ".key -out " + csr);
    ASSERT_EQ(rc, 0) << out;
    std::ifstream in(csr);
    const std::string pem((std::istreambuf_iterator<char>(in)), {});
    auto cert = SignCsr(ca_, pem, {.common_name = "dev-rsa"}, {.validity = days(1)}, kNow);
    EXPECT_EQ(cert.ok(), ok) << bits << ": " << cert.status().ToString();
    if (!cert.ok()) continue;
    WriteFile(Path("rsa.pem"), cert->cert_pem);
    auto [trc, text] = RunCommand("openssl x509 -noout -text -in " + Path("rsa.pem"));
    EXPECT_NE(text.find("Key Encipherment"), std::string::npos) << text;
    EXPECT_NE(text.find("Public-Key: (2048 bit)"), std::string::npos) << text;
    EXPECT_TRUE(VerifyCert(cert->cert_pem, ca_.cert_pem, kNow).ok());
  }
}

TEST_F(PkiTest, SerialsAreRandomAndConcurrentSigningIsSafe) {
  auto parsed = ParseCa(ca_);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const std::string csr = DeviceCsr().second;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<IssuedCert>> issued(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> leaked_errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto c = SignCsr(**parsed, csr, {.common_name = "dev-" + std::to_string(t)},
                         {.validity = days(1)}, kNow);
        if (c.ok()) issued[static_cast<size_t>(t)].push_back(std::move(*c));
      }
      if (ERR_peek_error() != 0) leaked_errors.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> serials;
  auto trust = ParseTrustStore(ca_.cert_pem);
  ASSERT_TRUE(trust.ok());
  for (const auto& list : issued) {
    ASSERT_EQ(list.size(), static_cast<size_t>(kPerThread));
    for (const IssuedCert& c : list) {
      EXPECT_EQ(c.serial_hex.size(), 32u);
      serials.insert(c.serial_hex);
      EXPECT_TRUE(VerifyCert(c.cert_pem, **trust, kNow).ok());
    }
  }
  EXPECT_EQ(serials.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(leaked_errors.load(), 0);
}

TEST_F(PkiTest, CrlListsRevokedSerialsAndOpensslHonoursIt) {
  auto [key1, csr1] = DeviceCsr();
  auto [key2, csr2] = DeviceCsr();
  const TimePoint now = TimePoint(std::chrono::floor<seconds>(std::chrono::system_clock::now()));
  auto ca = MakeCa({.common_name = "CRL CA"}, days(10), now);
  ASSERT_TRUE(ca.ok());
  auto revoked = SignCsr(*ca, csr1, {.common_name = "dev-r"}, {.validity = days(1)}, now);
  auto kept = SignCsr(*ca, csr2, {.common_name = "dev-k"}, {.validity = days(1)}, now);
  ASSERT_TRUE(revoked.ok() && kept.ok());
  auto crl = MakeCrl(*ca, {{revoked->serial_hex, now}, {"0badc0de", now}, {"0BADC0DE", now}}, now,
                     days(7));
  ASSERT_TRUE(crl.ok()) << crl.status().ToString();
  WriteFile(Path("crl.pem"), *crl);
  WriteFile(Path("ca.pem"), ca->cert_pem);
  WriteFile(Path("revoked.pem"), revoked->cert_pem);
  WriteFile(Path("kept.pem"), kept->cert_pem);

  auto [rc, text] =
      RunCommand("openssl crl -noout -text -in " + Path("crl.pem") + " -CAfile " + Path("ca.pem"));
  ASSERT_EQ(rc, 0) << text;
  const std::string lower = Lower(text);
  EXPECT_NE(lower.find("serial number: " + revoked->serial_hex), std::string::npos) << text;
  EXPECT_NE(lower.find("serial number: 0badc0de"), std::string::npos) << text;
  EXPECT_EQ(lower.find(kept->serial_hex), std::string::npos) << text;
  EXPECT_NE(text.find("verify OK"), std::string::npos) << text;  // signed by the CA
  EXPECT_NE(text.find("X509v3 CRL Number"), std::string::npos) << text;
  // The duplicate serial (different case) is listed once.
  size_t count = 0;
  for (size_t p = lower.find("badc0de"); p != std::string::npos; p = lower.find("badc0de", p + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << text;

  auto [r1, t1] = RunCommand("openssl verify -crl_check -CAfile " + Path("ca.pem") + " -CRLfile " +
                             Path("crl.pem") + " " + Path("revoked.pem"));
  EXPECT_NE(r1, 0) << t1;
  EXPECT_NE(t1.find("certificate revoked"), std::string::npos) << t1;
  auto [r2, t2] = RunCommand("openssl verify -crl_check -CAfile " + Path("ca.pem") + " -CRLfile " +
                             Path("crl.pem") + " " + Path("kept.pem"));
  EXPECT_EQ(r2, 0) << t2;

  EXPECT_EQ(MakeCrl(*ca, {{"xyz", now}}, now, days(1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCrl(*ca, {}, now, Micros(0)).status().code(), StatusCode::kInvalidArgument);
  auto empty = MakeCrl(*ca, {}, now, days(1));
  EXPECT_TRUE(empty.ok()) << empty.status().ToString();
}

}  // namespace
}  // namespace weft::fleet

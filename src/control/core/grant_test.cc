#include "control/core/grant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/time_format.h"

namespace weft::control {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A temp dir with one key pair, generated once for the whole suite (keygen is cheap, but the
// files test the real GenerateGrantKey path).
class GrantTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::random_device rd;
    dir_ = new std::filesystem::path(
        std::filesystem::temp_directory_path() /
        ("weft_grant_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd())));
    std::filesystem::create_directories(*dir_);
    ASSERT_TRUE(GenerateGrantKey((*dir_ / "k.pem").string(), (*dir_ / "k.pub.pem").string()).ok());
    ASSERT_TRUE(GenerateGrantKey((*dir_ / "o.pem").string(), (*dir_ / "o.pub.pem").string()).ok());
    priv_ = new std::string(ReadAll(*dir_ / "k.pem"));
    pub_ = new std::string(ReadAll(*dir_ / "k.pub.pem"));
    other_pub_ = new std::string(ReadAll(*dir_ / "o.pub.pem"));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete priv_;
    delete pub_;
    delete other_pub_;
  }

  static TimePoint T0() {
    return TimeFromUnixMicros(*ParseTimestampMicros("2026-11-26T10:00:00Z"));
  }

  static ModeGrant Grant() {
    ModeGrant g;
    g.edge = "edge-lyon";
    g.loop = "lyon-hz-01-temp";
    g.mode = Mode::kAutonomous;
    g.approvals = {{"olga", kRoleOpsManager, T0()}, {"otto", kRoleOtEngineer, T0() + 5min}};
    g.issued_at = T0() + 10min;
    g.expires_at = T0() + 24h;
    return g;
  }

  static Result<ModeGrant> Verify(const std::string& envelope, TimePoint now = T0() + 1h) {
    return VerifyGrant(envelope, *pub_, "edge-lyon", "lyon-hz-01-temp", now);
  }

  static void ExpectDenied(const Result<ModeGrant>& r, std::string_view phrase) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(std::string(phrase)));
  }

  static std::filesystem::path* dir_;
  static std::string* priv_;
  static std::string* pub_;
  static std::string* other_pub_;
};

std::filesystem::path* GrantTest::dir_ = nullptr;
std::string* GrantTest::priv_ = nullptr;
std::string* GrantTest::pub_ = nullptr;
std::string* GrantTest::other_pub_ = nullptr;

TEST_F(GrantTest, KeyFiles) {
  struct stat st {};
  ASSERT_EQ(::stat((*dir_ / "k.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(*priv_, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_THAT(*pub_, HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_EQ(*GrantPublicKeyPem(*priv_), *pub_);
  // Never overwrites a key.
  Status again = GenerateGrantKey((*dir_ / "k.pem").string(), (*dir_ / "x.pub.pem").string());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(*dir_ / "k.pem"), *priv_);
}

TEST_F(GrantTest, SignVerifyRoundTrip) {
  Result<std::string> env = SignGrant(Grant(), *priv_);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  nlohmann::json j = nlohmann::json::parse(*env);
  ASSERT_TRUE(j["grant"].is_string());
  EXPECT_EQ(j["grant"].get<std::string>(), GrantJson(Grant()));
  EXPECT_THAT(j["grant"].get<std::string>(),
              HasSubstr("{\"weft_control_grant\":1,\"edge\":\"edge-lyon\",\"loop\":"
                        "\"lyon-hz-01-temp\",\"mode\":\"autonomous\",\"approvals\":[{"
                        "\"principal\":\"olga\",\"role\":\"ops_manager\",\"at\":"
                        "\"2026-11-26T10:00:00.000000Z\"}"));
  Result<ModeGrant> g = Verify(*env);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->edge, "edge-lyon");
  EXPECT_EQ(g->loop, "lyon-hz-01-temp");
  EXPECT_EQ(g->mode, Mode::kAutonomous);
  ASSERT_EQ(g->approvals.size(), 2u);
  EXPECT_EQ(g->approvals[1].principal, "otto");
  EXPECT_EQ(g->approvals[1].at, T0() + 5min);
  EXPECT_EQ(g->issued_at, T0() + 10min);
  EXPECT_EQ(g->expires_at, T0() + 24h);
  EXPECT_EQ(g->grant_json, j["grant"].get<std::string>());
  EXPECT_EQ(g->signature_b64, j["signature"].get<std::string>());
}

TEST_F(GrantTest, ShadowNeedsNoApprovals) {
  ModeGrant g = Grant();
  g.mode = Mode::kShadow;
  g.approvals.clear();
  Result<ModeGrant> v = Verify(*SignGrant(g, *priv_));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->mode, Mode::kShadow);
}

TEST_F(GrantTest, TamperedGrantIsRefused) {
  std::string env = *SignGrant(Grant(), *priv_);
  nlohmann::json j = nlohmann::json::parse(env);
  std::string grant = j["grant"];
  grant.replace(grant.find("lyon-hz-01-temp"), 15, "lyon-hz-02-temp");
  j["grant"] = grant;
  ExpectDenied(VerifyGrant(j.dump(), *pub_, "edge-lyon", "lyon-hz-02-temp", T0() + 1h),
               "bad signature");
  // A flipped signature bit.
  j = nlohmann::json::parse(env);
  std::string sig = j["signature"];
  sig[3] = sig[3] == 'A' ? 'B' : 'A';
  j["signature"] = sig;
  ExpectDenied(Verify(j.dump()), "bad signature");
  j["signature"] = "not base64!";
  ExpectDenied(Verify(j.dump()), "bad signature");
}

TEST_F(GrantTest, WrongKeyIsRefused) {
  std::string env = *SignGrant(Grant(), *priv_);
  ExpectDenied(VerifyGrant(env, *other_pub_, "edge-lyon", "lyon-hz-01-temp", T0() + 1h),
               "bad signature");
  Result<ModeGrant> r = VerifyGrant(env, "not a pem", "edge-lyon", "lyon-hz-01-temp", T0());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("not an Ed25519 public key"));
  EXPECT_EQ(SignGrant(Grant(), *pub_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GrantTest, OtherEdgeOrLoopIsRefused) {
  std::string env = *SignGrant(Grant(), *priv_);
  ExpectDenied(VerifyGrant(env, *pub_, "edge-brno", "lyon-hz-01-temp", T0() + 1h),
               "it is for edge 'edge-lyon', this is edge 'edge-brno'");
  ExpectDenied(VerifyGrant(env, *pub_, "edge-lyon", "lyon-hz-02-temp", T0() + 1h),
               "it is for loop 'lyon-hz-01-temp', not loop 'lyon-hz-02-temp'");
}

TEST_F(GrantTest, ExpiredAndFutureGrantsAreRefused) {
  std::string env = *SignGrant(Grant(), *priv_);
  ExpectDenied(Verify(env, T0() + 24h), "expired at 2026-11-27T10:00:00.000000Z");
  ExpectDenied(Verify(env, T0() + 48h), "expired");
  EXPECT_TRUE(Verify(env, T0() + 24h - 1us).ok());
  EXPECT_TRUE(Verify(env, T0() + 6min).ok());  // within the 5 min clock skew
  ExpectDenied(Verify(env, T0()), "in the future");
}

TEST_F(GrantTest, MissingRoleIsRefused) {
  ModeGrant g = Grant();
  g.approvals.pop_back();  // no ot_engineer
  // The signer refuses it...
  Result<std::string> s = SignGrant(g, *priv_);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), HasSubstr("needs an ot_engineer approval"));
  // ...and so does the edge when a signer did sign it.
  ExpectDenied(Verify(*SignGrantJson(GrantJson(g), *priv_)), "needs an ot_engineer approval");
  g.approvals = {{"otto", kRoleOtEngineer, T0()}};
  ExpectDenied(Verify(*SignGrantJson(GrantJson(g), *priv_)), "needs an ops_manager approval");
  g.approvals = {{"olga", "viewer", T0()}};
  ExpectDenied(Verify(*SignGrantJson(GrantJson(g), *priv_)), "has neither");
  g.mode = Mode::kSupervised;
  ExpectDenied(Verify(*SignGrantJson(GrantJson(g), *priv_)), "mode supervised needs");
}

TEST_F(GrantTest, SamePrincipalTwiceIsRefused) {
  ModeGrant g = Grant();
  g.approvals = {{"olga", kRoleOpsManager, T0()}, {"olga", kRoleOtEngineer, T0()}};
  EXPECT_EQ(SignGrant(g, *priv_).status().code(), StatusCode::kFailedPrecondition);
  ExpectDenied(Verify(*SignGrantJson(GrantJson(g), *priv_)),
               "two different principals; both are by 'olga'");
  // A third, distinct approval makes a valid pair.
  g.approvals.push_back({"otto", kRoleOtEngineer, T0()});
  EXPECT_TRUE(Verify(*SignGrantJson(GrantJson(g), *priv_)).ok());
}

TEST_F(GrantTest, MalformedEnvelopes) {
  for (const char* bad :
       {"", "[]", "{\"grant\": 1, \"signature\": \"x\"}", "{\"grant\": \"x\"}", "not json"}) {
    Result<ModeGrant> r = Verify(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Signed but not a grant.
  Result<ModeGrant> r = Verify(*SignGrantJson("{\"weft_control_grant\":2}", *priv_));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("version 1"));
  ModeGrant g = Grant();
  g.expires_at = g.issued_at;
  EXPECT_EQ(SignGrant(g, *priv_).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::control

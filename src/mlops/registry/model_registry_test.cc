#include "mlops/registry/model_registry.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "testing/test_env.h"

namespace weft::mlops {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

//! Runs one SQL statement on the registry's database behind its back (tampering).
void Sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

const Actor kAna{"ana", {"data_scientist"}};
const Actor kOtto{"otto", {"ot_engineer"}};
const Actor kBoth{"bo", {"data_scientist", "ot_engineer"}};

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(dir).value());
    auto r = ModelRegistry::Open(dir_->path() + "/state", &clock_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(r).value();
  }

  NewModelVersion Candidate(const std::string& artifact, bool passed = true) {
    NewModelVersion v;
    v.name = "bearing-wear";
    v.artifact = artifact;
    v.card_json = R"({"features": ["vib_rms"], "asset_type": "motor", "threshold": 0.5})";
    v.lineage_json = R"({"tables": {"telemetry": 42}, "code_version": "abc123"})";
    v.metrics_json = R"({"precision": 0.9, "recall": 0.8})";
    v.validation_json =
        passed ? R"({"results": [{"name": "risk_monotone_in_vibration", "status": "passed"}]})"
               : R"({"results": [{"name": "risk_monotone_in_vibration", "status": "failed"},
                                 {"name": "bounds_0_1", "status": "passed"},
                                 {"name": "twin_agreement", "status": "failed"}]})";
    v.validation_passed = passed;
    v.created_by = "trainer";
    return v;
  }

  std::string state() const { return dir_->path() + "/state"; }

  ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<ModelRegistry> reg_;
};

TEST_F(ModelRegistryTest, RegistersVersionsWithLineageAndSignedContentAddressedArtifacts) {
  auto v1 = reg_->Register(Candidate("{\"trees\": 1}"));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  clock_.Advance(std::chrono::seconds(1));
  auto v2 = reg_->Register(Candidate("{\"trees\": 2}"));
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v1->version, "1");
  EXPECT_EQ(v2->version, "2");
  EXPECT_EQ(v1->artifact_sha256, Sha256Hex("{\"trees\": 1}"));
  EXPECT_EQ(v1->artifact_size, 12);
  EXPECT_EQ(v1->signature_hex.size(), 128u);

  const std::string file = reg_->ArtifactPath(v1->artifact_sha256);
  EXPECT_EQ(file, state() + "/artifacts/sha256/" + v1->artifact_sha256.substr(0, 2) + "/" +
                      v1->artifact_sha256);
  EXPECT_EQ(ReadAll(file), "{\"trees\": 1}");
  // The key: private 0600, public beside it.
  struct stat st {};
  ASSERT_EQ(::stat((state() + "/keys/model-signing.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto pub = reg_->PublicKeyPem();
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(ReadAll(state() + "/keys/model-signing.pub.pem"), *pub);
  EXPECT_NE(pub->find("BEGIN PUBLIC KEY"), std::string::npos);

  auto got = reg_->Get("bearing-wear", "2");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->lineage_json, R"({"tables": {"telemetry": 42}, "code_version": "abc123"})");
  EXPECT_EQ(got->created_at, clock_.Now());
  EXPECT_EQ(got->created_by, "trainer");
  EXPECT_TRUE(got->validation_passed);
  auto bytes = reg_->ReadArtifact("bearing-wear", "2");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "{\"trees\": 2}");
  EXPECT_TRUE(reg_->Verify("bearing-wear", "1").ok());

  auto list = reg_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].versions, 2);
  EXPECT_EQ((*list)[0].latest_version, "2");
  auto history = reg_->History("bearing-wear");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].action, "register");

  // Refusals with a reason.
  NewModelVersion bad = Candidate("x");
  bad.name = "../etc";
  EXPECT_EQ(reg_->Register(bad).status().code(), StatusCode::kInvalidArgument);
  bad = Candidate("x");
  bad.lineage_json = "{not json";
  auto r = reg_->Register(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("lineage"), std::string::npos);
  EXPECT_EQ(reg_->Get("bearing-wear", "7").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->Get("bearing-wear", "one").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->Versions("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, IdenticalArtifactsAreStoredOnce) {
  auto v1 = reg_->Register(Candidate("same bytes"));
  auto v2 = reg_->Register(Candidate("same bytes"));
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_NE(v1->version, v2->version);
  EXPECT_EQ(v1->artifact_sha256, v2->artifact_sha256);
  size_t files = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(state() + "/artifacts/sha256")) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 1u) << "no temp files left, one file per digest";
}

TEST_F(ModelRegistryTest, TamperedArtifactIsRefusedNamingFileAndDigests) {
  auto v = reg_->Register(Candidate("{\"weights\": [1, 2, 3]}"));
  ASSERT_TRUE(v.ok());
  const std::string file = reg_->ArtifactPath(v->artifact_sha256);
  std::string bytes = ReadAll(file);
  bytes[5] = static_cast<char>(bytes[5] ^ 0x01);
  WriteAll(file, bytes);
  auto read = reg_->ReadArtifact("bearing-wear", "1");
  ASSERT_EQ(read.status().code(), StatusCode::kDataLoss);
  const std::string msg = read.status().message();
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected sha256 " + v->artifact_sha256), std::string::npos) << msg;
  EXPECT_NE(msg.find("actual " + Sha256Hex(bytes)), std::string::npos) << msg;
  EXPECT_EQ(reg_->Verify("bearing-wear", "1").code(), StatusCode::kDataLoss);
  // Missing file: refused too.
  std::filesystem::remove(file);
  EXPECT_EQ(reg_->Verify("bearing-wear", "1").code(), StatusCode::kDataLoss);
  // A missing signing key is not silently replaced by a new one when verifying.
  auto again = reg_->Register(Candidate("another"));
  ASSERT_TRUE(again.ok());
  std::filesystem::remove(state() + "/keys/model-signing.pem");
  auto fresh = ModelRegistry::Open(state(), &clock_);
  ASSERT_TRUE(fresh.ok());
  Status no_key = (*fresh)->Verify("bearing-wear", again->version);
  EXPECT_EQ(no_key.code(), StatusCode::kDataLoss);
  EXPECT_NE(no_key.message().find("missing"), std::string::npos) << no_key.message();
  EXPECT_FALSE(std::filesystem::exists(state() + "/keys/model-signing.pem"));
}

TEST_F(ModelRegistryTest, TamperedSignatureOrDigestRowIsRefused) {
  auto v1 = reg_->Register(Candidate("model one"));
  auto v2 = reg_->Register(Candidate("model two"));
  ASSERT_TRUE(v1.ok() && v2.ok());
  // Flip one hex digit of v1's signature.
  std::string sig = v1->signature_hex;
  sig[0] = sig[0] == '0' ? '1' : '0';
  Sql(state() + "/models.db",
      "UPDATE model_versions SET signature_hex = '" + sig + "' WHERE version = 1");
  Status s = reg_->Verify("bearing-wear", "1");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("signature"), std::string::npos) << s.message();
  EXPECT_EQ(reg_->ReadArtifact("bearing-wear", "1").status().code(), StatusCode::kDataLoss);
  // Point v2's row at another (intact) artifact: its signature no longer matches the digest.
  Sql(state() + "/models.db",
      "UPDATE model_versions SET artifact_sha256 = '" + v1->artifact_sha256 +
          "', artifact_size = " + std::to_string(v1->artifact_size) + " WHERE version = 2");
  EXPECT_EQ(reg_->Verify("bearing-wear", "2").code(), StatusCode::kDataLoss);
}

TEST_F(ModelRegistryTest, PromotionNeedsValidationAndTwoRolesFromTwoPrincipals) {
  ASSERT_TRUE(reg_->Register(Candidate("bad physics", /*passed=*/false)).ok());
  ASSERT_TRUE(reg_->Register(Candidate("good physics")).ok());

  // Not validated: refused, naming the failed constraints.
  Status s = reg_->Promote("bearing-wear", "1", "staging", kOtto);
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("risk_monotone_in_vibration"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("twin_agreement"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("bounds_0_1"), std::string::npos) << s.message();

  // Validated: staging needs no approvals; production does.
  ASSERT_TRUE(reg_->Promote("bearing-wear", "2", "staging", kOtto).ok());
  s = reg_->Promote("bearing-wear", "2", "production", kOtto);
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("none"), std::string::npos) << s.message();

  // One principal holding both roles: the second approval is refused, no quorum.
  ASSERT_TRUE(reg_->Approve("bearing-wear", "2", kBoth, "data_scientist", "looks good").ok());
  Status twice = reg_->Approve("bearing-wear", "2", kBoth, "ot_engineer", "me again");
  EXPECT_EQ(twice.code(), StatusCode::kAlreadyExists) << twice.ToString();
  EXPECT_EQ(reg_->Promote("bearing-wear", "2", "production", kOtto).code(),
            StatusCode::kFailedPrecondition);

  // A role the actor does not hold is refused.
  EXPECT_EQ(reg_->Approve("bearing-wear", "2", kAna, "ot_engineer", "").code(),
            StatusCode::kPermissionDenied);
  // Two data scientists are not a quorum either.
  ASSERT_TRUE(reg_->Approve("bearing-wear", "2", kAna, "data_scientist", "").ok());
  EXPECT_EQ(reg_->Promote("bearing-wear", "2", "production", kOtto).code(),
            StatusCode::kFailedPrecondition);
  // An OT engineer who is someone else completes it.
  ASSERT_TRUE(reg_->Approve("bearing-wear", "2", kOtto, "ot_engineer", "safe on line 2").ok());
  ASSERT_TRUE(reg_->Promote("bearing-wear", "2", "production", kOtto).ok());
  auto prod = reg_->Resolve("bearing-wear", "production");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->version, "2");
  EXPECT_EQ(prod->approvals.size(), 3u);
  EXPECT_EQ(prod->aliases, (std::vector<std::string>{"production", "staging"}));
  EXPECT_EQ(reg_->Resolve("bearing-wear", "canary").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, RollbackReturnsToThePreviousVersionAndIsRecorded) {
  for (const char* a : {"m1", "m2", "m3"}) ASSERT_TRUE(reg_->Register(Candidate(a)).ok());
  // Nothing to roll back yet.
  EXPECT_EQ(reg_->Rollback("bearing-wear", "staging", kOtto).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(reg_->Promote("bearing-wear", "1", "staging", kOtto).ok());
  EXPECT_EQ(reg_->Rollback("bearing-wear", "staging", kOtto).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(reg_->Promote("bearing-wear", "2", "staging", kOtto).ok());
  ASSERT_TRUE(reg_->Promote("bearing-wear", "3", "staging", kOtto).ok());
  ASSERT_TRUE(reg_->Promote("bearing-wear", "3", "staging", kOtto).ok());  // no-op
  auto back = reg_->Rollback("bearing-wear", "staging", kOtto);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "2");
  EXPECT_EQ(reg_->Resolve("bearing-wear", "staging")->version, "2");
  back = reg_->Rollback("bearing-wear", "staging", kAna);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "1");
  EXPECT_EQ(reg_->Rollback("bearing-wear", "staging", kOtto).status().code(),
            StatusCode::kFailedPrecondition);

  auto h = reg_->History("bearing-wear");
  ASSERT_TRUE(h.ok());
  std::vector<std::string> actions;
  for (const HistoryEntry& e : *h) actions.push_back(e.action + ":" + e.from + ">" + e.to);
  EXPECT_EQ(actions, (std::vector<std::string>{"register:>", "register:>", "register:>",
                                               "promote:>1", "promote:1>2", "promote:2>3",
                                               "rollback:3>2", "rollback:2>1"}));
  EXPECT_EQ(h->back().actor, "ana");
  EXPECT_EQ(h->back().alias, "staging");
}

TEST_F(ModelRegistryTest, TwoRegistriesOnOneDatabaseNeverShareAVersionNumber) {
  auto other = ModelRegistry::Open(state(), &clock_);
  ASSERT_TRUE(other.ok());
  constexpr int kPerThread = 15;
  std::vector<std::string> got[2];
  std::vector<Status> errors[2];
  auto work = [&](ModelRegistry* r, int t) {
    for (int i = 0; i < kPerThread; ++i) {
      auto v = r->Register(Candidate("t" + std::to_string(t) + "-" + std::to_string(i)));
      if (v.ok()) {
        got[t].push_back(v->version);
      } else {
        errors[t].push_back(v.status());
      }
    }
  };
  std::thread a(work, reg_.get(), 0);
  std::thread b(work, other->get(), 1);
  a.join();
  b.join();
  for (int t = 0; t < 2; ++t) {
    for (const Status& s : errors[t]) ADD_FAILURE() << s.ToString();
  }
  std::set<std::string> all(got[0].begin(), got[0].end());
  all.insert(got[1].begin(), got[1].end());
  EXPECT_EQ(all.size(), static_cast<size_t>(2 * kPerThread)) << "duplicate version numbers";
  auto versions = reg_->Versions("bearing-wear");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), static_cast<size_t>(2 * kPerThread));
  EXPECT_EQ(versions->back().version, std::to_string(2 * kPerThread));
  // Both use the same signing key: each verifies the other's versions.
  EXPECT_TRUE((*other)->Verify("bearing-wear", got[0].front()).ok());
  EXPECT_TRUE(reg_->Verify("bearing-wear", got[1].front()).ok());
}

TEST_F(ModelRegistryTest, EverythingSurvivesAReopen) {
  ASSERT_TRUE(reg_->Register(Candidate("persisted")).ok());
  ASSERT_TRUE(reg_->Approve("bearing-wear", "1", kAna, "data_scientist", "ok").ok());
  ASSERT_TRUE(reg_->Approve("bearing-wear", "1", kOtto, "ot_engineer", "ok").ok());
  ASSERT_TRUE(reg_->Promote("bearing-wear", "1", "production", kOtto).ok());
  reg_.reset();
  auto r = ModelRegistry::Open(state(), &clock_);
  ASSERT_TRUE(r.ok());
  auto v = (*r)->Resolve("bearing-wear", "production");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, "1");
  ASSERT_EQ(v->approvals.size(), 2u);
  EXPECT_EQ(v->approvals[1].principal, "otto");
  EXPECT_EQ(v->approvals[1].role, "ot_engineer");
  auto bytes = (*r)->ReadArtifact("bearing-wear", "1");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "persisted");
  EXPECT_EQ((*r)->History("bearing-wear")->size(), 4u);
}

TEST_F(ModelRegistryTest, ProductionRolesComeFromTheOptions) {
  // The governance policy may ask for three roles: a security lead too.
  reg_.reset();
  ModelRegistryOptions o;
  o.production_approver_roles = {"data_scientist", "ot_engineer", "security_lead"};
  auto r = ModelRegistry::Open(state(), &clock_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  reg_ = std::move(r).value();
  ASSERT_TRUE(reg_->Register(Candidate("three roles")).ok());
  ASSERT_TRUE(reg_->Approve("bearing-wear", "1", kAna, "data_scientist", "").ok());
  ASSERT_TRUE(reg_->Approve("bearing-wear", "1", kOtto, "ot_engineer", "").ok());
  Status s = reg_->Promote("bearing-wear", "1", "production", kOtto);
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("missing: security_lead"), std::string::npos) << s.message();
  auto waiting = reg_->AwaitingProduction();
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(reg_->MissingProductionRoles(waiting->front()),
            std::vector<std::string>{"security_lead"});
  const Actor sam{"sam", {"security_lead"}};
  ASSERT_TRUE(reg_->Approve("bearing-wear", "1", sam, "security_lead", "").ok());
  ASSERT_TRUE(reg_->Promote("bearing-wear", "1", "production", kOtto).ok());
  waiting = reg_->AwaitingProduction();
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->empty());

  // One role only: a single approval suffices.
  o.production_approver_roles = {"ot_engineer"};
  auto single = ModelRegistry::Open(state(), &clock_, o);
  ASSERT_TRUE(single.ok());
  ASSERT_TRUE((*single)->Register(Candidate("one role")).ok());
  ASSERT_TRUE((*single)->Approve("bearing-wear", "2", kOtto, "ot_engineer", "").ok());
  EXPECT_TRUE((*single)->Promote("bearing-wear", "2", "production", kOtto).ok());

  o.production_approver_roles = {};
  EXPECT_EQ(ModelRegistry::Open(state(), &clock_, o).status().code(), StatusCode::kInvalidArgument);
  o.production_approver_roles = {"ot_engineer", "ot_engineer"};
  EXPECT_EQ(ModelRegistry::Open(state(), &clock_, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(MatchQuorum, AssignsDistinctPrincipalsMovingEarlierChoices) {
  // bo approved in both roles; ana only as data_scientist: bo must take ot_engineer.
  Quorum q =
      MatchQuorum({{"bo", "data_scientist"}, {"bo", "ot_engineer"}, {"ana", "data_scientist"}},
                  {"data_scientist", "ot_engineer"});
  EXPECT_TRUE(q.missing.empty());
  ASSERT_EQ(q.filled.size(), 2u);
  EXPECT_EQ(q.filled[0], (std::pair<std::string, std::string>{"data_scientist", "ana"}));
  EXPECT_EQ(q.filled[1], (std::pair<std::string, std::string>{"ot_engineer", "bo"}));
  q = MatchQuorum({{"bo", "data_scientist"}, {"bo", "ot_engineer"}, {"x", "viewer"}},
                  {"data_scientist", "ot_engineer"});
  EXPECT_EQ(q.missing, std::vector<std::string>{"ot_engineer"});
}

}  // namespace
}  // namespace weft::mlops

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/registry/sqlite_registry_store.h"
#include "core/registry/tokens.h"

namespace weft::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("weft_registry_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `sql` on the file with a separate raw connection; returns the first column of the first
// row as text ("" when none).
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

const TimePoint kStart = TimeFromUnixMicros(1'790'000'000'000'000);

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto opened = SqliteRegistryStore::Open(db_path_, &clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  Principal MakeUser(const std::string& id) {
    auto p = store_->CreatePrincipal({id, PrincipalKind::kUser, "User " + id, ""});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.value_or(Principal{});
  }

  TempDir dir_;
  std::string db_path_ = dir_.File("registry.db");
  ManualClock clock_{kStart};
  std::unique_ptr<SqliteRegistryStore> store_;
};

TEST_F(RegistryStoreTest, MigratesFromEmptyToWalSchema) {
  EXPECT_EQ(RawQuery(db_path_, "PRAGMA user_version"),
            std::to_string(SqliteRegistryStore::SchemaVersion()));
  EXPECT_EQ(RawQuery(db_path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(db_path_,
                     "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                     "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                     "ORDER BY name)"),
            "api_tokens,grants,principals");
  // Created readable by the owner only.
  const fs::perms perms = fs::status(db_path_).permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  // Re-opening a current database runs no migration and keeps the version.
  Reopen();
  EXPECT_EQ(RawQuery(db_path_, "PRAGMA user_version"),
            std::to_string(SqliteRegistryStore::SchemaVersion()));
}

TEST_F(RegistryStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  RawQuery(db_path_, "PRAGMA user_version = 99");
  auto opened = SqliteRegistryStore::Open(db_path_, &clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(opened.status().message(),
              HasSubstr("knows up to " + std::to_string(SqliteRegistryStore::SchemaVersion())));
  EXPECT_THAT(opened.status().message(), HasSubstr(db_path_));
}

TEST_F(RegistryStoreTest, NotADatabaseIsDataLoss) {
  const std::string junk = dir_.File("junk.db");
  std::ofstream(junk) << std::string(4096, 'x');
  auto opened = SqliteRegistryStore::Open(junk, &clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr(junk));
}

TEST_F(RegistryStoreTest, MissingDirectoryIsAnError) {
  auto opened = SqliteRegistryStore::Open(dir_.File("no/such/dir/r.db"), &clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition) << opened.status().ToString();
}

TEST_F(RegistryStoreTest, PrincipalsCreateGetListDisable) {
  auto ana = store_->CreatePrincipal({"ana@plant", PrincipalKind::kUser, "Ana Ruiz", ""});
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  EXPECT_EQ(ana->created_at, kStart);
  EXPECT_FALSE(ana->disabled);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->CreatePrincipal({"etl", PrincipalKind::kServiceAccount, "ETL", ""}).ok());

  auto got = store_->GetPrincipal("ana@plant");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->display_name, "Ana Ruiz");
  EXPECT_EQ(got->kind, PrincipalKind::kUser);
  EXPECT_EQ(got->created_at, kStart);

  auto all = store_->ListPrincipals();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "ana@plant");
  EXPECT_EQ((*all)[1].id, "etl");
  EXPECT_EQ((*all)[1].kind, PrincipalKind::kServiceAccount);

  ASSERT_TRUE(store_->DisablePrincipal("ana@plant").ok());
  ASSERT_TRUE(store_->DisablePrincipal("ana@plant").ok());  // idempotent
  EXPECT_TRUE(store_->GetPrincipal("ana@plant")->disabled);
}

TEST_F(RegistryStoreTest, DuplicateAndUnknownPrincipals) {
  MakeUser("ana");
  auto dup = store_->CreatePrincipal({"ana", PrincipalKind::kServiceAccount, "x", ""});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("principal 'ana' already exists"));

  auto missing = store_->GetPrincipal("bob");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("'bob'"));
  EXPECT_EQ(store_->DisablePrincipal("bob").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GrantsOf("bob").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->TokensOf("bob").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->IssueToken("bob", std::nullopt).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AddGrant({"bob", Role::kViewer, "*", std::nullopt}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryStoreTest, PrincipalValidation) {
  for (const char* bad : {"", "has space", "semi;colon", "quote'", "slash/x"}) {
    EXPECT_EQ(store_->CreatePrincipal({bad, PrincipalKind::kUser, "x", ""}).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(store_->CreatePrincipal({std::string(129, 'a'), PrincipalKind::kUser, "", ""})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  auto device_without_cert = store_->CreatePrincipal({"gw1", PrincipalKind::kDevice, "GW", ""});
  EXPECT_EQ(device_without_cert.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(device_without_cert.status().message(), HasSubstr("cert_subject"));
  EXPECT_EQ(store_->CreatePrincipal({"u", PrincipalKind::kUser, "U", "CN=u"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreatePrincipal({"u", PrincipalKind::kUser, "bad\nname", ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListPrincipals()->empty());
}

TEST_F(RegistryStoreTest, DevicesByCertificateSubject) {
  auto gw = store_->CreatePrincipal(
      {"edge-lyon-gw1", PrincipalKind::kDevice, "Lyon gateway 1", "edge-lyon-gw1.weft.local"});
  ASSERT_TRUE(gw.ok()) << gw.status().ToString();
  auto found = store_->PrincipalByCertSubject("edge-lyon-gw1.weft.local");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->id, "edge-lyon-gw1");
  EXPECT_EQ(found->kind, PrincipalKind::kDevice);
  EXPECT_EQ(store_->PrincipalByCertSubject("other").status().code(), StatusCode::kNotFound);

  auto same_cert = store_->CreatePrincipal(
      {"edge-lyon-gw2", PrincipalKind::kDevice, "dup", "edge-lyon-gw1.weft.local"});
  EXPECT_EQ(same_cert.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(same_cert.status().message(), HasSubstr("certificate subject"));

  // Devices do not get API tokens.
  auto token = store_->IssueToken("edge-lyon-gw1", std::nullopt);
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(token.status().message(), HasSubstr("client certificate"));
}

TEST_F(RegistryStoreTest, GrantsAddListRemove) {
  MakeUser("ana");
  clock_.Advance(std::chrono::seconds(3));
  auto g1 = store_->AddGrant({"ana", Role::kViewer, "lyon", std::nullopt});
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();
  EXPECT_GT(g1->id, 0);
  EXPECT_EQ(g1->created_at, kStart + std::chrono::seconds(3));
  auto g2 =
      store_->AddGrant({"ana", Role::kViewer, "lyon", TagCondition{"sensitivity", "restricted"}});
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  auto g3 = store_->AddGrant({"ana", Role::kOtEngineer, "lyon/press/l2", std::nullopt});
  ASSERT_TRUE(g3.ok());

  auto dup = store_->AddGrant({"ana", Role::kViewer, "lyon", std::nullopt});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("viewer on 'lyon'"));

  EXPECT_EQ(store_->AddGrant({"ana", Role::kViewer, "lyon//x", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddGrant({"ana", Role::kViewer, "", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddGrant({"ana", Role::kViewer, "*", TagCondition{"", "x"}}).status().code(),
            StatusCode::kInvalidArgument);

  auto grants = store_->GrantsOf("ana");
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 3u);
  EXPECT_EQ((*grants)[0].id, g1->id);
  EXPECT_FALSE((*grants)[0].tag.has_value());
  ASSERT_TRUE((*grants)[1].tag.has_value());
  EXPECT_EQ(FormatTagCondition(*(*grants)[1].tag), "sensitivity=restricted");
  EXPECT_EQ((*grants)[2].role, Role::kOtEngineer);
  EXPECT_EQ((*grants)[2].scope, "lyon/press/l2");

  // The stored grants drive Authorize.
  Decision d = Authorize(*grants, false, Permission::kWriteControl, {"lyon/press/l2/m1", {}});
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_FALSE(Authorize(*grants, false, Permission::kWriteControl, {"lyon/press/l3", {}}).allowed);

  ASSERT_TRUE(store_->RemoveGrant(g3->id).ok());
  EXPECT_EQ(store_->RemoveGrant(g3->id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GrantsOf("ana")->size(), 2u);
}

TEST_F(RegistryStoreTest, ReopenKeepsData) {
  MakeUser("ana");
  ASSERT_TRUE(store_->AddGrant({"ana", Role::kDataScientist, "*", std::nullopt}).ok());
  auto token = store_->IssueToken("ana", std::chrono::hours(1));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(store_->CreatePrincipal({"gw", PrincipalKind::kDevice, "GW", "CN-gw"}).ok());
  Reopen();
  EXPECT_EQ(store_->GetPrincipal("ana")->display_name, "User ana");
  ASSERT_EQ(store_->GrantsOf("ana")->size(), 1u);
  EXPECT_EQ(store_->GrantsOf("ana")->front().role, Role::kDataScientist);
  auto who = store_->Authenticate(token->plaintext);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->id, "ana");
  EXPECT_EQ(store_->PrincipalByCertSubject("CN-gw")->id, "gw");
}

TEST_F(RegistryStoreTest, TokenIssueAuthenticateRevoke) {
  MakeUser("ana");
  auto issued = store_->IssueToken("ana", std::nullopt);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const std::string plaintext = issued->plaintext;
  EXPECT_TRUE(IsWellFormedToken(plaintext));
  EXPECT_EQ(issued->record.id, plaintext.substr(0, kTokenIdLength));
  EXPECT_EQ(issued->record.sha256_hex, HashToken(plaintext).value());
  EXPECT_FALSE(issued->record.expires_at.has_value());
  EXPECT_EQ(issued->record.created_at, kStart);

  auto who = store_->Authenticate(plaintext);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->id, "ana");
  auto tokens = store_->TokensOf("ana");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().last_used_at, kStart);

  // last_used_at is written at most once a minute.
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(store_->Authenticate(plaintext).ok());
  EXPECT_EQ(store_->TokensOf("ana")->front().last_used_at, kStart);
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(store_->Authenticate(plaintext).ok());
  EXPECT_EQ(store_->TokensOf("ana")->front().last_used_at, clock_.Now());

  // Revoking by the whole token is refused without echoing it.
  Status by_plaintext = store_->RevokeToken(plaintext);
  EXPECT_EQ(by_plaintext.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(by_plaintext.message(), Not(HasSubstr(plaintext.substr(5))));
  EXPECT_EQ(store_->RevokeToken("weft_AAAAAAAA").code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->RevokeToken(issued->record.id).ok());
  ASSERT_TRUE(store_->RevokeToken(issued->record.id).ok());  // idempotent
  auto revoked = store_->Authenticate(plaintext);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(revoked.status().message(), HasSubstr("revoked"));
  EXPECT_THAT(revoked.status().message(), HasSubstr(issued->record.id));
  EXPECT_THAT(revoked.status().message(), Not(HasSubstr(plaintext)));
  EXPECT_TRUE(store_->TokensOf("ana")->front().revoked);
}

TEST_F(RegistryStoreTest, TokenExpiresWithTheInjectedClock) {
  MakeUser("ana");
  auto issued = store_->IssueToken("ana", std::chrono::hours(1));
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(issued->record.expires_at.has_value());
  EXPECT_EQ(*issued->record.expires_at, kStart + std::chrono::hours(1));

  clock_.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(store_->Authenticate(issued->plaintext).ok());
  clock_.Advance(std::chrono::minutes(1));
  auto expired = store_->Authenticate(issued->plaintext);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired at"));
  EXPECT_THAT(expired.status().message(), Not(HasSubstr(issued->plaintext)));

  EXPECT_EQ(store_->IssueToken("ana", Micros(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->IssueToken("ana", Micros(-5)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryStoreTest, UnknownMalformedAndDisabledAreDistinct) {
  MakeUser("ana");
  auto issued = store_->IssueToken("ana", std::nullopt);
  ASSERT_TRUE(issued.ok());

  auto fresh = GenerateToken();
  ASSERT_TRUE(fresh.ok());
  auto unknown = store_->Authenticate(fresh->plaintext);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().message(), "unknown API token");

  // Same format, one character changed: unknown, not a near match.
  std::string tampered = issued->plaintext;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(store_->Authenticate(tampered).status().message(), "unknown API token");

  for (const std::string& bad : {std::string(), std::string("Bearer x"), issued->plaintext + "x",
                                 "weft_" + std::string(43, '+')}) {
    auto malformed = store_->Authenticate(bad);
    EXPECT_EQ(malformed.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(malformed.status().message(), HasSubstr("malformed"));
    EXPECT_THAT(malformed.status().message(), Not(HasSubstr(issued->plaintext)));
  }

  ASSERT_TRUE(store_->DisablePrincipal("ana").ok());
  auto disabled = store_->Authenticate(issued->plaintext);
  EXPECT_EQ(disabled.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(disabled.status().message(), HasSubstr("disabled"));
  EXPECT_EQ(store_->IssueToken("ana", std::nullopt).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RegistryStoreTest, OnlyTheHashIsStored) {
  MakeUser("ana");
  std::vector<IssuedToken> issued;
  for (int i = 0; i < 3; ++i) {
    auto t = store_->IssueToken("ana", std::chrono::hours(24));
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(store_->Authenticate(t->plaintext).ok());
    issued.push_back(std::move(t).value());
  }
  // The rows hold the hash and the public id.
  for (const IssuedToken& t : issued) {
    EXPECT_EQ(
        RawQuery(db_path_, "SELECT sha256_hex FROM api_tokens WHERE id = '" + t.record.id + "'"),
        HashToken(t.plaintext).value());
  }
  // No file of the database (main, WAL, shared memory) holds a token's secret part, before or
  // after a checkpoint.
  auto assert_absent = [&] {
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm"}) bytes += ReadAll(db_path_ + suffix);
    ASSERT_FALSE(bytes.empty());
    for (const IssuedToken& t : issued) {
      EXPECT_EQ(bytes.find(t.plaintext), std::string::npos);
      EXPECT_EQ(bytes.find(t.plaintext.substr(kTokenIdLength)), std::string::npos);
      EXPECT_NE(bytes.find(t.record.sha256_hex), std::string::npos);
    }
  };
  assert_absent();
  store_.reset();  // closing checkpoints the WAL into the main file
  assert_absent();
}

TEST_F(RegistryStoreTest, ConcurrentUseIsSafe) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "u" + std::to_string(t) + "-" + std::to_string(i);
        if (!store_->CreatePrincipal({id, PrincipalKind::kUser, id, ""}).ok()) ++failures;
        auto token = store_->IssueToken(id, std::nullopt);
        if (!token.ok()) {
          ++failures;
          continue;
        }
        auto who = store_->Authenticate(token->plaintext);
        if (!who.ok() || who->id != id) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->ListPrincipals()->size(), static_cast<size_t>(kThreads) * kPerThread);
}

TEST_F(RegistryStoreTest, TwoStoresOnOneFileSeeEachOther) {
  auto second = SqliteRegistryStore::Open(db_path_, &clock_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  MakeUser("ana");
  auto token = store_->IssueToken("ana", std::nullopt);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ((*second)->Authenticate(token->plaintext)->id, "ana");
  ASSERT_TRUE((*second)->RevokeToken(token->record.id).ok());
  EXPECT_EQ(store_->Authenticate(token->plaintext).status().code(), StatusCode::kUnauthenticated);
}

TEST(Tokens, FormatHashAndCompare) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto t = GenerateToken();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->plaintext.size(), kTokenLength);
    EXPECT_EQ(t->plaintext.rfind("weft_", 0), 0u);
    EXPECT_TRUE(IsWellFormedToken(t->plaintext)) << t->plaintext;
    EXPECT_EQ(t->id, TokenId(t->plaintext));
    EXPECT_EQ(t->id.size(), kTokenIdLength);
    EXPECT_EQ(t->sha256_hex.size(), 64u);
    EXPECT_TRUE(VerifyToken(t->plaintext, t->sha256_hex));
    EXPECT_FALSE(VerifyToken(t->plaintext + "x", t->sha256_hex));
    seen.insert(t->plaintext);
  }
  EXPECT_EQ(seen.size(), 50u);
  // FIPS 180-2 test vector.
  EXPECT_EQ(HashToken("abc").value(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(IsWellFormedToken("weft_" + std::string(42, 'a')));
  EXPECT_FALSE(IsWellFormedToken("wef__" + std::string(43, 'a')));
  EXPECT_FALSE(IsWellFormedToken("weft_" + std::string(42, 'a') + "="));
}

}  // namespace
}  // namespace weft::registry

// ApiServer over real TLS (a TestPki), a real SQLite registry, a real audit log and a small
// telemetry lake with two lines of the example plant. The RBAC matrix below is written from the
// role table in src/core/registry/README.md, independently of access.cc.
#include "core/api/api_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "common/time_format.h"
#include "control/core/grant.h"
#include "core/api/control_routes.h"
#include "core/api/work_orders.h"
#include "core/audit/audit_log.h"
#include "core/fleet/fleet_routes.h"
#include "core/governance/governance_routes.h"
#include "core/ingest/tables.h"
#include "core/kpi/kpi_routes.h"
#include "core/ota/ota_routes.h"
#include "core/registry/sqlite_registry_store.h"
#include "core/registry/tokens.h"
#include "core/web/web_routes.h"
#include "mlops/registry/model_registry.h"
#include "testing/test_env.h"

namespace weft::core::api {
namespace {

using json = nlohmann::json;
using registry::Role;

constexpr char kL1Asset[] = "l1-mo-01";  // lyon/machining/l1-machining, a motor
constexpr char kL2Asset[] = "l2-pr-01";  // lyon/assembly/l2-assembly, a motor
constexpr char kL1Scope[] = "lyon/machining/l1-machining";

std::string SourceDir() {
  const char* env = std::getenv("WEFT_SOURCE_DIR");
  return env != nullptr ? env : WEFT_TEST_SOURCE_DIR;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Tags the test's catalog stand-in returns (asset, signal) -> tags; empty for the matrix.
std::mutex g_tags_mu;
std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> g_tags;

std::map<std::string, std::string> LookupTags(std::string_view asset, std::string_view signal) {
  std::lock_guard<std::mutex> lock(g_tags_mu);
  auto it = g_tags.find({std::string(asset), std::string(signal)});
  return it == g_tags.end() ? std::map<std::string, std::string>{} : it->second;
}

// A catalog of two signals, one per line; the l2 one restricted.
Result<std::vector<CatalogSignal>> SearchCatalog(std::string_view query) {
  std::vector<CatalogSignal> all = {
      {"lyon", "machining", "l1-machining", kL1Asset, "current", {{"unit", "A"}}},
      {"lyon",
       "assembly",
       "l2-assembly",
       kL2Asset,
       "power",
       {{"unit", "kW"}, {"sensitivity", "restricted"}}}};
  if (query.empty()) return all;
  if (query.find('=') == std::string_view::npos) return InvalidArgumentError("bad tag query");
  const std::string key(query.substr(0, query.find('='))), value(query.substr(query.find('=') + 1));
  std::vector<CatalogSignal> out;
  for (const CatalogSignal& s : all) {
    auto it = s.tags.find(key);
    if (it != s.tags.end() && it->second == value) out.push_back(s);
  }
  return out;
}

// The edge commands the control service sent: (edge, command, payload).
std::mutex g_commands_mu;
std::vector<std::tuple<std::string, std::string, std::string>> g_commands;

Status RecordCommand(std::string_view edge, std::string_view name, std::string_view payload) {
  std::lock_guard<std::mutex> lock(g_commands_mu);
  g_commands.emplace_back(edge, name, payload);
  return Status::Ok();
}

std::vector<std::tuple<std::string, std::string, std::string>> TakeCommands() {
  std::lock_guard<std::mutex> lock(g_commands_mu);
  return std::exchange(g_commands, {});
}

// The test's catalog stand-in for asset locations: the two motors of the lake.
std::optional<AssetLocation> LocateAsset(std::string_view asset) {
  if (asset == kL1Asset) return AssetLocation{"lyon", "machining", "l1-machining"};
  if (asset == kL2Asset) return AssetLocation{"lyon", "assembly", "l2-assembly"};
  return std::nullopt;
}

struct Resp {
  int status = 0;
  std::string body;
  httplib::Headers headers;
};

class ApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = new weft::testing::TempDir(std::move(dir).value());
    const std::string d = dir_->path();
    std::filesystem::create_directories(d + "/pki");
    auto pki = weft::testing::TestPki::Make(d + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = new weft::testing::TestPki(*pki);

    std::filesystem::create_directories(d + "/state");
    auto reg = registry::SqliteRegistryStore::Open(d + "/state/registry.db", &clock());
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value().release();
    auto log = audit::AuditLog::Open(d + "/state/audit", &clock());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(log).value().release();

    // The lake: three samples a second apart for one motor on each of two lines.
    ASSERT_TRUE(EnsureTables(d + "/lake", &clock()).ok());
    auto table = OpenTable(d + "/lake", LakeTableId::kTelemetry, &clock());
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    lake::RecordBatch b(LakeTableSchema(LakeTableId::kTelemetry));
    auto col = [&](const char* name) -> lake::Column& {
      return b.column(static_cast<size_t>(b.Find(name)));
    };
    const int64_t t0 = *ParseTimestampMicros("2026-11-25T10:00:00Z");
    for (auto [area, line, asset] : {std::tuple{"machining", "l1-machining", kL1Asset},
                                     std::tuple{"assembly", "l2-assembly", kL2Asset}}) {
      for (int k = 0; k < 3; ++k) {
        for (const char* signal : {"winding_temp", "current"}) {
          const int64_t ts = t0 + k * 1'000'000;
          col("date").AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
          col("ts").AppendInt(ts);
          col("edge").AppendString("edge-test");
          col("stream").AppendString("normal");
          col("seq").AppendInt(1);
          col("site").AppendString("lyon");
          col("area").AppendString(area);
          col("line").AppendString(line);
          col("asset").AppendString(asset);
          col("asset_type").AppendString("motor");
          col("signal").AppendString(signal);
          col("unit").AppendString(std::string(signal) == "current" ? "A" : "degC");
          col("quantity").AppendNull();
          col("value").AppendDouble(50.0 + k);
          col("quality").AppendInt(0);
        }
      }
    }
    auto appended = (*table)->Append(b);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();

    // The model registry: "matrix" (two validated versions) for the RBAC matrix.
    auto models = mlops::ModelRegistry::Open(d + "/state", &clock());
    ASSERT_TRUE(models.ok()) << models.status().ToString();
    models_ = std::move(models).value().release();
    for (const char* bytes : {"matrix v1", "matrix v2"}) {
      ASSERT_TRUE(models_->Register(Candidate("matrix", bytes, true)).ok());
    }

    ApiOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_file = pki_->server_cert;
    o.key_file = pki_->server_key;
    o.registry = registry_;
    o.audit = audit_;
    o.clock = &clock();
    o.views_file = SourceDir() + "/examples/views.yaml";
    o.lake_root = d + "/lake";
    o.state_dir = d + "/state";
    o.ingest_stats = [] { return json{{"messages", 7}}; };
    o.tag_lookup = LookupTags;
    o.catalog_search = SearchCatalog;
    o.models = models_;
    auto control = ControlService::Open(
        {.state_dir = d + "/state", .clock = &clock(), .send_command = RecordCommand});
    ASSERT_TRUE(control.ok()) << control.status().ToString();
    control_ = std::move(control).value().release();
    o.control = control_;
    o.asset_location = LocateAsset;
    o.modules = TestModule();
    auto api = ApiServer::Start(std::move(o));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(api).value().release();
  }

  static void TearDownTestSuite() {
    delete api_;
    delete control_;
    delete models_;
    delete audit_;
    delete registry_;
    delete pki_;
    delete dir_;
  }

  void SetUp() override { ASSERT_NE(api_, nullptr) << "the suite's setup failed"; }

  static SystemClock& clock() { return SystemClock::Default(); }

  static Resp Call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "") {
    httplib::SSLClient cli("127.0.0.1", api_->port());
    cli.set_ca_cert_path(pki_->ca_cert.c_str());
    cli.enable_server_certificate_verification(true);
    cli.set_read_timeout(10, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "GET"    ? cli.Get(path.c_str(), h)
                        : method == "POST" ? cli.Post(path.c_str(), h, body, "application/json")
                                           : cli.Delete(path.c_str(), h);
    if (!r) return Resp{-static_cast<int>(r.error()), "", {}};
    return Resp{r->status, r->body, r->headers};
  }

  static std::string AdminToken() {
    return ReadAll(dir_->path() + "/state/admin.token").substr(0, registry::kTokenLength);
  }

  //! A principal with one grant and a token for it.
  static std::string MakePrincipal(const std::string& id, Role role, const std::string& scope) {
    EXPECT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
    EXPECT_TRUE(registry_->AddGrant({id, role, scope, std::nullopt}).ok());
    auto t = registry_->IssueToken(id, std::nullopt);
    EXPECT_TRUE(t.ok());
    return t->plaintext;
  }

  //! Every audit record, parsed.
  static std::vector<json> AuditRecords() {
    std::vector<json> out;
    std::istringstream in(ReadAll(audit_->path()));
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }

  //! A route module as a subsystem would add one: an audited global mutation that echoes its
  //! path parameter, and a public route with a larger body limit that reports the body's size.
  static std::vector<ModuleRoute> TestModule() {
    ModuleRoute echo{"POST",
                     "/api/v1/test/things/{id}/poke",
                     Access::kGlobal,
                     registry::Permission::kManageFleet,
                     true,
                     true,
                     true,
                     "test.poke",
                     [](RouteCall& c) -> Result<Reply> {
                       WEFT_RETURN_IF_ERROR(OnlyFields(c.body, {"note"}));
                       c.outcome = {{"id", c.params.at(0)}};
                       return JsonReply(200, json{{"id", c.params.at(0)}, {"by", c.principal.id}});
                     }};
    ModuleRoute upload{
        "POST",
        "/api/v1/test/upload",
        Access::kPublic,
        registry::Permission::kAdmin,
        false,
        false,
        false,
        "test.upload",
        [](RouteCall& c) -> Result<Reply> {
          return JsonReply(200, json{{"bytes", c.req.body.size()}, {"resource", c.resource}});
        }};
    upload.max_body_bytes = size_t{1} << 20;
    return {echo, upload};
  }

  static mlops::NewModelVersion Candidate(const std::string& name, const std::string& bytes,
                                          bool passed) {
    mlops::NewModelVersion v;
    v.name = name;
    v.artifact = bytes;
    v.lineage_json = R"({"tables": {"telemetry": 7}, "code_version": "abc"})";
    v.metrics_json = R"({"recall": 0.9})";
    v.validation_json = passed ? R"({"results": []})"
                               : R"({"results": [{"name": "risk_monotone", "status": "failed"}]})";
    v.validation_passed = passed;
    v.created_by = "trainer";
    return v;
  }

  static weft::testing::TempDir* dir_;
  static weft::testing::TestPki* pki_;
  static mlops::ModelRegistry* models_;
  static ControlService* control_;
  static registry::SqliteRegistryStore* registry_;
  static audit::AuditLog* audit_;
  static ApiServer* api_;
};

weft::testing::TempDir* ApiServerTest::dir_ = nullptr;
weft::testing::TestPki* ApiServerTest::pki_ = nullptr;
registry::SqliteRegistryStore* ApiServerTest::registry_ = nullptr;
mlops::ModelRegistry* ApiServerTest::models_ = nullptr;
ControlService* ApiServerTest::control_ = nullptr;
audit::AuditLog* ApiServerTest::audit_ = nullptr;
ApiServer* ApiServerTest::api_ = nullptr;

//! The assets of a view result (JSON Lines or CSV with a header; asset is the 2nd column).
std::multiset<std::string> AssetsOf(const std::string& body, bool csv) {
  std::multiset<std::string> out;
  std::istringstream in(body);
  std::string line;
  if (csv) std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (csv) {
      const size_t a = line.find(',');
      out.insert(line.substr(a + 1, line.find(',', a + 1) - a - 1));
    } else {
      out.insert(json::parse(line).at("asset").get<std::string>());
    }
  }
  return out;
}

TEST_F(ApiServerTest, BootstrapWroteAnAdminTokenOnceWithMode0600) {
  const std::string file = dir_->path() + "/state/admin.token";
  EXPECT_EQ(api_->bootstrap_token_file(), file);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Resp r = Call("GET", "/api/v1/whoami", AdminToken());
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["principal"]["id"], "admin");
  EXPECT_EQ(j["grants"][0]["role"], "admin");
  EXPECT_EQ(j["grants"][0]["scope"], "*");
  // The token is in no log or audit record.
  EXPECT_EQ(ReadAll(audit_->path()).find(AdminToken()), std::string::npos);
}

// The RBAC matrix: every route x every role x (grant on one line | grant on "*").
TEST_F(ApiServerTest, RbacMatrixEveryRouteRoleAndScope) {
  const std::vector<Role> roles = {Role::kViewer,     Role::kDataScientist, Role::kOtEngineer,
                                   Role::kOpsManager, Role::kSecurityLead,  Role::kDevice,
                                   Role::kAdmin};
  // Columns: viewer, data_scientist, ot_engineer, ops_manager, security_lead, device, admin.
  // Written from the README's role table: manage_principals and read_audit are global (only
  // grants on "*" cover them); read_catalog / query_view / export_data are needed on some scope.
  struct Case {
    const char* name;
    const char* method;
    const char* route;  // the template, for the coverage check
    std::array<int, 7> line_scoped;
    std::array<int, 7> star_scoped;
  };
  const std::vector<Case> cases = {
      {"health",
       "GET",
       "/api/v1/health",
       {200, 200, 200, 200, 200, 200, 200},
       {200, 200, 200, 200, 200, 200, 200}},
      {"whoami",
       "GET",
       "/api/v1/whoami",
       {200, 200, 200, 200, 200, 200, 200},
       {200, 200, 200, 200, 200, 200, 200}},
      {"list principals",
       "GET",
       "/api/v1/principals",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"create principal",
       "POST",
       "/api/v1/principals",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 201, 403, 201}},
      {"issue token",
       "POST",
       "/api/v1/principals/{id}/tokens",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 201, 403, 201}},
      {"disable principal",
       "POST",
       "/api/v1/principals/{id}/disable",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"revoke token",
       "DELETE",
       "/api/v1/tokens/{token_id}",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"add grant",
       "POST",
       "/api/v1/grants",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 201, 403, 201}},
      {"remove grant",
       "DELETE",
       "/api/v1/grants/{id}",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"list views",
       "GET",
       "/api/v1/views",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"query in scope (jsonl)",
       "GET",
       "/api/v1/views/{name}/query",
       {200, 200, 200, 200, 403, 403, 200},
       {200, 200, 200, 200, 403, 403, 200}},
      {"query out of scope (jsonl)",
       "GET",
       "/api/v1/views/{name}/query",
       {200, 200, 200, 200, 403, 403, 200},
       {200, 200, 200, 200, 403, 403, 200}},
      {"export in scope (csv)",
       "GET",
       "/api/v1/views/{name}/query",
       {403, 200, 200, 200, 403, 403, 200},
       {403, 200, 200, 200, 403, 403, 200}},
      {"export out of scope (parquet)",
       "GET",
       "/api/v1/views/{name}/query",
       {403, 200, 200, 200, 403, 403, 200},
       {403, 200, 200, 200, 403, 403, 200}},
      {"read audit",
       "GET",
       "/api/v1/audit",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"verify audit",
       "GET",
       "/api/v1/audit/verify",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 403, 403, 200, 403, 200}},
      {"ingest status",
       "GET",
       "/api/v1/ingest",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"catalog signals",
       "GET",
       "/api/v1/catalog/signals",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      // Models: reads need read_catalog on some scope; approve_model and deploy_model are
      // global (an alias reaches every edge running the model): grants on "*" only.
      {"list models",
       "GET",
       "/api/v1/models",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"get model",
       "GET",
       "/api/v1/models/{name}",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"get model version",
       "GET",
       "/api/v1/models/{name}/versions/{version}",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"get model artifact",
       "GET",
       "/api/v1/models/{name}/versions/{version}/artifact",
       {200, 200, 200, 200, 200, 403, 200},
       {200, 200, 200, 200, 200, 403, 200}},
      {"approve model",
       "POST",
       "/api/v1/models/{name}/versions/{version}/approve",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 201, 201, 403, 403, 403, 201}},
      {"set model alias",
       "POST",
       "/api/v1/models/{name}/aliases/{alias}",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 200, 403, 403, 403, 200}},
      {"roll back model alias",
       "POST",
       "/api/v1/models/{name}/aliases/{alias}/rollback",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 200, 403, 403, 403, 200}},
      // Work orders: recorded where record_work_order reaches the asset (l1, in every scope
      // here), listed with read_telemetry (rows filtered by place).
      {"record work order",
       "POST",
       "/api/v1/workorders",
       {403, 403, 201, 201, 403, 403, 201},
       {403, 403, 201, 201, 403, 403, 201}},
      {"list work orders",
       "GET",
       "/api/v1/workorders",
       {200, 200, 200, 200, 403, 403, 200},
       {200, 200, 200, 200, 403, 403, 200}},
      // Control: the public key for any authenticated principal; approvals (approve_control,
      // in a role held on "*": ops_manager or ot_engineer, so not admin), mode changes
      // (write_control) and proposal approvals (approve_control) are global.
      {"control grant key",
       "GET",
       "/api/v1/control/grant-key",
       {200, 200, 200, 200, 200, 200, 200},
       {200, 200, 200, 200, 200, 200, 200}},
      {"control approval",
       "POST",
       "/api/v1/control/loops/{loop}/approvals",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 201, 201, 403, 403, 403}},
      {"control mode (shadow)",
       "POST",
       "/api/v1/control/loops/{loop}/mode",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 200, 403, 403, 403, 200}},
      {"control proposal approval",
       "POST",
       "/api/v1/control/loops/{loop}/proposals/{id}/approve",
       {403, 403, 403, 403, 403, 403, 403},
       {403, 403, 200, 200, 403, 403, 200}},
  };
  std::set<ApiRoute> covered;
  for (const Case& c : cases) covered.insert({c.method, c.route});
  const std::vector<ApiRoute> routes = ApiServer::Routes();
  EXPECT_EQ(covered, std::set<ApiRoute>(routes.begin(), routes.end()))
      << "every registered route needs rows in the matrix";

  const std::string query =
      "/api/v1/views/motor_health/query?from=2026-11-25T10:00:00Z"
      "&to=2026-11-25T10:00:10Z";
  int n = 0;
  for (int star = 0; star < 2; ++star) {
    for (size_t r = 0; r < roles.size(); ++r) {
      const std::string role(registry::RoleName(roles[r]));
      const std::string who = "m-" + role + (star ? "-star" : "-line");
      const std::string token = MakePrincipal(who, roles[r], star ? "*" : kL1Scope);
      for (const Case& c : cases) {
        const std::string what = std::string(c.name) + " as " + who;
        const std::string u = std::to_string(++n);
        // Fresh targets, made through the registry, so that every allowed call succeeds.
        ASSERT_TRUE(
            registry_->CreatePrincipal({"t-" + u, registry::PrincipalKind::kUser, "", ""}).ok());
        auto target_token = registry_->IssueToken("t-" + u, std::nullopt);
        auto target_grant = registry_->AddGrant({"t-" + u, Role::kViewer, "brno", std::nullopt});
        ASSERT_TRUE(target_token.ok() && target_grant.ok());
        std::string path = c.route, body;
        const std::string name = c.name;
        if (name == "create principal") {
          body = json{{"id", "new-" + u}, {"kind", "service_account"}}.dump();
        } else if (name == "issue token") {
          path = "/api/v1/principals/t-" + u + "/tokens";
          body = R"({"ttl_s": 3600})";
        } else if (name == "disable principal") {
          path = "/api/v1/principals/t-" + u + "/disable";
        } else if (name == "revoke token") {
          path = "/api/v1/tokens/" + target_token->record.id;
        } else if (name == "add grant") {
          body = json{{"principal_id", "t-" + u}, {"role", "viewer"}, {"scope", "lyon"}}.dump();
        } else if (name == "remove grant") {
          path = "/api/v1/grants/" + std::to_string(target_grant->id);
        } else if (name == "get model") {
          path = "/api/v1/models/matrix";
        } else if (name == "get model version") {
          path = "/api/v1/models/matrix/versions/2";
        } else if (name == "get model artifact") {
          path = "/api/v1/models/matrix/versions/1/artifact";
        } else if (name == "approve model") {
          path = "/api/v1/models/matrix/versions/1/approve";
          body = R"({"comment": "matrix"})";
        } else if (name == "set model alias") {
          path = "/api/v1/models/matrix/aliases/staging";
          body = json{{"version", star ? "1" : "2"}}.dump();
        } else if (name == "roll back model alias") {
          // Two versions on the alias's stack, so that an allowed rollback succeeds.
          const mlops::Actor setup{"setup", {"ot_engineer"}};
          ASSERT_TRUE(models_->Promote("matrix", "1", "rb", setup).ok());
          ASSERT_TRUE(models_->Promote("matrix", "2", "rb", setup).ok());
          path = "/api/v1/models/matrix/aliases/rb/rollback";
        } else if (name == "record work order") {
          body = json{
              {"asset", kL1Asset},
              {"event_ts", "2026-11-25T10:00:01Z"},
              {"outcome", "false_alarm"},
              {"minutes",
               5}}.dump();
        } else if (name == "control approval") {
          path = "/api/v1/control/loops/matrix-loop/approvals";
          const bool approver = roles[r] == Role::kOpsManager || roles[r] == Role::kOtEngineer;
          body = json{{"edge", "edge-matrix"},
                      {"mode", "autonomous"},
                      {"role", approver ? role : std::string("ot_engineer")}}
                     .dump();
        } else if (name == "control mode (shadow)") {
          path = "/api/v1/control/loops/matrix-loop/mode";
          body = R"({"edge": "edge-matrix", "mode": "shadow"})";
        } else if (name == "control proposal approval") {
          path = "/api/v1/control/loops/matrix-loop/proposals/p-" + u + "/approve";
          body = R"({"edge": "edge-matrix"})";
        } else if (name.find("in scope") != std::string::npos) {
          path = query + "&asset=" + kL1Asset +
                 (name.find("csv") != std::string::npos ? "&format=csv" : "");
        } else if (name.find("out of scope") != std::string::npos) {
          path = query + "&asset=" + kL2Asset +
                 (name.find("parquet") != std::string::npos ? "&format=parquet" : "");
        }
        const Resp resp = Call(c.method, path, token, body);
        const int want = star ? c.star_scoped[r] : c.line_scoped[r];
        ASSERT_EQ(resp.status, want) << what << ": " << resp.body;
        if (want == 403) {
          EXPECT_NE(json::parse(resp.body)["error"]["message"].get<std::string>().find("grant"),
                    std::string::npos)
              << what << ": the reason should name the grants: " << resp.body;
        }
        // Rows: only those in scope.
        if (want == 200 && name.find("jsonl") != std::string::npos) {
          const std::multiset<std::string> assets = AssetsOf(resp.body, false);
          const bool in = name.find("in scope") != std::string::npos;
          if (in || star) {
            EXPECT_EQ(assets.size(), 3u) << what;
            EXPECT_EQ(assets.count(in ? kL1Asset : kL2Asset), 3u) << what;
          } else {
            EXPECT_TRUE(assets.empty()) << what << ": out-of-scope rows leaked: " << resp.body;
          }
        }
        if (want == 200 && name.find("csv") != std::string::npos) {
          EXPECT_EQ(AssetsOf(resp.body, true).count(kL1Asset), 3u) << what;
        }
        if (want == 200 && name.find("parquet") != std::string::npos) {
          EXPECT_EQ(resp.body.rfind("PAR1", 0), 0u) << what;
          auto rows = resp.headers.find("X-Weft-Rows");
          ASSERT_NE(rows, resp.headers.end()) << what;
          EXPECT_EQ(rows->second, star ? "3" : "0") << what << ": out-of-scope rows leaked";
        }
      }
      // Without an asset, a line-scoped query returns its own line only.
      if (!star && registry::RoleHasPermission(roles[r], registry::Permission::kQueryView)) {
        const Resp all = Call("GET", query, token);
        ASSERT_EQ(all.status, 200) << all.body;
        const std::multiset<std::string> assets = AssetsOf(all.body, false);
        EXPECT_EQ(assets.count(kL1Asset), 3u) << who;
        EXPECT_EQ(assets.count(kL2Asset), 0u) << who << ": " << all.body;
      }
    }
  }
  const auto report = audit::AuditLog::Verify(dir_->path() + "/state/audit");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->ToString();
}

// httplib would answer "br" with brotli at quality 11 (seconds for a few MB); the API answers
// with gzip, or uncompressed for a client that takes only brotli.
TEST_F(ApiServerTest, AnswersAreGzipNeverBrotli) {
  auto get = [](const std::string& accept) {
    httplib::SSLClient cli("127.0.0.1", api_->port());
    cli.set_ca_cert_path(pki_->ca_cert.c_str());
    cli.enable_server_certificate_verification(true);
    httplib::Headers h{{"Authorization", "Bearer " + AdminToken()}, {"Accept-Encoding", accept}};
    return cli.Get("/api/v1/principals", h);
  };
  httplib::Result both = get("gzip, deflate, br");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 200);
  EXPECT_EQ(both->get_header_value("Content-Encoding"), "gzip");
  EXPECT_TRUE(json::parse(both->body).contains("principals")) << "decompressed by the client";
  httplib::Result br = get("br");
  ASSERT_TRUE(br);
  EXPECT_EQ(br->status, 200);
  EXPECT_EQ(br->get_header_value("Content-Encoding"), "");
  EXPECT_TRUE(json::parse(br->body).contains("principals"));
}

TEST_F(ApiServerTest, AuthenticationFailuresAre401WithoutEchoingTheToken) {
  Resp none = Call("GET", "/api/v1/whoami", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["error"]["code"], "unauthenticated");
  EXPECT_NE(none.headers.find("WWW-Authenticate"), none.headers.end());

  auto forged = registry::GenerateToken();
  ASSERT_TRUE(forged.ok());
  Resp bad = Call("GET", "/api/v1/whoami", forged->plaintext);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body.find(forged->plaintext), std::string::npos) << bad.body;
  EXPECT_EQ(Call("GET", "/api/v1/views", "not-a-token").status, 401);
  // A route that would otherwise be public data still needs the token.
  EXPECT_EQ(Call("GET", "/api/v1/views", "").status, 401);

  // A disabled principal's token stops working at once.
  const std::string token = MakePrincipal("to-disable", Role::kViewer, "*");
  EXPECT_EQ(Call("GET", "/api/v1/whoami", token).status, 200);
  Resp dis = Call("POST", "/api/v1/principals/to-disable/disable", AdminToken());
  ASSERT_EQ(dis.status, 200) << dis.body;
  EXPECT_EQ(json::parse(dis.body)["disabled"], true);
  Resp after = Call("GET", "/api/v1/whoami", token);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.body.find(token), std::string::npos);
  EXPECT_GE(api_->metrics().unauthenticated, 5u);
  // Self-disable is refused.
  EXPECT_EQ(Call("POST", "/api/v1/principals/admin/disable", AdminToken()).status, 409);
}

TEST_F(ApiServerTest, MalformedOversizeAndInvalidBodies) {
  const std::string admin = AdminToken();
  const uint64_t bad_before = api_->metrics().bad_json;
  Resp r = Call("POST", "/api/v1/principals", admin, R"({"id": "x",)");
  EXPECT_EQ(r.status, 400);
  const std::string msg = json::parse(r.body)["error"]["message"];
  EXPECT_NE(msg.find("malformed JSON body"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column"), std::string::npos) << msg;
  EXPECT_EQ(Call("POST", "/api/v1/principals", admin, "[1,2]").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/principals", admin, std::string(10000, '[')).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/principals", admin, "").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/principals", admin, "\xff\xfe{").status, 400);
  EXPECT_EQ(api_->metrics().bad_json, bad_before + 5);

  // Valid JSON, invalid content: named.
  Resp unknown = Call("POST", "/api/v1/principals", admin, R"({"id": "y", "roel": "admin"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("unknown field 'roel'"), std::string::npos) << unknown.body;
  Resp type = Call("POST", "/api/v1/principals", admin, R"({"id": 5})");
  EXPECT_EQ(type.status, 400);
  EXPECT_NE(type.body.find("must be a string"), std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v1/grants", admin,
                 R"({"principal_id": "admin", "role": "admn", "scope": "*"})")
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/principals/admin/tokens", admin, R"({"ttl_s": -1})").status, 400);
  EXPECT_EQ(Call("DELETE", "/api/v1/grants/abc", admin).status, 400);
  EXPECT_EQ(Call("DELETE", "/api/v1/grants/999999", admin).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/principals", admin, R"({"id": "admin"})").status, 409);

  // Over the size limit: 413 with a JSON error.
  Resp big = Call("POST", "/api/v1/principals", admin,
                  R"({"id": "big", "display_name": ")" + std::string(100000, 'a') + "\"}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(json::parse(big.body)["error"]["code"], "payload_too_large");
  EXPECT_GE(api_->metrics().payload_too_large, 1u);

  // Unknown routes and bad queries.
  Resp nf = Call("GET", "/api/v1/nope", admin);
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(json::parse(nf.body)["error"]["code"], "not_found");
  EXPECT_EQ(Call("GET", "/api/v1/views/nope/query?from=2026-11-25&to=2026-11-26", admin).status,
            404);
  EXPECT_EQ(
      Call("GET", "/api/v1/views/motor_health/query?from=yesterday&to=2026-11-26", admin).status,
      400);
  EXPECT_EQ(
      Call("GET", "/api/v1/views/motor_health/query?from=2026-11-26&to=2026-11-25", admin).status,
      400);
  EXPECT_EQ(
      Call("GET", "/api/v1/views/motor_health/query?from=2000-01-01&to=2030-01-01", admin).status,
      400);
  EXPECT_EQ(Call("GET", "/api/v1/views/motor_health/query?from=2026-11-25&to=2026-11-26&format=xml",
                 admin)
                .status,
            400);
  EXPECT_EQ(Call("GET", "/api/v1/audit?limit=0", admin).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/audit?after_seq=x", admin).status, 400);
  // A whole token in a URL is refused and never reaches the audit log.
  const std::string token = MakePrincipal("leaky", Role::kViewer, "*");
  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + token, admin).status, 400);
  EXPECT_EQ(ReadAll(audit_->path()).find(token), std::string::npos);
  EXPECT_EQ(api_->metrics().server_errors, 0u);
}

TEST_F(ApiServerTest, MutationsAndDenialsAreAuditedAndTheChainVerifies) {
  const std::string admin = AdminToken();
  const std::string viewer = MakePrincipal("audited-viewer", Role::kViewer, "*");
  const uint64_t before = audit_->last_seq();

  // A denied mutation: one "deny" record with the reason.
  ASSERT_EQ(Call("POST", "/api/v1/grants", viewer,
                 R"({"principal_id": "audited-viewer", "role": "admin", "scope": "*"})")
                .status,
            403);
  // An allowed one: "allow" then "done"; the issued token appears nowhere in the log.
  Resp issued = Call("POST", "/api/v1/principals/audited-viewer/tokens", admin, "");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string plaintext = json::parse(issued.body)["token"];
  EXPECT_EQ(Call("GET", "/api/v1/whoami", plaintext).status, 200);
  // A failed one: "allow" then "error".
  ASSERT_EQ(Call("DELETE", "/api/v1/grants/123456", admin).status, 404);
  // An export: "allow" then "done" with the row count.
  ASSERT_EQ(Call("GET",
                 "/api/v1/views/motor_health/query?from=2026-11-25T10:00:00Z"
                 "&to=2026-11-25T10:00:10Z&format=csv",
                 admin)
                .status,
            200);

  std::vector<json> recs = AuditRecords();
  std::vector<json> mine;
  for (const json& r : recs) {
    if (r["seq"].get<uint64_t>() > before) mine.push_back(r);
  }
  ASSERT_EQ(mine.size(), 7u);
  EXPECT_EQ(mine[0]["principal"], "audited-viewer");
  EXPECT_EQ(mine[0]["action"], "grant.add");
  EXPECT_EQ(mine[0]["decision"], "deny");
  EXPECT_NE(mine[0]["detail"]["reason"].get<std::string>().find("manage_principals"),
            std::string::npos);
  EXPECT_EQ(mine[0]["detail"]["request"]["role"], "admin");
  EXPECT_EQ(mine[1]["action"], "token.issue");
  EXPECT_EQ(mine[1]["decision"], "allow");
  EXPECT_EQ(mine[2]["decision"], "done");
  EXPECT_EQ(mine[2]["detail"]["key_id"], plaintext.substr(0, registry::kTokenIdLength));
  EXPECT_EQ(mine[3]["action"], "grant.remove");
  EXPECT_EQ(mine[4]["decision"], "error");
  EXPECT_EQ(mine[4]["detail"]["code"], "not_found");
  EXPECT_EQ(mine[5]["action"], "view.export");
  EXPECT_EQ(mine[5]["decision"], "allow");
  EXPECT_EQ(mine[6]["decision"], "done");
  EXPECT_EQ(mine[6]["detail"]["rows"], 6);
  EXPECT_EQ(ReadAll(audit_->path()).find(plaintext), std::string::npos);

  // The API reads them back, paged, and verifies the chain.
  Resp page = Call("GET", "/api/v1/audit?after_seq=" + std::to_string(before) + "&limit=3", admin);
  ASSERT_EQ(page.status, 200) << page.body;
  json p = json::parse(page.body);
  ASSERT_EQ(p["records"].size(), 3u);
  EXPECT_EQ(p["records"][0]["seq"], before + 1);
  EXPECT_EQ(p["next_after_seq"], before + 3);
  EXPECT_EQ(p["more"], true);
  Resp verify = Call("GET", "/api/v1/audit/verify", admin);
  ASSERT_EQ(verify.status, 200);
  EXPECT_EQ(json::parse(verify.body)["ok"], true) << verify.body;
}

TEST_F(ApiServerTest, ListsAndTokenLifecycle) {
  const std::string admin = AdminToken();
  Resp created = Call("POST", "/api/v1/principals", admin,
                      R"({"id": "ana@plant", "kind": "user", "display_name": "Ana"})");
  ASSERT_EQ(created.status, 201) << created.body;
  Resp grant = Call("POST", "/api/v1/grants", admin,
                    R"({"principal_id": "ana@plant", "role": "viewer", "scope": "lyon",
                        "tag": "sensitivity=restricted"})");
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(json::parse(grant.body)["tag"], "sensitivity=restricted");
  Resp issued = Call("POST", "/api/v1/principals/ana@plant/tokens", admin, R"({"ttl_s": 60})");
  ASSERT_EQ(issued.status, 201);
  const json t = json::parse(issued.body);
  const std::string token = t["token"];
  EXPECT_TRUE(registry::IsWellFormedToken(token));
  EXPECT_FALSE(t["expires_at"].is_null());

  Resp list = Call("GET", "/api/v1/principals", admin);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(token), std::string::npos) << "a listing never shows a token";
  bool found = false;
  const json listed = json::parse(list.body);
  for (const json& p : listed["principals"]) {
    if (p["id"].get<std::string>() != "ana@plant") continue;
    found = true;
    EXPECT_EQ(p["grants"].size(), 1u);
    EXPECT_EQ(p["api_keys"][0]["id"], t["id"]);
  }
  EXPECT_TRUE(found) << list.body.substr(0, 2000);

  Resp views = Call("GET", "/api/v1/views", token);
  ASSERT_EQ(views.status, 200) << views.body;
  EXPECT_EQ(json::parse(views.body)["views"][0]["name"], "motor_health");
  Resp ingest = Call("GET", "/api/v1/ingest", token);
  ASSERT_EQ(ingest.status, 200);
  EXPECT_EQ(json::parse(ingest.body)["messages"], 7);
  EXPECT_EQ(Call("GET", "/api/v1/health", "").status, 200);

  ASSERT_EQ(Call("DELETE", "/api/v1/tokens/" + t["id"].get<std::string>(), admin).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/whoami", token).status, 401);
}

TEST_F(ApiServerTest, CatalogTagsRestrictRowsAndCells) {
  const std::string viewer = MakePrincipal("tags-viewer", Role::kViewer, "*");
  const std::string restricted = MakePrincipal("tags-restricted", Role::kViewer, "lyon/assembly");
  ASSERT_TRUE(registry_
                  ->AddGrant({"tags-restricted", Role::kViewer, "lyon",
                              registry::TagCondition{"sensitivity", "restricted"}})
                  .ok());
  const std::string q =
      "/api/v1/views/motor_health/query?from=2026-11-25T10:00:00Z"
      "&to=2026-11-25T10:00:10Z";
  {
    std::lock_guard<std::mutex> lock(g_tags_mu);
    g_tags[{kL1Asset, ""}] = {{"sensitivity", "restricted"}};
    g_tags[{kL2Asset, "current"}] = {{"sensitivity", "restricted"}};
  }
  Resp r = Call("GET", q, viewer);
  Resp r2 = Call("GET", q, restricted);
  {
    std::lock_guard<std::mutex> lock(g_tags_mu);
    g_tags.clear();
  }
  ASSERT_EQ(r.status, 200) << r.body;
  // The plain viewer of "*": no rows of the restricted asset, and l2's current is masked.
  std::multiset<std::string> assets = AssetsOf(r.body, false);
  EXPECT_EQ(assets.count(kL1Asset), 0u) << r.body;
  EXPECT_EQ(assets.count(kL2Asset), 3u) << r.body;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    json row = json::parse(line);
    EXPECT_TRUE(row["current_a"].is_null()) << line;
    EXPECT_FALSE(row["winding_temp"].is_null()) << line;
  }
  // viewer on "lyon" [sensitivity=restricted] reaches l1-mo-01 and l2's current; the plain grant
  // on lyon/assembly reaches l2's other signals: everything, unmasked.
  ASSERT_EQ(r2.status, 200) << r2.body;
  assets = AssetsOf(r2.body, false);
  EXPECT_EQ(assets.count(kL1Asset), 3u) << r2.body;
  EXPECT_EQ(assets.count(kL2Asset), 3u) << r2.body;
}

TEST_F(ApiServerTest, CatalogSignalsAreListedOnlyWhereTheGrantsReach) {
  auto signals_of = [](const Resp& r) {
    std::set<std::string> out;
    const json body = json::parse(r.body);
    for (const json& s : body["signals"]) {
      out.insert(s["asset"].get<std::string>() + "/" + s["signal"].get<std::string>());
    }
    return out;
  };
  const std::string l1 = std::string(kL1Asset) + "/current", l2 = std::string(kL2Asset) + "/power";
  const std::string line = MakePrincipal("cat-line", Role::kViewer, kL1Scope);
  Resp r = Call("GET", "/api/v1/catalog/signals", line);
  ASSERT_EQ(r.status, 200) << r.body;

  EXPECT_EQ(signals_of(r), std::set<std::string>{l1}) << "out of scope: not listed";
  const std::string star = MakePrincipal("cat-star", Role::kViewer, "*");
  r = Call("GET", "/api/v1/catalog/signals", star);
  EXPECT_EQ(signals_of(r), std::set<std::string>{l1}) << "restricted: not without a tag grant";
  ASSERT_TRUE(registry_
                  ->AddGrant({"cat-star", Role::kViewer, "*",
                              registry::TagCondition{"sensitivity", "restricted"}})
                  .ok());
  r = Call("GET", "/api/v1/catalog/signals", star);
  EXPECT_EQ(signals_of(r), (std::set<std::string>{l1, l2}));
  r = Call("GET", "/api/v1/catalog/signals?tag=unit%3DkW", star);  // '=' encoded
  EXPECT_EQ(signals_of(r), std::set<std::string>{l2}) << r.body;
  EXPECT_EQ(Call("GET", "/api/v1/catalog/signals?tag=nonsense", star).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/catalog/signals?colour=red", star).status, 400);
}

TEST_F(ApiServerTest, ModelApprovalPromotionRollbackAndVerifiedArtifacts) {
  ASSERT_TRUE(models_->Register(Candidate("pump-wear", "pump v1", true)).ok());
  ASSERT_TRUE(models_->Register(Candidate("pump-wear", "pump v2", true)).ok());
  ASSERT_TRUE(models_->Register(Candidate("pump-wear", "pump v3 (non-physical)", false)).ok());
  const std::string ds = MakePrincipal("mdl-ds", Role::kDataScientist, "*");
  const std::string ot = MakePrincipal("mdl-ot", Role::kOtEngineer, "*");
  const std::string both = MakePrincipal("mdl-both", Role::kDataScientist, "*");
  ASSERT_TRUE(registry_->AddGrant({"mdl-both", Role::kOtEngineer, "*", std::nullopt}).ok());
  const std::string base = "/api/v1/models/pump-wear";
  const uint64_t before = audit_->last_seq();

  // Reads: the version with its lineage, metrics and validation report.
  Resp v = Call("GET", base + "/versions/3", ds);
  ASSERT_EQ(v.status, 200) << v.body;
  json vj = json::parse(v.body);
  EXPECT_EQ(vj["lineage"]["tables"]["telemetry"], 7);
  EXPECT_EQ(vj["metrics"]["recall"], 0.9);
  EXPECT_EQ(vj["validation_passed"], false);
  EXPECT_EQ(Call("GET", base + "/versions/9", ds).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/models/nope", ds).status, 404);

  // The non-physical version is refused, naming the violated constraint.
  Resp refused = Call("POST", base + "/aliases/staging", ot, R"({"version": "3"})");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("risk_monotone"), std::string::npos) << refused.body;

  // Production needs a data_scientist and an ot_engineer who are different principals.
  Resp no_quorum = Call("POST", base + "/aliases/production", ot, R"({"version": 2})");
  ASSERT_EQ(no_quorum.status, 409) << no_quorum.body;
  // One principal with both roles: must name the role; approves once only.
  EXPECT_EQ(Call("POST", base + "/versions/2/approve", both, R"({"comment": "x"})").status, 400);
  ASSERT_EQ(
      Call("POST", base + "/versions/2/approve", both, R"({"role": "data_scientist"})").status,
      201);
  EXPECT_EQ(Call("POST", base + "/versions/2/approve", both, R"({"role": "ot_engineer"})").status,
            409);
  EXPECT_EQ(Call("POST", base + "/aliases/production", ot, R"({"version": "2"})").status, 409);
  // A role the caller does not hold is refused.
  EXPECT_EQ(Call("POST", base + "/versions/2/approve", ds, R"({"role": "ot_engineer"})").status,
            403);
  Resp approved =
      Call("POST", base + "/versions/2/approve", ot, R"({"comment": "safe on line 2"})");
  ASSERT_EQ(approved.status, 201) << approved.body;
  EXPECT_EQ(json::parse(approved.body)["approvals"].size(), 2u);
  EXPECT_EQ(Call("POST", base + "/versions/2/approve", ds, R"({"rol": "x"})").status, 400);

  // Promote 1 then 2 to production, roll back to 1.
  ASSERT_TRUE(
      models_->Approve("pump-wear", "1", {"a", {"data_scientist"}}, "data_scientist", "").ok());
  ASSERT_TRUE(models_->Approve("pump-wear", "1", {"b", {"ot_engineer"}}, "ot_engineer", "").ok());
  ASSERT_EQ(Call("POST", base + "/aliases/production", ot, R"({"version": "1"})").status, 200);
  Resp promoted = Call("POST", base + "/aliases/production", ot, R"({"version": "2"})");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(json::parse(promoted.body)["previous"], "1");
  Resp model = Call("GET", base, ds);
  ASSERT_EQ(model.status, 200);
  EXPECT_EQ(json::parse(model.body)["aliases"]["production"], "2");
  Resp rolled = Call("POST", base + "/aliases/production/rollback", ot, "");
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  EXPECT_EQ(json::parse(rolled.body)["version"], "1");
  EXPECT_EQ(Call("POST", base + "/aliases/production/rollback", ot, "").status, 409);
  Resp list = Call("GET", "/api/v1/models", ds);
  ASSERT_EQ(list.status, 200);
  bool listed = false;
  const json models = json::parse(list.body);
  for (const json& m : models["models"]) {
    if (m["name"] == "pump-wear") {
      listed = true;
      EXPECT_EQ(m["versions"], 3);
      EXPECT_EQ(m["aliases"]["production"], "1");
    }
  }
  EXPECT_TRUE(listed) << list.body;

  // Artifacts: verified bytes; a tampered file is refused as data_loss.
  Resp art = Call("GET", base + "/versions/2/artifact", ds);
  ASSERT_EQ(art.status, 200);
  EXPECT_EQ(art.body, "pump v2");
  auto sha = art.headers.find("X-Weft-Sha256");
  ASSERT_NE(sha, art.headers.end());
  EXPECT_EQ(sha->second, mlops::Sha256Hex("pump v2"));
  {
    std::ofstream f(models_->ArtifactPath(mlops::Sha256Hex("pump v1")),
                    std::ios::binary | std::ios::trunc);
    f << "pump v1!";
  }
  Resp tampered = Call("GET", base + "/versions/1/artifact", ds);
  EXPECT_EQ(tampered.status, 500);
  EXPECT_EQ(json::parse(tampered.body)["error"]["code"], "data_loss");
  EXPECT_NE(tampered.body.find(mlops::Sha256Hex("pump v1")), std::string::npos);
  EXPECT_EQ(tampered.body.find("pump v1!"), std::string::npos);

  // The audit trail: approvals, promotions and rollbacks, decision then outcome.
  std::vector<std::string> trail;
  for (const json& r : AuditRecords()) {
    if (r["seq"].get<uint64_t>() <= before) continue;
    if (r["action"].get<std::string>().rfind("model.", 0) != 0) continue;
    trail.push_back(r["action"].get<std::string>() + ":" + r["decision"].get<std::string>());
  }
  const std::vector<std::string> want = {
      "model.promote:allow",           "model.promote:error",  // v3 not validated
      "model.promote:allow",           "model.promote:error",  // no quorum
      "model.approve:allow",           "model.approve:error",  // role missing
      "model.approve:allow",           "model.approve:done",
      "model.approve:allow",
      "model.approve:error",  // twice
      "model.promote:allow",           "model.promote:error",
      "model.approve:allow",
      "model.approve:error",  // not her role
      "model.approve:allow",           "model.approve:done",
      "model.approve:allow",
      "model.approve:error",  // unknown field
      "model.promote:allow",           "model.promote:done",
      "model.promote:allow",           "model.promote:done",
      "model.rollback:allow",          "model.rollback:done",
      "model.rollback:allow",          "model.rollback:error",
      "model.artifact.download:allow", "model.artifact.download:done",
      "model.artifact.download:allow", "model.artifact.download:error"};
  EXPECT_EQ(trail, want);
}

TEST_F(ApiServerTest, LeavingShadowNeedsTwoRolesByTwoPrincipalsAndSendsAVerifiableGrant) {
  const std::string olga = MakePrincipal("c-olga", Role::kOpsManager, "*");
  const std::string otto = MakePrincipal("c-otto", Role::kOtEngineer, "*");
  // One person holding both roles counts once.
  const std::string both = MakePrincipal("c-both", Role::kOtEngineer, "*");
  ASSERT_TRUE(registry_->AddGrant({"c-both", Role::kOpsManager, "*", std::nullopt}).ok());
  const std::string loop = "/api/v1/control/loops/lyon-hz-01-temp";
  auto approve = [&](const std::string& token, const std::string& role, const std::string& mode) {
    return Call("POST", loop + "/approvals", token,
                json{{"edge", "edge-lyon"}, {"mode", mode}, {"role", role}}.dump());
  };
  auto set_mode = [&](const std::string& token, const std::string& mode) {
    return Call("POST", loop + "/mode", token, json{{"edge", "edge-lyon"}, {"mode", mode}}.dump());
  };
  TakeCommands();

  // No approval at all: 403 naming both.
  Resp r = set_mode(otto, "autonomous");
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("an ops_manager approval and an ot_engineer approval"), std::string::npos)
      << r.body;
  // A role the caller does not hold is refused.
  r = approve(olga, "ot_engineer", "autonomous");
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("no grant of role ot_engineer"), std::string::npos) << r.body;
  // Shadow needs no approval; approving it is meaningless.
  r = approve(olga, "ops_manager", "shadow");
  EXPECT_EQ(r.status, 400) << r.body;

  // One principal in both roles: still missing a second person.
  ASSERT_EQ(approve(both, "ops_manager", "autonomous").status, 201);
  ASSERT_EQ(approve(both, "ot_engineer", "autonomous").status, 201);
  r = set_mode(otto, "autonomous");
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("two different principals"), std::string::npos) << r.body;

  // The ops manager approves: ops_manager (olga) + ot_engineer (c-both) are two people.
  r = approve(olga, "", "autonomous");  // the role is implied when the caller holds one
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["role"], "ops_manager");
  EXPECT_TRUE(TakeCommands().empty()) << "approvals send nothing";
  // Approvals are per mode: supervised still lacks them.
  r = set_mode(otto, "supervised");
  ASSERT_EQ(r.status, 403) << r.body;
  r = set_mode(otto, "autonomous");
  ASSERT_EQ(r.status, 200) << r.body;
  const json reply = json::parse(r.body);
  EXPECT_EQ(reply["mode"], "autonomous");
  ASSERT_EQ(reply["approvals"].size(), 2u);

  // The edge got exactly the envelope, and it verifies with the served public key.
  auto sent = TakeCommands();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<0>(sent[0]), "edge-lyon");
  EXPECT_EQ(std::get<1>(sent[0]), "control_grant");
  EXPECT_EQ(json::parse(std::get<2>(sent[0])), reply["envelope"]);
  Resp key = Call("GET", "/api/v1/control/grant-key", otto);
  ASSERT_EQ(key.status, 200) << key.body;
  EXPECT_NE(key.body.find("BEGIN PUBLIC KEY"), std::string::npos);
  auto grant = control::VerifyGrant(std::get<2>(sent[0]), key.body, "edge-lyon", "lyon-hz-01-temp",
                                    clock().Now());
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  EXPECT_EQ(grant->mode, control::Mode::kAutonomous);
  std::set<std::string> approvers;
  for (const auto& a : grant->approvals) approvers.insert(a.principal + "/" + a.role);
  EXPECT_EQ(approvers, (std::set<std::string>{"c-olga/ops_manager", "c-both/ot_engineer"}));
  // Not for another loop.
  EXPECT_FALSE(
      control::VerifyGrant(std::get<2>(sent[0]), key.body, "edge-lyon", "other", clock().Now())
          .ok());
  // The private key is 0600.
  struct stat st {};
  ASSERT_EQ(::stat(control_->private_key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Shadow: always allowed, a grant without approvals.
  r = set_mode(otto, "shadow");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["approvals"].empty());
  ASSERT_EQ(TakeCommands().size(), 1u);

  // A supervised proposal's approval goes to the edge with the approver.
  r = Call("POST", loop + "/proposals/p-42/approve", olga, R"({"edge": "edge-lyon"})");
  ASSERT_EQ(r.status, 200) << r.body;
  sent = TakeCommands();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<1>(sent[0]), "control_approve");
  EXPECT_EQ(json::parse(std::get<2>(sent[0])),
            (json{{"loop", "lyon-hz-01-temp"}, {"proposal", "p-42"}, {"principal", "c-olga"}}));
  // Bad ids never reach a topic.
  r = Call("POST", "/api/v1/control/loops/x/mode", otto, R"({"edge": "a/b", "mode": "shadow"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Call("POST", loop + "/mode", otto, R"({"edge": "edge-lyon", "mode": "turbo"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(TakeCommands().empty());

  // Audited: the approvals, the refused and the granted mode changes.
  std::vector<std::string> trail;
  for (const json& rec : AuditRecords()) {
    if (rec["action"].get<std::string>().rfind("control.", 0) == 0 &&
        rec["resource"].get<std::string>().find("lyon-hz-01-temp") != std::string::npos) {
      trail.push_back(rec["action"].get<std::string>() + ":" + rec["decision"].get<std::string>());
    }
  }
  EXPECT_NE(std::find(trail.begin(), trail.end(), "control.mode:done"), trail.end());
  EXPECT_NE(std::find(trail.begin(), trail.end(), "control.mode:error"), trail.end());
  EXPECT_NE(std::find(trail.begin(), trail.end(), "control.approve:done"), trail.end());
  EXPECT_NE(std::find(trail.begin(), trail.end(), "control.proposal.approve:done"), trail.end());
}

TEST_F(ApiServerTest, WorkOrdersAreRecordedWithTheirPlaceAndListedWithinScope) {
  const std::string l1 = MakePrincipal("w-l1", Role::kOtEngineer, kL1Scope);
  const std::string boss = MakePrincipal("w-boss", Role::kOpsManager, "*");
  const std::string viewer = MakePrincipal("w-viewer", Role::kViewer, kL1Scope);
  Resp r = Call("POST", "/api/v1/workorders", l1,
                json{{"asset", kL1Asset},
                     {"event_ts", "2025-12-02T08:00:00Z"},
                     {"opened_at", "2025-12-02T08:10:00Z"},
                     {"closed_at", "2025-12-02T09:00:00Z"},
                     {"outcome", "confirmed_fault"},
                     {"minutes", 42.5},
                     {"note", "bearing replaced"}}
                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json w = json::parse(r.body);
  EXPECT_EQ(w["site"], "lyon");
  EXPECT_EQ(w["line"], "l1-machining");
  EXPECT_EQ(w["principal"], "w-l1");
  EXPECT_EQ(w["opened_at"], "2025-12-02T08:10:00.000000Z");
  // l2 is out of the engineer's scope.
  r = Call("POST", "/api/v1/workorders", l1,
           json{{"asset", kL2Asset},
                {"event_ts", "2025-12-02T08:00:00Z"},
                {"outcome", "false_alarm"},
                {"minutes", 3}}
               .dump());
  ASSERT_EQ(r.status, 403) << r.body;
  // By alert id only (no event time): recorded, its time stands for the alert's.
  r = Call("POST", "/api/v1/workorders", boss,
           json{{"asset", kL2Asset},
                {"alert_id", "alert-77"},
                {"opened_at", "2025-12-03T07:00:00Z"},
                {"outcome", "false_alarm"},
                {"minutes", 3}}
               .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["event_ts"], "2025-12-03T07:00:00.000000Z");
  // Refused inputs.
  for (const json& bad : {json{{"asset", kL1Asset}, {"outcome", "false_alarm"}, {"minutes", 1}},
                          json{{"asset", kL1Asset},
                               {"event_ts", "2025-12-02T08:00:00Z"},
                               {"outcome", "maybe"},
                               {"minutes", 1}},
                          json{{"asset", kL1Asset},
                               {"event_ts", "2025-12-02T08:00:00Z"},
                               {"outcome", "false_alarm"},
                               {"minutes", -1}},
                          json{{"asset", kL1Asset},
                               {"event_ts", "2025-12-02T08:00:00Z"},
                               {"outcome", "false_alarm"},
                               {"minutes", 1},
                               {"shift", "night"}}}) {
    r = Call("POST", "/api/v1/workorders", boss, bad.dump());
    EXPECT_EQ(r.status, 400) << bad.dump() << ": " << r.body;
  }

  const std::string range = "/api/v1/workorders?from=2025-12-01T00:00:00Z&to=2025-12-04T00:00:00Z";
  r = Call("GET", range, boss);
  ASSERT_EQ(r.status, 200) << r.body;
  json all = json::parse(r.body)["work_orders"];
  ASSERT_EQ(all.size(), 2u) << r.body;
  EXPECT_EQ(all[0]["outcome"], "confirmed_fault");
  EXPECT_EQ(all[0]["minutes"], 42.5);
  EXPECT_EQ(all[1]["alert_id"], "alert-77");
  // The l1 viewer sees l1's only; an asset filter and a range that excludes both.
  r = Call("GET", range, viewer);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(json::parse(r.body)["work_orders"].size(), 1u) << r.body;
  r = Call("GET", range + "&asset=" + kL2Asset, boss);
  ASSERT_EQ(json::parse(r.body)["work_orders"].size(), 1u) << r.body;
  r = Call("GET", "/api/v1/workorders?from=2025-12-02T08:00:01Z&to=2025-12-03T00:00:00Z", boss);
  EXPECT_EQ(json::parse(r.body)["work_orders"].size(), 0u) << r.body;
  r = Call("GET", "/api/v1/workorders?since=yesterday", boss);
  EXPECT_EQ(r.status, 400) << r.body;
  // In the lake, partitioned by the alert's day.
  auto rows = ReadWorkOrders(dir_->path() + "/lake",
                             {.asset = kL1Asset,
                              .from_us = *ParseTimestampMicros("2025-12-01T00:00:00Z"),
                              .to_us = *ParseTimestampMicros("2025-12-04T00:00:00Z")},
                             &clock());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().note, "bearing replaced");
  EXPECT_EQ(rows->front().closed_us, *ParseTimestampMicros("2025-12-02T09:00:00Z"));
}

TEST_F(ApiServerTest, ModuleRoutesGetAuthorizationAuditAndTheirOwnBodyLimit) {
  const std::string viewer = MakePrincipal("mod-viewer", Role::kViewer, "*");
  const std::string ot = MakePrincipal("mod-ot", Role::kOtEngineer, "*");
  const std::string path = "/api/v1/test/things/t1/poke";
  EXPECT_EQ(Call("POST", path, "", "{}").status, 401);
  Resp denied = Call("POST", path, viewer, "{}");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("manage_fleet"), std::string::npos) << denied.body;
  Resp ok = Call("POST", path, ot, R"({"note": "n"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["by"], "mod-ot");
  EXPECT_EQ(Call("POST", path, ot, R"({"other": 1})").status, 400);
  std::vector<std::string> decisions;
  for (const json& r : AuditRecords()) {
    if (r.value("action", "") == "test.poke") {
      decisions.push_back(r["principal"].get<std::string>() + ":" +
                          r["decision"].get<std::string>());
    }
  }
  EXPECT_EQ(decisions, (std::vector<std::string>{"mod-viewer:deny", "mod-ot:allow", "mod-ot:done",
                                                 "mod-ot:allow", "mod-ot:error"}));

  // The public route takes 200 KiB (over the server's 64 KiB default) but not 2 MiB; built-in
  // routes keep the 64 KiB limit although the server now reads bodies up to 1 MiB.
  Resp big = Call("POST", "/api/v1/test/upload", "", std::string(200 << 10, 'x'));
  ASSERT_EQ(big.status, 200) << big.body;
  EXPECT_EQ(json::parse(big.body)["bytes"], 200 << 10);
  EXPECT_EQ(json::parse(big.body)["resource"], "test/upload");
  EXPECT_EQ(Call("POST", "/api/v1/test/upload", "", std::string(2 << 20, 'x')).status, 413);
  Resp builtin = Call("POST", "/api/v1/principals", AdminToken(),
                      R"({"id": ")" + std::string(100 << 10, 'a') + R"("})");
  EXPECT_EQ(builtin.status, 413) << builtin.body.substr(0, 200);
}

TEST_F(ApiServerTest, OpenApiFileDescribesExactlyTheRegisteredRoutes) {
  YAML::Node doc = YAML::LoadFile(SourceDir() + "/docs/openapi.yaml");
  EXPECT_EQ(doc["openapi"].as<std::string>().rfind("3.0", 0), 0u);
  ASSERT_TRUE(doc["components"]["securitySchemes"]["bearer"]);
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearer"]["scheme"].as<std::string>(), "bearer");
  // weft-core serves the built-in routes and the fleet, OTA, governance, KPI and web modules
  // (their route lists do not touch the services they are given).
  std::set<ApiRoute> registered, public_routes = {{"GET", "/api/v1/health"}};
  for (const ApiRoute& r : ApiServer::Routes()) registered.insert(r);
  std::vector<ModuleRoute> modules = fleet::FleetRoutes(nullptr);
  for (ModuleRoute& r : ota::OtaRoutes(nullptr, nullptr)) modules.push_back(std::move(r));
  for (ModuleRoute& r : governance::GovernanceRoutes({})) modules.push_back(std::move(r));
  for (ModuleRoute& r : kpi::KpiRoutes({})) modules.push_back(std::move(r));
  for (ModuleRoute& r : web::WebRoutes({})) modules.push_back(std::move(r));
  for (const ModuleRoute& r : modules) {
    registered.insert({r.method, r.path});
    if (r.access == Access::kPublic) public_routes.insert({r.method, r.path});
  }
  std::set<ApiRoute> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      const std::string key = op.first.as<std::string>();
      if (key == "parameters") continue;
      std::string method = key;
      for (char& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      const std::string p = path.first.as<std::string>();
      documented.insert({method, p});
      EXPECT_TRUE(op.second["responses"]) << method << " " << p << " has no responses";
      EXPECT_TRUE(op.second["operationId"]) << method << " " << p;
      // Security: the file's default is bearer; only health opts out, with `security: []`.
      const bool is_public = op.second["security"] && op.second["security"].size() == 0;
      EXPECT_EQ(is_public, public_routes.count({method, p}) > 0) << method << " " << p;
      if (!is_public) {
        EXPECT_TRUE(op.second["responses"]["401"]) << method << " " << p;
        EXPECT_TRUE(op.second["responses"]["403"]) << method << " " << p;
      }
    }
  }
  ASSERT_TRUE(doc["security"]);
  EXPECT_EQ(documented, registered);
}

TEST(ApiServerStartTest, SelfSignedCertificateServesAndRefusesPlainHttpByDefault) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string d = dir->path();
  const std::string cert = d + "/cert.pem", key = d + "/key.pem";
  ASSERT_TRUE(WriteSelfSignedCertificate(cert, key, "localhost", std::chrono::hours(24)).ok());
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(WriteSelfSignedCertificate(cert, key, "a,IP:1.2.3.4", std::chrono::hours(1)).ok());

  SystemClock& clock = SystemClock::Default();
  auto reg = registry::SqliteRegistryStore::Open(d + "/registry.db", &clock);
  ASSERT_TRUE(reg.ok());
  auto log = audit::AuditLog::Open(d + "/audit", &clock);
  ASSERT_TRUE(log.ok());
  ApiOptions o;
  o.listen = "127.0.0.1:0";
  o.registry = reg->get();
  o.audit = log->get();
  o.clock = &clock;
  auto plain = ApiServer::Start(o);
  EXPECT_EQ(plain.status().code(), StatusCode::kInvalidArgument);
  o.cert_file = cert;
  o.key_file = d + "/missing.pem";
  EXPECT_FALSE(ApiServer::Start(o).ok());
  o.key_file = key;
  auto api = ApiServer::Start(o);
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  EXPECT_TRUE((*api)->tls());
  // No state dir: no bootstrap file, and a second start finds principals anyway (none here).
  EXPECT_EQ((*api)->bootstrap_token_file(), "");

  httplib::SSLClient cli("127.0.0.1", (*api)->port());
  cli.set_ca_cert_path(cert.c_str());
  cli.enable_server_certificate_verification(true);
  auto res = cli.Get("/api/v1/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  // No model registry: its routes answer 503, after authentication and authorization.
  ASSERT_TRUE((*reg)->CreatePrincipal({"ops", registry::PrincipalKind::kUser, "", ""}).ok());
  ASSERT_TRUE((*reg)->AddGrant({"ops", Role::kAdmin, "*", std::nullopt}).ok());
  auto token = (*reg)->IssueToken("ops", std::nullopt);
  ASSERT_TRUE(token.ok());
  auto models = cli.Get("/api/v1/models", {{"Authorization", "Bearer " + token->plaintext}});
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 503);
  EXPECT_NE(models->body.find("model registry not configured"), std::string::npos);
  // A plain-HTTP client gets nothing useful from the TLS port.
  httplib::Client plain_cli("127.0.0.1", (*api)->port());
  plain_cli.set_read_timeout(2, 0);
  auto plain_res = plain_cli.Get("/api/v1/health");
  EXPECT_TRUE(!plain_res || plain_res->status != 200);
}

}  // namespace
}  // namespace weft::core::api

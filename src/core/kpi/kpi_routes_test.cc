#include "core/kpi/kpi_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "core/api/api_server.h"
#include "core/audit/audit_log.h"
#include "core/kpi/kpi_test_util.h"
#include "core/registry/sqlite_registry_store.h"
#include "testing/test_env.h"

namespace weft::core::kpi {
namespace {

using namespace ::weft::core::kpi::testing;  // NOLINT(google-build-using-namespace)
using json = nlohmann::json;

class KpiRoutesTest : public ::testing::Test {
 protected:
  void Start(bool with_plant) {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/lake";
    plant_ = TestPlant();
    auto reg = registry::SqliteRegistryStore::Open(dir_->path() + "/registry.db", &clock_);
    ASSERT_TRUE(reg.ok());
    registry_ = std::move(reg).value();
    auto audit = audit::AuditLog::Open(dir_->path() + "/audit", &clock_);
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(audit).value();
    api::ApiOptions a;
    a.listen = "127.0.0.1:0";
    a.allow_insecure_http = true;
    a.registry = registry_.get();
    a.audit = audit_.get();
    a.clock = &clock_;
    a.modules =
        KpiRoutes({.lake_root = root_, .plant = with_plant ? &plant_ : nullptr, .clock = &clock_});
    auto server = api::ApiServer::Start(std::move(a));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    everything_ = MakePrincipal("plant", registry::Role::kViewer, "*");
    line_ = MakePrincipal("line", registry::Role::kViewer, "s1/a1/l1");
    security_ = MakePrincipal("sec", registry::Role::kSecurityLead, "*");  // no read_telemetry
  }

  std::string MakePrincipal(const std::string& id, registry::Role role, const std::string& scope) {
    EXPECT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
    EXPECT_TRUE(registry_->AddGrant({id, role, scope, std::nullopt}).ok());
    return registry_->IssueToken(id, std::nullopt)->plaintext;
  }

  std::pair<int, json> Get(const std::string& path, const std::string& token) {
    httplib::Client cli("127.0.0.1", server_->port());
    httplib::Headers h = {{"Authorization", "Bearer " + token}};
    httplib::Result r = cli.Get(path.c_str(), h);
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  void WriteRows() {
    KpiRow line_row;
    line_row.period_start_us = kMonday;
    line_row.period_end_us = kMonday + kDay;
    line_row.site = "s1";
    line_row.area = "a1";
    line_row.line = "l1";
    line_row.kpi = "oee";
    line_row.value = 0.8;
    line_row.detail = R"({"run_s":100})";
    KpiRow other_line = line_row;
    other_line.line = "air";
    KpiRow plant_wide = line_row;
    plant_wide.site = plant_wide.area = plant_wide.line = "";
    plant_wide.use_case = "air";
    plant_wide.kpi = "kpi_actual";
    KpiRow later = line_row;
    later.period_start_us = kMonday + 5 * kDay;
    later.period_end_us = kMonday + 6 * kDay;
    ASSERT_TRUE(
        AppendKpiRows(root_, {line_row, other_line, plant_wide, later}, "run-1", &clock_).ok());
  }

  ManualClock clock_{TimeFromUnixMicros(kMonday + 10 * kDay)};
  std::optional<weft::testing::TempDir> dir_;
  std::string root_;
  model::Plant plant_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<api::ApiServer> server_;
  std::string everything_, line_, security_;
};

TEST_F(KpiRoutesTest, RowsAreFilteredByTheCallersScopes) {
  Start(true);
  // Before any computation: an empty list, not an error.
  auto [s0, empty] = Get("/api/v1/kpi", everything_);
  ASSERT_EQ(s0, 200);
  EXPECT_TRUE(empty["kpis"].empty());
  WriteRows();
  auto [s1, all] = Get("/api/v1/kpi", everything_);
  ASSERT_EQ(s1, 200) << all.dump();
  EXPECT_EQ(all["kpis"].size(), 4u);
  // The l1 viewer sees l1's rows only: not the other line's, not the plant-wide use case's.
  auto [s2, mine] = Get("/api/v1/kpi", line_);
  ASSERT_EQ(s2, 200);
  ASSERT_EQ(mine["kpis"].size(), 2u);
  for (const json& r : mine["kpis"]) EXPECT_EQ(r["line"], "l1");
  EXPECT_EQ(mine["kpis"][0]["detail"]["run_s"], 100);  // detail comes back as JSON
  EXPECT_EQ(mine["kpis"][0]["date"], "2026-11-02");
  // Filters.
  auto [s3, ranged] = Get("/api/v1/kpi?kpi=oee&from=2026-11-05T00:00:00Z&to=2026-11-08", line_);
  ASSERT_EQ(s3, 200);
  ASSERT_EQ(ranged["kpis"].size(), 1u);
  EXPECT_EQ(ranged["kpis"][0]["period_start"], "2026-11-07T00:00:00.000000Z");
  auto [s4, limited] = Get("/api/v1/kpi?limit=1", everything_);
  EXPECT_EQ(limited["kpis"].size(), 1u);
  EXPECT_TRUE(limited["truncated"].get<bool>());
  auto [s5, uc] = Get("/api/v1/kpi?use_case=air", everything_);
  EXPECT_EQ(uc["kpis"].size(), 1u);
  // Errors.
  EXPECT_EQ(Get("/api/v1/kpi?from=yesterday", everything_).first, 400);
  EXPECT_EQ(Get("/api/v1/kpi?limit=0", everything_).first, 400);
  EXPECT_EQ(Get("/api/v1/kpi?colour=red", everything_).first, 400);
  EXPECT_EQ(Get("/api/v1/kpi", security_).first, 403);
}

TEST_F(KpiRoutesTest, RoadmapNeedsAPlantAndAQuarter) {
  Start(false);
  WriteRows();
  EXPECT_EQ(Get("/api/v1/roadmap?quarter=2026Q4", everything_).first, 503);
}

TEST_F(KpiRoutesTest, RoadmapEntriesAreFilteredByScope) {
  Start(true);
  WriteRows();
  auto [s1, all] = Get("/api/v1/roadmap?quarter=2026Q4", everything_);
  ASSERT_EQ(s1, 200) << all.dump();
  EXPECT_EQ(all["quarter"], "2026Q4");
  EXPECT_EQ(all["currency"], "EUR");
  EXPECT_EQ(all["use_cases"].size(), plant_.use_cases.size());
  // The l1 viewer sees the use cases on l1 (pdm, epu, fpy, trace), not the plant-wide ones.
  auto [s2, mine] = Get("/api/v1/roadmap?quarter=2026Q4", line_);
  ASSERT_EQ(s2, 200);
  std::set<std::string> ids;
  for (const json& e : mine["use_cases"]) ids.insert(e["id"]);
  EXPECT_EQ(ids, (std::set<std::string>{"pdm", "epu", "fpy", "trace"}));
  EXPECT_EQ(Get("/api/v1/roadmap", everything_).first, 400);
  EXPECT_EQ(Get("/api/v1/roadmap?quarter=2026Q9", everything_).first, 400);
}

}  // namespace
}  // namespace weft::core::kpi

#include "cli/cli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/time_format.h"
#include "core/audit/audit_log.h"
#include "core/catalog/catalog.h"
#include "core/ingest/tables.h"
#include "testing/test_env.h"

namespace weft::cli {
namespace {

std::string ExamplePlant() {
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  return std::string(root ? root : ".") + "/examples/plant.yaml";
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args, const Clock& clock) {
  args.insert(args.begin(), "weft");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err, clock);
  return {code, out.str(), err.str()};
}

TimePoint Day(const char* date) {
  return TimePoint(std::chrono::sys_days(*ParseDate(date)));
}

TEST(Cli, PlanJudgesSignOffsAsOfTheClocksDay) {
  // pdm-compressors' OT sign-off is dated 2026-10-11: valid a year, expired after.
  ManualClock clock(Day("2026-11-25") + std::chrono::hours(23));
  CliRun r = Cli({"plan", ExamplePlant(), "--json"}, clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["plant"]["as_of"], "2026-11-25");
  auto state_on = [&](const char* date) {
    ManualClock c(Day(date));
    auto doc = nlohmann::json::parse(Cli({"plan", ExamplePlant(), "--json"}, c).out);
    for (const auto& u : doc["use_cases"]) {
      if (u["id"] == "pdm-compressors") return u["signoff"]["ot"]["state"].get<std::string>();
    }
    return std::string("not found");
  };
  EXPECT_EQ(state_on("2027-10-11"), "signed");
  EXPECT_EQ(state_on("2027-10-12"), "expired");
}

TEST(Cli, AsOfOverridesTheClock) {
  ManualClock clock(Day("2030-01-01"));
  CliRun r = Cli({"plan", ExamplePlant(), "--json", "--as-of", "2026-11-25"}, clock);
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_EQ(nlohmann::json::parse(r.out)["plant"]["as_of"], "2026-11-25");
}

TEST(Cli, InvalidPlantPrintsEveryErrorAndExits1) {
  std::string path = ::testing::TempDir() + "/cli_bad_plant.yaml";
  std::ofstream(path) << "weft: 2\nenterprise: {name: X}\nsites: []\nbogus: 1\n";
  ManualClock clock(Day("2026-11-25"));
  CliRun r = Cli({"plan", path}, clock);
  EXPECT_EQ(r.code, kExitInvalidInput);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(path + ":1:7: error: weft: plant.yaml schema version 2"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(path + ":4:1: error: bogus: unknown field 'bogus'"), std::string::npos);
  EXPECT_NE(r.err.find("missing required field 'economics'"), std::string::npos);

  CliRun j = Cli({"plan", path, "--json"}, clock);
  EXPECT_EQ(j.code, kExitInvalidInput);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_FALSE(doc.contains("use_cases"));
  EXPECT_GE(doc["diagnostics"].size(), 3u);
  EXPECT_EQ(doc["diagnostics"][0]["line"], 1);
}

TEST(Cli, UsageErrorsExit2) {
  ManualClock clock(Day("2026-11-25"));
  EXPECT_EQ(Cli({}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"plan"}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"plan", "/nonexistent/plant.yaml"}, clock).code, kExitUsage);
  CliRun bad_date = Cli({"plan", ExamplePlant(), "--as-of", "tomorrow"}, clock);
  EXPECT_EQ(bad_date.code, kExitUsage);
  EXPECT_NE(bad_date.err.find("expected YYYY-MM-DD"), std::string::npos);
  EXPECT_EQ(Cli({"--log-level", "chatty", "plan", ExamplePlant()}, clock).code, kExitUsage);
  EXPECT_EQ(Cli({"--help"}, clock).code, kExitOk);
}

TEST(Cli, QueryReadsAViewOfTheLakeAndAuditVerifyFindsTampering) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  SystemClock clock;
  const std::string lake = dir->path() + "/lake";
  ASSERT_TRUE(core::EnsureTables(lake, &clock).ok());
  auto telemetry = core::OpenTable(lake, core::LakeTableId::kTelemetry, &clock);
  ASSERT_TRUE(telemetry.ok());
  lake::RecordBatch rows(core::LakeTableSchema(core::LakeTableId::kTelemetry));
  const int64_t t0 = *ParseTimestampMicros("2026-11-25T10:00:00Z");
  // Two winding_temp samples of one motor in the same second (mean 31), one in the next.
  for (auto [dt, value] : {std::pair{0, 30.0}, {500'000, 32.0}, {1'000'000, 40.0}}) {
    std::vector<std::string> text = {"e1",           "normal",     "lyon",  "lyon-hall-b",
                                     "lb-utilities", "b1-mo-01",   "motor", "winding_temp",
                                     "degC",         "temperature"};
    size_t c = 0;
    rows.column(c++).AppendInt((t0 + dt) / 86'400'000'000);
    rows.column(c++).AppendInt(t0 + dt);
    rows.column(c++).AppendString(text[0]);
    rows.column(c++).AppendString(text[1]);
    rows.column(c++).AppendInt(1);
    for (size_t i = 2; i < text.size(); ++i) rows.column(c++).AppendString(text[i]);
    rows.column(c++).AppendDouble(value);
    rows.column(c++).AppendInt(0);
  }
  ASSERT_TRUE((*telemetry)->Append(rows).ok());
  const std::string views =
      std::string(std::getenv("WEFT_SOURCE_DIR") ? std::getenv("WEFT_SOURCE_DIR") : ".") +
      "/examples/views.yaml";
  CliRun q = Cli({"query", "motor_health", "--from", "2026-11-25T10:00:00Z", "--to",
                  "2026-11-25T10:00:02Z", "--lake", lake, "--views", views},
                 clock);
  ASSERT_EQ(q.code, kExitOk) << q.err;
  std::istringstream lines(q.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.substr(0, 30), "ts,asset,winding_temp,bearing_");
  EXPECT_EQ(first.substr(0, 49), "2026-11-25T10:00:00.000000Z,b1-mo-01,31,,,,,");
  EXPECT_EQ(second.substr(0, 49), "2026-11-25T10:00:01.000000Z,b1-mo-01,40,,,,,");
  CliRun typo = Cli({"query", "motor_helth", "--from", "2026-11-25T10:00:00Z", "--to",
                     "2026-11-25T10:00:02Z", "--lake", lake, "--views", views},
                    clock);
  EXPECT_EQ(typo.code, kExitInvalidInput);
  EXPECT_NE(typo.err.find("did you mean 'motor_health'"), std::string::npos) << typo.err;

  const std::string audit_dir = dir->path() + "/audit";
  {
    auto log = core::audit::AuditLog::Open(audit_dir, &clock);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          (*log)->Append({"admin", "grant.add", "principal/u" + std::to_string(i), "done"}).ok());
    }
  }
  CliRun ok = Cli({"audit", "verify", audit_dir}, clock);
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  std::fstream f(audit_dir + "/audit.log", std::ios::in | std::ios::out);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t at = text.find("principal/u1");
  ASSERT_NE(at, std::string::npos);
  f.seekp(static_cast<std::streamoff>(at + 11));
  f.put('9');  // principal/u1 -> principal/u9
  f.close();
  CliRun bad = Cli({"audit", "verify", audit_dir}, clock);
  EXPECT_EQ(bad.code, kExitInvalidInput);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
}

TEST(Cli, CatalogSignalsFiltersByTags) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  SystemClock clock;
  {
    auto cat = core::catalog::Catalog::Open(dir->path() + "/catalog.db", &clock);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    for (const char* q : {"power", "temperature"}) {
      core::catalog::ObservedSignal o;
      o.site = "lyon";
      o.line = "l1";
      o.asset = "m1";
      o.asset_type = "motor";
      o.signal = std::string(q) == "power" ? "power" : "winding_temp";
      o.quantity = q;
      o.unit = std::string(q) == "power" ? "kW" : "degC";
      o.edge = "e1";
      ASSERT_TRUE((*cat)->Observe(o).ok());
    }
  }
  CliRun r =
      Cli({"catalog", "signals", "--tag", "quantity=power,edge=e1", "--state", dir->path()}, clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;  // header + one signal
  EXPECT_NE(r.out.find("m1,power,motor,kW,power,e1,"), std::string::npos) << r.out;
  CliRun all = Cli({"catalog", "signals", "--state", dir->path()}, clock);
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 3) << all.out;
  CliRun bad = Cli({"catalog", "signals", "--tag", "no-equals", "--state", dir->path()}, clock);
  EXPECT_EQ(bad.code, kExitUsage) << bad.err;
  CliRun missing = Cli({"catalog", "signals", "--state", dir->path() + "/nowhere"}, clock);
  EXPECT_EQ(missing.code, kExitInvalidInput);
}

}  // namespace
}  // namespace weft::cli

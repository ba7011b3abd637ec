// The dashboard's routes end to end: a real ApiServer (plain HTTP, tests only) with the static
// site, LiveTelemetry over a real lake, a SQLite registry and three principals.
#include "core/web/web_routes.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/time_format.h"
#include "core/api/api_server.h"
#include "core/audit/audit_log.h"
#include "core/ingest/tables.h"
#include "core/registry/sqlite_registry_store.h"
#include "core/web/static_files.h"
#include "mlops/monitoring/monitoring_lake.h"
#include "testing/test_env.h"

namespace weft::core::web {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using registry::Role;

constexpr int64_t kSecond = 1'000'000;

//! The provenance and place columns of one row of a lake table: asset m1 is at
//! lyon/machining/l1, any other at paris/press/p-line.
void AppendPlace(lake::RecordBatch& b, const std::string& asset, const std::string& signal,
                 int64_t ts, const char* stream) {
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  const bool lyon = asset == "m1";
  col("date").AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
  col("ts").AppendInt(ts);
  col("edge").AppendString("e1");
  col("stream").AppendString(stream);
  col("seq").AppendInt(1);
  col("site").AppendString(lyon ? "lyon" : "paris");
  col("area").AppendString(lyon ? "machining" : "press");
  col("line").AppendString(lyon ? "l1" : "p-line");
  col("asset").AppendString(asset);
  col("asset_type").AppendString("motor");
  col("signal").AppendString(signal);
}

//! One row per sample at place lyon/machining/l1 (asset m1) or paris/press/p1 (asset p1).
lake::RecordBatch TelemetryRows(
    const std::vector<std::tuple<std::string, std::string, int64_t, double>>& samples) {
  lake::RecordBatch b(LakeTableSchema(LakeTableId::kTelemetry));
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  for (const auto& [asset, signal, ts, value] : samples) {
    AppendPlace(b, asset, signal, ts, "normal");
    col("unit").AppendString("degC");
    col("quantity").AppendNull();
    col("value").AppendDouble(value);
    col("quality").AppendInt(0);
  }
  return b;
}

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    const std::string d = dir_->path();
    fs::create_directories(d + "/web/assets");
    std::ofstream(d + "/web/index.html") << "<!doctype html><p>dashboard</p>";
    std::ofstream(d + "/web/assets/app.js") << "export {}";
    std::ofstream(d + "/secret.txt") << "top secret";

    now_ = UnixMicros(SystemClock::Default().Now());
    ASSERT_TRUE(EnsureTables(d + "/lake", &clock()).ok());
    AppendTelemetry({{"m1", "temp", now_ - 2 * kSecond, 40.0},
                     {"m1", "secret", now_ - 2 * kSecond, 7.0},
                     {"p1", "temp", now_ - 2 * kSecond, 55.0}});
    // Events: a connector's report, a quality event and two alerts, one on each site.
    lake::RecordBatch e(LakeTableSchema(LakeTableId::kEvents));
    auto col = [&](const char* name) -> lake::Column& {
      return e.column(static_cast<size_t>(e.Find(name)));
    };
    const std::vector<std::tuple<std::string, std::string, std::string, int64_t>> events = {
        {"p1", "device_online", "sparkplug", now_ - 90 * kSecond},
        {"m1", "quality", "pipeline", now_ - 60 * kSecond},
        {"m1", "ewma_z", "bearing-z", now_ - 30 * kSecond},
        {"p1", "cusum", "press-cusum", now_ - 10 * kSecond}};
    for (const auto& [asset, kind, source, ts] : events) {
      AppendPlace(e, asset, "temp", ts, "high");
      col("kind").AppendString(kind);
      col("source").AppendString(source);
      col("value").AppendDouble(3.5);
      col("threshold").AppendDouble(3.0);
      col("message").AppendString(kind + " on " + asset);
    }
    auto table = OpenTable(d + "/lake", LakeTableId::kEvents, &clock());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->Append(e).ok());

    auto reg = registry::SqliteRegistryStore::Open(d + "/registry.db", &clock());
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value();
    auto log = audit::AuditLog::Open(d + "/audit", &clock());
    ASSERT_TRUE(log.ok());
    audit_ = std::move(log).value();
    admin_ = MakePrincipal("root", Role::kAdmin, "*");
    viewer_ = MakePrincipal("vera", Role::kViewer, "lyon/machining/l1");
    paris_ = MakePrincipal("pierre", Role::kViewer, "paris");

    auto live = LiveTelemetry::Open({.lake_root = d + "/lake",
                                     .clock = &clock(),
                                     .poll_interval = std::chrono::milliseconds(50)});
    ASSERT_TRUE(live.ok());
    live_ = std::move(live).value();
    live_->StartPolling();
    auto site = StaticSite::Open(d + "/web");
    ASSERT_TRUE(site.ok()) << site.status().ToString();
    site_.emplace(std::move(site).value());

    api::ApiOptions o;
    o.listen = "127.0.0.1:0";
    o.allow_insecure_http = true;
    o.registry = registry_.get();
    o.audit = audit_.get();
    o.clock = &clock();
    o.static_files = [this](std::string_view path) { return site_->Serve(path); };
    WebRouteOptions wo{.live = live_.get(), .lake_root = d + "/lake", .clock = &clock()};
    // The catalog's places: m1 and p1 are known, any other asset (m9) is not.
    wo.asset_location = [](std::string_view asset) -> std::optional<api::AssetLocation> {
      if (asset == "m1") return api::AssetLocation{"lyon", "machining", "l1"};
      if (asset == "p1") return api::AssetLocation{"paris", "press", "p-line"};
      return std::nullopt;
    };
    // The m1 "secret" signal is restricted (as the catalog's tag rules would tag it).
    wo.tag_lookup = [](std::string_view asset, std::string_view signal) {
      std::map<std::string, std::string> tags;
      if (asset == "m1" && signal == "secret") tags["sensitivity"] = "restricted";
      return tags;
    };
    wo.keepalive = std::chrono::milliseconds(200);
    wo.tick = std::chrono::milliseconds(100);
    o.modules = WebRoutes(std::move(wo));
    auto api = api::ApiServer::Start(std::move(o));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(api).value();
  }

  void TearDown() override {
    api_.reset();  // the server first: its streams wait on live_
    if (live_) live_->Stop();
  }

  static SystemClock& clock() { return SystemClock::Default(); }

  void AppendTelemetry(
      const std::vector<std::tuple<std::string, std::string, int64_t, double>>& samples) {
    auto table = OpenTable(dir_->path() + "/lake", LakeTableId::kTelemetry, &clock());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->Append(TelemetryRows(samples)).ok());
  }

  std::string MakePrincipal(const std::string& id, Role role, const std::string& scope) {
    EXPECT_TRUE(registry_->CreatePrincipal({id, registry::PrincipalKind::kUser, id, ""}).ok());
    EXPECT_TRUE(registry_->AddGrant({id, role, scope, std::nullopt}).ok());
    auto t = registry_->IssueToken(id, std::nullopt);
    EXPECT_TRUE(t.ok());
    return t.ok() ? t->plaintext : "";
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Client cli("127.0.0.1", api_->port());
    cli.set_read_timeout(10, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return cli.Get(path.c_str(), h);
  }

  //! The raw response to a request line sent as is (no client-side path normalisation).
  std::string Raw(const std::string& target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(api_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      return "";
    }
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), 0) < 0) {
      ::close(fd);
      return "";
    }
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }

  //! Appends rows to the predictions table: (asset, signal, model, ts, value, message); the
  //! threshold is 0.7, the version "3"; m1 is at lyon/machining/l1, p1 at paris/press/p-line.
  void AppendPredictions(const std::vector<std::tuple<std::string, std::string, std::string,
                                                      int64_t, double, std::string>>& rows) {
    lake::RecordBatch b(LakeTableSchema(LakeTableId::kPredictions));
    auto col = [&](const char* name) -> lake::Column& {
      return b.column(static_cast<size_t>(b.Find(name)));
    };
    for (const auto& [asset, signal, model, ts, value, message] : rows) {
      AppendPlace(b, asset, signal, ts, "high");
      col("model").AppendString(model);
      col("model_version").AppendString("3");
      col("value").AppendDouble(value);
      col("threshold").AppendDouble(0.7);
      col("message").AppendString(message);
    }
    auto table = OpenTable(dir_->path() + "/lake", LakeTableId::kPredictions, &clock());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->Append(b).ok());
  }

  //! One model_monitoring row as `weft model monitor --append` writes it (model bearing_risk).
  static mlops::CheckResult Check(int64_t end_us, const std::string& asset,
                                  const std::string& check, const std::string& subject,
                                  const std::string& statistic, double value, mlops::Level level,
                                  double score, mlops::Action action) {
    mlops::CheckResult r;
    r.ts = TimeFromUnixMicros(end_us);
    r.model = "bearing_risk";
    r.model_version = "3";
    r.asset = asset;
    r.check = check;
    r.subject = subject;
    r.statistic = statistic;
    r.value = value;
    r.level = level;
    r.score = score;
    r.action = action;
    return r;
  }

  void AppendMonitoring(const std::vector<mlops::CheckResult>& rows) {
    auto table = lake::LakeTable::Open(dir_->path() + "/lake/model_monitoring", &clock(),
                                       /*create_location=*/true);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE(mlops::AppendMonitoringResults(**table, rows).ok());
  }

  //! The signals of `asset` in a /latest body: signal -> value.
  static std::map<std::string, double> SignalsOf(const json& body, const std::string& asset) {
    std::map<std::string, double> out;
    for (const json& a : body["assets"]) {
      if (a["asset"] != asset) continue;
      for (const json& s : a["signals"]) out[s["signal"]] = s["value"].get<double>();
    }
    return out;
  }

  std::optional<weft::testing::TempDir> dir_;
  int64_t now_ = 0;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<LiveTelemetry> live_;
  std::optional<StaticSite> site_;
  std::unique_ptr<api::ApiServer> api_;
  std::string admin_, viewer_, paris_;
};

TEST_F(WebRoutesTest, ServesTheDashboardFilesAndNothingOutsideThem) {
  auto index = Get("/", "");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><p>dashboard</p>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  auto js = Get("/assets/app.js", "");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  // A client route is the app; an unknown API path stays a JSON 404.
  auto route = Get("/asset/m1", "");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->body, index->body);
  auto api404 = Get("/api/v1/nothing-here", "");
  ASSERT_TRUE(api404);
  EXPECT_EQ(api404->status, 404);
  EXPECT_NE(api404->body.find("not_found"), std::string::npos);
  // Traversal, raw and percent-encoded: never the file above the root.
  for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                             "/assets/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt"}) {
    const std::string r = Raw(target);
    EXPECT_FALSE(r.empty()) << target;
    EXPECT_EQ(r.find("top secret"), std::string::npos) << target;
    EXPECT_EQ(r.find("200 OK"), std::string::npos) << target << ": " << r.substr(0, 200);
  }
}

TEST_F(WebRoutesTest, LatestValuesAreFilteredByScopeAndTags) {
  auto admin = Get("/api/v1/latest", admin_);
  ASSERT_TRUE(admin);
  ASSERT_EQ(admin->status, 200) << admin->body;
  json a = json::parse(admin->body);
  // The admin's grant on "*" has no condition, so the restricted signal is hidden from it too
  // (restricted data needs a grant made for it).
  EXPECT_EQ(SignalsOf(a, "m1"), (std::map<std::string, double>{{"temp", 40.0}}));
  EXPECT_EQ(SignalsOf(a, "p1"), (std::map<std::string, double>{{"temp", 55.0}}));
  ASSERT_EQ(a["assets"].size(), 2u);
  EXPECT_EQ(a["assets"][0]["site"], "lyon");
  EXPECT_EQ(a["assets"][0]["line"], "l1");

  auto viewer = Get("/api/v1/latest", viewer_);
  ASSERT_TRUE(viewer);
  json v = json::parse(viewer->body);
  ASSERT_EQ(v["assets"].size(), 1u);  // only its line's asset
  EXPECT_EQ(SignalsOf(v, "m1"), (std::map<std::string, double>{{"temp", 40.0}}));

  auto one = Get("/api/v1/latest?asset=p1", admin_);
  ASSERT_TRUE(one);
  EXPECT_EQ(json::parse(one->body)["assets"].size(), 1u);
  auto bad = Get("/api/v1/latest?asset=x%27%20or%201", admin_);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto anonymous = Get("/api/v1/latest", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(WebRoutesTest, LiveStreamSendsTheSnapshotThenChanges) {
  httplib::Client cli("127.0.0.1", api_->port());
  cli.set_read_timeout(10, 0);
  std::string received;
  bool appended = false;
  int events = 0;
  std::string content_type;
  const auto start = std::chrono::steady_clock::now();
  auto res = cli.Get(
      "/api/v1/live?asset=m1", {{"Authorization", "Bearer " + viewer_}},
      [&](const httplib::Response& r) {
        content_type = r.get_header_value("Content-Type");
        return r.status == 200;
      },
      [&](const char* data, size_t n) {
        received.append(data, n);
        events = 0;
        for (size_t p = received.find("event: values"); p != std::string::npos;
             p = received.find("event: values", p + 1)) {
          ++events;
        }
        if (events >= 1 && !appended) {
          appended = true;
          AppendTelemetry({{"m1", "temp", now_ + kSecond, 41.5}, {"p1", "temp", now_, 56.0}});
        }
        // Stop after the change, or after 8 s whatever came.
        return events < 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(8);
      });
  EXPECT_EQ(content_type, "text/event-stream");
  EXPECT_EQ(received.rfind("retry: 3000\n\n", 0), 0u) << received.substr(0, 200);
  ASSERT_EQ(events, 2) << received;
  // The first event is the whole (visible) snapshot, the second only m1's change: p1 is not this
  // viewer's, and the restricted signal never appears.
  const size_t second = received.find("event: values", received.find("event: values") + 1);
  const size_t data1 = received.find("data: ") + 6;
  json first = json::parse(received.substr(data1, received.find('\n', data1) - data1));
  EXPECT_TRUE(first["full"].get<bool>());
  EXPECT_EQ(SignalsOf(first, "m1"), (std::map<std::string, double>{{"temp", 40.0}}));
  const size_t data2 = received.find("data: ", second) + 6;
  json change = json::parse(received.substr(data2, received.find('\n', data2) - data2));
  EXPECT_FALSE(change["full"].get<bool>());
  EXPECT_EQ(SignalsOf(change, "m1"), (std::map<std::string, double>{{"temp", 41.5}}));
  EXPECT_EQ(change["assets"].size(), 1u);
  EXPECT_EQ(received.find("secret"), std::string::npos);
  EXPECT_EQ(received.find("p1"), std::string::npos);
}

TEST_F(WebRoutesTest, EventsNewestFirstWithAlertsFlagged) {
  auto all = Get("/api/v1/events", admin_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  json e = json::parse(all->body)["events"];
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0]["kind"], "cusum");          // 10 s ago
  EXPECT_EQ(e[1]["kind"], "ewma_z");         // 30 s ago
  EXPECT_EQ(e[2]["kind"], "quality");        // 60 s ago
  EXPECT_EQ(e[3]["kind"], "device_online");  // 90 s ago
  EXPECT_TRUE(e[0]["alert"].get<bool>());
  EXPECT_TRUE(e[1]["alert"].get<bool>());
  EXPECT_FALSE(e[2]["alert"].get<bool>());  // data quality
  EXPECT_FALSE(e[3]["alert"].get<bool>());  // a connector's report on the data's flow
  EXPECT_EQ(e[1]["message"], "ewma_z on m1");
  EXPECT_EQ(e[1]["threshold"], 3.0);

  auto alerts = Get("/api/v1/events?alerts=true&limit=1", admin_);
  ASSERT_TRUE(alerts);
  json top = json::parse(alerts->body);
  ASSERT_EQ(top["events"].size(), 1u);
  EXPECT_EQ(top["events"][0]["kind"], "cusum");
  EXPECT_TRUE(top["truncated"].get<bool>());

  // The viewer of lyon's line l1 sees m1's two events, the viewer of paris none of m1's.
  auto viewer = Get("/api/v1/events", viewer_);
  ASSERT_TRUE(viewer);
  EXPECT_EQ(json::parse(viewer->body)["events"].size(), 2u);
  auto paris = Get("/api/v1/events?asset=m1", paris_);
  ASSERT_TRUE(paris);
  EXPECT_EQ(json::parse(paris->body)["events"].size(), 0u);

  for (const char* bad : {"/api/v1/events?limit=0", "/api/v1/events?limit=x",
                          "/api/v1/events?alerts=maybe", "/api/v1/events?from=yesterday",
                          "/api/v1/events?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
                          "/api/v1/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"}) {
    auto r = Get(bad, admin_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
  }
}

TEST_F(WebRoutesTest, PredictionsNewestFirstFilteredByPlaceWithGuardFlags) {
  constexpr int64_t kHour = 3600 * kSecond;
  AppendPredictions({
      {"m1", "bearing_risk", "bearing_risk", now_ - 50 * kSecond, 0.2, "bearing_risk on m1: 0.2"},
      {"m1", "bearing_risk", "bearing_risk", now_ - 40 * kSecond, 0.8,
       "bearing_risk on m1: 0.8 >= 0.7"},
      {"m1", "bearing_risk", "bearing_risk", now_ - 30 * kSecond, 1.4,
       "physics_violation: risk_bounds: risk = 1.4 is outside [0, 1]"},
      {"m1", "bearing_risk", "bearing_risk", now_ - 20 * kSecond, 0.5,
       "out_of_envelope: ambient = 61 is outside the operating envelope [5, 45]"},
      // The guard's words inside a message do not make a flag: only its prefix does.
      {"m1", "bearing_risk", "bearing_risk", now_ - 15 * kSecond, 0.3,
       "note: physics_violation: was cleared"},
      {"m1", "bearing_risk", "winding_life", now_ - 12 * kSecond, 0.9, "winding_life on m1"},
      {"m1", "secret", "bearing_risk", now_ - 11 * kSecond, 0.1, "restricted signal"},
      {"p1", "bearing_risk", "bearing_risk", now_ - 10 * kSecond, 0.75, "bearing_risk on p1"},
      {"m1", "bearing_risk", "bearing_risk", now_ - 30 * kHour, 0.6, "yesterday's"},
  });
  auto all = Get("/api/v1/predictions", admin_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  json body = json::parse(all->body);
  EXPECT_FALSE(body["truncated"].get<bool>());
  json p = body["predictions"];
  // 9 rows: the restricted signal's and the one 30 h ago (outside the default 24 h) are not
  // returned, so 7, newest first.
  ASSERT_EQ(p.size(), 7u) << p.dump();
  EXPECT_EQ(p[0]["asset"], "p1");
  EXPECT_EQ(p[1]["model"], "winding_life");
  EXPECT_EQ(p[6]["value"], 0.2);
  const json& violation = p[4];  // 30 s ago
  EXPECT_EQ(violation["value"], 1.4);
  EXPECT_EQ(violation["threshold"], 0.7);
  EXPECT_EQ(violation["model_version"], "3");
  EXPECT_EQ(violation["site"], "lyon");
  EXPECT_EQ(violation["line"], "l1");
  EXPECT_EQ(violation["ts"], FormatTimestampMicros(now_ - 30 * kSecond));
  std::vector<bool> flags;
  for (const json& row : p) flags.push_back(row["flagged"].get<bool>());
  // p1, winding_life, note (not a flag), out_of_envelope, physics_violation, 0.8, 0.2.
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false, true, true, false, false}));
  EXPECT_EQ(all->body.find("restricted signal"), std::string::npos);

  // One asset and model; a range reaching yesterday's row; a limit.
  auto m1 = Get("/api/v1/predictions?asset=m1&model=bearing_risk", admin_);
  ASSERT_TRUE(m1);
  EXPECT_EQ(json::parse(m1->body)["predictions"].size(), 5u);
  const std::string from = FormatTimestampMicros(now_ - 31 * kHour);
  auto longer = Get("/api/v1/predictions?asset=m1&model=bearing_risk&from=" + from, admin_);
  ASSERT_TRUE(longer);
  json l = json::parse(longer->body)["predictions"];
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[5]["message"], "yesterday's");
  auto two = Get("/api/v1/predictions?limit=2", admin_);
  ASSERT_TRUE(two);
  json t = json::parse(two->body);
  ASSERT_EQ(t["predictions"].size(), 2u);
  EXPECT_EQ(t["predictions"][1]["model"], "winding_life");
  EXPECT_TRUE(t["truncated"].get<bool>());

  // A viewer of lyon's line sees m1's rows only; the viewer of paris only p1's.
  auto viewer = Get("/api/v1/predictions", viewer_);
  ASSERT_TRUE(viewer);
  json v = json::parse(viewer->body)["predictions"];
  ASSERT_EQ(v.size(), 6u);
  for (const json& row : v) EXPECT_EQ(row["asset"], "m1");
  auto paris = Get("/api/v1/predictions", paris_);
  ASSERT_TRUE(paris);
  json pa = json::parse(paris->body)["predictions"];
  ASSERT_EQ(pa.size(), 1u);
  EXPECT_EQ(pa[0]["asset"], "p1");
  auto none = Get("/api/v1/predictions?asset=m1", paris_);
  ASSERT_TRUE(none);
  EXPECT_EQ(json::parse(none->body)["predictions"].size(), 0u);
  auto anonymous = Get("/api/v1/predictions", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(WebRoutesTest, ListingsRefuseBadParametersNamingThem) {
  for (const char* route : {"/api/v1/predictions", "/api/v1/monitoring", "/api/v1/events"}) {
    const std::string r(route);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"?limit=0", "'limit'"},
        {"?limit=x", "limit"},
        {"?limit=20000", "'limit'"},
        {"?from=yesterday", "'from'"},
        {"?to=2026-13-01T00:00:00Z", "'to'"},
        {"?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "'from'"},
        {"?from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "'from'"},
        {"?asset=x%27%20or%201", "'asset'"},
    };
    for (const auto& [query, named] : bad) {
      auto res = Get(r + query, admin_);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 400) << r << query << ": " << res->body;
      EXPECT_NE(res->body.find(named), std::string::npos) << r << query << ": " << res->body;
    }
  }
  for (const char* route : {"/api/v1/predictions?model=a%20b", "/api/v1/monitoring?model=%27"}) {
    auto res = Get(route, admin_);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << route;
    EXPECT_NE(res->body.find("'model'"), std::string::npos) << res->body;
  }
  // Predictions span at most 31 days, monitoring 366: 40 days is fine for monitoring only.
  const std::string forty = "?from=2026-01-01T00:00:00Z&to=2026-02-10T00:00:00Z";
  auto p = Get("/api/v1/predictions" + forty, admin_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 400);
  auto m = Get("/api/v1/monitoring" + forty, admin_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200) << m->body;
}

TEST_F(WebRoutesTest, MonitoringWithoutItsTableIsAnEmptyList) {
  ASSERT_FALSE(fs::exists(dir_->path() + "/lake/model_monitoring"));
  auto r = Get("/api/v1/monitoring?asset=m1", viewer_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body), (json{{"windows", json::array()}, {"truncated", false}}));
}

// A model_monitoring table that another tool wrote with `ts` as text: the route answers with an
// error naming the table and the column, and the API goes on serving.
TEST_F(WebRoutesTest, AMonitoringTableOfTheWrongShapeIsAnErrorNamingTheColumn) {
  auto table = lake::LakeTable::Open(dir_->path() + "/lake/model_monitoring", &clock(),
                                     /*create_location=*/true);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  std::vector<lake::BatchField> schema = mlops::MonitoringSchema();
  for (lake::BatchField& f : schema) {
    if (f.name == "ts") f.type = lake::ColumnType::kString;
  }
  ASSERT_TRUE((*table)->Create(schema, {}).ok());
  lake::RecordBatch b(schema);
  for (size_t i = 0; i < schema.size(); ++i) {
    lake::Column& c = b.column(i);
    switch (schema[i].type) {
      case lake::ColumnType::kString: c.AppendString(schema[i].name == "asset" ? "m1" : "x"); break;
      case lake::ColumnType::kDouble: c.AppendDouble(0.5); break;
      default:  // date, within the route's default range
        c.AppendInt(DayOf(TimeFromUnixMicros(now_)).time_since_epoch().count());
        break;
    }
  }
  ASSERT_TRUE((*table)->Append(b).ok());
  auto r = Get("/api/v1/monitoring", admin_);
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("model_monitoring"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("ts"), std::string::npos) << r->body;
  auto events = Get("/api/v1/events", admin_);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->status, 200);
}

TEST_F(WebRoutesTest, MonitoringWindowsGroupTheirChecksAndFollowTheAssetsPlace) {
  constexpr int64_t kHour = 3600 * kSecond;
  using mlops::Action;
  using mlops::Level;
  const int64_t w1 = now_ - 2 * kHour, w2 = now_ - kHour;
  AppendMonitoring({
      // m1, two windows: healthy, then a thermal alert (retrain).
      Check(w1, "m1", "thermal_degradation", "winding_temp", "residual_mean", 1.2, Level::kOk, 0.85,
            Action::kNone),
      Check(w1, "m1", "feature_drift", "current", "psi", 0.12, Level::kWarn, 0.85, Action::kNone),
      Check(w1, "m1", "reliability", "", "score", 0.85, Level::kOk, 0.85, Action::kNone),
      Check(w2, "m1", "thermal_degradation", "winding_temp", "residual_mean", 5.1, Level::kAlert,
            0.6, Action::kRetrain),
      Check(w2, "m1", "thermal_degradation", "winding_temp", "residual_slope", 0.4, Level::kAlert,
            0.6, Action::kRetrain),
      // A drift check of the restricted signal: its window shows, this check does not.
      Check(w2, "m1", "feature_drift", "secret", "psi", 0.02, Level::kOk, 0.6, Action::kRetrain),
      Check(w2, "m1", "reliability", "", "score", 0.6, Level::kOk, 0.6, Action::kRetrain),
      // p1 at the same end; m9, which the catalog does not place (a global resource).
      Check(w2, "p1", "reliability", "", "score", 0.93, Level::kOk, 0.93, Action::kNone),
      Check(now_ - 3 * kHour, "m9", "reliability", "", "score", 0.5, Level::kWarn, 0.5,
            Action::kMarkLowTrust),
      // 40 days ago: outside the default 30 days.
      Check(now_ - 40 * 24 * kHour, "m1", "reliability", "", "score", 0.9, Level::kOk, 0.9,
            Action::kNone),
  });
  auto all = Get("/api/v1/monitoring", admin_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  json w = json::parse(all->body)["windows"];
  // Newest first, equal ends by asset: m1@w2, p1@w2, m1@w1, m9.
  ASSERT_EQ(w.size(), 4u) << w.dump();
  EXPECT_EQ(w[0]["asset"], "m1");
  EXPECT_EQ(w[1]["asset"], "p1");
  EXPECT_EQ(w[2]["asset"], "m1");
  EXPECT_EQ(w[3]["asset"], "m9");
  const json& alert = w[0];
  EXPECT_EQ(alert["end"], FormatTimestampMicros(w2));
  EXPECT_TRUE(alert["start"].is_null());  // the table keeps a window's end only
  EXPECT_EQ(alert["model"], "bearing_risk");
  EXPECT_EQ(alert["model_version"], "3");
  EXPECT_EQ(alert["site"], "lyon");
  EXPECT_EQ(alert["line"], "l1");
  EXPECT_EQ(alert["score"], 0.6);
  EXPECT_EQ(alert["level"], "alert");  // the worst of its rows
  EXPECT_EQ(alert["action"], "retrain");
  ASSERT_EQ(alert["checks"].size(), 3u) << alert.dump();  // the secret's drift is hidden
  std::map<std::string, double> thermal;
  for (const json& c : alert["checks"]) {
    EXPECT_NE(c["subject"], "secret");
    if (c["check"] == "thermal_degradation") {
      EXPECT_EQ(c["subject"], "winding_temp");
      EXPECT_EQ(c["level"], "alert");
      thermal[c["statistic"]] = c["value"].get<double>();
    }
  }
  EXPECT_EQ(thermal,
            (std::map<std::string, double>{{"residual_mean", 5.1}, {"residual_slope", 0.4}}));
  EXPECT_EQ(w[2]["level"], "warn");  // the drift's warn, though the score row is ok
  EXPECT_EQ(w[2]["score"], 0.85);
  EXPECT_EQ(w[2]["checks"].size(), 3u);
  EXPECT_EQ(w[3]["site"], "");

  // The viewer of lyon's line sees m1's windows; the viewer of paris p1's; neither sees m9.
  auto viewer = Get("/api/v1/monitoring", viewer_);
  ASSERT_TRUE(viewer);
  json v = json::parse(viewer->body)["windows"];
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["asset"], "m1");
  EXPECT_EQ(v[1]["asset"], "m1");
  auto paris = Get("/api/v1/monitoring", paris_);
  ASSERT_TRUE(paris);
  json pa = json::parse(paris->body)["windows"];
  ASSERT_EQ(pa.size(), 1u);
  EXPECT_EQ(pa[0]["asset"], "p1");
  EXPECT_EQ(pa[0]["score"], 0.93);

  // Filters, the range and the limit (in windows, not rows).
  auto one = Get("/api/v1/monitoring?asset=m1&model=bearing_risk&limit=1", admin_);
  ASSERT_TRUE(one);
  json o = json::parse(one->body);
  ASSERT_EQ(o["windows"].size(), 1u);
  EXPECT_EQ(o["windows"][0]["end"], FormatTimestampMicros(w2));
  EXPECT_EQ(o["windows"][0]["checks"].size(), 3u);
  EXPECT_TRUE(o["truncated"].get<bool>());
  auto other = Get("/api/v1/monitoring?model=winding_life", admin_);
  ASSERT_TRUE(other);
  EXPECT_EQ(json::parse(other->body)["windows"].size(), 0u);
  const std::string from = FormatTimestampMicros(now_ - 41 * 24 * kHour);
  auto old = Get("/api/v1/monitoring?asset=m1&from=" + from, admin_);
  ASSERT_TRUE(old);
  json ow = json::parse(old->body)["windows"];
  ASSERT_EQ(ow.size(), 3u);
  EXPECT_EQ(ow[2]["score"], 0.9);
}

TEST_F(WebRoutesTest, ManyMonitoringWindowsKeepTheNewest) {
  // 1500 windows of one minute, two rows each: more than the 4·limit + 1024 windows the route
  // holds before dropping the oldest, so the newest two must survive that.
  std::vector<mlops::CheckResult> rows;
  for (int64_t k = 1; k <= 1500; ++k) {
    const double score = static_cast<double>(k) / 10000;  // window k ended k minutes ago
    rows.push_back(Check(now_ - k * 60 * kSecond, "m1", "reliability", "", "score", score,
                         mlops::Level::kOk, score, mlops::Action::kNone));
    rows.push_back(Check(now_ - k * 60 * kSecond, "m1", "feature_drift", "current", "psi", 0.01,
                         mlops::Level::kOk, score, mlops::Action::kNone));
  }
  AppendMonitoring(rows);
  auto r = Get("/api/v1/monitoring?limit=2", viewer_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  ASSERT_EQ(body["windows"].size(), 2u);
  EXPECT_EQ(body["windows"][0]["score"], 0.0001);
  EXPECT_EQ(body["windows"][1]["score"], 0.0002);
  EXPECT_EQ(body["windows"][1]["checks"].size(), 2u);
  EXPECT_TRUE(body["truncated"].get<bool>());
  auto all = Get("/api/v1/monitoring?limit=5000", viewer_);
  ASSERT_TRUE(all);
  EXPECT_EQ(json::parse(all->body)["windows"].size(), 1500u);
}

TEST_F(WebRoutesTest, WhoAmITellsTheDashboardWhatTheCallerMayDo) {
  auto admin = Get("/api/v1/whoami", admin_);
  ASSERT_TRUE(admin);
  json a = json::parse(admin->body)["permissions"];
  EXPECT_NE(std::find(a["global"].begin(), a["global"].end(), "manage_principals"),
            a["global"].end());
  auto viewer = Get("/api/v1/whoami", viewer_);
  ASSERT_TRUE(viewer);
  json v = json::parse(viewer->body)["permissions"];
  EXPECT_TRUE(v["global"].empty());  // a grant on one line reaches no global resource
  EXPECT_EQ(v["anywhere"], (json{"read_telemetry", "query_view", "read_catalog"}));
}

}  // namespace
}  // namespace weft::core::web

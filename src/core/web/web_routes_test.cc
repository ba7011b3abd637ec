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
#include "testing/test_env.h"

namespace weft::core::web {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using registry::Role;

constexpr int64_t kSecond = 1'000'000;

//! One row per sample at place lyon/machining/l1 (asset m1) or paris/press/p1 (asset p1).
lake::RecordBatch TelemetryRows(
    const std::vector<std::tuple<std::string, std::string, int64_t, double>>& samples) {
  lake::RecordBatch b(LakeTableSchema(LakeTableId::kTelemetry));
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  for (const auto& [asset, signal, ts, value] : samples) {
    const bool lyon = asset == "m1";
    col("date").AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
    col("ts").AppendInt(ts);
    col("edge").AppendString("e1");
    col("stream").AppendString("normal");
    col("seq").AppendInt(1);
    col("site").AppendString(lyon ? "lyon" : "paris");
    col("area").AppendString(lyon ? "machining" : "press");
    col("line").AppendString(lyon ? "l1" : "p-line");
    col("asset").AppendString(asset);
    col("asset_type").AppendString("motor");
    col("signal").AppendString(signal);
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
      const bool lyon = asset == "m1";
      col("date").AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
      col("ts").AppendInt(ts);
      col("edge").AppendString("e1");
      col("stream").AppendString("high");
      col("seq").AppendInt(1);
      col("site").AppendString(lyon ? "lyon" : "paris");
      col("area").AppendString(lyon ? "machining" : "press");
      col("line").AppendString(lyon ? "l1" : "p-line");
      col("asset").AppendString(asset);
      col("asset_type").AppendString("motor");
      col("signal").AppendString("temp");
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

#include "core/core_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "common/time_format.h"
#include "core/api/api_server.h"
#include "core/api/control_routes.h"
#include "core/audit/audit_log.h"
#include "core/catalog/catalog.h"
#include "core/catalog/tag_rules.h"
#include "core/fleet/fleet_routes.h"
#include "core/fleet/provisioning.h"
#include "core/governance/approval_board.h"
#include "core/governance/governance_routes.h"
#include "core/governance/policies.h"
#include "core/ingest/ingestor.h"
#include "core/kpi/kpi_routes.h"
#include "core/ota/fleet_devices.h"
#include "core/ota/ota_routes.h"
#include "core/ota/ota_service.h"
#include "core/registry/sqlite_registry_store.h"
#include "core/web/live_telemetry.h"
#include "core/web/static_files.h"
#include "core/web/web_routes.h"
#include "edge/http_endpoint.h"
#include "mlops/registry/model_registry.h"
#include "model/plant_loader.h"

namespace weft::core {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  g_signal.store(sig);
}

nlohmann::json IngestJson(const IngestStats& s) {
  nlohmann::json rows = nlohmann::json::object();
  for (int t = 0; t < kLakeTableCount; ++t) {
    rows[std::string(LakeTableName(static_cast<LakeTableId>(t)))] = s.rows[static_cast<size_t>(t)];
  }
  return nlohmann::json{{"messages", s.messages},
                        {"other_shard", s.other_shard},
                        {"rejected", s.rejected},
                        {"duplicates", s.duplicates},
                        {"held", s.held},
                        {"dropped_held", s.dropped_held},
                        {"batches_committed", s.batches_committed},
                        {"commits", s.commits},
                        {"commit_errors", s.commit_errors},
                        {"conflicts", s.conflicts},
                        {"rows", rows},
                        {"watermarks_published", s.watermarks_published},
                        {"floors", s.floors},
                        {"catalog_errors", s.catalog_errors},
                        {"compactions", s.compactions},
                        {"files_compacted", s.files_compacted},
                        {"compaction_errors", s.compaction_errors},
                        {"inbox_bytes", s.inbox_bytes},
                        {"latency_p50_ms", s.latency_p50_ms},
                        {"latency_p99_ms", s.latency_p99_ms}};
}

void ApiMetricsText(const api::ApiMetrics& a, edge::MetricsText* m) {
  m->Counter("weft_core_api_requests_total", "API requests.", static_cast<double>(a.requests))
      .Counter("weft_core_api_unauthenticated_total", "API requests refused with 401.",
               static_cast<double>(a.unauthenticated))
      .Counter("weft_core_api_forbidden_total", "API requests denied with 403.",
               static_cast<double>(a.forbidden))
      .Counter("weft_core_api_bad_json_total", "API requests with a malformed JSON body.",
               static_cast<double>(a.bad_json))
      .Counter("weft_core_api_payload_too_large_total", "API requests over the body limit.",
               static_cast<double>(a.payload_too_large))
      .Counter("weft_core_api_server_errors_total", "API answers with a 5xx status.",
               static_cast<double>(a.server_errors))
      .Counter("weft_core_api_audit_failures_total", "Audit records that could not be written.",
               static_cast<double>(a.audit_failures))
      .Counter("weft_core_api_exports_total", "View exports served (csv, parquet).",
               static_cast<double>(a.exports));
}

//! Governance-side options of weft-core (issue 9).
struct FleetFlags {
  std::vector<std::string> manufacturer_cas;  //!< --manufacturer-ca (PEM files)
  std::string device_cert_validity = "30d";
  double provision_rate = 500;
  std::string broker_listen;  //!< --broker-listen HOST:PORT: write the mTLS broker's files
  std::string governance;     //!< --governance policies file
};

//! The REST API and the services behind it, all in the state directory. The members outlive the
//! server (declared first, destroyed last). Opened in two steps: OpenApiParts before the ingest
//! (the broker's files must exist before the core connects to it), StartApi after.
struct ApiParts {
  std::unique_ptr<registry::SqliteRegistryStore> registry;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<governance::ApprovalBoard> board;
  std::unique_ptr<mlops::ModelRegistry> models;
  std::unique_ptr<api::ControlService> control;
  std::unique_ptr<ota::OtaService> ota;
  std::unique_ptr<fleet::ProvisioningService> provisioning;
  std::optional<fleet::BrokerConfigFiles> broker_files;
  std::atomic<Ingestor*> ingestor{nullptr};  //!< set once the ingest runs (edge commands)
  std::optional<model::Plant> plant;         //!< --plant: the roadmap's use cases
  std::string web_root;                      //!< --web-root: the dashboard's files
  std::optional<web::StaticSite> web_site;   //!< opened from web_root
  std::unique_ptr<web::LiveTelemetry> live;  //!< latest values (the dashboard's routes)
  std::unique_ptr<api::ApiServer> server;
};

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status OpenApiParts(const std::string& listen, const std::string& state, const FleetFlags& ff,
                    const Clock* clock, ApiParts* parts) {
  WEFT_ASSIGN_OR_RETURN(parts->registry,
                        registry::SqliteRegistryStore::Open(state + "/registry.db", clock));
  WEFT_ASSIGN_OR_RETURN(parts->audit, audit::AuditLog::Open(state + "/audit", clock));
  // The governance board: which decisions need which roles (--governance over the defaults).
  governance::Policies policies = governance::Policies::Defaults();
  if (!ff.governance.empty()) {
    WEFT_ASSIGN_OR_RETURN(policies, governance::LoadPoliciesFile(ff.governance));
  }
  WEFT_ASSIGN_OR_RETURN(
      parts->board,
      governance::ApprovalBoard::Open(
          {.db_path = state + "/governance.db", .policies = policies, .clock = clock}));
  mlops::ModelRegistryOptions mo;
  mo.production_approver_roles = policies.RolesFor(governance::kModelPromotion);
  WEFT_ASSIGN_OR_RETURN(parts->models, mlops::ModelRegistry::Open(state, clock, mo));
  // Control governance: <state>/control.db, the grant key in <state>/keys; commands to edges
  // go through the ingest's broker connection.
  auto send = [parts](std::string_view edge, std::string_view name,
                      std::string_view payload) -> Status {
    Ingestor* in = parts->ingestor.load();
    if (in == nullptr) return UnavailableError("the ingest's broker connection is not up yet");
    return in->SendEdgeCommand(edge, name, payload);
  };
  api::ControlOptions co{.state_dir = state, .clock = clock, .send_command = send};
  co.approver_roles = policies.RolesFor(governance::kControlWriteMode);
  if (const governance::DecisionPolicy* p = policies.Find(governance::kControlWriteMode)) {
    co.approval_ttl = p->valid_for;
  }
  WEFT_ASSIGN_OR_RETURN(parts->control, api::ControlService::Open(std::move(co)));

  // Fleet: provisioning (fleet CA, allowlist, certificates, the broker's files) and OTA.
  fleet::ProvisioningOptions po;
  po.state_dir = state;
  for (const std::string& f : ff.manufacturer_cas) {
    WEFT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(f));
    po.manufacturer_ca_pem += pem + "\n";
  }
  WEFT_ASSIGN_OR_RETURN(po.device_cert_validity, ParseDuration(ff.device_cert_validity));
  po.global_rate = {ff.provision_rate, 2 * ff.provision_rate};
  po.registry = parts->registry.get();
  po.audit = parts->audit.get();
  po.clock = clock;
  po.is_certified = [parts](std::string_view hw) -> Result<bool> {
    return parts->ota->IsCertified(hw);
  };
  po.ota_public_key = [parts]() -> Result<std::string> { return parts->ota->ota_public_key(); };
  WEFT_ASSIGN_OR_RETURN(parts->provisioning, fleet::ProvisioningService::Open(std::move(po)));

  ota::OtaOptions oo{.state_dir = state, .clock = clock};
  oo.send_command = send;
  oo.fleet = ota::FleetStoreDevices(&parts->provisioning->store());
  governance::ApprovalBoard* board = parts->board.get();
  oo.approvals = [board](std::string_view decision, std::string_view subject) {
    return board->Check(decision, subject);
  };
  oo.audit = parts->audit.get();
  // Devices download artifacts from the API's address (StartApi sets the port it bound).
  oo.download_base_url = "https://" + listen;
  WEFT_ASSIGN_OR_RETURN(parts->ota, ota::OtaService::Open(std::move(oo)));

  parts->board->AddPendingSource("model_registry",
                                 governance::ModelPromotionPending(parts->models.get()));
  parts->board->AddPendingSource("control", governance::ControlPending(parts->control.get()));

  if (!ff.broker_listen.empty()) {
    const size_t colon = ff.broker_listen.rfind(':');
    WEFT_ASSIGN_OR_RETURN(
        int64_t port,
        api::ParseInt(colon == std::string::npos ? "" : ff.broker_listen.substr(colon + 1),
                      "--broker-listen's port"));
    if (port <= 0 || port > 65535) {
      return InvalidArgumentError("--broker-listen is HOST:PORT with a port in 1..65535");
    }
    WEFT_ASSIGN_OR_RETURN(parts->broker_files, parts->provisioning->WriteBrokerConfig(
                                                   {.host = ff.broker_listen.substr(0, colon),
                                                    .port = static_cast<uint16_t>(port)}));
  }
  return Status::Ok();
}

Status StartApi(const std::string& listen, const std::string& cert, const std::string& key,
                const std::string& views, const std::string& lake, const std::string& state,
                Ingestor* ingestor, catalog::Catalog* cat, const Clock* clock, std::ostream& out,
                ApiParts* parts) {
  parts->ingestor.store(ingestor);
  for (const std::string& filter : parts->ota->Subscriptions()) {
    ota::OtaService* svc = parts->ota.get();
    WEFT_RETURN_IF_ERROR(ingestor->Subscribe(filter, [svc](const mqtt::Message& m) {
      Status s = svc->HandleMessage(m.topic, m.payload);
      if (!s.ok()) spdlog::warn("weft-core: device report on {}: {}", m.topic, s.message());
    }));
  }
  api::ApiOptions ao;
  ao.listen = listen;
  ao.cert_file = cert;
  ao.key_file = key;
  if (cert.empty()) {
    // First start without a certificate: a self-signed one in <state>/tls, kept for later starts.
    ao.cert_file = state + "/tls/cert.pem";
    ao.key_file = state + "/tls/key.pem";
    if (!std::filesystem::exists(ao.cert_file) || !std::filesystem::exists(ao.key_file)) {
      std::error_code ec;
      std::filesystem::create_directories(state + "/tls", ec);
      WEFT_RETURN_IF_ERROR(api::WriteSelfSignedCertificate(ao.cert_file, ao.key_file, "localhost",
                                                           std::chrono::hours(24 * 825)));
      out << "weft-core: generated a self-signed API certificate " << ao.cert_file
          << " (clients trust it with e.g. curl --cacert; or pass --tls-cert/--tls-key)"
          << std::endl;
    }
  }
  ao.registry = parts->registry.get();
  ao.audit = parts->audit.get();
  ao.models = parts->models.get();
  ao.control = parts->control.get();
  ao.asset_location = [cat](std::string_view asset) -> std::optional<api::AssetLocation> {
    Result<std::vector<catalog::SignalRecord>> found =
        cat->FindSignals({{.key = "asset", .value = std::string(asset)}});
    if (!found.ok() || found->empty()) return std::nullopt;
    const catalog::SignalRecord& r = found->front();
    return api::AssetLocation{r.site, r.area, r.line};
  };
  ao.clock = clock;
  ao.views_file = views;
  ao.lake_root = lake;
  ao.state_dir = state;
  ao.ingest_stats = [ingestor] { return IngestJson(ingestor->stats()); };
  ao.tag_lookup = [cat](std::string_view asset, std::string_view signal) {
    std::map<std::string, std::string> none;
    if (signal.empty()) return none;  // the catalog tags signals; an asset has no own entry
    Result<std::map<std::string, std::string>> t = cat->SignalTags(asset, signal);
    return t.ok() ? *t : none;
  };
  ao.catalog_search = [cat](std::string_view query) -> Result<std::vector<api::CatalogSignal>> {
    catalog::TagQuery q;
    if (!query.empty()) {
      WEFT_ASSIGN_OR_RETURN(q, catalog::ParseTagQuery(query));
    }
    WEFT_ASSIGN_OR_RETURN(std::vector<catalog::SignalRecord> found, cat->FindSignals(q));
    std::vector<api::CatalogSignal> signals;
    for (const catalog::SignalRecord& r : found) {
      Result<std::map<std::string, std::string>> tags = cat->SignalTags(r.asset, r.signal);
      signals.push_back({r.site, r.area, r.line, r.asset, r.signal,
                         tags.ok() ? *tags : std::map<std::string, std::string>{}});
    }
    return signals;
  };
  for (api::ModuleRoute& r : fleet::FleetRoutes(parts->provisioning.get())) {
    ao.modules.push_back(std::move(r));
  }
  for (api::ModuleRoute& r : ota::OtaRoutes(parts->ota.get(), parts->audit.get())) {
    ao.modules.push_back(std::move(r));
  }
  governance::GovernanceRouteOptions go{.board = parts->board.get()};
  go.external_approvers[std::string(governance::kModelPromotion)] =
      governance::ModelPromotionApprover(parts->models.get());
  go.external_approvers[std::string(governance::kControlWriteMode)] =
      governance::ControlApprover(parts->control.get());
  for (api::ModuleRoute& r : governance::GovernanceRoutes(std::move(go))) {
    ao.modules.push_back(std::move(r));
  }
  // KPIs (issue 10): the kpi table always; the roadmap when the core knows its plant (--plant).
  kpi::KpiRouteOptions ko{.lake_root = lake,
                          .plant = parts->plant ? &*parts->plant : nullptr,
                          .clock = clock,
                          .tag_lookup = ao.tag_lookup};
  for (api::ModuleRoute& r : kpi::KpiRoutes(std::move(ko))) ao.modules.push_back(std::move(r));
  // The dashboard (issue 11): latest values polled from the lake, their live stream, events;
  // with --web-root also its static files at "/". Each open stream holds a request thread: at
  // most half of them stream (16 threads with the dashboard, the default 4 without).
  const bool dashboard = !parts->web_root.empty();
  web::LiveTelemetryOptions lo{.lake_root = lake, .clock = clock};
  lo.max_streams = dashboard ? 8 : 2;
  WEFT_ASSIGN_OR_RETURN(parts->live, web::LiveTelemetry::Open(std::move(lo)));
  parts->live->StartPolling();
  web::WebRouteOptions wo{.live = parts->live.get(), .lake_root = lake, .clock = clock};
  wo.tag_lookup = ao.tag_lookup;
  wo.asset_location = ao.asset_location;
  for (api::ModuleRoute& r : web::WebRoutes(std::move(wo))) ao.modules.push_back(std::move(r));
  if (dashboard) {
    WEFT_ASSIGN_OR_RETURN(web::StaticSite site, web::StaticSite::Open(parts->web_root));
    parts->web_site.emplace(std::move(site));
    const web::StaticSite* served = &*parts->web_site;
    ao.static_files = [served](std::string_view path) { return served->Serve(path); };
    ao.threads = 16;
  }
  WEFT_ASSIGN_OR_RETURN(parts->server, api::ApiServer::Start(std::move(ao)));
  // The campaigns' download URLs name the port the API bound (--api-listen HOST:0 too).
  parts->ota->engine().SetDownloadBaseUrl("https://" + listen.substr(0, listen.rfind(':')) + ":" +
                                          std::to_string(parts->server->port()));
  parts->ota->StartEngine();
  if (!parts->server->bootstrap_token_file().empty()) {
    out << "weft-core: empty registry: the admin API token is in "
        << parts->server->bootstrap_token_file() << std::endl;
  }
  return Status::Ok();
}

std::string Metrics(const Ingestor& in, const api::ApiServer* api) {
  const IngestStats s = in.stats();
  edge::MetricsText m;
  if (api != nullptr) ApiMetricsText(api->metrics(), &m);
  m.Counter("weft_core_ingest_messages_total", "Uplink publications received.",
            static_cast<double>(s.messages))
      .Counter("weft_core_ingest_other_shard_total", "Publications of edges another worker owns.",
               static_cast<double>(s.other_shard))
      .Counter("weft_core_ingest_rejected_total",
               "Batches refused (undecodable, or edge id not matching the topic).",
               static_cast<double>(s.rejected))
      .Counter("weft_core_ingest_duplicates_total", "Batches already committed.",
               static_cast<double>(s.duplicates))
      .Counter("weft_core_ingest_held_total", "Batches that arrived ahead of a gap.",
               static_cast<double>(s.held))
      .Counter("weft_core_ingest_batches_committed_total", "Batches committed to the lake.",
               static_cast<double>(s.batches_committed))
      .Counter("weft_core_ingest_commits_total", "Commit cycles.", static_cast<double>(s.commits))
      .Counter("weft_core_ingest_commit_errors_total", "Failed commit attempts (retried).",
               static_cast<double>(s.commit_errors))
      .Counter("weft_core_ingest_conflicts_total", "Streams found committed by another writer.",
               static_cast<double>(s.conflicts))
      .Gauge("weft_core_ingest_inbox_bytes", "Batches received and not yet processed.",
             static_cast<double>(s.inbox_bytes))
      .Gauge("weft_core_ingest_latency_p50_ms", "Sample timestamp to readable in the lake, p50.",
             static_cast<double>(s.latency_p50_ms))
      .Gauge("weft_core_ingest_latency_p99_ms", "Sample timestamp to readable in the lake, p99.",
             static_cast<double>(s.latency_p99_ms));
  for (int t = 0; t < kLakeTableCount; ++t) {
    m.Counter("weft_core_lake_rows_total", "Rows committed, by table.",
              static_cast<double>(s.rows[static_cast<size_t>(t)]),
              "table=\"" + std::string(LakeTableName(static_cast<LakeTableId>(t))) + "\"");
  }
  return m.str();
}

//! The catalog in the state directory, with the tag rules (if any) and the lake's tables.
Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(const std::string& state,
                                                      const std::string& rules_file,
                                                      const std::string& lake, const Clock* clock) {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<catalog::Catalog> cat,
                        catalog::Catalog::Open(state + "/catalog.db", clock));
  if (!rules_file.empty()) {
    WEFT_ASSIGN_OR_RETURN(catalog::TagRules rules, catalog::LoadTagRulesFile(rules_file));
    WEFT_RETURN_IF_ERROR(cat->SetRules(std::move(rules)));
  }
  for (int t = 0; t < kLakeTableCount; ++t) {
    const auto id = static_cast<LakeTableId>(t);
    catalog::TableDef def;
    def.name = std::string(LakeTableName(id));
    def.location = LakeTablePath(lake, id);
    def.description = "Delta table written by weft-core's ingest, partitioned by date";
    for (const lake::BatchField& f : LakeTableSchema(id)) {
      def.columns.push_back({.name = f.name, .type = std::string(lake::TypeName(f.type))});
    }
    WEFT_RETURN_IF_ERROR(cat->RegisterTable(def));
  }
  return cat;
}

}  // namespace

int CoreMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"weft-core: exactly-once ingest of edge batches into the lake", "weft-core"};
  std::string lake, state, broker = "mqtt://127.0.0.1:1883", worker = "0/1",
                           http = "127.0.0.1:9470", commit_interval = "1s", log_level = "info",
                           api_listen = "127.0.0.1:8443", tls_cert, tls_key, views;
  app.add_option("--lake", lake, "lake root: a directory (one Delta table per folder)")->required();
  app.add_option("--state", state, "state directory (rejected batches); default: <lake>/../state");
  app.add_option("--broker", broker, "MQTT broker the edges publish to")->capture_default_str();
  app.add_option("--worker", worker, "this worker's share: INDEX/COUNT")->capture_default_str();
  app.add_option("--http", http, "/metrics and /health (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--commit-interval", commit_interval, "longest wait before a commit")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--api-listen", api_listen,
                 "REST API (HTTPS) address; port 0: any free port; \"\": no API")
      ->capture_default_str();
  app.add_option("--tls-cert", tls_cert,
                 "API certificate (PEM); default <state>/tls/cert.pem, self-signed at first start");
  app.add_option("--tls-key", tls_key, "API private key (PEM); default <state>/tls/key.pem");
  app.add_option("--views", views, "views file the API serves (e.g. examples/views.yaml)");
  std::string tag_rules;
  app.add_option("--tag-rules", tag_rules,
                 "declarative tag rules for the catalog (e.g. examples/tag_rules.yaml)");
  FleetFlags ff;
  app.add_option("--manufacturer-ca", ff.manufacturer_cas,
                 "PEM file of a device manufacturer's CA whose factory certificates may "
                 "provision devices (repeatable)");
  app.add_option("--device-cert-validity", ff.device_cert_validity,
                 "validity of the device certificates the fleet CA signs (renewed after 2/3)")
      ->capture_default_str();
  app.add_option("--provision-rate", ff.provision_rate,
                 "provisioning requests per second over all devices (burst: twice that)")
      ->capture_default_str();
  app.add_option("--broker-listen", ff.broker_listen,
                 "write the files of an mTLS mosquitto listener on HOST:PORT to <state>/broker "
                 "(fleet CA, server certificate, CRL, per-device ACL); run mosquitto -c "
                 "<state>/broker/mosquitto.conf");
  app.add_option("--governance", ff.governance,
                 "approval policies (YAML): which roles each decision needs");
  std::string plant_file;
  app.add_option("--plant", plant_file,
                 "plant.yaml: its use cases for GET /api/v1/roadmap (GET /api/v1/kpi needs none)");
  std::string web_root;
  app.add_option("--web-root", web_root,
                 "serve the dashboard's built files (web/, e.g. build/web) at / on the API's "
                 "address; default: no dashboard");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  auto level = ParseLogLevel(log_level);
  if (!level.ok()) {
    err << "weft-core: " << level.status().message() << "\n";
    return 2;
  }
  InitLogging(*level);

  IngestOptions o;
  o.lake_root = lake;
  o.state_dir = state.empty() ? lake + "/../state" : state;
  Result<mqtt::BrokerAddress> address = mqtt::BrokerAddress::Parse(broker);
  if (!address.ok()) {
    err << "weft-core: --broker: " << address.status().message() << "\n";
    return 2;
  }
  o.broker = *address;
  unsigned index = 0, count = 0;
  char slash = 0;
  if (std::sscanf(worker.c_str(), "%u%c%u", &index, &slash, &count) != 3 || slash != '/' ||
      count == 0 || index >= count) {
    err << "weft-core: --worker is INDEX/COUNT with INDEX < COUNT, e.g. 0/2; got '" << worker
        << "'\n";
    return 2;
  }
  o.worker_index = index;
  o.worker_count = count;
  Result<Micros> interval = ParseDuration(commit_interval);
  if (!interval.ok() || interval->count() <= 0) {
    err << "weft-core: --commit-interval is a duration such as 500ms or 2s; got '"
        << commit_interval << "'\n";
    return 2;
  }
  o.commit_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);

  if (tls_cert.empty() != tls_key.empty()) {
    err << "weft-core: give both --tls-cert and --tls-key, or neither (self-signed)\n";
    return 2;
  }
  std::error_code dir_error;
  std::filesystem::create_directories(o.state_dir, dir_error);
  Result<std::unique_ptr<catalog::Catalog>> cat =
      OpenCatalog(o.state_dir, tag_rules, lake, &SystemClock::Default());
  if (!cat.ok()) {
    err << "weft-core: catalog: " << cat.status().ToString() << "\n";
    return cat.status().code() == StatusCode::kInvalidArgument ? 2 : 3;
  }
  o.catalog = cat->get();

  // The API's services. An address given with --api-listen must work; the default one is
  // skipped with a warning when it cannot start (e.g. a second worker sharing the state
  // directory or the port).
  ApiParts api;
  if (!web_root.empty()) {
    Result<web::StaticSite> site = web::StaticSite::Open(web_root);
    if (!site.ok()) {
      err << "weft-core: --web-root: " << site.status().message() << "\n";
      return 2;
    }
    if (api_listen.empty()) {
      err << "weft-core: --web-root needs the API (the dashboard is served on its address)\n";
      return 2;
    }
  }
  api.web_root = web_root;
  if (!plant_file.empty()) {
    Diagnostics diags;
    Result<model::Plant> plant = model::LoadPlantFile(plant_file, &diags);
    if (!plant.ok()) {
      err << "weft-core: --plant: "
          << (diags.all().empty() ? plant.status().message() + "\n" : diags.ToString());
      return 2;
    }
    api.plant = std::move(plant).value();
  }
  bool api_on = !api_listen.empty();
  if (!ff.broker_listen.empty() && !api_on) {
    err << "weft-core: --broker-listen needs the API (provisioning writes the broker's ACL)\n";
    return 2;
  }
  if (api_on) {
    Status opened = OpenApiParts(api_listen, o.state_dir, ff, &SystemClock::Default(), &api);
    if (!opened.ok()) {
      if (app.count("--api-listen") > 0 || !ff.broker_listen.empty()) {
        err << "weft-core: API: " << opened.ToString() << "\n";
        return opened.code() == StatusCode::kInvalidArgument ? 2 : 3;
      }
      spdlog::warn(
          "weft-core: the API is not started ({}); pass --api-listen to require it, "
          "or --api-listen \"\" to turn it off",
          opened.ToString());
      api_on = false;
    }
  }
  if (api.broker_files) {
    out << "weft-core: mTLS broker files in " << api.broker_files->dir << " (mosquitto -c "
        << api.broker_files->conf << "), devices connect to " << api.broker_files->url << std::endl;
    // The core's own identity on that broker, unless told otherwise.
    if (o.broker.tls && !o.tls) {
      o.tls = mqtt::TlsOptions{.ca_file = api.broker_files->ca,
                               .cert_file = api.broker_files->core_cert,
                               .key_file = api.broker_files->core_key,
                               .verify_hostname = true};
    }
  }
  Result<std::unique_ptr<Ingestor>> in = Ingestor::Start(o, &SystemClock::Default());
  if (!in.ok()) {
    err << "weft-core: " << in.status().ToString() << "\n";
    return 3;
  }
  Ingestor* ingestor = in->get();

  if (api_on) {
    Status started = StartApi(api_listen, tls_cert, tls_key, views, lake, o.state_dir, ingestor,
                              cat->get(), &SystemClock::Default(), out, &api);
    if (!started.ok()) {
      api.server.reset();
      if (app.count("--api-listen") > 0) {
        err << "weft-core: API: " << started.ToString() << "\n";
        (*in)->Stop();
        return 3;
      }
      spdlog::warn(
          "weft-core: the API is not started ({}); pass --api-listen to require it, "
          "or --api-listen \"\" to turn it off",
          started.ToString());
    }
  }
  const api::ApiServer* api_server = api.server.get();
  edge::HttpEndpoint::Handlers h;
  h.metrics = [ingestor, api_server] { return Metrics(*ingestor, api_server); };
  h.health = [ingestor] {
    const bool up = ingestor->connected();
    nlohmann::json j{{"status", up ? "ok" : "degraded"}, {"broker_connected", up}};
    return edge::HealthReport{up, j.dump()};
  };
  Result<std::unique_ptr<edge::HttpEndpoint>> endpoint = edge::HttpEndpoint::Start(http, h);
  if (!endpoint.ok()) {
    err << "weft-core: " << endpoint.status().message() << "\n";
    return 3;
  }
  out << "weft-core worker " << index << "/" << count << " lake=" << lake
      << " http=127.0.0.1:" << (*endpoint)->port();
  if (api_server != nullptr) {
    const std::string api_url = (api_server->tls() ? "https://" : "http://") +
                                api_listen.substr(0, api_listen.rfind(':')) + ":" +
                                std::to_string(api_server->port());
    out << " api=" << api_url;
    if (api.web_site) out << " dashboard=" << api_url << "/";
  }
  out << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_signal.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  api.server.reset();  // no API request in flight past this point
  (*in)->Stop();
  const IngestStats s = (*in)->stats();
  spdlog::info("weft-core: stopped; {} batches committed in {} commits, {} telemetry rows",
               s.batches_committed, s.commits, s.rows[0]);
  return 0;
}

}  // namespace weft::core

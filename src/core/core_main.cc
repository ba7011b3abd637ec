#include "core/core_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "core/ingest/ingestor.h"
#include "edge/http_endpoint.h"
#include "common/time_format.h"

namespace weft::core {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  g_signal.store(sig);
}

std::string Metrics(const Ingestor& in) {
  const IngestStats s = in.stats();
  edge::MetricsText m;
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

}  // namespace

int CoreMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"weft-core: exactly-once ingest of edge batches into the lake", "weft-core"};
  std::string lake, state, broker = "mqtt://127.0.0.1:1883", worker = "0/1",
                            http = "127.0.0.1:9470", commit_interval = "1s", log_level = "info";
  app.add_option("--lake", lake, "lake root: a directory (one Delta table per folder)")
      ->required();
  app.add_option("--state", state, "state directory (rejected batches); default: <lake>/../state");
  app.add_option("--broker", broker, "MQTT broker the edges publish to")->capture_default_str();
  app.add_option("--worker", worker, "this worker's share: INDEX/COUNT")->capture_default_str();
  app.add_option("--http", http, "/metrics and /health (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--commit-interval", commit_interval, "longest wait before a commit")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
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

  Result<std::unique_ptr<Ingestor>> in = Ingestor::Start(o, &SystemClock::Default());
  if (!in.ok()) {
    err << "weft-core: " << in.status().ToString() << "\n";
    return 3;
  }
  Ingestor* ingestor = in->get();
  edge::HttpEndpoint::Handlers h;
  h.metrics = [ingestor] { return Metrics(*ingestor); };
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
      << " http=127.0.0.1:" << (*endpoint)->port() << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_signal.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*in)->Stop();
  const IngestStats s = (*in)->stats();
  spdlog::info("weft-core: stopped; {} batches committed in {} commits, {} telemetry rows",
               s.batches_committed, s.commits, s.rows[0]);
  return 0;
}

}  // namespace weft::core

#include "edge/edge_main.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <thread>

#include "common/log.h"
#include "edge/runtime.h"

namespace weft::edge {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  g_signal.store(sig);
}

}  // namespace

int EdgeMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "weft-edge: connectors, filtering, local inference and store-and-forward uplink "
      "next to the machines",
      "weft-edge"};
  std::string config_path, http_listen, log_level = "info";
  app.add_option("--config", config_path, "edge.yaml")->required();
  app.add_option("--http", http_listen, "override http.listen, e.g. 127.0.0.1:0 (any free port)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  auto level = ParseLogLevel(log_level);
  if (!level.ok()) {
    err << "weft-edge: " << level.status().message() << "\n";
    return 2;
  }
  InitLogging(*level);
  // A small, steady footprint next to the machines: one malloc arena instead of one per thread
  // (connectors, processing, sender, http), which otherwise each keep freed memory.
  mallopt(M_ARENA_MAX, 1);
  RuntimeOptions options;
  options.http_listen = http_listen;
  Result<std::unique_ptr<Runtime>> rt = Runtime::Start(config_path, options);
  if (!rt.ok()) {
    err << "weft-edge: " << rt.status().message() << "\n";
    return rt.status().code() == StatusCode::kInvalidArgument ? 2 : 3;
  }
  // The port, on stdout, for scripts that start weft-edge with --http 127.0.0.1:0.
  out << "weft-edge " << (*rt)->config().id << " http=127.0.0.1:" << (*rt)->http_port()
      << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGHUP, OnSignal);
  while (true) {
    int sig = g_signal.exchange(0);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP) {
      Status s = (*rt)->Reload();
      if (!s.ok()) spdlog::error("weft-edge: reload refused: {}", s.ToString());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (*rt)->Stop();
  RuntimeStats s = (*rt)->stats();
  spdlog::info("weft-edge: stopped; {} samples in, {} batches stored, {} dropped", s.samples_in,
               s.batches_appended, s.ingest_dropped);
  return 0;
}

}  // namespace weft::edge

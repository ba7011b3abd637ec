// edge_mqtt_ingest_probe: how fast a SparkplugConnector ingests what a broker delivers.
//
//   edge_mqtt_ingest_probe mqtt://127.0.0.1:1883 examples/plant.yaml 100000 [timeout_s=60]
//
// Connects a SparkplugConnector (host id "weft-ingest-probe") for every Sparkplug signal of the
// plant, counts messages and samples, and prints one line when N messages have arrived or at the
// timeout:
//
//   messages=<n> samples=<n> seconds=<s>
//
// `seconds` runs from the first message received, so the figure is the ingest rate, not the
// time the publisher took to start. Messages of the first 200 ms after subscribing (the retained
// STATE, the echo of the probe's own STATE) are not counted: start the publisher after that. Exit
// status 0 when N messages arrived, 1 on timeout, 2 on bad arguments or when the broker cannot be
// reached.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/log.h"
#include "edge/connectors/mqtt/sparkplug_connector.h"
#include "model/plant_loader.h"

namespace {

bool ParseUnsigned(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "edge_mqtt_ingest_probe: %s\nusage: edge_mqtt_ingest_probe BROKER_URL PLANT_YAML "
               "N_MESSAGES [TIMEOUT_S]\n",
               why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weft;  // NOLINT(google-build-using-namespace): a main
  InitLogging(LogLevel::kWarn);
  if (argc < 4 || argc > 5) return Usage("wrong number of arguments");
  Result<mqtt::BrokerAddress> broker = mqtt::BrokerAddress::Parse(argv[1]);
  if (!broker.ok()) return Usage(broker.status().message());
  uint64_t n = 0, timeout_s = 60;
  if (!ParseUnsigned(argv[3], &n) || n == 0) return Usage("N_MESSAGES must be a positive integer");
  if (argc == 5 && !ParseUnsigned(argv[4], &timeout_s)) {
    return Usage("TIMEOUT_S must be a non-negative integer");
  }
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(argv[2], &diags);
  if (!plant.ok()) {
    std::fprintf(stderr, "%s\n%s", plant.status().ToString().c_str(), diags.ToString().c_str());
    return 2;
  }
  Result<edge::SignalTable> table = edge::SignalTable::FromPlant(*plant, {});
  if (!table.ok()) return Usage(table.status().ToString());
  edge::SparkplugConnectorOptions options;
  options.broker = *broker;
  options.host_id = "weft-ingest-probe";
  auto connector = edge::SparkplugConnector::Create(
      std::make_shared<const edge::SignalTable>(std::move(*table)), options);
  if (!connector.ok()) return Usage(connector.status().ToString());
  // The sink does what a cheap pipeline stage would: touch every sample.
  double checksum = 0;
  edge::ConnectorSinks sinks;
  sinks.on_samples = [&checksum](std::span<const edge::Sample> s) {
    for (const edge::Sample& x : s) checksum += x.value;
  };
  if (Status s = (*connector)->Start(std::move(sinks)); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  std::fprintf(stderr, "edge_mqtt_ingest_probe: subscribed on %s, waiting for %llu messages\n",
               broker->ToString().c_str(), static_cast<unsigned long long>(n));

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  // The retained STATE and the echo of our own come at once: leave them out of the figures.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const uint64_t base = (*connector)->Health().messages;
  std::optional<Clock::time_point> first;
  edge::ConnectorHealth h;
  while (true) {
    h = (*connector)->Health();
    h.messages -= base;
    if (!first && h.messages > 0) first = Clock::now();
    if (h.messages >= n || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto end = Clock::now();
  (*connector)->Stop();
  const double seconds = first ? std::chrono::duration<double>(end - *first).count() : 0.0;
  std::printf("messages=%llu samples=%llu seconds=%.3f\n",
              static_cast<unsigned long long>(h.messages),
              static_cast<unsigned long long>(h.samples), seconds);
  for (const auto& [kind, count] : h.errors) {
    std::fprintf(stderr, "  %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(count));
  }
  std::fflush(stdout);
  return h.messages >= n ? 0 : 1;
}

#include "cli/uplink_cli.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "common/strings.h"
#include "edge/uplink/batch_codec.h"
#include "mqtt/client.h"

namespace weft::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) {
  g_interrupted = true;
}

std::string Csv(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

CLI::App* AddUplinkCommands(CLI::App& app, UplinkArgs* a) {
  CLI::App* uplink = app.add_subcommand("uplink", "Inspect the edges' uplink batches");
  uplink->require_subcommand(1);
  CLI::App* tail = uplink->add_subcommand(
      "tail", "Print every record of the uplink batches reaching a broker, once, as CSV");
  tail->add_option("--broker", a->broker, "MQTT broker (mqtt:// or mqtts://)")
      ->capture_default_str();
  tail->add_option("--topic", a->topic, "uplink topic prefix")->capture_default_str();
  tail->add_option("--out", a->out, "write the CSV here instead of stdout");
  tail->add_option("--client-id", a->client_id, "persistent MQTT session under this id");
  tail->add_option("--ca", a->ca, "CA file (mqtts://)");
  tail->add_option("--cert", a->cert, "client certificate (mutual TLS)");
  tail->add_option("--key", a->key, "client key (mutual TLS)");
  tail->add_option("--idle", a->idle_s, "exit after this many seconds without a batch");
  tail->add_option("--duration", a->duration_s, "exit after this many seconds");
  return uplink;
}

int RunUplink(const UplinkArgs& a, std::ostream& out, std::ostream& err) {
  Result<mqtt::BrokerAddress> broker = mqtt::BrokerAddress::Parse(a.broker);
  if (!broker.ok()) {
    err << "weft uplink tail: " << broker.status().message() << "\n";
    return 2;
  }
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) {
      err << "weft uplink tail: cannot write '" << a.out << "'\n";
      return 2;
    }
  }
  std::ostream& sink = a.out.empty() ? out : file;
  mqtt::ClientOptions o;
  o.client_id = a.client_id;
  o.clean_session = a.client_id.empty();
  if (broker->tls) o.tls = mqtt::TlsOptions{a.ca, a.cert, a.key, true};
  Result<std::unique_ptr<mqtt::Client>> client =
      mqtt::Client::Connect(*broker, o, std::chrono::seconds(10));
  if (!client.ok()) {
    err << "weft uplink tail: " << client.status().message() << "\n";
    return 3;
  }
  std::mutex mu;
  std::set<std::tuple<std::string, int, uint64_t>> seen;
  uint64_t batches = 0, duplicates = 0, bad = 0, records = 0;
  auto last = std::chrono::steady_clock::now();
  sink << "edge,priority,seq,kind,site,line,asset,asset_type,signal,unit,protocol,ts_us,value,"
          "quality\n";
  (*client)->SetMessageHandler([&](const mqtt::Message& m) {
    Result<edge::uplink::DecodedBatch> b = edge::uplink::DecodeBatch(m.payload);
    std::lock_guard<std::mutex> lock(mu);
    last = std::chrono::steady_clock::now();
    if (!b.ok()) {
      ++bad;
      err << "weft uplink tail: " << m.topic << ": " << b.status().message() << "\n";
      return;
    }
    if (!seen.emplace(b->edge_id, static_cast<int>(b->stream), b->seq).second) {
      ++duplicates;
      return;
    }
    ++batches;
    std::string head = Csv(b->edge_id) + "," + std::string(edge::PriorityName(b->stream)) + "," +
                       std::to_string(b->seq) + ",";
    auto context = [&](edge::SignalId id) {
      const edge::uplink::BatchContext* c = b->ContextOf(id);
      if (c == nullptr) return std::string(",,,,,,");
      return Csv(c->site) + "," + Csv(c->line) + "," + Csv(c->asset) + "," + Csv(c->asset_type) +
             "," + Csv(c->signal) + "," + Csv(c->unit) + "," + Csv(c->protocol);
    };
    for (const edge::Sample& s : b->samples) {
      sink << head << "sample," << context(s.signal) << "," << s.ts_us << ","
           << FormatDouble(s.value) << "," << edge::QualityName(s.quality) << "\n";
    }
    for (const edge::Aggregate& g : b->aggregates) {
      sink << head << "aggregate," << context(g.signal) << "," << g.start_us << ","
           << FormatDouble(g.mean) << "," << edge::QualityName(g.quality) << "\n";
    }
    for (const edge::Event& e : b->events) {
      const edge::uplink::BatchContext* c = b->ContextOf(e.signal);
      sink << head << "event,"
           << (c ? Csv(c->site) + "," + Csv(c->line) + "," + Csv(c->asset) + "," +
                       Csv(c->asset_type)
                 : std::string(",,,"))
           << "," << Csv(e.kind) << ",," << Csv(e.source) << "," << e.ts_us << ","
           << FormatDouble(e.value) << "," << Csv(e.message) << "\n";
    }
    records += b->samples.size() + b->aggregates.size() + b->events.size();
  });
  Status s = (*client)->Subscribe(a.topic + "/#", 1);
  if (!s.ok()) {
    err << "weft uplink tail: " << s.message() << "\n";
    return 3;
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  auto start = std::chrono::steady_clock::now();
  while (!g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu);
    if (a.duration_s > 0 && now - start > std::chrono::duration<double>(a.duration_s)) break;
    if (a.idle_s > 0 && batches > 0 && now - last > std::chrono::duration<double>(a.idle_s)) break;
  }
  client->reset();
  std::lock_guard<std::mutex> lock(mu);
  sink.flush();
  err << "weft uplink tail: " << batches << " batches, " << records << " records, " << duplicates
      << " duplicates skipped, " << bad << " undecodable\n";
  return 0;
}

}  // namespace weft::cli

// Load for weft-core's ingest, and the lake writer alone on the same batches (the peer).
//
//   core_ingest_bench publish --broker mqtt://127.0.0.1:1883 --edges 4 --batches 50
//       --samples 5000 --rate 1000000      # paced: sample timestamps = their planned send time
//   core_ingest_bench lake-writer --lake DIR --edges 4 --batches 50 --samples 5000
//
// Batches are built like an edge builds them (BatchBuilder, the example plant's 431 signals, 5000
// samples each, zstd) for `edges` edges, seqs 1..batches, published round-robin on
// weft/v1/uplink/<edge>/normal with QoS 1. In `publish`, with --rate R the batches go out on
// schedule (R samples/s) and each sample's timestamp is its batch's scheduled time, so the
// core's "sample to readable in the lake" latency includes any lag of the publisher; --rate 0
// sends as fast as the broker takes them. `lake-writer` decodes the same batches and appends
// their telemetry rows with LakeTable::Append, --commit-batches at a time: the core's writing
// cost without MQTT, sequencing or the other tables. Both print one RESULT line.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "core/ingest/batch_rows.h"
#include "core/ingest/tables.h"
#include "edge/signal_table.h"
#include "edge/uplink/batch_codec.h"
#include "model/plant_loader.h"
#include "mqtt/client.h"

namespace {

using namespace weft;  // NOLINT(google-build-using-namespace): a benchmark main

struct Args {
  std::string mode, broker = "mqtt://127.0.0.1:1883", lake;
  int edges = 4, batches = 50, samples = 5000, commit_batches = 200;
  double rate = 0;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

int Fail(const std::string& what) {
  std::cerr << "core_ingest_bench: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) return Fail("usage: core_ingest_bench publish|lake-writer [--options]");
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--broker") a.broker = v;
    else if (k == "--lake") a.lake = v;
    else if (k == "--edges") a.edges = std::stoi(v);
    else if (k == "--batches") a.batches = std::stoi(v);
    else if (k == "--samples") a.samples = std::stoi(v);
    else if (k == "--rate") a.rate = std::stod(v);
    else if (k == "--commit-batches") a.commit_batches = std::stoi(v);
    else return Fail("unknown option " + k);
  }
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  Diagnostics diags;
  Result<model::Plant> plant =
      model::LoadPlantFile(std::string(root ? root : ".") + "/examples/plant.yaml", &diags);
  if (!plant.ok()) return Fail(plant.status().ToString() + " (run from the repository root)");
  Result<edge::SignalTable> table = edge::SignalTable::FromPlant(*plant, {});
  if (!table.ok()) return Fail(table.status().ToString());
  const auto n_signals = static_cast<uint32_t>(table->size());

  // Schedule: batch k (round-robin over edges) is due at start + k * samples / rate.
  const int total = a.edges * a.batches;
  const double batch_s = a.rate > 0 ? a.samples / a.rate : 0;
  const int64_t start_us = UnixMicros(SystemClock::Default().Now()) + 1'000'000;
  std::vector<std::string> topics, payloads;
  auto shared = std::make_shared<edge::uplink::BatchContextCache>();
  std::vector<std::unique_ptr<edge::uplink::BatchBuilder>> builders;
  for (int e = 0; e < a.edges; ++e) {
    builders.push_back(std::make_unique<edge::uplink::BatchBuilder>(
        "bench-e" + std::to_string(e), edge::Priority::kNormal,
        edge::uplink::BatchBuilderOptions{.contexts = shared}));
  }
  for (int k = 0; k < total; ++k) {
    const int e = k % a.edges;
    const auto seq = static_cast<uint64_t>(k / a.edges + 1);
    const int64_t ts = start_us + static_cast<int64_t>(k * batch_s * 1e6);
    for (int i = 0; i < a.samples; ++i) {
      builders[static_cast<size_t>(e)]->Add(
          edge::Sample{static_cast<edge::SignalId>(static_cast<uint32_t>(i) % n_signals), ts + i,
                       50 + 10 * std::sin(i * 0.01 + k), 0});
    }
    Result<std::string> bytes = builders[static_cast<size_t>(e)]->Finish(seq, ts, *table);
    if (!bytes.ok()) return Fail(bytes.status().ToString());
    topics.push_back("weft/v1/uplink/bench-e" + std::to_string(e) + "/normal");
    payloads.push_back(std::move(*bytes));
  }
  size_t bytes_total = 0;
  for (const std::string& p : payloads) bytes_total += p.size();
  const double samples_total = double{1} * total * a.samples;

  if (a.mode == "publish") {
    Result<mqtt::BrokerAddress> broker = mqtt::BrokerAddress::Parse(a.broker);
    if (!broker.ok()) return Fail(broker.status().ToString());
    mqtt::ClientOptions o;
    o.client_id = "core-ingest-bench";
    o.max_inflight = 1000;
    auto client = mqtt::Client::Connect(*broker, o, std::chrono::seconds(5));
    if (!client.ok()) return Fail(client.status().ToString());
    while (UnixMicros(SystemClock::Default().Now()) < start_us) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto t0 = std::chrono::steady_clock::now();
    double max_lag_s = 0;
    for (int k = 0; k < total; ++k) {
      if (a.rate > 0) {
        const auto due = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(k * batch_s));
        const auto now = std::chrono::steady_clock::now();
        if (now < due) std::this_thread::sleep_until(due);
        max_lag_s = std::max(max_lag_s, Seconds(now - due));
      }
      Status s = (*client)->Publish(topics[static_cast<size_t>(k)],
                                    payloads[static_cast<size_t>(k)], 1, false);
      if (!s.ok()) return Fail(s.ToString());
    }
    Status acked = (*client)->WaitForAcks(std::chrono::seconds(120));
    const double secs = Seconds(std::chrono::steady_clock::now() - t0);
    if (!acked.ok()) return Fail(acked.ToString());
    std::printf(
        "RESULT mode=publish batches=%d samples=%.0f bytes=%zu start_us=%lld publish_s=%.3f "
        "publish_msps=%.3f max_lag_s=%.3f\n",
        total, samples_total, bytes_total, static_cast<long long>(start_us), secs,
        samples_total / secs / 1e6, max_lag_s);
    return 0;
  }
  if (a.mode == "lake-writer") {
    if (a.lake.empty()) return Fail("lake-writer needs --lake DIR");
    if (!core::EnsureTables(a.lake, &SystemClock::Default()).ok()) return Fail("tables");
    auto t = core::OpenTable(a.lake, core::LakeTableId::kTelemetry, &SystemClock::Default());
    if (!t.ok()) return Fail(t.status().ToString());
    const auto t0 = std::chrono::steady_clock::now();
    lake::RecordBatch rows(core::LakeTableSchema(core::LakeTableId::kTelemetry));
    int in_commit = 0;
    for (int k = 0; k < total; ++k) {
      Result<edge::uplink::DecodedBatch> b = edge::uplink::DecodeBatch(payloads[static_cast<size_t>(k)]);
      if (!b.ok()) return Fail(b.status().ToString());
      core::Incoming in;
      in.seq = b->seq;
      in.batch = std::move(*b);
      core::AppendBatchRows(core::LakeTableId::kTelemetry, in, rows);
      if (++in_commit == a.commit_batches || k + 1 == total) {
        auto r = (*t)->Append(rows);
        if (!r.ok()) return Fail(r.status().ToString());
        rows.Clear();
        in_commit = 0;
      }
    }
    const double secs = Seconds(std::chrono::steady_clock::now() - t0);
    std::printf("RESULT mode=lake-writer batches=%d samples=%.0f write_s=%.3f lake_writer_msps=%.3f\n",
                total, samples_total, secs, samples_total / secs / 1e6);
    return 0;
  }
  return Fail("mode is publish or lake-writer");
}

// edge_pipeline_bench: the edge hot path, from Sample in to compressed batch bytes out, on one
// thread, next to a "no processing" floor measured in the same run (bench/edge_bench.sh step 1).
//
//   edge_pipeline_bench [SAMPLES=20000000] [PLANT_YAML=examples/plant.yaml]
//
// Pipeline side: every signal of the plant's SignalTable (whole plant, every protocol) gets a
// sample each 100 ms of sample time (a sine plus 1% noise, a NaN and an out-of-range value once
// in 100,000), pushed into a Pipeline with a realistic policy mix (deadbands absolute and in
// percent, 10 s windows with raw+aggregate and aggregate-only routes, a rate limit, events-only
// signals, stale/stuck checks, heartbeats; Advance once per second of sample time). Its sink
// adds every record to the BatchBuilder of its priority (zstd level 1), and Finish()es a
// builder when it holds 5,000 records: validation, deadband, windows, enrichment (the signal
// contexts each batch carries) and encoding, as weft-edge runs them.
//
// Floor: the same Sample structs, built by the same loop, memcpy'd into a vector and compressed
// with zstd level 1 (a reused ZSTD_CCtx) every 5,000 samples: the cost of moving the bytes and
// compressing them with no processing at all. ratio = pipeline rate / floor rate.
//
// Times are CPU time of the thread (CLOCK_THREAD_CPUTIME_ID); wall time is printed too. The
// value table is precomputed outside the timed part. A relative PLANT_YAML is looked up in the
// current directory, then under WEFT_SOURCE_DIR (default: the source tree this was built from).
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/diagnostic.h"
#include "edge/pipeline/pipeline.h"
#include "edge/uplink/batch_codec.h"
#include "model/plant_loader.h"

namespace weft::edge {
namespace {

constexpr double kTargetPerSecond = 5e6;
constexpr size_t kBatchRecords = 5000;
constexpr int kZstdLevel = 1;
constexpr int64_t kT0Us = 1'750'000'000'000'000;
constexpr int64_t kTickUs = 100'000;
constexpr size_t kTicks = 1000;  // distinct value rows, cycled

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The uplink's batching: one builder per priority stream, a batch every kBatchRecords records.
class BatchingSink : public PipelineSink {
 public:
  explicit BatchingSink(const SignalTable& table) : table_(table) {
    auto contexts = std::make_shared<uplink::BatchContextCache>();  // as the runtime does
    for (int p = 0; p < kPriorityCount; ++p) {
      uplink::BatchBuilderOptions options;
      options.codec = uplink::BatchCodec::kZstd;
      options.zstd_level = kZstdLevel;
      options.contexts = contexts;
      builders_[static_cast<size_t>(p)] =
          std::make_unique<uplink::BatchBuilder>("edge-bench", static_cast<Priority>(p), options);
    }
  }

  void OnSample(const Sample& s, Priority p) override {
    ++samples;
    Builder(p).Add(s);
    MaybeFinish(p, s.ts_us);
  }
  void OnAggregate(const Aggregate& a, Priority p) override {
    ++aggregates;
    Builder(p).Add(a);
    MaybeFinish(p, a.end_us);
  }
  void OnEvent(const Event& e, Priority p) override {
    ++events;
    Builder(p).Add(e);
    MaybeFinish(p, e.ts_us);
  }

  void FinishAll(int64_t now_us) {
    for (int p = 0; p < kPriorityCount; ++p) {
      if (!Builder(static_cast<Priority>(p)).empty()) Finish(static_cast<Priority>(p), now_us);
    }
  }

  uint64_t samples = 0, aggregates = 0, events = 0;
  uint64_t batches = 0, batch_bytes = 0, errors = 0;

 private:
  uplink::BatchBuilder& Builder(Priority p) { return *builders_[static_cast<size_t>(p)]; }

  void MaybeFinish(Priority p, int64_t now_us) {
    const uplink::BatchBuilder& b = Builder(p);
    if (b.sample_count() + b.aggregate_count() + b.event_count() >= kBatchRecords) {
      Finish(p, now_us);
    }
  }

  void Finish(Priority p, int64_t now_us) {
    Result<std::string> bytes = Builder(p).Finish(seq_++, now_us, table_);
    if (!bytes.ok()) {
      if (errors++ == 0) std::fprintf(stderr, "Finish: %s\n", bytes.status().ToString().c_str());
      return;
    }
    ++batches;
    batch_bytes += bytes->size();
  }

  const SignalTable& table_;
  std::unique_ptr<uplink::BatchBuilder> builders_[kPriorityCount];
  uint64_t seq_ = 0;
};

// Most signals on a deadband, some on windows, a few rate-limited or events-only (the mix of
// src/edge/pipeline/pipeline_throughput.cc), with priorities spread over the four streams.
std::vector<SignalPolicy> MixedPolicies(const SignalTable& table) {
  std::vector<SignalPolicy> policies = DefaultPolicies(table);
  for (SignalPolicy& p : policies) {
    const SignalInfo& info = table.at(p.signal);
    const double span = info.min && info.max ? *info.max - *info.min : 100.0;
    p.stale_after = std::chrono::seconds(3);
    p.max_interval = std::chrono::seconds(60);
    if (p.signal % 2 == 0) p.stuck_after = std::chrono::seconds(60);
    switch (p.signal % 10) {
      case 0:
      case 1:
      case 2:
      case 3: p.deadband = span * 0.002; break;
      case 4:
      case 5:
        p.deadband = 1;
        p.deadband_percent = true;
        p.priority = Priority::kHigh;
        break;
      case 6:
        p.deadband = span * 0.002;
        p.window = std::chrono::seconds(10);
        p.route = Route::kRawAndAggregate;
        p.priority = Priority::kHigh;
        break;
      case 7:
        p.window = std::chrono::seconds(10);
        p.stats = stat::kMean | stat::kMax | stat::kStd;
        p.route = Route::kAggregate;
        break;
      case 8:
        p.min_interval = std::chrono::seconds(1);
        p.priority = Priority::kLow;
        break;
      default:
        p.route = Route::kEvents;
        p.priority = Priority::kCritical;
        break;
    }
  }
  return policies;
}

// kTicks rows of one value per signal.
std::vector<double> MakeValues(const SignalTable& table) {
  const size_t n = table.size();
  std::vector<double> values(kTicks * n);
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> rare(0, 99'999);
  for (size_t i = 0; i < n; ++i) {
    const SignalInfo& info = table.at(static_cast<SignalId>(i));
    double lo = info.min.value_or(0), hi = info.max.value_or(100);
    if (hi - lo > 1e6) hi = lo + 1e6;
    const double mid = (lo + hi) / 2, amp = (hi - lo) / 10;
    for (size_t t = 0; t < kTicks; ++t) {
      double v = mid + amp * std::sin(static_cast<double>(t) / 50.0 + static_cast<double>(i)) +
                 amp * 0.01 * noise(rng);
      const int r = rare(rng);
      if (r == 0) v = std::nan("");
      if (r == 1) v = hi + amp;
      values[t * n + i] = v;
    }
  }
  return values;
}

// Fills one tick's samples field by field (the padding stays zero, so the floor compresses
// deterministic bytes).
inline void FillTick(std::vector<Sample>& batch, const double* row, int64_t ts) {
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].signal = static_cast<SignalId>(i);
    batch[i].ts_us = ts;
    batch[i].value = row[i];
  }
}

struct Timing {
  double cpu = 0, wall = 0;
};

std::string ResolvePlant(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute() || fs::exists(path)) return path;
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  return std::string(root ? root : WEFT_SOURCE_DIR_DEFAULT) + "/" + path;
}

int Run(uint64_t total, const std::string& plant_arg) {
  const std::string plant_path = ResolvePlant(plant_arg);
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(plant_path, &diags);
  if (!plant.ok()) {
    std::fprintf(stderr, "%s\n%s", plant.status().ToString().c_str(), diags.ToString().c_str());
    return 2;
  }
  Result<SignalTable> table = SignalTable::FromPlant(*plant, {});
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().ToString().c_str());
    return 2;
  }
  const size_t n = table->size();
  const std::vector<double> values = MakeValues(*table);
  const uint64_t ticks = (total + n - 1) / n;
  const uint64_t samples_in = ticks * n;

  // ---- Floor: memcpy + zstd level 1, every kBatchRecords samples. ----
  Timing floor;
  uint64_t floor_bytes = 0, floor_batches = 0;
  {
    std::vector<Sample> batch(n);
    std::vector<Sample> pending;
    pending.reserve(kBatchRecords + n);
    std::vector<char> out(ZSTD_compressBound((kBatchRecords + n) * sizeof(Sample)));
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    auto compress = [&] {
      const size_t r = ZSTD_compressCCtx(cctx, out.data(), out.size(), pending.data(),
                                         pending.size() * sizeof(Sample), kZstdLevel);
      if (ZSTD_isError(r)) {
        std::fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(r));
        std::exit(1);
      }
      floor_bytes += r;
      ++floor_batches;
      pending.clear();
    };
    const double c0 = ThreadCpuSeconds(), w0 = WallSeconds();
    for (uint64_t t = 0; t < ticks; ++t) {
      const int64_t ts = kT0Us + static_cast<int64_t>(t) * kTickUs;
      FillTick(batch, &values[(t % kTicks) * n], ts);
      size_t done = 0;
      while (done < n) {
        const size_t take = std::min(n - done, kBatchRecords - pending.size());
        const size_t old = pending.size();
        pending.resize(old + take);
        std::memcpy(pending.data() + old, batch.data() + done, take * sizeof(Sample));
        done += take;
        if (pending.size() == kBatchRecords) compress();
      }
    }
    if (!pending.empty()) compress();
    floor.cpu = ThreadCpuSeconds() - c0;
    floor.wall = WallSeconds() - w0;
    ZSTD_freeCCtx(cctx);
  }

  // ---- Pipeline: validate, deadband, window, enrich, encode. ----
  Timing pipe;
  BatchingSink sink(*table);
  Pipeline pipeline(*table, MixedPolicies(*table), sink);
  {
    std::vector<Sample> batch(n);
    const double c0 = ThreadCpuSeconds(), w0 = WallSeconds();
    int64_t ts = kT0Us;
    for (uint64_t t = 0; t < ticks; ++t) {
      ts = kT0Us + static_cast<int64_t>(t) * kTickUs;
      FillTick(batch, &values[(t % kTicks) * n], ts);
      pipeline.Push(batch);
      if (t % 10 == 9) pipeline.Advance(ts);
    }
    pipeline.Flush();
    sink.FinishAll(ts);
    pipe.cpu = ThreadCpuSeconds() - c0;
    pipe.wall = WallSeconds() - w0;
  }

  const PipelineStats& s = pipeline.stats();
  const double in = static_cast<double>(samples_in);
  const double pipe_rate = in / pipe.cpu, floor_rate = in / floor.cpu;
  const uint64_t records_out = sink.samples + sink.aggregates + sink.events;
  std::printf("plant              %s (%zu signals)\n", plant_arg.c_str(), n);
  std::printf("samples in         %llu\n", static_cast<unsigned long long>(samples_in));
  std::printf("pipeline           %.3f s CPU, %.3f s wall: %.2f M samples/s per core\n", pipe.cpu,
              pipe.wall, pipe_rate / 1e6);
  std::printf("  records out      %llu samples, %llu aggregates, %llu events (%.1f%% of in)\n",
              static_cast<unsigned long long>(sink.samples),
              static_cast<unsigned long long>(sink.aggregates),
              static_cast<unsigned long long>(sink.events),
              100.0 * static_cast<double>(records_out) / in);
  std::printf("  held back        deadband %llu, rate limit %llu; heartbeats %llu\n",
              static_cast<unsigned long long>(s.deadband_suppressed),
              static_cast<unsigned long long>(s.rate_limited),
              static_cast<unsigned long long>(s.heartbeats));
  std::printf(
      "  batches          %llu, %llu bytes: %.3f bytes per sample in, %.2f per record "
      "out%s\n",
      static_cast<unsigned long long>(sink.batches),
      static_cast<unsigned long long>(sink.batch_bytes), static_cast<double>(sink.batch_bytes) / in,
      records_out ? static_cast<double>(sink.batch_bytes) / static_cast<double>(records_out) : 0.0,
      sink.errors ? " (FINISH ERRORS)" : "");
  std::printf(
      "floor (memcpy+zstd1) %.3f s CPU, %.3f s wall: %.2f M samples/s per core; "
      "%llu batches, %.3f bytes per sample (raw %zu)\n",
      floor.cpu, floor.wall, floor_rate / 1e6, static_cast<unsigned long long>(floor_batches),
      static_cast<double>(floor_bytes) / in, sizeof(Sample));
  std::printf(
      "RESULT pipeline_msps=%.3f target_msps=%.1f ratio_to_target=%.2f floor_msps=%.3f "
      "ratio_to_floor=%.3f bytes_per_sample=%.3f floor_bytes_per_sample=%.3f\n",
      pipe_rate / 1e6, kTargetPerSecond / 1e6, pipe_rate / kTargetPerSecond, floor_rate / 1e6,
      pipe_rate / floor_rate, static_cast<double>(sink.batch_bytes) / in,
      static_cast<double>(floor_bytes) / in);
  return sink.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace weft::edge

int main(int argc, char** argv) {
  const uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
  if (total == 0 || argc > 3) {
    std::fprintf(stderr, "usage: edge_pipeline_bench [SAMPLES>0] [PLANT_YAML]\n");
    return 2;
  }
  return weft::edge::Run(total, argc > 2 ? argv[2] : "examples/plant.yaml");
}

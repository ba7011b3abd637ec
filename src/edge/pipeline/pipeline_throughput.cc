// edge_pipeline_throughput: pushes 20 M samples through a Pipeline over the example plant's
// signals, with a realistic mix of policies, into a counting sink, and prints samples/s.
//
//   build/src/edge/pipeline/edge_pipeline_throughput [samples]
//
// Every signal gets a sample each 100 ms of sample time (a sine plus noise, with a rare NaN and
// out-of-range value); Advance runs once per second of sample time. The time measured covers
// filling the batches, Push and Advance, on one thread.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "edge/pipeline/pipeline.h"
#include "testing/example_plant.h"

namespace weft::edge {
namespace {

class CountingSink : public PipelineSink {
 public:
  void OnSample(const Sample& s, Priority) override {
    ++samples;
    if (!std::isnan(s.value)) checksum += s.value;
  }
  void OnAggregate(const Aggregate& a, Priority) override {
    ++aggregates;
    checksum += static_cast<double>(a.count);
  }
  void OnEvent(const Event&, Priority) override { ++events; }
  uint64_t samples = 0, aggregates = 0, events = 0;
  double checksum = 0;
};

// The mix: most signals on a deadband, some on windows, a few rate-limited or events-only.
std::vector<SignalPolicy> MixedPolicies(const SignalTable& table) {
  std::vector<SignalPolicy> policies = DefaultPolicies(table);
  for (SignalPolicy& p : policies) {
    const SignalInfo& info = table.at(p.signal);
    double span = info.min && info.max ? *info.max - *info.min : 100.0;
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
        break;
      case 6:
        p.deadband = span * 0.002;
        p.window = std::chrono::seconds(10);
        p.route = Route::kRawAndAggregate;
        break;
      case 7:
        p.window = std::chrono::seconds(10);
        p.stats = stat::kMean | stat::kMax | stat::kStd;
        p.route = Route::kAggregate;
        break;
      case 8: p.min_interval = std::chrono::seconds(1); break;
      default: p.route = Route::kEvents; break;
    }
  }
  return policies;
}

int Run(uint64_t total) {
  Result<SignalTable> table = SignalTable::FromPlant(testing::ExamplePlant(), {});
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().ToString().c_str());
    return 1;
  }
  const size_t n = table->size();
  // Precomputed values: kTicks ticks of every signal, cycled.
  constexpr size_t kTicks = 1000;
  std::vector<double> values(kTicks * n);
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> rare(0, 99'999);
  for (size_t i = 0; i < n; ++i) {
    const SignalInfo& info = table->at(static_cast<SignalId>(i));
    double lo = info.min.value_or(0), hi = info.max.value_or(100);
    if (hi - lo > 1e6) hi = lo + 1e6;
    const double mid = (lo + hi) / 2, amp = (hi - lo) / 10;
    for (size_t t = 0; t < kTicks; ++t) {
      double v = mid + amp * std::sin(static_cast<double>(t) / 50.0 + static_cast<double>(i)) +
                 amp * 0.01 * noise(rng);
      int r = rare(rng);
      if (r == 0) v = std::nan("");
      if (r == 1) v = hi + amp;
      values[t * n + i] = v;
    }
  }

  CountingSink sink;
  Pipeline pipeline(*table, MixedPolicies(*table), sink);
  std::vector<Sample> batch(n);
  const int64_t t0 = 1'750'000'000'000'000;
  constexpr int64_t kTickUs = 100'000;
  const uint64_t ticks = (total + n - 1) / n;

  auto start = std::chrono::steady_clock::now();
  for (uint64_t t = 0; t < ticks; ++t) {
    const int64_t ts = t0 + static_cast<int64_t>(t) * kTickUs;
    const double* row = &values[(t % kTicks) * n];
    for (size_t i = 0; i < n; ++i) batch[i] = Sample{static_cast<SignalId>(i), ts, row[i]};
    pipeline.Push(batch);
    if (t % 10 == 9) pipeline.Advance(ts);
  }
  pipeline.Flush();
  auto end = std::chrono::steady_clock::now();

  const double secs = std::chrono::duration<double>(end - start).count();
  const PipelineStats& s = pipeline.stats();
  std::printf("signals            %zu\n", n);
  std::printf("samples in         %llu\n", static_cast<unsigned long long>(s.samples_in));
  std::printf("elapsed            %.3f s\n", secs);
  std::printf("throughput         %.2f M samples/s\n",
              static_cast<double>(s.samples_in) / secs / 1e6);
  std::printf("raw sent           %llu\n", static_cast<unsigned long long>(s.raw_sent));
  std::printf("deadband held      %llu\n", static_cast<unsigned long long>(s.deadband_suppressed));
  std::printf("rate limited       %llu\n", static_cast<unsigned long long>(s.rate_limited));
  std::printf("heartbeats         %llu\n", static_cast<unsigned long long>(s.heartbeats));
  std::printf("aggregates         %llu\n", static_cast<unsigned long long>(s.aggregates));
  std::printf("quality events     %llu\n", static_cast<unsigned long long>(s.quality_events));
  std::printf("(checksum %g)\n", sink.checksum);
  return 0;
}

}  // namespace
}  // namespace weft::edge

int main(int argc, char** argv) {
  if (std::getenv("WEFT_SOURCE_DIR") == nullptr)
    setenv("WEFT_SOURCE_DIR", WEFT_SOURCE_DIR_DEFAULT, 1);
  uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
  return weft::edge::Run(total);
}

// LatencyHistogram: latencies in nanoseconds, recorded from any thread with a few relaxed atomic
// increments, read as percentiles or as a Prometheus histogram.
//
//   LatencyHistogram h;
//   h.Record(1840);                                    // ns
//   uint64_t p99 = h.Percentile(0.99);                 // upper bound of the bucket, in ns
//   std::string text;
//   h.AppendPrometheus(&text, "weft_edge_inference_latency_seconds",
//                      "Feature extraction + predict", "model=\"bearing_risk\"");
//
// Two sets of counters are kept:
// - log buckets for percentiles: exact below 8 ns, then 8 buckets per power of two (each bucket
//   spans at most 1/8 of its lower bound, so a percentile is within 12.5% above the true value),
//   up to 2^40 ns (~18 min); larger values land in the last bucket. Percentile() returns the
//   bucket's upper bound, capped at the largest value recorded;
// - cumulative counters at the Prometheus bounds (`le`, in seconds, 1-2.5-5 steps from 500 ns to
//   10 s, or the bounds given), exact.
//
// Thread-safety: Record() and the readers are safe from any thread; a reader running during
// Record() may see a count that is one ahead of the buckets (values are never lost).
#ifndef WEFT_EDGE_INFERENCE_LATENCY_HISTOGRAM_H_
#define WEFT_EDGE_INFERENCE_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace weft::edge::inference {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr int kMaxExponent = 40;
  static constexpr size_t kBuckets = (kMaxExponent - kSubBits + 2) * (size_t{1} << kSubBits);

  //! Default Prometheus bounds: 0.5, 1, 2.5, 5, 10, 25 ... µs up to 10 s.
  LatencyHistogram();
  //! Prometheus bounds in nanoseconds, increasing.
  explicit LatencyHistogram(std::vector<uint64_t> prometheus_bounds_ns);
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(uint64_t ns);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum_ns() const { return sum_ns_.load(std::memory_order_relaxed); }
  uint64_t max_ns() const { return max_ns_.load(std::memory_order_relaxed); }
  //! The value at quantile p in [0, 1] (0 when empty), in ns.
  uint64_t Percentile(double p) const;

  //! Appends `# HELP`, `# TYPE name histogram`, `name_bucket{labels,le="..."}` lines (seconds),
  //! `name_sum` and `name_count`. `labels` is "" or e.g. `model="x"`.
  void AppendPrometheus(std::string* out, std::string_view name, std::string_view help,
                        std::string_view labels = "") const;

  //! The log bucket of a value, and the largest value in a bucket (for tests).
  static size_t BucketOf(uint64_t ns);
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::vector<uint64_t> prom_bounds_ns_;
  std::unique_ptr<std::atomic<uint64_t>[]> prom_counts_;  // one per bound (not cumulative)
  std::atomic<uint64_t> count_{0}, sum_ns_{0}, max_ns_{0};
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_LATENCY_HISTOGRAM_H_

#include "edge/inference/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace weft::edge::inference {

namespace {

std::vector<uint64_t> DefaultBounds() {
  std::vector<uint64_t> b = {500};
  for (uint64_t decade = 1000; decade <= 1'000'000'000; decade *= 10) {
    b.push_back(decade);
    if (decade < 10'000'000'000ULL) {
      b.push_back(decade * 5 / 2);
      b.push_back(decade * 5);
    }
  }
  b.push_back(10'000'000'000ULL);
  return b;
}

std::string Seconds(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(ns) * 1e-9);
  return buf;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : LatencyHistogram(DefaultBounds()) {}

LatencyHistogram::LatencyHistogram(std::vector<uint64_t> prometheus_bounds_ns)
    : prom_bounds_ns_(std::move(prometheus_bounds_ns)),
      prom_counts_(new std::atomic<uint64_t>[prom_bounds_ns_.size() + 1]) {
  std::sort(prom_bounds_ns_.begin(), prom_bounds_ns_.end());
  prom_bounds_ns_.erase(std::unique(prom_bounds_ns_.begin(), prom_bounds_ns_.end()),
                        prom_bounds_ns_.end());
  for (size_t i = 0; i <= prom_bounds_ns_.size(); ++i) prom_counts_[i].store(0);
}

size_t LatencyHistogram::BucketOf(uint64_t ns) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (ns < kSub) return static_cast<size_t>(ns);
  int msb = 63 - std::countl_zero(ns);
  if (msb > kMaxExponent) return kBuckets - 1;
  uint64_t sub = (ns >> (msb - kSubBits)) & (kSub - 1);
  return static_cast<size_t>(msb - kSubBits + 1) * kSub + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (bucket < kSub) return bucket;
  int msb = static_cast<int>(bucket / kSub) + kSubBits - 1;
  uint64_t sub = bucket % kSub;
  return ((kSub + sub + 1) << (msb - kSubBits)) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  buckets_[BucketOf(ns)].fetch_add(1, std::memory_order_relaxed);
  size_t p =
      static_cast<size_t>(std::lower_bound(prom_bounds_ns_.begin(), prom_bounds_ns_.end(), ns) -
                          prom_bounds_ns_.begin());
  prom_counts_[p].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  uint64_t m = max_ns_.load(std::memory_order_relaxed);
  while (ns > m && !max_ns_.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  p = std::clamp(p, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(total)));
  rank = std::clamp<uint64_t>(rank, 1, total);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(BucketUpperBound(i), max_ns());
  }
  return max_ns();
}

void LatencyHistogram::AppendPrometheus(std::string* out, std::string_view name,
                                        std::string_view help, std::string_view labels) const {
  const std::string n(name);
  const std::string sep = labels.empty() ? "" : ",";
  *out += "# HELP " + n + " " + std::string(help) + "\n";
  *out += "# TYPE " + n + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < prom_bounds_ns_.size(); ++i) {
    cumulative += prom_counts_[i].load(std::memory_order_relaxed);
    *out += n + "_bucket{" + std::string(labels) + sep + "le=\"" + Seconds(prom_bounds_ns_[i]) +
            "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += prom_counts_[prom_bounds_ns_.size()].load(std::memory_order_relaxed);
  *out += n + "_bucket{" + std::string(labels) + sep + "le=\"+Inf\"} " +
          std::to_string(cumulative) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  char sum[40];
  std::snprintf(sum, sizeof sum, "%.9g", static_cast<double>(sum_ns()) * 1e-9);
  *out += n + "_sum" + braces + " " + sum + "\n";
  *out += n + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

}  // namespace weft::edge::inference

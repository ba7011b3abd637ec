#include "edge/inference/latency_histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace weft::edge::inference {
namespace {

TEST(LatencyHistogram, BucketsCoverEveryValueWithBoundedError) {
  for (uint64_t v :
       {0ULL, 1ULL, 7ULL, 8ULL, 9ULL, 15ULL, 16ULL, 1000ULL, 123456789ULL, (1ULL << 40) + 5}) {
    size_t b = LatencyHistogram::BucketOf(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    uint64_t upper = LatencyHistogram::BucketUpperBound(b);
    EXPECT_GE(upper, v) << v;
    EXPECT_LE(static_cast<double>(upper), static_cast<double>(v) * 1.125 + 1) << v;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperBound(b - 1), v) << v;
    }
  }
}

TEST(LatencyHistogram, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.99), 0u);
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v * 1000);  // 1..100 µs
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.sum_ns(), 5050u * 1000);
  EXPECT_EQ(h.max_ns(), 100'000u);
  uint64_t p50 = h.Percentile(0.5), p99 = h.Percentile(0.99);
  EXPECT_GE(p50, 50'000u);
  EXPECT_LE(p50, 50'000u * 1125 / 1000);
  EXPECT_GE(p99, 99'000u);
  EXPECT_LE(p99, 100'000u) << "capped at the largest value";
  EXPECT_EQ(h.Percentile(1.0), 100'000u);
  EXPECT_LE(h.Percentile(0.0), 1000u * 1125 / 1000);
}

TEST(LatencyHistogram, TailIsSeen) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.Record(2000);
  for (int i = 0; i < 10; ++i) h.Record(5'000'000);
  EXPECT_LE(h.Percentile(0.99), 2000u * 1125 / 1000);
  EXPECT_EQ(h.Percentile(0.999), 5'000'000u);
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 50'000; ++i) h.Record(static_cast<uint64_t>(100 * (t + 1)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 200'000u);
  EXPECT_EQ(h.sum_ns(), 50'000u * (100 + 200 + 300 + 400));
  EXPECT_EQ(h.max_ns(), 400u);
}

TEST(LatencyHistogram, PrometheusText) {
  LatencyHistogram h({1000, 10'000});
  h.Record(500);
  h.Record(1000);  // le is inclusive
  h.Record(5000);
  h.Record(20'000);
  std::string text;
  h.AppendPrometheus(&text, "lat_seconds", "Latency.", "model=\"m\"");
  EXPECT_EQ(text,
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{model=\"m\",le=\"1e-06\"} 2\n"
            "lat_seconds_bucket{model=\"m\",le=\"1e-05\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{model=\"m\"} 2.65e-05\n"
            "lat_seconds_count{model=\"m\"} 4\n");
  std::string plain;
  LatencyHistogram().AppendPrometheus(&plain, "x", "X.");
  EXPECT_NE(plain.find("x_bucket{le=\"5e-07\"} 0\n"), std::string::npos) << plain;
  EXPECT_NE(plain.find("x_bucket{le=\"10\"} 0\n"), std::string::npos) << plain;
  EXPECT_NE(plain.find("x_count 0\n"), std::string::npos);
}

}  // namespace
}  // namespace weft::edge::inference

#include "edge/inference/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace weft::edge::inference {
namespace {

TEST(FeatureWindow, StatsOverTheWindowInConfiguredOrder) {
  FeatureWindow w({{Stat::kLast, Stat::kMean, Stat::kStd, Stat::kMin, Stat::kMax, Stat::kSlope},
                   {Stat::kSlope, Stat::kLast}},
                  4);
  ASSERT_EQ(w.num_features(), 8u);
  std::vector<float> f(8);
  w.Extract(f);
  for (float v : f) EXPECT_TRUE(std::isnan(v)) << "empty windows are missing";

  // Slot 0: values 1, 3, 5 at 0 s, 1 s, 2 s -> slope 2 per second.
  w.Push(0, 0, 1.0);
  w.Push(0, 1'000'000, 3.0);
  w.Push(0, 2'000'000, 5.0);
  w.Push(1, 5'000'000, 7.0);
  w.Extract(f);
  EXPECT_FLOAT_EQ(f[0], 5.0f);
  EXPECT_FLOAT_EQ(f[1], 3.0f);
  EXPECT_FLOAT_EQ(f[2], static_cast<float>(std::sqrt(8.0 / 3.0)));
  EXPECT_FLOAT_EQ(f[3], 1.0f);
  EXPECT_FLOAT_EQ(f[4], 5.0f);
  EXPECT_FLOAT_EQ(f[5], 2.0f);
  EXPECT_TRUE(std::isnan(f[6])) << "slope needs two values";
  EXPECT_FLOAT_EQ(f[7], 7.0f);
}

TEST(FeatureWindow, RingKeepsTheLastNValues) {
  FeatureWindow w({{Stat::kLast, Stat::kMean, Stat::kMin, Stat::kMax}}, 3);
  std::vector<float> f(4);
  for (int i = 1; i <= 10; ++i) w.Push(0, i * 1000, i);  // keeps 8, 9, 10
  EXPECT_EQ(w.count(0), 3u);
  w.Extract(f);
  EXPECT_FLOAT_EQ(f[0], 10.0f);
  EXPECT_FLOAT_EQ(f[1], 9.0f);
  EXPECT_FLOAT_EQ(f[2], 8.0f);
  EXPECT_FLOAT_EQ(f[3], 10.0f);
  w.Clear();
  w.Extract(f);
  EXPECT_TRUE(std::isnan(f[0]));
}

TEST(FeatureWindow, SlopeIsZeroForEqualTimestampsAndStdZeroForOneValue) {
  FeatureWindow w({{Stat::kStd, Stat::kSlope}}, 8);
  std::vector<float> f(2);
  w.Push(0, 100, 4.0);
  w.Extract(f);
  EXPECT_FLOAT_EQ(f[0], 0.0f);
  w.Push(0, 100, 6.0);
  w.Extract(f);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[1], 0.0f);
}

TEST(Stat, NamesRoundTrip) {
  for (Stat s : AllStats()) EXPECT_EQ(StatFromName(StatName(s)), s);
  EXPECT_FALSE(StatFromName("avg").has_value());
}

}  // namespace
}  // namespace weft::edge::inference

#include "edge/inference/detectors.h"

#include <gtest/gtest.h>

#include <cmath>

namespace weft::edge::inference {
namespace {

TEST(EwmaZDetector, HandWorkedSequence) {
  EwmaZDetector d({.alpha = 0.5, .threshold = 2, .warmup = 2});
  // x=0: m=0, s2=0.
  EXPECT_FALSE(d.Update(0).fired);
  // x=2: z=0 (s2 == 0); m=1, s2=0.5*(0+0.5*4)=1.
  Detection r = d.Update(2);
  EXPECT_FALSE(r.fired);
  EXPECT_DOUBLE_EQ(r.statistic, 0);
  EXPECT_DOUBLE_EQ(d.mean(), 1);
  EXPECT_DOUBLE_EQ(d.variance(), 1);
  // x=1: z=0; m=1, s2=0.5.
  r = d.Update(1);
  EXPECT_DOUBLE_EQ(r.statistic, 0);
  EXPECT_DOUBLE_EQ(d.variance(), 0.5);
  // x=4: z=3/sqrt(0.5)=4.2426 >= 2 -> fires; m=2.5, s2=0.5*(0.5+0.5*9)=2.5.
  r = d.Update(4);
  EXPECT_TRUE(r.fired);
  EXPECT_NEAR(r.statistic, 3 / std::sqrt(0.5), 1e-12);
  EXPECT_DOUBLE_EQ(d.mean(), 2.5);
  EXPECT_DOUBLE_EQ(d.variance(), 2.5);
  // x=-1: z=-3.5/sqrt(2.5)=-2.21 -> fires on the low side too.
  r = d.Update(-1);
  EXPECT_TRUE(r.fired);
  EXPECT_NEAR(r.statistic, -3.5 / std::sqrt(2.5), 1e-12);
}

TEST(EwmaZDetector, WarmupHoldsFiringAndNanIsIgnored) {
  EwmaZDetector d({.alpha = 0.5, .threshold = 2, .warmup = 10});
  for (double x : {0.0, 2.0, 1.0, 4.0}) EXPECT_FALSE(d.Update(x).fired);
  EXPECT_EQ(d.seen(), 4u);
  EXPECT_FALSE(d.Update(NAN).fired);
  EXPECT_EQ(d.seen(), 4u);
}

TEST(CusumDetector, HandWorkedSequenceWithGivenTarget) {
  CusumDetector d({.k = 0.5, .h = 2, .target = 0.0, .sigma = 1.0});
  ASSERT_TRUE(d.ready());
  // S+ grows by 1 - 0.5 per value: 0.5, 1.0, 1.5, 2.0 (not > 2), 2.5 -> fires and resets.
  for (double want : {0.5, 1.0, 1.5, 2.0}) {
    Detection r = d.Update(1);
    EXPECT_FALSE(r.fired);
    EXPECT_DOUBLE_EQ(r.statistic, want);
  }
  Detection r = d.Update(1);
  EXPECT_TRUE(r.fired);
  EXPECT_DOUBLE_EQ(r.statistic, 2.5);
  EXPECT_DOUBLE_EQ(d.s_plus(), 0);
  // Low side: S- = 0 - (-3) - 0.5 = 2.5 > 2 -> fires, negative statistic.
  r = d.Update(-3);
  EXPECT_TRUE(r.fired);
  EXPECT_DOUBLE_EQ(r.statistic, -2.5);
  EXPECT_DOUBLE_EQ(d.s_minus(), 0);
}

TEST(CusumDetector, EstimatesTargetAndSigmaOverWarmup) {
  CusumDetector d({.k = 0.5, .h = 2, .warmup = 4});
  for (double x : {1.0, 3.0, 1.0, 3.0}) EXPECT_FALSE(d.Update(x).fired);
  ASSERT_TRUE(d.ready());
  EXPECT_DOUBLE_EQ(d.target(), 2);
  EXPECT_DOUBLE_EQ(d.sigma(), 1);
  EXPECT_FALSE(d.Update(2).fired);  // z = 0
  Detection r = d.Update(5);        // z = 3: S+ = 2.5 > 2
  EXPECT_TRUE(r.fired);
  EXPECT_DOUBLE_EQ(r.statistic, 2.5);
}

TEST(CusumDetector, SmallShiftAccumulatesWhereZScoreWouldNot) {
  CusumDetector d({.k = 0.5, .h = 5, .target = 10.0, .sigma = 1.0});
  int fired_at = -1;
  for (int i = 0; i < 100 && fired_at < 0; ++i) {
    if (d.Update(11.0).fired) fired_at = i;  // a 1-sigma shift: +0.5 per value
  }
  EXPECT_EQ(fired_at, 10);  // S+ = 5.5 > 5 at the 11th value
}

}  // namespace
}  // namespace weft::edge::inference

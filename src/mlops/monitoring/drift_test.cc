#include "mlops/monitoring/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace weft::mlops {
namespace {

TEST(QuantilesTest, LinearInterpolationAsNumpy) {
  const std::vector<double> v = {4, 1, 3, 2, 5};  // sorted 1..5
  const std::vector<double> levels = {0, 0.1, 0.5, 0.9, 1};
  // h = level·4: 0 -> 1, 0.4 -> 1.4, 2 -> 3, 3.6 -> 4.6, 4 -> 5.
  EXPECT_EQ(Quantiles(v, levels), (std::vector<double>{1, 1.4, 3, 4.6, 5}));
  EXPECT_TRUE(Quantiles({}, levels).empty());
  EXPECT_EQ(DecileLevels().size(), 9U);
}

TEST(PsiTest, HandWorkedFourBins) {
  // Edges {1, 2, 3}: bins (-inf,1], (1,2], (2,3], (3,inf), expected 1/4 each.
  // Window shares: 1/8, 2/8, 3/8, 2/8.
  // PSI = (1/8-1/4)·ln(1/2) + (3/8-1/4)·ln(3/2) = 0.125·ln 2 + 0.125·ln 1.5 = 0.1373265...
  const std::vector<double> edges = {1, 2, 3};
  const std::vector<double> window = {0.5, 1.5, 2, 2.5, 2.5, 3, 3.5, 9};
  Result<PsiResult> psi = Psi(window, edges);
  ASSERT_TRUE(psi.ok()) << psi.status().ToString();
  EXPECT_NEAR(psi->psi, 0.1373265360835137, 1e-12);
  EXPECT_EQ(psi->level, Level::kWarn);
  EXPECT_EQ(psi->actual, (std::vector<double>{0.125, 0.25, 0.375, 0.25}));
}

TEST(PsiTest, EmptyBinsUseEpsilon) {
  // Window all in bin 0: (1 - 1/4)·ln 4 + 3·(1e-4 - 1/4)·ln(1e-4 / (1/4)) = 6.9054080651788805.
  const std::vector<double> edges = {1, 2, 3};
  const std::vector<double> window = {0.5, 0.5, 0.5, 0.5};
  Result<PsiResult> psi = Psi(window, edges);
  ASSERT_TRUE(psi.ok());
  EXPECT_NEAR(psi->psi, 6.9054080651788805, 1e-9);
  EXPECT_EQ(psi->level, Level::kAlert);
}

TEST(PsiTest, SameDistributionIsZeroAndOk) {
  const std::vector<double> edges = {1, 2, 3};
  const std::vector<double> window = {0.5, 1.5, 2.5, 3.5};
  Result<PsiResult> psi = Psi(window, edges);
  ASSERT_TRUE(psi.ok());
  EXPECT_NEAR(psi->psi, 0.0, 1e-15);
  EXPECT_EQ(psi->level, Level::kOk);
}

TEST(PsiTest, ExpectedSharesFromSampleAndRepeatedEdgesMerged) {
  // Edges {1, 1, 2} merge to {1, 2}: three bins. Sample shares: 2/4, 1/4, 1/4.
  const std::vector<double> edges = {1, 1, 2};
  const std::vector<double> sample = {0, 1, 1.5, 5};
  const std::vector<double> window = {0, 1, 1.5, 5};
  Result<PsiResult> psi = Psi(window, edges, sample);
  ASSERT_TRUE(psi.ok());
  EXPECT_EQ(psi->expected, (std::vector<double>{0.5, 0.25, 0.25}));
  EXPECT_NEAR(psi->psi, 0.0, 1e-15);
}

TEST(PsiTest, RejectsBadInput) {
  const std::vector<double> edges = {2, 1};
  const std::vector<double> window = {1};
  EXPECT_EQ(Psi(window, edges).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Psi({}, std::vector<double>{1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Psi(window, {}).status().code(), StatusCode::kInvalidArgument);
  const std::vector<double> nan = {std::nan("")};
  EXPECT_EQ(Psi(nan, std::vector<double>{1}).status().code(), StatusCode::kInvalidArgument);
}

TEST(KolmogorovTest, TableCriticalValues) {
  // The classical table of the Kolmogorov distribution (Smirnov 1948): P(K > 1.2238) = 0.10,
  // P(K > 1.3581) = 0.05, P(K > 1.6276) = 0.01, median 0.8276.
  EXPECT_NEAR(KolmogorovSurvival(1.2238), 0.10, 1e-4);
  EXPECT_NEAR(KolmogorovSurvival(1.3581), 0.05, 1e-4);
  EXPECT_NEAR(KolmogorovSurvival(1.6276), 0.01, 1e-5);
  EXPECT_NEAR(KolmogorovSurvival(0.8276), 0.50, 1e-4);
  EXPECT_EQ(KolmogorovSurvival(0.0), 1.0);
  EXPECT_LT(KolmogorovSurvival(5.0), 1e-20);
}

TEST(KsTest, HandWorkedStatistics) {
  // Disjoint samples: D = 1; n_e = 25/10 = 2.5, p = Q(sqrt(2.5)) = 2(e^-5 - e^-20 + ...).
  KsResult ks =
      KsTwoSample(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(ks.d, 1.0);
  EXPECT_NEAR(ks.p_value, 0.013475889875863676, 1e-12);
  EXPECT_EQ(ks.n, 5U);
  // Interleaved: after 1 F1 = 1/3, F2 = 0; after 1.5 1/3, 1/3; ... D = 1/3.
  ks = KsTwoSample(std::vector<double>{1, 2, 3}, std::vector<double>{1.5, 2.5, 3.5});
  EXPECT_NEAR(ks.d, 1.0 / 3, 1e-15);
  EXPECT_NEAR(ks.p_value, 0.9962551923793989, 1e-12);
  // Ties: at 1 F1 = 2/3, F2 = 1/3; at 2 both 1: D = 1/3 (not 2/3 from stepping one side).
  ks = KsTwoSample(std::vector<double>{1, 1, 2}, std::vector<double>{1, 2, 2});
  EXPECT_NEAR(ks.d, 1.0 / 3, 1e-15);
  // Same sample: D = 0, p = 1.
  ks = KsTwoSample(std::vector<double>{3, 1, 2}, std::vector<double>{1, 2, 3});
  EXPECT_EQ(ks.d, 0.0);
  EXPECT_EQ(ks.p_value, 1.0);
  // Empty side.
  ks = KsTwoSample({}, std::vector<double>{1});
  EXPECT_EQ(ks.d, 0.0);
  EXPECT_EQ(ks.p_value, 1.0);
}

TEST(KsTest, ShiftedUniformGrid) {
  // a = U(0, 1) grid, b = a + 0.2: D = 0.2 (to one grid step); lambda = sqrt(500)·0.2 = 4.47.
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 1000; ++i) {
    a.push_back((i + 0.5) / 1000.0);
    b.push_back((i + 0.5) / 1000.0 + 0.2);
  }
  KsResult shifted = KsTwoSample(a, b);
  EXPECT_NEAR(shifted.d, 0.2, 2e-3);
  EXPECT_LT(shifted.p_value, 1e-15);
}

}  // namespace
}  // namespace weft::mlops

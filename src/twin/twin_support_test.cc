#include "twin/twin_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace weft::twin::internal {
namespace {

using ::testing::HasSubstr;

struct Toy {
  double gain = 2;
  double tau = 10;
};
constexpr std::array<ParamSpec<Toy>, 2> kToySpecs = {{
    {"gain", &Toy::gain, "1", 0, 5, "how much"},
    {"time_constant", &Toy::tau, "s", 0.1, 100, "how slow"},
}};

TEST(Params, OverridesAreAppliedByName) {
  Toy toy;
  ASSERT_TRUE(ApplyOverrides("toy", kToySpecs, {{"gain", 3}, {"time_constant", 20}}, toy).ok());
  EXPECT_EQ(toy.gain, 3);
  EXPECT_EQ(toy.tau, 20);
}

TEST(Params, UnknownOverrideChangesNothing) {
  Toy toy;
  Status s = ApplyOverrides("toy", kToySpecs, {{"gain", 3}, {"time_constnat", 20}}, toy);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'time_constant'"));
  EXPECT_EQ(toy.gain, 2);
}

TEST(Params, ValidateChecksIntervalsAndFiniteness) {
  Toy toy;
  EXPECT_TRUE(ValidateParams("toy", kToySpecs, toy).ok());
  toy.tau = 0.01;
  Status s = ValidateParams("toy", kToySpecs, toy);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'time_constant'"));
  EXPECT_THAT(s.message(), HasSubstr("[0.1, 100]"));
  toy.tau = std::nan("");
  EXPECT_FALSE(ValidateParams("toy", kToySpecs, toy).ok());
  toy.tau = INFINITY;
  EXPECT_FALSE(ValidateParams("toy", kToySpecs, toy).ok());
}

TEST(Params, InfoListsParametersInSpecOrder) {
  TwinInfo info = MakeInfo("toy", "1.2.3", kToySpecs, Toy{});
  EXPECT_EQ(info.name, "toy");
  EXPECT_EQ(info.version, "1.2.3");
  ASSERT_EQ(info.parameters.size(), 2u);
  EXPECT_EQ(info.parameters[1].name, "time_constant");
  EXPECT_EQ(info.parameters[1].value, 10);
  EXPECT_EQ(info.parameters[1].unit, "s");
}

TEST(Inputs, RangeAndFlagChecks) {
  EXPECT_TRUE(CheckInputRange("m", "x", 1, 0, 1).ok());
  EXPECT_EQ(CheckInputRange("m", "x", 1.01, 0, 1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(CheckInputRange("m", "x", std::nan(""), 0, 1).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(CheckInputFlag("m", "x", 0).ok());
  EXPECT_TRUE(CheckInputFlag("m", "x", 1).ok());
  EXPECT_EQ(CheckInputFlag("m", "x", 2).code(), StatusCode::kOutOfRange);
}

TEST(RelaxFirstOrder, OneTimeConstantIs63Percent) {
  const double tau = 123.4;
  const double x = RelaxFirstOrder(10, 30, tau, tau);
  EXPECT_NEAR((x - 10) / 20, 1 - std::exp(-1.0), 1e-15);
  EXPECT_NEAR((x - 10) / 20, 0.6321205588285577, 1e-15);
}

TEST(RelaxFirstOrder, SplittingTheStepChangesNothing) {
  double x = 0;
  for (int i = 0; i < 1000; ++i) x = RelaxFirstOrder(x, 1, 0.01, 2);
  EXPECT_NEAR(x, RelaxFirstOrder(0, 1, 10, 2), 1e-13);
}

TEST(BearingWear, FollowsTheClosedFormAndFailsAtTheTimeToFailure) {
  const double r = 1e-4;
  const double a = 3;
  BearingWear wear(r, a);
  EXPECT_FALSE(wear.Advance(100));  // no fault: no growth
  EXPECT_EQ(wear.wear(), 0);
  wear.Start(0.5);
  const double k = r * 0.5;
  for (int i = 0; i < 100; ++i) wear.Advance(10);
  EXPECT_NEAR(wear.wear(), (std::exp(a * k * 1000) - 1) / a, 1e-12);
  const double t_fail = std::log(1 + a) / (a * k);
  EXPECT_DOUBLE_EQ(wear.TimeToFailure(0.5), t_fail);
  BearingWear fresh(r, a);
  fresh.Start(0.5);
  EXPECT_FALSE(fresh.Advance(t_fail * (1 - 1e-9)));
  EXPECT_TRUE(fresh.Advance(t_fail * 2e-9));
  EXPECT_EQ(fresh.wear(), 1);
}

TEST(BearingWear, LinearWhenNotSelfAccelerating) {
  BearingWear wear(1e-3, 0);
  wear.Start(1);
  EXPECT_DOUBLE_EQ(wear.TimeToFailure(1), 1000);
  wear.Advance(250);
  EXPECT_NEAR(wear.wear(), 0.25, 1e-15);
}

TEST(BearingWear, StopKeepsDamageResetRenews) {
  BearingWear wear(1e-3, 1);
  wear.Start(1);
  wear.Advance(100);
  const double damage = wear.wear();
  EXPECT_GT(damage, 0);
  wear.Stop();
  wear.Advance(100);
  EXPECT_EQ(wear.wear(), damage);
  wear.Reset();
  EXPECT_EQ(wear.wear(), 0);
  EXPECT_FALSE(wear.growing());
}

}  // namespace
}  // namespace weft::twin::internal

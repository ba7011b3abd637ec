#include "control/core/envelope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>

namespace weft::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Action = Decision::Action;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Interlock Make(const std::string& name, const std::string& expr, double above, double below,
               Interlock::Then then) {
  Interlock il;
  il.name = name;
  Result<model::physics::Expr> e = model::physics::ParseExpr(expr);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (e.ok()) il.expr = *e;
  il.above = above;
  il.below = below;
  il.then = then;
  return il;
}

Envelope Env() {
  Envelope e;
  e.min = 16;
  e.max = 23;
  e.max_step = 1.0;
  e.max_rate_per_s = 0.1;
  e.safe = 18;
  e.readback_tolerance = 0.05;
  e.interlocks = {Make("overheating", "zone_temp", 27, -kInf, Interlock::Then::kSafe),
                  Make("plc_alarm", "plc_alarms", 0, -kInf, Interlock::Then::kHold)};
  return e;
}

struct Case {
  std::map<std::string, double> values{{"zone_temp", 21.0}, {"plc_alarms", 0}};
  EnvelopeInput in;
  Case(double proposed, std::optional<double> last, double seconds) {
    in.proposed = proposed;
    in.last_written = last;
    in.seconds_since_last_write = seconds;
    in.signal = [this](std::string_view name) {
      auto it = values.find(std::string(name));
      return it == values.end() ? kNaN : it->second;
    };
  }
  Decision Run(const Envelope& e) {
    Decision d = Decide(e, in);
    std::string why;
    EXPECT_TRUE(CheckInvariant(e, in, d, &why)) << why;
    return d;
  }
};

TEST(Envelope, WithinEverythingWritesTheProposal) {
  Case c(20.5, 20.0, 60);
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_EQ(d.value, 20.5);
  EXPECT_TRUE(d.reasons.empty());
}

TEST(Envelope, ClampsToMaxAndMin) {
  Case hi(25, std::nullopt, kInf);
  Decision d = hi.Run(Env());
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_EQ(d.value, 23);
  EXPECT_THAT(d.reasons, ElementsAre("clamped to max 23 (proposed 25)"));
  Case lo(-1e300, std::nullopt, kInf);
  d = lo.Run(Env());
  EXPECT_EQ(d.value, 16);
  EXPECT_THAT(d.reasons, ElementsAre("clamped to min 16 (proposed -1e+300)"));
}

TEST(Envelope, StepLimit) {
  Case c(23, 20.0, 3600);  // rate allows 360, the step 1
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_EQ(d.value, 21);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_THAT(d.reasons[0], HasSubstr("rate-limited from 23 to 21"));
  Case down(16, 20.0, 3600);
  EXPECT_EQ(down.Run(Env()).value, 19);
}

TEST(Envelope, RateLimitGrowsWithTime) {
  const Envelope e = Env();
  Case c(23, 20.0, 2);  // 0.1/s over 2 s -> 0.2
  Decision d = c.Run(e);
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_DOUBLE_EQ(d.value, 20.2);
  c.in.seconds_since_last_write = 5;
  EXPECT_DOUBLE_EQ(c.Run(e).value, 20.5);
  c.in.seconds_since_last_write = 60;  // capped by max_step
  EXPECT_DOUBLE_EQ(c.Run(e).value, 21);
  c.in.seconds_since_last_write = 0;  // no time, no change: the PLC's value is kept
  d = c.Run(e);
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_EQ(d.value, 20.0);
  c.in.seconds_since_last_write = -5;  // a clock that went back opens nothing
  EXPECT_EQ(c.Run(e).value, 20.0);
  c.in.seconds_since_last_write = kNaN;
  EXPECT_EQ(c.Run(e).value, 20.0);
}

TEST(Envelope, ClampThenRateLimit) {
  Case c(30, 22.5, 60);
  Decision d = c.Run(Env());
  EXPECT_EQ(d.value, 23);  // clamped to 23, 0.5 away: within the step
  EXPECT_THAT(d.reasons, ElementsAre("clamped to max 23 (proposed 30)"));
}

TEST(Envelope, ConsecutiveWritesRampToTarget) {
  const Envelope e = Env();
  double last = 16;
  int writes = 0;
  while (last < 23 && writes < 100) {
    Case c(23, last, 5);  // every 5 s -> at most 0.5 per write
    Decision d = c.Run(e);
    ASSERT_EQ(d.action, Action::kWrite);
    EXPECT_LE(std::fabs(d.value - last), 0.5 + 1e-9);
    last = d.value;
    ++writes;
  }
  EXPECT_EQ(last, 23);
  EXPECT_EQ(writes, 14);
}

TEST(Envelope, NonFiniteProposalHolds) {
  for (double p : {kNaN, kInf, -kInf}) {
    Case c(p, 20.0, 60);
    Decision d = c.Run(Env());
    EXPECT_EQ(d.action, Action::kHold) << p;
    EXPECT_TRUE(std::isnan(d.value));
    ASSERT_EQ(d.reasons.size(), 1u);
    EXPECT_THAT(d.reasons[0], HasSubstr("proposal is not finite"));
  }
}

TEST(Envelope, HandModeAlwaysHolds) {
  Case c(20, 20.0, 60);
  c.in.hand_mode = true;
  c.values["zone_temp"] = 40;  // even with a safe interlock tripped
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_THAT(d.reasons, ElementsAre(HasSubstr("hand mode")));
}

TEST(Envelope, SafeInterlockWritesSafeWithoutRateLimit) {
  Case c(22, 23.0, 1);
  c.values["zone_temp"] = 27.4;
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kSafe);
  EXPECT_EQ(d.value, 18);  // 5 away from 23 in 1 s: the safe value ignores the limit
  EXPECT_THAT(d.reasons,
              ElementsAre("interlock overheating: zone_temp 27.4 > 27 -> safe setpoint"));
}

TEST(Envelope, HoldInterlock) {
  Case c(22, 21.0, 60);
  c.values["plc_alarms"] = 4;
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_THAT(d.reasons, ElementsAre("interlock plc_alarm: plc_alarms 4 > 0 -> hold"));
}

TEST(Envelope, SafeWinsOverHold) {
  Case c(22, 21.0, 60);
  c.values["plc_alarms"] = 1;
  c.values["zone_temp"] = 30;
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kSafe);
  EXPECT_EQ(d.reasons.size(), 2u);
}

TEST(Envelope, UnknownInterlockValueTrips) {
  Case c(22, 21.0, 60);
  c.values.erase("zone_temp");
  Decision d = c.Run(Env());
  EXPECT_EQ(d.action, Action::kSafe);
  EXPECT_THAT(d.reasons, ElementsAre(HasSubstr("zone_temp is unknown (treated as tripped)")));
  Case n(22, 21.0, 60);
  n.values["plc_alarms"] = kNaN;
  EXPECT_EQ(n.Run(Env()).action, Action::kHold);
  Case no_fn(22, 21.0, 60);
  no_fn.in.signal = nullptr;  // no values at all: everything unknown
  EXPECT_EQ(no_fn.Run(Env()).action, Action::kSafe);
}

TEST(Envelope, BelowBoundAndExpressions) {
  Envelope e = Env();
  e.interlocks = {Make("frost", "zone_temp - 2", kInf, 10, Interlock::Then::kSafe)};
  Case c(20, 20.0, 60);
  c.values["zone_temp"] = 11;
  Decision d = c.Run(e);
  EXPECT_EQ(d.action, Action::kSafe);
  EXPECT_THAT(d.reasons, ElementsAre("interlock frost: zone_temp - 2 = 9 < 10 -> safe setpoint"));
  c.values["zone_temp"] = 12;  // 10 is not below 10
  EXPECT_EQ(c.Run(e).action, Action::kWrite);
}

TEST(Envelope, LastWrittenOutsideEnvelope) {
  Case near(20, 23.5, 60);  // one step brings it inside
  Decision d = near.Run(Env());
  EXPECT_EQ(d.action, Action::kWrite);
  EXPECT_EQ(d.value, 22.5);
  Case far(20, 30.0, 60);  // 7 away: the limit cannot reach the envelope
  d = far.Run(Env());
  EXPECT_EQ(d.action, Action::kSafe);
  EXPECT_EQ(d.value, 18);
  EXPECT_THAT(d.reasons.back(), HasSubstr("the PLC holds 30, outside [16, 23]"));
  Case nan_last(20, kNaN, 60);
  d = nan_last.Run(Env());
  EXPECT_EQ(d.action, Action::kSafe);
}

TEST(Envelope, InvalidEnvelopeHolds) {
  Envelope e = Env();
  e.safe = 30;
  Case c(20, std::nullopt, kInf);
  Decision d = c.Run(e);
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_THAT(d.reasons, ElementsAre(HasSubstr("envelope is invalid: envelope: safe 30")));
  EXPECT_FALSE(ValidateEnvelope(e).ok());
  e = Env();
  e.max_rate_per_s = 0;
  EXPECT_THAT(ValidateEnvelope(e).message(), HasSubstr("max_rate"));
}

TEST(Envelope, HugeMagnitudesKeepTheInvariant) {
  Envelope e = Env();
  e.min = -1e300;
  e.max = 1e300;
  e.safe = 0;
  e.max_step = 0.5;
  e.interlocks.clear();
  Case c(1e300, 1e17, 60);  // last + 0.5 rounds to last at this magnitude
  Decision d = c.Run(e);
  EXPECT_EQ(d.action, Action::kWrite);
}

TEST(Envelope, CheckInvariantCatchesViolations) {
  const Envelope e = Env();
  Case c(23, 20.0, 60);
  Decision bad;
  bad.action = Action::kWrite;
  bad.value = 23;  // a 3 step
  std::string why;
  EXPECT_FALSE(CheckInvariant(e, c.in, bad, &why));
  EXPECT_THAT(why, HasSubstr("exceeds the limit 1"));
  bad.value = 24;
  EXPECT_FALSE(CheckInvariant(e, c.in, bad, &why));
  bad.action = Action::kSafe;
  bad.value = 18.0000001;
  EXPECT_FALSE(CheckInvariant(e, c.in, bad, &why));
  c.in.hand_mode = true;
  bad.value = 18;
  EXPECT_FALSE(CheckInvariant(e, c.in, bad, &why));
}

TEST(Envelope, ModeNames) {
  for (Mode m : {Mode::kShadow, Mode::kSupervised, Mode::kAutonomous}) {
    EXPECT_EQ(*ParseMode(ModeName(m)), m);
  }
  EXPECT_THAT(ParseMode("Auto").status().message(), HasSubstr("shadow, supervised, autonomous"));
  EXPECT_EQ(ActionName(Action::kSafe), "safe");
  EXPECT_EQ(ThenName(Interlock::Then::kHold), "hold");
}

}  // namespace
}  // namespace weft::control

#include "model/physics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "model/plant_loader.h"

namespace weft::model::physics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ValueLookup From(std::map<std::string, double> m) {
  return [m = std::move(m)](std::string_view name) {
    auto it = m.find(std::string(name));
    return it == m.end() ? kNaN : it->second;
  };
}

double EvalText(std::string_view text, std::map<std::string, double> vars = {}) {
  Result<Expr> e = ParseExpr(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  if (!e.ok()) return kNaN;
  return e->Eval(From(std::move(vars)));
}

TEST(ExprTest, EvaluatesWithPrecedenceAndFunctions) {
  EXPECT_DOUBLE_EQ(EvalText("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(EvalText("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(EvalText("8 / 4 / 2"), 1);
  EXPECT_DOUBLE_EQ(EvalText("10 - 4 - 3"), 3);
  EXPECT_DOUBLE_EQ(EvalText("--2 + -3"), -1);
  EXPECT_DOUBLE_EQ(EvalText("2.5e2"), 250);
  EXPECT_DOUBLE_EQ(EvalText("sqrt(16) + abs(-2) + min(3, 4) + max(3, 4) + pow(2, 10)"),
                   4 + 2 + 3 + 4 + 1024);
  EXPECT_DOUBLE_EQ(EvalText("exp(0)"), 1);
  EXPECT_NEAR(EvalText("sqrt(3)*voltage*current*0.86/1000", {{"voltage", 400}, {"current", 20}}),
              std::sqrt(3.0) * 400 * 20 * 0.86 / 1000, 1e-12);
  EXPECT_TRUE(std::isnan(EvalText("a + 1")));  // unknown variable
}

TEST(ExprTest, ListsVariablesOnce) {
  Result<Expr> e = ParseExpr("x_1 * y + x_1 - sqrt(z)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Variables(), (std::vector<std::string>{"x_1", "y", "z"}));
  EXPECT_EQ(e->text(), "x_1 * y + x_1 - sqrt(z)");
}

TEST(ExprTest, ErrorsNameTheColumnAndProblem) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"1 +", "column 4: unexpected end"}, Case{"(1 + 2", "column 7: expected ')'"},
        Case{"foo(1)", "column 1: unknown function 'foo'"},
        Case{"min(1)", "column 6: min() takes 2 arguments; expected ','"},
        Case{"sqrt(1, 2)", "column 7: sqrt() takes 1 argument; expected ')'"},
        Case{"2 x", "column 3: unexpected 'x'"},
        Case{"2x", "column 2: a number is followed by a name"},
        Case{"a $ b", "column 3: unexpected '$'"}, Case{"Power", "column 1: unexpected 'P'"},
        Case{"", "column 1: the expression is empty"}}) {
    Result<Expr> e = ParseExpr(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << e.status().message();
  }
  std::string deep(100, '(');
  deep += "1" + std::string(100, ')');
  Result<Expr> e = ParseExpr(deep);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("deeper than 64"), std::string::npos);
  EXPECT_FALSE(ParseExpr(std::string(kMaxExprChars + 1, '1')).ok());
}

constexpr char kYaml[] = R"(constraints:
  motor:
    envelope:
      vibration_rms: [0.5, 15]
      bearing_temp_de: [20, 110]
    bounds:
      - {name: risk_is_probability, output: failure_risk, min: 0, max: 1}
      - {name: winding_temp_range, signal: winding_temp, min: -20, max: 180}
    rate_of_change:
      - {name: risk_rate, output: failure_risk, max_per_s: 0.01}
    monotonic:
      - {name: risk_rises_with_vibration, output: failure_risk, input: vibration_rms, direction: increasing}
    balance:
      - {name: electrical_power, lhs: "power", rhs: "sqrt(3)*voltage*current*0.86/1000", rel_tol: 0.15, abs_tol: 0.5}
    twin_agreement:
      - {name: thermal_twin, output: winding_temp, twin: motor, twin_output: winding_temp, tolerance: 5}
)";

TEST(ConstraintsTest, ParsesEveryKind) {
  Diagnostics diags;
  Result<ConstraintSet> set = ParseConstraints(kYaml, "c.yaml", &diags);
  ASSERT_TRUE(set.ok()) << diags.ToString();
  const AssetConstraints* c = set->For("motor", nullptr);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->envelope.size(), 2u);
  EXPECT_DOUBLE_EQ(c->EnvelopeOf("vibration_rms")->lo, 0.5);
  EXPECT_DOUBLE_EQ(c->EnvelopeOf("bearing_temp_de")->hi, 110);
  ASSERT_EQ(c->bounds.size(), 2u);
  EXPECT_TRUE(c->bounds[0].is_output);
  EXPECT_EQ(c->bounds[1].quantity, "winding_temp");
  EXPECT_FALSE(c->bounds[1].is_output);
  EXPECT_EQ(c->bounds[1].where.line, 8);
  ASSERT_EQ(c->rates.size(), 1u);
  EXPECT_DOUBLE_EQ(c->rates[0].max_per_s, 0.01);
  ASSERT_EQ(c->monotonic.size(), 1u);
  EXPECT_EQ(c->monotonic[0].input, "vibration_rms");
  EXPECT_EQ(c->monotonic[0].direction, Direction::kIncreasing);
  ASSERT_EQ(c->balances.size(), 1u);
  EXPECT_EQ(c->balances[0].rhs.Variables(), (std::vector<std::string>{"current", "voltage"}));
  ASSERT_EQ(c->twins.size(), 1u);
  EXPECT_DOUBLE_EQ(c->twins[0].tolerance, 5);
  EXPECT_EQ(set->For("pump", nullptr), nullptr);
}

TEST(ConstraintsTest, ReportsEveryProblemWithPlaceAndPath) {
  constexpr char kBad[] = R"(constraints:
  motor:
    envelope:
      vibration_rms: [15, 0.5]
    bounds:
      - {name: a, output: failure_risk, signal: x, min: 0}
      - {name: b, output: failure_risk}
    monotonic:
      - {name: a, output: r, input: v, direction: upwards}
    balance:
      - {name: p, lhs: "power +", rhs: "1", abs_tol: 1}
    twin_agreement:
      - {name: t, output: w, twin: motor, twin_output: w, tolerance: 5, extra: 1}
)";
  Diagnostics diags;
  Result<ConstraintSet> set = ParseConstraints(kBad, "bad.yaml", &diags);
  ASSERT_FALSE(set.ok());
  const std::string all = diags.ToString();
  EXPECT_NE(all.find("bad.yaml:4:22: error: constraints.motor.envelope.vibration_rms: expected lo "
                     "< hi"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("constraints.motor.bounds[0].signal: give either 'output' or 'signal'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bounds[1]: a bound needs 'min', 'max' or both"), std::string::npos) << all;
  EXPECT_NE(all.find("monotonic[0].name: constraint name 'a' is used twice"), std::string::npos)
      << all;
  EXPECT_NE(all.find("unknown direction 'upwards'"), std::string::npos) << all;
  EXPECT_NE(all.find("balance[0].lhs: expression 'power +': column 8: unexpected end"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("extra"), std::string::npos) << all;
  EXPECT_GE(diags.error_count(), 7u);
}

TEST(ConstraintsTest, RefusesOversizedFilesAndMissingSection) {
  Diagnostics diags;
  std::string big = "constraints: {}\n# " + std::string(kMaxConstraintsFileBytes, 'x');
  EXPECT_FALSE(ParseConstraints(big, "big.yaml", &diags).ok());
  Diagnostics d2;
  Result<ConstraintSet> s = ParseConstraints("other: 1\n", "o.yaml", &d2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(d2.ToString().find("unknown"), std::string::npos) << d2.ToString();
}

TEST(ConstraintsTest, ForWalksExtendsGivenAPlant) {
  const char* src = std::getenv("WEFT_SOURCE_DIR");
  std::string root = src != nullptr ? src : ".";
  Diagnostics diags;
  Result<Plant> plant = LoadPlantFile(root + "/examples/plant.yaml", &diags);
  ASSERT_TRUE(plant.ok()) << diags.ToString();
  Result<ConstraintSet> set = LoadConstraintsFile(root + "/examples/constraints.yaml", &diags);
  ASSERT_TRUE(set.ok()) << diags.ToString();
  const AssetConstraints* c = set->For("cnc_spindle", &*plant);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->asset_type, "motor");
  EXPECT_EQ(set->For("cnc_spindle", nullptr), nullptr);
  EXPECT_EQ(set->For("conveyor", &*plant), nullptr);
  EXPECT_EQ(set->For("pump", &*plant)->asset_type, "pump");
  EXPECT_EQ(LoadConstraintsFile(root + "/no/such.yaml", &diags).status().code(),
            StatusCode::kNotFound);
}

TEST(CheckTest, BoundsAndBalance) {
  Diagnostics diags;
  Result<ConstraintSet> set = ParseConstraints(kYaml, "c.yaml", &diags);
  ASSERT_TRUE(set.ok());
  const AssetConstraints& c = set->by_type.at("motor");
  const double p = std::sqrt(3.0) * 400 * 20 * 0.86 / 1000;  // 11.9 kW
  EXPECT_TRUE(CheckPoint(c, From({{"failure_risk", 0.5},
                                  {"winding_temp", 90},
                                  {"power", p * 1.1},
                                  {"voltage", 400},
                                  {"current", 20}}))
                  .empty());
  std::vector<Violation> v = CheckPoint(
      c, From({{"failure_risk", 1.2}, {"power", p * 1.5}, {"voltage", 400}, {"current", 20}}));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].constraint, "risk_is_probability");
  EXPECT_EQ(v[0].kind, "bounds");
  EXPECT_EQ(v[0].detail, "failure_risk = 1.2 is outside [0, 1]");
  EXPECT_EQ(v[1].constraint, "electrical_power");
  EXPECT_EQ(v[1].kind, "balance");
  EXPECT_NE(v[1].detail.find("power = 17.87 differs from"), std::string::npos) << v[1].detail;
  // Unknown values are skipped: no voltage, no balance check.
  EXPECT_TRUE(CheckPoint(c, From({{"power", 1000}, {"current", 20}})).empty());

  std::vector<Violation> env =
      CheckEnvelope(c, From({{"vibration_rms", 20}, {"bearing_temp_de", 50}}));
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].kind, "envelope");
  EXPECT_EQ(env[0].detail, "vibration_rms = 20 is outside the operating envelope [0.5, 15]");
}

TEST(CheckTest, RateChecker) {
  RateConstraint rc{"risk_rate", "failure_risk", true, 0.01, {}};
  RateChecker rates;
  EXPECT_FALSE(rates.Observe("a", rc, 0, 0.10));
  EXPECT_FALSE(rates.Observe("a", rc, 1'000'000, 0.105));  // 0.005/s
  EXPECT_FALSE(rates.Observe("b", rc, 1'000'000, 0.9));    // other key: first value
  std::optional<Violation> v = rates.Observe("a", rc, 2'000'000, 0.2);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->constraint, "risk_rate");
  EXPECT_EQ(v->kind, "rate_of_change");
  EXPECT_EQ(v->detail, "failure_risk changes from 0.105 to 0.2 in 1 s (0.095/s > 0.01/s)");
  EXPECT_FALSE(rates.Observe("a", rc, 1'000'000, 0.9));  // time going back: restart
  EXPECT_FALSE(rates.Observe("a", rc, 3'000'000, kNaN));
}

}  // namespace
}  // namespace weft::model::physics

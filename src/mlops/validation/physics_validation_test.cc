#include "mlops/validation/physics_validation.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <limits>
#include <random>

#include "edge/inference/tree_model.h"
#include "edge/inference/xgboost_runner.h"
#include "model/physics.h"
#include "testing/test_env.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

using edge::inference::FeatureConfig;
using edge::inference::Stat;
using edge::inference::TreeModel;

// Trains an XGBoost model through the C API on the given rows (row-major, `nf` columns) and
// saves it as JSON at `path`.
Status Train(const std::vector<float>& x, const std::vector<float>& y, int nf,
             const std::vector<std::pair<std::string, std::string>>& extra,
             const std::string& objective, const std::string& path) {
  DMatrixHandle dm = nullptr;
  const auto rows = static_cast<bst_ulong>(y.size());
  if (XGDMatrixCreateFromMat(x.data(), rows, static_cast<bst_ulong>(nf),
                             std::numeric_limits<float>::quiet_NaN(), &dm) != 0) {
    return InternalError("XGDMatrixCreateFromMat: " + edge::inference::XgboostLastError());
  }
  BoosterHandle b = nullptr;
  Status status;
  auto fail = [&](const char* what) {
    if (status.ok()) {
      status = InternalError(std::string(what) + ": " + edge::inference::XgboostLastError());
    }
  };
  if (XGDMatrixSetFloatInfo(dm, "label", y.data(), rows) != 0) fail("label");
  if (status.ok() && XGBoosterCreate(&dm, 1, &b) != 0) fail("XGBoosterCreate");
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", objective}, {"max_depth", "4"},      {"eta", "0.3"},
      {"nthread", "1"},         {"tree_method", "hist"}, {"seed", "7"}};
  params.insert(params.end(), extra.begin(), extra.end());
  for (const auto& [k, v] : params) {
    if (status.ok() && XGBoosterSetParam(b, k.c_str(), v.c_str()) != 0) fail("XGBoosterSetParam");
  }
  for (int i = 0; status.ok() && i < 30; ++i) {
    if (XGBoosterUpdateOneIter(b, i, dm) != 0) fail("XGBoosterUpdateOneIter");
  }
  if (status.ok() && XGBoosterSaveModel(b, path.c_str()) != 0) fail("XGBoosterSaveModel");
  if (b != nullptr) XGBoosterFree(b);
  XGDMatrixFree(dm);
  return status;
}

// Features: vibration_rms [last, mean], bearing_temp_de [last].
std::vector<FeatureConfig> Features() {
  return {{"vibration_rms", {Stat::kLast, Stat::kMean}}, {"bearing_temp_de", {Stat::kLast}}};
}

// Synthetic rows over the envelope; `label(vib, temp, noise)` gives the label.
template <typename Label>
void Rows(Label label, std::vector<float>* x, std::vector<float>* y) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> vib(0.5, 15), temp(20, 110), noise(-0.1, 0.1);
  for (int i = 0; i < 3000; ++i) {
    const double v = vib(rng), t = temp(rng);
    x->push_back(static_cast<float>(v));
    x->push_back(static_cast<float>(v + noise(rng)));
    x->push_back(static_cast<float>(t));
    y->push_back(static_cast<float>(label(v, t, noise(rng))));
  }
}

model::physics::AssetConstraints Motor() {
  Diagnostics diags;
  auto set = model::physics::ParseConstraints(R"(constraints:
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
      - {name: risk_rises_with_bearing_temp, output: failure_risk, input: bearing_temp_de, direction: increasing}
      - {name: speed_lowers_torque, output: torque, input: speed, direction: decreasing}
    balance:
      - {name: risk_tracks_vibration, lhs: "failure_risk", rhs: "vibration_rms / 15", abs_tol: 1.5}
      - {name: electrical_power, lhs: "power", rhs: "sqrt(3)*voltage*current*0.86/1000", rel_tol: 0.15}
    twin_agreement:
      - {name: thermal_twin, output: winding_temp, twin: motor, twin_output: winding_temp, tolerance: 5}
)",
                                              "c.yaml", &diags);
  EXPECT_TRUE(set.ok()) << diags.ToString();
  return set->by_type.at("motor");
}

const ConstraintResult* Find(const ValidationReport& r, std::string_view name) {
  for (const ConstraintResult& c : r.results) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::Make();
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<testing::TempDir>(std::move(d).value());
  }
  std::unique_ptr<TreeModel> Model(const std::string& file, const std::vector<float>& x,
                                   const std::vector<float>& y,
                                   const std::vector<std::pair<std::string, std::string>>& extra,
                                   const std::string& objective = "binary:logistic") {
    const std::string path = dir_->path() + "/" + file;
    Status s = Train(x, y, 3, extra, objective, path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto m = TreeModel::Load(path, "risk", "1");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  std::unique_ptr<testing::TempDir> dir_;
};

TEST_F(ValidationTest, PhysicalModelTrainedWithMonotoneConstraintsPasses) {
  std::vector<float> x, y;
  Rows([](double v, double t, double n) { return v / 15 * 0.7 + (t - 20) / 90 * 0.3 + n > 0.5; },
       &x, &y);
  auto model = Model("physical.json", x, y, {{"monotone_constraints", "(1,1,1)"}});
  ASSERT_NE(model, nullptr);
  auto report = ValidateCandidate(*model, "failure_risk", Features(), Motor(), SweepOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->passed) << report->Summary();

  const ConstraintResult* mono = Find(*report, "risk_rises_with_vibration");
  ASSERT_NE(mono, nullptr);
  EXPECT_EQ(mono->status, CheckStatus::kPassed);
  EXPECT_EQ(mono->points_checked, 7u * 6u);  // 7 lines of the 7x7 grid, 6 steps each
  const ConstraintResult* bounds = Find(*report, "risk_is_probability");
  EXPECT_EQ(bounds->status, CheckStatus::kPassed);
  EXPECT_EQ(bounds->points_checked, 49u + 16u);
  EXPECT_EQ(Find(*report, "risk_tracks_vibration")->status, CheckStatus::kPassed);
  EXPECT_EQ(Find(*report, "risk_tracks_vibration")->points_checked, 49u);
  // Never passed silently: what the sweep cannot check is skipped with a reason.
  const ConstraintResult* twin = Find(*report, "thermal_twin");
  EXPECT_EQ(twin->status, CheckStatus::kSkipped);
  EXPECT_NE(twin->detail.find("compares output 'winding_temp'"), std::string::npos) << twin->detail;
  EXPECT_NE(Find(*report, "electrical_power")
                ->detail.find("variables 'power', 'current', 'voltage' are neither"),
            std::string::npos);
  EXPECT_EQ(Find(*report, "risk_rate")->status, CheckStatus::kSkipped);
  EXPECT_EQ(Find(*report, "winding_temp_range")->status, CheckStatus::kSkipped);
  EXPECT_NE(Find(*report, "speed_lowers_torque")->detail.find("output is 'failure_risk'"),
            std::string::npos);
  auto j = report->ToJson();
  EXPECT_EQ(j["passed"], true);
  EXPECT_EQ(j["results"][0]["name"], "risk_is_probability");
  EXPECT_NE(report->Summary().find("candidate passed"), std::string::npos);
}

TEST_F(ValidationTest, NonPhysicalModelIsRefusedWithTheConstraintAndPoint) {
  // Failure risk falls with vibration in a band: fitted without monotone constraints.
  std::vector<float> x, y;
  Rows([](double v, double, double) { return v > 5 && !(v > 7 && v < 10.5); }, &x, &y);
  auto model = Model("nonphysical.json", x, y, {});
  ASSERT_NE(model, nullptr);
  SweepOptions o;
  o.units = {{"vibration_rms", "mm/s"}};
  auto report = ValidateCandidate(*model, "failure_risk", Features(), Motor(), o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->passed);
  const ConstraintResult* mono = Find(*report, "risk_rises_with_vibration");
  ASSERT_NE(mono, nullptr);
  EXPECT_EQ(mono->status, CheckStatus::kFailed);
  EXPECT_GE(mono->violations, 7u);  // on every line of the grid
  EXPECT_GT(mono->worst_amount, 0.5);
  // The point where it falls: vibration 5.33 -> 7.75 mm/s.
  ASSERT_EQ(mono->worst_point.size(), 2u);
  EXPECT_EQ(mono->worst_point[0].first, "vibration_rms");
  EXPECT_NEAR(mono->worst_point[0].second, 0.5 + 14.5 * 2 / 6, 1e-9);
  EXPECT_NE(mono->detail.find("failure_risk falls from 0."), std::string::npos) << mono->detail;
  EXPECT_NE(mono->detail.find("as vibration_rms rises from 5.333 to 7.75 mm/s (bearing_temp_de="),
            std::string::npos)
      << mono->detail;
  const std::string summary = report->Summary();
  EXPECT_NE(summary.find("FAILED  risk_rises_with_vibration (monotonic)"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("candidate REFUSED"), std::string::npos);
  auto j = report->ToJson();
  bool found = false;
  for (const auto& r : j["results"]) {
    if (r["name"] != "risk_rises_with_vibration") continue;
    found = true;
    EXPECT_EQ(r["status"], "failed");
    EXPECT_TRUE(r["worst"]["point"].contains("bearing_temp_de"));
  }
  EXPECT_TRUE(found);

  // A Latin hypercube sample (the grid is larger than max_points) finds it too.
  o.max_points = 20;
  auto sampled = ValidateCandidate(*model, "failure_risk", Features(), Motor(), o);
  ASSERT_TRUE(sampled.ok());
  EXPECT_FALSE(sampled->passed);
  EXPECT_EQ(Find(*sampled, "risk_rises_with_vibration")->status, CheckStatus::kFailed);
  EXPECT_EQ(Find(*sampled, "risk_is_probability")->points_checked, 20u + 16u);
}

TEST_F(ValidationTest, RegressionOutsideBoundsIsRefused) {
  std::vector<float> x, y;
  Rows([](double v, double, double) { return v / 10; }, &x, &y);  // up to 1.5
  auto model =
      Model("regression.json", x, y, {{"monotone_constraints", "(1,1,0)"}}, "reg:squarederror");
  ASSERT_NE(model, nullptr);
  auto report = ValidateCandidate(*model, "failure_risk", Features(), Motor(), SweepOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->passed);
  const ConstraintResult* b = Find(*report, "risk_is_probability");
  EXPECT_EQ(b->status, CheckStatus::kFailed);
  EXPECT_GT(b->worst_amount, 0.3);
  EXPECT_NE(b->detail.find("is outside [0, 1] at vibration_rms=15"), std::string::npos)
      << b->detail;
  EXPECT_EQ(Find(*report, "risk_rises_with_vibration")->status, CheckStatus::kPassed);
}

TEST_F(ValidationTest, RefusesSignalsWithoutEnvelopeAndMismatchedFeatures) {
  std::vector<float> x, y;
  Rows([](double v, double, double) { return v > 7; }, &x, &y);
  auto model = Model("m.json", x, y, {});
  ASSERT_NE(model, nullptr);
  std::vector<FeatureConfig> f = {{"vibration_rms", {Stat::kLast, Stat::kMean}},
                                  {"current", {Stat::kLast}}};
  auto r = ValidateCandidate(*model, "failure_risk", f, Motor(), SweepOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("feature signal 'current' has no envelope range"),
            std::string::npos);
  f = {{"vibration_rms", {Stat::kLast}}, {"bearing_temp_de", {Stat::kLast}}};
  r = ValidateCandidate(*model, "failure_risk", f, Motor(), SweepOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("takes 3 features"), std::string::npos);
  SweepOptions bad;
  bad.grid_steps = 1;
  EXPECT_FALSE(ValidateCandidate(*model, "failure_risk", Features(), Motor(), bad).ok());
}

// Twin agreement: a regression of winding_temp on current against the motor twin's steady state
// (load from current as the constraint maps it). Trained on the twin's own values it agrees
// within the tolerance; trained on values 10 K too warm it is refused, with the point named.
TEST_F(ValidationTest, TwinAgreementComparesWithTheTwinsSteadyState) {
  Diagnostics diags;
  auto set = model::physics::ParseConstraints(R"(constraints:
  motor:
    envelope: {current: [10, 31]}
    twin_agreement:
      - {name: thermal_twin, output: winding_temp, twin: motor, twin_output: winding_temp,
         tolerance: 3, inputs: {load: "(current - 10) / 18", ambient_temp: "25"}}
)",
                                              "twin.yaml", &diags);
  ASSERT_TRUE(set.ok()) << diags.ToString();
  const model::physics::AssetConstraints* c = set->For("motor", nullptr);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->twins.size(), 1u);
  ASSERT_EQ(c->twins[0].inputs.size(), 2u);

  auto motor = twin::MakeTwin("motor", {});
  ASSERT_TRUE(motor.ok());
  twin::Rng rng(1);
  std::vector<float> x, truth;
  for (int i = 0; i < 2000; ++i) {
    const double current = 10 + 21.0 * i / 1999;
    ASSERT_TRUE((*motor)->SetInput("load", (current - 10) / 18).ok());
    for (int k = 0; k < 20; ++k) (*motor)->Step(3600, rng);
    x.push_back(static_cast<float>(current));
    truth.push_back(static_cast<float>(*(*motor)->Output("winding_temp")));
  }
  const std::vector<FeatureConfig> features = {{"current", {Stat::kLast}}};
  auto validate = [&](const std::vector<float>& y, const std::string& file) {
    const std::string path = dir_->path() + "/" + file;
    Status s = Train(x, y, 1, {{"max_depth", "6"}}, "reg:squarederror", path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto m = TreeModel::Load(path, "winding", "1");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return ValidateCandidate(**m, "winding_temp", features, *c, SweepOptions{});
  };

  auto good = validate(truth, "good.json");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  const ConstraintResult* t = Find(*good, "thermal_twin");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->status, CheckStatus::kPassed) << t->detail;
  EXPECT_EQ(t->points_checked, 7u);  // the grid of one signal
  EXPECT_TRUE(good->passed);

  std::vector<float> warm = truth;
  for (float& v : warm) v += 10;
  auto bad = validate(warm, "warm.json");
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  t = Find(*bad, "thermal_twin");
  EXPECT_EQ(t->status, CheckStatus::kFailed);
  EXPECT_EQ(t->violations, 7u);
  EXPECT_FALSE(bad->passed);
  EXPECT_NE(t->detail.find("differs from twin motor's steady winding_temp"), std::string::npos)
      << t->detail;
  EXPECT_NE(t->detail.find("tolerance 3"), std::string::npos) << t->detail;
}

}  // namespace
}  // namespace weft::mlops

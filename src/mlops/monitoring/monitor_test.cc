#include "mlops/monitoring/monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "twin/twin.h"

namespace weft::mlops {
namespace {

// A grid standing in for U(lo, hi) samples.
std::vector<double> Grid(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(lo + (hi - lo) * (i + 0.5) / n);
  return out;
}

MonitorConfig BasicConfig() {
  MonitorConfig c;
  FeatureReference x;
  x.name = "x";
  x.sample = Grid(0, 1, 1000);
  x.envelope_mode = FeatureReference::EnvelopeMode::kMinMax;
  c.features.push_back(x);
  return c;
}

MonitorWindow BasicWindow(std::vector<double> x, std::string version = "1") {
  MonitorWindow w;
  w.model = "m";
  w.model_version = std::move(version);
  w.asset = "a1";
  w.sample_period_s = 10;
  w.signals["x"] = std::move(x);
  return w;
}

const CheckResult* Find(const WindowAssessment& a, std::string_view check,
                        std::string_view statistic) {
  for (const CheckResult& r : a.results) {
    if (r.check == check && r.statistic == statistic) return &r;
  }
  return nullptr;
}

TEST(ParseMonitorConfigTest, ParsesTheDocumentedCard) {
  const char* card = R"({
    "model": "bearing_risk",
    "feature_names": ["current", "ambient_temp"],
    "features": [{"name": "spec objects are ignored"}],
    "reference": {
      "current": {"quantiles": [11, 12, 13, 14, 15, 16, 17, 18, 19], "sample": [10, 20],
                  "envelope": [10, 28]},
      "ambient_temp": {"sample": [10, 20, 30], "envelope": "minmax", "drift": false},
      "score": {"sample": [0.1, 0.2, 0.3]}
    },
    "monitoring": {
      "thresholds": {"psi_alert": 0.3, "envelope_alert": 0.1, "weights": {"thermal": 0.5}},
      "control_outputs": [{"name": "cooling_valve", "min": 0, "max": 100, "eps": 0.5}],
      "thermal_residual": {"twin": "motor", "output": "winding_temp",
                           "inputs": [{"input": "load", "signal": "current",
                                       "scale": 0.0555556, "offset": -0.555556,
                                       "min": 0, "max": 1.2},
                                      {"input": "ambient_temp", "constant": 25}],
                           "healthy_sigma": 0.8, "trend_windows": 5, "warmup_s": 600}
    }
  })";
  Result<MonitorConfig> c = ParseMonitorConfig(card);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->model, "bearing_risk");
  ASSERT_EQ(c->features.size(), 2U);
  EXPECT_EQ(c->features[0].name, "current");
  EXPECT_EQ(c->features[0].quantiles.size(), 9U);
  EXPECT_EQ(c->features[0].envelope_mode, FeatureReference::EnvelopeMode::kExplicit);
  EXPECT_EQ(c->features[0].envelope_hi, 28);
  EXPECT_FALSE(c->features[1].drift);
  EXPECT_EQ(c->features[1].envelope_mode, FeatureReference::EnvelopeMode::kMinMax);
  ASSERT_TRUE(c->prediction.has_value());
  EXPECT_EQ(c->prediction->sample.size(), 3U);
  EXPECT_EQ(c->thresholds.psi.alert, 0.3);
  EXPECT_EQ(c->thresholds.envelope_alert, 0.1);
  EXPECT_EQ(c->thresholds.weight_thermal, 0.5);
  ASSERT_EQ(c->controls.size(), 1U);
  EXPECT_EQ(c->controls[0].max, 100);
  ASSERT_TRUE(c->thermal.has_value());
  EXPECT_EQ(c->thermal->inputs.size(), 2U);
  EXPECT_EQ(c->thermal->inputs[1].constant, 25);
  EXPECT_EQ(c->thermal->trend_windows, 5);
  EXPECT_EQ(c->thermal->measured_signal, "winding_temp");

  Result<std::unique_ptr<ReliabilityMonitor>> m = ReliabilityMonitor::Create(*c);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->config().features[1].envelope_lo, 10);  // minmax from the sample
  EXPECT_EQ((*m)->config().features[1].envelope_hi, 30);
}

TEST(ParseMonitorConfigTest, ErrorsNameThePlace) {
  Result<MonitorConfig> c = ParseMonitorConfig(R"({"feature_names": ["a"], "reference": {}})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("reference.a"), std::string::npos) << c.status().message();
  c = ParseMonitorConfig(R"({"reference": {"a": {"sample": [1, "x"]}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("reference.a.sample[1]"), std::string::npos);
  c = ParseMonitorConfig(R"({"reference": {"a": {"sample": [1], "envelope": "wide"}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("reference.a.envelope"), std::string::npos);
  EXPECT_FALSE(ParseMonitorConfig("{not json").ok());
  c = ParseMonitorConfig(R"({"reference": {"a": {"sample": [1]}},
      "monitoring": {"thermal_residual": {"inputs": [{"input": "load"}]}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("inputs[0]"), std::string::npos);
  // Create validates what parsing cannot: the twin's names.
  c = ParseMonitorConfig(R"({"reference": {"a": {"sample": [1]}},
      "monitoring": {"thermal_residual": {"output": "no_such_output"}}})");
  ASSERT_TRUE(c.ok());
  Result<std::unique_ptr<ReliabilityMonitor>> m = ReliabilityMonitor::Create(*c);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("no_such_output"), std::string::npos);
}

TEST(ReliabilityMonitorTest, DriftAlertTriggersRetrain) {
  auto m = ReliabilityMonitor::Create(BasicConfig()).value();
  Result<WindowAssessment> same = m->Assess(BasicWindow(Grid(0, 1, 360)));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->check_levels.at("feature_drift"), Level::kOk);
  EXPECT_EQ(same->action, Action::kNone);
  EXPECT_DOUBLE_EQ(same->score, 1.0);

  // Squeezed into the upper half: half the bins empty.
  Result<WindowAssessment> drifted = m->Assess(BasicWindow(Grid(0.5, 1, 360)));
  ASSERT_TRUE(drifted.ok());
  const CheckResult* psi = Find(*drifted, "feature_drift", "psi");
  ASSERT_NE(psi, nullptr);
  EXPECT_GT(psi->value, 0.25);
  EXPECT_EQ(psi->level, Level::kAlert);
  const CheckResult* ks = Find(*drifted, "feature_drift", "ks_d");
  ASSERT_NE(ks, nullptr);
  EXPECT_NEAR(ks->value, 0.5, 0.01);
  EXPECT_EQ(drifted->action, Action::kRetrain);
  EXPECT_EQ(drifted->check_levels.at("environmental_deviation"), Level::kOk);
  // Score: drift alert (0) weight 0.3, envelope ok (1) weight 0.3 -> 0.5.
  EXPECT_DOUBLE_EQ(drifted->score, 0.5);
  for (const CheckResult& r : drifted->results) {
    EXPECT_EQ(r.action, Action::kRetrain);
    EXPECT_EQ(r.score, 0.5);
  }
}

TEST(ReliabilityMonitorTest, EnvelopeAlertMarksLowTrust) {
  MonitorConfig c = BasicConfig();
  c.features[0].drift = false;
  auto m = ReliabilityMonitor::Create(c).value();
  std::vector<double> x = Grid(0, 1, 100);
  for (int i = 0; i < 4; ++i) x[static_cast<size_t>(i)] = 1.5;  // 4% outside: warn
  WindowAssessment a = m->Assess(BasicWindow(x)).value();
  EXPECT_EQ(a.check_levels.at("environmental_deviation"), Level::kWarn);
  EXPECT_EQ(a.action, Action::kMarkLowTrust);  // score 0.5 < 0.6
  x[4] = -1;                                   // 5%: alert
  a = m->Assess(BasicWindow(x)).value();
  EXPECT_EQ(a.check_levels.at("environmental_deviation"), Level::kAlert);
  EXPECT_NEAR(Find(a, "environmental_deviation", "share_outside")->value, 0.05, 1e-12);
  EXPECT_EQ(a.action, Action::kMarkLowTrust);
  EXPECT_FALSE(a.check_levels.contains("feature_drift"));
}

TEST(ReliabilityMonitorTest, SaturationShareAtLimits) {
  MonitorConfig c = BasicConfig();
  c.controls.push_back({"valve", 0, 100, 0.5});
  auto m = ReliabilityMonitor::Create(c).value();
  std::vector<double> valve(100, 60.0);
  for (size_t i = 0; i < 30; ++i) valve[i] = 100;  // 30% at max: warn
  MonitorWindow w = BasicWindow(Grid(0, 1, 100));
  w.signals["valve"] = valve;
  WindowAssessment a = m->Assess(w).value();
  EXPECT_NEAR(Find(a, "actuator_saturation", "share_at_limits")->value, 0.3, 1e-12);
  EXPECT_EQ(a.check_levels.at("actuator_saturation"), Level::kWarn);
  for (size_t i = 30; i < 55; ++i) valve[i] = 0.2;  // + 25% within eps of min: 55% alert
  w.signals["valve"] = valve;
  a = m->Assess(w).value();
  EXPECT_NEAR(Find(a, "actuator_saturation", "share_at_limits")->value, 0.55, 1e-12);
  EXPECT_EQ(a.check_levels.at("actuator_saturation"), Level::kAlert);
  // Saturation alone does not retrain; score (0.3 + 0 + 0.3) / 0.75 = 0.8: no action.
  EXPECT_EQ(a.action, Action::kNone);
  EXPECT_NEAR(a.score, 0.8, 1e-12);
}

TEST(ReliabilityMonitorTest, MissingOrRaggedSignalsAreRejected) {
  auto m = ReliabilityMonitor::Create(BasicConfig()).value();
  MonitorWindow w = BasicWindow(Grid(0, 1, 10));
  w.signals.erase("x");
  w.signals["y"] = {1};
  Result<WindowAssessment> a = m->Assess(w);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("missing signal 'x'"), std::string::npos);
  w = BasicWindow(Grid(0, 1, 10));
  w.signals["y"] = {1, 2};
  a = m->Assess(w);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("signal 'y' has 2 samples"), std::string::npos);
}

TEST(ReliabilityMonitorTest, RollbackWhenNewVersionIsWorseOnTheSameAsset) {
  MonitorConfig c = BasicConfig();
  c.thresholds.rollback_min_windows = 2;
  c.features[0].drift = false;  // only the envelope check: scores 1 (ok) or 0 (alert)
  auto m = ReliabilityMonitor::Create(c).value();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(m->Assess(BasicWindow(Grid(0, 1, 100), "1")).value().action, Action::kNone);
  }
  // Version 2 on the same asset sees out-of-envelope data (score 0).
  std::vector<double> bad = Grid(0, 1, 100);
  for (size_t i = 0; i < 10; ++i) bad[i] = 2;
  EXPECT_EQ(m->Assess(BasicWindow(bad, "2")).value().action, Action::kMarkLowTrust);
  WindowAssessment a = m->Assess(BasicWindow(bad, "2")).value();
  EXPECT_EQ(a.action, Action::kRollback);
  // Another asset has no history of version 1: no rollback there.
  MonitorWindow other = BasicWindow(bad, "2");
  other.asset = "a2";
  for (int i = 0; i < 3; ++i) EXPECT_NE(m->Assess(other).value().action, Action::kRollback);
}

// Thermal: the "plant" is the twin itself plus a residual we control, so the rule is tested
// exactly: a constant offset warns, a rising offset alerts.
class ThermalTest : public ::testing::Test {
 protected:
  MonitorConfig Config() {
    MonitorConfig c;
    FeatureReference cur;
    cur.name = "current";
    cur.sample = Grid(10, 28, 1000);
    cur.drift = false;
    cur.envelope = false;
    c.features.push_back(cur);
    ThermalResidualSpec s;
    s.inputs = {{"load", "current", 1.0 / 18, -10.0 / 18, 0, 0, 1.2},
                {"ambient_temp", "", 1, 0, 25, -1e300, 1e300},
                {"running", "", 1, 0, 1, -1e300, 1e300}};
    s.healthy_sigma = 0.5;
    s.k_sigma = 4;
    s.trend_windows = 4;
    s.trend_t_min = 2.5;
    c.thermal = s;
    return c;
  }
  // One hour at 10 s of the twin at load 0.7, measured = twin + extra(t).
  MonitorWindow Window(twin::Twin& plant, twin::Rng& rng, double extra_start,
                       double extra_per_hour) {
    MonitorWindow w = BasicWindow({});
    w.signals.clear();
    for (int i = 0; i < 360; ++i) {
      plant.Step(10, rng);
      w.signals["current"].push_back(*plant.Output("current"));
      w.signals["winding_temp"].push_back(*plant.Output("winding_temp") + extra_start +
                                          extra_per_hour * i / 360.0);
    }
    return w;
  }
};

TEST_F(ThermalTest, ConstantOffsetWarnsRisingOffsetAlerts) {
  auto m = ReliabilityMonitor::Create(Config()).value();
  auto plant = twin::MakeTwin("motor", {}).value();
  ASSERT_TRUE(plant->SetInput("load", 0.7).ok());
  twin::Rng rng(1);
  plant->Step(1e6, rng);  // steady state, as the monitor starts its twin
  for (int i = 0; i < 3; ++i) {
    WindowAssessment a = m->Assess(Window(*plant, rng, 0, 0)).value();
    EXPECT_NEAR(Find(a, "thermal_degradation", "residual_mean")->value, 0.0, 1e-6);
    EXPECT_EQ(a.check_levels.at("thermal_degradation"), Level::kOk);
  }
  // Residual rising 3 K per hour: mean 1.5, 4.5, 7.5 ...: above 4σ = 2 from the second window,
  // and the last 4 means rise.
  int alert_at = -1;
  for (int k = 0; k < 4 && alert_at < 0; ++k) {
    WindowAssessment a = m->Assess(Window(*plant, rng, 3.0 * k, 3.0)).value();
    if (a.check_levels.at("thermal_degradation") == Level::kAlert) {
      alert_at = k;
      EXPECT_EQ(a.action, Action::kRetrain);
      EXPECT_GT(Find(a, "thermal_degradation", "residual_slope")->value, 0);
    }
  }
  EXPECT_EQ(alert_at, 1);

  // A fresh monitor seeing a constant +5 K offset from the start: warn, never alert.
  auto m2 = ReliabilityMonitor::Create(Config()).value();
  for (int i = 0; i < 6; ++i) {
    WindowAssessment a = m2->Assess(Window(*plant, rng, 5, 0)).value();
    EXPECT_NEAR(Find(a, "thermal_degradation", "residual_mean")->value, 5.0, 1e-6);
    EXPECT_EQ(a.check_levels.at("thermal_degradation"), Level::kWarn);
  }
}

}  // namespace
}  // namespace weft::mlops

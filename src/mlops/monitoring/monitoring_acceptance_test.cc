// Acceptance (issue 7, "Monitoring beyond drift"): injected drift, actuator saturation, cooling
// loss and out-of-envelope ambient are each detected within a stated number of windows, and
// healthy runs raise (almost) no alerts; the false-alarm rate is measured and printed.
//
// The simulated asset: a 15 kW motor (twin "motor" 1.0.0) driving a fluctuating load (a new load
// drawn from U(0.4, 1.0) every 10 s sample), in ambient air 10..35 degC (per run a base from
// U(12.5, 32.5) plus a ±2 K daily swing), with a cooling-water valve on the same skid held by a
// PI controller (the actuator watched for saturation). Sensors: current (σ 0.1 A), winding
// temperature (σ 0.3 K), ambient (σ 0.1 K), vibration_rms (the twin's own noise). Each motor's
// thermal resistance differs from the nameplate twin by U(−3 %, +3 %), so the monitor's twin is
// not a perfect copy. The monitored model's score is a stand-in failure-risk model,
// sigmoid(−4 + 10·(vibration_rms − 1.2) + 0.5·load), load = (current − 10)/18.
//
// Windows are 1 h of 10 s samples (360). The training reference comes from 8 healthy runs of
// 24 windows (seeds disjoint from the evaluation): deciles and a 2000-value sample per feature,
// and the healthy residual's window-mean μ0 and σ0, measured by running the same monitor.
//
// Scenarios (each from a healthy start, onset at window 12 of 24):
//   drift       vibration sensor drift: +0.05 mm/s per hour (1 σ of the sensor noise per hour)
//   saturation  heat-exchanger fouling halves the valve's cooling gain: the PI output needed is
//               120 %, clipped at 100 %
//   cooling     FaultKind::kCoolingLoss, severity 0.3 (thermal resistance ×1.6)
//   ambient     ambient 45 degC (training envelope 10..35 degC)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "lake/lake_table.h"
#include "mlops/monitoring/monitor.h"
#include "mlops/monitoring/monitoring_lake.h"
#include "testing/test_env.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

constexpr double kDt = 10;              // s per sample
constexpr int kSamplesPerWindow = 360;  // 1 h
constexpr int kOnset = 12;
constexpr int kScenarioWindows = 24;

enum class Scenario { kHealthy, kDrift, kSaturation, kCooling, kAmbient };

const char* ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kHealthy: return "healthy";
    case Scenario::kDrift: return "feature drift (vibration sensor +0.05 mm/s/h)";
    case Scenario::kSaturation: return "actuator saturation (fouled cooler, PI at 100 %)";
    case Scenario::kCooling: return "cooling loss (kCoolingLoss 0.3)";
    case Scenario::kAmbient: return "out-of-envelope ambient (45 degC)";
  }
  return "";
}

// The check that must detect each scenario.
const char* ScenarioCheck(Scenario s) {
  switch (s) {
    case Scenario::kDrift: return "feature_drift";
    case Scenario::kSaturation: return "actuator_saturation";
    case Scenario::kCooling: return "thermal_degradation";
    case Scenario::kAmbient: return "environmental_deviation";
    case Scenario::kHealthy: return "";
  }
  return "";
}

double Sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

// One simulated asset: the motor, its sensors and the cooling-valve loop.
class SimulatedAsset {
 public:
  SimulatedAsset(uint64_t seed, Scenario scenario, int onset)
      : rng_(seed), noise_(seed * 7919 + 1), scenario_(scenario), onset_(onset) {
    const double r_th = 0.09 * (1 + noise_.Uniform(-0.03, 0.03));
    motor_ = twin::MakeTwin("motor", {{"thermal_resistance", r_th}}).value();
    ambient_base_ = noise_.Uniform(12.5, 32.5);
    phase_ = noise_.Uniform(0, 2 * M_PI);
    // Start warm: the steady state of the mean load at the starting ambient.
    (void)motor_->SetInput("load", 0.7);
    (void)motor_->SetInput("ambient_temp", Ambient(0));
    motor_->Step(1e6, rng_);
  }

  MonitorWindow NextWindow() {
    MonitorWindow w;
    w.end =
        TimeFromUnixMicros(int64_t{1'793'491'200'000'000} + int64_t{3'600'000'000} * (window_ + 1));
    w.model = "bearing_risk";
    w.model_version = "1";
    w.asset = "motor-1";
    w.sample_period_s = kDt;
    const bool faulty = scenario_ != Scenario::kHealthy && window_ >= onset_;
    if (faulty && window_ == onset_ && scenario_ == Scenario::kCooling) {
      EXPECT_TRUE(motor_->InjectFault(twin::FaultKind::kCoolingLoss, 0.3).ok());
    }
    auto& current = w.signals["current"];
    auto& vibration = w.signals["vibration_rms"];
    auto& ambient = w.signals["ambient_temp"];
    auto& winding = w.signals["winding_temp"];
    auto& valve = w.signals["cooling_valve"];
    for (int i = 0; i < kSamplesPerWindow; ++i) {
      const double t_s = (window_ * kSamplesPerWindow + i) * kDt;
      const double amb = faulty && scenario_ == Scenario::kAmbient ? 45.0 : Ambient(t_s);
      EXPECT_TRUE(motor_->SetInput("load", noise_.Uniform(0.4, 1.0)).ok());
      EXPECT_TRUE(motor_->SetInput("ambient_temp", amb).ok());
      motor_->Step(kDt, rng_);
      double vib = *motor_->Output("vibration_rms");
      if (faulty && scenario_ == Scenario::kDrift) {
        vib += 0.05 * (t_s - onset_ * 3600.0) / 3600.0;
      }
      const double cur = *motor_->Output("current") + noise_.Normal(0, 0.1);
      current.push_back(cur);
      vibration.push_back(vib);
      ambient.push_back(amb + noise_.Normal(0, 0.1));
      winding.push_back(*motor_->Output("winding_temp") + noise_.Normal(0, 0.3));
      valve.push_back(ValveStep(faulty && scenario_ == Scenario::kSaturation));
      w.scores.push_back(Sigmoid(-4 + 10 * (vib - 1.2) + 0.5 * (cur - 10) / 18));
    }
    ++window_;
    return w;
  }

 private:
  double Ambient(double t_s) const {
    return ambient_base_ + 2 * std::sin(2 * M_PI * t_s / 86400 + phase_);
  }

  // Process temperature y (degC) cooled by the valve u (%): τ·dy/dt = d − y − g·u, held at
  // 50 degC by a PI controller (reverse acting) with conditional integration (anti-windup).
  // Heat input d ~ 80 + N(0, 1): healthy u ≈ (80 − 50)/0.5 = 60 %; fouled (g = 0.25) needs 120 %.
  double ValveStep(bool fouled) {
    constexpr double kTau = 120;
    constexpr double kSetpoint = 50;
    constexpr double kKp = 2;
    constexpr double kKi = 0.02;
    const double g = fouled ? 0.25 : 0.5;
    const double d = 80 + noise_.Normal(0, 1);
    y_ += kDt / kTau * (d - y_ - g * u_);
    const double e = y_ - kSetpoint;
    const double unclipped = kKp * e + integral_ + kKi * e * kDt;
    if (unclipped > 0 && unclipped < 100) integral_ += kKi * e * kDt;
    u_ = std::clamp(kKp * e + integral_, 0.0, 100.0);
    return u_;
  }

  twin::Rng rng_;
  twin::Rng noise_;
  Scenario scenario_;
  int onset_;
  std::unique_ptr<twin::Twin> motor_;
  double ambient_base_ = 25;
  double phase_ = 0;
  int window_ = 0;
  double y_ = 50;
  double u_ = 60;
  double integral_ = 60;
};

// The monitoring config with everything but the references.
MonitorConfig BaseConfig() {
  MonitorConfig c;
  c.model = "bearing_risk";
  for (const char* name : {"current", "vibration_rms", "ambient_temp"}) {
    FeatureReference f;
    f.name = name;
    c.features.push_back(f);
  }
  // Ambient moves slower than a window: no drift check; its envelope is the training range.
  c.features[2].drift = false;
  c.features[2].envelope_mode = FeatureReference::EnvelopeMode::kExplicit;
  c.features[2].envelope_lo = 10;
  c.features[2].envelope_hi = 35;
  c.prediction = FeatureReference{};
  c.prediction->name = "score";
  c.controls.push_back({"cooling_valve", 0, 100, 0.5});
  ThermalResidualSpec s;
  s.twin_model = "motor";
  s.output = "winding_temp";
  s.measured_signal = "winding_temp";
  s.inputs = {{"load", "current", 1.0 / 18, -10.0 / 18, 0, 0, 1.2},
              {"ambient_temp", "ambient_temp", 1, 0, 0, -40, 60},
              {"running", "", 1, 0, 1, -1e300, 1e300}};
  s.k_sigma = 4;
  s.trend_windows = 4;
  s.trend_t_min = 2.5;
  s.warmup_s = 600;
  c.thermal = s;
  return c;
}

// Builds the reference from healthy training runs (seeds 1000..): deciles and a sample per
// feature and score, then μ0, σ0 of the residual's window means with the same monitor.
MonitorConfig TrainedConfig() {
  MonitorConfig c = BaseConfig();
  std::map<std::string, std::vector<double>> data;
  std::vector<std::vector<MonitorWindow>> runs;
  for (uint64_t seed = 1000; seed < 1008; ++seed) {
    SimulatedAsset asset(seed, Scenario::kHealthy, 0);
    runs.emplace_back();
    for (int k = 0; k < 24; ++k) {
      runs.back().push_back(asset.NextWindow());
      const MonitorWindow& w = runs.back().back();
      for (const auto& [name, values] : w.signals) {
        data[name].insert(data[name].end(), values.begin(), values.end());
      }
      data["score"].insert(data["score"].end(), w.scores.begin(), w.scores.end());
    }
  }
  auto fill = [&](FeatureReference& f) {
    const std::vector<double>& all = data[f.name];
    f.quantiles = Quantiles(all, DecileLevels());
    const size_t stride = all.size() / 2000;
    for (size_t i = 0; i < all.size(); i += stride) f.sample.push_back(all[i]);
  };
  for (FeatureReference& f : c.features) fill(f);
  fill(*c.prediction);

  MonitorConfig calibrate = c;
  calibrate.thermal->healthy_sigma = 1;
  std::vector<double> means;
  for (const auto& run : runs) {
    auto m = ReliabilityMonitor::Create(calibrate).value();
    for (const MonitorWindow& w : run) {
      WindowAssessment a = m->Assess(w).value();
      for (const CheckResult& r : a.results) {
        if (r.statistic == "residual_mean") means.push_back(r.value);
      }
    }
  }
  double mu = 0;
  for (double v : means) mu += v;
  mu /= static_cast<double>(means.size());
  double var = 0;
  for (double v : means) var += (v - mu) * (v - mu);
  const double sigma = std::sqrt(var / static_cast<double>(means.size() - 1));
  c.thermal->healthy_mean = mu;
  c.thermal->healthy_sigma = std::max(sigma, 0.25);  // floor: sensor and model resolution
  std::printf("reference: 8 healthy runs x 24 windows; residual mu0 = %.3f K, sigma0 = %.3f K\n",
              mu, sigma);
  return c;
}

struct ScenarioOutcome {
  Scenario scenario;
  int windows_to_detect = -1;  // counting the onset window as 1
  int bound = 0;
  std::string action;
  double value = 0;
  int alerts_before_onset = 0;
};

class MonitoringAcceptanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { config_ = new MonitorConfig(TrainedConfig()); }
  static void TearDownTestSuite() {
    delete config_;
    config_ = nullptr;
  }
  static MonitorConfig* config_;
};
MonitorConfig* MonitoringAcceptanceTest::config_ = nullptr;

TEST_F(MonitoringAcceptanceTest, DetectsEachScenarioAndHealthyRunsStayQuiet) {
  // Scenarios.
  const std::map<Scenario, int> bounds = {{Scenario::kDrift, 2},
                                          {Scenario::kSaturation, 1},
                                          {Scenario::kCooling, 3},
                                          {Scenario::kAmbient, 1}};
  std::vector<ScenarioOutcome> outcomes;
  std::vector<CheckResult> lake_rows;
  for (const auto& [scenario, bound] : bounds) {
    auto monitor = ReliabilityMonitor::Create(*config_);
    ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
    SimulatedAsset asset(42, scenario, kOnset);
    ScenarioOutcome o{scenario, -1, bound, "", 0, 0};
    for (int k = 0; k < kScenarioWindows; ++k) {
      Result<WindowAssessment> a = (*monitor)->Assess(asset.NextWindow());
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      lake_rows.insert(lake_rows.end(), a->results.begin(), a->results.end());
      if (k < kOnset) {
        if (a->worst() == Level::kAlert) ++o.alerts_before_onset;
        continue;
      }
      auto it = a->check_levels.find(ScenarioCheck(scenario));
      if (o.windows_to_detect < 0 && it != a->check_levels.end() && it->second == Level::kAlert) {
        o.windows_to_detect = k - kOnset + 1;
        o.action = std::string(ActionName(a->action));
        o.value = a->score;
      }
    }
    outcomes.push_back(o);
  }

  // Healthy runs: 20 runs x 48 windows, seeds disjoint from training and scenarios.
  constexpr int kRuns = 20;
  constexpr int kWindows = 48;
  int alert_windows = 0;
  int warn_windows = 0;
  int action_windows = 0;
  std::map<std::string, int> alerts_by_check;
  std::map<std::string, int> warns_by_check;
  for (int run = 0; run < kRuns; ++run) {
    auto monitor = ReliabilityMonitor::Create(*config_).value();
    SimulatedAsset asset(static_cast<uint64_t>(5000 + run), Scenario::kHealthy, 0);
    for (int k = 0; k < kWindows; ++k) {
      WindowAssessment a = monitor->Assess(asset.NextWindow()).value();
      if (a.worst() == Level::kAlert) ++alert_windows;
      if (a.worst() == Level::kWarn) ++warn_windows;
      if (a.action != Action::kNone) ++action_windows;
      for (const auto& [check, level] : a.check_levels) {
        if (level == Level::kAlert) ++alerts_by_check[check];
        if (level == Level::kWarn) ++warns_by_check[check];
      }
    }
  }
  const double healthy_windows = kRuns * kWindows;
  const double false_alarm_rate = alert_windows / healthy_windows;

  std::printf("\n%-50s %8s %8s %16s %7s %12s\n", "scenario (onset at window 12, 1 h windows)",
              "windows", "bound", "action", "score", "pre-onset");
  for (const ScenarioOutcome& o : outcomes) {
    std::printf("%-50s %8d %8d %16s %7.2f %12d\n", ScenarioName(o.scenario), o.windows_to_detect,
                o.bound, o.action.c_str(), o.value, o.alerts_before_onset);
  }
  std::printf(
      "healthy: %d runs x %d windows: %d windows with an alert (rate %.4f per window, "
      "bound 0.01), %d with a warn (%.4f), %d with an action (%.4f)\n",
      kRuns, kWindows, alert_windows, false_alarm_rate, warn_windows,
      warn_windows / healthy_windows, action_windows, action_windows / healthy_windows);
  for (const auto& [check, n] : alerts_by_check)
    std::printf("  alerts from %s: %d\n", check.c_str(), n);
  for (const auto& [check, n] : warns_by_check)
    std::printf("  warns from %s: %d\n", check.c_str(), n);

  for (const ScenarioOutcome& o : outcomes) {
    EXPECT_GE(o.windows_to_detect, 1) << ScenarioName(o.scenario) << " not detected";
    EXPECT_LE(o.windows_to_detect, o.bound) << ScenarioName(o.scenario);
    EXPECT_EQ(o.alerts_before_onset, 0) << ScenarioName(o.scenario);
  }
  EXPECT_LT(false_alarm_rate, 0.01);

  // The results land in the lake.
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  ManualClock clock(TimeFromUnixMicros(1'793'491'200'000'000));
  auto table = lake::LakeTable::Open(dir->path() + "/model_monitoring", &clock, true);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_TRUE(AppendMonitoringResults(**table, lake_rows).ok());
  int64_t alerts = 0;
  ASSERT_TRUE((*table)
                  ->Scan({.columns = {"check"}, .where = "level = 'alert'"},
                         [&](const lake::RecordBatch& b) {
                           alerts += static_cast<int64_t>(b.num_rows());
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(*(*table)->Count(), static_cast<int64_t>(lake_rows.size()));
  EXPECT_GT(alerts, 0);
  std::printf("lake: %zu result rows appended to model_monitoring, %lld at level alert\n",
              lake_rows.size(), static_cast<long long>(alerts));
}

}  // namespace
}  // namespace weft::mlops

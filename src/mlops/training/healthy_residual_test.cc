// The thermal residual's healthy statistics are measured on the scenarios' healthy runs by the
// monitor's own check, land in the card, and a monitor built from that card leaves a healthy
// motor alone and flags one whose cooling degrades.
#include "mlops/training/healthy_residual.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/clock.h"
#include "mlops/monitoring/monitor.h"
#include "mlops/training/test_spec.h"
#include "mlops/training/train_spec.h"
#include "mlops/training/trainer.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

// The thermal_residual section of these tests: the motor twin's load from its current,
// load = (I - I_nl)/(I_rated - I_nl) = (I - 10)/18 with the motor's defaults.
constexpr char kSection[] = R"(monitoring:
  thermal_residual:
    twin: motor
    output: winding_temp
    measured: winding_temp
    inputs:
      - {input: load, signal: current, scale: 0.05555555555555555, offset: -0.5555555555555556,
         min: 0, max: 1.2}
      - {input: running, constant: 1}
    k_sigma: 4
    trend_windows: 4
    trend_t_min: 2.5
    warmup_s: 600
    window: 1h
    sample_period: 60s
)";

// Two healthy runs of 4 days at an ambient of 25 degC: the only thing the monitor's twin is not
// told is the ambient's daily ±4 K swing (its own ambient stays at 25).
constexpr char kHandSpec[] = R"(name: thermal_check
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 48h
window: 32
features:
  - {signal: winding_temp, stats: [last]}
scenarios:
  twin: {model: motor}
  runs: 2
  seed: 3
  duration: 4d
  row_every: 10m
  fault_fraction: 0
  load: [0.6, 0.8]
  ambient_temp: [25, 25]
holdout: {fraction: 0.5, seed: 1}
threshold: 0.5
)";

TrainSpec MustParse(const std::string& text) {
  Diagnostics diags;
  Result<TrainSpec> s = ParseTrainSpec(text, "spec.yaml", &diags);
  EXPECT_TRUE(s.ok()) << diags.ToString();
  return s.ok() ? *s : TrainSpec{};
}

struct Measured {
  ThermalResidualSpec residual;
  HealthyResidual healthy;
  nlohmann::json card;
};

const Measured& HandMeasured() {
  static const Measured* m = [] {
    auto* out = new Measured;
    TrainSpec spec = MustParse(std::string(kHandSpec) + kSection);
    if (!spec.monitoring.thermal_residual) return out;
    Result<ScenarioTwin> twin = ResolveScenarioTwin(spec, {});
    EXPECT_TRUE(twin.ok()) << twin.status().ToString();
    Result<ThermalResidualSpec> residual = ResolveThermalResidual(spec, *twin);
    EXPECT_TRUE(residual.ok()) << residual.status().ToString();
    Result<HealthyResidual> healthy = MeasureHealthyResidual(spec, *twin, *residual);
    EXPECT_TRUE(healthy.ok()) << healthy.status().ToString();
    if (!healthy.ok()) return out;
    out->residual = *residual;
    out->healthy = *healthy;
    out->card = ThermalResidualCard(spec, *residual, *healthy);
    return out;
  }();
  return *m;
}

TEST(HealthyResidualTest, StatisticsOfTheAmbientSwingByHand) {
  const HealthyResidual& h = HandMeasured().healthy;
  EXPECT_EQ(h.runs, 2u);
  EXPECT_EQ(h.windows, 2u * 96);  // floor(4 d / 1 h) windows per run
  EXPECT_EQ(h.first_run, "twin-0");
  EXPECT_EQ(h.last_run, "twin-1");
  // The load is recovered exactly from the current, so the residual is the winding's answer to
  // the ambient's daily swing 4·sin(ωt + φ), ω = 2π/86400 s: a first-order lag with
  // τ = R_th·C_th = 0.09·27000 = 2430 s, ωτ = 0.17671, amplitude 4/sqrt(1 + 0.17671²) = 3.9390 K;
  // a 1 h mean keeps sin(ω·1800)/(ω·1800) = 0.99715 of it: 3.9278 K. Over whole days such means
  // average 0 with a standard deviation of 3.9278/sqrt(2) = 2.777 K. (Each run's first window
  // adds a small start-up offset: the run's twin is still 2.8 K short of its steady state after
  // the 2 h warm-up, -1.3 K over that window: -1.3·2/192 = -0.01 K on the mean.)
  EXPECT_NEAR(h.mean, 0.0, 0.1);
  EXPECT_NEAR(h.sigma, 2.777, 0.07);
  // Past each run's first window the means follow the swing: their largest magnitude is the
  // hour mean's amplitude, 3.9278 K (a window centred on a crest).
  double peak = 0;
  for (size_t i = 0; i < h.means.size(); ++i) {
    if (i % 96 != 0) peak = std::max(peak, std::fabs(h.means[i]));
  }
  EXPECT_NEAR(peak, 3.9278, 0.03);
  // A first window adds the start-up offset (at most the 2.8 K the twin is short at t = 0).
  EXPECT_LT(std::fabs(h.means[0]), 3.9278 + 2.8);
  EXPECT_LT(std::fabs(h.means[96]), 3.9278 + 2.8);
}

TEST(HealthyResidualTest, CardSectionIsWhatTheMonitorReads) {
  const Measured& m = HandMeasured();
  const nlohmann::json& t = m.card;
  EXPECT_EQ(t["twin"], "motor");
  EXPECT_EQ(t["output"], "winding_temp");
  EXPECT_EQ(t["measured"], "winding_temp");
  EXPECT_DOUBLE_EQ(t["healthy_mean"].get<double>(), m.healthy.mean);
  EXPECT_DOUBLE_EQ(t["healthy_sigma"].get<double>(), m.healthy.sigma);
  EXPECT_EQ(t["healthy"]["windows"], 192);
  EXPECT_EQ(t["healthy"]["runs_used"], "twin-0..twin-1");
  EXPECT_EQ(t["inputs"][1], (nlohmann::json{{"input", "running"}, {"constant", 1.0}}));
  nlohmann::json card = {{"reference", nlohmann::json::object()},
                         {"monitoring", {{"thermal_residual", t}}}};
  Result<MonitorConfig> config = ParseMonitorConfig(card.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->thermal);
  EXPECT_DOUBLE_EQ(config->thermal->healthy_sigma, m.healthy.sigma);
  EXPECT_DOUBLE_EQ(config->thermal->warmup_s, 600);
  ASSERT_EQ(config->thermal->inputs.size(), 2u);
  EXPECT_EQ(config->thermal->inputs[0].signal, "current");
  EXPECT_DOUBLE_EQ(config->thermal->inputs[0].max, 1.2);
}

// A field motor at load 0.7 and 25 degC, sampled every 60 s into 1 h windows for the monitor.
class FieldMotor {
 public:
  FieldMotor() : twin_(twin::MakeTwin("motor", {}).value()) {
    (void)twin_->SetInput("load", 0.7);
    (void)twin_->SetInput("ambient_temp", 25);
    for (int i = 0; i < 6 * 60; ++i) twin_->Step(60, rng_);  // 6 h = 8.9 τ: settled
  }
  twin::Twin& twin() { return *twin_; }
  MonitorWindow NextHour() {
    MonitorWindow w{.end = TimeFromUnixMicros(1'800'000'000'000'000 + ++hour_ * 3'600'000'000),
                    .model = "bearing_risk",
                    .model_version = "1",
                    .asset = "m1",
                    .sample_period_s = 60,
                    .signals = {},
                    .scores = {}};
    for (int k = 0; k < 60; ++k) {
      twin_->Step(60, rng_);
      w.signals["winding_temp"].push_back(*twin_->Output("winding_temp"));
      w.signals["current"].push_back(*twin_->Output("current"));
    }
    return w;
  }

 private:
  std::unique_ptr<twin::Twin> twin_;
  twin::Rng rng_{5};
  int64_t hour_ = 0;
};

double Statistic(const WindowAssessment& a, const std::string& statistic) {
  for (const CheckResult& r : a.results) {
    if (r.check == "thermal_degradation" && r.statistic == statistic) return r.value;
  }
  ADD_FAILURE() << "no thermal_degradation " << statistic;
  return std::nan("");
}

TEST(HealthyResidualTest, MonitorFromTheCardPassesHealthyAndFlagsLostCooling) {
  const Measured& m = HandMeasured();
  ASSERT_GT(m.healthy.sigma, 0);
  nlohmann::json card = {{"reference", nlohmann::json::object()},
                         {"monitoring", {{"thermal_residual", m.card}}}};
  Result<MonitorConfig> config = ParseMonitorConfig(card.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto monitor = ReliabilityMonitor::Create(*config);
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();

  FieldMotor motor;
  // Healthy hours: the current gives the twin its load, the ambient is the twin's 25 degC, so
  // prediction and measurement agree (the monitor's twin starts at the steady state of the
  // window's mean load, which the settled motor is at).
  for (int h = 0; h < 3; ++h) {
    Result<WindowAssessment> a = (*monitor)->Assess(motor.NextHour());
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_NEAR(Statistic(*a, "residual_mean"), 0.0, 0.05) << "hour " << h;
    EXPECT_EQ(a->check_levels.at("thermal_degradation"), Level::kOk);
  }
  // The fan clogs: cooling loss of severity 0.5 raises the thermal resistance to
  // R_th' = 0.09·(1 + 2·0.5) = 0.18 K/W. At load 0.7, I = 10 + 18·0.7 = 22.6 A, the losses are
  // 3·0.2·22.6² + 300 = 606.46 W: the rise goes from 54.58 K to 109.16 K, reached with
  // τ' = 0.18·27000 = 4860 s. The residual is 54.58·(1 - e^(-t/4860)): its mean over the first
  // hour 54.58·(1 - (4860/3600)·(1 - e^(-0.7407))) = 16.0 K, over the second 36.2 K (a little
  // more for 60 s samples at the end of each minute). Alarm offset: k·σ0 = 4·2.78 = 11.1 K.
  ASSERT_TRUE(motor.twin().InjectFault(twin::FaultKind::kCoolingLoss, 0.5).ok());
  Result<WindowAssessment> first = (*monitor)->Assess(motor.NextHour());
  ASSERT_TRUE(first.ok());
  EXPECT_NEAR(Statistic(*first, "residual_mean"), 16.0, 0.5);
  // Offset above 11.1 K, but the means of the last 4 windows (0, 0, 0, 16) do not yet make a
  // significant rise: slope 4.81 K/window, se 2.78, t = 1.73 < 2.5: warn.
  EXPECT_EQ(first->check_levels.at("thermal_degradation"), Level::kWarn);
  EXPECT_NEAR(Statistic(*first, "trend_t"), 1.73, 0.1);
  Result<WindowAssessment> second = (*monitor)->Assess(motor.NextHour());
  ASSERT_TRUE(second.ok());
  EXPECT_NEAR(Statistic(*second, "residual_mean"), 36.2, 0.7);
  // (0, 0, 16, 36.2): slope 12.5 K/window, t = 3.8 >= 2.5 and the offset: alert, retrain.
  EXPECT_EQ(second->check_levels.at("thermal_degradation"), Level::kAlert);
  EXPECT_GT(Statistic(*second, "trend_t"), 2.5);
  EXPECT_EQ(second->action, Action::kRetrain);
}

TEST(HealthyResidualTest, TrainedCardCarriesTheMeasuredSection) {
  ManualClock clock(TimeFromUnixMicros(1'800'000'000'000'000));
  TrainSpec spec = MustParse(std::string(test_specs::kSmallSpec) + kSection);
  ASSERT_TRUE(spec.monitoring.thermal_residual);
  Result<TrainResult> r = Train(spec, {.base_dir = ".", .clock = &clock});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const nlohmann::json& t = r->card["monitoring"]["thermal_residual"];
  ASSERT_TRUE(t.is_object()) << r->card["monitoring"].dump();
  // The small spec: 32 runs, round(0.7·32) = 22 with bearing wear, so twin-22..twin-31 are the
  // 10 healthy runs, 10 days each: 10·240 one-hour windows.
  EXPECT_EQ(t["healthy"]["runs"], 10);
  EXPECT_EQ(t["healthy"]["windows"], 2400);
  EXPECT_EQ(t["healthy"]["runs_used"], "twin-22..twin-31");
  // The card's twin is the scenarios' (with their params: the raised wear rate).
  EXPECT_EQ(t["params"], (nlohmann::json{{"wear_rate", 1.2e-6}}));
  // The same numbers as measuring directly: the card's statistics come from the runs.
  Result<ScenarioTwin> twin = ResolveScenarioTwin(spec, {});
  ASSERT_TRUE(twin.ok());
  Result<ThermalResidualSpec> residual = ResolveThermalResidual(spec, *twin);
  ASSERT_TRUE(residual.ok());
  Result<HealthyResidual> h = MeasureHealthyResidual(spec, *twin, *residual);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_DOUBLE_EQ(t["healthy_mean"].get<double>(), h->mean);
  EXPECT_DOUBLE_EQ(t["healthy_sigma"].get<double>(), h->sigma);
  // Ambient varies by run over [10, 35] degC and the twin assumes 25: the healthy window means
  // spread by the runs' ambient (uniform over 25 K: sd 25/sqrt(12) = 7.2 K, with 10 runs
  // anywhere from about 4 to 10 K) and the ±4 K daily swing (2.8 K).
  EXPECT_GT(h->sigma, 3.0);
  EXPECT_LT(h->sigma, 11.0);
  EXPECT_LT(std::fabs(h->mean), 10.0);
  // The card reads back as a monitor config with the thermal residual.
  Result<MonitorConfig> config = ParseMonitorConfig(r->card.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->thermal);
  EXPECT_DOUBLE_EQ(config->thermal->healthy_sigma, h->sigma);
}

TEST(HealthyResidualTest, ErrorsNameTheSpecAndSection) {
  // The scenarios' twin is a motor; the section may not name another model.
  TrainSpec spec = MustParse(std::string(kHandSpec) + kSection);
  ASSERT_TRUE(spec.monitoring.thermal_residual);
  spec.monitoring.thermal_residual->residual.twin_model = "pump";
  Result<ScenarioTwin> twin = ResolveScenarioTwin(spec, {});
  ASSERT_TRUE(twin.ok());
  Result<ThermalResidualSpec> bad = ResolveThermalResidual(spec, *twin);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spec.yaml: monitoring.thermal_residual.twin 'pump'"),
            std::string::npos)
      << bad.status().ToString();
  // A signal no run produces (as a registered twin would only show at train time).
  spec.monitoring.thermal_residual->residual.twin_model = "motor";
  Result<ThermalResidualSpec> residual = ResolveThermalResidual(spec, *twin);
  ASSERT_TRUE(residual.ok());
  residual->inputs[0].signal = "spindle_load";
  Result<HealthyResidual> h = MeasureHealthyResidual(spec, *twin, *residual);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("monitoring.thermal_residual: signal 'spindle_load'"),
            std::string::npos)
      << h.status().ToString();
}

}  // namespace
}  // namespace weft::mlops

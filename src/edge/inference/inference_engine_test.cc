#include "edge/inference/inference_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "edge/inference/tree_model.h"
#include "edge/inference/xgboost_train.h"
#include "testing/example_plant.h"

namespace weft::edge::inference {
namespace {

// A real runner with a known output: features[0] + offset.
class FirstFeatureRunner final : public ModelRunner {
 public:
  FirstFeatureRunner(std::string name, std::string version, size_t n, float offset)
      : name_(std::move(name)), version_(std::move(version)), n_(n), offset_(offset) {}
  const std::string& name() const override { return name_; }
  const std::string& version() const override { return version_; }
  size_t num_features() const override { return n_; }
  Result<float> Predict(std::span<const float> f) const override {
    if (f.size() != n_) return InvalidArgumentError("wrong size");
    return f[0] + offset_;
  }

 private:
  std::string name_, version_;
  size_t n_;
  float offset_;
};

class InferenceEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = SignalTable::FromPlant(testing::ExamplePlant(), {});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = std::make_unique<SignalTable>(std::move(t).value());
    vib_ = table_->Find("l1-mo-01", "vibration_rms").value();
    temp_ = table_->Find("l1-mo-01", "winding_temp").value();
  }

  Result<InferenceConfig> Config(const std::string& yaml, const std::string& file = "edge.yaml") {
    diags_ = Diagnostics();
    return ParseInferenceConfig(yaml, file, &diags_);
  }

  Result<std::unique_ptr<InferenceEngine>> Engine(const InferenceConfig& c,
                                                  ModelLoader loader = nullptr) {
    return InferenceEngine::Create(
        c, *table_,
        [this](const Event& e) {
          std::lock_guard<std::mutex> lock(mu_);
          events_.push_back(e);
        },
        std::move(loader));
  }

  static ModelLoader FirstFeature(float offset = 0) {
    return [offset](const ModelConfig& m) -> Result<std::shared_ptr<const ModelRunner>> {
      return std::shared_ptr<const ModelRunner>(
          std::make_shared<FirstFeatureRunner>(m.name, m.version, m.num_features(), offset));
    };
  }

  std::vector<Event> Events(std::string_view kind) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<SignalTable> table_;
  SignalId vib_ = 0, temp_ = 0;
  Diagnostics diags_;
  std::mutex mu_;
  std::vector<Event> events_;
};

constexpr char kMotorModel[] = R"(inference:
  models:
    - {name: risk, artifact: risk.json, version: "1", asset_type: motor, window: 4,
       threshold: 5, period: 1s,
       features: [{signal: vibration_rms, stats: [last, mean]}, {signal: winding_temp, stats: [last]}]}
)";

TEST_F(InferenceEngineTest, WiresEveryMotorAndPredictsOncePerPeriod) {
  auto c = Config(kMotorModel);
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  auto e = Engine(*c, FirstFeature());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  // Every asset whose type IsA motor (cnc spindles extend it) and that has one of the two
  // signals (l2-pr-02 lacks vibration_rms but has winding_temp, so it is wired too).
  size_t motors = 0;
  const model::Plant& plant = testing::ExamplePlant();
  for (const model::Asset* a : plant.AllAssets()) {
    if (plant.IsA(a->type, "motor") &&
        (a->HasSignal("vibration_rms") || a->HasSignal("winding_temp"))) {
      ++motors;
    }
  }
  EXPECT_GE(motors, 11u);
  EXPECT_EQ((*e)->model_instance_count(), motors);

  // Vibration every 100 ms for 3 s: runs at 0, 0.9, 1.9, 2.9 s (a tenth of a period early).
  for (int i = 0; i < 30; ++i) {
    Sample s{vib_, 1'000'000 + i * 100'000, static_cast<double>(i) / 10.0};
    (*e)->OnSamples({&s, 1});
  }
  EXPECT_EQ((*e)->stats().predictions, 4u);
  EXPECT_EQ((*e)->latency().count(), 4u);
  EXPECT_TRUE(Events("prediction").empty()) << "last vibration < 5";

  Sample high{vib_, 5'000'000, 7.5};
  (*e)->OnSamples({&high, 1});
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].signal, vib_);
  EXPECT_EQ(p[0].ts_us, 5'000'000);
  EXPECT_EQ(p[0].source, "risk@1");
  EXPECT_DOUBLE_EQ(p[0].value, 7.5);
  EXPECT_DOUBLE_EQ(p[0].threshold, 5);
  EXPECT_NE(p[0].message.find("l1-mo-01"), std::string::npos);

  // Bad quality and NaN are skipped: no run.
  Sample bad{vib_, 9'000'000, 9.0, quality::kOutOfRange};
  Sample nan{vib_, 9'000'000, NAN};
  (*e)->OnSamples({&bad, 1});
  (*e)->OnSamples({&nan, 1});
  EXPECT_EQ((*e)->stats().predictions, 5u);
  std::string prom = (*e)->PrometheusText();
  EXPECT_NE(prom.find("weft_edge_inference_latency_seconds_count 5"), std::string::npos) << prom;
  EXPECT_NE(prom.find("weft_edge_inference_predictions_total 5"), std::string::npos);
}

TEST_F(InferenceEngineTest, RealTreeModelFromTheArtifact) {
  std::string dir =
      (std::filesystem::temp_directory_path() / ("weft_engine_" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(TrainXgboostModel({.objective = "reg:squarederror", .features = 3, .rounds = 10},
                                dir + "/risk.json")
                  .ok());
  auto c = Config(kMotorModel, dir + "/edge.yaml");
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  c->models[0].threshold = -1e9;  // every prediction is an event
  auto e = Engine(*c);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto reference = TreeModel::Load(dir + "/risk.json", "risk", "1");
  ASSERT_TRUE(reference.ok());

  // One batch with both signals: the model sees them together.
  std::vector<Sample> batch = {{vib_, 1'000'000, 0.2}, {temp_, 1'000'000, 0.7}};
  (*e)->OnSamples(batch);
  batch = {{vib_, 2'000'000, 0.6}, {temp_, 2'000'000, 0.1}};
  (*e)->OnSamples(batch);
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), 2u);
  float want1[] = {0.2f, 0.2f, 0.7f};
  float want2[] = {0.6f, 0.4f, 0.1f};
  EXPECT_FLOAT_EQ(static_cast<float>(p[0].value), (*reference)->PredictUnchecked(want1));
  EXPECT_FLOAT_EQ(static_cast<float>(p[1].value), (*reference)->PredictUnchecked(want2));
  std::filesystem::remove_all(dir);
}

TEST_F(InferenceEngineTest, DetectorsEmitEvents) {
  auto c = Config(R"(inference:
  detectors:
    - {type: ewma_z, asset_type: motor, signal: vibration_rms, alpha: 0.1, threshold: 4, warmup: 5}
    - {type: cusum, asset_type: motor, signal: winding_temp, k: 0.5, h: 4, target: 60, sigma: 1}
)");
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  auto e = Engine(*c);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_GT((*e)->detector_count(), 10u);
  std::vector<Sample> batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back({vib_, i * 1'000'000, 1.0 + 0.1 * (i % 3)});
    batch.push_back({temp_, i * 1'000'000, 60.0});
  }
  batch.push_back({vib_, 20'000'000, 10.0});
  for (int i = 0; i < 3; ++i) batch.push_back({temp_, (21 + i) * 1'000'000, 62.0});
  (*e)->OnSamples(batch);
  std::vector<Event> z = Events("ewma_z");
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0].signal, vib_);
  EXPECT_EQ(z[0].ts_us, 20'000'000);
  EXPECT_GT(z[0].value, 4);
  EXPECT_DOUBLE_EQ(z[0].threshold, 4);
  EXPECT_NE(z[0].message.find("l1-mo-01.vibration_rms"), std::string::npos) << z[0].message;
  std::vector<Event> cu = Events("cusum");
  ASSERT_EQ(cu.size(), 1u);  // S+ = 1.5, 3.0, 4.5 > 4 at the third 62
  EXPECT_EQ(cu[0].ts_us, 23'000'000);
  EXPECT_DOUBLE_EQ(cu[0].value, 4.5);
}

TEST_F(InferenceEngineTest, RefusesWhatDoesNotFit) {
  auto c = Config(R"(inference:
  models:
    - {name: risk, artifact: risk.json, version: "1", asset_type: moter, window: 4,
       threshold: 5, features: [{signal: vibration_rms, stats: [last]}]}
)");
  ASSERT_TRUE(c.ok());
  auto e = Engine(*c, FirstFeature());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find(
                "edge.yaml:3:7: inference.models[0].asset_type: unknown asset type 'moter'"),
            std::string::npos)
      << e.status().message();

  c = Config(R"(inference:
  detectors:
    - {type: cusum, asset_type: pump, signal: flw, k: 0.5, h: 5}
)");
  ASSERT_TRUE(c.ok());
  e = Engine(*c);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(
      e.status().message().find("edge.yaml:3:7: inference.detectors[0].signal: asset type 'pump' "
                                "has no signal 'flw'"),
      std::string::npos)
      << e.status().message();

  // The model takes 3 features; the config lists 2.
  c = Config(R"(inference:
  models:
    - {name: risk, artifact: risk.json, version: "1", asset_type: motor, window: 4,
       threshold: 5, features: [{signal: vibration_rms, stats: [last, mean]}]}
)");
  ASSERT_TRUE(c.ok());
  e = Engine(*c, [](const ModelConfig& m) -> Result<std::shared_ptr<const ModelRunner>> {
    return std::shared_ptr<const ModelRunner>(
        std::make_shared<FirstFeatureRunner>(m.name, m.version, 3, 0.0f));
  });
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("the model risk@1 takes 3 features, the config lists 2"),
            std::string::npos)
      << e.status().message();

  // The default loader reads the artifact: missing file.
  e = Engine(*c);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_NE(e.status().message().find("inference.models[0].artifact: cannot read model file"),
            std::string::npos)
      << e.status().message();
}

TEST_F(InferenceEngineTest, SwapModelChecksAndTakesEffect) {
  auto c = Config(kMotorModel);
  ASSERT_TRUE(c.ok());
  c->models[0].threshold = -1e9;
  auto e = Engine(*c, FirstFeature());
  ASSERT_TRUE(e.ok());
  InferenceEngine& engine = **e;
  EXPECT_EQ(
      engine.SwapModel("nope", std::make_shared<FirstFeatureRunner>("nope", "2", 3, 0.f)).code(),
      StatusCode::kNotFound);
  Status s = engine.SwapModel("risk", std::make_shared<FirstFeatureRunner>("risk", "2", 4, 0.f));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("takes 4 features"), std::string::npos) << s.message();
  EXPECT_FALSE(
      engine.SwapModel("risk", std::make_shared<FirstFeatureRunner>("other", "2", 3, 0.f)).ok());
  EXPECT_FALSE(engine.SwapModel("risk", nullptr).ok());

  ASSERT_TRUE(
      engine.SwapModel("risk", std::make_shared<FirstFeatureRunner>("risk", "2", 3, 100.f)).ok());
  EXPECT_EQ(engine.CurrentModel("risk")->version(), "2");
  Sample v{vib_, 1'000'000, 1.0};
  engine.OnSamples({&v, 1});
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].source, "risk@2");
  EXPECT_DOUBLE_EQ(p[0].value, 101.0);
}

// Predictions keep flowing while another thread deploys versions; each event's value is the one
// its version computes, and none is lost.
TEST_F(InferenceEngineTest, SwapUnderLoadDropsNothing) {
  auto c = Config(kMotorModel);
  ASSERT_TRUE(c.ok());
  c->models[0].threshold = -1e9;
  c->models[0].period = Micros(0);
  auto e = Engine(*c, FirstFeature(0.0f));
  ASSERT_TRUE(e.ok());
  InferenceEngine& engine = **e;
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread deployer([&] {
    int k = 0;
    while (!stop.load()) {
      bool two = (k++ % 2) == 0;
      Status st = engine.SwapModel("risk", std::make_shared<FirstFeatureRunner>(
                                               "risk", two ? "2" : "1", 3, two ? 1000.f : 0.f));
      if (!st.ok()) ADD_FAILURE() << st.ToString();
      swaps.fetch_add(1);
    }
  });
  while (swaps.load() == 0) std::this_thread::yield();
  // At least kSamples, and on until both versions have predicted (the deployer may be starved
  // of CPU for a while on a loaded machine), bounded.
  constexpr size_t kSamples = 20'000, kMaxSamples = 2'000'000;
  size_t sent = 0;
  bool one = false, two = false;
  size_t checked = 0;
  auto both_seen = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    for (; checked < events_.size(); ++checked) {
      (events_[checked].source == "risk@1" ? one : two) = true;
    }
    return one && two;
  };
  while (sent < kMaxSamples && (sent < kSamples || !both_seen())) {
    for (int j = 0; j < 1000; ++j, ++sent) {
      Sample s{vib_, static_cast<int64_t>(1'000'000 + sent), static_cast<double>(sent % 50)};
      engine.OnSamples({&s, 1});
    }
  }
  stop = true;
  deployer.join();
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), sent) << "one prediction per sample, none dropped";
  size_t v1 = 0, v2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double x = static_cast<double>(i % 50);
    if (p[i].source == "risk@1") {
      ++v1;
      ASSERT_DOUBLE_EQ(p[i].value, x) << i;
    } else {
      ++v2;
      ASSERT_EQ(p[i].source, "risk@2");
      ASSERT_DOUBLE_EQ(p[i].value, x + 1000) << i;
    }
  }
  EXPECT_GT(v1, 0u);
  EXPECT_GT(v2, 0u);
}

// A real runner whose output is a * features[0] + b: rising (a > 0) or falling (a < 0).
class LinearRunner final : public ModelRunner {
 public:
  LinearRunner(std::string name, size_t n, float a, float b)
      : name_(std::move(name)), version_("1"), n_(n), a_(a), b_(b) {}
  const std::string& name() const override { return name_; }
  const std::string& version() const override { return version_; }
  size_t num_features() const override { return n_; }
  Result<float> Predict(std::span<const float> f) const override {
    if (f.size() != n_) return InvalidArgumentError("wrong size");
    return a_ * f[0] + b_;
  }

 private:
  std::string name_, version_;
  size_t n_;
  float a_, b_;
};

class PhysicsGuardTest : public InferenceEngineTest {
 protected:
  void SetUp() override {
    InferenceEngineTest::SetUp();
    dir_ = (std::filesystem::temp_directory_path() /
            ("weft_guard_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/constraints.yaml") << R"(constraints:
  motor:
    envelope:
      vibration_rms: [0.5, 15]
      winding_temp: [20, 150]
    bounds:
      - {name: risk_is_probability, output: failure_risk, min: 0, max: 1}
    rate_of_change:
      - {name: risk_rate, output: failure_risk, max_per_s: 0.01}
    monotonic:
      - {name: risk_rises_with_vibration, output: failure_risk, input: vibration_rms,
         direction: increasing}
)";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static ModelLoader Linear(float a, float b) {
    return [a, b](const ModelConfig& m) -> Result<std::shared_ptr<const ModelRunner>> {
      return std::shared_ptr<const ModelRunner>(
          std::make_shared<LinearRunner>(m.name, m.num_features(), a, b));
    };
  }
  void Vibration(int64_t ts_us, double v, InferenceEngine& e) {
    Sample s{vib_, ts_us, v};
    e.OnSamples({&s, 1});
  }
  std::string dir_;
};

constexpr char kGuardedModel[] = R"(inference:
  constraints: constraints.yaml
  models:
    - {name: risk, artifact: risk.json, version: "1", asset_type: motor, window: 4,
       threshold: 0.5, period: 1s, output: failure_risk,
       features: [{signal: vibration_rms, stats: [last, mean]}, {signal: winding_temp, stats: [last]}]}
)";

TEST_F(PhysicsGuardTest, NonPhysicalPredictionIsFlaggedNotActedOn) {
  auto c = Config(kGuardedModel, dir_ + "/edge.yaml");
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  ASSERT_TRUE(c->constraints.has_value());
  EXPECT_EQ(c->models[0].output, "failure_risk");
  // Failure risk falls as vibration rises: 1 - vibration / 20.
  auto e = Engine(*c, Linear(-0.05f, 1.0f));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Vibration(1'000'000, 5, **e);  // 0.75 >= threshold 0.5, but non-physical
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_DOUBLE_EQ(p[0].threshold, 0) << "not compared with the threshold";
  EXPECT_NEAR(p[0].value, 0.75, 1e-6);
  EXPECT_EQ(p[0].message.rfind("physics_violation: risk_rises_with_vibration: failure_risk falls "
                               "from 0.75 to 0.71",
                               0),
            0u)
      << p[0].message;
  EXPECT_NE(p[0].message.find("when vibration_rms rises by 0.725 from 5 (risk@1 on l1-mo-01"),
            std::string::npos)
      << p[0].message;
  EXPECT_EQ((*e)->stats().physics_violations, 1u);
  EXPECT_EQ((*e)->stats().out_of_envelope, 0u);
  EXPECT_EQ((*e)->stats().predictions, 1u);
  EXPECT_NE((*e)->PrometheusText().find("weft_edge_inference_physics_violations_total 1"),
            std::string::npos);

  // Below the threshold it is still emitted, flagged: the record shows the model misbehaving.
  Vibration(200'000'000, 12, **e);  // 0.4
  p = Events("prediction");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[1].message.find("physics_violation: risk_rises_with_vibration"), std::string::npos);
  EXPECT_EQ((*e)->stats().physics_violations, 2u);
}

TEST_F(PhysicsGuardTest, PhysicalModelPassesAndBoundsRateAndEnvelopeAreChecked) {
  auto c = Config(kGuardedModel, dir_ + "/edge.yaml");
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  auto e = Engine(*c, Linear(0.05f, 0.0f));  // vibration / 20: rises with it
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Vibration(1'000'000, 12, **e);    // 0.6: a normal alarm
  Vibration(2'000'000, 12.1, **e);  // 0.605: 0.005/s
  std::vector<Event> p = Events("prediction");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_DOUBLE_EQ(p[1].threshold, 0.5);
  EXPECT_EQ(p[1].message.find("physics_violation"), std::string::npos) << p[1].message;
  EXPECT_EQ((*e)->stats().physics_violations, 0u);

  Vibration(3'000'000, 14, **e);  // 0.7: +0.095 in 1 s
  p = Events("prediction");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].message.rfind("physics_violation: risk_rate: failure_risk changes from 0.605 to "
                               "0.7 in 1 s",
                               0),
            0u)
      << p[2].message;
  EXPECT_DOUBLE_EQ(p[2].threshold, 0);

  Vibration(100'000'000, 25, **e);  // 1.25: outside the envelope and the bounds
  p = Events("prediction");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NE(p[3].message.find("physics_violation: risk_is_probability: failure_risk = 1.25 is "
                              "outside [0, 1]"),
            std::string::npos)
      << p[3].message;
  EXPECT_NE(p[3].message.find("out_of_envelope: vibration_rms = 25 is outside the operating "
                              "envelope [0.5, 15]"),
            std::string::npos)
      << p[3].message;
  EXPECT_EQ((*e)->stats().physics_violations, 2u);
  EXPECT_EQ((*e)->stats().out_of_envelope, 1u);
}

TEST_F(PhysicsGuardTest, ConfigProblemsAreReported) {
  auto c = Config(R"(inference:
  constraints: missing.yaml
)",
                  dir_ + "/edge.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(diags_.ToString().find("inference.constraints: cannot open constraints file"),
            std::string::npos)
      << diags_.ToString();

  std::ofstream(dir_ + "/bad.yaml") << "constraints:\n  motor:\n    bounds: [{name: x}]\n";
  c = Config("inference:\n  constraints: bad.yaml\n", dir_ + "/edge.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(diags_.ToString().find("bad.yaml:3:14: error: constraints.motor.bounds[0]: missing"),
            std::string::npos)
      << diags_.ToString();

  // A monotonic input without an envelope range cannot be probed.
  std::ofstream(dir_ + "/noenv.yaml") << R"(constraints:
  motor:
    monotonic:
      - {name: m, output: failure_risk, input: vibration_rms, direction: increasing}
)";
  std::string yaml = kGuardedModel;
  yaml.replace(yaml.find("constraints.yaml"), 16, "noenv.yaml");
  c = Config(yaml, dir_ + "/edge.yaml");
  ASSERT_TRUE(c.ok()) << diags_.ToString();
  auto e = Engine(*c, Linear(0.05f, 0));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("monotonic constraint 'm' has input 'vibration_rms' "
                                      "without an envelope range"),
            std::string::npos)
      << e.status().message();
}

}  // namespace
}  // namespace weft::edge::inference

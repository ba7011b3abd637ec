#include "edge/inference/inference_config.h"

#include <gtest/gtest.h>

namespace weft::edge::inference {
namespace {

constexpr char kGood[] = R"(edge: {id: edge-l1}
inference:
  models:
    - name: bearing_risk
      artifact: models/bearing_risk-1.2.0.json
      version: 1.2.0
      sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
      asset_type: motor
      window: 32
      features: [{signal: vibration_rms, stats: [last, mean, std, max, slope]},
                 {signal: winding_temp, stats: [last, slope]}]
      threshold: 0.8
      period: 2s
  detectors:
    - {type: ewma_z, asset_type: motor, signal: vibration_rms, alpha: 0.05, threshold: 4}
    - {type: cusum, asset_type: pump, signal: flow, k: 0.5, h: 5, target: 120, warmup: 10}
)";

TEST(InferenceConfig, ParsesTheDocumentedExample) {
  Diagnostics diags;
  Result<InferenceConfig> c = ParseInferenceConfig(kGood, "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << diags.ToString();
  ASSERT_EQ(c->models.size(), 1u);
  const ModelConfig& m = c->models[0];
  EXPECT_EQ(m.name, "bearing_risk");
  EXPECT_EQ(m.artifact, "/etc/weft/models/bearing_risk-1.2.0.json");
  EXPECT_EQ(m.version, "1.2.0");
  EXPECT_EQ(m.sha256.size(), 64u);
  EXPECT_EQ(m.asset_type, "motor");
  EXPECT_EQ(m.window, 32u);
  ASSERT_EQ(m.features.size(), 2u);
  EXPECT_EQ(m.features[1].signal, "winding_temp");
  EXPECT_EQ(m.features[1].stats, (std::vector<Stat>{Stat::kLast, Stat::kSlope}));
  EXPECT_EQ(m.num_features(), 7u);
  EXPECT_DOUBLE_EQ(m.threshold, 0.8);
  EXPECT_EQ(m.period, std::chrono::seconds(2));
  EXPECT_EQ(m.where.line, 4);
  EXPECT_EQ(m.path, "inference.models[0]");
  ASSERT_EQ(c->detectors.size(), 2u);
  EXPECT_EQ(c->detectors[0].type, DetectorType::kEwmaZ);
  EXPECT_DOUBLE_EQ(c->detectors[0].ewma.alpha, 0.05);
  EXPECT_DOUBLE_EQ(c->detectors[0].ewma.threshold, 4);
  EXPECT_EQ(c->detectors[1].type, DetectorType::kCusum);
  EXPECT_EQ(c->detectors[1].signal, "flow");
  EXPECT_EQ(c->detectors[1].cusum.target, 120.0);
  EXPECT_FALSE(c->detectors[1].cusum.sigma.has_value());
  EXPECT_EQ(c->detectors[1].cusum.warmup, 10u);
}

TEST(InferenceConfig, NoSectionIsAnEmptyConfig) {
  Diagnostics diags;
  Result<InferenceConfig> c = ParseInferenceConfig("edge: {id: x}\n", "edge.yaml", &diags);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->models.empty());
  EXPECT_TRUE(c->detectors.empty());
}

// Every problem is found in one run, each at its line, column and field path.
TEST(InferenceConfig, EveryErrorHasItsPlace) {
  constexpr char kBad[] = R"(inference:
  models:
    - name: bearing_risk
      artifact: m.json
      version: 1.0.0
      sha256: "abc"
      asset_type: motor
      window: 0
      features: [{signal: vibration_rms, stats: [last, avg]}]
    - name: other
      artifact: o.json
      version: 1
      asset_type: pump
      window: 8
      features: [{signal: flow, stats: [last]}]
      threshold: 0.5
      colour: red
  detectors:
    - {type: ewma_z, asset_type: motor, signal: vibration_rms, alpha: 1.5, threshold: 4}
    - {type: cusom, asset_type: pump, signal: flow, k: 0.5, h: 5}
    - {type: cusum, asset_type: pump, signal: flow, k: 0.5, h: 5, alpha: 0.1}
)";
  Diagnostics diags;
  Result<InferenceConfig> c = ParseInferenceConfig(kBad, "edge.yaml", &diags);
  ASSERT_FALSE(c.ok());
  std::string all = diags.ToString();
  auto has = [&](const std::string& needle) {
    EXPECT_NE(all.find(needle), std::string::npos) << "missing: " << needle << "\nin:\n" << all;
  };
  has("edge.yaml:6:15: error: inference.models[0].sha256: expected 64 hex digits");
  has("edge.yaml:8:15: error: inference.models[0].window:");
  has("edge.yaml:9:56: error: inference.models[0].features[0].stats[1]: unknown stat 'avg'");
  has("inference.models[0].threshold: missing required field 'threshold'");
  has("edge.yaml:17:7: error: inference.models[1].colour:");
  has("edge.yaml:19:71: error: inference.detectors[0].alpha: expected alpha in (0, 1]");
  has("edge.yaml:20:14: error: inference.detectors[1].type: unknown detector type 'cusom'");
  has("(did you mean 'cusum'?)");
  has("inference.detectors[2].alpha: field 'alpha' does not apply to a cusum detector");
  EXPECT_EQ(diags.error_count(), 8u);
  EXPECT_NE(c.status().message().find("edge.yaml"), std::string::npos);
}

TEST(InferenceConfig, DuplicateModelNamesAndSignals) {
  constexpr char kDup[] = R"(inference:
  models:
    - {name: m, artifact: a.json, version: "1", asset_type: motor, window: 4, threshold: 1,
       features: [{signal: a, stats: [last]}, {signal: a, stats: [mean]}]}
    - {name: m, artifact: b.json, version: "1", asset_type: motor, window: 4, threshold: 1,
       features: [{signal: b, stats: [last, last]}]}
    - {name: n, artifact: b.json, version: "1", asset_type: motor, window: 4, threshold: 1,
       features: [{signal: b, stats: [last]}]}
    - {name: n, artifact: b.json, version: "1", asset_type: motor, window: 4, threshold: 1,
       features: [{signal: b, stats: [last]}]}
)";
  Diagnostics diags;
  ASSERT_FALSE(ParseInferenceConfig(kDup, "edge.yaml", &diags).ok());
  std::string all = diags.ToString();
  EXPECT_NE(all.find("edge.yaml:4:47: error: inference.models[0].features[1]: signal 'a' is "
                     "listed twice"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stat 'last' is listed twice"), std::string::npos) << all;
  EXPECT_NE(all.find("edge.yaml:9:7: error: inference.models[3]: model name 'n' is used twice"),
            std::string::npos)
      << all;
}

TEST(InferenceConfig, YamlSyntaxErrorHasALine) {
  Diagnostics diags;
  Result<InferenceConfig> c =
      ParseInferenceConfig("inference:\n  models: [\n", "edge.yaml", &diags);
  ASSERT_FALSE(c.ok());
  ASSERT_FALSE(diags.all().empty());
  EXPECT_GT(diags.all()[0].location.line, 0);
}

}  // namespace
}  // namespace weft::edge::inference

// The `inference:` section of edge.yaml: which models run on which assets, with which features,
// and which streaming detectors watch which signals.
//
//   Diagnostics diags;
//   Result<InferenceConfig> c = ParseInferenceConfig(text, "/etc/weft/edge.yaml", &diags);
//   if (!c.ok()) std::cerr << diags.ToString();        // every problem, file:line:col + path
//
// Or, from a parser that reads the whole edge.yaml with its own YamlReader:
//   if (auto v = fields.Get("inference")) config.inference = ParseInferenceSection(r, *v, dir);
//
// Format:
//   inference:
//     models:
//       - name: bearing_risk                       # id
//         artifact: models/bearing_risk-1.2.0.json # relative to edge.yaml's directory
//         version: 1.2.0
//         sha256: "..."                            # optional, 64 hex digits
//         asset_type: motor                        # runs for every asset that IsA motor
//         window: 32                               # values per signal in the feature window
//         features: [{signal: vibration_rms, stats: [last, mean, std, max, slope]}]
//         threshold: 0.8                           # prediction >= threshold -> event
//         period: 1s                               # optional; see inference_engine.h
//         output: failure_risk                     # optional (default: the model's name): the
//                                                  # output name its physics constraints use
//     constraints: constraints.yaml              # optional, relative to edge.yaml's directory:
//                                                # the physics guard (model/physics.h)
//     detectors:
//       - {type: ewma_z, asset_type: motor, signal: vibration_rms, alpha: 0.05, threshold: 4,
//          warmup: 30}
//       - {type: cusum, asset_type: pump, signal: flow, k: 0.5, h: 5, warmup: 30,
//          target: 120, sigma: 3}                  # target and sigma optional
// Names of asset types and signals are checked against the plant by InferenceEngine::Create.
// The constraints file is read and parsed with the section; its problems are reported at its own
// file:line:column in the same Diagnostics.
//
// Thread-safety: the functions are reentrant; the config is a plain value.
#ifndef WEFT_EDGE_INFERENCE_INFERENCE_CONFIG_H_
#define WEFT_EDGE_INFERENCE_INFERENCE_CONFIG_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "edge/inference/detectors.h"
#include "edge/inference/features.h"
#include "model/physics.h"
#include "model/yaml_reader.h"

namespace weft::edge::inference {

//! Larger edge.yaml files are refused by ParseInferenceConfig.
inline constexpr size_t kMaxEdgeConfigBytes = size_t{4} << 20;

struct FeatureConfig {
  std::string signal;
  std::vector<Stat> stats;
};

struct ModelConfig {
  std::string name;
  std::string artifact;  //!< resolved against edge.yaml's directory
  std::string version;
  std::string sha256;  //!< "" = not checked
  std::string asset_type;
  uint32_t window = 32;
  std::vector<FeatureConfig> features;
  double threshold = 0.5;
  std::optional<Micros> period;  //!< at most one prediction per asset per period
  std::string output;            //!< output name for physics constraints; "" = `name`
  SourceLocation where;          //!< of the model's entry
  std::string path;              //!< its field path, e.g. "inference.models[0]"

  size_t num_features() const;
};

enum class DetectorType { kEwmaZ, kCusum };
std::string_view DetectorTypeName(DetectorType t);  //!< "ewma_z", "cusum"

struct DetectorConfig {
  DetectorType type = DetectorType::kEwmaZ;
  std::string asset_type;
  std::string signal;
  EwmaZParams ewma;   //!< when type == kEwmaZ
  CusumParams cusum;  //!< when type == kCusum
  SourceLocation where;
  std::string path;
};

struct InferenceConfig {
  std::vector<ModelConfig> models;
  std::vector<DetectorConfig> detectors;
  //! The physics guard's constraints (`constraints:`), when configured.
  std::optional<model::physics::ConstraintSet> constraints;
  std::string constraints_path;  //!< resolved against edge.yaml's directory
};

//! Reads the value of the `inference:` key (a mapping); problems go to the reader's
//! diagnostics, and the result is nullopt when there was any.
std::optional<InferenceConfig> ParseInferenceSection(model::YamlReader& r,
                                                     const model::YamlValue& v,
                                                     const std::filesystem::path& base_dir);

//! Parses an edge.yaml document and reads its `inference:` section (other top-level keys are
//! left to their own parsers; no section = empty config). InvalidArgument, with the first
//! problem in the message and all of them in `diags`, when it has errors.
Result<InferenceConfig> ParseInferenceConfig(std::string_view text, const std::string& file,
                                             Diagnostics* diags);

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_INFERENCE_CONFIG_H_

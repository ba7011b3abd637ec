// TreeModel: a gradient-boosted tree ensemble saved by XGBoost in its JSON format, evaluated
// natively from a compact flat array (no XGBoost at run time).
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<TreeModel> m,
//                         TreeModel::Load("models/bearing_risk-1.2.0.json", "bearing_risk",
//                                         "1.2.0", /*sha256=*/"9f86d0...")); // "" = no check
//   Result<float> risk = m->Predict(features);      // NaN = missing -> the split's default
//
// What is read (XGBoost >= 1.0 JSON, as written by XGBoosterSaveModel(h, "m.json")):
//   learner.objective.name            binary:logistic, reg:logistic, binary:logitraw,
//                                     reg:squarederror (others are refused)
//   learner.gradient_booster.name     gbtree only (gblinear and dart are refused)
//   learner.learner_model_param       base_score, num_feature, num_class (0 or 1)
//   ...model.trees[i]                 left_children, right_children, split_indices,
//                                     split_conditions, default_left, base_weights (all the
//                                     same length, tree_param.num_nodes when given)
// A leaf's value is its split_conditions entry (XGBoost stores the learning-rate-scaled leaf
// value there; base_weights is the unscaled weight and only checked for length). The output is
// base margin + the sum of the leaves, summed in float in tree order as XGBoost's CPU predictor
// does, then the objective's transform (sigmoid for the logistic ones).
//
// Refused, with an error naming the field (InvalidArgument, or DataLoss for a digest mismatch):
// not JSON, nesting deeper than 64, missing or mistyped fields, arrays of different lengths,
// child indices out of range, cycles or nodes reached twice, a feature index >= num_feature,
// categorical splits, NaN leaves, unsupported objective or booster, sha256 mismatch.
//
// Layout: every tree's reachable nodes are renumbered breadth-first into one vector of 12-byte
// nodes where the right child always follows the left one, so a step is one compare and one add.
//
// Thread-safety: immutable after loading; Predict() is safe from any number of threads.
#ifndef WEFT_EDGE_INFERENCE_TREE_MODEL_H_
#define WEFT_EDGE_INFERENCE_TREE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "edge/inference/model_runner.h"

namespace weft::edge::inference {

//! Larger model files are refused before parsing.
inline constexpr size_t kMaxModelFileBytes = size_t{256} << 20;

enum class TreeObjective { kBinaryLogistic, kRegLogistic, kBinaryLogitRaw, kRegSquaredError };
std::string_view TreeObjectiveName(TreeObjective o);

//! Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

class TreeModel final : public ModelRunner {
 public:
  //! Reads and parses `path`; when `sha256` is not empty, the file's SHA-256 (64 hex digits,
  //! any case) must match it. NotFound when the file cannot be read.
  static Result<std::unique_ptr<TreeModel>> Load(const std::string& path, std::string name,
                                                 std::string version, std::string_view sha256 = "");
  //! Parses model JSON from memory; `origin` names it in errors (e.g. the file path).
  static Result<std::unique_ptr<TreeModel>> Parse(std::string_view json, std::string name,
                                                  std::string version,
                                                  std::string_view origin = "model");

  const std::string& name() const override { return name_; }
  const std::string& version() const override { return version_; }
  size_t num_features() const override { return num_features_; }
  Result<float> Predict(std::span<const float> features) const override;

  //! The output for `features` (REQUIRES: num_features() values). Never allocates.
  float PredictUnchecked(const float* features) const;

  TreeObjective objective() const { return objective_; }
  float base_score() const { return base_score_; }
  size_t num_trees() const { return roots_.size(); }
  size_t num_nodes() const { return nodes_.size(); }

  //! One node of the flat layout. `left == 0` marks a leaf (node 0 is the first tree's root,
  //! never anyone's child); otherwise the children are `left` and `left + 1`.
  struct Node {
    float value;       //!< split threshold (go left when x < value), or the leaf value
    uint32_t feature;  //!< bits 0-30: feature index; bit 31: missing goes left
    uint32_t left;
  };
  static constexpr uint32_t kDefaultLeftBit = uint32_t{1} << 31;

 private:
  friend class TreeModelParser;
  TreeModel() = default;

  std::string name_, version_;
  size_t num_features_ = 0;
  TreeObjective objective_ = TreeObjective::kRegSquaredError;
  float base_score_ = 0;   //!< as stored (a probability for the logistic objectives)
  float base_margin_ = 0;  //!< base_score in margin space
  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_TREE_MODEL_H_

// Training small XGBoost models through the C API, for the tests and the benchmark (the edge
// never trains).
//
//   TrainSpec spec{.objective = "binary:logistic", .rows = 2000, .features = 8};
//   WEFT_ASSIGN_OR_RETURN(std::string path, TrainXgboostModel(spec, dir + "/m.json"));
//
// The data are deterministic pseudo-random values in [0, 1) (a fraction of them NaN = missing);
// labels are a non-linear function of the first features, so that trees use several features
// and the missing-value directions.
//
// Thread-safety: reentrant.
#ifndef WEFT_EDGE_INFERENCE_XGBOOST_TRAIN_H_
#define WEFT_EDGE_INFERENCE_XGBOOST_TRAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace weft::edge::inference {

struct TrainSpec {
  std::string objective = "binary:logistic";
  int rows = 2000;
  int features = 8;
  int rounds = 20;
  int max_depth = 4;
  double missing_fraction = 0.1;
  double base_score = 0.5;
  uint64_t seed = 1;
};

//! Trains on generated data and saves the model as JSON at `path`; returns `path`.
Result<std::string> TrainXgboostModel(const TrainSpec& spec, const std::string& path);

//! `rows` x `features` values like the training data (row-major), NaN with `missing_fraction`.
std::vector<float> RandomRows(int rows, int features, double missing_fraction, uint64_t seed);

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_XGBOOST_TRAIN_H_

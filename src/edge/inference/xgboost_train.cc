#include "edge/inference/xgboost_train.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>
#include <random>

#include "edge/inference/xgboost_runner.h"

namespace weft::edge::inference {

std::vector<float> RandomRows(int rows, int features, double missing_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::uniform_real_distribution<double> m(0.0, 1.0);
  std::vector<float> x(static_cast<size_t>(rows) * static_cast<size_t>(features));
  for (float& v : x) {
    v = m(rng) < missing_fraction ? std::numeric_limits<float>::quiet_NaN() : u(rng);
  }
  return x;
}

Result<std::string> TrainXgboostModel(const TrainSpec& spec, const std::string& path) {
  std::vector<float> x = RandomRows(spec.rows, spec.features, spec.missing_fraction, spec.seed);
  std::vector<float> y(static_cast<size_t>(spec.rows));
  const size_t nf = static_cast<size_t>(spec.features);
  for (size_t i = 0; i < y.size(); ++i) {
    auto at = [&](size_t j) {
      float v = x[i * nf + (j % nf)];
      return std::isnan(v) ? 0.3f : v;
    };
    float score = at(0) + at(1) * at(2) - 0.5f * at(3) + 0.2f * std::sin(6.0f * at(4));
    y[i] = spec.objective == "reg:squarederror" ? 10.0f * score : (score > 0.55f ? 1.0f : 0.0f);
  }
  DMatrixHandle dm = nullptr;
  if (XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(spec.rows),
                             static_cast<bst_ulong>(spec.features),
                             std::numeric_limits<float>::quiet_NaN(), &dm) != 0) {
    return InternalError("XGDMatrixCreateFromMat: " + XgboostLastError());
  }
  BoosterHandle b = nullptr;
  Status status;
  auto fail = [&](const char* what) {
    status = InternalError(std::string(what) + ": " + XgboostLastError());
  };
  if (XGDMatrixSetFloatInfo(dm, "label", y.data(), static_cast<bst_ulong>(y.size())) != 0) {
    fail("XGDMatrixSetFloatInfo");
  } else if (XGBoosterCreate(&dm, 1, &b) != 0) {
    fail("XGBoosterCreate");
  } else {
    const std::string depth = std::to_string(spec.max_depth);
    const std::string base = std::to_string(spec.base_score);
    const std::pair<const char*, const char*> params[] = {{"objective", spec.objective.c_str()},
                                                          {"max_depth", depth.c_str()},
                                                          {"eta", "0.3"},
                                                          {"nthread", "1"},
                                                          {"tree_method", "hist"},
                                                          {"base_score", base.c_str()},
                                                          {"seed", "7"}};
    for (const auto& [k, v] : params) {
      if (status.ok() && XGBoosterSetParam(b, k, v) != 0) fail("XGBoosterSetParam");
    }
    for (int i = 0; status.ok() && i < spec.rounds; ++i) {
      if (XGBoosterUpdateOneIter(b, i, dm) != 0) fail("XGBoosterUpdateOneIter");
    }
    if (status.ok() && XGBoosterSaveModel(b, path.c_str()) != 0) fail("XGBoosterSaveModel");
  }
  if (b != nullptr) XGBoosterFree(b);
  XGDMatrixFree(dm);
  if (!status.ok()) return status;
  return path;
}

}  // namespace weft::edge::inference

#include "edge/inference/xgboost_runner.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

namespace weft::edge::inference {

std::string XgboostLastError() {
  const char* e = XGBGetLastError();
  return e == nullptr ? std::string("unknown XGBoost error") : std::string(e);
}

Result<std::unique_ptr<XgboostRunner>> XgboostRunner::Load(const std::string& path,
                                                           std::string name, std::string version) {
  std::unique_ptr<XgboostRunner> r(new XgboostRunner());
  r->name_ = std::move(name);
  r->version_ = std::move(version);
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(nullptr, 0, &h) != 0) {
    return InternalError("XGBoosterCreate: " + XgboostLastError());
  }
  r->booster_ = h;  // freed by the destructor from here on
  if (XGBoosterLoadModel(h, path.c_str()) != 0) {
    return InvalidArgumentError(path + ": XGBoost cannot load it: " + XgboostLastError());
  }
  if (XGBoosterSetParam(h, "nthread", "1") != 0) {
    return InternalError("XGBoosterSetParam(nthread): " + XgboostLastError());
  }
  bst_ulong nf = 0;
  if (XGBoosterGetNumFeature(h, &nf) != 0) {
    return InternalError("XGBoosterGetNumFeature: " + XgboostLastError());
  }
  r->num_features_ = static_cast<size_t>(nf);
  return r;
}

XgboostRunner::~XgboostRunner() {
  if (booster_ != nullptr) XGBoosterFree(static_cast<BoosterHandle>(booster_));
}

Result<float> XgboostRunner::Predict(std::span<const float> features) const {
  if (features.size() != num_features_) {
    return InvalidArgumentError(Label() + ": expected " + std::to_string(num_features_) +
                                " features, got " + std::to_string(features.size()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  DMatrixHandle dm = nullptr;
  if (XGDMatrixCreateFromMat(features.data(), 1, static_cast<bst_ulong>(features.size()),
                             std::numeric_limits<float>::quiet_NaN(), &dm) != 0) {
    return InternalError("XGDMatrixCreateFromMat: " + XgboostLastError());
  }
  bst_ulong len = 0;
  const float* out = nullptr;
  int rc = XGBoosterPredict(static_cast<BoosterHandle>(booster_), dm, 0, 0, 0, &len, &out);
  float value = (rc == 0 && len == 1) ? out[0] : std::numeric_limits<float>::quiet_NaN();
  XGDMatrixFree(dm);
  if (rc != 0) return InternalError("XGBoosterPredict: " + XgboostLastError());
  if (len != 1)
    return InternalError("XGBoosterPredict returned " + std::to_string(len) + " values");
  return value;
}

}  // namespace weft::edge::inference

// XgboostRunner: the reference ModelRunner, which predicts through XGBoost's own C API (load the
// saved model, build a one-row DMatrix, XGBoosterPredict). Tests check TreeModel against it, and
// the benchmark measures it as the peer; the edge runtime itself uses TreeModel.
//
//   WEFT_ASSIGN_OR_RETURN(auto ref, XgboostRunner::Load("m.json", "bearing_risk", "1.2.0"));
//   Result<float> p = ref->Predict(features);       // NaN = missing
//
// XGBoost runs single-threaded here (nthread=1), as the edge would run it.
//
// Thread-safety: Predict() is serialised by an internal mutex (XGBoost's DMatrix prediction
// cache is not meant for concurrent callers on one booster).
#ifndef WEFT_EDGE_INFERENCE_XGBOOST_RUNNER_H_
#define WEFT_EDGE_INFERENCE_XGBOOST_RUNNER_H_

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "common/status.h"
#include "edge/inference/model_runner.h"

namespace weft::edge::inference {

class XgboostRunner final : public ModelRunner {
 public:
  //! InvalidArgument with XGBoost's message when it cannot load `path`.
  static Result<std::unique_ptr<XgboostRunner>> Load(const std::string& path, std::string name,
                                                     std::string version);
  ~XgboostRunner() override;
  XgboostRunner(const XgboostRunner&) = delete;
  XgboostRunner& operator=(const XgboostRunner&) = delete;

  const std::string& name() const override { return name_; }
  const std::string& version() const override { return version_; }
  size_t num_features() const override { return num_features_; }
  //! Creates a DMatrix of one row and calls XGBoosterPredict (allocates: it is the reference).
  Result<float> Predict(std::span<const float> features) const override;

 private:
  XgboostRunner() = default;

  std::string name_, version_;
  size_t num_features_ = 0;
  void* booster_ = nullptr;  // BoosterHandle; the C API header stays out of this header
  mutable std::mutex mu_;
};

//! XGBoost's last error message (XGBGetLastError), for adapters.
std::string XgboostLastError();

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_XGBOOST_RUNNER_H_

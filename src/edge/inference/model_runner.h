// ModelRunner: one trained model that turns a feature vector into a score; ModelSlot: the
// current version of a named model, swappable at run time.
//
//   WEFT_ASSIGN_OR_RETURN(auto model, TreeModel::Load("m.json", "bearing_risk", "1.2.0"));
//   ModelSlot slot(std::move(model));
//   std::shared_ptr<const ModelRunner> runner = slot.Get();     // pins one version
//   Result<float> p = runner->Predict(features);                // features.size() == 32
//   slot.Swap(new_version);                                     // from any thread, any time
//
// Contract: Predict() is const and safe to call from several threads at once; it must not
// allocate on success (the edge calls it for every asset at every sampling period). A feature
// that is missing is passed as NaN.
//
// ModelSlot holds the runner behind std::atomic<std::shared_ptr<const ModelRunner>>: a reader
// that called Get() keeps that version alive for as long as it holds the pointer, so a swap
// never tears a prediction (each one is computed by exactly one version) and never blocks or
// drops one. The old version is freed when its last reader lets go.
//
// Thread-safety: ModelRunner implementations are immutable and thread-safe; ModelSlot is
// thread-safe (lock-free on platforms where the atomic is).
#ifndef WEFT_EDGE_INFERENCE_MODEL_RUNNER_H_
#define WEFT_EDGE_INFERENCE_MODEL_RUNNER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "common/status.h"

namespace weft::edge::inference {

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;

  //! The model's name (e.g. "bearing_risk") and version (e.g. "1.2.0").
  virtual const std::string& name() const = 0;
  virtual const std::string& version() const = 0;
  //! How many features Predict() takes.
  virtual size_t num_features() const = 0;

  //! The model's output (a probability for classifiers, the value for regressors).
  //! InvalidArgument when features.size() != num_features().
  virtual Result<float> Predict(std::span<const float> features) const = 0;

  //! "name@version", for event sources and logs.
  std::string Label() const { return name() + "@" + version(); }
};

class ModelSlot {
 public:
  explicit ModelSlot(std::shared_ptr<const ModelRunner> runner) : runner_(std::move(runner)) {}
  ModelSlot(const ModelSlot&) = delete;
  ModelSlot& operator=(const ModelSlot&) = delete;

  //! The current version; keep the pointer for the whole prediction.
  std::shared_ptr<const ModelRunner> Get() const { return runner_.load(std::memory_order_acquire); }
  //! Makes `runner` the current version and returns the previous one.
  std::shared_ptr<const ModelRunner> Swap(std::shared_ptr<const ModelRunner> runner) {
    return runner_.exchange(std::move(runner), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::shared_ptr<const ModelRunner>> runner_;
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_MODEL_RUNNER_H_

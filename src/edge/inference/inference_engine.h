// InferenceEngine: local inference at the edge. Feeds samples into per-asset feature windows and
// per-signal detectors, runs each asset's models, and turns firings into Events.
//
//   WEFT_ASSIGN_OR_RETURN(InferenceConfig config, ParseInferenceConfig(text, path, &diags));
//   WEFT_ASSIGN_OR_RETURN(auto engine, InferenceEngine::Create(config, table,
//                                          [&](const Event& e) { uplink.Push(e); }));
//   engine->OnSamples(batch);                                      // pipeline thread
//   engine->SwapModel("bearing_risk", std::move(v130));            // deployment, any thread
//
// Wiring (done once by Create): a model config runs for every asset of the table whose type IsA
// its asset_type; each such asset gets a FeatureWindow over its feature signals (a signal the
// asset does not have stays empty: its features are NaN, i.e. missing for the trees). A detector
// config gets one detector per matching asset that has the signal. Create refuses an unknown
// asset type, a signal its type does not define, a model whose artifact does not load (or fails
// its sha256), and a model whose number of features differs from the features configured; each
// message starts with edge.yaml's file:line:column and the field path.
//
// OnSamples(batch): samples whose quality is not good, or whose value is not finite, are skipped.
// Each sample updates its detectors at once (an "ewma_z"/"cusum" Event per firing) and the
// windows that read it. Then, after the whole batch (so a model sees the batch's values of all
// its signals together), each asset whose windows received a value runs its model, at most once
// per period: the model's `period` when configured, else the slowest nominal sampling period of
// its feature signals in the plant. Time is the samples' timestamps (not the wall clock). Runs
// stay on a grid one period apart from the first one and may come up to a tenth of a period
// early, so jitter in the timestamps does not skip every other period; after a gap of more than a
// period, or timestamps going back, the grid restarts. A prediction >= threshold emits a
// "prediction" Event (every time; deduplication is the consumer's choice). The latency of
// feature extraction + predict is recorded in latency() for every run.
//
// Thread-safety: OnSamples() from one thread at a time. SwapModel(), CurrentModel(), latency()
// and stats() from any thread: a swap takes effect at the next prediction, and a prediction in
// flight finishes with the version it started with (ModelSlot). The sink is called on the
// OnSamples() thread.
#ifndef WEFT_EDGE_INFERENCE_INFERENCE_ENGINE_H_
#define WEFT_EDGE_INFERENCE_INFERENCE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "edge/inference/detectors.h"
#include "edge/inference/features.h"
#include "edge/inference/inference_config.h"
#include "edge/inference/latency_histogram.h"
#include "edge/inference/model_runner.h"
#include "edge/sample.h"
#include "edge/signal_table.h"

namespace weft::edge::inference {

using EventSink = std::function<void(const Event&)>;
//! Makes the runner of a model config; the default loads the artifact with TreeModel::Load.
using ModelLoader = std::function<Result<std::shared_ptr<const ModelRunner>>(const ModelConfig&)>;

class InferenceEngine {
 public:
  //! REQUIRES: `table` outlives the engine.
  static Result<std::unique_ptr<InferenceEngine>> Create(const InferenceConfig& config,
                                                         const SignalTable& table, EventSink sink,
                                                         ModelLoader loader = nullptr);

  void OnSamples(std::span<const Sample> samples);

  //! Makes `runner` the current version of model `name`. NotFound for an unknown name;
  //! InvalidArgument when its name differs or its num_features() is not the configured count.
  Status SwapModel(std::string_view name, std::shared_ptr<const ModelRunner> runner);
  //! The current version of model `name`, or null.
  std::shared_ptr<const ModelRunner> CurrentModel(std::string_view name) const;

  const LatencyHistogram& latency() const { return latency_; }
  struct Stats {
    uint64_t predictions = 0;
    uint64_t prediction_errors = 0;
    uint64_t events = 0;
  };
  Stats stats() const;
  //! How many (model, asset) pairs and detectors were wired.
  size_t model_instance_count() const { return instances_.size(); }
  size_t detector_count() const { return detectors_.size(); }
  //! The latency histogram and counters in Prometheus text format.
  std::string PrometheusText() const;

 private:
  struct Model {
    std::string name;
    size_t num_features = 0;
    double threshold = 0;
    std::unique_ptr<ModelSlot> slot;
  };
  struct Instance {
    uint32_t model = 0;
    std::string asset;
    SignalId event_signal = 0;  // the asset's first feature signal, for events
    int64_t period_us = 0;
    FeatureWindow window;
    std::vector<float> features;  // scratch, num_features
    bool dirty = false;
    bool ran = false;
    int64_t newest_ts_us = 0;
    int64_t last_run_ts_us = 0;
  };
  struct Detector {
    DetectorType type = DetectorType::kEwmaZ;
    SignalId signal = 0;
    double threshold = 0;
    EwmaZDetector ewma{EwmaZParams{}};
    CusumDetector cusum{CusumParams{}};
  };
  // What a signal feeds: a window slot of an instance, or a detector.
  struct Route {
    bool to_detector = false;
    uint32_t index = 0;  // into instances_ or detectors_
    uint32_t slot = 0;   // window slot
  };

  InferenceEngine(const SignalTable& table, EventSink sink)
      : table_(table), sink_(std::move(sink)) {}
  void RunModel(Instance& inst);
  void Emit(Event e);

  const SignalTable& table_;
  EventSink sink_;
  std::vector<Model> models_;
  std::vector<Instance> instances_;
  std::vector<Detector> detectors_;
  std::vector<std::vector<Route>> routes_;  // by SignalId
  std::vector<uint32_t> touched_;           // instances touched by the current batch
  LatencyHistogram latency_;
  std::atomic<uint64_t> predictions_{0}, prediction_errors_{0}, events_{0};
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_INFERENCE_ENGINE_H_

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
// The physics guard (when the config has `constraints:`): a model instance on an asset whose type
// has constraints (model::physics::ConstraintSet::For, walking `extends`) checks every prediction
// against the constraints on its output (ModelConfig::output, default the model's name):
//   bounds          the prediction is within [min, max];
//   rate_of_change  |change| / dt between successive predictions of the asset <= max_per_s;
//   monotonic       one extra predict with the input's last/mean/min/max features raised by 5% of
//                   its envelope width must not move the wrong way (by more than 1e-6); skipped
//                   when those features are missing;
//   envelope        the newest value of each feature signal is inside its envelope range.
// A flagged prediction is still emitted as a "prediction" Event, whatever its value, with
// threshold 0 (it is NOT compared with the threshold: no alarm is to be acted on) and a message
// that starts with "physics_violation: <constraint>: <detail>" and/or "out_of_envelope: <detail>"
// (low trust), parts joined by "; ". stats() counts flagged predictions of each sort. Create
// refuses a monotonic constraint whose input is a feature signal without an envelope range.
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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "edge/inference/detectors.h"
#include "edge/inference/features.h"
#include "edge/inference/inference_config.h"
#include "edge/inference/latency_histogram.h"
#include "edge/inference/model_runner.h"
#include "edge/sample.h"
#include "edge/signal_table.h"
#include "model/physics.h"

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
    uint64_t physics_violations = 0;  //!< predictions flagged physics_violation
    uint64_t out_of_envelope = 0;     //!< predictions flagged out_of_envelope
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
    std::string output;  // the output name physics constraints use
  };
  // The physics guard of one model instance: pointers into constraints_.
  struct MonotoneProbe {
    const model::physics::MonotonicConstraint* c = nullptr;
    uint32_t slot = 0;
    std::vector<uint32_t> positions;  // features raised: the slot's last/mean/min/max
    double delta = 0;                 // 5% of the input's envelope width
  };
  struct Guard {
    std::vector<const model::physics::BoundConstraint*> bounds;
    std::vector<const model::physics::RateConstraint*> rates;
    std::vector<MonotoneProbe> monotonic;
    struct EnvelopeCheck {
      uint32_t slot = 0;
      model::physics::Range range;
      std::string signal;
    };
    std::vector<EnvelopeCheck> envelope;
    model::physics::RateChecker rate_checker;
    std::vector<float> probe;  // scratch, num_features
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
    std::vector<double> last;      // newest value per window slot (NaN: none yet)
    std::unique_ptr<Guard> guard;  // null: no constraints for this asset's type
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
  // The guard's findings for prediction `p` ("" when none).
  std::string CheckPhysics(Instance& inst, const ModelRunner& runner, const Model& m, float p,
                           bool* violation, bool* out_of_envelope);
  void Emit(Event e);

  const SignalTable& table_;
  EventSink sink_;
  std::vector<Model> models_;
  std::vector<Instance> instances_;
  std::vector<Detector> detectors_;
  std::vector<std::vector<Route>> routes_;  // by SignalId
  std::vector<uint32_t> touched_;           // instances touched by the current batch
  LatencyHistogram latency_;
  std::optional<model::physics::ConstraintSet> constraints_;  // the guard's, when configured
  std::atomic<uint64_t> predictions_{0}, prediction_errors_{0}, events_{0};
  std::atomic<uint64_t> physics_violations_{0}, out_of_envelope_{0};
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_INFERENCE_ENGINE_H_

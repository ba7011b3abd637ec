#include "edge/inference/inference_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "edge/inference/tree_model.h"

namespace weft::edge::inference {

namespace {

std::string Where(const SourceLocation& at, const std::string& path) {
  return at.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + path;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Result<std::shared_ptr<const ModelRunner>> LoadTreeModel(const ModelConfig& m) {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<TreeModel> model,
                        TreeModel::Load(m.artifact, m.name, m.version, m.sha256));
  return std::shared_ptr<const ModelRunner>(std::move(model));
}

// The asset type must exist and define the signal (directly or through `extends`). `entry` is
// the config entry's place, `signal_path` the signal field's.
Status CheckSignal(const model::Plant& plant, const std::string& type, const std::string& signal,
                   const std::string& entry, const std::string& signal_path) {
  const model::AssetType* t = plant.FindAssetType(type);
  if (t == nullptr) {
    std::string known;
    for (const auto& kv : plant.asset_types) known += (known.empty() ? "" : ", ") + kv.first;
    return NotFoundError(entry + ".asset_type: unknown asset type '" + type +
                         "'; the plant has: " + known);
  }
  if (t->FindSignal(signal) == nullptr) {
    std::string names;
    for (const std::string& n : t->SignalNames()) names += (names.empty() ? "" : ", ") + n;
    return NotFoundError(signal_path + ": asset type '" + type + "' has no signal '" + signal +
                         "'; it has: " + names);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<InferenceEngine>> InferenceEngine::Create(const InferenceConfig& config,
                                                                 const SignalTable& table,
                                                                 EventSink sink,
                                                                 ModelLoader loader) {
  if (!loader) loader = LoadTreeModel;
  std::unique_ptr<InferenceEngine> e(new InferenceEngine(table, std::move(sink)));
  const model::Plant& plant = table.plant();
  e->routes_.resize(table.size());
  if (config.constraints) e->constraints_ = *config.constraints;

  for (const ModelConfig& mc : config.models) {
    const std::string where = Where(mc.where, mc.path);
    for (size_t i = 0; i < mc.features.size(); ++i) {
      WEFT_RETURN_IF_ERROR(CheckSignal(plant, mc.asset_type, mc.features[i].signal, where,
                                       where + ".features[" + std::to_string(i) + "].signal"));
    }
    if (mc.num_features() == 0) return InvalidArgumentError(where + ": the model has no features");
    Result<std::shared_ptr<const ModelRunner>> runner = loader(mc);
    if (!runner.ok()) return runner.status().WithContext(where + ".artifact");
    if ((*runner)->num_features() != mc.num_features()) {
      return InvalidArgumentError(
          where + ".features: the model " + (*runner)->Label() + " takes " +
          std::to_string((*runner)->num_features()) + " features, the config lists " +
          std::to_string(mc.num_features()) + " (signals x stats); they must match");
    }
    const uint32_t model_index = static_cast<uint32_t>(e->models_.size());
    e->models_.push_back(Model{mc.name, mc.num_features(), mc.threshold,
                               std::make_unique<ModelSlot>(std::move(runner).value()),
                               mc.output.empty() ? mc.name : mc.output});
    const std::string& output = e->models_.back().output;
    // Feature positions per slot (the layout of features.h).
    std::vector<uint32_t> first_feature;
    {
      uint32_t k = 0;
      for (const FeatureConfig& f : mc.features) {
        first_feature.push_back(k);
        k += static_cast<uint32_t>(f.stats.size());
      }
    }

    std::vector<std::vector<Stat>> stats;
    for (const FeatureConfig& f : mc.features) stats.push_back(f.stats);
    for (const model::Asset* asset : plant.AllAssets()) {
      if (!plant.IsA(asset->type, mc.asset_type)) continue;
      const std::vector<SignalId>* in_table = table.AssetSignals(asset->id);
      if (in_table == nullptr) continue;  // outside the edge's scope
      Instance inst{model_index,
                    asset->id,
                    0,
                    0,
                    FeatureWindow(stats, mc.window),
                    std::vector<float>(mc.num_features()),
                    false,
                    false,
                    0,
                    0,
                    std::vector<double>(mc.features.size(), std::nan("")),
                    nullptr};
      const model::physics::AssetConstraints* pc =
          e->constraints_ ? e->constraints_->For(asset->type, &plant) : nullptr;
      if (pc != nullptr) {
        auto guard = std::make_unique<Guard>();
        for (const auto& b : pc->bounds) {
          if (b.is_output && b.quantity == output) guard->bounds.push_back(&b);
        }
        for (const auto& r : pc->rates) {
          if (r.is_output && r.quantity == output) guard->rates.push_back(&r);
        }
        for (const auto& m : pc->monotonic) {
          if (m.output != output) continue;
          for (uint32_t slot = 0; slot < mc.features.size(); ++slot) {
            if (mc.features[slot].signal != m.input) continue;
            const model::physics::Range* range = pc->EnvelopeOf(m.input);
            if (range == nullptr) {
              return InvalidArgumentError(
                  where + ": constraints (" + config.constraints_path + ") of asset type '" +
                  pc->asset_type + "': monotonic constraint '" + m.name + "' has input '" +
                  m.input + "' without an envelope range; add it under envelope: (the guard " +
                  "probes 5% of its width)");
            }
            MonotoneProbe probe{&m, slot, {}, 0.05 * (range->hi - range->lo)};
            for (size_t j = 0; j < mc.features[slot].stats.size(); ++j) {
              Stat st = mc.features[slot].stats[j];
              if (st == Stat::kLast || st == Stat::kMean || st == Stat::kMin || st == Stat::kMax) {
                probe.positions.push_back(first_feature[slot] + static_cast<uint32_t>(j));
              }
            }
            if (!probe.positions.empty()) guard->monotonic.push_back(std::move(probe));
          }
        }
        for (uint32_t slot = 0; slot < mc.features.size(); ++slot) {
          if (const model::physics::Range* r = pc->EnvelopeOf(mc.features[slot].signal)) {
            guard->envelope.push_back(Guard::EnvelopeCheck{slot, *r, mc.features[slot].signal});
          }
        }
        guard->probe.resize(mc.num_features());
        inst.guard = std::move(guard);
      }
      const uint32_t index = static_cast<uint32_t>(e->instances_.size());
      bool any = false;
      Micros slowest{0};
      for (size_t slot = 0; slot < mc.features.size(); ++slot) {
        std::optional<SignalId> id = table.Find(asset->id, mc.features[slot].signal);
        if (!id) continue;  // not fitted: its features stay NaN
        if (!any) inst.event_signal = *id;
        any = true;
        slowest = std::max(slowest, table.at(*id).period);
        e->routes_[*id].push_back(Route{false, index, static_cast<uint32_t>(slot)});
      }
      if (!any) continue;  // nothing to predict from
      inst.period_us = (mc.period ? *mc.period : slowest).count();
      e->instances_.push_back(std::move(inst));
    }
  }

  for (const DetectorConfig& dc : config.detectors) {
    const std::string where = Where(dc.where, dc.path);
    WEFT_RETURN_IF_ERROR(CheckSignal(plant, dc.asset_type, dc.signal, where, where + ".signal"));
    for (const model::Asset* asset : plant.AllAssets()) {
      if (!plant.IsA(asset->type, dc.asset_type)) continue;
      std::optional<SignalId> id = table.Find(asset->id, dc.signal);
      if (!id) continue;
      Detector d;
      d.type = dc.type;
      d.signal = *id;
      d.threshold = dc.type == DetectorType::kEwmaZ ? dc.ewma.threshold : dc.cusum.h;
      d.ewma = EwmaZDetector(dc.ewma);
      d.cusum = CusumDetector(dc.cusum);
      e->routes_[*id].push_back(Route{true, static_cast<uint32_t>(e->detectors_.size()), 0});
      e->detectors_.push_back(std::move(d));
    }
  }
  e->touched_.reserve(e->instances_.size());
  return e;
}

void InferenceEngine::OnSamples(std::span<const Sample> samples) {
  for (const Sample& s : samples) {
    if (s.quality != quality::kGood || !std::isfinite(s.value) || s.signal >= routes_.size()) {
      continue;
    }
    for (const Route& r : routes_[s.signal]) {
      if (r.to_detector) {
        Detector& d = detectors_[r.index];
        Detection det =
            d.type == DetectorType::kEwmaZ ? d.ewma.Update(s.value) : d.cusum.Update(s.value);
        if (!det.fired) continue;
        const SignalInfo& info = table_.at(s.signal);
        std::string_view kind = DetectorTypeName(d.type);
        Emit(Event{
            s.signal, s.ts_us, std::string(kind), std::string(kind), det.statistic, d.threshold,
            std::string(info.asset) + "." + std::string(info.signal) + ": " + std::string(kind) +
                " statistic " + Num(det.statistic) + " beyond " + Num(d.threshold)});
        continue;
      }
      Instance& inst = instances_[r.index];
      inst.window.Push(r.slot, s.ts_us, s.value);
      inst.last[r.slot] = s.value;
      if (!inst.dirty) {
        inst.dirty = true;
        inst.newest_ts_us = s.ts_us;
        touched_.push_back(r.index);
      } else {
        inst.newest_ts_us = std::max(inst.newest_ts_us, s.ts_us);
      }
    }
  }
  for (uint32_t index : touched_) {
    Instance& inst = instances_[index];
    inst.dirty = false;
    // Runs stay on a grid of one period from the first run, and may come a tenth of a period
    // early (timestamp jitter); after a gap, or time going back, the grid restarts.
    const int64_t now = inst.newest_ts_us, period = inst.period_us;
    if (!inst.ran || period == 0 || now < inst.last_run_ts_us - period) {
      inst.last_run_ts_us = now;
    } else {
      const int64_t due = inst.last_run_ts_us + period;
      if (now < due - period / 10) continue;
      inst.last_run_ts_us = now - due > period ? now : due;
    }
    inst.ran = true;
    RunModel(inst);
  }
  touched_.clear();
}

void InferenceEngine::RunModel(Instance& inst) {
  Model& m = models_[inst.model];
  std::shared_ptr<const ModelRunner> runner = m.slot->Get();
  auto start = std::chrono::steady_clock::now();
  inst.window.Extract(inst.features);
  Result<float> p = runner->Predict(inst.features);
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  latency_.Record(static_cast<uint64_t>(std::max<int64_t>(ns, 0)));
  if (!p.ok()) {
    prediction_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  predictions_.fetch_add(1, std::memory_order_relaxed);
  if (inst.guard != nullptr) {
    bool violation = false, outside = false;
    std::string flags = CheckPhysics(inst, *runner, m, *p, &violation, &outside);
    if (violation) physics_violations_.fetch_add(1, std::memory_order_relaxed);
    if (outside) out_of_envelope_.fetch_add(1, std::memory_order_relaxed);
    if (!flags.empty()) {
      // Emitted for the record, not compared with the threshold: nothing is to act on it.
      Emit(Event{inst.event_signal, inst.newest_ts_us, "prediction", runner->Label(), *p, 0,
                 flags + " (" + runner->Label() + " on " + inst.asset + ": " + Num(*p) +
                     ", not compared with the threshold)"});
      return;
    }
  }
  if (!(*p >= m.threshold)) return;
  Emit(Event{inst.event_signal, inst.newest_ts_us, "prediction", runner->Label(), *p, m.threshold,
             runner->Label() + " on " + inst.asset + ": " + Num(*p) + " >= " + Num(m.threshold)});
}

std::string InferenceEngine::CheckPhysics(Instance& inst, const ModelRunner& runner, const Model& m,
                                          float p, bool* violation, bool* out_of_envelope) {
  namespace physics = model::physics;
  Guard& g = *inst.guard;
  std::string flags;  // built only when something is wrong: the healthy path does not allocate
  auto flag = [&](std::string_view prefix, const std::string& name, const std::string& detail) {
    if (!flags.empty()) flags += "; ";
    flags += prefix;
    if (!name.empty()) flags += name + ": ";
    flags += detail;
  };
  const double y = p;
  for (const physics::BoundConstraint* b : g.bounds) {
    if (y < b->min || y > b->max) {
      *violation = true;
      flag("physics_violation: ", b->name,
           m.output + " = " + physics::FormatValue(y) + " is outside [" +
               physics::FormatValue(b->min) + ", " + physics::FormatValue(b->max) + "]");
    }
  }
  for (const physics::RateConstraint* r : g.rates) {
    if (auto v = g.rate_checker.Observe(r->name, *r, inst.newest_ts_us, y)) {
      *violation = true;
      flag("physics_violation: ", v->constraint, v->detail);
    }
  }
  for (const MonotoneProbe& probe : g.monotonic) {
    std::copy(inst.features.begin(), inst.features.end(), g.probe.begin());
    bool missing = false;
    for (uint32_t pos : probe.positions) {
      if (std::isnan(g.probe[pos])) missing = true;
      g.probe[pos] = static_cast<float>(g.probe[pos] + probe.delta);
    }
    if (missing) continue;
    Result<float> raised = runner.Predict(g.probe);
    if (!raised.ok()) continue;
    const bool increasing = probe.c->direction == physics::Direction::kIncreasing;
    const double wrong = increasing ? y - *raised : *raised - y;
    if (wrong > 1e-6) {
      *violation = true;
      flag("physics_violation: ", probe.c->name,
           m.output + (increasing ? " falls from " : " rises from ") + physics::FormatValue(y) +
               " to " + physics::FormatValue(*raised) + " when " + probe.c->input + " rises by " +
               physics::FormatValue(probe.delta) + " from " +
               physics::FormatValue(inst.last[probe.slot]));
    }
  }
  for (const Guard::EnvelopeCheck& e : g.envelope) {
    const double v = inst.last[e.slot];
    if (std::isnan(v) || (v >= e.range.lo && v <= e.range.hi)) continue;
    *out_of_envelope = true;
    flag("out_of_envelope: ", "",
         e.signal + " = " + physics::FormatValue(v) + " is outside the operating envelope [" +
             physics::FormatValue(e.range.lo) + ", " + physics::FormatValue(e.range.hi) + "]");
  }
  return flags;
}

void InferenceEngine::Emit(Event e) {
  events_.fetch_add(1, std::memory_order_relaxed);
  if (sink_) sink_(e);
}

Status InferenceEngine::SwapModel(std::string_view name,
                                  std::shared_ptr<const ModelRunner> runner) {
  if (runner == nullptr) return InvalidArgumentError("SwapModel: no runner given");
  for (Model& m : models_) {
    if (m.name != name) continue;
    if (runner->name() != m.name) {
      return InvalidArgumentError("SwapModel: runner " + runner->Label() +
                                  " cannot replace model '" + m.name + "' (names differ)");
    }
    if (runner->num_features() != m.num_features) {
      return InvalidArgumentError(
          "SwapModel: " + runner->Label() + " takes " + std::to_string(runner->num_features()) +
          " features; model '" + m.name + "' is configured with " + std::to_string(m.num_features));
    }
    m.slot->Swap(std::move(runner));
    return Status::Ok();
  }
  return NotFoundError("SwapModel: no model named '" + std::string(name) + "' is configured");
}

std::shared_ptr<const ModelRunner> InferenceEngine::CurrentModel(std::string_view name) const {
  for (const Model& m : models_) {
    if (m.name == name) return m.slot->Get();
  }
  return nullptr;
}

InferenceEngine::Stats InferenceEngine::stats() const {
  return Stats{predictions_.load(std::memory_order_relaxed),
               prediction_errors_.load(std::memory_order_relaxed),
               events_.load(std::memory_order_relaxed),
               physics_violations_.load(std::memory_order_relaxed),
               out_of_envelope_.load(std::memory_order_relaxed)};
}

std::string InferenceEngine::PrometheusText() const {
  std::string out;
  latency_.AppendPrometheus(&out, "weft_edge_inference_latency_seconds",
                            "Feature extraction + model prediction, per run");
  Stats s = stats();
  out += "# TYPE weft_edge_inference_predictions_total counter\n";
  out += "weft_edge_inference_predictions_total " + std::to_string(s.predictions) + "\n";
  out += "# TYPE weft_edge_inference_prediction_errors_total counter\n";
  out +=
      "weft_edge_inference_prediction_errors_total " + std::to_string(s.prediction_errors) + "\n";
  out += "# TYPE weft_edge_inference_events_total counter\n";
  out += "weft_edge_inference_events_total " + std::to_string(s.events) + "\n";
  out += "# TYPE weft_edge_inference_physics_violations_total counter\n";
  out +=
      "weft_edge_inference_physics_violations_total " + std::to_string(s.physics_violations) + "\n";
  out += "# TYPE weft_edge_inference_out_of_envelope_total counter\n";
  out += "weft_edge_inference_out_of_envelope_total " + std::to_string(s.out_of_envelope) + "\n";
  return out;
}

}  // namespace weft::edge::inference

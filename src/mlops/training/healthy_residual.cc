#include "mlops/training/healthy_residual.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::mlops {

namespace {

constexpr char kSection[] = "monitoring.thermal_residual";

// The input map's bounds when the spec gave none (TwinInputMap's defaults): not written out.
bool Unbounded(double v) {
  return std::fabs(v) >= 1e299;
}

}  // namespace

Result<ThermalResidualSpec> ResolveThermalResidual(const TrainSpec& spec,
                                                   const ScenarioTwin& twin) {
  ThermalResidualSpec out = spec.monitoring.thermal_residual->residual;
  if (!out.twin_model.empty() && out.twin_model != twin.base_model) {
    return InvalidArgumentError(spec.file + ": " + kSection + ".twin '" + out.twin_model +
                                "': the scenarios run twin '" + twin.base_model +
                                "', whose healthy runs give the statistics; name that model or "
                                "leave 'twin' out");
  }
  out.twin_model = twin.base_model;
  std::map<std::string, double> params = twin.parameters;
  for (const auto& [k, v] : spec.scenarios->twin_params) params[k] = v;
  for (const auto& [k, v] : out.twin_params) params[k] = v;
  out.twin_params = std::move(params);
  return out;
}

Result<HealthyResidual> MeasureHealthyResidual(const TrainSpec& spec, const ScenarioTwin& twin,
                                               const ThermalResidualSpec& residual) {
  const ThermalResidualMonitoring& section = *spec.monitoring.thermal_residual;
  const ScenarioSpec& sc = *spec.scenarios;
  const std::string where = spec.file + ": " + kSection;
  const uint32_t first_healthy = ScenarioFaultRuns(sc);
  if (first_healthy >= sc.runs) {
    return InvalidArgumentError(where + ": the scenarios have no healthy run to measure it on");
  }

  // The monitor with this residual only; healthy_mean and healthy_sigma are placeholders here,
  // only the window means (the "residual_mean" results) are read.
  MonitorConfig config;
  config.model = spec.name;
  config.thermal = residual;
  config.thermal->healthy_mean = 0;
  config.thermal->healthy_sigma = 1;
  Result<std::unique_ptr<ReliabilityMonitor>> made = ReliabilityMonitor::Create(config);
  if (!made.ok()) return made.status().WithContext(where);
  std::unique_ptr<ReliabilityMonitor> monitor = std::move(made).value();

  std::set<std::string> signals = {residual.measured_signal};
  for (const TwinInputMap& m : residual.inputs) {
    if (!m.signal.empty()) signals.insert(m.signal);
  }
  const double period_s = static_cast<double>(section.sample_period.count()) * 1e-6;
  const double window_s = static_cast<double>(section.window.count()) * 1e-6;
  const double duration_s = static_cast<double>(sc.duration.count()) * 1e-6;
  const auto samples = static_cast<size_t>(std::floor(window_s / period_s + 1e-9));
  const auto windows = static_cast<size_t>(std::floor(duration_s / window_s + 1e-9));

  HealthyResidual out;
  for (uint32_t index = first_healthy; index < sc.runs; ++index) {
    WEFT_ASSIGN_OR_RETURN(ScenarioRun run, ScenarioRun::Make(spec, twin, index));
    const std::string id = "twin-" + std::to_string(index);
    // The dataset's warm-up, then the windows.
    bool alive = true;
    while (alive && run.t() < -1e-9) {
      WEFT_ASSIGN_OR_RETURN(alive, run.Step(std::min(period_s, -run.t())));
    }
    for (size_t w = 0; alive && w < windows; ++w) {
      MonitorWindow mw;
      mw.model = spec.name;
      mw.model_version = "training";
      mw.asset = id;
      mw.sample_period_s = period_s;
      for (const std::string& s : signals) mw.signals[s].reserve(samples);
      for (size_t k = 0; k < samples; ++k) {
        WEFT_ASSIGN_OR_RETURN(alive, run.Step(period_s));
        if (!alive) break;  // a healthy run does not fail; if the twin does, the run ends
        for (const std::string& s : signals) {
          std::optional<double> v = run.twin().Output(s);
          if (!v) v = run.Input(s);
          if (!v) {
            return InvalidArgumentError(where + ": signal '" + s +
                                        "' is neither an output of twin '" + twin.base_model +
                                        "' nor an input the scenario runs drive (load, "
                                        "ambient_temp): training cannot simulate it");
          }
          mw.signals[s].push_back(*v);
        }
      }
      if (!alive) break;
      mw.end = TimeFromUnixMicros(kScenarioEpochUs + std::llround(run.t() * 1e6));
      Result<WindowAssessment> a = monitor->Assess(mw);
      if (!a.ok()) return a.status().WithContext(where);
      for (const CheckResult& r : a->results) {
        if (r.check == "thermal_degradation" && r.statistic == "residual_mean") {
          out.means.push_back(r.value);
        }
      }
    }
    if (out.first_run.empty()) out.first_run = id;
    out.last_run = id;
    ++out.runs;
  }
  out.windows = out.means.size();
  if (out.windows < 2) {
    return InvalidArgumentError(where + ": " + std::to_string(out.windows) +
                                " window means from the healthy runs; lengthen "
                                "scenarios.duration or shorten the window");
  }
  double sum = 0;
  for (double v : out.means) sum += v;
  out.mean = sum / static_cast<double>(out.windows);
  double ss = 0;
  for (double v : out.means) ss += (v - out.mean) * (v - out.mean);
  out.sigma = std::sqrt(ss / static_cast<double>(out.windows - 1));
  if (!(out.sigma > 0) || !std::isfinite(out.mean)) {
    return InvalidArgumentError(where + ": the healthy window means do not vary (sigma " +
                                FormatDouble(out.sigma) +
                                "): the monitor needs healthy_sigma > 0; let the scenarios "
                                "vary what the twin is not told (e.g. ambient_temp)");
  }
  return out;
}

nlohmann::json ThermalResidualCard(const TrainSpec& spec, const ThermalResidualSpec& residual,
                                   const HealthyResidual& healthy) {
  const ThermalResidualMonitoring& section = *spec.monitoring.thermal_residual;
  nlohmann::json inputs = nlohmann::json::array();
  for (const TwinInputMap& m : residual.inputs) {
    nlohmann::json in = {{"input", m.input}};
    if (m.signal.empty()) {
      in["constant"] = m.constant;
    } else {
      in["signal"] = m.signal;
      in["scale"] = m.scale;
      in["offset"] = m.offset;
      if (!Unbounded(m.min)) in["min"] = m.min;
      if (!Unbounded(m.max)) in["max"] = m.max;
    }
    inputs.push_back(std::move(in));
  }
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : residual.twin_params) params[k] = v;
  return {
      {"twin", residual.twin_model},
      {"params", params},
      {"output", residual.output},
      {"measured", residual.measured_signal},
      {"inputs", inputs},
      {"healthy_mean", healthy.mean},
      {"healthy_sigma", healthy.sigma},
      {"k_sigma", residual.k_sigma},
      {"trend_windows", residual.trend_windows},
      {"trend_t_min", residual.trend_t_min},
      {"warmup_s", residual.warmup_s},
      {"healthy",
       {{"runs", healthy.runs},
        {"windows", healthy.windows},
        {"window_s", static_cast<double>(section.window.count()) * 1e-6},
        {"sample_period_s", static_cast<double>(section.sample_period.count()) * 1e-6},
        {"runs_used", healthy.first_run + ".." + healthy.last_run}}},
  };
}

}  // namespace weft::mlops

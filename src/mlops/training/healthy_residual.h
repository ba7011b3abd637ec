// The thermal residual a model card asks the reliability monitor to watch
// (TrainSpec::monitoring.thermal_residual), with its healthy statistics measured, not typed: the
// monitor's own thermal check (mlops/monitoring's ReliabilityMonitor) runs over the spec's
// healthy scenario runs, window by window as `weft model monitor` cuts the lake's telemetry, and
// the window-mean residuals give healthy_mean (their mean) and healthy_sigma (their standard
// deviation).
//
//   WEFT_ASSIGN_OR_RETURN(ScenarioTwin twin, ResolveScenarioTwin(spec, options));
//   WEFT_ASSIGN_OR_RETURN(ThermalResidualSpec residual, ResolveThermalResidual(spec, twin));
//   WEFT_ASSIGN_OR_RETURN(HealthyResidual healthy, MeasureHealthyResidual(spec, twin, residual));
//   card["monitoring"]["thermal_residual"] = ThermalResidualCard(spec, residual, healthy);
//
// The healthy runs are the spec's runs without bearing wear (ScenarioRun indices
// [ScenarioFaultRuns, runs)), drawn exactly as for the dataset: the same twin, `vary` draws,
// load segments and ambient. Each is warmed up like the dataset's runs (kScenarioWarmupS), then
// stepped at the section's sample_period for floor(duration / window) windows; every sample
// carries the measured signal and the input signals, each a twin output or an input the runs
// drive (load, ambient_temp), without sensor drift (healthy sensors). One ReliabilityMonitor
// assesses all windows, one asset per run, so each run's first window starts the monitor's twin
// at the steady state of its mean inputs and leaves out warmup_s, as on a real asset. Inputs the
// section does not map keep the monitor twin's defaults (the motor's ambient_temp: 25 degC): a
// run whose ambient differs shows it as a residual offset, and healthy_sigma includes it.
//
// Thread-safety: reentrant; results are plain values.
#ifndef WEFT_MLOPS_TRAINING_HEALTHY_RESIDUAL_H_
#define WEFT_MLOPS_TRAINING_HEALTHY_RESIDUAL_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "mlops/monitoring/monitor.h"
#include "mlops/training/dataset.h"
#include "mlops/training/train_spec.h"

namespace weft::mlops {

//! The healthy window-mean residual.
struct HealthyResidual {
  double mean = 0;                  //!< healthy_mean (K for a temperature)
  double sigma = 0;                 //!< healthy_sigma: sample standard deviation (n - 1)
  size_t runs = 0;                  //!< healthy runs simulated
  size_t windows = 0;               //!< window means taken
  std::vector<double> means;        //!< every window mean, run by run in time order
  std::string first_run, last_run;  //!< ids ("twin-45") of the runs used
};

//! The spec's thermal_residual with the twin resolved: twin_model = the scenarios' base model,
//! twin_params = the twin's parameters (a registered version's), then scenarios.twin.params,
//! then the section's params. InvalidArgument naming monitoring.thermal_residual.twin when the
//! section names another model. REQUIRES: spec.monitoring.thermal_residual, spec.scenarios.
Result<ThermalResidualSpec> ResolveThermalResidual(const TrainSpec& spec, const ScenarioTwin& twin);

//! Runs the monitor's thermal check over the healthy runs as described above. Errors name the
//! spec file and monitoring.thermal_residual: the monitor's config errors (unknown output or
//! input of the twin), a signal no run produces, no healthy run, fewer than 2 window means, or a
//! healthy_sigma of 0 (the monitor needs > 0). REQUIRES: spec.monitoring.thermal_residual,
//! spec.scenarios; `residual` from ResolveThermalResidual.
Result<HealthyResidual> MeasureHealthyResidual(const TrainSpec& spec, const ScenarioTwin& twin,
                                               const ThermalResidualSpec& residual);

//! The card's monitoring.thermal_residual, in ParseMonitorConfig's form (monitor.h), with
//! healthy_mean and healthy_sigma from `healthy`, and "healthy": {runs, windows, window_s,
//! sample_period_s, runs_used "twin-45..twin-63"} recording how they were measured (the monitor
//! ignores it). REQUIRES: spec.monitoring.thermal_residual.
nlohmann::json ThermalResidualCard(const TrainSpec& spec, const ThermalResidualSpec& residual,
                                   const HealthyResidual& healthy);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TRAINING_HEALTHY_RESIDUAL_H_

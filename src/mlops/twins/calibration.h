// Calibration: least-squares fit of selected twin parameters to measured outputs.
//
//   CalibrationSeries s;                     // one sample per bucket, dt_s apart
//   s.dt_s = 60; s.ts_us = {...};
//   s.inputs["load"] = {...}; s.inputs["ambient_temp"] = {...};
//   s.outputs["winding_temp"] = {...};       // bucket means, NaN where nothing was measured
//   CalibrationOptions o{.fit = {"thermal_resistance", "thermal_capacitance"}};
//   WEFT_ASSIGN_OR_RETURN(CalibrationResult r, Calibrate("motor", params, s, o));
//   r.fitted["thermal_resistance"], r.rmse_after["winding_temp"], r.converged ...
//
// Method: Levenberg-Marquardt (Marquardt's diagonal scaling) on the residuals measured − twin.
// The twin (noise parameters, those named *_noise, set to 0; a fixed-seed Rng) is driven through
// the series step by step: before sample k's step its inputs are set from sample k (held over the
// step; NaN holds the previous value), and since a sample is a bucket mean over [t_k, t_k + dt),
// the twin's value for sample k is the mean of its outputs at the start and end of that step
// (trapezoid), which keeps the bucket's half-width from reading as a lag. Parameters that start
// positive are optimised as log(p) (scale-free, stays positive), others as p directly. The
// Jacobian is by forward differences. A trial point the twin refuses (MakeTwin validates the
// model's bounds) or an input it refuses counts as a failed step (λ grows). Standard errors are
// from σ²·(JᵀJ)⁻¹ at the optimum, σ² = SSR / (m − n), mapped back through the log scaling.
//
// Thread-safety: free functions over values; safe to call from several threads.
#ifndef WEFT_MLOPS_TWINS_CALIBRATION_H_
#define WEFT_MLOPS_TWINS_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::mlops {

struct CalibrationSeries {
  double dt_s = 0;             //!< sample spacing (s), > 0
  std::vector<int64_t> ts_us;  //!< sample (bucket start) times, µs since the epoch
  //! Twin input -> value per sample (already mapped from signals); NaN holds the previous value
  //! (the twin's own default before the first).
  std::map<std::string, std::vector<double>> inputs;
  //! Twin output -> measured value per sample; NaN where nothing was measured.
  std::map<std::string, std::vector<double>> outputs;
  //! Seconds the twin runs with the first sample's inputs before the first sample (to reach the
  //! operating state the data starts in); 0: the twin's initial state.
  double warmup_s = 0;

  size_t size() const { return ts_us.size(); }
};

struct CalibrationOptions {
  std::vector<std::string> fit;  //!< parameter names to fit (at least one)
  int max_iterations = 100;
  //! Converged when a step changes no scaled parameter by more than this, or the relative cost
  //! reduction of an accepted step is below cost_tolerance.
  double step_tolerance = 1e-7;
  double cost_tolerance = 1e-12;
  double initial_lambda = 1e-3;
  uint64_t seed = 1;  //!< the Rng of the (noise-free) runs
};

struct CalibrationResult {
  std::map<std::string, double> initial;      //!< fitted parameters' starting values
  std::map<std::string, double> fitted;       //!< fitted parameters' values
  std::map<std::string, double> std_errors;   //!< standard error of each fitted parameter
  std::map<std::string, double> parameters;   //!< every parameter after the fit
  std::map<std::string, double> rmse_before;  //!< per output, at the initial parameters
  std::map<std::string, double> rmse_after;   //!< per output, at the fitted parameters
  std::map<std::string, double> r2;           //!< per output, at the fitted parameters
  std::map<std::string, int64_t> samples;     //!< measured samples per output
  int iterations = 0;
  bool converged = false;
  std::string reason;  //!< why it stopped (also when converged)
};

//! Fits `options.fit` of twin model `model`, starting from `parameters` (every parameter or
//! overrides). InvalidArgument for an unknown parameter, input or output, an empty series or a
//! start the twin refuses; FailedPrecondition when an output has no measured sample or there
//! are fewer measurements than fitted parameters.
Result<CalibrationResult> Calibrate(std::string_view model,
                                    const std::map<std::string, double>& parameters,
                                    const CalibrationSeries& series,
                                    const CalibrationOptions& options);

//! RMSE per output of a noise-free run of the twin over the series (as Calibrate measures it).
Result<std::map<std::string, double>> SeriesRmse(std::string_view model,
                                                 const std::map<std::string, double>& parameters,
                                                 const CalibrationSeries& series);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TWINS_CALIBRATION_H_

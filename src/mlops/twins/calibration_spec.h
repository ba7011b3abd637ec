// Calibration specs: which twin version to fit, to which asset's telemetry from the lake, how the
// twin's inputs come from signals, which outputs are compared and which parameters are fitted.
//
//   Diagnostics diags;
//   WEFT_ASSIGN_OR_RETURN(CalibrationSpec spec, LoadCalibrationSpec("motor_thermal.yaml", &diags));
//   WEFT_ASSIGN_OR_RETURN(CalibrationRun run,
//                         CalibrateFromSpec(spec, *registry, clock, "alice"));
//   run.registered.version;   // "1.1.0", with fit metrics and lineage (Delta version, ...)
//
// The spec (YAML):
//   twin: motor              # registry name
//   model: motor             # optional base model; default: the registry's, else `twin`
//   from_version: 1.0.0
//   asset: l1-mo-01
//   telemetry: /path/to/lake/telemetry   # Delta table with ts, asset, signal, value, quality
//   version: 12              # optional Delta version (time travel); default: latest
//   from: 2026-01-01T00:00:00Z
//   to: 2026-01-02T00:00:00Z
//   resample: 60s            # mean per bucket [from + k·resample, from + (k+1)·resample)
//   warmup: 0s               # optional: run the twin this long on the first inputs first
//   inputs:                  # twin input <- signal·scale + offset, clamped to [min, max],
//     load: {signal: current, scale: 0.0555556, offset: -0.555556, min: 0, max: 1.2}
//     ambient_temp: {value: 25}                  # or a constant
//     running: {signal: running, round: true}    # round: nearest integer (flags)
//   outputs: [winding_temp]  # twin outputs, each compared with the signal of the same name
//   fit: [thermal_resistance, thermal_capacitance]
//   max_iterations: 100      # optional
//
// Only good rows (quality 0, value not null) count. Every problem in the file is reported in
// Diagnostics with file:line:column and field path; names that depend on the twin (inputs,
// outputs, fit) are checked by CalibrateFromSpec, which reports them the same way.
//
// Thread-safety: free functions; CalibrateFromSpec is as thread-safe as the registry.
#ifndef WEFT_MLOPS_TWINS_CALIBRATION_SPEC_H_
#define WEFT_MLOPS_TWINS_CALIBRATION_SPEC_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "mlops/twins/calibration.h"
#include "mlops/twins/twin_registry.h"

namespace weft::mlops {

struct InputBinding {
  std::string input;               //!< twin input name
  std::string signal;              //!< "" for a constant
  double scale = 1, offset = 0;    //!< input = signal·scale + offset
  std::optional<double> value;     //!< the constant
  std::optional<double> min, max;  //!< clamp after mapping
  bool round = false;              //!< round to the nearest integer after clamping
  SourceLocation loc;              //!< of the input's key, for messages
  std::string path;                //!< "inputs.load"
};

struct NamedAt {
  std::string name;
  SourceLocation loc;
  std::string path;  //!< "fit[1]"
};

struct CalibrationSpec {
  std::string file;
  std::string twin;
  std::string model;  //!< "" : from the registry, else `twin`
  SourceLocation twin_loc;
  std::string from_version;
  std::string asset;
  std::string telemetry;
  std::optional<int64_t> version;
  int64_t from_us = 0, to_us = 0;
  Micros resample{0};
  Micros warmup{0};
  std::vector<InputBinding> inputs;
  std::vector<NamedAt> outputs;
  std::vector<NamedAt> fit;
  int max_iterations = 100;
};

//! Parses a spec; nullopt-equivalent (InvalidArgument naming the file and first error) with every
//! problem in `diags`.
Result<CalibrationSpec> ParseCalibrationSpec(std::string_view text, const std::string& file,
                                             Diagnostics* diags);
//! Reads and parses a spec file (FailedPrecondition when it cannot be read).
Result<CalibrationSpec> LoadCalibrationSpec(const std::string& path, Diagnostics* diags);

//! What LoadSeries read.
struct SeriesSource {
  int64_t delta_version = -1;  //!< the table version read
  int64_t rows = 0;            //!< good rows used
  nlohmann::json ToLineage(const CalibrationSpec& spec) const;
};

//! Reads the spec's asset and time range from the telemetry table (at `spec.version` when set)
//! and resamples it onto the spec's grid, inputs mapped. FailedPrecondition when a signal the
//! spec needs has no good row.
Result<CalibrationSeries> LoadSeries(const CalibrationSpec& spec, const Clock& clock,
                                     SeriesSource* source);

struct CalibrationRun {
  CalibrationResult result;
  TwinVersion parent;
  TwinVersion registered;
  SeriesSource source;
};

//! Checks the spec against the twin (unknown input, output or parameter: InvalidArgument with
//! file:line:col and field), loads the series, fits from `from_version` and registers the next
//! version with its fit metrics and lineage. A built-in model's base version is registered on
//! first use.
Result<CalibrationRun> CalibrateFromSpec(const CalibrationSpec& spec, TwinRegistry& registry,
                                         const Clock& clock, std::string_view actor);

//! The fit metrics a calibration records: rmse_before, rmse_after, r2, samples, std_errors,
//! initial, fitted, iterations, converged, reason.
nlohmann::json FitMetricsJson(const CalibrationResult& r);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TWINS_CALIBRATION_SPEC_H_

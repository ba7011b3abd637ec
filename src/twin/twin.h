// Digital twins: versioned physical models of plant equipment, advanced in simulated time.
//
//   Rng rng(42);
//   std::unique_ptr<Twin> motor = MakeTwin("motor", {}).value();
//   motor->SetInput("load", 0.8);
//   for (int i = 0; i < 3600; ++i) motor->Step(1.0, rng);
//   double t = *motor->Output("winding_temp");
//
// Each twin is a versioned model (TwinInfo: name, semantic version, parameters with units); its
// equations are documented in its header. Outputs are named after the signals of the built-in
// asset types in src/model/builtin_asset_types.cc (motor: winding_temp, vibration_rms, ...), so
// a simulator maps twin outputs to plant signals by name. Twins are deterministic: the same
// parameters, inputs, step sizes and Rng seed give the same outputs, bit for bit.
//
// Thread-safety: a Twin is not thread-safe; one thread steps it. Rng likewise.
#ifndef WEFT_TWIN_TWIN_H_
#define WEFT_TWIN_TWIN_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::twin {

//! Deterministic pseudo-random numbers (mt19937_64) for noise and random events.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform(double lo, double hi);
  double Normal(double mean, double stddev);
  //! Exponentially distributed waiting time with the given mean (> 0).
  double Exponential(double mean);
  bool Bernoulli(double p);

 private:
  //! Uniform on [0, 1) from the top 53 bits of one engine draw.
  double Unit();

  // The transformations are written here, not taken from <random>'s distributions, whose
  // algorithms differ between standard libraries: a seed gives the same numbers everywhere.
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;  //!< Box-Muller makes two normals; the second waits here
  double spare_normal_ = 0;
};

struct Parameter {
  std::string name;
  double value = 0;
  std::string unit;  //!< unit symbol as in src/model/units.h, "1" if dimensionless
  std::string description;
};

struct TwinInfo {
  std::string name;     //!< e.g. "motor"
  std::string version;  //!< semantic version, e.g. "1.0.0"
  std::vector<Parameter> parameters;
};

//! Faults a twin can carry (sensor and communication faults are applied by the simulator).
enum class FaultKind {
  kBearingWear,  //!< motor, pump: bearing degradation grows until failure
  kCoolingLoss,  //!< motor: thermal resistance to ambient rises (blocked fan, dirty fins)
  kCavitation,   //!< pump: suction pressure below NPSH required: head drops, vibration rises
  kImpellerWear, //!< pump: head and efficiency fall
};
std::string_view FaultKindName(FaultKind k);
Result<FaultKind> ParseFaultKind(std::string_view name);

class Twin {
 public:
  virtual ~Twin() = default;

  virtual const TwinInfo& info() const = 0;

  //! Advances simulated time by dt_s seconds (REQUIRES: dt_s > 0).
  virtual void Step(double dt_s, Rng& rng) = 0;

  //! The current value of an output; nullopt when this twin has no such output.
  virtual std::optional<double> Output(std::string_view name) const = 0;
  virtual std::vector<std::string> OutputNames() const = 0;

  //! Inputs and setpoints (e.g. motor "load" 0..1.2, "running" 0/1; HVAC "setpoint" in degC).
  //! InvalidArgument for an unknown input; OutOfRange when outside the twin's limits (the value
  //! is then not applied).
  virtual Status SetInput(std::string_view name, double value) = 0;
  virtual std::vector<std::string> InputNames() const = 0;

  //! Starts a fault with severity in (0, 1] (how fast it develops / how strong it is).
  //! Unimplemented when the twin has no such fault mode.
  virtual Status InjectFault(FaultKind kind, double severity) = 0;
  virtual void ClearFaults() = 0;

  //! True once a degradation fault has run the equipment to failure; a failed twin stops
  //! (running 0) until Repair().
  virtual bool failed() const = 0;
  virtual void Repair() = 0;
};

//! Creates a twin of a built-in model: "motor", "pump", "compressor", "conveyor", "hvac_zone".
//! `overrides` replaces named parameters (InvalidArgument for an unknown name).
Result<std::unique_ptr<Twin>> MakeTwin(std::string_view model,
                                       const std::map<std::string, double>& overrides);
//! Names accepted by MakeTwin.
std::vector<std::string> TwinModels();

}  // namespace weft::twin

#endif  // WEFT_TWIN_TWIN_H_

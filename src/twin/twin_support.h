// Building blocks shared by the twin models: parameter tables, input checks, exact first-order
// relaxation, bearing wear and output lookup. Internal to src/twin (namespace twin::internal).
//
//   struct Params { double r_th = 0.09; };
//   constexpr std::array<ParamSpec<Params>, 1> kSpecs = {{
//       {"thermal_resistance", &Params::r_th, "K/W", 1e-6, 10, "winding to ambient"}}};
//   Params p;
//   WEFT_RETURN_IF_ERROR(ApplyOverrides("motor", kSpecs, overrides, p));
//   TwinInfo info = MakeInfo("motor", "1.0.0", kSpecs, p);
//   t = RelaxFirstOrder(t, t_ss, dt, tau);   // t_ss + (t - t_ss)·exp(-dt/tau)
//
// Thread-safety: free functions are thread-safe; BearingWear is a value owned by one twin.
#ifndef WEFT_TWIN_TWIN_SUPPORT_H_
#define WEFT_TWIN_TWIN_SUPPORT_H_

#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "twin/twin.h"

namespace weft::twin::internal {

//! One tunable parameter of a model: where it lives in the model's Params struct, its unit and
//! the closed interval of values the model accepts.
template <typename P>
struct ParamSpec {
  std::string_view name;
  double P::*field;
  std::string_view unit;
  double min;
  double max;
  std::string_view description;
};

//! InvalidArgument naming `what` unless `value` is finite and within [lo, hi].
Status CheckParamValue(std::string_view model, std::string_view name, double value, double lo,
                       double hi);
//! InvalidArgument "unknown parameter 'x' of model 'm'; did you mean 'y'? (known: ...)".
Status UnknownParamError(std::string_view model, std::string_view name,
                         const std::vector<std::string>& known);

//! Every parameter of `params` is finite and within its spec's interval.
template <typename P, size_t N>
Status ValidateParams(std::string_view model, const std::array<ParamSpec<P>, N>& specs,
                      const P& params) {
  for (const ParamSpec<P>& s : specs) {
    WEFT_RETURN_IF_ERROR(CheckParamValue(model, s.name, params.*s.field, s.min, s.max));
  }
  return Status::Ok();
}

//! Writes each override into `params`; InvalidArgument for a name no spec has (nothing is
//! written then). Values are checked by ValidateParams, not here.
template <typename P, size_t N>
Status ApplyOverrides(std::string_view model, const std::array<ParamSpec<P>, N>& specs,
                      const std::map<std::string, double>& overrides, P& params) {
  P updated = params;
  for (const auto& [name, value] : overrides) {
    const ParamSpec<P>* spec = nullptr;
    for (const ParamSpec<P>& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      std::vector<std::string> known;
      known.reserve(N);
      for (const ParamSpec<P>& s : specs) known.emplace_back(s.name);
      return UnknownParamError(model, name, known);
    }
    updated.*(spec->field) = value;
  }
  params = updated;
  return Status::Ok();
}

//! The TwinInfo of a model with the given parameter values, in spec order.
template <typename P, size_t N>
TwinInfo MakeInfo(std::string_view model, std::string_view version,
                  const std::array<ParamSpec<P>, N>& specs, const P& params) {
  TwinInfo info;
  info.name = std::string(model);
  info.version = std::string(version);
  info.parameters.reserve(N);
  for (const ParamSpec<P>& s : specs) {
    info.parameters.push_back(Parameter{std::string(s.name), params.*s.field, std::string(s.unit),
                                        std::string(s.description)});
  }
  return info;
}

//! OutOfRange "<model> input '<name>' = v is outside [lo, hi]" unless lo <= value <= hi
//! (NaN is outside).
Status CheckInputRange(std::string_view model, std::string_view name, double value, double lo,
                       double hi);
//! OutOfRange unless value is exactly 0 or 1.
Status CheckInputFlag(std::string_view model, std::string_view name, double value);
//! InvalidArgument "<model> has no input 'x'; did you mean ...? (inputs: ...)".
Status UnknownInputError(std::string_view model, std::string_view name,
                         const std::vector<std::string>& known);
//! OutOfRange unless 0 < severity <= 1.
Status CheckSeverity(std::string_view model, FaultKind kind, double severity);
//! Unimplemented "<model> has no fault mode 'x' (it has: ...)".
Status NoSuchFaultError(std::string_view model, FaultKind kind, std::string_view available);

//! The exact solution after dt of dx/dt = (x_ss - x)/tau with x_ss constant:
//! x_ss + (x - x_ss)·exp(-dt/tau). REQUIRES: tau > 0.
inline double RelaxFirstOrder(double x, double x_ss, double dt, double tau) {
  return x_ss + (x - x_ss) * std::exp(-dt / tau);
}

//! Progressive bearing damage w (0 new, 1 failed) that grows, once started by a fault with
//! severity s, as dw/dt = r·s·(1 + a·w): slow at first, then faster as damage feeds itself.
//! From w = 0 the solution is w(t) = (exp(a·r·s·t) - 1)/a, reaching 1 after
//!   t_fail = ln(1 + a)/(a·r·s)          (t_fail = 1/(r·s) when a = 0).
//! Advance integrates this exactly for any dt, so step size does not change the failure time.
class BearingWear {
 public:
  //! r: wear rate (1/s), a: self-acceleration (1). REQUIRES: r > 0, a >= 0.
  BearingWear(double rate_per_s, double acceleration)
      : rate_(rate_per_s), acceleration_(acceleration) {}

  //! Starts (or changes the severity of) wear growth; the damage so far is kept.
  void Start(double severity) { severity_ = severity; }
  //! Stops further growth; the damage so far remains until Reset.
  void Stop() { severity_ = 0; }
  //! A new bearing: no damage, no growth.
  void Reset() {
    severity_ = 0;
    wear_ = 0;
  }
  //! Grows the damage over dt seconds of operation; returns true when it has reached 1
  //! (then wear() == 1).
  bool Advance(double dt_s);

  double wear() const { return wear_; }
  bool growing() const { return severity_ > 0; }
  double severity() const { return severity_; }
  //! Seconds of operation from w = 0 to w = 1 at this severity (REQUIRES: severity > 0).
  double TimeToFailure(double severity) const;

 private:
  double rate_;
  double acceleration_;
  double severity_ = 0;
  double wear_ = 0;
};

//! The value of the output called `name`, found by a linear scan of `names` (no allocation).
template <size_t N>
std::optional<double> LookupOutput(const std::array<std::string_view, N>& names,
                                   const std::array<double, N>& values, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return values[i];
  }
  return std::nullopt;
}

template <size_t N>
std::vector<std::string> NameList(const std::array<std::string_view, N>& names) {
  return std::vector<std::string>(names.begin(), names.end());
}

// Physical constants used by several models.
inline constexpr double kStandardGravity = 9.80665;  // m/s²
inline constexpr double kSecondsPerHour = 3600.0;
inline constexpr double kZeroCelsius = 273.15;  // K

}  // namespace weft::twin::internal

#endif  // WEFT_TWIN_TWIN_SUPPORT_H_

#include "twin/motor_twin.h"

#include <algorithm>
#include <cmath>

namespace weft::twin {
namespace {

using internal::ParamSpec;
using P = MotorTwin::Params;

constexpr std::array<ParamSpec<P>, 24> kSpecs = {{
    {"rated_power", &P::rated_power_kw, "kW", 0.01, 1e5, "mechanical output at load 1"},
    {"rated_voltage", &P::rated_voltage_v, "V", 1, 1e5, "line-to-line supply voltage"},
    {"rated_current", &P::rated_current_a, "A", 1e-3, 1e5, "line current at load 1"},
    {"no_load_current", &P::no_load_current_a, "A", 0, 1e5, "line current running unloaded"},
    {"sync_speed", &P::sync_speed_rpm, "rpm", 1, 1e5, "synchronous speed"},
    {"rated_slip", &P::rated_slip, "1", 0, 0.5, "slip at load 1"},
    {"stator_resistance", &P::stator_resistance_ohm, "V/A", 0, 1e3,
     "stator resistance per phase (ohm)"},
    {"iron_loss", &P::iron_loss_w, "W", 0, 1e7, "core losses while running"},
    {"mech_efficiency", &P::mech_efficiency, "1", 0.05, 1,
     "efficiency excluding stator copper and iron losses (rotor, windage, stray)"},
    {"thermal_resistance", &P::thermal_resistance, "K/W", 1e-7, 1e3,
     "winding to ambient thermal resistance R_th"},
    {"thermal_capacitance", &P::thermal_capacitance, "J/K", 1e-3, 1e12,
     "winding node heat capacity C_th"},
    {"cooling_loss_gain", &P::cooling_loss_gain, "1", 0, 100,
     "R_th rises by the factor 1 + gain·severity under kCoolingLoss"},
    {"bearing_friction", &P::bearing_friction_w, "W", 0, 1e6,
     "drive-end bearing friction loss when new, running"},
    {"nde_friction_ratio", &P::nde_friction_ratio, "1", 0, 10,
     "non-drive-end over drive-end bearing friction"},
    {"bearing_wear_friction_gain", &P::bearing_wear_friction_gain, "1", 0, 100,
     "friction rises by 1 + gain·wear²"},
    {"bearing_thermal_resistance", &P::bearing_thermal_resistance, "K/W", 1e-7, 1e3,
     "bearing housing to ambient thermal resistance R_b"},
    {"bearing_thermal_capacitance", &P::bearing_thermal_capacitance, "J/K", 1e-3, 1e12,
     "bearing housing heat capacity C_b"},
    {"bearing_winding_coupling", &P::bearing_winding_coupling, "1", 0, 1,
     "share of the winding's rise over ambient that reaches the bearings"},
    {"vibration_baseline", &P::vibration_baseline, "mm/s", 0, 50, "healthy running vibration"},
    {"vibration_wear_gain", &P::vibration_wear_gain, "1", 0, 1000,
     "vibration rises by 1 + gain·wear²"},
    {"vibration_noise", &P::vibration_noise, "mm/s", 0, 50, "standard deviation of noise"},
    {"voltage_noise", &P::voltage_noise, "V", 0, 1e3, "standard deviation of supply voltage"},
    {"wear_rate", &P::wear_rate, "1/s", 1e-15, 1, "bearing wear rate r at severity 1"},
    {"wear_acceleration", &P::wear_acceleration, "1", 0, 100,
     "wear self-acceleration a: dw/dt = r·s·(1 + a·w)"},
}};

enum Out : size_t {
  kWindingTemp,
  kBearingTempDe,
  kBearingTempNde,
  kVibrationRms,
  kCurrent,
  kVoltage,
  kPower,
  kEnergy,
  kSpeed,
  kRunning,
};
constexpr std::array<std::string_view, MotorTwin::kNumOutputs> kOutputNames = {
    "winding_temp", "bearing_temp_de", "bearing_temp_nde", "vibration_rms", "current",
    "voltage",      "power",           "energy",           "speed",         "running"};
constexpr std::array<std::string_view, 3> kInputNames = {"load", "running", "ambient_temp"};

}  // namespace

Status MotorTwin::Validate(const Params& params) {
  WEFT_RETURN_IF_ERROR(internal::ValidateParams(kModelName, kSpecs, params));
  if (params.no_load_current_a >= params.rated_current_a) {
    return InvalidArgumentError(
        "parameter 'no_load_current' of model 'motor' must be below "
        "'rated_current'");
  }
  return Status::Ok();
}

Result<std::unique_ptr<MotorTwin>> MotorTwin::Create(const Params& params) {
  WEFT_RETURN_IF_ERROR(Validate(params));
  return std::unique_ptr<MotorTwin>(new MotorTwin(params));
}

Result<std::unique_ptr<MotorTwin>> MotorTwin::Create(
    const std::map<std::string, double>& overrides) {
  Params params;
  WEFT_RETURN_IF_ERROR(internal::ApplyOverrides(kModelName, kSpecs, overrides, params));
  return Create(params);
}

MotorTwin::MotorTwin(const Params& params)
    : params_(params),
      info_(internal::MakeInfo(kModelName, kVersion, kSpecs, params)),
      wear_(params.wear_rate, params.wear_acceleration),
      winding_c_(ambient_c_),
      bearing_de_c_(ambient_c_),
      bearing_nde_c_(ambient_c_) {
  outputs_[kWindingTemp] = winding_c_;
  outputs_[kBearingTempDe] = bearing_de_c_;
  outputs_[kBearingTempNde] = bearing_nde_c_;
  outputs_[kVoltage] = params_.rated_voltage_v;
}

double MotorTwin::EffectiveThermalResistance() const {
  return params_.thermal_resistance * (1 + params_.cooling_loss_gain * cooling_loss_severity_);
}

double MotorTwin::WindingTimeConstant() const {
  return EffectiveThermalResistance() * params_.thermal_capacitance;
}

void MotorTwin::Step(double dt_s, Rng& rng) {
  const Params& p = params_;
  // The bearing wears while the shaft turns; a seizure stops the motor for the whole step.
  if (run_command_ && !failed_ && wear_.Advance(dt_s)) failed_ = true;
  const bool running = run_command_ && !failed_;
  const double load = running ? load_ : 0.0;
  const double w2 = wear_.wear() * wear_.wear();

  const double current_a =
      running ? p.no_load_current_a + (p.rated_current_a - p.no_load_current_a) * load : 0.0;
  const double copper_w = 3 * p.stator_resistance_ohm * current_a * current_a;
  const double iron_w = running ? p.iron_loss_w : 0.0;

  const double r_th = EffectiveThermalResistance();
  const double winding_start_c = winding_c_;
  winding_c_ = internal::RelaxFirstOrder(winding_c_, ambient_c_ + (copper_w + iron_w) * r_th, dt_s,
                                         r_th * p.thermal_capacitance);

  const double friction_de_w =
      running ? p.bearing_friction_w * (1 + p.bearing_wear_friction_gain * w2) : 0.0;
  const double friction_nde_w = running ? p.bearing_friction_w * p.nde_friction_ratio : 0.0;
  const double conducted_k = p.bearing_winding_coupling * (winding_start_c - ambient_c_);
  const double r_b = p.bearing_thermal_resistance;
  const double tau_b = r_b * p.bearing_thermal_capacitance;
  bearing_de_c_ = internal::RelaxFirstOrder(
      bearing_de_c_, ambient_c_ + r_b * friction_de_w + conducted_k, dt_s, tau_b);
  bearing_nde_c_ = internal::RelaxFirstOrder(
      bearing_nde_c_, ambient_c_ + r_b * friction_nde_w + conducted_k, dt_s, tau_b);

  const double speed_rpm = running ? p.sync_speed_rpm * (1 - p.rated_slip * load) : 0.0;
  const double mech_kw = p.rated_power_kw * load * (1 - p.rated_slip * load) / (1 - p.rated_slip);
  const double extra_friction_w = friction_de_w - (running ? p.bearing_friction_w : 0.0);
  const double power_kw =
      running ? mech_kw / p.mech_efficiency + (copper_w + iron_w + extra_friction_w) / 1000 : 0.0;
  energy_kwh_ += power_kw * dt_s / internal::kSecondsPerHour;

  const double vibration = running ? p.vibration_baseline * (1 + p.vibration_wear_gain * w2) : 0.0;
  // Draw both noises every step, running or not, so the random stream does not depend on state.
  const double vibration_noise = rng.Normal(0, p.vibration_noise);
  const double voltage_noise = rng.Normal(0, p.voltage_noise);

  outputs_[kWindingTemp] = winding_c_;
  outputs_[kBearingTempDe] = bearing_de_c_;
  outputs_[kBearingTempNde] = bearing_nde_c_;
  outputs_[kVibrationRms] = std::max(0.0, vibration + vibration_noise);
  outputs_[kCurrent] = current_a;
  outputs_[kVoltage] = p.rated_voltage_v + voltage_noise;
  outputs_[kPower] = power_kw;
  outputs_[kEnergy] = energy_kwh_;
  outputs_[kSpeed] = speed_rpm;
  outputs_[kRunning] = running ? 1.0 : 0.0;
}

std::optional<double> MotorTwin::Output(std::string_view name) const {
  return internal::LookupOutput(kOutputNames, outputs_, name);
}

std::vector<std::string> MotorTwin::OutputNames() const {
  return internal::NameList(kOutputNames);
}

std::vector<std::string> MotorTwin::InputNames() const {
  return internal::NameList(kInputNames);
}

Status MotorTwin::SetInput(std::string_view name, double value) {
  if (name == "load") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0, 1.2));
    load_ = value;
  } else if (name == "running") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    run_command_ = value == 1;
  } else if (name == "ambient_temp") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, -40, 60));
    ambient_c_ = value;
  } else {
    return internal::UnknownInputError(kModelName, name, InputNames());
  }
  return Status::Ok();
}

Status MotorTwin::InjectFault(FaultKind kind, double severity) {
  switch (kind) {
    case FaultKind::kBearingWear:
      WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
      wear_.Start(severity);
      return Status::Ok();
    case FaultKind::kCoolingLoss:
      WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
      cooling_loss_severity_ = severity;
      return Status::Ok();
    case FaultKind::kCavitation:
    case FaultKind::kImpellerWear: break;
  }
  return internal::NoSuchFaultError(kModelName, kind, "bearing_wear, cooling_loss");
}

void MotorTwin::ClearFaults() {
  wear_.Stop();
  cooling_loss_severity_ = 0;
}

void MotorTwin::Repair() {
  wear_.Reset();
  cooling_loss_severity_ = 0;
  failed_ = false;
}

}  // namespace weft::twin

#include "twin/pump_twin.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace weft::twin {
namespace {

using internal::ParamSpec;
using P = PumpTwin::Params;

constexpr std::array<ParamSpec<P>, 34> kSpecs = {{
    {"ref_speed", &P::ref_speed_rpm, "rpm", 1, 1e5, "speed n0 of the published pump curve"},
    {"max_speed", &P::max_speed_rpm, "rpm", 1, 1e5, "highest speed setpoint"},
    {"shutoff_head", &P::shutoff_head_m, "m", 0.01, 1e4, "head H0 at zero flow and n0"},
    {"pump_curve_coefficient", &P::pump_curve_coefficient, "h2/m5", 1e-12, 1e6,
     "k in H = H0·r² - k·Q², m per (m3/h)²"},
    {"static_head", &P::static_head_m, "m", 0, 1e4, "static lift H_static of the system"},
    {"system_coefficient", &P::system_coefficient, "h2/m5", 0, 1e6,
     "k_sys in H = H_static + k_sys·valve·Q², m per (m3/h)², at valve 1"},
    {"bep_flow", &P::bep_flow_m3h, "m3/h", 1e-3, 1e6, "flow at the best efficiency point, n0"},
    {"bep_efficiency", &P::bep_efficiency, "1", 0.01, 1, "hydraulic efficiency at the BEP"},
    {"motor_efficiency", &P::motor_efficiency, "1", 0.05, 1, "motor and drive efficiency"},
    {"rated_voltage", &P::rated_voltage_v, "V", 1, 1e5, "supply voltage, line to line"},
    {"magnetizing_current", &P::magnetizing_current_a, "A", 0, 1e5,
     "reactive current while running"},
    {"density", &P::density, "kg/m3", 1, 2e4, "density of the pumped liquid"},
    {"fluid_heat_capacity", &P::fluid_heat_capacity, "J/(kg*K)", 1, 1e5,
     "specific heat of the pumped liquid"},
    {"fluid_inlet_temp", &P::fluid_inlet_temp_c, "degC", -20, 150, "liquid temperature at inlet"},
    {"ambient_temp", &P::ambient_temp_c, "degC", -40, 60, "air around the pump"},
    {"suction_static_pressure", &P::suction_static_pressure_bar, "bar", -1, 40,
     "suction pressure at zero flow (gauge)"},
    {"suction_loss_coefficient", &P::suction_loss_coefficient, "bar*h2/m6", 0, 1,
     "suction line loss k_s: p_s = p_s0 - k_s·Q²"},
    {"casing_heat_capacity", &P::casing_heat_capacity, "J/K", 1e-3, 1e12,
     "casing with its fluid, C_c"},
    {"casing_heat_loss", &P::casing_heat_loss, "W/K", 1e-6, 1e6, "casing to ambient, G_c"},
    {"bearing_friction", &P::bearing_friction_w, "W", 0, 1e6, "bearing friction at n0, new"},
    {"bearing_wear_friction_gain", &P::bearing_wear_friction_gain, "1", 0, 100,
     "friction rises by 1 + gain·wear²"},
    {"bearing_thermal_resistance", &P::bearing_thermal_resistance, "K/W", 1e-7, 1e3,
     "bearing housing to ambient, R_b"},
    {"bearing_thermal_capacitance", &P::bearing_thermal_capacitance, "J/K", 1e-3, 1e12,
     "bearing housing heat capacity, C_b"},
    {"bearing_fluid_coupling", &P::bearing_fluid_coupling, "1", 0, 1,
     "share of the fluid's difference to ambient that reaches the bearing"},
    {"vibration_baseline", &P::vibration_baseline, "mm/s", 0, 50, "healthy vibration at n0"},
    {"vibration_wear_gain", &P::vibration_wear_gain, "1", 0, 1000,
     "vibration rises by 1 + gain·wear²"},
    {"vibration_noise", &P::vibration_noise, "mm/s", 0, 50, "standard deviation of noise"},
    {"wear_rate", &P::wear_rate, "1/s", 1e-15, 1, "bearing wear rate at severity 1"},
    {"wear_acceleration", &P::wear_acceleration, "1", 0, 100,
     "wear self-acceleration a: dw/dt = r·s·(1 + a·w)"},
    {"cavitation_head_drop", &P::cavitation_head_drop, "1", 0, 0.95,
     "fraction of head lost to cavitation at severity 1"},
    {"cavitation_vibration", &P::cavitation_vibration, "mm/s", 0, 50,
     "vibration added by cavitation at severity 1 and n0"},
    {"cavitation_suction_drop", &P::cavitation_suction_drop, "bar", 0, 40,
     "suction pressure lost to the restriction at severity 1"},
    {"impeller_wear_head_drop", &P::impeller_wear_head_drop, "1", 0, 0.95,
     "fraction of H0 lost at impeller wear severity 1"},
    {"impeller_wear_efficiency_drop", &P::impeller_wear_efficiency_drop, "1", 0, 0.95,
     "fraction of efficiency lost at impeller wear severity 1"},
}};

enum Out : size_t {
  kFlow,
  kSuctionPressure,
  kDischargePressure,
  kMotorCurrent,
  kPower,
  kEnergy,
  kSpeed,
  kVibrationRms,
  kBearingTemp,
  kFluidTemp,
  kRunning,
};
constexpr std::array<std::string_view, PumpTwin::kNumOutputs> kOutputNames = {
    "flow",  "suction_pressure", "discharge_pressure", "motor_current", "power",  "energy",
    "speed", "vibration_rms",    "bearing_temp",       "fluid_temp",    "running"};
constexpr std::array<std::string_view, 3> kInputNames = {"speed", "running", "valve"};

constexpr double kPascalPerBar = 1e5;
constexpr double kMinEfficiencyFactor = 0.2;  // floor of (2 - x) right of the BEP

}  // namespace

Status PumpTwin::Validate(const Params& params) {
  return internal::ValidateParams(kModelName, kSpecs, params);
}

Result<std::unique_ptr<PumpTwin>> PumpTwin::Create(const Params& params) {
  WEFT_RETURN_IF_ERROR(Validate(params));
  return std::unique_ptr<PumpTwin>(new PumpTwin(params));
}

Result<std::unique_ptr<PumpTwin>> PumpTwin::Create(const std::map<std::string, double>& overrides) {
  Params params;
  WEFT_RETURN_IF_ERROR(internal::ApplyOverrides(kModelName, kSpecs, overrides, params));
  return Create(params);
}

PumpTwin::PumpTwin(const Params& params)
    : params_(params),
      info_(internal::MakeInfo(kModelName, kVersion, kSpecs, params)),
      wear_(params.wear_rate, params.wear_acceleration),
      speed_setpoint_rpm_(std::min(params.ref_speed_rpm, params.max_speed_rpm)),
      fluid_c_(params.fluid_inlet_temp_c),
      bearing_c_(params.ambient_temp_c) {
  outputs_[kSuctionPressure] = params_.suction_static_pressure_bar;
  outputs_[kDischargePressure] = params_.suction_static_pressure_bar;
  outputs_[kBearingTemp] = bearing_c_;
  outputs_[kFluidTemp] = fluid_c_;
}

void PumpTwin::Step(double dt_s, Rng& rng) {
  const Params& p = params_;
  if (run_command_ && !failed_ && wear_.Advance(dt_s)) failed_ = true;
  const bool running = run_command_ && !failed_;
  const double r = running ? speed_setpoint_rpm_ / p.ref_speed_rpm : 0.0;
  const double w2 = wear_.wear() * wear_.wear();
  const double rho_g = p.density * internal::kStandardGravity;

  // Operating point: intersection of the (faulted) pump curve with the system curve.
  const double f_cav = 1 - p.cavitation_head_drop * cavitation_severity_;
  const double f_imp = 1 - p.impeller_wear_head_drop * impeller_wear_severity_;
  const double f_eff = 1 - p.impeller_wear_efficiency_drop * impeller_wear_severity_;
  const double shutoff_m = f_cav * f_imp * p.shutoff_head_m * r * r;
  double flow_m3h = 0;
  double head_m = 0;
  double shaft_w = 0;
  efficiency_ = 0;
  if (r > 0) {
    const double lift_m = shutoff_m - p.static_head_m;
    if (lift_m > 0) {
      flow_m3h =
          std::sqrt(lift_m / (f_cav * p.pump_curve_coefficient + p.system_coefficient * valve_));
    }
    head_m = shutoff_m - f_cav * p.pump_curve_coefficient * flow_m3h * flow_m3h;
    const double bep_m3s = r * p.bep_flow_m3h / internal::kSecondsPerHour;
    const double x = flow_m3h / (r * p.bep_flow_m3h);
    const double right_factor = std::max(2 - x, kMinEfficiencyFactor);
    const double eta_bep = f_eff * p.bep_efficiency;
    efficiency_ = eta_bep * x * right_factor;
    // ρ·g·Q·H/η with Q/η = r·Q_bep/(η_bep·(2 - x)): finite at shut-off.
    shaft_w = rho_g * head_m * bep_m3s / (eta_bep * right_factor);
  }
  head_m_ = head_m;
  shaft_power_kw_ = shaft_w / 1000;
  const double flow_m3s = flow_m3h / internal::kSecondsPerHour;

  const double friction_w = p.bearing_friction_w * r * (1 + p.bearing_wear_friction_gain * w2);
  const double extra_friction_w = p.bearing_friction_w * r * p.bearing_wear_friction_gain * w2;
  const double power_kw = running ? (shaft_w + extra_friction_w) / p.motor_efficiency / 1000 : 0.0;
  energy_kwh_ += power_kw * dt_s / internal::kSecondsPerHour;
  double current_a = 0;
  if (running) {
    const double active_a = power_kw * 1000 / (std::numbers::sqrt3 * p.rated_voltage_v);
    current_a = std::hypot(p.magnetizing_current_a, active_a);
  }

  // Casing node: the losses heat the fluid that flows through and the casing loses to ambient.
  const double loss_w = std::max(0.0, shaft_w - rho_g * flow_m3s * head_m);
  const double flow_conductance = p.density * p.fluid_heat_capacity * flow_m3s;  // W/K
  const double conductance = flow_conductance + p.casing_heat_loss;
  const double fluid_start_c = fluid_c_;
  fluid_c_ = internal::RelaxFirstOrder(
      fluid_c_,
      (loss_w + flow_conductance * p.fluid_inlet_temp_c + p.casing_heat_loss * p.ambient_temp_c) /
          conductance,
      dt_s, p.casing_heat_capacity / conductance);

  const double r_b = p.bearing_thermal_resistance;
  bearing_c_ =
      internal::RelaxFirstOrder(bearing_c_,
                                p.ambient_temp_c + r_b * friction_w +
                                    p.bearing_fluid_coupling * (fluid_start_c - p.ambient_temp_c),
                                dt_s, r_b * p.bearing_thermal_capacitance);

  const double suction_bar = p.suction_static_pressure_bar -
                             p.suction_loss_coefficient * flow_m3h * flow_m3h -
                             p.cavitation_suction_drop * cavitation_severity_;
  const double vibration = r * (p.vibration_baseline * (1 + p.vibration_wear_gain * w2) +
                                p.cavitation_vibration * cavitation_severity_);
  const double noise = rng.Normal(0, p.vibration_noise);

  outputs_[kFlow] = flow_m3h;
  outputs_[kSuctionPressure] = suction_bar;
  outputs_[kDischargePressure] = suction_bar + (running ? rho_g * head_m / kPascalPerBar : 0.0);
  outputs_[kMotorCurrent] = current_a;
  outputs_[kPower] = power_kw;
  outputs_[kEnergy] = energy_kwh_;
  outputs_[kSpeed] = running ? speed_setpoint_rpm_ : 0.0;
  outputs_[kVibrationRms] = std::max(0.0, vibration + noise);
  outputs_[kBearingTemp] = bearing_c_;
  outputs_[kFluidTemp] = fluid_c_;
  outputs_[kRunning] = running ? 1.0 : 0.0;
}

std::optional<double> PumpTwin::Output(std::string_view name) const {
  return internal::LookupOutput(kOutputNames, outputs_, name);
}

std::vector<std::string> PumpTwin::OutputNames() const {
  return internal::NameList(kOutputNames);
}

std::vector<std::string> PumpTwin::InputNames() const {
  return internal::NameList(kInputNames);
}

Status PumpTwin::SetInput(std::string_view name, double value) {
  if (name == "speed") {
    WEFT_RETURN_IF_ERROR(
        internal::CheckInputRange(kModelName, name, value, 0, params_.max_speed_rpm));
    speed_setpoint_rpm_ = value;
  } else if (name == "running") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    run_command_ = value == 1;
  } else if (name == "valve") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0, 1000));
    valve_ = value;
  } else {
    return internal::UnknownInputError(kModelName, name, InputNames());
  }
  return Status::Ok();
}

Status PumpTwin::InjectFault(FaultKind kind, double severity) {
  switch (kind) {
    case FaultKind::kBearingWear:
      WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
      wear_.Start(severity);
      return Status::Ok();
    case FaultKind::kCavitation:
      WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
      cavitation_severity_ = severity;
      return Status::Ok();
    case FaultKind::kImpellerWear:
      WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
      impeller_wear_severity_ = severity;
      return Status::Ok();
    case FaultKind::kCoolingLoss: break;
  }
  return internal::NoSuchFaultError(kModelName, kind, "bearing_wear, cavitation, impeller_wear");
}

void PumpTwin::ClearFaults() {
  wear_.Stop();
  cavitation_severity_ = 0;
  impeller_wear_severity_ = 0;
}

void PumpTwin::Repair() {
  wear_.Reset();
  ClearFaults();
  failed_ = false;
}

}  // namespace weft::twin

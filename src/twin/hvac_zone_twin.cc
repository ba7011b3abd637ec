#include "twin/hvac_zone_twin.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace weft::twin {
namespace {

using internal::ParamSpec;
using P = HvacZoneTwin::Params;

constexpr std::array<ParamSpec<P>, 32> kSpecs = {{
    {"air_capacitance", &P::air_capacitance, "J/K", 1, 1e13, "C_a, zone air and furnishings"},
    {"mass_capacitance", &P::mass_capacitance, "J/K", 1, 1e13, "C_m, building structure"},
    {"r_air_mass", &P::r_air_mass, "K/W", 1e-9, 1e3, "R_am, air to building mass"},
    {"r_air_outdoor", &P::r_air_outdoor, "K/W", 1e-9, 1e3,
     "R_ao, air to outdoor (windows, ventilation)"},
    {"r_mass_outdoor", &P::r_mass_outdoor, "K/W", 1e-9, 1e3,
     "R_mo, building mass to outdoor (walls, roof)"},
    {"zone_volume", &P::zone_volume_m3, "m3", 1, 1e8, "air volume of the zone"},
    {"air_change_rate", &P::air_change_rate, "1/h", 1e-3, 100,
     "fresh air changes per hour (CO2 and moisture)"},
    {"heat_pump_max_power", &P::heat_pump_max_power_kw, "kW", 0, 1000,
     "electrical power limit P_max"},
    {"thermostat_gain", &P::thermostat_gain, "kW/K", 0, 1e4,
     "K_p: electrical power per kelvin below setpoint"},
    {"carnot_efficiency", &P::carnot_efficiency, "1", 0.01, 1, "COP over the Carnot COP"},
    {"supply_temp", &P::supply_temp_c, "degC", 20, 80, "heat pump supply temperature T_s"},
    {"cop_min", &P::cop_min, "1", 0.1, 20, "lower COP clamp"},
    {"cop_max", &P::cop_max, "1", 0.1, 20, "upper COP clamp"},
    {"supply_air_conductance", &P::supply_air_conductance, "W/K", 1, 1e8,
     "heat capacity rate of the supply air flow"},
    {"heat_gain_per_person", &P::heat_gain_per_person, "W", 0, 1000, "sensible gain per person"},
    {"co2_per_person", &P::co2_per_person, "L/s", 0, 1, "CO2 exhaled per person"},
    {"moisture_per_person", &P::moisture_per_person, "g/h", 0, 1000, "moisture per person"},
    {"outdoor_co2", &P::outdoor_co2, "ppm", 0, 5000, "CO2 of outdoor air"},
    {"outdoor_mean_temp", &P::outdoor_mean_temp_c, "degC", -40, 50, "daily mean outdoor"},
    {"outdoor_temp_amplitude", &P::outdoor_temp_amplitude, "K", 0, 30,
     "half the daily outdoor swing"},
    {"outdoor_peak_hour", &P::outdoor_peak_hour, "h", 0, 24, "hour of the daily maximum"},
    {"outdoor_humidity", &P::outdoor_humidity, "%RH", 0, 100, "outdoor relative humidity"},
    {"design_occupancy", &P::design_occupancy, "count", 0, 10000,
     "persons in occupied hours at full attendance"},
    {"attendance_mean", &P::attendance_mean, "1", 0, 1, "mean share of design occupancy present"},
    {"attendance_stddev", &P::attendance_stddev, "1", 0, 1,
     "day-to-day standard deviation of attendance"},
    {"occupancy_start_hour", &P::occupancy_start_hour, "h", 0, 24, "start of occupied hours"},
    {"occupancy_end_hour", &P::occupancy_end_hour, "h", 0, 24, "end of occupied hours"},
    {"start_weekday", &P::start_weekday, "1", 0, 6, "weekday at t = 0 (0 Monday .. 6 Sunday)"},
    {"start_hour", &P::start_hour, "h", 0, 24, "hour of day at t = 0"},
    {"initial_temp", &P::initial_temp_c, "degC", -10, 50, "air and mass temperature at start"},
    {"setpoint", &P::setpoint_c, "degC", 5, 35, "initial thermostat setpoint"},
    {"max_substep", &P::max_substep_s, "s", 0.01, 3600, "longest integration sub-step"},
}};

enum Out : size_t {
  kZoneTemp,
  kZoneHumidity,
  kOutdoorTemp,
  kSupplyAirTemp,
  kSetpoint,
  kOccupancy,
  kCo2,
  kHeatPumpPower,
  kHeatPumpEnergy,
  kCop,
};
constexpr std::array<std::string_view, HvacZoneTwin::kNumOutputs> kOutputNames = {
    "zone_temp", "zone_humidity", "outdoor_temp",    "supply_air_temp",  "setpoint",
    "occupancy", "co2",           "heat_pump_power", "heat_pump_energy", "cop"};
constexpr std::array<std::string_view, 4> kInputNames = {
    "setpoint", "heat_pump_enabled", "occupancy_override", "outdoor_temp_override"};

constexpr double kAtmosphericPa = 101325;
constexpr double kAirDensity = 1.2;       // kg/m3
constexpr double kWaterAirRatio = 0.622;  // molar mass of water over that of dry air
constexpr double kSecondsPerDay = 86400;

// Saturation vapour pressure over water (Magnus formula, Alduchov and Eskridge 1996), Pa.
double SaturationPressure(double temp_c) {
  return 610.94 * std::exp(17.625 * temp_c / (temp_c + 243.04));
}

}  // namespace

Status HvacZoneTwin::Validate(const Params& params) {
  WEFT_RETURN_IF_ERROR(internal::ValidateParams(kModelName, kSpecs, params));
  if (params.cop_min > params.cop_max) {
    return InvalidArgumentError("model 'hvac_zone' needs cop_min <= cop_max");
  }
  if (params.occupancy_start_hour > params.occupancy_end_hour) {
    return InvalidArgumentError(
        "model 'hvac_zone' needs occupancy_start_hour <= occupancy_end_hour");
  }
  return Status::Ok();
}

Result<std::unique_ptr<HvacZoneTwin>> HvacZoneTwin::Create(const Params& params) {
  WEFT_RETURN_IF_ERROR(Validate(params));
  return std::unique_ptr<HvacZoneTwin>(new HvacZoneTwin(params));
}

Result<std::unique_ptr<HvacZoneTwin>> HvacZoneTwin::Create(
    const std::map<std::string, double>& overrides) {
  Params params;
  WEFT_RETURN_IF_ERROR(internal::ApplyOverrides(kModelName, kSpecs, overrides, params));
  return Create(params);
}

HvacZoneTwin::HvacZoneTwin(const Params& params)
    : params_(params),
      info_(internal::MakeInfo(kModelName, kVersion, kSpecs, params)),
      setpoint_c_(params.setpoint_c),
      air_c_(params.initial_temp_c),
      mass_c_(params.initial_temp_c),
      co2_ppm_(params.outdoor_co2) {
  const Params& p = params_;
  const double g_am = 1 / p.r_air_mass;
  const double a = -(g_am + 1 / p.r_air_outdoor) / p.air_capacitance;
  const double b = g_am / p.air_capacitance;
  const double c = g_am / p.mass_capacitance;
  const double d = -(g_am + 1 / p.r_mass_outdoor) / p.mass_capacitance;
  system_ = {a, b, c, d};
  // Real, distinct, negative eigenvalues (b·c > 0). The slow one from det/λ_fast, which avoids
  // the cancellation in mean + half-gap.
  const double mean = (a + d) / 2;
  const double half_gap = std::sqrt((a - d) * (a - d) / 4 + b * c);
  eigenvalues_[0] = mean - half_gap;
  eigenvalues_[1] = (a * d - b * c) / eigenvalues_[0];

  humidity_ratio_ = OutdoorHumidityRatio(OutdoorTemp(0));
  const double outdoor_c = OutdoorTemp(0);
  outputs_[kZoneTemp] = air_c_;
  outputs_[kZoneHumidity] = RelativeHumidity(air_c_);
  outputs_[kOutdoorTemp] = outdoor_c;
  outputs_[kSupplyAirTemp] = air_c_;
  outputs_[kSetpoint] = setpoint_c_;
  outputs_[kOccupancy] = Occupied(0) ? std::round(p.design_occupancy * p.attendance_mean) : 0.0;
  outputs_[kCo2] = co2_ppm_;
  outputs_[kCop] = Cop(outdoor_c);
}

std::array<double, 2> HvacZoneTwin::TimeConstants() const {
  return {-1 / eigenvalues_[0], -1 / eigenvalues_[1]};
}

double HvacZoneTwin::OutdoorTemp(double t_s) const {
  const double hour = std::fmod(params_.start_hour + t_s / internal::kSecondsPerHour, 24.0);
  return params_.outdoor_mean_temp_c +
         params_.outdoor_temp_amplitude *
             std::cos(2 * std::numbers::pi * (hour - params_.outdoor_peak_hour) / 24);
}

bool HvacZoneTwin::Occupied(double t_s) const {
  const double since_midnight = params_.start_hour * internal::kSecondsPerHour + t_s;
  const double day = std::floor(since_midnight / kSecondsPerDay);
  const double weekday = std::fmod(params_.start_weekday + day, 7.0);
  const double hour = (since_midnight - day * kSecondsPerDay) / internal::kSecondsPerHour;
  return weekday < 5 && hour >= params_.occupancy_start_hour && hour < params_.occupancy_end_hour;
}

double HvacZoneTwin::ScheduledOccupancy(double t_s, Rng& rng) {
  const double day =
      std::floor((params_.start_hour * internal::kSecondsPerHour + t_s) / kSecondsPerDay);
  if (day != attendance_day_) {
    // One draw per calendar day, occupied or not, so the stream does not depend on the schedule.
    const double share =
        std::clamp(rng.Normal(params_.attendance_mean, params_.attendance_stddev), 0.0, 1.0);
    attendance_persons_ = std::round(params_.design_occupancy * share);
    attendance_day_ = day;
  }
  return Occupied(t_s) ? attendance_persons_ : 0.0;
}

double HvacZoneTwin::Cop(double outdoor_c) const {
  const double supply_k = params_.supply_temp_c + internal::kZeroCelsius;
  const double lift_k = params_.supply_temp_c - outdoor_c;
  if (lift_k <= 0) return params_.cop_max;
  return std::clamp(params_.carnot_efficiency * supply_k / lift_k, params_.cop_min,
                    params_.cop_max);
}

double HvacZoneTwin::OutdoorHumidityRatio(double outdoor_c) const {
  const double vapour_pa = params_.outdoor_humidity / 100 * SaturationPressure(outdoor_c);
  return kWaterAirRatio * vapour_pa / (kAtmosphericPa - vapour_pa);
}

double HvacZoneTwin::RelativeHumidity(double air_c) const {
  const double vapour_pa = humidity_ratio_ * kAtmosphericPa / (kWaterAirRatio + humidity_ratio_);
  return std::clamp(100 * vapour_pa / SaturationPressure(air_c), 0.0, 100.0);
}

void HvacZoneTwin::PrepareTransition(double h_s) {
  if (h_s == transition_h_) return;
  // Sylvester: exp(A·h) = (e^{λ1·h}·(A - λ2·I) - e^{λ2·h}·(A - λ1·I))/(λ1 - λ2).
  const double l1 = eigenvalues_[0];
  const double l2 = eigenvalues_[1];
  const double e1 = std::exp(l1 * h_s);
  const double e2 = std::exp(l2 * h_s);
  const double inv_gap = 1 / (l1 - l2);
  const auto& a = system_;
  transition_[0] = (e1 * (a[0] - l2) - e2 * (a[0] - l1)) * inv_gap;
  transition_[1] = (e1 - e2) * a[1] * inv_gap;
  transition_[2] = (e1 - e2) * a[2] * inv_gap;
  transition_[3] = (e1 * (a[3] - l2) - e2 * (a[3] - l1)) * inv_gap;
  transition_h_ = h_s;
}

void HvacZoneTwin::Step(double dt_s, Rng& rng) {
  const Params& p = params_;
  const double substeps = std::max(1.0, std::ceil(dt_s / p.max_substep_s));
  const int n = static_cast<int>(substeps);
  const double h = dt_s / substeps;
  PrepareTransition(h);

  const double r_series = p.r_air_mass + p.r_mass_outdoor;
  const double r_eff = 1 / (1 / p.r_air_outdoor + 1 / r_series);
  const double fresh_air_m3s = p.zone_volume_m3 * p.air_change_rate / internal::kSecondsPerHour;
  const double exchange_tau_s = internal::kSecondsPerHour / p.air_change_rate;
  const double co2_m3s = p.co2_per_person / 1000;
  const double moisture_kgs = p.moisture_per_person / 1000 / internal::kSecondsPerHour;

  double electric_j = 0;
  double heat_j = 0;
  double heat_w = 0;
  double outdoor_c = 0;
  double occupancy = 0;
  for (int i = 0; i < n; ++i) {
    outdoor_c = outdoor_override_c_ ? *outdoor_override_c_ : OutdoorTemp(time_s_);
    occupancy = occupancy_override_ ? *occupancy_override_ : ScheduledOccupancy(time_s_, rng);
    const double electric_w = heat_pump_enabled_
                                  ? std::clamp(p.thermostat_gain * 1000 * (setpoint_c_ - air_c_),
                                               0.0, p.heat_pump_max_power_kw * 1000)
                                  : 0.0;
    heat_w = Cop(outdoor_c) * electric_w;
    const double gains_w = heat_w + occupancy * p.heat_gain_per_person;

    // Deviations from outdoor: dy/dt = A·y + (gains/C_a, 0); steady state in closed form.
    const double ss_air = gains_w * r_eff;
    const double ss_mass = ss_air * p.r_mass_outdoor / r_series;
    const double dev_air = air_c_ - outdoor_c - ss_air;
    const double dev_mass = mass_c_ - outdoor_c - ss_mass;
    air_c_ = outdoor_c + ss_air + transition_[0] * dev_air + transition_[1] * dev_mass;
    mass_c_ = outdoor_c + ss_mass + transition_[2] * dev_air + transition_[3] * dev_mass;

    co2_ppm_ = internal::RelaxFirstOrder(
        co2_ppm_, p.outdoor_co2 + occupancy * co2_m3s / fresh_air_m3s * 1e6, h, exchange_tau_s);
    humidity_ratio_ = internal::RelaxFirstOrder(
        humidity_ratio_,
        OutdoorHumidityRatio(outdoor_c) + occupancy * moisture_kgs / (kAirDensity * fresh_air_m3s),
        h, exchange_tau_s);

    electric_j += electric_w * h;
    heat_j += heat_w * h;
    time_s_ += h;
  }
  energy_kwh_ += electric_j / 3.6e6;
  // The outputs describe the end of the step, except power and COP (step means).
  outdoor_c = outdoor_override_c_ ? *outdoor_override_c_ : OutdoorTemp(time_s_);
  occupancy = occupancy_override_ ? *occupancy_override_ : ScheduledOccupancy(time_s_, rng);

  outputs_[kZoneTemp] = air_c_;
  outputs_[kZoneHumidity] = RelativeHumidity(air_c_);
  outputs_[kOutdoorTemp] = outdoor_c;
  outputs_[kSupplyAirTemp] = air_c_ + heat_w / p.supply_air_conductance;
  outputs_[kSetpoint] = setpoint_c_;
  outputs_[kOccupancy] = occupancy;
  outputs_[kCo2] = co2_ppm_;
  outputs_[kHeatPumpPower] = electric_j / dt_s / 1000;
  outputs_[kHeatPumpEnergy] = energy_kwh_;
  outputs_[kCop] = electric_j > 0 ? heat_j / electric_j : Cop(outdoor_c);
}

std::optional<double> HvacZoneTwin::Output(std::string_view name) const {
  return internal::LookupOutput(kOutputNames, outputs_, name);
}

std::vector<std::string> HvacZoneTwin::OutputNames() const {
  return internal::NameList(kOutputNames);
}

std::vector<std::string> HvacZoneTwin::InputNames() const {
  return internal::NameList(kInputNames);
}

Status HvacZoneTwin::SetInput(std::string_view name, double value) {
  if (name == "setpoint") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 5, 35));
    setpoint_c_ = value;
  } else if (name == "heat_pump_enabled") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    heat_pump_enabled_ = value == 1;
  } else if (name == "occupancy_override") {
    if (std::isnan(value)) {
      occupancy_override_.reset();
    } else {
      WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0, 10000));
      occupancy_override_ = value;
    }
  } else if (name == "outdoor_temp_override") {
    if (std::isnan(value)) {
      outdoor_override_c_.reset();
    } else {
      WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, -50, 60));
      outdoor_override_c_ = value;
    }
  } else {
    return internal::UnknownInputError(kModelName, name, InputNames());
  }
  return Status::Ok();
}

Status HvacZoneTwin::InjectFault(FaultKind kind, double /*severity*/) {
  return internal::NoSuchFaultError(kModelName, kind, "none");
}

}  // namespace weft::twin

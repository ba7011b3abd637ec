#include "twin/compressor_twin.h"

#include <algorithm>
#include <cmath>

namespace weft::twin {
namespace {

using internal::ParamSpec;
using P = CompressorTwin::Params;

constexpr std::array<ParamSpec<P>, 23> kSpecs = {{
    {"rated_fad", &P::rated_fad_m3min, "m3/min", 0.01, 200, "free air delivery when loaded"},
    {"loaded_power", &P::loaded_power_kw, "kW", 0.01, 500, "loaded power at rated pressure"},
    {"unloaded_power", &P::unloaded_power_kw, "kW", 0, 500, "unloaded (idling) power"},
    {"rated_pressure", &P::rated_pressure_bar, "bar", 0.1, 16, "pressure of loaded_power"},
    {"power_pressure_coefficient", &P::power_pressure_coefficient, "1/bar", 0, 0.2,
     "relative rise of loaded power per bar above rated pressure"},
    {"max_pressure", &P::max_pressure_bar, "bar", 0.1, 16, "highest allowed unload pressure"},
    {"load_pressure", &P::load_pressure_bar, "bar", 0, 16, "initial load pressure p_min"},
    {"unload_pressure", &P::unload_pressure_bar, "bar", 0, 16, "initial unload pressure p_max"},
    {"receiver_volume", &P::receiver_volume_m3, "m3", 0.01, 1e4,
     "air receiver and pipework volume"},
    {"atmospheric_pressure", &P::atmospheric_pressure_bar, "bar", 0.5, 1.1,
     "absolute pressure of free air"},
    {"initial_pressure", &P::initial_pressure_bar, "bar", 0, 16, "receiver pressure at start"},
    {"oil_rise_per_kw", &P::oil_rise_per_kw, "K/kW", 0, 100,
     "steady oil temperature rise over ambient per kW of power"},
    {"oil_time_constant", &P::oil_time_constant_s, "s", 1e-3, 1e7, "oil circuit time constant"},
    {"discharge_temp_rise", &P::discharge_temp_rise, "K", 0, 100,
     "discharge over oil temperature when loaded"},
    {"dryer_dew_point", &P::dryer_dew_point_c, "degC", -70, 30,
     "pressure dew point after the dryer"},
    {"dew_point_noise", &P::dew_point_noise, "K", 0, 10, "standard deviation of dew point"},
    {"vibration_baseline", &P::vibration_baseline, "mm/s", 0, 50, "healthy loaded vibration"},
    {"vibration_unloaded_ratio", &P::vibration_unloaded_ratio, "1", 0, 2,
     "unloaded over loaded vibration"},
    {"vibration_wear_gain", &P::vibration_wear_gain, "1", 0, 1000,
     "vibration rises by 1 + gain·wear²"},
    {"vibration_noise", &P::vibration_noise, "mm/s", 0, 50, "standard deviation of vibration"},
    {"bearing_wear_power", &P::bearing_wear_power_kw, "kW", 0, 500,
     "extra friction power at wear 1 (scales with wear²)"},
    {"wear_rate", &P::wear_rate, "1/s", 1e-15, 1, "bearing wear rate at severity 1"},
    {"wear_acceleration", &P::wear_acceleration, "1", 0, 100,
     "wear self-acceleration a: dw/dt = r·s·(1 + a·w)"},
}};

enum Out : size_t {
  kDischargePressure,
  kDischargeTemp,
  kInletTemp,
  kOilTemp,
  kFreeAirDelivery,
  kPower,
  kEnergy,
  kLoad,
  kState,
  kRunningHours,
  kVibrationRms,
  kDewPoint,
};
constexpr std::array<std::string_view, CompressorTwin::kNumOutputs> kOutputNames = {
    "discharge_pressure",
    "discharge_temp",
    "inlet_temp",
    "oil_temp",
    "free_air_delivery",
    "power",
    "energy",
    "load",
    "state",
    "running_hours",
    "vibration_rms",
    "dew_point"};
constexpr std::array<std::string_view, 5> kInputNames = {"demand", "running", "load_pressure",
                                                         "unload_pressure", "ambient_temp"};

// A step normally has a few load/unload switches; this bounds the loop even for absurd inputs
// (a tiny receiver with a band of 0.01 bar stepped in hours).
constexpr int kMaxSegmentsPerStep = 1000000;

}  // namespace

Status CompressorTwin::Validate(const Params& params) {
  WEFT_RETURN_IF_ERROR(internal::ValidateParams(kModelName, kSpecs, params));
  if (!(params.load_pressure_bar < params.unload_pressure_bar &&
        params.unload_pressure_bar <= params.max_pressure_bar)) {
    return InvalidArgumentError(
        "model 'compressor' needs load_pressure < unload_pressure <= max_pressure");
  }
  return Status::Ok();
}

Result<std::unique_ptr<CompressorTwin>> CompressorTwin::Create(const Params& params) {
  WEFT_RETURN_IF_ERROR(Validate(params));
  return std::unique_ptr<CompressorTwin>(new CompressorTwin(params));
}

Result<std::unique_ptr<CompressorTwin>> CompressorTwin::Create(
    const std::map<std::string, double>& overrides) {
  Params params;
  WEFT_RETURN_IF_ERROR(internal::ApplyOverrides(kModelName, kSpecs, overrides, params));
  return Create(params);
}

CompressorTwin::CompressorTwin(const Params& params)
    : params_(params),
      info_(internal::MakeInfo(kModelName, kVersion, kSpecs, params)),
      wear_(params.wear_rate, params.wear_acceleration),
      load_pressure_bar_(params.load_pressure_bar),
      unload_pressure_bar_(params.unload_pressure_bar),
      pressure_bar_(params.initial_pressure_bar),
      oil_c_(ambient_c_) {
  outputs_[kDischargePressure] = pressure_bar_;
  outputs_[kDischargeTemp] = oil_c_;
  outputs_[kInletTemp] = ambient_c_;
  outputs_[kOilTemp] = oil_c_;
  outputs_[kDewPoint] = params_.dryer_dew_point_c;
}

CompressorTwin::State CompressorTwin::state() const {
  if (failed_) return State::kFault;
  if (!run_command_) return State::kOff;
  return loaded_ ? State::kLoaded : State::kIdle;
}

double CompressorTwin::LoadedPowerKw(double p0_bar, double p1_bar) const {
  const double mean_bar = (p0_bar + p1_bar) / 2;
  return std::max(0.0, params_.loaded_power_kw * (1 + params_.power_pressure_coefficient *
                                                          (mean_bar - params_.rated_pressure_bar)));
}

void CompressorTwin::Step(double dt_s, Rng& rng) {
  const Params& p = params_;
  if (run_command_ && !failed_ && wear_.Advance(dt_s)) failed_ = true;
  const bool on = run_command_ && !failed_;
  if (!on) loaded_ = false;
  const double w2 = wear_.wear() * wear_.wear();
  // bar per second per m3/min of net inflow of free air.
  const double k = p.atmospheric_pressure_bar / (60 * p.receiver_volume_m3);
  const double drain_rate = -k * demand_m3min_;  // bar/s, <= 0

  // Pressure is linear between switching instants; walk the step segment by segment.
  double remaining = dt_s;
  double loaded_s = 0;
  double energy_kj = 0;
  for (int segment = 0; remaining > 0 && segment < kMaxSegmentsPerStep; ++segment) {
    if (!on) {
      pressure_bar_ = std::max(0.0, pressure_bar_ + drain_rate * remaining);
      remaining = 0;
    } else if (loaded_) {
      const double rate = k * p.rated_fad_m3min + drain_rate;
      double h = remaining;
      bool unload = false;
      if (pressure_bar_ >= unload_pressure_bar_) {
        h = 0;
        unload = true;
      } else if (rate > 0 && (unload_pressure_bar_ - pressure_bar_) / rate <= remaining) {
        h = (unload_pressure_bar_ - pressure_bar_) / rate;
        unload = true;
      }
      const double start_bar = pressure_bar_;
      // Land exactly on the band edge (no rounding drift); h = 0 when already above it.
      double end_bar = unload && h > 0 ? unload_pressure_bar_ : pressure_bar_ + rate * h;
      double power_kj = 0;
      if (end_bar < 0) {
        // Demand beyond delivery empties the receiver at t0 and it stays empty.
        const double t0 = start_bar / -rate;
        power_kj = LoadedPowerKw(start_bar, 0) * t0 + LoadedPowerKw(0, 0) * (h - t0);
        end_bar = 0;
      } else {
        power_kj = LoadedPowerKw(start_bar, end_bar) * h;
      }
      energy_kj += power_kj;
      pressure_bar_ = end_bar;
      loaded_s += h;
      remaining -= h;
      if (unload) loaded_ = false;
    } else {
      double h = remaining;
      bool load = false;
      if (pressure_bar_ <= load_pressure_bar_) {
        h = 0;
        load = true;
      } else if (drain_rate < 0 &&
                 (pressure_bar_ - load_pressure_bar_) / -drain_rate <= remaining) {
        h = (pressure_bar_ - load_pressure_bar_) / -drain_rate;
        load = true;
      }
      pressure_bar_ = load && h > 0 ? load_pressure_bar_ : pressure_bar_ + drain_rate * h;
      energy_kj += p.unloaded_power_kw * h;
      remaining -= h;
      if (load) loaded_ = true;
    }
  }

  const double running_s = on ? dt_s : 0.0;
  energy_kj += p.bearing_wear_power_kw * w2 * running_s;
  running_s_ += running_s;
  loaded_total_s_ += loaded_s;
  unloaded_total_s_ += running_s - loaded_s;
  energy_kwh_ += energy_kj / internal::kSecondsPerHour;
  const double mean_power_kw = energy_kj / dt_s;
  const double loaded_share = loaded_s / dt_s;

  oil_c_ = internal::RelaxFirstOrder(oil_c_, ambient_c_ + p.oil_rise_per_kw * mean_power_kw, dt_s,
                                     p.oil_time_constant_s);
  const double vibration =
      on ? p.vibration_baseline * (loaded_share + p.vibration_unloaded_ratio * (1 - loaded_share)) *
               (1 + p.vibration_wear_gain * w2)
         : 0.0;
  const double vibration_noise = rng.Normal(0, p.vibration_noise);
  const double dew_point_noise = rng.Normal(0, p.dew_point_noise);

  outputs_[kDischargePressure] = pressure_bar_;
  outputs_[kDischargeTemp] = oil_c_ + p.discharge_temp_rise * loaded_share;
  outputs_[kInletTemp] = ambient_c_;
  outputs_[kOilTemp] = oil_c_;
  outputs_[kFreeAirDelivery] = p.rated_fad_m3min * loaded_share;
  outputs_[kPower] = mean_power_kw;
  outputs_[kEnergy] = energy_kwh_;
  outputs_[kLoad] = 100 * loaded_share;
  outputs_[kState] = static_cast<double>(state());
  outputs_[kRunningHours] = running_s_ / internal::kSecondsPerHour;
  outputs_[kVibrationRms] = std::max(0.0, vibration + vibration_noise);
  outputs_[kDewPoint] = p.dryer_dew_point_c + dew_point_noise;
}

std::optional<double> CompressorTwin::Output(std::string_view name) const {
  return internal::LookupOutput(kOutputNames, outputs_, name);
}

std::vector<std::string> CompressorTwin::OutputNames() const {
  return internal::NameList(kOutputNames);
}

std::vector<std::string> CompressorTwin::InputNames() const {
  return internal::NameList(kInputNames);
}

Status CompressorTwin::SetInput(std::string_view name, double value) {
  if (name == "demand") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0, 200));
    demand_m3min_ = value;
  } else if (name == "running") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    run_command_ = value == 1;
  } else if (name == "load_pressure") {
    // Below the current unload pressure, so the band stays a band.
    WEFT_RETURN_IF_ERROR(
        internal::CheckInputRange(kModelName, name, value, 0, unload_pressure_bar_ - 0.01));
    load_pressure_bar_ = value;
  } else if (name == "unload_pressure") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(
        kModelName, name, value, load_pressure_bar_ + 0.01, params_.max_pressure_bar));
    unload_pressure_bar_ = value;
  } else if (name == "ambient_temp") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, -30, 60));
    ambient_c_ = value;
  } else {
    return internal::UnknownInputError(kModelName, name, InputNames());
  }
  return Status::Ok();
}

Status CompressorTwin::InjectFault(FaultKind kind, double severity) {
  if (kind != FaultKind::kBearingWear) {
    return internal::NoSuchFaultError(kModelName, kind, "bearing_wear");
  }
  WEFT_RETURN_IF_ERROR(internal::CheckSeverity(kModelName, kind, severity));
  wear_.Start(severity);
  return Status::Ok();
}

void CompressorTwin::Repair() {
  wear_.Reset();
  failed_ = false;
}

}  // namespace weft::twin

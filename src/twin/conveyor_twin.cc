#include "twin/conveyor_twin.h"

#include <algorithm>
#include <cmath>

namespace weft::twin {
namespace {

using internal::ParamSpec;
using P = ConveyorTwin::Params;

constexpr std::array<ParamSpec<P>, 13> kSpecs = {{
    {"belt_speed", &P::belt_speed_ms, "m/s", 0, 10, "belt speed while running"},
    {"running_current", &P::running_current_a, "A", 1e-3, 200, "motor current while running"},
    {"running_power", &P::running_power_kw, "kW", 0, 200, "electrical power while running"},
    {"standby_power", &P::standby_power_kw, "kW", 0, 200, "power when the belt stands"},
    {"current_noise", &P::current_noise_a, "A", 0, 100, "standard deviation of current"},
    {"mtbf", &P::mtbf_s, "s", 1, 1e10, "mean running time between breakdowns"},
    {"mttr", &P::mttr_s, "s", 1e-3, 1e10, "mean time to repair a breakdown"},
    {"jam_weight", &P::jam_weight, "1", 0, 1e6, "relative frequency of jams"},
    {"electrical_weight", &P::electrical_weight, "1", 0, 1e6,
     "relative frequency of electrical faults"},
    {"material_shortage_weight", &P::material_shortage_weight, "1", 0, 1e6,
     "relative frequency of material shortages"},
    {"cycle_time_noise", &P::cycle_time_noise, "1", 0, 0.5,
     "relative standard deviation of the cycle time"},
    {"vibration_baseline", &P::vibration_baseline, "mm/s", 0, 50, "vibration while running"},
    {"vibration_noise", &P::vibration_noise, "mm/s", 0, 50, "standard deviation of vibration"},
}};

enum Out : size_t {
  kBeltSpeed,
  kMotorCurrent,
  kPower,
  kEnergy,
  kState,
  kDownReason,
  kCycleTime,
  kGoodCount,
  kRejectCount,
  kVibrationRms,
};
constexpr std::array<std::string_view, ConveyorTwin::kNumOutputs> kOutputNames = {
    "belt_speed",  "motor_current", "power",      "energy",       "state",
    "down_reason", "cycle_time",    "good_count", "reject_count", "vibration_rms"};
constexpr std::array<std::string_view, 4> kInputNames = {"running", "ideal_cycle_time",
                                                         "reject_probability", "planned_stop"};

}  // namespace

Status ConveyorTwin::Validate(const Params& params) {
  WEFT_RETURN_IF_ERROR(internal::ValidateParams(kModelName, kSpecs, params));
  if (params.jam_weight + params.electrical_weight + params.material_shortage_weight <= 0) {
    return InvalidArgumentError(
        "model 'conveyor': at least one of 'jam_weight', 'electrical_weight' and "
        "'material_shortage_weight' must be positive");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ConveyorTwin>> ConveyorTwin::Create(const Params& params) {
  WEFT_RETURN_IF_ERROR(Validate(params));
  return std::unique_ptr<ConveyorTwin>(new ConveyorTwin(params));
}

Result<std::unique_ptr<ConveyorTwin>> ConveyorTwin::Create(
    const std::map<std::string, double>& overrides) {
  Params params;
  WEFT_RETURN_IF_ERROR(internal::ApplyOverrides(kModelName, kSpecs, overrides, params));
  return Create(params);
}

ConveyorTwin::ConveyorTwin(const Params& params)
    : params_(params), info_(internal::MakeInfo(kModelName, kVersion, kSpecs, params)) {
  outputs_[kState] = static_cast<double>(State::kIdle);
  outputs_[kPower] = params_.standby_power_kw;
}

ConveyorTwin::State ConveyorTwin::state() const {
  if (repair_left_s_ > 0 || planned_stop_) return State::kDown;
  return production_requested_ ? State::kRunning : State::kIdle;
}

ConveyorTwin::DownReason ConveyorTwin::down_reason() const {
  if (repair_left_s_ > 0) return breakdown_reason_;
  return planned_stop_ ? DownReason::kPlanned : DownReason::kNone;
}

double ConveyorTwin::DrawCycleTime(Rng& rng) const {
  const double factor = 1 + rng.Normal(0, params_.cycle_time_noise);
  return ideal_cycle_s_ * std::clamp(factor, 0.5, 1.5);
}

ConveyorTwin::DownReason ConveyorTwin::DrawReason(Rng& rng) const {
  const Params& p = params_;
  const double u = rng.Uniform(0, p.jam_weight + p.electrical_weight + p.material_shortage_weight);
  if (u < p.jam_weight) return DownReason::kJam;
  if (u < p.jam_weight + p.electrical_weight) return DownReason::kElectrical;
  return DownReason::kMaterialShortage;
}

void ConveyorTwin::Step(double dt_s, Rng& rng) {
  const Params& p = params_;
  if (!started_) {
    until_failure_s_ = rng.Exponential(p.mtbf_s);
    part_cycle_s_ = DrawCycleTime(rng);
    part_left_s_ = part_cycle_s_;
    started_ = true;
  }
  // Walk through the step event by event: repair end, part finished, breakdown.
  double remaining = dt_s;
  double run_in_step = 0;
  while (remaining > 0) {
    if (repair_left_s_ > 0) {
      const double h = std::min(remaining, repair_left_s_);
      repair_left_s_ -= h;
      remaining -= h;
      breakdown_time_s_ += h;
      if (repair_left_s_ <= 0) {
        repair_left_s_ = 0;
        breakdown_reason_ = DownReason::kNone;
      }
    } else if (planned_stop_) {
      planned_time_s_ += remaining;
      remaining = 0;
    } else if (!production_requested_) {
      remaining = 0;
    } else {
      const double h = std::min({remaining, until_failure_s_, part_left_s_});
      remaining -= h;
      until_failure_s_ -= h;
      part_left_s_ -= h;
      run_in_step += h;
      if (part_left_s_ <= 0) {
        last_cycle_s_ = part_cycle_s_;
        if (rng.Bernoulli(reject_probability_)) {
          ++rejects_;
        } else {
          ++good_;
        }
        part_cycle_s_ = DrawCycleTime(rng);
        part_left_s_ = part_cycle_s_;
      }
      if (until_failure_s_ <= 0) {
        breakdown_reason_ = DrawReason(rng);
        repair_left_s_ = rng.Exponential(p.mttr_s);
        until_failure_s_ = rng.Exponential(p.mtbf_s);
        ++breakdowns_;
        ++breakdowns_by_reason_[static_cast<size_t>(breakdown_reason_)];
      }
    }
  }
  run_time_s_ += run_in_step;

  const State now = state();
  const bool belt_moving = now == State::kRunning;
  const double current_noise = rng.Normal(0, p.current_noise_a);
  const double vibration_noise = rng.Normal(0, p.vibration_noise);
  const double running_current = std::max(0.0, p.running_current_a + current_noise);
  const double running_power = p.running_power_kw * running_current / p.running_current_a;
  energy_kwh_ += (running_power * run_in_step + p.standby_power_kw * (dt_s - run_in_step)) /
                 internal::kSecondsPerHour;

  outputs_[kBeltSpeed] = belt_moving ? p.belt_speed_ms : 0.0;
  outputs_[kMotorCurrent] = belt_moving ? running_current : 0.0;
  outputs_[kPower] = belt_moving ? running_power : p.standby_power_kw;
  outputs_[kEnergy] = energy_kwh_;
  outputs_[kState] = static_cast<double>(now);
  outputs_[kDownReason] = static_cast<double>(down_reason());
  outputs_[kCycleTime] = last_cycle_s_;
  outputs_[kGoodCount] = static_cast<double>(good_);
  outputs_[kRejectCount] = static_cast<double>(rejects_);
  outputs_[kVibrationRms] =
      std::max(0.0, (belt_moving ? p.vibration_baseline : 0.0) + vibration_noise);
}

std::optional<double> ConveyorTwin::Output(std::string_view name) const {
  return internal::LookupOutput(kOutputNames, outputs_, name);
}

std::vector<std::string> ConveyorTwin::OutputNames() const {
  return internal::NameList(kOutputNames);
}

std::vector<std::string> ConveyorTwin::InputNames() const {
  return internal::NameList(kInputNames);
}

Status ConveyorTwin::SetInput(std::string_view name, double value) {
  if (name == "running") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    production_requested_ = value == 1;
  } else if (name == "ideal_cycle_time") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0.1, 3600));
    ideal_cycle_s_ = value;
  } else if (name == "reject_probability") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputRange(kModelName, name, value, 0, 1));
    reject_probability_ = value;
  } else if (name == "planned_stop") {
    WEFT_RETURN_IF_ERROR(internal::CheckInputFlag(kModelName, name, value));
    planned_stop_ = value == 1;
  } else {
    return internal::UnknownInputError(kModelName, name, InputNames());
  }
  return Status::Ok();
}

Status ConveyorTwin::InjectFault(FaultKind kind, double /*severity*/) {
  return internal::NoSuchFaultError(kModelName, kind, "none");
}

void ConveyorTwin::Repair() {
  repair_left_s_ = 0;
  breakdown_reason_ = DownReason::kNone;
}

}  // namespace weft::twin

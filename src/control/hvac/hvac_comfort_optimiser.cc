#include "control/hvac/hvac_comfort_optimiser.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace weft::control {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kMaxPreheats = 30;
constexpr size_t kMaxCoasts = 5;
//! A preheat counts as done when the zone is this close to the target (readings are 0.1 K).
constexpr double kReachedK = 0.1;
//! Below this electrical power (kW) the heat pump counts as off (free cooling).
constexpr double kHeatPumpOffKw = 0.05;

double Input(const std::map<std::string, double>& inputs, const char* name) {
  auto it = inputs.find(name);
  if (it == inputs.end() || !std::isfinite(it->second)) return kNaN;
  return it->second;
}

double Hours(Micros d) {
  return std::chrono::duration<double, std::ratio<3600>>(d).count();
}

Result<int64_t> ParseDate(const std::string& text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return InvalidArgumentError("holiday '" + text + "' is not a date YYYY-MM-DD");
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return InvalidArgumentError("holiday '" + text + "' is not a valid date");
  return static_cast<int64_t>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

//! Monday = 0 for a day number since 1970-01-01 (a Thursday).
int Weekday(int64_t day) {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

Result<int> ParseDay(const std::string& name) {
  static constexpr const char* kNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (int i = 0; i < 7; ++i) {
    if (lower.rfind(kNames[i], 0) == 0 && lower.size() >= 3) return i;
  }
  return InvalidArgumentError("'" + name + "' is not a weekday (mon .. sun)");
}

}  // namespace

Status ValidateHvacComfortParams(const HvacComfortParams& p) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("hvac_comfort: " + what); };
  for (auto [name, v] : std::initializer_list<std::pair<const char*, double>>{
           {"comfort", p.comfort_lo},
           {"comfort", p.comfort_hi},
           {"hours", p.start_hour},
           {"hours", p.end_hour},
           {"setback", p.setback},
           {"margin", p.margin},
           {"max_setpoint", p.max_setpoint},
           {"utc_offset", p.utc_offset},
           {"preheat_safety", p.preheat_safety},
           {"max_preheat", p.max_preheat},
           {"lead_offset", p.lead_offset},
           {"initial_heating_rate", p.initial_heating_rate},
           {"early_setback", p.early_setback},
           {"guard", p.guard},
           {"occupancy_hold", p.occupancy_hold},
           {"integral_time", p.integral_time},
           {"gain", p.gain}}) {
    if (!std::isfinite(v)) return bad(std::string(name) + " must be a finite number");
  }
  if (!(p.comfort_lo < p.comfort_hi)) return bad("comfort [lo, hi] needs lo < hi");
  if (p.margin < 0 || p.margin >= p.comfort_hi - p.comfort_lo) {
    return bad("margin must be in [0, hi - lo)");
  }
  if (p.setback > p.comfort_lo) return bad("setback must not be above the comfort band's low edge");
  if (!(p.comfort_lo + p.margin < p.max_setpoint)) {
    return bad("max_setpoint must be above comfort lo + margin");
  }
  for (int d : p.days) {
    if (d < 0 || d > 6) return bad("days must be 0 (Monday) .. 6 (Sunday)");
  }
  if (!(p.start_hour >= 0 && p.start_hour < p.end_hour && p.end_hour <= 24)) {
    return bad("hours [start, end] needs 0 <= start < end <= 24");
  }
  for (const std::string& h : p.holidays) {
    Result<int64_t> d = ParseDate(h);
    if (!d.ok()) return bad(d.status().message());
  }
  if (std::abs(p.utc_offset) > 14) return bad("utc_offset must be within +-14 hours");
  if (p.preheat_safety < 1) return bad("preheat_safety must be >= 1");
  if (p.max_preheat <= 0 || p.max_preheat > 24) return bad("max_preheat must be in (0, 24] h");
  if (p.lead_offset < 0) return bad("lead_offset must be >= 0");
  if (p.initial_heating_rate <= 0) return bad("initial_heating_rate must be > 0");
  if (p.early_setback < 0) return bad("early_setback must be >= 0");
  if (p.guard < 0 || p.guard > p.margin + 1) return bad("guard must be in [0, margin + 1]");
  if (p.occupancy_hold < 0) return bad("occupancy_hold must be >= 0");
  if (p.integral_time <= 0) return bad("integral_time must be > 0");
  if (p.gain < 0 || p.gain > 10) return bad("gain must be in [0, 10]");
  return Status::Ok();
}

Result<HvacComfortParams> ParseHvacComfortParams(const OptimiserSource& source) {
  HvacComfortParams p;
  if (source.kind != HvacComfortOptimiser::kKind) {
    return InvalidArgumentError(source.path + ": optimiser kind '" + source.kind +
                                "' is not hvac_comfort");
  }
  for (const auto& entry : source.params) {
    const std::string& key = entry.first;
    const OptimiserParam& param = entry.second;  // a plain reference: lambdas capture it
    std::string where = param.where.file + ":" + std::to_string(param.where.line) + ":" +
                        std::to_string(param.where.column) + ": " + param.path + ": ";
    auto number = [&](double* out) -> Status {
      if (const double* v = std::get_if<double>(&param.value)) {
        *out = *v;
        return Status::Ok();
      }
      return InvalidArgumentError(where + "expected a number");
    };
    auto pair = [&](double* a, double* b) -> Status {
      const auto* v = std::get_if<std::vector<double>>(&param.value);
      if (v == nullptr || v->size() != 2) {
        return InvalidArgumentError(where + "expected a list of two numbers [from, to]");
      }
      *a = (*v)[0];
      *b = (*v)[1];
      return Status::Ok();
    };
    Status s;
    if (key == "comfort") {
      s = pair(&p.comfort_lo, &p.comfort_hi);
    } else if (key == "hours") {
      s = pair(&p.start_hour, &p.end_hour);
    } else if (key == "days") {
      p.days.clear();
      if (const auto* names = std::get_if<std::vector<std::string>>(&param.value)) {
        for (const std::string& n : *names) {
          Result<int> d = ParseDay(n);
          if (!d.ok()) return InvalidArgumentError(where + d.status().message());
          p.days.push_back(*d);
        }
      } else if (const auto* nums = std::get_if<std::vector<double>>(&param.value)) {
        for (double n : *nums) {
          if (n != std::floor(n) || n < 0 || n > 6) {
            return InvalidArgumentError(where + "days are 0 (Monday) .. 6 (Sunday) or mon .. sun");
          }
          p.days.push_back(static_cast<int>(n));
        }
      } else if (const auto* one = std::get_if<std::string>(&param.value)) {
        Result<int> d = ParseDay(*one);
        if (!d.ok()) return InvalidArgumentError(where + d.status().message());
        p.days.push_back(*d);
      } else {
        return InvalidArgumentError(where + "expected a list of weekdays [mon, tue, ...]");
      }
    } else if (key == "holidays") {
      if (const auto* dates = std::get_if<std::vector<std::string>>(&param.value)) {
        p.holidays = *dates;
      } else if (const auto* one = std::get_if<std::string>(&param.value)) {
        p.holidays = {*one};
      } else {
        return InvalidArgumentError(where + "expected a list of dates [YYYY-MM-DD, ...]");
      }
      for (const std::string& h : p.holidays) {
        Result<int64_t> d = ParseDate(h);
        if (!d.ok()) return InvalidArgumentError(where + d.status().message());
      }
    } else if (key == "setback") {
      s = number(&p.setback);
    } else if (key == "margin") {
      s = number(&p.margin);
    } else if (key == "max_setpoint") {
      s = number(&p.max_setpoint);
    } else if (key == "utc_offset") {
      s = number(&p.utc_offset);
    } else if (key == "preheat_safety") {
      s = number(&p.preheat_safety);
    } else if (key == "max_preheat") {
      s = number(&p.max_preheat);
    } else if (key == "lead_offset") {
      s = number(&p.lead_offset);
    } else if (key == "initial_heating_rate") {
      s = number(&p.initial_heating_rate);
    } else if (key == "early_setback") {
      s = number(&p.early_setback);
    } else if (key == "guard") {
      s = number(&p.guard);
    } else if (key == "occupancy_hold") {
      s = number(&p.occupancy_hold);
    } else if (key == "integral_time") {
      s = number(&p.integral_time);
    } else if (key == "gain") {
      s = number(&p.gain);
    } else {
      return InvalidArgumentError(
          where + "unknown hvac_comfort parameter '" + key +
          "' (known: comfort, days, hours, holidays, setback, margin, max_setpoint, utc_offset, "
          "preheat_safety, max_preheat, lead_offset, initial_heating_rate, early_setback, guard, "
          "occupancy_hold, integral_time, gain)");
    }
    WEFT_RETURN_IF_ERROR(s);
  }
  Status valid = ValidateHvacComfortParams(p);
  if (!valid.ok()) {
    return InvalidArgumentError(source.where.file + ":" + std::to_string(source.where.line) + ":" +
                                std::to_string(source.where.column) + ": " + source.path + ": " +
                                valid.message());
  }
  return p;
}

HvacComfortOptimiser::HvacComfortOptimiser(HvacComfortParams params)
    : params_(std::move(params)), target_(params_.comfort_lo + params_.margin) {
  for (const std::string& h : params_.holidays) {
    Result<int64_t> d = ParseDate(h);
    if (d.ok()) holidays_.push_back(*d);
  }
}

const char* HvacComfortOptimiser::PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kSetback: return "setback";
    case Phase::kPreheat: return "preheat";
    case Phase::kComfort: return "comfort";
    case Phase::kEarlySetback: return "early_setback";
  }
  return "?";
}

bool HvacComfortOptimiser::OccupiedDay(int64_t local_day) const {
  if (std::find(holidays_.begin(), holidays_.end(), local_day) != holidays_.end()) return false;
  return std::find(params_.days.begin(), params_.days.end(), Weekday(local_day)) !=
         params_.days.end();
}

double HvacComfortOptimiser::HoursToNextStart(int64_t local_day, double hour) const {
  for (int64_t d = 0; d <= 14; ++d) {
    if (!OccupiedDay(local_day + d)) continue;
    double h = static_cast<double>(d) * 24 + params_.start_hour - hour;
    if (d == 0 && hour >= params_.start_hour) {
      if (hour < params_.end_hour) return 0;
      continue;
    }
    return h;
  }
  return kInf;
}

double HvacComfortOptimiser::ExpectedHeatingRate(double outdoor_c) const {
  if (preheats_.empty()) return params_.initial_heating_rate;
  double slowest = kInf;
  double fastest = 0;
  double lo_t = kInf;
  double hi_t = -kInf;
  for (const auto& [t, r] : preheats_) {
    slowest = std::min(slowest, r);
    fastest = std::max(fastest, r);
    lo_t = std::min(lo_t, t);
    hi_t = std::max(hi_t, t);
  }
  // Without the outdoor temperature, or without enough spread to fit a line, the slowest
  // preheat seen is the safe guess.
  if (!std::isfinite(outdoor_c) || preheats_.size() < 3 || hi_t - lo_t < 2) return slowest;
  double n = static_cast<double>(preheats_.size());
  double mt = 0;
  double mr = 0;
  for (const auto& [t, r] : preheats_) {
    mt += t / n;
    mr += r / n;
  }
  double stt = 0;
  double str = 0;
  for (const auto& [t, r] : preheats_) {
    stt += (t - mt) * (t - mt);
    str += (t - mt) * (r - mr);
  }
  double slope = str / stt;
  // A heat pump heats more slowly in colder weather (lower COP, higher losses); a fit that says
  // otherwise is noise, and the slowest preheat is used instead.
  if (!(slope >= 0)) return slowest;
  double rate = mr + slope * (outdoor_c - mt);
  return std::clamp(rate, 0.5 * slowest, fastest);
}

double HvacComfortOptimiser::PreheatLeadHours(double zone_c, double outdoor_c) const {
  if (!std::isfinite(zone_c)) return params_.max_preheat;
  double deficit = target_ - zone_c;
  double lead = params_.lead_offset / 60;
  if (deficit > 0) lead += params_.preheat_safety * deficit / ExpectedHeatingRate(outdoor_c);
  return std::min(lead, params_.max_preheat);
}

double HvacComfortOptimiser::ComfortSetpoint(double zone_c, double dt_s, bool integrate) {
  double hi = params_.max_setpoint;
  if (!std::isfinite(zone_c)) {
    // Blind: aim above the target by what the droop needed so far, at least 1 K.
    return std::clamp(target_ + std::max(trim_, 1.0), params_.setback, hi);
  }
  double error = target_ - zone_c;
  // Integrate only near the target: a preheat's large error would wind the trim up.
  if (integrate && std::abs(error) < 1.0) {
    trim_ += dt_s / (params_.integral_time * 60) * error;
    trim_ = std::clamp(trim_, -1.0, hi - target_);
  }
  return std::clamp(target_ + trim_ + params_.gain * error, params_.setback, hi);
}

double HvacComfortOptimiser::ObservedCoastDrop(double minutes) const {
  if (minutes <= 0) return 0;
  int bin = std::min(kCoastBins, static_cast<int>(std::ceil(minutes / kCoastBinMin))) - 1;
  double drop = kNaN;
  for (const auto& curve : coasts_) {
    // The drop by `minutes` is at least the drop seen at any earlier bin (cooling is monotone
    // here; a rise in the readings is noise).
    for (int b = 0; b <= bin; ++b) {
      if (std::isfinite(curve[static_cast<size_t>(b)])) {
        drop = std::isfinite(drop) ? std::max(drop, curve[static_cast<size_t>(b)])
                                   : curve[static_cast<size_t>(b)];
      }
    }
    // A curve that does not reach `bin` cannot vouch for the full coast.
    if (!std::isfinite(curve[static_cast<size_t>(bin)])) return kNaN;
  }
  return drop;
}

void HvacComfortOptimiser::LearnPreheat(TimePoint now, double zone_c, bool still_heating) {
  if (!preheat_run_) return;
  double elapsed_h = Hours(now - preheat_run_->start);
  if (!still_heating || elapsed_h > params_.max_preheat + 2) {
    preheat_run_.reset();
    return;
  }
  if (!std::isfinite(zone_c) || zone_c < target_ - kReachedK) return;
  double rise = zone_c - preheat_run_->zone_c;
  // Small deficits say little about the rate; the outdoor temperature is needed for the fit
  // (without it the observation still counts as a plain rate, at the mean outdoor temperature).
  if (rise >= 0.5 && elapsed_h > 0) {
    double outdoor = preheat_run_->outdoor_c;
    if (!std::isfinite(outdoor)) {
      outdoor = 0;
      for (const auto& pr : preheats_) outdoor += pr[0] / static_cast<double>(preheats_.size());
    }
    preheats_.push_back({outdoor, rise / elapsed_h});
    if (preheats_.size() > kMaxPreheats) preheats_.erase(preheats_.begin());
  }
  preheat_run_.reset();
}

void HvacComfortOptimiser::LearnCoast(TimePoint now, double zone_c, bool stop) {
  if (!coast_run_) return;
  double minutes = Hours(now - coast_run_->start) * 60;
  int bin = static_cast<int>(std::ceil(minutes / kCoastBinMin)) - 1;
  if (bin >= kCoastBins || stop) {
    if (std::isfinite(coast_run_->drop[0])) {
      coasts_.push_back(coast_run_->drop);
      if (coasts_.size() > kMaxCoasts) coasts_.erase(coasts_.begin());
    }
    coast_run_.reset();
    return;
  }
  if (bin < 0 || !std::isfinite(zone_c)) return;
  double& slot = coast_run_->drop[static_cast<size_t>(bin)];
  double drop = coast_run_->zone_c - zone_c;
  slot = std::isfinite(slot) ? std::max(slot, drop) : drop;
}

Result<double> HvacComfortOptimiser::Propose(TimePoint now,
                                             const std::map<std::string, double>& inputs) {
  double dt_s = 60;
  if (last_now_) {
    dt_s = std::clamp(std::chrono::duration<double>(now - *last_now_).count(), 0.0, 900.0);
  }
  last_now_ = now;
  const double zone = Input(inputs, "zone_temp");
  const double outdoor = Input(inputs, "outdoor_temp");
  const double occupancy = Input(inputs, "occupancy");
  const double heat_pump = Input(inputs, "heat_pump_power");

  TimePoint local = now + Micros(static_cast<int64_t>(std::llround(params_.utc_offset * 3600e6)));
  auto day_start = std::chrono::floor<std::chrono::days>(local);
  const int64_t day = day_start.time_since_epoch().count();
  const double hour = Hours(local - day_start);
  const bool scheduled = OccupiedDay(day) && hour >= params_.start_hour && hour < params_.end_hour;

  // People outside the schedule: comfort while they are there and `occupancy_hold` after.
  // People seen during scheduled hours do not extend the period (the schedule covers them).
  if (!scheduled && std::isfinite(occupancy) && occupancy > 0) last_people_ = now;
  const bool people =
      !scheduled && last_people_ && Hours(now - *last_people_) * 60 <= params_.occupancy_hold;

  const Phase previous = phase_;
  if (scheduled || people) {
    phase_ = Phase::kComfort;
    const double remaining_min = (params_.end_hour - hour) * 60;
    if (scheduled && params_.early_setback > 0 && remaining_min <= params_.early_setback &&
        day != coast_blocked_day_ && std::isfinite(zone)) {
      if (previous == Phase::kEarlySetback) {
        if (zone < params_.comfort_lo + params_.guard) {
          coast_blocked_day_ = day;  // the mass did not carry it: comfort to the end
        } else {
          phase_ = Phase::kEarlySetback;
        }
      } else {
        double drop = ObservedCoastDrop(remaining_min);
        if (std::isfinite(drop) &&
            zone - params_.preheat_safety * drop >= params_.comfort_lo + params_.guard) {
          phase_ = Phase::kEarlySetback;
        }
      }
    }
  } else {
    const double to_start = HoursToNextStart(day, hour);
    const double lead = PreheatLeadHours(zone, outdoor);
    if ((previous == Phase::kPreheat && to_start <= params_.max_preheat) || to_start <= lead) {
      phase_ = Phase::kPreheat;
    } else {
      phase_ = Phase::kSetback;
    }
  }

  // Learning. A preheat is timed from its start until the zone reaches the target (also after
  // the occupied period began: a late preheat teaches a slower rate).
  if (phase_ == Phase::kPreheat && previous != Phase::kPreheat && std::isfinite(zone) &&
      previous == Phase::kSetback) {
    preheat_run_ = PreheatRun{now, zone, outdoor};
  }
  LearnPreheat(now, zone, phase_ == Phase::kPreheat || phase_ == Phase::kComfort);
  // The zone's free cooling after a scheduled period ends, as long as the heat pump stays off.
  if (phase_ == Phase::kSetback && previous == Phase::kComfort && std::isfinite(zone)) {
    CoastRun run{now, zone, {}};
    run.drop.fill(kNaN);
    coast_run_ = run;
  } else {
    LearnCoast(
        now, zone,
        phase_ != Phase::kSetback || (std::isfinite(heat_pump) && heat_pump > kHeatPumpOffKw));
  }

  switch (phase_) {
    case Phase::kSetback:
    case Phase::kEarlySetback: return params_.setback;
    case Phase::kPreheat: return ComfortSetpoint(zone, dt_s, /*integrate=*/false);
    case Phase::kComfort: return ComfortSetpoint(zone, dt_s, /*integrate=*/true);
  }
  return params_.setback;
}

Result<std::unique_ptr<SetpointSource>> MakeHvacComfortOptimiser(const HvacComfortParams& params) {
  WEFT_RETURN_IF_ERROR(ValidateHvacComfortParams(params));
  return std::unique_ptr<SetpointSource>(std::make_unique<HvacComfortOptimiser>(params));
}

Result<std::unique_ptr<SetpointSource>> MakeHvacComfortOptimiser(const OptimiserSource& source) {
  WEFT_ASSIGN_OR_RETURN(HvacComfortParams params, ParseHvacComfortParams(source));
  return MakeHvacComfortOptimiser(params);
}

void RegisterHvacComfortOptimiser() {
  RegisterOptimiser(HvacComfortOptimiser::kKind,
                    [](const OptimiserSource& source) { return MakeHvacComfortOptimiser(source); });
}

}  // namespace weft::control

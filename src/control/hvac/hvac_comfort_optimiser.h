// HvacComfortOptimiser: the `hvac_comfort` setpoint optimiser of an HVAC zone heated by a heat
// pump. It keeps the zone inside a comfort band while people are there and spends as little
// heat as it can otherwise:
//
//   HvacComfortParams p;                        // comfort [20, 24], weekdays 08-18, setback 16
//   HvacComfortOptimiser opt(p);
//   Result<double> sp = opt.Propose(now, {{"zone_temp", 19.2}, {"outdoor_temp", 3.5},
//                                         {"occupancy", 0}, {"heat_pump_power", 0.4}});
//   // from edge.yaml: source: {optimiser: {kind: hvac_comfort, comfort: [20, 24], ...}}
//   WEFT_ASSIGN_OR_RETURN(auto source, MakeHvacComfortOptimiser(loop.source_optimiser));
//
// What it does each period (the strategy, in order):
//   1. Occupied (the schedule says so, or the live `occupancy` signal saw people within the last
//      `occupancy_hold` minutes, outside the schedule too): comfort. The target zone temperature
//      is comfort_lo + margin; the setpoint is target + trim + gain·(target - zone_temp), where
//      `trim` integrates the error (integral_time): it learns the droop of the PLC's
//      proportional thermostat and the heat the building mass takes after a setback, which a
//      fixed setpoint cannot. Bounded to [setback, max_setpoint].
//   2. Early setback: in the last `early_setback` minutes of a scheduled occupied period, the
//      setpoint drops to `setback` when the zone, coasting on its thermal mass, is predicted to
//      stay above comfort_lo + guard until the period ends. The prediction is the zone's own
//      observed free cooling after the end-of-day setbacks (the largest drop seen over the last
//      days for that coasting time, times preheat_safety). The zone falling to comfort_lo + guard
//      re-engages comfort for the rest of that period.
//   3. Optimal start: before the next occupied period the zone heats for
//      lead = preheat_safety · (target - zone_temp) / rate(outdoor_temp) + lead_offset, at most
//      max_preheat. `rate` (K/h) is learned online from every preheat (deficit / time to reach
//      the target, paired with the outdoor temperature at its start): a least-squares line in
//      the outdoor temperature once three preheats span 2 K, else the slowest preheat seen,
//      else initial_heating_rate.
//   4. Otherwise (nights, non-scheduled days, holidays): setback.
// Missing inputs (absent or NaN) degrade toward comfort: no zone_temp -> the longest preheat
// and, when occupied, target + the learned trim (at least 1 K); no outdoor_temp -> the slowest
// rate seen; no occupancy -> the schedule alone; no heat_pump_power -> nothing is lost (it is
// only reported). Propose always returns a finite value in [setback, max_setpoint]; the safety
// envelope still decides what is written.
//
// Time: the schedule is in local time = UTC + utc_offset hours (a fixed offset; no DST).
//
// Thread-safety: not thread-safe (a ControlLoop calls its source from one thread).
#ifndef WEFT_CONTROL_HVAC_HVAC_COMFORT_OPTIMISER_H_
#define WEFT_CONTROL_HVAC_HVAC_COMFORT_OPTIMISER_H_

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/core/control_config.h"
#include "control/loop/setpoint_source.h"

namespace weft::control {

//! Parameters of `optimiser: {kind: hvac_comfort, ...}` (the key in brackets).
struct HvacComfortParams {
  double comfort_lo = 20;                   //!< [comfort: [lo, hi]] degC
  double comfort_hi = 24;                   //!< degC
  std::vector<int> days = {0, 1, 2, 3, 4};  //!< [days: [mon, tue, ...]] 0 = Monday .. 6 Sunday
  double start_hour = 8;                    //!< [hours: [start, end]] local hour, occupied from
  double end_hour = 18;                     //!< local hour, occupied until (exclusive)
  std::vector<std::string> holidays;        //!< [holidays: [2026-12-25, ...]] local dates, setback
  double setback = 16;                      //!< [setback] degC, unoccupied setpoint
  double margin = 0.5;                      //!< [margin] K above comfort_lo aimed at
  double max_setpoint = 23;                 //!< [max_setpoint] highest setpoint proposed (boost)
  double utc_offset = 0;                    //!< [utc_offset] hours, local = UTC + this
  double preheat_safety = 1.3;              //!< [preheat_safety] >= 1: lead and coasting factor
  double max_preheat = 4;                   //!< [max_preheat] hours
  double lead_offset = 10;                  //!< [lead_offset] minutes added to every lead
  double initial_heating_rate = 2;          //!< [initial_heating_rate] K/h before any preheat seen
  double early_setback = 60;                //!< [early_setback] minutes; 0 disables it
  double guard = 0.2;                       //!< [guard] K above comfort_lo that ends a coast
  double occupancy_hold = 30;               //!< [occupancy_hold] minutes of comfort after people
  double integral_time = 30;                //!< [integral_time] minutes
  double gain = 1;                          //!< [gain] K of setpoint per K of error
};

//! Checks the parameters: finite, comfort_lo < comfort_hi, 0 <= margin < hi - lo, setback <=
//! comfort_lo, comfort_lo + margin < max_setpoint, days in 0..6, 0 <= start < end <= 24,
//! holidays as YYYY-MM-DD, preheat_safety >= 1, positive times and rates. InvalidArgument
//! naming the parameter otherwise.
Status ValidateHvacComfortParams(const HvacComfortParams& params);

//! Reads the params of an `optimiser:` source of kind hvac_comfort (unknown keys, wrong types
//! and invalid values are InvalidArgument naming file:line:column and the field path).
Result<HvacComfortParams> ParseHvacComfortParams(const OptimiserSource& source);

class HvacComfortOptimiser final : public SetpointSource {
 public:
  static constexpr const char* kKind = "hvac_comfort";
  static constexpr const char* kVersion = "1.0.0";

  //! What the optimiser decided last, for tests, logs and benches.
  enum class Phase { kSetback, kPreheat, kComfort, kEarlySetback };

  //! REQUIRES: ValidateHvacComfortParams(params).ok() (the factory checks it).
  explicit HvacComfortOptimiser(HvacComfortParams params);

  Result<double> Propose(TimePoint now, const std::map<std::string, double>& inputs) override;
  std::string name() const override { return kKind; }
  std::string version() const override { return kVersion; }

  Phase phase() const { return phase_; }
  static const char* PhaseName(Phase phase);
  //! The heating rate (K/h) the optimiser expects at `outdoor_c` (NaN: unknown).
  double ExpectedHeatingRate(double outdoor_c) const;
  //! Preheats learned so far: {outdoor temperature at the start, observed rate K/h}.
  const std::vector<std::array<double, 2>>& preheats() const { return preheats_; }
  double trim() const { return trim_; }
  const HvacComfortParams& params() const { return params_; }

 private:
  static constexpr int kCoastBins = 8;  //!< 15-minute bins of observed free cooling
  static constexpr double kCoastBinMin = 15;

  //! Scheduled occupancy at a local day number (days since 1970-01-01) and hour.
  bool OccupiedDay(int64_t local_day) const;
  //! Hours from local time `local_h_abs` (hours since the epoch) to the next scheduled start
  //! (0 when occupied now); +inf when none within 14 days.
  double HoursToNextStart(int64_t local_day, double hour) const;
  double PreheatLeadHours(double zone_c, double outdoor_c) const;
  double ComfortSetpoint(double zone_c, double dt_s, bool integrate);
  //! Largest drop (K) seen after `minutes` of free cooling at the end of a day; NaN if unknown.
  double ObservedCoastDrop(double minutes) const;
  //! Times the preheat in progress; `still_heating` false abandons it.
  void LearnPreheat(TimePoint now, double zone_c, bool still_heating);
  //! Records the end-of-day free cooling; `stop` (heat again, or another phase) ends it.
  void LearnCoast(TimePoint now, double zone_c, bool stop);

  HvacComfortParams params_;
  std::vector<int64_t> holidays_;  //!< local day numbers
  double target_;                  //!< comfort_lo + margin

  Phase phase_ = Phase::kSetback;
  std::optional<TimePoint> last_now_;
  std::optional<TimePoint> last_people_;  //!< last time occupancy > 0 was seen
  double trim_ = 0;
  int64_t coast_blocked_day_ = -1;  //!< local day whose early setback was cut short

  //! The preheat in progress: start time, zone and outdoor temperature at its start.
  struct PreheatRun {
    TimePoint start;
    double zone_c;
    double outdoor_c;
  };
  std::optional<PreheatRun> preheat_run_;
  std::vector<std::array<double, 2>> preheats_;  //!< {outdoor, rate}, at most kMaxPreheats

  //! The end-of-day free cooling being observed: start time and zone temperature then.
  struct CoastRun {
    TimePoint start;
    double zone_c;
    std::array<double, kCoastBins> drop;
  };
  std::optional<CoastRun> coast_run_;
  std::vector<std::array<double, kCoastBins>> coasts_;  //!< last days' drop curves (NaN unknown)
};

//! The factory of kind "hvac_comfort": parses and validates the params.
Result<std::unique_ptr<SetpointSource>> MakeHvacComfortOptimiser(const OptimiserSource& source);
//! Same, from params built in code.
Result<std::unique_ptr<SetpointSource>> MakeHvacComfortOptimiser(const HvacComfortParams& params);
//! Registers MakeHvacComfortOptimiser as kind "hvac_comfort" with control/loop's
//! RegisterOptimiser (call once at start-up; idempotent).
void RegisterHvacComfortOptimiser();

}  // namespace weft::control

#endif  // WEFT_CONTROL_HVAC_HVAC_COMFORT_OPTIMISER_H_

// HvacZoneTwin: a building zone heated by an air-source heat pump, as a 2R2C thermal network
// with occupancy, CO2 and humidity (model "hvac_zone", version 1.0.0).
//
//   Rng rng(7);
//   std::unique_ptr<HvacZoneTwin> zone = HvacZoneTwin::Create(HvacZoneTwin::Params{}).value();
//   (void)zone->SetInput("setpoint", 21.5);
//   for (int i = 0; i < 1440; ++i) zone->Step(60, rng);   // one day in minutes
//   double t = *zone->Output("zone_temp");
//
// Inputs (defaults in brackets):
//   setpoint               thermostat setpoint, 5..35 degC (OutOfRange outside) [21]
//   heat_pump_enabled      0/1 [1]
//   occupancy_override     persons, 0..10000, replaces the schedule; NaN returns to it [NaN]
//   outdoor_temp_override  degC, -50..60, replaces the daily sinusoid; NaN returns to it [NaN]
//
// Thermal network (temperatures in degC, heat flows in W):
//   C_a·dT_a/dt = (T_m - T_a)/R_am + (T_o - T_a)/R_ao + Q_hp + Q_occ      air node
//   C_m·dT_m/dt = (T_a - T_m)/R_am + (T_o - T_m)/R_mo                      building mass node
//   With constant inputs the steady state is
//     T_a = T_o + (Q_hp + Q_occ)·R_eff,  1/R_eff = 1/R_ao + 1/(R_am + R_mo),
//     T_m = T_o + (T_a - T_o)·R_mo/(R_am + R_mo),
//   and without heat both nodes decay toward T_o with the time constants -1/λ of the system
//   matrix's two real negative eigenvalues (defaults: about 15 min and 40 h).
// Integration: each Step is split into n = ceil(dt/max_substep) equal sub-steps h; within a
//   sub-step the inputs (T_o, occupancy, heat pump power) are held and the linear system is
//   advanced EXACTLY with the matrix exponential, x <- x_ss + exp(A·h)·(x - x_ss) (Sylvester's
//   formula on the 2x2 matrix). This is stable for any h; the sub-steps only bound how long
//   the thermostat and the outdoor temperature are held (sampled-data control).
// Heat pump (heating only):
//   P_el = clamp(K_p·(T_set - T_a), 0, P_max) when enabled, else 0
//   COP = clamp(η_c·T_s/(T_s - T_o), cop_min, cop_max), temperatures in K (T_s the supply
//     temperature parameter); Q_hp = COP·P_el.
//   supply_air_temp = T_a + Q_hp/G_sa (G_sa the supply air flow's heat capacity rate, W/K).
// Outdoor temperature: T_o(t) = mean + amplitude·cos(2π·(hour(t) - peak_hour)/24), hour(t) =
//   (start_hour + t/3600) mod 24, t the simulated seconds since creation.
// Occupancy: Monday-Friday from occupancy_start_hour to occupancy_end_hour N =
//   round(design_occupancy·a) persons, else 0 (day 0 is start_weekday, 0 = Monday); the day's
//   attendance a ~ N(attendance_mean, attendance_stddev) clamped to [0, 1] is drawn from the Rng
//   when the day begins (the only randomness of this model). Q_occ = N·q_person.
// CO2 (ppm): V·dC/dt = N·g_co2·1e6 - Q_v·(C - C_out), Q_v = V·ach/3600; humidity ratio x
//   (kg/kg): ρ·V·dx/dt = N·m_w + ρ·Q_v·(x_out - x), x_out from outdoor_humidity at T_o; both
//   exact per sub-step (time constant 3600/ach s). zone_humidity = 100·p_w/p_sat(T_a) with
//   p_w = x·p/(0.622 + x) and the Magnus formula for p_sat, clamped to 0..100 %RH.
//
// Outputs (the "hvac_zone" asset type): zone_temp, outdoor_temp, supply_air_temp, setpoint
// (degC), zone_humidity (%RH), occupancy (persons), co2 (ppm), heat_pump_power (kW, mean over
// the step), heat_pump_energy (kWh), cop (mean over the step's heating, or the COP available at
// the current outdoor temperature when the heat pump is idle).
//
// Faults: none of FaultKind apply (InjectFault is Unimplemented; failed() is always false).
//
// Thread-safety: not thread-safe; one thread steps a twin.
#ifndef WEFT_TWIN_HVAC_ZONE_TWIN_H_
#define WEFT_TWIN_HVAC_ZONE_TWIN_H_

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "twin/twin.h"
#include "twin/twin_support.h"

namespace weft::twin {

class HvacZoneTwin final : public Twin {
 public:
  static constexpr std::string_view kModelName = "hvac_zone";
  static constexpr std::string_view kVersion = "1.0.0";

  //! Defaults: a 200 m2 office floor (600 m3), envelope and ventilation about 290 W/K,
  //! 4 kW(el) heat pump, 20 people on weekdays 8-18 h, a mild winter day (5 ± 5 degC).
  struct Params {
    double air_capacitance = 2e6;          //!< C_a, air and furnishings (J/K)
    double mass_capacitance = 4e7;         //!< C_m, building structure (J/K)
    double r_air_mass = 0.0005;            //!< R_am (K/W)
    double r_air_outdoor = 0.0067;         //!< R_ao, windows and ventilation (K/W)
    double r_mass_outdoor = 0.0067;        //!< R_mo, walls and roof (K/W)
    double zone_volume_m3 = 600;           //!< V (m3)
    double air_change_rate = 1.0;          //!< ach, fresh air changes for CO2/moisture (1/h)
    double heat_pump_max_power_kw = 4;     //!< P_max, electrical (kW)
    double thermostat_gain = 2;            //!< K_p, electrical kW per K below setpoint (kW/K)
    double carnot_efficiency = 0.45;       //!< η_c (1)
    double supply_temp_c = 35;             //!< T_s, heat pump supply temperature (degC)
    double cop_min = 1;                    //!< (1)
    double cop_max = 7;                    //!< (1)
    double supply_air_conductance = 1000;  //!< G_sa, supply air m·c_p (W/K)
    double heat_gain_per_person = 100;     //!< q_person, sensible (W)
    double co2_per_person = 0.0052;        //!< g_co2 (L/s)
    double moisture_per_person = 50;       //!< m_w (g/h)
    double outdoor_co2 = 420;              //!< C_out (ppm)
    double outdoor_mean_temp_c = 5;        //!< daily mean (degC)
    double outdoor_temp_amplitude = 5;     //!< half the daily swing (K)
    double outdoor_peak_hour = 15;         //!< hour of the daily maximum (h)
    double outdoor_humidity = 80;          //!< outdoor relative humidity (%RH)
    double design_occupancy = 20;          //!< persons in occupied hours at full attendance (count)
    double attendance_mean = 0.85;         //!< mean share of design_occupancy present (1)
    double attendance_stddev = 0.1;        //!< day-to-day standard deviation of that share (1)
    double occupancy_start_hour = 8;       //!< (h)
    double occupancy_end_hour = 18;        //!< (h)
    double start_weekday = 0;              //!< weekday at t = 0, 0 Monday .. 6 Sunday (1)
    double start_hour = 0;                 //!< hour of day at t = 0 (h)
    double initial_temp_c = 20;            //!< T_a = T_m at creation (degC)
    double setpoint_c = 21;                //!< initial setpoint (degC)
    double max_substep_s = 30;             //!< longest sub-step (s)
  };

  //! InvalidArgument for a parameter outside its interval, cop_min > cop_max or
  //! occupancy_start_hour > occupancy_end_hour.
  static Status Validate(const Params& params);
  static Result<std::unique_ptr<HvacZoneTwin>> Create(const Params& params);
  static Result<std::unique_ptr<HvacZoneTwin>> Create(
      const std::map<std::string, double>& overrides);

  const TwinInfo& info() const override { return info_; }
  void Step(double dt_s, Rng& rng) override;
  std::optional<double> Output(std::string_view name) const override;
  std::vector<std::string> OutputNames() const override;
  Status SetInput(std::string_view name, double value) override;
  std::vector<std::string> InputNames() const override;
  Status InjectFault(FaultKind kind, double severity) override;
  void ClearFaults() override {}
  bool failed() const override { return false; }
  void Repair() override {}

  const Params& params() const { return params_; }
  double air_temp_c() const { return air_c_; }
  double mass_temp_c() const { return mass_c_; }
  //! The two time constants of the thermal network, {fast, slow} (s).
  std::array<double, 2> TimeConstants() const;
  //! The outdoor temperature of the daily sinusoid at `t_s` seconds after creation (degC).
  double OutdoorTemp(double t_s) const;
  //! True when `t_s` seconds after creation falls in the weekday occupied hours.
  bool Occupied(double t_s) const;
  //! COP at outdoor temperature `outdoor_c` (degC).
  double Cop(double outdoor_c) const;

  static constexpr size_t kNumOutputs = 10;

 private:
  explicit HvacZoneTwin(const Params& params);
  //! Sets transition_ to exp(A·h) unless it already is.
  void PrepareTransition(double h_s);
  double OutdoorHumidityRatio(double outdoor_c) const;
  //! Persons present at `t_s` from the schedule, drawing a new day's attendance when needed.
  double ScheduledOccupancy(double t_s, Rng& rng);
  double RelativeHumidity(double air_c) const;

  Params params_;
  TwinInfo info_;
  std::array<double, 4> system_{};       //!< A, row-major (1/s)
  std::array<double, 2> eigenvalues_{};  //!< λ_fast < λ_slow < 0 (1/s)
  double transition_h_ = -1;             //!< sub-step of transition_ (s)
  std::array<double, 4> transition_{};   //!< exp(A·transition_h_), row-major
  // Inputs.
  double setpoint_c_;
  bool heat_pump_enabled_ = true;
  std::optional<double> occupancy_override_;
  std::optional<double> outdoor_override_c_;
  // State.
  double time_s_ = 0;
  double air_c_;
  double mass_c_;
  double co2_ppm_;
  double humidity_ratio_;
  double energy_kwh_ = 0;
  double attendance_day_ = -1;     //!< day index (since creation) of attendance_persons_
  double attendance_persons_ = 0;  //!< persons present in today's occupied hours
  std::array<double, kNumOutputs> outputs_{};
};

}  // namespace weft::twin

#endif  // WEFT_TWIN_HVAC_ZONE_TWIN_H_

// CompressorTwin: an oil-injected rotary screw air compressor with load/unload control feeding
// an air receiver (model "compressor", version 1.0.0).
//
//   Rng rng(7);
//   std::unique_ptr<CompressorTwin> c = CompressorTwin::Create(CompressorTwin::Params{}).value();
//   (void)c->SetInput("demand", 6);   // m3/min of free air drawn by the plant
//   for (int i = 0; i < 3600; ++i) c->Step(1.0, rng);
//   double p = *c->Output("discharge_pressure");   // bar (gauge), between 6.5 and 7.5
//
// Inputs (defaults in brackets):
//   demand           free air drawn from the receiver by the plant, 0..200 m3/min [6]
//   running          0/1 start command [1]
//   load_pressure    p_min: the compressor loads at or below it, 0..max_pressure bar
//                    [parameter load_pressure, 6.5]
//   unload_pressure  p_max: it unloads at or above it, 0..max_pressure bar
//                    [parameter unload_pressure, 7.5]
//                    (OutOfRange unless load_pressure < unload_pressure: move the band in an
//                    order that keeps it valid)
//   ambient_temp     intake air temperature, -30..60 degC [20]
//
// Equations:
//   Receiver (isothermal mass balance in free air): dp/dt = p_atm·(FAD·λ - D)/(60·V)   [bar/s]
//     with λ = 1 loaded, 0 unloaded or stopped, D the demand (m3/min), V the receiver volume
//     (m3); p >= 0 (an empty receiver cannot meet the demand). Hysteresis: load when p <= p_min,
//     unload when p >= p_max. Pressure is piecewise linear, so each step is integrated exactly
//     with the switching instants inside the step: results do not depend on the step size.
//     Over a long run the loaded share of time is D/FAD (when D < FAD).
//   Power: loaded P_L·(1 + c_p·(p - p_rated)), unloaded P_U, stopped 0, plus the bearing wear
//     friction P_w·w² while running; averaged over the step. energy = ∫P dt.
//   oil_temp: first order, τ_oil, toward T_amb + k_oil·P (P the step's mean power, kW).
//   discharge_temp = oil_temp + ΔT_d·(loaded share of the step); inlet_temp = T_amb.
//   free_air_delivery = FAD·(loaded share), load = 100·(loaded share)  [m3/min, %].
//   dew_point = dew point after the dryer + N(0, σ_dp) (pressure dew point, refrigerant dryer).
//   vibration_rms = max(0, v0·(λ_s + u·(1 - λ_s))·(1 + k_v·w²) + N(0, σ_v)) running, with λ_s
//     the loaded share and u the unloaded ratio; max(0, N(0, σ_v)) stopped.
//   running_hours counts hours with the motor turning (loaded or unloaded).
//   state: 0 off, 1 idle (unloaded), 2 loaded, 3 fault (failed).
//
// Faults:
//   kBearingWear (s): BearingWear while running (dw/dt = r·s·(1 + a·w)); at w = 1 the
//     compressor trips (state 3) and stops until Repair(). Running time to failure
//     ln(1 + a)/(a·r·s) = 616131 s ≈ 7.1 days at s = 1 with the defaults.
// ClearFaults() stops the wear (damage so far remains); Repair() renews the bearing.
//
// Outputs (the "compressor" asset type): discharge_pressure (bar, gauge), discharge_temp,
// inlet_temp, oil_temp (degC), free_air_delivery (m3/min), power (kW), energy (kWh), load (%),
// state, running_hours (h), vibration_rms (mm/s), dew_point (degC).
//
// Thread-safety: not thread-safe; one thread steps a twin.
#ifndef WEFT_TWIN_COMPRESSOR_TWIN_H_
#define WEFT_TWIN_COMPRESSOR_TWIN_H_

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

class CompressorTwin final : public Twin {
 public:
  static constexpr std::string_view kModelName = "compressor";
  static constexpr std::string_view kVersion = "1.0.0";

  enum class State { kOff = 0, kIdle = 1, kLoaded = 2, kFault = 3 };

  //! Defaults: a 55 kW class screw compressor, 10 m3/min at 7 bar, 3 m3 receiver.
  struct Params {
    double rated_fad_m3min = 10;               //!< FAD, free air delivery loaded (m3/min)
    double loaded_power_kw = 60;               //!< P_L at rated pressure (kW)
    double unloaded_power_kw = 16;             //!< P_U (kW)
    double rated_pressure_bar = 7;             //!< p_rated (bar)
    double power_pressure_coefficient = 0.06;  //!< c_p (1/bar)
    double max_pressure_bar = 13;              //!< highest allowed unload pressure (bar)
    double load_pressure_bar = 6.5;            //!< initial p_min, input load_pressure (bar)
    double unload_pressure_bar = 7.5;          //!< initial p_max, input unload_pressure (bar)
    double receiver_volume_m3 = 3;             //!< V, receiver and pipework (m3)
    double atmospheric_pressure_bar = 1.013;   //!< p_atm (bar)
    double initial_pressure_bar = 0;           //!< receiver pressure at creation (bar)
    double oil_rise_per_kw = 1.0;              //!< k_oil (K/kW)
    double oil_time_constant_s = 900;          //!< τ_oil (s)
    double discharge_temp_rise = 8;            //!< ΔT_d over oil temperature loaded (K)
    double dryer_dew_point_c = 3;              //!< pressure dew point after the dryer (degC)
    double dew_point_noise = 0.1;              //!< σ_dp (K)
    double vibration_baseline = 2.0;           //!< v0 loaded (mm/s)
    double vibration_unloaded_ratio = 0.7;     //!< u (1)
    double vibration_wear_gain = 6;            //!< k_v (1)
    double vibration_noise = 0.05;             //!< σ_v (mm/s)
    double bearing_wear_power_kw = 2;          //!< P_w, extra friction at w = 1 (kW)
    double wear_rate = 7.5e-7;                 //!< r (1/s)
    double wear_acceleration = 3;              //!< a (1)
  };

  //! InvalidArgument for a parameter outside its interval, or unless
  //! load_pressure < unload_pressure <= max_pressure.
  static Status Validate(const Params& params);
  static Result<std::unique_ptr<CompressorTwin>> Create(const Params& params);
  static Result<std::unique_ptr<CompressorTwin>> Create(
      const std::map<std::string, double>& overrides);

  const TwinInfo& info() const override { return info_; }
  void Step(double dt_s, Rng& rng) override;
  std::optional<double> Output(std::string_view name) const override;
  std::vector<std::string> OutputNames() const override;
  Status SetInput(std::string_view name, double value) override;
  std::vector<std::string> InputNames() const override;
  Status InjectFault(FaultKind kind, double severity) override;
  void ClearFaults() override { wear_.Stop(); }
  bool failed() const override { return failed_; }
  void Repair() override;

  const Params& params() const { return params_; }
  State state() const;
  //! Receiver pressure now (bar, gauge).
  double pressure_bar() const { return pressure_bar_; }
  double wear() const { return wear_.wear(); }
  double BearingTimeToFailure(double severity) const { return wear_.TimeToFailure(severity); }
  //! Totals since creation: seconds loaded, seconds unloaded and running.
  double loaded_time_s() const { return loaded_total_s_; }
  double unloaded_time_s() const { return unloaded_total_s_; }

  static constexpr size_t kNumOutputs = 12;

 private:
  explicit CompressorTwin(const Params& params);
  //! Loaded electrical power (kW) averaged over a segment whose pressure moves linearly
  //! from p0 to p1.
  double LoadedPowerKw(double p0_bar, double p1_bar) const;

  Params params_;
  TwinInfo info_;
  internal::BearingWear wear_;
  // Inputs.
  double demand_m3min_ = 6;
  bool run_command_ = true;
  double load_pressure_bar_;
  double unload_pressure_bar_;
  double ambient_c_ = 20;
  // State.
  bool failed_ = false;
  bool loaded_ = false;
  double pressure_bar_;
  double oil_c_;
  double energy_kwh_ = 0;
  double running_s_ = 0;
  double loaded_total_s_ = 0;
  double unloaded_total_s_ = 0;
  std::array<double, kNumOutputs> outputs_{};
};

}  // namespace weft::twin

#endif  // WEFT_TWIN_COMPRESSOR_TWIN_H_

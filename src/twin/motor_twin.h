// MotorTwin: a three-phase induction motor with thermal, bearing and vibration behaviour
// (model "motor", version 1.0.0).
//
//   Rng rng(7);
//   std::unique_ptr<MotorTwin> motor = MotorTwin::Create(MotorTwin::Params{}).value();
//   (void)motor->SetInput("load", 0.9);
//   motor->Step(1.0, rng);
//   double i = *motor->Output("current");                 // A
//   (void)motor->InjectFault(FaultKind::kBearingWear, 0.5);
//   // fails after motor->BearingTimeToFailure(0.5) seconds of running
//
// Inputs (defaults in brackets):
//   load          shaft torque as a fraction of rated torque, 0..1.2 [0.75]
//   running       0/1 start command [1]; the motor runs when commanded and not failed
//   ambient_temp  cooling air temperature, -40..60 degC [25]
//
// Equations (per step of dt seconds; inputs are held constant over the step):
//   running:  I = I_nl + (I_rated - I_nl)·load;  stopped: I = 0                          [A]
//   P_cu = 3·R_s·I² (stator copper, R_s per phase);  P_fe = iron_loss when running        [W]
//   Winding node:  C_th·dT/dt = P_cu + P_fe - (T - T_amb)/R_th', R_th' = R_th·(1 + g_c·s_c)
//     integrated exactly: T <- T_ss + (T - T_ss)·exp(-dt/τ),  T_ss = T_amb + (P_cu+P_fe)·R_th',
//     τ = R_th'·C_th  (defaults: τ = 2430 s, 69 K rise at rated load).
//   Bearings (drive end and non-drive end), each a slower first-order node (τ_b = R_b·C_b):
//     T_b,ss = T_amb + R_b·P_fr + c_wb·(T_w - T_amb), with the winding temperature T_w of the
//     start of the step; friction P_fr = P_fr0·(1 + g_f·w²) at the drive end and
//     nde_friction_ratio·P_fr0 at the non-drive end (the wear w is in the drive-end bearing).
//   speed n = n_sync·(1 - s_rated·load)                                                   [rpm]
//   P_mech = P_rated·load·n/n_rated, n_rated = n_sync·(1 - s_rated)                       [kW]
//   power P = P_mech/η_m + (P_cu + P_fe + P_fr0·g_f·w²)/1000: η_m covers the losses not
//     modelled explicitly (rotor, windage, stray); wear adds its extra friction           [kW]
//   energy += P·dt/3600                                                                   [kWh]
//   vibration_rms = max(0, v + N(0, σ_v)), v = v0·(1 + k_v·w²) running, 0 stopped        [mm/s]
//   voltage = V_rated + N(0, σ_V) (supply voltage, also when stopped)                     [V]
//
// Faults:
//   kBearingWear (severity s): dw/dt = r·s·(1 + a·w) from w = 0 while running (see
//     BearingWear). At w >= 1 the bearing seizes: failed() is true and the motor stops until
//     Repair(). Running time to failure t_f = ln(1 + a)/(a·r·s); with the defaults
//     (r = 7.5e-7 1/s, a = 3) t_f = 616131 s ≈ 7.1 days at s = 1, 14.3 days at s = 0.5.
//   kCoolingLoss (severity s_c): R_th' = R_th·(1 + g_c·s_c) with g_c = 2 (blocked fan, dirty
//     fins): at s_c = 1 the winding's rise over ambient triples, and so does τ.
// ClearFaults() stops wear growth and restores cooling; the wear so far remains.
// Repair() fits a new bearing (w = 0), clears faults and the failed state.
//
// Outputs (units as in the "motor" asset type): winding_temp, bearing_temp_de, bearing_temp_nde
// (degC), vibration_rms (mm/s), current (A), voltage (V), power (kW), energy (kWh), speed (rpm),
// running (0/1). They are the values at the end of the last Step (the initial state before).
//
// Thread-safety: not thread-safe; one thread steps a twin.
#ifndef WEFT_TWIN_MOTOR_TWIN_H_
#define WEFT_TWIN_MOTOR_TWIN_H_

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

class MotorTwin final : public Twin {
 public:
  static constexpr std::string_view kModelName = "motor";
  static constexpr std::string_view kVersion = "1.0.0";

  //! Defaults describe a 15 kW, 400 V, 4-pole (1500 rpm synchronous), 50 Hz motor, class F.
  struct Params {
    double rated_power_kw = 15;                //!< mechanical output at load 1 (kW)
    double rated_voltage_v = 400;              //!< line-to-line supply voltage (V)
    double rated_current_a = 28;               //!< line current at load 1 (A)
    double no_load_current_a = 10;             //!< line current at load 0, running (A)
    double sync_speed_rpm = 1500;              //!< synchronous speed (rpm)
    double rated_slip = 0.027;                 //!< slip at load 1 (1)
    double stator_resistance_ohm = 0.2;        //!< per phase (V/A)
    double iron_loss_w = 300;                  //!< core losses while running (W)
    double mech_efficiency = 0.96;             //!< efficiency excluding copper and iron losses (1)
    double thermal_resistance = 0.09;          //!< R_th winding to ambient (K/W)
    double thermal_capacitance = 27000;        //!< C_th of the winding node (J/K)
    double cooling_loss_gain = 2;              //!< g_c: R_th' = R_th·(1 + g_c·severity) (1)
    double bearing_friction_w = 120;           //!< P_fr0, drive-end friction when new (W)
    double nde_friction_ratio = 0.8;           //!< non-drive-end friction / drive-end (1)
    double bearing_wear_friction_gain = 2;     //!< g_f: friction ×(1 + g_f·w²) (1)
    double bearing_thermal_resistance = 0.25;  //!< R_b bearing to ambient (K/W)
    double bearing_thermal_capacitance = 16000;  //!< C_b bearing housing (J/K)
    double bearing_winding_coupling = 0.2;  //!< c_wb: share of winding rise reaching a bearing (1)
    double vibration_baseline = 1.2;        //!< v0, healthy running (mm/s)
    double vibration_wear_gain = 6;         //!< k_v: v0·(1 + k_v·w²) (1)
    double vibration_noise = 0.05;          //!< σ_v (mm/s)
    double voltage_noise = 0.5;             //!< σ_V (V)
    double wear_rate = 7.5e-7;              //!< r (1/s)
    double wear_acceleration = 3;           //!< a (1)
  };

  //! InvalidArgument when a parameter is outside its documented interval or
  //! no_load_current_a >= rated_current_a.
  static Status Validate(const Params& params);
  static Result<std::unique_ptr<MotorTwin>> Create(const Params& params);
  //! Default parameters with `overrides` (by the names in info().parameters) applied.
  static Result<std::unique_ptr<MotorTwin>> Create(const std::map<std::string, double>& overrides);

  const TwinInfo& info() const override { return info_; }
  void Step(double dt_s, Rng& rng) override;
  std::optional<double> Output(std::string_view name) const override;
  std::vector<std::string> OutputNames() const override;
  Status SetInput(std::string_view name, double value) override;
  std::vector<std::string> InputNames() const override;
  Status InjectFault(FaultKind kind, double severity) override;
  void ClearFaults() override;
  bool failed() const override { return failed_; }
  void Repair() override;

  const Params& params() const { return params_; }
  //! Drive-end bearing damage, 0 (new) .. 1 (failed).
  double wear() const { return wear_.wear(); }
  //! Running seconds from a new bearing to failure under kBearingWear of this severity.
  double BearingTimeToFailure(double severity) const { return wear_.TimeToFailure(severity); }
  //! The winding's thermal time constant R_th'·C_th (s), including a cooling-loss fault.
  double WindingTimeConstant() const;

  static constexpr size_t kNumOutputs = 10;

 private:
  explicit MotorTwin(const Params& params);
  double EffectiveThermalResistance() const;

  Params params_;
  TwinInfo info_;
  internal::BearingWear wear_;
  // Inputs.
  double load_ = 0.75;
  bool run_command_ = true;
  double ambient_c_ = 25;
  // State.
  double winding_c_;
  double bearing_de_c_;
  double bearing_nde_c_;
  double energy_kwh_ = 0;
  double cooling_loss_severity_ = 0;
  bool failed_ = false;
  std::array<double, kNumOutputs> outputs_{};
};

}  // namespace weft::twin

#endif  // WEFT_TWIN_MOTOR_TWIN_H_

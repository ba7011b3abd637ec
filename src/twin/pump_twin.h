// PumpTwin: a centrifugal pump with its variable-speed drive motor in a pipe system
// (model "pump", version 1.0.0).
//
//   Rng rng(7);
//   std::unique_ptr<PumpTwin> pump = PumpTwin::Create(PumpTwin::Params{}).value();
//   (void)pump->SetInput("speed", 2400);   // rpm
//   (void)pump->SetInput("valve", 1.5);    // throttled: 1.5 × design system resistance
//   pump->Step(1.0, rng);
//   double q = *pump->Output("flow");      // m3/h
//
// Inputs (defaults in brackets):
//   speed    drive speed setpoint n, 0..max_speed rpm [ref_speed]; the drive follows at once
//   running  0/1 start command [1]; the pump runs when commanded and not failed
//   valve    system resistance factor v, 0..1000 (1 = design, larger = more throttled) [1]
//
// Equations (per step; r = n/n0 the speed ratio, H in m, Q in m3/h):
//   pump curve    H = f_c·(f_i·H0·r² - k·Q²)
//   system curve  H = H_static + k_sys·v·Q²
//   operating point, exact: Q = sqrt((f_c·f_i·H0·r² - H_static)/(f_c·k + k_sys·v)), or Q = 0
//     and H = f_c·f_i·H0·r² (shut-off) when the pump cannot lift the static head.
//   efficiency    η = f_e·η_bep·x·(2 - x), x = Q/(r·Q_bep): the best efficiency point moves
//     with the affinity laws (Q_bep·r), so η is the same at affinity-similar points. The
//     factor (2 - x) is floored at 0.2 far right of the BEP (run-out).
//   shaft power   P_shaft = ρ·g·Q·H/η = ρ·g·H·r·Q_bep/(f_e·η_bep·(2 - x)), finite at Q = 0 [W]
//   power         P = (P_shaft + P_fr0·r·g_f·w²)/η_motor (electrical input, kW); energy += P·dt
//   motor_current I = sqrt(I_mag² + (P/(√3·V))²) running, else 0                          [A]
//   With H_static = 0 and no faults this gives the affinity laws Q ∝ n, H ∝ n², P ∝ n³.
//   suction_pressure   p_s = p_s0 - k_s·Q² - d_cav·s_cav                                   [bar]
//   discharge_pressure p_d = p_s + ρ·g·H/1e5 running, p_s stopped                          [bar]
//   fluid_temp: casing node C_c·dT/dt = (P_shaft - ρ·g·Q·H) + G_f·(T_in - T) + G_c·(T_amb - T),
//     G_f = ρ·c_p·Q (through-flow), integrated exactly: at low flow the losses heat the fluid.
//   bearing_temp: first-order node, T_ss = T_amb + R_b·P_fr + c_bf·(T_fluid - T_amb),
//     P_fr = P_fr0·r·(1 + g_f·w²), τ_b = R_b·C_b.
//   vibration_rms = max(0, r·(v0·(1 + k_v·w²) + v_cav·s_cav) + N(0, σ_v))                 [mm/s]
//   speed = n running, else 0.
//
// Faults:
//   kCavitation (s_cav): suction restriction: p_s drops by d_cav·s_cav, head by the factor
//     f_c = 1 - h_cav·s_cav, vibration rises by v_cav·s_cav (at r = 1).
//   kImpellerWear (s_i): f_i = 1 - h_i·s_i on H0 and f_e = 1 - e_i·s_i on efficiency.
//   kBearingWear (s): as the motor (BearingWear): dw/dt = r_w·s·(1 + a·w) while running; at
//     w = 1 the pump fails and stops until Repair(). Running time to failure
//     ln(1 + a)/(a·r_w·s) = 616131 s ≈ 7.1 days at s = 1 with the defaults.
// ClearFaults() ends all faults (bearing damage so far remains); Repair() also renews the
// bearing and clears the failed state.
//
// Outputs (the "pump" asset type): flow (m3/h), suction_pressure, discharge_pressure (bar, gauge),
// motor_current (A), power (kW), energy (kWh), speed (rpm), vibration_rms (mm/s), bearing_temp,
// fluid_temp (degC), running (0/1): values at the end of the last Step.
//
// Thread-safety: not thread-safe; one thread steps a twin.
#ifndef WEFT_TWIN_PUMP_TWIN_H_
#define WEFT_TWIN_PUMP_TWIN_H_

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

class PumpTwin final : public Twin {
 public:
  static constexpr std::string_view kModelName = "pump";
  static constexpr std::string_view kVersion = "1.0.0";

  //! Defaults: a 2-pole end-suction water pump, BEP 100 m3/h at 40 m, 2950 rpm, ~15 kW input,
  //! sized so that the design system (valve 1) meets the pump at its BEP.
  struct Params {
    double ref_speed_rpm = 2950;                  //!< n0, speed of the published curve (rpm)
    double max_speed_rpm = 3300;                  //!< highest speed setpoint (rpm)
    double shutoff_head_m = 50;                   //!< H0 at n0 (m)
    double pump_curve_coefficient = 0.001;        //!< k, m per (m3/h)² (h2/m5)
    double static_head_m = 10;                    //!< H_static of the system (m)
    double system_coefficient = 0.003;            //!< k_sys at valve 1, m per (m3/h)² (h2/m5)
    double bep_flow_m3h = 100;                    //!< Q_bep at n0 (m3/h)
    double bep_efficiency = 0.78;                 //!< η_bep (1)
    double motor_efficiency = 0.93;               //!< η_motor of motor and drive (1)
    double rated_voltage_v = 400;                 //!< V (V)
    double magnetizing_current_a = 8;             //!< I_mag, reactive current running (A)
    double density = 998;                         //!< ρ (kg/m3)
    double fluid_heat_capacity = 4186;            //!< c_p (J/(kg·K))
    double fluid_inlet_temp_c = 20;               //!< T_in (degC)
    double ambient_temp_c = 25;                   //!< T_amb (degC)
    double suction_static_pressure_bar = 1.5;     //!< p_s0 at zero flow (bar)
    double suction_loss_coefficient = 2e-5;       //!< k_s, bar per (m3/h)² (bar·h2/m6)
    double casing_heat_capacity = 40000;          //!< C_c, casing with its fluid (J/K)
    double casing_heat_loss = 30;                 //!< G_c, casing to ambient (W/K)
    double bearing_friction_w = 80;               //!< P_fr0 at n0, new bearings (W)
    double bearing_wear_friction_gain = 2;        //!< g_f (1)
    double bearing_thermal_resistance = 0.3;      //!< R_b (K/W)
    double bearing_thermal_capacitance = 12000;   //!< C_b (J/K)
    double bearing_fluid_coupling = 0.3;          //!< c_bf (1)
    double vibration_baseline = 1.8;              //!< v0 at n0 (mm/s)
    double vibration_wear_gain = 6;               //!< k_v (1)
    double vibration_noise = 0.05;                //!< σ_v (mm/s)
    double wear_rate = 7.5e-7;                    //!< r_w (1/s)
    double wear_acceleration = 3;                 //!< a (1)
    double cavitation_head_drop = 0.3;            //!< h_cav (1)
    double cavitation_vibration = 4;              //!< v_cav (mm/s)
    double cavitation_suction_drop = 0.8;         //!< d_cav (bar)
    double impeller_wear_head_drop = 0.2;         //!< h_i (1)
    double impeller_wear_efficiency_drop = 0.15;  //!< e_i (1)
  };

  static Status Validate(const Params& params);
  static Result<std::unique_ptr<PumpTwin>> Create(const Params& params);
  static Result<std::unique_ptr<PumpTwin>> Create(const std::map<std::string, double>& overrides);

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
  //! Pump head H of the last step (m).
  double head_m() const { return head_m_; }
  //! Hydraulic efficiency η of the last step (1).
  double efficiency() const { return efficiency_; }
  //! Shaft power of the last step (kW).
  double shaft_power_kw() const { return shaft_power_kw_; }
  double wear() const { return wear_.wear(); }
  double BearingTimeToFailure(double severity) const { return wear_.TimeToFailure(severity); }

  static constexpr size_t kNumOutputs = 11;

 private:
  explicit PumpTwin(const Params& params);

  Params params_;
  TwinInfo info_;
  internal::BearingWear wear_;
  // Inputs.
  double speed_setpoint_rpm_;
  bool run_command_ = true;
  double valve_ = 1;
  // Faults.
  double cavitation_severity_ = 0;
  double impeller_wear_severity_ = 0;
  bool failed_ = false;
  // State.
  double fluid_c_;
  double bearing_c_;
  double energy_kwh_ = 0;
  double head_m_ = 0;
  double efficiency_ = 0;
  double shaft_power_kw_ = 0;
  std::array<double, kNumOutputs> outputs_{};
};

}  // namespace weft::twin

#endif  // WEFT_TWIN_PUMP_TWIN_H_

// ConveyorTwin: a belt conveyor production cell that makes parts, rejects some and breaks down
// at random (model "conveyor", version 1.0.0). Its outputs suffice to compute OEE.
//
//   Rng rng(7);
//   std::unique_ptr<ConveyorTwin> cell = ConveyorTwin::Create(ConveyorTwin::Params{}).value();
//   (void)cell->SetInput("ideal_cycle_time", 20);   // s per part
//   for (int i = 0; i < 86400; ++i) cell->Step(1.0, rng);
//   double good = *cell->Output("good_count");
//
// Inputs (defaults in brackets):
//   running             0/1 production requested [1]
//   ideal_cycle_time    s per part at rated speed, 0.1..3600 [30]
//   reject_probability  chance that a finished part is rejected, 0..1 [0.02]
//   planned_stop        0/1 planned downtime (changeover, maintenance) [0]
//
// State, evaluated in this order: down (0) while a breakdown is being repaired (down_reason
// 1 jam, 2 electrical, 3 material shortage) or during a planned stop (down_reason 4); idle (1)
// when production is not requested; running (2) otherwise (down_reason 0).
//
// Random process (events are placed at their exact time inside a step, so statistics do not
// depend on the step size):
//   - Breakdowns come after running time ~ Exponential(MTBF): MTBF counts operating time only,
//     so over a long run availability = run/(run + breakdown) → MTBF/(MTBF + MTTR).
//   - A breakdown lasts ~ Exponential(MTTR) (the repair continues whatever the inputs), and its
//     reason is 1, 2 or 3 with probabilities proportional to jam_weight, electrical_weight,
//     material_shortage_weight.
//   - Parts: each part's cycle time is ideal·(1 + N(0, σ_c)), kept within [0.5, 1.5]·ideal,
//     drawn when the part starts; the part finishes after that much running time (a breakdown
//     pauses it); it is rejected with reject_probability, else good.
//   OEE from the outputs: availability = time in state 2 / time in states 2 and 0 with reasons
//   1-3; performance = ideal_cycle_time·(good + reject)/time in state 2; quality = good/(good +
//   reject).
//
// Outputs (the "conveyor" asset type): belt_speed (m/s), motor_current (A), power (kW), energy
// (kWh), state, down_reason, cycle_time (s, running time of the last finished part), good_count,
// reject_count (pcs, cumulative), vibration_rms (mm/s). Running: belt at belt_speed, current
// I_run + N(0, σ_I), power P_run·I/I_run, vibration v0 + N(0, σ_v); otherwise belt 0, current
// 0, power P_standby (controls), vibration max(0, N(0, σ_v)). energy integrates the exact
// running and stopped time within each step.
//
// Faults: none of FaultKind apply (InjectFault is Unimplemented; failed() is always false).
// Repair() ends a breakdown at once (the technician is already there).
//
// Thread-safety: not thread-safe; one thread steps a twin.
#ifndef WEFT_TWIN_CONVEYOR_TWIN_H_
#define WEFT_TWIN_CONVEYOR_TWIN_H_

#include <array>
#include <cstdint>
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

class ConveyorTwin final : public Twin {
 public:
  static constexpr std::string_view kModelName = "conveyor";
  static constexpr std::string_view kVersion = "1.0.0";

  enum class State { kDown = 0, kIdle = 1, kRunning = 2 };
  enum class DownReason {
    kNone = 0,
    kJam = 1,
    kElectrical = 2,
    kMaterialShortage = 3,
    kPlanned = 4
  };

  //! Defaults: a 5.5 kW belt drive, 4 h MTBF, 20 min MTTR (availability 92.3 %).
  struct Params {
    double belt_speed_ms = 0.5;             //!< belt speed while running (m/s)
    double running_current_a = 7.5;         //!< motor current while running (A)
    double running_power_kw = 4.0;          //!< electrical power while running (kW)
    double standby_power_kw = 0.15;         //!< controls and sensors when the belt stands (kW)
    double current_noise_a = 0.1;           //!< σ_I (A)
    double mtbf_s = 14400;                  //!< mean running time between breakdowns (s)
    double mttr_s = 1200;                   //!< mean repair time (s)
    double jam_weight = 0.5;                //!< relative frequency of jams (1)
    double electrical_weight = 0.2;         //!< relative frequency of electrical faults (1)
    double material_shortage_weight = 0.3;  //!< relative frequency of material shortage (1)
    double cycle_time_noise = 0.02;         //!< σ_c, relative (1)
    double vibration_baseline = 1.0;        //!< v0 running (mm/s)
    double vibration_noise = 0.05;          //!< σ_v (mm/s)
  };

  //! InvalidArgument for a parameter outside its interval or all reason weights zero.
  static Status Validate(const Params& params);
  static Result<std::unique_ptr<ConveyorTwin>> Create(const Params& params);
  static Result<std::unique_ptr<ConveyorTwin>> Create(
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
  void Repair() override;

  const Params& params() const { return params_; }
  State state() const;
  DownReason down_reason() const;
  //! Totals since creation (s): belt running, down for breakdowns, down for planned stops.
  double run_time_s() const { return run_time_s_; }
  double breakdown_time_s() const { return breakdown_time_s_; }
  double planned_stop_time_s() const { return planned_time_s_; }
  int64_t breakdowns() const { return breakdowns_; }
  //! Breakdowns so far by reason (index 1 jam, 2 electrical, 3 material shortage).
  const std::array<int64_t, 4>& breakdowns_by_reason() const { return breakdowns_by_reason_; }

  static constexpr size_t kNumOutputs = 10;

 private:
  explicit ConveyorTwin(const Params& params);
  double DrawCycleTime(Rng& rng) const;
  DownReason DrawReason(Rng& rng) const;

  Params params_;
  TwinInfo info_;
  // Inputs.
  bool production_requested_ = true;
  double ideal_cycle_s_ = 30;
  double reject_probability_ = 0.02;
  bool planned_stop_ = false;
  // State.
  bool started_ = false;        //!< the first Step draws the first failure and part times
  double until_failure_s_ = 0;  //!< running time left until the next breakdown
  double repair_left_s_ = 0;    //!< > 0 while a breakdown is being repaired
  DownReason breakdown_reason_ = DownReason::kNone;
  double part_cycle_s_ = 0;  //!< cycle time drawn for the part in progress
  double part_left_s_ = 0;   //!< running time left for the part in progress
  double last_cycle_s_ = 0;
  int64_t good_ = 0;
  int64_t rejects_ = 0;
  double energy_kwh_ = 0;
  double run_time_s_ = 0;
  double breakdown_time_s_ = 0;
  double planned_time_s_ = 0;
  int64_t breakdowns_ = 0;
  std::array<int64_t, 4> breakdowns_by_reason_{};
  std::array<double, kNumOutputs> outputs_{};
};

}  // namespace weft::twin

#endif  // WEFT_TWIN_CONVEYOR_TWIN_H_

// The plant simulator: one digital twin per asset of a plant.yaml, stepped in simulated time,
// sampled at each signal's period, with faults from a schedule or from commands.
//
//   SimOptions options;
//   options.seed = 7;
//   options.speed = 0;                        // as fast as possible (else x real time)
//   options.duration = std::chrono::hours(24);
//   WEFT_ASSIGN_OR_RETURN(auto sim, Simulator::Create(plant, options, faults));
//   CsvRecorder recorder(...);
//   sim->AddSink(&recorder);                  // publishers are sinks too
//   WEFT_RETURN_IF_ERROR(sim->Run());
//
// Which twin simulates an asset: the built-in model its type is or extends (cnc_spindle extends
// motor: a motor twin). Signals the twin has no output for, and assets whose type extends no
// built-in model, get a generic signal: a mean-reverting random walk inside the signal's valid
// range (counters count up; booleans hold with rare flips). A signal named after an input of the
// twin (e.g. a compressor's `running` coil) reads back the last command the twin took. Every value
// is quantised to the signal's data type (string signals carry whole-number ids, published as
// text).
//
// Determinism: each asset has its own random stream, seeded from the seed and the asset's id,
// and the tick is fixed, so the same plant, options and faults give the same samples, whatever
// the speed and whatever the sinks do.
//
// Repair: Repair(asset) is a technician renewing the asset: at the next tick the twin's Repair()
// (a new bearing, faults cleared, the failed state gone), and the asset's open twin-fault labels
// end at that tick (a label that ran to failure keeps its `failure` time). A failed twin runs
// again, and a later fault may fail it again (the failure is recorded on that fault's label).
//
// Thread-safety: Run() on one thread; Stop(), SetInput(), InjectFault() and Repair() from any
// thread (they are queued and applied at the next tick); accessors only after Run() returned.
#ifndef WEFT_SIM_SIMULATOR_H_
#define WEFT_SIM_SIMULATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/plant.h"
#include "sim/fault_schedule.h"
#include "sim/hvac_plc.h"
#include "twin/twin.h"

namespace weft::sim {

//! One sample the simulator produced.
struct Sample {
  uint32_t signal = 0;  //!< index into Simulator::signals()
  int64_t ts_us = 0;
  double value = 0;
  //! False while the asset's communication is dropped (comm_drop): produced, never sent.
  bool sent = true;
};

struct SimSignal {
  const model::Asset* asset = nullptr;
  const model::Signal* signal = nullptr;
  uint32_t asset_index = 0;
};

//! Receives each tick's samples, on the simulation thread. An error stops the run.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  virtual Status OnTick(TimePoint now, std::span<const Sample> samples) = 0;
  //! Called once when the run ends (flush files, wait for acknowledgements).
  virtual Status Finish() { return Status::Ok(); }
};

struct SimOptions {
  uint64_t seed = 1;
  //! Multiple of real time; <= 0 runs as fast as possible.
  double speed = 1.0;
  //! Simulated duration; none = until Stop().
  std::optional<Micros> duration;
  //! Simulated time at the start.
  TimePoint start = TimeFromUnixMicros(1'767'225'600'000'000);  // 2026-01-01T00:00:00Z
  //! Simulation step; 0 = the shortest signal period, kept within [10 ms, 1 s].
  Micros tick{0};
  //! Real-time pacing; tests inject a ManualClock-free SystemClock by default.
  const Clock* wall_clock = nullptr;
  //! Watchdog of the HVAC zone PLC programs (hvac_plc.h): a remote setpoint is followed while
  //! the heartbeat changes at least this often, in simulated time.
  Micros plc_watchdog = std::chrono::seconds(10);
};

//! The registers of an HVAC zone's PLC program (hvac_plc.h), by their signal names.
enum class PlcRegister {
  kNone,
  kSetpoint,        //!< "setpoint": the effective setpoint (read-only to clients)
  kRemoteSetpoint,  //!< "remote_setpoint": written by clients
  kHeartbeat,       //!< "heartbeat": written by clients
  kControlMode,     //!< "control_mode"
  kAlarms,          //!< "plc_alarms"
};
PlcRegister PlcRegisterOf(std::string_view signal_name);

class Simulator {
 public:
  //! InvalidArgument when the plant has no asset, or a scheduled fault does not fit its asset
  //! (e.g. cavitation on a motor).
  static Result<std::unique_ptr<Simulator>> Create(const model::Plant& plant,
                                                   const SimOptions& options,
                                                   std::vector<ScheduledFault> faults);
  ~Simulator();

  //! Not owned; must outlive Run().
  void AddSink(SampleSink* sink) { sinks_.push_back(sink); }

  //! Runs until the duration is simulated or Stop() is called, then calls Finish() on the
  //! sinks. Returns the first sink error, if any.
  Status Run();
  void Stop() { stop_.store(true); }

  //! Queues a twin input (setpoint, run/stop) for an asset; applied at the next tick. The
  //! result of applying it (e.g. OutOfRange) is logged; `input_errors()` counts refusals.
  void SetInput(const std::string& asset, const std::string& input, double value);
  //! Queues a fault to start at the next tick (`at` is ignored).
  void InjectFault(ScheduledFault fault);
  //! Queues a repair of the asset for the next tick (see the file comment). An asset without a
  //! twin (or unknown) is logged and counted in `input_errors()`.
  void Repair(const std::string& asset);

  const std::vector<SimSignal>& signals() const { return signals_; }
  //! Whether `input` is an input of the asset's twin (e.g. an HVAC zone's "setpoint").
  bool HasTwinInput(std::string_view asset, std::string_view input) const;

  // The HVAC zone PLC programs. Assets that run one (RunsHvacPlc: HVAC zones behind Modbus)
  // have their setpoint decided by the program at every tick (Simulator::SetInput of their
  // "setpoint" is refused); their signals remote_setpoint, heartbeat, control_mode and
  // plc_alarms are the program's registers, not generic values.

  //! Whether the asset (index into the plant's assets, SimSignal::asset_index) runs one.
  bool HasPlcProgram(uint32_t asset_index) const;
  //! The program's register a signal is, or kNone (also for assets without a program).
  PlcRegister PlcRegisterOfSignal(uint32_t signal_index) const;
  //! A client's write of remote_setpoint or heartbeat, applied AT ONCE at the simulated time
  //! now() (no tick delay: a read right after sees the new mode and effective setpoint; the
  //! twin takes the setpoint at the next tick). Returns the program's outputs after it.
  //! Thread-safe. InvalidArgument for another register or an asset without a program.
  Result<HvacPlcOutputs> WritePlcRegister(uint32_t asset_index, PlcRegister reg, double value);
  //! The program's current outputs (including writes since the last tick). Thread-safe.
  Result<HvacPlcOutputs> PlcOutputs(uint32_t asset_index) const;
  //! Whether the asset is under a comm_loss fault now. Simulation thread only (sinks' OnTick).
  bool CommLost(uint32_t asset_index) const;
  const model::Plant& plant() const { return plant_; }
  //! Index of an asset's signal, or nullopt.
  std::optional<uint32_t> FindSignal(std::string_view asset, std::string_view signal) const;
  //! Ground truth so far (complete after Run()).
  std::vector<FaultLabel> labels() const;
  uint64_t samples_produced() const { return samples_produced_.load(); }
  uint64_t input_errors() const { return input_errors_.load(); }
  Micros tick() const { return tick_; }
  //! Simulated time now (during Run(), the time of the tick in progress).
  TimePoint now() const { return TimeFromUnixMicros(now_us_.load()); }

 private:
  struct AssetState;
  struct SignalState;
  struct Command;
  Simulator(const model::Plant& plant, const SimOptions& options);
  Status Init(std::vector<ScheduledFault> faults);
  void ApplyCommands(TimePoint now);
  void StartFault(const ScheduledFault& f, TimePoint now);
  //! Renews the asset's twin and ends its open twin-fault labels at `now`.
  void RepairAsset(AssetState& a, TimePoint now);
  void EndFaults(TimePoint now);
  //! The earliest end of an active fault (TimePoint::max() when none ends).
  void UpdateNextFaultEnd();
  double SignalValue(SignalState& s, AssetState& a, TimePoint now);
  //! One scan of every PLC program: pushes effective setpoints and heat pump state to twins.
  void ScanPlcs(TimePoint now);
  //! Re-applies the hand switch / heat pump fault / comm loss from the asset's active faults.
  void ApplyAssetFaults(AssetState& a);
  //! The signals due at a tick, in index order (the order of the samples).
  const std::vector<uint32_t>& DueSignals(int64_t t_us);

  const model::Plant& plant_;
  SimOptions options_;
  Micros tick_{0};
  std::vector<SimSignal> signals_;
  std::vector<std::unique_ptr<AssetState>> assets_;
  std::vector<SignalState> signal_states_;
  std::vector<ScheduledFault> schedule_;  // sorted by `at`
  size_t next_fault_ = 0;
  //! Signals of one sampling period: sampled at the same ticks, so scheduled together.
  struct PeriodGroup {
    int64_t period_us = 0;
    int64_t next_due_us = 0;
    std::vector<uint32_t> signals;  //!< ascending
  };
  std::vector<PeriodGroup> groups_;
  //! The due signals of each combination of due groups seen so far (bit i: groups_[i]).
  std::vector<std::pair<uint64_t, std::vector<uint32_t>>> due_by_mask_;
  std::vector<uint32_t> due_scratch_;  //!< when there are more groups than mask bits
  std::vector<size_t> due_groups_;     //!< scratch of DueSignals
  //! EndFaults has nothing to do before this time, unless a twin failed since it last looked.
  TimePoint next_fault_end_ = TimePoint::max();
  bool failure_pending_ = false;
  std::vector<SampleSink*> sinks_;

  mutable std::mutex mu_;
  std::vector<Command> commands_;   // GUARDED_BY(mu_)
  std::vector<FaultLabel> labels_;  // GUARDED_BY(mu_)

  std::vector<uint32_t> plc_assets_;  //!< indexes of the assets with a PLC program
  //! Guards every AssetState::plc (the programs): written by Modbus server threads.
  mutable std::mutex plc_mu_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> has_commands_{false};  //!< commands_ may be non-empty
  std::atomic<uint64_t> samples_produced_{0};
  std::atomic<uint64_t> input_errors_{0};
  std::atomic<int64_t> now_us_{0};
};

}  // namespace weft::sim

#endif  // WEFT_SIM_SIMULATOR_H_

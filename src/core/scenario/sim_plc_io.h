// SimPlcIo: the PLC side of a control loop (control/loop/plc_io.h) inside the simulator's own
// process, in simulated time: no Modbus server, no socket.
//
//   LatestSamples latest(sim->signals().size());
//   ... in the simulator's sink: latest.Update(samples) ...
//   SimPlcIo io(*sim, zone_index, latest, {zone_index});
//   ControlLoop loop(config, options, io, optimiser, clock, sink);   // loop.Tick(now) in OnTick
//
// What it reads, as a Modbus poll of the zone's gateway would:
//   - the registers of the zone's PLC program (setpoint = the effective setpoint,
//     remote_setpoint, heartbeat, control_mode, plc_alarms): Simulator::PlcOutputs, which
//     includes the writes made since the last tick (a read-back right after a write sees it);
//   - any other signal of the asset: the latest value the simulator sampled (LatestSamples).
// What it writes: remote_setpoint and heartbeat, through Simulator::WritePlcRegister (applied at
// once, as the Modbus server does), the value rounded to the register's resolution (the
// signal's Modbus scale) like a register write. Other signals are not writable
// (FailedPrecondition). While an asset of the same Modbus device is under a comm_loss fault
// (Simulator::CommLost), every call is Unavailable: the loop sees a comms loss.
//
// Errors: NotFound for a signal the asset does not have (or has not been sampled yet).
//
// Thread-safety: call from the simulation thread only (the sink's OnTick), like CommLost.
#ifndef WEFT_CORE_SCENARIO_SIM_PLC_IO_H_
#define WEFT_CORE_SCENARIO_SIM_PLC_IO_H_

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/loop/plc_io.h"
#include "sim/simulator.h"

namespace weft::core::scenario {

//! The latest value of each simulator signal (by Simulator::signals() index); NaN until sampled.
class LatestSamples {
 public:
  explicit LatestSamples(size_t signals) : values_(signals, std::nan("")) {}
  void Update(std::span<const sim::Sample> samples) {
    for (const sim::Sample& s : samples) {
      if (s.signal < values_.size()) values_[s.signal] = s.value;
    }
  }
  double Get(uint32_t signal) const {
    return signal < values_.size() ? values_[signal] : std::nan("");
  }

 private:
  std::vector<double> values_;
};

class SimPlcIo final : public control::PlcIo {
 public:
  //! `asset_index`: the zone (index into the plant's assets, as sim::SimSignal::asset_index);
  //! `device_assets`: the assets served by the same Modbus device (the zone included).
  //! REQUIRES: sim and latest outlive this object.
  SimPlcIo(sim::Simulator& sim, uint32_t asset_index, const LatestSamples& latest,
           std::vector<uint32_t> device_assets);

  Result<std::map<std::string, double>> Read(const std::vector<std::string>& signals) override;
  Status Write(std::string_view signal, double value) override;

 private:
  bool Lost() const;
  //! The simulator's index of the asset's signal (cached), or nullopt.
  std::optional<uint32_t> SignalIndex(const std::string& signal);

  sim::Simulator& sim_;
  uint32_t asset_index_;
  std::string asset_id_;
  const LatestSamples& latest_;
  std::vector<uint32_t> device_assets_;
  std::map<std::string, std::optional<uint32_t>, std::less<>> index_;
};

}  // namespace weft::core::scenario

#endif  // WEFT_CORE_SCENARIO_SIM_PLC_IO_H_

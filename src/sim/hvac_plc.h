// HvacPlcProgram: the program a simulated building-management PLC runs for one HVAC zone. It
// decides the zone's effective setpoint (which the simulator hands to the zone's twin) from a
// local schedule, a remote setpoint guarded by a heartbeat watchdog, and an operator's hand
// switch, and raises the zone's alarm bits.
//
//   HvacPlcProgram plc(HvacPlcProgram::Config{}, start);
//   plc.WriteRemoteSetpoint(19.5, now);          // a Modbus client (the edge) writes...
//   plc.WriteHeartbeat(1, now);                  // ...and heartbeats: remote from now on
//   HvacPlcOutputs out = plc.Scan(now, zone_temp);  // each tick: out.setpoint -> twin
//
// Semantics (the contract with the edge; src/sim/README.md "HVAC zone PLC program"):
// - Local (mode 0): the schedule, day_setpoint from day_start_hour to day_end_hour (UTC hour of
//   the simulated clock), night_setpoint otherwise.
// - Remote (mode 1): the zone follows the remote setpoint once a client has written a remote
//   setpoint AND changed the heartbeat (either order), as long as the heartbeat keeps changing:
//   a heartbeat is "fresh" while now - (time of its last change) < watchdog. The first
//   heartbeat write counts whatever its value; after it, writing the same value is no heartbeat.
// - Watchdog: once a heartbeat has been seen, a heartbeat that is no longer fresh trips the
//   watchdog: back to the schedule at once, alarm bit kAlarmWatchdog set until the next
//   heartbeat change, and the remote setpoint must be written again before the zone goes
//   remote again (a stale remote value is never re-applied).
// - Hand (mode 2): while the operator's switch is on, its setpoint applies; remote writes are
//   accepted (and arm remote for later) but ignored. When hand ends the zone returns to remote
//   if the remote conditions still hold, else to local.
// - Alarms (bit field): kAlarmHighTemp zone_temp > high_temp_alarm, kAlarmLowTemp zone_temp <
//   low_temp_alarm (as of the last scan), kAlarmWatchdog, kAlarmHeatPump (heat pump fault).
// Every setpoint is clamped to [min_setpoint, max_setpoint].
//
// Thread-safety: none; the simulator guards each program with its PLC mutex.
#ifndef WEFT_SIM_HVAC_PLC_H_
#define WEFT_SIM_HVAC_PLC_H_

#include <cstdint>
#include <optional>

#include "common/clock.h"

namespace weft::sim {

//! The control_mode register.
enum class PlcControlMode : uint16_t { kLocal = 0, kRemote = 1, kHand = 2 };

//! Bits of the plc_alarms register.
inline constexpr uint16_t kAlarmHighTemp = 1;
inline constexpr uint16_t kAlarmLowTemp = 2;
inline constexpr uint16_t kAlarmWatchdog = 4;
inline constexpr uint16_t kAlarmHeatPump = 8;

//! What the program drives, and what its registers hold.
struct HvacPlcOutputs {
  double setpoint = 0;  //!< effective setpoint (degC): the twin's input, holding `setpoint`
  PlcControlMode mode = PlcControlMode::kLocal;
  uint16_t alarms = 0;
  double remote_setpoint = 0;  //!< the remote_setpoint register (last written value)
  uint16_t heartbeat = 0;      //!< the heartbeat register (last written value)
};

class HvacPlcProgram {
 public:
  struct Config {
    Micros watchdog = std::chrono::seconds(10);
    double day_setpoint = 21.0;
    double night_setpoint = 18.0;
    int day_start_hour = 6;  //!< inclusive, UTC
    int day_end_hour = 20;   //!< exclusive, UTC
    double high_temp_alarm = 28;
    double low_temp_alarm = 12;
    double min_setpoint = 5;
    double max_setpoint = 35;
  };

  //! The remote_setpoint register starts at the schedule's value at `start` (so it always
  //! reads a valid temperature), the heartbeat at 0; mode local, no alarm.
  HvacPlcProgram(const Config& config, TimePoint start);

  //! The local schedule's setpoint at `t`.
  static double ScheduleSetpoint(const Config& config, TimePoint t);

  //! A client wrote the remote_setpoint register (clamped to the setpoint range).
  void WriteRemoteSetpoint(double degc, TimePoint now);
  //! A client wrote the heartbeat register; a different value is a heartbeat.
  void WriteHeartbeat(uint16_t value, TimePoint now);
  //! The operator's hand switch: a setpoint turns it on, nullopt off.
  void SetHand(std::optional<double> setpoint);
  void SetHeatPumpFault(bool fault) { heat_pump_fault_ = fault; }

  //! One PLC scan at `now` with the zone's measured temperature: watchdog, mode, setpoint,
  //! alarms.
  HvacPlcOutputs Scan(TimePoint now, double zone_temp);
  //! Re-evaluates at `now` without a new temperature (after a write).
  HvacPlcOutputs Evaluate(TimePoint now);
  //! The outputs of the last Scan/Evaluate/write.
  const HvacPlcOutputs& outputs() const { return out_; }

 private:
  Config config_;
  HvacPlcOutputs out_;
  bool remote_armed_ = false;  //!< a remote setpoint was written since start / the last trip
  bool heartbeat_seen_ = false;
  TimePoint last_heartbeat_change_;
  bool watchdog_tripped_ = false;
  std::optional<double> hand_;
  bool heat_pump_fault_ = false;
  uint16_t temp_alarms_ = 0;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_HVAC_PLC_H_

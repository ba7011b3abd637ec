#include "sim/hvac_plc.h"

#include <algorithm>

namespace weft::sim {

HvacPlcProgram::HvacPlcProgram(const Config& config, TimePoint start) : config_(config) {
  out_.remote_setpoint = ScheduleSetpoint(config_, start);
  Evaluate(start);
}

double HvacPlcProgram::ScheduleSetpoint(const Config& config, TimePoint t) {
  auto since_midnight = t - std::chrono::floor<std::chrono::days>(t);
  auto hour = static_cast<int>(std::chrono::floor<std::chrono::hours>(since_midnight).count());
  bool day = hour >= config.day_start_hour && hour < config.day_end_hour;
  return day ? config.day_setpoint : config.night_setpoint;
}

void HvacPlcProgram::WriteRemoteSetpoint(double degc, TimePoint now) {
  out_.remote_setpoint = std::clamp(degc, config_.min_setpoint, config_.max_setpoint);
  remote_armed_ = true;
  Evaluate(now);
}

void HvacPlcProgram::WriteHeartbeat(uint16_t value, TimePoint now) {
  // The first write counts whatever its value (an edge may start its counter at the
  // register's initial 0); after that, only a change is a heartbeat.
  if (!heartbeat_seen_ || value != out_.heartbeat) {
    heartbeat_seen_ = true;
    last_heartbeat_change_ = now;
    watchdog_tripped_ = false;
  }
  out_.heartbeat = value;
  Evaluate(now);
}

void HvacPlcProgram::SetHand(std::optional<double> setpoint) {
  if (setpoint) setpoint = std::clamp(*setpoint, config_.min_setpoint, config_.max_setpoint);
  hand_ = setpoint;
}

HvacPlcOutputs HvacPlcProgram::Scan(TimePoint now, double zone_temp) {
  temp_alarms_ = 0;
  if (zone_temp > config_.high_temp_alarm) temp_alarms_ |= kAlarmHighTemp;
  if (zone_temp < config_.low_temp_alarm) temp_alarms_ |= kAlarmLowTemp;
  return Evaluate(now);
}

HvacPlcOutputs HvacPlcProgram::Evaluate(TimePoint now) {
  bool fresh = heartbeat_seen_ && now - last_heartbeat_change_ < config_.watchdog;
  if (heartbeat_seen_ && !fresh && !watchdog_tripped_) {
    watchdog_tripped_ = true;
    remote_armed_ = false;  // a stale remote setpoint is never applied again
  }
  if (hand_) {
    out_.mode = PlcControlMode::kHand;
    out_.setpoint = *hand_;
  } else if (fresh && remote_armed_) {
    out_.mode = PlcControlMode::kRemote;
    out_.setpoint = out_.remote_setpoint;
  } else {
    out_.mode = PlcControlMode::kLocal;
    out_.setpoint = ScheduleSetpoint(config_, now);
  }
  out_.alarms = static_cast<uint16_t>(temp_alarms_ | (watchdog_tripped_ ? kAlarmWatchdog : 0) |
                                      (heat_pump_fault_ ? kAlarmHeatPump : 0));
  return out_;
}

}  // namespace weft::sim

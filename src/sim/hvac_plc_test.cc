#include "sim/hvac_plc.h"

#include <gtest/gtest.h>

namespace weft::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-01T00:00:00Z
const TimePoint kMidnight = TimeFromUnixMicros(1'767'225'600'000'000);

HvacPlcProgram::Config Config() {
  HvacPlcProgram::Config c;
  c.watchdog = seconds(10);
  return c;
}

TEST(HvacPlc, ScheduleIsDayFrom6To20Utc) {
  auto c = Config();
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight), 18.0);
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight + hours(6) - seconds(1)), 18.0);
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight + hours(6)), 21.0);
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight + hours(19) + minutes(59)), 21.0);
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight + hours(20)), 18.0);
  EXPECT_EQ(HvacPlcProgram::ScheduleSetpoint(c, kMidnight + hours(24 * 3 + 7)), 21.0);
  // Local mode follows the schedule from scan to scan.
  HvacPlcProgram plc(c, kMidnight);
  EXPECT_EQ(plc.Scan(kMidnight + hours(5), 20).setpoint, 18.0);
  EXPECT_EQ(plc.Scan(kMidnight + hours(6), 20).setpoint, 21.0);
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kLocal);
  EXPECT_EQ(plc.outputs().alarms, 0);
  // The remote register starts at the schedule's value at start: always a valid reading.
  EXPECT_EQ(plc.outputs().remote_setpoint, 18.0);
}

TEST(HvacPlc, RemoteNeedsBothASetpointAndAHeartbeat) {
  HvacPlcProgram plc(Config(), kMidnight);
  TimePoint t = kMidnight + hours(10);
  plc.WriteRemoteSetpoint(19.5, t);
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kLocal);  // no heartbeat yet
  EXPECT_EQ(plc.outputs().setpoint, 21.0);
  plc.WriteHeartbeat(1, t + seconds(1));
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kRemote);
  EXPECT_EQ(plc.outputs().setpoint, 19.5);
  EXPECT_EQ(plc.Scan(t + seconds(5), 20).setpoint, 19.5);
  // The other order works too.
  HvacPlcProgram other(Config(), kMidnight);
  other.WriteHeartbeat(0, t);  // the first write counts, even with the initial value
  EXPECT_EQ(other.outputs().mode, PlcControlMode::kLocal);
  other.WriteRemoteSetpoint(17, t + seconds(1));
  EXPECT_EQ(other.outputs().mode, PlcControlMode::kRemote);
  EXPECT_EQ(other.outputs().setpoint, 17);
  // Setpoints are clamped to the PLC's range.
  other.WriteRemoteSetpoint(80, t + seconds(2));
  EXPECT_EQ(other.outputs().setpoint, 35);
}

TEST(HvacPlc, WatchdogExpiryReturnsToTheScheduleWithAnAlarm) {
  HvacPlcProgram plc(Config(), kMidnight);
  TimePoint t = kMidnight + hours(10);
  plc.WriteRemoteSetpoint(19.5, t);
  plc.WriteHeartbeat(1, t);
  // Heartbeats every 8 s keep it remote; writing the same value is no heartbeat.
  plc.WriteHeartbeat(2, t + seconds(8));
  EXPECT_EQ(plc.Scan(t + seconds(17), 20).mode, PlcControlMode::kRemote);
  plc.WriteHeartbeat(2, t + seconds(17));
  EXPECT_EQ(plc.Scan(t + seconds(18) - std::chrono::microseconds(1), 20).mode,
            PlcControlMode::kRemote);
  HvacPlcOutputs out = plc.Scan(t + seconds(18), 20);  // 10 s after the last change
  EXPECT_EQ(out.mode, PlcControlMode::kLocal);
  EXPECT_EQ(out.setpoint, 21.0);
  EXPECT_EQ(out.alarms, kAlarmWatchdog);
  // The alarm holds until the next heartbeat change...
  EXPECT_EQ(plc.Scan(t + hours(1), 20).alarms, kAlarmWatchdog);
  plc.WriteHeartbeat(3, t + hours(1));
  EXPECT_EQ(plc.outputs().alarms, 0);
  // ...which does not re-apply the stale remote setpoint: it must be written again.
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kLocal);
  EXPECT_EQ(plc.outputs().setpoint, 21.0);
  plc.WriteRemoteSetpoint(20.5, t + hours(1) + seconds(1));
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kRemote);
  EXPECT_EQ(plc.outputs().setpoint, 20.5);
}

TEST(HvacPlc, NoWatchdogAlarmBeforeAnyHeartbeat) {
  HvacPlcProgram plc(Config(), kMidnight);
  EXPECT_EQ(plc.Scan(kMidnight + hours(3), 20).alarms, 0);
}

TEST(HvacPlc, HandModeWinsAndRemoteWritesAreIgnoredWhileOn) {
  HvacPlcProgram plc(Config(), kMidnight);
  TimePoint t = kMidnight + hours(10);
  plc.WriteRemoteSetpoint(19.5, t);
  plc.WriteHeartbeat(1, t);
  plc.SetHand(23.0);
  HvacPlcOutputs out = plc.Scan(t + seconds(1), 20);
  EXPECT_EQ(out.mode, PlcControlMode::kHand);
  EXPECT_EQ(out.setpoint, 23.0);
  plc.WriteRemoteSetpoint(17, t + seconds(2));  // accepted, ignored
  plc.WriteHeartbeat(2, t + seconds(2));
  EXPECT_EQ(plc.outputs().mode, PlcControlMode::kHand);
  EXPECT_EQ(plc.outputs().setpoint, 23.0);
  EXPECT_EQ(plc.outputs().remote_setpoint, 17);
  // Hand off while the heartbeat is fresh: back to remote, with the last remote value.
  plc.SetHand(std::nullopt);
  out = plc.Scan(t + seconds(3), 20);
  EXPECT_EQ(out.mode, PlcControlMode::kRemote);
  EXPECT_EQ(out.setpoint, 17);
  // Hand over the schedule too, and the watchdog still trips underneath.
  plc.SetHand(19);
  out = plc.Scan(t + minutes(5), 20);
  EXPECT_EQ(out.mode, PlcControlMode::kHand);
  EXPECT_EQ(out.setpoint, 19);
  EXPECT_EQ(out.alarms, kAlarmWatchdog);
  plc.SetHand(std::nullopt);
  out = plc.Scan(t + minutes(6), 20);
  EXPECT_EQ(out.mode, PlcControlMode::kLocal);
  EXPECT_EQ(out.setpoint, 21.0);
}

TEST(HvacPlc, TemperatureAndHeatPumpAlarms) {
  HvacPlcProgram plc(Config(), kMidnight);
  EXPECT_EQ(plc.Scan(kMidnight, 28.0).alarms, 0);
  EXPECT_EQ(plc.Scan(kMidnight, 28.1).alarms, kAlarmHighTemp);
  EXPECT_EQ(plc.Scan(kMidnight, 12.0).alarms, 0);
  EXPECT_EQ(plc.Scan(kMidnight, 11.9).alarms, kAlarmLowTemp);
  plc.SetHeatPumpFault(true);
  EXPECT_EQ(plc.Scan(kMidnight, 11.9).alarms, kAlarmLowTemp | kAlarmHeatPump);
  // Writes keep the temperature alarms of the last scan.
  plc.WriteRemoteSetpoint(20, kMidnight);
  EXPECT_EQ(plc.outputs().alarms, kAlarmLowTemp | kAlarmHeatPump);
  plc.SetHeatPumpFault(false);
  EXPECT_EQ(plc.Scan(kMidnight, 20).alarms, 0);
}

}  // namespace
}  // namespace weft::sim

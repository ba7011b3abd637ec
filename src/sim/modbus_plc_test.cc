// The HVAC zone PLC program over real Modbus TCP, in lock-step: a sink plays the edge's control
// loop inside OnTick (blocking the simulation thread) with a libmodbus client against the
// simulated gateway on loopback, as bench/ does for a simulated week.
#include "sim/modbus_plc.h"

#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <cerrno>
#include <map>
#include <optional>

#include "sim/simulator.h"
#include "testing/example_plant.h"

namespace weft::sim {
namespace {

using std::chrono::seconds;

// lyon-hz-01 and lyon-hz-02 on the Lyon HVAC gateway (10.20.0.50:502/1), bases 0 and 16.
// control_mode (14) and plc_alarms (15) are read together, from kControlMode.
constexpr int kSetpoint = 4, kRemoteSetpoint = 12, kHeartbeat = 13, kControlMode = 14;

struct Observation {
  bool ok = false;
  int mode = -1;
  double setpoint = 0;
  int alarms = -1;
  bool ok_zone2 = false;
};

// The "control loop": acts and reads at given simulated seconds, on the simulation thread.
class ScriptedEdge final : public SampleSink {
 public:
  ScriptedEdge(Simulator& sim, int port) : sim_(sim), port_(port) {
    setpoint_ = *sim.FindSignal("lyon-hz-01", "setpoint");
    mode_signal_ = *sim.FindSignal("lyon-hz-01", "control_mode");
    alarms_signal_ = *sim.FindSignal("lyon-hz-01", "plc_alarms");
  }
  ~ScriptedEdge() override { Disconnect(); }

  Status OnTick(TimePoint now, std::span<const Sample> samples) override {
    if (!start_) start_ = now;
    const int64_t s = std::chrono::duration_cast<seconds>(now - *start_).count();
    for (const Sample& x : samples) {
      if (x.signal == setpoint_) sampled_setpoint[s] = x.value;
      if (x.signal == mode_signal_) sampled_mode[s] = x.value;
      if (x.signal == alarms_signal_) sampled_alarms[s] = x.value;
    }
    if (s == 5) {
      // Enter remote: a setpoint and a heartbeat; the effect is readable at once.
      write_remote_ok = Write(kRemoteSetpoint, 195) && Write(kHeartbeat, 1);
      after_write = Observe();
      // The effective setpoint is the PLC's; a remote value outside 5..35 is refused.
      setpoint_write_ok = Write(kSetpoint, 230);
      setpoint_write_errno = errno;
      out_of_range_ok = Write(kRemoteSetpoint, 990);
      out_of_range_errno = errno;
    }
    if (s > 5 && s <= 60 && s % 2 == 0) Write(kHeartbeat, static_cast<uint16_t>(s));  // then stop
    if (s == 80) {
      ScheduledFault hand;
      hand.asset = "lyon-hz-01";
      hand.type = FaultType::kHandMode;
      hand.severity = 22.5;
      hand.duration = seconds(30);
      sim_.InjectFault(hand);  // from tick 81 to tick 111
    }
    if (s == 90) remote_during_hand_ok = Write(kRemoteSetpoint, 170) && Write(kHeartbeat, 999);
    if (s == 120) {
      ScheduledFault loss;
      loss.asset = "lyon-hz-01";
      loss.type = FaultType::kCommLoss;
      loss.duration = seconds(20);
      sim_.InjectFault(loss);  // from tick 121 to tick 141
    }
    observed[s] = Observe();
    return Status::Ok();
  }

  std::map<int64_t, Observation> observed;
  std::map<int64_t, double> sampled_setpoint, sampled_mode, sampled_alarms;
  Observation after_write;
  bool write_remote_ok = false, setpoint_write_ok = true, out_of_range_ok = true;
  bool remote_during_hand_ok = false;
  int setpoint_write_errno = 0, out_of_range_errno = 0;

 private:
  bool Connect() {
    if (ctx_) return true;
    ctx_ = modbus_new_tcp("127.0.0.1", port_);
    modbus_set_response_timeout(ctx_, 0, 500'000);
    if (modbus_connect(ctx_) != 0) {
      Disconnect();
      return false;
    }
    return true;
  }
  void Disconnect() {
    if (!ctx_) return;
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  bool Write(int address, uint16_t value) {
    if (!Connect()) return false;
    if (modbus_write_register(ctx_, address, value) == 1) return true;
    int e = errno;
    if (e != EMBXILADD && e != EMBXILVAL) Disconnect();  // a broken connection, not a refusal
    errno = e;
    return false;
  }
  Observation Observe() {
    Observation o;
    uint16_t holding = 0;
    uint16_t inputs[2] = {};
    if (!Connect()) return o;
    if (modbus_read_registers(ctx_, kSetpoint, 1, &holding) != 1 ||
        modbus_read_input_registers(ctx_, kControlMode, 2, inputs) != 2) {
      Disconnect();
      return o;
    }
    o.ok = true;
    o.setpoint = static_cast<int16_t>(holding) * 0.1;
    o.mode = inputs[0];
    o.alarms = inputs[1];
    o.ok_zone2 = modbus_read_input_registers(ctx_, 16 + kControlMode, 2, inputs) == 2;
    if (!o.ok_zone2) Disconnect();
    return o;
  }

  Simulator& sim_;
  const int port_;
  modbus_t* ctx_ = nullptr;
  std::optional<TimePoint> start_;
  uint32_t setpoint_ = 0, mode_signal_ = 0, alarms_signal_ = 0;
};

TEST(HvacPlcOverModbus, RemoteWatchdogHandModeAndCommLossInLockStep) {
  SimOptions o;
  o.speed = 0;  // as fast as possible: the sinks pace the run
  o.tick = seconds(1);
  o.duration = seconds(150);
  o.plc_watchdog = seconds(10);
  auto sim = Simulator::Create(weft::testing::ExamplePlant(), o, {});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto plc = ModbusPlc::Start(**sim, 0);
  ASSERT_TRUE(plc.ok()) << plc.status().ToString();
  int port = -1;
  for (const auto& e : (*plc)->endpoints()) {
    if (e.plant_address == "10.20.0.50:502/1") port = e.local_port;
  }
  ASSERT_GT(port, 0);
  ScriptedEdge edge(**sim, port);
  (*sim)->AddSink(plc->get());  // the PLC first: its registers are this tick's when edge reads
  (*sim)->AddSink(&edge);
  ASSERT_TRUE((*sim)->Run().ok());

  auto& at = edge.observed;
  // Start at 00:00 UTC: local, the night setpoint.
  ASSERT_TRUE(at[0].ok);
  EXPECT_EQ(at[0].mode, 0);
  EXPECT_NEAR(at[0].setpoint, 18.0, 1e-9);
  EXPECT_EQ(at[0].alarms, 0);
  // A remote setpoint and a heartbeat: remote at once, the register reads the new setpoint.
  EXPECT_TRUE(edge.write_remote_ok);
  EXPECT_EQ(edge.after_write.mode, 1);
  EXPECT_NEAR(edge.after_write.setpoint, 19.5, 1e-9);
  EXPECT_FALSE(edge.setpoint_write_ok);
  EXPECT_EQ(edge.setpoint_write_errno, EMBXILADD);
  EXPECT_FALSE(edge.out_of_range_ok);
  EXPECT_EQ(edge.out_of_range_errno, EMBXILVAL);
  EXPECT_EQ(at[30].mode, 1);
  // The twin follows: the zone's sampled setpoint at 60 s is the remote one.
  EXPECT_NEAR(edge.sampled_setpoint[60], 19.5, 1e-9);
  EXPECT_EQ(edge.sampled_mode[60], 1);
  // Last heartbeat change at 60 s; the 10 s watchdog (simulated time) trips at 70 s exactly.
  EXPECT_EQ(at[69].mode, 1);
  EXPECT_EQ(at[69].alarms, 0);
  EXPECT_EQ(at[70].mode, 0);
  EXPECT_NEAR(at[70].setpoint, 18.0, 1e-9);
  EXPECT_EQ(at[70].alarms, 4);
  // Hand mode from the next tick: control_mode 2, the operator's setpoint; remote writes are
  // accepted but change nothing; back to local when it ends.
  EXPECT_EQ(at[80].mode, 0);
  EXPECT_EQ(at[81].mode, 2);
  EXPECT_NEAR(at[81].setpoint, 22.5, 1e-9);
  EXPECT_TRUE(edge.remote_during_hand_ok);
  EXPECT_EQ(at[95].mode, 2);
  EXPECT_NEAR(at[95].setpoint, 22.5, 1e-9);
  EXPECT_EQ(at[110].mode, 2);
  EXPECT_EQ(at[111].mode, 0);
  EXPECT_NEAR(at[111].setpoint, 18.0, 1e-9);
  EXPECT_EQ(edge.sampled_mode[120], 0);
  EXPECT_EQ(edge.sampled_alarms[120], 4);  // heartbeat at 90, watchdog tripped at 100
  // comm_loss: the gateway answers nobody, for every zone it serves, then answers again.
  EXPECT_TRUE(at[120].ok);
  for (int64_t s = 121; s <= 140; ++s) {
    EXPECT_FALSE(at[s].ok) << "at " << s << " s";
  }
  EXPECT_TRUE(at[141].ok);
  EXPECT_TRUE(at[141].ok_zone2);
  EXPECT_EQ(at[141].mode, 0);
  auto labels = (*sim)->labels();
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].type, FaultType::kHandMode);
  EXPECT_DOUBLE_EQ(labels[0].severity, 22.5);
  EXPECT_EQ(labels[1].type, FaultType::kCommLoss);
  ASSERT_TRUE(labels[1].end.has_value());
  EXPECT_EQ(*labels[1].end - labels[1].start, seconds(20));
}

TEST(HvacPlcOverModbus, ProgramZonesRefuseDirectSetpointsAndPlcFaultsElsewhere) {
  SimOptions o;
  o.speed = 0;
  o.tick = seconds(1);
  o.duration = seconds(3);
  ScheduledFault f;
  f.asset = "l1-sp-01";
  f.type = FaultType::kHandMode;
  f.severity = 20;
  auto refused = Simulator::Create(weft::testing::ExamplePlant(), o, {f});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("runs no HVAC zone PLC program"), std::string::npos);
  auto sim = Simulator::Create(weft::testing::ExamplePlant(), o, {});
  ASSERT_TRUE(sim.ok());
  (*sim)->SetInput("lyon-hz-01", "setpoint", 26);  // the PLC program's: refused
  ASSERT_TRUE((*sim)->Run().ok());
  EXPECT_EQ((*sim)->input_errors(), 1u);
}

}  // namespace
}  // namespace weft::sim

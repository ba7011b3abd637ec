#include "sim/fault_schedule.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing/example_plant.h"

namespace weft::sim {
namespace {

const model::Plant& Example() {
  return weft::testing::ExamplePlant();
}

TEST(FaultSchedule, ParsesEveryKind) {
  Diagnostics d;
  auto f = ParseFaultSchedule(R"(faults:
  - {at: 2h, asset: l1-sp-05, kind: bearing_wear, severity: 0.6}
  - {at: 30min, asset: l1-cp-01, kind: cavitation, duration: 20min}
  - {at: 1h, asset: l1-cp-01, signal: flow, kind: sensor_stuck, duration: 10min}
  - {at: 1h, asset: l1-sp-01, signal: winding_temp, kind: sensor_drift, rate: 2}
  - {at: 90s, asset: l1-sp-02, signal: current, kind: sensor_noise, stddev: 0.5}
  - {at: 1s, asset: l1-sp-03, signal: current, kind: sensor_spikes, probability: 0.1, factor: 5}
  - {at: 3h, asset: lyon-ac-02, kind: comm_drop, duration: 5min}
)",
                              "f.yaml", Example(), &d);
  ASSERT_TRUE(f.ok()) << d.ToString();
  ASSERT_EQ(f->size(), 7u);
  EXPECT_EQ((*f)[0].type, FaultType::kBearingWear);
  EXPECT_EQ((*f)[0].at, std::chrono::hours(2));
  EXPECT_DOUBLE_EQ((*f)[0].severity, 0.6);
  EXPECT_FALSE((*f)[0].duration.has_value());
  EXPECT_EQ((*f)[1].duration, std::chrono::minutes(20));
  EXPECT_EQ((*f)[2].signal, "flow");
  EXPECT_DOUBLE_EQ((*f)[3].rate_per_hour, 2);
  EXPECT_DOUBLE_EQ((*f)[4].stddev, 0.5);
  EXPECT_DOUBLE_EQ((*f)[5].factor, 5);
  EXPECT_EQ((*f)[6].type, FaultType::kCommDrop);
}

TEST(FaultSchedule, ReportsEveryProblemWithItsPlace) {
  Diagnostics d;
  auto f = ParseFaultSchedule(R"(faults:
  - {at: 2h, asset: l1-sp-55, kind: bearing_wear}
  - {at: soon, asset: l1-sp-01, kind: bearing_wear}
  - {at: 1h, asset: l1-sp-01, kind: bearing_waer}
  - {at: 1h, asset: l1-sp-01, kind: sensor_stuck}
  - {at: 1h, asset: l1-sp-05, kind: sensor_stuck, signal: vibration_rms}
  - {at: 1h, asset: l1-sp-01, kind: bearing_wear, severity: 2}
  - {at: 1h, asset: l1-sp-01, kind: comm_drop, signal: current, when: now}
)",
                              "f.yaml", Example(), &d);
  ASSERT_FALSE(f.ok());
  std::vector<std::string> lines;
  for (const auto& x : d.all()) lines.push_back(x.ToString());
  ASSERT_EQ(lines.size(), 8u) << d.ToString();
  EXPECT_NE(lines[0].find("f.yaml:2:21: error: faults[0].asset: no asset has id 'l1-sp-55' (did "
                          "you mean 'l1-sp-05'?)"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("f.yaml:3:10: error: faults[1].at: invalid duration 'soon'"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("unknown fault kind 'bearing_waer' (did you mean 'bearing_wear'?)"),
            std::string::npos);
  EXPECT_NE(lines[3].find("a sensor fault names the signal it affects"), std::string::npos);
  EXPECT_NE(lines[4].find("asset 'l1-sp-05' has no fitted signal 'vibration_rms'"),
            std::string::npos)
      << lines[4];
  EXPECT_NE(lines[5].find("severity must be from 0.001 to 1, got 2"), std::string::npos);
  EXPECT_NE(lines[6].find("only sensor faults name a signal"), std::string::npos) << lines[6];
  EXPECT_NE(lines[7].find("unknown field 'when'"), std::string::npos) << lines[7];
}

TEST(FaultSchedule, LabelsCsv) {
  TimePoint t0 = TimeFromUnixMicros(1'767'225'600'000'000);
  std::vector<FaultLabel> labels = {
      {"m1", "", FaultType::kBearingWear, 0.5, t0, std::nullopt, t0 + std::chrono::hours(30)},
      {"m1", "current", FaultType::kSensorStuck, 0.5, t0, t0 + std::chrono::milliseconds(1500),
       std::nullopt}};
  EXPECT_EQ(LabelsToCsv(labels),
            "asset,signal,fault,severity,start,end,failure\n"
            "m1,,bearing_wear,0.5,2026-01-01T00:00:00.000Z,,2026-01-02T06:00:00.000Z\n"
            "m1,current,sensor_stuck,0.5,2026-01-01T00:00:00.000Z,2026-01-01T00:00:01.500Z,\n");
}

TEST(FaultSchedule, PlcFaultsOnHvacZonesAndCommLossOnModbusAssets) {
  Diagnostics d;
  auto f = ParseFaultSchedule(R"(faults:
  - {at: 2h, asset: lyon-hz-01, kind: hand_mode, severity: 19.5, duration: 10min}
  - {at: 3h, asset: lyon-hz-02, kind: comm_loss, duration: 1min}
  - {at: 4h, asset: lyon-ac-01, kind: comm_loss}
  - {at: 5h, asset: brno-hz-03, kind: heat_pump_fault, duration: 1h}
)",
                              "f.yaml", Example(), &d);
  ASSERT_TRUE(f.ok()) << d.ToString();
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[0].type, FaultType::kHandMode);
  EXPECT_DOUBLE_EQ((*f)[0].severity, 19.5);
  EXPECT_EQ((*f)[1].type, FaultType::kCommLoss);
  EXPECT_EQ((*f)[3].type, FaultType::kHeatPumpFault);
  // By command (MQTT), the same checks.
  Diagnostics c;
  auto cmd = ParseFaultCommand(
      R"({"asset":"lyon-hz-01","kind":"hand_mode","severity":19.5,"duration_s":600})", Example(),
      &c);
  ASSERT_TRUE(cmd.ok()) << c.ToString();
  EXPECT_EQ(cmd->type, FaultType::kHandMode);
  EXPECT_EQ(cmd->duration, std::chrono::seconds(600));
  Diagnostics c2;
  auto loss = ParseFaultCommand(R"({"asset":"brno-hz-01","kind":"comm_loss","duration":"30s"})",
                                Example(), &c2);
  ASSERT_TRUE(loss.ok()) << c2.ToString();
  EXPECT_EQ(loss->type, FaultType::kCommLoss);
}

TEST(FaultSchedule, PlcFaultsAreRefusedWhereTheyCannotApply) {
  Diagnostics d;
  auto f = ParseFaultSchedule(R"(faults:
  - {at: 1h, asset: lyon-hz-01, kind: hand_mode}
  - {at: 1h, asset: lyon-hz-01, kind: hand_mode, severity: 50}
  - {at: 1h, asset: l1-sp-01, kind: hand_mode, severity: 20}
  - {at: 1h, asset: l1-sp-01, kind: comm_loss}
)",
                              "f.yaml", Example(), &d);
  ASSERT_FALSE(f.ok());
  std::string all = d.ToString();
  EXPECT_EQ(d.all().size(), 4u) << all;
  EXPECT_NE(all.find("hand_mode needs `severity`"), std::string::npos) << all;
  EXPECT_NE(all.find("severity must be from 5 to 35, got 50"), std::string::npos) << all;
  EXPECT_NE(all.find("hand_mode needs an HVAC zone behind a Modbus PLC; 'l1-sp-01'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("'l1-sp-01' has no Modbus connection"), std::string::npos) << all;
}

}  // namespace
}  // namespace weft::sim

// weft-sim against real peers: a mosquitto broker, and a subscriber that decodes what the
// simulator publishes (Sparkplug B through HostSession, JSON with nlohmann::json).
#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mqtt/client.h"
#include "sim/fault_commands.h"
#include "sim/json_publisher.h"
#include "sim/modbus_plc.h"
#include "sim/simulator.h"
#include "sim/sparkplug_publisher.h"
#include "sparkplug/host_session.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const model::Plant& Example() {
  return weft::testing::ExamplePlant();
}

class Collect final : public SampleSink {
 public:
  Status OnTick(TimePoint, std::span<const Sample> samples) override {
    std::lock_guard<std::mutex> lock(mu);
    all.insert(all.end(), samples.begin(), samples.end());
    return Status::Ok();
  }
  std::mutex mu;
  std::vector<Sample> all;
};

// Everything the subscriber received, in order.
struct Received {
  std::mutex mu;
  std::vector<mqtt::Message> messages;
  size_t Count(std::string_view needle) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& m : messages) n += m.topic.find(needle) != std::string::npos;
    return n;
  }
};

class SimProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    address_ = *mqtt::BrokerAddress::Parse(broker_->url());
    mqtt::ClientOptions o;
    o.client_id = "observer";
    auto c = mqtt::Client::Connect(address_, o, seconds(5));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    observer_ = std::move(*c);
    observer_->SetMessageHandler([this](const mqtt::Message& m) {
      std::lock_guard<std::mutex> lock(received_.mu);
      received_.messages.push_back(m);
    });
    ASSERT_TRUE(observer_->Subscribe("spBv1.0/#", 1).ok());
    ASSERT_TRUE(observer_->Subscribe("brno/#", 1).ok());
    std::this_thread::sleep_for(milliseconds(300));
  }
  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  mqtt::BrokerAddress address_;
  std::unique_ptr<mqtt::Client> observer_;
  Received received_;
};

TEST_F(SimProtocolTest, EverySampleArrivesDecodedBirthsFirstSeqUnbroken) {
  SimOptions o;
  o.speed = 0;
  o.duration = seconds(20);
  auto sim = Simulator::Create(Example(), o, {});
  ASSERT_TRUE(sim.ok());
  auto sp = SparkplugPublisher::Create(**sim, address_);
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  auto js = JsonPublisher::Create(**sim, address_);
  ASSERT_TRUE(js.ok()) << js.status().ToString();
  Collect truth;
  (*sim)->AddSink(&truth);
  (*sim)->AddSink(sp->get());
  (*sim)->AddSink(js->get());
  ASSERT_TRUE((*sim)->Run().ok());
  size_t expected = (*sp)->messages() + (*js)->messages();
  for (int i = 0; i < 200 && received_.Count("") < expected; ++i) {
    std::this_thread::sleep_for(milliseconds(25));
  }
  ASSERT_EQ(received_.Count(""), expected) << broker_->Log();

  // Decode like a host application: births before data, aliases resolved, seq continuous.
  ManualClock clock(TimeFromUnixMicros(0));
  sparkplug::HostSession host(clock);
  std::map<std::pair<std::string, std::string>, std::vector<double>> decoded;  // asset, signal
  size_t ndeath = 0;
  for (const mqtt::Message& m : received_.messages) {
    if (m.topic.rfind("spBv1.0/", 0) != 0) continue;
    sparkplug::HostEvent e = host.Feed(m.topic, m.payload);
    ASSERT_EQ(e.problem, sparkplug::HostProblem::kNone) << m.topic << ": " << e.status.ToString();
    if (e.topic.type == sparkplug::MessageType::kNDeath) ++ndeath;
    if (e.topic.type != sparkplug::MessageType::kDData &&
        e.topic.type != sparkplug::MessageType::kDBirth) {
      continue;
    }
    for (const auto& p : e.points) {
      double v = std::visit(
          [](const auto& x) -> double {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return std::nan("");
            } else if constexpr (std::is_same_v<T, std::string>) {
              return std::stod(x);
            } else {
              return static_cast<double>(x);
            }
          },
          p.value);
      decoded[{p.device_id, p.metric_name}].push_back(v);
    }
  }
  EXPECT_EQ(ndeath, (*sp)->nodes());  // clean shutdown announced by each edge node

  // Every Sparkplug sample the simulator produced arrived with its value (the DBIRTH carries the
  // first tick's values, DDATA the rest).
  std::map<std::pair<std::string, std::string>, std::vector<double>> produced;
  for (const Sample& s : truth.all) {
    const SimSignal& sig = (*sim)->signals()[s.signal];
    if (sig.signal->protocol != model::Protocol::kSparkplugB) continue;
    produced[{sig.asset->connection.sparkplug->device_id,
              sig.signal->spec.source.sparkplug->metric}]
        .push_back(s.value);
  }
  ASSERT_EQ(decoded.size(), produced.size());
  for (const auto& [key, values] : produced) {
    const auto& got = decoded[key];
    ASSERT_EQ(got.size(), values.size()) << key.first << "/" << key.second;
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_NEAR(got[i], values[i], std::abs(values[i]) * 1e-6 + 1e-9)  // float32 metrics
          << key.first << "/" << key.second << " #" << i;
    }
  }

  // JSON: one message per Brno asset and tick, with the asset's values.
  size_t json_values = 0;
  {
    std::lock_guard<std::mutex> lock(received_.mu);
    for (const mqtt::Message& m : received_.messages) {
      if (m.topic.rfind("brno/", 0) != 0) continue;
      auto doc = nlohmann::json::parse(m.payload);
      EXPECT_EQ(m.topic, "brno/b1/" + doc["asset"].get<std::string>() + "/telemetry");
      json_values += doc["values"].size();
    }
  }
  size_t json_samples = 0;
  for (const Sample& s : truth.all) {
    json_samples += (*sim)->signals()[s.signal].signal->protocol == model::Protocol::kMqttJson;
  }
  EXPECT_EQ(json_values, json_samples);
}

TEST_F(SimProtocolTest, RebirthRequestIsAnsweredWithFullBirths) {
  SimOptions o;
  o.speed = 20;  // 20x real time: the run lasts long enough to be asked
  o.duration = seconds(60);
  auto sim = Simulator::Create(Example(), o, {});
  ASSERT_TRUE(sim.ok());
  auto sp = SparkplugPublisher::Create(**sim, address_);
  ASSERT_TRUE(sp.ok());
  (*sim)->AddSink(sp->get());
  std::thread run([&] { EXPECT_TRUE((*sim)->Run().ok()); });
  // edge-l1 carries line 1's 12 assets: 6 spindles, 2 pumps, 3 conveyors, 1 motor.
  for (int i = 0; i < 100 && received_.Count("DBIRTH/edge-l1/") < 12; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(received_.Count("NBIRTH/edge-l1"), 1u);
  size_t dbirths_before = received_.Count("DBIRTH/edge-l1/");
  ASSERT_EQ(dbirths_before, 12u);
  sparkplug::Message req = sparkplug::HostSession::RebirthRequest("lyon", "edge-l1", 0);
  ASSERT_TRUE(observer_->Publish(req.topic, req.payload, 1, false).ok());
  for (int i = 0; i < 100 && received_.Count("DBIRTH/edge-l1/") < 24; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  (*sim)->Stop();
  run.join();
  EXPECT_EQ(received_.Count("NBIRTH/edge-l1"), 2u);
  EXPECT_EQ(received_.Count("DBIRTH/edge-l1/"), 2 * dbirths_before);  // every device again
  EXPECT_EQ(received_.Count("NBIRTH/edge-l2"), 1u);                   // other nodes untouched
  EXPECT_EQ((*sp)->rebirths(), 1u);
  // The rebirth's NBIRTH restarts seq at 0 and keeps the session's bdSeq.
  ManualClock clock(TimeFromUnixMicros(0));
  sparkplug::HostSession host(clock);
  std::lock_guard<std::mutex> lock(received_.mu);
  for (const mqtt::Message& m : received_.messages) {
    sparkplug::HostEvent e = host.Feed(m.topic, m.payload);
    EXPECT_EQ(e.problem, sparkplug::HostProblem::kNone) << m.topic << ": " << e.status.ToString();
  }
}

TEST_F(SimProtocolTest, UnreachableBrokerIsAClearError) {
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  SimOptions o;
  o.speed = 0;
  o.duration = seconds(1);
  auto sim = Simulator::Create(Example(), o, {});
  ASSERT_TRUE(sim.ok());
  auto sp = SparkplugPublisher::Create(**sim, {"127.0.0.1", *port});
  ASSERT_FALSE(sp.ok());
  EXPECT_EQ(sp.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(sp.status().message().find("127.0.0.1:" + std::to_string(*port)), std::string::npos);
}

TEST_F(SimProtocolTest, FaultCommandsAreInjectedAndBadOnesRefused) {
  SimOptions o;
  o.speed = 20;
  o.duration = seconds(60);
  auto sim = Simulator::Create(Example(), o, {});
  ASSERT_TRUE(sim.ok());
  auto commands = FaultCommands::Start(**sim, address_);
  ASSERT_TRUE(commands.ok()) << commands.status().ToString();
  std::thread run([&] { EXPECT_TRUE((*sim)->Run().ok()); });
  ASSERT_TRUE(observer_
                  ->Publish(kFaultCommandTopic,
                            R"({"asset": "l1-sp-05", "kind": "bearing_wear", "severity": 0.8})", 1,
                            false)
                  .ok());
  ASSERT_TRUE(
      observer_->Publish(kFaultCommandTopic, R"({"asset": "nope", "kind": "x"})", 1, false).ok());
  ASSERT_TRUE(observer_->Publish(kFaultCommandTopic, "not json at all {", 1, false).ok());
  for (int i = 0; i < 200 && (*commands)->accepted() + (*commands)->refused() < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(200));  // a tick or two
  (*sim)->Stop();
  run.join();
  EXPECT_EQ((*commands)->accepted(), 1u);
  EXPECT_EQ((*commands)->refused(), 2u);
  std::vector<FaultLabel> labels = (*sim)->labels();
  ASSERT_EQ(labels.size(), 1u);
  EXPECT_EQ(labels[0].asset, "l1-sp-05");
  EXPECT_EQ(labels[0].type, FaultType::kBearingWear);
  EXPECT_DOUBLE_EQ(labels[0].severity, 0.8);
}

// A real libmodbus client against the simulated PLCs: reads the registers plant.yaml declares,
// writes a setpoint that reaches the twin (through an HVAC zone's PLC program), and is refused
// outside the range and on read-only registers.
TEST(SimModbus, PlantRegistersReadAndSetpointsWrite) {
  SimOptions o;
  o.speed = 50;
  o.duration = seconds(600);
  o.plc_watchdog = std::chrono::hours(1);  // one heartbeat keeps the zone remote here
  auto sim = Simulator::Create(Example(), o, {});
  ASSERT_TRUE(sim.ok());
  auto plc = ModbusPlc::Start(**sim, 0);
  ASSERT_TRUE(plc.ok()) << plc.status().ToString();
  Collect truth;
  (*sim)->AddSink(plc->get());
  (*sim)->AddSink(&truth);
  auto port_of = [&](const std::string& plant_address) -> int {
    for (const auto& e : (*plc)->endpoints()) {
      if (e.plant_address == plant_address) return e.local_port;
    }
    return -1;
  };
  // Lyon: 3 compressors (one device each) and the HVAC gateway; Brno: compressor and gateway.
  ASSERT_EQ((*plc)->endpoints().size(), 6u);
  int compressor_port = port_of("10.20.0.31:502/1");
  int hvac_port = port_of("10.20.0.50:502/1");
  ASSERT_GT(compressor_port, 0);
  ASSERT_GT(hvac_port, 0);
  std::thread run([&] { EXPECT_TRUE((*sim)->Run().ok()); });
  std::this_thread::sleep_for(milliseconds(300));

  modbus_t* c = modbus_new_tcp("127.0.0.1", compressor_port);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(modbus_connect(c), 0) << modbus_strerror(errno);
  // lyon-ac-01's map (compressor_plc): input registers 0..13 (dew_point at 9 is not fitted,
  // but inside the map).
  uint16_t regs[15] = {};
  ASSERT_EQ(modbus_read_input_registers(c, 0, 14, regs), 14) << modbus_strerror(errno);
  EXPECT_EQ(modbus_read_input_registers(c, 0, 15, regs), -1);  // past the declared map
  EXPECT_EQ(errno, EMBXILADD);
  // discharge_pressure: input 0, int16, scale 0.01 bar; the register holds a sampled value.
  double pressure = static_cast<int16_t>(regs[0]) * 0.01;
  uint32_t pressure_signal = *(*sim)->FindSignal("lyon-ac-01", "discharge_pressure");
  bool seen = false;
  {
    std::lock_guard<std::mutex> lock(truth.mu);
    for (const Sample& s : truth.all) {
      seen = seen || (s.signal == pressure_signal && std::abs(s.value - pressure) <= 0.005 + 1e-9);
    }
  }
  EXPECT_TRUE(seen) << "register value " << pressure << " bar was never sampled";
  // The controller has no writable holding register: a write is refused.
  EXPECT_EQ(modbus_write_register(c, 0, 700), -1);
  EXPECT_EQ(errno, EMBXILADD);
  // Coil 0 is the run command (`running`): it reads 1, a stop reaches the twin and reads back.
  uint8_t coil = 0;
  ASSERT_EQ(modbus_read_bits(c, 0, 1, &coil), 1) << modbus_strerror(errno);
  EXPECT_EQ(coil, 1);
  ASSERT_EQ(modbus_write_bit(c, 0, 0), 1) << modbus_strerror(errno);
  uint32_t running_signal = *(*sim)->FindSignal("lyon-ac-01", "running");
  double running = 1;
  for (int i = 0; i < 200 && running != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    std::lock_guard<std::mutex> lock(truth.mu);
    for (const Sample& s : truth.all) {
      if (s.signal == running_signal) running = s.value;
    }
  }
  EXPECT_EQ(running, 0);
  ASSERT_EQ(modbus_read_bits(c, 0, 1, &coil), 1);
  EXPECT_EQ(coil, 0);
  modbus_close(c);
  modbus_free(c);

  modbus_t* h = modbus_new_tcp("127.0.0.1", hvac_port);
  ASSERT_EQ(modbus_connect(h), 0);
  // lyon-hz-02 has base 16; its effective setpoint is holding 16 + 4 (read-only: the PLC
  // program's), its remote_setpoint holding 16 + 12 and heartbeat 16 + 13, int16 x 0.1 degC.
  EXPECT_EQ(modbus_write_register(h, 20, 235), -1);
  EXPECT_EQ(errno, EMBXILADD);
  ASSERT_EQ(modbus_write_register(h, 28, 235), 1) << modbus_strerror(errno);
  ASSERT_EQ(modbus_write_register(h, 29, 1), 1) << modbus_strerror(errno);
  EXPECT_EQ(modbus_write_register(h, 28, 990), -1);  // 99.0 degC: outside 5..35
  EXPECT_EQ(errno, EMBXILVAL);
  uint16_t mode = 9;
  ASSERT_EQ(modbus_read_input_registers(h, 30, 1, &mode), 1);
  EXPECT_EQ(mode, 1);  // remote, at once
  // The twin takes it at its next step (HVAC signals are sampled every 60 s: 1.2 s here).
  uint32_t setpoint_signal = *(*sim)->FindSignal("lyon-hz-02", "setpoint");
  double sampled = 0;
  for (int i = 0; i < 200 && std::abs(sampled - 23.5) > 1e-9; ++i) {
    std::this_thread::sleep_for(milliseconds(25));
    std::lock_guard<std::mutex> lock(truth.mu);
    for (const Sample& s : truth.all) {
      if (s.signal == setpoint_signal) sampled = s.value;
    }
  }
  EXPECT_NEAR(sampled, 23.5, 1e-9);
  uint16_t v = 0;
  ASSERT_EQ(modbus_read_registers(h, 20, 1, &v), 1);
  EXPECT_EQ(static_cast<int16_t>(v), 235);  // and the PLC shows the effective setpoint
  modbus_close(h);
  modbus_free(h);
  (*sim)->Stop();
  run.join();
}

}  // namespace
}  // namespace weft::sim

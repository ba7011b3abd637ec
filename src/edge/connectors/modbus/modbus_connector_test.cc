// The connector against a real Modbus TCP server (weft::modbus::ModbusTcpServer) on 127.0.0.1.
#include "edge/connectors/modbus/modbus_connector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "edge/connectors/modbus/test_plant.h"
#include "modbus/register_bank.h"
#include "modbus/tcp_server.h"

namespace weft::edge::modbus {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace sim = ::weft::modbus;

// Everything the sinks receive, for the test thread to wait on.
class Recorder {
 public:
  ConnectorSinks Sinks() {
    return {.on_samples =
                [this](std::span<const Sample> s) {
                  std::lock_guard lock(mu_);
                  batches_.emplace_back(s.begin(), s.end());
                  for (const Sample& x : s) latest_[x.signal] = x;
                  cv_.notify_all();
                },
            .on_event =
                [this](const Event& e) {
                  std::lock_guard lock(mu_);
                  events_.push_back(e);
                  cv_.notify_all();
                }};
  }
  // Waits until `pred` holds (called under the lock), or `timeout`.
  bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  size_t batches() {
    std::lock_guard lock(mu_);
    return batches_.size();
  }
  std::map<SignalId, Sample> latest() {
    std::lock_guard lock(mu_);
    return latest_;
  }
  std::vector<std::string> event_kinds() {
    std::lock_guard lock(mu_);
    std::vector<std::string> k;
    for (const Event& e : events_) k.push_back(e.kind);
    return k;
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

  // For predicates (the lock is held).
  size_t batches_locked() const { return batches_.size(); }
  size_t count_events_locked(const std::string& kind) const {
    size_t n = 0;
    for (const Event& e : events_) n += e.kind == kind;
    return n;
  }
  const std::vector<std::vector<Sample>>& batches_locked_ref() const { return batches_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Sample>> batches_;
  std::map<SignalId, Sample> latest_;
  std::vector<Event> events_;
};

// Every value type and word order, scaled, on one PLC; a second asset whose registers are past
// the end of the server's map.
constexpr char kTypes[] = R"(
meter:
  signals:
  - {name: u16, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 0, scale: 0.1}}}
  - {name: i16, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 1, type: int16, scale: 0.01, offset: 5}}}
  - {name: u32, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 2, type: uint32}}}
  - {name: i32lo, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 4, type: int32, word_order: low_first, scale: 0.5}}}
  - {name: f32, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 6, type: float32}}}
  - {name: f32lo, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 8, type: float32, word_order: low_first, offset: -1}}}
  - {name: in0, unit: kW, quantity: power, period: 100ms, source: {modbus: {table: input, address: 0, type: int16}}}
  - {name: coil3, unit: "1", quantity: boolean, type: bool, period: 100ms, source: {modbus: {table: coil, address: 3}}}
  - {name: di2, unit: "1", quantity: boolean, type: bool, period: 100ms, source: {modbus: {table: discrete, address: 2}}}
far:
  signals:
  - {name: x, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 0}}}
)";
constexpr char kAssets[] = R"(
- {id: m1, type: meter, connection: {modbus: {host: plc.example, port: 502, unit: 1}}}
- {id: f1, type: far, connection: {modbus: {host: plc.example, port: 502, unit: 1, base: 500}}}
)";

class ModbusConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plant_ = testing::MakePlant(kTypes, kAssets);
    ASSERT_NE(plant_, nullptr);
    Result<SignalTable> t = SignalTable::FromPlant(*plant_, {});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = std::make_unique<SignalTable>(std::move(t).value());
    Result<std::shared_ptr<sim::RegisterBank>> bank = sim::RegisterBank::Create(
        {.coils = 16, .discrete_inputs = 16, .holding_registers = 100, .input_registers = 100});
    ASSERT_TRUE(bank.ok());
    bank_ = *bank;
    const auto hi = sim::WordOrder::kHighWordFirst;
    const auto lo = sim::WordOrder::kLowWordFirst;
    const auto H = sim::Table::kHoldingRegisters;
    ASSERT_TRUE(bank_->SetRegister(H, 0, 1234).ok());                         // 123.4
    ASSERT_TRUE(bank_->SetRegister(H, 1, static_cast<uint16_t>(-250)).ok());  // -2.5 + 5
    ASSERT_TRUE(bank_->SetUint32(H, 2, 3000000000u, hi).ok());
    ASSERT_TRUE(bank_->SetInt32(H, 4, -100001, lo).ok());  // * 0.5
    ASSERT_TRUE(bank_->SetFloat32(H, 6, 21.5f, hi).ok());
    ASSERT_TRUE(bank_->SetFloat32(H, 8, -3.25f, lo).ok());                         // - 1
    ASSERT_TRUE(bank_->SetRegister(sim::Table::kInputRegisters, 0, 0xFFFF).ok());  // -1
    ASSERT_TRUE(bank_->SetBit(sim::Table::kCoils, 3, true).ok());
    ASSERT_TRUE(bank_->SetBit(sim::Table::kDiscreteInputs, 2, false).ok());
    StartServer(0);
  }

  void StartServer(uint16_t port) {
    Result<std::unique_ptr<sim::ModbusTcpServer>> s =
        sim::ModbusTcpServer::Start("127.0.0.1", port, bank_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  ModbusConnectorOptions Options() {
    ModbusConnectorOptions o;
    o.response_timeout = 300ms;
    o.reconnect_backoff_min = 50ms;
    o.reconnect_backoff_max = 200ms;
    o.endpoint_overrides["plc.example:502"] = "127.0.0.1:" + std::to_string(server_->port());
    return o;
  }

  SignalId Id(const std::string& asset, const std::string& signal) {
    std::optional<SignalId> id = table_->Find(asset, signal);
    EXPECT_TRUE(id.has_value()) << asset << "." << signal;
    return id.value_or(0);
  }

  std::unique_ptr<model::Plant> plant_;
  std::unique_ptr<SignalTable> table_;
  std::shared_ptr<sim::RegisterBank> bank_;
  std::unique_ptr<sim::ModbusTcpServer> server_;
  // Outlives the connectors the tests make (locals), whose threads call it.
  Recorder rec;
};

TEST_F(ModbusConnectorTest, ScaledValuesOfEveryTypeArriveWithTheirSignalIds) {
  ManualClock clock(TimeFromUnixMicros(1'700'000'000'000'000));
  ModbusConnectorOptions o = Options();
  o.clock = &clock;
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Start(rec.Sinks()).ok());
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.batches_locked() >= 2; }));
  std::map<SignalId, Sample> v = rec.latest();
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "u16")).value, 123.4);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "i16")).value, 2.5);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "u32")).value, 3000000000.0);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "i32lo")).value, -50000.5);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "f32")).value, 21.5);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "f32lo")).value, -4.25);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "in0")).value, -1.0);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "coil3")).value, 1.0);
  EXPECT_DOUBLE_EQ(v.at(Id("m1", "di2")).value, 0.0);
  EXPECT_FALSE(v.contains(Id("f1", "x"))) << "its read fails";
  for (const auto& [id, s] : v) {
    EXPECT_EQ(s.ts_us, 1'700'000'000'000'000) << "timestamped by the injected clock";
    EXPECT_EQ(s.quality, quality::kGood);
  }
  // One batch per poll, holding all nine good values.
  ASSERT_TRUE(rec.WaitFor(1s, [&] { return rec.batches_locked_ref()[0].size() == 9; }));

  // A value changed in the PLC shows up at a following poll.
  ASSERT_TRUE(bank_->SetRegister(sim::Table::kHoldingRegisters, 0, 1).ok());
  EXPECT_TRUE(rec.WaitFor(2s, [&] {
    const auto& b = rec.batches_locked_ref().back();
    return b[0].value == 0.1;
  }));

  // The illegal address is counted, and polling goes on around it.
  ConnectorHealth h = (*c)->Health();
  EXPECT_EQ(h.name, "modbus");
  EXPECT_EQ(h.state, ConnectorState::kRunning);
  EXPECT_GE(h.errors["exception_illegal_data_address"], 2u);
  EXPECT_THAT(h.last_error, HasSubstr("holding 500+1"));
  EXPECT_GE(h.messages, 8u);  // 4 good reads per poll
  EXPECT_GE(h.samples, 18u);
  EXPECT_TRUE(rec.event_kinds().empty()) << "an exception reply is not a comm loss";
  (*c)->Stop();
  EXPECT_EQ((*c)->Health().state, ConnectorState::kStopped);
  (*c)->Stop();  // idempotent
  EXPECT_EQ((*c)->Start(rec.Sinks()).code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModbusConnectorTest, PollsOnItsPeriodWithoutDrift) {
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, Options());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Start(rec.Sinks()).ok());
  std::this_thread::sleep_for(1050ms);
  (*c)->Stop();
  // Polls at 0, 100, ..., 1000 ms: 11, give or take scheduling on a loaded machine.
  EXPECT_GE(rec.batches(), 7u);
  EXPECT_LE(rec.batches(), 12u);
}

TEST_F(ModbusConnectorTest, ServerRestartGivesCommLossThenCommRestored) {
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, Options());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Start(rec.Sinks()).ok());
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.batches_locked() >= 1; }));
  const uint16_t port = server_->port();
  server_->Stop();
  server_.reset();
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.count_events_locked("comm_loss") == 1; }));
  EXPECT_EQ((*c)->Health().state, ConnectorState::kDegraded);
  std::this_thread::sleep_for(300ms);  // several failed reconnects
  const size_t before = rec.batches();
  StartServer(port);
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.count_events_locked("comm_restored") == 1; }));
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.batches_locked() > before + 2; }))
      << "polling resumes";
  std::vector<Event> events = rec.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "comm_loss");
  EXPECT_EQ(events[0].source, "modbus://plc.example:502");
  EXPECT_FALSE(events[0].message.empty());
  EXPECT_EQ(events[1].kind, "comm_restored");
  ConnectorHealth h = (*c)->Health();
  EXPECT_EQ(h.state, ConnectorState::kRunning);
  EXPECT_GE(h.errors["connection"], 1u);
  (*c)->Stop();
}

TEST_F(ModbusConnectorTest, NoServerAtAllIsACommLossFromTheStart) {
  ModbusConnectorOptions o = Options();
  const uint16_t port = server_->port();
  server_.reset();
  o.endpoint_overrides["plc.example:502"] = "127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Start(rec.Sinks()).ok());
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.count_events_locked("comm_loss") == 1; }));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(rec.event_kinds().size(), 1u) << "one comm_loss, not one per attempt";
  ConnectorHealth h = (*c)->Health();
  EXPECT_EQ(h.state, ConnectorState::kDegraded);
  EXPECT_GE(h.errors["connection"], 2u) << "it keeps trying";
  EXPECT_EQ(rec.batches(), 0u);
  (*c)->Stop();
}

// A peer that accepts connections (the kernel completes the handshake on the backlog) and never
// answers: every read times out.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd_, 8) != 0) {
      ADD_FAILURE() << "cannot listen";
      return;
    }
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(ModbusConnectorTest, ResponseTimeoutIsBoundedAndStopIsPrompt) {
  SilentListener silent;
  ModbusConnectorOptions o = Options();
  o.response_timeout = 200ms;
  o.endpoint_overrides["plc.example:502"] = "127.0.0.1:" + std::to_string(silent.port());
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, o);
  ASSERT_TRUE(c.ok());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*c)->Start(rec.Sinks()).ok());
  ASSERT_TRUE(rec.WaitFor(3s, [&] { return rec.count_events_locked("comm_loss") == 1; }));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 190ms) << "the first read waits for the response timeout";
  EXPECT_LT(took, 1500ms) << "and not much longer";
  ConnectorHealth h = (*c)->Health();
  EXPECT_EQ(h.errors["timeout"], 1u);
  EXPECT_THAT(h.last_error, HasSubstr("timed out"));
  // Stop while a read is (probably) in flight: bounded by the timeout.
  std::this_thread::sleep_for(120ms);
  const auto s0 = std::chrono::steady_clock::now();
  (*c)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - s0, 700ms);
  EXPECT_EQ(rec.batches(), 0u);
}

TEST_F(ModbusConnectorTest, BadOptionsAreRefused) {
  ModbusConnectorOptions o = Options();
  o.response_timeout = 0ms;
  EXPECT_EQ(ModbusConnector::Create(*table_, o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.reconnect_backoff_max = 10ms;
  EXPECT_THAT(ModbusConnector::Create(*table_, o).status().message(), HasSubstr("backoff"));
  o = Options();
  o.endpoint_overrides["plc.example:502"] = "127.0.0.1";
  EXPECT_THAT(ModbusConnector::Create(*table_, o).status().message(), HasSubstr("host:port"));
  o.endpoint_overrides["plc.example:502"] = "127.0.0.1:70000";
  EXPECT_FALSE(ModbusConnector::Create(*table_, o).ok());
  o = Options();
  Result<std::unique_ptr<ModbusConnector>> c = ModbusConnector::Create(*table_, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Start({}).code(), StatusCode::kFailedPrecondition) << "no on_samples";
}

}  // namespace
}  // namespace weft::edge::modbus

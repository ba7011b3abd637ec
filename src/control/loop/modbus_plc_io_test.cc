#include "control/loop/modbus_plc_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "modbus/register_bank.h"
#include "modbus/tcp_server.h"

namespace weft::control {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace mb = ::weft::modbus;

model::Signal Sig(std::string name, model::ModbusTable table, uint32_t address,
                  model::ModbusValueType type, double scale) {
  model::Signal s;
  s.spec.name = std::move(name);
  s.protocol = model::Protocol::kModbusTcp;
  model::ModbusBinding b;
  b.table = table;
  b.address = address;
  b.value_type = type;
  b.scale = scale;
  s.spec.source.modbus = b;
  return s;
}

class ModbusPlcIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bank_ = mb::RegisterBank::Create({.holding_registers = 64, .input_registers = 64}).value();
    auto server = mb::ModbusTcpServer::Start("127.0.0.1", 0, bank_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    asset_.id = "z1";
    asset_.connection.modbus =
        model::ModbusEndpoint{.host = "plc.example", .port = 502, .unit_id = 1, .base = 16};
    using T = model::ModbusTable;
    using V = model::ModbusValueType;
    asset_.signals = {Sig("zone_temp", T::kInputRegister, 0, V::kInt16, 0.1),
                      Sig("setpoint", T::kHoldingRegister, 4, V::kInt16, 0.1),
                      Sig("remote_setpoint", T::kHoldingRegister, 12, V::kInt16, 0.1),
                      Sig("energy", T::kInputRegister, 6, V::kUint32, 0.01)};
  }
  std::unique_ptr<ModbusPlcIo> Io(uint16_t port) {
    ModbusPlcIoOptions o;
    o.endpoint_override = "127.0.0.1:" + std::to_string(port);
    o.response_timeout = 300ms;
    auto io = ModbusPlcIo::Create(asset_, o);
    EXPECT_TRUE(io.ok()) << io.status().ToString();
    return io.ok() ? std::move(*io) : nullptr;
  }

  std::shared_ptr<mb::RegisterBank> bank_;
  std::unique_ptr<mb::ModbusTcpServer> server_;
  model::Asset asset_;
};

TEST_F(ModbusPlcIoTest, ReadsAndWritesEngineeringValuesAtTheAssetsBase) {
  mb::Scaling t{.raw_type = mb::RawType::kInt16, .scale = 0.1};
  ASSERT_TRUE(bank_->SetScaled(mb::Table::kInputRegisters, 16, -3.5, t).ok());
  ASSERT_TRUE(bank_->SetScaled(mb::Table::kHoldingRegisters, 20, 21.0, t).ok());
  ASSERT_TRUE(
      bank_->SetUint32(mb::Table::kInputRegisters, 22, 123456, mb::WordOrder::kHighWordFirst).ok());
  auto io = Io(server_->port());
  auto v = io->Read({"zone_temp", "setpoint", "energy"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_DOUBLE_EQ(v->at("zone_temp"), -3.5);
  EXPECT_DOUBLE_EQ(v->at("setpoint"), 21.0);
  EXPECT_DOUBLE_EQ(v->at("energy"), 1234.56);
  ASSERT_TRUE(io->Write("remote_setpoint", 19.5).ok());
  EXPECT_EQ(bank_->GetRegister(mb::Table::kHoldingRegisters, 28).value(), 195);
  EXPECT_EQ(io->stats().connects, 1u);
}

TEST_F(ModbusPlcIoTest, RefusalsAndUnknownSignals) {
  auto io = Io(server_->port());
  EXPECT_EQ(io->Read({"nope"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(io->Write("zone_temp", 1).code(), StatusCode::kFailedPrecondition)
      << "an input register cannot be written";
  ASSERT_TRUE(bank_
                  ->SetWriteRule(mb::Table::kHoldingRegisters, 28,
                                 {.min_raw = 50, .max_raw = 350, .signed_raw = true})
                  .ok());
  Status s = io->Write("remote_setpoint", 40);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(io->stats().exceptions, 1u);
  EXPECT_TRUE(io->Write("remote_setpoint", 20).ok()) << "the connection survived the exception";
  EXPECT_EQ(io->Write("remote_setpoint", std::nan("")).code(), StatusCode::kInvalidArgument);
}

TEST_F(ModbusPlcIoTest, CommsLossIsUnavailableAndReconnects) {
  const uint16_t port = server_->port();
  auto io = Io(port);
  ASSERT_TRUE(io->Read({"setpoint"}).ok());
  server_->Stop();
  server_.reset();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(io->Read({"setpoint"}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(io->Write("remote_setpoint", 20).code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "bounded by the timeouts";
  auto server = mb::ModbusTcpServer::Start("127.0.0.1", port, bank_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  server_ = std::move(*server);
  EXPECT_TRUE(io->Read({"setpoint"}).ok());
  EXPECT_EQ(io->stats().connects, 2u);
}

TEST(ModbusPlcIoCreate, RefusesBadOptions) {
  model::Asset a;
  a.id = "x";
  EXPECT_EQ(ModbusPlcIo::Create(a, {}).status().code(), StatusCode::kInvalidArgument);
  a.connection.modbus = model::ModbusEndpoint{.host = "h"};
  EXPECT_THAT(ModbusPlcIo::Create(a, {.endpoint_override = "nope"}).status().message(),
              HasSubstr("host:port"));
}

}  // namespace
}  // namespace weft::control

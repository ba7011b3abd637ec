// ModbusTcpServer against real clients on loopback: libmodbus's own client for well-formed
// traffic, raw sockets for everything a real client would never send.
#include "modbus/tcp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace weft::modbus {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kWaitLimit = std::chrono::seconds(5);

struct ModbusClientDeleter {
  void operator()(modbus_t* ctx) const {
    modbus_close(ctx);
    modbus_free(ctx);
  }
};
using ModbusClient = std::unique_ptr<modbus_t, ModbusClientDeleter>;

// A connected libmodbus client with a bounded response timeout; nullptr on failure.
ModbusClient Connect(uint16_t port, int unit_id = MODBUS_TCP_SLAVE) {
  ModbusClient ctx(modbus_new_tcp("127.0.0.1", port));
  if (ctx == nullptr) return nullptr;
  modbus_set_response_timeout(ctx.get(), 2, 0);
  modbus_set_slave(ctx.get(), unit_id);
  if (modbus_connect(ctx.get()) != 0) {
    ADD_FAILURE() << "modbus_connect: " << modbus_strerror(errno);
    return nullptr;
  }
  return ctx;
}

// A plain TCP connection, for sending what libmodbus would not.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    timeval tv{};
    tv.tv_sec = 3;  // Every read is bounded.
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawSocket() { close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::vector<uint8_t>& bytes) const {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  void ShutdownWrite() const { shutdown(fd_, SHUT_WR); }

  // Exactly n bytes, or fewer if the peer closes or 3 s pass.
  std::vector<uint8_t> Read(size_t n) const {
    std::vector<uint8_t> out(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

  // True when the peer closes the connection (EOF or reset) within the 3 s read timeout,
  // discarding anything it sends first.
  bool WaitClosed() const {
    uint8_t sink[512];
    while (true) {
      const ssize_t r = recv(fd_, sink, sizeof(sink), 0);
      if (r == 0) return true;
      if (r < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

// An MBAP frame: transaction id, protocol 0, length, unit id, then the PDU.
std::vector<uint8_t> Frame(uint16_t transaction, uint8_t unit, const std::vector<uint8_t>& pdu) {
  const auto length = static_cast<uint16_t>(pdu.size() + 1);
  std::vector<uint8_t> f = {
      static_cast<uint8_t>(transaction >> 8), static_cast<uint8_t>(transaction & 0xFF), 0,   0,
      static_cast<uint8_t>(length >> 8),      static_cast<uint8_t>(length & 0xFF),      unit};
  f.insert(f.end(), pdu.begin(), pdu.end());
  return f;
}

// Polls `done` until it holds or kWaitLimit passes.
bool WaitUntil(const std::function<bool()>& done) {
  const auto deadline = steady_clock::now() + kWaitLimit;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

class ModbusTcpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bank = RegisterBank::Create(
        {.coils = 64, .discrete_inputs = 64, .holding_registers = 100, .input_registers = 100});
    ASSERT_TRUE(bank.ok()) << bank.status().ToString();
    bank_ = *bank;
    StartServer({});
  }

  void StartServer(const TcpServerOptions& options) {
    server_.reset();
    auto server = ModbusTcpServer::Start("127.0.0.1", 0, bank_, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  std::shared_ptr<RegisterBank> bank_;
  std::unique_ptr<ModbusTcpServer> server_;
};

TEST_F(ModbusTcpServerTest, PortZeroGivesARealFreePort) {
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->bind_address(), "127.0.0.1");
  auto other = ModbusTcpServer::Start("127.0.0.1", 0, bank_);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->port(), server_->port());
  ModbusClient client = Connect((*other)->port());
  ASSERT_NE(client, nullptr);
  uint16_t reg = 0;
  EXPECT_EQ(modbus_read_registers(client.get(), 0, 1, &reg), 1);

  // The port is really taken: a second bind to it fails, saying so.
  auto clash = ModbusTcpServer::Start("127.0.0.1", server_->port(), bank_);
  EXPECT_EQ(clash.status().code(), StatusCode::kUnavailable) << clash.status().ToString();
}

TEST_F(ModbusTcpServerTest, SilentServerClosesAndAnswersNobodyUntilItSpeaksAgain) {
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 0, 42).ok());
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t reg = 0;
  ASSERT_EQ(modbus_read_registers(client.get(), 0, 1, &reg), 1);
  server_->SetSilent(true);
  // The open connection is gone: the read fails at once, not after the response timeout.
  const auto t0 = steady_clock::now();
  EXPECT_EQ(modbus_read_registers(client.get(), 0, 1, &reg), -1);
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(1));
  // A new connection is accepted by the kernel, then closed: no answer either.
  ModbusClient again(modbus_new_tcp("127.0.0.1", server_->port()));
  ASSERT_NE(again, nullptr);
  modbus_set_response_timeout(again.get(), 1, 0);
  if (modbus_connect(again.get()) == 0) {
    EXPECT_EQ(modbus_read_registers(again.get(), 0, 1, &reg), -1);
  }
  EXPECT_TRUE(WaitUntil([&] { return server_->stats().connections_refused >= 1; }));
  EXPECT_EQ(server_->stats().active_clients, 0u);
  server_->SetSilent(false);
  ModbusClient back = Connect(server_->port());
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(modbus_read_registers(back.get(), 0, 1, &reg), 1);
  EXPECT_EQ(reg, 42);
  // Stop while silent returns; SetSilent after Stop does not block.
  server_->SetSilent(true);
  server_->Stop();
  server_->SetSilent(false);
}

TEST_F(ModbusTcpServerTest, RefusesBadArguments) {
  EXPECT_EQ(ModbusTcpServer::Start("not-an-address", 0, bank_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ModbusTcpServer::Start("", 0, bank_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ModbusTcpServer::Start("127.0.0.1", 0, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ModbusTcpServer::Start("127.0.0.1", 0, bank_, {.max_clients = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ModbusTcpServerTest, ReadsWhatTheBankHolds) {
  ASSERT_TRUE(bank_->SetRegister(Table::kInputRegisters, 5, 1234).ok());
  ASSERT_TRUE(bank_->SetRegister(Table::kInputRegisters, 6, 65535).ok());
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 99, 777).ok());
  ASSERT_TRUE(bank_->SetBit(Table::kCoils, 0, true).ok());
  ASSERT_TRUE(bank_->SetBit(Table::kCoils, 9, true).ok());
  ASSERT_TRUE(bank_->SetBit(Table::kDiscreteInputs, 63, true).ok());

  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t regs[2] = {0, 0};
  ASSERT_EQ(modbus_read_input_registers(client.get(), 5, 2, regs), 2);
  EXPECT_EQ(regs[0], 1234);
  EXPECT_EQ(regs[1], 65535);
  ASSERT_EQ(modbus_read_registers(client.get(), 99, 1, regs), 1);
  EXPECT_EQ(regs[0], 777);
  uint8_t bits[10] = {};
  ASSERT_EQ(modbus_read_bits(client.get(), 0, 10, bits), 10);
  EXPECT_EQ(bits[0], 1);
  EXPECT_EQ(bits[1], 0);
  EXPECT_EQ(bits[9], 1);
  ASSERT_EQ(modbus_read_input_bits(client.get(), 63, 1, bits), 1);
  EXPECT_EQ(bits[0], 1);

  // The bank changes underneath: the next read sees it.
  ASSERT_TRUE(bank_->SetRegister(Table::kInputRegisters, 5, 4321).ok());
  ASSERT_EQ(modbus_read_input_registers(client.get(), 5, 1, regs), 1);
  EXPECT_EQ(regs[0], 4321);
  // The largest reads the protocol allows.
  std::vector<uint16_t> many(MODBUS_MAX_READ_REGISTERS);
  EXPECT_EQ(modbus_read_input_registers(client.get(), 0, 100, many.data()), 100);
  std::vector<uint8_t> all_bits(64);
  EXPECT_EQ(modbus_read_bits(client.get(), 0, 64, all_bits.data()), 64);
  EXPECT_EQ(server_->stats().requests, 7u);
  EXPECT_EQ(server_->stats().exceptions, 0u);
}

TEST_F(ModbusTcpServerTest, WriteWithinLimitsUpdatesBankAndTellsListener) {
  ASSERT_TRUE(bank_->SetWriteRules(Table::kHoldingRegisters, 10, 3, {0, 1000, true}).ok());
  std::mutex mu;
  std::vector<std::tuple<Table, uint16_t, uint16_t>> heard;
  bank_->SetWriteListener([&](Table table, uint16_t address, uint16_t count) {
    std::lock_guard<std::mutex> lock(mu);
    heard.emplace_back(table, address, count);
  });

  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(modbus_write_register(client.get(), 10, 1000), 1);
  const uint16_t values[] = {1, 2, 3};
  ASSERT_EQ(modbus_write_registers(client.get(), 10, 3, values), 3);
  ASSERT_EQ(modbus_write_bit(client.get(), 7, 1), 1);
  const uint8_t coils[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  ASSERT_EQ(modbus_write_bits(client.get(), 20, 9, coils), 9);

  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 10), 1);
  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 12), 3);
  EXPECT_TRUE(*bank_->GetBit(Table::kCoils, 7));
  uint8_t back[9] = {};
  ASSERT_TRUE(bank_->GetBits(Table::kCoils, 20, back).ok());
  EXPECT_EQ(std::vector<uint8_t>(back, back + 9), std::vector<uint8_t>(coils, coils + 9));

  // The listener runs before the reply is sent, so it has been told by now.
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(heard.size(), 4u);
  EXPECT_EQ(heard[0], std::make_tuple(Table::kHoldingRegisters, uint16_t{10}, uint16_t{1}));
  EXPECT_EQ(heard[1], std::make_tuple(Table::kHoldingRegisters, uint16_t{10}, uint16_t{3}));
  EXPECT_EQ(heard[2], std::make_tuple(Table::kCoils, uint16_t{7}, uint16_t{1}));
  EXPECT_EQ(heard[3], std::make_tuple(Table::kCoils, uint16_t{20}, uint16_t{9}));
}

TEST_F(ModbusTcpServerTest, WriteOutsideLimitsIsIllegalDataValueAndChangesNothing) {
  ASSERT_TRUE(bank_->SetWriteRule(Table::kHoldingRegisters, 10, {0, 1000, true}).ok());
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 10, 500).ok());
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 9, 5).ok());
  std::atomic<int> heard{0};
  bank_->SetWriteListener([&](Table, uint16_t, uint16_t) { heard.fetch_add(1); });

  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(modbus_write_register(client.get(), 10, 1001), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  // In a multiple write, one bad value refuses the whole request.
  const uint16_t values[] = {6, 2000};
  EXPECT_EQ(modbus_write_registers(client.get(), 9, 2, values), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 10), 500);
  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 9), 5);
  EXPECT_EQ(heard.load(), 0);

  // A validator's refusal is the same exception.
  bank_->SetWriteValidator([](Table, uint16_t, uint16_t value) { return value < 100; });
  EXPECT_EQ(modbus_write_register(client.get(), 20, 100), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  EXPECT_EQ(modbus_write_register(client.get(), 20, 99), 1);
  EXPECT_EQ(server_->stats().exceptions, 3u);
  // The connection survives exceptions.
  uint16_t reg = 0;
  EXPECT_EQ(modbus_read_registers(client.get(), 20, 1, &reg), 1);
  EXPECT_EQ(reg, 99);
}

TEST_F(ModbusTcpServerTest, WriteToReadOnlyIsRefused) {
  ASSERT_TRUE(bank_->SetWriteRule(Table::kHoldingRegisters, 3, {.writable = false}).ok());
  ASSERT_TRUE(bank_->SetWriteRule(Table::kCoils, 3, {.writable = false}).ok());
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(modbus_write_register(client.get(), 3, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
  const uint16_t values[] = {1, 1, 1};
  EXPECT_EQ(modbus_write_registers(client.get(), 2, 3, values), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_write_bit(client.get(), 3, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 2), 0);
  EXPECT_FALSE(*bank_->GetBit(Table::kCoils, 3));
}

TEST(ModbusTcpServerDefaultsTest, BankReadOnlyByDefaultRefusesUnruledWrites) {
  auto bank = RegisterBank::Create({.holding_registers = 10, .writable_by_default = false});
  ASSERT_TRUE(bank.ok());
  ASSERT_TRUE((*bank)->SetWriteRule(Table::kHoldingRegisters, 1, {0, 10, true}).ok());
  auto server = ModbusTcpServer::Start("127.0.0.1", 0, *bank);
  ASSERT_TRUE(server.ok());
  ModbusClient client = Connect((*server)->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(modbus_write_register(client.get(), 0, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_write_register(client.get(), 1, 1), 1);
  // The bank has no coils at all.
  EXPECT_EQ(modbus_write_bit(client.get(), 0, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
}

TEST_F(ModbusTcpServerTest, AccessPastTheTableIsIllegalDataAddress) {
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t regs[4] = {};
  uint8_t bits[4] = {};
  EXPECT_EQ(modbus_read_registers(client.get(), 99, 2, regs), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_read_input_registers(client.get(), 100, 1, regs), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_read_input_registers(client.get(), 65535, 1, regs), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_read_bits(client.get(), 62, 3, bits), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_read_input_bits(client.get(), 64, 1, bits), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_write_register(client.get(), 100, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
  const uint16_t values[] = {1, 2};
  EXPECT_EQ(modbus_write_registers(client.get(), 99, 2, values), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_write_bit(client.get(), 64, 1), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(server_->stats().exceptions, 8u);
  EXPECT_EQ(server_->stats().clients_dropped, 0u);
}

TEST_F(ModbusTcpServerTest, ThirtyTwoBitValuesInBothWordOrdersAndFloat32) {
  ASSERT_TRUE(
      bank_->SetUint32(Table::kInputRegisters, 0, 0xDEADBEEF, WordOrder::kHighWordFirst).ok());
  ASSERT_TRUE(
      bank_->SetUint32(Table::kInputRegisters, 2, 0xDEADBEEF, WordOrder::kLowWordFirst).ok());
  ASSERT_TRUE(bank_->SetFloat32(Table::kInputRegisters, 4, 3.5f, WordOrder::kHighWordFirst).ok());
  ASSERT_TRUE(
      bank_->SetFloat32(Table::kInputRegisters, 6, -0.15625f, WordOrder::kLowWordFirst).ok());
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t r[8] = {};
  ASSERT_EQ(modbus_read_input_registers(client.get(), 0, 8, r), 8);
  EXPECT_EQ(r[0], 0xDEAD);
  EXPECT_EQ(r[1], 0xBEEF);
  EXPECT_EQ(r[2], 0xBEEF);
  EXPECT_EQ(r[3], 0xDEAD);
  EXPECT_EQ(BitsToFloat32((uint32_t{r[4]} << 16) | r[5]), 3.5f);
  EXPECT_EQ(BitsToFloat32((uint32_t{r[7]} << 16) | r[6]), -0.15625f);

  // A client writes a float setpoint, low word first, in one request.
  const std::array<uint16_t, 2> words =
      SplitUint32(Float32ToBits(72.25f), WordOrder::kLowWordFirst);
  ASSERT_EQ(modbus_write_registers(client.get(), 40, 2, words.data()), 2);
  EXPECT_EQ(*bank_->GetFloat32(Table::kHoldingRegisters, 40, WordOrder::kLowWordFirst), 72.25f);
  ASSERT_EQ(modbus_write_registers(client.get(), 42, 2,
                                   SplitUint32(0x01020304, WordOrder::kHighWordFirst).data()),
            2);
  EXPECT_EQ(*bank_->GetUint32(Table::kHoldingRegisters, 42, WordOrder::kHighWordFirst),
            0x01020304u);
}

TEST_F(ModbusTcpServerTest, ScaledValuesRoundTripWithExpectedRounding) {
  const Scaling temp{.raw_type = RawType::kInt16, .scale = 0.1};
  auto stored = bank_->SetScaled(Table::kInputRegisters, 30, 23.46, temp);
  ASSERT_TRUE(stored.ok());
  EXPECT_NEAR(stored->stored_value, 23.5, 1e-9);
  auto negative = bank_->SetScaled(Table::kInputRegisters, 31, -1.25,
                                   {.raw_type = RawType::kInt16, .scale = 0.5});
  ASSERT_TRUE(negative.ok());  // raw -2.5 rounds away from zero to -3.
  auto saturated =
      bank_->SetScaled(Table::kInputRegisters, 32, -1.0, {.raw_type = RawType::kUint16});
  ASSERT_TRUE(saturated.ok());
  EXPECT_TRUE(saturated->saturated);
  const Scaling energy{.raw_type = RawType::kUint32,
                       .scale = 0.01,
                       .offset = 0,
                       .word_order = WordOrder::kLowWordFirst};
  ASSERT_TRUE(bank_->SetScaled(Table::kInputRegisters, 33, 98765.432, energy).ok());

  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t r[5] = {};
  ASSERT_EQ(modbus_read_input_registers(client.get(), 30, 5, r), 5);
  EXPECT_EQ(r[0], 235);
  EXPECT_EQ(static_cast<int16_t>(r[1]), -3);
  EXPECT_EQ(r[2], 0);
  EXPECT_EQ(JoinUint32(r[3], r[4], WordOrder::kLowWordFirst), 9876543u);
  auto decoded = DecodeScaled(std::span<const uint16_t>(r + 3, 2), energy);
  ASSERT_TRUE(decoded.ok());
  EXPECT_NEAR(*decoded, 98765.43, 1e-6);

  // A client writes a raw setpoint; the simulator reads it as an engineering value.
  ASSERT_EQ(modbus_write_register(client.get(), 50, static_cast<uint16_t>(-123)), 1);
  EXPECT_NEAR(*bank_->GetScaled(Table::kHoldingRegisters, 50, temp), -12.3, 1e-9);
}

TEST_F(ModbusTcpServerTest, ReadWriteMultipleRegisters) {
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 9, 99).ok());
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  const uint16_t src[] = {10, 11};
  uint16_t dest[4] = {};
  ASSERT_EQ(modbus_write_and_read_registers(client.get(), 10, 2, src, 9, 4, dest), 4);
  EXPECT_EQ(dest[0], 99);
  EXPECT_EQ(dest[1], 10);  // The write happens before the read.
  EXPECT_EQ(dest[2], 11);
  EXPECT_EQ(dest[3], 0);
  EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, 11), 11);

  ASSERT_TRUE(bank_->SetWriteRule(Table::kHoldingRegisters, 10, {0, 5, true}).ok());
  EXPECT_EQ(modbus_write_and_read_registers(client.get(), 10, 2, src, 9, 4, dest), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  EXPECT_EQ(modbus_write_and_read_registers(client.get(), 20, 1, src, 99, 2, dest), -1);
  EXPECT_EQ(errno, EMBXILADD);
}

TEST_F(ModbusTcpServerTest, UnsupportedFunctionsAndBadQuantitiesGetExceptions) {
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(modbus_mask_write_register(client.get(), 0, 0xFF, 0x01), -1);
  EXPECT_EQ(errno, EMBXILFUN);

  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  // Function 0x2B (encapsulated interface): illegal function, connection kept.
  ASSERT_TRUE(raw.Send(Frame(1, 0xFF, {0x2B, 0x0E, 0x01, 0x00})));
  EXPECT_EQ(raw.Read(9), (std::vector<uint8_t>{0, 1, 0, 0, 0, 3, 0xFF, 0xAB, 0x01}));
  // Read 0 registers, and 126: illegal data value.
  ASSERT_TRUE(raw.Send(Frame(2, 0xFF, {0x03, 0x00, 0x00, 0x00, 0x00})));
  EXPECT_EQ(raw.Read(9), (std::vector<uint8_t>{0, 2, 0, 0, 0, 3, 0xFF, 0x83, 0x03}));
  ASSERT_TRUE(raw.Send(Frame(3, 0xFF, {0x04, 0x00, 0x00, 0x00, 126})));
  EXPECT_EQ(raw.Read(9), (std::vector<uint8_t>{0, 3, 0, 0, 0, 3, 0xFF, 0x84, 0x03}));
  // A coil value other than 0x0000 / 0xFF00.
  ASSERT_TRUE(raw.Send(Frame(4, 0xFF, {0x05, 0x00, 0x01, 0x12, 0x34})));
  EXPECT_EQ(raw.Read(9), (std::vector<uint8_t>{0, 4, 0, 0, 0, 3, 0xFF, 0x85, 0x03}));
  // Byte count that disagrees with the quantity (but matches the frame).
  ASSERT_TRUE(raw.Send(Frame(5, 0xFF, {0x10, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x01})));
  EXPECT_EQ(raw.Read(9), (std::vector<uint8_t>{0, 5, 0, 0, 0, 3, 0xFF, 0x90, 0x03}));
  // Still served after all that.
  ASSERT_TRUE(raw.Send(Frame(6, 0xFF, {0x03, 0x00, 0x00, 0x00, 0x01})));
  EXPECT_EQ(raw.Read(11), (std::vector<uint8_t>{0, 6, 0, 0, 0, 5, 0xFF, 0x03, 0x02, 0, 0}));
  EXPECT_EQ(server_->stats().clients_dropped, 0u);
}

TEST_F(ModbusTcpServerTest, PipelinedAndSplitFrames) {
  ASSERT_TRUE(bank_->SetRegister(Table::kHoldingRegisters, 1, 0x0A0B).ok());
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  // Two requests in one segment: two replies, in order.
  std::vector<uint8_t> both = Frame(7, 1, {0x03, 0x00, 0x01, 0x00, 0x01});
  const std::vector<uint8_t> second = Frame(8, 1, {0x01, 0x00, 0x00, 0x00, 0x08});
  both.insert(both.end(), second.begin(), second.end());
  ASSERT_TRUE(raw.Send(both));
  EXPECT_EQ(raw.Read(11), (std::vector<uint8_t>{0, 7, 0, 0, 0, 5, 1, 0x03, 0x02, 0x0A, 0x0B}));
  EXPECT_EQ(raw.Read(10), (std::vector<uint8_t>{0, 8, 0, 0, 0, 4, 1, 0x01, 0x01, 0x00}));

  // Half a frame: the server waits for the rest and serves others meanwhile.
  const std::vector<uint8_t> whole = Frame(9, 1, {0x03, 0x00, 0x01, 0x00, 0x01});
  ASSERT_TRUE(raw.Send(std::vector<uint8_t>(whole.begin(), whole.begin() + 4)));
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t reg = 0;
  EXPECT_EQ(modbus_read_registers(client.get(), 1, 1, &reg), 1);
  ASSERT_TRUE(raw.Send(std::vector<uint8_t>(whole.begin() + 4, whole.end())));
  EXPECT_EQ(raw.Read(11), (std::vector<uint8_t>{0, 9, 0, 0, 0, 5, 1, 0x03, 0x02, 0x0A, 0x0B}));
}

TEST_F(ModbusTcpServerTest, GarbageClientIsDroppedAndOthersAreStillServed) {
  ModbusClient good = Connect(server_->port());
  ASSERT_NE(good, nullptr);
  const std::vector<std::vector<uint8_t>> garbage = {
      // Not Modbus at all.
      {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n', '\r',
       '\n'},
      // Protocol id 1.
      {0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1},
      // Length 0, and length 1 (no function code).
      {0, 1, 0, 0, 0, 0, 1},
      {0, 1, 0, 0, 0, 1, 1},
      // Length beyond the largest ADU.
      {0, 1, 0, 0, 0x01, 0x00, 1, 3},
      // A read whose PDU is too short for its function code.
      {0, 1, 0, 0, 0, 3, 1, 3, 0},
      // A multiple write whose byte count disagrees with the frame.
      {0, 1, 0, 0, 0, 9, 1, 0x10, 0, 0, 0, 1, 4, 0, 1},
  };
  uint64_t expected_drops = 0;
  for (const auto& bytes : garbage) {
    RawSocket raw(server_->port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.Send(bytes));
    EXPECT_TRUE(raw.WaitClosed()) << "garbage #" << expected_drops;
    ++expected_drops;
    uint16_t reg = 0;
    EXPECT_EQ(modbus_read_registers(good.get(), 0, 1, &reg), 1) << modbus_strerror(errno);
  }
  EXPECT_TRUE(WaitUntil([&] { return server_->stats().clients_dropped == expected_drops; }));
  EXPECT_EQ(server_->stats().malformed_frames, expected_drops);
}

TEST_F(ModbusTcpServerTest, SurvivesRandomBytes) {
  std::mt19937 rng(20240914);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> size(1, 300);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> bytes(static_cast<size_t>(size(rng)));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(rng));
    if (i % 2 == 0 && bytes.size() >= 8) {
      // Half the time a plausible MBAP header, so the PDU parsers get exercised.
      bytes[2] = 0;
      bytes[3] = 0;
      const size_t length = bytes.size() - 6;
      bytes[4] = static_cast<uint8_t>(length >> 8);
      bytes[5] = static_cast<uint8_t>(length & 0xFF);
      bytes[7] = static_cast<uint8_t>(1 + byte(rng) % 24);
    }
    RawSocket raw(server_->port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.Send(bytes));
    raw.ShutdownWrite();
    EXPECT_TRUE(raw.WaitClosed()) << "case " << i;
  }
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  uint16_t reg = 0;
  EXPECT_EQ(modbus_read_input_registers(client.get(), 0, 1, &reg), 1);
}

TEST_F(ModbusTcpServerTest, SeveralClientsAtOnce) {
  constexpr int kClients = 8;
  constexpr int kRounds = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      ModbusClient client = Connect(server_->port());
      if (client == nullptr) {
        failures.fetch_add(1);
        return;
      }
      for (int round = 0; round < kRounds; ++round) {
        const auto value = static_cast<uint16_t>(c * 1000 + round);
        uint16_t back = 0;
        if (modbus_write_register(client.get(), c, value) != 1 ||
            modbus_read_registers(client.get(), c, 1, &back) != 1 || back != value) {
          failures.fetch_add(1);
        }
      }
    });
  }
  // The simulator keeps writing while the clients work.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(bank_
                    ->SetUint32(Table::kInputRegisters, 0, static_cast<uint32_t>(i),
                                WordOrder::kHighWordFirst)
                    .ok());
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const TcpServerStats stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, static_cast<uint64_t>(kClients));
  EXPECT_EQ(stats.requests, static_cast<uint64_t>(kClients * kRounds * 2));
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(*bank_->GetRegister(Table::kHoldingRegisters, static_cast<uint16_t>(c)),
              c * 1000 + kRounds - 1);
  }
}

TEST_F(ModbusTcpServerTest, ExtraClientsBeyondTheLimitAreRefused) {
  StartServer({.max_clients = 2});
  ModbusClient a = Connect(server_->port());
  ModbusClient b = Connect(server_->port());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  uint16_t reg = 0;
  ASSERT_EQ(modbus_read_registers(a.get(), 0, 1, &reg), 1);
  ASSERT_EQ(modbus_read_registers(b.get(), 0, 1, &reg), 1);

  RawSocket extra(server_->port());
  ASSERT_TRUE(extra.connected());  // The kernel accepts; the server closes it at once.
  EXPECT_TRUE(extra.WaitClosed());
  EXPECT_EQ(server_->stats().connections_refused, 1u);
  EXPECT_EQ(modbus_read_registers(a.get(), 0, 1, &reg), 1);

  // A slot frees up when a client leaves.
  b.reset();
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().active_clients == 1; }));
  ModbusClient c = Connect(server_->port());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(modbus_read_registers(c.get(), 0, 1, &reg), 1);
  EXPECT_EQ(server_->stats().connections_accepted, 3u);
}

TEST_F(ModbusTcpServerTest, IdleClientsAreClosed) {
  StartServer({.idle_timeout = milliseconds(150)});
  RawSocket idle(server_->port());
  ASSERT_TRUE(idle.connected());
  ModbusClient busy = Connect(server_->port());
  ASSERT_NE(busy, nullptr);
  const auto start = steady_clock::now();
  // A client that keeps talking stays connected well past the timeout.
  while (steady_clock::now() - start < milliseconds(450)) {
    uint16_t reg = 0;
    ASSERT_EQ(modbus_read_registers(busy.get(), 0, 1, &reg), 1);
    std::this_thread::sleep_for(milliseconds(30));
  }
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_EQ(server_->stats().clients_dropped, 1u);
  EXPECT_EQ(server_->stats().active_clients, 1u);
}

TEST_F(ModbusTcpServerTest, AnswersOnlyItsUnitIdWhenOneIsSet) {
  StartServer({.unit_id = 7});
  ModbusClient mine = Connect(server_->port(), 7);
  ModbusClient other = Connect(server_->port(), 8);
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(other, nullptr);
  uint16_t reg = 0;
  EXPECT_EQ(modbus_read_registers(mine.get(), 0, 1, &reg), 1);
  EXPECT_EQ(modbus_read_registers(other.get(), 0, 1, &reg), -1);
  EXPECT_EQ(errno, EMBXGTAR);
}

TEST_F(ModbusTcpServerTest, StopWithConnectedClientsIsPrompt) {
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  RawSocket half(server_->port());
  ASSERT_TRUE(half.connected());
  ASSERT_TRUE(half.Send({0, 1, 0, 0, 0, 6}));  // A frame left unfinished.
  uint16_t reg = 0;
  ASSERT_EQ(modbus_read_registers(client.get(), 0, 1, &reg), 1);

  const auto start = steady_clock::now();
  server_->Stop();
  EXPECT_LT(steady_clock::now() - start, milliseconds(500));
  server_->Stop();  // Idempotent.
  EXPECT_TRUE(half.WaitClosed());
  EXPECT_EQ(modbus_read_registers(client.get(), 0, 1, &reg), -1);
  EXPECT_EQ(server_->stats().active_clients, 0u);
  // Nobody listens any more.
  RawSocket late(server_->port());
  EXPECT_FALSE(late.connected());
}

TEST_F(ModbusTcpServerTest, StopFromTheListenerDoesNotDeadlock) {
  ModbusTcpServer* server = server_.get();  // Not server_: this thread resets that below.
  bank_->SetWriteListener([server](Table, uint16_t, uint16_t) { server->Stop(); });
  ModbusClient client = Connect(server_->port());
  ASSERT_NE(client, nullptr);
  modbus_write_register(client.get(), 0, 1);  // The reply may or may not arrive.
  // The server thread stops after that request and closes its listening socket.
  ASSERT_TRUE(WaitUntil([&] { return !RawSocket(server_->port()).connected(); }));
  server_.reset();  // Joins from this thread.
}

}  // namespace
}  // namespace weft::modbus

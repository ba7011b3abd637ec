#include "modbus/register_bank.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace weft::modbus {
namespace {

std::shared_ptr<RegisterBank> MakeBank(RegisterBank::Options options = {.coils = 16,
                                                                        .discrete_inputs = 16,
                                                                        .holding_registers = 32,
                                                                        .input_registers = 32}) {
  auto bank = RegisterBank::Create(options);
  EXPECT_TRUE(bank.ok()) << bank.status().ToString();
  return *bank;
}

TEST(RegisterBankTest, SizesUpTo65536) {
  auto full = RegisterBank::Create({.coils = 65536, .holding_registers = 65536});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ((*full)->size(Table::kCoils), 65536u);
  EXPECT_EQ((*full)->size(Table::kInputRegisters), 0u);
  ASSERT_TRUE((*full)->SetRegister(Table::kHoldingRegisters, 65535, 7).ok());
  EXPECT_EQ(*(*full)->GetRegister(Table::kHoldingRegisters, 65535), 7);

  auto too_big = RegisterBank::Create({.input_registers = 65537});
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("input_registers"), std::string::npos);
}

TEST(RegisterBankTest, GetAndSetSingleValues) {
  auto bank = MakeBank();
  ASSERT_TRUE(bank->SetBit(Table::kCoils, 3, true).ok());
  ASSERT_TRUE(bank->SetBit(Table::kDiscreteInputs, 15, true).ok());
  ASSERT_TRUE(bank->SetRegister(Table::kHoldingRegisters, 0, 0xBEEF).ok());
  ASSERT_TRUE(bank->SetRegister(Table::kInputRegisters, 31, 42).ok());
  EXPECT_TRUE(*bank->GetBit(Table::kCoils, 3));
  EXPECT_FALSE(*bank->GetBit(Table::kCoils, 4));
  EXPECT_TRUE(*bank->GetBit(Table::kDiscreteInputs, 15));
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 0), 0xBEEF);
  EXPECT_EQ(*bank->GetRegister(Table::kInputRegisters, 31), 42);

  const uint8_t bits[] = {1, 0, 7};
  ASSERT_TRUE(bank->SetBits(Table::kCoils, 13, bits).ok());
  uint8_t out[3] = {9, 9, 9};
  ASSERT_TRUE(bank->GetBits(Table::kCoils, 13, out).ok());
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 1);  // Non-zero reads back as 1.
}

TEST(RegisterBankTest, RefusesWrongTableKindAndOutOfRange) {
  auto bank = MakeBank();
  EXPECT_EQ(bank->SetBit(Table::kHoldingRegisters, 0, true).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bank->GetRegister(Table::kCoils, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bank->SetRegister(Table::kHoldingRegisters, 32, 1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(bank->GetBit(Table::kDiscreteInputs, 16).status().code(), StatusCode::kOutOfRange);
  // A 32-bit value at the last register would spill past the end.
  EXPECT_EQ(bank->SetUint32(Table::kInputRegisters, 31, 1, WordOrder::kHighWordFirst).code(),
            StatusCode::kOutOfRange);
  const uint16_t three[3] = {1, 2, 3};
  const Status s = bank->SetRegisters(Table::kHoldingRegisters, 30, three);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("holding_registers[30..32]"), std::string::npos) << s.message();
  // Nothing was written by the refused call.
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 30), 0);
}

TEST(RegisterBankTest, ThirtyTwoBitValuesInBothWordOrders) {
  auto bank = MakeBank();
  ASSERT_TRUE(
      bank->SetUint32(Table::kHoldingRegisters, 0, 0x12345678, WordOrder::kHighWordFirst).ok());
  ASSERT_TRUE(
      bank->SetUint32(Table::kHoldingRegisters, 2, 0x12345678, WordOrder::kLowWordFirst).ok());
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 0), 0x1234);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 1), 0x5678);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 2), 0x5678);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 3), 0x1234);
  EXPECT_EQ(*bank->GetUint32(Table::kHoldingRegisters, 2, WordOrder::kLowWordFirst), 0x12345678u);
  // Read with the wrong order: the halves swap.
  EXPECT_EQ(*bank->GetUint32(Table::kHoldingRegisters, 2, WordOrder::kHighWordFirst), 0x56781234u);

  ASSERT_TRUE(bank->SetInt32(Table::kInputRegisters, 4, -100000, WordOrder::kLowWordFirst).ok());
  EXPECT_EQ(*bank->GetInt32(Table::kInputRegisters, 4, WordOrder::kLowWordFirst), -100000);
  ASSERT_TRUE(bank->SetFloat32(Table::kInputRegisters, 6, -2.75f, WordOrder::kHighWordFirst).ok());
  EXPECT_EQ(*bank->GetFloat32(Table::kInputRegisters, 6, WordOrder::kHighWordFirst), -2.75f);
  EXPECT_EQ(*bank->GetRegister(Table::kInputRegisters, 6), 0xC030);  // -2.75f = 0xC0300000
  EXPECT_EQ(*bank->GetRegister(Table::kInputRegisters, 7), 0x0000);
}

TEST(RegisterBankTest, ScaledValuesRoundAndSaturate) {
  auto bank = MakeBank();
  const Scaling deg{.raw_type = RawType::kInt16, .scale = 0.1};
  auto stored = bank->SetScaled(Table::kInputRegisters, 0, -12.34, deg);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->saturated);
  EXPECT_NEAR(stored->stored_value, -12.3, 1e-9);
  EXPECT_EQ(static_cast<int16_t>(*bank->GetRegister(Table::kInputRegisters, 0)), -123);
  EXPECT_NEAR(*bank->GetScaled(Table::kInputRegisters, 0, deg), -12.3, 1e-9);

  auto high = bank->SetScaled(Table::kInputRegisters, 1, 5000.0, deg);
  ASSERT_TRUE(high.ok());
  EXPECT_TRUE(high->saturated);
  EXPECT_EQ(*bank->GetRegister(Table::kInputRegisters, 1), 32767);

  const Scaling energy{
      .raw_type = RawType::kUint32, .scale = 0.001, .word_order = WordOrder::kLowWordFirst};
  auto kwh = bank->SetScaled(Table::kInputRegisters, 2, 123456.7894, energy);
  ASSERT_TRUE(kwh.ok());
  EXPECT_EQ(*bank->GetUint32(Table::kInputRegisters, 2, WordOrder::kLowWordFirst), 123456789u);
  EXPECT_NEAR(*bank->GetScaled(Table::kInputRegisters, 2, energy), 123456.789, 1e-6);

  EXPECT_EQ(bank->SetScaled(Table::kCoils, 0, 1.0, deg).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bank->SetScaled(Table::kInputRegisters, 31, 1.0, energy).status().code(),
            StatusCode::kOutOfRange);
}

TEST(RegisterBankTest, ClientWritesFollowRulesValidatorAndDefault) {
  auto bank = MakeBank();
  ASSERT_TRUE(bank->SetWriteRule(Table::kHoldingRegisters, 0, {0, 100, true}).ok());
  ASSERT_TRUE(bank->SetWriteRule(Table::kHoldingRegisters, 1, {.writable = false}).ok());
  ASSERT_TRUE(
      bank->SetWriteRule(Table::kHoldingRegisters, 2, {-50, 50, true, /*signed_raw=*/true}).ok());
  ASSERT_TRUE(bank->SetWriteRule(Table::kCoils, 0, {.writable = false}).ok());

  const uint16_t ok_value[] = {100};
  const uint16_t too_big[] = {101};
  const uint16_t minus_ten[] = {static_cast<uint16_t>(-10)};
  const uint16_t minus_sixty[] = {static_cast<uint16_t>(-60)};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, ok_value), WriteVerdict::kAccepted);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, too_big),
            WriteVerdict::kIllegalValue);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 0), 100);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 1, ok_value),
            WriteVerdict::kIllegalAddress);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 2, minus_ten),
            WriteVerdict::kAccepted);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 2, minus_sixty),
            WriteVerdict::kIllegalValue);
  const uint16_t on[] = {1};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kCoils, 0, on), WriteVerdict::kIllegalAddress);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kCoils, 1, on), WriteVerdict::kAccepted);
  // Read-only tables and addresses past the end.
  EXPECT_EQ(bank->ApplyClientWrite(Table::kInputRegisters, 0, on), WriteVerdict::kIllegalAddress);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 32, on),
            WriteVerdict::kIllegalAddress);

  // All or nothing: a write that spills past the end stores nothing...
  ASSERT_TRUE(bank->SetRegister(Table::kHoldingRegisters, 31, 9).ok());
  const uint16_t spill[] = {1, 2};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 31, spill),
            WriteVerdict::kIllegalAddress);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 31), 9);
  // ...nor does one where register 4 is fine but register 5 breaks its rule.
  const uint16_t pair[] = {50, 500};
  ASSERT_TRUE(bank->SetWriteRule(Table::kHoldingRegisters, 5, {0, 100, true}).ok());
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 4, pair), WriteVerdict::kIllegalValue);
  EXPECT_EQ(*bank->GetRegister(Table::kHoldingRegisters, 4), 0);

  // A validator decides addresses without a rule.
  bank->SetWriteValidator(
      [](Table, uint16_t address, uint16_t value) { return address != 10 || value % 2 == 0; });
  const uint16_t odd[] = {3};
  const uint16_t even[] = {4};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 10, odd), WriteVerdict::kIllegalValue);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 10, even), WriteVerdict::kAccepted);
  // ...but not addresses with one.
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 1, even),
            WriteVerdict::kIllegalAddress);
  ASSERT_TRUE(bank->ClearWriteRule(Table::kHoldingRegisters, 1).ok());
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 1, even), WriteVerdict::kAccepted);

  EXPECT_EQ(bank->SetWriteRule(Table::kInputRegisters, 0, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bank->SetWriteRules(Table::kHoldingRegisters, 30, 3, {}).code(),
            StatusCode::kOutOfRange);
}

TEST(RegisterBankTest, ReadOnlyByDefault) {
  auto bank = MakeBank({.holding_registers = 8, .writable_by_default = false});
  ASSERT_TRUE(bank->SetWriteRules(Table::kHoldingRegisters, 2, 2, {0, 10, true}).ok());
  const uint16_t v[] = {5};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, v), WriteVerdict::kIllegalAddress);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 3, v), WriteVerdict::kAccepted);
}

TEST(RegisterBankTest, ListenerHearsAcceptedWritesOnly) {
  auto bank = MakeBank();
  ASSERT_TRUE(bank->SetWriteRule(Table::kHoldingRegisters, 0, {0, 10, true}).ok());
  struct Call {
    Table table;
    uint16_t address;
    uint16_t count;
  };
  std::vector<Call> calls;
  bank->SetWriteListener([&](Table t, uint16_t a, uint16_t n) {
    // The listener may read the bank: it runs without the lock.
    EXPECT_TRUE(bank->GetRegister(Table::kHoldingRegisters, 0).ok());
    calls.push_back({t, a, n});
  });
  const uint16_t three[] = {1, 2, 3};
  const uint16_t bad[] = {11};
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, three), WriteVerdict::kAccepted);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, bad), WriteVerdict::kIllegalValue);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kCoils, 5, three), WriteVerdict::kAccepted);
  ASSERT_TRUE(bank->SetRegister(Table::kHoldingRegisters, 9, 1).ok());  // Local: not heard.
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].table, Table::kHoldingRegisters);
  EXPECT_EQ(calls[0].address, 0);
  EXPECT_EQ(calls[0].count, 3);
  EXPECT_EQ(calls[1].table, Table::kCoils);
  EXPECT_EQ(calls[1].count, 3);
  EXPECT_TRUE(*bank->GetBit(Table::kCoils, 7));
  bank->SetWriteListener(nullptr);
  EXPECT_EQ(bank->ApplyClientWrite(Table::kHoldingRegisters, 0, three), WriteVerdict::kAccepted);
  EXPECT_EQ(calls.size(), 2u);
}

TEST(RegisterBankTest, ThirtyTwoBitValuesAreNeverTorn) {
  auto bank = MakeBank();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint32_t i = 0; i < 20000; ++i) {
      const uint32_t v = (i % 2 == 0) ? 0x00000000u : 0xFFFFFFFFu;
      ASSERT_TRUE(bank->SetUint32(Table::kInputRegisters, 0, v, WordOrder::kLowWordFirst).ok());
    }
    done.store(true);
  });
  int torn = 0;
  while (!done.load()) {
    const uint32_t v = *bank->GetUint32(Table::kInputRegisters, 0, WordOrder::kLowWordFirst);
    if (v != 0 && v != 0xFFFFFFFFu) ++torn;
  }
  writer.join();
  EXPECT_EQ(torn, 0);
}

}  // namespace
}  // namespace weft::modbus

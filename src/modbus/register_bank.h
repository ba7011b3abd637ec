// RegisterBank: the four Modbus tables of a simulated PLC, with the policy that decides which
// client writes it accepts. The simulator writes process values into it and reads setpoints
// back; ModbusTcpServer serves it to Modbus clients.
//
//   WEFT_ASSIGN_OR_RETURN(std::shared_ptr<RegisterBank> bank,
//                         RegisterBank::Create({.coils = 16, .holding_registers = 100,
//                                               .input_registers = 100}));
//   // Process values for the clients to read.
//   WEFT_RETURN_IF_ERROR(bank->SetRegister(Table::kInputRegisters, 0, 1234));
//   WEFT_RETURN_IF_ERROR(bank->SetFloat32(Table::kInputRegisters, 10, 21.5f,
//                                         WordOrder::kHighWordFirst));
//   Scaling deg_c{.raw_type = RawType::kInt16, .scale = 0.1};
//   WEFT_ASSIGN_OR_RETURN(EncodedValue stored,
//                         bank->SetScaled(Table::kInputRegisters, 2, 85.0, deg_c));
//   // A setpoint clients may write, within 0..1000 raw; register 1 is read-only.
//   WEFT_RETURN_IF_ERROR(bank->SetWriteRule(Table::kHoldingRegisters, 0, {0, 1000, true}));
//   WEFT_RETURN_IF_ERROR(bank->SetWriteRule(Table::kHoldingRegisters, 1, {.writable = false}));
//   bank->SetWriteListener([&](Table t, uint16_t address, uint16_t count) { ... });
//
// Write policy, for writes by Modbus clients only (the Set* methods below always write): each
// address of a write is decided in turn, and the whole write is refused if any address is.
//   1. An address with a WriteRule: refused with kIllegalAddress (Modbus exception 0x02) if
//      !writable, with kIllegalValue (0x03) if the raw value is outside [min_raw, max_raw].
//   2. Otherwise, if a WriteValidator is set, it decides; false -> kIllegalValue (0x03).
//   3. Otherwise Options::writable_by_default decides; false -> kIllegalAddress (0x02).
// Addresses outside the table, and the read-only tables (discrete inputs, input registers), are
// kIllegalAddress. An accepted write is stored, then the WriteListener is told.
//
// Ownership: created as a shared_ptr because the simulator (which fills it) and the server
// thread (which serves it) both hold it and neither strictly outlives the other.
// Thread-safety: all methods are thread-safe. One mutex guards the tables, so a 32-bit or scaled
// value spanning two registers is always read and written whole. The validator and the
// listener are called without the mutex held, on the thread that called ApplyClientWrite (for
// ModbusTcpServer: its server thread); they may call the bank.
#ifndef WEFT_MODBUS_REGISTER_BANK_H_
#define WEFT_MODBUS_REGISTER_BANK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "modbus/register_codec.h"

namespace weft::modbus {

//! The four Modbus tables (data models).
enum class Table : uint8_t {
  kCoils,             //!< Read/write bits: function codes 1, 5, 15.
  kDiscreteInputs,    //!< Read-only bits: function code 2.
  kHoldingRegisters,  //!< Read/write registers: function codes 3, 6, 16, 23.
  kInputRegisters,    //!< Read-only registers: function code 4.
};

//! "coils", "discrete_inputs", "holding_registers", "input_registers".
std::string_view TableName(Table table);
//! True for coils and discrete inputs.
bool IsBitTable(Table table);

//! Limits for client writes to one coil or holding register. Raw values are compared as
//! uint16 (0..65535), or as int16 when `signed_raw`; coils compare 0 (off) or 1 (on).
struct WriteRule {
  double min_raw = 0;
  double max_raw = 65535;
  bool writable = true;
  bool signed_raw = false;
};

//! Decides a client write to an address that has no WriteRule: true accepts. `value` is the
//! raw register value, or 0/1 for a coil.
using WriteValidator = std::function<bool(Table table, uint16_t address, uint16_t value)>;
//! Told after an accepted client write of `count` values starting at `address`.
using WriteListener = std::function<void(Table table, uint16_t address, uint16_t count)>;

//! The outcome of a client write; the non-accepted ones map to Modbus exceptions.
enum class WriteVerdict : uint8_t {
  kAccepted,
  kIllegalAddress,  //!< ILLEGAL DATA ADDRESS (0x02): outside the table, or not writable.
  kIllegalValue,    //!< ILLEGAL DATA VALUE (0x03): outside the rule's limits, or refused.
};

class RegisterBank {
 public:
  //! Tables may hold at most this many entries (addresses 0..65535).
  static constexpr uint32_t kMaxTableSize = 65536;

  struct Options {
    //! Number of entries in each table (addresses 0..size-1); 0..kMaxTableSize.
    uint32_t coils = 0;
    uint32_t discrete_inputs = 0;
    uint32_t holding_registers = 0;
    uint32_t input_registers = 0;
    //! Whether clients may write coils and holding registers that have no rule, when no
    //! validator is set.
    bool writable_by_default = true;
  };

  //! A bank with every value 0 and no rules. InvalidArgument if a size exceeds kMaxTableSize.
  static Result<std::shared_ptr<RegisterBank>> Create(const Options& options);

  RegisterBank(const RegisterBank&) = delete;
  RegisterBank& operator=(const RegisterBank&) = delete;

  //! Number of entries in `table`.
  uint32_t size(Table table) const;

  // Values. Errors: InvalidArgument when the table holds the other kind (bits vs registers),
  // OutOfRange when an address is outside the table. The Set* methods ignore write rules.

  Result<bool> GetBit(Table table, uint16_t address) const;
  Status SetBit(Table table, uint16_t address, bool value);
  //! Reads out.size() bits starting at `address`, one per element, as 0 or 1.
  Status GetBits(Table table, uint16_t address, std::span<uint8_t> out) const;
  //! Writes values.size() bits starting at `address`; non-zero is on.
  Status SetBits(Table table, uint16_t address, std::span<const uint8_t> values);

  Result<uint16_t> GetRegister(Table table, uint16_t address) const;
  Status SetRegister(Table table, uint16_t address, uint16_t value);
  Status GetRegisters(Table table, uint16_t address, std::span<uint16_t> out) const;
  Status SetRegisters(Table table, uint16_t address, std::span<const uint16_t> values);

  //! 32-bit values in registers `address` and `address + 1`, in the given word order.
  Result<uint32_t> GetUint32(Table table, uint16_t address, WordOrder order) const;
  Status SetUint32(Table table, uint16_t address, uint32_t value, WordOrder order);
  Result<int32_t> GetInt32(Table table, uint16_t address, WordOrder order) const;
  Status SetInt32(Table table, uint16_t address, int32_t value, WordOrder order);
  Result<float> GetFloat32(Table table, uint16_t address, WordOrder order) const;
  Status SetFloat32(Table table, uint16_t address, float value, WordOrder order);

  //! The engineering value in the register(s) at `address` (see register_codec.h).
  Result<double> GetScaled(Table table, uint16_t address, const Scaling& scaling) const;
  //! Stores an engineering value, rounded and saturated as register_codec.h describes; the
  //! result says what was stored and whether it saturated. Also InvalidArgument for a bad
  //! Scaling or NaN with an integer raw type.
  Result<EncodedValue> SetScaled(Table table, uint16_t address, double value,
                                 const Scaling& scaling);

  // Write policy (see the file comment). Rules apply to coils and holding registers only:
  // InvalidArgument for other tables, OutOfRange outside the table.

  Status SetWriteRule(Table table, uint16_t address, const WriteRule& rule);
  //! The same rule for `count` addresses starting at `first`.
  Status SetWriteRules(Table table, uint16_t first, uint32_t count, const WriteRule& rule);
  Status ClearWriteRule(Table table, uint16_t address);
  //! Replaces the validator; an empty function removes it.
  void SetWriteValidator(WriteValidator validator);
  //! Replaces the listener; an empty function removes it.
  void SetWriteListener(WriteListener listener);

  //! Applies a write as a Modbus client would: decided by the write policy, all or nothing.
  //! For coils, non-zero values are on. On kAccepted the values are stored and the listener is
  //! called (on this thread, without the lock) before returning.
  WriteVerdict ApplyClientWrite(Table table, uint16_t address, std::span<const uint16_t> values);

 private:
  explicit RegisterBank(const Options& options);

  Status CheckRange(Table table, uint32_t address, size_t count, bool bits) const;
  Status CheckRuleTable(Table table) const;
  std::vector<uint8_t>& Bits(Table table);  // REQUIRES: mu_ held, IsBitTable(table).
  const std::vector<uint8_t>& Bits(Table table) const;
  std::vector<uint16_t>& Registers(Table table);  // REQUIRES: mu_ held, !IsBitTable(table).
  const std::vector<uint16_t>& Registers(Table table) const;
  std::unordered_map<uint16_t, WriteRule>& Rules(Table table);  // REQUIRES: mu_ held.

  // Immutable after construction.
  const Options options_;

  mutable std::mutex mu_;
  std::vector<uint8_t> coils_;                             // GUARDED_BY(mu_)
  std::vector<uint8_t> discrete_inputs_;                   // GUARDED_BY(mu_)
  std::vector<uint16_t> holding_registers_;                // GUARDED_BY(mu_)
  std::vector<uint16_t> input_registers_;                  // GUARDED_BY(mu_)
  std::unordered_map<uint16_t, WriteRule> coil_rules_;     // GUARDED_BY(mu_)
  std::unordered_map<uint16_t, WriteRule> holding_rules_;  // GUARDED_BY(mu_)
  // Held by shared_ptr so a caller can copy it under mu_ and call it after unlocking.
  std::shared_ptr<const WriteValidator> validator_;  // GUARDED_BY(mu_)
  std::shared_ptr<const WriteListener> listener_;    // GUARDED_BY(mu_)
};

}  // namespace weft::modbus

#endif  // WEFT_MODBUS_REGISTER_BANK_H_

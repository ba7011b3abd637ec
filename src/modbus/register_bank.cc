#include "modbus/register_bank.h"

#include <algorithm>
#include <string>
#include <utility>

namespace weft::modbus {
namespace {

std::string Where(Table table, uint32_t address, size_t count) {
  std::string s(TableName(table));
  s += "[" + std::to_string(address);
  if (count > 1) s += ".." + std::to_string(address + count - 1);
  return s + "]";
}

// Evaluates one address against its rule; the raw value is read as int16 when the rule says so.
WriteVerdict CheckRule(const WriteRule& rule, uint16_t value) {
  if (!rule.writable) return WriteVerdict::kIllegalAddress;
  const double v = rule.signed_raw ? static_cast<double>(static_cast<int16_t>(value))
                                   : static_cast<double>(value);
  if (v < rule.min_raw || v > rule.max_raw) return WriteVerdict::kIllegalValue;
  return WriteVerdict::kAccepted;
}

}  // namespace

std::string_view TableName(Table table) {
  switch (table) {
    case Table::kCoils: return "coils";
    case Table::kDiscreteInputs: return "discrete_inputs";
    case Table::kHoldingRegisters: return "holding_registers";
    case Table::kInputRegisters: return "input_registers";
  }
  return "unknown_table";
}

bool IsBitTable(Table table) {
  return table == Table::kCoils || table == Table::kDiscreteInputs;
}

Result<std::shared_ptr<RegisterBank>> RegisterBank::Create(const Options& options) {
  const std::pair<const char*, uint32_t> sizes[] = {
      {"coils", options.coils},
      {"discrete_inputs", options.discrete_inputs},
      {"holding_registers", options.holding_registers},
      {"input_registers", options.input_registers},
  };
  for (const auto& [name, size] : sizes) {
    if (size > kMaxTableSize) {
      return InvalidArgumentError(std::string("RegisterBank options.") + name + ": " +
                                  std::to_string(size) + " entries, at most " +
                                  std::to_string(kMaxTableSize) + " allowed");
    }
  }
  // The constructor is private; make_shared cannot reach it.
  return std::shared_ptr<RegisterBank>(new RegisterBank(options));
}

RegisterBank::RegisterBank(const Options& options)
    : options_(options),
      coils_(options.coils, 0),
      discrete_inputs_(options.discrete_inputs, 0),
      holding_registers_(options.holding_registers, 0),
      input_registers_(options.input_registers, 0) {}

uint32_t RegisterBank::size(Table table) const {
  switch (table) {
    case Table::kCoils: return options_.coils;
    case Table::kDiscreteInputs: return options_.discrete_inputs;
    case Table::kHoldingRegisters: return options_.holding_registers;
    case Table::kInputRegisters: return options_.input_registers;
  }
  return 0;
}

Status RegisterBank::CheckRange(Table table, uint32_t address, size_t count, bool bits) const {
  if (IsBitTable(table) != bits) {
    return InvalidArgumentError(std::string(TableName(table)) + " holds " +
                                (bits ? "registers" : "bits") + ", not " +
                                (bits ? "bits" : "registers"));
  }
  if (static_cast<size_t>(address) + count > size(table)) {
    return OutOfRangeError(Where(table, address, count) + ": outside the table (size " +
                           std::to_string(size(table)) + ")");
  }
  return Status::Ok();
}

Status RegisterBank::CheckRuleTable(Table table) const {
  if (table != Table::kCoils && table != Table::kHoldingRegisters) {
    return InvalidArgumentError(std::string(TableName(table)) +
                                " are read-only to clients; write rules apply to coils and "
                                "holding_registers");
  }
  return Status::Ok();
}

std::vector<uint8_t>& RegisterBank::Bits(Table table) {
  return table == Table::kCoils ? coils_ : discrete_inputs_;
}
const std::vector<uint8_t>& RegisterBank::Bits(Table table) const {
  return table == Table::kCoils ? coils_ : discrete_inputs_;
}
std::vector<uint16_t>& RegisterBank::Registers(Table table) {
  return table == Table::kHoldingRegisters ? holding_registers_ : input_registers_;
}
const std::vector<uint16_t>& RegisterBank::Registers(Table table) const {
  return table == Table::kHoldingRegisters ? holding_registers_ : input_registers_;
}
std::unordered_map<uint16_t, WriteRule>& RegisterBank::Rules(Table table) {
  return table == Table::kCoils ? coil_rules_ : holding_rules_;
}

// --- Bits -----------------------------------------------------------------------------------

Result<bool> RegisterBank::GetBit(Table table, uint16_t address) const {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, 1, /*bits=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  return Bits(table)[address] != 0;
}

Status RegisterBank::SetBit(Table table, uint16_t address, bool value) {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, 1, /*bits=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  Bits(table)[address] = value ? 1 : 0;
  return Status::Ok();
}

Status RegisterBank::GetBits(Table table, uint16_t address, std::span<uint8_t> out) const {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, out.size(), /*bits=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<uint8_t>& bits = Bits(table);
  std::copy_n(bits.begin() + address, out.size(), out.begin());
  return Status::Ok();
}

Status RegisterBank::SetBits(Table table, uint16_t address, std::span<const uint8_t> values) {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, values.size(), /*bits=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint8_t>& bits = Bits(table);
  for (size_t i = 0; i < values.size(); ++i) bits[address + i] = values[i] != 0 ? 1 : 0;
  return Status::Ok();
}

// --- Registers ------------------------------------------------------------------------------

Result<uint16_t> RegisterBank::GetRegister(Table table, uint16_t address) const {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, 1, /*bits=*/false));
  std::lock_guard<std::mutex> lock(mu_);
  return Registers(table)[address];
}

Status RegisterBank::SetRegister(Table table, uint16_t address, uint16_t value) {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, 1, /*bits=*/false));
  std::lock_guard<std::mutex> lock(mu_);
  Registers(table)[address] = value;
  return Status::Ok();
}

Status RegisterBank::GetRegisters(Table table, uint16_t address, std::span<uint16_t> out) const {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, out.size(), /*bits=*/false));
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<uint16_t>& regs = Registers(table);
  std::copy_n(regs.begin() + address, out.size(), out.begin());
  return Status::Ok();
}

Status RegisterBank::SetRegisters(Table table, uint16_t address, std::span<const uint16_t> values) {
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, values.size(), /*bits=*/false));
  std::lock_guard<std::mutex> lock(mu_);
  std::copy(values.begin(), values.end(), Registers(table).begin() + address);
  return Status::Ok();
}

// --- 32-bit and scaled values ---------------------------------------------------------------

Result<uint32_t> RegisterBank::GetUint32(Table table, uint16_t address, WordOrder order) const {
  uint16_t words[2] = {0, 0};
  WEFT_RETURN_IF_ERROR(GetRegisters(table, address, words));
  return JoinUint32(words[0], words[1], order);
}

Status RegisterBank::SetUint32(Table table, uint16_t address, uint32_t value, WordOrder order) {
  const std::array<uint16_t, 2> words = SplitUint32(value, order);
  return SetRegisters(table, address, words);
}

Result<int32_t> RegisterBank::GetInt32(Table table, uint16_t address, WordOrder order) const {
  WEFT_ASSIGN_OR_RETURN(uint32_t bits, GetUint32(table, address, order));
  return static_cast<int32_t>(bits);
}

Status RegisterBank::SetInt32(Table table, uint16_t address, int32_t value, WordOrder order) {
  return SetUint32(table, address, static_cast<uint32_t>(value), order);
}

Result<float> RegisterBank::GetFloat32(Table table, uint16_t address, WordOrder order) const {
  WEFT_ASSIGN_OR_RETURN(uint32_t bits, GetUint32(table, address, order));
  return BitsToFloat32(bits);
}

Status RegisterBank::SetFloat32(Table table, uint16_t address, float value, WordOrder order) {
  return SetUint32(table, address, Float32ToBits(value), order);
}

Result<double> RegisterBank::GetScaled(Table table, uint16_t address,
                                       const Scaling& scaling) const {
  WEFT_RETURN_IF_ERROR(ValidateScaling(scaling));
  uint16_t words[2] = {0, 0};
  const std::span<uint16_t> used(words, RegisterCount(scaling.raw_type));
  WEFT_RETURN_IF_ERROR(GetRegisters(table, address, used));
  return DecodeScaled(used, scaling);
}

Result<EncodedValue> RegisterBank::SetScaled(Table table, uint16_t address, double value,
                                             const Scaling& scaling) {
  WEFT_ASSIGN_OR_RETURN(EncodedValue encoded, EncodeScaled(value, scaling));
  WEFT_RETURN_IF_ERROR(SetRegisters(table, address, encoded.registers()));
  return encoded;
}

// --- Write policy ---------------------------------------------------------------------------

Status RegisterBank::SetWriteRule(Table table, uint16_t address, const WriteRule& rule) {
  return SetWriteRules(table, address, 1, rule);
}

Status RegisterBank::SetWriteRules(Table table, uint16_t first, uint32_t count,
                                   const WriteRule& rule) {
  WEFT_RETURN_IF_ERROR(CheckRuleTable(table));
  WEFT_RETURN_IF_ERROR(CheckRange(table, first, count, IsBitTable(table)));
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_map<uint16_t, WriteRule>& rules = Rules(table);
  for (uint32_t i = 0; i < count; ++i) rules[static_cast<uint16_t>(first + i)] = rule;
  return Status::Ok();
}

Status RegisterBank::ClearWriteRule(Table table, uint16_t address) {
  WEFT_RETURN_IF_ERROR(CheckRuleTable(table));
  WEFT_RETURN_IF_ERROR(CheckRange(table, address, 1, IsBitTable(table)));
  std::lock_guard<std::mutex> lock(mu_);
  Rules(table).erase(address);
  return Status::Ok();
}

void RegisterBank::SetWriteValidator(WriteValidator validator) {
  auto shared = validator ? std::make_shared<const WriteValidator>(std::move(validator)) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  validator_ = std::move(shared);
}

void RegisterBank::SetWriteListener(WriteListener listener) {
  auto shared = listener ? std::make_shared<const WriteListener>(std::move(listener)) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(shared);
}

WriteVerdict RegisterBank::ApplyClientWrite(Table table, uint16_t address,
                                            std::span<const uint16_t> values) {
  if (table != Table::kCoils && table != Table::kHoldingRegisters) {
    return WriteVerdict::kIllegalAddress;
  }
  if (values.empty() || values.size() > UINT16_MAX) return WriteVerdict::kIllegalValue;
  if (address + values.size() > size(table)) return WriteVerdict::kIllegalAddress;
  const bool bits = IsBitTable(table);
  std::vector<uint16_t> normalized(values.begin(), values.end());
  if (bits) {
    for (uint16_t& v : normalized) v = v != 0 ? 1 : 0;
  }

  // Pass 1, under the lock: the rules. `first_rule_failure` is the first address a rule refuses;
  // addresses before it without a rule are left to the validator (or the default).
  std::vector<bool> ruled(normalized.size(), false);
  size_t first_rule_failure = normalized.size();
  WriteVerdict rule_verdict = WriteVerdict::kAccepted;
  std::shared_ptr<const WriteValidator> validator;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::unordered_map<uint16_t, WriteRule>& rules = Rules(table);
    for (size_t i = 0; i < normalized.size(); ++i) {
      auto it = rules.find(static_cast<uint16_t>(address + i));
      if (it == rules.end()) continue;
      ruled[i] = true;
      const WriteVerdict v = CheckRule(it->second, normalized[i]);
      if (v != WriteVerdict::kAccepted) {
        first_rule_failure = i;
        rule_verdict = v;
        break;
      }
    }
    validator = validator_;
  }

  // Pass 2, without the lock, so that the validator may call the bank.
  for (size_t i = 0; i < first_rule_failure; ++i) {
    if (ruled[i]) continue;
    if (validator) {
      if (!(*validator)(table, static_cast<uint16_t>(address + i), normalized[i])) {
        return WriteVerdict::kIllegalValue;
      }
    } else if (!options_.writable_by_default) {
      return WriteVerdict::kIllegalAddress;
    }
  }
  if (first_rule_failure < normalized.size()) return rule_verdict;

  std::shared_ptr<const WriteListener> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (bits) {
      std::vector<uint8_t>& store = Bits(table);
      for (size_t i = 0; i < normalized.size(); ++i) {
        store[address + i] = static_cast<uint8_t>(normalized[i]);
      }
    } else {
      std::copy(normalized.begin(), normalized.end(), Registers(table).begin() + address);
    }
    listener = listener_;
  }
  if (listener) (*listener)(table, address, static_cast<uint16_t>(normalized.size()));
  return WriteVerdict::kAccepted;
}

}  // namespace weft::modbus

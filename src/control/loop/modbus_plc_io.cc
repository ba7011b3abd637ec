#include "control/loop/modbus_plc_io.h"

#include <modbus/modbus.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>

#include "modbus/register_codec.h"

namespace weft::control {
namespace {

namespace codec = ::weft::modbus;

bool IsBitTable(model::ModbusTable t) {
  return t == model::ModbusTable::kCoil || t == model::ModbusTable::kDiscreteInput;
}

codec::Scaling ScalingOf(const model::ModbusBinding& b) {
  codec::Scaling s;
  switch (b.value_type) {
    case model::ModbusValueType::kInt16: s.raw_type = codec::RawType::kInt16; break;
    case model::ModbusValueType::kUint32: s.raw_type = codec::RawType::kUint32; break;
    case model::ModbusValueType::kInt32: s.raw_type = codec::RawType::kInt32; break;
    case model::ModbusValueType::kFloat32: s.raw_type = codec::RawType::kFloat32; break;
    case model::ModbusValueType::kUint16:
    case model::ModbusValueType::kBit: s.raw_type = codec::RawType::kUint16; break;
  }
  s.scale = b.scale;
  s.offset = b.offset;
  s.word_order = b.word_order == model::WordOrder::kLowFirst ? codec::WordOrder::kLowWordFirst
                                                             : codec::WordOrder::kHighWordFirst;
  return s;
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text) {
  const size_t colon = text.rfind(':');
  unsigned port = 0;
  if (colon != std::string::npos && colon > 0) {
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, port);
    if (ec == std::errc() && ptr == last && port > 0 && port <= 65535) {
      std::string host = text.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      return std::make_pair(host, static_cast<uint16_t>(port));
    }
  }
  return InvalidArgumentError("Modbus endpoint override '" + text +
                              "': expected host:port with a port in 1..65535");
}

}  // namespace

Result<std::unique_ptr<ModbusPlcIo>> ModbusPlcIo::Create(const model::Asset& asset,
                                                         const ModbusPlcIoOptions& options) {
  if (!asset.connection.modbus) {
    return InvalidArgumentError("asset '" + asset.id + "' has no Modbus connection");
  }
  if (options.response_timeout < std::chrono::milliseconds(1) ||
      options.response_timeout > std::chrono::seconds(60)) {
    return InvalidArgumentError("Modbus response timeout must be within 1 ms..60 s");
  }
  const model::ModbusEndpoint& ep = *asset.connection.modbus;
  std::string host = ep.host;
  uint16_t port = ep.port;
  if (!options.endpoint_override.empty()) {
    WEFT_ASSIGN_OR_RETURN(auto hp, ParseHostPort(options.endpoint_override));
    host = hp.first;
    port = hp.second;
  }
  std::map<std::string, model::ModbusBinding, std::less<>> bindings;
  for (const model::Signal& s : asset.signals) {
    if (s.spec.source.modbus) bindings[s.spec.name] = *s.spec.source.modbus;
  }
  return std::unique_ptr<ModbusPlcIo>(new ModbusPlcIo(
      asset.id, host, port, ep.unit_id, ep.base, std::move(bindings), options.response_timeout));
}

ModbusPlcIo::ModbusPlcIo(std::string asset, std::string host, uint16_t port, uint8_t unit,
                         uint32_t base,
                         std::map<std::string, model::ModbusBinding, std::less<>> bindings,
                         std::chrono::milliseconds timeout)
    : asset_(std::move(asset)),
      host_(std::move(host)),
      port_(port),
      unit_(unit),
      base_(base),
      bindings_(std::move(bindings)),
      timeout_(timeout) {}

ModbusPlcIo::~ModbusPlcIo() {
  if (ctx_ != nullptr) {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
}

ModbusPlcIoStats ModbusPlcIo::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status ModbusPlcIo::EnsureConnected() {
  if (ctx_ != nullptr) return Status::Ok();
  const std::string service = std::to_string(port_);
  ctx_ = modbus_new_tcp_pi(host_.c_str(), service.c_str());
  if (ctx_ == nullptr) {
    ++stats_.transport_errors;
    return UnavailableError("cannot create a Modbus context for " + endpoint());
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
  modbus_set_response_timeout(ctx_, static_cast<uint32_t>(us / 1000000),
                              static_cast<uint32_t>(us % 1000000));
  modbus_set_slave(ctx_, unit_);
  if (modbus_connect(ctx_) == -1) return Failure("connect");
  ++stats_.connects;
  return Status::Ok();
}

Status ModbusPlcIo::Failure(const std::string& what) {
  const int err = errno;
  std::string message = asset_ + " at " + endpoint() + ": " + what + ": " + modbus_strerror(err);
  if (err >= EMBXILFUN && err < EMBXGTAR) {
    // A Modbus exception: the PLC answered; the link is fine.
    ++stats_.exceptions;
    return FailedPreconditionError(message);
  }
  ++stats_.transport_errors;
  if (ctx_ != nullptr) {
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  return UnavailableError(message);
}

Result<const model::ModbusBinding*> ModbusPlcIo::Binding(std::string_view signal) const {
  auto it = bindings_.find(signal);
  if (it == bindings_.end()) {
    return NotFoundError("asset '" + asset_ + "' has no Modbus signal '" + std::string(signal) +
                         "'");
  }
  return &it->second;
}

Result<double> ModbusPlcIo::ReadOne(const std::string& signal, const model::ModbusBinding& b) {
  const uint32_t address = base_ + b.address;
  if (address > 65535) return InvalidArgumentError(signal + ": address beyond 65535");
  const int addr = static_cast<int>(address);
  if (IsBitTable(b.table)) {
    uint8_t bit = 0;
    int rc = b.table == model::ModbusTable::kCoil ? modbus_read_bits(ctx_, addr, 1, &bit)
                                                  : modbus_read_input_bits(ctx_, addr, 1, &bit);
    if (rc != 1) return Failure("read " + signal);
    return (bit != 0 ? 1.0 : 0.0) * b.scale + b.offset;
  }
  codec::Scaling scaling = ScalingOf(b);
  const int count = static_cast<int>(codec::RegisterCount(scaling.raw_type));
  std::array<uint16_t, 2> regs{};
  int rc = b.table == model::ModbusTable::kHoldingRegister
               ? modbus_read_registers(ctx_, addr, count, regs.data())
               : modbus_read_input_registers(ctx_, addr, count, regs.data());
  if (rc != count) return Failure("read " + signal);
  Result<double> v = codec::DecodeScaled(
      std::span<const uint16_t>(regs.data(), static_cast<size_t>(count)), scaling);
  if (!v.ok()) return v.status().WithContext(asset_ + "." + signal);
  return v;
}

Result<std::map<std::string, double>> ModbusPlcIo::Read(const std::vector<std::string>& signals) {
  std::vector<std::pair<const std::string*, const model::ModbusBinding*>> todo;
  for (const std::string& s : signals) {
    WEFT_ASSIGN_OR_RETURN(const model::ModbusBinding* b, Binding(s));
    todo.emplace_back(&s, b);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.reads;
  WEFT_RETURN_IF_ERROR(EnsureConnected());
  std::map<std::string, double> out;
  for (const auto& [name, b] : todo) {
    WEFT_ASSIGN_OR_RETURN(out[*name], ReadOne(*name, *b));
  }
  return out;
}

Status ModbusPlcIo::Write(std::string_view signal, double value) {
  WEFT_ASSIGN_OR_RETURN(const model::ModbusBinding* b, Binding(signal));
  const std::string name(signal);
  if (b->table != model::ModbusTable::kHoldingRegister && b->table != model::ModbusTable::kCoil) {
    return FailedPreconditionError(asset_ + "." + name +
                                   " is not a holding register or coil: it cannot be written");
  }
  if (!std::isfinite(value)) {
    return InvalidArgumentError(asset_ + "." + name + ": refusing to write a non-finite value");
  }
  const uint32_t address = base_ + b->address;
  if (address > 65535) return InvalidArgumentError(name + ": address beyond 65535");
  const int addr = static_cast<int>(address);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.writes;
  WEFT_RETURN_IF_ERROR(EnsureConnected());
  if (b->table == model::ModbusTable::kCoil) {
    const double raw = (value - b->offset) / b->scale;
    if (modbus_write_bit(ctx_, addr, raw >= 0.5 ? 1 : 0) != 1) return Failure("write " + name);
    return Status::Ok();
  }
  WEFT_ASSIGN_OR_RETURN(codec::EncodedValue e, codec::EncodeScaled(value, ScalingOf(*b)));
  if (e.saturated) {
    return InvalidArgumentError(asset_ + "." + name + ": " + std::to_string(value) +
                                " does not fit the register");
  }
  int rc = e.count == 1 ? modbus_write_register(ctx_, addr, e.words[0])
                        : modbus_write_registers(ctx_, addr, 2, e.words.data());
  if (rc != static_cast<int>(e.count)) return Failure("write " + name);
  return Status::Ok();
}

}  // namespace weft::control

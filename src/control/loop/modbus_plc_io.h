// ModbusPlcIo: PlcIo over Modbus TCP (libmodbus) for one asset of the plant, using the
// register bindings of its signals (table, address from the asset's base, type, word order,
// scale; see src/modbus/register_codec.h for the conversion rules).
//
//   ModbusPlcIoOptions o;
//   o.endpoint_override = "127.0.0.1:15020";   // where to reach the asset's host:port, or ""
//   o.response_timeout = std::chrono::milliseconds(500);
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ModbusPlcIo> io, ModbusPlcIo::Create(asset, o));
//   WEFT_ASSIGN_OR_RETURN(auto v, io->Read({"zone_temp", "setpoint"}));
//   WEFT_RETURN_IF_ERROR(io->Write("remote_setpoint", 20.5));    // FC06 (FC16 for 32 bits)
//
// Connection: opened on first use; any transport error (refused, reset, timeout) closes it and
// returns Unavailable, and the next call connects again (no thread, no sleeping: the caller's
// period is the retry interval). A Modbus exception (the PLC answered "no") keeps the
// connection and returns FailedPrecondition naming the exception. Every call is bounded by
// about response_timeout per request (connect included).
//
// Ownership: copies what it needs from the asset. Thread-safety: thread-safe (one mutex around
// the connection).
#ifndef WEFT_CONTROL_LOOP_MODBUS_PLC_IO_H_
#define WEFT_CONTROL_LOOP_MODBUS_PLC_IO_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/loop/plc_io.h"
#include "model/plant.h"

struct _modbus;  // libmodbus's modbus_t

namespace weft::control {

struct ModbusPlcIoOptions {
  //! "host:port" to connect to instead of the asset's own host and port ("" = the asset's).
  std::string endpoint_override;
  //! Per request, and for the connect.
  std::chrono::milliseconds response_timeout{500};
};

struct ModbusPlcIoStats {
  uint64_t reads = 0, writes = 0;
  uint64_t connects = 0;          //!< successful connects
  uint64_t transport_errors = 0;  //!< Unavailable results
  uint64_t exceptions = 0;        //!< Modbus exceptions from the PLC
};

class ModbusPlcIo final : public PlcIo {
 public:
  //! InvalidArgument when the asset has no Modbus connection, the override is not host:port or
  //! the timeout is outside 1 ms..60 s.
  static Result<std::unique_ptr<ModbusPlcIo>> Create(const model::Asset& asset,
                                                     const ModbusPlcIoOptions& options);
  ~ModbusPlcIo() override;
  ModbusPlcIo(const ModbusPlcIo&) = delete;
  ModbusPlcIo& operator=(const ModbusPlcIo&) = delete;

  //! NotFound for a signal the asset does not have or that has no Modbus binding.
  Result<std::map<std::string, double>> Read(const std::vector<std::string>& signals) override;
  //! FailedPrecondition for a signal that is not a holding register or coil.
  Status Write(std::string_view signal, double value) override;

  //! "host:port" actually used.
  std::string endpoint() const { return host_ + ":" + std::to_string(port_); }
  ModbusPlcIoStats stats() const;

 private:
  ModbusPlcIo(std::string asset, std::string host, uint16_t port, uint8_t unit, uint32_t base,
              std::map<std::string, model::ModbusBinding, std::less<>> bindings,
              std::chrono::milliseconds timeout);
  Status EnsureConnected();                 // REQUIRES: mu_ held
  Status Failure(const std::string& what);  // REQUIRES: mu_ held; errno of the failed call
  Result<const model::ModbusBinding*> Binding(std::string_view signal) const;
  Result<double> ReadOne(const std::string& signal, const model::ModbusBinding& b);

  const std::string asset_;
  const std::string host_;
  const uint16_t port_;
  const uint8_t unit_;
  const uint32_t base_;
  const std::map<std::string, model::ModbusBinding, std::less<>> bindings_;
  const std::chrono::milliseconds timeout_;

  mutable std::mutex mu_;
  _modbus* ctx_ = nullptr;  // GUARDED_BY(mu_)
  ModbusPlcIoStats stats_;  // GUARDED_BY(mu_)
};

}  // namespace weft::control

#endif  // WEFT_CONTROL_LOOP_MODBUS_PLC_IO_H_

// PlcIo: the PLC side of a control loop, in engineering values of the plant's signals.
//
//   ModbusPlcIo io = ...;                     // or an in-memory fake in tests
//   WEFT_ASSIGN_OR_RETURN(auto values, io.Read({"zone_temp", "setpoint"}));
//   WEFT_RETURN_IF_ERROR(io.Write("remote_setpoint", 20.5));
//
// Error codes a ControlLoop relies on:
//   kUnavailable  the PLC does not answer (connection refused or lost, timeout): comms loss;
//                 the next call tries to reconnect.
//   others        the PLC answered but refused (a Modbus exception), or the signal is unknown
//                 or not writable: the link is up.
//
// Thread-safety: implementations say; ControlLoop calls one PlcIo from one thread at a time.
#ifndef WEFT_CONTROL_LOOP_PLC_IO_H_
#define WEFT_CONTROL_LOOP_PLC_IO_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::control {

class PlcIo {
 public:
  virtual ~PlcIo() = default;
  //! The engineering value of every named signal (all or nothing).
  virtual Result<std::map<std::string, double>> Read(const std::vector<std::string>& signals) = 0;
  //! Writes one signal (a holding register: FC06, or FC16 for 32-bit values).
  virtual Status Write(std::string_view signal, double value) = 0;
};

}  // namespace weft::control

#endif  // WEFT_CONTROL_LOOP_PLC_IO_H_

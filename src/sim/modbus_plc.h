// ModbusPlc: the simulator's PLCs. Every Modbus device of the plant (host, port and unit id of
// an asset's `connection.modbus`) becomes a Modbus TCP server on 127.0.0.1, serving exactly the
// register map plant.yaml declares for its assets: each signal's `source.modbus` (table, address
// from the asset's base, value type, word order, scale and offset). Each tick writes the
// signals' samples into the registers (engineering value -> raw: (v - offset) / scale, rounded,
// saturated to the raw type). The devices get consecutive local ports from `first_port` (0: any
// free ports); `endpoints()` and the log say which plant device is on which port.
//
// Writes: clients may write only the holding registers and coils of signals that are inputs of
// the asset's twin (an HVAC zone's `setpoint`, a compressor's `running` run/stop coil), within
// the signal's valid range; the value
// goes to the twin (Simulator::SetInput) and shows in the signal from the next tick. Other
// writes are refused: ILLEGAL DATA ADDRESS for read-only registers, ILLEGAL DATA VALUE outside
// the range. 32-bit registers are read-only (a 16-bit write cannot be validated on its own).
// Samples of an asset under a comm_drop fault are not written (its registers freeze).
//
// HVAC zones with a PLC program (Simulator::HasPlcProgram, hvac_plc.h): `remote_setpoint` and
// `heartbeat` are the writable holding registers (within their signal's range); a write goes
// to the program at once (Simulator::WritePlcRegister) and the zone's `setpoint` (the
// effective setpoint, READ-ONLY: ILLEGAL DATA ADDRESS), `control_mode` and `plc_alarms`
// registers are updated before the write is answered, so a read right after a write shows its
// effect. Every tick (not only when sampled) those registers are refreshed from the program.
//
// comm_loss: while an asset is under a comm_loss fault, its device's server is silent
// (ModbusTcpServer::SetSilent: open connections closed, new ones accepted and closed at once,
// nothing answered). A device serves several assets (the example's HVAC gateway serves six
// zones at one address): all of them go silent together.
//
// Thread-safety: OnTick on the simulation thread; the servers run their own threads and reach
// the simulator only through its thread-safe SetInput.
#ifndef WEFT_SIM_MODBUS_PLC_H_
#define WEFT_SIM_MODBUS_PLC_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "modbus/register_bank.h"
#include "modbus/tcp_server.h"
#include "sim/simulator.h"

namespace weft::sim {

class ModbusPlc final : public SampleSink {
 public:
  struct Endpoint {
    std::string plant_address;  //!< "10.20.0.31:502/1" as plant.yaml says
    uint16_t local_port = 0;    //!< where the simulator serves it, on 127.0.0.1
    std::vector<std::string> assets;
  };
  //! Unavailable when a port cannot be bound (the message names it).
  static Result<std::unique_ptr<ModbusPlc>> Start(Simulator& sim, uint16_t first_port);
  ~ModbusPlc() override;
  Status OnTick(TimePoint now, std::span<const Sample> samples) override;
  Status Finish() override;
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }

 private:
  struct Device;
  struct Route {
    int device = -1;  //!< -1: not a Modbus signal
    model::ModbusBinding binding;
    uint16_t address = 0;  //!< base + binding address
    uint32_t asset_index = 0;
    PlcRegister plc_reg = PlcRegister::kNone;  //!< written from the PLC program, not samples
  };
  //! An HVAC zone with a PLC program: its program registers (device < 0: not in the map).
  struct PlcZone {
    uint32_t asset_index = 0;
    int device = -1;
    Route setpoint, remote_setpoint, heartbeat, control_mode, alarms;
  };
  explicit ModbusPlc(Simulator& sim);
  //! Writes a zone's program registers (all of them when `with_client_registers`).
  static Status WriteZone(modbus::RegisterBank& bank, const PlcZone& zone,
                          const HvacPlcOutputs& out, bool with_client_registers);

  Simulator& sim_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<Route> routes_;  //!< per signal index
  std::vector<Endpoint> endpoints_;
  std::shared_ptr<std::vector<PlcZone>> zones_;
  //! Serialises "read the program, write its registers" between the server threads (after a
  //! client write) and OnTick, so that stale outputs never overwrite newer ones.
  std::shared_ptr<std::mutex> zone_mu_ = std::make_shared<std::mutex>();
  //! Per asset: whether its last samples were under comm_drop (registers frozen).
  std::vector<char> dropped_;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_MODBUS_PLC_H_

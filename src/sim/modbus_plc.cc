#include "sim/modbus_plc.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace weft::sim {
namespace {

modbus::Table ToTable(model::ModbusTable t) {
  switch (t) {
    case model::ModbusTable::kHoldingRegister: return modbus::Table::kHoldingRegisters;
    case model::ModbusTable::kInputRegister: return modbus::Table::kInputRegisters;
    case model::ModbusTable::kCoil: return modbus::Table::kCoils;
    case model::ModbusTable::kDiscreteInput: return modbus::Table::kDiscreteInputs;
  }
  return modbus::Table::kHoldingRegisters;
}

modbus::Scaling ToScaling(const model::ModbusBinding& b) {
  modbus::Scaling s;
  switch (b.value_type) {
    case model::ModbusValueType::kInt16: s.raw_type = modbus::RawType::kInt16; break;
    case model::ModbusValueType::kUint32: s.raw_type = modbus::RawType::kUint32; break;
    case model::ModbusValueType::kInt32: s.raw_type = modbus::RawType::kInt32; break;
    case model::ModbusValueType::kFloat32: s.raw_type = modbus::RawType::kFloat32; break;
    default: s.raw_type = modbus::RawType::kUint16; break;
  }
  s.scale = b.scale;
  s.offset = b.offset;
  s.word_order = b.word_order == model::WordOrder::kLowFirst ? modbus::WordOrder::kLowWordFirst
                                                             : modbus::WordOrder::kHighWordFirst;
  return s;
}

}  // namespace

struct ModbusPlc::Device {
  std::shared_ptr<modbus::RegisterBank> bank;
  std::unique_ptr<modbus::ModbusTcpServer> server;
  std::vector<uint32_t> asset_indexes;  //!< the assets it serves
  bool silent = false;                  //!< under comm_loss
};

Status ModbusPlc::WriteZone(modbus::RegisterBank& bank, const PlcZone& zone,
                            const HvacPlcOutputs& out, bool with_client_registers) {
  auto put = [&](const Route& r, double value) -> Status {
    if (r.device < 0) return Status::Ok();
    modbus::Table table = ToTable(r.binding.table);
    if (modbus::IsBitTable(table)) return bank.SetBit(table, r.address, value != 0);
    return bank.SetScaled(table, r.address, value, ToScaling(r.binding)).status();
  };
  WEFT_RETURN_IF_ERROR(put(zone.setpoint, out.setpoint));
  WEFT_RETURN_IF_ERROR(put(zone.control_mode, static_cast<double>(out.mode)));
  WEFT_RETURN_IF_ERROR(put(zone.alarms, out.alarms));
  if (with_client_registers) {
    WEFT_RETURN_IF_ERROR(put(zone.remote_setpoint, out.remote_setpoint));
    WEFT_RETURN_IF_ERROR(put(zone.heartbeat, out.heartbeat));
  }
  return Status::Ok();
}

ModbusPlc::ModbusPlc(Simulator& sim) : sim_(sim) {}
ModbusPlc::~ModbusPlc() = default;

Result<std::unique_ptr<ModbusPlc>> ModbusPlc::Start(Simulator& sim, uint16_t first_port) {
  std::unique_ptr<ModbusPlc> plc(new ModbusPlc(sim));
  plc->routes_.resize(sim.signals().size());
  plc->zones_ = std::make_shared<std::vector<PlcZone>>();
  std::map<uint32_t, size_t> zone_of_asset;
  // Devices in a stable order, so that ports follow plant.yaml and not hash order.
  std::map<std::tuple<std::string, uint16_t, uint8_t>, size_t> index;
  struct Sizes {
    uint32_t table[4] = {0, 0, 0, 0};
  };
  std::vector<Sizes> sizes;
  // A writable register: the signal it carries, for the validator and the listener.
  struct Writable {
    std::string asset, input;
    model::ModbusBinding binding;
    double lo, hi;
    uint32_t asset_index;
    PlcRegister plc_reg;  //!< kNone: a twin input
  };
  std::vector<std::map<std::pair<int, uint16_t>, Writable>> writable;
  for (size_t i = 0; i < sim.signals().size(); ++i) {
    const SimSignal& s = sim.signals()[i];
    if (s.signal->protocol != model::Protocol::kModbusTcp) continue;
    const model::ModbusEndpoint& ep = *s.asset->connection.modbus;
    auto [it, inserted] =
        index.emplace(std::make_tuple(ep.host, ep.port, ep.unit_id), plc->endpoints_.size());
    if (inserted) {
      plc->endpoints_.push_back(
          {ep.host + ":" + std::to_string(ep.port) + "/" + std::to_string(ep.unit_id), 0, {}});
      sizes.emplace_back();
      writable.emplace_back();
      plc->devices_.push_back(std::make_unique<Device>());
    }
    auto& served = plc->devices_[it->second]->asset_indexes;
    if (std::find(served.begin(), served.end(), s.asset_index) == served.end()) {
      served.push_back(s.asset_index);
    }
    Endpoint& endpoint = plc->endpoints_[it->second];
    if (std::find(endpoint.assets.begin(), endpoint.assets.end(), s.asset->id) ==
        endpoint.assets.end()) {
      endpoint.assets.push_back(s.asset->id);
    }
    Route& r = plc->routes_[i];
    r.device = static_cast<int>(it->second);
    r.binding = *s.signal->spec.source.modbus;
    r.address = static_cast<uint16_t>(ep.base + r.binding.address);
    r.asset_index = s.asset_index;
    r.plc_reg = sim.PlcRegisterOfSignal(static_cast<uint32_t>(i));
    if (r.plc_reg != PlcRegister::kNone) {
      auto [z, added] = zone_of_asset.emplace(s.asset_index, plc->zones_->size());
      if (added) plc->zones_->push_back({s.asset_index, r.device, {}, {}, {}, {}, {}});
      PlcZone& zone = (*plc->zones_)[z->second];
      switch (r.plc_reg) {
        case PlcRegister::kSetpoint: zone.setpoint = r; break;
        case PlcRegister::kRemoteSetpoint: zone.remote_setpoint = r; break;
        case PlcRegister::kHeartbeat: zone.heartbeat = r; break;
        case PlcRegister::kControlMode: zone.control_mode = r; break;
        default: zone.alarms = r; break;
      }
    }
    auto t = static_cast<size_t>(ToTable(r.binding.table));
    sizes[it->second].table[t] =
        std::max(sizes[it->second].table[t], uint32_t{r.address} + r.binding.width());
    // A program zone's effective `setpoint` is the program's (read-only); its client
    // registers are remote_setpoint and heartbeat. Elsewhere, twin inputs are writable.
    bool client_register =
        r.plc_reg == PlcRegister::kRemoteSetpoint || r.plc_reg == PlcRegister::kHeartbeat;
    bool settable = (r.binding.table == model::ModbusTable::kHoldingRegister ||
                     r.binding.table == model::ModbusTable::kCoil) &&
                    r.binding.width() == 1 &&
                    (client_register || (r.plc_reg == PlcRegister::kNone &&
                                         sim.HasTwinInput(s.asset->id, s.signal->spec.name)));
    if (settable) {
      writable[it->second][{static_cast<int>(t), r.address}] = {
          s.asset->id,
          s.signal->spec.name,
          r.binding,
          s.signal->spec.min.value_or(-1e300),
          s.signal->spec.max.value_or(1e300),
          s.asset_index,
          r.plc_reg};
    }
  }
  for (size_t d = 0; d < plc->endpoints_.size(); ++d) {
    modbus::RegisterBank::Options o;
    o.coils = std::max<uint32_t>(1, sizes[d].table[static_cast<size_t>(modbus::Table::kCoils)]);
    o.discrete_inputs =
        std::max<uint32_t>(1, sizes[d].table[static_cast<size_t>(modbus::Table::kDiscreteInputs)]);
    o.holding_registers = std::max<uint32_t>(
        1, sizes[d].table[static_cast<size_t>(modbus::Table::kHoldingRegisters)]);
    o.input_registers =
        std::max<uint32_t>(1, sizes[d].table[static_cast<size_t>(modbus::Table::kInputRegisters)]);
    o.writable_by_default = false;
    Device* device = plc->devices_[d].get();
    WEFT_ASSIGN_OR_RETURN(device->bank, modbus::RegisterBank::Create(o));
    auto targets = std::make_shared<std::map<std::pair<int, uint16_t>, Writable>>(writable[d]);
    device->bank->SetWriteValidator(
        [targets](modbus::Table table, uint16_t address, uint16_t value) {
          auto it = targets->find({static_cast<int>(table), address});
          if (it == targets->end()) return false;
          const Writable& w = it->second;
          double raw = w.binding.value_type == model::ModbusValueType::kInt16
                           ? static_cast<double>(static_cast<int16_t>(value))
                           : static_cast<double>(value);
          double eng = raw * w.binding.scale + w.binding.offset;
          return eng >= w.lo && eng <= w.hi;
        });
    modbus::RegisterBank* bank = device->bank.get();
    std::shared_ptr<const std::vector<PlcZone>> zones = plc->zones_;
    device->bank->SetWriteListener(
        [targets, bank, zones, zone_mu = plc->zone_mu_, &sim](modbus::Table table,
                                                              uint16_t address, uint16_t count) {
          for (uint16_t a = address; a < address + count; ++a) {
            auto it = targets->find({static_cast<int>(table), a});
            if (it == targets->end()) continue;
            if (it->second.plc_reg != PlcRegister::kNone) {
              // The program takes the write at once, and the registers show its effect before
              // the client gets its answer.
              auto v = bank->GetScaled(table, a, ToScaling(it->second.binding));
              if (!v.ok()) continue;
              std::lock_guard<std::mutex> lock(*zone_mu);
              auto out = sim.WritePlcRegister(it->second.asset_index, it->second.plc_reg, *v);
              if (!out.ok()) continue;
              for (const PlcZone& zone : *zones) {
                if (zone.asset_index == it->second.asset_index) {
                  (void)WriteZone(*bank, zone, *out, /*with_client_registers=*/false);
                }
              }
            } else if (modbus::IsBitTable(table)) {
              auto bit = bank->GetBit(table, a);
              if (bit.ok()) sim.SetInput(it->second.asset, it->second.input, *bit ? 1.0 : 0.0);
            } else {
              auto v = bank->GetScaled(table, a, ToScaling(it->second.binding));
              if (v.ok()) sim.SetInput(it->second.asset, it->second.input, *v);
            }
          }
        });
    // Registers of signals that are twin inputs are judged by the validator; every other
    // holding register and coil is read-only (ILLEGAL DATA ADDRESS).
    modbus::WriteRule read_only;
    read_only.writable = false;
    WEFT_RETURN_IF_ERROR(device->bank->SetWriteRules(modbus::Table::kHoldingRegisters, 0,
                                                     o.holding_registers, read_only));
    WEFT_RETURN_IF_ERROR(device->bank->SetWriteRules(modbus::Table::kCoils, 0, o.coils, read_only));
    for (const auto& entry : writable[d]) {
      WEFT_RETURN_IF_ERROR(device->bank->ClearWriteRule(
          static_cast<modbus::Table>(entry.first.first), entry.first.second));
    }
    uint16_t port = first_port == 0 ? 0 : static_cast<uint16_t>(first_port + d);
    modbus::TcpServerOptions so;
    so.unit_id = 0;  // the device answers any unit id: it is one device per port
    auto server = modbus::ModbusTcpServer::Start("127.0.0.1", port, device->bank, so);
    if (!server.ok()) {
      return server.status().WithContext("simulated PLC for " + plc->endpoints_[d].plant_address);
    }
    device->server = std::move(*server);
    plc->endpoints_[d].local_port = device->server->port();
    spdlog::info("sim: PLC {} ({} assets) on 127.0.0.1:{}", plc->endpoints_[d].plant_address,
                 plc->endpoints_[d].assets.size(), plc->endpoints_[d].local_port);
  }
  // The program registers before the first tick: a client reads valid values at once.
  for (const PlcZone& zone : *plc->zones_) {
    if (zone.device < 0) continue;
    WEFT_ASSIGN_OR_RETURN(HvacPlcOutputs out, sim.PlcOutputs(zone.asset_index));
    WEFT_RETURN_IF_ERROR(WriteZone(*plc->devices_[static_cast<size_t>(zone.device)]->bank, zone,
                                   out, /*with_client_registers=*/true));
  }
  uint32_t assets = 0;
  for (const SimSignal& s : sim.signals()) assets = std::max(assets, s.asset_index + 1);
  plc->dropped_.assign(assets, 0);
  return plc;
}

Status ModbusPlc::OnTick(TimePoint, std::span<const Sample> samples) {
  for (const Sample& s : samples) {
    const Route& r = routes_[s.signal];
    if (r.device < 0) continue;
    dropped_[r.asset_index] = s.sent ? 0 : 1;
    if (!s.sent || r.plc_reg != PlcRegister::kNone) continue;
    modbus::RegisterBank& bank = *devices_[static_cast<size_t>(r.device)]->bank;
    modbus::Table table = ToTable(r.binding.table);
    if (modbus::IsBitTable(table)) {
      WEFT_RETURN_IF_ERROR(bank.SetBit(table, r.address, s.value != 0));
    } else {
      auto st = bank.SetScaled(table, r.address, s.value, ToScaling(r.binding));
      if (!st.ok()) return st.status();
    }
  }
  // The PLC programs' registers, every tick: the program's state now, including the writes
  // clients made since the tick began (a sink that wrote before this one is not undone).
  {
    std::lock_guard<std::mutex> lock(*zone_mu_);
    for (const PlcZone& zone : *zones_) {
      if (zone.device < 0 || dropped_[zone.asset_index]) continue;
      WEFT_ASSIGN_OR_RETURN(HvacPlcOutputs out, sim_.PlcOutputs(zone.asset_index));
      WEFT_RETURN_IF_ERROR(WriteZone(*devices_[static_cast<size_t>(zone.device)]->bank, zone,
                                     out, /*with_client_registers=*/false));
    }
  }
  // Not under zone_mu_: SetSilent waits for the server thread, which may be in a listener.
  // comm_loss: a device with a lost asset answers nobody.
  for (size_t d = 0; d < devices_.size(); ++d) {
    Device& device = *devices_[d];
    bool silent = false;
    for (uint32_t a : device.asset_indexes) silent |= sim_.CommLost(a);
    if (silent != device.silent) {
      device.server->SetSilent(silent);
      device.silent = silent;
      spdlog::info("sim: PLC {} {}", endpoints_[d].plant_address,
                   silent ? "stops answering (comm_loss)" : "answers again");
    }
  }
  return Status::Ok();
}

Status ModbusPlc::Finish() {
  for (auto& d : devices_) d->server->Stop();
  return Status::Ok();
}

}  // namespace weft::sim

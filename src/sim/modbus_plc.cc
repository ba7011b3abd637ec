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
};

ModbusPlc::~ModbusPlc() = default;

Result<std::unique_ptr<ModbusPlc>> ModbusPlc::Start(Simulator& sim, uint16_t first_port) {
  std::unique_ptr<ModbusPlc> plc(new ModbusPlc());
  plc->routes_.resize(sim.signals().size());
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
    auto t = static_cast<size_t>(ToTable(r.binding.table));
    sizes[it->second].table[t] =
        std::max(sizes[it->second].table[t], uint32_t{r.address} + r.binding.width());
    bool settable = (r.binding.table == model::ModbusTable::kHoldingRegister ||
                     r.binding.table == model::ModbusTable::kCoil) &&
                    r.binding.width() == 1 && sim.HasTwinInput(s.asset->id, s.signal->spec.name);
    if (settable) {
      writable[it->second][{static_cast<int>(t), r.address}] = {
          s.asset->id, s.signal->spec.name, r.binding, s.signal->spec.min.value_or(-1e300),
          s.signal->spec.max.value_or(1e300)};
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
    auto device = std::make_unique<Device>();
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
    device->bank->SetWriteListener(
        [targets, bank, &sim](modbus::Table table, uint16_t address, uint16_t count) {
          for (uint16_t a = address; a < address + count; ++a) {
            auto it = targets->find({static_cast<int>(table), a});
            if (it == targets->end()) continue;
            if (modbus::IsBitTable(table)) {
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
    plc->devices_.push_back(std::move(device));
  }
  return plc;
}

Status ModbusPlc::OnTick(TimePoint, std::span<const Sample> samples) {
  for (const Sample& s : samples) {
    const Route& r = routes_[s.signal];
    if (r.device < 0 || !s.sent) continue;
    modbus::RegisterBank& bank = *devices_[static_cast<size_t>(r.device)]->bank;
    modbus::Table table = ToTable(r.binding.table);
    if (modbus::IsBitTable(table)) {
      WEFT_RETURN_IF_ERROR(bank.SetBit(table, r.address, s.value != 0));
    } else {
      auto st = bank.SetScaled(table, r.address, s.value, ToScaling(r.binding));
      if (!st.ok()) return st.status();
    }
  }
  return Status::Ok();
}

Status ModbusPlc::Finish() {
  for (auto& d : devices_) d->server->Stop();
  return Status::Ok();
}

}  // namespace weft::sim

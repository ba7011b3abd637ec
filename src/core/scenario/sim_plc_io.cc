#include "core/scenario/sim_plc_io.h"

#include <cmath>

namespace weft::core::scenario {

SimPlcIo::SimPlcIo(sim::Simulator& sim, uint32_t asset_index, const LatestSamples& latest,
                   std::vector<uint32_t> device_assets)
    : sim_(sim),
      asset_index_(asset_index),
      latest_(latest),
      device_assets_(std::move(device_assets)) {
  const std::vector<const model::Asset*> assets = sim.plant().AllAssets();
  if (asset_index < assets.size()) asset_id_ = assets[asset_index]->id;
}

bool SimPlcIo::Lost() const {
  for (uint32_t a : device_assets_) {
    if (sim_.CommLost(a)) return true;
  }
  return false;
}

std::optional<uint32_t> SimPlcIo::SignalIndex(const std::string& signal) {
  auto it = index_.find(signal);
  if (it == index_.end()) it = index_.emplace(signal, sim_.FindSignal(asset_id_, signal)).first;
  return it->second;
}

Result<std::map<std::string, double>> SimPlcIo::Read(const std::vector<std::string>& signals) {
  if (Lost()) return UnavailableError("PLC of '" + asset_id_ + "': no answer (comm_loss)");
  std::optional<sim::HvacPlcOutputs> plc;
  std::map<std::string, double> out;
  for (const std::string& name : signals) {
    const sim::PlcRegister reg = sim::PlcRegisterOf(name);
    if (reg != sim::PlcRegister::kNone && sim_.HasPlcProgram(asset_index_)) {
      if (!plc) {
        WEFT_ASSIGN_OR_RETURN(plc, sim_.PlcOutputs(asset_index_));
      }
      switch (reg) {
        case sim::PlcRegister::kSetpoint: out[name] = plc->setpoint; break;
        case sim::PlcRegister::kRemoteSetpoint: out[name] = plc->remote_setpoint; break;
        case sim::PlcRegister::kHeartbeat: out[name] = plc->heartbeat; break;
        case sim::PlcRegister::kControlMode: out[name] = static_cast<double>(plc->mode); break;
        case sim::PlcRegister::kAlarms: out[name] = plc->alarms; break;
        case sim::PlcRegister::kNone: break;
      }
      continue;
    }
    std::optional<uint32_t> i = SignalIndex(name);
    if (!i) return NotFoundError("PLC of '" + asset_id_ + "': no signal '" + name + "'");
    const double v = latest_.Get(*i);
    if (std::isnan(v)) {
      return NotFoundError("PLC of '" + asset_id_ + "': signal '" + name +
                           "' has not been sampled yet");
    }
    out[name] = v;
  }
  return out;
}

Status SimPlcIo::Write(std::string_view signal, double value) {
  if (Lost()) return UnavailableError("PLC of '" + asset_id_ + "': no answer (comm_loss)");
  const sim::PlcRegister reg = sim::PlcRegisterOf(signal);
  if (reg != sim::PlcRegister::kRemoteSetpoint && reg != sim::PlcRegister::kHeartbeat) {
    return FailedPreconditionError("PLC of '" + asset_id_ + "': '" + std::string(signal) +
                                   "' is not writable (remote_setpoint and heartbeat are)");
  }
  // A register holds whole multiples of its scale (e.g. 0.1 degC): round like a Modbus write.
  if (const model::Asset* a = sim_.plant().FindAsset(asset_id_)) {
    if (const model::Signal* s = a->FindSignal(signal); s != nullptr && s->spec.source.modbus) {
      const model::ModbusBinding& b = *s->spec.source.modbus;
      if (b.scale > 0) value = std::round((value - b.offset) / b.scale) * b.scale + b.offset;
      if ((s->spec.min && value < *s->spec.min) || (s->spec.max && value > *s->spec.max)) {
        return FailedPreconditionError("PLC of '" + asset_id_ + "': " + std::string(signal) +
                                       " = " + std::to_string(value) +
                                       " is outside the register's range (ILLEGAL DATA VALUE)");
      }
    }
  }
  Result<sim::HvacPlcOutputs> r = sim_.WritePlcRegister(asset_index_, reg, value);
  if (!r.ok()) return r.status();
  return Status::Ok();
}

}  // namespace weft::core::scenario

#include "sim/simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>

namespace weft::sim {
namespace {

// FNV-1a: a stable hash, so that an asset's random stream depends on its id only.
uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The built-in twin model an asset type is or extends, or "".
std::string TwinModelOf(const model::Plant& plant, const std::string& type) {
  static const std::vector<std::string> kModels = twin::TwinModels();
  for (const auto& m : kModels) {
    if (plant.IsA(type, m)) return m;
  }
  return "";
}

twin::FaultKind ToTwinFault(FaultType t) {
  switch (t) {
    case FaultType::kCoolingLoss: return twin::FaultKind::kCoolingLoss;
    case FaultType::kCavitation: return twin::FaultKind::kCavitation;
    case FaultType::kImpellerWear: return twin::FaultKind::kImpellerWear;
    default: return twin::FaultKind::kBearingWear;
  }
}

}  // namespace

PlcRegister PlcRegisterOf(std::string_view signal_name) {
  if (signal_name == "setpoint") return PlcRegister::kSetpoint;
  if (signal_name == "remote_setpoint") return PlcRegister::kRemoteSetpoint;
  if (signal_name == "heartbeat") return PlcRegister::kHeartbeat;
  if (signal_name == "control_mode") return PlcRegister::kControlMode;
  if (signal_name == "plc_alarms") return PlcRegister::kAlarms;
  return PlcRegister::kNone;
}

// A signal without a twin output: a mean-reverting walk inside its range, or a counter.
struct Generic {
  double value = 0, mean = 0, stddev = 0, lo = 0, hi = 0;
  bool counter = false;
  bool boolean = false;
};

struct ActiveSensorFault {
  FaultType type;
  TimePoint start;
  std::optional<TimePoint> end;
  double rate_per_us = 0, stddev = 0, probability = 0, factor = 1;
  double stuck_value = 0;
  size_t label = 0;
};

struct Simulator::SignalState {
  uint32_t asset_index = 0;
  const model::SignalTemplate* spec = nullptr;
  std::string output;  // twin output name; "" when generic
  bool has_twin_output = false;
  bool reads_input = false;  // no such output, but a twin input of that name: read it back
  PlcRegister plc_reg = PlcRegister::kNone;  // a register of the asset's PLC program
  int64_t period_us = 0;
  double last_value = 0;
  Generic generic;
  std::vector<ActiveSensorFault> faults;
};

struct Simulator::AssetState {
  const model::Asset* asset = nullptr;
  std::unique_ptr<twin::Twin> twin;
  twin::Rng rng{0};
  std::optional<TimePoint> comm_drop_until;
  // Open twin-fault labels of this asset: (label index, end).
  std::vector<std::pair<size_t, std::optional<TimePoint>>> twin_faults;
  std::vector<std::pair<size_t, TimePoint>> comm_drops;
  bool failure_recorded = false;
  //! The twin's model, for the inputs the operating point drives.
  enum class Drive { kNone, kMotorLoad, kCompressorDemand } drive = Drive::kNone;
  //! The twin is stepped every `step_every` ticks (its shortest signal period), with the
  //! elapsed time: slow assets cost less, and sampling sees the same values either way.
  uint64_t step_every = 1;
  int64_t shortest_period_us = INT64_MAX;
  double load = 0.7;  // operating point that drifts slowly (motor load, compressor demand)
  //! Inputs applied to the twin (commands, setpoints), for signals that read them back.
  std::map<std::string, double, std::less<>> inputs;
  //! The HVAC zone PLC program, if the asset runs one. GUARDED_BY(Simulator::plc_mu_)
  std::unique_ptr<HvacPlcProgram> plc;
  //! The program's outputs at the last scan: what this tick's samples show (sim thread).
  HvacPlcOutputs plc_snapshot;
  double applied_setpoint = std::nan("");  //!< last setpoint handed to the twin
  bool heat_pump_fault = false;            //!< wanted: the twin's heat pump is off
  bool heat_pump_off = false;              //!< applied to the twin
  //! Active hand_mode, heat_pump_fault and comm_loss faults (label index, end, type, severity).
  struct AssetFault {
    size_t label = 0;
    std::optional<TimePoint> end;
    FaultType type = FaultType::kCommLoss;
    double severity = 0;
  };
  std::vector<AssetFault> asset_faults;
  bool comm_lost = false;
};

struct Simulator::Command {
  enum class Kind { kInput, kFault, kRepair } kind;
  std::string asset, input;
  double value = 0;
  ScheduledFault fault;
};

Simulator::Simulator(const model::Plant& plant, const SimOptions& options)
    : plant_(plant), options_(options), now_us_(UnixMicros(options.start)) {}
Simulator::~Simulator() = default;

Result<std::unique_ptr<Simulator>> Simulator::Create(const model::Plant& plant,
                                                     const SimOptions& options,
                                                     std::vector<ScheduledFault> faults) {
  std::unique_ptr<Simulator> sim(new Simulator(plant, options));
  WEFT_RETURN_IF_ERROR(sim->Init(std::move(faults)));
  return sim;
}

Status Simulator::Init(std::vector<ScheduledFault> faults) {
  int64_t shortest = INT64_MAX;
  int64_t start_us = UnixMicros(options_.start);
  for (const model::Asset* asset : plant_.AllAssets()) {
    auto state = std::make_unique<AssetState>();
    state->asset = asset;
    state->rng = twin::Rng(options_.seed ^ StableHash(asset->id));
    std::string model = TwinModelOf(plant_, asset->type);
    if (!model.empty()) {
      std::map<std::string, double> params;
      if (model == "hvac_zone") {
        // The zone's occupancy calendar starts at the simulation's own date and hour (UTC), so
        // its weekdays and the PLC's schedule agree. 1970-01-01 was a Thursday (3, Monday = 0).
        constexpr int64_t kDayUs = int64_t{86'400'000'000};
        const int64_t days = start_us >= 0 ? start_us / kDayUs : (start_us - kDayUs + 1) / kDayUs;
        params["start_weekday"] = static_cast<double>(((days + 3) % 7 + 7) % 7);
        params["start_hour"] = static_cast<double>(start_us - days * kDayUs) / 3.6e9;
      }
      WEFT_ASSIGN_OR_RETURN(state->twin, twin::MakeTwin(model, params));
    }
    auto asset_index = static_cast<uint32_t>(assets_.size());
    if (model == "hvac_zone" && RunsHvacPlc(plant_, *asset)) {
      HvacPlcProgram::Config config;
      config.watchdog = options_.plc_watchdog;
      state->plc = std::make_unique<HvacPlcProgram>(config, options_.start);
      state->plc_snapshot = state->plc->outputs();
      plc_assets_.push_back(asset_index);
    }
    for (const model::Signal& sig : asset->signals) {
      SignalState s;
      s.asset_index = asset_index;
      s.spec = &sig.spec;
      s.output = sig.spec.name;
      s.has_twin_output = state->twin && state->twin->Output(sig.spec.name).has_value();
      if (state->plc) s.plc_reg = PlcRegisterOf(sig.spec.name);
      if (state->twin && !s.has_twin_output) {
        for (const auto& in : state->twin->InputNames()) s.reads_input |= in == sig.spec.name;
        // A command signal starts as the twin starts: running.
        if (s.reads_input) state->inputs.emplace(sig.spec.name, sig.spec.name == "running");
      }
      s.period_us = std::max<int64_t>(1000, sig.spec.period.count());
      shortest = std::min(shortest, s.period_us);
      state->shortest_period_us = std::min(state->shortest_period_us, s.period_us);
      Generic& g = s.generic;
      g.lo = sig.spec.min.value_or(0);
      g.hi = sig.spec.max.value_or(g.lo + 100);
      g.counter = sig.spec.quantity == "count" && sig.spec.type != model::DataType::kInt32;
      g.boolean = sig.spec.type == model::DataType::kBool;
      g.mean = g.counter ? 0 : g.lo + 0.5 * (g.hi - g.lo);
      g.stddev = 0.02 * (g.hi - g.lo);
      g.value = g.boolean ? 1 : g.mean;
      signals_.push_back({asset, &sig, asset_index});
      signal_states_.push_back(std::move(s));
    }
    assets_.push_back(std::move(state));
  }
  if (signals_.empty()) return InvalidArgumentError("the plant has no fitted signal to simulate");
  tick_ = options_.tick.count() > 0 ? options_.tick
                                    : Micros(std::clamp<int64_t>(shortest, 10'000, 1'000'000));
  if (options_.plc_watchdog.count() <= 0) {
    return InvalidArgumentError("the PLC watchdog must be longer than 0");
  }
  for (ScheduledFault& f : faults) {
    auto asset = std::find_if(assets_.begin(), assets_.end(),
                              [&](const auto& a) { return a->asset->id == f.asset; });
    if (IsPlcFault(f.type) && (asset == assets_.end() || !(*asset)->plc)) {
      return InvalidArgumentError("fault " + std::string(FaultTypeName(f.type)) + " on '" +
                                  f.asset + "': the asset runs no HVAC zone PLC program");
    }
    if (f.type == FaultType::kCommLoss &&
        (asset == assets_.end() || !(*asset)->asset->connection.modbus)) {
      return InvalidArgumentError("fault comm_loss on '" + f.asset +
                                  "': the asset has no Modbus connection");
    }
    if (IsTwinFault(f.type)) {
      auto it = std::find_if(assets_.begin(), assets_.end(),
                             [&](const auto& a) { return a->asset->id == f.asset; });
      if (it == assets_.end() || !(*it)->twin) {
        return InvalidArgumentError("fault " + std::string(FaultTypeName(f.type)) + " on '" +
                                    f.asset + "': the asset has no physical twin to carry it");
      }
    }
  }
  for (auto& a : assets_) {
    a->step_every =
        static_cast<uint64_t>(std::max<int64_t>(1, a->shortest_period_us / tick_.count()));
    if (a->twin && a->twin->info().name == "motor") a->drive = AssetState::Drive::kMotorLoad;
    if (a->twin && a->twin->info().name == "compressor") {
      a->drive = AssetState::Drive::kCompressorDemand;
    }
  }
  // Signals of the same period start together and advance together: they are scheduled as a
  // group, so that a tick looks at each period once instead of at each signal.
  for (uint32_t i = 0; i < signal_states_.size(); ++i) {
    const int64_t period = signal_states_[i].period_us;
    auto g = std::find_if(groups_.begin(), groups_.end(),
                          [&](const PeriodGroup& x) { return x.period_us == period; });
    if (g == groups_.end()) g = groups_.insert(groups_.end(), {period, start_us, {}});
    g->signals.push_back(i);
  }
  std::stable_sort(faults.begin(), faults.end(),
                   [](const ScheduledFault& a, const ScheduledFault& b) { return a.at < b.at; });
  schedule_ = std::move(faults);
  return Status::Ok();
}

std::optional<uint32_t> Simulator::FindSignal(std::string_view asset,
                                              std::string_view signal) const {
  for (uint32_t i = 0; i < signals_.size(); ++i) {
    if (signals_[i].asset->id == asset && signals_[i].signal->spec.name == signal) return i;
  }
  return std::nullopt;
}

bool Simulator::HasTwinInput(std::string_view asset, std::string_view input) const {
  for (const auto& a : assets_) {
    if (a->asset->id != asset || !a->twin) continue;
    for (const auto& name : a->twin->InputNames()) {
      if (name == input) return true;
    }
  }
  return false;
}

bool Simulator::HasPlcProgram(uint32_t asset_index) const {
  return asset_index < assets_.size() && assets_[asset_index]->plc != nullptr;
}

PlcRegister Simulator::PlcRegisterOfSignal(uint32_t signal_index) const {
  return signal_index < signal_states_.size() ? signal_states_[signal_index].plc_reg
                                              : PlcRegister::kNone;
}

Result<HvacPlcOutputs> Simulator::WritePlcRegister(uint32_t asset_index, PlcRegister reg,
                                                   double value) {
  if (!HasPlcProgram(asset_index)) {
    return InvalidArgumentError("asset #" + std::to_string(asset_index) +
                                " runs no HVAC zone PLC program");
  }
  std::lock_guard<std::mutex> lock(plc_mu_);
  HvacPlcProgram& plc = *assets_[asset_index]->plc;
  switch (reg) {
    case PlcRegister::kRemoteSetpoint: plc.WriteRemoteSetpoint(value, now()); break;
    case PlcRegister::kHeartbeat:
      plc.WriteHeartbeat(static_cast<uint16_t>(std::clamp(value, 0.0, 65535.0)), now());
      break;
    default:
      return InvalidArgumentError(
          "only remote_setpoint and heartbeat of a PLC program are "
          "written by clients");
  }
  return plc.outputs();
}

Result<HvacPlcOutputs> Simulator::PlcOutputs(uint32_t asset_index) const {
  if (!HasPlcProgram(asset_index)) {
    return InvalidArgumentError("asset #" + std::to_string(asset_index) +
                                " runs no HVAC zone PLC program");
  }
  std::lock_guard<std::mutex> lock(plc_mu_);
  return assets_[asset_index]->plc->outputs();
}

bool Simulator::CommLost(uint32_t asset_index) const {
  return asset_index < assets_.size() && assets_[asset_index]->comm_lost;
}

void Simulator::ApplyAssetFaults(AssetState& a) {
  std::optional<double> hand;
  bool heat_pump = false, lost = false;
  for (const auto& f : a.asset_faults) {
    if (f.type == FaultType::kHandMode) hand = f.severity;  // the latest switch wins
    heat_pump |= f.type == FaultType::kHeatPumpFault;
    lost |= f.type == FaultType::kCommLoss;
  }
  a.comm_lost = lost;
  a.heat_pump_fault = heat_pump;
  if (a.plc) {
    std::lock_guard<std::mutex> lock(plc_mu_);
    a.plc->SetHand(hand);
    a.plc->SetHeatPumpFault(heat_pump);
  }
}

void Simulator::ScanPlcs(TimePoint now) {
  {
    std::lock_guard<std::mutex> lock(plc_mu_);
    for (uint32_t i : plc_assets_) {
      AssetState& a = *assets_[i];
      a.plc_snapshot = a.plc->Scan(now, a.twin->Output("zone_temp").value_or(std::nan("")));
    }
  }
  // The PLC's outputs drive the zone: its thermostat setpoint and its heat pump.
  for (uint32_t i : plc_assets_) {
    AssetState& a = *assets_[i];
    if (a.plc_snapshot.setpoint != a.applied_setpoint) {
      Status st = a.twin->SetInput("setpoint", a.plc_snapshot.setpoint);
      if (!st.ok()) spdlog::warn("sim: PLC setpoint of {}: {}", a.asset->id, st.message());
      a.applied_setpoint = a.plc_snapshot.setpoint;
    }
    if (a.heat_pump_fault != a.heat_pump_off) {
      (void)a.twin->SetInput("heat_pump_enabled", a.heat_pump_fault ? 0 : 1);
      a.heat_pump_off = a.heat_pump_fault;
    }
  }
}

std::vector<FaultLabel> Simulator::labels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return labels_;
}

void Simulator::SetInput(const std::string& asset, const std::string& input, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  commands_.push_back({Command::Kind::kInput, asset, input, value, {}});
  has_commands_.store(true);
}

void Simulator::InjectFault(ScheduledFault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  commands_.push_back({Command::Kind::kFault, fault.asset, "", 0, std::move(fault)});
  has_commands_.store(true);
}

void Simulator::Repair(const std::string& asset) {
  std::lock_guard<std::mutex> lock(mu_);
  commands_.push_back({Command::Kind::kRepair, asset, "", 0, {}});
  has_commands_.store(true);
}

void Simulator::RepairAsset(AssetState& a, TimePoint now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A failure since the last EndFaults is recorded before the repair hides it.
    const bool unrecorded = a.twin->failed() && !a.failure_recorded;
    for (const auto& [label, end] : a.twin_faults) {
      if (unrecorded) labels_[label].failure = now;
      labels_[label].end = now;
    }
  }
  a.twin->Repair();
  a.twin_faults.clear();
  // The next failure of this asset is news again (on the labels of the faults then open).
  a.failure_recorded = false;
  UpdateNextFaultEnd();
}

void Simulator::ApplyCommands(TimePoint now) {
  // The flag spares the lock on the ticks without a command (nearly all of them).
  if (!has_commands_.load()) return;
  std::vector<Command> commands;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands.swap(commands_);
    has_commands_.store(false);
  }
  for (const Command& c : commands) {
    if (c.kind == Command::Kind::kFault) {
      StartFault(c.fault, now);
      continue;
    }
    auto it = std::find_if(assets_.begin(), assets_.end(),
                           [&](const auto& a) { return a->asset->id == c.asset; });
    if (c.kind == Command::Kind::kRepair) {
      if (it == assets_.end() || !(*it)->twin) {
        input_errors_.fetch_add(1);
        spdlog::warn("sim: repair of '{}' refused: no simulated asset with a twin", c.asset);
      } else {
        RepairAsset(**it, now);
      }
      continue;
    }
    Status st = it == assets_.end() || !(*it)->twin
                    ? NotFoundError("no simulated asset '" + c.asset + "' with a twin")
                : (*it)->plc && (c.input == "setpoint" || c.input == "heat_pump_enabled")
                    ? FailedPreconditionError("the " + c.input + " of '" + c.asset +
                                              "' is its PLC program's: write remote_setpoint")
                    : (*it)->twin->SetInput(c.input, c.value);
    if (st.ok()) {
      auto in = (*it)->inputs.find(c.input);
      if (in != (*it)->inputs.end()) in->second = c.value;
      failure_pending_ |= (*it)->twin->failed() && !(*it)->failure_recorded;
    }
    if (!st.ok()) {
      input_errors_.fetch_add(1);
      spdlog::warn("sim: input {}.{} = {} refused: {}", c.asset, c.input, c.value, st.message());
    }
  }
}

void Simulator::StartFault(const ScheduledFault& f, TimePoint now) {
  auto it = std::find_if(assets_.begin(), assets_.end(),
                         [&](const auto& a) { return a->asset->id == f.asset; });
  if (it == assets_.end()) {
    spdlog::warn("sim: fault on unknown asset '{}' ignored", f.asset);
    return;
  }
  AssetState& a = **it;
  std::optional<TimePoint> end;
  if (f.duration) end = now + *f.duration;
  size_t label;
  {
    std::lock_guard<std::mutex> lock(mu_);
    label = labels_.size();
    labels_.push_back({f.asset, f.signal, f.type, f.severity, now, std::nullopt, std::nullopt});
  }
  if (IsTwinFault(f.type)) {
    Status st = a.twin ? a.twin->InjectFault(ToTwinFault(f.type), f.severity)
                       : UnimplementedError("no twin");
    if (!st.ok()) {
      spdlog::warn("sim: fault {} on '{}' not applied: {}", FaultTypeName(f.type), f.asset,
                   st.message());
      std::lock_guard<std::mutex> lock(mu_);
      labels_.pop_back();
      return;
    }
    a.twin_faults.emplace_back(label, end);
    failure_pending_ |= a.twin->failed() && !a.failure_recorded;
  } else if (IsPlcFault(f.type) || f.type == FaultType::kCommLoss) {
    if ((IsPlcFault(f.type) && !a.plc) ||
        (f.type == FaultType::kCommLoss && !a.asset->connection.modbus)) {
      spdlog::warn(
          "sim: fault {} on '{}' not applied: {}", FaultTypeName(f.type), f.asset,
          IsPlcFault(f.type) ? "it runs no HVAC zone PLC program" : "it has no Modbus connection");
      std::lock_guard<std::mutex> lock(mu_);
      labels_.pop_back();
      return;
    }
    a.asset_faults.push_back({label, end, f.type, f.severity});
    ApplyAssetFaults(a);
  } else if (f.type == FaultType::kCommDrop) {
    a.comm_drop_until = end.value_or(TimePoint::max());
    a.comm_drops.emplace_back(label, end.value_or(TimePoint::max()));
  } else {
    for (SignalState& s : signal_states_) {
      if (assets_[s.asset_index].get() != &a || s.spec->name != f.signal) continue;
      ActiveSensorFault sf{f.type,   now,           end,      f.rate_per_hour / 3.6e9,
                           f.stddev, f.probability, f.factor, s.last_value,
                           label};
      s.faults.push_back(sf);
    }
  }
  if (end) next_fault_end_ = std::min(next_fault_end_, *end);
}

void Simulator::UpdateNextFaultEnd() {
  TimePoint next = TimePoint::max();
  for (const auto& a : assets_) {
    for (const auto& [label, end] : a->twin_faults) {
      if (end) next = std::min(next, *end);
    }
    for (const auto& [label, end] : a->comm_drops) next = std::min(next, end);
    for (const auto& f : a->asset_faults) {
      if (f.end) next = std::min(next, *f.end);
    }
    if (a->comm_drop_until) next = std::min(next, *a->comm_drop_until);
  }
  for (const SignalState& s : signal_states_) {
    for (const ActiveSensorFault& f : s.faults) {
      if (f.end) next = std::min(next, *f.end);
    }
  }
  next_fault_end_ = next;
}

void Simulator::EndFaults(TimePoint now) {
  // Nothing ends before next_fault_end_, and a twin's failure is only news when a step (or an
  // input or fault) made it fail: most ticks have nothing to do here.
  if (now < next_fault_end_ && !failure_pending_) return;
  failure_pending_ = false;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& a : assets_) {
    for (auto it = a->twin_faults.begin(); it != a->twin_faults.end();) {
      if (it->second && *it->second <= now) {
        labels_[it->first].end = now;
        a->twin->ClearFaults();
        it = a->twin_faults.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = a->comm_drops.begin(); it != a->comm_drops.end();) {
      if (it->second <= now) {
        labels_[it->first].end = now;
        it = a->comm_drops.erase(it);
      } else {
        ++it;
      }
    }
    if (a->comm_drop_until && *a->comm_drop_until <= now) a->comm_drop_until.reset();
    size_t active = a->asset_faults.size();
    std::erase_if(a->asset_faults, [&](const AssetState::AssetFault& f) {
      if (!f.end || *f.end > now) return false;
      labels_[f.label].end = now;
      return true;
    });
    if (a->asset_faults.size() != active) ApplyAssetFaults(*a);
    if (a->twin && a->twin->failed() && !a->failure_recorded) {
      a->failure_recorded = true;
      for (const auto& [label, end] : a->twin_faults) labels_[label].failure = now;
    }
  }
  for (SignalState& s : signal_states_) {
    for (auto it = s.faults.begin(); it != s.faults.end();) {
      if (it->end && *it->end <= now) {
        labels_[it->label].end = now;
        it = s.faults.erase(it);
      } else {
        ++it;
      }
    }
  }
  UpdateNextFaultEnd();
}

const std::vector<uint32_t>& Simulator::DueSignals(int64_t t_us) {
  due_groups_.clear();
  uint64_t mask = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    PeriodGroup& group = groups_[g];
    if (group.next_due_us > t_us) continue;
    // A tick longer than the period samples once per tick (the missed samples are skipped).
    group.next_due_us += ((t_us - group.next_due_us) / group.period_us + 1) * group.period_us;
    due_groups_.push_back(g);
    if (g < 64) mask |= uint64_t{1} << g;
  }
  if (due_groups_.size() == 1) return groups_[due_groups_[0]].signals;
  std::vector<uint32_t>* merged = &due_scratch_;
  if (!due_groups_.empty() && groups_.size() <= 64) {
    for (auto& [m, signals] : due_by_mask_) {
      if (m == mask) return signals;
    }
    merged = &due_by_mask_.emplace_back(mask, std::vector<uint32_t>()).second;
  }
  // Several periods due at once: their signals, merged into index order.
  merged->clear();
  for (size_t g : due_groups_) {
    merged->insert(merged->end(), groups_[g].signals.begin(), groups_[g].signals.end());
  }
  std::sort(merged->begin(), merged->end());
  return *merged;
}

double Simulator::SignalValue(SignalState& s, AssetState& a, TimePoint now) {
  double v;
  if (s.plc_reg != PlcRegister::kNone) {
    // The program's registers as of this tick's scan (`setpoint`: the effective setpoint,
    // which the twin was given in the same scan).
    switch (s.plc_reg) {
      case PlcRegister::kRemoteSetpoint: v = a.plc_snapshot.remote_setpoint; break;
      case PlcRegister::kHeartbeat: v = a.plc_snapshot.heartbeat; break;
      case PlcRegister::kControlMode: v = static_cast<double>(a.plc_snapshot.mode); break;
      case PlcRegister::kAlarms: v = a.plc_snapshot.alarms; break;
      default: v = a.plc_snapshot.setpoint; break;
    }
  } else if (s.has_twin_output) {
    v = *a.twin->Output(s.output);
  } else if (s.reads_input) {
    v = a.inputs.find(s.output)->second;
  } else {
    Generic& g = s.generic;
    if (g.counter) {
      g.value += std::floor(a.rng.Uniform(0, 2));
    } else if (g.boolean) {
      if (a.rng.Bernoulli(0.001)) g.value = g.value > 0.5 ? 0 : 1;
    } else {
      // Ornstein-Uhlenbeck step toward the middle of the range.
      g.value += 0.05 * (g.mean - g.value) + a.rng.Normal(0, g.stddev);
      g.value = std::clamp(g.value, g.lo, g.hi);
    }
    v = g.value;
  }
  for (ActiveSensorFault& f : s.faults) {
    switch (f.type) {
      case FaultType::kSensorStuck: v = f.stuck_value; break;
      case FaultType::kSensorDrift:
        v += f.rate_per_us * static_cast<double>((now - f.start).count());
        break;
      case FaultType::kSensorNoise: v += a.rng.Normal(0, f.stddev); break;
      case FaultType::kSensorSpikes:
        if (a.rng.Bernoulli(f.probability)) v *= f.factor;
        break;
      default: break;
    }
  }
  switch (s.spec->type) {
    case model::DataType::kBool: v = v > 0.5 ? 1 : 0; break;
    case model::DataType::kInt32:
    case model::DataType::kInt64:
    case model::DataType::kString: v = std::round(v); break;  // strings carry ids: "50"
    case model::DataType::kFloat32: v = static_cast<double>(static_cast<float>(v)); break;
    default: break;
  }
  return v;
}

Status Simulator::Run() {
  const Clock& wall = options_.wall_clock ? *options_.wall_clock : SystemClock::Default();
  const TimePoint wall_start = wall.Now();
  const int64_t start_us = UnixMicros(options_.start);
  const int64_t end_us = options_.duration ? start_us + options_.duration->count() : INT64_MAX;
  const double dt_s = static_cast<double>(tick_.count()) / 1e6;
  std::vector<Sample> samples;
  samples.reserve(signal_states_.size());
  Status result;
  int64_t t_us = start_us;
  uint64_t tick_count = 0;
  const uint64_t ticks_per_drift =
      std::max<uint64_t>(1, 1'000'000 / static_cast<uint64_t>(tick_.count()));
  while (!stop_.load() && t_us <= end_us) {
    TimePoint now = TimeFromUnixMicros(t_us);
    now_us_.store(t_us);
    ApplyCommands(now);
    while (next_fault_ < schedule_.size() && start_us + schedule_[next_fault_].at.count() <= t_us) {
      StartFault(schedule_[next_fault_++], now);
    }
    EndFaults(now);
    // The operating point drifts every simulated second or so.
    if (tick_count % ticks_per_drift == 0) {
      for (auto& a : assets_) {
        if (!a->twin) continue;
        a->load = std::clamp(a->load + 0.01 * (0.7 - a->load) + a->rng.Normal(0, 0.01), 0.2, 1.0);
        if (a->drive == AssetState::Drive::kMotorLoad) (void)a->twin->SetInput("load", a->load);
        if (a->drive == AssetState::Drive::kCompressorDemand) {
          (void)a->twin->SetInput("demand", 10 * a->load);
        }
      }
    }
    // The PLCs scan before the twins step: a setpoint written during the previous tick's
    // sinks drives this tick's step.
    if (!plc_assets_.empty()) ScanPlcs(now);
    if (tick_count > 0) {
      for (auto& a : assets_) {
        if (a->twin && tick_count % a->step_every == 0) {
          a->twin->Step(dt_s * static_cast<double>(a->step_every), a->rng);
          // A twin fails as it runs: the next EndFaults records the failure on its labels.
          failure_pending_ |= !a->failure_recorded && a->twin->failed();
        }
      }
    }
    samples.clear();
    for (uint32_t i : DueSignals(t_us)) {
      SignalState& s = signal_states_[i];
      AssetState& a = *assets_[s.asset_index];
      double v = SignalValue(s, a, now);
      s.last_value = v;
      samples.push_back({i, t_us, v, !a.comm_drop_until.has_value()});
    }
    samples_produced_.fetch_add(samples.size(), std::memory_order_relaxed);
    for (SampleSink* sink : sinks_) {
      Status st = sink->OnTick(now, samples);
      if (!st.ok()) {
        result = st;
        stop_.store(true);
        break;
      }
    }
    ++tick_count;
    t_us += tick_.count();
    if (options_.speed > 0) {
      auto due =
          wall_start +
          Micros(static_cast<int64_t>(static_cast<double>(t_us - start_us) / options_.speed));
      auto wait = due - wall.Now();
      if (wait.count() > 0) std::this_thread::sleep_for(wait);
    }
  }
  EndFaults(TimeFromUnixMicros(std::min(t_us, end_us)));
  for (SampleSink* sink : sinks_) {
    Status st = sink->Finish();
    if (result.ok() && !st.ok()) result = st;
  }
  return result;
}

}  // namespace weft::sim

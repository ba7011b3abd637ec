#include "core/scenario/scenario.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "common/file_io.h"
#include "common/time_format.h"
#include "control/core/control_config.h"
#include "control/core/grant.h"
#include "control/hvac/hvac_comfort_optimiser.h"
#include "control/loop/control_loop.h"
#include "core/scenario/edge_lake_writer.h"
#include "core/scenario/pdm.h"
#include "core/scenario/plant_schedule.h"
#include "core/scenario/sim_plc_io.h"
#include "edge/inference/inference_engine.h"
#include "edge/pipeline/pipeline.h"
#include "fleet/pki.h"
#include "sim/simulator.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kDayUs = int64_t{86'400'000'000};
constexpr int64_t kMinuteUs = 60'000'000;
// The inference's inputs go up once a minute (see the file comment of scenario.h).
constexpr Micros kInferenceInputInterval = std::chrono::seconds(60);

// The built-in twin model an asset type is or extends ("" for none), in the order that
// resolves a type extending several (none in practice).
std::string ModelOf(const model::Plant& plant, const std::string& type) {
  for (const char* m : {"conveyor", "compressor", "pump", "motor", "hvac_zone"}) {
    if (plant.IsA(type, m)) return m;
  }
  return "";
}

// The signals the KPIs and PdM read, by twin model ("" = assets without a twin).
const std::set<std::string>& NeededSignals(const std::string& model) {
  static const auto* kNeeded = new std::map<std::string, std::set<std::string>>{
      {"conveyor", {"state", "down_reason", "good_count", "reject_count", "energy", "power"}},
      {"motor", {"running", "energy", "power", "vibration_rms"}},
      {"pump", {"running", "energy", "power", "vibration_rms"}},
      {"compressor", {"state", "energy", "power", "vibration_rms"}},
      {"hvac_zone",
       {"zone_temp", "outdoor_temp", "setpoint", "occupancy", "heat_pump_energy", "heat_pump_power",
        "control_mode", "plc_alarms", "remote_setpoint", "heartbeat"}},
      {"", {"good_count", "reject_count", "state"}},
  };
  return kNeeded->at(kNeeded->contains(model) ? model : "");
}

std::string DurationText(Micros d) {
  return std::to_string(d.count() / 1000) + "ms";
}

std::string Fixed(double v, int digits) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

// One closed loop of an HVAC zone, with its in-process PLC and its optimiser.
struct ZoneLoop {
  control::LoopConfig config;
  std::string site, line;
  std::unique_ptr<SimPlcIo> io;
  std::unique_ptr<control::SetpointSource> source;
  std::unique_ptr<control::ControlLoop> loop;
};

// The month's run: the simulator's sink (edge, control) and the pipeline's sink (the uplink).
class MonthRun final : public sim::SampleSink, public edge::PipelineSink {
 public:
  MonthRun(const model::Plant& plant, const ScenarioOptions& options, const Clock* wall)
      : plant_(plant), options_(options), wall_(wall), loop_clock_(options.start) {}

  Status Init();
  Status Run();
  ScenarioReport Report() const;

  // sim::SampleSink
  Status OnTick(TimePoint now, std::span<const sim::Sample> samples) override;
  Status Finish() override;
  // edge::PipelineSink: the uplink, and the vibration windows for the PdM detector.
  void OnSample(const edge::Sample& s, edge::Priority p) override { writer_->OnSample(s, p); }
  void OnAggregate(const edge::Aggregate& a, edge::Priority p) override;
  void OnEvent(const edge::Event& e, edge::Priority p) override { writer_->OnEvent(e, p); }

 private:
  Status InitLoops();
  Status InitInference();
  void OnInferenceEvent(const edge::Event& e);
  void OnAction(const control::ActionRecord& a, const ZoneLoop& zone);
  Status ApplyGrants(TimePoint now);
  //! Repairs due by `t`; failures since the last look answered reactively.
  void Maintain(int64_t t);
  Status AppendWorkOrders();

  const model::Plant& plant_;  // the scenario's copy (ScenarioPlant)
  const ScenarioOptions& options_;
  const Clock* wall_;
  //! The run: [run_start_us_, end_us_); go-live (PdM, loops) at start_us_.
  int64_t run_start_us_ = 0, start_us_ = 0, end_us_ = 0, optimise_from_us_ = 0;
  std::optional<edge::SignalTable> table_;
  std::optional<PlantSchedule> schedule_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EdgeLakeWriter> writer_;
  std::unique_ptr<edge::Pipeline> pipeline_;
  std::unique_ptr<VibrationWatch> watch_;
  std::unique_ptr<LatestSamples> latest_;
  std::unique_ptr<edge::inference::InferenceEngine> engine_;  //!< null without inference
  std::map<std::string, uint64_t> predictions_;  //!< "prediction" events by "<model>@<version>"

  std::vector<std::optional<edge::SignalId>> to_edge_;  //!< by simulator signal index
  std::vector<std::vector<uint32_t>> device_peers_;     //!< by asset index: same Modbus device
  std::vector<uint8_t> lost_;                           //!< by asset index, this tick
  std::vector<edge::Sample> edge_samples_;

  struct Conveyor {
    std::string id, site;
    double ideal_cycle_s = 0;     //!< 0 = the twin's default
    int running = -1, stop = -1;  //!< last input given (-1 = none yet)
  };
  std::vector<Conveyor> conveyors_;
  struct Zone {
    std::string id, site;
  };
  std::vector<Zone> zones_;
  int64_t next_weather_us_ = 0;

  ManualClock loop_clock_;
  std::string grant_private_pem_;
  std::vector<std::unique_ptr<ZoneLoop>> loops_;
  int64_t next_loop_us_ = 0;
  bool granted_ = false;
  uint64_t loop_writes_ = 0, loop_refusals_ = 0, shadow_records_ = 0;

  uint64_t samples_to_edge_ = 0;
  uint64_t work_orders_confirmed_ = 0, work_orders_false_ = 0;
  // Work orders and the repairs they bring.
  std::optional<WorkOrderMaker> maker_;
  std::vector<ScenarioWorkOrder> orders_;
  //! What a closing work order brings: a repair (a confirmed twin fault, a breakdown) and, from
  //! go-live, the asset's PdM detectors learning normal again.
  struct Due {
    int64_t at_us = 0;
    std::string asset;
    bool repair = false;
    bool after_alert = false;
  };
  std::vector<Due> due_;
  std::vector<uint8_t> failure_seen_;           //!< by label index: answered (or repaired already)
  std::map<std::string, int64_t> repaired_us_;  //!< by asset: when its last repair applied
  int64_t next_maintain_us_ = 0;
  uint64_t repairs_after_alerts_ = 0, breakdowns_baseline_ = 0, breakdowns_live_ = 0;
  std::vector<sim::FaultLabel> labels_;
  EdgeLakeWriterStats final_stats_;
  uint64_t work_order_rows_ = 0;
};

Status MonthRun::Init() {
  start_us_ = UnixMicros(options_.start);
  run_start_us_ = start_us_ - int64_t{options_.baseline_days} * kDayUs;
  end_us_ = start_us_ + int64_t{options_.days} * kDayUs;
  optimise_from_us_ =
      options_.optimise_from
          ? UnixMicros(*options_.optimise_from)
          : start_us_ + int64_t{options_.days / 2} * kDayUs;  // a UTC midnight when start is one
  WEFT_ASSIGN_OR_RETURN(edge::SignalTable table, edge::SignalTable::FromPlant(plant_, {}));
  table_.emplace(std::move(table));
  // Before anything is written: a model that does not load leaves the lake as it was.
  WEFT_RETURN_IF_ERROR(InitInference());

  PlantScheduleOptions so;
  so.weather.seed = options_.seed;
  // The same base temperature at `start` with or without a baseline before it.
  so.weather.base_c += so.weather.trend_c_per_day * options_.baseline_days;
  so.zoneinfo_dir = options_.zoneinfo_dir;
  WEFT_ASSIGN_OR_RETURN(PlantSchedule schedule,
                        PlantSchedule::Create(plant_, run_start_us_, end_us_ + kDayUs, so));
  schedule_.emplace(std::move(schedule));

  sim::SimOptions o;
  o.seed = options_.seed;
  o.speed = 0;
  o.start = TimeFromUnixMicros(run_start_us_);
  // The last tick is one before the end: the rows cover [start, end) (the pipeline's flush at
  // the end closes the last windows, which end at `end`).
  o.duration = Micros(end_us_ - run_start_us_ - options_.tick.count());
  o.tick = options_.tick;
  // Heartbeats come once a tick at most: the watchdog must outlast a few ticks.
  o.plc_watchdog = std::max<Micros>(std::chrono::seconds(10), 3 * options_.tick);
  std::vector<sim::ScheduledFault> faults =
      options_.faults ? *options_.faults
                      : DefaultFaults(plant_, options_.days, options_.baseline_days);
  WEFT_ASSIGN_OR_RETURN(sim_, sim::Simulator::Create(plant_, o, std::move(faults)));
  sim_->AddSink(this);

  WEFT_ASSIGN_OR_RETURN(writer_,
                        EdgeLakeWriter::Open(options_.lake_root, options_.edge_id, *table_, wall_));
  pipeline_ = std::make_unique<edge::Pipeline>(
      *table_, EdgePolicies(*table_, options_.inference ? &*options_.inference : nullptr), *this);
  if (options_.pdm) {
    VibrationWatchOptions vo;
    vo.cooldown = options_.alert_cooldown;
    vo.warmup = options_.pdm_warmup;
    watch_ = std::make_unique<VibrationWatch>(*table_, vo);
  }
  WorkOrderOptions wo = options_.work_orders;
  wo.seed = options_.seed;
  wo.run_end_us = end_us_;
  maker_.emplace(std::move(wo));
  latest_ = std::make_unique<LatestSamples>(sim_->signals().size());

  // Simulator signal -> edge signal id.
  for (const sim::SimSignal& s : sim_->signals()) {
    to_edge_.push_back(table_->Find(s.asset->id, s.signal->spec.name));
  }
  // Assets by Modbus device (host, port, unit): a comm_loss silences the whole device.
  const std::vector<const model::Asset*> assets = plant_.AllAssets();
  std::map<std::tuple<std::string, uint16_t, uint8_t>, std::vector<uint32_t>> devices;
  for (uint32_t i = 0; i < assets.size(); ++i) {
    if (const auto& m = assets[i]->connection.modbus) {
      devices[{m->host, m->port, m->unit_id}].push_back(i);
    }
  }
  device_peers_.resize(assets.size());
  for (const auto& [key, members] : devices) {
    for (uint32_t i : members) device_peers_[i] = members;
  }
  lost_.assign(assets.size(), 0);

  // Conveyors follow the shifts; HVAC zones the site's weather.
  for (const model::Site& site : plant_.sites) {
    for (const model::Area& area : site.areas) {
      for (const model::Line& line : area.lines) {
        for (const model::Asset& a : line.assets) {
          const std::string m = ModelOf(plant_, a.type);
          if (m == "conveyor") {
            Conveyor c{a.id, site.id, 0, -1, -1};
            if (line.production) {
              c.ideal_cycle_s =
                  static_cast<double>(line.production->ideal_cycle_time.count()) / 1e6;
            }
            conveyors_.push_back(std::move(c));
          } else if (m == "hvac_zone") {
            zones_.push_back({a.id, site.id});
          }
        }
      }
    }
  }
  next_weather_us_ = run_start_us_;
  next_maintain_us_ = run_start_us_;
  if (options_.optimiser) WEFT_RETURN_IF_ERROR(InitLoops());
  return Status::Ok();
}

Status MonthRun::InitInference() {
  if (!options_.inference) return Status::Ok();
  Result<std::unique_ptr<edge::inference::InferenceEngine>> engine =
      edge::inference::InferenceEngine::Create(
          *options_.inference, *table_, [this](const edge::Event& e) { OnInferenceEvent(e); });
  if (!engine.ok()) return engine.status().WithContext("scenario: local inference");
  engine_ = std::move(engine).value();
  return Status::Ok();
}

void MonthRun::OnInferenceEvent(const edge::Event& e) {
  if (e.kind == "prediction") ++predictions_[e.source];
  // As weft-edge sends its inference events (edge/runtime.cc: the high stream).
  writer_->AddEvent(e, edge::Priority::kHigh);
}

Status MonthRun::InitLoops() {
  const std::vector<const model::Asset*> assets = plant_.AllAssets();
  // The grant key is named for the parser; the loops get the in-process key (InitLoops).
  std::string yaml = "control:\n  grant_key: scenario-grant.pub.pem\n  loops:\n";
  std::vector<std::pair<uint32_t, const model::Asset*>> zones;
  for (uint32_t i = 0; i < assets.size(); ++i) {
    const model::Asset& a = *assets[i];
    if (!sim_->HasPlcProgram(i)) continue;
    bool complete = true;
    for (const char* s : {"zone_temp", "outdoor_temp", "heat_pump_power", "setpoint",
                          "remote_setpoint", "heartbeat", "control_mode", "plc_alarms"}) {
      complete = complete && a.HasSignal(s);
    }
    if (!complete) {
      spdlog::warn("scenario: HVAC zone {} lacks a signal its control loop needs: no loop", a.id);
      continue;
    }
    zones.emplace_back(i, &a);
    const double utc_offset = schedule_->UtcOffsetHours(a.site, optimise_from_us_);
    // edge.yaml's example loop (examples/edge.yaml), for every zone.
    yaml += "    - id: " + a.id + "-temp\n";
    yaml += "      asset: " + a.id + "\n";
    yaml += "      write: remote_setpoint\n      heartbeat: heartbeat\n";
    yaml += "      heartbeat_interval: " + DurationText(options_.tick) + "\n";
    yaml += "      mode_signal: control_mode\n      alarms: plc_alarms\n      readback: setpoint\n";
    yaml += std::string("      read: [zone_temp, outdoor_temp, ") +
            (a.HasSignal("occupancy") ? "occupancy, " : "") + "heat_pump_power]\n";
    yaml += "      period: " + DurationText(options_.loop_period) + "\n";
    yaml += "      mode: autonomous\n";
    yaml +=
        "      source:\n        optimiser: {kind: hvac_comfort, comfort: [20, 24], "
        "days: [mon, tue, wed, thu, fri], hours: [8, 18], setback: 16, utc_offset: " +
        Fixed(utc_offset, 2) + "}\n";
    yaml += "      model_timeout: " + DurationText(3 * options_.loop_period) + "\n";
    yaml +=
        "      envelope:\n"
        "        min: 16\n        max: 23\n        max_step: 1\n        max_rate: 6/min\n"
        "        safe: 18\n        readback_tolerance: 0.05\n"
        "        interlocks:\n"
        "          - {name: overheating, expr: zone_temp, above: 27, then: safe}\n"
        "          - {name: too_cold, expr: zone_temp, below: 12, then: safe}\n"
        "          - {name: heat_pump_fault, expr: plc_alarms, above: 7, then: hold}\n";
  }
  if (zones.empty()) return Status::Ok();
  Diagnostics diags;
  Result<control::ControlConfig> config =
      control::ParseControlConfig(yaml, "scenario-control.yaml", &diags);
  if (!config.ok()) {
    return config.status().WithContext("scenario: the HVAC loops' configuration:\n" +
                                       diags.ToString());
  }
  WEFT_RETURN_IF_ERROR(control::CheckAgainstPlant(*config, plant_, &diags)
                           .WithContext("scenario: the HVAC loops against the plant"));
  WEFT_ASSIGN_OR_RETURN(fleet::KeyPair key, fleet::GenerateEd25519Key());
  grant_private_pem_ = key.private_pem;
  control::ControlLoopOptions lo;
  lo.edge_id = options_.edge_id;
  lo.grant_public_key_pem = key.public_pem;
  // The PLC applies a write at once (SimPlcIo): the read-back never has to wait.
  lo.readback_wait = std::chrono::milliseconds(0);
  for (size_t k = 0; k < zones.size(); ++k) {
    auto z = std::make_unique<ZoneLoop>();
    z->config = config->loops[k];
    const model::Asset& a = *zones[k].second;
    z->site = a.site;
    z->line = a.line;
    z->io = std::make_unique<SimPlcIo>(*sim_, zones[k].first, *latest_,
                                       device_peers_[zones[k].first].empty()
                                           ? std::vector<uint32_t>{zones[k].first}
                                           : device_peers_[zones[k].first]);
    const auto& source = std::get<control::OptimiserSource>(z->config.source);
    WEFT_ASSIGN_OR_RETURN(z->source, control::MakeHvacComfortOptimiser(source));
    ZoneLoop* raw = z.get();
    z->loop = std::make_unique<control::ControlLoop>(
        z->config, lo, *z->io, *z->source, loop_clock_,
        [this, raw](const control::ActionRecord& r) { OnAction(r, *raw); });
    loops_.push_back(std::move(z));
  }
  next_loop_us_ = start_us_;
  return Status::Ok();
}

void MonthRun::OnAction(const control::ActionRecord& a, const ZoneLoop& zone) {
  if (a.kind == "shadow") ++shadow_records_;
  if (a.kind == "write" || a.kind == "write_safe") ++loop_writes_;
  if (a.kind == "refused" || a.kind == "interlock") ++loop_refusals_;
  // As weft-edge forwards it (edge/runtime.cc ForwardAction).
  edge::uplink::ActionRecordValue v;
  v.ts_us = UnixMicros(a.ts);
  v.loop = a.loop;
  v.site = zone.site;
  v.line = zone.line;
  v.asset = a.asset;
  v.signal = a.signal;
  v.kind = a.kind;
  v.mode = a.mode;
  v.requested = a.requested;
  v.before = a.before;
  v.after = a.after;
  v.reason = a.reason;
  v.source = a.source;
  v.source_version = a.source_version;
  v.approved_by = a.approved_by;
  v.proposal_id = a.proposal_id;
  writer_->AddAction(v);
}

Status MonthRun::ApplyGrants(TimePoint now) {
  for (const auto& z : loops_) {
    control::ModeGrant g;
    g.edge = options_.edge_id;
    g.loop = z->config.id;
    g.mode = control::Mode::kAutonomous;
    g.approvals = {{"scenario-ops", control::kRoleOpsManager, now},
                   {"scenario-ot", control::kRoleOtEngineer, now}};
    g.issued_at = now;
    g.expires_at = TimeFromUnixMicros(end_us_ + kDayUs);
    WEFT_ASSIGN_OR_RETURN(std::string envelope, control::SignGrant(g, grant_private_pem_));
    Result<control::ModeGrant> applied = z->loop->ApplyGrant(envelope);
    if (!applied.ok()) {
      return applied.status().WithContext("scenario: the grant of loop " + z->config.id);
    }
  }
  return Status::Ok();
}

void MonthRun::OnAggregate(const edge::Aggregate& a, edge::Priority p) {
  writer_->OnAggregate(a, p);
  // PdM watches the windows from go-live on (the baseline period ran without it).
  if (!watch_ || a.start_us < start_us_) return;
  const size_t before = watch_->alerts().size();
  // A detector event goes up the high stream, as weft-edge sends inference events.
  if (std::optional<edge::Event> e = watch_->OnWindow(a)) {
    writer_->AddEvent(*e, edge::Priority::kHigh);
  }
  if (watch_->alerts().size() == before) return;
  // The alert's work order, at once; a confirmed twin fault is repaired when it closes.
  ScenarioWorkOrder w = maker_->Answer(watch_->alerts().back(), sim_->labels());
  (w.outcome == "confirmed_fault" ? work_orders_confirmed_ : work_orders_false_)++;
  const bool repair = w.fault && sim::IsTwinFault(*w.fault);
  due_.push_back({w.closed_us, w.asset, repair, true});
  orders_.push_back(std::move(w));
}

void MonthRun::Maintain(int64_t t) {
  for (auto it = due_.begin(); it != due_.end();) {
    if (it->at_us > t) {
      ++it;
      continue;
    }
    if (it->repair) {
      sim_->Repair(it->asset);  // applied at the next tick
      repaired_us_[it->asset] = t + options_.tick.count();
      if (it->after_alert) ++repairs_after_alerts_;
    }
    // The incident is closed: the detectors learn normal again from the next tick's windows.
    if (watch_ && t >= start_us_) watch_->Relearn(it->asset, t + options_.tick.count());
    it = due_.erase(it);
  }
  if (t < next_maintain_us_) return;
  next_maintain_us_ = t + kMinuteUs;
  // Failures since the last look (the labels of one asset fail together: answer it once).
  const std::vector<sim::FaultLabel> labels = sim_->labels();
  failure_seen_.resize(labels.size(), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const sim::FaultLabel& l = labels[i];
    if (failure_seen_[i] != 0 || !l.failure) continue;
    const int64_t failed_us = UnixMicros(*l.failure);
    for (size_t j = i; j < labels.size(); ++j) {
      if (labels[j].asset == l.asset && labels[j].failure == l.failure) failure_seen_[j] = 1;
    }
    // A repair already due (an alert's work order) fixes it then; one applied since the
    // failure has fixed it.
    const bool due = std::any_of(due_.begin(), due_.end(),
                                 [&](const Due& d) { return d.repair && d.asset == l.asset; });
    const auto repaired = repaired_us_.find(l.asset);
    if (due || (repaired != repaired_us_.end() && repaired->second >= failed_us)) continue;
    const model::Asset* a = plant_.FindAsset(l.asset);
    if (a == nullptr) continue;
    ScenarioWorkOrder w = maker_->Reactive({a->site, a->area, a->line, a->id}, l.type, failed_us,
                                           ReactiveMinutes(plant_, *a));
    due_.push_back({w.closed_us, w.asset, true, false});
    (failed_us < start_us_ ? breakdowns_baseline_ : breakdowns_live_)++;
    orders_.push_back(std::move(w));
  }
}

Status MonthRun::OnTick(TimePoint now, std::span<const sim::Sample> samples) {
  const int64_t t = UnixMicros(now);
  // 1. Production and weather: inputs for the step from this tick to the next.
  for (Conveyor& c : conveyors_) {
    if (c.running < 0 && c.ideal_cycle_s > 0) {
      sim_->SetInput(c.id, "ideal_cycle_time", c.ideal_cycle_s);
    }
    const int run = schedule_->Producing(c.site, t) ? 1 : 0;
    if (run != c.running) {
      sim_->SetInput(c.id, "running", run);
      c.running = run;
    }
    const int stop = schedule_->PlannedStop(c.site, t) ? 1 : 0;
    if (stop != c.stop) {
      sim_->SetInput(c.id, "planned_stop", stop);
      c.stop = stop;
    }
  }
  if (t >= next_weather_us_) {
    for (const Zone& z : zones_) {
      sim_->SetInput(z.id, "outdoor_temp_override", schedule_->OutdoorTemp(z.site, t));
    }
    next_weather_us_ = t + 5 * kMinuteUs;
  }

  // 2. The edge: what its connectors receive, through its pipeline.
  latest_->Update(samples);
  for (size_t i = 0; i < lost_.size(); ++i) {
    bool lost = false;
    for (uint32_t peer : device_peers_[i]) lost = lost || sim_->CommLost(peer);
    lost_[i] = lost ? 1 : 0;
  }
  edge_samples_.clear();
  const std::vector<sim::SimSignal>& signals = sim_->signals();
  for (const sim::Sample& s : samples) {
    if (!s.sent || lost_[signals[s.signal].asset_index] != 0) continue;
    const std::optional<edge::SignalId>& id = to_edge_[s.signal];
    if (!id) continue;
    edge_samples_.push_back(edge::Sample{*id, s.ts_us, s.value, edge::quality::kGood});
  }
  samples_to_edge_ += edge_samples_.size();
  pipeline_->Push(edge_samples_);
  // Local inference from go-live on, on the samples the connectors received (as weft-edge).
  if (engine_ && t >= start_us_) engine_->OnSamples(edge_samples_);

  // 3. Control: from go-live, the loops in shadow, then (granted) autonomous.
  if (!loops_.empty() && t >= start_us_) {
    loop_clock_.Set(now);
    if (!granted_ && t >= optimise_from_us_) {
      WEFT_RETURN_IF_ERROR(ApplyGrants(now));
      granted_ = true;
    }
    if (t >= next_loop_us_) {
      for (const auto& z : loops_) z->loop->Tick(now);
      next_loop_us_ +=
          ((t - next_loop_us_) / options_.loop_period.count() + 1) * options_.loop_period.count();
    }
    for (const auto& z : loops_) z->loop->Heartbeat(now);
  }

  // 4. Windows, heartbeats, stale signals; batches and daily commits.
  pipeline_->Advance(t);
  // 5. Maintenance: repairs due, failures found.
  Maintain(t);
  return writer_->Advance(t);
}

Status MonthRun::Finish() {
  pipeline_->Flush();
  return writer_->Finish();
}

Status MonthRun::AppendWorkOrders() {
  if (orders_.empty()) return Status::Ok();
  std::stable_sort(orders_.begin(), orders_.end(),
                   [](const ScenarioWorkOrder& a, const ScenarioWorkOrder& b) {
                     return a.event_us < b.event_us;
                   });
  WEFT_ASSIGN_OR_RETURN(auto table, OpenTable(options_.lake_root, LakeTableId::kWorkOrders, wall_));
  WEFT_RETURN_IF_ERROR(
      table->Append(WorkOrderRows(orders_)).status().WithContext("lake table work_orders"));
  work_order_rows_ = orders_.size();
  return Status::Ok();
}

Status MonthRun::Run() {
  WEFT_RETURN_IF_ERROR(sim_->Run());
  labels_ = sim_->labels();
  final_stats_ = writer_->stats();
  return AppendWorkOrders();
}

ScenarioReport MonthRun::Report() const {
  ScenarioReport r;
  r.start_us = run_start_us_;
  r.end_us = end_us_;
  r.live_from_us = start_us_;
  r.baseline_days = options_.baseline_days;
  r.rows = final_stats_.rows;
  r.commits = final_stats_.commits;
  r.rows[static_cast<size_t>(LakeTableId::kWorkOrders)] = work_order_rows_;
  r.commits[static_cast<size_t>(LakeTableId::kWorkOrders)] = work_order_rows_ > 0 ? 1 : 0;
  r.batches = final_stats_.batches;
  r.signals_simulated = sim_->signals().size();
  r.signals_uploaded = table_->size();
  r.samples_produced = sim_->samples_produced();
  r.samples_to_edge = samples_to_edge_;
  if (watch_) {
    r.detector_firings = watch_->firings();
    r.alerts = watch_->alerts().size();
  }
  r.confirmed = work_orders_confirmed_;
  r.false_alarms = work_orders_false_;
  r.breakdowns_baseline = breakdowns_baseline_;
  r.breakdowns_live = breakdowns_live_;
  r.repairs_after_alerts = repairs_after_alerts_;
  r.loops = loops_.size();
  r.loop_writes = loop_writes_;
  r.loop_refusals = loop_refusals_;
  r.shadow_records = shadow_records_;
  if (granted_) {
    r.optimise_from_us = optimise_from_us_;
    r.optimised_days =
        static_cast<double>(end_us_ - optimise_from_us_) / static_cast<double>(kDayUs);
  }
  if (options_.inference) {
    for (const edge::inference::ModelConfig& m : options_.inference->models) {
      ScenarioModelReport mr;
      mr.name = m.name;
      mr.version = m.version;
      for (const model::Asset* a : plant_.AllAssets()) {
        if (!plant_.IsA(a->type, m.asset_type)) continue;
        const bool reads = std::any_of(
            m.features.begin(), m.features.end(),
            [&](const edge::inference::FeatureConfig& f) { return a->HasSignal(f.signal); });
        if (reads) ++mr.assets;
      }
      const auto p = predictions_.find(m.name + "@" + m.version);
      mr.predictions = p == predictions_.end() ? 0 : p->second;
      r.models.push_back(std::move(mr));
    }
  }
  if (engine_) {
    const edge::inference::InferenceEngine::Stats st = engine_->stats();
    r.model_runs = st.predictions;
    uint64_t predictions = 0;
    for (const auto& [source, n] : predictions_) predictions += n;
    r.inference_detector_events = st.events - predictions;
    r.physics_violations = st.physics_violations;
    r.out_of_envelope = st.out_of_envelope;
  }
  r.labels = labels_;
  return r;
}

}  // namespace

std::vector<std::string> InferenceSignals(const model::Plant& plant, const model::Asset& asset,
                                          const edge::inference::InferenceConfig& inference) {
  std::vector<std::string> out;
  auto add = [&](const std::string& signal) {
    if (asset.HasSignal(signal) && std::find(out.begin(), out.end(), signal) == out.end()) {
      out.push_back(signal);
    }
  };
  for (const edge::inference::ModelConfig& m : inference.models) {
    if (!plant.IsA(asset.type, m.asset_type)) continue;
    for (const edge::inference::FeatureConfig& f : m.features) add(f.signal);
  }
  for (const edge::inference::DetectorConfig& d : inference.detectors) {
    if (plant.IsA(asset.type, d.asset_type)) add(d.signal);
  }
  return out;
}

model::Plant ScenarioPlant(const model::Plant& plant, bool all_signals,
                           const edge::inference::InferenceConfig* inference) {
  model::Plant out = plant;
  if (all_signals) return out;
  for (model::Site& site : out.sites) {
    for (model::Area& area : site.areas) {
      for (model::Line& line : area.lines) {
        for (model::Asset& a : line.assets) {
          std::set<std::string> keep = NeededSignals(ModelOf(plant, a.type));
          if (inference != nullptr) {
            for (std::string& s : InferenceSignals(plant, a, *inference)) keep.insert(std::move(s));
          }
          std::erase_if(a.signals,
                        [&](const model::Signal& s) { return !keep.contains(s.spec.name); });
        }
      }
    }
  }
  return out;
}

std::vector<edge::SignalPolicy> EdgePolicies(const edge::SignalTable& table,
                                             const edge::inference::InferenceConfig* inference) {
  std::vector<edge::SignalPolicy> policies = edge::DefaultPolicies(table);
  // The signals the inference reads, by asset (computed once per asset).
  std::map<std::string_view, std::vector<std::string>> inputs;
  for (const edge::SignalInfo& s : table.signals()) {
    edge::SignalPolicy& p = policies[s.id];
    const bool hvac =
        s.asset_model != nullptr && table.plant().IsA(std::string(s.asset_type), "hvac_zone");
    p.priority = hvac ? edge::Priority::kLow : edge::Priority::kNormal;
    const std::string_view q = s.quantity;
    if (s.signal == "heartbeat") {
      p.route = edge::Route::kEvents;  // changes every write: only its quality matters
    } else if (q == "state" || q == "boolean" || q == "count" || s.type == model::DataType::kBool) {
      p.deadband = 0.5;  // change-only for whole numbers
      p.max_interval = std::chrono::seconds(60);
    } else if (q == "energy") {
      p.max_interval = std::chrono::seconds(60);
    } else if (q == "temperature") {
      p.deadband = 0.1;
      p.max_interval = std::chrono::seconds(60);
    } else {
      p.route = edge::Route::kAggregate;
      p.window = std::chrono::minutes(15);
      p.stats = edge::stat::kAll;
    }
    if (inference == nullptr || s.asset_model == nullptr) continue;
    auto in = inputs.find(s.asset);
    if (in == inputs.end()) {
      in = inputs.emplace(s.asset, InferenceSignals(table.plant(), *s.asset_model, *inference))
               .first;
    }
    if (std::find(in->second.begin(), in->second.end(), s.signal) == in->second.end()) continue;
    // Raw once a minute, every input of the asset on the same ticks (the monitor aligns them).
    p.deadband = 0;
    p.deadband_percent = false;
    p.min_interval = kInferenceInputInterval;
    p.max_interval = Micros(0);
    p.route = edge::RouteHasAggregate(p.route) ? edge::Route::kRawAndAggregate : edge::Route::kRaw;
  }
  return policies;
}

Result<edge::inference::InferenceConfig> LoadInferenceFile(const std::string& path,
                                                           Diagnostics* diags) {
  Result<std::string> read = ReadFileUpTo(path, edge::inference::kMaxEdgeConfigBytes);
  if (!read.ok()) return read.status().WithContext("inference file");
  const std::string& text = *read;
  WEFT_ASSIGN_OR_RETURN(edge::inference::InferenceConfig config,
                        edge::inference::ParseInferenceConfig(text, path, diags));
  if (config.models.empty() && config.detectors.empty()) {
    return InvalidArgumentError(path + ": no `inference:` section with models or detectors to run");
  }
  return config;
}

std::vector<sim::ScheduledFault> DefaultFaults(const model::Plant& plant, int days,
                                               int baseline_days) {
  std::vector<const model::Asset*> motors_vib, motors_blind, compressors, pumps, plc_zones;
  for (const model::Asset* a : plant.AllAssets()) {
    const std::string m = ModelOf(plant, a->type);
    const bool vib = a->HasSignal("vibration_rms");
    if (m == "motor") (vib ? motors_vib : motors_blind).push_back(a);
    if (m == "compressor" && vib) compressors.push_back(a);
    if (m == "pump" && vib) pumps.push_back(a);
    if (m == "hvac_zone" && sim::RunsHvacPlc(plant, *a)) plc_zones.push_back(a);
  }
  auto nth = [](const std::vector<const model::Asset*>& v, size_t i) {
    return i < v.size() ? v[i] : nullptr;
  };
  std::vector<sim::ScheduledFault> out;
  // One period's schedule: `offset_days` from the run's start, `period_days` long.
  auto period = [&](int offset_days, int period_days) {
    const double total_us = static_cast<double>(period_days) * static_cast<double>(kDayUs);
    auto at = [&](double fraction) {
      return Micros(int64_t{offset_days} * kDayUs +
                    static_cast<int64_t>(std::llround(fraction * total_us / 6e7)) * kMinuteUs);
    };
    auto add = [&](const model::Asset* a, sim::FaultType type, double severity, double fraction,
                   std::optional<Micros> duration) {
      if (a == nullptr) return;
      sim::ScheduledFault f;
      f.asset = a->id;
      f.type = type;
      f.severity = severity;
      f.at = at(fraction);
      f.duration = duration;
      out.push_back(std::move(f));
    };
    // Unrepaired, bearing wear fails after 7.13 days / severity of running (motor_twin.h,
    // compressor_twin.h); in 30 days: l1-sp-01 at day 3 + 14.3, the compressor 5.1 + 14.3, the
    // blind spindle 8.1 + 8.9, l1-sp-02 9.9 + 11.9 = day 21.8; repaired by day 25 (72 h at most).
    add(nth(motors_vib, 0), sim::FaultType::kBearingWear, 0.5, 0.10, std::nullopt);
    add(nth(compressors, 0), sim::FaultType::kBearingWear, 0.5, 0.17, std::nullopt);
    add(nth(motors_blind, 0), sim::FaultType::kBearingWear, 0.8, 0.27, std::nullopt);
    add(nth(motors_vib, 1), sim::FaultType::kBearingWear, 0.6, 0.33, std::nullopt);
    add(nth(pumps, 0), sim::FaultType::kCavitation, 0.5, 0.67, std::chrono::hours(8));
    add(nth(plc_zones, 0), sim::FaultType::kHandMode, 19.5, 0.73, std::chrono::hours(3));
    add(plc_zones.size() > 2 ? plc_zones.back() : nullptr, sim::FaultType::kCommLoss, 0, 0.80,
        std::chrono::minutes(10));
    add(nth(plc_zones, 1), sim::FaultType::kHeatPumpFault, 0, 0.83, std::chrono::hours(4));
  };
  if (baseline_days > 0) period(0, baseline_days);
  period(std::max(0, baseline_days), days);
  return out;
}

double ReactiveMinutes(const model::Plant& plant, const model::Asset& asset) {
  for (const model::UseCase& uc : plant.use_cases) {
    if (uc.category != model::UseCaseCategory::kPredictiveMaintenance) continue;
    if (!uc.scope.Contains(asset)) continue;
    const bool typed = std::any_of(
        uc.requires_signals.begin(), uc.requires_signals.end(),
        [&](const model::SignalRequirement& r) { return plant.IsA(asset.type, r.asset_type); });
    if (!typed) continue;
    if (std::optional<double> m = plant.ReactiveMinutesPerFailure(uc)) return *m;
    break;
  }
  return plant.economics.reactive_minutes_per_failure.value_or(240);
}

Result<ScenarioReport> RunScenario(const model::Plant& plant, const ScenarioOptions& options) {
  if (options.lake_root.empty()) return InvalidArgumentError("scenario: no lake root given");
  if (options.days < 1 || options.days > 366) {
    return InvalidArgumentError("scenario: days must be 1 to 366, got " +
                                std::to_string(options.days));
  }
  if (options.baseline_days < 0 || options.baseline_days > 366) {
    return InvalidArgumentError("scenario: baseline days must be 0 to 366, got " +
                                std::to_string(options.baseline_days));
  }
  if (options.tick < std::chrono::milliseconds(100) || options.tick > std::chrono::minutes(10)) {
    return InvalidArgumentError("scenario: the tick must be 100 ms to 10 min, got " +
                                FormatDuration(options.tick));
  }
  if (options.loop_period < options.tick) {
    return InvalidArgumentError("scenario: the loop period must be at least one tick");
  }
  const auto wall_start = std::chrono::steady_clock::now();
  const Clock* wall = options.wall_clock ? options.wall_clock : &SystemClock::Default();
  const model::Plant scenario_plant =
      ScenarioPlant(plant, options.all_signals, options.inference ? &*options.inference : nullptr);
  MonthRun run(scenario_plant, options, wall);
  WEFT_RETURN_IF_ERROR(run.Init());
  WEFT_RETURN_IF_ERROR(run.Run());
  ScenarioReport r = run.Report();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

std::string ScenarioReportText(const ScenarioReport& r) {
  std::ostringstream o;
  o << "simulated " << FormatTimestampMicros(r.start_us) << " .. "
    << FormatTimestampMicros(r.end_us) << " ("
    << Fixed(static_cast<double>(r.end_us - r.start_us) / static_cast<double>(kDayUs), 1)
    << " days) in " << Fixed(r.wall_seconds, 1) << " s\n";
  if (r.baseline_days > 0) {
    o << "baseline: " << r.baseline_days << " days before " << FormatTimestampMicros(r.live_from_us)
      << " without PdM and optimiser (failures repaired on breakdown)\n";
  }
  o << "signals: " << r.signals_simulated << " simulated, " << r.signals_uploaded
    << " at the edge; samples: " << r.samples_produced << " produced, " << r.samples_to_edge
    << " into the pipeline; " << r.batches << " batches\n";
  o << "rows written:\n";
  for (int i = 0; i < kLakeTableCount; ++i) {
    const auto t = static_cast<LakeTableId>(i);
    o << "  " << LakeTableName(t) << ": " << r.rows[static_cast<size_t>(i)] << " ("
      << r.commits[static_cast<size_t>(i)] << " commits)\n";
  }
  o << "PdM: " << r.detector_firings << " detector firings, " << r.alerts << " alerts -> "
    << r.confirmed << " confirmed faults, " << r.false_alarms << " false alarms; "
    << r.repairs_after_alerts << " repairs after alerts\n";
  o << "breakdowns (repaired after 24-72 h): " << r.breakdowns_baseline << " in the baseline, "
    << r.breakdowns_live << " live\n";
  o << "HVAC: " << r.loops << " loops, " << r.shadow_records << " shadow records, " << r.loop_writes
    << " writes, " << r.loop_refusals << " refused/interlocked; ";
  if (r.optimise_from_us > 0) {
    o << "optimised from " << FormatTimestampMicros(r.optimise_from_us) << " ("
      << Fixed(r.optimised_days, 1) << " days)\n";
  } else {
    o << "not optimised\n";
  }
  if (!r.models.empty()) {
    o << "inference: " << r.model_runs << " model runs from "
      << FormatTimestampMicros(r.live_from_us) << ", "
      << r.rows[static_cast<size_t>(LakeTableId::kPredictions)] << " predictions";
    if (r.physics_violations + r.out_of_envelope > 0) {
      o << " (" << r.physics_violations << " physics violations, " << r.out_of_envelope
        << " out of envelope)";
    }
    if (r.inference_detector_events > 0) {
      o << ", " << r.inference_detector_events << " detector events";
    }
    o << "\n";
    for (const ScenarioModelReport& m : r.models) {
      o << "  " << m.name << "@" << m.version << " on " << m.assets << " assets: " << m.predictions
        << " predictions\n";
    }
  }
  o << "faults (ground truth):\n";
  for (const sim::FaultLabel& l : r.labels) {
    o << "  " << l.asset << " " << sim::FaultTypeName(l.type) << " from " << sim::IsoTime(l.start);
    if (l.end) o << " to " << sim::IsoTime(*l.end);
    if (l.failure) o << ", failed " << sim::IsoTime(*l.failure);
    o << "\n";
  }
  return o.str();
}

}  // namespace weft::core::scenario

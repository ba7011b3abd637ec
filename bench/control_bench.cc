// control_bench: issue 8's acceptance. The HVAC optimiser in autonomous mode against weft-sim's
// Modbus PLCs, over the same simulated week as the PLCs' own fixed schedule, in lock-step.
//
//   control_bench [--plant examples/plant.yaml] [--seeds 1,2,3] [--days 7] [--zones lyon-hz-]
//
// Per seed, three runs of the same plant, seed and week (Monday 2026-01-05 00:00 UTC on, 60 s
// ticks, speed 0, the simulator and its ModbusPlc in this process):
//   fixed      no edge: every zone follows its PLC's schedule (21 degC 06-20 UTC, 18 otherwise).
//   optimiser  one control::ControlLoop per zone in autonomous mode (a grant signed with a
//              throw-away key, approved by an ops_manager and an ot_engineer), writing
//              remote_setpoint over Modbus TCP under the envelope [16, 23], max_step 1.0,
//              source = the hvac_comfort optimiser.
//   peer       the same loops with a plain lower fixed schedule (20 degC 06-20, 18 otherwise):
//              what "just turn it down a degree" gives, for context.
// Per zone and in total: heat pump energy (the twin's heat_pump_energy counter), comfort = share
// of occupied minutes with zone_temp in [20, 24] (occupied: the zone's occupancy signal > 0
// where it has one, else the twin's weekday 08-18 schedule), violation minutes, writes and
// refusals. The safety invariant is checked on the PLC side: every tick the zone is remote, its
// remote_setpoint register must lie in [16, 23] and move by at most max_step (+ the register's
// 0.1 resolution) from the previous one. Exit 1 when it broke (or a run failed), else 0; the
// energy/comfort target is reported, not enforced by the exit code.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "control/core/control_config.h"
#include "control/core/grant.h"
#include "control/hvac/hvac_comfort_optimiser.h"
#include "control/loop/control_loop.h"
#include "control/loop/modbus_plc_io.h"
#include "model/physics.h"
#include "model/plant_loader.h"
#include "sim/modbus_plc.h"
#include "sim/simulator.h"
#include "twin/hvac_zone_twin.h"

namespace weft {
namespace {

constexpr double kLo = 20;
constexpr double kHi = 24;
constexpr double kEnvMin = 16;
constexpr double kEnvMax = 23;
constexpr double kMaxStep = 1.0;
constexpr double kRegisterResolution = 0.1;
// Monday: the zone twins count weekdays from their start as Monday.
const TimePoint kStart = TimeFromUnixMicros(1'767'571'200'000'000);  // 2026-01-05T00:00:00Z

enum class RunKind { kFixed, kOptimiser, kPeer };
const char* RunName(RunKind k) {
  return k == RunKind::kFixed ? "fixed" : k == RunKind::kOptimiser ? "optimiser" : "peer";
}

struct ZoneResult {
  std::string zone;
  double energy_kwh = 0;
  int occupied_min = 0;
  int violation_min = 0;
  int remote_ticks = 0;
  int ticks = 0;
  uint64_t writes = 0;
  uint64_t refusals = 0;
  int safety_breaches = 0;
  double comfort() const {
    return occupied_min == 0 ? 1 : 1 - static_cast<double>(violation_min) / occupied_min;
  }
};

//! The peer: the PLC's schedule one degree lower in the day.
class LowerFixedSchedule final : public control::SetpointSource {
 public:
  Result<double> Propose(TimePoint now, const std::map<std::string, double>&) override {
    auto day = std::chrono::floor<std::chrono::days>(now);
    double hour = std::chrono::duration<double, std::ratio<3600>>(now - day).count();
    return hour >= 6 && hour < 20 ? 20.0 : 18.0;
  }
  std::string name() const override { return "fixed_20_18"; }
  std::string version() const override { return "1"; }
};

//! Measures every zone from the simulator's samples (what the PLC holds, each tick).
class Meter final : public sim::SampleSink {
 public:
  struct Zone {
    ZoneResult result;
    std::optional<uint32_t> zone_temp, occupancy, energy, remote_setpoint, control_mode;
    double last_remote = std::nan("");
    double zone_c = std::nan(""), occupancy_n = std::nan(""), energy_kwh = 0;
    double remote = std::nan(""), mode = std::nan("");
  };
  Meter(const sim::Simulator& sim, const std::vector<std::string>& zones) {
    reference_ = twin::HvacZoneTwin::Create(twin::HvacZoneTwin::Params{}).value();
    for (const std::string& z : zones) {
      Zone zone;
      zone.result.zone = z;
      zone.zone_temp = sim.FindSignal(z, "zone_temp");
      zone.occupancy = sim.FindSignal(z, "occupancy");
      zone.energy = sim.FindSignal(z, "heat_pump_energy");
      zone.remote_setpoint = sim.FindSignal(z, "remote_setpoint");
      zone.control_mode = sim.FindSignal(z, "control_mode");
      zones_.push_back(zone);
    }
  }
  Status OnTick(TimePoint now, std::span<const sim::Sample> samples) override {
    for (const sim::Sample& s : samples) by_signal_[s.signal] = s.value;
    double t_s = std::chrono::duration<double>(now - kStart).count();
    for (Zone& z : zones_) {
      auto value = [&](const std::optional<uint32_t>& i) {
        if (!i) return std::nan("");
        auto it = by_signal_.find(*i);
        return it == by_signal_.end() ? std::nan("") : it->second;
      };
      ZoneResult& r = z.result;
      double temp = value(z.zone_temp);
      double energy = value(z.energy);
      if (std::isfinite(energy)) r.energy_kwh = energy;
      bool occupied = z.occupancy ? value(z.occupancy) > 0 : reference_->Occupied(t_s);
      ++r.ticks;
      if (t_s > 0 && occupied) {
        ++r.occupied_min;
        if (!(temp >= kLo && temp <= kHi)) ++r.violation_min;
      }
      double mode = value(z.control_mode);
      double remote = value(z.remote_setpoint);
      if (mode == 1) {
        ++r.remote_ticks;
        bool in_range = remote >= kEnvMin - 1e-9 && remote <= kEnvMax + 1e-9;
        bool step_ok = !std::isfinite(z.last_remote) ||
                       std::abs(remote - z.last_remote) <= kMaxStep + kRegisterResolution + 1e-6;
        if (!in_range || !step_ok) {
          if (r.safety_breaches < 5) {
            std::fprintf(stderr, "SAFETY: %s remote_setpoint %.2f (previous %.2f) at t=%.0f s\n",
                         z.result.zone.c_str(), remote, z.last_remote, t_s);
          }
          ++r.safety_breaches;
        }
        z.last_remote = remote;
      } else {
        z.last_remote = std::nan("");
      }
    }
    return Status::Ok();
  }
  std::vector<Zone>& zones() { return zones_; }

 private:
  std::unique_ptr<twin::HvacZoneTwin> reference_;
  std::map<uint32_t, double> by_signal_;
  std::vector<Zone> zones_;
};

//! Runs the zones' control loops inside the simulation's ticks.
class LoopDriver final : public sim::SampleSink {
 public:
  explicit LoopDriver(ManualClock* clock) : clock_(clock) {}
  void Add(std::unique_ptr<control::PlcIo> io, std::unique_ptr<control::SetpointSource> source,
           std::unique_ptr<control::ControlLoop> loop) {
    ios_.push_back(std::move(io));
    sources_.push_back(std::move(source));
    loops_.push_back(std::move(loop));
  }
  Status OnTick(TimePoint now, std::span<const sim::Sample>) override {
    clock_->Set(now);
    for (auto& loop : loops_) {
      loop->Tick(now);
      loop->Heartbeat(now);
    }
    return Status::Ok();
  }
  std::vector<std::unique_ptr<control::ControlLoop>>& loops() { return loops_; }
  // Ordered so the loops go before their I/O and sources.
  std::vector<std::unique_ptr<control::PlcIo>> ios_;
  std::vector<std::unique_ptr<control::SetpointSource>> sources_;
  std::vector<std::unique_ptr<control::ControlLoop>> loops_;

 private:
  ManualClock* clock_;
};

Result<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Keys {
  std::string private_pem, public_pem;
};

Result<Keys> MakeKeys() {
  auto dir =
      std::filesystem::temp_directory_path() / ("control_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Status s =
      control::GenerateGrantKey((dir / "grant.pem").string(), (dir / "grant.pub.pem").string());
  Keys k;
  if (s.ok()) {
    auto priv = ReadFile(dir / "grant.pem");
    auto pub = ReadFile(dir / "grant.pub.pem");
    if (priv.ok() && pub.ok())
      k = {*priv, *pub};
    else
      s = priv.ok() ? pub.status() : priv.status();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  WEFT_RETURN_IF_ERROR(s);
  return k;
}

control::LoopConfig ZoneLoop(const std::string& zone, bool has_occupancy) {
  control::LoopConfig c;
  c.id = zone + "-temp";
  c.asset = zone;
  c.write = "remote_setpoint";
  c.heartbeat = "heartbeat";
  c.heartbeat_interval = std::chrono::seconds(2);
  c.mode_signal = "control_mode";
  c.alarms = "plc_alarms";
  c.readback = "setpoint";
  c.read = {"zone_temp", "outdoor_temp", "heat_pump_power"};
  if (has_occupancy) c.read.push_back("occupancy");
  c.period = std::chrono::seconds(60);
  c.mode = control::Mode::kAutonomous;
  control::OptimiserSource opt;
  opt.kind = "hvac_comfort";
  c.source = opt;
  c.model_timeout = std::chrono::minutes(3);
  c.envelope.min = kEnvMin;
  c.envelope.max = kEnvMax;
  c.envelope.max_step = kMaxStep;
  c.envelope.max_rate_per_s = 0.1;
  c.envelope.safe = 18;
  c.envelope.readback_tolerance = 0.05;
  control::Interlock hot;
  hot.name = "overheating";
  hot.expr = model::physics::ParseExpr("zone_temp").value();
  hot.above = 27;
  hot.then = control::Interlock::Then::kSafe;
  c.envelope.interlocks.push_back(std::move(hot));
  return c;
}

Result<std::vector<ZoneResult>> RunWeek(const model::Plant& plant,
                                        const std::vector<std::string>& zones, uint64_t seed,
                                        int days, RunKind kind, const Keys& keys) {
  sim::SimOptions o;
  o.seed = seed;
  o.speed = 0;
  o.tick = std::chrono::seconds(60);
  o.duration = std::chrono::days(days);
  o.start = kStart;
  // The watchdog runs on simulated time and the loops heartbeat once per 60 s tick: it must
  // outlast one tick (a real edge heartbeats every 2 s against the default 10 s).
  o.plc_watchdog = std::chrono::seconds(150);
  WEFT_ASSIGN_OR_RETURN(auto sim, sim::Simulator::Create(plant, o, {}));
  WEFT_ASSIGN_OR_RETURN(auto plc, sim::ModbusPlc::Start(*sim, 0));
  sim->AddSink(plc.get());
  Meter meter(*sim, zones);
  ManualClock clock(kStart);
  LoopDriver driver(&clock);
  if (kind != RunKind::kFixed) {
    for (const std::string& zone : zones) {
      const model::Asset* asset = nullptr;
      for (const model::Asset* a : plant.AllAssets()) {
        if (a->id == zone) asset = a;
      }
      if (asset == nullptr) return NotFoundError("no asset " + zone);
      uint16_t port = 0;
      for (const auto& e : plc->endpoints()) {
        if (std::find(e.assets.begin(), e.assets.end(), zone) != e.assets.end())
          port = e.local_port;
      }
      if (port == 0) return NotFoundError("no Modbus endpoint serves " + zone);
      control::ModbusPlcIoOptions io_options;
      io_options.endpoint_override = "127.0.0.1:" + std::to_string(port);
      WEFT_ASSIGN_OR_RETURN(auto io, control::ModbusPlcIo::Create(*asset, io_options));
      std::unique_ptr<control::SetpointSource> source;
      if (kind == RunKind::kOptimiser) {
        WEFT_ASSIGN_OR_RETURN(source,
                              control::MakeHvacComfortOptimiser(control::HvacComfortParams{}));
      } else {
        source = std::make_unique<LowerFixedSchedule>();
      }
      control::LoopConfig config = ZoneLoop(zone, sim->FindSignal(zone, "occupancy").has_value());
      control::ControlLoopOptions lo;
      lo.edge_id = "edge-bench";
      lo.grant_public_key_pem = keys.public_pem;
      auto loop = std::make_unique<control::ControlLoop>(config, lo, *io, *source, clock,
                                                         [](const control::ActionRecord&) {});
      control::ModeGrant grant;
      grant.edge = "edge-bench";
      grant.loop = config.id;
      grant.mode = control::Mode::kAutonomous;
      grant.approvals = {{"olga", control::kRoleOpsManager, kStart - std::chrono::hours(2)},
                         {"otto", control::kRoleOtEngineer, kStart - std::chrono::hours(1)}};
      grant.issued_at = kStart - std::chrono::hours(1);
      grant.expires_at = kStart + std::chrono::days(days + 1);
      WEFT_ASSIGN_OR_RETURN(std::string envelope, control::SignGrant(grant, keys.private_pem));
      WEFT_RETURN_IF_ERROR(loop->ApplyGrant(envelope).status());
      if (loop->effective_mode() != control::Mode::kAutonomous) {
        return InternalError("the grant did not make " + config.id + " autonomous");
      }
      driver.Add(std::move(io), std::move(source), std::move(loop));
    }
    sim->AddSink(&driver);
  }
  sim->AddSink(&meter);
  WEFT_RETURN_IF_ERROR(sim->Run());
  std::vector<ZoneResult> out;
  for (size_t i = 0; i < meter.zones().size(); ++i) {
    ZoneResult r = meter.zones()[i].result;
    if (kind != RunKind::kFixed) {
      control::LoopStats st = driver.loops()[i]->stats();
      r.writes = st.writes + st.safe_writes;
      r.refusals = st.refusals;
    }
    out.push_back(r);
  }
  return out;
}

ZoneResult Total(const std::vector<ZoneResult>& zones) {
  ZoneResult t;
  t.zone = "total";
  for (const ZoneResult& z : zones) {
    t.energy_kwh += z.energy_kwh;
    t.occupied_min += z.occupied_min;
    t.violation_min += z.violation_min;
    t.remote_ticks += z.remote_ticks;
    t.ticks += z.ticks;
    t.writes += z.writes;
    t.refusals += z.refusals;
    t.safety_breaches += z.safety_breaches;
  }
  return t;
}

int Main(int argc, char** argv) {
  std::string source_dir = std::getenv("WEFT_SOURCE_DIR") ? std::getenv("WEFT_SOURCE_DIR") : ".";
  std::string plant_path = source_dir + "/examples/plant.yaml";
  std::vector<uint64_t> seeds = {1, 2, 3};
  int days = 7;
  std::string zone_prefix = "lyon-hz-";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--plant") {
      plant_path = value;
    } else if (flag == "--seeds") {
      seeds.clear();
      std::stringstream ss(value);
      for (std::string s; std::getline(ss, s, ',');) seeds.push_back(std::stoull(s));
    } else if (flag == "--days") {
      days = std::stoi(value);
    } else if (flag == "--zones") {
      zone_prefix = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  spdlog::set_level(std::getenv("CONTROL_BENCH_VERBOSE") ? spdlog::level::info
                                                         : spdlog::level::warn);
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(plant_path, &diags);
  if (!plant.ok()) {
    std::fprintf(stderr, "%s\n%s\n", plant.status().ToString().c_str(), diags.ToString().c_str());
    return 2;
  }
  std::vector<std::string> zones;
  for (const model::Asset* a : plant->AllAssets()) {
    if (a->id.rfind(zone_prefix, 0) == 0 && plant->IsA(a->type, "hvac_zone"))
      zones.push_back(a->id);
  }
  if (zones.empty()) {
    std::fprintf(stderr, "no HVAC zone matches %s\n", zone_prefix.c_str());
    return 2;
  }
  Result<Keys> keys = MakeKeys();
  if (!keys.ok()) {
    std::fprintf(stderr, "grant key: %s\n", keys.status().ToString().c_str());
    return 2;
  }
  std::printf(
      "control_bench: %zu zones (%s*), %d simulated days from 2026-01-05 (Monday), 60 s "
      "ticks, comfort band [%.0f, %.0f] degC, envelope [%.0f, %.0f] max_step %.1f\n",
      zones.size(), zone_prefix.c_str(), days, kLo, kHi, kEnvMin, kEnvMax, kMaxStep);
  int breaches = 0;
  bool all_met = true;
  for (uint64_t seed : seeds) {
    std::map<RunKind, std::vector<ZoneResult>> runs;
    for (RunKind kind : {RunKind::kFixed, RunKind::kOptimiser, RunKind::kPeer}) {
      auto t0 = std::chrono::steady_clock::now();
      Result<std::vector<ZoneResult>> r = RunWeek(*plant, zones, seed, days, kind, *keys);
      if (!r.ok()) {
        std::fprintf(stderr, "seed %llu run %s: %s\n", static_cast<unsigned long long>(seed),
                     RunName(kind), r.status().ToString().c_str());
        return 1;
      }
      std::printf("seed %llu: %s run in %.1f s wall\n", static_cast<unsigned long long>(seed),
                  RunName(kind),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      runs[kind] = *r;
    }
    std::printf("\nseed %llu\n%-12s %10s %10s %7s %10s | %9s %9s %6s %9s | %7s %6s %7s %6s\n",
                static_cast<unsigned long long>(seed), "zone", "fixed kWh", "optim kWh", "saved",
                "peer kWh", "fixed cmf", "optim cmf", "viol", "peer cmf", "writes", "refus",
                "remote", "unsafe");
    auto row = [&](const ZoneResult& f, const ZoneResult& o, const ZoneResult& p) {
      std::printf(
          "%-12s %10.1f %10.1f %6.1f%% %10.1f | %8.1f%% %8.1f%% %6d %8.1f%% | %7llu %6llu "
          "%6.1f%% %6d\n",
          f.zone.c_str(), f.energy_kwh, o.energy_kwh, 100 * (1 - o.energy_kwh / f.energy_kwh),
          p.energy_kwh, 100 * f.comfort(), 100 * o.comfort(), o.violation_min, 100 * p.comfort(),
          static_cast<unsigned long long>(o.writes), static_cast<unsigned long long>(o.refusals),
          100.0 * o.remote_ticks / std::max(1, o.ticks), o.safety_breaches + p.safety_breaches);
    };
    for (size_t i = 0; i < zones.size(); ++i) {
      row(runs[RunKind::kFixed][i], runs[RunKind::kOptimiser][i], runs[RunKind::kPeer][i]);
    }
    ZoneResult f = Total(runs[RunKind::kFixed]);
    ZoneResult o = Total(runs[RunKind::kOptimiser]);
    ZoneResult p = Total(runs[RunKind::kPeer]);
    row(f, o, p);
    double ratio = o.energy_kwh / f.energy_kwh;
    bool met = ratio <= 0.90 && o.comfort() >= 0.95;
    all_met = all_met && met;
    std::printf(
        "seed %llu: optimiser / fixed schedule = %.3f (%.1f%% less energy), comfort %.2f%% "
        "of %d occupied minutes (%d violation minutes); peer / fixed = %.3f, peer comfort "
        "%.2f%%; target (>= 10%% less, >= 95%% comfort): %s\n",
        static_cast<unsigned long long>(seed), ratio, 100 * (1 - ratio), 100 * o.comfort(),
        o.occupied_min, o.violation_min, p.energy_kwh / f.energy_kwh, 100 * p.comfort(),
        met ? "met" : "NOT met");
    breaches += o.safety_breaches + p.safety_breaches;
  }
  std::printf(
      "\nsafety (PLC side: remote_setpoint in [%.0f, %.0f], steps <= %.1f + %.1f register "
      "resolution): %s (%d breaches)\ntarget over all seeds: %s\n",
      kEnvMin, kEnvMax, kMaxStep, kRegisterResolution, breaches == 0 ? "kept" : "BROKEN", breaches,
      all_met ? "met" : "NOT met");
  return breaches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace weft

int main(int argc, char** argv) {
  return weft::Main(argc, argv);
}

#include "core/kpi/kpi_job.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "common/time_format.h"
#include "core/api/work_orders.h"
#include "core/ingest/tables.h"
#include "core/kpi/roadmap_input.h"
#include "kpi/shifts.h"
#include "model/units.h"

namespace weft::core::kpi {
namespace {

namespace calc = ::weft::kpi;
using json = nlohmann::ordered_json;

constexpr int64_t kSecondUs = 1'000'000;
constexpr int64_t kHourUs = 3600 * kSecondUs;
constexpr int64_t kDayUs = 24 * kHourUs;
constexpr int64_t kMaxPeriodUs = 400 * kDayUs;

// Conveyor down reasons (twin/conveyor_twin.h) that are not failures of the asset.
constexpr double kReasonMaterialShortage = 3;
constexpr double kReasonPlanned = 4;
constexpr double kCompressorFault = 3;
constexpr double kControlModeRemote = 1;

int64_t FloorDay(int64_t us) {
  int64_t r = us % kDayUs;
  if (r < 0) r += kDayUs;
  return us - r;
}

// The UTC days of [from, to), clipped to it.
std::vector<std::pair<int64_t, int64_t>> DaysOf(int64_t from, int64_t to) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t d = FloorDay(from); d < to; d += kDayUs) {
    out.emplace_back(std::max(d, from), std::min(d + kDayUs, to));
  }
  return out;
}

double Seconds(int64_t us) {
  return static_cast<double>(us) / 1e6;
}

std::optional<double> Finite(std::optional<double> v) {
  if (v && !std::isfinite(*v)) return std::nullopt;
  return v;
}

std::optional<double> Scaled(std::optional<double> v, double k) {
  if (!v) return std::nullopt;
  return *v * k;
}

json Nullable(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

std::string Iso(int64_t us) {
  return FormatTimestampMicros(us);
}

bool IsA(const model::Plant& plant, const model::Asset& a, const char* type) {
  return plant.IsA(a.type, type);
}

bool HasEnergyQuantity(const model::Signal& s) {
  return s.spec.quantity == "energy";
}

// The assets of a use case: its scope, narrowed to the asset types its requirements name.
bool InUseCaseAssets(const model::Plant& plant, const model::UseCase& uc, const model::Asset& a) {
  if (!uc.scope.Contains(a)) return false;
  if (uc.requires_signals.empty()) return true;
  for (const model::SignalRequirement& r : uc.requires_signals) {
    if (plant.IsA(a.type, r.asset_type)) return true;
  }
  return false;
}

// One value of a unit in another (e.g. hours in "min": 60); nullopt when they do not convert.
std::optional<double> UnitFactor(std::string_view from, std::string_view to) {
  Result<model::Unit> f = model::ParseUnit(from);
  Result<model::Unit> t = model::ParseUnit(to);
  if (!f.ok() || !t.ok()) return std::nullopt;
  Result<double> v = model::Convert(1.0, *f, *t);
  Result<double> zero = model::Convert(0.0, *f, *t);
  if (!v.ok() || !zero.ok() || *zero != 0) return std::nullopt;
  return *v;
}

// "h/year" -> "h", "kWh/unit" -> "kWh", "%" -> "%".
std::string Numerator(const std::string& unit) {
  const size_t slash = unit.find('/');
  return slash == std::string::npos ? unit : unit.substr(0, slash);
}

struct Measure {
  std::optional<double> value;  //!< in the measure's base unit (h, kWh, kWh/unit, fraction)
  double coverage = 0;
  json detail = json::object();
};

// A motor's or pump's down time over a window (Computation::MotorDown).
struct MotorDowns {
  std::vector<std::pair<int64_t, int64_t>> down;  //!< disjoint, sorted, clipped to the window
  double down_s = 0;                              //!< their total
  double signal_down_s = 0;  //!< the part seen in the running flag (running 0, line to produce)
  std::vector<calc::DownEpisode> episodes;  //!< merged, touching the window, clipped to it
  int failures = 0, repairs = 0;
  double repaired_down_s = 0;
};

// Everything one Compute call works with.
class Computation {
 public:
  Computation(const model::Plant& plant, const KpiJobOptions& options, const SeriesSet& series,
              int64_t from, int64_t to, const std::vector<api::WorkOrder>& work_orders,
              const std::vector<KpiRow>& earlier_actuals, KpiReport* report)
      : plant_(plant),
        opt_(options),
        series_(series),
        from_(from),
        to_(to),
        earlier_actuals_(earlier_actuals),
        report_(*report) {
    for (const api::WorkOrder& w : work_orders) {
      if (w.outcome != api::kOutcomeConfirmedFault || w.closed_us < w.opened_us) continue;
      repairs_[w.asset].emplace_back(w.opened_us, w.closed_us);
    }
  }

  void Oee(const std::map<std::string, std::vector<calc::ShiftInstance>>& shifts);
  void Reliability();
  void Energy();
  void Technician(const std::vector<AlertEvent>& events,
                  const std::vector<api::WorkOrder>& work_orders);
  void Hvac();
  void UseCases();

 private:
  const calc::StepSeries* S(const model::Asset& a, const char* signal) const {
    return series_.Find(a.id, signal);
  }
  const calc::StepSeries& OrEmpty(const calc::StepSeries* s) const {
    return s != nullptr ? *s : empty_;
  }
  KpiRow Row(int64_t a, int64_t b, std::string kpi, std::optional<double> value, std::string unit,
             std::optional<double> coverage) const {
    KpiRow r;
    r.period_start_us = a;
    r.period_end_us = b;
    r.kpi = std::move(kpi);
    r.value = Finite(value);
    r.unit = std::move(unit);
    r.coverage = Finite(coverage);
    return r;
  }
  void Add(KpiRow r) { report_.rows.push_back(std::move(r)); }
  void AddOeeRows(const calc::OeeResult& o, int64_t a, int64_t b, const std::string& site,
                  const std::string& area, const std::string& line, const std::string& asset,
                  const std::string& shift);
  struct ZoneDay {
    double kwh = 0;
    bool energy_data = false;
    double energy_coverage = 0;
    double temp_coverage = 0;
    double hdd = 0;
    std::optional<double> occupancy;  //!< person-hours (over the day, coverage-normalised)
    double remote_s = 0;
    double day_s = 0;
  };
  ZoneDay ZoneDayOf(const model::Asset& zone, int64_t a, int64_t b) const;
  HvacResult HvacFor(std::string level, const std::vector<const model::Asset*>& zones) const;
  void AddHvacRows(const HvacResult& h);
  // The state series of the output of the asset's line (nullptr when its line has none).
  const calc::StepSeries* OutputState(const model::Asset& a) const;
  const calc::StepSeries* OutputReason(const model::Asset& a) const;
  MotorDowns MotorDown(const model::Asset& m, int64_t a, int64_t b) const;
  Measure Downtime(const std::vector<const model::Asset*>& assets, int64_t a, int64_t b,
                   bool compressors_only) const;
  Measure LineOutput(const std::vector<const model::Line*>& lines,
                     const std::set<std::string>& assets, int64_t a, int64_t b, bool energy) const;
  Measure HeatingEnergy(const std::vector<const model::Asset*>& zones, int64_t a, int64_t b) const;

  const model::Plant& plant_;
  const KpiJobOptions& opt_;
  const SeriesSet& series_;
  int64_t from_, to_;
  const std::vector<KpiRow>& earlier_actuals_;  //!< kpi_actual rows of earlier runs before from
  KpiReport& report_;
  calc::StepSeries empty_;
  //! Confirmed faults per asset: (opened, closed).
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> repairs_;
};

// ---- OEE ----------------------------------------------------------------------------------

void Computation::AddOeeRows(const calc::OeeResult& o, int64_t a, int64_t b,
                             const std::string& site, const std::string& area,
                             const std::string& line, const std::string& asset,
                             const std::string& shift) {
  const std::optional<double> cov = o.coverage;
  std::vector<KpiRow> rows = {
      Row(a, b, "oee", o.oee, "1", cov),
      Row(a, b, "availability", o.availability, "1", cov),
      Row(a, b, "performance", o.performance, "1", cov),
      Row(a, b, "quality", o.quality, "1", cov),
      Row(a, b, "planned_s", o.planned_s, "s", cov),
      Row(a, b, "run_s", o.run_s, "s", cov),
      Row(a, b, "loss_jam_s", o.loss_jam_s, "s", cov),
      Row(a, b, "loss_electrical_s", o.loss_electrical_s, "s", cov),
      Row(a, b, "loss_material_s", o.loss_material_s, "s", cov),
      Row(a, b, "loss_other_down_s", o.loss_other_down_s, "s", cov),
      Row(a, b, "loss_performance_s", o.loss_performance_s, "s", cov),
      Row(a, b, "loss_quality_s", o.loss_quality_s, "s", cov),
      Row(a, b, "good_count", o.good, "pcs", cov),
      Row(a, b, "reject_count", o.reject, "pcs", cov),
  };
  rows[0].detail = json{{"shift_s", o.shift_s},
                        {"no_data_s", o.no_data_s},
                        {"idle_s", o.idle_s},
                        {"planned_stop_s", o.planned_stop_s},
                        {"planned_s", o.planned_s},
                        {"run_s", o.run_s},
                        {"down_s", o.down_s},
                        {"total", o.total},
                        {"counted_across_gap", o.counted_across_gap},
                        {"counter_resets", o.counter_resets}}
                       .dump();
  for (KpiRow& r : rows) {
    r.site = site;
    r.area = area;
    r.line = line;
    r.asset = asset;
    r.shift = shift;
    Add(std::move(r));
  }
}

void Computation::Oee(const std::map<std::string, std::vector<calc::ShiftInstance>>& shifts) {
  for (const model::Site& site : plant_.sites) {
    for (const model::Area& area : site.areas) {
      for (const model::Line& line : area.lines) {
        if (!line.production) {
          report_.lines_without_production.push_back(line.id);
          continue;
        }
        auto cal = shifts.find(site.id);
        if (cal == shifts.end()) continue;  // warned when the calendar failed
        const model::Asset* out = plant_.FindAsset(line.production->output);
        if (out == nullptr) continue;  // the loader checks it; defensive
        calc::OeeInputs in{&OrEmpty(S(*out, "state")), S(*out, "down_reason"),
                           &OrEmpty(S(*out, "good_count")), &OrEmpty(S(*out, "reject_count")),
                           Seconds(line.production->ideal_cycle_time.count())};
        std::map<std::string, std::vector<calc::OeeResult>> by_shift;
        std::vector<calc::OeeResult> all;
        for (const calc::ShiftInstance& inst : cal->second) {
          Result<calc::OeeResult> r = calc::ComputeOee(in, inst.start_us, inst.end_us);
          if (!r.ok()) {
            report_.warnings.push_back("OEE of " + line.id + " shift " + inst.shift + " at " +
                                       Iso(inst.start_us) + ": " + r.status().message());
            continue;
          }
          report_.oee_shifts.push_back({site.id, area.id, line.id, out->id, inst.shift, *r});
          AddOeeRows(*r, inst.start_us, inst.end_us, site.id, area.id, line.id, out->id,
                     inst.shift);
          by_shift[inst.shift].push_back(*r);
          all.push_back(*r);
        }
        for (const auto& [shift, parts] : by_shift) {
          const calc::OeeResult c = calc::CombineOee(parts);
          report_.oee.push_back({site.id, area.id, line.id, out->id, shift, parts.size(), c});
          AddOeeRows(c, from_, to_, site.id, area.id, line.id, out->id, shift);
        }
        const calc::OeeResult c = calc::CombineOee(all);
        report_.oee.push_back({site.id, area.id, line.id, out->id, "", all.size(), c});
        AddOeeRows(c, from_, to_, site.id, area.id, line.id, out->id, "");
      }
    }
  }
}

// ---- Reliability --------------------------------------------------------------------------

const calc::StepSeries* Computation::OutputState(const model::Asset& a) const {
  const model::Line* line = plant_.FindLine(a.line);
  if (line == nullptr || !line->production) return nullptr;
  const model::Asset* out = plant_.FindAsset(line->production->output);
  return out != nullptr ? S(*out, "state") : nullptr;
}

const calc::StepSeries* Computation::OutputReason(const model::Asset& a) const {
  const model::Line* line = plant_.FindLine(a.line);
  if (line == nullptr || !line->production) return nullptr;
  const model::Asset* out = plant_.FindAsset(line->production->output);
  return out != nullptr ? S(*out, "down_reason") : nullptr;
}

// The running flag cannot tell a failure from a stop on command; the line's output can tell
// whether the machine was needed: running 0 while the output conveyor runs (2) or is down for
// anything but a planned stop (0, reason != 4) is down. A down episode lasts from its first
// down moment until the motor runs again (idle time and no-data gaps inside do not end it), so a
// seized bearing that stays failed over nights and weekends is one failure; its down time is
// only the time the line was to produce. An episode whose onset lies before the window, or with
// no running seen since the start of the look-back (the onset cannot be known), is not a
// failure of the window.
MotorDowns Computation::MotorDown(const model::Asset& m, int64_t a, int64_t b) const {
  MotorDowns d;
  std::vector<std::pair<int64_t, int64_t>> down;
  std::vector<calc::DownEpisode> episodes;  // unclipped
  const calc::StepSeries* running = S(m, "running");
  const calc::StepSeries* out_state = OutputState(m);
  if (running != nullptr && out_state != nullptr) {
    struct Open {
      int64_t start = 0, last_end = 0;
      bool onset_known = false;
    };
    std::optional<Open> open;
    bool seen_running = false;
    const std::array<const calc::StepSeries*, 3> series = {running, out_state, OutputReason(m)};
    for (const calc::MultiSegment& seg : calc::Overlay(series, a - opt_.lookback_us, b)) {
      const std::optional<double>& r = seg.values[0];
      if (!r) continue;  // no data: ends nothing
      if (*r != 0) {
        seen_running = true;
        if (open) {
          episodes.push_back(
              {open->start, open->last_end, open->start < a || !open->onset_known, false});
          open.reset();
        }
        continue;
      }
      const std::optional<double>& st = seg.values[1];
      const std::optional<double>& reason = seg.values[2];
      const bool to_produce =
          st && (*st == 2 || (*st == 0 && !(reason && *reason == kReasonPlanned)));
      if (!to_produce) continue;
      if (!open) open = Open{seg.start_us, seg.end_us, seen_running};
      open->last_end = seg.end_us;
      const int64_t lo = std::max(seg.start_us, a), hi = std::min(seg.end_us, b);
      if (hi > lo) {
        down.emplace_back(lo, hi);
        d.signal_down_s += Seconds(hi - lo);
      }
    }
    if (open) {
      episodes.push_back(
          {open->start, open->last_end, open->start < a || !open->onset_known, true});
    }
  }
  if (auto it = repairs_.find(m.id); it != repairs_.end()) {
    for (const auto& [opened, closed] : it->second) {
      if (closed <= a || opened >= b) {
        if (!(opened == closed && opened >= a && opened < b)) continue;
      }
      episodes.push_back({opened, closed, opened<a, closed> b});
      const int64_t lo = std::max(opened, a), hi = std::min(closed, b);
      if (hi > lo) down.emplace_back(lo, hi);
    }
  }
  // Down time: the union of the intervals.
  std::sort(down.begin(), down.end());
  for (const auto& iv : down) {
    if (!d.down.empty() && iv.first <= d.down.back().second) {
      d.down.back().second = std::max(d.down.back().second, iv.second);
    } else {
      d.down.push_back(iv);
    }
  }
  for (const auto& [lo, hi] : d.down) d.down_s += Seconds(hi - lo);
  // Episodes: overlapping ones (a work order for a stop the flag shows) are one failure.
  std::sort(episodes.begin(), episodes.end(),
            [](const calc::DownEpisode& x, const calc::DownEpisode& y) {
              return x.start_us < y.start_us;
            });
  std::vector<calc::DownEpisode> merged;
  for (const calc::DownEpisode& e : episodes) {
    if (!merged.empty() && e.start_us <= merged.back().end_us) {
      calc::DownEpisode& last = merged.back();
      last.end_us = std::max(last.end_us, e.end_us);
      last.open_at_end = last.open_at_end || e.open_at_end;
    } else {
      merged.push_back(e);
    }
  }
  for (calc::DownEpisode e : merged) {
    if (e.start_us >= b || (e.end_us <= a && e.start_us < a)) continue;
    if (!e.started_before) {
      ++d.failures;
      if (!e.open_at_end && e.end_us <= b) {
        ++d.repairs;
        d.repaired_down_s += Seconds(e.end_us - e.start_us);
      }
    }
    e.start_us = std::max(e.start_us, a);
    e.end_us = std::clamp(e.end_us, e.start_us, b);
    d.episodes.push_back(e);
  }
  return d;
}

void Computation::Reliability() {
  for (const model::Asset* a : plant_.AllAssets()) {
    std::string source = "state";
    calc::ReliabilityInputs in;
    bool motor = false;
    if (IsA(plant_, *a, "conveyor") && a->HasSignal("state")) {
      in = calc::ConveyorReliability(S(*a, "state"), S(*a, "down_reason"));
    } else if (IsA(plant_, *a, "compressor") && a->HasSignal("state")) {
      in = calc::CompressorReliability(S(*a, "state"));
    } else if ((IsA(plant_, *a, "motor") || IsA(plant_, *a, "pump")) && a->HasSignal("running")) {
      in = calc::RunningFlagReliability(S(*a, "running"));
      motor = true;
      source = OutputState(*a) != nullptr ? "running+work_orders" : "work_orders";
    } else {
      continue;
    }
    auto compute = [&](int64_t s, int64_t e) -> Result<calc::ReliabilityResult> {
      WEFT_ASSIGN_OR_RETURN(calc::ReliabilityResult r, calc::ComputeReliability(in, s, e));
      if (!motor) return r;
      const MotorDowns m = MotorDown(*a, s, e);
      r.down_s = m.down_s;
      r.stopped_s = std::max(0.0, r.stopped_s - m.signal_down_s);
      r.failures = m.failures;
      r.repairs = m.repairs;
      r.repaired_down_s = m.repaired_down_s;
      r.episodes = m.episodes;
      r.mtbf_s = m.failures > 0 ? std::optional<double>(r.run_s / m.failures) : std::nullopt;
      r.mttr_s =
          m.repairs > 0 ? std::optional<double>(m.repaired_down_s / m.repairs) : std::nullopt;
      return r;
    };
    Result<calc::ReliabilityResult> period = compute(from_, to_);
    if (!period.ok()) {
      report_.warnings.push_back("reliability of " + a->id + ": " + period.status().message());
      continue;
    }
    report_.reliability.push_back({a->site, a->area, a->line, a->id, a->type, source, *period});
    auto place = [&](KpiRow r) {
      r.site = a->site;
      r.area = a->area;
      r.line = a->line;
      r.asset = a->id;
      return r;
    };
    const calc::ReliabilityResult& p = *period;
    KpiRow down = Row(from_, to_, "downtime_h", p.down_s / 3600, "h", p.coverage);
    down.detail = json{{"source", source},         {"run_s", p.run_s},
                       {"down_s", p.down_s},       {"stopped_s", p.stopped_s},
                       {"no_data_s", p.no_data_s}, {"failures", p.failures},
                       {"repairs", p.repairs},     {"repaired_down_s", p.repaired_down_s}}
                      .dump();
    Add(place(std::move(down)));
    Add(place(Row(from_, to_, "failures", p.failures, "1", p.coverage)));
    Add(place(Row(from_, to_, "mtbf_h", Scaled(p.mtbf_s, 1.0 / 3600), "h", p.coverage)));
    Add(place(Row(from_, to_, "mttr_h", Scaled(p.mttr_s, 1.0 / 3600), "h", p.coverage)));
    Add(place(Row(from_, to_, "run_h", p.run_s / 3600, "h", p.coverage)));
    for (const auto& [s, e] : DaysOf(from_, to_)) {
      Result<calc::ReliabilityResult> d = compute(s, e);
      if (!d.ok()) continue;
      Add(place(Row(s, e, "downtime_h", d->down_s / 3600, "h", d->coverage)));
      Add(place(Row(s, e, "failures", d->failures, "1", d->coverage)));
    }
  }
}

// ---- Energy per unit ----------------------------------------------------------------------

void Computation::Energy() {
  for (const model::Site& site : plant_.sites) {
    for (const model::Area& area : site.areas) {
      for (const model::Line& line : area.lines) {
        if (!line.production) continue;
        const model::Asset* out = plant_.FindAsset(line.production->output);
        if (out == nullptr) continue;
        std::vector<calc::EnergyMeter> meters;
        for (const model::Asset& a : line.assets) {
          for (const model::Signal& s : a.signals) {
            if (HasEnergyQuantity(s))
              meters.push_back({a.id, series_.Find(a.id, s.spec.name), "kWh"});
          }
        }
        const calc::StepSeries& good = OrEmpty(S(*out, "good_count"));
        auto place = [&](KpiRow r) {
          r.site = site.id;
          r.area = area.id;
          r.line = line.id;
          return r;
        };
        auto rows = [&](const calc::EnergyPerUnit& e, int64_t s, int64_t t, bool detail) {
          const std::optional<double> cov = good.TimeSpent(s, t).coverage();
          KpiRow epu = Row(s, t, "energy_per_unit", e.kwh_per_unit, "kWh/unit", cov);
          if (detail) {
            json by_asset = json::object();
            for (const auto& [asset, kwh] : e.kwh_by_asset) by_asset[asset] = kwh;
            epu.detail = json{{"kwh_by_asset", by_asset},
                              {"kwh_counted_across_gap", e.kwh_counted_across_gap},
                              {"units_counted_across_gap", e.units_counted_across_gap},
                              {"counter_resets", e.counter_resets},
                              {"meters_without_data", e.meters_without_data}}
                             .dump();
          }
          Add(place(std::move(epu)));
          Add(place(Row(s, t, "energy_kwh", e.energy_kwh, "kWh", cov)));
          Add(place(Row(s, t, "good_units", e.good_units, "pcs", cov)));
        };
        Result<calc::EnergyPerUnit> period = calc::ComputeEnergyPerUnit(meters, good, from_, to_);
        if (!period.ok()) {
          report_.warnings.push_back("energy per unit of " + line.id + ": " +
                                     period.status().message());
          continue;
        }
        report_.energy.push_back({site.id, area.id, line.id, *period});
        rows(*period, from_, to_, true);
        for (const auto& [s, t] : DaysOf(from_, to_)) {
          Result<calc::EnergyPerUnit> d = calc::ComputeEnergyPerUnit(meters, good, s, t);
          if (d.ok()) rows(*d, s, t, false);
        }
      }
    }
  }
}

// ---- Technician time ----------------------------------------------------------------------

void Computation::Technician(const std::vector<AlertEvent>& events,
                             const std::vector<api::WorkOrder>& work_orders) {
  std::vector<const model::UseCase*> pdm;
  for (const model::UseCase& uc : plant_.use_cases) {
    if (uc.category == model::UseCaseCategory::kPredictiveMaintenance) pdm.push_back(&uc);
  }
  auto use_case_of = [&](std::string_view asset) -> std::string {
    const model::Asset* a = plant_.FindAsset(asset);
    if (a == nullptr) return "";
    for (const model::UseCase* uc : pdm) {
      if (InUseCaseAssets(plant_, *uc, *a)) return uc->id;
    }
    return "";
  };
  TechnicianSummary& t = report_.technician;
  t.alert_events = events.size();
  std::vector<calc::TechnicianAlert> alerts;
  for (calc::TechnicianAlert& a : MergeAlerts(events, opt_.alert_merge_us, use_case_of)) {
    if (a.use_case.empty()) {
      ++t.alerts_outside_scope;
    } else {
      alerts.push_back(std::move(a));
    }
  }
  std::set<std::string> pdm_assets;
  for (const model::Asset* a : plant_.AllAssets()) {
    if (!use_case_of(a->id).empty()) pdm_assets.insert(a->id);
  }
  std::vector<calc::TechnicianWorkOrder> orders;
  for (const api::WorkOrder& w : work_orders) {
    if (w.event_us < from_ || w.event_us >= to_ || pdm_assets.count(w.asset) == 0) continue;
    orders.push_back({w.id, w.alert_id, w.asset, w.event_us, w.outcome, w.minutes});
  }
  t.work_orders = orders.size();
  calc::TechnicianOptions o;
  if (plant_.economics.reactive_minutes_per_failure) {
    o.reactive_minutes_default = *plant_.economics.reactive_minutes_per_failure;
  } else if (!pdm.empty()) {
    report_.warnings.push_back(
        "economics.reactive_minutes_per_failure is not set: confirmed alerts save nothing "
        "against a reactive baseline of 0 minutes (unless a use case sets its own)");
  }
  for (const model::UseCase* uc : pdm) {
    if (std::optional<double> m = plant_.ReactiveMinutesPerFailure(*uc)) {
      o.reactive_minutes_by_use_case[uc->id] = *m;
    }
  }
  o.labour_rate_per_hour = plant_.economics.labour_rate_per_hour;
  o.link_window_us = opt_.link_window_us;
  Result<calc::TechnicianReport> r = calc::TechnicianTimeSaved(alerts, orders, o);
  if (!r.ok()) {
    report_.warnings.push_back("technician time: " + r.status().message());
    return;
  }
  t.report = *r;
  const std::string currency = plant_.economics.currency;
  auto rows = [&](const calc::TechnicianTally& x, const std::function<void(KpiRow&)>& place,
                  bool detail) {
    std::vector<KpiRow> out = {
        Row(from_, to_, "technician_alerts", static_cast<double>(x.alerts), "1", std::nullopt),
        Row(from_, to_, "technician_confirmed", static_cast<double>(x.confirmed), "1",
            std::nullopt),
        Row(from_, to_, "technician_false_alarms", static_cast<double>(x.false_alarms), "1",
            std::nullopt),
        Row(from_, to_, "technician_unanswered", static_cast<double>(x.unanswered), "1",
            std::nullopt),
        Row(from_, to_, "technician_minutes_saved", x.minutes_saved, "min", std::nullopt),
        Row(from_, to_, "technician_minutes_saved_per_alert", x.minutes_saved_per_alert, "min",
            std::nullopt),
        Row(from_, to_, "technician_value", x.value, currency, std::nullopt),
    };
    if (detail) {
      out[4].detail = json{{"minutes_spent", x.minutes_spent},
                           {"linked", x.linked},
                           {"alert_events", t.alert_events},
                           {"alerts_outside_scope", t.alerts_outside_scope},
                           {"orphan_work_orders", r->orphan_work_orders.size()}}
                          .dump();
    }
    for (KpiRow& row : out) {
      place(row);
      Add(std::move(row));
    }
  };
  rows(
      r->total, [](KpiRow&) {}, true);
  for (const model::UseCase* uc : pdm) {
    auto it = r->by_use_case.find(uc->id);
    const calc::TechnicianTally tally =
        it == r->by_use_case.end() ? calc::TechnicianTally{} : it->second;
    rows(
        tally, [&](KpiRow& row) { row.use_case = uc->id; }, false);
  }
  for (const auto& [asset, tally] : r->by_asset) {
    const model::Asset* a = plant_.FindAsset(asset);
    KpiRow row =
        Row(from_, to_, "technician_minutes_saved", tally.minutes_saved, "min", std::nullopt);
    row.asset = asset;
    if (a != nullptr) {
      row.site = a->site;
      row.area = a->area;
      row.line = a->line;
    }
    row.use_case = use_case_of(asset);
    Add(std::move(row));
  }
}

// ---- HVAC ---------------------------------------------------------------------------------

Computation::ZoneDay Computation::ZoneDayOf(const model::Asset& zone, int64_t a, int64_t b) const {
  ZoneDay d;
  d.day_s = Seconds(b - a);
  if (const calc::StepSeries* e = S(zone, "heat_pump_energy")) {
    const calc::CounterIncrease inc = e->Increase(a, b);
    d.energy_data = inc.has_data;
    d.kwh = inc.increase;
    d.energy_coverage = e->TimeSpent(a, b).coverage().value_or(0);
  }
  if (const calc::StepSeries* t = S(zone, "outdoor_temp")) {
    // The points from the last one at or before `a` (it holds into the day) to `b`.
    const std::vector<calc::Point>& pts = t->points();
    auto first = std::upper_bound(pts.begin(), pts.end(), a,
                                  [](int64_t v, const calc::Point& p) { return v < p.ts_us; });
    if (first != pts.begin()) --first;
    std::vector<calc::TemperaturePoint> temps;
    for (auto it = first; it != pts.end() && it->ts_us < b; ++it) {
      temps.push_back({it->ts_us, it->value});
    }
    Result<calc::DegreeHours> dh =
        calc::HeatingDegreeHours(temps, a, b, opt_.hdd_balance_c, t->stale_after_us());
    if (dh.ok()) {
      d.temp_coverage = dh->coverage;
      if (dh->coverage > 0) d.hdd = dh->degree_hours / 24 / dh->coverage;
    }
  }
  if (const calc::StepSeries* o = S(zone, "occupancy")) {
    const calc::TimeByValue spent = o->TimeSpent(a, b);
    double person_us = 0;
    for (const auto& [v, us] : spent.by_value_us) person_us += v * static_cast<double>(us);
    const double cov = spent.coverage().value_or(0);
    if (cov > 0) d.occupancy = person_us / 3.6e9 / cov;
  }
  if (const calc::StepSeries* m = S(zone, "control_mode")) {
    d.remote_s = Seconds(m->TimeSpent(a, b).Of(kControlModeRemote));
  }
  return d;
}

HvacResult Computation::HvacFor(std::string level,
                                const std::vector<const model::Asset*>& zones) const {
  HvacResult h;
  h.level = std::move(level);
  bool occupancy_everywhere = !zones.empty();
  for (const model::Asset* z : zones) {
    if (S(*z, "occupancy") == nullptr) occupancy_everywhere = false;
  }
  std::vector<calc::BaselinePeriod> periods;
  std::set<double> occupancy_values;
  for (const auto& [a, b] : DaysOf(from_, to_)) {
    ++h.days;
    double kwh = 0, hdd = 0, occupancy = 0, remote_s = 0, zone_s = 0;
    bool ok = true;
    for (const model::Asset* z : zones) {
      const ZoneDay d = ZoneDayOf(*z, a, b);
      if (!d.energy_data || d.energy_coverage < opt_.min_day_coverage ||
          d.temp_coverage < opt_.min_day_coverage) {
        ok = false;
        break;
      }
      kwh += d.kwh;
      hdd += d.hdd;
      occupancy += d.occupancy.value_or(0);
      remote_s += d.remote_s;
      zone_s += d.day_s;
    }
    if (!ok || zones.empty()) {
      ++h.excluded_days;
      continue;
    }
    calc::BaselinePeriod p;
    p.start_us = a;
    p.end_us = b;
    p.energy_kwh = kwh;
    p.hdd = hdd / static_cast<double>(zones.size());
    p.occupancy = occupancy;
    p.optimised = zone_s > 0 && remote_s > zone_s / 2;
    if (p.optimised) ++h.optimised_days;
    occupancy_values.insert(occupancy);
    periods.push_back(p);
  }
  calc::BaselineOptions o;
  o.granularity = calc::Granularity::kDaily;
  o.energy_price_per_kwh = plant_.economics.energy_price_per_kwh;
  o.grid_carbon_kg_per_kwh = plant_.economics.grid_carbon_kg_per_kwh;
  o.use_occupancy = occupancy_everywhere && occupancy_values.size() > 1;
  Result<calc::BaselineReport> r = calc::BaselineSavings(periods, o);
  if (!r.ok() && o.use_occupancy) {
    o.use_occupancy = false;
    r = calc::BaselineSavings(periods, o);
  }
  h.use_occupancy = o.use_occupancy;
  h.periods = periods;
  if (r.ok()) {
    h.report = *r;
  } else {
    h.error = r.status().message();
  }
  return h;
}

void Computation::AddHvacRows(const HvacResult& h) {
  auto place = [&](KpiRow r) {
    r.site = h.site;
    r.area = h.area;
    r.line = h.line;
    r.asset = h.asset;
    r.use_case = h.use_case;
    return r;
  };
  KpiRow cv = Row(from_, to_, "hvac_baseline_cv_rmse", std::nullopt, "%", std::nullopt);
  json detail{{"level", h.level},
              {"days", h.days},
              {"optimised_days", h.optimised_days},
              {"excluded_days", h.excluded_days},
              {"use_occupancy", h.use_occupancy}};
  if (!h.report) {
    detail["error"] = h.error;
    cv.detail = detail.dump();
    Add(place(std::move(cv)));
    return;
  }
  const calc::BaselineFit& f = h.report->fit;
  cv.value = Finite(f.cv_rmse_pct);
  detail["fit"] = json{{"b0", f.b0},
                       {"b1", f.b1},
                       {"b2", f.b2},
                       {"n", f.n},
                       {"p", f.p},
                       {"mean_kwh", f.mean_kwh},
                       {"rmse_kwh", f.rmse_kwh},
                       {"r2", Nullable(f.r2)},
                       {"cv_rmse_pct", Nullable(f.cv_rmse_pct)},
                       {"nmbe_pct", Nullable(f.nmbe_pct)},
                       {"rho", f.rho},
                       {"cv_rmse_limit_pct", f.cv_rmse_limit_pct},
                       {"nmbe_limit_pct", f.nmbe_limit_pct},
                       {"meets_criteria", f.meets_criteria},
                       {"criteria", f.criteria}};
  const calc::SavingsTotal& t = h.report->total;
  detail["savings_fraction"] = Nullable(t.savings_fraction);
  detail["fractional_savings_uncertainty"] = Nullable(t.fractional_savings_uncertainty);
  cv.detail = detail.dump();
  Add(place(std::move(cv)));
  const std::string currency = plant_.economics.currency;
  Add(place(Row(from_, to_, "hvac_optimised_days", static_cast<double>(h.optimised_days), "d",
                std::nullopt)));
  Add(place(Row(from_, to_, "hvac_energy_saved_kwh", t.savings_kwh, "kWh", std::nullopt)));
  Add(place(Row(from_, to_, "hvac_carbon_saved_kg", t.carbon_kg, "kg", std::nullopt)));
  Add(place(Row(from_, to_, "hvac_savings_value", t.money, currency, std::nullopt)));
  Add(place(Row(from_, to_, "hvac_baseline_kwh", t.baseline_kwh, "kWh", std::nullopt)));
  Add(place(Row(from_, to_, "hvac_actual_kwh", t.actual_kwh, "kWh", std::nullopt)));
  for (const calc::SavingsPeriod& p : h.report->periods) {
    Add(place(
        Row(p.start_us, p.end_us, "hvac_energy_saved_kwh", p.savings_kwh, "kWh", std::nullopt)));
    Add(place(Row(p.start_us, p.end_us, "hvac_carbon_saved_kg", p.carbon_kg, "kg", std::nullopt)));
    Add(place(Row(p.start_us, p.end_us, "hvac_baseline_kwh", p.baseline_kwh, "kWh", std::nullopt)));
    Add(place(Row(p.start_us, p.end_us, "hvac_actual_kwh", p.actual_kwh, "kWh", std::nullopt)));
  }
}

void Computation::Hvac() {
  std::map<std::string, std::vector<const model::Asset*>> by_site;
  for (const model::Asset* a : plant_.AllAssets()) {
    if (!IsA(plant_, *a, "hvac_zone")) continue;
    by_site[a->site].push_back(a);
    HvacResult h = HvacFor("zone", {a});
    h.site = a->site;
    h.area = a->area;
    h.line = a->line;
    h.asset = a->id;
    AddHvacRows(h);
    report_.hvac.push_back(std::move(h));
  }
  for (const auto& [site, zones] : by_site) {
    HvacResult h = HvacFor("site", zones);
    h.site = site;
    AddHvacRows(h);
    report_.hvac.push_back(std::move(h));
  }
  for (const model::UseCase& uc : plant_.use_cases) {
    if (uc.category != model::UseCaseCategory::kHvacOptimization) continue;
    std::vector<const model::Asset*> zones;
    for (const model::Asset* a : plant_.AllAssets()) {
      if (IsA(plant_, *a, "hvac_zone") && uc.scope.Contains(*a)) zones.push_back(a);
    }
    HvacResult h = HvacFor("use_case", zones);
    h.use_case = uc.id;
    AddHvacRows(h);
    report_.hvac.push_back(std::move(h));
  }
}

// ---- Actual vs projected ------------------------------------------------------------------

Measure Computation::Downtime(const std::vector<const model::Asset*>& assets, int64_t a, int64_t b,
                              bool compressors_only) const {
  Measure m;
  double down_s = 0, coverage = 0;
  size_t n = 0;
  json per_asset = json::object();
  for (const model::Asset* x : assets) {
    const bool conveyor = IsA(plant_, *x, "conveyor");
    const bool compressor = IsA(plant_, *x, "compressor");
    const bool motor = IsA(plant_, *x, "motor") || IsA(plant_, *x, "pump");
    if (!compressors_only && !conveyor && !compressor && motor && x->HasSignal("running")) {
      // Motors and pumps: running 0 while the line is to produce, and confirmed faults.
      ++n;
      const calc::StepSeries* running = S(*x, "running");
      coverage += running != nullptr ? running->TimeSpent(a, b).coverage().value_or(0) : 0;
      const double asset_down = MotorDown(*x, a, b).down_s;
      down_s += asset_down;
      per_asset[x->id] = asset_down / 3600;
      continue;
    }
    if (compressors_only ? !compressor : !(conveyor || compressor)) continue;
    if (!x->HasSignal("state")) continue;
    ++n;
    const calc::StepSeries* state = S(*x, "state");
    if (state == nullptr) {
      per_asset[x->id] = nullptr;
      continue;
    }
    double asset_down = 0;
    if (conveyor) {
      // Failure time: state 0 with a reason other than material shortage or planned stop.
      double covered = 0;
      std::array<const calc::StepSeries*, 2> s = {state, S(*x, "down_reason")};
      for (const calc::MultiSegment& seg : calc::Overlay(s, a, b)) {
        const std::optional<double>& st = seg.values[0];
        if (!st || (*st != 0 && *st != 1 && *st != 2)) continue;
        covered += Seconds(seg.duration_us());
        const std::optional<double>& reason = seg.values[1];
        if (*st == 0 &&
            (!reason || (*reason != kReasonMaterialShortage && *reason != kReasonPlanned))) {
          asset_down += Seconds(seg.duration_us());
        }
      }
      coverage += covered / Seconds(b - a);
    } else {
      const calc::TimeByValue spent = state->TimeSpent(a, b);
      asset_down = Seconds(spent.Of(kCompressorFault));
      coverage += spent.coverage().value_or(0);
    }
    down_s += asset_down;
    per_asset[x->id] = asset_down / 3600;
  }
  if (n == 0) return m;
  m.coverage = coverage / static_cast<double>(n);
  m.value = down_s / 3600;
  m.detail = json{{"down_h_by_asset", per_asset}};
  return m;
}

Measure Computation::LineOutput(const std::vector<const model::Line*>& lines,
                                const std::set<std::string>& assets, int64_t a, int64_t b,
                                bool energy) const {
  Measure m;
  double kwh = 0, good = 0, reject = 0, coverage = 0;
  json by_asset = json::object();
  for (const model::Line* line : lines) {
    const model::Asset* out = plant_.FindAsset(line->production->output);
    if (out == nullptr) continue;
    const calc::StepSeries& g = OrEmpty(S(*out, "good_count"));
    coverage += g.TimeSpent(a, b).coverage().value_or(0);
    if (energy) {
      std::vector<calc::EnergyMeter> meters;
      for (const model::Asset& x : line->assets) {
        if (assets.count(x.id) == 0) continue;  // not one of the use case's asset types
        for (const model::Signal& s : x.signals) {
          if (HasEnergyQuantity(s))
            meters.push_back({x.id, series_.Find(x.id, s.spec.name), "kWh"});
        }
      }
      Result<calc::EnergyPerUnit> e = calc::ComputeEnergyPerUnit(meters, g, a, b);
      if (!e.ok()) continue;
      kwh += e->energy_kwh;
      good += e->good_units;
      for (const auto& [asset, k] : e->kwh_by_asset) by_asset[asset] = k;
    } else {
      good += g.Increase(a, b).increase;
      reject += OrEmpty(S(*out, "reject_count")).Increase(a, b).increase;
    }
  }
  if (lines.empty()) return m;
  m.coverage = coverage / static_cast<double>(lines.size());
  if (energy) {
    if (good > 0) m.value = kwh / good;
    m.detail = json{{"energy_kwh", kwh}, {"good_units", good}, {"kwh_by_asset", by_asset}};
  } else {
    if (good + reject > 0) m.value = good / (good + reject);
    m.detail = json{{"good", good}, {"reject", reject}};
  }
  return m;
}

Measure Computation::HeatingEnergy(const std::vector<const model::Asset*>& zones, int64_t a,
                                   int64_t b) const {
  Measure m;
  if (zones.empty()) return m;
  double kwh = 0, coverage = 0;
  for (const model::Asset* z : zones) {
    const ZoneDay d = ZoneDayOf(*z, a, b);
    kwh += d.kwh;
    coverage += d.energy_coverage;
  }
  m.coverage = coverage / static_cast<double>(zones.size());
  m.value = kwh;
  m.detail = json{{"energy_kwh", kwh}};
  return m;
}

void Computation::UseCases() {
  const std::string currency = plant_.economics.currency;
  for (const model::UseCase& uc : plant_.use_cases) {
    UseCaseResult u;
    u.id = uc.id;
    u.name = uc.name;
    u.category = std::string(model::UseCaseCategoryName(uc.category));
    u.kpi = uc.kpi.name;
    u.unit = uc.kpi.unit;
    // The use case's assets: its scope (or the plant), narrowed to the asset types it requires.
    std::vector<const model::Asset*> assets;
    std::set<std::string> asset_ids, lines_seen;
    std::vector<const model::Line*> production_lines;
    std::vector<const model::Asset*> zones;
    for (const model::Asset* a : plant_.AllAssets()) {
      if (!InUseCaseAssets(plant_, uc, *a)) continue;
      assets.push_back(a);
      asset_ids.insert(a->id);
      u.assets.push_back(a->id);
      if (IsA(plant_, *a, "hvac_zone")) zones.push_back(a);
      if (lines_seen.insert(a->line).second) {
        const model::Line* l = plant_.FindLine(a->line);
        if (l != nullptr && l->production) production_lines.push_back(l);
      }
    }
    const UseCasePlace place_of = PlaceOfUseCase(plant_, uc);
    u.site = place_of.site;
    u.area = place_of.area;
    u.line = place_of.line;

    // Which measure, and the factor from its base unit to the KPI's (numerator) unit.
    std::function<Measure(int64_t, int64_t)> measure;
    std::string base_unit;
    const std::string num = Numerator(uc.kpi.unit);
    if (uc.kpi.name == "unplanned_downtime" || uc.kpi.name == "compressed_air_outages") {
      const bool compressors = uc.kpi.name == "compressed_air_outages";
      measure = [this, assets, compressors](int64_t a, int64_t b) {
        return Downtime(assets, a, b, compressors);
      };
      base_unit = "h";
    } else if (uc.kpi.name == "energy_per_unit") {
      measure = [this, production_lines, asset_ids](int64_t a, int64_t b) {
        return LineOutput(production_lines, asset_ids, a, b, true);
      };
      base_unit = "kWh";
    } else if (uc.kpi.name == "heating_energy") {
      measure = [this, zones](int64_t a, int64_t b) { return HeatingEnergy(zones, a, b); };
      base_unit = "kWh";
    } else if (uc.kpi.name == "first_pass_yield") {
      measure = [this, production_lines, asset_ids](int64_t a, int64_t b) {
        return LineOutput(production_lines, asset_ids, a, b, false);
      };
      base_unit = "1";
    }
    std::optional<double> factor;
    if (!measure) {
      u.reason = "no measurement is defined for KPI '" + uc.kpi.name + "' (measured: " +
                 "unplanned_downtime, compressed_air_outages, energy_per_unit, heating_energy, "
                 "first_pass_yield)";
    } else if (base_unit == "1") {
      if (uc.kpi.unit == "%") {
        factor = 100;
      } else if (uc.kpi.unit == "1" || uc.kpi.unit.empty()) {
        factor = 1;
      }
    } else {
      factor = UnitFactor(base_unit, num);
    }
    if (measure && !factor) {
      u.reason = "the unit '" + uc.kpi.unit + "' of KPI '" + uc.kpi.name +
                 "' does not fit its measurement (in " + base_unit +
                 (base_unit == "h" || uc.kpi.name == "heating_energy" ? " per year" : "") + ")";
    }
    // Measured when the scope has something to measure over the period.
    if (measure && factor) {
      const Measure whole = measure(from_, to_);
      if (whole.coverage <= 0 && !whole.value) {
        u.reason = "the use case's scope has no asset that gives '" + uc.kpi.name +
                   "' (or no data for them in the period)";
      } else {
        u.measured = true;
        u.period_coverage = whole.coverage;
        if (whole.value) {
          u.period_actual =
              calc::AnnualiseKpi(*whole.value * *factor, from_, to_, whole.coverage, uc.kpi.unit);
        }
      }
    }

    calc::ProjectionSpec spec;
    spec.use_case = uc.id;
    spec.kpi = uc.kpi;
    spec.annual_value = uc.annual_value;
    if (uc.live_from) {
      spec.live_from_us = UnixMicros(TimePoint(std::chrono::sys_days(*uc.live_from)));
    }
    // An HVAC use case's days: baseline days (the optimiser did not run), optimised days with
    // the baseline model's prediction, and days the model left out.
    const HvacResult* hvac = nullptr;
    if (uc.kpi.name == "heating_energy") {
      for (const HvacResult& h : report_.hvac) {
        if (h.level == "use_case" && h.use_case == uc.id) hvac = &h;
      }
    }
    std::vector<calc::KpiMeasurement> ms;
    std::vector<json> details;
    for (const auto& [a, b] : DaysOf(from_, to_)) {
      calc::KpiMeasurement km{a, b, std::nullopt, 0};
      json d = json::object();
      d["kpi"] = uc.kpi.name;
      if (u.measured) {
        Measure x = measure(a, b);
        km.coverage = std::clamp(x.coverage, 0.0, 1.0);
        if (x.value) {
          d["measured"] = *x.value * *factor;
          km.kpi_actual = calc::AnnualiseKpi(*x.value * *factor, a, b, km.coverage, uc.kpi.unit);
        }
        for (auto& [k, v] : x.detail.items()) d[k] = v;
        if (hvac != nullptr) {
          const calc::BaselinePeriod* day = nullptr;
          for (const calc::BaselinePeriod& p : hvac->periods) {
            if (p.start_us == a) day = &p;
          }
          const calc::SavingsPeriod* saved = nullptr;
          if (hvac->report) {
            for (const calc::SavingsPeriod& p : hvac->report->periods) {
              if (p.start_us == a) saved = &p;
            }
          }
          if (day == nullptr) {
            d["basis"] = "excluded";  // too little data for the baseline model: not judged
          } else if (!day->optimised) {
            km.baseline_period = true;
            d["basis"] = "baseline_period";
          } else if (saved != nullptr && km.kpi_actual) {
            km.measured_baseline =
                calc::AnnualiseKpi(saved->baseline_kwh * *factor, a, b, km.coverage, uc.kpi.unit);
            km.measured_baseline_source = std::string(calc::kHvacBaselineModel);
            d["measured_baseline"] = Nullable(km.measured_baseline);
            d["baseline_source"] = km.measured_baseline_source;
            d["baseline_kwh"] = saved->baseline_kwh;
            d["savings_kwh"] = saved->savings_kwh;
          }
        }
      } else {
        d["not_measured"] = u.reason;
      }
      ms.push_back(km);
      details.push_back(std::move(d));
    }
    // The measurements the projection judges: the excluded days without their KPI, after the
    // kpi_actual rows of earlier runs before this period and before go-live (a lake baseline).
    std::vector<calc::KpiMeasurement> judged;
    if (spec.live_from_us) {
      const int64_t before = std::min(from_, *spec.live_from_us);
      std::vector<const KpiRow*> earlier;
      for (const KpiRow& r : earlier_actuals_) {
        if (r.use_case == uc.id && r.unit == uc.kpi.unit && r.period_end_us <= before) {
          earlier.push_back(&r);
        }
      }
      judged = MeasurementsFromRows(std::move(earlier));
    }
    const size_t earlier_count = judged.size();
    for (size_t i = 0; i < ms.size(); ++i) {
      calc::KpiMeasurement m = ms[i];
      if (details[i].value("basis", "") == "excluded") m.kpi_actual.reset();
      judged.push_back(std::move(m));
    }
    Result<std::vector<calc::ProjectionPoint>> points = calc::ProjectSeries(spec, judged);
    if (points.ok()) {
      points->erase(points->begin(), points->begin() + static_cast<std::ptrdiff_t>(earlier_count));
      u.earlier_rows = earlier_count;
    }
    auto place = [&](KpiRow r) {
      r.site = u.site;
      r.area = u.area;
      r.line = u.line;
      r.use_case = uc.id;
      return r;
    };
    for (size_t i = 0; i < ms.size(); ++i) {
      if (points.ok()) {
        const calc::ProjectionPoint& p = (*points)[i];
        if (!p.basis.empty()) details[i]["basis"] = p.basis;
        if (p.basis == calc::kLakeBaseline)
          details[i]["lake_baseline"] = Nullable(p.measured_baseline);
      }
      KpiRow actual = Row(ms[i].start_us, ms[i].end_us, "kpi_actual", ms[i].kpi_actual, uc.kpi.unit,
                          ms[i].coverage);
      actual.detail = details[i].dump();
      Add(place(std::move(actual)));
    }
    if (!points.ok()) {
      u.projection_error = points.status().message();
      report_.warnings.push_back("projection of " + uc.id + ": " + u.projection_error);
    } else {
      for (const calc::ProjectionPoint& p : *points) {
        Add(place(
            Row(p.start_us, p.end_us, "kpi_projected", p.kpi_projected, uc.kpi.unit, p.coverage)));
        Add(place(
            Row(p.start_us, p.end_us, "value_realised", p.value_realised, currency, p.coverage)));
        Add(place(
            Row(p.start_us, p.end_us, "value_projected", p.value_projected, currency, p.coverage)));
      }
      u.summary = calc::Summarise(*points);
      u.projected_improvement = calc::ProjectedImprovement(uc.kpi);
      u.points = std::move(*points);
    }
    report_.use_cases.push_back(std::move(u));
  }
}

// ---- What to read -------------------------------------------------------------------------

std::vector<SeriesRequest> Requests(const model::Plant& plant, const KpiJobOptions& opt) {
  std::map<std::pair<std::string, std::string>, SeriesRequest> want;
  auto add = [&](const model::Asset& a, const std::string& signal, const std::string& unit) {
    const model::Signal* s = a.FindSignal(signal);
    if (s == nullptr) return;  // not fitted: nothing to read
    const auto period = static_cast<double>(s->spec.period.count());
    const int64_t stale = std::max(opt.min_stale_after_us,
                                   static_cast<int64_t>(std::llround(opt.stale_periods * period)));
    want[{a.id, signal}] = SeriesRequest{a.id, signal, unit, stale};
  };
  for (const model::Site& site : plant.sites) {
    for (const model::Area& area : site.areas) {
      for (const model::Line& line : area.lines) {
        if (line.production) {
          if (const model::Asset* out = plant.FindAsset(line.production->output)) {
            for (const char* s : {"state", "down_reason", "good_count", "reject_count"}) {
              add(*out, s, "");
            }
          }
          for (const model::Asset& a : line.assets) {
            for (const model::Signal& s : a.signals) {
              if (HasEnergyQuantity(s)) add(a, s.spec.name, "kWh");
            }
          }
        }
        for (const model::Asset& a : line.assets) {
          if (plant.IsA(a.type, "conveyor")) {
            add(a, "state", "");
            add(a, "down_reason", "");
          } else if (plant.IsA(a.type, "compressor")) {
            add(a, "state", "");
          } else if (plant.IsA(a.type, "motor") || plant.IsA(a.type, "pump")) {
            add(a, "running", "");
          } else if (plant.IsA(a.type, "hvac_zone")) {
            add(a, "heat_pump_energy", "kWh");
            add(a, "outdoor_temp", "degC");
            add(a, "occupancy", "");
            add(a, "control_mode", "");
          }
        }
      }
    }
  }
  std::vector<SeriesRequest> out;
  for (auto& [key, r] : want) out.push_back(std::move(r));
  return out;
}

}  // namespace

UseCasePlace PlaceOfUseCase(const model::Plant& plant, const model::UseCase& use_case) {
  std::set<std::string> lines, sites;
  const model::Asset* first = nullptr;
  for (const model::Asset* a : plant.AllAssets()) {
    if (!use_case.scope.Contains(*a)) continue;
    if (first == nullptr) first = a;
    lines.insert(a->line);
    sites.insert(a->site);
  }
  if (first != nullptr && lines.size() == 1) return {first->site, first->area, first->line};
  if (sites.size() == 1) return {*sites.begin(), "", ""};
  return {};
}

KpiJob::KpiJob(std::string lake_root, const model::Plant* plant, const Clock* clock,
               KpiJobOptions options)
    : lake_root_(std::move(lake_root)),
      plant_(plant),
      clock_(clock),
      options_(std::move(options)) {}

Result<KpiReport> KpiJob::Compute(int64_t from_us, int64_t to_us) const {
  const auto started = std::chrono::steady_clock::now();
  if (from_us >= to_us) {
    return InvalidArgumentError("kpi: the period is empty: from " + Iso(from_us) +
                                " is not before to " + Iso(to_us));
  }
  if (to_us - from_us > kMaxPeriodUs) {
    return InvalidArgumentError("kpi: the period from " + Iso(from_us) + " to " + Iso(to_us) +
                                " is longer than 400 days; compute it in parts");
  }
  KpiReport report;
  report.from_us = from_us;
  report.to_us = to_us;
  report.currency = plant_->economics.currency;

  // Shift calendars, and how far the shifts that start in the period run.
  std::map<std::string, std::vector<calc::ShiftInstance>> shifts;
  int64_t read_to = to_us;
  for (const model::Site& site : plant_->sites) {
    Result<calc::ShiftCalendar> cal = calc::ShiftCalendar::ForSite(site, options_.zoneinfo_dir);
    Result<std::vector<calc::ShiftInstance>> starting =
        cal.ok() ? cal->Starting(from_us, to_us)
                 : Result<std::vector<calc::ShiftInstance>>(cal.status());
    if (!starting.ok()) {
      report.warnings.push_back("site " + site.id + ": no OEE: " + starting.status().message());
      continue;
    }
    for (const calc::ShiftInstance& s : *starting) read_to = std::max(read_to, s.end_us);
    shifts.emplace(site.id, std::move(*starting));
  }

  WEFT_ASSIGN_OR_RETURN(auto telemetry, OpenTable(lake_root_, LakeTableId::kTelemetry, clock_));
  const int64_t read_from = from_us - options_.lookback_us;
  WEFT_ASSIGN_OR_RETURN(SeriesSet series, ReadSeries(*telemetry, Requests(*plant_, options_),
                                                     read_from, read_to, &report.telemetry));
  for (const std::string& w : series.warnings()) report.warnings.push_back(w);

  std::vector<AlertEvent> events;
  Result<std::unique_ptr<lake::LakeTable>> events_table =
      OpenTable(lake_root_, LakeTableId::kEvents, clock_);
  if (events_table.ok()) {
    Result<std::vector<AlertEvent>> read = ReadAlertEvents(**events_table, from_us, to_us);
    if (!read.ok() && read.status().code() != StatusCode::kNotFound) return read.status();
    if (read.ok()) events = std::move(*read);
  } else if (events_table.status().code() != StatusCode::kNotFound) {
    return events_table.status();
  }
  std::vector<api::WorkOrder> work_orders;
  Result<std::vector<api::WorkOrder>> wo =
      api::ReadWorkOrders(lake_root_, {.from_us = read_from, .to_us = to_us}, clock_);
  if (wo.ok()) {
    work_orders = std::move(*wo);
  } else if (wo.status().code() != StatusCode::kNotFound) {
    return wo.status().WithContext("lake table work_orders");
  }

  // The use cases' daily KPI from earlier runs, for a baseline measured before go-live.
  std::vector<KpiRow> earlier;
  Result<std::vector<KpiRow>> earlier_rows =
      ReadKpiRows(lake_root_, {.kpi = "kpi_actual", .to_us = from_us}, clock_);
  if (earlier_rows.ok()) {
    earlier = std::move(*earlier_rows);
  } else if (earlier_rows.status().code() != StatusCode::kNotFound) {
    report.warnings.push_back("earlier kpi_actual rows (for a baseline before go-live): " +
                              earlier_rows.status().message());
  }

  Computation c(*plant_, options_, series, from_us, to_us, work_orders, earlier, &report);
  c.Oee(shifts);
  c.Reliability();
  c.Energy();
  c.Technician(events, work_orders);
  c.Hvac();
  c.UseCases();
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Result<KpiReport> KpiJob::Run(int64_t from_us, int64_t to_us) const {
  WEFT_ASSIGN_OR_RETURN(KpiReport report, Compute(from_us, to_us));
  report.run_id = NewRunId(clock_);
  WEFT_ASSIGN_OR_RETURN(size_t written,
                        AppendKpiRows(lake_root_, report.rows, report.run_id, clock_));
  (void)written;
  const int64_t now = UnixMicros(clock_->Now());
  for (KpiRow& r : report.rows) {
    r.run_id = report.run_id;
    r.computed_us = now;
  }
  return report;
}

}  // namespace weft::core::kpi

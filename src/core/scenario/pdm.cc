#include "core/scenario/pdm.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <tuple>
#include <utility>

#include "common/time_format.h"
#include "core/ingest/batch_rows.h"
#include "core/ingest/tables.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kMicrosPerMinute = 60'000'000;
// The outcomes core/api/work_orders.h accepts (kOutcomeConfirmedFault, kOutcomeFalseAlarm).
constexpr char kConfirmedFault[] = "confirmed_fault";
constexpr char kFalseAlarm[] = "false_alarm";

std::string Hex8(twin::Rng& rng) {
  static constexpr char kDigits[] = "0123456789abcdef";
  // 32 bits from the top of a uniform draw.
  auto v = static_cast<uint32_t>(std::floor(rng.Uniform(0, 4294967296.0)));
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

void Text(lake::Column& c, const std::string& v) {
  if (v.empty()) {
    c.AppendNull();
  } else {
    c.AppendString(v);
  }
}

}  // namespace

VibrationWatch::VibrationWatch(const edge::SignalTable& table, VibrationWatchOptions options)
    : table_(table), options_(options), gate_(options.cooldown) {
  detectors_.resize(table.size());
  learn_from_us_.assign(table.size(), INT64_MIN);
  for (const edge::SignalInfo& s : table.signals()) {
    if (s.signal != "vibration_rms") continue;
    detectors_[s.id] = std::make_unique<edge::inference::CusumDetector>(Params());
    ++watched_;
  }
}

edge::inference::CusumParams VibrationWatch::Params() const {
  edge::inference::CusumParams p;
  p.k = options_.k;
  p.h = options_.h;
  p.warmup = options_.warmup;
  return p;
}

void VibrationWatch::Relearn(const std::string& asset, int64_t from_us) {
  gate_.Forget(asset);
  for (const edge::SignalInfo& s : table_.signals()) {
    if (!detectors_[s.id] || s.asset != asset) continue;
    detectors_[s.id] = std::make_unique<edge::inference::CusumDetector>(Params());
    learn_from_us_[s.id] = from_us;
  }
}

std::optional<edge::Event> VibrationWatch::OnWindow(const edge::Aggregate& w) {
  if (w.signal >= detectors_.size() || !detectors_[w.signal]) return std::nullopt;
  if (w.start_us < learn_from_us_[w.signal]) return std::nullopt;
  if (w.count == 0 || !std::isfinite(w.mean) || w.mean < options_.stopped_below) {
    return std::nullopt;
  }
  const edge::inference::Detection d = detectors_[w.signal]->Update(w.mean);
  if (!d.fired || d.statistic <= 0) return std::nullopt;
  ++firings_;
  const edge::SignalInfo& info = table_.at(w.signal);
  const std::string asset(info.asset), signal(info.signal);
  // The alarm latches: the firings of an episode raise it once (its first), at the window's
  // end, when the edge knew.
  if (!gate_.Admit(asset, w.end_us)) return std::nullopt;
  edge::Event e{w.signal,
                w.end_us,
                "cusum",
                "vibration_cusum",
                d.statistic,
                options_.h,
                asset + "." + signal + ": cusum statistic " + std::to_string(d.statistic) +
                    " beyond " + std::to_string(options_.h) + " (window mean " +
                    std::to_string(w.mean) + ")"};
  PdmAlert a;
  a.id = asset + "@" + FormatTimestampMicros(w.end_us);
  a.site = info.site;
  a.area = info.area;
  a.line = info.line;
  a.asset = asset;
  a.signal = signal;
  a.kind = "cusum";
  a.ts_us = w.end_us;
  a.statistic = d.statistic;
  alerts_.push_back(std::move(a));
  return e;
}

bool AlertGate::Admit(const std::string& asset, int64_t ts_us) {
  auto [it, first] = last_us_.try_emplace(asset, ts_us);
  if (first) return true;
  // Every firing extends the incident: an alert needs more than `cooldown` of quiet before it.
  const bool quiet = ts_us - it->second > cooldown_us_;
  it->second = std::max(it->second, ts_us);
  return quiet;
}

WorkOrderMaker::WorkOrderMaker(WorkOrderOptions options)
    : o_(std::move(options)), rng_(o_.seed), reactive_rng_(o_.seed + 1) {}

ScenarioWorkOrder WorkOrderMaker::Answer(const PdmAlert& a,
                                         const std::vector<sim::FaultLabel>& labels) {
  const sim::FaultLabel* found = nullptr;
  for (const sim::FaultLabel& l : labels) {
    const int64_t start = UnixMicros(l.start);
    const int64_t end = l.end ? UnixMicros(*l.end) : o_.run_end_us;
    if (l.asset == a.asset && start <= a.ts_us && a.ts_us <= end) {
      found = &l;
      break;
    }
  }
  ScenarioWorkOrder w;
  w.site = a.site;
  w.area = a.area;
  w.line = a.line;
  w.asset = a.asset;
  w.alert_id = a.id;
  w.event_us = a.ts_us;
  const auto response = static_cast<int64_t>(std::round(rng_.Uniform(
      static_cast<double>(o_.response_min.count()), static_cast<double>(o_.response_max.count()))));
  w.opened_us = a.ts_us + response;
  double minutes;
  if (found != nullptr) {
    w.outcome = kConfirmedFault;
    w.fault = found->type;
    minutes = std::clamp(rng_.Normal(o_.confirmed_mean, o_.confirmed_stddev), o_.confirmed_min,
                         o_.confirmed_max);
    w.note = std::string(sim::FaultTypeName(found->type)) + " found (" + a.kind + " on " +
             a.signal + ")";
  } else {
    w.outcome = kFalseAlarm;
    minutes = std::clamp(rng_.Normal(o_.false_mean, o_.false_stddev), o_.false_min, o_.false_max);
    w.note = "no fault found (" + a.kind + " on " + a.signal + ")";
  }
  w.minutes = std::round(minutes);
  w.closed_us = w.opened_us + static_cast<int64_t>(w.minutes) * kMicrosPerMinute;
  w.recorded_us = w.closed_us;
  w.id = "wo-" + std::to_string(w.recorded_us) + "-" + Hex8(rng_);
  w.principal = o_.principal;
  return w;
}

ScenarioWorkOrder WorkOrderMaker::Reactive(const WorkOrderPlace& place, sim::FaultType fault,
                                           int64_t failure_us, double minutes) {
  ScenarioWorkOrder w;
  w.site = place.site;
  w.area = place.area;
  w.line = place.line;
  w.asset = place.asset;
  w.event_us = failure_us;
  w.opened_us = failure_us;
  const double wait_min =
      std::round(reactive_rng_.Uniform(static_cast<double>(o_.reactive_delay_min.count()),
                                       static_cast<double>(o_.reactive_delay_max.count())) /
                 static_cast<double>(kMicrosPerMinute));
  w.closed_us = failure_us + static_cast<int64_t>(wait_min) * kMicrosPerMinute;
  w.recorded_us = w.closed_us;
  w.outcome = kConfirmedFault;
  w.fault = fault;
  w.minutes = std::round(minutes);
  w.note = std::string(sim::FaultTypeName(fault)) + ": failed, found on breakdown; repaired " +
           std::to_string(static_cast<int64_t>(wait_min) / 60) + " h later (waiting for parts)";
  w.id = "wo-" + std::to_string(w.recorded_us) + "-" + Hex8(reactive_rng_);
  w.principal = o_.principal;
  return w;
}

std::vector<ScenarioWorkOrder> MakeWorkOrders(std::vector<PdmAlert> alerts,
                                              const std::vector<sim::FaultLabel>& labels,
                                              const WorkOrderOptions& o) {
  std::sort(alerts.begin(), alerts.end(), [](const PdmAlert& a, const PdmAlert& b) {
    return std::tie(a.ts_us, a.asset, a.id) < std::tie(b.ts_us, b.asset, b.id);
  });
  WorkOrderMaker maker(o);
  std::vector<ScenarioWorkOrder> out;
  out.reserve(alerts.size());
  for (const PdmAlert& a : alerts) out.push_back(maker.Answer(a, labels));
  return out;
}

lake::RecordBatch WorkOrderRows(const std::vector<ScenarioWorkOrder>& orders) {
  lake::RecordBatch rows(LakeTableSchema(LakeTableId::kWorkOrders));
  auto col = [&](const char* name) -> lake::Column& {
    return rows.column(static_cast<size_t>(rows.Find(name)));
  };
  for (const ScenarioWorkOrder& w : orders) {
    col("date").AppendInt(DayOf(w.event_us));
    col("event_ts").AppendInt(w.event_us);
    col("opened_ts").AppendInt(w.opened_us);
    col("closed_ts").AppendInt(w.closed_us);
    col("recorded_ts").AppendInt(w.recorded_us);
    col("id").AppendString(w.id);
    Text(col("site"), w.site);
    Text(col("area"), w.area);
    Text(col("line"), w.line);
    col("asset").AppendString(w.asset);
    Text(col("alert_id"), w.alert_id);
    col("outcome").AppendString(w.outcome);
    col("minutes").AppendDouble(w.minutes);
    Text(col("note"), w.note);
    col("principal").AppendString(w.principal);
  }
  return rows;
}

}  // namespace weft::core::scenario

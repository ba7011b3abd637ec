#include "mlops/monitoring/lake_monitor.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/time_format.h"
#include "lake/lake_table.h"
#include "lake/predicate.h"
#include "mlops/monitoring/monitoring_lake.h"

namespace weft::mlops {

namespace {

constexpr size_t kMaxWindows = 100000;

// A predicate literal: 'text' with '' for a quote.
struct Sample {
  int64_t ts = 0;
  double value = 0;
};

// The where clause for [from, to) of one asset, with the date partition's bounds when present.
std::string RangeWhere(const MonitorRequest& r, const std::vector<lake::BatchField>& schema) {
  const bool has_date = std::any_of(schema.begin(), schema.end(), [](const lake::BatchField& f) {
    return f.name == "date" && f.type == lake::ColumnType::kDate;
  });
  return lake::TimeRangePredicate(r.from_us, r.to_us, has_date) +
         " and asset = " + lake::PredicateLiteral(r.asset);
}

Result<int> Column(const lake::RecordBatch& b, std::string_view name, const std::string& table) {
  const int i = b.Find(name);
  if (i < 0) return InvalidArgumentError(table + ": no column '" + std::string(name) + "'");
  return i;
}

// The newest sample with ts in (t - period, t], or nullptr. `pos` advances monotonically.
const Sample* At(const std::vector<Sample>& s, size_t* pos, int64_t t, int64_t period) {
  while (*pos < s.size() && s[*pos].ts <= t) ++*pos;
  if (*pos == 0) return nullptr;
  const Sample& last = s[*pos - 1];
  return last.ts > t - period ? &last : nullptr;
}

}  // namespace

Result<MonitorConfig> MonitorConfigFromCard(std::string_view card_json) {
  WEFT_ASSIGN_OR_RETURN(MonitorConfig config, ParseMonitorConfig(card_json));
  std::erase_if(config.features, [](const FeatureReference& f) { return !f.drift && !f.envelope; });
  if (config.features.empty() && config.controls.empty() && !config.thermal) {
    return InvalidArgumentError(
        "model card: nothing to monitor (no feature with drift or envelope checks, no control "
        "output, no thermal residual)");
  }
  return config;
}

Result<MonitorRun> MonitorFromLake(const MonitorRequest& r) {
  if (r.clock == nullptr) return InvalidArgumentError("monitor: a clock is required");
  if (r.asset.empty()) return InvalidArgumentError("monitor: --asset is required");
  if (r.model.empty()) return InvalidArgumentError("monitor: the model name is required");
  if (r.from_us >= r.to_us) {
    return InvalidArgumentError("monitor: from (" + FormatTimestampMicros(r.from_us) +
                                ") must be before to (" + FormatTimestampMicros(r.to_us) + ")");
  }
  if (r.window.count() <= 0) return InvalidArgumentError("monitor: the window must be > 0");
  if (r.sample_period.count() < 0) {
    return InvalidArgumentError("monitor: the sample period must be >= 0");
  }
  const int64_t window_us = r.window.count();
  const int64_t n_windows = (r.to_us - r.from_us + window_us - 1) / window_us;
  if (n_windows > static_cast<int64_t>(kMaxWindows)) {
    return InvalidArgumentError("monitor: " + std::to_string(n_windows) +
                                " windows; use a longer window or a shorter range (at most " +
                                std::to_string(kMaxWindows) + ")");
  }

  MonitorRun run;
  std::set<std::string, std::less<>> wanted;
  for (const auto& f : r.config.features) wanted.insert(f.name);
  for (const auto& c : r.config.controls) wanted.insert(c.name);
  if (r.config.thermal) {
    wanted.insert(r.config.thermal->measured_signal);
    for (const auto& m : r.config.thermal->inputs) {
      if (!m.signal.empty()) wanted.insert(m.signal);
    }
  }
  run.signals.assign(wanted.begin(), wanted.end());

  // Telemetry.
  const std::string tel_path = r.lake + "/telemetry";
  Result<std::unique_ptr<lake::LakeTable>> tel_open = lake::LakeTable::Open(tel_path, r.clock);
  if (!tel_open.ok()) return tel_open.status().WithContext(tel_path);
  std::unique_ptr<lake::LakeTable> telemetry = std::move(tel_open).value();
  Result<std::vector<lake::BatchField>> tel_schema = telemetry->Schema();
  if (!tel_schema.ok()) return tel_schema.status().WithContext(tel_path);
  std::map<std::string, std::vector<Sample>, std::less<>> series;
  for (const auto& s : run.signals) series[s];
  lake::ScanOptions tel_scan{.columns = {"ts", "signal", "value", "quality"},
                             .where = RangeWhere(r, *tel_schema)};
  Status st = telemetry->Scan(tel_scan, [&](const lake::RecordBatch& b) -> Status {
    WEFT_ASSIGN_OR_RETURN(int ts, Column(b, "ts", tel_path));
    WEFT_ASSIGN_OR_RETURN(int sig, Column(b, "signal", tel_path));
    WEFT_ASSIGN_OR_RETURN(int val, Column(b, "value", tel_path));
    WEFT_ASSIGN_OR_RETURN(int q, Column(b, "quality", tel_path));
    const auto& cts = b.column(static_cast<size_t>(ts));
    const auto& csig = b.column(static_cast<size_t>(sig));
    const auto& cval = b.column(static_cast<size_t>(val));
    const auto& cq = b.column(static_cast<size_t>(q));
    for (size_t i = 0; i < b.num_rows(); ++i) {
      if (!cval.IsValid(i) || !cq.IsValid(i) || cq.IntAt(i) != 0) continue;
      auto it = series.find(csig.StringAt(i));
      if (it == series.end()) continue;
      it->second.push_back({cts.IntAt(i), cval.DoubleAt(i)});
      ++run.telemetry_rows;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(tel_path);
  for (auto& [name, s] : series) {
    std::sort(s.begin(), s.end(), [](const Sample& a, const Sample& b) { return a.ts < b.ts; });
  }

  // Predictions (optional table).
  std::vector<std::pair<int64_t, std::pair<std::string, double>>> predictions;
  const std::string pred_path = r.lake + "/predictions";
  Result<std::unique_ptr<lake::LakeTable>> pred_table = lake::LakeTable::Open(pred_path, r.clock);
  if (!pred_table.ok() && pred_table.status().code() != StatusCode::kNotFound) {
    return pred_table.status().WithContext(pred_path);
  }
  if (pred_table.ok()) {
    Result<std::vector<lake::BatchField>> pred_schema = (*pred_table)->Schema();
    if (!pred_schema.ok() && pred_schema.status().code() != StatusCode::kNotFound) {
      return pred_schema.status().WithContext(pred_path);
    }
    if (pred_schema.ok()) {
      std::string where =
          RangeWhere(r, *pred_schema) + " and model = " + lake::PredicateLiteral(r.model);
      if (!r.model_version.empty())
        where += " and model_version = " + lake::PredicateLiteral(r.model_version);
      lake::ScanOptions ps{.columns = {"ts", "model_version", "value"}, .where = where};
      st = (*pred_table)->Scan(ps, [&](const lake::RecordBatch& b) -> Status {
        WEFT_ASSIGN_OR_RETURN(int ts, Column(b, "ts", pred_path));
        WEFT_ASSIGN_OR_RETURN(int ver, Column(b, "model_version", pred_path));
        WEFT_ASSIGN_OR_RETURN(int val, Column(b, "value", pred_path));
        const auto& cts = b.column(static_cast<size_t>(ts));
        const auto& cver = b.column(static_cast<size_t>(ver));
        const auto& cval = b.column(static_cast<size_t>(val));
        for (size_t i = 0; i < b.num_rows(); ++i) {
          if (!cval.IsValid(i)) continue;
          predictions.push_back({cts.IntAt(i),
                                 {cver.IsValid(i) ? std::string(cver.StringAt(i)) : std::string(),
                                  cval.DoubleAt(i)}});
        }
        return Status::Ok();
      });
      if (!st.ok()) return st.WithContext(pred_path);
    }
  }
  run.prediction_rows = predictions.size();
  std::sort(predictions.begin(), predictions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // Sample period.
  int64_t period = r.sample_period.count();
  if (period == 0) {
    std::vector<int64_t> gaps;
    for (const auto& [name, s] : series) {
      for (size_t i = 1; i < s.size(); ++i) {
        if (s[i].ts > s[i - 1].ts) gaps.push_back(s[i].ts - s[i - 1].ts);
      }
      if (!gaps.empty()) break;
    }
    if (gaps.empty()) {
      period = 1'000'000;  // no telemetry: every window is skipped anyway
    } else {
      std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2),
                       gaps.end());
      period = gaps[gaps.size() / 2];
    }
  }
  run.sample_period_s = static_cast<double>(period) * 1e-6;

  WEFT_ASSIGN_OR_RETURN(auto monitor, ReliabilityMonitor::Create(r.config));
  std::map<std::string, size_t> pos;
  for (const auto& s : run.signals) pos[s] = 0;
  size_t pred_pos = 0;
  std::vector<CheckResult> all;
  for (int64_t start = r.from_us; start < r.to_us; start += window_us) {
    const int64_t end = std::min(start + window_us, r.to_us);
    MonitoredWindow w;
    w.start_us = start;
    w.end_us = end;
    MonitorWindow mw;
    mw.end = TimeFromUnixMicros(end);
    mw.model = r.model;
    mw.asset = r.asset;
    mw.sample_period_s = run.sample_period_s;
    for (const auto& s : run.signals) mw.signals[s];
    // Grid points t = start + k·period - 1 µs (k >= 1), t < end; each takes the samples of
    // (t - period, t], so the window's samples in [start, end) are each used at most once.
    for (int64_t t = start + period - 1; t < end; t += period) {
      bool complete = true;
      std::vector<double> row;
      row.reserve(run.signals.size());
      for (const auto& s : run.signals) {
        const Sample* v = At(series[s], &pos[s], t, period);
        if (v == nullptr) {
          complete = false;
        } else {
          row.push_back(v->value);
        }
      }
      if (!complete) continue;
      for (size_t k = 0; k < run.signals.size(); ++k) {
        mw.signals.find(run.signals[k])->second.push_back(row[k]);
      }
    }
    w.samples = run.signals.empty() ? 0 : mw.signals.begin()->second.size();
    // Scores of the window's version.
    std::map<std::string, size_t> per_version;
    const size_t first = pred_pos;
    while (pred_pos < predictions.size() && predictions[pred_pos].first < end) {
      if (predictions[pred_pos].first >= start) ++per_version[predictions[pred_pos].second.first];
      ++pred_pos;
    }
    w.model_version = r.model_version;
    if (w.model_version.empty() && !per_version.empty()) {
      w.model_version =
          std::max_element(per_version.begin(), per_version.end(),
                           [](const auto& a, const auto& b) { return a.second < b.second; })
              ->first;
    }
    for (size_t i = first; i < pred_pos; ++i) {
      if (predictions[i].first >= start && predictions[i].second.first == w.model_version) {
        mw.scores.push_back(predictions[i].second.second);
      }
    }
    w.scores = mw.scores.size();
    mw.model_version = w.model_version;
    if (w.samples < r.min_samples) {
      w.skipped = true;
    } else {
      Result<WindowAssessment> a = monitor->Assess(mw);
      if (!a.ok()) {
        return a.status().WithContext("window " + FormatTimestampMicros(start) + " .. " +
                                      FormatTimestampMicros(end));
      }
      w.assessment = std::move(a).value();
      all.insert(all.end(), w.assessment.results.begin(), w.assessment.results.end());
    }
    run.windows.push_back(std::move(w));
  }

  if (r.append && !all.empty()) {
    const std::string out_path = r.lake + "/" + std::string(kMonitoringTableName);
    WEFT_ASSIGN_OR_RETURN(auto table, lake::LakeTable::Open(out_path, r.clock, true));
    Status a = AppendMonitoringResults(*table, all);
    if (!a.ok()) return a.WithContext(out_path);
    WEFT_ASSIGN_OR_RETURN(std::vector<lake::HistoryEntry> h, table->History());
    run.appended_version = h.empty() ? -1 : h.back().version;
    run.appended_rows = all.size();
  }
  return run;
}

}  // namespace weft::mlops

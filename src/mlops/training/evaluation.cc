#include "mlops/training/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "common/time_format.h"

namespace weft::mlops {

namespace {

double Ratio(size_t a, size_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}
double F1(double p, double r) {
  return p + r <= 0 ? 0.0 : 2 * p * r / (p + r);
}

Micros MaxLead(const EvaluationOptions& o) {
  return o.max_lead.count() > 0 ? o.max_lead : 3 * o.horizon;
}

}  // namespace

double Quantile(std::vector<double>& v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

ScoreReport ScoreRuns(const std::string& name, const std::string& score_name, const Dataset& ds,
                      const std::vector<size_t>& rows, const std::vector<float>& scores,
                      const EvaluationOptions& options) {
  ScoreReport rep;
  rep.name = name;
  rep.score = score_name;
  rep.threshold = options.threshold;
  // Rows.
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool pred = static_cast<double>(scores[i]) >= options.threshold;
    const bool truth = ds.rows[rows[i]].label > 0.5f;
    if (pred && truth) ++rep.rows.tp;
    if (pred && !truth) ++rep.rows.fp;
    if (!pred && truth) ++rep.rows.fn;
    if (!pred && !truth) ++rep.rows.tn;
  }
  rep.rows.precision = Ratio(rep.rows.tp, rep.rows.tp + rep.rows.fp);
  rep.rows.recall = Ratio(rep.rows.tp, rep.rows.tp + rep.rows.fn);
  rep.rows.f1 = F1(rep.rows.precision, rep.rows.recall);

  // Runs: the first alarm of each run, in the order the runs appear.
  std::map<uint32_t, std::optional<int64_t>> alarm;
  std::map<uint32_t, int> streak;
  std::vector<uint32_t> order;
  for (size_t i = 0; i < rows.size(); ++i) {
    const DatasetRow& r = ds.rows[rows[i]];
    if (!alarm.count(r.run)) {
      alarm[r.run] = std::nullopt;
      order.push_back(r.run);
    }
    int& s = streak[r.run];
    s = static_cast<double>(scores[i]) >= options.threshold ? s + 1 : 0;
    if (s >= options.consecutive && !alarm[r.run]) alarm[r.run] = r.ts_us;
  }
  const int64_t max_lead_us = MaxLead(options).count();
  std::vector<double> leads;
  for (uint32_t run : order) {
    const RunInfo& info = ds.runs[run];
    RunOutcome o;
    o.run = info.id;
    o.alarm_us = alarm[run];
    if (info.failure_us) {
      o.kind = "failure";
      ++rep.runs.failure_runs;
      if (o.alarm_us) {
        const int64_t lead = *info.failure_us - *o.alarm_us;
        const bool after_start = !info.fault_start_us || *o.alarm_us >= *info.fault_start_us;
        if (after_start && lead > 0 && lead <= max_lead_us) {
          o.detected = true;
          o.lead_h = static_cast<double>(lead) / 3.6e9;
          leads.push_back(o.lead_h);
          ++rep.runs.detected;
        } else {
          o.false_alarm = true;
          ++rep.runs.false_alarms;
          ++rep.runs.missed;
        }
      } else {
        ++rep.runs.missed;
      }
    } else if (info.fault) {
      o.kind = "censored";
      ++rep.runs.censored;
    } else {
      o.kind = "healthy";
      ++rep.runs.healthy_runs;
      if (o.alarm_us) {
        o.false_alarm = true;
        ++rep.runs.false_alarms;
      }
    }
    rep.outcomes.push_back(std::move(o));
  }
  rep.runs.precision = Ratio(rep.runs.detected, rep.runs.detected + rep.runs.false_alarms);
  rep.runs.recall = Ratio(rep.runs.detected, rep.runs.failure_runs);
  rep.runs.f1 = F1(rep.runs.precision, rep.runs.recall);
  if (!leads.empty()) {
    std::vector<double> l = leads;
    rep.runs.median_lead_h = Quantile(l, 0.5);
    rep.runs.p10_lead_h = Quantile(l, 0.1);
  }
  return rep;
}

double ChooseBaselineThreshold(const Dataset& ds, const std::vector<size_t>& rows, size_t feature,
                               EvaluationOptions options) {
  std::vector<float> scores(rows.size());
  std::vector<double> values;
  for (size_t i = 0; i < rows.size(); ++i) {
    scores[i] = ds.rows[rows[i]].features[feature];
    values.push_back(scores[i]);
  }
  std::vector<double> candidates;
  for (int k = 0; k <= 400; ++k) candidates.push_back(Quantile(values, k / 400.0));
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  double best = candidates.empty() ? 0 : candidates.front();
  double best_f1 = -1, best_recall = -1;
  for (double c : candidates) {
    if (std::isnan(c)) continue;
    options.threshold = c;
    ScoreReport r = ScoreRuns("baseline", "", ds, rows, scores, options);
    if (r.runs.f1 > best_f1 || (r.runs.f1 == best_f1 && r.runs.recall > best_recall)) {
      best = c;
      best_f1 = r.runs.f1;
      best_recall = r.runs.recall;
    }
  }
  return best;
}

nlohmann::json ScoreReport::ToJson() const {
  nlohmann::json outcomes_json = nlohmann::json::array();
  for (const RunOutcome& o : outcomes) {
    nlohmann::json j = {
        {"run", o.run}, {"kind", o.kind}, {"detected", o.detected}, {"false_alarm", o.false_alarm}};
    j["alarm"] = o.alarm_us ? nlohmann::json(FormatTimestampMicros(*o.alarm_us)) : nullptr;
    if (o.detected) j["lead_h"] = o.lead_h;
    outcomes_json.push_back(std::move(j));
  }
  return {
      {"name", name},
      {"score", score},
      {"threshold", threshold},
      {"rows",
       {{"tp", rows.tp},
        {"fp", rows.fp},
        {"fn", rows.fn},
        {"tn", rows.tn},
        {"precision", rows.precision},
        {"recall", rows.recall},
        {"f1", rows.f1}}},
      {"runs",
       {{"failure_runs", runs.failure_runs},
        {"healthy_runs", runs.healthy_runs},
        {"censored", runs.censored},
        {"detected", runs.detected},
        {"missed", runs.missed},
        {"false_alarms", runs.false_alarms},
        {"precision", runs.precision},
        {"recall", runs.recall},
        {"f1", runs.f1},
        {"median_lead_h", runs.median_lead_h},
        {"p10_lead_h", runs.p10_lead_h}}},
      {"outcomes", std::move(outcomes_json)},
  };
}

nlohmann::json EvaluationReport::ToJson() const {
  nlohmann::json j = {
      {"model", model.ToJson()},  {"consecutive", consecutive}, {"horizon_h", horizon_h},
      {"max_lead_h", max_lead_h}, {"train_runs", train_runs},   {"test_runs", test_runs},
      {"train_rows", train_rows}, {"test_rows", test_rows},
  };
  j["baseline"] = baseline ? baseline->ToJson() : nlohmann::json(nullptr);
  return j;
}

}  // namespace weft::mlops

#include "kpi/technician.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string_view>

namespace weft::kpi {
namespace {

constexpr std::string_view kConfirmed = "confirmed_fault";
constexpr std::string_view kFalseAlarm = "false_alarm";

Status CheckInputs(const std::vector<TechnicianAlert>& alerts,
                   const std::vector<TechnicianWorkOrder>& work_orders,
                   const TechnicianOptions& options) {
  if (!std::isfinite(options.reactive_minutes_default) || options.reactive_minutes_default < 0) {
    return InvalidArgumentError(
        "technician time: reactive_minutes_per_failure must be a number >= 0, got " +
        std::to_string(options.reactive_minutes_default));
  }
  for (const auto& [use_case, minutes] : options.reactive_minutes_by_use_case) {
    if (!std::isfinite(minutes) || minutes < 0) {
      return InvalidArgumentError("technician time: use case '" + use_case +
                                  "': reactive_minutes_per_failure must be a number >= 0, got " +
                                  std::to_string(minutes));
    }
  }
  if (!std::isfinite(options.labour_rate_per_hour) || options.labour_rate_per_hour < 0) {
    return InvalidArgumentError("technician time: labour rate must be a number >= 0, got " +
                                std::to_string(options.labour_rate_per_hour));
  }
  if (options.link_window_us < 0) {
    return InvalidArgumentError("technician time: link window must be >= 0, got " +
                                std::to_string(options.link_window_us) + " us");
  }
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < alerts.size(); ++i) {
    const TechnicianAlert& a = alerts[i];
    if (a.id.empty()) {
      return InvalidArgumentError("technician time: alert #" + std::to_string(i) + " (asset '" +
                                  a.asset + "') has an empty id");
    }
    if (a.asset.empty()) {
      return InvalidArgumentError("technician time: alert '" + a.id + "' has an empty asset");
    }
    if (!seen.emplace(a.id, i).second) {
      return InvalidArgumentError("technician time: alert id '" + a.id + "' appears twice");
    }
  }
  for (size_t i = 0; i < work_orders.size(); ++i) {
    const TechnicianWorkOrder& w = work_orders[i];
    const std::string name = w.id.empty() ? "#" + std::to_string(i) : "'" + w.id + "'";
    if (w.outcome != kConfirmed && w.outcome != kFalseAlarm) {
      return InvalidArgumentError("technician time: work order " + name + ": outcome '" +
                                  w.outcome + "' is neither confirmed_fault nor false_alarm");
    }
    if (!std::isfinite(w.minutes) || w.minutes < 0) {
      return InvalidArgumentError("technician time: work order " + name +
                                  ": minutes must be a number >= 0, got " +
                                  std::to_string(w.minutes));
    }
  }
  return Status::Ok();
}

void Add(TechnicianTally* t, const AlertLink& link) {
  ++t->alerts;
  if (link.work_order_ids.empty()) {
    ++t->unanswered;
    return;
  }
  ++t->linked;
  if (link.outcome == kConfirmed) {
    ++t->confirmed;
  } else {
    ++t->false_alarms;
  }
  t->minutes_spent += link.minutes;
  t->minutes_saved += link.minutes_saved;
}

void Finish(TechnicianTally* t, double labour_rate_per_hour) {
  if (t->alerts > 0) t->minutes_saved_per_alert = t->minutes_saved / static_cast<double>(t->alerts);
  t->value = t->minutes_saved / 60.0 * labour_rate_per_hour;
}

}  // namespace

Result<TechnicianReport> TechnicianTimeSaved(const std::vector<TechnicianAlert>& alerts,
                                             const std::vector<TechnicianWorkOrder>& work_orders,
                                             const TechnicianOptions& options) {
  WEFT_RETURN_IF_ERROR(CheckInputs(alerts, work_orders, options));

  std::map<std::string_view, size_t> alert_by_id;
  for (size_t i = 0; i < alerts.size(); ++i) alert_by_id.emplace(alerts[i].id, i);

  // Work orders answering each alert, by index.
  std::vector<std::vector<size_t>> answers(alerts.size());
  std::vector<bool> by_time(alerts.size(), false);
  TechnicianReport report;

  // Pass 1: explicit alert ids. Pass 2 (below) only sees alerts that pass 1 left unclaimed, so an
  // explicit link always wins over a guess by time.
  std::vector<size_t> without_id;
  for (size_t w = 0; w < work_orders.size(); ++w) {
    const TechnicianWorkOrder& wo = work_orders[w];
    if (wo.alert_id.empty()) {
      without_id.push_back(w);
      continue;
    }
    auto it = alert_by_id.find(wo.alert_id);
    if (it == alert_by_id.end()) {
      report.orphan_work_orders.push_back(wo.id);
    } else {
      answers[it->second].push_back(w);
    }
  }

  // Pass 2: by asset and nearest time, work orders in (event_us, id) order so the result does not
  // depend on the input order.
  std::sort(without_id.begin(), without_id.end(), [&](size_t a, size_t b) {
    const auto& x = work_orders[a];
    const auto& y = work_orders[b];
    if (x.event_us != y.event_us) return x.event_us < y.event_us;
    if (x.id != y.id) return x.id < y.id;
    return a < b;
  });
  for (size_t w : without_id) {
    const TechnicianWorkOrder& wo = work_orders[w];
    std::optional<size_t> best;
    // |Δt| as unsigned: no overflow for any pair of int64 times.
    uint64_t best_gap = std::numeric_limits<uint64_t>::max();
    for (size_t a = 0; a < alerts.size(); ++a) {
      const TechnicianAlert& al = alerts[a];
      if (al.asset != wo.asset || !answers[a].empty()) continue;
      const uint64_t gap =
          al.ts_us >= wo.event_us
              ? static_cast<uint64_t>(al.ts_us) - static_cast<uint64_t>(wo.event_us)
              : static_cast<uint64_t>(wo.event_us) - static_cast<uint64_t>(al.ts_us);
      if (gap > static_cast<uint64_t>(options.link_window_us)) continue;
      const bool better =
          !best || gap < best_gap ||
          (gap == best_gap && (al.ts_us < alerts[*best].ts_us ||
                               (al.ts_us == alerts[*best].ts_us && al.id < alerts[*best].id)));
      if (better) {
        best = a;
        best_gap = gap;
      }
    }
    if (best) {
      answers[*best].push_back(w);
      by_time[*best] = true;
    } else {
      report.orphan_work_orders.push_back(wo.id);
    }
  }

  for (size_t a = 0; a < alerts.size(); ++a) {
    const TechnicianAlert& al = alerts[a];
    AlertLink link{
        .alert_id = al.id, .asset = al.asset, .use_case = al.use_case, .ts_us = al.ts_us};
    auto reactive = options.reactive_minutes_by_use_case.find(al.use_case);
    link.reactive_minutes = reactive != options.reactive_minutes_by_use_case.end()
                                ? reactive->second
                                : options.reactive_minutes_default;
    link.linked_by_time = by_time[a];
    bool confirmed = false;
    for (size_t w : answers[a]) {
      link.work_order_ids.push_back(work_orders[w].id);
      link.minutes += work_orders[w].minutes;
      confirmed = confirmed || work_orders[w].outcome == kConfirmed;
    }
    if (answers[a].empty()) {
      link.outcome = "unanswered";
    } else if (confirmed) {
      link.outcome = std::string(kConfirmed);
      link.minutes_saved = link.reactive_minutes - link.minutes;
    } else {
      link.outcome = std::string(kFalseAlarm);
      link.minutes_saved = -link.minutes;
    }
    Add(&report.total, link);
    Add(&report.by_asset[al.asset], link);
    Add(&report.by_use_case[al.use_case], link);
    report.alerts.push_back(std::move(link));
  }
  Finish(&report.total, options.labour_rate_per_hour);
  for (auto& [asset, tally] : report.by_asset) Finish(&tally, options.labour_rate_per_hour);
  for (auto& [use_case, tally] : report.by_use_case) Finish(&tally, options.labour_rate_per_hour);
  return report;
}

}  // namespace weft::kpi

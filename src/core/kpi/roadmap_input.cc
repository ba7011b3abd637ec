#include "core/kpi/roadmap_input.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/time_format.h"
#include "model/plan.h"

namespace weft::core::kpi {
namespace {

namespace calc = ::weft::kpi;

void Warn(std::vector<std::string>* warnings, std::string w) {
  if (warnings != nullptr) warnings->push_back(std::move(w));
}

// Day rows of one use case without overlaps: sorted by start; of two overlapping rows the one
// of the later run stays.
std::vector<const KpiRow*> WithoutOverlaps(std::vector<const KpiRow*> rows) {
  std::sort(rows.begin(), rows.end(), [](const KpiRow* a, const KpiRow* b) {
    return a->period_start_us != b->period_start_us ? a->period_start_us < b->period_start_us
                                                    : a->period_end_us < b->period_end_us;
  });
  std::vector<const KpiRow*> out;
  for (const KpiRow* r : rows) {
    while (!out.empty() && out.back()->period_end_us > r->period_start_us) {
      const KpiRow* prev = out.back();
      const bool prev_later =
          std::tie(prev->computed_us, prev->run_id) > std::tie(r->computed_us, r->run_id);
      if (prev_later) {
        r = nullptr;
        break;
      }
      out.pop_back();
    }
    if (r != nullptr) out.push_back(r);
  }
  return out;
}

}  // namespace

std::vector<calc::KpiMeasurement> MeasurementsFromRows(std::vector<const KpiRow*> rows) {
  std::vector<calc::KpiMeasurement> ms;
  for (const KpiRow* r : WithoutOverlaps(std::move(rows))) {
    if (r->period_end_us <= r->period_start_us) continue;
    calc::KpiMeasurement m;
    m.start_us = r->period_start_us;
    m.end_us = r->period_end_us;
    m.kpi_actual = r->value;
    m.coverage = std::clamp(r->coverage.value_or(0), 0.0, 1.0);
    if (!std::isfinite(m.coverage)) m.coverage = 0;
    const nlohmann::json d = nlohmann::json::parse(r->detail, nullptr, false);
    if (d.is_object()) {
      const std::string basis =
          d.contains("basis") && d["basis"].is_string() ? d["basis"].get<std::string>() : "";
      if (basis == "baseline_period") m.baseline_period = true;
      if (basis == "excluded") m.kpi_actual.reset();
      if (d.contains("measured_baseline") && d["measured_baseline"].is_number()) {
        const double b = d["measured_baseline"].get<double>();
        if (std::isfinite(b)) m.measured_baseline = b;
        if (d.contains("baseline_source") && d["baseline_source"].is_string()) {
          m.measured_baseline_source = d["baseline_source"].get<std::string>();
        }
      }
    }
    ms.push_back(std::move(m));
  }
  return ms;
}

namespace {

calc::BaselineFit FitFromDetail(const KpiRow& row, const std::string& use_case,
                                std::vector<std::string>* warnings) {
  calc::BaselineFit f;
  nlohmann::json d = nlohmann::json::parse(row.detail, nullptr, /*allow_exceptions=*/false);
  if (d.is_discarded() || !d.is_object()) {
    f.criteria = "the baseline model of the kpi table could not be read";
    Warn(warnings, "use case " + use_case + ": hvac_baseline_cv_rmse has an unreadable detail");
    return f;
  }
  if (!d.contains("fit") || !d["fit"].is_object()) {
    const std::string why = d.contains("error") && d["error"].is_string()
                                ? d["error"].get<std::string>()
                                : std::string("no fit recorded");
    f.criteria = "no baseline model could be fitted: " + why;
    return f;
  }
  const nlohmann::json& j = d["fit"];
  auto num = [&](const char* k) -> std::optional<double> {
    return j.contains(k) && j[k].is_number() ? std::optional<double>(j[k].get<double>())
                                             : std::nullopt;
  };
  f.b0 = num("b0").value_or(0);
  f.b1 = num("b1").value_or(0);
  f.b2 = num("b2").value_or(0);
  f.n = static_cast<size_t>(num("n").value_or(0));
  f.p = static_cast<size_t>(num("p").value_or(0));
  f.mean_kwh = num("mean_kwh").value_or(0);
  f.rmse_kwh = num("rmse_kwh").value_or(0);
  f.r2 = num("r2");
  f.cv_rmse_pct = num("cv_rmse_pct");
  f.nmbe_pct = num("nmbe_pct");
  f.rho = num("rho").value_or(0);
  f.cv_rmse_limit_pct = num("cv_rmse_limit_pct").value_or(0);
  f.nmbe_limit_pct = num("nmbe_limit_pct").value_or(0);
  f.meets_criteria = j.contains("meets_criteria") && j["meets_criteria"].is_boolean() &&
                     j["meets_criteria"].get<bool>();
  if (j.contains("criteria") && j["criteria"].is_string()) f.criteria = j["criteria"];
  return f;
}

}  // namespace

std::vector<calc::UseCaseEvidence> AssembleEvidence(const std::vector<KpiRow>& rows,
                                                    const model::Plant& plant,
                                                    std::chrono::sys_days as_of,
                                                    std::vector<std::string>* warnings) {
  const model::PlanReport plan = model::BuildPlan(plant, {as_of});
  std::map<std::string, std::vector<const KpiRow*>> actual;
  std::map<std::string, const KpiRow*> fit;
  for (const KpiRow& r : rows) {
    if (r.use_case.empty()) continue;
    if (r.kpi == "kpi_actual") {
      actual[r.use_case].push_back(&r);
    } else if (r.kpi == "hvac_baseline_cv_rmse") {
      const KpiRow*& best = fit[r.use_case];
      if (best == nullptr || std::tie(r.period_end_us, r.computed_us, r.run_id) >
                                 std::tie(best->period_end_us, best->computed_us, best->run_id)) {
        best = &r;
      }
    }
  }
  std::vector<calc::UseCaseEvidence> out;
  for (const model::UseCase& uc : plant.use_cases) {
    calc::UseCaseEvidence e;
    e.id = uc.id;
    e.name = uc.name;
    e.category = std::string(model::UseCaseCategoryName(uc.category));
    e.annual_value = uc.annual_value;
    if (uc.live_from) {
      e.live_from_us = UnixMicros(TimePoint(std::chrono::sys_days(*uc.live_from)));
    }
    e.running_cost_per_year = uc.running_cost;
    for (const model::UseCasePlan& p : plan.ranked) {
      if (p.id == uc.id) e.retrofit_cost = p.retrofit_cost;
    }
    e.kpi = uc.kpi;
    const std::vector<calc::KpiMeasurement> ms = MeasurementsFromRows(actual[uc.id]);
    if (!ms.empty()) {
      calc::ProjectionSpec spec;
      spec.use_case = uc.id;
      spec.kpi = uc.kpi;
      spec.annual_value = uc.annual_value;
      spec.live_from_us = e.live_from_us;
      Result<std::vector<calc::ProjectionPoint>> points = calc::ProjectSeries(spec, ms);
      if (points.ok()) {
        e.series = std::move(*points);
      } else {
        Warn(warnings, "use case " + uc.id + ": " + points.status().message());
      }
    }
    if (auto it = fit.find(uc.id); it != fit.end()) {
      e.baseline_fit = FitFromDetail(*it->second, uc.id, warnings);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<calc::Roadmap> RoadmapFromLake(std::string_view lake_root, const model::Plant& plant,
                                      std::string_view quarter, const Clock* clock,
                                      const calc::RoadmapOptions& options,
                                      std::vector<std::string>* warnings) {
  WEFT_ASSIGN_OR_RETURN(calc::Quarter q, calc::ParseQuarter(quarter));
  KpiQuery query;
  query.to_us = q.end_us;  // the roadmap weighs the evidence available by the quarter's end
  std::vector<KpiRow> rows;
  for (const char* name : {"kpi_actual", "hvac_baseline_cv_rmse"}) {
    query.kpi = name;
    WEFT_ASSIGN_OR_RETURN(std::vector<KpiRow> part, ReadKpiRows(lake_root, query, clock));
    for (KpiRow& r : part) rows.push_back(std::move(r));
  }
  const std::vector<calc::UseCaseEvidence> evidence =
      AssembleEvidence(rows, plant, DayOf(clock->Now()), warnings);
  return calc::BuildRoadmap(quarter, evidence, options);
}

}  // namespace weft::core::kpi

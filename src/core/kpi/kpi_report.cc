// KpiReportToJson and KpiReportToTable (declared in kpi_job.h).
#include <fmt/format.h>

#include <cmath>

#include "common/time_format.h"
#include "core/kpi/kpi_job.h"

namespace weft::core::kpi {
namespace {

namespace calc = ::weft::kpi;
using json = nlohmann::ordered_json;

json Num(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

std::string Iso(int64_t us) {
  return FormatTimestampMicros(us);
}

std::string Pct(const std::optional<double>& v) {
  return v ? fmt::format("{:.1f}%", *v * 100) : std::string("-");
}

std::string Fixed(const std::optional<double>& v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : std::string("-");
}

json OeeJson(const calc::OeeResult& o) {
  return json{{"availability", Num(o.availability)},
              {"performance", Num(o.performance)},
              {"quality", Num(o.quality)},
              {"oee", Num(o.oee)},
              {"coverage", Num(o.coverage)},
              {"shift_s", o.shift_s},
              {"planned_s", o.planned_s},
              {"run_s", o.run_s},
              {"idle_s", o.idle_s},
              {"planned_stop_s", o.planned_stop_s},
              {"no_data_s", o.no_data_s},
              {"losses_s",
               {{"jam", o.loss_jam_s},
                {"electrical", o.loss_electrical_s},
                {"material", o.loss_material_s},
                {"other_down", o.loss_other_down_s},
                {"performance", o.loss_performance_s},
                {"quality", o.loss_quality_s}}},
              {"good", o.good},
              {"reject", o.reject},
              {"counted_across_gap", o.counted_across_gap},
              {"counter_resets", o.counter_resets}};
}

json TallyJson(const calc::TechnicianTally& t) {
  return json{{"alerts", t.alerts},
              {"linked", t.linked},
              {"confirmed", t.confirmed},
              {"false_alarms", t.false_alarms},
              {"unanswered", t.unanswered},
              {"minutes_spent", t.minutes_spent},
              {"minutes_saved", t.minutes_saved},
              {"minutes_saved_per_alert", Num(t.minutes_saved_per_alert)},
              {"value", t.value}};
}

std::string ScopeName(const HvacResult& h) {
  if (h.level == "zone") return h.asset;
  if (h.level == "site") return "site " + h.site;
  return "use case " + h.use_case;
}

}  // namespace

nlohmann::ordered_json KpiReportToJson(const KpiReport& r) {
  json out;
  out["from"] = Iso(r.from_us);
  out["to"] = Iso(r.to_us);
  out["run_id"] = r.run_id.empty() ? json(nullptr) : json(r.run_id);
  out["currency"] = r.currency;
  out["rows"] = r.rows.size();
  out["seconds"] = r.seconds;
  out["telemetry"] =
      json{{"scans", r.telemetry.scans},
           {"files_read", r.telemetry.scan.files_total - r.telemetry.scan.files_skipped},
           {"rows_read", r.telemetry.scan.rows_read},
           {"rows_used", r.telemetry.rows_used},
           {"rows_bad_quality", r.telemetry.rows_bad_quality},
           {"rows_unconvertible", r.telemetry.rows_unconvertible},
           {"points_kept", r.telemetry.points_kept}};
  json oee = json::array();
  for (const OeeSummary& o : r.oee) {
    json j{{"site", o.site},
           {"line", o.line},
           {"output", o.output},
           {"shift", o.shift.empty() ? json(nullptr) : json(o.shift)},
           {"instances", o.instances}};
    const json parts = OeeJson(o.result);  // a named object: items() refers into it
    for (const auto& [k, v] : parts.items()) j[k] = v;
    oee.push_back(std::move(j));
  }
  out["oee"] = std::move(oee);
  out["lines_without_production"] = r.lines_without_production;
  json rel = json::array();
  for (const AssetReliability& a : r.reliability) {
    const calc::ReliabilityResult& x = a.result;
    rel.push_back(
        {{"asset", a.asset},
         {"type", a.type},
         {"line", a.line},
         {"source", a.source},
         {"downtime_h", x.down_s / 3600},
         {"failures", x.failures},
         {"repairs", x.repairs},
         {"mtbf_h", Num(x.mtbf_s ? std::optional<double>(*x.mtbf_s / 3600) : std::nullopt)},
         {"mttr_h", Num(x.mttr_s ? std::optional<double>(*x.mttr_s / 3600) : std::nullopt)},
         {"run_h", x.run_s / 3600},
         {"no_data_h", x.no_data_s / 3600},
         {"coverage", Num(x.coverage)}});
  }
  out["reliability"] = std::move(rel);
  json energy = json::array();
  for (const LineEnergy& e : r.energy) {
    energy.push_back({{"line", e.line},
                      {"energy_kwh", e.result.energy_kwh},
                      {"good_units", e.result.good_units},
                      {"kwh_per_unit", Num(e.result.kwh_per_unit)},
                      {"meters_without_data", e.result.meters_without_data}});
  }
  out["energy_per_unit"] = std::move(energy);
  json tech{{"alert_events", r.technician.alert_events},
            {"alerts_outside_scope", r.technician.alerts_outside_scope},
            {"work_orders", r.technician.work_orders},
            {"total", TallyJson(r.technician.report.total)}};
  json by_uc = json::object();
  for (const auto& [id, t] : r.technician.report.by_use_case) by_uc[id] = TallyJson(t);
  tech["by_use_case"] = std::move(by_uc);
  tech["orphan_work_orders"] = r.technician.report.orphan_work_orders;
  out["technician"] = std::move(tech);
  json hvac = json::array();
  for (const HvacResult& h : r.hvac) {
    json j{{"level", h.level},
           {"site", h.site.empty() ? json(nullptr) : json(h.site)},
           {"zone", h.asset.empty() ? json(nullptr) : json(h.asset)},
           {"use_case", h.use_case.empty() ? json(nullptr) : json(h.use_case)},
           {"days", h.days},
           {"optimised_days", h.optimised_days},
           {"excluded_days", h.excluded_days},
           {"use_occupancy", h.use_occupancy}};
    if (h.report) {
      const calc::SavingsTotal& t = h.report->total;
      const calc::BaselineFit& f = h.report->fit;
      j["baseline_kwh"] = t.baseline_kwh;
      j["actual_kwh"] = t.actual_kwh;
      j["saved_kwh"] = t.savings_kwh;
      j["carbon_kg"] = t.carbon_kg;
      j["value"] = t.money;
      j["cv_rmse_pct"] = Num(f.cv_rmse_pct);
      j["nmbe_pct"] = Num(f.nmbe_pct);
      j["r2"] = Num(f.r2);
      j["meets_criteria"] = f.meets_criteria;
      j["criteria"] = f.criteria;
      j["fractional_savings_uncertainty"] = Num(t.fractional_savings_uncertainty);
    } else {
      j["error"] = h.error;
    }
    hvac.push_back(std::move(j));
  }
  out["hvac"] = std::move(hvac);
  json ucs = json::array();
  for (const UseCaseResult& u : r.use_cases) {
    json j{{"id", u.id},
           {"category", u.category},
           {"kpi", u.kpi},
           {"unit", u.unit},
           {"measured", u.measured},
           {"reason", u.reason.empty() ? json(nullptr) : json(u.reason)},
           {"period_actual", Num(u.period_actual)},
           {"period_coverage", u.period_coverage},
           {"assets", u.assets}};
    if (u.summary) {
      const calc::ProjectionSummary& s = *u.summary;
      j["days_of_data"] = s.days_of_data;
      j["value_realised"] = s.value_realised;
      j["value_projected"] = s.value_projected;
      j["attainment"] = Num(s.attainment);
      j["realised_annual"] = Num(s.realised_annual);
      j["projected_annual"] = Num(s.projected_annual);
      double projected_kpi = 0;
      for (const calc::ProjectionPoint& p : u.points) projected_kpi += p.kpi_projected;
      j["mean_kpi_projected"] = u.points.empty()
                                    ? json(nullptr)
                                    : json(projected_kpi / static_cast<double>(u.points.size()));
      j["basis"] = s.basis.empty() ? json(nullptr) : json(s.basis);
      j["kpi_measured"] = Num(s.kpi_actual);
      j["measured_baseline"] = Num(s.measured_baseline);
      j["measured_improvement"] = Num(s.measured_improvement);
      j["projected_improvement"] = Num(u.projected_improvement);
      j["days_on_measured_baseline"] = s.days_on_measured_baseline;
    } else {
      j["projection_error"] = u.projection_error;
    }
    ucs.push_back(std::move(j));
  }
  out["use_cases"] = std::move(ucs);
  out["warnings"] = r.warnings;
  return out;
}

std::string KpiReportToTable(const KpiReport& r) {
  std::string out = fmt::format("KPIs {} to {}", Iso(r.from_us), Iso(r.to_us));
  if (!r.run_id.empty())
    out += fmt::format(" (run {}, {} rows in the kpi table)", r.run_id, r.rows.size());
  out += fmt::format("; computed in {:.1f} s from {} telemetry rows\n", r.seconds,
                     r.telemetry.scan.rows_read);

  out += "\nOEE per line and shift (combined over the period)\n";
  out += fmt::format("  {:<14} {:<9} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}   {}\n", "line", "shift",
                     "shifts", "avail", "perf", "quality", "OEE", "coverage",
                     "losses h: jam/elec/material/other/perf/quality");
  for (const OeeSummary& o : r.oee) {
    const calc::OeeResult& x = o.result;
    out += fmt::format(
        "  {:<14} {:<9} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}   "
        "{:.1f}/{:.1f}/{:.1f}/{:.1f}/{:.1f}/{:.1f}\n",
        o.line, o.shift.empty() ? "(all)" : o.shift, o.instances, Pct(x.availability),
        Pct(x.performance), Pct(x.quality), Pct(x.oee), Pct(x.coverage), x.loss_jam_s / 3600,
        x.loss_electrical_s / 3600, x.loss_material_s / 3600, x.loss_other_down_s / 3600,
        x.loss_performance_s / 3600, x.loss_quality_s / 3600);
  }
  if (!r.lines_without_production.empty()) {
    out += "  no OEE (no production in plant.yaml): ";
    for (size_t i = 0; i < r.lines_without_production.size(); ++i) {
      out += (i ? ", " : "") + r.lines_without_production[i];
    }
    out += "\n";
  }

  out += "\nDowntime, MTBF and MTTR per asset (assets with downtime or failures)\n";
  out += fmt::format("  {:<14} {:<16} {:>10} {:>8} {:>8} {:>8} {:>8}  {}\n", "asset", "type",
                     "downtime h", "failures", "MTBF h", "MTTR h", "coverage", "source");
  size_t quiet = 0;
  for (const AssetReliability& a : r.reliability) {
    const calc::ReliabilityResult& x = a.result;
    if (x.down_s <= 0 && x.failures == 0) {
      ++quiet;
      continue;
    }
    out += fmt::format("  {:<14} {:<16} {:>10.2f} {:>8} {:>8} {:>8} {:>8}  {}\n", a.asset, a.type,
                       x.down_s / 3600, x.failures,
                       Fixed(x.mtbf_s ? std::optional<double>(*x.mtbf_s / 3600) : std::nullopt, 1),
                       Fixed(x.mttr_s ? std::optional<double>(*x.mttr_s / 3600) : std::nullopt, 2),
                       Pct(x.coverage), a.source);
  }
  out += fmt::format("  ({} more assets without downtime)\n", quiet);

  out += "\nEnergy per unit\n";
  out += fmt::format("  {:<14} {:>12} {:>12} {:>10}\n", "line", "kWh", "good units", "kWh/unit");
  for (const LineEnergy& e : r.energy) {
    out += fmt::format("  {:<14} {:>12.1f} {:>12.0f} {:>10}\n", e.line, e.result.energy_kwh,
                       e.result.good_units, Fixed(e.result.kwh_per_unit, 3));
  }

  const TechnicianSummary& t = r.technician;
  out += fmt::format(
      "\nTechnician time saved (PdM alert episodes vs work orders; {} alert events, {} work "
      "orders, {} alerts outside PdM scopes)\n",
      t.alert_events, t.work_orders, t.alerts_outside_scope);
  out +=
      fmt::format("  {:<18} {:>6} {:>9} {:>6} {:>10} {:>13} {:>10} {:>10}\n", "use case", "alerts",
                  "confirmed", "false", "unanswered", "minutes saved", "per alert", "value");
  auto tally_line = [&](const std::string& name, const calc::TechnicianTally& x) {
    out += fmt::format("  {:<18} {:>6} {:>9} {:>6} {:>10} {:>13.0f} {:>10} {:>10.0f}\n", name,
                       x.alerts, x.confirmed, x.false_alarms, x.unanswered, x.minutes_saved,
                       Fixed(x.minutes_saved_per_alert, 1), x.value);
  };
  for (const auto& [id, x] : t.report.by_use_case) tally_line(id.empty() ? "(none)" : id, x);
  tally_line("total", t.report.total);

  out += "\nHVAC savings (daily baseline, ASHRAE Guideline 14)\n";
  out += fmt::format("  {:<28} {:>5} {:>5} {:>11} {:>11} {:>9} {:>9} {:>8} {:>9} {:>7}\n", "scope",
                     "days", "opt", "baseline", "actual", "saved", "CO2e kg", "value", "CV(RMSE)",
                     "G14");
  for (const HvacResult& h : r.hvac) {
    if (!h.report) {
      out += fmt::format("  {:<28} {:>5} {:>5}  no baseline: {}\n", ScopeName(h), h.days,
                         h.optimised_days, h.error);
      continue;
    }
    const calc::SavingsTotal& s = h.report->total;
    const calc::BaselineFit& f = h.report->fit;
    out += fmt::format(
        "  {:<28} {:>5} {:>5} {:>11.1f} {:>11.1f} {:>9.1f} {:>9.1f} {:>8.0f} {:>9} {:>7}\n",
        ScopeName(h), h.days, h.optimised_days, s.baseline_kwh, s.actual_kwh, s.savings_kwh,
        s.carbon_kg, s.money, f.cv_rmse_pct ? fmt::format("{:.1f}%", *f.cv_rmse_pct) : "-",
        f.meets_criteria ? "met" : "not met");
  }

  out += fmt::format("\nActual vs projected per use case (value in {})\n", r.currency);
  out += fmt::format("  {:<20} {:<22} {:>10} {:>10} {:>10} {:>10} {:>7} {:>8}  {}\n", "use case",
                     "kpi", "actual", "projected", "realised", "projected", "attain", "coverage",
                     "note");
  for (const UseCaseResult& u : r.use_cases) {
    std::string projected_kpi = "-", realised = "-", projected = "-", attain = "-";
    if (u.summary) {
      double k = 0;
      for (const calc::ProjectionPoint& p : u.points) k += p.kpi_projected;
      if (!u.points.empty())
        projected_kpi = fmt::format("{:.3g}", k / static_cast<double>(u.points.size()));
      realised = fmt::format("{:.0f}", u.summary->value_realised);
      projected = fmt::format("{:.0f}", u.summary->value_projected);
      attain = Pct(u.summary->attainment);
    }
    std::string note = u.measured ? "" : "not measured: " + u.reason;
    if (u.summary && !u.summary->basis.empty()) {
      note = "on " + u.summary->basis;
      if (u.summary->measured_improvement && u.projected_improvement) {
        note += fmt::format(": improvement {} (plant.yaml {})",
                            Pct(u.summary->measured_improvement), Pct(u.projected_improvement));
      }
    }
    if (!u.projection_error.empty()) note += (note.empty() ? "" : "; ") + u.projection_error;
    out +=
        fmt::format("  {:<20} {:<22} {:>10} {:>10} {:>10} {:>10} {:>7} {:>8}  {}\n", u.id,
                    u.kpi + " [" + u.unit + "]",
                    u.period_actual ? fmt::format("{:.3g}", *u.period_actual) : "-", projected_kpi,
                    realised, projected, attain, u.measured ? Pct(u.period_coverage) : "-", note);
  }
  if (!r.warnings.empty()) {
    out += "\nWarnings:\n";
    for (const std::string& w : r.warnings) out += "  - " + w + "\n";
  }
  return out;
}

}  // namespace weft::core::kpi

// KpiJob: the KPIs of a plant over a period, computed from the lake and written to the `kpi`
// table (kpi_table.h). It reads what it needs (lake_inputs.h), builds the inputs of the pure
// computations in src/kpi, and turns their results into rows.
//
//   KpiJob job(lake_root, &plant, &clock);
//   WEFT_ASSIGN_OR_RETURN(KpiReport r, job.Run(from_us, to_us));    // Compute + append one run
//   std::cout << KpiReportToTable(r);                                // or KpiReportToJson(r)
//
// What is read (only these signals; each series' staleness is max(min_stale_after, stale_periods
// × the signal's period in plant.yaml), so a signal sent on heartbeat only still holds):
//   lines with `production`   the output asset's state, down_reason, good_count, reject_count;
//                             the energy counters (signals of quantity energy) of the line's
//                             assets, in kWh
//   conveyors                 state, down_reason        (reliability: conveyor preset)
//   compressors               state                     (reliability: compressor preset)
//   motors and pumps          running                   (operating time, and failures, see
//                             Reliability; also confirmed_fault work orders, opened → closed)
//   HVAC zones                heat_pump_energy (kWh), outdoor_temp (degC), occupancy,
//                             control_mode (1 = remote: the optimiser in control)
//   events                    alerts (lake_inputs.h), merged into episodes per asset
//   work_orders               outcomes and minutes (core/api/work_orders.h)
// Telemetry is read from `lookback` before `from` (state before the period, counter baselines,
// whether a failure began before it) up to the end of the last shift that starts before `to`.
//
// What is computed (rows: kpi name [unit], scope; "day" rows are per UTC day of [from, to),
// "period" rows over [from, to) itself):
//   OEE per line × shift instance (the site's calendar: shifts.h), and combined per line × shift
//     name and per line over the period (oee.h CombineOee): oee, availability, performance,
//     quality [1], planned_s, run_s, loss_jam_s, loss_electrical_s, loss_material_s,
//     loss_other_down_s, loss_performance_s, loss_quality_s [s], good_count, reject_count [pcs].
//     Instance rows have period = the shift instance and `shift` set; combined rows period =
//     [from, to). A line without `production` gets no OEE (listed in the report).
//   Reliability per asset (reliability.h): downtime_h, failures, mtbf_h, mttr_h, run_h (period),
//     downtime_h and failures (day). Conveyors and compressors from their state (presets of
//     reliability.h). Motors and pumps (source "running+work_orders" on a line with production,
//     else "work_orders"): their twins have no failed flag, but a seized motor stops, so
//       down = running 0 while the line's output conveyor is running (2) or down for anything
//              but a planned stop (0, reason != 4), i.e. while the line is to produce,
//       united with the confirmed_fault work orders (opened → closed).
//     A down episode lasts from its first down moment until the motor runs again (idle nights
//     and no-data gaps inside do not end it: a bearing that seized on day 17 is one failure,
//     down during every later shift); overlapping episodes (a work order for a stop the flag
//     shows) are one failure. Running 0 while the line is idle or in a planned stop is a stop,
//     not a failure. An episode that began before the window, or with no running seen since
//     the start of the look-back (its onset unknown), is not a failure of the window. MTBF =
//     run time / failures, MTTR = the repaired episodes' length / their number. A motor on a
//     line without production shows no failure in its signals (only work orders count).
//   Energy per unit per line with production (energy.h): energy_per_unit [kWh/unit],
//     energy_kwh, good_units (day and period).
//   Technician time (technician.h) per predictive-maintenance use case, per asset and in total
//     (period): technician_alerts, technician_confirmed, technician_false_alarms,
//     technician_unanswered, technician_minutes_saved, technician_minutes_saved_per_alert [min],
//     technician_value [currency]. An alert belongs to the first PdM use case (plant.yaml order)
//     whose assets include the alert's asset (its scope, narrowed to the asset types its
//     requirements name); alerts of other assets are counted but not tallied.
//   HVAC savings (baseline.h, ASHRAE Guideline 14, daily periods) per zone, per site and per
//     HVAC use case: a daily period's energy is the heat_pump_energy increase of the UTC day, its
//     HDD the heating degree hours below hdd_balance_c / 24, its occupancy the person-hours (both
//     divided by their coverage, so a day with gaps is not under-counted). A day is OPTIMISED
//     when control_mode was 1 (remote: the optimiser in control) for more than half of the day;
//     otherwise it is a baseline day (also when control_mode has no data). A day whose energy
//     or outdoor-temperature coverage is below min_day_coverage is left out. For a site or a use
//     case, a day's energy and occupancy are the zones' sums, its HDD the zones' mean, and it is
//     optimised when the zones were remote for more than half of their summed time. The model
//     uses occupancy when every zone has it and it varies, else HDD alone (also as a fallback
//     when the fit with occupancy is singular). Rows: hvac_energy_saved_kwh,
//     hvac_carbon_saved_kg, hvac_baseline_kwh, hvac_actual_kwh (day: per optimised day; and
//     period), hvac_savings_value [currency], hvac_optimised_days, hvac_baseline_cv_rmse [%]
//     (period; detail: the fit, NMBE, R², whether G14's criteria are met). A scope whose fit is
//     impossible (e.g. no baseline days) gets hvac_baseline_cv_rmse null with the reason.
//   Actual vs projected per use case per day (projection.h): kpi_actual [the KPI's unit],
//     kpi_projected, value_realised, value_projected [currency]. The KPI is measured on the
//     USE CASE'S ASSETS: those in its scope (its lines, or the whole plant without a scope)
//     whose asset type is, or extends, one of the asset types of its `requires` list (e.g.
//     pdm-spindles: the cnc_spindles of l1-machining, not its conveyors); UseCaseResult::assets
//     lists them. By name:
//       unplanned_downtime      unplanned down time of those assets, in hours, annualised:
//                               conveyors: state 0 with a failure reason (jam, electrical or
//                               unknown; not material shortage or a planned stop); compressors:
//                               fault (state 3); motors and pumps: as in Reliability (running 0
//                               while the line is to produce, and confirmed work orders)
//       compressed_air_outages  fault time (state 3) of the compressors, h, annualised
//       energy_per_unit         energy of those assets / good units of the lines they are on
//                               (lines with production); detail kwh_by_asset
//       heating_energy          heat_pump_energy of the HVAC zones, annualised
//       first_pass_yield        good / (good + reject) of the outputs of the lines they are on
//                               (× 100 for "%")
//     converted to the KPI's unit (its numerator for "…/year" and "…/unit" units). Any other KPI
//     (or a unit that does not fit) is "not measured": kpi_actual null with the reason in
//     detail; the projection is still written.
//     What a day is judged against (projection.h; the row's detail "basis"):
//       - heating_energy of an HVAC use case with a baseline model: a day the optimiser did not
//         run is a baseline day ("baseline_period", not judged); an optimised day is judged
//         against the model's prediction for it ("hvac_baseline_model"; detail
//         measured_baseline, baseline_kwh, savings_kwh), so the realised value is
//         annual_value × (savings / prediction over the optimised days) / ((baseline − target)
//         / baseline of plant.yaml), annualised over the optimised days: scale-free, whatever
//         the simulated or real zones' size. A day the model left out (too little data) is
//         "excluded" (its KPI is written but not judged).
//       - any KPI, when the lake holds it before go-live: the kpi_actual days before live_from,
//         of this period and of earlier runs (rows before `from` in the kpi table, same unit),
//         are the baseline ("lake_baseline", when they cover at least 14 days): relative
//         improvement against it, the same way.
//       - otherwise plant.yaml's baseline in absolute terms ("plan_baseline"); the roadmap
//         (roadmap.h) refuses to judge on it when the measured KPI is more than ×2 away.
//
// Errors: InvalidArgument for from >= to or a period over 400 days; NotFound when the lake has
// no telemetry table; errors of the reads (naming the table). Missing events or work_orders
// tables mean no alerts / no work orders. A computation that cannot be made for one scope (an
// impossible baseline fit, a site whose time zone cannot be loaded) becomes a warning and a
// null row, not an error of the job.
//
// Thread-safety: Compute and Run are const and reentrant; the plant and clock must outlive the
// job.
#ifndef WEFT_CORE_KPI_KPI_JOB_H_
#define WEFT_CORE_KPI_KPI_JOB_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/kpi/kpi_table.h"
#include "core/kpi/lake_inputs.h"
#include "kpi/baseline.h"
#include "kpi/energy.h"
#include "kpi/oee.h"
#include "kpi/projection.h"
#include "kpi/reliability.h"
#include "kpi/technician.h"
#include "model/plant.h"

namespace weft::core::kpi {

struct KpiJobOptions {
  int64_t min_stale_after_us = int64_t{150} * 1'000'000;  //!< above the edge's 60 s heartbeat
  double stale_periods = 2.5;  //!< staleness in signal periods (plant.yaml), if longer
  int64_t lookback_us = int64_t{24} * 3600 * 1'000'000;
  double hdd_balance_c = 15.5;    //!< heating degree base temperature
  double min_day_coverage = 0.5;  //!< HVAC days with less energy/temperature data are left out
  int64_t alert_merge_us = int64_t{3600} * 1'000'000;  //!< alerts of an asset closer: one episode
  int64_t link_window_us = int64_t{24} * 3600 * 1'000'000;  //!< work order ↔ alert by time
  std::string zoneinfo_dir{};                               //!< "" = $TZDIR or /usr/share/zoneinfo
};

struct OeeInstance {
  std::string site, area, line, output, shift;
  ::weft::kpi::OeeResult result;
};

//! A line's OEE combined over the period, per shift name ("" = every shift).
struct OeeSummary {
  std::string site, area, line, output, shift;
  size_t instances = 0;
  ::weft::kpi::OeeResult result;
};

struct AssetReliability {
  std::string site, area, line, asset, type;
  std::string source;  //!< "state" (from signals) or "work_orders" (motors, pumps)
  ::weft::kpi::ReliabilityResult result;
};

struct LineEnergy {
  std::string site, area, line;
  ::weft::kpi::EnergyPerUnit result;
};

struct TechnicianSummary {
  ::weft::kpi::TechnicianReport report;
  size_t alert_events = 0;          //!< alert rows read from events
  size_t alerts_outside_scope = 0;  //!< episodes on assets of no PdM use case
  size_t work_orders = 0;           //!< work orders of PdM assets in the period
};

struct HvacResult {
  std::string level;  //!< "zone", "site" or "use_case"
  std::string site, area, line, asset, use_case;
  size_t days = 0, optimised_days = 0, excluded_days = 0;
  bool use_occupancy = false;
  std::optional<::weft::kpi::BaselineReport> report;  //!< none when the fit is impossible
  std::string error;                                  //!< why there is no report
  //! The days given to the model (excluded days are not among them), `optimised` set.
  std::vector<::weft::kpi::BaselinePeriod> periods;
};

struct UseCaseResult {
  std::string id, name, category, kpi, unit;
  std::string site, area, line;  //!< the rows' scope (one line or one site), "" otherwise
  //! The assets the KPI is measured on: the scope's (or the plant's), of the asset types the
  //! use case requires (or extending them).
  std::vector<std::string> assets;
  bool measured = false;
  std::string reason;                   //!< why not measured
  std::optional<double> period_actual;  //!< the KPI over the whole period
  double period_coverage = 0;
  std::vector<::weft::kpi::ProjectionPoint> points;  //!< per day
  std::optional<::weft::kpi::ProjectionSummary> summary;
  std::optional<double> projected_improvement;  //!< (baseline − target) / baseline, plant.yaml
  size_t earlier_rows = 0;  //!< kpi_actual rows of earlier runs before go-live it used
  std::string projection_error;
};

struct KpiReport {
  int64_t from_us = 0, to_us = 0;
  std::string run_id;  //!< set by Run
  std::string currency;
  std::vector<OeeInstance> oee_shifts;
  std::vector<OeeSummary> oee;
  std::vector<std::string> lines_without_production;
  std::vector<AssetReliability> reliability;
  std::vector<LineEnergy> energy;
  TechnicianSummary technician;
  std::vector<HvacResult> hvac;
  std::vector<UseCaseResult> use_cases;
  std::vector<KpiRow> rows;  //!< what Run writes
  std::vector<std::string> warnings;
  SeriesReadStats telemetry;
  double seconds = 0;  //!< wall time of Compute
};

class KpiJob {
 public:
  KpiJob(std::string lake_root, const model::Plant* plant, const Clock* clock,
         KpiJobOptions options = {});

  //! Reads and computes; writes nothing.
  Result<KpiReport> Compute(int64_t from_us, int64_t to_us) const;
  //! Compute, then appends the rows as one run (report.run_id).
  Result<KpiReport> Run(int64_t from_us, int64_t to_us) const;

 private:
  std::string lake_root_;
  const model::Plant* plant_;
  const Clock* clock_;
  KpiJobOptions options_;
};

//! Where a use case's rows are placed: its line when its scope's assets are on exactly one line,
//! else its site when they are on one site, else nowhere ("" everywhere: a plant-wide use case,
//! a global resource for access control).
struct UseCasePlace {
  std::string site, area, line;
};
UseCasePlace PlaceOfUseCase(const model::Plant& plant, const model::UseCase& use_case);

//! Stable key order; undefined values are null.
nlohmann::ordered_json KpiReportToJson(const KpiReport& report);
//! The summary tables of `weft kpi compute`.
std::string KpiReportToTable(const KpiReport& report);

}  // namespace weft::core::kpi

#endif  // WEFT_CORE_KPI_KPI_JOB_H_

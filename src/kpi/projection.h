// Actual vs projected, per use case: the KPI the plan promised (plant.yaml use_cases[].kpi,
// annual_value, live_from) against the KPI measured, period by period, in KPI units and money.
//
//   ProjectionSpec spec{.use_case = "pdm-spindles", .kpi = uc.kpi, .annual_value = 179200,
//                       .live_from_us = live_from};
//   KpiMeasurement m{.start_us = nov1, .end_us = dec1, .kpi_actual = 70, .coverage = 0.98};
//   WEFT_ASSIGN_OR_RETURN(ProjectionPoint pt, ProjectPeriod(spec, m));
//   pt.kpi_projected; pt.value_realised; pt.value_projected; pt.attainment;
//   ProjectionSummary s = Summarise(series);     // totals and annualised values for the roadmap
//
// Trajectory (the projection). Before live_from nothing is projected. From live_from the KPI
// moves linearly from baseline to target over ramp_us (default 90 days), then stays at target:
//   a(t) = 0 for t < live_from;  (t − live_from) / ramp for live_from <= t < live_from + ramp;  1
//   after.   KPI_projected(t) = baseline + a(t) · (target − baseline).
// For a period [start, end) with length D days (D = (end − start) / 86400 s, a year = 365 days):
//   ā               = the mean of a(t) over the period (exact: the integral of the ramp / length)
//   kpi_projected   = baseline + ā · (target − baseline)
//   value_projected = annual_value · ā · D / 365
//   live_days       = the days of the period at or after live_from
//   value_realised  = annual_value · share · live_days / 365   (share: below; nullopt without
//                     kpi_actual, with live_days = 0, or for a baseline period; negative when
//                     the KPI got worse; no clamping)
//   attainment      = value_realised / value_projected (nullopt when either is missing or the
//                     projection is 0, e.g. before live_from)
// A period that straddles live_from counts only its live part; kpi_actual is taken as
// representative of it, so measure periods that start at live_from where possible.
//
// The share of the promised improvement achieved (`basis` of the point says which applies):
//   "plan_baseline"  (no measured baseline) the plant.yaml numbers in absolute terms:
//                    share = (baseline − kpi_actual) / (baseline − target).
//                    Only meaningful when the measured KPI and plant.yaml's baseline describe
//                    the same thing; the roadmap checks that they are of the same size.
//   measured         (the period has a measured baseline B_m, in the KPI's unit) the relative
//                    improvement against it, scaled by the relative improvement plant.yaml
//                    promised (M&V practice: savings against a measured baseline, scale-free):
//                      r_projected = (baseline − target) / baseline          (plant.yaml)
//                      r_measured  = (B_m − kpi_actual) / B_ref
//                      share       = r_measured / r_projected
//                    B_ref is B_m in ProjectPeriod; in ProjectSeries it is the mean of B_m over
//                    the series' judged periods on a measured baseline, weighted by live days,
//                    so that the series' realised value adds up to
//                      annual_value · [Σ (B_m − actual)·live / Σ B_m·live] / r_projected · Σ
//                      live/365,
//                    the savings over the periods divided by the baseline over the same periods
//                    (a ratio of sums, not a mean of ratios). A period's measured baseline
//                    comes from:
//     - the measurement itself (`measured_baseline`, basis = `measured_baseline_source`, e.g.
//       "hvac_baseline_model": an HVAC baseline model's prediction for the day), or
//     - ProjectSeries, basis "lake_baseline": the KPI measured over the BASELINE PERIODS of the
//       series (the periods that end at or before live_from, and those marked
//       `baseline_period`: the optimiser or PdM did not run), when they hold at least
//       spec.min_baseline_days of covered data (Σ days · coverage, periods with kpi_actual and
//       no measured baseline of their own):
//         B_lake = Σ kpi_actual · days · coverage / Σ days · coverage
//       (exact for per-year KPIs, whose kpi_actual is annualised over covered time; a
//       day-weighted mean for rates and ratios). Every judged period without a measured
//       baseline of its own is then judged against B_lake.
//   A measured baseline of 0 (no relative improvement can be formed) or a plant.yaml baseline
//   of 0 (no projected relative improvement) falls back to "plan_baseline".
// A baseline period is never judged (value_realised nullopt) but its value is still projected.
//
// Annualisation (AnnualiseKpi). A KPI whose unit is per year ("h/year", "MWh/year", "/yr", "/a")
// is extensive: a measurement over a period is scaled to a year over the time it covers,
//   annual = measured · 365 / (D · coverage),
// e.g. 3 h of downtime in 30 days at coverage 1 → 36.5 h/year. Other units (kWh/unit, %, min)
// are intensive (rates, ratios, durations): the measurement is the KPI as it is. Either way the
// result is nullopt when coverage <= 0 (no data, no KPI) or a value is not finite. The measured
// value must already be in the KPI's unit (e.g. kWh → MWh is the caller's conversion).
//
// Errors (InvalidArgument, naming the use case): baseline == target (no improvement to measure),
// a non-finite KPI field, a negative annual_value, ramp_us <= 0, min_baseline_days < 0, end <=
// start, coverage outside [0, 1], a non-finite kpi_actual or measured_baseline.
//
// Thread-safety: pure functions over values.
#ifndef WEFT_KPI_PROJECTION_H_
#define WEFT_KPI_PROJECTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/plant.h"

namespace weft::kpi {

inline constexpr int64_t kDefaultRampUs = int64_t{90} * 86400 * 1000000;

struct ProjectionSpec {
  std::string use_case{};
  model::Kpi kpi{};                       //!< name, unit, baseline, target
  double annual_value = 0;                //!< the plan's value per year at target
  std::optional<int64_t> live_from_us{};  //!< nullopt = not live: nothing projected or realised
  int64_t ramp_us = kDefaultRampUs;
  //! ProjectSeries judges against the baseline periods' KPI when they cover at least this many
  //! days (Σ days · coverage).
  double min_baseline_days = 14;
};

inline constexpr std::string_view kPlanBaseline = "plan_baseline";
inline constexpr std::string_view kLakeBaseline = "lake_baseline";
//! The source core/kpi gives the HVAC baseline model's daily predictions.
inline constexpr std::string_view kHvacBaselineModel = "hvac_baseline_model";

struct KpiMeasurement {
  int64_t start_us = 0, end_us = 0;
  std::optional<double>
      kpi_actual{};     //!< in the KPI's unit (annualised if per year); nullopt = none
  double coverage = 0;  //!< share of the period with data, 0..1
  //! The KPI a measured baseline predicts for this period, in the KPI's unit (e.g. an HVAC
  //! baseline model's prediction for the day, annualised like kpi_actual); nullopt = none.
  std::optional<double> measured_baseline{};
  std::string measured_baseline_source = "measured_baseline";  //!< the basis it gives
  //! A period of the measured baseline (e.g. the optimiser did not run): not judged; its
  //! kpi_actual joins ProjectSeries' lake baseline.
  bool baseline_period = false;
};

struct ProjectionPoint {
  int64_t start_us = 0, end_us = 0;
  std::optional<double> kpi_actual{};
  double kpi_projected = 0;
  double projected_attainment = 0;  //!< ā, 0..1
  double live_days = 0;
  double coverage = 0;
  std::optional<double> value_realised{};
  double value_projected = 0;
  std::optional<double> attainment{};
  bool baseline_period = false;
  //! What value_realised was judged against: "plan_baseline", "lake_baseline", the
  //! measurement's measured_baseline_source; "" when not judged (no value_realised).
  std::string basis{};
  std::optional<double> measured_baseline{};  //!< B_m, when judged against one
};

//! One period (see the file comment).
Result<ProjectionPoint> ProjectPeriod(const ProjectionSpec& spec, const KpiMeasurement& m);

//! ProjectPeriod for each measurement, in order, with the series' lake baseline and the
//! ratio-of-sums reference (see the file comment).
Result<std::vector<ProjectionPoint>> ProjectSeries(const ProjectionSpec& spec,
                                                   const std::vector<KpiMeasurement>& measurements);

//! r_projected = (baseline − target) / baseline; nullopt when the baseline is 0.
std::optional<double> ProjectedImprovement(const model::Kpi& kpi);

//! a(t) of the trajectory (0 when not live).
double ProjectedAttainmentAt(const ProjectionSpec& spec, int64_t t_us);

struct ProjectionSummary {
  size_t periods = 0;            //!< all periods
  size_t periods_with_data = 0;  //!< live periods (live_days > 0) with a kpi_actual
  double live_days = 0;          //!< Σ live days of all periods
  double days_of_data = 0;       //!< Σ live days of the periods with data
  //! Σ coverage · live_days / Σ live_days over all live periods (periods without kpi_actual
  //! count with their coverage); 0 when nothing is live.
  double coverage = 0;
  //! Σ over the live periods with data only, so that realised and projected compare like with
  //! like.
  double value_realised = 0, value_projected = 0;
  std::optional<double> attainment{};        //!< value_realised / value_projected; nullopt if <= 0
  std::optional<double> realised_annual{};   //!< value_realised · 365 / days_of_data
  std::optional<double> projected_annual{};  //!< value_projected · 365 / days_of_data
  //! The basis the periods with data share, "mixed" when they differ, "" without any.
  std::string basis{};
  //! The measured KPI over the periods with data: the mean of kpi_actual weighted by live days
  //! × coverage (by live days when every coverage is 0).
  std::optional<double> kpi_actual{};
  double days_on_plan_baseline = 0;  //!< live days of data judged on plant.yaml's baseline
  std::optional<double> kpi_actual_on_plan_baseline{};  //!< kpi_actual's mean over those
  double days_on_measured_baseline = 0;  //!< live days of data judged on a measured baseline
  //! Over those: the mean measured baseline (weighted by live days) and the measured relative
  //! improvement 1 − Σ actual·live / Σ B_m·live (nullopt when Σ B_m·live = 0).
  std::optional<double> measured_baseline{}, measured_improvement{};
};

//! Totals over `points` (see ProjectionSummary).
ProjectionSummary Summarise(const std::vector<ProjectionPoint>& points);

//! True for per-year units: "…/year", "…/yr", "…/a" (case-sensitive, as in plant.yaml).
bool IsPerYearUnit(std::string_view unit);

//! The KPI value of a measurement over [start_us, end_us) (see Annualisation above).
std::optional<double> AnnualiseKpi(double measured, int64_t start_us, int64_t end_us,
                                   double coverage, std::string_view unit);

}  // namespace weft::kpi

#endif  // WEFT_KPI_PROJECTION_H_

// The roadmap (`weft roadmap --quarter 2027Q1`): ranks the use cases by the value they realise
// against their cost and their projection, says how sure we are, and which to scale, fix, stop or
// keep measuring.
//
//   UseCaseEvidence e{.id = "pdm-spindles", .annual_value = 179200,
//                     .live_from_us = live_from, .series = points,    // from ProjectSeries
//                     .retrofit_cost = plan.retrofit_cost, .running_cost_per_year = 6000,
//                     .kpi = uc.kpi};                                 // for the baseline check
//   WEFT_ASSIGN_OR_RETURN(Roadmap r, BuildRoadmap("2027Q1", {e, ...}, RoadmapOptions{}));
//   std::cout << RoadmapToTable(r, "EUR");   // or RoadmapToJson(r).dump(2)
//
// Quarter. "YYYYQn" (n = 1..4, 'q' accepted), e.g. "2027Q1" → [2027-01-01, 2027-04-01) UTC.
// The roadmap for a quarter weighs the evidence available by its end: the periods of a series
// that start before the quarter's end (later periods are ignored). Run it before the quarter
// for planning, or during/after it for review.
//
// Per use case (S = Summarise(periods considered), projection.h):
//   days_of_data       S.days_of_data (live days with a measured KPI)
//   coverage           S.coverage
//   realised_annual    S.realised_annual: the realised value annualised over the days of data
//   projected_annual   S.projected_annual: the projection over the same days, annualised
//   attainment         S.attainment = realised / projected over the same periods
//   cost               retrofit_cost (one-off, from the plan) + running_cost_per_year
//   net_annual_value   realised_annual − running_cost_per_year
//   payback_years      retrofit_cost / net_annual_value (0 when nothing to buy; nullopt when the
//                      net value is <= 0 or unknown)
//   roi                (realised_annual·H − (retrofit + running·H)) / (retrofit + running·H) over
//                      H = horizon_years (nullopt when the cost is 0 or the value unknown)
//   basis              S.basis: what the realised value was judged against (projection.h):
//                      "plan_baseline", "lake_baseline", "hvac_baseline_model", "mixed"
//   kpi_measured       S.kpi_actual, the measured KPI over the days of data
//   measured_improvement, projected_improvement   with a measured baseline: the measured
//                      relative improvement (S.measured_improvement, e.g. HVAC savings / the
//                      baseline model's prediction over the optimised days) and plant.yaml's
//                      (baseline − target) / baseline; realised = annual_value × measured /
//                      projected, annualised over the days of data
// Credibility. The evidence is IMPLAUSIBLE, and never a reason to scale, stop or fix, when
//   - part of it was judged on plant.yaml's baseline in absolute terms (no measured baseline)
//     and the KPI measured there (S.kpi_actual_on_plan_baseline) and plant.yaml's baseline are
//     more than max_baseline_ratio apart (ratio = measured / baseline outside
//     [1/max_baseline_ratio, max_baseline_ratio], or of the other sign; with a baseline of 0,
//     any non-zero measurement): plant.yaml describes other assets or another scale than the
//     lake ("baseline mismatch: measured 0.92 kWh/unit against a plant.yaml baseline of 1.9
//     (x0.48): re-baseline the KPI from the lake before judging it"); this needs `kpi`;
//   - or, on a measured baseline (lake or model), the measured improvement is more than
//     max_attainment times plant.yaml's promised one (measured_improvement /
//     projected_improvement); otherwise attainment > max_attainment (the value realised is more
//     than that many times the projection: the baseline or the projection is wrong). Attainment
//     itself is not bounded on a measured baseline: the projection ramps up after go-live, so a
//     use case that delivers its steady-state improvement early is ahead of it, not implausible.
// Confidence score in [0, 1] = data × coverage × fit × baseline, each factor with its reason:
//   data     = min(1, days_of_data / min_days_of_data)
//   coverage = min(1, coverage / min_coverage)
//   fit      = 1 without a baseline model (non-HVAC) or when it meets G14's criteria, else
//              unmet_fit_factor (the savings rest on a model that does not meet the criteria)
//   baseline = 0 when the evidence is implausible, else 1
//   level: high when score >= high_confidence, medium when >= medium_confidence, else low.
// Decision, first rule that applies:
//   measure  not live by the quarter's end (no live_from, or live_from >= quarter end), or no
//            live period with a measured KPI, or implausible evidence (confidence low)
//   stop     confidence >= medium and (realised_annual <= 0 or attainment < stop_attainment)
//   scale    confidence >= medium and attainment >= scale_attainment and net_annual_value > 0
//   fix      otherwise: some value but below projection, value eaten by running cost, or low
//            confidence
// Ranking: by decision (scale, fix, measure, stop: where effort pays first), then by
// net_annual_value (highest first; unknown last), then attainment (highest first), then id.
// Each entry lists its reasons (confidence factors, the decision's rule with its numbers, the
// rank's key) as sentences.
//
// Errors: InvalidArgument for a bad quarter ("quarter '2027Q5': the quarter must be 1 to 4"),
// an empty or duplicate use-case id, negative costs, or options out of range (thresholds outside
// [0, 1] where they are shares, medium > high, min_days_of_data <= 0, horizon_years <= 0,
// max_baseline_ratio <= 1, max_attainment < scale_attainment).
//
// Thread-safety: pure functions over values.
#ifndef WEFT_KPI_ROADMAP_H_
#define WEFT_KPI_ROADMAP_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kpi/baseline.h"
#include "kpi/projection.h"

namespace weft::kpi {

struct Quarter {
  int year = 0;
  int quarter = 0;  //!< 1..4
  int64_t start_us = 0, end_us = 0;
  std::string label{};  //!< "2027Q1"
};

//! Parses and validates "YYYYQn" (year 1970..9999).
Result<Quarter> ParseQuarter(std::string_view text);

struct UseCaseEvidence {
  std::string id{}, name{}, category{};
  double annual_value = 0;                    //!< the plan's projection per year (plant.yaml)
  std::optional<int64_t> live_from_us{};      //!< nullopt = not live
  std::vector<ProjectionPoint> series{};      //!< ProjectSeries output, in time order
  double retrofit_cost = 0;                   //!< one-off (model::UseCasePlan::retrofit_cost)
  double running_cost_per_year = 0;           //!< use_cases[].running_cost
  std::optional<BaselineFit> baseline_fit{};  //!< the energy baseline behind an HVAC use case
  //! The plan's KPI (plant.yaml: name, unit, baseline, target); nullopt skips the baseline
  //! check and the projected improvement.
  std::optional<model::Kpi> kpi{};
};

struct RoadmapOptions {
  double min_days_of_data = 28;
  double min_coverage = 0.8;
  double high_confidence = 0.8;
  double medium_confidence = 0.5;
  double unmet_fit_factor = 0.5;
  double scale_attainment = 0.8;
  double stop_attainment = 0.3;
  double horizon_years = 3;
  double max_baseline_ratio = 2;  //!< measured vs plant.yaml baseline, either way
  double max_attainment = 2;      //!< above: implausible evidence
};

enum class Confidence { kLow, kMedium, kHigh };
enum class Decision { kScale, kFix, kMeasure, kStop };
std::string_view ConfidenceName(Confidence c);  //!< "low", "medium", "high"
std::string_view DecisionName(Decision d);      //!< "scale", "fix", "measure", "stop"

struct RoadmapEntry {
  size_t rank = 0;  //!< 1-based
  std::string id{}, name{}, category{};
  Decision decision = Decision::kMeasure;
  bool live = false;
  double days_of_data = 0;
  double coverage = 0;
  double plan_annual_value = 0;
  std::optional<double> realised_annual{}, projected_annual{}, attainment{};
  double retrofit_cost = 0, running_cost_per_year = 0;
  std::optional<double> net_annual_value{}, payback_years{}, roi{};
  std::optional<double> cv_rmse_pct{};   //!< of the baseline model, when there is one
  std::string basis{};                   //!< S.basis ("" without data)
  std::string kpi_name{}, kpi_unit{};    //!< from `kpi`
  std::optional<double> kpi_measured{};  //!< S.kpi_actual
  std::optional<double> kpi_baseline{};  //!< plant.yaml's baseline
  //! kpi_actual_on_plan_baseline / plant.yaml's baseline, when judged on it
  std::optional<double> baseline_ratio{};
  std::optional<double> measured_baseline{}, measured_improvement{}, projected_improvement{};
  bool implausible = false;  //!< see Credibility
  double confidence_score = 0;
  Confidence confidence = Confidence::kLow;
  std::vector<std::string> reasons{};
};

struct Roadmap {
  Quarter quarter{};
  RoadmapOptions options{};
  std::vector<RoadmapEntry> entries{};  //!< ranked
};

//! Ranks `use_cases` for `quarter` (see the file comment).
Result<Roadmap> BuildRoadmap(std::string_view quarter,
                             const std::vector<UseCaseEvidence>& use_cases,
                             const RoadmapOptions& options);

//! Stable key order; undefined values are null; money rounded to cents, shares to 0.1 %.
nlohmann::ordered_json RoadmapToJson(const Roadmap& roadmap);
//! The ranked table, then the rules and each entry's reasons.
std::string RoadmapToTable(const Roadmap& roadmap, std::string_view currency);

}  // namespace weft::kpi

#endif  // WEFT_KPI_ROADMAP_H_

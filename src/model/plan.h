// `weft plan`: which use cases can the plant's sensors already serve, what the gaps cost to
// close, who has not signed off, and in what order to go.
//
//   PlanReport report = BuildPlan(plant, {.as_of = DayOf(clock.Now())});
//   std::cout << PlanToTable(report);     // or PlanToJson(report).dump(2)
//
// Coverage. For a use case, the assets in scope whose type appears in its requirements each
// need every required signal of their type; each (asset, required signal) is a "point". Coverage
// is the share of points whose signal is fitted on the asset.
//
// Retrofit. For each asset with missing points, the retrofit options of its type are chosen
// greedily by cost per newly covered signal until no missing point remains; points that no
// option covers leave the use case "blocked". Retrofit cost = sum of the chosen options' cost.
//
// Alignment. The share of the three stakeholders (OT, IT, business) whose sign-off is present and
// no older than planning.signoff_valid_days on the as-of date.
//
// Priority score (0-100), with weights from planning.weights (defaults 0.40/0.25/0.20/0.15):
//   score   = 100 * (w_value*value + w_payback*payback + w_coverage*coverage +
//   w_alignment*alignment) value   = annual value / largest annual value among the plant's use
//   cases payback = 1 / (1 + retrofit cost / annual value)   (1 with nothing to buy; 0 when blocked
//             or when the use case has no value)
//   coverage, alignment as above, in 0..1.
// Ranked by score, then by id.
//
// Thread-safety: pure functions.
#ifndef WEFT_MODEL_PLAN_H_
#define WEFT_MODEL_PLAN_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/plant.h"

namespace weft::model {

struct PlanOptions {
  std::chrono::sys_days as_of;
};

struct RequirementCoverage {
  std::string asset_type;
  std::string signal;
  size_t present = 0;
  size_t total = 0;
  std::vector<std::string> missing_on;  //!< asset ids
};

struct RetrofitLine {
  std::string asset_type;
  std::string sensor;
  std::vector<std::string> signals;
  std::vector<std::string> assets;
  double cost_per_asset = 0;
  double cost = 0;
};

//! Required signals that no retrofit option provides.
struct UncoveredGap {
  std::string asset_type;
  std::string signal;
  std::vector<std::string> assets;
};

struct SignOffStatus {
  Stakeholder who = Stakeholder::kOt;
  enum class State { kSigned, kMissing, kExpired } state = State::kMissing;
  std::string by;
  std::string on;  //!< YYYY-MM-DD, "" when missing
};

struct ScoreTerms {
  double value = 0, payback = 0, coverage = 0, alignment = 0;
  double score = 0;
};

struct UseCasePlan {
  std::string id, name, category;
  Kpi kpi;
  double annual_value = 0;
  size_t assets_in_scope = 0;  //!< assets of a required type within the scope
  size_t assets_complete = 0;  //!< of those, assets with every required signal
  size_t points_present = 0, points_total = 0;
  double coverage = 0;
  std::vector<RequirementCoverage> requirements;
  std::vector<RetrofitLine> retrofit;
  double retrofit_cost = 0;
  std::vector<UncoveredGap> uncovered;
  std::vector<SignOffStatus> signoffs;
  double alignment = 0;
  ScoreTerms terms;
  //! "ready", "needs_signoff", "needs_retrofit" or "blocked" (see StatusOf in plan.cc).
  std::string status;
};

struct PlanReport {
  std::string file;
  std::string enterprise;
  std::string currency;
  std::string as_of;
  ScoreWeights weights;
  size_t sites = 0, areas = 0, lines = 0, assets = 0, signals = 0, asset_types_used = 0;
  std::vector<UseCasePlan> ranked;
};

PlanReport BuildPlan(const Plant& plant, const PlanOptions& options);

//! Stable key order; numbers rounded for reading (coverage to 0.1%, money to cents, score 0.1).
nlohmann::ordered_json PlanToJson(const PlanReport& report);
//! The ranked table, the formula, and a paragraph per use case.
std::string PlanToTable(const PlanReport& report);

}  // namespace weft::model

#endif  // WEFT_MODEL_PLAN_H_

// Physics-informed validation of a candidate model before promotion: the model is swept across
// its operating envelope and every constraint of its asset type is checked; a candidate with a
// failed constraint is refused, and the report says which constraint, where and how.
//
//   WEFT_ASSIGN_OR_RETURN(auto set, model::physics::LoadConstraintsFile(path, &diags));
//   WEFT_ASSIGN_OR_RETURN(auto model, edge::inference::TreeModel::Load(artifact, "risk", "2"));
//   WEFT_ASSIGN_OR_RETURN(ValidationReport report,
//                         ValidateCandidate(*model, "failure_risk", model_config.features,
//                                           *set.For("motor", &plant), SweepOptions{}));
//   if (!report.passed) return FailedPreconditionError(report.Summary());
//
// The sweep. The model reads features laid out as the edge computes them (features.h): per
// feature signal, its stats. A sweep point gives each feature signal a level inside its envelope
// range (every feature signal needs one: InvalidArgument naming it otherwise); a steady level v
// has last = mean = min = max = v, std = 0, slope = 0. The base points are the full grid of
// grid_steps levels per signal when it has at most max_points points, else a seeded Latin
// hypercube sample of max_points. dynamic_points more points (seeded) carry a nonzero std and
// slope (std_fraction and slope_fraction of the envelope width; min/max = level -/+ std).
//
// The checks, per constraint kind:
//   bounds (output)     the prediction at every base and dynamic point is within [min, max].
//   monotonic           from each base point, the input walks its grid_steps levels (other
//                       signals fixed); each step where the output moves the wrong way by more
//                       than `tolerance` is a violation (with the full grid, each line is walked
//                       once).
//   balance             evaluated at every base point when each variable is the model's output
//                       or a feature signal; otherwise skipped with the variable named.
//   twin_agreement      at every base point, the twin (MakeTwin, default parameters) gets the
//                       constraint's inputs evaluated at the point, is stepped to steady state
//                       (20 x 1 h: exact for the built-in twins' first-order nodes), and
//                       |prediction - twin output| must be <= tolerance; points whose inputs fall
//                       outside the twin's limits are not compared (counted in the detail);
//                       inputs that use an unswept signal skip the constraint, naming it.
//   rate_of_change, bounds on signals
//                       skipped: they concern time series and measurements (the edge's guard).
// Constraints about another output than `output_name` are skipped with that reason.
// passed = no constraint failed.
//
// Thread-safety: ValidateCandidate is reentrant (the model's Predict is const); reports are values.
#ifndef WEFT_MLOPS_VALIDATION_PHYSICS_VALIDATION_H_
#define WEFT_MLOPS_VALIDATION_PHYSICS_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "edge/inference/inference_config.h"
#include "edge/inference/model_runner.h"
#include "model/physics.h"

namespace weft::mlops {

struct SweepOptions {
  int grid_steps = 7;        //!< levels per signal (>= 2)
  size_t max_points = 2000;  //!< larger grids become a Latin hypercube sample of this size
  uint64_t seed = 1;         //!< of the Latin hypercube and the dynamic points
  double tolerance = 1e-6;   //!< a monotonic step smaller than this is not a violation
  size_t dynamic_points = 16;
  double std_fraction = 0.05;    //!< std of a dynamic point, as a fraction of the range width
  double slope_fraction = 0.01;  //!< slope (per s) of a dynamic point, idem
  std::map<std::string, std::string> units;  //!< signal -> unit, for details ("mm/s")
};

enum class CheckStatus { kPassed, kFailed, kSkipped };
std::string_view CheckStatusName(CheckStatus s);  //!< "passed", "failed", "skipped"

struct ConstraintResult {
  std::string name;
  std::string kind;  //!< model::physics::ConstraintKindName
  CheckStatus status = CheckStatus::kSkipped;
  size_t points_checked = 0;  //!< points (bounds, balance) or steps (monotonic)
  size_t violations = 0;
  //! The worst violation: how far beyond the constraint, where (signal -> level, in feature
  //! order), and a sentence; for a skipped constraint, `detail` is the reason.
  double worst_amount = 0;
  std::vector<std::pair<std::string, double>> worst_point;
  std::string detail;
};

struct ValidationReport {
  bool passed = true;
  std::vector<ConstraintResult> results;

  nlohmann::ordered_json ToJson() const;
  //! One line per constraint, e.g. "FAILED risk_rises_with_vibration (monotonic): 12 of 294
  //! steps; worst: failure_risk falls from 0.81 to 0.12 as vibration_rms rises ...".
  std::string Summary() const;
};

//! InvalidArgument when a feature signal has no envelope range, the options are out of range
//! or the model's feature count differs from `features`; a Predict error is returned as is.
Result<ValidationReport> ValidateCandidate(
    const edge::inference::ModelRunner& model, std::string_view output_name,
    const std::vector<edge::inference::FeatureConfig>& features,
    const model::physics::AssetConstraints& c, const SweepOptions& options);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_VALIDATION_PHYSICS_VALIDATION_H_

#include "mlops/validation/physics_validation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "twin/twin.h"

namespace weft::mlops {

namespace {

namespace physics = model::physics;
using edge::inference::FeatureConfig;
using edge::inference::Stat;
using physics::ConstraintKind;
using physics::FormatValue;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One sweep point: a level per feature signal; dynamic points also a std and a slope.
struct Point {
  std::vector<double> level;
  std::vector<double> std_dev, slope;  // empty for steady points
  std::vector<int> grid;               // grid index per signal; empty for sampled points
};

class Sweep {
 public:
  Sweep(const edge::inference::ModelRunner& model, const std::vector<FeatureConfig>& features,
        std::vector<physics::Range> ranges, const SweepOptions& o)
      : model_(model),
        features_(features),
        ranges_(std::move(ranges)),
        o_(o),
        scratch_(model.num_features()) {}

  size_t dims() const { return ranges_.size(); }
  double Level(size_t dim, int step) const {
    const physics::Range& r = ranges_[dim];
    return r.lo + (r.hi - r.lo) * step / (o_.grid_steps - 1);
  }

  Result<double> Predict(const Point& p) {
    size_t k = 0;
    for (size_t i = 0; i < features_.size(); ++i) {
      const double v = p.level[i];
      const double sd = p.std_dev.empty() ? 0 : p.std_dev[i];
      const double slope = p.slope.empty() ? 0 : p.slope[i];
      for (Stat s : features_[i].stats) {
        double f = v;
        switch (s) {
          case Stat::kLast:
          case Stat::kMean: f = v; break;
          case Stat::kStd: f = sd; break;
          case Stat::kMin: f = v - sd; break;
          case Stat::kMax: f = v + sd; break;
          case Stat::kSlope: f = slope; break;
        }
        scratch_[k++] = static_cast<float>(f);
      }
    }
    Result<float> y = model_.Predict(scratch_);
    if (!y.ok()) return y.status().WithContext("ValidateCandidate: predict");
    return static_cast<double>(*y);
  }

  // The base points: the full grid when small enough, else a Latin hypercube sample.
  std::vector<Point> BasePoints(bool* is_grid) const {
    size_t total = 1;
    *is_grid = true;
    for (size_t d = 0; d < dims(); ++d) {
      total *= static_cast<size_t>(o_.grid_steps);
      if (total > o_.max_points) {
        *is_grid = false;
        break;
      }
    }
    std::vector<Point> out;
    if (*is_grid) {
      std::vector<int> idx(dims(), 0);
      for (size_t n = 0; n < total; ++n) {
        Point p;
        p.grid = idx;
        for (size_t d = 0; d < dims(); ++d) p.level.push_back(Level(d, idx[d]));
        out.push_back(std::move(p));
        for (size_t d = 0; d < dims(); ++d) {  // odometer
          if (++idx[d] < o_.grid_steps) break;
          idx[d] = 0;
        }
      }
      return out;
    }
    std::mt19937_64 rng(o_.seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const size_t n = o_.max_points;
    out.resize(n);
    for (size_t d = 0; d < dims(); ++d) {
      std::vector<size_t> strata(n);
      std::iota(strata.begin(), strata.end(), size_t{0});
      std::shuffle(strata.begin(), strata.end(), rng);
      const physics::Range& r = ranges_[d];
      for (size_t i = 0; i < n; ++i) {
        const double frac = (static_cast<double>(strata[i]) + u(rng)) / static_cast<double>(n);
        out[i].level.push_back(r.lo + (r.hi - r.lo) * frac);
      }
    }
    return out;
  }

  std::vector<Point> DynamicPoints() const {
    std::mt19937_64 rng(o_.seed ^ 0x9e3779b97f4a7c15ULL);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<Point> out(o_.dynamic_points);
    for (Point& p : out) {
      for (size_t d = 0; d < dims(); ++d) {
        const physics::Range& r = ranges_[d];
        const double w = r.hi - r.lo;
        p.level.push_back(r.lo + w * u(rng));
        p.std_dev.push_back(o_.std_fraction * w);
        p.slope.push_back((u(rng) < 0.5 ? -1 : 1) * o_.slope_fraction * w);
      }
    }
    return out;
  }

 private:
  const edge::inference::ModelRunner& model_;
  const std::vector<FeatureConfig>& features_;
  std::vector<physics::Range> ranges_;
  const SweepOptions& o_;
  std::vector<float> scratch_;
};

ConstraintResult Skipped(std::string name, ConstraintKind kind, std::string reason) {
  ConstraintResult r;
  r.name = std::move(name);
  r.kind = std::string(physics::ConstraintKindName(kind));
  r.status = CheckStatus::kSkipped;
  r.detail = std::move(reason);
  return r;
}

ConstraintResult Begin(const std::string& name, ConstraintKind kind) {
  ConstraintResult r;
  r.name = name;
  r.kind = std::string(physics::ConstraintKindName(kind));
  r.status = CheckStatus::kPassed;
  return r;
}

// Records a violation of `amount`; keeps the worst.
void Violated(ConstraintResult* r, double amount, const std::vector<std::string>& signals,
              const std::vector<double>& level, const std::function<std::string()>& detail) {
  r->status = CheckStatus::kFailed;
  ++r->violations;
  if (r->violations > 1 && !(amount > r->worst_amount)) return;
  r->worst_amount = amount;
  r->worst_point.clear();
  for (size_t i = 0; i < signals.size(); ++i) r->worst_point.emplace_back(signals[i], level[i]);
  r->detail = detail();
}

}  // namespace

std::string_view CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPassed: return "passed";
    case CheckStatus::kFailed: return "failed";
    case CheckStatus::kSkipped: return "skipped";
  }
  return "?";
}

Result<ValidationReport> ValidateCandidate(const edge::inference::ModelRunner& model,
                                           std::string_view output_name,
                                           const std::vector<FeatureConfig>& features,
                                           const physics::AssetConstraints& c,
                                           const SweepOptions& options) {
  const std::string out_name(output_name);
  if (options.grid_steps < 2 || options.grid_steps > 1000) {
    return InvalidArgumentError("ValidateCandidate: grid_steps must be in [2, 1000], got " +
                                std::to_string(options.grid_steps));
  }
  if (options.max_points < 1 || !(options.tolerance >= 0)) {
    return InvalidArgumentError("ValidateCandidate: max_points must be >= 1, tolerance >= 0");
  }
  size_t num_features = 0;
  std::vector<std::string> signals;
  std::vector<physics::Range> ranges;
  for (const FeatureConfig& f : features) {
    num_features += f.stats.size();
    const physics::Range* r = c.EnvelopeOf(f.signal);
    if (r == nullptr) {
      return InvalidArgumentError("ValidateCandidate: feature signal '" + f.signal +
                                  "' has no envelope range in the constraints of asset type '" +
                                  c.asset_type + "'; add it under envelope: to sweep it");
    }
    signals.push_back(f.signal);
    ranges.push_back(*r);
  }
  if (features.empty() || num_features != model.num_features()) {
    return InvalidArgumentError("ValidateCandidate: the model " + model.Label() + " takes " +
                                std::to_string(model.num_features()) +
                                " features, the feature list gives " +
                                std::to_string(num_features));
  }
  auto signal_index = [&](std::string_view name) -> std::optional<size_t> {
    for (size_t i = 0; i < signals.size(); ++i) {
      if (signals[i] == name) return i;
    }
    return std::nullopt;
  };
  auto unit = [&](const std::string& signal) {
    auto it = options.units.find(signal);
    return it == options.units.end() || it->second.empty() ? std::string() : " " + it->second;
  };
  auto where = [&](const std::vector<double>& level, std::optional<size_t> except) {
    std::string s;
    for (size_t i = 0; i < signals.size(); ++i) {
      if (except && *except == i) continue;
      s += (s.empty() ? "" : ", ") + signals[i] + "=" + FormatValue(level[i]);
    }
    return s;
  };

  Sweep sweep(model, features, ranges, options);
  bool is_grid = false;
  const std::vector<Point> base = sweep.BasePoints(&is_grid);
  const std::vector<Point> dynamic = sweep.DynamicPoints();
  std::vector<double> base_y, dynamic_y;
  for (const Point& p : base) {
    WEFT_ASSIGN_OR_RETURN(double y, sweep.Predict(p));
    base_y.push_back(y);
  }
  for (const Point& p : dynamic) {
    WEFT_ASSIGN_OR_RETURN(double y, sweep.Predict(p));
    dynamic_y.push_back(y);
  }

  ValidationReport report;
  const std::string other_output = "the model's output is '" + out_name + "'";

  for (const physics::BoundConstraint& b : c.bounds) {
    if (!b.is_output) {
      report.results.push_back(Skipped(
          b.name, ConstraintKind::kBounds,
          "a bound on signal '" + b.quantity + "' concerns measurements (checked at the edge)"));
      continue;
    }
    if (b.quantity != out_name) {
      report.results.push_back(Skipped(b.name, ConstraintKind::kBounds,
                                       "bounds output '" + b.quantity + "'; " + other_output));
      continue;
    }
    ConstraintResult r = Begin(b.name, ConstraintKind::kBounds);
    auto check = [&](const Point& p, double y, bool dyn) {
      ++r.points_checked;
      if (y >= b.min && y <= b.max) return;
      const double amount =
          std::isnan(y) ? std::numeric_limits<double>::infinity() : std::max(b.min - y, y - b.max);
      Violated(&r, amount, signals, p.level, [&] {
        return out_name + " = " + FormatValue(y) + " is outside [" + FormatValue(b.min) + ", " +
               FormatValue(b.max) + "] at " + where(p.level, std::nullopt) +
               (dyn ? " (with nonzero std and slope)" : "");
      });
    };
    for (size_t i = 0; i < base.size(); ++i) check(base[i], base_y[i], false);
    for (size_t i = 0; i < dynamic.size(); ++i) check(dynamic[i], dynamic_y[i], true);
    report.results.push_back(std::move(r));
  }

  for (const physics::RateConstraint& rc : c.rates) {
    report.results.push_back(Skipped(rc.name, ConstraintKind::kRateOfChange,
                                     "a rate of change needs a time series (checked at the edge)"));
  }

  for (const physics::MonotonicConstraint& m : c.monotonic) {
    if (m.output != out_name) {
      report.results.push_back(Skipped(m.name, ConstraintKind::kMonotonic,
                                       "constrains output '" + m.output + "'; " + other_output));
      continue;
    }
    std::optional<size_t> axis = signal_index(m.input);
    if (!axis) {
      report.results.push_back(Skipped(m.name, ConstraintKind::kMonotonic,
                                       "input '" + m.input + "' is not a feature of the model"));
      continue;
    }
    ConstraintResult r = Begin(m.name, ConstraintKind::kMonotonic);
    const bool increasing = m.direction == physics::Direction::kIncreasing;
    for (const Point& b : base) {
      if (is_grid && b.grid[*axis] != 0) continue;  // each grid line is walked once
      Point p = b;
      p.level[*axis] = sweep.Level(*axis, 0);
      WEFT_ASSIGN_OR_RETURN(double prev, sweep.Predict(p));
      for (int step = 1; step < options.grid_steps; ++step) {
        const double x0 = p.level[*axis];
        p.level[*axis] = sweep.Level(*axis, step);
        WEFT_ASSIGN_OR_RETURN(double y, sweep.Predict(p));
        ++r.points_checked;
        const double wrong = increasing ? prev - y : y - prev;
        if (wrong > options.tolerance || std::isnan(y) != std::isnan(prev)) {
          std::vector<double> at = p.level;
          at[*axis] = x0;
          const double x1 = p.level[*axis];
          Violated(&r, std::isnan(wrong) ? std::numeric_limits<double>::infinity() : wrong, signals,
                   at, [&] {
                     std::string others = where(at, axis);
                     return out_name + (increasing ? " falls from " : " rises from ") +
                            FormatValue(prev) + " to " + FormatValue(y) + " as " + m.input +
                            " rises from " + FormatValue(x0) + " to " + FormatValue(x1) +
                            unit(m.input) + (others.empty() ? "" : " (" + others + ")");
                   });
        }
        prev = y;
      }
    }
    report.results.push_back(std::move(r));
  }

  for (const physics::BalanceConstraint& b : c.balances) {
    std::vector<std::string> vars = b.lhs.Variables();
    for (std::string& v : b.rhs.Variables()) vars.push_back(std::move(v));
    std::string missing;
    size_t n_missing = 0;
    for (const std::string& v : vars) {
      if (v == out_name || signal_index(v) || missing.find("'" + v + "'") != std::string::npos) {
        continue;
      }
      missing += (missing.empty() ? "'" : ", '") + v + "'";
      ++n_missing;
    }
    if (n_missing > 0) {
      report.results.push_back(Skipped(b.name, ConstraintKind::kBalance,
                                       (n_missing == 1 ? "variable " : "variables ") + missing +
                                           (n_missing == 1 ? " is" : " are") +
                                           " neither the model's output nor a swept signal"));
      continue;
    }
    ConstraintResult r = Begin(b.name, ConstraintKind::kBalance);
    for (size_t i = 0; i < base.size(); ++i) {
      auto lookup = [&](std::string_view name) {
        if (name == out_name) return base_y[i];
        std::optional<size_t> k = signal_index(name);
        return k ? base[i].level[*k] : kNaN;
      };
      const double lhs = b.lhs.Eval(lookup), rhs = b.rhs.Eval(lookup);
      ++r.points_checked;
      const double allowed = b.abs_tol + b.rel_tol * std::fabs(rhs);
      const double off = std::fabs(lhs - rhs);
      if (off <= allowed) continue;
      Violated(&r, std::isnan(off) ? std::numeric_limits<double>::infinity() : off - allowed,
               signals, base[i].level, [&] {
                 return b.lhs.text() + " = " + FormatValue(lhs) + " differs from " + b.rhs.text() +
                        " = " + FormatValue(rhs) + " by " + FormatValue(off) + " (allowed " +
                        FormatValue(allowed) + ") at " + where(base[i].level, std::nullopt);
               });
    }
    report.results.push_back(std::move(r));
  }

  for (const physics::TwinAgreementConstraint& t : c.twins) {
    if (t.output != out_name) {
      report.results.push_back(Skipped(t.name, ConstraintKind::kTwinAgreement,
                                       "compares output '" + t.output + "'; " + other_output));
      continue;
    }
    std::string missing;
    for (const auto& [input, expr] : t.inputs) {
      for (const std::string& v : expr.Variables()) {
        if (!signal_index(v)) missing += (missing.empty() ? "'" : ", '") + v + "'";
      }
    }
    if (!missing.empty()) {
      report.results.push_back(Skipped(t.name, ConstraintKind::kTwinAgreement,
                                       "twin inputs use " + missing + ", not swept signals"));
      continue;
    }
    Result<std::unique_ptr<twin::Twin>> tw = twin::MakeTwin(t.twin, {});
    if (!tw.ok()) {
      return InvalidArgumentError("constraint '" + t.name + "': " + tw.status().message());
    }
    ConstraintResult r = Begin(t.name, ConstraintKind::kTwinAgreement);
    twin::Rng rng(options.seed);
    size_t outside_twin = 0;
    for (size_t i = 0; i < base.size(); ++i) {
      auto lookup = [&](std::string_view name) { return base[i].level[*signal_index(name)]; };
      bool applied = true;
      for (const auto& [input, expr] : t.inputs) {
        Status set = (*tw)->SetInput(input, expr.Eval(lookup));
        if (set.code() == StatusCode::kInvalidArgument || set.code() == StatusCode::kNotFound) {
          return InvalidArgumentError("constraint '" + t.name + "': twin '" + t.twin +
                                      "': " + set.message());
        }
        applied = applied && set.ok();
      }
      if (!applied) {  // the point maps outside the twin's input limits: nothing to compare
        ++outside_twin;
        continue;
      }
      // Steady state: the twins integrate their first-order nodes exactly, so large steps are
      // exact; 20 h is many times the slowest time constant of the built-in twins.
      for (int k = 0; k < 20; ++k) (*tw)->Step(3600, rng);
      std::optional<double> expected = (*tw)->Output(t.twin_output);
      if (!expected) {
        return InvalidArgumentError("constraint '" + t.name + "': twin '" + t.twin +
                                    "' has no output '" + t.twin_output + "'");
      }
      ++r.points_checked;
      const double off = std::fabs(base_y[i] - *expected);
      if (off <= t.tolerance) continue;
      Violated(&r, std::isnan(off) ? std::numeric_limits<double>::infinity() : off - t.tolerance,
               signals, base[i].level, [&] {
                 return out_name + " = " + FormatValue(base_y[i]) + " differs from twin " + t.twin +
                        "'s steady " + t.twin_output + " = " + FormatValue(*expected) + " by " +
                        FormatValue(off) + " (tolerance " + FormatValue(t.tolerance) + ") at " +
                        where(base[i].level, std::nullopt);
               });
    }
    if (r.points_checked == 0) {
      report.results.push_back(Skipped(t.name, ConstraintKind::kTwinAgreement,
                                       "every sweep point maps outside the twin's input limits"));
      continue;
    }
    if (outside_twin > 0) {
      r.detail += (r.detail.empty() ? "" : "; ") + std::to_string(outside_twin) +
                  " points outside the twin's input limits were not compared";
    }
    report.results.push_back(std::move(r));
  }

  for (const ConstraintResult& r : report.results) {
    if (r.status == CheckStatus::kFailed) report.passed = false;
  }
  return report;
}

nlohmann::ordered_json ValidationReport::ToJson() const {
  nlohmann::ordered_json j;
  j["passed"] = passed;
  j["results"] = nlohmann::ordered_json::array();
  for (const ConstraintResult& r : results) {
    nlohmann::ordered_json e;
    e["name"] = r.name;
    e["kind"] = r.kind;
    e["status"] = std::string(CheckStatusName(r.status));
    e["points_checked"] = r.points_checked;
    e["violations"] = r.violations;
    if (r.status == CheckStatus::kSkipped) {
      e["reason"] = r.detail;
    } else if (r.violations > 0) {
      nlohmann::ordered_json point = nlohmann::ordered_json::object();
      for (const auto& [signal, value] : r.worst_point) point[signal] = value;
      e["worst"] = {
          {"amount", std::isfinite(r.worst_amount) ? nlohmann::ordered_json(r.worst_amount)
                                                   : nlohmann::ordered_json(nullptr)},
          {"point", point},
          {"detail", r.detail}};
    }
    j["results"].push_back(std::move(e));
  }
  return j;
}

std::string ValidationReport::Summary() const {
  std::string out;
  for (const ConstraintResult& r : results) {
    switch (r.status) {
      case CheckStatus::kPassed:
        out += "passed  " + r.name + " (" + r.kind + "): " + std::to_string(r.points_checked) +
               (r.kind == "monotonic" ? " steps" : " points");
        break;
      case CheckStatus::kFailed:
        out += "FAILED  " + r.name + " (" + r.kind + "): " + std::to_string(r.violations) + " of " +
               std::to_string(r.points_checked) + (r.kind == "monotonic" ? " steps" : " points") +
               "; worst: " + r.detail;
        break;
      case CheckStatus::kSkipped:
        out += "skipped " + r.name + " (" + r.kind + "): " + r.detail;
        break;
    }
    out += "\n";
  }
  out += passed ? "candidate passed" : "candidate REFUSED";
  out += "\n";
  return out;
}

}  // namespace weft::mlops

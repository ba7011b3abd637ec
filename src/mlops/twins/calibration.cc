#include "mlops/twins/calibration.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include "common/time_format.h"
#include "twin/twin.h"

namespace weft::mlops {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMaxLambda = 1e12;
constexpr int kMaxTriesPerIteration = 12;

bool IsNoiseParameter(std::string_view name) {
  return name.size() > 6 && name.substr(name.size() - 6) == "_noise";
}

// A twin model with fixed parameters, runs over a series.
class Simulator {
 public:
  Simulator(std::string model, const CalibrationSeries& series, std::vector<std::string> outputs,
            uint64_t seed)
      : model_(std::move(model)), series_(series), outputs_(std::move(outputs)), seed_(seed) {}

  // Every output's value per sample; an error when the twin refuses the parameters or an input.
  Result<std::vector<std::vector<double>>> Run(const std::map<std::string, double>& params) const {
    std::map<std::string, double> quiet = params;
    for (auto& [name, value] : quiet) {
      if (IsNoiseParameter(name)) value = 0;
    }
    WEFT_ASSIGN_OR_RETURN(std::unique_ptr<twin::Twin> t, twin::MakeTwin(model_, quiet));
    twin::Rng rng(seed_);
    const size_t n = series_.size();
    std::vector<std::vector<double>> out(outputs_.size(), std::vector<double>(n, kNaN));
    auto set_inputs = [&](size_t k) -> Status {
      for (const auto& [input, values] : series_.inputs) {
        const double v = values[k];
        if (std::isnan(v)) continue;
        Status s = t->SetInput(input, v);
        if (!s.ok()) {
          return s.WithContext("sample at " + FormatTimestampMicros(series_.ts_us[k]));
        }
      }
      return Status::Ok();
    };
    if (n == 0) return out;
    if (series_.warmup_s > 0) {
      WEFT_RETURN_IF_ERROR(set_inputs(0));
      double left = series_.warmup_s;
      while (left > 1e-9) {
        const double dt = std::min(left, series_.dt_s);
        t->Step(dt, rng);
        left -= dt;
      }
    }
    std::vector<double> start(outputs_.size());
    for (size_t k = 0; k < n; ++k) {
      WEFT_RETURN_IF_ERROR(set_inputs(k));
      for (size_t o = 0; o < outputs_.size(); ++o) start[o] = *t->Output(outputs_[o]);
      t->Step(series_.dt_s, rng);
      for (size_t o = 0; o < outputs_.size(); ++o) {
        out[o][k] = 0.5 * (start[o] + *t->Output(outputs_[o]));
      }
    }
    return out;
  }

  const std::vector<std::string>& outputs() const { return outputs_; }

 private:
  std::string model_;
  const CalibrationSeries& series_;
  std::vector<std::string> outputs_;
  uint64_t seed_;
};

Status CheckSeries(std::string_view model, const twin::Twin& t, const CalibrationSeries& s) {
  const std::string where = "calibrating twin model '" + std::string(model) + "'";
  if (s.size() == 0) return InvalidArgumentError(where + ": the series has no samples");
  if (!(s.dt_s > 0) || !std::isfinite(s.dt_s)) {
    return InvalidArgumentError(where + ": the sample spacing must be positive, got " +
                                std::to_string(s.dt_s));
  }
  if (!(s.warmup_s >= 0) || !std::isfinite(s.warmup_s)) {
    return InvalidArgumentError(where + ": the warm-up must be >= 0 s");
  }
  const std::vector<std::string> inputs = t.InputNames();
  for (const auto& [name, values] : s.inputs) {
    if (std::find(inputs.begin(), inputs.end(), name) == inputs.end()) {
      return InvalidArgumentError(where + ": unknown input '" + name + "'");
    }
    if (values.size() != s.size()) {
      return InvalidArgumentError(where + ": input '" + name + "' has " +
                                  std::to_string(values.size()) + " values for " +
                                  std::to_string(s.size()) + " samples");
    }
  }
  if (s.outputs.empty()) return InvalidArgumentError(where + ": no measured output");
  for (const auto& [name, values] : s.outputs) {
    if (!t.Output(name).has_value()) {
      return InvalidArgumentError(where + ": unknown output '" + name + "'");
    }
    if (values.size() != s.size()) {
      return InvalidArgumentError(where + ": output '" + name + "' has " +
                                  std::to_string(values.size()) + " values for " +
                                  std::to_string(s.size()) + " samples");
    }
  }
  return Status::Ok();
}

std::vector<std::string> OutputNames(const CalibrationSeries& s) {
  std::vector<std::string> names;
  for (const auto& [name, values] : s.outputs) names.push_back(name);
  return names;
}

struct OutputFit {
  double rmse = kNaN, r2 = kNaN;
  int64_t samples = 0;
};

OutputFit Score(const std::vector<double>& measured, const std::vector<double>& predicted) {
  OutputFit f;
  double sum = 0, ssr = 0;
  for (size_t k = 0; k < measured.size(); ++k) {
    if (std::isnan(measured[k])) continue;
    ++f.samples;
    sum += measured[k];
    const double e = measured[k] - predicted[k];
    ssr += e * e;
  }
  if (f.samples == 0) return f;
  const double mean = sum / static_cast<double>(f.samples);
  double sst = 0;
  for (double m : measured) {
    if (!std::isnan(m)) sst += (m - mean) * (m - mean);
  }
  f.rmse = std::sqrt(ssr / static_cast<double>(f.samples));
  f.r2 = sst > 0 ? 1 - ssr / sst : kNaN;
  return f;
}

}  // namespace

Result<std::map<std::string, double>> SeriesRmse(std::string_view model,
                                                 const std::map<std::string, double>& parameters,
                                                 const CalibrationSeries& series) {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<twin::Twin> probe, twin::MakeTwin(model, parameters));
  WEFT_RETURN_IF_ERROR(CheckSeries(model, *probe, series));
  Simulator sim(std::string(model), series, OutputNames(series), 1);
  WEFT_ASSIGN_OR_RETURN(auto predicted, sim.Run(parameters));
  std::map<std::string, double> rmse;
  for (size_t o = 0; o < sim.outputs().size(); ++o) {
    rmse[sim.outputs()[o]] = Score(series.outputs.at(sim.outputs()[o]), predicted[o]).rmse;
  }
  return rmse;
}

Result<CalibrationResult> Calibrate(std::string_view model,
                                    const std::map<std::string, double>& parameters,
                                    const CalibrationSeries& series,
                                    const CalibrationOptions& options) {
  const std::string where = "calibrating twin model '" + std::string(model) + "'";
  Result<std::unique_ptr<twin::Twin>> probe = twin::MakeTwin(model, parameters);
  if (!probe.ok()) return probe.status().WithContext(where + ": the starting parameters");
  WEFT_RETURN_IF_ERROR(CheckSeries(model, **probe, series));
  if (options.fit.empty()) return InvalidArgumentError(where + ": no parameter to fit");

  // Every parameter, as the twin reports it (the start point of the fit).
  std::map<std::string, double> params;
  for (const twin::Parameter& p : (*probe)->info().parameters) params[p.name] = p.value;
  const size_t np = options.fit.size();
  std::vector<bool> log_scaled(np);
  Eigen::VectorXd theta(static_cast<Eigen::Index>(np));
  CalibrationResult result;
  for (size_t j = 0; j < np; ++j) {
    const std::string& name = options.fit[j];
    auto it = params.find(name);
    if (it == params.end()) {
      return InvalidArgumentError(where + ": unknown parameter '" + name + "' to fit");
    }
    if (std::count(options.fit.begin(), options.fit.end(), name) > 1) {
      return InvalidArgumentError(where + ": parameter '" + name + "' is listed twice");
    }
    result.initial[name] = it->second;
    log_scaled[j] = it->second > 0;
    theta[static_cast<Eigen::Index>(j)] = log_scaled[j] ? std::log(it->second) : it->second;
  }

  const std::vector<std::string> outputs = OutputNames(series);
  Simulator sim(std::string(model), series, outputs, options.seed);
  const size_t n = series.size();
  const auto m = static_cast<Eigen::Index>(outputs.size() * n);
  int64_t measured = 0;
  for (const std::string& o : outputs) {
    int64_t count = 0;
    for (double v : series.outputs.at(o)) count += std::isnan(v) ? 0 : 1;
    if (count == 0) {
      return FailedPreconditionError(where + ": output '" + o + "' has no measured sample");
    }
    measured += count;
  }
  if (measured <= static_cast<int64_t>(np)) {
    return FailedPreconditionError(where + ": " + std::to_string(measured) +
                                   " measurements cannot determine " + std::to_string(np) +
                                   " parameters");
  }

  auto to_params = [&](const Eigen::VectorXd& th) {
    std::map<std::string, double> p = params;
    for (size_t j = 0; j < np; ++j) {
      const double v = th[static_cast<Eigen::Index>(j)];
      p[options.fit[j]] = log_scaled[j] ? std::exp(v) : v;
    }
    return p;
  };
  // Residuals measured − twin (0 where nothing was measured); an error when the twin refuses.
  auto residuals = [&](const Eigen::VectorXd& th) -> Result<Eigen::VectorXd> {
    WEFT_ASSIGN_OR_RETURN(auto predicted, sim.Run(to_params(th)));
    Eigen::VectorXd r(m);
    for (size_t o = 0; o < outputs.size(); ++o) {
      const std::vector<double>& meas = series.outputs.at(outputs[o]);
      for (size_t k = 0; k < n; ++k) {
        const auto i = static_cast<Eigen::Index>(o * n + k);
        r[i] = std::isnan(meas[k]) ? 0.0 : meas[k] - predicted[o][k];
        if (!std::isfinite(r[i])) return InvalidArgumentError("the twin's output is not finite");
      }
    }
    return r;
  };
  auto jacobian = [&](const Eigen::VectorXd& th, const Eigen::VectorXd& r0,
                      Eigen::MatrixXd* jac) -> Status {
    jac->resize(m, static_cast<Eigen::Index>(np));
    for (size_t j = 0; j < np; ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      double h = 1e-6 * std::max(1.0, std::abs(th[jj]));
      Eigen::VectorXd t2 = th;
      t2[jj] += h;
      Result<Eigen::VectorXd> r = residuals(t2);
      if (!r.ok()) {  // at a bound: difference backwards
        h = -h;
        t2[jj] = th[jj] + h;
        r = residuals(t2);
        if (!r.ok()) return r.status().WithContext("differentiating '" + options.fit[j] + "'");
      }
      jac->col(jj) = (*r - r0) / h;
    }
    return Status::Ok();
  };

  Result<Eigen::VectorXd> r0 = residuals(theta);
  if (!r0.ok()) return r0.status().WithContext(where + ": the starting parameters");
  {
    WEFT_ASSIGN_OR_RETURN(auto predicted, sim.Run(to_params(theta)));
    for (size_t o = 0; o < outputs.size(); ++o) {
      result.rmse_before[outputs[o]] = Score(series.outputs.at(outputs[o]), predicted[o]).rmse;
    }
  }
  Eigen::VectorXd r = *r0;
  double cost = r.squaredNorm();
  double lambda = options.initial_lambda;
  Eigen::MatrixXd jac;
  result.reason = "reached the iteration limit (" + std::to_string(options.max_iterations) + ")";
  for (int it = 0; it < options.max_iterations && !result.converged; ++it) {
    result.iterations = it + 1;
    WEFT_RETURN_IF_ERROR(jacobian(theta, r, &jac).WithContext(where));
    const Eigen::MatrixXd a = jac.transpose() * jac;
    const Eigen::VectorXd g = jac.transpose() * r;
    if (g.cwiseAbs().maxCoeff() == 0) {
      result.converged = true;
      result.reason = "the gradient is zero";
      break;
    }
    bool accepted = false;
    for (int tries = 0; tries < kMaxTriesPerIteration; ++tries) {
      Eigen::MatrixXd damped = a;
      for (Eigen::Index j = 0; j < damped.rows(); ++j) {
        damped(j, j) += lambda * std::max(a(j, j), 1e-12);
      }
      const Eigen::VectorXd delta = damped.ldlt().solve(-g);
      if (!delta.allFinite()) {
        lambda *= 10;
        continue;
      }
      const Eigen::VectorXd trial = theta + delta;
      Result<Eigen::VectorXd> rt = residuals(trial);
      const double trial_cost =
          rt.ok() ? rt->squaredNorm() : std::numeric_limits<double>::infinity();
      if (trial_cost < cost) {
        const double reduction = (cost - trial_cost) / std::max(cost, 1e-300);
        theta = trial;
        r = *rt;
        cost = trial_cost;
        lambda = std::max(lambda / 10, 1e-12);
        accepted = true;
        if (delta.cwiseAbs().maxCoeff() < options.step_tolerance) {
          result.converged = true;
          result.reason = "the step fell below the tolerance";
        } else if (reduction < options.cost_tolerance) {
          result.converged = true;
          result.reason = "the cost stopped falling";
        }
        break;
      }
      lambda *= 10;
      if (lambda > kMaxLambda) break;
    }
    if (!accepted) {
      // No step lowers the cost: at a (local) minimum when the gradient is tiny, else stuck.
      const double scale = std::max(cost, 1e-300);
      if (g.cwiseAbs().maxCoeff() < 1e-6 * scale || lambda > kMaxLambda) {
        result.converged = g.cwiseAbs().maxCoeff() < 1e-6 * scale;
        result.reason = result.converged ? "no step lowers the cost (at the minimum)"
                                         : "no step lowers the cost (damping at its limit)";
      } else {
        result.reason = "no step lowers the cost";
      }
      break;
    }
  }

  result.parameters = to_params(theta);
  for (const std::string& name : options.fit) result.fitted[name] = result.parameters[name];
  WEFT_ASSIGN_OR_RETURN(auto predicted, sim.Run(result.parameters));
  for (size_t o = 0; o < outputs.size(); ++o) {
    OutputFit f = Score(series.outputs.at(outputs[o]), predicted[o]);
    result.rmse_after[outputs[o]] = f.rmse;
    result.r2[outputs[o]] = f.r2;
    result.samples[outputs[o]] = f.samples;
  }
  // Standard errors from the Jacobian at the optimum.
  if (jacobian(theta, r, &jac).ok()) {
    const Eigen::MatrixXd a = jac.transpose() * jac;
    const double dof = static_cast<double>(measured) - static_cast<double>(np);
    const double sigma2 = cost / dof;
    Eigen::FullPivLU<Eigen::MatrixXd> lu(a);
    for (size_t j = 0; j < np; ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      double se = kNaN;
      if (lu.isInvertible()) {
        const double var = sigma2 * lu.inverse()(jj, jj);
        se = var >= 0 ? std::sqrt(var) : kNaN;
        if (log_scaled[j]) se *= result.parameters[options.fit[j]];
      }
      result.std_errors[options.fit[j]] = se;
    }
  }
  return result;
}

}  // namespace weft::mlops

#include "kpi/baseline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace weft::kpi {
namespace {

Status CheckPeriods(const std::vector<BaselinePeriod>& periods) {
  for (size_t i = 0; i < periods.size(); ++i) {
    const BaselinePeriod& p = periods[i];
    if (p.end_us <= p.start_us) {
      return InvalidArgumentError(
          fmt::format("energy baseline: period #{} ends ({}) at or before it starts ({})", i,
                      p.end_us, p.start_us));
    }
    if (!std::isfinite(p.energy_kwh) || !std::isfinite(p.hdd) || !std::isfinite(p.occupancy)) {
      return InvalidArgumentError(fmt::format(
          "energy baseline: period #{} has a value that is not a number (energy {}, HDD {}, "
          "occupancy {})",
          i, p.energy_kwh, p.hdd, p.occupancy));
    }
  }
  return Status::Ok();
}

std::string_view GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kHourly: return "hourly";
    case Granularity::kDaily: return "daily";
    case Granularity::kMonthly: return "monthly";
  }
  return "unknown";
}

// A sum of squares that is this small against the raw sum of squares is rounding, not spread.
constexpr double kRelativeZero = 1e-12;

}  // namespace

std::pair<double, double> Guideline14Limits(Granularity g) {
  if (g == Granularity::kMonthly) return {15.0, 5.0};
  return {30.0, 10.0};
}

Result<BaselineFit> FitBaseline(const std::vector<BaselinePeriod>& periods,
                                const BaselineOptions& options) {
  WEFT_RETURN_IF_ERROR(CheckPeriods(periods));
  for (const auto& [name, limit] : {std::pair{"CV(RMSE) limit", options.cv_rmse_limit_pct},
                                    std::pair{"NMBE limit", options.nmbe_limit_pct}}) {
    if (limit && (!std::isfinite(*limit) || *limit <= 0)) {
      return InvalidArgumentError(
          fmt::format("energy baseline: the {} must be a number > 0 %, got {}", name, *limit));
    }
  }

  std::vector<const BaselinePeriod*> base;
  for (const auto& p : periods) {
    if (!p.optimised) base.push_back(&p);
  }
  BaselineFit fit;
  fit.p = options.use_occupancy ? 3 : 2;
  fit.n = base.size();
  if (fit.n <= fit.p) {
    return FailedPreconditionError(fmt::format(
        "energy baseline: {} baseline (non-optimised) period(s) for a model of {} coefficients; "
        "at least {} are needed",
        fit.n, fit.p, fit.p + 1));
  }
  const double n = static_cast<double>(fit.n);

  double y_mean = 0, x1_mean = 0, x2_mean = 0;
  for (const auto* p : base) {
    y_mean += p->energy_kwh;
    x1_mean += p->hdd;
    x2_mean += p->occupancy;
  }
  y_mean /= n;
  x1_mean /= n;
  x2_mean /= n;

  // Centred cross products: the normal equations of the slopes are
  //   [S11 S12] [b1]   [S1y]
  //   [S12 S22] [b2] = [S2y],   and b0 = ȳ − b1·x̄1 − b2·x̄2.
  double s11 = 0, s22 = 0, s12 = 0, s1y = 0, s2y = 0, raw11 = 0, raw22 = 0;
  for (const auto* p : base) {
    const double d1 = p->hdd - x1_mean, d2 = p->occupancy - x2_mean, dy = p->energy_kwh - y_mean;
    s11 += d1 * d1;
    s22 += d2 * d2;
    s12 += d1 * d2;
    s1y += d1 * dy;
    s2y += d2 * dy;
    raw11 += p->hdd * p->hdd;
    raw22 += p->occupancy * p->occupancy;
  }
  if (s11 <= kRelativeZero * raw11 || s11 == 0) {
    return FailedPreconditionError(fmt::format(
        "energy baseline: HDD is constant ({}) over the {} baseline periods; the heating slope "
        "cannot be fitted (the normal equations are singular)",
        x1_mean, fit.n));
  }
  if (options.use_occupancy) {
    if (s22 <= kRelativeZero * raw22 || s22 == 0) {
      return FailedPreconditionError(fmt::format(
          "energy baseline: occupancy is constant ({}) over the {} baseline periods; fit without "
          "occupancy (use_occupancy = false) or add periods (the normal equations are singular)",
          x2_mean, fit.n));
    }
    const double det = s11 * s22 - s12 * s12;
    // det / (S11·S22) = 1 − r², r the correlation of HDD and occupancy.
    if (det <= 1e-10 * s11 * s22) {
      return FailedPreconditionError(fmt::format(
          "energy baseline: HDD and occupancy are collinear over the {} baseline periods "
          "(correlation ±1); their effects cannot be separated (the normal equations are "
          "singular)",
          fit.n));
    }
    fit.b1 = (s22 * s1y - s12 * s2y) / det;
    fit.b2 = (s11 * s2y - s12 * s1y) / det;
  } else {
    fit.b1 = s1y / s11;
    fit.b2 = 0;
  }
  fit.b0 = y_mean - fit.b1 * x1_mean - fit.b2 * x2_mean;
  fit.mean_kwh = y_mean;

  double sse = 0, sst = 0, sum_e = 0, lag = 0, prev = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const auto* p = base[i];
    const double e = p->energy_kwh - fit.Predict(p->hdd, p->occupancy);
    sse += e * e;
    sum_e += e;
    sst += (p->energy_kwh - y_mean) * (p->energy_kwh - y_mean);
    if (i > 0) lag += e * prev;
    prev = e;
  }
  const double dof = n - static_cast<double>(fit.p);
  fit.rmse_kwh = std::sqrt(sse / dof);
  if (sst > 0) fit.r2 = 1.0 - sse / sst;
  if (y_mean > 0) {
    fit.cv_rmse_pct = fit.rmse_kwh / y_mean * 100.0;
    fit.nmbe_pct = sum_e / (dof * y_mean) * 100.0;
  }
  if (sse > 0) fit.rho = lag / sse;

  auto [cv_limit, nmbe_limit] = Guideline14Limits(options.granularity);
  fit.cv_rmse_limit_pct = options.cv_rmse_limit_pct.value_or(cv_limit);
  fit.nmbe_limit_pct = options.nmbe_limit_pct.value_or(nmbe_limit);
  const std::string source =
      options.cv_rmse_limit_pct || options.nmbe_limit_pct ? "limits set in the options"
      : options.granularity == Granularity::kDaily
          ? "daily data: G14 hourly limits"
          : fmt::format("{} data: G14 limits", GranularityName(options.granularity));
  if (!fit.cv_rmse_pct || !fit.nmbe_pct) {
    fit.meets_criteria = false;
    fit.criteria = fmt::format(
        "CV(RMSE) and NMBE undefined: mean energy {:.3f} kWh is not positive ({})", y_mean, source);
  } else {
    const bool cv_ok = *fit.cv_rmse_pct <= fit.cv_rmse_limit_pct;
    const bool nmbe_ok = std::fabs(*fit.nmbe_pct) <= fit.nmbe_limit_pct;
    fit.meets_criteria = cv_ok && nmbe_ok;
    fit.criteria =
        fmt::format("CV(RMSE) {:.1f}% {} {:g}% and |NMBE| {:.1f}% {} {:g}% ({})", *fit.cv_rmse_pct,
                    cv_ok ? "<=" : ">", fit.cv_rmse_limit_pct, std::fabs(*fit.nmbe_pct),
                    nmbe_ok ? "<=" : ">", fit.nmbe_limit_pct, source);
  }
  return fit;
}

Result<BaselineReport> BaselineSavings(const std::vector<BaselinePeriod>& periods,
                                       const BaselineOptions& options) {
  if (!std::isfinite(options.energy_price_per_kwh) ||
      !std::isfinite(options.grid_carbon_kg_per_kwh) || !std::isfinite(options.t_statistic) ||
      options.t_statistic < 0) {
    return InvalidArgumentError(
        "energy baseline: energy price, grid factor and t statistic must be numbers (t >= 0)");
  }
  WEFT_ASSIGN_OR_RETURN(BaselineFit fit, FitBaseline(periods, options));
  BaselineReport report;
  for (const auto& p : periods) {
    if (!p.optimised) continue;
    SavingsPeriod s{.start_us = p.start_us, .end_us = p.end_us};
    s.baseline_kwh = fit.Predict(p.hdd, p.occupancy);
    s.actual_kwh = p.energy_kwh;
    s.savings_kwh = s.baseline_kwh - s.actual_kwh;
    s.carbon_kg = s.savings_kwh * options.grid_carbon_kg_per_kwh;
    s.money = s.savings_kwh * options.energy_price_per_kwh;
    SavingsTotal& t = report.total;
    ++t.periods;
    t.baseline_kwh += s.baseline_kwh;
    t.actual_kwh += s.actual_kwh;
    t.savings_kwh += s.savings_kwh;
    t.carbon_kg += s.carbon_kg;
    t.money += s.money;
    report.periods.push_back(s);
  }
  SavingsTotal& t = report.total;
  if (t.baseline_kwh > 0) t.savings_fraction = t.savings_kwh / t.baseline_kwh;
  // G14 Annex B: FSU = t · 1.26 · CV · sqrt((n/n') · (1 + 2/n) · (1/m)) / F. A positive lag-1
  // autocorrelation means fewer independent baseline points than periods (n' < n).
  if (t.periods > 0 && t.savings_fraction && *t.savings_fraction > 0 && fit.cv_rmse_pct &&
      fit.rho < 1) {
    const double n = static_cast<double>(fit.n);
    const double n_eff = fit.rho > 0 ? n * (1 - fit.rho) / (1 + fit.rho) : n;
    const double m = static_cast<double>(t.periods);
    t.fractional_savings_uncertainty = options.t_statistic * 1.26 * (*fit.cv_rmse_pct / 100.0) *
                                       std::sqrt((n / n_eff) * (1 + 2 / n) * (1 / m)) /
                                       *t.savings_fraction;
  }
  report.fit = std::move(fit);
  return report;
}

Result<DegreeHours> HeatingDegreeHours(const std::vector<TemperaturePoint>& points,
                                       int64_t start_us, int64_t end_us, double balance_c,
                                       int64_t stale_after_us) {
  if (end_us <= start_us) {
    return InvalidArgumentError(fmt::format(
        "degree hours: the period ends ({}) at or before it starts ({})", end_us, start_us));
  }
  if (stale_after_us <= 0) {
    return InvalidArgumentError(
        fmt::format("degree hours: stale_after must be > 0, got {} us", stale_after_us));
  }
  if (!std::isfinite(balance_c)) {
    return InvalidArgumentError("degree hours: the balance temperature is not a number");
  }
  DegreeHours out;
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i].ts_us < points[i - 1].ts_us) {
      return InvalidArgumentError(
          fmt::format("degree hours: temperature points are not sorted by time (point #{} at {} "
                      "comes after {})",
                      i, points[i].ts_us, points[i - 1].ts_us));
    }
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < points.size(); ++i) {
    const TemperaturePoint& pt = points[i];
    if (!std::isfinite(pt.celsius)) continue;
    int64_t hold_end = pt.ts_us > kMax - stale_after_us ? kMax : pt.ts_us + stale_after_us;
    if (i + 1 < points.size()) hold_end = std::min(hold_end, points[i + 1].ts_us);
    const int64_t lo = std::max(pt.ts_us, start_us);
    const int64_t hi = std::min(hold_end, end_us);
    if (hi <= lo) continue;
    const double seconds = static_cast<double>(hi - lo) / 1e6;
    out.covered_s += seconds;
    out.degree_hours += std::max(0.0, balance_c - pt.celsius) * seconds / 3600.0;
  }
  out.coverage = out.covered_s / (static_cast<double>(end_us - start_us) / 1e6);
  return out;
}

double HeatingDegreeDaysFromMean(double mean_c, double balance_c, double days) {
  return std::max(0.0, balance_c - mean_c) * days;
}

}  // namespace weft::kpi

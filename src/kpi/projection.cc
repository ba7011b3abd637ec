#include "kpi/projection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::kpi {
namespace {

constexpr double kUsPerDay = 86400.0 * 1e6;
constexpr double kDaysPerYear = 365.0;

Status CheckSpec(const ProjectionSpec& spec) {
  const std::string where = "projection of use case '" + spec.use_case + "'";
  if (!std::isfinite(spec.kpi.baseline) || !std::isfinite(spec.kpi.target)) {
    return InvalidArgumentError(where + ": KPI baseline and target must be numbers");
  }
  if (spec.kpi.baseline == spec.kpi.target) {
    return InvalidArgumentError(
        fmt::format("{}: KPI '{}' has baseline = target = {}; there is no improvement to measure",
                    where, spec.kpi.name, spec.kpi.baseline));
  }
  if (!std::isfinite(spec.annual_value) || spec.annual_value < 0) {
    return InvalidArgumentError(
        fmt::format("{}: annual_value must be a number >= 0, got {}", where, spec.annual_value));
  }
  if (spec.ramp_us <= 0) {
    return InvalidArgumentError(
        fmt::format("{}: the ramp must be longer than 0, got {} us", where, spec.ramp_us));
  }
  if (!std::isfinite(spec.min_baseline_days) || spec.min_baseline_days < 0) {
    return InvalidArgumentError(fmt::format("{}: min_baseline_days must be a number >= 0, got {}",
                                            where, spec.min_baseline_days));
  }
  return Status::Ok();
}

Status CheckMeasurement(const ProjectionSpec& spec, const KpiMeasurement& m) {
  const std::string where = "projection of use case '" + spec.use_case + "'";
  if (m.end_us <= m.start_us) {
    return InvalidArgumentError(fmt::format("{}: the period ends ({}) at or before it starts ({})",
                                            where, m.end_us, m.start_us));
  }
  if (!std::isfinite(m.coverage) || m.coverage < 0 || m.coverage > 1) {
    return InvalidArgumentError(
        fmt::format("{}: coverage must be within [0, 1], got {}", where, m.coverage));
  }
  if (m.kpi_actual && !std::isfinite(*m.kpi_actual)) {
    return InvalidArgumentError(where + ": the measured KPI is not a number");
  }
  if (m.measured_baseline && !std::isfinite(*m.measured_baseline)) {
    return InvalidArgumentError(where + ": the measured baseline is not a number");
  }
  return Status::Ok();
}

// ∫ a(t) dt from live_from to x, in µs: 0 before live_from, (x−L)²/(2R) on the ramp, R/2 + (x−L−R)
// after it. Doubles: µs since 1970 fit a double's 53 bits to well under a microsecond.
double RampIntegral(double x, double live_from, double ramp) {
  const double d = x - live_from;
  if (d <= 0) return 0;
  if (d <= ramp) return d * d / (2 * ramp);
  return ramp / 2 + (d - ramp);
}

double LiveDays(const ProjectionSpec& spec, const KpiMeasurement& m) {
  if (!spec.live_from_us) return 0;
  const double start = static_cast<double>(m.start_us), end = static_cast<double>(m.end_us);
  const double live_from = static_cast<double>(*spec.live_from_us);
  return std::max(0.0, end - std::max(start, live_from)) / kUsPerDay;
}

// A period that gets a value_realised: live, measured, not a baseline period.
bool Judged(const ProjectionSpec& spec, const KpiMeasurement& m) {
  return m.kpi_actual && !m.baseline_period && LiveDays(spec, m) > 0;
}

// One period. `lake`: the series' lake baseline for periods without their own; `reference`:
// B_ref of the ratio of sums (nullopt: the period's own measured baseline).
ProjectionPoint ProjectOne(const ProjectionSpec& spec, const KpiMeasurement& m,
                           std::optional<double> lake, std::optional<double> reference) {
  ProjectionPoint pt{.start_us = m.start_us, .end_us = m.end_us, .kpi_actual = m.kpi_actual};
  pt.coverage = m.coverage;
  pt.baseline_period = m.baseline_period;
  const double start = static_cast<double>(m.start_us), end = static_cast<double>(m.end_us);
  const double length_us = end - start;
  const double days = length_us / kUsPerDay;
  if (spec.live_from_us) {
    const double live_from = static_cast<double>(*spec.live_from_us);
    const double ramp = static_cast<double>(spec.ramp_us);
    pt.projected_attainment =
        (RampIntegral(end, live_from, ramp) - RampIntegral(start, live_from, ramp)) / length_us;
    pt.live_days = LiveDays(spec, m);
  }
  const model::Kpi& kpi = spec.kpi;
  pt.kpi_projected = kpi.baseline + pt.projected_attainment * (kpi.target - kpi.baseline);
  pt.value_projected = spec.annual_value * pt.projected_attainment * days / kDaysPerYear;
  if (!Judged(spec, m)) return pt;

  std::optional<double> measured = m.measured_baseline;
  std::string basis = m.measured_baseline_source;
  if (!measured && lake) {
    measured = lake;
    basis = std::string(kLakeBaseline);
  }
  const std::optional<double> r_projected = ProjectedImprovement(kpi);
  const double denominator = reference.value_or(measured.value_or(0));
  double share = 0;
  if (measured && *measured != 0 && r_projected && denominator != 0) {
    share = (*measured - *pt.kpi_actual) / denominator / *r_projected;
    pt.basis = basis;
    pt.measured_baseline = measured;
  } else {
    share = (kpi.baseline - *pt.kpi_actual) / (kpi.baseline - kpi.target);
    pt.basis = std::string(kPlanBaseline);
  }
  pt.value_realised = spec.annual_value * share * pt.live_days / kDaysPerYear;
  if (pt.value_projected != 0) pt.attainment = *pt.value_realised / pt.value_projected;
  return pt;
}

}  // namespace

std::optional<double> ProjectedImprovement(const model::Kpi& kpi) {
  if (kpi.baseline == 0 || !std::isfinite(kpi.baseline) || !std::isfinite(kpi.target)) {
    return std::nullopt;
  }
  return (kpi.baseline - kpi.target) / kpi.baseline;
}

double ProjectedAttainmentAt(const ProjectionSpec& spec, int64_t t_us) {
  if (!spec.live_from_us || spec.ramp_us <= 0) return 0;
  const double d = static_cast<double>(t_us) - static_cast<double>(*spec.live_from_us);
  return std::clamp(d / static_cast<double>(spec.ramp_us), 0.0, 1.0);
}

Result<ProjectionPoint> ProjectPeriod(const ProjectionSpec& spec, const KpiMeasurement& m) {
  WEFT_RETURN_IF_ERROR(CheckSpec(spec));
  WEFT_RETURN_IF_ERROR(CheckMeasurement(spec, m));
  return ProjectOne(spec, m, std::nullopt, std::nullopt);
}

Result<std::vector<ProjectionPoint>> ProjectSeries(
    const ProjectionSpec& spec, const std::vector<KpiMeasurement>& measurements) {
  WEFT_RETURN_IF_ERROR(CheckSpec(spec));
  for (size_t i = 0; i < measurements.size(); ++i) {
    Status st = CheckMeasurement(spec, measurements[i]);
    if (!st.ok()) return st.WithContext(fmt::format("period #{}", i));
  }
  // The lake baseline: the KPI over the baseline periods, weighted by covered days.
  double covered_days = 0, weighted = 0;
  for (const KpiMeasurement& m : measurements) {
    if (!m.kpi_actual || m.measured_baseline || m.coverage <= 0) continue;
    const bool before_live = spec.live_from_us && m.end_us <= *spec.live_from_us;
    if (!before_live && !m.baseline_period) continue;
    const double d =
        (static_cast<double>(m.end_us) - static_cast<double>(m.start_us)) / kUsPerDay * m.coverage;
    covered_days += d;
    weighted += *m.kpi_actual * d;
  }
  std::optional<double> lake;
  if (covered_days > 0 && covered_days >= spec.min_baseline_days && weighted != 0) {
    lake = weighted / covered_days;
  }
  // B_ref: the measured baselines of the periods to be judged on one, weighted by live days.
  std::optional<double> reference;
  if (ProjectedImprovement(spec.kpi)) {
    double live = 0, sum = 0;
    for (const KpiMeasurement& m : measurements) {
      if (!Judged(spec, m)) continue;
      const std::optional<double> b = m.measured_baseline ? m.measured_baseline : lake;
      if (!b || *b == 0) continue;
      live += LiveDays(spec, m);
      sum += *b * LiveDays(spec, m);
    }
    if (live > 0 && sum != 0) reference = sum / live;
  }
  std::vector<ProjectionPoint> out;
  out.reserve(measurements.size());
  for (const KpiMeasurement& m : measurements) out.push_back(ProjectOne(spec, m, lake, reference));
  return out;
}

ProjectionSummary Summarise(const std::vector<ProjectionPoint>& points) {
  ProjectionSummary s;
  s.periods = points.size();
  double weighted_coverage = 0;
  double w_all = 0, wa_all = 0, l_all = 0, la_all = 0;      // kpi_actual, all periods with data
  double w_plan = 0, wa_plan = 0, l_plan = 0, la_plan = 0;  // on the plan's baseline
  double b_measured = 0, a_measured = 0;                    // Σ B_m·live, Σ actual·live
  for (const auto& pt : points) {
    s.live_days += pt.live_days;
    weighted_coverage += pt.coverage * pt.live_days;
    if (!pt.value_realised) continue;
    ++s.periods_with_data;
    s.days_of_data += pt.live_days;
    s.value_realised += *pt.value_realised;
    s.value_projected += pt.value_projected;
    if (s.periods_with_data == 1) {
      s.basis = pt.basis;
    } else if (s.basis != pt.basis) {
      s.basis = "mixed";
    }
    const double actual = pt.kpi_actual.value_or(0);
    const double w = pt.live_days * pt.coverage;
    w_all += w;
    wa_all += w * actual;
    l_all += pt.live_days;
    la_all += pt.live_days * actual;
    if (pt.measured_baseline) {
      s.days_on_measured_baseline += pt.live_days;
      b_measured += *pt.measured_baseline * pt.live_days;
      a_measured += actual * pt.live_days;
    } else {
      s.days_on_plan_baseline += pt.live_days;
      w_plan += w;
      wa_plan += w * actual;
      l_plan += pt.live_days;
      la_plan += pt.live_days * actual;
    }
  }
  auto mean = [](double w, double wa, double l, double la) -> std::optional<double> {
    if (w > 0) return wa / w;
    if (l > 0) return la / l;
    return std::nullopt;
  };
  s.kpi_actual = mean(w_all, wa_all, l_all, la_all);
  s.kpi_actual_on_plan_baseline = mean(w_plan, wa_plan, l_plan, la_plan);
  if (s.days_on_measured_baseline > 0) {
    s.measured_baseline = b_measured / s.days_on_measured_baseline;
    if (b_measured != 0) s.measured_improvement = 1 - a_measured / b_measured;
  }
  if (s.live_days > 0) s.coverage = weighted_coverage / s.live_days;
  if (s.value_projected > 0) s.attainment = s.value_realised / s.value_projected;
  if (s.days_of_data > 0) {
    s.realised_annual = s.value_realised * kDaysPerYear / s.days_of_data;
    s.projected_annual = s.value_projected * kDaysPerYear / s.days_of_data;
  }
  return s;
}

bool IsPerYearUnit(std::string_view unit) {
  for (std::string_view suffix : {"/year", "/yr", "/a"}) {
    if (unit.size() > suffix.size() && unit.ends_with(suffix)) return true;
  }
  return false;
}

std::optional<double> AnnualiseKpi(double measured, int64_t start_us, int64_t end_us,
                                   double coverage, std::string_view unit) {
  if (!std::isfinite(measured) || !std::isfinite(coverage) || coverage <= 0 || end_us <= start_us) {
    return std::nullopt;
  }
  if (!IsPerYearUnit(unit)) return measured;
  const double days = (static_cast<double>(end_us) - static_cast<double>(start_us)) / kUsPerDay;
  return measured * kDaysPerYear / (days * std::min(coverage, 1.0));
}

}  // namespace weft::kpi

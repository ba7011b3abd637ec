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

}  // namespace

double ProjectedAttainmentAt(const ProjectionSpec& spec, int64_t t_us) {
  if (!spec.live_from_us || spec.ramp_us <= 0) return 0;
  const double d = static_cast<double>(t_us) - static_cast<double>(*spec.live_from_us);
  return std::clamp(d / static_cast<double>(spec.ramp_us), 0.0, 1.0);
}

Result<ProjectionPoint> ProjectPeriod(const ProjectionSpec& spec, const KpiMeasurement& m) {
  WEFT_RETURN_IF_ERROR(CheckSpec(spec));
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

  ProjectionPoint pt{.start_us = m.start_us, .end_us = m.end_us, .kpi_actual = m.kpi_actual};
  pt.coverage = m.coverage;
  const double start = static_cast<double>(m.start_us), end = static_cast<double>(m.end_us);
  const double length_us = end - start;
  const double days = length_us / kUsPerDay;
  if (spec.live_from_us) {
    const double live_from = static_cast<double>(*spec.live_from_us);
    const double ramp = static_cast<double>(spec.ramp_us);
    pt.projected_attainment =
        (RampIntegral(end, live_from, ramp) - RampIntegral(start, live_from, ramp)) / length_us;
    pt.live_days = std::max(0.0, end - std::max(start, live_from)) / kUsPerDay;
  }
  const model::Kpi& kpi = spec.kpi;
  pt.kpi_projected = kpi.baseline + pt.projected_attainment * (kpi.target - kpi.baseline);
  pt.value_projected = spec.annual_value * pt.projected_attainment * days / kDaysPerYear;
  if (pt.kpi_actual && pt.live_days > 0) {
    const double share = (kpi.baseline - *pt.kpi_actual) / (kpi.baseline - kpi.target);
    pt.value_realised = spec.annual_value * share * pt.live_days / kDaysPerYear;
    if (pt.value_projected != 0) pt.attainment = *pt.value_realised / pt.value_projected;
  }
  return pt;
}

Result<std::vector<ProjectionPoint>> ProjectSeries(
    const ProjectionSpec& spec, const std::vector<KpiMeasurement>& measurements) {
  std::vector<ProjectionPoint> out;
  out.reserve(measurements.size());
  for (size_t i = 0; i < measurements.size(); ++i) {
    auto pt = ProjectPeriod(spec, measurements[i]);
    if (!pt.ok()) return pt.status().WithContext(fmt::format("period #{}", i));
    out.push_back(std::move(pt).value());
  }
  return out;
}

ProjectionSummary Summarise(const std::vector<ProjectionPoint>& points) {
  ProjectionSummary s;
  s.periods = points.size();
  double weighted_coverage = 0;
  for (const auto& pt : points) {
    s.live_days += pt.live_days;
    weighted_coverage += pt.coverage * pt.live_days;
    if (!pt.value_realised) continue;
    ++s.periods_with_data;
    s.days_of_data += pt.live_days;
    s.value_realised += *pt.value_realised;
    s.value_projected += pt.value_projected;
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

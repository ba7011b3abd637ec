#include "mlops/monitoring/drift.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace weft::mlops {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kOk: return "ok";
    case Level::kWarn: return "warn";
    case Level::kAlert: return "alert";
  }
  return "ok";
}

std::vector<double> DecileLevels() {
  std::vector<double> out;
  for (int i = 1; i <= 9; ++i) out.push_back(i / 10.0);
  return out;
}

std::vector<double> Quantiles(std::span<const double> values, std::span<const double> levels) {
  std::vector<double> out;
  if (values.empty()) return out;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const double last = static_cast<double>(sorted.size() - 1);
  for (double level : levels) {
    const double h = std::clamp(level, 0.0, 1.0) * last;
    const auto lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    out.push_back(sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]));
  }
  return out;
}

namespace {

// Bin i of cut points e (size B-1): values v with e[i-1] < v <= e[i]; upper_bound on "<=".
size_t BinOf(double v, const std::vector<double>& edges) {
  return static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), v) - edges.begin());
}

}  // namespace

Result<PsiResult> Psi(std::span<const double> window, std::span<const double> edges,
                      std::span<const double> reference_sample, const PsiThresholds& thresholds) {
  if (window.empty()) return InvalidArgumentError("PSI: the window has no values");
  if (edges.empty()) return InvalidArgumentError("PSI: the reference has no quantile edges");
  std::vector<double> cuts;
  for (size_t i = 0; i < edges.size(); ++i) {
    if (std::isnan(edges[i]))
      return InvalidArgumentError("PSI: reference edge " + std::to_string(i) + " is NaN");
    if (i > 0 && edges[i] < edges[i - 1]) {
      return InvalidArgumentError("PSI: reference edges must be non-decreasing (edge " +
                                  std::to_string(i) + " is below edge " + std::to_string(i - 1) +
                                  ")");
    }
    if (cuts.empty() || edges[i] > cuts.back()) cuts.push_back(edges[i]);
  }
  const size_t bins = cuts.size() + 1;
  PsiResult out;
  out.actual.assign(bins, 0.0);
  out.expected.assign(bins, 0.0);
  for (double v : window) {
    if (std::isnan(v)) return InvalidArgumentError("PSI: the window holds NaN");
    out.actual[BinOf(v, cuts)] += 1;
  }
  for (double& a : out.actual) a /= static_cast<double>(window.size());
  if (!reference_sample.empty()) {
    for (double v : reference_sample) out.expected[BinOf(v, cuts)] += 1;
    for (double& e : out.expected) e /= static_cast<double>(reference_sample.size());
  } else {
    std::fill(out.expected.begin(), out.expected.end(), 1.0 / static_cast<double>(bins));
  }
  for (size_t i = 0; i < bins; ++i) {
    const double a = std::max(out.actual[i], thresholds.epsilon);
    const double e = std::max(out.expected[i], thresholds.epsilon);
    out.psi += (a - e) * std::log(a / e);
  }
  out.level = out.psi >= thresholds.alert  ? Level::kAlert
              : out.psi >= thresholds.warn ? Level::kWarn
                                           : Level::kOk;
  return out;
}

double KolmogorovSurvival(double lambda) {
  if (lambda < 0.2) return 1.0;
  double sum = 0;
  double sign = 1;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::exp(-2.0 * j * j * lambda * lambda);
    sum += sign * term;
    if (term < 1e-16) break;
    sign = -sign;
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

KsResult KsTwoSampleSorted(std::span<const double> a, std::span<const double> sorted_b) {
  KsResult out;
  out.n = a.size();
  out.m = sorted_b.size();
  if (a.empty() || sorted_b.empty()) return out;
  std::vector<double> sa(a.begin(), a.end());
  std::sort(sa.begin(), sa.end());
  const double n = static_cast<double>(sa.size());
  const double m = static_cast<double>(sorted_b.size());
  size_t i = 0;
  size_t j = 0;
  // Walk the merged order; at each distinct value advance both sides past it (ties) and compare
  // the two step functions there.
  while (i < sa.size() && j < sorted_b.size()) {
    const double x = std::min(sa[i], sorted_b[j]);
    while (i < sa.size() && sa[i] <= x) ++i;
    while (j < sorted_b.size() && sorted_b[j] <= x) ++j;
    out.d = std::max(out.d, std::abs(static_cast<double>(i) / n - static_cast<double>(j) / m));
  }
  const double ne = n * m / (n + m);
  out.p_value = KolmogorovSurvival(std::sqrt(ne) * out.d);
  return out;
}

KsResult KsTwoSample(std::span<const double> a, std::span<const double> b) {
  std::vector<double> sb(b.begin(), b.end());
  std::sort(sb.begin(), sb.end());
  return KsTwoSampleSorted(a, sb);
}

}  // namespace weft::mlops

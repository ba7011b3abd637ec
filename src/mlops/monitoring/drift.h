// Drift statistics of a window of values against a model's training reference: the population
// stability index (PSI) over reference quantile bins and the two-sample Kolmogorov–Smirnov test.
//
//   std::vector<double> edges = Quantiles(training_sample, DecileLevels());   // 9 cut points
//   Result<PsiResult> psi = Psi(window_values, edges, training_sample);
//   if (psi.ok() && psi->level == Level::kAlert) ...                          // PSI >= 0.25
//   KsResult ks = KsTwoSample(window_values, training_sample);               // D and p-value
//
// PSI. The reference's interior cut points q_1 < ... < q_{B-1} (deciles: B = 10) split the line
// into B bins (-inf, q_1], (q_1, q_2], ..., (q_{B-1}, +inf). With a_i the window's share and e_i
// the reference's share of bin i (from the reference sample when one is given, else 1/B, which
// is what quantile cut points mean), both floored at epsilon (1e-4) so that an empty bin does
// not make the logarithm infinite:
//   PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
// Levels: ok below 0.1, warn from 0.1, alert from 0.25 (PsiThresholds).
//
// KS. D = sup_x |F_window(x) - F_reference(x)| over the two empirical distribution functions.
// Asymptotic p-value: with n_e = n·m/(n + m), lambda = sqrt(n_e)·D and
//   p = Q_KS(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j² lambda²)
// (the Kolmogorov distribution's survival function; Q_KS = 1 for lambda < 0.2, where the series
// converges slowly and the value is 1 to 7 digits). Valid for large n and m (say >= 30 each).
//
// Thread-safety: pure functions.
#ifndef WEFT_MLOPS_MONITORING_DRIFT_H_
#define WEFT_MLOPS_MONITORING_DRIFT_H_

#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::mlops {

//! Severity of a monitoring finding.
enum class Level { kOk = 0, kWarn = 1, kAlert = 2 };
//! "ok", "warn", "alert".
std::string_view LevelName(Level level);

//! 0.1, 0.2, ..., 0.9.
std::vector<double> DecileLevels();

//! Quantiles of `values` at `levels` (each in [0, 1]) by linear interpolation between order
//! statistics (Hyndman–Fan type 7, as numpy's default). Empty when `values` is empty.
std::vector<double> Quantiles(std::span<const double> values, std::span<const double> levels);

struct PsiThresholds {
  double warn = 0.1;
  double alert = 0.25;
  double epsilon = 1e-4;  //!< floor for a bin's share
};

struct PsiResult {
  double psi = 0;
  Level level = Level::kOk;
  std::vector<double> actual;    //!< the window's share per bin (before the epsilon floor)
  std::vector<double> expected;  //!< the reference's share per bin (before the floor)
};

//! PSI of `window` against the reference cut points `edges` (non-decreasing; repeated edges are
//! merged). `reference_sample`, when not empty, gives the expected shares; else they are 1/B.
//! InvalidArgument when `window` is empty, `edges` is empty or not sorted, or a value is NaN.
Result<PsiResult> Psi(std::span<const double> window, std::span<const double> edges,
                      std::span<const double> reference_sample = {},
                      const PsiThresholds& thresholds = {});

struct KsResult {
  double d = 0;        //!< sup |F1 - F2|
  double p_value = 1;  //!< asymptotic, Q_KS(sqrt(n_e)·D)
  size_t n = 0;
  size_t m = 0;
};

//! Two-sample KS statistic and asymptotic p-value. An empty side gives D = 0, p = 1.
KsResult KsTwoSample(std::span<const double> a, std::span<const double> b);
//! The same with `sorted_b` already sorted ascending (the reference, sorted once).
KsResult KsTwoSampleSorted(std::span<const double> a, std::span<const double> sorted_b);

//! Q_KS(lambda) = P(K > lambda) for the Kolmogorov distribution K.
double KolmogorovSurvival(double lambda);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_MONITORING_DRIFT_H_

// Streaming change detectors, one instance per signal: an EWMA z-score and a two-sided CUSUM.
//
//   EwmaZDetector ewma({.alpha = 0.05, .threshold = 4, .warmup = 30});
//   Detection d = ewma.Update(x);
//   if (d.fired) Emit("ewma_z", d.statistic);
//
//   CusumDetector cusum({.k = 0.5, .h = 5, .warmup = 30});    // target and sigma estimated
//   if (cusum.Update(x).fired) ...                            // then S+ and S- restart at 0
//
// EwmaZDetector keeps an exponentially weighted mean m and variance s2 (West/Finch incremental
// form). For each x after the first: z = (x - m) / sqrt(s2) (0 while s2 == 0); it fires when
// |z| >= threshold and at least `warmup` values came before x; then m and s2 are updated with x
// (an outlier moves the baseline, so a step change stops firing as the baseline follows it).
//   diff = x - m;  m += alpha * diff;  s2 = (1 - alpha) * (s2 + alpha * diff^2)
// The first value only sets m = x, s2 = 0.
//
// CusumDetector standardises x with the target mean mu and sigma (given, or estimated as the mean
// and population standard deviation of the first `warmup` values; a zero estimate becomes
// 1e-9 * max(1, |mu|)), z = (x - mu) / sigma, and tracks
//   S+ = max(0, S+ + z - k),  S- = max(0, S- - z - k)
// k and h are in units of sigma. It fires when S+ > h or S- > h (statistic: the larger, signed
// negative for S-), and then resets both sums to 0. Values used for warm-up estimation are not
// tested.
//
// Non-finite inputs are ignored (Update returns not fired, statistic 0).
//
// Thread-safety: none; one owner.
#ifndef WEFT_EDGE_INFERENCE_DETECTORS_H_
#define WEFT_EDGE_INFERENCE_DETECTORS_H_

#include <cstdint>
#include <optional>

namespace weft::edge::inference {

struct Detection {
  bool fired = false;
  double statistic = 0;  //!< z for EWMA; S+ or -S- for CUSUM
};

struct EwmaZParams {
  double alpha = 0.05;   //!< in (0, 1]
  double threshold = 4;  //!< |z| >= threshold fires
  uint32_t warmup = 30;  //!< values seen before the detector may fire
};

class EwmaZDetector {
 public:
  explicit EwmaZDetector(const EwmaZParams& p) : p_(p) {}
  Detection Update(double x);
  double mean() const { return mean_; }
  double variance() const { return var_; }
  uint64_t seen() const { return n_; }

 private:
  EwmaZParams p_;
  uint64_t n_ = 0;
  double mean_ = 0, var_ = 0;
};

struct CusumParams {
  double k = 0.5;                  //!< allowance, in sigmas
  double h = 5;                    //!< decision interval, in sigmas
  std::optional<double> target{};  //!< mean when in control; estimated over warm-up if absent
  std::optional<double> sigma{};   //!< standard deviation; estimated over warm-up if absent
  uint32_t warmup = 30;            //!< values used for estimation (when something is estimated)
};

class CusumDetector {
 public:
  explicit CusumDetector(const CusumParams& p);
  Detection Update(double x);
  double s_plus() const { return s_plus_; }
  double s_minus() const { return s_minus_; }
  //! True once target and sigma are known.
  bool ready() const { return ready_; }
  double target() const { return mu_; }
  double sigma() const { return sigma_; }

 private:
  CusumParams p_;
  bool ready_ = false;
  uint64_t n_ = 0;
  double sum_ = 0, sum_sq_ = 0;  // warm-up accumulators (shifted by the first value)
  double first_ = 0;
  double mu_ = 0, sigma_ = 1;
  double s_plus_ = 0, s_minus_ = 0;
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_DETECTORS_H_

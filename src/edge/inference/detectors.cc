#include "edge/inference/detectors.h"

#include <algorithm>
#include <cmath>

namespace weft::edge::inference {

Detection EwmaZDetector::Update(double x) {
  if (!std::isfinite(x)) return {};
  if (n_ == 0) {
    mean_ = x;
    var_ = 0;
    n_ = 1;
    return {};
  }
  const double diff = x - mean_;
  Detection d;
  d.statistic = var_ > 0 ? diff / std::sqrt(var_) : 0.0;
  d.fired = n_ >= p_.warmup && std::fabs(d.statistic) >= p_.threshold;
  mean_ += p_.alpha * diff;
  var_ = (1 - p_.alpha) * (var_ + p_.alpha * diff * diff);
  ++n_;
  return d;
}

CusumDetector::CusumDetector(const CusumParams& p) : p_(p) {
  if (p_.target && p_.sigma && *p_.sigma > 0) {
    mu_ = *p_.target;
    sigma_ = *p_.sigma;
    ready_ = true;
  }
}

Detection CusumDetector::Update(double x) {
  if (!std::isfinite(x)) return {};
  if (!ready_) {
    // Shifted sums (by the first value) keep the variance estimate accurate for large offsets.
    if (n_ == 0) first_ = x;
    const double dx = x - first_;
    sum_ += dx;
    sum_sq_ += dx * dx;
    ++n_;
    if (n_ < std::max<uint32_t>(p_.warmup, 1)) return {};
    const double dn = static_cast<double>(n_);
    const double mean_shift = sum_ / dn;
    mu_ = p_.target ? *p_.target : first_ + mean_shift;
    if (p_.sigma && *p_.sigma > 0) {
      sigma_ = *p_.sigma;
    } else {
      const double var = std::max(0.0, sum_sq_ / dn - mean_shift * mean_shift);
      sigma_ = std::sqrt(var);
      if (!(sigma_ > 0)) sigma_ = 1e-9 * std::max(1.0, std::fabs(mu_));
    }
    ready_ = true;
    return {};
  }
  const double z = (x - mu_) / sigma_;
  s_plus_ = std::max(0.0, s_plus_ + z - p_.k);
  s_minus_ = std::max(0.0, s_minus_ - z - p_.k);
  Detection d;
  if (s_plus_ >= s_minus_) {
    d.statistic = s_plus_;
  } else {
    d.statistic = -s_minus_;
  }
  if (s_plus_ > p_.h || s_minus_ > p_.h) {
    d.fired = true;
    s_plus_ = 0;
    s_minus_ = 0;
  }
  return d;
}

}  // namespace weft::edge::inference

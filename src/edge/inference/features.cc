#include "edge/inference/features.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace weft::edge::inference {

namespace {
constexpr std::array<Stat, 6> kAllStats = {Stat::kLast, Stat::kMean, Stat::kStd,
                                           Stat::kMin,  Stat::kMax,  Stat::kSlope};
constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
}  // namespace

std::string_view StatName(Stat s) {
  switch (s) {
    case Stat::kLast: return "last";
    case Stat::kMean: return "mean";
    case Stat::kStd: return "std";
    case Stat::kMin: return "min";
    case Stat::kMax: return "max";
    case Stat::kSlope: return "slope";
  }
  return "?";
}

std::optional<Stat> StatFromName(std::string_view name) {
  for (Stat s : kAllStats) {
    if (StatName(s) == name) return s;
  }
  return std::nullopt;
}

std::span<const Stat> AllStats() {
  return kAllStats;
}

FeatureWindow::FeatureWindow(const std::vector<std::vector<Stat>>& stats_per_signal, size_t window)
    : window_(std::max<size_t>(window, 1)),
      values_(stats_per_signal.size() * window_, 0.0),
      ts_us_(stats_per_signal.size() * window_, 0),
      next_(stats_per_signal.size(), 0),
      count_(stats_per_signal.size(), 0) {
  for (const auto& stats : stats_per_signal) {
    stats_begin_.push_back(static_cast<uint32_t>(stats_.size()));
    stats_.insert(stats_.end(), stats.begin(), stats.end());
  }
  stats_begin_.push_back(static_cast<uint32_t>(stats_.size()));
}

void FeatureWindow::Push(size_t slot, int64_t ts_us, double value) {
  size_t at = slot * window_ + next_[slot];
  values_[at] = value;
  ts_us_[at] = ts_us;
  next_[slot] = static_cast<uint32_t>((next_[slot] + 1) % window_);
  if (count_[slot] < window_) ++count_[slot];
}

void FeatureWindow::Clear() {
  std::fill(next_.begin(), next_.end(), 0);
  std::fill(count_.begin(), count_.end(), 0);
}

void FeatureWindow::Extract(std::span<float> out) const {
  for (size_t slot = 0; slot < count_.size(); ++slot) {
    const size_t n = count_[slot];
    const double* v = values_.data() + slot * window_;
    const int64_t* t = ts_us_.data() + slot * window_;
    // The buffer's order does not matter for these stats except `last`; the newest value is
    // just before next_.
    double last = 0, mean = 0, mn = 0, mx = 0, sd = 0, slope = 0;
    if (n > 0) {
      last = v[(next_[slot] + window_ - 1) % window_];
      double sum = 0;
      mn = v[0];
      mx = v[0];
      int64_t t0 = t[0];
      double tsum = 0;
      for (size_t i = 0; i < n; ++i) {
        sum += v[i];
        mn = std::min(mn, v[i]);
        mx = std::max(mx, v[i]);
        tsum += static_cast<double>(t[i] - t0) * 1e-6;
      }
      const double dn = static_cast<double>(n);
      mean = sum / dn;
      const double tmean = tsum / dn;
      double vv = 0, tt = 0, tv = 0;
      for (size_t i = 0; i < n; ++i) {
        double dv = v[i] - mean;
        double dt = static_cast<double>(t[i] - t0) * 1e-6 - tmean;
        vv += dv * dv;
        tt += dt * dt;
        tv += dt * dv;
      }
      sd = std::sqrt(vv / dn);
      slope = tt > 0 ? tv / tt : 0.0;
    }
    for (uint32_t k = stats_begin_[slot]; k < stats_begin_[slot + 1]; ++k) {
      float f = kMissing;
      if (n > 0) {
        switch (stats_[k]) {
          case Stat::kLast: f = static_cast<float>(last); break;
          case Stat::kMean: f = static_cast<float>(mean); break;
          case Stat::kStd: f = static_cast<float>(sd); break;
          case Stat::kMin: f = static_cast<float>(mn); break;
          case Stat::kMax: f = static_cast<float>(mx); break;
          case Stat::kSlope: f = n >= 2 ? static_cast<float>(slope) : kMissing; break;
        }
      }
      out[k] = f;
    }
  }
}

}  // namespace weft::edge::inference

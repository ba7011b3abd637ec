// FeatureWindow: the last N values of each signal a model reads, for one asset, and the fixed-size
// feature vector computed from them.
//
//   FeatureWindow w({{Stat::kLast, Stat::kMean}, {Stat::kSlope}}, /*window=*/32);
//   w.Push(0, ts_us, 71.5);                      // signal slot 0 (e.g. winding_temp)
//   std::array<float, 3> f;
//   w.Extract(f);                                // [last0, mean0, slope1]; no allocation
//
// The features are laid out signal by signal, in the order given, each signal's stats in the
// order given. Each signal has its own ring buffer of `window` (value, timestamp) pairs. Stats:
//   last   the newest value
//   mean   arithmetic mean of the window
//   std    population standard deviation (0 for one value)
//   min, max
//   slope  least-squares slope of value over time, per second (0 when all timestamps are equal)
// A stat that cannot be computed (no value yet; slope with fewer than two) is NaN, which the
// model treats as missing.
//
// Thread-safety: none; one owner (the inference engine's thread).
#ifndef WEFT_EDGE_INFERENCE_FEATURES_H_
#define WEFT_EDGE_INFERENCE_FEATURES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace weft::edge::inference {

enum class Stat : uint8_t { kLast, kMean, kStd, kMin, kMax, kSlope };
//! "last", "mean", "std", "min", "max", "slope".
std::string_view StatName(Stat s);
std::optional<Stat> StatFromName(std::string_view name);
//! Every stat, in declaration order (for error messages).
std::span<const Stat> AllStats();

class FeatureWindow {
 public:
  //! One entry per signal slot: the stats to extract from it. REQUIRES: window >= 1.
  FeatureWindow(const std::vector<std::vector<Stat>>& stats_per_signal, size_t window);

  size_t num_signals() const { return count_.size(); }
  size_t num_features() const { return stats_.size(); }
  size_t window() const { return window_; }
  //! Values held for a slot (at most window()).
  size_t count(size_t slot) const { return count_[slot]; }

  //! Appends a value to a slot's ring buffer, dropping the oldest when full. REQUIRES: slot <
  //! num_signals().
  void Push(size_t slot, int64_t ts_us, double value);
  //! Empties every buffer.
  void Clear();
  //! Writes the features. REQUIRES: out.size() == num_features(). Never allocates.
  void Extract(std::span<float> out) const;

 private:
  size_t window_;
  std::vector<double> values_;         // slot * window_ + ring position
  std::vector<int64_t> ts_us_;         // idem
  std::vector<uint32_t> next_;         // per slot: where the next value goes
  std::vector<uint32_t> count_;        // per slot
  std::vector<Stat> stats_;            // all features, flat
  std::vector<uint32_t> stats_begin_;  // per slot, into stats_; one extra at the end
};

}  // namespace weft::edge::inference

#endif  // WEFT_EDGE_INFERENCE_FEATURES_H_

#include "edge/pipeline/pipeline.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::edge {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Start of the window of length `len` that holds `ts` (windows are aligned to the epoch, also
// for negative timestamps).
int64_t WindowStart(int64_t ts, int64_t len) {
  int64_t q = ts / len;
  if (ts % len != 0 && ts < 0) --q;
  int64_t start = 0;
  // Only near INT64_MIN: the window would start before the representable range.
  if (__builtin_mul_overflow(q, len, &start)) return (q + 1) * len;
  return start;
}

// Time arithmetic saturates: a connector may deliver any timestamp, and signed overflow must not
// happen (it is undefined behaviour, and aborts under UBSan).
int64_t Elapsed(int64_t later, int64_t earlier) {
  int64_t d = 0;
  if (__builtin_sub_overflow(later, earlier, &d)) {
    return later > earlier ? std::numeric_limits<int64_t>::max()
                           : std::numeric_limits<int64_t>::min();
  }
  return d;
}
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<int64_t>::max();
  return sum;
}

// "5s", "250ms", or "3.000001s" for a duration that is not a whole number of milliseconds.
std::string Seconds(int64_t us) {
  if (us % 1000 == 0) return FormatDuration(Micros(us));
  return FormatDouble(static_cast<double>(us) / 1e6) + "s";
}

}  // namespace

uint64_t PipelineStats::Flagged(uint8_t flag) const {
  for (size_t bit = 0; bit < flagged.size(); ++bit) {
    if (flag == (1u << bit)) return flagged[bit];
  }
  return 0;
}

Pipeline::Pipeline(const SignalTable& table, std::vector<SignalPolicy> policies, PipelineSink& sink)
    : sink_(sink), policies_(DefaultPolicies(table)), slots_(table.size()) {
  for (SignalPolicy& p : policies) {
    if (p.signal < policies_.size()) policies_[p.signal] = std::move(p);
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const SignalPolicy& p = policies_[i];
    Slot& s = slots_[i];
    s.lo = p.min.value_or(-kInf);
    s.hi = p.max.value_or(kInf);
    s.deadband_fraction = p.deadband_percent;
    s.deadband = p.deadband_percent ? p.deadband / 100.0 : p.deadband;
    s.min_interval_us = p.min_interval.count();
    s.max_interval_us = p.max_interval.count();
    s.stale_after_us = p.stale_after.count();
    s.stuck_after_us = p.stuck_after.count();
    // A window needs a length; the parser rejects an aggregate route without one.
    s.window_us = RouteHasAggregate(p.route) ? p.window.count() : 0;
    s.raw = RouteHasRaw(p.route);
    s.aggregate = s.window_us > 0;
    s.priority = p.priority;
    s.stats = p.stats;
  }
}

void Pipeline::Push(std::span<const Sample> samples) {
  const size_t n = slots_.size();
  for (const Sample& in : samples) {
    if (in.signal >= n) {
      ++stats_.unknown_signal;
      continue;
    }
    ++stats_.samples_in;
    Slot& s = slots_[in.signal];
    const double v = in.value;
    const int64_t ts = in.ts_us;
    // kStale is the pipeline's to set (Advance) and a fresh sample clears it.
    uint8_t q = static_cast<uint8_t>(in.quality & ~quality::kStale);

    // 1. Validation.
    if (!std::isfinite(v)) {
      q |= quality::kNotANumber;
    } else if (v < s.lo || v > s.hi) {
      q |= quality::kOutOfRange;
    }
    if (s.stuck_after_us > 0) {
      // NaN never equals itself, so it restarts the run.
      if (s.run_valid && v == s.run_value) {
        if (Elapsed(ts, s.run_start) >= s.stuck_after_us) q |= quality::kStuck;
      } else {
        s.run_valid = true;
        s.run_value = v;
        s.run_start = ts;
      }
    }
    if (q != 0) CountFlags(q);

    // 2. Quality tracking.
    const bool changed = q != s.quality;
    if (changed) {
      const uint8_t from = s.quality;
      s.quality = q;
      QualityChanged(s, in.signal, ts, v, from, q);
    }
    s.has_value = true;
    s.last_value = v;
    s.last_ts = ts;

    // 3. Raw path.
    if (s.raw) {
      bool send = true;
      if (s.has_sent && !changed) {
        if (s.min_interval_us > 0 && Elapsed(ts, s.sent_ts) < s.min_interval_us) {
          ++stats_.rate_limited;
          send = false;
        } else if (q == quality::kGood) {
          const double band =
              s.deadband_fraction ? s.deadband * std::fabs(s.sent_value) : s.deadband;
          if (std::fabs(v - s.sent_value) < band) {
            ++stats_.deadband_suppressed;
            send = false;
          }
        }
      }
      if (send) {
        s.has_sent = true;
        s.sent_value = v;
        s.sent_ts = ts;
        ++stats_.raw_sent;
        sink_.OnSample(Sample{in.signal, ts, v, q}, s.priority);
      }
    }

    // 4. Aggregate path.
    if (s.aggregate) AddToWindow(s, in.signal, ts, v, q);
  }
}

void Pipeline::AddToWindow(Slot& s, SignalId id, int64_t ts, double v, uint8_t q) {
  if (s.window_open && ts < s.window_start) {
    ++stats_.late_for_window;
    return;
  }
  if (s.window_open && ts >= s.window_end) CloseWindow(s, id);
  if (!s.window_open) {
    s.window_open = true;
    s.window_start = WindowStart(ts, s.window_us);
    s.window_end = SaturatingAdd(s.window_start, s.window_us);
    s.window_quality = 0;
    s.window_count = 0;
    s.window_sum = s.window_sum_sq = 0;
  }
  s.window_quality |= q;
  if (q != quality::kGood) return;  // bad samples count in the quality, not in the statistics
  // Sums of (v - first value) keep the variance exact enough when the mean is far from 0.
  if (s.window_count == 0) {
    s.window_shift = v;
    s.window_min = v;
    s.window_max = v;
  } else {
    if (v < s.window_min) s.window_min = v;
    if (v > s.window_max) s.window_max = v;
  }
  const double d = v - s.window_shift;
  s.window_sum += d;
  s.window_sum_sq += d * d;
  s.window_last = v;
  ++s.window_count;
}

void Pipeline::CloseWindow(Slot& s, SignalId id) {
  s.window_open = false;
  Aggregate a;
  a.signal = id;
  a.start_us = s.window_start;
  a.end_us = s.window_end;
  a.count = s.window_count;
  a.quality = s.window_quality;
  a.mean = a.min = a.max = a.std = a.last = kNaN;
  if (s.window_count > 0) {
    const double n = static_cast<double>(s.window_count);
    const double mean_d = s.window_sum / n;
    const double var = std::max(0.0, s.window_sum_sq / n - mean_d * mean_d);
    if (s.stats & stat::kMean) a.mean = s.window_shift + mean_d;
    if (s.stats & stat::kMin) a.min = s.window_min;
    if (s.stats & stat::kMax) a.max = s.window_max;
    if (s.stats & stat::kStd) a.std = std::sqrt(var);
    if (s.stats & stat::kLast) a.last = s.window_last;
  }
  ++stats_.aggregates;
  sink_.OnAggregate(a, s.priority);
}

void Pipeline::Advance(int64_t now_us) {
  if (!started_) {
    started_ = true;
    start_us_ = now_us;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const auto id = static_cast<SignalId>(i);
    if (s.window_open && now_us >= s.window_end) CloseWindow(s, id);
    if (s.stale_after_us > 0 && (s.quality & quality::kStale) == 0) {
      const int64_t since = s.has_value ? s.last_ts : start_us_;
      if (Elapsed(now_us, since) > s.stale_after_us) {
        const uint8_t from = s.quality;
        s.quality = static_cast<uint8_t>(s.quality | quality::kStale);
        CountFlags(quality::kStale);
        if (s.window_open) s.window_quality |= quality::kStale;
        QualityChanged(s, id, now_us, s.last_value, from, s.quality);
      }
    }
    if (s.raw && s.max_interval_us > 0 && s.has_sent &&
        Elapsed(now_us, s.sent_ts) >= s.max_interval_us) {
      s.sent_ts = now_us;
      s.sent_value = s.last_value;
      ++stats_.heartbeats;
      sink_.OnSample(Sample{id, now_us, s.last_value, s.quality}, s.priority);
    }
  }
}

void Pipeline::Flush() {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].window_open) CloseWindow(slots_[i], static_cast<SignalId>(i));
  }
}

void Pipeline::CountFlags(uint8_t flags) {
  for (size_t bit = 0; bit < stats_.flagged.size(); ++bit) {
    if ((flags >> bit) & 1u) ++stats_.flagged[bit];
  }
}

// Rare (a change of quality): free to build strings.
void Pipeline::QualityChanged(Slot& s, SignalId id, int64_t ts, double value, uint8_t from,
                              uint8_t to) {
  std::vector<std::string> details;
  const uint8_t added = static_cast<uint8_t>(to & ~from);
  if (added & quality::kNotANumber) details.push_back("value " + FormatDouble(value));
  if (added & quality::kOutOfRange) {
    details.push_back(value < s.lo
                          ? "value " + FormatDouble(value) + " below min " + FormatDouble(s.lo)
                          : "value " + FormatDouble(value) + " above max " + FormatDouble(s.hi));
  }
  if (added & quality::kStuck) {
    details.push_back("value " + FormatDouble(value) + " unchanged for " +
                      Seconds(Elapsed(ts, s.run_start)) + " (stuck_after " +
                      Seconds(s.stuck_after_us) + ")");
  }
  if (added & quality::kStale) {
    details.push_back(s.has_value ? "no value for " + Seconds(Elapsed(ts, s.last_ts)) +
                                        " (stale_after " + Seconds(s.stale_after_us) + ")"
                                  : "no value since the start (stale_after " +
                                        Seconds(s.stale_after_us) + ")");
  }
  if (added & (quality::kBadSource | quality::kCommLoss)) details.push_back("set by the source");

  Event e;
  e.signal = id;
  e.ts_us = ts;
  e.kind = "quality";
  e.source = "pipeline";
  e.value = static_cast<double>(to);
  e.message = QualityName(from) + " -> " + QualityName(to);
  if (!details.empty()) e.message += ": " + Join(details, "; ");
  ++stats_.quality_events;
  sink_.OnEvent(e, s.priority);
}

}  // namespace weft::edge

#include "kpi/reliability.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace weft::kpi {
namespace {

constexpr double kUsPerS = 1e6;

double Seconds(int64_t us) {
  return static_cast<double>(us) / kUsPerS;
}

std::optional<double> Ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

// MTBF, MTTR and coverage from the counts and times already in `r`.
void FillRatios(ReliabilityResult* r) {
  r->mtbf_s = r->failures > 0 ? Ratio(r->run_s, r->failures) : std::nullopt;
  r->mttr_s = r->repairs > 0 ? Ratio(r->repaired_down_s, r->repairs) : std::nullopt;
}

}  // namespace

ReliabilityInputs ConveyorReliability(const StepSeries* state, const StepSeries* down_reason) {
  ReliabilityInputs in;
  in.series = {state, down_reason};
  in.classify = [](std::span<const std::optional<double>> v) -> std::optional<Condition> {
    if (v.empty() || !v[0]) return std::nullopt;
    const double s = *v[0];
    if (s == 2) return Condition::kRunning;
    if (s == 1) return Condition::kStopped;
    if (s != 0) return std::nullopt;
    const bool planned = v.size() > 1 && v[1] && *v[1] == 4;
    return planned ? Condition::kStopped : Condition::kDown;
  };
  return in;
}

ReliabilityInputs CompressorReliability(const StepSeries* state) {
  ReliabilityInputs in;
  in.series = {state};
  in.classify = [](std::span<const std::optional<double>> v) -> std::optional<Condition> {
    if (v.empty() || !v[0]) return std::nullopt;
    const double s = *v[0];
    if (s == 3) return Condition::kDown;
    if (s == 1 || s == 2) return Condition::kRunning;
    if (s == 0) return Condition::kStopped;
    return std::nullopt;
  };
  return in;
}

ReliabilityInputs RunningFlagReliability(const StepSeries* running) {
  ReliabilityInputs in;
  in.series = {running};
  in.classify = [](std::span<const std::optional<double>> v) -> std::optional<Condition> {
    if (v.empty() || !v[0]) return std::nullopt;
    return *v[0] != 0 ? Condition::kRunning : Condition::kStopped;
  };
  return in;
}

Result<ReliabilityResult> ComputeReliability(const ReliabilityInputs& in, int64_t start_us,
                                             int64_t end_us) {
  if (!in.classify) return InvalidArgumentError("reliability: no classifier given");
  if (in.series.empty()) return InvalidArgumentError("reliability: no series given");
  if (in.lookback_us < 0) {
    return InvalidArgumentError("reliability: the look-back must be 0 or more, got " +
                                std::to_string(in.lookback_us) + " us");
  }
  WEFT_RETURN_IF_ERROR(CheckWindow(start_us, end_us, "reliability"));
  ReliabilityResult r;
  r.start_us = start_us;
  r.end_us = end_us;
  // Within ±2^61 the subtraction cannot overflow unless the look-back is absurd: cap it.
  const int64_t lookback_start = start_us - std::min(in.lookback_us, kMaxAbsTsUs);

  int64_t run = 0, down = 0, stopped = 0, no_data = 0;
  std::optional<Condition> last_known;
  bool open = false;        // inside a down episode
  int64_t ep_start = 0;     // its first down moment
  int64_t ep_down_end = 0;  // the end of its last down moment so far
  bool ep_before = false;   // started before the window (or its onset is unknown)
  auto record = [&](bool open_at_end) {
    if (!open_at_end && ep_down_end <= start_us) return;  // ended before the window
    DownEpisode e;
    e.started_before = ep_before || ep_start < start_us;
    e.open_at_end = open_at_end;
    e.start_us = std::max(ep_start, start_us);
    e.end_us = open_at_end ? end_us : ep_down_end;
    r.episodes.push_back(e);
  };
  auto piece = [&](int64_t a, int64_t b, const std::optional<Condition>& cond) {
    const bool in_window = a >= start_us;
    if (in_window) {
      const int64_t d = b - a;
      if (!cond) {
        no_data += d;
      } else if (*cond == Condition::kRunning) {
        run += d;
      } else if (*cond == Condition::kDown) {
        down += d;
      } else {
        stopped += d;
      }
    }
    if (!cond) return;  // a gap neither starts nor ends an episode
    if (*cond == Condition::kDown) {
      if (!open) {
        open = true;
        ep_start = a;
        // A failure of this window only when a known non-down condition came before it.
        ep_before = !in_window || !last_known.has_value();
      }
      ep_down_end = b;
    } else if (open) {
      record(false);
      open = false;
    }
    last_known = cond;
  };
  for (const MultiSegment& m : Overlay(in.series, lookback_start, end_us)) {
    const std::optional<Condition> cond = in.classify(m.values);
    if (m.start_us < start_us && m.end_us > start_us) {
      piece(m.start_us, start_us, cond);
      piece(start_us, m.end_us, cond);
    } else {
      piece(m.start_us, m.end_us, cond);
    }
  }
  if (open && end_us > start_us) record(true);

  r.run_s = Seconds(run);
  r.down_s = Seconds(down);
  r.stopped_s = Seconds(stopped);
  r.no_data_s = Seconds(no_data);
  int64_t repaired = 0;
  for (const DownEpisode& e : r.episodes) {
    if (e.started_before) continue;
    ++r.failures;
    if (!e.open_at_end) {
      ++r.repairs;
      repaired += e.end_us - e.start_us;
    }
  }
  r.repaired_down_s = Seconds(repaired);
  FillRatios(&r);
  r.coverage = Ratio(Seconds(end_us - start_us - no_data), Seconds(end_us - start_us));
  return r;
}

Result<ReliabilityResult> ReliabilityFromEpisodes(std::span<const DownEpisode> downs,
                                                  double operating_s, int64_t start_us,
                                                  int64_t end_us) {
  WEFT_RETURN_IF_ERROR(CheckWindow(start_us, end_us, "reliability"));
  if (!(operating_s >= 0)) {
    return InvalidArgumentError("reliability: operating time must be 0 s or more");
  }
  std::vector<std::pair<int64_t, int64_t>> intervals;
  for (size_t i = 0; i < downs.size(); ++i) {
    if (downs[i].end_us < downs[i].start_us) {
      return InvalidArgumentError("reliability: down interval " + std::to_string(i) + " ends (" +
                                  std::to_string(downs[i].end_us) + " us) before it starts (" +
                                  std::to_string(downs[i].start_us) + " us)");
    }
    intervals.emplace_back(downs[i].start_us, downs[i].end_us);
  }
  // Overlapping intervals (e.g. two work orders for one breakdown) are one failure.
  std::sort(intervals.begin(), intervals.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& iv : intervals) {
    if (!merged.empty() && iv.first < merged.back().second) {
      merged.back().second = std::max(merged.back().second, iv.second);
    } else {
      merged.push_back(iv);
    }
  }
  ReliabilityResult r;
  r.start_us = start_us;
  r.end_us = end_us;
  r.run_s = operating_s;
  int64_t down = 0, repaired = 0;
  for (const auto& [a, b] : merged) {
    const int64_t lo = std::max(a, start_us);
    const int64_t hi = std::min(b, end_us);
    if (hi <= lo && !(a == b && a >= start_us && a < end_us)) continue;
    DownEpisode e{lo, std::max(lo, hi), a<start_us, b> end_us};
    down += e.end_us - e.start_us;
    if (!e.started_before) {
      ++r.failures;
      if (!e.open_at_end) {
        ++r.repairs;
        repaired += e.end_us - e.start_us;
      }
    }
    r.episodes.push_back(e);
  }
  r.down_s = Seconds(down);
  r.repaired_down_s = Seconds(repaired);
  FillRatios(&r);
  return r;
}

}  // namespace weft::kpi

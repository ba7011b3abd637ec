// Step series and cumulative counters: the two shapes of data the KPIs are computed from.
//
//   // A conveyor's state, sampled by the edge (at least every heartbeat max_interval).
//   WEFT_ASSIGN_OR_RETURN(StepSeries state,
//                         StepSeries::Create({{t0, 2}, {t0 + 600'000'000, 0}}, 150'000'000));
//   std::optional<double> s = state.ValueAt(t0 + 1);            // 2
//   TimeByValue spent = state.TimeSpent(t0, t0 + 3'600'000'000);  // s per value, no data
//   WEFT_ASSIGN_OR_RETURN(StepSeries good, StepSeries::Create(good_points, 150'000'000));
//   CounterIncrease made = good.Increase(shift_start, shift_end);  // parts, resets, gaps
//
// Conventions (shared by every KPI of src/kpi):
//   - Time is int64 microseconds since the Unix epoch, UTC (`ts_us`); intervals are half-open
//     [start, end).
//   - A step series holds each value from its point until the next point, but no longer than
//     `stale_after_us`: after that there is *no data* until the next point. Before the first
//     point there is no data. Missing data is reported (no_data_us, coverage), never counted as
//     any value. Choose stale_after above the edge's heartbeat (max_interval, 60 s by default),
//     e.g. 150 s, so that an unchanged value that is only re-sent on heartbeat still holds.
//   - A cumulative counter (good_count, reject_count, energy) is a step series whose
//     consecutive points are subtracted: the increase from point i-1 to point i belongs to the
//     time of point i (so a window counts the increases of the points inside it; the point
//     before the window is the baseline). A decrease is a counter reset: the increase is the new
//     value (the counter restarted from 0). An increase whose two points are more than
//     stale_after apart still counts (the parts were made) but is also reported as
//     `counted_across_gap`. The first point of the whole series is a baseline only.
//
// Points with the same timestamp: the last one given wins. Create() sorts (stably) by time.
//
// Thread-safety: a StepSeries is an immutable value after Create(); const methods are safe
// from any number of threads.
#ifndef WEFT_KPI_SERIES_H_
#define WEFT_KPI_SERIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::kpi {

//! One sample: a value at a time.
struct Point {
  int64_t ts_us = 0;
  double value = 0;
};

//! A piece of a window in which a series has one value, or no data (value nullopt).
struct Segment {
  int64_t start_us = 0;
  int64_t end_us = 0;  //!< > start_us
  std::optional<double> value;
  int64_t duration_us() const { return end_us - start_us; }
};

//! How a window's time was spent: per value, and without data.
struct TimeByValue {
  int64_t window_us = 0;  //!< end - start
  std::map<double, int64_t> by_value_us;
  int64_t no_data_us = 0;
  //! Share of the window with data, 0..1; nullopt for an empty window.
  std::optional<double> coverage() const;
  //! Time with `value` (0 when never).
  int64_t Of(double value) const;
};

//! The increase of a cumulative counter over a window.
struct CounterIncrease {
  double increase = 0;            //!< sum of the increases of the points in the window
  double counted_across_gap = 0;  //!< part of `increase` from point pairs > stale_after apart
  int resets = 0;                 //!< decreases, each counted as a restart from 0
  int points = 0;                 //!< points in the window
  //! False when no point lies in the window and the value at its start is unknown (no
  //! baseline, or a stale one): then nothing is known about the window, not even "no change".
  bool has_data = false;
};

class StepSeries {
 public:
  //! InvalidArgument when stale_after_us <= 0 or a value is not finite (NaN, inf); the message
  //! names the first bad point. Sorts by time; of equal timestamps the last one given is kept.
  static Result<StepSeries> Create(std::vector<Point> points, int64_t stale_after_us);
  //! An empty series (no data anywhere) with the given staleness.
  StepSeries() = default;

  const std::vector<Point>& points() const { return points_; }
  int64_t stale_after_us() const { return stale_after_us_; }
  bool empty() const { return points_.empty(); }

  //! The value holding at `ts_us`, or nullopt (before the first point, or stale).
  std::optional<double> ValueAt(int64_t ts_us) const;
  //! [start, end) cut where the value changes or data starts/stops; adjacent pieces with the
  //! same value are merged. Empty when end <= start.
  std::vector<Segment> Segments(int64_t start_us, int64_t end_us) const;
  //! Time per value within [start, end).
  TimeByValue TimeSpent(int64_t start_us, int64_t end_us) const;
  //! Counter increase over the points with ts in [start, end) (see the conventions above).
  CounterIncrease Increase(int64_t start_us, int64_t end_us) const;

 private:
  StepSeries(std::vector<Point> points, int64_t stale_after_us)
      : points_(std::move(points)), stale_after_us_(stale_after_us) {}
  //! Index of the last point with ts <= t, or -1.
  std::ptrdiff_t LastAtOrBefore(int64_t t) const;

  std::vector<Point> points_;
  int64_t stale_after_us_ = 1;
};

//! Timestamps the KPI functions accept: |ts| <= 2^61 µs (about 73,000 years), so that
//! differences of two of them cannot overflow.
inline constexpr int64_t kMaxAbsTsUs = int64_t{1} << 61;

//! OK when start <= end and both are within ±kMaxAbsTsUs; else InvalidArgument naming `what`
//! (e.g. "OEE") and the bounds.
Status CheckWindow(int64_t start_us, int64_t end_us, std::string_view what);

//! A piece of a window in which several series each have one value (or no data).
struct MultiSegment {
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::vector<std::optional<double>> values;  //!< one per series, in the order given
  int64_t duration_us() const { return end_us - start_us; }
};

//! [start, end) cut wherever any of `series` changes value or data state; each piece carries
//! the value of every series. Null pointers are series with no data. Empty when end <= start.
std::vector<MultiSegment> Overlay(std::span<const StepSeries* const> series, int64_t start_us,
                                  int64_t end_us);

}  // namespace weft::kpi

#endif  // WEFT_KPI_SERIES_H_

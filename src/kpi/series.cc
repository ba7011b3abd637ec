#include "kpi/series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace weft::kpi {
namespace {

constexpr int64_t kMaxTs = std::numeric_limits<int64_t>::max();

// a + b without overflow (b >= 0): timestamps near the end of time still work.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > kMaxTs - b ? kMaxTs : a + b;
}

bool SameValue(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || *a == *b);
}

}  // namespace

Status CheckWindow(int64_t start_us, int64_t end_us, std::string_view what) {
  if (start_us < -kMaxAbsTsUs || start_us > kMaxAbsTsUs || end_us < -kMaxAbsTsUs ||
      end_us > kMaxAbsTsUs) {
    return InvalidArgumentError(std::string(what) + ": window [" + std::to_string(start_us) + ", " +
                                std::to_string(end_us) +
                                ") us is outside the supported time range (±2^61 us)");
  }
  if (end_us < start_us) {
    return InvalidArgumentError(std::string(what) + ": the window ends (" + std::to_string(end_us) +
                                " us) before it starts (" + std::to_string(start_us) + " us)");
  }
  return Status::Ok();
}

std::optional<double> TimeByValue::coverage() const {
  if (window_us <= 0) return std::nullopt;
  return 1.0 - static_cast<double>(no_data_us) / static_cast<double>(window_us);
}

int64_t TimeByValue::Of(double value) const {
  auto it = by_value_us.find(value);
  return it == by_value_us.end() ? 0 : it->second;
}

Result<StepSeries> StepSeries::Create(std::vector<Point> points, int64_t stale_after_us) {
  if (stale_after_us <= 0) {
    return InvalidArgumentError("step series: stale_after must be more than 0 us, got " +
                                std::to_string(stale_after_us));
  }
  for (size_t i = 0; i < points.size(); ++i) {
    if (!std::isfinite(points[i].value)) {
      return InvalidArgumentError("step series: point " + std::to_string(i) + " (ts " +
                                  std::to_string(points[i].ts_us) +
                                  " us) has a value that is not a finite number");
    }
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.ts_us < b.ts_us; });
  // Of equal timestamps keep the last one given: after the stable sort it is the last of its
  // run, so walk backwards and keep the first of each timestamp seen.
  std::vector<Point> unique;
  unique.reserve(points.size());
  for (size_t i = points.size(); i-- > 0;) {
    if (unique.empty() || unique.back().ts_us != points[i].ts_us) unique.push_back(points[i]);
  }
  std::reverse(unique.begin(), unique.end());
  return StepSeries(std::move(unique), stale_after_us);
}

std::ptrdiff_t StepSeries::LastAtOrBefore(int64_t t) const {
  auto it = std::upper_bound(points_.begin(), points_.end(), t,
                             [](int64_t ts, const Point& p) { return ts < p.ts_us; });
  return (it - points_.begin()) - 1;
}

std::optional<double> StepSeries::ValueAt(int64_t ts_us) const {
  std::ptrdiff_t k = LastAtOrBefore(ts_us);
  if (k < 0) return std::nullopt;
  const Point& p = points_[static_cast<size_t>(k)];
  if (ts_us >= SaturatingAdd(p.ts_us, stale_after_us_)) return std::nullopt;
  return p.value;
}

std::vector<Segment> StepSeries::Segments(int64_t start_us, int64_t end_us) const {
  std::vector<Segment> out;
  if (end_us <= start_us) return out;
  auto push = [&](int64_t a, int64_t b, std::optional<double> v) {
    a = std::max(a, start_us);
    b = std::min(b, end_us);
    if (b <= a) return;
    if (!out.empty() && out.back().end_us == a && SameValue(out.back().value, v)) {
      out.back().end_us = b;
      return;
    }
    out.push_back(Segment{a, b, v});
  };
  const size_t n = points_.size();
  std::ptrdiff_t k0 = LastAtOrBefore(start_us);
  size_t k = 0;
  if (k0 < 0) {
    int64_t first = n == 0 ? end_us : points_[0].ts_us;
    push(start_us, first, std::nullopt);
    if (n == 0) return out;
  } else {
    k = static_cast<size_t>(k0);
  }
  for (; k < n && points_[k].ts_us < end_us; ++k) {
    const int64_t next = k + 1 < n ? points_[k + 1].ts_us : kMaxTs;
    const int64_t hold_end = std::min(next, SaturatingAdd(points_[k].ts_us, stale_after_us_));
    push(points_[k].ts_us, hold_end, points_[k].value);
    push(hold_end, next, std::nullopt);
  }
  return out;
}

TimeByValue StepSeries::TimeSpent(int64_t start_us, int64_t end_us) const {
  TimeByValue t;
  t.window_us = std::max<int64_t>(0, end_us - start_us);
  for (const Segment& s : Segments(start_us, end_us)) {
    if (s.value) {
      t.by_value_us[*s.value] += s.duration_us();
    } else {
      t.no_data_us += s.duration_us();
    }
  }
  return t;
}

CounterIncrease StepSeries::Increase(int64_t start_us, int64_t end_us) const {
  CounterIncrease c;
  if (end_us <= start_us) return c;
  auto first = std::lower_bound(points_.begin(), points_.end(), start_us,
                                [](const Point& p, int64_t ts) { return p.ts_us < ts; });
  for (auto it = first; it != points_.end() && it->ts_us < end_us; ++it) {
    ++c.points;
    if (it == points_.begin()) continue;  // the first point ever is a baseline only
    const Point& prev = *(it - 1);
    double delta = it->value - prev.value;
    if (delta < 0) {
      // The counter restarted from 0 (device reboot, rollover): what it counts since is its
      // value. A negative reading is not a count.
      ++c.resets;
      delta = std::max(0.0, it->value);
    }
    if (it->ts_us - prev.ts_us > stale_after_us_) c.counted_across_gap += delta;
    c.increase += delta;
  }
  c.has_data = c.points > 0 || ValueAt(start_us).has_value();
  return c;
}

std::vector<MultiSegment> Overlay(std::span<const StepSeries* const> series, int64_t start_us,
                                  int64_t end_us) {
  std::vector<MultiSegment> out;
  if (end_us <= start_us) return out;
  std::vector<std::vector<Segment>> parts;
  parts.reserve(series.size());
  for (const StepSeries* s : series) {
    parts.push_back(s != nullptr ? s->Segments(start_us, end_us)
                                 : std::vector<Segment>{Segment{start_us, end_us, std::nullopt}});
  }
  // Each part tiles [start, end) exactly, so a sweep over the earliest segment end works.
  std::vector<size_t> pos(parts.size(), 0);
  int64_t t = start_us;
  while (t < end_us) {
    int64_t next = end_us;
    MultiSegment m{t, end_us, {}};
    m.values.reserve(parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      const Segment& s = parts[i][pos[i]];
      m.values.push_back(s.value);
      next = std::min(next, s.end_us);
    }
    m.end_us = next;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i][pos[i]].end_us == next) ++pos[i];
    }
    bool same = !out.empty() && out.back().values.size() == m.values.size();
    for (size_t i = 0; same && i < m.values.size(); ++i) {
      same = SameValue(out.back().values[i], m.values[i]);
    }
    if (same) {
      out.back().end_us = next;
    } else {
      out.push_back(std::move(m));
    }
    t = next;
  }
  return out;
}

}  // namespace weft::kpi

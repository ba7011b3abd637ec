#include "core/scenario/plant_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "twin/twin.h"

namespace weft::core::scenario {
namespace {

constexpr int64_t kDayUs = int64_t{86'400'000'000};

// FNV-1a: the site's weather depends on its id only (and the seed).
uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Days since 1970-01-01 of a local time in seconds (floor).
int64_t FloorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

Result<PlantSchedule> PlantSchedule::Create(const model::Plant& plant, int64_t start_us,
                                            int64_t end_us, const PlantScheduleOptions& options) {
  if (end_us <= start_us) {
    return InvalidArgumentError("plant schedule: the period must not be empty");
  }
  PlantSchedule out;
  out.start_us_ = start_us;
  out.amplitude_c_ = options.weather.amplitude_c;
  const int64_t days = (end_us - start_us + kDayUs - 1) / kDayUs;
  for (const model::Site& site : plant.sites) {
    WEFT_ASSIGN_OR_RETURN(kpi::ShiftCalendar cal,
                          kpi::ShiftCalendar::ForSite(site, options.zoneinfo_dir));
    Site s;
    s.zone = cal.zone();
    s.all_day = cal.all_day();
    if (!s.all_day) {
      // Instances that started up to a day before still run into the period (night shifts).
      int64_t last_week = INT64_MIN;
      WEFT_ASSIGN_OR_RETURN(std::vector<kpi::ShiftInstance> instances,
                            cal.Overlapping(start_us - kDayUs, end_us));
      for (const kpi::ShiftInstance& i : instances) {
        s.shifts.emplace_back(i.start_us, i.end_us);
        // The week of the instance's local start, Monday-based (1970-01-05 was a Monday).
        const int64_t local_s = i.start_us / 1'000'000 + s.zone.OffsetAt(i.start_us);
        const int64_t week = FloorDiv(FloorDiv(local_s, 86'400) - 4, 7);
        if (week != last_week && options.weekly_planned_stop.count() > 0) {
          s.stops.emplace_back(
              i.start_us, std::min(i.end_us, i.start_us + options.weekly_planned_stop.count()));
          last_week = week;
        }
      }
    }
    twin::Rng rng(options.weather.seed ^ StableHash(site.id));
    double anomaly = 0;
    for (int64_t d = 0; d <= days + 1; ++d) {
      anomaly = 0.7 * anomaly + rng.Normal(0, options.weather.anomaly_stddev_c);
      s.daily_mean_c.push_back(options.weather.base_c -
                               options.weather.trend_c_per_day * static_cast<double>(d) + anomaly);
    }
    out.sites_.emplace(site.id, std::move(s));
  }
  return out;
}

bool PlantSchedule::Inside(const std::vector<std::pair<int64_t, int64_t>>& v, int64_t t_us) {
  // The last interval starting at or before t.
  auto it =
      std::upper_bound(v.begin(), v.end(), t_us,
                       [](int64_t t, const std::pair<int64_t, int64_t>& x) { return t < x.first; });
  if (it == v.begin()) return false;
  --it;
  return t_us < it->second;
}

bool PlantSchedule::Producing(const std::string& site, int64_t t_us) const {
  auto it = sites_.find(site);
  if (it == sites_.end()) return false;
  return it->second.all_day || Inside(it->second.shifts, t_us);
}

bool PlantSchedule::PlannedStop(const std::string& site, int64_t t_us) const {
  auto it = sites_.find(site);
  return it != sites_.end() && Inside(it->second.stops, t_us);
}

double PlantSchedule::UtcOffsetHours(const std::string& site, int64_t t_us) const {
  auto it = sites_.find(site);
  if (it == sites_.end()) return 0;
  return static_cast<double>(it->second.zone.OffsetAt(t_us)) / 3600.0;
}

double PlantSchedule::OutdoorTemp(const std::string& site, int64_t t_us) const {
  auto it = sites_.find(site);
  if (it == sites_.end()) return std::nan("");
  const Site& s = it->second;
  // Daily means sit at each day's noon (UTC days from the start); interpolate between them.
  const double x = static_cast<double>(t_us - start_us_ - kDayUs / 2) / static_cast<double>(kDayUs);
  const auto n = static_cast<double>(s.daily_mean_c.size() - 1);
  const double xc = std::clamp(x, 0.0, n);
  const auto i = static_cast<size_t>(std::floor(xc));
  const size_t j = std::min(i + 1, s.daily_mean_c.size() - 1);
  const double f = xc - static_cast<double>(i);
  const double mean = s.daily_mean_c[i] * (1 - f) + s.daily_mean_c[j] * f;
  const double local_h =
      static_cast<double>((t_us / 1'000'000 + s.zone.OffsetAt(t_us)) % 86'400) / 3600.0;
  return mean + amplitude_c_ * std::cos(2 * std::numbers::pi * (local_h - 15) / 24);
}

}  // namespace weft::core::scenario

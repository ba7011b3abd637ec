// The scenario's plant schedule: when each site produces (its shift calendar), when each
// production line takes its weekly planned stop, and the outdoor temperature each site sees.
//
//   WEFT_ASSIGN_OR_RETURN(PlantSchedule s, PlantSchedule::Create(plant, start_us, end_us, {}));
//   bool run = s.Producing("lyon", t_us);          // conveyors' `running` input
//   bool stop = s.PlannedStop("lyon", t_us);       // conveyors' `planned_stop` input
//   double t = s.OutdoorTemp("lyon", t_us);        // HVAC zones' outdoor_temp_override
//
// Production: a site produces inside the instances of its shifts (kpi::ShiftCalendar, the
// site's time zone, daylight saving included); a site without shifts produces around the
// clock. Planned stop: the first `weekly_planned_stop` of the first shift instance of each
// local week (Monday-based), e.g. a start-up check; none for 24/7 sites or when the length is 0.
//
// Weather, deterministic for the seed and the site's id: a daily mean temperature
//   mean(d) = base - trend·d + a(d),  a(d) = 0.7·a(d-1) + N(0, anomaly_stddev), a(-1) = 0
// (d = days since the start; base and the anomalies from a twin::Rng seeded with seed XOR a
// stable hash of the site id), interpolated linearly between the days' noons, plus a daily
// cycle amplitude·cos(2π·(local hour - 15)/24) (warmest at 15:00 local). Days differ, so an
// energy baseline can be normalised to the weather (a twin's fixed sinusoid could not).
//
// Thread-safety: immutable after Create; const methods are safe from any thread.
#ifndef WEFT_CORE_SCENARIO_PLANT_SCHEDULE_H_
#define WEFT_CORE_SCENARIO_PLANT_SCHEDULE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kpi/shifts.h"
#include "model/plant.h"

namespace weft::core::scenario {

struct WeatherOptions {
  uint64_t seed = 1;
  double base_c = 9;              //!< mean temperature of the first day, degC (before anomalies)
  double trend_c_per_day = 0.15;  //!< cooling per day (November)
  double anomaly_stddev_c = 2;    //!< day-to-day anomaly innovations
  double amplitude_c = 4;         //!< half the daily swing
};

struct PlantScheduleOptions {
  Micros weekly_planned_stop = std::chrono::minutes(30);
  WeatherOptions weather;
  std::string zoneinfo_dir;  //!< "" = the system's (kpi::TimeZone::Load)
};

class PlantSchedule {
 public:
  //! Loads each site's calendar for [start_us, end_us). Errors of kpi::ShiftCalendar::ForSite
  //! (an unknown time zone), naming the site.
  static Result<PlantSchedule> Create(const model::Plant& plant, int64_t start_us, int64_t end_us,
                                      const PlantScheduleOptions& options);

  //! Whether `site` produces at `t_us` (false for an unknown site).
  bool Producing(const std::string& site, int64_t t_us) const;
  //! Whether `site`'s lines are in their weekly planned stop at `t_us`.
  bool PlannedStop(const std::string& site, int64_t t_us) const;
  //! The site's outdoor temperature at `t_us` (degC); NaN for an unknown site.
  double OutdoorTemp(const std::string& site, int64_t t_us) const;
  //! The site's UTC offset at `t_us`, in hours (e.g. 1 for Paris in winter).
  double UtcOffsetHours(const std::string& site, int64_t t_us) const;

 private:
  struct Site {
    kpi::TimeZone zone = kpi::TimeZone::Utc();
    bool all_day = false;
    std::vector<std::pair<int64_t, int64_t>> shifts;  //!< [start, end) UTC, sorted
    std::vector<std::pair<int64_t, int64_t>> stops;   //!< planned stops, sorted
    std::vector<double> daily_mean_c;                 //!< index: day since start (+1 spare)
  };
  static bool Inside(const std::vector<std::pair<int64_t, int64_t>>& v, int64_t t_us);

  int64_t start_us_ = 0;
  double amplitude_c_ = 0;
  std::map<std::string, Site, std::less<>> sites_;
};

}  // namespace weft::core::scenario

#endif  // WEFT_CORE_SCENARIO_PLANT_SCHEDULE_H_

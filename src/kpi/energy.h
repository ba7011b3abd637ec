// Energy per production unit of a line: the energy its assets used over a window, in kWh, per
// good unit of the line's output asset.
//
//   std::vector<EnergyMeter> meters = {{"l2-cv-01", &cv1_energy, "kWh"},
//                                      {"l2-pr-01", &pr1_energy, "kWh"}};
//   WEFT_ASSIGN_OR_RETURN(EnergyPerUnit e,
//                         ComputeEnergyPerUnit(meters, good_count, day_start, day_end));
//   // e.energy_kwh, e.good_units, e.kwh_per_unit (nullopt when nothing good was made)
//
// Definitions over [start, end):
//   energy_kwh   = Σ over meters of the counter increase (series.h: resets and gaps handled)
//                  converted to kWh from the meter's unit (model/units.h: "kWh", "MJ", "Wh",
//                  ...)
//   good_units   = increase of the output asset's good_count
//   kwh_per_unit = energy_kwh / good_units (undefined when good_units is 0)
// Energy and units counted across no-data gaps are reported; meters with no data at all in the
// window (no point inside it and no baseline) are listed, as their energy is unknown, not 0.
//
// Thread-safety: pure functions.
#ifndef WEFT_KPI_ENERGY_H_
#define WEFT_KPI_ENERGY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kpi/series.h"

namespace weft::kpi {

//! A cumulative energy counter of one asset.
struct EnergyMeter {
  std::string asset;
  const StepSeries* energy = nullptr;  //!< null: no data
  std::string unit = "kWh";            //!< the signal's unit (model::SignalTemplate::unit)
};

struct EnergyPerUnit {
  int64_t start_us = 0;
  int64_t end_us = 0;
  double energy_kwh = 0;
  std::map<std::string, double> kwh_by_asset;
  double good_units = 0;
  std::optional<double> kwh_per_unit;
  double kwh_counted_across_gap = 0;
  double units_counted_across_gap = 0;
  int counter_resets = 0;  //!< energy and good_count resets together
  std::vector<std::string> meters_without_data;
};

//! kWh per 1 `unit` of energy (1 for "kWh", 1/3.6 for "MJ"). InvalidArgument when `unit` is
//! not a unit of energy.
Result<double> KwhPer(std::string_view unit);

//! InvalidArgument when a meter's unit is not an energy unit (naming the asset), or the window
//! is not valid (CheckWindow in series.h).
Result<EnergyPerUnit> ComputeEnergyPerUnit(std::span<const EnergyMeter> meters,
                                           const StepSeries& good_count, int64_t start_us,
                                           int64_t end_us);

}  // namespace weft::kpi

#endif  // WEFT_KPI_ENERGY_H_

#include "kpi/energy.h"

#include <string>

#include "model/units.h"

namespace weft::kpi {

Result<double> KwhPer(std::string_view unit) {
  Result<model::Unit> from = model::ParseUnit(unit);
  if (!from.ok()) return from.status();
  static const model::Unit kKwh = model::ParseUnit("kWh").value();
  if (!model::Convertible(*from, kKwh)) {
    return InvalidArgumentError(
        "'" + std::string(unit) + "' is not a unit of energy (it measures " +
        model::DescribeDimension(from->dimension) + "); expected e.g. kWh, MJ or Wh");
  }
  return model::Convert(1.0, *from, kKwh);
}

Result<EnergyPerUnit> ComputeEnergyPerUnit(std::span<const EnergyMeter> meters,
                                           const StepSeries& good_count, int64_t start_us,
                                           int64_t end_us) {
  WEFT_RETURN_IF_ERROR(CheckWindow(start_us, end_us, "energy per unit"));
  EnergyPerUnit e;
  e.start_us = start_us;
  e.end_us = end_us;
  for (const EnergyMeter& m : meters) {
    Result<double> factor = KwhPer(m.unit);
    if (!factor.ok()) return factor.status().WithContext("energy meter of asset '" + m.asset + "'");
    CounterIncrease c;
    if (m.energy != nullptr) c = m.energy->Increase(start_us, end_us);
    if (!c.has_data) {
      e.meters_without_data.push_back(m.asset);
      continue;
    }
    const double kwh = c.increase * *factor;
    e.kwh_by_asset[m.asset] += kwh;
    e.energy_kwh += kwh;
    e.kwh_counted_across_gap += c.counted_across_gap * *factor;
    e.counter_resets += c.resets;
  }
  const CounterIncrease units = good_count.Increase(start_us, end_us);
  e.good_units = units.increase;
  e.units_counted_across_gap = units.counted_across_gap;
  e.counter_resets += units.resets;
  if (e.good_units != 0) e.kwh_per_unit = e.energy_kwh / e.good_units;
  return e;
}

}  // namespace weft::kpi

#include "model/builtin_asset_types.h"

namespace weft::model {

// Signals are those a maintenance or energy engineer expects on such equipment; ranges are the
// physically plausible span (readings outside are flagged invalid at the edge), not alarm limits.
// Sensors that are often absent on older equipment are `fitted: false`: an asset has them only
// when it lists them under `fitted`.
const std::string_view kBuiltinAssetTypesYaml = R"yaml(
motor:
  description: Three-phase induction motor
  signals:
    - {name: winding_temp, unit: degC, quantity: temperature, range: [-20, 200], period: 1s}
    - {name: bearing_temp_de, unit: degC, quantity: temperature, range: [-20, 150], period: 1s,
       description: Drive-end bearing temperature}
    - {name: bearing_temp_nde, unit: degC, quantity: temperature, range: [-20, 150], period: 1s,
       fitted: false, description: Non-drive-end bearing temperature}
    - {name: vibration_rms, unit: mm/s, quantity: vibration_velocity, range: [0, 50],
       period: 1s, description: "ISO 10816 velocity RMS, 10-1000 Hz"}
    - {name: current, unit: A, quantity: current, range: [0, 2000], period: 1s}
    - {name: voltage, unit: V, quantity: voltage, range: [0, 1000], period: 10s}
    - {name: power, unit: kW, quantity: power, range: [0, 2000], period: 1s}
    - {name: energy, unit: kWh, quantity: energy, range: [0, 1.0e12], period: 60s,
       type: float64, description: Cumulative energy meter}
    - {name: speed, unit: rpm, quantity: rotational_speed, range: [0, 4000], period: 1s}
    - {name: running, unit: "1", quantity: boolean, type: bool, period: 1s}
pump:
  description: Centrifugal pump with its drive motor
  signals:
    - {name: flow, unit: m3/h, quantity: volumetric_flow, range: [0, 5000], period: 1s}
    - {name: suction_pressure, unit: bar, quantity: pressure, range: [-1, 40], period: 1s}
    - {name: discharge_pressure, unit: bar, quantity: pressure, range: [0, 100], period: 1s}
    - {name: motor_current, unit: A, quantity: current, range: [0, 1000], period: 1s}
    - {name: power, unit: kW, quantity: power, range: [0, 1000], period: 1s}
    - {name: energy, unit: kWh, quantity: energy, range: [0, 1.0e12], period: 60s}
    - {name: speed, unit: rpm, quantity: rotational_speed, range: [0, 4000], period: 1s}
    - {name: vibration_rms, unit: mm/s, quantity: vibration_velocity, range: [0, 50], period: 1s}
    - {name: bearing_temp, unit: degC, quantity: temperature, range: [-20, 150], period: 1s}
    - {name: fluid_temp, unit: degC, quantity: temperature, range: [-20, 150], period: 5s}
    - {name: running, unit: "1", quantity: boolean, type: bool, period: 1s}
compressor:
  description: Rotary screw air compressor
  signals:
    - {name: discharge_pressure, unit: bar, quantity: pressure, range: [0, 16], period: 1s}
    - {name: discharge_temp, unit: degC, quantity: temperature, range: [-20, 150], period: 1s}
    - {name: inlet_temp, unit: degC, quantity: temperature, range: [-30, 60], period: 10s}
    - {name: oil_temp, unit: degC, quantity: temperature, range: [-20, 130], period: 5s}
    - {name: free_air_delivery, unit: m3/min, quantity: volumetric_flow, range: [0, 200],
       period: 1s}
    - {name: power, unit: kW, quantity: power, range: [0, 500], period: 1s}
    - {name: energy, unit: kWh, quantity: energy, range: [0, 1.0e12], period: 60s}
    - {name: load, unit: "%", quantity: ratio, range: [0, 100], period: 1s}
    - {name: vibration_rms, unit: mm/s, quantity: vibration_velocity, range: [0, 50], period: 1s,
       fitted: false}
    - {name: dew_point, unit: degC, quantity: temperature, range: [-70, 30], period: 60s,
       fitted: false}
    - {name: state, unit: "1", quantity: state, type: int32, range: [0, 3], period: 1s,
       description: "0 off, 1 idle (unloaded), 2 loaded, 3 fault"}
    - {name: running_hours, unit: h, quantity: time, range: [0, 1.0e6], period: 60s}
conveyor:
  description: Belt conveyor cell with production counting
  signals:
    - {name: belt_speed, unit: m/s, quantity: velocity, range: [0, 10], period: 1s}
    - {name: motor_current, unit: A, quantity: current, range: [0, 200], period: 1s}
    - {name: power, unit: kW, quantity: power, range: [0, 200], period: 1s}
    - {name: energy, unit: kWh, quantity: energy, range: [0, 1.0e12], period: 60s}
    - {name: state, unit: "1", quantity: state, type: int32, range: [0, 2], period: 1s,
       description: "0 down, 1 idle, 2 running"}
    - {name: down_reason, unit: "1", quantity: state, type: int32, range: [0, 99], period: 1s}
    - {name: cycle_time, unit: s, quantity: time, range: [0, 3600], period: 1s}
    - {name: good_count, unit: pcs, quantity: count, type: int64, range: [0, 1.0e15],
       period: 1s}
    - {name: reject_count, unit: pcs, quantity: count, type: int64, range: [0, 1.0e15],
       period: 1s}
    - {name: vibration_rms, unit: mm/s, quantity: vibration_velocity, range: [0, 50], period: 1s,
       fitted: false}
    - {name: item_id, unit: "1", quantity: state, type: string, period: 1s, fitted: false,
       description: RFID or barcode of the item at the station}
hvac_zone:
  description: Building zone served by a heat pump
  signals:
    - {name: zone_temp, unit: degC, quantity: temperature, range: [-10, 50], period: 60s}
    - {name: zone_humidity, unit: "%RH", quantity: humidity, range: [0, 100], period: 60s}
    - {name: outdoor_temp, unit: degC, quantity: temperature, range: [-40, 55], period: 300s}
    - {name: supply_air_temp, unit: degC, quantity: temperature, range: [-10, 70], period: 60s}
    - {name: setpoint, unit: degC, quantity: temperature, range: [5, 35], period: 60s}
    - {name: occupancy, unit: count, quantity: count, type: int32, range: [0, 10000], period: 60s,
       fitted: false}
    - {name: co2, unit: ppm, quantity: concentration, range: [0, 10000], period: 60s,
       fitted: false}
    - {name: heat_pump_power, unit: kW, quantity: power, range: [0, 1000], period: 60s}
    - {name: heat_pump_energy, unit: kWh, quantity: energy, range: [0, 1.0e12], period: 300s}
    - {name: cop, unit: "1", quantity: ratio, range: [0, 10], period: 300s}
)yaml";

}  // namespace weft::model

// Test support for the Modbus connector's tests: a small plant from inline YAML.
//
//   std::unique_ptr<model::Plant> plant = MakePlant(R"(
//   meter:
//     signals:
//     - {name: p, unit: kW, quantity: power, source: {modbus: {address: 0}}}
//   )", R"(
//   - {id: m1, type: meter, connection: {modbus: {host: plc, port: 502, unit: 1}}}
//   )");
//
// The asset types and assets are indented as given under `asset_types:` and under the one
// line's `assets:`. Aborts the test (ADD_FAILURE and returns null) if the plant does not load.
#ifndef WEFT_EDGE_CONNECTORS_MODBUS_TEST_PLANT_H_
#define WEFT_EDGE_CONNECTORS_MODBUS_TEST_PLANT_H_

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "common/diagnostic.h"
#include "model/plant.h"
#include "model/plant_loader.h"

namespace weft::edge::modbus::testing {

inline std::string Indent(std::string_view text, int spaces) {
  std::istringstream in{std::string(text)};
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    out += std::string(static_cast<size_t>(spaces), ' ') + line + "\n";
  }
  return out;
}

inline std::unique_ptr<model::Plant> MakePlant(std::string_view asset_types,
                                               std::string_view assets) {
  const std::string yaml =
      "weft: 1\n"
      "enterprise: {name: Acme}\n"
      "economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 "
      "kgCO2e/kWh,\n"
      "  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}\n"
      "asset_types:\n" +
      Indent(asset_types, 2) +
      "sites:\n"
      "- id: s1\n"
      "  areas:\n"
      "  - id: a1\n"
      "    lines:\n"
      "    - id: l1\n"
      "      assets:\n" +
      Indent(assets, 6);
  Diagnostics diags;
  Result<model::Plant> plant = model::ParsePlant(yaml, "t.yaml", &diags);
  if (!plant.ok()) {
    ADD_FAILURE() << diags.ToString() << "\n" << yaml;
    return nullptr;
  }
  return std::make_unique<model::Plant>(std::move(plant).value());
}

}  // namespace weft::edge::modbus::testing

#endif  // WEFT_EDGE_CONNECTORS_MODBUS_TEST_PLANT_H_

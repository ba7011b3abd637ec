// The example plant (examples/plant.yaml), loaded once, for tests that need a realistic plant.
// The test binaries get WEFT_SOURCE_DIR (the repository root) from CTest.
#ifndef WEFT_TESTING_EXAMPLE_PLANT_H_
#define WEFT_TESTING_EXAMPLE_PLANT_H_

#include <string>

#include "model/plant.h"

namespace weft::testing {

std::string ExamplePlantPath();
//! Aborts with the diagnostics if the example does not load (every other test would fail).
const model::Plant& ExamplePlant();

}  // namespace weft::testing

#endif  // WEFT_TESTING_EXAMPLE_PLANT_H_

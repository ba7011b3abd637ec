#include "testing/example_plant.h"

#include <cstdio>
#include <cstdlib>

#include "model/plant_loader.h"

namespace weft::testing {

std::string ExamplePlantPath() {
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  return std::string(root ? root : ".") + "/examples/plant.yaml";
}

const model::Plant& ExamplePlant() {
  static const model::Plant plant = [] {
    Diagnostics diags;
    Result<model::Plant> p = model::LoadPlantFile(ExamplePlantPath(), &diags);
    if (!p.ok()) {
      std::fprintf(stderr, "example plant does not load: %s\n%s", p.status().ToString().c_str(),
                   diags.ToString().c_str());
      std::abort();
    }
    return *std::move(p);
  }();
  return plant;
}

}  // namespace weft::testing

// libFuzzer target: any bytes given to the plant loader end in a Plant or in diagnostics, never
// in a crash, a sanitizer report or a leak. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/plan.h"
#include "model/plant_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::Result<weft::model::Plant> plant = weft::model::ParsePlant(text, "fuzz.yaml", &diags);
  if (plant.ok()) {
    // A plant that loads must also plan and render.
    weft::model::PlanReport report =
        weft::model::BuildPlan(*plant, {std::chrono::sys_days(std::chrono::days(20000))});
    (void)weft::model::PlanToJson(report).dump();
    (void)weft::model::PlanToTable(report);
  } else if (diags.error_count() == 0) {
    __builtin_trap();  // a refusal must always say why
  }
  (void)diags.ToString();
  return 0;
}

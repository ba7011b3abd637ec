// libFuzzer target: any bytes given to the mlops spec parsers (training spec, twin calibration
// spec, the monitoring section of a model card) end in a spec or in an error that says why, never
// in a crash, a sanitizer report or a leak. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlops/monitoring/monitor.h"
#include "mlops/training/train_spec.h"
#include "mlops/twins/calibration_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    weft::Diagnostics diags;
    weft::Result<weft::mlops::TrainSpec> spec =
        weft::mlops::ParseTrainSpec(text, "fuzz.yaml", &diags);
    // A spec that parses has a name, an asset type and at least one feature.
    if (spec.ok() && (spec->name.empty() || spec->asset_type.empty() || spec->features.empty() ||
                      spec->num_features() == 0)) {
      __builtin_trap();
    }
    if (!spec.ok() && diags.error_count() == 0 && spec.status().message().empty()) {
      __builtin_trap();  // a refusal always says why
    }
  }
  {
    weft::Diagnostics diags;
    (void)weft::mlops::ParseCalibrationSpec(text, "fuzz.yaml", &diags);
  }
  (void)weft::mlops::ParseMonitorConfig(text);
  return 0;
}

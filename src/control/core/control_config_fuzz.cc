// libFuzzer target: any bytes given to ParseControlConfig end in a config or in diagnostics,
// never in a crash, a sanitizer report or a leak; a parsed config's envelopes are valid.
// Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control/core/control_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::Result<weft::control::ControlConfig> c =
      weft::control::ParseControlConfig(text, "/fuzz/edge.yaml", &diags);
  if (c.ok()) {
    for (const weft::control::LoopConfig& loop : c->loops) {
      if (!weft::control::ValidateEnvelope(loop.envelope).ok()) __builtin_trap();
      (void)loop.SignalsToRead();
    }
    weft::model::Plant empty;
    (void)weft::control::CheckAgainstPlant(*c, empty, &diags);
  } else if (diags.error_count() == 0) {
    __builtin_trap();  // a refusal must always say why
  }
  return 0;
}

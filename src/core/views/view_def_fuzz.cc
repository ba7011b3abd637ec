// libFuzzer target: any bytes given to the views parser end in views or in an error that says
// why, never in a crash, a sanitizer report or a leak. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/views/view_def.h"
#include "core/views/view_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::Result<std::vector<weft::core::views::ViewDef>> views =
      weft::core::views::ParseViews(text, "fuzz.yaml", &diags);
  if (views.ok()) {
    // A view that parses has a period, signals and a schema the reader can build.
    for (const auto& v : *views) {
      if (v.period_us <= 0 || v.signals.empty()) __builtin_trap();
      if (weft::core::views::ViewSchema(v).size() != v.signals.size() + 2) __builtin_trap();
      (void)weft::core::views::ViewScanPredicate(v, {.from_us = 0, .to_us = 1}, true, true);
    }
  } else if (diags.error_count() == 0 || views.status().message().empty()) {
    __builtin_trap();  // a refusal must always say why
  }
  (void)diags.ToString();
  return 0;
}

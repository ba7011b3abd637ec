// libFuzzer target: any bytes given to the constraints parser (and, as one line, to the
// expression parser) end in a value or in diagnostics, never in a crash, a sanitizer report or a
// leak. Built with -DWEFT_FUZZ=ON (clang).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/physics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace physics = weft::model::physics;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::Result<physics::ConstraintSet> set = physics::ParseConstraints(text, "fuzz.yaml", &diags);
  if (set.ok()) {
    for (const auto& [type, c] : set->by_type) {
      auto values = [](std::string_view name) { return static_cast<double>(name.size()); };
      (void)physics::CheckPoint(c, values);
      (void)physics::CheckEnvelope(c, values);
    }
  } else if (diags.error_count() == 0) {
    __builtin_trap();  // a refusal must always say why
  }
  weft::Result<physics::Expr> e = physics::ParseExpr(text.substr(0, text.find('\n')));
  if (e.ok()) {
    (void)e->Eval([](std::string_view) { return 1.5; });
    (void)e->Variables();
  }
  return 0;
}

// libFuzzer target: any bytes given to the tag rules parser end in rules or in an error that
// says why, never in a crash, a sanitizer report or a leak; rules that parse evaluate against a
// signal without trouble and keep their invariants. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/catalog/tag_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace catalog = weft::core::catalog;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::Result<catalog::TagRules> rules = catalog::ParseTagRules(text, "fuzz.yaml", &diags);
  if (rules.ok()) {
    catalog::ObservedSignal s;
    s.site = "lyon";
    s.area = "machining";
    s.line = "l1-machining";
    s.asset = "l1-sp-01";
    s.asset_type = "cnc_spindle";
    s.signal = "power";
    s.unit = "kW";
    s.quantity = "power";
    s.protocol = "sparkplug_b";
    s.edge = "edge-l1";
    s.firmware = "2.4.1";
    for (const auto& r : rules->rules) {
      // A rule that parses has a valid name, at least one tag, valid non-reserved keys and
      // values, and no empty pattern list.
      if (r.name.empty() || r.tags.empty()) __builtin_trap();
      for (const auto& [k, v] : r.tags) {
        if (!catalog::IsValidTagKey(k) || catalog::IsReservedTagKey(k) ||
            !catalog::IsValidTagValue(v)) {
          __builtin_trap();
        }
      }
      for (const auto& m : r.match) {
        if (m.patterns.empty()) __builtin_trap();
      }
    }
    for (const auto& [key, tag] : catalog::EvaluateRules(*rules, s)) {
      if (tag.rule.empty() || tag.value.empty() || catalog::IsReservedTagKey(key)) __builtin_trap();
    }
    (void)rules->Canonical();
  } else if (diags.error_count() == 0 || rules.status().message().empty()) {
    __builtin_trap();  // a refusal must always say why
  }
  (void)diags.ToString();
  return 0;
}

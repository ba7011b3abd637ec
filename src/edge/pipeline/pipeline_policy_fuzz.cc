// libFuzzer target: any bytes given as edge.yaml end in policies or in diagnostics (never a
// crash, a sanitizer report or a leak); policies that parse drive a Pipeline with samples made
// from the same bytes. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "edge/pipeline/pipeline.h"
#include "edge/pipeline/policy.h"
#include "model/plant_loader.h"

namespace {

constexpr char kPlant[] = R"(weft: 1
enterprise: {name: Fuzz}
economics: {currency: EUR, energy_price: 0.19 EUR/kWh, grid_carbon_factor: 0.056 kgCO2e/kWh,
            labour_rate: 68 EUR/h, downtime_cost: 3200 EUR/h}
asset_types:
  spindle:
    extends: motor
    signals:
      - {name: load, unit: "%", quantity: ratio, range: [0, 150], period: 100ms}
sites:
  - id: s1
    name: S1
    timezone: Europe/Paris
    areas:
      - id: a1
        name: A1
        lines:
          - id: l1
            name: L1
            assets:
              - {id: m1, name: M1, type: motor, connection: {sparkplug: {group: g, node: n, device: m1}}}
              - {id: sp1, name: SP1, type: spindle, missing: [vibration_rms],
                 connection: {sparkplug: {group: g, node: n, device: sp1}}}
              - {id: p1, name: P1, type: pump, connection: {sparkplug: {group: g, node: n, device: p1}}}
)";

struct Fixture {
  weft::model::Plant plant;
  std::optional<weft::edge::SignalTable> table;
};

const Fixture& GetFixture() {
  static const Fixture* f = [] {
    auto* fx = new Fixture;
    weft::Diagnostics diags;
    weft::Result<weft::model::Plant> p = weft::model::ParsePlant(kPlant, "plant.yaml", &diags);
    if (!p.ok()) {
      std::fprintf(stderr, "fuzz plant does not load: %s\n", diags.ToString().c_str());
      std::abort();
    }
    fx->plant = *std::move(p);
    weft::Result<weft::edge::SignalTable> t = weft::edge::SignalTable::FromPlant(fx->plant, {});
    if (!t.ok()) std::abort();
    fx->table.emplace(*std::move(t));
    return fx;
  }();
  return *f;
}

class NullSink : public weft::edge::PipelineSink {
 public:
  void OnSample(const weft::edge::Sample&, weft::edge::Priority) override {}
  void OnAggregate(const weft::edge::Aggregate&, weft::edge::Priority) override {}
  void OnEvent(const weft::edge::Event& e, weft::edge::Priority) override {
    if (e.message.empty()) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = GetFixture();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::Diagnostics diags;
  weft::model::YamlReader r("edge.yaml", &diags);
  std::optional<weft::model::YamlValue> root = r.ParseDocument(text, 1 << 20);
  if (!root) return 0;
  weft::model::YamlFields f = r.OpenMap(*root, {"pipeline"});
  std::optional<weft::model::YamlValue> section = f.Get("pipeline");
  if (!section) return 0;
  const size_t errors_before = diags.error_count();
  auto policies = weft::edge::ParsePipelineSection(r, *section, *fx.table);
  if (!policies.ok()) {
    if (diags.error_count() == errors_before) __builtin_trap();  // a refusal must say why
    return 0;
  }
  if (policies->size() != fx.table->size()) __builtin_trap();
  NullSink sink;
  weft::edge::Pipeline pipeline(*fx.table, *std::move(policies), sink);
  // Samples from the input's bytes: 17 bytes each (signal, timestamp, value).
  for (size_t off = 0; off + 17 <= size; off += 17) {
    weft::edge::Sample s;
    s.signal = data[off];
    std::memcpy(&s.ts_us, data + off + 1, sizeof s.ts_us);  // any timestamp, even INT64_MAX
    std::memcpy(&s.value, data + off + 9, sizeof s.value);
    pipeline.Push(s);
    pipeline.Advance(s.ts_us);
  }
  pipeline.Flush();
  return 0;
}

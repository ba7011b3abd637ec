// How long loading and planning a plant takes, against the floor set by parsing the same YAML
// with yaml-cpp alone (no peer platform has an equivalent of `weft plan`; the ratio says what
// validation, unit checks, binding resolution and planning add on top of the parser we use).
//
//   ./build/bench/plant_bench [--benchmark_filter=...]
//
// Inputs: examples/plant.yaml (46 assets, 431 signals) and a synthetic plant of 2,000 assets
// (20 lines x 100 assets, ~19,000 signals) generated in memory.
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "common/time_format.h"
#include "model/plan.h"
#include "model/plant_loader.h"

namespace {

std::string ReadExample() {
  const char* root = std::getenv("WEFT_SOURCE_DIR");
  std::ifstream in(std::string(root ? root : ".") + "/examples/plant.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) {
    std::fprintf(stderr, "plant_bench: examples/plant.yaml not found; run from the repo root\n");
    std::exit(2);
  }
  return ss.str();
}

std::string SyntheticPlant(int lines, int assets_per_line) {
  std::string y = R"(weft: 1
enterprise: {name: Synthetic}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
            labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
)";
  const char* types[] = {"motor", "pump", "conveyor", "compressor", "hvac_zone"};
  for (int l = 0; l < lines; ++l) {
    y += "          - id: l" + std::to_string(l) + "\n            assets:\n";
    for (int a = 0; a < assets_per_line; ++a) {
      std::string id = "a" + std::to_string(l) + "-" + std::to_string(a);
      y += "              - {id: " + id + ", type: " + types[a % 5] +
           ", connection: {sparkplug: {group: g, node: n" + std::to_string(l) + ", device: " + id +
           "}}" + (a % 7 == 0 && a % 5 != 4 ? ", missing: [energy]" : "") + "}\n";
    }
  }
  y += R"(use_cases:
  - {id: u1, name: U1, category: predictive_maintenance, annual_value: 100000, assumptions: [a],
     kpi: {name: d, unit: h/year, baseline: 10, target: 5},
     requires: [{asset_type: motor, signal: vibration_rms}, {asset_type: pump, signal: power}],
     retrofit: [{asset_type: pump, signals: [power], sensor: meter, cost_per_asset: 300}]}
  - {id: u2, name: U2, category: energy_per_unit, annual_value: 50000, assumptions: [a],
     kpi: {name: e, unit: kWh/unit, baseline: 2, target: 1},
     requires: [{asset_type: conveyor, signal: energy}, {asset_type: motor, signal: power}]}
)";
  return y;
}

const std::string& Input(int which) {
  static const std::string example = ReadExample();
  static const std::string synthetic = SyntheticPlant(20, 100);
  return which == 0 ? example : synthetic;
}

void BM_YamlCppParseOnly(benchmark::State& state) {
  const std::string& text = Input(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    YAML::Node root = YAML::Load(text);
    benchmark::DoNotOptimize(root);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_YamlCppParseOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_LoadPlant(benchmark::State& state) {
  const std::string& text = Input(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    weft::Diagnostics diags;
    auto plant = weft::model::ParsePlant(text, "bench.yaml", &diags);
    if (!plant.ok()) state.SkipWithError(diags.ToString().c_str());
    benchmark::DoNotOptimize(plant);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_LoadPlant)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_BuildPlan(benchmark::State& state) {
  weft::Diagnostics diags;
  auto plant = weft::model::ParsePlant(Input(static_cast<int>(state.range(0))), "b", &diags);
  if (!plant.ok()) {
    state.SkipWithError(diags.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    auto report = weft::model::BuildPlan(*plant, {*weft::ParseDate("2026-11-25")});
    benchmark::DoNotOptimize(report);
  }
}
BENCHMARK(BM_BuildPlan)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Collects real time per run so main() can print the comparison.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const char* names[] = {"examples/plant.yaml", "synthetic 2000 assets"};
  std::printf("\nload+validate vs yaml-cpp parse alone (same input, same run):\n");
  for (int i = 0; i < 2; ++i) {
    std::string arg = "/" + std::to_string(i);
    auto parse = reporter.times_.find("BM_YamlCppParseOnly" + arg);
    auto load = reporter.times_.find("BM_LoadPlant" + arg);
    auto plan = reporter.times_.find("BM_BuildPlan" + arg);
    if (parse == reporter.times_.end() || load == reporter.times_.end()) continue;
    std::printf("  %-24s parse %.3f ms, load %.3f ms (ratio %.2fx)", names[i], parse->second,
                load->second, load->second / parse->second);
    if (plan != reporter.times_.end()) std::printf(", plan %.3f ms", plan->second);
    std::printf("\n");
  }
  return 0;
}

// `weft demo month`: a simulated month of a plant with the closed-loop HVAC optimiser and PdM,
// written into a lake as weft-core's ingest would write it (core/scenario/scenario.h), in one
// process and in simulated time: the data `weft kpi compute` reads end to end.
//
//   weft demo month [--plant PLANT.yaml] [--lake DIR] [--start 2026-11-01] [--days 30]
//                   [--baseline-days 0] [--seed 7] [--tick 10s] [--edge-id edge-month]
//                   [--all-signals] [--no-optimiser] [--no-pdm] [--inference FILE] [--json]
//
// --baseline-days N first simulates the N days before --start as the plant ran before the
// pilots (no PdM, no optimiser, failures repaired on breakdown): the KPI job's lake baseline.
// --inference FILE runs local inference from --start on: the `inference:` section of FILE (an
// edge.yaml, or any YAML file with that section; relative artifact and constraints paths are
// resolved against FILE's directory, as weft-edge does); its predictions become rows of the
// lake's `predictions` table, and the signals it reads go up raw once a minute for
// `weft model monitor` (core/scenario/scenario.h). The report then names the models and counts
// their predictions.
// --plant defaults to the example plant embedded in `weft` (examples/plant.yaml), --lake to
// $TMPDIR/weft-demo/lake. Prints what it wrote (rows per table, alerts, work orders, optimised
// days, the ground-truth faults) and the time it took; --json prints the same as one object.
// Exit codes: 0 done; 1 the plant or the inference file is invalid (its problems printed with
// file:line:column) or the run failed (the lake error is printed); 2 a bad option (also an
// --inference file that cannot be read).
//
// Thread-safety: like RunCli, not meant to run concurrently with itself.
#ifndef WEFT_CLI_SCENARIO_CLI_H_
#define WEFT_CLI_SCENARIO_CLI_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <ostream>
#include <string>

namespace weft::cli {

struct DemoMonthArgs {
  std::string plant_file;  //!< "" = the embedded example plant
  std::string lake;        //!< "" = $TMPDIR/weft-demo/lake
  std::string start = "2026-11-01";
  int days = 30;
  int baseline_days = 0;
  uint64_t seed = 7;
  std::string tick = "10s";
  std::string edge_id = "edge-month";
  bool all_signals = false;
  bool no_optimiser = false;
  bool no_pdm = false;
  std::string inference;  //!< "" = no local inference; else an edge.yaml with `inference:`
  bool json = false;
};

//! Adds `month` under the `demo` command.
CLI::App* AddDemoMonthCommand(CLI::App& demo, DemoMonthArgs* args);
int RunDemoMonth(const DemoMonthArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_SCENARIO_CLI_H_

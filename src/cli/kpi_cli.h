// `weft kpi` and `weft roadmap`: the KPIs of the plant from the lake, and the roadmap they lead
// to. They read and write the lake directly (like `weft lake`), not through weft-core's API.
//
//   weft kpi compute --lake DIR --plant PLANT.yaml --from DATE --to DATE [--json]
//       computes every KPI over [from, to) (core/kpi/kpi_job.h), appends them to the lake's `kpi`
//       table as one run and prints the summary (OEE per line and shift, downtime/MTBF/MTTR,
//       energy per unit, technician time, HVAC savings with CV(RMSE), actual vs projected)
//   weft kpi show --lake DIR [--kpi NAME] [--use-case ID] [--from DATE] [--to DATE] [--json]
//       the kpi table's rows (latest run per key; from/to bound the period start)
//   weft roadmap --quarter 2027Q1 --lake DIR --plant PLANT.yaml [--json]
//       ranks the use cases (core/kpi/roadmap_input.h, kpi/roadmap.h): rank, use case, decision,
//       realised/projected value, cost, confidence and the reasons
//
// DATE is YYYY-MM-DD (midnight UTC) or an ISO-8601 time. --lake defaults to weft demo's lake.
// Exit codes (cli.h): 0; 1 when plant.yaml is invalid (its diagnostics printed) or the
// computation fails on the lake's contents; 2 for a bad date, an empty period, a bad quarter, a
// missing lake, plant file or kpi table.
//
// Thread-safety: RunKpi is not meant to run concurrently with itself.
#ifndef WEFT_CLI_KPI_CLI_H_
#define WEFT_CLI_KPI_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct KpiArgs {
  std::string command{};  //!< "compute", "show" or "roadmap" (set when parsed)
  std::string lake{}, plant{}, from{}, to{}, kpi{}, use_case{}, quarter{};
  bool json = false;
};

//! Declares `kpi` (compute, show) on `app`.
CLI::App* AddKpiCommands(CLI::App& app, KpiArgs* args);
//! Declares `roadmap` on `app` (same args struct).
CLI::App* AddRoadmapCommand(CLI::App& app, KpiArgs* args);
//! Runs the parsed command. Exit codes as above.
int RunKpi(const KpiArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_KPI_CLI_H_

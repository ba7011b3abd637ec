// The roadmap's evidence, assembled from the `kpi` table, the plan and the plant: for each use
// case of plant.yaml, its daily measured KPI (kpi_actual rows, latest run) projected again with
// the plant's current projection (so a corrected plant.yaml needs no recompute), its retrofit
// cost from `weft plan`, its running cost, and, for HVAC use cases, the baseline model behind
// the savings; then src/kpi/roadmap.h ranks them.
//
//   std::vector<std::string> warnings;
//   WEFT_ASSIGN_OR_RETURN(::weft::kpi::Roadmap r,
//                         RoadmapFromLake(lake_root, plant, "2027Q1", &clock, {}, &warnings));
//   std::cout << ::weft::kpi::RoadmapToTable(r, plant.economics.currency);
//
// Rows used: kpi_actual (value, coverage, period, and the detail MeasurementsFromRows reads) and
// hvac_baseline_cv_rmse (detail.fit) of each use case. Every kpi_actual row before the
// quarter's end counts, so the days before go-live of any earlier run form the lake baseline
// (projection.h); the evidence carries the plan's KPI for the roadmap's baseline check. When
// several runs left overlapping day rows (e.g. one period started at noon), the row of the later
// run wins and the other is dropped. The HVAC fit is the latest-ending one; a use case whose fit
// could not be made gets a fit that does not meet the criteria (the roadmap then lowers its
// confidence) with the reason. The plan's retrofit cost is judged as of the clock's day (sign-offs
// do not change costs).
//
// Errors: NotFound when the kpi table does not exist (run `weft kpi compute` first);
// InvalidArgument for a bad quarter; errors of the scan.
//
// Thread-safety: reentrant.
#ifndef WEFT_CORE_KPI_ROADMAP_INPUT_H_
#define WEFT_CORE_KPI_ROADMAP_INPUT_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/kpi/kpi_table.h"
#include "kpi/roadmap.h"
#include "model/plant.h"

namespace weft::core::kpi {

//! The measurements of one use case's kpi_actual rows (latest runs), in time order; of two
//! overlapping rows the one of the later run stays. A row's detail gives its measured baseline
//! ("measured_baseline", "baseline_source": e.g. the HVAC baseline model's prediction for the
//! day) and its role ("basis": "baseline_period" = a day the optimiser did not run, part of the
//! baseline; "excluded" = left out of the baseline model: no KPI to judge). A lake baseline
//! ("lake_baseline") is not read back: ProjectSeries derives it again from the rows before
//! go-live, so that rows added later count.
std::vector<::weft::kpi::KpiMeasurement> MeasurementsFromRows(std::vector<const KpiRow*> rows);

//! One UseCaseEvidence per use case of `plant`, in plant order, from `rows` (kpi table rows,
//! latest runs). Problems that do not stop the roadmap (a projection that cannot be made, an
//! unreadable detail) are appended to `warnings` (may be null).
std::vector<::weft::kpi::UseCaseEvidence> AssembleEvidence(const std::vector<KpiRow>& rows,
                                                           const model::Plant& plant,
                                                           std::chrono::sys_days as_of,
                                                           std::vector<std::string>* warnings);

//! Reads the rows, assembles the evidence and builds the roadmap for `quarter` ("2027Q1").
Result<::weft::kpi::Roadmap> RoadmapFromLake(std::string_view lake_root, const model::Plant& plant,
                                             std::string_view quarter, const Clock* clock,
                                             const ::weft::kpi::RoadmapOptions& options = {},
                                             std::vector<std::string>* warnings = nullptr);

}  // namespace weft::core::kpi

#endif  // WEFT_CORE_KPI_ROADMAP_INPUT_H_

// The KPI route module (core/api/route.h): the `kpi` table and the roadmap over the REST API.
//
//   GET /api/v1/kpi?kpi&use_case&site&line&asset&from&to&limit
//       read_telemetry on some scope; rows filtered by place: a row is returned only when the
//       caller may read_telemetry at its path site/area/line/asset (as far as the row has one:
//       a line's rows "site/area/line", a site's rows "site"; rows without a place, e.g. of a
//       plant-wide use case, are global: grants on "*" only). The latest run per key
//       (kpi_table.h); from/to bound period_start (ISO-8601); limit 1..100000 (default 10000),
//       `truncated` says when more rows matched.
//   GET /api/v1/roadmap?quarter=2027Q1
//       read_telemetry on some scope; entries filtered the same way by the use case's place
//       (its line, its site, or global). 503 when weft-core was started without --plant.
//
//   KpiRouteOptions o{.lake_root = lake, .plant = plant.get(), .clock = &clock};
//   for (auto& r : KpiRoutes(o)) api_options.modules.push_back(std::move(r));
//
// Thread-safety: the handlers only read (the lake, the immutable plant): safe concurrently. The
// plant and clock must outlive the API server.
#ifndef WEFT_CORE_KPI_KPI_ROUTES_H_
#define WEFT_CORE_KPI_KPI_ROUTES_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "core/api/route.h"
#include "core/kpi/kpi_table.h"
#include "model/plant.h"

namespace weft::core::kpi {

struct KpiRouteOptions {
  std::string lake_root{};
  const model::Plant* plant = nullptr;  //!< null: the roadmap answers 503
  const Clock* clock = nullptr;
  //! An asset's catalog tags (signal ""), for restricted assets; unset = none.
  std::function<std::map<std::string, std::string>(std::string_view asset, std::string_view signal)>
      tag_lookup{};
};

std::vector<api::ModuleRoute> KpiRoutes(KpiRouteOptions options);

//! A row as the API and `weft kpi show --json` print it (detail parsed back into JSON).
nlohmann::ordered_json KpiRowJson(const KpiRow& row);

}  // namespace weft::core::kpi

#endif  // WEFT_CORE_KPI_KPI_ROUTES_H_

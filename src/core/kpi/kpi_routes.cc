#include "core/kpi/kpi_routes.h"

#include <httplib.h>

#include <cmath>
#include <memory>
#include <utility>

#include "common/time_format.h"
#include "core/kpi/kpi_job.h"
#include "core/kpi/roadmap_input.h"
#include "kpi/roadmap.h"

namespace weft::core::kpi {
namespace {

using api::Access;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using json = nlohmann::ordered_json;
using registry::Permission;

constexpr int64_t kDefaultLimit = 10000;
constexpr int64_t kMaxLimit = 100000;

std::string Path(const std::string& site, const std::string& area, const std::string& line,
                 const std::string& asset) {
  // As complete as the row is: site/area/line/asset, site/area/line, site, or global.
  if (site.empty()) return "";
  if (area.empty() || line.empty()) return site;
  if (asset.empty()) return site + "/" + area + "/" + line;
  return site + "/" + area + "/" + line + "/" + asset;
}

Status OnlyParams(const RouteCall& c, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : c.req.params) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || k == a;
    if (!ok) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return InvalidArgumentError("unknown query parameter '" + k + "'; expected " + list);
    }
  }
  return Status::Ok();
}

std::string Param(const RouteCall& c, const char* name) {
  return c.req.has_param(name) ? c.req.get_param_value(name) : std::string();
}

bool MayRead(const RouteCall& c, const KpiRouteOptions& o, const std::string& path,
             const std::string& asset) {
  registry::Resource r{path, {}};
  if (o.tag_lookup && !asset.empty()) r.tags = o.tag_lookup(asset, "");
  return registry::Authorize(c.grants, c.principal.disabled, Permission::kReadTelemetry, r).allowed;
}

Result<Reply> ListKpis(const KpiRouteOptions& o, RouteCall& c) {
  WEFT_RETURN_IF_ERROR(
      OnlyParams(c, {"kpi", "use_case", "site", "line", "asset", "from", "to", "limit"}));
  if (o.lake_root.empty()) return FailedPreconditionError("this weft-core has no lake");
  KpiQuery q;
  q.kpi = Param(c, "kpi");
  q.use_case = Param(c, "use_case");
  q.site = Param(c, "site");
  q.line = Param(c, "line");
  q.asset = Param(c, "asset");
  for (auto [name, field] : {std::pair{"from", &q.from_us}, std::pair{"to", &q.to_us}}) {
    if (!c.req.has_param(name)) continue;
    Result<int64_t> t = ParseTimestampMicros(c.req.get_param_value(name));
    if (!t.ok()) return t.status().WithContext(std::string("query parameter '") + name + "'");
    *field = *t;
  }
  int64_t limit = kDefaultLimit;
  if (c.req.has_param("limit")) {
    WEFT_ASSIGN_OR_RETURN(limit, api::ParseInt(c.req.get_param_value("limit"), "limit"));
    if (limit < 1 || limit > kMaxLimit) {
      return InvalidArgumentError("query parameter 'limit' must be 1 to 100000");
    }
  }
  Result<std::vector<KpiRow>> rows = ReadKpiRows(o.lake_root, q, o.clock);
  if (!rows.ok() && rows.status().code() == StatusCode::kNotFound) {
    return api::JsonReply(200, json{{"kpis", json::array()}, {"truncated", false}});
  }
  if (!rows.ok()) return rows.status();
  json out = json::array();
  bool truncated = false;
  for (const KpiRow& r : *rows) {
    if (!MayRead(c, o, Path(r.site, r.area, r.line, r.asset), r.asset)) continue;
    if (static_cast<int64_t>(out.size()) >= limit) {
      truncated = true;
      break;
    }
    out.push_back(KpiRowJson(r));
  }
  return api::JsonReply(200, json{{"kpis", std::move(out)}, {"truncated", truncated}});
}

Result<Reply> GetRoadmap(const KpiRouteOptions& o, RouteCall& c) {
  WEFT_RETURN_IF_ERROR(OnlyParams(c, {"quarter"}));
  if (o.plant == nullptr) {
    return UnavailableError("this weft-core was started without --plant: no roadmap");
  }
  const std::string quarter = Param(c, "quarter");
  if (quarter.empty()) return InvalidArgumentError("give the quarter, e.g. ?quarter=2027Q1");
  std::vector<std::string> warnings;
  Result<::weft::kpi::Roadmap> roadmap =
      RoadmapFromLake(o.lake_root, *o.plant, quarter, o.clock, {}, &warnings);
  if (!roadmap.ok()) return roadmap.status();
  // Entries of use cases the caller may not read are left out (ranks stay as computed).
  std::vector<::weft::kpi::RoadmapEntry> kept;
  for (::weft::kpi::RoadmapEntry& e : roadmap->entries) {
    for (const model::UseCase& u : o.plant->use_cases) {
      if (u.id != e.id) continue;
      const UseCasePlace p = PlaceOfUseCase(*o.plant, u);
      if (MayRead(c, o, Path(p.site, p.area, p.line, ""), "")) kept.push_back(std::move(e));
      break;
    }
  }
  roadmap->entries = std::move(kept);
  json j = ::weft::kpi::RoadmapToJson(*roadmap);
  j["currency"] = o.plant->economics.currency;
  j["warnings"] = warnings;
  return api::JsonReply(200, j);
}

}  // namespace

nlohmann::ordered_json KpiRowJson(const KpiRow& r) {
  auto text = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  auto num = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? json(*v) : json(nullptr);
  };
  json detail = nullptr;
  if (!r.detail.empty()) {
    detail = json::parse(r.detail, nullptr, /*allow_exceptions=*/false);
    if (detail.is_discarded()) detail = r.detail;  // not JSON: keep the text
  }
  return json{{"date", FormatTimestampMicros(r.period_start_us).substr(0, 10)},
              {"period_start", FormatTimestampMicros(r.period_start_us)},
              {"period_end", FormatTimestampMicros(r.period_end_us)},
              {"computed_ts", FormatTimestampMicros(r.computed_us)},
              {"site", text(r.site)},
              {"area", text(r.area)},
              {"line", text(r.line)},
              {"asset", text(r.asset)},
              {"shift", text(r.shift)},
              {"use_case", text(r.use_case)},
              {"kpi", r.kpi},
              {"value", num(r.value)},
              {"unit", text(r.unit)},
              {"coverage", num(r.coverage)},
              {"detail", std::move(detail)},
              {"run_id", r.run_id}};
}

std::vector<ModuleRoute> KpiRoutes(KpiRouteOptions options) {
  // Both handlers (and their copies in the server's route table) share the options.
  auto o = std::make_shared<const KpiRouteOptions>(std::move(options));
  return {
      {"GET", "/api/v1/kpi", Access::kAnywhere, Permission::kReadTelemetry, false, false, false,
       "kpi.list", [o](RouteCall& c) { return ListKpis(*o, c); }},
      {"GET", "/api/v1/roadmap", Access::kAnywhere, Permission::kReadTelemetry, false, false, false,
       "roadmap.read", [o](RouteCall& c) { return GetRoadmap(*o, c); }},
  };
}

}  // namespace weft::core::kpi

// The dashboard's API routes (a route module, core/api/route.h): latest values, their live
// stream as server-sent events, and the events table.
//
//   WebRouteOptions wo{.live = live.get(), .lake_root = lake, .clock = &clock};
//   wo.tag_lookup = api_options.tag_lookup;
//   for (api::ModuleRoute& r : WebRoutes(std::move(wo))) api_options.modules.push_back(r);
//
// Routes (all need read_telemetry on some scope; what they return is filtered per asset and
// signal with registry::Authorize on the asset's place "site/area/line/asset" and the catalog's
// tags of the asset and the signal, as view rows are; a sample without a complete place is a
// global resource that only grants on "*" reach):
//   GET /api/v1/latest[?asset=A,B]   the latest committed value of each signal (LiveTelemetry):
//       {"generation", "as_of", "assets": [{site, area, line, asset, asset_type,
//        "signals": [{signal, unit, ts, value, quality}]}]}; 503 when no LiveTelemetry.
//   GET /api/v1/live[?asset=A,B]     text/event-stream: "retry: 3000", then an event "values"
//       (id = the generation) with the same body as /latest holding every sample ("full": true),
//       then one "values" event per change with only the samples that changed ("full": false);
//       a ": keep-alive" comment after `keepalive` without an event. The stream ends after
//       `max_stream` (clients reconnect) or when weft-core stops. At most
//       LiveTelemetryOptions::max_streams at once (each holds a request thread): 503 with
//       Retry-After beyond. Browsers read it with fetch() (EventSource cannot send the
//       Authorization header, and tokens never go in URLs).
//   GET /api/v1/events[?asset=A&from=ISO&to=ISO&alerts=true&limit=N]   rows of the events
//       table with from <= ts < to (default: the last 24 h), newest first, at most `limit`
//       (default 200, at most 5000): {"events": [{ts, site, area, line, asset, asset_type,
//       signal, kind, source, value, threshold, message, alert}], "truncated"}. `alert` is true
//       for detector firings and other alarms (ewma_z, cusum, threshold, anomaly, ...), false
//       for the data-quality kinds (quality, comm_loss) and for what the connectors and the
//       pipeline report about the data's flow (source sparkplug, json, pipeline or modbus://...:
//       births, deaths, rebirths, sequence gaps, Modbus exceptions); alerts=true returns only
//       alerts. A range over
//       31 days is a 400.
// Asset ids in `asset` are 1-128 of A-Z a-z 0-9 . _ - (400 otherwise), at most 200 of them.
//
// Thread-safety: the handlers run concurrently on the API's threads; `live` and `tag_lookup`
// must be thread-safe and outlive the server.
#ifndef WEFT_CORE_WEB_WEB_ROUTES_H_
#define WEFT_CORE_WEB_WEB_ROUTES_H_

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "core/api/api_server.h"
#include "core/api/route.h"
#include "core/registry/access.h"
#include "core/web/live_telemetry.h"

namespace weft::core::web {

struct WebRouteOptions {
  LiveTelemetry* live = nullptr;  //!< not owned; null -> 503 for /latest and /live
  std::string lake_root{};        //!< the events table's root; "" -> 503 for /events
  const Clock* clock = nullptr;   //!< required by the handlers (now); not owned
  api::TagLookup tag_lookup{};    //!< the catalog's tags; unset = none
  std::chrono::milliseconds max_stream{std::chrono::minutes(5)};
  std::chrono::milliseconds keepalive{std::chrono::seconds(5)};
  std::chrono::milliseconds tick{1000};  //!< a stream's longest wait for a change
};

std::vector<api::ModuleRoute> WebRoutes(WebRouteOptions options);

//! Samples grouped by asset, in order: [{site, area, line, asset, asset_type, signals: [...]}].
nlohmann::json SamplesJson(const std::vector<LiveSample>& samples);

//! Whether a principal's grants allow a permission on an asset's signal (or the asset itself,
//! signal ""), with the decisions cached per (asset, signal, place). Not thread-safe: one per
//! request or stream.
class SampleGate {
 public:
  SampleGate(std::vector<registry::Grant> grants, bool disabled, registry::Permission permission,
             api::TagLookup tag_lookup)
      : grants_(std::move(grants)),
        disabled_(disabled),
        permission_(permission),
        tag_lookup_(std::move(tag_lookup)) {}
  bool Allows(const std::string& site, const std::string& area, const std::string& line,
              const std::string& asset, const std::string& signal);

 private:
  std::vector<registry::Grant> grants_;
  bool disabled_;
  registry::Permission permission_;
  api::TagLookup tag_lookup_;
  std::map<std::tuple<std::string, std::string, std::string>, bool> cache_;
};

}  // namespace weft::core::web

#endif  // WEFT_CORE_WEB_WEB_ROUTES_H_

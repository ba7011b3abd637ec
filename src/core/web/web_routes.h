// The dashboard's API routes (a route module, core/api/route.h): latest values, their live
// stream as server-sent events, the events table, the models' predictions and their monitoring.
//
//   WebRouteOptions wo{.live = live.get(), .lake_root = lake, .clock = &clock};
//   wo.tag_lookup = api_options.tag_lookup;
//   wo.asset_location = api_options.asset_location;   // places of monitored assets
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
//   GET /api/v1/predictions[?asset=A&model=M&from=ISO&to=ISO&limit=N]   rows of the predictions
//       table (what the edges' models predicted) with from <= ts < to (default: the last 24 h),
//       newest first, at most `limit` (default 1000, at most 10000): {"predictions": [{ts, site,
//       area, line, asset, signal, model, model_version, value, threshold, flagged, message}],
//       "truncated"}. `flagged` is true when the edge's physics guard flagged the prediction
//       (IsFlaggedPrediction). Filtered per row as /events (place, asset and signal tags). A
//       range over 31 days is a 400.
//   GET /api/v1/monitoring[?asset=A&model=M&from=ISO&to=ISO&limit=N]   the windows of the
//       lake's model_monitoring table (mlops/monitoring/monitoring_lake.h: one row per statistic
//       per window, `weft model monitor --append` writes them) whose end is in [from, to)
//       (default: the last 30 days), newest first (equal ends by asset, model, version), at most
//       `limit` windows (default 1000, at most 5000): {"windows": [{start, end, model,
//       model_version, asset, site, area, line, score, level, action, "checks": [{check, subject,
//       statistic, value, level}]}], "truncated"}. `score` is the window's reliability score
//       (the trust of the model on the asset), `level` the worst level of all its rows, `action`
//       the monitor's (none, mark_low_trust, retrain, rollback); `checks` are its rows as stored,
//       the reliability row included. The table stores a window's end only: `start` is null
//       unless the table has a start_ts column. The table has no place: a window is returned
//       when read_telemetry covers the asset's place from `asset_location` (an asset it does not
//       know is a global resource: only grants on "*" reach it) with the asset's tags, and a
//       check on a subject (a feature, a control output, a twin output) only when the subject
//       is readable as a signal of the asset (restricted signals stay hidden). No table yet: an
//       empty list. A range over 366 days is a 400.
// Asset ids in `asset` are 1-128 of A-Z a-z 0-9 . _ - (400 otherwise), at most 200 of them
// for /latest and /live, one for the others; `model` is a model name of the same characters.
// A bad parameter is a 400 whose message names it.
//
// Thread-safety: the handlers run concurrently on the API's threads; `live` and `tag_lookup`
// must be thread-safe and outlive the server.
#ifndef WEFT_CORE_WEB_WEB_ROUTES_H_
#define WEFT_CORE_WEB_WEB_ROUTES_H_

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
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
  //! Where an asset is (the catalog), for the monitoring table's rows, which carry no place;
  //! unset or unknown asset: a global resource (only grants on "*" reach it).
  api::AssetLocator asset_location{};
  std::chrono::milliseconds max_stream{std::chrono::minutes(5)};
  std::chrono::milliseconds keepalive{std::chrono::seconds(5)};
  std::chrono::milliseconds tick{1000};  //!< a stream's longest wait for a change
};

std::vector<api::ModuleRoute> WebRoutes(WebRouteOptions options);

//! Whether a row of the predictions table was flagged by the edge's physics guard
//! (edge/inference/inference_engine.h): its message starts with "physics_violation:" or
//! "out_of_envelope:".
bool IsFlaggedPrediction(std::string_view message);

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

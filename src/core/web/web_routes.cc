#include "core/web/web_routes.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <utility>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "core/web/sse.h"
#include "lake/predicate.h"

namespace weft::core::web {
namespace {

using json = nlohmann::json;
using api::Access;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using registry::Permission;

constexpr size_t kMaxAssets = 200;
constexpr int64_t kDefaultEventLimit = 200;
constexpr int64_t kMaxEventLimit = 5000;
constexpr int64_t kMaxEventRangeUs = int64_t{31} * 24 * 3600 * 1'000'000;
constexpr int64_t kRetryMs = 3000;

bool ValidAssetId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

//! The `asset` query parameter: a comma-separated list of asset ids; empty = every asset.
Result<std::set<std::string>> AssetFilter(const httplib::Request& req) {
  std::set<std::string> out;
  if (!req.has_param("asset")) return out;
  const std::string text = req.get_param_value("asset");
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string id = text.substr(start, comma - start);
    if (!ValidAssetId(id)) {
      return InvalidArgumentError("asset '" + id.substr(0, 64) +
                                  "' is not an asset id (1-128 of A-Z a-z 0-9 . _ -)");
    }
    out.insert(id);
    if (out.size() > kMaxAssets) {
      return InvalidArgumentError("at most " + std::to_string(kMaxAssets) + " assets at once");
    }
    start = comma + 1;
  }
  return out;
}

json ValueJson(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

//! The samples a principal may see, of the wanted assets.
std::vector<LiveSample> Visible(std::vector<LiveSample> samples,
                                const std::set<std::string>& assets, SampleGate* gate) {
  std::vector<LiveSample> out;
  out.reserve(samples.size());
  for (LiveSample& s : samples) {
    if (!assets.empty() && assets.count(s.asset) == 0) continue;
    if (!gate->Allows(s.site, s.area, s.line, s.asset, s.signal)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

json SamplesBody(const std::vector<LiveSample>& samples, uint64_t generation, const Clock* clock,
                 bool full) {
  return json{{"generation", generation},
              {"as_of", FormatTimestampMicros(UnixMicros(clock->Now()))},
              {"full", full},
              {"assets", SamplesJson(samples)}};
}

//! One open GET /api/v1/live: what it has sent, and when it ends.
class LiveStream {
 public:
  LiveStream(LiveTelemetry* live, std::unique_ptr<LiveTelemetry::StreamSlot> slot, SampleGate gate,
             std::set<std::string> assets, const WebRouteOptions& o)
      : live_(live),
        slot_(std::move(slot)),
        gate_(std::move(gate)),
        assets_(std::move(assets)),
        clock_(o.clock),
        keepalive_(o.keepalive),
        tick_(o.tick),
        deadline_(std::chrono::steady_clock::now() + o.max_stream) {}

  //! The next chunk of the stream (may be empty: nothing to say yet); false: the stream ends.
  bool Next(std::string* chunk) {
    chunk->clear();
    const auto now = std::chrono::steady_clock::now();
    if (live_->stopping() || now >= deadline_) return false;
    live_->Touch();
    if (!started_) {
      started_ = true;
      Status fresh = live_->Fresh();
      if (!fresh.ok()) *chunk += SseComment("live values: " + fresh.message());
      sent_ = live_->generation();
      std::vector<LiveSample> all = Visible(live_->Snapshot(0), assets_, &gate_);
      *chunk += SseRetry(kRetryMs) + SseEvent("values",
                                              api::DumpJson(SamplesBody(all, sent_, clock_, true)),
                                              static_cast<int64_t>(sent_));
      last_write_ = now;
      return true;
    }
    const uint64_t g = live_->WaitForChange(sent_, tick_);
    if (g > sent_) {
      std::vector<LiveSample> changed = Visible(live_->Snapshot(sent_), assets_, &gate_);
      sent_ = g;
      if (!changed.empty()) {
        *chunk = SseEvent("values", api::DumpJson(SamplesBody(changed, g, clock_, false)),
                          static_cast<int64_t>(g));
        last_write_ = std::chrono::steady_clock::now();
        return true;
      }
    }
    if (std::chrono::steady_clock::now() - last_write_ >= keepalive_) {
      *chunk = SseComment("keep-alive");
      last_write_ = std::chrono::steady_clock::now();
    }
    return true;
  }

 private:
  LiveTelemetry* live_;
  std::unique_ptr<LiveTelemetry::StreamSlot> slot_;  //!< given back when the stream is dropped
  SampleGate gate_;
  std::set<std::string> assets_;
  const Clock* clock_;
  std::chrono::milliseconds keepalive_, tick_;
  std::chrono::steady_clock::time_point deadline_, last_write_{};
  bool started_ = false;
  uint64_t sent_ = 0;
};

Result<int64_t> TimeParam(const httplib::Request& req, const char* name, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  Result<int64_t> t = ParseTimestampMicros(req.get_param_value(name));
  if (!t.ok()) {
    return InvalidArgumentError(std::string("query parameter '") + name +
                                "': " + t.status().message());
  }
  return *t;
}

Result<Reply> Events(const WebRouteOptions& o, RouteCall& c) {
  if (o.lake_root.empty()) return UnavailableError("this weft-core has no lake");
  const int64_t now = UnixMicros(o.clock->Now());
  WEFT_ASSIGN_OR_RETURN(int64_t to, TimeParam(c.req, "to", now + int64_t{60} * 1'000'000));
  WEFT_ASSIGN_OR_RETURN(int64_t from,
                        TimeParam(c.req, "from", to - int64_t{24} * 3600 * 1'000'000));
  if (from >= to) return InvalidArgumentError("'from' must be before 'to'");
  if (to - from > kMaxEventRangeUs) {
    return InvalidArgumentError("the range spans more than 31 days; ask for less");
  }
  int64_t limit = kDefaultEventLimit;
  if (c.req.has_param("limit")) {
    WEFT_ASSIGN_OR_RETURN(limit, api::ParseInt(c.req.get_param_value("limit"), "limit"));
    if (limit < 1 || limit > kMaxEventLimit) {
      return InvalidArgumentError("limit must be 1.." + std::to_string(kMaxEventLimit));
    }
  }
  bool alerts_only = false;
  if (c.req.has_param("alerts")) {
    const std::string a = c.req.get_param_value("alerts");
    if (a != "true" && a != "false") return InvalidArgumentError("alerts must be true or false");
    alerts_only = a == "true";
  }
  std::string asset;
  if (c.req.has_param("asset")) {
    asset = c.req.get_param_value("asset");
    if (!ValidAssetId(asset)) {
      return InvalidArgumentError("asset '" + asset.substr(0, 64) +
                                  "' is not an asset id (1-128 of A-Z a-z 0-9 . _ -)");
    }
  }

  Result<std::unique_ptr<lake::LakeTable>> table =
      OpenTable(o.lake_root, LakeTableId::kEvents, o.clock);
  json events = json::array();
  bool truncated = false;
  if (!table.ok() && table.status().code() != StatusCode::kNotFound) return table.status();
  if (table.ok()) {
    lake::ScanOptions scan;
    scan.columns = {"ts",     "site", "area",   "line",  "asset",     "asset_type",
                    "signal", "kind", "source", "value", "threshold", "message"};
    scan.where =
        "ts >= " + lake::PredicateLiteral(FormatTimestampMicros(from)) + " and ts < " +
        lake::PredicateLiteral(FormatTimestampMicros(to)) +
        " and date >= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(from)))) +
        " and date <= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(to - 1))));
    if (!asset.empty()) scan.where += " and asset = " + lake::PredicateLiteral(asset);
    struct Row {
      int64_t ts;
      json body;
    };
    std::vector<Row> rows;
    SampleGate gate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o.tag_lookup);
    const auto newest_first = [](const Row& a, const Row& b) { return a.ts > b.ts; };
    const auto lim = static_cast<size_t>(limit);
    Status s = (*table)->Scan(scan, [&](const lake::RecordBatch& b) -> Status {
      std::vector<size_t> col;  // in the order of scan.columns
      for (const std::string& name : scan.columns) {
        const int i = b.Find(name);
        if (i < 0) return FailedPreconditionError("the events table has no column " + name);
        col.push_back(static_cast<size_t>(i));
      }
      auto str = [&b, &col](size_t k, size_t r) -> std::string {
        const lake::Column& column = b.column(col[k]);
        const bool text = column.type() == lake::ColumnType::kString;
        return text && column.IsValid(r) ? std::string(column.StringAt(r)) : std::string();
      };
      auto num = [&b, &col](size_t k, size_t r) -> json {
        const lake::Column& column = b.column(col[k]);
        const bool real =
            column.type() == lake::ColumnType::kDouble || column.type() == lake::ColumnType::kFloat;
        if (!real || !column.IsValid(r)) return nullptr;
        const double v = column.DoubleAt(r);
        return std::isfinite(v) ? json(v) : json(nullptr);
      };
      if (b.column(col[0]).type() != lake::ColumnType::kTimestampMicros) {
        return FailedPreconditionError("the events table's ts is not a timestamp");
      }
      for (size_t r = 0; r < b.num_rows(); ++r) {
        const std::string kind = str(7, r);
        const bool alert = IsAlertEvent(kind, str(8, r));
        if (alerts_only && !alert) continue;
        const std::string site = str(1, r), area = str(2, r), line = str(3, r), a = str(4, r),
                          signal = str(6, r);
        if (!gate.Allows(site, area, line, a, signal)) continue;
        if (!b.column(col[0]).IsValid(r)) continue;
        const int64_t ts = b.column(col[0]).IntAt(r);
        rows.push_back({ts, json{{"ts", FormatTimestampMicros(ts)},
                                 {"site", site},
                                 {"area", area},
                                 {"line", line},
                                 {"asset", a},
                                 {"asset_type", str(5, r)},
                                 {"signal", signal},
                                 {"kind", kind},
                                 {"source", str(8, r)},
                                 {"value", num(9, r)},
                                 {"threshold", num(10, r)},
                                 {"message", str(11, r)},
                                 {"alert", alert}}});
        // Keep memory bounded: only the newest `limit` rows can be returned.
        if (rows.size() >= 4 * lim + 1024) {
          std::nth_element(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(lim),
                           rows.end(), newest_first);
          rows.resize(lim);
          truncated = true;
        }
      }
      return Status::Ok();
    });
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s.WithContext("reading events");
    std::sort(rows.begin(), rows.end(), newest_first);
    if (rows.size() > lim) {
      rows.resize(lim);
      truncated = true;
    }
    for (Row& r : rows) events.push_back(std::move(r.body));
  }
  return api::JsonReply(200, json{{"events", events}, {"truncated", truncated}});
}

}  // namespace

bool SampleGate::Allows(const std::string& site, const std::string& area, const std::string& line,
                        const std::string& asset, const std::string& signal) {
  registry::Resource r;
  if (!site.empty() && !area.empty() && !line.empty() && !asset.empty()) {
    r.path = site + "/" + area + "/" + line + "/" + asset;
  }
  auto key = std::make_tuple(asset, signal, r.path);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (tag_lookup_) {
    r.tags = tag_lookup_(asset, "");
    if (!signal.empty()) {
      for (auto& [k, v] : tag_lookup_(asset, signal)) r.tags[k] = v;
    }
  }
  const bool ok = registry::Authorize(grants_, disabled_, permission_, r).allowed;
  cache_.emplace(std::move(key), ok);
  return ok;
}

json SamplesJson(const std::vector<LiveSample>& samples) {
  json assets = json::array();
  for (const LiveSample& s : samples) {
    if (assets.empty() || assets.back()["asset"] != s.asset) {
      assets.push_back({{"site", s.site},
                        {"area", s.area},
                        {"line", s.line},
                        {"asset", s.asset},
                        {"asset_type", s.asset_type},
                        {"signals", json::array()}});
    }
    assets.back()["signals"].push_back({{"signal", s.signal},
                                        {"unit", s.unit},
                                        {"ts", FormatTimestampMicros(s.ts_us)},
                                        {"value", ValueJson(s.value)},
                                        {"quality", s.quality}});
  }
  return assets;
}

std::vector<ModuleRoute> WebRoutes(WebRouteOptions options) {
  auto o = std::make_shared<const WebRouteOptions>(std::move(options));
  std::vector<ModuleRoute> routes;
  routes.push_back(
      {"GET", "/api/v1/latest", Access::kAnywhere, Permission::kReadTelemetry, false, false, false,
       "live.latest", [o](RouteCall& c) -> Result<Reply> {
         if (o->live == nullptr) return UnavailableError("live values are not configured");
         WEFT_ASSIGN_OR_RETURN(std::set<std::string> assets, AssetFilter(c.req));
         o->live->Touch();
         WEFT_RETURN_IF_ERROR(o->live->Fresh());
         const uint64_t g = o->live->generation();
         SampleGate gate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o->tag_lookup);
         std::vector<LiveSample> visible = Visible(o->live->Snapshot(0), assets, &gate);
         return api::JsonReply(200, SamplesBody(visible, g, o->clock, true));
       }});
  routes.push_back(
      {"GET", "/api/v1/live", Access::kAnywhere, Permission::kReadTelemetry, false, false, false,
       "live.stream", [o](RouteCall& c) -> Result<Reply> {
         if (o->live == nullptr) return UnavailableError("live values are not configured");
         WEFT_ASSIGN_OR_RETURN(std::set<std::string> assets, AssetFilter(c.req));
         std::unique_ptr<LiveTelemetry::StreamSlot> slot = o->live->AcquireStream();
         if (slot == nullptr) {
           Reply busy =
               api::ErrorReply(503, "unavailable", "too many live streams are open; retry shortly");
           busy.headers.emplace_back("Retry-After", "5");
           return busy;
         }
         auto stream = std::make_shared<LiveStream>(
             o->live, std::move(slot),
             SampleGate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o->tag_lookup),
             std::move(assets), *o);
         Reply r{200, "", "text/event-stream", {}};
         r.stream = [stream](std::string* chunk) { return stream->Next(chunk); };
         return r;
       }});
  routes.push_back({"GET", "/api/v1/events", Access::kAnywhere, Permission::kReadTelemetry, false,
                    false, false, "events.list",
                    [o](RouteCall& c) -> Result<Reply> { return Events(*o, c); }});
  return routes;
}

}  // namespace weft::core::web

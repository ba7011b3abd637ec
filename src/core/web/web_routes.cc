#include "core/web/web_routes.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "core/web/sse.h"
#include "lake/predicate.h"
#include "mlops/monitoring/monitoring_lake.h"

namespace weft::core::web {
namespace {

using json = nlohmann::json;
using api::Access;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using registry::Permission;

constexpr size_t kMaxAssets = 200;
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

//! What a listing of a lake table accepts.
struct ListRules {
  int64_t default_span_us = 0;  //!< from = to - this when `from` is absent
  int64_t max_span_us = 0;
  std::string_view max_span_text;  //!< "31 days"
  int64_t default_limit = 0;
  int64_t max_limit = 0;
};

//! The query parameters of a listing: [from, to), a limit, an asset and a model ("" = any).
struct ListQuery {
  int64_t from = 0, to = 0, limit = 0;
  std::string asset, model;
};

Result<std::string> IdParam(const httplib::Request& req, const char* name, const char* what) {
  if (!req.has_param(name)) return std::string();
  std::string id = req.get_param_value(name);
  if (!ValidAssetId(id)) {
    return InvalidArgumentError(std::string("query parameter '") + name + "': '" +
                                id.substr(0, 64) + "' is not " + what +
                                " (1-128 of A-Z a-z 0-9 . _ -)");
  }
  return id;
}

//! Parses from, to, limit, asset and (with `model`) model; InvalidArgument naming the parameter.
Result<ListQuery> ParseListQuery(const httplib::Request& req, const Clock* clock,
                                 const ListRules& rules, bool model) {
  ListQuery q;
  const int64_t now = UnixMicros(clock->Now());
  WEFT_ASSIGN_OR_RETURN(q.to, TimeParam(req, "to", now + int64_t{60} * 1'000'000));
  WEFT_ASSIGN_OR_RETURN(q.from, TimeParam(req, "from", q.to - rules.default_span_us));
  if (q.from >= q.to) return InvalidArgumentError("query parameter 'from' must be before 'to'");
  if (q.to - q.from > rules.max_span_us) {
    return InvalidArgumentError("query parameters 'from' and 'to' span more than " +
                                std::string(rules.max_span_text) + "; ask for less");
  }
  q.limit = rules.default_limit;
  if (req.has_param("limit")) {
    WEFT_ASSIGN_OR_RETURN(q.limit, api::ParseInt(req.get_param_value("limit"), "limit"));
    if (q.limit < 1 || q.limit > rules.max_limit) {
      return InvalidArgumentError("query parameter 'limit' must be 1.." +
                                  std::to_string(rules.max_limit));
    }
  }
  WEFT_ASSIGN_OR_RETURN(q.asset, IdParam(req, "asset", "an asset id"));
  if (model) {
    WEFT_ASSIGN_OR_RETURN(q.model, IdParam(req, "model", "a model name"));
  }
  return q;
}

//! The predicate of `column` in [from, to), with the `date` partition's bounds when the table
//! has one (so that whole days are skipped without opening their files).
std::string RangeWhere(std::string_view column, int64_t from, int64_t to, bool date) {
  std::string w = std::string(column) +
                  " >= " + lake::PredicateLiteral(FormatTimestampMicros(from)) + " and " +
                  std::string(column) + " < " + lake::PredicateLiteral(FormatTimestampMicros(to));
  if (date) {
    w += " and date >= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(from)))) +
         " and date <= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(to - 1))));
  }
  return w;
}

//! The columns of a scanned batch, by their position in the scan's column list, read leniently:
//! a null or a column of another type reads as "" (text) or null (numbers), never a crash.
class BatchColumns {
 public:
  static Result<BatchColumns> Of(const lake::RecordBatch& b, const std::vector<std::string>& names,
                                 std::string_view table) {
    BatchColumns out(b);
    for (const std::string& name : names) {
      const int i = b.Find(name);
      if (i < 0) {
        return FailedPreconditionError("the " + std::string(table) + " table has no column " +
                                       name);
      }
      out.col_.push_back(static_cast<size_t>(i));
    }
    return out;
  }
  Status ExpectTimestamp(size_t k, std::string_view table, std::string_view name) const {
    if (column(k).type() == lake::ColumnType::kTimestampMicros) return Status::Ok();
    return FailedPreconditionError("the " + std::string(table) + " table's " + std::string(name) +
                                   " is not a timestamp");
  }
  std::string Str(size_t k, size_t r) const {
    const lake::Column& c = column(k);
    const bool text = c.type() == lake::ColumnType::kString;
    return text && c.IsValid(r) ? std::string(c.StringAt(r)) : std::string();
  }
  json Num(size_t k, size_t r) const {
    const lake::Column& c = column(k);
    const bool real = c.type() == lake::ColumnType::kDouble || c.type() == lake::ColumnType::kFloat;
    if (!real || !c.IsValid(r)) return nullptr;
    const double v = c.DoubleAt(r);
    return std::isfinite(v) ? json(v) : json(nullptr);
  }
  //! REQUIRES: ExpectTimestamp(k) held. nullopt for a null.
  std::optional<int64_t> Time(size_t k, size_t r) const {
    const lake::Column& c = column(k);
    if (!c.IsValid(r)) return std::nullopt;
    return c.IntAt(r);
  }

 private:
  explicit BatchColumns(const lake::RecordBatch& b) : b_(&b) {}
  const lake::Column& column(size_t k) const { return b_->column(col_[k]); }
  const lake::RecordBatch* b_;
  std::vector<size_t> col_;
};

//! The newest `limit` rows of a scan, in bounded memory, newest first.
class NewestRows {
 public:
  explicit NewestRows(int64_t limit) : limit_(static_cast<size_t>(limit)) {}
  void Add(int64_t ts, json body) {
    rows_.push_back({ts, std::move(body)});
    // Keep memory bounded: only the newest `limit` rows can be returned.
    if (rows_.size() >= 4 * limit_ + 1024) {
      std::nth_element(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(limit_),
                       rows_.end(), NewestFirst);
      rows_.resize(limit_);
      truncated_ = true;
    }
  }
  //! The rows, newest first; `truncated` when more matched than the limit.
  json Take(bool* truncated) {
    std::sort(rows_.begin(), rows_.end(), NewestFirst);
    if (rows_.size() > limit_) {
      rows_.resize(limit_);
      truncated_ = true;
    }
    json out = json::array();
    for (Row& r : rows_) out.push_back(std::move(r.body));
    *truncated = truncated_;
    return out;
  }

 private:
  struct Row {
    int64_t ts;
    json body;
  };
  static bool NewestFirst(const Row& a, const Row& b) { return a.ts > b.ts; }
  size_t limit_;
  std::vector<Row> rows_;
  bool truncated_ = false;
};

//! A table's handle, or null when it does not exist (yet): a missing table lists as empty.
Result<std::unique_ptr<lake::LakeTable>> OpenIfExists(const std::string& path, const Clock* clock) {
  Result<std::unique_ptr<lake::LakeTable>> t = lake::LakeTable::Open(path, clock);
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) {
    return std::unique_ptr<lake::LakeTable>();
  }
  return t;
}

constexpr int64_t kDayUs = int64_t{24} * 3600 * 1'000'000;
const ListRules kEventRules{kDayUs, 31 * kDayUs, "31 days", 200, 5000};
const ListRules kPredictionRules{kDayUs, 31 * kDayUs, "31 days", 1000, 10000};
const ListRules kMonitoringRules{30 * kDayUs, 366 * kDayUs, "366 days", 1000, 5000};

Result<Reply> Events(const WebRouteOptions& o, RouteCall& c) {
  if (o.lake_root.empty()) return UnavailableError("this weft-core has no lake");
  WEFT_ASSIGN_OR_RETURN(ListQuery q, ParseListQuery(c.req, o.clock, kEventRules, false));
  bool alerts_only = false;
  if (c.req.has_param("alerts")) {
    const std::string a = c.req.get_param_value("alerts");
    if (a != "true" && a != "false") {
      return InvalidArgumentError("query parameter 'alerts' must be true or false");
    }
    alerts_only = a == "true";
  }
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<lake::LakeTable> table,
                        OpenIfExists(LakeTablePath(o.lake_root, LakeTableId::kEvents), o.clock));
  NewestRows rows(q.limit);
  if (table) {
    lake::ScanOptions scan;
    scan.columns = {"ts",     "site", "area",   "line",  "asset",     "asset_type",
                    "signal", "kind", "source", "value", "threshold", "message"};
    scan.where = RangeWhere("ts", q.from, q.to, true);
    if (!q.asset.empty()) scan.where += " and asset = " + lake::PredicateLiteral(q.asset);
    SampleGate gate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o.tag_lookup);
    Status s = table->Scan(scan, [&](const lake::RecordBatch& b) -> Status {
      WEFT_ASSIGN_OR_RETURN(BatchColumns col, BatchColumns::Of(b, scan.columns, "events"));
      WEFT_RETURN_IF_ERROR(col.ExpectTimestamp(0, "events", "ts"));
      for (size_t r = 0; r < b.num_rows(); ++r) {
        const std::string kind = col.Str(7, r);
        const bool alert = IsAlertEvent(kind, col.Str(8, r));
        if (alerts_only && !alert) continue;
        const std::string site = col.Str(1, r), area = col.Str(2, r), line = col.Str(3, r),
                          a = col.Str(4, r), signal = col.Str(6, r);
        if (!gate.Allows(site, area, line, a, signal)) continue;
        const std::optional<int64_t> ts = col.Time(0, r);
        if (!ts) continue;
        rows.Add(*ts, json{{"ts", FormatTimestampMicros(*ts)},
                           {"site", site},
                           {"area", area},
                           {"line", line},
                           {"asset", a},
                           {"asset_type", col.Str(5, r)},
                           {"signal", signal},
                           {"kind", kind},
                           {"source", col.Str(8, r)},
                           {"value", col.Num(9, r)},
                           {"threshold", col.Num(10, r)},
                           {"message", col.Str(11, r)},
                           {"alert", alert}});
      }
      return Status::Ok();
    });
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s.WithContext("reading events");
  }
  bool truncated = false;
  json events = rows.Take(&truncated);
  return api::JsonReply(200, json{{"events", std::move(events)}, {"truncated", truncated}});
}

Result<Reply> Predictions(const WebRouteOptions& o, RouteCall& c) {
  if (o.lake_root.empty()) return UnavailableError("this weft-core has no lake");
  WEFT_ASSIGN_OR_RETURN(ListQuery q, ParseListQuery(c.req, o.clock, kPredictionRules, true));
  WEFT_ASSIGN_OR_RETURN(
      std::unique_ptr<lake::LakeTable> table,
      OpenIfExists(LakeTablePath(o.lake_root, LakeTableId::kPredictions), o.clock));
  NewestRows rows(q.limit);
  if (table) {
    lake::ScanOptions scan;
    scan.columns = {"ts",    "site",          "area",  "line",      "asset",  "signal",
                    "model", "model_version", "value", "threshold", "message"};
    scan.where = RangeWhere("ts", q.from, q.to, true);
    if (!q.asset.empty()) scan.where += " and asset = " + lake::PredicateLiteral(q.asset);
    if (!q.model.empty()) scan.where += " and model = " + lake::PredicateLiteral(q.model);
    SampleGate gate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o.tag_lookup);
    Status s = table->Scan(scan, [&](const lake::RecordBatch& b) -> Status {
      WEFT_ASSIGN_OR_RETURN(BatchColumns col, BatchColumns::Of(b, scan.columns, "predictions"));
      WEFT_RETURN_IF_ERROR(col.ExpectTimestamp(0, "predictions", "ts"));
      for (size_t r = 0; r < b.num_rows(); ++r) {
        const std::string site = col.Str(1, r), area = col.Str(2, r), line = col.Str(3, r),
                          a = col.Str(4, r), signal = col.Str(5, r);
        if (!gate.Allows(site, area, line, a, signal)) continue;
        const std::optional<int64_t> ts = col.Time(0, r);
        if (!ts) continue;
        std::string message = col.Str(10, r);
        const bool flagged = IsFlaggedPrediction(message);
        rows.Add(*ts, json{{"ts", FormatTimestampMicros(*ts)},
                           {"site", site},
                           {"area", area},
                           {"line", line},
                           {"asset", a},
                           {"signal", signal},
                           {"model", col.Str(6, r)},
                           {"model_version", col.Str(7, r)},
                           {"value", col.Num(8, r)},
                           {"threshold", col.Num(9, r)},
                           {"flagged", flagged},
                           {"message", std::move(message)}});
      }
      return Status::Ok();
    });
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s.WithContext("reading predictions");
  }
  bool truncated = false;
  json predictions = rows.Take(&truncated);
  return api::JsonReply(200,
                        json{{"predictions", std::move(predictions)}, {"truncated", truncated}});
}

//! ok < warn < alert; anything else (not written by the monitor) ranks below ok.
int LevelRank(std::string_view level) {
  if (level == "ok") return 0;
  if (level == "warn") return 1;
  if (level == "alert") return 2;
  return -1;
}

//! One monitoring window being gathered from its rows.
struct MonitoringWindow {
  std::optional<int64_t> start;
  api::AssetLocation place;
  json score = nullptr;
  std::string action;
  std::string level;
  json checks = json::array();
};

Result<Reply> Monitoring(const WebRouteOptions& o, RouteCall& c) {
  if (o.lake_root.empty()) return UnavailableError("this weft-core has no lake");
  WEFT_ASSIGN_OR_RETURN(ListQuery q, ParseListQuery(c.req, o.clock, kMonitoringRules, true));
  std::string path = o.lake_root;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  path += "/" + std::string(mlops::kMonitoringTableName);
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<lake::LakeTable> table, OpenIfExists(path, o.clock));
  std::vector<lake::BatchField> schema;
  if (table) {
    Result<std::vector<lake::BatchField>> found = table->Schema();
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) {
      return found.status().WithContext("reading model_monitoring");
    }
    if (found.ok()) schema = std::move(found).value();
  }
  auto has = [&schema](std::string_view name) {
    return std::any_of(schema.begin(), schema.end(),
                       [name](const lake::BatchField& f) { return f.name == name; });
  };
  // Another tool writes this table: a time column of another type would match no range (an
  // empty answer that hides the problem), so it is refused before the scan.
  for (const lake::BatchField& f : schema) {
    if ((f.name == "ts" || f.name == "start_ts") && f.type != lake::ColumnType::kTimestampMicros) {
      return FailedPreconditionError("the " + std::string(mlops::kMonitoringTableName) +
                                     " table's " + f.name + " is not a timestamp");
    }
  }
  // (end, asset, model, version) -> window. Only windows with end >= cutoff can still be among
  // the newest `limit`: older ones are dropped when too many are held (bounded memory).
  using Key = std::tuple<int64_t, std::string, std::string, std::string>;
  std::map<Key, MonitoringWindow> windows;
  int64_t cutoff = std::numeric_limits<int64_t>::min();
  bool truncated = false;
  const auto lim = static_cast<size_t>(q.limit);
  if (!schema.empty()) {
    lake::ScanOptions scan;
    scan.columns = {"ts",        "model", "model_version", "asset", "check", "subject",
                    "statistic", "value", "level",         "score", "action"};
    const bool with_start = has("start_ts");
    if (with_start) scan.columns.push_back("start_ts");
    scan.where = RangeWhere("ts", q.from, q.to, has("date"));
    if (!q.asset.empty()) scan.where += " and asset = " + lake::PredicateLiteral(q.asset);
    if (!q.model.empty()) scan.where += " and model = " + lake::PredicateLiteral(q.model);
    SampleGate gate(c.grants, c.principal.disabled, Permission::kReadTelemetry, o.tag_lookup);
    std::map<std::string, api::AssetLocation, std::less<>> places;
    auto place_of = [&](const std::string& asset) -> const api::AssetLocation& {
      auto it = places.find(asset);
      if (it == places.end()) {
        std::optional<api::AssetLocation> p;
        if (o.asset_location) p = o.asset_location(asset);
        it = places.emplace(asset, p.value_or(api::AssetLocation{})).first;
      }
      return it->second;
    };
    Status s = table->Scan(scan, [&](const lake::RecordBatch& b) -> Status {
      WEFT_ASSIGN_OR_RETURN(BatchColumns col,
                            BatchColumns::Of(b, scan.columns, mlops::kMonitoringTableName));
      WEFT_RETURN_IF_ERROR(col.ExpectTimestamp(0, mlops::kMonitoringTableName, "ts"));
      if (with_start) {
        WEFT_RETURN_IF_ERROR(col.ExpectTimestamp(11, mlops::kMonitoringTableName, "start_ts"));
      }
      for (size_t r = 0; r < b.num_rows(); ++r) {
        const std::optional<int64_t> end = col.Time(0, r);
        if (!end || *end < cutoff) continue;
        const std::string asset = col.Str(3, r);
        const api::AssetLocation& p = place_of(asset);
        if (!gate.Allows(p.site, p.area, p.line, asset, "")) continue;
        Key key{*end, asset, col.Str(1, r), col.Str(2, r)};
        auto [it, added] = windows.try_emplace(std::move(key));
        MonitoringWindow& w = it->second;
        if (added) w.place = p;
        if (with_start && !w.start) w.start = col.Time(11, r);
        if (w.score.is_null()) w.score = col.Num(9, r);
        if (w.action.empty()) w.action = col.Str(10, r);
        const std::string level = col.Str(8, r);
        // The window's level summarises all its rows, as its score does.
        if (w.level.empty() || LevelRank(level) > LevelRank(w.level)) w.level = level;
        const std::string subject = col.Str(5, r);
        if (!subject.empty() && !gate.Allows(p.site, p.area, p.line, asset, subject)) continue;
        w.checks.push_back({{"check", col.Str(4, r)},
                            {"subject", subject},
                            {"statistic", col.Str(6, r)},
                            {"value", col.Num(7, r)},
                            {"level", level}});
      }
      if (windows.size() >= 4 * lim + 1024) {
        // The newest `lim` windows stay; the lim-th newest end is the new cutoff.
        auto keep = windows.rbegin();
        std::advance(keep, static_cast<std::ptrdiff_t>(lim - 1));
        cutoff = std::get<0>(keep->first);
        windows.erase(windows.begin(), windows.lower_bound(Key{cutoff, "", "", ""}));
        truncated = true;
      }
      return Status::Ok();
    });
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      return s.WithContext("reading model_monitoring");
    }
  }
  std::vector<std::pair<const Key*, MonitoringWindow*>> ordered;
  ordered.reserve(windows.size());
  for (auto& [k, w] : windows) ordered.emplace_back(&k, &w);
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    const auto& [ea, aa, ma, va] = *a.first;
    const auto& [eb, ab, mb, vb] = *b.first;
    if (ea != eb) return ea > eb;
    return std::tie(aa, ma, va) < std::tie(ab, mb, vb);
  });
  if (ordered.size() > lim) {
    ordered.resize(lim);
    truncated = true;
  }
  json out = json::array();
  for (auto& [k, w] : ordered) {
    const auto& [end, asset, model, version] = *k;
    out.push_back({{"start", w->start ? json(FormatTimestampMicros(*w->start)) : json(nullptr)},
                   {"end", FormatTimestampMicros(end)},
                   {"model", model},
                   {"model_version", version},
                   {"asset", asset},
                   {"site", w->place.site},
                   {"area", w->place.area},
                   {"line", w->place.line},
                   {"score", w->score},
                   {"level", w->level},
                   {"action", w->action},
                   {"checks", std::move(w->checks)}});
  }
  return api::JsonReply(200, json{{"windows", std::move(out)}, {"truncated", truncated}});
}

}  // namespace

bool IsFlaggedPrediction(std::string_view message) {
  return message.rfind("physics_violation:", 0) == 0 || message.rfind("out_of_envelope:", 0) == 0;
}

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
  routes.push_back({"GET", "/api/v1/predictions", Access::kAnywhere, Permission::kReadTelemetry,
                    false, false, false, "predictions.list",
                    [o](RouteCall& c) -> Result<Reply> { return Predictions(*o, c); }});
  routes.push_back({"GET", "/api/v1/monitoring", Access::kAnywhere, Permission::kReadTelemetry,
                    false, false, false, "monitoring.list",
                    [o](RouteCall& c) -> Result<Reply> { return Monitoring(*o, c); }});
  return routes;
}

}  // namespace weft::core::web

#include "core/web/live_telemetry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "lake/predicate.h"

namespace weft::core::web {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

//! The index of column `name` when it has one of `types`, else -1 (absent or of another type:
//! ignored rather than misread).
int Typed(const lake::RecordBatch& b, std::string_view name,
          std::initializer_list<lake::ColumnType> types) {
  const int i = b.Find(name);
  if (i < 0) return -1;
  for (lake::ColumnType t : types) {
    if (b.column(static_cast<size_t>(i)).type() == t) return i;
  }
  return -1;
}

//! The string at row `r` of column `col` ("" when the column is absent or the cell null).
std::string StringOr(const lake::RecordBatch& b, int col, size_t r) {
  if (col < 0 || !b.column(static_cast<size_t>(col)).IsValid(r)) return "";
  return std::string(b.column(static_cast<size_t>(col)).StringAt(r));
}

}  // namespace

LiveTelemetry::StreamSlot::~StreamSlot() {
  owner_->open_streams_.fetch_sub(1);
}

Result<std::unique_ptr<LiveTelemetry>> LiveTelemetry::Open(LiveTelemetryOptions options) {
  if (options.lake_root.empty() || options.clock == nullptr) {
    return InvalidArgumentError("LiveTelemetry needs a lake root and a clock");
  }
  if (options.poll_interval.count() <= 0 || options.lookback.count() <= 0 ||
      options.overlap.count() < 0) {
    return InvalidArgumentError(
        "LiveTelemetry: the poll interval and the lookback must be positive, the overlap not "
        "negative");
  }
  return std::unique_ptr<LiveTelemetry>(new LiveTelemetry(std::move(options)));
}

LiveTelemetry::~LiveTelemetry() {
  Stop();
}

void LiveTelemetry::StartPolling() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() || stopping_.load()) return;
  thread_ = std::thread([this] { Run(); });
}

void LiveTelemetry::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stopping_.store(true);
  }
  wake_.notify_all();
  {
    // Taking mu_ orders the flag before any waiter's next check of it.
    std::lock_guard<std::mutex> lock(mu_);
  }
  changed_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void LiveTelemetry::Touch() {
  last_touch_ns_.store(SteadyNowNs());
}

void LiveTelemetry::Run() {
  const int64_t idle_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.idle_after).count();
  while (!stopping_.load()) {
    if (SteadyNowNs() - last_touch_ns_.load() < idle_ns) {
      Status s = PollOnce();
      if (!s.ok()) spdlog::warn("weft-core live values: {}", s.ToString());
    }
    std::unique_lock<std::mutex> lock(thread_mu_);
    wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_.load(); });
  }
}

Status LiveTelemetry::Fresh() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    if (polled_ && std::chrono::steady_clock::now() - last_poll_ < options_.poll_interval) {
      return Status::Ok();
    }
  }
  return PollOnce();
}

Status LiveTelemetry::PollOnce() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  if (table_ == nullptr) {
    Result<std::unique_ptr<lake::LakeTable>> t =
        OpenTable(options_.lake_root, LakeTableId::kTelemetry, options_.clock);
    if (!t.ok()) {
      if (t.status().code() == StatusCode::kNotFound) return Status::Ok();
      return t.status().WithContext("opening the telemetry table");
    }
    table_ = std::move(t).value();
  }
  const int64_t now_us = UnixMicros(options_.clock->Now());
  int64_t from_us = now_us - options_.lookback.count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (newest_ts_us_) from_us = std::max(from_us, *newest_ts_us_ - options_.overlap.count());
  }
  lake::ScanOptions scan;
  scan.columns = {"ts",         "site",   "area", "line",  "asset",
                  "asset_type", "signal", "unit", "value", "quality"};
  scan.where = "ts >= " + lake::PredicateLiteral(FormatTimestampMicros(from_us)) + " and date >= " +
               lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(from_us))));
  Status s = table_->Scan(scan, [this](const lake::RecordBatch& b) {
    Apply(b);
    return Status::Ok();
  });
  last_poll_ = std::chrono::steady_clock::now();
  polled_ = true;
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    return s.WithContext("reading the latest telemetry");
  }
  return Status::Ok();
}

size_t LiveTelemetry::Apply(const lake::RecordBatch& rows) {
  using T = lake::ColumnType;
  const int ts = Typed(rows, "ts", {T::kTimestampMicros}),
            asset = Typed(rows, "asset", {T::kString}),
            signal = Typed(rows, "signal", {T::kString});
  if (ts < 0 || asset < 0 || signal < 0) return 0;
  const int site = Typed(rows, "site", {T::kString}), area = Typed(rows, "area", {T::kString}),
            line = Typed(rows, "line", {T::kString}),
            type = Typed(rows, "asset_type", {T::kString}),
            unit = Typed(rows, "unit", {T::kString}),
            value = Typed(rows, "value", {T::kDouble, T::kFloat}),
            quality = Typed(rows, "quality", {T::kInt32, T::kInt64});
  const lake::Column& ts_col = rows.column(static_cast<size_t>(ts));
  size_t changed = 0;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t next = generation_ + 1;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (!ts_col.IsValid(r)) continue;
    const int64_t t = ts_col.IntAt(r);
    std::string a = StringOr(rows, asset, r), sig = StringOr(rows, signal, r);
    if (a.empty() || sig.empty()) continue;
    if (!newest_ts_us_ || t > *newest_ts_us_) newest_ts_us_ = t;
    auto [it, inserted] = latest_.try_emplace({a, sig});
    LiveSample& s = it->second;
    if (!inserted && t <= s.ts_us) continue;  // older, or the same sample read again
    s.site = StringOr(rows, site, r);
    s.area = StringOr(rows, area, r);
    s.line = StringOr(rows, line, r);
    s.asset = std::move(a);
    s.asset_type = StringOr(rows, type, r);
    s.signal = std::move(sig);
    s.unit = StringOr(rows, unit, r);
    s.ts_us = t;
    s.value.reset();
    if (value >= 0 && rows.column(static_cast<size_t>(value)).IsValid(r)) {
      s.value = rows.column(static_cast<size_t>(value)).DoubleAt(r);
    }
    s.quality = 0;
    if (quality >= 0 && rows.column(static_cast<size_t>(quality)).IsValid(r)) {
      s.quality = static_cast<int32_t>(rows.column(static_cast<size_t>(quality)).IntAt(r));
    }
    s.generation = next;
    ++changed;
  }
  if (changed > 0) {
    generation_ = next;
    changed_.notify_all();
  }
  return changed;
}

std::vector<LiveSample> LiveTelemetry::Snapshot(uint64_t after_generation) const {
  std::vector<LiveSample> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, s] : latest_) {
    if (s.generation > after_generation) out.push_back(s);
  }
  return out;
}

uint64_t LiveTelemetry::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

uint64_t LiveTelemetry::WaitForChange(uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return generation_ > after || stopping_.load(); });
  return generation_;
}

std::unique_ptr<LiveTelemetry::StreamSlot> LiveTelemetry::AcquireStream() {
  size_t open = open_streams_.load();
  do {
    if (open >= options_.max_streams) return nullptr;
  } while (!open_streams_.compare_exchange_weak(open, open + 1));
  return std::make_unique<StreamSlot>(this);
}

}  // namespace weft::core::web

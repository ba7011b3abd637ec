#include "core/kpi/lake_inputs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "lake/predicate.h"
#include "model/units.h"

namespace weft::core::kpi {
namespace {

namespace calc = ::weft::kpi;
using lake::BatchField;
using lake::Column;
using lake::ColumnType;
using lake::RecordBatch;

constexpr int64_t kDayUs = int64_t{86400} * 1'000'000;

// The quality flags (edge/sample.h) that make a value untrustworthy: bad source, comm loss,
// not a number. Out of range (1), stale (2) and stuck (4) keep the sample.
constexpr int64_t kDistrustedQuality = (1 << 3) | (1 << 4) | (1 << 5);

int64_t FloorDay(int64_t us) {
  int64_t r = us % kDayUs;
  if (r < 0) r += kDayUs;
  return us - r;
}

std::string Literal(int64_t us) {
  return lake::PredicateLiteral(FormatTimestampMicros(us));
}

std::string DayLiteral(int64_t us) {
  return lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(us))));
}

// "signal = 'x'" or "signal >= 'a' and signal <= 'z'" over a non-empty set of names.
std::string NameRange(std::string_view column, const std::set<std::string>& names) {
  const std::string& lo = *names.begin();
  const std::string& hi = *names.rbegin();
  if (lo == hi) return std::string(column) + " = " + lake::PredicateLiteral(lo);
  return std::string(column) + " >= " + lake::PredicateLiteral(lo) + " and " + std::string(column) +
         " <= " + lake::PredicateLiteral(hi);
}

// value_out = value * scale + shift, checked once per stored unit (as model::Convert computes).
struct Conversion {
  bool ok = false;
  double scale = 1;
  double shift = 0;
};

// Keeps the points of a series that matter under its staleness (see the header): a point is
// held back while it repeats the last kept value within stale_after of it.
class PointCompressor {
 public:
  explicit PointCompressor(int64_t stale_after_us) : stale_(stale_after_us) {}

  // REQUIRES: points come in non-decreasing ts order.
  void Add(calc::Point p) {
    if (out_.empty()) {
      out_.push_back(p);
      return;
    }
    if (pending_ && p.ts_us == pending_->ts_us) {
      // Same instant as the held point: the later one wins.
      if (p.value == out_.back().value) {
        pending_ = p;
      } else {
        pending_.reset();
        out_.push_back(p);
      }
      return;
    }
    calc::Point& last = out_.back();
    if (!pending_ && p.ts_us == last.ts_us) {
      last = p;
      return;
    }
    if (p.value == last.value) {
      if (p.ts_us - last.ts_us <= stale_) {
        pending_ = p;
        return;
      }
      if (pending_) {
        out_.push_back(*pending_);
        pending_.reset();
        if (p.ts_us - out_.back().ts_us <= stale_) {
          pending_ = p;
          return;
        }
      }
      out_.push_back(p);
      return;
    }
    if (pending_) {
      out_.push_back(*pending_);
      pending_.reset();
    }
    out_.push_back(p);
  }

  std::vector<calc::Point> Finish() {
    if (pending_) out_.push_back(*pending_);
    pending_.reset();
    return std::move(out_);
  }

 private:
  int64_t stale_;
  std::vector<calc::Point> out_;
  std::optional<calc::Point> pending_;
};

struct Wanted {
  const SeriesRequest* request = nullptr;
  std::vector<calc::Point> raw;  //!< this day's points, unsorted
  PointCompressor compressor{1};
  std::map<std::string, Conversion, std::less<>> conversions;  //!< by stored unit
  std::optional<model::Unit> target;
  std::set<std::string> bad_units;
};

const Column* Optional(const RecordBatch& b, std::string_view name) {
  const int i = b.Find(name);
  return i < 0 ? nullptr : &b.column(static_cast<size_t>(i));
}

}  // namespace

const calc::StepSeries* SeriesSet::Find(std::string_view asset, std::string_view signal) const {
  auto it = series_.find(std::pair<std::string, std::string>(asset, signal));
  return it == series_.end() ? nullptr : &it->second;
}

void SeriesSet::Put(std::string asset, std::string signal, calc::StepSeries series) {
  series_.insert_or_assign({std::move(asset), std::move(signal)}, std::move(series));
}

Result<SeriesSet> ReadSeries(const lake::LakeTable& telemetry,
                             const std::vector<SeriesRequest>& requests, int64_t from_us,
                             int64_t to_us, SeriesReadStats* stats) {
  if (from_us >= to_us) {
    return InvalidArgumentError("telemetry: the time range is empty: from " +
                                FormatTimestampMicros(from_us) + " is not before to " +
                                FormatTimestampMicros(to_us));
  }
  SeriesReadStats local;
  SeriesReadStats* st = stats != nullptr ? stats : &local;
  *st = SeriesReadStats{};
  SeriesSet out;
  if (requests.empty()) return out;

  // signal -> asset -> slot.
  std::vector<Wanted> wanted(requests.size());
  std::map<std::string, std::map<std::string, size_t, std::less<>>, std::less<>> index;
  std::set<std::string> signals;
  for (size_t i = 0; i < requests.size(); ++i) {
    const SeriesRequest& r = requests[i];
    if (r.stale_after_us <= 0) {
      return InvalidArgumentError("telemetry: series " + r.asset + "/" + r.signal +
                                  ": stale_after must be positive");
    }
    wanted[i].request = &r;
    wanted[i].compressor = PointCompressor(r.stale_after_us);
    if (!r.unit.empty()) {
      WEFT_ASSIGN_OR_RETURN(wanted[i].target, model::ParseUnit(r.unit));
    }
    index[r.signal][r.asset] = i;
    signals.insert(r.signal);
  }

  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> schema, telemetry.Schema());
  auto type_of = [&](std::string_view name) -> std::optional<ColumnType> {
    for (const BatchField& f : schema) {
      if (f.name == name) return f.type;
    }
    return std::nullopt;
  };
  for (const char* name : {"ts", "asset", "signal", "value"}) {
    if (!type_of(name)) {
      return FailedPreconditionError(std::string("telemetry: the table has no '") + name +
                                     "' column");
    }
  }
  if (*type_of("ts") != ColumnType::kTimestampMicros || *type_of("asset") != ColumnType::kString ||
      *type_of("signal") != ColumnType::kString) {
    return FailedPreconditionError(
        "telemetry: expected ts timestamp, asset string and signal string columns");
  }
  std::vector<std::string> columns = {"ts", "asset", "signal", "value"};
  if (type_of("unit") == ColumnType::kString) columns.emplace_back("unit");
  const std::optional<ColumnType> quality_type = type_of("quality");
  if (quality_type == ColumnType::kInt32 || quality_type == ColumnType::kInt64) {
    columns.emplace_back("quality");
  }
  const bool has_date = type_of("date") == ColumnType::kDate;

  auto consume = [&](const RecordBatch& b) -> Status {
    const Column& ts = b.column(static_cast<size_t>(b.Find("ts")));
    const Column& asset = b.column(static_cast<size_t>(b.Find("asset")));
    const Column& signal = b.column(static_cast<size_t>(b.Find("signal")));
    const Column& value = b.column(static_cast<size_t>(b.Find("value")));
    const Column* unit = Optional(b, "unit");
    const Column* quality = Optional(b, "quality");
    const bool value_is_int =
        value.type() == ColumnType::kInt32 || value.type() == ColumnType::kInt64;
    const bool value_is_number =
        value_is_int || value.type() == ColumnType::kDouble || value.type() == ColumnType::kFloat;
    if (!value_is_number) {
      return FailedPreconditionError("telemetry: the value column is " +
                                     std::string(lake::TypeName(value.type())) +
                                     "; expected a number");
    }
    // Rows of one signal and asset often come together: remember the last lookup.
    std::string last_signal, last_asset;
    size_t last_slot = SIZE_MAX;
    bool have_last = false;
    for (size_t i = 0; i < b.num_rows(); ++i) {
      if (!ts.IsValid(i) || !asset.IsValid(i) || !signal.IsValid(i)) continue;
      const std::string_view sig = signal.StringAt(i);
      const std::string_view as = asset.StringAt(i);
      size_t slot = SIZE_MAX;
      if (have_last && sig == last_signal && as == last_asset) {
        slot = last_slot;
      } else {
        auto s = index.find(sig);
        if (s != index.end()) {
          auto a = s->second.find(as);
          if (a != s->second.end()) slot = a->second;
        }
        last_signal.assign(sig);
        last_asset.assign(as);
        last_slot = slot;
        have_last = true;
      }
      if (slot == SIZE_MAX) continue;
      if (quality != nullptr && quality->IsValid(i) &&
          (quality->IntAt(i) & kDistrustedQuality) != 0) {
        ++st->rows_bad_quality;
        continue;
      }
      if (!value.IsValid(i)) {
        ++st->rows_null_value;
        continue;
      }
      double v = value_is_int ? static_cast<double>(value.IntAt(i)) : value.DoubleAt(i);
      if (!std::isfinite(v)) {
        ++st->rows_null_value;
        continue;
      }
      Wanted& w = wanted[slot];
      if (w.target) {
        const std::string_view stored =
            unit != nullptr && unit->IsValid(i) ? unit->StringAt(i) : std::string_view();
        auto c = w.conversions.find(stored);
        if (c == w.conversions.end()) {
          Conversion conv;
          Result<model::Unit> from = model::ParseUnit(stored);
          if (from.ok() && model::Convert(0.0, *from, *w.target).ok()) {
            conv.ok = true;
            conv.scale = from->factor / w.target->factor;
            conv.shift = (from->offset - w.target->offset) / w.target->factor;
          } else {
            w.bad_units.insert(std::string(stored));
          }
          c = w.conversions.emplace(std::string(stored), conv).first;
        }
        if (!c->second.ok) {
          ++st->rows_unconvertible;
          continue;
        }
        v = v * c->second.scale + c->second.shift;
      }
      w.raw.push_back({ts.IntAt(i), v});
      ++st->rows_used;
    }
    return Status::Ok();
  };

  auto flush_day = [&] {
    for (Wanted& w : wanted) {
      std::stable_sort(w.raw.begin(), w.raw.end(), [](const calc::Point& a, const calc::Point& b) {
        return a.ts_us < b.ts_us;
      });
      for (const calc::Point& p : w.raw) w.compressor.Add(p);
      w.raw.clear();
    }
  };

  const std::string signal_range = NameRange("signal", signals);
  auto scan = [&](int64_t a, int64_t b, bool by_day) -> Status {
    lake::ScanOptions so;
    so.columns = columns;
    so.where = "ts >= " + Literal(a) + " and ts < " + Literal(b);
    if (by_day) so.where += " and date = " + DayLiteral(a);
    so.where += " and " + signal_range;
    lake::ScanStats s;
    WEFT_RETURN_IF_ERROR(telemetry.Scan(so, consume, &s).WithContext("lake table telemetry"));
    ++st->scans;
    st->scan.version = s.version;
    st->scan.files_total += s.files_total;
    st->scan.files_skipped += s.files_skipped;
    st->scan.row_groups_read += s.row_groups_read;
    st->scan.row_groups_skipped += s.row_groups_skipped;
    st->scan.rows_read += s.rows_read;
    st->scan.rows_matched += s.rows_matched;
    flush_day();
    return Status::Ok();
  };
  if (has_date) {
    for (int64_t day = FloorDay(from_us); day < to_us; day += kDayUs) {
      WEFT_RETURN_IF_ERROR(scan(std::max(day, from_us), std::min(day + kDayUs, to_us), true));
    }
  } else {
    WEFT_RETURN_IF_ERROR(scan(from_us, to_us, false));
  }

  for (Wanted& w : wanted) {
    const SeriesRequest& r = *w.request;
    for (const std::string& u : w.bad_units) {
      out.Warn("telemetry " + r.asset + "/" + r.signal + ": samples in unit '" + u +
               "' cannot be converted to '" + r.unit + "' and were left out");
    }
    std::vector<calc::Point> points = w.compressor.Finish();
    if (points.empty()) continue;
    st->points_kept += points.size();
    WEFT_ASSIGN_OR_RETURN(calc::StepSeries series,
                          calc::StepSeries::Create(std::move(points), r.stale_after_us));
    out.Put(r.asset, r.signal, std::move(series));
  }
  return out;
}

Result<std::vector<AlertEvent>> ReadAlertEvents(const lake::LakeTable& events, int64_t from_us,
                                                int64_t to_us) {
  if (from_us >= to_us) {
    return InvalidArgumentError("events: the time range is empty: from " +
                                FormatTimestampMicros(from_us) + " is not before to " +
                                FormatTimestampMicros(to_us));
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> schema, events.Schema());
  std::set<std::string> names;
  for (const BatchField& f : schema) names.insert(f.name);
  for (const char* name : {"ts", "asset", "kind"}) {
    if (names.count(name) == 0) {
      return FailedPreconditionError(std::string("events: the table has no '") + name + "' column");
    }
  }
  std::vector<std::string> columns = {"ts", "asset", "kind"};
  for (const char* name : {"source", "site", "area", "line"}) {
    if (names.count(name) > 0) columns.emplace_back(name);
  }
  lake::ScanOptions so;
  so.columns = columns;
  so.where = "ts >= " + Literal(from_us) + " and ts < " + Literal(to_us);
  if (names.count("date") > 0) {
    so.where += " and date >= " + DayLiteral(from_us) + " and date <= " + DayLiteral(to_us - 1);
  }
  std::vector<AlertEvent> out;
  WEFT_RETURN_IF_ERROR(
      events
          .Scan(so,
                [&](const RecordBatch& b) -> Status {
                  const Column& ts = b.column(static_cast<size_t>(b.Find("ts")));
                  const Column& asset = b.column(static_cast<size_t>(b.Find("asset")));
                  const Column& kind = b.column(static_cast<size_t>(b.Find("kind")));
                  auto text = [&](std::string_view name, size_t r) {
                    const Column* c = Optional(b, name);
                    return c != nullptr && c->IsValid(r) ? std::string(c->StringAt(r))
                                                         : std::string();
                  };
                  for (size_t r = 0; r < b.num_rows(); ++r) {
                    if (!ts.IsValid(r) || !asset.IsValid(r) || !kind.IsValid(r)) {
                      continue;
                    }
                    const std::string_view k = kind.StringAt(r);
                    std::string source = text("source", r);
                    if (!IsAlertEvent(k, source)) continue;
                    AlertEvent e;
                    e.ts_us = ts.IntAt(r);
                    e.asset = std::string(asset.StringAt(r));
                    e.kind = std::string(k);
                    e.source = std::move(source);
                    e.site = text("site", r);
                    e.area = text("area", r);
                    e.line = text("line", r);
                    out.push_back(std::move(e));
                  }
                  return Status::Ok();
                })
          .WithContext("lake table events"));
  std::sort(out.begin(), out.end(), [](const AlertEvent& a, const AlertEvent& b) {
    return std::tie(a.ts_us, a.asset, a.kind) < std::tie(b.ts_us, b.asset, b.kind);
  });
  return out;
}

std::vector<calc::TechnicianAlert> MergeAlerts(
    const std::vector<AlertEvent>& events, int64_t merge_window_us,
    const std::function<std::string(std::string_view asset)>& use_case_of) {
  std::vector<AlertEvent> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(), [](const AlertEvent& a, const AlertEvent& b) {
    return std::tie(a.ts_us, a.asset) < std::tie(b.ts_us, b.asset);
  });
  std::vector<calc::TechnicianAlert> out;
  std::map<std::string, int64_t, std::less<>> last_seen;  //!< asset -> last event of its episode
  for (const AlertEvent& e : sorted) {
    auto it = last_seen.find(e.asset);
    if (it != last_seen.end() && e.ts_us - it->second <= merge_window_us) {
      it->second = e.ts_us;  // the episode goes on
      continue;
    }
    last_seen[e.asset] = e.ts_us;
    calc::TechnicianAlert a;
    a.id = e.asset + "@" + FormatTimestampMicros(e.ts_us);
    a.asset = e.asset;
    a.ts_us = e.ts_us;
    a.kind = e.kind;
    a.use_case = use_case_of ? use_case_of(e.asset) : std::string();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace weft::core::kpi

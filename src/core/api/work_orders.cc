#include "core/api/work_orders.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "lake/predicate.h"

namespace weft::core::api {
namespace {

constexpr size_t kMaxNoteBytes = 4000;
constexpr size_t kMaxIdBytes = 256;

std::mutex& AppendMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

Status ValidateWorkOrder(const WorkOrder& w) {
  if (w.asset.empty() || w.asset.size() > kMaxIdBytes) {
    return InvalidArgumentError("work order: 'asset' must be 1 to 256 characters");
  }
  if (w.outcome != kOutcomeConfirmedFault && w.outcome != kOutcomeFalseAlarm) {
    return InvalidArgumentError(
        "work order: 'outcome' must be confirmed_fault or false_alarm, got '" +
        w.outcome.substr(0, 64) + "'");
  }
  if (!std::isfinite(w.minutes) || w.minutes < 0 || w.minutes > 1e6) {
    return InvalidArgumentError("work order: 'minutes' must be a number from 0 to 1000000");
  }
  if (w.opened_us > w.closed_us) {
    return InvalidArgumentError("work order: it was opened (" + FormatTimestampMicros(w.opened_us) +
                                ") after it was closed (" + FormatTimestampMicros(w.closed_us) +
                                ")");
  }
  if (w.note.size() > kMaxNoteBytes) {
    return InvalidArgumentError("work order: 'note' is longer than 4000 bytes");
  }
  if (w.alert_id.size() > kMaxIdBytes) {
    return InvalidArgumentError("work order: 'alert_id' is longer than 256 characters");
  }
  return Status::Ok();
}

Status AppendWorkOrder(std::string_view lake_root, WorkOrder* w, const Clock* clock) {
  WEFT_RETURN_IF_ERROR(ValidateWorkOrder(*w));
  w->recorded_us = UnixMicros(clock->Now());
  w->id = NewRowId("wo-", w->recorded_us);
  lake::RecordBatch rows(LakeTableSchema(LakeTableId::kWorkOrders));
  auto col = [&](const char* name) -> lake::Column& {
    return rows.column(static_cast<size_t>(rows.Find(name)));
  };
  col("date").AppendInt(DayOf(TimeFromUnixMicros(w->event_us)).time_since_epoch().count());
  col("event_ts").AppendInt(w->event_us);
  col("opened_ts").AppendInt(w->opened_us);
  col("closed_ts").AppendInt(w->closed_us);
  col("recorded_ts").AppendInt(w->recorded_us);
  col("id").AppendString(w->id);
  AppendTextOrNull(col("site"), w->site);
  AppendTextOrNull(col("area"), w->area);
  AppendTextOrNull(col("line"), w->line);
  col("asset").AppendString(w->asset);
  AppendTextOrNull(col("alert_id"), w->alert_id);
  col("outcome").AppendString(w->outcome);
  col("minutes").AppendDouble(w->minutes);
  AppendTextOrNull(col("note"), w->note);
  col("principal").AppendString(w->principal);

  std::lock_guard<std::mutex> lock(AppendMutex());
  // Only this table (weft-core's ingest creates them all at start; a bare lake gets it here).
  WEFT_ASSIGN_OR_RETURN(
      auto table, lake::LakeTable::Open(LakeTablePath(lake_root, LakeTableId::kWorkOrders), clock,
                                        /*create_location=*/true));
  Status created = table->Create(LakeTableSchema(LakeTableId::kWorkOrders), {"date"});
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) {
    return created.WithContext("lake table work_orders");
  }
  WEFT_RETURN_IF_ERROR(table->Append(rows).status().WithContext("lake table work_orders"));
  return Status::Ok();
}

Result<std::vector<WorkOrder>> ReadWorkOrders(std::string_view lake_root, const WorkOrderQuery& q,
                                              const Clock* clock) {
  WEFT_ASSIGN_OR_RETURN(auto table, OpenTable(lake_root, LakeTableId::kWorkOrders, clock));
  std::vector<std::string> where;
  if (!q.asset.empty()) where.push_back("asset = " + lake::PredicateLiteral(q.asset));
  if (q.from_us) {
    where.push_back("event_ts >= " + lake::PredicateLiteral(FormatTimestampMicros(*q.from_us)));
    where.push_back("date >= " +
                    lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(*q.from_us)))));
  }
  if (q.to_us) {
    where.push_back("event_ts < " + lake::PredicateLiteral(FormatTimestampMicros(*q.to_us)));
    where.push_back("date <= " +
                    lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(*q.to_us)))));
  }
  lake::ScanOptions so;
  for (size_t i = 0; i < where.size(); ++i) so.where += (i == 0 ? "" : " and ") + where[i];
  std::vector<WorkOrder> out;
  WEFT_RETURN_IF_ERROR(table->Scan(so, [&](const lake::RecordBatch& b) {
    auto text = [&](const char* name, size_t r) {
      const lake::Column& c = b.column(static_cast<size_t>(b.Find(name)));
      return c.IsValid(r) ? std::string(c.StringAt(r)) : std::string();
    };
    auto integer = [&](const char* name, size_t r) {
      return b.column(static_cast<size_t>(b.Find(name))).IntAt(r);
    };
    for (size_t r = 0; r < b.num_rows(); ++r) {
      WorkOrder w;
      w.id = text("id", r);
      w.site = text("site", r);
      w.area = text("area", r);
      w.line = text("line", r);
      w.asset = text("asset", r);
      w.alert_id = text("alert_id", r);
      w.event_us = integer("event_ts", r);
      w.opened_us = integer("opened_ts", r);
      w.closed_us = integer("closed_ts", r);
      w.recorded_us = integer("recorded_ts", r);
      w.outcome = text("outcome", r);
      w.minutes = b.column(static_cast<size_t>(b.Find("minutes"))).DoubleAt(r);
      w.note = text("note", r);
      w.principal = text("principal", r);
      out.push_back(std::move(w));
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), [](const WorkOrder& a, const WorkOrder& b) {
    return a.event_us != b.event_us ? a.event_us < b.event_us : a.id < b.id;
  });
  return out;
}

}  // namespace weft::core::api

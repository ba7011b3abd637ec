#include "core/ingest/tables.h"

#include <openssl/rand.h>

#include <filesystem>

namespace weft::core {
namespace {

using lake::BatchField;
using lake::ColumnType;

std::vector<BatchField> WithProvenance(std::vector<BatchField> specific) {
  std::vector<BatchField> out = {
      {"date", ColumnType::kDate, false},
  };
  // The time column(s) come first after the partition, then the context, then the values.
  std::vector<BatchField> context = {
      {"edge", ColumnType::kString, false},   {"stream", ColumnType::kString, false},
      {"seq", ColumnType::kInt64, false},     {"site", ColumnType::kString, true},
      {"area", ColumnType::kString, true},    {"line", ColumnType::kString, true},
      {"asset", ColumnType::kString, false},  {"asset_type", ColumnType::kString, true},
      {"signal", ColumnType::kString, false},
  };
  size_t time_columns = 0;
  while (time_columns < specific.size() &&
         specific[time_columns].type == ColumnType::kTimestampMicros) {
    out.push_back(specific[time_columns++]);
  }
  out.insert(out.end(), context.begin(), context.end());
  out.insert(out.end(), specific.begin() + static_cast<std::ptrdiff_t>(time_columns),
             specific.end());
  return out;
}

const std::array<std::vector<BatchField>, kLakeTableCount>& Schemas() {
  static const auto* schemas = new std::array<std::vector<BatchField>, kLakeTableCount>{
      WithProvenance({{"ts", ColumnType::kTimestampMicros, false},
                      {"unit", ColumnType::kString, true},
                      {"quantity", ColumnType::kString, true},
                      {"value", ColumnType::kDouble, true},
                      {"quality", ColumnType::kInt32, false}}),
      WithProvenance({{"start_ts", ColumnType::kTimestampMicros, false},
                      {"end_ts", ColumnType::kTimestampMicros, false},
                      {"unit", ColumnType::kString, true},
                      {"count", ColumnType::kInt64, false},
                      {"mean", ColumnType::kDouble, true},
                      {"min", ColumnType::kDouble, true},
                      {"max", ColumnType::kDouble, true},
                      {"std", ColumnType::kDouble, true},
                      {"last", ColumnType::kDouble, true},
                      {"quality", ColumnType::kInt32, false}}),
      WithProvenance({{"ts", ColumnType::kTimestampMicros, false},
                      {"kind", ColumnType::kString, false},
                      {"source", ColumnType::kString, true},
                      {"value", ColumnType::kDouble, true},
                      {"threshold", ColumnType::kDouble, true},
                      {"message", ColumnType::kString, true}}),
      WithProvenance({{"ts", ColumnType::kTimestampMicros, false},
                      {"model", ColumnType::kString, false},
                      {"model_version", ColumnType::kString, true},
                      {"value", ColumnType::kDouble, true},
                      {"threshold", ColumnType::kDouble, true},
                      {"message", ColumnType::kString, true}}),
      // actions: the loop's asset is its own context (an action carries no signal id).
      {{"date", ColumnType::kDate, false},         {"ts", ColumnType::kTimestampMicros, false},
       {"edge", ColumnType::kString, false},       {"stream", ColumnType::kString, false},
       {"seq", ColumnType::kInt64, false},         {"site", ColumnType::kString, true},
       {"line", ColumnType::kString, true},        {"asset", ColumnType::kString, true},
       {"loop", ColumnType::kString, false},       {"signal", ColumnType::kString, true},
       {"kind", ColumnType::kString, false},       {"mode", ColumnType::kString, true},
       {"requested", ColumnType::kDouble, true},   {"before", ColumnType::kDouble, true},
       {"after", ColumnType::kDouble, true},       {"reason", ColumnType::kString, true},
       {"source", ColumnType::kString, true},      {"source_version", ColumnType::kString, true},
       {"approved_by", ColumnType::kString, true}, {"proposal_id", ColumnType::kString, true}},
      // work_orders: date is the UTC day of event_ts (the alert's time).
      {{"date", ColumnType::kDate, false},
       {"event_ts", ColumnType::kTimestampMicros, false},
       {"opened_ts", ColumnType::kTimestampMicros, false},
       {"closed_ts", ColumnType::kTimestampMicros, false},
       {"recorded_ts", ColumnType::kTimestampMicros, false},
       {"id", ColumnType::kString, false},
       {"site", ColumnType::kString, true},
       {"area", ColumnType::kString, true},
       {"line", ColumnType::kString, true},
       {"asset", ColumnType::kString, false},
       {"alert_id", ColumnType::kString, true},
       {"outcome", ColumnType::kString, false},
       {"minutes", ColumnType::kDouble, false},
       {"note", ColumnType::kString, true},
       {"principal", ColumnType::kString, false}},
  };
  return *schemas;
}

}  // namespace

std::string_view LakeTableName(LakeTableId t) {
  switch (t) {
    case LakeTableId::kTelemetry: return "telemetry";
    case LakeTableId::kAggregates: return "aggregates";
    case LakeTableId::kEvents: return "events";
    case LakeTableId::kPredictions: return "predictions";
    case LakeTableId::kActions: return "actions";
    case LakeTableId::kWorkOrders: return "work_orders";
  }
  return "unknown";
}

const std::vector<lake::BatchField>& LakeTableSchema(LakeTableId t) {
  return Schemas()[static_cast<size_t>(t)];
}

std::string LakeTablePath(std::string_view root, LakeTableId t) {
  std::string out(root);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out + "/" + std::string(LakeTableName(t));
}

std::string NewRowId(std::string_view prefix, int64_t now_us) {
  unsigned char raw[4];
  std::string out = std::string(prefix) + std::to_string(now_us) + "-";
  if (RAND_bytes(raw, sizeof raw) != 1) return out + "00000000";  // the µs part still orders it
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char b : raw) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void AppendTextOrNull(lake::Column& c, const std::string& v) {
  if (v.empty()) {
    c.AppendNull();
  } else {
    c.AppendString(v);
  }
}

bool IsAlertEvent(std::string_view kind, std::string_view source) {
  if (kind == "quality" || kind == "comm_loss") return false;
  if (source == "sparkplug" || source == "json" || source == "pipeline") return false;
  return source.rfind("modbus://", 0) != 0;
}

Status EnsureTables(std::string_view root, const Clock* clock) {
  for (int i = 0; i < kLakeTableCount; ++i) {
    const auto id = static_cast<LakeTableId>(i);
    const std::string path = LakeTablePath(root, id);
    WEFT_ASSIGN_OR_RETURN(auto table, lake::LakeTable::Open(path, clock, /*create_location=*/true));
    Status s = table->Create(LakeTableSchema(id), {"date"});
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      return s.WithContext("lake table " + path);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<lake::LakeTable>> OpenTable(std::string_view root, LakeTableId t,
                                                   const Clock* clock) {
  return lake::LakeTable::Open(LakeTablePath(root, t), clock);
}

}  // namespace weft::core

#include "mlops/monitoring/monitoring_lake.h"

#include <chrono>

namespace weft::mlops {

using lake::BatchField;
using lake::ColumnType;

std::vector<BatchField> MonitoringSchema() {
  return {
      {"date", ColumnType::kDate, false},     {"ts", ColumnType::kTimestampMicros, false},
      {"model", ColumnType::kString, false},  {"model_version", ColumnType::kString, true},
      {"asset", ColumnType::kString, false},  {"check", ColumnType::kString, false},
      {"subject", ColumnType::kString, true}, {"statistic", ColumnType::kString, false},
      {"value", ColumnType::kDouble, true},   {"level", ColumnType::kString, false},
      {"score", ColumnType::kDouble, true},   {"action", ColumnType::kString, false},
  };
}

lake::RecordBatch MonitoringBatch(const std::vector<CheckResult>& results) {
  lake::RecordBatch batch(MonitoringSchema());
  for (const CheckResult& r : results) {
    const auto day = std::chrono::floor<std::chrono::days>(r.ts);
    batch.column(0).AppendInt(day.time_since_epoch().count());
    batch.column(1).AppendInt(UnixMicros(r.ts));
    batch.column(2).AppendString(r.model);
    batch.column(3).AppendString(r.model_version);
    batch.column(4).AppendString(r.asset);
    batch.column(5).AppendString(r.check);
    batch.column(6).AppendString(r.subject);
    batch.column(7).AppendString(r.statistic);
    batch.column(8).AppendDouble(r.value);
    batch.column(9).AppendString(LevelName(r.level));
    batch.column(10).AppendDouble(r.score);
    batch.column(11).AppendString(ActionName(r.action));
  }
  return batch;
}

Status AppendMonitoringResults(lake::LakeTable& table, const std::vector<CheckResult>& results) {
  if (results.empty()) return Status::Ok();
  Result<std::vector<BatchField>> schema = table.Schema();
  if (!schema.ok()) {
    if (schema.status().code() != StatusCode::kNotFound) {
      return schema.status().WithContext("model_monitoring");
    }
    Status created = table.Create(MonitoringSchema(), {"date"});
    // Another writer may have created it in between: that is fine.
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) {
      return created.WithContext("creating model_monitoring");
    }
  }
  Result<lake::AppendResult> appended = table.Append(MonitoringBatch(results));
  if (!appended.ok()) return appended.status().WithContext("appending to model_monitoring");
  return Status::Ok();
}

}  // namespace weft::mlops

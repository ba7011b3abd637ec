#include "core/kpi/kpi_table.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "lake/lake_table.h"
#include "lake/predicate.h"

namespace weft::core::kpi {
namespace {

using lake::BatchField;
using lake::ColumnType;

void AppendNumber(lake::Column& c, const std::optional<double>& v) {
  if (v && std::isfinite(*v)) {
    c.AppendDouble(*v);
  } else {
    c.AppendNull();
  }
}

int64_t DayNumber(int64_t us) {
  return DayOf(TimeFromUnixMicros(us)).time_since_epoch().count();
}

std::string DayText(int64_t us) {
  return FormatDate(DayOf(TimeFromUnixMicros(us)));
}

auto KeyOf(const KpiRow& r) {
  return std::tie(r.period_start_us, r.period_end_us, r.site, r.area, r.line, r.asset, r.shift,
                  r.use_case, r.kpi);
}

auto OrderOf(const KpiRow& r) {
  return std::tie(r.period_start_us, r.site, r.area, r.line, r.asset, r.shift, r.use_case, r.kpi,
                  r.period_end_us, r.computed_us, r.run_id);
}

}  // namespace

const std::vector<BatchField>& KpiTableSchema() {
  static const auto* schema = new std::vector<BatchField>{
      {"date", ColumnType::kDate, false},
      {"period_start", ColumnType::kTimestampMicros, false},
      {"period_end", ColumnType::kTimestampMicros, false},
      {"computed_ts", ColumnType::kTimestampMicros, false},
      {"site", ColumnType::kString, true},
      {"area", ColumnType::kString, true},
      {"line", ColumnType::kString, true},
      {"asset", ColumnType::kString, true},
      {"shift", ColumnType::kString, true},
      {"use_case", ColumnType::kString, true},
      {"kpi", ColumnType::kString, false},
      {"value", ColumnType::kDouble, true},
      {"unit", ColumnType::kString, true},
      {"coverage", ColumnType::kDouble, true},
      {"detail", ColumnType::kString, true},
      {"run_id", ColumnType::kString, false},
  };
  return *schema;
}

std::string KpiTablePath(std::string_view root) {
  std::string out(root);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out + "/" + kKpiTableName;
}

Status EnsureKpiTable(std::string_view root, const Clock* clock) {
  const std::string path = KpiTablePath(root);
  WEFT_ASSIGN_OR_RETURN(auto table, lake::LakeTable::Open(path, clock, /*create_location=*/true));
  Status s = table->Create(KpiTableSchema(), {"date"});
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
    return s.WithContext("lake table " + path);
  }
  return Status::Ok();
}

std::string NewRunId(const Clock* clock) {
  return NewRowId("run-", UnixMicros(clock->Now()));
}

Result<size_t> AppendKpiRows(std::string_view root, std::vector<KpiRow> rows,
                             std::string_view run_id, const Clock* clock) {
  if (run_id.empty()) return InvalidArgumentError("kpi table: the run id is empty");
  const int64_t now = UnixMicros(clock->Now());
  lake::RecordBatch batch(KpiTableSchema());
  auto col = [&](size_t i) -> lake::Column& { return batch.column(i); };
  for (size_t i = 0; i < rows.size(); ++i) {
    KpiRow& r = rows[i];
    if (r.kpi.empty()) {
      return InvalidArgumentError("kpi table: row " + std::to_string(i) + " has no kpi name");
    }
    if (r.period_end_us < r.period_start_us) {
      return InvalidArgumentError("kpi table: row " + std::to_string(i) + " (" + r.kpi +
                                  ") ends before it starts");
    }
    r.computed_us = now;
    r.run_id = std::string(run_id);
    col(0).AppendInt(DayNumber(r.period_start_us));
    col(1).AppendInt(r.period_start_us);
    col(2).AppendInt(r.period_end_us);
    col(3).AppendInt(r.computed_us);
    AppendTextOrNull(col(4), r.site);
    AppendTextOrNull(col(5), r.area);
    AppendTextOrNull(col(6), r.line);
    AppendTextOrNull(col(7), r.asset);
    AppendTextOrNull(col(8), r.shift);
    AppendTextOrNull(col(9), r.use_case);
    col(10).AppendString(r.kpi);
    AppendNumber(col(11), r.value);
    AppendTextOrNull(col(12), r.unit);
    AppendNumber(col(13), r.coverage);
    AppendTextOrNull(col(14), r.detail);
    col(15).AppendString(r.run_id);
  }
  WEFT_RETURN_IF_ERROR(EnsureKpiTable(root, clock));
  WEFT_ASSIGN_OR_RETURN(auto table, lake::LakeTable::Open(KpiTablePath(root), clock));
  if (batch.num_rows() > 0) {
    WEFT_RETURN_IF_ERROR(table->Append(batch).status().WithContext("lake table kpi"));
  }
  return rows.size();
}

std::vector<KpiRow> LatestRuns(std::vector<KpiRow> rows) {
  // Per key, the row of the latest run: sort by key then (computed_ts, run_id) and keep the last.
  std::sort(rows.begin(), rows.end(), [](const KpiRow& a, const KpiRow& b) {
    if (KeyOf(a) != KeyOf(b)) return KeyOf(a) < KeyOf(b);
    return std::tie(a.computed_us, a.run_id) < std::tie(b.computed_us, b.run_id);
  });
  std::vector<KpiRow> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + 1 < rows.size() && KeyOf(rows[i]) == KeyOf(rows[i + 1])) continue;
    out.push_back(std::move(rows[i]));
  }
  std::sort(out.begin(), out.end(),
            [](const KpiRow& a, const KpiRow& b) { return OrderOf(a) < OrderOf(b); });
  return out;
}

Result<std::vector<KpiRow>> ReadKpiRows(std::string_view root, const KpiQuery& q,
                                        const Clock* clock) {
  Result<std::unique_ptr<lake::LakeTable>> opened =
      lake::LakeTable::Open(KpiTablePath(root), clock);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return NotFoundError("there is no kpi table under " + std::string(root) +
                           " (run `weft kpi compute` first)");
    }
    return opened.status();
  }
  std::vector<std::string> where;
  auto text_eq = [&](const char* column, const std::string& v) {
    if (!v.empty()) where.push_back(std::string(column) + " = " + lake::PredicateLiteral(v));
  };
  text_eq("kpi", q.kpi);
  text_eq("use_case", q.use_case);
  text_eq("site", q.site);
  text_eq("line", q.line);
  text_eq("asset", q.asset);
  if (q.from_us) {
    where.push_back("period_start >= " + lake::PredicateLiteral(FormatTimestampMicros(*q.from_us)));
    where.push_back("date >= " + lake::PredicateLiteral(DayText(*q.from_us)));
  }
  if (q.to_us) {
    if (q.from_us && *q.to_us <= *q.from_us) return std::vector<KpiRow>{};
    where.push_back("period_start < " + lake::PredicateLiteral(FormatTimestampMicros(*q.to_us)));
    where.push_back("date <= " + lake::PredicateLiteral(DayText(*q.to_us - 1)));
  }
  lake::ScanOptions so;
  for (size_t i = 0; i < where.size(); ++i) so.where += (i == 0 ? "" : " and ") + where[i];
  std::vector<KpiRow> out;
  Status scanned = (*opened)->Scan(so, [&](const lake::RecordBatch& b) -> Status {
    std::vector<int> idx;
    for (const BatchField& f : KpiTableSchema()) {
      const int i = b.Find(f.name);
      if (i < 0) return DataLossError("kpi table: the scan has no column '" + f.name + "'");
      idx.push_back(i);
    }
    auto c = [&](size_t k) -> const lake::Column& { return b.column(static_cast<size_t>(idx[k])); };
    auto text = [&](size_t k, size_t r) {
      return c(k).IsValid(r) ? std::string(c(k).StringAt(r)) : std::string();
    };
    auto number = [&](size_t k, size_t r) {
      return c(k).IsValid(r) ? std::optional<double>(c(k).DoubleAt(r)) : std::nullopt;
    };
    for (size_t r = 0; r < b.num_rows(); ++r) {
      KpiRow row;
      row.period_start_us = c(1).IntAt(r);
      row.period_end_us = c(2).IntAt(r);
      row.computed_us = c(3).IntAt(r);
      row.site = text(4, r);
      row.area = text(5, r);
      row.line = text(6, r);
      row.asset = text(7, r);
      row.shift = text(8, r);
      row.use_case = text(9, r);
      row.kpi = text(10, r);
      row.value = number(11, r);
      row.unit = text(12, r);
      row.coverage = number(13, r);
      row.detail = text(14, r);
      row.run_id = text(15, r);
      out.push_back(std::move(row));
    }
    return Status::Ok();
  });
  WEFT_RETURN_IF_ERROR(scanned.WithContext("lake table kpi"));
  if (q.latest_only) return LatestRuns(std::move(out));
  std::sort(out.begin(), out.end(),
            [](const KpiRow& a, const KpiRow& b) { return OrderOf(a) < OrderOf(b); });
  return out;
}

}  // namespace weft::core::kpi

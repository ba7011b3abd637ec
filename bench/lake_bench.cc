// Weft's side of bench/lake_bench.sh: the lake's Parquet writer and filtered scan on narrow
// telemetry rows, timed in-process (DuckDB's side is tests/interop/duckdb_bench.mjs).
//
//   lake_bench write ROWS OUT.parquet                 -> {"engine":"weft","rows":..,"seconds":..}
//   lake_bench scan FILE ASSET FROM TO [REPEAT]       -> {"engine":"weft","rows":..,"sum":..,...}
//
// The rows (the same as duckdb_bench.mjs builds in SQL): row i has asset = i % 46,
// ts = 2026-11-01T00:00:00Z + (i / 46) * 10 s, signal = (i / 46) % 10, site 'site-1',
// line 'line-' + (asset % 4 + 1), edge 'edge-' + (asset % 3 + 1),
// value = round(sin(i * 0.001) * 100 + asset, 3), quality = 0 every 1000th row, else 192.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "lake/parquet/reader.h"
#include "lake/parquet/source.h"
#include "lake/parquet/writer.h"
#include "lake/record_batch.h"

namespace {

using weft::lake::BatchField;
using weft::lake::ColumnType;
using weft::lake::RecordBatch;
namespace pq = weft::lake::parquet;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

RecordBatch MakeRows(int64_t n) {
  RecordBatch b({{"ts", ColumnType::kTimestampMicros, true},
                 {"site", ColumnType::kString, true},
                 {"line", ColumnType::kString, true},
                 {"asset", ColumnType::kString, true},
                 {"signal", ColumnType::kString, true},
                 {"value", ColumnType::kDouble, true},
                 {"quality", ColumnType::kInt32, true},
                 {"edge", ColumnType::kString, true}});
  for (size_t c = 0; c < b.num_columns(); ++c) b.column(c).Reserve(static_cast<size_t>(n));
  const int64_t t0 = int64_t{1'793'491'200} * 1'000'000;
  std::string s;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t asset = i % 46;
    b.column(0).AppendInt(t0 + (i / 46) * 10'000'000);
    b.column(1).AppendString("site-1");
    b.column(2).AppendString("line-" + std::to_string(asset % 4 + 1));
    b.column(3).AppendString("asset-" + std::to_string(asset));
    b.column(4).AppendString("signal-" + std::to_string((i / 46) % 10));
    const double v = std::sin(static_cast<double>(i) * 0.001) * 100 + static_cast<double>(asset);
    b.column(5).AppendDouble(std::round(v * 1000) / 1000);
    b.column(6).AppendInt(i % 1000 == 0 ? 0 : 192);
    b.column(7).AppendString("edge-" + std::to_string(asset % 3 + 1));
  }
  return b;
}

int Write(int64_t rows, const std::string& out) {
  RecordBatch batch = MakeRows(rows);
  std::vector<pq::Field> fields;
  for (const BatchField& f : batch.fields()) {
    fields.push_back(pq::Field::Primitive(f.name, f.type, f.nullable));
  }
  std::vector<pq::ColumnView> views;
  for (size_t c = 0; c < batch.num_columns(); ++c) views.push_back(batch.column(c).View());
  const double start = Now();
  auto sink = pq::LocalFileSink::Open(out);
  if (!sink.ok()) {
    std::fprintf(stderr, "lake_bench: %s\n", sink.status().message().c_str());
    return 1;
  }
  auto writer = pq::ParquetWriter::Open(pq::WriterSchema(fields), std::move(sink).value());
  weft::Status st = writer.ok() ? (*writer)->WriteBatch(views) : writer.status();
  if (st.ok()) st = (*writer)->Close();
  const double end = Now();
  if (!st.ok()) {
    std::fprintf(stderr, "lake_bench: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("{\"engine\":\"weft\",\"rows\":%lld,\"seconds\":%.6f}\n",
              static_cast<long long>(rows), end - start);
  return 0;
}

// The scan a dashboard makes: one asset, one day; count and sum of value. Row groups are skipped
// by statistics; ScanFlat evaluates the filters (page statistics, dictionary-level string
// comparison) and decodes value only for matching rows, into buffers reused across row groups.
int Scan(const std::string& file, const std::string& asset, const std::string& from,
         const std::string& to, int repeat) {
  auto t_from = weft::ParseTimestampMicros(from);
  auto t_to = weft::ParseTimestampMicros(to);
  if (!t_from.ok() || !t_to.ok()) {
    std::fprintf(stderr, "lake_bench: bad time range\n");
    return 2;
  }
  double best = 1e300;
  int64_t matched = 0;
  double sum = 0;
  pq::ScanScratch scratch;
  pq::FlatBatch batch;
  for (int k = 0; k < repeat; ++k) {
    const double start = Now();
    auto source = pq::LocalFileSource::Open(file);
    if (!source.ok()) {
      std::fprintf(stderr, "lake_bench: %s\n", source.status().message().c_str());
      return 1;
    }
    auto reader = pq::ParquetReader::Open(std::move(source).value());
    if (!reader.ok()) {
      std::fprintf(stderr, "lake_bench: %s\n", reader.status().message().c_str());
      return 1;
    }
    const std::vector<pq::Predicate> predicates = {
        {"asset", pq::CompareOp::kEq, pq::Value::String(asset)},
        {"ts", pq::CompareOp::kGe, pq::Value::Int64(*t_from)},
        {"ts", pq::CompareOp::kLt, pq::Value::Int64(*t_to)}};
    auto groups = (*reader)->SelectRowGroups(predicates);
    if (!groups.ok()) {
      std::fprintf(stderr, "lake_bench: %s\n", groups.status().message().c_str());
      return 1;
    }
    matched = 0;
    sum = 0;
    const std::vector<std::string> columns = {"value"};
    for (int rg : *groups) {
      weft::Status st = (*reader)->ScanFlat(rg, columns, predicates, &batch, &scratch);
      if (!st.ok()) {
        std::fprintf(stderr, "lake_bench: %s\n", st.message().c_str());
        return 1;
      }
      const pq::FlatColumn& v = batch.columns[0];
      matched += batch.num_rows;
      const double* values = v.values.doubles.data();
      for (size_t r = 0; r < static_cast<size_t>(batch.num_rows); ++r) {
        if (v.IsValid(r)) sum += values[r];
      }
    }
    best = std::min(best, Now() - start);
  }
  std::printf("{\"engine\":\"weft\",\"rows\":%lld,\"sum\":%.6f,\"seconds\":%.6f}\n",
              static_cast<long long>(matched), sum, best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && argc == 4) return Write(std::atoll(argv[2]), argv[3]);
  if (mode == "scan" && (argc == 6 || argc == 7)) {
    return Scan(argv[2], argv[3], argv[4], argv[5], argc == 7 ? std::atoi(argv[6]) : 5);
  }
  std::fprintf(stderr,
               "usage: lake_bench write ROWS OUT.parquet | scan FILE ASSET FROM TO [REPEAT]\n");
  return 2;
}

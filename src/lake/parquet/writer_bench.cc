// Writes N rows of a plant-telemetry table with ParquetWriter and reports the time and size:
//   parquet_writer_bench OUT.parquet [rows=1000000] [zstd|snappy|gzip|none] [level=0: zstd 3]
// The table is the one benchmarked against DuckDB: (ts timestamp, site, line, asset, signal
// strings, value double, quality int32, edge string). Data is generated before timing starts.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "lake/parquet/writer.h"

using namespace weft::lake::parquet;  // NOLINT(google-build-using-namespace): a small tool

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.parquet [rows] [zstd|snappy|gzip|none] [level]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const size_t rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const std::string codec = argc > 3 ? argv[3] : "zstd";
  WriterOptions options;
  options.compression = codec == "snappy" ? Compression::kSnappy
                        : codec == "gzip" ? Compression::kGzip
                        : codec == "none" ? Compression::kUncompressed
                                          : Compression::kZstd;
  if (argc > 4) options.compression_level = std::atoi(argv[4]);

  std::mt19937_64 rng(42);
  std::vector<std::string> sites, lines, assets, signals, edges;
  for (int i = 0; i < 4; ++i) sites.push_back("site-" + std::to_string(i));
  for (int i = 0; i < 24; ++i) lines.push_back("line-" + std::to_string(i));
  for (int i = 0; i < 240; ++i) assets.push_back("asset-" + std::to_string(1000 + i));
  const char* kinds[] = {"temperature", "pressure", "vibration", "current", "speed"};
  for (int i = 0; i < 1200; ++i) {
    signals.push_back("asset-" + std::to_string(1000 + i / 5) + "/" + kinds[i % 5]);
  }
  for (int i = 0; i < 8; ++i) edges.push_back("edge-" + std::to_string(i));

  std::vector<int64_t> ts(rows);
  std::vector<std::string_view> site(rows), line(rows), asset(rows), signal(rows), edge(rows);
  std::vector<double> value(rows);
  std::vector<int32_t> quality(rows);
  std::vector<double> level(signals.size(), 50.0);
  int64_t t = 1764000000000000;
  for (size_t r = 0; r < rows; ++r) {
    const size_t s = rng() % signals.size();
    const size_t a = s / 5;
    t += static_cast<int64_t>(rng() % 2000);
    ts[r] = t;
    signal[r] = signals[s];
    asset[r] = assets[a];
    line[r] = lines[a % lines.size()];
    site[r] = sites[a % sites.size()];
    edge[r] = edges[a % edges.size()];
    level[s] += (static_cast<double>(rng() % 2001) - 1000.0) / 1000.0;
    value[r] = static_cast<double>(static_cast<int64_t>(level[s] * 100)) / 100.0;
    quality[r] = rng() % 100 == 0 ? 0 : 192;
  }

  WriterSchema schema({Field::Timestamp("ts", false), Field::String("site", false),
                       Field::String("line", false), Field::String("asset", false),
                       Field::String("signal", false), Field::Double("value"),
                       Field::Int32("quality"), Field::String("edge", false)});
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  auto sink = LocalFileSink::Open(out);
  if (!sink.ok()) return std::fprintf(stderr, "%s\n", sink.status().ToString().c_str()), 1;
  auto writer = ParquetWriter::Open(schema, std::move(*sink), options);
  if (!writer.ok()) return std::fprintf(stderr, "%s\n", writer.status().ToString().c_str()), 1;
  const size_t batch = 65536;
  for (size_t b = 0; b < rows; b += batch) {
    const size_t n = std::min(batch, rows - b);
    std::vector<ColumnView> cols = {
        ColumnView::Int64({ts.data() + b, n}),       ColumnView::Strings({site.data() + b, n}),
        ColumnView::Strings({line.data() + b, n}),   ColumnView::Strings({asset.data() + b, n}),
        ColumnView::Strings({signal.data() + b, n}), ColumnView::Double({value.data() + b, n}),
        ColumnView::Int32({quality.data() + b, n}),  ColumnView::Strings({edge.data() + b, n})};
    weft::Status s = (*writer)->WriteBatch(cols);
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  }
  weft::Status s = (*writer)->Close();
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::printf(
      "rows=%zu codec=%s level=%d cpu_seconds=%.3f seconds=%.3f bytes=%lld row_groups=%zu "
      "rows_per_s=%.0f\n",
      rows, codec.c_str(), options.compression_level, cpu, secs,
      static_cast<long long>((*writer)->bytes_written()), (*writer)->metadata().row_groups.size(),
      static_cast<double>(rows) / secs);
  return 0;
}

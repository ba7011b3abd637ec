// libFuzzer target: open arbitrary bytes as a Parquet file and read every row group both ways.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lake/parquet/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::lake::parquet;  // NOLINT(google-build-using-namespace)
  ReaderOptions options;
  options.verify_checksums = (size % 2) == 0;
  // Keep allocations well inside libFuzzer's memory limit.
  options.max_page_bytes = int64_t{16} << 20;
  options.max_page_values = int64_t{1} << 20;
  options.max_footer_bytes = uint64_t{16} << 20;
  auto reader = ParquetReader::Open(
      std::make_unique<MemorySource>(std::string(reinterpret_cast<const char*>(data), size),
                                     "fuzz.parquet"),
      options);
  if (!reader.ok()) return 0;
  const ParquetReader& r = **reader;
  for (int g = 0; g < r.num_row_groups() && g < 64; ++g) {
    (void)r.ReadRows(g);
    if (r.schema().IsFlat()) (void)r.ReadFlat(g);
    (void)r.SelectRowGroups({{r.schema().leaves().empty() ? "x" : r.schema().leaves()[0].path,
                              CompareOp::kEq, Value::Int64(1)}});
  }
  return 0;
}

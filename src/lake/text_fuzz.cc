// libFuzzer target: whatever bytes `weft lake` reads as CSV, JSON Lines, a --where predicate or a
// --schema end in rows or in an error message, never in a crash, a sanitizer report or a leak.
// Rows that parse are written back as CSV and must parse again to the same CSV. Built with
// -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lake/predicate.h"
#include "lake/record_batch.h"
#include "lake/text_io.h"

namespace {

using weft::lake::BatchField;
using weft::lake::ColumnType;

const std::vector<BatchField> kSchema = {{"ts", ColumnType::kTimestampMicros, false},
                                         {"asset", ColumnType::kString},
                                         {"value", ColumnType::kDouble},
                                         {"quality", ColumnType::kInt32},
                                         {"ok", ColumnType::kBoolean},
                                         {"day", ColumnType::kDate}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)weft::lake::ParseSchemaText(text);
  auto predicate = weft::lake::Predicate::Parse(text, kSchema);
  auto csv = weft::lake::ReadCsv(text, kSchema, "fuzz.csv");
  if (csv.ok()) {
    std::string out;
    weft::lake::WriteCsvHeader(csv->fields(), &out);
    weft::lake::WriteCsvRows(*csv, &out);
    auto again = weft::lake::ReadCsv(out, kSchema, "again.csv");
    if (!again.ok()) std::abort();  // what we print must read back
    std::string out2;
    weft::lake::WriteCsvHeader(again->fields(), &out2);
    weft::lake::WriteCsvRows(*again, &out2);
    if (out2 != out) std::abort();
    if (predicate.ok()) (void)predicate->Evaluate(*csv);
  }
  auto jsonl = weft::lake::ReadJsonl(text, kSchema, "fuzz.jsonl");
  if (jsonl.ok()) {
    std::string out;
    weft::lake::WriteJsonlRows(*jsonl, &out);
    if (predicate.ok()) (void)predicate->Evaluate(*jsonl);
  }
  return 0;
}

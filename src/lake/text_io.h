#ifndef WEFT_LAKE_TEXT_IO_H_
#define WEFT_LAKE_TEXT_IO_H_

// CSV and JSON Lines in and out of RecordBatch: the forms `weft lake append --from` reads and
// `weft lake scan --format` prints.
//
// Reading takes the table's schema. CSV needs a header line (RFC 4180 quoting; columns matched by
// name, in any order); JSONL has one object per line. Missing nullable columns are null, an empty
// CSV field or a JSON null is null, unknown columns are refused (with a "did you mean"), and every
// error names the source, line, column and the problem: "rows.csv:14: column 'value': 'abc' is
// not a number". Timestamps are ISO-8601 text (JSON also takes µs since the epoch as a number).
//
// Writing: CSV with a header, timestamps as ISO-8601 UTC with microseconds, doubles in shortest
// round-trip form, an empty field for null; JSONL with the same text forms and JSON null.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/record_batch.h"

namespace weft::lake {

Result<RecordBatch> ReadCsv(std::string_view text, const std::vector<BatchField>& schema,
                            std::string_view source);
Result<RecordBatch> ReadJsonl(std::string_view text, const std::vector<BatchField>& schema,
                              std::string_view source);

void WriteCsvHeader(const std::vector<BatchField>& fields, std::string* out);
void WriteCsvRows(const RecordBatch& batch, std::string* out);
void WriteJsonlRows(const RecordBatch& batch, std::string* out);

}  // namespace weft::lake

#endif  // WEFT_LAKE_TEXT_IO_H_

// libFuzzer target: arbitrary bytes as a commit file, a schema, stats, a partition value, a
// _last_checkpoint and a deletion vector. Every parser must return a Status, never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lake/delta/actions.h"
#include "lake/delta/deletion_vector.h"
#include "lake/delta/log_files.h"
#include "lake/delta/partition.h"
#include "lake/delta/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::lake::delta;  // NOLINT(google-build-using-namespace)
  using weft::Result;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<std::vector<Action>> actions = ParseCommit(text, "fuzz.json");
  if (actions.ok()) {
    // What parses must serialize and parse again to the same thing.
    std::string again = SerializeCommit(*actions);
    Result<std::vector<Action>> reparsed = ParseCommit(again, "again.json");
    if (!reparsed.ok() || SerializeCommit(*reparsed) != again) __builtin_trap();
  }
  Result<Schema> schema = ParseSchema(text);
  if (schema.ok()) (void)ParseSchema(SerializeSchema(*schema));
  (void)ParseFileStats(text);
  (void)ParseLastCheckpoint(text);
  (void)DecodeDeletionVector(text);
  (void)Z85Decode(text.substr(0, size - size % 5));
  for (const char* type : {"date", "timestamp", "decimal(12,3)", "integer", "double"}) {
    Result<DataTypePtr> t = ParsePrimitiveTypeName(type);
    if (t.ok()) (void)ParsePartitionValue(**t, std::string(text));
  }
  return 0;
}

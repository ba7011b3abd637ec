// Interop: DuckDB (tests/interop/node_modules/@duckdb/node-api, an independent Parquet reader)
// reads the checkpoint Weft writes, with the checkpoint schema of PROTOCOL.md. Skipped when
// node or the interop packages are not installed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "lake/delta/table.h"
#include "lake/storage/local_store.h"
#include "testing/test_env.h"

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

std::string InteropDir() {
  const char* src = std::getenv("WEFT_SOURCE_DIR");
  return std::string(src != nullptr ? src : WEFT_SOURCE_DIR_FALLBACK) + "/tests/interop";
}

bool InteropAvailable() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) return false;
  std::ifstream pkg(InteropDir() + "/node_modules/@duckdb/node-api/package.json");
  return pkg.good();
}

// Runs an ES module given as text with the interop folder as working directory (so its
// node_modules resolve) and returns what it printed.
std::string RunNode(const std::string& script) {
  std::string cmd =
      "cd '" + InteropDir() + "' && node --input-type=module -e \"$WEFT_DELTA_JS\" 2>&1";
  ::setenv("WEFT_DELTA_JS", script.c_str(), 1);
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

TEST(DeltaInteropTest, DuckDbReadsWeftCheckpoints) {
  // scripts/setup.sh installs both: their absence is a failure, not a skip.
  ASSERT_TRUE(InteropAvailable())
      << "node or tests/interop/node_modules missing (run scripts/setup.sh)";
  Result<weft::testing::TempDir> dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  Result<std::unique_ptr<LocalObjectStore>> store =
      LocalObjectStore::Open(dir->path() + "/t", {.sync = false});
  ASSERT_TRUE(store.ok());
  DeltaTable table(store->get(), &SystemClock::Default());
  Schema schema;
  schema.fields.push_back({"v", DataType::Primitive(DataType::Kind::kLong), true, {}});
  schema.fields.push_back({"day", DataType::Primitive(DataType::Kind::kDate), true, {}});
  Result<Snapshot> s = table.Create({.schema = schema, .partition_columns = {"day"}});
  ASSERT_TRUE(s.ok());
  for (int i = 1; i <= 10; ++i) {
    AddFile f;
    f.path = "day=2024-01-0" + std::to_string(i % 3 + 1) + "/f" + std::to_string(i) + ".parquet";
    f.partition_values = {{"day", "2024-01-0" + std::to_string(i % 3 + 1)}};
    if (i == 5) f.partition_values = {{"day", std::nullopt}};
    f.size = i;
    f.stats = R"({"numRecords":7})";
    Result<CommitResult> r = table.Append(*s, {f}, Txn{.app_id = "w", .version = i});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    s = table.Latest();
  }
  std::string checkpoint = (*store)->Describe(ClassicCheckpointKey(10));
  std::string out = RunNode(
      "import { DuckDBInstance } from '@duckdb/node-api';\n"
      "const db = await DuckDBInstance.create(':memory:');\n"
      "const c = await db.connect();\n"
      "const f = '" +
      checkpoint +
      "';\n"
      "const q = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();\n"
      "console.log('adds=' + JSON.stringify(await q(`SELECT count(*) AS n, sum(add.size) AS s, "
      "count(*) FILTER (WHERE add.partitionValues['day'] IS NULL) AS nulls "
      "FROM read_parquet('${f}') WHERE add IS NOT NULL`)));\n"
      "console.log('protocol=' + JSON.stringify(await q(`SELECT protocol.minReaderVersion AS r, "
      "protocol.minWriterVersion AS w FROM read_parquet('${f}') WHERE protocol IS NOT NULL`)));\n"
      "console.log('meta=' + JSON.stringify(await q(`SELECT metaData.partitionColumns AS pc "
      "FROM read_parquet('${f}') WHERE metaData IS NOT NULL`)));\n"
      "console.log('txn=' + JSON.stringify(await q(`SELECT txn.appId AS a, txn.version AS v "
      "FROM read_parquet('${f}') WHERE txn IS NOT NULL`)));\n");
  EXPECT_THAT(out, HasSubstr(R"(adds=[{"n":"10","s":"55","nulls":"1"}])")) << out;
  EXPECT_THAT(out, HasSubstr(R"(protocol=[{"r":1,"w":2}])")) << out;
  EXPECT_THAT(out, HasSubstr(R"(meta=[{"pc":["day"]}])")) << out;
  EXPECT_THAT(out, HasSubstr(R"(txn=[{"a":"w","v":"10"}])")) << out;
}

}  // namespace
}  // namespace weft::lake::delta

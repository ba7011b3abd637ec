// The core's data and governance from the command line (the same libraries as the API):
//
//   weft query VIEW --from ISO --to ISO [--asset A] [--format csv|jsonl|parquet]
//              [--lake DIR] [--views FILE] [--plant FILE] [--out FILE]
//   weft audit verify DIR
//   weft catalog signals [--tag k=v,k2=v2] [--state DIR]
//
// `weft query` reads a schema-on-read view (src/core/views) from the lake's telemetry table and
// writes it to stdout (or --out). --views defaults to examples/views.yaml, --lake to
// $TMPDIR/weft-demo/lake (where `weft demo` writes), --plant (optional) lets a view of an asset
// type also read its subtypes. The local CLI reads the files directly: whoever can read the lake
// directory may read it all; access control applies to the API (`/api/v1`).
// `weft catalog signals` lists the catalogued signals whose effective tags match every k=v
// (all signals without --tag), as CSV with their tags; --state is weft-core's state directory
// (default $TMPDIR/weft-demo/core-state, where `weft demo` keeps it).
// `weft audit verify` checks the audit log's hash chain: exit 0 when intact, 1 when it is
// tampered or incomplete, with the first bad line named.
#ifndef WEFT_CLI_CORE_CLI_H_
#define WEFT_CLI_CORE_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct QueryArgs {
  std::string view, from, to, asset, format = "csv", lake, views = "examples/views.yaml", plant,
                                     out;
};
struct AuditArgs {
  std::string dir;
};
struct CatalogArgs {
  std::string tags, state;
};

CLI::App* AddQueryCommand(CLI::App& app, QueryArgs* args);
int RunQuery(const QueryArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);
CLI::App* AddAuditCommands(CLI::App& app, AuditArgs* args);
int RunAudit(const AuditArgs& args, std::ostream& out, std::ostream& err);
CLI::App* AddCatalogCommands(CLI::App& app, CatalogArgs* args);
int RunCatalog(const CatalogArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_CORE_CLI_H_

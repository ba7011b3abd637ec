// Versioned digital twins from the command line (src/mlops/twins):
//
//   weft twin list [NAME] [--state DIR] [--json]
//   weft twin show NAME [VERSION] [--state DIR] [--json]        (default: the latest version)
//   weft twin calibrate SPEC.yaml [--state DIR] [--by WHO] [--json]
//   weft twin compare NAME V1 V2 [--data SPEC.yaml] [--state DIR] [--json]
//
// --state is weft-core's state directory holding twins.db (default $TMPDIR/weft-demo/core-state).
// `calibrate` fits the spec's parameters to the lake's telemetry and registers the next version;
// `compare` prints parameter and fit metric differences, and with --data the RMSE of both
// versions on the series a calibration spec describes. Exit codes as in cli.h.
#ifndef WEFT_CLI_TWIN_CLI_H_
#define WEFT_CLI_TWIN_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct TwinArgs {
  std::string command;  //!< "list", "show", "calibrate" or "compare" (set by the parser)
  std::string name, version, version_b, spec, data, state, by;
  bool json = false;
};

CLI::App* AddTwinCommands(CLI::App& app, TwinArgs* args);
int RunTwin(const TwinArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_TWIN_CLI_H_

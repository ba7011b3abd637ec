// Closed-loop control governance and work orders from the command line, through weft-core's API:
//
//   weft control approve LOOP --edge E --mode supervised|autonomous [--role R]   --api URL ...
//   weft control mode LOOP --edge E --mode shadow|supervised|autonomous           --api URL ...
//   weft control approve-proposal LOOP ID --edge E                                --api URL ...
//   weft control grant-key [--out FILE]                                           --api URL ...
//   weft workorder close --asset A --at TS --outcome confirmed_fault|false_alarm --minutes N
//                        [--alert ID] [--opened TS] [--note TEXT]                 --api URL ...
//
// Every command goes through the API (--api https://HOST:PORT) so that access control, the
// two-role approval rule and the audit log apply (src/core/api/control_routes.h). The token comes
// from the environment variable WEFT_TOKEN only and is never printed; the server's certificate is
// checked against --ca (PEM), else the system's trust store; --insecure skips the check with a
// warning. --json prints the API's answer. `mode` refused for lack of approvals exits 1 with the
// API's message naming what is missing. `grant-key` prints the PEM (or writes it to --out).
//
// Thread-safety: RunControl / RunWorkOrder are not meant to run concurrently with themselves.
#ifndef WEFT_CLI_CONTROL_CLI_H_
#define WEFT_CLI_CONTROL_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace weft::cli {

struct ControlArgs {
  std::string command;  //!< approve, mode, approve-proposal, grant-key, close (set when parsed)
  std::string loop, proposal, edge, mode, role, out_file;
  // workorder close
  std::string asset, at, outcome, alert, opened, note;
  double minutes = -1;
  // API
  std::string api, ca;
  bool insecure = false;
  bool json = false;
};

//! Adds `weft control` and its subcommands.
CLI::App* AddControlCommands(CLI::App& app, ControlArgs* args);
//! Adds `weft workorder close`.
CLI::App* AddWorkOrderCommands(CLI::App& app, ControlArgs* args);
//! Runs the parsed subcommand of either. Exit codes as cli.h: 0, 1 (refused / failed), 2 (usage).
int RunControl(const ControlArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_CONTROL_CLI_H_

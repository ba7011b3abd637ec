// The governance board from the command line, through weft-core's API:
//
//   weft governance policies                                              --api URL ...
//   weft governance pending                                               --api URL ...
//   weft governance approve DECISION SUBJECT [--role R] [--note TEXT]     --api URL ...
//   weft governance show DECISION SUBJECT                                 --api URL ...
//
//   weft governance approve firmware_release gw-200/1.4.0 --note "CVE fixed" --api
//   https://core:8443
//
// DECISION is model_promotion (SUBJECT <model>/<version>), firmware_release
// (<hardware_model>/<version>) or control_write_mode (<edge>/<loop>/<mode>). Every command goes
// through the API so that access control, the policy's roles and the audit log apply
// (src/core/governance/governance_routes.h). The token comes from $WEFT_TOKEN only and is never
// printed; --ca / --insecure as for `weft control`. --json prints the API's answer. A refused
// approval exits 1 with the API's message.
//
// Thread-safety: RunGovernance is not meant to run concurrently with itself.
#ifndef WEFT_CLI_GOVERNANCE_CLI_H_
#define WEFT_CLI_GOVERNANCE_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace weft::cli {

struct GovernanceArgs {
  std::string command;  //!< policies, pending, approve, show (set when parsed)
  std::string decision, subject, role, note;
  std::string api, ca;
  bool insecure = false;
  bool json = false;
};

//! Adds `weft governance` and its subcommands.
CLI::App* AddGovernanceCommands(CLI::App& app, GovernanceArgs* args);
//! Runs the parsed subcommand. Exit codes as cli.h: 0, 1 (refused / failed), 2 (usage).
int RunGovernance(const GovernanceArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_GOVERNANCE_CLI_H_

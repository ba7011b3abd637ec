// Zero-touch provisioning from the command line, through weft-core's API:
//
//   weft fleet allowlist add --serial SN --device ID --site SITE --hardware-model HW  --api URL
//   weft fleet allowlist list                                                          --api URL
//   weft fleet claim-token --serial SN [--ttl 24h]                                     --api URL
//   weft fleet devices                                                                 --api URL
//   weft fleet revoke DEVICE --reason TEXT                                             --api URL
//   weft fleet broker-config --state DIR          (local: where the broker's files are)
//
// The token comes from $WEFT_TOKEN only (never a flag, never printed); --ca / --insecure as in
// api_client.h; --json prints the API's answer. `claim-token` prints the token once: it is
// stored hashed by the core and cannot be shown again.
//
// Thread-safety: RunFleet is not meant to run concurrently with itself.
#ifndef WEFT_CLI_FLEET_CLI_H_
#define WEFT_CLI_FLEET_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace weft::cli {

struct FleetArgs {
  std::string command;  //!< allowlist-add, allowlist-list, claim-token, devices, revoke,
                        //!< broker-config (set when parsed)
  std::string serial, device, site, hardware_model, ttl = "24h", reason, state;
  std::string api, ca;
  bool insecure = false;
  bool json = false;
};

//! Adds `weft fleet` and its subcommands.
CLI::App* AddFleetCommands(CLI::App& app, FleetArgs* args);
//! Runs the parsed subcommand. Exit codes as cli.h: 0, 1 (refused / failed), 2 (usage).
int RunFleet(const FleetArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_FLEET_CLI_H_

// The model registry from the command line:
//
//   weft model list                     [--state DIR] [--json]
//   weft model show NAME [VERSION]      [--state DIR] [--json]
//   weft model verify NAME VERSION      [--state DIR]
//   weft model approve NAME VERSION [--role ROLE] [--comment TEXT]  --api URL [--ca
//   FILE|--insecure] weft model promote NAME VERSION ALIAS                           --api URL
//   [--ca FILE|--insecure] weft model rollback NAME ALIAS                                  --api
//   URL [--ca FILE|--insecure]
//
// list, show and verify read weft-core's state directory directly (--state, default
// $TMPDIR/weft-demo/core-state, as `weft catalog`): whoever can read the directory reads the
// registry. verify re-hashes the artifact and checks its Ed25519 signature: exit 0 when intact,
// 1 when refused (the message names the file and the digests).
// approve, promote and rollback change the registry only through weft-core's API
// (--api https://HOST:PORT), so that access control, the approval quorum and the audit log
// apply. The API token comes from the environment variable WEFT_TOKEN only (a flag would show in
// `ps`), and is never printed. The server's certificate is checked against --ca (PEM), else the
// system's trust store; --insecure skips the check (self-signed demo certificates) with a warning.
// Results print as a table, or as JSON with --json.
//
// Thread-safety: RunModel is not meant to run concurrently with itself.
#ifndef WEFT_CLI_MODEL_CLI_H_
#define WEFT_CLI_MODEL_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct ModelArgs {
  std::string command;  //!< list, show, verify, approve, promote or rollback (set when parsed)
  std::string name, version, alias, role, comment;
  std::string state;  //!< local commands; "" = $TMPDIR/weft-demo/core-state
  std::string api;    //!< API commands: https://host:port
  std::string ca;     //!< PEM file of the CA that signed the API's certificate
  bool insecure = false;
  bool json = false;
};

//! Adds `weft model` and its subcommands.
CLI::App* AddModelCommands(CLI::App& app, ModelArgs* args);
//! Runs the parsed subcommand. Exit codes as cli.h: 0, 1 (refused / invalid), 2 (usage).
int RunModel(const ModelArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_MODEL_CLI_H_

// Signed OTA campaigns, the living registry and the compliance SLA from the command line,
// through weft-core's API (src/core/ota/ota_routes.h):
//
//   weft ota artifact upload FILE --kind firmware|edge_config|model --name N --version V
//                                 --hardware-models gw-200,gw-100               --api URL ...
//   weft ota artifact list
//   weft ota campaign create --name N --artifact SHA256 [--site S]... [--hardware-model H]...
//                            [--firmware V]... [--waves 1,10%,50%,100%] [--success-threshold 0.95]
//                            [--error-threshold 0.2] [--health-timeout 30] [--device-timeout 3600]
//                            [--latency-budget-us N]
//   weft ota campaign start|pause|resume|cancel ID
//   weft ota campaign show ID [--devices]        weft ota campaign list
//   weft ota compliance [--hardware-model H] [--release V] [--target 0.95] [--days 14]
//   weft ota hw certify NAME [--revoke] [--notes T]     weft ota hw list
//   weft ota firmware add HW VERSION [--notes T]        weft ota firmware certify HW VERSION
//   weft ota firmware status HW VERSION candidate|deprecated|vulnerable [--notes T]
//   weft ota firmware list [--hardware-model H]
//   weft ota bench [--hardware-model H] [--model M]
//   weft ota signing-key [--out FILE]
//
// Every command takes --api https://HOST:PORT, --ca PEM, --insecure and --json as the other API
// commands do (api_client.h; the token comes from $WEFT_TOKEN only). A refusal (e.g. a firmware
// certification the board has not approved, a model campaign over its latency budget) exits 1
// with the API's message.
//
// Thread-safety: RunOta is not meant to run concurrently with itself.
#ifndef WEFT_CLI_OTA_CLI_H_
#define WEFT_CLI_OTA_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"

namespace weft::cli {

struct OtaArgs {
  std::string command;  //!< "artifact upload", "campaign start", "compliance", ... (when parsed)
  std::string file, kind, name, version, hardware_models, artifact, id, hardware_model, release,
      status, notes, model, out_file;
  std::vector<std::string> sites, target_hardware_models, firmware;
  std::string waves;
  double success_threshold = -1, error_threshold = -1, target = 0.95, days = 14;
  int64_t health_timeout_s = 0, device_timeout_s = 0, latency_budget_us = 0;
  bool devices = false, revoke = false;
  // API
  std::string api, ca;
  bool insecure = false;
  bool json = false;
};

//! Adds `weft ota` and its subcommands.
CLI::App* AddOtaCommands(CLI::App& app, OtaArgs* args);

//! The API request a parsed command makes (the upload's body is the file's bytes).
struct OtaRequest {
  std::string method, path, body;
};
Result<OtaRequest> BuildOtaRequest(const OtaArgs& args);

//! Runs the parsed subcommand. Exit codes as cli.h: 0, 1 (refused / failed), 2 (usage).
int RunOta(const OtaArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_OTA_CLI_H_

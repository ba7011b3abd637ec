// The demo's device fleet (`weft demo`, issue 11): a small real fleet behind the dashboard's
// Fleet and Governance pages, made only through real processes and weft-core's API.
//
//   DemoFleetContext ctx{.dir = dir, .bin = bin, .core_state = dir / "core-state",
//                        .plant_broker = "127.0.0.1:1883", .plant = dir / "plant.yaml",
//                        .inference = inference_section,
//                        .run = run_to_completion, .start = start_for_the_demos_life};
//   WEFT_ASSIGN_OR_RETURN(std::vector<std::string> extra, PrepareDemoFleet(ctx));
//   core_argv.insert(core_argv.end(), extra.begin(), extra.end());   // then start weft-core
//   ... once its API answers ...
//   WEFT_ASSIGN_OR_RETURN(DemoFleetSummary s, StartDemoFleet(ctx, api, admin_token, out));
//
// PrepareDemoFleet (before weft-core): `weft-sim factory` identities of every batch of
// DefaultDemoFleetPlan() under DIR/fleet/factory (one manufacturer CA), and the port of the
// fleet's mutual-TLS broker (kept in DIR/fleet/broker.port: the devices' stored identities name
// it). Returns weft-core's extra arguments: --manufacturer-ca and --broker-listen.
//
// StartDemoFleet (after weft-core's API answers):
//   1. mosquitto with weft-core's <state>/broker/mosquitto.conf plus a bridge to the plant
//      broker weft-core listens on (device reports out, `cmd/ota` in): weft-core has one MQTT
//      connection, to the plant broker, and the devices are on the mTLS one;
//   2. principals sam (security_lead), otto (ot_engineer), dana (data_scientist), olga
//      (ops_manager): EnsureDemoPeople, tokens in DIR/tokens/<id>.token;
//   3. otto certifies the hardware models and allowlists every serial;
//   4. with an `inference` section: two weft-edge gateways (one per hardware model) provision
//      themselves, and model campaigns send them every registry version of `model`; their OTA
//      health check benchmarks it and reports the latency (`GET /api/v1/ota/bench`). The
//      weft-sim devices do not benchmark (their simulated firmware only records versions);
//   5. `weft-sim fleet --mqtt` provisions the simulated devices zero-touch and keeps them
//      online; StartDemoFleet waits until the core's inventory has every device's state;
//   Once per DIR (DIR/fleet/setup.done), then:
//   6. sam revokes the plan's `revoked` device;
//   7. otto uploads firmware 1.1.0 (both hardware models); sam and otto approve its release on
//      the governance board; otto certifies it and starts one campaign per site in waves: the
//      first site's completes, the second's pauses at its error threshold (its failing devices
//      roll back);
//   8. otto uploads firmware 1.2.0 for edge-gw-3 and requests its release; sam approves as
//      security_lead: it stays pending, waiting for an OT engineer.
// A later run on the same DIR runs steps 1-5 again (the broker, the gateways and the devices,
// with the identities and tokens they kept; no new campaign) and leaves the revoked device out.
// Outcome: the first site's campaign completes, the second pauses in its wave 4 of 6; with
// install_seconds 10 the first takes about a minute, without it a few seconds.
//
// Waits poll real processes with the steady clock (bounded: 60 s for the fleet's state).
// Thread-safety: the functions are not reentrant for one DIR; different DIRs are independent.
#ifndef WEFT_CLI_DEMO_FLEET_H_
#define WEFT_CLI_DEMO_FLEET_H_

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api_client.h"
#include "common/status.h"

namespace weft::cli {

struct DemoFleetContext {
  std::filesystem::path dir;  //!< the demo's directory; the fleet's files go under dir/"fleet"
  std::filesystem::path bin;  //!< weft-sim and weft-edge live here
  std::filesystem::path core_state;  //!< weft-core's --state (its broker/ and tls/ files)
  std::string plant_broker;          //!< HOST:PORT of the plain broker weft-core's --broker names
  std::filesystem::path plant;       //!< the demo's plant.yaml (the gateways' edge.yaml names it)
  //! The demo model's `inference:` section of edge.yaml (as demo_cli.cc writes it); "" = no
  //! gateways, no benchmarks.
  std::string inference;
  std::string model = "bearing_risk";  //!< the registry model the gateways benchmark
  //! Seconds a simulated firmware install takes (`weft-sim fleet --install-seconds`, passed
  //! when > 0): paces the firmware campaigns so that a person can watch their waves.
  double install_seconds = 0;
  //! Runs a program to completion; its exit code (stdout/stderr to the demo's logs/<name>.*).
  std::function<Result<int>(const std::string& name, const std::vector<std::string>& argv)> run;
  //! Starts a long-running program that the demo stops at exit (reverse order of start).
  std::function<Status(const std::string& name, const std::vector<std::string>& argv)> start;
};

//! One `weft-sim factory` batch: `count` devices of one hardware model at one site, ids
//! <prefix>0001..., serials <serial_prefix>000001...
struct DemoFleetBatch {
  std::string name;  //!< its directory under DIR/fleet/factory
  std::string site, hardware_model, prefix, serial_prefix;
  int count = 0;
  bool gateway = false;  //!< run by weft-edge (benchmarks models) instead of weft-sim fleet
};

struct DemoFleetPlan {
  std::vector<DemoFleetBatch> batches;
  std::vector<std::string> failing;  //!< device ids whose post-install health check fails
  std::string revoked;               //!< device id revoked once provisioned
  std::vector<std::string> sites;    //!< one firmware campaign per site, in this order
};

//! 24 weft-sim devices (lyon: 8 edge-gw-2 + 4 edge-gw-3; brno: 8 edge-gw-3 + 4 edge-gw-2),
//! two weft-edge gateways (lyon-edge-0001 edge-gw-2, brno-edge-0001 edge-gw-3), three failing
//! health checks at brno, lyon-gw2-0008 revoked.
DemoFleetPlan DefaultDemoFleetPlan();

//! The device id of a batch's `index`-th device (1-based): <prefix>%04d.
std::string DemoDeviceId(const DemoFleetBatch& b, int index);

//! The fleet broker's mosquitto.conf: weft-core's generated text, then a bridge (connection
//! named after `bridge_id`) to `plant_broker` (HOST:PORT) carrying weft/v1/edge/+/{ota/status,
//! state,bench} out and weft/v1/edge/+/cmd/ota in. InvalidArgument for a plant broker that is
//! not HOST:PORT or a generated text without a listener.
Result<std::string> FleetBrokerConf(std::string_view generated, std::string_view plant_broker,
                                    std::string_view bridge_id);

//! The allowlist.csv of several factory batches (their texts, header first in each) as one,
//! without the devices in `exclude`. DataLoss naming the batch for a text without the header.
Result<std::string> MergeAllowlists(const std::vector<std::string>& texts,
                                    const std::set<std::string>& exclude);

//! The devices of `ids` that GET /api/v1/ota/devices (`inventory`) shows with a firmware version.
std::set<std::string> ReportingDevices(const nlohmann::json& inventory,
                                       const std::set<std::string>& ids);

//! The demo's people: sam (security_lead), otto (ot_engineer), dana (data_scientist) and olga
//! (ops_manager). Each exists with its role on "*" and has a working token in
//! <token_dir>/<id>.token (0600): the one kept there while the API accepts it, else a new one.
//! Returns id -> token (never printed). `admin` carries the core's admin token.
Result<std::map<std::string, std::string>> EnsureDemoPeople(const ApiTarget& admin,
                                                            const std::filesystem::path& token_dir);

//! PrepareDemoFleet: see the top of the file.
Result<std::vector<std::string>> PrepareDemoFleet(const DemoFleetContext& ctx);

struct DemoFleetSummary {
  std::string broker_url;              //!< mqtts://127.0.0.1:PORT
  int devices = 0;                     //!< devices reporting their state (gateways included)
  int gateways = 0;                    //!< weft-edge gateways among them
  std::string revoked;                 //!< the revoked device
  std::vector<std::string> campaigns;  //!< "c2 firmware 1.1.0 lyon", ...
  std::string pending;                 //!< "firmware_release edge-gw-3/1.2.0"
  bool kept = false;                   //!< set up by an earlier run on this DIR
  double seconds = 0;                  //!< StartDemoFleet's wall time
};

//! StartDemoFleet: see the top of the file. `api` names weft-core's API and CA (its token is
//! ignored); `admin_token` is the core's admin token. Prints a few lines on `out` (never a token).
Result<DemoFleetSummary> StartDemoFleet(const DemoFleetContext& ctx, const ApiTarget& api,
                                        const std::string& admin_token, std::ostream& out);

}  // namespace weft::cli

#endif  // WEFT_CLI_DEMO_FLEET_H_

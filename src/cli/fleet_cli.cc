#include "cli/fleet_cli.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "common/status.h"
#include "common/time_format.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

CLI::App* AddFleetCommands(CLI::App& app, FleetArgs* a) {
  CLI::App* cmd = app.add_subcommand("fleet",
                                     "Zero-touch provisioning: allowlist, claim tokens, "
                                     "devices, revocation (via API)");
  cmd->require_subcommand(1);
  CLI::App* allow = cmd->add_subcommand("allowlist", "Factory serials allowed to onboard");
  allow->require_subcommand(1);
  CLI::App* add = allow->add_subcommand("add", "Allow a factory serial, and name its device");
  add->parse_complete_callback([a] { a->command = "allowlist-add"; });
  add->add_option("--serial", a->serial, "factory serial (certificate serialNumber)")->required();
  add->add_option("--device", a->device, "device id it becomes ([A-Za-z0-9._-], <= 64)")
      ->required();
  add->add_option("--site", a->site, "site id (the device's scope)")->required();
  add->add_option("--hardware-model", a->hardware_model,
                  "hardware model (must match the factory certificate's OU)")
      ->required();
  AddApiOptions(add, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* list = allow->add_subcommand("list", "List the allowlist");
  list->parse_complete_callback([a] { a->command = "allowlist-list"; });
  AddApiOptions(list, &a->api, &a->ca, &a->insecure, &a->json);

  CLI::App* token = cmd->add_subcommand("claim-token", "A one-time claim token for a serial");
  token->parse_complete_callback([a] { a->command = "claim-token"; });
  token->add_option("--serial", a->serial, "an allowlisted serial")->required();
  token->add_option("--ttl", a->ttl, "lifetime, e.g. 30m, 24h (at most 30 days)");
  AddApiOptions(token, &a->api, &a->ca, &a->insecure, &a->json);

  CLI::App* devices = cmd->add_subcommand("devices", "List provisioned devices");
  devices->parse_complete_callback([a] { a->command = "devices"; });
  AddApiOptions(devices, &a->api, &a->ca, &a->insecure, &a->json);

  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a device (for good): CRL, ACL, broker");
  revoke->parse_complete_callback([a] { a->command = "revoke"; });
  revoke->add_option("device", a->device, "device id")->required();
  revoke->add_option("--reason", a->reason, "why (recorded and audited)")->required();
  AddApiOptions(revoke, &a->api, &a->ca, &a->insecure, &a->json);

  CLI::App* broker =
      cmd->add_subcommand("broker-config", "Where weft-core wrote the fleet broker's files");
  broker->parse_complete_callback([a] { a->command = "broker-config"; });
  broker->add_option("--state", a->state, "weft-core's state directory")->required();
  return cmd;
}

int RunFleet(const FleetArgs& a, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message, int code) {
    err << "weft fleet: " << message << "\n";
    return code;
  };
  if (a.command == "broker-config") {
    const std::string dir = a.state + "/broker";
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/mosquitto.conf", ec)) {
      return fail(dir +
                      "/mosquitto.conf does not exist: start weft-core with --broker-listen "
                      "HOST:PORT to write it",
                  kExitInvalidInput);
    }
    out << "mosquitto config: " << dir << "/mosquitto.conf\n"
        << "fleet CA:         " << dir << "/ca.pem\n"
        << "server cert/key:  " << dir << "/server.pem " << dir << "/server.key\n"
        << "CRL:              " << dir << "/crl.pem\n"
        << "ACL:              " << dir << "/acl\n"
        << "core client:      " << dir << "/core.pem " << dir << "/core.key\n"
        << "start it with:    mosquitto -c " << dir << "/mosquitto.conf -d\n";
    return kExitOk;
  }
  std::string method = "GET";
  std::string path;
  json body = json::object();
  if (a.command == "allowlist-add") {
    method = "POST";
    path = "/api/v1/fleet/allowlist";
    body = {{"serial", a.serial},
            {"device_id", a.device},
            {"site", a.site},
            {"hardware_model", a.hardware_model}};
  } else if (a.command == "allowlist-list") {
    path = "/api/v1/fleet/allowlist";
  } else if (a.command == "claim-token") {
    Result<Micros> ttl = ParseDuration(a.ttl);
    if (!ttl.ok()) return fail("--ttl: " + ttl.status().message(), kExitUsage);
    method = "POST";
    path = "/api/v1/fleet/claim-tokens";
    body = {{"serial", a.serial},
            {"ttl_s", std::chrono::duration_cast<std::chrono::seconds>(*ttl).count()}};
  } else if (a.command == "devices") {
    path = "/api/v1/fleet/devices";
  } else if (a.command == "revoke") {
    method = "POST";
    path = "/api/v1/fleet/devices/" + PathSegment(a.device) + "/revoke";
    body = {{"reason", a.reason}};
  } else {
    return fail("give a subcommand", kExitUsage);
  }
  Result<ApiAnswer> res = CallApiOk({.api = a.api, .ca = a.ca, .insecure = a.insecure, .token = {}},
                                    method, path, body.dump(), err);
  if (!res.ok()) return fail(res.status().message(), ApiExitCode(res.status()));
  Result<std::optional<json>> answer = ApiObjectReply(*res, a.json, out);
  if (!answer.ok()) return fail(answer.status().message(), kExitInvalidInput);
  if (!answer->has_value()) return kExitOk;
  const json& reply = **answer;
  if (a.command == "allowlist-add") {
    out << "allowed serial " << a.serial << " as device " << a.device << " (site " << a.site
        << ", hardware model " << a.hardware_model << ")\n";
  } else if (a.command == "allowlist-list") {
    const json list = reply.value("allowlist", json::array());
    out << "SERIAL\tDEVICE\tSITE\tHARDWARE_MODEL\tADDED_BY\tADDED_AT\n";
    for (const json& e : list) {
      out << Str(e, "serial") << "\t" << Str(e, "device_id") << "\t" << Str(e, "site") << "\t"
          << Str(e, "hardware_model") << "\t" << Str(e, "added_by") << "\t" << Str(e, "added_at")
          << "\n";
    }
  } else if (a.command == "claim-token") {
    // The only time the token is shown: it goes to stdout alone on its line, for scripts.
    out << reply.value("token", std::string()) << "\n";
    err << "claim token for serial " << a.serial << ", single use, expires "
        << reply.value("expires_at", std::string()) << " (it cannot be shown again)\n";
  } else if (a.command == "devices") {
    const json list = reply.value("devices", json::array());
    out << "DEVICE\tSERIAL\tSITE\tHARDWARE_MODEL\tSTATE\tCERT_NOT_AFTER\n";
    for (const json& d : list) {
      out << Str(d, "id") << "\t" << Str(d, "serial") << "\t" << Str(d, "site") << "\t"
          << Str(d, "hardware_model") << "\t" << (d.value("revoked", false) ? "revoked" : "active")
          << "\t" << Str(d, "cert_not_after") << "\n";
    }
  } else {
    const json broker = reply.value("broker", json::object());
    out << "revoked " << a.device << ": "
        << reply.value("revoked_certificates", json::array()).size()
        << " certificate(s); broker: " << broker.value("note", std::string()) << "\n";
  }
  return kExitOk;
}

}  // namespace weft::cli

#include "cli/control_cli.h"

#include <httplib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/status.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

//! Percent-encodes a path segment (everything but unreserved characters).
std::string Segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

struct Endpoint {
  std::string host;
  int port = 443;
};

Result<Endpoint> ParseApiUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) {
    return InvalidArgumentError("--api '" + url +
                                "' must be an https:// URL, e.g. https://127.0.0.1:8443");
  }
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return InvalidArgumentError("--api '" + url + "' must be https://HOST[:PORT] without a path");
  }
  Endpoint e;
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    e.host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
      return InvalidArgumentError("--api '" + url + "': bad port '" + port + "'");
    }
    e.port = static_cast<int>(p);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) return InvalidArgumentError("--api '" + url + "' has no host");
  return e;
}

//! The answer of one API call: HTTP status and body.
struct Answer {
  int status = 0;
  std::string body;
};

//! One call to weft-core's API with $WEFT_TOKEN; errors are printed by the caller.
Result<Answer> CallApi(const ControlArgs& a, const std::string& method, const std::string& path,
                       const json& body, std::ostream& err) {
  if (a.api.empty()) {
    return InvalidArgumentError("--api https://HOST:PORT (weft-core's API) is required");
  }
  WEFT_ASSIGN_OR_RETURN(Endpoint ep, ParseApiUrl(a.api));
  const char* token_env = std::getenv("WEFT_TOKEN");
  const std::string token = token_env != nullptr ? token_env : "";
  if (token.empty()) {
    return InvalidArgumentError(
        "set the API token in the environment variable WEFT_TOKEN (never on the command line)");
  }
  if (!a.ca.empty() && a.insecure) return InvalidArgumentError("give --ca or --insecure, not both");
  httplib::SSLClient client(ep.host, ep.port);
  if (a.insecure) {
    err << "weft: WARNING: --insecure: the API's certificate is not verified; anyone on the path "
           "could read the token. Use --ca FILE outside a local demo.\n";
    client.enable_server_certificate_verification(false);
  } else {
    if (!a.ca.empty()) {
      if (!std::filesystem::exists(a.ca)) {
        return InvalidArgumentError("--ca " + a.ca + " does not exist");
      }
      client.set_ca_cert_path(a.ca.c_str());
    }
    client.enable_server_certificate_verification(true);
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  httplib::Result res = method == "GET"
                            ? client.Get(path, headers)
                            : client.Post(path, headers, body.dump(), "application/json");
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) {
      why +=
          " (pass the CA certificate with --ca FILE, e.g. <state>/tls/cert.pem for weft-core's "
          "self-signed one)";
    }
    return UnavailableError("cannot reach " + a.api + ": " + why);
  }
  return Answer{res->status, res->body};
}

std::string ApprovalsText(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const json& ap : list) {
    if (!ap.is_object()) continue;
    out += (out.empty() ? "" : ", ") + ap.value("principal", std::string()) + " (" +
           ap.value("role", std::string()) + ")";
  }
  return out.empty() ? "none" : out;
}

void AddApiOptions(CLI::App* cmd, ControlArgs* a) {
  cmd->add_option("--api", a->api, "weft-core's API, https://HOST:PORT (token: $WEFT_TOKEN)")
      ->required();
  cmd->add_option("--ca", a->ca, "CA certificate (PEM) that signed the API's certificate");
  cmd->add_flag("--insecure", a->insecure,
                "do not verify the API's certificate (self-signed demo only)");
  cmd->add_flag("--json", a->json, "print the API's JSON answer");
}

}  // namespace

CLI::App* AddControlCommands(CLI::App& app, ControlArgs* a) {
  CLI::App* cmd =
      app.add_subcommand("control", "Closed-loop control: approvals, modes, proposals (via API)");
  cmd->require_subcommand(1);
  auto named = [&](const char* name, const char* help) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    sub->parse_complete_callback([a, name] { a->command = name; });
    return sub;
  };
  CLI::App* approve = named("approve", "Approve a loop leaving shadow for a mode, in your role");
  approve->add_option("loop", a->loop, "loop id")->required();
  approve->add_option("--edge", a->edge, "edge id")->required();
  approve->add_option("--mode", a->mode, "supervised or autonomous")->required();
  approve->add_option("--role", a->role, "ops_manager or ot_engineer (needed if you hold both)");
  AddApiOptions(approve, a);
  CLI::App* mode = named("mode", "Set a loop's mode (supervised/autonomous need both approvals)");
  mode->add_option("loop", a->loop, "loop id")->required();
  mode->add_option("--edge", a->edge, "edge id")->required();
  mode->add_option("--mode", a->mode, "shadow, supervised or autonomous")->required();
  AddApiOptions(mode, a);
  CLI::App* proposal = named("approve-proposal", "Approve one proposal of a supervised loop");
  proposal->add_option("loop", a->loop, "loop id")->required();
  proposal->add_option("id", a->proposal, "proposal id")->required();
  proposal->add_option("--edge", a->edge, "edge id")->required();
  AddApiOptions(proposal, a);
  CLI::App* key = named("grant-key", "The core's grant public key (PEM), for edge.yaml");
  key->add_option("--out", a->out_file, "write the PEM to this file instead of stdout");
  AddApiOptions(key, a);
  return cmd;
}

CLI::App* AddWorkOrderCommands(CLI::App& app, ControlArgs* a) {
  CLI::App* cmd = app.add_subcommand("workorder", "Work-order outcomes (labels and KPI data)");
  cmd->require_subcommand(1);
  CLI::App* close = cmd->add_subcommand("close", "Record a closed work order's outcome (via API)");
  close->parse_complete_callback([a] { a->command = "close"; });
  close->add_option("--asset", a->asset, "asset id")->required();
  close->add_option("--at", a->at, "the alert's time (ISO-8601), e.g. 2026-11-26T10:00:00Z");
  close->add_option("--alert", a->alert, "the alert's id (instead of, or with, --at)");
  close->add_option("--outcome", a->outcome, "confirmed_fault or false_alarm")
      ->required()
      ->check(CLI::IsMember({"confirmed_fault", "false_alarm"}));
  close->add_option("--minutes", a->minutes, "minutes spent")->required();
  close->add_option("--opened", a->opened, "when the work order was opened (default: --at)");
  close->add_option("--note", a->note, "free text");
  AddApiOptions(close, a);
  return cmd;
}

int RunControl(const ControlArgs& a, std::ostream& out, std::ostream& err) {
  const std::string who =
      a.command == "close" ? "weft workorder close" : "weft control " + a.command;
  auto fail = [&](const std::string& message, int code) {
    err << who << ": " << message << "\n";
    return code;
  };
  std::string method = "POST", path;
  json body = json::object();
  const std::string loop = "/api/v1/control/loops/" + Segment(a.loop);
  if (a.command == "approve") {
    path = loop + "/approvals";
    body = {{"edge", a.edge}, {"mode", a.mode}};
    if (!a.role.empty()) body["role"] = a.role;
  } else if (a.command == "mode") {
    path = loop + "/mode";
    body = {{"edge", a.edge}, {"mode", a.mode}};
  } else if (a.command == "approve-proposal") {
    path = loop + "/proposals/" + Segment(a.proposal) + "/approve";
    body = {{"edge", a.edge}};
  } else if (a.command == "grant-key") {
    method = "GET";
    path = "/api/v1/control/grant-key";
  } else if (a.command == "close") {
    if (a.at.empty() && a.alert.empty()) return fail("give --at TS or --alert ID", kExitUsage);
    if (a.minutes < 0) return fail("--minutes must be 0 or more", kExitUsage);
    path = "/api/v1/workorders";
    body = {{"asset", a.asset}, {"outcome", a.outcome}, {"minutes", a.minutes}};
    if (!a.at.empty()) body["event_ts"] = a.at;
    if (!a.alert.empty()) body["alert_id"] = a.alert;
    if (!a.opened.empty()) body["opened_at"] = a.opened;
    if (!a.note.empty()) body["note"] = a.note;
  } else {
    return fail("give a subcommand", kExitUsage);
  }
  Result<Answer> res = CallApi(a, method, path, body, err);
  if (!res.ok()) {
    return fail(res.status().message(), res.status().code() == StatusCode::kInvalidArgument
                                            ? kExitUsage
                                            : kExitInvalidInput);
  }
  if (res->status < 200 || res->status >= 300) {
    const json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    std::string message = "HTTP " + std::to_string(res->status);
    if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
      message += " " + reply["error"].value("code", std::string()) + ": " +
                 reply["error"].value("message", std::string());
    }
    return fail(message, kExitInvalidInput);
  }
  if (a.command == "grant-key") {
    if (a.out_file.empty()) {
      out << res->body;
      return kExitOk;
    }
    std::ofstream f(a.out_file, std::ios::binary | std::ios::trunc);
    f << res->body;
    f.flush();
    if (!f) return fail("cannot write " + a.out_file, kExitInvalidInput);
    out << "wrote the control grant public key to " << a.out_file
        << " (edge.yaml control.grant_key)\n";
    return kExitOk;
  }
  const json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (a.json) {
    out << (reply.is_discarded() ? json(res->body) : reply).dump(2) << "\n";
    return kExitOk;
  }
  if (reply.is_discarded() || !reply.is_object()) {
    return fail("the API answered something that is not a JSON object", kExitInvalidInput);
  }
  if (a.command == "approve") {
    out << "approved loop " << a.loop << " on " << a.edge << " for " << a.mode << " as "
        << reply.value("role", std::string())
        << "; current approvals: " << ApprovalsText(reply.value("current_approvals", json::array()))
        << "\n";
  } else if (a.command == "mode") {
    out << "loop " << a.loop << " on " << a.edge << ": " << a.mode << " grant sent (expires "
        << reply.value("expires_at", std::string())
        << "); approvals: " << ApprovalsText(reply.value("approvals", json::array())) << "\n";
  } else if (a.command == "approve-proposal") {
    out << "proposal " << a.proposal << " of loop " << a.loop << " approved; sent to " << a.edge
        << "\n";
  } else {
    out << "work order " << reply.value("id", std::string()) << " recorded: " << a.asset << " "
        << a.outcome << ", " << a.minutes << " min\n";
  }
  return kExitOk;
}

}  // namespace weft::cli

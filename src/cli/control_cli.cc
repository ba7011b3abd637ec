#include "cli/control_cli.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "common/status.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

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
  AddApiOptions(approve, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* mode = named("mode", "Set a loop's mode (supervised/autonomous need both approvals)");
  mode->add_option("loop", a->loop, "loop id")->required();
  mode->add_option("--edge", a->edge, "edge id")->required();
  mode->add_option("--mode", a->mode, "shadow, supervised or autonomous")->required();
  AddApiOptions(mode, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* proposal = named("approve-proposal", "Approve one proposal of a supervised loop");
  proposal->add_option("loop", a->loop, "loop id")->required();
  proposal->add_option("id", a->proposal, "proposal id")->required();
  proposal->add_option("--edge", a->edge, "edge id")->required();
  AddApiOptions(proposal, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* key = named("grant-key", "The core's grant public key (PEM), for edge.yaml");
  key->add_option("--out", a->out_file, "write the PEM to this file instead of stdout");
  AddApiOptions(key, &a->api, &a->ca, &a->insecure, &a->json);
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
  AddApiOptions(close, &a->api, &a->ca, &a->insecure, &a->json);
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
  const std::string loop = "/api/v1/control/loops/" + PathSegment(a.loop);
  if (a.command == "approve") {
    path = loop + "/approvals";
    body = {{"edge", a.edge}, {"mode", a.mode}};
    if (!a.role.empty()) body["role"] = a.role;
  } else if (a.command == "mode") {
    path = loop + "/mode";
    body = {{"edge", a.edge}, {"mode", a.mode}};
  } else if (a.command == "approve-proposal") {
    path = loop + "/proposals/" + PathSegment(a.proposal) + "/approve";
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
  Result<ApiAnswer> res = CallApiOk({.api = a.api, .ca = a.ca, .insecure = a.insecure, .token = {}},
                                    method, path, body.dump(), err);
  if (!res.ok()) return fail(res.status().message(), ApiExitCode(res.status()));
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
  Result<std::optional<json>> answer = ApiObjectReply(*res, a.json, out);
  if (!answer.ok()) return fail(answer.status().message(), kExitInvalidInput);
  if (!answer->has_value()) return kExitOk;
  const json& reply = **answer;
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

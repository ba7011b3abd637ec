#include "cli/governance_cli.h"

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "common/status.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

std::string Str(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string List(const json& a) {
  std::string out;
  if (!a.is_array()) return out;
  for (const json& x : a) {
    if (x.is_string()) out += (out.empty() ? "" : ", ") + x.get<std::string>();
  }
  return out.empty() ? "none" : out;
}

std::string Filled(const json& state) {
  std::string out;
  const json& f =
      state.is_object() && state.contains("filled_roles") ? state["filled_roles"] : json::object();
  if (!f.is_object()) return "none";
  for (const auto& [role, who] : f.items()) {
    out += (out.empty() ? "" : ", ") + role + " by " +
           (who.is_string() ? who.get<std::string>() : "?");
  }
  return out.empty() ? "none" : out;
}

void PrintState(const json& s, std::ostream& out) {
  out << Str(s, "decision") << " " << Str(s, "subject") << ": "
      << (s.value("approved", false) ? "approved"
                                     : "missing " + List(s.value("missing_roles", json())))
      << " (approved: " << Filled(s) << ")";
  const std::string source = Str(s, "source");
  if (!source.empty() && source != "board") out << " [" << source << "]";
  if (s.is_object() && s.contains("request") && s["request"].is_object()) {
    out << " requested by " << Str(s["request"], "requested_by");
  }
  out << "\n";
}

// "a=b&c=d" with each value percent-encoded.
std::string Query(const std::string& decision, const std::string& subject) {
  return "?decision=" + PathSegment(decision) + "&subject=" + PathSegment(subject);
}

}  // namespace

CLI::App* AddGovernanceCommands(CLI::App& app, GovernanceArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "governance", "The approval board: policies, pending decisions, approvals (via API)");
  cmd->require_subcommand(1);
  auto named = [&](const char* name, const char* help) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    sub->parse_complete_callback([a, name] { a->command = name; });
    return sub;
  };
  const char* kDecisionHelp = "model_promotion, firmware_release or control_write_mode";
  const char* kSubjectHelp =
      "<model>/<version>, <hardware_model>/<version> or <edge>/<loop>/<mode>";
  AddApiOptions(named("policies", "Which roles approve which decision, and for how long"), &a->api,
                &a->ca, &a->insecure, &a->json);
  AddApiOptions(named("pending", "Decisions with some but not all approvals, and requests"),
                &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* approve = named("approve", "Approve a decision on a subject, in one of your roles");
  approve->add_option("decision", a->decision, kDecisionHelp)->required();
  approve->add_option("subject", a->subject, kSubjectHelp)->required();
  approve->add_option("--role", a->role, "the approving role (needed if you hold several)");
  approve->add_option("--note", a->note, "why (kept with the approval)");
  AddApiOptions(approve, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* show = named("show", "A decision's approvals and what is missing");
  show->add_option("decision", a->decision, kDecisionHelp)->required();
  show->add_option("subject", a->subject, kSubjectHelp)->required();
  AddApiOptions(show, &a->api, &a->ca, &a->insecure, &a->json);
  return cmd;
}

int RunGovernance(const GovernanceArgs& a, std::ostream& out, std::ostream& err) {
  const std::string who = "weft governance " + a.command;
  auto fail = [&](const std::string& message, int code) {
    err << who << ": " << message << "\n";
    return code;
  };
  std::string method = "GET", path;
  json body = json::object();
  if (a.command == "policies") {
    path = "/api/v1/governance/policies";
  } else if (a.command == "pending") {
    path = "/api/v1/governance/pending";
  } else if (a.command == "approve") {
    method = "POST";
    path = "/api/v1/governance/approvals";
    body = {{"decision", a.decision}, {"subject", a.subject}};
    if (!a.role.empty()) body["role"] = a.role;
    if (!a.note.empty()) body["note"] = a.note;
  } else if (a.command == "show") {
    path = "/api/v1/governance/approvals" + Query(a.decision, a.subject);
  } else {
    return fail("give a subcommand", kExitUsage);
  }
  Result<ApiAnswer> res = CallApiOk({.api = a.api, .ca = a.ca, .insecure = a.insecure, .token = {}},
                                    method, path, method == "POST" ? body.dump() : "", err);
  if (!res.ok()) return fail(res.status().message(), ApiExitCode(res.status()));
  Result<std::optional<json>> answer = ApiObjectReply(*res, a.json, out);
  if (!answer.ok()) return fail(answer.status().message(), kExitInvalidInput);
  if (!answer->has_value()) return kExitOk;
  const json& reply = **answer;
  if (a.command == "policies") {
    for (const json& p : reply.value("policies", json::array())) {
      out << Str(p, "decision") << ": " << List(p.value("roles", json())) << " (each by a "
          << "different principal; valid for " << Str(p, "valid_for") << "; permission "
          << Str(p, "permission") << ")\n";
    }
  } else if (a.command == "pending") {
    const json list = reply.value("pending", json::array());
    if (list.empty()) out << "nothing pending\n";
    for (const json& s : list) PrintState(s, out);
  } else if (a.command == "approve") {
    const json& ap = reply.value("approval", json::object());
    out << "approved " << a.decision << " " << a.subject << " as " << Str(ap, "role") << "\n";
    if (reply.contains("state") && reply["state"].is_object()) {
      PrintState(reply["state"], out);
    } else if (ap.contains("missing_roles")) {
      out << "recorded in " << Str(ap, "recorded_in")
          << "; still missing: " << List(ap["missing_roles"]) << "\n";
    }
  } else {  // show
    if (reply.contains("state")) PrintState(reply["state"], out);
    for (const json& ap : reply.value("approvals", json::array())) {
      out << "  " << Str(ap, "approved_at") << " " << Str(ap, "principal") << " as "
          << Str(ap, "role") << " (until " << Str(ap, "expires_at") << ")"
          << (Str(ap, "note").empty() ? "" : ": " + Str(ap, "note")) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace weft::cli
